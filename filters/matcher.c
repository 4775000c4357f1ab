/*
 * The matcher (see matcher.h): patterns, entities, watchlists, the scan
 * of an item, the decision of each watchlist from the hits, and the
 * explanation of hits and near misses.
 */
#include <ctype.h>
#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <utf8proc.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "automaton.h"
#include "bitset.h"
#include "buf.h"
#include "bytes.h"
#include "countries.h"
#include "log.h"
#include "matcher.h"
#include "norm.h"
#include "query.h"
#include "xmalloc.h"

/* Caps on what one item can make the matcher do. */
#define MATCHER_MAX_HITS 100000 /* hits examined per item */
#define MATCHER_MAX_MATCH_HITS 50 /* hits reported per watchlist */
/* Positions kept per NEAR side: as many as the hits examined, so that a
 * side of one term keeps all of its own. */
#define MATCHER_MAX_SPANS MATCHER_MAX_HITS
/* Pairs of places NEAR looks at in an item, at most: a long side (a
 * regex ending in ".*") can be near every place of the other, and a
 * hostile item must not hold the loop for seconds. Past it the item is
 * noted as cut short. */
#define MATCHER_MAX_NEAR_STEPS (4u * 1000 * 1000)
#define MATCHER_MAX_PREFIX_OUT 256 /* prefix patterns per token */
#define MATCHER_REGEX_MATCH_LIMIT 200000 /* pcre2_set_match_limit */
#define MATCHER_REGEX_DEPTH_LIMIT 5000 /* pcre2_set_depth_limit */
#define MATCHER_REGEX_HEAP_KIB 8192 /* pcre2_set_heap_limit */
/* Caps on the configuration. */
#define MATCHER_MAX_PHRASE 32 /* words in a phrase or alias */
#define MATCHER_MIN_PREFIX 2 /* characters before a '*' */
#define MATCHER_MAX_ALIAS 1024 /* bytes */
#define MATCHER_MAX_GUARD 3 /* leaves in a trigger's guard */
/* Tokens the scan looks ahead to start reading the dictionary. */
#define MATCHER_LOOKAHEAD 4
#define MATCHER_LINE 64 /* bytes of a cache line */
/* Arrays up to this long are sorted by insertion. */
#define MATCHER_SMALL_SORT 64
/*
 * The prefix patterns of a token the dictionary does not hold are found
 * by looking its first bytes up once for each length a prefix has
 * (automaton_prefixes()); the same words come back item after item
 * ("the", "said"), so the matcher keeps what was found for the last
 * token of each of MATCHER_PMEMO places, by the token's hash: a token
 * of up to MATCHER_PMEMO_TEXT bytes with up to MATCHER_PMEMO_PATTERNS
 * prefix patterns, told by its text, not its hash.
 */
#define MATCHER_PMEMO 2048 /* a power of two: 128 KB */
#define MATCHER_PMEMO_TEXT 32
#define MATCHER_PMEMO_PATTERNS 6

/* The place of a token of hash H (automaton_prefetch()): its bits 20
 * to 30, above those of its place in a dictionary of up to a million
 * slots (the low ones) and below its tag there (the high 32), so that
 * tokens that share one of those do not share a place here for that. */
size_t
matcher_pmemo_slot(uint64_t h)
{
	return (size_t)(h >> 20) & (MATCHER_PMEMO - 1);
}

struct matcher_pmemo {
	uint32_t len; /* of the token; 0: empty */
	uint32_t n; /* its prefix patterns */
	uint32_t pattern[MATCHER_PMEMO_PATTERNS];
	char text[MATCHER_PMEMO_TEXT];
};
_Static_assert(sizeof(struct matcher_pmemo) == 64, "a memo is a line");
_Static_assert(MATCHER_PMEMO_TEXT >= BYTES_PAD,
    "bytes_eq_padded() reads BYTES_PAD bytes of a memo's text");

/* Bytes of context on each side of a snippet. */
#define MATCHER_SNIPPET_CONTEXT 60

enum matcher_pattern_kind {
	MATCHER_PHRASE, /* one or more whole words */
	MATCHER_PREFIX, /* the start of one word */
	MATCHER_REGEX,
};

struct matcher_pattern {
	enum matcher_pattern_kind kind;
	uint32_t ntokens;
	int case_sensitive;
	char *cased; /* case-sensitive: the cased tokens, space-separated */
	int common_word; /* case-sensitive, one word also common in lower
			    case: not taken in text written in capitals */
	int is_alias; /* some entity has it (longest alias wins) */
	pcre2_code *re;
	pcre2_match_data *md;
	unsigned fields; /* regex: the fields some leaf reads it in */
	uint32_t *users; /* watchlists that use it, sorted, unique */
	size_t nusers;
	struct matcher_trigger *triggers; /* those that need it or a
					     sibling (below) */
	size_t ntriggers;
	uint32_t *ids; /* phrase: token ids */
	char *prefix; /* prefix: normalized bytes */
	size_t prefix_len;
};

/*
 * A watchlist a pattern's hit makes a candidate, when the hit is in one
 * of the fields of the leaf the trigger was taken from (a term under
 * title: is no candidate for a hit in the content) and its guard holds:
 * when one of the guard's leaves was found (a pattern, or an entity
 * marked MATCHER_GUARD_ENTITY; in any field), or the guard is empty.
 * Once compiled, every leaf of a guard is a bit of matcher.found_bits
 * (matcher_guard_renumber()).
 */
#define MATCHER_GUARD_ENTITY 0x80000000u
#define MATCHER_GUARD_NONE UINT32_MAX

struct matcher_guard {
	uint32_t leaf[MATCHER_MAX_GUARD]; /* MATCHER_GUARD_NONE after */
};

struct matcher_trigger {
	uint32_t watchlist : 24; /* MATCHER_MAX_WATCHLISTS */
	uint32_t fields : 8; /* QUERY_FIELD_* */
	struct matcher_guard guard;
};

#define MATCHER_MAX_WATCHLISTS ((1u << 24) - 1)

struct matcher_alias {
	char *text;
	uint32_t pattern;
};

struct matcher_entity {
	char *key;
	char *name;
	char *country; /* ISO code of a built-in country */
	struct matcher_alias *aliases;
	size_t naliases;
	uint32_t *patterns; /* compiled: aliases[i].pattern */
};

struct matcher_key {
	char *key;
	size_t entity;
};

struct matcher_leaf {
	const struct query_node *node;
	char *term; /* as written */
	uint32_t pattern; /* word, prefix, regex */
	size_t entity; /* entity leaves; SIZE_MAX otherwise */
	unsigned fields;
};

struct matcher_watchlist {
	char *name;
	char *query;
	struct query_node *root;
	struct matcher_leaf *leaves;
	size_t nleaves;
};

/*
 * A watchlist's decision program: its query tree in prefix order, packed
 * with those of every other watchlist in one array, so that deciding a
 * watchlist reads a few cache lines, asked for together, instead of
 * chasing tree pointers.
 */
struct matcher_op {
	unsigned kind : 8; /* enum query_kind */
	unsigned fields : 7; /* leaf: QUERY_FIELD_* */
	unsigned entity : 1; /* leaf: arg is an entity, not a pattern */
	unsigned size : 16; /* ops in this subtree, itself included */
	uint32_t arg; /* leaf: pattern or entity; NEAR: its distance */
	uint32_t term; /* leaf: its term as written, at matcher.terms + term,
			  so that reporting a hit reads no leaf */
};
_Static_assert(sizeof(struct matcher_op) == 12, "an op is 12 bytes");
_Static_assert(QUERY_FIELD_FEED < 0x80, "fields (FEED the last) fit in 7 bits");

/*
 * What matcher_run() reads and writes of a pattern once it is hit, in
 * one record of 32 bytes, so that a pattern hit costs one cache miss,
 * not one an array: its hits and triggers for gathering, and the fields
 * it was hit in for deciding (any hit, and the hits that count for an
 * entity: not inside a longer alias), which are valid when its bit in
 * found_bits is set and cleared after each item. Its shape, which the
 * scan reads for every output, is in matcher.shape, a byte a pattern.
 */
struct matcher_hot {
	uint32_t stamp; /* == gen: hit in this item, first/count valid */
	uint32_t first; /* its hits in order[] */
	uint32_t count;
	uint32_t trig_first; /* its triggers in matcher.triggers */
	uint32_t trig_count;
	uint32_t user_first; /* its users in hot_watchlists */
	uint32_t user_count;
	uint8_t found_any;
	uint8_t found_entity;
};
_Static_assert(
    sizeof(struct matcher_hot) == 32, "a pattern's record is 32 bytes");

/* What the scan reads of a pattern for each of its hits, in a byte. */
#define MATCHER_SHAPE_NTOKENS 0x3f /* MATCHER_MAX_PHRASE fits */
#define MATCHER_SHAPE_ALIAS 0x40
#define MATCHER_SHAPE_CASED 0x80

struct matcher_segment {
	unsigned field;
	const char *text;
	size_t len;
	size_t category;
	size_t tok_first;
	size_t tok_count;
	int plain; /* snippets copy it as it is (MATCHER_PLAIN_*) */
	const char *field_name; /* its hits', once the first is reported */
};

#define MATCHER_PLAIN_UNKNOWN 0
#define MATCHER_PLAIN_YES 1 /* no white space but single ' ' */
#define MATCHER_PLAIN_NO 2

struct matcher_hitrec {
	uint32_t pattern;
	uint32_t seg;
	uint32_t ts, te; /* tokens [ts, te), indexes into the norm */
	uint32_t start, end; /* bytes of the segment's text */
	uint8_t alias; /* of a pattern some entity has */
	uint8_t suppressed; /* inside a longer alias hit */
};

struct matcher_span {
	uint32_t seg;
	uint32_t ts, te;
};

/* Spans start in their own array (a few: most NEARs have few places to
 * look at) and move to the heap when they outgrow it: such a struct is
 * not copied, and freed with matcher_spans_free(). */
#define MATCHER_SPANS_INLINE 8
struct matcher_spans {
	struct matcher_span *v; /* inline, or allocated */
	size_t n, size;
	size_t limit; /* how many are wanted, at most MATCHER_MAX_SPANS */
	struct matcher_span inline_v[MATCHER_SPANS_INLINE];
};

struct matcher {
	int flags;
	int compiled;
	struct automaton *ac;
	struct automaton *keys; /* interns pattern keys to find duplicates */
	struct matcher_pattern *patterns;
	size_t npatterns;
	struct matcher_entity *entities;
	size_t nentities;
	struct matcher_key *ekeys;
	size_t nekeys;
	size_t ekeys_size; /* allocated */
	/* ekeys by key, case folded: open addressing, SIZE_MAX when free */
	size_t *ekey_slots;
	size_t ekey_nslots; /* a power of two, or 0 */
	struct matcher_watchlist *watchlists;
	size_t nwatchlists;
	struct automaton *names; /* watchlist names, to refuse duplicates */
	struct matcher_op *ops;
	size_t nops;
	char *terms; /* the leaves' terms, NUL after each (ops' term) */
	size_t terms_len, terms_size;
	uint32_t *wl_op_first; /* by watchlist: its program in ops */
	struct matcher_trigger *triggers; /* of every pattern */
	uint32_t *regexes; /* pattern ids of regexes */
	size_t nregexes;
	size_t nregex_jit;
	unsigned scan_fields;
	pcre2_match_context *mctx;

	/* scratch for matcher_run */
	struct norm norm;
	struct norm cased;
	struct matcher_segment *segs;
	size_t nsegs, segs_size;
	struct matcher_hitrec *hits;
	size_t nhits, hits_size;
	size_t nalias_hits; /* of them, of a pattern some entity has */
	uint32_t *order; /* hits grouped by pattern (hits_size of them) */
	uint32_t gen;
	struct matcher_hot *hot; /* by pattern */
	struct matcher_pmemo *pmemo; /* MATCHER_PMEMO, when prefixes exist */
	uint8_t *shape; /* by pattern: MATCHER_SHAPE_* (28 KB for 28,000) */
	uint32_t *hot_watchlists; /* users of every pattern */
	uint32_t *touched; /* patterns hit */
	size_t ntouched;
	uint64_t *cand_bits; /* by watchlist: in candidates[] */
	uint32_t *candidates;
	size_t ncandidates;
	int truncated;
	size_t near_steps; /* of MATCHER_MAX_NEAR_STEPS, this item */

	/*
	 * What deciding reads, so that a watchlist whose terms were not
	 * all hit is turned down from a few small arrays: the fields each
	 * pattern and each entity was hit in (zero when not hit), set from
	 * the hits and cleared after each item.
	 */
	/* patterns, then entities: found at all; then a bit always set
	 * and one never set (matcher_guard_renumber()) */
	uint64_t *found_bits;
	uint8_t *entity_found; /* by entity: fields of counting alias hits */
	uint32_t *alias_entity_first; /* by pattern: its entities are */
	uint32_t *alias_entities; /* alias_entities[first[p], first[p+1]) */
	struct matcher_hitrec **alias_hits; /* matcher_suppress() */
	size_t alias_hits_size;
	uint32_t *decided; /* watchlist << 1 | matched, to report */
	size_t ndecided;
	struct matcher_pick *picks; /* reused by each match */
	size_t picks_size;
	struct matcher_match *out_matches; /* the result's, built here */
	size_t out_matches_size;

	/*
	 * Where the result is built before it is copied into its block
	 * (matcher_report()): the hits of all its matches in one array, and
	 * the snippets in one buffer, each built once per hit of the scan
	 * however many watchlists report that hit.
	 */
	struct matcher_hit *out_hits;
	size_t nout_hits, out_hits_size;
	size_t *out_snippet; /* by out_hits: offset in snippets */
	char *snippets;
	size_t snippets_len, snippets_size;
	size_t *hit_snippet; /* by hit: 1 + offset in snippets, 0 = none */
	size_t hit_snippet_size;
};

struct matcher_pick {
	const char *term;
	size_t entity; /* SIZE_MAX: none */
	uint32_t hit;
};

/* A result is one block with what it points into: the result, its
 * matches, their hits, then the snippets (matcher_report()). */
_Static_assert(
    sizeof(struct matcher_result) % _Alignof(struct matcher_match) == 0,
    "matches follow the result");
_Static_assert(sizeof(struct matcher_match) % _Alignof(struct matcher_hit) == 0,
    "hits follow the matches");

static const char *
matcher_field_name(unsigned field)
{
	const char *name = query_field_name(field);

	return name != NULL ? name : "?";
}

static struct matcher_entity *matcher_entity_new(
    struct matcher *, const char *);

/* The entity of the names that are no country (matcher_new()). */
#define MATCHER_NOT_A_COUNTRY " not a country"

struct matcher *
matcher_new(int flags)
{
	struct matcher *m = xcalloc(1, sizeof *m);
	const struct countries_entry *c;
	size_t n, i, j;

	m->flags = flags;
	m->ac = automaton_new();
	m->keys = automaton_new();
	m->names = automaton_new();
	norm_init(&m->norm);
	norm_init(&m->cased);
	m->mctx = pcre2_match_context_create(NULL);
	if (m->mctx == NULL)
		fatalx("pcre2_match_context_create failed");
	pcre2_set_match_limit(m->mctx, MATCHER_REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(m->mctx, MATCHER_REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(m->mctx, MATCHER_REGEX_HEAP_KIB);
	if (flags & MATCHER_NO_COUNTRIES)
		return m;
	c = countries_all(&n);
	for (i = 0; i < n; i++) {
		if (matcher_add_entity(m, c[i].key, NULL, NULL, NULL) == -1)
			fatalx("country %s: bad entity", c[i].code);
		m->entities[m->nentities - 1].country = xstrdup(c[i].code);
		m->entities[m->nentities - 1].name = xstrdup(c[i].name);
		for (j = 0; c[i].aliases[j] != NULL; j++)
			if (matcher_add_alias(m, c[i].key, c[i].aliases[j],
				MATCHER_CASE_AUTO, NULL) == -1)
				fatalx("country %s: bad alias", c[i].code);
	}
	/*
	 * The longer names that are no country ("New Mexico", "guinea
	 * pig"): aliases of an entity no query can name (its key, with
	 * spaces, is no entity key), so that the longest alias rule
	 * keeps the country's name inside them from being taken.
	 */
	matcher_entity_new(m, MATCHER_NOT_A_COUNTRY);
	for (i = 0; i < n; i++)
		for (j = 0; c[i].not_names[j] != NULL; j++)
			if (matcher_add_alias(m, MATCHER_NOT_A_COUNTRY,
				c[i].not_names[j], MATCHER_CASE_AUTO,
				NULL) == -1)
				fatalx("country %s: bad name", c[i].code);
	return m;
}

void
matcher_free(struct matcher *m)
{
	size_t i, j;

	if (m == NULL)
		return;
	automaton_free(m->ac);
	automaton_free(m->keys);
	automaton_free(m->names);
	free(m->ops);
	free(m->terms);
	free(m->wl_op_first);
	free(m->triggers);
	for (i = 0; i < m->npatterns; i++) {
		free(m->patterns[i].cased);
		pcre2_code_free(m->patterns[i].re);
		pcre2_match_data_free(m->patterns[i].md);
		free(m->patterns[i].users);
		free(m->patterns[i].triggers);
		free(m->patterns[i].ids);
		free(m->patterns[i].prefix);
	}
	free(m->patterns);
	for (i = 0; i < m->nentities; i++) {
		free(m->entities[i].key);
		free(m->entities[i].name);
		free(m->entities[i].country);
		for (j = 0; j < m->entities[i].naliases; j++)
			free(m->entities[i].aliases[j].text);
		free(m->entities[i].aliases);
		free(m->entities[i].patterns);
	}
	free(m->entities);
	for (i = 0; i < m->nekeys; i++)
		free(m->ekeys[i].key);
	free(m->ekeys);
	free(m->ekey_slots);
	for (i = 0; i < m->nwatchlists; i++) {
		free(m->watchlists[i].name);
		free(m->watchlists[i].query);
		query_free(m->watchlists[i].root);
		for (j = 0; j < m->watchlists[i].nleaves; j++)
			free(m->watchlists[i].leaves[j].term);
		free(m->watchlists[i].leaves);
	}
	free(m->watchlists);
	free(m->regexes);
	pcre2_match_context_free(m->mctx);
	norm_free(&m->norm);
	norm_free(&m->cased);
	free(m->segs);
	free(m->hits);
	free(m->order);
	free(m->hot);
	free(m->pmemo);
	free(m->shape);
	free(m->hot_watchlists);
	free(m->touched);
	free(m->cand_bits);
	free(m->found_bits);
	free(m->candidates);
	free(m->entity_found);
	free(m->alias_entity_first);
	free(m->alias_entities);
	free(m->alias_hits);
	free(m->decided);
	free(m->picks);
	free(m->out_matches);
	free(m->out_hits);
	free(m->out_snippet);
	free(m->snippets);
	free(m->hit_snippet);
	free(m);
}

static int matcher_error(char **, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
matcher_error(char **cause, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (cause == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	*cause = s;
	return -1;
}

/* The pattern with this key; *created says whether it is new. Keys are
 * interned in order, so key id N is pattern N - 1. */
static uint32_t
matcher_pattern_for(
    struct matcher *m, const char *key, size_t keylen, int *created)
{
	uint32_t id = automaton_intern(m->keys, key, keylen);

	if (id - 1 < m->npatterns) {
		*created = 0;
		return id - 1;
	}
	m->patterns =
	    xreallocarray(m->patterns, m->npatterns + 1, sizeof *m->patterns);
	memset(&m->patterns[m->npatterns], 0, sizeof *m->patterns);
	*created = 1;
	return (uint32_t)m->npatterns++;
}

/*
 * Common English words of up to four letters that an alias in capitals
 * can spell ("IS", "IT", "AT"). Where the text around is written in
 * capitals too ("WHY IS THE ECONOMY SLOWING?") case says nothing, and
 * the word is far likelier than the name, so such an alias is not taken
 * there. Not here, on purpose: "us" (in news, "US" is mostly the
 * country) and "who" (the World Health Organization). Sorted.
 */
static const char *const matcher_common_words[] = {"a", "am", "an", "and",
    "are", "as", "at", "be", "been", "but", "by", "can", "did", "do", "does",
    "for", "from", "go", "had", "has", "have", "he", "her", "him", "his", "how",
    "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "nor", "not",
    "of", "on", "or", "our", "she", "so", "than", "that", "the", "them", "then",
    "they", "this", "to", "too", "up", "was", "we", "were", "what", "when",
    "why", "will", "with", "you"};

static int
matcher_common_cmp(const void *key, const void *member)
{
	return strcmp(key, *(const char *const *)member);
}

/* Whether the one folded word W (LEN bytes) is a common word. */
static int
matcher_is_common_word(const char *w, size_t len)
{
	char word[8];

	if (len >= sizeof word)
		return 0;
	memcpy(word, w, len);
	word[len] = '\0';
	return bsearch(word, matcher_common_words,
		   sizeof matcher_common_words / sizeof *matcher_common_words,
		   sizeof *matcher_common_words, matcher_common_cmp) != NULL;
}

/* How a phrase's case is taken (matcher_phrase()). */
#define MATCHER_PHRASE_FOLDED 0
#define MATCHER_PHRASE_CASED 1 /* as written, unless in capitals */
#define MATCHER_PHRASE_CASED_ALWAYS 2 /* as written, also in capitals */

/*
 * The pattern for the words of TEXT (a phrase), its case taken as
 * CASE_SENSITIVE (MATCHER_PHRASE_*) says. Returns -1 with *cause when
 * TEXT has no words or too many.
 */
static int
matcher_phrase(struct matcher *m, const char *text, int case_sensitive,
    uint32_t *out, char **cause)
{
	struct norm n, c;
	struct buf key;
	size_t i, ntok;
	int created, rc = 0;
	uint32_t p;
	struct matcher_pattern *pat;

	norm_init(&n);
	ntok = norm_tokenize(&n, text, strlen(text), 0);
	if (ntok == 0) {
		rc = matcher_error(
		    cause, "\"%.64s\" has no letters or digits", text);
		goto out;
	}
	if (ntok > MATCHER_MAX_PHRASE) {
		rc = matcher_error(cause, "more than %d words in \"%.64s...\"",
		    MATCHER_MAX_PHRASE, text);
		goto out;
	}
	buf_init(&key, 1024 * 1024);
	buf_addc(&key, "PCA"[case_sensitive]);
	norm_init(&c);
	if (case_sensitive) {
		norm_tokenize(&c, text, strlen(text), NORM_CASED);
		for (i = 0; i < c.ntokens; i++) {
			buf_addc(&key, ' ');
			buf_add(&key, norm_token_text(&c, i), c.tokens[i].len);
		}
	} else {
		for (i = 0; i < ntok; i++) {
			buf_addc(&key, ' ');
			buf_add(&key, norm_token_text(&n, i), n.tokens[i].len);
		}
	}
	p = matcher_pattern_for(m, buf_str(&key), key.len, &created);
	pat = &m->patterns[p];
	if (created) {
		pat->kind = MATCHER_PHRASE;
		pat->ntokens = (uint32_t)ntok;
		pat->case_sensitive = case_sensitive;
		if (case_sensitive) {
			pat->cased = xstrdup(buf_str(&key) + 2);
			pat->common_word =
			    case_sensitive == MATCHER_PHRASE_CASED &&
			    ntok == 1 &&
			    matcher_is_common_word(
				norm_token_text(&n, 0), n.tokens[0].len);
		}
		pat->ids = xreallocarray(NULL, ntok, sizeof *pat->ids);
		for (i = 0; i < ntok; i++)
			pat->ids[i] = automaton_intern(
			    m->ac, norm_token_text(&n, i), n.tokens[i].len);
		automaton_add(m->ac, pat->ids, ntok, p);
	}
	*out = p;
	buf_free(&key);
	norm_free(&c);
out:
	norm_free(&n);
	return rc;
}

static int
matcher_prefix(struct matcher *m, const char *text, uint32_t *out, char **cause)
{
	struct norm n;
	struct buf key;
	const char *s;
	size_t len, i, chars = 0;
	int created, rc = 0;
	uint32_t p;

	norm_init(&n);
	if (norm_tokenize(&n, text, strlen(text), 0) != 1) {
		rc = matcher_error(cause,
		    "a prefix must be one word of letters or digits, "
		    "not \"%.64s\"",
		    text);
		goto out;
	}
	s = norm_token_text(&n, 0);
	len = n.tokens[0].len;
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			chars++;
	if (chars < MATCHER_MIN_PREFIX) {
		rc = matcher_error(cause,
		    "a prefix needs at least %d letters or digits before "
		    "'*'",
		    MATCHER_MIN_PREFIX);
		goto out;
	}
	buf_init(&key, 1024 * 1024);
	buf_addstr(&key, "* ");
	buf_add(&key, s, len);
	p = matcher_pattern_for(m, buf_str(&key), key.len, &created);
	if (created) {
		m->patterns[p].kind = MATCHER_PREFIX;
		m->patterns[p].ntokens = 1;
		m->patterns[p].prefix = xstrndup(s, len);
		m->patterns[p].prefix_len = len;
		automaton_add_prefix(m->ac, s, len, p);
	}
	buf_free(&key);
	*out = p;
out:
	norm_free(&n);
	return rc;
}

/* Compile /TEXT/FLAGS; on error *erroff is the offset in TEXT. */
static int
matcher_regex(struct matcher *m, const char *text, const char *flags,
    uint32_t *out, size_t *erroff, char **cause)
{
	uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF |
	    PCRE2_NEVER_BACKSLASH_C;
	struct buf key;
	pcre2_code *re;
	PCRE2_SIZE off;
	PCRE2_UCHAR msg[256];
	const char *f;
	int created, error;
	uint32_t p, minlength;

	*erroff = 0;
	for (f = flags; *f != '\0'; f++) {
		switch (*f) {
		case 'i':
			options |= PCRE2_CASELESS;
			break;
		case 'm':
			options |= PCRE2_MULTILINE;
			break;
		case 's':
			options |= PCRE2_DOTALL;
			break;
		case 'x':
			options |= PCRE2_EXTENDED;
			break;
		default:
			*erroff = strlen(text) + 1 + (size_t)(f - flags);
			return matcher_error(cause,
			    "unknown regex flag '%c'; expected i, m, s or x",
			    *f);
		}
	}
	re = pcre2_compile(
	    (PCRE2_SPTR)text, strlen(text), options, &error, &off, NULL);
	if (re == NULL) {
		pcre2_get_error_message(error, msg, sizeof msg);
		*erroff = off;
		return matcher_error(cause, "bad regex: %s", (char *)msg);
	}
	/* A regex that needs no text would hit every item, once a
	 * character: refused, as a query that needs no term is. PCRE2
	 * says 0 when it finds no minimum. */
	if (pcre2_pattern_info(re, PCRE2_INFO_MINLENGTH, &minlength) != 0 ||
	    minlength == 0) {
		pcre2_code_free(re);
		return matcher_error(cause, "the regex can match empty text");
	}
	buf_init(&key, 1024 * 1024);
	buf_printf(&key, "/%08x/", options);
	buf_addstr(&key, text);
	p = matcher_pattern_for(m, buf_str(&key), key.len, &created);
	buf_free(&key);
	if (!created) {
		pcre2_code_free(re);
	} else {
		m->patterns[p].kind = MATCHER_REGEX;
		m->patterns[p].re = re;
		m->patterns[p].md = pcre2_match_data_create(1, NULL);
		if (m->patterns[p].md == NULL)
			fatalx("pcre2_match_data_create failed");
		m->regexes = xreallocarray(
		    m->regexes, m->nregexes + 1, sizeof *m->regexes);
		m->regexes[m->nregexes++] = p;
	}
	*out = p;
	return 0;
}

/* An entity key's hash, ASCII case folded (keys compare so). */
static uint64_t
matcher_key_hash(const char *key)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)tolower((unsigned char)*key)) *
		    1099511628211ULL;
	return h;
}

/* Put ekeys[K] in the table (which has room). */
static void
matcher_key_slot(struct matcher *m, size_t k)
{
	size_t i, mask = m->ekey_nslots - 1;

	for (i = matcher_key_hash(m->ekeys[k].key) & mask;
	     m->ekey_slots[i] != SIZE_MAX; i = (i + 1) & mask)
		;
	m->ekey_slots[i] = k;
}

static struct matcher_entity *
matcher_find_entity(const struct matcher *m, const char *key, size_t *index)
{
	const struct countries_entry *c;
	size_t i, k, mask = m->ekey_nslots - 1;

	if (strncasecmp(key, "country:", 8) == 0) {
		if ((c = countries_find_code(key + 8)) == NULL)
			return NULL;
		key = c->key;
	}
	if (m->ekey_nslots == 0)
		return NULL;
	for (i = matcher_key_hash(key) & mask;
	     (k = m->ekey_slots[i]) != SIZE_MAX; i = (i + 1) & mask) {
		if (strcasecmp(m->ekeys[k].key, key) == 0) {
			if (index != NULL)
				*index = m->ekeys[k].entity;
			return &m->entities[m->ekeys[k].entity];
		}
	}
	return NULL;
}

static void
matcher_add_key(struct matcher *m, const char *key, size_t entity)
{
	size_t i;

	if (m->nekeys == m->ekeys_size) {
		m->ekeys_size = m->ekeys_size == 0 ? 64 : 2 * m->ekeys_size;
		m->ekeys =
		    xreallocarray(m->ekeys, m->ekeys_size, sizeof *m->ekeys);
	}
	m->ekeys[m->nekeys].key = xstrdup(key);
	m->ekeys[m->nekeys].entity = entity;
	m->nekeys++;
	/* at most half full */
	if (2 * m->nekeys > m->ekey_nslots) {
		free(m->ekey_slots);
		m->ekey_nslots = m->ekey_nslots == 0 ? 128 : 2 * m->ekey_nslots;
		m->ekey_slots =
		    xreallocarray(NULL, m->ekey_nslots, sizeof *m->ekey_slots);
		for (i = 0; i < m->ekey_nslots; i++)
			m->ekey_slots[i] = SIZE_MAX;
		for (i = 0; i + 1 < m->nekeys; i++)
			matcher_key_slot(m, i);
	}
	matcher_key_slot(m, m->nekeys - 1);
}

/* A new entity of KEY (not checked), without names. */
static struct matcher_entity *
matcher_entity_new(struct matcher *m, const char *key)
{
	struct matcher_entity *e;

	m->entities =
	    xreallocarray(m->entities, m->nentities + 1, sizeof *m->entities);
	e = &m->entities[m->nentities];
	memset(e, 0, sizeof *e);
	e->key = xstrdup(key);
	matcher_add_key(m, key, m->nentities);
	m->nentities++;
	return e;
}

int
matcher_add_entity(struct matcher *m, const char *key, const char *name,
    const char *country, char **cause)
{
	struct matcher_entity *e, *ce;
	size_t index, cindex;
	const struct countries_entry *c;
	const char *p;

	if (m->compiled)
		return matcher_error(cause, "the matcher is already compiled");
	if (*key == '\0' || strlen(key) > 64)
		return matcher_error(cause, "bad entity key \"%.64s\"", key);
	for (p = key; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
			*p == '.'))
			return matcher_error(cause,
			    "entity key \"%.64s\": only letters, digits, "
			    "'_', '-' and '.'",
			    key);
	e = matcher_find_entity(m, key, &index);
	if (country != NULL) {
		if ((c = countries_find_code(country)) == NULL ||
		    (ce = matcher_find_entity(m, c->key, &cindex)) == NULL)
			return matcher_error(cause,
			    "entity \"%s\": \"%.16s\" is not a built-in "
			    "country code",
			    key, country);
		if (e != NULL && e != ce)
			return matcher_error(cause,
			    "entity \"%s\" already names another entity; it "
			    "cannot also be country %s",
			    key, c->code);
		if (e == NULL)
			matcher_add_key(m, key, cindex);
		e = ce;
	}
	if (e == NULL)
		e = matcher_entity_new(m, key);
	if (name != NULL) {
		if (e->name == NULL)
			e->name = xstrdup(name);
		return matcher_add_alias(
		    m, key, name, MATCHER_CASE_AUTO, cause);
	}
	return 0;
}

/* One to four letters, none of them lower case ("IS", "U.S.", "G7"). */
static int
matcher_short_capitals(const char *s)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	size_t len = strlen(s), pos = 0;
	int letters = 0;

	while (pos < len) {
		k = utf8proc_iterate((const utf8proc_uint8_t *)s + pos,
		    (utf8proc_ssize_t)(len - pos), &cp);
		if (k <= 0)
			return 0;
		pos += (size_t)k;
		switch (utf8proc_category(cp)) {
		case UTF8PROC_CATEGORY_LU:
		case UTF8PROC_CATEGORY_LT:
			letters++;
			break;
		case UTF8PROC_CATEGORY_LL:
		case UTF8PROC_CATEGORY_LM:
		case UTF8PROC_CATEGORY_LO:
			return 0;
		default:
			break;
		}
	}
	return letters >= 1 && letters <= 4;
}

int
matcher_add_alias(struct matcher *m, const char *key, const char *alias,
    int case_mode, char **cause)
{
	struct matcher_entity *e;
	int cs;
	uint32_t p;
	size_t i;

	if (m->compiled)
		return matcher_error(cause, "the matcher is already compiled");
	if ((e = matcher_find_entity(m, key, NULL)) == NULL)
		return matcher_error(cause, "no entity \"%.64s\"", key);
	if (strlen(alias) > MATCHER_MAX_ALIAS)
		return matcher_error(cause,
		    "entity \"%s\": alias longer than %d bytes", key,
		    MATCHER_MAX_ALIAS);
	/* said so, an alias is taken as written in capitals too */
	if (case_mode == MATCHER_CASE_SENSITIVE)
		cs = MATCHER_PHRASE_CASED_ALWAYS;
	else if (case_mode == MATCHER_CASE_INSENSITIVE)
		cs = MATCHER_PHRASE_FOLDED;
	else
		cs = matcher_short_capitals(alias) ? MATCHER_PHRASE_CASED
						   : MATCHER_PHRASE_FOLDED;
	if (matcher_phrase(m, alias, cs, &p, cause) == -1) {
		if (cause != NULL) {
			char *c = *cause;

			matcher_error(cause, "entity \"%s\": %s", key, c);
			free(c);
		}
		return -1;
	}
	m->patterns[p].is_alias = 1;
	for (i = 0; i < e->naliases; i++)
		if (e->aliases[i].pattern == p)
			return 0; /* the same spelling again */
	e->aliases =
	    xreallocarray(e->aliases, e->naliases + 1, sizeof *e->aliases);
	e->aliases[e->naliases].text = xstrdup(alias);
	e->aliases[e->naliases].pattern = p;
	e->naliases++;
	return 0;
}

/* Number the leaves of N into W. */
static void
matcher_collect_leaves(struct matcher_watchlist *w, struct query_node *n)
{
	size_t i;

	if (n->nkids == 0) {
		n->index = w->nleaves;
		w->leaves =
		    xreallocarray(w->leaves, w->nleaves + 1, sizeof *w->leaves);
		memset(&w->leaves[w->nleaves], 0, sizeof *w->leaves);
		w->leaves[w->nleaves].node = n;
		w->leaves[w->nleaves].entity = SIZE_MAX;
		w->leaves[w->nleaves].fields = n->fields;
		w->nleaves++;
		return;
	}
	for (i = 0; i < n->nkids; i++)
		matcher_collect_leaves(w, n->kids[i]);
}

/* The query's value when none of its terms is found. */
static int
matcher_eval_empty(const struct query_node *n)
{
	size_t i;

	switch (n->kind) {
	case QUERY_AND:
		for (i = 0; i < n->nkids; i++)
			if (!matcher_eval_empty(n->kids[i]))
				return 0;
		return 1;
	case QUERY_OR:
		for (i = 0; i < n->nkids; i++)
			if (matcher_eval_empty(n->kids[i]))
				return 1;
		return 0;
	case QUERY_NOT:
		return !matcher_eval_empty(n->kids[0]);
	default:
		return 0;
	}
}

static void
matcher_watchlist_clear(struct matcher_watchlist *w)
{
	size_t i;

	free(w->name);
	free(w->query);
	query_free(w->root);
	for (i = 0; i < w->nleaves; i++)
		free(w->leaves[i].term);
	free(w->leaves);
}

int
matcher_add_watchlist(struct matcher *m, const char *name, const char *query,
    size_t *errpos, char **cause)
{
	struct matcher_watchlist w;
	struct matcher_leaf *leaf;
	const struct query_node *n;
	size_t i, off, pos = 0;
	char *why = NULL;

	if (m->compiled) {
		if (errpos != NULL)
			*errpos = 0;
		return matcher_error(cause, "the matcher is already compiled");
	}
	if (automaton_lookup(m->names, name, strlen(name)) != 0) {
		if (errpos != NULL)
			*errpos = 0;
		return matcher_error(
		    cause, "watchlist \"%s\" already exists", name);
	}
	if (m->nwatchlists >= MATCHER_MAX_WATCHLISTS) {
		if (errpos != NULL)
			*errpos = 0;
		return matcher_error(cause, "too many watchlists (at most %u)",
		    MATCHER_MAX_WATCHLISTS);
	}
	memset(&w, 0, sizeof w);
	w.root = query_parse(query, strlen(query), &pos, &why);
	if (w.root == NULL)
		goto fail;
	matcher_collect_leaves(&w, w.root);
	for (i = 0; i < w.nleaves; i++) {
		leaf = &w.leaves[i];
		n = leaf->node;
		leaf->term = xstrndup(query + n->pos, n->len);
		switch (n->kind) {
		case QUERY_WORD:
			if (matcher_phrase(m, n->text, MATCHER_PHRASE_FOLDED,
				&leaf->pattern, &why) == -1) {
				pos = n->text_pos;
				goto fail_at;
			}
			break;
		case QUERY_PREFIX:
			if (matcher_prefix(m, n->text, &leaf->pattern, &why) ==
			    -1) {
				pos = n->text_pos;
				goto fail_at;
			}
			break;
		case QUERY_ENTITY:
			if (matcher_find_entity(m, n->text, &leaf->entity) ==
			    NULL) {
				pos = n->text_pos;
				xasprintf(&why,
				    strncasecmp(n->text, "country:", 8) == 0
					? "unknown country code \"%s\""
					: "unknown entity \"%s\"",
				    strncasecmp(n->text, "country:", 8) == 0
					? n->text + 8
					: n->text);
				goto fail_at;
			}
			break;
		case QUERY_REGEX:
			if (matcher_regex(m, n->text, n->flags, &leaf->pattern,
				&off, &why) == -1) {
				pos = n->text_pos + off;
				goto fail_at;
			}
			break;
		default:
			fatalx("%s: not a leaf", __func__);
		}
	}
	if (matcher_eval_empty(w.root)) {
		pos = 0;
		why = xstrdup("the query matches items that contain none of "
			      "its terms; it needs a term that must be "
			      "present");
		goto fail_at;
	}
	automaton_intern(m->names, name, strlen(name));
	w.name = xstrdup(name);
	w.query = xstrdup(query);
	m->watchlists = xreallocarray(
	    m->watchlists, m->nwatchlists + 1, sizeof *m->watchlists);
	m->watchlists[m->nwatchlists++] = w;
	return 0;

fail_at:
	/* a message from below the parser: prefix the column */
	{
		size_t col = 1, k;
		char *c = why;

		for (k = 0; k < pos && query[k] != '\0'; k++)
			if (((unsigned char)query[k] & 0xC0) != 0x80)
				col++;
		xasprintf(&why, "column %zu: %s", col, c);
		free(c);
	}
fail:
	matcher_watchlist_clear(&w);
	if (errpos != NULL)
		*errpos = pos;
	if (cause != NULL)
		*cause = why;
	else
		free(why);
	return -1;
}

static void
matcher_add_user(struct matcher_pattern *p, uint32_t watchlist)
{
	if (p->nusers > 0 && p->users[p->nusers - 1] == watchlist)
		return;
	p->users = xreallocarray(p->users, p->nusers + 1, sizeof *p->users);
	p->users[p->nusers++] = watchlist;
}

static void
matcher_add_trigger(struct matcher_pattern *p, uint32_t watchlist,
    const struct matcher_guard *guard, unsigned fields)
{
	struct matcher_trigger *last;

	if (p->ntriggers > 0) {
		last = &p->triggers[p->ntriggers - 1];
		if (last->watchlist == watchlist &&
		    memcmp(&last->guard, guard, sizeof *guard) == 0) {
			last->fields |= fields;
			return;
		}
	}
	p->triggers =
	    xreallocarray(p->triggers, p->ntriggers + 1, sizeof *p->triggers);
	p->triggers[p->ntriggers].watchlist = watchlist;
	p->triggers[p->ntriggers].fields = fields;
	p->triggers[p->ntriggers].guard = *guard;
	p->ntriggers++;
}

/* Append node N's program to m->ops. */
static void
matcher_emit(struct matcher *m, const struct matcher_watchlist *w,
    const struct query_node *n)
{
	const struct matcher_leaf *leaf;
	size_t at = m->nops, i, len;
	struct matcher_op *op;

	m->ops = xreallocarray(m->ops, m->nops + 1, sizeof *m->ops);
	op = &m->ops[m->nops++];
	memset(op, 0, sizeof *op);
	op->kind = n->kind;
	if (n->nkids == 0) {
		leaf = &w->leaves[n->index];
		op->fields = leaf->fields;
		op->entity = leaf->entity != SIZE_MAX;
		op->arg = op->entity ? (uint32_t)leaf->entity : leaf->pattern;
		len = strlen(leaf->term) + 1;
		if (m->terms_len + len > UINT32_MAX)
			fatalx("%s: terms too long", __func__);
		if (m->terms_len + len > m->terms_size) {
			m->terms_size = (m->terms_len + len) * 2;
			m->terms = xreallocarray(m->terms, m->terms_size, 1);
		}
		op->term = (uint32_t)m->terms_len;
		memcpy(m->terms + m->terms_len, leaf->term, len);
		m->terms_len += len;
	} else if (n->kind == QUERY_NEAR)
		op->arg = n->distance;
	for (i = 0; i < n->nkids; i++)
		matcher_emit(m, w, n->kids[i]);
	/* QUERY_MAX_TERMS and QUERY_MAX_DEPTH keep a query far smaller */
	if (m->nops - at > UINT16_MAX)
		fatalx("%s: query too large", __func__);
	m->ops[at].size = m->nops - at;
}

/*
 * A clause of a node: leaves of which one is found whenever the node
 * holds. A leaf is one; an AND or a NEAR holds only when each of its
 * parts does, so each part's clauses are its own; an OR yields one, the
 * union of one clause of each part; NOT yields none. Its cost is that
 * of a trigger set (below).
 */
struct matcher_clause {
	const struct matcher_leaf *leaves[MATCHER_MAX_GUARD];
	size_t n;
	int too_long; /* more leaves than a guard holds */
	double cost;
};

struct matcher_clauses {
	struct matcher_clause *v;
	size_t n;
};

static double
matcher_leaf_cost(const struct matcher *m, const struct matcher_leaf *leaf)
{
	const struct matcher_entity *e;
	double cost = 0;
	size_t k;

	if (leaf->entity == SIZE_MAX)
		return 1.0 + (double)m->patterns[leaf->pattern].nusers;
	e = &m->entities[leaf->entity];
	for (k = 0; k < e->naliases; k++)
		cost += 1.0 + (double)m->patterns[e->patterns[k]].nusers;
	return cost;
}

static void
matcher_clauses_add(struct matcher_clauses *c, const struct matcher_clause *cl)
{
	c->v = xreallocarray(c->v, c->n + 1, sizeof *c->v);
	c->v[c->n++] = *cl;
}

/* The cheapest clause that fits a guard, or NULL. */
static const struct matcher_clause *
matcher_clauses_best(const struct matcher_clauses *c)
{
	const struct matcher_clause *best = NULL;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!c->v[i].too_long &&
		    (best == NULL || c->v[i].cost < best->cost))
			best = &c->v[i];
	return best;
}

static void
matcher_clauses(const struct matcher *m, const struct matcher_watchlist *w,
    const struct query_node *n, struct matcher_clauses *out)
{
	struct matcher_clauses kid;
	const struct matcher_clause *best;
	struct matcher_clause cl;
	size_t i, j;

	memset(&cl, 0, sizeof cl);
	switch (n->kind) {
	case QUERY_WORD:
	case QUERY_PREFIX:
	case QUERY_ENTITY:
	case QUERY_REGEX:
		cl.leaves[cl.n++] = &w->leaves[n->index];
		cl.cost = matcher_leaf_cost(m, cl.leaves[0]);
		matcher_clauses_add(out, &cl);
		return;
	case QUERY_NOT:
		return;
	case QUERY_AND:
	case QUERY_NEAR:
		for (i = 0; i < n->nkids; i++)
			matcher_clauses(m, w, n->kids[i], out);
		return;
	case QUERY_OR:
		for (i = 0; i < n->nkids; i++) {
			memset(&kid, 0, sizeof kid);
			matcher_clauses(m, w, n->kids[i], &kid);
			best = matcher_clauses_best(&kid);
			if (best == NULL)
				cl.too_long = 1; /* no clause fits */
			for (j = 0; best != NULL && j < best->n; j++) {
				if (cl.n == MATCHER_MAX_GUARD)
					cl.too_long = 1;
				else
					cl.leaves[cl.n++] = best->leaves[j];
			}
			if (best != NULL)
				cl.cost += best->cost;
			free(kid.v);
		}
		if (!cl.too_long)
			matcher_clauses_add(out, &cl);
		return;
	}
}

/*
 * A trigger set of a node: patterns such that the node can only be true
 * when one of them was hit ("none" when the node can be true without any
 * hit, as NOT can). An AND or NEAR needs all its parts, so the cheapest
 * part's set will do; an OR needs the union of its parts' sets. The cost
 * of a set is how many watchlists use its patterns, a stand-in for how
 * often they will be hit: shared entities and common words cost more.
 *
 * Each pattern of the set comes with a guard: when it was taken from a
 * part of an AND or NEAR, the cheapest clause of the other parts, which
 * the AND needs too. The node can then only be true when one of the
 * patterns was hit and its guard holds: an OR is true by one of its
 * parts, whose trigger was hit; an AND only when its other parts are.
 */
struct matcher_trig {
	uint32_t *v;
	struct matcher_guard *guards; /* by pattern of v */
	uint8_t *fields; /* by pattern of v: its leaf's */
	size_t n;
	double cost;
	int none;
};

static const struct matcher_guard matcher_no_guard = {
    {MATCHER_GUARD_NONE, MATCHER_GUARD_NONE, MATCHER_GUARD_NONE}};

static void
matcher_trig_free(struct matcher_trig *t)
{
	free(t->v);
	free(t->guards);
	free(t->fields);
}

/* The cheapest clause of N's parts other than part SKIP, as a guard for
 * the patterns of T that have none. */
static void
matcher_trig_guard(const struct matcher *m, const struct matcher_watchlist *w,
    const struct query_node *n, size_t skip, struct matcher_trig *t)
{
	struct matcher_clauses c = {0};
	const struct matcher_clause *best;
	struct matcher_guard g = matcher_no_guard;
	const struct matcher_leaf *leaf;
	size_t i;

	for (i = 0; i < n->nkids; i++)
		if (i != skip)
			matcher_clauses(m, w, n->kids[i], &c);
	best = matcher_clauses_best(&c);
	for (i = 0; best != NULL && i < best->n; i++) {
		leaf = best->leaves[i];
		if ((leaf->entity != SIZE_MAX ? leaf->entity : leaf->pattern) >=
		    MATCHER_GUARD_ENTITY - 1)
			best = NULL; /* not a number a guard holds */
		else
			g.leaf[i] = leaf->entity != SIZE_MAX
			    ? MATCHER_GUARD_ENTITY | (uint32_t)leaf->entity
			    : leaf->pattern;
	}
	for (i = 0; best != NULL && i < t->n; i++)
		if (t->guards[i].leaf[0] == MATCHER_GUARD_NONE)
			t->guards[i] = g;
	free(c.v);
}

static void
matcher_trigger(const struct matcher *m, const struct matcher_watchlist *w,
    const struct query_node *n, struct matcher_trig *out)
{
	const struct matcher_leaf *leaf;
	const struct matcher_entity *e;
	struct matcher_trig kid;
	size_t i, k, chosen = 0;

	memset(out, 0, sizeof *out);
	switch (n->kind) {
	case QUERY_WORD:
	case QUERY_PREFIX:
	case QUERY_ENTITY:
	case QUERY_REGEX:
		leaf = &w->leaves[n->index];
		if (leaf->entity == SIZE_MAX) {
			out->v = xreallocarray(NULL, 1, sizeof *out->v);
			out->v[out->n++] = leaf->pattern;
		} else {
			e = &m->entities[leaf->entity];
			out->v = xreallocarray(
			    NULL, e->naliases + 1, sizeof *out->v);
			for (k = 0; k < e->naliases; k++)
				out->v[out->n++] = e->patterns[k];
		}
		out->guards =
		    xreallocarray(NULL, out->n + 1, sizeof *out->guards);
		out->fields = xreallocarray(NULL, out->n + 1, 1);
		for (k = 0; k < out->n; k++) {
			out->cost +=
			    1.0 + (double)m->patterns[out->v[k]].nusers;
			out->guards[k] = matcher_no_guard;
			out->fields[k] = (uint8_t)leaf->fields;
		}
		return;
	case QUERY_NOT:
		out->none = 1;
		return;
	case QUERY_OR:
		for (i = 0; i < n->nkids; i++) {
			matcher_trigger(m, w, n->kids[i], &kid);
			if (kid.none) {
				matcher_trig_free(&kid);
				matcher_trig_free(out);
				memset(out, 0, sizeof *out);
				out->none = 1;
				return;
			}
			out->v = xreallocarray(
			    out->v, out->n + kid.n + 1, sizeof *out->v);
			out->guards = xreallocarray(out->guards,
			    out->n + kid.n + 1, sizeof *out->guards);
			out->fields =
			    xreallocarray(out->fields, out->n + kid.n + 1, 1);
			if (kid.n > 0) {
				memcpy(out->v + out->n, kid.v,
				    kid.n * sizeof *kid.v);
				memcpy(out->guards + out->n, kid.guards,
				    kid.n * sizeof *kid.guards);
				memcpy(out->fields + out->n, kid.fields, kid.n);
			}
			out->n += kid.n;
			out->cost += kid.cost;
			matcher_trig_free(&kid);
		}
		return;
	case QUERY_AND:
	case QUERY_NEAR:
		out->none = 1;
		for (i = 0; i < n->nkids; i++) {
			matcher_trigger(m, w, n->kids[i], &kid);
			if (!kid.none && (out->none || kid.cost < out->cost)) {
				matcher_trig_free(out);
				*out = kid;
				chosen = i;
				continue;
			}
			matcher_trig_free(&kid);
		}
		if (!out->none)
			matcher_trig_guard(m, w, n, chosen, out);
		return;
	}
}

/* Which entities each alias pattern belongs to (CSR by pattern). */
static void
matcher_compile_alias_entities(struct matcher *m)
{
	const struct matcher_entity *e;
	uint32_t *first;
	size_t i, j, total = 0;

	first = xcalloc(m->npatterns + 2, sizeof *first);
	for (i = 0; i < m->nentities; i++) {
		e = &m->entities[i];
		for (j = 0; j < e->naliases; j++)
			first[e->patterns[j] + 2]++;
		total += e->naliases;
	}
	for (i = 0; i < m->npatterns; i++)
		first[i + 2] += first[i + 1];
	m->alias_entities =
	    xreallocarray(NULL, total + 1, sizeof *m->alias_entities);
	for (i = 0; i < m->nentities; i++) {
		e = &m->entities[i];
		for (j = 0; j < e->naliases; j++)
			m->alias_entities[first[e->patterns[j] + 1]++] =
			    (uint32_t)i;
	}
	m->alias_entity_first = first;
}

/*
 * The leaves of the guards of the N triggers as bits of found_bits, so
 * that a guard is three bits read: an entity from MATCHER_GUARD_ENTITY
 * | E to npatterns + E; an empty guard to the bit after the entities,
 * always set; the empty places of the others to the bit after that,
 * never set.
 */
static void
matcher_guard_renumber(struct matcher *m, size_t n)
{
	uint32_t *leaf;
	size_t i, k;

	uint32_t always = (uint32_t)(m->npatterns + m->nentities);

	for (i = 0; i < n; i++)
		for (k = 0; k < MATCHER_MAX_GUARD; k++) {
			leaf = &m->triggers[i].guard.leaf[k];
			if (*leaf == MATCHER_GUARD_NONE)
				*leaf = k == 0 ? always : always + 1;
			else if (*leaf & MATCHER_GUARD_ENTITY)
				*leaf = (uint32_t)m->npatterns +
				    (*leaf & ~MATCHER_GUARD_ENTITY);
		}
	bitset_set(m->found_bits, always);
}

/* N records of SIZE bytes (a power of two, at most a cache line),
 * zeroed, each starting at a multiple of SIZE, so that none straddles
 * two cache lines. Freed with free(). */
static void *
matcher_records(size_t n, size_t size)
{
	void *p;

	if (n > SIZE_MAX / size || (p = aligned_alloc(size, n * size)) == NULL)
		fatal("%s: %zu records of %zu bytes", __func__, n, size);
	memset(p, 0, n * size);
	return p;
}

int
matcher_compile(struct matcher *m, char **cause)
{
	struct matcher_watchlist *w;
	struct matcher_leaf *leaf;
	struct matcher_entity *e;
	struct matcher_pattern *p;
	size_t i, j, k;

	if (m->compiled)
		return matcher_error(cause, "the matcher is already compiled");
	/* a guard's leaf numbers patterns, then entities, then the bits
	 * of matcher_guard_renumber(), in 32 bits */
	if (m->npatterns + m->nentities + 2 >= MATCHER_GUARD_NONE)
		return matcher_error(cause, "too many terms and entities");
	m->compiled = 1;
	for (i = 0; i < m->nentities; i++) {
		e = &m->entities[i];
		e->patterns =
		    xreallocarray(NULL, e->naliases + 1, sizeof *e->patterns);
		for (j = 0; j < e->naliases; j++)
			e->patterns[j] = e->aliases[j].pattern;
	}
	/* Watchlists in order, so each pattern's users come out sorted. */
	for (i = 0; i < m->nwatchlists; i++) {
		w = &m->watchlists[i];
		for (j = 0; j < w->nleaves; j++) {
			leaf = &w->leaves[j];
			m->scan_fields |= leaf->fields;
			if (leaf->entity == SIZE_MAX) {
				p = &m->patterns[leaf->pattern];
				matcher_add_user(p, (uint32_t)i);
				p->fields |= leaf->fields;
				continue;
			}
			e = &m->entities[leaf->entity];
			for (k = 0; k < e->naliases; k++)
				matcher_add_user(
				    &m->patterns[e->patterns[k]], (uint32_t)i);
		}
	}
	/* Now that every pattern's users are known, the trigger sets. */
	m->wl_op_first =
	    xreallocarray(NULL, m->nwatchlists + 1, sizeof *m->wl_op_first);
	for (i = 0; i < m->nwatchlists; i++) {
		struct matcher_trig t;

		w = &m->watchlists[i];
		m->wl_op_first[i] = (uint32_t)m->nops;
		matcher_emit(m, w, w->root);
		matcher_trigger(m, w, w->root, &t);
		if (t.none) { /* e.g. NOT NOT x: any of its patterns */
			for (j = 0; j < w->nleaves; j++) {
				leaf = &w->leaves[j];
				if (leaf->entity == SIZE_MAX) {
					matcher_add_trigger(
					    &m->patterns[leaf->pattern],
					    (uint32_t)i, &matcher_no_guard,
					    leaf->fields);
					continue;
				}
				e = &m->entities[leaf->entity];
				for (k = 0; k < e->naliases; k++)
					matcher_add_trigger(
					    &m->patterns[e->patterns[k]],
					    (uint32_t)i, &matcher_no_guard,
					    leaf->fields);
			}
		}
		for (j = 0; j < t.n; j++)
			matcher_add_trigger(&m->patterns[t.v[j]], (uint32_t)i,
			    &t.guards[j], t.fields[j]);
		matcher_trig_free(&t);
	}
	m->wl_op_first[m->nwatchlists] = (uint32_t)m->nops;
	for (i = 0; i < m->nregexes; i++) {
		p = &m->patterns[m->regexes[i]];
		if (!(m->flags & MATCHER_NO_JIT) &&
		    pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE) == 0)
			m->nregex_jit++;
	}
	automaton_compile(m->ac);
	m->hot = matcher_records(m->npatterns + 1, sizeof *m->hot);
	if (automaton_has_prefixes(m->ac))
		m->pmemo = matcher_records(MATCHER_PMEMO, sizeof *m->pmemo);
	m->shape = xcalloc(m->npatterns + 1, 1);
	for (i = 0, j = 0, k = 0; i < m->npatterns; i++) {
		j += m->patterns[i].ntriggers;
		k += m->patterns[i].nusers;
	}
	m->triggers = xreallocarray(NULL, j + 1, sizeof *m->triggers);
	m->hot_watchlists =
	    xreallocarray(NULL, k + 1, sizeof *m->hot_watchlists);
	for (i = 0, j = 0, k = 0; i < m->npatterns; i++) {
		p = &m->patterns[i];
		m->shape[i] = (uint8_t)(p->ntokens |
		    (p->is_alias ? MATCHER_SHAPE_ALIAS : 0) |
		    (p->case_sensitive ? MATCHER_SHAPE_CASED : 0));
		m->hot[i].trig_first = (uint32_t)j;
		m->hot[i].trig_count = (uint32_t)p->ntriggers;
		if (p->ntriggers > 0)
			memcpy(m->triggers + j, p->triggers,
			    p->ntriggers * sizeof *p->triggers);
		j += p->ntriggers;
		m->hot[i].user_first = (uint32_t)k;
		m->hot[i].user_count = (uint32_t)p->nusers;
		if (p->nusers > 0)
			memcpy(m->hot_watchlists + k, p->users,
			    p->nusers * sizeof *p->users);
		k += p->nusers;
	}
	m->touched = xcalloc(m->npatterns + 1, sizeof *m->touched);
	m->cand_bits = xcalloc(m->nwatchlists / 64 + 1, sizeof *m->cand_bits);
	m->found_bits = xcalloc(
	    (m->npatterns + m->nentities + 2) / 64 + 1, sizeof *m->found_bits);
	matcher_guard_renumber(m, j);
	m->candidates = xcalloc(m->nwatchlists + 1, sizeof *m->candidates);
	m->decided = xcalloc(m->nwatchlists + 1, sizeof *m->decided);
	m->entity_found = xcalloc(m->nentities + 1, sizeof *m->entity_found);
	matcher_compile_alias_entities(m);
	return 0;
}

size_t
matcher_npatterns(const struct matcher *m)
{
	return m->npatterns;
}

size_t
matcher_nregex_jit(const struct matcher *m)
{
	return m->nregex_jit;
}

size_t
matcher_nwatchlists(const struct matcher *m)
{
	return m->nwatchlists;
}

/* ---- the scan ---- */

static void
matcher_add_segment(
    struct matcher *m, unsigned field, const char *text, size_t category)
{
	struct matcher_segment *s;

	if (text == NULL || !(m->scan_fields & field))
		return;
	if (m->nsegs == m->segs_size) {
		m->segs_size = m->segs_size ? m->segs_size * 2 : 16;
		m->segs = xreallocarray(m->segs, m->segs_size, sizeof *m->segs);
	}
	s = &m->segs[m->nsegs++];
	s->field = field;
	s->text = text;
	s->len = strlen(text);
	if (s->len > NORM_MAX_INPUT)
		s->len = NORM_MAX_INPUT;
	s->category = category;
	s->tok_first = m->norm.ntokens;
	s->tok_count = norm_tokenize(&m->norm, text, s->len, 0);
	s->plain = MATCHER_PLAIN_UNKNOWN;
	s->field_name = NULL;
}

static inline void
matcher_add_hit(struct matcher *m, uint32_t pattern, int alias, size_t seg,
    size_t ts, size_t te, size_t start, size_t end)
{
	struct matcher_hitrec *h;

	if (m->nhits >= MATCHER_MAX_HITS) {
		m->truncated = 1;
		return;
	}
	if (m->nhits == m->hits_size) {
		m->hits_size = m->hits_size ? m->hits_size * 2 : 256;
		m->hits = xreallocarray(m->hits, m->hits_size, sizeof *m->hits);
		m->order =
		    xreallocarray(m->order, m->hits_size, sizeof *m->order);
	}
	h = &m->hits[m->nhits++];
	h->pattern = pattern;
	h->seg = (uint32_t)seg;
	h->ts = (uint32_t)ts;
	h->te = (uint32_t)te;
	h->start = (uint32_t)start;
	h->end = (uint32_t)end;
	h->alias = alias != 0;
	h->suppressed = 0;
	m->nalias_hits += h->alias;
}

/* How a word of the original text is written: MATCHER_WORD_LOWER when a
 * letter is in lower case, MATCHER_WORD_CAPITALS when two letters or more
 * are and none is lower case, MATCHER_WORD_OTHER otherwise (one capital,
 * digits, a script without case). */
#define MATCHER_WORD_OTHER 0
#define MATCHER_WORD_LOWER 1
#define MATCHER_WORD_CAPITALS 2

static int
matcher_word_case(const char *s, size_t len)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	size_t pos = 0;
	int upper = 0;

	while (pos < len) {
		k = utf8proc_iterate((const utf8proc_uint8_t *)s + pos,
		    (utf8proc_ssize_t)(len - pos), &cp);
		if (k <= 0) {
			pos++;
			continue;
		}
		pos += (size_t)k;
		switch (utf8proc_category(cp)) {
		case UTF8PROC_CATEGORY_LL:
			return MATCHER_WORD_LOWER;
		case UTF8PROC_CATEGORY_LU:
		case UTF8PROC_CATEGORY_LT:
			upper++;
			break;
		default:
			break;
		}
	}
	return upper >= 2 ? MATCHER_WORD_CAPITALS : MATCHER_WORD_OTHER;
}

/* Words looked at on each side of a hit to tell text in capitals. */
#define MATCHER_CAPITALS_WINDOW 3

/* Whether the bytes between two words end a clause: a stop, a comma, a
 * colon, brackets, quotation marks or a line break. */
static int
matcher_clause_break(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (strchr(",.;:!?()[]\"\n", s[i]) != NULL && s[i] != '\0')
			return 1;
	return memmem(s, len, "\xc2\xab", 2) != NULL || /* « */
	    memmem(s, len, "\xc2\xbb", 2) != NULL || /* » */
	    memmem(s, len, "\xe2\x80\x9c", 3) != NULL || /* “ */
	    memmem(s, len, "\xe2\x80\x9d", 3) != NULL; /* ” */
}

/* How token I of segment S is written, or -1 when the bytes between it
 * and token J (its neighbour towards the hit) end a clause. */
static int
matcher_neighbour_case(const struct matcher *m, const struct matcher_segment *s,
    size_t i, size_t j)
{
	const struct norm_token *t = &m->norm.tokens[i];
	const struct norm_token *a = &m->norm.tokens[i < j ? i : j];
	const struct norm_token *b = &m->norm.tokens[i < j ? j : i];

	if (matcher_clause_break(s->text + a->end, b->start - a->end))
		return -1;
	return matcher_word_case(s->text + t->start, t->end - t->start);
}

/*
 * Whether the hit on tokens [TS, TE) of segment S stands in text written
 * in capitals: of the MATCHER_CAPITALS_WINDOW words on each side, in its
 * field and its clause, at least two are in capitals and none has a
 * lower-case letter.
 */
static int
matcher_in_capitals(const struct matcher *m, const struct matcher_segment *s,
    size_t ts, size_t te)
{
	size_t i, first = s->tok_first, end = s->tok_first + s->tok_count;
	int capitals = 0, side, c;

	for (side = 0; side < 2; side++) {
		for (i = 0; i < MATCHER_CAPITALS_WINDOW; i++) {
			if (side == 0 ? ts < first + i + 1 : te + i >= end)
				break;
			c = side == 0
			    ? matcher_neighbour_case(m, s, ts - i - 1, ts - i)
			    : matcher_neighbour_case(m, s, te + i, te + i - 1);
			if (c == -1)
				break;
			if (c == MATCHER_WORD_LOWER)
				return 0;
			capitals += c == MATCHER_WORD_CAPITALS;
		}
	}
	return capitals >= 2;
}

/* A case-sensitive phrase: do the original words have its case? A common
 * word in text written in capitals is taken as that word, not a name. */
static int
matcher_verify_case(struct matcher *m, const struct matcher_pattern *p,
    const struct matcher_segment *s, size_t ts, size_t te)
{
	const struct norm_token *first = &m->norm.tokens[ts];
	const struct norm_token *last = &m->norm.tokens[te - 1];
	const char *want = p->cased;
	size_t i, len;

	norm_reset(&m->cased);
	norm_tokenize(&m->cased, s->text + first->start,
	    last->end - first->start, NORM_CASED);
	if (m->cased.ntokens != p->ntokens)
		return 0;
	for (i = 0; i < m->cased.ntokens; i++) {
		len = m->cased.tokens[i].len;
		if (strncmp(want, norm_token_text(&m->cased, i), len) != 0 ||
		    (want[len] != ' ' && want[len] != '\0'))
			return 0;
		want += len + (want[len] == ' ');
	}
	return *want == '\0' &&
	    !(p->common_word && matcher_in_capitals(m, s, ts, te));
}

static void
matcher_token_prefetch(struct matcher *m, size_t i, uint64_t *hash)
{
	*hash = automaton_prefetch(
	    m->ac, norm_token_text(&m->norm, i), m->norm.tokens[i].len);
}

/* The prefix patterns of token T (LEN bytes, hash H), which the
 * dictionary does not hold: in *OUT, from the memo or from BUF (room
 * for MATCHER_MAX_PREFIX_OUT); returns how many there are (which may
 * be more). */
static size_t
matcher_unknown_prefixes(struct matcher *m, const char *t, size_t len,
    uint64_t h, uint32_t *buf, const uint32_t **out)
{
	struct matcher_pmemo *e = &m->pmemo[matcher_pmemo_slot(h)];
	size_t n;

	if (e->len == len && bytes_eq_padded(e->text, t, len)) {
		*out = e->pattern;
		return e->n;
	}
	n = automaton_prefixes(m->ac, t, len, buf, MATCHER_MAX_PREFIX_OUT);
	*out = buf;
	if (len <= MATCHER_PMEMO_TEXT && n <= MATCHER_PMEMO_PATTERNS) {
		e->len = (uint32_t)len;
		e->n = (uint32_t)n;
		memcpy(e->pattern, buf, n * sizeof *buf);
		memcpy(e->text, t, len);
	}
	return n;
}

static void
matcher_scan_segment(struct matcher *m, size_t seg)
{
	const struct matcher_segment *s = &m->segs[seg];
	const struct norm_token *t;
	const uint32_t *outs, *known;
	uint32_t prefixes[MATCHER_MAX_PREFIX_OUT];
	uint32_t state = AUTOMATON_ROOT;
	uint64_t hash[MATCHER_LOOKAHEAD], h;
	struct automaton_step step;
	size_t i, k, nknown, first, end = s->tok_first + s->tok_count;
	int has_prefixes = automaton_has_prefixes(m->ac);

	/* Each token's place in the dictionary is asked for a few tokens
	 * ahead, so that the reads overlap. */
	for (i = s->tok_first; i < end && i < s->tok_first + MATCHER_LOOKAHEAD;
	     i++)
		matcher_token_prefetch(m, i, &hash[i % MATCHER_LOOKAHEAD]);
	for (i = s->tok_first; i < end; i++) {
		t = &m->norm.tokens[i];
		h = hash[i % MATCHER_LOOKAHEAD];
		if (i + MATCHER_LOOKAHEAD < end)
			matcher_token_prefetch(m, i + MATCHER_LOOKAHEAD,
			    &hash[i % MATCHER_LOOKAHEAD]);
		state = automaton_step(m->ac, state,
		    norm_token_text(&m->norm, i), t->len, h, &step);
		outs = step.outs;
		for (k = 0; k < step.nouts; k++) {
			first =
			    i + 1 - (m->shape[outs[k]] & MATCHER_SHAPE_NTOKENS);
			if ((m->shape[outs[k]] & MATCHER_SHAPE_CASED) &&
			    !matcher_verify_case(
				m, &m->patterns[outs[k]], s, first, i + 1))
				continue;
			matcher_add_hit(m, outs[k],
			    m->shape[outs[k]] & MATCHER_SHAPE_ALIAS, seg, first,
			    i + 1, m->norm.tokens[first].start, t->end);
		}
		if (!has_prefixes)
			continue;
		/* a token the dictionary holds comes with its prefixes */
		known = step.prefixes;
		nknown = step.nprefixes;
		if (known == NULL)
			nknown = matcher_unknown_prefixes(m,
			    norm_token_text(&m->norm, i), t->len, h, prefixes,
			    &known);
		if (nknown > MATCHER_MAX_PREFIX_OUT) {
			nknown = MATCHER_MAX_PREFIX_OUT;
			m->truncated = 1;
		}
		for (k = 0; k < nknown; k++)
			matcher_add_hit(
			    m, known[k], 0, seg, i, i + 1, t->start, t->end);
	}
}

/* The tokens of segment S that bytes [start, end) overlap. */
static void
matcher_token_range(const struct matcher *m, const struct matcher_segment *s,
    size_t start, size_t end, size_t *ts, size_t *te)
{
	size_t lo = s->tok_first, hi = s->tok_first + s->tok_count, mid;

	while (lo < hi) { /* first token that ends after start */
		mid = (lo + hi) / 2;
		if (m->norm.tokens[mid].end <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	*ts = lo;
	hi = s->tok_first + s->tok_count;
	while (lo < hi) { /* first token that starts at or after end */
		mid = (lo + hi) / 2;
		if (m->norm.tokens[mid].start < end)
			lo = mid + 1;
		else
			hi = mid;
	}
	*te = lo > *ts ? lo : *ts;
}

static void
matcher_scan_regex(struct matcher *m, uint32_t pattern)
{
	const struct matcher_pattern *p = &m->patterns[pattern];
	const struct matcher_segment *s;
	PCRE2_SIZE *ov, offset;
	size_t seg, ts, te;
	uint32_t options;
	int rc;

	/* Every match is a hit (NEAR needs them all): at most one for
	 * each character of the field, and the item's MATCHER_MAX_HITS. */
	for (seg = 0; seg < m->nsegs; seg++) {
		s = &m->segs[seg];
		if (!(p->fields & s->field))
			continue;
		offset = 0;
		options = 0;
		for (;;) {
			rc = pcre2_match(p->re, (PCRE2_SPTR)s->text, s->len,
			    offset, options, p->md, m->mctx);
			if (rc == PCRE2_ERROR_NOMATCH && options != 0) {
				/* none but the empty one here: a character on,
				 * as pcre2demo does */
				options = 0;
				if (offset >= s->len)
					break;
				offset++;
				while (offset < s->len &&
				    ((unsigned char)s->text[offset] & 0xC0) ==
					0x80)
					offset++;
				continue;
			}
			if (rc < 0) {
				if (rc != PCRE2_ERROR_NOMATCH)
					m->truncated = 1; /* a limit */
				break;
			}
			if (m->nhits >= MATCHER_MAX_HITS) {
				m->truncated = 1;
				return;
			}
			ov = pcre2_get_ovector_pointer(p->md);
			matcher_token_range(m, s, ov[0], ov[1], &ts, &te);
			matcher_add_hit(
			    m, pattern, 0, seg, ts, te, ov[0], ov[1]);
			/* after an empty match (\K, a lookaround), the next
			 * starts where it ended, but not empty there */
			options = ov[1] == ov[0]
			    ? PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED
			    : 0;
			offset = ov[1];
		}
	}
}

static int
matcher_alias_cmp(const void *va, const void *vb)
{
	const struct matcher_hitrec *a =
	    *(const struct matcher_hitrec *const *)va;
	const struct matcher_hitrec *b =
	    *(const struct matcher_hitrec *const *)vb;

	if (a->seg != b->seg)
		return a->seg < b->seg ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->te != b->te)
		return a->te > b->te ? -1 : 1;
	return 0;
}

/* Mark alias hits that lie inside a longer alias hit. */
static void
matcher_suppress(struct matcher *m)
{
	struct matcher_hitrec **v, *h;
	size_t i, j, n = m->nalias_hits;
	uint32_t seg = UINT32_MAX, max_te = 0, max_ts = 0;

	if (n < 2)
		return;
	if (m->alias_hits_size < n) {
		m->alias_hits_size = n * 2;
		m->alias_hits = xreallocarray(
		    m->alias_hits, m->alias_hits_size, sizeof *m->alias_hits);
	}
	v = m->alias_hits;
	n = 0;
	for (i = 0; i < m->nhits; i++)
		if (m->hits[i].alias)
			v[n++] = &m->hits[i];
	if (n > MATCHER_SMALL_SORT)
		qsort(v, n, sizeof *v, matcher_alias_cmp);
	else
		for (i = 1; i < n; i++) {
			h = v[i];
			for (j = i;
			     j > 0 && matcher_alias_cmp(&v[j - 1], &h) > 0; j--)
				v[j] = v[j - 1];
			v[j] = h;
		}
	for (i = 0; i < n; i++) {
		if (v[i]->seg != seg) {
			seg = v[i]->seg;
			max_te = v[i]->te;
			max_ts = v[i]->ts;
			continue;
		}
		if (max_te > v[i]->te ||
		    (max_te == v[i]->te && max_ts < v[i]->ts))
			v[i]->suppressed = 1;
		if (v[i]->te > max_te) {
			max_te = v[i]->te;
			max_ts = v[i]->ts;
		}
	}
}

/* The fields pattern P was hit in, from its record only when it was hit
 * at all (its bit in found_bits, which stays in the cache). */
static unsigned
matcher_found_any(const struct matcher *m, uint32_t p)
{
	return bitset_get(m->found_bits, p) ? m->hot[p].found_any : 0;
}

/* Whether a leaf of guard G was found (an empty guard holds): see
 * matcher_guard_renumber(). No branch: most guards fail, at random. */
static int
matcher_guard_holds(const struct matcher *m, const struct matcher_guard *g)
{
	_Static_assert(MATCHER_MAX_GUARD == 3, "a guard is three leaves");
	return bitset_get(m->found_bits, g->leaf[0]) |
	    bitset_get(m->found_bits, g->leaf[1]) |
	    bitset_get(m->found_bits, g->leaf[2]);
}

static void
matcher_candidate(struct matcher *m, uint32_t watchlist)
{
	if (bitset_get(m->cand_bits, watchlist))
		return;
	bitset_set(m->cand_bits, watchlist);
	m->candidates[m->ncandidates++] = watchlist;
}

/*
 * Group the hits by pattern (order[]), note the fields each pattern and
 * entity was found in, and find the candidate watchlists: those with a
 * hit in their trigger set, or with EXPLAIN any hit.
 */
static void
matcher_index(struct matcher *m, int explain)
{
	const uint32_t *users;
	const struct matcher_trigger *trig;
	const struct matcher_hitrec *h;
	size_t i, k, ntrig;
	uint32_t p, sum = 0;
	const struct matcher_hot *hot;
	unsigned field, found;

	m->ntouched = 0;
	m->ncandidates = 0;
	/* the patterns' records are far apart: ask for all of them first */
	for (i = 0; i < m->nhits; i++) {
		__builtin_prefetch(&m->hot[m->hits[i].pattern]);
	}
	for (i = 0; i < m->nhits; i++) {
		h = &m->hits[i];
		p = h->pattern;
		if (m->hot[p].stamp != m->gen) {
			m->hot[p].stamp = m->gen;
			m->hot[p].count = 0;
			m->touched[m->ntouched++] = p;
		}
		m->hot[p].count++;
		bitset_set(m->found_bits, p);
		field = m->segs[h->seg].field;
		m->hot[p].found_any |= (uint8_t)field;
		if (!h->suppressed)
			m->hot[p].found_entity |= (uint8_t)field;
	}
	for (i = 0; i < m->ntouched; i++) {
		p = m->touched[i];
		if (m->hot[p].found_entity == 0 ||
		    !(m->shape[p] & MATCHER_SHAPE_ALIAS))
			continue;
		for (k = m->alias_entity_first[p];
		     k < m->alias_entity_first[p + 1]; k++) {
			m->entity_found[m->alias_entities[k]] |=
			    m->hot[p].found_entity;
			bitset_set(
			    m->found_bits, m->npatterns + m->alias_entities[k]);
		}
	}
	for (i = 0; i < m->ntouched; i++) {
		p = m->touched[i];
		m->hot[p].first = sum;
		sum += m->hot[p].count;
		m->hot[p].count = 0;
		__builtin_prefetch(m->triggers + m->hot[p].trig_first);
	}
	for (i = 0; i < m->nhits; i++) {
		p = m->hits[i].pattern;
		m->order[m->hot[p].first + m->hot[p].count++] = (uint32_t)i;
	}
	for (i = 0; i < m->ntouched; i++) {
		hot = &m->hot[m->touched[i]];
		if (explain) {
			users = m->hot_watchlists + hot->user_first;
			for (k = 0; k < hot->user_count; k++)
				matcher_candidate(m, users[k]);
			continue;
		}
		trig = m->triggers + hot->trig_first;
		/* (read once: matcher_candidate() writes) */
		found = hot->found_any;
		ntrig = hot->trig_count;
		for (k = 0; k < ntrig; k++)
			if (((found & trig[k].fields) != 0) &
			    matcher_guard_holds(m, &trig[k].guard))
				matcher_candidate(m, trig[k].watchlist);
	}
}

/* Forget what matcher_index() noted of this item: its hits, its
 * candidates. */
static void
matcher_unindex(struct matcher *m)
{
	size_t i, k;
	uint32_t p;

	for (i = 0; i < m->ntouched; i++) {
		p = m->touched[i];
		m->hot[p].found_any = 0;
		m->hot[p].found_entity = 0;
		bitset_clear(m->found_bits, p);
		if (!(m->shape[p] & MATCHER_SHAPE_ALIAS))
			continue;
		for (k = m->alias_entity_first[p];
		     k < m->alias_entity_first[p + 1]; k++) {
			m->entity_found[m->alias_entities[k]] = 0;
			bitset_clear(
			    m->found_bits, m->npatterns + m->alias_entities[k]);
		}
	}
	for (i = 0; i < m->ncandidates; i++)
		bitset_clear(m->cand_bits, m->candidates[i]);
}

/* ---- deciding a watchlist ---- */

struct matcher_eval {
	struct matcher *m;
	const struct matcher_watchlist *w;
};

/* What a hit is reported as: the leaf's term as written, and its entity
 * (SIZE_MAX: none). */
struct matcher_term {
	const char *term;
	size_t entity;
};

typedef int (*matcher_hit_fn)(void *, const struct matcher_term *, uint32_t);

/*
 * Call FN for each hit that counts of a leaf (TERM, passed on to FN)
 * in FIELDS: of pattern ARG, or with ENTITY of an alias of entity ARG
 * not inside a longer alias. Stops when FN returns nonzero. What the
 * masks of matcher_index() rule out is not looked at.
 */
static int
matcher_hits_each(const struct matcher_eval *ev, int entity, uint32_t arg,
    unsigned fields, const struct matcher_term *term, matcher_hit_fn fn,
    void *fn_arg)
{
	struct matcher *m = ev->m;
	const uint32_t *pats = &arg;
	size_t npats = 1, i, k;
	const struct matcher_hitrec *h;
	uint32_t p;
	int rc;

	if (entity) {
		if (!(m->entity_found[arg] & fields))
			return 0;
		pats = m->entities[arg].patterns;
		npats = m->entities[arg].naliases;
	}
	for (i = 0; i < npats; i++) {
		p = pats[i];
		if (!(matcher_found_any(m, p) & fields))
			continue;
		for (k = m->hot[p].first; k < m->hot[p].first + m->hot[p].count;
		     k++) {
			h = &m->hits[m->order[k]];
			if (!(m->segs[h->seg].field & fields))
				continue;
			if (entity && h->suppressed)
				continue;
			if ((rc = fn(fn_arg, term, m->order[k])) != 0)
				return rc;
		}
	}
	return 0;
}

/* Call FN for each hit of LEAF that counts (right field; for entities,
 * not inside a longer alias). Stops when FN returns nonzero. */
static int
matcher_leaf_each(const struct matcher_eval *ev,
    const struct matcher_leaf *leaf, matcher_hit_fn fn, void *fn_arg)
{
	const struct matcher_term term = {leaf->term, leaf->entity};
	int entity = leaf->entity != SIZE_MAX;

	return matcher_hits_each(ev, entity,
	    entity ? (uint32_t)leaf->entity : leaf->pattern, leaf->fields,
	    &term, fn, fn_arg);
}

/* The same for the leaf of op OP, from the op (no leaf is read: a
 * watchlist's leaves lie apart from the program). */
static int
matcher_op_each(const struct matcher_eval *ev, const struct matcher_op *op,
    matcher_hit_fn fn, void *fn_arg)
{
	const struct matcher_term term = {
	    ev->m->terms + op->term, op->entity ? op->arg : SIZE_MAX};

	return matcher_hits_each(
	    ev, op->entity, op->arg, op->fields, &term, fn, fn_arg);
}

/* Add a position to S; -1 when S has all it wants already (when that is
 * MATCHER_MAX_SPANS, the item is noted as cut short). */
static int
matcher_spans_add(struct matcher *m, struct matcher_spans *s, uint32_t seg,
    uint32_t ts, uint32_t te)
{
	if (s->n >= s->limit) {
		if (s->limit == MATCHER_MAX_SPANS)
			m->truncated = 1;
		return -1;
	}
	if (s->v == NULL) {
		s->v = s->inline_v;
		s->size = MATCHER_SPANS_INLINE;
	}
	if (s->n == s->size) {
		s->size *= 2;
		if (s->v == s->inline_v) {
			s->v = xreallocarray(NULL, s->size, sizeof *s->v);
			memcpy(s->v, s->inline_v, sizeof s->inline_v);
		} else
			s->v = xreallocarray(s->v, s->size, sizeof *s->v);
	}
	s->v[s->n].seg = seg;
	s->v[s->n].ts = ts;
	s->v[s->n].te = te;
	s->n++;
	return 0;
}

/* An empty S that wants LIMIT spans (its array is left as it is). */
static void
matcher_spans_init(struct matcher_spans *s, size_t limit)
{
	s->v = NULL;
	s->n = s->size = 0;
	s->limit = limit;
}

static void
matcher_spans_free(struct matcher_spans *s)
{
	if (s->v != s->inline_v)
		free(s->v);
}

struct matcher_span_arg {
	struct matcher *m;
	struct matcher_spans *out;
};

static int
matcher_span_cb(void *arg, const struct matcher_term *term, uint32_t hit)
{
	struct matcher_span_arg *a = arg;
	const struct matcher_hitrec *h = &a->m->hits[hit];

	return matcher_spans_add(a->m, a->out, h->seg, h->ts, h->te);
}

static int
matcher_span_cmp(const void *va, const void *vb)
{
	const struct matcher_span *a = va, *b = vb;

	if (a->seg != b->seg)
		return a->seg < b->seg ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return 0;
}

/* Sort spans S by place (small ones by insertion). */
static void
matcher_spans_sort(struct matcher_spans *s)
{
	struct matcher_span x;
	size_t i, j;

	if (s->n > MATCHER_SMALL_SORT) {
		qsort(s->v, s->n, sizeof *s->v, matcher_span_cmp);
		return;
	}
	for (i = 1; i < s->n; i++) {
		x = s->v[i];
		for (j = i; j > 0 && matcher_span_cmp(&s->v[j - 1], &x) > 0;
		     j--)
			s->v[j] = s->v[j - 1];
		s->v[j] = x;
	}
}

/* The first of spans S, sorted, at or after word TS of segment SEG. */
static size_t
matcher_spans_find(const struct matcher_spans *s, uint32_t seg, uint32_t ts)
{
	size_t lo = 0, hi = s->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (s->v[mid].seg < seg ||
		    (s->v[mid].seg == seg && s->v[mid].ts < ts))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The word positions where positional op OP holds, up to out->limit.
 * They come from the program, as deciding reads it: no query node is
 * read. */
static void
matcher_spans(const struct matcher_eval *ev, const struct matcher_op *op,
    struct matcher_spans *out)
{
	struct matcher_spans a, b;
	struct matcher_span_arg arg = {ev->m, out};
	const struct matcher_op *kid, *end = op + op->size;
	size_t i, j;
	uint32_t maxlen = 0, d = op->arg, from;

	switch ((enum query_kind)op->kind) {
	case QUERY_WORD:
	case QUERY_PREFIX:
	case QUERY_ENTITY:
	case QUERY_REGEX:
		matcher_op_each(ev, op, matcher_span_cb, &arg);
		return;
	case QUERY_OR:
		for (kid = op + 1; kid < end; kid += kid->size)
			matcher_spans(ev, kid, out);
		return;
	case QUERY_NEAR:
		break;
	default:
		return;
	}
	matcher_spans_init(&a, MATCHER_MAX_SPANS);
	matcher_spans_init(&b, MATCHER_MAX_SPANS);
	matcher_spans(ev, op + 1, &a);
	if (a.n > 0)
		matcher_spans(ev, op + 1 + op[1].size, &b);
	matcher_spans_sort(&b);
	for (j = 0; j < b.n; j++)
		if (b.v[j].te - b.v[j].ts > maxlen)
			maxlen = b.v[j].te - b.v[j].ts;
	for (i = 0; i < a.n; i++) {
		/* B spans that can be near: ts >= a.ts - d - maxlen */
		from = a.v[i].ts > d + maxlen ? a.v[i].ts - d - maxlen : 0;
		for (j = matcher_spans_find(&b, a.v[i].seg, from); j < b.n &&
		     b.v[j].seg == a.v[i].seg && b.v[j].ts <= a.v[i].te + d;
		     j++) {
			if (++ev->m->near_steps > MATCHER_MAX_NEAR_STEPS) {
				ev->m->truncated = 1;
				goto done;
			}
			if (a.v[i].ts > b.v[j].te + d)
				continue;
			/* two places: one word cannot be both sides */
			if (a.v[i].ts < b.v[j].te && b.v[j].ts < a.v[i].te)
				continue;
			if (matcher_spans_add(ev->m, out, a.v[i].seg,
				a.v[i].ts < b.v[j].ts ? a.v[i].ts : b.v[j].ts,
				a.v[i].te > b.v[j].te ? a.v[i].te
						      : b.v[j].te) == -1)
				goto done;
		}
	}
done:
	matcher_spans_free(&a);
	matcher_spans_free(&b);
}

/* Whether a leaf op has a hit that counts. */
static int
matcher_op_found(const struct matcher *m, const struct matcher_op *op)
{
	if (op->entity)
		return (m->entity_found[op->arg] & op->fields) != 0;
	return (matcher_found_any(m, op->arg) & op->fields) != 0;
}

static int matcher_run_ops(
    const struct matcher_eval *, const struct matcher_op *);

/* Whether NEAR op OP holds somewhere: one place will do. */
static int
matcher_near_holds(const struct matcher_eval *ev, const struct matcher_op *op)
{
	struct matcher_spans s;
	int r;

	matcher_spans_init(&s, 1);
	matcher_spans(ev, op, &s);
	r = s.n > 0;
	matcher_spans_free(&s);
	return r;
}

/* The value of op OP, a leaf (size 1) without a call. */
static inline int
matcher_run_op(const struct matcher_eval *ev, const struct matcher_op *op)
{
	return op->size == 1 ? matcher_op_found(ev->m, op)
			     : matcher_run_ops(ev, op);
}

/* Run a decision program: the value of the query for this item. */
static int
matcher_run_ops(const struct matcher_eval *ev, const struct matcher_op *op)
{
	const struct matcher_op *kid, *end = op + op->size;

	switch ((enum query_kind)op->kind) {
	case QUERY_WORD:
	case QUERY_PREFIX:
	case QUERY_ENTITY:
	case QUERY_REGEX:
		return matcher_op_found(ev->m, op);
	case QUERY_AND:
		for (kid = op + 1; kid < end; kid += kid->size)
			if (!matcher_run_op(ev, kid))
				return 0;
		return 1;
	case QUERY_OR:
		for (kid = op + 1; kid < end; kid += kid->size)
			if (matcher_run_op(ev, kid))
				return 1;
		return 0;
	case QUERY_NOT:
		return !matcher_run_op(ev, op + 1);
	case QUERY_NEAR:
		/* Positions are only worth finding when both sides hold
		 * somewhere: a side that is false has none. */
		for (kid = op + 1; kid < end; kid += kid->size)
			if (!matcher_run_op(ev, kid))
				return 0;
		return matcher_near_holds(ev, op);
	}
	return 0;
}

/* ---- explaining ---- */

struct matcher_picks {
	struct matcher_pick *v;
	size_t n, size;
	const struct matcher_spans *within; /* NEAR: only hits inside */
	struct matcher *m;
};

/* Make windows W searchable by matcher_within(): sorted by place, the
 * end of each raised to the furthest end of those before it in its
 * segment. */
static void
matcher_within_prepare(struct matcher_spans *w)
{
	size_t i;

	matcher_spans_sort(w);
	for (i = 1; i < w->n; i++)
		if (w->v[i].seg == w->v[i - 1].seg &&
		    w->v[i].te < w->v[i - 1].te)
			w->v[i].te = w->v[i - 1].te;
}

/* Whether hit H lies inside one of windows W (matcher_within_prepare()):
 * the last window to start at or before it ends at or after it. */
static int
matcher_within(const struct matcher_spans *w, const struct matcher_hitrec *h)
{
	size_t after = matcher_spans_find(w, h->seg, h->ts + 1);

	return after > 0 && w->v[after - 1].seg == h->seg &&
	    w->v[after - 1].te >= h->te;
}

static int
matcher_pick_cb(void *arg, const struct matcher_term *term, uint32_t hit)
{
	struct matcher_picks *p = arg;
	const struct matcher_hitrec *h = &p->m->hits[hit];

	if (p->within != NULL && !matcher_within(p->within, h))
		return 0;
	if (p->n == p->size) {
		p->size = p->size ? p->size * 2 : 16;
		p->v = xreallocarray(p->v, p->size, sizeof *p->v);
	}
	p->v[p->n].term = term->term;
	p->v[p->n].entity = term->entity;
	p->v[p->n].hit = hit;
	p->n++;
	return 0;
}

/* Pick the hits of every leaf of op OP. */
static void
matcher_pick_leaves(const struct matcher_eval *ev, const struct matcher_op *op,
    struct matcher_picks *picks)
{
	const struct matcher_op *end = op + op->size;

	for (; op < end; op++)
		if (op->size == 1)
			matcher_op_each(ev, op, matcher_pick_cb, picks);
}

/* The hits that make true op OP true (none under NOT). The program is
 * read in order, as deciding reads it, rather than the query tree. */
static void
matcher_pick(const struct matcher_eval *ev, const struct matcher_op *op,
    struct matcher_picks *picks)
{
	const struct matcher_op *kid, *end = op + op->size;
	struct matcher_spans s;

	switch ((enum query_kind)op->kind) {
	case QUERY_WORD:
	case QUERY_PREFIX:
	case QUERY_ENTITY:
	case QUERY_REGEX:
		matcher_op_each(ev, op, matcher_pick_cb, picks);
		return;
	case QUERY_AND: /* true: so is every part */
		for (kid = op + 1; kid < end; kid += kid->size)
			matcher_pick(ev, kid, picks);
		return;
	case QUERY_OR:
		for (kid = op + 1; kid < end; kid += kid->size)
			if (matcher_run_op(ev, kid))
				matcher_pick(ev, kid, picks);
		return;
	case QUERY_NOT:
		return;
	case QUERY_NEAR:
		matcher_spans_init(&s, MATCHER_MAX_SPANS);
		matcher_spans(ev, op, &s);
		matcher_within_prepare(&s);
		picks->within = &s;
		matcher_pick_leaves(ev, op, picks);
		picks->within = NULL;
		matcher_spans_free(&s);
		return;
	}
}

/* Any hit of LEAF's patterns, whatever the field. */
static unsigned
matcher_leaf_fields_found(
    const struct matcher_eval *ev, const struct matcher_leaf *leaf)
{
	struct matcher *m = ev->m;
	const uint32_t *pats = &leaf->pattern;
	size_t npats = 1, i, k;
	unsigned fields = 0;
	uint32_t p;

	if (leaf->entity != SIZE_MAX) {
		pats = m->entities[leaf->entity].patterns;
		npats = m->entities[leaf->entity].naliases;
	}
	for (i = 0; i < npats; i++) {
		p = pats[i];
		if (matcher_found_any(m, p) == 0) /* not hit in this item */
			continue;
		for (k = m->hot[p].first; k < m->hot[p].first + m->hot[p].count;
		     k++)
			fields |= m->segs[m->hits[m->order[k]].seg].field;
	}
	return fields;
}

static void
matcher_source(struct buf *b, const struct matcher_eval *ev,
    const struct query_node *n, const char *query)
{
	buf_printf(b, "'%.*s'", (int)n->len, query + n->pos);
}

/* Why false node N (OP in the program) is false. */
static void
matcher_explain_false(struct buf *b, const struct matcher_eval *ev,
    const struct query_node *n, const struct matcher_op *op, const char *query)
{
	struct matcher_picks picks = {0};
	const struct matcher_op *kid = op + 1;
	const struct matcher_leaf *leaf;
	const struct matcher_hitrec *h;
	unsigned found, f;
	size_t i;
	int first = 1;

	picks.m = ev->m;
	switch (n->kind) {
	case QUERY_WORD:
	case QUERY_PREFIX:
	case QUERY_ENTITY:
	case QUERY_REGEX:
		leaf = &ev->w->leaves[n->index];
		matcher_source(b, ev, n, query);
		found = matcher_leaf_fields_found(ev, leaf);
		if (found == 0) {
			buf_addstr(b, " not found");
			return;
		}
		if (!(found & leaf->fields)) {
			buf_addstr(b, " found only in");
			for (f = 1; f <= QUERY_FIELD_FEED; f <<= 1)
				if (found & f)
					buf_printf(
					    b, " %s", matcher_field_name(f));
			return;
		}
		/* found in its fields, but only inside longer aliases */
		buf_addstr(b, " found only as part of a longer name");
		return;
	case QUERY_AND:
		for (i = 0; i < n->nkids; i++, kid += kid->size) {
			if (matcher_run_op(ev, kid))
				continue;
			if (!first)
				buf_addstr(b, "; ");
			first = 0;
			matcher_explain_false(b, ev, n->kids[i], kid, query);
		}
		return;
	case QUERY_OR:
		buf_addstr(b, "none of ");
		matcher_source(b, ev, n, query);
		buf_addstr(b, " (");
		for (i = 0; i < n->nkids; i++, kid += kid->size) {
			if (i > 0)
				buf_addstr(b, "; ");
			matcher_explain_false(b, ev, n->kids[i], kid, query);
		}
		buf_addc(b, ')');
		return;
	case QUERY_NOT:
		matcher_source(b, ev, n->kids[0], query);
		buf_addstr(b, " is present and excluded by NOT");
		matcher_pick(ev, kid, &picks);
		if (picks.n > 0) {
			h = &ev->m->hits[picks.v[0].hit];
			buf_printf(b, " (%s %u-%u)",
			    matcher_field_name(ev->m->segs[h->seg].field),
			    h->start, h->end);
		}
		free(picks.v);
		return;
	case QUERY_NEAR:
		for (i = 0; i < 2; i++, kid += kid->size) {
			if (!matcher_run_op(ev, kid)) {
				matcher_explain_false(
				    b, ev, n->kids[i], kid, query);
				return;
			}
		}
		matcher_source(b, ev, n->kids[0], query);
		buf_addstr(b, " and ");
		matcher_source(b, ev, n->kids[1], query);
		buf_printf(b, " found, but never within %u words of each other",
		    n->distance);
		return;
	}
}

/* ---- results ---- */

/* Room for N more bytes of snippets. */
static void
matcher_snippets_reserve(struct matcher *m, size_t n)
{
	if (m->snippets_size - m->snippets_len >= n)
		return;
	m->snippets_size = (m->snippets_len + n) * 2;
	m->snippets = xreallocarray(m->snippets, m->snippets_size, 1);
}

/* White space, as a snippet folds it. */
static int
matcher_white(unsigned char c)
{
	return c <= ' ' && (c == ' ' || c == '\n' || c == '\t' || c == '\r');
}

/* Copy bytes [from, to) of TEXT to OUT + N, a run of white space as
 * one space (*SPACE: the last byte copied was one), or with PLAIN as
 * they are; returns the new N. */
static size_t
matcher_snippet_copy(char *out, size_t n, const char *text, size_t from,
    size_t to, int plain, int *space)
{
	size_t i;
	int white, was_white = *space;

	if (plain) {
		memcpy(out + n, text + from, to - from);
		return n + (to - from);
	}
	for (i = from; i < to; i++) {
		white = matcher_white((unsigned char)text[i]);
		/* written always, kept unless it follows white space */
		out[n] = white ? ' ' : text[i];
		n += !(white && was_white);
		was_white = white;
	}
	*space = was_white;
	return n;
}

#define MATCHER_BYTES(b) (0x0101010101010101ULL * (b))

/* Whether the N bytes at S hold white space other than single spaces
 * (a run, or a tab, CR or LF), sixteen bytes at a time where the
 * machine has SSE2, then eight at a time: the bytes that are spaces and
 * those under 0x20 are found with vector compares or exact bit tricks,
 * and the latter, rare in text, looked at one by one. */
static int
matcher_white_runs(const char *s, size_t n)
{
	const uint64_t high = MATCHER_BYTES(0x80), low = MATCHER_BYTES(0x7f);
	uint64_t x, y, sp, ctl;
	size_t i = 0, k;
	int prev_space = 0;
#ifdef __SSE2__
	const __m128i space = _mm_set1_epi8(' '), under = _mm_set1_epi8(0x1f);
	__m128i v;
	unsigned vsp, vctl;

	for (; i + 16 <= n; i += 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		vsp = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, space));
		/* b <= 0x1f: max(b, 0x1f) is 0x1f, unsigned */
		vctl = (unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(_mm_max_epu8(v, under), under));
		if ((vsp & (vsp >> 1)) != 0 || (prev_space && (vsp & 1)))
			return 1;
		for (; vctl != 0; vctl &= vctl - 1)
			if (matcher_white((unsigned char)
				    s[i + (size_t)__builtin_ctz(vctl)]))
				return 1;
		prev_space = (vsp >> 15) & 1;
	}
#endif
	for (; i + 8 <= n; i += 8) {
		memcpy(&x, s + i, 8);
		x = le64toh(x); /* byte i + k in bits 8k to 8k + 7 */
		y = x ^ MATCHER_BYTES(' '); /* spaces are 0 */
		sp = ~(((y & low) + low) | y) & high;
		/* under 0x20: (b & 0x7f) + 0x60 leaves the high bit clear */
		ctl = ~(((x & low) + MATCHER_BYTES(0x60)) | x) & high;
		if ((sp & (sp >> 8)) != 0 || (prev_space && (sp & 0x80) != 0))
			return 1;
		for (; ctl != 0; ctl &= ctl - 1) {
			k = (size_t)__builtin_ctzll(ctl) / 8;
			if (matcher_white((unsigned char)s[i + k]))
				return 1;
		}
		prev_space = (sp >> 63) != 0;
	}
	for (; i < n; i++) {
		if (matcher_white((unsigned char)s[i]) &&
		    (s[i] != ' ' || prev_space))
			return 1;
		prev_space = s[i] == ' ';
	}
	return 0;
}

/* Whether white space in segment S is only single ' ', which snippets
 * keep as it is; found out on the first snippet of S. */
static int
matcher_segment_plain(struct matcher_segment *s)
{
	if (s->plain == MATCHER_PLAIN_UNKNOWN)
		s->plain = matcher_white_runs(s->text, s->len)
		    ? MATCHER_PLAIN_NO
		    : MATCHER_PLAIN_YES;
	return s->plain == MATCHER_PLAIN_YES;
}

/*
 * Append the snippet of bytes [start, end) of segment S to m->snippets,
 * NUL-terminated; returns its offset there.
 */
static size_t
matcher_snippet(
    struct matcher *m, struct matcher_segment *s, size_t start, size_t end)
{
	static const char ellipsis[] = "\xe2\x80\xa6";
	const char *text = s->text;
	size_t len = s->len, from, to, i, n, at;
	char *out;
	int space = 0, plain = matcher_segment_plain(s);

	from = start > MATCHER_SNIPPET_CONTEXT ? start - MATCHER_SNIPPET_CONTEXT
					       : 0;
	to = end + MATCHER_SNIPPET_CONTEXT < len ? end + MATCHER_SNIPPET_CONTEXT
						 : len;
	while (from > 0 && ((unsigned char)text[from] & 0xC0) == 0x80)
		from--;
	while (to < len && ((unsigned char)text[to] & 0xC0) == 0x80)
		to++;
	/* cut at a space when there is one near the edge */
	for (i = from; from > 0 && i < start && i < from + 20; i++)
		if (text[i] == ' ') {
			from = i + 1;
			break;
		}
	for (i = to; to < len && i > end && i + 20 > to; i--)
		if (text[i - 1] == ' ') {
			to = i - 1;
			break;
		}
	matcher_snippets_reserve(m,
	    to - from + 2 * (sizeof ellipsis - 1) + sizeof MATCHER_MARK_OPEN +
		sizeof MATCHER_MARK_CLOSE + 1);
	at = m->snippets_len;
	out = m->snippets + at;
	n = 0;
	if (from > 0) {
		memcpy(out, ellipsis, sizeof ellipsis - 1);
		n += sizeof ellipsis - 1;
	}
	/* from <= start <= end <= to: the match is always marked, also
	 * an empty one at the end of the field (a regex's \K) */
	n = matcher_snippet_copy(out, n, text, from, start, plain, &space);
	memcpy(out + n, MATCHER_MARK_OPEN, sizeof MATCHER_MARK_OPEN - 1);
	n += sizeof MATCHER_MARK_OPEN - 1;
	n = matcher_snippet_copy(out, n, text, start, end, plain, &space);
	memcpy(out + n, MATCHER_MARK_CLOSE, sizeof MATCHER_MARK_CLOSE - 1);
	n += sizeof MATCHER_MARK_CLOSE - 1;
	n = matcher_snippet_copy(out, n, text, end, to, plain, &space);
	if (to < len) {
		memcpy(out + n, ellipsis, sizeof ellipsis - 1);
		n += sizeof ellipsis - 1;
	}
	out[n] = '\0';
	m->snippets_len += n + 1;
	return at;
}

/* The offset in m->snippets of the snippet of HIT, built on first use:
 * every watchlist that reports this hit shares it. */
static size_t
matcher_hit_snippet(struct matcher *m, uint32_t hit)
{
	const struct matcher_hitrec *h = &m->hits[hit];

	if (m->hit_snippet[hit] == 0)
		m->hit_snippet[hit] =
		    1 + matcher_snippet(m, &m->segs[h->seg], h->start, h->end);
	return m->hit_snippet[hit] - 1;
}

static int
matcher_pick_cmp(const void *va, const void *vb, void *arg)
{
	const struct matcher_pick *a = va, *b = vb;
	const struct matcher *m = arg;
	const struct matcher_hitrec *x = &m->hits[a->hit],
				    *y = &m->hits[b->hit];

	if (x->seg != y->seg)
		return x->seg < y->seg ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;
	return 0;
}

/* Sort PICKS by position, keeping the order of equal ones (qsort_r()
 * here is a merge sort); most matches have a few, sorted in place. */
static void
matcher_sort_picks(struct matcher *m, struct matcher_picks *picks)
{
	struct matcher_pick p;
	size_t i, j;

	if (picks->n > MATCHER_SMALL_SORT) {
		qsort_r(
		    picks->v, picks->n, sizeof *picks->v, matcher_pick_cmp, m);
		return;
	}
	for (i = 1; i < picks->n; i++) {
		p = picks->v[i];
		for (j = i;
		     j > 0 && matcher_pick_cmp(&picks->v[j - 1], &p, m) > 0;
		     j--)
			picks->v[j] = picks->v[j - 1];
		picks->v[j] = p;
	}
}

/* The hits of match MM from PICKS, appended to m->out_hits; their
 * snippets' offsets go to m->out_snippet. */
static void
matcher_fill_hits(
    struct matcher *m, struct matcher_match *mm, struct matcher_picks *picks)
{
	const struct matcher_hitrec *h, *prev = NULL;
	struct matcher_segment *s;
	const struct matcher_entity *e;
	struct matcher_hit *out;
	size_t i, k, n;

	matcher_sort_picks(m, picks);
	n = picks->n > MATCHER_MAX_MATCH_HITS ? MATCHER_MAX_MATCH_HITS
					      : picks->n;
	if (m->out_hits_size - m->nout_hits < n) {
		m->out_hits_size = (m->nout_hits + n) * 2;
		m->out_hits = xreallocarray(
		    m->out_hits, m->out_hits_size, sizeof *m->out_hits);
		m->out_snippet = xreallocarray(
		    m->out_snippet, m->out_hits_size, sizeof *m->out_snippet);
	}
	for (i = 0; i < picks->n; i++) {
		h = &m->hits[picks->v[i].hit];
		if (prev != NULL && prev->seg == h->seg &&
		    prev->start == h->start && prev->end == h->end)
			continue;
		prev = h;
		mm->nhits_total++;
		if (mm->nhits >= MATCHER_MAX_MATCH_HITS)
			continue;
		s = &m->segs[h->seg];
		m->out_snippet[m->nout_hits] =
		    matcher_hit_snippet(m, picks->v[i].hit);
		out = &m->out_hits[m->nout_hits++];
		mm->nhits++;
		memset(out, 0, sizeof *out);
		out->term = picks->v[i].term;
		if (s->field_name == NULL)
			s->field_name = matcher_field_name(s->field);
		out->field = s->field_name;
		out->category = s->category;
		out->start = h->start;
		out->end = h->end;
		if (picks->v[i].entity == SIZE_MAX)
			continue;
		e = &m->entities[picks->v[i].entity];
		out->entity = e->key;
		for (k = 0; k < e->naliases; k++)
			if (e->aliases[k].pattern == h->pattern) {
				out->alias = e->aliases[k].text;
				break;
			}
	}
}

static int
matcher_u32_cmp(const void *va, const void *vb)
{
	uint32_t a = *(const uint32_t *)va, b = *(const uint32_t *)vb;

	return a < b ? -1 : a > b;
}

/*
 * Decide every candidate watchlist from the hits. Those to report (the
 * matches, and with EXPLAIN the near misses) go to m->decided, in the
 * order of the watchlists, as index << 1 | matched.
 */
static void
matcher_decide(struct matcher *m, int flags)
{
	struct matcher_eval ev = {m, NULL};
	uintptr_t from, to;
	size_t i, j;
	uint32_t wi;
	int ok;

	m->ndecided = 0;
	/* the programs are far apart: ask for all of them first, each of
	 * their cache lines */
	for (i = 0; i < m->ncandidates; i++) {
		wi = m->candidates[i];
		from = (uintptr_t)&m->ops[m->wl_op_first[wi]] &
		    ~(uintptr_t)(MATCHER_LINE - 1);
		to = (uintptr_t)&m->ops[m->wl_op_first[wi + 1]];
		for (; from < to; from += MATCHER_LINE)
			__builtin_prefetch((const void *)from);
	}
	for (i = 0; i < m->ncandidates; i++) {
		wi = m->candidates[i];
		ev.w = &m->watchlists[wi];
		ok = matcher_run_ops(&ev, &m->ops[m->wl_op_first[wi]]);
		if (ok || (flags & MATCHER_RUN_EXPLAIN)) {
			m->decided[m->ndecided++] = wi << 1 | (uint32_t)ok;
			__builtin_prefetch(ev.w); /* explained next */
		}
	}
	if (m->ndecided > MATCHER_SMALL_SORT) {
		qsort(m->decided, m->ndecided, sizeof *m->decided,
		    matcher_u32_cmp);
		return;
	}
	for (i = 1; i < m->ndecided; i++) {
		wi = m->decided[i];
		for (j = i; j > 0 && m->decided[j - 1] > wi; j--)
			m->decided[j] = m->decided[j - 1];
		m->decided[j] = wi;
	}
}

/* Explain the decision OK of watchlist WI in MM: its hits, and for a
 * near miss what failed. */
static void
matcher_explain(
    struct matcher *m, struct matcher_match *mm, uint32_t wi, int ok)
{
	struct matcher_eval ev = {m, &m->watchlists[wi]};
	struct matcher_picks picks = {0};
	struct buf b;
	size_t i;

	picks.m = m;
	picks.v = m->picks;
	picks.size = m->picks_size;
	mm->watchlist = ev.w->name;
	mm->watchlist_index = wi;
	mm->matched = ok;
	if (ok) {
		matcher_pick(&ev, &m->ops[m->wl_op_first[wi]], &picks);
	} else {
		/* a near miss: what was found, and what failed */
		for (i = 0; i < ev.w->nleaves; i++)
			matcher_leaf_each(
			    &ev, &ev.w->leaves[i], matcher_pick_cb, &picks);
		buf_init(&b, 64 * 1024);
		matcher_explain_false(&b, &ev, ev.w->root,
		    &m->ops[m->wl_op_first[wi]], ev.w->query);
		mm->explain = buf_take(&b, NULL);
	}
	matcher_fill_hits(m, mm, &picks);
	m->picks = picks.v;
	m->picks_size = picks.size;
}

/* The result of the item: the matches of m->decided, with their hits
 * and snippets, built in the matcher's arrays and then copied into one
 * block, now that nothing moves. */
static struct matcher_result *
matcher_report(struct matcher *m)
{
	struct matcher_result *res;
	struct matcher_hit *hits;
	char *snippets;
	size_t i, j, k, size;

	m->nout_hits = 0;
	m->snippets_len = 0;
	if (m->hit_snippet_size < m->nhits + 1) {
		m->hit_snippet_size = (m->nhits + 1) * 2;
		m->hit_snippet = xreallocarray(m->hit_snippet,
		    m->hit_snippet_size, sizeof *m->hit_snippet);
	}
	memset(m->hit_snippet, 0, m->nhits * sizeof *m->hit_snippet);
	if (m->out_matches_size < m->ndecided) {
		m->out_matches_size = m->ndecided * 2;
		m->out_matches = xreallocarray(m->out_matches,
		    m->out_matches_size, sizeof *m->out_matches);
	}
	memset(m->out_matches, 0, m->ndecided * sizeof *m->out_matches);
	for (i = 0; i < m->ndecided; i++)
		matcher_explain(m, &m->out_matches[i], m->decided[i] >> 1,
		    (int)(m->decided[i] & 1));

	/* the sizes are multiples of the alignment of what follows them:
	 * a match and a hit hold pointers and size_t */
	size = sizeof *res + m->ndecided * sizeof *res->matches +
	    m->nout_hits * sizeof *hits;
	res = xmalloc(size + m->snippets_len);
	res->matches = (struct matcher_match *)(void *)(res + 1);
	res->nmatches = m->ndecided;
	res->truncated = 0;
	hits = (struct matcher_hit *)(void *)(res->matches + m->ndecided);
	snippets = (char *)res + size;
	memcpy(
	    res->matches, m->out_matches, m->ndecided * sizeof *res->matches);
	if (m->nout_hits > 0)
		memcpy(hits, m->out_hits, m->nout_hits * sizeof *hits);
	if (m->snippets_len > 0)
		memcpy(snippets, m->snippets, m->snippets_len);
	for (i = 0, k = 0; i < res->nmatches; i++) {
		res->matches[i].hits = hits + k;
		for (j = 0; j < res->matches[i].nhits; j++, k++)
			hits[k].snippet = snippets + m->out_snippet[k];
	}
	return res;
}

struct matcher_result *
matcher_run(struct matcher *m, const struct item *item, const char *feed_name,
    int flags)
{
	struct matcher_result *res;
	size_t i;

	if (!m->compiled)
		fatalx("%s: matcher not compiled", __func__);
	norm_reset(&m->norm);
	m->nsegs = 0;
	m->nhits = 0;
	m->nalias_hits = 0;
	m->truncated = 0;
	m->near_steps = 0;
	if (++m->gen == 0) { /* wrapped: forget every stamp */
		for (i = 0; i < m->npatterns; i++)
			m->hot[i].stamp = 0;
		m->gen = 1;
	}
	matcher_add_segment(m, QUERY_FIELD_TITLE, item->title_text, 0);
	matcher_add_segment(m, QUERY_FIELD_SUMMARY, item->summary_text, 0);
	matcher_add_segment(m, QUERY_FIELD_CONTENT, item->content_text, 0);
	matcher_add_segment(m, QUERY_FIELD_AUTHOR, item->author, 0);
	for (i = 0; i < item->ncategories; i++)
		matcher_add_segment(
		    m, QUERY_FIELD_CATEGORY, item->categories[i], i);
	matcher_add_segment(m, QUERY_FIELD_LINK, item->link, 0);
	matcher_add_segment(m, QUERY_FIELD_FEED, feed_name, 0);
	for (i = 0; i < m->nsegs; i++)
		matcher_scan_segment(m, i);
	for (i = 0; i < m->nregexes; i++)
		matcher_scan_regex(m, m->regexes[i]);
	matcher_suppress(m);
	matcher_index(m, flags & MATCHER_RUN_EXPLAIN);
	matcher_decide(m, flags);
	if (m->ndecided > 0)
		res = matcher_report(m);
	else
		res = xcalloc(1, sizeof *res);
	matcher_unindex(m);
	res->truncated = m->truncated;
	return res;
}

void
matcher_result_free(struct matcher_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->nmatches; i++)
		free(res->matches[i].explain);
	free(res); /* the block of matcher_report() */
}

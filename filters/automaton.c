/*
 * Aho-Corasick over token ids (A. V. Aho and M. J. Corasick, "Efficient
 * string matching: an aid to bibliographic search", CACM 18(6), 1975),
 * with the goto function in one hash table keyed by (state, token id),
 * a direct array for the root, failure links computed breadth first and
 * output sets flattened at compile time. Prefix patterns are looked up
 * by hash: a token's first L bytes for each length L some prefix has,
 * when a bit set of the prefixes' first bytes says one may be there;
 * below eight bytes, as one word in a table of their own. The prefixes
 * of the tokens the dictionary holds are found once, when compiled.
 *
 * The scan looks up every token of the text, so what it reads per token
 * is kept small whatever the number of patterns: the dictionary's table
 * holds 8 bytes a slot (part of the hash and where the token is; its
 * record, read only when the hash's part matches, holds beside its text
 * its id, its state from the root and that state's outputs, and its
 * prefix patterns), the goto table only edges below the root,
 * and a bit per state says whether it has any, so that a state that
 * ends a one-word pattern falls back without a lookup. A bit per token
 * says whether any such edge is on it: a token that is no phrase's
 * second or later word goes to its state from the root whatever the
 * state. For the others, a filter of the edges' keys turns most
 * lookups of a pair that is no edge away before the table is read. A large
 * dictionary also has a line per slot with what the record holds
 * (struct automaton_rec), asked for with the slot, tokens ahead.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "automaton.h"
#include "bitset.h"
#include "bytes.h"
#include "log.h"
#include "xmalloc.h"

#define AUTOMATON_NONE UINT32_MAX
#define AUTOMATON_EMPTY_KEY UINT64_MAX
#define AUTOMATON_PSTART 4096 /* entries of pstart, a power of two */
#define AUTOMATON_LINE 64 /* bytes of a cache line */
/* Bits of the goto table's filter (gobits) an edge below the root: at
 * most one lookup in sixteen of a pair that is no edge passes it. */
#define AUTOMATON_GOBITS 16

/* Open-addressing map from a 64-bit key to a 32-bit value. */
struct automaton_map {
	uint64_t *keys;
	uint32_t *values;
	size_t size; /* power of two */
	size_t count;
};

/* A slot of the dictionary's table. */
struct automaton_dict_slot {
	uint32_t tag; /* the hash's high half */
	uint32_t off; /* its token in dict_text; 0 = empty */
};

/*
 * A token in dict_text (4-byte aligned): the text follows. Once
 * compiled, it also holds what a scan reads after finding it (in a
 * large dictionary, a scan reads its struct automaton_rec): the prefix
 * patterns it starts with, tok_pout[pfirst, pfirst + pcount) (found
 * once, when compiled, instead of looked up at every occurrence); the
 * state it leads to from the root, and that state's outputs,
 * out[ofirst, ofirst + ocount).
 */
struct automaton_token {
	uint32_t id;
	uint32_t len;
	uint32_t pfirst;
	uint32_t pcount;
	uint32_t root;
	uint32_t ofirst;
	uint32_t ocount;
};

/*
 * What a scan reads of a token of the compiled dictionary, in a cache
 * line of recs: by the index of the token's slot in dict, so that its
 * address follows from the token's hash like the slot's, and both are
 * asked for a few tokens ahead (automaton_prefetch()), instead of the
 * record being found through the slot once it has come. It holds a
 * copy of the token's record and its first bytes, to check it: a token
 * is read in dict_text only past its first AUTOMATON_REC_TEXT bytes.
 */
#define AUTOMATON_REC_TEXT 32
/*
 * Slots from which a dictionary has recs (a table at most two thirds
 * full has them from 5,462 tokens): below, its slots and records come
 * to a few hundred kilobytes, which the second-level cache holds, so
 * that a record found through its slot is a short wait, and the scan
 * does not pay for asking for two lines a token. Recs cost 64 bytes a
 * slot, 96 to 192 bytes a token: 4 MB for the 23,871 tokens of 10,000
 * watchlists in the benchmark.
 */
#define AUTOMATON_RECS_MIN 16384
struct automaton_rec {
	struct automaton_token tok; /* a copy of the token's record */
	uint32_t off; /* the record in dict_text */
	char text[AUTOMATON_REC_TEXT];
};
_Static_assert(sizeof(struct automaton_rec) == AUTOMATON_LINE,
    "a token's rec is a cache line");
_Static_assert(AUTOMATON_REC_TEXT >= BYTES_PAD,
    "bytes_eq_padded() reads BYTES_PAD bytes of a rec's text");

struct automaton_edge {
	uint32_t from;
	uint32_t id;
	uint32_t to;
};

struct automaton_output {
	uint32_t state;
	uint32_t pattern;
};

/* A prefix of fewer than eight bytes in the prefix table: its key
 * (automaton_pkey()) and where its patterns are in pout. */
struct automaton_pslot {
	uint64_t key;
	uint32_t first;
	uint32_t count; /* 0: an empty slot */
};

struct automaton {
	/* token dictionary */
	struct automaton_dict_slot *dict;
	size_t dict_size; /* power of two */
	struct automaton_rec *recs; /* compiled: by slot of dict */
	uint32_t ntokens;
	char *dict_text;
	size_t dict_text_len;
	size_t dict_text_size;

	/* token trie */
	struct automaton_map go;
	struct automaton_edge *edges;
	size_t nedges;
	uint32_t nstates;
	uint32_t *fail;
	uint64_t *has_edges; /* bit per state: has edges in go */
	uint64_t *inner; /* bit per token id: an edge in go is on it */
	/* AUTOMATON_GOBITS bits (a power of two of them, 512 at least) an
	 * edge in go, each edge setting the bit its key's automaton_mix()
	 * names in its top bits: go is looked up only when it is set. */
	uint64_t *gobits;
	unsigned gobits_shift; /* 64 - log2(bits) */
	uint32_t *root_next; /* by token id, ntokens + 1 entries */
	struct automaton_output *own; /* building */
	size_t nown;
	uint32_t *out_start; /* nstates + 1 */
	uint32_t *out; /* flattened outputs */

	/* prefix patterns: their texts interned in pdict, the patterns of
	 * text I in pout[pout_start[I], pout_start[I + 1]), and the lengths
	 * in bytes of the texts, ascending and unique */
	struct automaton *pdict;
	struct automaton_output *pown; /* building: (text, pattern) */
	size_t npown;
	uint32_t *pout_start;
	uint32_t *pout;
	size_t *plens;
	size_t nplens;
	/* A token is looked at only for the lengths of the prefixes that
	 * start with its first two bytes (a prefix has at least two bytes:
	 * the matcher asks for two characters): pstart, by a hash of the
	 * two bytes (automaton_start()), holds bit I for plens[I] (bit 7:
	 * every length from plens[7] on). Its first L bytes are looked up
	 * only when their bit (automaton_pbit()) is set in pbits. */
	uint8_t pstart[AUTOMATON_PSTART];
	unsigned char pbits[65536 / 8];
	/* The prefixes of fewer than eight bytes, by key, open addressing
	 * from the top bits of the key's hash: a token's first L bytes are
	 * compared as one word, without hashing them again. */
	struct automaton_pslot *ptab;
	size_t ptab_size; /* power of two */
	unsigned ptab_shift; /* 64 - log2(ptab_size) */
	uint32_t *tok_pout; /* by token of the dictionary: see pfirst */

	int compiled;
};

/* Reads whole words, the last one overlapping when the length is not a
 * multiple of eight (the length is mixed in first): no byte loop, no
 * partial word through memory. */
static inline __attribute__((always_inline)) uint64_t
automaton_hash(const char *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n, v;
	const char *end = p + n;
	uint32_t lo, hi;

	if (n >= 8) {
		for (; end - p > 8; p += 8) {
			memcpy(&v, p, 8);
			h = (h ^ v) * 0xff51afd7ed558ccdULL;
			h ^= h >> 32;
		}
		memcpy(&v, end - 8, 8);
	} else if (n >= 4) {
		memcpy(&hi, p, 4);
		memcpy(&lo, end - 4, 4);
		v = (uint64_t)hi << 32 | lo;
	} else if (n > 0) {
		v = (uint64_t)(unsigned char)p[0] << 16 |
		    (uint64_t)(unsigned char)p[n / 2] << 8 |
		    (unsigned char)p[n - 1];
	} else
		v = 0;
	h = (h ^ v) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return h;
}

static uint64_t
automaton_mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

static void
automaton_map_init(struct automaton_map *m, size_t size)
{
	size_t i;

	m->size = size;
	m->count = 0;
	m->keys = xreallocarray(NULL, size, sizeof *m->keys);
	m->values = xreallocarray(NULL, size, sizeof *m->values);
	for (i = 0; i < size; i++)
		m->keys[i] = AUTOMATON_EMPTY_KEY;
}

static void
automaton_map_free(struct automaton_map *m)
{
	free(m->keys);
	free(m->values);
	memset(m, 0, sizeof *m);
}

/* The value of KEY, whose automaton_mix() is MIX. */
static uint32_t
automaton_map_find(const struct automaton_map *m, uint64_t key, uint64_t mix)
{
	size_t mask = m->size - 1, i;

	if (m->size == 0)
		return AUTOMATON_NONE;
	for (i = mix & mask;; i = (i + 1) & mask) {
		if (m->keys[i] == key)
			return m->values[i];
		if (m->keys[i] == AUTOMATON_EMPTY_KEY)
			return AUTOMATON_NONE;
	}
}

static uint32_t
automaton_map_get(const struct automaton_map *m, uint64_t key)
{
	return automaton_map_find(m, key, automaton_mix(key));
}

static void automaton_map_put(struct automaton_map *, uint64_t, uint32_t);

static void
automaton_map_grow(struct automaton_map *m)
{
	struct automaton_map old = *m;
	size_t i;

	automaton_map_init(m, old.size ? old.size * 2 : 64);
	for (i = 0; i < old.size; i++)
		if (old.keys[i] != AUTOMATON_EMPTY_KEY)
			automaton_map_put(m, old.keys[i], old.values[i]);
	automaton_map_free(&old);
}

static void
automaton_map_put(struct automaton_map *m, uint64_t key, uint32_t value)
{
	size_t mask, i;

	if ((m->count + 1) * 2 > m->size)
		automaton_map_grow(m);
	mask = m->size - 1;
	for (i = automaton_mix(key) & mask;; i = (i + 1) & mask) {
		if (m->keys[i] == key) {
			m->values[i] = value;
			return;
		}
		if (m->keys[i] == AUTOMATON_EMPTY_KEY) {
			m->keys[i] = key;
			m->values[i] = value;
			m->count++;
			return;
		}
	}
}

struct automaton *
automaton_new(void)
{
	struct automaton *a = xcalloc(1, sizeof *a);

	a->nstates = 1; /* the root */
	return a;
}

void
automaton_free(struct automaton *a)
{
	if (a == NULL)
		return;
	free(a->dict);
	free(a->recs);
	free(a->dict_text);
	automaton_map_free(&a->go);
	free(a->edges);
	free(a->fail);
	free(a->has_edges);
	free(a->inner);
	free(a->gobits);

	free(a->root_next);
	free(a->own);
	free(a->out_start);
	free(a->out);
	automaton_free(a->pdict);
	free(a->plens);
	free(a->pown);
	free(a->pout_start);
	free(a->pout);
	free(a->ptab);
	free(a->tok_pout);
	free(a);
}

/* The slot of token S (hash H): its own, or the empty one it would
 * take. */
static const struct automaton_token *
automaton_token_at(const struct automaton *a, uint32_t off)
{
	return (const struct automaton_token *)(void *)(a->dict_text + off);
}

/* The slot of token S (hash H): its own, or the empty one it would
 * take. */
static inline struct automaton_dict_slot *
automaton_dict_slot(
    const struct automaton *a, const char *s, size_t len, uint64_t h)
{
	size_t mask = a->dict_size - 1, i;
	uint32_t tag = (uint32_t)(h >> 32);
	struct automaton_dict_slot *e;
	const struct automaton_token *t;

	for (i = h & mask;; i = (i + 1) & mask) {
		e = &a->dict[i];
		if (e->off == 0)
			return e;
		if (e->tag != tag)
			continue;
		t = automaton_token_at(a, e->off);
		if (t->len == len && memcmp(t + 1, s, len) == 0)
			return e;
	}
}

static void
automaton_dict_grow(struct automaton *a)
{
	const struct automaton_token *t;
	uint64_t h;
	size_t off;

	free(a->dict);
	a->dict_size = a->dict_size ? a->dict_size * 2 : 256;
	a->dict = xcalloc(a->dict_size, sizeof *a->dict);
	for (off = sizeof *t; off < a->dict_text_len;
	     off += sizeof *t + ((t->len + 3) & ~(size_t)3)) {
		t = automaton_token_at(a, (uint32_t)off);
		h = automaton_hash((const char *)(t + 1), t->len);
		*automaton_dict_slot(a, (const char *)(t + 1), t->len, h) =
		    (struct automaton_dict_slot){
			(uint32_t)(h >> 32), (uint32_t)off};
	}
}

uint32_t
automaton_intern(struct automaton *a, const char *s, size_t len)
{
	struct automaton_dict_slot *e;
	struct automaton_token t;
	uint64_t h = automaton_hash(s, len);
	size_t need = sizeof t + ((len + 3) & ~(size_t)3);

	if (a->compiled)
		fatalx("%s: automaton already compiled", __func__);
	/* at most two thirds full */
	if (((size_t)a->ntokens + 1) * 3 > a->dict_size * 2)
		automaton_dict_grow(a);
	e = automaton_dict_slot(a, s, len, h);
	if (e->off != 0)
		return automaton_token_at(a, e->off)->id;
	if (a->dict_text_len == 0)
		a->dict_text_len = sizeof t; /* offset 0 means empty */
	if (a->dict_text_len + need > UINT32_MAX)
		fatalx("%s: too many tokens", __func__);
	if (a->dict_text_len + need > a->dict_text_size) {
		a->dict_text_size = (a->dict_text_len + need) * 2 + 256;
		a->dict_text =
		    xreallocarray(a->dict_text, a->dict_text_size, 1);
	}
	t.id = ++a->ntokens;
	t.len = (uint32_t)len;
	t.pfirst = t.pcount = 0;
	t.root = t.ofirst = t.ocount = 0;
	memcpy(a->dict_text + a->dict_text_len, &t, sizeof t);
	memcpy(a->dict_text + a->dict_text_len + sizeof t, s, len);
	memset(a->dict_text + a->dict_text_len + sizeof t + len, 0,
	    need - sizeof t - len);
	e->tag = (uint32_t)(h >> 32);
	e->off = (uint32_t)a->dict_text_len;
	a->dict_text_len += need;
	return t.id;
}

/* The token S (hash H) in the dictionary, or NULL. */
static const struct automaton_token *
automaton_find(const struct automaton *a, const char *s, size_t len, uint64_t h)
{
	const struct automaton_dict_slot *e;

	if (a->dict_size == 0)
		return NULL;
	e = automaton_dict_slot(a, s, len, h);
	return e->off == 0 ? NULL : automaton_token_at(a, e->off);
}

uint32_t
automaton_lookup(const struct automaton *a, const char *s, size_t len)
{
	const struct automaton_token *t =
	    automaton_find(a, s, len, automaton_hash(s, len));

	return t != NULL ? t->id : 0;
}

uint64_t
automaton_prefetch(const struct automaton *a, const char *s, size_t len)
{
	uint64_t h = automaton_hash(s, len);

	if (a->dict_size > 0)
		__builtin_prefetch(&a->dict[h & (a->dict_size - 1)]);
	if (a->recs != NULL)
		__builtin_prefetch(&a->recs[h & (a->dict_size - 1)]);
	return h;
}

/* The rec of token S (LEN bytes, hash H) in a compiled dictionary, or
 * NULL: its slot is found by the tag, then the token checked in the
 * rec, whose line the scan has asked for already. */
static inline const struct automaton_rec *
automaton_rec_find(
    const struct automaton *a, const char *s, size_t len, uint64_t h)
{
	size_t mask = a->dict_size - 1, i, n;
	uint32_t tag = (uint32_t)(h >> 32);
	const struct automaton_rec *r;
	const char *rest;

	for (i = h & mask;; i = (i + 1) & mask) {
		if (a->dict[i].off == 0)
			return NULL;
		if (a->dict[i].tag != tag)
			continue;
		r = &a->recs[i];
		n = len < AUTOMATON_REC_TEXT ? len : AUTOMATON_REC_TEXT;
		if (r->tok.len != len || !bytes_eq_padded(r->text, s, n))
			continue;
		if (len <= AUTOMATON_REC_TEXT)
			return r;
		rest = (const char *)(automaton_token_at(a, r->off) + 1);
		if (memcmp(rest + n, s + n, len - n) == 0)
			return r;
	}
}

static uint64_t
automaton_key(uint32_t state, uint32_t id)
{
	return (uint64_t)state << 32 | id;
}

void
automaton_add(
    struct automaton *a, const uint32_t *ids, size_t n, uint32_t pattern)
{
	uint32_t state = AUTOMATON_ROOT, next;
	size_t i;

	if (a->compiled)
		fatalx("%s: automaton already compiled", __func__);
	for (i = 0; i < n; i++) {
		next = automaton_map_get(&a->go, automaton_key(state, ids[i]));
		if (next == AUTOMATON_NONE) {
			next = a->nstates++;
			automaton_map_put(
			    &a->go, automaton_key(state, ids[i]), next);
			a->edges = xreallocarray(
			    a->edges, a->nedges + 1, sizeof *a->edges);
			a->edges[a->nedges].from = state;
			a->edges[a->nedges].id = ids[i];
			a->edges[a->nedges].to = next;
			a->nedges++;
		}
		state = next;
	}
	a->own = xreallocarray(a->own, a->nown + 1, sizeof *a->own);
	a->own[a->nown].state = state;
	a->own[a->nown].pattern = pattern;
	a->nown++;
}

/* The entry of pstart for the first two bytes of S. */
static size_t
automaton_start(const char *s)
{
	uint32_t two =
	    (uint32_t)((unsigned char)s[0] << 8 | (unsigned char)s[1]);

	return (two * 0x9E3779B1u >> 16) & (AUTOMATON_PSTART - 1);
}

/* The first eight bytes of S (LEN of them), zero-padded, byte I in bits
 * 8I to 8I + 7 whatever the machine's byte order: whole loads, the
 * second overlapping the first when LEN is 4 to 7. */
static uint64_t
automaton_word(const char *s, size_t len)
{
	uint64_t w = 0;
	uint32_t lo, hi;
	size_t i;

	if (len >= 8) {
		memcpy(&w, s, 8);
		return le64toh(w);
	}
	if (len >= 4) {
		memcpy(&lo, s, 4);
		memcpy(&hi, s + len - 4, 4);
		return (uint64_t)le32toh(lo) |
		    (uint64_t)le32toh(hi) << (8 * (len - 4));
	}
	for (i = 0; i < len; i++)
		w |= (uint64_t)(unsigned char)s[i] << (8 * i);
	return w;
}

/* The key of the first L bytes of a text, from W, its first eight bytes
 * (automaton_word()): the bytes, and L in the top five bits. Below
 * eight bytes no two texts have the same key; a longer one is told only
 * by its first eight bytes and its length. */
static uint64_t
automaton_pkey(uint64_t w, size_t l)
{
	if (l < 8)
		w &= ((uint64_t)1 << (8 * l)) - 1;
	return w ^ (uint64_t)l << 59;
}

/* The hash of a key: its top 16 bits are its bit in pbits, its top
 * bits its place in ptab. One multiplication. */
static uint64_t
automaton_phash(uint64_t key)
{
	return key * 0x9E3779B97F4A7C15ULL;
}

/* The bit in pbits of the first L bytes of a text. */
static uint16_t
automaton_pbit(uint64_t w, size_t l)
{
	return (uint16_t)(automaton_phash(automaton_pkey(w, l)) >> 48);
}

static void
automaton_bit_set(unsigned char *set, uint16_t bit)
{
	set[bit >> 3] |= (unsigned char)(1 << (bit & 7));
}

static int
automaton_bit(const unsigned char *set, uint16_t bit)
{
	return (set[bit >> 3] >> (bit & 7)) & 1;
}

void
automaton_add_prefix(
    struct automaton *a, const char *s, size_t len, uint32_t pattern)
{
	size_t i;

	if (a->compiled)
		fatalx("%s: automaton already compiled", __func__);
	if (len < 2)
		fatalx("%s: a prefix needs two bytes", __func__);
	automaton_bit_set(
	    a->pbits, automaton_pbit(automaton_word(s, len), len));
	if (a->pdict == NULL)
		a->pdict = automaton_new();
	a->pown = xreallocarray(a->pown, a->npown + 1, sizeof *a->pown);
	a->pown[a->npown].state = automaton_intern(a->pdict, s, len);
	a->pown[a->npown].pattern = pattern;
	a->npown++;
	for (i = 0; i < a->nplens && a->plens[i] < len; i++)
		;
	if (i < a->nplens && a->plens[i] == len)
		return;
	a->plens = xreallocarray(a->plens, a->nplens + 1, sizeof *a->plens);
	memmove(
	    a->plens + i + 1, a->plens + i, (a->nplens - i) * sizeof *a->plens);
	a->plens[i] = len;
	a->nplens++;
}

static int
automaton_output_cmp(const void *va, const void *vb)
{
	const struct automaton_output *a = va, *b = vb;

	if (a->state != b->state)
		return a->state < b->state ? -1 : 1;
	if (a->pattern != b->pattern)
		return a->pattern < b->pattern ? -1 : 1;
	return 0;
}

static int
automaton_edge_cmp(const void *va, const void *vb)
{
	const struct automaton_edge *a = va, *b = vb;

	if (a->from != b->from)
		return a->from < b->from ? -1 : 1;
	return 0;
}

/* Group the (state, pattern) pairs into a CSR table of NSTATES rows. */
static void
automaton_group(struct automaton_output *own, size_t nown, uint32_t nstates,
    uint32_t **start, uint32_t **out)
{
	size_t i;

	if (nown > 0)
		qsort(own, nown, sizeof *own, automaton_output_cmp);
	*start = xcalloc((size_t)nstates + 1, sizeof **start);
	*out = xreallocarray(NULL, nown + 1, sizeof **out);
	for (i = 0; i < nown; i++) {
		(*start)[own[i].state + 1]++;
		(*out)[i] = own[i].pattern;
	}
	for (i = 0; i < nstates; i++)
		(*start)[i + 1] += (*start)[i];
}

/* Keep in go only the edges below the root (the root has root_next),
 * and note which states have any and which tokens they are on. */
static void
automaton_compile_go(struct automaton *a)
{
	size_t i, n = 0, bits = 512;
	uint64_t key;

	for (i = 0; i < a->nedges; i++)
		n += a->edges[i].from != AUTOMATON_ROOT;
	while (bits < AUTOMATON_GOBITS * n)
		bits *= 2;
	a->gobits_shift = 64 - (unsigned)__builtin_ctzll(bits);
	a->gobits = xcalloc(bits / 64, sizeof *a->gobits);
	automaton_map_free(&a->go);
	a->has_edges =
	    xcalloc((size_t)a->nstates / 64 + 1, sizeof *a->has_edges);
	a->inner = xcalloc((size_t)a->ntokens / 64 + 1, sizeof *a->inner);
	for (i = 0; i < a->nedges; i++) {
		if (a->edges[i].from == AUTOMATON_ROOT)
			continue;
		key = automaton_key(a->edges[i].from, a->edges[i].id);
		automaton_map_put(&a->go, key, a->edges[i].to);
		bitset_set(a->gobits, automaton_mix(key) >> a->gobits_shift);
		bitset_set(a->has_edges, a->edges[i].from);
		bitset_set(a->inner, a->edges[i].id);
	}
}

/* Note the lengths of the prefixes by their first two bytes in pstart,
 * and put those of fewer than eight bytes in ptab, at most half full. */
static void
automaton_compile_prefixes(struct automaton *a)
{
	const struct automaton *d = a->pdict;
	const struct automaton_token *t;
	struct automaton_pslot *slot;
	uint64_t key;
	size_t off, i, bits = 4;

	while (((size_t)1 << bits) < 2 * (size_t)d->ntokens)
		bits++;
	a->ptab_size = (size_t)1 << bits;
	a->ptab_shift = (unsigned)(64 - bits);
	a->ptab = xcalloc(a->ptab_size, sizeof *a->ptab);
	for (off = sizeof *t; off < d->dict_text_len;
	     off += sizeof *t + ((t->len + 3) & ~(size_t)3)) {
		t = automaton_token_at(d, (uint32_t)off);
		for (i = 0; a->plens[i] != t->len; i++)
			;
		a->pstart[automaton_start((const char *)(t + 1))] |=
		    (uint8_t)(1 << (i < 7 ? i : 7));
		if (t->len >= 8)
			continue;
		key = automaton_pkey(
		    automaton_word((const char *)(t + 1), t->len), t->len);
		i = automaton_phash(key) >> a->ptab_shift;
		while (a->ptab[i].count != 0)
			i = (i + 1) & (a->ptab_size - 1);
		slot = &a->ptab[i];
		slot->key = key;
		slot->first = a->pout_start[t->id];
		slot->count = a->pout_start[t->id + 1] - slot->first;
	}
}

/* What each token of the dictionary holds once compiled (struct
 * automaton_token): its prefix patterns, found as automaton_prefixes()
 * finds them for any token, and its state from the root. */
static void
automaton_compile_tokens(struct automaton *a)
{
	struct automaton_token *t;
	size_t off, n, total = 0;

	for (off = sizeof *t; off < a->dict_text_len;
	     off += sizeof *t + ((t->len + 3) & ~(size_t)3)) {
		t = (struct automaton_token *)(void *)(a->dict_text + off);
		n = automaton_prefixes(
		    a, (const char *)(t + 1), t->len, NULL, 0);
		if (total + n > UINT32_MAX)
			fatalx("%s: too many prefixes", __func__);
		t->pfirst = (uint32_t)total;
		t->pcount = (uint32_t)n;
		total += n;
		t->root = a->root_next[t->id];
		t->ofirst = a->out_start[t->root];
		t->ocount = a->out_start[t->root + 1] - t->ofirst;
	}
	a->tok_pout = xreallocarray(NULL, total + 1, sizeof *a->tok_pout);
	for (off = sizeof *t; off < a->dict_text_len;
	     off += sizeof *t + ((t->len + 3) & ~(size_t)3)) {
		t = (struct automaton_token *)(void *)(a->dict_text + off);
		if (t->pcount > 0)
			automaton_prefixes(a, (const char *)(t + 1), t->len,
			    a->tok_pout + t->pfirst, t->pcount);
	}
}

/* The recs of the compiled dictionary, by slot, when it is large (see
 * struct automaton_rec). */
static void
automaton_compile_recs(struct automaton *a)
{
	const struct automaton_token *t;
	struct automaton_rec *r;
	size_t i;

	if (a->dict_size < AUTOMATON_RECS_MIN)
		return;
	if (a->dict_size > SIZE_MAX / sizeof *a->recs ||
	    (a->recs = aligned_alloc(
		 AUTOMATON_LINE, a->dict_size * sizeof *a->recs)) == NULL)
		fatal("%s: %zu recs", __func__, a->dict_size);
	memset(a->recs, 0, a->dict_size * sizeof *a->recs);
	for (i = 0; i < a->dict_size; i++) {
		if (a->dict[i].off == 0)
			continue;
		t = automaton_token_at(a, a->dict[i].off);
		r = &a->recs[i];
		r->tok = *t;
		r->off = a->dict[i].off;
		memcpy(r->text, t + 1,
		    t->len < AUTOMATON_REC_TEXT ? t->len : AUTOMATON_REC_TEXT);
	}
}

void
automaton_compile(struct automaton *a)
{
	uint32_t *queue, *child_start, *own_start, *own_out, s, t, f, g;
	uint32_t *flat;
	size_t head = 0, tail = 0, i, e, nflat = 0, flat_size;

	if (a->compiled)
		return;
	a->compiled = 1;
	a->root_next = xcalloc((size_t)a->ntokens + 1, sizeof *a->root_next);
	a->fail = xcalloc(a->nstates, sizeof *a->fail);
	if (a->nedges > 0)
		qsort(
		    a->edges, a->nedges, sizeof *a->edges, automaton_edge_cmp);
	child_start = xcalloc((size_t)a->nstates + 1, sizeof *child_start);
	for (i = 0; i < a->nedges; i++)
		child_start[a->edges[i].from + 1]++;
	for (i = 0; i < a->nstates; i++)
		child_start[i + 1] += child_start[i];
	automaton_group(a->own, a->nown, a->nstates, &own_start, &own_out);

	/* Breadth first: a state's failure link and outputs depend only on
	 * shallower states. */
	queue = xreallocarray(NULL, a->nstates, sizeof *queue);
	flat_size = a->nown + 16;
	flat = xreallocarray(NULL, flat_size, sizeof *flat);
	queue[tail++] = AUTOMATON_ROOT;
	while (head < tail) {
		s = queue[head++];
		for (e = child_start[s]; e < child_start[s + 1]; e++) {
			t = a->edges[e].to;
			if (s == AUTOMATON_ROOT) {
				a->root_next[a->edges[e].id] = t;
				a->fail[t] = AUTOMATON_ROOT;
			} else {
				f = a->fail[s];
				g = AUTOMATON_NONE;
				for (;;) {
					if (f == AUTOMATON_ROOT) {
						g = a->root_next[a->edges[e]
								     .id];
						break;
					}
					g = automaton_map_get(&a->go,
					    automaton_key(f, a->edges[e].id));
					if (g != AUTOMATON_NONE)
						break;
					f = a->fail[f];
				}
				a->fail[t] = g == AUTOMATON_NONE ? 0 : g;
			}
			queue[tail++] = t;
		}
	}
	/* Outputs in BFS order: own, then those of the failure state. */
	a->out_start = xcalloc((size_t)a->nstates + 1, sizeof *a->out_start);
	{
		uint32_t *begin = xcalloc(a->nstates, sizeof *begin);
		uint32_t *count = xcalloc(a->nstates, sizeof *count);
		size_t k;

		for (i = 0; i < tail; i++) {
			s = queue[i];
			begin[s] = (uint32_t)nflat;
			for (k = own_start[s]; k < own_start[s + 1]; k++) {
				if (nflat == flat_size) {
					flat_size *= 2;
					flat = xreallocarray(
					    flat, flat_size, sizeof *flat);
				}
				flat[nflat++] = own_out[k];
			}
			if (s != AUTOMATON_ROOT) {
				f = a->fail[s];
				for (k = 0; k < count[f]; k++) {
					if (nflat == flat_size) {
						flat_size *= 2;
						flat = xreallocarray(flat,
						    flat_size, sizeof *flat);
					}
					flat[nflat++] = flat[begin[f] + k];
				}
			}
			count[s] = (uint32_t)(nflat - begin[s]);
		}
		/* Lay them out by state number for the lookup. */
		a->out = xreallocarray(NULL, nflat + 1, sizeof *a->out);
		for (s = 0; s < a->nstates; s++)
			a->out_start[s + 1] = a->out_start[s] + count[s];
		for (s = 0; s < a->nstates; s++)
			if (count[s] > 0)
				memcpy(a->out + a->out_start[s],
				    flat + begin[s], count[s] * sizeof *flat);
		free(begin);
		free(count);
	}
	free(flat);
	free(queue);
	free(child_start);
	free(own_start);
	free(own_out);
	free(a->own);
	a->own = NULL;
	automaton_compile_go(a);
	free(a->edges);
	a->edges = NULL;

	if (a->pdict != NULL) {
		automaton_group(a->pown, a->npown, a->pdict->ntokens + 1,
		    &a->pout_start, &a->pout);
		automaton_compile_prefixes(a);
	}
	free(a->pown);
	a->pown = NULL;
	automaton_compile_tokens(a);
	automaton_compile_recs(a);
}

/* automaton_next() for a token ID that has one, whose state from the
 * root is ROOT. */
static inline uint32_t
automaton_next_id(
    const struct automaton *a, uint32_t state, uint32_t id, uint32_t root)
{
	uint64_t key, mix;
	uint32_t t;

	/* a token no edge below the root is on goes to ROOT from any state */
	if (!bitset_get(a->inner, id))
		return root;
	for (;;) {
		if (state == AUTOMATON_ROOT)
			return root;
		if (bitset_get(a->has_edges, state)) {
			key = automaton_key(state, id);
			mix = automaton_mix(key);
			if (bitset_get(a->gobits, mix >> a->gobits_shift) &&
			    (t = automaton_map_find(&a->go, key, mix)) !=
				AUTOMATON_NONE)
				return t;
		}
		state = a->fail[state];
	}
}

uint32_t
automaton_next(const struct automaton *a, uint32_t state, uint32_t id)
{
	if (id == 0)
		return AUTOMATON_ROOT;
	return automaton_next_id(a, state, id, a->root_next[id]);
}

/* automaton_step() for token T, which the dictionary holds. */
static inline uint32_t
automaton_step_to(const struct automaton *a, uint32_t state,
    const struct automaton_token *t, struct automaton_step *step)
{
	step->prefixes = a->tok_pout + t->pfirst;
	step->nprefixes = t->pcount;
	state = automaton_next_id(a, state, t->id, t->root);
	if (state == t->root) {
		step->outs = a->out + t->ofirst;
		step->nouts = t->ocount;
	} else
		step->outs = automaton_outputs(a, state, &step->nouts);
	return state;
}

uint32_t
automaton_step(const struct automaton *a, uint32_t state, const char *s,
    size_t len, uint64_t hash, struct automaton_step *step)
{
	const struct automaton_rec *r;
	const struct automaton_token *t = NULL;

	if (!a->compiled)
		fatalx("%s: automaton not compiled", __func__);
	if (a->recs != NULL) {
		if ((r = automaton_rec_find(a, s, len, hash)) != NULL)
			t = &r->tok;
	} else
		t = automaton_find(a, s, len, hash);
	if (t != NULL)
		return automaton_step_to(a, state, t, step);
	step->outs = a->out;
	step->nouts = 0;
	step->prefixes = NULL;
	step->nprefixes = 0;
	return AUTOMATON_ROOT;
}

const uint32_t *
automaton_outputs(const struct automaton *a, uint32_t state, size_t *n)
{
	*n = a->out_start[state + 1] - a->out_start[state];
	return a->out + a->out_start[state];
}

int
automaton_has_prefixes(const struct automaton *a)
{
	return a->pdict != NULL;
}

/* automaton_prefixes() for a token whose first two bytes start prefixes
 * of the lengths LENS (an entry of pstart). Not inlined: most tokens
 * are turned down before, and do not pay for what this one saves and
 * restores. */
static __attribute__((noinline)) size_t
automaton_prefixes_of(const struct automaton *a, const char *token, size_t len,
    unsigned lens, uint32_t *out, size_t max)
{
	const struct automaton_pslot *slot;
	uint64_t w, key, h;
	uint32_t id, first, count, k;
	size_t i, j, l, n = 0;

	w = automaton_word(token, len);
	for (i = 0; i < a->nplens && (l = a->plens[i]) <= len; i++) {
		if (!(lens >> (i < 7 ? i : 7) & 1))
			continue;
		key = automaton_pkey(w, l);
		h = automaton_phash(key);
		if (!automaton_bit(a->pbits, (uint16_t)(h >> 48)))
			continue;
		first = count = 0;
		if (l < 8) {
			for (j = h >> a->ptab_shift;;
			     j = (j + 1) & (a->ptab_size - 1)) {
				slot = &a->ptab[j];
				if (slot->count == 0)
					break;
				if (slot->key == key) {
					first = slot->first;
					count = slot->count;
					break;
				}
			}
		} else {
			id = automaton_lookup(a->pdict, token, l);
			first = a->pout_start[id];
			count = a->pout_start[id + 1] - first;
		}
		for (k = 0; k < count; k++) {
			if (n < max)
				out[n] = a->pout[first + k];
			n++;
		}
	}
	return n;
}

size_t
automaton_prefixes(const struct automaton *a, const char *token, size_t len,
    uint32_t *out, size_t max)
{
	unsigned lens;

	if (a->pdict == NULL || len < a->plens[0] ||
	    (lens = a->pstart[automaton_start(token)]) == 0)
		return 0;
	return automaton_prefixes_of(a, token, len, lens, out, max);
}

size_t
automaton_nstates(const struct automaton *a)
{
	return a->nstates;
}

size_t
automaton_ntokens(const struct automaton *a)
{
	return a->ntokens;
}

size_t
automaton_nrecs(const struct automaton *a)
{
	return a->recs != NULL ? a->dict_size : 0;
}

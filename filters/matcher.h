/*
 * The matcher: entities and watchlists compiled into one automaton, run
 * over items, with an explanation of every hit and near miss.
 *
 * Building: matcher_new(), then matcher_add_entity()/matcher_add_alias()
 * for every entity, then matcher_add_watchlist() for every watchlist
 * (an @entity must exist when the watchlist is added), then
 * matcher_compile() once. A compiled matcher is only read by
 * matcher_run(), except for its scratch space: one thread at a time.
 *
 * Matching: every literal term (word, phrase, prefix*) and every alias
 * of every entity is a pattern of the one automaton; an item's fields
 * are normalized and scanned once; /regex/ terms run once each per
 * field they name; then only the watchlists whose patterns were hit are
 * decided, from the hits. A query that could match an item holding none
 * of its terms ("NOT x"), and a regex that can match empty text, are
 * refused, which is what makes that correct.
 *
 * Entities: built-in countries (see countries.h) unless MATCHER_NO_
 * COUNTRIES; matcher_add_entity() with the key of an existing entity adds
 * to it. An alias of one to four letters, all capitals ("IS", "UN",
 * "U.S.") is case-sensitive unless given MATCHER_CASE_INSENSITIVE; every
 * other alias is case- and accent-insensitive unless given
 * MATCHER_CASE_SENSITIVE. Where the hits of two aliases overlap, the
 * longer one wins ("Papua New Guinea" is not also @guinea).
 */
#ifndef MATCHER_H
#define MATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "item.h"

/* matcher_new() flags */
#define MATCHER_NO_JIT 0x1 /* never JIT-compile regexes */
#define MATCHER_NO_COUNTRIES 0x2 /* no built-in country entities */

/* matcher_add_alias() case modes */
#define MATCHER_CASE_AUTO 0
#define MATCHER_CASE_SENSITIVE 1
#define MATCHER_CASE_INSENSITIVE 2

/* matcher_run() flags */
#define MATCHER_RUN_EXPLAIN 0x1 /* also report near misses */

/* How a snippet marks the matched text. */
#define MATCHER_MARK_OPEN "\xc2\xab" /* « */
#define MATCHER_MARK_CLOSE "\xc2\xbb" /* » */

struct matcher;

struct matcher_hit {
	const char *term; /* the term as written in the query */
	const char *entity; /* the entity's key, or NULL */
	const char *alias; /* the alias that matched, or NULL */
	const char *field; /* "title", "summary", "content", "author",
			      "category", "link" or "feed" */
	size_t category; /* which category, when field is "category" */
	size_t start; /* bytes [start, end) of the field's original text */
	size_t end;
	char *snippet; /* the text around it, match marked « » */
};

struct matcher_match {
	const char *watchlist;
	size_t watchlist_index; /* in the order added */
	int matched; /* 0: a near miss (MATCHER_RUN_EXPLAIN only) */
	struct matcher_hit *hits; /* what matched (and, for a near miss,
				     what was found) */
	size_t nhits;
	size_t nhits_total; /* before the cap on hits per match */
	char *explain; /* a near miss: which part of the query failed */
};

struct matcher_result {
	struct matcher_match *matches; /* by watchlist_index */
	size_t nmatches;
	int truncated; /* the item had more hits than are examined */
};

struct matcher *matcher_new(int flags);
void matcher_free(struct matcher *);

/*
 * Create the entity KEY, or add to the one that has that key. NAME (may
 * be NULL) is matched like an alias. COUNTRY (may be NULL) names a
 * built-in country by ISO code: KEY then becomes one more key of that
 * country. Returns 0, or -1 and *cause.
 */
int matcher_add_entity(struct matcher *, const char *key, const char *name,
    const char *country, char **cause);
/* Add an alias (MATCHER_CASE_*) to the entity KEY. */
int matcher_add_alias(struct matcher *, const char *key, const char *alias,
    int case_mode, char **cause);
/*
 * Add a watchlist. On error returns -1 with *errpos the byte offset in
 * QUERY and *cause "column N: what was expected".
 */
int matcher_add_watchlist(struct matcher *, const char *name, const char *query,
    size_t *errpos, char **cause);
int matcher_compile(struct matcher *, char **cause);

/* The watchlists (those that matched, and near misses with
 * MATCHER_RUN_EXPLAIN) of ITEM read from the feed FEED_NAME (may be
 * NULL). Strings in the result point into the matcher, except snippets
 * and explanations, which the result holds (the hits of several matches
 * that are the same hit share one snippet); free it, and nothing in it,
 * with matcher_result_free(). */
struct matcher_result *matcher_run(
    struct matcher *, const struct item *, const char *feed_name, int flags);
void matcher_result_free(struct matcher_result *);

/* Introspection for tests and benchmarks. */
size_t matcher_npatterns(const struct matcher *);
size_t matcher_nregex_jit(const struct matcher *);
size_t matcher_nwatchlists(const struct matcher *);
/* For tests: where the matcher keeps what it found of a token it does
 * not know, by the token's hash (automaton_prefetch()); tokens of the
 * same place take it from each other. */
size_t matcher_pmemo_slot(uint64_t hash);

#endif

/*
 * The watchlist query language: parsed into a tree, checked for syntax
 * only (entities, regexes and words are resolved by the matcher). The
 * grammar is in docs/watchlists.md.
 */
#ifndef QUERY_H
#define QUERY_H

#include <stddef.h>

/* Caps on a query (outside input: the configuration). */
#define QUERY_MAX_LEN 8192 /* bytes */
#define QUERY_MAX_DEPTH 32 /* nested parentheses and NOTs */
#define QUERY_MAX_TERMS 256 /* words, phrases, entities, regexes */
#define QUERY_MAX_NEAR 1000 /* the n of NEAR/n */

/* Fields of an item, as a bit mask. */
#define QUERY_FIELD_TITLE 0x01
#define QUERY_FIELD_SUMMARY 0x02
#define QUERY_FIELD_CONTENT 0x04
#define QUERY_FIELD_AUTHOR 0x08
#define QUERY_FIELD_CATEGORY 0x10
#define QUERY_FIELD_LINK 0x20
#define QUERY_FIELD_FEED 0x40
#define QUERY_NFIELDS 7
#define QUERY_FIELD_DEFAULT                                                    \
	(QUERY_FIELD_TITLE | QUERY_FIELD_SUMMARY | QUERY_FIELD_CONTENT)

enum query_kind {
	QUERY_WORD, /* a word or "phrase": text */
	QUERY_PREFIX, /* prefix*: text without the star */
	QUERY_ENTITY, /* @name: text is the name */
	QUERY_REGEX, /* /source/flags: text, flags */
	QUERY_AND,
	QUERY_OR,
	QUERY_NOT, /* one child */
	QUERY_NEAR, /* two children, distance */
};

struct query_node {
	enum query_kind kind;
	unsigned fields; /* leaves: QUERY_FIELD_* mask, never 0 */
	char *text; /* leaves */
	char *flags; /* regex flags as written */
	unsigned distance; /* NEAR */
	size_t pos; /* byte offset of the node in the query */
	size_t len; /* and its length: the term as written */
	size_t text_pos; /* leaves: byte offset of text in the query */
	struct query_node **kids;
	size_t nkids;
	size_t index; /* free for the caller (the matcher numbers leaves) */
};

/*
 * Parse QUERY (LEN bytes). On error returns NULL, sets *errpos to the
 * byte offset of the problem and *cause (owned by the caller) to
 * "column N: expected X, found Y".
 */
struct query_node *query_parse(
    const char *query, size_t len, size_t *errpos, char **cause);
void query_free(struct query_node *);
/* "title", ..., or NULL for a mask of more than one field. */
const char *query_field_name(unsigned field);
/* Whether a node yields word positions (for NEAR): a leaf, or OR and
 * NEAR of such nodes. */
int query_is_positional(const struct query_node *);
/* Print the tree as a fully parenthesized string (tests, --explain). */
char *query_format(const struct query_node *);

#endif

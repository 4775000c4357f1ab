/*
 * The multi-pattern automaton: Aho-Corasick over normalized tokens.
 *
 * Every distinct token of every pattern gets an id (1, 2, ...); a
 * pattern is a sequence of ids (a word is a sequence of one). Text is
 * scanned token by token: automaton_lookup() gives a token's id (0 for
 * a token no pattern holds, which sends the scan back to the root) and
 * automaton_next() the next state, whose outputs are the patterns that
 * end at that token. Prefix patterns ("ira*") are found by looking the
 * token's first bytes up in a dictionary of their own, once for each
 * length a prefix has, or, for a token that has an id, read with it
 * (automaton_step()). The work per token does not depend on how many
 * patterns there are, only on how many lengths the prefixes have (the
 * time does: larger tables miss the cache more).
 *
 * Build with automaton_intern/add/add_prefix, then automaton_compile()
 * once; after that the automaton is read-only and may be shared.
 */
#ifndef AUTOMATON_H
#define AUTOMATON_H

#include <stddef.h>
#include <stdint.h>

#define AUTOMATON_ROOT 0

struct automaton;

struct automaton *automaton_new(void);
void automaton_free(struct automaton *);
/* The id of a normalized token, created if new. */
uint32_t automaton_intern(struct automaton *, const char *, size_t);
/* The id of a token, or 0 when no pattern holds it. */
uint32_t automaton_lookup(const struct automaton *, const char *, size_t);
/*
 * A scan's step, for a scan that knows the tokens ahead: a few tokens
 * before automaton_step() is called with a token, automaton_prefetch()
 * starts reading the dictionary where the step will, and returns the
 * token's hash for it. The step looks the token (LEN bytes, hash HASH)
 * up and moves from STATE as automaton_lookup() and automaton_next()
 * would, returns the new state and fills STEP (what it points to is
 * the automaton's, read-only). It reads the token BYTES_PAD bytes at a
 * time (bytes.h): the bytes up to the token's start + BYTES_PAD must be
 * readable, whatever its length, as they are in a norm's text.
 */
struct automaton_step {
	const uint32_t *outs; /* as automaton_outputs() of the new state */
	size_t nouts;
	/* For a token that has an id, the prefix patterns it starts with,
	 * all of them, in the order automaton_prefixes() gives them; for
	 * one that has none, NULL: automaton_prefixes() finds them. */
	const uint32_t *prefixes;
	size_t nprefixes;
};

uint64_t automaton_prefetch(const struct automaton *, const char *, size_t);
uint32_t automaton_step(const struct automaton *, uint32_t state, const char *,
    size_t, uint64_t hash, struct automaton_step *);
/* Add a pattern of N token ids (N >= 1), reported as PATTERN. */
void automaton_add(
    struct automaton *, const uint32_t *ids, size_t n, uint32_t pattern);
/* Add a prefix pattern: tokens that start with these normalized bytes. */
void automaton_add_prefix(
    struct automaton *, const char *, size_t, uint32_t pattern);
void automaton_compile(struct automaton *);

uint32_t automaton_next(const struct automaton *, uint32_t state, uint32_t id);
/* The patterns that end in STATE (its own and those of its suffixes). */
const uint32_t *automaton_outputs(
    const struct automaton *, uint32_t state, size_t *n);
/* Whether any prefix pattern exists. */
int automaton_has_prefixes(const struct automaton *);
/* Store in OUT (up to MAX) the prefix patterns that TOKEN starts with;
 * returns how many there are (which may exceed MAX). */
size_t automaton_prefixes(const struct automaton *, const char *token,
    size_t len, uint32_t *out, size_t max);
/* Sizes, for tests and benchmarks. */
size_t automaton_nstates(const struct automaton *);
size_t automaton_ntokens(const struct automaton *);
/* Cache lines of a compiled dictionary's recs (0: it is small enough
 * not to have them; see automaton.c). */
size_t automaton_nrecs(const struct automaton *);

#endif

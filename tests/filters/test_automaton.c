/* The token automaton against a brute-force matcher on random input,
 * and prefix patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "automaton.h"
#include "bytes.h"

#define NPATTERNS 300
#define MAXLEN 4
#define ALPHABET 6 /* small, so that patterns overlap a lot */
/* words w6 and w7 only start patterns: no edge below the root is on
 * them, and the scan takes them without looking at the state */
#define FIRST_ONLY 2
#define UNKNOWN (ALPHABET + FIRST_ONLY)
#define TEXTLEN 5000

static uint32_t
rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

static void
test_automaton_random(void **state)
{
	static uint32_t pat[NPATTERNS][MAXLEN];
	static size_t patlen[NPATTERNS];
	static uint32_t text[TEXTLEN];
	char word[8];
	struct automaton *a = automaton_new();
	uint64_t seed = 42;
	uint32_t ids[MAXLEN], st = AUTOMATON_ROOT, id;
	const uint32_t *outs;
	size_t i, j, k, n, found, expected = 0, got = 0;

	for (i = 0; i < NPATTERNS; i++) {
		patlen[i] = 1 + rnd(&seed) % MAXLEN;
		for (j = 0; j < patlen[i]; j++) {
			pat[i][j] = rnd(&seed) %
			    (j == 0 ? ALPHABET + FIRST_ONLY : ALPHABET);
			snprintf(word, sizeof word, "w%u", pat[i][j]);
			ids[j] = automaton_intern(a, word, strlen(word));
		}
		automaton_add(a, ids, patlen[i], (uint32_t)i);
	}
	automaton_compile(a);
	for (i = 0; i < TEXTLEN; i++)
		text[i] = rnd(&seed) % (UNKNOWN + 1);
	for (i = 0; i < TEXTLEN; i++) {
		snprintf(word, sizeof word, "w%u", text[i]);
		id = automaton_lookup(a, word, strlen(word));
		assert_true(text[i] == UNKNOWN ? id == 0 : id != 0);
		st = automaton_next(a, st, id);
		outs = automaton_outputs(a, st, &n);
		got += n;
		/* every pattern ending here, by brute force */
		for (k = 0; k < NPATTERNS; k++) {
			if (patlen[k] > i + 1)
				continue;
			for (j = 0; j < patlen[k]; j++)
				if (pat[k][j] != text[i + 1 - patlen[k] + j])
					break;
			if (j < patlen[k])
				continue;
			expected++;
			for (found = 0; found < n; found++)
				if (outs[found] == k)
					break;
			if (found == n)
				fail_msg(
				    "pattern %zu not reported at %zu", k, i);
		}
	}
	assert_int_equal(got, expected);
	assert_true(expected > 1000);
	automaton_free(a);
}

static void
test_automaton_prefix(void **state)
{
	struct automaton *a = automaton_new();
	uint32_t out[8];

	automaton_add_prefix(a, "ira", 3, 1);
	automaton_add_prefix(a, "iraq", 4, 2);
	automaton_add_prefix(a, "ransom", 6, 3);
	automaton_compile(a);
	assert_true(automaton_has_prefixes(a));
	assert_int_equal(automaton_prefixes(a, "iraqi", 5, out, 8), 2);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);
	assert_int_equal(automaton_prefixes(a, "iran", 4, out, 8), 1);
	assert_int_equal(automaton_prefixes(a, "ir", 2, out, 8), 0);
	assert_int_equal(automaton_prefixes(a, "ransomware", 10, out, 8), 1);
	assert_int_equal(out[0], 3);
	assert_int_equal(automaton_prefixes(a, "xransom", 7, out, 8), 0);
	assert_int_equal(automaton_prefixes(a, "iraqi", 5, out, 1), 2);
	automaton_free(a);
}

/*
 * Prefixes of 2 to 12 bytes over a small alphabet (so that many share
 * their first bytes, and many tokens start with one) against a brute-
 * force check of every token: every prefix a token starts with, and no
 * other, whatever the token's length (under 8 bytes, 8, more).
 */
#define NPREFIXES 200
#define NTOKENS 20000

static void
test_automaton_prefix_random(void **state)
{
	static char pre[NPREFIXES][16];
	static size_t prelen[NPREFIXES];
	struct automaton *a = automaton_new();
	uint64_t seed = 7;
	uint32_t out[NPREFIXES];
	char tok[32];
	size_t i, j, k, n, len, want, total = 0;

	for (i = 0; i < NPREFIXES; i++) {
		prelen[i] = 2 + rnd(&seed) % 11;
		for (j = 0; j < prelen[i]; j++)
			pre[i][j] = (char)('a' + rnd(&seed) % 3);
		automaton_add_prefix(a, pre[i], prelen[i], (uint32_t)i);
	}
	automaton_compile(a);
	for (i = 0; i < NTOKENS; i++) {
		/* half the tokens start with a prefix, half are random */
		k = rnd(&seed) % NPREFIXES;
		len = 1 + rnd(&seed) % 20;
		for (j = 0; j < len; j++)
			tok[j] = (char)('a' + rnd(&seed) % 3);
		if (i % 2 == 0 && prelen[k] <= len)
			memcpy(tok, pre[k], prelen[k]);
		n = automaton_prefixes(a, tok, len, out, NPREFIXES);
		for (want = 0, k = 0; k < NPREFIXES; k++) {
			if (prelen[k] > len || memcmp(tok, pre[k], prelen[k]))
				continue;
			want++;
			for (j = 0; j < n && j < NPREFIXES; j++)
				if (out[j] == k)
					break;
			if (j == n)
				fail_msg("token %.*s: prefix %.*s not found",
				    (int)len, tok, (int)prelen[k], pre[k]);
		}
		assert_int_equal(n, want);
		total += n;
	}
	assert_true(total > NTOKENS); /* the check saw prefixes found */
	automaton_free(a);
}

/* Tokens that make a dictionary large enough to be read through its
 * recs (automaton.c: AUTOMATON_RECS_MIN slots, 5,462 tokens or more). */
#define NTOKENS_RECS 12000
/* Two-word patterns, of words 2i and 2i + 1, stepped through from the
 * state after the first word (where a token's id is what counts). */
#define NPAIRS 200

/*
 * A token the dictionary holds comes from automaton_step() with its
 * state and outputs, and the prefixes automaton_prefixes() finds for
 * it, in the same order; a token it does not hold, with none (NULL).
 * With NWORDS words (some the same), the dictionary is small or large.
 */
static void
token_prefixes(size_t nwords)
{
	/* a step reads BYTES_PAD bytes of a token, whatever its length */
	static char word[NTOKENS_RECS][BYTES_PAD];
	static const char d[BYTES_PAD] = "d";
	static size_t wordlen[NTOKENS_RECS];
	struct automaton *a = automaton_new();
	uint64_t seed = 11;
	struct automaton_step step;
	uint32_t out[NPREFIXES], id, to, from, pair[2];
	const uint32_t *known, *outs, *want;
	char pre[16];
	size_t i, j, n, nknown, nouts, nwant, prelen;
	size_t total = 0;

	for (i = 0; i < NPREFIXES; i++) {
		prelen = 2 + rnd(&seed) % 11;
		for (j = 0; j < prelen; j++)
			pre[j] = (char)('a' + rnd(&seed) % 3);
		automaton_add_prefix(a, pre, prelen, (uint32_t)i);
	}
	for (i = 0; i < nwords; i++) {
		wordlen[i] = 1 + rnd(&seed) % 20;
		for (j = 0; j < wordlen[i]; j++)
			word[i][j] = (char)('a' + rnd(&seed) % 3);
		id = automaton_intern(a, word[i], wordlen[i]);
		automaton_add(a, &id, 1, (uint32_t)i);
	}
	for (i = 0; i < NPAIRS; i++) {
		pair[0] = automaton_intern(a, word[2 * i], wordlen[2 * i]);
		pair[1] =
		    automaton_intern(a, word[2 * i + 1], wordlen[2 * i + 1]);
		automaton_add(a, pair, 2, (uint32_t)(nwords + i));
	}
	automaton_compile(a);
	for (i = 0; i < NPAIRS; i++) {
		from = automaton_step(a, AUTOMATON_ROOT, word[2 * i],
		    wordlen[2 * i],
		    automaton_prefetch(a, word[2 * i], wordlen[2 * i]), &step);
		assert_int_not_equal(from, AUTOMATON_ROOT);
		to = automaton_step(a, from, word[2 * i + 1],
		    wordlen[2 * i + 1],
		    automaton_prefetch(a, word[2 * i + 1], wordlen[2 * i + 1]),
		    &step);
		assert_int_equal(to,
		    automaton_next(a, from,
			automaton_lookup(
			    a, word[2 * i + 1], wordlen[2 * i + 1])));
		want = automaton_outputs(a, to, &nwant);
		assert_int_equal(step.nouts, nwant);
		for (j = 0; j < nwant; j++)
			assert_int_equal(step.outs[j], want[j]);
		/* the pair's own pattern is among them */
		for (j = 0; j < nwant && want[j] != nwords + i; j++)
			;
		assert_true(j < nwant);
	}
	for (i = 0; i < nwords; i++) {
		to = automaton_step(a, AUTOMATON_ROOT, word[i], wordlen[i],
		    automaton_prefetch(a, word[i], wordlen[i]), &step);
		outs = step.outs;
		nouts = step.nouts;
		known = step.prefixes;
		nknown = step.nprefixes;
		assert_int_equal(to,
		    automaton_next(a, AUTOMATON_ROOT,
			automaton_lookup(a, word[i], wordlen[i])));
		want = automaton_outputs(a, to, &nwant);
		assert_int_equal(nouts, nwant);
		assert_true(nouts >= 1);
		for (j = 0; j < nouts; j++)
			assert_int_equal(outs[j], want[j]);
		assert_non_null(known);
		n = automaton_prefixes(a, word[i], wordlen[i], out, NPREFIXES);
		assert_int_equal(nknown, n);
		for (j = 0; j < n; j++)
			assert_int_equal(known[j], out[j]);
		total += n;
	}
	assert_true(total > nwords); /* prefixes were found */
	to = automaton_step(
	    a, AUTOMATON_ROOT, d, 1, automaton_prefetch(a, d, 1), &step);
	assert_int_equal(to, AUTOMATON_ROOT);
	assert_int_equal(step.nouts, 0);
	assert_null(step.prefixes);
	if (nwords >= NTOKENS_RECS)
		assert_true(automaton_nrecs(a) > 0);
	else
		assert_int_equal(automaton_nrecs(a), 0);
	automaton_free(a);
}

static void
test_automaton_token_prefixes(void **state)
{
	(void)state;
	token_prefixes(NTOKENS / 10);
}

static void
test_automaton_token_prefixes_recs(void **state)
{
	(void)state;
	token_prefixes(NTOKENS_RECS);
}

/*
 * Tokens longer than what a rec holds of them are found; with NFILL more
 * tokens, in a dictionary that has recs. (Tokens that differ have other
 * hashes here: what tells apart tokens of the same hash is below.)
 */
static void
long_tokens(size_t nfill)
{
	struct automaton *a = automaton_new();
	struct automaton_step step;
	char word[80];
	size_t len, k;
	uint32_t id, to;

	for (k = 0; k < nfill; k++) {
		snprintf(word, sizeof word, "f%zu", k);
		automaton_intern(a, word, strlen(word));
	}
	memset(word, 'x', sizeof word);
	/* "xxx...x" of 30 to 79 bytes, each ending in 'a' + its length */
	for (len = 30; len < 80; len += 7) {
		word[len - 1] = (char)('a' + len % 26);
		id = automaton_intern(a, word, len);
		automaton_add(a, &id, 1, (uint32_t)len);
		word[len - 1] = 'x';
	}
	automaton_compile(a);
	for (len = 30; len < 80; len++) {
		for (k = 0; k < 2; k++) {
			/* k = 0: as interned; 1: the last byte changed */
			word[len - 1] = (char)('a' + len % 26 + k);
			to = automaton_step(a, AUTOMATON_ROOT, word, len,
			    automaton_prefetch(a, word, len), &step);
			if ((len - 30) % 7 == 0 && k == 0) {
				assert_int_not_equal(to, AUTOMATON_ROOT);
				assert_int_equal(step.nouts, 1);
				assert_int_equal(step.outs[0], len);
				assert_int_equal(automaton_lookup(a, word, len),
				    nfill + (len - 30) / 7 + 1);
			} else {
				assert_int_equal(to, AUTOMATON_ROOT);
				assert_int_equal(step.nouts, 0);
				assert_null(step.prefixes);
				assert_int_equal(
				    automaton_lookup(a, word, len), 0);
			}
			word[len - 1] = 'x';
		}
	}
	assert_true(
	    nfill == 0 ? automaton_nrecs(a) == 0 : automaton_nrecs(a) > 0);
	automaton_free(a);
}

static void
test_automaton_long_tokens(void **state)
{
	(void)state;
	long_tokens(0);
	long_tokens(NTOKENS_RECS);
}

/* automaton.c's hash of N >= 8 bytes, so that tokens of one hash can be
 * made; checked against automaton_prefetch(), which returns it. */
static uint64_t
hash_mix(uint64_t h, const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	h = (h ^ v) * 0xff51afd7ed558ccdULL;
	return h ^ (h >> 32);
}

/* The hash state after the words before byte AT of S (N bytes, N and AT
 * multiples of 8, AT < N). */
static uint64_t
hash_state(const unsigned char *s, size_t n, size_t at)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
	size_t p;

	for (p = 0; p < at; p += 8)
		h = hash_mix(h, s + p);
	return h;
}

/*
 * Make Y (N bytes) a token of X's hash that differs from it in the
 * words at bytes AT and AT + 8 (AT + 8 < N): Y's word at AT is
 * changed, then the next one chosen so that what it is mixed with (the
 * state XOR the word, whether the loop's step or the last) is X's.
 */
static void
hash_twin(const unsigned char *x, unsigned char *y, size_t n, size_t at)
{
	uint64_t hx, hy, v;

	memcpy(y, x, n);
	y[at] ^= 0x5a;
	y[at + 3] ^= 0xc3;
	hx = hash_mix(hash_state(x, n, at), x + at);
	hy = hash_mix(hash_state(y, n, at), y + at);
	memcpy(&v, x + at + 8, 8);
	v ^= hx ^ hy;
	memcpy(y + at + 8, &v, 8);
}

/*
 * Tokens of the same 64-bit hash, the same length and so the same slot
 * and tag, are told apart by their text: by the first bytes a rec holds
 * (24-byte tokens, and 48-byte ones differing in their first 16 bytes)
 * and by the rest (48-byte ones that share their first 32), in a
 * dictionary with recs and in one without.
 */
static void
test_automaton_same_hash(void **state)
{
	static const size_t cases[][2] = {{24, 0}, {48, 0}, {48, 32}};
	struct automaton *a;
	struct automaton_step step;
	unsigned char x[48], y[48];
	char fill[16];
	size_t c, k, n, at, nfill, both;
	uint32_t id[2], to;

	(void)state;
	for (k = 0; k < sizeof x; k++)
		x[k] = (unsigned char)('a' + k % 26);
	for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		n = cases[c][0];
		at = cases[c][1];
		hash_twin(x, y, n, at);
		a = automaton_new();
		if (automaton_prefetch(a, (const char *)x, n) !=
		    automaton_prefetch(a, (const char *)y, n))
			fail_msg("the test's copy of the hash is out of date");
		assert_memory_not_equal(x, y, n);
		automaton_free(a);
		for (nfill = 0; nfill <= NTOKENS_RECS; nfill += NTOKENS_RECS)
			for (both = 0; both < 2; both++) {
				a = automaton_new();
				for (k = 0; k < nfill; k++) {
					snprintf(fill, sizeof fill, "f%zu", k);
					automaton_intern(a, fill, strlen(fill));
				}
				id[0] = automaton_intern(a, (const char *)x, n);
				automaton_add(a, &id[0], 1, 1);
				if (both) {
					id[1] = automaton_intern(
					    a, (const char *)y, n);
					assert_int_not_equal(id[0], id[1]);
					automaton_add(a, &id[1], 1, 2);
				}
				automaton_compile(a);
				assert_true(
				    (automaton_nrecs(a) > 0) == (nfill > 0));
				to = automaton_step(a, AUTOMATON_ROOT,
				    (const char *)x, n,
				    automaton_prefetch(a, (const char *)x, n),
				    &step);
				assert_int_not_equal(to, AUTOMATON_ROOT);
				assert_int_equal(step.nouts, 1);
				assert_int_equal(step.outs[0], 1);
				to = automaton_step(a, AUTOMATON_ROOT,
				    (const char *)y, n,
				    automaton_prefetch(a, (const char *)y, n),
				    &step);
				if (both) {
					assert_int_equal(step.nouts, 1);
					assert_int_equal(step.outs[0], 2);
				} else {
					assert_int_equal(to, AUTOMATON_ROOT);
					assert_int_equal(step.nouts, 0);
					assert_int_equal(
					    automaton_lookup(
						a, (const char *)y, n),
					    0);
				}
				automaton_free(a);
			}
	}
}

/* bytes_eq_padded() against memcmp(): every length up to BYTES_PAD,
 * the texts the same or different at each place, inside the length or
 * past it (where they do not count). */
static void
test_bytes_eq_padded(void **state)
{
	char a[BYTES_PAD], b[BYTES_PAD];
	size_t n, at;

	(void)state;
	for (n = 0; n <= BYTES_PAD; n++) {
		memset(a, 'q', sizeof a);
		memset(b, 'q', sizeof b);
		assert_true(bytes_eq_padded(a, b, n));
		for (at = 0; at < BYTES_PAD; at++) {
			b[at] = 'r';
			assert_int_equal(
			    bytes_eq_padded(a, b, n), memcmp(a, b, n) == 0);
			assert_int_equal(bytes_eq_padded(a, b, n), at >= n);
			b[at] = 'q';
		}
	}
}

/* An empty automaton sends everything to the root. */
static void
test_automaton_empty(void **state)
{
	struct automaton *a = automaton_new();
	size_t n;

	automaton_compile(a);
	assert_int_equal(automaton_lookup(a, "x", 1), 0);
	assert_int_equal(automaton_next(a, AUTOMATON_ROOT, 0), AUTOMATON_ROOT);
	automaton_outputs(a, AUTOMATON_ROOT, &n);
	assert_int_equal(n, 0);
	assert_false(automaton_has_prefixes(a));
	automaton_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_automaton_random),
	    cmocka_unit_test(test_automaton_prefix),
	    cmocka_unit_test(test_automaton_prefix_random),
	    cmocka_unit_test(test_automaton_token_prefixes),
	    cmocka_unit_test(test_automaton_token_prefixes_recs),
	    cmocka_unit_test(test_automaton_long_tokens),
	    cmocka_unit_test(test_automaton_same_hash),
	    cmocka_unit_test(test_automaton_empty),
	    cmocka_unit_test(test_bytes_eq_padded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

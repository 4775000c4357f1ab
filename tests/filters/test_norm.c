/* Normalization and tokenization: each text and the tokens it gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "bytes.h"
#include "norm.h"

struct norm_case {
	const char *text;
	int flags;
	const char *tokens; /* normalized tokens joined by '|' */
};

static const struct norm_case norm_cases[] = {
    {"Hello, World!", 0, "hello|world"},
    {"", 0, ""},
    {"  ...  ", 0, ""},
    /* accents, NFKC, case folding */
    {"São Paulo", 0, "sao|paulo"},
    {"Sao Paulo", 0, "sao|paulo"},
    {"Ｆｕｌｌｗｉｄｔｈ ﬁle", 0, "fullwidth|file"},
    {"Straße STRASSE", 0, "strasse|strasse"},
    {"Ørsted Łódź Đorđe", 0, "orsted|lodz|dorde"},
    {"İstanbul ıstanbul", 0, "istanbul|istanbul"},
    {"Cæsar Œuvre", 0, "caesar|oeuvre"},
    /* decomposed input: e + combining acute */
    {"Caf\x65\xcc\x81 noir", 0, "cafe|noir"},
    /* Greek: capitals, tonos, final sigma */
    {"ΑΘΗΝΑ", 0, "αθηνα"},
    {"Αθήνα", 0, "αθηνα"},
    {"ΟΔΥΣΣΕΥΣ Οδυσσεύς", 0, "οδυσσευσ|οδυσσευσ"},
    /* Cyrillic */
    {"МОСКВА Москва", 0, "москва|москва"},
    {"Ёлка елка", 0, "елка|елка"},
    /* Arabic: harakat, alef forms, teh marbuta, tatweel, the article */
    {"مُحَمَّد", 0, "محمد"},
    {"أحمد إبراهيم آمنة", 0, "احمد|ابراهيم|امنه"},
    {"بغـــداد", 0, "بغداد"},
    {"السوداني", 0, "ال|سوداني"},
    /* not the article: alef with hamza starts the word itself */
    {"ألمانيا إلهام", 0, "المانيا|الهام"},
    {"ٱلسوداني", 0, "ال|سوداني"},
    {"الى", 0, "الي"},
    /* apostrophes, quotes, hyphens and dashes all separate */
    {"Iraq's O’Brien \"quoted\" «guillemets»", 0,
	"iraq|s|o|brien|quoted|guillemets"},
    /* ... the modifier letters written for an apostrophe too */
    {"Iraqʼs OʼBrien Hawaiʻi Tverʹ Shiʽa", 0,
	"iraq|s|o|brien|hawai|i|tver|shi|a"},
    /* ... not other modifier letters, nor what decomposes to one */
    {"kʰa 々 ŉ", 0, "kha|々|n"},
    {"al-Sudani al‐Sudani al—Sudani", 0, "al|sudani|al|sudani|al|sudani"},
    {"El-Sisi el-Sisi el Sisi", 0, "al|sisi|al|sisi|el|sisi"},
    /* line breaks and other spaces */
    {"Islamic\nState\u00a0now", 0, "islamic|state|now"},
    /* soft hyphen and zero-width joiner do not split */
    {"Su\u00adda\u200dni", 0, "sudani"},
    /* Han one per character, Katakana runs kept */
    {"北京市 カタカナ", 0, "北|京|市|カタカナ"},
    /* invalid UTF-8 separates */
    {"ab\xff"
     "cd",
	0, "ab|cd"},
    /* digits and numbers */
    {"3.5% of 2024", 0, "3|5|of|2024"},
    {"①②", 0, "12"},
    /* cased: accents still go, case stays */
    {"São IS Is", NORM_CASED, "Sao|IS|Is"},
    {"ΑΘΉΝΑ", NORM_CASED, "ΑΘΗΝΑ"},
};

static void
test_norm_table(void **state)
{
	struct norm n;
	struct buf b;
	size_t i, k;

	for (i = 0; i < sizeof norm_cases / sizeof norm_cases[0]; i++) {
		norm_init(&n);
		norm_tokenize(&n, norm_cases[i].text,
		    strlen(norm_cases[i].text), norm_cases[i].flags);
		buf_init(&b, 4096);
		for (k = 0; k < n.ntokens; k++) {
			if (k > 0)
				buf_addc(&b, '|');
			buf_add(&b, norm_token_text(&n, k), n.tokens[k].len);
		}
		if (strcmp(buf_str(&b), norm_cases[i].tokens) != 0)
			fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i,
			    norm_cases[i].text, buf_str(&b),
			    norm_cases[i].tokens);
		buf_free(&b);
		norm_free(&n);
	}
}

struct offset_case {
	const char *text;
	size_t token;
	const char *original; /* text[start, end) of that token */
};

static const struct offset_case offset_cases[] = {
    {"The São Paulo office", 1, "São"},
    {"ΑΘΗΝΑ and Αθήνα", 2, "Αθήνα"},
    {"Mohamed Shia al-Sudani said", 3, "Sudani"},
    {"x Cafe\xcc\x81!", 1, "Cafe\xcc\x81"},
    {"قال السوداني", 1, "ال"},
    {"قال السوداني", 2, "سوداني"},
    {"Ｆｕｌｌ stop", 0, "Ｆｕｌｌ"},
};

static void
test_norm_offsets(void **state)
{
	struct norm n;
	size_t i;
	const struct norm_token *t;

	for (i = 0; i < sizeof offset_cases / sizeof offset_cases[0]; i++) {
		norm_init(&n);
		norm_tokenize(
		    &n, offset_cases[i].text, strlen(offset_cases[i].text), 0);
		assert_true(offset_cases[i].token < n.ntokens);
		t = &n.tokens[offset_cases[i].token];
		if (t->end - t->start != strlen(offset_cases[i].original) ||
		    memcmp(offset_cases[i].text + t->start,
			offset_cases[i].original, t->end - t->start) != 0)
			fail_msg("case %zu: token %zu is \"%.*s\", want \"%s\"",
			    i, offset_cases[i].token, (int)(t->end - t->start),
			    offset_cases[i].text + t->start,
			    offset_cases[i].original);
		norm_free(&n);
	}
}

/* Appending keeps earlier tokens; reset forgets them. */
static void
test_norm_append_reset(void **state)
{
	struct norm n;

	norm_init(&n);
	assert_int_equal(norm_tokenize(&n, "one two", 7, 0), 2);
	assert_int_equal(norm_tokenize(&n, "three", 5, 0), 1);
	assert_int_equal(n.ntokens, 3);
	assert_memory_equal(norm_token_text(&n, 2), "three", 5);
	assert_int_equal(n.tokens[2].start, 0);
	norm_reset(&n);
	assert_int_equal(n.ntokens, 0);
	assert_int_equal(norm_tokenize(&n, "four", 4, 0), 1);
	assert_memory_equal(norm_token_text(&n, 0), "four", 4);
	norm_free(&n);
}

/* Read BYTES_PAD bytes of every token of N from FIRST on, as the
 * dictionary does (a sanitizer build tells a read past the block), and
 * check the slack that allows it. */
static void
pad_read(const struct norm *n, size_t first)
{
	volatile unsigned char sink;
	size_t i, k;

	for (i = first; i < n->ntokens; i++)
		for (k = 0; k < BYTES_PAD; k++)
			sink = (unsigned char)norm_token_text(n, i)[k];
	(void)sink;
	assert_true(n->text_len + BYTES_PAD <= n->text_size);
}

/*
 * Every token's text is followed by BYTES_PAD readable bytes, which the
 * dictionary reads whatever the token's length: texts of every length
 * up to 2,000 bytes, one word or many, in one norm and each in a fresh
 * one; then short words appended one after the other to one norm, as
 * the matcher appends an item's fields, so that some land at the very
 * end of the room the norm had.
 */
static void
test_norm_pad(void **state)
{
	static char text[2001];
	struct norm kept, fresh, *n;
	uint64_t seed = 5;
	size_t len, i, before;

	(void)state;
	norm_init(&kept);
	for (len = 1; len < 2 * sizeof text; len++) {
		/* one word, then words of 1 to 7 letters */
		for (i = 0; i < len / 2; i++)
			text[i] =
			    len % 2 && i % 8 == 7 ? ' ' : (char)('a' + i % 26);
		norm_init(&fresh);
		for (n = &kept; n != NULL; n = n == &kept ? &fresh : NULL) {
			norm_reset(n);
			norm_tokenize(n, text, len / 2, 0);
			pad_read(n, 0);
		}
		norm_free(&fresh);
	}
	norm_free(&kept);
	norm_init(&kept);
	for (i = 0; i < 20000; i++) {
		if (i % 2000 == 0)
			norm_reset(&kept);
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		len = 1 + (seed >> 33) % 40;
		memset(text, 'a' + (int)(i % 26), len);
		before = kept.ntokens;
		norm_tokenize(&kept, text, len, 0);
		pad_read(&kept, before);
	}
	norm_free(&kept);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_norm_table),
	    cmocka_unit_test(test_norm_offsets),
	    cmocka_unit_test(test_norm_append_reset),
	    cmocka_unit_test(test_norm_pad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

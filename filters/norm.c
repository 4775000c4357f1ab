/*
 * Normalization and tokenization (see norm.h for the rules).
 *
 * Follows Unicode Standard Annex #15 (compatibility decomposition, done
 * per code point with utf8proc, which gives the same result as the
 * whole-string form once marks are stripped) and a simplification of
 * UAX #29 word boundaries: letters, marks and digits make words, and
 * unlike UAX #29 apostrophes and full stops always split them, so that
 * "Iraq's" holds the word "iraq".
 */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "bytes.h"
#include "norm.h"
#include "xmalloc.h"

/* Worst-case bytes one code point becomes (NFKD of U+FDFA is 18 code
 * points of up to 3 bytes). */
#define NORM_MAX_EXPANSION 96

/* ASCII: 0 separates words, anything else is the byte to emit. */
static char norm_ascii_fold[128];
static char norm_ascii_cased[128];
static int norm_tables_ready;

/* Letters Unicode does not decompose, folded by hand (after case
 * folding, so both cases are listed for NORM_CASED). Sorted by code. */
static const struct {
	int32_t cp;
	const char *to;
} norm_extra[] = {
    {0x00C6, "AE"}, /* Æ */
    {0x00D0, "D"}, /* Ð */
    {0x00D8, "O"}, /* Ø */
    {0x00DE, "TH"}, /* Þ */
    {0x00E6, "ae"}, /* æ */
    {0x00F0, "d"}, /* ð */
    {0x00F8, "o"}, /* ø */
    {0x00FE, "th"}, /* þ */
    {0x0110, "D"}, /* Đ */
    {0x0111, "d"}, /* đ */
    {0x0126, "H"}, /* Ħ */
    {0x0127, "h"}, /* ħ */
    {0x0131, "i"}, /* ı dotless i */
    {0x0141, "L"}, /* Ł */
    {0x0142, "l"}, /* ł */
    {0x0152, "OE"}, /* Œ */
    {0x0153, "oe"}, /* œ */
    {0x0629, "\xd9\x87"}, /* teh marbuta -> heh */
    {0x0649, "\xd9\x8a"}, /* alef maksura -> yeh */
    {0x0671, "\xd8\xa7"}, /* alef wasla -> alef */
    {0x06A9, "\xd9\x83"}, /* keheh -> kaf */
    {0x06CC, "\xd9\x8a"}, /* farsi yeh -> yeh */
};

static void
norm_tables_init(void)
{
	int c;

	for (c = 0; c < 128; c++) {
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			norm_ascii_fold[c] = (char)c;
			norm_ascii_cased[c] = (char)c;
		} else if (c >= 'A' && c <= 'Z') {
			norm_ascii_fold[c] = (char)(c - 'A' + 'a');
			norm_ascii_cased[c] = (char)c;
		}
	}
	norm_tables_ready = 1;
}

void
norm_init(struct norm *n)
{
	memset(n, 0, sizeof *n);
	if (!norm_tables_ready)
		norm_tables_init();
}

void
norm_reset(struct norm *n)
{
	n->ntokens = 0;
	n->text_len = 0;
}

void
norm_free(struct norm *n)
{
	if (n == NULL)
		return;
	free(n->tokens);
	free(n->text);
	memset(n, 0, sizeof *n);
}

/* Room for MORE bytes of text, and BYTES_PAD after them. */
static void
norm_reserve_text(struct norm *n, size_t more)
{
	more += BYTES_PAD;
	if (n->text_len + more <= n->text_size)
		return;
	n->text_size = n->text_size * 2 > n->text_len + more
	    ? n->text_size * 2
	    : n->text_len + more + 256;
	n->text = xreallocarray(n->text, n->text_size, 1);
}

static const char *
norm_extra_lookup(int32_t cp)
{
	size_t lo = 0, hi = sizeof norm_extra / sizeof norm_extra[0], mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (norm_extra[mid].cp == cp)
			return norm_extra[mid].to;
		if (norm_extra[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int
norm_is_word_category(utf8proc_category_t cat)
{
	switch (cat) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return 1;
	default:
		return 0;
	}
}

/*
 * Whether CP is a word's: a letter or a number, except the modifier
 * letters written for an apostrophe ("Iraqʼs", "Hawaiʻi" for "Hawai'i"),
 * which separate words as apostrophes do: U+02B9 prime, U+02BB turned
 * comma, U+02BC apostrophe, U+02BD reversed comma. Other modifier
 * letters stay letters.
 */
static int
norm_is_word_char(int32_t cp)
{
	switch (cp) {
	case 0x02B9:
	case 0x02BB:
	case 0x02BC:
	case 0x02BD:
		return 0;
	default:
		return norm_is_word_category(utf8proc_category(cp));
	}
}

/* Han ideographs and Hiragana: one token per character. */
static int
norm_is_single(int32_t cp)
{
	return (cp >= 0x3040 && cp <= 0x309F) ||
	    (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
	    (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3FFFF);
}

static int
norm_is_hyphen(int32_t cp)
{
	return cp == '-' || cp == 0x2010 || cp == 0x2011;
}

/* Emit the normalized form of one word character; returns bytes added. */
static size_t
norm_emit(struct norm *n, int32_t cp, int flags)
{
	utf8proc_int32_t out[32];
	utf8proc_ssize_t nout, i;
	int bound = 0;
	const char *extra;
	size_t before = n->text_len, len;
	int opts = UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK;

	if (!(flags & NORM_CASED))
		opts |= UTF8PROC_CASEFOLD;
	norm_reserve_text(n, NORM_MAX_EXPANSION);
	nout = utf8proc_decompose_char(
	    cp, out, sizeof out / sizeof out[0], opts, &bound);
	if (nout < 0 || nout > (utf8proc_ssize_t)(sizeof out / sizeof out[0]))
		return 0;
	for (i = 0; i < nout; i++) {
		if ((extra = norm_extra_lookup(out[i])) != NULL) {
			len = strlen(extra);
			memcpy(n->text + n->text_len, extra, len);
			n->text_len += len;
			continue;
		}
		if (!norm_is_word_char(out[i]))
			continue;
		n->text_len += (size_t)utf8proc_encode_char(
		    out[i], (utf8proc_uint8_t *)n->text + n->text_len);
	}
	return n->text_len - before;
}

struct norm_word {
	int open;
	uint32_t start, end; /* original bytes */
	size_t text; /* start in n->text */
	unsigned nchars; /* source characters emitted */
	int32_t first_cp; /* the first of them, as written (non-ASCII) */
	uint32_t split_end; /* original offset after the second character */
	size_t split_len; /* normalized bytes of the first two characters */
};

static void
norm_push(struct norm *n, uint32_t start, uint32_t end, size_t text, size_t len)
{
	struct norm_token *t;

	if (n->ntokens == n->tokens_size) {
		n->tokens_size = n->tokens_size ? n->tokens_size * 2 : 256;
		n->tokens =
		    xreallocarray(n->tokens, n->tokens_size, sizeof *n->tokens);
	}
	t = &n->tokens[n->ntokens++];
	t->start = start;
	t->end = end;
	t->text = (uint32_t)text;
	t->len = (uint32_t)len;
}

static int norm_letter_at(const char *, size_t);

/* Close the open word; NEXT_CP is the character after it (-1 if none)
 * and AFTER/LEFT the bytes after that (for the "el-" rule). */
static void
norm_close(struct norm *n, struct norm_word *w, int32_t next_cp,
    const char *after, size_t left)
{
	size_t len;
	char *s;

	if (!w->open)
		return;
	w->open = 0;
	len = n->text_len - w->text;
	if (len == 0)
		return;
	s = n->text + w->text;
	if (len == 2 && (s[0] == 'e' || s[0] == 'E') &&
	    (s[1] == 'l' || s[1] == 'L') && norm_is_hyphen(next_cp) &&
	    norm_letter_at(after, left))
		s[0] = s[0] == 'e' ? 'a' : 'A';
	/* the article is written with a bare alef (or alef wasla): "أل"
	 * and "إل" start words ("ألمانيا", "إلهام") though folded alike */
	if (w->split_len == 4 && len >= 8 &&
	    memcmp(s, "\xd8\xa7\xd9\x84", 4) == 0 &&
	    (w->first_cp == 0x0627 || w->first_cp == 0x0671)) {
		norm_push(n, w->start, w->split_end, w->text, 4);
		norm_push(n, w->split_end, w->end, w->text + 4, len - 4);
		return;
	}
	norm_push(n, w->start, w->end, w->text, len);
}

static void
norm_open(struct norm *n, struct norm_word *w, uint32_t pos)
{
	if (w->open)
		return;
	w->open = 1;
	w->start = pos;
	w->end = pos;
	w->text = n->text_len;
	w->nchars = 0;
	w->first_cp = -1;
	w->split_len = 0;
	w->split_end = 0;
}

/* Whether the bytes at P start a letter (for the "el-" rule). */
static int
norm_letter_at(const char *p, size_t left)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;

	if (left == 0)
		return 0;
	k = utf8proc_iterate(
	    (const utf8proc_uint8_t *)p, (utf8proc_ssize_t)left, &cp);
	if (k <= 0)
		return 0;
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LO:
		return 1;
	default:
		return 0;
	}
}

size_t
norm_tokenize(struct norm *n, const char *text, size_t len, int flags)
{
	const char *fold =
	    flags & NORM_CASED ? norm_ascii_cased : norm_ascii_fold;
	struct norm_word w = {0};
	size_t before = n->ntokens, pos = 0;
	utf8proc_int32_t cp;
	utf8proc_ssize_t clen;
	unsigned char c;
	char ch;

	if (len > NORM_MAX_INPUT)
		len = NORM_MAX_INPUT;
	norm_reserve_text(n, len + 1);
	while (pos < len) {
		c = (unsigned char)text[pos];
		if (c < 0x80) {
			if ((ch = fold[c]) != 0) {
				if (!w.open)
					norm_open(n, &w, (uint32_t)pos);
				/* ASCII emits at most a byte per byte, and
				 * the reserve above covers all of them. */
				n->text[n->text_len++] = ch;
				pos++;
				w.end = (uint32_t)pos;
				if (++w.nchars == 2) {
					w.split_end = w.end;
					w.split_len = n->text_len - w.text;
				}
				continue;
			}
			if (w.open)
				norm_close(
				    n, &w, c, text + pos + 1, len - pos - 1);
			pos++;
			continue;
		}
		clen = utf8proc_iterate((const utf8proc_uint8_t *)text + pos,
		    (utf8proc_ssize_t)(len - pos), &cp);
		if (clen <= 0) {
			norm_close(n, &w, -1, NULL, 0);
			pos++;
			continue;
		}
		switch (utf8proc_category(cp)) {
		case UTF8PROC_CATEGORY_MN:
		case UTF8PROC_CATEGORY_MC:
		case UTF8PROC_CATEGORY_ME:
		case UTF8PROC_CATEGORY_CF:
			/* Inside a word, nothing; never a boundary. */
			if (w.open)
				w.end = (uint32_t)(pos + (size_t)clen);
			pos += (size_t)clen;
			continue;
		default:
			break;
		}
		if (cp == 0x0640) { /* Arabic tatweel */
			if (w.open)
				w.end = (uint32_t)(pos + (size_t)clen);
			pos += (size_t)clen;
			continue;
		}
		if (!norm_is_word_char(cp)) {
			norm_close(n, &w, cp, text + pos + (size_t)clen,
			    len - pos - (size_t)clen);
			pos += (size_t)clen;
			continue;
		}
		if (norm_is_single(cp))
			norm_close(n, &w, -1, NULL, 0);
		norm_open(n, &w, (uint32_t)pos);
		norm_emit(n, cp, flags);
		pos += (size_t)clen;
		w.end = (uint32_t)pos;
		if (w.nchars == 0)
			w.first_cp = cp;
		if (++w.nchars == 2) {
			w.split_end = w.end;
			w.split_len = n->text_len - w.text;
		}
		if (norm_is_single(cp))
			norm_close(n, &w, -1, NULL, 0);
		/* The ASCII path relies on a byte of room per input byte. */
		norm_reserve_text(n, len - pos + 1);
	}
	norm_close(n, &w, -1, NULL, 0);
	return n->ntokens - before;
}

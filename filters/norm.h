/*
 * Text normalization and tokenization for matching.
 *
 * Text is cut into tokens (words) and each token is normalized so that
 * spellings a reader takes as the same word compare equal byte for byte:
 *
 *   - compatibility decomposition (NFKD: ligatures, full-width and
 *     superscript forms become plain letters and digits);
 *   - full case folding ("ß" = "ss", Greek final sigma = sigma), unless
 *     NORM_CASED is given;
 *   - every mark stripped (accents, Greek tonos, Arabic harakat), and a
 *     few letters Unicode does not decompose folded by hand (ø, ł, đ,
 *     ı, æ, œ; Arabic ة ى ی ک ٱ; the Arabic tatweel is dropped);
 *   - tokens are maximal runs of letters and digits; every other
 *     character separates tokens, so apostrophes, quotes, hyphens and
 *     dashes of every kind are the same (none is part of a word), and
 *     so are the modifier letters written for an apostrophe (U+02B9,
 *     U+02BB, U+02BC, U+02BD).
 *     Marks and format characters (soft hyphen, ZWJ) never split a word.
 *     Han and Hiragana characters are one token each;
 *   - the Arabic article: "el" joined to the next word by a hyphen
 *     ("el-Sisi") reads as "al", and a word in Arabic script that starts
 *     with the article "ال" followed by at least two letters gives two
 *     tokens ("السوداني" is "ال" + "سوداني").
 *
 * Every token keeps the byte offsets of the original text it came from.
 */
#ifndef NORM_H
#define NORM_H

#include <stddef.h>
#include <stdint.h>

#include <utf8proc.h>

/* Longest input normalized in one call; bytes past it are not seen. */
#define NORM_MAX_INPUT (16u * 1024 * 1024)

/* Keep case: accents are still stripped but letters are not folded. */
#define NORM_CASED 0x1

struct norm_token {
	uint32_t start; /* original bytes [start, end) */
	uint32_t end;
	uint32_t text; /* offset of the normalized bytes in norm.text */
	uint32_t len; /* their length */
};

struct norm {
	struct norm_token *tokens;
	size_t ntokens;
	size_t tokens_size;
	char *text; /* normalized token bytes, not NUL-separated */
	size_t text_len;
	size_t text_size; /* once a token is in text, text_len + BYTES_PAD
			     at least: every token's first BYTES_PAD bytes
			     may be read (bytes.h) */
};

/* Whether a Unicode category is one of a word's: letters and numbers. */
int norm_is_word_category(utf8proc_category_t);

void norm_init(struct norm *);
/* Forget the tokens, keep the memory. */
void norm_reset(struct norm *);
void norm_free(struct norm *);
/* Append the tokens of TEXT (LEN bytes of UTF-8; invalid bytes separate
 * words) to N. Returns the number of tokens added. */
size_t norm_tokenize(struct norm *n, const char *text, size_t len, int flags);
/* The normalized bytes of token I, with at least BYTES_PAD readable
 * bytes from there on, whatever its length. */
static inline const char *
norm_token_text(const struct norm *n, size_t i)
{
	return n->text + n->tokens[i].text;
}

#endif

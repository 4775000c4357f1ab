/*
 * utf8: where to cut UTF-8 text so that no character is cut in two.
 */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>

/* The length of S (LEN bytes of UTF-8) cut to at most MAX bytes, backed
 * off to the start of a character. */
static inline size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	len = max;
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return len;
}

#endif

/*
 * Fuzz html_to_text and html_clean_text: no crash or leak, and the text
 * keeps every promise: valid UTF-8, within the cap, no control or bidi
 * character, whitespace collapsed and trimmed (so cleaning it again
 * changes nothing), and it is the text libxml2's parse gives (the fast
 * path for simple markup must not change a byte).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const char *s, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n, k;
	uint32_t cp;
	char *again;

	if (len > cap)
		abort();
	if (len > 0 && (u[0] == ' ' || u[len - 1] == ' '))
		abort();
	while (i < len) {
		if (u[i] < 0x80) {
			if (u[i] < 0x20 || u[i] == 0x7f)
				abort();
			if (u[i] == ' ' && u[i + 1] == ' ')
				abort();
			i++;
			continue;
		}
		n = u[i] >= 0xf0 ? 4 : u[i] >= 0xe0 ? 3 : u[i] >= 0xc2 ? 2 : 0;
		if (n == 0 || u[i] > 0xf4 || i + n > len)
			abort();
		cp = u[i] & (0x7f >> n);
		for (k = 1; k < n; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				abort();
			cp = cp << 6 | (u[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			abort();
		if (cp <= 0x9f || cp == 0x200e || cp == 0x200f ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			abort();
		i += n;
	}
	again = html_clean_text(s, len, cap);
	if (strcmp(again, s) != 0)
		abort();
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap = HTML_TEXT_MAX;
	char *s, *parsed;

	/* the first byte, when odd, picks a small cap to exercise cutting */
	if (size > 0 && (data[0] & 1))
		cap = data[0] >> 1;
	s = html_to_text((const char *)data, size, cap);
	check(s, cap);
	parsed = html_to_text_parsed((const char *)data, size, cap);
	if (strcmp(s, parsed) != 0)
		abort();
	free(parsed);
	free(s);
	s = html_clean_text((const char *)data, size, cap);
	check(s, cap);
	free(s);
	return 0;
}

/*
 * Fuzz date_parse: no crash, and every date it accepts prints as RFC 3339
 * and parses back to the same instant.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[DATE_FORMAT_LEN];
	int64_t t, again;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (date_parse(s, &t) == 0) {
		if (date_format(t, buf, sizeof buf) == NULL)
			abort(); /* accepted a date outside 0000-9999 */
		if (date_parse(buf, &again) != 0 || again != t)
			abort();
	}
	free(s);
	return 0;
}

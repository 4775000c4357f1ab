/*
 * Drives the text and date conversions from a script: reads records
 * "MODE LENGTH\n" followed by LENGTH bytes on stdin and answers each with
 * "LENGTH\n" and that many bytes on stdout. MODE is h (html_to_text), c
 * (html_clean_text) or d (date_parse: seconds, or "-" when not a date).
 * An optional argument sets the cap of h and c.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "html.h"
#include "xmalloc.h"

int
main(int argc, char **argv)
{
	size_t cap = argc > 1 ? strtoul(argv[1], NULL, 10) : HTML_TEXT_MAX;
	char mode, *in, *out, num[32];
	size_t len;
	int64_t t;

	while (scanf(" %c %zu", &mode, &len) == 2) {
		if (getchar() != '\n')
			return 2;
		in = xmalloc(len + 1);
		if (fread(in, 1, len, stdin) != len)
			return 2;
		in[len] = '\0';
		if (mode == 'h')
			out = html_to_text(in, len, cap);
		else if (mode == 'c')
			out = html_clean_text(in, len, cap);
		else if (mode == 'd') {
			if (date_parse(in, &t) == 0)
				snprintf(num, sizeof num, "%" PRId64, t);
			else
				snprintf(num, sizeof num, "-");
			out = xstrdup(num);
		} else
			return 2;
		printf("%zu\n", strlen(out));
		fwrite(out, 1, strlen(out), stdout);
		fflush(stdout);
		free(out);
		free(in);
	}
	return 0;
}

/*
 * Time html_to_text on one file: bench_text FILE SECONDS. Prints
 * "bytes iterations seconds MB/s" (MB = 10^6 bytes) and the text's length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "html.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	double budget = argc > 2 ? atof(argv[2]) : 3, start, elapsed;
	size_t len, n = 0, textlen = 0;
	char *in, *text;
	FILE *f;
	long size;

	if (argc < 2 || (f = fopen(argv[1], "rb")) == NULL)
		return 2;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	in = malloc(size + 1);
	len = fread(in, 1, size, f);
	fclose(f);
	free(html_to_text(in, len, HTML_TEXT_MAX)); /* warm up */
	start = now();
	do {
		text = html_to_text(in, len, HTML_TEXT_MAX);
		textlen = strlen(text);
		free(text);
		n++;
	} while ((elapsed = now() - start) < budget);
	printf("%zu %zu %.3f %.1f %zu\n", len, n, elapsed,
	    len * (double)n / elapsed / 1e6, textlen);
	free(in);
	return 0;
}

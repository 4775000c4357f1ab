/*
 * The matcher's throughput: build a matcher from generated watchlists
 * and entities (see gen.py), run it over every item, report MB/s of item
 * text on one core (process CPU time, so that other load on the machine
 * does not count). Built and run by run.sh.
 *
 * usage: bench_match ITEMS.tsv WATCHLISTS.tsv ENTITIES.tsv
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "matcher.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		exit(1);
	}
	data = malloc((size_t)n + 1);
	if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(1);
	}
	data[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return data;
}

int
main(int argc, char **argv)
{
	struct matcher *m;
	struct matcher_result *res;
	struct item *items = NULL;
	char *data, *line, *next, *tab, *tab2, *alias, *cause = NULL;
	size_t len, nitems = 0, nwl = 0, i, bytes = 0, matches = 0, hits = 0;
	double t0, t1, t2;

	if (argc != 4) {
		fprintf(
		    stderr, "usage: bench_match ITEMS WATCHLISTS ENTITIES\n");
		return 2;
	}
	t0 = now();
	m = matcher_new(0);
	data = slurp(argv[3], &len);
	for (line = data; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		tab = strchr(line, '\t');
		*tab++ = '\0';
		matcher_add_entity(m, line, NULL, NULL, NULL);
		for (alias = strtok(tab, "|"); alias != NULL;
		     alias = strtok(NULL, "|"))
			matcher_add_alias(
			    m, line, alias, MATCHER_CASE_AUTO, NULL);
	}
	free(data);
	data = slurp(argv[2], &len);
	for (line = data; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		tab = strchr(line, '\t');
		*tab++ = '\0';
		if (matcher_add_watchlist(m, line, tab, NULL, &cause) == -1) {
			fprintf(stderr, "%s: %s: %s\n", line, tab, cause);
			return 1;
		}
		nwl++;
	}
	free(data);
	matcher_compile(m, NULL);
	t1 = now();

	data = slurp(argv[1], &len);
	for (line = data; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		tab = strchr(line, '\t');
		*tab++ = '\0';
		tab2 = strchr(tab, '\t');
		*tab2++ = '\0';
		items = realloc(items, (nitems + 1) * sizeof *items);
		memset(&items[nitems], 0, sizeof *items);
		items[nitems].title_text = line;
		items[nitems].summary_text = tab;
		items[nitems].content_text = tab2;
		bytes += strlen(line) + strlen(tab) + strlen(tab2);
		nitems++;
	}
	t2 = now();
	for (i = 0; i < nitems; i++) {
		res = matcher_run(m, &items[i], "Bench Wire", 0);
		matches += res->nmatches;
		if (res->nmatches > 0)
			hits += res->matches[0].nhits;
		matcher_result_free(res);
	}
	t2 = now() - t2;
	printf("watchlists=%zu patterns=%zu build_s=%.2f items=%zu "
	       "bytes=%zu run_s=%.3f mb_per_s=%.1f matches=%zu\n",
	    nwl, matcher_npatterns(m), t1 - t0, nitems, bytes, t2,
	    (double)bytes / 1e6 / t2, matches);
	(void)hits;
	matcher_free(m);
	free(items);
	free(data);
	return 0;
}

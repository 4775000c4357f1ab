/*
 * Fuzz the watchlist query language: the parser, then the matcher's
 * compilation of what parses (words, prefixes, entities, regexes).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "matcher.h"
#include "query.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct query_node *n;
	struct matcher *m;
	char *q, *cause = NULL, *tree;
	size_t pos = (size_t)-1;
	int rc;

	q = malloc(size + 1);
	memcpy(q, data, size);
	q[size] = '\0';
	n = query_parse(q, size, &pos, &cause);
	if (n == NULL) {
		if (cause == NULL || pos > size)
			abort(); /* every error says why, and where */
		free(cause);
		free(q);
		return 0;
	}
	tree = query_format(n);
	free(tree);
	query_free(n);

	m = matcher_new(MATCHER_NO_COUNTRIES | MATCHER_NO_JIT);
	matcher_add_entity(m, "e", "Entity Name", NULL, NULL);
	matcher_add_alias(m, "e", "EN", MATCHER_CASE_AUTO, NULL);
	cause = NULL;
	rc = matcher_add_watchlist(m, "w", q, &pos, &cause);
	if (rc == -1 && (cause == NULL || pos > size))
		abort();
	free(cause);
	if (matcher_compile(m, NULL) == -1)
		abort();
	matcher_free(m);
	free(q);
	return 0;
}

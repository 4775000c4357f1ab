/* The built-in country table (generated from iso-codes and countries.tsv). */
#include <stddef.h>
#include <strings.h>

#include "countries.h"

static const struct countries_entry countries_table[] = {
#include "countries_table.inc"
};

const struct countries_entry *
countries_all(size_t *n)
{
	*n = sizeof countries_table / sizeof countries_table[0];
	return countries_table;
}

const struct countries_entry *
countries_find_code(const char *code)
{
	size_t lo = 0, hi = sizeof countries_table / sizeof countries_table[0];
	size_t mid;
	int c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = strcasecmp(code, countries_table[mid].code);
		if (c == 0)
			return &countries_table[mid];
		if (c > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

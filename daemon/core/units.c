/*
 * Numbers and numbers with units (units.h).
 */
#include <string.h>

#include "units.h"

int
units_unit(const char **p, const char *const *units, const uint64_t *factors,
    uint64_t *factor)
{
	size_t i, n;

	for (i = 0; units[i] != NULL; i++) {
		n = strlen(units[i]);
		if (strncmp(*p, units[i], n) == 0) {
			*p += n;
			*factor = factors[i];
			return 0;
		}
	}
	return -1;
}

int
units_number(const char **p, uint64_t *n)
{
	const char *s = *p;

	*n = 0;
	while (**p >= '0' && **p <= '9') {
		if (*p - s >= 12)
			return -1;
		*n = *n * 10 + (uint64_t)(**p - '0');
		(*p)++;
	}
	return *p == s ? -1 : 0;
}

int
units_duration(const char *s, int64_t *ms)
{
	static const char *const units[] = {
	    "ms", "s", "m", "h", "d", "w", NULL};
	static const uint64_t factors[] = {
	    1, 1000, 60000, 3600000, 86400000, 604800000};
	uint64_t total = 0, n, factor;
	const char *p = s;

	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		if (units_number(&p, &n) == -1 ||
		    units_unit(&p, units, factors, &factor) == -1)
			return -1;
		if (n > ((uint64_t)INT64_MAX / 2 - total) / factor)
			return -1;
		total += n * factor;
	}
	*ms = (int64_t)total;
	return 0;
}

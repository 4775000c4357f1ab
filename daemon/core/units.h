/*
 * Numbers and numbers with units as the configuration writes them: the
 * configuration's durations and sizes, and the options notifiers read.
 */
#ifndef UNITS_H
#define UNITS_H

#include <stdint.h>

/* Digits at *P, at most 12 of them (no sign, no space, no overflow);
 * *P moves past them. 0, or -1 when there are none or too many. */
int units_number(const char **p, uint64_t *n);
/* The unit at *P, one of UNITS (NULL-terminated, longest first: "ms"
 * before "m"), and its factor from FACTORS; *P moves past it. */
int units_unit(const char **p, const char *const *units,
    const uint64_t *factors, uint64_t *factor);
/* A duration, numbers each with a unit: "90s", "10m", "1h30m", "500ms",
 * "2d", "1w". 0, or -1 when the text is not exactly that. */
int units_duration(const char *, int64_t *ms);

#endif

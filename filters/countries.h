/*
 * The built-in country entities: every ISO 3166-1 country with its ISO
 * names (from iso-codes, read at build time) and the usual short names
 * and demonyms of filters/data/countries.tsv, compiled into the program
 * so that nothing needs to be found at run time.
 */
#ifndef COUNTRIES_H
#define COUNTRIES_H

#include <stddef.h>

struct countries_entry {
	const char *code; /* ISO 3166-1 alpha-2, upper case */
	const char *key; /* the entity key: "iraq", "united-states" */
	const char *name; /* the common or short name */
	const char *const *aliases; /* NULL-terminated */
	/* Longer names holding one of its names that are not the country
	 * ("New Mexico"), NULL-terminated. */
	const char *const *not_names;
};

/* All of them, sorted by code; *n is set to how many. */
const struct countries_entry *countries_all(size_t *n);
/* The country of CODE (either case), or NULL. */
const struct countries_entry *countries_find_code(const char *code);

#endif

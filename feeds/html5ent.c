/*
 * html5ent: HTML5's named character references. See html5ent.h.
 */
#include <stdlib.h>
#include <string.h>

#include "html5ent.h"

struct html5ent {
	const char *name;
	uint32_t cp[2];
};

static const struct html5ent html5ent_table[] = {
#include "html5_entities.inc"
};

struct html5ent_key {
	const char *name;
	size_t len;
};

static int
html5ent_cmp(const void *k, const void *member)
{
	const struct html5ent_key *key = k;
	const char *name = ((const struct html5ent *)member)->name;
	size_t n = strlen(name);
	int c = memcmp(key->name, name, key->len < n ? key->len : n);

	if (c != 0)
		return c;
	return key->len < n ? -1 : key->len > n;
}

int
html5ent_lookup(const char *name, size_t len, uint32_t cp[2])
{
	struct html5ent_key key = {name, len};
	const struct html5ent *e;

	if (len == 0 || len > HTML5ENT_NAME_MAX)
		return -1;
	e = bsearch(&key, html5ent_table,
	    sizeof html5ent_table / sizeof html5ent_table[0],
	    sizeof html5ent_table[0], html5ent_cmp);
	if (e == NULL)
		return -1;
	cp[0] = e->cp[0];
	cp[1] = e->cp[1];
	return 0;
}

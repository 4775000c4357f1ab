/*
 * A small, bounded YAML document tree built from libyaml's events, with
 * the position of every node. It exists so that configuration errors can
 * name a line and column, and so that hostile YAML cannot blow up:
 * aliases are refused (no "billion laughs"), and depth, node count and
 * input size are capped.
 */
#ifndef YAMLTREE_H
#define YAMLTREE_H

#include <stddef.h>

#define YAMLTREE_MAX_INPUT (16u * 1024 * 1024)
#define YAMLTREE_MAX_DEPTH 32
#define YAMLTREE_MAX_NODES 1000000

enum yamltree_kind {
	YAMLTREE_SCALAR,
	YAMLTREE_SEQUENCE,
	YAMLTREE_MAPPING,
};

struct yamltree_node {
	enum yamltree_kind kind;
	char *value; /* scalars: the text */
	size_t value_len;
	int plain; /* scalar written unquoted */
	/* sequences: items; mappings: key, value, key, value, ... */
	struct yamltree_node **children;
	size_t nchildren;
	size_t children_alloc; /* room in children */
	unsigned line; /* 1-based */
	unsigned column; /* 1-based */
};

/*
 * Parse one YAML document from memory. An empty document gives an empty
 * mapping. On error returns NULL and sets *cause to "LINE:COL: message"
 * (owned by the caller; the caller prefixes the file name).
 */
struct yamltree_node *yamltree_parse(
    const char *data, size_t len, char **cause);
void yamltree_free(struct yamltree_node *);
const char *yamltree_kind_name(enum yamltree_kind);

#endif

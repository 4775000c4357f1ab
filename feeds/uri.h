/*
 * Resolution of relative references in feeds (links, ids, enclosure URLs)
 * against xml:base and the document's address.
 */
#ifndef URI_H
#define URI_H

/* Longest reference resolved; longer ones are refused. */
#define URI_MAX 8192

/*
 * Resolve rel against base (either may be NULL). Returns a new string the
 * caller frees, or NULL when the result is empty or its scheme is not one
 * a feed may link to (javascript:, data:, vbscript:, ...).
 */
char *uri_resolve(const char *base, const char *rel);
/* The scheme of an absolute reference is in the allowed list. */
int uri_is_safe(const char *uri);

#endif

/*
 * JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/).
 */
#ifndef JSONFEED_H
#define JSONFEED_H

#include <stddef.h>

#include "item.h"

/*
 * Parse a whole JSON Feed document (already capped by the caller); base
 * resolves relative URLs (may be NULL). Returns the document (freed with
 * feed_doc_free) or NULL with *cause.
 */
struct feed_doc *jsonfeed_parse(
    const char *data, size_t len, const char *base, char **cause);

#endif

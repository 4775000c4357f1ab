/*
 * The feed parser: RSS 0.90-0.94 and 2.0, RSS 1.0 (RDF), Atom 0.3 and
 * 1.0 and JSON Feed 1.0/1.1, detected from the content. Bytes are pushed
 * as they arrive (a curl write callback can feed it directly); the
 * document is refused as soon as one of the caps below is exceeded.
 *
 * Every outside input has a cap:
 *   FEEDPARSE_BODY_MAX        bytes pushed in all (feedparse_set_body_max)
 *   FEEDPARSE_ITEMS_MAX       items kept; later ones are dropped (truncated)
 *   FEEDPARSE_FIELD_MAX       bytes of one text field; longer ones are cut
 *   FEEDPARSE_DEPTH_MAX       element nesting
 *   FEEDPARSE_ENTITIES_MAX    entity declarations in the internal subset
 *   FEEDPARSE_ENTITY_MAX      bytes of one declared entity's value
 *   FEEDPARSE_EXPANSION_MAX   bytes produced by entity references in all
 * External entities and DTDs are never loaded; an entity whose value holds
 * a reference (the "billion laughs" shape) refuses the document.
 */
#ifndef PARSE_H
#define PARSE_H

#include <stddef.h>

#include "item.h"

#define FEEDPARSE_BODY_MAX (10 * 1024 * 1024)
#define FEEDPARSE_ITEMS_MAX 2000
/*
 * Categories kept per item; more are dropped. A bound on what a hostile
 * feed can make each item carry (a megabyte of <category> elements, or
 * of one comma-separated <tags>, would otherwise be tens of thousands,
 * up to half a million) and on the duplicate
 * check, which compares each new one with those kept.
 */
#define FEEDPARSE_CATEGORIES_MAX 256
#define FEEDPARSE_FIELD_MAX (1024 * 1024)
#define FEEDPARSE_DEPTH_MAX 64
#define FEEDPARSE_ENTITIES_MAX 64
#define FEEDPARSE_ENTITY_MAX 1024
#define FEEDPARSE_EXPANSION_MAX (1024 * 1024)

struct feedparse;

/* doc_url: the document's address (base for relative links); may be NULL. */
struct feedparse *feedparse_new(const char *doc_url);
/*
 * An HTTP response header the bytes arrived with (Content-Type charset,
 * Content-Location, ...); call before the first push.
 */
void feedparse_header(struct feedparse *, const char *name, const char *value);
/*
 * Feed the next chunk; -1 when the document was refused (a cap exceeded,
 * hostile DTD...), after which only _finish/_free may be called.
 */
int feedparse_push(struct feedparse *, const char *data, size_t len);
/*
 * End of body: the parsed document (the caller frees it with
 * feed_doc_free), or NULL with *cause ("line N: ...", freed by the
 * caller). An ill-formed but recoverable document is returned with bozo
 * set.
 */
struct feed_doc *feedparse_finish(struct feedparse *, char **cause);
void feedparse_free(struct feedparse *);
/*
 * Why a document that feedparse_finish() gave back holds no feed at all,
 * or NULL when it does. A body without a root element (empty, text,
 * binary) comes back bozo with no items, as from feedparser; a poller
 * must not take it for a feed with nothing new. Free the result.
 */
char *feedparse_refusal(const struct feed_doc *);

/* Convenience: the whole body at once. */
struct feed_doc *feedparse_buffer(
    const char *data, size_t len, const char *doc_url, char **cause);

/*
 * Hand each item to cb as soon as it is complete instead of keeping it in
 * the document, so that memory stays flat however long the feed is. cb
 * may keep the item's strings (it then clears them) ; what it leaves is
 * freed after it returns. Call before the first push.
 */
void feedparse_set_item_cb(
    struct feedparse *, void (*cb)(struct item *, void *), void *arg);
/* Raise or lower the body cap (FEEDPARSE_BODY_MAX). */
void feedparse_set_body_max(struct feedparse *, size_t);
/*
 * Whether summary_text and content_text are made (default on); off, they
 * stay NULL and only the markup is kept (the caller converts later).
 */
void feedparse_set_plain_text(struct feedparse *, int);

#endif

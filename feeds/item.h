/*
 * The record that passes between the pipeline's stages: a parsed feed
 * document and its items. The parser fills it, the store keeps it, the
 * filters read it, the notifiers render it.
 *
 * All strings are UTF-8, NUL-terminated, owned by the record, and NULL
 * when the feed did not carry the field. Text fields come twice: *_html
 * is the markup as the feed gave it (never to be forwarded unsanitized),
 * *_text is plain text (entities decoded, tags dropped, whitespace
 * collapsed, controls and bidi overrides stripped). Times are seconds
 * since the epoch, UTC, or ITEM_TIME_NONE when absent or unparseable.
 */
#ifndef ITEM_H
#define ITEM_H

#include <stddef.h>
#include <stdint.h>

#define ITEM_TIME_NONE INT64_MIN

struct item_enclosure {
	char *url;
	char *type;
	char *length; /* the attribute as written */
};

/*
 * What the store derives from an item's texts (its fingerprint and the
 * lengths of title_text, link, summary_text and content_text), worked
 * out ahead on a parser thread so that the event loop's thread does not
 * (store_doc_digest). set is 0 until then; the store then works it out
 * itself. Whoever changes those four fields afterwards clears set.
 */
struct item_digest {
	unsigned char hash[16];
	size_t lens[4];
	int set;
};

struct item {
	/*
	 * Identity, which decides what counts as new: the feed's id/guid;
	 * otherwise the link; otherwise a hash of title, date and text.
	 */
	char *key;
	char *id;
	char *title_html;
	char *title_text;
	char *link;
	int64_t published;
	int64_t updated;
	char *author;
	char *author_email;
	char *summary_html;
	char *summary_text;
	char *content_html;
	char *content_text;
	char **categories;
	size_t ncategories;
	struct item_enclosure *enclosures;
	size_t nenclosures;
	struct item_digest digest;
};

enum feed_format {
	FEED_FORMAT_UNKNOWN = 0,
	FEED_FORMAT_RSS090,
	FEED_FORMAT_RSS091,
	FEED_FORMAT_RSS092,
	FEED_FORMAT_RSS093,
	FEED_FORMAT_RSS094,
	FEED_FORMAT_RSS10,
	FEED_FORMAT_RSS20,
	FEED_FORMAT_ATOM03,
	FEED_FORMAT_ATOM10,
	FEED_FORMAT_JSONFEED,
};

struct feed_doc {
	enum feed_format format;
	char *title;
	char *link;
	/* Not clean: ill-formed, wrong content type or wrong encoding. */
	int bozo;
	char *bozo_reason;
	/* The body ended with elements still open: perhaps only part of the
	 * feed. Other faults (a bare '&', a wrong type or encoding) are bozo
	 * but leave the document whole. */
	int cut_short;
	/* Its last item was still open when the body ended: it holds only
	 * what came before the end (feedparse keeps it, as readers do). */
	int last_item_cut;
	/* A cap cut the document short (items or fields dropped). */
	int truncated;
	/* Publisher's polling hints: RSS ttl, in seconds (0 if none), and
	 * sy:updatePeriod and sy:updateFrequency as written (NULL if none). */
	int64_t ttl;
	char *update_period;
	char *update_frequency;
	struct item *items;
	size_t nitems;
};

const char *feed_format_name(enum feed_format);
void item_clear(struct item *);
/*
 * Set item->key, the identity that decides what counts as new: the id
 * (guid, Atom id, rdf:about, JSON id) when present and not blank;
 * otherwise the link; otherwise "sha256:" and the hex SHA-256 of the
 * title text, the published (or updated) time and the summary (or content)
 * text, each followed by a NUL byte. See docs/parse.md.
 */
void item_make_key(struct item *);
void feed_doc_free(struct feed_doc *);

#endif

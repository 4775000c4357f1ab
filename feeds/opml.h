/*
 * OPML subscription lists: the reader behind `feedwatch import-opml` and
 * the writer behind `feedwatch export-opml`.
 *
 * The reader treats the file as hostile input: it parses from memory
 * only, never touches the network or the file system, refuses entity
 * declarations (so no external entity and no "billion laughs"), and caps
 * the input size, the outline count, the nesting depth and the length of
 * the attributes it keeps.
 */
#ifndef OPML_H
#define OPML_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

/* Largest OPML document read, in bytes. */
#define OPML_MAX_INPUT (4u * 1024 * 1024)
/* Most <outline> elements in one document. */
#define OPML_MAX_OUTLINES 100000
/* Deepest element nesting (opml, body and the outlines inside). */
#define OPML_MAX_DEPTH 64
/* Longest xmlUrl kept; a longer one refuses its outline. */
#define OPML_MAX_URL 4096
/* Longest title kept (and folder name, category entry), in bytes; longer
 * ones are cut on a character boundary. */
#define OPML_MAX_TITLE 1024
/* Most tags (folders and categories) kept per feed; further ones are
 * dropped. */
#define OPML_MAX_TAGS 16

/*
 * A feed outline. Every string is UTF-8 owned by the struct opml that
 * holds it (or, given to opml_write, by the caller).
 */
struct opml_feed {
	const char *url; /* xmlUrl, trimmed; http:// or https:// only */
	const char *title; /* title, else text, trimmed; NULL when empty */
	/* folder names, outermost first, then the entries of the category
	 * attribute; as written in the file, without duplicates */
	const char **tags;
	size_t ntags;
	unsigned line; /* where the outline's start tag ends */
};

enum opml_note_kind {
	OPML_NOTE_DUPLICATE, /* same xmlUrl as the feed at first_line */
	OPML_NOTE_NOT_FEED, /* no xmlUrl and no child outlines */
	OPML_NOTE_SCHEME, /* xmlUrl neither http:// nor https:// */
	OPML_NOTE_BAD_URL, /* xmlUrl without host, with controls, too long,
			      or refused by libcurl's URL parser */
	OPML_NOTE_INCLUDE, /* type="include": never followed */
	OPML_NOTE_SCRAPER, /* an xmlUrl that is a web page to scrape */
	OPML_NOTE_TAGS_CUT, /* more than OPML_MAX_TAGS tags */
};

/* An outline that did not become a feed, or that was changed. */
struct opml_note {
	enum opml_note_kind kind;
	unsigned line;
	unsigned first_line; /* OPML_NOTE_DUPLICATE: the feed kept */
	const char *text; /* the url, or the title of a non-feed outline */
};

struct opml {
	const char *title; /* <head><title>, or NULL */
	int version_major; /* from <opml version="2.0">; 0 when absent */
	struct opml_feed *feeds; /* in document order */
	size_t nfeeds;
	struct opml_note *notes; /* in document order */
	size_t nnotes;
	size_t noutlines;
	unsigned denied_loads; /* external resources the parser asked for */
	struct opml_pool *pool; /* owns every string above */
};

/*
 * Parse an OPML 1.0 or 2.0 document of len bytes (any encoding libxml2
 * knows, declared or by BOM). Outlines with an xmlUrl, or with type "rss"
 * or "atom", are feeds, except FreshRSS's web scraping outlines (a type
 * naming XPath or DotNotation); the outlines around them are folders. A second
 * feed with the same xmlUrl is not kept: its tags are added to the first
 * and a note says so. On error returns NULL and sets *cause (the caller
 * frees it) to "NAME:LINE: message", NAME naming the document.
 */
struct opml *opml_parse(
    const char *data, size_t len, const char *name, char **cause);
void opml_free(struct opml *);

/* A short English description of a note kind ("duplicate feed", ...). */
const char *opml_note_name(enum opml_note_kind);

/*
 * Append an OPML 2.0 document listing n feeds to out: head with title
 * (NULL: "feedwatch feeds") and, when created is not 0, dateCreated.
 * Each feed is an outline type="rss" with text and title (the url when
 * title is NULL), xmlUrl and, when it has tags, category="tag,tag"; it
 * sits inside a folder outline named after its first tag (folders in the
 * order their first feed comes), untagged feeds at the top level.
 * Returns 0, or -1 with *cause set (caller frees) when the buffer's cap
 * is reached or a string is not UTF-8.
 */
int opml_write(struct buf *out, const char *title, time_t created,
    const struct opml_feed *feeds, size_t n, char **cause);

#endif

/*
 * OPML reader and writer, after the OPML 2.0 specification
 * (http://opml.org/spec2.opml), which also covers 1.0 documents:
 *
 *   <opml version="2.0"><head><title>...</title></head>
 *   <body><outline text="Folder"><outline type="rss" text="..."
 *       title="..." xmlUrl="..." htmlUrl="..." category="/a,b"/>
 *   </outline></body></opml>
 *
 * Readers write it in many dialects; what is read here is only what they
 * agree on: outlines with an xmlUrl (or type rss/atom) are feeds, the
 * outlines around them are folders, a title comes from "title" or else
 * "text". Attribute names are compared without case (some exporters
 * write "xmlurl").
 *
 * The reader is a SAX2 parser over libxml2 with its own handlers: it
 * never builds a tree, never loads a DTD or an external entity (a
 * deny-all entity loader is installed while it runs, and the options
 * include XML_PARSE_NONET), and stops at the first entity declaration,
 * which is what every XXE and entity-expansion attack needs.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/catalog.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlwriter.h>

#include "curlev.h"
#include "html.h"
#include "log.h"
#include "opml.h"
#include "utf8.h"
#include "xmalloc.h"

/* libxml2 options: no network, no messages on stderr; never NOENT,
 * DTDLOAD, DTDATTR, XINCLUDE or HUGE. */
#define OPML_PARSE_OPTIONS                                                     \
	(XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |           \
	    XML_PARSE_NOCDATA)
/* Longest url or title quoted back in a note. */
#define OPML_MAX_NOTE_TEXT 256

/* Every string and array a struct opml hands out. */
struct opml_pool {
	void **ptrs;
	size_t n;
	size_t cap;
};

/* A string map (url -> feed, tag -> folder): open addressing, FNV-1a. */
struct opml_map {
	const char **keys;
	size_t *values;
	size_t size; /* a power of two, or 0 */
	size_t n;
};

/* An open <outline>. */
struct opml_frame {
	const char *folder; /* its name, when it is not a feed */
	const char *text; /* its title, for the not-a-feed note */
	unsigned line;
	int is_feed;
	int noted; /* a note was given already */
	size_t nchildren;
};

enum opml_where {
	OPML_IN_NOTHING, /* before the root, or in an ignored element */
	OPML_IN_OPML,
	OPML_IN_HEAD,
	OPML_IN_HEAD_TITLE,
	OPML_IN_BODY,
};

struct opml_parser {
	xmlParserCtxtPtr ctxt;
	struct opml *o;
	const char *name;
	int depth; /* open elements */
	int seen_root;
	int seen_body;
	enum opml_where where;
	int where_depth; /* depth of the element that set "where" */
	struct opml_frame frames[OPML_MAX_DEPTH];
	size_t nframes;
	struct buf title;
	struct opml_map urls;
	size_t feeds_cap; /* o->feeds grows by doubling */
	size_t notes_cap;
	char *error; /* set once: the parse stops */
	char *xml_error; /* libxml2's first fatal error */
	unsigned xml_error_line;
};

static void *
opml_pool_keep(struct opml_pool *pool, void *p)
{
	if (pool->n == pool->cap) {
		pool->cap = pool->cap == 0 ? 64 : pool->cap * 2;
		pool->ptrs =
		    xreallocarray(pool->ptrs, pool->cap, sizeof *pool->ptrs);
	}
	pool->ptrs[pool->n++] = p;
	return p;
}

static const char *
opml_pool_strndup(struct opml_pool *pool, const char *s, size_t len)
{
	return opml_pool_keep(pool, xstrndup(s, len));
}

static void
opml_pool_free(struct opml_pool *pool)
{
	size_t i;

	if (pool == NULL)
		return;
	for (i = 0; i < pool->n; i++)
		free(pool->ptrs[i]);
	free(pool->ptrs);
	free(pool);
}

static uint64_t
opml_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The slot of key: where it is, or the empty one where it would go. */
static size_t
opml_map_slot(const struct opml_map *map, const char *key)
{
	size_t i = (size_t)opml_hash(key) & (map->size - 1);

	while (map->keys[i] != NULL && strcmp(map->keys[i], key) != 0)
		i = (i + 1) & (map->size - 1);
	return i;
}

/* The value of key, or (size_t)-1. */
static size_t
opml_map_get(const struct opml_map *map, const char *key)
{
	size_t i;

	if (map->size == 0)
		return (size_t)-1;
	i = opml_map_slot(map, key);
	return map->keys[i] != NULL ? map->values[i] : (size_t)-1;
}

/* Add key (not owned; must outlive the map) unless it is there. */
static void
opml_map_put(struct opml_map *map, const char *key, size_t value)
{
	struct opml_map old = *map;
	size_t i;

	if (2 * (map->n + 1) > map->size) {
		map->size = map->size == 0 ? 64 : map->size * 2;
		map->keys = xcalloc(map->size, sizeof *map->keys);
		map->values = xcalloc(map->size, sizeof *map->values);
		map->n = 0;
		for (i = 0; i < old.size; i++)
			if (old.keys[i] != NULL)
				opml_map_put(map, old.keys[i], old.values[i]);
		free(old.keys);
		free(old.values);
	}
	i = opml_map_slot(map, key);
	if (map->keys[i] != NULL)
		return;
	map->keys[i] = key;
	map->values[i] = value;
	map->n++;
}

static void
opml_map_free(struct opml_map *map)
{
	free(map->keys);
	free(map->values);
	memset(map, 0, sizeof *map);
}

static int
opml_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * An attribute value as SAX2 hands it over, made plain: without
 * XML_PARSE_NOENT, libxml2 passes "&amp;" and "&#38;" on as "&#38;" (for
 * a tree builder to decode later), and since no other entity can be
 * declared, that is the only reference left. Leading and trailing
 * whitespace is trimmed. The result is malloc'd; *lenp is its length.
 */
static char *
opml_attr_text(const xmlChar *value, const xmlChar *end, size_t *lenp)
{
	const char *s = (const char *)value, *e = (const char *)end;
	char *out, *o;

	while (s < e && opml_is_space(*s))
		s++;
	while (e > s && opml_is_space(e[-1]))
		e--;
	out = o = xmalloc((size_t)(e - s) + 1);
	while (s < e) {
		if (*s == '&' && e - s >= 5 && memcmp(s, "&#38;", 5) == 0) {
			*o++ = '&';
			s += 5;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	*lenp = (size_t)(o - out);
	return out;
}

/* Whether s holds something that looks like an HTML character or entity
 * reference: "&name;", "&#123;" or "&#x1f;". */
static int
opml_has_html_ref(const char *s)
{
	const char *p;

	for (s = strchr(s, '&'); s != NULL; s = strchr(s + 1, '&')) {
		p = s + 1;
		if (*p == '#') {
			p++;
			if (*p == 'x' || *p == 'X') {
				p++;
				while ((*p >= '0' && *p <= '9') ||
				    (*p >= 'a' && *p <= 'f') ||
				    (*p >= 'A' && *p <= 'F'))
					p++;
			} else
				while (*p >= '0' && *p <= '9')
					p++;
		} else
			while ((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9'))
				p++;
		if (*p == ';' && p > s + 2)
			return 1;
	}
	return 0;
}

/*
 * A title from an attribute: trimmed, HTML references decoded once more
 * when some are left (exporters that escape twice write "&amp;amp;"),
 * cut to OPML_MAX_TITLE. NULL when empty.
 */
static const char *
opml_title(struct opml_parser *p, const xmlChar *value, const xmlChar *end)
{
	char *text, *html, *o, *decoded;
	const char *s, *kept;
	size_t len;

	text = opml_attr_text(value, end, &len);
	if (opml_has_html_ref(text)) {
		/* keep '<' as text: only references are to be decoded */
		html = o = xmalloc(len * 4 + 1);
		for (s = text; *s != '\0'; s++) {
			if (*s == '<') {
				memcpy(o, "&lt;", 4);
				o += 4;
			} else
				*o++ = *s;
		}
		*o = '\0';
		decoded =
		    html_to_text(html, (size_t)(o - html), OPML_MAX_TITLE);
		free(html);
		free(text);
		text = decoded;
		len = strlen(text);
	}
	len = utf8_cut(text, len, OPML_MAX_TITLE);
	kept = len > 0 ? opml_pool_strndup(p->o->pool, text, len) : NULL;
	free(text);
	return kept;
}

static void opml_fail(struct opml_parser *p, unsigned line, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* Stop the parse with an error at line (0: the current line). */
static void
opml_fail(struct opml_parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (p->error != NULL)
		return;
	if (line == 0)
		line = (unsigned)xmlSAX2GetLineNumber(p->ctxt);
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("vasprintf: out of memory");
	va_end(ap);
	xasprintf(&p->error, "%s:%u: %s", p->name, line, msg);
	free(msg);
	xmlStopParser(p->ctxt);
}

static void
opml_note(struct opml_parser *p, enum opml_note_kind kind, unsigned line,
    unsigned first_line, const char *text)
{
	struct opml *o = p->o;
	struct opml_note *note;
	size_t len;

	if (o->nnotes == p->notes_cap) {
		p->notes_cap = p->notes_cap == 0 ? 16 : p->notes_cap * 2;
		o->notes =
		    xreallocarray(o->notes, p->notes_cap, sizeof *o->notes);
	}
	note = &o->notes[o->nnotes++];
	note->kind = kind;
	note->line = line;
	note->first_line = first_line;
	note->text = NULL;
	if (text != NULL) {
		len = utf8_cut(text, strlen(text), OPML_MAX_NOTE_TEXT);
		note->text = opml_pool_strndup(o->pool, text, len);
	}
}

/* Add tag to a feed's tags unless it is there; 0, or -1 when full. */
static int
opml_add_tag(struct opml_parser *p, struct opml_feed *feed, const char *tag)
{
	size_t i;

	for (i = 0; i < feed->ntags; i++)
		if (strcmp(feed->tags[i], tag) == 0)
			return 0;
	if (feed->ntags == OPML_MAX_TAGS)
		return -1;
	if (feed->tags == NULL)
		feed->tags = opml_pool_keep(
		    p->o->pool, xcalloc(OPML_MAX_TAGS, sizeof *feed->tags));
	feed->tags[feed->ntags++] = tag;
	return 0;
}

/* Add the entries of a category attribute ("/a/b,c") as tags. */
static int
opml_add_categories(struct opml_parser *p, struct opml_feed *feed,
    const xmlChar *value, const xmlChar *end)
{
	const char *s = (const char *)value, *e = (const char *)end, *t;
	const char *tag;
	int rc = 0;

	while (s < e) {
		t = s;
		while (t < e && *t != ',' && *t != '/')
			t++;
		tag = opml_title(p, (const xmlChar *)s, (const xmlChar *)t);
		if (tag != NULL && opml_add_tag(p, feed, tag) == -1)
			rc = -1;
		s = t + 1;
	}
	return rc;
}

/* Check and normalize an xmlUrl; the kept url, or NULL after a note. */
static const char *
opml_feed_url(struct opml_parser *p, const char *url, size_t len, unsigned line)
{
	char *copy, *why;
	const char *host;
	size_t i;

	if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else {
		opml_note(p, OPML_NOTE_SCHEME, line, 0, url);
		return NULL;
	}
	if (len > OPML_MAX_URL || *host == '\0' || *host == '/' ||
	    *host == '?' || *host == '#') {
		opml_note(p, OPML_NOTE_BAD_URL, line, 0, url);
		return NULL;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f) {
			opml_note(p, OPML_NOTE_BAD_URL, line, 0, url);
			return NULL;
		}
	/* the configuration wants the scheme in lower case */
	copy = xstrndup(url, len);
	for (i = 0; i < (size_t)(host - url) - 3; i++)
		copy[i] = (char)tolower((unsigned char)copy[i]);
	/* and refuses what libcurl's parser does ("a.b:x/", "[::1") */
	if (curlev_url_check(copy, &why) == -1) {
		free(why);
		free(copy);
		opml_note(p, OPML_NOTE_BAD_URL, line, 0, url);
		return NULL;
	}
	return opml_pool_keep(p->o->pool, copy);
}

struct opml_attrs {
	const xmlChar *v[5][2]; /* value, end */
};

enum { OPML_A_XMLURL, OPML_A_TITLE, OPML_A_TEXT, OPML_A_TYPE, OPML_A_CATEGORY };

static void
opml_get_attrs(struct opml_attrs *a, int nattrs, const xmlChar **attrs)
{
	static const char *const names[] = {
	    "xmlUrl", "title", "text", "type", "category"};
	int i, k;

	memset(a, 0, sizeof *a);
	for (i = 0; i < nattrs; i++) {
		/* unprefixed attributes only: fz:title is not title */
		if (attrs[i * 5 + 1] != NULL)
			continue;
		for (k = 0; k < 5; k++)
			if (strcasecmp((const char *)attrs[i * 5], names[k]) ==
			    0) {
				a->v[k][0] = attrs[i * 5 + 3];
				a->v[k][1] = attrs[i * 5 + 4];
			}
	}
}

static int
opml_attr_is(const struct opml_attrs *a, int k, const char *want)
{
	size_t len = strlen(want);

	return a->v[k][0] != NULL && (size_t)(a->v[k][1] - a->v[k][0]) == len &&
	    strncasecmp((const char *)a->v[k][0], want, len) == 0;
}

/* FreshRSS writes the pages it scrapes as outlines with an xmlUrl and a
 * type like "HTML+XPath", "XML+XPath" or "JSON+DotNotation". */
static int
opml_is_scraper(const struct opml_attrs *a)
{
	const char *s = (const char *)a->v[OPML_A_TYPE][0];
	const char *e = (const char *)a->v[OPML_A_TYPE][1];
	size_t i;

	for (; s != NULL && s < e; s++)
		for (i = 0; i < 2; i++) {
			const char *w = i == 0 ? "xpath" : "dotnotation";
			size_t n = strlen(w);

			if ((size_t)(e - s) >= n && strncasecmp(s, w, n) == 0)
				return 1;
		}
	return 0;
}

/* A feed outline: checked, de-duplicated, tagged with its folders. */
static void
opml_add_feed(struct opml_parser *p, const struct opml_attrs *a,
    const char *title, unsigned line, struct opml_frame *frame)
{
	struct opml *o = p->o;
	struct opml_feed scratch, *feed;
	const char *url;
	char *raw;
	size_t len, i, first;
	int cut = 0;

	frame->is_feed = 1;
	raw = opml_attr_text(
	    a->v[OPML_A_XMLURL][0], a->v[OPML_A_XMLURL][1], &len);
	url = opml_feed_url(p, raw, len, line);
	free(raw);
	if (url == NULL) {
		frame->noted = 1;
		return;
	}
	if ((first = opml_map_get(&p->urls, url)) != (size_t)-1) {
		/* the same feed in another folder: one feed, more tags */
		feed = &o->feeds[first];
		opml_note(p, OPML_NOTE_DUPLICATE, line, feed->line, url);
		frame->noted = 1;
	} else {
		memset(&scratch, 0, sizeof scratch);
		scratch.url = url;
		scratch.title = title;
		scratch.line = line;
		if (o->nfeeds == p->feeds_cap) {
			p->feeds_cap =
			    p->feeds_cap == 0 ? 64 : p->feeds_cap * 2;
			o->feeds = xreallocarray(
			    o->feeds, p->feeds_cap, sizeof *o->feeds);
		}
		feed = &o->feeds[o->nfeeds];
		*feed = scratch;
		opml_map_put(&p->urls, url, o->nfeeds++);
	}
	for (i = 0; i + 1 < p->nframes; i++)
		if (p->frames[i].folder != NULL &&
		    opml_add_tag(p, feed, p->frames[i].folder) == -1)
			cut = 1;
	if (a->v[OPML_A_CATEGORY][0] != NULL &&
	    opml_add_categories(p, feed, a->v[OPML_A_CATEGORY][0],
		a->v[OPML_A_CATEGORY][1]) == -1)
		cut = 1;
	if (cut)
		opml_note(p, OPML_NOTE_TAGS_CUT, line, 0, url);
}

static void
opml_start_outline(struct opml_parser *p, int nattrs, const xmlChar **attrs)
{
	struct opml_frame *frame;
	struct opml_attrs a;
	const char *title;
	unsigned line = (unsigned)xmlSAX2GetLineNumber(p->ctxt);

	if (++p->o->noutlines > OPML_MAX_OUTLINES) {
		opml_fail(p, line, "more than %d outlines", OPML_MAX_OUTLINES);
		return;
	}
	if (p->nframes > 0)
		p->frames[p->nframes - 1].nchildren++;
	/* depth is capped below OPML_MAX_DEPTH, so there is a frame */
	frame = &p->frames[p->nframes++];
	memset(frame, 0, sizeof *frame);
	frame->line = line;
	opml_get_attrs(&a, nattrs, attrs);
	title = NULL;
	if (a.v[OPML_A_TITLE][0] != NULL)
		title =
		    opml_title(p, a.v[OPML_A_TITLE][0], a.v[OPML_A_TITLE][1]);
	if (title == NULL && a.v[OPML_A_TEXT][0] != NULL)
		title = opml_title(p, a.v[OPML_A_TEXT][0], a.v[OPML_A_TEXT][1]);
	frame->text = title;
	/* a blank xmlUrl is no xmlUrl */
	while (a.v[OPML_A_XMLURL][0] != NULL &&
	    a.v[OPML_A_XMLURL][0] < a.v[OPML_A_XMLURL][1] &&
	    opml_is_space(*a.v[OPML_A_XMLURL][0]))
		a.v[OPML_A_XMLURL][0]++;
	if (a.v[OPML_A_XMLURL][0] != NULL &&
	    a.v[OPML_A_XMLURL][1] > a.v[OPML_A_XMLURL][0] &&
	    opml_is_scraper(&a)) {
		opml_note(p, OPML_NOTE_SCRAPER, line, 0, title);
		frame->noted = frame->is_feed = 1;
		return;
	}
	if (a.v[OPML_A_XMLURL][0] != NULL &&
	    a.v[OPML_A_XMLURL][1] > a.v[OPML_A_XMLURL][0]) {
		opml_add_feed(p, &a, title, line, frame);
		return;
	}
	if (opml_attr_is(&a, OPML_A_TYPE, "include")) {
		opml_note(p, OPML_NOTE_INCLUDE, line, 0, title);
		frame->noted = 1;
		return;
	}
	if (opml_attr_is(&a, OPML_A_TYPE, "rss") ||
	    opml_attr_is(&a, OPML_A_TYPE, "atom"))
		return; /* a feed without its url; noted at its end */
	frame->folder = title;
}

static void
opml_end_outline(struct opml_parser *p)
{
	struct opml_frame *frame = &p->frames[--p->nframes];

	if (!frame->is_feed && !frame->noted && frame->nchildren == 0)
		opml_note(p, OPML_NOTE_NOT_FEED, frame->line, 0, frame->text);
}

static void
opml_start_cb(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nns, const xmlChar **ns, int nattrs, int ndefaulted,
    const xmlChar **attrs)
{
	struct opml_parser *p = ctx;
	const char *name = (const char *)localname;
	int i;

	if (p->error != NULL)
		return;
	if (++p->depth > OPML_MAX_DEPTH) {
		opml_fail(
		    p, 0, "elements nested deeper than %d", OPML_MAX_DEPTH);
		return;
	}
	if (!p->seen_root) {
		p->seen_root = 1;
		if (strcmp(name, "opml") != 0) {
			opml_fail(p, 0,
			    "not an OPML document (the root element is "
			    "<%.64s>)",
			    name);
			return;
		}
		for (i = 0; i < nattrs; i++)
			if (attrs[i * 5 + 1] == NULL &&
			    strcmp((const char *)attrs[i * 5], "version") == 0)
				p->o->version_major =
				    atoi((const char *)attrs[i * 5 + 3]);
		p->where = OPML_IN_OPML;
		p->where_depth = p->depth;
		return;
	}
	switch (p->where) {
	case OPML_IN_OPML:
		if (p->depth != p->where_depth + 1)
			return;
		if (strcmp(name, "head") == 0)
			p->where = OPML_IN_HEAD;
		else if (strcmp(name, "body") == 0) {
			p->where = OPML_IN_BODY;
			p->seen_body = 1;
		} else
			return;
		p->where_depth = p->depth;
		return;
	case OPML_IN_HEAD:
		if (p->depth == p->where_depth + 1 &&
		    strcmp(name, "title") == 0 && p->o->title == NULL) {
			p->where = OPML_IN_HEAD_TITLE;
			p->where_depth = p->depth;
			buf_reset(&p->title);
		}
		return;
	case OPML_IN_BODY:
		if (strcmp(name, "outline") == 0)
			opml_start_outline(p, nattrs, attrs);
		return;
	default:
		return;
	}
}

static void
opml_end_cb(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct opml_parser *p = ctx;
	const char *s;
	size_t len;

	if (p->error != NULL)
		return;
	if (p->where == OPML_IN_BODY &&
	    strcmp((const char *)localname, "outline") == 0 && p->nframes > 0)
		opml_end_outline(p);
	if (p->depth == p->where_depth) {
		switch (p->where) {
		case OPML_IN_HEAD_TITLE:
			s = buf_str(&p->title);
			len = utf8_cut(s, p->title.len, OPML_MAX_TITLE);
			while (len > 0 && opml_is_space(*s)) {
				s++;
				len--;
			}
			while (len > 0 && opml_is_space(s[len - 1]))
				len--;
			if (len > 0)
				p->o->title =
				    opml_pool_strndup(p->o->pool, s, len);
			p->where = OPML_IN_HEAD;
			p->where_depth--;
			break;
		case OPML_IN_HEAD:
		case OPML_IN_BODY:
			p->where = OPML_IN_OPML;
			p->where_depth--;
			break;
		default:
			p->where = OPML_IN_NOTHING;
			break;
		}
	}
	p->depth--;
}

static void
opml_characters_cb(void *ctx, const xmlChar *text, int len)
{
	struct opml_parser *p = ctx;

	size_t room;

	/* one byte more than kept, to cut on a character boundary */
	if (p->where != OPML_IN_HEAD_TITLE || p->title.len > OPML_MAX_TITLE)
		return;
	room = OPML_MAX_TITLE + 1 - p->title.len;
	buf_add(&p->title, text, (size_t)len < room ? (size_t)len : room);
}

/* Any entity declaration ends the parse: an OPML file needs none. */
static void
opml_entity_decl_cb(void *ctx, const xmlChar *name, int type,
    const xmlChar *public_id, const xmlChar *system_id, xmlChar *content)
{
	struct opml_parser *p = ctx;

	opml_fail(p, 0,
	    "entity declarations are not allowed (<!ENTITY %.64s>); "
	    "the file was not read",
	    (const char *)name);
}

static void
opml_error_cb(void *ctx, xmlErrorPtr error)
{
	struct opml_parser *p = ctx;
	size_t len;

	if (error->level != XML_ERR_FATAL || p->xml_error != NULL ||
	    error->message == NULL)
		return;
	/* the first line: libxml2 may add a second with the bytes */
	p->xml_error = xstrndup(error->message, strcspn(error->message, "\n"));
	len = strlen(p->xml_error);
	while (len > 0 && opml_is_space(p->xml_error[len - 1]))
		p->xml_error[--len] = '\0';
	p->xml_error_line = error->line > 0 ? (unsigned)error->line : 1;
}

/* The active parse, for the entity loader, which has no user data. */
static struct opml_parser *opml_active;

/* External entities, DTDs and XIncludes are never loaded. */
static xmlParserInputPtr
opml_deny_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	if (opml_active != NULL)
		opml_active->o->denied_loads++;
	return NULL;
}

static void
opml_quiet_cb(void *ctx, const char *fmt, ...)
{
}

struct opml *
opml_parse(const char *data, size_t len, const char *name, char **cause)
{
	struct opml_parser p;
	struct opml *o;
	xmlSAXHandler sax;
	xmlExternalEntityLoader prev;
	xmlGenericErrorFunc prev_error;
	void *prev_error_ctx;

	*cause = NULL;
	if (len > OPML_MAX_INPUT) {
		xasprintf(
		    cause, "%s:1: larger than %u bytes", name, OPML_MAX_INPUT);
		return NULL;
	}
	if (len == 0) {
		xasprintf(cause, "%s:1: the file is empty", name);
		return NULL;
	}
	xmlInitParser();
#ifdef LIBXML_CATALOG_ENABLED
	xmlCatalogSetDefaults(XML_CATA_ALLOW_NONE);
#endif
	o = xcalloc(1, sizeof *o);
	o->pool = xcalloc(1, sizeof *o->pool);
	memset(&p, 0, sizeof p);
	p.o = o;
	p.name = name;
	buf_init(&p.title, OPML_MAX_TITLE + 1);

	memset(&sax, 0, sizeof sax);
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = opml_start_cb;
	sax.endElementNs = opml_end_cb;
	sax.characters = opml_characters_cb;
	sax.entityDecl = opml_entity_decl_cb;
	sax.serror = opml_error_cb;
	/* OPML_MAX_INPUT keeps len well within an int */
	if ((p.ctxt = xmlCreateMemoryParserCtxt(data, (int)len)) == NULL)
		fatalx("xmlCreateMemoryParserCtxt: out of memory");
	*p.ctxt->sax = sax;
	p.ctxt->userData = &p;
	xmlCtxtUseOptions(p.ctxt, OPML_PARSE_OPTIONS);

	prev = xmlGetExternalEntityLoader();
	prev_error = xmlGenericError;
	prev_error_ctx = xmlGenericErrorContext;
	xmlSetExternalEntityLoader(opml_deny_loader);
	/* encoding errors bypass the parser's handler: keep them quiet */
	xmlSetGenericErrorFunc(NULL, opml_quiet_cb);
	opml_active = &p;
	xmlParseDocument(p.ctxt);
	opml_active = NULL;
	xmlSetGenericErrorFunc(prev_error_ctx, prev_error);
	xmlSetExternalEntityLoader(prev);

	if (p.error == NULL && (!p.ctxt->wellFormed || p.xml_error != NULL))
		xasprintf(&p.error, "%s:%u: %s", name,
		    p.xml_error != NULL ? p.xml_error_line : 1,
		    p.xml_error != NULL ? p.xml_error : "not well-formed XML");
	if (p.error == NULL && !p.seen_body)
		xasprintf(&p.error, "%s:%d: not an OPML document (no <body>)",
		    name, xmlSAX2GetLineNumber(p.ctxt));
	if (p.ctxt->myDoc != NULL)
		xmlFreeDoc(p.ctxt->myDoc);
	xmlFreeParserCtxt(p.ctxt);
	buf_free(&p.title);
	opml_map_free(&p.urls);
	free(p.xml_error);
	if (p.error != NULL) {
		*cause = p.error;
		opml_free(o);
		return NULL;
	}
	return o;
}

void
opml_free(struct opml *o)
{
	if (o == NULL)
		return;
	free(o->feeds);
	free(o->notes);
	opml_pool_free(o->pool);
	free(o);
}

const char *
opml_note_name(enum opml_note_kind kind)
{
	switch (kind) {
	case OPML_NOTE_DUPLICATE:
		return "duplicate feed";
	case OPML_NOTE_NOT_FEED:
		return "not a feed (no xmlUrl)";
	case OPML_NOTE_SCHEME:
		return "unsupported url scheme (only http and https)";
	case OPML_NOTE_BAD_URL:
		return "unusable url";
	case OPML_NOTE_INCLUDE:
		return "include outline not followed";
	case OPML_NOTE_SCRAPER:
		return "web page to scrape, not a feed";
	case OPML_NOTE_TAGS_CUT:
		return "too many folders and categories";
	}
	return "note";
}

/* Writer. Every text goes through xmlTextWriter, which escapes it. */

/*
 * s as text XML 1.0 can carry: invalid UTF-8, C0 controls other than
 * tab, LF and CR, and U+FFFE and U+FFFF become U+FFFD (the writer would
 * pass them through into a document no parser reads). *changed is set
 * when something was replaced. The caller frees the result.
 */
static char *
opml_xml_text(const char *s, int *changed)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n, k;
	struct buf b;
	uint32_t cp;
	int ok;

	buf_init(&b, SIZE_MAX / 2);
	while (i < len) {
		n = u[i] < 0x80   ? 1
		    : u[i] < 0xc2 ? 0
		    : u[i] < 0xe0 ? 2
		    : u[i] < 0xf0 ? 3
		    : u[i] < 0xf5 ? 4
				  : 0;
		ok = n > 0 && i + n <= len;
		cp = n == 1 ? u[i] : n > 0 ? u[i] & (0x7f >> n) : 0;
		for (k = 1; ok && k < n; k++) {
			ok = (u[i + k] & 0xc0) == 0x80;
			cp = cp << 6 | (u[i + k] & 0x3f);
		}
		if (ok)
			ok = !(n == 3 && cp < 0x800) &&
			    !(n == 4 && (cp < 0x10000 || cp > 0x10ffff)) &&
			    !(cp >= 0xd800 && cp <= 0xdfff) &&
			    !(cp < 0x20 && cp != '\t' && cp != '\n' &&
				cp != '\r') &&
			    cp != 0xfffe && cp != 0xffff;
		if (ok) {
			buf_add(&b, u + i, n);
			i += n;
		} else {
			buf_addstr(&b, "\xef\xbf\xbd");
			*changed = 1;
			i += n > 0 && i + n <= len ? n : 1;
		}
	}
	return buf_take(&b, NULL);
}

static int
opml_write_attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	int changed = 0, rc;
	char *text = opml_xml_text(value, &changed);

	rc = xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST text);
	free(text);
	return rc < 0 ? -1 : 0;
}

static int
opml_write_feed(xmlTextWriterPtr w, const struct opml_feed *feed)
{
	const char *title = feed->title != NULL ? feed->title : feed->url;
	struct buf cat;
	size_t i;
	int rc = 0;

	if (xmlTextWriterStartElement(w, BAD_CAST "outline") < 0 ||
	    opml_write_attr(w, "type", "rss") == -1 ||
	    opml_write_attr(w, "text", title) == -1 ||
	    opml_write_attr(w, "title", title) == -1 ||
	    opml_write_attr(w, "xmlUrl", feed->url) == -1)
		return -1;
	if (feed->ntags > 0) {
		buf_init(&cat, SIZE_MAX / 2);
		for (i = 0; i < feed->ntags; i++)
			buf_printf(
			    &cat, "%s%s", i > 0 ? "," : "", feed->tags[i]);
		rc = opml_write_attr(w, "category", buf_str(&cat));
		buf_free(&cat);
		if (rc == -1)
			return -1;
	}
	return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}

/* The body: folders by first tag, in the order their first feed comes. */
static int
opml_write_body(xmlTextWriterPtr w, const struct opml_feed *feeds, size_t n)
{
	struct opml_map folders;
	size_t *group, *order, *begin, *next, nfolders = 0, i, j, g;
	char *written;
	int rc = 0;

	memset(&folders, 0, sizeof folders);
	group = xcalloc(n + 1, sizeof *group); /* folder + 1, or 0 */
	for (i = 0; i < n; i++) {
		if (feeds[i].ntags == 0)
			continue;
		if ((g = opml_map_get(&folders, feeds[i].tags[0])) ==
		    (size_t)-1) {
			g = nfolders++;
			opml_map_put(&folders, feeds[i].tags[0], g);
		}
		group[i] = g + 1;
	}
	/* the tagged feeds sorted by folder, each folder in feed order */
	begin = xcalloc(nfolders + 1, sizeof *begin);
	next = xcalloc(nfolders + 1, sizeof *next);
	order = xcalloc(n + 1, sizeof *order);
	written = xcalloc(nfolders + 1, 1);
	for (i = 0; i < n; i++)
		if (group[i] > 0)
			begin[group[i]]++;
	for (g = 1; g <= nfolders; g++)
		begin[g] += begin[g - 1];
	memcpy(next, begin, (nfolders + 1) * sizeof *next);
	for (i = 0; i < n; i++)
		if (group[i] > 0)
			order[next[group[i] - 1]++] = i;
	for (i = 0; i < n && rc == 0; i++) {
		if (group[i] == 0) {
			rc = opml_write_feed(w, &feeds[i]);
			continue;
		}
		g = group[i] - 1;
		if (written[g])
			continue;
		written[g] = 1;
		if (xmlTextWriterStartElement(w, BAD_CAST "outline") < 0 ||
		    opml_write_attr(w, "text", feeds[i].tags[0]) == -1 ||
		    opml_write_attr(w, "title", feeds[i].tags[0]) == -1) {
			rc = -1;
			break;
		}
		for (j = begin[g]; j < begin[g + 1] && rc == 0; j++)
			rc = opml_write_feed(w, &feeds[order[j]]);
		if (rc == 0 && xmlTextWriterEndElement(w) < 0)
			rc = -1;
	}
	free(group);
	free(order);
	free(begin);
	free(next);
	free(written);
	opml_map_free(&folders);
	return rc;
}

static int
opml_write_title(xmlTextWriterPtr w, const char *title)
{
	int changed = 0, rc;
	char *text = opml_xml_text(title, &changed);

	rc = xmlTextWriterWriteElement(w, BAD_CAST "title", BAD_CAST text);
	free(text);
	return rc < 0 ? -1 : 0;
}

int
opml_write(struct buf *out, const char *title, time_t created,
    const struct opml_feed *feeds, size_t n, char **cause)
{
	xmlBufferPtr xbuf;
	xmlTextWriterPtr w;
	char date[64];
	struct tm tm;
	size_t i;
	int rc = -1, changed;

	*cause = NULL;
	for (i = 0; i < n; i++) {
		changed = 0;
		free(opml_xml_text(feeds[i].url, &changed));
		if (changed) {
			xasprintf(cause,
			    "feed url \"%.128s\" is not UTF-8 text XML can "
			    "carry",
			    feeds[i].url);
			return -1;
		}
	}
	xmlInitParser();
	if ((xbuf = xmlBufferCreate()) == NULL ||
	    (w = xmlNewTextWriterMemory(xbuf, 0)) == NULL)
		fatalx("xmlTextWriter: out of memory");
	xmlTextWriterSetIndent(w, 1);
	xmlTextWriterSetIndentString(w, BAD_CAST "  ");
	if (xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "opml") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "version", BAD_CAST "2.0") <
		0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "head") < 0 ||
	    opml_write_title(w, title != NULL ? title : "feedwatch feeds") ==
		-1)
		goto out;
	if (created != 0) {
		gmtime_r(&created, &tm);
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		if (xmlTextWriterWriteElement(
			w, BAD_CAST "dateCreated", BAD_CAST date) < 0)
			goto out;
	}
	if (xmlTextWriterWriteElement(w, BAD_CAST "docs",
		BAD_CAST "http://opml.org/spec2.opml") < 0 ||
	    xmlTextWriterEndElement(w) < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "body") < 0 ||
	    opml_write_body(w, feeds, n) == -1 ||
	    xmlTextWriterEndDocument(w) < 0)
		goto out;
	xmlFreeTextWriter(w);
	w = NULL;
	if (buf_add(out, xmlBufferContent(xbuf),
		(size_t)xmlBufferLength(xbuf)) == -1) {
		xasprintf(cause, "the OPML document is larger than %zu bytes",
		    out->cap);
		xmlBufferFree(xbuf);
		return -1;
	}
	rc = 0;
out:
	if (w != NULL)
		xmlFreeTextWriter(w);
	xmlBufferFree(xbuf);
	if (rc == -1 && *cause == NULL)
		xasprintf(
		    cause, "cannot write OPML (a text that is not UTF-8?)");
	return rc;
}

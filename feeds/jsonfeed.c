/*
 * JSON Feed 1.0/1.1 (https://www.jsonfeed.org/version/1.1/) through
 * jansson. Field mapping: title, home_page_url -> feed title, link; per
 * item id, url (else external_url), title, summary, content_html (markup)
 * or content_text, date_published, date_modified (RFC 3339), the first of
 * authors[] (1.1) or author (1.0), tags, attachments (url, mime_type,
 * size_in_bytes). The caps of parse.h apply.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "date.h"
#include "html.h"
#include "jsonfeed.h"
#include "log.h"
#include "parse.h"
#include "uri.h"
#include "utf8.h"
#include "xmalloc.h"

/*
 * The text of string V (NULL when V is not one). JSON allows "\u0000",
 * which a C string cannot hold: each is dropped, in the tree itself, so
 * that the rest of the string is not cut off there (it is invisible, and
 * a name written "Sud\u0000ani" still reads "Sudani").
 */
static const char *
jsonfeed_string(json_t *v)
{
	const char *s;
	size_t len, i, n = 0;
	char *copy;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	len = json_string_length(v);
	if (memchr(s, '\0', len) == NULL)
		return s;
	copy = xmalloc(len + 1);
	for (i = 0; i < len; i++)
		if (s[i] != '\0')
			copy[n++] = s[i];
	copy[n] = '\0';
	/* a copy of valid UTF-8 without its NULs is valid UTF-8 */
	if (json_string_setn_nocheck(v, copy, n) == -1)
		fatalx("json_string_setn_nocheck failed");
	free(copy);
	return json_string_value(v);
}

static const char *
jsonfeed_str(json_t *obj, const char *key)
{
	return jsonfeed_string(json_object_get(obj, key));
}

/* A string field, cut to FEEDPARSE_FIELD_MAX on a character boundary. */
static char *
jsonfeed_dup(const char *s)
{
	if (s == NULL)
		return NULL;
	return xstrndup(s, utf8_cut(s, strlen(s), FEEDPARSE_FIELD_MAX));
}

static int64_t
jsonfeed_date(const char *s)
{
	int64_t t;

	if (s == NULL || date_parse(s, &t) == -1)
		return ITEM_TIME_NONE;
	return t;
}

static void
jsonfeed_text(const char *plain, char **html, char **text)
{
	size_t len = strlen(plain);

	*text = html_clean_text(plain, len, FEEDPARSE_FIELD_MAX);
	*html = jsonfeed_dup(plain);
}

static void
jsonfeed_item(json_t *obj, const char *base, struct item *item)
{
	json_t *v, *authors, *tags, *att;
	const char *s;
	size_t i, n;
	char num[32];

	memset(item, 0, sizeof *item);
	item->published = item->updated = ITEM_TIME_NONE;
	v = json_object_get(obj, "id");
	if (json_is_string(v))
		item->id = jsonfeed_dup(jsonfeed_string(v));
	else if (json_is_integer(v)) {
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		item->id = xstrdup(num);
	} else if (json_is_real(v)) {
		/* "a number": read as a string, as the format asks */
		snprintf(num, sizeof num, "%.17g", json_real_value(v));
		item->id = xstrdup(num);
	}
	if ((s = jsonfeed_str(obj, "url")) == NULL)
		s = jsonfeed_str(obj, "external_url");
	if (s != NULL)
		item->link = uri_resolve_link(base, s);
	if ((s = jsonfeed_str(obj, "title")) != NULL)
		jsonfeed_text(s, &item->title_html, &item->title_text);
	if ((s = jsonfeed_str(obj, "summary")) != NULL)
		jsonfeed_text(s, &item->summary_html, &item->summary_text);
	if ((s = jsonfeed_str(obj, "content_html")) != NULL) {
		item->content_html = jsonfeed_dup(s);
		item->content_text =
		    html_to_text(s, strlen(s), FEEDPARSE_FIELD_MAX);
	} else if ((s = jsonfeed_str(obj, "content_text")) != NULL)
		jsonfeed_text(s, &item->content_html, &item->content_text);
	item->published = jsonfeed_date(jsonfeed_str(obj, "date_published"));
	item->updated = jsonfeed_date(jsonfeed_str(obj, "date_modified"));
	authors = json_object_get(obj, "authors");
	if (json_is_array(authors) && json_array_size(authors) > 0)
		v = json_array_get(authors, 0);
	else
		v = json_object_get(obj, "author");
	if (json_is_object(v) && (s = jsonfeed_str(v, "name")) != NULL)
		item->author = jsonfeed_dup(s);
	tags = json_object_get(obj, "tags");
	if (json_is_array(tags)) {
		n = json_array_size(tags);
		item->categories = xcalloc(n + 1, sizeof *item->categories);
		for (i = 0; i < n; i++) {
			v = json_array_get(tags, i);
			if ((s = jsonfeed_string(v)) != NULL && *s != '\0')
				item->categories[item->ncategories++] =
				    jsonfeed_dup(s);
		}
	}
	att = json_object_get(obj, "attachments");
	if (json_is_array(att)) {
		n = json_array_size(att);
		item->enclosures = xcalloc(n + 1, sizeof *item->enclosures);
		for (i = 0; i < n; i++) {
			struct item_enclosure *e;

			v = json_array_get(att, i);
			if (!json_is_object(v) ||
			    (s = jsonfeed_str(v, "url")) == NULL)
				continue;
			e = &item->enclosures[item->nenclosures++];
			e->url = uri_resolve_link(base, s);
			e->type = jsonfeed_dup(jsonfeed_str(v, "mime_type"));
			if (json_is_integer(
				json_object_get(v, "size_in_bytes"))) {
				snprintf(num, sizeof num,
				    "%" JSON_INTEGER_FORMAT,
				    json_integer_value(
					json_object_get(v, "size_in_bytes")));
				e->length = xstrdup(num);
			}
		}
	}
	item_make_key(item);
}

struct feed_doc *
jsonfeed_parse(const char *data, size_t len, const char *base, char **cause)
{
	struct feed_doc *doc;
	json_error_t err;
	json_t *root, *items;
	const char *s;
	size_t i, n;

	root = json_loadb(
	    data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (root == NULL) {
		if (cause != NULL)
			xasprintf(cause, "line %d: %s", err.line, err.text);
		return NULL;
	}
	s = jsonfeed_str(root, "version");
	if (!json_is_object(root) || s == NULL ||
	    strncmp(s, "https://jsonfeed.org/version/", 29) != 0) {
		if (cause != NULL)
			*cause = xstrdup("line 1: not a JSON Feed (no "
					 "\"version\": \"https://jsonfeed.org/"
					 "version/...\")");
		json_decref(root);
		return NULL;
	}
	doc = xcalloc(1, sizeof *doc);
	doc->format = FEED_FORMAT_JSONFEED;
	if ((s = jsonfeed_str(root, "title")) != NULL) {
		doc->title = html_clean_text(s, strlen(s), FEEDPARSE_FIELD_MAX);
	}
	if ((s = jsonfeed_str(root, "home_page_url")) != NULL)
		doc->link = uri_resolve_link(base, s);
	items = json_object_get(root, "items");
	if (json_is_array(items)) {
		n = json_array_size(items);
		if (n > FEEDPARSE_ITEMS_MAX) {
			n = FEEDPARSE_ITEMS_MAX;
			doc->truncated = 1;
		}
		doc->items = xcalloc(n + 1, sizeof *doc->items);
		for (i = 0; i < n; i++) {
			json_t *it = json_array_get(items, i);

			if (!json_is_object(it))
				continue;
			jsonfeed_item(it, base, &doc->items[doc->nitems++]);
		}
	}
	json_decref(root);
	return doc;
}

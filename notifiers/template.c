/*
 * {{variable}} templates over an alert, with escaping by content type.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "alert.h"
#include "buf.h"
#include "log.h"
#include "template.h"
#include "utf8.h"
#include "xmalloc.h"

/* Longest variable name between the braces. */
#define TEMPLATE_MAX_NAME 64

/* Sorted. */
static const char *const template_variables[] = {
    "alert.created_at",
    "alert.id",
    "alert.severity",
    "alert.watchlist",
    "feed.title",
    "feed.url",
    "hits.count",
    "hits.terms",
    "hits.text",
    "item.author",
    "item.id",
    "item.link",
    "item.published",
    "item.summary",
    "item.title",
    "item.updated",
    "outbox.id",
};
#define TEMPLATE_NVARIABLES                                                    \
	(sizeof template_variables / sizeof template_variables[0])

struct template_part {
	char *literal; /* or NULL for a variable */
	const char *variable;
};

struct template
{
	struct template_part *parts;
	size_t nparts;
};

static const char *
template_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < TEMPLATE_NVARIABLES; i++)
		if (strlen(template_variables[i]) == len &&
		    strncmp(template_variables[i], name, len) == 0)
			return template_variables[i];
	return NULL;
}

static void
template_add_part(struct template *t, char *literal, const char *variable)
{
	t->parts = xreallocarray(t->parts, t->nparts + 1, sizeof *t->parts);
	t->parts[t->nparts].literal = literal;
	t->parts[t->nparts].variable = variable;
	t->nparts++;
}

struct template *
template_parse(const char *text, char **cause)
{
	struct template *t = xcalloc(1, sizeof *t);
	const char *p = text, *open, *close, *name, *end;
	const char *variable;

	while ((open = strstr(p, "{{")) != NULL) {
		if (open > p)
			template_add_part(t, xstrndup(p, open - p), NULL);
		if ((close = strstr(open + 2, "}}")) == NULL) {
			xasprintf(cause,
			    "template: \"{{\" at offset %zu is "
			    "never closed",
			    (size_t)(open - text));
			goto fail;
		}
		name = open + 2;
		end = close;
		while (name < end && isspace((unsigned char)*name))
			name++;
		while (end > name && isspace((unsigned char)end[-1]))
			end--;
		if (end - name > TEMPLATE_MAX_NAME ||
		    (variable = template_lookup(name, end - name)) == NULL) {
			xasprintf(cause,
			    "template: unknown variable \"%.*s\" (known: "
			    "item.title, item.link, item.summary, "
			    "alert.watchlist, ...)",
			    (int)(end - name > TEMPLATE_MAX_NAME
				    ? TEMPLATE_MAX_NAME
				    : end - name),
			    name);
			goto fail;
		}
		template_add_part(t, NULL, variable);
		p = close + 2;
	}
	if (*p != '\0')
		template_add_part(t, xstrdup(p), NULL);
	return t;
fail:
	template_free(t);
	return NULL;
}

void
template_free(struct template *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nparts; i++)
		free(t->parts[i].literal);
	free(t->parts);
	free(t);
}

static char *
template_time(int64_t t)
{
	char s[64];

	return xstrdup(alert_format_time(s, sizeof s, t));
}

static char *
template_hits(const struct alert *a, int text)
{
	struct buf b;
	const struct alert_hit *h;
	size_t i, j;
	int seen;

	buf_init(&b, SIZE_MAX / 2);
	for (i = 0; i < a->nhits; i++) {
		h = &a->hits[i];
		if (h->term == NULL)
			continue;
		if (!text) {
			for (j = 0, seen = 0; j < i && !seen; j++)
				seen = a->hits[j].term != NULL &&
				    strcmp(a->hits[j].term, h->term) == 0;
			if (seen)
				continue;
		}
		if (b.len > 0)
			buf_addstr(&b, text ? "; " : ", ");
		buf_addstr(&b, h->term);
		if (!text)
			continue;
		if (h->alias != NULL && strcmp(h->alias, h->term) != 0)
			buf_printf(&b, " as \"%s\"", h->alias);
		if (h->field != NULL)
			buf_printf(&b, " in %s", h->field);
		if (h->snippet != NULL)
			buf_printf(&b, ": %s", h->snippet);
	}
	return buf_take(&b, NULL);
}

static char *
template_dup(const char *s)
{
	return xstrdup(s != NULL ? s : "");
}

char *
template_value(const struct alert *a, const char *outbox_id, const char *name)
{
	char *s;

	if (strcmp(name, "alert.created_at") == 0)
		return template_time(a->created_at);
	if (strcmp(name, "alert.id") == 0)
		return template_dup(a->id);
	if (strcmp(name, "alert.severity") == 0)
		return template_dup(alert_severity_name(alert_severity_of(a)));
	if (strcmp(name, "alert.watchlist") == 0)
		return template_dup(a->watchlist);
	if (strcmp(name, "feed.title") == 0)
		return template_dup(a->feed_title);
	if (strcmp(name, "feed.url") == 0)
		return template_dup(a->feed_url);
	if (strcmp(name, "hits.count") == 0) {
		xasprintf(&s, "%zu", a->nhits);
		return s;
	}
	if (strcmp(name, "hits.terms") == 0)
		return template_hits(a, 0);
	if (strcmp(name, "hits.text") == 0)
		return template_hits(a, 1);
	if (strcmp(name, "item.author") == 0)
		return template_dup(a->item_author);
	if (strcmp(name, "item.id") == 0)
		return template_dup(a->item_id);
	if (strcmp(name, "item.link") == 0)
		return template_dup(a->item_link);
	if (strcmp(name, "item.published") == 0)
		return template_time(a->item_published);
	if (strcmp(name, "item.summary") == 0)
		return template_dup(a->item_summary);
	if (strcmp(name, "item.title") == 0)
		return template_dup(a->item_title);
	if (strcmp(name, "item.updated") == 0)
		return template_time(a->item_updated);
	if (strcmp(name, "outbox.id") == 0)
		return template_dup(outbox_id);
	return NULL;
}

void
template_html_escape(struct buf *b, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '&':
			buf_addstr(b, "&amp;");
			break;
		case '<':
			buf_addstr(b, "&lt;");
			break;
		case '>':
			buf_addstr(b, "&gt;");
			break;
		case '"':
			buf_addstr(b, "&quot;");
			break;
		case '\'':
			buf_addstr(b, "&#39;");
			break;
		default:
			buf_addc(b, s[i]);
		}
	}
}

void
template_escape(struct buf *b, const char *s, enum template_escape esc)
{
	json_t *js;
	char *dumped;
	size_t len;

	switch (esc) {
	case TEMPLATE_ESCAPE_NONE:
		buf_addstr(b, s);
		break;
	case TEMPLATE_ESCAPE_JSON:
		/* The library escapes; we drop the quotes it adds. Invalid
		 * UTF-8 renders as nothing rather than as broken JSON. */
		if ((js = json_string(s)) == NULL)
			break;
		dumped = json_dumps(js, JSON_ENCODE_ANY);
		json_decref(js);
		if (dumped == NULL)
			fatalx("template_escape: out of memory");
		len = strlen(dumped);
		if (len >= 2)
			buf_add(b, dumped + 1, len - 2);
		free(dumped);
		break;
	case TEMPLATE_ESCAPE_HTML:
		template_html_escape(b, s, strlen(s));
		break;
	case TEMPLATE_ESCAPE_URL:
		for (; *s != '\0'; s++) {
			if (isalnum((unsigned char)*s) || strchr("-._~", *s))
				buf_addc(b, *s);
			else
				buf_printf(b, "%%%02X", (unsigned char)*s);
		}
		break;
	}
}

enum template_escape
template_escape_for(const char *content_type)
{
	size_t n = strcspn(content_type, ";");

	while (n > 0 && isspace((unsigned char)content_type[n - 1]))
		n--;
	if ((n == 16 &&
		strncasecmp(content_type, "application/json", n) == 0) ||
	    (n > 5 && strncasecmp(content_type + n - 5, "+json", 5) == 0))
		return TEMPLATE_ESCAPE_JSON;
	if (n == 9 && strncasecmp(content_type, "text/html", n) == 0)
		return TEMPLATE_ESCAPE_HTML;
	if (n == 33 &&
	    strncasecmp(content_type, "application/x-www-form-urlencoded", n) ==
		0)
		return TEMPLATE_ESCAPE_URL;
	return TEMPLATE_ESCAPE_NONE;
}

char *
template_render(const struct template *t, const struct alert *a,
    const char *outbox_id, enum template_escape esc)
{
	struct buf b;
	char *value;
	size_t i, len;

	buf_init(&b, SIZE_MAX / 2);
	for (i = 0; i < t->nparts && b.len < TEMPLATE_MAX_OUTPUT; i++) {
		if (t->parts[i].literal != NULL) {
			buf_addstr(&b, t->parts[i].literal);
			continue;
		}
		value = template_value(a, outbox_id, t->parts[i].variable);
		template_escape(&b, value, esc);
		free(value);
	}
	if (b.len > TEMPLATE_MAX_OUTPUT) {
		len = utf8_cut(b.data, b.len, TEMPLATE_MAX_OUTPUT);
		b.data[len] = '\0';
		b.len = len;
	}
	return buf_take(&b, NULL);
}

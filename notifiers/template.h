/*
 * User templates for notifier text: literal text with {{variable}}
 * placeholders (spaces inside the braces allowed), for example
 *
 *	{"text": "{{alert.watchlist}}: {{item.title}} {{item.link}}"}
 *
 * Values are escaped for where they land (the body's content type: JSON
 * string content, HTML, URL query component, or plain text), so feed
 * text cannot break out of the document. Unknown variables are errors
 * when the template is parsed, not when an alert is rendered.
 *
 * Variables: alert.id alert.watchlist alert.severity alert.created_at
 * outbox.id item.id item.title item.link item.published item.updated
 * item.author item.summary feed.title feed.url hits.count hits.terms
 * hits.text. Absent values render as "".
 */
#ifndef TEMPLATE_H
#define TEMPLATE_H

#include <stddef.h>

struct alert;
struct buf;
struct template;

/* Largest rendered text; a longer rendering is cut at a UTF-8 boundary. */
#define TEMPLATE_MAX_OUTPUT (256 * 1024)

enum template_escape {
	TEMPLATE_ESCAPE_NONE,
	TEMPLATE_ESCAPE_JSON, /* inside a JSON string: no quotes added */
	TEMPLATE_ESCAPE_HTML,
	TEMPLATE_ESCAPE_URL,
};

struct template *template_parse(const char *text, char **cause);
void template_free(struct template *);
/* The rendering, owned by the caller. */
char *template_render(const struct template *, const struct alert *,
    const char *outbox_id, enum template_escape);
/* The unescaped value of variable NAME, owned by the caller; NULL when
 * NAME is not a variable. */
char *template_value(
    const struct alert *, const char *outbox_id, const char *name);
/* Escape text for a content type (template_escape_for()). */
void template_escape(struct buf *, const char *, enum template_escape);
/* LEN bytes of S with & < > " ' as HTML references (text and attributes). */
void template_html_escape(struct buf *, const char *s, size_t len);
/* The escaping a content type needs: application/json and +json types,
 * text/html, application/x-www-form-urlencoded; anything else NONE. */
enum template_escape template_escape_for(const char *content_type);

#endif

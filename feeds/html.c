/*
 * HTML to plain text.
 *
 * Parsing is libxml2's HTML parser (HTML 4 rules with its error recovery),
 * from memory only, never with network access or its HUGE option; the
 * tree it builds is walked here without recursion, so nesting depth costs
 * no stack. The text rules follow what feed readers (and feedparser, the
 * reference for feed conformance) show a reader: script, style and applet
 * content is not text; block elements separate words; whitespace is
 * collapsed; invisible controls that could disguise text (C0/C1, bidi
 * embeddings and overrides) are removed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "html.h"
#include "xmalloc.h"

#define HTML_PARSE_OPTIONS                                                     \
	(HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |        \
	    HTML_PARSE_NOIMPLIED | HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC)

/* Elements that separate words (sorted, for bsearch). */
static const char *const html_block_tags[] = {
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "caption",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
};

/* Elements whose content is not text (sorted, for bsearch). */
static const char *const html_drop_tags[] = {
    "applet",
    "script",
    "style",
};

enum html_kind { HTML_INLINE, HTML_BLOCK, HTML_DROP };

/* Plain text being produced: collapsed, filtered and capped on the fly. */
struct html_out {
	char *data;
	size_t len;
	size_t size;
	size_t cap;
	int space; /* whitespace seen since the last character written */
	int full; /* the cap was reached: ignore everything else */
};

static int
html_name_cmp(const void *key, const void *member)
{
	return strcmp(key, *(const char *const *)member);
}

static enum html_kind
html_tag_kind(const char *name)
{
	const char *colon = strrchr(name, ':');

	if (colon != NULL) /* xhtml:p */
		name = colon + 1;
	if (bsearch(name, html_block_tags,
		sizeof html_block_tags / sizeof html_block_tags[0],
		sizeof html_block_tags[0], html_name_cmp) != NULL)
		return HTML_BLOCK;
	if (bsearch(name, html_drop_tags,
		sizeof html_drop_tags / sizeof html_drop_tags[0],
		sizeof html_drop_tags[0], html_name_cmp) != NULL)
		return HTML_DROP;
	return HTML_INLINE;
}

/*
 * Length of the valid UTF-8 sequence at s (n bytes available) and its code
 * point, or 0 when it is not one (overlong, surrogate, above U+10FFFF,
 * truncated).
 */
static size_t
html_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0];
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

/* Control and bidi formatting characters that never reach the text. */
static int
html_is_stripped(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e ||
	    cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

static int
html_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static void
html_out_init(struct html_out *out, size_t cap, size_t hint)
{
	memset(out, 0, sizeof *out);
	out->cap = cap;
	out->size = (hint < cap ? hint : cap) + 1;
	if (out->size > 4096)
		out->size = 4096;
	out->data = xmalloc(out->size);
}

/* Append n bytes of one run (no whitespace inside), after any pending space. */
static void
html_out_emit(struct html_out *out, const char *s, size_t n, int divisible)
{
	size_t room, need, sep = out->space && out->len > 0;

	out->space = 0;
	room = out->cap - out->len;
	if (sep + n > room) {
		/* only a run of ASCII may be cut; a character is whole or absent */
		out->full = 1;
		if (!divisible || room <= sep)
			return;
		n = room - sep;
	}
	need = out->len + sep + n + 1;
	if (need > out->size) {
		size_t size = out->size * 2;

		if (size < need)
			size = need;
		if (size > out->cap + 1)
			size = out->cap + 1;
		out->data = xreallocarray(out->data, 1, size);
		out->size = size;
	}
	if (sep)
		out->data[out->len++] = ' ';
	memcpy(out->data + out->len, s, n);
	out->len += n;
}

/* Add raw text: whitespace collapsed, controls dropped, bad UTF-8 replaced. */
static void
html_out_add(struct html_out *out, const unsigned char *s, size_t n)
{
	static const char replacement[] = "\xef\xbf\xbd";
	size_t i = 0, j, k;
	uint32_t cp;

	while (i < n && !out->full) {
		unsigned char c = s[i];

		if (c > 0x20 && c < 0x7f) {
			for (j = i + 1; j < n && s[j] > 0x20 && s[j] < 0x7f;
			     j++)
				;
			html_out_emit(out, (const char *)s + i, j - i, 1);
			i = j;
		} else if (html_is_space(c)) {
			out->space = 1;
			i++;
		} else if (c < 0x80) {
			i++; /* C0 control or DEL */
		} else if ((k = html_utf8_decode(s + i, n - i, &cp)) == 0) {
			html_out_emit(out, replacement, 3, 0);
			i++;
		} else {
			if (!html_is_stripped(cp))
				html_out_emit(out, (const char *)s + i, k, 0);
			i += k;
		}
	}
}

static char *
html_out_take(struct html_out *out)
{
	out->data[out->len] = '\0';
	return out->data;
}

/*
 * What the parser reads: "<body>" and then s, with invalid UTF-8 replaced
 * by U+FFFD and NUL bytes dropped, so that libxml2 neither stops at a NUL
 * nor falls back to Latin-1 for the rest of the input. The explicit body
 * matters: with HTML_PARSE_NOIMPLIED and no body, libxml2 2.9 nests all
 * that follows a leading <style>, <script> or <title> inside it.
 */
static char *
html_parser_input(const char *s, size_t n, size_t *outlen)
{
	static const char prefix[] = "<body>";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k, o;
	uint32_t cp;
	char *in;

	while (i < n) {
		if (u[i] != 0 && u[i] < 0x80)
			i++;
		else if (u[i] == 0 ||
		    (k = html_utf8_decode(u + i, n - i, &cp)) == 0)
			break;
		else
			i += k;
	}
	/* a bad byte becomes at most 3 */
	in = xmalloc(sizeof prefix + (i == n ? n : i + (n - i) * 3));
	memcpy(in, prefix, sizeof prefix - 1);
	o = sizeof prefix - 1;
	memcpy(in + o, s, i);
	o += i;
	while (i < n) {
		if (u[i] == 0) {
			i++;
		} else if (u[i] < 0x80) {
			in[o++] = s[i++];
		} else if ((k = html_utf8_decode(u + i, n - i, &cp)) == 0) {
			memcpy(in + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(in + o, s + i, k);
			o += k;
			i += k;
		}
	}
	in[o] = '\0';
	*outlen = o;
	return in;
}

/* Walk the tree in document order, without recursion. */
static void
html_walk(struct html_out *out, xmlNodePtr node)
{
	while (node != NULL && !out->full) {
		int descend = 0;

		switch (node->type) {
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			if (node->content != NULL)
				html_out_add(out, node->content,
				    strlen((const char *)node->content));
			break;
		case XML_ELEMENT_NODE:
			switch (html_tag_kind((const char *)node->name)) {
			case HTML_DROP:
				break;
			case HTML_BLOCK:
				out->space = 1;
				descend = 1;
				break;
			case HTML_INLINE:
				descend = 1;
				break;
			}
			break;
		default: /* comments, processing instructions, DTD */
			break;
		}
		if (descend && node->children != NULL) {
			node = node->children;
			continue;
		}
		/* leave node, then every ancestor it was the last child of */
		for (;;) {
			if (node->type == XML_ELEMENT_NODE &&
			    html_tag_kind((const char *)node->name) ==
				HTML_BLOCK)
				out->space = 1;
			if (node->next != NULL) {
				node = node->next;
				break;
			}
			node = node->parent;
			if (node == NULL || node->type != XML_ELEMENT_NODE) {
				node = NULL;
				break;
			}
		}
	}
}

char *
html_to_text(const char *html, size_t len, size_t cap)
{
	struct html_out out;
	char *in;
	htmlDocPtr doc;

	if (html == NULL)
		len = 0;
	if (len > HTML_INPUT_MAX) {
		len = HTML_INPUT_MAX;
		/* do not leave half a character at the end */
		while (len > 0 && ((unsigned char)html[len] & 0xc0) == 0x80)
			len--;
	}
	html_out_init(&out, cap, len);
	if (len == 0 || cap == 0)
		return html_out_take(&out);
	in = html_parser_input(html, len, &len);
	xmlInitParser();
	/* HTML_INPUT_MAX keeps len well within an int */
	doc = htmlReadMemory(in, (int)len, NULL, "UTF-8", HTML_PARSE_OPTIONS);
	free(in);
	if (doc != NULL) {
		html_walk(&out, doc->children);
		xmlFreeDoc(doc);
	}
	return html_out_take(&out);
}

char *
html_clean_text(const char *text, size_t len, size_t cap)
{
	struct html_out out;

	if (text == NULL)
		len = 0;
	html_out_init(&out, cap, len);
	if (len > 0 && cap > 0)
		html_out_add(&out, (const unsigned char *)text, len);
	return html_out_take(&out);
}

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
	char *data; /* holds cap bytes and the NUL: no growth, no checks */
	size_t len;
	size_t cap;
	int space; /* whitespace seen since the last character written */
	int full; /* the cap was reached: ignore everything else */
};

static int
html_name_cmp(const void *key, const void *member)
{
	return strcmp(key, *(const char *const *)member);
}

/* Block, dropped or inline. */
static enum html_kind
html_tag_kind(const char *name)
{
	const char *colon = strrchr(name, ':');

	if (colon != NULL) /* xhtml:p */
		name = colon + 1;
	if (name[0] == 'p' && name[1] == '\0')
		return HTML_BLOCK;
	if (name[0] == '\0' || name[1] == '\0')
		return HTML_INLINE;
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

/*
 * Start the text. bound is the most it can need (the callers know: the
 * text of n parser bytes is never longer than n), so it is allocated once.
 */
static void
html_out_init(struct html_out *out, size_t cap, size_t bound)
{
	memset(out, 0, sizeof *out);
	out->cap = bound < cap ? bound : cap;
	out->data = xmalloc(out->cap + 1);
}

/* Add raw text: whitespace collapsed, controls dropped, bad UTF-8 replaced. */
static void
html_out_add(struct html_out *out, const unsigned char *s, size_t n)
{
	static const unsigned char replacement[] = "\xef\xbf\xbd";
	char *start = out->data, *d = start + out->len, *lim = start + out->cap;
	const unsigned char *end = s + n, *seq;
	int space = out->space;
	size_t k, need;
	uint32_t cp;

	if (out->full)
		return;
	while (s < end) {
		unsigned char c = *s;

		if (c > 0x20 && c < 0x7f) {
			if (space && d != start) {
				if (lim - d < 2)
					goto full;
				*d++ = ' ';
			} else if (d == lim)
				goto full;
			space = 0;
			*d++ = (char)c;
			s++;
			/* the rest of the word */
			while (s < end && d<lim && * s> 0x20 && *s < 0x7f)
				*d++ = (char)*s++;
			continue;
		}
		if (html_is_space(c)) {
			space = 1;
			s++;
			continue;
		}
		if (c < 0x80) { /* C0 control or DEL */
			s++;
			continue;
		}
		if ((k = html_utf8_decode(s, (size_t)(end - s), &cp)) == 0) {
			seq = replacement;
			k = 3;
			s++;
		} else {
			seq = s;
			s += k;
			if (html_is_stripped(cp))
				continue;
		}
		need = k + (space && d != start);
		if ((size_t)(lim - d) < need)
			goto full;
		if (space && d != start)
			*d++ = ' ';
		space = 0;
		memcpy(d, seq, k);
		d += k;
	}
	out->len = (size_t)(d - start);
	out->space = space;
	return;
full:
	out->len = (size_t)(d - start);
	out->full = 1;
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

	/* the common case: valid, no NUL; eight ASCII bytes at a time */
	while (i + 8 <= n) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		if ((w & UINT64_C(0x8080808080808080)) != 0 ||
		    ((w - UINT64_C(0x0101010101010101)) & ~w &
			UINT64_C(0x8080808080808080)) != 0)
			break;
		i += 8;
	}
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
			/* remembered in the node (a field for applications) */
			node->extra = html_tag_kind((const char *)node->name);
			switch (node->extra) {
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
			    node->extra == HTML_BLOCK)
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
	if (len == 0 || cap == 0) {
		html_out_init(&out, 0, 0);
		return html_out_take(&out);
	}
	in = html_parser_input(html, len, &len);
	html_out_init(&out, cap, len);
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
	/* a bad byte becomes U+FFFD, 3 bytes */
	html_out_init(&out, cap, len < SIZE_MAX / 3 ? len * 3 : SIZE_MAX - 1);
	if (len > 0 && cap > 0)
		html_out_add(&out, (const unsigned char *)text, len);
	return html_out_take(&out);
}

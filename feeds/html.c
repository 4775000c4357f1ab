/*
 * HTML to plain text.
 *
 * Parsing is libxml2's HTML parser (HTML 4 rules with its error recovery),
 * from memory only, never with network access or its HUGE option; the
 * tree it builds is walked here without recursion, so nesting depth costs
 * no stack. The text rules follow what feed readers (and feedparser, the
 * reference for feed conformance) show a reader: script, style and applet
 * content is not text; block elements separate words; whitespace is
 * collapsed; C1 controls are read as windows-1252 meant them, as HTML
 * reads "&#146;"; invisible controls that could disguise text (C0, bidi
 * embeddings and overrides) are removed.
 */
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "html.h"
#include "html5ent.h"
#include "utf8.h"
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

/* U+0080-U+009F as windows-1252 meant them (UTF-8 of each). */
static const char *const html_cp1252_chars[32] = {"\xe2\x82\xac", NULL,
    "\xe2\x80\x9a", "\xc6\x92", "\xe2\x80\x9e", "\xe2\x80\xa6", "\xe2\x80\xa0",
    "\xe2\x80\xa1", "\xcb\x86", "\xe2\x80\xb0", "\xc5\xa0", "\xe2\x80\xb9",
    "\xc5\x92", NULL, "\xc5\xbd", NULL, NULL, "\xe2\x80\x98", "\xe2\x80\x99",
    "\xe2\x80\x9c", "\xe2\x80\x9d", "\xe2\x80\xa2", "\xe2\x80\x93",
    "\xe2\x80\x94", "\xcb\x9c", "\xe2\x84\xa2", "\xc5\xa1", "\xe2\x80\xba",
    "\xc5\x93", NULL, "\xc5\xbe", "\xc5\xb8"};

const char *
html_cp1252(unsigned cp)
{
	return cp >= 0x80 && cp <= 0x9f ? html_cp1252_chars[cp - 0x80] : NULL;
}

/* Control and bidi formatting characters that never reach the text. */
static int
html_is_stripped(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e ||
	    cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Eight bytes at a time (SWAR): w holds them as loaded by memcpy. Each
 * test is exact as a whole (whether any byte is so), which is all the
 * loops below ask; html_swar_zeros() is exact byte by byte.
 */
#define HTML_SWAR_ONES 0x0101010101010101ULL
#define HTML_SWAR_HIGHS 0x8080808080808080ULL

/* Whether a byte of w is below n (n <= 128). */
static uint64_t
html_swar_below(uint64_t w, unsigned n)
{
	return (w - HTML_SWAR_ONES * n) & ~w & HTML_SWAR_HIGHS;
}

/* Whether a byte of w is above 0x7e (DEL or not ASCII). */
static uint64_t
html_swar_above_7e(uint64_t w)
{
	return ((w + HTML_SWAR_ONES) | w) & HTML_SWAR_HIGHS;
}

/* Whether a byte of w is c. */
static uint64_t
html_swar_has(uint64_t w, unsigned char c)
{
	return html_swar_below(w ^ (HTML_SWAR_ONES * c), 1);
}

/* The high bit of each byte of w that is zero, and only those. */
static uint64_t
html_swar_zeros(uint64_t w)
{
	uint64_t low7 = HTML_SWAR_ONES * 0x7f;

	return ~(((w & low7) + low7) | w | low7);
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
			/*
			 * Eight bytes at a time while they are printable
			 * ASCII with single spaces, which stay as they are;
			 * a space at the end may start a run: it is taken
			 * back and pending, as the byte loop would have it.
			 */
			while (end - s >= 8 && lim - d >= 8) {
				uint64_t w, sp;

				/* the first byte the lowest, wherever */
				memcpy(&w, s, 8);
				w = le64toh(w);
				if (html_swar_below(w, 0x20) |
				    html_swar_above_7e(w))
					break;
				sp =
				    html_swar_zeros(w ^ (HTML_SWAR_ONES * ' '));
				if (sp & (sp << 8))
					break; /* two spaces in a row */
				memcpy(d, s, 8);
				d += 8;
				s += 8;
				if (sp >> 63) {
					d--;
					space = 1;
					break;
				}
			}
			if (space)
				continue;
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
		} else if ((seq = (const unsigned char *)html_cp1252(cp)) !=
		    NULL) {
			/* "&#146;" and a raw U+0092 are windows-1252's '’' */
			s += k;
			k = strlen((const char *)seq);
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

/*
 * The fast path: markup simple enough that the text libxml2's HTML parser
 * would give is known without building its tree. It takes text, character
 * and entity references, well-nested tags from a short list
 * (inline phrase elements, common blocks, br, hr, img) with ordinary
 * attributes, and nothing else: any other construct (comments, script,
 * tables, a tag libxml2 would close by itself, unknown references, raw
 * controls, U+FFFE/FFFF) makes it give up, and the caller parses with
 * libxml2. Its output must equal libxml2's; tests compare the two.
 */

/* Deepest nesting the fast path follows. */
#define HTML_FAST_DEPTH 32
/* Longest tag name it knows, plus one. */
#define HTML_FAST_NAME 12
/* Longest attribute name it takes: libxml2 reads at most 100 bytes of
 * one (HTML_PARSER_BUFFER_SIZE) and takes the rest for a bogus
 * attribute, skipped to the next blank or '>', even one in quotes. */
#define HTML_FAST_ATTR_NAME 64

enum html_fast_flags {
	HTML_FAST_BLOCK = 1, /* separates words */
	HTML_FAST_VOID = 2, /* no content, no end tag (br, hr, img) */
};

/* What an element is, for the start tags that close it (libxml2's table). */
enum html_fast_is {
	HTML_FAST_IS_P = 1 << 0,
	HTML_FAST_IS_UL = 1 << 1,
	HTML_FAST_IS_OL = 1 << 2,
	HTML_FAST_IS_ADDRESS = 1 << 3,
	HTML_FAST_IS_PRE = 1 << 4,
	HTML_FAST_IS_DT = 1 << 5,
	HTML_FAST_IS_DD = 1 << 6,
	HTML_FAST_IS_DL = 1 << 7,
	HTML_FAST_IS_LI = 1 << 8,
	HTML_FAST_IS_H = 1 << 9, /* h1-h6 */
	HTML_FAST_IS_A = 1 << 10,
	HTML_FAST_IS_FONT = 1 << 11, /* tt, i, b, u, s, strike, big, small */
};

struct html_fast_tag {
	const char *name;
	unsigned flags;
	unsigned is; /* enum html_fast_is */
	/* open elements a start tag of this one closes (libxml2 start-close) */
	unsigned closes;
};

/* The tags the fast path takes (sorted, for bsearch). */
static const struct html_fast_tag html_fast_tags[] = {
    {"a", 0, HTML_FAST_IS_A, HTML_FAST_IS_A},
    {"abbr", 0, 0, 0},
    {"address", HTML_FAST_BLOCK, HTML_FAST_IS_ADDRESS,
	HTML_FAST_IS_P | HTML_FAST_IS_UL},
    {"article", HTML_FAST_BLOCK, 0, 0},
    {"aside", HTML_FAST_BLOCK, 0, 0},
    {"b", 0, HTML_FAST_IS_FONT, 0},
    {"big", 0, HTML_FAST_IS_FONT, 0},
    {"blockquote", HTML_FAST_BLOCK, 0, HTML_FAST_IS_P},
    {"br", HTML_FAST_BLOCK | HTML_FAST_VOID, 0, 0},
    {"cite", 0, 0, 0},
    {"code", 0, 0, 0},
    {"dd", HTML_FAST_BLOCK, HTML_FAST_IS_DD,
	HTML_FAST_IS_P | HTML_FAST_IS_ADDRESS | HTML_FAST_IS_PRE |
	    HTML_FAST_IS_DT | HTML_FAST_IS_DD},
    {"del", 0, 0, 0},
    {"dfn", 0, 0, 0},
    {"div", HTML_FAST_BLOCK, 0, HTML_FAST_IS_P},
    {"dl", HTML_FAST_BLOCK, HTML_FAST_IS_DL,
	HTML_FAST_IS_P | HTML_FAST_IS_DT | HTML_FAST_IS_ADDRESS |
	    HTML_FAST_IS_PRE},
    {"dt", HTML_FAST_BLOCK, HTML_FAST_IS_DT,
	HTML_FAST_IS_P | HTML_FAST_IS_ADDRESS | HTML_FAST_IS_PRE |
	    HTML_FAST_IS_DD | HTML_FAST_IS_DT},
    {"em", 0, 0, 0},
    {"figcaption", HTML_FAST_BLOCK, 0, 0},
    {"figure", HTML_FAST_BLOCK, 0, 0},
    {"font", 0, 0, 0},
    {"footer", HTML_FAST_BLOCK, 0, 0},
    {"h1", HTML_FAST_BLOCK, HTML_FAST_IS_H, HTML_FAST_IS_P | HTML_FAST_IS_H},
    {"h2", HTML_FAST_BLOCK, HTML_FAST_IS_H, HTML_FAST_IS_P | HTML_FAST_IS_H},
    {"h3", HTML_FAST_BLOCK, HTML_FAST_IS_H, HTML_FAST_IS_P | HTML_FAST_IS_H},
    {"h4", HTML_FAST_BLOCK, HTML_FAST_IS_H, HTML_FAST_IS_P | HTML_FAST_IS_H},
    {"h5", HTML_FAST_BLOCK, HTML_FAST_IS_H, HTML_FAST_IS_P | HTML_FAST_IS_H},
    {"h6", HTML_FAST_BLOCK, HTML_FAST_IS_H, HTML_FAST_IS_P | HTML_FAST_IS_H},
    {"header", HTML_FAST_BLOCK, 0, 0},
    {"hr", HTML_FAST_BLOCK | HTML_FAST_VOID, 0, HTML_FAST_IS_P},
    {"i", 0, HTML_FAST_IS_FONT, 0},
    {"img", HTML_FAST_VOID, 0, 0},
    {"ins", 0, 0, 0},
    {"kbd", 0, 0, 0},
    {"li", HTML_FAST_BLOCK, HTML_FAST_IS_LI,
	HTML_FAST_IS_P | HTML_FAST_IS_H | HTML_FAST_IS_DL |
	    HTML_FAST_IS_ADDRESS | HTML_FAST_IS_PRE | HTML_FAST_IS_LI},
    {"main", HTML_FAST_BLOCK, 0, 0},
    {"mark", 0, 0, 0},
    {"nav", HTML_FAST_BLOCK, 0, 0},
    {"ol", HTML_FAST_BLOCK, HTML_FAST_IS_OL, HTML_FAST_IS_P | HTML_FAST_IS_UL},
    {"p", HTML_FAST_BLOCK, HTML_FAST_IS_P,
	HTML_FAST_IS_P | HTML_FAST_IS_H | HTML_FAST_IS_FONT},
    {"pre", HTML_FAST_BLOCK, HTML_FAST_IS_PRE,
	HTML_FAST_IS_P | HTML_FAST_IS_UL},
    {"q", 0, 0, 0},
    {"s", 0, HTML_FAST_IS_FONT, 0},
    {"samp", 0, 0, 0},
    {"section", HTML_FAST_BLOCK, 0, 0},
    {"small", 0, HTML_FAST_IS_FONT, 0},
    {"span", 0, 0, 0},
    {"strike", 0, HTML_FAST_IS_FONT, 0},
    {"strong", 0, 0, 0},
    {"sub", 0, 0, 0},
    {"sup", 0, 0, 0},
    {"time", 0, 0, 0},
    {"tt", 0, HTML_FAST_IS_FONT, 0},
    {"u", 0, HTML_FAST_IS_FONT, 0},
    {"ul", HTML_FAST_BLOCK, HTML_FAST_IS_UL,
	HTML_FAST_IS_P | HTML_FAST_IS_OL | HTML_FAST_IS_ADDRESS |
	    HTML_FAST_IS_PRE},
    {"var", 0, 0, 0},
};

static int
html_fast_cmp(const void *key, const void *member)
{
	return strcmp(key, ((const struct html_fast_tag *)member)->name);
}

static int
html_is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
html_is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int
html_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Whether the fast path takes the attribute value [s, end) as libxml2
 * does: not when it holds U+FFFE or U+FFFF, which libxml2's reading of a
 * value (xmlNextChar()) takes for a fatal error that stops the parse
 * there, nor a NUL, which the parse drops beforehand and which could
 * then join the bytes around it into an HTML5 reference that the fast
 * path's growth budget (html5_max_growth()) did not count.
 */
static int
html_fast_value_ok(const unsigned char *s, const unsigned char *end)
{
	for (; s < end; s++)
		if (*s == '\0' ||
		    (*s == 0xef && end - s >= 3 && s[1] == 0xbf &&
			(s[2] & 0xfe) == 0xbe))
			return 0;
	return 1;
}

/*
 * The tag at *sp (just after '<'): its entry and whether it ends (</x>) or
 * closes itself (<x/>), with *sp moved past '>'. NULL when it is not one
 * the fast path takes.
 */
static const struct html_fast_tag *
html_fast_read_tag(const unsigned char **sp, const unsigned char *end,
    int *endtag, int *selfclose)
{
	const unsigned char *s = *sp, *value;
	char name[HTML_FAST_NAME];
	size_t n = 0;
	const struct html_fast_tag *tag;

	*endtag = *selfclose = 0;
	if (s < end && *s == '/') {
		*endtag = 1;
		s++;
	}
	if (s == end || !html_is_alpha(*s))
		return NULL;
	while (s < end && (html_is_alpha(*s) || html_is_digit(*s))) {
		if (n + 1 == sizeof name)
			return NULL;
		unsigned char c = *s++;

		name[n++] = (char)(html_is_alpha(c) ? c | 0x20 : c);
	}
	name[n] = '\0';
	if ((tag = bsearch(name, html_fast_tags,
		 sizeof html_fast_tags / sizeof html_fast_tags[0],
		 sizeof html_fast_tags[0], html_fast_cmp)) == NULL)
		return NULL;
	if (s < end && !html_is_blank(*s) && *s != '>' && *s != '/')
		return NULL;
	if (*endtag) {
		while (s < end && html_is_blank(*s))
			s++;
		if (s == end || *s != '>')
			return NULL;
		*sp = s + 1;
		return tag;
	}
	for (;;) {
		while (s < end && html_is_blank(*s))
			s++;
		if (s == end)
			return NULL;
		if (*s == '>') {
			*sp = s + 1;
			return tag;
		}
		if (*s == '/') {
			if (s + 1 == end || s[1] != '>')
				return NULL;
			*selfclose = 1;
			*sp = s + 2;
			return tag;
		}
		/* an attribute: name, then maybe = and a value */
		if (!html_is_alpha(*s))
			return NULL;
		for (n = 0; s < end &&
		     (html_is_alpha(*s) || html_is_digit(*s) || *s == '-' ||
			 *s == '_');
		     n++)
			s++;
		if (n > HTML_FAST_ATTR_NAME)
			return NULL;
		while (s < end && html_is_blank(*s))
			s++;
		if (s == end)
			return NULL;
		if (*s != '=') {
			if (*s != '>' && *s != '/' && !html_is_alpha(*s))
				return NULL;
			continue;
		}
		s++;
		while (s < end && html_is_blank(*s))
			s++;
		if (s == end)
			return NULL;
		if (*s == '"' || *s == '\'') {
			const unsigned char *q = memchr(s + 1, *s, end - s - 1);

			if (q == NULL || !html_fast_value_ok(s + 1, q))
				return NULL;
			s = q + 1;
			if (s < end && !html_is_blank(*s) && *s != '>' &&
			    *s != '/')
				return NULL;
			continue;
		}
		if (*s == '>' || *s == '<' || *s == '`' || *s == '=')
			return NULL;
		value = s;
		while (s < end && !html_is_blank(*s) && *s != '>') {
			if (*s == '"' || *s == '\'' || *s == '<' || *s == '`' ||
			    *s == '=' || *s < 0x20)
				return NULL;
			s++;
		}
		if (!html_fast_value_ok(value, s))
			return NULL;
	}
}

/* Append the code point cp as UTF-8 text. */
static void
html_out_add_cp(struct html_out *out, uint32_t cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	html_out_add(out, b, n);
}

/*
 * HTML5's named references that HTML 4 did not have (html5ent.h): the
 * fast path decodes them; for libxml2's parse, which knows HTML 4's
 * only, they are written as numeric references first ("&lbrace;" as
 * "&#x7B;"), which it reads. That text may grow ("&nGt;", 5 bytes, is
 * "&#x226B;&#x20D2;", 16): by at most as much as the input, or 64 KiB,
 * at any point. Past that, the rest of the references are left as they
 * are, and the fast path leaves such an input to the parse, so that both
 * give the same text.
 */
#define HTML5_GROWTH_MIN (64 * 1024)

static ptrdiff_t
html5_budget(size_t n)
{
	return (ptrdiff_t)(n > HTML5_GROWTH_MIN ? n : HTML5_GROWTH_MIN);
}

/*
 * The next HTML5 reference at or after *SP (before END), *SP moved past
 * it, its length in *LEN and its code points in CP; NULL when there is
 * none.
 */
static const char *
html5_next_ref(const char **sp, const char *end, size_t *len, uint32_t cp[2])
{
	const char *s = *sp, *amp, *name;
	size_t n;

	while ((amp = memchr(s, '&', (size_t)(end - s))) != NULL) {
		name = s = amp + 1;
		while (s < end &&
		    (html_is_alpha((unsigned char)*s) ||
			(s > name && html_is_digit((unsigned char)*s))))
			s++;
		n = (size_t)(s - name);
		if (n == 0 || s == end || *s != ';' ||
		    html5ent_lookup(name, n, cp) == -1)
			continue;
		*sp = s + 1;
		*len = n + 2;
		return amp;
	}
	return NULL;
}

/* Length of the numeric reference "&#xH;" of CP. */
static size_t
html5_numeric_len(uint32_t cp)
{
	size_t digits = 1;

	while ((cp >>= 4) != 0)
		digits++;
	return 4 + digits;
}

/* Write the numeric reference of CP at DST (when not NULL); returns its
 * length. */
static size_t
html5_numeric(char *dst, uint32_t cp)
{
	size_t n = html5_numeric_len(cp);

	/* n + 1 for the NUL, which the next write or the end covers */
	if (dst != NULL)
		snprintf(dst, n + 1, "&#x%X;", (unsigned)cp);
	return n;
}

/* Bytes that writing a reference of LEN bytes, CP, as numeric ones
 * adds (or, negative, takes away). */
static ptrdiff_t
html5_growth(size_t len, const uint32_t cp[2])
{
	return (ptrdiff_t)(html5_numeric_len(cp[0]) +
		   (cp[1] != 0 ? html5_numeric_len(cp[1]) : 0)) -
	    (ptrdiff_t)len;
}

/* The most that writing the HTML5 references of S (N bytes) as numeric
 * ones grows the text by, from its start up to any of them. */
static ptrdiff_t
html5_max_growth(const char *s, size_t n)
{
	const char *p = s;
	ptrdiff_t growth = 0, max = 0;
	uint32_t cp[2];
	size_t len;

	while (html5_next_ref(&p, s + n, &len, cp) != NULL)
		if ((growth += html5_growth(len, cp)) > max)
			max = growth;
	return max;
}

/* What the fast path knows of the whole input, for HTML5's references. */
struct html5_fast {
	const unsigned char *start;
	size_t n;
	int fits; /* -1: not known yet; 1: all can be rewritten */
};

/*
 * The reference at *sp (on '&'), added to out, *sp moved past it; -1 when
 * the fast path does not take it.
 */
static int
html_fast_ref(struct html_out *out, const unsigned char **sp,
    const unsigned char *end, struct html5_fast *h5)
{
	const unsigned char *s = *sp + 1;
	char name[HTML_FAST_NAME * 2];
	const htmlEntityDesc *ent;
	uint32_t v = 0, cp[2];
	size_t n = 0;

	if (s == end ||
	    (!html_is_alpha(*s) && *s != '#' && *s != '_' && *s != ':')) {
		html_out_add(out, (const unsigned char *)"&", 1); /* a bare & */
		*sp = s;
		return 0;
	}
	if (*s == '#') {
		int hex = 0;

		s++;
		if (s < end && (*s == 'x' || *s == 'X')) {
			hex = 1;
			s++;
		}
		while (s < end && n < 8 &&
		    (html_is_digit(*s) ||
			(hex && (*s | 0x20) >= 'a' && (*s | 0x20) <= 'f'))) {
			v = v * (hex ? 16 : 10) +
			    (uint32_t)(html_is_digit(*s)
				    ? *s - '0'
				    : (*s | 0x20) - 'a' + 10);
			s++;
			n++;
		}
		if (n == 0 || n == 8 || s == end || *s != ';')
			return -1;
		*sp = s + 1;
		/* what libxml2 takes as a character; other references vanish */
		if (v == 0x9 || v == 0xa || v == 0xd ||
		    (v >= 0x20 && v <= 0xd7ff) ||
		    (v >= 0xe000 && v <= 0xfffd) ||
		    (v >= 0x10000 && v <= 0x10ffff))
			html_out_add_cp(out, v);
		return 0;
	}
	while (s < end && (html_is_alpha(*s) || html_is_digit(*s))) {
		if (n + 1 == sizeof name)
			return -1;
		name[n++] = (char)*s++;
	}
	name[n] = '\0';
	if (n == 0 || s == end || *s != ';')
		return -1;
	if ((ent = htmlEntityLookup((const xmlChar *)name)) == NULL) {
		/* HTML5's, which the parse reads as html5_refs() writes
		 * it, when it writes them all */
		if (html5ent_lookup(name, n, cp) == -1)
			return -1;
		if (h5->fits == -1)
			h5->fits = html5_max_growth((const char *)h5->start,
				       h5->n) <= html5_budget(h5->n);
		if (!h5->fits)
			return -1;
		*sp = s + 1;
		html_out_add_cp(out, cp[0]);
		if (cp[1] != 0)
			html_out_add_cp(out, cp[1]);
		return 0;
	}
	if (ent->value == 0)
		return -1;
	*sp = s + 1;
	html_out_add_cp(out, ent->value);
	return 0;
}

/* The fast path (see above): 0 with the text in out, or -1. */
static int
html_fast(struct html_out *out, const unsigned char *s, size_t n)
{
	const unsigned char *end = s + n, *run;
	const struct html_fast_tag *open[HTML_FAST_DEPTH], *tag;
	size_t depth = 0;
	struct html5_fast h5 = {s, n, -1};
	int endtag, selfclose;

	while (s < end && !out->full) {
		run = s;
		/* text without markup, references or bytes to check */
		while (end - s >= 8) {
			uint64_t w;

			memcpy(&w, s, 8);
			if (html_swar_below(w, 0x20) | html_swar_has(w, '<') |
			    html_swar_has(w, '&') | html_swar_has(w, 0xef))
				break;
			s += 8;
		}
		while (s < end && *s != '<' && *s != '&') {
			if (*s < 0x20 && !html_is_blank(*s))
				return -1; /* libxml2 drops most, not all */
			if (*s == 0xef && end - s >= 3 && s[1] == 0xbf &&
			    (s[2] == 0xbe || s[2] == 0xbf))
				return -1; /* U+FFFE, U+FFFF: not XML chars */
			s++;
		}
		if (s > run)
			html_out_add(out, run, (size_t)(s - run));
		if (s == end)
			break;
		if (*s == '&') {
			if (html_fast_ref(out, &s, end, &h5) == -1)
				return -1;
			continue;
		}
		s++;
		if ((tag = html_fast_read_tag(&s, end, &endtag, &selfclose)) ==
		    NULL)
			return -1;
		if (endtag) {
			if ((tag->flags & HTML_FAST_VOID) || depth == 0 ||
			    open[depth - 1] != tag)
				return -1;
			depth--;
		} else {
			/* a start libxml2 would close an open element for */
			if (depth > 0 &&
			    (tag->closes & open[depth - 1]->is) != 0)
				return -1;
			if (!(tag->flags & HTML_FAST_VOID) && !selfclose) {
				if (depth == HTML_FAST_DEPTH)
					return -1;
				open[depth++] = tag;
			}
		}
		if (tag->flags & HTML_FAST_BLOCK)
			out->space = 1;
	}
	return 0;
}

/*
 * S (N bytes) with HTML5's references written as numeric ones, in order,
 * as long as the text so far has grown by at most BUDGET bytes (all of
 * them when html5_max_growth() is within it), into OUT, or only counted
 * when OUT is NULL; returns the length, *NREFS the references written.
 */
static size_t
html5_rewrite(
    const char *s, size_t n, ptrdiff_t budget, char *out, size_t *nrefs)
{
	const char *end = s + n, *p, *ref, *from;
	ptrdiff_t growth = 0;
	uint32_t cp[2];
	size_t len, o = 0;

	*nrefs = 0;
	for (from = p = s; (ref = html5_next_ref(&p, end, &len, cp)) != NULL;
	     from = p) {
		if (growth + html5_growth(len, cp) > budget)
			break;
		growth += html5_growth(len, cp);
		if (out != NULL)
			memcpy(out + o, from, (size_t)(ref - from));
		o += (size_t)(ref - from);
		o += html5_numeric(out != NULL ? out + o : NULL, cp[0]);
		if (cp[1] != 0)
			o += html5_numeric(out != NULL ? out + o : NULL, cp[1]);
		(*nrefs)++;
	}
	if (out != NULL)
		memcpy(out + o, from, (size_t)(end - from));
	return o + (size_t)(end - from);
}

/* html5_rewrite() into a string of its own: NULL when S holds no HTML5
 * reference; "&amp;lbrace;" stays as it is, text that says "&lbrace;". */
static char *
html5_refs(const char *s, size_t n, ptrdiff_t budget, size_t *outlen)
{
	size_t nrefs;
	size_t len = html5_rewrite(s, n, budget, NULL, &nrefs);
	char *out;

	if (nrefs == 0)
		return NULL;
	out = xmalloc(len + 1);
	html5_rewrite(s, n, budget, out, &nrefs);
	out[len] = '\0';
	*outlen = len;
	return out;
}

/* The text through libxml2's parse, into out (made by the caller). */
static void
html_parsed(struct html_out *out, const char *html, size_t len)
{
	char *in, *refs;
	size_t inlen;
	htmlDocPtr doc;

	/* its NUL bytes dropped first: "&lb\0race;" reads as "&lbrace;",
	 * as "&hel\0lip;" does as "&hellip;" */
	in = html_parser_input(html, len, &inlen);
	if ((refs = html5_refs(in, inlen, html5_budget(len), &inlen)) != NULL) {
		free(in);
		in = refs;
	}
	len = inlen;
	xmlInitParser();
	/* HTML_INPUT_MAX keeps len well within an int */
	doc = htmlReadMemory(in, (int)len, NULL, "UTF-8", HTML_PARSE_OPTIONS);
	free(in);
	if (doc != NULL) {
		html_walk(out, doc->children);
		xmlFreeDoc(doc);
	}
}

static char *
html_convert(const char *html, size_t len, size_t cap, int fast)
{
	struct html_out out;

	if (html == NULL)
		len = 0;
	/* do not leave half a character at the end */
	len = utf8_cut(html, len, HTML_INPUT_MAX);
	if (len == 0 || cap == 0) {
		html_out_init(&out, 0, 0);
		return html_out_take(&out);
	}
	/* a byte gives at most 3 (a bad byte becomes U+FFFD) */
	html_out_init(&out, cap, len * 3);
	if (fast && html_fast(&out, (const unsigned char *)html, len) == 0)
		return html_out_take(&out);
	out.len = 0;
	out.space = out.full = 0;
	html_parsed(&out, html, len);
	return html_out_take(&out);
}

char *
html_to_text(const char *html, size_t len, size_t cap)
{
	return html_convert(html, len, cap, 1);
}

char *
html_to_text_parsed(const char *html, size_t len, size_t cap)
{
	return html_convert(html, len, cap, 0);
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

/*
 * Feed parser. Formats: RSS 0.90 (Netscape), 0.91-0.94 and 2.0
 * (cyber.harvard.edu/rss/rss.html), RSS 1.0 (web.resource.org/rss/1.0/
 * spec, with the dc:, dcterms: and content: modules), Atom 0.3
 * (draft-nottingham-atom-format-02) and Atom 1.0 (RFC 4287), JSON Feed
 * 1.0/1.1 (jsonfeed.org/version/1.1, see jsonfeed.c). Where the specs are
 * silent or feeds ignore them, the field mapping follows Universal Feed
 * Parser, the reference readers agree with (docs/parse.md).
 *
 * The XML side is a libxml2 push parser with SAX2 callbacks: bytes are
 * converted to UTF-8 first (charset.c), then parsed as they come; only the
 * elements that carry a field are captured. libxml2 2.9 enforces little in
 * SAX mode, so every cap is checked here (parse.h), external entities and
 * DTDs are never loaded, and declared entities are expanded by this code
 * under a budget.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "buf.h"
#include "charset.h"
#include "date.h"
#include "html.h"
#include "html5ent.h"
#include "jsonfeed.h"
#include "parse.h"
#include "uri.h"
#include "utf8.h"
#include "voidtags.h"
#include "xmalloc.h"

/* Bytes held back to read the BOM and the XML declaration. */
#define FEEDPARSE_SNIFF_LEN 1024
/*
 * Bytes kept to re-parse the document when its declared encoding proves
 * wrong; past this (or once items were handed out) invalid bytes become
 * U+FFFD instead.
 */
#define FEEDPARSE_REPLAY_MAX FEEDPARSE_BODY_MAX
/* Bytes of a block of the kept body (struct replay). */
#define FEEDPARSE_REPLAY_BLOCK (32 * 1024)
/* Encodings tried in turn (charset_candidates). */
#define FEEDPARSE_CANDIDATES_MAX 6
/* Longest content type kept from an attribute. */
#define FEEDPARSE_TYPE_MAX 64

enum elem {
	E_OTHER = 0,
	E_RSS,
	E_RDF,
	E_CHANNEL,
	E_FEED,
	E_ITEM,
	E_IMAGE,
	E_TEXTINPUT,
	E_SOURCE,
	E_AUTHOR,
	E_CONTRIBUTOR,
	E_PUBLISHER,
	E_NAME,
	E_EMAIL,
	E_TITLE,
	E_DESCRIPTION,
	E_SUMMARY,
	E_CONTENT,
	E_CONTENT_ENCODED,
	E_BODY,
	E_LINK,
	E_GUID,
	E_PUBLISHED,
	E_UPDATED,
	E_CATEGORY,
	E_ENCLOSURE,
	E_TTL,
	E_UPDATE_PERIOD, /* sy: */
	E_UPDATE_FREQUENCY,
	E_URL,
	E_TAGS,
	E_MEDIA_DESCRIPTION, /* media: */
};

/* Canonical prefixes of the namespaces that carry fields. */
enum ns {
	NS_NONE,
	NS_CORE,
	NS_DC,
	NS_DCTERMS,
	NS_CONTENT,
	NS_XHTML,
	NS_RDF,
	NS_SY,
	NS_MEDIA,
};

static const struct {
	const char *uri;
	enum ns ns;
} parse_namespaces[] = {
    {"http://backend.userland.com/rss", NS_CORE},
    {"http://backend.userland.com/rss2", NS_CORE},
    {"http://blogs.law.harvard.edu/tech/rss", NS_CORE},
    {"http://purl.org/rss/1.0/", NS_CORE},
    {"http://my.netscape.com/rdf/simple/0.9/", NS_CORE},
    {"http://example.com/newformat#", NS_CORE},
    {"http://example.com/necho", NS_CORE},
    {"http://purl.org/echo/", NS_CORE},
    {"uri/of/echo/namespace#", NS_CORE},
    {"http://purl.org/pie/", NS_CORE},
    {"http://purl.org/atom/ns#", NS_CORE},
    {"http://www.w3.org/2005/atom", NS_CORE},
    {"http://purl.org/rss/1.0/modules/rss091#", NS_CORE},
    {"http://purl.org/dc/elements/1.1/", NS_DC},
    {"http://purl.org/dc/terms/", NS_DCTERMS},
    {"http://purl.org/rss/1.0/modules/content/", NS_CONTENT},
    {"http://www.w3.org/1999/xhtml", NS_XHTML},
    {"http://www.w3.org/1999/02/22-rdf-syntax-ns#", NS_RDF},
    {"http://purl.org/rss/1.0/modules/syndication/", NS_SY},
    {"http://search.yahoo.com/mrss/", NS_MEDIA},
    {"http://search.yahoo.com/mrss", NS_MEDIA},
};

/* Element names per namespace: sorted by ns, then name (for bsearch). */
static const struct parse_element {
	enum ns ns;
	const char *name;
	enum elem elem;
} parse_elements[] = {
    {NS_CORE, "abstract", E_DESCRIPTION},
    {NS_CORE, "author", E_AUTHOR},
    {NS_CORE, "body", E_BODY},
    {NS_CORE, "category", E_CATEGORY},
    {NS_CORE, "channel", E_CHANNEL},
    {NS_CORE, "content", E_CONTENT},
    {NS_CORE, "contributor", E_CONTRIBUTOR},
    {NS_CORE, "description", E_DESCRIPTION},
    {NS_CORE, "email", E_EMAIL},
    {NS_CORE, "enclosure", E_ENCLOSURE},
    {NS_CORE, "entry", E_ITEM},
    {NS_CORE, "feed", E_FEED},
    {NS_CORE, "fullitem", E_CONTENT_ENCODED},
    {NS_CORE, "guid", E_GUID},
    {NS_CORE, "homepage", E_URL},
    {NS_CORE, "id", E_GUID},
    {NS_CORE, "image", E_IMAGE},
    {NS_CORE, "issued", E_PUBLISHED},
    {NS_CORE, "item", E_ITEM},
    {NS_CORE, "keywords", E_CATEGORY},
    {NS_CORE, "lastbuilddate", E_UPDATED},
    {NS_CORE, "link", E_LINK},
    {NS_CORE, "managingeditor", E_AUTHOR},
    {NS_CORE, "modified", E_UPDATED},
    {NS_CORE, "name", E_NAME},
    {NS_CORE, "pubdate", E_PUBLISHED},
    {NS_CORE, "published", E_PUBLISHED},
    {NS_CORE, "rss", E_RSS},
    {NS_CORE, "source", E_SOURCE},
    {NS_CORE, "summary", E_SUMMARY},
    {NS_CORE, "tags", E_TAGS},
    {NS_CORE, "textinput", E_TEXTINPUT},
    {NS_CORE, "title", E_TITLE},
    {NS_CORE, "ttl", E_TTL},
    {NS_CORE, "updated", E_UPDATED},
    {NS_CORE, "uri", E_URL},
    {NS_CORE, "url", E_URL},
    {NS_CORE, "webmaster", E_PUBLISHER},
    {NS_DC, "author", E_AUTHOR},
    {NS_DC, "contributor", E_CONTRIBUTOR},
    {NS_DC, "creator", E_AUTHOR},
    {NS_DC, "date", E_UPDATED},
    {NS_DC, "description", E_DESCRIPTION},
    {NS_DC, "publisher", E_PUBLISHER},
    {NS_DC, "subject", E_CATEGORY},
    {NS_DC, "title", E_TITLE},
    {NS_DCTERMS, "issued", E_PUBLISHED},
    {NS_DCTERMS, "modified", E_UPDATED},
    {NS_CONTENT, "encoded", E_CONTENT_ENCODED},
    {NS_XHTML, "body", E_BODY},
    {NS_RDF, "rdf", E_RDF},
    {NS_SY, "updatefrequency", E_UPDATE_FREQUENCY},
    {NS_SY, "updateperiod", E_UPDATE_PERIOD},
    {NS_MEDIA, "description", E_MEDIA_DESCRIPTION},
};

/* HTML elements a "plain" RSS title may hold and still count as HTML. */
static const char *const parse_html_elements[] = {"a", "abbr", "acronym",
    "address", "area", "article", "aside", "audio", "b", "big", "blockquote",
    "br", "button", "canvas", "caption", "center", "cite", "code", "col",
    "colgroup", "command", "datagrid", "datalist", "dd", "del", "details",
    "dfn", "dialog", "dir", "div", "dl", "dt", "em", "event-source", "fieldset",
    "figcaption", "figure", "font", "footer", "form", "h1", "h2", "h3", "h4",
    "h5", "h6", "header", "hr", "i", "img", "input", "ins", "kbd", "keygen",
    "label", "legend", "li", "m", "map", "menu", "meter", "multicol", "nav",
    "nextid", "noscript", "ol", "optgroup", "option", "output", "p", "pre",
    "progress", "q", "s", "samp", "section", "select", "small", "sound",
    "source", "spacer", "span", "strike", "strong", "sub", "sup", "table",
    "tbody", "td", "textarea", "tfoot", "th", "thead", "time", "tr", "tt", "u",
    "ul", "var", "video"};

/* One open element. */
struct frame {
	enum elem elem;
	const char *base; /* xml:base in effect (owned when base_owned) */
	int base_owned;
	/* Text capture of a field element. */
	int capturing;
	int construct; /* a text construct: children are its markup */
	int markup; /* the value is markup (html, xhtml) */
	int xhtml; /* children serialized as XHTML */
	int base64;
	int cut; /* hit FEEDPARSE_FIELD_MAX */
	int permalink; /* guid isPermaLink */
	int to_content; /* a second summary, taken as content */
	int has_src; /* Atom content with src= */
	int skip_tag; /* inside a construct, but not serialized */
	char *term; /* category term= */
	/* Not cleared for each element: set where they are used. */
	char type[FEEDPARSE_TYPE_MAX]; /* set by parse_capture */
	struct buf text; /* empty, its storage kept (parse_capture_take) */
};

/* The item being read and the rules that decide between repeated fields. */
struct item_state {
	struct item item;
	int dropped; /* past FEEDPARSE_ITEMS_MAX: read, not kept */
	int title_set, summary_set, content_set, id_set;
	int summary_media; /* the summary is a media:description */
	int title_depth, summary_depth, id_depth;
	int has_content;
	size_t cat_alloc, enc_alloc;
	/* The author element being read. */
	char *author_name, *author_email;
};

/*
 * A remembered element lookup, keyed by the strings libxml2 hands over:
 * names and namespace URIs come from the parser's dictionary, where one
 * string always has one address while the parser lives.
 */
struct elem_slot {
	const xmlChar *localname, *uri, *prefix;
	enum elem elem;
};

/* Bytes of the end of the document kept to find its root's end tag
 * (what servers append after it, a comment or a notice, included). */
#define PARSE_TAIL 4096
/* Slots of the element lookup cache (a power of two). */
#define PARSE_ELEM_SLOTS 256

struct entity {
	xmlEntity ent; /* first: libxml2 reads it */
	struct entity *next;
};

/*
 * The body as received, kept to be read again: blocks appended without
 * moving what they hold. (One growing buffer copied a body about twice
 * over and faulted in fresh pages at each doubling: 8% of a parser
 * thread's time in a first cycle.)
 */
struct replay_block {
	struct replay_block *next;
	size_t len, size;
	char data[];
};

struct replay {
	struct replay_block *head, *tail;
	size_t len, cap;
};

struct feedparse {
	char *doc_url;
	char *content_type;
	char *content_location;
	int have_headers;
	int failed;
	char *cause;
	size_t body_len, body_max;

	/* Before the encoding is known. */
	int sniffed;
	struct buf head;
	/* Encoding. */
	struct charset_sniff sniff;
	char candidates[FEEDPARSE_CANDIDATES_MAX][CHARSET_NAME_MAX];
	size_t ncandidates, candidate;
	struct charset *cv;
	struct replay replay;
	int replaying; /* replay still holds the whole body */
	struct buf utf8; /* conversion output, handed to libxml2 */
	int skip_bom;
	int decl_done; /* the XML declaration was rewritten */

	/* JSON Feed. */
	int json;
	struct buf jsonbody;

	/* XML. */
	xmlParserCtxtPtr ctxt;
	xmlSAXHandler sax;
	/* the namespace of the last element (most elements share it) */
	char *ns_uri, *ns_prefix;
	enum ns ns_last;
	struct elem_slot elem_cache[PARSE_ELEM_SLOTS];
	struct entity *entities;
	size_t nentities;
	size_t expanded;
	int html_entity_used;
	char *xml_error;
	int root_seen;
	/* The root's end tag ("</rss", "</rdf:RDF") and the last bytes given
	 * to libxml2: a body whose tail holds no end tag of its root was cut
	 * short. (libxml2 closes the innermost open element at a mismatched
	 * end tag, so a stray "<br>" leaves elements open in a whole body.) */
	char root_end[80];
	char tail[PARSE_TAIL];
	size_t tail_len;
	/* HTML's empty elements left open ("<br>") and bare '&': read
	 * again, mended (voidtags.h). mend_retry: the VOIDTAGS_* asked for;
	 * mend: those reading so. */
	int mend_retry;
	int mend;
	struct voidtags vt;
	struct buf vbuf;

	struct frame frames[FEEDPARSE_DEPTH_MAX];
	int depth;
	int cap_top; /* innermost capturing frame, -1 if none */
	int serialize; /* >0: inside a text construct's markup */
	int infeed, initem, inimage, intextinput, insource, inauthor,
	    inpublisher, incontributor;
	int title_depth; /* feedparser's title_depth rule */
	int feed_image; /* the channel has an <image> */
	struct item_state cur;
	int have_item;

	/* Result. */
	struct feed_doc *doc;
	size_t items_alloc;
	int feed_title_depth;
	void (*item_cb)(struct item *, void *);
	void *item_arg;
	int no_plain_text; /* leave summary_text, content_text NULL */
	size_t items_emitted;
};

/* counted from every thread that parses (parsepool.h) */
static _Atomic size_t parse_denied_loads;

/* The external entity loader: nothing is ever loaded. */
static xmlParserInputPtr
parse_deny_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	parse_denied_loads++;
	return NULL;
}

size_t feedparse_denied_loads(void);

/* How many external loads were refused since start (for tests). */
size_t
feedparse_denied_loads(void)
{
	return parse_denied_loads;
}

static void
parse_init_once(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	xmlInitParser();
	xmlSetExternalEntityLoader(parse_deny_loader);
}

static void parse_keep_references(struct feedparse *);
static void parse_fail(struct feedparse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Refuse the document: stop libxml2 and keep the first cause. */
static void
parse_fail(struct feedparse *p, const char *fmt, ...)
{
	va_list ap;
	char msg[256];
	int line = 0;

	if (p->failed)
		return;
	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (p->ctxt != NULL) {
		line = xmlSAX2GetLineNumber(p->ctxt);
		xmlStopParser(p->ctxt);
	}
	if (line > 0)
		xasprintf(&p->cause, "line %d: %s", line, msg);
	else
		xasprintf(&p->cause, "%s", msg);
}

/* ------------------------------------------------------------------ */
/* Small string helpers */

static int
parse_is_pyspace(const unsigned char *s, size_t len, size_t *n)
{
	/* The characters Python's str.strip() removes. */
	if (*s == ' ' || (*s >= '\t' && *s <= '\r') ||
	    (*s >= 0x1c && *s <= 0x1f)) {
		*n = 1;
		return 1;
	}
	if (len >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0)) {
		*n = 2;
		return 1;
	}
	if (len >= 3 && s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) {
		*n = 3;
		return 1;
	}
	if (len >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
	    ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 ||
		s[2] == 0xaf)) {
		*n = 3;
		return 1;
	}
	if (len >= 3 && s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) {
		*n = 3;
		return 1;
	}
	if (len >= 3 && s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80) {
		*n = 3;
		return 1;
	}
	return 0;
}

/* Strip leading and trailing whitespace in place; returns the new length. */
static size_t
parse_strip(char *s, size_t len)
{
	size_t start = 0, end = len, n, k;

	while (start < len &&
	    parse_is_pyspace((unsigned char *)s + start, len - start, &n))
		start += n;
	/* Back over trailing white space, one character at a time. */
	while (end > start) {
		k = end - 1;
		while (k > start && end - k < 4 &&
		    ((unsigned char)s[k] & 0xc0) == 0x80)
			k--;
		if (!parse_is_pyspace((unsigned char *)s + k, end - k, &n) ||
		    k + n != end)
			break;
		end = k;
	}
	if (start > 0)
		memmove(s, s + start, end - start);
	s[end - start] = '\0';
	return end - start;
}

static int
parse_ascii_ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* Map Atom's short content types to MIME types, lower-cased. */
static void
parse_map_type(const char *in, char *out)
{
	size_t i, n = strlen(in);

	if ((n == 4 && parse_ascii_ieq(in, "text")) ||
	    (n == 5 && parse_ascii_ieq(in, "plain")))
		in = "text/plain";
	else if (n == 4 && parse_ascii_ieq(in, "html"))
		in = "text/html";
	else if (n == 5 && parse_ascii_ieq(in, "xhtml"))
		in = "application/xhtml+xml";
	for (i = 0; in[i] != '\0' && i + 1 < FEEDPARSE_TYPE_MAX; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static int
parse_type_is_html(const char *type)
{
	return strcmp(type, "text/html") == 0 ||
	    strcmp(type, "application/xhtml+xml") == 0;
}

/* Whether a value of this type is markup to be reduced to text. */
static int
parse_type_is_markup(const char *type)
{
	const char *t;

	/* strstr for "html" and "xml", short of its cost on short strings */
	for (t = type; *t != '\0'; t++)
		if ((t[0] == 'h' && strncmp(t, "html", 4) == 0) ||
		    (t[0] == 'x' && strncmp(t, "xml", 3) == 0))
			return 1;
	return 0;
}

static int
parse_is_html_element(const char *name, size_t len)
{
	size_t i;
	char lower[16];

	if (len >= sizeof lower)
		return 0;
	for (i = 0; i < len; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[len] = '\0';
	for (i = 0;
	     i < sizeof parse_html_elements / sizeof parse_html_elements[0];
	     i++)
		if (strcmp(lower, parse_html_elements[i]) == 0)
			return 1;
	return 0;
}

static int
parse_is_word(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/*
 * The guess readers make about nominally plain RSS text: it is HTML when
 * it has an end tag or an entity reference, every tag is a known HTML
 * element and every entity a known HTML entity.
 */
static int
parse_looks_like_html(const char *s)
{
	const char *p, *q;
	int evidence = 0;
	char name[64];
	uint32_t cp[2];
	size_t n;

	for (p = s; *p != '\0'; p++) {
		if (*p == '<') {
			q = p + 1;
			if (*q == '/')
				q++;
			n = 0;
			while (parse_is_word((unsigned char)q[n]))
				n++;
			if (n == 0)
				continue;
			if (!parse_is_html_element(q, n))
				return 0;
			if (p[1] == '/' && q[n] == '>')
				evidence = 1;
		} else if (*p == '&') {
			q = p + 1;
			if (*q == '#')
				q++;
			n = 0;
			while (parse_is_word((unsigned char)q[n]))
				n++;
			if (n == 0 || q[n] != ';')
				continue;
			evidence = 1;
			if (p[1] == '#')
				continue;
			if (n >= sizeof name)
				return 0;
			memcpy(name, q, n);
			name[n] = '\0';
			if (htmlEntityLookup((const xmlChar *)name) == NULL &&
			    strcmp(name, "apos") != 0 &&
			    html5ent_lookup(name, n, cp) == -1)
				return 0;
		}
	}
	return evidence;
}

/* Decode base64 in place (non-alphabet bytes skipped); -1 if malformed. */
static int
parse_base64(char *s, size_t *len)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, out = 0, pad = 0;
	uint32_t acc = 0;
	int nbits = 0, quads = 0;
	const char *c;

	for (i = 0; i < *len; i++) {
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if ((c = memchr(alphabet, s[i], 64)) == NULL || s[i] == '\0')
			continue;
		if (pad > 0)
			return -1;
		acc = (acc << 6) | (uint32_t)(c - alphabet);
		nbits += 6;
		quads++;
		if (nbits >= 8) {
			nbits -= 8;
			s[out++] = (char)((acc >> nbits) & 0xff);
		}
	}
	if (quads % 4 == 1 || (quads % 4 != 0 && (quads % 4) + pad < 4))
		return -1;
	s[out] = '\0';
	*len = out;
	return 0;
}

/* Whether s is all ASCII (then no repair below applies). */
static int
parse_is_ascii(const char *s, size_t len)
{
	uint64_t w[4];
	size_t i = 0;

	for (; i + sizeof w <= len; i += sizeof w) {
		memcpy(w, s + i, sizeof w);
		if ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ULL)
			return 0;
	}
	for (; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

/*
 * Repair text that was UTF-8 but decoded as ISO-8859-1 by the publisher:
 * when every character is below U+0100 and the bytes they stand for are
 * valid UTF-8, use those bytes.
 */
static void
parse_fix_double_utf8(char *s, size_t *len)
{
	unsigned char *u = (unsigned char *)s;
	size_t i, out = 0, k, n, need = 0;
	int high = 0;
	unsigned char c, d;
	char *tmp;

	/*
	 * First a look that ends early: at a character past U+00FF, or at
	 * the first byte the repair would turn into something that is not
	 * UTF-8. Text that is not double-encoded (most accented text: "é"
	 * would stand for a lead byte, followed by a letter) ends at its
	 * first accented character, without the copy below.
	 */
	for (i = 0; i < *len; i++) {
		while (need == 0 && i + 8 <= *len) {
			uint64_t w;

			memcpy(&w, u + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= *len)
			break;
		c = u[i];
		if (c < 0x80) {
			if (need > 0)
				return; /* a sequence cut short */
			continue;
		}
		if (c >= 0xc4)
			return; /* a character past U+00FF */
		d = c;
		if (c == 0xc2 || c == 0xc3) {
			if (i + 1 >= *len || u[i + 1] >= 0xc4)
				return;
			d = (unsigned char)(((c & 0x03) << 6) |
			    (u[i + 1] & 0x3f));
			i++;
			high = 1;
		}
		if (need > 0) {
			if ((d & 0xc0) != 0x80)
				return;
			need--;
		} else if (d >= 0xc2 && d <= 0xdf)
			need = 1;
		else if (d >= 0xe0 && d <= 0xef)
			need = 2;
		else if (d >= 0xf0 && d <= 0xf4)
			need = 3;
		else
			return; /* a continuation byte or no lead byte at all */
	}
	if (!high || need > 0)
		return;
	tmp = xmalloc(*len + 1);
	for (i = 0; i < *len; i++) {
		if (u[i] == 0xc2 || u[i] == 0xc3) {
			if (i + 1 >= *len) {
				free(tmp);
				return;
			}
			tmp[out++] =
			    (char)(((u[i] & 0x03) << 6) | (u[i + 1] & 0x3f));
			i++;
		} else
			tmp[out++] = (char)u[i];
	}
	/* Is the result valid UTF-8? */
	for (i = 0; i < out;) {
		c = (unsigned char)tmp[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		else {
			free(tmp);
			return;
		}
		for (k = 1; k < n; k++)
			if (i + k >= out ||
			    ((unsigned char)tmp[i + k] & 0xc0) != 0x80) {
				free(tmp);
				return;
			}
		if ((c == 0xe0 && (unsigned char)tmp[i + 1] < 0xa0) ||
		    (c == 0xed && (unsigned char)tmp[i + 1] >= 0xa0) ||
		    (c == 0xf0 && (unsigned char)tmp[i + 1] < 0x90) ||
		    (c == 0xf4 && (unsigned char)tmp[i + 1] >= 0x90)) {
			free(tmp);
			return;
		}
		i += n;
	}
	memcpy(s, tmp, out);
	s[out] = '\0';
	*len = out;
	free(tmp);
}

/* Replace C1 controls by their windows-1252 characters; new string. */
static char *
parse_map_cp1252(char *s, size_t len, size_t *outlen)
{
	struct buf b;
	size_t i, from = 0;
	const char *rep;

	if (memmem(s, len, "\xc2", 1) == NULL) {
		*outlen = len;
		return s;
	}
	buf_init(&b, (size_t)-1 / 2);
	for (i = 0; i + 1 < len; i++) {
		if ((unsigned char)s[i] != 0xc2 ||
		    (unsigned char)s[i + 1] < 0x80 ||
		    (unsigned char)s[i + 1] > 0x9f)
			continue;
		rep = html_cp1252((unsigned char)s[i + 1]);
		if (rep == NULL)
			continue;
		buf_add(&b, s + from, i - from);
		buf_addstr(&b, rep);
		from = i + 2;
		i++;
	}
	if (from == 0) {
		buf_free(&b);
		*outlen = len;
		return s;
	}
	buf_add(&b, s + from, len - from);
	free(s);
	return buf_take(&b, outlen);
}

/*
 * HTML-escape plain text so that the *_html field is markup too. Takes s:
 * returns it as it is when nothing needs escaping.
 */
static char *
parse_escape(char *s, size_t len)
{
	struct buf b;
	size_t i, from = 0;
	const char *rep;

	if (strcspn(s, "&<>\"") >= len)
		return s;
	buf_init(&b, (size_t)-1 / 2);
	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		default:
			continue;
		}
		buf_add(&b, s + from, i - from);
		buf_addstr(&b, rep);
		from = i + 1;
	}
	buf_add(&b, s + from, len - from);
	free(s);
	return buf_take(&b, NULL);
}

/* ------------------------------------------------------------------ */
/* The document and its items */

static struct feed_doc *
parse_doc(struct feedparse *p)
{
	if (p->doc == NULL) {
		p->doc = xcalloc(1, sizeof *p->doc);
		p->doc->format = FEED_FORMAT_UNKNOWN;
	}
	return p->doc;
}

static void
parse_bozo(struct feedparse *p, const char *reason)
{
	struct feed_doc *doc = parse_doc(p);

	if (!doc->bozo) {
		doc->bozo = 1;
		free(doc->bozo_reason);
		doc->bozo_reason = xstrdup(reason);
	}
}

static void
parse_item_state_clear(struct item_state *st)
{
	item_clear(&st->item);
	free(st->author_name);
	free(st->author_email);
	memset(st, 0, sizeof *st);
}

static void
parse_item_begin(struct feedparse *p)
{
	struct feed_doc *doc = parse_doc(p);

	parse_item_state_clear(&p->cur);
	p->cur.item.published = p->cur.item.updated = ITEM_TIME_NONE;
	p->cur.dropped =
	    p->item_cb == NULL && doc->nitems >= FEEDPARSE_ITEMS_MAX;
	if (p->cur.dropped)
		doc->truncated = 1;
	p->have_item = 1;
}

static void
parse_item_end(struct feedparse *p)
{
	struct feed_doc *doc = parse_doc(p);
	struct item *item = &p->cur.item;

	p->have_item = 0;
	if (p->cur.dropped) {
		parse_item_state_clear(&p->cur);
		return;
	}
	item_make_key(item);
	if (p->item_cb != NULL) {
		p->item_cb(item, p->item_arg);
		p->items_emitted++;
		parse_item_state_clear(&p->cur);
		return;
	}
	if (doc->nitems == p->items_alloc) {
		p->items_alloc = p->items_alloc == 0 ? 16 : p->items_alloc * 2;
		doc->items = xreallocarray(
		    doc->items, p->items_alloc, sizeof *doc->items);
	}
	doc->items[doc->nitems++] = *item;
	memset(item, 0, sizeof *item);
	parse_item_state_clear(&p->cur);
}

static void
parse_set(char **slot, char *value)
{
	free(*slot);
	*slot = value;
}

/* Whether term is a category the item lacks; room is made for it. */
static int
parse_category_wanted(struct item_state *st, const char *term)
{
	struct item *item = &st->item;
	size_t i;

	if (term == NULL || *term == '\0' ||
	    item->ncategories >= FEEDPARSE_CATEGORIES_MAX)
		return 0;
	for (i = 0; i < item->ncategories; i++)
		if (strcmp(item->categories[i], term) == 0)
			return 0;
	if (item->ncategories == st->cat_alloc) {
		st->cat_alloc = st->cat_alloc == 0 ? 4 : st->cat_alloc * 2;
		item->categories = xreallocarray(
		    item->categories, st->cat_alloc, sizeof *item->categories);
	}
	return 1;
}

static void
parse_add_category(struct item_state *st, const char *term)
{
	if (parse_category_wanted(st, term))
		st->item.categories[st->item.ncategories++] = xstrdup(term);
}

/* parse_add_category, handing *term over (then NULL) instead of a copy. */
static void
parse_take_category(struct item_state *st, char **term)
{
	if (parse_category_wanted(st, *term)) {
		st->item.categories[st->item.ncategories++] = *term;
		*term = NULL;
	}
}

/* Add an enclosure; takes the three strings (each may be NULL). */
static void
parse_add_enclosure(struct item_state *st, char *url, char *type, char *length)
{
	struct item *item = &st->item;
	struct item_enclosure *e;

	if (item->nenclosures == st->enc_alloc) {
		st->enc_alloc = st->enc_alloc == 0 ? 2 : st->enc_alloc * 2;
		item->enclosures = xreallocarray(
		    item->enclosures, st->enc_alloc, sizeof *item->enclosures);
	}
	e = &item->enclosures[item->nenclosures++];
	e->url = url;
	e->type = type;
	e->length = length;
}

/*
 * Split an RSS author ("me@example.com (Me)", "Me <me@example.com>")
 * into name and email.
 */
static void
parse_split_author(const char *text, char **name, char **email)
{
	const char *at, *start, *end, *p;
	struct buf b;
	size_t n, i;
	char *rest;

	*name = *email = NULL;
	at = strchr(text, '@');
	if (at == NULL || at == text) {
		if (*text != '\0')
			*name = xstrdup(text);
		return;
	}
	start = at;
	while (start > text &&
	    (isalnum((unsigned char)start[-1]) || strchr("_-.+", start[-1])))
		start--;
	end = at + 1;
	while (isalnum((unsigned char)*end) || *end == '-' || *end == '.')
		end++;
	while (end > at + 1 && end[-1] == '.')
		end--;
	if (start == at ||
	    memchr(at + 1, '.', (size_t)(end - at - 1)) == NULL) {
		*name = xstrdup(text);
		return;
	}
	if (strncmp(end, "?subject=", 9) == 0)
		end += 9 + strcspn(end + 9, " \t\r\n");
	*email = xstrndup(start, (size_t)(end - start));
	/* The rest, less the brackets that held the address. */
	buf_init(&b, strlen(text) + 1);
	buf_add(&b, text, (size_t)(start - text));
	buf_addstr(&b, end);
	rest = buf_take(&b, &n);
	for (;;) {
		if ((p = strstr(rest, "()")) == NULL &&
		    (p = strstr(rest, "<>")) == NULL)
			break;
		memmove((char *)p, p + 2, strlen(p + 2) + 1);
	}
	n = parse_strip(rest, strlen(rest));
	if (n > 0 && rest[0] == '(') {
		memmove(rest, rest + 1, n);
		n--;
	}
	if (n > 0 && rest[n - 1] == ')')
		rest[--n] = '\0';
	n = parse_strip(rest, n);
	for (i = 0; i < n; i++)
		;
	if (n > 0)
		*name = rest;
	else
		free(rest);
}

/* ------------------------------------------------------------------ */
/* Entities */

static struct entity *
parse_entity_find(struct feedparse *p, const char *name)
{
	struct entity *e;

	for (e = p->entities; e != NULL; e = e->next)
		if (strcmp((const char *)e->ent.name, name) == 0)
			return e;
	return NULL;
}

static struct entity *
parse_entity_add(struct feedparse *p, const char *name, const char *value)
{
	struct entity *e = xcalloc(1, sizeof *e);

	e->ent.type = XML_ENTITY_DECL;
	e->ent.etype = XML_INTERNAL_PREDEFINED_ENTITY;
	e->ent.name = (const xmlChar *)xstrdup(name);
	e->ent.content = (xmlChar *)xstrdup(value);
	e->ent.length = (int)strlen(value);
	e->next = p->entities;
	p->entities = e;
	return e;
}

static void
parse_entities_free(struct feedparse *p)
{
	struct entity *e, *next;

	for (e = p->entities; e != NULL; e = next) {
		next = e->next;
		free((char *)e->ent.name);
		free(e->ent.content);
		/* libxml2 hands the declared value's source to the entity. */
		if (e->ent.orig != NULL)
			xmlFree(e->ent.orig);
		free(e);
	}
	p->entities = NULL;
	p->nentities = 0;
}

/*
 * An entity declaration in the internal subset. Internal general entities
 * with plain values are kept (and expanded by parse_get_entity under
 * FEEDPARSE_EXPANSION_MAX); one whose value refers to another entity, or
 * too many or too large, refuses the document. External and parameter
 * entities are ignored: they are never loaded.
 */
static void
parse_entity_decl_cb(void *ctx, const xmlChar *name, int type,
    const xmlChar *publicid, const xmlChar *systemid, xmlChar *content)
{
	struct feedparse *p = ctx;
	struct entity *e;
	size_t len;

	if (p->failed)
		return;
	if (type != XML_INTERNAL_GENERAL_ENTITY)
		return;
	if (++p->nentities > FEEDPARSE_ENTITIES_MAX) {
		parse_fail(p, "more than %d entity declarations",
		    FEEDPARSE_ENTITIES_MAX);
		return;
	}
	len = content != NULL ? strlen((const char *)content) : 0;
	if (len > FEEDPARSE_ENTITY_MAX) {
		parse_fail(p, "entity \"%.64s\" longer than %d bytes",
		    (const char *)name, FEEDPARSE_ENTITY_MAX);
		return;
	}
	if (content != NULL &&
	    (strchr((const char *)content, '&') != NULL ||
		strchr((const char *)content, '%') != NULL)) {
		parse_fail(p, "entity \"%.64s\" refers to other entities",
		    (const char *)name);
		return;
	}
	if (parse_entity_find(p, (const char *)name) != NULL)
		return; /* the first declaration binds */
	e = parse_entity_add(p, (const char *)name,
	    content != NULL ? (const char *)content : "");
	(void)e;
}

/* Resolve &name;: declared entities, then HTML's named characters. */
static xmlEntityPtr
parse_get_entity_cb(void *ctx, const xmlChar *name)
{
	struct feedparse *p = ctx;
	const htmlEntityDesc *h;
	struct entity *e;
	uint32_t cp[2] = {0, 0};
	char utf8[16];
	int n, k;

	if (p->failed)
		return NULL;
	e = parse_entity_find(p, (const char *)name);
	if (e == NULL && (h = htmlEntityLookup(name)) != NULL)
		cp[0] = h->value;
	else if (e == NULL)
		(void)html5ent_lookup((const char *)name,
		    strlen((const char *)name), cp); /* HTML5's names */
	if (e == NULL && cp[0] != 0) {
		n = xmlCopyCharMultiByte((xmlChar *)utf8, (int)cp[0]);
		if (n <= 0)
			return NULL;
		if (cp[1] != 0) {
			if ((k = xmlCopyCharMultiByte(
				 (xmlChar *)utf8 + n, (int)cp[1])) <= 0)
				return NULL;
			n += k;
		}
		utf8[n] = '\0';
		e = parse_entity_add(p, (const char *)name, utf8);
		/* Undeclared in XML: ill-formed, but the meaning is clear. */
		e->ent._private = e;
	}
	if (e == NULL) {
		/* Unknown: keep the reference as written, as readers do. */
		char *lit;

		if (strlen((const char *)name) > 64)
			return NULL;
		xasprintf(&lit, "&%s;", (const char *)name);
		e = parse_entity_add(p, (const char *)name, lit);
		free(lit);
		e->ent._private = e;
	}
	if (e->ent._private != NULL && !p->html_entity_used) {
		p->html_entity_used = 1;
		parse_bozo(p, "undefined entity");
	}
	p->expanded += (size_t)e->ent.length;
	if (p->expanded > FEEDPARSE_EXPANSION_MAX) {
		parse_fail(p, "entity expansion past %d bytes",
		    FEEDPARSE_EXPANSION_MAX);
		return NULL;
	}
	return &e->ent;
}

static xmlEntityPtr
parse_get_parameter_entity_cb(void *ctx, const xmlChar *name)
{
	return NULL;
}

static xmlParserInputPtr
parse_resolve_entity_cb(
    void *ctx, const xmlChar *publicid, const xmlChar *systemid)
{
	parse_denied_loads++;
	return NULL;
}

static void
parse_subset_cb(void *ctx, const xmlChar *name, const xmlChar *externalid,
    const xmlChar *systemid)
{
	/* A DOCTYPE is allowed; what it points to is never read. */
}

/* ------------------------------------------------------------------ */
/* Element dispatch */

static enum ns
parse_ns(const xmlChar *uri, const xmlChar *prefix)
{
	size_t i;
	const char *u = (const char *)uri;

	if (uri == NULL || *uri == '\0')
		return NS_CORE;
	if (strcasestr(u, "backend.userland.com/rss") != NULL)
		return NS_CORE;
	for (i = 0; i < sizeof parse_namespaces / sizeof parse_namespaces[0];
	     i++)
		if (strcasecmp(u, parse_namespaces[i].uri) == 0)
			return parse_namespaces[i].ns;
	/* Unknown namespace: readers go by the prefix the document used. */
	if (prefix == NULL)
		return NS_CORE;
	if (strcmp((const char *)prefix, "dc") == 0)
		return NS_DC;
	if (strcmp((const char *)prefix, "dcterms") == 0)
		return NS_DCTERMS;
	if (strcmp((const char *)prefix, "content") == 0)
		return NS_CONTENT;
	if (strcmp((const char *)prefix, "xhtml") == 0)
		return NS_XHTML;
	return NS_NONE;
}

/* Longest element name parse_elements holds, plus one. */
#define PARSE_ELEM_NAME_MAX 16

static int
parse_elem_cmp(const void *key, const void *member)
{
	const struct parse_element *k = key;
	const struct parse_element *m = member;

	if (k->ns != m->ns)
		return k->ns < m->ns ? -1 : 1;
	return strcmp(k->name, m->name);
}

static int
parse_same(const xmlChar *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == NULL && b == NULL;
	return strcmp((const char *)a, b) == 0;
}

/* parse_ns, remembering the last answer. */
static enum ns
parse_ns_cached(struct feedparse *p, const xmlChar *uri, const xmlChar *prefix)
{
	if (uri == NULL)
		uri = (const xmlChar *)""; /* the same namespace to parse_ns */
	if (p->ns_uri != NULL && parse_same(uri, p->ns_uri) &&
	    parse_same(prefix, p->ns_prefix))
		return p->ns_last;
	free(p->ns_uri);
	free(p->ns_prefix);
	p->ns_uri = xstrdup((const char *)uri);
	p->ns_prefix = prefix != NULL ? xstrdup((const char *)prefix) : NULL;
	p->ns_last = parse_ns(uri, prefix);
	return p->ns_last;
}

static enum elem
parse_elem(enum ns ns, const xmlChar *localname)
{
	char lower[PARSE_ELEM_NAME_MAX];
	struct parse_element key;
	const struct parse_element *found;
	size_t i;

	if (ns == NS_NONE)
		return E_OTHER;
	for (i = 0; localname[i] != '\0'; i++) {
		if (i + 1 == sizeof lower)
			return E_OTHER; /* longer than any name held */
		lower[i] = (char)(localname[i] >= 'A' && localname[i] <= 'Z'
			? localname[i] + ('a' - 'A')
			: localname[i]);
	}
	lower[i] = '\0';
	key.ns = ns;
	key.name = lower;
	found = bsearch(&key, parse_elements,
	    sizeof parse_elements / sizeof parse_elements[0],
	    sizeof parse_elements[0], parse_elem_cmp);
	return found != NULL ? found->elem : E_OTHER;
}

/* Whether libxml2's dictionary holds this very string (NULL counts). */
static int
parse_dict_owns(struct feedparse *p, const xmlChar *s)
{
	return s == NULL || xmlDictOwns(p->ctxt->dict, s) == 1;
}

/*
 * parse_elem for a start tag, from the cache when the same dictionary
 * strings were seen before (most elements of a feed repeat).
 */
static enum elem
parse_elem_cached(struct feedparse *p, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri)
{
	struct elem_slot *slot;
	uint64_t h;
	enum elem e;

	h = ((uint64_t)(uintptr_t)localname ^ ((uint64_t)(uintptr_t)uri << 1)) *
	    0x9e3779b97f4a7c15ULL;
	slot = &p->elem_cache[(h >> 56) & (PARSE_ELEM_SLOTS - 1)];
	if (slot->localname == localname && slot->uri == uri &&
	    slot->prefix == prefix)
		return slot->elem;
	e = parse_elem(parse_ns_cached(p, uri, prefix), localname);
	if (parse_dict_owns(p, localname) && parse_dict_owns(p, uri) &&
	    parse_dict_owns(p, prefix)) {
		slot->localname = localname;
		slot->uri = uri;
		slot->prefix = prefix;
		slot->elem = e;
	}
	return e;
}

/* SAX2 attributes: localname, prefix, URI, value, end (5 per attribute). */
static const xmlChar *
parse_attr(int nattrs, const xmlChar **attrs, const char *name,
    const char *nsuri, size_t *len)
{
	int i;

	for (i = 0; i < nattrs; i++) {
		const xmlChar **a = attrs + 5 * i;

		/* name is lower case: a cheap look at the first letter. */
		if ((a[0][0] | 0x20) != (unsigned char)name[0] ||
		    strcasecmp((const char *)a[0], name) != 0)
			continue;
		if (nsuri == NULL && a[2] != NULL &&
		    parse_ns(a[2], a[1]) != NS_CORE)
			continue;
		if (nsuri != NULL &&
		    (a[2] == NULL || strcmp((const char *)a[2], nsuri) != 0))
			continue;
		*len = (size_t)(a[4] - a[3]);
		return a[3];
	}
	return NULL;
}

/*
 * An attribute value as a new string. libxml2 keeps an escaped '&' as
 * "&#38;" in attribute values when it does not substitute entities, and
 * that is the only way those five bytes can reach us: undo it.
 */
static char *
parse_attr_unescape(const xmlChar *v, size_t len)
{
	char *s, *r, *w;

	if (memchr(v, '&', len) == NULL)
		return xstrndup((const char *)v, len);
	s = xstrndup((const char *)v, len);
	if (strstr(s, "&#38;") == NULL)
		return s;
	for (r = w = s; *r != '\0';) {
		if (strncmp(r, "&#38;", 5) == 0) {
			*w++ = '&';
			r += 5;
		} else
			*w++ = *r++;
	}
	*w = '\0';
	return s;
}

/* An attribute value as a new string (NULL if absent). */
static char *
parse_attr_dup(
    int nattrs, const xmlChar **attrs, const char *name, const char *nsuri)
{
	const xmlChar *v;
	size_t len;

	if ((v = parse_attr(nattrs, attrs, name, nsuri, &len)) == NULL)
		return NULL;
	return parse_attr_unescape(v, len);
}

#define XML_NS "http://www.w3.org/XML/1998/namespace"
#define RDF_NS "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

/* Capture storage a frame keeps between elements. */
#define PARSE_CAPTURE_KEEP (64 * 1024)

/* Empty the capture, keeping small storage for the next one. */
static void
parse_capture_drop(struct frame *f)
{
	if (f->text.size > PARSE_CAPTURE_KEEP)
		buf_free(&f->text);
	else
		buf_reset(&f->text);
}

/* Append to the capture, cutting at FEEDPARSE_FIELD_MAX on a character. */
static void
parse_capture_add(struct frame *f, const char *s, size_t len)
{
	struct buf *b = &f->text;
	size_t room;

	if (f->cut)
		return;
	/*
	 * The usual case, once per text node or entity reference: the
	 * storage kept from the last capture has room.
	 */
	if (len < b->size - b->len && b->len + len <= FEEDPARSE_FIELD_MAX) {
		if (len == 1) /* an entity reference: no call to memcpy */
			b->data[b->len] = *s;
		else
			memcpy(b->data + b->len, s, len);
		b->len += len;
		b->data[b->len] = '\0';
		return;
	}
	room = FEEDPARSE_FIELD_MAX - f->text.len;
	if (len > room) {
		len = utf8_cut(s, len, room);
		f->cut = 1;
	}
	buf_add(b, s, len);
}

/*
 * The captured text as a new string. The frame keeps its storage for the
 * next element at this depth (most fields are short and alike), unless it
 * grew past PARSE_CAPTURE_KEEP: that storage is handed over, not copied.
 */
static char *
parse_capture_take(struct frame *f, size_t *len)
{
	char *s;

	if (f->text.size > PARSE_CAPTURE_KEEP)
		return buf_take(&f->text, len);
	s = xmalloc(f->text.len + 1);
	memcpy(s, buf_str(&f->text), f->text.len + 1);
	if (len != NULL)
		*len = f->text.len;
	buf_reset(&f->text);
	return s;
}

static void
parse_capture_escaped(struct frame *f, const char *s, size_t len, int attr)
{
	size_t i, from = 0;
	const char *rep;

	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = attr ? "&quot;" : NULL;
			break;
		default:
			rep = NULL;
		}
		if (rep == NULL)
			continue;
		parse_capture_add(f, s + from, i - from);
		parse_capture_add(f, rep, strlen(rep));
		from = i + 1;
	}
	parse_capture_add(f, s + from, len - from);
}

/* Start capturing the text of a field element. */
static void
parse_capture(struct feedparse *p, struct frame *f, int construct,
    const char *default_type, int nattrs, const xmlChar **attrs)
{
	char *type, *mode;

	f->capturing = 1;
	f->construct = construct;
	p->cap_top = p->depth - 1;
	if (!construct)
		return;
	type = parse_attr_dup(nattrs, attrs, "type", NULL);
	parse_map_type(type != NULL ? type : default_type, f->type);
	free(type);
	mode = parse_attr_dup(nattrs, attrs, "mode", NULL);
	if (mode != NULL && strcmp(mode, "base64") == 0)
		f->base64 = 1;
	else if (strncmp(f->type, "text/", 5) != 0 &&
	    !(strlen(f->type) >= 4 &&
		(strcmp(f->type + strlen(f->type) - 4, "+xml") == 0 ||
		    strcmp(f->type + strlen(f->type) - 4, "/xml") == 0)))
		f->base64 = 1;
	free(mode);
	f->markup = parse_type_is_markup(f->type);
	f->xhtml = strcmp(f->type, "application/xhtml+xml") == 0 ||
	    strcmp(f->type, "application/xml") == 0 ||
	    strcmp(f->type, "text/xml") == 0;
}

static int
parse_in_entry(struct feedparse *p)
{
	return p->initem && !p->insource && p->have_item;
}

static int
parse_is_atom(struct feedparse *p)
{
	return p->doc != NULL &&
	    (p->doc->format == FEED_FORMAT_ATOM03 ||
		p->doc->format == FEED_FORMAT_ATOM10);
}

/* The root element decides the format. */
static void
parse_root(struct feedparse *p, enum elem e, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri, int nattrs,
    const xmlChar **attrs)
{
	struct feed_doc *doc = parse_doc(p);
	char *version;
	int n;

	p->root_seen = 1;
	n = snprintf(p->root_end, sizeof p->root_end, "</%s%s%s",
	    prefix != NULL ? (const char *)prefix : "",
	    prefix != NULL ? ":" : "", (const char *)localname);
	if (n < 0 || (size_t)n >= sizeof p->root_end)
		p->root_end[0] = '\0'; /* too long to look for: taken whole */
	version = parse_attr_dup(nattrs, attrs, "version", NULL);
	switch (e) {
	case E_RSS:
		if (version == NULL)
			doc->format = FEED_FORMAT_RSS20;
		else if (strcmp(version, "0.91") == 0)
			doc->format = FEED_FORMAT_RSS091;
		else if (strcmp(version, "0.92") == 0)
			doc->format = FEED_FORMAT_RSS092;
		else if (strcmp(version, "0.93") == 0)
			doc->format = FEED_FORMAT_RSS093;
		else if (strcmp(version, "0.94") == 0)
			doc->format = FEED_FORMAT_RSS094;
		else
			doc->format = FEED_FORMAT_RSS20;
		break;
	case E_RDF:
		doc->format = FEED_FORMAT_RSS10;
		break;
	case E_FEED:
		if (uri != NULL &&
		    strcasecmp(
			(const char *)uri, "http://www.w3.org/2005/Atom") == 0)
			doc->format = FEED_FORMAT_ATOM10;
		else
			doc->format = FEED_FORMAT_ATOM03;
		break;
	case E_CHANNEL:
		doc->format = FEED_FORMAT_RSS20;
		break;
	default:
		break;
	}
	free(version);
}

/* Serialize a start tag into the enclosing text construct. */
static void
parse_serialize_start(struct feedparse *p, const xmlChar *localname, int nattrs,
    const xmlChar **attrs)
{
	struct frame *cf = &p->frames[p->cap_top];
	int i;

	if (!cf->xhtml) {
		/* Markup inside an element said to hold text: it is XHTML. */
		size_t len;
		char *old = parse_capture_take(cf, &len);

		cf->xhtml = cf->markup = 1;
		strcpy(cf->type, "application/xhtml+xml");
		cf->base64 = 0;
		parse_capture_escaped(cf, old, len, 0);
		free(old);
	}
	parse_capture_add(cf, "<", 1);
	parse_capture_add(
	    cf, (const char *)localname, strlen((const char *)localname));
	for (i = 0; i < nattrs; i++) {
		const xmlChar **a = attrs + 5 * i;

		parse_capture_add(cf, " ", 1);
		parse_capture_add(
		    cf, (const char *)a[0], strlen((const char *)a[0]));
		parse_capture_add(cf, "=\"", 2);
		parse_capture_escaped(
		    cf, (const char *)a[3], (size_t)(a[4] - a[3]), 1);
		parse_capture_add(cf, "\"", 1);
	}
	parse_capture_add(cf, ">", 1);
}

static void
parse_link_start(
    struct feedparse *p, struct frame *f, int nattrs, const xmlChar **attrs)
{
	char *href, *rel, *type, *url;
	const char *relation;
	char mapped[FEEDPARSE_TYPE_MAX];

	href = parse_attr_dup(nattrs, attrs, "url", NULL);
	if (href == NULL || *href == '\0') {
		free(href);
		href = parse_attr_dup(nattrs, attrs, "uri", NULL);
	}
	if (href == NULL || *href == '\0') {
		free(href);
		href = parse_attr_dup(nattrs, attrs, "href", NULL);
	}
	if (href == NULL) {
		free(href);
		/* RSS: the link is the element's text. */
		if (p->infeed || p->initem || p->insource)
			parse_capture(p, f, 0, NULL, 0, NULL);
		return;
	}
	rel = parse_attr_dup(nattrs, attrs, "rel", NULL);
	type = parse_attr_dup(nattrs, attrs, "type", NULL);
	relation = rel != NULL ? rel : "alternate";
	parse_map_type(type != NULL             ? type
		: strcmp(relation, "self") == 0 ? "application/atom+xml"
						: "text/html",
	    mapped);
	url = uri_resolve_link(f->base, href);
	if (p->insource || p->inimage || p->intextinput)
		; /* not the item's or the feed's */
	else if (parse_in_entry(p)) {
		if (strcmp(relation, "enclosure") == 0) {
			parse_add_enclosure(&p->cur, url, type,
			    parse_attr_dup(nattrs, attrs, "length", NULL));
			url = type = NULL;
		} else if (strcmp(relation, "alternate") == 0 &&
		    parse_type_is_html(mapped)) {
			parse_set(&p->cur.item.link, url);
			url = NULL;
		}
	} else if (p->infeed && !p->initem) {
		if (strcmp(relation, "alternate") == 0 &&
		    parse_type_is_html(mapped)) {
			parse_set(&parse_doc(p)->link, url);
			url = NULL;
		}
	}
	free(url);
	free(href);
	free(rel);
	free(type);
}

static void
parse_enclosure_start(struct feedparse *p, int nattrs, const xmlChar **attrs)
{
	char *url, *type, *len;

	if (!parse_in_entry(p))
		return;
	url = parse_attr_dup(nattrs, attrs, "url", NULL);
	if (url == NULL)
		url = parse_attr_dup(nattrs, attrs, "href", NULL);
	type = parse_attr_dup(nattrs, attrs, "type", NULL);
	len = parse_attr_dup(nattrs, attrs, "length", NULL);
	if (url == NULL && type == NULL && len == NULL)
		return;
	if (url != NULL) {
		/* Not resolved (readers do not), but never javascript:. */
		char *safe = uri_resolve_link(NULL, url);

		free(url);
		url = safe;
	}
	parse_add_enclosure(&p->cur, url, type, len);
}

static void
parse_start_cb(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nnamespaces, const xmlChar **namespaces, int nattrs,
    int ndefaulted, const xmlChar **attrs)
{
	struct feedparse *p = ctx;
	struct frame *f, *parent;
	enum elem e;
	const xmlChar *v;
	char *base, *about;
	size_t n;

	parse_keep_references(p);
	if (p->failed)
		return;
	if (p->depth >= FEEDPARSE_DEPTH_MAX) {
		parse_fail(
		    p, "elements nested deeper than %d", FEEDPARSE_DEPTH_MAX);
		return;
	}
	parent = p->depth > 0 ? &p->frames[p->depth - 1] : NULL;
	f = &p->frames[p->depth++];
	memset(f, 0, offsetof(struct frame, type));
	f->type[0] = '\0';
	/* xml:base */
	f->base = parent != NULL ? parent->base : p->content_location;
	if ((v = parse_attr(nattrs, attrs, "base", XML_NS, &n)) != NULL) {
		base = parse_attr_unescape(v, n);
		f->base = uri_resolve_link(f->base, base);
		free(base);
		if (f->base != NULL)
			f->base_owned = 1;
		else
			f->base =
			    parent != NULL ? parent->base : p->content_location;
	}

	if (p->serialize > 0) {
		p->serialize++;
		/* Typepad wraps escaped HTML in a div: not markup of its own. */
		if (!p->frames[p->cap_top].xhtml &&
		    strcmp((const char *)localname, "div") == 0)
			f->skip_tag = 1;
		else
			parse_serialize_start(p, localname, nattrs, attrs);
		return;
	}
	e = parse_elem_cached(p, localname, prefix, uri);
	f->elem = e;
	if (!p->root_seen)
		parse_root(p, e, localname, prefix, uri, nattrs, attrs);

	switch (e) {
	case E_CHANNEL:
	case E_FEED:
		p->infeed = 1;
		p->title_depth = -1;
		break;
	case E_ITEM:
		/* An item inside an item: libxml2 closed the elements in
		 * between early (a stray "<br>" in a description), so the
		 * first one's end tag was taken; it ends here, not lost. */
		if (p->have_item && p->initem)
			parse_item_end(p);
		p->initem = 1;
		p->title_depth = -1;
		parse_item_begin(p);
		if ((about = parse_attr_dup(nattrs, attrs, "about", RDF_NS)) !=
		    NULL) {
			if (*about != '\0') {
				parse_set(&p->cur.item.id, about);
				p->cur.id_set = 1;
			} else
				free(about);
		}
		break;
	case E_IMAGE:
		p->inimage = 1;
		if (!p->initem)
			p->feed_image = 1;
		p->title_depth = -1;
		break;
	case E_TEXTINPUT:
		p->intextinput = 1;
		p->title_depth = -1;
		break;
	case E_SOURCE:
		p->insource = 1;
		p->title_depth = -1;
		break;
	case E_AUTHOR:
		p->inauthor = 1;
		if (parse_in_entry(p)) {
			free(p->cur.author_name);
			free(p->cur.author_email);
			p->cur.author_name = p->cur.author_email = NULL;
		}
		parse_capture(p, f, 0, NULL, 0, NULL);
		break;
	case E_CONTRIBUTOR:
		p->incontributor = 1;
		break;
	case E_PUBLISHER:
		p->inpublisher = 1;
		break;
	case E_NAME:
	case E_EMAIL:
	case E_GUID:
	case E_PUBLISHED:
	case E_UPDATED:
	case E_TTL:
	case E_UPDATE_PERIOD:
	case E_UPDATE_FREQUENCY:
	case E_URL:
	case E_TAGS:
		if (e == E_GUID) {
			v = parse_attr(nattrs, attrs, "ispermalink", NULL, &n);
			f->permalink =
			    v == NULL || (n == 4 && memcmp(v, "true", 4) == 0);
		}
		parse_capture(p, f, 0, NULL, 0, NULL);
		break;
	case E_CATEGORY:
		f->term = parse_attr_dup(nattrs, attrs, "term", NULL);
		parse_capture(p, f, 0, NULL, 0, NULL);
		break;
	case E_TITLE:
		parse_capture(p, f, 1, "text/plain", nattrs, attrs);
		break;
	case E_DESCRIPTION:
	case E_SUMMARY:
		if (parse_in_entry(p) && p->cur.summary_set &&
		    !p->cur.summary_media && !p->cur.has_content) {
			/* A second summary is the content. */
			f->to_content = 1;
			p->cur.has_content = 1;
			parse_capture(p, f, 1, "text/plain", nattrs, attrs);
		} else
			parse_capture(p, f, 1,
			    e == E_DESCRIPTION &&
				    strcasecmp((const char *)localname,
					"abstract") != 0
				? "text/html"
				: "text/plain",
			    nattrs, attrs);
		break;
	case E_MEDIA_DESCRIPTION:
		/* the summary of an item without one, never its content:
		 * it is often a photo's caption */
		if (!parse_in_entry(p) || !p->cur.summary_set)
			parse_capture(p, f, 1, "text/plain", nattrs, attrs);
		break;
	case E_CONTENT:
		if (parse_in_entry(p))
			p->cur.has_content = 1;
		parse_capture(p, f, 1, "text/plain", nattrs, attrs);
		if (parse_attr(nattrs, attrs, "src", NULL, &n) != NULL)
			f->has_src = 1;
		break;
	case E_CONTENT_ENCODED:
		if (parse_in_entry(p))
			p->cur.has_content = 1;
		parse_capture(p, f, 1, "text/html", nattrs, attrs);
		break;
	case E_BODY:
		parse_capture(p, f, 1, "application/xhtml+xml", nattrs, attrs);
		break;
	case E_LINK:
		parse_link_start(p, f, nattrs, attrs);
		break;
	case E_ENCLOSURE:
		parse_enclosure_start(p, nattrs, attrs);
		break;
	default:
		break;
	}
	if (f->capturing && f->construct)
		p->serialize = 1;
}

static void
parse_characters_cb(void *ctx, const xmlChar *ch, int len)
{
	struct feedparse *p = ctx;
	struct frame *f;

	parse_keep_references(p);
	if (p->failed || p->cap_top < 0)
		return;
	f = &p->frames[p->cap_top];
	if (f->xhtml)
		parse_capture_escaped(f, (const char *)ch, (size_t)len, 0);
	else
		parse_capture_add(f, (const char *)ch, (size_t)len);
}

/*
 * Undo the publisher's encoding slips in a value (parse_fix_double_utf8,
 * parse_map_cp1252); may return a new string. Whatever the encoding the
 * body was read as: UTF-8 served as charset=iso-8859-1 reads as the same
 * mojibake as UTF-8 encoded twice.
 */
static char *
parse_repair(char *s, size_t *len)
{
	if (parse_is_ascii(s, *len))
		return s;
	parse_fix_double_utf8(s, len);
	return parse_map_cp1252(s, *len, len);
}

/* Finish a text construct's value: the *_html and *_text pair. */
static void
parse_text_value(struct feedparse *p, struct frame *f, char **html, char **text,
    int want_text)
{
	size_t len;
	char *s;
	int markup = f->markup;

	s = parse_capture_take(f, &len);
	len = parse_strip(s, len);
	if (f->base64) {
		char *copy = xstrndup(s, len);
		size_t n = len;

		if (parse_base64(copy, &n) == 0 &&
		    memchr(copy, '\0', n) == NULL) {
			/* Only if the result is UTF-8 text. */
			struct charset *cv = charset_open("utf-8");
			struct buf tmp;

			buf_init(&tmp, n + 1);
			if (charset_convert(cv, copy, n, 1, &tmp) == 0) {
				free(s);
				s = copy;
				len = n;
				copy = NULL;
			}
			buf_free(&tmp);
			charset_close(cv);
		}
		free(copy);
	}
	if (!markup && !parse_is_atom(p) &&
	    strcmp(f->type, "text/plain") == 0 && parse_looks_like_html(s))
		markup = 1;
	s = parse_repair(s, &len);
	if (markup) {
		*text = want_text ? html_to_text(s, len, FEEDPARSE_FIELD_MAX)
				  : NULL;
		*html = s;
	} else {
		*text = html_clean_text(s, len, FEEDPARSE_FIELD_MAX);
		*html = parse_escape(s, len);
	}
}

/* A plain field's value: stripped, windows-1252 mapped. */
static char *
parse_plain_value(struct feedparse *p, struct frame *f)
{
	size_t len;
	char *s;

	s = parse_capture_take(f, &len);
	len = parse_strip(s, len);
	return parse_repair(s, &len);
}

/*
 * A plain field's value to read and let go (a date, a link to resolve):
 * what parse_plain_value gives, left in the frame's storage when no
 * repair applies. *copy is what the caller frees (NULL if nothing).
 */
static const char *
parse_plain_peek(struct feedparse *p, struct frame *f, char **copy)
{
	struct buf *b = &f->text;

	if (b->data != NULL) {
		b->len = parse_strip(b->data, b->len);
		if (parse_is_ascii(b->data, b->len)) {
			*copy = NULL;
			return b->data;
		}
	}
	*copy = parse_plain_value(p, f);
	return *copy;
}

/* Undo "&amp;" damage in link text ("?a=1&amp;b=2"). */
static void
parse_fix_link(char *s)
{
	char *r, *w;

	for (r = w = s; *r != '\0';) {
		if (*r == '&' && strncmp(r, "&amp;", 5) == 0) {
			*w++ = '&';
			r += 5;
		} else
			*w++ = *r++;
	}
	*w = '\0';
	for (r = w = s; *r != '\0';) {
		if (*r == '&') {
			size_t n = 1;

			while (isalnum((unsigned char)r[n]) || r[n] == '_')
				n++;
			if (n > 1 && r[n] == ';') {
				/* "&b;" -> "&b" */
				memmove(w, r, n);
				w += n;
				r += n + 1;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
}

static void
parse_date_into(int64_t *slot, const char *s)
{
	int64_t t;

	*slot = date_parse(s, &t) == 0 ? t : ITEM_TIME_NONE;
}

static void
parse_end_field(struct feedparse *p, struct frame *f, int depth)
{
	struct feed_doc *doc = parse_doc(p);
	struct item_state *st = &p->cur;
	int entry = parse_in_entry(p);
	int feed = !p->initem && p->infeed && !p->inimage && !p->intextinput &&
	    !p->insource;
	char *v = NULL, *copy = NULL, *html = NULL, *text = NULL, *name, *email;
	int hidden;

	switch (f->elem) {
	case E_TITLE:
		/* An image's title in an item is the item's, unless the channel
		 * has an image of its own (where readers file it). */
		if (!(entry || feed) || p->intextinput ||
		    (p->inimage && (!entry || p->feed_image))) {
			parse_capture_drop(f);
			return;
		}
		parse_text_value(p, f, &html, &text, 1);
		/* A non-empty title hides later ones at its depth or deeper. */
		hidden = p->title_depth >= 0 && p->title_depth <= depth;
		if (*html != '\0')
			p->title_depth = depth;
		if (hidden)
			break;
		if (entry) {
			if (!st->title_set || depth <= st->title_depth) {
				parse_set(&st->item.title_html, html);
				parse_set(&st->item.title_text, text);
				st->title_set = 1;
				st->title_depth = depth;
				html = text = NULL;
			}
		} else {
			parse_set(&doc->title, text);
			text = NULL;
		}
		break;
	case E_DESCRIPTION:
	case E_SUMMARY:
	case E_MEDIA_DESCRIPTION:
	case E_CONTENT:
	case E_CONTENT_ENCODED:
	case E_BODY:
		if (!entry) {
			parse_capture_drop(f);
			return;
		}
		parse_text_value(p, f, &html, &text, !p->no_plain_text);
		if (f->elem == E_CONTENT && f->has_src) {
			free(html);
			free(text);
			html = text = NULL;
		}
		if (f->to_content || f->elem == E_CONTENT ||
		    f->elem == E_CONTENT_ENCODED || f->elem == E_BODY) {
			if (!st->content_set) {
				parse_set(&st->item.content_html, html);
				parse_set(&st->item.content_text, text);
				st->content_set = 1;
				html = text = NULL;
			}
		} else if (!st->summary_set || st->summary_media ||
		    depth <= st->summary_depth) {
			parse_set(&st->item.summary_html, html);
			parse_set(&st->item.summary_text, text);
			st->summary_set = 1;
			st->summary_media = f->elem == E_MEDIA_DESCRIPTION;
			st->summary_depth = depth;
			html = text = NULL;
		}
		break;
	case E_LINK:
		if ((entry || feed) && !p->inimage) {
			char *url = uri_resolve_link(
			    f->base, parse_plain_peek(p, f, &copy));

			if (url != NULL)
				parse_fix_link(url);
			if (entry)
				parse_set(&st->item.link, url);
			else
				parse_set(&doc->link, url);
		}
		break;
	case E_GUID:
		if (!entry)
			break;
		if (f->permalink)
			v = uri_resolve(f->base, parse_plain_peek(p, f, &copy));
		else
			v = parse_plain_value(p, f);
		if (f->permalink && !parse_is_atom(p) &&
		    st->item.link == NULL && v != NULL)
			st->item.link = uri_resolve_link(NULL, v);
		if (!st->id_set || depth <= st->id_depth) {
			parse_set(&st->item.id, v);
			v = NULL;
			st->id_set = 1;
			st->id_depth = depth;
		}
		break;
	case E_PUBLISHED:
		if (entry)
			parse_date_into(
			    &st->item.published, parse_plain_peek(p, f, &copy));
		break;
	case E_UPDATED:
		if (entry)
			parse_date_into(
			    &st->item.updated, parse_plain_peek(p, f, &copy));
		break;
	case E_UPDATE_PERIOD:
	case E_UPDATE_FREQUENCY:
		if (feed) {
			char **slot = f->elem == E_UPDATE_PERIOD
			    ? &doc->update_period
			    : &doc->update_frequency;

			if (*slot == NULL)
				*slot =
				    xstrndup(parse_plain_peek(p, f, &copy), 64);
		}
		break;
	case E_TTL: {
		/* minutes; an absurd one is as long as the scheduler allows
		 * (it clamps), not none */
		long ttl = strtol(parse_plain_peek(p, f, &copy), NULL, 10);

		if (feed && doc->ttl == 0 && ttl > 0)
			doc->ttl = (int64_t)(ttl < 100000 ? ttl : 100000) * 60;
		break;
	}
	case E_TAGS:
		/* A made-up element: comma-separated categories. */
		v = parse_plain_value(p, f);
		if (entry) {
			char *tok, *save = NULL;

			for (tok = strtok_r(v, ",", &save); tok != NULL;
			     tok = strtok_r(NULL, ",", &save)) {
				parse_strip(tok, strlen(tok));
				parse_add_category(st, tok);
			}
		}
		break;
	case E_CATEGORY:
		if (entry) {
			if (f->term != NULL) {
				size_t n =
				    parse_strip(f->term, strlen(f->term));

				(void)n;
				parse_take_category(st, &f->term);
			}
			parse_add_category(st, parse_plain_peek(p, f, &copy));
		}
		break;
	case E_NAME:
		v = parse_plain_value(p, f);
		if (entry && p->inauthor && !p->inpublisher &&
		    !p->incontributor) {
			parse_set(&st->author_name, v);
			v = NULL;
		}
		break;
	case E_EMAIL:
		v = parse_plain_value(p, f);
		if (entry && p->inauthor && !p->inpublisher &&
		    !p->incontributor) {
			parse_set(&st->author_email, v);
			v = NULL;
		}
		break;
	case E_AUTHOR:
		if (!entry)
			break;
		if ((st->author_name == NULL || *st->author_name == '\0') &&
		    (st->author_email == NULL || *st->author_email == '\0')) {
			free(st->author_name);
			free(st->author_email);
			st->author_name = st->author_email = NULL;
			parse_split_author(
			    parse_plain_peek(p, f, &copy), &name, &email);
			st->author_name = name;
			st->author_email = email;
		}
		if (st->item.author == NULL && st->item.author_email == NULL &&
		    ((st->author_name != NULL && *st->author_name != '\0') ||
			(st->author_email != NULL &&
			    *st->author_email != '\0'))) {
			st->item.author = st->author_name;
			st->item.author_email = st->author_email;
			st->author_name = st->author_email = NULL;
		}
		break;
	default:
		parse_capture_drop(f);
		break;
	}
	free(v);
	free(copy);
	free(html);
	free(text);
}

static void
parse_end_cb(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct feedparse *p = ctx;
	struct frame *f;
	int depth, i;

	parse_keep_references(p);
	if (p->failed || p->depth == 0)
		return;
	depth = p->depth;
	f = &p->frames[--p->depth];
	if (p->serialize > 1) {
		struct frame *cf = &p->frames[p->cap_top];

		p->serialize--;
		if (f->skip_tag)
			goto out;
		parse_capture_add(cf, "</", 2);
		parse_capture_add(cf, (const char *)localname,
		    strlen((const char *)localname));
		parse_capture_add(cf, ">", 1);
		goto out;
	}
	if (f->capturing) {
		if (f->construct)
			p->serialize = 0;
		/* The next capturing frame outward gets the text now. */
		for (i = p->depth - 1; i >= 0; i--)
			if (p->frames[i].capturing)
				break;
		p->cap_top = i;
		parse_end_field(p, f, depth);
		parse_capture_drop(f);
	}
	switch (f->elem) {
	case E_CHANNEL:
	case E_FEED:
		p->infeed = 0;
		break;
	case E_ITEM:
		if (p->have_item && p->initem)
			parse_item_end(p);
		p->initem = 0;
		break;
	case E_IMAGE:
		p->inimage = 0;
		break;
	case E_TEXTINPUT:
		p->intextinput = 0;
		break;
	case E_SOURCE:
		p->insource = 0;
		break;
	case E_AUTHOR:
		p->inauthor = 0;
		break;
	case E_CONTRIBUTOR:
		p->incontributor = 0;
		break;
	case E_PUBLISHER:
		p->inpublisher = 0;
		break;
	default:
		break;
	}
out:
	if (f->term != NULL) {
		free(f->term);
		f->term = NULL;
	}
	if (f->base_owned)
		free((char *)f->base);
	f->base = NULL;
	f->base_owned = 0;
}

/*
 * After its first error libxml2 (2.9) drops every entity reference it
 * meets, "&lt;", "&gt;" and "&amp;" included (xmlParseReference returns
 * when the document is no longer well-formed): one stray control
 * character in a title would turn every later escaped description into
 * "pline one/p". The error is recorded (bozo); from the next event on
 * the document is taken as well-formed again, so references are read.
 */
static void
parse_keep_references(struct feedparse *p)
{
	if (p->ctxt != NULL && !p->ctxt->wellFormed)
		p->ctxt->wellFormed = 1;
}

/* What reading the document again would mend of ERR (VOIDTAGS_*), 0 if
 * nothing. */
static int
parse_mend_wanted(const xmlError *err)
{
	if (err->code == XML_ERR_TAG_NAME_MISMATCH &&
	    voidtags_is_void(err->str1))
		return VOIDTAGS_CLOSE;
	/* "AT&T", "?a=1&b": a name not ended by ';'; "Tom & Jerry": none */
	if (err->code == XML_ERR_ENTITYREF_SEMICOL_MISSING ||
	    (err->code == XML_ERR_NAME_REQUIRED && err->message != NULL &&
		strstr(err->message, "EntityRef") != NULL))
		return VOIDTAGS_AMP;
	return 0;
}

static void
parse_error_cb(void *ctx, xmlErrorPtr err)
{
	struct feedparse *p = ctx;
	char msg[200];
	size_t n;
	int want;

	if (err == NULL || err->level < XML_ERR_ERROR)
		return;
	/* "<br>" taken to end at "</description>", or a bare '&' dropped
	 * with the name after it: stop, and read the document again so
	 * mended, while nothing of it has left the parser. */
	want = parse_mend_wanted(err);
	if (want != 0 && !(p->mend & want) && p->mend_retry == 0 &&
	    p->replaying && p->items_emitted == 0) {
		p->mend_retry = want;
		xmlStopParser(p->ctxt);
		return;
	}
	/* A parameter entity of the DTD that is never loaded is no error. */
	if (err->message != NULL &&
	    strncmp(err->message, "PEReference", 11) == 0)
		return;
	snprintf(
	    msg, sizeof msg, "%s", err->message != NULL ? err->message : "");
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	if (p->xml_error == NULL)
		xasprintf(&p->xml_error, "line %d: %s", err->line, msg);
	parse_bozo(p, p->xml_error);
}

/* ------------------------------------------------------------------ */
/* Feeding bytes */

static void
parse_xml_free(struct feedparse *p)
{
	int i;

	if (p->ctxt != NULL) {
		if (p->ctxt->myDoc != NULL)
			xmlFreeDoc(p->ctxt->myDoc);
		xmlFreeParserCtxt(p->ctxt);
		p->ctxt = NULL;
	}
	/* The dictionary the cache points into is gone. */
	memset(p->elem_cache, 0, sizeof p->elem_cache);
	for (i = 0; i < FEEDPARSE_DEPTH_MAX; i++)
		buf_free(&p->frames[i].text);
	for (i = 0; i < p->depth; i++) {
		free(p->frames[i].term);
		if (p->frames[i].base_owned)
			free((char *)p->frames[i].base);
	}
	p->depth = 0;
	p->cap_top = -1;
	p->serialize = 0;
	parse_entities_free(p);
}

static int
parse_xml_start(struct feedparse *p)
{
	xmlSAXHandler *sax = &p->sax;

	memset(sax, 0, sizeof *sax);
	sax->initialized = XML_SAX2_MAGIC;
	sax->startElementNs = parse_start_cb;
	sax->endElementNs = parse_end_cb;
	sax->characters = parse_characters_cb;
	sax->cdataBlock = parse_characters_cb;
	sax->getEntity = parse_get_entity_cb;
	sax->getParameterEntity = parse_get_parameter_entity_cb;
	sax->entityDecl = parse_entity_decl_cb;
	sax->resolveEntity = parse_resolve_entity_cb;
	sax->internalSubset = parse_subset_cb;
	sax->externalSubset = parse_subset_cb;
	sax->serror = parse_error_cb;
	p->ctxt = xmlCreatePushParserCtxt(sax, p, NULL, 0, NULL);
	if (p->ctxt == NULL) {
		parse_fail(p, "cannot create the XML parser");
		return -1;
	}
	xmlCtxtUseOptions(p->ctxt,
	    XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOERROR |
		XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC);
	xmlSwitchEncoding(p->ctxt, XML_CHAR_ENCODING_UTF8);
	p->cap_top = -1;
	return 0;
}

/* Drop everything parsed so far (a new encoding is tried). */
static void
parse_reset(struct feedparse *p)
{
	parse_xml_free(p);
	feed_doc_free(p->doc);
	p->doc = NULL;
	p->items_alloc = 0;
	parse_item_state_clear(&p->cur);
	p->have_item = 0;
	p->infeed = p->initem = p->inimage = p->intextinput = p->insource = 0;
	p->inauthor = p->inpublisher = p->incontributor = 0;
	p->title_depth = -1;
	p->root_seen = 0;
	p->root_end[0] = '\0';
	p->tail_len = 0;
	voidtags_init(&p->vt, p->mend);
	p->decl_done = 0;
	p->feed_image = 0;
	p->expanded = 0;
	p->html_entity_used = 0;
	free(p->xml_error);
	p->xml_error = NULL;
}

static void
parse_keep_tail(struct feedparse *p, const char *data, size_t len)
{
	size_t keep;

	if (len == 0)
		return;
	if (len >= PARSE_TAIL) {
		memcpy(p->tail, data + len - PARSE_TAIL, PARSE_TAIL);
		p->tail_len = PARSE_TAIL;
		return;
	}
	keep = p->tail_len + len <= PARSE_TAIL ? p->tail_len : PARSE_TAIL - len;
	memmove(p->tail, p->tail + p->tail_len - keep, keep);
	memcpy(p->tail + keep, data, len);
	p->tail_len = keep + len;
}

static int
parse_xml_feed(struct feedparse *p, const char *data, size_t len, int final)
{
	if (p->ctxt == NULL && parse_xml_start(p) == -1)
		return -1;
	if (len > INT32_MAX)
		len = INT32_MAX;
	if (p->mend != 0) {
		buf_reset(&p->vbuf);
		voidtags_run(&p->vt, data, len, &p->vbuf);
		if (final)
			voidtags_finish(&p->vt, &p->vbuf);
		data = p->vbuf.data != NULL ? p->vbuf.data : "";
		len = p->vbuf.len < INT32_MAX ? p->vbuf.len : INT32_MAX;
	}
	parse_keep_tail(p, data, len);
	xmlParseChunk(p->ctxt, data, (int)len, final);
	return p->failed ? -1 : 0;
}

/* Whether the document's last bytes hold its root's end tag. */
static int
parse_root_closed(const struct feedparse *p)
{
	size_t n = strlen(p->root_end), i, j;
	char c;

	if (n == 0)
		return 1; /* a name too long to look for */
	if (p->tail_len < n + 1)
		return 0;
	for (i = p->tail_len - n - 1;; i--) {
		/* names in any case, as the element lookup takes them */
		for (j = 0; j < n &&
		     tolower((unsigned char)p->tail[i + j]) ==
			 tolower((unsigned char)p->root_end[j]);
		     j++)
			;
		if (j == n) {
			for (j = i + n; j < p->tail_len &&
			     ((c = p->tail[j]) == ' ' || c == '\t' ||
				 c == '\r' || c == '\n');
			     j++)
				;
			if (j < p->tail_len && p->tail[j] == '>')
				return 1;
		}
		if (i == 0)
			return 0;
	}
}

/*
 * The bytes are UTF-8 now: say so in the XML declaration, whatever it
 * named (libxml2 checks the name even when told to ignore it).
 */
static void
parse_rewrite_decl(struct feedparse *p)
{
	static const char decl[] = "<?xml version='1.0' encoding='utf-8'?>";
	struct buf b;
	char *end;

	if (p->utf8.len < 6 || memcmp(p->utf8.data, "<?xml", 5) != 0 ||
	    !(p->utf8.data[5] == ' ' || p->utf8.data[5] == '\t' ||
		p->utf8.data[5] == '\r' || p->utf8.data[5] == '\n'))
		return;
	if ((end = memchr(p->utf8.data, '>', p->utf8.len)) == NULL)
		return;
	buf_init(&b, p->utf8.cap);
	buf_add(&b, decl, sizeof decl - 1);
	buf_add(&b, end + 1, p->utf8.len - (size_t)(end + 1 - p->utf8.data));
	buf_free(&p->utf8);
	p->utf8 = b;
}

/* Convert and parse raw bytes with the current encoding. */
static int
parse_convert(struct feedparse *p, const char *data, size_t len, int final)
{
	size_t same;
	int r;

	/* UTF-8 already (the declaration is rewritten): parsed in place. */
	if (p->decl_done && !final &&
	    (same = charset_unchanged(p->cv, data, len)) > 0) {
		if (parse_xml_feed(p, data, same, 0) == -1)
			return -1;
		if (same == len)
			return 0;
		/* The start of a character that the next chunk completes:
		 * charset_convert keeps it for then, and adds nothing. */
		buf_reset(&p->utf8);
		r = charset_convert(
		    p->cv, data + same, len - same, 0, &p->utf8);
		return r == CHARSET_INVALID ? 1 : 0;
	}
	buf_reset(&p->utf8);
	r = charset_convert(p->cv, data, len, final, &p->utf8);
	if (r == CHARSET_FULL) {
		parse_fail(p, "document larger than the body cap");
		return -1;
	}
	if (r == CHARSET_INVALID)
		return 1; /* try the next encoding */
	if (!p->decl_done && p->utf8.len > 0) {
		p->decl_done = 1;
		parse_rewrite_decl(p);
	}
	return parse_xml_feed(
	    p, p->utf8.data != NULL ? p->utf8.data : "", p->utf8.len, final);
}

static int
parse_open_candidate(struct feedparse *p)
{
	charset_close(p->cv);
	p->cv = NULL;
	while (p->candidate < p->ncandidates) {
		if ((p->cv = charset_open(p->candidates[p->candidate])) != NULL)
			return 0;
		p->candidate++;
	}
	return -1;
}

static void
replay_free(struct replay *r)
{
	struct replay_block *b, *next;

	for (b = r->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	r->head = r->tail = NULL;
	r->len = 0;
}

/* Keep LEN more bytes: 0, or -1 past the cap (what was kept is freed). */
static int
replay_add(struct replay *r, const char *data, size_t len)
{
	struct replay_block *b = r->tail;
	size_t take, size;

	if (len > r->cap - r->len) {
		replay_free(r);
		return -1;
	}
	r->len += len;
	while (len > 0) {
		if (b == NULL || b->len == b->size) {
			size = len > FEEDPARSE_REPLAY_BLOCK
			    ? len
			    : FEEDPARSE_REPLAY_BLOCK;
			b = xmalloc(sizeof *b + size);
			b->next = NULL;
			b->len = 0;
			b->size = size;
			if (r->tail != NULL)
				r->tail->next = b;
			else
				r->head = b;
			r->tail = b;
		}
		take = b->size - b->len < len ? b->size - b->len : len;
		memcpy(b->data + b->len, data, take);
		b->len += take;
		data += take;
		len -= take;
	}
	return 0;
}

/* Convert and parse the kept body (its BOM skipped) from the start, as
 * it came; stop at what parse_convert() asks of the caller (another
 * encoding, a failure) or at a reading to mend. */
static int
parse_replay(struct feedparse *p, int final)
{
	const struct replay_block *b;
	size_t skip = (size_t)p->skip_bom, off;
	int r = 0;

	if (p->replay.head == NULL)
		return parse_convert(p, "", 0, final);
	for (b = p->replay.head; b != NULL; b = b->next) {
		off = skip < b->len ? skip : b->len;
		skip -= off;
		r = parse_convert(
		    p, b->data + off, b->len - off, final && b->next == NULL);
		if (r != 0 || p->mend_retry != 0)
			break;
	}
	return r;
}

/* The declared encoding failed: re-read the whole body with the next. */
static int
parse_retry(struct feedparse *p, int final)
{
	int r;

	for (;;) {
		if (!p->replaying) {
			parse_fail(p, "bytes invalid in encoding %s",
			    p->cv != NULL ? charset_name(p->cv) : "?");
			return -1;
		}
		p->candidate++;
		if (parse_open_candidate(p) == -1) {
			parse_fail(p, "no encoding decodes the document");
			return -1;
		}
		parse_reset(p);
		r = parse_replay(p, final);
		if (r <= 0)
			break;
	}
	if (r == 0) {
		char reason[160];

		snprintf(reason, sizeof reason,
		    "document declared as %s, but parsed as %s",
		    p->candidates[0], charset_name(p->cv));
		parse_bozo(p, reason);
	}
	return r;
}

/* Read the whole body again, mended as asked (HTML's empty elements
 * closed, bare '&' escaped) and as before. */
static int
parse_mend_again(struct feedparse *p, int final)
{
	char *noted = NULL;
	int r;

	p->mend |= p->mend_retry;
	p->mend_retry = 0;
	buf_free(&p->vbuf);
	buf_init(&p->vbuf, (size_t)-1 / 2);
	/* what was noted before (a type, an encoding) is still so */
	if (p->doc != NULL && p->doc->bozo)
		noted = xstrdup(p->doc->bozo_reason);
	parse_reset(p);
	if (noted != NULL)
		parse_bozo(p, noted);
	free(noted);
	/* the converter afresh: it may hold half a character of the last
	 * chunk */
	if (parse_open_candidate(p) == -1) {
		parse_fail(p, "no encoding decodes the document");
		return -1;
	}
	r = parse_replay(p, final);
	if (r == 1)
		r = parse_retry(p, final);
	if (r >= 0 && p->vt.rewritten > 0)
		parse_bozo(p,
		    "HTML elements left open (such as <br>), read "
		    "as closed");
	if (r >= 0 && p->vt.amps > 0)
		parse_bozo(p,
		    "a bare '&' (such as in AT&T or ?a=1&b=2), read "
		    "as '&amp;'");
	return r;
}

/* After parse_convert() returned R: try the next encoding, or read the
 * body again with its HTML elements closed, when that was asked for. */
static int
parse_settle(struct feedparse *p, int r, int final)
{
	if (r == 1)
		r = parse_retry(p, final);
	/* at most twice: each reading mends one more kind */
	while (r >= 0 && p->mend_retry != 0)
		r = parse_mend_again(p, final);
	return r;
}

/* The encoding is decided from the first bytes; feed what was held. */
static int
parse_decide(struct feedparse *p, int final)
{
	const char *data = p->head.data != NULL ? p->head.data : "";
	size_t len = p->head.len, i;

	p->sniffed = 1;
	charset_sniff(data, len, p->content_type, p->have_headers, &p->sniff);
	p->skip_bom = (int)p->sniff.bom_len;
	/* JSON Feed: the first byte that is not white space is '{'. */
	for (i = p->sniff.bom_len; i < len && isspace((unsigned char)data[i]);
	     i++)
		;
	if (i < len && data[i] == '{') {
		p->json = 1;
		buf_init(&p->jsonbody, p->body_max);
		if (buf_add(&p->jsonbody, data + p->sniff.bom_len,
			len - p->sniff.bom_len) == -1) {
			parse_fail(p, "document larger than the body cap");
			return -1;
		}
		buf_free(&p->head);
		return 0;
	}
	p->ncandidates = charset_candidates(
	    &p->sniff, p->candidates, FEEDPARSE_CANDIDATES_MAX);
	p->candidate = 0;
	if (parse_open_candidate(p) == -1) {
		parse_fail(p, "unknown encoding");
		return -1;
	}
	if (p->candidate > 0) {
		char reason[160];

		snprintf(reason, sizeof reason, "unknown encoding %s",
		    p->candidates[0]);
		parse_bozo(p, reason);
	}
	if (p->sniff.overridden[0] != '\0') {
		char reason[160];

		snprintf(reason, sizeof reason,
		    "document declared as %s, but its byte-order mark says %s",
		    p->sniff.overridden, p->sniff.bom);
		parse_bozo(p, reason);
	}
	if (p->sniff.text_plain) {
		char reason[160];

		snprintf(reason, sizeof reason, "%s is not an XML media type",
		    p->content_type != NULL ? p->content_type : "(none)");
		parse_bozo(p, reason);
	}
	p->replay.cap = FEEDPARSE_REPLAY_MAX;
	p->replaying = replay_add(&p->replay, data, len) == 0;
	buf_init(&p->utf8, (size_t)-1 / 2);
	i = p->sniff.bom_len;
	if (parse_settle(
		p, parse_convert(p, data + i, len - i, final), final) == -1) {
		buf_free(&p->head);
		return -1;
	}
	buf_free(&p->head);
	return p->failed ? -1 : 0;
}

struct feedparse *
feedparse_new(const char *doc_url)
{
	struct feedparse *p;
	int i;

	parse_init_once();
	p = xcalloc(1, sizeof *p);
	p->doc_url = doc_url != NULL ? xstrdup(doc_url) : NULL;
	p->content_location = doc_url != NULL ? xstrdup(doc_url) : NULL;
	p->body_max = FEEDPARSE_BODY_MAX;
	p->cap_top = -1;
	p->title_depth = -1;
	for (i = 0; i < FEEDPARSE_DEPTH_MAX; i++)
		buf_init(&p->frames[i].text, FEEDPARSE_FIELD_MAX);
	buf_init(&p->head, FEEDPARSE_SNIFF_LEN);
	return p;
}

void
feedparse_header(struct feedparse *p, const char *name, const char *value)
{
	char *loc;

	p->have_headers = 1;
	if (strcasecmp(name, "content-type") == 0) {
		free(p->content_type);
		p->content_type = xstrdup(value);
	} else if (strcasecmp(name, "content-location") == 0) {
		loc = uri_resolve(p->doc_url, value);
		if (loc != NULL) {
			free(p->content_location);
			p->content_location = loc;
		}
	}
}

void
feedparse_set_item_cb(
    struct feedparse *p, void (*cb)(struct item *, void *), void *arg)
{
	p->item_cb = cb;
	p->item_arg = arg;
}

void
feedparse_set_body_max(struct feedparse *p, size_t max)
{
	p->body_max = max;
}

void
feedparse_set_plain_text(struct feedparse *p, int on)
{
	p->no_plain_text = !on;
}

int
feedparse_push(struct feedparse *p, const char *data, size_t len)
{
	size_t take;
	int r;

	if (p->failed)
		return -1;
	if (len > p->body_max - p->body_len) {
		parse_fail(p, "document larger than %zu bytes", p->body_max);
		return -1;
	}
	p->body_len += len;
	if (!p->sniffed) {
		take = FEEDPARSE_SNIFF_LEN - p->head.len;
		if (take > len)
			take = len;
		buf_add(&p->head, data, take);
		data += take;
		len -= take;
		if (p->head.len < FEEDPARSE_SNIFF_LEN)
			return 0;
		if (parse_decide(p, 0) == -1)
			return -1;
	}
	if (len == 0)
		return 0;
	if (p->json) {
		if (buf_add(&p->jsonbody, data, len) == -1) {
			parse_fail(p, "document larger than the body cap");
			return -1;
		}
		return 0;
	}
	if (p->replaying &&
	    (p->items_emitted > 0 || replay_add(&p->replay, data, len) == -1)) {
		p->replaying = 0;
		replay_free(&p->replay);
	}
	r = parse_settle(p, parse_convert(p, data, len, 0), 0);
	return r < 0 ? -1 : 0;
}

struct feed_doc *
feedparse_finish(struct feedparse *p, char **cause)
{
	struct feed_doc *doc;

	if (!p->failed && !p->sniffed)
		parse_decide(p, 1);
	else if (!p->failed && !p->json)
		parse_settle(p, parse_convert(p, NULL, 0, 1), 1);
	if (!p->failed && p->json) {
		doc = jsonfeed_parse(
		    p->jsonbody.data != NULL ? p->jsonbody.data : "",
		    p->jsonbody.len, p->content_location, cause);
		buf_free(&p->jsonbody);
		return doc;
	}
	if (!p->failed && !p->root_seen) {
		/* No element at all (empty, only a comment): ill-formed. */
		parse_bozo(
		    p, p->xml_error != NULL ? p->xml_error : "no root element");
	} else if (!p->failed &&
	    (p->doc == NULL || p->doc->format == FEED_FORMAT_UNKNOWN)) {
		p->failed = 1;
		p->cause = xstrdup(p->xml_error != NULL
			? p->xml_error
			: "not a feed (no RSS, RDF or Atom root element)");
	}
	if (p->failed) {
		if (cause != NULL)
			*cause =
			    xstrdup(p->cause != NULL ? p->cause : "refused");
		return NULL;
	}
	/* An item cut short by the end of the document still counts. */
	if (p->have_item && p->initem) {
		parse_item_end(p);
		parse_doc(p)->last_item_cut = 1;
	}
	doc = p->doc;
	p->doc = NULL;
	/* No end tag of the root at the end: the body was cut short. */
	if (p->root_seen && !parse_root_closed(p))
		doc->cut_short = 1;
	return doc;
}

char *
feedparse_refusal(const struct feed_doc *doc)
{
	/* Its bozo reason is no help: the first note, often the type, or
	 * libxml2's "Document is empty" for any body that starts with text. */
	if (doc->format != FEED_FORMAT_UNKNOWN)
		return NULL;
	return xstrdup("not a feed (no XML element in the body: empty, text "
		       "or binary)");
}

void
feedparse_free(struct feedparse *p)
{
	if (p == NULL)
		return;
	parse_xml_free(p);
	parse_item_state_clear(&p->cur);
	feed_doc_free(p->doc);
	charset_close(p->cv);
	buf_free(&p->head);
	replay_free(&p->replay);
	buf_free(&p->utf8);
	buf_free(&p->jsonbody);
	buf_free(&p->vbuf);
	free(p->doc_url);
	free(p->content_type);
	free(p->content_location);
	free(p->cause);
	free(p->xml_error);
	free(p->ns_uri);
	free(p->ns_prefix);
	free(p);
}

struct feed_doc *
feedparse_buffer(
    const char *data, size_t len, const char *doc_url, char **cause)
{
	struct feedparse *p = feedparse_new(doc_url);
	struct feed_doc *doc;

	feedparse_push(p, data, len);
	doc = feedparse_finish(p, cause);
	feedparse_free(p);
	return doc;
}

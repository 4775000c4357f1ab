/* html: text extraction rules, caps, and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "html.h"

struct text_case {
	const char *in;
	size_t len; /* 0: strlen(in) */
	const char *want;
};

static const struct text_case to_text_cases[] = {
    {"", 0, ""},
    {"plain words", 0, "plain words"},
    {"<p>a</p><p>b</p>", 0, "a b"},
    {"a<br>b<br/>c", 0, "a b c"},
    {"a<b>b</b><i>c</i>d", 0, "abcd"},
    {"<div>a<span>b</span></div>c", 0, "ab c"},
    {"<ul><li>one</li><li>two</li></ul>", 0, "one two"},
    {"<table><tr><td>a</td><td>b</td></tr></table>c", 0, "a b c"},
    {"<h1>T</h1>body<hr>end", 0, "T body end"},
    {"<pre>a\n\n  b</pre>", 0, "a b"},
    {"<xhtml:p>a</xhtml:p><xhtml:p>b</xhtml:p>", 0, "a b"},
    /* content that is not text */
    {"x<script>alert(1)</script>y", 0, "xy"},
    {"x<script type=\"text/javascript\">a<b>c</b></script>y", 0, "xy"},
    {"x<style>p { color: red }</style>y", 0, "xy"},
    {"<applet>a</applet>b", 0, "b"},
    {"<style>s</style>after", 0, "after"},
    {"<script>s</script>after", 0, "after"},
    {"<title>T</title>b", 0, "Tb"},
    {"<noscript>n</noscript>", 0, "n"},
    {"<!-- comment -->a<!-- -->b", 0, "ab"},
    {"<img src=\"x.png\" alt=\"ALT\">t", 0, "t"},
    /* entities */
    {"a&amp;b&lt;c&gt;d&quot;e&#39;f", 0, "a&b<c>d\"e'f"},
    {"&eacute;&#233;&#xE9;&#XE9;", 0, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"},
    {"testing &hellip; entity", 0, "testing \xe2\x80\xa6 entity"},
    {"a &lt; b", 0, "a < b"},
    {"&unknown; x", 0, "&unknown; x"},
    {"&nbsp;x&nbsp;", 0, "\xc2\xa0x\xc2\xa0"},
    /* HTML5's names, which libxml2 (HTML 4) leaves as they are */
    {"&lbrace;1&rbrace; &check; &Gt; &NewLine;x&Tab;y", 0,
	"{1} \xe2\x9c\x93 \xe2\x89\xab x y"},
    {"&nvlt; &Afr;", 0, "<\xe2\x83\x92 \xf0\x9d\x94\x84"},
    {"&CounterClockwiseContourIntegral;", 0, "\xe2\x88\xb3"},
    /* references in attributes count for the growth, not for the text */
    {"<b title=\"&nGt;&nGt;&nGt;\">x</b> &nGt;", 0,
	"x \xe2\x89\xab\xe2\x83\x92"},
    /* NUL bytes go first, for HTML5's names as for HTML 4's */
    {"x &lb\0race; &hel\0lip;", 21, "x { \xe2\x80\xa6"},
    {"<b>&bigstar;</b><p title=\"&lbrace;\">a</p>", 0, "\xe2\x98\x85 a"},
    {"<!-- &lbrace; --><script>&lbrace;</script>b", 0, "b"},
    /* text that says "&lbrace;", a name without ';', one that is not
     * HTML5's (names are case-sensitive) */
    {"&amp;lbrace; &amp;amp;check;", 0, "&lbrace; &amp;check;"},
    {"&lbrace x &LBRACE; &lbrace1;", 0, "&lbrace x &LBRACE; &lbrace1;"},
    {" x &nbsp; y ", 0, "x \xc2\xa0 y"},
    /* whitespace */
    {"  a \t\n\r\f\v b  ", 0, "a b"},
    {"\n<p>\n a \n</p>\n", 0, "a"},
    /* controls and bidi */
    {"a\xe2\x80\xae"
     "b",
	0, "ab"},
    {"a&#x202E;b&#x202a;c&#8206;d&#8207;e&#x2066;f&#x2069;", 0, "abcdef"},
    {"a&#1;b&#x81;c&#x7f;d&#0;e&#x9d;", 0, "abcde"},
    {"a\x01"
     "b\x1f"
     "c\x7f"
     "d\xc2\x81"
     "e\xc2\x9d"
     "f",
	0, "abcdef"},
    /* C1 references and controls: windows-1252, as HTML reads them */
    {"don&#146;t &#150; &#x80;5&#X99; &#x85;", 0,
	"don\xe2\x80\x99t \xe2\x80\x93 \xe2\x82\xac"
	"5\xe2\x84\xa2 \xe2\x80\xa6"},
    {"<p>don&#146;t</p><!-- --><b>&#147;q&#148;</b>", 0,
	"don\xe2\x80\x99t \xe2\x80\x9cq\xe2\x80\x9d"},
    {"\xc2\x93q\xc2\x94 \xc2\x9f", 0, "\xe2\x80\x9cq\xe2\x80\x9d \xc5\xb8"},
    {"\xe2\x80\x8b"
     "zwsp kept",
	0,
	"\xe2\x80\x8b"
	"zwsp kept"},
    /* bytes that are not UTF-8, and NULs */
    {"a\xff"
     "b",
	0,
	"a\xef\xbf\xbd"
	"b"},
    {"a\xc3", 0, "a\xef\xbf\xbd"},
    {"\xc0\xaf", 0, "\xef\xbf\xbd\xef\xbf\xbd"},
    {"\xed\xa0\x80", 0, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
    {"a\0b<p>\0c</p>", 12, "ab c"},
    {"\xe9t\xe9 <b>caf\xe9</b>", 0,
	"\xef\xbf\xbdt\xef\xbf\xbd caf\xef\xbf\xbd"},
    /* a declared charset does not change how the bytes are read */
    {"<meta charset=\"iso-8859-1\">\xc3\xa9", 0, "\xc3\xa9"},
    {"<meta http-equiv=\"Content-Type\" content=\"text/html; "
     "charset=koi8-r\">\xc3\xa9",
	0, "\xc3\xa9"},
    /* a whole document */
    {"<!DOCTYPE html><html><head><title>T</title><style>s</style></head>"
     "<body onload=\"x()\"><p>one</p>two</body></html>",
	0, "T one two"},
};

static const struct text_case clean_cases[] = {
    {"", 0, ""},
    {"  a \t\n b  ", 0, "a b"},
    {"<b>x</b> &amp;", 0, "<b>x</b> &amp;"},
    {"a\xe2\x80\xae"
     "b\xe2\x81\xa6"
     "c",
	0, "abc"},
    {"a\x01"
     "b\xc2\x8d"
     "c",
	0, "abc"},
    {"\xc2\x93q\xc2\x94 5\xc2\x80", 0,
	"\xe2\x80\x9cq\xe2\x80\x9d 5\xe2\x82\xac"},
    {"a\xff"
     "b",
	0,
	"a\xef\xbf\xbd"
	"b"},
    {"a\0b", 3, "ab"},
    {"\xc2\xa0x", 0, "\xc2\xa0x"},
};

static void
run_cases(const struct text_case *cases, size_t n, int markup)
{
	size_t i, failed = 0;
	char *got;

	for (i = 0; i < n; i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);

		got = markup ? html_to_text(cases[i].in, len, HTML_TEXT_MAX)
			     : html_clean_text(cases[i].in, len, HTML_TEXT_MAX);
		assert_non_null(got);
		if (strcmp(got, cases[i].want) != 0) {
			print_error(
			    "case %zu \"%s\": got \"%s\", want \"%s\"\n", i,
			    cases[i].in, got, cases[i].want);
			failed++;
		}
		free(got);
	}
	assert_int_equal(failed, 0);
}

static void
test_to_text(void **state)
{
	run_cases(
	    to_text_cases, sizeof to_text_cases / sizeof to_text_cases[0], 1);
}

static void
test_clean_text(void **state)
{
	run_cases(clean_cases, sizeof clean_cases / sizeof clean_cases[0], 0);
}

static void
test_null(void **state)
{
	char *s;

	s = html_to_text(NULL, 10, HTML_TEXT_MAX);
	assert_string_equal(s, "");
	free(s);
	s = html_clean_text(NULL, 10, HTML_TEXT_MAX);
	assert_string_equal(s, "");
	free(s);
	s = html_to_text("<p>", 3, HTML_TEXT_MAX);
	assert_string_equal(s, "");
	free(s);
}

/* Whether s is valid UTF-8 (what both functions promise). */
static int
valid_utf8(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		size_t n = *u < 0x80           ? 1
		    : *u >= 0xc2 && *u <= 0xdf ? 2
		    : *u >= 0xe0 && *u <= 0xef ? 3
		    : *u >= 0xf0 && *u <= 0xf4 ? 4
					       : 0;
		size_t i;

		if (n == 0)
			return 0;
		for (i = 1; i < n; i++)
			if ((u[i] & 0xc0) != 0x80)
				return 0;
		u += n;
	}
	return 1;
}

static void
test_cap(void **state)
{
	static const struct {
		const char *in;
		size_t cap;
		const char *want;
	} cases[] = {
	    {"abcdef", 3, "abc"},
	    {"ab cd", 3, "ab"}, /* no trailing space */
	    {"ab cd", 4, "ab c"},
	    {"<p>ab</p><p>cd</p>", 2, "ab"},
	    {"\xc3\xa9\xc3\xa9\xc3\xa9", 5, "\xc3\xa9\xc3\xa9"},
	    {"\xc3\xa9\xc3\xa9\xc3\xa9", 4, "\xc3\xa9\xc3\xa9"},
	    {"&hellip;&hellip;", 5, "\xe2\x80\xa6"},
	    {"\xf0\x9f\x98\x80x", 3, ""},
	    {"abc", 0, ""},
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		s = html_to_text(
		    cases[i].in, strlen(cases[i].in), cases[i].cap);
		assert_string_equal(s, cases[i].want);
		free(s);
		if (strchr(cases[i].in, '<') || strchr(cases[i].in, '&'))
			continue;
		s = html_clean_text(
		    cases[i].in, strlen(cases[i].in), cases[i].cap);
		assert_string_equal(s, cases[i].want);
		free(s);
	}
}

/* N copies of each of the pieces, one after the other, in a new string. */
static char *
repeat2(const char *a, size_t na, const char *b, size_t nb)
{
	size_t la = strlen(a), lb = strlen(b), i;
	char *s = malloc(la * na + lb * nb + 1), *p = s;

	assert_non_null(s);
	for (i = 0; i < na; i++, p += la)
		memcpy(p, a, la);
	for (i = 0; i < nb; i++, p += lb)
		memcpy(p, b, lb);
	*p = '\0';
	return s;
}

/* How many times NEEDLE is in S. */
static size_t
occurrences(const char *s, const char *needle)
{
	size_t n = 0;

	for (; (s = strstr(s, needle)) != NULL; s += strlen(needle))
		n++;
	return n;
}

/*
 * HTML5's references are handed to libxml2 as numeric ones as long as
 * the text has grown by at most as much as the input (or 64 KiB) at any
 * point: "&nGt;" (5 bytes) is "&#x226B;&#x20D2;" (16). Past that the rest
 * stay as written, on both paths (the fast path gives such an input to
 * the parse).
 */
/* NA times A then NB times B: both paths give the same text, with
 * WANT of "&nGt;" decoded. */
static void
growth_case(const char *a, size_t na, const char *b, size_t nb, size_t want)
{
	static const char ngt[] = "\xe2\x89\xab\xe2\x83\x92";
	char *in = repeat2(a, na, b, nb);
	char *fast = html_to_text(in, strlen(in), HTML_TEXT_MAX);
	char *slow = html_to_text_parsed(in, strlen(in), HTML_TEXT_MAX);

	assert_string_equal(fast, slow);
	assert_int_equal(occurrences(slow, ngt), want);
	free(in);
	free(fast);
	free(slow);
}

static void
test_html5_growth(void **state)
{
	char *text;

	(void)state;
	/* short text: well within the 64 KiB */
	text = html_to_text("a &nGt; b", 9, HTML_TEXT_MAX);
	assert_string_equal(text, "a \xe2\x89\xab\xe2\x83\x92 b");
	free(text);
	/* 14,000 of them (70,000 bytes): 6,363 fit in 70,000 more bytes */
	growth_case("&nGt;", 14000, "", 0, 6363);
	/* references that shrink first leave room for those that grow */
	growth_case("&NewLine;", 10000, "&nGt;", 20000, 20000);
	/* but not after: the growth counts at every point */
	growth_case("&nGt;", 20000, "&NewLine;", 10000, 190000 / 11);
}

/* 20 MB of text, of invalid UTF-8, of entities: bounded output. */
static void
test_huge_input(void **state)
{
	size_t len = 20 * 1024 * 1024, i, n;
	char *in = malloc(len), *s;

	assert_non_null(in);
	for (i = 0; i < len; i++)
		in[i] = "word "[i % 5];
	s = html_to_text(in, len, HTML_TEXT_MAX);
	n = strlen(s);
	assert_true(n <= HTML_TEXT_MAX && n >= HTML_TEXT_MAX - 5);
	assert_memory_equal(s, "word word", 9);
	free(s);
	s = html_clean_text(in, len, HTML_TEXT_MAX);
	assert_true(strlen(s) <= HTML_TEXT_MAX);
	free(s);

	memset(in, 0xff, len);
	s = html_clean_text(in, len, 1000);
	assert_true(strlen(s) <= 1000 && strlen(s) >= 997);
	assert_true(valid_utf8(s));
	free(s);
	s = html_to_text(in, len, 1000);
	assert_true(strlen(s) <= 1000 && strlen(s) >= 997);
	assert_true(valid_utf8(s));
	free(s);

	for (i = 0; i + 6 <= len; i += 6)
		memcpy(in + i, "&nbsp;", 6);
	s = html_to_text(in, i, 1001);
	assert_int_equal(strlen(s), 1000); /* 500 x U+00A0 */
	assert_true(valid_utf8(s));
	free(s);
	free(in);
}

/*
 * Nesting: libxml2 2.9's HTML parser stops at depth 256 (without
 * XML_PARSE_HUGE, which is never used), so 200,000 nested divs cost
 * neither stack nor time, and text past that depth is not reached.
 */
static void
test_deep_nesting(void **state)
{
	size_t n = 200000, i, o = 0;
	char *in = malloc(n * 6 + 64), *s;

	assert_non_null(in);
	memcpy(in, "top", 3);
	o = 3;
	for (i = 0; i < n; i++) {
		memcpy(in + o, "<div>", 5);
		o += 5;
	}
	memcpy(in + o, "deep", 4);
	o += 4;
	s = html_to_text(in, o, HTML_TEXT_MAX);
	assert_string_equal(s, "top");
	free(s);

	/* 200 levels are within the limit: the text is there */
	o = 0;
	for (i = 0; i < 200; i++) {
		memcpy(in + o, "<span>", 6);
		o += 6;
	}
	memcpy(in + o, "deep", 4);
	s = html_to_text(in, o + 4, HTML_TEXT_MAX);
	assert_string_equal(s, "deep");
	free(s);

	/* elements that close each other stay flat and keep their text */
	o = 0;
	for (i = 0; i < n; i++) {
		memcpy(in + o, "<p>x", 4);
		o += 4;
	}
	s = html_to_text(in, o, 100);
	assert_int_equal(strlen(s), 99); /* "x x x ..." */
	free(s);
	free(in);
}

/* Nothing in the HTML makes a connection: a local listener stays idle. */
static void
test_no_network(void **state)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof sin;
	struct pollfd pfd;
	char html[2048], *s;
	int fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	port = ntohs(sin.sin_port);
	snprintf(html, sizeof html,
	    "<!DOCTYPE html PUBLIC \"-//x//y\" \"http://127.0.0.1:%d/dtd\">"
	    "<html><head><link rel=stylesheet href=\"http://127.0.0.1:%d/\">"
	    "<script src=\"http://127.0.0.1:%d/\"></script>"
	    "<base href=\"http://127.0.0.1:%d/\"></head><body>"
	    "<img src=http://127.0.0.1:%d/>"
	    "<iframe src=\"http://127.0.0.1:%d/\"></iframe>"
	    "<object data=\"http://127.0.0.1:%d/\"></object>"
	    "<xi:include href=\"http://127.0.0.1:%d/\"/>"
	    "text</body></html>",
	    port, port, port, port, port, port, port, port);
	s = html_to_text(html, strlen(html), HTML_TEXT_MAX);
	assert_string_equal(s, "text");
	free(s);
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 200), 0);
	close(fd);
}

/*
 * The fast path against libxml2's parse, on token soup built from the
 * pieces both must agree on (and some that send the fast path back to
 * libxml2): the two texts must be equal.
 */
static const char *const soup_pieces[] = {
    /* what the fast path takes */
    "<p>",
    "</p>",
    "<b>",
    "</b>",
    "<i>",
    "</i>",
    "<a href=\"x\">",
    "</a>",
    "<span class=c>",
    "</span>",
    "<div>",
    "</div>",
    "<br>",
    "<br/>",
    "<hr>",
    "<img src='i.png' alt=\"A\">",
    "<sup>",
    "</sup>",
    "<sub>",
    "</sub>",
    "<ul>",
    "</ul>",
    "<ol>",
    "</ol>",
    "<li>",
    "</li>",
    "<h1>",
    "</h1>",
    "<h2>",
    "</h2>",
    "<em>",
    "</em>",
    "<strong>",
    "</strong>",
    "<pre>",
    "</pre>",
    "<blockquote>",
    "</blockquote>",
    "<dl>",
    "<dt>",
    "<dd>",
    "</dl>",
    "<section>",
    "</section>",
    "<figure>",
    "</figure>",
    "<mark>",
    "</mark>",
    "<time>",
    "</time>",
    "<small>",
    "</small>",
    "<font>",
    "</font>",
    "<address>",
    "</address>",
    "<P CLASS=\"x\">",
    "<p/>",
    "<b/>",
    "<a/>",
    "<a href = 'y' title=t>",
    "&amp;",
    "&lt;",
    "&nbsp;",
    "&hellip;",
    "&eacute;",
    "&#233;",
    "&#x2014;",
    "&#0;",
    "&#xd800;",
    "&#x110000;",
    "&#10;",
    "&lbrace;",
    "&NewLine;",
    "&Tab;",
    "&nvlt;",
    "&Afr;",
    "&amp;check;",
    "& ",
    "&",
    " ",
    "  ",
    "\n",
    "\t",
    "\r",
    "a",
    "word",
    "\xc3\xa9",
    "\xff",
    "\xe2\x80\xae",
    "x y",
    /* what it leaves to libxml2 */
    "</br>",
    "<table>",
    "<td>",
    "<!-- c -->",
    "<script>",
    "</script>",
    "<x>",
    "</x>",
    "<1>",
    "< p>",
    "<p",
    ">",
    "&bogus;",
    "&CounterClockwiseContourIntegral;",
    "&lbrace",
    "&amp",
    "&#;",
    "&#x;",
    "&_x;",
    "\f",
    "\xef\xbf\xbe",
    "\x01",
};
/* How many of soup_pieces (the first ones) the fast path takes. */
#define SOUP_FAST 91

/* Inputs the fast path once got wrong (libxml2 closes elements itself). */
static const char *const fast_path_cases[] = {
    /* U+FFFE and U+FFFF in a value stop libxml2's parse there */
    "<b title=\"\xef\xbf\xbe\">x</b>y",
    "<b title='\xef\xbf\xbf'>x</b>y",
    "a<br title=\"\xef\xbf\xbe\">b<p>c</p>",
    "<b title=a\xef\xbf\xbe>x</b>y",
    "<b title=a\xef\xbf\xbfz>x</b>y",
    "<ul><ol><li>x</li></ol>y</ul>z",
    "<p>a<div>b</div>c</p>d",
    "<b>a<p>x</p>y</b>z",
    "<h1>a<h2>b</h2>c</h1>d",
    "<b>q<p>r</b>s</p>t",
    "<b>a</b><img> <i>b</i>",
    "a<sup>x</sup> <b>y</b>",
};

/* Names for the nested soup: the fast path's, and a few it leaves. */
static const char *const soup_names[] = {
    "p",
    "b",
    "i",
    "a",
    "span",
    "div",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "pre",
    "blockquote",
    "dl",
    "dt",
    "dd",
    "address",
    "small",
    "font",
    "em",
    "sup",
    "section",
    "br",
    "hr",
    "img",
    "table",
    "td",
    "center",
    "x",
};

static uint32_t
soup_next(uint32_t *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return *seed >> 16;
}

/* Up to n pieces drawn from the first npieces of pieces, joined into buf
 * (of size bytes, NUL-terminated); the length. */
static size_t
soup_join(char *buf, size_t size, const char *const *pieces, size_t npieces,
    size_t n, uint32_t *seed)
{
	size_t i, k, len = 0;

	for (i = 0; i < n; i++) {
		const char *piece = pieces[soup_next(seed) % npieces];

		k = strlen(piece);
		if (len + k >= size)
			break;
		memcpy(buf + len, piece, k);
		len += k;
	}
	buf[len] = '\0';
	return len;
}

/* Compare both conversions of s; fail the test when they differ. */
static void
fast_path_check(const char *s, size_t len)
{
	char *fast = html_to_text(s, len, HTML_TEXT_MAX);
	char *slow = html_to_text_parsed(s, len, HTML_TEXT_MAX);

	if (strcmp(fast, slow) != 0)
		fail_msg("input \"%s\": \"%s\" != \"%s\"", s, fast, slow);
	free(fast);
	free(slow);
}

static void
test_fast_path(void **state)
{
	uint32_t seed = 12345;
	char buf[512];
	const char *stack[16];
	size_t i, len, n, pieces, depth;
	int round;

	(void)state;
	for (i = 0; i < sizeof fast_path_cases / sizeof fast_path_cases[0]; i++)
		fast_path_check(fast_path_cases[i], strlen(fast_path_cases[i]));
	/* A NUL in a value, which the parse drops before it rewrites HTML5
	 * references, making one there ("&n" NUL "Gt;" is "&nGt;", which
	 * grows by 11 bytes) when the others have used all of the growth
	 * budget (64 KiB) but 11 bytes: the last one must stay as written
	 * in both conversions. */
	{
		static const char head[] = "<b title=\"&n\0Gt;\">";
		char *big = malloc(40000);
		size_t k;

		assert_non_null(big);
		memcpy(big, head, sizeof head - 1);
		len = sizeof head - 1;
		for (k = 0; k < 5957; k++) {
			memcpy(big + len, "&nGt;", 5);
			len += 5;
		}
		memcpy(big + len, "</b>", 4);
		len += 4;
		fast_path_check(big, len);
		free(big);
	}
	/* attribute names of every length to past libxml2's 100 bytes, of
	 * letters, or a letter then digits or hyphens (which libxml2, past
	 * 100, takes for a bogus attribute that ends at a '>' in quotes) */
	for (n = 1; n <= 130; n++) {
		for (round = 0; round < 3; round++) {
			len = (size_t)sprintf(buf, "x<b ");
			for (i = 0; i < n; i++)
				buf[len++] = i == 0 ? 't' : "t5-"[round];
			len += (size_t)sprintf(buf + len, "=\"v>w\" >y</b> z");
			fast_path_check(buf, len);
		}
	}
	/* flat soup of pieces */
	for (round = 0; round < 20000; round++) {
		n = 1 + soup_next(&seed) % 24;
		/* three rounds in four keep to what the fast path takes */
		pieces = round % 4 ? SOUP_FAST
				   : sizeof soup_pieces / sizeof soup_pieces[0];
		len = soup_join(buf, sizeof buf, soup_pieces, pieces, n, &seed);
		fast_path_check(buf, len);
	}
	/* nested soup: elements opened and closed, mostly in order */
	for (round = 0; round < 20000; round++) {
		len = depth = 0;
		n = 1 + soup_next(&seed) % 16;
		for (i = 0; i < n && len + 40 < sizeof buf; i++) {
			uint32_t r = soup_next(&seed) % 10;
			const char *name = soup_names[soup_next(&seed) %
			    (sizeof soup_names / sizeof soup_names[0])];

			if (r < 4 && depth < 16) {
				len += (size_t)sprintf(buf + len, "<%s>", name);
				stack[depth++] = name;
			} else if (r < 7 && depth > 0) {
				len += (size_t)sprintf(
				    buf + len, "</%s>", stack[--depth]);
			} else if (r < 8) {
				len +=
				    (size_t)sprintf(buf + len, "</%s>", name);
			} else {
				len += (size_t)sprintf(buf + len, "%c%s",
				    " x"[soup_next(&seed) % 2], "w");
			}
		}
		buf[len] = '\0';
		fast_path_check(buf, len);
	}
}

/*
 * html_out_add (through html_clean_text) against a byte-at-a-time
 * reference of its rules, on random text of the pieces below with random
 * caps: it copies eight bytes at a time where it can, and must cut and
 * collapse exactly as one byte at a time would.
 */
static const char *const clean_pieces[] = {
    "a",
    "bc",
    "word",
    "longerword",
    " ",
    "  ",
    "\n",
    "\t",
    "\xc3\xa9", /* é */
    "\xe2\x82\xac", /* € */
    "\xe2\x80\x8e", /* U+200E, dropped */
    "\xff", /* bad: U+FFFD */
    "\x01", /* control: dropped */
    "\x7f", /* DEL: dropped */
    "x y z",
};

/* The reference: the rules of html_out_add, one byte at a time. */
static size_t
clean_reference(const unsigned char *s, size_t n, size_t cap, char *out)
{
	size_t i = 0, len = 0, k, used, need;
	const char *seq;
	int space = 0;

	while (i < n) {
		unsigned char c = s[i];

		seq = (const char *)s + i;
		if (c == ' ' || c == '\t' || c == '\n') {
			space = 1;
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			i++;
			continue;
		}
		if (c == 0xe2 && s[i + 1] == 0x80) {
			i += 3; /* U+200E */
			continue;
		}
		if (c < 0x80)
			k = used = 1;
		else if (c == 0xc3)
			k = used = 2;
		else if (c == 0xe2)
			k = used = 3;
		else {
			seq = "\xef\xbf\xbd"; /* a bad byte */
			k = 3;
			used = 1;
		}
		need = k + (space && len > 0);
		if (cap - len < need)
			break;
		if (space && len > 0)
			out[len++] = ' ';
		space = 0;
		memcpy(out + len, seq, k);
		len += k;
		i += used;
	}
	out[len] = '\0';
	return len;
}

static void
test_clean_swar(void **state)
{
	uint32_t seed = 99;
	char in[400], want[1300], *got;
	size_t len, cap, n;
	int round;

	for (round = 0; round < 50000; round++) {
		n = 1 + soup_next(&seed) % 60;
		len = soup_join(in, sizeof in, clean_pieces,
		    sizeof clean_pieces / sizeof clean_pieces[0], n, &seed);
		cap = soup_next(&seed) % 4 == 0 ? soup_next(&seed) % 64
						: soup_next(&seed) % 400;
		clean_reference((const unsigned char *)in, len, cap, want);
		got = html_clean_text(in, len, cap);
		if (strcmp(got, want) != 0)
			fail_msg("cap %zu, input \"%s\": \"%s\" != \"%s\"", cap,
			    in, got, want);
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_to_text),
	    cmocka_unit_test(test_clean_text),
	    cmocka_unit_test(test_null),
	    cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_huge_input),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_no_network),
	    cmocka_unit_test(test_fast_path),
	    cmocka_unit_test(test_html5_growth),
	    cmocka_unit_test(test_clean_swar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

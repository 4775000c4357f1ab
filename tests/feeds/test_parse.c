/*
 * The feed parser: formats and field mapping (table-driven), streaming in
 * any chunk size, encodings, and hostile documents, each of which must be
 * refused or cut to a named cap within a time bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "buf.h"
#include "parse.h"
#include "voidtags.h"

size_t feedparse_denied_loads(void);

/* Seconds any hostile case may take (sanitizer builds included). */
#define HOSTILE_SECONDS 3.0

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct feed_doc *
parse_str(const char *s, char **cause)
{
	*cause = NULL;
	return feedparse_buffer(
	    s, strlen(s), "http://example.com/feed.xml", cause);
}

/* ------------------------------------------------------------------ */
/* Field mapping */

struct field_case {
	const char *name;
	const char *doc;
	const char *header; /* "Name: value" or NULL */
	enum feed_format format;
	int bozo;
	const char *feed_title, *feed_link;
	size_t nitems;
	/* first item */
	const char *key, *id, *title, *link, *author, *email, *summary,
	    *content, *category, *enclosure;
	int64_t published;
	size_t doclen; /* 0: strlen(doc) */
};

#define UTF16_DOC                                                              \
	"\xff\xfe<\0r\0s\0s\0>\0<\0c\0h\0a\0n\0n\0e\0l\0>\0<"                  \
	"\0t\0i\0t\0l\0e\0>"                                                   \
	"\0\xe9\0<\0/\0t\0i\0t\0l\0e\0>\0<\0/\0c\0h\0a\0n\0n\0e\0l\0>\0<\0/"   \
	"\0r"                                                                  \
	"\0s\0s\0>\0"

static const struct field_case field_cases[] = {
    {"rss20",
	"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
	"<title>Chan</title><link>http://example.com/</link>"
	"<item><title>One &amp; two</title><link>/a</link>"
	"<guid isPermaLink=\"false\">g1</guid>"
	"<author>me@example.com (Me Myself)</author>"
	"<description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;"
	"</description><category>News</category>"
	"<enclosure url=\"http://example.com/a.mp3\" type=\"audio/mpeg\" "
	"length=\"12\"/>"
	"<pubDate>Thu, 01 Jan 2004 19:48:21 GMT</pubDate></item>"
	"</channel></rss>",
	NULL, FEED_FORMAT_RSS20, 0, "Chan", "http://example.com/", 1, "g1",
	"g1", "One & two", "http://example.com/a", "Me Myself",
	"me@example.com", "Hello world", NULL, "News",
	"http://example.com/a.mp3", 1072986501, 0},
    {"rss guid is the link",
	"<rss version=\"2.0\"><channel><item><guid>http://x.test/1</guid>"
	"</item></channel></rss>",
	NULL, FEED_FORMAT_RSS20, 0, NULL, NULL, 1, "http://x.test/1",
	"http://x.test/1", NULL, "http://x.test/1", NULL, NULL, NULL, NULL,
	NULL, NULL, ITEM_TIME_NONE, 0},
    {"atom10 with xml:base",
	"<feed xmlns=\"http://www.w3.org/2005/Atom\" "
	"xml:base=\"http://base.test/dir/\"><title type=\"html\">"
	"A &lt;i&gt;feed&lt;/i&gt;</title>"
	"<link href=\"index.html\"/><entry><id>urn:x:1</id>"
	"<title>T</title><link rel=\"alternate\" href=\"e1\"/>"
	"<link rel=\"enclosure\" href=\"f.ogg\" type=\"audio/ogg\"/>"
	"<author><name>Ann</name><email>ann@x.test</email></author>"
	"<summary>S</summary><content type=\"xhtml\"><div "
	"xmlns=\"http://www.w3.org/1999/xhtml\"><p>C <b>bold</b></p></div>"
	"</content><category term=\"cat\"/>"
	"<published>2004-01-01T19:48:21+01:00</published></entry></feed>",
	NULL, FEED_FORMAT_ATOM10, 0, "A feed",
	"http://base.test/dir/index.html", 1, "urn:x:1", "urn:x:1", "T",
	"http://base.test/dir/e1", "Ann", "ann@x.test", "S", "C bold", "cat",
	"http://base.test/dir/f.ogg", 1072982901, 0},
    {"rss10 rdf",
	"<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
	"xmlns=\"http://purl.org/rss/1.0/\" "
	"xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
	"xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">"
	"<channel rdf:about=\"http://x.test/\"><title>R</title></channel>"
	"<item rdf:about=\"http://x.test/i1\"><title>I</title>"
	"<link>http://x.test/i1</link><dc:creator>Bob</dc:creator>"
	"<dc:subject>Sub</dc:subject>"
	"<content:encoded><![CDATA[<p>Full</p>]]></content:encoded>"
	"</item></rdf:RDF>",
	NULL, FEED_FORMAT_RSS10, 0, "R", NULL, 1, "http://x.test/i1",
	"http://x.test/i1", "I", "http://x.test/i1", "Bob", NULL, NULL, "Full",
	"Sub", NULL, ITEM_TIME_NONE, 0},
    {"atom03",
	"<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><entry>"
	"<title mode=\"escaped\" type=\"text/html\">&lt;b&gt;x&lt;/b&gt;"
	"</title><issued>2004-01-01T00:00:00Z</issued></entry></feed>",
	NULL, FEED_FORMAT_ATOM03, 0, NULL, NULL, 1, NULL, NULL, "x", NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, 1072915200, 0},
    {"json feed",
	"{\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": "
	"\"J\", \"home_page_url\": \"https://j.test/\", \"items\": [{\"id\": "
	"\"1\", \"url\": \"https://j.test/1\", \"title\": \"JT\", "
	"\"content_html\": \"<p>hi <script>x()</script>there</p>\", "
	"\"date_published\": \"2004-01-01T00:00:00Z\", \"authors\": "
	"[{\"name\": \"Jo\"}], \"tags\": [\"t\"], \"attachments\": [{\"url\": "
	"\"https://j.test/a.mp3\", \"mime_type\": \"audio/mpeg\"}]}]}",
	NULL, FEED_FORMAT_JSONFEED, 0, "J", "https://j.test/", 1, "1", "1",
	"JT", "https://j.test/1", "Jo", NULL, NULL, "hi there", "t",
	"https://j.test/a.mp3", 1072915200, 0},
    {"json feed: \\u0000 in strings is dropped, not the feed",
	"{\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": "
	"\"J\", \"items\": [{\"id\": \"1\\u0000\", \"url\": "
	"\"https://j.test/1\", \"title\": \"Sud\\u0000ani\", "
	"\"content_text\": \"a\\u0000b\", \"tags\": [\"t\\u0000\"]}]}",
	NULL, FEED_FORMAT_JSONFEED, 0, "J", NULL, 1, "1", "1", "Sudani",
	"https://j.test/1", NULL, NULL, NULL, "ab", "t", NULL, ITEM_TIME_NONE,
	0},
    {"json feed: an id that is a number with a fraction is a string",
	"{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": "
	"[{\"id\": 4.5, \"url\": \"https://j.test/1\", \"title\": \"T\"}]}",
	NULL, FEED_FORMAT_JSONFEED, 0, NULL, NULL, 1, "4.5", "4.5", "T",
	"https://j.test/1", NULL, NULL, NULL, NULL, NULL, NULL, ITEM_TIME_NONE,
	0},
    {"key falls back to the link",
	"<rss version=\"2.0\"><channel><item><link>http://x.test/only</link>"
	"</item></channel></rss>",
	NULL, FEED_FORMAT_RSS20, 0, NULL, NULL, 1, "http://x.test/only", NULL,
	NULL, "http://x.test/only", NULL, NULL, NULL, NULL, NULL, NULL,
	ITEM_TIME_NONE, 0},
    {"html entity undeclared: decoded, bozo",
	"<rss version=\"2.0\"><channel><item><title>a&hellip;b</title>"
	"</item></channel></rss>",
	NULL, FEED_FORMAT_RSS20, 1, NULL, NULL, 1, NULL, NULL,
	"a\xe2\x80\xa6"
	"b",
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, ITEM_TIME_NONE, 0},
    {"html5 entity undeclared: decoded, bozo; an unknown one kept",
	"<rss version=\"2.0\"><channel><item><title>a&lbrace;1&rbrace; "
	"&nvlt;&LT;&AMP; &bogus;b</title></item></channel></rss>",
	NULL, FEED_FORMAT_RSS20, 1, NULL, NULL, 1, NULL, NULL,
	"a{1} <\xe2\x83\x92<& &bogus;b", NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, ITEM_TIME_NONE, 0},
    {"a plain title with html5 references is read as html",
	"<rss version=\"2.0\"><channel><item><title>x &amp;lbrace;1&amp;"
	"rbrace; &amp;check;</title></item></channel></rss>",
	NULL, FEED_FORMAT_RSS20, 0, NULL, NULL, 1, NULL, NULL,
	"x {1} \xe2\x9c\x93", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	ITEM_TIME_NONE, 0},
    {"iso-8859-1 declared",
	"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss version=\"2.0\">"
	"<channel><title>caf\xe9</title></channel></rss>",
	NULL, FEED_FORMAT_RSS20, 0, "caf\xc3\xa9", NULL, 0, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, ITEM_TIME_NONE, 0},
    {"wrong declared encoding: recovered, bozo",
	"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\">"
	"<channel><title>caf\xe9</title></channel></rss>",
	NULL, FEED_FORMAT_RSS20, 1, "caf\xc3\xa9", NULL, 0, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, ITEM_TIME_NONE, 0},
    {"http charset overrides the declaration",
	"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\">"
	"<channel><title>caf\xe9</title></channel></rss>",
	"Content-Type: application/rss+xml; charset=iso-8859-1",
	FEED_FORMAT_RSS20, 0, "caf\xc3\xa9", NULL, 0, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, ITEM_TIME_NONE, 0},
    {"utf-8 served as iso-8859-1: repaired",
	"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\">"
	"<channel><title>caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d</title>"
	"</channel></rss>",
	"Content-Type: application/rss+xml; charset=iso-8859-1",
	FEED_FORMAT_RSS20, 0, "caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d", NULL, 0,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	ITEM_TIME_NONE, 0},
    {"windows-1252 code points in utf-8",
	"<rss version=\"2.0\"><channel><title>\xc2\x93q\xc2\x94</title>"
	"</channel></rss>",
	NULL, FEED_FORMAT_RSS20, 0, "\xe2\x80\x9cq\xe2\x80\x9d", NULL, 0, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ITEM_TIME_NONE,
	0},
    {"utf-16 with BOM", UTF16_DOC, NULL, FEED_FORMAT_RSS20, 0, "\xc3\xa9", NULL,
	0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	ITEM_TIME_NONE, sizeof UTF16_DOC - 1},
    /* a byte-order mark decides over the declaration and the charset */
    {"utf-8 BOM overrides the declaration",
	"\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"windows-1252\"?>"
	"<rss version=\"2.0\"><channel><title>\xe2\x80\x98q\xe2\x80\x99 "
	"caf\xc3\xa9</title></channel></rss>",
	NULL, FEED_FORMAT_RSS20, 1, "\xe2\x80\x98q\xe2\x80\x99 caf\xc3\xa9",
	NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	ITEM_TIME_NONE, 0},
    {"utf-16 BOM overrides the charset", UTF16_DOC,
	"Content-Type: application/rss+xml; charset=iso-8859-1",
	FEED_FORMAT_RSS20, 1, "\xc3\xa9", NULL, 0, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, ITEM_TIME_NONE, sizeof UTF16_DOC - 1},
    {"utf-16 BOM and a charset that leaves it the byte order", UTF16_DOC,
	"Content-Type: application/rss+xml; charset=utf-16", FEED_FORMAT_RSS20,
	0, "\xc3\xa9", NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, ITEM_TIME_NONE, sizeof UTF16_DOC - 1},
    {"javascript link dropped",
	"<rss version=\"2.0\"><channel><item><title>t</title>"
	"<link>javascript:alert(1)</link></item></channel></rss>",
	NULL, FEED_FORMAT_RSS20, 0, NULL, NULL, 1, NULL, NULL, "t", NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, ITEM_TIME_NONE, 0},
};

/* Length of a test document: the UTF-16 one holds NUL bytes. */
static size_t
case_len(const struct field_case *c)
{
	return c->doclen > 0 ? c->doclen : strlen(c->doc);
}

static struct feed_doc *
parse_case(const struct field_case *c, size_t chunk, char **cause)
{
	struct feedparse *p = feedparse_new("http://example.com/feed.xml");
	size_t len = case_len(c), off, n;
	char name[64];
	const char *colon;

	if (c->header != NULL) {
		colon = strchr(c->header, ':');
		snprintf(name, sizeof name, "%.*s", (int)(colon - c->header),
		    c->header);
		feedparse_header(p, name, colon + 2);
	}
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		if (feedparse_push(p, c->doc + off, n) == -1)
			break;
	}
	*cause = NULL;
	struct feed_doc *doc = feedparse_finish(p, cause);
	feedparse_free(p);
	return doc;
}

static void
check_str(const char *what, const char *want, const char *got)
{
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strcmp(want, got) != 0)
		fail_msg("%s: want \"%s\", got \"%s\"", what,
		    want != NULL ? want : "(null)",
		    got != NULL ? got : "(null)");
}

static void
test_fields(void **state)
{
	static const size_t chunks[] = {1, 7, 1 << 20};
	const struct field_case *c;
	const struct item *it;
	struct feed_doc *doc;
	char *cause;
	size_t i, k;

	for (i = 0; i < sizeof field_cases / sizeof field_cases[0]; i++) {
		for (k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
			c = &field_cases[i];
			print_message(
			    "case %s, chunks of %zu\n", c->name, chunks[k]);
			doc = parse_case(c, chunks[k], &cause);
			if (doc == NULL)
				fail_msg("%s: refused: %s", c->name, cause);
			assert_int_equal(doc->format, c->format);
			assert_int_equal(doc->bozo, c->bozo);
			check_str("feed title", c->feed_title, doc->title);
			check_str("feed link", c->feed_link, doc->link);
			assert_int_equal(doc->nitems, c->nitems);
			if (c->nitems > 0) {
				it = &doc->items[0];
				if (c->key != NULL)
					check_str("key", c->key, it->key);
				else
					assert_true(strncmp(it->key,
							"sha256:", 7) == 0);
				check_str("id", c->id, it->id);
				check_str("title", c->title, it->title_text);
				check_str("link", c->link, it->link);
				check_str("author", c->author, it->author);
				check_str("email", c->email, it->author_email);
				check_str(
				    "summary", c->summary, it->summary_text);
				check_str(
				    "content", c->content, it->content_text);
				check_str("category", c->category,
				    it->ncategories > 0 ? it->categories[0]
							: NULL);
				check_str("enclosure", c->enclosure,
				    it->nenclosures > 0 ? it->enclosures[0].url
							: NULL);
				assert_true(it->published == c->published);
			}
			feed_doc_free(doc);
		}
	}
}

/* The hash key depends on title, date and text, and on nothing else. */
static void
test_key_hash(void **state)
{
	const char *a = "<rss><channel><item><title>x</title><description>d"
			"</description></item><item><title>x</title>"
			"<description>d</description></item><item><title>y"
			"</title><description>d</description></item>"
			"</channel></rss>";
	struct feed_doc *doc;
	char *cause;

	doc = parse_str(a, &cause);
	assert_non_null(doc);
	assert_int_equal(doc->nitems, 3);
	assert_string_equal(doc->items[0].key, doc->items[1].key);
	assert_string_not_equal(doc->items[0].key, doc->items[2].key);
	feed_doc_free(doc);
}

/* ------------------------------------------------------------------ */
/* Hostile documents */

static void
make_doc(struct buf *b, const char *head, const char *piece, size_t times,
    const char *tail)
{
	size_t i;

	buf_init(b, (size_t)64 * 1024 * 1024);
	buf_addstr(b, head);
	for (i = 0; i < times; i++)
		buf_addstr(b, piece);
	buf_addstr(b, tail);
}

static void
test_billion_laughs(void **state)
{
	const char *doc =
	    "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY lol \"lol\">"
	    "<!ENTITY lol1 "
	    "\"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
	    "<!ENTITY lol2 "
	    "\"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
	    "<!ENTITY lol3 "
	    "\"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
	    "<!ENTITY lol4 "
	    "\"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
	    "<!ENTITY lol5 "
	    "\"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
	    "<!ENTITY lol6 "
	    "\"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
	    "<!ENTITY lol7 "
	    "\"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
	    "<!ENTITY lol8 "
	    "\"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
	    "<!ENTITY lol9 "
	    "\"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">"
	    "]><rss><channel><title>&lol9;</title></channel></rss>";
	struct feed_doc *d;
	char *cause;
	double t0 = now();

	d = parse_str(doc, &cause);
	assert_null(d);
	assert_non_null(strstr(cause, "refers to other entities"));
	assert_true(now() - t0 < HOSTILE_SECONDS);
	free(cause);
}

static void
test_quadratic_blowup(void **state)
{
	struct buf b, ent;
	struct feed_doc *d;
	char *cause;
	double t0;
	size_t i;

	/* A 50 KB entity referenced 50,000 times: refused for its size. */
	buf_init(&ent, 1 << 20);
	for (i = 0; i < 50000; i++)
		buf_addc(&ent, 'a');
	buf_init(&b, 1 << 30);
	buf_addstr(&b, "<!DOCTYPE rss [<!ENTITY a \"");
	buf_addstr(&b, ent.data);
	buf_addstr(&b, "\">]><rss><channel><title>");
	for (i = 0; i < 50000; i++)
		buf_addstr(&b, "&a;");
	buf_addstr(&b, "</title></channel></rss>");
	t0 = now();
	d = feedparse_buffer(b.data, b.len, NULL, &cause);
	assert_null(d);
	assert_non_null(strstr(cause, "longer than"));
	assert_true(now() - t0 < HOSTILE_SECONDS);
	free(cause);
	buf_free(&b);

	/* Entities under the size cap, many references: the budget. */
	buf_init(&b, 1 << 30);
	buf_addstr(&b, "<!DOCTYPE rss [<!ENTITY a \"");
	buf_add(&b, ent.data, FEEDPARSE_ENTITY_MAX);
	buf_addstr(&b, "\">]><rss><channel><title>");
	for (i = 0; i < 5000; i++)
		buf_addstr(&b, "&a;");
	buf_addstr(&b, "</title></channel></rss>");
	t0 = now();
	d = feedparse_buffer(b.data, b.len, NULL, &cause);
	assert_null(d);
	assert_non_null(strstr(cause, "entity expansion"));
	assert_true(now() - t0 < HOSTILE_SECONDS);
	free(cause);
	buf_free(&b);
	buf_free(&ent);
}

/* A listener on 127.0.0.1 that must never see a connection. */
static int
listener(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
test_external_entities(void **state)
{
	char host[256] = "", doc[1024];
	struct feed_doc *d;
	char *cause;
	int fd, port, hfd, i;
	ssize_t n;
	const char *fmt[] = {
	    /* SYSTEM entity to a file, referenced in content */
	    "<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file:///etc/hostname\">]>"
	    "<rss><channel><title>a&xxe;b</title></channel></rss>%.0d",
	    /* SYSTEM entity over http */
	    "<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"http://127.0.0.1:%d/e\">]>"
	    "<rss><channel><title>a&xxe;b</title></channel></rss>",
	    /* external DTD */
	    "<!DOCTYPE rss SYSTEM \"http://127.0.0.1:%d/x.dtd\">"
	    "<rss><channel><title>ab</title></channel></rss>",
	    /* parameter entity */
	    "<!DOCTYPE rss [<!ENTITY %% pe SYSTEM \"http://127.0.0.1:%d/p\">"
	    "%%pe;]><rss><channel><title>ab</title></channel></rss>",
	};

	if ((hfd = open("/etc/hostname", O_RDONLY)) >= 0) {
		n = read(hfd, host, sizeof host - 1);
		host[n > 0 ? n : 0] = '\0';
		host[strcspn(host, "\n")] = '\0';
		close(hfd);
	}
	fd = listener(&port);
	for (i = 0; i < 4; i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(doc, sizeof doc, fmt[i], port);
#pragma GCC diagnostic pop
		d = parse_str(doc, &cause);
		if (d == NULL)
			fail_msg("case %d refused: %s", i, cause);
		assert_non_null(d->title);
		if (host[0] != '\0')
			assert_null(strstr(d->title, host));
		/* Nothing was substituted between a and b but the reference. */
		assert_true(strncmp(d->title, "a", 1) == 0);
		feed_doc_free(d);
	}
	/* No connection ever reached the listener. */
	assert_int_equal(accept(fd, NULL, NULL), -1);
	close(fd);
}

static void
test_depth(void **state)
{
	struct buf b;
	struct feed_doc *d;
	char *cause;
	double t0;

	make_doc(&b, "<rss><channel>", "<x>", 100000, "");
	t0 = now();
	d = feedparse_buffer(b.data, b.len, NULL, &cause);
	assert_null(d);
	assert_non_null(strstr(cause, "nested deeper than"));
	assert_true(now() - t0 < HOSTILE_SECONDS);
	free(cause);
	buf_free(&b);
}

static void
test_big_text(void **state)
{
	struct buf b;
	struct feed_doc *d;
	char *cause;
	double t0;

	/* 20 MB text node: past the body cap. */
	make_doc(&b, "<rss><channel><title>", "0123456789", 2000000,
	    "</title></channel></rss>");
	t0 = now();
	d = feedparse_buffer(b.data, b.len, NULL, &cause);
	assert_null(d);
	assert_non_null(strstr(cause, "larger than"));
	assert_true(now() - t0 < HOSTILE_SECONDS);
	free(cause);
	buf_free(&b);

	/* 3 MB title: kept, cut to the field cap. */
	make_doc(&b, "<rss><channel><item><title>", "0123456789", 300000,
	    "</title></item></channel></rss>");
	t0 = now();
	d = feedparse_buffer(b.data, b.len, NULL, &cause);
	assert_non_null(d);
	assert_int_equal(d->nitems, 1);
	assert_true(strlen(d->items[0].title_html) <= FEEDPARSE_FIELD_MAX);
	assert_true(strlen(d->items[0].title_html) > 1000);
	assert_true(now() - t0 < HOSTILE_SECONDS);
	feed_doc_free(d);
	buf_free(&b);
}

static void
test_many_items(void **state)
{
	struct buf b;
	struct feed_doc *d;
	char *cause;
	double t0;

	make_doc(&b, "<rss><channel>", "<item><title>t</title></item>", 10000,
	    "</channel></rss>");
	t0 = now();
	d = feedparse_buffer(b.data, b.len, NULL, &cause);
	assert_non_null(d);
	assert_int_equal(d->nitems, FEEDPARSE_ITEMS_MAX);
	assert_true(d->truncated);
	assert_true(now() - t0 < HOSTILE_SECONDS);
	feed_doc_free(d);
	buf_free(&b);
}

/* Categories per item are capped. */
static void
test_many_categories(void **state)
{
	struct buf b;
	struct feed_doc *d;
	char *cause;
	int i;

	(void)state;
	buf_init(&b, (size_t)-1 / 2);
	buf_addstr(&b, "<rss><channel><item><title>t</title><tags>");
	for (i = 0; i < 100000; i++)
		buf_printf(&b, "%st%d", i > 0 ? "," : "", i);
	buf_addstr(&b, "</tags>");
	for (i = 0; i < 1000; i++)
		buf_printf(&b, "<category>c%d</category>", i);
	buf_addstr(&b, "</item></channel></rss>");
	d = feedparse_buffer(b.data, b.len, NULL, &cause);
	assert_non_null(d);
	assert_int_equal(d->nitems, 1);
	assert_int_equal(d->items[0].ncategories, FEEDPARSE_CATEGORIES_MAX);
	feed_doc_free(d);
	buf_free(&b);
}

static void
test_long_name(void **state)
{
	struct buf b;
	struct feed_doc *d;
	char *cause = NULL;
	double t0;

	make_doc(&b, "<rss><channel><item><", "a", 60000,
	    ">x</a></item></channel></rss>");
	t0 = now();
	d = feedparse_buffer(b.data, b.len, NULL, &cause);
	/* Refused, or read as ill-formed with the name dropped. */
	assert_true(d == NULL || d->bozo);
	assert_true(now() - t0 < HOSTILE_SECONDS);
	feed_doc_free(d);
	free(cause);
	buf_free(&b);
}

static struct feed_doc *parse_chunked(const char *, size_t, size_t);
static struct feed_doc *parse_streamed(
    const char *, size_t, size_t, void (*)(struct item *, void *), void *);

/* HTML's empty elements closed, bare '&' escaped (as asked), everything
 * else as it was, however the text is cut into chunks. */
static void
test_voidtags(void **state)
{
#define C VOIDTAGS_CLOSE
#define A VOIDTAGS_AMP
	static const struct {
		int flags;
		const char *in, *out;
	} cases[] = {
	    {C, "a<br>b<BR >c<br/>d<br />e", "a<br/>b<BR />c<br/>d<br />e"},
	    {C, "<img src=\"a>b\" alt='x/'>", "<img src=\"a>b\" alt='x/'/>"},
	    {C, "<br></br><hr></HR ><p>x</p>", "<br/><hr/><p>x</p>"},
	    {C, "<bread>x</bread><link>u</link><source url='s'>n</source>",
		"<bread>x</bread><link>u</link><source url='s'>n</source>"},
	    {C, "<![CDATA[a<br>b]]]><br>", "<![CDATA[a<br>b]]]><br/>"},
	    {C, "<!-- <br> --->x<br>", "<!-- <br> --->x<br/>"},
	    {C, "<?pi <br>?><br>", "<?pi <br>?><br/>"},
	    {C, "<!DOCTYPE rss [<!ENTITY e '<br>'>]><br>",
		"<!DOCTYPE rss [<!ENTITY e '<br>'>]><br/>"},
	    {C, "a < b <= c </ d <!x> <averyveryverylongname>",
		"a < b <= c </ d <!x> <averyveryverylongname>"},
	    {C, "<rdf:br>x</rdf:br>", "<rdf:br>x</rdf:br>"},
	    /* bare ampersands; references stay */
	    {A, "AT&T &amp; Q&A &#233; &#xE9; &#X41; &#x; &#; &; & b &lt",
		"AT&amp;T &amp; Q&amp;A &#233; &#xE9; &#X41; &amp;#x; &amp;#; "
		"&amp;; &amp; b &amp;lt"},
	    {A, "&1a; &-a; &a.b-c:d_e; &\xc3\xa9t\xc3\xa9; &&amp;",
		"&amp;1a; &amp;-a; &a.b-c:d_e; &\xc3\xa9t\xc3\xa9; &amp;&amp;"},
	    {A, "<a href=\"?a=1&b=2\" t='x&amp;y' u=&>R&D</a>",
		"<a href=\"?a=1&amp;b=2\" t='x&amp;y' u=&>R&amp;D</a>"},
	    {A, "<![CDATA[a&b]]>&<!-- & --><?pi & ?><!DOCTYPE x [&]>",
		"<![CDATA[a&b]]>&amp;<!-- & --><?pi & ?><!DOCTYPE x [&]>"},
	    {A,
		"&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; "
		"&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;",
		"&amp;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; "
		"&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"},
	    {A, "<br>a&b</br>", "<br>a&amp;b</br>"},
	    {A, "<img src='a&b'>", "<img src='a&amp;b'>"},
	    {C | A, "<br>a&b</br><img src='a&b'>",
		"<br/>a&amp;b<img src='a&amp;b'/>"},
	    {C, "a&b", "a&b"},
	};
	static const size_t chunks[] = {1, 2, 3, 7, 1000};
	struct voidtags vt;
	struct buf out;
	size_t i, c, off, n, len;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		for (c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
			buf_init(&out, 1 << 20);
			voidtags_init(&vt, cases[i].flags);
			len = strlen(cases[i].in);
			for (off = 0; off < len; off += n) {
				n = len - off < chunks[c] ? len - off
							  : chunks[c];
				voidtags_run(&vt, cases[i].in + off, n, &out);
			}
			voidtags_finish(&vt, &out);
			if (strcmp(buf_str(&out), cases[i].out) != 0)
				fail_msg("chunks of %zu: %s -> %s", chunks[c],
				    cases[i].in, buf_str(&out));
			buf_free(&out);
		}
#undef C
#undef A
}

static void
count_item(struct item *it, void *arg)
{
	(void)it;
	(*(size_t *)arg)++;
}

/*
 * A feed whose every description holds a raw "<br>": read again with
 * them closed, all its items come out whole (the XML parser alone nested
 * each item in the one before, and refused the feed past 64 levels),
 * streamed or not, in any chunks.
 */
static void
test_open_html_elements(void **state)
{
	static const size_t chunks[] = {1, 3, 5, 7, 100, 65536};
	struct buf b;
	struct feed_doc *d;
	size_t i, c, streamed;

	buf_init(&b, 1 << 20);
	/* a channel title past the first KiB (read before the rest), cut
	 * there in the middle of a character */
	buf_addstr(&b, "<rss version=\"2.0\"><channel><title>");
	while (b.len < 1023)
		buf_addc(&b, 'x');
	buf_addstr(&b, "\xc3\xa9t\xc3\xa9</title>");
	for (i = 0; i < 100; i++)
		buf_printf(&b,
		    "<item><title>t%zu</title><description>a\xc3\xa9<br>"
		    "\xc3\xa9"
		    "b<img src='x'>c\xc3\xa9"
		    "</description>\xc3\xa9"
		    "<guid>g%zu</guid></item>",
		    i, i);
	buf_addstr(&b, "</channel></rss>");
	for (c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
		d = parse_chunked(b.data, b.len, chunks[c]);
		assert_int_equal(d->nitems, 100);
		assert_true(d->bozo);
		assert_non_null(strstr(d->title, "x\xc3\xa9t\xc3\xa9"));
		assert_non_null(
		    strstr(d->bozo_reason, "HTML elements left open"));
		assert_false(d->cut_short);
		assert_string_equal(d->items[99].id, "http://example.com/g99");
		assert_string_equal(d->items[99].title_text, "t99");
		feed_doc_free(d);
		/* streamed, as the daemon reads */
		streamed = 0;
		d = parse_streamed(
		    b.data, b.len, chunks[c], count_item, &streamed);
		assert_int_equal(streamed, 100);
		feed_doc_free(d);
	}
	buf_free(&b);
}

static void
test_broken_bytes(void **state)
{
	static const char truncated[] =
	    "<rss><channel><item><title>one</title></item><item><title>tw";
	static const char nul[] =
	    "<rss><channel><title>a\0b</title>"
	    "<item><title>x</title></item></channel></rss>";
	static const char badutf8[] = "<rss><channel><title>a\xff\xfe"
				      "b</title></channel></rss>";
	struct feed_doc *d;
	char *cause = NULL;

	d = feedparse_buffer(truncated, sizeof truncated - 1, NULL, &cause);
	assert_non_null(d);
	assert_true(d->bozo);
	assert_true(d->cut_short); /* perhaps only part of the feed */
	assert_true(d->nitems >= 1);
	assert_string_equal(d->items[0].title_text, "one");
	feed_doc_free(d);

	d = feedparse_buffer(nul, sizeof nul - 1, NULL, &cause);
	assert_true(d == NULL || d->bozo);
	feed_doc_free(d);
	free(cause);
	cause = NULL;

	d = feedparse_buffer(badutf8, sizeof badutf8 - 1, NULL, &cause);
	assert_non_null(d);
	assert_true(d->bozo);
	assert_non_null(d->title);
	feed_doc_free(d);

	/* Whole, with a bare '&' or an unclosed "<br>" (libxml2 then closes
	 * elements early, leaving the root open): bozo, not cut short; one
	 * that stops before its root's end tag is. */
	{
		static const struct {
			const char *doc;
			int cut_short;
		} wholes[] = {
		    {"<rss><channel><item><title>AT&T</title></item>"
		     "</channel></rss>",
			0},
		    {"<rss><channel><item><description>a<br>b</description>"
		     "</item></channel></rss>\n<!-- served by x -->\n",
			0},
		    {"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/"
		     "22-rdf-syntax-ns#' xmlns='http://purl.org/rss/1.0/'>"
		     "<item><title>a<hr>b</title></item></rdf:RDF >",
			0},
		    {"<rss><channel><item><title>one</title></item>"
		     "</channel>",
			1},
		    {"<rss><channel><item><title>a<br>b</title></item>"
		     "</channel></rss><!-- page generated in 0.3 s by a cache "
		     "plug-in; served from disk; minified; gzip; "
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		     "-->\n",
			0},
		};
		static const size_t chunks[] = {1, 5, 4096};
		size_t k, c;

		/* in chunks too: the end tag may come split */
		for (k = 0; k < sizeof wholes / sizeof wholes[0]; k++)
			for (c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
				d = parse_chunked(wholes[k].doc,
				    strlen(wholes[k].doc), chunks[c]);
				assert_true(d->bozo);
				if (d->cut_short != wholes[k].cut_short)
					fail_msg("cut_short %d in chunks of "
						 "%zu: %s",
					    d->cut_short, chunks[c],
					    wholes[k].doc);
				feed_doc_free(d);
			}
	}

	/* A stray "<br>" makes libxml2 take the item's end tag for the
	 * description's: the next item starts inside it. Both are kept. */
	{
		static const char stray[] =
		    "<rss><channel><item><title>x</title><description>a<br>b"
		    "</description></item><item><title>y</title></item>"
		    "</channel></rss>";

		d = feedparse_buffer(stray, sizeof stray - 1, NULL, &cause);
		assert_non_null(d);
		assert_int_equal(d->nitems, 2);
		assert_string_equal(d->items[0].title_text, "x");
		assert_string_equal(d->items[1].title_text, "y");
		feed_doc_free(d);
	}

	/* Whole, but served as HTML: bozo, not cut short. */
	{
		static const char whole[] = "<rss><channel><item><title>one"
					    "</title></item></channel></rss>";
		struct feedparse *p = feedparse_new("http://example.com/");

		feedparse_header(p, "Content-Type", "text/html");
		assert_int_equal(feedparse_push(p, whole, sizeof whole - 1), 0);
		d = feedparse_finish(p, &cause);
		feedparse_free(p);
		assert_non_null(d);
		assert_true(d->bozo);
		assert_false(d->cut_short);
		feed_doc_free(d);
	}

	/* Not a feed at all. */
	d = feedparse_buffer("<html><body>hi</body></html>", 28, NULL, &cause);
	assert_null(d);
	assert_non_null(strstr(cause, "not a feed"));
	free(cause);
}

/* RSS ttl is minutes: an absurd one is the most that is kept (the
 * scheduler clamps it), not dropped; none or zero is no hint. */
static void
test_ttl(void **state)
{
	static const struct {
		const char *ttl;
		int64_t want;
	} cases[] = {{"60", 3600}, {"99999999", 100000 * 60LL}, {"0", 0},
	    {"-5", 0}, {"soon", 0}};
	char doc[512];
	struct feed_doc *d;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(doc, sizeof doc,
		    "<rss version=\"2.0\"><channel><title>T</title>"
		    "<ttl>%s</ttl></channel></rss>",
		    cases[i].ttl);
		d = parse_chunked(doc, strlen(doc), 4096);
		if (d->ttl != cases[i].want)
			fail_msg(
			    "ttl %s: %lld", cases[i].ttl, (long long)d->ttl);
		feed_doc_free(d);
	}
	/* sy:updatePeriod and sy:updateFrequency as written, the channel's
	 * (an item's are no hint for the feed) */
	snprintf(doc, sizeof doc,
	    "<rss version=\"2.0\" xmlns:sy=\"http://purl.org/rss/1.0/"
	    "modules/syndication/\"><channel><title>T</title>"
	    "<item><sy:updatePeriod>daily</sy:updatePeriod></item>"
	    "<sy:updatePeriod> hourly </sy:updatePeriod>"
	    "<sy:updateFrequency>2</sy:updateFrequency></channel></rss>");
	d = parse_chunked(doc, strlen(doc), 7);
	assert_non_null(d->update_period);
	assert_string_equal(d->update_period, "hourly");
	assert_string_equal(d->update_frequency, "2");
	feed_doc_free(d);
}

/*
 * Bare '&' in text, links and attributes ("AT&T", "?a=1&b=2", "Tom &
 * Jerry"): read as written, as feed readers do (libxml2 alone dropped
 * the '&' and the name after it: "AT", "?a=1=2"), with a bozo note; and
 * with a raw "<br>" in the same document, both mended; in any chunks.
 */
static void
test_bare_ampersands(void **state)
{
	static const char doc[] =
	    "<rss version=\"2.0\"><channel><title>Q&A</title>"
	    "<link>http://e.com/?a=1&b=2</link>"
	    "<item><title>AT&T and R&D &amp; more</title>"
	    "<link>http://e.com/n?id=1&ref=rss</link>"
	    "<description>Tom & Jerry &#233;<![CDATA[ a&b]]>"
	    "</description><enclosure url=\"http://e.com/x.mp3?a=1&b=2\" "
	    "type=\"audio/mpeg\"/></item>"
	    "<item><title>second</title><description>a<br>b & c"
	    "</description><guid>g2</guid></item></channel></rss>";
	static const size_t chunks[] = {1, 3, 7, 4096};
	struct feed_doc *d;
	size_t c;

	for (c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
		d = parse_chunked(doc, sizeof doc - 1, chunks[c]);
		assert_int_equal(d->nitems, 2);
		assert_true(d->bozo);
		assert_non_null(strstr(d->bozo_reason, "bare '&'"));
		assert_string_equal(d->title, "Q&A");
		assert_string_equal(d->link, "http://e.com/?a=1&b=2");
		assert_string_equal(
		    d->items[0].title_text, "AT&T and R&D & more");
		assert_string_equal(
		    d->items[0].link, "http://e.com/n?id=1&ref=rss");
		assert_string_equal(
		    d->items[0].summary_text, "Tom & Jerry \xc3\xa9 a&b");
		assert_int_equal(d->items[0].nenclosures, 1);
		assert_string_equal(d->items[0].enclosures[0].url,
		    "http://e.com/x.mp3?a=1&b=2");
		assert_string_equal(d->items[1].summary_text, "a b & c");
		assert_string_equal(d->items[1].id, "http://example.com/g2");
		feed_doc_free(d);
	}
}

/*
 * After an error (a control character in a title), references are still
 * read: escaped HTML stays HTML ("&lt;p&gt;"), "&amp;" an ampersand, in
 * text and in attributes, in every item after it, in chunks of any size.
 */
static void
test_references_after_error(void **state)
{
	static const char doc[] =
	    "<rss version=\"2.0\"><channel><title>T</title>"
	    "<item><guid>a</guid><title>bad \033 char</title></item>"
	    "<item><guid>b</guid><title>x &amp; y &#233;</title>"
	    "<description>&lt;p&gt;line one&lt;/p&gt; a &amp; b"
	    "</description><enclosure url=\"http://e.com/x?a=1&amp;b=2\" "
	    "type=\"audio/mpeg\"/></item></channel></rss>";
	static const size_t chunks[] = {1, 2, 7, 4096};
	struct feed_doc *d;
	size_t c;

	for (c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
		d = parse_chunked(doc, sizeof doc - 1, chunks[c]);
		assert_int_equal(d->nitems, 2);
		assert_true(d->bozo);
		assert_string_equal(d->items[1].title_text, "x & y \xc3\xa9");
		assert_string_equal(d->items[1].summary_text, "line one a & b");
		assert_int_equal(d->items[1].nenclosures, 1);
		assert_string_equal(
		    d->items[1].enclosures[0].url, "http://e.com/x?a=1&b=2");
		feed_doc_free(d);
	}
}

/* Push a document in chunks of the given size; items to CB (if not NULL)
 * as the daemon takes them. */
static struct feed_doc *
parse_streamed(const char *data, size_t len, size_t chunk,
    void (*cb)(struct item *, void *), void *arg)
{
	struct feedparse *p = feedparse_new("http://example.com/feed.xml");
	struct feed_doc *d;
	char *cause = NULL;
	size_t off, n;

	if (cb != NULL)
		feedparse_set_item_cb(p, cb, arg);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		if (feedparse_push(p, data + off, n) == -1)
			break;
	}
	d = feedparse_finish(p, &cause);
	feedparse_free(p);
	if (d == NULL)
		fail_msg("refused: %s", cause);
	return d;
}

static struct feed_doc *
parse_chunked(const char *data, size_t len, size_t chunk)
{
	return parse_streamed(data, len, chunk, NULL, NULL);
}

/*
 * Long documents, parsed in place once the first KiB decided the
 * encoding: characters cut by a chunk's end, and bytes that are not
 * UTF-8 far into a document said to be, give the same items in any
 * chunk size.
 */
static void
test_utf8_chunks(void **state)
{
	static const size_t chunks[] = {1, 2, 3, 5, 7, 4096};
	static const char title[] = "caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac "
				    "\xf0\x9f\x98\x80";
	static const char piece[] = "<item><title>caf\xc3\xa9 \xe6\x9d\xb1"
				    "\xe4\xba\xac \xf0\x9f\x98\x80</title>"
				    "<description>&lt;p&gt;x&lt;/p&gt;"
				    "</description></item>";
	struct buf b;
	struct feed_doc *whole, *d;
	size_t i, k, bad;

	make_doc(&b,
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\">"
	    "<channel>",
	    piece, 200, "</channel></rss>");
	for (k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
		d = parse_chunked(b.data, b.len, chunks[k]);
		assert_false(d->bozo);
		assert_int_equal(d->nitems, 200);
		for (i = 0; i < d->nitems; i++) {
			assert_string_equal(d->items[i].title_text, title);
			assert_string_equal(
			    d->items[i].summary_html, "<p>x</p>");
		}
		feed_doc_free(d);
	}

	/* A byte that is no UTF-8 past the first 4 KiB: read again. */
	bad = b.len / 2;
	while (b.data[bad] != '<')
		bad++;
	memmove(b.data + bad + 1, b.data + bad, b.len - bad + 1);
	b.data[bad] = '\xff';
	b.len++;
	whole = parse_chunked(b.data, b.len, b.len);
	assert_true(whole->bozo);
	assert_int_equal(whole->nitems, 200);
	for (k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
		d = parse_chunked(b.data, b.len, chunks[k]);
		assert_true(d->bozo);
		assert_string_equal(d->bozo_reason, whole->bozo_reason);
		assert_int_equal(d->nitems, whole->nitems);
		for (i = 0; i < d->nitems; i++)
			assert_string_equal(
			    d->items[i].title_text, whole->items[i].title_text);
		feed_doc_free(d);
	}
	feed_doc_free(whole);
	buf_free(&b);
}

/*
 * One prefix bound to different namespaces in turn, and names that differ
 * in case: an element is what its namespace and name make it each time.
 */
static void
test_namespace_rebound(void **state)
{
	static const char doc[] =
	    "<rss version=\"2.0\" "
	    "xmlns:x=\"http://purl.org/dc/elements/1.1/\"><channel>"
	    "<item><x:creator>One</x:creator></item>"
	    "<item xmlns:x=\"http://example.com/other\">"
	    "<x:creator>Two</x:creator><Title>T2</Title></item>"
	    "<item><x:creator>Three</x:creator><TITLE>T3</TITLE></item>"
	    "<item xmlns:x=\"http://purl.org/rss/1.0/modules/content/\">"
	    "<x:encoded>&lt;b&gt;Four&lt;/b&gt;</x:encoded></item>"
	    "</channel></rss>";
	static const size_t chunks[] = {1, sizeof doc};
	struct feed_doc *d;
	size_t k;

	for (k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
		d = parse_chunked(doc, sizeof doc - 1, chunks[k]);
		assert_int_equal(d->nitems, 4);
		assert_string_equal(d->items[0].author, "One");
		assert_null(d->items[1].author);
		assert_string_equal(d->items[1].title_text, "T2");
		assert_string_equal(d->items[2].author, "Three");
		assert_string_equal(d->items[2].title_text, "T3");
		assert_null(d->items[3].author);
		assert_string_equal(d->items[3].content_html, "<b>Four</b>");
		feed_doc_free(d);
	}
}

/*
 * Media RSS: an item's media:description is its summary when it has no
 * other (a YouTube channel's feed has its text nowhere else); a
 * description or summary of its own wins, and a photo's caption never
 * takes the place of the content.
 */
static void
test_media_description(void **state)
{
	static const char doc[] =
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
	    "xmlns:media=\"http://search.yahoo.com/mrss/\"><title>C</title>"
	    "<entry><id>yt:video:1</id><title>Volcano</title>"
	    "<media:group><media:title>Volcano</media:title>"
	    "<media:description>Lava reaches &lt;the&gt; town.\nMore at "
	    "https://x.test/?a=1&amp;b=2</media:description></media:group>"
	    "</entry></feed>";
	static const char rss[] =
	    "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss\" "
	    "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">"
	    "<channel><media:description>channel</media:description>"
	    /* the item's own description first, a caption after it */
	    "<item><title>1</title><description>Story</description>"
	    "<media:content url=\"http://x.test/p.jpg\"><media:description>"
	    "Caption</media:description></media:content>"
	    "<content:encoded>&lt;p&gt;Full&lt;/p&gt;</content:encoded></item>"
	    /* a caption first, the description after it */
	    "<item><title>2</title><media:content url=\"http://x.test/p.jpg\">"
	    "<media:description>Caption</media:description></media:content>"
	    "<description>Story</description></item>"
	    /* a caption alone */
	    "<item><title>3</title><media:description type=\"html\">"
	    "&lt;b&gt;Only&lt;/b&gt; caption</media:description></item>"
	    "</channel></rss>";
	struct feed_doc *d;
	char *cause = NULL;

	d = parse_str(doc, &cause);
	assert_non_null(d);
	assert_int_equal(d->nitems, 1);
	check_str("youtube summary",
	    "Lava reaches <the> town. More at "
	    "https://x.test/?a=1&b=2",
	    d->items[0].summary_text);
	assert_null(d->items[0].content_text);
	assert_string_equal(d->items[0].title_text, "Volcano");
	feed_doc_free(d);

	d = parse_str(rss, &cause);
	assert_non_null(d);
	assert_int_equal(d->nitems, 3);
	check_str("summary 1", "Story", d->items[0].summary_text);
	check_str("content 1", "Full", d->items[0].content_text);
	check_str("summary 2", "Story", d->items[1].summary_text);
	check_str("content 2", NULL, d->items[1].content_text);
	check_str("summary 3", "Only caption", d->items[2].summary_text);
	feed_doc_free(d);
}

/*
 * Text storage is kept from one element to the next: a field past what is
 * kept, one cut at the field cap, and short ones after them.
 */
static void
test_field_after_long_field(void **state)
{
	struct buf b;
	struct feed_doc *d;
	char *cause = NULL;
	size_t i;

	buf_init(&b, (size_t)64 * 1024 * 1024);
	buf_addstr(&b, "<rss version=\"2.0\"><channel><item><title>");
	for (i = 0; i < 20000; i++)
		buf_addstr(&b, "0123456789");
	buf_addstr(&b,
	    "</title><description>d1</description></item>"
	    "<item><title>short</title><description>");
	for (i = 0; i < FEEDPARSE_FIELD_MAX / 10 + 10; i++)
		buf_addstr(&b, "abcdefghij");
	buf_addstr(&b,
	    "</description></item><item><title>t3</title>"
	    "<description>d3</description></item>"
	    "</channel></rss>");
	d = feedparse_buffer(b.data, b.len, NULL, &cause);
	assert_non_null(d);
	assert_int_equal(d->nitems, 3);
	assert_int_equal(strlen(d->items[0].title_text), 200000);
	assert_string_equal(d->items[0].summary_text, "d1");
	assert_string_equal(d->items[1].title_text, "short");
	assert_int_equal(strlen(d->items[1].summary_html), FEEDPARSE_FIELD_MAX);
	assert_string_equal(d->items[2].title_text, "t3");
	assert_string_equal(d->items[2].summary_text, "d3");
	feed_doc_free(d);
	buf_free(&b);
}

/* Items handed out one by one are not kept. */
static void
count_cb(struct item *it, void *arg)
{
	(*(size_t *)arg)++;
}

/*
 * Text that was UTF-8, decoded as ISO-8859-1 and encoded again is
 * repaired; accented text that is not, is left alone, wherever its
 * accents are.
 */
static void
test_double_utf8(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    /* "São Paulo" encoded twice */
	    {"S\xc3\x83\xc2\xa3o Paulo", "S\xc3\xa3o Paulo"},
	    /* "é x" twice, "café" twice at the end */
	    {"\xc3\x83\xc2\xa9 x", "\xc3\xa9 x"},
	    {"caf\xc3\x83\xc2\xa9", "caf\xc3\xa9"},
	    /* "São Paulo café" as it should be: unchanged */
	    {"S\xc3\xa3o Paulo caf\xc3\xa9", "S\xc3\xa3o Paulo caf\xc3\xa9"},
	    /* one accent right, one twice: the repair would break the
	     * first, so neither changes */
	    {"caf\xc3\xa9 \xc3\x83\xc2\xa9", "caf\xc3\xa9 \xc3\x83\xc2\xa9"},
	    {"\xc3\x83\xc2\xa9 caf\xc3\xa9", "\xc3\x83\xc2\xa9 caf\xc3\xa9"},
	    /* a character past U+00FF: not ISO-8859-1 at all */
	    {"S\xc3\x83\xc2\xa3o \xe2\x82\xac",
		"S\xc3\x83\xc2\xa3o \xe2\x82\xac"},
	    /* the encoded bytes would be a sequence cut short at the end */
	    {"x \xc3\x83", "x \xc3\x83"},
	    /* the encoded bytes would be a 3-byte sequence cut short (the
	     * C1 control is then read as windows-1252's) */
	    {"\xc3\xa2\xc2\x82 x", "\xc3\xa2\xe2\x80\x9a x"},
	    /* "€" (3 bytes) encoded twice */
	    {"\xc3\xa2\xc2\x82\xc2\xac 5", "\xe2\x82\xac 5"},
	};
	char doc[8192], *cause = NULL;
	struct feed_doc *d;
	size_t i, off;

	(void)state;
	off = (size_t)snprintf(doc, sizeof doc,
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	    "<rss version=\"2.0\"><channel>");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		off += (size_t)snprintf(doc + off, sizeof doc - off,
		    "<item><guid>g%zu</guid><title>%s</title></item>", i,
		    cases[i].in);
	snprintf(doc + off, sizeof doc - off, "</channel></rss>");
	d = parse_str(doc, &cause);
	assert_non_null(d);
	assert_int_equal(d->nitems, sizeof cases / sizeof cases[0]);
	for (i = 0; i < d->nitems; i++)
		check_str(cases[i].in, cases[i].want, d->items[i].title_text);
	feed_doc_free(d);
}

static void
test_item_cb(void **state)
{
	struct buf b;
	struct feedparse *p;
	struct feed_doc *d;
	size_t n = 0;
	char *cause = NULL;

	make_doc(&b, "<rss><channel>", "<item><title>t</title></item>", 5000,
	    "</channel></rss>");
	p = feedparse_new(NULL);
	feedparse_set_item_cb(p, count_cb, &n);
	assert_int_equal(feedparse_push(p, b.data, b.len), 0);
	d = feedparse_finish(p, &cause);
	feedparse_free(p);
	assert_non_null(d);
	assert_int_equal(n, 5000);
	assert_int_equal(d->nitems, 0);
	feed_doc_free(d);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_key_hash),
	    cmocka_unit_test(test_billion_laughs),
	    cmocka_unit_test(test_quadratic_blowup),
	    cmocka_unit_test(test_external_entities),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_big_text),
	    cmocka_unit_test(test_many_items),
	    cmocka_unit_test(test_many_categories),
	    cmocka_unit_test(test_long_name),
	    cmocka_unit_test(test_broken_bytes),
	    cmocka_unit_test(test_voidtags),
	    cmocka_unit_test(test_open_html_elements),
	    cmocka_unit_test(test_references_after_error),
	    cmocka_unit_test(test_bare_ampersands),
	    cmocka_unit_test(test_ttl),
	    cmocka_unit_test(test_item_cb),
	    cmocka_unit_test(test_double_utf8),
	    cmocka_unit_test(test_utf8_chunks),
	    cmocka_unit_test(test_namespace_rebound),
	    cmocka_unit_test(test_field_after_long_field),
	    cmocka_unit_test(test_media_description),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * opml: the reader on the exports of several feed readers, hostile files
 * (external entities with a listener that must see no connection, billion
 * laughs, caps), the YAML that import-opml writes read back by the
 * configuration loader, the feedwatch import-opml and export-opml
 * commands, and the round trip import -> export -> import.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "opml.h"
#include "xmalloc.h"

#define FIXTURE(name) FW_FIXTURES "/opml/" name

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;

	assert_non_null(f);
	buf_init(&b, 64 * 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		assert_int_equal(buf_add(&b, chunk, n), 0);
	fclose(f);
	return buf_take(&b, len);
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static struct opml *
parse_fixture(const char *name, char **cause)
{
	struct opml *o;
	char *data;
	size_t len;

	data = read_file(name, &len);
	o = opml_parse(data, len, "f.opml", cause);
	free(data);
	return o;
}

/* "url|name|tag,tag" of an entry; an empty name stands for NULL. */
static char *
entry_string(const struct cmd_opml_entry *e)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	buf_printf(&b, "%s|%s|", e->url, e->name != NULL ? e->name : "");
	for (i = 0; i < e->ntags; i++)
		buf_printf(&b, "%s%s", i > 0 ? "," : "", e->tags[i]);
	return buf_take(&b, NULL);
}

static char *
config_feed_string(const struct config_feed *f)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	buf_printf(
	    &b, "%s|%s|", f->url, strcmp(f->name, f->url) != 0 ? f->name : "");
	for (i = 0; i < f->ntags; i++)
		buf_printf(&b, "%s%s", i > 0 ? "," : "", f->tags[i]);
	return buf_take(&b, NULL);
}

struct note_want {
	enum opml_note_kind kind;
	unsigned line;
	unsigned first_line;
};

struct reader_case {
	const char *file;
	const char *title;
	int version;
	const char *entries[8]; /* after import: url|name|slugs */
	struct note_want notes[6];
	size_t nnotes;
};

static const struct reader_case reader_cases[] = {
    {FIXTURE("feedly.opml"), "Analyst subscriptions in feedly Cloud", 1,
	{
	    "https://english.ahram.org.eg/rss/world|Ahram Online - "
	    "World|middle-east,security",
	    "https://www.aljazeera.com/xml/rss/all.xml|Al Jazeera \xe2\x80\x93 "
	    "Breaking News, World News and Video from Al Jazeera|middle-east",
	    "https://www.rudaw.net/rss/english|Rudaw.net|middle-east",
	    /* the second copy had a trailing space in its xmlUrl */
	    "https://krebsonsecurity.com/feed/|Krebs on "
	    "Security|security,must-read",
	    "https://feeds.feedburner.com/TheHackersNews|The Hacker "
	    "News|security",
	},
	{{OPML_NOTE_DUPLICATE, 16, 9}, {OPML_NOTE_DUPLICATE, 19, 14}}, 2},
    {FIXTURE("inoreader.xml"),
	"Subscriptions of analyst@example.org from Inoreader "
	"[https://www.inoreader.com]",
	1,
	{
	    /* HTML references left by an exporter that escaped twice */
	    "https://www.rudaw.net/rss/english/kurdistan|Rudaw \xe2\x80\x93 "
	    "Kurdistan & Iraq|iraq",
	    "https://shafaq.com/en/rss/iraq|Shafaq News \xc2\xbb Iraq|iraq",
	    "https://www.tomshardware.com/feeds/all|Tom's "
	    "<b>Hardware</b>|iraq",
	    "http://feeds.bbci.co.uk/news/world/middle_east/"
	    "rss.xml|Untagged feed without a folder|",
	},
	{{0, 0, 0}}, 0},
    {FIXTURE("newsblur.opml"), "NewsBlur Feeds", 1,
	{
	    "https://www.bellingcat.com/feed/|bellingcat|",
	    "https://www.rferl.org/api/epiqq|RFE/RL|news,world,europe-eurasia",
	    "https://www.reutersagency.com/feed/"
	    "?best-topics=political-general&post_type=best|Reuters "
	    "World|news,world",
	    "https://rsshub.app/apnews/topics/apf-topnews|AP Top News|news",
	},
	{{OPML_NOTE_NOT_FEED, 19, 0}}, 1},
    {FIXTURE("miniflux.opml"), "Miniflux", 2,
	{
	    "https://krebsonsecurity.com/feed/|Krebs on Security|all",
	    /* no title: the url names it */
	    "https://www.schneier.com/feed/atom/||all",
	    "https://gate.ahram.org.eg/rss/"
	    "main|\xd8\xa7\xd9\x84\xd8\xa3\xd9\x87"
	    "\xd8\xb1\xd8\xa7\xd9\x85|arabic-press",
	},
	{{0, 0, 0}}, 0},
    {FIXTURE("freshrss.opml.xml"), "FreshRSS", 2,
	{
	    "https://github.com/FreshRSS/FreshRSS/releases.atom|FreshRSS "
	    "releases|sans-categorie",
	    "https://www.lemonde.fr/rss/une.xml|Le Monde.fr - "
	    "Actualit\xc3\xa9s "
	    "et Infos en France et dans le monde|presse-ecrite",
	},
	{{OPML_NOTE_SCRAPER, 13, 0}}, 1},
    {FIXTURE("newsboat.opml"), "newsboat - Exported Feeds", 1,
	{
	    "https://lwn.net/headlines/rss|LWN.net|",
	    "https://www.debian.org/News/news||",
	},
	{{OPML_NOTE_SCHEME, 9, 0}, {OPML_NOTE_SCHEME, 10, 0},
	    {OPML_NOTE_SCHEME, 11, 0}, {OPML_NOTE_DUPLICATE, 12, 7}},
	4},
    {FIXTURE("thunderbird.opml"),
	"Thunderbird OPML Export - Blogs & News Feeds", 1,
	{
	    "https://blog.thunderbird.net/feed/|Mozilla Thunderbird Blog|",
	    "https://www.schneier.com/feed/atom/|Schneier on Security|security",
	    "https://isc.sans.edu/rssfeed_full.xml|SANS ISC|security",
	},
	{{OPML_NOTE_NOT_FEED, 14, 0}}, 1},
    {FIXTURE("latin1.opml"), "Abonnements export\xc3\xa9s", 2,
	{
	    "https://www.example.fr/cafe/rss|Caf\xc3\xa9 d'Orsay \xc2\xab "
	    "news \xc2\xbb|economie-societe",
	},
	{{0, 0, 0}}, 0},
    {FIXTURE("utf16.opml"), "UTF-16 export", 2,
	{
	    "https://meduza.io/rss/"
	    "all|\xd0\x9c\xd0\xb5\xd0\xb4\xd1\x83\xd0\xb7\xd0\xb0|"
	    "\xd0\xbd\xd0\xbe\xd0\xb2\xd0\xbe\xd1\x81\xd1\x82\xd0\xb8",
	    "https://example.jp/"
	    "atom.xml|\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83"
	    "\x95\xe3\x82\xa3\xe3\x83\xbc\xe3\x83\x89|"
	    "\xd0\xbd\xd0\xbe\xd0\xb2\xd0\xbe\xd1\x81\xd1\x82\xd0\xb8",
	},
	{{0, 0, 0}}, 0},
};

/* Each reader's export: the feeds, their names and tags, every note. */
static void
test_readers(void **state)
{
	const struct reader_case *c;
	struct cmd_opml_entry *entries;
	struct opml *o;
	char *cause, *s;
	size_t i, j, n, want_n;

	for (i = 0; i < sizeof reader_cases / sizeof reader_cases[0]; i++) {
		c = &reader_cases[i];
		o = parse_fixture(c->file, &cause);
		if (o == NULL)
			fail_msg("%s: %s", c->file, cause);
		assert_string_equal(o->title, c->title);
		assert_int_equal(o->version_major, c->version);
		assert_int_equal(o->denied_loads, 0);
		assert_int_equal(o->nnotes, c->nnotes);
		for (j = 0; j < c->nnotes; j++) {
			assert_int_equal(o->notes[j].kind, c->notes[j].kind);
			assert_int_equal(o->notes[j].line, c->notes[j].line);
			assert_int_equal(
			    o->notes[j].first_line, c->notes[j].first_line);
		}
		n = cmd_opml_entries(o, NULL, NULL, "f.opml", NULL, &entries);
		for (want_n = 0; c->entries[want_n] != NULL; want_n++)
			;
		assert_int_equal(n, want_n);
		for (j = 0; j < n; j++) {
			s = entry_string(&entries[j]);
			if (strcmp(s, c->entries[j]) != 0)
				fail_msg("%s entry %zu:\n got  %s\n want %s",
				    c->file, j, s, c->entries[j]);
			free(s);
		}
		cmd_opml_entries_free(entries, n);
		opml_free(o);
	}
}

/* Raw folder names and categories, before they become tags. */
static void
test_folders_and_categories(void **state)
{
	static const char doc[] =
	    "<opml version=\"2.0\"><head/><body>\n"
	    "<outline text=\"Top\">\n"
	    " <outline title=\"Inner\" text=\"ignored\">\n"
	    "  <outline xmlUrl=\"http://a.example/\" category=\"/Boston/"
	    "Weather, Top,x\" text=\"A\"/>\n"
	    " </outline>\n"
	    " <outline type=\"rss\" text=\"no url\"/>\n"
	    " <outline type=\"include\" text=\"other\" "
	    "url=\"http://example.org/x.opml\"/>\n"
	    "</outline>\n"
	    "<outline XMLURL=\"HTTPS://b.example/feed\" TEXT=\"B\"/>\n"
	    "<outline xmlUrl=\"http:///nohost\"/>\n"
	    "<outline xmlUrl=\"http://c.example/a b\"/>\n"
	    "<outline xmlUrl=\"   \" text=\"blank url\"/>\n"
	    "<outline xmlUrl=\"https://d.example:port/\"/>\n"
	    "</body></opml>\n";
	struct opml *o;
	char *cause;

	o = opml_parse(doc, sizeof doc - 1, "f.opml", &cause);
	assert_non_null(o);
	assert_null(o->title);
	assert_int_equal(o->nfeeds, 2);
	assert_string_equal(o->feeds[0].url, "http://a.example/");
	assert_string_equal(o->feeds[0].title, "A");
	assert_int_equal(o->feeds[0].line, 4);
	assert_int_equal(o->feeds[0].ntags, 5);
	assert_string_equal(o->feeds[0].tags[0], "Top");
	assert_string_equal(o->feeds[0].tags[1], "Inner");
	assert_string_equal(o->feeds[0].tags[2], "Boston");
	assert_string_equal(o->feeds[0].tags[3], "Weather");
	assert_string_equal(o->feeds[0].tags[4], "x");
	/* attribute names without case; the scheme in lower case */
	assert_string_equal(o->feeds[1].url, "https://b.example/feed");
	assert_string_equal(o->feeds[1].title, "B");
	assert_int_equal(o->feeds[1].ntags, 0);
	assert_int_equal(o->nnotes, 6);
	assert_int_equal(o->notes[0].kind, OPML_NOTE_NOT_FEED);
	assert_int_equal(o->notes[0].line, 6);
	assert_string_equal(o->notes[0].text, "no url");
	assert_int_equal(o->notes[1].kind, OPML_NOTE_INCLUDE);
	assert_int_equal(o->notes[1].line, 7);
	assert_int_equal(o->notes[2].kind, OPML_NOTE_BAD_URL);
	assert_int_equal(o->notes[2].line, 10);
	assert_int_equal(o->notes[3].kind, OPML_NOTE_BAD_URL);
	assert_int_equal(o->notes[3].line, 11);
	assert_int_equal(o->notes[4].kind, OPML_NOTE_NOT_FEED);
	assert_string_equal(o->notes[4].text, "blank url");
	/* what the configuration would refuse (libcurl's URL parser) */
	assert_int_equal(o->notes[5].kind, OPML_NOTE_BAD_URL);
	assert_int_equal(o->notes[5].line, 13);
	opml_free(o);
}

struct listener {
	int fd;
	int port;
};

static void
listener_open(struct listener *l)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(l->fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l->fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(l->fd, 16), 0);
	assert_int_equal(getsockname(l->fd, (struct sockaddr *)&sin, &len), 0);
	l->port = ntohs(sin.sin_port);
}

/* Connections the listener has seen (accepted now, non-blocking). */
static int
listener_connections(struct listener *l)
{
	int n = 0, fd;

	while ((fd = accept(l->fd, NULL, NULL)) >= 0) {
		close(fd);
		n++;
	}
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	return n;
}

/* A fixture with @PORT@ replaced by port. */
static char *
fixture_with_port(const char *name, int port, size_t *len)
{
	char *data = read_file(name, len), *at;
	struct buf b;
	const char *p = data;

	buf_init(&b, 1 << 20);
	while ((at = strstr(p, "@PORT@")) != NULL) {
		buf_add(&b, p, (size_t)(at - p));
		buf_printf(&b, "%d", port);
		p = at + 6;
	}
	buf_addstr(&b, p);
	free(data);
	return buf_take(&b, len);
}

static void
test_listener_sees_connections(void **state)
{
	struct listener l;
	struct sockaddr_in sin;
	int fd;

	/* the check itself: a connection made is counted */
	listener_open(&l);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)l.port);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listener_connections(&l), 1);
	close(fd);
	close(l.fd);
}

/* External entities and DTDs: never fetched, never expanded. */
static void
test_external_entities(void **state)
{
	static const struct {
		const char *file;
		int ok;
		unsigned line;
	} cases[] = {
	    {FIXTURE("xxe-entity.opml.in"), 0, 3},
	    {FIXTURE("xxe-parameter.opml.in"), 0, 3},
	    {FIXTURE("xxe-dtd.opml.in"), 1, 0},
	};
	struct listener l;
	struct opml *o;
	char *data, *cause, want[64];
	size_t i, len;

	listener_open(&l);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		data = fixture_with_port(cases[i].file, l.port, &len);
		o = opml_parse(data, len, "x.opml", &cause);
		free(data);
		if (!cases[i].ok) {
			assert_null(o);
			snprintf(want, sizeof want, "x.opml:%u: entity declara",
			    cases[i].line);
			if (strncmp(cause, want, strlen(want)) != 0)
				fail_msg("%s: %s", cases[i].file, cause);
			free(cause);
		} else {
			if (o == NULL)
				fail_msg("%s: %s", cases[i].file, cause);
			assert_int_equal(o->nfeeds, 2);
			/* the undeclared entity is left out, not looked up */
			assert_string_equal(o->feeds[0].title, "Feed  title");
			opml_free(o);
		}
		assert_int_equal(listener_connections(&l), 0);
	}
	close(l.fd);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_billion_laughs(void **state)
{
	struct opml *o;
	char *cause;
	double t0 = now(), elapsed;

	o = parse_fixture(FIXTURE("billion-laughs.opml"), &cause);
	elapsed = now() - t0;
	assert_null(o);
	assert_string_equal(cause,
	    "f.opml:3: entity declarations are not allowed (<!ENTITY lol>); "
	    "the file was not read");
	free(cause);
	/* refused at the first declaration: microseconds, even in ASan */
	if (elapsed > 0.2)
		fail_msg("billion laughs took %.3f s", elapsed);
}

/* A document of n nested or sibling outlines. */
static char *
make_outlines(size_t n, int nested, size_t *len)
{
	struct buf b;
	size_t i;

	buf_init(&b, 64 * 1024 * 1024);
	buf_addstr(&b, "<opml version=\"2.0\"><body>\n");
	for (i = 0; i < n; i++)
		buf_printf(&b,
		    nested ? "<outline text=\"f%zu\">"
			   : "<outline xmlUrl=\"http://e/%zu\"/>\n",
		    i);
	if (nested) {
		buf_addstr(&b, "<outline xmlUrl=\"http://e.example/\"/>");
		for (i = 0; i < n; i++)
			buf_addstr(&b, "</outline>");
	}
	buf_addstr(&b, "\n</body></opml>\n");
	return buf_take(&b, len);
}

/* Broken and hostile documents: one "f.opml:LINE: message" each. */
static void
test_errors(void **state)
{
	static const struct {
		const char *doc; /* or a fixture path when it starts with / */
		const char *want;
	} cases[] = {
	    {FIXTURE("broken.opml"),
		"f.opml:7: Opening and ending tag mismatch: outline line 5 and "
		"outlin"},
	    {FIXTURE("not-opml.xml"),
		"f.opml:2: not an OPML document (the root element is <rss>)"},
	    {"", "f.opml:1: the file is empty"},
	    {"<opml version=\"2.0\">\n<head/>\n</opml>",
		"f.opml:3: not an OPML document (no <body>)"},
	    {"<opml><body>\n<outline text=\"&nbsp;\"/></body></opml>",
		"f.opml:2: Entity 'nbsp' not defined"},
	    {"<opml><body>\n<outline text=\"caf\xe9\"/></body></opml>",
		"f.opml:2: Input is not proper UTF-8"},
	    {"<opml><body><outline text=\"a\"></body></opml>",
		"f.opml:1: Opening and ending tag mismatch"},
	    {"not xml at all", "f.opml:1: Start tag expected"},
	    {"<?xml version=\"1.0\"?>\n<!DOCTYPE opml [\n<!ENTITY % p "
	     "\"x\">]><opml/>",
		"f.opml:3: entity declarations are not allowed"},
	};
	struct opml *o;
	char *cause, *data;
	size_t i, len;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (cases[i].doc[0] == '/') {
			o = parse_fixture(cases[i].doc, &cause);
		} else {
			data = xstrdup(cases[i].doc);
			o = opml_parse(data, strlen(data), "f.opml", &cause);
			free(data);
		}
		if (o != NULL)
			fail_msg("case %zu parsed", i);
		if (strncmp(cause, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, cause,
			    cases[i].want);
		free(cause);
	}

	/* the caps, each just past its limit, and just at it */
	data = make_outlines(OPML_MAX_OUTLINES, 0, &len);
	o = opml_parse(data, len, "f.opml", &cause);
	assert_non_null(o);
	assert_int_equal(o->nfeeds, OPML_MAX_OUTLINES);
	opml_free(o);
	free(data);
	data = make_outlines(OPML_MAX_OUTLINES + 1, 0, &len);
	assert_null(opml_parse(data, len, "f.opml", &cause));
	assert_string_equal(cause, "f.opml:100002: more than 100000 outlines");
	free(cause);
	free(data);

	/* opml, body, then outlines: 62 folders around a feed fit */
	data = make_outlines(OPML_MAX_DEPTH - 3, 1, &len);
	o = opml_parse(data, len, "f.opml", &cause);
	assert_non_null(o);
	assert_int_equal(o->nfeeds, 1);
	assert_int_equal(o->feeds[0].ntags, OPML_MAX_TAGS);
	assert_int_equal(o->nnotes, 1);
	assert_int_equal(o->notes[0].kind, OPML_NOTE_TAGS_CUT);
	opml_free(o);
	free(data);
	data = make_outlines(OPML_MAX_DEPTH - 2, 1, &len);
	assert_null(opml_parse(data, len, "f.opml", &cause));
	assert_string_equal(cause, "f.opml:2: elements nested deeper than 64");
	free(cause);
	free(data);
	data = make_outlines(100000, 1, &len);
	assert_null(opml_parse(data, len, "f.opml", &cause));
	assert_string_equal(cause, "f.opml:2: elements nested deeper than 64");
	free(cause);
	free(data);

	data = xmalloc(OPML_MAX_INPUT + 1);
	memset(data, ' ', OPML_MAX_INPUT + 1);
	assert_null(opml_parse(data, OPML_MAX_INPUT + 1, "f.opml", &cause));
	assert_string_equal(cause, "f.opml:1: larger than 4194304 bytes");
	free(cause);
	free(data);
}

/* Titles cut on a character boundary; urls too long refused. */
static void
test_attribute_caps(void **state)
{
	struct buf b;
	struct opml *o;
	char *cause, *doc;
	size_t i, len;

	buf_init(&b, 1 << 24);
	buf_addstr(&b,
	    "<opml><body><outline xmlUrl=\"http://a.example/\" "
	    "title=\"x");
	for (i = 0; i < OPML_MAX_TITLE; i++)
		buf_addstr(&b, "\xc3\xa9"); /* two bytes each */
	buf_addstr(&b, "\"/>\n<outline xmlUrl=\"http://b.example/");
	for (i = 0; i < OPML_MAX_URL; i++)
		buf_addc(&b, 'u');
	buf_addstr(&b, "\"/>\n<outline xmlUrl=\"http://c.example/");
	for (i = 0; i < OPML_MAX_URL - strlen("http://c.example/"); i++)
		buf_addc(&b, 'u');
	buf_addstr(&b, "\"/>\n</body></opml>");
	doc = buf_take(&b, &len);
	o = opml_parse(doc, len, "f.opml", &cause);
	free(doc);
	assert_non_null(o);
	assert_int_equal(o->nfeeds, 2);
	/* "x" then 511 whole é: 1023 bytes, the cut is on a boundary */
	assert_int_equal(strlen(o->feeds[0].title), OPML_MAX_TITLE - 1);
	assert_memory_equal(
	    o->feeds[0].title + OPML_MAX_TITLE - 3, "\xc3\xa9", 2);
	assert_int_equal(strlen(o->feeds[1].url), OPML_MAX_URL);
	assert_int_equal(o->nnotes, 1);
	assert_int_equal(o->notes[0].kind, OPML_NOTE_BAD_URL);
	assert_int_equal(o->notes[0].line, 2);
	opml_free(o);
}

/* Strings YAML would misread unless quoted: written, loaded, equal. */
static void
test_yaml_round_trip(void **state)
{
	static const char *names[] = {
	    "Key: value # not a comment",
	    "\"double\" and 'single' quotes \\ backslash",
	    "two\nlines\r\nand\ta tab",
	    "\xc3\x9cn\xc3\xaf"
	    "c\xc3\xb8"
	    "d\xc3\xa9 \xe2\x80\x94 "
	    "\xd8\xa7\xd9\x84\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\xa9 "
	    "\xf0\x9f\x98\x80",
	    "${HOME} and $${HOME} and $$${X} and $ and ${",
	    "- dash",
	    "*anchor &alias !tag %directive @at `tick` |pipe >fold",
	    "null",
	    "true",
	    "~",
	    "0x1F",
	    "1e3",
	    "[a, b]",
	    "{a: b}",
	    "---",
	    "...",
	    "? question",
	    " leading and trailing ",
	    "line\xe2\x80\xa8separator\xc2\x85next\xef\xbb\xbf"
	    "bom\xc2\x9f"
	    "c1",
	    "#hash first",
	    "a very long name "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};
	static const char *tags[] = {
	    "a: b", "#c", "${HOME}", "\xc3\xa9t\xc3\xa9", "null", "x\ny"};
	struct cmd_opml_entry entries[sizeof names / sizeof names[0] + 1];
	struct config *cf;
	char *yaml, *cause, *got, *want;
	size_t i, n = sizeof names / sizeof names[0] + 1, len;

	memset(entries, 0, sizeof entries);
	for (i = 0; i < n; i++) {
		xasprintf(&entries[i].url, "https://example.org/%zu?a=${b}", i);
		/* the writer only reads them */
		entries[i].name = i < n - 1 ? (char *)names[i] : NULL;
		entries[i].tags = (char **)tags;
		entries[i].ntags = i % (sizeof tags / sizeof tags[0] + 1);
	}
	yaml = cmd_opml_yaml(entries, n, &len, &cause);
	assert_non_null(yaml);
	assert_int_equal(strlen(yaml), len);
	cf = config_parse("feeds.yaml", yaml, len, &cause);
	if (cf == NULL)
		fail_msg("%s\n%s", cause, yaml);
	assert_int_equal(cf->nfeeds, n);
	for (i = 0; i < n; i++) {
		got = config_feed_string(&cf->feeds[i]);
		want = entry_string(&entries[i]);
		if (strcmp(got, want) != 0)
			fail_msg("feed %zu:\n got  %s\n want %s", i, got, want);
		free(got);
		free(want);
		free(entries[i].url);
	}
	config_free(cf);
	free(yaml);

	/* no feeds at all is a valid drop-in too */
	yaml = cmd_opml_yaml(NULL, 0, &len, &cause);
	assert_non_null(yaml);
	cf = config_parse("feeds.yaml", yaml, len, &cause);
	assert_non_null(cf);
	assert_int_equal(cf->nfeeds, 0);
	config_free(cf);
	free(yaml);
}

/* Feeds of an existing configuration: left out; their names taken. */
static void
test_existing_config(void **state)
{
	static const char conf[] =
	    "feeds:\n"
	    "  - url: https://krebsonsecurity.com/feed/\n"
	    "    name: Krebs\n"
	    "  - url: https://example.org/other\n"
	    "    name: The Hacker News\n";
	static const char *want[] = {
	    "https://english.ahram.org.eg/rss/world|Ahram Online - "
	    "World|middle-east,security",
	    "https://www.aljazeera.com/xml/rss/all.xml|Al Jazeera \xe2\x80\x93 "
	    "Breaking News, World News and Video from Al Jazeera|middle-east",
	    "https://www.rudaw.net/rss/english|Rudaw.net|middle-east",
	    "https://feeds.feedburner.com/TheHackersNews|The Hacker News "
	    "(2)|security",
	};
	struct cmd_opml_entry *entries;
	struct config *cf;
	struct opml *o;
	char *cause, *s, *report;
	size_t i, n, len;
	FILE *f;

	cf = config_parse("main.yaml", conf, sizeof conf - 1, &cause);
	assert_non_null(cf);
	o = parse_fixture(FIXTURE("feedly.opml"), &cause);
	assert_non_null(o);
	f = open_memstream(&report, &len);
	n = cmd_opml_entries(o, cf, NULL, "feedly.opml", f, &entries);
	fclose(f);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		s = entry_string(&entries[i]);
		assert_string_equal(s, want[i]);
		free(s);
	}
	assert_non_null(strstr(report,
	    "feedly.opml:14: https://krebsonsecurity.com/feed/ is already "
	    "configured (main.yaml:2): skipped\n"
	    "feedly.opml:15: the name \"The Hacker News\" is taken: this "
	    "feed is named \"The Hacker News (2)\"\n"
	    "feedly.opml:16: duplicate of the feed at line 9"));
	assert_non_null(strstr(report,
	    "feedly.opml: 4 feeds; left out: 2 duplicates, 0 outlines that "
	    "are not feeds, 0 refused urls, 1 already configured; 1 renamed"));
	free(report);
	cmd_opml_entries_free(entries, n);
	opml_free(o);
	config_free(cf);
}

/* Exported OPML: folders by first tag, category with every tag, every
 * string escaped by the writer and read back unchanged. */
static void
test_export(void **state)
{
	static const char *tags_ab[] = {"a", "b"}, *tags_b[] = {"b"},
			  *tags_a[] = {"a"};
	const struct opml_feed feeds[] = {
	    {"https://e.example/1", "One <&> \"quoted\"\nline", tags_ab, 2, 0},
	    {"https://e.example/2?x=1&y=2", NULL, NULL, 0, 0},
	    {"https://e.example/3", "Three", tags_b, 1, 0},
	    {"https://e.example/4", "Four", tags_a, 1, 0},
	};
	struct buf out;
	struct opml *o;
	char *cause;
	const char *body, *folder_a, *folder_b, *four, *two;

	buf_init(&out, 1 << 20);
	assert_int_equal(
	    opml_write(&out, NULL, 1700000000, feeds, 4, &cause), 0);
	body = buf_str(&out);
	assert_non_null(strstr(body, "<opml version=\"2.0\">"));
	assert_non_null(strstr(
	    body, "<dateCreated>Tue, 14 Nov 2023 22:13:20 GMT</dateCreated>"));
	assert_non_null(strstr(body, "<title>feedwatch feeds</title>"));
	assert_non_null(strstr(
	    body, "title=\"One &lt;&amp;&gt; &quot;quoted&quot;&#10;line\""));
	assert_non_null(strstr(body, "category=\"a,b\""));
	/* folder a (feeds 1 and 4), then feed 2, then folder b (feed 3) */
	folder_a = strstr(body, "<outline text=\"a\" title=\"a\">");
	folder_b = strstr(body, "<outline text=\"b\" title=\"b\">");
	four = strstr(body, "https://e.example/4");
	two = strstr(body, "https://e.example/2");
	assert_non_null(folder_a);
	assert_non_null(folder_b);
	assert_true(folder_a < four && four < two && two < folder_b);
	assert_non_null(
	    strstr(body, "text=\"https://e.example/2?x=1&amp;y=2\""));

	o = opml_parse(body, out.len, "export.opml", &cause);
	assert_non_null(o);
	assert_int_equal(o->nfeeds, 4);
	assert_string_equal(o->feeds[0].title, "One <&> \"quoted\"\nline");
	assert_int_equal(o->feeds[0].ntags, 2);
	assert_string_equal(o->feeds[0].tags[0], "a");
	assert_string_equal(o->feeds[0].tags[1], "b");
	assert_string_equal(o->feeds[1].url, "https://e.example/4");
	assert_string_equal(o->feeds[2].url, "https://e.example/2?x=1&y=2");
	/* an untitled feed is written with its url as title */
	assert_string_equal(o->feeds[2].title, "https://e.example/2?x=1&y=2");
	assert_int_equal(o->nnotes, 0);
	opml_free(o);
	buf_free(&out);

	/* a url XML cannot carry is an error; a title is mended */
	const struct opml_feed bad[] = {
	    {"https://e.example/\xff", "x", NULL, 0, 0},
	    {"https://e.example/\x01", "x", NULL, 0, 0},
	};
	const struct opml_feed mended = {"https://e.example/",
	    "a\x01\xff\xef\xbf\xbe"
	    "b",
	    tags_a, 1, 0};
	buf_init(&out, 1 << 20);
	assert_int_equal(opml_write(&out, NULL, 0, &bad[0], 1, &cause), -1);
	assert_non_null(strstr(cause, "not UTF-8 text XML can carry"));
	free(cause);
	assert_int_equal(opml_write(&out, NULL, 0, &bad[1], 1, &cause), -1);
	free(cause);
	assert_int_equal(out.len, 0);
	assert_int_equal(opml_write(&out, "t\x02", 0, &mended, 1, &cause), 0);
	o = opml_parse(buf_str(&out), out.len, "export.opml", &cause);
	assert_non_null(o);
	assert_string_equal(o->title, "t\xef\xbf\xbd");
	assert_string_equal(o->feeds[0].title,
	    "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "b");
	opml_free(o);
	buf_free(&out);
}

/* The command line: a scratch folder and a runner of the binary. */

static char scratch[64];

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
setup_scratch(void **state)
{
	strcpy(scratch, "/tmp/fw-opml-XXXXXX");
	assert_non_null(mkdtemp(scratch));
	return 0;
}

static int
teardown_scratch(void **state)
{
	nftw(scratch, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Run feedwatch with args (NULL-terminated); stdout and stderr kept in
 * the scratch folder. Returns the exit status. */
static int
run(char **out, char **err, ...)
{
	char *argv[16], opath[128], epath[128], binary[] = FW_BINARY;
	va_list ap;
	int argc = 0, status, fd;
	pid_t pid;
	size_t len;

	argv[argc++] = binary;
	va_start(ap, err);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	snprintf(opath, sizeof opath, "%s/.stdout", scratch);
	snprintf(epath, sizeof epath, "%s/.stderr", scratch);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fd = open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		fd = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (out != NULL)
		*out = read_file(opath, &len);
	if (err != NULL)
		*err = read_file(epath, &len);
	return WEXITSTATUS(status);
}

static char *
scratch_path(const char *name)
{
	char *path;

	xasprintf(&path, "%s/%s", scratch, name);
	return path;
}

/* A configuration folder: DIR/feedwatch.yaml with a store only. */
static char *
make_config(const char *dir)
{
	char *d = scratch_path(dir), *conf;
	static const char text[] = "store: state.db\n";

	assert_int_equal(mkdir(d, 0755), 0);
	xasprintf(&conf, "%s/feedwatch.yaml", d);
	write_file(conf, text, sizeof text - 1);
	free(d);
	return conf;
}

static struct config *
load(const char *conf)
{
	struct config *cf;
	char *cause;

	if ((cf = config_load(conf, &cause)) == NULL)
		fail_msg("%s", cause);
	return cf;
}

/* titles.opml through the binary: the loader reads back every title. */
static void
test_cli_titles(void **state)
{
	static const char *want[] = {
	    "Key: value # not a comment",
	    "\"double\" and 'single' quotes \\ backslash",
	    "two\nlines\r\nand\ta tab",
	    "\xc3\x9cn\xc3\xaf"
	    "c\xc3\xb8"
	    "d\xc3\xa9 \xe2\x80\x94 "
	    "\xd8\xa7\xd9\x84\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\xa9 "
	    "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80",
	    "${HOME} and $${HOME} and $$${X}",
	    "- dash",
	    "*anchor &alias !tag %directive @at `tick` |pipe >fold",
	    "null",
	    "true",
	    "0x1F",
	    "[a, b]",
	    "{a: b}",
	    "---",
	    "? question",
	    "line\xe2\x80\xa8separator\xc2\x85next\xef\xbb\xbf"
	    "bom\xc2\x9f"
	    "c1",
	    "~",
	    "Same name",
	    "Same name (2)",
	    "https://example.org/20",
	    "https://example.org/20 (2)",
	};
	struct config *cf;
	char *conf, *feeds, *err, *url;
	size_t i;

	conf = make_config("titles");
	feeds = scratch_path("titles/conf.d/feeds.yaml");
	assert_int_equal(run(NULL, &err, "import-opml", FIXTURE("titles.opml"),
			     "-o", feeds, NULL),
	    0);
	assert_non_null(strstr(err,
	    "titles.opml:23: the name \"Same name\" is taken: this feed is "
	    "named \"Same name (2)\""));
	free(err);
	cf = load(conf);
	assert_int_equal(cf->nfeeds, sizeof want / sizeof want[0]);
	for (i = 0; i < cf->nfeeds; i++) {
		xasprintf(&url, "https://example.org/%zu%s", i + 1,
		    i == 4 ? "?q=${HOME}" : "");
		assert_string_equal(cf->feeds[i].url, url);
		assert_string_equal(cf->feeds[i].name, want[i]);
		free(url);
	}
	config_free(cf);
	free(conf);
	free(feeds);
}

/* Exit codes, messages, -o without and with --force, -c. */
static void
test_cli(void **state)
{
	struct config *cf;
	char *conf, *feeds, *out, *err, *before, *after, *bad;
	size_t len;

	/* a broken file: FILE:LINE: message, exit 1 */
	assert_int_equal(
	    run(NULL, &err, "import-opml", FIXTURE("broken.opml"), NULL), 1);
	assert_non_null(strstr(err, "/opml/broken.opml:7: Opening and ending"));
	free(err);
	assert_int_equal(run(NULL, &err, "import-opml",
			     FIXTURE("billion-laughs.opml"), NULL),
	    1);
	assert_non_null(strstr(err, "billion-laughs.opml:3: entity"));
	free(err);
	assert_int_equal(
	    run(NULL, &err, "import-opml", "/nonexistent.opml", NULL), 1);
	assert_non_null(strstr(err, "/nonexistent.opml: No such file"));
	free(err);
	bad = scratch_path("big.opml");
	out = xcalloc(1, OPML_MAX_INPUT + 10);
	memset(out, ' ', OPML_MAX_INPUT + 10);
	write_file(bad, out, OPML_MAX_INPUT + 10);
	free(out);
	assert_int_equal(run(NULL, &err, "import-opml", bad, NULL), 1);
	assert_non_null(strstr(err, "big.opml: larger than 4194304 bytes"));
	free(err);
	free(bad);
	/* usage */
	assert_int_equal(run(NULL, NULL, "import-opml", NULL), 2);
	assert_int_equal(run(NULL, NULL, "import-opml", "a", "b", NULL), 2);
	assert_int_equal(run(NULL, NULL, "export-opml", "x", NULL), 2);

	/* to stdout, the report on stderr */
	assert_int_equal(
	    run(&out, &err, "import-opml", FIXTURE("newsboat.opml"), NULL), 0);
	assert_non_null(strstr(out,
	    "feeds:\n- url: \"https://lwn.net/headlines/rss\"\n  name: "
	    "\"LWN.net\"\n- url: \"https://www.debian.org/News/news\"\n"));
	assert_non_null(strstr(err,
	    "newsboat.opml:9: feed url \"exec:~/.newsboat/scripts/"
	    "hackernews.sh\" refused: only http:// and https:// urls are "
	    "imported\n"));
	assert_non_null(strstr(err,
	    "newsboat.opml:12: duplicate of the feed at line 7 "
	    "(https://lwn.net/headlines/rss): skipped"));
	free(out);
	free(err);

	/* -o: written; not replaced without --force */
	conf = make_config("cli");
	feeds = scratch_path("cli/conf.d/feeds.yaml");
	assert_int_equal(run(NULL, NULL, "import-opml", FIXTURE("feedly.opml"),
			     "-o", feeds, NULL),
	    0);
	before = read_file(feeds, &len);
	assert_int_equal(run(NULL, &err, "import-opml",
			     FIXTURE("newsboat.opml"), "-o", feeds, NULL),
	    1);
	assert_non_null(strstr(err, "exists; use --force to replace it"));
	free(err);
	after = read_file(feeds, &len);
	assert_string_equal(before, after);
	free(after);
	cf = load(conf);
	assert_int_equal(cf->nfeeds, 5);
	config_free(cf);

	/* -c: the feeds of the configuration are left out; the file being
	 * replaced does not count */
	assert_int_equal(run(&out, &err, "-c", conf, "import-opml",
			     FIXTURE("feedly.opml"), NULL),
	    0);
	assert_non_null(strstr(out, "feeds: []"));
	assert_non_null(strstr(err, "5 already configured"));
	free(out);
	free(err);
	assert_int_equal(run(NULL, &err, "import-opml", FIXTURE("feedly.opml"),
			     "-c", conf, "--force", "-o", feeds, NULL),
	    0);
	assert_non_null(strstr(err, "0 already configured"));
	free(err);
	after = read_file(feeds, &len);
	assert_string_equal(before, after);
	free(after);
	free(before);
	assert_int_equal(
	    run(NULL, &err, "import-opml", FIXTURE("newsboat.opml"), "--force",
		"-o", feeds, NULL),
	    0);
	free(err);
	cf = load(conf);
	assert_int_equal(cf->nfeeds, 2);
	config_free(cf);
	/* no temporary file left behind */
	bad = scratch_path("cli/conf.d");
	xasprintf(&out, "ls -A '%s' | grep -v '^feeds.yaml$' | grep -q .", bad);
	assert_int_not_equal(system(out), 0);
	free(out);
	free(bad);
	/* a configuration that does not load: said, then imported anyway */
	bad = scratch_path("none.yaml");
	assert_int_equal(run(&out, &err, "-c", bad, "import-opml",
			     FIXTURE("newsboat.opml"), NULL),
	    0);
	assert_non_null(strstr(err, "does not load"));
	assert_non_null(strstr(out, "lwn.net"));
	free(out);
	free(err);
	free(bad);

	/* export: a file feed is named and left out */
	bad = scratch_path("cli/conf.d/local.yaml");
	write_file(bad, "feeds:\n  - url: file:///tmp/x.xml\n",
	    strlen("feeds:\n  - url: file:///tmp/x.xml\n"));
	assert_int_equal(run(&out, &err, "-c", conf, "export-opml", NULL), 0);
	assert_non_null(strstr(err,
	    "local.yaml:2: file:///tmp/x.xml is not an http or https url: "
	    "not exported"));
	assert_non_null(
	    strstr(out, "xmlUrl=\"https://lwn.net/headlines/rss\""));
	free(out);
	free(err);
	free(bad);
	free(feeds);
	free(conf);
}

/* Import, export, import: the same feeds, names and tags. */
static void
test_round_trip(void **state)
{
	static const char *files[] = {
	    FIXTURE("feedly.opml"),
	    FIXTURE("inoreader.xml"),
	    FIXTURE("newsblur.opml"),
	    FIXTURE("miniflux.opml"),
	    FIXTURE("freshrss.opml.xml"),
	    FIXTURE("newsboat.opml"),
	    FIXTURE("thunderbird.opml"),
	    FIXTURE("latin1.opml"),
	    FIXTURE("utf16.opml"),
	    FIXTURE("titles.opml"),
	};
	struct config *first, *second;
	char *conf1, *conf2, *feeds1, *feeds2, *exported, *dir, *a, *b;
	size_t i, j, k;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		xasprintf(&dir, "rt%zu", i);
		conf1 = make_config(dir);
		free(dir);
		xasprintf(&dir, "rt%zu-again", i);
		conf2 = make_config(dir);
		free(dir);
		xasprintf(&feeds1, "%.*s/conf.d/feeds.yaml",
		    (int)(strrchr(conf1, '/') - conf1), conf1);
		xasprintf(&feeds2, "%.*s/conf.d/feeds.yaml",
		    (int)(strrchr(conf2, '/') - conf2), conf2);
		xasprintf(&exported, "%s/rt%zu.opml", scratch, i);
		assert_int_equal(run(NULL, NULL, "import-opml", files[i], "-o",
				     feeds1, NULL),
		    0);
		assert_int_equal(run(NULL, NULL, "-c", conf1, "export-opml",
				     "-o", exported, NULL),
		    0);
		assert_int_equal(run(NULL, NULL, "import-opml", exported, "-o",
				     feeds2, NULL),
		    0);
		first = load(conf1);
		second = load(conf2);
		assert_true(first->nfeeds > 0);
		assert_int_equal(first->nfeeds, second->nfeeds);
		/* export groups feeds by folder: compare by url */
		for (j = 0; j < first->nfeeds; j++) {
			a = config_feed_string(&first->feeds[j]);
			for (k = 0; k < second->nfeeds; k++)
				if (strcmp(first->feeds[j].url,
					second->feeds[k].url) == 0)
					break;
			if (k == second->nfeeds)
				fail_msg("%s: %s lost", files[i], a);
			b = config_feed_string(&second->feeds[k]);
			if (strcmp(a, b) != 0)
				fail_msg("%s:\n first  %s\n second %s",
				    files[i], a, b);
			free(a);
			free(b);
		}
		config_free(first);
		config_free(second);
		free(conf1);
		free(conf2);
		free(feeds1);
		free(feeds2);
		free(exported);
	}
}

/* The binary on the external-entity files: refused or read, and the
 * listener named in them sees no connection. */
static void
test_cli_external_entities(void **state)
{
	static const char *files[] = {
	    FIXTURE("xxe-entity.opml.in"),
	    FIXTURE("xxe-parameter.opml.in"),
	    FIXTURE("xxe-dtd.opml.in"),
	};
	static const int want[] = {1, 1, 0};
	struct listener l;
	char *data, *path, *err;
	size_t i, len;

	listener_open(&l);
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		data = fixture_with_port(files[i], l.port, &len);
		xasprintf(&path, "%s/xxe%zu.opml", scratch, i);
		write_file(path, data, len);
		assert_int_equal(
		    run(NULL, &err, "import-opml", path, NULL), want[i]);
		assert_null(strstr(err, "127.0.0.1"));
		free(err);
		free(data);
		free(path);
		assert_int_equal(listener_connections(&l), 0);
	}
	close(l.fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_readers),
	    cmocka_unit_test(test_folders_and_categories),
	    cmocka_unit_test(test_listener_sees_connections),
	    cmocka_unit_test(test_external_entities),
	    cmocka_unit_test(test_billion_laughs),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_attribute_caps),
	    cmocka_unit_test(test_yaml_round_trip),
	    cmocka_unit_test(test_existing_config),
	    cmocka_unit_test(test_export),
	    cmocka_unit_test_setup_teardown(
		test_cli_titles, setup_scratch, teardown_scratch),
	    cmocka_unit_test_setup_teardown(
		test_cli, setup_scratch, teardown_scratch),
	    cmocka_unit_test_setup_teardown(
		test_round_trip, setup_scratch, teardown_scratch),
	    cmocka_unit_test_setup_teardown(
		test_cli_external_entities, setup_scratch, teardown_scratch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

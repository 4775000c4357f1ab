/*
 * feedwatch parse: parse one feed and print it, either as a short summary
 * or (--json) as the normalized record of docs/parse.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "date.h"
#include "log.h"
#include "parse.h"
#include "urlfetch.h"
#include "xmalloc.h"

/* Bytes read from the file per push, as a fetch would deliver them. */
#define CMD_PARSE_CHUNK 65536
/* --header options accepted. */
#define CMD_PARSE_HEADERS_MAX 32

static void
cmd_parse_usage(void)
{
	fprintf(stderr,
	    "usage: feedwatch parse [--json] "
	    "[--header 'Name: value']... FILE\n");
}

/* A JSON string, or null for NULL; invalid UTF-8 is never emitted. */
static json_t *
cmd_parse_str(const char *s)
{
	json_t *v;
	char *esc;
	size_t len;

	if (s == NULL)
		return json_null();
	if ((v = json_string(s)) != NULL)
		return v;
	len = strlen(s) * 4 + 1;
	esc = xmalloc(len);
	log_escapes(esc, len, s);
	v = json_string(esc);
	free(esc);
	return v != NULL ? v : json_null();
}

static json_t *
cmd_parse_time(int64_t t)
{
	char buf[DATE_FORMAT_LEN];

	if (t == ITEM_TIME_NONE || date_format(t, buf, sizeof buf) == NULL)
		return json_null();
	return json_string(buf);
}

static json_t *
cmd_parse_item_json(const struct item *it)
{
	json_t *o = json_object(), *cats = json_array(), *encs = json_array();
	json_t *e;
	size_t i;

	json_object_set_new(o, "key", cmd_parse_str(it->key));
	json_object_set_new(o, "id", cmd_parse_str(it->id));
	json_object_set_new(o, "title", cmd_parse_str(it->title_text));
	json_object_set_new(o, "link", cmd_parse_str(it->link));
	json_object_set_new(o, "published", cmd_parse_time(it->published));
	json_object_set_new(o, "updated", cmd_parse_time(it->updated));
	json_object_set_new(o, "author", cmd_parse_str(it->author));
	json_object_set_new(o, "author_email", cmd_parse_str(it->author_email));
	json_object_set_new(o, "summary", cmd_parse_str(it->summary_text));
	json_object_set_new(o, "content", cmd_parse_str(it->content_text));
	for (i = 0; i < it->ncategories; i++)
		json_array_append_new(cats, cmd_parse_str(it->categories[i]));
	json_object_set_new(o, "categories", cats);
	for (i = 0; i < it->nenclosures; i++) {
		e = json_object();
		json_object_set_new(
		    e, "url", cmd_parse_str(it->enclosures[i].url));
		json_object_set_new(
		    e, "type", cmd_parse_str(it->enclosures[i].type));
		json_object_set_new(
		    e, "length", cmd_parse_str(it->enclosures[i].length));
		json_array_append_new(encs, e);
	}
	json_object_set_new(o, "enclosures", encs);
	return o;
}

static int
cmd_parse_print_json(const char *file, const struct feed_doc *doc)
{
	json_t *root = json_object(), *feed = json_object();
	json_t *entries = json_array();
	size_t i;
	int r;

	json_object_set_new(root, "schema", json_string("feedcorpus/1"));
	json_object_set_new(root, "file", cmd_parse_str(file));
	json_object_set_new(
	    root, "format", json_string(feed_format_name(doc->format)));
	json_object_set_new(root, "bozo", json_boolean(doc->bozo));
	json_object_set_new(
	    root, "bozo_reason", cmd_parse_str(doc->bozo_reason));
	json_object_set_new(root, "truncated", json_boolean(doc->truncated));
	json_object_set_new(feed, "title", cmd_parse_str(doc->title));
	json_object_set_new(feed, "link", cmd_parse_str(doc->link));
	if (doc->ttl > 0)
		json_object_set_new(feed, "ttl", json_integer(doc->ttl));
	json_object_set_new(root, "feed", feed);
	for (i = 0; i < doc->nitems; i++)
		json_array_append_new(
		    entries, cmd_parse_item_json(&doc->items[i]));
	json_object_set_new(root, "entries", entries);
	r = json_dumpf(root, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(root);
	return r == 0 ? 0 : 1;
}

static void
cmd_parse_print_text(const struct feed_doc *doc)
{
	char esc[512], when[DATE_FORMAT_LEN];
	const struct item *it;
	size_t i;

	printf("format: %s%s\n", feed_format_name(doc->format),
	    doc->bozo ? " (ill-formed)" : "");
	if (doc->bozo)
		printf("bozo:   %s\n",
		    log_escapes(esc, sizeof esc, doc->bozo_reason));
	if (doc->cut_short)
		printf("cut:    the body ends before its root's end tag "
		       "(a first poll's baseline stays open)\n");
	printf("title:  %s\n", log_escapes(esc, sizeof esc, doc->title));
	printf("link:   %s\n", log_escapes(esc, sizeof esc, doc->link));
	printf("items:  %zu%s\n", doc->nitems,
	    doc->truncated ? " (truncated)" : "");
	for (i = 0; i < doc->nitems; i++) {
		it = &doc->items[i];
		if (date_format(it->published != ITEM_TIME_NONE ? it->published
								: it->updated,
			when, sizeof when) == NULL)
			strcpy(when, "-");
		printf("  %-20s %s\n", when,
		    log_escapes(esc, sizeof esc, it->title_text));
		printf(
		    "  %-20s %s\n", "", log_escapes(esc, sizeof esc, it->link));
	}
}

int
cmd_parse(int argc, char **argv, const struct cmd_globals *g)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"header", required_argument, NULL, 'H'},
	    {NULL, 0, NULL, 0},
	};
	const char *headers[CMD_PARSE_HEADERS_MAX], *file;
	struct feedparse *p;
	struct feed_doc *doc;
	size_t nheaders = 0, i, n;
	char *buf, *cause = NULL, *name, *value;
	int ch, json = 0, fd, r;
	ssize_t got;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "jH:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'H':
			if (nheaders == CMD_PARSE_HEADERS_MAX ||
			    strchr(optarg, ':') == NULL) {
				fprintf(stderr,
				    "feedwatch parse: bad --header \"%s\" "
				    "(want 'Name: value', at most %d)\n",
				    optarg, CMD_PARSE_HEADERS_MAX);
				return 2;
			}
			headers[nheaders++] = optarg;
			break;
		default:
			cmd_parse_usage();
			return 2;
		}
	}
	if (optind != argc - 1) {
		cmd_parse_usage();
		return 2;
	}
	file = argv[optind];
	if (strncmp(file, "file://", 7) == 0)
		file += 7;
	if (urlfetch_is_url(file))
		fd = -1;
	else if (strcmp(file, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "%s: %s\n", file, strerror(errno));
		return 1;
	}
	p = feedparse_new(fd == -1 ? file : NULL);
	for (i = 0; i < nheaders; i++) {
		n = (size_t)(strchr(headers[i], ':') - headers[i]);
		name = xstrndup(headers[i], n);
		value = xstrdup(headers[i] + n + 1);
		while (*value == ' ' || *value == '\t')
			memmove(value, value + 1, strlen(value));
		feedparse_header(p, name, value);
		free(name);
		free(value);
	}
	r = 0;
	if (fd == -1 && urlfetch(file, p, &cause) == -1) {
		fprintf(stderr, "%s: %s\n", file, cause);
		free(cause);
		feedparse_free(p);
		return 1;
	}
	buf = xmalloc(CMD_PARSE_CHUNK);
	while (fd != -1 && (got = read(fd, buf, CMD_PARSE_CHUNK)) != 0) {
		if (got == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: %s\n", file, strerror(errno));
			r = -1;
			break;
		}
		if (feedparse_push(p, buf, (size_t)got) == -1)
			break;
	}
	free(buf);
	if (fd != STDIN_FILENO && fd != -1)
		close(fd);
	if (r == -1) {
		feedparse_free(p);
		return 1;
	}
	doc = feedparse_finish(p, &cause);
	feedparse_free(p);
	if (doc == NULL) {
		fprintf(stderr, "%s: %s\n", file, cause);
		free(cause);
		return 1;
	}
	if (json)
		r = cmd_parse_print_json(file, doc);
	else
		cmd_parse_print_text(doc);
	feed_doc_free(doc);
	(void)g;
	return r;
}

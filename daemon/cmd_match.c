/*
 * feedwatch match: run the configured watchlists over one feed file and
 * print each item that would alert and why (every hit: term, entity,
 * alias, field, offsets, snippet); with --explain, also the near misses
 * and the part of the query that failed. A configuration with only
 * entities and watchlists is enough.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "matcher.h"
#include "parse.h"
#include "readall.h"
#include "urlfetch.h"
#include "xmalloc.h"

/* Bytes shown of an item's title or a snippet in text output. */
#define CMD_MATCH_SHOWN 512

static void
cmd_match_usage(void)
{
	fprintf(stderr,
	    "usage: feedwatch match [-c CONFIG] [--watchlist NAME] "
	    "[--explain] [--json] FILE|URL\n");
}

/* The path of a file:// URL, %XX decoded, in PATH (SIZE bytes); -1 if
 * it is none or too long. */
static int
cmd_match_url_path(const char *url, char *path, size_t size)
{
	const char *s;
	size_t n = 0;
	unsigned int c;

	if (strncmp(url, "file://", 7) != 0 || url[7] != '/')
		return -1;
	for (s = url + 7; *s != '\0'; s++) {
		if (n + 1 >= size)
			return -1;
		if (s[0] == '%' && isxdigit((unsigned char)s[1]) &&
		    isxdigit((unsigned char)s[2]) &&
		    sscanf(s + 1, "%2x", &c) == 1 && c != 0) {
			path[n++] = (char)c;
			s += 2;
		} else
			path[n++] = *s;
	}
	path[n] = '\0';
	return 0;
}

/* The feed's name: the configured feed whose URL is the argument, or
 * whose file: URL names the same file (its path resolved, as the
 * argument's), else the feed's own title. */
static const char *
cmd_match_feed_name(
    const struct config *cf, const char *arg, const struct feed_doc *doc)
{
	char path[PATH_MAX], want[PATH_MAX], real[PATH_MAX];
	size_t i;
	int file;

	for (i = 0; i < cf->nfeeds; i++)
		if (strcmp(cf->feeds[i].url, arg) == 0)
			return cf->feeds[i].name;
	file = !urlfetch_is_url(arg) && realpath(arg, want) != NULL;
	for (i = 0; file && i < cf->nfeeds; i++)
		if (cmd_match_url_path(cf->feeds[i].url, path, sizeof path) ==
			0 &&
		    realpath(path, real) != NULL && strcmp(real, want) == 0)
			return cf->feeds[i].name;
	return doc->title;
}

static json_t *
cmd_match_str(const char *s)
{
	json_t *v;
	char *esc;
	size_t len;

	if (s == NULL)
		return json_null();
	if ((v = json_string(s)) != NULL)
		return v;
	len = strlen(s) * 4 + 1; /* not UTF-8: escape it */
	esc = xmalloc(len);
	log_escapes(esc, len, s);
	v = json_string(esc);
	free(esc);
	return v != NULL ? v : json_null();
}

static int
cmd_match_json(const struct item *it, const struct matcher_match *mm)
{
	json_t *o = json_object(), *item = json_object(), *hits = json_array();
	json_t *h;
	const struct matcher_hit *hit;
	size_t i;
	char *line;
	int rc;

	json_object_set_new(item, "id", cmd_match_str(it->id));
	json_object_set_new(item, "title", cmd_match_str(it->title_text));
	json_object_set_new(item, "link", cmd_match_str(it->link));
	json_object_set_new(o, "item", item);
	json_object_set_new(o, "watchlist", cmd_match_str(mm->watchlist));
	json_object_set_new(o, "matched", json_boolean(mm->matched));
	for (i = 0; i < mm->nhits; i++) {
		hit = &mm->hits[i];
		h = json_object();
		json_object_set_new(h, "term", cmd_match_str(hit->term));
		json_object_set_new(h, "entity", cmd_match_str(hit->entity));
		json_object_set_new(h, "alias", cmd_match_str(hit->alias));
		json_object_set_new(h, "field", cmd_match_str(hit->field));
		if (strcmp(hit->field, "category") == 0)
			json_object_set_new(h, "category",
			    json_integer((json_int_t)hit->category));
		json_object_set_new(
		    h, "start", json_integer((json_int_t)hit->start));
		json_object_set_new(
		    h, "end", json_integer((json_int_t)hit->end));
		json_object_set_new(h, "snippet", cmd_match_str(hit->snippet));
		json_array_append_new(hits, h);
	}
	json_object_set_new(o, "hits", hits);
	if (mm->nhits_total > mm->nhits)
		json_object_set_new(
		    o, "hits_total", json_integer((json_int_t)mm->nhits_total));
	if (!mm->matched)
		json_object_set_new(o, "explain", cmd_match_str(mm->explain));
	line = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (line == NULL)
		return -1;
	rc = printf("%s\n", line) < 0 ? -1 : 0;
	free(line);
	return rc;
}

static void
cmd_match_text(
    size_t index, const struct item *it, const struct matcher_result *res)
{
	const struct matcher_match *mm;
	const struct matcher_hit *h;
	char esc[CMD_MATCH_SHOWN], esc2[CMD_MATCH_SHOWN];
	size_t i, j;

	printf("item %zu: %s\n", index + 1,
	    log_escapes_text(esc, sizeof esc,
		it->title_text != NULL ? it->title_text : "(no title)"));
	if (it->link != NULL)
		printf("  link: %s\n",
		    log_escapes_text(esc, sizeof esc, it->link));
	for (i = 0; i < res->nmatches; i++) {
		mm = &res->matches[i];
		if (mm->matched)
			printf("  match %s\n", mm->watchlist);
		else
			printf("  near miss %s: %s\n", mm->watchlist,
			    log_escapes_text(esc, sizeof esc, mm->explain));
		for (j = 0; j < mm->nhits; j++) {
			h = &mm->hits[j];
			printf("    %s%s", mm->matched ? "" : "found ",
			    log_escapes_text(esc, sizeof esc, h->term));
			if (h->entity != NULL)
				printf(" (alias \"%s\")",
				    log_escapes(esc2, sizeof esc2, h->alias));
			if (strcmp(h->field, "category") == 0)
				printf(" in category %zu", h->category + 1);
			else
				printf(" in %s", h->field);
			printf(" %zu-%zu: %s\n", h->start, h->end,
			    log_escapes_text(esc, sizeof esc, h->snippet));
		}
		if (mm->nhits_total > mm->nhits)
			printf("    ... %zu hits in all\n", mm->nhits_total);
	}
}

int
cmd_match(int argc, char **argv, const struct cmd_globals *g)
{
	static const struct option longopts[] = {
	    {"watchlist", required_argument, NULL, 'w'},
	    {"explain", no_argument, NULL, 'e'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	struct config *cf;
	struct matcher *m;
	struct matcher_result *res;
	struct feed_doc *doc;
	struct feedparse *p;
	const char *only = NULL, *file, *feed_name;
	char *cause = NULL, *data, *refusal;
	size_t len, i, j;
	int ch, json = 0, explain = 0, rc = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "w:ej", longopts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			only = optarg;
			break;
		case 'e':
			explain = 1;
			break;
		case 'j':
			json = 1;
			break;
		default:
			cmd_match_usage();
			return 2;
		}
	}
	if (optind != argc - 1) {
		cmd_match_usage();
		return 2;
	}
	file = argv[optind];
	if (strncmp(file, "file://", 7) == 0)
		file += 7;
	if ((cf = config_load(g->config_path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return 1;
	}
	if ((m = engine_matcher(cf, only, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		config_free(cf);
		return 1;
	}
	if (urlfetch_is_url(file)) {
		p = feedparse_new(file);
		doc = urlfetch(file, p, &cause) == 0
		    ? feedparse_finish(p, &cause)
		    : NULL;
		feedparse_free(p);
	} else if ((data = readall_path(
			file, FEEDPARSE_BODY_MAX, &len, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		matcher_free(m);
		config_free(cf);
		return 1;
	} else {
		doc = feedparse_buffer(data, len, NULL, &cause);
		free(data);
	}
	if (doc != NULL && (refusal = feedparse_refusal(doc)) != NULL) {
		feed_doc_free(doc);
		doc = NULL;
		cause = refusal;
	}
	if (doc == NULL) {
		fprintf(stderr, "%s: %s\n", file, cause);
		free(cause);
		matcher_free(m);
		config_free(cf);
		return 1;
	}
	feed_name = cmd_match_feed_name(cf, file, doc);
	for (i = 0; i < doc->nitems && rc == 0; i++) {
		res = matcher_run(m, &doc->items[i], feed_name,
		    explain ? MATCHER_RUN_EXPLAIN : 0);
		if (json) {
			for (j = 0; j < res->nmatches && rc == 0; j++)
				rc = cmd_match_json(
				    &doc->items[i], &res->matches[j]);
		} else if (res->nmatches > 0) {
			cmd_match_text(i, &doc->items[i], res);
		}
		matcher_result_free(res);
	}
	if (fflush(stdout) == EOF)
		rc = -1;
	feed_doc_free(doc);
	matcher_free(m);
	config_free(cf);
	return rc == 0 ? 0 : 1;
}

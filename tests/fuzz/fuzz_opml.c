/*
 * Fuzz the OPML reader and what import-opml and export-opml make of it:
 * no crash, leak or hang; every feed url is http(s); the YAML written
 * for the entries loads through the configuration loader and gives back
 * exactly the same urls, names and tags; and export -> import gives the
 * same urls and tags again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "opml.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
same_tags(const struct cmd_opml_entry *a, char **tags, size_t ntags)
{
	size_t i;

	if (a->ntags != ntags)
		return 0;
	for (i = 0; i < ntags; i++)
		if (strcmp(a->tags[i], tags[i]) != 0)
			return 0;
	return 1;
}

/* The YAML of the entries must load back to the same feeds. */
static void
check_yaml(const struct cmd_opml_entry *e, size_t n)
{
	struct config *cf;
	char *yaml, *cause;
	const char *name;
	size_t i, len;

	if ((yaml = cmd_opml_yaml(e, n, &len, &cause)) == NULL) {
		/* only the loader's caps may refuse it */
		free(cause);
		return;
	}
	if ((cf = config_parse("feeds.yaml", yaml, len, &cause)) == NULL) {
		fprintf(stderr, "%s\n%s\n", cause, yaml);
		abort();
	}
	if (cf->nfeeds != n)
		abort();
	for (i = 0; i < n; i++) {
		name = e[i].name != NULL ? e[i].name : e[i].url;
		if (strcmp(cf->feeds[i].url, e[i].url) != 0 ||
		    strcmp(cf->feeds[i].name, name) != 0 ||
		    !same_tags(&e[i], cf->feeds[i].tags, cf->feeds[i].ntags))
			abort();
	}
	config_free(cf);
	free(yaml);
}

/* Export the entries and import them again: the same urls and tags. */
static void
check_export(const struct cmd_opml_entry *e, size_t n)
{
	struct opml_feed *feeds;
	struct cmd_opml_entry *again;
	struct opml *o;
	struct buf out;
	char *cause;
	size_t i, nagain, j;

	feeds = calloc(n + 1, sizeof *feeds);
	for (i = 0; i < n; i++) {
		feeds[i].url = e[i].url;
		feeds[i].title = e[i].name;
		feeds[i].tags = (const char **)e[i].tags;
		feeds[i].ntags = e[i].ntags;
	}
	buf_init(&out, 64 * 1024 * 1024);
	if (opml_write(&out, NULL, 0, feeds, n, &cause) == -1)
		abort(); /* the urls came from a parse: UTF-8 XML text */
	if ((o = opml_parse(buf_str(&out), out.len, "export.opml", &cause)) ==
	    NULL) {
		/* only the input cap may refuse our own output */
		if (out.len <= OPML_MAX_INPUT) {
			fprintf(stderr, "%s\n%s\n", cause, buf_str(&out));
			abort();
		}
		free(cause);
		goto out;
	}
	nagain = cmd_opml_entries(o, NULL, NULL, "export.opml", NULL, &again);
	if (nagain != n)
		abort();
	/* the export groups feeds by first tag: find each by url */
	for (i = 0; i < n; i++) {
		for (j = 0; j < nagain; j++)
			if (strcmp(again[j].url, e[i].url) == 0)
				break;
		if (j == nagain ||
		    !same_tags(&e[i], again[j].tags, again[j].ntags))
			abort();
	}
	cmd_opml_entries_free(again, nagain);
	opml_free(o);
out:
	buf_free(&out);
	free(feeds);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmd_opml_entry *e;
	struct opml *o;
	char *cause;
	size_t i, n;

	if ((o = opml_parse((const char *)data, size, "f.opml", &cause)) ==
	    NULL) {
		if (cause == NULL || strncmp(cause, "f.opml:", 7) != 0)
			abort();
		free(cause);
		return 0;
	}
	if (o->denied_loads != 0 || o->nfeeds > OPML_MAX_OUTLINES)
		abort();
	for (i = 0; i < o->nfeeds; i++)
		if ((strncmp(o->feeds[i].url, "http://", 7) != 0 &&
			strncmp(o->feeds[i].url, "https://", 8) != 0) ||
		    strlen(o->feeds[i].url) > OPML_MAX_URL ||
		    o->feeds[i].ntags > OPML_MAX_TAGS ||
		    (o->feeds[i].title != NULL &&
			strlen(o->feeds[i].title) > OPML_MAX_TITLE))
			abort();
	n = cmd_opml_entries(o, NULL, NULL, "f.opml", NULL, &e);
	check_yaml(e, n);
	check_export(e, n);
	cmd_opml_entries_free(e, n);
	opml_free(o);
	return 0;
}

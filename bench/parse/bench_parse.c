/*
 * Time one way of reading a feed file, for bench/parse/run.sh:
 *   full     feedparse, every field, no plain text of summary/content
 *   text     feedparse, with plain text of summary and content
 *   sax      libxml2 push SAX2 with empty callbacks (the parser's floor)
 *   reader   libxml2 xmlReader over the whole file in memory
 * The file is pushed in 64 KiB chunks (as a fetch delivers it) and items
 * are handed out one by one, so memory does not grow with the feed.
 * Prints "MODE ITEMS SECONDS" on stdout.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlreader.h>

#include "parse.h"

#define CHUNK 65536

static size_t items;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
item_cb(struct item *it, void *arg)
{
	items++;
}

static void
sax_start(void *ctx, const xmlChar *l, const xmlChar *p, const xmlChar *u,
    int nn, const xmlChar **ns, int na, int nd, const xmlChar **a)
{
	if (strcmp((const char *)l, "item") == 0 ||
	    strcmp((const char *)l, "entry") == 0)
		items++;
}

static void
sax_chars(void *ctx, const xmlChar *ch, int len)
{
}

int
main(int argc, char **argv)
{
	const char *mode;
	char *buf, *cause = NULL;
	struct feedparse *p = NULL;
	struct feed_doc *doc;
	xmlParserCtxtPtr ctxt = NULL;
	xmlSAXHandler sax;
	xmlTextReaderPtr reader;
	struct stat st;
	ssize_t n;
	double t0;
	int fd;

	if (argc != 3) {
		fprintf(
		    stderr, "usage: bench_parse full|text|sax|reader FILE\n");
		return 2;
	}
	mode = argv[1];
	if ((fd = open(argv[2], O_RDONLY)) == -1 || fstat(fd, &st) == -1) {
		perror(argv[2]);
		return 1;
	}
	xmlInitParser();
	t0 = now();
	if (strcmp(mode, "reader") == 0) {
		/* The reader needs the whole body in memory. */
		buf = malloc((size_t)st.st_size);
		if (read(fd, buf, (size_t)st.st_size) != st.st_size)
			return 1;
		reader = xmlReaderForMemory(buf, (int)st.st_size, NULL, NULL,
		    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
			XML_PARSE_NOCDATA | XML_PARSE_HUGE);
		while (xmlTextReaderRead(reader) == 1) {
			if (xmlTextReaderNodeType(reader) == 1 &&
			    (xmlStrEqual(xmlTextReaderConstLocalName(reader),
				 BAD_CAST "item") ||
				xmlStrEqual(xmlTextReaderConstLocalName(reader),
				    BAD_CAST "entry")))
				items++;
			else if (xmlTextReaderNodeType(reader) == 3 ||
			    xmlTextReaderNodeType(reader) == 4)
				(void)xmlTextReaderConstValue(reader);
		}
		xmlFreeTextReader(reader);
		free(buf);
		printf("%s %zu %.3f\n", mode, items, now() - t0);
		return 0;
	}
	buf = malloc(CHUNK);
	if (strcmp(mode, "sax") == 0) {
		memset(&sax, 0, sizeof sax);
		sax.initialized = XML_SAX2_MAGIC;
		sax.startElementNs = sax_start;
		sax.characters = sax_chars;
		ctxt = xmlCreatePushParserCtxt(&sax, NULL, NULL, 0, NULL);
		xmlCtxtUseOptions(ctxt,
		    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
			XML_PARSE_HUGE);
	} else {
		p = feedparse_new(NULL);
		feedparse_set_item_cb(p, item_cb, NULL);
		feedparse_set_body_max(p, (size_t)-1);
		feedparse_set_plain_text(p, strcmp(mode, "text") == 0);
	}
	while ((n = read(fd, buf, CHUNK)) > 0) {
		if (ctxt != NULL)
			xmlParseChunk(ctxt, buf, (int)n, 0);
		else if (feedparse_push(p, buf, (size_t)n) == -1)
			break;
	}
	if (ctxt != NULL) {
		xmlParseChunk(ctxt, NULL, 0, 1);
		if (ctxt->myDoc != NULL)
			xmlFreeDoc(ctxt->myDoc);
		xmlFreeParserCtxt(ctxt);
	} else {
		doc = feedparse_finish(p, &cause);
		feedparse_free(p);
		if (doc == NULL) {
			fprintf(stderr, "%s: %s\n", argv[2], cause);
			return 1;
		}
		feed_doc_free(doc);
	}
	free(buf);
	printf("%s %zu %.3f\n", mode, items, now() - t0);
	return 0;
}

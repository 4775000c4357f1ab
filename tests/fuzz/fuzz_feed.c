/*
 * Fuzz the feed parser (encodings, XML, entities, field mapping, JSON
 * Feed): no crash, leak or hang; every refusal says why; and a well-formed
 * document reads the same however its bytes are split into chunks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Content-Type headers the first byte chooses from (0: none). */
static const char *const types[] = {
    NULL,
    "application/rss+xml",
    "text/xml",
    "text/plain; charset=utf-8",
    "application/atom+xml; charset=iso-8859-1",
    "application/xml; charset=utf-16",
    "application/feed+json",
    "text/html; charset=windows-1252",
};

static struct feed_doc *
run(const char *data, size_t len, const char *type, size_t chunk, char **cause)
{
	struct feedparse *p = feedparse_new("http://fuzz.test/dir/feed");
	struct feed_doc *doc;
	size_t off, n;

	if (type != NULL)
		feedparse_header(p, "Content-Type", type);
	feedparse_header(p, "Content-Location", "http://fuzz.test/loc/");
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		if (feedparse_push(p, data + off, n) == -1)
			break;
	}
	*cause = NULL;
	doc = feedparse_finish(p, cause);
	feedparse_free(p);
	if (doc == NULL && *cause == NULL)
		abort(); /* every refusal must say why */
	return doc;
}

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed_doc *whole, *split;
	const char *type;
	char *c1, *c2;
	size_t chunk, i;

	if (size < 2)
		return 0;
	type = types[data[0] % (sizeof types / sizeof types[0])];
	chunk = 1 + data[1] % 61;
	data += 2;
	size -= 2;
	whole = run((const char *)data, size, type, size + 1, &c1);
	split = run((const char *)data, size, type, chunk, &c2);
	if (whole != NULL && !whole->bozo) {
		if (split == NULL || split->bozo ||
		    split->nitems != whole->nitems ||
		    !same(split->title, whole->title) ||
		    !same(split->link, whole->link))
			abort();
		for (i = 0; i < whole->nitems; i++)
			if (!same(whole->items[i].key, split->items[i].key) ||
			    !same(whole->items[i].title_html,
				split->items[i].title_html) ||
			    !same(whole->items[i].summary_html,
				split->items[i].summary_html))
				abort();
	}
	feed_doc_free(whole);
	feed_doc_free(split);
	free(c1);
	free(c2);
	return 0;
}

/*
 * Fuzz what is read of an HTTP response's header (httpresp): the input's
 * lines, as libcurl hands them over, and then the hints worked out of
 * them and the Content-Type given to the feed parser. No crash, leak or
 * hang; every value kept is bounded and free of controls; every hint is
 * -1 or within [0, a year]; the parser either reads a small feed under
 * that Content-Type or says why not.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpresp.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char feed[] =
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>"
    "<item><title>caf\xc3\xa9</title><link>/a</link></item></channel></rss>";

static void
check_value(const char *v)
{
	size_t i, len;

	if (v == NULL)
		return;
	len = strlen(v);
	if (len > HTTPRESP_MAX_VALUE)
		abort();
	for (i = 0; i < len; i++)
		if (((unsigned char)v[i] < 0x20 && v[i] != '\t') ||
		    v[i] == 0x7f)
			abort();
}

static void
check_hint(int64_t s)
{
	if (s < -1 || s > HTTPRESP_HINT_MAX_S)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct httpresp r = {0};
	struct httpresp_field f;
	struct httpresp_hints h;
	struct feedparse *fp;
	struct feed_doc *doc;
	char *cause = NULL;
	size_t len;

	for (; p < end; p += len) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		switch (httpresp_line(&r, p, len, &f)) {
		case HTTPRESP_STATUS:
			if (r.status < 0 || r.status > 999)
				abort();
			break;
		case HTTPRESP_FIELD:
			if (f.name != p || f.namelen >= len ||
			    f.value < p + f.namelen + 1 ||
			    f.value + f.valuelen > p + len)
				abort();
			break;
		case HTTPRESP_END:
		case HTTPRESP_IGNORED:
			break;
		}
	}
	check_value(r.etag);
	check_value(r.last_modified);
	check_value(r.content_type);
	check_value(r.retry_after);
	check_value(r.cache_control);
	check_value(r.expires);
	check_value(r.date);
	httpresp_hints(&r, (time_t)1700000000, &h);
	check_hint(h.retry_after_s);
	check_hint(h.max_age_s);
	check_hint(h.expires_in_s);
	if (r.expires != NULL && h.expires_in_s < 0)
		abort();

	fp = feedparse_new("http://fuzz.test/feed");
	if (r.content_type != NULL)
		feedparse_header(fp, "Content-Type", r.content_type);
	feedparse_push(fp, feed, sizeof feed - 1);
	doc = feedparse_finish(fp, &cause);
	if (doc == NULL && cause == NULL)
		abort(); /* every refusal must say why */
	feed_doc_free(doc);
	free(cause);
	feedparse_free(fp);
	httpresp_clear(&r);
	return 0;
}

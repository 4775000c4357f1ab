/* urlfetch: see urlfetch.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "curlev.h"
#include "fetch.h"
#include "parse.h"
#include "urlfetch.h"
#include "log.h"
#include "xmalloc.h"

struct urlfetch_state {
	struct feedparse *parser;
	struct event_base *base;
	int done;
	char *cause;
};

int
urlfetch_is_url(const char *arg)
{
	return strncasecmp(arg, "http://", 7) == 0 ||
	    strncasecmp(arg, "https://", 8) == 0;
}

static int
urlfetch_header(void *arg, const char *name, const char *value)
{
	struct urlfetch_state *st = arg;

	feedparse_header(st->parser, name, value);
	return 0;
}

static int
urlfetch_data(void *arg, const void *data, size_t len)
{
	struct urlfetch_state *st = arg;

	return feedparse_push(st->parser, data, len);
}

static void
urlfetch_done_cb(struct fetch *f, const struct fetch_result *r, void *arg)
{
	struct urlfetch_state *st = arg;

	/* A parser refusal is reported by feedparse_finish(). */
	if (r->error != FETCH_OK && r->error != FETCH_ERR_SINK)
		xasprintf(&st->cause, "%s: %s", fetch_error_name(r->error),
		    r->cause != NULL ? r->cause : "failed");
	st->done = 1;
	event_base_loopbreak(st->base);
}

int
urlfetch(const char *url, struct feedparse *p, char **cause)
{
	struct urlfetch_state st;
	struct fetch_opts opts;
	struct fetch_sink sink;
	struct curlev *cl;
	struct fetch_queue *q;

	memset(&st, 0, sizeof st);
	st.parser = p;
	if ((st.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	cl = curlev_new(st.base);
	q = fetch_queue_new(cl, 1, 1);
	memset(&opts, 0, sizeof opts);
	opts.url = url;
	sink.header = urlfetch_header;
	sink.data = urlfetch_data;
	sink.arg = &st;
	if (fetch_start(q, &opts, &sink, urlfetch_done_cb, &st, cause) ==
	    NULL) {
		st.done = 1;
		st.cause = *cause;
	}
	while (!st.done)
		event_base_dispatch(st.base);
	fetch_queue_free(q);
	curlev_free(cl);
	event_base_free(st.base);
	*cause = st.cause;
	return st.cause != NULL ? -1 : 0;
}

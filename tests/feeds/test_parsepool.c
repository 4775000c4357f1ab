/*
 * The parser pool: documents pushed in pieces, many at once, come back
 * the same as a parse of the whole body; a push waits while the pool is
 * full, so that what waits never passes its cap; a refused document,
 * cancelled jobs in every state (from their own callback and another's
 * too) and a pool freed with jobs still open lose nothing and leak
 * nothing, nor do documents handed back to be freed (the sanitizer
 * builds check the last three).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dirent.h>
#include <poll.h>
#include <pthread.h>

#include <cmocka.h>

#include "buf.h"
#include "item.h"
#include "parse.h"
#include "parsepool.h"
#include "xmalloc.h"

/* Longest wait for the workers in any one step (sanitizer builds too). */
#define WAIT_MS 20000
#define NDOCS 24

struct result {
	int done;
	struct feed_doc *doc;
	char *cause;
	struct parsepool_job *cancel; /* the callback cancels this job */
};

static int completed; /* done callbacks so far */

static void
done_cb(struct feed_doc *doc, char *cause, void *arg)
{
	struct result *r = arg;

	completed++;
	r->done++;
	r->doc = doc;
	r->cause = cause;
	if (r->cancel != NULL)
		parsepool_cancel(r->cancel);
}

/* Collect until *count reaches want or limit_ms pass. */
static void
collect_for(struct parsepool *pool, const int *count, int want, long limit_ms)
{
	struct pollfd pfd = {.fd = parsepool_fd(pool), .events = POLLIN};
	struct timespec start, now;
	long ms = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (*count < want && ms < limit_ms) {
		if (poll(&pfd, 1, 100) == 1)
			parsepool_collect(pool);
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000;
	}
}

static void
collect_until(struct parsepool *pool, const int *count, int want)
{
	collect_for(pool, count, want, WAIT_MS);
}

/* Document i: RSS or Atom, a few items with HTML to convert. */
static char *
make_doc(int i)
{
	struct buf b;
	int j, n = 3 + i % 17;

	buf_init(&b, 1024 * 1024);
	if (i % 3 == 2) {
		buf_printf(&b,
		    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		    "<feed xmlns=\"http://www.w3.org/2005/Atom\">"
		    "<title>Atom %d</title><id>urn:feed:%d</id>",
		    i, i);
		for (j = 0; j < n; j++)
			buf_printf(&b,
			    "<entry><id>urn:%d:%d</id><title>Entry %d "
			    "&amp; more</title><link href=\"/e/%d\"/>"
			    "<updated>2026-11-%02dT10:00:00Z</updated>"
			    "<content type=\"html\">&lt;p&gt;Paragraph "
			    "&lt;b&gt;%d&lt;/b&gt; of S\xc3\xa3o Paulo "
			    "news.&lt;/p&gt;</content></entry>",
			    i, j, j, j, 1 + j % 28, j);
		buf_printf(&b, "</feed>\n");
	} else {
		buf_printf(&b,
		    "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
		    "<title>RSS %d</title><link>http://example.com/%d</link>"
		    "<ttl>%d</ttl>",
		    i, i, 10 + i);
		for (j = 0; j < n; j++)
			buf_printf(&b,
			    "<item><guid>g-%d-%d</guid><title>Item %d</title>"
			    "<link>http://example.com/%d/%d</link>"
			    "<description><![CDATA[<p>Summary <i>%d</i> "
			    "about the coalition</p><ul><li>one</li>"
			    "<li>two</li></ul>]]></description></item>",
			    i, j, j, i, j, j);
		buf_printf(&b, "</channel></rss>\n");
	}
	return buf_take(&b, NULL);
}

static void
assert_same_string(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void
assert_same_doc(const struct feed_doc *a, const struct feed_doc *b)
{
	size_t i;

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->format, b->format);
	assert_same_string(a->title, b->title);
	assert_same_string(a->link, b->link);
	assert_int_equal(a->bozo, b->bozo);
	assert_int_equal(a->ttl, b->ttl);
	assert_int_equal(a->nitems, b->nitems);
	for (i = 0; i < a->nitems; i++) {
		assert_same_string(a->items[i].key, b->items[i].key);
		assert_same_string(
		    a->items[i].title_text, b->items[i].title_text);
		assert_same_string(a->items[i].link, b->items[i].link);
		assert_same_string(
		    a->items[i].summary_text, b->items[i].summary_text);
		assert_same_string(
		    a->items[i].content_text, b->items[i].content_text);
		assert_int_equal(a->items[i].updated, b->items[i].updated);
	}
}

/* Many documents at once, in pieces of every size, interleaved. */
static void
test_many(void **state)
{
	struct parsepool *pool;
	struct parsepool_job *jobs[NDOCS];
	struct result results[NDOCS];
	struct feed_doc *whole;
	char *docs[NDOCS], *cause = NULL, url[64];
	size_t off[NDOCS], len[NDOCS], n;
	int i, left, rc;

	srand(7);
	completed = 0;
	memset(results, 0, sizeof results);
	pool = parsepool_new(3, 0, &cause);
	assert_non_null(pool);
	assert_int_equal(parsepool_threads(pool), 3);
	for (i = 0; i < NDOCS; i++) {
		docs[i] = make_doc(i);
		len[i] = strlen(docs[i]);
		off[i] = 0;
		snprintf(url, sizeof url, "http://example.com/feeds/%d", i);
		jobs[i] = parsepool_job(
		    pool, url, FEEDPARSE_BODY_MAX, done_cb, &results[i]);
		parsepool_header(
		    jobs[i], "Content-Type", "application/xml; charset=utf-8");
	}
	do {
		left = 0;
		for (i = 0; i < NDOCS; i++) {
			if (off[i] == len[i])
				continue;
			n = 1 + (size_t)rand() % 300;
			if (n > len[i] - off[i])
				n = len[i] - off[i];
			rc = parsepool_push(jobs[i], docs[i] + off[i], n);
			assert_int_equal(rc, 0); /* the default room is ample */
			off[i] += n;
			if (off[i] == len[i])
				parsepool_finish(jobs[i]);
			else
				left = 1;
		}
	} while (left);
	collect_until(pool, &completed, NDOCS);
	for (i = 0; i < NDOCS; i++) {
		assert_int_equal(results[i].done, 1);
		assert_null(results[i].cause);
		snprintf(url, sizeof url, "http://example.com/feeds/%d", i);
		whole = feedparse_buffer(docs[i], len[i], url, &cause);
		assert_same_doc(results[i].doc, whole);
		assert_true(results[i].doc->nitems >= 3);
		feed_doc_free(whole);
		/* freed by a worker, or by parsepool_free (the leak check of
		 * the sanitizer build sees either) */
		parsepool_dispose(pool, results[i].doc);
		free(docs[i]);
	}
	parsepool_dispose(pool, NULL);
	parsepool_free(pool);
}

/* The prepare hook: which thread ran it, and on how many documents. */
static pthread_t prepared_on;
static int prepared;

static void
prepare_cb(struct feed_doc *doc)
{
	size_t i;

	prepared_on = pthread_self();
	prepared++;
	for (i = 0; i < doc->nitems; i++)
		doc->items[i].digest.set = 1;
}

/* A document comes back prepared by the hook, which ran on a worker. */
static void
test_prepare(void **state)
{
	struct parsepool *pool;
	struct parsepool_job *job;
	struct result result;
	char *doc, *cause = NULL;
	size_t i;

	completed = prepared = 0;
	memset(&result, 0, sizeof result);
	assert_non_null(pool = parsepool_new(2, 0, &cause));
	parsepool_set_prepare(pool, prepare_cb);
	doc = make_doc(3);
	job = parsepool_job(
	    pool, "http://example.com/", FEEDPARSE_BODY_MAX, done_cb, &result);
	assert_int_equal(parsepool_push(job, doc, strlen(doc)), 0);
	parsepool_finish(job);
	collect_until(pool, &completed, 1);
	assert_int_equal(prepared, 1);
	assert_false(pthread_equal(prepared_on, pthread_self()));
	assert_non_null(result.doc);
	assert_true(result.doc->nitems >= 3);
	for (i = 0; i < result.doc->nitems; i++)
		assert_int_equal(result.doc->items[i].digest.set, 1);
	parsepool_dispose(pool, result.doc);
	parsepool_free(pool);
	free(doc);
}

/*
 * A pool that holds 1 KiB: pushes of 512 bytes wait for the room, so that
 * what waits never passes the cap by more than one push; the document
 * comes back whole.
 */
static void
test_room(void **state)
{
	struct parsepool *pool;
	struct parsepool_job *job;
	struct result result;
	struct feed_doc *whole;
	struct buf b;
	char *doc, *cause = NULL;
	size_t off = 0, len, n, queued, most = 0;
	double waited;
	int i;

	completed = 0;
	memset(&result, 0, sizeof result);
	pool = parsepool_new(1, 1024, &cause);
	assert_non_null(pool);
	/* one document of many items: about 200 KB */
	buf_init(&b, 1024 * 1024);
	buf_addstr(&b, "<rss version=\"2.0\"><channel><title>t</title>");
	for (i = 0; i < 1000; i++)
		buf_printf(&b,
		    "<item><guid>%d</guid><title>Item %d</title><description>"
		    "&lt;p&gt;Some &lt;b&gt;text&lt;/b&gt; of item %d, "
		    "long enough to take a while.&lt;/p&gt;</description>"
		    "</item>",
		    i, i, i);
	buf_addstr(&b, "</channel></rss>");
	doc = buf_take(&b, &len);
	job = parsepool_job(pool, NULL, FEEDPARSE_BODY_MAX, done_cb, &result);
	while (off < len) {
		n = len - off < 512 ? len - off : 512;
		assert_int_equal(parsepool_push(job, doc + off, n), 0);
		off += n;
		parsepool_stats(pool, &queued, NULL);
		if (queued > most)
			most = queued;
		assert_true(queued < 1024 + 512);
	}
	parsepool_finish(job);
	collect_until(pool, &completed, 1);
	assert_int_equal(result.done, 1);
	parsepool_stats(pool, &queued, &waited);
	assert_int_equal(queued, 0);
	whole = feedparse_buffer(doc, len, NULL, &cause);
	assert_same_doc(result.doc, whole);
	assert_int_equal(result.doc->nitems, 1000);
	print_message(
	    "most bytes waiting: %zu; pushes waited %.6f s\n", most, waited);
	feed_doc_free(whole);
	feed_doc_free(result.doc);
	free(doc);
	parsepool_free(pool);
}

/* A document over its cap: pushes say so (-1), the end gives the cause. */
static void
test_refused(void **state)
{
	struct parsepool *pool;
	struct parsepool_job *job;
	struct result result;
	char *doc, *cause = NULL;
	size_t off = 0, len;
	int rc = 0, tries = 0;

	completed = 0;
	memset(&result, 0, sizeof result);
	pool = parsepool_new(2, 0, &cause);
	assert_non_null(pool);
	doc = make_doc(30);
	len = strlen(doc);
	assert_true(len > 2048);
	job = parsepool_job(pool, NULL, 1024, done_cb, &result);
	/* the refusal shows once a worker has parsed past the cap */
	while (rc != -1 && tries++ < 100000) {
		rc = parsepool_push(job, doc + off, 16);
		assert_true(rc == 0 || rc == -1);
		off = (off + 16) % (len - 16);
		if (rc == 0 && tries % 64 == 0) {
			struct timespec ts = {0, 1000000};

			nanosleep(&ts, NULL);
		}
	}
	assert_int_equal(rc, -1);
	parsepool_finish(job);
	collect_until(pool, &completed, 1);
	assert_int_equal(result.done, 1);
	assert_null(result.doc);
	assert_non_null(result.cause);
	assert_non_null(strstr(result.cause, "larger than 1024 bytes"));
	free(result.cause);
	free(doc);
	parsepool_free(pool);
}

/*
 * Cancelled jobs in every state never call back: idle, waiting or being
 * parsed, finished and not yet collected, and from a done callback: its
 * own job (which then goes once the callback returns) or another; the
 * pool is then freed with a job still open in it. One worker, so that
 * the order is known.
 */
static void
test_cancel(void **state)
{
	struct parsepool *pool;
	struct parsepool_job *idle, *busy, *done, *self, *a, *b, *left;
	struct pollfd pfd;
	struct result r[7];
	char *doc, *cause = NULL;
	size_t len;
	int i;

	completed = 0;
	memset(r, 0, sizeof r);
	pool = parsepool_new(1, 0, &cause);
	assert_non_null(pool);
	doc = make_doc(40);
	len = strlen(doc);

	idle = parsepool_job(pool, NULL, FEEDPARSE_BODY_MAX, done_cb, &r[0]);
	parsepool_cancel(idle);
	parsepool_cancel(NULL);

	/* waiting or being parsed when cancelled (never finished, so that
	 * it never writes to the pipe): its worker frees it */
	busy = parsepool_job(pool, NULL, FEEDPARSE_BODY_MAX, done_cb, &r[1]);
	for (i = 0; i < 50; i++)
		assert_int_equal(parsepool_push(busy, doc, len / 2), 0);
	parsepool_cancel(busy);

	/* finished, not collected: only it can make the pipe readable */
	done = parsepool_job(pool, NULL, FEEDPARSE_BODY_MAX, done_cb, &r[2]);
	assert_int_equal(parsepool_push(done, doc, len), 0);
	parsepool_finish(done);
	pfd.fd = parsepool_fd(pool);
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
	parsepool_cancel(done);
	parsepool_collect(pool);
	assert_int_equal(completed, 0);

	/* from its own callback, and from another's */
	self = parsepool_job(pool, NULL, FEEDPARSE_BODY_MAX, done_cb, &r[3]);
	r[3].cancel = self;
	assert_int_equal(parsepool_push(self, doc, len), 0);
	parsepool_finish(self);
	a = parsepool_job(pool, NULL, FEEDPARSE_BODY_MAX, done_cb, &r[4]);
	b = parsepool_job(pool, NULL, FEEDPARSE_BODY_MAX, done_cb, &r[5]);
	r[4].cancel = b;
	assert_int_equal(parsepool_push(a, doc, len), 0);
	parsepool_finish(a);
	assert_int_equal(parsepool_push(b, doc, len), 0);
	parsepool_finish(b);
	collect_until(pool, &completed, 2);
	collect_for(pool, &completed, 3, 300); /* b must not come */
	assert_int_equal(r[3].done, 1);
	assert_int_equal(r[4].done, 1);
	feed_doc_free(r[3].doc);
	feed_doc_free(r[4].doc);

	/* open when the pool goes: freed with it, no call */
	left = parsepool_job(pool, NULL, FEEDPARSE_BODY_MAX, done_cb, &r[6]);
	assert_int_equal(parsepool_push(left, doc, len), 0);
	parsepool_finish(left);
	parsepool_free(pool);
	for (i = 0; i < 7; i++)
		assert_int_equal(r[i].done, i == 3 || i == 4);
	assert_int_equal(completed, 2);
	free(doc);
}

/* The workers are named, for top -H and ps -L: fw-parse-0, -1, -2. */
static void
test_thread_names(void **state)
{
	struct parsepool *pool;
	char *cause = NULL, path[300], comm[32];
	int seen[3] = {0, 0, 0}, k;
	struct dirent *d;
	FILE *f;
	DIR *dir;

	(void)state;
	pool = parsepool_new(3, 0, &cause);
	assert_non_null(pool);
	dir = opendir("/proc/self/task");
	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(
		    path, sizeof path, "/proc/self/task/%s/comm", d->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue; /* a thread gone meanwhile */
		if (fgets(comm, sizeof comm, f) != NULL &&
		    sscanf(comm, "fw-parse-%d", &k) == 1 && k >= 0 && k < 3)
			seen[k]++;
		fclose(f);
	}
	closedir(dir);
	parsepool_free(pool);
	assert_int_equal(seen[0], 1);
	assert_int_equal(seen[1], 1);
	assert_int_equal(seen[2], 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_many),
	    cmocka_unit_test(test_prepare),
	    cmocka_unit_test(test_room),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_thread_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

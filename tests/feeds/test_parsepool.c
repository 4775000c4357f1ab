/*
 * The parser pool: documents pushed in pieces, many at once, come back
 * the same as a parse of the whole body; a full pool refuses pushes and
 * calls back once there is room; a refused document, cancelled jobs in
 * every state and a pool freed with jobs still open lose nothing and
 * leak nothing, nor do documents handed back to be freed (the sanitizer
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

#include <poll.h>

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
};

static int resumes;
static int completed; /* done callbacks so far */

static void
done_cb(struct feed_doc *doc, char *cause, void *arg)
{
	struct result *r = arg;

	completed++;
	r->done++;
	r->doc = doc;
	r->cause = cause;
}

static void
resume_cb(void *arg)
{
	resumes++;
}

/* Collect until *count reaches want or WAIT_MS pass. */
static void
collect_until(struct parsepool *pool, const int *count, int want)
{
	struct pollfd pfd = {.fd = parsepool_fd(pool), .events = POLLIN};
	struct timespec start, now;
	long ms = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (*count < want && ms < WAIT_MS) {
		if (poll(&pfd, 1, 100) == 1)
			parsepool_collect(pool);
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000;
	}
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
	completed = resumes = 0;
	memset(results, 0, sizeof results);
	pool = parsepool_new(3, 0, resume_cb, NULL, &cause);
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
	assert_int_equal(resumes, 0);
	parsepool_free(pool);
}

/*
 * A pool that holds one byte: pushes are refused while a chunk waits,
 * the resume callback comes once it is parsed, and the document pushed
 * again after each refusal comes back whole.
 */
static void
test_full(void **state)
{
	struct parsepool *pool;
	struct parsepool_job *job;
	struct result result;
	struct feed_doc *whole;
	char *doc, *cause = NULL;
	size_t off = 0, len, n;
	int refusals = 0, rc, seen;

	completed = resumes = 0;
	memset(&result, 0, sizeof result);
	pool = parsepool_new(1, 1, resume_cb, NULL, &cause);
	assert_non_null(pool);
	doc = make_doc(16);
	len = strlen(doc);
	job = parsepool_job(pool, NULL, FEEDPARSE_BODY_MAX, done_cb, &result);
	while (off < len) {
		n = len - off < 64 ? len - off : 64;
		rc = parsepool_push(job, doc + off, n);
		assert_in_range(rc, 0, 1);
		if (rc == 0) {
			off += n;
			continue;
		}
		/* refused: nothing taken; wait for the room */
		refusals++;
		seen = resumes;
		collect_until(pool, &resumes, seen + 1);
		assert_int_equal(resumes, seen + 1);
	}
	parsepool_finish(job);
	collect_until(pool, &completed, 1);
	assert_int_equal(result.done, 1);
	/* a 64-byte push right after another finds it still waiting at
	 * least once in the document's dozens of pieces */
	assert_true(refusals > 0);
	whole = feedparse_buffer(doc, len, NULL, &cause);
	assert_same_doc(result.doc, whole);
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
	pool = parsepool_new(2, 0, NULL, NULL, &cause);
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
 * parsed, finished and not yet collected; the pool is then freed with a
 * job still open in it. One worker, so that the order is known.
 */
static void
test_cancel(void **state)
{
	struct parsepool *pool;
	struct parsepool_job *idle, *busy, *done, *left;
	struct pollfd pfd;
	struct result r[4];
	char *doc, *cause = NULL;
	size_t len;
	int i;

	completed = 0;
	memset(r, 0, sizeof r);
	pool = parsepool_new(1, 0, NULL, NULL, &cause);
	assert_non_null(pool);
	doc = make_doc(40);
	len = strlen(doc);

	idle = parsepool_job(pool, NULL, FEEDPARSE_BODY_MAX, done_cb, &r[0]);
	parsepool_cancel(idle);
	parsepool_cancel(NULL);

	/* waiting or being parsed when cancelled: its worker frees it */
	busy = parsepool_job(pool, NULL, FEEDPARSE_BODY_MAX, done_cb, &r[1]);
	for (i = 0; i < 50; i++)
		assert_int_equal(parsepool_push(busy, doc, len / 2), 0);
	parsepool_finish(busy);
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

	/* open when the pool goes: freed with it, no call */
	left = parsepool_job(pool, NULL, FEEDPARSE_BODY_MAX, done_cb, &r[3]);
	assert_int_equal(parsepool_push(left, doc, len), 0);
	parsepool_finish(left);
	parsepool_free(pool);
	for (i = 0; i < 4; i++)
		assert_int_equal(r[i].done, 0);
	assert_int_equal(completed, 0);
	free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_many),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_cancel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

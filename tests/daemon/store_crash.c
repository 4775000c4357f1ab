/*
 * The crash test's worker. "run" ingests generated feeds round after
 * round (resuming from what the store says was done) and dispatches
 * their alerts to a notifier that appends each delivered outbox id to a
 * file, fsynced, before answering OK; store_crash.sh kills it with
 * SIGKILL at random instants and starts it again. "check" then verifies:
 * integrity_check ok; every feed at its last round; every item past the
 * baseline with its outbox rows (nothing seen without its alerts); every
 * outbox row delivered and its id in the file; every id in the file a
 * known outbox id; duplicates no more than the kills can explain.
 *
 *   store_crash DIR run FEEDS ROUNDS
 *   store_crash DIR check FEEDS ROUNDS KILLS
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "outbox.h"
#include "store.h"
#include "store_fixture.h"

#define BASELINE_ITEMS 10 /* items of the first poll */
#define NEW_PER_ROUND 5 /* new items per feed per later round */
#define MAX_INFLIGHT 4

struct worker {
	struct event_base *base;
	struct store *st;
	struct outbox *ob;
	int log_fd;
	unsigned seed;
};

/* Feed F at round R: every item so far; item I < R has a corrected
 * summary (its update came at round I + 1). */
static struct feed_doc *
crash_doc(int r)
{
	struct feed_doc *doc;
	int i, n = BASELINE_ITEMS + r * NEW_PER_ROUND;

	doc = fixture_doc("k", "Title", "http://example.com/p", 0, n);
	for (i = 0; i < n && i < r; i++) {
		free(doc->items[i].summary_text);
		xasprintf(&doc->items[i].summary_text,
		    "Corrected summary of item %d.", i);
	}
	return doc;
}

struct pending {
	struct worker *w;
	struct outbox_delivery *d;
};

/* Log the id durably, then answer OK. */
static void
crash_answer_cb(int fd, short events, void *arg)
{
	struct pending *p = arg;
	const struct store_outbox_row *row = outbox_delivery_row(p->d);
	char line[64];
	int len;

	len = snprintf(line, sizeof line, "%s\n", row->id);
	if (write(p->w->log_fd, line, (size_t)len) != len ||
	    fdatasync(p->w->log_fd) == -1)
		fatal("delivered log");
	outbox_delivery_done(p->d, OUTBOX_OK, 0, NULL);
	free(p);
}

/* Deliver after 0-2 ms, so that several are in flight at a kill. */
static void
crash_deliver(void *arg, struct outbox_delivery *d)
{
	struct worker *w = arg;
	struct pending *p = xcalloc(1, sizeof *p);
	struct timeval tv = {0, (suseconds_t)(rand_r(&w->seed) % 2000)};

	p->w = w;
	p->d = d;
	if (event_base_once(w->base, -1, EV_TIMEOUT, crash_answer_cb, p, &tv) ==
	    -1)
		fatalx("event_base_once");
}

static int
crash_run(const char *dir, int nfeeds, int nrounds)
{
	struct worker w;
	struct store_feed feed, old;
	struct store_ingest_options opts;
	struct store_outbox_stats stats;
	struct fixture_matcher fm = {1, 0, 0, 0};
	struct outbox_notifier na = {"a", crash_deliver, &w, MAX_INFLIGHT};
	struct outbox_notifier nb = {"b", crash_deliver, &w, MAX_INFLIGHT};
	struct feed_doc *doc;
	char path[512], url[64], etag[16], *cause = NULL;
	int f, r, done;

	memset(&w, 0, sizeof w);
	w.seed = (unsigned)getpid();
	snprintf(path, sizeof path, "%s/delivered", dir);
	if ((w.log_fd = open(
		 path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) == -1)
		fatal("%s", path);
	snprintf(path, sizeof path, "%s/state.db", dir);
	if ((w.st = store_open(path, &cause)) == NULL)
		fatalx("%s", cause);
	w.base = event_base_new();
	if ((w.ob = outbox_new(w.base, w.st, NULL, &cause)) == NULL)
		fatalx("%s", cause);
	outbox_add_notifier(w.ob, &na);
	outbox_add_notifier(w.ob, &nb);
	outbox_kick(w.ob);

	for (r = 0; r < nrounds; r++) {
		for (f = 0; f < nfeeds; f++) {
			snprintf(
			    url, sizeof url, "http://feed%d.example/rss", f);
			snprintf(etag, sizeof etag, "r%d", r);
			switch (store_feed_get(w.st, url, &old, &cause)) {
			case -1:
				fatalx("%s", cause);
			case 0:
				done =
				    old.etag != NULL && atoi(old.etag + 1) >= r;
				store_feed_clear(&old);
				if (done)
					continue;
			}
			memset(&feed, 0, sizeof feed);
			feed.url = url;
			feed.etag = etag;
			feed.last_status = 200;
			feed.last_success_at = time(NULL);
			memset(&opts, 0, sizeof opts);
			opts.now = time(NULL);
			doc = crash_doc(r);
			if (store_ingest(w.st, &feed, doc, &opts, fixture_match,
				&fm, NULL, &cause) == -1)
				fatalx("ingest: %s", cause);
			feed_doc_free(doc);
			outbox_kick(w.ob);
			event_base_loop(w.base, EVLOOP_NONBLOCK);
		}
	}
	/* Drain: the loop ends when nothing is pending or in flight. */
	for (;;) {
		event_base_dispatch(w.base);
		if (store_outbox_stats(w.st, time(NULL), &stats, &cause) == -1)
			fatalx("%s", cause);
		if (stats.pending == 0 && stats.inflight == 0 &&
		    outbox_inflight(w.ob) == 0)
			break;
		outbox_kick(w.ob);
	}
	outbox_free(w.ob);
	event_base_free(w.base);
	store_close(w.st);
	close(w.log_fd);
	return 0;
}

static int
crash_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
crash_check(const char *dir, int nfeeds, int nrounds, int kills)
{
	struct store *st;
	struct store_outbox_row *rows;
	char path[512], dbpath[512], line[128], **ids = NULL, **known, *cause;
	size_t nids = 0, size = 0, nrows, i, dups = 0, bad = 0;
	int64_t n, expect_items, expect_rows;
	FILE *fp;
	int failed = 0;

	snprintf(dbpath, sizeof dbpath, "%s/state.db", dir);
	if ((st = store_open(dbpath, &cause)) == NULL)
		fatalx("%s", cause);
	if (store_check(st, &cause) == -1) {
		printf("FAIL integrity_check: %s\n", cause);
		failed = 1;
	} else
		printf("ok integrity_check\n");

	expect_items =
	    (int64_t)nfeeds * (BASELINE_ITEMS + (nrounds - 1) * NEW_PER_ROUND);
	/* New items: all->a, all->b, upd->a; one update a round: upd->a. */
	expect_rows = (int64_t)nfeeds * (nrounds - 1) * (NEW_PER_ROUND * 3 + 1);
	n = fixture_count(dbpath,
	    "SELECT count(*) FROM feeds WHERE etag = "
	    "'r%d'",
	    nrounds - 1);
	printf("%s feeds at the last round: %lld of %d\n",
	    n == nfeeds ? "ok" : "FAIL", (long long)n, nfeeds);
	failed |= n != nfeeds;
	n = fixture_count(dbpath, "SELECT count(*) FROM items");
	printf("%s items: %lld of %lld\n", n == expect_items ? "ok" : "FAIL",
	    (long long)n, (long long)expect_items);
	failed |= n != expect_items;
	/* Nothing seen without its outbox rows. */
	n = fixture_count(dbpath,
	    "SELECT count(*) FROM items i JOIN feeds f ON f.id = i.feed_id "
	    "WHERE CAST(substr(i.key, 3) AS INTEGER) >= %d AND "
	    "(SELECT count(*) FROM outbox o WHERE o.feed_url = f.url AND "
	    "o.item_key = i.key AND o.revision = 0) != 3",
	    BASELINE_ITEMS);
	printf("%s items past the baseline without their 3 outbox rows: %lld\n",
	    n == 0 ? "ok" : "FAIL", (long long)n);
	failed |= n != 0;
	n = fixture_count(dbpath,
	    "SELECT count(*) FROM outbox WHERE revision = 1 AND watchlist = "
	    "'upd'");
	printf("%s update alerts: %lld of %d\n",
	    n == nfeeds * (nrounds - 1) ? "ok" : "FAIL", (long long)n,
	    nfeeds * (nrounds - 1));
	failed |= n != nfeeds * (nrounds - 1);

	if (store_outbox_list(st, -1, &rows, &nrows, &cause) == -1)
		fatalx("%s", cause);
	printf("%s outbox rows: %zu of %lld\n",
	    (int64_t)nrows == expect_rows ? "ok" : "FAIL", nrows,
	    (long long)expect_rows);
	failed |= (int64_t)nrows != expect_rows;
	known = xcalloc(nrows + 1, sizeof *known);
	for (i = 0; i < nrows; i++) {
		known[i] = rows[i].id;
		if (rows[i].state != STORE_OUTBOX_DELIVERED)
			bad++;
	}
	printf("%s rows not delivered: %zu\n", bad == 0 ? "ok" : "FAIL", bad);
	failed |= bad != 0;
	qsort(known, nrows, sizeof *known, crash_cmp);

	snprintf(path, sizeof path, "%s/delivered", dir);
	if ((fp = fopen(path, "r")) == NULL)
		fatal("%s", path);
	bad = 0;
	while (fgets(line, sizeof line, fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line) != 36)
			bad++;
		if (nids == size) {
			size = size == 0 ? 1024 : 2 * size;
			ids = xreallocarray(ids, size, sizeof *ids);
		}
		ids[nids++] = xstrdup(line);
	}
	fclose(fp);
	qsort(ids, nids, sizeof *ids, crash_cmp);
	for (i = 0; i < nids; i++) {
		char *key = ids[i];

		if (i > 0 && strcmp(ids[i], ids[i - 1]) == 0)
			dups++;
		if (bsearch(&key, known, nrows, sizeof *known, crash_cmp) ==
		    NULL)
			bad++;
	}
	printf("%s delivered ids unknown to the outbox: %zu\n",
	    bad == 0 ? "ok" : "FAIL", bad);
	failed |= bad != 0;
	/* Every row delivered at least once: each known id in the log. */
	bad = 0;
	for (i = 0; i < nrows; i++) {
		char *key = known[i];

		if (bsearch(&key, ids, nids, sizeof *ids, crash_cmp) == NULL)
			bad++;
	}
	printf("%s outbox ids never delivered: %zu\n", bad == 0 ? "ok" : "FAIL",
	    bad);
	failed |= bad != 0;
	/* A kill repeats at most what was in flight: 2 notifiers x 4. */
	printf("%s duplicates: %zu (at most %d kills x %d in flight)\n",
	    dups <= (size_t)kills * 2 * MAX_INFLIGHT ? "ok" : "FAIL", dups,
	    kills, 2 * MAX_INFLIGHT);
	failed |= dups > (size_t)kills * 2 * MAX_INFLIGHT;
	printf("%zu deliveries, %zu distinct\n", nids, nids - dups);

	for (i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
	free(known);
	store_outbox_rows_free(rows, nrows);
	store_close(st);
	return failed;
}

int
main(int argc, char **argv)
{
	log_init("store_crash");
	log_set_level(LOG_LEVEL_WARN);
	if (argc == 5 && strcmp(argv[2], "run") == 0)
		return crash_run(argv[1], atoi(argv[3]), atoi(argv[4]));
	if (argc == 6 && strcmp(argv[2], "check") == 0)
		return crash_check(
		    argv[1], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	fprintf(stderr,
	    "usage: store_crash DIR run FEEDS ROUNDS\n"
	    "       store_crash DIR check FEEDS ROUNDS KILLS\n");
	return 2;
}

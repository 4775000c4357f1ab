/*
 * The store's ingest cost on the 1,000-feed first cycle (35 items each,
 * 35,000 items), against baselines measured in the same run:
 *
 *   generate   building the 35,000 items in memory
 *   raw        plain sqlite3 INSERTs of the same text into one table,
 *              one transaction per feed, same pragmas (WAL, FULL)
 *   baseline   store_ingest, first poll of every feed (store, alert none)
 *   new        store_ingest, 35 new items per feed, every one matched by
 *              a watchlist with two notifiers (cap 20 + one summary)
 *   steady     store_ingest, nothing new (the same documents again)
 *   304 single store_feed_put of every feed, one transaction each (a
 *              cycle of 304 answers as the engine writes it one by one)
 *   304 batch  the same states in one store_feeds_put (one transaction)
 *
 *   bench_store DIR [FEEDS] [ITEMS] [first]
 *
 * With "first", only the items are generated and the first poll is run
 * (no baseline, no other phase): a run to profile, e.g. under perf
 * record or perf stat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "xmalloc.h"

#define SUMMARY_BYTES 500
#define CONTENT_BYTES 1500

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the process (user and system): the wall time less waits
 * for the disk. */
static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes the process has handed to write calls so far (Linux
 * /proc/self/io "wchar"; 0 elsewhere): what the database and its log
 * cost in writes, whatever the disk's speed. */
static unsigned long long
written(void)
{
	FILE *fp = fopen("/proc/self/io", "r");
	unsigned long long n = 0;
	char line[128];

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof line, fp) != NULL)
		if (sscanf(line, "wchar: %llu", &n) == 1)
			break;
	fclose(fp);
	return n;
}

static char *
filler(const char *word, int i, size_t len)
{
	char *s = xmalloc(len + 1);
	size_t off = 0;
	int n;

	while (off < len) {
		n = snprintf(s + off, len + 1 - off, "%s %d ", word, i++);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	s[len] = '\0';
	return s;
}

/* Feed F's document at cycle C: ITEMS items, keys unique per cycle. */
static struct feed_doc *
make_doc(int f, int c, int items)
{
	struct feed_doc *doc = xcalloc(1, sizeof *doc);
	struct item *it;
	int i;

	doc->format = FEED_FORMAT_RSS20;
	doc->items = xcalloc((size_t)items, sizeof *doc->items);
	doc->nitems = (size_t)items;
	for (i = 0; i < items; i++) {
		it = &doc->items[i];
		xasprintf(&it->key, "https://news%d.example/%d/%d", f, c, i);
		it->link = xstrdup(it->key);
		xasprintf(&it->title_text,
		    "Story %d of cycle %d in feed %d: officials meet over the "
		    "coalition",
		    i, c, f);
		it->summary_text = filler("summary", i, SUMMARY_BYTES);
		it->content_text = filler("content", i, CONTENT_BYTES);
		it->published = 1700000000 + i;
		it->updated = ITEM_TIME_NONE;
	}
	return doc;
}

static int
match_all(void *arg, const char *feed_url, const struct item *item,
    int is_update, struct store_match *m)
{
	static const char *const notifiers[] = {"ops-webhook", "analysts"};
	struct store_alert alert;
	char payload[1024];

	snprintf(payload, sizeof payload,
	    "{\"watchlist\":\"coalition\",\"feed\":\"%s\",\"title\":\"%s\"}",
	    feed_url, item->title_text);
	memset(&alert, 0, sizeof alert);
	alert.watchlist = "coalition";
	alert.notifiers = notifiers;
	alert.nnotifiers = 2;
	alert.payload = payload;
	return store_match_add(m, &alert);
}

static double
raw_inserts(const char *path, struct feed_doc **docs, int feeds)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	const struct item *it;
	double t0;
	size_t i;
	int f;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
		"PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
		"CREATE TABLE items (feed INTEGER, key TEXT, title TEXT, "
		"link TEXT, summary TEXT, content TEXT, UNIQUE (feed, key))",
		NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
		"INSERT INTO items VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &stmt,
		NULL) != SQLITE_OK)
		fatalx("raw: %s", sqlite3_errmsg(db));
	t0 = now_s();
	for (f = 0; f < feeds; f++) {
		sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		for (i = 0; i < docs[f]->nitems; i++) {
			it = &docs[f]->items[i];
			sqlite3_bind_int(stmt, 1, f);
			sqlite3_bind_text(stmt, 2, it->key, -1, SQLITE_STATIC);
			sqlite3_bind_text(
			    stmt, 3, it->title_text, -1, SQLITE_STATIC);
			sqlite3_bind_text(stmt, 4, it->link, -1, SQLITE_STATIC);
			sqlite3_bind_text(
			    stmt, 5, it->summary_text, -1, SQLITE_STATIC);
			sqlite3_bind_text(
			    stmt, 6, it->content_text, -1, SQLITE_STATIC);
			if (sqlite3_step(stmt) != SQLITE_DONE)
				fatalx("raw insert: %s", sqlite3_errmsg(db));
			sqlite3_reset(stmt);
		}
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			fatalx("raw commit: %s", sqlite3_errmsg(db));
	}
	t0 = now_s() - t0;
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return t0;
}

/* One cycle: every feed ingested once. */
static double
cycle(struct store *st, struct feed_doc **docs, int feeds, int64_t max_age,
    struct store_ingest_result *sum)
{
	struct store_feed feed;
	struct store_ingest_options opts;
	struct store_ingest_result r;
	char url[64], *cause;
	double t0 = now_s();
	int f;

	memset(sum, 0, sizeof *sum);
	for (f = 0; f < feeds; f++) {
		snprintf(url, sizeof url, "https://news%d.example/rss", f);
		memset(&feed, 0, sizeof feed);
		feed.url = url;
		feed.etag = (char *)"\"v1\"";
		feed.last_status = 200;
		feed.last_success_at = 1700000000;
		memset(&opts, 0, sizeof opts);
		opts.now = 1700000100;
		opts.first_poll_max_age = max_age;
		if (store_ingest(st, &feed, docs[f], &opts, match_all, NULL, &r,
			&cause) == -1)
			fatalx("ingest: %s", cause);
		sum->nnew += r.nnew;
		sum->nbaseline += r.nbaseline;
		sum->nunchanged += r.nunchanged;
		sum->nalerts += r.nalerts;
		sum->nrows += r.nrows;
	}
	return now_s() - t0;
}

/* A cycle of 304 answers: every feed's state written, one by one or in
 * one batch. */
static double
cycle_304(struct store *st, int feeds, int batch)
{
	struct store_feed *states = xcalloc((size_t)feeds, sizeof *states);
	const struct store_feed **ptrs = xcalloc((size_t)feeds, sizeof *ptrs);
	char **urls = xcalloc((size_t)feeds, sizeof *urls), *cause;
	double t0;
	int f;

	for (f = 0; f < feeds; f++) {
		xasprintf(&urls[f], "https://news%d.example/rss", f);
		states[f].url = urls[f];
		states[f].etag = (char *)"\"v1\"";
		states[f].last_status = 304;
		states[f].last_poll_at = 1700000700;
		states[f].next_poll_at = 1700001300 + batch;
		states[f].last_success_at = 1700000700;
		ptrs[f] = &states[f];
	}
	t0 = now_s();
	if (batch) {
		if (store_feeds_put(st, ptrs, (size_t)feeds, &cause) == -1)
			fatalx("feeds_put: %s", cause);
	} else {
		for (f = 0; f < feeds; f++)
			if (store_feed_put(st, &states[f], &cause) == -1)
				fatalx("feed_put: %s", cause);
	}
	t0 = now_s() - t0;
	for (f = 0; f < feeds; f++)
		free(urls[f]);
	free(urls);
	free(ptrs);
	free(states);
	return t0;
}

static void
free_docs(struct feed_doc **docs, int feeds)
{
	int f;

	for (f = 0; f < feeds; f++)
		feed_doc_free(docs[f]);
	free(docs);
}

int
main(int argc, char **argv)
{
	struct feed_doc **docs, **docs2;
	struct store_ingest_result r;
	struct store *st;
	char path[512], *cause;
	double t_gen, t_raw, t_base, t_new, t_steady, t_single, t_batch;
	double c_raw, c_base, c_new, c_steady;
	uint64_t commits, c_single, c_batch;
	double w_raw, w_base, w_new, w_steady;
	int feeds, items, f, nitems, first_only;

	if (argc < 2) {
		fprintf(
		    stderr, "usage: bench_store DIR [FEEDS] [ITEMS] [first]\n");
		return 2;
	}
	log_init("bench_store");
	feeds = argc > 2 ? atoi(argv[2]) : 1000;
	items = argc > 3 ? atoi(argv[3]) : 35;
	first_only = argc > 4 && strcmp(argv[4], "first") == 0;
	nitems = feeds * items;

	t_gen = now_s();
	docs = xcalloc((size_t)feeds, sizeof *docs);
	for (f = 0; f < feeds; f++)
		docs[f] = make_doc(f, 0, items);
	t_gen = now_s() - t_gen;

	if (!first_only) {
		snprintf(path, sizeof path, "%s/raw.db", argv[1]);
		unlink(path);
		c_raw = cpu_s();
		w_raw = written();
		t_raw = raw_inserts(path, docs, feeds);
		c_raw = cpu_s() - c_raw;
		w_raw = written() - w_raw;
	}

	snprintf(path, sizeof path, "%s/state.db", argv[1]);
	unlink(path);
	if ((st = store_open(path, &cause)) == NULL)
		fatalx("%s", cause);
	c_base = cpu_s();
	w_base = written();
	t_base = cycle(st, docs, feeds, 0, &r);
	c_base = cpu_s() - c_base;
	w_base = written() - w_base;
	if (r.nbaseline != (size_t)nitems)
		fatalx("baseline: %zu items", r.nbaseline);
	if (first_only) {
		printf("ingest, first poll     %8.3f s  %6.3f ms/feed  cpu "
		       "%6.3f s  written %.1f MB\n",
		    t_base, 1000 * t_base / feeds, c_base, w_base / 1e6);
		free_docs(docs, feeds);
		store_close(st);
		return 0;
	}

	docs2 = xcalloc((size_t)feeds, sizeof *docs2);
	for (f = 0; f < feeds; f++)
		docs2[f] = make_doc(f, 1, items);
	c_new = cpu_s();
	w_new = written();
	t_new = cycle(st, docs2, feeds, 0, &r);
	c_new = cpu_s() - c_new;
	w_new = written() - w_new;
	if (r.nnew != (size_t)nitems)
		fatalx("new: %zu items", r.nnew);
	printf("new cycle: %zu alerts, %zu outbox rows\n", r.nalerts, r.nrows);

	commits = store_commits(st);
	c_steady = cpu_s();
	w_steady = written();
	t_steady = cycle(st, docs2, feeds, 0, &r);
	c_steady = cpu_s() - c_steady;
	w_steady = written() - w_steady;
	commits = store_commits(st) - commits;
	if (r.nunchanged != (size_t)nitems || r.nrows != 0)
		fatalx("steady: %zu unchanged", r.nunchanged);

	c_single = store_commits(st);
	t_single = cycle_304(st, feeds, 0);
	c_single = store_commits(st) - c_single;
	c_batch = store_commits(st);
	t_batch = cycle_304(st, feeds, 1);
	c_batch = store_commits(st) - c_batch;

	printf("%d feeds x %d items = %d items\n", feeds, items, nitems);
	printf("generate items         %8.3f s\n", t_gen);
	printf("raw sqlite3 inserts    %8.3f s  (1 txn per feed)"
	       "                  cpu %6.3f s  written %6.1f MB\n",
	    t_raw, c_raw, w_raw / 1e6);
	printf("ingest, first poll     %8.3f s  %5.2fx raw  %6.3f ms/feed  cpu "
	       "%6.3f s  written %6.1f MB\n",
	    t_base, t_base / t_raw, 1000 * t_base / feeds, c_base,
	    w_base / 1e6);
	printf("ingest, all new        %8.3f s  %5.2fx raw  %6.3f ms/feed  cpu "
	       "%6.3f s  written %6.1f MB\n",
	    t_new, t_new / t_raw, 1000 * t_new / feeds, c_new, w_new / 1e6);
	printf("ingest, nothing new    %8.3f s  %5.2fx raw  %6.3f ms/feed  cpu "
	       "%6.3f s  written %6.1f MB\n",
	    t_steady, t_steady / t_raw, 1000 * t_steady / feeds, c_steady,
	    w_steady / 1e6);
	printf("steady state: %.2f transactions per poll\n",
	    (double)commits / feeds);
	printf("304 cycle, store_feed_put x %d  %8.3f s  %llu transactions\n",
	    feeds, t_single, (unsigned long long)c_single);
	printf("304 cycle, one store_feeds_put  %8.3f s  %llu transaction,"
	       " %.1fx faster\n",
	    t_batch, (unsigned long long)c_batch, t_single / t_batch);
	printf("first cycle ingest as a share of a 10-minute cycle: %.2f%%\n",
	    100 * t_base / 600);
	free_docs(docs, feeds);
	free_docs(docs2, feeds);
	store_close(st);
	return 0;
}

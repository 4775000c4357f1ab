/*
 * Helpers shared by the store tests and the crash test: a temporary
 * store, generated feed documents, a matcher, and direct SQL counts.
 */
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "item.h"
#include "store.h"
#include "xmalloc.h"

/* Item I of a generated feed: key "KEYPREFIX-I", title "TITLE I", link
 * "http://example.com/LINKPREFIX/I", a summary, no dates. */
static inline void
fixture_item(struct item *it, const char *keyprefix, const char *title,
    const char *linkprefix, int i)
{
	memset(it, 0, sizeof *it);
	xasprintf(&it->key, "%s-%d", keyprefix, i);
	xasprintf(&it->title_text, "%s %d", title, i);
	xasprintf(&it->link, "%s/%d", linkprefix, i);
	xasprintf(&it->summary_text, "Summary of item %d.", i);
	it->published = ITEM_TIME_NONE;
	it->updated = ITEM_TIME_NONE;
}

/* Items FIRST .. FIRST + N - 1. */
static inline struct feed_doc *
fixture_doc(const char *keyprefix, const char *title, const char *linkprefix,
    int first, int n)
{
	struct feed_doc *doc = xcalloc(1, sizeof *doc);
	int i;

	doc->format = FEED_FORMAT_RSS20;
	doc->items = xcalloc((size_t)n + 1, sizeof *doc->items);
	doc->nitems = (size_t)n;
	for (i = 0; i < n; i++)
		fixture_item(
		    &doc->items[i], keyprefix, title, linkprefix, first + i);
	return doc;
}

/* The matcher of the tests: every item alerts watchlist "all" (notifiers
 * a and b, no updates) and, when updates is set, "upd" (notifier a,
 * wants updates). fail_at > 0 fails on that call. */
struct fixture_matcher {
	int updates;
	int fail_at;
	int calls;
	int only_even; /* alert only items whose number is even */
};

static inline int
fixture_match(void *arg, const char *feed_url, const struct item *item,
    int is_update, struct store_match *m)
{
	static const char *const both[] = {"a", "b"};
	static const char *const one[] = {"a"};
	struct fixture_matcher *fm = arg;
	struct store_alert alert;
	const char *dash;
	char payload[512];

	fm->calls++;
	if (fm->fail_at > 0 && fm->calls == fm->fail_at)
		return -1;
	if (fm->only_even && (dash = strrchr(item->key, '-')) != NULL &&
	    atoi(dash + 1) % 2 != 0)
		return 0;
	snprintf(payload, sizeof payload, "{\"feed\":\"%s\",\"key\":\"%s\"}",
	    feed_url, item->key);
	memset(&alert, 0, sizeof alert);
	alert.watchlist = "all";
	alert.notifiers = both;
	alert.nnotifiers = 2;
	alert.payload = payload;
	if (store_match_add(m, &alert) == -1)
		return -1;
	if (fm->updates) {
		alert.watchlist = "upd";
		alert.notifiers = one;
		alert.nnotifiers = 1;
		alert.wants_updates = 1;
		if (store_match_add(m, &alert) == -1)
			return -1;
	}
	return 0;
}

/* One integer from SQL run on the store's file through its own
 * connection (-1 on error). */
static inline int64_t
fixture_count(const char *path, const char *fmt, ...)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	va_list ap;
	int64_t n = -1;
	char *sql;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		sqlite3_free(sql);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			n = sqlite3_column_int64(stmt, 0);
		sqlite3_finalize(stmt);
	} else
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	sqlite3_free(sql);
	return n;
}

#endif

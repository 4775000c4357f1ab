/* store: schema and pragmas, feed state, and every rule of the ingest
 * path (baseline, churn guard, cap and summary, updates, idempotence,
 * rollback, retention) on real SQLite files in a temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "alert.h"
#include "store.h"
#include "store_fixture.h"

#define URL "http://example.com/feed.xml"
#define NOW 1700000000
/* Migrations in daemon/store.c: PRAGMA user_version of a current store. */
#define SCHEMA_VERSION 9
/* Back to version 8: feeds without removed_at. */
#define UNDO_SCHEMA_9 "ALTER TABLE feeds DROP COLUMN removed_at;"
/* Back to version 7: the outbox without parked. */
#define UNDO_SCHEMA_8 "ALTER TABLE outbox DROP COLUMN parked;"
/* Back to version 6: the outbox without hold_until and out_of_turn. */
#define UNDO_SCHEMA_7                                                          \
	"ALTER TABLE outbox DROP COLUMN hold_until;"                           \
	"ALTER TABLE outbox DROP COLUMN out_of_turn;"
/*
 * Back to the tables of version 5: items narrow, with seen_seq (every
 * item taken as in the latest fetch), and their texts in item_texts; the
 * feed's present_count, no present set. The link and title hashes of
 * those versions are left NULL (migration 6 drops them).
 */
#define UNDO_SCHEMA_6                                                          \
	"CREATE TABLE items5 ("                                                \
	" id INTEGER PRIMARY KEY,"                                             \
	" feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"    \
	" key TEXT NOT NULL, first_seen INTEGER NOT NULL,"                     \
	" fingerprint BLOB NOT NULL, revision INTEGER NOT NULL DEFAULT 0,"     \
	" link_hash INTEGER, title_hash INTEGER,"                              \
	" seen_seq INTEGER NOT NULL, UNIQUE (feed_id, key));"                  \
	"INSERT INTO items5 SELECT id, feed_id, key, first_seen, fingerprint," \
	" revision, NULL, NULL, (SELECT fetch_seq FROM feeds"                  \
	" WHERE feeds.id = items.feed_id) FROM items;"                         \
	"CREATE TABLE item_texts ("                                            \
	" item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE," \
	" title TEXT, link TEXT, published INTEGER, updated INTEGER,"          \
	" summary_text TEXT, content_text TEXT);"                              \
	"INSERT INTO item_texts SELECT id, title, link, published, updated,"   \
	" summary_text, content_text FROM items;"                              \
	"DROP TABLE items;"                                                    \
	"ALTER TABLE items5 RENAME TO items;"                                  \
	"ALTER TABLE feeds ADD COLUMN present_count INTEGER NOT NULL"          \
	" DEFAULT 0;"                                                          \
	"UPDATE feeds SET present_count = (SELECT count(*) FROM items"         \
	" WHERE items.feed_id = feeds.id);"                                    \
	"ALTER TABLE feeds DROP COLUMN present;"

/* What migration 3 adds, taken away again: a version 2 database. */
#define UNDO_SCHEMA_3                                                          \
	"ALTER TABLE feeds DROP COLUMN failing_since;"                         \
	"ALTER TABLE feeds DROP COLUMN moved_to;"                              \
	"ALTER TABLE feeds DROP COLUMN redirect_seen;"                         \
	"ALTER TABLE feeds DROP COLUMN redirect_count;"                        \
	"DROP TABLE self_alerts;"

struct env {
	char dir[64];
	char path[128];
	struct store *st;
};

static int
setup(void **state)
{
	struct env *env = xcalloc(1, sizeof *env);
	char *cause = NULL;

	snprintf(env->dir, sizeof env->dir, "/tmp/fw-store-XXXXXX");
	if (mkdtemp(env->dir) == NULL)
		return -1;
	snprintf(env->path, sizeof env->path, "%s/state.db", env->dir);
	if ((env->st = store_open(env->path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return -1;
	}
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	char cmd[160];

	store_close(env->st);
	snprintf(cmd, sizeof cmd, "rm -rf %s", env->dir);
	if (system(cmd) != 0)
		return -1;
	free(env);
	return 0;
}

static struct store_feed
feed_of(const char *url)
{
	struct store_feed f;

	memset(&f, 0, sizeof f);
	f.url = (char *)url;
	f.last_status = 200;
	f.last_success_at = NOW;
	return f;
}

/* Run SQL on the store's file from a connection of the test's own. */
static void
exec_sql(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, 0, 0, 0), SQLITE_OK);
	sqlite3_close(db);
}

/* Ingest DOC (freed) for URL at time NOW; fails the test on error. */
static struct store_ingest_result
ingest_at(struct env *env, const char *url, struct feed_doc *doc,
    struct fixture_matcher *fm, int64_t now, int64_t max_age)
{
	struct store_feed f = feed_of(url);
	struct store_ingest_options o = {now, max_age, 0};
	struct store_ingest_result r;
	char *cause = NULL;

	if (store_ingest(env->st, &f, doc, &o, fixture_match, fm, &r, &cause) ==
	    -1)
		fail_msg("ingest: %s", cause);
	feed_doc_free(doc);
	return r;
}

static struct store_ingest_result
ingest(struct env *env, struct feed_doc *doc, struct fixture_matcher *fm)
{
	return ingest_at(env, URL, doc, fm, NOW, 0);
}

static void
test_open(void **state)
{
	struct env *env = *state;
	struct stat sb;
	char *cause = NULL;

	assert_int_equal(stat(env->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(
	    fixture_count(env->path, "PRAGMA user_version"), SCHEMA_VERSION);
	assert_int_equal(store_check(env->st, &cause), 0);
	/* a new store's pages are 8 KiB (half the writes of SQLite's 4) */
	assert_int_equal(fixture_count(env->path, "PRAGMA page_size"), 8192);
	/* WAL is persistent: a fresh connection sees it. */
	assert_int_equal(fixture_count(env->path,
			     "SELECT journal_mode = 'wal' FROM "
			     "pragma_journal_mode"),
	    1);
	/* Reopening migrates nothing and keeps the data. */
	ingest(env, fixture_doc("k", "T", "http://example.com/p", 0, 3), NULL);
	store_close(env->st);
	assert_non_null(env->st = store_open(env->path, &cause));
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 3);
	/* A schema from a newer feedwatch is refused. */
	store_close(env->st);
	exec_sql(env->path, "PRAGMA user_version = 99");
	env->st = store_open(env->path, &cause);
	assert_null(env->st);
	assert_non_null(strstr(cause, "newer"));
	free(cause);
	/* A database of schema 2 (before self-alerts) is upgraded in place
	 * and keeps its data. */
	exec_sql(env->path,
	    UNDO_SCHEMA_9 UNDO_SCHEMA_8 UNDO_SCHEMA_7 UNDO_SCHEMA_6
		UNDO_SCHEMA_3 "PRAGMA user_version = 2");
	assert_non_null(env->st = store_open(env->path, &cause));
	assert_int_equal(
	    fixture_count(env->path, "PRAGMA user_version"), SCHEMA_VERSION);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 3);
	assert_int_equal(
	    fixture_count(env->path,
		"SELECT count(*) FROM feeds WHERE failing_since = 0"),
	    1);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM self_alerts"), 0);
}

/* A store made with other pages (an earlier feedwatch's 4 KiB) keeps
 * them, and works. */
static void
test_page_size_kept(void **state)
{
	struct env *env = *state;
	struct store *st;
	struct store_feed f = feed_of(URL), got;
	char path[192], *cause = NULL;

	snprintf(path, sizeof path, "%s/small.db", env->dir);
	exec_sql(path,
	    "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;"
	    "CREATE TABLE x (a);");
	assert_non_null(st = store_open(path, &cause));
	assert_int_equal(fixture_count(path, "PRAGMA page_size"), 4096);
	assert_int_equal(store_feed_put(st, &f, &cause), 0);
	assert_int_equal(store_feed_get(st, URL, &got, &cause), 0);
	assert_string_equal(got.url, URL);
	store_feed_clear(&got);
	store_close(st);
}

/*
 * An upgrade over several versions is whole or not at all: a step that
 * fails (here the last, whose column is already there) leaves the store
 * at the version it had, with none of the earlier steps applied, so that
 * a fixed feedwatch upgrades it from where it was.
 */
static void
test_upgrade_whole(void **state)
{
	struct env *env = *state;
	char *cause = NULL;

	ingest(env, fixture_doc("k", "T", "http://example.com/p", 0, 3), NULL);
	store_close(env->st);
	env->st = NULL;
	exec_sql(env->path,
	    UNDO_SCHEMA_9 UNDO_SCHEMA_8 UNDO_SCHEMA_7 UNDO_SCHEMA_6
		UNDO_SCHEMA_3 "ALTER TABLE feeds ADD COLUMN removed_at INTEGER;"
			      "PRAGMA user_version = 2");
	assert_null(store_open(env->path, &cause));
	assert_non_null(cause);
	free(cause);
	assert_int_equal(fixture_count(env->path, "PRAGMA user_version"), 2);
	/* migration 3's column and table are not there either */
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM pragma_table_info('feeds') "
			     "WHERE name = 'failing_since'"),
	    0);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM sqlite_master WHERE name = "
			     "'self_alerts'"),
	    0);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 3);
	/* once the obstacle is gone, the same store upgrades */
	exec_sql(env->path, "ALTER TABLE feeds DROP COLUMN removed_at;");
	assert_non_null(env->st = store_open(env->path, &cause));
	assert_int_equal(
	    fixture_count(env->path, "PRAGMA user_version"), SCHEMA_VERSION);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 3);
}

/* A digest worked out ahead (store_doc_digest, on a parser thread in the
 * daemon) is the one the store works out itself: the same items read as
 * unchanged, and a changed text as an update, either way. */
static void
test_doc_digest(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_ingest_result r;
	struct feed_doc *doc;
	size_t i;

	ingest(env, fixture_doc("k", "T", "http://example.com/p", 0, 4), &fm);
	doc = fixture_doc("k", "T", "http://example.com/p", 0, 4);
	store_doc_digest(doc);
	for (i = 0; i < doc->nitems; i++)
		assert_int_equal(doc->items[i].digest.set, 1);
	r = ingest(env, doc, &fm);
	assert_int_equal(r.nunchanged, 4);
	assert_int_equal(r.nupdated, 0);
	doc = fixture_doc("k", "T", "http://example.com/p", 0, 4);
	free(doc->items[2].title_text);
	doc->items[2].title_text = xstrdup("T changed");
	store_doc_digest(doc);
	r = ingest(env, doc, &fm);
	assert_int_equal(r.nunchanged, 3);
	assert_int_equal(r.nupdated, 1);
	/* the stored copy is measured by the digest's lengths */
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM items WHERE title = "
			     "'T changed'"),
	    1);
	store_doc_digest(NULL);
}

/*
 * A store written by schema version 1 (an index on items(first_seen),
 * which version 2 drops) upgrades on open: its items stay and are still
 * recognised (unchanged, churn), and retention works without the index.
 */
static void
test_upgrade(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_ingest_result r;
	size_t npruned = 0;
	char *cause = NULL;

	ingest_at(env, URL,
	    fixture_doc("k", "T", "http://example.com/p", 0, 10), &fm,
	    NOW - 100 * 86400, 0);
	store_close(env->st);
	env->st = NULL;
	/* Back to version 1: the same tables, with its indexes. */
	exec_sql(env->path,
	    UNDO_SCHEMA_9 UNDO_SCHEMA_8 UNDO_SCHEMA_7 UNDO_SCHEMA_6
		UNDO_SCHEMA_3 "CREATE INDEX items_first_seen ON "
			      "items(first_seen); PRAGMA user_version = 1");
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM sqlite_master WHERE name = "
			     "'items_first_seen'"),
	    1);

	assert_non_null(env->st = store_open(env->path, &cause));
	assert_int_equal(
	    fixture_count(env->path, "PRAGMA user_version"), SCHEMA_VERSION);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM sqlite_master WHERE name = "
			     "'items_first_seen'"),
	    0);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM sqlite_master WHERE name IN "
			     "('items_link', 'items_title')"),
	    0);
	assert_int_equal(store_check(env->st, &cause), 0);
	/* The stored items are known: the same document is unchanged. */
	r = ingest_at(env, URL,
	    fixture_doc("k", "T", "http://example.com/p", 0, 10), &fm,
	    NOW - 100 * 86400, 0);
	assert_int_equal(r.nunchanged, 10);
	assert_int_equal(r.nnew, 0);
	/* New keys for the stored links: the churn guard finds them. */
	r = ingest(
	    env, fixture_doc("g", "T", "http://example.com/p", 5, 10), &fm);
	assert_int_equal(r.nrekeyed, 5);
	assert_int_equal(r.nnew, 5);
	/* Items 0-9 are out of the latest fetch and 100 days old. */
	assert_int_equal(store_prune(env->st, NOW, 90 * 86400, NULL, 0,
			     &npruned, NULL, &cause),
	    0);
	assert_int_equal(npruned, 10);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 10);
}

static void
test_feed_state(void **state)
{
	struct env *env = *state;
	struct store_feed in, out;
	char *cause = NULL;

	assert_int_equal(store_feed_get(env->st, URL, &out, &cause), 1);
	memset(&in, 0, sizeof in);
	in.url = (char *)URL;
	in.name = (char *)"Example";
	in.etag = (char *)"\"abc\"";
	in.last_modified = (char *)"Tue, 14 Nov 2023 22:13:20 GMT";
	in.next_poll_at = NOW + 600;
	in.last_poll_at = NOW;
	in.last_status = 410;
	in.last_error = (char *)"gone";
	in.consecutive_failures = 3;
	in.last_success_at = NOW - 100;
	in.gone_reason = (char *)"410 Gone";
	in.failing_since = NOW - 50;
	in.moved_to = (char *)"http://example.com/new.xml";
	in.redirect_seen = (char *)"http://example.com/new.xml";
	in.redirect_count = 3;
	assert_int_equal(store_feed_put(env->st, &in, &cause), 0);
	assert_int_equal(store_feed_get(env->st, URL, &out, &cause), 0);
	assert_string_equal(out.name, "Example");
	assert_string_equal(out.etag, "\"abc\"");
	assert_string_equal(out.last_modified, in.last_modified);
	assert_int_equal(out.next_poll_at, NOW + 600);
	assert_int_equal(out.last_poll_at, NOW);
	assert_int_equal(out.last_status, 410);
	assert_string_equal(out.last_error, "gone");
	assert_int_equal(out.consecutive_failures, 3);
	assert_int_equal(out.last_success_at, NOW - 100);
	assert_string_equal(out.gone_reason, "410 Gone");
	assert_int_equal(out.first_poll_done, 0);
	assert_int_equal(out.failing_since, NOW - 50);
	assert_string_equal(out.moved_to, "http://example.com/new.xml");
	assert_string_equal(out.redirect_seen, "http://example.com/new.xml");
	assert_int_equal(out.redirect_count, 3);
	store_feed_clear(&out);
	/* An update clears what is now NULL; ingest sets first_poll_done. */
	in.etag = NULL;
	in.gone_reason = NULL;
	assert_int_equal(store_feed_put(env->st, &in, &cause), 0);
	ingest(env, fixture_doc("k", "T", "http://example.com/p", 0, 1), NULL);
	assert_int_equal(store_feed_get(env->st, URL, &out, &cause), 0);
	assert_null(out.gone_reason);
	assert_int_equal(out.first_poll_done, 1);
	store_feed_clear(&out);
	assert_int_equal(store_feed_delete(env->st, URL, &cause), 0);
	assert_int_equal(store_feed_get(env->st, URL, &out, &cause), 1);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 0);
}

/* The feeds of the configuration: one out of it is marked; back soon, it
 * goes on where it was; back after FORGET or more, it is forgotten with
 * its items, and its next document is a baseline again. */
static void
test_feeds_present(void **state)
{
	struct env *env = *state;
	static const char *const B = "http://b.example/feed";
	const char *both[] = {URL, B}, *only_b[] = {B};
	const int64_t forget = 86400;
	struct store_forgotten *fg;
	struct store_ingest_result r;
	struct store_feed out;
	struct fixture_matcher fm = {0};
	char *cause = NULL;
	size_t nfg;

	ingest(env, fixture_doc("a", "T", "http://example.com/a", 0, 3), NULL);
	ingest_at(env, B, fixture_doc("b", "T", "http://example.com/b", 0, 2),
	    NULL, NOW, 0);
#define PRESENT(v, n, now)                                                     \
	do {                                                                   \
		assert_int_equal(store_feeds_present(env->st, v, n, NULL, 0,   \
				     now, forget, &fg, &nfg, &cause),          \
		    0);                                                        \
	} while (0)
#define REMOVED_AT(url)                                                        \
	fixture_count(                                                         \
	    env->path, "SELECT removed_at FROM feeds WHERE url = '%s'", url)
	PRESENT(both, 2, NOW);
	assert_int_equal(nfg, 0);
	assert_int_equal(REMOVED_AT(URL), 0);
	/* out of it: marked once, from the first time */
	PRESENT(only_b, 1, NOW + 10);
	PRESENT(only_b, 1, NOW + 20);
	assert_int_equal(nfg, 0);
	assert_int_equal(REMOVED_AT(URL), NOW + 10);
	assert_int_equal(REMOVED_AT(B), 0);
	/* back within the time: as it was, its items known */
	PRESENT(both, 2, NOW + 10 + forget - 1);
	assert_int_equal(nfg, 0);
	assert_int_equal(REMOVED_AT(URL), 0);
	r = ingest(
	    env, fixture_doc("a", "T", "http://example.com/a", 0, 4), &fm);
	assert_int_equal(r.nnew, 1);
	assert_int_equal(r.nbaseline, 0);
	assert_int_equal(fm.calls, 1);
	/* out, then back after the time but polled on all along by a
	 * daemon that holds it (another process took it out): kept */
	PRESENT(only_b, 1, NOW + 50);
	assert_int_equal(store_feeds_present(env->st, both, 2, both, 2,
			     NOW + 50 + forget, forget, &fg, &nfg, &cause),
	    0);
	assert_int_equal(nfg, 0);
	assert_int_equal(REMOVED_AT(URL), 0);
	/* and a state written marks it back: it is being polled */
	PRESENT(only_b, 1, NOW + 60);
	out = feed_of(URL);
	assert_int_equal(store_feed_put(env->st, &out, &cause), 0);
	assert_int_equal(REMOVED_AT(URL), 0);
	/* out again, then back after the time: forgotten with its items */
	PRESENT(only_b, 1, NOW + 100);
	PRESENT(both, 2, NOW + 100 + forget);
	assert_int_equal(nfg, 1);
	assert_string_equal(fg[0].url, URL);
	assert_int_equal(fg[0].removed_at, NOW + 100);
	store_forgotten_free(fg, nfg);
	assert_int_equal(store_feed_get(env->st, URL, &out, &cause), 1);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM items WHERE feed_id NOT IN "
			     "(SELECT id FROM feeds WHERE url = '%s')",
			     B),
	    0);
	r = ingest(
	    env, fixture_doc("a", "T", "http://example.com/a", 0, 5), &fm);
	assert_int_equal(r.nnew, 0);
	assert_int_equal(r.nbaseline, 5);
	assert_int_equal(fm.calls, 1);
	/* the other feed was never touched */
	assert_int_equal(REMOVED_AT(B), 0);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 2 + 5);
#undef PRESENT
#undef REMOVED_AT
}

/* A feed out of the configuration for longer than the retention goes
 * with its items, though its latest fetch held them all; one still in
 * it, out for less, or polled by a running daemon, keeps them. */
static void
test_prune_removed(void **state)
{
	struct env *env = *state;
	static const char *const B = "http://b.example/feed";
	const char *only_b[] = {B}, *held[] = {URL};
	const int64_t keep = 90 * 86400;
	struct store_forgotten *fg;
	char *cause = NULL;
	size_t nfg, npruned, nfeeds;

	ingest(env, fixture_doc("a", "T", "http://example.com/a", 0, 3), NULL);
	ingest_at(env, B, fixture_doc("b", "T", "http://example.com/b", 0, 2),
	    NULL, NOW, 0);
	assert_int_equal(store_feeds_present(env->st, only_b, 1, NULL, 0,
			     NOW + 10, 86400, &fg, &nfg, &cause),
	    0);
	store_forgotten_free(fg, nfg);
	/* out for less than the retention: kept */
	assert_int_equal(store_prune(env->st, NOW + 10 + keep, keep, NULL, 0,
			     &npruned, NULL, &cause),
	    0);
	assert_int_equal(npruned, 0);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 3 + 2);
	/* out for longer, but polled by a running daemon: kept */
	assert_int_equal(store_prune(env->st, NOW + 11 + keep, keep, held, 1,
			     &npruned, &nfeeds, &cause),
	    0);
	assert_int_equal(npruned, 0);
	assert_int_equal(nfeeds, 0);
	/* out for longer: the feed and its three items go, B stays */
	assert_int_equal(store_prune(env->st, NOW + 11 + keep, keep, NULL, 0,
			     &npruned, &nfeeds, &cause),
	    0);
	assert_int_equal(npruned, 3);
	assert_int_equal(nfeeds, 1);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 2);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM feeds"), 1);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM feeds WHERE url = '%s'", B),
	    1);
}

/*
 * Retention in steps, each its own transaction: STEP items looked at, or
 * the feeds that go (each whole, with all its items), or STEP outbox rows;
 * the steps of a run do what one run does. A feed held when its turn
 * comes stays, with all its items.
 */
static void
test_prune_steps(void **state)
{
	struct env *env = *state;
	static const char *const B = "http://b.example/feed";
	const char *only_a[] = {URL}, *held[] = {B};
	const int64_t keep = 90 * 86400, old = NOW - 100 * 86400;
	/* what each step does: its status, the phase it leaves the run in
	 * (an item id, -1 the feeds that go, -2 the outbox, 0 done), the
	 * items and feeds it deletes, the delivered alerts left after it */
	static const struct {
		int rc;
		int64_t cursor;
		size_t n, nfeeds;
		int64_t delivered;
	} want[] = {
	    {1, 4, 4, 0, 5}, /* A's old items */
	    {1, 8, 4, 0, 5}, {1, 12, 4, 0, 5},
	    {1, 16, 0, 0, 5}, /* B's, in its latest fetch */
	    {1, 20, 0, 0, 5}, /* B's last one, A's new ones */
	    {1, -1, 0, 0, 5}, /* none left */
	    {1, -2, 0, 0, 5}, /* B is held: it stays, whole */
	    {1, -2, 0, 0, 1}, /* four alerts */
	    {0, 0, 0, 0, 0}, /* the last */
	};
	struct fixture_matcher fm = {0};
	struct store_forgotten *fg;
	size_t nfg, n, nfeeds, i;
	char *cause = NULL, *err = NULL;
	int64_t cursor = 0;
	sqlite3 *db;
	int rc;

	/* A: twelve items out of its latest fetch for 100 days, three in
	 * it; B: five items, out of the configuration for 95 days */
	ingest_at(env, URL,
	    fixture_doc("o", "T", "http://example.com/o", 0, 12), NULL, old, 0);
	ingest_at(env, B, fixture_doc("b", "T", "http://example.com/b", 0, 5),
	    NULL, old, 0);
	ingest(env, fixture_doc("n", "T", "http://example.com/n", 0, 3), &fm);
	assert_int_equal(store_feeds_present(env->st, only_a, 1, NULL, 0,
			     NOW - 95 * 86400, 365 * 86400, &fg, &nfg, &cause),
	    0);
	store_forgotten_free(fg, nfg);
	/* five delivered alerts of long ago */
	assert_int_equal(sqlite3_open(env->path, &db), SQLITE_OK);
	for (i = 0; i < 5; i++) {
		char *sql = sqlite3_mprintf(
		    "INSERT INTO outbox (id, alert_id, watchlist, notifier, "
		    "feed_url, item_key, revision, payload, state, "
		    "next_attempt_at, created_at) VALUES ('o%d', 'a', 'w', "
		    "'n', '%s', 'k%d', 0, '{}', 'delivered', 0, %lld)",
		    (int)i, URL, (int)i, (long long)old);

		if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
			fail_msg("%s", err);
		sqlite3_free(sql);
	}
	sqlite3_close(db);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 20);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		rc = store_prune_step(env->st, NOW, keep, i == 6 ? held : NULL,
		    i == 6 ? 1 : 0, 4, &cursor, &n, &nfeeds, &cause);
		if (rc != want[i].rc || cursor != want[i].cursor ||
		    n != want[i].n || nfeeds != want[i].nfeeds ||
		    fixture_count(env->path,
			"SELECT count(*) FROM outbox WHERE state = "
			"'delivered'") != want[i].delivered)
			fail_msg("step %zu: %d, cursor %lld, %zu items, %zu "
				 "feeds",
			    i, rc, (long long)cursor, n, nfeeds);
	}
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 3 + 5);
	/* the next run, B not held: it goes whole, in one step though it
	 * has more items than STEP */
	cursor = 0;
	for (i = 0; (rc = store_prune_step(env->st, NOW, keep, NULL, 0, 4,
			 &cursor, &n, &nfeeds, &cause)) == 1;
	     i++) {
		assert_true(i < 8);
		if (nfeeds > 0) {
			assert_int_equal(nfeeds, 1);
			assert_int_equal(n, 5);
		} else
			assert_int_equal(n, 0);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 3);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM feeds WHERE url = '%s'", B),
	    0);
	/* the three new items' pending alerts stay */
	assert_true(
	    fixture_count(env->path,
		"SELECT count(*) FROM outbox WHERE state = 'pending'") > 0);
}

/* Several feeds' state in one transaction: all or none. */
static void
test_feeds_put(void **state)
{
	struct env *env = *state;
	static const char *const urls[] = {"http://a.example/feed",
	    "http://b.example/feed", "http://c.example/feed"};
	struct store_feed in[3], bad, out;
	const struct store_feed *batch[4];
	char *cause = NULL;
	uint64_t commits;
	size_t i;

	memset(in, 0, sizeof in);
	for (i = 0; i < 3; i++) {
		in[i].url = (char *)urls[i];
		in[i].etag = (char *)"\"v1\"";
		in[i].last_status = 200;
		in[i].next_poll_at = NOW + (int64_t)i;
		batch[i] = &in[i];
	}
	commits = store_commits(env->st);
	assert_int_equal(store_feeds_put(env->st, batch, 0, &cause), 0);
	assert_int_equal(store_commits(env->st), commits);
	assert_int_equal(store_feeds_put(env->st, batch, 3, &cause), 0);
	assert_null(cause);
	assert_int_equal(store_commits(env->st), commits + 1);
	for (i = 0; i < 3; i++) {
		assert_int_equal(
		    store_feed_get(env->st, urls[i], &out, &cause), 0);
		assert_string_equal(out.etag, "\"v1\"");
		assert_int_equal(out.last_status, 200);
		assert_int_equal(out.next_poll_at, NOW + (int64_t)i);
		store_feed_clear(&out);
	}
	/* a 304 cycle: new state for every feed, one commit */
	for (i = 0; i < 3; i++) {
		in[i].last_status = 304;
		in[i].next_poll_at = NOW + 600;
	}
	assert_int_equal(store_feeds_put(env->st, batch, 3, &cause), 0);
	assert_int_equal(store_commits(env->st), commits + 2);
	assert_int_equal(store_feed_get(env->st, urls[2], &out, &cause), 0);
	assert_int_equal(out.last_status, 304);
	assert_int_equal(out.next_poll_at, NOW + 600);
	store_feed_clear(&out);
	/* one bad feed: nothing of the batch is written */
	memset(&bad, 0, sizeof bad);
	in[0].last_status = 500;
	batch[0] = &in[0];
	batch[1] = &bad;
	batch[2] = &in[2];
	assert_int_equal(store_feeds_put(env->st, batch, 3, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(store_commits(env->st), commits + 2);
	assert_int_equal(store_feed_get(env->st, urls[0], &out, &cause), 0);
	assert_int_equal(out.last_status, 304);
	store_feed_clear(&out);
	/* and the store still takes writes */
	assert_int_equal(store_feeds_put(env->st, batch, 1, &cause), 0);
	assert_int_equal(store_feed_get(env->st, urls[0], &out, &cause), 0);
	assert_int_equal(out.last_status, 500);
	store_feed_clear(&out);
}

/*
 * A VFS over the default one that counts the syncs of write-ahead logs,
 * to see which commits wait for the disk.
 */
struct sync_file {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct */
	int wal;
};

static sqlite3_vfs *sync_real_vfs;
static int sync_wal_syncs;
static int sync_fail_wal_writes; /* writes to the log fail (I/O error) */

#define SYNC_REAL(f) (((struct sync_file *)(f))->real)

static int
sync_close(sqlite3_file *f)
{
	int rc = SYNC_REAL(f)->pMethods->xClose(SYNC_REAL(f));

	f->pMethods = NULL;
	return rc;
}

static int
sync_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
	return SYNC_REAL(f)->pMethods->xRead(SYNC_REAL(f), b, n, o);
}

static int
sync_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	if (((struct sync_file *)f)->wal && sync_fail_wal_writes)
		return SQLITE_IOERR_WRITE;
	return SYNC_REAL(f)->pMethods->xWrite(SYNC_REAL(f), b, n, o);
}

static int
sync_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return SYNC_REAL(f)->pMethods->xTruncate(SYNC_REAL(f), size);
}

static int
sync_sync(sqlite3_file *f, int flags)
{
	if (((struct sync_file *)f)->wal)
		sync_wal_syncs++;
	return SYNC_REAL(f)->pMethods->xSync(SYNC_REAL(f), flags);
}

static int
sync_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return SYNC_REAL(f)->pMethods->xFileSize(SYNC_REAL(f), size);
}

static int
sync_lock(sqlite3_file *f, int l)
{
	return SYNC_REAL(f)->pMethods->xLock(SYNC_REAL(f), l);
}

static int
sync_unlock(sqlite3_file *f, int l)
{
	return SYNC_REAL(f)->pMethods->xUnlock(SYNC_REAL(f), l);
}

static int
sync_reserved(sqlite3_file *f, int *out)
{
	return SYNC_REAL(f)->pMethods->xCheckReservedLock(SYNC_REAL(f), out);
}

static int
sync_control(sqlite3_file *f, int op, void *arg)
{
	return SYNC_REAL(f)->pMethods->xFileControl(SYNC_REAL(f), op, arg);
}

static int
sync_sector(sqlite3_file *f)
{
	return SYNC_REAL(f)->pMethods->xSectorSize(SYNC_REAL(f));
}

static int
sync_device(sqlite3_file *f)
{
	return SYNC_REAL(f)->pMethods->xDeviceCharacteristics(SYNC_REAL(f));
}

static int
sync_shm_map(sqlite3_file *f, int i, int sz, int extend, void volatile **p)
{
	return SYNC_REAL(f)->pMethods->xShmMap(SYNC_REAL(f), i, sz, extend, p);
}

static int
sync_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return SYNC_REAL(f)->pMethods->xShmLock(SYNC_REAL(f), offset, n, flags);
}

static void
sync_shm_barrier(sqlite3_file *f)
{
	SYNC_REAL(f)->pMethods->xShmBarrier(SYNC_REAL(f));
}

static int
sync_shm_unmap(sqlite3_file *f, int del)
{
	return SYNC_REAL(f)->pMethods->xShmUnmap(SYNC_REAL(f), del);
}

static const sqlite3_io_methods sync_methods = {
    2, /* no xFetch: SQLite then reads with xRead */
    sync_close,
    sync_read,
    sync_write,
    sync_truncate,
    sync_sync,
    sync_size,
    sync_lock,
    sync_unlock,
    sync_reserved,
    sync_control,
    sync_sector,
    sync_device,
    sync_shm_map,
    sync_shm_lock,
    sync_shm_barrier,
    sync_shm_unmap,
    NULL,
    NULL,
};

static int
sync_open(
    sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct sync_file *sf = (struct sync_file *)f;
	int rc;

	(void)vfs;
	sf->real = (sqlite3_file *)(sf + 1);
	sf->wal = (flags & SQLITE_OPEN_WAL) != 0;
	rc = sync_real_vfs->xOpen(sync_real_vfs, name, sf->real, flags, out);
	f->pMethods = rc == SQLITE_OK ? &sync_methods : NULL;
	return rc;
}

static int
sync_delete(sqlite3_vfs *vfs, const char *name, int dirsync)
{
	(void)vfs;
	return sync_real_vfs->xDelete(sync_real_vfs, name, dirsync);
}

static int
sync_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return sync_real_vfs->xAccess(sync_real_vfs, name, flags, out);
}

static int
sync_fullname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return sync_real_vfs->xFullPathname(sync_real_vfs, name, n, out);
}

static int
sync_random(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return sync_real_vfs->xRandomness(sync_real_vfs, n, out);
}

static int
sync_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return sync_real_vfs->xSleep(sync_real_vfs, us);
}

static int
sync_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return sync_real_vfs->xCurrentTime(sync_real_vfs, out);
}

static int
sync_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return sync_real_vfs->xGetLastError(sync_real_vfs, n, out);
}

/* Make the counting (and failing) file system SQLite's default. */
static void
sync_vfs_register(sqlite3_vfs *vfs)
{
	sync_real_vfs = sqlite3_vfs_find(NULL);
	assert_non_null(sync_real_vfs);
	vfs->iVersion = 1;
	vfs->szOsFile = (int)sizeof(struct sync_file) + sync_real_vfs->szOsFile;
	vfs->mxPathname = sync_real_vfs->mxPathname;
	vfs->zName = "fw-sync-count";
	vfs->xOpen = sync_open;
	vfs->xDelete = sync_delete;
	vfs->xAccess = sync_access;
	vfs->xFullPathname = sync_fullname;
	vfs->xRandomness = sync_random;
	vfs->xSleep = sync_sleep;
	vfs->xCurrentTime = sync_time;
	vfs->xGetLastError = sync_error;
	assert_int_equal(sqlite3_vfs_register(vfs, 1), SQLITE_OK);
}

/*
 * Which commits sync the write-ahead log: those that enqueue alerts and
 * every other verb that writes (the outbox's, retention, deleting a
 * feed) do (synchronous=FULL); a feed's state and an ingest without
 * alerts do not, and the other verbs are FULL again after them.
 */
static void
test_sync(void **state)
{
	struct env *env = *state;
	static sqlite3_vfs vfs;
	struct fixture_matcher fm = {0};
	struct store_feed f = feed_of(URL);
	const struct store_feed *batch[1] = {&f};
	struct store_ingest_options opts = {NOW, 0, 0};
	struct store_outbox_row *rows;
	struct feed_doc *doc;
	char path[192], *cause = NULL;
	struct store *st;
	size_t n;
	int before;

	sync_vfs_register(&vfs);
	snprintf(path, sizeof path, "%s/sync.db", env->dir);
	st = store_open(path, &cause);
	assert_non_null(st);

	/* a first poll: baseline, no alert, no sync */
	before = sync_wal_syncs;
	doc = fixture_doc("k", "T", "http://example.com/p", 0, 5);
	assert_int_equal(
	    store_ingest(st, &f, doc, &opts, fixture_match, &fm, NULL, &cause),
	    0);
	feed_doc_free(doc);
	assert_int_equal(sync_wal_syncs, before);
	/* a feed's state, alone or in a batch: no sync */
	assert_int_equal(store_feed_put(st, &f, &cause), 0);
	assert_int_equal(store_feeds_put(st, batch, 1, &cause), 0);
	assert_int_equal(sync_wal_syncs, before);
	/* new items that alert: synced before the call returns */
	doc = fixture_doc("n", "N", "http://example.com/q", 0, 2);
	assert_int_equal(
	    store_ingest(st, &f, doc, &opts, fixture_match, &fm, NULL, &cause),
	    0);
	feed_doc_free(doc);
	assert_true(sync_wal_syncs > before);
	/* the outbox path is FULL again after relaxed commits */
	assert_int_equal(store_feed_put(st, &f, &cause), 0);
	before = sync_wal_syncs;
	assert_int_equal(
	    store_outbox_claim(st, "a", NOW, 1, &rows, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_true(sync_wal_syncs > before);
	before = sync_wal_syncs;
	assert_int_equal(store_outbox_finish(st, rows[0].id,
			     STORE_OUTBOX_DELIVERED, 0, 0, 0, 0, NULL, &cause),
	    0);
	assert_true(sync_wal_syncs > before);
	store_outbox_rows_free(rows, n);

	/* Every other verb that writes syncs too, right after a relaxed
	 * commit (the connection stays NORMAL until one of them runs). */
#define SYNCS_AFTER_RELAXED(verb)                                              \
	do {                                                                   \
		assert_int_equal(store_feed_put(st, &f, &cause), 0);           \
		before = sync_wal_syncs;                                       \
		assert_int_equal((verb), 0);                                   \
		assert_true(sync_wal_syncs > before);                          \
	} while (0)
	assert_int_equal(
	    store_outbox_list(st, STORE_OUTBOX_PENDING, &rows, &n, &cause), 0);
	assert_true(n >= 3);
	SYNCS_AFTER_RELAXED(store_outbox_retry(st, rows[0].id, NOW, &cause));
	/* rows[0] is due at NOW: a wake at NOW - 1 moves it */
	SYNCS_AFTER_RELAXED(store_outbox_wake(
	    st, rows[0].notifier, NOW - 1, STORE_PARK_NONE, NULL, &cause));
	SYNCS_AFTER_RELAXED(
	    store_self_alert_set(st, (const char *const[]){"outbox"}, 1, 1, NOW,
		NULL, NULL, NULL, &cause));
	SYNCS_AFTER_RELAXED(store_outbox_drop(st, rows[1].id, &cause));
	store_outbox_rows_free(rows, n);
	assert_int_equal(
	    store_outbox_claim(st, "b", NOW, 1, &rows, &n, &cause), 0);
	assert_int_equal(n, 1);
	store_outbox_rows_free(rows, n);
	SYNCS_AFTER_RELAXED(store_outbox_recover(st, NOW, NULL, &cause));
	SYNCS_AFTER_RELAXED(store_prune(
	    st, NOW + 400 * 86400, 86400, NULL, 0, NULL, NULL, &cause));
	SYNCS_AFTER_RELAXED(store_feed_delete(st, URL, &cause));
#undef SYNCS_AFTER_RELAXED

	/* A group commit: no sync before the commit, nor after one that
	 * holds no alert; one with alerts is synced before it returns. */
	f = feed_of("http://example.com/grouped");
	doc = fixture_doc("g", "T", "http://example.com/g", 0, 2);
	before = sync_wal_syncs;
	assert_int_equal(store_batch_begin(st, &cause), 0);
	assert_int_equal(
	    store_ingest(st, &f, doc, &opts, fixture_match, &fm, NULL, &cause),
	    0);
	assert_int_equal(store_batch_commit(st, &cause), 0);
	feed_doc_free(doc);
	assert_int_equal(sync_wal_syncs, before);
	doc = fixture_doc("g", "T", "http://example.com/g", 0, 4);
	assert_int_equal(store_batch_begin(st, &cause), 0);
	assert_int_equal(
	    store_ingest(st, &f, doc, &opts, fixture_match, &fm, NULL, &cause),
	    0);
	assert_int_equal(sync_wal_syncs, before);
	assert_int_equal(store_batch_commit(st, &cause), 0);
	feed_doc_free(doc);
	assert_true(sync_wal_syncs > before);
	store_close(st);
	sqlite3_vfs_unregister(&vfs);
}

/* Test plan: a new feed with 200 items, then one new item. */
/* A first document cut short may be part of the feed: the baseline
 * stays open until a whole one (at most three polls). */
static void
test_baseline_illformed(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_ingest_result r;
	struct feed_doc *doc;
	int i;

	doc = fixture_doc("k", "T", "http://example.com/p", 0, 6);
	doc->bozo = doc->cut_short = 1;
	r = ingest(env, doc, &fm);
	assert_int_equal(r.nbaseline, 6);
	assert_true(r.baseline_open);
	/* The whole feed, clean: the other nine are baseline, not new. */
	r = ingest(
	    env, fixture_doc("k", "T", "http://example.com/p", 0, 15), &fm);
	assert_int_equal(r.nbaseline, 9);
	assert_int_equal(r.nalerts, 0);
	assert_false(r.baseline_open);
	r = ingest(
	    env, fixture_doc("k", "T", "http://example.com/p", 0, 16), &fm);
	assert_int_equal(r.nnew, 1);
	assert_int_equal(r.nalerts, 1);

	/* A feed that is always ill-formed still gets its alerts. */
	{
		struct store_feed f = feed_of("http://example.org/broken");
		struct store_ingest_options o = {NOW, 0, 0};

		for (i = 0; i < 4; i++) {
			doc = fixture_doc(
			    "b", "T", "http://example.org/q", 0, 10 + i);
			doc->bozo = doc->cut_short = 1;
			assert_int_equal(store_ingest(env->st, &f, doc, &o,
					     fixture_match, &fm, &r, NULL),
			    0);
			feed_doc_free(doc);
			assert_int_equal(r.baseline_open, i < 2);
			assert_int_equal(r.nalerts, i < 3 ? 0 : 1);
		}
	}

	/* Whole but not clean (served as text/html, say): its first poll
	 * is the baseline, and the next new item alerts. */
	{
		struct store_feed f = feed_of("http://example.net/html");
		struct store_ingest_options o = {NOW, 0, 0};

		for (i = 0; i < 2; i++) {
			doc = fixture_doc(
			    "h", "T", "http://example.net/r", 0, 5 + i);
			doc->bozo = 1;
			assert_int_equal(store_ingest(env->st, &f, doc, &o,
					     fixture_match, &fm, &r, NULL),
			    0);
			feed_doc_free(doc);
			assert_false(r.baseline_open);
			assert_int_equal(r.nalerts, i);
		}
	}
}

static void
test_baseline(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_ingest_result r;
	struct feed_doc *doc;
	size_t i;

	/* Dated a minute ago: recent, and still no alert. */
	doc = fixture_doc("k", "T", "http://example.com/p", 0, 200);
	for (i = 0; i < doc->nitems; i++)
		doc->items[i].published = NOW - 60;
	r = ingest(env, doc, &fm);
	assert_int_equal(r.nbaseline, 200);
	assert_int_equal(r.nnew, 0);
	assert_int_equal(r.nalerts, 0);
	assert_int_equal(fm.calls, 0);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 200);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM outbox"), 0);
	r = ingest(
	    env, fixture_doc("k", "T", "http://example.com/p", 0, 201), &fm);
	assert_int_equal(r.nnew, 1);
	assert_int_equal(r.nunchanged, 200);
	assert_int_equal(r.nalerts, 1);
	assert_int_equal(r.nrows, 2);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM outbox WHERE item_key = "
			     "'k-200' AND state = 'pending' AND alert_id = "
			     "(SELECT alert_id FROM outbox LIMIT 1)"),
	    2);
}

/* The per-feed option: on the first poll, alert items newer than an age. */
static void
test_first_poll_max_age(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_ingest_result r;
	struct feed_doc *doc;
	static const struct {
		int64_t age; /* seconds before NOW, or -1: no date */
		int alerted;
	} table[] = {
	    {60, 1}, {3600, 1}, {86399, 1}, {86401, 0}, {864000, 0}, {-1, 0}};
	size_t i, n = sizeof table / sizeof table[0];
	int expect = 0;

	doc = fixture_doc("k", "T", "http://example.com/p", 0, (int)n);
	for (i = 0; i < n; i++) {
		if (table[i].age >= 0)
			doc->items[i].published = NOW - table[i].age;
		expect += table[i].alerted;
	}
	r = ingest_at(env, URL, doc, &fm, NOW, 86400);
	assert_int_equal(r.nnew, expect);
	assert_int_equal(r.nbaseline, n - (size_t)expect);
	assert_int_equal(r.nalerts, expect);
	for (i = 0; i < n; i++)
		assert_int_equal(fixture_count(env->path,
				     "SELECT count(*) > 0 FROM outbox WHERE "
				     "item_key = 'k-%d'",
				     (int)i),
		    table[i].alerted);
}

/* Test plan: the publisher rewrites every GUID. */
static void
test_churn_guard(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_ingest_result r;
	static const struct {
		const char *key, *title, *link;
		size_t rekeyed, nnew;
	} table[] = {
	    /* http -> https and a new host: the same links */
	    {"https-guid", "T", "https://www.example.com/p", 50, 0},
	    /* new paths, the same titles */
	    {"new-path", "T", "https://example.org/articles", 50, 0},
	    /* new keys, titles and links: really new, capped */
	    {"fresh", "Other", "http://example.com/fresh", 0, 50},
	};
	size_t i;

	ingest(env, fixture_doc("k", "T", "http://example.com/p", 0, 50), &fm);
	for (i = 0; i < sizeof table / sizeof table[0]; i++) {
		r = ingest(env,
		    fixture_doc(
			table[i].key, table[i].title, table[i].link, 0, 50),
		    &fm);
		assert_int_equal(r.nrekeyed, table[i].rekeyed);
		assert_int_equal(r.nnew, table[i].nnew);
	}
	/* Only the really new ones alerted: 20, plus one summary. */
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(DISTINCT alert_id) FROM outbox"),
	    21);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM outbox WHERE item_key "
			     "NOT LIKE 'fresh-%%' AND watchlist != '*'"),
	    0);
	/* A few new keys with known titles are not a churn: they alert. */
	r = ingest(
	    env, fixture_doc("few", "T", "http://example.com/few", 0, 2), &fm);
	assert_int_equal(r.nrekeyed, 0);
	assert_int_equal(r.nnew, 2);
}

/* More than 20 alertable items in a poll: 20 alerts and one summary. */
static void
test_cap_summary(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_ingest_result r;
	int64_t n;

	ingest(env, fixture_doc("k", "T", "http://example.com/p", 0, 5), &fm);
	r = ingest(
	    env, fixture_doc("k", "T", "http://example.com/p", 0, 40), &fm);
	assert_int_equal(r.nnew, 35);
	assert_int_equal(r.nsummarized, 15);
	assert_int_equal(r.nalerts, 21);
	assert_int_equal(r.nrows, 42);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM outbox WHERE watchlist = "
			     "'all' AND CAST(substr(item_key, 3) AS INTEGER) "
			     "BETWEEN 5 AND 24"),
	    40);
	n = fixture_count(env->path,
	    "SELECT count(*) FROM outbox WHERE watchlist = '*' AND "
	    "json_extract(payload, '$.watchlist') = '*' AND "
	    "json_extract(payload, '$.id') = alert_id AND "
	    "json_extract(payload, '$.item.title') LIKE "
	    "'15 more matching items in one poll%%' AND "
	    "json_extract(payload, '$.item.summary') LIKE 'Watchlists: all%%' "
	    "AND "
	    "(length(json_extract(payload, '$.item.summary')) - "
	    "length(replace(json_extract(payload, '$.item.summary'), "
	    "char(10) || '- ', ''))) / 3 = 15");
	assert_int_equal(n, 2);
	/* It is an alert document every notifier can read. */
	{
		struct store_outbox_row *rows;
		struct alert *a;
		size_t nrows, i, nsummaries = 0;
		char *why = NULL;

		assert_int_equal(
		    store_outbox_list(env->st, -1, &rows, &nrows, NULL), 0);
		for (i = 0; i < nrows; i++) {
			if (strcmp(rows[i].watchlist, "*") != 0)
				continue;
			a = alert_from_json(
			    rows[i].payload, strlen(rows[i].payload), &why);
			if (a == NULL)
				fail_msg("summary payload: %s", why);
			alert_free(a);
			nsummaries++;
		}
		assert_int_equal(nsummaries, 2);
		store_outbox_rows_free(rows, nrows);
	}
	/* A lower per-poll cap, and a matcher that hits half: the summary
	 * counts only the matched items beyond the cap. */
	{
		struct store_feed f = feed_of(URL);
		struct store_ingest_options o = {NOW, 0, 4};
		struct feed_doc *doc =
		    fixture_doc("k", "T", "http://example.com/p", 0, 50);
		struct fixture_matcher half = {0, 0, 0, 1};

		assert_int_equal(store_ingest(env->st, &f, doc, &o,
				     fixture_match, &half, &r, NULL),
		    0);
		feed_doc_free(doc);
		assert_int_equal(r.nnew, 10);
		assert_int_equal(r.nsummarized, 3); /* 44, 46, 48 */
		assert_int_equal(r.nalerts, 3); /* 40, 42 and the summary */
	}
}

/* Items k-0 to k-2, item I with the summary "Corrected summary.". */
static struct feed_doc *
corrected_doc(int i)
{
	struct feed_doc *doc =
	    fixture_doc("k", "T", "http://example.com/p", 0, 3);

	free(doc->items[i].summary_text);
	doc->items[i].summary_text = xstrdup("Corrected summary.");
	return doc;
}

/* A changed fingerprint on a known key is an update; it alerts only the
 * watchlists that ask for updates. */
static void
test_updates(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {1, 0, 0, 0};
	struct store_ingest_result r;
	struct feed_doc *doc;

	ingest(env, fixture_doc("k", "T", "http://example.com/p", 0, 3), &fm);
	r = ingest(env, corrected_doc(1), &fm);
	assert_int_equal(r.nupdated, 1);
	assert_int_equal(r.nunchanged, 2);
	assert_int_equal(r.nalerts, 1);
	assert_int_equal(r.nrows, 1);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM outbox WHERE watchlist = "
			     "'upd' AND item_key = 'k-1' AND revision = 1"),
	    1);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM items WHERE "
			     "summary_text = 'Corrected summary.'"),
	    1);
	/* The same again: unchanged, nothing more. */
	r = ingest(env, corrected_doc(1), &fm);
	assert_int_equal(r.nupdated, 0);
	assert_int_equal(r.nunchanged, 3);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM outbox"), 1);
	/* A title change is an update too; absent differs from empty. */
	doc = corrected_doc(1);
	free(doc->items[2].summary_text);
	doc->items[2].summary_text = NULL;
	r = ingest(env, doc, &fm);
	assert_int_equal(r.nupdated, 1);
}

/* Ingesting the same document again enqueues nothing; a failed matcher
 * leaves nothing behind, so the retry alerts exactly once. */
static void
test_idempotent_and_rollback(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct fixture_matcher failing = {0, 3, 0, 0};
	struct store_ingest_result r;
	struct store_feed f = feed_of(URL);
	struct store_ingest_options o = {NOW, 0, 0};
	struct feed_doc *doc;
	char *cause = NULL;

	ingest(env, fixture_doc("k", "T", "http://example.com/p", 0, 2), &fm);
	doc = fixture_doc("k", "T", "http://example.com/p", 0, 6);
	assert_int_equal(store_ingest(env->st, &f, doc, &o, fixture_match,
			     &failing, &r, &cause),
	    -1);
	assert_non_null(cause);
	free(cause);
	feed_doc_free(doc);
	assert_int_equal(r.nalerts, 0);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 2);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM outbox"), 0);
	r = ingest(
	    env, fixture_doc("k", "T", "http://example.com/p", 0, 6), &fm);
	assert_int_equal(r.nalerts, 4);
	r = ingest(
	    env, fixture_doc("k", "T", "http://example.com/p", 0, 6), &fm);
	assert_int_equal(r.nalerts, 0);
	assert_int_equal(r.nunchanged, 6);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM outbox"), 8);
	/* The uniqueness constraint itself refuses a second row. */
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM (SELECT 1 FROM outbox "
			     "GROUP BY watchlist, feed_url, item_key, "
			     "notifier, revision HAVING count(*) > 1)"),
	    0);
}

static void
test_duplicate_keys(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_ingest_result r;
	struct feed_doc *doc;

	ingest(env, fixture_doc("k", "T", "http://example.com/p", 0, 1), &fm);
	doc = fixture_doc("k", "T", "http://example.com/p", 1, 3);
	free(doc->items[2].key);
	doc->items[2].key = xstrdup("k-1"); /* same key, other text */
	r = ingest(env, doc, &fm);
	assert_int_equal(r.nduplicate, 1);
	assert_int_equal(r.nnew, 2);
	assert_int_equal(r.nupdated, 0);
}

/* Steady state: one commit per poll, whatever the number of items. */
static void
test_one_commit_per_poll(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	uint64_t before;
	int i;

	ingest(env, fixture_doc("k", "T", "http://example.com/p", 0, 100), &fm);
	before = store_commits(env->st);
	for (i = 0; i < 5; i++)
		ingest(env,
		    fixture_doc("k", "T", "http://example.com/p", i, 100), &fm);
	assert_int_equal(store_commits(env->st) - before, 5);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM outbox"), 8);
}

/*
 * A group commit: ingests of several feeds in one transaction, each in a
 * savepoint of its own. One that fails is undone alone; nothing is seen
 * by another connection before the commit; an abort undoes them all; no
 * other writer may run inside.
 */
/* Ingest items KEY-0 .. KEY-(N-1) into feed F at time NOW, in a batch or
 * not. */
static int
ingest_doc(struct store *st, const struct store_feed *f, const char *key, int n,
    struct fixture_matcher *fm, struct store_ingest_result *r, char **cause)
{
	struct store_ingest_options o = {NOW, 0, 0};
	struct feed_doc *doc = fixture_doc(key, "T", f->url, 0, n);
	int rc;

	rc = store_ingest(st, f, doc, &o, fixture_match, fm, r, cause);
	feed_doc_free(doc);
	return rc;
}

/* A VFS that counts what SQLite opens as files through it: all, and
 * the sub-journals of savepoints. */
static sqlite3_vfs count_vfs;
static sqlite3_vfs *count_real;
static atomic_int count_files, count_subjournals; /* the checkpointer's
							thread opens too */

static int
count_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file,
    int flags, int *out)
{
	(void)vfs;
	atomic_fetch_add(&count_files, 1);
	if (flags & SQLITE_OPEN_SUBJOURNAL)
		atomic_fetch_add(&count_subjournals, 1);
	return count_real->xOpen(count_real, name, file, flags, out);
}

static int teardown_counting(void **);

/* The counting VFS as the default, for the store opened again after it.
 * cmocka skips the teardown of a failed setup: this one undoes itself. */
static int
setup_counting(void **state)
{
	struct env *env;
	char *cause = NULL;

	if (setup(state) != 0)
		return -1;
	env = *state;
	store_close(env->st);
	env->st = NULL;
	count_real = sqlite3_vfs_find(NULL);
	if (count_real == NULL) {
		teardown(state);
		return -1;
	}
	count_vfs = *count_real;
	count_vfs.zName = "fw-count";
	count_vfs.xOpen = count_open;
	if (sqlite3_vfs_register(&count_vfs, 1) != SQLITE_OK) {
		teardown(state);
		return -1;
	}
	atomic_store(&count_files, 0);
	atomic_store(&count_subjournals, 0);
	if ((env->st = store_open(env->path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		teardown_counting(state);
		return -1;
	}
	return 0;
}

static int
teardown_counting(void **state)
{
	struct env *env = *state;

	store_close(env->st);
	env->st = NULL;
	sqlite3_vfs_unregister(&count_vfs);
	return teardown(state);
}

/* fixture_doc()'s N items, with contents of LEN bytes of C. */
static struct feed_doc *
doc_with_contents(const char *key, const char *url, int n, size_t len, char c)
{
	struct feed_doc *doc = fixture_doc(key, "T", url, 0, n);
	size_t i;

	for (i = 0; i < doc->nitems; i++) {
		doc->items[i].content_text = xmalloc(len + 1);
		memset(doc->items[i].content_text, c, len);
		doc->items[i].content_text[len] = '\0';
	}
	return doc;
}

/*
 * A group commit keeps its savepoints' sub-journals in memory: 16 feeds
 * of 300 items in one batch, each feed's savepoint changing pages the
 * ones before it changed (the items' last pages, the key index), and a
 * feed's 3,000 items stored and then all changed within one batch (its
 * second savepoint rewrites some 3 MB of pages the batch had written)
 * open no sub-journal file; at SQLite's default (64 KiB in memory,
 * then a file) both did.
 */
static void
test_batch_subjournal(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_ingest_options o = {NOW, 0, 0};
	struct store_feed f[16], big = feed_of("http://big.example/feed");
	struct store_ingest_result r;
	struct feed_doc *doc;
	char urls[16][64], key[16];
	char *cause = NULL;
	size_t i;

	for (i = 0; i < 16; i++) {
		snprintf(
		    urls[i], sizeof urls[i], "http://f%zu.example/feed", i);
		f[i] = feed_of(urls[i]);
	}
	assert_int_equal(store_batch_begin(env->st, &cause), 0);
	for (i = 0; i < 16; i++) {
		snprintf(key, sizeof key, "f%zu", i);
		assert_int_equal(
		    ingest_doc(env->st, &f[i], key, 300, &fm, &r, &cause), 0);
		assert_int_equal(r.nbaseline, 300);
	}
	assert_int_equal(store_batch_commit(env->st, &cause), 0);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 4800);
	assert_true(atomic_load(&count_files) > 0); /* the VFS was used */
	assert_int_equal(atomic_load(&count_subjournals), 0);

	assert_int_equal(store_batch_begin(env->st, &cause), 0);
	doc = doc_with_contents("big", big.url, 3000, 1000, 'a');
	assert_int_equal(store_ingest(env->st, &big, doc, &o, fixture_match,
			     &fm, &r, &cause),
	    0);
	feed_doc_free(doc);
	assert_int_equal(r.nbaseline, 3000);
	assert_int_equal(atomic_load(&count_subjournals), 0);
	doc = doc_with_contents("big", big.url, 3000, 1000, 'b');
	if (store_ingest(
		env->st, &big, doc, &o, fixture_match, &fm, &r, &cause) != 0)
		fail_msg("%s", cause);
	feed_doc_free(doc);
	assert_int_equal(r.nupdated, 3000);
	assert_int_equal(store_batch_commit(env->st, &cause), 0);
	assert_int_equal(atomic_load(&count_subjournals), 0);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM items WHERE content_text "
			     "LIKE 'b%%'"),
	    3000);
}

static void
test_group_commit(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct fixture_matcher failing = {0, 2, 0, 0};
	struct store_feed a = feed_of("http://a.example/feed");
	struct store_feed b = feed_of("http://b.example/feed");
	struct store_feed c = feed_of("http://c.example/feed");
	struct store_ingest_result r;
	char *cause = NULL;
	uint64_t before;

	/* b has a baseline: its next items alert */
	assert_int_equal(ingest_doc(env->st, &b, "b", 2, &fm, &r, NULL), 0);
	before = store_commits(env->st);

	assert_int_equal(store_batch_begin(env->st, &cause), 0);
	assert_int_equal(ingest_doc(env->st, &a, "a", 3, &fm, &r, NULL), 0);
	assert_int_equal(r.nbaseline, 3);
	/* b's matcher fails on its second item: b's ingest is undone */
	assert_int_equal(
	    ingest_doc(env->st, &b, "b", 4, &failing, &r, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(r.nalerts, 0);
	/* ... and the batch goes on: c's baseline, b again */
	assert_int_equal(ingest_doc(env->st, &c, "c", 2, &fm, &r, NULL), 0);
	assert_int_equal(r.nbaseline, 2);
	assert_int_equal(ingest_doc(env->st, &b, "b", 4, &fm, &r, NULL), 0);
	assert_int_equal(r.nnew, 2);
	assert_int_equal(r.nalerts, 2);
	/* nothing but ingests inside a batch */
	assert_int_equal(store_feed_put(env->st, &a, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	/* not committed: another connection sees b's baseline alone */
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 2);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(store_batch_commit(env->st, &cause), 0);
	assert_int_equal(store_commits(env->st) - before, 1);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 9);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM outbox"), 4);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM feeds WHERE "
			     "first_poll_done = 1"),
	    3);
	/* an ingest outside a batch works again */
	r = ingest_at(env, "http://c.example/feed",
	    fixture_doc("c", "T", "http://c.example/p", 0, 3), &fm, NOW, 0);
	assert_int_equal(r.nnew, 1);

	/* an abort undoes every ingest of the batch */
	assert_int_equal(store_batch_begin(env->st, &cause), 0);
	assert_int_equal(ingest_doc(env->st, &a, "a", 5, &fm, &r, NULL), 0);
	assert_int_equal(r.nalerts, 2);
	store_batch_abort(env->st);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM items WHERE key LIKE 'a%%'"),
	    3);
	/* a commit with no batch open is an error, not a silent success */
	assert_int_equal(store_batch_commit(env->st, &cause), -1);
	assert_non_null(cause);
	free(cause);
	/* a batch left open is undone when the store closes */
	assert_int_equal(store_batch_begin(env->st, NULL), 0);
	assert_int_equal(ingest_doc(env->st, &a, "a", 6, &fm, &r, NULL), 0);
	store_close(env->st);
	env->st = store_open(env->path, &cause);
	assert_non_null(env->st);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM items WHERE key LIKE 'a%%'"),
	    3);
}

/*
 * An I/O error in the middle of a batch makes SQLite roll its whole
 * transaction back: the ingests after it must not run outside it (each
 * would commit on its own), and the commit fails; nothing of the batch
 * is stored, and the store works again afterwards.
 */
static void
test_broken_batch(void **state)
{
	struct env *env = *state;
	static sqlite3_vfs vfs;
	struct fixture_matcher fm = {0};
	struct store_feed a = feed_of("http://a.example/feed");
	struct store_feed b = feed_of("http://b.example/feed");
	struct store_feed c = feed_of("http://c.example/feed");
	struct store_ingest_options o = {NOW, 0, 0};
	struct store_ingest_result r;
	struct feed_doc *doc;
	char path[192], *text, *cause = NULL;
	struct store *st;
	int i;

	sync_vfs_register(&vfs);
	snprintf(path, sizeof path, "%s/broken.db", env->dir);
	st = store_open(path, &cause);
	assert_non_null(st);
	assert_int_equal(store_batch_begin(st, &cause), 0);
	assert_int_equal(ingest_doc(st, &a, "a", 3, &fm, &r, NULL), 0);
	/* b's items do not fit the page cache: the spill to the log fails */
	doc = fixture_doc("b", "T", b.url, 0, 1000);
	text = xmalloc(16 * 1024 + 1);
	memset(text, 'y', 16 * 1024);
	text[16 * 1024] = '\0';
	for (i = 0; i < 1000; i++) {
		free(doc->items[i].summary_text);
		doc->items[i].summary_text = xstrdup(text);
	}
	free(text);
	sync_fail_wal_writes = 1;
	assert_int_equal(
	    store_ingest(st, &b, doc, &o, fixture_match, &fm, &r, &cause), -1);
	sync_fail_wal_writes = 0;
	feed_doc_free(doc);
	free(cause);
	cause = NULL;
	/* the batch is gone: c is refused, not committed on its own */
	assert_int_equal(ingest_doc(st, &c, "c", 2, &fm, &r, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(store_batch_commit(st, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(fixture_count(path, "SELECT count(*) FROM items"), 0);
	/* the store goes on */
	assert_int_equal(store_batch_begin(st, &cause), 0);
	assert_int_equal(ingest_doc(st, &c, "c", 2, &fm, &r, NULL), 0);
	assert_int_equal(store_batch_commit(st, &cause), 0);
	assert_int_equal(fixture_count(path, "SELECT count(*) FROM items"), 2);
	store_close(st);
	sqlite3_vfs_unregister(&vfs);
}

/*
 * The checkpointer thread copies the log back into the database once it
 * passes 1,024 pages, while the store stays open: well before SQLite's
 * own checkpoint (8,192 pages) would have.
 */
static void
test_background_checkpoint(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_feed f = feed_of(URL);
	struct store_ingest_options o = {NOW, 0, 0};
	struct feed_doc *doc;
	struct stat sb;
	char *text = xmalloc(12 * 1024 + 1), *cause = NULL;
	int i, j;

	memset(text, 'x', 12 * 1024);
	text[12 * 1024] = '\0';
	assert_int_equal(store_background_checkpoints(env->st), 0);
	for (i = 0; i < 4; i++) { /* 400 items of 12 KiB: about 1,200 pages */
		doc = fixture_doc(
		    "big", "T", "http://example.com/big", 100 * i, 100);
		for (j = 0; j < 100; j++) {
			free(doc->items[j].summary_text);
			doc->items[j].summary_text = xstrdup(text);
		}
		assert_int_equal(store_ingest(env->st, &f, doc, &o,
				     fixture_match, &fm, NULL, &cause),
		    0);
		feed_doc_free(doc);
	}
	free(text);
	for (i = 0; i < 3000 && store_background_checkpoints(env->st) == 0; i++)
		usleep(10 * 1000);
	assert_true(store_background_checkpoints(env->st) > 0);
	/* pages are in the database file itself (before any copy it holds
	 * the schema alone), the store still open */
	for (i = 0; i < 3000; i++) {
		assert_int_equal(stat(env->path, &sb), 0);
		if (sb.st_size > 1024 * 1024)
			break;
		usleep(10 * 1000);
	}
	assert_true(sb.st_size > 1024 * 1024);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 400);
	assert_int_equal(store_check(env->st, &cause), 0);
}

static int
count_item(void *arg, const struct store_item *item)
{
	int *n = arg;

	if (item->present)
		(*n)++;
	return 0;
}

/* Old items go, except those in the feed's latest fetch. */
static void
test_retention(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	size_t npruned = 0;
	char *cause = NULL;
	int present = 0;

	/* Items 0-9 seen 100 days ago; 10-14 today; the latest fetch has
	 * 5-14. */
	ingest_at(env, URL,
	    fixture_doc("k", "T", "http://example.com/p", 0, 10), &fm,
	    NOW - 100 * 86400, 0);
	ingest_at(env, URL,
	    fixture_doc("k", "T", "http://example.com/p", 5, 10), &fm, NOW, 0);
	/* Another feed, not polled since: its latest fetch keeps all. */
	ingest_at(env, "http://other.example/feed",
	    fixture_doc("o", "T", "http://other.example/p", 0, 4), &fm,
	    NOW - 100 * 86400, 0);
	assert_int_equal(store_prune(env->st, NOW, 90 * 86400, NULL, 0,
			     &npruned, NULL, &cause),
	    0);
	assert_int_equal(npruned, 5);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM items WHERE key IN ('k-0', "
			     "'k-1', 'k-2', 'k-3', 'k-4')"),
	    0);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 14);
	assert_int_equal(
	    store_items_foreach(env->st, URL, count_item, &present, &cause), 0);
	assert_int_equal(present, 10);
	/* A pruned item that comes back is new again, and so alerts: the
	 * reason why present items are kept. */
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM outbox"), 5 * 2);
}

/* Ten items whose titles are "N " and PAD. */
static struct feed_doc *
long_titles_doc(const char *keyprefix, const char *linkprefix, const char *pad)
{
	struct feed_doc *doc = fixture_doc(keyprefix, "T", linkprefix, 0, 10);
	size_t i;

	for (i = 0; i < doc->nitems; i++) {
		free(doc->items[i].title_text);
		xasprintf(&doc->items[i].title_text, "%zu %s", i, pad);
	}
	return doc;
}

/*
 * Titles longer than what is stored: the churn guard compares what both
 * sides keep (the stored title is cut at 16 KiB), so new keys and links
 * for the same long titles are still no new items.
 */
static void
test_churn_long_titles(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_ingest_result r;
	char pad[20000];

	memset(pad, 'a', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	r = ingest(env, long_titles_doc("k", "http://example.com/p", pad), &fm);
	assert_int_equal(r.nbaseline, 10);
	r = ingest(env,
	    long_titles_doc("g", "https://example.org/elsewhere", pad), &fm);
	assert_int_equal(r.nrekeyed, 10);
	assert_int_equal(r.nnew, 0);
}

#define FETCH_SEQ "SELECT fetch_seq FROM feeds WHERE url = '%s'"

/* Items FIRST .. FIRST + N - 1 last to first, then FIRST again. */
static struct feed_doc *
reversed_doc(int first, int n)
{
	struct feed_doc *doc =
	    fixture_doc("k", "T", "http://example.com/p", first, n + 1);
	int i;

	for (i = 0; i < n; i++) {
		item_clear(&doc->items[i]);
		fixture_item(&doc->items[i], "k", "T", "http://example.com/p",
		    first + n - 1 - i);
	}
	item_clear(&doc->items[n]);
	fixture_item(&doc->items[n], "k", "T", "http://example.com/p", first);
	return doc;
}

/*
 * The items of the latest fetch are a set on the feed's row: a poll with
 * the same items rewrites nothing, one with other items replaces the
 * set, and a damaged set is rebuilt from the next fetch without losing
 * the poll.
 */
static void
test_present_set(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_ingest_result r;
	size_t npruned = 0;
	char *cause = NULL;
	int present = 0;

	ingest_at(env, URL,
	    fixture_doc("k", "T", "http://example.com/p", 0, 10), &fm,
	    NOW - 100 * 86400, 0);
	assert_int_equal(fixture_count(env->path, FETCH_SEQ, URL), 1);
	/* The same items, in another order and with a repeat: no change */
	r = ingest_at(env, URL, reversed_doc(0, 10), &fm, NOW, 0);
	assert_int_equal(r.nunchanged, 10);
	assert_int_equal(r.nduplicate, 1);
	assert_int_equal(fixture_count(env->path, FETCH_SEQ, URL), 1);
	/* One item fewer: another set */
	r = ingest_at(env, URL,
	    fixture_doc("k", "T", "http://example.com/p", 1, 9), &fm, NOW, 0);
	assert_int_equal(r.nunchanged, 9);
	assert_int_equal(fixture_count(env->path, FETCH_SEQ, URL), 2);
	assert_int_equal(
	    store_items_foreach(env->st, URL, count_item, &present, &cause), 0);
	assert_int_equal(present, 9);
	/* A damaged set (a varint cut short, one too long, a repeat, ids
	 * out of order): retention keeps all of the feed's items, the poll
	 * goes on and writes the set again. */
	exec_sql(env->path, "UPDATE feeds SET present = x'81'");
	assert_int_equal(store_prune(env->st, NOW, 90 * 86400, NULL, 0,
			     &npruned, NULL, &cause),
	    0);
	assert_int_equal(npruned, 0);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 10);
	r = ingest_at(env, URL,
	    fixture_doc("k", "T", "http://example.com/p", 1, 9), &fm, NOW, 0);
	assert_int_equal(r.nunchanged, 9);
	assert_int_equal(fixture_count(env->path, FETCH_SEQ, URL), 3);
	/* 5, then a varint of eleven bytes */
	exec_sql(env->path,
	    "UPDATE feeds SET present = x'05"
	    "80808080808080808080"
	    "01'");
	present = 0;
	assert_int_equal(
	    store_items_foreach(env->st, URL, count_item, &present, &cause), 0);
	assert_int_equal(present, 0);
	exec_sql(env->path, "UPDATE feeds SET present = x'0500'");
	assert_int_equal(
	    store_items_foreach(env->st, URL, count_item, &present, &cause), 0);
	assert_int_equal(present, 0);
	/* 5, then 5 + 2^64 - 1 (that is, 4) */
	exec_sql(
	    env->path, "UPDATE feeds SET present = x'05ffffffffffffffffff01'");
	r = ingest_at(env, URL,
	    fixture_doc("k", "T", "http://example.com/p", 1, 9), &fm, NOW, 0);
	assert_int_equal(r.nunchanged, 9);
	assert_int_equal(fixture_count(env->path, FETCH_SEQ, URL), 4);
	present = 0;
	assert_int_equal(
	    store_items_foreach(env->st, URL, count_item, &present, &cause), 0);
	assert_int_equal(present, 9);
	/* Only k-0 is old and out of the latest fetch. */
	assert_int_equal(store_prune(env->st, NOW, 90 * 86400, NULL, 0,
			     &npruned, NULL, &cause),
	    0);
	assert_int_equal(npruned, 1);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM items WHERE key = 'k-0'"),
	    0);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM outbox"), 0);
	/* A damaged set and a fetch with no items: the empty set. */
	exec_sql(env->path, "UPDATE feeds SET present = x'81'");
	r = ingest_at(env, URL,
	    fixture_doc("k", "T", "http://example.com/p", 0, 0), &fm, NOW, 0);
	assert_int_equal(fixture_count(env->path, FETCH_SEQ, URL), 5);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM feeds WHERE present = x''"),
	    1);
}

/*
 * A store of version 5 (texts in item_texts, seen_seq on every item)
 * upgrades in place: the texts move into the items' rows, the items whose
 * seen_seq was the feed's fetch_seq become its set, and retention keeps
 * to it.
 */
static void
test_upgrade_present(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_ingest_result r;
	size_t npruned = 0;
	char *cause = NULL;
	int present = 0;

	/* 12 items: their keys' order (k-10 before k-2) is not their ids' */
	ingest_at(env, URL,
	    fixture_doc("k", "T", "http://example.com/p", 0, 12), &fm,
	    NOW - 100 * 86400, 0);
	ingest_at(env, "http://other.example/feed",
	    fixture_doc("o", "T", "http://other.example/p", 0, 4), &fm,
	    NOW - 100 * 86400, 0);
	store_close(env->st);
	env->st = NULL;
	/* Version 5, where k-0, k-1 and k-2 were no longer in the feed, and
	 * an item of a feed deleted with foreign keys off. */
	exec_sql(env->path,
	    UNDO_SCHEMA_9 UNDO_SCHEMA_8 UNDO_SCHEMA_7 UNDO_SCHEMA_6
	    "UPDATE items SET seen_seq = seen_seq - 1 "
	    "WHERE key IN ('k-0', 'k-1', 'k-2');"
	    "UPDATE feeds SET present_count = 9 WHERE url = "
	    "'" URL "';"
	    "INSERT INTO items (feed_id, key, first_seen, "
	    "fingerprint, seen_seq) VALUES (99, 'orphan', 0, "
	    "x'00', 1); PRAGMA user_version = 5");
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM item_texts t JOIN items i "
			     "ON i.id = t.item_id WHERE t.title = 'T ' || "
			     "substr(i.key, 3)"),
	    16);

	assert_non_null(env->st = store_open(env->path, &cause));
	assert_int_equal(
	    fixture_count(env->path, "PRAGMA user_version"), SCHEMA_VERSION);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM sqlite_master WHERE name = "
			     "'item_texts'"),
	    0);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM items WHERE title = 'T ' || "
			     "substr(key, 3) AND summary_text IS NOT NULL"),
	    16);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 16);
	assert_int_equal(store_check(env->st, &cause), 0);
	assert_int_equal(
	    store_items_foreach(env->st, URL, count_item, &present, &cause), 0);
	assert_int_equal(present, 9);
	/* The latest fetch again: the same set, nothing rewritten. */
	r = ingest_at(env, URL,
	    fixture_doc("k", "T", "http://example.com/p", 3, 9), &fm,
	    NOW - 100 * 86400, 0);
	assert_int_equal(r.nunchanged, 9);
	assert_int_equal(fixture_count(env->path, FETCH_SEQ, URL), 1);
	/* Retention: the three out of the fetch go, the other feed's stay. */
	assert_int_equal(store_prune(env->st, NOW, 90 * 86400, NULL, 0,
			     &npruned, NULL, &cause),
	    0);
	assert_int_equal(npruned, 3);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 13);
	/* The churn guard reads the moved texts: new keys, known links. */
	r = ingest_at(env, URL,
	    fixture_doc("g", "T", "http://example.com/p", 3, 9), &fm, NOW, 0);
	assert_int_equal(r.nrekeyed, 9);
	assert_int_equal(r.nnew, 0);
}

/*
 * Stored digests stay what they are from one version to the next: a
 * fingerprint computed differently would make every stored item
 * "updated" once, and a long key hashed differently would make it new.
 * The expected values come from xxhsum -H2 (XXH3-128) and Python's
 * hashlib (SHA-256) over the documented layouts.
 */
static void
test_stable_digests(void **state)
{
	struct env *env = *state;
	struct feed_doc *doc;

	doc = fixture_doc("k", "T", "http://example.com/p", 0, 2);
	free(doc->items[1].key);
	doc->items[1].key = xmalloc(5000);
	memset(doc->items[1].key, 'x', 4999);
	doc->items[1].key[4999] = '\0';
	ingest(env, doc, NULL);
	/* XXH3-128 of: u64 little-endian length + text for title, link,
	 * summary, then UINT64_MAX for the absent content; big-endian. */
	assert_int_equal(
	    fixture_count(env->path,
		"SELECT fingerprint = x'ae434d60e3c9d0545fef17ab17ca0f67' "
		"FROM items WHERE key = 'k-0'"),
	    1);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM items WHERE key = "
			     "'sha256:b05e6c1412dad5e9fc501472d09ceb10c3856a64"
			     "07730900e293d756e4'"),
	    1);
}

/* SHA-256 of the layout above, the fingerprints of items k-0 and k-2 in
 * stores of earlier versions (hashlib). */
#define OLD_FINGERPRINT                                                        \
	"x'd7235b2096be42a4bd905fd127f4d86dbbeba0df08e1915cd818a9e14670bd41'"
#define OLD_FINGERPRINT_2                                                      \
	"x'fca4e4ad0610f8b5fecb83d92552d07abb6f9f3ce4384753ef1c35f3ddad8b81'"

/*
 * Items stored by an earlier version carry a SHA-256 fingerprint: an
 * unchanged one is still unchanged (not an update of every stored item
 * after an upgrade) and gets the new kind; a changed one, or one of no
 * known size, is an update.
 */
static void
test_old_fingerprints(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {1, 0, 0, 0};
	struct store_ingest_result r;

	ingest(env, fixture_doc("k", "T", "http://example.com/p", 0, 3), &fm);
	exec_sql(env->path,
	    "UPDATE items SET fingerprint = " OLD_FINGERPRINT
	    " WHERE key = 'k-0';"
	    "UPDATE items SET fingerprint = " OLD_FINGERPRINT_2
	    " WHERE key = 'k-2';"
	    "UPDATE items SET fingerprint = zeroblob(32) WHERE key = 'k-1'");
	/* k-2 changed, k-1's SHA-256 is not its own: two updates */
	r = ingest(env, corrected_doc(2), &fm);
	assert_int_equal(r.nunchanged, 1);
	assert_int_equal(r.nupdated, 2);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM items WHERE "
			     "length(fingerprint) = 16"),
	    3);
	assert_int_equal(
	    fixture_count(env->path,
		"SELECT fingerprint = x'ae434d60e3c9d0545fef17ab17ca0f67' "
		"FROM items WHERE key = 'k-0'"),
	    1);
	/* and then nothing changes; a fingerprint of another size is a
	 * change */
	exec_sql(env->path,
	    "UPDATE items SET fingerprint = zeroblob(5) "
	    "WHERE key = 'k-1'");
	r = ingest(env, corrected_doc(2), &fm);
	assert_int_equal(r.nunchanged, 2);
	assert_int_equal(r.nupdated, 1);
}

/* Rows of ITEMS whose texts are their own (title "T N" for key "k-N"),
 * in document order. */
#define TEXTS_MATCH                                                            \
	"SELECT count(*) FROM items i "                                        \
	"WHERE i.title = 'T ' || substr(i.key, 3) AND i.link = "               \
	"'http://example.com/p/' || substr(i.key, 3) AND i.feed_id = "         \
	"(SELECT id FROM feeds WHERE url = '%s') AND i.id = (SELECT "          \
	"min(id) FROM items WHERE feed_id = i.feed_id) + "                     \
	"CAST(substr(i.key, 3) AS INTEGER)"

/*
 * New items are stored many to a statement (16, then 4, then one by
 * one): every item gets its own texts and ids in document order, and
 * near the largest id SQLite can give, one by one (then ids SQLite picks
 * at random: the feed's set of present items holds them all).
 */
static void
test_batch_insert(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_ingest_result r;
	char *cause = NULL;
	int present = 0;

	/* 16 + 16 + 4 + 1 */
	r = ingest(
	    env, fixture_doc("k", "T", "http://example.com/p", 0, 37), &fm);
	assert_int_equal(r.nbaseline, 37);
	assert_int_equal(fixture_count(env->path, TEXTS_MATCH, URL), 37);
	assert_int_equal(
	    fixture_count(env->path, "SELECT count(*) FROM items"), 37);
	/* Again, after the last possible ids are near. */
	exec_sql(env->path,
	    "INSERT INTO items (id, feed_id, key, first_seen, "
	    "fingerprint) VALUES "
	    "(9223372036854775800, 1, 'far', 0, x'00')");
	r = ingest_at(env, "http://other.example/feed",
	    fixture_doc("k", "T", "http://example.com/p", 0, 20), &fm, NOW, 0);
	assert_int_equal(r.nbaseline, 20);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM items i WHERE i.title = "
			     "'T ' || substr(i.key, 3) AND i.feed_id = (SELECT "
			     "id FROM feeds WHERE url = "
			     "'http://other.example/feed')"),
	    20);
	assert_int_equal(
	    store_items_foreach(env->st, "http://other.example/feed",
		count_item, &present, &cause),
	    0);
	assert_int_equal(present, 20);
	r = ingest_at(env, "http://other.example/feed",
	    fixture_doc("k", "T", "http://example.com/p", 0, 20), &fm, NOW, 0);
	assert_int_equal(r.nunchanged, 20);
}

/* Text is kept bounded, on a UTF-8 boundary; long keys are hashed. */
static void
test_bounds(void **state)
{
	struct env *env = *state;
	struct feed_doc *doc;
	char *big;
	size_t i, len = 40000;

	doc = fixture_doc("k", "T", "http://example.com/p", 0, 2);
	big = xmalloc(len + 1);
	for (i = 0; i + 2 <= len; i += 2)
		memcpy(big + i, "\xc3\xa9", 2); /* é */
	big[i] = '\0';
	doc->items[0].content_text = big;
	free(doc->items[1].key);
	doc->items[1].key = xmalloc(5000);
	memset(doc->items[1].key, 'x', 4999);
	doc->items[1].key[4999] = '\0';
	ingest(env, doc, NULL);
	assert_int_equal(fixture_count(env->path,
			     "SELECT length(CAST(content_text AS BLOB)) FROM "
			     "items WHERE content_text IS NOT NULL"),
	    16 * 1024);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM items WHERE key LIKE "
			     "'sha256:%%' AND length(key) < 100"),
	    1);
}

/*
 * Schema 8 marks the alerts an earlier build had put off for a reason of
 * the daemon's own, by the error their wait recorded, so that the first
 * start of this build ends their wait too.
 */
static void
test_upgrade_parked(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	char *cause = NULL;

	ingest(env, fixture_doc("k", "T", "http://example.com/p", 0, 1), &fm);
	ingest_at(env, URL, fixture_doc("k", "T", "http://example.com/p", 0, 4),
	    &fm, NOW + 10, 0);
	store_close(env->st);
	env->st = NULL;
	exec_sql(env->path,
	    UNDO_SCHEMA_9 UNDO_SCHEMA_8
	    "UPDATE outbox SET last_error = 'notifier no longer configured' "
	    "WHERE rowid = 1;"
	    "UPDATE outbox SET last_error = 'notifier disabled: the receiver "
	    "answered 410 Gone' WHERE rowid = 2;"
	    "UPDATE outbox SET last_error = 'digest: notifier disabled: x' "
	    "WHERE rowid = 3;"
	    "UPDATE outbox SET last_error = 'HTTP 503: notifier disabled' "
	    "WHERE rowid = 4;"
	    "UPDATE outbox SET state = 'dead', last_error = 'notifier no "
	    "longer configured' WHERE rowid = 5;"
	    "PRAGMA user_version = 7");
	assert_non_null(env->st = store_open(env->path, &cause));
	assert_int_equal(
	    fixture_count(env->path, "PRAGMA user_version"), SCHEMA_VERSION);
	/* rows 1 to 3 marked by their errors, the others not */
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM outbox WHERE CASE rowid "
			     "WHEN 1 THEN 1 WHEN 2 THEN 2 WHEN 3 THEN 2 "
			     "ELSE 0 END = parked"),
	    fixture_count(env->path, "SELECT count(*) FROM outbox"));
}

/* The verbs under the dispatcher: claim, finish, list, retry, drop. */
static void
test_outbox_verbs(void **state)
{
	struct env *env = *state;
	struct fixture_matcher fm = {0};
	struct store_outbox_row *rows, *all;
	struct store_outbox_stats stats;
	size_t n, nall, nrec;
	int64_t at;
	char *cause = NULL, id[64];

	ingest(env, fixture_doc("k", "T", "http://example.com/p", 0, 1), &fm);
	ingest_at(env, URL, fixture_doc("k", "T", "http://example.com/p", 0, 4),
	    &fm, NOW + 10, 0);
	assert_int_equal(
	    store_outbox_stats(env->st, NOW + 70, &stats, &cause), 0);
	assert_int_equal(stats.pending, 6);
	assert_int_equal(stats.oldest_pending_age, 60);
	assert_int_equal(store_outbox_next_due(env->st, "a", &at, &cause), 0);
	assert_int_equal(at, NOW + 10);
	assert_int_equal(store_outbox_next_due(env->st, "zz", &at, &cause), 1);
	/* Not due yet. */
	assert_int_equal(
	    store_outbox_claim(env->st, "a", NOW, 10, &rows, &n, &cause), 0);
	assert_int_equal(n, 0);
	assert_int_equal(
	    store_outbox_claim(env->st, "a", NOW + 10, 2, &rows, &n, &cause),
	    0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].state, STORE_OUTBOX_INFLIGHT);
	assert_int_equal(strlen(rows[0].id), 36);
	assert_int_equal(rows[0].id[14], '4'); /* UUID version 4 */
	assert_non_null(strchr("89ab", rows[0].id[19]));
	assert_string_equal(rows[0].notifier, "a");
	assert_string_equal(rows[0].feed_url, URL);
	snprintf(id, sizeof id, "%s", rows[0].id);
	assert_int_equal(
	    store_outbox_finish(env->st, rows[0].id, STORE_OUTBOX_DELIVERED,
		NOW + 10, 0, 0, 0, NULL, &cause),
	    0);
	assert_int_equal(
	    store_outbox_finish(env->st, rows[1].id, STORE_OUTBOX_DEAD,
		NOW + 10, 0, 0, 0, "refused", &cause),
	    0);
	/* Finishing a row that is not in flight changes nothing. */
	assert_int_equal(
	    store_outbox_finish(env->st, rows[0].id, STORE_OUTBOX_DEAD,
		NOW + 10, 0, 0, 0, "late", &cause),
	    0);
	assert_int_equal(
	    store_outbox_list(env->st, STORE_OUTBOX_DEAD, &all, &nall, &cause),
	    0);
	assert_int_equal(nall, 1);
	assert_string_equal(all[0].last_error, "refused");
	assert_int_equal(all[0].attempts, 1);
	assert_string_equal(all[0].id, rows[1].id);
	/* Retry a dead row; a delivered one cannot be retried or dropped. */
	assert_int_equal(
	    store_outbox_retry(env->st, all[0].id, NOW + 20, &cause), 0);
	assert_int_equal(store_outbox_retry(env->st, id, NOW + 20, &cause), 1);
	assert_int_equal(store_outbox_retry(env->st, "nope", NOW, &cause), 1);
	store_outbox_rows_free(all, nall);
	store_outbox_rows_free(rows, n);
	assert_int_equal(store_outbox_list(env->st, STORE_OUTBOX_PENDING, &all,
			     &nall, &cause),
	    0);
	assert_int_equal(nall, 5);
	assert_int_equal(store_outbox_drop(env->st, all[0].id, &cause), 0);
	assert_int_equal(store_outbox_drop(env->st, all[0].id, &cause), 1);
	store_outbox_rows_free(all, nall);
	/* In flight at a crash: back to pending. */
	assert_int_equal(
	    store_outbox_claim(env->st, "b", NOW + 99, 10, &rows, &n, &cause),
	    0);
	assert_true(n > 0);
	store_outbox_rows_free(rows, n);
	assert_int_equal(
	    store_outbox_recover(env->st, NOW + 100, &nrec, &cause), 0);
	assert_int_equal(nrec, n);
	assert_int_equal(
	    store_outbox_stats(env->st, NOW + 100, &stats, &cause), 0);
	assert_int_equal(stats.inflight, 0);
	assert_int_equal(stats.pending, 4);
	assert_int_equal(stats.delivered, 1);
	/* Delivered rows go with retention; pending ones stay. */
	assert_int_equal(store_prune(env->st, NOW + 200 * 86400, 90 * 86400,
			     NULL, 0, NULL, NULL, &cause),
	    0);
	assert_int_equal(
	    store_outbox_stats(env->st, NOW + 100, &stats, &cause), 0);
	assert_int_equal(stats.delivered, 0);
	assert_int_equal(stats.pending, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_upgrade_whole, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_doc_digest, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_page_size_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_feed_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_feeds_put, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_prune_removed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune_steps, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_feeds_present, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_baseline, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_baseline_illformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_first_poll_max_age, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_churn_guard, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cap_summary, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_updates, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_idempotent_and_rollback, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_duplicate_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_one_commit_per_poll, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_batch_subjournal, setup_counting, teardown_counting),
	    cmocka_unit_test_setup_teardown(test_broken_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_background_checkpoint, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_present_set, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_churn_long_titles, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_upgrade_present, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_insert, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_stable_digests, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_old_fingerprints, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_upgrade_parked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outbox_verbs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

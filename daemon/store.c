/*
 * The store on SQLite: schema, migrations, and the verbs of store.h.
 *
 * An item is one row of `items`: its key, fingerprint and the bounded
 * text kept to run watchlists again. Which items the feed's latest fetch
 * held is the feed's `present` set (the ids, store_ids_encode()), so a
 * poll whose items changed rewrites one feed row, never its items' rows.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <xxhash.h>

#include "buf.h"
#include "log.h"
#include "alert.h"
#include "store.h"
#include "utf8.h"
#include "xmalloc.h"

/* Text kept per field of a stored item, in bytes (cut on a UTF-8
 * boundary); the fingerprint covers the full text. */
#define STORE_MAX_TEXT (16 * 1024)
/* An item's fingerprint: XXH3-128 (store_fingerprint()). Earlier
 * versions stored SHA-256, 32 bytes: such a row is compared the old way
 * (store_fingerprint_old()) and rewritten (migration 5). */
#define STORE_FP_LEN 16
#define STORE_FP_OLD_LEN 32
/* Longest item key stored; longer keys are stored as their hash. */
#define STORE_MAX_KEY 2048
/* Milliseconds a writer waits for another connection's lock. */
#define STORE_BUSY_TIMEOUT_MS 10000
/* The churn guard looks at new keys only when at least this many, and
 * at least half of the document's items, are new. */
#define STORE_CHURN_MIN_NEW 4
/* Items listed in a summary alert's payload. */
#define STORE_SUMMARY_MAX_ITEMS 20
/* Watchlist column of summary alerts. */
#define STORE_SUMMARY_WATCHLIST "*"
/* First polls whose document, cut short, keeps the baseline open. */
#define STORE_BASELINE_CUT_POLLS 3
/* Bytes of the list of titles a summary alert carries. */
#define STORE_SUMMARY_MAX_TEXT (16 * 1024)
/*
 * Bytes of a page of a new store (SQLite's default is 4 KiB; a store made
 * before keeps its own). Every page a commit writes is a frame of the log
 * and two write(2) calls: a first cycle of 1,000 feeds made 21,700 of
 * them with 4 KiB pages and makes 10,800 with 8 KiB, for a file 6% smaller.
 */
#define STORE_PAGE_SIZE 8192
/*
 * Bytes of write-ahead log before a commit copies it back into the
 * database (SQLite's default is 1,000 pages): what SQLite does when there
 * is no checkpointer thread (below), and what a commit does when the
 * thread is gone or does not keep up. Each copy syncs the log and the
 * database; a first cycle (35,000 items, about 80 MiB of log) made 76 of
 * these syncs with 4 MiB and makes 16 with 32 MiB, and a page rewritten by
 * many commits in between is copied back once.
 */
#define STORE_WAL_CHECKPOINT_BYTES (32 * 1024 * 1024)
/*
 * Bytes of log after which the checkpointer thread is woken. It copies
 * them back with a connection of its own while the event loop goes on
 * writing (a passive checkpoint waits for no one and blocks no one), so
 * the copy and its syncs cost the loop nothing, and the log is reset
 * before it grows large.
 */
#define STORE_WAL_BACKGROUND_BYTES (4 * 1024 * 1024)
/* Bytes the log file is cut back to once copied (it is otherwise left
 * at its largest): a little more than the bytes above. */
#define STORE_WAL_SIZE_LIMIT (40 * 1024 * 1024)

/* New items stored by one INSERT (a first poll stores all of a feed's
 * items): one statement opens the tables and indexes once for all of
 * them. Batches of 16, then of 4, then single rows; STORE_ROWS4 and
 * STORE_ROWS16 write out their VALUES rows. */
#define STORE_INSERT_BATCH 16
#define STORE_INSERT_SMALL_BATCH 4
#define STORE_ROWS4(row) row ", " row ", " row ", " row
#define STORE_ROWS16(row) STORE_ROWS4(STORE_ROWS4(row))

/* Schema migrations, applied in order; PRAGMA user_version counts them. */
static const char *const store_migrations[] = {
    /* 1: feeds, items, outbox */
    "CREATE TABLE feeds ("
    " id INTEGER PRIMARY KEY,"
    " url TEXT NOT NULL UNIQUE,"
    " name TEXT,"
    " etag TEXT,"
    " last_modified TEXT,"
    " next_poll_at INTEGER NOT NULL DEFAULT 0,"
    " last_poll_at INTEGER NOT NULL DEFAULT 0,"
    " last_status INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT,"
    " consecutive_failures INTEGER NOT NULL DEFAULT 0,"
    " last_success_at INTEGER NOT NULL DEFAULT 0,"
    " gone_reason TEXT,"
    " first_poll_done INTEGER NOT NULL DEFAULT 0,"
    " fetch_seq INTEGER NOT NULL DEFAULT 0,"
    " present_count INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE items ("
    " id INTEGER PRIMARY KEY,"
    " feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
    " key TEXT NOT NULL,"
    " first_seen INTEGER NOT NULL,"
    " fingerprint BLOB NOT NULL,"
    " revision INTEGER NOT NULL DEFAULT 0,"
    " link_hash INTEGER,"
    " title_hash INTEGER,"
    " seen_seq INTEGER NOT NULL,"
    " UNIQUE (feed_id, key));"
    "CREATE INDEX items_link ON items(feed_id, link_hash);"
    "CREATE INDEX items_title ON items(feed_id, title_hash);"
    "CREATE INDEX items_first_seen ON items(first_seen);"
    "CREATE TABLE item_texts ("
    " item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,"
    " title TEXT,"
    " link TEXT,"
    " published INTEGER,"
    " updated INTEGER,"
    " summary_text TEXT,"
    " content_text TEXT);"
    "CREATE TABLE outbox ("
    " id TEXT PRIMARY KEY,"
    " alert_id TEXT NOT NULL,"
    " watchlist TEXT NOT NULL,"
    " notifier TEXT NOT NULL,"
    " feed_url TEXT NOT NULL,"
    " item_key TEXT NOT NULL,"
    " revision INTEGER NOT NULL,"
    " payload TEXT NOT NULL,"
    " state TEXT NOT NULL"
    "  CHECK (state IN ('pending', 'inflight', 'delivered', 'dead')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " last_error TEXT,"
    " UNIQUE (watchlist, feed_url, item_key, notifier, revision));"
    "CREATE INDEX outbox_due ON outbox(state, notifier, next_attempt_at);",
    /* 2: no index on first_seen. Every item insert wrote it, for the
     * sake of store_prune alone, which now reads the (narrow) items
     * table through. */
    "DROP INDEX IF EXISTS items_first_seen;",
    /* 3: when a feed's current run of failures began, where it moved
     * permanently; self-alerts */
    "ALTER TABLE feeds ADD COLUMN failing_since INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE feeds ADD COLUMN moved_to TEXT;"
    "ALTER TABLE feeds ADD COLUMN redirect_seen TEXT;"
    "ALTER TABLE feeds ADD COLUMN redirect_count INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE self_alerts ("
    " subject TEXT PRIMARY KEY,"
    " raised_at INTEGER NOT NULL);",
    /* 4: no indexes on link and title hashes. Every item insert wrote
     * both, for the churn guard alone, which runs on the rare poll
     * whose keys are mostly new and now reads the feed's hashes once. */
    ("DROP INDEX IF EXISTS items_link;"
     "DROP INDEX IF EXISTS items_title;"),
    /* 5: item fingerprints are XXH3-128, 16 bytes (STORE_FP_LEN), not
     * SHA-256; the 32-byte ones stored before are compared as such and
     * replaced on the item's next poll. The tables do not change: the
     * version goes up so that an older feedwatch refuses the store
     * rather than take every new fingerprint for an update. */
    "SELECT 1;",
    /* 6: an item's text in its own row (one B-tree an item, not two);
     * the latest fetch's items as a set on the feed row instead of a
     * seen_seq on every item (a poll whose items changed rewrote them
     * all); no stored link and title hashes (the churn guard computes
     * them from the texts, on the rare poll it runs). fw_idset() is
     * defined by store_open(). */
    "ALTER TABLE feeds ADD COLUMN present BLOB;"
    "UPDATE feeds SET present = (SELECT fw_idset(id) FROM items "
    " WHERE items.feed_id = feeds.id AND items.seen_seq = feeds.fetch_seq);"
    "ALTER TABLE feeds DROP COLUMN present_count;"
    "CREATE TABLE items6 ("
    " id INTEGER PRIMARY KEY,"
    " feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
    " key TEXT NOT NULL,"
    " first_seen INTEGER NOT NULL,"
    " fingerprint BLOB NOT NULL,"
    " revision INTEGER NOT NULL DEFAULT 0,"
    " title TEXT,"
    " link TEXT,"
    " published INTEGER,"
    " updated INTEGER,"
    " summary_text TEXT,"
    " content_text TEXT,"
    " UNIQUE (feed_id, key));"
    "INSERT INTO items6 SELECT i.id, i.feed_id, i.key, i.first_seen,"
    " i.fingerprint, i.revision, t.title, t.link, t.published, t.updated,"
    " t.summary_text, t.content_text"
    " FROM items i LEFT JOIN item_texts t ON t.item_id = i.id"
    /* an item of no feed (one deleted with foreign keys off, as in
     * the sqlite3 shell) would fail the new table's check: left out */
    " WHERE i.feed_id IN (SELECT id FROM feeds);"
    "DROP TABLE item_texts;"
    "DROP TABLE items;"
    "ALTER TABLE items6 RENAME TO items;",
    /* 7: until when the receiver asked an alert to wait (Retry-After):
     * the wake of a receiver back from an outage leaves it waiting; and
     * how many of its attempts came out of turn (a probe, a wake:
     * outbox.c), which are not steps of its schedule. */
    ("ALTER TABLE outbox ADD COLUMN hold_until INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE outbox ADD COLUMN out_of_turn INTEGER NOT NULL DEFAULT "
     "0;"),
    /* 8: why an alert waits for a reason of the daemon's own, if it does
     * (enum store_outbox_park), so that a start or a reload that
     * configures its notifier ends the wait; alerts already waiting so
     * are known by the error their wait recorded (their waits stay
     * counted as attempts, as earlier builds counted them). */
    ("ALTER TABLE outbox ADD COLUMN parked INTEGER NOT NULL DEFAULT 0;"
     "UPDATE outbox SET parked = 1 WHERE state = 'pending' AND "
     "last_error = 'notifier no longer configured';"
     "UPDATE outbox SET parked = 2 WHERE state = 'pending' AND "
     "(last_error LIKE 'notifier disabled: %' OR "
     "last_error LIKE 'digest: notifier disabled: %');"),
    /* 9: since when a feed is out of the configuration (0: it is in),
     * so that one back after long enough starts again as a new feed
     * (store_feeds_present). */
    "ALTER TABLE feeds ADD COLUMN removed_at INTEGER NOT NULL DEFAULT 0;",
};
#define STORE_NMIGRATIONS (sizeof store_migrations / sizeof store_migrations[0])

#define OUTBOX_COLUMNS                                                         \
	"id, alert_id, watchlist, notifier, feed_url, item_key, revision, "    \
	"payload, state, attempts, next_attempt_at, created_at, last_error, "  \
	"out_of_turn"

/* Prepared once, on first use. */
enum store_stmt {
	S_BEGIN,
	S_COMMIT,
	S_SAVEPOINT,
	S_RELEASE,
	S_ROLLBACK_TO,
	S_SYNC_NORMAL,
	S_SYNC_FULL,
	S_TEMP_MEMORY,
	S_TEMP_DEFAULT,
	S_FEED_GET,
	S_FEED_UPSERT,
	S_FEED_IDS,
	S_FEED_DONE,
	S_ITEM_GET,
	S_ITEM_HASHES,
	S_ITEM_INSERT,
	S_ITEM_MAX_ID,
	S_ITEM_INSERT_BATCH,
	S_ITEM_INSERT_BATCH4,
	S_ITEM_FINGERPRINT,
	S_ITEM_UPDATE,
	S_OUTBOX_INSERT,
	S_OUTBOX_DUE,
	S_OUTBOX_INFLIGHT,
	S_OUTBOX_NEXT,
	S_OUTBOX_FINISH,
	S_NSTMTS
};

static const char *const store_sql[S_NSTMTS] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_SAVEPOINT] = "SAVEPOINT ingest",
    [S_RELEASE] = "RELEASE ingest",
    [S_ROLLBACK_TO] = "ROLLBACK TO ingest",
    [S_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
    [S_SYNC_FULL] = "PRAGMA synchronous = FULL",
    [S_TEMP_MEMORY] = "PRAGMA temp_store = MEMORY",
    [S_TEMP_DEFAULT] = "PRAGMA temp_store = DEFAULT",
    [S_FEED_GET] = "SELECT url, name, etag, last_modified, next_poll_at, "
		   "last_poll_at, last_status, last_error, "
		   "consecutive_failures, last_success_at, gone_reason, "
		   "first_poll_done, failing_since, moved_to, redirect_seen, "
		   "redirect_count FROM feeds WHERE url = ?1",
    [S_FEED_UPSERT] =
	"INSERT INTO feeds (url, name, etag, last_modified, next_poll_at, "
	"last_poll_at, last_status, last_error, consecutive_failures, "
	"last_success_at, gone_reason, failing_since, moved_to, "
	"redirect_seen, redirect_count) VALUES "
	"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
	"ON CONFLICT (url) DO UPDATE SET name = ?2, etag = ?3, "
	"last_modified = ?4, next_poll_at = ?5, last_poll_at = ?6, "
	"last_status = ?7, last_error = ?8, consecutive_failures = ?9, "
	"last_success_at = ?10, gone_reason = ?11, failing_since = ?12, "
	"moved_to = ?13, redirect_seen = ?14, redirect_count = ?15, "
	/* a feed whose state is written is polled: in a configuration */
	"removed_at = 0",
    [S_FEED_IDS] = "SELECT id, first_poll_done, fetch_seq, present "
		   "FROM feeds WHERE url = ?1",
    [S_FEED_DONE] = "UPDATE feeds SET first_poll_done = ?4, fetch_seq = ?2, "
		    "present = coalesce(?3, present) WHERE id = ?1",
    [S_ITEM_GET] = "SELECT id, fingerprint, revision FROM items "
		   "WHERE feed_id = ?1 AND key = ?2",
    [S_ITEM_HASHES] = "SELECT title, link FROM items WHERE feed_id = ?1",
    [S_ITEM_INSERT] = "INSERT INTO items (feed_id, key, first_seen, "
		      "fingerprint, revision, title, link, published, "
		      "updated, summary_text, content_text) VALUES "
		      "(?1, ?2, ?3, ?4, 0, ?5, ?6, ?7, ?8, ?9, ?10)",
    [S_ITEM_MAX_ID] = "SELECT max(id) FROM items",
    [S_ITEM_INSERT_BATCH] =
	"INSERT INTO items (id, feed_id, key, first_seen, fingerprint, "
	"revision, title, link, published, updated, summary_text, "
	"content_text) VALUES " STORE_ROWS16("(?, ?, ?, ?, ?, 0, ?, ?, ?, ?, "
					     "?, ?)"),
    [S_ITEM_INSERT_BATCH4] =
	"INSERT INTO items (id, feed_id, key, first_seen, fingerprint, "
	"revision, title, link, published, updated, summary_text, "
	"content_text) VALUES " STORE_ROWS4("(?, ?, ?, ?, ?, 0, ?, ?, ?, ?, "
					    "?, ?)"),
    [S_ITEM_FINGERPRINT] = "UPDATE items SET fingerprint = ?2 WHERE id = ?1",
    [S_ITEM_UPDATE] = "UPDATE items SET fingerprint = ?2, revision = ?3, "
		      "title = ?4, link = ?5, published = ?6, updated = ?7, "
		      "summary_text = ?8, content_text = ?9 WHERE id = ?1",
    [S_OUTBOX_INSERT] =
	"INSERT OR IGNORE INTO outbox (id, alert_id, watchlist, notifier, "
	"feed_url, item_key, revision, payload, state, attempts, "
	"next_attempt_at, created_at) VALUES "
	"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', 0, ?9, ?9)",
    [S_OUTBOX_DUE] = "SELECT " OUTBOX_COLUMNS " FROM outbox "
		     "WHERE state = 'pending' AND notifier = ?1 AND "
		     "next_attempt_at <= ?2 ORDER BY next_attempt_at, "
		     "created_at LIMIT ?3",
    [S_OUTBOX_INFLIGHT] = "UPDATE outbox SET state = 'inflight' WHERE id = ?1",
    [S_OUTBOX_NEXT] = "SELECT min(next_attempt_at) FROM outbox "
		      "WHERE state = 'pending' AND notifier = ?1",
    /* a wait of the daemon's own (parked) is no attempt, also when it
     * ends at the give-up time */
    [S_OUTBOX_FINISH] = "UPDATE outbox SET state = ?2, attempts = attempts "
			"+ (?7 = 0), next_attempt_at = ?3, last_error = ?4, "
			"hold_until = ?5, out_of_turn = out_of_turn + ?6, "
			"parked = CASE ?2 WHEN 'pending' THEN ?7 ELSE 0 END "
			"WHERE id = ?1 AND state = 'inflight'",
};

/*
 * The checkpointer thread, made when the log first passes
 * STORE_WAL_BACKGROUND_BYTES (a command that writes little never has
 * one). Its connection is its own; what both threads read is under mu.
 */
struct store_ckpt {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const char *path; /* the store's */
	pthread_t thread;
	int running; /* the thread was made: join it (main thread only) */
	int logged; /* the error logged last (main thread only) */
	int wanted; /* the log has grown past background_pages */
	/* STORE_WAL_BACKGROUND_BYTES and STORE_WAL_CHECKPOINT_BYTES in pages
	 * of the store */
	int background_pages, checkpoint_pages;
	int stop;
	int dead; /* no thread, or no connection: commits copy themselves */
	int error; /* SQLite's code of the latest failed copy */
	uint64_t runs; /* copies attempted */
};

struct store {
	sqlite3 *db;
	char *path;
	int page_size; /* bytes: STORE_PAGE_SIZE, or an older store's */
	struct store_ckpt *ckpt; /* NULL: SQLite's own checkpoints */
	sqlite3_stmt *stmts[S_NSTMTS];
	uint64_t commits;
	/* store_batch_begin() opened a transaction that ingests join;
	 * batch_rows: outbox rows they inserted, synced at its commit */
	int batch;
	size_t batch_rows;
	/* SQLite rolled the batch's transaction back (or a savepoint could
	 * not be undone): no ingest may run, the commit fails */
	int batch_broken;
	/* synchronous is NORMAL (1), FULL (0), or unknown (-1) */
	int relaxed;
	/* SHA-256 fetched once and one context reused for every digest: an
	 * implicit fetch per item costs as much as hashing its text. */
	EVP_MD *sha256;
	EVP_MD_CTX *md;
	XXH3_state_t *xxh; /* the fingerprints' */
};

static const char *const store_state_names[] = {
    [STORE_OUTBOX_PENDING] = "pending",
    [STORE_OUTBOX_INFLIGHT] = "inflight",
    [STORE_OUTBOX_DELIVERED] = "delivered",
    [STORE_OUTBOX_DEAD] = "dead",
};

static void store_error(struct store *, char **, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Set *cause to the message and, when the store has one, SQLite's. */
static void
store_error(struct store *st, char **cause, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	if (st != NULL && st->db != NULL &&
	    sqlite3_errcode(st->db) != SQLITE_OK)
		xasprintf(cause, "%s: %s", msg, sqlite3_errmsg(st->db));
	else
		*cause = xstrdup(msg);
	free(msg);
}

static int
store_commit_hook(void *arg)
{
	struct store *st = arg;

	st->commits++;
	return 0;
}

static sqlite3_stmt *
store_stmt(struct store *st, enum store_stmt which, char **cause)
{
	sqlite3_stmt *stmt = st->stmts[which];

	if (stmt == NULL) {
		if (sqlite3_prepare_v3(st->db, store_sql[which], -1,
			SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK) {
			store_error(st, cause, "prepare");
			return NULL;
		}
		st->stmts[which] = stmt;
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return stmt;
}

static int
store_exec(struct store *st, const char *sql, char **cause)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		store_error(st, cause, "%.40s", sql);
		return -1;
	}
	return 0;
}

/* Step a statement that returns no row. */
static int
store_done(struct store *st, sqlite3_stmt *stmt, char **cause)
{
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		store_error(st, cause, "step");
		return -1;
	}
	return 0;
}

/* Run one of the prepared statements that take no parameter. */
static int
store_run(struct store *st, enum store_stmt which, char **cause)
{
	sqlite3_stmt *stmt;

	if ((stmt = store_stmt(st, which, cause)) == NULL)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW) /* a pragma may answer */
		sqlite3_step(stmt);
	if (sqlite3_reset(stmt) != SQLITE_OK) {
		store_error(st, cause, "%s", store_sql[which]);
		return -1;
	}
	return 0;
}

static int
store_begin(struct store *st, char **cause)
{
	if (st->batch) {
		store_error(NULL, cause, "a batch of ingests is open");
		return -1;
	}
	return store_run(st, S_BEGIN, cause);
}

static int
store_commit(struct store *st, char **cause)
{
	return store_run(st, S_COMMIT, cause);
}

static void
store_rollback(struct store *st)
{
	/* another writer's error leaves an open batch alone */
	if (!st->batch && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * Commits that only record what a later poll would record again (a feed's
 * state, items that raised no alert) are made with synchronous=NORMAL: a
 * power loss may take the latest of them back (never a process crash, and
 * never out of order), and the next poll redoes them. Everything else,
 * alerts in the outbox first, is synchronous=FULL: every other verb that
 * writes calls store_full() first. The pragma cannot change inside a
 * transaction: set before it. It is run only when the setting changes,
 * since each run costs a prepare (SQLite expires a PRAGMA statement once
 * it has run; store_stmt() prepares it again, and the setting is applied
 * then, at prepare time: a statement prepared ahead of its step would do
 * nothing).
 */
static int
store_relax(struct store *st, int relaxed, char **cause)
{
	if (st->batch) {
		store_error(NULL, cause, "a batch of ingests is open");
		return -1;
	}
	if (st->relaxed == relaxed)
		return 0;
	st->relaxed = -1;
	if (store_run(st, relaxed ? S_SYNC_NORMAL : S_SYNC_FULL, cause) == -1)
		return -1;
	st->relaxed = relaxed;
	return 0;
}

static int
store_full(struct store *st, char **cause)
{
	return store_relax(st, 0, cause);
}

/*
 * Sync the write-ahead log after a relaxed commit that turned out to hold
 * alerts: what synchronous=FULL does at every commit, so the alerts are
 * on disk before the call returns.
 */
static int
store_sync_wal(struct store *st, char **cause)
{
	sqlite3_file *wal = NULL;

	if (sqlite3_file_control(st->db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
		&wal) != SQLITE_OK ||
	    wal == NULL || wal->pMethods == NULL) {
		store_error(NULL, cause, "no write-ahead log to sync");
		return -1;
	}
	if (wal->pMethods->xSync(wal, SQLITE_SYNC_FULL) != SQLITE_OK) {
		store_error(NULL, cause, "sync of the write-ahead log failed");
		return -1;
	}
	return 0;
}

static void
store_bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, i);
}

static char *
store_column_strdup(sqlite3_stmt *stmt, int i)
{
	const unsigned char *s = sqlite3_column_text(stmt, i);

	return s != NULL ? xstrdup((const char *)s) : NULL;
}

/*
 * A set of item ids (a feed's `present`): the ids in increasing order,
 * the first as it is and each next as its difference from the one
 * before, in unsigned LEB128; a feed whose items came in one poll takes
 * a byte an item. *OUT is allocated (LEN 0 for an empty set).
 */
static void
store_ids_encode(const int64_t *ids, size_t n, unsigned char **out, size_t *len)
{
	unsigned char *p;
	uint64_t prev = 0, v;
	size_t i;

	p = *out = xmalloc(10 * n + 1);
	for (i = 0; i < n; i++) {
		v = (uint64_t)ids[i] - prev;
		prev = (uint64_t)ids[i];
		for (; v >= 0x80; v >>= 7)
			*p++ = (unsigned char)(v | 0x80);
		*p++ = (unsigned char)v;
	}
	*len = (size_t)(p - *out);
}

/* The ids of a set store_ids_encode() made, in increasing order, in *IDS
 * (allocated, N of them): -1 when P is not such a set. */
static int
store_ids_decode(const void *blob, size_t len, int64_t **ids, size_t *n)
{
	const unsigned char *p = blob;
	int64_t *out;
	uint64_t v, prev = 0;
	size_t i = 0, count = 0;
	int shift;

	out = xreallocarray(NULL, len > 0 ? len : 1, sizeof *out);
	while (i < len) {
		v = 0;
		for (shift = 0;; shift += 7) {
			if (i == len || shift > 63)
				goto bad;
			v |= (uint64_t)(p[i] & 0x7f) << shift;
			if (!(p[i++] & 0x80))
				break;
		}
		prev += v;
		if (count > 0 && (int64_t)prev <= out[count - 1])
			goto bad;
		out[count++] = (int64_t)prev;
	}
	*ids = out;
	*n = count;
	return 0;
bad:
	free(out);
	return -1;
}

static int
store_id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int
store_ids_have(const int64_t *ids, size_t n, int64_t id)
{
	return n > 0 && bsearch(&id, ids, n, sizeof *ids, store_id_cmp) != NULL;
}

/* The set of the items of the latest fetch, from column I of STMT (a
 * feeds row). A damaged one is said so in the log and given as empty:
 * -1. */
static int
store_present_get(
    sqlite3_stmt *stmt, int i, const char *what, int64_t **ids, size_t *n)
{
	if (store_ids_decode(sqlite3_column_blob(stmt, i),
		(size_t)sqlite3_column_bytes(stmt, i), ids, n) == 0)
		return 0;
	log_warnx(
	    "store: %s: the set of the latest fetch's items is damaged", what);
	*ids = xreallocarray(NULL, 1, sizeof **ids);
	*n = 0;
	return -1;
}

/* fw_idset(id), an aggregate: the set of the ids, for migration 6. */
struct store_idagg {
	int64_t *ids;
	size_t n, cap;
};

static void
store_idset_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct store_idagg *a;

	(void)argc;
	if ((a = sqlite3_aggregate_context(ctx, sizeof *a)) == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER) {
		sqlite3_result_error(ctx, "fw_idset: not an id", -1);
		return;
	}
	if (a->n == a->cap) {
		a->cap = a->cap > 0 ? 2 * a->cap : 64;
		a->ids = xreallocarray(a->ids, a->cap, sizeof *a->ids);
	}
	a->ids[a->n++] = sqlite3_value_int64(argv[0]);
}

static void
store_idset_final(sqlite3_context *ctx)
{
	struct store_idagg *a = sqlite3_aggregate_context(ctx, 0);
	unsigned char *blob;
	size_t len;

	/* the ids are rowids: no repeat */
	if (a != NULL)
		qsort(a->ids, a->n, sizeof *a->ids, store_id_cmp);
	store_ids_encode(
	    a != NULL ? a->ids : NULL, a != NULL ? a->n : 0, &blob, &len);
	if (a != NULL)
		free(a->ids);
	sqlite3_result_blob(ctx, blob, (int)len, free);
}

static int
store_migrate(struct store *st, char **cause)
{
	sqlite3_stmt *stmt;
	int version;
	size_t i;
	char sql[64];

	if (sqlite3_prepare_v2(
		st->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK) {
		store_error(st, cause, "user_version");
		return -1;
	}
	version =
	    sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
	sqlite3_finalize(stmt);
	if (version < 0) {
		store_error(st, cause, "user_version");
		return -1;
	}
	if ((size_t)version > STORE_NMIGRATIONS) {
		store_error(NULL, cause,
		    "%s: schema version %d is newer than this feedwatch "
		    "(%zu)",
		    st->path, version, STORE_NMIGRATIONS);
		return -1;
	}
	if ((size_t)version == STORE_NMIGRATIONS)
		return 0;
	/* All the steps in one transaction: an upgrade is whole or not at
	 * all, and a new store costs one sync of the log, not one a step. */
	if (store_begin(st, cause) == -1)
		return -1;
	for (i = (size_t)version; i < STORE_NMIGRATIONS; i++)
		if (store_exec(st, store_migrations[i], cause) == -1) {
			store_rollback(st);
			return -1;
		}
	snprintf(sql, sizeof sql, "PRAGMA user_version = %zu",
	    (size_t)STORE_NMIGRATIONS);
	if (store_exec(st, sql, cause) == -1 || store_commit(st, cause) == -1) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

static void *
store_ckpt_main(void *arg)
{
	struct store_ckpt *c = arg;
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open_v2(
	    c->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(
		    db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	pthread_mutex_lock(&c->mu);
	if (rc != SQLITE_OK) {
		c->error = rc;
		c->dead = 1;
	}
	while (!c->dead) {
		while (!c->wanted && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->wanted = 0;
		pthread_mutex_unlock(&c->mu);
		rc = sqlite3_wal_checkpoint_v2(
		    db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
		/* BUSY: another checkpoint (another process's) holds the
		 * log; it copies what this one would. */
		if (rc == SQLITE_OK)
			c->error = 0; /* a later failure is news again */
		else if (rc != SQLITE_BUSY)
			c->error = rc;
		c->runs++;
	}
	pthread_mutex_unlock(&c->mu);
	sqlite3_close(db);
	return NULL;
}

/* Make the thread, every signal blocked in it: they are the event
 * loop's. */
static void
store_ckpt_run(struct store_ckpt *c)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&c->thread, NULL, store_ckpt_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		log_warn("store: checkpointer thread");
		c->dead = 1; /* no thread yet: no lock needed */
		return;
	}
	(void)pthread_setname_np(c->thread, "fw-checkpoint");
	c->running = 1;
}

/* BYTES of the store's log in its pages (at least 1). */
static int
store_pages(const struct store *st, int bytes)
{
	return bytes / st->page_size > 0 ? bytes / st->page_size : 1;
}

/*
 * After every commit of the store's connection, in place of SQLite's
 * automatic checkpoint: past STORE_WAL_BACKGROUND_BYTES, wake the thread
 * (made the first time). Past STORE_WAL_CHECKPOINT_BYTES the thread is
 * gone or does not keep up, and the commit copies the log itself as
 * SQLite's would (a passive checkpoint: it gives way to the thread's).
 */
static int
store_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store_ckpt *c = arg;
	int error;

	if (pages < c->background_pages)
		return SQLITE_OK;
	if (!c->running && !c->dead)
		store_ckpt_run(c);
	pthread_mutex_lock(&c->mu);
	c->wanted = 1;
	error = c->error;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (error != c->logged) { /* each new error once */
		if (error != 0)
			log_warnx(
			    "store: checkpoint: %s", sqlite3_errstr(error));
		c->logged = error;
	}
	if (pages >= c->checkpoint_pages)
		sqlite3_wal_checkpoint_v2(
		    db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

/* Hand checkpoints to a thread (made when first needed). Without one
 * (SQLite built without threads), SQLite's automatic checkpoints go on
 * doing the work in the commits themselves. */
static void
store_ckpt_new(struct store *st)
{
	struct store_ckpt *c;

	if (!sqlite3_threadsafe())
		return;
	c = xcalloc(1, sizeof *c);
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		return;
	}
	if (pthread_cond_init(&c->cv, NULL) != 0) {
		pthread_mutex_destroy(&c->mu);
		free(c);
		return;
	}
	c->path = st->path;
	c->background_pages = store_pages(st, STORE_WAL_BACKGROUND_BYTES);
	c->checkpoint_pages = store_pages(st, STORE_WAL_CHECKPOINT_BYTES);
	st->ckpt = c;
	sqlite3_wal_hook(st->db, store_wal_hook, c);
}

/* Stop the thread; SQLite's automatic checkpoints take over again. */
static void
store_ckpt_free(struct store *st)
{
	struct store_ckpt *c = st->ckpt;

	if (c == NULL)
		return;
	sqlite3_wal_autocheckpoint(st->db, c->checkpoint_pages);
	if (c->running) {
		pthread_mutex_lock(&c->mu);
		c->stop = 1;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thread, NULL);
	}
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
	st->ckpt = NULL;
}

uint64_t
store_background_checkpoints(struct store *st)
{
	uint64_t runs;

	if (st->ckpt == NULL)
		return 0;
	pthread_mutex_lock(&st->ckpt->mu);
	runs = st->ckpt->runs;
	pthread_mutex_unlock(&st->ckpt->mu);
	return runs;
}

struct store *
store_open(const char *path, char **cause)
{
	struct store *st;
	sqlite3_stmt *stmt;
	const char *mode;
	char sql[128];
	int fd, ok;

	/* SQLite would create the file 0644; the state is private. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		if (cause != NULL)
			xasprintf(cause, "store %s: %s", path, strerror(errno));
		return NULL;
	}
	close(fd);
	st = xcalloc(1, sizeof *st);
	st->path = xstrdup(path);
	st->relaxed = -1;
	if ((st->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (st->md = EVP_MD_CTX_new()) == NULL)
		fatalx("SHA-256 is not available");
	if ((st->xxh = XXH3_createState()) == NULL)
		fatal("XXH3_createState");
	if (sqlite3_open_v2(path, &st->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		store_error(st, cause, "store %s", path);
		store_close(st);
		return NULL;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	if (sqlite3_create_function_v2(st->db, "fw_idset", 1,
		SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
		NULL, store_idset_step, store_idset_final, NULL) != SQLITE_OK) {
		store_error(st, cause, "store %s: fw_idset", path);
		store_close(st);
		return NULL;
	}
	/* a new (empty) file only: an existing store keeps its pages */
	snprintf(sql, sizeof sql, "PRAGMA page_size = %d", STORE_PAGE_SIZE);
	if (store_exec(st, sql, cause) == -1) {
		store_close(st);
		return NULL;
	}
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &stmt,
		NULL) != SQLITE_OK) {
		store_error(st, cause, "store %s: journal_mode", path);
		store_close(st);
		return NULL;
	}
	ok = sqlite3_step(stmt) == SQLITE_ROW &&
	    (mode = (const char *)sqlite3_column_text(stmt, 0)) != NULL &&
	    strcmp(mode, "wal") == 0;
	sqlite3_finalize(stmt);
	if (!ok) {
		store_error(st, cause, "store %s: cannot use WAL", path);
		store_close(st);
		return NULL;
	}
	/* the file's now: made in WAL mode, it no longer changes */
	st->page_size = STORE_PAGE_SIZE;
	if (sqlite3_prepare_v2(st->db, "PRAGMA page_size", -1, &stmt, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW &&
		    sqlite3_column_int(stmt, 0) > 0)
			st->page_size = sqlite3_column_int(stmt, 0);
		sqlite3_finalize(stmt);
	}
	snprintf(sql, sizeof sql,
	    "PRAGMA wal_autocheckpoint = %d; PRAGMA journal_size_limit = %d",
	    store_pages(st, STORE_WAL_CHECKPOINT_BYTES), STORE_WAL_SIZE_LIMIT);
	/* FULL: a committed alert survives power loss, not only a crash. */
	if (store_exec(st, "PRAGMA synchronous = FULL", cause) == -1 ||
	    store_exec(st, "PRAGMA foreign_keys = ON", cause) == -1 ||
	    store_exec(st, sql, cause) == -1 ||
	    store_migrate(st, cause) == -1) {
		store_close(st);
		return NULL;
	}
	st->relaxed = 0;
	sqlite3_commit_hook(st->db, store_commit_hook, st);
	store_ckpt_new(st);
	return st;
}

void
store_close(struct store *st)
{
	size_t i;

	if (st == NULL)
		return;
	store_batch_abort(st);
	/* the store's connection is then the last one: closing it copies
	 * what is left and removes the log */
	store_ckpt_free(st);
	for (i = 0; i < S_NSTMTS; i++)
		sqlite3_finalize(st->stmts[i]);
	sqlite3_close(st->db);
	EVP_MD_CTX_free(st->md);
	EVP_MD_free(st->sha256);
	XXH3_freeState(st->xxh);
	free(st->path);
	free(st);
}

int
store_checkpoint(struct store *st, char **cause)
{
	int rc;

	/* at shutdown: the thread's copy would make this one fail busy */
	store_ckpt_free(st);
	rc = sqlite3_wal_checkpoint_v2(
	    st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	if (rc != SQLITE_OK) {
		store_error(st, cause, "wal_checkpoint");
		return -1;
	}
	return 0;
}

int
store_check(struct store *st, char **cause)
{
	sqlite3_stmt *stmt;
	struct buf report;
	const char *line;
	int rc, ok = 1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &stmt,
		NULL) != SQLITE_OK) {
		store_error(st, cause, "integrity_check");
		return -1;
	}
	buf_init(&report, 64 * 1024);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		line = (const char *)sqlite3_column_text(stmt, 0);
		if (line == NULL || strcmp(line, "ok") != 0) {
			ok = 0;
			buf_printf(&report, "%s%s", report.len > 0 ? "; " : "",
			    line != NULL ? line : "(null)");
		}
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		buf_free(&report);
		store_error(st, cause, "integrity_check");
		return -1;
	}
	if (!ok) {
		if (cause != NULL)
			*cause = buf_take(&report, NULL);
		buf_free(&report);
		return -1;
	}
	buf_free(&report);
	return 0;
}

uint64_t
store_commits(const struct store *st)
{
	return st->commits;
}

/* Feeds */

void
store_feed_clear(struct store_feed *feed)
{
	if (feed == NULL)
		return;
	free(feed->url);
	free(feed->name);
	free(feed->etag);
	free(feed->last_modified);
	free(feed->last_error);
	free(feed->gone_reason);
	free(feed->moved_to);
	free(feed->redirect_seen);
	memset(feed, 0, sizeof *feed);
}

int
store_feed_get(
    struct store *st, const char *url, struct store_feed *feed, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	memset(feed, 0, sizeof *feed);
	if ((stmt = store_stmt(st, S_FEED_GET, cause)) == NULL)
		return -1;
	store_bind_text(stmt, 1, url);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(stmt);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		store_error(st, cause, "feed get");
		sqlite3_reset(stmt);
		return -1;
	}
	feed->url = store_column_strdup(stmt, 0);
	feed->name = store_column_strdup(stmt, 1);
	feed->etag = store_column_strdup(stmt, 2);
	feed->last_modified = store_column_strdup(stmt, 3);
	feed->next_poll_at = sqlite3_column_int64(stmt, 4);
	feed->last_poll_at = sqlite3_column_int64(stmt, 5);
	feed->last_status = sqlite3_column_int(stmt, 6);
	feed->last_error = store_column_strdup(stmt, 7);
	feed->consecutive_failures = sqlite3_column_int(stmt, 8);
	feed->last_success_at = sqlite3_column_int64(stmt, 9);
	feed->gone_reason = store_column_strdup(stmt, 10);
	feed->first_poll_done = sqlite3_column_int(stmt, 11);
	feed->failing_since = sqlite3_column_int64(stmt, 12);
	feed->moved_to = store_column_strdup(stmt, 13);
	feed->redirect_seen = store_column_strdup(stmt, 14);
	feed->redirect_count = sqlite3_column_int(stmt, 15);
	sqlite3_reset(stmt);
	return 0;
}

int
store_reads_begin(struct store *st, char **cause)
{
	if (st->batch) {
		store_error(NULL, cause, "a batch of ingests is open");
		return -1;
	}
	return store_exec(st, "BEGIN", cause);
}

void
store_reads_end(struct store *st)
{
	if (!st->batch && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
}

/* The upsert, inside the caller's transaction or as its own. */
static int
store_feed_write(struct store *st, const struct store_feed *feed, char **cause)
{
	sqlite3_stmt *stmt;

	if (feed->url == NULL) {
		store_error(NULL, cause, "feed without a URL");
		return -1;
	}
	if ((stmt = store_stmt(st, S_FEED_UPSERT, cause)) == NULL)
		return -1;
	store_bind_text(stmt, 1, feed->url);
	store_bind_text(stmt, 2, feed->name);
	store_bind_text(stmt, 3, feed->etag);
	store_bind_text(stmt, 4, feed->last_modified);
	sqlite3_bind_int64(stmt, 5, feed->next_poll_at);
	sqlite3_bind_int64(stmt, 6, feed->last_poll_at);
	sqlite3_bind_int(stmt, 7, feed->last_status);
	store_bind_text(stmt, 8, feed->last_error);
	sqlite3_bind_int(stmt, 9, feed->consecutive_failures);
	sqlite3_bind_int64(stmt, 10, feed->last_success_at);
	store_bind_text(stmt, 11, feed->gone_reason);
	sqlite3_bind_int64(stmt, 12, feed->failing_since);
	store_bind_text(stmt, 13, feed->moved_to);
	store_bind_text(stmt, 14, feed->redirect_seen);
	sqlite3_bind_int(stmt, 15, feed->redirect_count);
	return store_done(st, stmt, cause);
}

int
store_feed_put(struct store *st, const struct store_feed *feed, char **cause)
{
	return store_feeds_put(st, &feed, 1, cause);
}

int
store_feeds_put(struct store *st, const struct store_feed *const *feeds,
    size_t n, char **cause)
{
	size_t i;

	if (cause != NULL)
		*cause = NULL;
	if (n == 0)
		return 0;
	if (store_relax(st, 1, cause) == -1)
		return -1;
	if (store_begin(st, cause) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		if (store_feed_write(st, feeds[i], cause) == -1)
			goto fail;
	if (store_commit(st, cause) == -1)
		goto fail;
	return 0;
fail:
	store_rollback(st);
	return -1;
}

int
store_feed_delete(struct store *st, const char *url, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_full(st, cause) == -1)
		return -1;
	if (sqlite3_prepare_v2(st->db, "DELETE FROM feeds WHERE url = ?1", -1,
		&stmt, NULL) != SQLITE_OK) {
		store_error(st, cause, "feed delete");
		return -1;
	}
	store_bind_text(stmt, 1, url);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		store_error(st, cause, "feed delete");
		return -1;
	}
	return 0;
}

static int
store_url_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A sorted copy of the N URLs, for bsearch() with store_url_cmp(). */
static const char **
store_urls_sorted(const char *const *urls, size_t n)
{
	const char **sorted = xreallocarray(NULL, n + 1, sizeof *sorted);

	if (n > 0) {
		memcpy(sorted, urls, n * sizeof *sorted);
		qsort(sorted, n, sizeof *sorted, store_url_cmp);
	}
	return sorted;
}

int
store_feeds_present(struct store *st, const char *const *urls, size_t n,
    const char *const *held, size_t nheld, int64_t now, int64_t forget_after,
    struct store_forgotten **out, size_t *nout, char **cause)
{
	const char **sorted = store_urls_sorted(urls, n);
	const char **kept = store_urls_sorted(held, nheld);
	struct store_forgotten *fg = NULL;
	sqlite3_stmt *stmt = NULL;
	struct {
		int64_t id, removed_at; /* the new removed_at; -1: forget */
	} *change = NULL;
	const char *url;
	int64_t removed_at;
	size_t i, nchange = 0, nfg = 0;
	int rc, present;

	*out = NULL;
	*nout = 0;
	if (store_relax(st, 1, cause) == -1 || store_begin(st, cause) == -1)
		goto fail;
	/* read every row first, then change them */
	if (sqlite3_prepare_v2(st->db, "SELECT id, url, removed_at FROM feeds",
		-1, &stmt, NULL) != SQLITE_OK) {
		store_error(st, cause, "feeds present");
		goto fail;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		url = (const char *)sqlite3_column_text(stmt, 1);
		removed_at = sqlite3_column_int64(stmt, 2);
		present = url != NULL &&
		    bsearch(&url, sorted, n, sizeof *sorted, store_url_cmp) !=
			NULL;
		if (present == (removed_at == 0))
			continue;
		change = xreallocarray(change, nchange + 1, sizeof *change);
		change[nchange].id = sqlite3_column_int64(stmt, 0);
		change[nchange].removed_at = present ? 0 : now;
		if (present && now - removed_at >= forget_after &&
		    bsearch(&url, kept, nheld, sizeof *kept, store_url_cmp) ==
			NULL) {
			change[nchange].removed_at = -1;
			fg = xreallocarray(fg, nfg + 1, sizeof *fg);
			fg[nfg].url = xstrdup(url);
			fg[nfg].removed_at = removed_at;
			nfg++;
		}
		nchange++;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (rc != SQLITE_DONE) {
		store_error(st, cause, "feeds present");
		goto fail;
	}
	for (i = 0; i < nchange; i++) {
		if (sqlite3_prepare_v2(st->db,
			change[i].removed_at == -1
			    ? "DELETE FROM feeds WHERE id = ?1"
			    : "UPDATE feeds SET removed_at = ?2 WHERE id = ?1",
			-1, &stmt, NULL) != SQLITE_OK) {
			store_error(st, cause, "feeds present");
			goto fail;
		}
		sqlite3_bind_int64(stmt, 1, change[i].id);
		if (change[i].removed_at != -1)
			sqlite3_bind_int64(stmt, 2, change[i].removed_at);
		rc = store_done(st, stmt, cause);
		sqlite3_finalize(stmt);
		stmt = NULL;
		if (rc == -1)
			goto fail;
	}
	if (store_commit(st, cause) == -1)
		goto fail;
	free(change);
	free(sorted);
	free(kept);
	*out = fg;
	*nout = nfg;
	return 0;
fail:
	sqlite3_finalize(stmt);
	store_rollback(st);
	store_forgotten_free(fg, nfg);
	free(change);
	free(sorted);
	free(kept);
	return -1;
}

void
store_forgotten_free(struct store_forgotten *fg, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(fg[i].url);
	free(fg);
}

/* Ingest */

/* What pass one decided about an item of the document. */
enum store_class {
	STORE_CLASS_NEW,
	STORE_CLASS_UPDATED,
	STORE_CLASS_UNCHANGED,
	STORE_CLASS_BASELINE,
	STORE_CLASS_REKEYED,
	STORE_CLASS_DUPLICATE,
};

/* New, baseline and rekeyed items get a row; the others have one. */
static int store_class_inserts(enum store_class class)
{
	return class == STORE_CLASS_NEW || class == STORE_CLASS_BASELINE ||
	    class == STORE_CLASS_REKEYED;
}

struct store_entry {
	const struct item *item;
	const char *key; /* item->key, or its hash when too long */
	size_t keylen;
	char keyhash[2 * 32 + 6];
	enum store_class class;
	int64_t item_id; /* 0 when not stored yet */
	int revision;
	unsigned char fingerprint[STORE_FP_LEN];
	int old_fingerprint; /* unchanged, its stored fingerprint SHA-256 */
	/* strlen of title, link, summary and content text (0 when NULL),
	 * measured once for the fingerprint and the stored copy */
	size_t lens[4];
};

struct store_match {
	struct store *st;
	const struct store_ingest_options *opts;
	const char *feed_url;
	struct store_entry *entry;
	int is_update;
	int summarize; /* past the cap: fold into the summary */
	int matched; /* this item produced an alert */
	struct store_ingest_result *result;
	char **cause;
	/* The summary alert, when the cap is passed. */
	char **sum_notifiers;
	size_t sum_nnotifiers;
	json_t *sum_watchlists;
	json_t *sum_items;
};

/* SHA-256 over FIELDS (N of them, NULL for an absent one), each prefixed
 * by its length when LENGTHS is set (an absent field then differs from an
 * empty one). */
static void
store_digest(struct store *st, const char *const *fields, const size_t *lens,
    size_t n, int lengths, unsigned char out[32])
{
	unsigned int outlen = 32;
	uint64_t len;
	size_t i;

	if (EVP_DigestInit_ex2(st->md, st->sha256, NULL) != 1)
		fatalx("EVP_DigestInit_ex2 failed");
	for (i = 0; i < n; i++) {
		len = fields[i] != NULL ? (uint64_t)lens[i] : UINT64_MAX;
		if (lengths && EVP_DigestUpdate(st->md, &len, sizeof len) != 1)
			fatalx("EVP_DigestUpdate failed");
		if (fields[i] != NULL &&
		    EVP_DigestUpdate(st->md, fields[i], lens[i]) != 1)
			fatalx("EVP_DigestUpdate failed");
	}
	if (EVP_DigestFinal_ex(st->md, out, &outlen) != 1)
		fatalx("EVP_DigestFinal_ex failed");
}

static void
store_sha256(
    struct store *st, const void *data, size_t len, unsigned char out[32])
{
	const char *field = data;

	store_digest(st, &field, &len, 1, 0, out);
}

static void
store_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/*
 * The fingerprint of an item: XXH3-128 over title, link, summary and
 * content text, each prefixed by its length as 8 bytes little-endian
 * (an absent field: UINT64_MAX and no text, so that it differs from an
 * empty one), stored big-endian (XXH128_canonicalFromHash). A hash to
 * notice a change, not a defence against the feed's author, who could
 * change an item under a new key anyway; and much cheaper than SHA-256.
 * Also measures the fields' lengths for the stored copy.
 */
static void
store_digest_item(XXH3_state_t *xxh, const struct item *item,
    unsigned char fp[STORE_FP_LEN], size_t lens[4])
{
	const char *fields[4] = {item->title_text, item->link,
	    item->summary_text, item->content_text};
	unsigned char len[8];
	uint64_t n;
	XXH128_canonical_t out;
	size_t i, k;

	if (XXH3_128bits_reset(xxh) == XXH_ERROR)
		fatalx("XXH3_128bits_reset failed");
	for (i = 0; i < 4; i++) {
		lens[i] = fields[i] != NULL ? strlen(fields[i]) : 0;
		n = fields[i] != NULL ? (uint64_t)lens[i] : UINT64_MAX;
		for (k = 0; k < 8; k++)
			len[k] = (unsigned char)(n >> (8 * k));
		if (XXH3_128bits_update(xxh, len, sizeof len) == XXH_ERROR ||
		    (fields[i] != NULL &&
			XXH3_128bits_update(xxh, fields[i], lens[i]) ==
			    XXH_ERROR))
			fatalx("XXH3_128bits_update failed");
	}
	XXH128_canonicalFromHash(&out, XXH3_128bits_digest(xxh));
	_Static_assert(sizeof out.digest == STORE_FP_LEN, "fingerprint size");
	memcpy(fp, out.digest, STORE_FP_LEN);
}

/* The fingerprint of E's item: worked out ahead (store_doc_digest), or
 * now. */
static void
store_fingerprint(struct store *st, struct store_entry *e)
{
	_Static_assert(
	    sizeof e->item->digest.hash == STORE_FP_LEN, "digest size");
	if (e->item->digest.set) {
		memcpy(e->fingerprint, e->item->digest.hash, STORE_FP_LEN);
		memcpy(e->lens, e->item->digest.lens, sizeof e->lens);
		return;
	}
	store_digest_item(st->xxh, e->item, e->fingerprint, e->lens);
}

void
store_doc_digest(struct feed_doc *doc)
{
	XXH3_state_t *xxh;
	struct item *item;
	size_t i;

	if (doc == NULL || doc->nitems == 0)
		return;
	if ((xxh = XXH3_createState()) == NULL)
		fatalx("XXH3_createState failed");
	for (i = 0; i < doc->nitems; i++) {
		item = &doc->items[i];
		store_digest_item(
		    xxh, item, item->digest.hash, item->digest.lens);
		item->digest.set = 1;
	}
	XXH3_freeState(xxh);
}

/* The fingerprint earlier versions stored: SHA-256 over the same fields,
 * each prefixed by its length in the machine's byte order (little-endian
 * wherever they ran). E->lens must be measured. */
static void
store_fingerprint_old(
    struct store *st, const struct store_entry *e, unsigned char out[32])
{
	const char *fields[4] = {e->item->title_text, e->item->link,
	    e->item->summary_text, e->item->content_text};

	store_digest(st, fields, e->lens, 4, 1, out);
}

/* Whether the stored fingerprint BLOB (N bytes) is that of E: a row of an
 * earlier version holds SHA-256 (STORE_FP_OLD_LEN), compared as such. */
static int
store_fingerprint_same(
    struct store *st, const struct store_entry *e, const void *blob, int n)
{
	unsigned char old[STORE_FP_OLD_LEN];

	if (blob == NULL)
		return 0;
	if (n == STORE_FP_LEN)
		return memcmp(blob, e->fingerprint, STORE_FP_LEN) == 0;
	if (n != STORE_FP_OLD_LEN)
		return 0;
	store_fingerprint_old(st, e, old);
	return memcmp(blob, old, STORE_FP_OLD_LEN) == 0;
}

/* FNV-1a, for the churn guard's lookups (a collision only hides a new
 * item during a key churn). */
static uint64_t
store_fnv(uint64_t h, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The link without scheme and host: http -> https and a host rename
 * keep the same value. */
static int
store_link_hash(const char *link, size_t len, int64_t *out)
{
	const char *p, *end;

	if (link == NULL || len == 0)
		return 0;
	end = link + len;
	if ((p = memmem(link, len, "://", 3)) != NULL)
		for (p += 3; p < end && *p != '/' && *p != '?' && *p != '#';)
			p++;
	else
		p = link;
	if (p == end) {
		p = "/";
		end = p + 1;
	}
	*out = (int64_t)store_fnv(0xcbf29ce484222325ULL, p, (size_t)(end - p));
	return 1;
}

/* The title (its first LEN bytes), ASCII case folded and whitespace
 * collapsed. */
static int
store_title_hash(const char *title, size_t len, int64_t *out)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int space = 0, any = 0;
	size_t i;
	char c;

	if (title == NULL)
		return 0;
	for (i = 0; i < len; i++) {
		c = title[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			space = any;
			continue;
		}
		if (space)
			h = store_fnv(h, " ", 1);
		space = 0;
		any = 1;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		h = store_fnv(h, &c, 1);
	}
	if (!any)
		return 0;
	*out = (int64_t)h;
	return 1;
}

/* How much of S (LEN long) is stored: at most STORE_MAX_TEXT bytes, cut
 * on a UTF-8 boundary. */
static size_t
store_capped(const char *s, size_t len)
{
	return utf8_cut(s, len, STORE_MAX_TEXT);
}

static void
store_bind_capped(sqlite3_stmt *stmt, int i, const char *s, size_t len)
{
	if (s == NULL)
		sqlite3_bind_null(stmt, i);
	else
		sqlite3_bind_text(
		    stmt, i, s, (int)store_capped(s, len), SQLITE_STATIC);
}

static void
store_bind_time(sqlite3_stmt *stmt, int i, int64_t t)
{
	if (t == ITEM_TIME_NONE)
		sqlite3_bind_null(stmt, i);
	else
		sqlite3_bind_int64(stmt, i, t);
}

/* Open addressing over the document's keys, to find repeats. */
static int
store_key_seen(const char **table, size_t mask, const char *key, size_t len)
{
	size_t i = (size_t)store_fnv(0xcbf29ce484222325ULL, key, len);

	for (i &= mask; table[i] != NULL; i = (i + 1) & mask)
		if (strcmp(table[i], key) == 0)
			return 1;
	table[i] = key;
	return 0;
}

/* One outbox row, due at NOW: 1 when inserted, 0 when it was there. */
static int
store_outbox_add(struct store *st, const char *alert_id, const char *watchlist,
    const char *notifier, const char *feed_url, const char *item_key,
    int revision, const char *payload, int64_t now, char **cause)
{
	sqlite3_stmt *stmt;
	char id[37];

	if ((stmt = store_stmt(st, S_OUTBOX_INSERT, cause)) == NULL)
		return -1;
	alert_new_id(id);
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, alert_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, watchlist, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, notifier, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, feed_url, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, item_key, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 7, revision);
	sqlite3_bind_text(stmt, 8, payload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 9, now);
	if (store_done(st, stmt, cause) == -1)
		return -1;
	return sqlite3_changes(st->db);
}

static int
store_outbox_insert(struct store_match *m, const char *alert_id,
    const char *watchlist, const char *notifier, const char *item_key,
    int revision, const char *payload)
{
	return store_outbox_add(m->st, alert_id, watchlist, notifier,
	    m->feed_url, item_key, revision, payload, m->opts->now, m->cause);
}

static void
store_summary_add(struct store_match *m, const struct store_alert *alert)
{
	const struct item *item = m->entry->item;
	size_t i, j;
	json_t *o;

	for (i = 0; i < alert->nnotifiers; i++) {
		for (j = 0; j < m->sum_nnotifiers; j++)
			if (strcmp(m->sum_notifiers[j], alert->notifiers[i]) ==
			    0)
				break;
		if (j < m->sum_nnotifiers)
			continue;
		m->sum_notifiers = xreallocarray(m->sum_notifiers,
		    m->sum_nnotifiers + 1, sizeof *m->sum_notifiers);
		m->sum_notifiers[m->sum_nnotifiers++] =
		    xstrdup(alert->notifiers[i]);
	}
	for (i = 0; i < json_array_size(m->sum_watchlists); i++)
		if (strcmp(
			json_string_value(json_array_get(m->sum_watchlists, i)),
			alert->watchlist) == 0)
			break;
	if (i == json_array_size(m->sum_watchlists))
		json_array_append_new(
		    m->sum_watchlists, json_string(alert->watchlist));
	if (!m->matched &&
	    json_array_size(m->sum_items) < STORE_SUMMARY_MAX_ITEMS) {
		o = json_object();
		json_object_set_new(o, "key", json_string(m->entry->key));
		json_object_set_new(
		    o, "watchlist", json_string(alert->watchlist));
		if (item->title_text != NULL)
			json_object_set_new(
			    o, "title", json_string(item->title_text));
		if (item->link != NULL)
			json_object_set_new(o, "link", json_string(item->link));
		json_array_append_new(m->sum_items, o);
	}
}

int
store_match_add(struct store_match *m, const struct store_alert *alert)
{
	char alert_id[37];
	size_t i;
	int n, inserted = 0;

	if (alert->watchlist == NULL || alert->payload == NULL) {
		store_error(
		    NULL, m->cause, "alert without watchlist or payload");
		return -1;
	}
	if (m->is_update && !alert->wants_updates)
		return 0;
	if (m->summarize) {
		store_summary_add(m, alert);
		m->matched = 1;
		return 0;
	}
	if (alert->alert_id != NULL)
		snprintf(alert_id, sizeof alert_id, "%s", alert->alert_id);
	else
		alert_new_id(alert_id);
	for (i = 0; i < alert->nnotifiers; i++) {
		n = store_outbox_insert(m, alert_id, alert->watchlist,
		    alert->notifiers[i], m->entry->key, m->entry->revision,
		    alert->payload);
		if (n == -1)
			return -1;
		m->result->nrows += (size_t)n;
		inserted += n;
	}
	if (inserted > 0)
		m->result->nalerts++;
	m->matched = 1;
	return 0;
}

/*
 * The one summary alert of a poll past the cap: an alert document (see
 * notifiers/alert.h) whose watchlist is "*", whose title says how many
 * items it stands for, and whose summary lists them, one per line.
 */
static int
store_summary_flush(struct store_match *m, int64_t fetch_seq)
{
	struct alert *a;
	struct buf text;
	json_t *o;
	const char *title, *link;
	char *payload, alert_id[37], key[64];
	size_t i;
	int n, inserted = 0;

	if (m->sum_nnotifiers == 0)
		return 0;
	alert_new_id(alert_id);
	a = alert_new();
	a->id = xstrdup(alert_id);
	a->watchlist = xstrdup(STORE_SUMMARY_WATCHLIST);
	a->created_at = m->opts->now;
	a->feed_url = xstrdup(m->feed_url);
	a->item_id = xstrdup(alert_id);
	xasprintf(&a->item_title, "%zu more matching items in one poll (%s)",
	    m->result->nsummarized, m->feed_url);
	buf_init(&text, STORE_SUMMARY_MAX_TEXT);
	buf_addstr(&text, "Watchlists:");
	for (i = 0; i < json_array_size(m->sum_watchlists); i++)
		buf_printf(&text, " %s",
		    json_string_value(json_array_get(m->sum_watchlists, i)));
	for (i = 0; i < json_array_size(m->sum_items); i++) {
		o = json_array_get(m->sum_items, i);
		title = json_string_value(json_object_get(o, "title"));
		link = json_string_value(json_object_get(o, "link"));
		if (buf_printf(&text, "\n- %s%s%s%s",
			title != NULL ? title : "(no title)",
			link != NULL ? " <" : "", link != NULL ? link : "",
			link != NULL ? ">" : "") == -1)
			break;
	}
	a->item_summary = buf_take(&text, NULL);
	payload = alert_to_json(a);
	alert_free(a);
	snprintf(key, sizeof key, "summary:%lld", (long long)fetch_seq);
	for (i = 0; i < m->sum_nnotifiers; i++) {
		n = store_outbox_insert(m, alert_id, STORE_SUMMARY_WATCHLIST,
		    m->sum_notifiers[i], key, 0, payload);
		if (n == -1) {
			free(payload);
			return -1;
		}
		m->result->nrows += (size_t)n;
		inserted += n;
	}
	free(payload);
	if (inserted > 0)
		m->result->nalerts++;
	return 0;
}

/* An open-addressing set of 64-bit hashes (0 marks a free slot; a hash
 * of 0 is kept aside). */
struct store_hashset {
	int64_t *slots;
	size_t mask;
	int has_zero;
};

static void
store_hashset_add(struct store_hashset *hs, int64_t h)
{
	size_t i;

	if (h == 0) {
		hs->has_zero = 1;
		return;
	}
	for (i = (size_t)((uint64_t)h * 0x9e3779b97f4a7c15ULL >> 7) & hs->mask;
	     hs->slots[i] != 0 && hs->slots[i] != h; i = (i + 1) & hs->mask)
		;
	hs->slots[i] = h;
}

static int
store_hashset_has(const struct store_hashset *hs, int64_t h)
{
	size_t i;

	if (h == 0)
		return hs->has_zero;
	for (i = (size_t)((uint64_t)h * 0x9e3779b97f4a7c15ULL >> 7) & hs->mask;
	     hs->slots[i] != 0; i = (i + 1) & hs->mask)
		if (hs->slots[i] == h)
			return 1;
	return 0;
}

/*
 * The churn guard, for a poll whose keys are mostly new: a new key whose
 * link or title a stored item of the feed already has is the same item
 * under a new key (REKEYED). The feed's hashes are read once, into two
 * sets in memory, rather than kept in two indexes every insert pays for.
 */
static int
store_churn(struct store *st, int64_t feed_id, size_t n,
    struct store_entry *entries, char **cause)
{
	struct store_hashset links, titles;
	struct store_entry *e;
	sqlite3_stmt *stmt;
	const char *text;
	int64_t *rows = NULL, link_hash, title_hash;
	size_t i, nrows = 0, cap = 0, size;
	int rc, has_link, has_title;

	if ((stmt = store_stmt(st, S_ITEM_HASHES, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, feed_id);
	/* rows: pairs of (has, hash) for link, then title; of the stored
	 * texts, which the new items' are cut like below */
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (nrows + 4 > cap) {
			cap = cap > 0 ? 2 * cap : 256;
			rows = xreallocarray(rows, cap, sizeof *rows);
		}
		text = (const char *)sqlite3_column_text(stmt, 1);
		rows[nrows] = store_link_hash(text,
		    (size_t)sqlite3_column_bytes(stmt, 1), &rows[nrows + 1]);
		nrows += 2;
		text = (const char *)sqlite3_column_text(stmt, 0);
		rows[nrows] = store_title_hash(text,
		    (size_t)sqlite3_column_bytes(stmt, 0), &rows[nrows + 1]);
		nrows += 2;
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		store_error(st, cause, "item hashes");
		free(rows);
		return -1;
	}
	for (size = 16; size < nrows; size <<= 1)
		;
	memset(&links, 0, sizeof links);
	memset(&titles, 0, sizeof titles);
	links.slots = xcalloc(size, sizeof *links.slots);
	titles.slots = xcalloc(size, sizeof *titles.slots);
	links.mask = titles.mask = size - 1;
	for (i = 0; i < nrows; i += 4) {
		if (rows[i])
			store_hashset_add(&links, rows[i + 1]);
		if (rows[i + 2])
			store_hashset_add(&titles, rows[i + 3]);
	}
	for (i = 0; i < n; i++) {
		e = &entries[i];
		if (e->class != STORE_CLASS_NEW)
			continue;
		/* a NULL text has length 0: no hash */
		has_link = store_link_hash(e->item->link,
		    store_capped(e->item->link, e->lens[1]), &link_hash);
		has_title = store_title_hash(e->item->title_text,
		    store_capped(e->item->title_text, e->lens[0]), &title_hash);
		if ((has_link && store_hashset_has(&links, link_hash)) ||
		    (has_title && store_hashset_has(&titles, title_hash)))
			e->class = STORE_CLASS_REKEYED;
	}
	free(links.slots);
	free(titles.slots);
	free(rows);
	return 0;
}

/* Pass one: look every item up, read only. */
static int
store_classify(struct store *st, int64_t feed_id, int first_poll, int empty,
    const struct feed_doc *doc, const struct store_ingest_options *opts,
    struct store_entry *entries, char **cause)
{
	struct store_entry *e;
	sqlite3_stmt *stmt;
	const char **table;
	const void *blob;
	size_t i, mask, nunique = 0, nunknown = 0;
	int64_t when;
	int rc, n;
	unsigned char h[32];

	for (mask = 1; mask < 2 * doc->nitems + 2; mask <<= 1)
		;
	table = xcalloc(mask, sizeof *table);
	mask--;
	for (i = 0; i < doc->nitems; i++) {
		e = &entries[i];
		e->item = &doc->items[i];
		e->key = e->item->key;
		if (e->key == NULL || *e->key == '\0') {
			e->class = STORE_CLASS_DUPLICATE;
			continue;
		}
		e->keylen = strlen(e->key);
		if (e->keylen > STORE_MAX_KEY) {
			store_sha256(st, e->key, e->keylen, h);
			memcpy(e->keyhash, "sha256:", 7);
			store_hex(h, 29, e->keyhash + 7);
			e->key = e->keyhash;
			e->keylen = strlen(e->keyhash);
		}
		if (store_key_seen(table, mask, e->key, e->keylen)) {
			e->class = STORE_CLASS_DUPLICATE;
			continue;
		}
		nunique++;
		store_fingerprint(st, e);
		/* Before its first ingest (fetch_seq 0) a feed has no item
		 * to look up. */
		if (empty) {
			stmt = NULL;
			rc = SQLITE_DONE;
		} else {
			if ((stmt = store_stmt(st, S_ITEM_GET, cause)) == NULL)
				goto fail;
			sqlite3_bind_int64(stmt, 1, feed_id);
			sqlite3_bind_text(
			    stmt, 2, e->key, (int)e->keylen, SQLITE_STATIC);
			rc = sqlite3_step(stmt);
		}
		if (rc == SQLITE_ROW) {
			e->item_id = sqlite3_column_int64(stmt, 0);
			blob = sqlite3_column_blob(stmt, 1);
			e->revision = sqlite3_column_int(stmt, 2);
			n = sqlite3_column_bytes(stmt, 1);
			e->class = store_fingerprint_same(st, e, blob, n)
			    ? STORE_CLASS_UNCHANGED
			    : STORE_CLASS_UPDATED;
			/* to be rewritten with the new kind (migration 5) */
			e->old_fingerprint =
			    e->class == STORE_CLASS_UNCHANGED &&
			    n == STORE_FP_OLD_LEN;
		} else if (rc == SQLITE_DONE) {
			nunknown++;
			e->class = STORE_CLASS_NEW;
			if (first_poll) {
				when = e->item->published != ITEM_TIME_NONE
				    ? e->item->published
				    : e->item->updated;
				if (opts->first_poll_max_age <= 0 ||
				    when == ITEM_TIME_NONE ||
				    when < opts->now - opts->first_poll_max_age)
					e->class = STORE_CLASS_BASELINE;
			}
		} else {
			store_error(st, cause, "item lookup");
			sqlite3_reset(stmt);
			goto fail;
		}
		if (stmt != NULL)
			sqlite3_reset(stmt);
	}
	free(table);

	/* The churn guard: mostly new keys, for links or titles we know. */
	if (first_poll || nunknown < STORE_CHURN_MIN_NEW ||
	    2 * nunknown < nunique)
		return 0;
	return store_churn(st, feed_id, doc->nitems, entries, cause);
fail:
	free(table);
	return -1;
}

/* Bind an item's stored texts and dates to parameters FIRST .. FIRST+5. */
static void
store_bind_texts(sqlite3_stmt *stmt, int first, const struct store_entry *e)
{
	const struct item *item = e->item;

	store_bind_capped(stmt, first, item->title_text, e->lens[0]);
	store_bind_capped(stmt, first + 1, item->link, e->lens[1]);
	store_bind_time(stmt, first + 2, item->published);
	store_bind_time(stmt, first + 3, item->updated);
	store_bind_capped(stmt, first + 4, item->summary_text, e->lens[2]);
	store_bind_capped(stmt, first + 5, item->content_text, e->lens[3]);
}

/* Bind a new item's row to parameters FIRST .. FIRST+9: feed, key, first
 * seen, fingerprint, texts and dates. */
static void
store_bind_item(sqlite3_stmt *stmt, int first, int64_t feed_id,
    const struct store_entry *e, int64_t now)
{
	sqlite3_bind_int64(stmt, first, feed_id);
	sqlite3_bind_text(
	    stmt, first + 1, e->key, (int)e->keylen, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, first + 2, now);
	sqlite3_bind_blob(
	    stmt, first + 3, e->fingerprint, STORE_FP_LEN, SQLITE_STATIC);
	store_bind_texts(stmt, first + 4, e);
}

static int
store_item_insert(struct store *st, int64_t feed_id, struct store_entry *e,
    int64_t now, char **cause)
{
	sqlite3_stmt *stmt;

	if ((stmt = store_stmt(st, S_ITEM_INSERT, cause)) == NULL)
		return -1;
	store_bind_item(stmt, 1, feed_id, e, now);
	if (store_done(st, stmt, cause) == -1)
		return -1;
	e->item_id = sqlite3_last_insert_rowid(st->db);
	e->revision = 0;
	return 0;
}

/* N new items (STORE_INSERT_BATCH or STORE_INSERT_SMALL_BATCH) in one
 * statement, with the ids SQLite would have given them one by one (the
 * largest id plus one, two...). */
static int
store_item_insert_batch(struct store *st, int64_t feed_id,
    struct store_entry **batch, int n, int64_t now, char **cause)
{
	sqlite3_stmt *stmt;
	int64_t max_id;
	int i, rc, big = n == STORE_INSERT_BATCH;

	if ((stmt = store_stmt(st, S_ITEM_MAX_ID, cause)) == NULL)
		return -1;
	rc = sqlite3_step(stmt);
	max_id = sqlite3_column_int64(stmt, 0); /* 0 when no item yet */
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW) {
		store_error(st, cause, "item ids");
		return -1;
	}
	if (max_id > INT64_MAX - n) { /* SQLite picks ids at random then */
		for (i = 0; i < n; i++)
			if (store_item_insert(
				st, feed_id, batch[i], now, cause) == -1)
				return -1;
		return 0;
	}
	if ((stmt = store_stmt(st,
		 big ? S_ITEM_INSERT_BATCH : S_ITEM_INSERT_BATCH4, cause)) ==
	    NULL)
		return -1;
	for (i = 0; i < n; i++) {
		batch[i]->item_id = max_id + 1 + i;
		batch[i]->revision = 0;
		sqlite3_bind_int64(stmt, 11 * i + 1, batch[i]->item_id);
		store_bind_item(stmt, 11 * i + 2, feed_id, batch[i], now);
	}
	return store_done(st, stmt, cause);
}

/* Store every new item of ENTRIES (new, baseline, rekeyed), in the
 * largest batches their number allows, in document order. */
static int
store_items_insert(struct store *st, int64_t feed_id,
    struct store_entry *entries, size_t n, int64_t now, char **cause)
{
	struct store_entry *batch[STORE_INSERT_BATCH];
	size_t i, left = 0;
	int size = 0, nbatch = 0;

	for (i = 0; i < n; i++)
		if (store_class_inserts(entries[i].class))
			left++;
	for (i = 0; i < n; i++) {
		if (!store_class_inserts(entries[i].class))
			continue;
		if (nbatch == 0)
			size = left >= STORE_INSERT_BATCH ? STORE_INSERT_BATCH
			    : left >= STORE_INSERT_SMALL_BATCH
			    ? STORE_INSERT_SMALL_BATCH
			    : 1;
		left--;
		if (size == 1) {
			if (store_item_insert(
				st, feed_id, &entries[i], now, cause) == -1)
				return -1;
			continue;
		}
		batch[nbatch++] = &entries[i];
		if (nbatch == size) {
			if (store_item_insert_batch(
				st, feed_id, batch, size, now, cause) == -1)
				return -1;
			nbatch = 0;
		}
	}
	return 0;
}

static int
store_item_update(struct store *st, struct store_entry *e, char **cause)
{
	sqlite3_stmt *stmt;

	e->revision++;
	if ((stmt = store_stmt(st, S_ITEM_UPDATE, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, e->item_id);
	sqlite3_bind_blob(stmt, 2, e->fingerprint, STORE_FP_LEN, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 3, e->revision);
	store_bind_texts(stmt, 4, e);
	return store_done(st, stmt, cause);
}

/* An unchanged item whose row holds a SHA-256 fingerprint gets the new
 * kind, once (migration 5). */
static int
store_item_refingerprint(
    struct store *st, const struct store_entry *e, char **cause)
{
	sqlite3_stmt *stmt;

	if ((stmt = store_stmt(st, S_ITEM_FINGERPRINT, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, e->item_id);
	sqlite3_bind_blob(stmt, 2, e->fingerprint, STORE_FP_LEN, SQLITE_STATIC);
	return store_done(st, stmt, cause);
}

/* Pass two: write the items and enqueue their alerts. */
static int
store_apply(struct store *st, int64_t feed_id, int64_t seq,
    struct store_entry *entries, size_t n, struct store_match *m,
    store_match_fn *match, void *arg)
{
	struct store_ingest_result *r = m->result;
	struct store_entry *e;
	size_t i, cap, nalertable = 0;
	int alertable;

	cap = m->opts->max_alerts > 0 ? m->opts->max_alerts
				      : STORE_DEFAULT_MAX_ALERTS;
	if (store_items_insert(
		st, feed_id, entries, n, m->opts->now, m->cause) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		e = &entries[i];
		alertable = 0;
		switch (e->class) {
		case STORE_CLASS_DUPLICATE:
			r->nduplicate++;
			continue;
		case STORE_CLASS_UNCHANGED:
			r->nunchanged++;
			if (e->old_fingerprint &&
			    store_item_refingerprint(st, e, m->cause) == -1)
				return -1;
			continue;
		case STORE_CLASS_UPDATED:
			if (store_item_update(st, e, m->cause) == -1)
				return -1;
			alertable = 1;
			break;
		case STORE_CLASS_BASELINE:
		case STORE_CLASS_REKEYED:
		case STORE_CLASS_NEW:
			/* stored by store_items_insert */
			if (e->class == STORE_CLASS_BASELINE)
				r->nbaseline++;
			else if (e->class == STORE_CLASS_REKEYED)
				r->nrekeyed++;
			else
				alertable = 1;
			break;
		}
		if (!alertable || match == NULL)
			continue;
		m->entry = e;
		m->is_update = e->class == STORE_CLASS_UPDATED;
		m->summarize = nalertable++ >= cap;
		m->matched = 0;
		if (m->is_update)
			r->nupdated++;
		else
			r->nnew++;
		if (match(arg, m->feed_url, e->item, m->is_update, m) == -1) {
			if (m->cause != NULL && *m->cause == NULL)
				store_error(NULL, m->cause, "matcher failed");
			return -1;
		}
		if (m->summarize && m->matched)
			r->nsummarized++;
	}
	return store_summary_flush(m, seq);
}

/*
 * Undo the open ingest of a batch, which goes on without it. When SQLite
 * has already rolled the whole transaction back (some I/O errors do), the
 * savepoint is gone with it and store_batch_commit() says so.
 */
static void
store_batch_undo(struct store *st)
{
	if (sqlite3_get_autocommit(st->db)) {
		st->batch_broken = 1;
		return;
	}
	if (store_run(st, S_ROLLBACK_TO, NULL) == -1 ||
	    store_run(st, S_RELEASE, NULL) == -1) {
		/* what the savepoint held may be in the transaction still:
		 * none of it may commit */
		st->batch_broken = 1;
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	}
}

/*
 * A group commit holds each feed's ingest in a savepoint of its own, and
 * SQLite keeps, for each savepoint, the pages it changes that an earlier
 * feed of the batch had changed: a sub-journal, used only to roll the
 * savepoint back, never for crash recovery. Past 64 KiB it goes to a
 * temporary file (a first cycle of 1,000 feeds wrote 56 MB to /var/tmp
 * that way, more than the log itself), unless the transaction begins
 * with temp_store = MEMORY: then it stays in memory, as large as the
 * pages one feed's ingest rewrites. Only for the batch's transaction:
 * elsewhere temporary tables (a large GROUP BY) may still go to a file.
 * (A larger SQLITE_CONFIG_STMTJRNL_SPILL would do the same, but SQLite
 * 3.40 then fails a savepoint that outgrows it with SQLITE_FULL.)
 */
static int
store_temp_memory(struct store *st, int on, char **cause)
{
	/* applied when prepared, which store_run() does each time (see
	 * store_relax()) */
	return store_run(st, on ? S_TEMP_MEMORY : S_TEMP_DEFAULT, cause);
}

/* The batch's transaction is over: temporary storage as elsewhere. */
static void
store_batch_done(struct store *st)
{
	char *cause = NULL;

	if (store_temp_memory(st, 0, &cause) == -1) {
		log_warnx("store: %s", cause != NULL ? cause : "temp_store");
		free(cause);
	}
}

int
store_batch_begin(struct store *st, char **cause)
{
	if (cause != NULL)
		*cause = NULL;
	if (store_relax(st, 1, cause) == -1 ||
	    store_temp_memory(st, 1, cause) == -1)
		return -1;
	if (store_begin(st, cause) == -1) {
		store_batch_done(st);
		return -1;
	}
	st->batch = 1;
	st->batch_rows = 0;
	st->batch_broken = 0;
	return 0;
}

int
store_batch_commit(struct store *st, char **cause)
{
	size_t rows = st->batch_rows;

	if (cause != NULL)
		*cause = NULL;
	if (!st->batch) {
		store_error(NULL, cause, "no batch of ingests is open");
		return -1;
	}
	st->batch = 0;
	st->batch_rows = 0;
	if (st->batch_broken || sqlite3_get_autocommit(st->db)) {
		store_error(NULL, cause, "the batch was rolled back");
		store_rollback(st);
		store_batch_done(st);
		return -1;
	}
	if (store_commit(st, cause) == -1) {
		store_rollback(st);
		store_batch_done(st);
		return -1;
	}
	store_batch_done(st);
	/* committed: alerts are made durable here, before the return */
	if (rows > 0 && store_sync_wal(st, cause) == -1)
		return -1;
	return 0;
}

void
store_batch_abort(struct store *st)
{
	if (!st->batch)
		return;
	st->batch = 0;
	st->batch_rows = 0;
	store_rollback(st);
	store_batch_done(st);
}

int
store_ingest(struct store *st, const struct store_feed *feed,
    const struct feed_doc *doc, const struct store_ingest_options *opts,
    store_match_fn *match, void *arg, struct store_ingest_result *result,
    char **cause)
{
	struct store_ingest_result dummy;
	struct store_entry *entries = NULL;
	struct store_match m;
	sqlite3_stmt *stmt;
	int64_t feed_id, seq, *present = NULL, *ids = NULL;
	unsigned char *set = NULL;
	size_t i, nunique = 0, npresent = 0, setlen = 0;
	int first_poll, bump, damaged, rc;

	if (result == NULL)
		result = &dummy;
	memset(result, 0, sizeof *result);
	if (cause != NULL)
		*cause = NULL;
	if (st->batch) {
		/* Outside the transaction, SAVEPOINT would begin one of its
		 * own and RELEASE commit it, with none of the batch's rules. */
		if (st->batch_broken || sqlite3_get_autocommit(st->db)) {
			st->batch_broken = 1;
			store_error(NULL, cause, "the batch was rolled back");
			return -1;
		}
		if (store_run(st, S_SAVEPOINT, cause) == -1)
			return -1;
	} else {
		if (store_relax(st, 1, cause) == -1)
			return -1;
		if (store_begin(st, cause) == -1)
			goto fail;
	}
	if (store_feed_write(st, feed, cause) == -1)
		goto fail;
	if ((stmt = store_stmt(st, S_FEED_IDS, cause)) == NULL)
		goto fail;
	store_bind_text(stmt, 1, feed->url);
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		store_error(st, cause, "feed lookup");
		sqlite3_reset(stmt);
		goto fail;
	}
	feed_id = sqlite3_column_int64(stmt, 0);
	first_poll = !sqlite3_column_int(stmt, 1);
	seq = sqlite3_column_int64(stmt, 2);
	/* NULL (never fetched) is the empty set; a damaged one is written
	 * again below, from this fetch */
	damaged =
	    store_present_get(stmt, 3, feed->url, &present, &npresent) == -1;
	sqlite3_reset(stmt);

	entries = xcalloc(doc->nitems + 1, sizeof *entries);
	if (store_classify(st, feed_id, first_poll, seq == 0, doc, opts,
		entries, cause) == -1)
		goto fail;

	/* The same items as the latest fetch: the feed's set stays. */
	bump = first_poll || damaged;
	for (i = 0; i < doc->nitems; i++) {
		if (entries[i].class == STORE_CLASS_DUPLICATE)
			continue;
		nunique++;
		if (entries[i].item_id == 0 ||
		    !store_ids_have(present, npresent, entries[i].item_id))
			bump = 1;
	}
	if (nunique != npresent)
		bump = 1;
	if (bump)
		seq++;

	memset(&m, 0, sizeof m);
	m.st = st;
	m.opts = opts;
	m.feed_url = feed->url;
	m.result = result;
	m.cause = cause;
	m.sum_watchlists = json_array();
	m.sum_items = json_array();
	rc =
	    store_apply(st, feed_id, seq, entries, doc->nitems, &m, match, arg);
	for (i = 0; i < m.sum_nnotifiers; i++)
		free(m.sum_notifiers[i]);
	free(m.sum_notifiers);
	json_decref(m.sum_watchlists);
	json_decref(m.sum_items);
	if (rc == -1)
		goto fail;

	if ((stmt = store_stmt(st, S_FEED_DONE, cause)) == NULL)
		goto fail;
	sqlite3_bind_int64(stmt, 1, feed_id);
	sqlite3_bind_int64(stmt, 2, seq);
	if (bump) { /* every unique item has its row (and id) now */
		ids = xreallocarray(NULL, nunique + 1, sizeof *ids);
		for (nunique = 0, i = 0; i < doc->nitems; i++)
			if (entries[i].class != STORE_CLASS_DUPLICATE)
				ids[nunique++] = entries[i].item_id;
		qsort(ids, nunique, sizeof *ids, store_id_cmp);
		store_ids_encode(ids, nunique, &set, &setlen);
		sqlite3_bind_blob(stmt, 3, set, (int)setlen, SQLITE_STATIC);
	} else
		sqlite3_bind_null(stmt, 3); /* kept as it is */
	/*
	 * A first document cut short (elements left open) may hold only
	 * part of the feed: the baseline stays open for the next poll, or
	 * the rest would alert as new. Bounded, since some feeds are always
	 * broken. Only cut short: a feed with a bare '&', or served as
	 * text/html or in a wrong encoding, is whole, and its next items
	 * must alert.
	 */
	result->baseline_open =
	    first_poll && doc->cut_short && seq < STORE_BASELINE_CUT_POLLS;
	sqlite3_bind_int(stmt, 4, !result->baseline_open);
	rc = store_done(st, stmt, cause);
	free(present);
	free(ids);
	free(set);
	present = ids = NULL;
	set = NULL;
	if (rc == -1)
		goto fail;
	if (st->batch) {
		if (store_run(st, S_RELEASE, cause) == -1)
			goto fail;
		st->batch_rows += result->nrows;
		free(entries);
		return 0;
	}
	if (store_commit(st, cause) == -1)
		goto fail;
	free(entries);
	/* committed: alerts are made durable here, before the return */
	if (result->nrows > 0 && store_sync_wal(st, cause) == -1)
		return -1;
	return 0;
fail:
	if (st->batch)
		store_batch_undo(st);
	else
		store_rollback(st);
	free(entries);
	free(present);
	free(ids);
	free(set);
	memset(result, 0, sizeof *result);
	return -1;
}

void
store_item_clear(struct store_item *item)
{
	if (item == NULL)
		return;
	free(item->key);
	free(item->title);
	free(item->link);
	free(item->summary_text);
	free(item->content_text);
	memset(item, 0, sizeof *item);
}

static int64_t
store_column_time(sqlite3_stmt *stmt, int i)
{
	if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
		return ITEM_TIME_NONE;
	return sqlite3_column_int64(stmt, i);
}

int
store_items_foreach(struct store *st, const char *feed_url,
    int (*fn)(void *, const struct store_item *), void *arg, char **cause)
{
	sqlite3_stmt *stmt;
	struct store_item item;
	int64_t *present = NULL;
	size_t npresent = 0;
	int rc, stop = 0;

	/* the set and the items of one snapshot */
	if (store_exec(st, "SAVEPOINT items_read", cause) == -1)
		return -1;
	if (sqlite3_prepare_v2(st->db,
		"SELECT present FROM feeds WHERE url = ?1", -1, &stmt,
		NULL) != SQLITE_OK) {
		store_error(st, cause, "items");
		goto fail;
	}
	store_bind_text(stmt, 1, feed_url);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		(void)store_present_get(stmt, 0, feed_url, &present, &npresent);
	else if (rc != SQLITE_DONE)
		store_error(st, cause, "items");
	sqlite3_finalize(stmt);
	if (rc == SQLITE_DONE) /* not a feed of the store: no items */
		return store_exec(st, "RELEASE items_read", cause);
	if (rc != SQLITE_ROW)
		goto fail;
	if (sqlite3_prepare_v2(st->db,
		"SELECT i.key, i.first_seen, i.revision, i.id, i.title, "
		"i.link, i.published, i.updated, i.summary_text, "
		"i.content_text FROM feeds f JOIN items i ON i.feed_id = f.id "
		"WHERE f.url = ?1 ORDER BY i.first_seen, i.id",
		-1, &stmt, NULL) != SQLITE_OK) {
		store_error(st, cause, "items");
		goto fail;
	}
	store_bind_text(stmt, 1, feed_url);
	while (!stop && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&item, 0, sizeof item);
		item.key = store_column_strdup(stmt, 0);
		item.first_seen = sqlite3_column_int64(stmt, 1);
		item.revision = sqlite3_column_int(stmt, 2);
		item.present = store_ids_have(
		    present, npresent, sqlite3_column_int64(stmt, 3));
		item.title = store_column_strdup(stmt, 4);
		item.link = store_column_strdup(stmt, 5);
		item.published = store_column_time(stmt, 6);
		item.updated = store_column_time(stmt, 7);
		item.summary_text = store_column_strdup(stmt, 8);
		item.content_text = store_column_strdup(stmt, 9);
		stop = fn(arg, &item);
		store_item_clear(&item);
	}
	free(present);
	present = NULL;
	if (!stop && rc != SQLITE_DONE) {
		store_error(st, cause, "items");
		sqlite3_finalize(stmt);
		goto fail;
	}
	sqlite3_finalize(stmt);
	return store_exec(st, "RELEASE items_read", cause);
fail:
	free(present);
	sqlite3_exec(st->db, "RELEASE items_read", NULL, NULL, NULL);
	return -1;
}

/* A feed as the items' pass of retention sees it. */
struct store_prune_feed {
	int64_t id;
	int damaged; /* its latest fetch's set is damaged: its items stay
			(they may be in it) */
	int64_t *present;
	size_t npresent;
};

static int
store_prune_feed_cmp(const void *key, const void *member)
{
	int64_t id = *(const int64_t *)key;
	const struct store_prune_feed *f = member;

	return id < f->id ? -1 : id > f->id;
}

static void
store_prune_feeds_free(struct store_prune_feed *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].present);
	free(v);
}

/* Every feed, by id, with its latest fetch's set; a damaged set is
 * logged when WARN is set (once a run). */
static int
store_prune_feeds(
    struct store *st, int warn, struct store_prune_feed **out, size_t *nout)
{
	sqlite3_stmt *stmt = NULL;
	struct store_prune_feed *v = NULL, *f;
	size_t n = 0, cap = 0;
	const char *url;
	int rc;

	if (sqlite3_prepare_v2(st->db,
		"SELECT id, url, present FROM feeds ORDER BY id", -1, &stmt,
		NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap > 0 ? 2 * cap : 64;
			v = xreallocarray(v, cap, sizeof *v);
		}
		f = &v[n++];
		memset(f, 0, sizeof *f);
		f->id = sqlite3_column_int64(stmt, 0);
		url = (const char *)sqlite3_column_text(stmt, 1);
		if (warn)
			f->damaged =
			    store_present_get(stmt, 2, url != NULL ? url : "?",
				&f->present, &f->npresent) == -1;
		else
			f->damaged =
			    store_ids_decode(sqlite3_column_blob(stmt, 2),
				(size_t)sqlite3_column_bytes(stmt, 2),
				&f->present, &f->npresent) == -1;
	}
	sqlite3_finalize(stmt);
	*out = v;
	*nout = n;
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * The items' pass, one step: the items of ids after *CURSOR, at most
 * STEP of them, deleted when first seen before BEFORE and not in their
 * feed's latest fetch. *CURSOR moves to the last id looked at; returns
 * 1 when there may be more, 0 when the pass is over, -1 on error.
 */
static int
store_prune_items(
    struct store *st, int64_t before, size_t step, int64_t *cursor, size_t *n)
{
	sqlite3_stmt *rows = NULL, *del = NULL;
	struct store_prune_feed *feeds = NULL, *f;
	size_t nf = 0, seen = 0, ngone = 0, cap = 0, i;
	int64_t id, feed_id, *gone = NULL;
	int rc = -1;

	if (store_prune_feeds(st, *cursor == 0, &feeds, &nf) == -1 ||
	    sqlite3_prepare_v2(st->db,
		"SELECT id, feed_id, first_seen FROM items WHERE id > ?1 "
		"ORDER BY id LIMIT ?2",
		-1, &rows, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "DELETE FROM items WHERE id = ?1", -1,
		&del, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(rows, 1, *cursor);
	sqlite3_bind_int64(rows, 2, (sqlite3_int64)step);
	while ((rc = sqlite3_step(rows)) == SQLITE_ROW) {
		id = sqlite3_column_int64(rows, 0);
		feed_id = sqlite3_column_int64(rows, 1);
		*cursor = id;
		seen++;
		f = bsearch(
		    &feed_id, feeds, nf, sizeof *feeds, store_prune_feed_cmp);
		if (f == NULL || f->damaged ||
		    sqlite3_column_int64(rows, 2) >= before ||
		    store_ids_have(f->present, f->npresent, id))
			continue;
		if (ngone == cap) {
			cap = cap > 0 ? 2 * cap : 64;
			gone = xreallocarray(gone, cap, sizeof *gone);
		}
		gone[ngone++] = id;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	for (i = 0; i < ngone; i++) {
		sqlite3_bind_int64(del, 1, gone[i]);
		if (sqlite3_step(del) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(del);
		*n += (size_t)sqlite3_changes(st->db);
	}
	rc = seen == step;
	goto out;
fail:
	rc = -1;
out:
	sqlite3_finalize(rows);
	sqlite3_finalize(del);
	store_prune_feeds_free(feeds, nf);
	free(gone);
	return rc;
}

/*
 * The feeds that go, one step: those out of the configuration since
 * before BEFORE and not of KEPT (NHELD sorted URLs a running daemon
 * polls), each deleted with all its items (ON DELETE CASCADE) in this
 * step's transaction, so that none is ever left with part of them: as
 * many as come to STEP items, and at least one. 1 when there may be
 * more; *N counts the items, *NFEEDS the feeds.
 */
static int
store_prune_gone(struct store *st, int64_t before, const char *const *kept,
    size_t nheld, size_t step, size_t *n, size_t *nfeeds)
{
	sqlite3_stmt *list = NULL, *count = NULL, *del = NULL;
	int64_t *ids = NULL;
	size_t nids = 0, cap = 0, done = 0, size, i;
	const char *url;
	int rc = -1;

	if (sqlite3_prepare_v2(st->db,
		"SELECT id, url FROM feeds WHERE removed_at != 0 AND "
		"removed_at < ?1",
		-1, &list, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db,
		"SELECT count(*) FROM items WHERE feed_id = ?1", -1, &count,
		NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "DELETE FROM feeds WHERE id = ?1", -1,
		&del, NULL) != SQLITE_OK)
		goto out;
	/* read the rows first, then delete them */
	sqlite3_bind_int64(list, 1, before);
	while ((rc = sqlite3_step(list)) == SQLITE_ROW) {
		url = (const char *)sqlite3_column_text(list, 1);
		if (url != NULL &&
		    bsearch(&url, kept, nheld, sizeof *kept, store_url_cmp) !=
			NULL)
			continue;
		if (nids == cap) {
			cap = cap > 0 ? 2 * cap : 16;
			ids = xreallocarray(ids, cap, sizeof *ids);
		}
		ids[nids++] = sqlite3_column_int64(list, 0);
	}
	if (rc != SQLITE_DONE)
		goto fail;
	for (i = 0; i < nids; i++) {
		sqlite3_bind_int64(count, 1, ids[i]);
		if (sqlite3_step(count) != SQLITE_ROW)
			goto fail;
		size = (size_t)sqlite3_column_int64(count, 0);
		sqlite3_reset(count);
		if (i > 0 && done + size > step)
			break; /* the next step's */
		sqlite3_bind_int64(del, 1, ids[i]);
		if (sqlite3_step(del) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(del);
		done += size;
		*n += size;
		(*nfeeds)++;
	}
	rc = i < nids;
	goto out;
fail:
	rc = -1;
out:
	sqlite3_finalize(list);
	sqlite3_finalize(count);
	sqlite3_finalize(del);
	free(ids);
	return rc;
}

/* One step over the delivered and dead outbox rows created before
 * BEFORE: at most STEP deleted; 1 when there may be more. */
static int
store_prune_outbox(struct store *st, int64_t before, size_t step)
{
	sqlite3_stmt *stmt = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(st->db,
		"DELETE FROM outbox WHERE rowid IN (SELECT rowid FROM outbox "
		"WHERE created_at < ?1 AND state IN ('delivered', 'dead') "
		"LIMIT ?2)",
		-1, &stmt, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(stmt, 1, before);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)step);
	if (sqlite3_step(stmt) == SQLITE_DONE)
		rc = (size_t)sqlite3_changes(st->db) == step;
	sqlite3_finalize(stmt);
	return rc;
}

/* The phases of a run, as *cursor tells them: an item id (0 at the
 * start) while the items' pass goes on, then these. */
#define STORE_PRUNE_GONE (-1)
#define STORE_PRUNE_OUTBOX (-2)

int
store_prune_step(struct store *st, int64_t now, int64_t max_age,
    const char *const *held, size_t nheld, size_t step, int64_t *cursor,
    size_t *npruned, size_t *nfeeds, char **cause)
{
	const char **kept = store_urls_sorted(held, nheld);
	int64_t before = now - max_age;
	size_t n = 0, nf = 0;
	int rc = 0;

	if (step == 0)
		step = 1;
	if (store_full(st, cause) == -1 || store_begin(st, cause) == -1) {
		free(kept);
		return -1;
	}
	/* one phase a step; the one after when it is over */
	if (*cursor >= 0) {
		if ((rc = store_prune_items(st, before, step, cursor, &n)) ==
		    0) {
			*cursor = STORE_PRUNE_GONE;
			rc = 1;
		}
	} else if (*cursor == STORE_PRUNE_GONE) {
		if ((rc = store_prune_gone(
			 st, before, kept, nheld, step, &n, &nf)) == 0) {
			*cursor = STORE_PRUNE_OUTBOX;
			rc = 1;
		}
	} else if ((rc = store_prune_outbox(st, before, step)) == 0)
		*cursor = 0; /* done: the next run starts again */
	free(kept);
	if (rc == -1) {
		store_error(st, cause, "prune");
		store_rollback(st);
		return -1;
	}
	if (store_commit(st, cause) == -1) {
		store_rollback(st);
		return -1;
	}
	if (npruned != NULL)
		*npruned = n;
	if (nfeeds != NULL)
		*nfeeds = nf;
	return rc;
}

int
store_prune(struct store *st, int64_t now, int64_t max_age,
    const char *const *held, size_t nheld, size_t *npruned, size_t *nfeeds,
    char **cause)
{
	int64_t cursor = 0;
	size_t n = 0, nf = 0, n1, nf1;
	int rc;

	do {
		rc = store_prune_step(st, now, max_age, held, nheld,
		    STORE_PRUNE_STEP, &cursor, &n1, &nf1, cause);
		n += rc >= 0 ? n1 : 0;
		nf += rc >= 0 ? nf1 : 0;
	} while (rc == 1);
	if (npruned != NULL)
		*npruned = n;
	if (nfeeds != NULL)
		*nfeeds = nf;
	return rc;
}

/* Outbox */

const char *
store_outbox_state_name(enum store_outbox_state state)
{
	if ((unsigned)state <
	    sizeof store_state_names / sizeof *store_state_names)
		return store_state_names[state];
	return "unknown";
}

int
store_outbox_state_parse(const char *s, enum store_outbox_state *state)
{
	size_t i;

	for (i = 0; i < sizeof store_state_names / sizeof *store_state_names;
	     i++)
		if (strcmp(s, store_state_names[i]) == 0) {
			*state = (enum store_outbox_state)i;
			return 0;
		}
	return -1;
}

void
store_outbox_row_clear(struct store_outbox_row *row)
{
	if (row == NULL)
		return;
	free(row->id);
	free(row->alert_id);
	free(row->watchlist);
	free(row->notifier);
	free(row->feed_url);
	free(row->item_key);
	free(row->payload);
	free(row->last_error);
	memset(row, 0, sizeof *row);
}

void
store_outbox_rows_free(struct store_outbox_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		store_outbox_row_clear(&rows[i]);
	free(rows);
}

/* A row from the OUTBOX_COLUMNS of STMT. */
static void
store_outbox_row_read(sqlite3_stmt *stmt, struct store_outbox_row *row)
{
	const char *state = (const char *)sqlite3_column_text(stmt, 8);

	row->id = store_column_strdup(stmt, 0);
	row->alert_id = store_column_strdup(stmt, 1);
	row->watchlist = store_column_strdup(stmt, 2);
	row->notifier = store_column_strdup(stmt, 3);
	row->feed_url = store_column_strdup(stmt, 4);
	row->item_key = store_column_strdup(stmt, 5);
	row->revision = sqlite3_column_int(stmt, 6);
	row->payload = store_column_strdup(stmt, 7);
	if (state == NULL || store_outbox_state_parse(state, &row->state) == -1)
		row->state = STORE_OUTBOX_DEAD;
	row->attempts = sqlite3_column_int(stmt, 9);
	row->next_attempt_at = sqlite3_column_int64(stmt, 10);
	row->created_at = sqlite3_column_int64(stmt, 11);
	row->last_error = store_column_strdup(stmt, 12);
	row->out_of_turn = sqlite3_column_int(stmt, 13);
}

/* Read every row of STMT (stepped to the end, not finalized). */
static int
store_outbox_rows_read(struct store *st, sqlite3_stmt *stmt,
    struct store_outbox_row **rows, size_t *nrows, char **cause)
{
	struct store_outbox_row *v = NULL;
	size_t n = 0, size = 0;
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == size) {
			size = size == 0 ? 8 : 2 * size;
			v = xreallocarray(v, size, sizeof *v);
		}
		memset(&v[n], 0, sizeof v[n]);
		store_outbox_row_read(stmt, &v[n++]);
	}
	if (rc != SQLITE_DONE) {
		store_error(st, cause, "outbox");
		store_outbox_rows_free(v, n);
		return -1;
	}
	*rows = v;
	*nrows = n;
	return 0;
}

int
store_outbox_recover(
    struct store *st, int64_t now, size_t *nrecovered, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_full(st, cause) == -1)
		return -1;
	if (sqlite3_prepare_v2(st->db,
		"UPDATE outbox SET state = 'pending', next_attempt_at = "
		"min(next_attempt_at, ?1) WHERE state = 'inflight'",
		-1, &stmt, NULL) != SQLITE_OK) {
		store_error(st, cause, "outbox recover");
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, now);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		store_error(st, cause, "outbox recover");
		return -1;
	}
	if (nrecovered != NULL)
		*nrecovered = (size_t)sqlite3_changes(st->db);
	return 0;
}

int
store_outbox_claim(struct store *st, const char *notifier, int64_t now,
    size_t limit, struct store_outbox_row **rows, size_t *nrows, char **cause)
{
	struct store_outbox_row *v;
	sqlite3_stmt *stmt;
	size_t i, n;

	*rows = NULL;
	*nrows = 0;
	if (limit == 0)
		return 0;
	if (store_full(st, cause) == -1 || store_begin(st, cause) == -1)
		return -1;
	if ((stmt = store_stmt(st, S_OUTBOX_DUE, cause)) == NULL)
		goto fail;
	store_bind_text(stmt, 1, notifier);
	sqlite3_bind_int64(stmt, 2, now);
	sqlite3_bind_int64(stmt, 3, (int64_t)limit);
	if (store_outbox_rows_read(st, stmt, &v, &n, cause) == -1) {
		sqlite3_reset(stmt);
		goto fail;
	}
	sqlite3_reset(stmt);
	for (i = 0; i < n; i++) {
		if ((stmt = store_stmt(st, S_OUTBOX_INFLIGHT, cause)) == NULL ||
		    (sqlite3_bind_text(stmt, 1, v[i].id, -1, SQLITE_STATIC),
			store_done(st, stmt, cause)) == -1) {
			store_outbox_rows_free(v, n);
			goto fail;
		}
		v[i].state = STORE_OUTBOX_INFLIGHT;
	}
	if (n > 0 && store_commit(st, cause) == -1) {
		store_outbox_rows_free(v, n);
		goto fail;
	}
	if (n == 0)
		store_rollback(st);
	*rows = v;
	*nrows = n;
	return 0;
fail:
	store_rollback(st);
	return -1;
}

int
store_outbox_next_due(
    struct store *st, const char *notifier, int64_t *at, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = store_stmt(st, S_OUTBOX_NEXT, cause)) == NULL)
		return -1;
	store_bind_text(stmt, 1, notifier);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		store_error(st, cause, "outbox next");
		sqlite3_reset(stmt);
		return -1;
	}
	if (sqlite3_column_type(stmt, 0) == SQLITE_NULL) {
		sqlite3_reset(stmt);
		return 1;
	}
	*at = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

int
store_outbox_finish(struct store *st, const char *id,
    enum store_outbox_state state, int64_t next_attempt_at, int64_t hold_until,
    int probe, enum store_outbox_park park, const char *error, char **cause)
{
	sqlite3_stmt *stmt;

	if (store_full(st, cause) == -1 ||
	    (stmt = store_stmt(st, S_OUTBOX_FINISH, cause)) == NULL)
		return -1;
	store_bind_text(stmt, 1, id);
	sqlite3_bind_text(
	    stmt, 2, store_outbox_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, next_attempt_at);
	store_bind_text(stmt, 4, error);
	sqlite3_bind_int64(stmt, 5, hold_until);
	sqlite3_bind_int(stmt, 6, probe != 0);
	sqlite3_bind_int(stmt, 7, (int)park);
	return store_done(st, stmt, cause);
}

int
store_outbox_list(struct store *st, int state, struct store_outbox_row **rows,
    size_t *nrows, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(st->db,
		"SELECT " OUTBOX_COLUMNS " FROM outbox "
		"WHERE ?1 IS NULL OR state = ?1 ORDER BY created_at, rowid",
		-1, &stmt, NULL) != SQLITE_OK) {
		store_error(st, cause, "outbox list");
		return -1;
	}
	if (state >= 0)
		sqlite3_bind_text(stmt, 1,
		    store_outbox_state_name((enum store_outbox_state)state), -1,
		    SQLITE_STATIC);
	rc = store_outbox_rows_read(st, stmt, rows, nrows, cause);
	sqlite3_finalize(stmt);
	return rc;
}

int
store_alerts_since(struct store *st, int64_t since, size_t limit,
    struct store_outbox_row **rows, size_t *nrows, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(st->db,
		"SELECT " OUTBOX_COLUMNS " FROM outbox WHERE rowid IN "
		"(SELECT MIN(rowid) FROM outbox WHERE created_at >= ?1 "
		"GROUP BY alert_id) ORDER BY created_at DESC, rowid DESC "
		"LIMIT ?2",
		-1, &stmt, NULL) != SQLITE_OK) {
		store_error(st, cause, "alerts since");
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, since);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)limit);
	rc = store_outbox_rows_read(st, stmt, rows, nrows, cause);
	sqlite3_finalize(stmt);
	return rc;
}

int
store_feed_item_count(
    struct store *st, const char *url, uint64_t *count, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	*count = 0;
	if (sqlite3_prepare_v2(st->db,
		"SELECT COUNT(*) FROM items JOIN feeds ON feeds.id = "
		"items.feed_id WHERE feeds.url = ?1",
		-1, &stmt, NULL) != SQLITE_OK) {
		store_error(st, cause, "item count");
		return -1;
	}
	store_bind_text(stmt, 1, url);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		*count = (uint64_t)sqlite3_column_int64(stmt, 0);
	else
		store_error(st, cause, "item count");
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Run one UPDATE/DELETE on an outbox id: 0 done, 1 no such row. */
static int
store_outbox_edit(struct store *st, const char *sql, const char *id,
    int64_t now, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_full(st, cause) == -1)
		return -1;
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		store_error(st, cause, "outbox");
		return -1;
	}
	store_bind_text(stmt, 1, id);
	if (sqlite3_bind_parameter_count(stmt) > 1)
		sqlite3_bind_int64(stmt, 2, now);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		store_error(st, cause, "outbox");
		return -1;
	}
	return sqlite3_changes(st->db) > 0 ? 0 : 1;
}

int
store_outbox_retry(struct store *st, const char *id, int64_t now, char **cause)
{
	return store_outbox_edit(st,
	    "UPDATE outbox SET state = 'pending', attempts = 0, "
	    "out_of_turn = 0, hold_until = 0, parked = 0, "
	    "next_attempt_at = ?2, created_at = ?2 "
	    "WHERE id = ?1 AND state IN ('pending', 'dead')",
	    id, now, cause);
}

int
store_outbox_drop(struct store *st, const char *id, char **cause)
{
	return store_outbox_edit(st,
	    "DELETE FROM outbox WHERE id = ?1 AND state != 'inflight'", id, 0,
	    cause);
}

int
store_outbox_stats(struct store *st, int64_t now,
    struct store_outbox_stats *stats, char **cause)
{
	sqlite3_stmt *stmt;
	enum store_outbox_state state;
	const char *name;
	size_t count;
	int rc;

	memset(stats, 0, sizeof *stats);
	if (sqlite3_prepare_v2(st->db,
		"SELECT state, count(*), min(created_at) FROM outbox "
		"GROUP BY state",
		-1, &stmt, NULL) != SQLITE_OK) {
		store_error(st, cause, "outbox stats");
		return -1;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(stmt, 0);
		count = (size_t)sqlite3_column_int64(stmt, 1);
		if (name == NULL ||
		    store_outbox_state_parse(name, &state) == -1)
			continue;
		switch (state) {
		case STORE_OUTBOX_PENDING:
			stats->pending = count;
			stats->oldest_pending_age =
			    now - sqlite3_column_int64(stmt, 2);
			if (stats->oldest_pending_age < 0)
				stats->oldest_pending_age = 0;
			break;
		case STORE_OUTBOX_INFLIGHT:
			stats->inflight = count;
			break;
		case STORE_OUTBOX_DELIVERED:
			stats->delivered = count;
			break;
		case STORE_OUTBOX_DEAD:
			stats->dead = count;
			break;
		}
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		store_error(st, cause, "outbox stats");
		return -1;
	}
	return 0;
}

int
store_self_alerts(
    struct store *st, struct store_self_alert **out, size_t *nout, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	*out = NULL;
	*nout = 0;
	if (sqlite3_prepare_v2(st->db,
		"SELECT subject, raised_at FROM self_alerts ORDER BY subject",
		-1, &stmt, NULL) != SQLITE_OK) {
		store_error(st, cause, "self alerts");
		return -1;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *nout + 1, sizeof **out);
		(*out)[*nout].subject = store_column_strdup(stmt, 0);
		(*out)[*nout].raised_at = sqlite3_column_int64(stmt, 1);
		(*nout)++;
	}
	if (rc != SQLITE_DONE) {
		store_error(st, cause, "self alerts");
		sqlite3_finalize(stmt);
		store_self_alerts_free(*out, *nout);
		*out = NULL;
		*nout = 0;
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

void
store_self_alerts_free(struct store_self_alert *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].subject);
	free(v);
}

int
store_self_alert_set(struct store *st, const char *const *subjects, size_t n,
    int raise, int64_t now, const struct store_alert *alert,
    const char *feed_url, const char *item_key, char **cause)
{
	sqlite3_stmt *stmt = NULL;
	size_t i;
	int rc;

	if (cause != NULL)
		*cause = NULL;
	if (alert != NULL &&
	    (alert->alert_id == NULL || alert->watchlist == NULL ||
		alert->payload == NULL || item_key == NULL)) {
		store_error(NULL, cause, "self alert without id or payload");
		return -1;
	}
	if (store_full(st, cause) == -1 || store_begin(st, cause) == -1)
		return -1;
	if (sqlite3_prepare_v2(st->db,
		raise ? "INSERT OR REPLACE INTO self_alerts (subject, "
			"raised_at) VALUES (?1, ?2)"
		      : "DELETE FROM self_alerts WHERE subject = ?1",
		-1, &stmt, NULL) != SQLITE_OK) {
		store_error(st, cause, "self alerts");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		sqlite3_reset(stmt);
		sqlite3_bind_text(stmt, 1, subjects[i], -1, SQLITE_STATIC);
		if (raise)
			sqlite3_bind_int64(stmt, 2, now);
		if (store_done(st, stmt, cause) == -1)
			goto fail;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (alert != NULL) {
		for (i = 0; i < alert->nnotifiers; i++) {
			rc = store_outbox_add(st, alert->alert_id,
			    alert->watchlist, alert->notifiers[i],
			    feed_url != NULL ? feed_url : "", item_key, 0,
			    alert->payload, now, cause);
			if (rc == -1)
				goto fail;
		}
	}
	/* synchronous=FULL (store_full above): durable on return */
	if (store_commit(st, cause) == 0)
		return 0;
fail:
	sqlite3_finalize(stmt);
	store_rollback(st);
	return -1;
}

int
store_outbox_wake(struct store *st, const char *notifier, int64_t now,
    enum store_outbox_park park, size_t *nwoken, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if (nwoken != NULL)
		*nwoken = 0;
	if (store_full(st, cause) == -1)
		return -1;
	if (sqlite3_prepare_v2(st->db,
		/* a row the daemon put off was not attempted: its next
		 * attempt is in turn */
		"UPDATE outbox SET next_attempt_at = MAX(?2, hold_until), "
		"out_of_turn = out_of_turn + (parked = 0), parked = 0 "
		/* next_attempt_at > MAX(?2, hold_until), written so that
		 * the index bounds the scan: one wake for every OK of a
		 * recovering receiver's backlog */
		"WHERE state = 'pending' AND notifier = ?1 AND "
		"next_attempt_at > ?2 AND next_attempt_at > hold_until "
		"AND (?3 = 0 OR parked = ?3)",
		-1, &stmt, NULL) != SQLITE_OK) {
		store_error(st, cause, "outbox wake");
		return -1;
	}
	sqlite3_bind_text(stmt, 1, notifier, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, now);
	sqlite3_bind_int(stmt, 3, (int)park);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		store_error(st, cause, "outbox wake");
		return -1;
	}
	if (nwoken != NULL)
		*nwoken = (size_t)sqlite3_changes(st->db);
	return 0;
}

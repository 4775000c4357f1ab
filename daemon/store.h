/*
 * The store: the one interface to persistent state. Feeds (validators,
 * schedule, error state), seen items (for exact dedupe and for running
 * watchlists again later) and the outbox (alerts waiting for delivery).
 *
 * The embedded implementation is SQLite (WAL, synchronous=FULL, busy
 * timeout, foreign keys, versioned migrations). Nothing SQLite shows
 * through this header, so another implementation (PostgreSQL) can replace
 * it without touching the pipeline.
 *
 * All times are seconds since the epoch, UTC, as in feeds/item.h. Every
 * string returned is owned by the struct it is in; *_clear() frees them.
 * Errors are -1 with *cause (owned by the caller) when cause is not NULL.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "item.h"

/* Default cap of alertable (new or updated) items per feed per poll;
 * beyond it the rest are folded into one summary alert. */
#define STORE_DEFAULT_MAX_ALERTS 20

struct store;

/* Open (creating if needed, mode 0600) and migrate the store at PATH. */
struct store *store_open(const char *path, char **cause);
void store_close(struct store *);
/* Copy the write-ahead log into the database and truncate it (at
 * shutdown, so the state is one file). */
int store_checkpoint(struct store *, char **cause);
/* PRAGMA integrity_check: 0 when "ok", else -1 with the report. */
int store_check(struct store *, char **cause);
/* Write transactions committed since open (one per ingest, whatever the
 * number of items). */
uint64_t store_commits(const struct store *);
/* Copies of the log into the database the checkpointer thread has
 * attempted (0 when the store has none, or has not needed it yet). */
uint64_t store_background_checkpoints(struct store *);

/* The state of a feed, keyed by the URL of its configuration entry. */
struct store_feed {
	char *url;
	char *name;
	char *etag;
	char *last_modified;
	int64_t next_poll_at;
	int64_t last_poll_at;
	int last_status; /* HTTP status of the last fetch, 0 if none */
	char *last_error;
	int consecutive_failures;
	int64_t last_success_at; /* 0 if never */
	char *gone_reason; /* set when the feed answered 410 Gone */
	int first_poll_done; /* set by store_ingest() */
	int64_t failing_since; /* the first of the current failures, or 0 */
	char *moved_to; /* a permanent redirect's target, polled instead */
	/* The latest permanent redirect's target and how many polls in a
	 * row saw it (moved_to is set once they are enough). */
	char *redirect_seen;
	int redirect_count;
};

/* 0 and *feed filled when known, 1 when the store has no such feed. */
int store_feed_get(
    struct store *, const char *url, struct store_feed *, char **cause);
/* Many reads in one transaction, one lock for all of them rather than
 * one a statement (store_feed_get for every feed at a start): nothing
 * writes between the two calls. Without it (begin failed: -1 and
 * *cause), each read is its own transaction, as usual. */
int store_reads_begin(struct store *, char **cause);
void store_reads_end(struct store *);
/* Insert or update every field but first_poll_done (left to ingest). */
int store_feed_put(struct store *, const struct store_feed *, char **cause);
/* The same for N feeds in ONE transaction (one sync to disk, not N):
 * all are written or, on error, none. */
int store_feeds_put(struct store *, const struct store_feed *const *feeds,
    size_t n, char **cause);
/* Forget a feed and its items (its outbox rows stay). */
int store_feed_delete(struct store *, const char *url, char **cause);
void store_feed_clear(struct store_feed *);

/* A feed store_feeds_present() forgot: back after FORGET_AFTER or more
 * out of the configuration. */
struct store_forgotten {
	char *url;
	int64_t removed_at; /* when it left the configuration */
};
/*
 * Tell the store which feeds the configuration holds (URLS, N): a feed
 * it knows that is not among them is marked out of it since NOW (unless
 * it already is); one among them that was out of it is marked back, or,
 * when it was out for FORGET_AFTER seconds or more and is not among
 * HELD (NHELD: feeds whose state the caller keeps, polled on), forgotten
 * with its items (store_feed_delete), so that it starts again as a new
 * feed, its first poll a baseline. A feed whose state is written
 * (store_feed_put) is marked back too. *OUT (free with
 * store_forgotten_free) lists the feeds forgotten. One transaction.
 */
int store_feeds_present(struct store *, const char *const *urls, size_t n,
    const char *const *held, size_t nheld, int64_t now, int64_t forget_after,
    struct store_forgotten **out, size_t *nout, char **cause);
void store_forgotten_free(struct store_forgotten *, size_t);

/* An alert the matcher wants enqueued; the store copies what it keeps. */
struct store_alert {
	const char *alert_id; /* the payload's id; NULL: the store makes one */
	const char *watchlist;
	const char *const *notifiers;
	size_t nnotifiers;
	const char *payload; /* JSON text */
	int wants_updates; /* the watchlist alerts on updated items too */
};

/* Handed to the matcher; valid only during the call. */
struct store_match;

/*
 * The caller's matcher: called inside the ingest transaction for each
 * new item (is_update 0) and each updated item (is_update 1) that may
 * alert. It calls store_match_add() once per alert and returns 0, or -1
 * to abort the whole ingest (nothing is stored).
 */
typedef int store_match_fn(void *arg, const char *feed_url, const struct item *,
    int is_update, struct store_match *);
int store_match_add(struct store_match *, const struct store_alert *);

struct store_ingest_options {
	int64_t now;
	/* On the first poll of a feed, items are stored as a baseline and
	 * alert nothing; when > 0, items dated within this many seconds of
	 * now are alerted as new instead. */
	int64_t first_poll_max_age;
	/* Alertable items per poll before the summary (0: the default). */
	size_t max_alerts;
};

struct store_ingest_result {
	size_t nnew; /* new items passed to the matcher */
	size_t nupdated; /* updated items passed to the matcher */
	size_t nunchanged;
	size_t nbaseline; /* stored without alerting: first poll */
	size_t nrekeyed; /* new keys for stored links or titles (churn) */
	size_t nduplicate; /* keys repeated within the document */
	size_t nsummarized; /* alertable items beyond the cap */
	size_t nalerts; /* alerts enqueued, the summary included */
	size_t nrows; /* outbox rows inserted */
	/* A first poll's document was cut short: the next poll is a
	 * baseline too (at most a few times). */
	int baseline_open;
};

/*
 * Work out ahead, on any thread, what store_ingest() derives from each
 * item's texts (struct item_digest), so that ingesting the document
 * costs its thread less. Optional; NULL is accepted.
 */
void store_doc_digest(struct feed_doc *);

/*
 * Ingest one successful fetch in ONE transaction: write FEED's state,
 * classify every item of DOC against the stored ones, store new and
 * changed items, call MATCH for those that may alert and insert their
 * outbox rows, then commit. On error nothing is changed.
 */
int store_ingest(struct store *, const struct store_feed *feed,
    const struct feed_doc *doc, const struct store_ingest_options *,
    store_match_fn *match, void *arg, struct store_ingest_result *,
    char **cause);

/*
 * A group commit: the ingests between store_batch_begin() and
 * store_batch_commit() share ONE transaction (one write of the log for
 * many feeds, not one each). Each ingest still applies as a whole or not
 * at all (in a savepoint of its own: one that fails is undone alone and
 * the batch goes on), but none is durable, nor its results final, before
 * store_batch_commit() returns 0; when it fails, every ingest of the
 * batch is undone. Nothing but ingests may run while a batch is open.
 */
int store_batch_begin(struct store *, char **cause);
int store_batch_commit(struct store *, char **cause);
/* Undo every ingest of the open batch. */
void store_batch_abort(struct store *);

/* A stored item, for running watchlists again; store_item_clear() frees. */
struct store_item {
	char *key;
	int64_t first_seen;
	int revision;
	int present; /* in the feed's latest fetch */
	char *title;
	char *link;
	int64_t published;
	int64_t updated;
	char *summary_text;
	char *content_text;
};

void store_item_clear(struct store_item *);

/* Call FN for each stored item of a feed, oldest first; FN returns 0 to
 * go on, anything else to stop. */
int store_items_foreach(struct store *, const char *feed_url,
    int (*fn)(void *, const struct store_item *), void *arg, char **cause);

/* Delete items first seen before now - max_age that are not in their
 * feed's latest fetch, the feeds out of the configuration since before
 * then with all their items (not those of HELD, NHELD URLs a running
 * daemon polls), and delivered or dead outbox rows older than that.
 * *npruned counts the items, *nfeeds the feeds (each may be NULL). In
 * steps of STORE_PRUNE_STEP rows, each its own transaction: what a step
 * deleted stays deleted when a later one fails. */
int store_prune(struct store *, int64_t now, int64_t max_age,
    const char *const *held, size_t nheld, size_t *npruned, size_t *nfeeds,
    char **cause);

/* Rows a step of store_prune_step() looks at (items) or deletes (outbox
 * rows), at most. */
#define STORE_PRUNE_STEP 20000

/*
 * One step of store_prune(), for a caller that must not be held up by a
 * large store (the daemon's event loop), in one transaction: STEP items
 * looked at (those old and out of their feed's latest fetch deleted);
 * or the feeds that go, each with all its items, as many as come to
 * STEP items and at least one (a feed is never left with part of them);
 * or STEP outbox rows deleted. *CURSOR is 0 at the first step of a run
 * and carries the run on from step to step (keep NOW the same). Returns
 * 1 when there is more to do, 0 when the run is over (*CURSOR is then 0
 * again), -1 on error (the step is undone; start a new run with *CURSOR
 * 0). *npruned and *nfeeds count this step's deletions.
 */
int store_prune_step(struct store *, int64_t now, int64_t max_age,
    const char *const *held, size_t nheld, size_t step, int64_t *cursor,
    size_t *npruned, size_t *nfeeds, char **cause);

enum store_outbox_state {
	STORE_OUTBOX_PENDING,
	STORE_OUTBOX_INFLIGHT,
	STORE_OUTBOX_DELIVERED,
	STORE_OUTBOX_DEAD,
};

/* One alert for one notifier. The id (UUIDv4 text) is stable across
 * retries: receivers de-duplicate by it (webhook-id, Message-ID). */
struct store_outbox_row {
	char *id;
	char *alert_id;
	char *watchlist;
	char *notifier;
	char *feed_url;
	char *item_key;
	int revision;
	char *payload;
	enum store_outbox_state state;
	int attempts;
	int64_t next_attempt_at;
	int64_t created_at;
	char *last_error;
	int out_of_turn; /* of the attempts, those out of turn (a probe,
			    a wake): not steps of the schedule */
};

const char *store_outbox_state_name(enum store_outbox_state);
int store_outbox_state_parse(const char *, enum store_outbox_state *);
void store_outbox_row_clear(struct store_outbox_row *);
void store_outbox_rows_free(struct store_outbox_row *, size_t);

/* Rows left in flight by a crash go back to pending, due now. */
int store_outbox_recover(
    struct store *, int64_t now, size_t *nrecovered, char **cause);
/* Mark up to LIMIT pending rows of NOTIFIER due at NOW in flight and
 * return them (*rows owned by the caller, store_outbox_rows_free()). */
int store_outbox_claim(struct store *, const char *notifier, int64_t now,
    size_t limit, struct store_outbox_row **rows, size_t *nrows, char **cause);
/* Why a pending row waits for a reason of the daemon's own, not the
 * receiver's (outbox.parked). Such a wait is not an attempt. */
enum store_outbox_park {
	STORE_PARK_NONE = 0,
	STORE_PARK_MISSING = 1, /* its notifier is not configured */
	STORE_PARK_DISABLED = 2, /* its notifier disabled itself (410) */
};

/* NOTIFIER's pending rows waiting for a later attempt become due at NOW
 * (its receiver is back), or when the receiver asked them to wait until
 * (hold_until), if later; their next attempt is out of turn, unless they
 * were parked (then it is their next in turn), and they are parked no
 * more. PARK other than STORE_PARK_NONE: only the rows parked for that
 * reason (the notifier is configured, or no longer disabled). *nwoken
 * (may be NULL) counts them. */
int store_outbox_wake(struct store *, const char *notifier, int64_t now,
    enum store_outbox_park park, size_t *nwoken, char **cause);
/* The earliest next_attempt_at of NOTIFIER's pending rows: 0 and *at, or
 * 1 when none. */
int store_outbox_next_due(
    struct store *, const char *notifier, int64_t *at, char **cause);
/* The outcome of one attempt on an in-flight row: delivered, pending
 * again at next_attempt_at, or dead. HOLD_UNTIL: the time the receiver
 * asked it to wait until (Retry-After), which a wake keeps; 0 for none.
 * PROBE: the next attempt is a probe (counted in out_of_turn). PARK:
 * why the wait is the daemon's own, if it is: not counted in attempts
 * (nor when the row is then dead, at its give-up time), and noted on a
 * pending row. ERROR may be NULL. */
int store_outbox_finish(struct store *, const char *id, enum store_outbox_state,
    int64_t next_attempt_at, int64_t hold_until, int probe,
    enum store_outbox_park park, const char *error, char **cause);
/* Rows in STATE (all when state is -1), oldest first. */
int store_outbox_list(struct store *, int state, struct store_outbox_row **,
    size_t *, char **cause);
/* A dead or pending row becomes pending, due at NOW, attempts reset;
 * 1 when no such row. */
int store_outbox_retry(
    struct store *, const char *id, int64_t now, char **cause);
/* Delete a row that is not in flight; 1 when no such row. */
int store_outbox_drop(struct store *, const char *id, char **cause);

/* One outbox row per alert (the first of its notifiers) created at or
 * after SINCE, newest first, at most LIMIT; for the admin API. */
int store_alerts_since(struct store *, int64_t since, size_t limit,
    struct store_outbox_row **, size_t *, char **cause);
/* The stored items of a feed (0 for an unknown feed). */
int store_feed_item_count(
    struct store *, const char *url, uint64_t *count, char **cause);

struct store_outbox_stats {
	size_t pending;
	size_t inflight;
	size_t delivered;
	size_t dead;
	int64_t oldest_pending_age; /* seconds, 0 when nothing is pending */
};
int store_outbox_stats(
    struct store *, int64_t now, struct store_outbox_stats *, char **cause);

/*
 * Self-alerts: the daemon's alerts about itself, raised once per subject
 * ("feed:URL", "outbox") and cleared when the subject recovers; the
 * raised set survives restarts, so neither is sent twice nor forgotten.
 */
struct store_self_alert {
	char *subject;
	int64_t raised_at;
};

/* The raised subjects (*out owned by the caller, store_self_alerts_free). */
int store_self_alerts(
    struct store *, struct store_self_alert **out, size_t *nout, char **cause);
void store_self_alerts_free(struct store_self_alert *, size_t);
/*
 * In ONE transaction, durable on return: mark N SUBJECTS raised at NOW
 * (RAISE 1) or recovered (0) and, when ALERT is not NULL, enqueue it for
 * each of its notifiers (alert_id required; its rows carry FEED_URL, may
 * be NULL, and ITEM_KEY, the alert document's item id, required).
 */
int store_self_alert_set(struct store *, const char *const *subjects, size_t n,
    int raise, int64_t now, const struct store_alert *alert,
    const char *feed_url, const char *item_key, char **cause);

#endif

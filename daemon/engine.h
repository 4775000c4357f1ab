/*
 * engine: the pipeline of a running feedwatch, shared by `run` and `once`.
 *
 *   schedule -> fetch (curl multi on the event loop) -> parse (streamed)
 *     -> store (one transaction: new items, matching, outbox rows; the
 *        documents of up to 16 feeds parsed within 20 ms share it)
 *     -> outbox dispatcher -> notifiers
 *
 * The engine owns the store, the matcher, the notifiers, the curl multi,
 * the fetch queue, the schedule and the outbox dispatcher, all on one
 * event_base that the caller made and keeps. Feeds are keyed by their
 * configured URL; their state (validators, schedule, errors) lives in
 * the store so that it survives restarts.
 */
#ifndef ENGINE_H
#define ENGINE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct config;
struct event_base;
struct event;
struct engine;
struct matcher;
struct metrics;
struct store;

struct engine_stats {
	size_t feeds; /* configured */
	size_t failing; /* feeds whose last poll failed */
	size_t gone; /* feeds that answered 410 */
	size_t polls_running; /* fetches queued, in flight or parsing */
	size_t polls_done; /* since start */
	size_t polls_failed; /* since start */
	size_t alerts; /* enqueued since start */
	size_t outbox_pending;
	size_t outbox_dead;
	size_t deliveries_inflight;
};

/*
 * The matcher for a configuration's entities and watchlists (only the
 * watchlist ONLY when not NULL). NULL with *cause ("file:line:col: ...")
 * when a query or an entity is wrong.
 */
struct matcher *engine_matcher(
    const struct config *, const char *only, char **cause);

/*
 * Validate what config_load() cannot: queries and notifier options.
 * 0, or -1 with *cause (one line per problem).
 */
int engine_check(const struct config *, char **cause);

/*
 * An engine for CF (owned by the engine from then on) on BASE. Opens the
 * store, builds the matcher and the notifiers; nothing is polled until
 * engine_start(). NULL with *cause on failure (CF is freed then).
 */
struct engine *engine_new(struct event_base *, struct config *, char **cause);
/* Free everything; transfers and deliveries in flight are abandoned (their
 * outbox rows are retried at the next start). NULL is fine. */
void engine_free(struct engine *);

/* Put every feed on the schedule (run), or poll every feed now and once
 * (once mode). */
void engine_start(struct engine *, int once);

/*
 * Replace the configuration by NEWCF (owned by the engine if this
 * succeeds, untouched otherwise): feeds are merged by URL (unchanged ones
 * keep their schedule and state, removed ones stop, new ones start with
 * the first-poll baseline), the matcher and notifiers are rebuilt, and
 * queued alerts keep going out. -1 with *cause, and the running
 * configuration untouched, when NEWCF does not compile.
 */
int engine_reload(struct engine *, struct config *newcf, char **cause);
/*
 * A reload that did not happen (the configuration did not load or did
 * not compile): CAUSE, its first line kept, for `feedwatch status` and
 * the metrics until a reload succeeds. engine_reload_state() gives it
 * (NULL when the last reload, or the start, succeeded) and when the
 * configuration in force was loaded and the reload failed (Unix time).
 */
void engine_reload_failed(struct engine *, const char *cause);
const char *engine_reload_state(
    const struct engine *, int64_t *loaded_at, int64_t *failed_at);

/* Stop starting polls and deliveries; what is in flight goes on. */
void engine_drain(struct engine *);
/* Make EV active whenever work may just have ended (a once cycle's last
 * poll, a delivery), so that whoever waits for engine_idle() looks at
 * once rather than at its next timer. NULL: none. */
void engine_set_settle_event(struct engine *, struct event *ev);
/* Nothing in flight: no fetch queued or running, no delivery running.
 * In once mode, also no polls left and no outbox row due now. */
int engine_idle(struct engine *);
/* Work is running that should make progress: fetches, or deliveries at
 * a receiver (not alerts a notifier holds for a digest). */
int engine_working(struct engine *);
/* Seconds since a fetch (its body's bytes arriving too), parse, ingest or
 * delivery last made progress, or since work in flight began when
 * nothing was before it (monotonic: a wall clock set forward is no
 * stall). */
int64_t engine_without_progress(const struct engine *);
void engine_stats(struct engine *, struct engine_stats *);
/* Flush the store's write-ahead log into the database (shutdown). */
void engine_checkpoint(struct engine *);
const struct config *engine_config(const struct engine *);

/* The engine's metrics (owned by it), and their exposition text with the
 * gauges (feeds, outbox) brought up to date; -1 when B's cap is hit. */
struct metrics *engine_metrics(struct engine *);
int engine_metrics_render(struct engine *, struct buf *);
/* The store (owned by the engine), for read-only views. */
struct store *engine_store(struct engine *);

/* A feed as the admin API shows it; strings point into the engine and
 * stay valid until the next reload. Times in seconds, 0 for none. */
struct engine_feed_info {
	const char *name;
	const char *url;
	const char *moved_to; /* polled there instead (a 301/308), or NULL */
	const char *state; /* ok, failing, gone, new */
	int64_t last_poll_at;
	int64_t last_success_at;
	int64_t next_poll_at; /* 0: not scheduled (gone, once, polling) */
	int consecutive_failures;
	long last_status;
	const char *last_error; /* NULL after a success */
	int polling; /* a fetch is queued or running, or its parse */
};
size_t engine_nfeeds(const struct engine *);
/* Feed I in configuration order: 0, or -1 past the end. */
int engine_feed_info(struct engine *, size_t i, struct engine_feed_info *);

#endif

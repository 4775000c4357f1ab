/*
 * schedule: when each feed is polled next. One libevent timer over a binary
 * heap of feeds ordered by next_poll_at; when it fires, every feed that is
 * due leaves the heap and goes to the due callback, and comes back with
 * schedule_done() once its poll has ended, success or failure.
 *
 * The rules (times in milliseconds since the epoch, wall clock, so that
 * saved state means the same after a restart):
 *  - success (200 or 304): the next poll is the feed's interval, or longer
 *    when the feed or server says nothing changes sooner (RSS ttl,
 *    sy:updatePeriod/updateFrequency, Cache-Control max-age, Expires),
 *    that hint being clamped to [min_interval, max_hint]; then +-jitter.
 *  - failure: exponential backoff from the interval, doubling with each
 *    consecutive failure up to max_backoff (default 24 h), minus up to
 *    jitter; never given up. On 429 and 503 a Retry-After longer than that
 *    wins (up to SCHEDULE_MAX_RETRY_AFTER).
 *  - 410 Gone: the feed leaves the schedule for good, with a reason.
 *
 * Only schedule_new/schedule_free and the timer touch libevent; the rest is
 * pure logic that tests drive with their own clock and random seed.
 */
#ifndef SCHEDULE_H
#define SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct schedule;

#define SCHEDULE_DEFAULT_MIN_INTERVAL_MS (10 * 1000)
/* A feed never polled before is polled within this long of being added,
 * at a random point, so that a start does not poll everything at once. */
#define SCHEDULE_FIRST_POLL_SPREAD_MS (10 * 1000)
#define SCHEDULE_DEFAULT_MAX_HINT_MS (6 * 3600 * 1000)
#define SCHEDULE_DEFAULT_MAX_BACKOFF_MS (24 * 3600 * 1000)
#define SCHEDULE_DEFAULT_JITTER_PERCENT 10
/* A server may not push a feed further than this with Retry-After. */
#define SCHEDULE_MAX_RETRY_AFTER_MS ((int64_t)7 * 24 * 3600 * 1000)
#define SCHEDULE_ERROR_MAX 256

struct schedule_limits {
	int64_t min_interval_ms; /* floor of every interval and hint */
	int64_t max_hint_ms; /* ceiling of what feeds and servers ask */
	int64_t max_backoff_ms;
	int jitter_percent; /* +-, of the delay */
};

/* A feed's scheduling state: plain data the store saves and restores. */
struct schedule_state {
	int64_t next_poll_at; /* 0: as soon as added */
	int64_t last_poll_at;
	int64_t last_success_at;
	int consecutive_failures;
	long last_status;
	char last_error[SCHEDULE_ERROR_MAX]; /* "" after a success */
	int gone; /* 410: not polled any more */
};

/* What the daemon embeds in its feed record. */
struct schedule_feed {
	struct schedule_state state;
	int64_t interval_ms; /* the feed's own, or the default */
	void *owner; /* for the due callback */
	size_t heap_index; /* private to schedule */
	int queued; /* in the heap (private) */
};

/* How a poll ended, gathered by the daemon from fetch and parse. */
struct schedule_outcome {
	int ok; /* fetched (200 or 304) and parsed */
	long status; /* HTTP status, 0 if none */
	const char *error; /* when !ok: recorded (truncated) */
	/* Hints, -1 when absent. */
	int64_t retry_after_ms;
	int64_t max_age_ms;
	int64_t expires_in_ms;
	int64_t ttl_ms; /* RSS <ttl> */
	int64_t update_period_ms; /* sy:updatePeriod / sy:updateFrequency */
};

typedef void (*schedule_due_cb)(struct schedule_feed *, void *arg);

/* limits may be NULL (defaults); seed drives the jitter. */
struct schedule *schedule_new(struct event_base *,
    const struct schedule_limits *, uint64_t seed, schedule_due_cb, void *arg);
/* Leaves the feeds alone (they belong to the caller). NULL is fine. */
void schedule_free(struct schedule *);

/* Put f on the schedule at f->state.next_poll_at (0: now plus a random
 * part of one interval, so a cold start does not poll in lockstep). A
 * gone feed is not added. now is wall-clock ms. */
void schedule_add(struct schedule *, struct schedule_feed *, int64_t now);
void schedule_remove(struct schedule *, struct schedule_feed *);
/* A poll of f ended: record it and schedule the next one. Returns the
 * delay chosen (ms), or -1 when the feed is gone. */
int64_t schedule_done(struct schedule *, struct schedule_feed *,
    const struct schedule_outcome *, int64_t now);
/* Take every feed due at now off the heap and hand it to the due
 * callback (the timer does this; tests call it directly). */
size_t schedule_run_due(struct schedule *, int64_t now);
size_t schedule_size(const struct schedule *);
/* The earliest next_poll_at, or -1 when empty. */
int64_t schedule_next_at(const struct schedule *);

/* sy:updatePeriod ("hourly", "daily", "weekly", "monthly", "yearly") and
 * sy:updateFrequency (NULL = 1) as one period in ms, or -1 if invalid.
 * RSS 1.0 Syndication module. */
int64_t schedule_update_period_ms(const char *period, const char *frequency);
/* The empty outcome: every hint -1. */
void schedule_outcome_init(struct schedule_outcome *);

#endif

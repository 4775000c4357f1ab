/*
 * sched: when each feed is polled next. One libevent timer over a binary
 * heap of feeds ordered by next_poll_at; when it fires, every feed that is
 * due leaves the heap and goes to the due callback, and comes back with
 * sched_done() once its poll has ended, success or failure.
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
 *    wins (up to SCHED_MAX_RETRY_AFTER).
 *  - 410 Gone: the feed leaves the schedule for good, with a reason.
 *
 * Only sched_new/sched_free and the timer touch libevent; the rest is
 * pure logic that tests drive with their own clock and random seed.
 */
#ifndef SCHED_H
#define SCHED_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct sched;

#define SCHED_DEFAULT_MIN_INTERVAL_MS (60 * 1000)
#define SCHED_DEFAULT_MAX_HINT_MS (6 * 3600 * 1000)
#define SCHED_DEFAULT_MAX_BACKOFF_MS (24 * 3600 * 1000)
#define SCHED_DEFAULT_JITTER_PERCENT 10
/* A server may not push a feed further than this with Retry-After. */
#define SCHED_MAX_RETRY_AFTER_MS ((int64_t)7 * 24 * 3600 * 1000)
#define SCHED_ERROR_MAX 256

struct sched_limits {
	int64_t min_interval_ms; /* floor of every interval and hint */
	int64_t max_hint_ms; /* ceiling of what feeds and servers ask */
	int64_t max_backoff_ms;
	int jitter_percent; /* +-, of the delay */
};

/* A feed's scheduling state: plain data the store saves and restores. */
struct sched_state {
	int64_t next_poll_at; /* 0: as soon as added */
	int64_t last_poll_at;
	int64_t last_success_at;
	int consecutive_failures;
	long last_status;
	char last_error[SCHED_ERROR_MAX]; /* "" after a success */
	int gone; /* 410: not polled any more */
};

/* What the daemon embeds in its feed record. */
struct sched_feed {
	struct sched_state state;
	int64_t interval_ms; /* the feed's own, or the default */
	void *owner; /* for the due callback */
	size_t heap_index; /* private to sched */
	int queued; /* in the heap (private) */
};

/* How a poll ended, gathered by the daemon from fetch and parse. */
struct sched_outcome {
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

typedef void (*sched_due_cb)(struct sched_feed *, void *arg);

/* limits may be NULL (defaults); seed drives the jitter. */
struct sched *sched_new(struct event_base *, const struct sched_limits *,
    uint64_t seed, sched_due_cb, void *arg);
/* Leaves the feeds alone (they belong to the caller). NULL is fine. */
void sched_free(struct sched *);

/* Put f on the schedule at f->state.next_poll_at (0: now plus a random
 * part of one interval, so a cold start does not poll in lockstep). A
 * gone feed is not added. now is wall-clock ms. */
void sched_add(struct sched *, struct sched_feed *, int64_t now);
void sched_remove(struct sched *, struct sched_feed *);
/* A poll of f ended: record it and schedule the next one. Returns the
 * delay chosen (ms), or -1 when the feed is gone. */
int64_t sched_done(struct sched *, struct sched_feed *,
    const struct sched_outcome *, int64_t now);
/* Take every feed due at now off the heap and hand it to the due
 * callback (the timer does this; tests call it directly). */
size_t sched_run_due(struct sched *, int64_t now);
size_t sched_size(const struct sched *);
/* The earliest next_poll_at, or -1 when empty. */
int64_t sched_next_at(const struct sched *);

/* sy:updatePeriod ("hourly", "daily", "weekly", "monthly", "yearly") and
 * sy:updateFrequency (NULL = 1) as one period in ms, or -1 if invalid.
 * RSS 1.0 Syndication module. */
int64_t sched_update_period_ms(const char *period, const char *frequency);
/* The empty outcome: every hint -1. */
void sched_outcome_init(struct sched_outcome *);

#endif

/*
 * The outbox dispatcher: on the process's event_base, one timer takes
 * due outbox rows from the store, hands each to its notifier, and
 * records the answer. OK: delivered. PERMFAIL: dead at once. TEMPFAIL:
 * pending again after an exponential backoff with jitter (5s, 5m, 30m,
 * 2h, 5h, 10h, 14h, 20h, then every 24h, each +-20%), or after the
 * notifier's retry_after when it gives one, until the row is older than
 * give_up_after (default 72h): then dead. One alert of a notifier at a
 * time is retried 30 s after its second failure (the probe). When a
 * notifier delivers again after an outage (failed attempts spread over
 * seconds, or an alert that had failed twice), its rows waiting for a
 * retry become due at once instead of at the end of their backoff (the
 * wake), but not before a retry_after the receiver gave them. Neither a
 * probe nor a woken attempt is a step of the schedule.
 *
 * Delivery is at least once: a row is marked delivered after the
 * notifier's OK, so a crash in between sends it again, with the same id.
 */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct event_base;

#define OUTBOX_DEFAULT_MAX_INFLIGHT 4
#define OUTBOX_DEFAULT_GIVE_UP_AFTER (72 * 3600)

enum outbox_result {
	OUTBOX_OK,
	OUTBOX_TEMPFAIL,
	OUTBOX_PERMFAIL,
};

struct outbox;
/* One attempt at one row, from deliver() until outbox_delivery_done(). */
struct outbox_delivery;

struct outbox_notifier {
	const char *name; /* copied */
	/* Start delivering; call outbox_delivery_done() exactly once, from
	 * inside this call or later from the event loop. */
	void (*deliver)(void *arg, struct outbox_delivery *);
	void *arg;
	size_t max_inflight; /* 0: OUTBOX_DEFAULT_MAX_INFLIGHT */
};

struct outbox_options {
	/* The clock, in seconds since the epoch; NULL: the event_base's
	 * cached time. */
	int64_t (*now)(void *);
	void *now_arg;
	int64_t give_up_after; /* seconds; 0: the default */
	uint64_t seed; /* of the jitter; 0: random */
};

/* Create the dispatcher and put rows a crash left in flight back to
 * pending. BASE and STORE are borrowed and must outlive it. */
struct outbox *outbox_new(struct event_base *, struct store *,
    const struct outbox_options *, char **cause);
/* Deliveries still running are abandoned: their rows stay in flight
 * and are retried by the next start. */
void outbox_free(struct outbox *);
/* Add a notifier, also while deliveries run (a reload): -1 when one of
 * that name is there already. */
int outbox_add_notifier(struct outbox *, const struct outbox_notifier *);
/* Look for due rows at the next loop turn (after an ingest). */
void outbox_kick(struct outbox *);
/* The reason WHY the alerts of notifier NAME were put off is gone (the
 * start or a reload configured it; a reload replaced it after it had
 * disabled itself): those alerts (outbox_delivery_wait() with WHY) are
 * due now. Being put off was no attempt: not a step of the schedule. */
void outbox_wake(struct outbox *, const char *name, enum store_outbox_park why);
/* Deliveries running now. */
size_t outbox_inflight(const struct outbox *);

const struct store_outbox_row *outbox_delivery_row(
    const struct outbox_delivery *);
/* The notifier's answer; RETRY_AFTER (seconds, 0 for none) only for
 * TEMPFAIL; ERROR may be NULL. Frees the delivery. */
void outbox_delivery_done(struct outbox_delivery *, enum outbox_result,
    int64_t retry_after, const char *error);
/* A TEMPFAIL that waits SECONDS (at most 24 h) for a reason of the
 * daemon's own, WHY (its notifier disabled or no longer configured),
 * not the receiver's: not counted as an attempt; outbox_wake() with WHY,
 * or a wake of the receiver (see above), may end it. */
void outbox_delivery_wait(struct outbox_delivery *, int64_t seconds,
    enum store_outbox_park why, const char *error);

/* The nominal delay before attempt ATTEMPTS + 1, without jitter. */
int64_t outbox_backoff(int attempts);

#endif

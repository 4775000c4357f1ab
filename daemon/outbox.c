/*
 * The outbox dispatcher: one timer over the store's time-sorted queue.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "config.h"
#include "log.h"
#include "outbox.h"
#include "xmalloc.h"

/* The longest retry_after a notifier may ask for, in seconds. */
#define OUTBOX_MAX_RETRY_AFTER (24 * 3600)
/* Jitter, in percent either side of the nominal delay. */
#define OUTBOX_JITTER_PERCENT 20
/* Seconds before trying again when the store fails. */
#define OUTBOX_STORE_RETRY 5
/* What makes failures an outage of the receiver rather than alerts it
 * refuses: at least this many failed attempts since its last OK, spread
 * over at least this many seconds. Alerts refused together (one batch,
 * woken together) fail within the same second and wake nothing. */
#define OUTBOX_WAKE_AFTER_FAILURES 2
#define OUTBOX_WAKE_MIN_SPAN 2
/*
 * The probe: an alert's second failure is followed by a retry after
 * OUTBOX_PROBE_EVERY seconds, for one alert of a receiver at a time (if
 * it fails, its 5 minutes follow: a probe is out of turn, not a step of
 * the schedule); when it goes through, the receiver is back and the
 * others waiting for a retry are due at once. Without it, alerts that
 * failed twice waited their 5 minutes whenever nothing else went to the
 * receiver after it came back (the end of a burst), or when a restart had
 * lost the count of its failures.
 */
#define OUTBOX_PROBE_EVERY 30
/* While a notifier keeps failing, or fails on and off, the log says so
 * at most this often (in seconds); its recovery is said once. */
#define OUTBOX_WARN_EVERY 3600
/* Dead alerts of a notifier listed one by one in the log each minute;
 * the others are counted (an outage that outlived give_up_after ends for
 * a burst of alerts in the same second). */
#define OUTBOX_DEAD_LINES 10
/* A failure this long (seconds) after a recovery the log said is a new
 * outage, said at once; sooner, the receiver flaps (said hourly). */
#define OUTBOX_FLAP_SPAN 300

struct outbox_target;
static void outbox_dead_flush(struct outbox_target *, int64_t, int);

/* Delays after the first, second, ... failed attempt, in seconds; the
 * last repeats. After the Standard Webhooks schedule. */
static const int64_t outbox_schedule[] = {5, 5 * 60, 30 * 60, 2 * 3600,
    5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600};
#define OUTBOX_NSCHEDULE (sizeof outbox_schedule / sizeof outbox_schedule[0])

struct outbox_target {
	char *name;
	void (*deliver)(void *, struct outbox_delivery *);
	void *arg;
	size_t max_inflight;
	size_t inflight;
	/* Failed attempts since its last OK and when the first and the
	 * latest of them were: at its first OK after an outage, rows
	 * waiting for a retry are due at once. */
	int failures;
	int64_t first_failure_at;
	int64_t last_failure_at;
	int64_t probe_at; /* the probing alert is due then (0: none) */
	/* What the log said: the last failure it reported (0: none), whether
	 * that was after the last OK, whether a recovery was said since. */
	int64_t warned_at;
	int failing_said;
	int back_said;
	int64_t back_at; /* when that recovery was said */
	/* Dead alerts in the log this minute: since when, listed, counted. */
	int64_t dead_since;
	int dead_listed;
	size_t dead_counted;
};

struct outbox_delivery {
	struct outbox *ob; /* NULL once the outbox is freed */
	struct outbox_target *target;
	struct store_outbox_row row;
	struct outbox_delivery *next;
	struct outbox_delivery *prev;
};

struct outbox {
	struct event_base *base;
	struct store *store;
	struct event *timer;
	int64_t (*now)(void *);
	void *now_arg;
	int64_t give_up_after;
	uint64_t rng;
	struct outbox_target **targets; /* each its own: deliveries point
					   at them, and more may come */
	size_t ntargets;
	struct outbox_delivery *deliveries; /* in flight */
	size_t ninflight;
	int running;
};

static void outbox_schedule_next(struct outbox *);

static int64_t
outbox_base_now(void *arg)
{
	struct event_base *base = arg;
	struct timeval tv;

	if (event_base_gettimeofday_cached(base, &tv) == -1)
		gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec;
}

static int64_t
outbox_now(struct outbox *ob)
{
	return ob->now(ob->now_arg);
}

/* splitmix64: enough for jitter, and repeatable from a seed in tests. */
static uint64_t
outbox_random(struct outbox *ob)
{
	uint64_t z = (ob->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int64_t
outbox_backoff(int attempts)
{
	if (attempts < 1)
		attempts = 1;
	if ((size_t)attempts > OUTBOX_NSCHEDULE)
		attempts = (int)OUTBOX_NSCHEDULE;
	return outbox_schedule[attempts - 1];
}

/* The nominal delay +- OUTBOX_JITTER_PERCENT, at least one second. */
static int64_t
outbox_jitter(struct outbox *ob, int64_t delay)
{
	int64_t span = delay * OUTBOX_JITTER_PERCENT / 100, out;

	out = delay - span +
	    (int64_t)(outbox_random(ob) % (uint64_t)(2 * span + 1));
	return out < 1 ? 1 : out;
}

static void
outbox_timer_cb(int fd, short events, void *arg)
{
	struct outbox *ob = arg;
	struct outbox_target *t;
	struct outbox_delivery *d, **batch;
	struct store_outbox_row *rows;
	size_t i, j, nrows;
	int64_t now;
	char *cause;

	ob->running = 1;
	for (i = 0; i < ob->ntargets; i++) {
		t = ob->targets[i];
		now = outbox_now(ob);
		outbox_dead_flush(t, now, 0);
		if (t->inflight >= t->max_inflight)
			continue;
		if (store_outbox_claim(ob->store, t->name, now,
			t->max_inflight - t->inflight, &rows, &nrows,
			&cause) == -1) {
			log_warnx("outbox: %s: %s", t->name, cause);
			free(cause);
			continue;
		}
		batch = xreallocarray(NULL, nrows + 1, sizeof *batch);
		for (j = 0; j < nrows; j++) {
			d = xcalloc(1, sizeof *d);
			d->ob = ob;
			d->target = t;
			d->row = rows[j]; /* the strings move */
			d->next = ob->deliveries;
			if (d->next != NULL)
				d->next->prev = d;
			ob->deliveries = d;
			t->inflight++;
			ob->ninflight++;
			batch[j] = d;
		}
		free(rows);
		/* A delivery may finish inside deliver(): only itself goes. */
		for (j = 0; j < nrows; j++)
			t->deliver(t->arg, batch[j]);
		free(batch);
	}
	ob->running = 0;
	outbox_schedule_next(ob);
}

/* Arm the timer for the earliest due row of a notifier with room. */
static void
outbox_schedule_next(struct outbox *ob)
{
	struct outbox_target *t;
	struct timeval tv = {0, 0};
	int64_t at, best = INT64_MAX, now;
	size_t i;
	int rc;
	char *cause;

	if (ob->running)
		return;
	for (i = 0; i < ob->ntargets; i++) {
		t = ob->targets[i];
		/* the count of dead alerts is due in the log at its minute */
		if (t->dead_counted > 0 && t->dead_since + 60 < best)
			best = t->dead_since + 60;
		if (t->inflight >= t->max_inflight)
			continue;
		rc = store_outbox_next_due(ob->store, t->name, &at, &cause);
		if (rc == -1) {
			log_warnx("outbox: %s: %s", t->name, cause);
			free(cause);
			at = outbox_now(ob) + OUTBOX_STORE_RETRY;
		} else if (rc == 1)
			continue;
		if (at < best)
			best = at;
	}
	evtimer_del(ob->timer);
	if (best == INT64_MAX)
		return;
	now = outbox_now(ob);
	if (best > now)
		tv.tv_sec = (time_t)(best - now);
	evtimer_add(ob->timer, &tv);
}

struct outbox *
outbox_new(struct event_base *base, struct store *store,
    const struct outbox_options *opts, char **cause)
{
	struct outbox *ob;
	size_t nrecovered;

	ob = xcalloc(1, sizeof *ob);
	ob->base = base;
	ob->store = store;
	ob->now = outbox_base_now;
	ob->now_arg = base;
	ob->give_up_after = OUTBOX_DEFAULT_GIVE_UP_AFTER;
	if (opts != NULL) {
		if (opts->now != NULL) {
			ob->now = opts->now;
			ob->now_arg = opts->now_arg;
		}
		if (opts->give_up_after > 0)
			ob->give_up_after = opts->give_up_after;
		ob->rng = opts->seed;
	}
	if (ob->rng == 0 &&
	    RAND_bytes((unsigned char *)&ob->rng, sizeof ob->rng) != 1)
		fatalx("RAND_bytes failed");
	if ((ob->timer = evtimer_new(base, outbox_timer_cb, ob)) == NULL)
		fatalx("evtimer_new failed");
	if (store_outbox_recover(store, outbox_now(ob), &nrecovered, cause) ==
	    -1) {
		outbox_free(ob);
		return NULL;
	}
	if (nrecovered > 0)
		log_notice("outbox: %zu alerts left in flight will be sent "
			   "again",
		    nrecovered);
	return ob;
}

void
outbox_free(struct outbox *ob)
{
	struct outbox_delivery *d;
	size_t i;

	if (ob == NULL)
		return;
	for (d = ob->deliveries; d != NULL; d = d->next)
		d->ob = NULL;
	if (ob->timer != NULL)
		event_free(ob->timer);
	for (i = 0; i < ob->ntargets; i++) {
		outbox_dead_flush(ob->targets[i], 0, 1);
		free(ob->targets[i]->name);
		free(ob->targets[i]);
	}
	free(ob->targets);
	free(ob);
}

int
outbox_add_notifier(struct outbox *ob, const struct outbox_notifier *n)
{
	struct outbox_target *t;
	size_t i;

	for (i = 0; i < ob->ntargets; i++)
		if (strcmp(ob->targets[i]->name, n->name) == 0)
			return -1;
	/* Deliveries in flight point at their targets, which stay put:
	 * only the array of pointers moves. */
	ob->targets =
	    xreallocarray(ob->targets, ob->ntargets + 1, sizeof *ob->targets);
	t = ob->targets[ob->ntargets++] = xcalloc(1, sizeof *t);
	t->name = xstrdup(n->name);
	t->deliver = n->deliver;
	t->arg = n->arg;
	t->max_inflight =
	    n->max_inflight > 0 ? n->max_inflight : OUTBOX_DEFAULT_MAX_INFLIGHT;
	return 0;
}

void
outbox_kick(struct outbox *ob)
{
	struct timeval tv = {0, 0};

	evtimer_add(ob->timer, &tv);
}

size_t
outbox_inflight(const struct outbox *ob)
{
	return ob->ninflight;
}

const struct store_outbox_row *
outbox_delivery_row(const struct outbox_delivery *d)
{
	return &d->row;
}

/*
 * The delay before the next attempt of an alert (to target t) that failed
 * now for the attempts-th time, out_of_turn of them out of turn (a probe,
 * a wake): its backoff, at the step of its attempts in turn (a failed
 * probe is followed by the 5 minutes it stood in for), or the probe's
 * (see above): *probe then says so.
 */
static int64_t
outbox_retry_delay(struct outbox *ob, struct outbox_target *t, int attempts,
    int out_of_turn, int64_t now, int *probe)
{
	*probe = 0;
	if (attempts == 2 && out_of_turn == 0 && t->probe_at <= now) {
		t->probe_at = now + OUTBOX_PROBE_EVERY;
		*probe = 1;
		return OUTBOX_PROBE_EVERY;
	}
	return outbox_jitter(ob, outbox_backoff(attempts - out_of_turn));
}

/* The dead alerts of T counted, not listed, in the log once their minute
 * is over (or now, when FORCE: the outbox is going away). */
static void
outbox_dead_flush(struct outbox_target *t, int64_t now, int force)
{
	if (t->dead_counted == 0 ||
	    (!force && now - t->dead_since < 60 && now >= t->dead_since))
		return;
	log_warnx("outbox: %zu more alerts to %s died within a minute "
		  "('feedwatch outbox list --state dead' lists them)",
	    t->dead_counted, t->name);
	t->dead_counted = 0;
}

/* A lost alert, in the log: one by one, up to OUTBOX_DEAD_LINES a
 * minute for each notifier, then counted (outbox_dead_flush). */
static void
outbox_say_dead(struct outbox_target *t, const struct store_outbox_row *row,
    int64_t now, const char *error)
{
	char esc[512];

	if (now - t->dead_since >= 60 || now < t->dead_since) {
		outbox_dead_flush(t, now, 1);
		t->dead_since = now;
		t->dead_listed = 0;
	}
	if (t->dead_listed++ < OUTBOX_DEAD_LINES)
		log_warnx("outbox: alert %s (watchlist %s) to %s is dead: %s; "
			  "'feedwatch outbox retry %s' sends it again",
		    row->id, row->watchlist, t->name,
		    log_escapes_text(
			esc, sizeof esc, error != NULL ? error : "failed"),
		    row->id);
	else
		t->dead_counted++;
}

/* Record the outcome of one attempt (to target t) in the store. */
static void
outbox_record(struct outbox *ob, struct outbox_target *t,
    struct store_outbox_row *row, enum outbox_result result,
    int64_t retry_after, enum store_outbox_park park, const char *error)
{
	enum store_outbox_state state;
	int64_t now = outbox_now(ob), deadline, next = now, delay, hold = 0;
	int attempts = row->attempts + 1, probe = 0;
	char *cause, *msg = NULL;

	switch (result) {
	case OUTBOX_OK:
		state = STORE_OUTBOX_DELIVERED;
		error = NULL;
		break;
	case OUTBOX_PERMFAIL:
		state = STORE_OUTBOX_DEAD;
		break;
	case OUTBOX_TEMPFAIL:
	default:
		state = STORE_OUTBOX_PENDING;
		deadline = row->created_at + ob->give_up_after;
		if (now >= deadline) {
			state = STORE_OUTBOX_DEAD;
			if (park != STORE_PARK_NONE)
				attempts--; /* a put-off is no attempt */
			if (attempts == 0)
				xasprintf(&msg, "gave up, never sent: %s",
				    error != NULL ? error : "failed");
			else
				xasprintf(&msg, "gave up after %d attempts: %s",
				    attempts, error != NULL ? error : "failed");
			error = msg;
			break;
		}
		if (retry_after > 0)
			delay = retry_after < OUTBOX_MAX_RETRY_AFTER
			    ? retry_after
			    : OUTBOX_MAX_RETRY_AFTER;
		else
			delay = outbox_retry_delay(
			    ob, t, attempts, row->out_of_turn, now, &probe);
		next = now + delay;
		/* One last attempt at the deadline. */
		if (next > deadline)
			next = deadline;
		if (retry_after > 0 && park == STORE_PARK_NONE)
			hold = next; /* the receiver's, not the daemon's */
		break;
	}
	if (store_outbox_finish(ob->store, row->id, state, next, hold, probe,
		park, error, &cause) == -1) {
		/* The row stays in flight until the next start. */
		log_warnx("outbox: %s: %s", row->id, cause);
		free(cause);
	} else if (state == STORE_OUTBOX_DEAD)
		outbox_say_dead(t, row, now, error);
	free(msg);
}

/* Make the notifier's rows waiting for a retry (with PARK, those the
 * daemon put off for that reason) due now, not before a hold the
 * receiver asked for; WHY and WHAT say it in the log. */
static void
outbox_wake_rows(struct outbox *ob, const char *notifier,
    enum store_outbox_park park, const char *why, const char *what)
{
	size_t n;
	char *cause;

	if (store_outbox_wake(
		ob->store, notifier, outbox_now(ob), park, &n, &cause) == -1) {
		log_warnx("outbox: %s: %s", notifier, cause);
		free(cause);
	} else if (n > 0)
		log_notice("outbox: notifier %s %s: %zu alerts %s are due now",
		    notifier, why, n, what);
}

void
outbox_wake(struct outbox *ob, const char *notifier, enum store_outbox_park why)
{
	if (why == STORE_PARK_NONE)
		fatalx("%s: no reason", __func__);
	if (why == STORE_PARK_MISSING)
		outbox_wake_rows(ob, notifier, why, "is configured",
		    "put off while it was not configured");
	else
		outbox_wake_rows(ob, notifier, why, "is enabled",
		    "put off while it was disabled");
	outbox_kick(ob);
}

/*
 * The receiver is back: the alerts it failed while it was down would
 * otherwise wait for their backoff (up to hours after a long outage).
 * failed is how many attempts of the alert just tried had failed before:
 * one that failed twice and now goes through (the probe, or any other)
 * says the receiver is back, whatever the counts since the start.
 */
static void
outbox_health(struct outbox *ob, struct outbox_target *t,
    enum outbox_result result, int failed, const char *error)
{
	int64_t now = outbox_now(ob);
	char esc[512], span[32];
	int outage;

	if (result == OUTBOX_TEMPFAIL) {
		if (t->failures++ == 0)
			t->first_failure_at = now;
		t->last_failure_at = now;
		/* at most hourly, unless the clock went back, or the log said
		 * it recovered a while ago (a new outage, not a flap) */
		if (t->warned_at != 0 &&
		    now - t->warned_at < OUTBOX_WARN_EVERY &&
		    now >= t->warned_at &&
		    !(t->back_said && now - t->back_at >= OUTBOX_FLAP_SPAN))
			return;
		log_escapes_text(
		    esc, sizeof esc, error != NULL ? error : "failed");
		if (!t->failing_said)
			log_warnx(
			    "notifier %s: delivery failed: %s; its alerts "
			    "wait in the outbox and are retried",
			    t->name, esc);
		else
			log_warnx("notifier %s: still failing, %d failed "
				  "attempts in %s: %s",
			    t->name, t->failures,
			    config_format_duration(span, sizeof span,
				(now - t->first_failure_at) * 1000),
			    esc);
		t->warned_at = now;
		t->failing_said = 1;
		t->back_said = 0;
		return;
	}
	if (result != OUTBOX_OK)
		return;
	if (t->failing_said)
		log_notice("notifier %s: delivers again, after %d failed "
			   "attempt%s in %s",
		    t->name, t->failures, t->failures == 1 ? "" : "s",
		    config_format_duration(
			span, sizeof span, (now - t->first_failure_at) * 1000));
	else if (failed > 0 && !t->back_said) /* failed before a restart */
		log_notice("notifier %s: delivers again: an alert that had "
			   "failed %d time%s went through",
		    t->name, failed, failed == 1 ? "" : "s");
	if (t->failing_said || failed > 0) {
		if (!t->back_said)
			t->back_at = now;
		t->back_said = 1;
	}
	t->failing_said = 0;
	t->probe_at = 0;
	outage = (t->failures >= OUTBOX_WAKE_AFTER_FAILURES &&
		     t->last_failure_at - t->first_failure_at >=
			 OUTBOX_WAKE_MIN_SPAN) ||
	    failed >= 2;
	t->failures = 0;
	if (outage)
		outbox_wake_rows(ob, t->name, STORE_PARK_NONE, "delivers again",
		    "waiting for a retry");
}

static void
outbox_finish(struct outbox_delivery *d, enum outbox_result result,
    int64_t retry_after, enum store_outbox_park park, const char *error)
{
	struct outbox *ob = d->ob;

	if (ob != NULL) {
		outbox_record(
		    ob, d->target, &d->row, result, retry_after, park, error);
		/* being put off says nothing of the receiver */
		if (park == STORE_PARK_NONE)
			outbox_health(
			    ob, d->target, result, d->row.attempts, error);
		if (d->prev != NULL)
			d->prev->next = d->next;
		else
			ob->deliveries = d->next;
		if (d->next != NULL)
			d->next->prev = d->prev;
		d->target->inflight--;
		ob->ninflight--;
		outbox_schedule_next(ob);
	}
	store_outbox_row_clear(&d->row);
	free(d);
}

void
outbox_delivery_done(struct outbox_delivery *d, enum outbox_result result,
    int64_t retry_after, const char *error)
{
	outbox_finish(d, result, retry_after, STORE_PARK_NONE, error);
}

void
outbox_delivery_wait(struct outbox_delivery *d, int64_t seconds,
    enum store_outbox_park why, const char *error)
{
	if (why == STORE_PARK_NONE)
		fatalx("%s: no reason", __func__);
	outbox_finish(d, OUTBOX_TEMPFAIL, seconds, why, error);
}

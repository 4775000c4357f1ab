/*
 * schedule: a binary min-heap on next_poll_at and one timer. See schedule.h.
 */
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "log.h"
#include "schedule.h"
#include "xmalloc.h"

/* Doublings of the backoff: enough to pass any sane max_backoff. */
#define SCHEDULE_MAX_DOUBLINGS 30
/* sy:updateFrequency above this is not believed. */
#define SCHEDULE_MAX_FREQUENCY 10000

struct schedule {
	struct event_base *base;
	struct event *timer;
	struct schedule_limits limits;
	uint64_t rng;
	schedule_due_cb due_cb;
	void *arg;
	struct schedule_feed **heap;
	size_t len;
	size_t size;
};

/* xorshift64*: deterministic under a seed, good enough for jitter. */
static uint64_t
schedule_random(struct schedule *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 2685821657736338717ull;
}

/* Uniform in [0, n). */
static int64_t
schedule_uniform(struct schedule *s, int64_t n)
{
	if (n <= 0)
		return 0;
	return (int64_t)(schedule_random(s) % (uint64_t)n);
}

static void
schedule_swap(struct schedule *s, size_t a, size_t b)
{
	struct schedule_feed *t = s->heap[a];

	s->heap[a] = s->heap[b];
	s->heap[b] = t;
	s->heap[a]->heap_index = a;
	s->heap[b]->heap_index = b;
}

static int
schedule_before(struct schedule *s, size_t a, size_t b)
{
	return s->heap[a]->state.next_poll_at < s->heap[b]->state.next_poll_at;
}

static void
schedule_up(struct schedule *s, size_t i)
{
	while (i > 0 && schedule_before(s, i, (i - 1) / 2)) {
		schedule_swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
schedule_down(struct schedule *s, size_t i)
{
	size_t l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < s->len && schedule_before(s, l, m))
			m = l;
		if (r < s->len && schedule_before(s, r, m))
			m = r;
		if (m == i)
			return;
		schedule_swap(s, i, m);
		i = m;
	}
}

/* Arm the timer for the earliest feed (or disarm it). */
static void
schedule_arm(struct schedule *s)
{
	struct timeval now_tv, tv;
	int64_t now, delay;

	if (s->timer == NULL)
		return;
	if (s->len == 0) {
		evtimer_del(s->timer);
		return;
	}
	event_base_gettimeofday_cached(s->base, &now_tv);
	now = (int64_t)now_tv.tv_sec * 1000 + now_tv.tv_usec / 1000;
	delay = s->heap[0]->state.next_poll_at - now;
	if (delay < 0)
		delay = 0;
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
	evtimer_add(s->timer, &tv);
}

/* libevent: the earliest feed is due. */
static void
schedule_timer_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct schedule *s = arg;
	struct timeval tv;

	event_base_gettimeofday_cached(s->base, &tv);
	schedule_run_due(s, (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

struct schedule *
schedule_new(struct event_base *base, const struct schedule_limits *limits,
    uint64_t seed, schedule_due_cb due_cb, void *arg)
{
	struct schedule *s;

	s = xcalloc(1, sizeof *s);
	s->base = base;
	if (base != NULL &&
	    (s->timer = evtimer_new(base, schedule_timer_cb, s)) == NULL)
		fatalx("evtimer_new failed");
	s->limits.min_interval_ms = SCHEDULE_DEFAULT_MIN_INTERVAL_MS;
	s->limits.max_hint_ms = SCHEDULE_DEFAULT_MAX_HINT_MS;
	s->limits.max_backoff_ms = SCHEDULE_DEFAULT_MAX_BACKOFF_MS;
	s->limits.jitter_percent = SCHEDULE_DEFAULT_JITTER_PERCENT;
	if (limits != NULL) {
		if (limits->min_interval_ms > 0)
			s->limits.min_interval_ms = limits->min_interval_ms;
		if (limits->max_hint_ms > 0)
			s->limits.max_hint_ms = limits->max_hint_ms;
		if (limits->max_backoff_ms > 0)
			s->limits.max_backoff_ms = limits->max_backoff_ms;
		if (limits->jitter_percent >= 0 && limits->jitter_percent < 100)
			s->limits.jitter_percent = limits->jitter_percent;
	}
	s->rng = seed != 0 ? seed : 0x9e3779b97f4a7c15ull;
	s->due_cb = due_cb;
	s->arg = arg;
	return s;
}

void
schedule_free(struct schedule *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->len; i++)
		s->heap[i]->queued = 0;
	if (s->timer != NULL)
		event_free(s->timer);
	free(s->heap);
	free(s);
}

static int64_t
schedule_interval(const struct schedule *s, const struct schedule_feed *f)
{
	return f->interval_ms > s->limits.min_interval_ms
	    ? f->interval_ms
	    : s->limits.min_interval_ms;
}

void
schedule_add(struct schedule *s, struct schedule_feed *f, int64_t now)
{
	if (f->queued || f->state.gone)
		return;
	if (f->state.next_poll_at == 0)
		f->state.next_poll_at = now +
		    schedule_uniform(s,
			schedule_interval(s, f) < SCHEDULE_FIRST_POLL_SPREAD_MS
			    ? schedule_interval(s, f)
			    : SCHEDULE_FIRST_POLL_SPREAD_MS);
	if (s->len == s->size) {
		s->size = s->size == 0 ? 64 : s->size * 2;
		s->heap = xreallocarray(s->heap, s->size, sizeof *s->heap);
	}
	f->heap_index = s->len;
	f->queued = 1;
	s->heap[s->len++] = f;
	schedule_up(s, f->heap_index);
	if (f->heap_index == 0)
		schedule_arm(s);
}

void
schedule_remove(struct schedule *s, struct schedule_feed *f)
{
	size_t i = f->heap_index;

	if (!f->queued)
		return;
	f->queued = 0;
	s->len--;
	if (i != s->len) {
		s->heap[i] = s->heap[s->len];
		s->heap[i]->heap_index = i;
		schedule_down(s, i);
		schedule_up(s, i);
	}
	if (i == 0)
		schedule_arm(s);
}

size_t
schedule_run_due(struct schedule *s, int64_t now)
{
	struct schedule_feed *f;
	size_t n = 0;

	while (s->len > 0 && s->heap[0]->state.next_poll_at <= now) {
		f = s->heap[0];
		schedule_remove(s, f);
		n++;
		s->due_cb(f, s->arg);
	}
	schedule_arm(s);
	return n;
}

/* The longest hint a feed or its server gave, or -1. */
static int64_t
schedule_hint(const struct schedule_outcome *o)
{
	int64_t h = -1;

	if (o->ttl_ms > h)
		h = o->ttl_ms;
	if (o->update_period_ms > h)
		h = o->update_period_ms;
	if (o->max_age_ms > h)
		h = o->max_age_ms;
	if (o->expires_in_ms > h)
		h = o->expires_in_ms;
	return h;
}

/* delay +- jitter_percent. */
static int64_t
schedule_jitter(struct schedule *s, int64_t delay)
{
	int64_t span = delay / 100 * s->limits.jitter_percent;

	return delay - span + schedule_uniform(s, 2 * span + 1);
}

int64_t
schedule_done(struct schedule *s, struct schedule_feed *f,
    const struct schedule_outcome *o, int64_t now)
{
	struct schedule_state *st = &f->state;
	int64_t interval = schedule_interval(s, f), delay, hint, retry;
	int i;

	st->last_poll_at = now;
	st->last_status = o->status;
	if (o->ok) {
		st->last_success_at = now;
		st->consecutive_failures = 0;
		st->last_error[0] = '\0';
		delay = interval;
		if ((hint = schedule_hint(o)) >= 0) {
			if (hint < s->limits.min_interval_ms)
				hint = s->limits.min_interval_ms;
			if (hint > s->limits.max_hint_ms)
				hint = s->limits.max_hint_ms;
			if (hint > delay)
				delay = hint;
		}
		delay = schedule_jitter(s, delay);
		if (delay < s->limits.min_interval_ms)
			delay = s->limits.min_interval_ms;
	} else if (o->status == 410) {
		st->consecutive_failures++;
		st->gone = 1;
		snprintf(st->last_error, sizeof st->last_error,
		    "410 Gone: the server says the feed was removed for good; "
		    "polling stopped");
		schedule_remove(s, f);
		return -1;
	} else {
		if (st->consecutive_failures < INT32_MAX)
			st->consecutive_failures++;
		snprintf(st->last_error, sizeof st->last_error, "%s",
		    o->error != NULL ? o->error : "failed");
		delay = interval;
		for (i = 1; i < st->consecutive_failures &&
		     i < SCHEDULE_MAX_DOUBLINGS &&
		     delay < s->limits.max_backoff_ms;
		     i++)
			delay *= 2;
		if (delay > s->limits.max_backoff_ms)
			delay = s->limits.max_backoff_ms;
		/* Jitter only downwards: the cap stays a cap. */
		delay -= schedule_uniform(
		    s, delay / 100 * s->limits.jitter_percent + 1);
		retry = o->retry_after_ms;
		if ((o->status == 429 || o->status == 503) && retry > delay) {
			if (retry > SCHEDULE_MAX_RETRY_AFTER_MS)
				retry = SCHEDULE_MAX_RETRY_AFTER_MS;
			delay = retry;
		}
	}
	if (delay < 1)
		delay = 1;
	schedule_remove(s, f);
	st->next_poll_at = now + delay;
	schedule_add(s, f, now);
	return delay;
}

size_t
schedule_size(const struct schedule *s)
{
	return s->len;
}

int64_t
schedule_next_at(const struct schedule *s)
{
	return s->len > 0 ? s->heap[0]->state.next_poll_at : -1;
}

int64_t
schedule_update_period_ms(const char *period, const char *frequency)
{
	static const struct {
		const char *name;
		int64_t ms;
	} periods[] = {
	    {"hourly", 3600 * 1000LL},
	    {"daily", 24 * 3600 * 1000LL},
	    {"weekly", 7 * 24 * 3600 * 1000LL},
	    {"monthly", 30 * 24 * 3600 * 1000LL},
	    {"yearly", 365 * 24 * 3600 * 1000LL},
	};
	long freq = 1;
	char *end;
	size_t i;

	if (period == NULL)
		period = "daily"; /* the module's default */
	while (*period == ' ' || *period == '\t' || *period == '\n')
		period++;
	if (frequency != NULL) {
		freq = strtol(frequency, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\n')
			end++;
		if (end == frequency || *end != '\0' || freq < 1 ||
		    freq > SCHEDULE_MAX_FREQUENCY)
			return -1;
	}
	for (i = 0; i < sizeof periods / sizeof periods[0]; i++) {
		if (strncasecmp(period, periods[i].name,
			strlen(periods[i].name)) == 0 &&
		    strspn(period + strlen(periods[i].name), " \t\n") ==
			strlen(period + strlen(periods[i].name)))
			return periods[i].ms / freq;
	}
	return -1;
}

void
schedule_outcome_init(struct schedule_outcome *o)
{
	memset(o, 0, sizeof *o);
	o->retry_after_ms = -1;
	o->max_age_ms = -1;
	o->expires_in_ms = -1;
	o->ttl_ms = -1;
	o->update_period_ms = -1;
}

/* schedule: the rules of the next poll (table-driven, own clock and seed),
 * the heap under many feeds, and the timer on a real event_base. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cmocka.h>
#include <event2/event.h>

#include "schedule.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define NOW (1700000000LL * SEC)

static void
no_due(struct schedule_feed *f, void *arg)
{
	fail_msg("unexpected due callback");
}

struct rule_case {
	const char *what;
	int64_t interval;
	int failures_before; /* consecutive failures already recorded */
	int ok;
	long status;
	int64_t retry_after, max_age, expires_in, ttl, update_period;
	int64_t min, max; /* the delay chosen must fall in [min, max] */
};

static const struct rule_case rules[] = {
    {"plain success", 10 * MIN, 0, 1, 200, -1, -1, -1, -1, -1, 9 * MIN,
	11 * MIN},
    {"304", 10 * MIN, 0, 1, 304, -1, -1, -1, -1, -1, 9 * MIN, 11 * MIN},
    {"ttl lengthens", 10 * MIN, 0, 1, 200, -1, -1, -1, 30 * MIN, -1, 27 * MIN,
	33 * MIN},
    {"sy:updatePeriod", 10 * MIN, 0, 1, 200, -1, -1, -1, -1, HOUR, 54 * MIN,
	66 * MIN},
    {"max-age clamped to max_hint", 10 * MIN, 0, 1, 200, -1, DAY, -1, -1, -1,
	5.4 * HOUR, 6.6 * HOUR},
    {"Expires", 10 * MIN, 0, 1, 200, -1, -1, 2 * HOUR, -1, -1, 1.8 * HOUR,
	2.2 * HOUR},
    {"the longest hint wins", 10 * MIN, 0, 1, 200, -1, 20 * MIN, 5 * MIN,
	40 * MIN, -1, 36 * MIN, 44 * MIN},
    {"a short hint does not shorten", 10 * MIN, 0, 1, 200, -1, 30 * SEC, -1,
	1 * MIN, -1, 9 * MIN, 11 * MIN},
    {"interval below the floor", 5 * SEC, 0, 1, 200, -1, -1, -1, -1, -1,
	10 * SEC, 11 * SEC},
    {"success after failures", 10 * MIN, 7, 1, 200, -1, -1, -1, -1, -1, 9 * MIN,
	11 * MIN},
    {"first failure", 10 * MIN, 0, 0, 500, -1, -1, -1, -1, -1, 9 * MIN,
	10 * MIN},
    {"second failure doubles", 10 * MIN, 1, 0, 500, -1, -1, -1, -1, -1,
	18 * MIN, 20 * MIN},
    {"fourth failure", 10 * MIN, 3, 0, 0, -1, -1, -1, -1, -1, 72 * MIN,
	80 * MIN},
    {"backoff capped at 24 h", 10 * MIN, 9, 0, 500, -1, -1, -1, -1, -1,
	21.6 * HOUR, DAY},
    {"never given up", 10 * MIN, 100000, 0, 500, -1, -1, -1, -1, -1,
	21.6 * HOUR, DAY},
    {"429 Retry-After wins", 10 * MIN, 0, 0, 429, 2 * HOUR, -1, -1, -1, -1,
	2 * HOUR, 2 * HOUR},
    {"503 Retry-After wins", 10 * MIN, 0, 0, 503, 3 * HOUR, -1, -1, -1, -1,
	3 * HOUR, 3 * HOUR},
    {"a shorter Retry-After keeps the backoff", 10 * MIN, 0, 0, 503, 30 * SEC,
	-1, -1, -1, -1, 9 * MIN, 10 * MIN},
    {"Retry-After only on 429/503", 10 * MIN, 0, 0, 500, 5 * HOUR, -1, -1, -1,
	-1, 9 * MIN, 10 * MIN},
    {"Retry-After capped at 7 days", 10 * MIN, 0, 0, 429, 30 * DAY, -1, -1, -1,
	-1, 7 * DAY, 7 * DAY},
    {"hints ignored on failure", 10 * MIN, 0, 0, 500, -1, DAY, -1, DAY, -1,
	9 * MIN, 10 * MIN},
};

static void
test_rules(void **state)
{
	const struct rule_case *c;
	struct schedule_outcome o;
	struct schedule_feed f;
	struct schedule *s;
	int64_t delay;
	size_t i;
	int round;

	for (i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		c = &rules[i];
		/* Several seeds, so the jitter's whole range is tried. */
		for (round = 0; round < 50; round++) {
			s = schedule_new(
			    NULL, NULL, 1 + i * 100 + round, no_due, NULL);
			memset(&f, 0, sizeof f);
			f.interval_ms = c->interval;
			f.state.consecutive_failures = c->failures_before;
			schedule_outcome_init(&o);
			o.ok = c->ok;
			o.status = c->status;
			o.error = c->ok ? NULL : "it broke";
			o.retry_after_ms = c->retry_after;
			o.max_age_ms = c->max_age;
			o.expires_in_ms = c->expires_in;
			o.ttl_ms = c->ttl;
			o.update_period_ms = c->update_period;
			delay = schedule_done(s, &f, &o, NOW);
			if (delay < c->min || delay > c->max)
				fail_msg("%s: delay %lld not in [%lld, %lld]",
				    c->what, (long long)delay,
				    (long long)c->min, (long long)c->max);
			assert_int_equal(f.state.next_poll_at, NOW + delay);
			assert_int_equal(f.state.last_poll_at, NOW);
			assert_int_equal(f.state.last_status, c->status);
			if (c->ok) {
				assert_int_equal(
				    f.state.consecutive_failures, 0);
				assert_int_equal(f.state.last_success_at, NOW);
				assert_string_equal(f.state.last_error, "");
			} else {
				assert_int_equal(f.state.consecutive_failures,
				    c->failures_before + 1);
				assert_int_equal(f.state.last_success_at, 0);
				assert_string_equal(
				    f.state.last_error, "it broke");
			}
			assert_int_equal(schedule_size(s), 1);
			assert_int_equal(schedule_next_at(s), NOW + delay);
			schedule_free(s);
		}
	}
}

/* Failures never stop a feed; the jitter spreads feeds apart. */
static void
test_backoff_sequence(void **state)
{
	struct schedule *s = schedule_new(NULL, NULL, 42, no_due, NULL);
	struct schedule_outcome o;
	struct schedule_feed f[2];
	int64_t prev = 0, d0, d1, now = NOW;
	int i, differ = 0;

	memset(f, 0, sizeof f);
	f[0].interval_ms = f[1].interval_ms = 5 * MIN;
	schedule_outcome_init(&o);
	o.status = 0;
	o.error = "connect: refused";
	for (i = 0; i < 60; i++) {
		d0 = schedule_done(s, &f[0], &o, now);
		d1 = schedule_done(s, &f[1], &o, now);
		assert_true(d0 > 0 && d0 <= DAY);
		/* Non-decreasing, give or take the jitter. */
		assert_true(d0 >= prev * 0.8);
		prev = d0;
		differ += d0 != d1;
		now += d0;
	}
	assert_true(differ > 50);
	assert_int_equal(f[0].state.consecutive_failures, 60);
	assert_int_equal(schedule_size(s), 2);
	schedule_free(s);
}

static void
test_gone(void **state)
{
	struct schedule *s = schedule_new(NULL, NULL, 7, no_due, NULL);
	struct schedule_outcome o;
	struct schedule_feed f;

	memset(&f, 0, sizeof f);
	f.interval_ms = 10 * MIN;
	f.state.next_poll_at = NOW;
	schedule_add(s, &f, NOW);
	assert_int_equal(schedule_size(s), 1);
	schedule_outcome_init(&o);
	o.status = 410;
	o.error = "HTTP status 410";
	assert_int_equal(schedule_done(s, &f, &o, NOW), -1);
	assert_true(f.state.gone);
	assert_non_null(strstr(f.state.last_error, "410"));
	assert_int_equal(schedule_size(s), 0);
	/* Restored from the store, a gone feed stays off the schedule. */
	schedule_add(s, &f, NOW);
	assert_int_equal(schedule_size(s), 0);
	schedule_free(s);
}

static int64_t last_due;
static size_t ndue;

static void
count_due(struct schedule_feed *f, void *arg)
{
	/* Due in order of next_poll_at. */
	assert_true(f->state.next_poll_at >= last_due);
	last_due = f->state.next_poll_at;
	ndue++;
	f->owner = f; /* mark it */
}

/* 10,000 feeds: each comes due exactly once, in order; removals hold. */
static void
test_heap(void **state)
{
	enum { N = 10000 };
	struct schedule *s = schedule_new(NULL, NULL, 3, count_due, NULL);
	struct schedule_feed *f = calloc(N, sizeof *f);
	uint64_t x = 12345;
	size_t i, removed = 0;
	int64_t t;

	for (i = 0; i < N; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		f[i].interval_ms = 10 * MIN;
		f[i].state.next_poll_at = NOW + (int64_t)((x >> 33) % DAY);
		schedule_add(s, &f[i], NOW);
	}
	assert_int_equal(schedule_size(s), N);
	for (i = 0; i < N; i += 7) {
		schedule_remove(s, &f[i]);
		removed++;
	}
	schedule_remove(s, &f[0]); /* twice is harmless */
	assert_int_equal(schedule_size(s), N - removed);
	last_due = 0;
	ndue = 0;
	for (t = NOW; t <= NOW + DAY; t += 10 * MIN)
		schedule_run_due(s, t);
	assert_int_equal(ndue, N - removed);
	assert_int_equal(schedule_size(s), 0);
	for (i = 0; i < N; i++)
		assert_true((f[i].owner != NULL) == (i % 7 != 0));
	/* A cold start spreads feeds over the first minute. */
	for (i = 0; i < 100; i++) {
		memset(&f[i], 0, sizeof f[i]);
		f[i].interval_ms = 10 * MIN;
		schedule_add(s, &f[i], NOW);
		assert_true(f[i].state.next_poll_at >= NOW &&
		    f[i].state.next_poll_at < NOW + MIN);
	}
	assert_true(schedule_next_at(s) < NOW + 10 * SEC);
	schedule_free(s);
	free(f);
}

struct timer_run {
	struct event_base *base;
	int64_t start_ms;
	int order[3];
	int64_t at[3];
	int n;
};

static int64_t
wall_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void
timer_due(struct schedule_feed *f, void *arg)
{
	struct timer_run *r = arg;

	r->order[r->n] = (int)(intptr_t)f->owner;
	r->at[r->n] = wall_ms() - r->start_ms;
	if (++r->n == 3)
		event_base_loopbreak(r->base);
}

/* One timer fires for the earliest feed, re-armed as the heap changes. */
static void
test_timer(void **state)
{
	struct timer_run r;
	struct schedule *s;
	struct schedule_feed f[4];
	struct timeval limit = {3, 0};
	int64_t now;

	memset(&r, 0, sizeof r);
	memset(f, 0, sizeof f);
	r.base = event_base_new();
	s = schedule_new(r.base, NULL, 9, timer_due, &r);
	r.start_ms = now = wall_ms();
	f[0].owner = (void *)0;
	f[0].state.next_poll_at = now + 300;
	f[1].owner = (void *)1;
	f[1].state.next_poll_at = now + 100;
	f[2].owner = (void *)2;
	f[2].state.next_poll_at = now + 200;
	f[3].owner = (void *)3;
	f[3].state.next_poll_at = now + 50; /* removed before it is due */
	schedule_add(s, &f[0], now);
	schedule_add(s, &f[1], now);
	schedule_add(s, &f[2], now);
	schedule_add(s, &f[3], now);
	schedule_remove(s, &f[3]);
	event_base_loopexit(r.base, &limit);
	event_base_dispatch(r.base);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.order[0], 1);
	assert_int_equal(r.order[1], 2);
	assert_int_equal(r.order[2], 0);
	assert_true(r.at[0] >= 90 && r.at[0] < 250);
	assert_true(r.at[2] >= 290 && r.at[2] < 500);
	assert_int_equal(schedule_size(s), 0);
	schedule_free(s);
	event_base_free(r.base);
}

static void
test_update_period(void **state)
{
	static const struct {
		const char *period, *frequency;
		int64_t ms;
	} cases[] = {
	    {"hourly", NULL, HOUR},
	    {"hourly", "2", 30 * MIN},
	    {"daily", "1", DAY},
	    {NULL, NULL, DAY},
	    {" Weekly\n", " 7 ", DAY},
	    {"monthly", NULL, 30 * DAY},
	    {"yearly", "365", DAY},
	    {"weekly", "0", -1},
	    {"weekly", "-3", -1},
	    {"weekly", "two", -1},
	    {"weekly", "100000", -1},
	    {"fortnightly", NULL, -1},
	    {"hourlyish", NULL, -1},
	    {"", NULL, -1},
	};
	size_t i;
	int64_t got;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = schedule_update_period_ms(
		    cases[i].period, cases[i].frequency);
		if (got != cases[i].ms)
			fail_msg("%s/%s: %lld", cases[i].period,
			    cases[i].frequency, (long long)got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rules),
	    cmocka_unit_test(test_backoff_sequence),
	    cmocka_unit_test(test_gone),
	    cmocka_unit_test(test_heap),
	    cmocka_unit_test(test_timer),
	    cmocka_unit_test(test_update_period),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

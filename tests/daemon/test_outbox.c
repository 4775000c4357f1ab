/* outbox: the dispatcher's rules (OK, PERMFAIL, the backoff schedule
 * with jitter, retry_after, dead after the total, the in-flight cap,
 * recovery of rows left in flight) on a real store, with a test clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "log.h"
#include "outbox.h"
#include "store.h"
#include "store_fixture.h"

#define URL "http://example.com/feed.xml"
#define T0 1700000000

static int64_t fake_now;

static int64_t
fake_clock(void *arg)
{
	return fake_now;
}

/* A notifier that answers from a script, now or when told. */
struct script {
	enum outbox_result result;
	int64_t retry_after;
	const char *error;
	int async; /* keep deliveries until answer_all() */
	enum store_outbox_park own_wait; /* TEMPFAIL as a wait of the
					    daemon's own, for this reason */
	struct outbox_delivery *held[64];
	size_t nheld;
	int ndelivered;
	char ids[64][37];
};

static void
script_deliver(void *arg, struct outbox_delivery *d)
{
	struct script *s = arg;
	const struct store_outbox_row *row = outbox_delivery_row(d);

	if (s->ndelivered < 64)
		snprintf(s->ids[s->ndelivered], 37, "%s", row->id);
	s->ndelivered++;
	if (s->async) {
		assert_true(s->nheld < 64);
		s->held[s->nheld++] = d;
		return;
	}
	if (s->own_wait != STORE_PARK_NONE && s->result == OUTBOX_TEMPFAIL)
		outbox_delivery_wait(d, s->retry_after, s->own_wait, s->error);
	else
		outbox_delivery_done(d, s->result, s->retry_after, s->error);
}

static size_t
answer(struct script *s, size_t n)
{
	size_t i, done = 0;

	for (i = 0; i < n && s->nheld > 0; i++, done++)
		outbox_delivery_done(
		    s->held[--s->nheld], s->result, s->retry_after, s->error);
	return done;
}

struct env {
	char dir[64];
	char path[128];
	struct store *st;
	struct event_base *base;
	struct outbox *ob;
	struct script a;
	int nitems;
};

static int
setup(void **state)
{
	struct env *env = xcalloc(1, sizeof *env);
	char *cause = NULL;

	snprintf(env->dir, sizeof env->dir, "/tmp/fw-outbox-XXXXXX");
	if (mkdtemp(env->dir) == NULL)
		return -1;
	snprintf(env->path, sizeof env->path, "%s/state.db", env->dir);
	if ((env->st = store_open(env->path, &cause)) == NULL)
		return -1;
	env->base = event_base_new();
	fake_now = T0;
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	char cmd[160];

	answer(&env->a, 64);
	outbox_free(env->ob);
	store_close(env->st);
	event_base_free(env->base);
	snprintf(cmd, sizeof cmd, "rm -rf %s", env->dir);
	if (system(cmd) != 0)
		return -1;
	free(env);
	return 0;
}

/* N more alerts for notifiers a and b, created at fake_now: the feed's
 * first poll is an empty baseline, then each call adds N items. */
static void
enqueue(struct env *env, int n)
{
	struct store_feed f;
	struct store_ingest_options o = {fake_now, 0, 100};
	struct fixture_matcher fm = {0};
	struct store_ingest_result r;
	struct feed_doc *doc;
	char *cause = NULL;

	memset(&f, 0, sizeof f);
	f.url = (char *)URL;
	if (env->nitems == 0) {
		doc = fixture_doc("k", "T", "http://example.com/p", 0, 0);
		assert_int_equal(
		    store_ingest(env->st, &f, doc, &o, NULL, NULL, &r, &cause),
		    0);
		feed_doc_free(doc);
	}
	env->nitems += n;
	doc = fixture_doc("k", "T", "http://example.com/p", 0, env->nitems);
	assert_int_equal(
	    store_ingest(env->st, &f, doc, &o, fixture_match, &fm, &r, &cause),
	    0);
	feed_doc_free(doc);
	assert_int_equal(r.nalerts, n);
}

static void
start(struct env *env, int64_t give_up_after)
{
	struct outbox_options opts = {fake_clock, NULL, give_up_after, 42};
	struct outbox_notifier n = {"a", script_deliver, &env->a, 0};
	char *cause = NULL;

	env->ob = outbox_new(env->base, env->st, &opts, &cause);
	assert_non_null(env->ob);
	assert_int_equal(outbox_add_notifier(env->ob, &n), 0);
	assert_int_equal(outbox_add_notifier(env->ob, &n), -1);
}

static void
pump(struct env *env)
{
	int i;

	outbox_kick(env->ob);
	for (i = 0; i < 4; i++)
		event_base_loop(env->base, EVLOOP_NONBLOCK);
}

/* Notifier a's row number I (creation order). */
static struct store_outbox_row
row_of(struct env *env, size_t i)
{
	struct store_outbox_row *rows, out;
	size_t n, j, k = 0;
	char *cause = NULL;

	memset(&out, 0, sizeof out);
	assert_int_equal(store_outbox_list(env->st, -1, &rows, &n, &cause), 0);
	for (j = 0; j < n; j++)
		if (strcmp(rows[j].notifier, "a") == 0 && k++ == i) {
			out = rows[j];
			memset(&rows[j], 0, sizeof rows[j]);
		}
	store_outbox_rows_free(rows, n);
	assert_non_null(out.id);
	return out;
}

static void
test_ok_and_permfail(void **state)
{
	struct env *env = *state;
	struct store_outbox_row row;
	struct store_outbox_stats stats;

	enqueue(env, 3);
	start(env, 0);
	env->a.result = OUTBOX_OK;
	pump(env);
	assert_int_equal(env->a.ndelivered, 3);
	row = row_of(env, 0);
	assert_int_equal(row.state, STORE_OUTBOX_DELIVERED);
	assert_int_equal(row.attempts, 1);
	assert_string_equal(row.id, env->a.ids[0]);
	store_outbox_row_clear(&row);
	/* Rows of notifiers not registered (b) wait. */
	assert_int_equal(
	    store_outbox_stats(env->st, fake_now, &stats, NULL), 0);
	assert_int_equal(stats.pending, 3);
	assert_int_equal(stats.delivered, 3);

	fake_now += 10;
	enqueue(env, 1); /* item 3 */
	env->a.result = OUTBOX_PERMFAIL;
	env->a.error = "HTTP 400";
	pump(env);
	assert_int_equal(env->a.ndelivered, 4);
	row = row_of(env, 3);
	assert_int_equal(row.state, STORE_OUTBOX_DEAD);
	assert_int_equal(row.attempts, 1);
	assert_string_equal(row.last_error, "HTTP 400");
	store_outbox_row_clear(&row);
}

/* TEMPFAIL forever: 5s, 5m, 30m, 2h, ... each +-20%, then dead once the
 * row is 72h old, the last attempt at the deadline. */
static void
test_backoff_until_dead(void **state)
{
	struct env *env = *state;
	struct store_outbox_row row;
	int64_t delay, nominal, deadline = T0 + OUTBOX_DEFAULT_GIVE_UP_AFTER;
	int attempts = 0, jittered = 0, clamped = 0;

	enqueue(env, 1);
	start(env, 0);
	env->a.result = OUTBOX_TEMPFAIL;
	env->a.error = "HTTP 503";
	for (;;) {
		pump(env);
		attempts++;
		assert_int_equal(env->a.ndelivered, attempts);
		row = row_of(env, 0);
		assert_int_equal(row.attempts, attempts);
		if (row.state == STORE_OUTBOX_DEAD) {
			assert_non_null(strstr(row.last_error, "gave up"));
			assert_non_null(strstr(row.last_error, "HTTP 503"));
			store_outbox_row_clear(&row);
			break;
		}
		assert_int_equal(row.state, STORE_OUTBOX_PENDING);
		assert_string_equal(row.last_error, "HTTP 503");
		delay = row.next_attempt_at - fake_now;
		/* after the probe, the step it stood in for */
		nominal =
		    outbox_backoff(attempts < 3 ? attempts : attempts - 1);
		if (row.next_attempt_at == deadline)
			clamped++;
		else if (attempts == 2)
			assert_int_equal(delay, 30); /* the probe */
		else {
			assert_true(delay >= nominal - nominal / 5);
			assert_true(delay <= nominal + nominal / 5);
			if (delay != nominal)
				jittered++;
		}
		/* Not due before its time. */
		fake_now = row.next_attempt_at - 1;
		pump(env);
		assert_int_equal(env->a.ndelivered, attempts);
		fake_now = row.next_attempt_at;
		store_outbox_row_clear(&row);
		assert_true(attempts < 20);
	}
	assert_int_equal(fake_now, deadline);
	assert_int_equal(clamped, 1);
	assert_true(jittered >= 5);
	/* 5s, 30s (the probe), 5m 30m 2h 5h 10h 14h 20h = 51.6h nominal, the
	 * next 24h passes 72h: 11 attempts, or 12 when the jitter shortened
	 * them. */
	assert_true(attempts == 11 || attempts == 12);
	assert_int_equal(outbox_backoff(1), 5);
	assert_int_equal(outbox_backoff(4), 2 * 3600);
	assert_int_equal(outbox_backoff(50), 24 * 3600);
}

/* retry_after is honoured, capped at 24h, and never past the deadline;
 * a shorter total gives up sooner. */
static void
test_retry_after_and_total(void **state)
{
	struct env *env = *state;
	struct store_outbox_row row;
	static const struct {
		int64_t retry_after, expect_delay;
	} table[] = {{120, 120}, {1, 1}, {10 * 86400, 86400}};
	size_t i;

	enqueue(env, 1);
	start(env, 4 * 86400);
	env->a.result = OUTBOX_TEMPFAIL;
	for (i = 0; i < sizeof table / sizeof table[0]; i++) {
		env->a.retry_after = table[i].retry_after;
		pump(env);
		row = row_of(env, 0);
		assert_int_equal(row.state, STORE_OUTBOX_PENDING);
		assert_int_equal(
		    row.next_attempt_at - fake_now, table[i].expect_delay);
		fake_now = row.next_attempt_at;
		store_outbox_row_clear(&row);
	}
	/* Now T0 + 1d + 121s: 3 days to the deadline; ask for 24h twice,
	 * then the deadline. */
	env->a.retry_after = 86400;
	pump(env);
	fake_now += 86400;
	pump(env);
	fake_now += 86400;
	pump(env);
	row = row_of(env, 0);
	assert_int_equal(row.next_attempt_at, T0 + 4 * 86400);
	fake_now = row.next_attempt_at;
	store_outbox_row_clear(&row);
	pump(env);
	row = row_of(env, 0);
	assert_int_equal(row.state, STORE_OUTBOX_DEAD);
	assert_int_equal(row.attempts, 7);
	store_outbox_row_clear(&row);
}

/* Row I's next attempt. */
static int64_t
due_at(struct env *env, size_t i)
{
	struct store_outbox_row row = row_of(env, i);
	int64_t next = row.next_attempt_at;

	store_outbox_row_clear(&row);
	return next;
}

/* Row I is in STATE and, unless NEXT is 0, due at NEXT. */
static void
expect_row(
    struct env *env, size_t i, enum store_outbox_state state, int64_t next)
{
	struct store_outbox_row row = row_of(env, i);

	assert_int_equal(row.state, state);
	if (next != 0)
		assert_int_equal(row.next_attempt_at, next);
	store_outbox_row_clear(&row);
}

/* Rows FROM .. TO - 1 of notifier "a" are in STATE; pending ones wait
 * for a later time than now. */
static void
expect_rows(
    struct env *env, size_t from, size_t to, enum store_outbox_state state)
{
	struct store_outbox_row row;

	for (; from < to; from++) {
		row = row_of(env, from);
		assert_int_equal(row.state, state);
		if (state == STORE_OUTBOX_PENDING)
			assert_true(row.next_attempt_at > fake_now);
		store_outbox_row_clear(&row);
	}
}

/* N new alerts, the outbox started, each failed twice (GAP s apart). */
static void
fail_twice(struct env *env, int n, int64_t gap)
{
	enqueue(env, n);
	start(env, 0);
	env->a.result = OUTBOX_TEMPFAIL;
	pump(env);
	fake_now += gap;
	pump(env);
	assert_int_equal(env->a.ndelivered, 2 * n);
}

/* The receiver back after failed attempts in a row: its next OK makes
 * every waiting retry due at once. One refused alert among OKs is not an
 * outage: it keeps its backoff. */
static void
test_wake_on_recovery(void **state)
{
	struct env *env = *state;
	struct store_outbox_row row;
	struct store_outbox_stats stats;
	int i, probes;

	fail_twice(env, 3, 10);
	/* one of the three is the probe (30s), the others wait 5 minutes */
	probes = 0;
	for (i = 0; i < 3; i++) {
		row = row_of(env, i);
		assert_int_equal(row.attempts, 2);
		if (row.next_attempt_at - fake_now == 30)
			probes++;
		else
			assert_true(row.next_attempt_at - fake_now >= 4 * 60);
		store_outbox_row_clear(&row);
	}
	assert_int_equal(probes, 1);
	/* Back: a new alert goes through, and the three follow at once. */
	fake_now += 1;
	enqueue(env, 1);
	env->a.result = OUTBOX_OK;
	pump(env);
	pump(env);
	assert_int_equal(env->a.ndelivered, 10);
	expect_rows(env, 0, 4, STORE_OUTBOX_DELIVERED);
	/* Two alerts refused in one batch, then an OK: refusals, not an
	 * outage (one second): they wait for their 5s. */
	enqueue(env, 2); /* rows 4 and 5 */
	env->a.result = OUTBOX_TEMPFAIL;
	pump(env);
	enqueue(env, 1); /* row 6 */
	env->a.result = OUTBOX_OK;
	pump(env);
	pump(env);
	assert_int_equal(env->a.ndelivered, 13);
	expect_rows(env, 4, 6, STORE_OUTBOX_PENDING);
	fake_now += 60;
	pump(env);
	assert_int_equal(env->a.ndelivered, 15);
	/* One failure between OKs: the failed row waits for its 5s. */
	enqueue(env, 1); /* row 7 */
	env->a.result = OUTBOX_TEMPFAIL;
	pump(env);
	enqueue(env, 1); /* row 8 */
	env->a.result = OUTBOX_OK;
	pump(env);
	pump(env);
	assert_int_equal(env->a.ndelivered, 17);
	row = row_of(env, 7);
	assert_int_equal(row.state, STORE_OUTBOX_PENDING);
	assert_true(row.next_attempt_at > fake_now);
	store_outbox_row_clear(&row);
	assert_int_equal(
	    store_outbox_stats(env->st, fake_now, &stats, NULL), 0);
	assert_int_equal(stats.delivered, 8);
}

/*
 * The receiver back at the end of a burst, with nothing new to send it:
 * the probe (the first alert to fail twice) goes through 30 seconds after
 * its second failure and the others, waiting 5 minutes, follow at once.
 * The same after a restart, which forgets the count of failures.
 */
static void
test_probe_wakes(void **state)
{
	struct env *env = *state;
	struct store_outbox_row row;
	int restart, base;

	for (restart = 0; restart < 2; restart++) {
		base = env->nitems;
		enqueue(env, 3);
		if (env->ob == NULL)
			start(env, 0);
		env->a.result = OUTBOX_TEMPFAIL;
		env->a.ndelivered = 0;
		pump(env);
		fake_now += 10;
		pump(env);
		assert_int_equal(env->a.ndelivered, 6);
		if (restart) {
			outbox_free(env->ob);
			start(env, 0);
		}
		env->a.result = OUTBOX_OK;
		fake_now += 29;
		pump(env);
		assert_int_equal(env->a.ndelivered, 6); /* not before its 30s */
		fake_now += 1;
		pump(env);
		pump(env);
		assert_int_equal(env->a.ndelivered, 9);
		expect_rows(env, base, base + 3, STORE_OUTBOX_DELIVERED);
		row = row_of(env, base);
		assert_int_equal(row.state, STORE_OUTBOX_DELIVERED);
		store_outbox_row_clear(&row);
		fake_now += 3600;
	}
}

/* The id of notifier a's row I (valid until the next row_of()). */
static const char *
row_id(struct env *env, size_t i)
{
	static char id[64];
	struct store_outbox_row row = row_of(env, i);

	snprintf(id, sizeof id, "%s", row.id);
	store_outbox_row_clear(&row);
	return id;
}

/* Row I has had ATTEMPTS attempts and waits LO to HI seconds: how long. */
static int64_t
expect_wait(struct env *env, size_t i, int attempts, int64_t lo, int64_t hi)
{
	struct store_outbox_row row = row_of(env, i);
	int64_t wait = row.next_attempt_at - fake_now;

	assert_int_equal(row.attempts, attempts);
	if (!(wait >= lo && wait <= hi))
		fail_msg("row %zu: %d attempts, %d out of turn, waits %lld", i,
		    row.attempts, row.out_of_turn, (long long)wait);
	store_outbox_row_clear(&row);
	return wait;
}

/*
 * A probe that fails is not a step of the schedule: its alert waits the
 * 5 minutes the probe stood in for, then 30 minutes, as an alert never
 * probed; also when the alert had waited before its failures (there a
 * Retry-After of 10 minutes, as a digest or a backlog would).
 */
static void
test_probe_fails(void **state)
{
	struct env *env = *state;

	fail_twice(env, 1, 6);
	expect_wait(env, 0, 2, 30, 30); /* the probe */
	fake_now += 30;
	pump(env);
	fake_now += expect_wait(env, 0, 3, 4 * 60, 6 * 60);
	pump(env);
	expect_wait(env, 0, 4, 24 * 60, 36 * 60);
	assert_int_equal(env->a.ndelivered, 4);

	fake_now += 7200;
	enqueue(env, 1); /* row 1 */
	env->a.retry_after = 600;
	pump(env);
	env->a.retry_after = 0;
	fake_now += 600;
	pump(env);
	expect_wait(env, 1, 2, 30, 30); /* the probe */
	fake_now += 30;
	pump(env);
	expect_wait(env, 1, 3, 4 * 60, 6 * 60);

	/* Retried by hand (feedwatch outbox retry): its schedule starts
	 * over, probe included. */
	assert_int_equal(
	    store_outbox_retry(env->st, row_id(env, 1), fake_now, NULL), 0);
	pump(env);
	expect_wait(env, 1, 1, 4, 6);
	fake_now += 6;
	pump(env);
	expect_wait(env, 1, 2, 30, 30);
}

/* The receiver back, but failing the alerts woken for it: each waits the
 * step it was waiting for, not the next one. */
static void
test_woken_fails(void **state)
{
	struct env *env = *state;
	int i, probe = -1;

	fail_twice(env, 2, 6);
	for (i = 0; i < 2; i++)
		if (expect_wait(env, (size_t)i, 2, 30, 6 * 60) == 30)
			probe = i;
	assert_true(probe >= 0);
	/* a new alert goes through: the two are woken, and fail */
	fake_now += 4;
	env->a.async = 1;
	enqueue(env, 1);
	pump(env);
	env->a.result = OUTBOX_OK;
	assert_int_equal(answer(&env->a, 1), 1);
	pump(env);
	assert_int_equal(env->a.nheld, 2);
	env->a.result = OUTBOX_TEMPFAIL;
	assert_int_equal(answer(&env->a, 2), 2);
	assert_int_equal(env->a.ndelivered, 7);
	expect_wait(env, (size_t)(1 - probe), 3, 4 * 60, 6 * 60);
}

/*
 * The wake keeps what the receiver asked for: an alert it answered with
 * Retry-After stays waiting when another alert's OK says it is back,
 * also after a restart (the wait is in the store); a wait of the
 * daemon's own (outbox_delivery_wait()) does not.
 */
static void
test_wake_keeps_retry_after(void **state)
{
	struct env *env = *state;
	int64_t held;

	fail_twice(env, 1, 6); /* row 0, then the probe */
	outbox_free(env->ob);
	start(env, 0);
	fake_now += 1;
	enqueue(env, 1); /* row 1: told to wait an hour */
	env->a.retry_after = 3600;
	pump(env);
	assert_int_equal(env->a.ndelivered, 3);
	held = due_at(env, 1);
	assert_int_equal(held, fake_now + 3600);
	/* row 2: an hour's wait of the daemon's own (a disabled notifier) */
	enqueue(env, 1);
	env->a.own_wait = STORE_PARK_DISABLED;
	pump(env);
	assert_int_equal(env->a.ndelivered, 4);
	env->a.own_wait = STORE_PARK_NONE;
	/* the probe goes through: the receiver is back, but row 1 waits;
	 * row 2 goes at once */
	env->a.result = OUTBOX_OK;
	env->a.retry_after = 0;
	fake_now += 30;
	pump(env);
	pump(env);
	assert_int_equal(env->a.ndelivered, 6);
	expect_row(env, 0, STORE_OUTBOX_DELIVERED, 0);
	expect_row(env, 2, STORE_OUTBOX_DELIVERED, 0);
	expect_row(env, 1, STORE_OUTBOX_PENDING, held);
	fake_now = held;
	pump(env);
	assert_int_equal(env->a.ndelivered, 7);
	expect_rows(env, 0, 3, STORE_OUTBOX_DELIVERED);
}

/* Row 0, the outbox started (GIVE_UP_AFTER, 0: the default), and
 * notifier a putting alerts off for RETRY_AFTER s, its notifier missing. */
static void
start_putting_off(struct env *env, int64_t give_up_after, int64_t retry_after)
{
	enqueue(env, 1);
	start(env, give_up_after);
	env->a.result = OUTBOX_TEMPFAIL;
	env->a.own_wait = STORE_PARK_MISSING;
	env->a.retry_after = retry_after;
}

/*
 * The reason a notifier's alerts were put off is gone (outbox_wake():
 * configured at the start or by a reload; replaced after it disabled
 * itself): those alerts are due at once, also after a restart, and only
 * those: one put off for the other reason waits, one the receiver told
 * to wait keeps its hold, one in its backoff after a plain failure
 * keeps its time.
 */
static void
test_wake_on_reconfigure(void **state)
{
	struct env *env = *state;
	int64_t held, backoff;

	start_putting_off(env, 0, 3600); /* row 0: put off an hour */
	pump(env);
	enqueue(env, 1); /* row 1: put off an hour, notifier disabled */
	env->a.own_wait = STORE_PARK_DISABLED;
	pump(env);
	assert_int_equal(env->a.ndelivered, 2);
	fake_now += 1;
	enqueue(env, 1); /* row 2: the receiver asked for ten minutes */
	env->a.own_wait = STORE_PARK_NONE;
	env->a.retry_after = 600;
	pump(env);
	held = due_at(env, 2);
	assert_int_equal(held, fake_now + 600);
	enqueue(env, 1); /* row 3: failed, in its backoff (5 s) */
	env->a.retry_after = 0;
	pump(env);
	assert_int_equal(env->a.ndelivered, 4);
	backoff = due_at(env, 3);
	assert_true(backoff > fake_now);
	/* a restart: nothing is due */
	outbox_free(env->ob);
	start(env, 0);
	pump(env);
	assert_int_equal(env->a.ndelivered, 4);
	env->a.result = OUTBOX_OK;
	outbox_wake(env->ob, "a", STORE_PARK_MISSING);
	pump(env);
	assert_int_equal(env->a.ndelivered, 5);
	expect_row(env, 0, STORE_OUTBOX_DELIVERED, 0);
	expect_row(env, 1, STORE_OUTBOX_PENDING, T0 + 3600);
	outbox_wake(env->ob, "a", STORE_PARK_DISABLED);
	pump(env);
	assert_int_equal(env->a.ndelivered, 6);
	expect_row(env, 1, STORE_OUTBOX_DELIVERED, 0);
	expect_row(env, 2, STORE_OUTBOX_PENDING, held);
	expect_row(env, 3, STORE_OUTBOX_PENDING, backoff);
	fake_now = held;
	pump(env);
	assert_int_equal(env->a.ndelivered, 8);
	expect_rows(env, 0, 4, STORE_OUTBOX_DELIVERED);
}

/*
 * Waits of the daemon's own are not attempts: an alert put off three
 * times, then woken, that fails at its first real attempt waits the
 * first step (5 s), not the fourth, and after its second failure it is
 * the receiver's probe (30 s).
 */
static void
test_parked_not_steps(void **state)
{
	struct env *env = *state;
	int64_t wait;
	int i;

	start_putting_off(env, 0, 3600);
	for (i = 0; i < 3; i++) {
		pump(env);
		fake_now += 60;
		assert_int_equal(env->a.ndelivered, i + 1);
		expect_row(env, 0, STORE_OUTBOX_PENDING, fake_now - 60 + 3600);
		fake_now += 3600 - 60;
	}
	fake_now -= 1800; /* woken before the hour is out */
	outbox_wake(env->ob, "a", STORE_PARK_MISSING);
	env->a.own_wait = STORE_PARK_NONE;
	env->a.retry_after = 0;
	pump(env);
	assert_int_equal(env->a.ndelivered, 4);
	wait = due_at(env, 0) - fake_now;
	assert_true(wait >= 4 && wait <= 6);
	fake_now += wait;
	pump(env);
	assert_int_equal(env->a.ndelivered, 5);
	assert_int_equal(due_at(env, 0) - fake_now, 30);
}

/*
 * Being put off says nothing of the receiver: alerts put off over
 * seconds, then an OK, are no outage, and wake no alert waiting for its
 * backoff after a real failure.
 */
static void
test_parked_no_outage(void **state)
{
	struct env *env = *state;
	int64_t backoff;

	enqueue(env, 1); /* row 0: a real failure, in its backoff */
	start(env, 0);
	env->a.result = OUTBOX_TEMPFAIL;
	pump(env);
	backoff = due_at(env, 0);
	env->a.own_wait = STORE_PARK_MISSING;
	env->a.retry_after = 3600;
	fake_now += 1;
	enqueue(env, 1); /* rows 1 and 2: put off, seconds apart */
	pump(env);
	fake_now += 2;
	enqueue(env, 1);
	pump(env);
	assert_int_equal(env->a.ndelivered, 3);
	env->a.own_wait = STORE_PARK_NONE;
	env->a.result = OUTBOX_OK;
	enqueue(env, 1); /* row 3 goes through */
	pump(env);
	assert_int_equal(env->a.ndelivered, 4);
	expect_row(env, 3, STORE_OUTBOX_DELIVERED, 0);
	expect_row(env, 0, STORE_OUTBOX_PENDING, backoff);
	expect_row(env, 1, STORE_OUTBOX_PENDING, T0 + 1 + 3600);
}

/*
 * An alert put off until its give-up time is dead, and was never sent:
 * no attempt counted, and its error says so.
 */
static void
test_parked_until_dead(void **state)
{
	struct env *env = *state;
	struct store_outbox_row row;

	start_putting_off(env, 100, 60);
	env->a.error = "notifier no longer configured";
	pump(env);
	expect_row(env, 0, STORE_OUTBOX_PENDING, T0 + 60);
	fake_now = T0 + 60;
	pump(env);
	expect_row(env, 0, STORE_OUTBOX_PENDING, T0 + 100); /* the deadline */
	fake_now = T0 + 100;
	pump(env);
	assert_int_equal(env->a.ndelivered, 3);
	row = row_of(env, 0);
	assert_int_equal(row.state, STORE_OUTBOX_DEAD);
	assert_int_equal(row.attempts, 0);
	assert_string_equal(row.last_error,
	    "gave up, never sent: notifier no longer configured");
	store_outbox_row_clear(&row);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM outbox WHERE parked != 0"),
	    0);
}

static void
test_short_total(void **state)
{
	struct env *env = *state;
	struct store_outbox_row row;

	enqueue(env, 1);
	start(env, 10);
	env->a.result = OUTBOX_TEMPFAIL;
	pump(env);
	row = row_of(env, 0);
	assert_true(row.next_attempt_at - T0 >= 4);
	assert_true(row.next_attempt_at - T0 <= 6);
	fake_now = row.next_attempt_at;
	store_outbox_row_clear(&row);
	pump(env);
	row = row_of(env, 0);
	assert_int_equal(row.next_attempt_at, T0 + 10);
	fake_now = row.next_attempt_at;
	store_outbox_row_clear(&row);
	pump(env);
	row = row_of(env, 0);
	assert_int_equal(row.state, STORE_OUTBOX_DEAD);
	assert_int_equal(row.attempts, 3);
	store_outbox_row_clear(&row);
}

/* At most 4 deliveries in flight per notifier. */
static void
test_inflight_cap(void **state)
{
	struct env *env = *state;
	struct store_outbox_stats stats;

	enqueue(env, 10);
	start(env, 0);
	env->a.async = 1;
	env->a.result = OUTBOX_OK;
	pump(env);
	assert_int_equal(outbox_inflight(env->ob), 4);
	assert_int_equal(env->a.ndelivered, 4);
	assert_int_equal(
	    store_outbox_stats(env->st, fake_now, &stats, NULL), 0);
	assert_int_equal(stats.inflight, 4);
	assert_int_equal(answer(&env->a, 1), 1);
	pump(env);
	assert_int_equal(outbox_inflight(env->ob), 4);
	assert_int_equal(env->a.ndelivered, 5);
	while (answer(&env->a, 64) > 0)
		pump(env);
	assert_int_equal(outbox_inflight(env->ob), 0);
	assert_int_equal(env->a.ndelivered, 10);
	assert_int_equal(
	    store_outbox_stats(env->st, fake_now, &stats, NULL), 0);
	assert_int_equal(stats.delivered, 10);
}

/* A crash with deliveries in flight: on start they are sent again, with
 * the same ids. */
static void
test_inflight_recovery(void **state)
{
	struct env *env = *state;
	struct store_outbox_stats stats;
	char first[4][37];
	int i, j, found;

	enqueue(env, 4);
	start(env, 0);
	env->a.async = 1;
	pump(env);
	assert_int_equal(env->a.ndelivered, 4);
	memcpy(first, env->a.ids, sizeof first);
	/* The process dies: nothing more reaches the store. */
	outbox_free(env->ob);
	env->ob = NULL;
	answer(&env->a, 64); /* late answers from abandoned deliveries */
	store_close(env->st);
	assert_non_null(env->st = store_open(env->path, NULL));
	assert_int_equal(
	    store_outbox_stats(env->st, fake_now, &stats, NULL), 0);
	assert_int_equal(stats.inflight, 4);

	memset(&env->a, 0, sizeof env->a);
	env->a.result = OUTBOX_OK;
	start(env, 0);
	assert_int_equal(
	    store_outbox_stats(env->st, fake_now, &stats, NULL), 0);
	assert_int_equal(stats.inflight, 0);
	pump(env);
	assert_int_equal(env->a.ndelivered, 4);
	for (i = 0; i < 4; i++) {
		for (found = 0, j = 0; j < 4; j++)
			found += strcmp(first[i], env->a.ids[j]) == 0;
		assert_int_equal(found, 1);
	}
	assert_int_equal(
	    store_outbox_stats(env->st, fake_now, &stats, NULL), 0);
	assert_int_equal(stats.delivered, 4);
}

/* The real clock and timer: the loop runs until the queue is empty. */
static void
test_event_loop(void **state)
{
	struct env *env = *state;
	struct outbox_notifier n = {"a", script_deliver, &env->a, 2};
	struct store_outbox_stats stats;
	char *cause = NULL;

	fake_now = (int64_t)time(NULL);
	enqueue(env, 7);
	env->ob = outbox_new(env->base, env->st, NULL, &cause);
	assert_non_null(env->ob);
	assert_int_equal(outbox_add_notifier(env->ob, &n), 0);
	env->a.result = OUTBOX_OK;
	outbox_kick(env->ob);
	assert_int_equal(event_base_dispatch(env->base), 1);
	assert_int_equal(env->a.ndelivered, 7);
	assert_int_equal(
	    store_outbox_stats(env->st, fake_now, &stats, NULL), 0);
	assert_int_equal(stats.delivered, 7);
}

/* A notifier added while deliveries run (a reload adding one while an
 * alert is held for a digest) delivers its alerts. */
static void
test_add_while_inflight(void **state)
{
	struct env *env = *state;
	struct script b;
	struct outbox_notifier nb = {"b", script_deliver, &b, 0};

	memset(&b, 0, sizeof b);
	b.result = OUTBOX_OK;
	enqueue(env, 2);
	start(env, 72 * 3600);
	env->a.async = 1;
	pump(env);
	assert_int_equal(env->a.nheld, 2);
	assert_true(outbox_inflight(env->ob) > 0);
	assert_int_equal(outbox_add_notifier(env->ob, &nb), 0);
	assert_int_equal(outbox_add_notifier(env->ob, &nb), -1);
	pump(env);
	assert_int_equal(b.ndelivered, 2);
	/* the deliveries that were running when it came finish too */
	env->a.result = OUTBOX_OK;
	assert_int_equal(answer(&env->a, 2), 2);
	assert_int_equal(outbox_inflight(env->ob), 0);
	assert_int_equal(fixture_count(env->path,
			     "SELECT count(*) FROM outbox WHERE state = "
			     "'delivered'"),
	    4);
}

/* How many times NEEDLE is in HAY. */
static int
count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

/* Start capturing the log at notice level and above. */
static FILE *
log_capture(char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);

	assert_non_null(f);
	log_set_stream(f);
	log_set_level(LOG_LEVEL_NOTICE);
	return f;
}

static void
log_release(FILE *f)
{
	fflush(f);
	log_set_stream(NULL);
	fclose(f);
}

/*
 * The log tells an operator what the outbox does not show by itself: a
 * notifier's first failure (not every one), again after an hour of them,
 * its recovery, and every alert that dies.
 */
static void
test_failures_logged(void **state)
{
	struct env *env = *state;
	char *text = NULL;
	size_t len = 0;
	FILE *f = log_capture(&text, &len);

	enqueue(env, 2);
	start(env, 0);
	env->a.result = OUTBOX_TEMPFAIL;
	/* the receiver's words, escaped once in the log */
	env->a.error = "HTTP 503: {\"ok\":false}";
	pump(env);
	fake_now += 10;
	pump(env);
	assert_int_equal(env->a.ndelivered, 4);
	fake_now += 2 * 3600; /* past every wait */
	pump(env);
	env->a.result = OUTBOX_OK;
	fake_now += 3 * 3600;
	pump(env);
	enqueue(env, 1);
	env->a.result = OUTBOX_PERMFAIL;
	env->a.error = "HTTP 400: \\o/\nbad";
	pump(env);
	log_release(f);
	assert_int_equal(count_of(text,
			     "notifier a: delivery failed: HTTP 503: "
			     "{\"ok\":false}; its alerts wait in the outbox"),
	    1);
	assert_int_equal(count_of(text, "notifier a: still failing"), 1);
	assert_int_equal(count_of(text, "notifier a: delivers again"), 1);
	assert_int_equal(count_of(text,
			     "is dead: HTTP 400: \\o/\\nbad; 'feedwatch "
			     "outbox retry "),
	    1);
	assert_int_equal(count_of(text, "warning: "), 3);
	free(text);
}

/*
 * And no more: a receiver failing on and off says so once an hour, not
 * at every failure and OK; a recovery after a restart is said once; a
 * burst of dead alerts is listed up to ten a minute, then counted.
 */
static void
test_failures_logged_sparingly(void **state)
{
	struct env *env = *state;
	char *text = NULL;
	size_t len = 0;
	FILE *f = log_capture(&text, &len);
	int i;

	start(env, 0);
	for (i = 0; i < 3; i++) { /* fail, OK, in turn, within the hour */
		enqueue(env, 1);
		env->a.result = OUTBOX_TEMPFAIL;
		env->a.error = "HTTP 429";
		pump(env);
		fake_now += 1;
		enqueue(env, 1);
		env->a.result = OUTBOX_OK;
		pump(env);
		fake_now += 60;
	}
	/* a new outage, minutes after the recovery the log said: said */
	fake_now += 400;
	enqueue(env, 1);
	env->a.result = OUTBOX_TEMPFAIL;
	pump(env);
	fake_now += 1;
	enqueue(env, 1);
	env->a.result = OUTBOX_OK;
	pump(env);
	/* a restart: the failed rows go through */
	outbox_free(env->ob);
	env->ob = NULL;
	start(env, 0);
	fake_now += 3600;
	pump(env);
	pump(env);
	/* fifteen refused for good in the same second, one a minute later */
	enqueue(env, 15);
	env->a.result = OUTBOX_PERMFAIL;
	env->a.error = "HTTP 400";
	pump(env);
	fake_now += 61; /* the count, at its minute, with nothing more */
	pump(env);
	fflush(f);
	assert_int_equal(count_of(text,
			     "outbox: 5 more alerts to a died "
			     "within a minute"),
	    1);
	fake_now += 1;
	enqueue(env, 1);
	pump(env);
	log_release(f);
	assert_int_equal(count_of(text, "notifier a: delivery failed"), 2);
	assert_int_equal(
	    count_of(text, "notifier a: delivers again, after "), 2);
	assert_int_equal(count_of(text,
			     "notifier a: delivers again: an alert "
			     "that had failed 1 time went through"),
	    1);
	assert_int_equal(count_of(text, "is dead: HTTP 400"), 11);
	assert_int_equal(count_of(text,
			     "outbox: 5 more alerts to a died "
			     "within a minute"),
	    1);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_ok_and_permfail, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_backoff_until_dead, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_retry_after_and_total, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_short_total, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_wake_on_recovery, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_probe_wakes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_probe_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_woken_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_wake_keeps_retry_after, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_wake_on_reconfigure, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_parked_not_steps, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_parked_no_outage, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_parked_until_dead, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inflight_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_add_while_inflight, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_inflight_recovery, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_loop, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_failures_logged, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_failures_logged_sparingly, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

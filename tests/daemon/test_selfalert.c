/* selfalert: feeds failing past the threshold raise one alert together,
 * once; recoveries one more; feeds no longer configured are forgotten;
 * the outbox backlog with its hysteresis; all of it kept across a
 * reopened store. On real SQLite files in a temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alert.h"
#include "config.h"
#include "selfalert.h"
#include "store.h"
#include "xmalloc.h"

#define NOW 1700000000

static const char conf_yaml[] = "notifiers:\n"
				"  ops: {type: console}\n"
				"  mail: {type: console}\n"
				"self_alerts:\n"
				"  notify: [ops, mail]\n"
				"  feed_failing_for: 1h\n"
				"  outbox_pending_for: 10m\n"
				"  outbox_pending_rows: 4\n"
				"  severity: critical\n";

struct env {
	char dir[64];
	char path[128];
	struct store *st;
	struct config *cf;
	struct selfalert *sa;
};

static int
setup_with(void **state, const char *yaml)
{
	struct env *env = xcalloc(1, sizeof *env);
	char *cause = NULL;

	snprintf(env->dir, sizeof env->dir, "/tmp/fw-self-XXXXXX");
	if (mkdtemp(env->dir) == NULL)
		return -1;
	snprintf(env->path, sizeof env->path, "%s/state.db", env->dir);
	env->cf = config_parse("t.yaml", yaml, strlen(yaml), &cause);
	if (env->cf == NULL ||
	    (env->st = store_open(env->path, &cause)) == NULL ||
	    (env->sa = selfalert_new(env->st, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return -1;
	}
	*state = env;
	return 0;
}

static int
setup(void **state)
{
	return setup_with(state, conf_yaml);
}

/* The feed checks alone: the alerts' own rows stay pending here. */
static int
setup_feeds(void **state)
{
	static const char yaml[] = "notifiers:\n"
				   "  ops: {type: console}\n"
				   "  mail: {type: console}\n"
				   "self_alerts:\n"
				   "  notify: [ops, mail]\n"
				   "  feed_failing_for: 1h\n"
				   "  outbox_pending_for: off\n"
				   "  severity: critical\n";

	return setup_with(state, yaml);
}

static int
teardown(void **state)
{
	struct env *env = *state;
	char cmd[160];

	selfalert_free(env->sa);
	store_close(env->st);
	config_free(env->cf);
	snprintf(cmd, sizeof cmd, "rm -rf %s", env->dir);
	if (system(cmd) != 0)
		return -1;
	free(env);
	return 0;
}

static int
check(
    struct env *env, const struct selfalert_feed *feeds, size_t n, int64_t now)
{
	char *cause = NULL;
	int rc = selfalert_check(env->sa, env->cf, feeds, n, now, &cause);

	if (rc == -1)
		fail_msg("check: %s", cause);
	return rc;
}

/* The alerts enqueued so far (one row per notifier), oldest first; the
 * caller frees them with alert_free. */
static size_t
alerts(struct env *env, struct alert **out, size_t max)
{
	struct store_outbox_row *rows;
	size_t nrows, i, n = 0;
	char *cause = NULL;

	assert_int_equal(
	    store_outbox_list(env->st, -1, &rows, &nrows, &cause), 0);
	for (i = 0; i < nrows; i++) {
		if (strcmp(rows[i].notifier, "ops") != 0)
			continue;
		assert_true(n < max);
		out[n] = alert_from_json(
		    rows[i].payload, strlen(rows[i].payload), &cause);
		assert_non_null(out[n]);
		assert_string_equal(out[n]->watchlist, rows[i].watchlist);
		assert_string_equal(out[n]->id, rows[i].alert_id);
		n++;
	}
	/* Every alert went to both notifiers, with the same alert id. */
	assert_int_equal(nrows, 2 * n);
	store_outbox_rows_free(rows, nrows);
	return n;
}

static void
free_alerts(struct alert **a, size_t n)
{
	while (n-- > 0)
		alert_free(a[n]);
}

static void
test_feeds(void **state)
{
	struct env *env = *state;
	struct selfalert_feed f[3];
	struct alert *a[8];
	char *cause = NULL;

	memset(f, 0, sizeof f);
	f[0].url = "http://a.example/feed";
	f[0].name = "a";
	f[1].url = "http://b.example/feed";
	f[1].name = "b";
	f[2].url = "http://c.example/feed";
	f[2].name = "c";
	/* a and b fail from NOW; c is fine. Not yet an hour: nothing. */
	f[0].failing_since = f[1].failing_since = NOW;
	f[0].consecutive_failures = f[1].consecutive_failures = 4;
	f[0].last_error = "http: 500 Internal Server Error";
	f[1].last_success_at = NOW - 600;
	assert_int_equal(check(env, f, 3, NOW + 3599), 0);
	assert_int_equal(alerts(env, a, 8), 0);
	/* An hour: one alert for both. */
	assert_int_equal(check(env, f, 3, NOW + 3600), 1);
	assert_int_equal(alerts(env, a, 8), 1);
	assert_string_equal(a[0]->watchlist, SELFALERT_FEED_FAILING);
	assert_string_equal(a[0]->severity, "critical");
	assert_string_equal(
	    a[0]->item_title, "2 feeds failing for more than 1h");
	assert_non_null(strstr(a[0]->item_summary,
	    "a <http://a.example/feed>: failing since 2023-11-14T22:13:20Z"));
	assert_non_null(strstr(a[0]->item_summary,
	    "last error: http: 500 Internal Server Error; last success: "
	    "never"));
	assert_non_null(
	    strstr(a[0]->item_summary, "last success: 2023-11-14T22:03:20Z"));
	assert_null(a[0]->feed_url);
	free_alerts(a, 1);
	assert_int_equal(selfalert_raised(env->sa), 2);
	/* Still failing: no second alert, also after a restart. */
	assert_int_equal(check(env, f, 3, NOW + 7200), 0);
	selfalert_free(env->sa);
	store_close(env->st);
	assert_non_null(env->st = store_open(env->path, &cause));
	assert_non_null(env->sa = selfalert_new(env->st, &cause));
	assert_int_equal(selfalert_raised(env->sa), 2);
	assert_int_equal(check(env, f, 3, NOW + 7300), 0);
	/* c fails too, later: its own alert, naming its feed. */
	f[2].failing_since = NOW + 7300;
	f[2].gone = 1;
	assert_int_equal(check(env, f, 3, NOW + 7300 + 3600), 1);
	assert_int_equal(alerts(env, a, 8), 2);
	assert_string_equal(
	    a[1]->item_title, "Feed \"c\" gone for more than 1h");
	assert_string_equal(a[1]->feed_url, "http://c.example/feed");
	free_alerts(a, 2);
	/* a recovers: one recovery, severity info. */
	f[0].failing_since = 0;
	assert_int_equal(check(env, f, 3, NOW + 20000), 1);
	assert_int_equal(alerts(env, a, 8), 3);
	assert_string_equal(a[2]->watchlist, SELFALERT_FEED_RECOVERED);
	assert_string_equal(a[2]->severity, "info");
	assert_string_equal(a[2]->item_title, "Feed \"a\" recovered");
	free_alerts(a, 3);
	assert_int_equal(check(env, f, 3, NOW + 20001), 0);
	/* b leaves the configuration: forgotten without an alert; a
	 * failing again is a new episode. */
	f[1] = f[2];
	f[0].failing_since = NOW + 20000;
	assert_int_equal(check(env, f, 2, NOW + 20001), 0);
	assert_int_equal(selfalert_raised(env->sa), 1);
	assert_int_equal(check(env, f, 2, NOW + 20000 + 3600), 1);
	assert_int_equal(alerts(env, a, 8), 4);
	assert_string_equal(
	    a[3]->item_title, "Feed \"a\" failing for more than 1h");
	free_alerts(a, 4);
}

/* Enqueue N plain alerts for notifier "ops" created at T. */
static void
enqueue(struct env *env, int n, int64_t t)
{
	struct store_alert sa;
	const char *ops = "ops";
	char id[37], *cause = NULL;

	while (n-- > 0) {
		alert_new_id(id);
		memset(&sa, 0, sizeof sa);
		sa.alert_id = id;
		sa.watchlist = "w";
		sa.notifiers = &ops;
		sa.nnotifiers = 1;
		sa.payload = "{}";
		assert_int_equal(store_self_alert_set(env->st, NULL, 0, 1, t,
				     &sa, "http://x.example/", id, &cause),
		    0);
	}
}

static void
test_outbox(void **state)
{
	struct env *env = *state;
	struct store_outbox_row *rows;
	struct alert *a[4];
	size_t nrows, i;
	char *cause = NULL;

	/* Two rows pending for nine minutes: under both thresholds. */
	enqueue(env, 2, NOW);
	assert_int_equal(check(env, NULL, 0, NOW + 540), 0);
	/* Ten minutes: backing up. */
	assert_int_equal(check(env, NULL, 0, NOW + 600), 1);
	assert_int_equal(
	    store_outbox_list(env->st, -1, &rows, &nrows, &cause), 0);
	assert_int_equal(nrows, 4);
	assert_non_null(a[0] = alert_from_json(
			    rows[2].payload, strlen(rows[2].payload), &cause));
	assert_string_equal(a[0]->watchlist, SELFALERT_OUTBOX_BACKLOG);
	assert_string_equal(a[0]->item_title,
	    "Outbox backing up: 2 alerts pending, the oldest for 10m");
	alert_free(a[0]);
	assert_int_equal(check(env, NULL, 0, NOW + 700), 0);
	/* Delivered: the age falls under half the threshold (the rows of
	 * the alert itself are young); recovered, once. */
	for (i = 0; i < nrows; i++)
		if (rows[i].created_at == NOW)
			assert_int_equal(
			    store_outbox_drop(env->st, rows[i].id, &cause), 0);
	store_outbox_rows_free(rows, nrows);
	assert_int_equal(check(env, NULL, 0, NOW + 800), 1);
	assert_int_equal(check(env, NULL, 0, NOW + 801), 0);
	/* More than four rows pending, however young: backing up (the two
	 * alerts' four rows and three more); still above half the limit at
	 * the next check: no recovery. */
	enqueue(env, 3, NOW + 900);
	assert_int_equal(check(env, NULL, 0, NOW + 901), 1);
	assert_int_equal(check(env, NULL, 0, NOW + 902), 0);
}

/* Off: no check, nothing raised. */
static void
test_off(void **state)
{
	struct env *env = *state;
	static const char yaml[] = "notifiers: {ops: {type: console}}\n";
	struct config *cf;
	struct selfalert_feed f;
	char *cause = NULL;

	assert_non_null(
	    cf = config_parse("t.yaml", yaml, sizeof yaml - 1, &cause));
	assert_int_equal(selfalert_period_ms(cf), 0);
	memset(&f, 0, sizeof f);
	f.url = "http://a.example/";
	f.name = "a";
	f.failing_since = 1;
	assert_int_equal(selfalert_check(env->sa, cf, &f, 1, NOW, &cause), 0);
	assert_int_equal(selfalert_raised(env->sa), 0);
	config_free(cf);
	/* The period: a quarter of the shortest threshold, in [1s, 30s]. */
	assert_int_equal(selfalert_period_ms(env->cf), 30000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_feeds, setup_feeds, teardown),
	    cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_off, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

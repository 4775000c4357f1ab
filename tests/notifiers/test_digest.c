/* Rate limits and digests (notifier.c): alerts over the limit are held
 * and sent as one digest per watchlist, every delivery is answered once
 * with its digest's outcome, and a notifier freed while holding answers
 * nothing (the outbox sends those again). Real receivers on 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "alert.h"
#include "curlev.h"
#include "notifier.h"
#include "notify_helper.h"

#define SECRET "whsec_dGhpcyBpcyB0aGUgbmV3IGtleSBvZiB0aGUgdGVzdHM="
#define MAX_JOBS 64

struct fixture {
	struct nh_env env; /* receivers: the webhook's, the SMTP one */
	char log[512];
	char url[160];
	char mailurl[160];
	char ca[600];
	char maillog[512];
};

/* One delivery's answers (must be exactly one). */
struct answer {
	int calls;
	enum notifier_status status;
	int64_t retry_after;
	struct timespec at;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char line[128];
	int port;

	nh_env_init(&f->env, 1);
	snprintf(f->log, sizeof f->log, "%s/webhook.jsonl", f->env.dir);
	const char *argv[] = {NH_PYTHON, NH_SERVERS "/webhook_receiver.py",
	    "--log", f->log, "--secret", SECRET, NULL};
	f->env.pids[0] = nh_spawn(argv, line, sizeof line);
	assert_int_equal(sscanf(line, "PORT %d", &port), 1);
	snprintf(f->url, sizeof f->url, "url=http://127.0.0.1:%d/", port);

	snprintf(f->maillog, sizeof f->maillog, "%s/mail.jsonl", f->env.dir);
	snprintf(f->ca, sizeof f->ca, "ca_file=%s/cert.pem", f->env.dir);
	const char *sargv[] = {NH_PYTHON, NH_SERVERS "/smtp_receiver.py",
	    "--dir", f->env.dir, "--log", f->maillog, NULL};
	f->env.pids[1] = nh_spawn(sargv, line, sizeof line);
	assert_int_equal(sscanf(line, "PORT %d", &port), 1);
	snprintf(
	    f->mailurl, sizeof f->mailurl, "url=smtp://127.0.0.1:%d", port);
	*state = f;
	return 0;
}

static void
answer_cb(const struct notifier_result *res, void *arg)
{
	struct answer *a = arg;

	a->calls++;
	a->status = res->status;
	a->retry_after = res->retry_after;
	clock_gettime(CLOCK_MONOTONIC, &a->at);
}

static int64_t
elapsed_ms(const struct timespec *from, const struct timespec *to)
{
	return (to->tv_sec - from->tv_sec) * 1000 +
	    (to->tv_nsec - from->tv_nsec) / 1000000;
}

/* Deliver alert ids "<prefix><i>" for watchlist[i]; no answer may come
 * from inside notifier_deliver(). */
static void
deliver_all(struct notifier *n, const char *prefix, const char **watchlists,
    size_t count, struct answer *answers)
{
	struct alert *a;
	char id[64], *json, *cause = NULL;
	size_t i;

	for (i = 0; i < count; i++) {
		snprintf(id, sizeof id, "%s%zu", prefix, i);
		a = nh_alert(id);
		free(a->watchlist);
		a->watchlist = strdup(watchlists[i]);
		json = alert_to_json(a);
		assert_int_equal(notifier_deliver(n, id, json, strlen(json), 1,
				     answer_cb, &answers[i], &cause),
		    0);
		assert_int_equal(answers[i].calls, 0);
		free(json);
		alert_free(a);
	}
}

/* Run the loop until every delivery is answered or timeout_ms. */
static void
wait_all(
    struct fixture *f, struct answer *answers, size_t count, int timeout_ms)
{
	struct timespec start, now;
	size_t i, done;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		for (i = done = 0; i < count; i++)
			done += answers[i].calls > 0;
		if (done == count)
			break;
		event_base_loop(f->env.base, EVLOOP_ONCE);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (elapsed_ms(&start, &now) > timeout_ms)
			fail_msg("%zu of %zu answered in %d ms", done, count,
			    timeout_ms);
	}
	/* A few more turns: a second answer would show now. */
	for (i = 0; i < 5; i++)
		event_base_loop(f->env.base, EVLOOP_NONBLOCK);
	for (i = 0; i < count; i++)
		assert_int_equal(answers[i].calls, 1);
}

static json_t *
received(const char *log, size_t expect)
{
	return nh_received(log, expect, 3000);
}

/* How many times alert id "<prefix><i>" reached the receiver, one or
 * several per request (digests); *digests counts digest requests. */
static void
count_ids(json_t *requests, const char *prefix, size_t count, int *seen,
    size_t *digests)
{
	json_t *req, *body, *alerts, *doc;
	size_t i, j, k;
	const char *id;

	memset(seen, 0, count * sizeof *seen);
	*digests = 0;
	json_array_foreach(requests, i, req)
	{
		assert_true(json_is_true(json_object_get(req, "verified")));
		body = json_loads(
		    json_string_value(json_object_get(req, "body")), 0, NULL);
		assert_non_null(body);
		alerts = json_object_get(body, "alerts");
		if (alerts != NULL) {
			(*digests)++;
			assert_string_equal(
			    json_string_value(json_object_get(body, "type")),
			    "digest");
			assert_int_equal(
			    json_integer_value(json_object_get(body, "count")),
			    json_array_size(alerts));
		}
		for (j = 0; j < (alerts != NULL ? json_array_size(alerts) : 1);
		     j++) {
			doc = alerts != NULL ? json_array_get(alerts, j) : body;
			id = json_string_value(json_object_get(doc, "id"));
			assert_non_null(id);
			assert_memory_equal(id, prefix, strlen(prefix));
			k = strtoul(id + strlen(prefix), NULL, 10);
			assert_true(k < count);
			seen[k]++;
		}
		json_decref(body);
	}
}

static void
test_options(void **state)
{
	struct fixture *f = *state;
	struct notifier *n;
	char *cause;
	size_t i;
	static const char *const bad_rates[] = {
	    "x", "0/min", "30", "30/day", "-1/s", "30/min ", "100001/s"};
	static const struct {
		const char *v;
		int ok;
	} durations[] = {{"1d", 1}, {"24h", 1}, {"1h30m", 1}, {"90", 1},
	    {"90s", 1}, {"2m30s", 1}, {"1500ms", 1}, {"1w", 0}, {"1y", 0},
	    {"d", 0}, {"1.5h", 0}, {"1h30", 0}, {"1d ", 0}, {" 1d", 0},
	    {"+5s", 0}, {"-5s", 0}, {"1000000000000000000000s", 0}, {"5 s", 0},
	    {"0x10s", 0}};

	for (i = 0; i < sizeof bad_rates / sizeof bad_rates[0]; i++) {
		char opt[64];

		snprintf(opt, sizeof opt, "rate_limit=%s", bad_rates[i]);
		n = nh_notifier("console", &f->env.ctx, &cause, opt, NULL);
		assert_null(n);
		assert_non_null(strstr(cause, "rate_limit"));
		free(cause);
	}
	n = nh_notifier(
	    "console", &f->env.ctx, &cause, "rate_limit=30/min", NULL);
	assert_non_null(n);
	notifier_free(n);
	/* Digests only where a backend renders them. */
	n = nh_notifier("console", &f->env.ctx, &cause, "digest=15m", NULL);
	assert_null(n);
	assert_non_null(strstr(cause, "cannot send digests"));
	free(cause);
	n = nh_notifier("webhook", &f->env.ctx, &cause, f->url, "preset=slack",
	    "digest=15m", NULL);
	assert_null(n);
	assert_non_null(strstr(cause, "default body"));
	free(cause);
	n = nh_notifier(
	    "webhook", &f->env.ctx, &cause, f->url, "digest=500ms", NULL);
	assert_null(n);
	free(cause);
	n = nh_notifier("webhook", &f->env.ctx, &cause, f->url, "digest=15m",
	    "allow_private=true", NULL);
	assert_non_null(n);
	notifier_free(n);
	/* durations as the configuration writes them, or plain seconds; a
	 * week is one, but longer than a digest's window may be */
	for (i = 0; i < sizeof durations / sizeof durations[0]; i++) {
		char opt[64];

		snprintf(opt, sizeof opt, "digest=%s", durations[i].v);
		n = nh_notifier("webhook", &f->env.ctx, &cause, f->url, opt,
		    "allow_private=true", NULL);
		if ((n != NULL) != durations[i].ok)
			fail_msg("%s: %s", opt, n != NULL ? "taken" : cause);
		if (n == NULL) {
			assert_non_null(strstr(cause, "digest"));
			free(cause);
		}
		notifier_free(n);
	}
}

/* 3/s: the first three go alone at once, the rest wait for the limit and
 * go as one digest per watchlist; every alert arrives exactly once. */
static void
test_rate_limit_digest(void **state)
{
	struct fixture *f = *state;
	struct answer answers[12] = {{0}};
	const char *wl[12];
	struct timespec start;
	struct notifier *n;
	json_t *reqs;
	char *cause;
	int seen[12];
	size_t i, digests;

	for (i = 0; i < 12; i++)
		wl[i] = i % 4 == 3 ? "other" : "iraq-coalition";
	n = nh_notifier("webhook", &f->env.ctx, &cause, f->url,
	    "secret=" SECRET, "allow_private=true", "rate_limit=3/s", NULL);
	assert_non_null(n);
	clock_gettime(CLOCK_MONOTONIC, &start);
	deliver_all(n, "rl-", wl, 12, answers);
	assert_int_equal(notifier_inflight(n), 12);
	assert_int_equal(notifier_held(n), 9);
	wait_all(f, answers, 12, 5000);
	for (i = 0; i < 12; i++) {
		assert_int_equal(answers[i].status, NOTIFIER_OK);
		if (i < 3)
			assert_true(elapsed_ms(&start, &answers[i].at) < 900);
		else
			assert_true(elapsed_ms(&start, &answers[i].at) >= 900);
	}
	assert_int_equal(notifier_held(n), 0);
	assert_int_equal(notifier_inflight(n), 0);
	/* 3 alone + 2 digests ("iraq-coalition" x7, "other" x2... in
	 * arrival order, as the limit allows: 3 sends a second). */
	reqs = received(f->log, 5);
	count_ids(reqs, "rl-", 12, seen, &digests);
	for (i = 0; i < 12; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(digests, 2);
	assert_int_equal(json_array_size(reqs), 5);
	json_decref(reqs);
	notifier_free(n);
}

/* digest: 1s gathers everything, then one POST per watchlist; a receiver
 * answering 503 makes every member TEMPFAIL with its Retry-After. */
static void
test_digest_window(void **state)
{
	struct fixture *f = *state;
	struct answer answers[5] = {{0}}, failed[3] = {{0}};
	const char *wl[] = {"a", "b", "a", "a", "b"};
	struct timespec start;
	struct notifier *n;
	json_t *reqs;
	char *cause, url[200];
	int seen[5];
	size_t i, digests;

	n = nh_notifier("webhook", &f->env.ctx, &cause, f->url,
	    "secret=" SECRET, "allow_private=true", "digest=1s", NULL);
	assert_non_null(n);
	clock_gettime(CLOCK_MONOTONIC, &start);
	deliver_all(n, "dw-", wl, 5, answers);
	assert_int_equal(notifier_held(n), 5);
	wait_all(f, answers, 5, 5000);
	for (i = 0; i < 5; i++) {
		assert_int_equal(answers[i].status, NOTIFIER_OK);
		assert_true(elapsed_ms(&start, &answers[i].at) >= 950);
	}
	reqs = received(f->log, 2);
	assert_int_equal(json_array_size(reqs), 2);
	count_ids(reqs, "dw-", 5, seen, &digests);
	assert_int_equal(digests, 2);
	for (i = 0; i < 5; i++)
		assert_int_equal(seen[i], 1);
	json_decref(reqs);
	notifier_free(n);

	snprintf(url, sizeof url, "%sstatus/503?retry_after=7", f->url);
	n = nh_notifier("webhook", &f->env.ctx, &cause, url,
	    "allow_private=true", "digest=1s", NULL);
	assert_non_null(n);
	deliver_all(n, "tf-", wl, 3, failed);
	wait_all(f, failed, 3, 5000);
	for (i = 0; i < 3; i++) {
		assert_int_equal(failed[i].status, NOTIFIER_TEMPFAIL);
		assert_int_equal(failed[i].retry_after, 7);
	}
	notifier_free(n);
}

/* Freed while holding: nothing is answered (the outbox sends them again
 * at the next start), nothing is sent, nothing leaks. */
static void
test_free_while_held(void **state)
{
	struct fixture *f = *state;
	struct answer answers[4] = {{0}};
	const char *wl[] = {"a", "a", "a", "a"};
	struct notifier *n;
	char *cause, *log;
	size_t i;

	n = nh_notifier("webhook", &f->env.ctx, &cause, f->url,
	    "allow_private=true", "digest=1h", NULL);
	assert_non_null(n);
	deliver_all(n, "fh-", wl, 4, answers);
	for (i = 0; i < 10; i++)
		event_base_loop(f->env.base, EVLOOP_NONBLOCK);
	notifier_free(n);
	for (i = 0; i < 10; i++)
		event_base_loop(f->env.base, EVLOOP_NONBLOCK);
	for (i = 0; i < 4; i++)
		assert_int_equal(answers[i].calls, 0);
	log = nh_read_file(f->log);
	assert_true(log == NULL || strstr(log, "fh-") == NULL);
	free(log);
}

/* notifier_flush() sends what is held without waiting for the window. */
static void
test_flush(void **state)
{
	struct fixture *f = *state;
	struct answer answers[3] = {{0}};
	const char *wl[] = {"a", "a", "a"};
	struct notifier *n;
	char *cause;
	size_t i;

	n = nh_notifier("webhook", &f->env.ctx, &cause, f->url,
	    "secret=" SECRET, "allow_private=true", "digest=1h", NULL);
	assert_non_null(n);
	deliver_all(n, "fl-", wl, 3, answers);
	notifier_flush(n);
	wait_all(f, answers, 3, 3000);
	for (i = 0; i < 3; i++)
		assert_int_equal(answers[i].status, NOTIFIER_OK);
	notifier_free(n);
}

/* The email digest: one message per watchlist per window, every alert in
 * both parts, its own subject and Message-ID. */
static void
test_email_digest(void **state)
{
	struct fixture *f = *state;
	struct answer answers[4] = {{0}};
	const char *wl[] = {
	    "iraq-coalition", "iraq-coalition", "quiet", "iraq-coalition"};
	struct notifier *n;
	json_t *mails, *m, *parts;
	char *cause;
	const char *subject, *text, *html;
	size_t i, j, found_digest = 0;

	n = nh_notifier("email", &f->env.ctx, &cause, f->mailurl, f->ca,
	    "from=feedwatch <fw@example.org>", "to=[ops@example.org]",
	    "allow_private=true", "digest=1s", NULL);
	assert_non_null(n);
	deliver_all(n, "em-", wl, 4, answers);
	wait_all(f, answers, 4, 8000);
	for (i = 0; i < 4; i++)
		assert_int_equal(answers[i].status, NOTIFIER_OK);
	mails = received(f->maillog, 2);
	assert_int_equal(json_array_size(mails), 2);
	json_array_foreach(mails, i, m)
	{
		subject = json_string_value(json_object_get(m, "subject"));
		assert_non_null(subject);
		parts = json_object_get(m, "parts");
		assert_int_equal(json_array_size(parts), 2);
		text = json_string_value(
		    json_object_get(json_array_get(parts, 0), "text"));
		html = json_string_value(
		    json_object_get(json_array_get(parts, 1), "text"));
		if (strcmp(subject, "[iraq-coalition] 3 alerts") == 0) {
			found_digest++;
			for (j = 0; j < 4; j++) {
				char id[16];

				snprintf(id, sizeof id, "em-%zu", j);
				assert_true(
				    (strstr(text, id) != NULL) == (j != 2));
				assert_true(
				    (strstr(html, id) != NULL) == (j != 2));
			}
			/* Feed text stays escaped in the HTML part. */
			assert_null(strstr(html, "<script>"));
			assert_non_null(strstr(
			    json_string_value(json_object_get(m, "message_id")),
			    "digest.em-0.3"));
		} else /* one alert alone is sent as itself */
			assert_non_null(strstr(subject, "Coalition talks"));
	}
	assert_int_equal(found_digest, 1);
	json_decref(mails);
	notifier_free(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_options, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_rate_limit_digest, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_digest_window, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_free_while_held, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(test_flush, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_email_digest, setup, nh_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

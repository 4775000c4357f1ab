/* webhook: Standard Webhooks signing, presets, and POSTs to a real
 * receiver on 127.0.0.1 that verifies signatures and fails on demand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "alert.h"
#include "curlev.h"
#include "notifier.h"
#include "notify_helper.h"
#include "payload.h"
#include "webhook.h"

/* Two keys: the receiver knows only NEW, the notifier signs with both
 * while rotating. */
#define OLD_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define NEW_SECRET "whsec_dGhpcyBpcyB0aGUgbmV3IGtleSBvZiB0aGUgdGVzdHM="

struct fixture {
	struct nh_env env;
	char log[512];
	char url[128];
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
	    "--log", f->log, "--secret", NEW_SECRET, NULL};
	f->env.pids[0] = nh_spawn(argv, line, sizeof line);
	assert_int_equal(sscanf(line, "PORT %d", &port), 1);
	snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", port);
	*state = f;
	return 0;
}

static json_t *
received(struct fixture *f, size_t expect)
{
	return nh_received(f->log, expect, 2000);
}

static void
test_sign_vector(void **state)
{
	char *sig;

	/* The example of the Standard Webhooks libraries' test suites. */
	sig = webhook_sign(OLD_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek",
	    1614265330, "{\"test\": 2432232314}", 20);
	assert_string_equal(
	    sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	free(sig);
	/* Two keys: two signatures, in order. */
	sig = webhook_sign(OLD_SECRET " " NEW_SECRET,
	    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
	    "{\"test\": 2432232314}", 20);
	assert_non_null(sig);
	assert_memory_equal(
	    sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,", 50);
	free(sig);
	assert_null(webhook_sign("whsec_short", "i", 1, "", 0));
	assert_null(
	    webhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "i", 1, "", 0));
}

static void
test_options(void **state)
{
	struct fixture *f = *state;
	struct notifier *n;
	char *cause;
	static const struct {
		const char *kv[3];
		const char *error; /* part of the message, NULL = accepted */
	} cases[] = {
	    {{"url=ftp://x/", NULL}, "http:// or https://"},
	    {{"url=http://exa mple/", NULL}, "Bad hostname"},
	    {{"url=https://:443/", NULL}, "No host part"},
	    {{"url=http://x/", "preset=myspace", NULL}, "unknown preset"},
	    {{"url=http://x/", "secret=whsec_AAAA", NULL}, "whsec_"},
	    {{"url=http://x/", "template={{item.nope}}", NULL},
		"unknown variable"},
	    {{"url=http://x/", "headers=[X-A: b|Bad Header: c]", NULL},
		"Name: value"},
	    {{"url=http://x/", "headers=[webhook-id: x]", NULL},
		"webhook-id is the webhook's own"},
	    {{"url=http://x/", "headers=[Webhook-Timestamp: 1]", NULL},
		"webhook-timestamp is the webhook's own"},
	    {{"url=http://x/", "headers=[webhook-signature: v1,x]", NULL},
		"webhook-signature is the webhook's own"},
	    {{"url=http://x/", "timeout=soon", NULL}, "duration"},
	    {{"url=https://ntfy.sh/", "preset=ntfy", NULL}, "topic"},
	    {{"url=http://x/", "preset=slack", "secret=" NEW_SECRET}, NULL},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = nh_notifier("webhook", &f->env.ctx, &cause, cases[i].kv[0],
		    cases[i].kv[1], cases[i].kv[2], NULL);
		if (cases[i].error == NULL) {
			assert_non_null(n);
		} else {
			assert_null(n);
			if (strstr(cause, cases[i].error) == NULL)
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
				    cause, cases[i].error);
		}
		notifier_free(n);
		free(cause);
	}
}

/* Signed with both keys, verified by a receiver that knows one; the
 * webhook-id is the outbox id, the same on a retry. */
static void
test_post_signed(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-1");
	struct nh_result r;
	struct notifier *n;
	char url[256], *cause, *expect;
	json_t *got, *e;

	snprintf(url, sizeof url, "url=%s/hook", f->url);
	n = nh_notifier("webhook", &f->env.ctx, &cause, url,
	    "secret=[" OLD_SECRET "|" NEW_SECRET "]", "allow_private=true",
	    "headers=[X-Test: yes]", NULL);
	assert_non_null(n);
	nh_deliver(f->env.base, n, "outbox-17", a, 1, &r, 5000);
	assert_int_equal(r.status, NOTIFIER_OK);
	nh_deliver(f->env.base, n, "outbox-17", a, 2, &r, 5000);
	assert_int_equal(r.status, NOTIFIER_OK);
	got = received(f, 2);
	expect = alert_to_json(a);
	for (size_t i = 0; i < 2; i++) {
		e = json_array_get(got, i);
		assert_true(json_is_true(json_object_get(e, "verified")));
		assert_string_equal(
		    json_string_value(json_object_get(e, "id")), "outbox-17");
		assert_string_equal(
		    json_string_value(json_object_get(e, "body")), expect);
		assert_string_equal(
		    json_string_value(json_object_get(e, "content_type")),
		    "application/json");
		assert_string_equal(
		    json_string_value(json_object_get(e, "x_test")), "yes");
	}
	/* The receiver saw the retry as a duplicate of a known id. */
	assert_true(
	    json_is_true(json_object_get(json_array_get(got, 1), "duplicate")));
	free(expect);
	json_decref(got);
	notifier_free(n);
	alert_free(a);
}

/* A custom Content-Type is sent instead of the built-in one, not beside
 * it; the request is still signed. */
static void
test_custom_headers(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-5");
	struct nh_result r;
	struct notifier *n;
	char url[256], *cause;
	json_t *got, *e;

	snprintf(url, sizeof url, "url=%s/hook", f->url);
	n = nh_notifier("webhook", &f->env.ctx, &cause, url,
	    "secret=" NEW_SECRET, "allow_private=yes",
	    "headers=[content-type: text/plain; charset=utf-8|X-Test: yes]",
	    NULL);
	assert_non_null(n);
	nh_deliver(f->env.base, n, "outbox-19", a, 1, &r, 5000);
	assert_int_equal(r.status, NOTIFIER_OK);
	got = received(f, 1);
	e = json_array_get(got, 0);
	assert_string_equal(
	    json_string_value(json_object_get(e, "content_type")),
	    "text/plain; charset=utf-8");
	assert_true(json_is_true(json_object_get(e, "verified")));
	assert_string_equal(
	    json_string_value(json_object_get(e, "x_test")), "yes");
	json_decref(got);
	notifier_free(n);
	alert_free(a);
}

/* A notifier signing with a key the receiver does not know: rejected. */
static void
test_post_wrong_key(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-2");
	struct nh_result r;
	struct notifier *n;
	char url[256], *cause;
	json_t *got;

	snprintf(url, sizeof url, "url=%s/hook", f->url);
	n = nh_notifier("webhook", &f->env.ctx, &cause, url,
	    "secret=" OLD_SECRET, "allow_private=yes", NULL);
	nh_deliver(f->env.base, n, "outbox-18", a, 1, &r, 5000);
	assert_int_equal(r.status, NOTIFIER_PERMFAIL);
	assert_non_null(strstr(r.error, "HTTP 401"));
	got = received(f, 1);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(got, 0), "reason")),
	    "bad signature");
	json_decref(got);
	notifier_free(n);
	alert_free(a);
}

/* A blocking POST for the replay and tamper checks of the receiver. */
static long
raw_post(struct fixture *f, const char *id, long long ts, const char *sig,
    const char *body)
{
	struct curl_slist *h = NULL;
	char url[256], line[512];
	CURL *c = curl_easy_init();
	long status = 0;

	snprintf(url, sizeof url, "%s/hook", f->url);
	snprintf(line, sizeof line, "webhook-id: %s", id);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof line, "webhook-timestamp: %lld", ts);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof line, "webhook-signature: %s", sig);
	h = curl_slist_append(h, line);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fwrite);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, stderr);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

/* The timestamp is signed: a capture replayed 6 minutes later fails, as
 * does one flipped body byte; a fresh signature passes. */
static void
test_replay_and_tamper(void **state)
{
	struct fixture *f = *state;
	long long now = (long long)time(NULL);
	const char *body = "{\"version\":1}";
	char *sig;

	sig = webhook_sign(NEW_SECRET, "m1", now, body, strlen(body));
	assert_int_equal(raw_post(f, "m1", now, sig, body), 200);
	assert_int_equal(raw_post(f, "m1", now, sig, "{\"version\":2}"), 401);
	free(sig);
	sig = webhook_sign(NEW_SECRET, "m2", now - 360, body, strlen(body));
	assert_int_equal(raw_post(f, "m2", now - 360, sig, body), 401);
	free(sig);
}

static void
test_failures(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-3");
	static const struct {
		const char *path;
		const char *timeout;
		enum notifier_status status;
		long long retry_after;
		const char *error;
	} cases[] = {
	    /* the receiver's words as they are: printing escapes them */
	    {"/status/500", "5s", NOTIFIER_TEMPFAIL, -1,
		"HTTP 500: {\"ok\":false}"},
	    {"/status/503?retry_after=120", "5s", NOTIFIER_TEMPFAIL, 120,
		"HTTP 503"},
	    {"/status/429?retry_after=7", "5s", NOTIFIER_TEMPFAIL, 7,
		"HTTP 429"},
	    {"/status/408", "5s", NOTIFIER_TEMPFAIL, -1, "HTTP 408"},
	    {"/status/400", "5s", NOTIFIER_PERMFAIL, -1,
		"HTTP 400: {\"ok\":false}"},
	    {"/status/404", "5s", NOTIFIER_PERMFAIL, -1, "HTTP 404"},
	    {"/status/301", "5s", NOTIFIER_PERMFAIL, -1, "not followed"},
	    {"/status/302", "5s", NOTIFIER_PERMFAIL, -1, "not followed"},
	    {"/sleep/3", "500ms", NOTIFIER_TEMPFAIL, -1, "timed out after"},
	    {"/status/204", "5s", NOTIFIER_OK, -1, ""},
	};
	struct nh_result r;
	struct notifier *n;
	char url[256], timeout[64], *cause;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(url, sizeof url, "url=%s%s", f->url, cases[i].path);
		snprintf(
		    timeout, sizeof timeout, "timeout=%s", cases[i].timeout);
		n = nh_notifier("webhook", &f->env.ctx, &cause, url, timeout,
		    "allow_private=true", "secret=" NEW_SECRET, NULL);
		assert_non_null(n);
		nh_deliver(f->env.base, n, "outbox-20", a, 1, &r, 10000);
		if (r.status != cases[i].status ||
		    r.retry_after != cases[i].retry_after ||
		    strstr(r.error, cases[i].error) == NULL)
			fail_msg("%s: status %d retry_after %lld error \"%s\"",
			    cases[i].path, r.status, r.retry_after, r.error);
		assert_null(notifier_disabled(n));
		notifier_free(n);
	}
	alert_free(a);
}

/* 410: PERMFAIL, then the notifier refuses (TEMPFAIL) until remade. */
static void
test_gone_disables(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-4");
	struct nh_result r;
	struct notifier *n;
	char url[256], *cause;

	snprintf(url, sizeof url, "url=%s/status/410", f->url);
	n = nh_notifier(
	    "webhook", &f->env.ctx, &cause, url, "allow_private=true", NULL);
	nh_deliver(f->env.base, n, "outbox-30", a, 1, &r, 5000);
	assert_int_equal(r.status, NOTIFIER_PERMFAIL);
	assert_non_null(strstr(r.error, "410"));
	assert_false(r.parked);
	assert_non_null(notifier_disabled(n));
	nh_deliver(f->env.base, n, "outbox-31", a, 1, &r, 5000);
	assert_int_equal(r.status, NOTIFIER_TEMPFAIL);
	assert_true(r.retry_after > 0);
	/* its own wait, not the receiver's: a wake may end it */
	assert_true(r.parked);
	assert_non_null(strstr(r.error, "disabled"));
	/* The second alert never reached the receiver. */
	assert_int_equal(nh_wait_lines(f->log, 2, 300), 1);
	notifier_free(n);
	alert_free(a);
}

/* Loopback is refused at connect unless allowed; nothing arrives. A
 * closed port is a connection error: TEMPFAIL. */
static void
test_network_errors(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-5");
	struct nh_result r;
	struct notifier *n;
	char url[256], *cause;
	const char *once;

	snprintf(url, sizeof url, "url=%s/hook", f->url);
	n = nh_notifier("webhook", &f->env.ctx, &cause, url, NULL);
	nh_deliver(f->env.base, n, "outbox-40", a, 1, &r, 5000);
	assert_int_equal(r.status, NOTIFIER_TEMPFAIL);
	/* the guard says so, and what allows it: not "couldn't connect",
	 * which reads as a receiver down */
	assert_non_null(
	    strstr(r.error, "refused to connect to private address 127.0.0.1"));
	assert_non_null(strstr(r.error, "allow_private"));
	notifier_free(n);
	assert_int_equal(nh_wait_lines(f->log, 1, 300), 0);

	n = nh_notifier("webhook", &f->env.ctx, &cause,
	    "url=http://127.0.0.1:1/", "allow_private=true", NULL);
	nh_deliver(f->env.base, n, "outbox-41", a, 1, &r, 5000);
	assert_int_equal(r.status, NOTIFIER_TEMPFAIL);
	/* curl's words once: "Failed to connect to 127.0.0.1 port 1 after
	 * 0 ms: Couldn't connect to server", not its code's text before. */
	assert_non_null(strstr(r.error, "Failed to connect"));
	once = strstr(r.error, "connect to server");
	assert_true(
	    once == NULL || strstr(once + 1, "connect to server") == NULL);
	notifier_free(n);
	alert_free(a);
}

/* Presets and templates arrive as valid JSON carrying escaped text. */
static void
test_presets_and_template(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-6");
	struct nh_result r;
	struct notifier *n;
	char url[256], *cause;
	json_t *got, *body;
	const char *s;

	free(a->item_title);
	a->item_title = strdup("Breaking <!everyone> @here \"quoted\"\r\nline");
	snprintf(url, sizeof url, "url=%s/hook", f->url);
	n = nh_notifier("webhook", &f->env.ctx, &cause, url, "preset=slack",
	    "allow_private=true", "secret=" NEW_SECRET, NULL);
	nh_deliver(f->env.base, n, "outbox-50", a, 1, &r, 5000);
	assert_int_equal(r.status, NOTIFIER_OK);
	notifier_free(n);
	n = nh_notifier("webhook", &f->env.ctx, &cause, url,
	    "template={\"t\": \"{{item.title}}\", \"n\": {{hits.count}}}",
	    "allow_private=true", "secret=" NEW_SECRET, NULL);
	nh_deliver(f->env.base, n, "outbox-51", a, 1, &r, 5000);
	assert_int_equal(r.status, NOTIFIER_OK);
	notifier_free(n);
	snprintf(url, sizeof url, "url=%s/topic-x", f->url);
	n = nh_notifier("webhook", &f->env.ctx, &cause, url, "preset=ntfy",
	    "allow_private=true", "secret=" NEW_SECRET, NULL);
	assert_non_null(n);
	nh_deliver(f->env.base, n, "outbox-52", a, 1, &r, 5000);
	assert_int_equal(r.status, NOTIFIER_OK);
	notifier_free(n);

	got = received(f, 3);
	body = json_loads(
	    json_string_value(json_object_get(json_array_get(got, 0), "body")),
	    0, NULL);
	assert_non_null(body);
	s = json_string_value(json_object_get(body, "text"));
	assert_non_null(strstr(s, "&lt;!everyone&gt;"));
	assert_null(strstr(s, "<!everyone>"));
	assert_null(strchr(s + strcspn(s, "\n") + 1, '\r'));
	json_decref(body);
	body = json_loads(
	    json_string_value(json_object_get(json_array_get(got, 1), "body")),
	    0, NULL);
	assert_non_null(body);
	assert_string_equal(
	    json_string_value(json_object_get(body, "t")), a->item_title);
	assert_int_equal(json_integer_value(json_object_get(body, "n")), 3);
	json_decref(body);
	/* ntfy: JSON published to the root with the topic inside. */
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(got, 2), "path")),
	    "/");
	body = json_loads(
	    json_string_value(json_object_get(json_array_get(got, 2), "body")),
	    0, NULL);
	assert_string_equal(
	    json_string_value(json_object_get(body, "topic")), "topic-x");
	assert_int_equal(
	    json_integer_value(json_object_get(body, "priority")), 4);
	json_decref(body);
	json_decref(got);
	alert_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sign_vector),
	    cmocka_unit_test_setup_teardown(test_options, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_post_signed, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_custom_headers, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_post_wrong_key, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_replay_and_tamper, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(test_failures, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_gone_disables, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_network_errors, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_presets_and_template, setup, nh_teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* email: SMTP to a real aiosmtpd on 127.0.0.1 with STARTTLS and AUTH; the
 * receiver parses each message with Python's email package. */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "alert.h"
#include "curlev.h"
#include "notifier.h"
#include "notify_helper.h"

struct fixture {
	struct nh_env env;
	char log[512], url[128], ca[600], pwfile[600];
};

static int
start(void **state, int tls)
{
	struct fixture *f = calloc(1, sizeof *f);
	char line[128];
	FILE *fp;
	int port;

	nh_env_init(&f->env, 1);
	snprintf(f->log, sizeof f->log, "%s/mail.jsonl", f->env.dir);
	snprintf(f->ca, sizeof f->ca, "ca_file=%s/cert.pem", f->env.dir);
	snprintf(f->pwfile, sizeof f->pwfile, "%s/password", f->env.dir);
	fp = fopen(f->pwfile, "w");
	fputs("s3cret pass\n", fp);
	fclose(fp);
	chmod(f->pwfile, 0600);
	const char *argv[] = {NH_PYTHON, NH_SERVERS "/smtp_receiver.py",
	    "--dir", f->env.dir, "--log", f->log, "--user", "fw", "--password",
	    "s3cret pass", tls ? NULL : "--no-tls", NULL};
	f->env.pids[0] = nh_spawn(argv, line, sizeof line);
	assert_int_equal(sscanf(line, "PORT %d", &port), 1);
	snprintf(f->url, sizeof f->url, "url=smtp://127.0.0.1:%d", port);
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return start(state, 1);
}

static int
setup_notls(void **state)
{
	return start(state, 0);
}

static json_t *
received(struct fixture *f, size_t expect)
{
	return nh_received(f->log, expect, 3000);
}

static struct notifier *
mailer(struct fixture *f, const char *to, const char *password)
{
	struct notifier *n;
	char *cause = NULL;

	n = nh_notifier("email", &f->env.ctx, &cause, f->url,
	    "from=feedwatch <fw@example.net>", to, "username=fw", password,
	    f->ca, "subject=[{{alert.watchlist}}] {{item.title}}", NULL);
	if (n == NULL)
		fail_msg("%s", cause);
	return n;
}

#define S(obj, key) json_string_value(json_object_get(obj, key))

static void
test_send(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-1");
	struct notifier *n;
	struct nh_result r;
	char pw[700];
	json_t *got, *m, *parts, *text, *html;

	snprintf(pw, sizeof pw, "password_file=%s", f->pwfile);
	n = mailer(f, "to=[a@example.org|Bee <b@example.org>]", pw);
	nh_deliver(f->env.base, n, "ob-1", a, 1, &r, 10000);
	if (r.status != NOTIFIER_OK)
		fail_msg("%s", r.error);
	got = received(f, 1);
	m = json_array_get(got, 0);
	assert_true(json_is_true(json_object_get(m, "tls")));
	assert_string_equal(S(m, "auth_login"), "fw");
	assert_string_equal(S(m, "mail_from"), "fw@example.net");
	assert_int_equal(json_array_size(json_object_get(m, "rcpt_tos")), 2);
	/* The decoded subject holds the non-ASCII title as written. */
	assert_string_equal(S(m, "subject"),
	    "[iraq-coalition] Coalition talks: PM Soudani meets \xc3\xa9lus "
	    "& <envoys>");
	assert_non_null(strstr(S(m, "raw_subject"), "=?UTF-8?B?"));
	assert_string_equal(S(m, "message_id"), "<feedwatch.ob-1@example.net>");
	assert_string_equal(S(m, "date"), "Wed, 01 May 2024 12:00:00 +0000");
	assert_string_equal(S(m, "content_type"), "multipart/alternative");
	assert_int_equal(json_array_size(json_object_get(m, "defects")), 0);
	parts = json_object_get(m, "parts");
	assert_int_equal(json_array_size(parts), 2);
	text = json_array_get(parts, 0);
	html = json_array_get(parts, 1);
	assert_string_equal(S(text, "type"), "text/plain");
	assert_string_equal(S(text, "charset"), "utf-8");
	assert_string_equal(S(html, "type"), "text/html");
	assert_non_null(strstr(S(text, "text"), "<script>alert(1)</script>"));
	assert_non_null(strstr(S(text, "text"), "@sudani as \"Soudani\""));
	/* Matches highlighted; feed text escaped. */
	assert_non_null(strstr(S(html, "text"),
	    "<mark>Coalition</mark> talks: PM <mark>Soudani</mark> meets "
	    "\xc3\xa9lus &amp; &lt;envoys&gt;"));
	assert_non_null(strstr(S(html, "text"), "The <mark>coalition</mark>"));
	assert_null(strstr(S(html, "text"), "<script>"));
	assert_non_null(strstr(S(html, "text"), "&lt;script&gt;"));
	json_decref(got);
	notifier_free(n);
	alert_free(a);
}

/* Whether mailbox I of BOX, as the receiver parsed it, is NAME <ADDR>. */
static void
check_mailbox(json_t *box, size_t i, const char *name, const char *addr)
{
	json_t *pair = json_array_get(box, i);

	assert_string_equal(json_string_value(json_array_get(pair, 0)), name);
	assert_string_equal(json_string_value(json_array_get(pair, 1)), addr);
}

/* Display names with a comma, quotes or letters outside ASCII: each
 * is one mailbox to a mail parser, with the name as written. */
static void
test_display_names(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-5");
	struct notifier *n;
	struct nh_result r;
	char *cause = NULL, pw[700];
	json_t *got, *m, *box;

	snprintf(pw, sizeof pw, "password_file=%s", f->pwfile);
	n = nh_notifier("email", &f->env.ctx, &cause, f->url,
	    "from=\xc3\x9c"
	    "berwachung, Ops <fw@example.net>",
	    "to=[\"Desk, Night\" <a@example.org>|Ops \"Night\" Desk "
	    "<b@example.org>|M\xc3\xbcller, Hans <c@example.org>]",
	    "username=fw", pw, f->ca, NULL);
	if (n == NULL)
		fail_msg("%s", cause);
	nh_deliver(f->env.base, n, "ob-5", a, 1, &r, 10000);
	if (r.status != NOTIFIER_OK)
		fail_msg("%s", r.error);
	got = received(f, 1);
	m = json_array_get(got, 0);
	assert_int_equal(json_array_size(json_object_get(m, "defects")), 0);
	box = json_object_get(m, "from_mailboxes");
	assert_int_equal(json_array_size(box), 1);
	check_mailbox(box, 0,
	    "\xc3\x9c"
	    "berwachung, Ops",
	    "fw@example.net");
	box = json_object_get(m, "to_mailboxes");
	assert_int_equal(json_array_size(box), 3);
	check_mailbox(box, 0, "Desk, Night", "a@example.org");
	check_mailbox(box, 1, "Ops \"Night\" Desk", "b@example.org");
	check_mailbox(box, 2, "M\xc3\xbcller, Hans", "c@example.org");
	assert_string_equal(S(m, "mail_from"), "fw@example.net");
	assert_int_equal(json_array_size(json_object_get(m, "rcpt_tos")), 3);
	json_decref(got);
	notifier_free(n);
	alert_free(a);
}

/* Test plan rows 11 and 14: an injected title stays in the subject;
 * 4xx is TEMPFAIL, 5xx PERMFAIL; a reset after the message but before
 * 250 is TEMPFAIL and the resend carries the same Message-ID. */
static void
test_failures(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-2");
	struct notifier *n;
	struct nh_result r;
	json_t *got, *m;
	static const struct {
		const char *to;
		const char *password;
		enum notifier_status status;
		const char *error;
	} cases[] = {
	    {"to=tempfail@example.org", "password=s3cret pass",
		NOTIFIER_TEMPFAIL, "451"},
	    {"to=permfail@example.org", "password=s3cret pass",
		NOTIFIER_PERMFAIL, "550"},
	    {"to=datafail@example.org", "password=s3cret pass",
		NOTIFIER_TEMPFAIL, "451"},
	    {"to=a@example.org", "password=wrong", NOTIFIER_PERMFAIL, "535"},
	    {"to=reset@example.org", "password=s3cret pass", NOTIFIER_TEMPFAIL,
		""},
	};
	size_t i;

	free(a->item_title);
	a->item_title = strdup("Hi\r\nBcc: x@evil.example\r\n.\r\nQUIT");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = mailer(f, cases[i].to, cases[i].password);
		nh_deliver(f->env.base, n, "ob-2", a, 1, &r, 10000);
		if (r.status != cases[i].status ||
		    strstr(r.error, cases[i].error) == NULL)
			fail_msg("%s: status %d \"%s\"", cases[i].to, r.status,
			    r.error);
		notifier_free(n);
	}
	/* datafail and reset delivered a message each; the reset one is
	 * the ambiguous case, and a resend keeps its Message-ID. */
	n = mailer(f, "to=a@example.org", "password=s3cret pass");
	nh_deliver(f->env.base, n, "ob-2", a, 2, &r, 10000);
	assert_int_equal(r.status, NOTIFIER_OK);
	notifier_free(n);
	got = received(f, 3);
	m = json_array_get(got, 1);
	assert_true(json_is_true(json_object_get(m, "reset")));
	assert_string_equal(
	    S(m, "message_id"), S(json_array_get(got, 2), "message_id"));
	for (i = 0; i < 3; i++) {
		m = json_array_get(got, i);
		assert_string_equal(S(m, "subject"),
		    "[iraq-coalition] Hi  Bcc: x@evil.example  .  QUIT");
		assert_int_equal(
		    json_integer_value(json_object_get(
			json_object_get(m, "header_counts"), "subject")),
		    1);
		assert_null(json_object_get(
		    json_object_get(m, "header_counts"), "bcc"));
		assert_int_equal(
		    json_array_size(json_object_get(m, "rcpt_tos")), 1);
		assert_int_equal(
		    json_array_size(json_object_get(m, "parts")), 2);
	}
	json_decref(got);
	alert_free(a);
}

/* A server without STARTTLS: the notifier refuses to send in the clear
 * (TEMPFAIL, nothing delivered) unless starttls is off. */
static void
test_starttls_required(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-3");
	struct notifier *n;
	struct nh_result r;
	char *cause;

	n = nh_notifier("email", &f->env.ctx, &cause, f->url,
	    "from=fw@example.net", "to=a@example.org", NULL);
	nh_deliver(f->env.base, n, "ob-3", a, 1, &r, 10000);
	assert_int_equal(r.status, NOTIFIER_TEMPFAIL);
	notifier_free(n);
	assert_int_equal(nh_wait_lines(f->log, 1, 300), 0);
	n = nh_notifier("email", &f->env.ctx, &cause, f->url,
	    "from=fw@example.net", "to=a@example.org", "starttls=false",
	    "username=fw", "password_env=FW_TEST_SMTP_PASSWORD", NULL);
	assert_non_null(n);
	nh_deliver(f->env.base, n, "ob-3", a, 1, &r, 10000);
	if (r.status != NOTIFIER_OK)
		fail_msg("%s", r.error);
	notifier_free(n);
	assert_int_equal(nh_wait_lines(f->log, 1, 3000), 1);
	alert_free(a);
}

static void
test_options(void **state)
{
	struct notifier_ctx ctx = {NULL, NULL};
	struct notifier *n;
	char *cause;
	static const struct {
		const char *kv[4];
		const char *error;
	} cases[] = {
	    {{"url=http://x", "from=a@b", "to=c@d", NULL}, "smtp://"},
	    {{"url=smtp://[::1", "from=a@b", "to=c@d", NULL}, "Bad IPv6"},
	    {{"url=smtp://x", "to=c@d", NULL}, "from"},
	    {{"url=smtp://x", "from=a@b", NULL}, "to:"},
	    {{"url=smtp://x", "from=a@b", "to=[c@d|not an address]", NULL},
		"not an address"},
	    {{"url=smtp://x", "from=a@b\r\nBcc: e@f", "to=c@d", NULL}, "from"},
	    {{"url=smtp://x", "from=a@b", "to=c@d",
		 "password_file=/nonexistent"},
		"/nonexistent"},
	    {{"url=smtp://x", "from=a@b", "to=c@d", "password_env=FW_NOPE_X"},
		"not set"},
	    {{"url=smtp://x", "from=a@b", "to=c@d", "subject={{x}}"},
		"unknown variable"},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = nh_notifier("email", &ctx, &cause, cases[i].kv[0],
		    cases[i].kv[1], cases[i].kv[2], cases[i].kv[3], NULL);
		assert_null(n);
		if (strstr(cause, cases[i].error) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, cause,
			    cases[i].error);
		free(cause);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options),
	    cmocka_unit_test_setup_teardown(test_send, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_display_names, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(test_failures, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_starttls_required, setup_notls, nh_teardown),
	};

	setenv("FW_TEST_SMTP_PASSWORD", "s3cret pass", 1);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

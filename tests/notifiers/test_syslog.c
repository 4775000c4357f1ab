/* syslog: a real rsyslogd on 127.0.0.1 (UDP, TCP with octet counting)
 * and a unix datagram socket, writing what it parsed to a file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "alert.h"
#include "notifier.h"
#include "notify_helper.h"

struct fixture {
	struct nh_env env;
	char log[512], sock[512];
	int udp, tcp;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char line[700];

	nh_env_init(&f->env, 0);
	snprintf(f->log, sizeof f->log, "%s/messages.jsonl", f->env.dir);
	const char *argv[] = {
	    NH_PYTHON, NH_SERVERS "/syslog_receiver.py", f->env.dir, NULL};
	f->env.pids[0] = nh_spawn(argv, line, sizeof line);
	assert_int_equal(
	    sscanf(line, "READY %d %d %511s", &f->udp, &f->tcp, f->sock), 3);
	*state = f;
	return 0;
}

static json_t *
received(struct fixture *f, size_t expect)
{
	json_t *arr = nh_received(f->log, expect, 5000);

	/* Nothing more arrives: one message is one line. */
	assert_int_equal(nh_wait_lines(f->log, expect + 1, 300), expect);
	return arr;
}

#define S(obj, key) json_string_value(json_object_get(obj, key))

static void
test_remote_and_local(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-1"), *b = nh_alert("alert-2");
	struct notifier *n[3];
	struct nh_result r;
	char udp[64], tcp[64], sock[600], *cause;
	json_t *got, *m;
	size_t i, j;
	const char *inputs[] = {"imudp", "imtcp", "imuxsock"};

	/* A title that tries to start a second line and break the SD. */
	free(b->item_title);
	b->item_title = strdup("Line one\nfake=\"x\"] <13>1 forged");
	free(b->severity);
	b->severity = strdup("low");
	snprintf(udp, sizeof udp, "server=udp://127.0.0.1:%d", f->udp);
	snprintf(tcp, sizeof tcp, "server=tcp://127.0.0.1:%d", f->tcp);
	snprintf(sock, sizeof sock, "socket=%s", f->sock);
	n[0] = nh_notifier("syslog", &f->env.ctx, &cause, udp, "ident=fwudp",
	    "facility=local3", NULL);
	n[1] = nh_notifier("syslog", &f->env.ctx, &cause, tcp, "ident=fwtcp",
	    "facility=local4", "priorities=[high=err|low=debug]", NULL);
	n[2] = nh_notifier(
	    "syslog", &f->env.ctx, &cause, sock, "ident=fwlocal", NULL);
	for (i = 0; i < 3; i++) {
		assert_non_null(n[i]);
		nh_deliver(f->env.base, n[i], "ob-1", a, 1, &r, 5000);
		assert_int_equal(r.status, NOTIFIER_OK);
		got = received(f, 2 * i + 1);
		nh_deliver(f->env.base, n[i], "ob-2", b, 1, &r, 5000);
		assert_int_equal(r.status, NOTIFIER_OK);
		got = (json_decref(got), received(f, 2 * i + 2));
		for (j = 2 * i; j < 2 * i + 2; j++) {
			m = json_array_get(got, j);
			assert_string_equal(S(m, "input"), inputs[i]);
			assert_non_null(strstr(S(m, "msg"),
			    j % 2 == 0 ? "alert=\"alert-1\" "
					 "watchlist=\"iraq-coalition\""
				       : "alert=\"alert-2\""));
		}
		json_decref(got);
	}
	got = received(f, 6);
	/* UDP: local3, high = warning by default, RFC 5424 fields. */
	m = json_array_get(got, 0);
	assert_string_equal(S(m, "facility"), "local3");
	assert_string_equal(S(m, "severity"), "warning");
	assert_string_equal(S(m, "app"), "fwudp");
	assert_string_equal(S(m, "msgid"), "alert");
	assert_non_null(
	    strstr(S(m, "sd"), "[feedwatch@32473 alert=\"alert-1\""));
	m = json_array_get(got, 1);
	assert_string_equal(S(m, "severity"), "notice"); /* low */
	assert_non_null(strstr(
	    S(m, "sd"), "title=\"Line one fake=\\\"x\\\"\\] <13>1 forged\""));
	assert_non_null(strstr(S(m, "msg"), "title=\"Line one fake="));
	/* TCP: the configured priorities. */
	m = json_array_get(got, 2);
	assert_string_equal(S(m, "facility"), "local4");
	assert_string_equal(S(m, "severity"), "err");
	assert_string_equal(S(m, "app"), "fwtcp");
	assert_string_equal(S(json_array_get(got, 3), "severity"), "debug");
	/* Local socket: daemon facility, the ident as the tag. */
	m = json_array_get(got, 4);
	assert_string_equal(S(m, "facility"), "daemon");
	assert_string_equal(S(m, "app"), "fwlocal");
	json_decref(got);
	for (i = 0; i < 3; i++)
		notifier_free(n[i]);
	alert_free(a);
	alert_free(b);
}

/* S repeated to N bytes at most; owned by the caller. */
static char *
repeat(const char *prefix, const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t len = strlen(prefix), k = strlen(s);

	memcpy(out, prefix, len);
	while (len + k <= n) {
		memcpy(out + len, s, k);
		len += k;
	}
	out[len] = '\0';
	return out;
}

/*
 * Read the key="value" pairs at *P up to the first that is not one, each
 * after a space in structured data (SD) or between them otherwise: every
 * value escapes '"' and '\' (and ']' in SD), is at most 512 bytes as
 * written, and unescaped is the start of the alert's. Returns how many.
 */
static size_t
check_pairs(const char **pp, int sd, const struct alert *a)
{
	const char *p = *pp, *name, *want;
	char value[1024];
	size_t i, n, npairs = 0;

	for (;; npairs++) {
		if (sd || npairs > 0) {
			if (*p != ' ')
				break;
			p++;
		}
		name = p;
		while (*p >= 'a' && *p <= 'z')
			p++;
		assert_true(p > name);
		assert_memory_equal(p, "=\"", 2);
		p += 2;
		for (n = 0, i = 0; *p != '"'; p++, n++) {
			assert_true(*p != '\0' && (!sd || *p != ']'));
			if (*p == '\\') {
				p++;
				n++;
				assert_true(*p == '"' || *p == '\\' ||
				    (sd && *p == ']'));
			}
			value[i++] = *p;
			assert_true(i < sizeof value);
		}
		value[i] = '\0';
		p++;
		assert_true(n <= 512);
		want = strncmp(name, "alert=", 6) == 0     ? a->id
		    : strncmp(name, "watchlist=", 10) == 0 ? a->watchlist
		    : strncmp(name, "feed=", 5) == 0       ? a->feed_title
		    : strncmp(name, "title=", 6) == 0      ? a->item_title
		    : strncmp(name, "link=", 5) == 0       ? a->item_link
							   : NULL;
		if (want != NULL)
			assert_memory_equal(want, value, i);
	}
	*pp = p;
	return npairs;
}

/*
 * Check the RFC 5424 message MSG (section 6: HEADER SP STRUCTURED-DATA
 * [SP MSG]) and its one SD-ELEMENT, "[" SD-ID *(SP PARAM-NAME "=" DQUOTE
 * PARAM-VALUE DQUOTE) "]". Returns the SD, owned by the caller.
 */
static char *
check_5424(const char *msg, const struct alert *a)
{
	const char *p = msg, *sd;
	size_t i;

	assert_true(strlen(msg) <= 2048);
	for (i = 0; i < 6; i++) {
		assert_non_null(p = strchr(p, ' '));
		p++;
	}
	sd = p;
	assert_memory_equal(p, "[feedwatch@32473", 16);
	p += 16;
	/* the first pairs always fit whole */
	assert_true(check_pairs(&p, 1, a) >= 3);
	assert_int_equal(*p, ']');
	assert_non_null(strstr(sd, " alert=\"alert-4\" watchlist=\"iraq-"));
	p++;
	assert_true(*p == '\0' || (*p == ' ' && p[1] != '\0'));
	return strndup(sd, (size_t)(p - sd));
}

/* Values full of what must be escaped, each longer than its cap: the
 * structured data comes whole, closed, and within 2048 bytes; only the
 * MSG after it is cut, and the local form is cut between pairs too. */
static void
test_long_values(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-4");
	struct notifier *n[3];
	struct nh_result r;
	char udp[64], tcp[64], sock[600], *cause, *sd;
	const char *raw;
	json_t *got, *m;
	size_t i;

	free(a->feed_title);
	a->feed_title = repeat("Feed ", "\"\\]", 900);
	free(a->item_title);
	a->item_title = repeat("Coalition ", "\xc3\xa9]\"\\", 3000);
	free(a->item_link);
	a->item_link = repeat("https://example.org/?q=", "%5D]", 2000);
	snprintf(udp, sizeof udp, "server=udp://127.0.0.1:%d", f->udp);
	snprintf(tcp, sizeof tcp, "server=tcp://127.0.0.1:%d", f->tcp);
	snprintf(sock, sizeof sock, "socket=%s", f->sock);
	n[0] = nh_notifier("syslog", &f->env.ctx, &cause, udp, NULL);
	n[1] = nh_notifier("syslog", &f->env.ctx, &cause, tcp, NULL);
	n[2] = nh_notifier("syslog", &f->env.ctx, &cause, sock, NULL);
	for (i = 0; i < 3; i++) {
		assert_non_null(n[i]);
		nh_deliver(f->env.base, n[i], "ob-1", a, 1, &r, 5000);
		assert_int_equal(r.status, NOTIFIER_OK);
	}
	got = received(f, 3);
	/* in the order rsyslog read them, not always the order sent */
	for (i = 0; i < 3; i++) {
		m = json_array_get(got, i);
		raw = S(m, "raw");
		if (strcmp(S(m, "input"), "imuxsock") == 0) {
			/* RFC 3164 on the local socket: cut after a pair */
			assert_true(strlen(raw) <= 2048);
			assert_non_null(raw = strstr(raw, "]: "));
			raw += 3;
			assert_true(check_pairs(&raw, 0, a) >= 3);
			assert_int_equal(*raw, '\0');
			continue;
		}
		sd = check_5424(raw, a);
		/* rsyslog reads the same SD, and a MSG of pairs after it */
		assert_string_equal(S(m, "sd"), sd);
		assert_memory_equal(S(m, "msg"), "alert=\"alert-4\"", 15);
		free(sd);
	}
	json_decref(got);
	for (i = 0; i < 3; i++)
		notifier_free(n[i]);
	alert_free(a);
}

/* Many alerts down one TCP connection, then the server goes away: what
 * was sent arrived, and sending again fails with TEMPFAIL. */
static void
test_tcp_burst_and_down(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-3");
	struct notifier *n;
	struct nh_result r;
	char tcp[64], id[32], *cause;
	int i;

	snprintf(tcp, sizeof tcp, "server=tcp://127.0.0.1:%d", f->tcp);
	n = nh_notifier("syslog", &f->env.ctx, &cause, tcp, NULL);
	for (i = 0; i < 50; i++) {
		snprintf(id, sizeof id, "ob-%d", i);
		nh_deliver(f->env.base, n, id, a, 1, &r, 5000);
		assert_int_equal(r.status, NOTIFIER_OK);
	}
	json_decref(received(f, 50));
	nh_stop(f->env.pids[0]);
	f->env.pids[0] = 0;
	for (i = 0; i < 5 && r.status == NOTIFIER_OK; i++)
		nh_deliver(f->env.base, n, "ob-x", a, 1, &r, 15000);
	assert_int_equal(r.status, NOTIFIER_TEMPFAIL);
	notifier_free(n);
	n = nh_notifier("syslog", &f->env.ctx, &cause, tcp, NULL);
	nh_deliver(f->env.base, n, "ob-y", a, 1, &r, 15000);
	assert_int_equal(r.status, NOTIFIER_TEMPFAIL);
	notifier_free(n);
	alert_free(a);
}

static void
test_options(void **state)
{
	struct notifier_ctx ctx = {NULL, NULL};
	struct notifier *n;
	char *cause;
	static const struct {
		const char *kv[2];
		const char *error;
	} cases[] = {
	    {{"facility=local9", NULL}, "facility"},
	    {{"priorities=[urgent=err]", NULL}, "unknown severity"},
	    {{"priorities=[high=loud]", NULL}, "unknown level"},
	    {{"priorities=[high]", NULL}, "SEVERITY=LEVEL"},
	    {{"server=syslog.example.org:514", NULL}, "udp://"},
	    {{"server=udp://127.0.0.1", NULL}, "udp://"},
	    {{"ident=has space", NULL}, "ident"},
	    {{"server=udp://127.0.0.1:514", "socket=/dev/log"}, "not both"},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = nh_notifier("syslog", &ctx, &cause, cases[i].kv[0],
		    cases[i].kv[1], NULL);
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
	    cmocka_unit_test_setup_teardown(
		test_remote_and_local, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_tcp_burst_and_down, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_long_values, setup, nh_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

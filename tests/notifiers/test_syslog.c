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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* exec and console: a real child per alert watched from the loop; JSON
 * lines on stdout; the notifier interface's promises. */
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "alert.h"
#include "notifier.h"
#include "notify_helper.h"

struct fixture {
	struct nh_env env;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	nh_env_init(&f->env, 0);
	*state = f;
	return 0;
}

static void
test_exit_codes(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-1");
	struct notifier *n;
	struct nh_result r;
	char cmd[1200], *cause, *data, *json, path[600];
	static const struct {
		const char *script;
		enum notifier_status status;
		const char *error;
	} cases[] = {
	    {"cat > stdin; env | sort > env", NOTIFIER_OK, ""},
	    {"echo busy >&2; exit 75", NOTIFIER_TEMPFAIL,
		"exit status 75: busy"},
	    {"echo first; echo 'no such channel' >&2; exit 3",
		NOTIFIER_PERMFAIL, "exit status 3: no such channel"},
	    {"kill -SEGV $$", NOTIFIER_PERMFAIL, "signal 11"},
	    {"exec 0<&-; sleep 0.2", NOTIFIER_OK, ""},
	};
	char cwd[600];
	size_t i;

	/* The child runs in our working directory. */
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(f->env.dir), 0);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(cmd, sizeof cmd, "command=%s", cases[i].script);
		n = nh_notifier("exec", &f->env.ctx, &cause, cmd, NULL);
		assert_non_null(n);
		nh_deliver(f->env.base, n, "ob-7", a, 3, &r, 5000);
		if (r.status != cases[i].status ||
		    strstr(r.error, cases[i].error) == NULL)
			fail_msg("%s: %d \"%s\"", cases[i].script, r.status,
			    r.error);
		notifier_free(n);
	}
	assert_int_equal(chdir(cwd), 0);
	/* The child got the alert document on stdin and a small env. */
	snprintf(path, sizeof path, "%s/stdin", f->env.dir);
	data = nh_read_file(path);
	json = alert_to_json(a);
	assert_string_equal(data, json);
	free(data);
	free(json);
	snprintf(path, sizeof path, "%s/env", f->env.dir);
	data = nh_read_file(path);
	assert_non_null(strstr(data, "FEEDWATCH_OUTBOX_ID=ob-7\n"));
	assert_non_null(strstr(data, "FEEDWATCH_ALERT_ID=alert-1\n"));
	assert_non_null(strstr(data, "FEEDWATCH_WATCHLIST=iraq-coalition\n"));
	assert_non_null(strstr(data, "FEEDWATCH_SEVERITY=high\n"));
	assert_non_null(strstr(data, "FEEDWATCH_ATTEMPT=3\n"));
	/* Nothing of ours leaks (the test sets a secret-looking variable). */
	assert_null(strstr(data, "FW_TEST_SECRET"));
	free(data);
	alert_free(a);
}

/* A hung command is killed at the timeout (TEMPFAIL), with its group;
 * the loop stays free meanwhile. A missing program is TEMPFAIL. */
static void
test_timeout_and_missing(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-2");
	struct notifier *n;
	struct nh_result r;
	struct timespec t0, t1;
	char *cause;
	double ms;

	n = nh_notifier("exec", &f->env.ctx, &cause,
	    "command=sleep 30 & sleep 30", "timeout=300ms", NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	nh_deliver(f->env.base, n, "ob-8", a, 1, &r, 5000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_int_equal(r.status, NOTIFIER_TEMPFAIL);
	assert_non_null(strstr(r.error, "killed after 300 ms"));
	assert_true(ms >= 250 && ms < 3000);
	notifier_free(n);
	n = nh_notifier("exec", &f->env.ctx, &cause,
	    "command=[/nonexistent/notify|x]", NULL);
	nh_deliver(f->env.base, n, "ob-9", a, 1, &r, 5000);
	assert_int_equal(r.status, NOTIFIER_TEMPFAIL);
	assert_non_null(strstr(r.error, "/nonexistent/notify"));
	notifier_free(n);
	alert_free(a);
}

static void
never_cb(const struct notifier_result *r, void *arg)
{
	fail_msg("callback after notifier_free()");
}

/* Freed with a delivery in flight: no callback, the child is gone. */
static void
test_free_in_flight(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-3");
	struct notifier *n;
	char *cause = NULL, *json, pidfile[600], cmd[700], *pid;
	struct timeval tv = {0, 300000};

	snprintf(pidfile, sizeof pidfile, "%s/pid", f->env.dir);
	snprintf(
	    cmd, sizeof cmd, "command=echo $$ > %s; exec sleep 30", pidfile);
	n = nh_notifier("exec", &f->env.ctx, &cause, cmd, NULL);
	json = alert_to_json(a);
	assert_int_equal(notifier_deliver(n, "ob-10", json, strlen(json), 1,
			     never_cb, NULL, &cause),
	    0);
	assert_int_equal(notifier_inflight(n), 1);
	event_base_loopexit(f->env.base, &tv);
	event_base_dispatch(f->env.base);
	notifier_free(n);
	event_base_loop(f->env.base, EVLOOP_NONBLOCK);
	pid = nh_read_file(pidfile);
	assert_non_null(pid);
	assert_int_equal(kill(atoi(pid), 0), -1);
	free(pid);
	free(json);
	alert_free(a);
}

static void
test_console_and_bad_payload(void **state)
{
	struct fixture *f = *state;
	struct alert *a = nh_alert("alert-4");
	struct notifier *n;
	struct nh_result r;
	char *cause = NULL, path[600], *data, *json;
	int saved, fd;

	snprintf(path, sizeof path, "%s/stdout", f->env.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	n = nh_notifier("console", &f->env.ctx, &cause, NULL);
	nh_deliver(f->env.base, n, "ob-11", a, 1, &r, 5000);
	assert_int_equal(r.status, NOTIFIER_OK);
	nh_deliver(f->env.base, n, "ob-12", a, 1, &r, 5000);
	dup2(saved, STDOUT_FILENO);
	close(fd);
	close(saved);
	json = alert_to_json(a);
	data = nh_read_file(path);
	assert_int_equal(strlen(data), 2 * (strlen(json) + 1));
	assert_memory_equal(data, json, strlen(json));
	assert_int_equal(data[strlen(json)], '\n');
	free(data);
	free(json);
	/* Not an alert document: refused at once, no callback. */
	assert_int_equal(notifier_deliver(n, "ob-13", "{\"version\":9}", 13, 1,
			     never_cb, NULL, &cause),
	    -1);
	assert_non_null(strstr(cause, "version"));
	free(cause);
	assert_int_equal(notifier_inflight(n), 0);
	assert_string_equal(notifier_type(n), "console");
	notifier_free(n);
	assert_null(nh_notifier("pager", &f->env.ctx, &cause, NULL));
	assert_non_null(strstr(cause, "unknown type"));
	free(cause);
	assert_null(nh_notifier("exec", &f->env.ctx, &cause, NULL));
	assert_non_null(strstr(cause, "command"));
	free(cause);
	alert_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_exit_codes, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_timeout_and_missing, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_free_in_flight, setup, nh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_console_and_bad_payload, setup, nh_teardown),
	};

	setenv("FW_TEST_SECRET", "hunter2", 1);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

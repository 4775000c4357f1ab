/* sdnotify: messages reach a real unix datagram socket, by path and in
 * the abstract namespace; the watchdog settings are read and scoped. */
#include <sys/socket.h>
#include <sys/un.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdnotify.h"

/* Bind a datagram socket at path (a leading '@' means abstract). */
static int
listen_at(const char *path)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd != -1);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	else
		len++;
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, len), 0);
	return fd;
}

static void
expect_message(int fd, const char *want)
{
	char got[4096];
	ssize_t n;

	n = recv(fd, got, sizeof got - 1, 0);
	assert_true(n > 0);
	got[n] = '\0';
	assert_string_equal(got, want);
}

static void
test_path_socket(void **state)
{
	char dir[] = "/tmp/sdnotify.XXXXXX", path[128];
	struct sdnotify *sn;
	char *cause = NULL;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/notify", dir);
	fd = listen_at(path);
	setenv("NOTIFY_SOCKET", path, 1);
	sn = sdnotify_open(&cause);
	assert_non_null(sn);
	assert_true(sdnotify_enabled(sn));
	assert_null(getenv("NOTIFY_SOCKET")); /* children do not inherit it */
	assert_int_equal(sdnotify_send(sn, "READY=1"), 0);
	expect_message(fd, "READY=1");
	assert_int_equal(sdnotify_send(sn, "STATUS=polling %d feeds", 3), 0);
	expect_message(fd, "STATUS=polling 3 feeds");
	sdnotify_free(sn);
	close(fd);
	unlink(path);
	rmdir(dir);
}

static void
test_abstract_socket(void **state)
{
	char name[64];
	struct sdnotify *sn;
	char *cause = NULL;
	int fd;

	snprintf(name, sizeof name, "@feedwatch-test-%ld", (long)getpid());
	fd = listen_at(name);
	setenv("NOTIFY_SOCKET", name, 1);
	sn = sdnotify_open(&cause);
	assert_non_null(sn);
	assert_int_equal(sdnotify_send(sn, "STOPPING=1"), 0);
	expect_message(fd, "STOPPING=1");
	sdnotify_free(sn);
	close(fd);
}

static void
test_absent_and_bad(void **state)
{
	struct sdnotify *sn;
	char *cause = NULL;

	unsetenv("NOTIFY_SOCKET");
	sn = sdnotify_open(&cause);
	assert_non_null(sn);
	assert_false(sdnotify_enabled(sn));
	assert_int_equal(sdnotify_send(sn, "READY=1"), 0); /* a no-op */
	sdnotify_free(sn);

	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_null(sdnotify_open(&cause));
	assert_non_null(cause);
	free(cause);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_watchdog(void **state)
{
	struct sdnotify *sn;
	char *cause = NULL, pid[32];

	setenv("WATCHDOG_USEC", "30000000", 1);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	sn = sdnotify_open(&cause);
	assert_int_equal(sdnotify_watchdog_usec(sn), 30000000);
	sdnotify_free(sn);

	/* Meant for another process: not ours to honour. */
	setenv("WATCHDOG_USEC", "30000000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	sn = sdnotify_open(&cause);
	assert_int_equal(sdnotify_watchdog_usec(sn), 0);
	sdnotify_free(sn);

	setenv("WATCHDOG_USEC", "30s", 1);
	unsetenv("WATCHDOG_PID");
	sn = sdnotify_open(&cause);
	assert_int_equal(sdnotify_watchdog_usec(sn), 0);
	sdnotify_free(sn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_socket),
	    cmocka_unit_test(test_abstract_socket),
	    cmocka_unit_test(test_absent_and_bad),
	    cmocka_unit_test(test_watchdog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* netguard: the address table, and refusal at connect against a listener
 * this test owns (it must see no connection at all). */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "netguard.h"

static const struct {
	const char *addr;
	int blocked;
} cases[] = {
    {"0.0.0.0", 1},
    {"0.1.2.3", 1},
    {"10.0.0.1", 1},
    {"10.255.255.255", 1},
    {"100.63.255.255", 0},
    {"100.64.0.1", 1},
    {"100.127.255.255", 1},
    {"100.128.0.0", 0},
    {"127.0.0.1", 1},
    {"127.255.0.1", 1},
    {"169.254.169.254", 1},
    {"172.15.255.255", 0},
    {"172.16.0.1", 1},
    {"172.31.255.255", 1},
    {"172.32.0.0", 0},
    {"192.0.0.8", 1},
    {"192.0.2.1", 1},
    {"192.168.1.1", 1},
    {"192.169.0.1", 0},
    {"198.18.0.1", 1},
    {"198.51.100.7", 1},
    {"203.0.113.9", 1},
    {"224.0.0.1", 1},
    {"239.255.255.250", 1},
    {"240.0.0.1", 1},
    {"255.255.255.255", 1},
    {"1.1.1.1", 0},
    {"8.8.8.8", 0},
    {"93.184.216.34", 0},
    {"::", 1},
    {"::1", 1},
    {"::2", 1}, /* IPv4-compatible 0.0.0.2 */
    {"::ffff:127.0.0.1", 1},
    {"::ffff:7f00:1", 1},
    {"::ffff:10.1.2.3", 1},
    {"::ffff:169.254.169.254", 1},
    {"::ffff:8.8.8.8", 0},
    {"::127.0.0.1", 1},
    {"::8.8.8.8", 0},
    {"64:ff9b::127.0.0.1", 1},
    {"64:ff9b::8.8.8.8", 0},
    {"64:ff9b:1::1", 1},
    {"2002:7f00:1::", 1},
    {"2002:0808:0808::1", 0},
    {"100::1", 1},
    {"2001:db8::1", 1},
    {"fc00::1", 1},
    {"fd12:3456::1", 1},
    {"fe80::1", 1},
    {"febf::1", 1},
    {"fec0::1", 1},
    {"ff02::1", 1},
    {"2606:4700::1111", 0},
    {"2a00:1450:4001::200e", 0},
};

static void
test_table(void **state)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr sa;
	size_t i;
	int got;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&sin, 0, sizeof sin);
		memset(&sin6, 0, sizeof sin6);
		if (inet_pton(AF_INET, cases[i].addr, &sin.sin_addr) == 1) {
			sin.sin_family = AF_INET;
			got = netguard_blocked(
			    (struct sockaddr *)&sin, sizeof sin);
		} else {
			assert_int_equal(
			    inet_pton(AF_INET6, cases[i].addr, &sin6.sin6_addr),
			    1);
			sin6.sin6_family = AF_INET6;
			got = netguard_blocked(
			    (struct sockaddr *)&sin6, sizeof sin6);
		}
		if (got != cases[i].blocked)
			fail_msg("%s: blocked %d, want %d", cases[i].addr, got,
			    cases[i].blocked);
	}
	/* Short lengths, other families and NULL are refused. */
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "8.8.8.8", &sin.sin_addr);
	assert_int_equal(netguard_blocked((struct sockaddr *)&sin, 4), 1);
	memset(&sa, 0, sizeof sa);
	sa.sa_family = AF_UNIX;
	assert_int_equal(netguard_blocked(&sa, sizeof sa), 1);
	assert_int_equal(netguard_blocked(NULL, 0), 1);
}

/* A non-blocking listener on 127.0.0.1; returns the fd, sets *port. */
static int
listener(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Connections waiting on the listener (accepts and closes them). */
static int
accepted(int lfd)
{
	int n = 0, fd;

	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		close(fd);
		n++;
	}
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	return n;
}

static CURLcode
fetch(const char *url, int block)
{
	CURL *easy = curl_easy_init();
	struct netguard g = {block, ""};
	CURLcode rc;

	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	/* The listener accepts and never answers: stop soon after connect. */
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 300L);
	netguard_apply(easy, &g);
	rc = curl_easy_perform(easy);
	curl_easy_cleanup(easy);
	return rc;
}

static void
test_connect(void **state)
{
	static const char *hosts[] = {
	    "127.0.0.1", "0x7f000001", "127.1", "localhost"};
	char url[128];
	int lfd, port;
	size_t i;

	lfd = listener(&port);
	for (i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
		snprintf(url, sizeof url, "http://%s:%d/", hosts[i], port);
		assert_int_equal(fetch(url, 1), CURLE_COULDNT_CONNECT);
	}
	usleep(50000);
	assert_int_equal(accepted(lfd), 0);
	/* The override lets the same URL through to the listener. */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
	assert_int_equal(fetch(url, 0), CURLE_OPERATION_TIMEDOUT);
	usleep(50000);
	assert_int_equal(accepted(lfd), 1);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_connect),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}

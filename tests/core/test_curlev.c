/* curlev: transfers on one event_base against an in-process HTTP server
 * (libevent's evhttp on 127.0.0.1, a free port): parallel completion, a
 * hanging transfer that delays no other, cancel and free without
 * callbacks, chaining from done_cb, file:// without sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "buf.h"
#include "curlev.h"

struct server {
	struct event_base *base;
	struct evhttp *http;
	int port;
	int requests;
	int hangs_open; /* requests to /hang seen */
};

struct xfer {
	CURL *easy;
	struct buf body;
	CURLcode result;
	int done;
	int64_t done_at_ms;
	int order;
};

static int done_count;
static int in_add;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
server_cb(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *out;

	srv->requests++;
	if (strcmp(uri, "/hang") == 0) {
		srv->hangs_open++; /* never answered */
		return;
	}
	out = evbuffer_new();
	evbuffer_add_printf(out, "hello %s", uri);
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

/* Client connections to port still established (from /proc/net/tcp):
 * a connection the client closed is in FIN_WAIT2 because the server of
 * /hang never closes its end. */
static int
client_conns(int port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512];
	unsigned rport, st;
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%*d: %*x:%*x %*x:%x %x", &rport, &st) == 2 &&
		    (int)rport == port && st == 1)
			n++;
	}
	fclose(f);
	return n;
}

static void
server_start(struct server *srv, struct event_base *base)
{
	struct evhttp_bound_socket *bound;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	memset(srv, 0, sizeof *srv);
	srv->base = base;
	srv->http = evhttp_new(base);
	assert_non_null(srv->http);
	evhttp_set_gencb(srv->http, server_cb, srv);
	bound = evhttp_bind_socket_with_handle(srv->http, "127.0.0.1", 0);
	assert_non_null(bound);
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bound),
			     (struct sockaddr *)&ss, &len),
	    0);
	srv->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static size_t
write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	if (buf_add(&x->body, data, size * n) != 0)
		return 0;
	return size * n;
}

static void
xfer_init(struct xfer *x, const char *url, long timeout_ms)
{
	memset(x, 0, sizeof *x);
	buf_init(&x->body, 1 << 16);
	x->easy = curl_easy_init();
	assert_non_null(x->easy);
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,file");
	if (timeout_ms > 0)
		curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
}

static void
xfer_free(struct xfer *x)
{
	curl_easy_cleanup(x->easy);
	buf_free(&x->body);
}

static void
done_cb(CURL *easy, CURLcode result, void *arg)
{
	struct xfer *x = arg;

	assert_false(in_add);
	assert_ptr_equal(easy, x->easy);
	assert_int_equal(x->done, 0);
	x->done = 1;
	x->result = result;
	x->done_at_ms = now_ms();
	x->order = done_count++;
}

static void
add(struct curlev *cl, struct xfer *x)
{
	in_add = 1;
	assert_int_equal(curlev_add(cl, x->easy, done_cb, x), 0);
	in_add = 0;
}

/* Run the loop until running is 0 or limit_ms passes. */
static void
run_until_idle(struct event_base *base, struct curlev *cl, int64_t limit_ms)
{
	int64_t end = now_ms() + limit_ms;

	while (curlev_running(cl) > 0 && now_ms() < end)
		event_base_loop(base, EVLOOP_ONCE);
}

static void
run_for(struct event_base *base, int64_t ms)
{
	struct timeval tv = {0, 0};

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void
test_parallel_with_hang(void **state)
{
	struct event_base *base = event_base_new();
	struct curlev *cl = curlev_new(base);
	struct server srv;
	struct xfer ok[6], hang;
	char url[128], want[64];
	int64_t start;
	size_t i;

	server_start(&srv, base);
	done_count = 0;
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hang", srv.port);
	xfer_init(&hang, url, 1500);
	add(cl, &hang);
	for (i = 0; i < 6; i++) {
		snprintf(
		    url, sizeof url, "http://127.0.0.1:%d/ok%zu", srv.port, i);
		xfer_init(&ok[i], url, 5000);
		add(cl, &ok[i]);
	}
	assert_int_equal(curlev_running(cl), 7);
	start = now_ms();
	run_until_idle(base, cl, 5000);
	assert_int_equal(curlev_running(cl), 0);
	for (i = 0; i < 6; i++) {
		snprintf(want, sizeof want, "hello /ok%zu", i);
		assert_int_equal(ok[i].done, 1);
		assert_int_equal(ok[i].result, CURLE_OK);
		assert_string_equal(buf_str(&ok[i].body), want);
		/* The hanging transfer delays none of the others. */
		assert_true(ok[i].done_at_ms - start < 500);
		assert_true(ok[i].order < hang.order);
	}
	assert_int_equal(hang.done, 1);
	assert_int_equal(hang.result, CURLE_OPERATION_TIMEDOUT);
	assert_true(hang.done_at_ms - start >= 1400);
	assert_int_equal(srv.requests, 7);
	for (i = 0; i < 6; i++)
		xfer_free(&ok[i]);
	xfer_free(&hang);
	curlev_free(cl);
	evhttp_free(srv.http);
	event_base_free(base);
}

static void
test_cancel_and_free(void **state)
{
	struct event_base *base = event_base_new();
	struct curlev *cl = curlev_new(base);
	struct server srv;
	struct xfer a, b;
	char url[128];

	server_start(&srv, base);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hang", srv.port);
	xfer_init(&a, url, 0);
	xfer_init(&b, url, 0);
	add(cl, &a);
	add(cl, &b);
	run_for(base, 200);
	assert_int_equal(srv.hangs_open, 2);
	assert_int_equal(client_conns(srv.port), 2);
	curlev_cancel(cl, a.easy);
	assert_int_equal(curlev_running(cl), 1);
	curlev_cancel(cl, a.easy); /* twice is harmless */
	assert_int_equal(curlev_running(cl), 1);
	xfer_free(&a); /* closes a's connection */
	run_for(base, 100);
	assert_int_equal(client_conns(srv.port), 1);
	assert_int_equal(a.done, 0);
	/* Freeing with b in flight: no callback, connection closed. */
	curlev_free(cl);
	assert_int_equal(b.done, 0);
	xfer_free(&b);
	run_for(base, 100);
	assert_int_equal(client_conns(srv.port), 0);
	evhttp_free(srv.http);
	event_base_free(base);
}

struct chain {
	struct curlev *cl;
	CURL *easy;
	int left;
	int ok;
};

static size_t
discard_cb(char *data, size_t size, size_t n, void *arg)
{
	return size * n;
}

/* done_cb that starts the same handle again: reuse from the callback. */
static void
chain_cb(CURL *easy, CURLcode result, void *arg)
{
	struct chain *c = arg;

	if (result == CURLE_OK)
		c->ok++;
	if (--c->left > 0)
		assert_int_equal(curlev_add(c->cl, easy, chain_cb, c), 0);
}

static void
test_chain_from_done(void **state)
{
	struct event_base *base = event_base_new();
	struct server srv;
	struct chain c;
	char url[128];
	long conns = -1;

	server_start(&srv, base);
	c.cl = curlev_new(base);
	c.left = 20;
	c.ok = 0;
	c.easy = curl_easy_init();
	snprintf(url, sizeof url, "http://127.0.0.1:%d/again", srv.port);
	curl_easy_setopt(c.easy, CURLOPT_URL, url);
	curl_easy_setopt(c.easy, CURLOPT_WRITEFUNCTION, discard_cb);
	assert_int_equal(curlev_add(c.cl, c.easy, chain_cb, &c), 0);
	run_until_idle(base, c.cl, 5000);
	assert_int_equal(c.ok, 20);
	assert_int_equal(srv.requests, 20);
	/* The last 19 reused the first connection from the multi's cache. */
	curl_easy_getinfo(c.easy, CURLINFO_NUM_CONNECTS, &conns);
	assert_int_equal(conns, 0);
	curl_easy_cleanup(c.easy);
	curlev_free(c.cl);
	evhttp_free(srv.http);
	event_base_free(base);
}

static void
test_file_url(void **state)
{
	struct event_base *base = event_base_new();
	struct curlev *cl = curlev_new(base);
	struct xfer x;
	char path[] = "/tmp/test_curlev.XXXXXX", url[128];
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "local bytes", 11), 11);
	close(fd);
	snprintf(url, sizeof url, "file://%s", path);
	xfer_init(&x, url, 1000);
	add(cl, &x);
	assert_int_equal(x.done, 0); /* never from inside curlev_add */
	run_until_idle(base, cl, 2000);
	unlink(path);
	assert_int_equal(x.done, 1);
	assert_int_equal(x.result, CURLE_OK);
	assert_string_equal(buf_str(&x.body), "local bytes");
	xfer_free(&x);
	curlev_free(cl);
	curlev_free(NULL);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parallel_with_hang),
	    cmocka_unit_test(test_cancel_and_free),
	    cmocka_unit_test(test_chain_from_done),
	    cmocka_unit_test(test_file_url),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}

/*
 * fetch against a real local HTTP server with fault injection
 * (tests/servers/faultserver.py on 127.0.0.1, a free port): conditional
 * GET, statuses, Retry-After, redirects and their limits, decoding and
 * the decoded-byte cap, timeouts, per-feed options, the concurrency caps,
 * and the SSRF guard against listeners this test owns.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
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
#include <curl/curl.h>
#include <event2/event.h>

#include "buf.h"
#include "curlev.h"
#include "fetch.h"
#include "netguard.h"

#define FEED_BODY                                                              \
	"<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"              \
	"<title>t</title><ttl>30</ttl>"                                        \
	"<item><guid>1</guid><title>one</title></item>"                        \
	"</channel></rss>\n"
#define MIB (1024 * 1024)

static pid_t server_pid;
static int server_stdin = -1;
static int port;

/* Start the fault server; it exits when its stdin closes. */
static int
server_start(void **state)
{
	int in[2], out[2];
	char line[32];
	size_t len = 0;
	ssize_t n;

	signal(SIGPIPE, SIG_IGN);
	if (pipe(in) != 0 || pipe(out) != 0)
		return -1;
	if ((server_pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl("/usr/bin/python3", "python3",
		    FW_SERVERS "/faultserver.py", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	server_stdin = in[1];
	/* The port, on a line of its own. */
	while (len < sizeof line - 1 && memchr(line, '\n', len) == NULL &&
	    (n = read(out[0], line + len, sizeof line - 1 - len)) > 0)
		len += (size_t)n;
	close(out[0]);
	line[len] = '\0';
	port = atoi(line);
	return port > 0 ? 0 : -1;
}

static int
server_stop(void **state)
{
	close(server_stdin);
	waitpid(server_pid, NULL, 0);
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What a fetch did, copied out of its result and its sink. */
struct outcome {
	int done;
	enum fetch_error error;
	char cause[512];
	long status;
	int not_modified;
	char etag[64];
	char last_modified[64];
	char final_url[256];
	int redirects;
	int permanent_redirect;
	int64_t retry_after_s;
	int64_t max_age_s;
	int64_t expires_in_s;
	uint64_t bytes;
	int64_t elapsed_ms;
	int64_t done_at_ms;
	/* seen by the sink */
	struct buf body;
	uint64_t sink_bytes;
	char sink_type[64];
	int sink_headers;
	int refuse; /* the sink says no to the first chunk */
	size_t max_running; /* fetch_queue_running() seen at the end */
	struct fetch_queue *q;
};

static void
copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static int
sink_header(void *arg, const char *name, const char *value)
{
	struct outcome *o = arg;

	o->sink_headers++;
	if (strcasecmp(name, "Content-Type") == 0)
		copy(o->sink_type, sizeof o->sink_type, value);
	return 0;
}

static int
sink_data(void *arg, const void *data, size_t len)
{
	struct outcome *o = arg;

	if (o->refuse)
		return -1;
	o->sink_bytes += len;
	if (o->body.len + len <= 65536)
		buf_add(&o->body, data, len);
	return 0;
}

static void
done(struct fetch *f, const struct fetch_result *r, void *arg)
{
	struct outcome *o = arg;

	assert_int_equal(o->done, 0);
	o->done = 1;
	o->done_at_ms = now_ms();
	o->error = r->error;
	copy(o->cause, sizeof o->cause, r->cause);
	assert_true((r->error == FETCH_OK) == (r->cause == NULL));
	/* Callers write "name: cause": the cause must not say it again. */
	if (r->cause != NULL) {
		const char *name = fetch_error_name(r->error);
		size_t n = strlen(name);

		if (strncmp(r->cause, name, n) == 0 && r->cause[n] == ':')
			fail_msg(
			    "cause repeats its error's name: %s", r->cause);
	}
	o->status = r->status;
	o->not_modified = r->not_modified;
	copy(o->etag, sizeof o->etag, r->etag);
	copy(o->last_modified, sizeof o->last_modified, r->last_modified);
	copy(o->final_url, sizeof o->final_url, r->final_url);
	o->redirects = r->redirects;
	o->permanent_redirect = r->permanent_redirect;
	o->retry_after_s = r->retry_after_s;
	o->max_age_s = r->max_age_s;
	o->expires_in_s = r->expires_in_s;
	o->bytes = r->bytes;
	o->elapsed_ms = r->elapsed_ms;
	if (o->q != NULL && fetch_queue_running(o->q) > o->max_running)
		o->max_running = fetch_queue_running(o->q);
}

struct env {
	struct event_base *base;
	struct curlev *cl;
	struct fetch_queue *q;
};

static void
env_init(struct env *e, size_t max_total, size_t max_per_host)
{
	e->base = event_base_new();
	e->cl = curlev_new(e->base);
	e->q = fetch_queue_new(e->cl, max_total, max_per_host);
}

static void
env_free(struct env *e)
{
	fetch_queue_free(e->q);
	curlev_free(e->cl);
	event_base_free(e->base);
}

static void
start(struct env *e, struct fetch_opts *opts, struct outcome *o)
{
	struct fetch_sink sink = {sink_header, sink_data, o};
	char *cause = NULL;

	buf_init(&o->body, 65536);
	o->q = e->q;
	if (fetch_start(e->q, opts, &sink, done, o, &cause) == NULL)
		fail_msg("fetch_start %s: %s", opts->url, cause);
}

/* Run the loop until every fetch ended, at most limit_ms. */
static void
run(struct env *e, int64_t limit_ms)
{
	int64_t end = now_ms() + limit_ms;

	while (
	    (fetch_queue_running(e->q) > 0 || fetch_queue_waiting(e->q) > 0) &&
	    now_ms() < end)
		event_base_loop(e->base, EVLOOP_ONCE);
	assert_int_equal(fetch_queue_running(e->q), 0);
	assert_int_equal(fetch_queue_waiting(e->q), 0);
}

static char *
url(const char *path)
{
	static char u[8][512];
	static int i;

	i = (i + 1) % 8;
	snprintf(u[i], sizeof u[i], "http://127.0.0.1:%d%s", port, path);
	return u[i];
}

/* One fetch of path with the given options, start to end. */
static void
fetch1(struct fetch_opts *opts, struct outcome *o)
{
	struct env e;

	env_init(&e, 0, 0);
	memset(o, 0, sizeof *o);
	start(&e, opts, o);
	run(&e, 10000);
	assert_int_equal(o->done, 1);
	o->q = NULL;
	env_free(&e);
}

static void
test_feed_and_conditional(void **state)
{
	struct fetch_opts opts = {.url = url("/feed")};
	struct outcome o;

	fetch1(&opts, &o);
	assert_int_equal(o.error, FETCH_OK);
	assert_int_equal(o.status, 200);
	assert_false(o.not_modified);
	assert_string_equal(buf_str(&o.body), FEED_BODY);
	assert_string_equal(o.etag, "\"v1\"");
	assert_string_equal(o.last_modified, "Mon, 01 Jan 2024 00:00:00 GMT");
	assert_string_equal(o.sink_type, "application/rss+xml");
	assert_true(o.sink_headers >= 4);
	assert_int_equal(o.bytes, strlen(FEED_BODY));
	assert_int_equal(o.retry_after_s, -1);
	assert_int_equal(o.max_age_s, -1);
	assert_int_equal(o.expires_in_s, -1);
	buf_free(&o.body);

	/* Either validator gets a 304: nothing reaches the sink. */
	opts.etag = "\"v1\"";
	fetch1(&opts, &o);
	assert_int_equal(o.error, FETCH_OK);
	assert_int_equal(o.status, 304);
	assert_true(o.not_modified);
	assert_int_equal(o.sink_bytes, 0);
	assert_int_equal(o.sink_headers, 0);
	assert_string_equal(o.etag, ""); /* keep the old ones */
	buf_free(&o.body);
	opts.etag = NULL;
	opts.last_modified = "Mon, 01 Jan 2024 00:00:00 GMT";
	fetch1(&opts, &o);
	assert_int_equal(o.status, 304);
	assert_true(o.not_modified);
	buf_free(&o.body);
	/* A stale validator gets the full document. */
	opts.etag = "\"v0\"";
	opts.last_modified = NULL;
	fetch1(&opts, &o);
	assert_int_equal(o.status, 200);
	assert_string_equal(buf_str(&o.body), FEED_BODY);
	buf_free(&o.body);
}

/* Table: path, options, and what must come of it. */
struct fault_case {
	const char *path;
	int64_t timeout_ms;
	long low_speed_time;
	int allow_file;
	enum fetch_error error;
	long status;
	int redirects;
	int permanent;
	int64_t retry_after_min, retry_after_max; /* -1 -1: none */
	int64_t max_elapsed_ms;
	const char *body; /* NULL: nothing reaches the sink; "*": any */
	const char *final_path;
};

static const struct fault_case faults[] = {
    {"/status/500", 0, 0, 0, FETCH_ERR_HTTP, 500, 0, 0, -1, -1, 2000, NULL,
	NULL},
    {"/status/404", 0, 0, 0, FETCH_ERR_HTTP, 404, 0, 0, -1, -1, 2000, NULL,
	NULL},
    {"/status/410", 0, 0, 0, FETCH_ERR_HTTP, 410, 0, 0, -1, -1, 2000, NULL,
	NULL},
    {"/retry/429?after=7", 0, 0, 0, FETCH_ERR_HTTP, 429, 0, 0, 7, 7, 2000, NULL,
	NULL},
    {"/retry/503?after=date:120", 0, 0, 0, FETCH_ERR_HTTP, 503, 0, 0, 119, 120,
	2000, NULL, NULL},
    /* an absurd delay is kept to a year, not overflowed */
    {"/retry/429?after=10000000000000000", 0, 0, 0, FETCH_ERR_HTTP, 429, 0, 0,
	366 * 86400, 366 * 86400, 2000, NULL, NULL},
    /* 304 to a request without validators: no document will ever come */
    {"/status/304", 0, 0, 0, FETCH_ERR_HTTP, 304, 0, 0, -1, -1, 2000, NULL,
	NULL},
    {"/redirect/301?to=/feed", 0, 0, 0, FETCH_OK, 200, 1, 1, -1, -1, 2000,
	FEED_BODY, "/feed"},
    {"/redirect/308?to=/feed", 0, 0, 0, FETCH_OK, 200, 1, 1, -1, -1, 2000,
	FEED_BODY, "/feed"},
    {"/redirect/302?to=/feed", 0, 0, 0, FETCH_OK, 200, 1, 0, -1, -1, 2000,
	FEED_BODY, "/feed"},
    {"/redirect/307?to=/feed", 0, 0, 0, FETCH_OK, 200, 1, 0, -1, -1, 2000,
	FEED_BODY, "/feed"},
    /* 301 then 302: not permanent as a whole. */
    {"/redirect/301?to=%2Fredirect%2F302%3Fto%3D%2Ffeed", 0, 0, 0, FETCH_OK,
	200, 2, 0, -1, -1, 2000, FEED_BODY, "/feed"},
    {"/redirect/301?to=%2Fredirect%2F308%3Fto%3D%2Ffeed", 0, 0, 0, FETCH_OK,
	200, 2, 1, -1, -1, 2000, FEED_BODY, "/feed"},
    /* A loop stops after 5 hops, fast. */
    {"/loop/0", 0, 0, 0, FETCH_ERR_REDIRECT, 302, 5, 0, -1, -1, 1000, NULL,
	NULL},
    /* Never to file:// by redirect, even where file:// URLs are allowed. */
    {"/redirect/302?to=file:///etc/passwd", 0, 0, 1, FETCH_ERR_REDIRECT, 302, 0,
	0, -1, -1, 1000, NULL, NULL},
    {"/redirect/302?to=ftp://127.0.0.1:21/x", 0, 0, 0, FETCH_ERR_REDIRECT, 302,
	0, 0, -1, -1, 1000, NULL, NULL},
    {"/redirect/302?to=gopher://127.0.0.1:70/", 0, 0, 0, FETCH_ERR_REDIRECT,
	302, 0, 0, -1, -1, 1000, NULL, NULL},
    {"/gzip", 0, 0, 0, FETCH_OK, 200, 0, 0, -1, -1, 2000, FEED_BODY, NULL},
    {"/type/text%2Fhtml", 0, 0, 0, FETCH_OK, 200, 0, 0, -1, -1, 2000, FEED_BODY,
	NULL},
    {"/type/text%2Fplain", 0, 0, 0, FETCH_OK, 200, 0, 0, -1, -1, 2000,
	FEED_BODY, NULL},
    {"/type/image%2Fpng", 0, 0, 0, FETCH_ERR_CONTENT_TYPE, 200, 0, 0, -1, -1,
	2000, NULL, NULL},
    {"/type/video%2Fmp4", 0, 0, 0, FETCH_ERR_CONTENT_TYPE, 200, 0, 0, -1, -1,
	2000, NULL, NULL},
    /* 1 byte/s: the low-speed check ends it. */
    {"/drip", 0, 1, 0, FETCH_ERR_TIMEOUT, 200, 0, 0, -1, -1, 3000, "*", NULL},
    {"/hang", 700, 0, 0, FETCH_ERR_TIMEOUT, 0, 0, 0, -1, -1, 1500, NULL, NULL},
};

static void
test_faults(void **state)
{
	const struct fault_case *c;
	struct fetch_opts opts;
	struct outcome o;
	int64_t t0;
	size_t i;

	for (i = 0; i < sizeof faults / sizeof faults[0]; i++) {
		c = &faults[i];
		memset(&opts, 0, sizeof opts);
		opts.url = url(c->path);
		opts.timeout_ms = c->timeout_ms;
		opts.low_speed_time = c->low_speed_time;
		opts.allow_file = c->allow_file;
		t0 = now_ms();
		fetch1(&opts, &o);
		if (o.error != c->error || o.status != c->status)
			fail_msg("%s: error %s (%s) status %ld, want %s %ld",
			    c->path, fetch_error_name(o.error), o.cause,
			    o.status, fetch_error_name(c->error), c->status);
		if (o.done_at_ms - t0 > c->max_elapsed_ms)
			fail_msg("%s: took %lld ms", c->path,
			    (long long)(o.done_at_ms - t0));
		if (c->error == FETCH_OK) {
			if (o.redirects != c->redirects)
				fail_msg(
				    "%s: %d redirects", c->path, o.redirects);
			if (o.permanent_redirect != c->permanent)
				fail_msg("%s: permanent %d", c->path,
				    o.permanent_redirect);
		}
		if (c->error == FETCH_ERR_REDIRECT && c->redirects > 0 &&
		    o.redirects != c->redirects)
			fail_msg("%s: %d redirects", c->path, o.redirects);
		if (o.retry_after_s < c->retry_after_min ||
		    o.retry_after_s > c->retry_after_max)
			fail_msg("%s: retry after %lld", c->path,
			    (long long)o.retry_after_s);
		if (c->body == NULL && o.sink_bytes != 0)
			fail_msg("%s: %llu bytes reached the sink", c->path,
			    (unsigned long long)o.sink_bytes);
		if (c->body != NULL && strcmp(c->body, "*") != 0)
			assert_string_equal(buf_str(&o.body), c->body);
		if (c->final_path != NULL)
			assert_string_equal(o.final_url, url(c->final_path));
		buf_free(&o.body);
	}
}

static long
maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Oversized bodies stop at the decoded cap (default 10 MiB) with little
 * memory, whatever the framing or encoding. */
static void
test_caps(void **state)
{
	static const char *paths[] = {
	    "/big?mib=50", "/bomb/gzip", "/bomb/deflate"};
	struct fetch_opts opts;
	struct outcome o;
	long rss0;
	size_t i;

	rss0 = maxrss_kib();
	for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		memset(&opts, 0, sizeof opts);
		opts.url = url(paths[i]);
		fetch1(&opts, &o);
		if (o.error != FETCH_ERR_TOO_LARGE)
			fail_msg("%s: %s (%s)", paths[i],
			    fetch_error_name(o.error), o.cause);
		assert_true(o.bytes > FETCH_DEFAULT_MAX_BODY);
		assert_true(o.bytes <= FETCH_DEFAULT_MAX_BODY + 256 * 1024);
		assert_true(o.sink_bytes <= FETCH_DEFAULT_MAX_BODY);
		buf_free(&o.body);
	}
	/* Content-Length over the cap: refused before the body. */
	memset(&opts, 0, sizeof opts);
	opts.url = url("/biglen?mib=50");
	fetch1(&opts, &o);
	assert_int_equal(o.error, FETCH_ERR_TOO_LARGE);
	assert_int_equal(o.sink_bytes, 0);
	buf_free(&o.body);
	/* A per-feed cap. */
	memset(&opts, 0, sizeof opts);
	opts.url = url("/big?mib=2");
	opts.max_body = 100000;
	fetch1(&opts, &o);
	assert_int_equal(o.error, FETCH_ERR_TOO_LARGE);
	assert_true(o.bytes > 100000 && o.bytes < 200000);
	buf_free(&o.body);
	/* Peak RSS grew by far less than one decoded body. */
	assert_true(maxrss_kib() - rss0 < 8 * 1024);
}

/* A response header over libcurl's limit: said so, not "out of memory"
 * alone, which reads as this host's. */
static void
test_big_header(void **state)
{
	struct fetch_opts opts = {.url = url("/bighdr")};
	struct outcome o;

	fetch1(&opts, &o);
	assert_int_equal(o.error, FETCH_ERR_PROTOCOL);
	assert_non_null(strstr(o.cause, "header over 100 KB"));
	buf_free(&o.body);
}

static void
test_cache_hints(void **state)
{
	struct fetch_opts opts = {.url = url("/cache")};
	struct outcome o;

	fetch1(&opts, &o);
	assert_int_equal(o.error, FETCH_OK);
	assert_int_equal(o.max_age_s, 600);
	assert_true(o.expires_in_s >= 899 && o.expires_in_s <= 900);
	buf_free(&o.body);
}

static void
test_sink_refuses(void **state)
{
	struct fetch_opts opts = {.url = url("/feed")};
	struct env e;
	struct outcome o;

	env_init(&e, 0, 0);
	memset(&o, 0, sizeof o);
	o.refuse = 1;
	start(&e, &opts, &o);
	run(&e, 5000);
	assert_int_equal(o.error, FETCH_ERR_SINK);
	assert_int_equal(o.status, 200);
	buf_free(&o.body);
	env_free(&e);
}

/* User agent, extra headers and basic auth reach the server. */
static void
test_request_options(void **state)
{
	static const char *headers[] = {"X-Feed-Test: yes", "Accept: */*"};
	char path[] = "/tmp/test_fetch_pw.XXXXXX";
	struct fetch_opts opts = {.url = url("/headers")};
	struct outcome o;
	char *cause = NULL;
	struct env e;
	int fd;

	fd = mkstemp(path); /* mode 0600 */
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\nignored\n", 15), 15);
	close(fd);
	opts.user_agent = "test-agent/1";
	opts.headers = headers;
	opts.nheaders = 2;
	opts.username = "user";
	opts.password_file = path;
	fetch1(&opts, &o);
	assert_int_equal(o.error, FETCH_OK);
	assert_non_null(strstr(buf_str(&o.body), "User-Agent: test-agent/1"));
	assert_non_null(strstr(buf_str(&o.body), "X-Feed-Test: yes"));
	/* base64("user:s3cret") */
	assert_non_null(
	    strstr(buf_str(&o.body), "Authorization: Basic dXNlcjpzM2NyZXQ="));
	assert_non_null(strstr(buf_str(&o.body), "Accept-Encoding: "));
	buf_free(&o.body);

	/* From the environment. */
	setenv("TEST_FETCH_PW", "fromenv", 1);
	opts.password_file = NULL;
	opts.password_env = "TEST_FETCH_PW";
	fetch1(&opts, &o);
	/* base64("user:fromenv") */
	assert_non_null(
	    strstr(buf_str(&o.body), "Authorization: Basic dXNlcjpmcm9tZW52"));
	buf_free(&o.body);

	/* Refused before any request: a secret others can read, a missing
	 * variable, a header with a line break, file:// not allowed. */
	env_init(&e, 0, 0);
	chmod(path, 0644);
	opts.password_env = NULL;
	opts.password_file = path;
	assert_null(fetch_start(e.q, &opts, NULL, done, &o, &cause));
	assert_non_null(strstr(cause, "others"));
	free(cause);
	opts.password_file = NULL;
	opts.password_env = "TEST_FETCH_UNSET_VARIABLE";
	assert_null(fetch_start(e.q, &opts, NULL, done, &o, &cause));
	free(cause);
	opts.username = NULL;
	headers[0] = "X-Evil: a\r\nHost: other";
	assert_null(fetch_start(e.q, &opts, NULL, done, &o, &cause));
	free(cause);
	headers[0] = "X-Feed-Test: yes";
	opts.nheaders = 0;
	opts.url = "file:///etc/hostname";
	assert_null(fetch_start(e.q, &opts, NULL, done, &o, &cause));
	assert_non_null(strstr(cause, "file://"));
	free(cause);
	opts.url = "ftp://127.0.0.1/feed";
	assert_null(fetch_start(e.q, &opts, NULL, done, &o, &cause));
	free(cause);
	assert_int_equal(fetch_queue_waiting(e.q), 0);
	env_free(&e);
	unlink(path);
}

static void
test_file_url(void **state)
{
	char path[] = "/tmp/test_fetch_feed.XXXXXX", u[128];
	struct fetch_opts opts = {.allow_file = 1};
	struct outcome o;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, FEED_BODY, strlen(FEED_BODY)),
	    (ssize_t)strlen(FEED_BODY));
	close(fd);
	snprintf(u, sizeof u, "file://%s", path);
	opts.url = u;
	fetch1(&opts, &o);
	assert_int_equal(o.error, FETCH_OK);
	assert_int_equal(o.status, 0);
	assert_string_equal(buf_str(&o.body), FEED_BODY);
	/* libcurl's lines for a file (its length, its time) are no HTTP
	 * headers: a parser given them would read the file as a response
	 * without a Content-Type (ISO-8859-1, "not an XML media type"). */
	assert_int_equal(o.sink_headers, 0);
	buf_free(&o.body);
	unlink(path);
	fetch1(&opts, &o);
	assert_int_equal(o.error, FETCH_ERR_CONNECT);
	buf_free(&o.body);
}

/*
 * Hanging and dripping feeds on one host run beside healthy feeds on
 * other hosts ("localhost", the same server by another name), which end
 * at once. The per-host cap (2) makes a third feed of the bad host wait
 * for a slot, not the others.
 */
static void
test_bad_feeds_delay_no_other(void **state)
{
	struct env e;
	struct fetch_opts bad = {0}, good = {0};
	struct outcome hang, drip, queued, ok[6];
	char u[128];
	int64_t t0;
	size_t i;

	env_init(&e, 32, 2);
	memset(&hang, 0, sizeof hang);
	memset(&drip, 0, sizeof drip);
	memset(&queued, 0, sizeof queued);
	bad.timeout_ms = 1500;
	bad.low_speed_time = 1;
	t0 = now_ms();
	bad.url = url("/hang");
	start(&e, &bad, &hang);
	bad.url = url("/drip");
	start(&e, &bad, &drip);
	bad.url = url("/feed");
	start(&e, &bad, &queued);
	assert_int_equal(fetch_queue_running(e.q), 2);
	assert_int_equal(fetch_queue_waiting(e.q), 1);
	for (i = 0; i < 6; i++) {
		snprintf(
		    u, sizeof u, "http://localhost:%d/feed?n=%zu", port, i);
		memset(&ok[i], 0, sizeof ok[i]);
		good.url = u;
		start(&e, &good, &ok[i]);
	}
	run(&e, 10000);
	for (i = 0; i < 6; i++) {
		assert_int_equal(ok[i].error, FETCH_OK);
		assert_true(ok[i].done_at_ms - t0 < 500);
		assert_true(ok[i].max_running <= 4); /* 2 + 2 per host */
		buf_free(&ok[i].body);
	}
	assert_int_equal(hang.error, FETCH_ERR_TIMEOUT);
	assert_int_equal(drip.error, FETCH_ERR_TIMEOUT);
	assert_true(hang.done_at_ms - t0 >= 900); /* low-speed: 1 s */
	/* The third feed of the bad host ran when a slot freed. */
	assert_int_equal(queued.error, FETCH_OK);
	assert_true(queued.done_at_ms >= drip.done_at_ms ||
	    queued.done_at_ms >= hang.done_at_ms);
	buf_free(&hang.body);
	buf_free(&drip.body);
	buf_free(&queued.body);
	env_free(&e);
}

/* New limits (a reload) apply to what is queued: more start at once when
 * they are raised. */
static void
test_set_limits(void **state)
{
	struct env e;
	struct fetch_opts opts = {0};
	struct outcome o[4];
	size_t i;

	env_init(&e, 32, 1);
	opts.url = url("/feed");
	for (i = 0; i < 4; i++) {
		memset(&o[i], 0, sizeof o[i]);
		start(&e, &opts, &o[i]);
	}
	assert_int_equal(fetch_queue_running(e.q), 1);
	assert_int_equal(fetch_queue_waiting(e.q), 3);
	fetch_queue_set_limits(e.q, 32, 3);
	assert_int_equal(fetch_queue_running(e.q), 3);
	assert_int_equal(fetch_queue_waiting(e.q), 1);
	fetch_queue_set_limits(e.q, 2, 3);
	run(&e, 5000);
	for (i = 0; i < 4; i++) {
		assert_int_equal(o[i].error, FETCH_OK);
		buf_free(&o[i].body);
	}
	env_free(&e);
}

/* The global cap holds; cancelling queued and running fetches works. */
static void
test_global_cap_and_cancel(void **state)
{
	struct env e;
	struct fetch_opts opts = {0};
	struct outcome o[8], c1, c2;
	struct fetch *f1, *f2;
	struct fetch_sink sink = {NULL, NULL, NULL};
	char *cause = NULL;
	size_t i;

	env_init(&e, 2, 8);
	opts.url = url("/hang");
	memset(&c1, 0, sizeof c1);
	memset(&c2, 0, sizeof c2);
	f1 = fetch_start(e.q, &opts, &sink, done, &c1, &cause);
	f2 = fetch_start(e.q, &opts, &sink, done, &c2, &cause);
	opts.url = url("/feed");
	for (i = 0; i < 8; i++) {
		memset(&o[i], 0, sizeof o[i]);
		start(&e, &opts, &o[i]);
	}
	assert_int_equal(fetch_queue_running(e.q), 2);
	assert_int_equal(fetch_queue_waiting(e.q), 8);
	event_base_loop(e.base, EVLOOP_NONBLOCK);
	fetch_cancel(f1);
	fetch_cancel(f2);
	run(&e, 5000);
	for (i = 0; i < 8; i++) {
		assert_int_equal(o[i].error, FETCH_OK);
		assert_true(o[i].max_running <= 2);
		buf_free(&o[i].body);
	}
	assert_int_equal(c1.done + c2.done, 0);
	/* Freeing the queue with fetches queued and running: no callback. */
	opts.url = url("/hang");
	for (i = 0; i < 4; i++) {
		memset(&o[i], 0, sizeof o[i]);
		start(&e, &opts, &o[i]);
	}
	fetch_queue_free(e.q);
	e.q = NULL;
	for (i = 0; i < 4; i++) {
		assert_int_equal(o[i].done, 0);
		buf_free(&o[i].body);
	}
	curlev_free(e.cl);
	event_base_free(e.base);
}

/* A listener this test owns; counts what connects to it. */
static int
listener(int family, int *lport)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof ss);
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof *sin;
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof *sin6;
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*lport = ntohs(family == AF_INET ? sin->sin_port : sin6->sin6_port);
	return fd;
}

static int
accepted(int lfd)
{
	int n = 0, fd;

	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		close(fd);
		n++;
	}
	return n;
}

/* The guard of the SSRF redirect test: the fault server's port passes,
 * everything else is netguard's call. */
static int guard_calls;

static int
guard_but_server(const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

	guard_calls++;
	if (sa->sa_family == AF_INET && ntohs(sin->sin_port) == port)
		return 0;
	return netguard_blocked(sa, len);
}

static void
test_ssrf(void **state)
{
	int l4, l6, p4, p6;
	char urls[8][256];
	struct fetch_opts opts = {0};
	struct outcome o;
	struct env e;
	size_t i, n = 0;

	l4 = listener(AF_INET, &p4);
	l6 = listener(AF_INET6, &p6);
	snprintf(urls[n++], 256, "http://127.0.0.1:%d/", p4);
	snprintf(urls[n++], 256, "http://0x7f000001:%d/", p4);
	snprintf(urls[n++], 256, "http://2130706433:%d/", p4);
	snprintf(urls[n++], 256, "http://localhost:%d/", p4);
	snprintf(urls[n++], 256, "http://[::1]:%d/", p6);
	snprintf(urls[n++], 256, "http://[::ffff:127.0.0.1]:%d/", p4);
	opts.block_private = 1;
	opts.timeout_ms = 2000;
	for (i = 0; i < n; i++) {
		opts.url = urls[i];
		fetch1(&opts, &o);
		if (o.error != FETCH_ERR_CONNECT)
			fail_msg("%s: %s (%s)", urls[i],
			    fetch_error_name(o.error), o.cause);
		assert_non_null(strstr(o.cause, "block_private_addresses"));
		buf_free(&o.body);
	}
	/* Through a redirect: the first hop passes, the second is refused. */
	env_init(&e, 0, 0);
	fetch_queue_set_guard(e.q, guard_but_server);
	snprintf(urls[0], 256, "/redirect/302?to=http://127.0.0.1:%d/", p4);
	opts.url = url(urls[0]);
	memset(&o, 0, sizeof o);
	start(&e, &opts, &o);
	run(&e, 5000);
	assert_int_equal(o.error, FETCH_ERR_CONNECT);
	assert_int_equal(o.redirects, 1);
	assert_true(guard_calls >= 2);
	assert_non_null(strstr(o.cause, "127.0.0.1"));
	buf_free(&o.body);
	env_free(&e);
	usleep(50000);
	assert_int_equal(accepted(l4), 0);
	assert_int_equal(accepted(l6), 0);

	/* The per-feed override lets them through to the listeners. */
	opts.block_private = 0;
	opts.timeout_ms = 300;
	for (i = 0; i < 2; i++) {
		snprintf(urls[0], 256,
		    i == 0 ? "http://127.0.0.1:%d/" : "http://[::1]:%d/",
		    i == 0 ? p4 : p6);
		opts.url = urls[0];
		fetch1(&opts, &o);
		assert_int_equal(o.error, FETCH_ERR_TIMEOUT);
		buf_free(&o.body);
	}
	usleep(50000);
	assert_int_equal(accepted(l4), 1);
	assert_int_equal(accepted(l6), 1);
	close(l4);
	close(l6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_feed_and_conditional),
	    cmocka_unit_test(test_faults),
	    cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_cache_hints),
	    cmocka_unit_test(test_sink_refuses),
	    cmocka_unit_test(test_request_options),
	    cmocka_unit_test(test_file_url),
	    cmocka_unit_test(test_bad_feeds_delay_no_other),
	    cmocka_unit_test(test_global_cap_and_cancel),
	    cmocka_unit_test(test_set_limits),
	    cmocka_unit_test(test_big_header),
	    cmocka_unit_test(test_ssrf),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, server_start, server_stop);
	curl_global_cleanup();
	return rc;
}

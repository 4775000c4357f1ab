/*
 * fetch: one feed document over HTTP(S) (or file:// when configured) on
 * a curlev, streamed into a sink as it arrives.
 *
 * A fetch_queue runs fetches under two caps: transfers in flight overall
 * and per host. Waiting fetches sit in fetch's own per-host queues and
 * hold no curl handle; see fetch.c for why CURLMOPT_MAX_HOST_CONNECTIONS
 * is not used for this.
 *
 * Every fetch ends in exactly one call of its done callback, from the
 * event loop, with a fetch_result saying what happened. Hostile servers
 * are expected: bodies are capped after decoding, redirects are limited
 * to 5 and to http/https, and the SSRF guard (netguard) checks every
 * connect when block_private is set.
 */
#ifndef FETCH_H
#define FETCH_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

struct curlev;
struct fetch;
struct fetch_queue;

#define FETCH_DEFAULT_MAX_TOTAL 32
#define FETCH_DEFAULT_MAX_PER_HOST 2
#define FETCH_DEFAULT_MAX_BODY (10 * 1024 * 1024) /* decoded bytes */
#define FETCH_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define FETCH_DEFAULT_TIMEOUT_MS 60000
#define FETCH_DEFAULT_LOW_SPEED_LIMIT 100 /* bytes/s ... */
#define FETCH_DEFAULT_LOW_SPEED_TIME 30 /* ... for this many seconds */
#define FETCH_DEFAULT_USER_AGENT "feedwatch/" FEEDWATCH_VERSION

/* What to fetch and how. Strings are copied by fetch_start; 0 or NULL
 * means the default. */
struct fetch_opts {
	const char *url;
	const char *etag; /* validators of the last 200, or NULL */
	const char *last_modified;
	const char *user_agent;
	const char *const *headers; /* "Name: value" lines */
	size_t nheaders;
	const char *username; /* HTTP basic auth, with one of: */
	const char *password;
	const char *password_file; /* first line; refused if others can read */
	const char *password_env; /* name of an environment variable */
	const char *proxy; /* NULL: none (the *_proxy variables are
				      ignored) */
	const char *ca_file;
	int allow_file; /* the URL may be file:// (never via redirect) */
	int block_private; /* refuse local and private addresses */
	int64_t connect_timeout_ms;
	int64_t timeout_ms; /* the whole transfer */
	long low_speed_limit; /* abort below this many bytes/s ... */
	long low_speed_time; /* ... sustained for this many seconds */
	uint64_t max_body; /* decoded bytes */
};

/*
 * Where the body goes. header() is called for each header of the final
 * 2xx response, just before its first data() call (or at the end when
 * the body is empty); data() gets the decoded body in order. Either
 * returns -1 to abort the fetch (FETCH_ERR_SINK). Both run inside curl's
 * callbacks: they must not call curlev or fetch functions. Either may be
 * NULL. Nothing is delivered for 304 or error statuses.
 */
struct fetch_sink {
	int (*header)(void *arg, const char *name, const char *value);
	int (*data)(void *arg, const void *data, size_t len);
	void *arg;
};

enum fetch_error {
	FETCH_OK = 0, /* 2xx, or 304 (not_modified set) */
	FETCH_ERR_CONFIG, /* refused before any request: bad URL,
				  file:// not allowed, unreadable secret */
	FETCH_ERR_CONNECT, /* DNS, refused, SSRF guard, file unreadable */
	FETCH_ERR_TIMEOUT, /* connect, total or low-speed timeout */
	FETCH_ERR_TLS, /* handshake or certificate */
	FETCH_ERR_HTTP, /* a status other than 2xx and 304 */
	FETCH_ERR_REDIRECT, /* too many, or to a refused protocol */
	FETCH_ERR_TOO_LARGE, /* body over max_body (decoded) */
	FETCH_ERR_CONTENT_TYPE, /* image, audio or video: not a feed */
	FETCH_ERR_PROTOCOL, /* malformed response, bad encoding */
	FETCH_ERR_SINK, /* the sink refused the body (parse error) */
};

/* How a fetch ended. Owned by fetch; valid only during the done callback
 * (copy what must outlive it). Absent values are NULL or -1. */
struct fetch_result {
	enum fetch_error error;
	const char *cause; /* readable, without the error's name (callers
			      write "name: cause"); NULL when FETCH_OK */
	long status; /* final HTTP status; 0 for file:// or none */
	int not_modified; /* 304: the validators still hold */
	const char *etag; /* validators of this response (200 only) */
	const char *last_modified;
	const char *content_type;
	const char *final_url; /* after redirects */
	int redirects; /* hops followed */
	int permanent_redirect; /* >= 1 hop, every one 301 or 308 */
	int64_t retry_after_s; /* Retry-After as a delay (429, 503) */
	int64_t max_age_s; /* Cache-Control: max-age */
	int64_t expires_in_s; /* Expires minus Date (or now), >= 0 */
	uint64_t bytes; /* decoded body bytes received */
	int64_t elapsed_ms; /* from the request's start (queueing
				   excluded) */
};

typedef void (*fetch_done_cb)(
    struct fetch *, const struct fetch_result *, void *arg);

/* A queue running on cl (not owned); 0 means the default cap. */
struct fetch_queue *fetch_queue_new(
    struct curlev *cl, size_t max_total, size_t max_per_host);
/* New limits (a reload): transfers running over them finish; queued ones
 * start as the new limits allow. */
void fetch_queue_set_limits(
    struct fetch_queue *, size_t max_total, size_t max_per_host);
/* Cancel every fetch, queued or running, without callbacks. */
void fetch_queue_free(struct fetch_queue *);
/* Replace the SSRF guard's address check (netguard_blocked; NULL restores
 * it) for fetches with block_private set. Tests use it to let one local
 * server through and see the guard refuse the next hop. */
void fetch_queue_set_guard(
    struct fetch_queue *, int (*blocked)(const struct sockaddr *, socklen_t));
size_t fetch_queue_running(const struct fetch_queue *);
size_t fetch_queue_waiting(const struct fetch_queue *);

/*
 * Queue a fetch. done_cb runs once, from the event loop, and the fetch
 * is freed when it returns. Returns NULL and sets *cause (owned by the
 * caller) when the options are refused outright (FETCH_ERR_CONFIG): no
 * callback then.
 */
struct fetch *fetch_start(struct fetch_queue *, const struct fetch_opts *,
    const struct fetch_sink *, fetch_done_cb done_cb, void *arg, char **cause);
/* Drop a queued or running fetch; no callback. Not from inside a sink. */
void fetch_cancel(struct fetch *);

/* "connect", "timeout", ...: a stable name for logs and metrics. */
const char *fetch_error_name(enum fetch_error);

#endif

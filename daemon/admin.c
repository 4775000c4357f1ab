/*
 * admin: the operators' HTTP server. See admin.h.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "admin.h"
#include "buf.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "store.h"
#include "units.h"
#include "xmalloc.h"

/* Request headers (all together) and body: a GET has no body. */
#define ADMIN_MAX_HEADERS 8192
#define ADMIN_MAX_BODY 0
/* Seconds a connection may take to send a request or read an answer. */
#define ADMIN_TIMEOUT_S 10
/* The largest answer built (metrics of 100,000 feeds fit). */
#define ADMIN_MAX_RESPONSE (64 * 1024 * 1024)
/* Outbox rows and alerts one answer lists. */
#define ADMIN_MAX_ROWS 1000
#define ADMIN_DEFAULT_ALERTS 100
/* ?since= default: the last day. */
#define ADMIN_DEFAULT_SINCE_S 86400
/* Work in flight without progress this long: /healthz fails. */
#define ADMIN_STALL_S 300
/* When accept() fails (out of file descriptors), the server stops
 * accepting for this long, and says so at most once a minute. */
#define ADMIN_ACCEPT_PAUSE_MS 500
#define ADMIN_ACCEPT_WARN_EVERY_S 60

struct admin {
	struct event_base *base;
	struct engine *engine;
	struct evhttp *http;
	struct evconnlistener *listener;
	struct event *resume; /* accepting again after a failed accept() */
	time_t accept_warned_at;
	int port;
	int has_token;
	unsigned char token_hash[SHA256_DIGEST_LENGTH];
};

void
admin_set_token(struct admin *a, const char *token)
{
	a->has_token = token != NULL;
	memset(a->token_hash, 0, sizeof a->token_hash);
	if (token != NULL)
		SHA256(
		    (const unsigned char *)token, strlen(token), a->token_hash);
}

/* Whether the request carries the token: both sides are hashed so that
 * the comparison takes the same time whatever the length. */
static int
admin_authorized(struct admin *a, struct evhttp_request *req)
{
	unsigned char hash[SHA256_DIGEST_LENGTH];
	const char *h;

	if (!a->has_token)
		return 1;
	h = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	SHA256((const unsigned char *)h, strlen(h), hash);
	return CRYPTO_memcmp(hash, a->token_hash, sizeof hash) == 0;
}

static void
admin_reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, const char *body, size_t len)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(out, "Content-Type", type);
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evbuffer_add(b, body, len);
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

/* Send a JSON document (stolen) with CODE. */
static void
admin_json(
    struct evhttp_request *req, int code, const char *reason, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
	size_t len;

	json_decref(doc);
	if (text == NULL)
		fatalx("json_dumps failed");
	len = strlen(text);
	if (len > ADMIN_MAX_RESPONSE) {
		free(text);
		text = xstrdup("{\"error\":\"answer too large\"}");
		len = strlen(text);
		code = 500;
		reason = "Internal Server Error";
	}
	admin_reply(req, code, reason, "application/json", text, len);
	free(text);
}

static void
admin_error(struct evhttp_request *req, int code, const char *reason,
    const char *message)
{
	admin_json(req, code, reason, json_pack("{s:s}", "error", message));
}

/* A time in seconds as JSON: null for none. */
static json_t *
admin_time(int64_t t)
{
	return t > 0 ? json_integer(t) : json_null();
}

static json_t *
admin_string(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	/* Text from feeds may not be UTF-8: keep what is valid. */
	if ((j = json_string(s)) == NULL)
		j = json_string("(not UTF-8)");
	return j;
}

static void
admin_healthz(struct admin *a, struct evhttp_request *req)
{
	int64_t stalled = engine_without_progress(a->engine);

	if (engine_working(a->engine) && stalled >= ADMIN_STALL_S) {
		admin_json(req, 503, "Service Unavailable",
		    json_pack("{s:s,s:I}", "status", "stalled",
			"seconds_without_progress", (json_int_t)stalled));
		return;
	}
	admin_json(req, 200, "OK",
	    json_pack("{s:s,s:I}", "status", "ok", "seconds_without_progress",
		(json_int_t)stalled));
}

static void
admin_readyz(struct admin *a, struct evhttp_request *req)
{
	struct store_outbox_stats os;
	char *cause = NULL;

	if (engine_config(a->engine) == NULL) {
		admin_error(
		    req, 503, "Service Unavailable", "no configuration");
		return;
	}
	if (store_outbox_stats(
		engine_store(a->engine), time(NULL), &os, &cause) == -1) {
		admin_json(req, 503, "Service Unavailable",
		    json_pack("{s:s,s:o}", "status", "store unavailable",
			"error", admin_string(cause)));
		free(cause);
		return;
	}
	admin_json(req, 200, "OK", json_pack("{s:s}", "status", "ready"));
}

static void
admin_metrics(struct admin *a, struct evhttp_request *req)
{
	struct buf b;

	buf_init(&b, ADMIN_MAX_RESPONSE);
	if (engine_metrics_render(a->engine, &b) == -1) {
		admin_error(
		    req, 500, "Internal Server Error", "metrics too large");
		return;
	}
	admin_reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
	    buf_str(&b), b.len);
	buf_free(&b);
}

/* The configuration in force: when it came, and a reload that failed
 * since (null when none). */
static json_t *
admin_config(struct admin *a)
{
	int64_t loaded_at, failed_at;
	const char *failed =
	    engine_reload_state(a->engine, &loaded_at, &failed_at);

	return json_pack("{s:I, s:o, s:o}", "loaded_at", (json_int_t)loaded_at,
	    "reload_failed_at",
	    failed != NULL ? json_integer(failed_at) : json_null(),
	    "reload_error",
	    failed != NULL ? admin_string(failed) : json_null());
}

static void
admin_feeds(struct admin *a, struct evhttp_request *req)
{
	struct engine_feed_info fi;
	json_t *feeds = json_array(), *f;
	uint64_t items;
	size_t i;

	for (i = 0; engine_feed_info(a->engine, i, &fi) == 0; i++) {
		if (store_feed_item_count(
			engine_store(a->engine), fi.url, &items, NULL) == -1)
			items = 0;
		f = json_object();
		json_object_set_new(f, "name", admin_string(fi.name));
		json_object_set_new(f, "url", admin_string(fi.url));
		json_object_set_new(f, "moved_to", admin_string(fi.moved_to));
		json_object_set_new(f, "state", json_string(fi.state));
		json_object_set_new(
		    f, "last_poll_at", admin_time(fi.last_poll_at));
		json_object_set_new(
		    f, "last_success_at", admin_time(fi.last_success_at));
		json_object_set_new(f, "consecutive_failures",
		    json_integer(fi.consecutive_failures));
		json_object_set_new(f, "last_status",
		    fi.last_status > 0 ? json_integer(fi.last_status)
				       : json_null());
		json_object_set_new(
		    f, "last_error", admin_string(fi.last_error));
		json_object_set_new(
		    f, "next_poll_at", admin_time(fi.next_poll_at));
		json_object_set_new(f, "polling", json_boolean(fi.polling));
		json_object_set_new(
		    f, "items", json_integer((json_int_t)items));
		json_array_append_new(feeds, f);
	}
	admin_json(req, 200, "OK",
	    json_pack("{s:o, s:o}", "feeds", feeds, "config", admin_config(a)));
}

/*
 * ?since=: Unix seconds, or a duration back from now ("90m", "2d");
 * ?limit=: 1 to ADMIN_MAX_ROWS. 0, or -1 with *why.
 */
static int
admin_alert_query(const struct evhttp_uri *uri, int64_t now, int64_t *since,
    size_t *limit, const char **why)
{
	struct evkeyvalq q;
	const char *v, *query = evhttp_uri_get_query(uri);
	char *end;
	long long n;
	int64_t ms;
	int rc = 0;

	*since = now - ADMIN_DEFAULT_SINCE_S;
	*limit = ADMIN_DEFAULT_ALERTS;
	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1) {
		*why = "malformed query";
		return -1;
	}
	if ((v = evhttp_find_header(&q, "since")) != NULL) {
		errno = 0;
		n = strtoll(v, &end, 10);
		if (*v != '\0' && *end == '\0' && errno == 0 && n >= 0)
			*since = (int64_t)n;
		else if (units_duration(v, &ms) == 0)
			*since = now - ms / 1000;
		else {
			*why = "since: Unix seconds or a duration like 2h";
			rc = -1;
		}
	}
	if (rc == 0 && (v = evhttp_find_header(&q, "limit")) != NULL) {
		errno = 0;
		n = strtoll(v, &end, 10);
		if (*v == '\0' || *end != '\0' || errno != 0 || n < 1 ||
		    n > ADMIN_MAX_ROWS) {
			*why = "limit: a whole number from 1 to 1000";
			rc = -1;
		} else
			*limit = (size_t)n;
	}
	evhttp_clear_headers(&q);
	return rc;
}

static void
admin_alerts(struct admin *a, struct evhttp_request *req)
{
	struct store_outbox_row *rows = NULL;
	json_t *alerts, *doc;
	json_error_t jerr;
	const char *why = NULL;
	char *cause = NULL;
	int64_t since;
	size_t i, n = 0, limit;

	if (admin_alert_query(evhttp_request_get_evhttp_uri(req), time(NULL),
		&since, &limit, &why) == -1) {
		admin_error(req, 400, "Bad Request", why);
		return;
	}
	if (store_alerts_since(engine_store(a->engine), since, limit, &rows, &n,
		&cause) == -1) {
		admin_error(req, 500, "Internal Server Error", cause);
		free(cause);
		return;
	}
	alerts = json_array();
	for (i = 0; i < n; i++) {
		/* The payload is the alert document, explanation included. */
		doc = json_loads(rows[i].payload, 0, &jerr);
		if (doc == NULL)
			doc = json_pack("{s:s,s:s,s:s}", "id", rows[i].alert_id,
			    "watchlist", rows[i].watchlist, "error",
			    "stored payload is not JSON");
		json_array_append_new(alerts, doc);
	}
	store_outbox_rows_free(rows, n);
	admin_json(req, 200, "OK",
	    json_pack(
		"{s:I,s:o}", "since", (json_int_t)since, "alerts", alerts));
}

static void
admin_outbox(struct admin *a, struct evhttp_request *req)
{
	static const int states[] = {
	    STORE_OUTBOX_PENDING, STORE_OUTBOX_INFLIGHT, STORE_OUTBOX_DEAD};
	struct store *st = engine_store(a->engine);
	struct store_outbox_stats os;
	struct store_outbox_row *rows, *r;
	json_t *list = json_array(), *o;
	char *cause = NULL;
	size_t i, j, n, shown = 0;
	int truncated = 0;

	if (store_outbox_stats(st, time(NULL), &os, &cause) == -1)
		goto fail;
	for (i = 0; i < sizeof states / sizeof states[0]; i++) {
		if (store_outbox_list(st, states[i], &rows, &n, &cause) == -1)
			goto fail;
		for (j = 0; j < n; j++) {
			if (shown == ADMIN_MAX_ROWS) {
				truncated = 1;
				break;
			}
			r = &rows[j];
			o = json_object();
			json_object_set_new(o, "id", admin_string(r->id));
			json_object_set_new(
			    o, "alert_id", admin_string(r->alert_id));
			json_object_set_new(
			    o, "watchlist", admin_string(r->watchlist));
			json_object_set_new(
			    o, "notifier", admin_string(r->notifier));
			json_object_set_new(
			    o, "feed_url", admin_string(r->feed_url));
			json_object_set_new(o, "state",
			    json_string(store_outbox_state_name(r->state)));
			json_object_set_new(
			    o, "attempts", json_integer(r->attempts));
			json_object_set_new(
			    o, "created_at", json_integer(r->created_at));
			json_object_set_new(o, "next_attempt_at",
			    json_integer(r->next_attempt_at));
			json_object_set_new(
			    o, "last_error", admin_string(r->last_error));
			json_array_append_new(list, o);
			shown++;
		}
		store_outbox_rows_free(rows, n);
	}
	admin_json(req, 200, "OK",
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:o,s:b}", "pending",
		(json_int_t)os.pending, "inflight", (json_int_t)os.inflight,
		"delivered", (json_int_t)os.delivered, "dead",
		(json_int_t)os.dead, "oldest_pending_age",
		(json_int_t)os.oldest_pending_age, "rows", list, "truncated",
		truncated));
	return;
fail:
	json_decref(list);
	admin_error(req, 500, "Internal Server Error", cause);
	free(cause);
}

struct admin_route {
	const char *path;
	int open; /* answered without the token */
	void (*handler)(struct admin *, struct evhttp_request *);
};

static const struct admin_route admin_routes[] = {
    {"/healthz", 1, admin_healthz},
    {"/readyz", 1, admin_readyz},
    {"/metrics", 0, admin_metrics},
    {"/api/v1/feeds", 0, admin_feeds},
    {"/api/v1/alerts", 0, admin_alerts},
    {"/api/v1/outbox", 0, admin_outbox},
};

static void
admin_request_cb(struct evhttp_request *req, void *arg)
{
	struct admin *a = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	const struct admin_route *route = NULL;
	size_t i;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(
		    evhttp_request_get_output_headers(req), "Allow", "GET");
		admin_error(req, 405, "Method Not Allowed", "only GET");
		return;
	}
	for (i = 0;
	     path != NULL && i < sizeof admin_routes / sizeof admin_routes[0];
	     i++)
		if (strcmp(path, admin_routes[i].path) == 0)
			route = &admin_routes[i];
	if (route == NULL) {
		admin_error(req, 404, "Not Found", "no such path");
		return;
	}
	if (!route->open && !admin_authorized(a, req)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer realm=\"feedwatch\"");
		admin_error(req, 401, "Unauthorized", "bearer token required");
		return;
	}
	route->handler(a, req);
}

/* The server whose listener's errors admin_accept_error_cb() handles
 * (libevent passes it the evhttp's argument, not one of its own). */
static struct admin *admin_accepting;

/* accept() failed: without a pause the listener, still readable, would
 * try again at once, for ever (and libevent would log every attempt). */
static void
admin_accept_error_cb(struct evconnlistener *listener, void *arg)
{
	struct admin *a = admin_accepting;
	struct timeval tv = {0, ADMIN_ACCEPT_PAUSE_MS * 1000};
	int error = EVUTIL_SOCKET_ERROR();
	time_t now = time(NULL);

	if (a == NULL || a->listener != listener)
		return;
	evconnlistener_disable(listener);
	evtimer_add(a->resume, &tv);
	if (a->accept_warned_at == 0 ||
	    now - a->accept_warned_at >= ADMIN_ACCEPT_WARN_EVERY_S) {
		log_warnx("admin: cannot accept connections: %s; trying "
			  "again every %d ms",
		    evutil_socket_error_to_string(error),
		    ADMIN_ACCEPT_PAUSE_MS);
		a->accept_warned_at = now;
	}
}

static void
admin_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	struct admin *a = arg;

	evconnlistener_enable(a->listener);
}

struct admin *
admin_new(struct event_base *base, struct engine *engine,
    const struct admin_options *opts, char **cause)
{
	struct admin *a = xcalloc(1, sizeof *a);
	struct evhttp_bound_socket *bound;
	struct sockaddr_storage ss;
	ev_socklen_t sslen = sizeof ss;
	evutil_socket_t fd;

	a->base = base;
	a->engine = engine;
	if ((a->http = evhttp_new(base)) == NULL)
		fatalx("evhttp_new failed");
	evhttp_set_allowed_methods(a->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
		EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
		EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(a->http, ADMIN_MAX_HEADERS);
	evhttp_set_max_body_size(a->http, ADMIN_MAX_BODY);
	evhttp_set_timeout(a->http, ADMIN_TIMEOUT_S);
	evhttp_set_gencb(a->http, admin_request_cb, a);
	admin_set_token(a, opts->token);
	bound = evhttp_bind_socket_with_handle(
	    a->http, opts->address, (ev_uint16_t)opts->port);
	if (bound == NULL) {
		xasprintf(cause, "admin: cannot listen on %s port %d: %s",
		    opts->address, opts->port,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		admin_free(a);
		return NULL;
	}
	a->listener = evhttp_bound_socket_get_listener(bound);
	if ((a->resume = evtimer_new(base, admin_resume_cb, a)) == NULL)
		fatalx("evtimer_new failed");
	evconnlistener_set_error_cb(a->listener, admin_accept_error_cb);
	admin_accepting = a;
	fd = evhttp_bound_socket_get_fd(bound);
	a->port = opts->port;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0) {
		if (ss.ss_family == AF_INET)
			a->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			a->port =
			    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return a;
}

void
admin_free(struct admin *a)
{
	if (a == NULL)
		return;
	if (admin_accepting == a)
		admin_accepting = NULL;
	if (a->http != NULL)
		evhttp_free(a->http);
	if (a->resume != NULL)
		event_free(a->resume);
	OPENSSL_cleanse(a->token_hash, sizeof a->token_hash);
	free(a);
}

int
admin_port(const struct admin *a)
{
	return a->port;
}

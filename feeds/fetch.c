/*
 * fetch: feed documents over libcurl's multi interface (through curlev).
 *
 * HTTP semantics followed: RFC 9110 (status codes, Retry-After, validators
 * and conditional requests), RFC 9111 (Cache-Control max-age, Expires).
 *
 * Why per-host limits live in this queue rather than in
 * CURLMOPT_MAX_HOST_CONNECTIONS: a transfer that curl holds pending is
 * already an easy handle with its options and buffers, and its timeout
 * (CURLOPT_TIMEOUT) runs while it waits, so a slow host with many feeds
 * would see its queued fetches time out without ever being sent. Here a
 * waiting fetch is a small record with no curl handle, its timeouts start
 * when it is sent, and hosts take turns (round robin) for global slots.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>

#include "buf.h"
#include "curlev.h"
#include "fetch.h"
#include "httpresp.h"
#include "log.h"
#include "netguard.h"
#include "xmalloc.h"

#define FETCH_MAX_REDIRECTS 5
/* Bytes of the final response's headers held for the sink. */
#define FETCH_MAX_SINK_HEADERS (64 * 1024)
/* Longest password read from a file or the environment. */
#define FETCH_MAX_SECRET 4096
#define FETCH_HOST_BUCKETS 1024

enum fetch_abort {
	FETCH_ABORT_NONE,
	FETCH_ABORT_TOO_LARGE,
	FETCH_ABORT_SINK,
	FETCH_ABORT_HTTP,
	FETCH_ABORT_TYPE,
};

struct fetch_host {
	char *name;
	size_t running;
	size_t fetches; /* running + waiting: freed at 0 */
	TAILQ_HEAD(, fetch) waiting;
	int ready; /* on the queue's ready list */
	TAILQ_ENTRY(fetch_host) ready_entry;
	struct fetch_host *next; /* hash chain */
};

struct fetch_queue {
	struct curlev *cl;
	size_t max_total;
	size_t max_per_host;
	size_t running;
	size_t waiting;
	int (*blocked)(const struct sockaddr *, socklen_t);
	struct fetch_host *hosts[FETCH_HOST_BUCKETS];
	/* Hosts with waiting fetches and a free per-host slot. */
	TAILQ_HEAD(, fetch_host) ready;
	TAILQ_HEAD(, fetch) active;
};

struct fetch {
	struct fetch_queue *q;
	struct fetch_host *host;
	TAILQ_ENTRY(fetch) entry; /* host->waiting, or q->active */
	int running;

	/* The options, copied. */
	char *url;
	char *etag;
	char *last_modified;
	char *user_agent;
	char *username;
	char *password;
	char *proxy;
	char *ca_file;
	struct curl_slist *headers;
	int allow_file;
	int block_private;
	int conditional; /* If-None-Match or If-Modified-Since sent */
	int64_t connect_timeout_ms;
	int64_t timeout_ms;
	long low_speed_limit;
	long low_speed_time;
	uint64_t max_body;
	struct fetch_sink sink;
	fetch_done_cb done_cb;
	void *arg;

	CURL *easy;
	char errbuf[CURL_ERROR_SIZE];
	char refused_addr[INET6_ADDRSTRLEN]; /* the SSRF guard said no */

	/* The response being received; reset by each status line. */
	struct httpresp resp;
	int all_permanent; /* every redirect hop so far was 301 or 308 */
	struct buf sink_headers; /* name\0value\0... */
	int headers_delivered;
	uint64_t bytes;
	enum fetch_abort abort;
	char *cause;
};

static void fetch_dispatch(struct fetch_queue *);

const char *
fetch_error_name(enum fetch_error e)
{
	switch (e) {
	case FETCH_OK:
		return "ok";
	case FETCH_ERR_CONFIG:
		return "config";
	case FETCH_ERR_CONNECT:
		return "connect";
	case FETCH_ERR_TIMEOUT:
		return "timeout";
	case FETCH_ERR_TLS:
		return "tls";
	case FETCH_ERR_HTTP:
		return "http";
	case FETCH_ERR_REDIRECT:
		return "redirect";
	case FETCH_ERR_TOO_LARGE:
		return "too-large";
	case FETCH_ERR_CONTENT_TYPE:
		return "content-type";
	case FETCH_ERR_PROTOCOL:
		return "protocol";
	case FETCH_ERR_SINK:
		return "parse";
	}
	return "unknown";
}

static unsigned
fetch_host_hash(const char *s)
{
	unsigned h = 2166136261u; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % FETCH_HOST_BUCKETS;
}

static struct fetch_host *
fetch_host_get(struct fetch_queue *q, const char *name)
{
	struct fetch_host *h;
	unsigned i = fetch_host_hash(name);

	for (h = q->hosts[i]; h != NULL; h = h->next) {
		if (strcmp(h->name, name) == 0)
			return h;
	}
	h = xcalloc(1, sizeof *h);
	h->name = xstrdup(name);
	TAILQ_INIT(&h->waiting);
	h->next = q->hosts[i];
	q->hosts[i] = h;
	return h;
}

/* Forget h once nothing of it is left. */
static void
fetch_host_release(struct fetch_queue *q, struct fetch_host *h)
{
	struct fetch_host **hp;

	if (h->fetches > 0)
		return;
	if (h->ready)
		TAILQ_REMOVE(&q->ready, h, ready_entry);
	for (hp = &q->hosts[fetch_host_hash(h->name)]; *hp != h;
	     hp = &(*hp)->next)
		;
	*hp = h->next;
	free(h->name);
	free(h);
}

/* Put h on the ready list when it has work and room, off it otherwise. */
static void
fetch_host_update(struct fetch_queue *q, struct fetch_host *h)
{
	int want = !TAILQ_EMPTY(&h->waiting) && h->running < q->max_per_host;

	if (want && !h->ready)
		TAILQ_INSERT_TAIL(&q->ready, h, ready_entry);
	else if (!want && h->ready)
		TAILQ_REMOVE(&q->ready, h, ready_entry);
	h->ready = want;
}

/* A new status line, after one of status PREV: the redirect chain and
 * the headers kept for the sink. */
static void
fetch_response_reset(struct fetch *f, long prev)
{
	if (prev == 301 || prev == 308)
		; /* a permanent hop, if this is a redirect */
	else if (prev >= 300 && prev < 400)
		f->all_permanent = 0;
	buf_free(&f->sink_headers);
	buf_init(&f->sink_headers, FETCH_MAX_SINK_HEADERS);
}

static int
fetch_status_ok(long status)
{
	return status == 0 || (status >= 200 && status < 300);
}

/* Types that are certainly not a feed: stop before the body. */
static int
fetch_type_refused(const char *type)
{
	return type != NULL &&
	    (strncasecmp(type, "image/", 6) == 0 ||
		strncasecmp(type, "audio/", 6) == 0 ||
		strncasecmp(type, "video/", 6) == 0);
}

/* curl: one header line of some response (CURLOPT_HEADERFUNCTION). */
static size_t
fetch_header_cb(char *line, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	struct httpresp_field field;
	size_t len = size * n;
	long prev = f->resp.status;

	switch (httpresp_line(&f->resp, line, len, &field)) {
	case HTTPRESP_STATUS:
		fetch_response_reset(f, prev);
		return len;
	case HTTPRESP_END:
		if (f->resp.status >= 400) {
			f->abort = FETCH_ABORT_HTTP;
			return 0;
		}
		if (fetch_status_ok(f->resp.status) &&
		    fetch_type_refused(f->resp.content_type)) {
			f->abort = FETCH_ABORT_TYPE;
			return 0;
		}
		return len;
	case HTTPRESP_IGNORED: /* folded or malformed */
		return len;
	case HTTPRESP_FIELD:
		break;
	}
	/* Kept for the sink while they fit; a failed buf stays empty. */
	if (f->sink_headers.cap > 0 &&
	    (buf_add(&f->sink_headers, field.name, field.namelen) != 0 ||
		buf_addc(&f->sink_headers, '\0') != 0 ||
		buf_add(&f->sink_headers, field.value, field.valuelen) != 0 ||
		buf_addc(&f->sink_headers, '\0') != 0))
		f->sink_headers.cap = 0;
	return len;
}

/* Hand the final response's headers to the sink, once. */
static int
fetch_deliver_headers(struct fetch *f)
{
	const char *p, *end, *value;

	if (f->headers_delivered)
		return 0;
	f->headers_delivered = 1;
	/* No status line, no HTTP response (file://): what libcurl wrote
	 * as headers (Content-Length, Last-Modified) describes the file. */
	if (f->sink.header == NULL || f->sink_headers.data == NULL ||
	    f->resp.status == 0)
		return 0;
	p = f->sink_headers.data;
	end = p + f->sink_headers.len;
	while (p < end) {
		value = p + strlen(p) + 1;
		if (value >= end)
			break;
		if (f->sink.header(f->sink.arg, p, value) != 0)
			return -1;
		p = value + strlen(value) + 1;
	}
	return 0;
}

/* curl: decoded body bytes (CURLOPT_WRITEFUNCTION). The byte counter is
 * the cap that holds for compressed and chunked bodies alike. */
static size_t
fetch_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * n;

	f->bytes += len;
	if (f->bytes > f->max_body) {
		f->abort = FETCH_ABORT_TOO_LARGE;
		return 0;
	}
	if (!fetch_status_ok(f->resp.status))
		return len; /* a body curl does not follow: dropped */
	if (fetch_deliver_headers(f) != 0 ||
	    (f->sink.data != NULL &&
		f->sink.data(f->sink.arg, data, len) != 0)) {
		f->abort = FETCH_ABORT_SINK;
		return 0;
	}
	return len;
}

/* curl: open a socket, unless the SSRF guard refuses the address. */
static curl_socket_t
fetch_opensocket_cb(
    void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	struct fetch *f = clientp;
	const struct sockaddr *sa = &address->addr;

	if (f->block_private && f->q->blocked(sa, address->addrlen)) {
		netguard_addr(sa, f->refused_addr, sizeof f->refused_addr);
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype | SOCK_CLOEXEC,
	    address->protocol);
}

static enum fetch_error
fetch_classify(struct fetch *f, CURLcode rc)
{
	const char *detail = curlev_strerror(rc, f->errbuf);

	switch (f->abort) {
	case FETCH_ABORT_TOO_LARGE:
		xasprintf(&f->cause, "body over %" PRIu64 " bytes (decoded)",
		    f->max_body);
		return FETCH_ERR_TOO_LARGE;
	case FETCH_ABORT_SINK:
		xasprintf(&f->cause, "the body was refused by its reader");
		return FETCH_ERR_SINK;
	case FETCH_ABORT_HTTP:
		xasprintf(&f->cause, "HTTP status %ld", f->resp.status);
		return FETCH_ERR_HTTP;
	case FETCH_ABORT_TYPE:
		xasprintf(&f->cause, "not a feed: Content-Type %s",
		    f->resp.content_type);
		return FETCH_ERR_CONTENT_TYPE;
	case FETCH_ABORT_NONE:
		break;
	}
	switch (rc) {
	case CURLE_OK:
		/* "nothing changed" to a request that asked no such thing:
		 * no document, ever (a broken cache or server) */
		if (f->resp.status == 304 && !f->conditional) {
			xasprintf(&f->cause,
			    "HTTP status 304 (not modified) to a request "
			    "that was not conditional");
			return FETCH_ERR_HTTP;
		}
		if (f->resp.status == 304 || fetch_status_ok(f->resp.status))
			return FETCH_OK;
		xasprintf(&f->cause, "HTTP status %ld", f->resp.status);
		return FETCH_ERR_HTTP;
	case CURLE_FILESIZE_EXCEEDED:
		xasprintf(
		    &f->cause, "body over %" PRIu64 " bytes", f->max_body);
		return FETCH_ERR_TOO_LARGE;
	case CURLE_COULDNT_CONNECT:
		if (f->refused_addr[0] != '\0') {
			xasprintf(&f->cause,
			    "refused to connect to private address %s "
			    "(block_private_addresses)",
			    f->refused_addr);
			return FETCH_ERR_CONNECT;
		}
		/* FALLTHROUGH */
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_FILE_COULDNT_READ_FILE:
	case CURLE_READ_ERROR:
		xasprintf(&f->cause, "%s", detail);
		return FETCH_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		xasprintf(&f->cause, "%s", detail);
		return FETCH_ERR_TIMEOUT;
	case CURLE_TOO_MANY_REDIRECTS:
		xasprintf(
		    &f->cause, "more than %d redirects", FETCH_MAX_REDIRECTS);
		return FETCH_ERR_REDIRECT;
	case CURLE_UNSUPPORTED_PROTOCOL:
		xasprintf(&f->cause, "to a refused protocol: %s", detail);
		return FETCH_ERR_REDIRECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_INITFAILED:
		xasprintf(&f->cause, "%s", detail);
		return FETCH_ERR_TLS;
	case CURLE_OUT_OF_MEMORY:
		/* libcurl 7.88 says so of a single response header over
		 * 100 KB: more likely than this host out of memory */
		xasprintf(&f->cause,
		    "%s (libcurl says so of a response header over 100 KB)",
		    detail);
		return FETCH_ERR_PROTOCOL;
	default:
		xasprintf(&f->cause, "%s", detail);
		return FETCH_ERR_PROTOCOL;
	}
}

/* Release the fetch's transfer state and its options. */
static void
fetch_destroy(struct fetch *f)
{
	if (f->easy != NULL)
		curl_easy_cleanup(f->easy);
	curl_slist_free_all(f->headers);
	free(f->url);
	free(f->etag);
	free(f->last_modified);
	free(f->user_agent);
	free(f->username);
	if (f->password != NULL) {
		explicit_bzero(f->password, strlen(f->password));
		free(f->password);
	}
	free(f->proxy);
	free(f->ca_file);
	httpresp_clear(&f->resp);
	buf_free(&f->sink_headers);
	free(f->cause);
	free(f);
}

/* curlev: the transfer ended. */
static void
fetch_transfer_cb(CURL *easy, CURLcode rc, void *arg)
{
	struct fetch *f = arg;
	struct fetch_queue *q = f->q;
	struct fetch_result r;
	char *final_url = NULL;
	curl_off_t total_us = 0;
	long redirects = 0;
	struct httpresp_hints hints;

	memset(&r, 0, sizeof r);
	r.error = fetch_classify(f, rc);
	if (r.error == FETCH_OK && fetch_status_ok(f->resp.status) &&
	    fetch_deliver_headers(f) != 0) {
		r.error = FETCH_ERR_SINK;
		xasprintf(&f->cause, "the headers were refused by its reader");
	}
	r.cause = f->cause;
	r.status = f->resp.status;
	r.not_modified = f->resp.status == 304 && r.error == FETCH_OK;
	if (r.error == FETCH_OK && !r.not_modified) {
		r.etag = f->resp.etag;
		r.last_modified = f->resp.last_modified;
	}
	r.content_type = f->resp.content_type;
	curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &final_url);
	r.final_url = final_url != NULL ? final_url : f->url;
	curl_easy_getinfo(easy, CURLINFO_REDIRECT_COUNT, &redirects);
	r.redirects = (int)redirects;
	r.permanent_redirect =
	    r.error == FETCH_OK && redirects > 0 && f->all_permanent;
	httpresp_hints(&f->resp, time(NULL), &hints);
	r.retry_after_s = hints.retry_after_s;
	r.max_age_s = hints.max_age_s;
	r.expires_in_s = hints.expires_in_s;
	r.bytes = f->bytes;
	curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
	r.elapsed_ms = (int64_t)total_us / 1000;

	TAILQ_REMOVE(&q->active, f, entry);
	q->running--;
	f->host->running--;
	f->host->fetches--;
	f->done_cb(f, &r, f->arg);
	fetch_host_update(q, f->host);
	fetch_host_release(q, f->host);
	fetch_destroy(f);
	fetch_dispatch(q);
}

/* Make the easy handle and send it. */
static void
fetch_run(struct fetch *f)
{
	CURL *e;

	if ((e = f->easy = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	curl_easy_setopt(e, CURLOPT_URL, f->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
	    f->allow_file ? "http,https,file" : "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRECTS);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* all decoders */
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max_body);
	curl_easy_setopt(
	    e, CURLOPT_CONNECTTIMEOUT_MS, (long)f->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)f->timeout_ms);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, f->low_speed_limit);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, f->low_speed_time);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(e, CURLOPT_USERAGENT, f->user_agent);
	curl_easy_setopt(e, CURLOPT_PROXY, f->proxy != NULL ? f->proxy : "");
	if (f->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, f->ca_file);
	if (f->username != NULL) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, f->username);
		curl_easy_setopt(e, CURLOPT_PASSWORD,
		    f->password != NULL ? f->password : "");
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->headers);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, fetch_opensocket_cb);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, f);
	f->running = 1;
	f->host->running++;
	f->q->running++;
	TAILQ_INSERT_TAIL(&f->q->active, f, entry);
	if (curlev_add(f->q->cl, e, fetch_transfer_cb, f) != 0)
		fatalx("curlev_add refused a new handle");
}

/* Start waiting fetches while the caps allow, hosts taking turns. */
static void
fetch_dispatch(struct fetch_queue *q)
{
	struct fetch_host *h;
	struct fetch *f;

	while (
	    q->running < q->max_total && (h = TAILQ_FIRST(&q->ready)) != NULL) {
		f = TAILQ_FIRST(&h->waiting);
		TAILQ_REMOVE(&h->waiting, f, entry);
		q->waiting--;
		TAILQ_REMOVE(&q->ready, h, ready_entry);
		h->ready = 0;
		fetch_run(f);
		fetch_host_update(q, h); /* to the tail: round robin */
	}
}

/* Read a password: the first line of a file others cannot read, or an
 * environment variable. */
static char *
fetch_secret(const struct fetch_opts *o, char **cause)
{
	char data[FETCH_MAX_SECRET + 1];
	struct stat st;
	ssize_t n;
	int fd;
	char *v;

	if (o->password != NULL)
		return xstrdup(o->password);
	if (o->password_env != NULL) {
		if ((v = getenv(o->password_env)) == NULL) {
			xasprintf(
			    cause, "password: %s is not set", o->password_env);
			return NULL;
		}
		return xstrdup(v);
	}
	if (o->password_file == NULL)
		return NULL;
	if ((fd = open(o->password_file, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "password file %s: %s", o->password_file,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || (st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
		close(fd);
		xasprintf(cause,
		    "password file %s: others can read or write it",
		    o->password_file);
		return NULL;
	}
	n = read(fd, data, FETCH_MAX_SECRET);
	close(fd);
	if (n < 0) {
		xasprintf(cause, "password file %s: %s", o->password_file,
		    strerror(errno));
		return NULL;
	}
	data[n] = '\0';
	data[strcspn(data, "\r\n")] = '\0';
	v = xstrdup(data);
	explicit_bzero(data, sizeof data);
	return v;
}

/* The host part of url ("" for file://), or NULL when url is refused. */
static char *
fetch_url_host(const char *url, int allow_file, char **cause)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *out = NULL;
	size_t i;

	if (u == NULL)
		fatalx("curl_url failed");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		xasprintf(cause, "not a valid URL");
		goto out;
	}
	if (strcmp(scheme, "file") == 0 && !allow_file) {
		xasprintf(cause, "file:// URLs are not allowed here");
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0 &&
	    strcmp(scheme, "file") != 0) {
		xasprintf(
		    cause, "scheme %s is not http, https or file", scheme);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		out = xstrdup("");
	else {
		for (i = 0; host[i] != '\0'; i++)
			host[i] = (char)tolower((unsigned char)host[i]);
		out = xstrdup(host);
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return out;
}

/* A header line to send: "Name: value", no CR or LF anywhere. */
static int
fetch_header_ok(const char *h)
{
	const char *colon = strchr(h, ':');

	return colon != NULL && colon != h && strpbrk(h, "\r\n") == NULL;
}

static int
fetch_add_header(
    struct fetch *f, const char *name, const char *value, char **cause)
{
	char *line;
	struct curl_slist *l;

	if (value != NULL)
		xasprintf(&line, "%s: %s", name, value);
	else
		line = xstrdup(name);
	if (!fetch_header_ok(line)) {
		xasprintf(
		    cause, "header %s: not \"Name: value\" on one line", name);
		free(line);
		return -1;
	}
	if ((l = curl_slist_append(f->headers, line)) == NULL)
		fatalx("curl_slist_append failed");
	f->headers = l;
	free(line);
	return 0;
}

struct fetch *
fetch_start(struct fetch_queue *q, const struct fetch_opts *o,
    const struct fetch_sink *sink, fetch_done_cb done_cb, void *arg,
    char **cause)
{
	struct fetch *f;
	char *host, *secret_cause = NULL;
	size_t i;

	if (o->url == NULL) {
		xasprintf(cause, "no URL");
		return NULL;
	}
	if ((host = fetch_url_host(o->url, o->allow_file, cause)) == NULL)
		return NULL;
	f = xcalloc(1, sizeof *f);
	f->q = q;
	f->url = xstrdup(o->url);
	f->user_agent = xstrdup(
	    o->user_agent != NULL ? o->user_agent : FETCH_DEFAULT_USER_AGENT);
	f->username = o->username != NULL ? xstrdup(o->username) : NULL;
	f->proxy = o->proxy != NULL ? xstrdup(o->proxy) : NULL;
	f->ca_file = o->ca_file != NULL ? xstrdup(o->ca_file) : NULL;
	f->allow_file = o->allow_file;
	f->block_private = o->block_private;
	f->connect_timeout_ms = o->connect_timeout_ms > 0
	    ? o->connect_timeout_ms
	    : FETCH_DEFAULT_CONNECT_TIMEOUT_MS;
	f->timeout_ms =
	    o->timeout_ms > 0 ? o->timeout_ms : FETCH_DEFAULT_TIMEOUT_MS;
	f->low_speed_limit = o->low_speed_limit > 0
	    ? o->low_speed_limit
	    : FETCH_DEFAULT_LOW_SPEED_LIMIT;
	f->low_speed_time = o->low_speed_time > 0
	    ? o->low_speed_time
	    : FETCH_DEFAULT_LOW_SPEED_TIME;
	f->max_body = o->max_body > 0 ? o->max_body : FETCH_DEFAULT_MAX_BODY;
	f->all_permanent = 1;
	buf_init(&f->sink_headers, FETCH_MAX_SINK_HEADERS);
	if (sink != NULL)
		f->sink = *sink;
	f->done_cb = done_cb;
	f->arg = arg;
	if (o->username != NULL &&
	    (f->password = fetch_secret(o, &secret_cause)) == NULL &&
	    secret_cause != NULL) {
		*cause = secret_cause;
		goto fail;
	}
	for (i = 0; i < o->nheaders; i++) {
		if (fetch_add_header(f, o->headers[i], NULL, cause) != 0)
			goto fail;
	}
	if (o->etag != NULL && httpresp_value_ok(o->etag, strlen(o->etag))) {
		if (fetch_add_header(f, "If-None-Match", o->etag, cause) != 0)
			goto fail;
		f->conditional = 1;
	}
	if (o->last_modified != NULL &&
	    httpresp_value_ok(o->last_modified, strlen(o->last_modified))) {
		if (fetch_add_header(
			f, "If-Modified-Since", o->last_modified, cause) != 0)
			goto fail;
		f->conditional = 1;
	}

	f->host = fetch_host_get(q, host);
	free(host);
	f->host->fetches++;
	TAILQ_INSERT_TAIL(&f->host->waiting, f, entry);
	q->waiting++;
	fetch_host_update(q, f->host);
	fetch_dispatch(q);
	return f;
fail:
	free(host);
	fetch_destroy(f);
	return NULL;
}

void
fetch_cancel(struct fetch *f)
{
	struct fetch_queue *q = f->q;
	struct fetch_host *h = f->host;

	if (f->running) {
		curlev_cancel(q->cl, f->easy);
		TAILQ_REMOVE(&q->active, f, entry);
		q->running--;
		h->running--;
	} else {
		TAILQ_REMOVE(&h->waiting, f, entry);
		q->waiting--;
	}
	h->fetches--;
	fetch_host_update(q, h);
	fetch_host_release(q, h);
	fetch_destroy(f);
	fetch_dispatch(q);
}

struct fetch_queue *
fetch_queue_new(struct curlev *cl, size_t max_total, size_t max_per_host)
{
	struct fetch_queue *q;

	q = xcalloc(1, sizeof *q);
	q->cl = cl;
	q->max_total = max_total > 0 ? max_total : FETCH_DEFAULT_MAX_TOTAL;
	q->max_per_host =
	    max_per_host > 0 ? max_per_host : FETCH_DEFAULT_MAX_PER_HOST;
	q->blocked = netguard_blocked;
	TAILQ_INIT(&q->ready);
	TAILQ_INIT(&q->active);
	return q;
}

void
fetch_queue_set_limits(
    struct fetch_queue *q, size_t max_total, size_t max_per_host)
{
	struct fetch_host *h;
	size_t i;

	q->max_total = max_total > 0 ? max_total : FETCH_DEFAULT_MAX_TOTAL;
	q->max_per_host =
	    max_per_host > 0 ? max_per_host : FETCH_DEFAULT_MAX_PER_HOST;
	/* hosts with room now, or none: then whatever may start starts */
	for (i = 0; i < FETCH_HOST_BUCKETS; i++)
		for (h = q->hosts[i]; h != NULL; h = h->next)
			fetch_host_update(q, h);
	fetch_dispatch(q);
}

void
fetch_queue_set_guard(
    struct fetch_queue *q, int (*blocked)(const struct sockaddr *, socklen_t))
{
	q->blocked = blocked != NULL ? blocked : netguard_blocked;
}

void
fetch_queue_free(struct fetch_queue *q)
{
	struct fetch *f;
	size_t i;

	if (q == NULL)
		return;
	q->max_total = 0; /* nothing new starts while we cancel */
	while ((f = TAILQ_FIRST(&q->active)) != NULL)
		fetch_cancel(f);
	for (i = 0; i < FETCH_HOST_BUCKETS; i++) {
		while (q->hosts[i] != NULL &&
		    (f = TAILQ_FIRST(&q->hosts[i]->waiting)) != NULL)
			fetch_cancel(f);
	}
	free(q);
}

size_t
fetch_queue_running(const struct fetch_queue *q)
{
	return q->running;
}

size_t
fetch_queue_waiting(const struct fetch_queue *q)
{
	return q->waiting;
}

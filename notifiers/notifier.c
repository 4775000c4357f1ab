/*
 * The notifier interface: backends chosen by name through a table, jobs
 * in flight, deferred completion, and the option helpers backends share.
 */
#include <sys/queue.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alert.h"
#include "console.h"
#include "curlev.h"
#include "email.h"
#include "exec.h"
#include "log.h"
#include "netguard.h"
#include "notifier.h"
#include "syslogger.h"
#include "units.h"
#include "utf8.h"
#include "webhook.h"
#include "xmalloc.h"

/* How long alerts wait when the notifier disabled itself (410). */
#define NOTIFIER_DISABLED_RETRY 3600
/* Longest error text kept from a backend. */
#define NOTIFIER_MAX_ERROR 1024
/* Caps on the rate_limit and digest options. */
#define NOTIFIER_MAX_RATE 100000
#define NOTIFIER_MAX_DIGEST_WINDOW_MS (24 * 3600 * 1000LL)

/* Sorted by name. */
static const struct notifier_backend *const notifier_backends[] = {
    &console_backend,
    &email_backend,
    &exec_backend,
    &syslogger_backend,
    &webhook_backend,
};
#define NOTIFIER_NBACKENDS                                                     \
	(sizeof notifier_backends / sizeof notifier_backends[0])

struct notifier_jobx {
	struct notifier_job job; /* first: the backend sees only this */
	char *outbox_id;
	char *payload;
	notifier_done_cb done_cb;
	void *arg;
	int finished;
	int internal; /* a digest: no outbox row, no done_cb */
	int at_backend;
	int held;
	enum notifier_status status;
	int64_t retry_after;
	int parked; /* retry_after is this notifier's own wait */
	char *error;
	struct event *finish_ev;
	struct notifier_jobx **members; /* of a digest */
	size_t nmembers;
	TAILQ_ENTRY(notifier_jobx) entry; /* notifier's jobs */
	TAILQ_ENTRY(notifier_jobx) qentry; /* a group or the wait queue */
};
TAILQ_HEAD(notifier_jobs, notifier_jobx);

/* Alerts held for one watchlist (or all, for backends without digests). */
struct notifier_group {
	struct notifier *notifier;
	char *watchlist;
	struct notifier_jobs held;
	size_t nheld;
	int due; /* its window is over (or there is no window) */
	struct event *window_ev;
	TAILQ_ENTRY(notifier_group) entry;
};
TAILQ_HEAD(notifier_groups, notifier_group);

struct notifier {
	char *name;
	const struct notifier_backend *backend;
	void *state;
	struct event_base *base;
	struct notifier_jobs jobs;
	size_t njobs;
	char *disabled;

	int digests; /* the backend renders digests */
	int64_t digest_ms; /* digest window; 0: no digest mode */
	size_t rate_count; /* sends per rate_ms; 0: no limit */
	int64_t rate_ms;
	int64_t *rate_sent; /* ring of the last rate_count send times */
	size_t rate_next;
	struct event *rate_ev;

	struct notifier_groups groups;
	size_t nheld;
	struct notifier_jobs waiting; /* for a backend slot */
	size_t active; /* jobs at the backend */
	struct event *pump_ev;
};

static void notifier_pump_cb(evutil_socket_t, short, void *);
static void notifier_rate_cb(evutil_socket_t, short, void *);
static void notifier_release(struct notifier *);

int
notifier_type_known(const char *type)
{
	size_t i;

	for (i = 0; i < NOTIFIER_NBACKENDS; i++)
		if (strcmp(notifier_backends[i]->type, type) == 0)
			return 1;
	return 0;
}

/* "30/min", "2/s", "100/h" (also /m, /minute, /second, /hour). */
static int
notifier_parse_rate(
    const struct notifier_config *cf, size_t *count, int64_t *ms, char **cause)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"s", 1000}, {"sec", 1000}, {"second", 1000}, {"m", 60000},
	    {"min", 60000}, {"minute", 60000}, {"h", 3600000},
	    {"hour", 3600000}};
	const char *v = notifier_option(cf, "rate_limit");
	char *end;
	unsigned long long n;
	size_t i;

	*count = 0;
	*ms = 0;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (!isdigit((unsigned char)*v) || errno != 0 || n == 0 ||
	    n > NOTIFIER_MAX_RATE || *end != '/')
		goto bad;
	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(end + 1, units[i].unit) == 0) {
			*count = (size_t)n;
			*ms = units[i].ms;
			return 0;
		}
bad:
	xasprintf(cause,
	    "rate_limit: \"%.64s\" is not a rate like 30/min (1 to %d per "
	    "s, min or h)",
	    v, NOTIFIER_MAX_RATE);
	return -1;
}

struct notifier *
notifier_new(const struct notifier_config *cf, const struct notifier_ctx *ctx,
    char **cause)
{
	const struct notifier_backend *backend = NULL;
	struct notifier *n;
	char *why = NULL;
	size_t i, rate_count;
	int64_t rate_ms, digest_ms;

	for (i = 0; i < NOTIFIER_NBACKENDS; i++)
		if (cf->type != NULL &&
		    strcmp(notifier_backends[i]->type, cf->type) == 0)
			backend = notifier_backends[i];
	if (backend == NULL) {
		if (cause != NULL)
			xasprintf(cause, "notifier %s: unknown type \"%s\"",
			    cf->name, cf->type != NULL ? cf->type : "");
		return NULL;
	}
	if (notifier_parse_rate(cf, &rate_count, &rate_ms, &why) == -1 ||
	    notifier_option_duration(cf, "digest", 0, &digest_ms, &why) == -1)
		goto fail;
	if (notifier_option(cf, "digest") != NULL &&
	    (digest_ms < 1000 || digest_ms > NOTIFIER_MAX_DIGEST_WINDOW_MS)) {
		xasprintf(&why, "digest: the window must be 1s to 24h");
		goto fail;
	}
	n = xcalloc(1, sizeof *n);
	n->name = xstrdup(cf->name);
	n->backend = backend;
	n->base = ctx->base;
	TAILQ_INIT(&n->jobs);
	TAILQ_INIT(&n->groups);
	TAILQ_INIT(&n->waiting);
	if ((n->state = backend->new (n, cf, ctx, &why)) == NULL) {
		free(n->name);
		free(n);
		goto fail;
	}
	n->digests = backend->digests != NULL && backend->digests(n->state);
	if (digest_ms > 0 && !n->digests) {
		xasprintf(&why, "digest: a %s notifier %s", backend->type,
		    strcmp(backend->type, "webhook") == 0
			? "sends digests only with the default body (no "
			  "preset or template)"
			: "cannot send digests (email and webhook can)");
		backend->free(n->state);
		free(n->name);
		free(n);
		goto fail;
	}
	n->digest_ms = digest_ms;
	n->rate_count = rate_count;
	n->rate_ms = rate_ms;
	if (rate_count > 0)
		n->rate_sent = xcalloc(rate_count, sizeof *n->rate_sent);
	if ((n->pump_ev = evtimer_new(n->base, notifier_pump_cb, n)) == NULL ||
	    (n->rate_ev = evtimer_new(n->base, notifier_rate_cb, n)) == NULL)
		fatalx("notifier_new: evtimer_new failed");
	return n;
fail:
	if (cause != NULL)
		xasprintf(cause, "notifier %s: %s", cf->name,
		    why != NULL ? why : "cannot be set up");
	free(why);
	return NULL;
}

static void
notifier_job_free(struct notifier_jobx *x)
{
	if (x->finish_ev != NULL)
		event_free(x->finish_ev);
	if (x->internal)
		free((void *)x->job.digest);
	else
		alert_free(x->job.alert);
	free(x->members);
	free(x->outbox_id);
	free(x->payload);
	free(x->error);
	free(x);
}

static void
notifier_group_free(struct notifier_group *g)
{
	if (g->window_ev != NULL)
		event_free(g->window_ev);
	free(g->watchlist);
	free(g);
}

void
notifier_free(struct notifier *n)
{
	struct notifier_jobx *x;
	struct notifier_group *g;

	if (n == NULL)
		return;
	while ((x = TAILQ_FIRST(&n->jobs)) != NULL) {
		TAILQ_REMOVE(&n->jobs, x, entry);
		if (!x->finished && x->at_backend && n->backend->cancel != NULL)
			n->backend->cancel(n->state, &x->job);
		notifier_job_free(x);
	}
	while ((g = TAILQ_FIRST(&n->groups)) != NULL) {
		TAILQ_REMOVE(&n->groups, g, entry);
		notifier_group_free(g);
	}
	n->backend->free(n->state);
	if (n->pump_ev != NULL)
		event_free(n->pump_ev);
	if (n->rate_ev != NULL)
		event_free(n->rate_ev);
	free(n->rate_sent);
	free(n->disabled);
	free(n->name);
	free(n);
}

/* The outbox's callback, one loop turn after the backend finished. */
static void
notifier_finish_cb(evutil_socket_t fd, short events, void *arg)
{
	struct notifier_jobx *x = arg;
	struct notifier *n = x->job.notifier;
	struct notifier_result result;
	char esc[NOTIFIER_MAX_ERROR * 4 + 8];

	TAILQ_REMOVE(&n->jobs, x, entry);
	if (x->internal) {
		notifier_job_free(x);
		return;
	}
	n->njobs--;
	result.status = x->status;
	result.retry_after = x->retry_after;
	result.parked = x->parked;
	result.error = x->status == NOTIFIER_OK ? NULL : x->error;
	if (result.error == NULL && x->status != NOTIFIER_OK)
		result.error = "failed";
	if (x->status != NOTIFIER_OK && log_get_level() >= LOG_LEVEL_DEBUG)
		log_debug("notifier %s: outbox %s attempt %u: %s", n->name,
		    x->outbox_id, x->job.attempt,
		    log_escapes_text(esc, sizeof esc, result.error));
	x->done_cb(&result, x->arg);
	notifier_job_free(x);
}

void
notifier_job_finish(struct notifier_job *job, enum notifier_status status,
    int64_t retry_after, const char *fmt, ...)
{
	struct notifier_jobx *x = (struct notifier_jobx *)job;
	struct notifier *n = job->notifier;
	struct timeval zero = {0, 0};
	va_list ap;
	size_t i, len;

	if (x->finished)
		fatalx("notifier_job_finish: job finished twice");
	x->finished = 1;
	x->status = status;
	x->retry_after = status == NOTIFIER_TEMPFAIL ? retry_after : -1;
	if (fmt != NULL) {
		va_start(ap, fmt);
		if (vasprintf(&x->error, fmt, ap) == -1)
			fatalx("notifier_job_finish: out of memory");
		va_end(ap);
		/* The backend's words as they are (a receiver's answer, a
		 * program's output), cut on a character boundary; whatever
		 * prints them escapes them. */
		len = strlen(x->error);
		x->error[utf8_cut(x->error, len, NOTIFIER_MAX_ERROR)] = '\0';
	}
	if (x->at_backend) {
		x->at_backend = 0;
		n->active--;
		/* The next waiting job starts from the loop, not from inside
		 * a backend's deliver(). */
		if (!TAILQ_EMPTY(&n->waiting))
			evtimer_add(n->pump_ev, &zero);
	}
	/* A digest's outcome is every member's. */
	for (i = 0; i < x->nmembers; i++) {
		x->members[i]->parked = x->parked;
		if (x->error != NULL)
			notifier_job_finish(&x->members[i]->job, status,
			    retry_after, "digest: %s", x->error);
		else
			notifier_job_finish(
			    &x->members[i]->job, status, retry_after, NULL);
	}
	x->finish_ev = evtimer_new(n->base, notifier_finish_cb, x);
	if (x->finish_ev == NULL)
		fatalx("notifier_job_finish: evtimer_new failed");
	evtimer_add(x->finish_ev, &zero);
}

/* Hand a job to the backend, or queue it for a free slot. */
static void
notifier_dispatch(struct notifier *n, struct notifier_jobx *x)
{
	if (n->disabled != NULL) {
		x->parked = 1;
		notifier_job_finish(&x->job, NOTIFIER_TEMPFAIL,
		    NOTIFIER_DISABLED_RETRY, "notifier disabled: %s",
		    n->disabled);
		return;
	}
	if (n->active >= NOTIFIER_MAX_CONCURRENT) {
		TAILQ_INSERT_TAIL(&n->waiting, x, qentry);
		return;
	}
	n->active++;
	x->at_backend = 1;
	n->backend->deliver(n->state, &x->job);
}

static void
notifier_pump_cb(evutil_socket_t fd, short events, void *arg)
{
	struct notifier *n = arg;
	struct notifier_jobx *x;

	while (n->active < NOTIFIER_MAX_CONCURRENT &&
	    (x = TAILQ_FIRST(&n->waiting)) != NULL) {
		TAILQ_REMOVE(&n->waiting, x, qentry);
		notifier_dispatch(n, x);
	}
}

static int64_t
notifier_now_ms(struct notifier *n)
{
	struct timeval tv;

	event_base_gettimeofday_cached(n->base, &tv);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Whether the rate limit allows one more send now. */
static int
notifier_rate_ok(struct notifier *n, int64_t now)
{
	if (n->rate_count == 0)
		return 1;
	return n->rate_sent[n->rate_next] == 0 ||
	    n->rate_sent[n->rate_next] <= now - n->rate_ms;
}

static void
notifier_rate_take(struct notifier *n, int64_t now)
{
	if (n->rate_count == 0)
		return;
	n->rate_sent[n->rate_next] = now;
	n->rate_next = (n->rate_next + 1) % n->rate_count;
}

/* Wake up when the rate limit allows the next send. */
static void
notifier_rate_arm(struct notifier *n, int64_t now)
{
	int64_t at = n->rate_sent[n->rate_next] + n->rate_ms, wait;
	struct timeval tv;

	wait = at > now ? at - now : 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(n->rate_ev, &tv);
}

static void
notifier_rate_cb(evutil_socket_t fd, short events, void *arg)
{
	notifier_release(arg);
}

/* A digest of up to NOTIFIER_MAX_DIGEST jobs held in G. */
static struct notifier_jobx *
notifier_digest_new(struct notifier *n, struct notifier_group *g)
{
	struct notifier_jobx *x, *m;
	struct notifier_job **digest;
	size_t count =
	    g->nheld < NOTIFIER_MAX_DIGEST ? g->nheld : NOTIFIER_MAX_DIGEST;
	size_t i;

	x = xcalloc(1, sizeof *x);
	x->internal = 1;
	x->members = xreallocarray(NULL, count, sizeof *x->members);
	digest = xreallocarray(NULL, count, sizeof *digest);
	for (i = 0; i < count; i++) {
		m = TAILQ_FIRST(&g->held);
		TAILQ_REMOVE(&g->held, m, qentry);
		m->held = 0;
		x->members[i] = m;
		digest[i] = &m->job;
	}
	g->nheld -= count;
	n->nheld -= count;
	x->nmembers = count;
	xasprintf(
	    &x->outbox_id, "digest.%s.%zu", x->members[0]->outbox_id, count);
	x->job.notifier = n;
	x->job.outbox_id = x->outbox_id;
	x->job.payload = x->members[0]->payload;
	x->job.len = x->members[0]->job.len;
	x->job.alert = x->members[0]->job.alert;
	x->job.attempt = x->members[0]->job.attempt;
	x->job.digest = digest;
	x->job.ndigest = count;
	TAILQ_INSERT_TAIL(&n->jobs, x, entry);
	return x;
}

/* Send what one group holds: one digest, or one alert when the backend
 * has no digests or holds just one. */
static void
notifier_group_send(struct notifier *n, struct notifier_group *g)
{
	struct notifier_jobx *x;

	if (n->digests && g->nheld > 1) {
		x = notifier_digest_new(n, g);
		log_debug("notifier %s: digest of %zu alerts for %s", n->name,
		    x->nmembers, g->watchlist);
	} else {
		x = TAILQ_FIRST(&g->held);
		TAILQ_REMOVE(&g->held, x, qentry);
		x->held = 0;
		g->nheld--;
		n->nheld--;
	}
	if (g->nheld == 0 && n->digest_ms > 0)
		g->due = 0;
	notifier_dispatch(n, x);
}

/* Send held groups whose time has come, as far as the rate limit lets. */
static void
notifier_release(struct notifier *n)
{
	struct notifier_group *g, *first;
	int64_t now = notifier_now_ms(n);

	first = NULL;
	while ((g = TAILQ_FIRST(&n->groups)) != NULL && g != first) {
		/* Round robin: the group goes to the back either way. */
		TAILQ_REMOVE(&n->groups, g, entry);
		TAILQ_INSERT_TAIL(&n->groups, g, entry);
		if (g->nheld == 0 || !g->due) {
			if (first == NULL)
				first = g;
			continue;
		}
		if (!notifier_rate_ok(n, now)) {
			notifier_rate_arm(n, now);
			return;
		}
		notifier_rate_take(n, now);
		notifier_group_send(n, g);
		first = NULL;
	}
}

static void
notifier_window_cb(evutil_socket_t fd, short events, void *arg)
{
	struct notifier_group *g = arg;

	g->due = 1;
	notifier_release(g->notifier);
}

/* Hold a job in its watchlist's group, opening a window if need be. */
static void
notifier_hold(struct notifier *n, struct notifier_jobx *x)
{
	const char *watchlist = "";
	struct notifier_group *g;
	struct timeval tv;

	if (n->digests && x->job.alert->watchlist != NULL)
		watchlist = x->job.alert->watchlist;
	TAILQ_FOREACH(g, &n->groups, entry)
	if (strcmp(g->watchlist, watchlist) == 0)
		break;
	if (g == NULL) {
		g = xcalloc(1, sizeof *g);
		g->notifier = n;
		g->watchlist = xstrdup(watchlist);
		TAILQ_INIT(&g->held);
		g->window_ev = evtimer_new(n->base, notifier_window_cb, g);
		if (g->window_ev == NULL)
			fatalx("notifier_hold: evtimer_new failed");
		TAILQ_INSERT_TAIL(&n->groups, g, entry);
	}
	x->held = 1;
	TAILQ_INSERT_TAIL(&g->held, x, qentry);
	g->nheld++;
	n->nheld++;
	if (n->digest_ms == 0)
		g->due = 1;
	else if (g->nheld == 1 && !g->due) {
		tv.tv_sec = (time_t)(n->digest_ms / 1000);
		tv.tv_usec = (suseconds_t)(n->digest_ms % 1000) * 1000;
		evtimer_add(g->window_ev, &tv);
	}
	if (g->nheld >= NOTIFIER_MAX_DIGEST) {
		evtimer_del(g->window_ev);
		g->due = 1;
	}
	if (g->due)
		notifier_release(n);
}

void
notifier_flush(struct notifier *n)
{
	struct notifier_group *g;
	int64_t now = notifier_now_ms(n);

	TAILQ_FOREACH(g, &n->groups, entry)
	{
		evtimer_del(g->window_ev);
		while (g->nheld > 0) {
			notifier_rate_take(n, now);
			notifier_group_send(n, g);
		}
	}
	evtimer_del(n->rate_ev);
}

int
notifier_deliver(struct notifier *n, const char *outbox_id, const char *payload,
    size_t len, unsigned attempt, notifier_done_cb done_cb, void *arg,
    char **cause)
{
	struct notifier_jobx *x;
	struct alert *alert;
	int64_t now;

	if ((alert = alert_from_json(payload, len, cause)) == NULL)
		return -1;
	x = xcalloc(1, sizeof *x);
	x->outbox_id = xstrdup(outbox_id);
	x->payload = xstrndup(payload, len);
	x->done_cb = done_cb;
	x->arg = arg;
	x->job.notifier = n;
	x->job.outbox_id = x->outbox_id;
	x->job.payload = x->payload;
	x->job.len = strlen(x->payload);
	x->job.alert = alert;
	x->job.attempt = attempt;
	TAILQ_INSERT_TAIL(&n->jobs, x, entry);
	n->njobs++;
	if (n->disabled != NULL) {
		notifier_dispatch(n, x);
		return 0;
	}
	now = notifier_now_ms(n);
	/* Held when digests gather, or when the limit is reached or others
	 * already wait for it (order is kept). */
	if (n->digest_ms > 0 || n->nheld > 0 || !notifier_rate_ok(n, now))
		notifier_hold(n, x);
	else {
		notifier_rate_take(n, now);
		notifier_dispatch(n, x);
	}
	return 0;
}

void
notifier_disable(struct notifier *n, const char *why)
{
	char esc[512];

	if (n->disabled != NULL)
		return;
	n->disabled = xstrdup(why);
	log_warnx("notifier %s DISABLED until the configuration is reloaded: "
		  "%s; its alerts wait in the outbox",
	    n->name, log_escapes(esc, sizeof esc, why));
}

const char *
notifier_name(const struct notifier *n)
{
	return n->name;
}

const char *
notifier_type(const struct notifier *n)
{
	return n->backend->type;
}

size_t
notifier_inflight(const struct notifier *n)
{
	return n->njobs;
}

size_t
notifier_held(const struct notifier *n)
{
	return n->nheld;
}

const char *
notifier_disabled(const struct notifier *n)
{
	return n->disabled;
}

struct event_base *
notifier_base(const struct notifier *n)
{
	return n->base;
}

const struct notifier_option *
notifier_option_get(const struct notifier_config *cf, const char *key)
{
	size_t i;

	for (i = 0; i < cf->noptions; i++)
		if (strcmp(cf->options[i].key, key) == 0)
			return &cf->options[i];
	return NULL;
}

const char *
notifier_curl_error(int rc, char *errbuf, const struct netguard *g)
{
	if (rc == CURLE_COULDNT_CONNECT && g->refused[0] != '\0') {
		snprintf(errbuf, CURL_ERROR_SIZE,
		    "refused to connect to private address %s (allow_private: "
		    "true lets this notifier reach it)",
		    g->refused);
		return errbuf;
	}
	return curlev_strerror((CURLcode)rc, errbuf);
}

const char *
notifier_url(const struct notifier_config *cf, const char *what,
    const char *scheme1, const char *scheme2, char **cause)
{
	const char *v = notifier_option(cf, "url");
	char *why;

	if (v == NULL ||
	    (strncmp(v, scheme1, strlen(scheme1)) != 0 &&
		strncmp(v, scheme2, strlen(scheme2)) != 0)) {
		xasprintf(
		    cause, "%s needs a url: %s or %s", what, scheme1, scheme2);
		return NULL;
	}
	if (curlev_url_check(v, &why) == -1) {
		xasprintf(cause, "url refused by libcurl's parser: %s", why);
		free(why);
		return NULL;
	}
	return v;
}

const char *
notifier_option(const struct notifier_config *cf, const char *key)
{
	const struct notifier_option *o = notifier_option_get(cf, key);

	return o != NULL ? o->value : NULL;
}

int
notifier_option_bool(const struct notifier_config *cf, const char *key,
    int dflt, int *out, char **cause)
{
	static const char *const yes[] = {"true", "yes", "on", NULL};
	static const char *const no[] = {"false", "no", "off", NULL};
	const char *v = notifier_option(cf, key);
	size_t i;

	*out = dflt;
	if (v == NULL)
		return 0;
	for (i = 0; yes[i] != NULL; i++)
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
	for (i = 0; no[i] != NULL; i++)
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	xasprintf(cause, "%s must be true or false, not \"%.64s\"", key, v);
	return -1;
}

int
notifier_option_duration(const struct notifier_config *cf, const char *key,
    int64_t dflt_ms, int64_t *ms, char **cause)
{
	const char *v = notifier_option(cf, key), *p;
	uint64_t n;

	*ms = dflt_ms;
	if (v == NULL)
		return 0;
	/* plain seconds, as notifiers took before, or as the configuration
	 * writes durations; in milliseconds, and still in microseconds */
	p = v;
	if (units_number(&p, &n) == 0 && *p == '\0')
		*ms = (int64_t)n * 1000;
	else if (units_duration(v, ms) == -1 || *ms > INT64_MAX / 1000) {
		xasprintf(cause,
		    "%s: \"%.64s\" is not a duration like 30s, 500ms, "
		    "1h30m or 1d",
		    key, v);
		return -1;
	}
	return 0;
}

char *
notifier_path(const struct notifier_config *cf, const char *path)
{
	char *out;

	if (path[0] == '/' || cf->dir == NULL)
		return xstrdup(path);
	xasprintf(&out, "%s/%s", cf->dir, path);
	return out;
}

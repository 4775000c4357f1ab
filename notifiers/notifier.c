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
#include "email.h"
#include "exec.h"
#include "log.h"
#include "notifier.h"
#include "syslogger.h"
#include "webhook.h"
#include "xmalloc.h"

/* How long alerts wait when the notifier disabled itself (410). */
#define NOTIFIER_DISABLED_RETRY 3600
/* Longest error text kept from a backend. */
#define NOTIFIER_MAX_ERROR 1024

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
	enum notifier_status status;
	int64_t retry_after;
	char *error;
	struct event *finish_ev;
	TAILQ_ENTRY(notifier_jobx) entry;
};
TAILQ_HEAD(notifier_jobs, notifier_jobx);

struct notifier {
	char *name;
	const struct notifier_backend *backend;
	void *state;
	struct event_base *base;
	struct notifier_jobs jobs;
	size_t njobs;
	char *disabled;
};

int
notifier_type_known(const char *type)
{
	size_t i;

	for (i = 0; i < NOTIFIER_NBACKENDS; i++)
		if (strcmp(notifier_backends[i]->type, type) == 0)
			return 1;
	return 0;
}

struct notifier *
notifier_new(const struct notifier_config *cf, const struct notifier_ctx *ctx,
    char **cause)
{
	const struct notifier_backend *backend = NULL;
	struct notifier *n;
	char *why = NULL;
	size_t i;

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
	n = xcalloc(1, sizeof *n);
	n->name = xstrdup(cf->name);
	n->backend = backend;
	n->base = ctx->base;
	TAILQ_INIT(&n->jobs);
	if ((n->state = backend->new (n, cf, ctx, &why)) == NULL) {
		if (cause != NULL)
			xasprintf(cause, "notifier %s: %s", cf->name,
			    why != NULL ? why : "cannot be set up");
		free(why);
		free(n->name);
		free(n);
		return NULL;
	}
	return n;
}

static void
notifier_job_free(struct notifier_jobx *x)
{
	if (x->finish_ev != NULL)
		event_free(x->finish_ev);
	alert_free(x->job.alert);
	free(x->outbox_id);
	free(x->payload);
	free(x->error);
	free(x);
}

void
notifier_free(struct notifier *n)
{
	struct notifier_jobx *x;

	if (n == NULL)
		return;
	while ((x = TAILQ_FIRST(&n->jobs)) != NULL) {
		TAILQ_REMOVE(&n->jobs, x, entry);
		if (!x->finished && n->backend->cancel != NULL)
			n->backend->cancel(n->state, &x->job);
		notifier_job_free(x);
	}
	n->backend->free(n->state);
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

	TAILQ_REMOVE(&n->jobs, x, entry);
	n->njobs--;
	result.status = x->status;
	result.retry_after = x->retry_after;
	result.error = x->status == NOTIFIER_OK ? NULL : x->error;
	if (result.error == NULL && x->status != NOTIFIER_OK)
		result.error = "failed";
	if (x->status != NOTIFIER_OK)
		log_debug("notifier %s: outbox %s attempt %u: %s", n->name,
		    x->outbox_id, x->job.attempt, result.error);
	x->done_cb(&result, x->arg);
	notifier_job_free(x);
}

void
notifier_job_finish(struct notifier_job *job, enum notifier_status status,
    int64_t retry_after, const char *fmt, ...)
{
	struct notifier_jobx *x = (struct notifier_jobx *)job;
	struct timeval zero = {0, 0};
	va_list ap;

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
		if (strlen(x->error) > NOTIFIER_MAX_ERROR)
			x->error[NOTIFIER_MAX_ERROR] = '\0';
	}
	x->finish_ev = evtimer_new(job->notifier->base, notifier_finish_cb, x);
	if (x->finish_ev == NULL)
		fatalx("notifier_job_finish: evtimer_new failed");
	evtimer_add(x->finish_ev, &zero);
}

int
notifier_deliver(struct notifier *n, const char *outbox_id, const char *payload,
    size_t len, unsigned attempt, notifier_done_cb done_cb, void *arg,
    char **cause)
{
	struct notifier_jobx *x;
	struct alert *alert;

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
	if (n->disabled != NULL)
		notifier_job_finish(&x->job, NOTIFIER_TEMPFAIL,
		    NOTIFIER_DISABLED_RETRY, "notifier disabled: %s",
		    n->disabled);
	else
		n->backend->deliver(n->state, &x->job);
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
	const char *v = notifier_option(cf, key);
	char *end;
	long long n;
	int64_t unit;

	*ms = dflt_ms;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || !isdigit((unsigned char)*v) || errno != 0)
		goto bad;
	if (*end == '\0' || strcmp(end, "s") == 0)
		unit = 1000;
	else if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (strcmp(end, "m") == 0)
		unit = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		unit = 3600 * 1000;
	else
		goto bad;
	if (n > INT64_MAX / unit / 1000)
		goto bad;
	*ms = n * unit;
	return 0;
bad:
	xasprintf(
	    cause, "%s: \"%.64s\" is not a duration like 30s or 500ms", key, v);
	return -1;
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

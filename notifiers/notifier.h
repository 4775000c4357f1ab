/*
 * Notifiers: where alerts leave feedwatch. A notifier is a backend chosen
 * by the configuration's `type:` (webhook, email, syslog, exec, console)
 * behind one asynchronous interface that the outbox dispatcher drives:
 *
 *	n = notifier_new(&config, &ctx, &cause);
 *	notifier_deliver(n, outbox_id, payload_json, attempt, done_cb, arg);
 *	...  done_cb(&result, arg) runs later, from the event loop
 *	notifier_free(n);
 *
 * The payload is the alert JSON document (alert.h) as the outbox stores
 * it. done_cb is called exactly once per notifier_deliver() that returned
 * 0, never from inside notifier_deliver() itself, unless the notifier is
 * freed first: notifier_free() abandons deliveries still in flight without
 * calling their callbacks (the outbox sends them again later).
 *
 * Every notifier takes two options of its own, whatever its type:
 *
 *	rate_limit: 30/min   at most 30 sends a minute (also N/s, N/h); the
 *	                     excess is held and goes out as one digest per
 *	                     watchlist when the limit allows (backends that
 *	                     render no digest send it one by one, later)
 *	digest: 15m          hold every alert and send one digest per
 *	                     watchlist per window (email, and webhook
 *	                     without a preset or template)
 *
 * A held alert is a delivery the outbox sees in flight: it is answered
 * (once, with the digest's outcome) when its digest has been sent, and a
 * process that dies while it is held never answers it, so the next start
 * sends it again. Nothing is lost; a receiver may see it twice.
 */
#ifndef NOTIFIER_H
#define NOTIFIER_H

#include <stddef.h>
#include <stdint.h>

struct netguard;

struct event_base;
struct curlev;
struct notifier;

/* What the outbox needs to know about one delivery. */
enum notifier_status {
	NOTIFIER_OK,
	NOTIFIER_TEMPFAIL, /* try again later (backoff, or retry_after) */
	NOTIFIER_PERMFAIL, /* never: dead letter */
};

struct notifier_result {
	enum notifier_status status;
	int64_t retry_after; /* seconds the receiver asked to wait, or -1 */
	int parked; /* retry_after is the notifier's own wait (disabled),
		       not the receiver's */
	const char *error; /* NULL when OK; valid during the callback only */
};

typedef void (*notifier_done_cb)(const struct notifier_result *, void *arg);

/* One configuration option: a scalar (value) or a list (list, nlist). */
struct notifier_option {
	const char *key;
	const char *value;
	char *const *list;
	size_t nlist;
};

/* The configuration of one notifier; borrowed during notifier_new(). */
struct notifier_config {
	const char *name;
	const char *type;
	const struct notifier_option *options;
	size_t noptions;
	const char *dir; /* relative paths are relative to it; NULL = cwd */
};

/* What notifiers share with the rest of the process; borrowed, must
 * outlive every notifier made with it. curl may be NULL when no notifier
 * needs the network (webhook and email do). */
struct notifier_ctx {
	struct event_base *base;
	struct curlev *curl;
};

/* A notifier from its configuration; NULL with *cause (owned by the
 * caller) when an option is missing or wrong. `feedwatch check` can call
 * it to validate without delivering anything. */
struct notifier *notifier_new(
    const struct notifier_config *, const struct notifier_ctx *, char **cause);
void notifier_free(struct notifier *);

/* Start delivering payload (copied) for outbox row outbox_id (copied;
 * receivers use it to de-duplicate); attempt counts from 1. Returns -1
 * only when payload is not an alert document, with *cause set: that is
 * a permanent failure of the row. */
int notifier_deliver(struct notifier *, const char *outbox_id,
    const char *payload, size_t len, unsigned attempt, notifier_done_cb,
    void *arg, char **cause);

const char *notifier_name(const struct notifier *);
const char *notifier_type(const struct notifier *);
/* Deliveries started and not yet finished (held ones included). */
size_t notifier_inflight(const struct notifier *);
/* Deliveries held for a digest or by the rate limit: waiting on purpose,
 * not stalled. */
size_t notifier_held(const struct notifier *);
/* The outbox's max_inflight for notifiers: deliveries a notifier may be
 * given at once. The notifier itself keeps at most
 * NOTIFIER_MAX_CONCURRENT at its backend and holds the rest, so a digest
 * can gather up to this many alerts. */
#define NOTIFIER_MAX_INFLIGHT 1024
#define NOTIFIER_MAX_CONCURRENT 4
/* Alerts in one digest; a fuller window is sent at once. */
#define NOTIFIER_MAX_DIGEST 500
/* Send held digests now, without waiting for their window or the rate
 * limit (`feedwatch once` before it exits). */
void notifier_flush(struct notifier *);
/* Non-NULL when the notifier disabled itself (a webhook answered 410)
 * until the next reload: why. Deliveries then fail with TEMPFAIL, so the
 * alerts wait in the outbox for a fixed configuration. */
const char *notifier_disabled(const struct notifier *);
/* Whether type names a notifier type. */
int notifier_type_known(const char *type);

/*
 * For backends (webhook.c, email.c, ...). A backend's new() returns its
 * state; deliver() starts a job and, when done with it, calls
 * notifier_job_finish() exactly once (from anywhere, even inside
 * deliver(): the outbox's callback always runs later, from the loop).
 * cancel() abandons a job still in flight when the notifier is freed.
 */
struct alert;

struct notifier_job {
	struct notifier *notifier;
	const char *outbox_id;
	const char *payload; /* the alert JSON, NUL-terminated */
	size_t len;
	struct alert *alert; /* the payload, parsed */
	unsigned attempt;
	void *data; /* the backend's, for this job */
	/* A digest (only for backends with digests()): the alerts it
	 * carries, in arrival order, all of one watchlist. outbox_id is then
	 * made up ("digest.<first id>.<count>") and alert is digest[0]'s. */
	struct notifier_job *const *digest;
	size_t ndigest;
};

struct notifier_backend {
	const char *type;
	void *(*new)(struct notifier *, const struct notifier_config *,
	    const struct notifier_ctx *, char **cause);
	void (*deliver)(void *state, struct notifier_job *);
	void (*cancel)(void *state, struct notifier_job *);
	void (*free)(void *state);
	/* Non-NULL and true when deliver() renders digest jobs. */
	int (*digests)(void *state);
};

void notifier_job_finish(struct notifier_job *, enum notifier_status,
    int64_t retry_after, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Refuse deliveries until the notifier is made again (reload); logged. */
void notifier_disable(struct notifier *, const char *why);
struct event_base *notifier_base(const struct notifier *);

/* Option helpers. A scalar option, or NULL when absent or a list. */
const char *notifier_option(const struct notifier_config *, const char *key);
/*
 * The "url" option: given, starting with SCHEME1 or SCHEME2 ("http://"),
 * and taken by libcurl's parser. NULL with *cause ("WHAT needs a url:
 * ...") otherwise; a refused url is not echoed, as it may hold a token
 * or a password.
 */
const char *notifier_url(const struct notifier_config *, const char *what,
    const char *scheme1, const char *scheme2, char **cause);
/*
 * What a transfer that failed with RC says: the address the SSRF guard
 * G refused, with the option that allows it, or curl's words
 * (curlev_strerror()). May write ERRBUF (CURL_ERROR_SIZE bytes), the
 * transfer's, and return it.
 */
const char *notifier_curl_error(int rc, char *errbuf, const struct netguard *g);
const struct notifier_option *notifier_option_get(
    const struct notifier_config *, const char *key);
/* true/false/yes/no/on/off; -1 with *cause when it is something else. */
int notifier_option_bool(const struct notifier_config *, const char *key,
    int dflt, int *out, char **cause);
/* "30s", "500ms", "2m", "1h" or plain seconds. */
int notifier_option_duration(const struct notifier_config *, const char *key,
    int64_t dflt_ms, int64_t *ms, char **cause);
/* PATH made absolute against the configuration's folder; caller frees. */
char *notifier_path(const struct notifier_config *, const char *path);

#endif

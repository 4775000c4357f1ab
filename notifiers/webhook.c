/*
 * The webhook notifier: Standard Webhooks signing and an HTTP POST run
 * by curlev on the process's one curl multi handle.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "alert.h"
#include "buf.h"
#include "curlev.h"
#include "log.h"
#include "netguard.h"
#include "payload.h"
#include "secret.h"
#include "template.h"
#include "webhook.h"
#include "xmalloc.h"

struct webhook {
	struct notifier *notifier;
	struct curlev *curl;
	char *url;
	char *secrets; /* space-separated whsec_ keys, or NULL */
	enum payload_preset preset;
	char *topic;
	struct template *template;
	char *content_type;
	char **headers;
	size_t nheaders;
	int64_t timeout_ms;
	int allow_private;
};

struct webhook_post {
	struct webhook *webhook;
	struct notifier_job *job;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	struct buf response;
	char errbuf[CURL_ERROR_SIZE];
	struct netguard guard;
};

int
webhook_secret_decode(const char *secret, unsigned char *key)
{
	unsigned char tmp[3 * ((2 * WEBHOOK_MAX_KEY + 3) / 4) + 3];
	size_t len, pad = 0;
	int n;

	if (strncmp(secret, "whsec_", 6) != 0)
		return -1;
	secret += 6;
	len = strlen(secret);
	if (len == 0 || len % 4 != 0 || len > 4 * ((WEBHOOK_MAX_KEY + 2) / 3))
		return -1;
	if (secret[len - 1] == '=')
		pad++;
	if (secret[len - 2] == '=')
		pad++;
	n = EVP_DecodeBlock(tmp, (const unsigned char *)secret, (int)len);
	if (n < 0 || (size_t)n < pad)
		return -1;
	n -= (int)pad;
	if (n < WEBHOOK_MIN_KEY || n > WEBHOOK_MAX_KEY) {
		OPENSSL_cleanse(tmp, sizeof tmp);
		return -1;
	}
	memcpy(key, tmp, (size_t)n);
	OPENSSL_cleanse(tmp, sizeof tmp);
	return n;
}

char *
webhook_sign(const char *secrets, const char *id, int64_t timestamp,
    const char *body, size_t len)
{
	unsigned char key[WEBHOOK_MAX_KEY], mac[EVP_MAX_MD_SIZE];
	unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	char one[512], ts[32];
	const char *p = secrets;
	struct buf out;
	EVP_MAC *hmac;
	EVP_MAC_CTX *ctx;
	OSSL_PARAM params[2];
	size_t n, maclen;
	int keylen;

	if ((hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		fatalx("webhook_sign: OpenSSL has no HMAC");
	buf_init(&out, SIZE_MAX / 2);
	snprintf(ts, sizeof ts, "%lld", (long long)timestamp);
	while (*p != '\0') {
		p += strspn(p, " \t\r\n");
		if ((n = strcspn(p, " \t\r\n")) == 0)
			break;
		if (n >= sizeof one)
			goto fail;
		memcpy(one, p, n);
		one[n] = '\0';
		p += n;
		keylen = webhook_secret_decode(one, key);
		OPENSSL_cleanse(one, sizeof one);
		if (keylen == -1)
			goto fail;
		/* HMAC(key, id "." timestamp "." body), streamed. */
		params[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
		params[1] = OSSL_PARAM_construct_end();
		if ((ctx = EVP_MAC_CTX_new(hmac)) == NULL)
			fatalx("webhook_sign: out of memory");
		if (EVP_MAC_init(ctx, key, (size_t)keylen, params) != 1 ||
		    EVP_MAC_update(
			ctx, (const unsigned char *)id, strlen(id)) != 1 ||
		    EVP_MAC_update(ctx, (const unsigned char *)".", 1) != 1 ||
		    EVP_MAC_update(
			ctx, (const unsigned char *)ts, strlen(ts)) != 1 ||
		    EVP_MAC_update(ctx, (const unsigned char *)".", 1) != 1 ||
		    EVP_MAC_update(ctx, (const unsigned char *)body, len) !=
			1 ||
		    EVP_MAC_final(ctx, mac, &maclen, sizeof mac) != 1)
			fatalx("webhook_sign: HMAC failed");
		EVP_MAC_CTX_free(ctx);
		OPENSSL_cleanse(key, sizeof key);
		EVP_EncodeBlock(b64, mac, (int)maclen);
		buf_printf(&out, "%sv1,%s", out.len > 0 ? " " : "", b64);
	}
	if (out.len == 0)
		goto fail;
	EVP_MAC_free(hmac);
	return buf_take(&out, NULL);
fail:
	OPENSSL_cleanse(key, sizeof key);
	EVP_MAC_free(hmac);
	buf_free(&out);
	return NULL;
}

/* The headers the signature is or covers (Standard Webhooks): a custom
 * header may not take their place. */
static const char *const webhook_signing_headers[] = {
    "webhook-id", "webhook-timestamp", "webhook-signature"};

/* Whether the header line H ("Name: value") is named NAME, in any case. */
static int
webhook_header_is(const char *h, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

int
webhook_header_check(const char *h, char **cause)
{
	const char *colon = strchr(h, ':'), *p;
	size_t i;

	if (colon == NULL || colon == h)
		goto bad;
	for (p = h; p < colon; p++)
		if (!isalnum((unsigned char)*p) &&
		    strchr("!#$%&'*+-.^_`|~", *p) == NULL)
			goto bad;
	for (p = colon; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			goto bad;
	for (i = 0; i <
	     sizeof webhook_signing_headers / sizeof webhook_signing_headers[0];
	     i++) {
		if (webhook_header_is(h, webhook_signing_headers[i])) {
			xasprintf(cause,
			    "headers: %s is the webhook's own (signed), not "
			    "to be set",
			    webhook_signing_headers[i]);
			return -1;
		}
	}
	return 0;
bad:
	xasprintf(cause, "headers: \"%.64s\" is not \"Name: value\"", h);
	return -1;
}

/* Whether a custom header of the webhook W is named NAME: it replaces
 * the built-in one. */
static int
webhook_has_header(const struct webhook *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->nheaders; i++)
		if (webhook_header_is(w->headers[i], name))
			return 1;
	return 0;
}

static void webhook_free(void *);

static void *
webhook_new(struct notifier *n, const struct notifier_config *cf,
    const struct notifier_ctx *ctx, char **cause)
{
	const struct notifier_option *o;
	struct webhook *w = xcalloc(1, sizeof *w);
	const char *v, *slash;
	char *sig, *joined;
	struct buf b;
	size_t i, count;

	w->notifier = n;
	w->curl = ctx->curl;
	if ((v = notifier_url(cf, "webhook", "http://", "https://", cause)) ==
	    NULL)
		goto fail;
	w->url = xstrdup(v);
	if ((v = notifier_option(cf, "preset")) != NULL &&
	    payload_preset_parse(v, &w->preset) == -1) {
		xasprintf(cause,
		    "unknown preset \"%.32s\" (slack, mattermost, discord, "
		    "teams, ntfy)",
		    v);
		goto fail;
	}
	if ((v = notifier_option(cf, "template")) != NULL) {
		if (w->preset != PAYLOAD_ALERT) {
			*cause =
			    xstrdup("give a preset or a template, not both");
			goto fail;
		}
		if ((w->template = template_parse(v, cause)) == NULL)
			goto fail;
	}
	v = notifier_option(cf, "content_type");
	w->content_type = xstrdup(v != NULL ? v : "application/json");
	if (strpbrk(w->content_type, "\r\n") != NULL) {
		*cause = xstrdup("content_type: bad characters");
		goto fail;
	}
	if (w->preset == PAYLOAD_NTFY) {
		if ((v = notifier_option(cf, "topic")) != NULL)
			w->topic = xstrdup(v);
		else {
			/* https://ntfy.sh/TOPIC: post JSON to the root. */
			slash = strrchr(w->url, '/');
			if (slash == NULL || slash[1] == '\0' ||
			    slash < w->url + strlen("https://")) {
				*cause = xstrdup("ntfy needs a topic, or a url "
						 "ending in /TOPIC");
				goto fail;
			}
			w->topic = xstrdup(slash + 1);
			w->url[slash + 1 - w->url] = '\0';
		}
	}
	/* Signing keys: a list, or one string of space-separated keys. */
	o = notifier_option_get(cf, "secret");
	if (o != NULL && o->nlist > 0) {
		buf_init(&b, SIZE_MAX / 2);
		for (i = 0; i < o->nlist; i++)
			buf_printf(&b, "%s%s", i > 0 ? " " : "", o->list[i]);
		w->secrets = buf_take(&b, NULL);
	} else if (secret_load(cf, "secret", &w->secrets, cause) == -1)
		goto fail;
	if (w->secrets != NULL) {
		joined = w->secrets;
		for (count = 0, v = joined; *v != '\0';) {
			v += strspn(v, " \t\r\n");
			if (*v == '\0')
				break;
			i = strcspn(v, " \t\r\n");
			count++;
			if (i >= 512) {
				count = WEBHOOK_MAX_SECRETS + 1;
				break;
			}
			v += i;
		}
		if (count > WEBHOOK_MAX_SECRETS) {
			xasprintf(cause, "at most %d secrets at once",
			    WEBHOOK_MAX_SECRETS);
			goto fail;
		}
		if ((sig = webhook_sign(joined, "x", 0, "", 0)) == NULL) {
			xasprintf(cause,
			    "secret must be whsec_ followed by the base64 of "
			    "%d to %d random bytes",
			    WEBHOOK_MIN_KEY, WEBHOOK_MAX_KEY);
			goto fail;
		}
		free(sig);
	}
	if ((o = notifier_option_get(cf, "headers")) != NULL) {
		if (o->value != NULL) {
			*cause = xstrdup("headers must be a list");
			goto fail;
		}
		if (o->nlist > WEBHOOK_MAX_HEADERS) {
			xasprintf(
			    cause, "at most %d headers", WEBHOOK_MAX_HEADERS);
			goto fail;
		}
		w->headers = xcalloc(o->nlist, sizeof *w->headers);
		for (i = 0; i < o->nlist; i++) {
			if (webhook_header_check(o->list[i], cause) == -1)
				goto fail;
			w->headers[w->nheaders++] = xstrdup(o->list[i]);
		}
	}
	if (notifier_option_duration(cf, "timeout", WEBHOOK_DEFAULT_TIMEOUT_MS,
		&w->timeout_ms, cause) == -1)
		goto fail;
	if (w->timeout_ms <= 0) {
		*cause = xstrdup("timeout must be positive");
		goto fail;
	}
	if (notifier_option_bool(
		cf, "allow_private", 0, &w->allow_private, cause) == -1)
		goto fail;
	if (w->curl == NULL) {
		*cause = xstrdup("webhook needs the network (no curl handle)");
		goto fail;
	}
	return w;
fail:
	webhook_free(w);
	return NULL;
}

static void
webhook_free(void *state)
{
	struct webhook *w = state;
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->nheaders; i++)
		free(w->headers[i]);
	free(w->headers);
	free(w->url);
	secret_free(w->secrets);
	free(w->topic);
	template_free(w->template);
	free(w->content_type);
	free(w);
}

static void
webhook_post_free(struct webhook_post *p)
{
	if (p == NULL)
		return;
	if (p->easy != NULL)
		curl_easy_cleanup(p->easy);
	curl_slist_free_all(p->headers);
	free(p->body);
	buf_free(&p->response);
	p->job->data = NULL;
	free(p);
}

static size_t
webhook_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct webhook_post *p = arg;
	size_t n = size * nmemb, room = WEBHOOK_MAX_RESPONSE - p->response.len;

	if (room > 0)
		buf_add(&p->response, data, n < room ? n : room);
	return n;
}

static void
webhook_done_cb(CURL *easy, CURLcode result, void *arg)
{
	struct webhook_post *p = arg;
	struct notifier_job *job = p->job;
	struct webhook *w = p->webhook;
	const char *body = buf_str(&p->response);
	char why[256];
	curl_off_t retry_after = -1;
	const char *location = NULL;
	long status = 0;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (result != CURLE_OK) {
		notifier_job_finish(job, NOTIFIER_TEMPFAIL, -1, "%s",
		    notifier_curl_error(result, p->errbuf, &p->guard));
		webhook_post_free(p);
		return;
	}
	curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after);
	/* The receiver's words as they are (WEBHOOK_MAX_RESPONSE at most):
	 * what prints them escapes them. */
	if (status >= 200 && status <= 299)
		notifier_job_finish(job, NOTIFIER_OK, -1, NULL);
	else if (status == 408 || status == 429 ||
	    (status >= 500 && status <= 599))
		notifier_job_finish(job, NOTIFIER_TEMPFAIL,
		    retry_after > 0 ? (int64_t)retry_after : -1, "HTTP %ld: %s",
		    status, body);
	else if (status == 410) {
		snprintf(why, sizeof why,
		    "the receiver answered 410 Gone: it wants no more alerts");
		notifier_job_finish(
		    job, NOTIFIER_PERMFAIL, -1, "HTTP 410 Gone: %s", body);
		notifier_disable(w->notifier, why);
	} else if (status >= 300 && status <= 399) {
		curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &location);
		notifier_job_finish(job, NOTIFIER_PERMFAIL, -1,
		    "HTTP %ld: redirects are not followed (to %s); fix the url",
		    status, location != NULL ? location : "nowhere");
	} else
		notifier_job_finish(
		    job, NOTIFIER_PERMFAIL, -1, "HTTP %ld: %s", status, body);
	webhook_post_free(p);
}

static struct curl_slist *webhook_header(struct curl_slist *list,
    const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static struct curl_slist *
webhook_header(struct curl_slist *list, const char *fmt, ...)
{
	struct curl_slist *l;
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatalx("webhook_header: out of memory");
	va_end(ap);
	if ((l = curl_slist_append(list, s)) == NULL)
		fatalx("webhook_header: out of memory");
	free(s);
	return l;
}

/* A digest's body: {"type": "digest", "version", "id", "watchlist",
 * "count", "alerts": [alert documents]}. */
static char *
webhook_digest_body(const struct notifier_job *job)
{
	json_t *root, *alerts, *doc;
	char *body;
	size_t i;

	alerts = json_array();
	for (i = 0; i < job->ndigest; i++) {
		doc = json_loadb(
		    job->digest[i]->payload, job->digest[i]->len, 0, NULL);
		if (doc == NULL) /* read by alert_from_json() already */
			fatalx("webhook_digest_body: payload is not JSON");
		json_array_append_new(alerts, doc);
	}
	root = json_pack("{s:s, s:i, s:s, s:s, s:I, s:o}", "type", "digest",
	    "version", ALERT_SCHEMA_VERSION, "id", job->outbox_id, "watchlist",
	    job->alert->watchlist != NULL ? job->alert->watchlist : "", "count",
	    (json_int_t)job->ndigest, "alerts", alerts);
	if (root == NULL ||
	    (body = json_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII)) == NULL)
		fatalx("webhook_digest_body: out of memory");
	json_decref(root);
	return body;
}

static void
webhook_deliver(void *state, struct notifier_job *job)
{
	struct webhook *w = state;
	struct webhook_post *p = xcalloc(1, sizeof *p);
	const char *content_type;
	int64_t now = (int64_t)time(NULL);
	char *sig;
	size_t i;

	p->webhook = w;
	p->job = job;
	job->data = p;
	buf_init(&p->response, WEBHOOK_MAX_RESPONSE);
	if (job->ndigest > 0) {
		p->body = webhook_digest_body(job);
		content_type = "application/json";
	} else if (w->template != NULL) {
		p->body = template_render(w->template, job->alert,
		    job->outbox_id, template_escape_for(w->content_type));
		content_type = w->content_type;
	} else
		p->body = payload_render_preset(w->preset, job->alert,
		    job->payload, w->topic, &content_type);

	/* A custom Content-Type or Expect is sent instead of the built-in
	 * one: two of them would leave the receiver to guess. */
	if (!webhook_has_header(w, "Content-Type"))
		p->headers = webhook_header(
		    p->headers, "Content-Type: %s", content_type);
	p->headers =
	    webhook_header(p->headers, "webhook-id: %s", job->outbox_id);
	p->headers = webhook_header(
	    p->headers, "webhook-timestamp: %lld", (long long)now);
	if (w->secrets != NULL) {
		sig = webhook_sign(
		    w->secrets, job->outbox_id, now, p->body, strlen(p->body));
		if (sig == NULL)
			fatalx("webhook_deliver: secret went bad");
		p->headers =
		    webhook_header(p->headers, "webhook-signature: %s", sig);
		free(sig);
	}
	if (!webhook_has_header(w, "Expect"))
		p->headers =
		    webhook_header(p->headers, "Expect:"); /* no 100-continue */
	for (i = 0; i < w->nheaders; i++)
		p->headers = webhook_header(p->headers, "%s", w->headers[i]);

	if ((p->easy = curl_easy_init()) == NULL)
		fatalx("webhook_deliver: curl_easy_init failed");
	curl_easy_setopt(p->easy, CURLOPT_URL, w->url);
	curl_easy_setopt(p->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(p->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(p->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(p->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(p->easy, CURLOPT_POSTFIELDS, p->body);
	curl_easy_setopt(
	    p->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(p->body));
	curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->headers);
	curl_easy_setopt(
	    p->easy, CURLOPT_USERAGENT, "feedwatch/" FEEDWATCH_VERSION);
	curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms);
	curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)WEBHOOK_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(p->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(p->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(p->easy, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, webhook_write_cb);
	curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, p->errbuf);
	p->guard.block_private = !w->allow_private;
	netguard_apply(p->easy, &p->guard);
	if (curlev_add(w->curl, p->easy, webhook_done_cb, p) == -1) {
		webhook_post_free(p);
		notifier_job_finish(
		    job, NOTIFIER_TEMPFAIL, -1, "curl refused the transfer");
	}
}

static void
webhook_cancel(void *state, struct notifier_job *job)
{
	struct webhook *w = state;
	struct webhook_post *p = job->data;

	if (p == NULL)
		return;
	curlev_cancel(w->curl, p->easy);
	webhook_post_free(p);
}

/* Digests only where the body is ours: not for presets and templates. */
static int
webhook_digests(void *state)
{
	struct webhook *w = state;

	return w->template == NULL && w->preset == PAYLOAD_ALERT;
}

const struct notifier_backend webhook_backend = {"webhook", webhook_new,
    webhook_deliver, webhook_cancel, webhook_free, webhook_digests};

/*
 * The webhook notifier: an HTTP POST per alert through the shared curl
 * multi handle, signed after Standard Webhooks
 * (https://www.standardwebhooks.com, spec/standard-webhooks.md). Options:
 *
 *	url: https://hooks.example.org/x   http or https (required)
 *	preset: slack                      or mattermost, discord, teams,
 *	                                   ntfy (payload.h); default: the
 *	                                   alert JSON document
 *	topic: alerts                      ntfy only; default: the URL's
 *	                                   last path segment
 *	template: '{"t":"{{item.title}}"}' a user body (template.h), escaped
 *	content_type: application/json     for the template (default JSON)
 *	secret: whsec_BASE64               signing keys, several separated
 *	                                   by spaces (or a list) while
 *	                                   rotating; also secret_file,
 *	                                   secret_env, secret_credential
 *	headers: ["X-Token: abc"]          extra request headers; one
 *	                                   named Content-Type or Expect
 *	                                   replaces the built-in one, and
 *	                                   the signing headers are refused
 *	timeout: 30s                       whole request
 *	allow_private: false               allow loopback/private addresses
 *
 * Headers: webhook-id (the outbox id: the same on every retry, the
 * receiver's idempotency key), webhook-timestamp (seconds), and with a
 * secret webhook-signature "v1,BASE64 [v1,BASE64 ...]": HMAC-SHA256 over
 * "id.timestamp.body" under each key.
 *
 * Outcome: 2xx OK. 408, 429, 5xx, timeouts and connection errors are
 * TEMPFAIL, with Retry-After passed on. Redirects are never followed:
 * 3xx is PERMFAIL, as are other 4xx. 410 Gone is PERMFAIL and disables
 * the notifier until reload (its later alerts wait in the outbox).
 */
#ifndef WEBHOOK_H
#define WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "notifier.h"

#define WEBHOOK_DEFAULT_TIMEOUT_MS (30 * 1000)
#define WEBHOOK_CONNECT_TIMEOUT_MS (10 * 1000)
/* Response bytes kept for the error message; the rest is discarded. */
#define WEBHOOK_MAX_RESPONSE 512
/* Keys at once while rotating, and the key sizes the spec allows. */
#define WEBHOOK_MAX_SECRETS 8
#define WEBHOOK_MIN_KEY 24
#define WEBHOOK_MAX_KEY 64
#define WEBHOOK_MAX_HEADERS 32

extern const struct notifier_backend webhook_backend;

/* A whsec_ secret's key bytes into key (WEBHOOK_MAX_KEY); the length,
 * or -1 when it is not whsec_ followed by base64 of 24 to 64 bytes. */
int webhook_secret_decode(const char *secret, unsigned char *key);
/* The webhook-signature value for (id, timestamp, body) under each key
 * in secrets (space-separated whsec_ secrets); owned by the caller, NULL
 * if a secret is malformed. */
char *webhook_sign(const char *secrets, const char *id, int64_t timestamp,
    const char *body, size_t len);
/* Whether H may be one of the headers: option: "Name: value" with a token
 * name, on one line, and not a signing header (webhook-id,
 * webhook-timestamp, webhook-signature). 0, or -1 with *cause. */
int webhook_header_check(const char *h, char **cause);

#endif

/*
 * The email notifier: one message per alert over SMTP through libcurl on
 * the shared multi handle. Options:
 *
 *	url: smtp://mail.example.org:587   or smtps://HOST:465 (required)
 *	from: "feedwatch <fw@example.org>" (required)
 *	to: [a@example.org, b@example.org] (required)
 *	subject: "[{{alert.watchlist}}] {{item.title}}"   a template
 *	username: fw                       AUTH, with the password from
 *	password_file: /etc/feedwatch/smtp (or password, password_env,
 *	                                   password_credential)
 *	starttls: true                     smtp:// must upgrade to TLS
 *	                                   (false only for a local relay)
 *	ca_file: /path/ca.pem              trust this CA instead of the
 *	                                   system store
 *	timeout: 60s                       whole session
 *	allow_private: true                the relay is often local
 *
 * The message is multipart/alternative with a text/plain and a text/html
 * part (matches highlighted with <mark>, all feed text escaped), both
 * base64, so no line of feed text reaches the SMTP stream as written.
 * The subject is encoded after RFC 2047 (B encoding, UTF-8) with control
 * characters turned into spaces: CR/LF in a title stay in the subject.
 * Display names in from and to are encoded the same way when they are
 * not ASCII, and quoted when they hold specials (a comma).
 * Message-ID is derived from the outbox id, so a message sent again after
 * an ambiguous failure can be recognized; Date is the alert's creation.
 *
 * With `digest: 15m` (notifier.h) one message per window per watchlist
 * carries every alert of the window, subject "[WATCHLIST] N alerts",
 * Message-ID derived from the digest's id (its first outbox id and size).
 *
 * Outcome: 250 after DATA is OK; 4xx replies and connection failures are
 * TEMPFAIL; 5xx replies (a refused recipient, failed AUTH) are PERMFAIL.
 */
#ifndef EMAIL_H
#define EMAIL_H

#include <stddef.h>

#include "notifier.h"

#define EMAIL_DEFAULT_TIMEOUT_MS (60 * 1000)
#define EMAIL_CONNECT_TIMEOUT_MS (10 * 1000)
#define EMAIL_DEFAULT_SUBJECT "[{{alert.watchlist}}] {{item.title}}"
/* Characters of the subject kept; more is cut with an ellipsis. */
#define EMAIL_MAX_SUBJECT 200
#define EMAIL_MAX_RECIPIENTS 50

extern const struct notifier_backend email_backend;

struct alert;

/* The RFC 2047 form of a header text (controls become spaces), folded
 * for a header that starts with "Subject: "; owned by the caller. */
char *email_encode_header(const char *text);
/* The whole message, CRLF line ends; owned by the caller. */
char *email_compose(const struct alert *, const char *outbox_id,
    const char *from, char *const *to, size_t nto, const char *subject,
    size_t *len);
/* A digest of NJOBS alerts (jobs[i]->alert, jobs[i]->outbox_id). */
char *email_compose_digest(struct notifier_job *const *jobs, size_t njobs,
    const char *outbox_id, const char *from, char *const *to, size_t nto,
    size_t *len);

#endif

/*
 * The email notifier. Messages follow RFC 5322 (format), RFC 2045/2046
 * (MIME, multipart/alternative, base64) and RFC 2047 (encoded words in
 * the subject and display names); they travel by SMTP through libcurl.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "alert.h"
#include "buf.h"
#include "curlev.h"
#include "email.h"
#include "log.h"
#include "netguard.h"
#include "payload.h"
#include "secret.h"
#include "template.h"
#include "xmalloc.h"

/* RFC 2047 section 2: an encoded word is at most 75 characters, and a
 * header line holding one at most 76. Raw bytes per word: 45 bytes are
 * 60 base64 characters, and "=?UTF-8?B?" 60 "?=" is 72; on the first
 * line, after the header's name, fewer. */
#define EMAIL_WORD_BYTES 45
#define EMAIL_WORD_LINE 76
#define EMAIL_WORD_FRAME 12 /* "=?UTF-8?B?" and "?=" */
/* Base64 body lines: 57 bytes make 76 characters (RFC 2045). */
#define EMAIL_LINE_BYTES 57
/* Longest address or domain accepted from the configuration. */
#define EMAIL_MAX_ADDRESS 254

struct email {
	struct notifier *notifier;
	struct curlev *curl;
	char *url;
	char *from;
	char *envelope_from;
	char **to;
	size_t nto;
	struct curl_slist *rcpt;
	struct template *subject;
	char *username;
	char *password;
	char *ca_file;
	int starttls;
	int allow_private;
	int64_t timeout_ms;
};

struct email_send {
	struct email *email;
	struct notifier_job *job;
	CURL *easy;
	char *message;
	size_t len, off;
	char errbuf[CURL_ERROR_SIZE];
	struct netguard guard;
};

/* Raw bytes of an encoded word that fits a line with USED characters
 * taken: each 3 bytes take 4 base64 characters. */
static size_t
email_word_bytes(size_t used)
{
	size_t room = EMAIL_WORD_LINE - used - EMAIL_WORD_FRAME, n;

	n = room / 4 * 3;
	return n < EMAIL_WORD_BYTES ? n : EMAIL_WORD_BYTES;
}

/* TEXT (controls already gone) as encoded words, folded, the first on
 * a line where USED characters are taken. */
static void
email_encode_words(struct buf *out, const char *text, size_t used)
{
	unsigned char b64[4 * EMAIL_WORD_BYTES / 3 + 4];
	const unsigned char *p = (const unsigned char *)text;
	size_t n, max;
	int first = 1;

	while (*p != '\0') {
		/* Up to what the line holds, never splitting a character
		 * (continuation lines start with a space). */
		max = email_word_bytes(first ? used : 1);
		n = strlen((const char *)p);
		if (n > max) {
			n = max;
			while (n > 0 && (p[n] & 0xc0) == 0x80)
				n--;
			if (n == 0)
				n = max;
		}
		EVP_EncodeBlock(b64, p, (int)n);
		buf_printf(out, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", b64);
		p += n;
		first = 0;
	}
}

/* Whether header text can go as it is: printable ASCII without "=?",
 * which a reader would take for the start of an encoded word, and short
 * enough to need no folding. */
static int
email_header_plain(const char *text)
{
	const unsigned char *p;

	for (p = (const unsigned char *)text; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f)
			return 0;
	return strstr(text, "=?") == NULL && strlen(text) <= 900;
}

char *
email_encode_header(const char *text)
{
	struct buf clean, out;
	size_t i;

	if (email_header_plain(text))
		return xstrdup(text);
	buf_init(&clean, SIZE_MAX / 2);
	for (i = 0; text[i] != '\0'; i++)
		buf_addc(&clean,
		    (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? ' '
								     : text[i]);
	buf_init(&out, SIZE_MAX / 2);
	email_encode_words(&out, buf_str(&clean), sizeof "Subject: " - 1);
	buf_free(&clean);
	return buf_take(&out, NULL);
}

/*
 * Append the mailbox "Name <address>" or "address" of the configuration
 * (email_address() took it) to a header line where USED characters are
 * taken, after RFC 5322 section 3.4: a display name that is not plain
 * ASCII goes as encoded words, and the address then on a line of its
 * own, as a line holding encoded words is limited to 76 characters; a
 * name that holds specials is quoted, as a bare comma would start a
 * second mailbox. A name written quoted is taken without its quotes.
 */
static void
email_add_mailbox(struct buf *b, const char *mailbox, size_t used)
{
	const char *lt = strrchr(mailbox, '<'), *p, *end;
	struct buf name;

	if (lt == NULL) {
		buf_addstr(b, mailbox);
		return;
	}
	for (p = mailbox; *p == ' ' || *p == '\t'; p++)
		;
	for (end = lt; end > p && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	buf_init(&name, SIZE_MAX / 2);
	if (end - p >= 2 && *p == '"' && end[-1] == '"') {
		for (p++, end--; p < end; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			buf_addc(&name, *p);
		}
	} else
		buf_add(&name, p, (size_t)(end - p));
	if (name.len == 0)
		buf_addstr(b, lt);
	else if (!email_header_plain(buf_str(&name))) {
		email_encode_words(b, buf_str(&name), used);
		buf_printf(b, "\r\n %s", lt);
	} else if (strpbrk(buf_str(&name), "()<>[]:;@\\,.\"") != NULL) {
		buf_addc(b, '"');
		for (p = buf_str(&name); *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(b, '\\');
			buf_addc(b, *p);
		}
		buf_printf(b, "\" %s", lt);
	} else
		buf_printf(b, "%s %s", buf_str(&name), lt);
	buf_free(&name);
}

static void
email_base64(struct buf *b, const char *data, size_t len)
{
	unsigned char line[4 * EMAIL_LINE_BYTES / 3 + 4];
	size_t n;

	while (len > 0) {
		n = len < EMAIL_LINE_BYTES ? len : EMAIL_LINE_BYTES;
		EVP_EncodeBlock(line, (const unsigned char *)data, (int)n);
		buf_printf(b, "%s\r\n", line);
		data += n;
		len -= n;
	}
}

/* Characters kept from an outbox id in Message-ID and the boundary. */
static void
email_token(struct buf *b, const char *id)
{
	for (; *id != '\0'; id++) {
		if (isalnum((unsigned char)*id) || *id == '-' || *id == '.')
			buf_addc(b, *id);
		else
			buf_printf(b, "_%02x", (unsigned char)*id);
	}
}

/* The domain of the From address, for Message-ID. */
static void
email_domain(struct buf *b, const char *from)
{
	const char *at = strrchr(from, '@');
	size_t n;

	if (at == NULL) {
		buf_addstr(b, "feedwatch.invalid");
		return;
	}
	n = strcspn(at + 1, "> \t");
	if (n == 0)
		buf_addstr(b, "feedwatch.invalid");
	else
		buf_add(b, at + 1, n);
}

static int
email_range_cmp(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* text escaped for HTML, the hits of FIELD wrapped in <mark>. Offsets
 * that fall outside the text, inside a character or over an earlier
 * hit are ignored. */
static void
email_html_marked(
    struct buf *b, const struct alert *a, const char *field, const char *text)
{
	int64_t(*ranges)[2], pos = 0, len = (int64_t)strlen(text);
	size_t i, n = 0;

	ranges = xcalloc(a->nhits + 1, sizeof *ranges);
	for (i = 0; i < a->nhits; i++) {
		if (a->hits[i].field == NULL ||
		    strcmp(a->hits[i].field, field) != 0 ||
		    a->hits[i].start < 0 || a->hits[i].end > len ||
		    a->hits[i].end <= a->hits[i].start)
			continue;
		ranges[n][0] = a->hits[i].start;
		ranges[n][1] = a->hits[i].end;
		n++;
	}
	qsort(ranges, n, sizeof *ranges, email_range_cmp);
	for (i = 0; i < n; i++) {
		if (ranges[i][0] < pos ||
		    ((unsigned char)text[ranges[i][0]] & 0xc0) == 0x80 ||
		    ((unsigned char)text[ranges[i][1]] & 0xc0) == 0x80)
			continue;
		template_html_escape(
		    b, text + pos, (size_t)(ranges[i][0] - pos));
		buf_addstr(b, "<mark>");
		template_html_escape(b, text + ranges[i][0],
		    (size_t)(ranges[i][1] - ranges[i][0]));
		buf_addstr(b, "</mark>");
		pos = ranges[i][1];
	}
	template_html_escape(b, text + pos, (size_t)(len - pos));
	free(ranges);
}

static int
email_link_ok(const char *link)
{
	return link != NULL &&
	    (strncmp(link, "https://", 8) == 0 ||
		strncmp(link, "http://", 7) == 0);
}

static void
email_text_alert(struct buf *b, const struct alert *a)
{
	const struct alert_hit *h;
	char ts[64];
	size_t i;

	buf_printf(
	    b, "%s\n\n", a->item_title != NULL ? a->item_title : "(untitled)");
	if (a->item_link != NULL)
		buf_printf(b, "Link:      %s\n", a->item_link);
	buf_printf(b, "Watchlist: %s (%s)\n",
	    a->watchlist != NULL ? a->watchlist : "",
	    alert_severity_name(alert_severity_of(a)));
	if (a->feed_title != NULL || a->feed_url != NULL)
		buf_printf(b, "Feed:      %s%s%s%s\n",
		    a->feed_title != NULL ? a->feed_title : "",
		    a->feed_url != NULL ? " <" : "",
		    a->feed_url != NULL ? a->feed_url : "",
		    a->feed_url != NULL ? ">" : "");
	if (a->item_published != ALERT_TIME_NONE)
		buf_printf(b, "Published: %s\n",
		    alert_format_time(ts, sizeof ts, a->item_published));
	if (a->item_author != NULL)
		buf_printf(b, "Author:    %s\n", a->item_author);
	if (a->nhits > 0)
		buf_addstr(b, "\nWhy it matched:\n");
	for (i = 0; i < a->nhits; i++) {
		h = &a->hits[i];
		buf_printf(b, "  - %s", h->term != NULL ? h->term : "?");
		if (h->alias != NULL)
			buf_printf(b, " as \"%s\"", h->alias);
		if (h->field != NULL)
			buf_printf(b, " in %s", h->field);
		if (h->snippet != NULL)
			buf_printf(b, ": %s", h->snippet);
		buf_addc(b, '\n');
	}
	if (a->item_summary != NULL)
		buf_printf(b, "\n%s\n", a->item_summary);
}

static char *
email_text_part(const struct alert *a, const char *outbox_id)
{
	struct buf b;

	buf_init(&b, SIZE_MAX / 2);
	email_text_alert(&b, a);
	buf_printf(&b, "\n-- \nfeedwatch alert %s (outbox %s)\n",
	    a->id != NULL ? a->id : "-", outbox_id);
	return buf_take(&b, NULL);
}

static void
email_html_alert(struct buf *b, const struct alert *a)
{
	const struct alert_hit *h;
	char ts[64];
	size_t i;

	buf_addstr(b, "<h2>");
	if (email_link_ok(a->item_link)) {
		buf_addstr(b, "<a href=\"");
		template_html_escape(b, a->item_link, strlen(a->item_link));
		buf_addstr(b, "\">");
	}
	email_html_marked(b, a, "title",
	    a->item_title != NULL ? a->item_title : "(untitled)");
	if (email_link_ok(a->item_link))
		buf_addstr(b, "</a>");
	buf_addstr(b, "</h2>\n<p>Watchlist <b>");
	template_html_escape(b, a->watchlist != NULL ? a->watchlist : "",
	    a->watchlist != NULL ? strlen(a->watchlist) : 0);
	buf_printf(b, "</b> (%s)", alert_severity_name(alert_severity_of(a)));
	if (a->feed_title != NULL) {
		buf_addstr(b, " &middot; ");
		template_html_escape(b, a->feed_title, strlen(a->feed_title));
	}
	if (a->item_published != ALERT_TIME_NONE)
		buf_printf(b, " &middot; %s",
		    alert_format_time(ts, sizeof ts, a->item_published));
	if (a->item_author != NULL) {
		buf_addstr(b, " &middot; ");
		template_html_escape(b, a->item_author, strlen(a->item_author));
	}
	buf_addstr(b, "</p>\n");
	if (a->item_summary != NULL) {
		buf_addstr(b, "<p>");
		email_html_marked(b, a, "summary", a->item_summary);
		buf_addstr(b, "</p>\n");
	}
	if (a->nhits > 0)
		buf_addstr(b, "<h3>Why it matched</h3>\n<ul>\n");
	for (i = 0; i < a->nhits; i++) {
		h = &a->hits[i];
		buf_addstr(b, "<li><b>");
		template_html_escape(b, h->term != NULL ? h->term : "?",
		    h->term != NULL ? strlen(h->term) : 1);
		buf_addstr(b, "</b>");
		if (h->alias != NULL) {
			buf_addstr(b, " as &ldquo;");
			template_html_escape(b, h->alias, strlen(h->alias));
			buf_addstr(b, "&rdquo;");
		}
		if (h->field != NULL) {
			buf_addstr(b, " in ");
			template_html_escape(b, h->field, strlen(h->field));
		}
		if (h->snippet != NULL) {
			buf_addstr(b, ": ");
			template_html_escape(b, h->snippet, strlen(h->snippet));
		}
		buf_addstr(b, "</li>\n");
	}
	if (a->nhits > 0)
		buf_addstr(b, "</ul>\n");
	buf_addstr(b, "<p style=\"color:#666\">feedwatch alert ");
	template_html_escape(
	    b, a->id != NULL ? a->id : "-", a->id != NULL ? strlen(a->id) : 1);
	buf_addstr(b, "</p>\n");
}

static const char email_html_head[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
    "</head><body>\n";

static char *
email_html_part(const struct alert *a)
{
	struct buf b;

	buf_init(&b, SIZE_MAX / 2);
	buf_addstr(&b, email_html_head);
	email_html_alert(&b, a);
	buf_addstr(&b, "</body></html>\n");
	return buf_take(&b, NULL);
}

/* The text and HTML parts of a digest: every alert, in order. */
static void
email_digest_parts(struct notifier_job *const *jobs, size_t njobs,
    const char *outbox_id, char **text, char **html)
{
	struct buf t, h;
	const struct alert *a;
	size_t i;

	buf_init(&t, SIZE_MAX / 2);
	buf_init(&h, SIZE_MAX / 2);
	a = jobs[0]->alert;
	buf_printf(&t, "%zu alerts for watchlist %s\n", njobs,
	    a->watchlist != NULL ? a->watchlist : "");
	buf_addstr(&h, email_html_head);
	buf_printf(&h, "<h1>%zu alerts for watchlist ", njobs);
	template_html_escape(&h, a->watchlist != NULL ? a->watchlist : "",
	    a->watchlist != NULL ? strlen(a->watchlist) : 0);
	buf_addstr(&h, "</h1>\n");
	for (i = 0; i < njobs; i++) {
		a = jobs[i]->alert;
		buf_printf(&t, "\n=== %zu/%zu ===\n", i + 1, njobs);
		email_text_alert(&t, a);
		buf_printf(&t, "(feedwatch alert %s, outbox %s)\n",
		    a->id != NULL ? a->id : "-", jobs[i]->outbox_id);
		buf_addstr(&h, "<hr>\n");
		email_html_alert(&h, a);
	}
	buf_printf(&t, "\n-- \nfeedwatch digest (outbox %s)\n", outbox_id);
	buf_addstr(&h, "</body></html>\n");
	*text = buf_take(&t, NULL);
	*html = buf_take(&h, NULL);
}

/* A multipart/alternative message of TEXT and HTML (both UTF-8). */
static char *
email_compose_parts(time_t when, const char *outbox_id, const char *from,
    char *const *to, size_t nto, const char *subject, const char *text,
    const char *html, size_t *len)
{
	struct buf b, boundary;
	struct tm tm;
	char date[64], *enc, *cut;
	size_t i;

	gmtime_r(&when, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_init(&boundary, SIZE_MAX / 2);
	/* "=_" never occurs in base64 text, so no part can contain it. */
	buf_addstr(&boundary, "=_feedwatch_");
	email_token(&boundary, outbox_id);

	buf_init(&b, SIZE_MAX / 2);
	buf_printf(&b, "Date: %s\r\n", date);
	buf_addstr(&b, "From: ");
	email_add_mailbox(&b, from, sizeof "From: " - 1);
	buf_addstr(&b, "\r\nTo: ");
	for (i = 0; i < nto; i++) {
		if (i > 0)
			buf_addstr(&b, ",\r\n ");
		email_add_mailbox(&b, to[i], i > 0 ? 1 : sizeof "To: " - 1);
	}
	buf_addstr(&b, "\r\n");
	cut = payload_cut(subject, EMAIL_MAX_SUBJECT);
	enc = email_encode_header(cut);
	buf_printf(&b, "Subject: %s\r\n", enc);
	free(enc);
	free(cut);
	buf_addstr(&b, "Message-ID: <feedwatch.");
	email_token(&b, outbox_id);
	buf_addc(&b, '@');
	email_domain(&b, from);
	buf_addstr(&b, ">\r\n");
	buf_addstr(&b, "MIME-Version: 1.0\r\n");
	buf_addstr(&b, "Auto-Submitted: auto-generated\r\n");
	buf_printf(&b,
	    "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n",
	    buf_str(&boundary));
	buf_addstr(&b, "\r\nThis is a MIME message.\r\n");

	buf_printf(&b,
	    "\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n",
	    buf_str(&boundary));
	email_base64(&b, text, strlen(text));
	buf_printf(&b,
	    "\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n",
	    buf_str(&boundary));
	email_base64(&b, html, strlen(html));
	buf_printf(&b, "\r\n--%s--\r\n", buf_str(&boundary));
	buf_free(&boundary);
	return buf_take(&b, len);
}

char *
email_compose(const struct alert *a, const char *outbox_id, const char *from,
    char *const *to, size_t nto, const char *subject, size_t *len)
{
	char *text, *html, *msg;
	time_t when;

	when = a->created_at != ALERT_TIME_NONE ? (time_t)a->created_at
						: time(NULL);
	text = email_text_part(a, outbox_id);
	html = email_html_part(a);
	msg = email_compose_parts(
	    when, outbox_id, from, to, nto, subject, text, html, len);
	free(text);
	free(html);
	return msg;
}

char *
email_compose_digest(struct notifier_job *const *jobs, size_t njobs,
    const char *outbox_id, const char *from, char *const *to, size_t nto,
    size_t *len)
{
	const struct alert *a = jobs[0]->alert;
	char *text, *html, *msg, *subject;

	xasprintf(&subject, "[%s] %zu alerts",
	    a->watchlist != NULL ? a->watchlist : "feedwatch", njobs);
	email_digest_parts(jobs, njobs, outbox_id, &text, &html);
	msg = email_compose_parts(
	    time(NULL), outbox_id, from, to, nto, subject, text, html, len);
	free(subject);
	free(text);
	free(html);
	return msg;
}

/* The bare address of "Name <addr>" or "addr"; NULL if there is none or
 * it holds characters no SMTP command may carry. Owned by the caller. */
static char *
email_address(const char *s)
{
	const char *lt = strrchr(s, '<'), *gt, *p;
	size_t n;

	if (lt != NULL) {
		if ((gt = strchr(lt, '>')) == NULL || gt[1] != '\0')
			return NULL;
		s = lt + 1;
		n = (size_t)(gt - s);
	} else
		n = strlen(s);
	if (n == 0 || n > EMAIL_MAX_ADDRESS || memchr(s, '@', n) == NULL)
		return NULL;
	for (p = s; p < s + n; p++)
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' ||
		    *p == 0x7f)
			return NULL;
	return xstrndup(s, n);
}

/* A header value from the configuration: printable, one line. */
static int
email_header_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static void email_free(void *);

static void *
email_new(struct notifier *n, const struct notifier_config *cf,
    const struct notifier_ctx *ctx, char **cause)
{
	struct email *e = xcalloc(1, sizeof *e);
	const struct notifier_option *o;
	const char *v, *list1[1];
	char *const *list;
	char *addr;
	size_t i, count;

	e->notifier = n;
	e->curl = ctx->curl;
	if ((v = notifier_url(cf, "email", "smtp://", "smtps://", cause)) ==
	    NULL)
		goto fail;
	e->url = xstrdup(v);
	if ((v = notifier_option(cf, "from")) == NULL || !email_header_ok(v) ||
	    (e->envelope_from = email_address(v)) == NULL) {
		*cause = xstrdup("email needs a from address");
		goto fail;
	}
	e->from = xstrdup(v);
	if ((o = notifier_option_get(cf, "to")) == NULL) {
		*cause = xstrdup("email needs to: one or more addresses");
		goto fail;
	}
	if (o->value != NULL) {
		list1[0] = o->value;
		list = (char *const *)list1;
		count = 1;
	} else {
		list = o->list;
		count = o->nlist;
	}
	if (count == 0 || count > EMAIL_MAX_RECIPIENTS) {
		xasprintf(cause, "to: 1 to %d addresses", EMAIL_MAX_RECIPIENTS);
		goto fail;
	}
	e->to = xcalloc(count, sizeof *e->to);
	for (i = 0; i < count; i++) {
		if (!email_header_ok(list[i]) ||
		    (addr = email_address(list[i])) == NULL) {
			xasprintf(
			    cause, "to: \"%.64s\" is not an address", list[i]);
			goto fail;
		}
		e->to[e->nto++] = xstrdup(list[i]);
		if ((e->rcpt = curl_slist_append(e->rcpt, addr)) == NULL)
			fatalx("email_new: out of memory");
		free(addr);
	}
	v = notifier_option(cf, "subject");
	if ((e->subject = template_parse(
		 v != NULL ? v : EMAIL_DEFAULT_SUBJECT, cause)) == NULL)
		goto fail;
	if ((v = notifier_option(cf, "username")) != NULL)
		e->username = xstrdup(v);
	if (secret_load(cf, "password", &e->password, cause) == -1)
		goto fail;
	if (e->password != NULL && e->username == NULL) {
		*cause = xstrdup("a password needs a username");
		goto fail;
	}
	if ((v = notifier_option(cf, "ca_file")) != NULL)
		e->ca_file = notifier_path(cf, v);
	if (notifier_option_bool(cf, "starttls", 1, &e->starttls, cause) ==
		-1 ||
	    notifier_option_bool(
		cf, "allow_private", 1, &e->allow_private, cause) == -1 ||
	    notifier_option_duration(cf, "timeout", EMAIL_DEFAULT_TIMEOUT_MS,
		&e->timeout_ms, cause) == -1)
		goto fail;
	if (e->timeout_ms <= 0) {
		*cause = xstrdup("timeout must be positive");
		goto fail;
	}
	if (e->curl == NULL) {
		*cause = xstrdup("email needs the network (no curl handle)");
		goto fail;
	}
	return e;
fail:
	email_free(e);
	return NULL;
}

static void
email_free(void *state)
{
	struct email *e = state;
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nto; i++)
		free(e->to[i]);
	free(e->to);
	curl_slist_free_all(e->rcpt);
	template_free(e->subject);
	free(e->url);
	free(e->from);
	free(e->envelope_from);
	free(e->username);
	secret_free(e->password);
	free(e->ca_file);
	free(e);
}

static void
email_send_free(struct email_send *s)
{
	if (s == NULL)
		return;
	if (s->easy != NULL)
		curl_easy_cleanup(s->easy);
	free(s->message);
	s->job->data = NULL;
	free(s);
}

static size_t
email_read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct email_send *s = arg;
	size_t n = size * nmemb;

	if (n > s->len - s->off)
		n = s->len - s->off;
	memcpy(dst, s->message + s->off, n);
	s->off += n;
	return n;
}

static void
email_done_cb(CURL *easy, CURLcode result, void *arg)
{
	struct email_send *s = arg;
	struct notifier_job *job = s->job;
	long code = 0;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	if (result == CURLE_OK)
		notifier_job_finish(job, NOTIFIER_OK, -1, NULL);
	else if (code >= 500 && code <= 599)
		notifier_job_finish(job, NOTIFIER_PERMFAIL, -1, "SMTP %ld: %s",
		    code, curlev_strerror(result, s->errbuf));
	else if (code >= 400 && code <= 499)
		notifier_job_finish(job, NOTIFIER_TEMPFAIL, -1, "SMTP %ld: %s",
		    code, curlev_strerror(result, s->errbuf));
	else
		notifier_job_finish(job, NOTIFIER_TEMPFAIL, -1, "%s",
		    notifier_curl_error(result, s->errbuf, &s->guard));
	email_send_free(s);
}

static void
email_deliver(void *state, struct notifier_job *job)
{
	struct email *e = state;
	struct email_send *s = xcalloc(1, sizeof *s);
	char *subject;

	s->email = e;
	s->job = job;
	job->data = s;
	if (job->ndigest > 0)
		s->message = email_compose_digest(job->digest, job->ndigest,
		    job->outbox_id, e->from, e->to, e->nto, &s->len);
	else {
		subject = template_render(e->subject, job->alert,
		    job->outbox_id, TEMPLATE_ESCAPE_NONE);
		s->message = email_compose(job->alert, job->outbox_id, e->from,
		    e->to, e->nto, subject, &s->len);
		free(subject);
	}

	if ((s->easy = curl_easy_init()) == NULL)
		fatalx("email_deliver: curl_easy_init failed");
	curl_easy_setopt(s->easy, CURLOPT_URL, e->url);
	curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(s->easy, CURLOPT_MAIL_FROM, e->envelope_from);
	curl_easy_setopt(s->easy, CURLOPT_MAIL_RCPT, e->rcpt);
	curl_easy_setopt(s->easy, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(s->easy, CURLOPT_READFUNCTION, email_read_cb);
	curl_easy_setopt(s->easy, CURLOPT_READDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)s->len);
	curl_easy_setopt(s->easy, CURLOPT_USE_SSL,
	    e->starttls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	if (e->username != NULL)
		curl_easy_setopt(s->easy, CURLOPT_USERNAME, e->username);
	if (e->password != NULL)
		curl_easy_setopt(s->easy, CURLOPT_PASSWORD, e->password);
	if (e->ca_file != NULL)
		curl_easy_setopt(s->easy, CURLOPT_CAINFO, e->ca_file);
	curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(s->easy, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, (long)e->timeout_ms);
	curl_easy_setopt(
	    s->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)EMAIL_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf);
	s->guard.block_private = !e->allow_private;
	netguard_apply(s->easy, &s->guard);
	if (curlev_add(e->curl, s->easy, email_done_cb, s) == -1) {
		email_send_free(s);
		notifier_job_finish(
		    job, NOTIFIER_TEMPFAIL, -1, "curl refused the transfer");
	}
}

static void
email_cancel(void *state, struct notifier_job *job)
{
	struct email *e = state;
	struct email_send *s = job->data;

	if (s == NULL)
		return;
	curlev_cancel(e->curl, s->easy);
	email_send_free(s);
}

static int
email_digests(void *state)
{
	(void)state;
	return 1;
}

const struct notifier_backend email_backend = {
    "email", email_new, email_deliver, email_cancel, email_free, email_digests};

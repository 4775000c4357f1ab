/*
 * httpresp: an HTTP response's header as fetch reads it. See httpresp.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "httpresp.h"
#include "xmalloc.h"

int
httpresp_value_ok(const char *s, size_t len)
{
	size_t i;

	if (len > HTTPRESP_MAX_VALUE)
		return 0;
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return 0;
		if (s[i] == 0x7f)
			return 0;
	}
	return 1;
}

/* A field that holds one value: the last line decides, and a refused
 * value leaves none. */
static void
httpresp_set(char **dst, const char *s, size_t len)
{
	free(*dst);
	*dst = httpresp_value_ok(s, len) ? xstrndup(s, len) : NULL;
}

/* A field that is a list (RFC 9110 5.3): its lines are one value, joined
 * by ", ". A refused line, or one that would make the whole too long,
 * is left out; the others stay. */
static void
httpresp_append(char **dst, const char *s, size_t len)
{
	size_t have = *dst != NULL ? strlen(*dst) : 0;
	char *v;

	if (len == 0 || !httpresp_value_ok(s, len))
		return;
	if (have == 0) {
		free(*dst);
		*dst = xstrndup(s, len);
		return;
	}
	if (have + 2 + len > HTTPRESP_MAX_VALUE)
		return;
	v = xmalloc(have + 2 + len + 1);
	memcpy(v, *dst, have);
	memcpy(v + have, ", ", 2);
	memcpy(v + have + 2, s, len);
	v[have + 2 + len] = '\0';
	free(*dst);
	*dst = v;
}

void
httpresp_clear(struct httpresp *r)
{
	free(r->etag);
	free(r->last_modified);
	free(r->content_type);
	free(r->retry_after);
	free(r->cache_control);
	free(r->expires);
	free(r->date);
	memset(r, 0, sizeof *r);
}

enum httpresp_line
httpresp_line(
    struct httpresp *r, const char *line, size_t len, struct httpresp_field *f)
{
	const char *end = line + len, *sp, *colon, *value;
	long status = 0;
	size_t namelen;

	while (end > line && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		sp = memchr(line, ' ', (size_t)(end - line));
		if (sp != NULL && end - sp >= 4 &&
		    isdigit((unsigned char)sp[1]) &&
		    isdigit((unsigned char)sp[2]) &&
		    isdigit((unsigned char)sp[3]))
			status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 +
			    (sp[3] - '0');
		httpresp_clear(r);
		r->status = status;
		return HTTPRESP_STATUS;
	}
	if (end == line)
		return HTTPRESP_END;
	if ((colon = memchr(line, ':', (size_t)(end - line))) == NULL)
		return HTTPRESP_IGNORED;
	namelen = (size_t)(colon - line);
	value = colon + 1;
	while (value < end && (*value == ' ' || *value == '\t'))
		value++;
	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	f->name = line;
	f->namelen = namelen;
	f->value = value;
	f->valuelen = (size_t)(end - value);
#define IS(h) (namelen == sizeof(h) - 1 && strncasecmp(line, h, namelen) == 0)
	if (IS("ETag"))
		httpresp_set(&r->etag, value, f->valuelen);
	else if (IS("Last-Modified"))
		httpresp_set(&r->last_modified, value, f->valuelen);
	else if (IS("Content-Type"))
		httpresp_set(&r->content_type, value, f->valuelen);
	else if (IS("Retry-After"))
		httpresp_set(&r->retry_after, value, f->valuelen);
	else if (IS("Cache-Control"))
		httpresp_append(&r->cache_control, value, f->valuelen);
	else if (IS("Expires"))
		httpresp_set(&r->expires, value, f->valuelen);
	else if (IS("Date"))
		httpresp_set(&r->date, value, f->valuelen);
#undef IS
	return HTTPRESP_FIELD;
}

/* Past the quoted-string that starts at P (its '"'), escapes read as
 * RFC 9110 5.6.4 has them; at the end of the string if it is not
 * closed. */
static const char *
httpresp_skip_quoted(const char *p)
{
	for (p++; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return p;
}

/* The decimal number at P, or -1 when P does not start with a digit;
 * one too large for a hint stays large without overflowing. */
static int64_t
httpresp_number(const char *p)
{
	int64_t n;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (n = 0; isdigit((unsigned char)*p); p++)
		if (n < INT64_MAX / 1000)
			n = n * 10 + (*p - '0');
	return n;
}

int64_t
httpresp_max_age(const char *cc)
{
	const char *p = cc, *name;
	size_t namelen;
	int max_age;

	if (cc == NULL)
		return -1;
	for (;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			return -1;
		/* cache-directive = token [ "=" ( token / quoted-string ) ] */
		name = p;
		p += strcspn(p, "=, \t\"");
		namelen = (size_t)(p - name);
		max_age = namelen == 7 && strncasecmp(name, "max-age", 7) == 0;
		p += strspn(p, " \t");
		if (*p == '=') {
			p++;
			p += strspn(p, " \t");
			/* "recipients ought to accept" max-age="5" too */
			if (max_age)
				return httpresp_number(p + (*p == '"'));
		} else if (max_age)
			return -1; /* no seconds */
		/* the rest of this directive, quoted commas included */
		while (*p != '\0' && *p != ',')
			p = *p == '"' ? httpresp_skip_quoted(p) : p + 1;
	}
}

static int
httpresp_all_digits(const char *s)
{
	return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

/* Seconds in "120", or until an HTTP date from BASE; -1 when neither. */
static int64_t
httpresp_delay(const char *value, time_t base)
{
	time_t t;

	if (value == NULL)
		return -1;
	if (httpresp_all_digits(value))
		return httpresp_number(value);
	if ((t = curl_getdate(value, NULL)) == -1)
		return -1;
	return t > base ? (int64_t)(t - base) : 0;
}

static int64_t
httpresp_hint(int64_t s)
{
	return s > HTTPRESP_HINT_MAX_S ? HTTPRESP_HINT_MAX_S : s;
}

void
httpresp_hints(const struct httpresp *r, time_t now, struct httpresp_hints *h)
{
	time_t base = r->date != NULL ? curl_getdate(r->date, NULL) : -1;

	if (base == -1)
		base = now;
	h->retry_after_s = httpresp_hint(httpresp_delay(r->retry_after, base));
	h->max_age_s = httpresp_hint(httpresp_max_age(r->cache_control));
	h->expires_in_s = -1;
	if (r->expires != NULL) {
		/* RFC 9111 5.3: one that is not a date (often "0" or "-1")
		 * means already expired */
		h->expires_in_s = httpresp_all_digits(r->expires)
		    ? 0
		    : httpresp_delay(r->expires, base);
		if (h->expires_in_s < 0)
			h->expires_in_s = 0;
		h->expires_in_s = httpresp_hint(h->expires_in_s);
	}
}

/*
 * The alert record and its JSON document (docs/alert-schema.json),
 * written and read with jansson.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "alert.h"
#include "buf.h"
#include "log.h"
#include "xmalloc.h"

static const char *const alert_severities[ALERT_NSEVERITIES] = {
    "info", "low", "medium", "high", "critical"};

void
alert_new_id(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t i, o = 0;

	if (RAND_bytes(b, sizeof b) != 1)
		fatalx("RAND_bytes failed");
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (i = 0; i < sizeof b; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
}

struct alert *
alert_new(void)
{
	struct alert *a = xcalloc(1, sizeof *a);

	a->created_at = ALERT_TIME_NONE;
	a->item_published = ALERT_TIME_NONE;
	a->item_updated = ALERT_TIME_NONE;
	return a;
}

void
alert_free(struct alert *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nhits; i++) {
		free(a->hits[i].term);
		free(a->hits[i].entity);
		free(a->hits[i].alias);
		free(a->hits[i].field);
		free(a->hits[i].snippet);
	}
	free(a->hits);
	free(a->id);
	free(a->watchlist);
	free(a->severity);
	free(a->feed_title);
	free(a->feed_url);
	free(a->item_id);
	free(a->item_title);
	free(a->item_link);
	free(a->item_author);
	free(a->item_summary);
	free(a);
}

static char *
alert_strdup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
alert_add_hit(struct alert *a, const char *term, const char *entity,
    const char *alias, const char *field, int64_t start, int64_t end,
    const char *snippet)
{
	struct alert_hit *h;

	a->hits = xreallocarray(a->hits, a->nhits + 1, sizeof *a->hits);
	h = &a->hits[a->nhits++];
	h->term = alert_strdup(term);
	h->entity = alert_strdup(entity);
	h->alias = alert_strdup(alias);
	h->field = alert_strdup(field);
	h->start = start;
	h->end = end;
	h->snippet = alert_strdup(snippet);
}

int
alert_severity_parse(const char *s)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < ALERT_NSEVERITIES; i++)
		if (strcmp(alert_severities[i], s) == 0)
			return i;
	return -1;
}

const char *
alert_severity_name(enum alert_severity sev)
{
	if ((unsigned)sev >= ALERT_NSEVERITIES)
		return ALERT_SEVERITY_DEFAULT;
	return alert_severities[sev];
}

enum alert_severity
alert_severity_of(const struct alert *a)
{
	int sev = alert_severity_parse(a->severity);

	if (sev == -1)
		sev = alert_severity_parse(ALERT_SEVERITY_DEFAULT);
	return (enum alert_severity)sev;
}

char *
alert_format_time(char *dst, size_t dstsz, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == ALERT_TIME_NONE || gmtime_r(&tt, &tm) == NULL ||
	    strftime(dst, dstsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		if (dstsz > 0)
			dst[0] = '\0';
	}
	return dst;
}

/* RFC 3339 in UTC, seconds precision, as alert_format_time() writes it;
 * fractional seconds and numeric offsets are accepted too. */
static int
alert_parse_time(const char *s, int64_t *t)
{
	struct tm tm;
	const char *p;
	int sign, hh, mm;
	int64_t v;

	memset(&tm, 0, sizeof tm);
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	v = (int64_t)timegm(&tm);
	if (strcmp(p, "Z") == 0 || strcmp(p, "z") == 0) {
		*t = v;
		return 0;
	}
	if ((*p != '+' && *p != '-') ||
	    sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || strlen(p) != 6)
		return -1;
	sign = *p == '+' ? 1 : -1;
	*t = v - sign * (int64_t)(hh * 3600 + mm * 60);
	return 0;
}

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0. */
static size_t
alert_utf8_len(const unsigned char *s)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* A JSON string of s; invalid UTF-8 bytes become U+FFFD so that one bad
 * byte in a feed never costs the alert. */
static json_t *
alert_json_string(const char *s)
{
	struct buf b;
	json_t *v;
	size_t n;

	if ((v = json_string(s)) != NULL)
		return v;
	buf_init(&b, SIZE_MAX / 2);
	while (*s != '\0') {
		if ((n = alert_utf8_len((const unsigned char *)s)) == 0) {
			buf_add(&b, "\xef\xbf\xbd", 3);
			s++;
		} else {
			buf_add(&b, s, n);
			s += n;
		}
	}
	v = json_string(buf_str(&b));
	buf_free(&b);
	return v;
}

static void
alert_set_string(json_t *obj, const char *key, const char *value)
{
	if (value != NULL)
		json_object_set_new(obj, key, alert_json_string(value));
}

static void
alert_set_time(json_t *obj, const char *key, int64_t t)
{
	char s[64];

	if (t != ALERT_TIME_NONE &&
	    alert_format_time(s, sizeof s, t)[0] != '\0')
		json_object_set_new(obj, key, json_string(s));
}

char *
alert_to_json(const struct alert *a)
{
	json_t *root, *feed, *item, *hits, *hit;
	const struct alert_hit *h;
	char *out;
	size_t i;

	root = json_object();
	json_object_set_new(
	    root, "version", json_integer(ALERT_SCHEMA_VERSION));
	alert_set_string(root, "id", a->id);
	alert_set_string(root, "watchlist", a->watchlist);
	json_object_set_new(root, "severity",
	    json_string(alert_severity_name(alert_severity_of(a))));
	alert_set_time(root, "created_at", a->created_at);

	feed = json_object();
	alert_set_string(feed, "title", a->feed_title);
	alert_set_string(feed, "url", a->feed_url);
	json_object_set_new(root, "feed", feed);

	item = json_object();
	alert_set_string(item, "id", a->item_id);
	alert_set_string(item, "title", a->item_title);
	alert_set_string(item, "link", a->item_link);
	alert_set_time(item, "published", a->item_published);
	alert_set_time(item, "updated", a->item_updated);
	alert_set_string(item, "author", a->item_author);
	alert_set_string(item, "summary", a->item_summary);
	json_object_set_new(root, "item", item);

	hits = json_array();
	for (i = 0; i < a->nhits; i++) {
		h = &a->hits[i];
		hit = json_object();
		alert_set_string(hit, "term", h->term);
		alert_set_string(hit, "entity", h->entity);
		alert_set_string(hit, "alias", h->alias);
		alert_set_string(hit, "field", h->field);
		if (h->start >= 0 && h->end >= h->start) {
			json_object_set_new(
			    hit, "start", json_integer(h->start));
			json_object_set_new(hit, "end", json_integer(h->end));
		}
		alert_set_string(hit, "snippet", h->snippet);
		json_array_append_new(hits, hit);
	}
	json_object_set_new(root, "hits", hits);

	out = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (out == NULL)
		fatalx("alert_to_json: out of memory");
	return out;
}

/* Copy the string member KEY of obj; -1 when present but not a string. */
static int
alert_get_string(json_t *obj, const char *key, char **out)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = xstrndup(json_string_value(v), json_string_length(v));
	return 0;
}

static int
alert_get_time(json_t *obj, const char *key, int64_t *t)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	return alert_parse_time(json_string_value(v), t);
}

static int
alert_get_offset(json_t *obj, const char *key, int64_t *out)
{
	json_t *v = json_object_get(obj, key);

	*out = -1;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

struct alert *
alert_from_json(const char *text, size_t len, char **cause)
{
	json_t *root, *feed, *item, *hits, *hit, *version;
	json_error_t jerr;
	struct alert *a;
	struct alert_hit *h;
	const char *what = NULL;
	size_t i;

	if (len > ALERT_MAX_JSON) {
		if (cause != NULL)
			xasprintf(cause, "alert is larger than %d bytes",
			    ALERT_MAX_JSON);
		return NULL;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (cause != NULL)
			xasprintf(cause, "alert is not JSON: %s (offset %d)",
			    jerr.text, jerr.position);
		return NULL;
	}
	a = alert_new();
	version = json_object_get(root, "version");
	feed = json_object_get(root, "feed");
	item = json_object_get(root, "item");
	hits = json_object_get(root, "hits");
	if (!json_is_object(root))
		what = "alert is not a JSON object";
	else if (!json_is_integer(version) ||
	    json_integer_value(version) != ALERT_SCHEMA_VERSION)
		what = "alert has no version or an unknown one";
	else if (alert_get_string(root, "id", &a->id) == -1 ||
	    alert_get_string(root, "watchlist", &a->watchlist) == -1 ||
	    alert_get_string(root, "severity", &a->severity) == -1 ||
	    alert_get_time(root, "created_at", &a->created_at) == -1)
		what = "alert has a bad id, watchlist, severity or created_at";
	else if ((feed != NULL && !json_is_object(feed)) ||
	    (item != NULL && !json_is_object(item)) ||
	    (hits != NULL && !json_is_array(hits)))
		what = "alert's feed, item or hits have the wrong type";
	else if (feed != NULL &&
	    (alert_get_string(feed, "title", &a->feed_title) == -1 ||
		alert_get_string(feed, "url", &a->feed_url) == -1))
		what = "alert has a bad feed";
	else if (item != NULL &&
	    (alert_get_string(item, "id", &a->item_id) == -1 ||
		alert_get_string(item, "title", &a->item_title) == -1 ||
		alert_get_string(item, "link", &a->item_link) == -1 ||
		alert_get_time(item, "published", &a->item_published) == -1 ||
		alert_get_time(item, "updated", &a->item_updated) == -1 ||
		alert_get_string(item, "author", &a->item_author) == -1 ||
		alert_get_string(item, "summary", &a->item_summary) == -1))
		what = "alert has a bad item";
	else if (hits != NULL && json_array_size(hits) > ALERT_MAX_HITS)
		what = "alert has too many hits";
	else if (a->severity != NULL && alert_severity_parse(a->severity) == -1)
		what = "alert has an unknown severity";
	for (i = 0; what == NULL && hits != NULL && i < json_array_size(hits);
	     i++) {
		hit = json_array_get(hits, i);
		if (!json_is_object(hit)) {
			what = "alert has a hit that is not an object";
			break;
		}
		a->hits = xreallocarray(a->hits, a->nhits + 1, sizeof *a->hits);
		h = &a->hits[a->nhits++];
		memset(h, 0, sizeof *h);
		if (alert_get_string(hit, "term", &h->term) == -1 ||
		    alert_get_string(hit, "entity", &h->entity) == -1 ||
		    alert_get_string(hit, "alias", &h->alias) == -1 ||
		    alert_get_string(hit, "field", &h->field) == -1 ||
		    alert_get_string(hit, "snippet", &h->snippet) == -1 ||
		    alert_get_offset(hit, "start", &h->start) == -1 ||
		    alert_get_offset(hit, "end", &h->end) == -1 ||
		    (h->start == -1) != (h->end == -1) || h->end < h->start)
			what = "alert has a bad hit";
	}
	json_decref(root);
	if (what != NULL) {
		if (cause != NULL)
			*cause = xstrdup(what);
		alert_free(a);
		return NULL;
	}
	return a;
}

/*
 * The alert record: what every notifier renders. The outbox stores it as
 * the versioned JSON document of docs/alert-schema.json; alert_to_json()
 * writes that document and alert_from_json() reads it back.
 *
 * All strings are UTF-8, NUL-terminated, owned by the record, and NULL
 * when absent. Times are seconds since the epoch, UTC, or ALERT_TIME_NONE.
 * A hit's start and end are byte offsets into the text of its field as
 * the alert carries it (item.title or item.summary), end exclusive; -1
 * when the hit has no position (a field the alert does not carry).
 */
#ifndef ALERT_H
#define ALERT_H

#include <stddef.h>
#include <stdint.h>

#define ALERT_SCHEMA_VERSION 1
#define ALERT_TIME_NONE INT64_MIN

/* Caps on a document read back (alert_from_json). */
#define ALERT_MAX_JSON (1024 * 1024)
#define ALERT_MAX_HITS 256

struct alert_hit {
	char *term; /* the query term as written: word, "phrase", @entity */
	char *entity; /* the entity key, for @entity terms */
	char *alias; /* the alias or spelling that matched */
	char *field; /* title, summary, content, author, category, link, feed */
	int64_t start;
	int64_t end;
	char *snippet; /* a few words around the match, plain text */
};

struct alert {
	char *id;
	char *watchlist;
	char *severity; /* info, low, medium, high or critical */
	int64_t created_at;
	char *feed_title;
	char *feed_url;
	char *item_id;
	char *item_title;
	char *item_link;
	int64_t item_published;
	int64_t item_updated;
	char *item_author;
	char *item_summary; /* plain text */
	struct alert_hit *hits;
	size_t nhits;
};

enum alert_severity {
	ALERT_SEVERITY_INFO,
	ALERT_SEVERITY_LOW,
	ALERT_SEVERITY_MEDIUM,
	ALERT_SEVERITY_HIGH,
	ALERT_SEVERITY_CRITICAL,
};
#define ALERT_NSEVERITIES 5
#define ALERT_SEVERITY_DEFAULT "medium"

/* A new random alert id (UUID version 4, lower-case text) into OUT. */
void alert_new_id(char out[37]);

/* A new, empty alert (every time ALERT_TIME_NONE). */
struct alert *alert_new(void);
void alert_free(struct alert *);
/* Append a hit; the strings are copied (NULL allowed). */
void alert_add_hit(struct alert *, const char *term, const char *entity,
    const char *alias, const char *field, int64_t start, int64_t end,
    const char *snippet);

/* The JSON document, compact, one line; owned by the caller. */
char *alert_to_json(const struct alert *);
/* Read a document back; NULL with *cause set (owned by the caller) when
 * it is not valid JSON, not an object of a known version, or over the
 * caps above. */
struct alert *alert_from_json(const char *, size_t, char **cause);

/* The severity's index, or -1 when unknown. */
int alert_severity_parse(const char *);
const char *alert_severity_name(enum alert_severity);
/* The alert's severity (ALERT_SEVERITY_DEFAULT when unset or unknown). */
enum alert_severity alert_severity_of(const struct alert *);

/* RFC 3339 UTC ("2024-05-01T12:00:00Z") into dst (at least 21 bytes). */
char *alert_format_time(char *dst, size_t dstsz, int64_t t);

#endif

/*
 * httpresp: what fetch reads of an HTTP response's header, which comes
 * from a server that is not trusted: the status line, the fields it
 * keeps (bounded, without controls) and the server's hints of when to
 * come back (Retry-After, Cache-Control max-age, Expires; RFC 9110 and
 * 9111). No I/O: fetch hands it the lines libcurl gives, a fuzz target
 * the lines it makes up.
 */
#ifndef HTTPRESP_H
#define HTTPRESP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Longer values are not kept (an ETag or Last-Modified is then not sent
 * back). */
#define HTTPRESP_MAX_VALUE 1024
/* A hint is kept to a year: the scheduler clamps it further, and a larger
 * one would overflow once in milliseconds. */
#define HTTPRESP_HINT_MAX_S (366 * 86400LL)

/* The fields kept of the latest response; NULL when absent or refused. */
struct httpresp {
	long status; /* of the latest status line; 0 before one */
	char *etag;
	char *last_modified;
	char *content_type;
	char *retry_after;
	char *cache_control; /* every Cache-Control line, joined by ", " */
	char *expires;
	char *date;
};

enum httpresp_line {
	HTTPRESP_STATUS, /* "HTTP/...": a new response; the fields cleared */
	HTTPRESP_END, /* the empty line that ends the header */
	HTTPRESP_FIELD, /* name: value */
	HTTPRESP_IGNORED, /* no colon (folded or malformed) */
};

/* A field line's name and value (without the blanks around it), which
 * point into the line. */
struct httpresp_field {
	const char *name;
	size_t namelen;
	const char *value;
	size_t valuelen;
};

/*
 * Read one header line (LEN bytes, its CR LF or LF included or not, any
 * bytes) into R; for a field, *F says where its name and value are.
 */
enum httpresp_line httpresp_line(
    struct httpresp *r, const char *line, size_t len, struct httpresp_field *f);
/* Whether a value is kept (and a stored validator sent back): at most
 * HTTPRESP_MAX_VALUE bytes, no controls but tabs. */
int httpresp_value_ok(const char *, size_t);
/* Free the fields kept and start again (status 0). */
void httpresp_clear(struct httpresp *r);

/* Seconds from now, each -1 when the response gave no such hint, and at
 * most HTTPRESP_HINT_MAX_S. */
struct httpresp_hints {
	int64_t retry_after_s;
	int64_t max_age_s;
	int64_t expires_in_s; /* 0 for an Expires that is not a date */
};

/* The hints of R. Dates count from the response's Date when it has a
 * valid one, else from NOW. */
void httpresp_hints(
    const struct httpresp *r, time_t now, struct httpresp_hints *h);

/* max-age of a Cache-Control value, or -1 (not capped). */
int64_t httpresp_max_age(const char *cache_control);

#endif

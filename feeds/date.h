/*
 * Feed dates: parse every form feeds use into seconds since the epoch (UTC)
 * and print them back as RFC 3339.
 */
#ifndef DATE_H
#define DATE_H

#include <stddef.h>
#include <stdint.h>

/* Longest date string looked at; longer input is not a date. */
#define DATE_INPUT_MAX 256
/* Bytes date_format() needs: "YYYY-MM-DDThh:mm:ssZ" and the NUL. */
#define DATE_FORMAT_LEN 21

/*
 * Parse a feed date to seconds since the epoch, UTC: RFC 822 and 1123 with
 * every zone form (GMT, UT, Z, EST/EDT/CST/.../PDT, military letters,
 * +hhmm, -hh:mm, missing zone = UTC), RFC 3339 and ISO 8601 / W3CDTF
 * variants (date only = midnight UTC, "2004" alone = 2004-01-01, no zone =
 * UTC, fractions ignored, week and ordinal dates), asctime, and the common
 * broken forms found in the wild (missing or wrong weekday, two-digit
 * years, full month names, extra spaces and commas, "Sept", single-digit
 * day or hour, AM/PM). Years 0 to 9999 only. Returns 0, or -1 when s is
 * not a date (*t is then untouched): an unparseable date is absent, never
 * "now". Locale-independent and free of process state.
 */
int date_parse(const char *s, int64_t *t);

/*
 * Write t as RFC 3339 UTC ("2004-01-01T19:48:21Z") into buf, which holds
 * len >= DATE_FORMAT_LEN bytes. Returns buf, or NULL when buf is too small
 * or t falls outside the years 0 to 9999.
 */
char *date_format(int64_t t, char *buf, size_t len);

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1-12, d 1-31). */
int64_t date_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif

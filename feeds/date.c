/*
 * Feed dates.
 *
 * Follows RFC 822 section 5 (as updated by RFC 1123 5.2.14 and RFC 2822
 * 3.3: four-digit years, numeric zones), RFC 3339 and ISO 8601 (the
 * W3CDTF profile and its calendar, ordinal and week forms, basic and
 * extended), and asctime(3). What feeds really contain is looser than any
 * of them, so the RFC 822 side is a tokenizer that accepts its fields in
 * any reasonable order: weekdays are ignored (they are often wrong), month
 * names may be abbreviated or full ("Sept"), years may have two digits
 * (00-89 are 20xx, 90-99 are 19xx, as feedparser does), the zone may be
 * missing (UTC). Everything is computed here with the proleptic Gregorian
 * calendar; no locale, timezone database or libc time function is used.
 */
#include <stdint.h>
#include <string.h>

#include "date.h"

struct date_fields {
	int year, month, day;
	int hour, minute, second;
	int zone_minutes; /* east of UTC */
};

/* Zone names of RFC 822 and those met in feeds, in minutes east of UTC. */
static const struct {
	const char *name;
	int minutes;
} date_zones[] = {
    {"ut", 0},
    {"utc", 0},
    {"gmt", 0},
    {"z", 0},
    {"wet", 0},
    {"west", 60},
    {"bst", 60},
    {"cet", 60},
    {"met", 60},
    {"cest", 120},
    {"mest", 120},
    {"eet", 120},
    {"eest", 180},
    {"msk", 180},
    {"ast", -240},
    {"adt", -180},
    {"at", -240},
    {"est", -300},
    {"edt", -240},
    {"et", -300},
    {"cst", -360},
    {"cdt", -300},
    {"ct", -360},
    {"mst", -420},
    {"mdt", -360},
    {"mt", -420},
    {"pst", -480},
    {"pdt", -420},
    {"pt", -480},
    {"akst", -540},
    {"akdt", -480},
    {"hst", -600},
    {"jst", 540},
    {"kst", 540},
    {"aest", 600},
    {"aedt", 660},
    {"nzst", 720},
    {"nzdt", 780},
    /* Africa and Asia, as news feeds there write them; IST is left out
     * (India, Israel or Ireland: no date is better than one hours off) */
    {"wat", 60},
    {"cat", 120},
    {"sast", 120},
    {"eat", 180},
    {"pkt", 300},
    {"npt", 345},
    {"ict", 420},
    {"wib", 420},
    {"hkt", 480},
    {"sgt", 480},
    {"pht", 480},
    {"myt", 480},
    {"wita", 480},
    {"awst", 480},
    {"wit", 540},
    {"acst", 570},
    {"acdt", 630},
};

static const char *const date_months[] = {
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
};

static const char *const date_weekdays[] = {
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
};

static int
date_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static int
date_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
date_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char
date_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Length of the run of digits at p (stops at end). */
static size_t
date_digits(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && date_is_digit(*q))
		q++;
	return (size_t)(q - p);
}

/* Value of n digits at p; n is at most 9. */
static int
date_number(const char *p, size_t n)
{
	int v = 0;

	while (n-- > 0)
		v = v * 10 + (*p++ - '0');
	return v;
}

int64_t
date_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
date_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
date_is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
date_month_days(int y, int m)
{
	static const int days[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && date_is_leap(y) ? 29 : days[m - 1];
}

/* Check the fields and turn them into seconds since the epoch. */
static int
date_finish(struct date_fields *f, int64_t *t)
{
	int64_t days, v;

	if (f->year < 0 || f->year > 9999 || f->month < 1 || f->month > 12 ||
	    f->day < 1 || f->day > date_month_days(f->year, f->month))
		return -1;
	if (f->hour == 24 && f->minute == 0 && f->second == 0)
		; /* ISO 8601 end of day: the next midnight */
	else if (f->hour < 0 || f->hour > 23 || f->minute < 0 ||
	    f->minute > 59 || f->second < 0 || f->second > 60)
		return -1;
	if (f->second == 60) /* a leap second: no room for it in time_t */
		f->second = 59;
	days =
	    date_days_from_civil(f->year, (unsigned)f->month, (unsigned)f->day);
	v = days * 86400 + f->hour * 3600 + f->minute * 60 + f->second -
	    (int64_t)f->zone_minutes * 60;
	/* a zone can move the instant past either end of years 0-9999 */
	if (v < date_days_from_civil(0, 1, 1) * 86400 ||
	    v >= date_days_from_civil(10000, 1, 1) * 86400)
		return -1;
	*t = v;
	return 0;
}

/*
 * A numeric zone after its sign at *pp: hh, hhmm, hh:mm, h, hmm. Sets
 * *minutes (without the sign) and advances *pp.
 */
static int
date_zone_offset(const char **pp, const char *end, int *minutes)
{
	const char *p = *pp;
	size_t n = date_digits(p, end);
	int h, m = 0;

	if (n == 4 || n == 3) {
		h = date_number(p, n - 2);
		m = date_number(p + n - 2, 2);
		p += n;
	} else if (n == 2 || n == 1) {
		h = date_number(p, n);
		p += n;
		if (p + 2 < end + 1 && p < end && *p == ':' &&
		    date_digits(p + 1, end) == 2) {
			m = date_number(p + 1, 2);
			p += 3;
		}
	} else
		return -1;
	if (h > 23 || m > 59)
		return -1;
	*minutes = h * 60 + m;
	*pp = p;
	return 0;
}

/* A zone name (lower case, n letters); -1 when it is not one. */
static int
date_zone_name(const char *w, size_t n, int *minutes)
{
	size_t i;
	char c;

	if (n == 1) {
		/* RFC 822 military zones: A-I, K-M west; N-Y east; Z. */
		c = w[0];
		if (c >= 'a' && c <= 'i')
			*minutes = -60 * (c - 'a' + 1);
		else if (c >= 'k' && c <= 'm')
			*minutes = -60 * (c - 'k' + 10);
		else if (c >= 'n' && c <= 'y')
			*minutes = 60 * (c - 'n' + 1);
		else if (c == 'z')
			*minutes = 0;
		else
			return -1;
		return 0;
	}
	for (i = 0; i < sizeof date_zones / sizeof date_zones[0]; i++) {
		if (strlen(date_zones[i].name) == n &&
		    memcmp(date_zones[i].name, w, n) == 0) {
			*minutes = date_zones[i].minutes;
			return 0;
		}
	}
	return -1;
}

/* Index of the name that w (lower case, at least 3 letters) begins. */
static int
date_prefix_of(const char *w, size_t n, const char *const *names, size_t count)
{
	size_t i;

	if (n < 3)
		return -1;
	for (i = 0; i < count; i++) {
		if (names[i][0] == w[0] && n <= strlen(names[i]) &&
		    memcmp(names[i], w, n) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * A zone at p: "Z", a numeric offset with its sign, or a name (with an
 * optional "Etc/" before it and an offset after GMT/UTC/UT). Advances *pp.
 */
static int
date_zone(const char **pp, const char *end, int *minutes)
{
	const char *p = *pp, *w;
	char word[8];
	size_t n;
	int sign, off;

	if (p < end && (*p == '+' || *p == '-')) {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (date_zone_offset(&p, end, &off) == -1)
			return -1;
		*minutes = sign * off;
		*pp = p;
		return 0;
	}
	for (n = 0; n < sizeof word && p + n < end && date_is_alpha(p[n]); n++)
		word[n] = date_lower(p[n]);
	if (n == 0 || n == sizeof word)
		return -1;
	w = p + n;
	if (n == 3 && memcmp(word, "etc", 3) == 0 && w < end && *w == '/') {
		*pp = w + 1;
		return date_zone(pp, end, minutes);
	}
	if (date_zone_name(word, n, minutes) == -1)
		return -1;
	if (*minutes == 0 && n > 1 && w < end && (*w == '+' || *w == '-') &&
	    w + 1 < end && date_is_digit(w[1])) {
		/* GMT+2, UTC-05:00 */
		sign = *w == '-' ? -1 : 1;
		w++;
		if (date_zone_offset(&w, end, &off) == -1)
			return -1;
		*minutes = sign * off;
	}
	*pp = w;
	return 0;
}

/*
 * A time at p: h[h]:mm[:ss[.fraction]] (ISO's basic hhmm[ss] when basic is
 * set). Advances *pp.
 */
static int
date_time(const char **pp, const char *end, struct date_fields *f, int basic)
{
	const char *p = *pp;
	size_t n = date_digits(p, end);

	if (basic && (n == 4 || n == 6)) {
		f->hour = date_number(p, 2);
		f->minute = date_number(p + 2, 2);
		if (n == 6)
			f->second = date_number(p + 4, 2);
		p += n;
	} else {
		if (n < 1 || n > 2)
			return -1;
		f->hour = date_number(p, n);
		p += n;
		if (p < end && *p == ':') {
			n = date_digits(p + 1, end);
			if (n < 1 || n > 2)
				return -1;
			f->minute = date_number(p + 1, n);
			p += 1 + n;
			if (p < end && *p == ':') {
				n = date_digits(p + 1, end);
				if (n < 1 || n > 2)
					return -1;
				f->second = date_number(p + 1, n);
				p += 1 + n;
			}
		} else if (!basic)
			return -1;
	}
	if (p < end && (*p == '.' || *p == ',') && p + 1 < end &&
	    date_is_digit(p[1])) {
		p++; /* fractions of a second are dropped */
		while (p < end && date_is_digit(*p))
			p++;
	}
	*pp = p;
	return 0;
}

/* Monday of ISO week 1 of year y, in days since the epoch. */
static int64_t
date_week_one(int y)
{
	int64_t jan4 = date_days_from_civil(y, 1, 4);
	int64_t weekday = ((jan4 + 3) % 7 + 7) % 7; /* Monday = 0 */

	return jan4 - weekday;
}

/* Set the calendar date of day number days (since the epoch). */
static void
date_set_days(struct date_fields *f, int64_t days)
{
	int64_t y;
	unsigned m, d;

	date_civil_from_days(days, &y, &m, &d);
	f->year = (int)y;
	f->month = (int)m;
	f->day = (int)d;
}

/*
 * ISO 8601 / RFC 3339 / W3CDTF: YYYY, YYYY-MM, YYYY-MM-DD, YYYYMMDD,
 * YYYY-DDD, YYYYDDD, YYYY-Www[-D], YYYYWww[D], then optionally T (or
 * spaces) and a time, then optionally a zone (none = UTC).
 */
static int
date_parse_iso(const char *p, const char *end, int64_t *t)
{
	struct date_fields f = {0, 1, 1, 0, 0, 0, 0};
	size_t n = date_digits(p, end);
	int basic = 0, week = -1, weekday = 1, ordinal = -1, have_time = 0;

	if (n == 8 || n == 7) {
		basic = 1;
		f.year = date_number(p, 4);
		if (n == 8) {
			f.month = date_number(p + 4, 2);
			f.day = date_number(p + 6, 2);
		} else
			ordinal = date_number(p + 4, 3);
		p += n;
	} else if (n == 4) {
		f.year = date_number(p, 4);
		p += 4;
		if (p < end && *p == '-') {
			p++;
			n = date_digits(p, end);
			if (n == 3 && *p == '0' && p + 3 < end && p[3] == '-') {
				/* "2003-012-31": a month with an extra zero */
				p++;
				n = 2;
			}
			if (n == 3) {
				ordinal = date_number(p, 3);
				p += 3;
			} else if (n == 1 || n == 2) {
				f.month = date_number(p, n);
				p += n;
				if (p < end && *p == '-') {
					n = date_digits(p + 1, end);
					if (n < 1 || n > 2)
						return -1;
					f.day = date_number(p + 1, n);
					p += 1 + n;
				}
			} else if (n == 0 && p < end &&
			    (*p == 'W' || *p == 'w')) {
				if (date_digits(p + 1, end) != 2)
					return -1;
				week = date_number(p + 1, 2);
				p += 3;
				if (p + 1 < end && *p == '-' &&
				    date_is_digit(p[1])) {
					weekday = p[1] - '0';
					p += 2;
				}
			} else
				return -1;
		} else if (p < end && (*p == 'W' || *p == 'w')) {
			basic = 1;
			n = date_digits(p + 1, end);
			if (n != 2 && n != 3)
				return -1;
			week = date_number(p + 1, 2);
			if (n == 3)
				weekday = p[3] - '0';
			p += 1 + n;
		}
	} else
		return -1;

	if (ordinal != -1) {
		if (ordinal < 1 || ordinal > (date_is_leap(f.year) ? 366 : 365))
			return -1;
		date_set_days(
		    &f, date_days_from_civil(f.year, 1, 1) + ordinal - 1);
	} else if (week != -1) {
		if (week < 1 || weekday < 1 || weekday > 7)
			return -1;
		if (week == 53 &&
		    date_week_one(f.year + 1) - date_week_one(f.year) != 53 * 7)
			return -1;
		if (week > 53)
			return -1;
		date_set_days(
		    &f, date_week_one(f.year) + (week - 1) * 7 + weekday - 1);
	}

	if (p < end && (*p == 'T' || *p == 't' || date_is_space(*p))) {
		const char *q = p + 1;

		while (q < end && date_is_space(*q))
			q++;
		if (q < end && date_is_digit(*q)) {
			if (date_time(&q, end, &f,
				basic || *p == 'T' || *p == 't') == -1)
				return -1;
			p = q;
			have_time = 1;
		} else if (*p == 'T' || *p == 't')
			return -1;
	}
	/* a date alone takes only a zone name after a space ("2004-01-01
	 * GMT"): "2013-01-27-01" is not a date with zone -01 */
	if (!have_time && p < end && !date_is_space(*p))
		return -1;
	while (p < end && date_is_space(*p))
		p++;
	if (p < end && !have_time && !date_is_alpha(*p))
		return -1;
	if (p < end && date_zone(&p, end, &f.zone_minutes) == -1)
		return -1;
	while (p < end && date_is_space(*p))
		p++;
	if (p != end)
		return -1;
	return date_finish(&f, t);
}

/*
 * RFC 822 and everything like it: "Sat, 07 Sep 2002 00:00:01 GMT",
 * "Sun Jan  4 16:29:06 PST 2004", "September 7, 2002 12:00 AM EDT",
 * "07-Sep-02", "2002/09/07 00:00:01 -0500". Fields are recognised by their
 * form, so their order is free; each may appear once.
 */
static int
date_parse_loose(const char *p, const char *end, int64_t *t)
{
	struct date_fields f = {-1, -1, -1, -1, 0, 0, 0};
	int have_zone = 0, meridiem = 0; /* 1 am, 2 pm */
	char word[16];
	size_t n, i;
	int v;

	while (p < end) {
		if (date_is_space(*p) || *p == ',' || *p == '.') {
			p++;
			continue;
		}
		if (*p == '(') { /* RFC 822 comment: "+0000 (UTC)" */
			while (p < end && *p != ')')
				p++;
			if (p < end)
				p++;
			continue;
		}
		if ((*p == '+' || *p == '-') && p + 1 < end &&
		    date_is_digit(p[1]) &&
		    (f.hour != -1 || (f.year != -1 && f.day != -1))) {
			if (have_zone ||
			    date_zone(&p, end, &f.zone_minutes) == -1)
				return -1;
			have_zone = 1;
			continue;
		}
		if (*p == '-' || *p == '/') {
			p++;
			continue;
		}
		if (date_is_alpha(*p)) {
			for (n = 0; p + n < end && date_is_alpha(p[n]); n++) {
				if (n == sizeof word)
					return -1;
				word[n] = date_lower(p[n]);
			}
			if ((v = date_prefix_of(word, n, date_months, 12)) !=
			    -1) {
				if (f.month != -1)
					return -1;
				f.month = v + 1;
				p += n;
			} else if (date_prefix_of(word, n, date_weekdays, 7) !=
			    -1) {
				p += n; /* often wrong: ignored */
			} else if (n == 2 &&
			    (memcmp(word, "am", 2) == 0 ||
				memcmp(word, "pm", 2) == 0)) {
				if (f.hour == -1 || meridiem)
					return -1;
				meridiem = word[0] == 'a' ? 1 : 2;
				p += n;
			} else if (n == 1 &&
			    (word[0] == 'a' || word[0] == 'p') &&
			    p + 3 < end + 1 && p[1] == '.' &&
			    date_lower(p[2]) == 'm' && f.hour != -1 &&
			    !meridiem) {
				meridiem = word[0] == 'a' ? 1 : 2; /* "a.m." */
				p += 3;
			} else {
				if (have_zone ||
				    date_zone(&p, end, &f.zone_minutes) == -1)
					return -1;
				have_zone = 1;
			}
			continue;
		}
		if (!date_is_digit(*p))
			return -1;
		n = date_digits(p, end);
		if (n > 4)
			return -1;
		v = date_number(p, n);
		if (p + n < end && p[n] == ':') {
			if (f.hour != -1 || date_time(&p, end, &f, 0) == -1)
				return -1;
		} else if (n == 4 && p + n < end && p[n] == '/') {
			/* 2002/09/07 */
			if (f.year != -1 || f.month != -1 || f.day != -1)
				return -1;
			f.year = v;
			p += 5;
			if ((n = date_digits(p, end)) < 1 || n > 2)
				return -1;
			f.month = date_number(p, n);
			p += n;
			if (p >= end || *p != '/' ||
			    (n = date_digits(p + 1, end)) < 1 || n > 2)
				return -1;
			f.day = date_number(p + 1, n);
			p += 1 + n;
		} else if (n == 4) {
			if (f.year != -1)
				return -1;
			f.year = v;
			p += n;
		} else if (n <= 2) {
			p += n;
			if (f.day == -1) {
				f.day = v;
				/* 1st, 2nd, 3rd, 4th */
				if (p + 1 < end && date_is_alpha(p[0]) &&
				    date_is_alpha(p[1]) &&
				    (p + 2 == end || !date_is_alpha(p[2]))) {
					word[0] = date_lower(p[0]);
					word[1] = date_lower(p[1]);
					for (i = 0; i < 4; i++)
						if (memcmp(word,
							&"stndrdth"[i * 2],
							2) == 0)
							break;
					if (i < 4)
						p += 2;
				}
			} else if (f.year == -1)
				f.year = v + (v < 90 ? 2000 : 1900);
			else
				return -1;
		} else
			return -1;
	}
	if (f.year == -1 || f.month == -1 || f.day == -1)
		return -1;
	if (f.hour == -1) {
		if (meridiem)
			return -1;
		f.hour = 0;
	}
	if (meridiem) {
		if (f.hour < 1 || f.hour > 12)
			return -1;
		if (meridiem == 2 && f.hour < 12)
			f.hour += 12;
		else if (meridiem == 1 && f.hour == 12)
			f.hour = 0;
	}
	return date_finish(&f, t);
}

int
date_parse(const char *s, int64_t *t)
{
	const char *end;
	size_t len;
	int64_t v;

	if (s == NULL)
		return -1;
	len = strnlen(s, DATE_INPUT_MAX + 1);
	if (len > DATE_INPUT_MAX)
		return -1;
	end = s + len;
	while (s < end && date_is_space(*s))
		s++;
	while (end > s && date_is_space(end[-1]))
		end--;
	if (s == end)
		return -1;
	if (date_is_digit(*s) && date_parse_iso(s, end, &v) == 0) {
		*t = v;
		return 0;
	}
	if (date_parse_loose(s, end, &v) == 0) {
		*t = v;
		return 0;
	}
	return -1;
}

char *
date_format(int64_t t, char *buf, size_t len)
{
	int64_t days, secs, y;
	unsigned m, d;

	if (buf == NULL || len < DATE_FORMAT_LEN)
		return NULL;
	if (t < date_days_from_civil(0, 1, 1) * 86400 ||
	    t >= date_days_from_civil(10000, 1, 1) * 86400)
		return NULL;
	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	date_civil_from_days(days, &y, &m, &d);
	/* the range check above keeps every field to its width */
	buf[0] = (char)('0' + y / 1000);
	buf[1] = (char)('0' + y / 100 % 10);
	buf[2] = (char)('0' + y / 10 % 10);
	buf[3] = (char)('0' + y % 10);
	buf[4] = '-';
	buf[5] = (char)('0' + m / 10);
	buf[6] = (char)('0' + m % 10);
	buf[7] = '-';
	buf[8] = (char)('0' + d / 10);
	buf[9] = (char)('0' + d % 10);
	buf[10] = 'T';
	buf[11] = (char)('0' + secs / 36000);
	buf[12] = (char)('0' + secs / 3600 % 10);
	buf[13] = ':';
	buf[14] = (char)('0' + secs % 3600 / 600);
	buf[15] = (char)('0' + secs % 3600 / 60 % 10);
	buf[16] = ':';
	buf[17] = (char)('0' + secs % 60 / 10);
	buf[18] = (char)('0' + secs % 10);
	buf[19] = 'Z';
	buf[20] = '\0';
	return buf;
}

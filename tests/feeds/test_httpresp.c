/*
 * httpresp: a response's header lines as a hostile server may send them,
 * the fields kept of them, and the hints of when to come back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "httpresp.h"

/* Thu, 01 Jan 2004 19:48:21 GMT */
#define T0 ((time_t)1072986501)
#define YEAR HTTPRESP_HINT_MAX_S

static enum httpresp_line
line(struct httpresp *r, const char *s, struct httpresp_field *f)
{
	return httpresp_line(r, s, strlen(s), f);
}

static void
test_status_lines(void **state)
{
	static const struct {
		const char *line;
		long status;
	} cases[] = {
	    {"HTTP/1.1 200 OK\r\n", 200},
	    {"HTTP/2 304\r\n", 304},
	    {"HTTP/1.0 503 Service Unavailable\n", 503},
	    {"HTTP/1.1 999 x\r\n", 999},
	    {"HTTP/1.1 2x0 OK\r\n", 0},
	    {"HTTP/1.1 20\r\n", 0},
	    {"HTTP/1.1\r\n", 0},
	    {"HTTP/", 0},
	};
	struct httpresp r = {0};
	struct httpresp_field f;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		/* a field of the response before is forgotten */
		assert_int_equal(
		    line(&r, "ETag: \"x\"\r\n", &f), HTTPRESP_FIELD);
		assert_non_null(r.etag);
		assert_int_equal(line(&r, cases[i].line, &f), HTTPRESP_STATUS);
		if (r.status != cases[i].status)
			fail_msg("%s: status %ld", cases[i].line, r.status);
		assert_null(r.etag);
	}
	httpresp_clear(&r);
}

static void
test_fields(void **state)
{
	struct httpresp r = {0};
	struct httpresp_field f;
	char big[HTTPRESP_MAX_VALUE + 16];

	assert_int_equal(line(&r, "\r\n", &f), HTTPRESP_END);
	assert_int_equal(line(&r, "\n", &f), HTTPRESP_END);
	assert_int_equal(line(&r, "", &f), HTTPRESP_END);
	assert_int_equal(line(&r, " folded\r\n", &f), HTTPRESP_IGNORED);
	assert_int_equal(line(&r, "no colon\r\n", &f), HTTPRESP_IGNORED);

	/* name and value, the blanks around the value left out */
	assert_int_equal(
	    line(&r, "X-Thing: \t a b \t\r\n", &f), HTTPRESP_FIELD);
	assert_int_equal(f.namelen, 7);
	assert_memory_equal(f.name, "X-Thing", 7);
	assert_int_equal(f.valuelen, 3);
	assert_memory_equal(f.value, "a b", 3);
	assert_int_equal(line(&r, "Empty:\r\n", &f), HTTPRESP_FIELD);
	assert_int_equal(f.valuelen, 0);

	/* names are case-insensitive; the last line of a field decides */
	line(&r, "etag: \"v1\"\r\n", &f);
	line(&r, "ETAG: \"v2\"\r\n", &f);
	assert_string_equal(r.etag, "\"v2\"");
	line(&r, "Content-Type: application/rss+xml; charset=utf-8\r\n", &f);
	assert_string_equal(
	    r.content_type, "application/rss+xml; charset=utf-8");
	/* a control or an overlong value is not kept, and leaves none */
	line(&r,
	    "ETag: \"a\x01"
	    "b\"\r\n",
	    &f);
	assert_null(r.etag);
	line(&r, "Last-Modified: Thu, 01 Jan 2004 19:48:21 GMT\r\n", &f);
	assert_non_null(r.last_modified);
	line(&r, "Last-Modified: a\x7f\r\n", &f);
	assert_null(r.last_modified);
	line(&r, "ETag: tab\tis fine\r\n", &f);
	assert_string_equal(r.etag, "tab\tis fine");
	memcpy(big, "ETag: ", 6);
	memset(big + 6, 'e', HTTPRESP_MAX_VALUE);
	big[6 + HTTPRESP_MAX_VALUE] = '\0';
	line(&r, big, &f);
	assert_non_null(r.etag);
	assert_int_equal(strlen(r.etag), HTTPRESP_MAX_VALUE);
	big[6 + HTTPRESP_MAX_VALUE] = 'e';
	big[7 + HTTPRESP_MAX_VALUE] = '\0';
	line(&r, big, &f);
	assert_null(r.etag);
	/* a NUL inside a line is a control like any other */
	assert_int_equal(
	    httpresp_line(&r, "Date: a\0b\r\n", 11, &f), HTTPRESP_FIELD);
	assert_null(r.date);
	httpresp_clear(&r);
	assert_int_equal(r.status, 0);
	assert_null(r.content_type);
}

/* Cache-Control is a list: its lines are one value. */
static void
test_cache_control_lines(void **state)
{
	struct httpresp r = {0};
	struct httpresp_field f;
	struct httpresp_hints h;

	line(&r, "HTTP/1.1 200 OK\r\n", &f);
	line(&r, "Cache-Control: public\r\n", &f);
	line(&r, "Cache-Control:\r\n", &f);
	line(&r, "Cache-Control: bad\x01\r\n", &f);
	line(&r, "cache-control: max-age=600\r\n", &f);
	assert_string_equal(r.cache_control, "public, max-age=600");
	httpresp_hints(&r, T0, &h);
	assert_int_equal(h.max_age_s, 600);
	assert_int_equal(h.retry_after_s, -1);
	assert_int_equal(h.expires_in_s, -1);
	httpresp_clear(&r);
}

static void
test_max_age(void **state)
{
	static const struct {
		const char *cc;
		int64_t want;
	} cases[] = {
	    {"max-age=600", 600},
	    {"MAX-AGE=5", 5},
	    {"public, max-age=60", 60},
	    {"  ,, max-age=60 ,", 60},
	    {"max-age = 30", 30},
	    {"max-age=\"9\"", 9},
	    {"max-age=0", 0},
	    {"max-age=600s", 600},
	    /* a longer name is another directive */
	    {"max-age-foo=5, max-age=60", 60},
	    {"s-maxage=5", -1},
	    {"s-maxage=5, max-age=7", 7},
	    /* a comma in a quoted value does not end the directive */
	    {"no-cache=\"Set-Cookie, max-age=5\", max-age=7", 7},
	    {"private=\"a\\\"b, max-age=5\", max-age=8", 8},
	    {"x=\"open, max-age=5", -1},
	    {"max-age", -1},
	    {"max-age=", -1},
	    {"max-age=abc, max-age=5", -1}, /* the first one decides */
	    {"max-age=-5", -1},
	    {"no-store", -1},
	    {"", -1},
	    {"\"", -1},
	    {"=,=,=", -1},
	    {"max-age=99999999999999999999999999", INT64_MAX / 1000},
	};
	size_t i;
	int64_t got;

	assert_int_equal(httpresp_max_age(NULL), -1);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = httpresp_max_age(cases[i].cc);
		if (cases[i].want == INT64_MAX / 1000 ? got < YEAR
						      : got != cases[i].want)
			fail_msg("\"%s\": %lld, not %lld", cases[i].cc,
			    (long long)got, (long long)cases[i].want);
	}
}

static void
test_hints(void **state)
{
	static const struct {
		const char *date, *retry_after, *cache_control, *expires;
		int64_t retry_after_s, max_age_s, expires_in_s;
	} cases[] = {
	    {NULL, NULL, NULL, NULL, -1, -1, -1},
	    {NULL, "120", NULL, NULL, 120, -1, -1},
	    {NULL, "0", NULL, NULL, 0, -1, -1},
	    {NULL, "10000000000000000", NULL, NULL, YEAR, -1, -1},
	    {NULL, "12 ", NULL, NULL, -1, -1, -1},
	    {NULL, "-5", NULL, NULL, -1, -1, -1},
	    {NULL, "soon", NULL, NULL, -1, -1, -1},
	    /* dates count from the response's Date */
	    {"Thu, 01 Jan 2004 19:48:21 GMT", "Thu, 01 Jan 2004 19:50:21 GMT",
		NULL, NULL, 120, -1, -1},
	    {"Thu, 01 Jan 2004 19:48:21 GMT", "Thu, 01 Jan 2004 19:40:00 GMT",
		NULL, NULL, 0, -1, -1},
	    {"Thu, 01 Jan 2004 19:48:21 GMT", NULL, "max-age=600",
		"Thu, 01 Jan 2004 20:03:21 GMT", -1, 600, 900},
	    /* without a valid Date, from now (T0 here) */
	    {"yesterday", "Thu, 01 Jan 2004 19:49:21 GMT", NULL, NULL, 60, -1,
		-1},
	    /* an Expires before the response's Date: expired */
	    {"Thu, 01 Jan 2099 00:00:00 GMT", NULL, NULL,
		"Thu, 01 Jan 2004 19:48:21 GMT", -1, -1, 0},
	    {NULL, "Sat, 01 Jan 2050 00:00:00 GMT", NULL,
		"Sat, 01 Jan 2050 00:00:00 GMT", YEAR, -1, YEAR},
	    /* an Expires that is not a date means already expired */
	    {NULL, NULL, NULL, "0", -1, -1, 0},
	    {NULL, NULL, NULL, "-1", -1, -1, 0},
	    {NULL, NULL, NULL, "never", -1, -1, 0},
	    {NULL, NULL, NULL, "", -1, -1, 0},
	    {NULL, NULL, "max-age=99999999999", NULL, -1, YEAR, -1},
	};
	struct httpresp r = {0};
	struct httpresp_hints h;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r.date = (char *)cases[i].date;
		r.retry_after = (char *)cases[i].retry_after;
		r.cache_control = (char *)cases[i].cache_control;
		r.expires = (char *)cases[i].expires;
		httpresp_hints(&r, T0, &h);
		if (h.retry_after_s != cases[i].retry_after_s ||
		    h.max_age_s != cases[i].max_age_s ||
		    h.expires_in_s != cases[i].expires_in_s)
			fail_msg("case %zu: retry %lld max-age %lld expires "
				 "%lld",
			    i, (long long)h.retry_after_s,
			    (long long)h.max_age_s, (long long)h.expires_in_s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_lines),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_cache_control_lines),
	    cmocka_unit_test(test_max_age),
	    cmocka_unit_test(test_hints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

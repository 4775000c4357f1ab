/* date: every form feeds use, the broken ones, and what is not a date. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "date.h"

/* 2004-01-01T19:48:21Z, the instant most cases below name. */
#define T0 INT64_C(1072986501)

static const struct {
	const char *in;
	int64_t want;
} good[] = {
    /* RFC 822 / 1123 and their zones */
    {"Thu, 01 Jan 2004 19:48:21 GMT", T0},
    {"Thu, 01 Jan 2004 19:48:21 UT", T0},
    {"Thu, 01 Jan 2004 19:48:21 UTC", T0},
    {"Thu, 01 Jan 2004 19:48:21 Z", T0},
    {"Thu, 01 Jan 2004 19:48:21 +0000", T0},
    {"Thu, 01 Jan 2004 19:48:21 -0000", T0},
    {"Thu, 01 Jan 2004 14:48:21 EST", T0},
    {"Thu, 01 Jan 2004 15:48:21 EDT", T0},
    {"Thu, 01 Jan 2004 13:48:21 CST", T0},
    {"Thu, 01 Jan 2004 14:48:21 CDT", T0},
    {"Thu, 01 Jan 2004 12:48:21 MST", T0},
    {"Thu, 01 Jan 2004 13:48:21 MDT", T0},
    {"Thu, 01 Jan 2004 11:48:21 PST", T0},
    {"Thu, 01 Jan 2004 12:48:21 PDT", T0},
    {"Thu, 01 Jan 2004 20:48:21 CET", T0},
    {"Thu, 01 Jan 2004 18:48:21 A", T0}, /* military, RFC 822 signs */
    {"Thu, 01 Jan 2004 07:48:21 M", T0},
    {"Thu, 01 Jan 2004 20:48:21 N", T0},
    {"Fri, 02 Jan 2004 07:48:21 Y", T0},
    {"Thu, 01 Jan 2004 19:48:21 z", T0},
    {"Thu, 01 Jan 2004 21:48:21 +0200", T0},
    {"Thu, 01 Jan 2004 14:18:21 -0530", T0},
    {"Thu, 01 Jan 2004 14:18:21 -05:30", T0},
    {"Thu, 01 Jan 2004 14:48:21 -05", T0},
    {"Thu, 01 Jan 2004 21:48:21 GMT+2", T0},
    {"Thu, 01 Jan 2004 14:48:21 GMT-05:00", T0},
    {"Thu, 01 Jan 2004 14:48:21 UTC-0500", T0},
    {"Thu, 01 Jan 2004 19:48:21 Etc/GMT", T0},
    {"Thu, 01 Jan 2004 19:48:21 +0000 (UTC)", T0},
    {"Thu, 01 Jan 2004 19:48:21", T0}, /* no zone: UTC */
    {"Thu, 01 Jan 2004 19:48 GMT", T0 - 21},
    {"Thu, 01 Jan 2004", T0 - 71301},
    /* broken forms seen in feeds */
    {"01 Jan 2004 19:48:21 GMT", T0}, /* no weekday */
    {"Mon, 01 Jan 2004 19:48:21 GMT", T0}, /* wrong weekday */
    {"Thursday, 01 January 2004 19:48:21 GMT", T0},
    {"Thu, 1 Jan 2004 19:48:21 GMT", T0}, /* one-digit day */
    {"Thu, 01 Jan 2004 9:48:21 GMT", T0 - 36000},
    {"Thu, 01 Jan 04 19:48:21 GMT", T0}, /* two-digit years */
    {"Wed, 01 Jan 99 00:00:00 GMT", INT64_C(915148800)},
    {"Sun, 01 Jan 89 00:00:00 GMT", INT64_C(3755376000)},
    {"Thu,01 Jan 2004 19:48:21 GMT", T0},
    {"  Thu,  01  Jan,  2004,  19:48:21   GMT  ", T0},
    {"Thu, 01-Jan-2004 19:48:21 GMT", T0},
    {"Tue, 07 Sept 2004 00:00:00 GMT", INT64_C(1094515200)},
    {"Tue, 07 September 2004 00:00:00 GMT", INT64_C(1094515200)},
    {"January 1, 2004 7:48:21 PM GMT", T0},
    {"January 1st, 2004 7:48 pm", T0 - 21},
    {"Jan 1 2004 12:00 AM", T0 - 71301},
    {"Thu, 01 Jan 2004 19:48:21.123 GMT", T0},
    {"THU, 01 JAN 2004 19:48:21 gmt", T0},
    {"2004/01/01 19:48:21 GMT", T0},
    /* asctime and date(1) */
    {"Thu Jan  1 19:48:21 2004", T0},
    {"Thu Jan 01 14:48:21 EST 2004", T0},
    /* RFC 3339 / ISO 8601 / W3CDTF */
    {"2004-01-01T19:48:21Z", T0},
    {"2004-01-01T19:48:21z", T0},
    {"2004-01-01t19:48:21Z", T0},
    {"2004-01-01T19:48:21+00:00", T0},
    {"2004-01-01T21:48:21+02:00", T0},
    {"2004-01-01T14:18:21-05:30", T0},
    {"2004-01-01T21:48:21+0200", T0},
    {"2004-01-01T21:48:21+02", T0},
    {"2004-01-01T19:48:21.5Z", T0},
    {"2004-01-01T19:48:21,123456789Z", T0},
    {"2004-01-01T19:48:21", T0}, /* no zone: UTC */
    {"2004-01-01T19:48Z", T0 - 21},
    {"2004-01-01T19Z", T0 - 2901},
    {"2004-01-01 19:48:21", T0},
    {"2004-01-01 19:48:21 GMT", T0},
    {"2004-01-01 14:48:21 -0500", T0},
    {"20040101T194821Z", T0},
    {"20040101T1948Z", T0 - 21},
    {"2004-01-01", T0 - 71301},
    {"20040101", T0 - 71301},
    {"2004-01", T0 - 71301},
    {"2004", T0 - 71301},
    {"2004-1-1", T0 - 71301},
    {"2004-001", T0 - 71301},
    {"2004001", T0 - 71301},
    {"2004-366", INT64_C(1104451200)}, /* 2004-12-31 */
    {"2004-W01-4", T0 - 71301}, /* week 1 of 2004 starts Dec 29 */
    {"2004W014", T0 - 71301},
    {"2004-W01", T0 - 71301 - 3 * 86400},
    {"2004-W53-7", INT64_C(1104624000)}, /* 2005-01-02 */
    {"2004-01-01T24:00:00Z", T0 - 71301 + 86400},
    {"2004-01-01T23:59:60Z", T0 - 71301 + 86399}, /* leap second */
    {"2004-01-01 GMT", T0 - 71301},
    {"2004-001-01", T0 - 71301}, /* Google's three-digit month */
    {"Thu Jan 01 2004 21:48:21 +0200", T0},
    {"Thu Jan 01 19:48:21 +0000 2004", T0},
    {"Thu, 01 Jan 2004 21:48:21 MEST", T0},
    {"Thu, 01 Jan 2004 18:47:21 GMT-01:01", T0},
    {"Thu, 01 Jan 2004 19:48:21 PT", T0 + 8 * 3600},
    {"Fri, 02 Jan 2004 03:48:21 HKT", T0},
    {"Fri, 02 Jan 2004 03:48:21 SGT", T0},
    {"Fri, 02 Jan 2004 02:48:21 WIB", T0},
    {"Thu, 01 Jan 2004 21:48:21 CAT", T0},
    {"Thu, 01 Jan 2004 22:48:21 EAT", T0},
    {"Thu, 01 Jan 2004 20:48:21 WAT", T0},
    {"Fri, 02 Jan 2004 01:33:21 NPT", T0},
    {"Fri, 02 Jan 2004 05:18:21 ACST", T0},
    /* ranges and leap days */
    {"1970-01-01T00:00:00Z", 0},
    {"1969-12-31T23:59:59Z", -1},
    {"1900-01-01T00:00:00Z", INT64_C(-2208988800)},
    {"2100-01-01T00:00:00Z", INT64_C(4102444800)},
    {"9999-12-31T23:59:59Z", INT64_C(253402300799)},
    {"0000-01-01T00:00:00Z", INT64_C(-62167219200)},
    {"2000-02-29", INT64_C(951782400)},
    {"2004-02-29T12:00:00Z", INT64_C(1078056000)},
    {"Sun, 29 Feb 2004 12:00:00 GMT", INT64_C(1078056000)},
    {"2038-01-19T03:14:08Z", INT64_C(2147483648)},
};

static const char *const bad[] = {
    "",
    "   ",
    "Thu, 01 Jan 2004 19:48:21 IST", /* India, Israel or Ireland */
    "now",
    "yesterday",
    "garbage",
    "Thu, 01 Jan",
    "Jan 2004",
    "01 Foo 2004 19:48:21 GMT",
    "Thu, 32 Jan 2004 19:48:21 GMT",
    "Thu, 01 Jan 2004 25:48:21 GMT",
    "Thu, 01 Jan 2004 19:60:21 GMT",
    "Thu, 01 Jan 2004 19:48:61 GMT",
    "Thu, 01 Jan 2004 19:48:21 XYZ",
    "Thu, 01 Jan 2004 19:48:21 +9999",
    "Thu, 01 Jan 2004 19:48:21 GMT GMT",
    "Thu, 01 Jan 2004 13:48:21 PM",
    "Thu, 01 Jan 2004 19:48:21 GMT 2005",
    "Thu, 01 Jan 2004 19:48:21 J",
    "2004-02-30",
    "2001-02-29",
    "1900-02-29",
    "2100-02-29T00:00:00Z",
    "Fri, 30 Feb 2004 00:00:00 GMT",
    "2004-13-01",
    "2004-00-10",
    "2004-01-00",
    "2004-367",
    "2005-366",
    "2004-W54",
    "2005-W53",
    "2004-W01-8",
    "2004-01-01T",
    "2013-01-27-01",
    "2013-01-28T11:30:00-06:00Textra",
    "Sun, 16 Dec 2012 1:2:3:4 GMT",
    "Sun, 99 Jun 2009 12:00:00 GMT",
    "22013",
    "013",
    "2013-xx-27",
    "2013-01-28T09:00:00+00:xx",
    "2004-01-01T19:48:21J",
    "2004-01-01T19:48:21+25:00",
    "2004-01-01T24:00:01Z",
    "2004-01-01T19:48:21Z trailing",
    "10000-01-01T00:00:00Z",
    "0000-01-01T00:00:00+09:00", /* before year 0 in UTC */
    "0000jst",
    "9999-12-31T23:00:00-05:00", /* after year 9999 in UTC */
    "9999-12-31T24:00:00Z",
    "99999999999999999999-01-01",
    "Thu, 01 Jan 99999999999999999999 19:48:21 GMT",
    "Thu, 01 Jan 2004 99999999999999999999:48:21 GMT",
    "Thu, 01 Jan 2004 19:48:21 +99999999999999999999",
    "123",
    "12345",
    "04-01-01",
    "\x01\x02",
    "Thu, 01 Jan 2004 19:48:21 G\xc3\xa9T",
};

static void
test_good(void **state)
{
	size_t i, failed = 0;
	int64_t t;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		t = -42;
		if (date_parse(good[i].in, &t) != 0 || t != good[i].want) {
			print_error("\"%s\": got %lld, want %lld\n", good[i].in,
			    (long long)t, (long long)good[i].want);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void
test_bad(void **state)
{
	size_t i, failed = 0;
	int64_t t;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		t = -42;
		if (date_parse(bad[i], &t) != -1 || t != -42) {
			print_error(
			    "\"%s\": parsed as %lld\n", bad[i], (long long)t);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
	assert_int_equal(date_parse(NULL, &t), -1);
}

static void
test_long_input(void **state)
{
	char s[DATE_INPUT_MAX + 64];
	int64_t t;

	/* a date padded past the cap is refused, not read partly */
	memset(s, ' ', sizeof s);
	memcpy(s + sizeof s - 21, "2004-01-01T19:48:21Z", 21);
	assert_int_equal(date_parse(s, &t), -1);
	assert_int_equal(date_parse(s + 64, &t), 0);
	assert_true(t == T0);
}

static void
test_format(void **state)
{
	static const struct {
		int64_t t;
		const char *want;
	} cases[] = {
	    {T0, "2004-01-01T19:48:21Z"},
	    {0, "1970-01-01T00:00:00Z"},
	    {-1, "1969-12-31T23:59:59Z"},
	    {INT64_C(-2208988800), "1900-01-01T00:00:00Z"},
	    {INT64_C(951782400), "2000-02-29T00:00:00Z"},
	    {INT64_C(4102444800), "2100-01-01T00:00:00Z"},
	    {INT64_C(253402300799), "9999-12-31T23:59:59Z"},
	    {INT64_C(-62167219200), "0000-01-01T00:00:00Z"},
	};
	char buf[DATE_FORMAT_LEN];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_string_equal(
		    date_format(cases[i].t, buf, sizeof buf), cases[i].want);
	assert_null(date_format(T0, buf, sizeof buf - 1));
	assert_null(date_format(INT64_C(253402300800), buf, sizeof buf));
	assert_null(date_format(INT64_C(-62167219201), buf, sizeof buf));
	assert_null(date_format(INT64_MAX, buf, sizeof buf));
	assert_null(date_format(INT64_MIN, buf, sizeof buf));
}

/* Every day of 1600-2400 goes through format and parse unchanged. */
static void
test_round_trip(void **state)
{
	char buf[DATE_FORMAT_LEN];
	int64_t day, first, last, t;

	first = date_days_from_civil(1600, 1, 1);
	last = date_days_from_civil(2400, 12, 31);
	for (day = first; day <= last; day++) {
		int64_t want = day * 86400 + (day % 86400 + 86400) % 86400;

		assert_non_null(date_format(want, buf, sizeof buf));
		assert_int_equal(date_parse(buf, &t), 0);
		if (t != want)
			fail_msg("%s: %lld != %lld", buf, (long long)t,
			    (long long)want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_long_input),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

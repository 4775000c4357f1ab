/* log: levels, the journal's priority prefixes, escaping untrusted text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static void
test_escape_table(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
	    {"plain text", 10, "plain text"}, {"tab\there", 8, "tab\\x09here"},
	    {"line\nbreak", 10, "line\\nbreak"},
	    {"quote\"back\\", 11, "quote\\\"back\\\\"},
	    {"esc\x1b[31m", 8, "esc\\x1b[31m"},
	    {"caf\xc3\xa9", 5, "caf\xc3\xa9"}, /* valid UTF-8 */
	    {"bad\xff\xfe", 5, "bad\\xff\\xfe"}, /* invalid bytes */
	    {"over\xc0\xaf", 6, "over\\xc0\\xaf"}, /* overlong */
	    {"rlo\xe2\x80\xae!", 7, "rlo\\u{202e}!"}, /* bidi override */
	    {"c1\xc2\x85", 4, "c1\\u{0085}"}, /* C1 control */
	    {"nul\0x", 5, "nul\\x00x"},
	    {"\xed\xa0\x80", 3, "\\xed\\xa0\\x80"}, /* surrogate */
	};
	char out[128];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		log_escape(out, sizeof out, cases[i].in, cases[i].len);
		assert_string_equal(out, cases[i].out);
	}
}

static void
test_escape_truncates(void **state)
{
	char out[12];

	log_escapes(out, sizeof out, "0123456789abcdef");
	assert_string_equal(out, "01234567...");
	assert_true(strlen(out) < sizeof out);
	/* Never cut a multibyte character in half. */
	log_escapes(out, sizeof out,
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	assert_string_equal(out, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...");
	log_escapes(out, sizeof out, NULL);
	assert_string_equal(out, "(null)");
}

/* Text read on its own keeps its quotes and backslashes, and nothing else
 * changes. */
static void
test_escape_text(void **state)
{
	char out[64];

	log_escapes_text(out, sizeof out, "\"São Paulo\" a\\b");
	assert_string_equal(out, "\"São Paulo\" a\\b");
	log_escapes_text(out, sizeof out, "esc\x1b[31m\nrlo\xe2\x80\xae\xff");
	assert_string_equal(out, "esc\\x1b[31m\\nrlo\\u{202e}\\xff");
	log_escapes_text(out, sizeof out, NULL);
	assert_string_equal(out, "(null)");
}

static void
test_levels_and_journal(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	enum log_level level;

	assert_non_null(f);
	log_set_stream(f);
	log_set_level(LOG_LEVEL_NOTICE);
	log_set_journal(0);
	log_info("hidden");
	log_warnx("shown %d", 1);
	log_set_journal(1);
	log_notice("journal");
	log_set_level(LOG_LEVEL_DEBUG);
	log_debug("dbg");
	/* Every line of a text at its level, for the journal. */
	log_lines(LOG_LEVEL_ERROR, "a.yaml:1:1: x\na.yaml:2:1: y");
	fflush(f);
	assert_string_equal(text,
	    "feedwatch: warning: shown 1\n<5>journal\n<7>dbg\n"
	    "<3>a.yaml:1:1: x\n<3>a.yaml:2:1: y\n");
	log_set_stream(NULL);
	log_set_journal(0);
	fclose(f);
	free(text);

	assert_int_equal(log_level_parse("debug", &level), 0);
	assert_int_equal(level, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("warn", &level), 0);
	assert_int_equal(level, LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("loud", &level), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape_table),
	    cmocka_unit_test(test_escape_truncates),
	    cmocka_unit_test(test_escape_text),
	    cmocka_unit_test(test_levels_and_journal),
	};

	log_init("feedwatch");
	return cmocka_run_group_tests(tests, NULL, NULL);
}

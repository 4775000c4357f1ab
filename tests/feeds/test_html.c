/* html: text extraction rules, caps, and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "html.h"

static void
test_placeholder(void **state)
{
	char *s = html_to_text("<p>a&amp;b</p>", 14, HTML_TEXT_MAX);

	assert_string_equal(s, "a&b");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_placeholder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

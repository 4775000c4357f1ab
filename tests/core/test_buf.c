/* buf: growth, the hard cap, ownership transfer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void
test_grow_and_take(void **state)
{
	struct buf b;
	char *s;
	size_t len, i;

	buf_init(&b, 1 << 20);
	assert_string_equal(buf_str(&b), "");
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "%03zu,", i), 0);
	assert_int_equal(b.len, 4000);
	assert_memory_equal(b.data + 3996, "999,", 4);
	assert_int_equal(b.data[b.len], '\0');
	s = buf_take(&b, &len);
	assert_int_equal(len, 4000);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);
	s = buf_take(&b, &len); /* empty buffer: "" owned by caller */
	assert_string_equal(s, "");
	free(s);
}

static void
test_cap(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_add(&b, "12345678", 8), 0);
	assert_string_equal(buf_str(&b), "12345678");
	/* One byte past the cap fails and leaves the buffer empty. */
	assert_int_equal(buf_addc(&b, '9'), -1);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	buf_init(&b, 8);
	assert_int_equal(buf_printf(&b, "%s", "too long for it"), -1);
	assert_null(b.data);
	buf_init(&b, 8);
	/* A length that would overflow is refused too. */
	assert_int_equal(buf_add(&b, "x", SIZE_MAX), -1);
	buf_free(&b);
}

static void
test_reset(void **state)
{
	struct buf b;

	buf_init(&b, 64);
	buf_addstr(&b, "abc");
	buf_reset(&b);
	assert_string_equal(buf_str(&b), "");
	buf_addstr(&b, "de");
	assert_string_equal(buf_str(&b), "de");
	buf_free(&b);
	buf_free(&b); /* twice is fine */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grow_and_take),
	    cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

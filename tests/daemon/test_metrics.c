/* metrics: the exposition text of counters, gauges and histograms, label
 * escaping, clearing, and the order of families and series. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "metrics.h"

struct render_case {
	const char *what;
	void (*fill)(struct metrics *);
	const char *want;
};

static void
fill_counter(struct metrics *m)
{
	metrics_declare(m, "x_total", METRICS_COUNTER, "Things.", NULL, 0);
	metrics_add(m, "x_total", 2, "b", "2", NULL);
	metrics_add(m, "x_total", 1, "b", "1", NULL);
	metrics_add(m, "x_total", 3, "b", "2", NULL);
}

static void
fill_escape(struct metrics *m)
{
	metrics_declare(
	    m, "g", METRICS_GAUGE, "Back\\slash\nnewline.", NULL, 0);
	metrics_set(m, "g", 1.5, "feed", "a \"b\" \\ c\nd", NULL);
	metrics_set(m, "g", 0.1, NULL);
}

static void
fill_histogram(struct metrics *m)
{
	static const double bounds[] = {0.1, 1};

	metrics_declare(m, "h_seconds", METRICS_HISTOGRAM, "H.", bounds, 2);
	metrics_observe(m, "h_seconds", 0.05, NULL);
	metrics_observe(m, "h_seconds", 1, NULL);
	metrics_observe(m, "h_seconds", 7, NULL);
}

static void
fill_clear(struct metrics *m)
{
	metrics_declare(m, "a", METRICS_GAUGE, "A.", NULL, 0);
	metrics_declare(m, "b", METRICS_GAUGE, "B.", NULL, 0);
	metrics_set(m, "a", 1, "k", "gone", NULL);
	metrics_clear(m, "a");
	metrics_set(m, "a", 2, "k", "kept", NULL);
	metrics_set(m, "b", 1e300, NULL);
}

static const struct render_case render_cases[] = {
    {"counters add, series sorted", fill_counter,
	"# HELP x_total Things.\n# TYPE x_total counter\n"
	"x_total{b=\"1\"} 1\nx_total{b=\"2\"} 5\n"},
    {"escapes in help and label values", fill_escape,
	"# HELP g Back\\\\slash\\nnewline.\n# TYPE g gauge\n"
	"g 0.1\ng{feed=\"a \\\"b\\\" \\\\ c\\nd\"} 1.5\n"},
    {"histogram buckets are cumulative", fill_histogram,
	"# HELP h_seconds H.\n# TYPE h_seconds histogram\n"
	"h_seconds_bucket{le=\"0.1\"} 1\nh_seconds_bucket{le=\"1\"} 2\n"
	"h_seconds_bucket{le=\"+Inf\"} 3\nh_seconds_sum 8.05\n"
	"h_seconds_count 3\n"},
    {"clear forgets series; families in declaration order", fill_clear,
	"# HELP a A.\n# TYPE a gauge\na{k=\"kept\"} 2\n"
	"# HELP b B.\n# TYPE b gauge\nb 1e+300\n"},
};

static void
test_render(void **state)
{
	struct metrics *m;
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof render_cases / sizeof render_cases[0]; i++) {
		m = metrics_new();
		render_cases[i].fill(m);
		buf_init(&b, 1 << 20);
		assert_int_equal(metrics_render(m, &b), 0);
		if (strcmp(buf_str(&b), render_cases[i].want) != 0)
			fail_msg("%s:\n%s\nwanted:\n%s", render_cases[i].what,
			    buf_str(&b), render_cases[i].want);
		buf_free(&b);
		metrics_free(m);
	}
}

static void
test_get_and_cap(void **state)
{
	struct metrics *m = metrics_new();
	struct buf b;

	metrics_declare(m, "c_total", METRICS_COUNTER, "C.", NULL, 0);
	metrics_add(m, "c_total", 4, "a", "x", "b", "y", NULL);
	assert_true(metrics_get(m, "c_total", "a", "x", "b", "y", NULL) == 4);
	assert_true(metrics_get(m, "c_total", "a", "x", NULL) == 0);
	buf_init(&b, 16);
	assert_int_equal(metrics_render(m, &b), -1);
	buf_free(&b);
	metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_get_and_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

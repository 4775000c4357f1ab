/* alert: the JSON document round-trips, and bad documents are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "alert.h"

static struct alert *
sample(void)
{
	struct alert *a = alert_new();

	a->id = strdup("a-1");
	a->watchlist = strdup("iraq");
	a->severity = strdup("critical");
	a->created_at = 1714564800;
	a->feed_title = strdup("Feed");
	a->feed_url = strdup("https://example.org/feed");
	a->item_title = strdup("Sudani \xc3\xa9 \"x\"");
	a->item_link = strdup("https://example.org/1");
	a->item_published = 1714561200;
	a->item_summary = strdup("text");
	alert_add_hit(
	    a, "@sudani", "sudani", "Sudani", "title", 0, 6, "Sudani");
	alert_add_hit(a, "x", NULL, NULL, "feed", -1, -1, NULL);
	return a;
}

static void
test_round_trip(void **state)
{
	struct alert *a = sample(), *b;
	char *json, *json2, *cause = NULL;
	json_t *doc;

	json = alert_to_json(a);
	assert_null(strchr(json, '\n'));
	doc = json_loads(json, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(doc, "version")),
	    ALERT_SCHEMA_VERSION);
	assert_string_equal(
	    json_string_value(json_object_get(doc, "created_at")),
	    "2024-05-01T12:00:00Z");
	/* A hit without a position has no start/end. */
	assert_null(json_object_get(
	    json_array_get(json_object_get(doc, "hits"), 1), "start"));
	json_decref(doc);
	b = alert_from_json(json, strlen(json), &cause);
	assert_non_null(b);
	assert_string_equal(b->item_title, a->item_title);
	assert_int_equal(b->item_published, a->item_published);
	assert_int_equal(b->item_updated, ALERT_TIME_NONE);
	assert_int_equal(b->nhits, 2);
	assert_int_equal(b->hits[0].end, 6);
	assert_int_equal(b->hits[1].start, -1);
	assert_null(b->hits[1].alias);
	json2 = alert_to_json(b);
	assert_string_equal(json, json2);
	free(json);
	free(json2);
	alert_free(a);
	alert_free(b);
}

/* Invalid UTF-8 from a feed costs the byte, never the alert. */
static void
test_invalid_utf8(void **state)
{
	struct alert *a = sample(), *b;
	char *json;

	free(a->item_title);
	a->item_title = strdup("bad \xff\xfe byte \xc3");
	json = alert_to_json(a);
	b = alert_from_json(json, strlen(json), NULL);
	assert_non_null(b);
	assert_string_equal(
	    b->item_title, "bad \xef\xbf\xbd\xef\xbf\xbd byte \xef\xbf\xbd");
	free(json);
	alert_free(a);
	alert_free(b);
}

static void
test_refused(void **state)
{
	static const struct {
		const char *json;
		const char *error;
	} cases[] = {
	    {"", "not JSON"},
	    {"[]", "not a JSON object"},
	    {"{}", "version"},
	    {"{\"version\":2}", "version"},
	    {"{\"version\":\"1\"}", "version"},
	    {"{\"version\":1,\"id\":5}", "bad id"},
	    {"{\"version\":1,\"created_at\":\"yesterday\"}", "created_at"},
	    {"{\"version\":1,\"severity\":\"apocalyptic\"}", "severity"},
	    {"{\"version\":1,\"item\":[]}", "wrong type"},
	    {"{\"version\":1,\"item\":{\"title\":1}}", "bad item"},
	    {"{\"version\":1,\"hits\":[1]}", "not an object"},
	    {"{\"version\":1,\"hits\":[{\"start\":5,\"end\":2}]}", "bad hit"},
	    {"{\"version\":1,\"hits\":[{\"start\":5}]}", "bad hit"},
	    {"{\"version\":1,\"hits\":[{\"start\":-1,\"end\":2}]}", "bad hit"},
	    {"{\"version\":1,\"id\":\"a\",\"id\":\"b\"}", "not JSON"},
	};
	struct alert *a;
	char *cause;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cause = NULL;
		a = alert_from_json(
		    cases[i].json, strlen(cases[i].json), &cause);
		assert_null(a);
		if (strstr(cause, cases[i].error) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].json,
			    cause, cases[i].error);
		free(cause);
	}
}

static void
test_caps(void **state)
{
	struct alert *a = alert_new(), *b;
	char *json, *cause = NULL;
	size_t i;

	a->id = strdup("x");
	for (i = 0; i < ALERT_MAX_HITS + 1; i++)
		alert_add_hit(a, "t", NULL, NULL, "title", 0, 1, NULL);
	json = alert_to_json(a);
	assert_null(b = alert_from_json(json, strlen(json), &cause));
	assert_non_null(strstr(cause, "too many hits"));
	free(cause);
	assert_null(alert_from_json(json, ALERT_MAX_JSON + 1, NULL));
	free(json);
	alert_free(a);
	/* Offsets and timezones as other writers may produce them. */
	json = strdup(
	    "{\"version\":1,\"created_at\":\"2024-05-01T14:00:00+02:00\","
	    "\"item\":{\"published\":\"2024-05-01T12:00:00.5Z\"}}");
	b = alert_from_json(json, strlen(json), NULL);
	assert_non_null(b);
	assert_int_equal(b->created_at, 1714564800);
	assert_int_equal(b->item_published, 1714564800);
	assert_int_equal(alert_severity_of(b), ALERT_SEVERITY_MEDIUM);
	alert_free(b);
	free(json);
}

/* The example in docs/alert-schema.json is a document we read. */
static void
test_schema_example(void **state)
{
	json_t *schema, *example;
	struct alert *a;
	char *text, *cause = NULL;

	schema =
	    json_load_file(FW_SOURCE_DIR "/docs/alert-schema.json", 0, NULL);
	assert_non_null(schema);
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_object_get(
		    json_object_get(schema, "properties"), "version"),
		"const")),
	    ALERT_SCHEMA_VERSION);
	example = json_array_get(json_object_get(schema, "examples"), 0);
	text = json_dumps(example, JSON_COMPACT);
	a = alert_from_json(text, strlen(text), &cause);
	if (a == NULL)
		fail_msg("%s", cause);
	assert_int_equal(a->nhits, 2);
	assert_string_equal(a->hits[1].alias, "Soudani");
	assert_memory_equal(a->item_title + a->hits[1].start, "Soudani", 7);
	alert_free(a);
	free(text);
	json_decref(schema);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_schema_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

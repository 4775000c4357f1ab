/* The query parser: precedence (as a parenthesized tree) and every
 * syntax error with its position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "query.h"

struct parse_case {
	const char *query;
	const char *tree;
};

static const struct parse_case parse_cases[] = {
    {"coalition", "\"coalition\""},
    {"\"data breach\"", "\"data breach\""},
    {"a b c", "(AND \"a\" \"b\" \"c\")"},
    {"a AND b", "(AND \"a\" \"b\")"},
    {"a OR b c", "(OR \"a\" (AND \"b\" \"c\"))"},
    {"a b OR c", "(OR (AND \"a\" \"b\") \"c\")"},
    {"(a OR b) c", "(AND (OR \"a\" \"b\") \"c\")"},
    {"NOT a OR b", "(OR (NOT \"a\") \"b\")"},
    {"a -b", "(AND \"a\" (NOT \"b\"))"},
    {"a NOT b", "(AND \"a\" (NOT \"b\"))"},
    {"a AND NOT NOT b", "(AND \"a\" (NOT (NOT \"b\")))"},
    {"a NEAR/5 b", "(NEAR/5 \"a\" \"b\")"},
    {"x a NEAR/5 b OR c", "(OR (AND \"x\" (NEAR/5 \"a\" \"b\")) \"c\")"},
    {"NOT a NEAR/2 b c", "(AND (NOT (NEAR/2 \"a\" \"b\")) \"c\")"},
    {"a NEAR/1 b NEAR/2 c", "(NEAR/2 (NEAR/1 \"a\" \"b\") \"c\")"},
    {"coalition NEAR/10 (@iraq OR @sudani)",
	"(NEAR/10 \"coalition\" (OR @iraq @sudani))"},
    {"coalition AND (@iraq OR @sudani) NOT title:sport",
	"(AND \"coalition\" (OR @iraq @sudani) (NOT title:\"sport\"))"},
    {"title:(a OR b) c", "(AND (OR title:\"a\" title:\"b\") \"c\")"},
    {"title:(a OR link:b)", "(OR title:\"a\" link:\"b\")"},
    {"Title:x", "title:\"x\""},
    {"ransom* /b[aeiou]t/i", "(AND ransom* /b[aeiou]t/i)"},
    {"/a\\/b/", "/a\\/b/"},
    {"@country:IQ", "@country:IQ"},
    {"al-Sudani", "\"al-Sudani\""},
    {"10:30", "\"10:30\""},
    {"and or not near", "(AND \"and\" \"or\" \"not\" \"near\")"},
    {"\"NOT\" \"AND\"", "(AND \"NOT\" \"AND\")"},
    {"author:\"Jane Doe\" category:Politics feed:reuters",
	"(AND author:\"Jane Doe\" category:\"Politics\" feed:\"reuters\")"},
    {"  a\n\tb  ", "(AND \"a\" \"b\")"},
};

static void
test_query_parse(void **state)
{
	struct query_node *n;
	char *cause = NULL, *tree;
	size_t pos = 0, i;

	for (i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		n = query_parse(parse_cases[i].query,
		    strlen(parse_cases[i].query), &pos, &cause);
		if (n == NULL)
			fail_msg("case %zu \"%s\": %s", i, parse_cases[i].query,
			    cause);
		tree = query_format(n);
		if (strcmp(tree, parse_cases[i].tree) != 0)
			fail_msg("case %zu \"%s\": got %s, want %s", i,
			    parse_cases[i].query, tree, parse_cases[i].tree);
		free(tree);
		query_free(n);
	}
}

struct error_case {
	const char *query;
	size_t pos;
	const char *message; /* a part of the message */
};

static const struct error_case error_cases[] = {
    {"", 0, "column 1: expected a term, found the end of the query"},
    {"   ", 3, "expected a term, found the end"},
    {"(a OR b", 7, "column 8: expected ')' to close the '(' at column 1"},
    {"a)", 1, "unexpected ')'"},
    {"()", 1, "empty group"},
    {"a AND", 5, "expected a term after 'AND', found the end"},
    {"a OR", 4, "expected a term after 'OR'"},
    {"OR a", 0, "expected a term, found 'OR'"},
    {"a AND OR b", 6, "expected a term after 'AND', found 'OR'"},
    {"NOT", 3, "expected a term after 'NOT'"},
    {"a - b", 3, "expected a term right after '-'"},
    {"a -", 3, "expected a term right after '-'"},
    {"\"open phrase", 0, "unterminated phrase"},
    {"a /re", 2, "unterminated regex"},
    {"a //", 2, "empty regex"},
    {"@", 1, "expected an entity name after '@'"},
    {"x @ y", 3, "expected an entity name"},
    {"foo:bar", 0, "unknown field 'foo'; expected title, summary"},
    {"title:", 6, "expected a term or '(' after 'title:', found the end"},
    {"title: x", 6, "right after 'title:' (no space)"},
    {"title:summary:x", 6, "found 'summary:'"},
    {"a NEAR b", 6, "expected '/' and a distance after NEAR"},
    {"a NEAR/ b", 7, "expected a distance from 0 to 1000"},
    {"a NEAR/x b", 7, "expected a distance"},
    {"a NEAR/1001 b", 7, "expected a distance from 0 to 1000"},
    {"a NEAR/3", 8, "expected a word, phrase, @entity, /regex/ or '('"},
    {"(a b) NEAR/3 c", 0, "NEAR takes words, phrases"},
    {"a NEAR/3 (b NOT c)", 9, "NEAR takes words"},
    {"a NEAR/3 -b", 9, "expected a word, phrase"},
    {"*", 0, "expected a word before '*'"},
    {"ab*c", 2, "'*' may only end a word"},
    {"a\xff", 1, "invalid UTF-8"},
    {"a b )", 4, "unexpected ')'"},
    {"a (b", 4, "expected ')' to close the '(' at column 3"},
    {"Ünï OR", 8, "column 7: expected a term after 'OR'"},
};

static void
test_query_errors(void **state)
{
	struct query_node *n;
	char *cause;
	size_t pos, i;

	for (i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
		cause = NULL;
		pos = 9999;
		n = query_parse(error_cases[i].query,
		    strlen(error_cases[i].query), &pos, &cause);
		if (n != NULL)
			fail_msg(
			    "case %zu \"%s\": parsed", i, error_cases[i].query);
		if (cause == NULL ||
		    strstr(cause, error_cases[i].message) == NULL)
			fail_msg("case %zu \"%s\": message \"%s\", want \"%s\"",
			    i, error_cases[i].query, cause ? cause : "(none)",
			    error_cases[i].message);
		if (pos != error_cases[i].pos)
			fail_msg("case %zu \"%s\": position %zu, want %zu (%s)",
			    i, error_cases[i].query, pos, error_cases[i].pos,
			    cause);
		free(cause);
	}
}

/* The caps: length, depth, number of terms. */
static void
test_query_caps(void **state)
{
	char q[QUERY_MAX_LEN + 2];
	char *cause = NULL;
	size_t pos, i;

	memset(q, 'a', sizeof q - 1);
	q[sizeof q - 1] = '\0';
	assert_null(query_parse(q, strlen(q), &pos, &cause));
	assert_non_null(strstr(cause, "longer than"));
	free(cause);

	for (i = 0; i < QUERY_MAX_DEPTH + 1; i++)
		q[i] = '(';
	q[i++] = 'a';
	q[i] = '\0';
	assert_null(query_parse(q, strlen(q), &pos, &cause));
	assert_non_null(strstr(cause, "nested"));
	free(cause);

	for (i = 0; i < QUERY_MAX_TERMS + 1; i++) {
		q[2 * i] = 'a';
		q[2 * i + 1] = ' ';
	}
	q[2 * i] = '\0';
	assert_null(query_parse(q, strlen(q), &pos, &cause));
	assert_non_null(strstr(cause, "terms"));
	free(cause);
}

/* Term spans as written, used in hits. */
static void
test_query_spans(void **state)
{
	const char *q = "coalition AND title:sport -\"x y\"";
	struct query_node *n = query_parse(q, strlen(q), NULL, NULL);

	assert_non_null(n);
	assert_int_equal(n->nkids, 3);
	assert_int_equal(n->kids[1]->pos, 14);
	assert_int_equal(n->kids[1]->len, 11);
	assert_int_equal(n->kids[2]->kind, QUERY_NOT);
	assert_int_equal(n->kids[2]->kids[0]->pos, 27);
	assert_int_equal(n->kids[2]->kids[0]->len, 5);
	query_free(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_query_parse),
	    cmocka_unit_test(test_query_errors),
	    cmocka_unit_test(test_query_caps),
	    cmocka_unit_test(test_query_spans),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Fuzz the matcher over hostile item text. The input is an item: its
 * lines are the title, summary, content, author, a category and the
 * link, the rest goes to the content. A fixed set of watchlists that
 * uses every kind of term runs over it with explanations on; when the
 * first line also parses as a query, a second matcher runs it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "matcher.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fuzz_match_queries[] = {
    "coalition AND (@iraq OR @sudani) NOT title:sport",
    "@islamic-state OR \"data breach\" OR ransom*",
    "coalition NEAR/3 (@iraq OR @country:SY) NEAR/10 attack",
    "/b[aeiou]+t/i OR /\\d{4}-\\d+/ OR title:/^Breaking/",
    "author:doe OR category:politics OR link:iraq OR feed:wire",
    "Αθήνα OR москва OR بغداد OR \"São Paulo\" OR 北京",
    "a NEAR/0 a NEAR/1000 a",
    "x (NOT y OR z) -w",
    /* prefixes of 8 bytes and more, and several with the same start */
    "cyberattack* OR cyberattacks* OR cyb* OR cyber* OR terror*",
};

static struct matcher *fuzz_match_fixed;

static struct matcher *
fuzz_match_build(void)
{
	struct matcher *m = matcher_new(0);
	char name[16];
	size_t i;

	matcher_add_entity(m, "sudani", "Mohammed Shia al-Sudani", NULL, NULL);
	matcher_add_alias(m, "sudani", "Sudani", MATCHER_CASE_AUTO, NULL);
	matcher_add_entity(m, "islamic-state", "Islamic State", NULL, NULL);
	matcher_add_alias(m, "islamic-state", "IS", MATCHER_CASE_AUTO, NULL);
	matcher_add_alias(
	    m, "islamic-state", "Is", MATCHER_CASE_SENSITIVE, NULL);
	for (i = 0; i < sizeof fuzz_match_queries / sizeof *fuzz_match_queries;
	     i++) {
		name[0] = 'w';
		name[1] = (char)('a' + i);
		name[2] = '\0';
		if (matcher_add_watchlist(
			m, name, fuzz_match_queries[i], NULL, NULL) == -1)
			abort();
	}
	if (matcher_compile(m, NULL) == -1)
		abort();
	return m;
}

static void
fuzz_match_check(const struct matcher_result *res, const struct item *it)
{
	const struct matcher_hit *h;
	size_t i, j, len = 0;

	for (i = 0; i < res->nmatches; i++) {
		for (j = 0; j < res->matches[i].nhits; j++) {
			h = &res->matches[i].hits[j];
			if (strcmp(h->field, "title") == 0)
				len = strlen(it->title_text);
			else if (strcmp(h->field, "content") == 0)
				len = strlen(it->content_text);
			else
				continue;
			/* offsets stay inside the original field */
			if (h->start > h->end || h->end > len ||
			    h->snippet == NULL)
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct matcher_result *res;
	struct matcher *m;
	struct item it;
	char *copy, *fields[6] = {NULL}, *p, *nl, *cat[1];
	size_t i;

	if (fuzz_match_fixed == NULL)
		fuzz_match_fixed = fuzz_match_build();
	copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	p = copy;
	for (i = 0; i < 6 && p != NULL; i++) {
		fields[i] = p;
		if ((nl = strchr(p, '\n')) != NULL && i < 5) {
			*nl = '\0';
			p = nl + 1;
		} else {
			p = NULL;
		}
	}
	memset(&it, 0, sizeof it);
	it.title_text = fields[0];
	it.summary_text = fields[1];
	it.content_text = fields[2];
	it.author = fields[3];
	if (fields[4] != NULL) {
		cat[0] = fields[4];
		it.categories = cat;
		it.ncategories = 1;
	}
	it.link = fields[5];
	res = matcher_run(
	    fuzz_match_fixed, &it, "Wire World", MATCHER_RUN_EXPLAIN);
	fuzz_match_check(res, &it);
	matcher_result_free(res);

	if (it.title_text != NULL) {
		m = matcher_new(MATCHER_NO_COUNTRIES);
		if (matcher_add_watchlist(m, "q", it.title_text, NULL, NULL) ==
		    0) {
			matcher_compile(m, NULL);
			res = matcher_run(m, &it, NULL, MATCHER_RUN_EXPLAIN);
			fuzz_match_check(res, &it);
			matcher_result_free(res);
		}
		matcher_free(m);
	}
	free(copy);
	return 0;
}

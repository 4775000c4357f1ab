/* The matcher: the examples, whole words, phrases, NEAR,
 * prefixes, fields, negation, precedence, entities and their case
 * rules, built-in countries, scripts, regexes with and without JIT,
 * hits with offsets and snippets, near misses, and query errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "buf.h"
#include "automaton.h"
#include "matcher.h"

/* An item as a test writes it; categories are separated by '|'. */
struct test_item {
	const char *title;
	const char *content;
	const char *summary;
	const char *author;
	const char *categories;
	const char *link;
	const char *feed;
};

struct match_case {
	const char *query;
	struct test_item item;
	int matched;
	/* NULL, or the hits as "field start-end alias|..." ("-" when the
	 * hit is not an entity's) */
	const char *hits;
};

static const struct match_case match_cases[] = {
    /* one person, every spelling; the longest alias wins */
    {"@sudani", {"Mohamed Shia al-Sudani visits Washington"}, 1,
	"title 0-22 Mohamed Shia al-Sudani"},
    {"@sudani", {"Mohammed Shia al-Sudani, the prime minister"}, 1,
	"title 0-23 Mohammed Shia al-Sudani"},
    {"@sudani", {"PM Sudani said"}, 1, "title 3-9 Sudani"},
    {"@sudani", {"Soudani meets envoy"}, 1, "title 0-7 Soudani"},
    {"@sudani", {"talks with al-Soudani"}, 1, "title 14-21 Soudani"},
    {"@sudani", {"el-Sudani in Cairo"}, 1, "title 3-9 Sudani"},
    {"@sudani", {"SUDANI"}, 1, NULL},
    {"@sudani", {"Sudanese troops"}, 0, NULL},
    {"@sudani", {"Sudan talks"}, 0, NULL},
    /* IS is the Islamic State, never the word "is" */
    {"@islamic-state", {"IS claims attack"}, 1, "title 0-2 IS"},
    {"@islamic-state", {"This is a test"}, 0, NULL},
    {"@islamic-state", {"Is it over? is it."}, 0, NULL},
    {"@islamic-state", {"THE ISIS THREAT"}, 1, "title 4-8 ISIS"},
    {"@islamic-state", {"Isis, the goddess"}, 0, NULL},
    {"@islamic-state", {"islamic state fighters"}, 1,
	"title 0-13 Islamic State"},
    {"@islamic-state", {"Daesh"}, 1, NULL},
    {"@islamic-state", {"the daesh"}, 1, NULL},
    {"@islamic-state", {NULL, "fighters of I.S. said"}, 0, NULL},
    /* ... nor "IS" in text written in capitals, where case says nothing
     * and the word is likelier; a name that is not a common word
     * ("ISIS", above; "US", which is not on the list) still counts */
    {"@islamic-state", {"WHY IS THE ECONOMY SLOWING? MARKETS REACT"}, 0, NULL},
    {"@islamic-state", {NULL, "IT IS WHAT IT IS, said the coach."}, 0, NULL},
    {"@islamic-state", {NULL, "He said \"IT IS OVER\" and left"}, 0, NULL},
    {"@islamic-state", {"BREAKING: IS CLAIMS ATTACK"}, 0, NULL},
    {"@islamic-state", {"US strikes IS targets"}, 1, "title 11-13 IS"},
    {"@islamic-state", {"US-LED COALITION: IS retreats"}, 1, "title 18-20 IS"},
    {"@islamic-state", {"Iraq: IS attack"}, 1, "title 6-8 IS"},
    {"@islamic-state", {"NEWS: IS"}, 1, "title 6-8 IS"},
    {"@usa", {"US TROOPS LEAVE"}, 1, "title 0-2 US"},
    /* ... unless the alias says case_sensitive: true */
    {"@isx", {"WHY IS THE ECONOMY SLOWING? MARKETS REACT"}, 1, "title 4-6 IS"},
    {"@isx", {"this is it"}, 0, NULL},
    /* aliases with their own case rule */
    {"@magazine", {"Read Us Weekly"}, 1, "title 5-7 Us"},
    {"@magazine", {"join us"}, 0, NULL},
    {"@magazine", {"JOIN US"}, 0, NULL},
    {"@nato", {"Nato allies"}, 1, "title 0-4 NATO"},
    {"@un", {"UN envoy"}, 1, "title 0-2 UN"},
    {"@un", {"un homme"}, 0, NULL},
    {"@un", {"the United Nations said"}, 1, "title 4-18 United Nations"},
    /* whole words */
    {"ball", {"football match"}, 0, NULL},
    {"ball", {"the ball."}, 1, "title 4-8 -"},
    {"ball", {"Ball-room"}, 1, NULL},
    {"foot", {"football"}, 0, NULL},
    /* phrases across punctuation and line breaks */
    {"\"islamic state\"", {NULL, "Islamic\nState"}, 1, "content 0-13 -"},
    {"\"islamic state\"", {NULL, "Islamic-State"}, 1, NULL},
    {"\"islamic state\"", {NULL, "Islamic. State"}, 1, NULL},
    {"\"islamic state\"", {NULL, "Islamic  \r\n  State"}, 1, NULL},
    {"\"islamic state\"", {NULL, "islamic new state"}, 0, NULL},
    {"\"islamic state\"", {"Islamic", "State"}, 0, NULL},
    {"\"data breach\"", {NULL, "a data—breach"}, 1, "content 2-15 -"},
    /* an apostrophe of any kind separates words */
    {"@iraq", {"Iraqʼs oil"}, 1, "title 0-4 Iraq"},
    {"\"O'Brien\"", {NULL, "OʼBrien said"}, 1, "content 0-8 -"},
    /* NEAR/n: at most n words between, either order, same field */
    {"coalition NEAR/3 iraq", {NULL, "coalition forces in northern Iraq"}, 1,
	"content 0-9 -|content 29-33 -"},
    {"coalition NEAR/2 iraq", {NULL, "coalition forces in northern Iraq"}, 0,
	NULL},
    {"coalition NEAR/3 iraq", {NULL, "Iraq said the coalition"}, 1, NULL},
    {"coalition NEAR/0 forces", {NULL, "coalition forces"}, 1, NULL},
    {"coalition NEAR/0 forces", {NULL, "coalition of forces"}, 0, NULL},
    {"coalition NEAR/5 iraq", {"coalition", "Iraq"}, 0, NULL},
    {"coalition NEAR/1 (@iraq OR @sudani)", {NULL, "coalition backs Sudani"}, 1,
	NULL},
    {"coalition NEAR/1 (@iraq OR @sudani)",
	{NULL, "coalition backs the Sudani plan"}, 0, NULL},
    {"a NEAR/1 b NEAR/1 c", {NULL, "a b c"}, 1, NULL},
    {"a NEAR/1 b NEAR/1 c", {NULL, "a b x y c"}, 0, NULL},
    /* ... at two places: one word is not both sides */
    {"iraq NEAR/3 iraq", {"Iraq talks"}, 0, NULL},
    {"iraq NEAR/3 iraq", {"Iraq and Iraq"}, 1, "title 0-4 -|title 9-13 -"},
    {"iraq NEAR/3 @iraq", {"Iraq talks"}, 0, NULL},
    {"iraq NEAR/3 @iraq", {"Iraq talks in Iraq"}, 1,
	"title 0-4 -|title 14-18 -"},
    {"coal* NEAR/0 coalition", {NULL, "the coalition"}, 0, NULL},
    {"coal* NEAR/0 coalition", {NULL, "coal coalition"}, 1,
	"content 0-4 -|content 5-14 -"},
    {"\"iraq war\" NEAR/2 war", {"the Iraq war"}, 0, NULL},
    {"\"iraq war\" NEAR/2 war", {"the Iraq war, a war"}, 1,
	"title 4-12 -|title 9-12 -|title 16-19 -"},
    {"a NEAR/1 a NEAR/1 a", {"a a"}, 0, NULL},
    {"a NEAR/1 a NEAR/1 a", {"a a a"}, 1, NULL},
    {"\"prime minister\" NEAR/2 @sudani",
	{NULL, "Prime Minister Mohammed Shia al-Sudani"}, 1, NULL},
    /* a side's places come term by term, not in the order of the text */
    {"a NEAR/1 (x OR y)", {"y a b c d e f x"}, 1, "title 0-1 -|title 2-3 -"},
    {"(x OR y) NEAR/1 a", {"y a b c d e f x y b a"}, 1,
	"title 0-1 -|title 2-3 -|title 16-17 -|title 20-21 -"},
    /* more places than a span set holds in itself (8), the near one
       among the first */
    {"a NEAR/1 b", {"x x x b x a a a a a a a a a"}, 1, NULL},
    /* windows found not in the order of the text, a hit between them
       that is in none */
    {"(x OR y) NEAR/1 a", {"y a b c x d e f x a"}, 1,
	"title 0-1 -|title 2-3 -|title 16-17 -|title 18-19 -"},
    /* NEAR hits are those inside the window */
    {"coalition NEAR/1 iraq",
	{NULL, "coalition ... far far far away ... coalition in Iraq"}, 1,
	"content 35-44 -|content 48-52 -"},
    /* prefixes */
    {"ransom*", {"Ransomware gang"}, 1, "title 0-10 -"},
    {"ransom*", {"ransom paid"}, 1, NULL},
    {"ransom*", {"transom"}, 0, NULL},
    {"ira*", {"Iraqi and Iranian"}, 1, "title 0-5 -|title 10-17 -"},
    /* prefixes of 2, 8 and more than 8 bytes (filtered by their first 8
     * bytes, masked to their length, and the length) */
    {"ir*", {"Iran"}, 1, "title 0-4 -"},
    {"terroris*", {"terrorism and terrorists"}, 1, "title 0-9 -|title 14-24 -"},
    {"terroris*", {"terror terrorise"}, 1, "title 7-16 -"},
    {"terroris*", {"terror"}, 0, NULL},
    {"counterterror*", {"Counterterrorism unit"}, 1, "title 0-16 -"},
    {"counterterror*", {"counterterm counterterro"}, 0, NULL},
    {"ir* AND counterterror* AND ransom*", {"Iran counterterrorism ransoms"}, 1,
	"title 0-4 -|title 5-21 -|title 22-29 -"},
    /* fields */
    {"title:sport", {"Sport news"}, 1, "title 0-5 -"},
    {"title:sport", {"News", "sport"}, 0, NULL},
    {"sport", {NULL, NULL, "sport in summary"}, 1, "summary 0-5 -"},
    {"sport", {NULL, NULL, NULL, "Sport"}, 0, NULL},
    {"author:doe", {NULL, NULL, NULL, "Jane Doe"}, 1, "author 5-8 -"},
    {"category:politics", {"x", NULL, NULL, NULL, "World|Politics"}, 1,
	"category 0-8 -"},
    {"category:\"world politics\"", {"x", NULL, NULL, NULL, "World|Politics"},
	0, NULL},
    {"link:iraq",
	{NULL, NULL, NULL, NULL, NULL,
	    "https://example.com/news/iraq-coalition"},
	1, "link 25-29 -"},
    {"feed:reuters", {"x", NULL, NULL, NULL, NULL, NULL, "Reuters World"}, 1,
	"feed 0-7 -"},
    {"title:(coalition OR alliance) iraq", {"The alliance", "in Iraq"}, 1,
	NULL},
    {"title:(coalition OR alliance) iraq", {"Iraq", "alliance"}, 0, NULL},
    /* a term read in some fields only: a hit elsewhere is no trigger,
     * but the same term read elsewhere by another leaf is */
    {"title:ceasefire OR summary:ceasefire", {"Talks", NULL, "ceasefire"}, 1,
	"summary 0-9 -"},
    {"title:ceasefire OR summary:ceasefire", {"Talks", "ceasefire"}, 0, NULL},
    {"title:iraq OR (@iraq AND talks)", {"Talks", "in Iraq"}, 1,
	"title 0-5 -|content 3-7 Iraq"},
    {"title:iraq OR (title:@iraq AND talks)", {"Talks", "in Iraq"}, 0, NULL},
    {"summary:@iraq", {"Iraq", NULL, "Iraqi"}, 1, "summary 0-5 Iraqi"},
    {"summary:@iraq", {"Iraq", "Iraqi"}, 0, NULL},
    {"title:sport talks", {"Talks", "sport talks"}, 0, NULL},
    /* the design's example, and negation */
    {"coalition AND (@iraq OR @sudani) NOT title:sport",
	{"Coalition strikes", "Iraqi forces joined"}, 1,
	"title 0-9 -|content 0-5 Iraqi"},
    {"coalition AND (@iraq OR @sudani) NOT title:sport",
	{"Sport: coalition cup", "in Iraq"}, 0, NULL},
    {"coalition AND (@iraq OR @sudani) NOT title:sport",
	{"Coalition", "sport in Iraq"}, 1, NULL},
    {"a -b", {"a"}, 1, NULL},
    {"a -b", {"a b"}, 0, NULL},
    {"a NOT (b OR c)", {"a c"}, 0, NULL},
    {"a NOT (b c)", {"a c"}, 1, NULL},
    {"a NOT NOT b", {"a"}, 0, NULL},
    {"a NOT NOT b", {"a b"}, 1, NULL},
    /* precedence: AND binds tighter than OR */
    {"a OR b c", {"a"}, 1, NULL},
    {"a OR b c", {"b"}, 0, NULL},
    {"a OR b c", {"c b"}, 1, NULL},
    {"(a OR b) c", {"a"}, 0, NULL},
    {"(a OR b) c", {"b c"}, 1, NULL},
    {"x (NOT a OR b)", {"x a b"}, 1, NULL},
    {"x (NOT a OR b)", {"x a"}, 0, NULL},
    {"x (NOT a OR b)", {"x"}, 1, NULL},
    /* accents, Greek, Cyrillic, Arabic */
    {"cafe", {"Café noir"}, 1, "title 0-5 -"},
    {"\"São Paulo\"", {"Sao Paulo floods"}, 1, NULL},
    {"\"Sao Paulo\"", {"SÃO PAULO"}, 1, "title 0-10 -"},
    {"@sao-paulo", {"Flooding in São Paulo"}, 1, "title 12-22 São Paulo"},
    {"@athens", {"ΑΘΗΝΑ: σεισμός"}, 1, "title 0-10 Αθήνα"},
    {"Αθήνα", {"στην αθηνα"}, 1, NULL},
    {"Οδυσσέας", {"ΟΔΥΣΣΕΑΣ"}, 1, NULL},
    {"Москва", {"МОСКВА, 5 мая"}, 1, "title 0-12 -"},
    {"@moscow", {"в Москве"}, 0, NULL},
    {"москв*", {"в Москве"}, 1, NULL},
    {"بغداد", {"انفجار في بَغْدَاد"}, 1, NULL},
    {"سوداني", {"قال السوداني"}, 1, NULL},
    {"السوداني", {"قال السوداني"}, 1, NULL},
    {"السوداني", {"قال سوداني"}, 0, NULL},
    {"Müller", {"MULLER"}, 1, NULL},
    {"Straße", {"STRASSE"}, 1, NULL},
    /* built-in countries: names, official names, demonyms */
    {"@iraq", {"Iraqis protest"}, 1, "title 0-6 Iraqis"},
    {"@iraq", {"the Republic of Iraq"}, 1, "title 4-20 Republic of Iraq"},
    {"@country:IQ", {"Iraq"}, 1, NULL},
    {"@country:iq", {"Iraqi"}, 1, NULL},
    {"@iraq", {"Iran"}, 0, NULL},
    {"@guinea", {"Papua New Guinea"}, 0, NULL},
    {"@guinea", {"Guinea and Papua New Guinea"}, 1, "title 0-6 Guinea"},
    {"@papua-new-guinea", {"Papua New Guinea"}, 1, NULL},
    {"@sudan", {"South Sudan"}, 0, NULL},
    {"@sudan", {"South Sudanese and Sudanese"}, 1, "title 19-27 Sudanese"},
    {"@united-states", {"US troops"}, 1, "title 0-2 US"},
    {"@united-states", {"join us"}, 0, NULL},
    {"@united-states", {"U.S. forces"}, 1, NULL},
    {"@united-states", {"Americans"}, 1, NULL},
    {"@united-kingdom", {"British officials"}, 1, NULL},
    {"@united-kingdom", {"British Virgin Islands"}, 0, NULL},
    {"@south-korea", {"North Korea"}, 0, NULL},
    /* longer names that hold a country's and are something else */
    {"@mexico", {"New Mexico governor"}, 0, NULL},
    {"@mexico", {"Mexico and New Mexico"}, 1, "title 0-6 Mexico"},
    {"@jersey", {"New Jersey"}, 0, NULL},
    {"@guinea", {"Guinea pigs of New Guinea"}, 0, NULL},
    {"@guinea", {"guinea fowl in Guinea"}, 1, "title 15-21 Guinea"},
    {"@india", {"storms in the Indian Ocean"}, 0, NULL},
    {"@india", {"Indian Ocean and Indian troops"}, 1, "title 17-23 Indian"},
    {"@india", {"American Indian tribes"}, 0, NULL},
    {"@united-states", {"American Indian tribes"}, 1,
	"title 0-15 American Indian"},
    {"@united-states", {"Latin American leaders"}, 0, NULL},
    {"@united-states", {"Central Americans and Americans"}, 1,
	"title 22-31 Americans"},
    {"@ireland", {"Northern Ireland assembly"}, 0, NULL},
    /* ISO's inverted names are no aliases: the comma is no word */
    {"@south-korea", {"North Korea, Republic of Korea"}, 1,
	"title 13-30 Republic of Korea"},
    {"@north-korea", {"North Korea, Republic of Korea"}, 1,
	"title 0-11 North Korea"},
    {"@south-korea", {"Korea, Republic of Ireland"}, 0, NULL},
    {"@us-virgin-islands", {NULL, "the Virgin Islands, U.S. Coast Guard said"},
	0, NULL},
    {"@united-states", {NULL, "the Virgin Islands, U.S. Coast Guard said"}, 1,
	"content 20-23 U.S."},
    {"@us-virgin-islands", {"U.S. Virgin Islands"}, 1, NULL},
    {"@british-virgin-islands", {"Virgin Islands, British officials say"}, 0,
	NULL},
    {"@united-kingdom", {"Virgin Islands, British officials say"}, 1,
	"title 16-23 British"},
    {"@iran", {"the Islamic Republic of Iran"}, 1,
	"title 4-28 Islamic Republic of Iran"},
    /* a demonym two countries share is neither's */
    {"@dominican-republic", {"Dominicans in Roseau"}, 0, NULL},
    {"@dominican-republic", {"the Dominican Republic"}, 1, NULL},
    {"@north-korea", {"DPRK"}, 1, NULL},
    {"@turkey", {"Türkiye"}, 1, NULL},
    {"@ivory-coast", {"Côte d’Ivoire"}, 1, NULL},
    {"@saint-lucia", {"St. Lucia"}, 1, NULL},
    /* user extensions of countries */
    {"@iraq", {"Mesopotamia"}, 1, "title 0-11 Mesopotamia"},
    {"@usa", {"American"}, 1, NULL},
    {"@usa", {"Yankees"}, 1, NULL},
    /* regexes run on the original text */
    {"/b[aeiou]t/i", {"BAT and bit"}, 1, "title 0-3 -|title 8-11 -"},
    {"/b[aeiou]t/", {"BAT"}, 0, NULL},
    {"/\\bCVE-\\d{4}-\\d+/", {NULL, "fixes CVE-2024-3094 now"}, 1,
	"content 6-19 -"},
    {"x NEAR/1 /y+/", {"x yyy"}, 1, NULL},
    {"/CVE-\\d+(-\\d+)?/", {NULL, "CVE-2024 and"}, 1, "content 0-8 -"},
    {"title:/^Breaking/", {"Breaking: news"}, 1, NULL},
    {"title:/^Breaking/", {"Not Breaking"}, 0, NULL},
    /* a word inside a longer alias still counts for the word, also when
     * it is what lets the rest of an AND be looked at */
    {"x AND (sudani OR y)", {"x: Mohammed Shia al-Sudani"}, 1,
	"title 0-1 -|title 20-26 -"},
    {"x AND (@sudani OR y)", {"x: Mohammed Shia al-Sudani"}, 1,
	"title 0-1 -|title 3-26 Mohammed Shia al-Sudani"},
};

static struct matcher *
test_matcher_new(int flags)
{
	struct matcher *m = matcher_new(flags);
	char *cause = NULL;

#define OK(x)                                                                  \
	do {                                                                   \
		if ((x) == -1)                                                 \
			fail_msg("%s: %s", #x, cause);                         \
	} while (0)
	OK(matcher_add_entity(
	    m, "sudani", "Mohammed Shia al-Sudani", NULL, &cause));
	OK(matcher_add_alias(
	    m, "sudani", "Mohamed Shia al-Sudani", MATCHER_CASE_AUTO, &cause));
	OK(matcher_add_alias(m, "sudani", "Sudani", MATCHER_CASE_AUTO, &cause));
	OK(matcher_add_alias(
	    m, "sudani", "Soudani", MATCHER_CASE_AUTO, &cause));
	OK(matcher_add_entity(m, "islamic-state", NULL, NULL, &cause));
	OK(matcher_add_alias(
	    m, "islamic-state", "Islamic State", MATCHER_CASE_AUTO, &cause));
	OK(matcher_add_alias(
	    m, "islamic-state", "ISIS", MATCHER_CASE_AUTO, &cause));
	OK(matcher_add_alias(
	    m, "islamic-state", "ISIL", MATCHER_CASE_AUTO, &cause));
	OK(matcher_add_alias(
	    m, "islamic-state", "Daesh", MATCHER_CASE_AUTO, &cause));
	OK(matcher_add_alias(
	    m, "islamic-state", "IS", MATCHER_CASE_AUTO, &cause));
	OK(matcher_add_entity(m, "isx", NULL, NULL, &cause));
	OK(matcher_add_alias(m, "isx", "IS", MATCHER_CASE_SENSITIVE, &cause));
	OK(matcher_add_entity(m, "magazine", NULL, NULL, &cause));
	OK(matcher_add_alias(
	    m, "magazine", "Us", MATCHER_CASE_SENSITIVE, &cause));
	OK(matcher_add_entity(m, "nato", NULL, NULL, &cause));
	OK(matcher_add_alias(
	    m, "nato", "NATO", MATCHER_CASE_INSENSITIVE, &cause));
	OK(matcher_add_entity(m, "un", "United Nations", NULL, &cause));
	OK(matcher_add_alias(m, "un", "UN", MATCHER_CASE_AUTO, &cause));
	OK(matcher_add_entity(m, "sao-paulo", "São Paulo", NULL, &cause));
	OK(matcher_add_entity(m, "athens", "Αθήνα", NULL, &cause));
	OK(matcher_add_entity(m, "moscow", "Москва", NULL, &cause));
	/* extend a built-in country by its key, and by its code */
	OK(matcher_add_entity(m, "iraq", NULL, NULL, &cause));
	OK(matcher_add_alias(
	    m, "iraq", "Mesopotamia", MATCHER_CASE_AUTO, &cause));
	OK(matcher_add_entity(m, "usa", NULL, "us", &cause));
	OK(matcher_add_alias(m, "usa", "Yankees", MATCHER_CASE_AUTO, &cause));
#undef OK
	return m;
}

static char **
test_split(const char *s, size_t *n)
{
	char **v = NULL, *copy, *p, *tok;

	*n = 0;
	if (s == NULL)
		return NULL;
	copy = strdup(s);
	for (tok = strtok_r(copy, "|", &p); tok != NULL;
	     tok = strtok_r(NULL, "|", &p)) {
		v = realloc(v, (*n + 1) * sizeof *v);
		v[(*n)++] = strdup(tok);
	}
	free(copy);
	return v;
}

static void
test_item_make(struct item *it, const struct test_item *t)
{
	memset(it, 0, sizeof *it);
	it->title_text = (char *)t->title;
	it->content_text = (char *)t->content;
	it->summary_text = (char *)t->summary;
	it->author = (char *)t->author;
	it->link = (char *)t->link;
	it->categories = test_split(t->categories, &it->ncategories);
}

static void
test_item_clean(struct item *it)
{
	size_t i;

	for (i = 0; i < it->ncategories; i++)
		free(it->categories[i]);
	free(it->categories);
}

static char *
test_hits(const struct matcher_match *mm)
{
	struct buf b;
	size_t i;

	buf_init(&b, 65536);
	for (i = 0; i < mm->nhits; i++)
		buf_printf(&b, "%s%s %zu-%zu %s", i > 0 ? "|" : "",
		    mm->hits[i].field, mm->hits[i].start, mm->hits[i].end,
		    mm->hits[i].alias ? mm->hits[i].alias : "-");
	return buf_take(&b, NULL);
}

static void
test_match_table_with(int flags)
{
	const struct match_case *c;
	struct matcher *m;
	struct matcher_result *res;
	struct item it;
	char *cause = NULL, *hits;
	size_t i, errpos;

	for (i = 0; i < sizeof match_cases / sizeof match_cases[0]; i++) {
		c = &match_cases[i];
		m = test_matcher_new(flags);
		if (matcher_add_watchlist(m, "w", c->query, &errpos, &cause) ==
		    -1)
			fail_msg("case %zu \"%s\": %s", i, c->query, cause);
		assert_int_equal(matcher_compile(m, NULL), 0);
		test_item_make(&it, &c->item);
		res = matcher_run(m, &it, c->item.feed, 0);
		if (res->nmatches != (size_t)c->matched)
			fail_msg("case %zu \"%s\" on \"%s\"/\"%s\": %s", i,
			    c->query, c->item.title ? c->item.title : "",
			    c->item.content ? c->item.content : "",
			    c->matched ? "no match" : "matched");
		if (c->matched) {
			assert_string_equal(res->matches[0].watchlist, "w");
			assert_true(res->matches[0].matched);
			assert_true(res->matches[0].nhits > 0);
		}
		if (c->matched && c->hits != NULL) {
			hits = test_hits(&res->matches[0]);
			if (strcmp(hits, c->hits) != 0)
				fail_msg("case %zu \"%s\": hits \"%s\", want "
					 "\"%s\"",
				    i, c->query, hits, c->hits);
			free(hits);
		}
		matcher_result_free(res);
		test_item_clean(&it);
		matcher_free(m);
	}
}

static void
test_match_table(void **state)
{
	test_match_table_with(0);
}

/* The same table with regexes interpreted: the path a hardened unit
 * that forbids writable executable memory takes. */
static void
test_match_table_nojit(void **state)
{
	test_match_table_with(MATCHER_NO_JIT);
}

static void
test_match_jit_used(void **state)
{
	struct matcher *m;
	uint32_t jit = 0;

	pcre2_config(PCRE2_CONFIG_JIT, &jit);
	m = matcher_new(MATCHER_NO_COUNTRIES);
	assert_int_equal(
	    matcher_add_watchlist(m, "w", "/a+b/ OR /c/i", NULL, NULL), 0);
	assert_int_equal(matcher_compile(m, NULL), 0);
	assert_int_equal(matcher_nregex_jit(m), jit ? 2 : 0);
	matcher_free(m);
	m = matcher_new(MATCHER_NO_COUNTRIES | MATCHER_NO_JIT);
	assert_int_equal(
	    matcher_add_watchlist(m, "w", "/a+b/ OR /c/i", NULL, NULL), 0);
	assert_int_equal(matcher_compile(m, NULL), 0);
	assert_int_equal(matcher_nregex_jit(m), 0);
	matcher_free(m);
}

/* A hit's full record: term as written, entity, alias, snippet. */
static void
test_match_hit_record(void **state)
{
	struct matcher *m = test_matcher_new(0);
	struct matcher_result *res;
	struct matcher_hit *h;
	struct item it = {0};
	char content[] = "In a statement on Tuesday, the office of Prime "
			 "Minister Mohammed Shia al-Sudani said that the\n"
			 "coalition would stay until the end of the year, "
			 "officials in Baghdad added.";

	assert_int_equal(matcher_add_watchlist(m, "iraq-coalition",
			     "coalition AND (@iraq OR @sudani)", NULL, NULL),
	    0);
	assert_int_equal(matcher_compile(m, NULL), 0);
	it.content_text = content;
	res = matcher_run(m, &it, NULL, 0);
	assert_int_equal(res->nmatches, 1);
	assert_int_equal(res->matches[0].nhits, 2);
	h = &res->matches[0].hits[0];
	assert_string_equal(h->term, "@sudani");
	assert_string_equal(h->entity, "sudani");
	assert_string_equal(h->alias, "Mohammed Shia al-Sudani");
	assert_string_equal(h->field, "content");
	assert_memory_equal(
	    content + h->start, "Mohammed Shia al-Sudani", h->end - h->start);
	assert_string_equal(h->snippet,
	    "In a statement on Tuesday, the office of Prime Minister \xc2\xab"
	    "Mohammed Shia al-Sudani\xc2\xbb said that the coalition would "
	    "stay until the end of the\xe2\x80\xa6");
	h = &res->matches[0].hits[1];
	assert_string_equal(h->term, "coalition");
	assert_null(h->entity);
	assert_null(h->alias);
	assert_memory_equal(content + h->start, "coalition", 9);
	matcher_result_free(res);
	matcher_free(m);
}

/* A snippet folds each run of white space into one space, in the fields
 * that have runs and not in those without, whatever their order. */
static void
test_match_snippet_spaces(void **state)
{
#define OPEN "\xc2\xab"
#define CLOSE "\xc2\xbb"
	static const char *const want[][2] = {
	    {"title", OPEN "In Iraq" CLOSE " the coalition"},
	    {"title", "In " OPEN "Iraq" CLOSE " the coalition"},
	    {"summary",
		"Talks " OPEN "in Iraq" CLOSE " go on, the coalition said"},
	    {"summary",
		"Talks in " OPEN "Iraq" CLOSE " go on, the coalition said"},
	    {"content", OPEN "Iraq" CLOSE " and \xc2\xa0so on"},
	};
#undef OPEN
#undef CLOSE
	struct matcher *m = test_matcher_new(0);
	struct matcher_result *res;
	struct item it = {0};
	size_t i;

	assert_int_equal(
	    matcher_add_watchlist(m, "w", "iraq OR \"in iraq\"", NULL, NULL),
	    0);
	assert_int_equal(matcher_compile(m, NULL), 0);
	it.title_text = (char *)"In Iraq the  coalition";
	it.summary_text =
	    (char *)"Talks\t\tin  Iraq go on,\r\nthe coalition said";
	/* no run of white space here: a non-breaking space is not one */
	it.content_text = (char *)"Iraq and \xc2\xa0so on";
	res = matcher_run(m, &it, NULL, 0);
	assert_int_equal(res->nmatches, 1);
	assert_int_equal(res->matches[0].nhits, 5);
	for (i = 0; i < 5; i++) {
		assert_string_equal(res->matches[0].hits[i].field, want[i][0]);
		assert_string_equal(
		    res->matches[0].hits[i].snippet, want[i][1]);
	}
	matcher_result_free(res);
	matcher_free(m);
}

/* M's one match of an item of title TEXT has one hit, of snippet WANT. */
static void
title_snippet_is(struct matcher *m, const char *text, const char *want)
{
	struct matcher_result *res;
	struct item it = {0};

	it.title_text = (char *)text;
	res = matcher_run(m, &it, NULL, 0);
	assert_int_equal(res->nmatches, 1);
	assert_string_equal(res->matches[0].hits[0].snippet, want);
	matcher_result_free(res);
}

/* The same at every offset of the run in the field, before the hit and
 * after it, in fields of every length up to 59 bytes (the field is
 * scanned sixteen bytes at a time, then eight, then one by one, and a
 * space carried from each to the next): two spaces, a tab, a CR, an
 * LF; and a control character, which is no white space, kept as it is. */
static void
test_match_snippet_runs(void **state)
{
	static const char *const runs[] = {"  ", "\t", "\r", "\n", "\x01"};
	static const char *const kept[] = {" ", " ", " ", " ", "\x01"};
	static const char *const a40 =
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	static const char *const d20 = "dddddddddddddddddddd";
	struct matcher *m = test_matcher_new(0);
	char text[96], want[160];
	size_t i, k, pad;

	assert_int_equal(matcher_add_watchlist(m, "w", "iraq", NULL, NULL), 0);
	assert_int_equal(matcher_compile(m, NULL), 0);
	for (i = 0; i < sizeof runs / sizeof runs[0]; i++)
		for (k = 0; k <= 30; k++)
			for (pad = 0; pad <= 20; pad++) {
				/* the run before the hit, at offset K */
				snprintf(text, sizeof text,
				    "%.*s%sb Iraq c%.*s", (int)k, a40, runs[i],
				    (int)pad, d20);
				snprintf(want, sizeof want,
				    "%.*s%sb \xc2\xab"
				    "Iraq\xc2\xbb c%.*s",
				    (int)k, a40, kept[i], (int)pad, d20);
				title_snippet_is(m, text, want);
				/* after it, at offset 6 + K */
				snprintf(text, sizeof text, "Iraq x%.*s%sb%.*s",
				    (int)k, a40, runs[i], (int)pad, d20);
				snprintf(want, sizeof want,
				    "\xc2\xab"
				    "Iraq\xc2\xbb x%.*s%sb%.*s",
				    (int)k, a40, kept[i], (int)pad, d20);
				title_snippet_is(m, text, want);
			}
	matcher_free(m);
}

/* A hit that ends where the field ends is marked, an empty one (after
 * a regex's \K) too. */
static void
test_match_snippet_end(void **state)
{
	struct matcher *m = test_matcher_new(0);
	struct matcher_result *res;
	struct item it = {0};

	assert_int_equal(matcher_add_watchlist(m, "w",
			     "/Iraq$/ OR /q\\K/ OR \"in iraq\"", NULL, NULL),
	    0);
	assert_int_equal(matcher_compile(m, NULL), 0);
	it.title_text = (char *)"Talks in Iraq";
	res = matcher_run(m, &it, NULL, 0);
	assert_int_equal(res->nmatches, 1);
	assert_int_equal(res->matches[0].nhits, 3);
	assert_string_equal(
	    res->matches[0].hits[0].snippet, "Talks \xc2\xabin Iraq\xc2\xbb");
	assert_string_equal(
	    res->matches[0].hits[1].snippet, "Talks in \xc2\xabIraq\xc2\xbb");
	assert_int_equal(res->matches[0].hits[2].start, 13);
	assert_int_equal(res->matches[0].hits[2].end, 13);
	assert_string_equal(
	    res->matches[0].hits[2].snippet, "Talks in Iraq\xc2\xab\xc2\xbb");
	matcher_result_free(res);
	matcher_free(m);
}

/* Several watchlists report the same hits: each hit keeps its own
 * snippet, and every watchlist that reports it gets that one. */
static void
test_match_shared_snippets(void **state)
{
	static const char *const queries[] = {
	    "coalition AND @iraq", "iraq", "baghdad OR coalition", "@iraq"};
#define OPEN "\xc2\xab"
#define CLOSE "\xc2\xbb"
#define MORE "\xe2\x80\xa6"
	static const char *const coalition1 =
	    "The " OPEN "coalition" CLOSE " met in Baghdad; Iraq said the "
	    "coalition would stay until" MORE;
	static const char *const baghdad =
	    "The coalition met in " OPEN "Baghdad" CLOSE "; Iraq said the "
	    "coalition would stay until the end of the" MORE;
	static const char *const iraq =
	    "The coalition met in Baghdad; " OPEN "Iraq" CLOSE " said the "
	    "coalition would stay until the end of the year," MORE;
	static const char *const coalition2 =
	    "The coalition met in Baghdad; Iraq said the " OPEN
	    "coalition" CLOSE " would stay until the end of the year, "
	    "officials added.";
#undef OPEN
#undef CLOSE
#undef MORE
	const char *const want[][3] = {
	    {coalition1, iraq, coalition2},
	    {iraq, NULL, NULL},
	    {coalition1, baghdad, coalition2},
	    {iraq, NULL, NULL},
	};
	struct matcher *m = matcher_new(0);
	struct matcher_result *res;
	struct item it = {0};
	char name[16];
	size_t i, j, k;

	for (i = 0; i < sizeof queries / sizeof queries[0]; i++) {
		snprintf(name, sizeof name, "w%zu", i);
		assert_int_equal(
		    matcher_add_watchlist(m, name, queries[i], NULL, NULL), 0);
	}
	assert_int_equal(matcher_compile(m, NULL), 0);
	it.content_text = (char *)"The coalition met in Baghdad; Iraq said "
				  "the coalition would stay until the end "
				  "of the year, officials added.";
	for (j = 0; j < 2; j++) { /* twice: nothing is kept between items */
		res = matcher_run(m, &it, NULL, 0);
		assert_int_equal(res->nmatches, 4);
		for (i = 0; i < res->nmatches; i++) {
			assert_int_equal(res->matches[i].watchlist_index, i);
			for (k = 0; k < 3 && want[i][k] != NULL; k++)
				assert_string_equal(
				    res->matches[i].hits[k].snippet,
				    want[i][k]);
			assert_int_equal(res->matches[i].nhits, k);
		}
		matcher_result_free(res);
	}
	matcher_free(m);
}

/* Near misses: which part failed. */
struct explain_case {
	const char *query;
	struct test_item item;
	const char *explain;
};

static const struct explain_case explain_cases[] = {
    {"coalition AND (@iraq OR @sudani) NOT title:sport",
	{"Sport: coalition cup", "in Iraq"},
	"'title:sport' is present and excluded by NOT (title 0-5)"},
    {"coalition AND (@iraq OR @sudani)", {"coalition talks"},
	"none of '(@iraq OR @sudani)' ('@iraq' not found; '@sudani' not "
	"found)"},
    {"title:coalition iraq", {"Iraq", "coalition"},
	"'title:coalition' found only in content"},
    {"coalition NEAR/2 iraq", {NULL, "coalition a b c d Iraq"},
	"'coalition' and 'iraq' found, but never within 2 words of each "
	"other"},
    {"iraq NEAR/3 @iraq", {"Iraq talks"},
	"'iraq' and '@iraq' found, but never within 3 words of each other"},
    {"@guinea papua", {"Papua New Guinea"},
	"'@guinea' found only as part of a longer name"},
};

static void
test_match_explain(void **state)
{
	struct matcher *m;
	struct matcher_result *res;
	struct item it;
	size_t i;
	char *cause = NULL;

	for (i = 0; i < sizeof explain_cases / sizeof explain_cases[0]; i++) {
		m = test_matcher_new(0);
		if (matcher_add_watchlist(
			m, "w", explain_cases[i].query, NULL, &cause) == -1)
			fail_msg("case %zu: %s", i, cause);
		assert_int_equal(matcher_compile(m, NULL), 0);
		test_item_make(&it, &explain_cases[i].item);
		res = matcher_run(m, &it, NULL, 0);
		assert_int_equal(res->nmatches, 0);
		matcher_result_free(res);
		res = matcher_run(m, &it, NULL, MATCHER_RUN_EXPLAIN);
		assert_int_equal(res->nmatches, 1);
		assert_false(res->matches[0].matched);
		if (strcmp(res->matches[0].explain, explain_cases[i].explain) !=
		    0)
			fail_msg("case %zu: explained \"%s\", want \"%s\"", i,
			    res->matches[0].explain, explain_cases[i].explain);
		assert_true(res->matches[0].nhits > 0);
		matcher_result_free(res);
		test_item_clean(&it);
		matcher_free(m);
	}
}

/* Query errors that need the matcher (entities, regexes, words). */
struct werror_case {
	const char *query;
	size_t pos;
	const char *message;
};

static const struct werror_case werror_cases[] = {
    {"a OR @nosuch", 6, "column 7: unknown entity \"nosuch\""},
    {"@country:XX", 1, "column 2: unknown country code \"XX\""},
    {"x /a(b/", 6, "column 7: bad regex: missing closing parenthesis"},
    {"/ab/q", 4, "column 5: unknown regex flag 'q'"},
    /* a regex that needs no text would hit every item */
    {"x /(CVE-\\d+)?/", 3, "column 4: the regex can match empty text"},
    {"/x*/", 1, "column 2: the regex can match empty text"},
    {"iraq NEAR/2 /\\b/", 13, "column 14: the regex can match empty text"},
    {"title:/^/m", 7, "column 8: the regex can match empty text"},
    {"a*", 0, "column 1: a prefix needs at least 2 letters"},
    {"al-sud*", 0, "a prefix must be one word"},
    {"!!!", 0, "column 1: \"!!!\" has no letters or digits"},
    {"a \"...\"", 3, "has no letters or digits"},
    {"NOT a", 0, "needs a term that must be present"},
    {"-a -b", 0, "needs a term that must be present"},
    {"a OR -b", 0, "needs a term that must be present"},
    {"a (b", 4, "expected ')'"},
};

static void
test_match_errors(void **state)
{
	struct matcher *m = test_matcher_new(0);
	char *cause;
	size_t i, pos;

	for (i = 0; i < sizeof werror_cases / sizeof werror_cases[0]; i++) {
		cause = NULL;
		pos = 9999;
		if (matcher_add_watchlist(
			m, "w", werror_cases[i].query, &pos, &cause) == 0)
			fail_msg("case %zu \"%s\": accepted", i,
			    werror_cases[i].query);
		if (strstr(cause, werror_cases[i].message) == NULL ||
		    pos != werror_cases[i].pos)
			fail_msg("case %zu \"%s\": %zu \"%s\", want %zu \"%s\"",
			    i, werror_cases[i].query, pos, cause,
			    werror_cases[i].pos, werror_cases[i].message);
		free(cause);
	}
	assert_int_equal(matcher_nwatchlists(m), 0);
	assert_int_equal(matcher_add_watchlist(m, "w", "a", NULL, NULL), 0);
	cause = NULL;
	assert_int_equal(matcher_add_watchlist(m, "w", "b", NULL, &cause), -1);
	assert_non_null(strstr(cause, "already exists"));
	free(cause);
	assert_int_equal(
	    matcher_add_entity(m, "bad key", NULL, NULL, &cause), -1);
	free(cause);
	assert_int_equal(matcher_add_entity(m, "x", NULL, "QQ", &cause), -1);
	assert_non_null(strstr(cause, "not a built-in country"));
	free(cause);
	assert_int_equal(
	    matcher_add_alias(m, "nosuch", "x", MATCHER_CASE_AUTO, &cause), -1);
	free(cause);
	assert_int_equal(
	    matcher_add_alias(m, "un", "...", MATCHER_CASE_AUTO, &cause), -1);
	free(cause);
	matcher_free(m);
}

/* Only watchlists whose terms were hit are decided, and several
 * watchlists sharing terms each get their result. */
static void
test_match_many_watchlists(void **state)
{
	struct matcher *m = matcher_new(0);
	struct matcher_result *res;
	struct item it = {0};
	char name[32], query[64];
	int i;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "w%d", i);
		snprintf(
		    query, sizeof query, "term%d AND (shared OR @iraq)", i);
		assert_int_equal(
		    matcher_add_watchlist(m, name, query, NULL, NULL), 0);
	}
	assert_int_equal(matcher_compile(m, NULL), 0);
	it.title_text = (char *)"term7 and term999 shared, term500 in Iraq";
	res = matcher_run(m, &it, NULL, 0);
	assert_int_equal(res->nmatches, 3);
	assert_string_equal(res->matches[0].watchlist, "w7");
	assert_string_equal(res->matches[1].watchlist, "w500");
	assert_string_equal(res->matches[2].watchlist, "w999");
	matcher_result_free(res);
	/* near misses: every watchlist with "shared", "Iraq" or its term */
	res = matcher_run(m, &it, NULL, MATCHER_RUN_EXPLAIN);
	assert_int_equal(res->nmatches, 1000);
	matcher_result_free(res);
	it.title_text = (char *)"nothing here";
	res = matcher_run(m, &it, NULL, MATCHER_RUN_EXPLAIN);
	assert_int_equal(res->nmatches, 0);
	matcher_result_free(res);
	matcher_free(m);
}

static void
test_match_same(const struct matcher_match *a, const struct matcher_match *b,
    const char *query, size_t item)
{
	const struct matcher_hit *x, *y;
	size_t i;

#define SAME_STR(s, t)                                                         \
	do {                                                                   \
		if (((s) == NULL) != ((t) == NULL) ||                          \
		    ((s) != NULL && strcmp((s), (t)) != 0))                    \
			fail_msg(                                              \
			    "\"%s\" on item %zu: %s \"%s\", alone \"%s\"",     \
			    query, item, #s, (s) ? (s) : "(null)",             \
			    (t) ? (t) : "(null)");                             \
	} while (0)
	assert_int_equal(a->matched, b->matched);
	assert_int_equal(a->nhits, b->nhits);
	assert_int_equal(a->nhits_total, b->nhits_total);
	SAME_STR(a->explain, b->explain);
	for (i = 0; i < a->nhits; i++) {
		x = &a->hits[i];
		y = &b->hits[i];
		SAME_STR(x->term, y->term);
		SAME_STR(x->entity, y->entity);
		SAME_STR(x->alias, y->alias);
		SAME_STR(x->field, y->field);
		SAME_STR(x->snippet, y->snippet);
		assert_int_equal(x->category, y->category);
		assert_int_equal(x->start, y->start);
		assert_int_equal(x->end, y->end);
	}
#undef SAME_STR
}

/*
 * Every watchlist of the tables at once, over every item of the tables:
 * each reports what it reports alone (hits, offsets, snippets, near
 * misses), though the watchlists share patterns, hits and snippets and
 * are found through one another's triggers and guards.
 */
static void
test_match_together(void **state)
{
	size_t nmatch = sizeof match_cases / sizeof match_cases[0];
	size_t nexplain = sizeof explain_cases / sizeof explain_cases[0];
	size_t n = nmatch + nexplain, i, j, k;
	const struct test_item
	    *items[sizeof match_cases / sizeof match_cases[0] +
		sizeof explain_cases / sizeof explain_cases[0]];
	const char *queries[sizeof items / sizeof items[0]];
	struct matcher *all = test_matcher_new(0), **alone;
	struct matcher_result *res, *one;
	const struct matcher_match *mm;
	struct item it;
	char name[16];
	int flags;

	alone = calloc(n, sizeof *alone);
	for (i = 0; i < n; i++) {
		queries[i] = i < nmatch ? match_cases[i].query
					: explain_cases[i - nmatch].query;
		items[i] = i < nmatch ? &match_cases[i].item
				      : &explain_cases[i - nmatch].item;
		snprintf(name, sizeof name, "w%zu", i);
		assert_int_equal(
		    matcher_add_watchlist(all, name, queries[i], NULL, NULL),
		    0);
		alone[i] = test_matcher_new(0);
		assert_int_equal(matcher_add_watchlist(
				     alone[i], "w", queries[i], NULL, NULL),
		    0);
		assert_int_equal(matcher_compile(alone[i], NULL), 0);
	}
	assert_int_equal(matcher_compile(all, NULL), 0);
	for (flags = 0; flags <= MATCHER_RUN_EXPLAIN;
	     flags += MATCHER_RUN_EXPLAIN) {
		for (i = 0; i < n; i++) {
			test_item_make(&it, items[i]);
			res = matcher_run(all, &it, items[i]->feed, flags);
			for (j = 0, k = 0; j < n; j++) {
				one = matcher_run(
				    alone[j], &it, items[i]->feed, flags);
				mm = k < res->nmatches &&
					res->matches[k].watchlist_index == j
				    ? &res->matches[k++]
				    : NULL;
				/* A near miss may be reported together
				 * only: alone, fields that no watchlist
				 * reads are not scanned. */
				if ((mm != NULL) != (one->nmatches == 1) &&
				    !(mm != NULL && !mm->matched))
					fail_msg("\"%s\" on item %zu: %s",
					    queries[j], i,
					    mm != NULL
						? "reported together only"
						: "reported alone only");
				if (mm != NULL && one->nmatches == 1)
					test_match_same(mm, &one->matches[0],
					    queries[j], i);
				matcher_result_free(one);
			}
			assert_int_equal(k, res->nmatches);
			matcher_result_free(res);
			test_item_clean(&it);
		}
	}
	for (i = 0; i < n; i++)
		matcher_free(alone[i]);
	free(alone);
	matcher_free(all);
}

/* Hostile sizes: a long item full of hits stays bounded. */
static void
test_match_many_hits(void **state)
{
	struct matcher *m = matcher_new(MATCHER_NO_COUNTRIES);
	struct matcher_result *res;
	struct item it = {0};
	size_t n = 400000, i;
	char *text = malloc(n * 2 + 1);

	for (i = 0; i < n; i++) {
		text[2 * i] = 'a';
		text[2 * i + 1] = ' ';
	}
	text[2 * n] = '\0';
	assert_int_equal(
	    matcher_add_watchlist(m, "w", "a NEAR/1000 a OR /a/", NULL, NULL),
	    0);
	assert_int_equal(matcher_compile(m, NULL), 0);
	it.content_text = text;
	res = matcher_run(m, &it, NULL, 0);
	assert_int_equal(res->nmatches, 1);
	assert_true(res->truncated);
	assert_true(res->matches[0].nhits <= 50);
	assert_true(res->matches[0].nhits_total > 50);
	matcher_result_free(res);
	matcher_free(m);
	free(text);
}

/* A compiled matcher without countries, of watchlists w0, w1, ... for
 * QUERIES (NULL-terminated). */
static struct matcher *
test_matcher_of(const char *const *queries)
{
	struct matcher *m = matcher_new(MATCHER_NO_COUNTRIES);
	char name[32];
	size_t i;

	for (i = 0; queries[i] != NULL; i++) {
		snprintf(name, sizeof name, "w%zu", i);
		assert_int_equal(
		    matcher_add_watchlist(m, name, queries[i], NULL, NULL), 0);
	}
	assert_int_equal(matcher_compile(m, NULL), 0);
	return m;
}

/* The result of M on IT, which is not cut short and has NMATCHES. */
static struct matcher_result *
test_run_whole(struct matcher *m, const struct item *it, size_t nmatches)
{
	struct matcher_result *res = matcher_run(m, it, NULL, 0);

	assert_false(res->truncated);
	assert_int_equal(res->nmatches, nmatches);
	return res;
}

/*
 * NEAR finds its places however late in a field: a regex's after many
 * other matches (they were cut at 64, and all count in the total), and
 * "said ... Iraq" after thousands of "said" (4096 places were kept).
 */
static void
test_match_near_late(void **state)
{
	struct matcher *m =
	    test_matcher_of((const char *const[]){"/\\d+/ NEAR/1 killed",
		"/\\d+/", "said NEAR/1 iraq", "iraq NEAR/0 said", NULL});
	struct matcher_result *res;
	struct item it = {0};
	struct buf b;
	size_t i, at;

	buf_init(&b, 1024 * 1024);
	buf_addstr(&b, "Figures:");
	for (i = 1; i <= 80; i++)
		buf_printf(&b, " %zu,", i);
	at = b.len + strlen(" The attack killed ");
	buf_addstr(&b, " The attack killed 12 people.");
	it.summary_text = (char *)buf_str(&b);
	res = test_run_whole(m, &it, 2);
	assert_string_equal(res->matches[0].watchlist, "w0");
	assert_int_equal(res->matches[0].nhits, 2);
	assert_string_equal(res->matches[0].hits[0].term, "killed");
	assert_string_equal(res->matches[0].hits[1].term, "/\\d+/");
	assert_int_equal(res->matches[0].hits[1].start, at);
	assert_int_equal(res->matches[0].hits[1].end, at + 2);
	assert_string_equal(res->matches[1].watchlist, "w1");
	assert_int_equal(res->matches[1].nhits, 50);
	assert_int_equal(res->matches[1].nhits_total, 81);
	matcher_result_free(res);

	buf_reset(&b);
	for (i = 0; i < 6000; i++)
		buf_addstr(&b, "He said so. ");
	at = b.len + strlen("Officials ");
	buf_addstr(&b, "Officials said Iraq would stay.");
	it.summary_text = (char *)buf_str(&b);
	res = test_run_whole(m, &it, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(res->matches[i].watchlist_index, 2 + i);
		assert_int_equal(res->matches[i].nhits, 2);
		assert_int_equal(res->matches[i].hits[0].start, at);
		assert_int_equal(res->matches[i].hits[1].start, at + 5);
	}
	matcher_result_free(res);
	matcher_free(m);
	buf_free(&b);
}

/* Empty regex matches (\\K) one after another: each is a hit, none
 * skipped by stepping past where the next begins. */
static void
test_match_regex_empty_steps(void **state)
{
	struct matcher *m =
	    test_matcher_of((const char *const[]){"/a\\K/", NULL});
	static const size_t want[] = {1, 2, 6, 7, 8};
	struct matcher_result *res;
	struct item it = {0};
	size_t i;

	it.title_text = (char *)"aa b aaa";
	res = test_run_whole(m, &it, 1);
	assert_int_equal(res->matches[0].nhits, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(res->matches[0].hits[i].start, want[i]);
		assert_int_equal(res->matches[0].hits[i].end, want[i]);
	}
	matcher_result_free(res);
	matcher_free(m);
}

/*
 * A side of NEAR that spans the field (a regex ending in ".*") is near
 * every place of the other: past a bound of pairs the item is noted as
 * cut short (a hostile item held the loop for seconds), and what was
 * found before stands.
 */
static void
test_match_near_bound(void **state)
{
	struct matcher *m = test_matcher_of(
	    (const char *const[]){"x NEAR/0 (q OR /x(?s:.*)/ OR x)", NULL});
	struct matcher_result *res;
	struct item it = {0};
	struct buf b;
	size_t i;

	buf_init(&b, 1024 * 1024);
	for (i = 0; i < 45000; i++)
		buf_addstr(&b, "x ");
	it.summary_text = (char *)buf_str(&b);
	res = matcher_run(m, &it, NULL, 0);
	assert_true(res->truncated);
	assert_int_equal(res->nmatches, 1);
	matcher_result_free(res);
	/* a small item is whole */
	it.summary_text = (char *)"x x";
	res = test_run_whole(m, &it, 1);
	matcher_result_free(res);
	matcher_free(m);
	buf_free(&b);
}

/*
 * A token with more prefix patterns than a token may report (256): the
 * result says it was cut, and 256 of them match, whether the token is a
 * word of the dictionary (its prefixes were found when compiled) or not
 * (they are looked up during the scan).
 */
static void
test_match_prefix_cap(void **state)
{
	struct matcher *m;
	struct matcher_result *res;
	struct item it = {0};
	char name[32], query[320], word[301];
	int i, dict;

	memset(word, 'a', 300);
	word[300] = '\0';
	for (dict = 0; dict < 2; dict++) {
		m = matcher_new(MATCHER_NO_COUNTRIES);
		for (i = 2; i <= 300; i++) {
			snprintf(name, sizeof name, "p%03d", i);
			snprintf(query, sizeof query, "%.*s*", i, word);
			assert_int_equal(
			    matcher_add_watchlist(m, name, query, NULL, NULL),
			    0);
		}
		if (dict)
			assert_int_equal(
			    matcher_add_watchlist(m, "word", word, NULL, NULL),
			    0);
		assert_int_equal(matcher_compile(m, NULL), 0);
		it.title_text = word;
		res = matcher_run(m, &it, NULL, 0);
		assert_true(res->truncated);
		assert_int_equal(res->nmatches, 256 + dict);
		assert_string_equal(res->matches[0].watchlist, "p002");
		matcher_result_free(res);
		matcher_free(m);
	}
}

/*
 * The prefix patterns of tokens the dictionary does not hold, found
 * again item after item (the matcher keeps the last ones it found, by
 * hash): every prefix of 2 to 9 bytes over "p" and {a, b} is a
 * watchlist, and 3,000 words of 3 to 40 bytes (more than the places
 * kept, so that words share them; some long, some with many prefixes)
 * come back in 300 items. Each watchlist must count, in each item, as
 * many hits as the item has words that start with its prefix.
 */
#define PM_WORDS 3000
#define PM_ITEM_WORDS 40
static void
test_match_prefix_again(void **state)
{
	static char words[PM_WORDS][41];
	char text[PM_ITEM_WORDS * 42], name[16], query[16];
	const char *in[PM_ITEM_WORDS];
	struct matcher *m = matcher_new(MATCHER_NO_COUNTRIES);
	struct matcher_result *res;
	struct item it = {0};
	uint64_t seed = 7;
	size_t i, j, k, len, nwl = 0, want, pos, got, nmatched;
	char prefixes[1024][10];

	for (len = 1; len <= 8; len++)
		for (i = 0; i < (size_t)1 << len; i++) {
			prefixes[nwl][0] = 'p';
			for (j = 0; j < len; j++)
				prefixes[nwl][1 + j] =
				    (char)('a' + (i >> j & 1));
			prefixes[nwl][1 + len] = '\0';
			snprintf(name, sizeof name, "w%zu", nwl);
			snprintf(query, sizeof query, "%s*", prefixes[nwl]);
			assert_int_equal(
			    matcher_add_watchlist(m, name, query, NULL, NULL),
			    0);
			nwl++;
		}
	assert_int_equal(matcher_compile(m, NULL), 0);
	for (i = 0; i < PM_WORDS; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		len = 3 + (seed >> 33) % 38;
		words[i][0] = 'p';
		for (j = 1; j < len; j++) {
			seed = seed * 6364136223846793005ULL +
			    1442695040888963407ULL;
			words[i][j] = (char)('a' + (seed >> 40) % 2);
		}
		words[i][len] = '\0';
	}
	it.title_text = text;
	for (k = 0; k < 300; k++) {
		pos = 0;
		for (i = 0; i < PM_ITEM_WORDS; i++) {
			seed = seed * 6364136223846793005ULL +
			    1442695040888963407ULL;
			in[i] = words[(seed >> 33) % PM_WORDS];
			pos += (size_t)snprintf(text + pos, sizeof text - pos,
			    "%s%s", i ? " " : "", in[i]);
		}
		res = matcher_run(m, &it, NULL, 0);
		assert_false(res->truncated);
		nmatched = 0;
		for (j = 0; j < nwl; j++) {
			len = strlen(prefixes[j]);
			want = 0;
			for (i = 0; i < PM_ITEM_WORDS; i++)
				want += strncmp(in[i], prefixes[j], len) == 0;
			got = nmatched < res->nmatches &&
				res->matches[nmatched].watchlist_index == j
			    ? res->matches[nmatched++].nhits_total
			    : 0;
			if (got != want)
				fail_msg("item %zu, %s*: %zu hits, not %zu", k,
				    prefixes[j], got, want);
		}
		assert_int_equal(nmatched, res->nmatches);
		matcher_result_free(res);
	}
	matcher_free(m);
}

/*
 * Tokens that share a place in the matcher's memo of unknown tokens
 * and differ in one byte (the first, one in the middle or the last):
 * each word W is the watchlist "W*", and an item holding the twins in
 * turn must give each watchlist its own word's hits, on a first run and
 * on a second. Then two tokens longer than the memo keeps, the same in
 * their first 32 bytes and of one place, one of them under a prefix of
 * 33 bytes.
 */
#define TW_PAIRS 7
static void
test_match_prefix_twins(void **state)
{
	static const size_t lens[3] = {3, 10, 32};
	char words[2 * TW_PAIRS + 2][41], text[2 * (2 * TW_PAIRS + 2) * 42],
	    query[48], name[24];
	struct automaton *hasher = automaton_new();
	struct matcher *m = matcher_new(MATCHER_NO_COUNTRIES);
	struct matcher_result *res;
	struct item it = {0};
	uint64_t seed = 3;
	size_t np = 0, len, at, i, j, k, run, pos, want, got, nmatched, nwords;
	char c;

#define TW_SLOT(w, l) matcher_pmemo_slot(automaton_prefetch(hasher, w, l))
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3 && (j == 0 || lens[i] > 3); j++) {
			len = lens[i];
			at = j == 0 ? 0 : j == 1 ? len / 2 : len - 1;
			for (;;) { /* a word, and a twin of the same place */
				for (k = 0; k < len; k++) {
					seed = seed * 6364136223846793005ULL +
					    1442695040888963407ULL;
					words[2 * np][k] =
					    (char)('a' + (seed >> 33) % 26);
				}
				words[2 * np][len] = '\0';
				memcpy(
				    words[2 * np + 1], words[2 * np], len + 1);
				for (c = 'a'; c <= 'z'; c++) {
					if (c == words[2 * np][at])
						continue;
					words[2 * np + 1][at] = c;
					if (TW_SLOT(words[2 * np], len) ==
					    TW_SLOT(words[2 * np + 1], len))
						break;
				}
				if (c <= 'z')
					break;
			}
			np++;
		}
	assert_int_equal(np, TW_PAIRS);
	for (i = 0; i < 2 * np; i++) {
		snprintf(name, sizeof name, "w%zu", i);
		snprintf(query, sizeof query, "%.40s*", words[i]);
		assert_int_equal(
		    matcher_add_watchlist(m, name, query, NULL, NULL), 0);
	}
	/* longer than the memo keeps: a prefix of 33 bytes, a token of 37
	 * under it and one that is not, the same in their first 32 bytes,
	 * and of one place */
	memset(words[2 * np], 'l', 33);
	memcpy(words[2 * np] + 33, "abcd", 5);
	assert_int_equal(matcher_add_watchlist(m, "long",
			     "lllllllllllllllllllllllllllllllll*", NULL, NULL),
	    0);
	memcpy(words[2 * np + 1], words[2 * np], 38);
	words[2 * np + 1][32] = 'm';
	for (k = 0; k < 26 * 26 * 26 * 26; k++) {
		for (i = 0, j = k; i < 4; i++, j /= 26)
			words[2 * np + 1][33 + i] = (char)('a' + j % 26);
		if (TW_SLOT(words[2 * np], 37) ==
		    TW_SLOT(words[2 * np + 1], 37))
			break;
	}
	assert_true(k < 26 * 26 * 26 * 26);
	nwords = 2 * np + 2;
	assert_int_equal(matcher_compile(m, NULL), 0);
	pos = 0;
	for (k = 0; k < 2; k++)
		for (i = 0; i < nwords; i += 2)
			pos += (size_t)snprintf(text + pos, sizeof text - pos,
			    "%s %s ", words[i], words[i + 1]);
	it.title_text = text;
	for (run = 0; run < 2; run++) {
		res = matcher_run(m, &it, NULL, 0);
		nmatched = 0;
		for (j = 0; j < 2 * np + 1; j++) {
			const char *pre = j < 2 * np ? words[j] : words[2 * np];
			size_t plen = j < 2 * np ? strlen(pre) : 33;

			want = 0;
			for (i = 0; i < nwords; i++)
				want += 2 * (strncmp(words[i], pre, plen) == 0);
			got = nmatched < res->nmatches &&
				res->matches[nmatched].watchlist_index == j
			    ? res->matches[nmatched++].nhits_total
			    : 0;
			if (got != want)
				fail_msg("run %zu, %.*s*: %zu hits, not %zu",
				    run, (int)plen, pre, got, want);
		}
		assert_int_equal(nmatched, res->nmatches);
		matcher_result_free(res);
	}
#undef TW_SLOT
	matcher_free(m);
	automaton_free(hasher);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match_table),
	    cmocka_unit_test(test_match_table_nojit),
	    cmocka_unit_test(test_match_jit_used),
	    cmocka_unit_test(test_match_hit_record),
	    cmocka_unit_test(test_match_shared_snippets),
	    cmocka_unit_test(test_match_snippet_spaces),
	    cmocka_unit_test(test_match_snippet_runs),
	    cmocka_unit_test(test_match_snippet_end),
	    cmocka_unit_test(test_match_explain),
	    cmocka_unit_test(test_match_errors),
	    cmocka_unit_test(test_match_many_watchlists),
	    cmocka_unit_test(test_match_together),
	    cmocka_unit_test(test_match_many_hits),
	    cmocka_unit_test(test_match_near_late),
	    cmocka_unit_test(test_match_near_bound),
	    cmocka_unit_test(test_match_regex_empty_steps),
	    cmocka_unit_test(test_match_prefix_cap),
	    cmocka_unit_test(test_match_prefix_again),
	    cmocka_unit_test(test_match_prefix_twins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

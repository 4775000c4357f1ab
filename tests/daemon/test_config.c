/* config: the documented shape loads; every kind of mistake is reported
 * with its file:line:column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "units.h"

static const char good[] =
    "store: /tmp/fw/state.db\n"
    "defaults: {interval: 15m, timeout: 20s}\n"
    "feeds:\n"
    "  - url: https://english.ahram.org.eg/rss/world\n"
    "    name: Ahram Online World\n"
    "    interval: 5m\n"
    "    tags: [middle-east, world]\n"
    "  - url: http://example.com/feed.xml\n"
    "  - url: file:local/feed.xml\n"
    "    tags: local\n"
    "entities:\n"
    "  sudani:\n"
    "    name: Mohammed Shia al-Sudani\n"
    "    aliases: [Mohamed Shia al-Sudani, Sudani, Soudani]\n"
    "  islamic-state:\n"
    "    aliases: [Islamic State, ISIS, ISIL, Daesh, IS]\n"
    "watchlists:\n"
    "  iraq-coalition:\n"
    "    match: 'coalition AND (@iraq OR @sudani) NOT title:sport'\n"
    "    feeds: [middle-east, Ahram Online World]\n"
    "    notify: [ops-webhook, log]\n"
    "notifiers:\n"
    "  ops-webhook:\n"
    "    type: webhook\n"
    "    url: https://hooks.example.com/x\n"
    "  log: {type: syslog, ident: feedwatch}\n";

/* PATH's configuration YAML, which must load. */
static struct config *
parse_ok(const char *path, const char *yaml)
{
	char *cause;
	struct config *cf = config_parse(path, yaml, strlen(yaml), &cause);

	if (cf == NULL)
		fail_msg("%s", cause);
	return cf;
}

static void
test_good(void **state)
{
	struct config *cf;
	const struct config_option *opt;

	cf = parse_ok("/etc/fw/good.yaml", good);
	assert_string_equal(cf->store_path, "/tmp/fw/state.db");
	assert_int_equal(cf->default_interval_ms, 15 * 60 * 1000);
	assert_int_equal(cf->default_timeout_ms, 20 * 1000);
	assert_int_equal(cf->nfeeds, 3);
	assert_string_equal(cf->feeds[0].name, "Ahram Online World");
	assert_int_equal(cf->feeds[0].interval_ms, 5 * 60 * 1000);
	assert_int_equal(cf->feeds[0].timeout_ms, 20 * 1000);
	assert_int_equal(cf->feeds[0].ntags, 2);
	assert_string_equal(cf->feeds[0].tags[1], "world");
	assert_int_equal(cf->feeds[0].mark.line, 4);
	/* Without a name, the URL names the feed; defaults apply. */
	assert_string_equal(cf->feeds[1].name, "http://example.com/feed.xml");
	assert_int_equal(cf->feeds[1].interval_ms, 15 * 60 * 1000);
	/* "file:relative" is anchored at the configuration's folder. */
	assert_string_equal(cf->feeds[2].url, "file:///etc/fw/local/feed.xml");
	assert_int_equal(cf->feeds[2].ntags, 1);
	assert_int_equal(cf->nentities, 2);
	assert_string_equal(cf->entities[0].key, "sudani");
	assert_int_equal(cf->entities[0].naliases, 3);
	assert_string_equal(cf->entities[0].aliases[2], "Soudani");
	assert_null(cf->entities[1].name);
	assert_string_equal(cf->entities[1].aliases[4], "IS");
	assert_int_equal(cf->nwatchlists, 1);
	assert_string_equal(cf->watchlists[0].match,
	    "coalition AND (@iraq OR @sudani) NOT title:sport");
	assert_int_equal(cf->watchlists[0].match_mark.line, 19);
	assert_int_equal(cf->watchlists[0].match_mark.column, 12);
	assert_int_equal(cf->watchlists[0].nnotify, 2);
	assert_int_equal(cf->nnotifiers, 2);
	assert_int_equal(cf->notifiers[0].type, CONFIG_NOTIFIER_WEBHOOK);
	opt = config_notifier_option(&cf->notifiers[0], "url");
	assert_non_null(opt);
	assert_string_equal(opt->value, "https://hooks.example.com/x");
	assert_null(config_notifier_option(&cf->notifiers[0], "secret"));
	assert_int_equal(cf->notifiers[1].type, CONFIG_NOTIFIER_SYSLOG);
	config_free(cf);
}

static void
test_fetch_and_feed_options(void **state)
{
	static const char yaml[] =
	    "fetch: {block_private_addresses: false, max_connections: 8,\n"
	    "        max_connections_per_host: 1, max_body: 2MiB,\n"
	    "        user_agent: 'fw-test/1', parse_threads: 3}\n"
	    "feeds:\n"
	    "  - url: https://intranet.example/feed\n"
	    "    allow_private: yes\n"
	    "    headers: ['X-Token: abc', 'Accept: application/rss+xml']\n"
	    "    username: reader\n"
	    "    password_env: FEED_PASSWORD\n"
	    "    ca_file: /etc/ssl/private-ca.pem\n"
	    "  - url: https://a.example/feed\n"
	    "    proxy: proxy.example:3128\n"
	    "  - url: https://b.example/feed\n"
	    "    proxy: socks5h://user:pw@127.0.0.1:9050\n"
	    "watchlists:\n"
	    "  w: {match: a, severity: high, updates: true}\n";
	struct config *cf;
	char *cause;

	cf = parse_ok("/c/t.yaml", yaml);
	assert_false(cf->block_private_addresses);
	assert_int_equal(cf->max_connections, 8);
	assert_int_equal(cf->max_connections_per_host, 1);
	assert_int_equal(cf->max_body, 2 * 1024 * 1024);
	assert_string_equal(cf->user_agent, "fw-test/1");
	assert_int_equal(cf->parse_threads, 3);
	assert_true(cf->feeds[0].allow_private);
	assert_int_equal(cf->feeds[0].nheaders, 2);
	assert_string_equal(cf->feeds[0].headers[0], "X-Token: abc");
	assert_string_equal(cf->feeds[0].username, "reader");
	assert_string_equal(cf->feeds[0].password_env, "FEED_PASSWORD");
	/* a proxy without a scheme is an http one, as libcurl reads it */
	assert_string_equal(cf->feeds[1].proxy, "proxy.example:3128");
	assert_string_equal(
	    cf->feeds[2].proxy, "socks5h://user:pw@127.0.0.1:9050");
	assert_string_equal(cf->watchlists[0].severity, "high");
	assert_true(cf->watchlists[0].updates);
	config_free(cf);

	/* The defaults: private addresses blocked, 32 and 2 connections. */
	cf = config_parse("/c/t.yaml", "", 0, &cause);
	assert_true(cf->block_private_addresses);
	assert_int_equal(cf->max_connections, 32);
	assert_int_equal(cf->max_connections_per_host, 2);
	assert_int_equal(cf->max_body, 10 * 1024 * 1024);
	assert_int_equal(cf->parse_threads, 0); /* one per processor */
	config_free(cf);
}

static void
test_empty_is_valid(void **state)
{
	static const char nulls[] =
	    "notifiers:\n  n:\n    type: webhook\n    url: http://h/\n"
	    "    secret: ~\n    headers:\n    topic: null\n";
	struct config *cf;
	char *cause;

	cf = config_parse("/x/empty.yaml", "", 0, &cause);
	assert_non_null(cf);
	assert_int_equal(cf->nfeeds, 0);
	assert_string_equal(cf->store_path, CONFIG_DEFAULT_STORE);
	config_free(cf);
	cf = config_parse("/x/empty.yaml", "# nothing\n", 10, &cause);
	assert_non_null(cf);
	config_free(cf);
	/* A notifier's key left empty, or ~, is absent like any other. */
	cf = config_parse("/x/empty.yaml", nulls, sizeof nulls - 1, &cause);
	if (cf == NULL)
		fail_msg("%s", cause);
	assert_null(config_notifier_option(&cf->notifiers[0], "secret"));
	assert_null(config_notifier_option(&cf->notifiers[0], "headers"));
	assert_null(config_notifier_option(&cf->notifiers[0], "topic"));
	assert_non_null(config_notifier_option(&cf->notifiers[0], "url"));
	config_free(cf);
	/* Sections left empty (every entry commented out) are empty. */
	cf = config_parse(
	    "/x/empty.yaml", "feeds:\nwatchlists: ~\n", 21, &cause);
	if (cf == NULL)
		fail_msg("%s", cause);
	assert_int_equal(cf->nfeeds, 0);
	assert_int_equal(cf->nwatchlists, 0);
	config_free(cf);
}

/* Each bad document and the exact first line of its error report. */
static const struct {
	const char *yaml;
	const char *error;
} bad[] = {
    {"feeds: [{url: http://a/, intervall: 5m}]\n",
	"t.yaml:1:26: unknown key \"intervall\" in a feed; did you mean "
	"\"interval\"?"},
    {"notifier:\n  x: {type: console}\n",
	"t.yaml:1:1: unknown key \"notifier\" in the configuration; did you "
	"mean \"notifiers\"?"},
    {"colour: red\n",
	"t.yaml:1:1: unknown key \"colour\" in the configuration; expected "
	"one of: store, retention, defaults, fetch, admin, self_alerts, feeds, "
	"entities, "
	"watchlists, notifiers"},
    {"admin: {port: 0}\n",
	"t.yaml:1:15: admin.port must be a whole number from 1 to 65535"},
    {"admin: {address: localhost}\n",
	"t.yaml:1:18: admin.address must be a numeric IP address, like "
	"127.0.0.1 or ::1"},
    {"admin: {token: short}\n",
	"t.yaml:1:16: the admin token must have at least 16 characters"},
    {"admin: {token: 0123456789abcdef, token_file: t}\n",
	"t.yaml:1:46: give either token or token_file, not both"},
    {"fetch: {parse_threads: 9}\n",
	"t.yaml:1:24: fetch.parse_threads must be a whole number from 0 to 8"},
    {"fetch: {max_connections: 0}\n",
	"t.yaml:1:26: fetch.max_connections must be a whole number from 1 to "
	"1024"},
    {"fetch: {max_body: 1GiB}\n",
	"t.yaml:1:19: fetch.max_body must be a size from 1KiB to 100MiB, like "
	"10MiB"},
    {"fetch: {block_private_addresses: maybe}\n",
	"t.yaml:1:34: fetch.block_private_addresses must be true or false, not "
	"\"maybe\""},
    {"feeds: [{url: 'http://a/', headers: ['X-A b']}]\n",
	"t.yaml:1:37: feed header \"X-A b\" must be \"Name: value\" on one "
	"line"},
    /* a User-Agent is a header too: no CR or LF to start another */
    {"fetch: {user_agent: \"fw\\r\\nX-Injected: 1\"}\n",
	"t.yaml:1:21: fetch.user_agent must be one line (no CR or LF)"},
    {"feeds: [{url: 'http://a/', user_agent: \"fw\\nX: 1\"}]\n",
	"t.yaml:1:40: feed user_agent must be one line (no CR or LF)"},
    /* a proxy libcurl would refuse at every poll is refused here */
    {"feeds: [{url: 'http://a/', proxy: 'http://bad proxy:3128'}]\n",
	"t.yaml:1:35: feed proxy \"http://bad proxy:3128\": Bad hostname"},
    {"feeds: [{url: 'http://a/', proxy: 'gopher://p:70'}]\n",
	"t.yaml:1:35: feed proxy \"gopher://p:70\" must be an http, https, "
	"socks4, socks4a, socks5 or socks5h URL"},
    {"feeds: [{url: 'http://a/', password_env: P}]\n",
	"t.yaml:1:9: a feed password needs a username"},
    {"watchlists: {w: {match: a, severity: urgent}}\n",
	"t.yaml:1:38: watchlist severity must be info, low, medium, high or "
	"critical"},
    {"feeds:\n  - name: x\n", "t.yaml:2:5: a feed needs a url"},
    {"feeds: [{url: gopher://x/}]\n",
	"t.yaml:1:15: feed url \"gopher://x/\" must start with http://, "
	"https://, file:/// or file: (a path relative to the configuration "
	"file)"},
    {"feeds: [{url: 'http://exa mple/'}]\n",
	"t.yaml:1:15: feed url \"http://exa mple/\": Bad hostname"},
    {"feeds: [{url: 'http://:80/'}]\n",
	"t.yaml:1:15: feed url \"http://:80/\": No host part in the URL"},
    {"feeds: [{url: 'https://[::1/'}]\n",
	"t.yaml:1:15: feed url \"https://[::1/\": Bad IPv6 address"},
    {"feeds: [{url: 'http://a/', interval: 10}]\n",
	"t.yaml:1:38: feed interval: \"10\" is not a duration (write it like "
	"90s, 10m, 1h30m or 2d)"},
    {"feeds: [{url: 'http://a/', interval: 5s}]\n",
	"t.yaml:1:38: feed interval must be at least 10s"},
    {"feeds: [{url: 'http://a/'}, {url: 'http://a/'}]\n",
	"t.yaml:1:29: feed url \"http://a/\" is already listed at t.yaml:1"},
    {"feeds: {url: x}\n", "t.yaml:1:8: feeds must be a list, not a mapping"},
    {"watchlists:\n  w: {feeds: [x]}\n",
	"t.yaml:2:6: watchlist \"w\" needs a match query"},
    {"watchlists:\n  w: {match: a, notify: [nobody]}\n",
	"t.yaml:2:3: watchlist \"w\" notifies \"nobody\", which is not a "
	"notifier"},
    {"feeds: [{url: 'http://a/', tags: [x]}]\n"
     "watchlists:\n  w: {match: a, feeds: [y]}\n",
	"t.yaml:3:3: watchlist \"w\" selects feeds \"y\", which is neither a "
	"feed name nor a tag"},
    {"watchlists:\n  'bad name': {match: a}\n",
	"t.yaml:2:3: watchlist name \"bad name\" must be 1 to 64 letters, "
	"digits, '_', '-' or '.'"},
    {"notifiers:\n  n: {type: pager}\n",
	"t.yaml:2:13: unknown notifier type \"pager\"; expected webhook, "
	"email, syslog, exec or console"},
    {"notifiers:\n  n: {url: http://x/}\n",
	"t.yaml:2:6: notifier \"n\" needs a type (webhook, email, syslog, "
	"exec or console)"},
    /* the signing headers are the webhook's own: refused where written */
    {"notifiers:\n  n:\n    type: webhook\n    url: http://x/\n"
     "    headers:\n      - 'X-A: b'\n      - 'Webhook-Signature: v1,x'\n",
	"t.yaml:7:9: notifier n: headers: webhook-signature is the webhook's "
	"own (signed), not to be set"},
    /* what is quoted from the file cannot drive the terminal */
    {"notifiers:\n  n: {type: console, \"\\e[2J\\e]0;x\\a\": 1}\n",
	"t.yaml:2:22: unknown key \"\\x1b[2J\\x1b]0;x\\x07\" in a notifier; "
	"expected one of: type, rate_limit"},
    {"notifiers:\n  n: {type: console, url: x}\n",
	"t.yaml:2:22: unknown key \"url\" in a notifier; expected one of: "
	"type, rate_limit"},
    {"entities:\n  e: {}\n",
	"t.yaml:2:6: entity \"e\" needs a name, aliases or a country"},
    {"entities:\n  e: {aliases: [a, {x: 1}]}\n",
	"t.yaml:2:21: unknown key \"x\" in an alias; expected one of: text, "
	"case_sensitive"},
    {"entities:\n  e: {aliases: [{case_sensitive: true}]}\n",
	"t.yaml:2:17: an alias needs \"text\""},
    {"entities:\n  e: {aliases: [{text: Us, case_sensitive: maybe}]}\n",
	"t.yaml:2:44: alias case_sensitive must be true or false, not "
	"\"maybe\""},
    {"entities:\n  e: {aliases: [{text: Us, case_sensitive: \"true\\0\"}]}\n",
	"t.yaml:2:44: alias case_sensitive contains a NUL byte"},
    {"entities:\n  e: {country: IRQ}\n",
	"t.yaml:2:16: entity country \"IRQ\" must be an ISO 3166-1 two-letter "
	"code, like IQ"},
    {"entities:\n  e: {aliases: [[a]]}\n",
	"t.yaml:2:17: entity alias must be a scalar, not a list"},
    {"store: a\nstore: b\n",
	"t.yaml:2:1: duplicate key \"store\" in the configuration (first at "
	"line 1)"},
    {"a: &x [1]\nb: *x\n", "t.yaml:2:4: aliases (*name) are not supported"},
    {"feeds: [\n",
	"t.yaml:2:1: did not find expected node content while parsing a "
	"flow node"},
    {"- just\n- a list\n",
	"t.yaml:1:1: the configuration must be a mapping, not a list"},
    {"--- {}\n--- {}\n", "t.yaml:2:1: only one YAML document is allowed"},
    {"entities:\n  e: {name: \"a\\0b\"}\n",
	"t.yaml:2:13: entity name contains a NUL byte"},
    /* nor is a NUL byte ignored with what follows it */
    {"feeds: [{url: 'http://a/', interval: \"10m\\0 or so\"}]\n",
	"t.yaml:1:38: feed interval contains a NUL byte"},
    {"fetch: {block_private_addresses: \"no\\0\"}\n",
	"t.yaml:1:34: fetch.block_private_addresses contains a NUL byte"},
    {"feeds: [{\"url\\0\": 'http://a/'}]\n",
	"t.yaml:1:10: a key in a feed contains a NUL byte"},
    /* bytes that are not UTF-8, and control characters, where they are */
    {"entities:\n  e:\n    name: Soci\xe9t\xe9\n",
	"t.yaml:3:15: invalid trailing UTF-8 octet (#74)"},
    {"# \xc3\xa9t\xc3\xa9\r\nstore: a\r\nx: \"\xc3\xa9\x01\"\n",
	"t.yaml:3:6: control characters are not allowed (#1)"},
    {"\xef\xbb\xbfstore: \xc3\n",
	"t.yaml:1:8: invalid trailing UTF-8 octet (#A)"},
    {"store: \xff\n", "t.yaml:1:8: invalid leading UTF-8 octet (#FF)"},
};

/* Aliases with their own case rule; entities that extend a country. */
static void
test_entity_extensions(void **state)
{
	static const char yaml[] =
	    "entities:\n"
	    "  magazine:\n"
	    "    aliases: [{text: Us, case_sensitive: true}, Us Weekly,\n"
	    "      {text: NATO, case_sensitive: false}, {text: EU,\n"
	    "      case_sensitive: no}, {text: UN, case_sensitive: yes}]\n"
	    "  usa: {country: us, aliases: [Yankees]}\n"
	    "  iraq: {country: IQ}\n";
	struct config *cf;

	cf = parse_ok("t.yaml", yaml);
	assert_int_equal(cf->nentities, 3);
	assert_string_equal(cf->entities[0].aliases[0], "Us");
	assert_int_equal(cf->entities[0].alias_case[0], CONFIG_CASE_SENSITIVE);
	assert_int_equal(cf->entities[0].alias_case[1], CONFIG_CASE_AUTO);
	assert_string_equal(cf->entities[0].aliases[2], "NATO");
	assert_int_equal(
	    cf->entities[0].alias_case[2], CONFIG_CASE_INSENSITIVE);
	/* a boolean like any other: yes and no too */
	assert_int_equal(cf->entities[0].naliases, 5);
	assert_int_equal(
	    cf->entities[0].alias_case[3], CONFIG_CASE_INSENSITIVE);
	assert_int_equal(cf->entities[0].alias_case[4], CONFIG_CASE_SENSITIVE);
	assert_null(cf->entities[0].country);
	assert_string_equal(cf->entities[1].country, "US");
	assert_string_equal(cf->entities[1].aliases[0], "Yankees");
	assert_string_equal(cf->entities[2].country, "IQ");
	assert_int_equal(cf->entities[2].naliases, 0);
	/* Where each is written, for the matcher's errors: an alias given
	 * as a mapping is placed at its text. */
	assert_int_equal(cf->entities[0].alias_marks[0].line, 3);
	assert_int_equal(cf->entities[0].alias_marks[0].column, 22);
	assert_int_equal(cf->entities[0].alias_marks[1].column, 49);
	assert_int_equal(cf->entities[0].alias_marks[2].line, 4);
	assert_int_equal(cf->entities[1].country_mark.column, 18);
	assert_int_equal(cf->entities[1].alias_marks[0].column, 32);
	config_free(cf);
}

/* A relative file: path becomes a file:// URL that libcurl reads back
 * as that path: what a URL cannot hold as it is, written %XX. */
static void
test_file_url(void **state)
{
	static const char yaml[] = "feeds:\n"
				   "  - url: 'file:my feeds/a#1 why?.xml'\n"
				   "  - url: file:plain/é{1}.xml\n"
				   "  - url: file:old%20style.xml\n";
	struct config *cf;

	cf = parse_ok("/c/t.yaml", yaml);
	assert_string_equal(
	    cf->feeds[0].url, "file:///c/my%20feeds/a%231%20why%3F.xml");
	/* the URL it made before (the store's key), and a %XX still read
	 * as an escape */
	assert_string_equal(cf->feeds[1].url, "file:///c/plain/é{1}.xml");
	assert_string_equal(cf->feeds[2].url, "file:///c/old%20style.xml");
	config_free(cf);
	/* the folder's '%' is a byte of its name, not an escape */
	cf = parse_ok("/srv/100%41/t.yaml", "feeds: [{url: 'file:a b.xml'}]\n");
	assert_string_equal(cf->feeds[0].url, "file:///srv/100%2541/a%20b.xml");
	config_free(cf);
}

static void
test_bad(void **state)
{
	struct config *cf;
	char *cause, *nl;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		cf = config_parse(
		    "t.yaml", bad[i].yaml, strlen(bad[i].yaml), &cause);
		if (cf != NULL)
			fail_msg("case %zu loaded: %s", i, bad[i].yaml);
		assert_non_null(cause);
		if ((nl = strchr(cause, '\n')) != NULL)
			*nl = '\0';
		/* Messages name the file as given, relative or not. */
		if (strcmp(cause, bad[i].error) != 0)
			fail_msg("case %zu:\n got: %s\nwant: %s", i, cause,
			    bad[i].error);
		free(cause);
	}
}

static void
test_all_errors_reported(void **state)
{
	static const char yaml[] = "feeds:\n"
				   "  - {url: 'ftp://a/'}\n"
				   "  - {url: 'http://b/', timeout: soon}\n"
				   "watchlists:\n"
				   "  w: {mtach: x}\n";
	char *cause;
	int lines = 1;
	const char *p;

	assert_null(config_parse("t.yaml", yaml, sizeof yaml - 1, &cause));
	for (p = cause; *p != '\0'; p++)
		lines += *p == '\n';
	/* url, timeout, unknown key, missing match */
	assert_int_equal(lines, 4);
	assert_non_null(strstr(cause,
	    "t.yaml:5:7: unknown key \"mtach\" in a "
	    "watchlist; did you mean \"match\"?"));
	free(cause);
}

/* Errors quoting huge text are cut, so that none of the first 50 is
 * lost to the size of the report. */
static void
test_long_errors_reported(void **state)
{
	char *yaml, *cause, *p, *nl, key[60001];
	size_t i, len = 0, lines = 0;

	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	yaml = malloc(30 * (sizeof key + 32) + 64);
	assert_non_null(yaml);
	len += (size_t)sprintf(yaml, "notifiers:\n  n:\n    type: webhook\n");
	for (i = 0; i < 30; i++)
		len += (size_t)sprintf(
		    yaml + len, "    ? \"%s%zu\"\n    : \"\"\n", key, i);
	assert_null(config_parse("t.yaml", yaml, len, &cause));
	free(yaml);
	for (p = cause;; p = nl + 1) {
		lines++;
		if (lines <= 50 && strncmp(p, "t.yaml:", 7) != 0)
			fail_msg("line %zu: %.80s", lines, p);
		if (strcspn(p, "\n") > 4096)
			fail_msg(
			    "line %zu is %zu bytes", lines, strcspn(p, "\n"));
		if ((nl = strchr(p, '\n')) == NULL)
			break;
	}
	assert_int_equal(lines, 51);
	/* 30 unknown keys, then 30 empty values named by their key */
	assert_non_null(strstr(cause, "t.yaml:4:7: unknown key \"kkk"));
	assert_non_null(strstr(cause, "\nt.yaml:5:7: kkk"));
	assert_non_null(strstr(cause, "\nt.yaml: 10 more errors not shown"));
	free(cause);
}

static void
test_durations_and_sizes(void **state)
{
	static const struct {
		const char *text;
		int64_t ms;
	} durations[] = {
	    {"90s", 90000},
	    {"10m", 600000},
	    {"1h", 3600000},
	    {"1h30m", 5400000},
	    {"500ms", 500},
	    {"2d", 172800000},
	    {"1w", 604800000},
	    {"0s", 0},
	};
	static const char *const bad_durations[] = {
	    "",
	    "10",
	    "m",
	    "10 m",
	    " 10m",
	    "10m ",
	    "-5s",
	    "1.5h",
	    "10M",
	    "10min",
	    "999999999999w",
	    "10m10",
	    "s10",
	};
	static const struct {
		const char *text;
		uint64_t bytes;
	} sizes[] = {
	    {"10MiB", 10485760},
	    {"512KiB", 524288},
	    {"1GB", 1000000000},
	    {"100B", 100},
	    {"2GiB", 2147483648ULL},
	};
	static const char *const bad_sizes[] = {
	    "",
	    "10",
	    "10mb",
	    "10 MiB",
	    "MiB",
	    "1.5MiB",
	    "10MiBs",
	};
	static const struct {
		int64_t ms;
		const char *text;
		int exact; /* parses back to ms */
	} formats[] = {
	    {0, "0s", 1},
	    {999, "0s", 0},
	    {45000, "45s", 1},
	    {60000, "1m", 1},
	    {610000, "10m10s", 1},
	    {5400000, "1h30m", 1},
	    {21600000, "6h", 1},
	    {21720000 + 7000, "6h2m", 0},
	    {86400000 + 4 * 3600000, "1d4h", 1},
	    {3 * 86400000 + 59000, "3d", 0},
	};
	char buf[32];
	int64_t ms;
	uint64_t bytes;
	size_t i;

	for (i = 0; i < sizeof durations / sizeof durations[0]; i++) {
		assert_int_equal(units_duration(durations[i].text, &ms), 0);
		assert_int_equal(ms, durations[i].ms);
	}
	for (i = 0; i < sizeof bad_durations / sizeof bad_durations[0]; i++)
		if (units_duration(bad_durations[i], &ms) != -1)
			fail_msg("accepted duration \"%s\"", bad_durations[i]);
	/* Written back in the same syntax, its two largest units. */
	for (i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		assert_string_equal(
		    config_format_duration(buf, sizeof buf, formats[i].ms),
		    formats[i].text);
		if (formats[i].exact) {
			assert_int_equal(
			    units_duration(formats[i].text, &ms), 0);
			assert_int_equal(ms, formats[i].ms);
		}
	}
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		assert_int_equal(config_parse_size(sizes[i].text, &bytes), 0);
		assert_int_equal(bytes, sizes[i].bytes);
	}
	for (i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++)
		if (config_parse_size(bad_sizes[i], &bytes) != -1)
			fail_msg("accepted size \"%s\"", bad_sizes[i]);
}

static void
test_hostile_yaml(void **state)
{
	char *doc, *cause;
	size_t i, n = 100;

	/* Deep nesting is refused, not recursed into. */
	doc = malloc(2 * n + 1);
	assert_non_null(doc);
	for (i = 0; i < n; i++) {
		doc[i] = '[';
		doc[n + i] = ']';
	}
	doc[2 * n] = '\0';
	assert_null(config_parse("t.yaml", doc, 2 * n, &cause));
	assert_non_null(strstr(cause, "t.yaml:1:33: nesting is too deep"));
	free(cause);
	free(doc);
	/* Binary garbage is an error with a position, not a crash. */
	assert_null(config_parse("t.yaml", "\xff\xfe\x00\x01", 4, &cause));
	assert_non_null(strstr(cause, "t.yaml:"));
	free(cause);
}

static void
test_load_file(void **state)
{
	struct config *cf;
	char *cause;

	assert_null(config_load("/nonexistent/feedwatch.yaml", &cause));
	assert_string_equal(
	    cause, "/nonexistent/feedwatch.yaml: No such file or directory");
	free(cause);
	assert_null(config_load("/", &cause));
	assert_string_equal(cause, "/: not a regular file");
	free(cause);
	cf = config_load(FW_SOURCE_DIR "/examples/feedwatch.yaml", &cause);
	if (cf == NULL)
		fail_msg("%s", cause);
	assert_true(cf->nfeeds > 0);
	config_free(cf);
}

/* Write a file under dir (mode given), creating dir/conf.d as needed. */
static void
write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/conf.d", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static char *
make_dir(void)
{
	char tmpl[] = "/tmp/fwconfig.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return strdup(tmpl);
}

static void
remove_dir(char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static struct config *
load_in(const char *dir, char **cause)
{
	char path[512];

	snprintf(path, sizeof path, "%s/feedwatch.yaml", dir);
	return config_load(path, cause);
}

static void
test_dropins(void **state)
{
	char *dir = make_dir(), *cause = NULL, odd[512];
	struct config *cf;

	write_file(dir, "feedwatch.yaml",
	    "defaults: {interval: 20m}\n"
	    "feeds: [{url: 'http://a/', name: a}]\n"
	    "notifiers: {out: {type: console}}\n",
	    0600);
	/* Taken in name order; other extensions and dot files ignored. */
	write_file(dir, "conf.d/20-watch.yaml",
	    "watchlists: {w: {match: x, feeds: [b], notify: [out]}}\n", 0600);
	write_file(dir, "conf.d/10-feeds.yaml",
	    "feeds: [{url: 'http://b/', name: b, tags: [t]}]\n", 0600);
	write_file(dir, "conf.d/30-broken.yaml.orig", "{{{", 0600);
	write_file(dir, "conf.d/.hidden.yaml", "{{{", 0600);
	cf = load_in(dir, &cause);
	if (cf == NULL)
		fail_msg("%s", cause);
	assert_int_equal(cf->nfiles, 3);
	assert_int_equal(cf->nfeeds, 2);
	assert_string_equal(cf->feeds[1].name, "b");
	/* The main file's defaults apply to the drop-in's feeds. */
	assert_int_equal(cf->feeds[1].interval_ms, 20 * 60 * 1000);
	assert_non_null(strstr(cf->feeds[1].mark.file, "conf.d/10-feeds.yaml"));
	assert_int_equal(cf->nwatchlists, 1);
	config_free(cf);

	/* A name that would write controls to a terminal or a log: refused,
	 * shown escaped, never as it is. */
	write_file(dir, "conf.d/50-\x1b[2J\nfake.yaml",
	    "feeds: [{url: 'http://c/', name: c}]\n", 0600);
	assert_null(load_in(dir, &cause));
	assert_non_null(strstr(cause,
	    "conf.d/50-\\x1b[2J\\nfake.yaml: a drop-in's file name must be "
	    "printable UTF-8"));
	assert_null(strchr(cause, '\x1b'));
	assert_null(strchr(cause, '\n'));
	free(cause);
	snprintf(odd, sizeof odd, "%s/conf.d/50-\x1b[2J\nfake.yaml", dir);
	assert_int_equal(unlink(odd), 0);

	/* A name that only looks escaped: refused too, its backslash shown
	 * doubled, so that it is not taken for the one above. */
	write_file(dir, "conf.d/50-\\x1b.yaml",
	    "feeds: [{url: 'http://c/', name: c}]\n", 0600);
	assert_null(load_in(dir, &cause));
	assert_non_null(strstr(cause,
	    "conf.d/50-\\\\x1b.yaml: a drop-in's file name must be "
	    "printable UTF-8 without a backslash"));
	free(cause);
	snprintf(odd, sizeof odd, "%s/conf.d/50-\\x1b.yaml", dir);
	assert_int_equal(unlink(odd), 0);

	/* A name defined twice across files, and defaults set twice. */
	write_file(dir, "conf.d/40-again.yaml",
	    "defaults: {timeout: 5s}\n"
	    "notifiers: {out: {type: console}}\n",
	    0600);
	assert_null(load_in(dir, &cause));
	assert_non_null(strstr(cause,
	    "conf.d/40-again.yaml:1:11: defaults are "
	    "already set in "));
	assert_non_null(strstr(cause,
	    "conf.d/40-again.yaml:2:13: notifier "
	    "\"out\" is already defined at "));
	free(cause);
	remove_dir(dir);
}

static void
test_environment(void **state)
{
	static const char yaml[] =
	    "feeds: [{url: '${FW_TEST_HOST}/feed', name: 'cost $${x}'}]\n";
	static const char unset[] = "feeds: [{url: '${FW_TEST_UNSET}'}]\n";
	static const char badname[] = "feeds: [{url: 'http://${x-y}/'}]\n";
	struct config *cf;
	char *cause;

	setenv("FW_TEST_HOST", "https://news.example.org", 1);
	cf = parse_ok("t.yaml", yaml);
	assert_string_equal(cf->feeds[0].url, "https://news.example.org/feed");
	assert_string_equal(cf->feeds[0].name, "cost ${x}");
	config_free(cf);
	unsetenv("FW_TEST_UNSET");
	assert_null(config_parse("t.yaml", unset, sizeof unset - 1, &cause));
	assert_string_equal(cause,
	    "t.yaml:1:15: feed url: environment "
	    "variable FW_TEST_UNSET is not set");
	free(cause);
	assert_null(
	    config_parse("t.yaml", badname, sizeof badname - 1, &cause));
	assert_non_null(strstr(cause,
	    "must be followed by an environment "
	    "variable name"));
	free(cause);
}

/* retention and the first-poll alert age: defaults, values, limits. */
static void
test_store_keys(void **state)
{
	static const char with[] = "retention: 30d\n"
				   "feeds:\n"
				   "  - url: http://example.com/a.xml\n"
				   "    first_poll_alert_age: 6h\n"
				   "  - url: http://example.com/b.xml\n";
	static const char short_retention[] = "retention: 1h\n";
	struct config *cf;
	char *cause = NULL;

	cf = config_parse("/etc/fw/x.yaml", "{}", 2, &cause);
	assert_non_null(cf);
	assert_int_equal(cf->retention_ms, 90LL * 24 * 3600 * 1000);
	config_free(cf);
	cf = parse_ok("/etc/fw/x.yaml", with);
	assert_int_equal(cf->retention_ms, 30LL * 24 * 3600 * 1000);
	assert_int_equal(cf->feeds[0].first_poll_alert_age_ms, 6 * 3600 * 1000);
	assert_int_equal(cf->feeds[1].first_poll_alert_age_ms, 0);
	config_free(cf);
	cf = config_parse("/etc/fw/x.yaml", short_retention,
	    sizeof short_retention - 1, &cause);
	assert_null(cf);
	assert_non_null(strstr(cause, "1:12: retention must be at least 1d"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_empty_is_valid),
	    cmocka_unit_test(test_fetch_and_feed_options),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_entity_extensions),
	    cmocka_unit_test(test_file_url),
	    cmocka_unit_test(test_all_errors_reported),
	    cmocka_unit_test(test_long_errors_reported),
	    cmocka_unit_test(test_durations_and_sizes),
	    cmocka_unit_test(test_hostile_yaml),
	    cmocka_unit_test(test_load_file),
	    cmocka_unit_test(test_dropins),
	    cmocka_unit_test(test_environment),
	    cmocka_unit_test(test_store_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

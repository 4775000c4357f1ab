/*
 * feedwatch: RSS/Atom feed monitor and alerting daemon.
 * Subcommand dispatch in the style of git; see feedwatch(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <openssl/crypto.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sqlite3.h>
#include <utf8proc.h>
#include <yaml.h>

#include "cmd.h"
#include "config.h"
#include "log.h"

struct cmd {
	const char *name;
	int (*run)(int, char **, const struct cmd_globals *);
	const char *summary;
};

static const struct cmd cmds[] = {
    {"run", cmd_run, "the daemon: poll, match, alert; SIGHUP reloads"},
    {"once", cmd_once, "poll every feed once, deliver what is due, exit"},
    {"check", cmd_check, "validate the configuration and summarize it"},
    {"parse", cmd_parse, "print a parsed feed (--json: normalized record)"},
    {"match", cmd_match, "run the watchlists over a feed file and explain"},
    {"outbox", cmd_outbox, "list, retry or drop undelivered alerts"},
    {"status", cmd_status, "ask the running daemon for its feeds and outbox"},
    {"import-opml", cmd_import_opml, "turn an OPML export into feed entries"},
    {"export-opml", cmd_export_opml, "write the configured feeds as OPML"},
};

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out,
	    "usage: feedwatch [-c CONFIG] [--log-level LEVEL] COMMAND [ARGS]\n"
	    "       feedwatch --version | help\n"
	    "\n"
	    "commands:\n");
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(out, "  %-12s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(out,
	    "\n"
	    "options (also accepted after the command):\n"
	    "  -c, --config PATH     configuration file (default %s)\n"
	    "  --log-level LEVEL     error, warning, notice, info or debug\n"
	    "  -h, --help            this text\n"
	    "  -V, --version         versions of feedwatch and its libraries\n",
	    CONFIG_DEFAULT_PATH);
}

static void
version(void)
{
	curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
	char pcre2[64];
	int xml;

	pcre2_config(PCRE2_CONFIG_VERSION, pcre2);
	printf("feedwatch %s\n", FEEDWATCH_VERSION);
	printf("  libcurl   %s (%s)\n", curl->version,
	    curl->ssl_version != NULL ? curl->ssl_version : "no TLS");
	xml = atoi(xmlParserVersion);
	printf(
	    "  libxml2   %d.%d.%d\n", xml / 10000, xml / 100 % 100, xml % 100);
	printf("  libevent  %s\n", event_get_version());
	printf("  sqlite    %s\n", sqlite3_libversion());
	printf("  libyaml   %s\n", yaml_get_version_string());
	printf("  utf8proc  %s\n", utf8proc_version());
	printf("  pcre2     %s\n", pcre2);
	printf("  jansson   %s\n", jansson_version_str());
	printf("  openssl   %s\n", OpenSSL_version(OPENSSL_VERSION));
}

/*
 * Take the global options (-c, --log-level) out of argv wherever they
 * stand, so that "feedwatch check -c x" and "feedwatch -c x check" both
 * work; -h and -V too, which set *want to 'h' or 'V'. Returns the new
 * argc, or -1 on a usage error.
 */
static int
take_globals(int argc, char **argv, struct cmd_globals *g, int *want)
{
	enum log_level level;
	int i, out = 1;
	const char *arg, *value;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0 ||
		    strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
			if (*want == 0 &&
			    (arg[1] == 'V' || strcmp(arg, "--version") == 0))
				*want = 'V';
			else if (*want == 0)
				*want = 'h';
			continue;
		}
		if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0 ||
		    strcmp(arg, "--log-level") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "feedwatch: %s needs a value\n",
				    arg);
				return -1;
			}
			value = argv[++i];
		} else if (strncmp(arg, "--config=", 9) == 0) {
			value = arg + 9;
			arg = "--config";
		} else if (strncmp(arg, "--log-level=", 12) == 0) {
			value = arg + 12;
			arg = "--log-level";
		} else {
			argv[out++] = argv[i];
			continue;
		}
		if (strcmp(arg, "--log-level") == 0) {
			if (log_level_parse(value, &level) == -1) {
				fprintf(stderr,
				    "feedwatch: unknown log level "
				    "\"%s\"\n",
				    value);
				return -1;
			}
			log_set_level(level);
		} else {
			g->config_path = value;
			g->config_given = 1;
		}
	}
	argv[out] = NULL;
	return out;
}

int
main(int argc, char **argv)
{
	struct cmd_globals g = {CONFIG_DEFAULT_PATH, 0};
	size_t i;
	int want = 0;

	log_init("feedwatch");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	if ((argc = take_globals(argc, argv, &g, &want)) == -1)
		return 2;
	if (want == 'h' || (argc >= 2 && strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (want == 'V' || (argc >= 2 && strcmp(argv[1], "version") == 0)) {
		version();
		return 0;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].run(argc - 1, argv + 1, &g);
	fprintf(stderr,
	    "feedwatch: unknown command \"%s\"; see "
	    "\"feedwatch help\"\n",
	    argv[1]);
	return 2;
}

/* feedwatch check: validate the configuration and print a summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "engine.h"
#include "log.h"

int
cmd_check(int argc, char **argv, const struct cmd_globals *g)
{
	struct config *cf;
	char *cause;
	size_t i, ntagged = 0;
	char esc[256];
	int quiet = 0;

	/* --quiet: nothing on success (the unit's reload runs it first) */
	if (argc == 2 &&
	    (strcmp(argv[1], "-q") == 0 || strcmp(argv[1], "--quiet") == 0))
		quiet = 1;
	else if (argc > 1) {
		fprintf(stderr,
		    "usage: feedwatch check [-q | --quiet] [-c CONFIG]\n");
		return 2;
	}
	if ((cf = config_load(g->config_path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return 1;
	}
	/* Queries, entities and notifier options, as the daemon builds them. */
	if (engine_check(cf, &cause) == -1) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		config_free(cf);
		return 1;
	}
	if (quiet) {
		config_free(cf);
		return 0;
	}
	for (i = 0; i < cf->nfeeds; i++)
		if (cf->feeds[i].ntags > 0)
			ntagged++;
	printf("%s: ok\n", log_escapes(esc, sizeof esc, cf->path));
	printf(
	    "  store:      %s\n", log_escapes(esc, sizeof esc, cf->store_path));
	printf("  feeds:      %zu (%zu tagged)\n", cf->nfeeds, ntagged);
	printf("  entities:   %zu\n", cf->nentities);
	printf("  watchlists: %zu\n", cf->nwatchlists);
	for (i = 0; i < cf->nwatchlists; i++)
		printf("    %-20s %s\n", cf->watchlists[i].key,
		    log_escapes_text(esc, sizeof esc, cf->watchlists[i].match));
	printf("  notifiers:  %zu\n", cf->nnotifiers);
	for (i = 0; i < cf->nnotifiers; i++)
		printf("    %-20s %s\n", cf->notifiers[i].key,
		    config_notifier_type_name(cf->notifiers[i].type));
	config_free(cf);
	return 0;
}

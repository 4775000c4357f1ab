/*
 * feedwatch outbox: list, retry or drop undelivered alerts, in the store
 * named by the configuration. Safe while the daemon runs (SQLite WAL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "config.h"
#include "log.h"
#include "store.h"

static int
cmd_outbox_usage(void)
{
	fprintf(stderr,
	    "usage: feedwatch outbox [-c CONFIG] list "
	    "[--state pending|inflight|delivered|dead]\n"
	    "       feedwatch outbox [-c CONFIG] retry ID\n"
	    "       feedwatch outbox [-c CONFIG] drop ID\n");
	return 2;
}

static void
cmd_outbox_time(char *out, size_t size, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, size, "%lld", (long long)t);
}

static int
cmd_outbox_list(struct store *st, int state)
{
	struct store_outbox_row *rows;
	struct store_outbox_stats stats;
	size_t i, n;
	char *cause, next[32], created[32], esc[3][256];

	if (store_outbox_list(st, state, &rows, &n, &cause) == -1 ||
	    store_outbox_stats(st, (int64_t)time(NULL), &stats, &cause) == -1) {
		fprintf(stderr, "feedwatch: %s\n", cause);
		free(cause);
		return 1;
	}
	printf("ID\tSTATE\tATTEMPTS\tCREATED\tNEXT\tNOTIFIER\tWATCHLIST\t"
	       "FEED\tITEM\tERROR\n");
	for (i = 0; i < n; i++) {
		cmd_outbox_time(created, sizeof created, rows[i].created_at);
		cmd_outbox_time(next, sizeof next, rows[i].next_attempt_at);
		printf("%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rows[i].id,
		    store_outbox_state_name(rows[i].state), rows[i].attempts,
		    created, next, rows[i].notifier, rows[i].watchlist,
		    log_escapes(esc[0], sizeof esc[0], rows[i].feed_url),
		    log_escapes(esc[1], sizeof esc[1], rows[i].item_key),
		    rows[i].last_error != NULL
			? log_escapes_text(
			      esc[2], sizeof esc[2], rows[i].last_error)
			: "-");
	}
	store_outbox_rows_free(rows, n);
	fprintf(stderr,
	    "%zu pending (oldest %llds), %zu in flight, %zu delivered, "
	    "%zu dead\n",
	    stats.pending, (long long)stats.oldest_pending_age, stats.inflight,
	    stats.delivered, stats.dead);
	return 0;
}

int
cmd_outbox(int argc, char **argv, const struct cmd_globals *g)
{
	enum store_outbox_state state;
	struct config *cf;
	struct store *st;
	char *cause, esc[128];
	int rc, filter = -1;

	if (argc < 2)
		return cmd_outbox_usage();
	if (strcmp(argv[1], "list") == 0) {
		if (argc == 4 && strcmp(argv[2], "--state") == 0) {
			if (store_outbox_state_parse(argv[3], &state) == -1)
				return cmd_outbox_usage();
			filter = (int)state;
		} else if (argc == 3 && strncmp(argv[2], "--state=", 8) == 0) {
			if (store_outbox_state_parse(argv[2] + 8, &state) == -1)
				return cmd_outbox_usage();
			filter = (int)state;
		} else if (argc != 2)
			return cmd_outbox_usage();
	} else if (strcmp(argv[1], "retry") == 0 ||
	    strcmp(argv[1], "drop") == 0) {
		if (argc != 3)
			return cmd_outbox_usage();
	} else
		return cmd_outbox_usage();

	if ((cf = config_load(g->config_path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return 1;
	}
	st = store_open(cf->store_path, &cause);
	config_free(cf);
	if (st == NULL) {
		fprintf(stderr, "feedwatch: %s\n", cause);
		free(cause);
		return 1;
	}
	if (strcmp(argv[1], "list") == 0)
		rc = cmd_outbox_list(st, filter);
	else {
		if (strcmp(argv[1], "retry") == 0)
			rc = store_outbox_retry(
			    st, argv[2], (int64_t)time(NULL), &cause);
		else
			rc = store_outbox_drop(st, argv[2], &cause);
		if (rc == -1) {
			fprintf(stderr, "feedwatch: %s\n", cause);
			free(cause);
		} else if (rc == 1)
			fprintf(stderr,
			    "feedwatch: no %s alert %s in the outbox\n",
			    strcmp(argv[1], "retry") == 0 ? "pending or dead"
							  : "undelivered",
			    log_escapes(esc, sizeof esc, argv[2]));
		rc = rc == 0 ? 0 : 1;
	}
	store_close(st);
	return rc;
}

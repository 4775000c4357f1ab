/*
 * feedwatch status: ask the running daemon's admin server (address, port
 * and token from the configuration) for its feeds and outbox, and print
 * a concise table. Exit 0 when it answered, 1 when it did not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "log.h"
#include "utf8.h"
#include "xmalloc.h"

/* The largest answer read from the admin server. */
#define STATUS_MAX_RESPONSE (64 * 1024 * 1024)
/* Seconds to wait for the daemon. */
#define STATUS_TIMEOUT_S 10
/* Columns of the feed name and the error in the table. */
#define STATUS_NAME_WIDTH 32
#define STATUS_ERROR_WIDTH 48

static size_t
status_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (buf_add(b, data, size * n) == -1)
		return 0;
	return size * n;
}

/* GET PATH from the admin server: 0 and the parsed JSON, or -1 with a
 * message on stderr. *refused is set when nothing listens. */
static int
status_get(
    const struct config *cf, const char *path, json_t **out, int *refused)
{
	struct curl_slist *headers = NULL;
	struct buf body;
	json_error_t jerr;
	char url[512], *auth = NULL, host[128];
	long code = 0;
	CURLcode rc;
	CURL *h;

	*refused = 0;
	if (strchr(cf->admin_address, ':') != NULL)
		snprintf(host, sizeof host, "[%s]", cf->admin_address);
	else
		snprintf(host, sizeof host, "%s", cf->admin_address);
	snprintf(url, sizeof url, "http://%s:%d%s", host, cf->admin_port, path);
	buf_init(&body, STATUS_MAX_RESPONSE);
	if ((h = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)STATUS_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, status_write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	if (cf->admin_token != NULL) {
		xasprintf(&auth, "Authorization: Bearer %s", cf->admin_token);
		headers = curl_slist_append(headers, auth);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	curl_slist_free_all(headers);
	free(auth);
	if (rc == CURLE_COULDNT_CONNECT) {
		*refused = 1;
		buf_free(&body);
		return -1;
	}
	if (rc != CURLE_OK) {
		fprintf(
		    stderr, "feedwatch: %s: %s\n", url, curl_easy_strerror(rc));
		buf_free(&body);
		return -1;
	}
	if (code != 200) {
		fprintf(stderr, "feedwatch: %s: HTTP %ld%s\n", url, code,
		    code == 401 ? " (the token of the configuration was "
				  "refused)"
				: "");
		buf_free(&body);
		return -1;
	}
	*out = json_loadb(buf_str(&body), body.len, 0, &jerr);
	buf_free(&body);
	if (*out == NULL) {
		fprintf(
		    stderr, "feedwatch: %s: not JSON: %s\n", url, jerr.text);
		return -1;
	}
	return 0;
}

/* "5s ago", "in 12m", "3h ago", "2d ago" between now and T; "-" when T
 * is 0. */
static const char *
status_age(char *out, size_t size, int64_t t, int64_t now, int ahead)
{
	int64_t d = ahead ? t - now : now - t;
	const char *unit = "s";

	if (t <= 0)
		return "-";
	if (d < 0)
		d = 0;
	if (d >= 2 * 86400) {
		d /= 86400;
		unit = "d";
	} else if (d >= 7200) {
		d /= 3600;
		unit = "h";
	} else if (d >= 120) {
		d /= 60;
		unit = "m";
	}
	snprintf(out, size, "%s%lld%s%s", ahead ? "in " : "", (long long)d,
	    unit, ahead ? "" : " ago");
	return out;
}

/* S cut to WIDTH bytes on a UTF-8 boundary, escaped. */
static const char *
status_cut(char *out, size_t size, const char *s, size_t width)
{
	char tmp[512];
	size_t n;

	if (s == NULL)
		return "";
	n = utf8_cut(s, strlen(s), width);
	if (n >= sizeof tmp)
		n = sizeof tmp - 1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return log_escapes(out, size, tmp);
}

static int64_t
status_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static void
status_print(const json_t *feeds, const json_t *outbox)
{
	const json_t *f, *config, *list = json_object_get(feeds, "feeds");
	int64_t now = (int64_t)time(NULL);
	char name[256], err[512], a[32], b[32];
	size_t i, counts[4] = {0, 0, 0, 0};
	const char *state, *failed;

	printf("%-*s %-7s %-10s %5s %-10s %7s  %s\n", STATUS_NAME_WIDTH, "FEED",
	    "STATE", "SUCCESS", "FAILS", "NEXT", "ITEMS", "LAST ERROR");
	json_array_foreach(list, i, f)
	{
		state = json_string_value(json_object_get(f, "state"));
		if (state == NULL)
			state = "?";
		if (strcmp(state, "ok") == 0)
			counts[0]++;
		else if (strcmp(state, "failing") == 0)
			counts[1]++;
		else if (strcmp(state, "gone") == 0)
			counts[2]++;
		else
			counts[3]++;
		printf("%-*s %-7s %-10s %5lld %-10s %7lld  %s\n",
		    STATUS_NAME_WIDTH,
		    status_cut(name, sizeof name,
			json_string_value(json_object_get(f, "name")),
			STATUS_NAME_WIDTH),
		    state,
		    status_age(
			a, sizeof a, status_int(f, "last_success_at"), now, 0),
		    (long long)status_int(f, "consecutive_failures"),
		    json_is_true(json_object_get(f, "polling"))
			? "polling"
			: status_age(b, sizeof b, status_int(f, "next_poll_at"),
			      now, 1),
		    (long long)status_int(f, "items"),
		    status_cut(err, sizeof err,
			json_string_value(json_object_get(f, "last_error")),
			STATUS_ERROR_WIDTH));
	}
	printf("\nfeeds: %zu ok, %zu failing, %zu gone, %zu not polled yet\n",
	    counts[0], counts[1], counts[2], counts[3]);
	printf(
	    "outbox: %lld pending", (long long)status_int(outbox, "pending"));
	if (status_int(outbox, "pending") > 0)
		printf(" (oldest %s)",
		    status_age(a, sizeof a,
			now - status_int(outbox, "oldest_pending_age"), now,
			0));
	printf(", %lld in flight, %lld dead, %lld delivered\n",
	    (long long)status_int(outbox, "inflight"),
	    (long long)status_int(outbox, "dead"),
	    (long long)status_int(outbox, "delivered"));
	config = json_object_get(feeds, "config");
	if ((failed = json_string_value(
		 json_object_get(config, "reload_error"))) != NULL)
		printf("configuration: the last reload failed (%s); the one "
		       "loaded %s runs: %s\n",
		    status_age(a, sizeof a,
			status_int(config, "reload_failed_at"), now, 0),
		    status_age(
			b, sizeof b, status_int(config, "loaded_at"), now, 0),
		    log_escapes_text(err, sizeof err, failed));
}

int
cmd_status(int argc, char **argv, const struct cmd_globals *g)
{
	struct config *cf;
	json_t *feeds = NULL, *outbox = NULL;
	char *cause = NULL;
	int refused = 0, rc = 1;

	if (argc > 1) {
		fprintf(stderr, "usage: feedwatch status [-c CONFIG]\n");
		return 2;
	}
	if ((cf = config_load(g->config_path, &cause)) == NULL) {
		/* a running daemon keeps the configuration it loaded: ask it
		 * all the same, at the admin address the file gives */
		fprintf(stderr,
		    "%s\nfeedwatch: %s has errors (above); asking the daemon "
		    "anyway\n",
		    cause, g->config_path);
		free(cause);
		if ((cf = config_load_for_admin(g->config_path, &cause)) ==
		    NULL) {
			fprintf(stderr, "%s\n", cause);
			free(cause);
			return 1;
		}
	}
	if (!cf->admin_enabled) {
		fprintf(stderr,
		    "feedwatch: the admin server is off in %s (admin: "
		    "enabled: false); status needs it\n",
		    g->config_path);
		config_free(cf);
		return 1;
	}
	if (status_get(cf, "/api/v1/feeds", &feeds, &refused) == 0 &&
	    status_get(cf, "/api/v1/outbox", &outbox, &refused) == 0) {
		status_print(feeds, outbox);
		rc = 0;
	} else if (refused)
		fprintf(stderr,
		    "feedwatch is not running: nothing answers on %s port %d "
		    "(the admin address of %s)\n",
		    cf->admin_address, cf->admin_port, g->config_path);
	json_decref(feeds);
	json_decref(outbox);
	config_free(cf);
	return rc;
}

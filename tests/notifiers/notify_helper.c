/*
 * Helpers of the notifier tests.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "alert.h"
#include "curlev.h"
#include "notify_helper.h"

pid_t
nh_spawn(const char *const argv[], char *line, size_t size)
{
	int fds[2];
	size_t len = 0;
	pid_t pid;
	struct pollfd pfd;
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		setpgid(0, 0);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	while (len + 1 < size) {
		if (poll(&pfd, 1, 20000) != 1)
			fail_msg("%s: no ready line within 20 s", argv[1]);
		if ((n = read(fds[0], line + len, 1)) != 1)
			fail_msg("%s: exited before it was ready", argv[1]);
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	close(fds[0]);
	return pid;
}

void
nh_stop(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	kill(-pid, SIGKILL);
}

char *
nh_tmpdir(void)
{
	char *dir = strdup("/tmp/fw-notify-XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

void
nh_env_init(struct nh_env *env, int with_curl)
{
	memset(env, 0, sizeof *env);
	env->base = event_base_new();
	assert_non_null(env->base);
	if (with_curl)
		env->curl = curlev_new(env->base);
	env->ctx.base = env->base;
	env->ctx.curl = env->curl;
	env->dir = nh_tmpdir();
}

void
nh_env_clear(struct nh_env *env)
{
	char cmd[600];
	size_t i;

	for (i = 0; i < sizeof env->pids / sizeof env->pids[0]; i++)
		nh_stop(env->pids[i]);
	curlev_free(env->curl);
	event_base_free(env->base);
	snprintf(cmd, sizeof cmd, "rm -rf %s", env->dir);
	assert_int_equal(system(cmd), 0);
	free(env->dir);
}

int
nh_teardown(void **state)
{
	nh_env_clear(*state);
	free(*state);
	return 0;
}

struct alert *
nh_alert(const char *id)
{
	struct alert *a = alert_new();

	a->id = strdup(id);
	a->watchlist = strdup("iraq-coalition");
	a->severity = strdup("high");
	a->created_at = 1714564800; /* 2024-05-01T12:00:00Z */
	a->feed_title = strdup("Ahram Online <World>");
	a->feed_url = strdup("https://english.ahram.org.eg/rss/world");
	a->item_id = strdup("urn:item:1");
	/* "Coalition" at 0..9, "Soudani" at 20..27 (bytes). */
	a->item_title = strdup("Coalition talks: PM Soudani meets \xc3\xa9lus "
			       "& <envoys>");
	a->item_link = strdup("https://example.org/news/1?a=1&b=2");
	a->item_published = 1714561200;
	a->item_author = strdup("Staff \"Writer\"");
	a->item_summary = strdup("The coalition met in Baghdad. "
				 "<script>alert(1)</script> \xe2\x80\x94 end.");
	alert_add_hit(a, "coalition", NULL, "Coalition", "title", 0, 9,
	    "Coalition talks: PM");
	alert_add_hit(a, "@sudani", "sudani", "Soudani", "title", 20, 27,
	    "PM Soudani meets");
	alert_add_hit(a, "coalition", NULL, "coalition", "summary", 4, 13,
	    "The coalition met");
	return a;
}

struct notifier *
nh_notifier(const char *type, const struct notifier_ctx *ctx, char **cause, ...)
{
	struct notifier_option opts[32];
	struct notifier_config cf;
	struct notifier *n;
	char *copies[32], *eq, *p, **list;
	size_t nopts = 0, i, j;
	const char *kv;
	va_list ap;

	memset(opts, 0, sizeof opts);
	va_start(ap, cause);
	while ((kv = va_arg(ap, const char *)) != NULL) {
		assert_true(nopts < 32);
		copies[nopts] = strdup(kv);
		eq = strchr(copies[nopts], '=');
		assert_non_null(eq);
		*eq = '\0';
		opts[nopts].key = copies[nopts];
		if (eq[1] == '[') { /* key=[a|b|c] is a list */
			list = calloc(16, sizeof *list);
			p = eq + 2;
			p[strlen(p) - 1] = '\0';
			for (j = 0; p != NULL && *p != '\0' && j < 16; j++) {
				list[j] = p;
				if ((p = strchr(p, '|')) != NULL)
					*p++ = '\0';
			}
			opts[nopts].list = list;
			opts[nopts].nlist = j;
		} else
			opts[nopts].value = eq + 1;
		nopts++;
	}
	va_end(ap);
	memset(&cf, 0, sizeof cf);
	cf.name = "test";
	cf.type = type;
	cf.options = opts;
	cf.noptions = nopts;
	*cause = NULL;
	n = notifier_new(&cf, ctx, cause);
	for (i = 0; i < nopts; i++) {
		free((void *)opts[i].list);
		free(copies[i]);
	}
	return n;
}

static void
nh_done_cb(const struct notifier_result *r, void *arg)
{
	struct nh_result *res = arg;

	assert_false(res->done);
	res->done = 1;
	res->status = r->status;
	res->retry_after = r->retry_after;
	res->parked = r->parked;
	snprintf(res->error, sizeof res->error, "%s",
	    r->error != NULL ? r->error : "");
}

void
nh_deliver(struct event_base *base, struct notifier *n, const char *outbox_id,
    const struct alert *a, unsigned attempt, struct nh_result *res,
    int timeout_ms)
{
	struct timespec start, now;
	char *json = alert_to_json(a), *cause = NULL;

	memset(res, 0, sizeof *res);
	assert_int_equal(notifier_deliver(n, outbox_id, json, strlen(json),
			     attempt, nh_done_cb, res, &cause),
	    0);
	free(json);
	/* Never called back from inside deliver(). */
	assert_false(res->done);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!res->done) {
		event_base_loop(base, EVLOOP_ONCE);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 +
			(now.tv_nsec - start.tv_nsec) / 1000000 >
		    timeout_ms)
			fail_msg(
			    "delivery did not finish in %d ms", timeout_ms);
	}
}

char *
nh_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(data, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return data;
}

size_t
nh_wait_lines(const char *path, size_t n, int timeout_ms)
{
	size_t lines = 0;
	char *data, *p;
	int waited;

	for (waited = 0; waited <= timeout_ms; waited += 20) {
		lines = 0;
		if ((data = nh_read_file(path)) != NULL) {
			for (p = data; (p = strchr(p, '\n')) != NULL; p++)
				lines++;
			free(data);
		}
		if (lines >= n)
			break;
		usleep(20000);
	}
	return lines;
}

json_t *
nh_received(const char *path, size_t expect, int timeout_ms)
{
	json_t *arr = json_array(), *line_json;
	char *data, *line, *save = NULL;

	assert_int_equal(nh_wait_lines(path, expect, timeout_ms), expect);
	data = nh_read_file(path);
	for (line = strtok_r(data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if ((line_json = json_loads(line, 0, NULL)) == NULL)
			fail_msg("%s: not JSON: %s", path, line);
		json_array_append_new(arr, line_json);
	}
	free(data);
	return arr;
}

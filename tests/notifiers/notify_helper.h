/*
 * Shared by the notifier tests: start a receiver and read its ready line,
 * build a sample alert, deliver one alert and run the loop until done.
 */
#ifndef NOTIFY_HELPER_H
#define NOTIFY_HELPER_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "notifier.h"

struct alert;
struct curlev;
struct event_base;

#define NH_SERVERS FW_SOURCE_DIR "/tests/servers"
#define NH_PYTHON "/usr/bin/python3"

struct nh_result {
	int done;
	enum notifier_status status;
	long long retry_after;
	int parked;
	char error[1024];
};

/*
 * What every notifier test holds: an event loop (with curl on it when
 * asked), the notifiers' context on them, a temporary folder, and the
 * receivers started for the test (stopped by nh_env_clear).
 */
struct nh_env {
	struct event_base *base;
	struct curlev *curl; /* NULL unless asked */
	struct notifier_ctx ctx;
	char *dir;
	pid_t pids[2];
};

void nh_env_init(struct nh_env *, int with_curl);
/* Stop the receivers, free the loop, remove the folder. */
void nh_env_clear(struct nh_env *);
/* cmocka teardown of a fixture (calloc'ed) whose first member is its
 * struct nh_env. */
int nh_teardown(void **state);

/* Start argv (a receiver) with its stdout on a pipe; read the first line
 * into line (fails the test on EOF or after 20 s). Returns the pid. */
pid_t nh_spawn(const char *const argv[], char *line, size_t size);
void nh_stop(pid_t);
/* A fresh temporary folder; owned by the caller. */
char *nh_tmpdir(void);
/* An alert with non-ASCII text, two hits and offsets into the title. */
struct alert *nh_alert(const char *id);
/* notifier_new() from "key=value" strings ("to=a,b" makes a list). */
struct notifier *nh_notifier(
    const char *type, const struct notifier_ctx *, char **cause, ...);
/* Deliver and run the loop until the callback ran or timeout_ms. */
void nh_deliver(struct event_base *, struct notifier *, const char *outbox_id,
    const struct alert *, unsigned attempt, struct nh_result *, int timeout_ms);
/* Read a whole file (NULL if missing); owned by the caller. */
char *nh_read_file(const char *path);
/* Wait until path holds at least n lines (or timeout); the line count. */
size_t nh_wait_lines(const char *path, size_t n, int timeout_ms);
/* The receiver log PATH's lines, parsed as JSON, once it holds EXPECT of
 * them (waiting at most TIMEOUT_MS); a line that is not JSON fails. */
json_t *nh_received(const char *path, size_t expect, int timeout_ms);

#endif

/*
 * The console notifier: JSON lines on standard output.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "console.h"
#include "xmalloc.h"

struct console {
	int fd;
};

static void *
console_new(struct notifier *n, const struct notifier_config *cf,
    const struct notifier_ctx *ctx, char **cause)
{
	struct console *c = xcalloc(1, sizeof *c);

	c->fd = STDOUT_FILENO;
	return c;
}

static void
console_deliver(void *state, struct notifier_job *job)
{
	struct console *c = state;
	char *line;
	size_t len, off = 0;
	ssize_t n;

	/* Written again from the record so that it is one line. */
	line = alert_to_json(job->alert);
	len = strlen(line);
	line[len++] = '\n'; /* over the NUL: write() takes a length */
	while (off < len) {
		n = write(c->fd, line + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(line);
			notifier_job_finish(job, NOTIFIER_TEMPFAIL, -1,
			    "stdout: %s", strerror(errno));
			return;
		}
		off += (size_t)n;
	}
	free(line);
	notifier_job_finish(job, NOTIFIER_OK, -1, NULL);
}

static void
console_free(void *state)
{
	free(state);
}

const struct notifier_backend console_backend = {
    "console", console_new, console_deliver, NULL, console_free, NULL};

/*
 * The exec notifier: posix_spawn, the payload written to a socket on the
 * child's stdin, output collected, exit watched through a pidfd, all on
 * the event loop.
 */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "alert.h"
#include "buf.h"
#include "exec.h"
#include "log.h"
#include "xmalloc.h"

#define EXEC_PATH "PATH=/usr/local/bin:/usr/bin:/bin"
#define EXEC_EX_TEMPFAIL 75

struct exec {
	char *name;
	char **argv;
	int64_t timeout_ms;
	struct event_base *base;
};

struct exec_run {
	struct exec *exec;
	struct notifier_job *job;
	pid_t pid;
	int pidfd;
	int in_fd; /* our end of the child's stdin */
	int out_fd; /* the read end of its stdout and stderr */
	size_t written;
	struct buf output;
	int timed_out;
	struct event *in_ev;
	struct event *out_ev;
	struct event *exit_ev;
	struct event *timer_ev;
};

static void *
exec_new(struct notifier *n, const struct notifier_config *cf,
    const struct notifier_ctx *ctx, char **cause)
{
	const struct notifier_option *o = notifier_option_get(cf, "command");
	struct exec *e;
	size_t i;

	if (o == NULL || (o->value == NULL && o->nlist == 0)) {
		*cause = xstrdup("exec needs a command");
		return NULL;
	}
	e = xcalloc(1, sizeof *e);
	e->name = xstrdup(cf->name);
	e->base = ctx->base;
	if (o->value != NULL) {
		e->argv = xcalloc(4, sizeof *e->argv);
		e->argv[0] = xstrdup("/bin/sh");
		e->argv[1] = xstrdup("-c");
		e->argv[2] = xstrdup(o->value);
	} else {
		e->argv = xcalloc(o->nlist + 1, sizeof *e->argv);
		for (i = 0; i < o->nlist; i++)
			e->argv[i] = xstrdup(o->list[i]);
	}
	if (notifier_option_duration(cf, "timeout", EXEC_DEFAULT_TIMEOUT_MS,
		&e->timeout_ms, cause) == -1 ||
	    e->timeout_ms <= 0) {
		if (*cause == NULL)
			*cause = xstrdup("timeout must be positive");
		for (i = 0; e->argv[i] != NULL; i++)
			free(e->argv[i]);
		free(e->argv);
		free(e->name);
		free(e);
		return NULL;
	}
	return e;
}

static void
exec_free(void *state)
{
	struct exec *e = state;
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; e->argv[i] != NULL; i++)
		free(e->argv[i]);
	free(e->argv);
	free(e->name);
	free(e);
}

/* Release everything of a run but the job; reaps the child if needed. */
static void
exec_run_free(struct exec_run *r, int kill_child)
{
	int status;

	if (r->in_ev != NULL)
		event_free(r->in_ev);
	if (r->out_ev != NULL)
		event_free(r->out_ev);
	if (r->exit_ev != NULL)
		event_free(r->exit_ev);
	if (r->timer_ev != NULL)
		event_free(r->timer_ev);
	if (r->in_fd != -1)
		close(r->in_fd);
	if (r->out_fd != -1)
		close(r->out_fd);
	if (r->pidfd != -1)
		close(r->pidfd);
	if (kill_child && r->pid > 0) {
		kill(-r->pid, SIGKILL);
		while (waitpid(r->pid, &status, 0) == -1 && errno == EINTR)
			;
	}
	buf_free(&r->output);
	r->job->data = NULL;
	free(r);
}

static void
exec_cancel(void *state, struct notifier_job *job)
{
	if (job->data != NULL)
		exec_run_free(job->data, 1);
}

/* The last non-empty line of the output, for the error message. */
static const char *
exec_last_line(struct exec_run *r, size_t *len)
{
	const char *s = buf_str(&r->output), *end = s + r->output.len, *p;

	while (end > s && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	for (p = end; p > s && p[-1] != '\n'; p--)
		;
	*len = (size_t)(end - p);
	return p;
}

static void
exec_read_output(struct exec_run *r)
{
	char chunk[1024];
	ssize_t n;
	size_t room;

	while ((n = read(r->out_fd, chunk, sizeof chunk)) > 0) {
		room = EXEC_MAX_OUTPUT - r->output.len;
		if (room > 0)
			buf_add(&r->output, chunk,
			    (size_t)n < room ? (size_t)n : room);
	}
	if (n == 0 && r->out_ev != NULL)
		event_del(r->out_ev);
}

static void
exec_output_cb(evutil_socket_t fd, short events, void *arg)
{
	exec_read_output(arg);
}

static void
exec_stdin_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec_run *r = arg;
	const struct notifier_job *job = r->job;
	ssize_t n;

	while (r->written < job->len) {
		n = send(r->in_fd, job->payload + r->written,
		    job->len - r->written, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* EV_PERSIST: called again when writable */
		if (n == -1)
			break; /* the child closed stdin: its choice */
		r->written += (size_t)n;
	}
	event_del(r->in_ev);
	close(r->in_fd);
	r->in_fd = -1;
}

static void
exec_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec_run *r = arg;

	r->timed_out = 1;
	kill(-r->pid, SIGKILL);
}

static void
exec_exit_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec_run *r = arg;
	struct notifier_job *job = r->job;
	struct exec *e = r->exec;
	const char *line;
	size_t len;
	pid_t got;
	int status;

	while (
	    (got = waitpid(r->pid, &status, WNOHANG)) == -1 && errno == EINTR)
		;
	if (got == 0)
		return; /* not yet: spurious wakeup */
	r->pid = -1;
	exec_read_output(r);
	line = exec_last_line(r, &len);
	if (got == -1)
		notifier_job_finish(
		    job, NOTIFIER_TEMPFAIL, -1, "waitpid: %s", strerror(errno));
	else if (r->timed_out)
		notifier_job_finish(job, NOTIFIER_TEMPFAIL, -1,
		    "%s: killed after %lld ms", e->argv[0],
		    (long long)e->timeout_ms);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		notifier_job_finish(job, NOTIFIER_OK, -1, NULL);
	else if (WIFEXITED(status))
		notifier_job_finish(job,
		    WEXITSTATUS(status) == EXEC_EX_TEMPFAIL ? NOTIFIER_TEMPFAIL
							    : NOTIFIER_PERMFAIL,
		    -1, "%s: exit status %d%s%.*s", e->argv[0],
		    WEXITSTATUS(status), len > 0 ? ": " : "", (int)len, line);
	else
		notifier_job_finish(job, NOTIFIER_PERMFAIL, -1,
		    "%s: killed by signal %d%s%.*s", e->argv[0],
		    WTERMSIG(status), len > 0 ? ": " : "", (int)len, line);
	exec_run_free(r, 0);
}

static char *
exec_env(const char *name, const char *value)
{
	char *s;

	xasprintf(&s, "%s=%s", name, value != NULL ? value : "");
	return s;
}

/* Spawn the child with its stdin and output wired; -1 with errno. */
static int
exec_spawn(struct exec_run *r, char **envp, int *child_in, int *child_out)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	int rc;

	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, *child_in, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, *child_out, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, *child_out, STDERR_FILENO);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr,
	    POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
		POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	rc = posix_spawnp(
	    &r->pid, r->exec->argv[0], &fa, &attr, r->exec->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(*child_in);
	close(*child_out);
	*child_in = *child_out = -1;
	if (rc != 0) {
		r->pid = -1;
		errno = rc;
		return -1;
	}
	return 0;
}

static void
exec_deliver(void *state, struct notifier_job *job)
{
	struct exec *e = state;
	struct exec_run *r;
	struct timeval tv;
	char *envp[8], attempt[16];
	int sv[2], out[2], i, saved;
	const char *what;

	r = xcalloc(1, sizeof *r);
	r->exec = e;
	r->job = job;
	r->pid = r->pidfd = r->in_fd = r->out_fd = -1;
	buf_init(&r->output, EXEC_MAX_OUTPUT);
	job->data = r;

	snprintf(attempt, sizeof attempt, "%u", job->attempt);
	envp[0] = xstrdup(EXEC_PATH);
	envp[1] = exec_env("FEEDWATCH_OUTBOX_ID", job->outbox_id);
	envp[2] = exec_env("FEEDWATCH_ALERT_ID", job->alert->id);
	envp[3] = exec_env("FEEDWATCH_WATCHLIST", job->alert->watchlist);
	envp[4] = exec_env("FEEDWATCH_SEVERITY",
	    alert_severity_name(alert_severity_of(job->alert)));
	envp[5] = exec_env("FEEDWATCH_ATTEMPT", attempt);
	envp[6] = exec_env("FEEDWATCH_NOTIFIER", e->name);
	envp[7] = NULL;

	what = "socketpair";
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		goto fail;
	what = "pipe";
	if (pipe2(out, O_CLOEXEC) == -1) {
		saved = errno;
		close(sv[0]);
		close(sv[1]);
		errno = saved;
		goto fail;
	}
	r->in_fd = sv[0];
	r->out_fd = out[0];
	what = e->argv[0];
	if (exec_spawn(r, envp, &sv[1], &out[1]) == -1)
		goto fail;
	what = "pidfd_open";
	if ((r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0)) == -1)
		goto fail;
	evutil_make_socket_nonblocking(r->in_fd);
	evutil_make_socket_nonblocking(r->out_fd);
	r->in_ev = event_new(
	    e->base, r->in_fd, EV_WRITE | EV_PERSIST, exec_stdin_cb, r);
	r->out_ev = event_new(
	    e->base, r->out_fd, EV_READ | EV_PERSIST, exec_output_cb, r);
	r->exit_ev =
	    event_new(e->base, r->pidfd, EV_READ | EV_PERSIST, exec_exit_cb, r);
	r->timer_ev = evtimer_new(e->base, exec_timeout_cb, r);
	if (r->in_ev == NULL || r->out_ev == NULL || r->exit_ev == NULL ||
	    r->timer_ev == NULL)
		fatalx("exec_deliver: event_new failed");
	tv.tv_sec = e->timeout_ms / 1000;
	tv.tv_usec = (e->timeout_ms % 1000) * 1000;
	event_add(r->in_ev, NULL);
	event_add(r->out_ev, NULL);
	event_add(r->exit_ev, NULL);
	evtimer_add(r->timer_ev, &tv);
	for (i = 0; envp[i] != NULL; i++)
		free(envp[i]);
	return;
fail:
	saved = errno;
	for (i = 0; envp[i] != NULL; i++)
		free(envp[i]);
	exec_run_free(r, 1);
	/* A command that cannot start is a configuration error, but the
	 * alert is not at fault: keep it until the command is fixed. */
	notifier_job_finish(
	    job, NOTIFIER_TEMPFAIL, -1, "%s: %s", what, strerror(saved));
}

const struct notifier_backend exec_backend = {
    "exec", exec_new, exec_deliver, exec_cancel, exec_free, NULL};

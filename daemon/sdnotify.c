/* sd_notify(3) protocol: datagrams of "KEY=value\n" lines on a unix
 * socket whose path is in $NOTIFY_SOCKET ('@' = abstract namespace). */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdnotify.h"
#include "xmalloc.h"

#define SDNOTIFY_MAX_MESSAGE 4096

struct sdnotify {
	int fd;
	struct sockaddr_un addr;
	socklen_t addrlen;
	uint64_t watchdog_usec;
};

/* WATCHDOG_USEC applies only when WATCHDOG_PID is unset or is us. */
static uint64_t
sdnotify_read_watchdog(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	char *end;
	unsigned long long v;

	if (usec == NULL)
		return 0;
	if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	errno = 0;
	v = strtoull(usec, &end, 10);
	if (errno != 0 || *end != '\0' || end == usec)
		return 0;
	return v;
}

struct sdnotify *
sdnotify_open(char **cause)
{
	struct sdnotify *sn = xcalloc(1, sizeof *sn);
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	sn->fd = -1;
	sn->watchdog_usec = sdnotify_read_watchdog();
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (path == NULL || path[0] == '\0')
		return sn;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') ||
	    len >= sizeof sn->addr.sun_path) {
		xasprintf(cause, "NOTIFY_SOCKET is not a unix socket path");
		free(sn);
		return NULL;
	}
	sn->addr.sun_family = AF_UNIX;
	memcpy(sn->addr.sun_path, path, len);
	if (path[0] == '@')
		sn->addr.sun_path[0] = '\0';
	sn->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (path[0] == '@' ? 0 : 1));
	sn->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sn->fd == -1) {
		xasprintf(cause, "notify socket: %s", strerror(errno));
		free(sn);
		return NULL;
	}
	unsetenv("NOTIFY_SOCKET");
	return sn;
}

void
sdnotify_free(struct sdnotify *sn)
{
	if (sn == NULL)
		return;
	if (sn->fd != -1)
		close(sn->fd);
	free(sn);
}

int
sdnotify_enabled(const struct sdnotify *sn)
{
	return sn != NULL && sn->fd != -1;
}

uint64_t
sdnotify_watchdog_usec(const struct sdnotify *sn)
{
	return sn != NULL ? sn->watchdog_usec : 0;
}

int
sdnotify_send(struct sdnotify *sn, const char *fmt, ...)
{
	char msg[SDNOTIFY_MAX_MESSAGE];
	va_list ap;
	int n;

	if (!sdnotify_enabled(sn))
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof msg)
		n = sizeof msg - 1;
	if (sendto(sn->fd, msg, (size_t)n, MSG_NOSIGNAL,
		(struct sockaddr *)&sn->addr, sn->addrlen) == -1)
		return -1;
	return 0;
}

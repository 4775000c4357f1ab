/*
 * The systemd notify protocol, spoken directly on $NOTIFY_SOCKET (no
 * libsystemd): READY=1, RELOADING=1, STOPPING=1, STATUS=..., WATCHDOG=1.
 * See sd_notify(3) for the messages.
 */
#ifndef SDNOTIFY_H
#define SDNOTIFY_H

#include <stdint.h>

struct sdnotify;

/*
 * Read and unset $NOTIFY_SOCKET (so that children do not inherit it) and
 * the watchdog settings. Without $NOTIFY_SOCKET, returns a handle whose
 * sends do nothing. NULL with *cause when the socket cannot be made.
 */
struct sdnotify *sdnotify_open(char **cause);
void sdnotify_free(struct sdnotify *);
/* Send one message ("READY=1", "STATUS=polling 3 feeds"); 0 or -1. */
int sdnotify_send(struct sdnotify *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The watchdog period in microseconds, 0 when systemd expects no pings. */
uint64_t sdnotify_watchdog_usec(const struct sdnotify *);
int sdnotify_enabled(const struct sdnotify *);

#endif

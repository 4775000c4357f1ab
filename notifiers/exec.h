/*
 * The exec notifier: runs a command per alert, the alert JSON on its
 * standard input. Options:
 *
 *	command: /path/to/script          run through /bin/sh -c
 *	command: [/path/to/prog, arg]     run directly, no shell
 *	timeout: 30s                      then the process group is killed
 *
 * Environment (nothing else is inherited, so no secret leaks into it):
 * PATH, FEEDWATCH_OUTBOX_ID, FEEDWATCH_ALERT_ID, FEEDWATCH_WATCHLIST,
 * FEEDWATCH_SEVERITY, FEEDWATCH_ATTEMPT, FEEDWATCH_NOTIFIER.
 * Exit 0 is OK; 75 (EX_TEMPFAIL) and the timeout are TEMPFAIL; any other
 * status or a signal is PERMFAIL. The child is watched from the event
 * loop through a pidfd; nothing blocks.
 */
#ifndef EXEC_H
#define EXEC_H

#include "notifier.h"

#define EXEC_DEFAULT_TIMEOUT_MS (30 * 1000)
/* Output (stdout and stderr) kept for the error message. */
#define EXEC_MAX_OUTPUT 4096

extern const struct notifier_backend exec_backend;

#endif

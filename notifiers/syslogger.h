/*
 * The syslog notifier: one line per alert of key="value" pairs. Options:
 *
 *	ident: feedwatch                  the APP-NAME / tag
 *	facility: daemon                  kern user mail daemon auth syslog
 *	                                  lpr news uucp cron authpriv ftp
 *	                                  local0 .. local7
 *	priorities: [high=warning, ...]   syslog level per alert severity
 *	                                  (default info=info low=notice
 *	                                  medium=notice high=warning
 *	                                  critical=crit)
 *	socket: /dev/log                  a local datagram socket (RFC 3164
 *	                                  lines, as syslog(3) writes them)
 *	server: udp://HOST:PORT           remote, RFC 5424 with structured
 *	server: tcp://HOST:PORT           data; TCP with octet counting
 *	                                  (RFC 6587 3.4.1)
 *
 * With neither socket nor server, syslog(3). A server's name is resolved
 * when the notifier is made (start and reload). UDP and local sockets
 * have no acknowledgment: a datagram sent is OK. TCP is OK once the
 * kernel took the whole frame; a broken connection fails what it had
 * not taken with TEMPFAIL.
 */
#ifndef SYSLOGGER_H
#define SYSLOGGER_H

#include "notifier.h"

/* Longest value of one key="value" pair as written (escaped), and of a
 * whole message. */
#define SYSLOGGER_MAX_VALUE 512
#define SYSLOGGER_MAX_LINE 2048
/* Connect and write timeout on TCP. */
#define SYSLOGGER_TCP_TIMEOUT_MS (10 * 1000)
/* The private enterprise number RFC 5612 reserves for documentation; the
 * structured data ID is feedwatch@32473. */
#define SYSLOGGER_SD_ID "feedwatch@32473"

extern const struct notifier_backend syslogger_backend;

struct alert;
struct buf;
/* The message (MSG) of an alert: key="value" pairs, one line. */
void syslogger_format_pairs(struct buf *, const struct alert *);
/* An RFC 5424 message for an alert at PRI, without framing, at most
 * SYSLOGGER_MAX_LINE bytes: the structured data whole and closed, then
 * the pairs again as MSG in the room left. */
void syslogger_format_5424(struct buf *, const struct alert *, int pri,
    int64_t now, const char *hostname, const char *ident, long pid);

#endif

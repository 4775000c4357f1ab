/*
 * The syslog notifier. Formats: RFC 3164 as glibc's syslog(3) writes it
 * to /dev/log ("<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG"), and RFC 5424
 * ("<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG") with
 * octet-counted framing on TCP (RFC 6587 section 3.4.1).
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "alert.h"
#include "buf.h"
#include "log.h"
#include "syslogger.h"
#include "xmalloc.h"

#define SYSLOGGER_DEFAULT_IDENT "feedwatch"
/* Longest ident (RFC 5424 APP-NAME is at most 48 printable ASCII). */
#define SYSLOGGER_MAX_IDENT 48

enum syslogger_mode {
	SYSLOGGER_LOCAL, /* syslog(3) */
	SYSLOGGER_UNIX,
	SYSLOGGER_UDP,
	SYSLOGGER_TCP,
};

struct syslogger_pending {
	struct notifier_job *job;
	uint64_t end; /* sent once this many bytes left the buffer */
	TAILQ_ENTRY(syslogger_pending) entry;
};
TAILQ_HEAD(syslogger_pendings, syslogger_pending);

struct syslogger {
	enum syslogger_mode mode;
	char *ident;
	int facility;
	int levels[ALERT_NSEVERITIES];
	char hostname[256];
	struct event_base *base;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int fd; /* UNIX and UDP */
	struct bufferevent *bev; /* TCP, NULL when not connected */
	uint64_t queued, sent;
	struct syslogger_pendings pending;
};

static const struct {
	const char *name;
	int value;
} syslogger_facilities[] =
    {
	{"kern", LOG_KERN},
	{"user", LOG_USER},
	{"mail", LOG_MAIL},
	{"daemon", LOG_DAEMON},
	{"auth", LOG_AUTH},
	{"syslog", LOG_SYSLOG},
	{"lpr", LOG_LPR},
	{"news", LOG_NEWS},
	{"uucp", LOG_UUCP},
	{"cron", LOG_CRON},
	{"authpriv", LOG_AUTHPRIV},
	{"ftp", LOG_FTP},
	{"local0", LOG_LOCAL0},
	{"local1", LOG_LOCAL1},
	{"local2", LOG_LOCAL2},
	{"local3", LOG_LOCAL3},
	{"local4", LOG_LOCAL4},
	{"local5", LOG_LOCAL5},
	{"local6", LOG_LOCAL6},
	{"local7", LOG_LOCAL7},
},
  syslogger_levels[] = {
      {"emerg", LOG_EMERG},
      {"alert", LOG_ALERT},
      {"crit", LOG_CRIT},
      {"err", LOG_ERR},
      {"error", LOG_ERR},
      {"warning", LOG_WARNING},
      {"warn", LOG_WARNING},
      {"notice", LOG_NOTICE},
      {"info", LOG_INFO},
      {"debug", LOG_DEBUG},
};

static const int syslogger_default_levels[ALERT_NSEVERITIES] = {
    LOG_INFO, LOG_NOTICE, LOG_NOTICE, LOG_WARNING, LOG_CRIT};

static int
syslogger_lookup(const char *name, int facility, int *value)
{
	size_t i,
	    n = facility
	    ? sizeof syslogger_facilities / sizeof syslogger_facilities[0]
	    : sizeof syslogger_levels / sizeof syslogger_levels[0];

	for (i = 0; i < n; i++) {
		if (strcmp(name,
			facility ? syslogger_facilities[i].name
				 : syslogger_levels[i].name) == 0) {
			*value = facility ? syslogger_facilities[i].value
					  : syslogger_levels[i].value;
			return 0;
		}
	}
	return -1;
}

/* Append S as a value, as much of it as ROOM bytes hold once escaped:
 * controls become spaces (never a second line), '"' and '\' are
 * escaped, and ']' too inside RFC 5424 structured data. It is cut on a
 * character boundary and never inside an escape pair. */
/* Returns the bytes of S written (cut to fit ROOM, escapes counted). */
static size_t
syslogger_add_value(struct buf *b, const char *s, int sd, size_t room)
{
	size_t i, n, width;
	int escape;

	for (i = 0; s[i] != '\0'; i += n) {
		n = 1;
		while (((unsigned char)s[i + n] & 0xc0) == 0x80)
			n++;
		escape = s[i] == '"' || s[i] == '\\' || (sd && s[i] == ']');
		width = escape ? 2 : n;
		if (width > room)
			break;
		room -= width;
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			buf_addc(b, ' ');
		else {
			if (escape)
				buf_addc(b, '\\');
			buf_add(b, s + i, n);
		}
	}
	return i;
}

static char *
syslogger_terms(const struct alert *a)
{
	struct buf b;
	size_t i, j;

	buf_init(&b, SIZE_MAX / 2);
	for (i = 0; i < a->nhits; i++) {
		if (a->hits[i].term == NULL)
			continue;
		/* each term once, as the template's hits.terms */
		for (j = 0; j < i; j++)
			if (a->hits[j].term != NULL &&
			    strcmp(a->hits[j].term, a->hits[i].term) == 0)
				break;
		if (j < i)
			continue;
		if (b.len > 0)
			buf_addc(&b, ',');
		buf_addstr(&b, a->hits[i].term);
	}
	return buf_take(&b, NULL);
}

/*
 * The pairs shared by both forms, in a fixed order, in at most ROOM
 * bytes: each value is cut to SYSLOGGER_MAX_VALUE bytes as written, and
 * to what room is left, so that every pair written is whole; the pairs
 * that do not fit at all are left out. In structured data (SD) each
 * pair starts with a space, as SD-PARAMs do after the SD-ID.
 */
static void
syslogger_pairs(struct buf *b, const struct alert *a, int sd, size_t room)
{
	char *terms = syslogger_terms(a);
	const char *keys[] = {
	    "alert", "watchlist", "severity", "feed", "title", "link", "terms"};
	const char *values[] = {a->id, a->watchlist,
	    alert_severity_name(alert_severity_of(a)), a->feed_title,
	    a->item_title, a->item_link, terms};
	size_t i, used, frame, left, start = b->len, pair;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (values[i] == NULL)
			continue;
		used = b->len - start;
		/* [space] key="" */
		frame = (sd || used > 0) + strlen(keys[i]) + 3;
		if (used + frame > room)
			break;
		left = room - used - frame;
		/* A pair that says a value is empty when it is not would
		 * mislead: leave it out. */
		if (left == 0 && values[i][0] != '\0')
			break;
		pair = b->len;
		buf_printf(b, "%s%s=\"", sd || used > 0 ? " " : "", keys[i]);
		if (syslogger_add_value(b, values[i], sd,
			left < SYSLOGGER_MAX_VALUE
			    ? left
			    : SYSLOGGER_MAX_VALUE) == 0 &&
		    values[i][0] != '\0') {
			/* not a character of it fits: no pair at all */
			b->len = pair;
			b->data[pair] = '\0';
			break;
		}
		buf_addc(b, '"');
	}
	free(terms);
}

void
syslogger_format_pairs(struct buf *b, const struct alert *a)
{
	syslogger_pairs(b, a, 0, SYSLOGGER_MAX_LINE);
}

void
syslogger_format_5424(struct buf *b, const struct alert *a, int pri,
    int64_t now, const char *hostname, const char *ident, long pid)
{
	char ts[64];
	size_t used, start = b->len;

	alert_format_time(ts, sizeof ts, now);
	buf_printf(b, "<%d>1 %s %s %s %ld alert [" SYSLOGGER_SD_ID, pri,
	    ts[0] != '\0' ? ts : "-", hostname[0] != '\0' ? hostname : "-",
	    ident, pid);
	/* The structured data comes whole and closed within the cap (the
	 * header is at most some 400 bytes); the MSG, free text, repeats
	 * the pairs for receivers that show only it, in the room left. */
	used = b->len - start;
	syslogger_pairs(b, a, 1, SYSLOGGER_MAX_LINE - used - 1);
	buf_addc(b, ']');
	used = b->len - start;
	if (used + 1 < SYSLOGGER_MAX_LINE) {
		buf_addc(b, ' ');
		syslogger_pairs(b, a, 0, SYSLOGGER_MAX_LINE - used - 1);
		/* No MSG: no space after the SD (RFC 5424 section 6). */
		if (b->len - start == used + 1)
			b->data[--b->len] = '\0';
	}
}

/* The whole message, at most SYSLOGGER_MAX_LINE bytes. */
static char *
syslogger_message(struct syslogger *s, const struct alert *a, size_t *len)
{
	struct buf b;
	struct tm tm;
	time_t now = time(NULL);
	char ts[32];
	int pri;

	pri = s->facility | s->levels[alert_severity_of(a)];
	buf_init(&b, SIZE_MAX / 2);
	switch (s->mode) {
	case SYSLOGGER_LOCAL:
		syslogger_pairs(&b, a, 0, SYSLOGGER_MAX_LINE);
		break;
	case SYSLOGGER_UNIX:
		localtime_r(&now, &tm);
		strftime(ts, sizeof ts, "%b %e %H:%M:%S", &tm);
		buf_printf(
		    &b, "<%d>%s %s[%ld]: ", pri, ts, s->ident, (long)getpid());
		syslogger_pairs(&b, a, 0, SYSLOGGER_MAX_LINE - b.len);
		break;
	case SYSLOGGER_UDP:
	case SYSLOGGER_TCP:
		syslogger_format_5424(&b, a, pri, (int64_t)now, s->hostname,
		    s->ident, (long)getpid());
		break;
	}
	return buf_take(&b, len);
}

static int
syslogger_parse_priorities(
    struct syslogger *s, const struct notifier_option *o, char **cause)
{
	const char *eq;
	char sev[32];
	size_t i, n;
	int idx, level;

	for (i = 0; i < o->nlist; i++) {
		eq = strchr(o->list[i], '=');
		n = eq != NULL ? (size_t)(eq - o->list[i]) : 0;
		if (eq == NULL || n >= sizeof sev) {
			xasprintf(cause,
			    "priorities: \"%.64s\" is not SEVERITY=LEVEL",
			    o->list[i]);
			return -1;
		}
		memcpy(sev, o->list[i], n);
		sev[n] = '\0';
		if ((idx = alert_severity_parse(sev)) == -1) {
			xasprintf(cause,
			    "priorities: unknown severity \"%s\" (info, low, "
			    "medium, high, critical)",
			    sev);
			return -1;
		}
		if (syslogger_lookup(eq + 1, 0, &level) == -1) {
			xasprintf(cause,
			    "priorities: unknown level \"%.32s\" (emerg, "
			    "alert, crit, err, warning, notice, info, debug)",
			    eq + 1);
			return -1;
		}
		s->levels[idx] = level;
	}
	return 0;
}

static int
syslogger_parse_server(struct syslogger *s, const char *server, char **cause)
{
	struct addrinfo hints, *res;
	char host[256], *port;
	const char *rest;
	size_t n;
	int rc;

	if (strncmp(server, "udp://", 6) == 0)
		s->mode = SYSLOGGER_UDP;
	else if (strncmp(server, "tcp://", 6) == 0)
		s->mode = SYSLOGGER_TCP;
	else {
		xasprintf(cause,
		    "server must be udp://HOST:PORT or "
		    "tcp://HOST:PORT");
		return -1;
	}
	rest = server + 6;
	if ((n = strlen(rest)) >= sizeof host) {
		xasprintf(cause, "server: name too long");
		return -1;
	}
	memcpy(host, rest, n + 1);
	if (host[0] == '[') { /* [v6]:port */
		if ((port = strstr(host, "]:")) == NULL)
			goto bad;
		*port = '\0';
		port += 2;
		memmove(host, host + 1, strlen(host));
	} else {
		if ((port = strrchr(host, ':')) == NULL)
			goto bad;
		*port++ = '\0';
	}
	if (host[0] == '\0' || port[0] == '\0')
		goto bad;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = s->mode == SYSLOGGER_UDP ? SOCK_DGRAM : SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		xasprintf(cause, "server %s: %s", server, gai_strerror(rc));
		return -1;
	}
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
bad:
	xasprintf(cause,
	    "server: \"%.64s\" is not udp://HOST:PORT or "
	    "tcp://HOST:PORT",
	    server);
	return -1;
}

static void syslogger_free(void *);

static void *
syslogger_new(struct notifier *n, const struct notifier_config *cf,
    const struct notifier_ctx *ctx, char **cause)
{
	struct syslogger *s = xcalloc(1, sizeof *s);
	const struct notifier_option *o;
	const char *v, *p;
	struct sockaddr_un *sun;

	s->fd = -1;
	s->base = ctx->base;
	TAILQ_INIT(&s->pending);
	memcpy(s->levels, syslogger_default_levels, sizeof s->levels);
	v = notifier_option(cf, "ident");
	s->ident = xstrdup(v != NULL ? v : SYSLOGGER_DEFAULT_IDENT);
	if (strlen(s->ident) > SYSLOGGER_MAX_IDENT)
		goto bad_ident;
	for (p = s->ident; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~' || *p == '[' || *p == ':')
			goto bad_ident;
	s->facility = LOG_DAEMON;
	if ((v = notifier_option(cf, "facility")) != NULL &&
	    syslogger_lookup(v, 1, &s->facility) == -1) {
		xasprintf(cause,
		    "unknown facility \"%.32s\" (daemon, user, local0 .. "
		    "local7, ...)",
		    v);
		goto fail;
	}
	if ((o = notifier_option_get(cf, "priorities")) != NULL &&
	    syslogger_parse_priorities(s, o, cause) == -1)
		goto fail;
	if (gethostname(s->hostname, sizeof s->hostname) == -1)
		s->hostname[0] = '\0';
	s->hostname[sizeof s->hostname - 1] = '\0';

	v = notifier_option(cf, "server");
	p = notifier_option(cf, "socket");
	if (v != NULL && p != NULL) {
		*cause = xstrdup("give socket or server, not both");
		goto fail;
	}
	if (v != NULL) {
		if (syslogger_parse_server(s, v, cause) == -1)
			goto fail;
		if (s->mode == SYSLOGGER_UDP) {
			s->fd = socket(s->addr.ss_family,
			    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (s->fd == -1) {
				xasprintf(cause, "socket: %s", strerror(errno));
				goto fail;
			}
		}
	} else if (p != NULL) {
		s->mode = SYSLOGGER_UNIX;
		sun = (struct sockaddr_un *)&s->addr;
		if (strlen(p) >= sizeof sun->sun_path) {
			xasprintf(cause, "socket: path too long");
			goto fail;
		}
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, p);
		s->addrlen = sizeof *sun;
		s->fd = socket(
		    AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd == -1) {
			xasprintf(cause, "socket: %s", strerror(errno));
			goto fail;
		}
	} else
		s->mode = SYSLOGGER_LOCAL;
	return s;
bad_ident:
	xasprintf(cause,
	    "ident must be 1 to %d printable ASCII characters "
	    "without spaces, '[' or ':'",
	    SYSLOGGER_MAX_IDENT);
fail:
	syslogger_free(s);
	return NULL;
}

static void syslogger_tcp_drained_cb(
    struct evbuffer *, const struct evbuffer_cb_info *, void *);

/* Drop the TCP connection; what it holds is not counted as sent. */
static void
syslogger_tcp_close(struct syslogger *s)
{
	if (s->bev == NULL)
		return;
	evbuffer_remove_cb(
	    bufferevent_get_output(s->bev), syslogger_tcp_drained_cb, s);
	bufferevent_free(s->bev);
	s->bev = NULL;
}

/* Fail every job the TCP connection had not sent, and drop it. */
static void
syslogger_tcp_reset(struct syslogger *s, const char *why)
{
	struct syslogger_pending *p;

	syslogger_tcp_close(s);
	while ((p = TAILQ_FIRST(&s->pending)) != NULL) {
		TAILQ_REMOVE(&s->pending, p, entry);
		p->job->data = NULL;
		notifier_job_finish(p->job, NOTIFIER_TEMPFAIL, -1, "%s", why);
		free(p);
	}
	s->queued = s->sent = 0;
}

/* Bytes left the output buffer for the kernel: finish the jobs whose
 * whole frame did. */
static void
syslogger_tcp_drained_cb(
    struct evbuffer *evb, const struct evbuffer_cb_info *info, void *arg)
{
	struct syslogger *s = arg;
	struct syslogger_pending *p;

	s->sent += info->n_deleted;
	while ((p = TAILQ_FIRST(&s->pending)) != NULL && p->end <= s->sent) {
		TAILQ_REMOVE(&s->pending, p, entry);
		p->job->data = NULL;
		notifier_job_finish(p->job, NOTIFIER_OK, -1, NULL);
		free(p);
	}
}

static void
syslogger_tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct syslogger *s = arg;
	char why[256];

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, sizeof why, "syslog server: timed out");
	else if (what & BEV_EVENT_EOF)
		snprintf(
		    why, sizeof why, "syslog server closed the connection");
	else
		snprintf(why, sizeof why, "syslog server: %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	syslogger_tcp_reset(s, why);
}

static void
syslogger_tcp_read_cb(struct bufferevent *bev, void *arg)
{
	/* A syslog server says nothing; discard whatever it sends. */
	evbuffer_drain(bufferevent_get_input(bev), (size_t)-1);
}

static int
syslogger_tcp_connect(struct syslogger *s)
{
	struct timeval tv = {SYSLOGGER_TCP_TIMEOUT_MS / 1000,
	    (SYSLOGGER_TCP_TIMEOUT_MS % 1000) * 1000};

	s->bev = bufferevent_socket_new(s->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL)
		return -1;
	bufferevent_setcb(
	    s->bev, syslogger_tcp_read_cb, NULL, syslogger_tcp_event_cb, s);
	bufferevent_set_timeouts(s->bev, NULL, &tv);
	evbuffer_add_cb(
	    bufferevent_get_output(s->bev), syslogger_tcp_drained_cb, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(
		s->bev, (struct sockaddr *)&s->addr, (int)s->addrlen) == -1) {
		bufferevent_free(s->bev);
		s->bev = NULL;
		return -1;
	}
	return 0;
}

static void
syslogger_deliver(void *state, struct notifier_job *job)
{
	struct syslogger *s = state;
	struct syslogger_pending *p;
	char *msg, frame[32];
	size_t len;
	int n, saved;

	msg = syslogger_message(s, job->alert, &len);
	switch (s->mode) {
	case SYSLOGGER_LOCAL:
		openlog(s->ident, LOG_PID | LOG_NDELAY, s->facility);
		syslog(s->levels[alert_severity_of(job->alert)], "%s", msg);
		notifier_job_finish(job, NOTIFIER_OK, -1, NULL);
		break;
	case SYSLOGGER_UNIX:
	case SYSLOGGER_UDP:
		if (sendto(s->fd, msg, len, MSG_NOSIGNAL,
			(struct sockaddr *)&s->addr, s->addrlen) == -1) {
			saved = errno;
			notifier_job_finish(job, NOTIFIER_TEMPFAIL, -1,
			    "syslog %s: %s",
			    s->mode == SYSLOGGER_UNIX ? "socket" : "server",
			    strerror(saved));
		} else
			notifier_job_finish(job, NOTIFIER_OK, -1, NULL);
		break;
	case SYSLOGGER_TCP:
		if (s->bev == NULL && syslogger_tcp_connect(s) == -1) {
			notifier_job_finish(job, NOTIFIER_TEMPFAIL, -1,
			    "syslog server: cannot connect: %s",
			    strerror(errno));
			break;
		}
		n = snprintf(frame, sizeof frame, "%zu ", len);
		p = xcalloc(1, sizeof *p);
		p->job = job;
		s->queued += (uint64_t)n + len;
		p->end = s->queued;
		job->data = p;
		TAILQ_INSERT_TAIL(&s->pending, p, entry);
		bufferevent_write(s->bev, frame, (size_t)n);
		bufferevent_write(s->bev, msg, len);
		break;
	}
	free(msg);
}

static void
syslogger_cancel(void *state, struct notifier_job *job)
{
	struct syslogger *s = state;
	struct syslogger_pending *p = job->data;

	if (p == NULL)
		return;
	TAILQ_REMOVE(&s->pending, p, entry);
	job->data = NULL;
	free(p);
}

static void
syslogger_free(void *state)
{
	struct syslogger *s = state;
	struct syslogger_pending *p;

	if (s == NULL)
		return;
	while ((p = TAILQ_FIRST(&s->pending)) != NULL) {
		TAILQ_REMOVE(&s->pending, p, entry);
		p->job->data = NULL;
		free(p);
	}
	syslogger_tcp_close(s);
	if (s->fd != -1)
		close(s->fd);
	if (s->mode == SYSLOGGER_LOCAL && s->ident != NULL)
		closelog();
	free(s->ident);
	free(s);
}

const struct notifier_backend syslogger_backend = {"syslog", syslogger_new,
    syslogger_deliver, syslogger_cancel, syslogger_free, NULL};

/*
 * admin: the daemon's HTTP server for operators, on libevent's evhttp
 * and the process's event_base. GET only:
 *
 *   /healthz        200 while the loop turns and work makes progress
 *   /readyz         200 once the store answers and a config is loaded
 *   /metrics        Prometheus text exposition (metrics.h)
 *   /api/v1/feeds   every feed: state, last success, failures, next poll
 *   /api/v1/alerts  recent alerts with their explanation (?since=, ?limit=)
 *   /api/v1/outbox  counts, and the pending and dead rows
 *
 * With a token, every path but /healthz and /readyz wants the header
 * "Authorization: Bearer TOKEN" (compared in constant time).
 */
#ifndef ADMIN_H
#define ADMIN_H

struct admin;
struct engine;
struct event_base;

struct admin_options {
	const char *address; /* numeric IPv4 or IPv6 */
	int port; /* 0: any free port (tests), see admin_port() */
	const char *token; /* NULL: none; copied */
};

/* Listen on BASE for ENGINE (both borrowed and must outlive the admin
 * server). NULL with *cause when the address cannot be bound. */
struct admin *admin_new(struct event_base *, struct engine *,
    const struct admin_options *, char **cause);
/* Close the listener and every connection. NULL is fine. */
void admin_free(struct admin *);
/* The port listened on. */
int admin_port(const struct admin *);
/* Point at another engine configuration's token (after a reload); NULL
 * removes it. */
void admin_set_token(struct admin *, const char *token);

#endif

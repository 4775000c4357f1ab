/*
 * metrics: counters, gauges and histograms with labels, rendered in the
 * Prometheus text exposition format (version 0.0.4). No globals: the
 * engine owns one and the admin server renders it.
 *
 * A family is declared once with its type and help text; its series are
 * named by label pairs given as "key", "value", ..., NULL. Families are
 * rendered in declaration order, their series sorted by label text.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

struct buf;
struct metrics;

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
};

struct metrics *metrics_new(void);
void metrics_free(struct metrics *);

/* Declare family NAME; BOUNDS (ascending bucket upper bounds, copied)
 * only for histograms. Declaring a name twice is a programming error. */
void metrics_declare(struct metrics *, const char *name, enum metrics_type,
    const char *help, const double *bounds, size_t nbounds);

/* Add V to a counter or gauge series (created at 0). */
void metrics_add(struct metrics *, const char *name, double v, ...)
    __attribute__((sentinel));
/* Set a gauge series. */
void metrics_set(struct metrics *, const char *name, double v, ...)
    __attribute__((sentinel));
/* Count one observation V in a histogram series. */
void metrics_observe(struct metrics *, const char *name, double v, ...)
    __attribute__((sentinel));
/* The value of a counter or gauge series (a histogram's sum), 0 when
 * it does not exist. */
double metrics_get(struct metrics *, const char *name, ...)
    __attribute__((sentinel));
/* Forget every series of a family (gauges rebuilt at each scrape). */
void metrics_clear(struct metrics *, const char *name);

/* Append the exposition text to B; -1 when B's cap is reached. */
int metrics_render(struct metrics *, struct buf *);

#endif

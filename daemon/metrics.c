/*
 * metrics: see metrics.h. The exposition format followed is Prometheus's
 * text format 0.0.4: "# HELP name text" (backslash and newline escaped),
 * "# TYPE name type", then one "name{labels} value" line per series;
 * label values escape backslash, double quote and newline; a histogram
 * has cumulative name_bucket{le="..."} lines ending with le="+Inf", then
 * name_sum and name_count.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

/* Series per family beyond which new label sets are dropped (a bound on
 * memory whatever the number of feeds, watchlists or notifiers). */
#define METRICS_MAX_SERIES 200000
/* Bytes of one series' label text. */
#define METRICS_MAX_LABELS 4096

struct metrics_series {
	char *labels; /* rendered: k="v",k2="v2" ("" for none) */
	double value; /* counter, gauge; histogram: the sum */
	uint64_t count; /* histogram */
	uint64_t *buckets; /* histogram, per bound (not cumulative) */
};

struct metrics_family {
	char *name;
	char *help;
	enum metrics_type type;
	double *bounds;
	size_t nbounds;
	struct metrics_series *series;
	size_t nseries;
	size_t *slots; /* hash of labels -> index + 1; 0 is empty */
	size_t nslots;
};

struct metrics {
	struct metrics_family *families;
	size_t nfamilies;
};

struct metrics *
metrics_new(void)
{
	return xcalloc(1, sizeof(struct metrics));
}

static void
metrics_family_clear(struct metrics_family *f)
{
	size_t i;

	for (i = 0; i < f->nseries; i++) {
		free(f->series[i].labels);
		free(f->series[i].buckets);
	}
	free(f->series);
	free(f->slots);
	f->series = NULL;
	f->slots = NULL;
	f->nseries = f->nslots = 0;
}

void
metrics_free(struct metrics *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nfamilies; i++) {
		metrics_family_clear(&m->families[i]);
		free(m->families[i].name);
		free(m->families[i].help);
		free(m->families[i].bounds);
	}
	free(m->families);
	free(m);
}

void
metrics_declare(struct metrics *m, const char *name, enum metrics_type type,
    const char *help, const double *bounds, size_t nbounds)
{
	struct metrics_family *f;
	size_t i;

	for (i = 0; i < m->nfamilies; i++)
		if (strcmp(m->families[i].name, name) == 0)
			fatalx("metrics: %s declared twice", name);
	m->families =
	    xreallocarray(m->families, m->nfamilies + 1, sizeof *m->families);
	f = &m->families[m->nfamilies++];
	memset(f, 0, sizeof *f);
	f->name = xstrdup(name);
	f->help = xstrdup(help);
	f->type = type;
	if (type == METRICS_HISTOGRAM && nbounds > 0) {
		f->bounds = xcalloc(nbounds, sizeof *f->bounds);
		memcpy(f->bounds, bounds, nbounds * sizeof *bounds);
		f->nbounds = nbounds;
	}
}

static struct metrics_family *
metrics_family(struct metrics *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nfamilies; i++)
		if (strcmp(m->families[i].name, name) == 0)
			return &m->families[i];
	fatalx("metrics: %s not declared", name);
}

/* The label text of "key", "value", ..., NULL, values escaped. */
static int
metrics_labels(struct buf *b, va_list ap)
{
	const char *key, *value, *p;
	int first = 1;

	while ((key = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		if (value == NULL)
			value = "";
		if (buf_printf(b, "%s%s=\"", first ? "" : ",", key) == -1)
			return -1;
		first = 0;
		for (p = value; *p != '\0'; p++) {
			if (*p == '\\' || *p == '"') {
				if (buf_addc(b, '\\') == -1 ||
				    buf_addc(b, *p) == -1)
					return -1;
			} else if (*p == '\n') {
				if (buf_addstr(b, "\\n") == -1)
					return -1;
			} else if (buf_addc(b, *p) == -1)
				return -1;
		}
		if (buf_addc(b, '"') == -1)
			return -1;
	}
	return 0;
}

static size_t
metrics_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static void
metrics_rehash(struct metrics_family *f)
{
	size_t i, j, n = f->nslots == 0 ? 16 : f->nslots * 2;

	free(f->slots);
	f->slots = xcalloc(n, sizeof *f->slots);
	f->nslots = n;
	for (i = 0; i < f->nseries; i++) {
		j = metrics_hash(f->series[i].labels) & (n - 1);
		while (f->slots[j] != 0)
			j = (j + 1) & (n - 1);
		f->slots[j] = i + 1;
	}
}

/* The series of F with label text LABELS, created when CREATE; NULL when
 * absent or over the cap. */
static struct metrics_series *
metrics_series(struct metrics_family *f, const char *labels, int create)
{
	struct metrics_series *s;
	size_t j;

	if (f->nslots > 0) {
		j = metrics_hash(labels) & (f->nslots - 1);
		while (f->slots[j] != 0) {
			s = &f->series[f->slots[j] - 1];
			if (strcmp(s->labels, labels) == 0)
				return s;
			j = (j + 1) & (f->nslots - 1);
		}
	}
	if (!create || f->nseries >= METRICS_MAX_SERIES)
		return NULL;
	f->series = xreallocarray(f->series, f->nseries + 1, sizeof *f->series);
	s = &f->series[f->nseries++];
	memset(s, 0, sizeof *s);
	s->labels = xstrdup(labels);
	if (f->type == METRICS_HISTOGRAM)
		s->buckets = xcalloc(f->nbounds + 1, sizeof *s->buckets);
	if (2 * f->nseries > f->nslots)
		metrics_rehash(f);
	else {
		j = metrics_hash(labels) & (f->nslots - 1);
		while (f->slots[j] != 0)
			j = (j + 1) & (f->nslots - 1);
		f->slots[j] = f->nseries;
	}
	return s;
}

enum metrics_op { METRICS_ADD, METRICS_SET, METRICS_OBSERVE };

static void
metrics_update(struct metrics *m, const char *name, enum metrics_op op,
    double v, va_list ap)
{
	struct metrics_family *f = metrics_family(m, name);
	struct metrics_series *s;
	struct buf labels;
	size_t i;

	buf_init(&labels, METRICS_MAX_LABELS);
	if (metrics_labels(&labels, ap) == -1)
		return;
	if ((s = metrics_series(f, buf_str(&labels), 1)) == NULL) {
		buf_free(&labels);
		return;
	}
	buf_free(&labels);
	switch (op) {
	case METRICS_ADD:
		s->value += v;
		break;
	case METRICS_SET:
		s->value = v;
		break;
	case METRICS_OBSERVE:
		for (i = 0; i < f->nbounds && v > f->bounds[i]; i++)
			;
		s->buckets[i]++;
		s->count++;
		s->value += v;
		break;
	}
}

void
metrics_add(struct metrics *m, const char *name, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	metrics_update(m, name, METRICS_ADD, v, ap);
	va_end(ap);
}

void
metrics_set(struct metrics *m, const char *name, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	metrics_update(m, name, METRICS_SET, v, ap);
	va_end(ap);
}

void
metrics_observe(struct metrics *m, const char *name, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	metrics_update(m, name, METRICS_OBSERVE, v, ap);
	va_end(ap);
}

double
metrics_get(struct metrics *m, const char *name, ...)
{
	struct metrics_family *f = metrics_family(m, name);
	struct metrics_series *s;
	struct buf labels;
	va_list ap;
	double v = 0;

	buf_init(&labels, METRICS_MAX_LABELS);
	va_start(ap, name);
	if (metrics_labels(&labels, ap) == 0 &&
	    (s = metrics_series(f, buf_str(&labels), 0)) != NULL)
		v = s->value;
	va_end(ap);
	buf_free(&labels);
	return v;
}

void
metrics_clear(struct metrics *m, const char *name)
{
	metrics_family_clear(metrics_family(m, name));
}

/* A sample value: integers without a fraction, +Inf, -Inf, NaN. */
static int
metrics_value(struct buf *b, double v)
{
	char text[32];

	if (isnan(v))
		return buf_addstr(b, "NaN");
	if (isinf(v))
		return buf_addstr(b, v > 0 ? "+Inf" : "-Inf");
	if (v == floor(v) && fabs(v) < 1e15)
		return buf_printf(b, "%.0f", v);
	/* The shortest of 15 or 17 digits that reads back the same. */
	snprintf(text, sizeof text, "%.15g", v);
	if (strtod(text, NULL) != v)
		snprintf(text, sizeof text, "%.17g", v);
	return buf_addstr(b, text);
}

static int
metrics_series_cmp(const void *a, const void *b)
{
	const struct metrics_series *const *x = a, *const *y = b;

	return strcmp((*x)->labels, (*y)->labels);
}

static int
metrics_render_histogram(struct buf *b, const struct metrics_family *f,
    const struct metrics_series *s)
{
	const char *comma = s->labels[0] != '\0' ? "," : "";
	uint64_t cumulative = 0;
	size_t i;

	for (i = 0; i <= f->nbounds; i++) {
		cumulative += s->buckets[i];
		if (buf_printf(b, "%s_bucket{%s%sle=\"", f->name, s->labels,
			comma) == -1)
			return -1;
		if ((i < f->nbounds ? metrics_value(b, f->bounds[i])
				    : buf_addstr(b, "+Inf")) == -1)
			return -1;
		if (buf_printf(
			b, "\"} %llu\n", (unsigned long long)cumulative) == -1)
			return -1;
	}
	if (buf_printf(b, "%s_sum%s%s%s ", f->name, *comma ? "{" : "",
		s->labels, *comma ? "}" : "") == -1 ||
	    metrics_value(b, s->value) == -1 ||
	    buf_printf(b, "\n%s_count%s%s%s %llu\n", f->name, *comma ? "{" : "",
		s->labels, *comma ? "}" : "",
		(unsigned long long)s->count) == -1)
		return -1;
	return 0;
}

int
metrics_render(struct metrics *m, struct buf *b)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	const struct metrics_family *f;
	const struct metrics_series **sorted, *s;
	const char *p;
	size_t i, j;
	int rc = 0;

	for (i = 0; i < m->nfamilies && rc == 0; i++) {
		f = &m->families[i];
		if (buf_printf(b, "# HELP %s ", f->name) == -1)
			return -1;
		for (p = f->help; *p != '\0' && rc == 0; p++) {
			if (*p == '\\')
				rc = buf_addstr(b, "\\\\");
			else if (*p == '\n')
				rc = buf_addstr(b, "\\n");
			else
				rc = buf_addc(b, *p);
		}
		if (rc == -1 ||
		    buf_printf(
			b, "\n# TYPE %s %s\n", f->name, types[f->type]) == -1)
			return -1;
		sorted = xcalloc(f->nseries + 1, sizeof *sorted);
		for (j = 0; j < f->nseries; j++)
			sorted[j] = &f->series[j];
		if (f->nseries > 1)
			qsort(sorted, f->nseries, sizeof *sorted,
			    metrics_series_cmp);
		for (j = 0; j < f->nseries && rc == 0; j++) {
			s = sorted[j];
			if (f->type == METRICS_HISTOGRAM) {
				rc = metrics_render_histogram(b, f, s);
				continue;
			}
			if (s->labels[0] != '\0')
				rc = buf_printf(
				    b, "%s{%s} ", f->name, s->labels);
			else
				rc = buf_printf(b, "%s ", f->name);
			if (rc == 0)
				rc = metrics_value(b, s->value);
			if (rc == 0)
				rc = buf_addc(b, '\n');
		}
		free(sorted);
	}
	return rc;
}

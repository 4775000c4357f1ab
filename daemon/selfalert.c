/*
 * selfalert: the daemon's alerts about itself. See selfalert.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "selfalert.h"
#include "store.h"
#include "xmalloc.h"

/* Checks at least this often, and no more often than the floor. */
#define SELFALERT_PERIOD_MAX_MS (30 * 1000)
#define SELFALERT_PERIOD_MIN_MS 1000
/* Feeds listed by name in one alert; the rest are counted. */
#define SELFALERT_LIST_MAX 50
/* Bytes of an alert's summary. */
#define SELFALERT_SUMMARY_MAX (16 * 1024)
/* The subject of the outbox check. */
#define SELFALERT_OUTBOX "outbox"
/* A feed's subject: this prefix and its configured URL. */
#define SELFALERT_FEED_PREFIX "feed:"

struct selfalert {
	struct store *store;
	/* What is raised, sorted by subject (the store's copy in memory). */
	struct store_self_alert *raised;
	size_t nraised;
};

static int
selfalert_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_self_alert *)a)->subject,
	    ((const struct store_self_alert *)b)->subject);
}

static struct store_self_alert *
selfalert_find(const struct selfalert *sa, const char *subject)
{
	struct store_self_alert key;

	if (sa->nraised == 0)
		return NULL;
	key.subject = (char *)subject;
	return bsearch(
	    &key, sa->raised, sa->nraised, sizeof *sa->raised, selfalert_cmp);
}

/* The order of selfalert_cmp between SELFALERT_FEED_PREFIX + URL (the key)
 * and a subject, without making the key's string. */
static int
selfalert_feed_cmp(const void *url, const void *elem)
{
	const char *subject = ((const struct store_self_alert *)elem)->subject;
	size_t plen = strlen(SELFALERT_FEED_PREFIX);
	int c = strncmp(SELFALERT_FEED_PREFIX, subject, plen);

	return c != 0 ? c : strcmp(url, subject + plen);
}

/* The raised subject of the feed at URL, or NULL (once per feed and
 * check: no allocation). */
static struct store_self_alert *
selfalert_find_feed(const struct selfalert *sa, const char *url)
{
	if (sa->nraised == 0)
		return NULL;
	return bsearch(url, sa->raised, sa->nraised, sizeof *sa->raised,
	    selfalert_feed_cmp);
}

/* Read the raised set again; on error the copy in memory stays. */
static int
selfalert_load(struct selfalert *sa, char **cause)
{
	struct store_self_alert *raised;
	size_t n;

	if (store_self_alerts(sa->store, &raised, &n, cause) == -1)
		return -1;
	if (n > 1)
		qsort(raised, n, sizeof *raised, selfalert_cmp);
	store_self_alerts_free(sa->raised, sa->nraised);
	sa->raised = raised;
	sa->nraised = n;
	return 0;
}

struct selfalert *
selfalert_new(struct store *store, char **cause)
{
	struct selfalert *sa = xcalloc(1, sizeof *sa);

	sa->store = store;
	if (selfalert_load(sa, cause) == -1) {
		selfalert_free(sa);
		return NULL;
	}
	return sa;
}

void
selfalert_free(struct selfalert *sa)
{
	if (sa == NULL)
		return;
	store_self_alerts_free(sa->raised, sa->nraised);
	free(sa);
}

size_t
selfalert_raised(const struct selfalert *sa)
{
	return sa->nraised;
}

static int64_t
selfalert_min_nonzero(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

int64_t
selfalert_period_ms(const struct config *cf)
{
	int64_t p;

	if (cf->nself_notify == 0)
		return 0;
	/* A quarter of the shortest threshold: an alert comes at most a
	 * quarter late. */
	p = selfalert_min_nonzero(
	    cf->self_feed_failing_ms, cf->self_outbox_pending_ms);
	p = p > 0 ? p / 4 : SELFALERT_PERIOD_MAX_MS;
	if (p > SELFALERT_PERIOD_MAX_MS)
		p = SELFALERT_PERIOD_MAX_MS;
	if (p < SELFALERT_PERIOD_MIN_MS)
		p = SELFALERT_PERIOD_MIN_MS;
	return p;
}

/* Enqueue A for the configured notifiers and record SUBJECTS raised or
 * recovered, in one transaction; then the copy in memory follows. */
static int
selfalert_send(struct selfalert *sa, const struct config *cf,
    const char *const *subjects, size_t n, int raise, struct alert *a,
    int64_t now, char **cause)
{
	struct store_alert sta;
	char *payload = NULL;
	int rc;

	memset(&sta, 0, sizeof sta);
	if (a != NULL) {
		payload = alert_to_json(a);
		sta.alert_id = a->id;
		sta.watchlist = a->watchlist;
		sta.notifiers = (const char *const *)cf->self_notify;
		sta.nnotifiers = cf->nself_notify;
		sta.payload = payload;
	}
	rc = store_self_alert_set(sa->store, subjects, n, raise, now,
	    a != NULL ? &sta : NULL, a != NULL ? a->feed_url : NULL,
	    a != NULL ? a->item_id : NULL, cause);
	free(payload);
	if (rc == -1)
		return -1;
	return selfalert_load(sa, cause);
}

static struct alert *
selfalert_alert(
    const struct config *cf, const char *watchlist, int raise, int64_t now)
{
	struct alert *a = alert_new();
	char id[37];

	alert_new_id(id);
	a->id = xstrdup(id);
	a->watchlist = xstrdup(watchlist);
	a->severity = xstrdup(!raise        ? "info"
		: cf->self_severity != NULL ? cf->self_severity
					    : CONFIG_DEFAULT_SELF_SEVERITY);
	a->created_at = now;
	xasprintf(&a->item_id, "self:%s", id);
	return a;
}

/* One line of a feed alert's summary. */
static int
selfalert_feed_line(
    struct buf *b, const struct selfalert_feed *f, int raise, int64_t now)
{
	char since[32], last[32], d[32];

	if (!raise)
		return buf_printf(
		    b, "%s <%s>: fetched again\n", f->name, f->url);
	alert_format_time(since, sizeof since, f->failing_since);
	config_format_duration(d, sizeof d, (now - f->failing_since) * 1000);
	if (f->last_success_at > 0)
		alert_format_time(last, sizeof last, f->last_success_at);
	else
		snprintf(last, sizeof last, "never");
	return buf_printf(b,
	    "%s <%s>: %s since %s (%s), %d failures; last error: %s; last "
	    "success: %s\n",
	    f->name, f->url, f->gone ? "gone" : "failing", since, d,
	    f->consecutive_failures,
	    f->last_error != NULL ? f->last_error : "none", last);
}

/* One alert for every feed in LIST (raised or recovered), then the
 * subjects recorded. */
static int
selfalert_feeds(struct selfalert *sa, const struct config *cf,
    const struct selfalert_feed *const *list, size_t n, int raise, int64_t now,
    char **cause)
{
	struct alert *a;
	struct buf text;
	char **subjects, d[32];
	size_t i;
	int rc;

	a = selfalert_alert(cf,
	    raise ? SELFALERT_FEED_FAILING : SELFALERT_FEED_RECOVERED, raise,
	    now);
	config_format_duration(d, sizeof d, cf->self_feed_failing_ms);
	if (n == 1) {
		a->feed_title = xstrdup(list[0]->name);
		a->feed_url = xstrdup(list[0]->url);
		a->item_link = xstrdup(list[0]->url);
		if (raise)
			xasprintf(&a->item_title,
			    "Feed \"%s\" %s for more than %s", list[0]->name,
			    list[0]->gone ? "gone" : "failing", d);
		else
			xasprintf(&a->item_title, "Feed \"%s\" recovered",
			    list[0]->name);
	} else if (raise)
		xasprintf(
		    &a->item_title, "%zu feeds failing for more than %s", n, d);
	else
		xasprintf(&a->item_title, "%zu feeds recovered", n);
	buf_init(&text, SELFALERT_SUMMARY_MAX);
	for (i = 0; i < n && i < SELFALERT_LIST_MAX; i++)
		if (selfalert_feed_line(&text, list[i], raise, now) == -1)
			break;
	if (i < n)
		buf_printf(&text, "and %zu more\n", n - i);
	if (text.len > 0)
		text.data[--text.len] = '\0';
	a->item_summary = buf_take(&text, NULL);

	subjects = xcalloc(n + 1, sizeof *subjects);
	for (i = 0; i < n; i++)
		xasprintf(
		    &subjects[i], SELFALERT_FEED_PREFIX "%s", list[i]->url);
	rc = selfalert_send(
	    sa, cf, (const char *const *)subjects, n, raise, a, now, cause);
	if (rc == 0)
		log_notice("self-alert: %s", a->item_title);
	for (i = 0; i < n; i++)
		free(subjects[i]);
	free(subjects);
	alert_free(a);
	return rc;
}

/* Raised feed subjects whose feed is no longer configured: forgotten,
 * without an alert (the operator removed the feed). */
static int
selfalert_forget(
    struct selfalert *sa, const unsigned char *seen, int64_t now, char **cause)
{
	const char **gone;
	size_t i, n = 0;
	int rc;

	gone = xcalloc(sa->nraised + 1, sizeof *gone);
	for (i = 0; i < sa->nraised; i++)
		if (!seen[i] &&
		    strncmp(sa->raised[i].subject, SELFALERT_FEED_PREFIX,
			strlen(SELFALERT_FEED_PREFIX)) == 0)
			gone[n++] = sa->raised[i].subject;
	rc = 0;
	if (n > 0) {
		rc = store_self_alert_set(
		    sa->store, gone, n, 0, now, NULL, NULL, NULL, cause);
		if (rc == 0) {
			log_info("self-alert: %zu feeds no longer configured "
				 "forgotten",
			    n);
			rc = selfalert_load(sa, cause);
		}
	}
	free(gone);
	return rc;
}

static int
selfalert_check_feeds(struct selfalert *sa, const struct config *cf,
    const struct selfalert_feed *feeds, size_t n, int64_t now, char **cause)
{
	const struct selfalert_feed **up, **down;
	struct store_self_alert *r;
	unsigned char *seen;
	size_t i, nup = 0, ndown = 0;
	int rc = 0, nalerts = 0;

	up = xcalloc(n + 1, sizeof *up);
	down = xcalloc(n + 1, sizeof *down);
	seen = xcalloc(sa->nraised + 1, 1);
	for (i = 0; i < n; i++) {
		if ((r = selfalert_find_feed(sa, feeds[i].url)) != NULL) {
			seen[r - sa->raised] = 1;
			if (feeds[i].failing_since == 0)
				down[ndown++] = &feeds[i];
		} else if (cf->self_feed_failing_ms > 0 &&
		    feeds[i].failing_since > 0 &&
		    (now - feeds[i].failing_since) * 1000 >=
			cf->self_feed_failing_ms)
			up[nup++] = &feeds[i];
	}
	if (selfalert_forget(sa, seen, now, cause) == -1)
		rc = -1;
	if (rc == 0 && nup > 0) {
		if (selfalert_feeds(sa, cf, up, nup, 1, now, cause) == -1)
			rc = -1;
		else
			nalerts++;
	}
	if (rc == 0 && ndown > 0) {
		if (selfalert_feeds(sa, cf, down, ndown, 0, now, cause) == -1)
			rc = -1;
		else
			nalerts++;
	}
	free(seen);
	free(up);
	free(down);
	return rc == -1 ? -1 : nalerts;
}

/*
 * The outbox backs up when its oldest pending row is older than
 * outbox_pending_for or more rows than outbox_pending_rows are pending;
 * it has recovered when both are back under half of that (no alert for
 * every row that comes and goes around the line).
 */
static int
selfalert_check_outbox(
    struct selfalert *sa, const struct config *cf, int64_t now, char **cause)
{
	const char *subject = SELFALERT_OUTBOX;
	struct store_outbox_stats os;
	struct alert *a;
	struct buf text;
	char d[32], t[32];
	int64_t age_ms, limit_ms = cf->self_outbox_pending_ms;
	uint64_t rows, limit_rows = cf->self_outbox_pending_rows;
	int raised, backlog, clear, rc;

	if (store_outbox_stats(sa->store, now, &os, cause) == -1)
		return -1;
	rows = os.pending + os.inflight;
	age_ms = os.oldest_pending_age * 1000;
	raised = selfalert_find(sa, subject) != NULL;
	backlog = (limit_ms > 0 && age_ms >= limit_ms) ||
	    (limit_rows > 0 && rows > limit_rows);
	clear = (limit_ms == 0 || age_ms < limit_ms / 2) &&
	    (limit_rows == 0 || rows <= limit_rows / 2);
	if ((!raised && !backlog) || (raised && !clear))
		return 0;
	a = selfalert_alert(cf,
	    raised ? SELFALERT_OUTBOX_RECOVERED : SELFALERT_OUTBOX_BACKLOG,
	    !raised, now);
	config_format_duration(d, sizeof d, os.oldest_pending_age * 1000);
	if (raised)
		xasprintf(&a->item_title,
		    "Outbox recovered: %llu alerts pending",
		    (unsigned long long)rows);
	else
		xasprintf(&a->item_title,
		    "Outbox backing up: %llu alerts pending, the oldest for %s",
		    (unsigned long long)rows, d);
	buf_init(&text, SELFALERT_SUMMARY_MAX);
	buf_printf(&text, "Pending: %zu; in flight: %zu; dead: %zu.",
	    os.pending, os.inflight, os.dead);
	if (limit_ms > 0) {
		config_format_duration(t, sizeof t, limit_ms);
		buf_printf(&text, " Threshold: the oldest pending for %s.", t);
	}
	if (limit_rows > 0)
		buf_printf(&text, " Threshold: %llu rows pending.",
		    (unsigned long long)limit_rows);
	if (!raised)
		buf_addstr(&text,
		    " See feedwatch outbox list and the notifiers' last "
		    "errors.");
	a->item_summary = buf_take(&text, NULL);
	rc = selfalert_send(sa, cf, &subject, 1, !raised, a, now, cause);
	if (rc == 0)
		log_notice("self-alert: %s", a->item_title);
	alert_free(a);
	return rc == -1 ? -1 : 1;
}

int
selfalert_check(struct selfalert *sa, const struct config *cf,
    const struct selfalert_feed *feeds, size_t n, int64_t now, char **cause)
{
	int a, b;

	if (cause != NULL)
		*cause = NULL;
	if (cf->nself_notify == 0)
		return 0;
	if ((a = selfalert_check_feeds(sa, cf, feeds, n, now, cause)) == -1)
		return -1;
	if ((b = selfalert_check_outbox(sa, cf, now, cause)) == -1)
		return -1;
	return a + b;
}

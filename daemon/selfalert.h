/*
 * selfalert: the daemon's alerts about itself. A feed failing for longer
 * than self_alerts.feed_failing_for, or an outbox backing up (its oldest
 * pending row older than outbox_pending_for, or more rows pending than
 * outbox_pending_rows), raises an alert through the notifiers named in
 * self_alerts.notify: once, and once more when it recovers.
 *
 * Feeds that cross the line in the same check share one alert (a network
 * outage is one alert, not one per feed); so do feeds that recover
 * together. What is raised lives in the store (store_self_alert_set), in
 * the same transaction as the alert's outbox rows: a restart neither
 * repeats an alert nor forgets a recovery.
 *
 * The alerts are alert documents (notifiers/alert.h) whose watchlist is
 * one of the SELFALERT_* names below (":" cannot occur in a configured
 * watchlist's name), so every notifier renders them as it renders any
 * alert.
 */
#ifndef SELFALERT_H
#define SELFALERT_H

#include <stddef.h>
#include <stdint.h>

#define SELFALERT_FEED_FAILING "feedwatch:feed-failing"
#define SELFALERT_FEED_RECOVERED "feedwatch:feed-recovered"
#define SELFALERT_OUTBOX_BACKLOG "feedwatch:outbox-backlog"
#define SELFALERT_OUTBOX_RECOVERED "feedwatch:outbox-recovered"

struct config;
struct store;
struct selfalert;

/* A configured feed as the check sees it; valid during the call. */
struct selfalert_feed {
	const char *url;
	const char *name;
	int64_t failing_since; /* the first of its current failures; 0: ok */
	int consecutive_failures;
	const char *last_error; /* may be NULL */
	int64_t last_success_at; /* 0: never */
	int gone; /* answered 410 Gone: no longer polled */
};

/* Load what is raised from STORE (kept, not owned). */
struct selfalert *selfalert_new(struct store *, char **cause);
void selfalert_free(struct selfalert *);

/* How often to check for CF, in milliseconds; 0 when self-alerts are off. */
int64_t selfalert_period_ms(const struct config *);

/*
 * One check at NOW (seconds) of the N configured FEEDS and the outbox:
 * raise what crossed its threshold, recover what came back, forget feeds
 * no longer configured. Returns the number of alerts enqueued (the caller
 * kicks the outbox), or -1 with *cause when the store failed (what was
 * not written is tried again at the next check).
 */
int selfalert_check(struct selfalert *, const struct config *,
    const struct selfalert_feed *feeds, size_t n, int64_t now, char **cause);

/* Subjects raised now ("feed:URL", "outbox"), for metrics and tests. */
size_t selfalert_raised(const struct selfalert *);

#endif

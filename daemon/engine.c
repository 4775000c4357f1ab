/*
 * engine: the running pipeline. See engine.h.
 */
#include <sys/queue.h>
#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "alert.h"
#include "buf.h"
#include "config.h"
#include "curlev.h"
#include "engine.h"
#include "fetch.h"
#include "log.h"
#include "matcher.h"
#include "metrics.h"
#include "notifier.h"
#include "outbox.h"
#include "parse.h"
#include "parsepool.h"
#include "schedule.h"
#include "selfalert.h"
#include "store.h"
#include "utf8.h"
#include "xmalloc.h"

/*
 * Bytes of each text an alert carries: a feed may fill any field up to
 * FEEDPARSE_FIELD_MAX, and an alert document must stay readable
 * (ALERT_MAX_JSON). Longer texts are cut on a character boundary; a
 * longer link is left out, as a link cut short leads somewhere else.
 */
#define ENGINE_SUMMARY_MAX 1024
#define ENGINE_TEXT_MAX 1024 /* item and feed title, author, item id */
#define ENGINE_LINK_MAX CONFIG_MAX_URL
#define ENGINE_TERM_MAX 256 /* a hit's term, entity and alias */
#define ENGINE_SNIPPET_MAX 512
#define ENGINE_HITS_MAX 50 /* the matcher reports as many at most */
/* The worst case: every byte written \u00XX (6 bytes), plus the names,
 * times and punctuation of the document. */
#define ENGINE_ALERT_WORST                                                     \
	(6 *                                                                   \
		(ENGINE_SUMMARY_MAX + 3 * ENGINE_TEXT_MAX + ENGINE_LINK_MAX +  \
		    CONFIG_MAX_URL +                                           \
		    ENGINE_HITS_MAX *                                          \
			(3 * ENGINE_TERM_MAX + ENGINE_SNIPPET_MAX)) +          \
	    64 * 1024)
_Static_assert(ENGINE_ALERT_WORST < ALERT_MAX_JSON / 2,
    "an alert document may not fit ALERT_MAX_JSON");
_Static_assert(ENGINE_HITS_MAX <= ALERT_MAX_HITS,
    "an alert may have more hits than ALERT_MAX_HITS");
/* Consecutive permanent redirects to one URL before it is polled instead. */
#define ENGINE_REDIRECT_ADOPT 3
/* How long feed states wait to be written together. */
#define ENGINE_FLUSH_DELAY_MS 200
/* Group commit: parsed documents are stored together, up to this many
 * in one transaction, none waiting longer than the delay. */
#define ENGINE_INGEST_BATCH 16
#define ENGINE_INGEST_DELAY_MS 20
/* How long a removed notifier's queued alerts wait for it to come back. */
#define ENGINE_NOTIFIER_GONE_RETRY 3600
/* A feed back in the configuration after this long out of it (s) starts
 * again as a new feed: its items then are old news, not alerts. */
#define ENGINE_FEED_FORGET_AFTER (24 * 3600)
/* How often retention prunes the store (besides once at the start). */
#define ENGINE_PRUNE_EVERY_MS (3600 * 1000)

/* Histogram buckets (seconds): fetch duration, alert delivery latency
 * (from the alert's creation to its notifier's OK). */
static const double engine_fetch_buckets[] = {
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
static const double engine_delivery_buckets[] = {
    0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 21600, 86400};

struct engine_feed {
	struct engine *engine;
	const struct config_feed *conf; /* into engine->cf */
	struct schedule_feed sched;
	struct store_feed state; /* as the store has it */
	struct fetch *fetch; /* in flight */
	/* The parse of the response, made when its first header or byte
	 * arrives; after the fetch ends, what it said waits in fetched
	 * until the document comes back from the parser pool. */
	struct parsepool_job *parse;
	struct engine_fetched *fetched;
	char *fetch_url; /* the URL being fetched */
	char *doc_title; /* of the document being ingested */
	/* The publisher's polling hints of the last document (-1: none),
	 * for the 304s that mean it still holds. */
	int64_t ttl_ms;
	int64_t update_period_ms;
	unsigned char *applies; /* per watchlist (config order): reads us */
	int once_pending; /* once mode: still to poll (and store) */
	int dirty; /* its state waits in engine->dirty */
	int ingesting; /* its document waits in engine->ingests */
};

/* How a fetch ended, kept while its body is being parsed: a
 * fetch_result whose strings are copies. */
struct engine_fetched {
	struct fetch_result r;
	char *cause;
	char *etag;
	char *last_modified;
	char *final_url;
};

/* A parsed document waiting for the next group commit. */
struct engine_ingest {
	struct engine_feed *feed;
	struct feed_doc *doc;
	int64_t now; /* when it was fetched, seconds */
};

struct engine_notifier {
	struct engine *engine;
	char *name;
	struct notifier *current; /* NULL: no longer configured */
	struct notifier **retired; /* replaced, still delivering */
	size_t nretired;
};

struct engine_delivery {
	struct outbox_delivery *delivery;
	struct engine_notifier *slot;
	struct notifier *notifier;
	LIST_ENTRY(engine_delivery) entry; /* the engine's, until answered */
};

LIST_HEAD(engine_deliveries, engine_delivery);

struct engine {
	struct event_base *base;
	struct config *cf;
	int64_t cf_loaded_at; /* Unix time the configuration came in */
	char *reload_error; /* the last reload's, while it failed */
	int64_t reload_failed_at;
	struct store *store;
	struct matcher *matcher;
	struct curlev *curl;
	struct fetch_queue *fetchq;
	struct parsepool *parsepool;
	struct event *parsed_event; /* the pool has results */
	size_t nparsing; /* fetches ended, documents not back */
	struct schedule *sched;
	struct outbox *outbox;
	/* Feed states to write (304s, failures), in one transaction at
	 * the next flush: a cycle of 304s is one commit, not one per feed. */
	struct engine_feed **dirty;
	size_t ndirty;
	struct event *flush_timer;
	struct engine_ingest ingests[ENGINE_INGEST_BATCH];
	size_t ningests;
	struct event *ingest_timer;
	int closing; /* engine_free() runs */
	struct engine_feed **feeds;
	size_t nfeeds;
	struct engine_notifier **notifiers;
	size_t nnotifiers;
	struct engine_deliveries deliveries; /* at a notifier, unanswered */
	int once;
	size_t once_pending;
	int64_t once_cutoff; /* once mode: rows due after it wait */
	int draining;
	/* Seconds without progress are counted on the monotonic clock
	 * (a wall clock set forward is no stall) from the last progress,
	 * or from the start of work begun with nothing in flight (idle):
	 * a poll begun after an idle hour is not an hour late. */
	int64_t last_progress;
	int idle;
	struct event *settle_event; /* engine_set_settle_event */
	int once_over; /* engine_once_done() has run */
	size_t polls_done;
	size_t polls_failed;
	size_t alerts;
	struct metrics *metrics;
	size_t *match_counts; /* per watchlist, during one ingest */
	struct selfalert *selfalert;
	struct event *self_timer;
	int64_t self_period_ms;
	struct event *prune_timer;
	/* retention's run in progress (engine_prune_step()) */
	int64_t prune_cursor;
	int64_t prune_now;
	size_t prune_items;
	size_t prune_feeds;
};

static int64_t
engine_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Work in flight moved on. */
static void
engine_progress(struct engine *e)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	e->last_progress = (int64_t)ts.tv_sec;
}

/* Work begins: after a spell with nothing in flight, its time without
 * progress counts from now. */
static void
engine_work_begins(struct engine *e)
{
	if (e->idle)
		engine_progress(e);
	e->idle = 0;
}

/* Work may have ended: see whether anything is left in flight. */
static void
engine_work_ends(struct engine *e)
{
	e->idle = !engine_working(e);
}

static int
engine_case_mode(int config_case)
{
	switch (config_case) {
	case CONFIG_CASE_SENSITIVE:
		return MATCHER_CASE_SENSITIVE;
	case CONFIG_CASE_INSENSITIVE:
		return MATCHER_CASE_INSENSITIVE;
	default:
		return MATCHER_CASE_AUTO;
	}
}

/* engine_matcher()'s errors: the first ENGINE_MATCHER_ERRORS, then how
 * many more. */
#define ENGINE_MATCHER_ERRORS 50

struct engine_errors {
	struct buf text;
	size_t n;
};

/* One line of engine_matcher()'s errors: where, then what. */
static void
engine_matcher_error(
    struct engine_errors *errors, const struct config_mark *at, char **why)
{
	if (errors->n++ < ENGINE_MATCHER_ERRORS)
		buf_printf(&errors->text, "%s%s:%u:%u: %s",
		    errors->n > 1 ? "\n" : "", at->file, at->line, at->column,
		    *why);
	free(*why);
	*why = NULL;
}

/*
 * The matcher of CF's entities and watchlists (only the watchlist ONLY,
 * when not NULL). Every entity, alias and watchlist that is refused is
 * reported, each where the configuration says it, so that one run of
 * `feedwatch check` lists them all; an entity whose country or name is
 * refused is still made, so that its watchlists are not refused too.
 */
struct matcher *
engine_matcher(const struct config *cf, const char *only, char **cause)
{
	const struct config_entity *e;
	const struct config_watchlist *w;
	struct matcher *m = matcher_new(0);
	struct engine_errors errors;
	char *why = NULL;
	size_t i, j, errpos, found = 0;

	buf_init(&errors.text, 1024 * 1024);
	errors.n = 0;
	for (i = 0; i < cf->nentities; i++) {
		e = &cf->entities[i];
		if (matcher_add_entity(m, e->key, NULL, e->country, &why) ==
		    -1) {
			engine_matcher_error(&errors,
			    e->country != NULL ? &e->country_mark : &e->mark,
			    &why);
			if (matcher_add_entity(m, e->key, NULL, NULL, &why) ==
			    -1) {
				free(why); /* the key's fault, said above */
				why = NULL;
				continue;
			}
		}
		if (e->name != NULL &&
		    matcher_add_entity(m, e->key, e->name, NULL, &why) == -1)
			engine_matcher_error(&errors, &e->name_mark, &why);
		for (j = 0; j < e->naliases; j++)
			if (matcher_add_alias(m, e->key, e->aliases[j],
				engine_case_mode(e->alias_case[j]), &why) == -1)
				engine_matcher_error(
				    &errors, &e->alias_marks[j], &why);
	}
	for (i = 0; i < cf->nwatchlists; i++) {
		w = &cf->watchlists[i];
		if (only != NULL && strcmp(only, w->key) != 0)
			continue;
		found++;
		if (matcher_add_watchlist(m, w->key, w->match, &errpos, &why) ==
		    -1) {
			char *c = why;

			xasprintf(&why, "watchlist \"%s\": %s", w->key, c);
			free(c);
			engine_matcher_error(&errors, &w->match_mark, &why);
		}
	}
	if (only != NULL && found == 0) {
		xasprintf(cause, "%s: no watchlist \"%s\"", cf->path, only);
		goto fail;
	}
	if (errors.n > ENGINE_MATCHER_ERRORS)
		buf_printf(&errors.text, "\n%s: %zu more errors", cf->path,
		    errors.n - ENGINE_MATCHER_ERRORS);
	if (errors.n > 0) {
		*cause = buf_take(&errors.text, NULL);
		goto fail;
	}
	if (matcher_compile(m, &why) == -1) {
		xasprintf(cause, "%s: %s", cf->path, why);
		free(why);
		goto fail;
	}
	buf_free(&errors.text);
	return m;
fail:
	buf_free(&errors.text);
	matcher_free(m);
	return NULL;
}

/* The folder of a file name, for the notifiers' relative paths. */
static char *
engine_dirname(const char *file)
{
	const char *slash = strrchr(file, '/');

	if (slash == NULL)
		return xstrdup(".");
	return xstrndup(file, slash == file ? 1 : (size_t)(slash - file));
}

/* A notifier from its configuration (the notifier reads its own secrets:
 * NAME_file, NAME_env, NAME_credential). */
static struct notifier *
engine_notifier_new(const struct config_notifier *cn,
    const struct notifier_ctx *ctx, char **cause)
{
	struct notifier_option *opts;
	struct notifier_config nc;
	struct notifier *n;
	char *dir, *why = NULL;
	size_t i;

	opts = xcalloc(cn->noptions + 1, sizeof *opts);
	for (i = 0; i < cn->noptions; i++) {
		opts[i].key = cn->options[i].key;
		opts[i].value = cn->options[i].value;
		opts[i].list = cn->options[i].list;
		opts[i].nlist = cn->options[i].nlist;
	}
	dir = engine_dirname(cn->mark.file);
	nc.name = cn->key;
	nc.type = config_notifier_type_name(cn->type);
	nc.options = opts;
	nc.noptions = cn->noptions;
	nc.dir = dir;
	n = notifier_new(&nc, ctx, &why);
	if (n == NULL) {
		/* The notifier's message names it already. */
		xasprintf(cause, "%s:%u:%u: %s", cn->mark.file, cn->mark.line,
		    cn->mark.column, why);
		free(why);
	}
	free(dir);
	free(opts);
	return n;
}

int
engine_check(const struct config *cf, char **cause)
{
	struct notifier_ctx ctx;
	struct matcher *m;
	struct notifier *n;
	struct buf errors;
	char *why = NULL;
	size_t i;
	int rc = 0;

	buf_init(&errors, 1024 * 1024);
	if ((m = engine_matcher(cf, NULL, &why)) == NULL) {
		buf_printf(&errors, "%s\n", why);
		free(why);
		rc = -1;
	}
	matcher_free(m);
	ctx.base = event_base_new();
	ctx.curl = curlev_new(ctx.base);
	for (i = 0; i < cf->nnotifiers; i++) {
		why = NULL;
		if ((n = engine_notifier_new(&cf->notifiers[i], &ctx, &why)) ==
		    NULL) {
			buf_printf(&errors, "%s\n", why);
			free(why);
			rc = -1;
		}
		notifier_free(n);
	}
	curlev_free(ctx.curl);
	event_base_free(ctx.base);
	if (rc == -1) {
		if (errors.len > 0)
			errors.data[--errors.len] = '\0';
		*cause = buf_take(&errors, NULL);
	} else
		buf_free(&errors);
	return rc;
}

/* Whether the watchlist reads the feed: no selector, or its name or a tag. */
static int
engine_watchlist_reads(
    const struct config_watchlist *wl, const struct config_feed *feed)
{
	size_t i, j;

	if (wl->nfeeds == 0)
		return 1;
	for (i = 0; i < wl->nfeeds; i++) {
		if (strcmp(wl->feeds[i], feed->name) == 0)
			return 1;
		for (j = 0; j < feed->ntags; j++)
			if (strcmp(wl->feeds[i], feed->tags[j]) == 0)
				return 1;
	}
	return 0;
}

static void
engine_feed_bind(struct engine_feed *f, const struct config *cf,
    const struct config_feed *conf)
{
	size_t i;

	f->conf = conf;
	f->sched.interval_ms = conf->interval_ms;
	free(f->applies);
	f->applies = xcalloc(cf->nwatchlists + 1, 1);
	for (i = 0; i < cf->nwatchlists; i++)
		f->applies[i] =
		    engine_watchlist_reads(&cf->watchlists[i], conf);
}

/* The URLs of the feeds this engine polls (*N of them; the caller frees
 * the array, not the strings): what the store must not forget or
 * remove under it. */
static const char **
engine_held_urls(const struct engine *e, size_t *n)
{
	const char **held = xcalloc(e->nfeeds + 1, sizeof *held);
	size_t i;

	*n = 0;
	for (i = 0; i < e->nfeeds; i++)
		if (e->feeds[i] != NULL)
			held[(*n)++] = e->feeds[i]->state.url;
	return held;
}

/*
 * Tell the store which feeds CF holds: those out of it are marked so,
 * and one back after ENGINE_FEED_FORGET_AFTER or more is forgotten, so
 * that its first poll is a baseline again (a feed added back after
 * months would otherwise alert on every item its document still holds).
 * Before the feeds read their states.
 */
static void
engine_feeds_present(struct engine *e, const struct config *cf)
{
	const char **urls = xcalloc(cf->nfeeds + 1, sizeof *urls);
	struct store_forgotten *fg;
	char *cause = NULL;
	size_t i, j, nfg, nheld;
	int64_t now = time(NULL);
	/* those a reload keeps are polled on with the state they have */
	const char **held = engine_held_urls(e, &nheld);

	for (i = 0; i < cf->nfeeds; i++)
		urls[i] = cf->feeds[i].url;
	if (store_feeds_present(e->store, urls, cf->nfeeds, held, nheld, now,
		ENGINE_FEED_FORGET_AFTER, &fg, &nfg, &cause) == -1) {
		log_warnx("store: feeds of the configuration: %s", cause);
		free(cause);
		free(urls);
		free(held);
		return;
	}
	for (i = 0; i < nfg; i++) {
		for (j = 0; j < cf->nfeeds; j++)
			if (strcmp(cf->feeds[j].url, fg[i].url) == 0)
				break;
		log_notice("feed %s: back after %lld days out of the "
			   "configuration: it starts again as a new feed "
			   "(its first poll is a baseline)",
		    j < cf->nfeeds ? cf->feeds[j].name : fg[i].url,
		    (long long)((now - fg[i].removed_at) / 86400));
	}
	store_forgotten_free(fg, nfg);
	free(urls);
	free(held);
}

/* Copy a store string field (NULL allowed). */
static void
engine_set(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? xstrdup(value) : NULL;
}

/* The schedule's view of the stored state (seconds to milliseconds). */
static void
engine_state_to_schedule(struct engine_feed *f)
{
	struct schedule_state *s = &f->sched.state;

	memset(s, 0, sizeof *s);
	s->next_poll_at = f->state.next_poll_at * 1000;
	s->last_poll_at = f->state.last_poll_at * 1000;
	s->last_success_at = f->state.last_success_at * 1000;
	s->consecutive_failures = f->state.consecutive_failures;
	s->last_status = f->state.last_status;
	if (f->state.last_error != NULL)
		snprintf(s->last_error, sizeof s->last_error, "%s",
		    f->state.last_error);
	s->gone = f->state.gone_reason != NULL;
}

static void
engine_schedule_to_state(struct engine_feed *f)
{
	const struct schedule_state *s = &f->sched.state;

	f->state.next_poll_at = s->next_poll_at / 1000;
	f->state.last_poll_at = s->last_poll_at / 1000;
	f->state.last_success_at = s->last_success_at / 1000;
	f->state.consecutive_failures = s->consecutive_failures;
	f->state.last_status = (int)s->last_status;
	engine_set(&f->state.last_error,
	    s->last_error[0] != '\0' ? s->last_error : NULL);
	if (s->gone && f->state.gone_reason == NULL)
		f->state.gone_reason = xstrdup(
		    s->last_error[0] != '\0' ? s->last_error : "410 Gone");
	/* The first failure of the current run, for self-alerts. */
	if (s->consecutive_failures == 0 && !s->gone)
		f->state.failing_since = 0;
	else if (f->state.failing_since == 0)
		f->state.failing_since = f->state.last_poll_at;
}

static void engine_due_cb(struct schedule_feed *, void *);
static void engine_fetched_free(struct engine_fetched *);

static struct engine_feed *
engine_feed_new(struct engine *e, const struct config_feed *conf)
{
	struct engine_feed *f = xcalloc(1, sizeof *f);
	char *cause = NULL;
	int rc;

	f->engine = e;
	f->sched.owner = f;
	f->ttl_ms = f->update_period_ms = -1;
	engine_feed_bind(f, e->cf, conf);
	rc = store_feed_get(e->store, conf->url, &f->state, &cause);
	if (rc == -1) {
		log_warnx("store: feed state of %s: %s", conf->name, cause);
		free(cause);
	}
	if (rc != 0) {
		memset(&f->state, 0, sizeof f->state);
		f->state.url = xstrdup(conf->url);
	}
	engine_set(&f->state.name, conf->name);
	engine_state_to_schedule(f);
	return f;
}

static void
engine_feed_free(struct engine_feed *f)
{
	if (f == NULL)
		return;
	if (f->fetch != NULL)
		fetch_cancel(f->fetch);
	parsepool_cancel(f->parse);
	if (f->fetched != NULL) {
		f->engine->nparsing--;
		engine_fetched_free(f->fetched);
	}
	free(f->fetch_url);
	store_feed_clear(&f->state);
	free(f->doc_title);
	free(f->applies);
	free(f);
}

static void engine_parsed_cb(struct feed_doc *, char *, void *);

/*
 * The parse of the response being received, made when its first header
 * or byte arrives: a fetch waiting in the queue, a 304 or an error holds
 * none (with thousands of feeds due at once, that is most of the memory).
 */
static struct parsepool_job *
engine_parse(struct engine_feed *f)
{
	if (f->parse == NULL)
		f->parse = parsepool_job(f->engine->parsepool, f->fetch_url,
		    (size_t)f->engine->cf->max_body, engine_parsed_cb, f);
	return f->parse;
}

/* Fetch sink: response headers go to the parser (charset, base URL). */
static int
engine_sink_header(void *arg, const char *name, const char *value)
{
	parsepool_header(engine_parse(arg), name, value);
	return 0;
}

/* Fetch sink: body bytes go to the parser as they arrive. Bytes are
 * progress: a healthy transfer that is merely slow (a large feed over a
 * poor link) must not read as a stuck loop to the watchdog. */
static int
engine_sink_data(void *arg, const void *data, size_t len)
{
	struct engine_feed *f = arg;

	engine_progress(f->engine);
	return parsepool_push(engine_parse(f), data, len);
}

static void
engine_pool_cb(evutil_socket_t fd, short events, void *arg)
{
	struct engine *e = arg;

	parsepool_collect(e->parsepool);
}

/* A copy of r that outlives the fetch: what engine_poll_end() reads. */
static struct engine_fetched *
engine_fetched_new(const struct fetch_result *r)
{
	struct engine_fetched *kept = xcalloc(1, sizeof *kept);

	engine_set(&kept->cause, r->cause);
	engine_set(&kept->etag, r->etag);
	engine_set(&kept->last_modified, r->last_modified);
	engine_set(&kept->final_url, r->final_url);
	kept->r = *r;
	kept->r.cause = kept->cause;
	kept->r.etag = kept->etag;
	kept->r.last_modified = kept->last_modified;
	kept->r.final_url = kept->final_url;
	kept->r.content_type = NULL; /* not read after the fetch */
	return kept;
}

static void
engine_fetched_free(struct engine_fetched *kept)
{
	if (kept == NULL)
		return;
	free(kept->cause);
	free(kept->etag);
	free(kept->last_modified);
	free(kept->final_url);
	free(kept);
}

/* S cut to at most MAX bytes on a character boundary, or NULL. */
static char *
engine_cut(const char *s, size_t max)
{
	return s != NULL ? xstrndup(s, utf8_cut(s, strlen(s), max)) : NULL;
}

/* The alert document for one matched watchlist of one item; its new id
 * goes to ID. Every text is cut to its ENGINE_*_MAX. */
static char *
engine_alert_json(struct engine_feed *f, const struct config_watchlist *wl,
    const struct item *item, const struct matcher_match *m, int64_t now,
    char id[37])
{
	struct alert *a = alert_new();
	const struct matcher_hit *h;
	const char *carried;
	char *json, *term, *entity, *alias, *snippet;
	size_t i;
	int64_t start, end;

	alert_new_id(id);
	a->id = xstrdup(id);
	a->watchlist = xstrdup(wl->key);
	a->severity = xstrdup(
	    wl->severity != NULL ? wl->severity : ALERT_SEVERITY_DEFAULT);
	a->created_at = now;
	a->feed_title =
	    engine_cut(f->doc_title != NULL ? f->doc_title : f->conf->name,
		ENGINE_TEXT_MAX);
	a->feed_url = xstrdup(f->conf->url);
	a->item_id = engine_cut(
	    item->id != NULL ? item->id : item->key, ENGINE_TEXT_MAX);
	a->item_title = engine_cut(item->title_text, ENGINE_TEXT_MAX);
	if (item->link != NULL && strlen(item->link) <= ENGINE_LINK_MAX)
		a->item_link = xstrdup(item->link);
	a->item_published = item->published != ITEM_TIME_NONE ? item->published
							      : ALERT_TIME_NONE;
	a->item_updated =
	    item->updated != ITEM_TIME_NONE ? item->updated : ALERT_TIME_NONE;
	a->item_author = engine_cut(item->author, ENGINE_TEXT_MAX);
	a->item_summary =
	    engine_cut(item->summary_text != NULL ? item->summary_text
						  : item->content_text,
		ENGINE_SUMMARY_MAX);
	for (i = 0; i < m->nhits && i < ENGINE_HITS_MAX; i++) {
		h = &m->hits[i];
		/* Offsets mean something only in the text the alert carries,
		 * and only while the match is whole in it. */
		carried = NULL;
		if (strcmp(h->field, "title") == 0)
			carried = a->item_title;
		else if (strcmp(h->field, "summary") == 0 &&
		    item->summary_text != NULL)
			carried = a->item_summary;
		start = end = -1;
		if (carried != NULL && h->end <= strlen(carried)) {
			start = (int64_t)h->start;
			end = (int64_t)h->end;
		}
		term = engine_cut(h->term, ENGINE_TERM_MAX);
		entity = engine_cut(h->entity, ENGINE_TERM_MAX);
		alias = engine_cut(h->alias, ENGINE_TERM_MAX);
		snippet = engine_cut(h->snippet, ENGINE_SNIPPET_MAX);
		alert_add_hit(
		    a, term, entity, alias, h->field, start, end, snippet);
		free(term);
		free(entity);
		free(alias);
		free(snippet);
	}
	json = alert_to_json(a);
	alert_free(a);
	return json;
}

/* store_ingest's matcher: the watchlists of one new or changed item. */
static int
engine_match_cb(void *arg, const char *feed_url, const struct item *item,
    int is_update, struct store_match *sm)
{
	struct engine_feed *f = arg;
	struct engine *e = f->engine;
	struct matcher_result *res;
	const struct matcher_match *m;
	const struct config_watchlist *wl;
	struct store_alert sa;
	char *payload, id[37];
	size_t i;
	int rc = 0;

	res = matcher_run(e->matcher, item, f->conf->name, 0);
	for (i = 0; i < res->nmatches && rc == 0; i++) {
		m = &res->matches[i];
		if (!m->matched || m->watchlist_index >= e->cf->nwatchlists ||
		    !f->applies[m->watchlist_index])
			continue;
		wl = &e->cf->watchlists[m->watchlist_index];
		if ((is_update && !wl->updates) || wl->nnotify == 0)
			continue;
		payload = engine_alert_json(f, wl, item, m, time(NULL), id);
		memset(&sa, 0, sizeof sa);
		sa.alert_id = id;
		sa.watchlist = wl->key;
		sa.notifiers = (const char *const *)wl->notify;
		sa.nnotifiers = wl->nnotify;
		sa.payload = payload;
		sa.wants_updates = wl->updates;
		rc = store_match_add(sm, &sa);
		if (rc == 0 && e->match_counts != NULL)
			e->match_counts[m->watchlist_index]++;
		free(payload);
	}
	matcher_result_free(res);
	return rc;
}

/* Follow a permanent redirect seen consistently: poll the new URL (the
 * configuration still names the old one; the log says to change it). */
static void
engine_note_redirect(
    struct engine_feed *f, const struct fetch_result *r, int ok)
{
	char esc[512], esc2[512], esc3[512];

	/* Only a poll that succeeded counts (a login page behind the
	 * redirect does not); an answer without the redirect ends the run,
	 * a failure says nothing either way. */
	if (!ok)
		return;
	/* A target longer than a configured URL may be is not adopted (it
	 * would be stored and polled for good). */
	if (!r->permanent_redirect || r->final_url == NULL ||
	    strlen(r->final_url) > CONFIG_MAX_URL) {
		f->state.redirect_count = 0;
		return;
	}
	if (f->state.redirect_seen != NULL &&
	    strcmp(f->state.redirect_seen, r->final_url) == 0)
		f->state.redirect_count++;
	else {
		engine_set(&f->state.redirect_seen, r->final_url);
		f->state.redirect_count = 1;
	}
	if (f->state.redirect_count >= ENGINE_REDIRECT_ADOPT &&
	    (f->state.moved_to == NULL ||
		strcmp(f->state.moved_to, r->final_url) != 0)) {
		/* Stored with this poll's state: kept across restarts. */
		engine_set(&f->state.moved_to, r->final_url);
		log_notice("feed %s: %s moved permanently to %s: polling "
			   "the new address; update the configuration",
		    log_escapes(esc, sizeof esc, f->conf->name),
		    log_escapes(esc3, sizeof esc3, f->conf->url),
		    log_escapes(esc2, sizeof esc2, r->final_url));
	}
}

/* The address a feed moved to fails poll after poll: back to the one
 * in the configuration (which may have been the right one all along). */
static void
engine_unmove(struct engine_feed *f)
{
	char esc[512], esc2[512];

	log_notice("feed %s: %s, where it had moved, failed %d polls in a "
		   "row: polling the configured address again",
	    log_escapes(esc, sizeof esc, f->conf->name),
	    log_escapes(esc2, sizeof esc2, f->state.moved_to),
	    f->state.consecutive_failures);
	engine_set(&f->state.moved_to, NULL);
	engine_set(&f->state.redirect_seen, NULL);
	f->state.redirect_count = 0;
}

static void engine_ingest_flush(struct engine *);

/* Write the feed states waiting in e->dirty, in one transaction. */
static void
engine_flush(struct engine *e)
{
	const struct store_feed **states;
	char *cause = NULL;
	size_t i;

	/* a feed's document before any later state of it */
	engine_ingest_flush(e);
	if (e->ndirty == 0)
		return;
	states = xcalloc(e->ndirty, sizeof *states);
	for (i = 0; i < e->ndirty; i++) {
		states[i] = &e->dirty[i]->state;
		e->dirty[i]->dirty = 0;
	}
	if (store_feeds_put(e->store, states, e->ndirty, &cause) == -1) {
		log_warnx("store: %zu feed states: %s", e->ndirty, cause);
		free(cause);
	}
	free(states);
	e->ndirty = 0;
}

static void
engine_flush_cb(evutil_socket_t fd, short events, void *arg)
{
	engine_flush(arg);
}

/* The feed's state changed without an ingest: write it soon. */
static void
engine_dirty(struct engine_feed *f)
{
	struct engine *e = f->engine;
	struct timeval tv = {0, ENGINE_FLUSH_DELAY_MS * 1000};

	if (f->dirty)
		return;
	f->dirty = 1;
	e->dirty = xreallocarray(e->dirty, e->ndirty + 1, sizeof *e->dirty);
	e->dirty[e->ndirty++] = f;
	if (!evtimer_pending(e->flush_timer, NULL))
		evtimer_add(e->flush_timer, &tv);
}

/* Work may have ended: wake whoever waits for engine_idle(). */
static void
engine_settled(struct engine *e)
{
	if (e->settle_event != NULL)
		event_active(e->settle_event, EV_TIMEOUT, 1);
}

static void engine_once_done(struct engine *);

/* Metrics of one finished fetch. */
static void
engine_count_fetch(
    struct engine *e, const struct fetch_result *r, int parse_error)
{
	const char *result, *status_class = "none";
	char cls[24];

	if (r->status >= 100 && r->status < 600) {
		snprintf(cls, sizeof cls, "%ldxx", r->status / 100);
		status_class = cls;
	}
	if (parse_error)
		result = "parse_error";
	else if (r->error != FETCH_OK)
		result = fetch_error_name(r->error);
	else
		result = r->not_modified ? "not_modified" : "ok";
	metrics_add(e->metrics, "feedwatch_fetches_total", 1, "result", result,
	    "status_class", status_class, NULL);
	if (parse_error)
		metrics_add(
		    e->metrics, "feedwatch_parse_errors_total", 1, NULL);
	if (r->error != FETCH_ERR_CONFIG)
		metrics_observe(e->metrics, "feedwatch_fetch_duration_seconds",
		    (double)r->elapsed_ms / 1000, NULL);
	metrics_add(
	    e->metrics, "feedwatch_fetch_bytes_total", (double)r->bytes, NULL);
}

/* Metrics of one committed ingest. */
static void
engine_count_ingest(struct engine *e, const struct store_ingest_result *ir,
    const size_t *match_counts)
{
	size_t i;

	metrics_add(
	    e->metrics, "feedwatch_items_new_total", (double)ir->nnew, NULL);
	metrics_add(e->metrics, "feedwatch_items_updated_total",
	    (double)ir->nupdated, NULL);
	for (i = 0; i < e->cf->nwatchlists; i++)
		if (match_counts[i] > 0)
			metrics_add(e->metrics, "feedwatch_alerts_total",
			    (double)match_counts[i], "watchlist",
			    e->cf->watchlists[i].key, NULL);
}

/* Metrics of one delivery attempt's outcome. */
static void
engine_count_delivery(struct engine *e, const struct store_outbox_row *row,
    enum outbox_result result)
{
	static const char *const names[] = {"ok", "tempfail", "permfail"};
	int64_t latency = time(NULL) - row->created_at;

	metrics_add(e->metrics, "feedwatch_deliveries_total", 1, "notifier",
	    row->notifier, "result", names[result], NULL);
	if (result == OUTBOX_OK)
		metrics_observe(e->metrics,
		    "feedwatch_delivery_latency_seconds",
		    (double)(latency > 0 ? latency : 0), "notifier",
		    row->notifier, NULL);
}

/* Once mode: the feed is polled and what it brought stored. */
static void
engine_polled(struct engine_feed *f)
{
	struct engine *e = f->engine;

	if (!f->once_pending)
		return;
	f->once_pending = 0;
	e->once_pending--;
	if (!e->closing)
		engine_once_done(e);
}

static void
engine_ingest_cb(evutil_socket_t fd, short events, void *arg)
{
	engine_ingest_flush(arg);
}

/* Polls begun and not ended: fetches running or waiting for a
 * transfer, and documents with the parser threads. */
static size_t
engine_polls_running(struct engine *e)
{
	return fetch_queue_running(e->fetchq) + fetch_queue_waiting(e->fetchq) +
	    e->nparsing;
}

/* Whether a document could join a batch within the wait: a poll is
 * running, or one is due by then (the first polls of a cycle come every
 * few milliseconds: a commit each more than doubled a first cycle's
 * commits and their system time). */
static int
engine_ingest_expecting(struct engine *e)
{
	int64_t next = schedule_next_at(e->sched);

	return engine_polls_running(e) > 0 ||
	    (next >= 0 && next <= engine_now_ms() + ENGINE_INGEST_DELAY_MS);
}

/* Wait for the next group commit: at most ENGINE_INGEST_DELAY_MS, or
 * until the batch is full; not at all when no other document can come
 * (waiting would only delay this one's alerts). */
static void
engine_ingest_queue(struct engine_feed *f, struct feed_doc *doc, int64_t now)
{
	struct engine *e = f->engine;
	struct timeval tv = {0, ENGINE_INGEST_DELAY_MS * 1000};
	/* never full here: a full batch is flushed below, at once */
	struct engine_ingest *in = &e->ingests[e->ningests++];

	in->feed = f;
	in->doc = doc;
	in->now = now;
	f->ingesting = 1;
	if (e->ningests == ENGINE_INGEST_BATCH || !engine_ingest_expecting(e))
		engine_ingest_flush(e);
	else if (!evtimer_pending(e->ingest_timer, NULL))
		evtimer_add(e->ingest_timer, &tv);
}

/*
 * A document that could not be stored: its items are not, nor are the
 * validators that came with it, which the feed forgets, so that the next
 * poll fetches the whole feed again rather than hearing "not modified".
 */
static void
engine_ingest_failed(struct engine_feed *f, const char *cause)
{
	char esc[512];

	log_warnx("store: feed %s: %s",
	    log_escapes(esc, sizeof esc, f->conf->name),
	    cause != NULL ? cause : "failed");
	f->engine->polls_failed++;
	engine_set(&f->state.etag, NULL);
	engine_set(&f->state.last_modified, NULL);
	engine_dirty(f);
}

/*
 * Store the waiting documents in one transaction (each feed's items,
 * matches and alerts still all or nothing), then act on what was
 * committed: a document's results count only once the commit is done.
 */
static void
engine_ingest_flush(struct engine *e)
{
	struct engine_ingest batch[ENGINE_INGEST_BATCH];
	struct store_ingest_result results[ENGINE_INGEST_BATCH];
	struct store_ingest_options io;
	size_t *counts[ENGINE_INGEST_BATCH];
	char *causes[ENGINE_INGEST_BATCH], *cause = NULL, esc[512];
	int ok[ENGINE_INGEST_BATCH], kick = 0, committed;
	size_t i, n = e->ningests;
	struct engine_feed *f;

	if (n == 0)
		return;
	evtimer_del(e->ingest_timer);
	/* what follows may queue again (once mode's end flushes) */
	memcpy(batch, e->ingests, n * sizeof *batch);
	e->ningests = 0;
	committed = store_batch_begin(e->store, &cause) == 0;
	for (i = 0; i < n; i++) {
		f = batch[i].feed;
		f->ingesting = 0;
		causes[i] = NULL;
		counts[i] = xcalloc(e->cf->nwatchlists + 1, sizeof *counts[i]);
		ok[i] = 0;
		if (!committed)
			continue;
		memset(&io, 0, sizeof io);
		io.now = batch[i].now;
		io.first_poll_max_age = f->conf->first_poll_alert_age_ms / 1000;
		engine_set(&f->doc_title, batch[i].doc->title);
		e->match_counts = counts[i];
		ok[i] = store_ingest(e->store, &f->state, batch[i].doc, &io,
			    engine_match_cb, f, &results[i], &causes[i]) == 0;
		e->match_counts = NULL;
	}
	if (committed && store_batch_commit(e->store, &cause) == -1)
		committed = 0;
	for (i = 0; i < n; i++) {
		f = batch[i].feed;
		if (!committed || !ok[i]) {
			engine_ingest_failed(f, !committed ? cause : causes[i]);
		} else {
			f->state.first_poll_done = !results[i].baseline_open;
			e->alerts += results[i].nalerts;
			engine_count_ingest(e, &results[i], counts[i]);
			log_info(
			    "feed %s: %zu items, %zu new, %zu updated, %zu "
			    "baseline, %zu alerts",
			    log_escapes(esc, sizeof esc, f->conf->name),
			    batch[i].doc->nitems, results[i].nnew,
			    results[i].nupdated, results[i].nbaseline,
			    results[i].nalerts);
			kick |= results[i].nrows > 0;
		}
		free(causes[i]);
		free(counts[i]);
		parsepool_dispose(e->parsepool, batch[i].doc);
	}
	free(cause);
	if (kick && !e->closing)
		outbox_kick(e->outbox);
	engine_work_ends(e);
	for (i = 0; i < n; i++)
		engine_polled(batch[i].feed);
}

/*
 * A poll's end: what the fetch said (r) and, when there was a body, the
 * parser's document or its cause (both ours). Ingest, record, schedule
 * the next poll.
 */
static void
engine_poll_end(struct engine_feed *f, const struct fetch_result *r,
    struct feed_doc *doc, char *cause)
{
	struct engine *e = f->engine;
	struct schedule_outcome o;
	char *error = NULL, *refusal, esc[512], esc2[1024];
	int64_t now_ms = engine_now_ms();

	e->polls_done++;
	engine_progress(e);
	schedule_outcome_init(&o);
	o.status = r->status;
	if (r->retry_after_s >= 0)
		o.retry_after_ms = r->retry_after_s * 1000;
	if (r->max_age_s >= 0)
		o.max_age_ms = r->max_age_s * 1000;
	if (r->expires_in_s >= 0)
		o.expires_in_ms = r->expires_in_s * 1000;

	if (r->error == FETCH_OK && r->not_modified) {
		o.ok = 1;
		/* the document is the one of the last 200: so are its hints */
		o.ttl_ms = f->ttl_ms;
		o.update_period_ms = f->update_period_ms;
	} else if (r->error == FETCH_OK || r->error == FETCH_ERR_SINK) {
		if (doc != NULL && (refusal = feedparse_refusal(doc)) != NULL) {
			feed_doc_free(doc);
			doc = NULL;
			free(cause);
			cause = refusal;
		}
		if (doc == NULL) {
			xasprintf(&error, "parse: %s",
			    cause != NULL ? cause : "not a feed");
		} else if (r->error == FETCH_OK) {
			o.ok = 1;
			if (doc->ttl > 0)
				o.ttl_ms = doc->ttl * 1000;
			if (doc->update_period != NULL ||
			    doc->update_frequency != NULL)
				o.update_period_ms = schedule_update_period_ms(
				    doc->update_period, doc->update_frequency);
			f->ttl_ms = o.ttl_ms;
			f->update_period_ms = o.update_period_ms;
		} else {
			xasprintf(&error, "%s", r->cause);
			feed_doc_free(doc);
			doc = NULL;
		}
	} else if (r->redirects > 0 && r->final_url != NULL)
		/* where it failed, when that is not the feed's address */
		xasprintf(&error, "%s: %s (at %s, redirected)",
		    fetch_error_name(r->error),
		    r->cause != NULL ? r->cause : "failed", r->final_url);
	else
		xasprintf(&error, "%s: %s", fetch_error_name(r->error),
		    r->cause != NULL ? r->cause : "failed");
	free(cause);
	engine_count_fetch(e, r,
	    doc == NULL && error != NULL && strncmp(error, "parse: ", 7) == 0);
	if (!o.ok) {
		o.error = error;
		e->polls_failed++;
		log_warnx("feed %s: %s",
		    log_escapes(esc, sizeof esc, f->conf->name),
		    log_escapes(esc2, sizeof esc2, error));
	}
	engine_note_redirect(f, r, o.ok);

	if (e->once)
		schedule_remove(e->sched, &f->sched);
	schedule_done(e->sched, &f->sched, &o, now_ms);
	if (e->once)
		schedule_remove(e->sched, &f->sched);
	engine_schedule_to_state(f);
	/* a body cut short is no version to be told "not modified" about:
	 * the next poll fetches it whole */
	if (o.ok && !r->not_modified) {
		engine_set(&f->state.etag,
		    doc != NULL && doc->cut_short ? NULL : r->etag);
		engine_set(&f->state.last_modified,
		    doc != NULL && doc->cut_short ? NULL : r->last_modified);
	}
	/* an item the body's end cut in two comes whole with a later poll:
	 * stored now, it would then be an update, not a new item */
	if (doc != NULL && doc->last_item_cut && doc->nitems > 0 &&
	    f->state.first_poll_done)
		item_clear(&doc->items[--doc->nitems]);
	if (f->sched.state.gone)
		log_warnx("feed %s is gone (410): no longer polled",
		    log_escapes(esc, sizeof esc, f->conf->name));
	else if (!o.ok && f->state.moved_to != NULL &&
	    f->state.consecutive_failures >= ENGINE_REDIRECT_ADOPT)
		engine_unmove(f);

	if (doc != NULL) {
		engine_ingest_queue(f, doc, now_ms / 1000);
		free(error);
		return; /* the rest once it is stored */
	}
	engine_dirty(f);
	free(error);
	engine_work_ends(e);
	engine_polled(f);
}

/* The parser pool: the document of a fetch that ended. */
static void
engine_parsed_cb(struct feed_doc *doc, char *cause, void *arg)
{
	struct engine_feed *f = arg;
	struct engine_fetched *kept = f->fetched;

	f->parse = NULL;
	f->fetched = NULL;
	f->engine->nparsing--;
	engine_poll_end(f, &kept->r, doc, cause);
	engine_fetched_free(kept);
}

/* A fetch ended: a body waits for its parse, anything else ends the poll. */
static void
engine_fetch_done_cb(
    struct fetch *fetch, const struct fetch_result *r, void *arg)
{
	struct engine_feed *f = arg;

	f->fetch = NULL;
	if ((r->error == FETCH_OK && !r->not_modified) ||
	    r->error == FETCH_ERR_SINK) {
		f->fetched = engine_fetched_new(r);
		f->engine->nparsing++;
		parsepool_finish(engine_parse(f));
		return;
	}
	parsepool_cancel(f->parse);
	f->parse = NULL;
	engine_poll_end(f, r, NULL, NULL);
}

/* Start polling a feed now. */
static void
engine_poll(struct engine_feed *f)
{
	struct engine *e = f->engine;
	const struct config_feed *c = f->conf;
	struct fetch_opts opts;
	struct fetch_sink sink;
	struct fetch_result r;
	const char *url =
	    f->state.moved_to != NULL ? f->state.moved_to : c->url;
	char *cause = NULL;

	if (f->fetch != NULL || f->fetched != NULL || e->draining)
		return;
	if (f->ingesting) /* its validators come with that document */
		engine_ingest_flush(e);
	memset(&opts, 0, sizeof opts);
	opts.url = url;
	opts.etag = f->state.first_poll_done ? f->state.etag : NULL;
	opts.last_modified =
	    f->state.first_poll_done ? f->state.last_modified : NULL;
	opts.user_agent =
	    c->user_agent != NULL ? c->user_agent : e->cf->user_agent;
	opts.headers = (const char *const *)c->headers;
	opts.nheaders = c->nheaders;
	opts.username = c->username;
	opts.password_file = c->password_file;
	opts.password_env = c->password_env;
	opts.proxy = c->proxy;
	opts.ca_file = c->ca_file;
	opts.allow_file = strncmp(c->url, "file:", 5) == 0;
	opts.block_private =
	    e->cf->block_private_addresses && !c->allow_private;
	opts.timeout_ms = c->timeout_ms;
	opts.max_body = e->cf->max_body;
	engine_set(&f->fetch_url, url);
	engine_work_begins(e);
	sink.header = engine_sink_header;
	sink.data = engine_sink_data;
	sink.arg = f;
	f->fetch = fetch_start(
	    e->fetchq, &opts, &sink, engine_fetch_done_cb, f, &cause);
	if (f->fetch == NULL) {
		/* Refused before any request: record it like any failure. */
		memset(&r, 0, sizeof r);
		r.error = FETCH_ERR_CONFIG;
		r.cause = cause;
		r.retry_after_s = r.max_age_s = r.expires_in_s = -1;
		engine_fetch_done_cb(NULL, &r, f);
		free(cause);
	}
}

static void
engine_due_cb(struct schedule_feed *sf, void *arg)
{
	engine_poll(sf->owner);
}

/* Outbox -> notifier: deliver one row through the notifier now bound to
 * the row's notifier name. */
static void
engine_notifier_free_cb(evutil_socket_t fd, short events, void *arg)
{
	notifier_free(arg);
}

static void
engine_notify_done_cb(const struct notifier_result *res, void *arg)
{
	const struct timeval zero = {0, 0};
	struct engine_delivery *d = arg;
	struct engine_notifier *slot = d->slot;
	enum outbox_result result = OUTBOX_OK;
	enum store_outbox_park why;
	int64_t wait;
	size_t i;

	engine_progress(slot->engine);
	if (res->status == NOTIFIER_TEMPFAIL)
		result = OUTBOX_TEMPFAIL;
	else if (res->status == NOTIFIER_PERMFAIL)
		result = OUTBOX_PERMFAIL;
	if (result == OUTBOX_TEMPFAIL && res->parked && res->retry_after > 0) {
		/* put off by a notifier that disabled itself; if a reload
		 * has replaced it meanwhile (it held the alert for a digest
		 * or a rate limit), the new one takes the alert at once, and
		 * if a reload removed it, the alert waits for its return */
		why = STORE_PARK_DISABLED;
		wait = res->retry_after;
		if (slot->current == NULL)
			why = STORE_PARK_MISSING;
		else if (d->notifier != slot->current &&
		    notifier_disabled(slot->current) == NULL)
			wait = 1;
		/* no attempt: not counted in the delivery metrics */
		outbox_delivery_wait(d->delivery, wait, why, res->error);
	} else {
		engine_count_delivery(
		    slot->engine, outbox_delivery_row(d->delivery), result);
		outbox_delivery_done(d->delivery, result,
		    res->retry_after > 0 ? res->retry_after : 0, res->error);
	}
	/* A replaced notifier goes once its last delivery is done, at the
	 * next loop turn: this callback still runs inside it. */
	for (i = 0; i < slot->nretired; i++) {
		if (slot->retired[i] != d->notifier ||
		    notifier_inflight(d->notifier) > 0)
			continue;
		slot->retired[i] = slot->retired[--slot->nretired];
		event_base_once(slot->engine->base, -1, EV_TIMEOUT,
		    engine_notifier_free_cb, d->notifier, &zero);
		break;
	}
	LIST_REMOVE(d, entry);
	free(d);
	engine_work_ends(slot->engine);
	engine_settled(slot->engine);
}

static void
engine_deliver_cb(void *arg, struct outbox_delivery *delivery)
{
	struct engine_notifier *slot = arg;
	const struct store_outbox_row *row = outbox_delivery_row(delivery);
	struct engine_delivery *d;
	char *cause = NULL;

	if (slot->current == NULL) {
		outbox_delivery_wait(delivery, ENGINE_NOTIFIER_GONE_RETRY,
		    STORE_PARK_MISSING, "notifier no longer configured");
		return;
	}
	d = xcalloc(1, sizeof *d);
	d->delivery = delivery;
	d->slot = slot;
	d->notifier = slot->current;
	LIST_INSERT_HEAD(&slot->engine->deliveries, d, entry);
	engine_work_begins(slot->engine);
	if (notifier_deliver(slot->current, row->id, row->payload,
		strlen(row->payload), (unsigned)row->attempts + 1,
		engine_notify_done_cb, d, &cause) == -1) {
		engine_count_delivery(slot->engine, row, OUTBOX_PERMFAIL);
		outbox_delivery_done(delivery, OUTBOX_PERMFAIL, 0, cause);
		free(cause);
		LIST_REMOVE(d, entry);
		free(d);
	}
	/* held for a digest or a rate limit: nothing in flight */
	engine_work_ends(slot->engine);
}

static struct engine_notifier *
engine_slot(struct engine *e, const char *name)
{
	struct outbox_notifier on;
	struct engine_notifier *slot;
	size_t i;

	for (i = 0; i < e->nnotifiers; i++)
		if (strcmp(e->notifiers[i]->name, name) == 0)
			return e->notifiers[i];
	slot = xcalloc(1, sizeof *slot);
	slot->engine = e;
	slot->name = xstrdup(name);
	e->notifiers = xreallocarray(
	    e->notifiers, e->nnotifiers + 1, sizeof *e->notifiers);
	e->notifiers[e->nnotifiers++] = slot;
	memset(&on, 0, sizeof on);
	on.name = name;
	on.deliver = engine_deliver_cb;
	on.arg = slot;
	/* Notifiers hold alerts for digests and rate limits themselves. */
	on.max_inflight = NOTIFIER_MAX_INFLIGHT;
	/* a new name (the slots are looked up by name above) */
	if (outbox_add_notifier(e->outbox, &on) == -1)
		fatalx("%s: notifier %s twice", __func__, name);
	return slot;
}

/* Bind a slot to a new notifier (or none); the old one finishes first. */
static void
engine_slot_bind(struct engine_notifier *slot, struct notifier *n)
{
	struct notifier *old = slot->current;

	slot->current = n;
	if (old == NULL)
		return;
	if (notifier_inflight(old) == 0) {
		notifier_free(old);
		return;
	}
	slot->retired = xreallocarray(
	    slot->retired, slot->nretired + 1, sizeof *slot->retired);
	slot->retired[slot->nretired++] = old;
	/* One that disabled itself answers what it holds for a digest or
	 * a rate limit now, rather than when its window ends: put off,
	 * and taken by the new one (engine_notify_done_cb). */
	if (notifier_disabled(old) != NULL)
		notifier_flush(old);
}

/* Every notifier of CF, or NULL with *cause. */
static struct notifier **
engine_notifiers_new(struct engine *e, const struct config *cf, char **cause)
{
	struct notifier_ctx ctx = {e->base, e->curl};
	struct notifier **ns;
	size_t i;

	ns = xcalloc(cf->nnotifiers + 1, sizeof *ns);
	for (i = 0; i < cf->nnotifiers; i++) {
		if ((ns[i] = engine_notifier_new(
			 &cf->notifiers[i], &ctx, cause)) == NULL) {
			while (i-- > 0)
				notifier_free(ns[i]);
			free(ns);
			return NULL;
		}
	}
	return ns;
}

/* One self-alert check over every configured feed and the outbox. */
static void
engine_self_check(struct engine *e)
{
	struct selfalert_feed *sf;
	const struct engine_feed *f;
	char *cause = NULL;
	size_t i;
	int rc;

	if (e->cf->nself_notify == 0)
		return;
	sf = xcalloc(e->nfeeds + 1, sizeof *sf);
	for (i = 0; i < e->nfeeds; i++) {
		f = e->feeds[i];
		sf[i].url = f->conf->url;
		sf[i].name = f->conf->name;
		sf[i].failing_since = f->state.failing_since;
		sf[i].consecutive_failures = f->state.consecutive_failures;
		sf[i].last_error = f->state.last_error;
		sf[i].last_success_at = f->state.last_success_at;
		sf[i].gone = f->sched.state.gone;
	}
	rc = selfalert_check(
	    e->selfalert, e->cf, sf, e->nfeeds, engine_now_ms() / 1000, &cause);
	free(sf);
	if (rc == -1) {
		log_warnx("self-alert: %s", cause);
		free(cause);
	} else if (rc > 0)
		outbox_kick(e->outbox);
}

/* Arm the self-alert check for the configuration in force; a reload that
 * keeps the period keeps the timer (reloads every few seconds must not
 * put the check off for ever). */
static void
engine_self_arm(struct engine *e, int keep)
{
	int64_t ms = selfalert_period_ms(e->cf);
	struct timeval tv = {
	    (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000)};

	if (keep && ms == e->self_period_ms &&
	    evtimer_pending(e->self_timer, NULL))
		return;
	e->self_period_ms = ms;
	evtimer_del(e->self_timer);
	if (ms > 0 && !e->once)
		evtimer_add(e->self_timer, &tv);
}

static void
engine_self_cb(evutil_socket_t fd, short events, void *arg)
{
	struct engine *e = arg;

	engine_self_check(e);
	engine_self_arm(e, 0);
}

/* Retention: items first seen before it that their feed's latest fetch
 * no longer holds, feeds out of the configuration since before it with
 * their items, and delivered or dead alerts as old, go. A run goes in
 * steps (store_prune_step()), so that a large store (a retention
 * shortened by months) does not hold the loop up past the watchdog; the
 * daemon runs the next step at the loop's next turn. Returns 1 while the
 * run has more steps. */
static int
engine_prune_step(struct engine *e)
{
	size_t n = 0, nfeeds = 0, nheld;
	/* the feeds polled here are never removed under the daemon */
	const char **held = engine_held_urls(e, &nheld);
	char *cause = NULL;
	int rc;

	if (e->prune_cursor == 0) { /* a new run */
		e->prune_now = engine_now_ms() / 1000;
		e->prune_items = e->prune_feeds = 0;
	}
	rc = store_prune_step(e->store, e->prune_now,
	    e->cf->retention_ms / 1000, held, nheld, STORE_PRUNE_STEP,
	    &e->prune_cursor, &n, &nfeeds, &cause);
	free(held);
	if (rc == -1) {
		/* what the run's steps before deleted stays deleted */
		log_warnx("store: retention: %s (%zu items and %zu feeds "
			  "pruned before)",
		    cause, e->prune_items, e->prune_feeds);
		free(cause);
		e->prune_cursor = 0; /* the next run starts again */
		return 0;
	}
	e->prune_items += n;
	e->prune_feeds += nfeeds;
	log_debug("store: retention: a step, %zu items and %zu feeds pruned%s",
	    n, nfeeds, rc == 1 ? ", more to come" : ", the last");
	if (rc == 1)
		return 1;
	if (e->prune_feeds > 0)
		log_info("store: retention: %zu items pruned, with %zu feeds "
			 "out of the configuration",
		    e->prune_items, e->prune_feeds);
	else if (e->prune_items > 0)
		log_info("store: retention: %zu items pruned", e->prune_items);
	return 0;
}

/* A whole run, for a once run (nothing else waits for its loop). */
static void
engine_prune(struct engine *e)
{
	while (engine_prune_step(e) == 1)
		;
}

static void
engine_prune_cb(evutil_socket_t fd, short events, void *arg)
{
	struct engine *e = arg;
	struct timeval later = {ENGINE_PRUNE_EVERY_MS / 1000, 0};
	struct timeval next_turn = {0, 0};

	evtimer_add(
	    e->prune_timer, engine_prune_step(e) == 1 ? &next_turn : &later);
}

/* The metric families (metrics.h), in the order they are rendered. */
static struct metrics *
engine_metrics_new(void)
{
	struct metrics *m = metrics_new();

	metrics_declare(m, "feedwatch_feeds", METRICS_GAUGE,
	    "Configured feeds by state (ok, failing, gone, new).", NULL, 0);
	metrics_declare(m, "feedwatch_fetches_total", METRICS_COUNTER,
	    "Feed fetches by result and HTTP status class.", NULL, 0);
	metrics_declare(m, "feedwatch_fetch_duration_seconds",
	    METRICS_HISTOGRAM, "Time from a request's start to its end.",
	    engine_fetch_buckets,
	    sizeof engine_fetch_buckets / sizeof engine_fetch_buckets[0]);
	metrics_declare(m, "feedwatch_fetch_bytes_total", METRICS_COUNTER,
	    "Decoded feed body bytes received.", NULL, 0);
	metrics_declare(m, "feedwatch_fetch_not_modified_ratio", METRICS_GAUGE,
	    "Share of successful fetches answered 304 Not Modified.", NULL, 0);
	metrics_declare(m, "feedwatch_parse_errors_total", METRICS_COUNTER,
	    "Fetched documents that did not parse as a feed.", NULL, 0);
	metrics_declare(m, "feedwatch_parse_queued_bytes", METRICS_GAUGE,
	    "Body bytes received and waiting for the parser threads.", NULL, 0);
	metrics_declare(m, "feedwatch_parse_wait_seconds_total",
	    METRICS_COUNTER,
	    "Time the event loop waited for the parser threads to make room.",
	    NULL, 0);
	metrics_declare(m, "feedwatch_items_new_total", METRICS_COUNTER,
	    "New items stored (first-poll baselines excluded).", NULL, 0);
	metrics_declare(m, "feedwatch_items_updated_total", METRICS_COUNTER,
	    "Changed items passed to the watchlists.", NULL, 0);
	metrics_declare(m, "feedwatch_alerts_total", METRICS_COUNTER,
	    "Alerts enqueued by watchlist.", NULL, 0);
	metrics_declare(m, "feedwatch_outbox_rows", METRICS_GAUGE,
	    "Outbox rows by state (one per alert and notifier).", NULL, 0);
	metrics_declare(m, "feedwatch_outbox_oldest_pending_age_seconds",
	    METRICS_GAUGE, "Age of the oldest pending outbox row.", NULL, 0);
	metrics_declare(m, "feedwatch_deliveries_total", METRICS_COUNTER,
	    "Delivery attempts by notifier and result.", NULL, 0);
	metrics_declare(m, "feedwatch_delivery_latency_seconds",
	    METRICS_HISTOGRAM,
	    "Time from an alert's creation to its notifier's OK.",
	    engine_delivery_buckets,
	    sizeof engine_delivery_buckets / sizeof engine_delivery_buckets[0]);
	metrics_declare(m, "feedwatch_self_alerts_raised", METRICS_GAUGE,
	    "Self-alerts raised and not yet recovered (failing feeds, the "
	    "outbox).",
	    NULL, 0);
	metrics_declare(m, "feedwatch_feed_last_success_timestamp_seconds",
	    METRICS_GAUGE,
	    "When each feed was last fetched successfully (Unix time).", NULL,
	    0);
	metrics_declare(m, "feedwatch_config_last_reload_successful",
	    METRICS_GAUGE,
	    "0 while the last reload failed (the configuration before it "
	    "runs), 1 otherwise.",
	    NULL, 0);
	metrics_declare(m,
	    "feedwatch_config_last_reload_success_timestamp_seconds",
	    METRICS_GAUGE,
	    "When the configuration in force was loaded (Unix time).", NULL, 0);
	return m;
}

struct engine *
engine_new(struct event_base *base, struct config *cf, char **cause)
{
	struct engine *e = xcalloc(1, sizeof *e);
	struct notifier **ns;
	char *rcause = NULL;
	size_t i;
	int reading;

	e->base = base;
	LIST_INIT(&e->deliveries);
	e->cf = cf;
	e->cf_loaded_at = engine_now_ms() / 1000;
	engine_progress(e);
	e->idle = 1;
	e->metrics = engine_metrics_new();
	if ((e->matcher = engine_matcher(cf, NULL, cause)) == NULL)
		goto fail;
	if ((e->store = store_open(cf->store_path, cause)) == NULL)
		goto fail;
	if ((e->parsepool = parsepool_new(cf->parse_threads, 0, cause)) == NULL)
		goto fail;
	parsepool_set_prepare(e->parsepool, store_doc_digest);
	e->parsed_event = event_new(base, parsepool_fd(e->parsepool),
	    EV_READ | EV_PERSIST, engine_pool_cb, e);
	if (e->parsed_event == NULL || event_add(e->parsed_event, NULL) != 0) {
		xasprintf(cause, "cannot watch the parser threads");
		goto fail;
	}
	e->curl = curlev_new(base);
	e->fetchq = fetch_queue_new(
	    e->curl, cf->max_connections, cf->max_connections_per_host);
	e->sched = schedule_new(base, NULL, 0, engine_due_cb, e);
	e->flush_timer = evtimer_new(base, engine_flush_cb, e);
	e->ingest_timer = evtimer_new(base, engine_ingest_cb, e);
	if ((e->outbox = outbox_new(base, e->store, NULL, cause)) == NULL)
		goto fail;
	if ((e->selfalert = selfalert_new(e->store, cause)) == NULL)
		goto fail;
	e->self_timer = evtimer_new(base, engine_self_cb, e);
	e->prune_timer = evtimer_new(base, engine_prune_cb, e);
	if ((ns = engine_notifiers_new(e, cf, cause)) == NULL)
		goto fail;
	for (i = 0; i < cf->nnotifiers; i++) {
		engine_slot_bind(engine_slot(e, cf->notifiers[i].key), ns[i]);
		/* alerts put off because the last run lacked it (not those
		 * it disabled itself for: this run does not know why) */
		outbox_wake(
		    e->outbox, cf->notifiers[i].key, STORE_PARK_MISSING);
	}
	free(ns);
	engine_feeds_present(e, cf);
	e->feeds = xcalloc(cf->nfeeds + 1, sizeof *e->feeds);
	/* one read transaction for every feed's state (a failure to begin
	 * it only costs time: each read then takes its own) */
	reading = store_reads_begin(e->store, &rcause) == 0;
	free(rcause);
	for (i = 0; i < cf->nfeeds; i++)
		e->feeds[e->nfeeds++] = engine_feed_new(e, &cf->feeds[i]);
	if (reading)
		store_reads_end(e->store);
	return e;
fail:
	engine_free(e);
	return NULL;
}

void
engine_free(struct engine *e)
{
	struct engine_delivery *d;
	struct engine_notifier *slot;
	size_t i, j;

	if (e == NULL)
		return;
	e->closing = 1;
	if (e->store != NULL)
		engine_flush(e);
	free(e->reload_error);
	free(e->dirty);
	if (e->flush_timer != NULL)
		event_free(e->flush_timer);
	if (e->ingest_timer != NULL)
		event_free(e->ingest_timer);
	if (e->self_timer != NULL)
		event_free(e->self_timer);
	if (e->prune_timer != NULL)
		event_free(e->prune_timer);
	selfalert_free(e->selfalert);
	for (i = 0; i < e->nfeeds; i++) {
		schedule_remove(e->sched, &e->feeds[i]->sched);
		engine_feed_free(e->feeds[i]);
	}
	free(e->feeds);
	if (e->parsed_event != NULL)
		event_free(e->parsed_event);
	parsepool_free(e->parsepool);
	/* The dispatcher first: it abandons deliveries (rows stay in
	 * flight, retried at the next start) before notifiers go. */
	outbox_free(e->outbox);
	for (i = 0; i < e->nnotifiers; i++) {
		slot = e->notifiers[i];
		notifier_free(slot->current);
		for (j = 0; j < slot->nretired; j++)
			notifier_free(slot->retired[j]);
		free(slot->retired);
		free(slot->name);
		free(slot);
	}
	free(e->notifiers);
	/* Deliveries the notifiers never answered (held for a digest, or cut
	 * short by the stop's deadline): the outbox gone, answering one
	 * only lets it go. */
	while ((d = LIST_FIRST(&e->deliveries)) != NULL) {
		LIST_REMOVE(d, entry);
		outbox_delivery_done(d->delivery, OUTBOX_TEMPFAIL, 0, NULL);
		free(d);
	}
	schedule_free(e->sched);
	fetch_queue_free(e->fetchq);
	curlev_free(e->curl);
	store_close(e->store);
	matcher_free(e->matcher);
	metrics_free(e->metrics);
	config_free(e->cf);
	free(e);
}

/*
 * Once mode: when the last poll is done, what is due then is delivered;
 * a retry due later (a receiver's Retry-After, the backoff) waits for the
 * next run, so that `once` always ends.
 */
static void
engine_once_done(struct engine *e)
{
	size_t i;

	if (!e->once || e->once_pending > 0 || e->once_over)
		return;
	e->once_over = 1;
	engine_flush(e);
	engine_self_check(e);
	for (i = 0; i < e->nnotifiers; i++)
		if (e->notifiers[i]->current != NULL)
			notifier_flush(e->notifiers[i]->current);
	/* after what this run makes last (the waiting documents' alerts,
	 * the self-alerts), which is due now: taken before, a second that
	 * ticked in between left such an alert for the next run */
	e->once_cutoff = engine_now_ms() / 1000;
	outbox_kick(e->outbox);
	engine_settled(e);
}

void
engine_set_settle_event(struct engine *e, struct event *ev)
{
	e->settle_event = ev;
}

void
engine_start(struct engine *e, int once)
{
	int64_t now = engine_now_ms();
	size_t i;

	e->once = once;
	/* at the start, then (a daemon) every hour, in steps */
	if (once)
		engine_prune(e);
	else
		engine_prune_cb(-1, EV_TIMEOUT, e);
	for (i = 0; i < e->nfeeds; i++) {
		if (!once) {
			schedule_add(e->sched, &e->feeds[i]->sched, now);
			continue;
		}
		if (e->feeds[i]->sched.state.gone)
			continue;
		e->feeds[i]->once_pending = 1;
		e->once_pending++;
	}
	for (i = 0; once && i < e->nfeeds; i++)
		if (e->feeds[i]->once_pending)
			engine_poll(e->feeds[i]);
	engine_self_arm(e, 0);
	outbox_kick(e->outbox);
	/* no feed to poll: the cycle is over before it began */
	if (once && e->once_pending == 0)
		engine_once_done(e);
}

int
engine_reload(struct engine *e, struct config *newcf, char **cause)
{
	struct matcher *m;
	struct notifier **ns;
	struct engine_feed **feeds, *f;
	struct engine_notifier *slot;
	struct config *old = e->cf;
	int64_t now = engine_now_ms();
	size_t i, j, nfeeds = 0;
	int keep, wake_disabled;

	if ((m = engine_matcher(newcf, NULL, cause)) == NULL)
		return -1;
	if ((ns = engine_notifiers_new(e, newcf, cause)) == NULL) {
		matcher_free(m);
		return -1;
	}
	/* waiting documents are matched by the watchlists they came under */
	engine_ingest_flush(e);
	matcher_free(e->matcher);
	e->matcher = m;
	e->cf = newcf;
	e->cf_loaded_at = now / 1000;
	free(e->reload_error);
	e->reload_error = NULL;

	/* Notifiers by name; a removed one keeps its slot, unbound. */
	for (i = 0; i < e->nnotifiers; i++) {
		for (j = 0; j < newcf->nnotifiers; j++)
			if (strcmp(e->notifiers[i]->name,
				newcf->notifiers[j].key) == 0)
				break;
		if (j == newcf->nnotifiers)
			engine_slot_bind(e->notifiers[i], NULL);
	}
	for (i = 0; i < newcf->nnotifiers; i++) {
		slot = engine_slot(e, newcf->notifiers[i].key);
		/* a reload ends the disabling of the notifier it replaces,
		 * and of one it brings back (put off as disabled, then the
		 * notifier removed) */
		wake_disabled = slot->current == NULL ||
		    notifier_disabled(slot->current) != NULL;
		engine_slot_bind(slot, ns[i]);
		/* alerts put off while it was not configured, or disabled
		 * (a reload is what the disabling waits for) */
		outbox_wake(e->outbox, slot->name, STORE_PARK_MISSING);
		if (wake_disabled)
			outbox_wake(e->outbox, slot->name, STORE_PARK_DISABLED);
	}
	free(ns);

	/* Feeds by URL. */
	fetch_queue_set_limits(
	    e->fetchq, newcf->max_connections, newcf->max_connections_per_host);
	/* Removed feeds go below: nothing of theirs may wait to be written. */
	engine_flush(e);
	engine_feeds_present(e, newcf);
	feeds = xcalloc(newcf->nfeeds + 1, sizeof *feeds);
	for (i = 0; i < newcf->nfeeds; i++) {
		f = NULL;
		for (j = 0; j < e->nfeeds; j++) {
			if (e->feeds[j] != NULL &&
			    strcmp(e->feeds[j]->conf->url,
				newcf->feeds[i].url) == 0) {
				f = e->feeds[j];
				e->feeds[j] = NULL;
				break;
			}
		}
		if (f != NULL) {
			keep =
			    f->sched.interval_ms == newcf->feeds[i].interval_ms;
			engine_feed_bind(f, newcf, &newcf->feeds[i]);
			engine_set(&f->state.name, newcf->feeds[i].name);
			if (!keep && f->fetch == NULL && f->fetched == NULL) {
				/* A new interval applies from the next poll. */
				schedule_remove(e->sched, &f->sched);
				schedule_add(e->sched, &f->sched, now);
			}
		} else {
			f = engine_feed_new(e, &newcf->feeds[i]);
			if (!e->once)
				schedule_add(e->sched, &f->sched, now);
		}
		feeds[nfeeds++] = f;
	}
	for (j = 0; j < e->nfeeds; j++) {
		if (e->feeds[j] == NULL)
			continue;
		schedule_remove(e->sched, &e->feeds[j]->sched);
		if (e->feeds[j]->once_pending)
			e->once_pending--;
		engine_feed_free(e->feeds[j]);
	}
	free(e->feeds);
	e->feeds = feeds;
	e->nfeeds = nfeeds;
	config_free(old);
	engine_self_arm(e, 1);
	outbox_kick(e->outbox);
	return 0;
}

void
engine_drain(struct engine *e)
{
	size_t i;

	e->draining = 1;
	for (i = 0; i < e->nfeeds; i++)
		schedule_remove(e->sched, &e->feeds[i]->sched);
}

/* Alerts the notifiers hold for a digest or a rate limit, those a reload
 * replaced (which keep theirs until they send them) included. */
static size_t
engine_held(struct engine *e)
{
	const struct engine_notifier *slot;
	size_t i, j, held = 0;

	for (i = 0; i < e->nnotifiers; i++) {
		slot = e->notifiers[i];
		if (slot->current != NULL)
			held += notifier_held(slot->current);
		for (j = 0; j < slot->nretired; j++)
			held += notifier_held(slot->retired[j]);
	}
	return held;
}

int
engine_idle(struct engine *e)
{
	int64_t at, now = engine_now_ms() / 1000;
	size_t i;
	int rc;

	/* a stop does not wait for the alerts held for a digest or a rate
	 * limit: they are put back to pending at the next start */
	if (engine_polls_running(e) > 0 ||
	    outbox_inflight(e->outbox) > (e->draining ? engine_held(e) : 0) ||
	    e->ndirty > 0 || e->ningests > 0)
		return 0;
	if (!e->once || e->draining)
		return 1;
	if (e->once_pending > 0)
		return 0;
	for (i = 0; i < e->nnotifiers; i++) {
		if (e->notifiers[i]->current == NULL)
			continue;
		rc = store_outbox_next_due(
		    e->store, e->notifiers[i]->name, &at, NULL);
		if (rc == 0 && at <= now && at <= e->once_cutoff)
			return 0;
	}
	return 1;
}

int
engine_working(struct engine *e)
{
	if (engine_polls_running(e) > 0 || e->ningests > 0)
		return 1;
	return outbox_inflight(e->outbox) > engine_held(e);
}

int64_t
engine_without_progress(const struct engine *e)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec - e->last_progress;
}

void
engine_stats(struct engine *e, struct engine_stats *st)
{
	struct store_outbox_stats os;
	size_t i;

	memset(st, 0, sizeof *st);
	st->feeds = e->nfeeds;
	for (i = 0; i < e->nfeeds; i++) {
		if (e->feeds[i]->sched.state.gone)
			st->gone++;
		else if (e->feeds[i]->sched.state.consecutive_failures > 0)
			st->failing++;
	}
	st->polls_running = engine_polls_running(e);
	st->polls_done = e->polls_done;
	st->polls_failed = e->polls_failed;
	st->alerts = e->alerts;
	st->deliveries_inflight = outbox_inflight(e->outbox);
	if (store_outbox_stats(e->store, engine_now_ms() / 1000, &os, NULL) ==
	    0) {
		st->outbox_pending = os.pending + os.inflight;
		st->outbox_dead = os.dead;
	}
}

void
engine_checkpoint(struct engine *e)
{
	char *cause = NULL;

	engine_flush(e); /* what waits to be written goes first */
	if (store_checkpoint(e->store, &cause) == -1) {
		log_warnx("store: checkpoint: %s", cause);
		free(cause);
	}
}

void
engine_reload_failed(struct engine *e, const char *cause)
{
	free(e->reload_error);
	e->reload_error = xstrndup(cause, strcspn(cause, "\n"));
	e->reload_failed_at = engine_now_ms() / 1000;
}

const char *
engine_reload_state(
    const struct engine *e, int64_t *loaded_at, int64_t *failed_at)
{
	*loaded_at = e->cf_loaded_at;
	*failed_at = e->reload_error != NULL ? e->reload_failed_at : 0;
	return e->reload_error;
}

const struct config *
engine_config(const struct engine *e)
{
	return e->cf;
}

/* The state a feed is counted under in feedwatch_feeds. */
static const char *
engine_feed_state(const struct engine_feed *f)
{
	const struct schedule_state *s = &f->sched.state;

	if (s->gone)
		return "gone";
	if (s->consecutive_failures > 0)
		return "failing";
	if (s->last_success_at > 0)
		return "ok";
	return "new";
}

int
engine_metrics_render(struct engine *e, struct buf *b)
{
	static const char *const states[] = {"ok", "failing", "gone", "new"};
	struct metrics *m = e->metrics;
	struct store_outbox_stats os;
	const struct engine_feed *f;
	double ok, not_modified, waited;
	size_t i, queued;

	metrics_clear(m, "feedwatch_feeds");
	metrics_clear(m, "feedwatch_feed_last_success_timestamp_seconds");
	for (i = 0; i < sizeof states / sizeof states[0]; i++)
		metrics_set(m, "feedwatch_feeds", 0, "state", states[i], NULL);
	for (i = 0; i < e->nfeeds; i++) {
		f = e->feeds[i];
		metrics_add(m, "feedwatch_feeds", 1, "state",
		    engine_feed_state(f), NULL);
		if (f->sched.state.last_success_at > 0)
			metrics_set(m,
			    "feedwatch_feed_last_success_timestamp_seconds",
			    (double)(f->sched.state.last_success_at / 1000),
			    "feed", f->conf->name, NULL);
	}
	ok = 0;
	for (i = 1; i < 6; i++) {
		char cls[8];

		snprintf(cls, sizeof cls, "%zuxx", i);
		ok += metrics_get(m, "feedwatch_fetches_total", "result", "ok",
		    "status_class", cls, NULL);
	}
	ok += metrics_get(m, "feedwatch_fetches_total", "result", "ok",
	    "status_class", "none", NULL);
	not_modified = metrics_get(m, "feedwatch_fetches_total", "result",
	    "not_modified", "status_class", "3xx", NULL);
	metrics_set(m, "feedwatch_fetch_not_modified_ratio",
	    ok + not_modified > 0 ? not_modified / (ok + not_modified) : 0,
	    NULL);
	if (store_outbox_stats(e->store, engine_now_ms() / 1000, &os, NULL) ==
	    0) {
		metrics_set(m, "feedwatch_outbox_rows", (double)os.pending,
		    "state", "pending", NULL);
		metrics_set(m, "feedwatch_outbox_rows", (double)os.inflight,
		    "state", "inflight", NULL);
		metrics_set(m, "feedwatch_outbox_rows", (double)os.dead,
		    "state", "dead", NULL);
		metrics_set(m, "feedwatch_outbox_oldest_pending_age_seconds",
		    (double)os.oldest_pending_age, NULL);
	}
	parsepool_stats(e->parsepool, &queued, &waited);
	metrics_set(m, "feedwatch_parse_queued_bytes", (double)queued, NULL);
	metrics_set(m, "feedwatch_parse_wait_seconds_total", waited, NULL);
	metrics_set(m, "feedwatch_self_alerts_raised",
	    (double)selfalert_raised(e->selfalert), NULL);
	metrics_set(m, "feedwatch_config_last_reload_successful",
	    e->reload_error == NULL ? 1 : 0, NULL);
	metrics_set(m, "feedwatch_config_last_reload_success_timestamp_seconds",
	    (double)e->cf_loaded_at, NULL);
	return metrics_render(m, b);
}

struct metrics *
engine_metrics(struct engine *e)
{
	return e->metrics;
}

struct store *
engine_store(struct engine *e)
{
	return e->store;
}

size_t
engine_nfeeds(const struct engine *e)
{
	return e->nfeeds;
}

int
engine_feed_info(struct engine *e, size_t i, struct engine_feed_info *info)
{
	const struct engine_feed *f;

	if (i >= e->nfeeds)
		return -1;
	f = e->feeds[i];
	memset(info, 0, sizeof *info);
	info->name = f->conf->name;
	info->url = f->conf->url;
	info->moved_to = f->state.moved_to;
	info->state = engine_feed_state(f);
	info->last_poll_at = f->sched.state.last_poll_at / 1000;
	info->last_success_at = f->sched.state.last_success_at / 1000;
	info->next_poll_at =
	    f->sched.queued ? f->sched.state.next_poll_at / 1000 : 0;
	info->consecutive_failures = f->sched.state.consecutive_failures;
	info->last_status = f->sched.state.last_status;
	info->last_error = f->sched.state.last_error[0] != '\0'
	    ? f->sched.state.last_error
	    : NULL;
	info->polling = f->fetch != NULL || f->fetched != NULL;
	return 0;
}

/*
 * feedwatch run: the daemon (poll, parse, match, alert, forever; SIGHUP
 * reloads, SIGTERM/SIGINT stop cleanly; speaks systemd's notify protocol).
 * feedwatch once: one full cycle over every feed, deliver what is due,
 * exit; the exit status says whether any feed failed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "admin.h"
#include "cmd.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "sdnotify.h"
#include "xmalloc.h"

/* How long transfers and deliveries in flight get to finish on SIGTERM. */
#define RUN_STOP_DEADLINE_MS 10000
/* How often the STATUS line is refreshed. */
#define RUN_STATUS_INTERVAL_MS 10000
/* With work in flight and no progress for this long, the loop is taken
 * to be stuck and the watchdog is no longer fed (systemd restarts us). */
#define RUN_STALL_S 300
/* How often `once` and a stopping daemon look whether they are done,
 * besides each time the engine says work may have ended. */
#define RUN_IDLE_CHECK_MS 10

struct run {
	struct event_base *base;
	struct engine *engine;
	struct sdnotify *notify;
	struct admin *admin; /* NULL: disabled or not bound */
	const char *config_path;
	int once;
	int stopping;
	int64_t stop_deadline;
	struct event *sighup;
	struct event *sigterm;
	struct event *sigint;
	struct event *status_timer;
	struct event *watchdog_timer;
	struct event *idle_timer;
};

static int64_t
run_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
run_timer_add(struct event *ev, int64_t ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_add(ev, &tv);
}

/* "1,204": thousands separated, for the STATUS line. */
static const char *
run_count(char *buf, size_t len, size_t n)
{
	char digits[32];
	size_t nd, i, o = 0;

	nd = (size_t)snprintf(digits, sizeof digits, "%zu", n);
	for (i = 0; i < nd && o + 2 < len; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

static void
run_status(struct run *r)
{
	struct engine_stats st;
	char a[32], b[32], c[32];
	const char *failed;
	int64_t loaded_at, failed_at;

	engine_stats(r->engine, &st);
	failed = engine_reload_state(r->engine, &loaded_at, &failed_at);
	sdnotify_send(r->notify,
	    "STATUS=%spolling %s feeds, %s failing, %s "
	    "alerts queued%s%s",
	    r->stopping ? "stopping: " : "",
	    run_count(a, sizeof a, st.feeds - st.gone),
	    run_count(b, sizeof b, st.failing),
	    run_count(c, sizeof c, st.outbox_pending),
	    failed != NULL ? "; reload failed: " : "",
	    failed != NULL ? failed : "");
}

static void
run_status_cb(evutil_socket_t fd, short events, void *arg)
{
	struct run *r = arg;

	run_status(r);
	run_timer_add(r->status_timer, RUN_STATUS_INTERVAL_MS);
}

/* Feed the watchdog while the loop turns and, when there is work in
 * flight, while that work makes progress. */
static void
run_watchdog_cb(evutil_socket_t fd, short events, void *arg)
{
	struct run *r = arg;
	int64_t stalled = engine_without_progress(r->engine);

	if (!engine_working(r->engine) || stalled < RUN_STALL_S)
		sdnotify_send(r->notify, "WATCHDOG=1");
	else
		log_warnx("no progress for %lld s with work in flight: not "
			  "feeding the watchdog",
		    (long long)stalled);
	run_timer_add(r->watchdog_timer,
	    (int64_t)(sdnotify_watchdog_usec(r->notify) / 2000));
}

static void
run_idle_cb(evutil_socket_t fd, short events, void *arg)
{
	struct run *r = arg;

	/* a running daemon waits for nothing until it is told to stop */
	if (!r->once && !r->stopping)
		return;
	if (engine_idle(r->engine) ||
	    (r->stopping && run_now_ms() >= r->stop_deadline)) {
		if (r->stopping && !engine_idle(r->engine))
			log_warnx("stop deadline reached with work in flight: "
				  "it is retried at the next start");
		event_base_loopexit(r->base, NULL);
		return;
	}
	run_timer_add(r->idle_timer, RUN_IDLE_CHECK_MS);
}

static void
run_stop(struct run *r)
{
	if (r->stopping)
		return;
	r->stopping = 1;
	log_notice("stopping: letting work in flight finish (up to %d s)",
	    RUN_STOP_DEADLINE_MS / 1000);
	sdnotify_send(r->notify, "STOPPING=1");
	engine_drain(r->engine);
	r->stop_deadline = run_now_ms() + RUN_STOP_DEADLINE_MS;
	event_del(r->idle_timer);
	run_timer_add(r->idle_timer, 0);
}

/*
 * Start the admin server as CF says (run only). A port that cannot be
 * bound is logged and the daemon goes on without it: alerts matter more
 * than the view on them.
 */
static void
run_admin_start(struct run *r, const struct config *cf)
{
	struct admin_options ao;
	char *cause = NULL;

	if (r->once || !cf->admin_enabled)
		return;
	ao.address = cf->admin_address;
	ao.port = cf->admin_port;
	ao.token = cf->admin_token;
	if ((r->admin = admin_new(r->base, r->engine, &ao, &cause)) == NULL) {
		log_warnx("%s; running without it", cause);
		free(cause);
		return;
	}
	log_info("admin: listening on %s port %d", cf->admin_address,
	    admin_port(r->admin));
}

static void
run_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct run *r = arg;
	struct config *cf;
	char *cause = NULL, *address = NULL;
	int port = 0, enabled = 0;

	if (sig != SIGHUP) {
		run_stop(r);
		return;
	}
	if (r->stopping)
		return;
	sdnotify_send(r->notify, "RELOADING=1");
	log_notice("reloading %s", r->config_path);
	enabled = engine_config(r->engine)->admin_enabled;
	port = engine_config(r->engine)->admin_port;
	address = xstrdup(engine_config(r->engine)->admin_address);
	if ((cf = config_load(r->config_path, &cause)) == NULL ||
	    engine_reload(r->engine, cf, &cause) == -1) {
		config_free(cf);
		log_warnx("reload failed, the running configuration stays:");
		log_lines(LOG_LEVEL_WARN, cause);
		engine_reload_failed(r->engine, cause);
		free(cause);
	} else {
		log_notice("reloaded: %zu feeds, %zu watchlists, %zu notifiers",
		    cf->nfeeds, cf->nwatchlists, cf->nnotifiers);
		if (cf->admin_enabled != enabled || cf->admin_port != port ||
		    strcmp(cf->admin_address, address) != 0) {
			admin_free(r->admin);
			r->admin = NULL;
			run_admin_start(r, cf);
		} else if (r->admin != NULL)
			admin_set_token(r->admin, cf->admin_token);
	}
	free(address);
	sdnotify_send(r->notify, "READY=1");
	run_status(r);
}

static int
run_main(int argc, char **argv, const struct cmd_globals *g, int once)
{
	struct run r;
	struct config *cf;
	struct engine_stats st;
	char *cause = NULL;
	int status = 0;

	if (argc > 1) {
		fprintf(stderr, "usage: feedwatch %s [-c CONFIG]\n",
		    once ? "once" : "run");
		return 2;
	}
	/* A reload asked for during start-up must not kill us (SIGHUP's
	 * default); it is handled once the loop runs. */
	signal(SIGHUP, SIG_IGN);
	memset(&r, 0, sizeof r);
	r.once = once;
	r.config_path = g->config_path;
	if ((cf = config_load(g->config_path, &cause)) == NULL) {
		log_lines(LOG_LEVEL_ERROR, cause);
		free(cause);
		return 1;
	}
	if ((r.notify = sdnotify_open(&cause)) == NULL) {
		log_lines(LOG_LEVEL_ERROR, cause);
		free(cause);
		config_free(cf);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((r.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((r.engine = engine_new(r.base, cf, &cause)) == NULL) {
		log_lines(LOG_LEVEL_ERROR, cause);
		free(cause);
		event_base_free(r.base);
		sdnotify_free(r.notify);
		return 1;
	}
	r.sigterm = evsignal_new(r.base, SIGTERM, run_signal_cb, &r);
	r.sigint = evsignal_new(r.base, SIGINT, run_signal_cb, &r);
	event_add(r.sigterm, NULL);
	event_add(r.sigint, NULL);
	r.idle_timer = evtimer_new(r.base, run_idle_cb, &r);
	engine_set_settle_event(r.engine, r.idle_timer);
	if (once)
		run_timer_add(r.idle_timer, RUN_IDLE_CHECK_MS);
	else {
		r.sighup = evsignal_new(r.base, SIGHUP, run_signal_cb, &r);
		event_add(r.sighup, NULL);
		r.status_timer = evtimer_new(r.base, run_status_cb, &r);
		run_timer_add(r.status_timer, RUN_STATUS_INTERVAL_MS);
		if (sdnotify_watchdog_usec(r.notify) > 0) {
			r.watchdog_timer =
			    evtimer_new(r.base, run_watchdog_cb, &r);
			run_timer_add(r.watchdog_timer, 0);
		}
	}
	run_admin_start(&r, cf);
	engine_start(r.engine, once);
	if (!once) {
		log_notice("running: %zu feeds, %zu watchlists, %zu notifiers",
		    cf->nfeeds, cf->nwatchlists, cf->nnotifiers);
		sdnotify_send(r.notify, "READY=1");
		run_status(&r);
	}
	event_base_dispatch(r.base);

	engine_stats(r.engine, &st);
	if (once) {
		log_notice("polled %zu feeds, %zu failed; %zu alerts; %zu "
			   "deliveries pending, %zu dead",
		    st.polls_done, st.polls_failed, st.alerts,
		    st.outbox_pending, st.outbox_dead);
		status = st.polls_failed > 0 ? 1 : 0;
	} else
		log_notice("stopped");
	admin_free(r.admin);
	engine_checkpoint(r.engine);
	engine_free(r.engine);
	if (r.sighup != NULL)
		event_free(r.sighup);
	event_free(r.sigterm);
	event_free(r.sigint);
	if (r.status_timer != NULL)
		event_free(r.status_timer);
	if (r.watchdog_timer != NULL)
		event_free(r.watchdog_timer);
	event_free(r.idle_timer);
	event_base_free(r.base);
	sdnotify_free(r.notify);
	return status;
}

int
cmd_run(int argc, char **argv, const struct cmd_globals *g)
{
	return run_main(argc, argv, g, 0);
}

int
cmd_once(int argc, char **argv, const struct cmd_globals *g)
{
	return run_main(argc, argv, g, 1);
}

/*
 * curlev: libcurl multi on libevent (the hiperfifo pattern). See curlev.h.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "curlev.h"
#include "log.h"
#include "xmalloc.h"

/* One transfer in flight; hangs off the easy handle's CURLOPT_PRIVATE. */
struct curlev_xfer {
	CURL *easy;
	curlev_done_cb done_cb;
	void *arg;
	TAILQ_ENTRY(curlev_xfer) entry;
};

struct curlev {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct event **socks; /* indexed by descriptor; NULL = not watched */
	size_t nsocks;
	TAILQ_HEAD(, curlev_xfer) xfers;
	size_t running;
};

/* Stop watching fd, if we were. */
static void
curlev_sock_remove(struct curlev *cl, curl_socket_t fd)
{
	if (fd < 0 || (size_t)fd >= cl->nsocks || cl->socks[fd] == NULL)
		return;
	event_free(cl->socks[fd]); /* event_free deletes first */
	cl->socks[fd] = NULL;
}

/* Hand every finished transfer back to its owner. */
static void
curlev_check(struct curlev *cl)
{
	CURLMsg *msg;
	int left;
	CURL *easy;
	CURLcode result;
	struct curlev_xfer *x;
	curlev_done_cb done_cb;
	void *arg;

	while ((msg = curl_multi_info_read(cl->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		result = msg->data.result;
		x = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(cl->multi, easy);
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		if (x == NULL)
			continue;
		TAILQ_REMOVE(&cl->xfers, x, entry);
		cl->running--;
		done_cb = x->done_cb;
		arg = x->arg;
		free(x);
		done_cb(easy, result, arg);
	}
}

/* libevent: a watched socket is ready. */
static void
curlev_event_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct curlev *cl = arg;
	int action = 0, running;

	if (kind & EV_READ)
		action |= CURL_CSELECT_IN;
	if (kind & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(cl->multi, fd, action, &running);
	curlev_check(cl);
}

/* libevent: curl's timeout expired. */
static void
curlev_timer_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct curlev *cl = arg;
	int running;

	curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	curlev_check(cl);
}

/* curl: watch fd for what (CURLMOPT_SOCKETFUNCTION). */
static int
curlev_socket_cb(
    CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct curlev *cl = userp;
	short kind = EV_PERSIST;
	size_t n;

	if (what == CURL_POLL_REMOVE) {
		curlev_sock_remove(cl, fd);
		return 0;
	}
	if (fd < 0)
		return -1;
	if ((size_t)fd >= cl->nsocks) {
		n = (size_t)fd + 16;
		cl->socks = xreallocarray(cl->socks, n, sizeof *cl->socks);
		memset(cl->socks + cl->nsocks, 0,
		    (n - cl->nsocks) * sizeof *cl->socks);
		cl->nsocks = n;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	curlev_sock_remove(cl, fd);
	cl->socks[fd] = event_new(cl->base, fd, kind, curlev_event_cb, cl);
	if (cl->socks[fd] == NULL || event_add(cl->socks[fd], NULL) != 0) {
		log_warnx("curlev: cannot watch socket %d", (int)fd);
		curlev_sock_remove(cl, fd);
		return -1;
	}
	return 0;
}

/* curl: wake me in timeout_ms, -1 = never (CURLMOPT_TIMERFUNCTION). Only
 * arms the timer: curl must not be re-entered from here. */
static int
curlev_timerfn_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlev *cl = userp;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(cl->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(cl->timer, &tv) == 0 ? 0 : -1;
}

/* curl: close a socket; its event goes first so libevent never watches a
 * closed (or reused) descriptor (CURLOPT_CLOSESOCKETFUNCTION). */
static int
curlev_closesocket_cb(void *clientp, curl_socket_t fd)
{
	curlev_sock_remove(clientp, fd);
	return close(fd);
}

struct curlev *
curlev_new(struct event_base *base)
{
	struct curlev *cl;

	cl = xcalloc(1, sizeof *cl);
	cl->base = base;
	TAILQ_INIT(&cl->xfers);
	if ((cl->multi = curl_multi_init()) == NULL)
		fatalx("curl_multi_init failed");
	if ((cl->timer = evtimer_new(base, curlev_timer_cb, cl)) == NULL)
		fatalx("evtimer_new failed");
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, curlev_socket_cb);
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, curlev_timerfn_cb);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
	return cl;
}

void
curlev_free(struct curlev *cl)
{
	struct curlev_xfer *x;
	size_t i;

	if (cl == NULL)
		return;
	while ((x = TAILQ_FIRST(&cl->xfers)) != NULL)
		curlev_cancel(cl, x->easy);
	/* Cached connections close here, through curlev_closesocket_cb. */
	curl_multi_cleanup(cl->multi);
	for (i = 0; i < cl->nsocks; i++)
		curlev_sock_remove(cl, (curl_socket_t)i);
	free(cl->socks);
	event_free(cl->timer);
	free(cl);
}

int
curlev_add(struct curlev *cl, CURL *easy, curlev_done_cb done_cb, void *arg)
{
	struct curlev_xfer *x;

	x = xcalloc(1, sizeof *x);
	x->easy = easy;
	x->done_cb = done_cb;
	x->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(
	    easy, CURLOPT_CLOSESOCKETFUNCTION, curlev_closesocket_cb);
	curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, cl);
	if (curl_multi_add_handle(cl->multi, easy) != CURLM_OK) {
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(x);
		return -1;
	}
	TAILQ_INSERT_TAIL(&cl->xfers, x, entry);
	cl->running++;
	return 0;
}

void
curlev_cancel(struct curlev *cl, CURL *easy)
{
	struct curlev_xfer *x = NULL;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	if (x == NULL)
		return;
	curl_multi_remove_handle(cl->multi, easy);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	TAILQ_REMOVE(&cl->xfers, x, entry);
	cl->running--;
	free(x);
}

size_t
curlev_running(const struct curlev *cl)
{
	return cl->running;
}

CURLM *
curlev_multi(struct curlev *cl)
{
	return cl->multi;
}

int
curlev_url_check(const char *url, char **cause)
{
	CURLU *u = curl_url();
	CURLUcode rc;

	if (u == NULL)
		fatalx("curl_url failed");
	rc = curl_url_set(u, CURLUPART_URL, url, 0);
	curl_url_cleanup(u);
	if (rc == CURLUE_OK)
		return 0;
	*cause = xstrdup(curl_url_strerror(rc));
	return -1;
}

const char *
curlev_strerror(CURLcode rc, const char *errbuf)
{
	return errbuf != NULL && errbuf[0] != '\0' ? errbuf
						   : curl_easy_strerror(rc);
}

/*
 * curlev: one libcurl multi handle bound to one event_base, after curl's
 * docs/examples/hiperfifo.c. curl tells us which sockets to watch (socket
 * callback) and when to wake it (timer callback); libevent calls
 * curl_multi_socket_action() back, and every action is followed by a
 * drain of curl_multi_info_read(). curl is never called from inside its
 * own callbacks: the timer callback only arms a libevent timer.
 *
 * Sockets are tracked by descriptor and paired with a CLOSESOCKETFUNCTION,
 * so the libevent event of a socket is always deleted before the socket
 * is closed, whatever order curl reports them in.
 *
 * curlev owns CURLOPT_PRIVATE, CURLOPT_CLOSESOCKETFUNCTION and
 * CURLOPT_CLOSESOCKETDATA of the easy handles it runs; callers must not
 * set them. Everything runs on the thread of the event_base.
 */
#ifndef CURLEV_H
#define CURLEV_H

#include <stddef.h>

#include <curl/curl.h>

struct event_base;
struct curlev;

typedef void (*curlev_done_cb)(CURL *easy, CURLcode result, void *arg);

/* Bind a new multi handle to base (not owned). Fatal on failure. */
struct curlev *curlev_new(struct event_base *base);
/* Remove every transfer still in flight without calling back, then free.
 * The easy handles stay owned by their callers. NULL is fine. */
void curlev_free(struct curlev *);
/*
 * Start a configured easy handle. done_cb runs exactly once, from the
 * event loop (never from inside curlev_add), when the transfer ends in
 * success or failure, after the handle has been removed from the multi.
 * The caller keeps ownership of easy and frees it in or after done_cb.
 * Returns 0, or -1 if curl refuses the handle (no callback then).
 */
int curlev_add(struct curlev *, CURL *easy, curlev_done_cb done_cb, void *arg);
/* Stop a transfer in flight; done_cb is not called. Must not be called
 * from inside a curl callback (write, header, progress) of any handle:
 * abort those by returning an error from the callback instead. */
void curlev_cancel(struct curlev *, CURL *easy);
/* Transfers added and not yet done or cancelled. */
size_t curlev_running(const struct curlev *);
/* The multi handle, for multi options (connection caps). Still owned. */
CURLM *curlev_multi(struct curlev *);
/*
 * Whether libcurl's URL parser takes URL as a transfer will (0), or -1
 * and *cause in its words ("Bad hostname"): so that a configuration is
 * refused where a URL is written, not at every transfer.
 */
int curlev_url_check(const char *url, char **cause);
/* What went wrong with a transfer, in words: its error buffer
 * (CURLOPT_ERRORBUFFER), which says more, or else the code's text. */
const char *curlev_strerror(CURLcode, const char *errbuf);

#endif

/*
 * parsepool: feed documents parsed on worker threads while they arrive.
 *
 * The event loop receives a body in chunks and hands each one to the
 * document's job (parsepool_push); worker threads run the jobs' parsers
 * (parse.h), one job on one thread at a time, its chunks in order. When
 * the loop has handed over the end (parsepool_finish), the job's document
 * comes back to the loop: parsepool_fd() becomes readable and
 * parsepool_collect() calls each finished job's done callback there.
 *
 * Memory: the chunks waiting for a worker count against the pool's
 * max_queued bytes. Over it, parsepool_push() takes nothing and returns
 * 1: the caller pauses the transfer, and the pool's resume callback runs
 * from parsepool_collect() once the workers have brought the waiting
 * bytes down to half of it.
 *
 * Every function is for the loop's thread; only the parsing runs on the
 * workers.
 */
#ifndef PARSEPOOL_H
#define PARSEPOOL_H

#include <stddef.h>

struct feed_doc;
struct parsepool;
struct parsepool_job;

/* Worker threads when none are configured: one per processor, at most. */
#define PARSEPOOL_THREADS_MAX 8
/* Bytes of chunks waiting for the workers before pushes are refused. */
#define PARSEPOOL_DEFAULT_QUEUED_MAX (1024 * 1024)

/*
 * A finished job's result, on the loop's thread: the document (the
 * callee owns it; free with feed_doc_free) or NULL and a cause (the
 * callee owns it too), as feedparse_finish gives them.
 */
typedef void (*parsepool_done_cb)(struct feed_doc *doc, char *cause, void *arg);

/*
 * nthreads workers (0: one per online processor, at most
 * PARSEPOOL_THREADS_MAX); max_queued 0 means the default. resume (may be
 * NULL) runs from parsepool_collect() after a refused push, once there
 * is room again. NULL with *cause when a thread cannot start.
 */
struct parsepool *parsepool_new(size_t nthreads, size_t max_queued,
    void (*resume)(void *), void *arg, char **cause);
/* Stop and join the workers; jobs still open are dropped without their
 * callbacks. */
void parsepool_free(struct parsepool *);
size_t parsepool_threads(const struct parsepool *);
/* Readable when parsepool_collect() has something to do. */
int parsepool_fd(const struct parsepool *);
/* Run the callbacks of finished jobs and, if due, the resume callback. */
void parsepool_collect(struct parsepool *);

/*
 * A job for one document: its parser is made now (feedparse_new with
 * doc_url, the body cap set to body_max); done runs once, from
 * parsepool_collect(), after parsepool_finish().
 */
struct parsepool_job *parsepool_job(struct parsepool *, const char *doc_url,
    size_t body_max, parsepool_done_cb done, void *arg);
/* A response header for the parser (feedparse_header), before any push. */
void parsepool_header(
    struct parsepool_job *, const char *name, const char *value);
/*
 * The next chunk, copied: 0 taken; 1 not taken, the pool is full (call
 * again with the same bytes after the resume callback); -1 the parser
 * has refused the document already (the rest need not be sent).
 */
int parsepool_push(struct parsepool_job *, const void *data, size_t len);
/* The end of the body: no more pushes; done will run. */
void parsepool_finish(struct parsepool_job *);
/* Drop the job (before or after finish); done will not run. NULL is
 * accepted. */
void parsepool_cancel(struct parsepool_job *);
/* Free a document on a worker (feed_doc_free), off the loop's thread.
 * NULL is accepted. */
void parsepool_dispose(struct parsepool *, struct feed_doc *);

#endif

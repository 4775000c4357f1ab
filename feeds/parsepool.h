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
 * max_queued bytes. While they are over it, parsepool_push() waits for
 * the workers to parse some: the loop then stands still for as long as
 * it would have taken to parse the chunk itself, and no transfer is
 * paused (libcurl cannot pause file:// transfers, and a paused transfer
 * keeps decoding into a buffer of its own).
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
/*
 * Bytes of chunks waiting for the workers; over it, a push waits for
 * room. Enough for the workers to keep parsing while the loop stores a
 * group commit (tens of milliseconds), which with 1 MiB they could not.
 */
#define PARSEPOOL_DEFAULT_QUEUED_MAX (4 * 1024 * 1024)

/*
 * A finished job's result, on the loop's thread: the document (the
 * callee owns it; free with feed_doc_free) or NULL and a cause (the
 * callee owns it too), as feedparse_finish gives them.
 */
typedef void (*parsepool_done_cb)(struct feed_doc *doc, char *cause, void *arg);
/* Work on a parsed document, run on the worker before the document goes
 * back to the loop's thread. */
typedef void (*parsepool_doc_fn)(struct feed_doc *doc);

/*
 * nthreads workers (0: one per online processor, at most
 * PARSEPOOL_THREADS_MAX), which block every signal; max_queued 0 means
 * the default. NULL with *cause when a thread cannot start.
 */
struct parsepool *parsepool_new(
    size_t nthreads, size_t max_queued, char **cause);
/* Stop and join the workers; jobs still open are freed without their
 * callbacks (a caller's pointers to them are then dangling). */
void parsepool_free(struct parsepool *);
/* Run FN (NULL: nothing) on every document a worker parses from now on
 * (store_doc_digest: the store's work on the items, off the loop). */
void parsepool_set_prepare(struct parsepool *, parsepool_doc_fn fn);
size_t parsepool_threads(const struct parsepool *);
/* Bytes waiting for the workers now, and seconds pushes have waited for
 * room in all (either may be NULL). */
void parsepool_stats(struct parsepool *, size_t *queued, double *waited_s);
/* Readable when parsepool_collect() has something to do. */
int parsepool_fd(const struct parsepool *);
/* Run the callbacks of finished jobs. */
void parsepool_collect(struct parsepool *);

/*
 * A job for one document: its parser (feedparse_new with doc_url, the
 * body cap set to body_max) is made by the worker that first runs the
 * job, off the caller's thread; done runs once, from
 * parsepool_collect(), after parsepool_finish().
 */
struct parsepool_job *parsepool_job(struct parsepool *, const char *doc_url,
    size_t body_max, parsepool_done_cb done, void *arg);
/* A response header for the parser (feedparse_header), before any push. */
void parsepool_header(
    struct parsepool_job *, const char *name, const char *value);
/*
 * The next chunk, copied (after waiting for room, see above): 0, or -1
 * when the parser has refused the document already (the rest need not
 * be sent).
 */
int parsepool_push(struct parsepool_job *, const void *data, size_t len);
/* The end of the body: no more pushes; done will run. */
void parsepool_finish(struct parsepool_job *);
/* Drop the job (before or after finish); done will not run (from its
 * own done callback: nothing happens, the job goes when it returns).
 * NULL is accepted. */
void parsepool_cancel(struct parsepool_job *);
/* Free a document on a worker (feed_doc_free), off the loop's thread.
 * NULL is accepted. */
void parsepool_dispose(struct parsepool *, struct feed_doc *);

#endif

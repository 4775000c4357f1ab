/*
 * parsepool: feed documents parsed on worker threads. See parsepool.h.
 *
 * One mutex guards the pool's lists and every job's messages and flags.
 * A job is at any time in one of these states:
 *
 *   idle        no message waiting, no worker on it (owned by the loop)
 *   queued      in runq: messages wait for a worker
 *   running     a worker took its messages and parses them, unlocked;
 *               new messages wait on the job meanwhile
 *   finished    in done: the document waits for parsepool_collect()
 *   collecting  its done callback runs; collect frees it after
 *
 * A cancelled job is freed by whoever holds it next: the loop at once
 * when it is idle or finished, the worker when it is queued or running,
 * collect when it is collecting. The parser is touched only by the
 * thread that holds the job, and the mutex passes it from one thread to
 * the next. What is freed (parsers, documents, messages) is unlinked
 * under the mutex and freed after it is released.
 */
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "item.h"
#include "parse.h"
#include "parsepool.h"
#include "xmalloc.h"

enum parsepool_kind { PARSEPOOL_HEADER, PARSEPOOL_DATA, PARSEPOOL_END };

struct parsepool_msg {
	struct parsepool_msg *next;
	enum parsepool_kind kind;
	size_t len; /* DATA: bytes in data; HEADER: name's, NUL included */
	char data[]; /* HEADER: name NUL value NUL */
};

struct parsepool_job {
	struct parsepool *pool;
	struct feedparse *parser; /* made by the first worker to run the job */
	char *doc_url;
	size_t body_max;
	int ended; /* the END message has run: doc or cause is set */
	struct parsepool_msg *head, *tail; /* waiting, in order */
	size_t bytes; /* DATA bytes among them */
	int queued; /* in pool->runq */
	int running; /* a worker holds it */
	int finished; /* in pool->done */
	int collecting; /* its done callback runs */
	int cancelled;
	int refused; /* the parser refused the document */
	struct feed_doc *doc;
	char *cause;
	parsepool_done_cb done;
	void *arg;
	TAILQ_ENTRY(parsepool_job) entry; /* runq or done */
};

TAILQ_HEAD(parsepool_jobs, parsepool_job);

/* A document the loop is done with, for a worker to free. */
struct parsepool_trash {
	struct parsepool_trash *next;
	struct feed_doc *doc;
};

struct parsepool {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* for the workers: work or stop */
	pthread_cond_t room; /* for a push: fewer bytes wait */
	pthread_t *threads;
	size_t nthreads;
	struct parsepool_jobs runq;
	struct parsepool_jobs done;
	struct parsepool_trash *trash;
	size_t queued; /* DATA bytes waiting in all jobs */
	size_t queued_max;
	int pushers; /* pushes waiting for room */
	uint64_t waited_ns; /* by pushes, in all */
	int notified; /* a byte is in the pipe since the last collect */
	parsepool_doc_fn prepare; /* run on each document, on the worker */
	int stopping;
	int pipe[2];
};

/* Free a chain of messages. */
static void
parsepool_msgs_free(struct parsepool_msg *m)
{
	struct parsepool_msg *next;

	for (; m != NULL; m = next) {
		next = m->next;
		free(m);
	}
}

/* Tell the loop (locked). */
static void
parsepool_notify(struct parsepool *pool)
{
	ssize_t n;

	if (pool->notified)
		return;
	pool->notified = 1;
	/* a full pipe is a pending wake-up already */
	do
		n = write(pool->pipe[1], "", 1);
	while (n == -1 && errno == EINTR);
}

/* Waiting bytes parsed or dropped (locked): wake the pushes waiting. */
static void
parsepool_drop(struct parsepool *pool, size_t bytes)
{
	pool->queued -= bytes;
	if (pool->pushers > 0 && pool->queued < pool->queued_max)
		pthread_cond_broadcast(&pool->room);
}

/* Take a job out of the pool's counts (locked); parsepool_job_free()
 * then frees it, unlocked. */
static void
parsepool_job_unlink(struct parsepool_job *job)
{
	parsepool_drop(job->pool, job->bytes);
	job->bytes = 0;
}

static void
parsepool_job_free(struct parsepool_job *job)
{
	parsepool_msgs_free(job->head);
	feedparse_free(job->parser);
	free(job->doc_url);
	feed_doc_free(job->doc);
	free(job->cause);
	free(job);
}

/* Run the messages of a job this worker holds, unlocked; whether the
 * parser has refused the document. */
static int
parsepool_run(struct parsepool_job *job, struct parsepool_msg *m, int refused)
{
	const char *name;

	/* made here rather than on the loop's thread: a parser is a large
	 * zeroed block and a dozen allocations */
	if (job->parser == NULL && !job->ended) {
		job->parser = feedparse_new(job->doc_url);
		feedparse_set_body_max(job->parser, job->body_max);
	}
	for (; m != NULL; m = m->next) {
		switch (m->kind) {
		case PARSEPOOL_HEADER:
			name = m->data;
			feedparse_header(job->parser, name, name + m->len);
			break;
		case PARSEPOOL_DATA:
			if (!refused &&
			    feedparse_push(job->parser, m->data, m->len) == -1)
				refused = 1;
			break;
		case PARSEPOOL_END:
			job->doc = feedparse_finish(job->parser, &job->cause);
			if (job->doc != NULL && job->pool->prepare != NULL)
				job->pool->prepare(job->doc);
			feedparse_free(job->parser);
			job->parser = NULL;
			job->ended = 1;
			break;
		}
	}
	return refused;
}

/* Free documents (unlocked). */
static void
parsepool_trash_free(struct parsepool_trash *t)
{
	struct parsepool_trash *next;

	for (; t != NULL; t = next) {
		next = t->next;
		feed_doc_free(t->doc);
		free(t);
	}
}

static void *
parsepool_main(void *arg)
{
	struct parsepool *pool = arg;
	struct parsepool_job *job;
	struct parsepool_msg *msgs;
	struct parsepool_trash *trash;
	size_t bytes;
	int refused;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (!pool->stopping && TAILQ_EMPTY(&pool->runq) &&
		    pool->trash == NULL)
			pthread_cond_wait(&pool->wake, &pool->lock);
		if (pool->stopping)
			break;
		/* documents first: quick, and they hold memory */
		if (pool->trash != NULL) {
			trash = pool->trash;
			pool->trash = NULL;
			pthread_mutex_unlock(&pool->lock);
			parsepool_trash_free(trash);
			pthread_mutex_lock(&pool->lock);
			continue;
		}
		job = TAILQ_FIRST(&pool->runq);
		TAILQ_REMOVE(&pool->runq, job, entry);
		job->queued = 0;
		if (job->cancelled) {
			parsepool_job_unlink(job);
			pthread_mutex_unlock(&pool->lock);
			parsepool_job_free(job);
			pthread_mutex_lock(&pool->lock);
			continue;
		}
		job->running = 1;
		msgs = job->head;
		bytes = job->bytes;
		refused = job->refused;
		job->head = job->tail = NULL;
		job->bytes = 0;
		pthread_mutex_unlock(&pool->lock);

		refused = parsepool_run(job, msgs, refused);
		parsepool_msgs_free(msgs);

		pthread_mutex_lock(&pool->lock);
		parsepool_drop(pool, bytes);
		job->refused = refused;
		job->running = 0;
		if (job->cancelled) {
			parsepool_job_unlink(job);
			pthread_mutex_unlock(&pool->lock);
			parsepool_job_free(job);
			pthread_mutex_lock(&pool->lock);
		} else if (job->ended) {
			job->finished = 1;
			TAILQ_INSERT_TAIL(&pool->done, job, entry);
			parsepool_notify(pool);
		} else if (job->head != NULL) {
			job->queued = 1;
			TAILQ_INSERT_TAIL(&pool->runq, job, entry);
		}
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

struct parsepool *
parsepool_new(size_t nthreads, size_t max_queued, char **cause)
{
	struct parsepool *pool = xcalloc(1, sizeof *pool);
	sigset_t all, old;
	char name[16]; /* a thread's name: 15 bytes */
	long ncpu;
	int rc = 0;

	if (nthreads == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = ncpu < 1 ? 1 : (size_t)ncpu;
		if (nthreads > PARSEPOOL_THREADS_MAX)
			nthreads = PARSEPOOL_THREADS_MAX;
	}
	pool->queued_max =
	    max_queued != 0 ? max_queued : PARSEPOOL_DEFAULT_QUEUED_MAX;
	TAILQ_INIT(&pool->runq);
	TAILQ_INIT(&pool->done);
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->wake, NULL);
	pthread_cond_init(&pool->room, NULL);
	pool->pipe[0] = pool->pipe[1] = -1;
	if (pipe2(pool->pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		xasprintf(cause, "parser pool: pipe: %s", strerror(errno));
		parsepool_free(pool);
		return NULL;
	}
	/* the parser's one-time set-up, on this thread */
	feedparse_free(feedparse_new(NULL));
	/* signals are the loop's: the workers start with all blocked */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pool->threads = xcalloc(nthreads, sizeof *pool->threads);
	for (; pool->nthreads < nthreads; pool->nthreads++) {
		rc = pthread_create(
		    &pool->threads[pool->nthreads], NULL, parsepool_main, pool);
		if (rc != 0)
			break;
		/* for top -H and ps -L: which thread is which */
		snprintf(name, sizeof name, "fw-parse-%zu", pool->nthreads);
		(void)pthread_setname_np(pool->threads[pool->nthreads], name);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		xasprintf(cause, "parser pool: thread %zu of %zu: %s",
		    pool->nthreads + 1, nthreads, strerror(rc));
		parsepool_free(pool);
		return NULL;
	}
	return pool;
}

void
parsepool_free(struct parsepool *pool)
{
	struct parsepool_job *job;
	size_t i;

	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = 1;
	pthread_cond_broadcast(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
	for (i = 0; i < pool->nthreads; i++)
		pthread_join(pool->threads[i], NULL);
	free(pool->threads);
	/* every worker put back the job it held: what is left is in a list */
	while ((job = TAILQ_FIRST(&pool->runq)) != NULL) {
		TAILQ_REMOVE(&pool->runq, job, entry);
		parsepool_job_free(job);
	}
	while ((job = TAILQ_FIRST(&pool->done)) != NULL) {
		TAILQ_REMOVE(&pool->done, job, entry);
		parsepool_job_free(job);
	}
	parsepool_trash_free(pool->trash);
	if (pool->pipe[0] != -1)
		close(pool->pipe[0]);
	if (pool->pipe[1] != -1)
		close(pool->pipe[1]);
	pthread_cond_destroy(&pool->room);
	pthread_cond_destroy(&pool->wake);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

size_t
parsepool_threads(const struct parsepool *pool)
{
	return pool->nthreads;
}

int
parsepool_fd(const struct parsepool *pool)
{
	return pool->pipe[0];
}

void
parsepool_stats(struct parsepool *pool, size_t *queued, double *waited_s)
{
	pthread_mutex_lock(&pool->lock);
	if (queued != NULL)
		*queued = pool->queued;
	if (waited_s != NULL)
		*waited_s = (double)pool->waited_ns / 1e9;
	pthread_mutex_unlock(&pool->lock);
}

void
parsepool_collect(struct parsepool *pool)
{
	struct parsepool_job *job;
	char drain[64];

	/* the pipe first: a byte written after this is for a later call */
	while (read(pool->pipe[0], drain, sizeof drain) > 0)
		;
	pthread_mutex_lock(&pool->lock);
	pool->notified = 0;
	/* one at a time: a callback may cancel another finished job */
	while ((job = TAILQ_FIRST(&pool->done)) != NULL) {
		TAILQ_REMOVE(&pool->done, job, entry);
		job->finished = 0;
		job->collecting = 1;
		pthread_mutex_unlock(&pool->lock);
		job->done(job->doc, job->cause, job->arg);
		job->doc = NULL;
		job->cause = NULL;
		parsepool_job_free(job);
		pthread_mutex_lock(&pool->lock);
	}
	pthread_mutex_unlock(&pool->lock);
}

void
parsepool_set_prepare(struct parsepool *pool, parsepool_doc_fn fn)
{
	pthread_mutex_lock(&pool->lock);
	pool->prepare = fn;
	pthread_mutex_unlock(&pool->lock);
}

struct parsepool_job *
parsepool_job(struct parsepool *pool, const char *doc_url, size_t body_max,
    parsepool_done_cb done, void *arg)
{
	struct parsepool_job *job = xcalloc(1, sizeof *job);

	job->pool = pool;
	job->doc_url = doc_url != NULL ? xstrdup(doc_url) : NULL;
	job->body_max = body_max;
	job->done = done;
	job->arg = arg;
	return job;
}

/* Append a message to the job and wake a worker for it (locked). */
static void
parsepool_add(struct parsepool_job *job, struct parsepool_msg *m)
{
	struct parsepool *pool = job->pool;

	m->next = NULL;
	if (job->tail != NULL)
		job->tail->next = m;
	else
		job->head = m;
	job->tail = m;
	if (m->kind == PARSEPOOL_DATA) {
		job->bytes += m->len;
		pool->queued += m->len;
	}
	if (!job->queued && !job->running) {
		job->queued = 1;
		TAILQ_INSERT_TAIL(&pool->runq, job, entry);
		pthread_cond_signal(&pool->wake);
	}
}

static struct parsepool_msg *
parsepool_msg(enum parsepool_kind kind, size_t size)
{
	struct parsepool_msg *m = xmalloc(sizeof *m + size);

	m->kind = kind;
	m->len = size;
	return m;
}

void
parsepool_header(struct parsepool_job *job, const char *name, const char *value)
{
	size_t nlen = strlen(name) + 1, vlen = strlen(value) + 1;
	struct parsepool_msg *m = parsepool_msg(PARSEPOOL_HEADER, nlen + vlen);

	memcpy(m->data, name, nlen);
	memcpy(m->data + nlen, value, vlen);
	m->len = nlen;
	pthread_mutex_lock(&job->pool->lock);
	parsepool_add(job, m);
	pthread_mutex_unlock(&job->pool->lock);
}

int
parsepool_push(struct parsepool_job *job, const void *data, size_t len)
{
	struct parsepool *pool = job->pool;
	struct parsepool_msg *m;
	struct timespec t0, t1;
	int waited = 0;

	if (len == 0)
		return 0;
	m = parsepool_msg(PARSEPOOL_DATA, len);
	memcpy(m->data, data, len);
	pthread_mutex_lock(&pool->lock);
	/* room: the workers are behind; wait for them, as a parse on this
	 * thread would have taken this long */
	while (pool->queued >= pool->queued_max && !job->refused) {
		if (!waited) {
			clock_gettime(CLOCK_MONOTONIC, &t0);
			waited = 1;
		}
		pool->pushers++;
		pthread_cond_wait(&pool->room, &pool->lock);
		pool->pushers--;
	}
	if (waited) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		pool->waited_ns +=
		    (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
		    (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
	}
	if (job->refused) {
		pthread_mutex_unlock(&pool->lock);
		free(m);
		return -1;
	}
	parsepool_add(job, m);
	pthread_mutex_unlock(&pool->lock);
	return 0;
}

void
parsepool_finish(struct parsepool_job *job)
{
	struct parsepool_msg *m = parsepool_msg(PARSEPOOL_END, 0);

	pthread_mutex_lock(&job->pool->lock);
	parsepool_add(job, m);
	pthread_mutex_unlock(&job->pool->lock);
}

void
parsepool_dispose(struct parsepool *pool, struct feed_doc *doc)
{
	struct parsepool_trash *t;

	if (doc == NULL)
		return;
	t = xmalloc(sizeof *t);
	t->doc = doc;
	pthread_mutex_lock(&pool->lock);
	t->next = pool->trash;
	pool->trash = t;
	pthread_cond_signal(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
}

void
parsepool_cancel(struct parsepool_job *job)
{
	struct parsepool *pool;
	int mine = 0;

	if (job == NULL)
		return;
	pool = job->pool;
	pthread_mutex_lock(&pool->lock);
	if (job->collecting)
		; /* its own callback: collect frees it */
	else if (job->queued || job->running)
		job->cancelled = 1; /* the worker frees it */
	else {
		if (job->finished)
			TAILQ_REMOVE(&pool->done, job, entry);
		parsepool_job_unlink(job);
		mine = 1;
	}
	pthread_mutex_unlock(&pool->lock);
	if (mine)
		parsepool_job_free(job);
}

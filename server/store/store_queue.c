/* store_queue.c - the store thread, its job queue, and the sync thread
 * that makes its commits durable before anyone hears of them. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "errors.h"
#include "log.h"
#include "store_queue.h"

/* What the store thread finished, in order, waiting to be durable. */
struct finished {
	struct finished *next;
	struct store_job *jobs;
	bool batch;   /* deliver what the hook took */
	void *taken;
	struct storeq_hooks hooks;
};

struct storeq {
	pthread_t thread, syncer;
	pthread_mutex_t lock;
	pthread_cond_t wake;  /* jobs waiting, or stop */
	pthread_cond_t done;  /* a synchronous job finished */
	pthread_cond_t to_sync; /* finished work waiting, or stop */
	struct store_job *head, **tail;
	struct finished *fin_head, **fin_tail;
	bool stopping, sync_stopping;
	bool syncing; /* the sync thread has work out of fin_head */
	struct store *store;
	struct storeq_hooks hooks; /* set by storeq_set_hooks, under lock */
	struct storeq_hooks now;   /* the store thread's copy of them */
	time_t last_tick;
};

/* Jobs committed together at most: bounds a batch's latency and the
 * memory its replies hold. */
#define BATCH_MAX 4096

/* The batched jobs run so far, waiting for their commit. */
struct batch {
	struct store_job *head, **tail;
	unsigned n;
	bool open; /* a transaction is open */
	int rc;    /* BEGIN's result */
};

static void finish_job(struct storeq *q, struct store_job *job)
{
	if (job->reply != NULL) {
		mailbox_post(job->reply, &job->mail);
		return;
	}
	if (job->release != NULL) {
		job->release(job);
		return;
	}
	pthread_mutex_lock(&q->lock);
	job->done = true;
	pthread_cond_broadcast(&q->done);
	pthread_mutex_unlock(&q->lock);
}

/* Make everything committed so far durable. Nothing committed can be
 * taken back any more and nobody has been told of it: a store that
 * cannot sync cannot go on (as PostgreSQL does on a failed fsync). */
static void sync_store(struct storeq *q)
{
	int rc;

	if (q->store->ops->sync == NULL ||
	    (rc = q->store->ops->sync(q->store)) == 0)
		return;
	log_error("store: cannot make commits durable: %s; stopping",
		  bwd_strerror(rc));
	abort();
}

static void finish_all(struct storeq *q, struct finished *f)
{
	struct store_job *job, *next;

	for (job = f->jobs; job != NULL; job = next) {
		next = job->next; /* finish_job hands job back */
		finish_job(q, job);
	}
	if (f->batch && f->hooks.deliver != NULL)
		f->hooks.deliver(f->hooks.arg, f->taken);
}

/* Hand finished jobs to the sync thread, in order. Without memory for
 * the record, sync here. */
static void hand_over(struct storeq *q, struct store_job *jobs, bool batch,
		      void *taken)
{
	struct finished *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		struct finished here = { .jobs = jobs, .batch = batch,
					 .taken = taken, .hooks = q->now };

		pthread_mutex_lock(&q->lock);
		while (q->fin_head != NULL || q->syncing) /* keep the order */
			pthread_cond_wait(&q->done, &q->lock);
		pthread_mutex_unlock(&q->lock);
		sync_store(q);
		finish_all(q, &here);
		return;
	}
	*f = (struct finished){ .jobs = jobs, .batch = batch, .taken = taken,
				.hooks = q->now };
	pthread_mutex_lock(&q->lock);
	*q->fin_tail = f;
	q->fin_tail = &f->next;
	pthread_cond_signal(&q->to_sync);
	pthread_mutex_unlock(&q->lock);
}

/* Commit the open batch, let the hook take what the batch produced,
 * and hand both to the sync thread; on failure every job of the batch
 * carries the error. */
static void batch_close(struct storeq *q, struct batch *b)
{
	struct store_job *job;
	void *taken = NULL;
	int rc = b->rc;

	if (!b->open)
		return;
	if (rc == 0 && (rc = store_commit(q->store)) != 0)
		log_error("store: a batch of %u failed to commit: %s", b->n,
			  bwd_strerror(rc));
	if (rc != 0) {
		store_rollback(q->store);
		for (job = b->head; job != NULL; job = job->next)
			job->rc = rc;
	}
	if (q->now.after_batch != NULL)
		taken = q->now.after_batch(q->now.arg, rc);
	hand_over(q, b->head, true, taken);
	*b = (struct batch){ .tail = &b->head };
}

/* One batched job inside the batch's transaction, in its own savepoint. */
static void batch_run(struct storeq *q, struct batch *b, struct store_job *job)
{
	struct store *s = q->store;

	if (!b->open) {
		b->open = true;
		b->rc = store_begin(s);
		if (b->rc == 0 && s->ops->in_batch != NULL)
			s->ops->in_batch(s);
	}
	if (b->rc == 0 && (job->rc = s->ops->savepoint(s)) == 0) {
		if ((job->rc = job->run(s, job)) != 0)
			s->ops->rollback_to(s);
		else if ((job->rc = s->ops->release(s)) != 0)
			b->rc = job->rc;
	}
	job->next = NULL;
	*b->tail = job;
	b->tail = &job->next;
	if (++b->n == BATCH_MAX)
		batch_close(q, b);
}

static void run_jobs(struct storeq *q, struct store_job *job)
{
	struct batch b = { .tail = &b.head };
	struct store_job *next;

	for (; job != NULL; job = next) {
		next = job->next; /* finish_job hands job back */
		if (job->batched) {
			batch_run(q, &b, job);
			continue;
		}
		batch_close(q, &b);
		job->rc = job->run(q->store, job);
		job->next = NULL;
		hand_over(q, job, false, NULL);
	}
	batch_close(q, &b);
}

static void tick(struct storeq *q)
{
	time_t now = time(NULL);

	if (q->now.tick == NULL || now == q->last_tick)
		return;
	q->last_tick = now;
	q->now.tick(q->now.arg, q->store);
}

/* Wait for jobs, waking once a second for the tick. */
static void wait_for_work(struct storeq *q)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	while (q->head == NULL && !q->stopping)
		if (pthread_cond_timedwait(&q->wake, &q->lock, &until) ==
		    ETIMEDOUT)
			return;
}

static void *store_thread(void *arg)
{
	struct storeq *q = arg;
	struct store_job *job;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		wait_for_work(q);
		if (q->head == NULL && q->stopping)
			break; /* nothing left */
		job = q->head;
		q->head = NULL;
		q->tail = &q->head;
		q->now = q->hooks;
		pthread_mutex_unlock(&q->lock);
		run_jobs(q, job);
		if (q->store->ops->between_batches != NULL)
			q->store->ops->between_batches(q->store);
		tick(q);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* Take everything finished so far, sync once for all of it, then
 * finish it in order. */
static void *sync_thread(void *arg)
{
	struct storeq *q = arg;
	struct finished *f, *next;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (q->fin_head == NULL && !q->sync_stopping)
			pthread_cond_wait(&q->to_sync, &q->lock);
		if (q->fin_head == NULL)
			break; /* stopping, and nothing left */
		f = q->fin_head;
		q->fin_head = NULL;
		q->fin_tail = &q->fin_head;
		q->syncing = true;
		pthread_mutex_unlock(&q->lock);
		sync_store(q);
		for (; f != NULL; f = next) {
			next = f->next;
			finish_all(q, f);
			free(f);
		}
		pthread_mutex_lock(&q->lock);
		q->syncing = false;
		pthread_cond_broadcast(&q->done); /* hand_over's fallback */
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static void storeq_free(struct storeq *q)
{
	pthread_cond_destroy(&q->to_sync);
	pthread_cond_destroy(&q->done);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

int storeq_start(struct store *s, struct storeq **out)
{
	struct storeq *q;
	int rc;

	*out = NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return BW_ERR_NOMEM;
	q->store = s;
	q->tail = &q->head;
	q->fin_tail = &q->fin_head;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	pthread_cond_init(&q->done, NULL);
	pthread_cond_init(&q->to_sync, NULL);
	if (s->ops->defer_sync != NULL && (rc = s->ops->defer_sync(s)) != 0) {
		storeq_free(q);
		return rc;
	}
	if (pthread_create(&q->syncer, NULL, sync_thread, q) != 0) {
		storeq_free(q);
		return BWD_ERR_SYSTEM;
	}
	if (pthread_create(&q->thread, NULL, store_thread, q) != 0) {
		pthread_mutex_lock(&q->lock);
		q->sync_stopping = true;
		pthread_cond_signal(&q->to_sync);
		pthread_mutex_unlock(&q->lock);
		pthread_join(q->syncer, NULL);
		storeq_free(q);
		return BWD_ERR_SYSTEM;
	}
	*out = q;
	return 0;
}

static int enqueue(struct storeq *q, struct store_job *job)
{
	job->next = NULL;
	job->done = false;
	job->rc = 0;
	pthread_mutex_lock(&q->lock);
	if (q->stopping) {
		pthread_mutex_unlock(&q->lock);
		return BWD_ERR_STOPPING;
	}
	*q->tail = job;
	q->tail = &job->next;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

void storeq_set_hooks(struct storeq *q, const struct storeq_hooks *h)
{
	pthread_mutex_lock(&q->lock);
	q->hooks = *h;
	pthread_mutex_unlock(&q->lock);
}

int storeq_submit(struct storeq *q, struct store_job *job)
{
	return enqueue(q, job);
}

int storeq_call(struct storeq *q, struct store_job *job)
{
	int rc;

	job->reply = NULL;
	job->release = NULL;
	if ((rc = enqueue(q, job)) != 0)
		return rc;
	pthread_mutex_lock(&q->lock);
	while (!job->done)
		pthread_cond_wait(&q->done, &q->lock);
	pthread_mutex_unlock(&q->lock);
	return job->rc;
}

void storeq_stop(struct storeq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	/* Then what it finished: synced and answered before the close. */
	pthread_mutex_lock(&q->lock);
	q->sync_stopping = true;
	pthread_cond_signal(&q->to_sync);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->syncer, NULL);
	store_close(q->store);
	storeq_free(q);
	log_info("store: closed");
}

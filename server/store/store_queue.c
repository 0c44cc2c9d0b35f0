/* store_queue.c - the store thread, its job queue, and the sync threads
 * that make its commits durable before anyone hears of them. */
#include <errno.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

#include "errors.h"
#include "lat_trace.h"
#include "log.h"
#include "store_queue.h"

/* Sync threads: a commit that arrives while one sync runs starts its own
 * at once on the other instead of waiting for the first to end and then
 * for its own (docs/benchmarks.md, "Scenario A′"). An fdatasync covers
 * every write made before it began, whatever other syncs of the file are
 * running, so syncs may overlap and end in any order. */
#define SYNC_THREADS 2

/* What the store thread finished, in order, waiting to be durable. */
struct finished {
	struct finished *next;
	uint64_t seq; /* hand-over order, from 1 */
	struct store_job *jobs;
	bool batch;   /* deliver what the hook took */
	void *taken;
	struct storeq_hooks hooks;
	uint64_t lat_committed; /* lat_trace.h */
};

struct storeq {
	pthread_t thread, syncers[SYNC_THREADS];
	pthread_mutex_t lock;
	pthread_cond_t wake;  /* jobs waiting, or stop */
	pthread_cond_t done;  /* a synchronous job finished */
	pthread_cond_t to_sync; /* finished work waiting, or stop */
	struct store_job *head, **tail;
	struct finished *fin_head, **fin_tail; /* not yet finished */
	/* Of the finished records' seqs: the last handed over, the last a
	 * started sync covers, the last a completed sync covers. */
	uint64_t handed, claimed, durable;
	unsigned in_flight; /* syncs running */
	bool finishing;     /* a sync thread is finishing what is durable */
	bool stopping, sync_stopping;
	uint64_t lat_sync_start, lat_sync_end; /* the last sync to complete */
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

/* sync_start and sync_end: the sync that covered f (lat_trace.h). */
static void finish_all(struct storeq *q, struct finished *f,
		       uint64_t sync_start, uint64_t sync_end)
{
	struct store_job *job, *next;

	for (job = f->jobs; job != NULL; job = next) {
		next = job->next; /* finish_job hands job back */
		LAT_ADD(LAT_QUEUED, job->lat_submitted, job->lat_taken);
		LAT_ADD(LAT_RUN, job->lat_taken, f->lat_committed);
		LAT_ADD(LAT_TO_SYNC, f->lat_committed, sync_start);
		LAT_ADD(LAT_FSYNC, sync_start, sync_end);
		LAT_ADD(LAT_FINISH, sync_end, LAT_NOW());
		LAT_ADD(LAT_SERVER, job->lat_submitted, LAT_NOW());
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
	uint64_t committed = LAT_NOW(), sync_start;

	if (f == NULL) {
		struct finished here = { .jobs = jobs, .batch = batch,
					 .taken = taken, .hooks = q->now,
					 .lat_committed = committed };

		pthread_mutex_lock(&q->lock);
		while (q->fin_head != NULL || q->in_flight > 0 ||
		       q->finishing) /* keep the order */
			pthread_cond_wait(&q->done, &q->lock);
		pthread_mutex_unlock(&q->lock);
		sync_start = LAT_NOW();
		sync_store(q);
		finish_all(q, &here, sync_start, LAT_NOW());
		return;
	}
	*f = (struct finished){ .jobs = jobs, .batch = batch, .taken = taken,
				.hooks = q->now, .lat_committed = committed };
	pthread_mutex_lock(&q->lock);
	f->seq = ++q->handed;
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
	uint64_t commit;

	if (!b->open)
		return;
	commit = LAT_NOW();
	if (rc == 0 && (rc = store_commit(q->store)) != 0)
		log_error("store: a batch of %u failed to commit: %s", b->n,
			  bwd_strerror(rc));
	LAT_ADD(LAT_COMMIT, commit, LAT_NOW());
	if (rc != 0) {
		store_rollback(q->store);
		for (job = b->head; job != NULL; job = job->next)
			job->rc = rc;
	}
	if (q->now.after_batch != NULL)
		taken = q->now.after_batch(q->now.arg, rc);
	LAT_COUNT(LAT_BATCH_JOBS, b->n);
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
		if (b->rc == 0 && s->ops->in_batch != NULL) {
			uint64_t fold = LAT_NOW();

			s->ops->in_batch(s);
			LAT_ADD(LAT_FOLD, fold, LAT_NOW());
		}
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
	uint64_t taken = LAT_NOW();

	for (; job != NULL; job = next) {
		next = job->next; /* finish_job hands job back */
		job->lat_taken = taken;
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

	prctl(PR_SET_NAME, "bwd-store"); /* for top, perf and gdb */
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

/* Finish, in order, every record a completed sync covers; lock held.
 * One thread at a time: the others only advance q->durable, which the
 * loop picks up before it lets go. */
static void finish_durable(struct storeq *q)
{
	struct finished *f, *next, **end;
	uint64_t jobs, sync_start, sync_end;

	q->finishing = true;
	while (q->fin_head != NULL && q->fin_head->seq <= q->durable) {
		f = q->fin_head;
		for (end = &f->next; *end != NULL && (*end)->seq <= q->durable;)
			end = &(*end)->next;
		q->fin_head = *end;
		*end = NULL;
		if (q->fin_head == NULL)
			q->fin_tail = &q->fin_head;
		sync_start = q->lat_sync_start;
		sync_end = q->lat_sync_end;
		pthread_mutex_unlock(&q->lock);
		for (jobs = 0; f != NULL; f = next) {
			next = f->next;
#ifdef BULWARK_LAT_TRACE
			for (struct store_job *j = f->jobs; j != NULL; j = j->next)
				jobs++;
#endif
			finish_all(q, f, sync_start, sync_end);
			free(f);
		}
		LAT_COUNT(LAT_SYNC_JOBS, jobs);
		pthread_mutex_lock(&q->lock);
	}
	q->finishing = false;
}

/* Claim everything handed over and not yet covered, sync once for all of
 * it, then finish what is durable in order. */
static void *sync_thread(void *arg)
{
	struct storeq *q = arg;
	uint64_t target, sync_start;

	prctl(PR_SET_NAME, "bwd-sync");
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (q->claimed == q->handed && !q->sync_stopping)
			pthread_cond_wait(&q->to_sync, &q->lock);
		if (q->claimed == q->handed)
			break; /* stopping, and nothing left to sync */
		target = q->claimed = q->handed;
		q->in_flight++;
		pthread_mutex_unlock(&q->lock);
		sync_start = LAT_NOW();
		sync_store(q);
		pthread_mutex_lock(&q->lock);
		q->in_flight--;
		if (target > q->durable) {
			q->durable = target;
			q->lat_sync_start = sync_start;
			q->lat_sync_end = LAT_NOW();
		}
		if (!q->finishing)
			finish_durable(q);
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

/* Stop the first n sync threads once nothing is left to sync. */
static void stop_syncers(struct storeq *q, unsigned n)
{
	pthread_mutex_lock(&q->lock);
	q->sync_stopping = true;
	pthread_cond_broadcast(&q->to_sync);
	pthread_mutex_unlock(&q->lock);
	for (unsigned i = 0; i < n; i++)
		pthread_join(q->syncers[i], NULL);
}

int storeq_start(struct store *s, struct storeq **out)
{
	struct storeq *q;
	unsigned started;
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
	for (started = 0; started < SYNC_THREADS; started++)
		if (pthread_create(&q->syncers[started], NULL, sync_thread,
				   q) != 0)
			break;
	if (started < SYNC_THREADS ||
	    pthread_create(&q->thread, NULL, store_thread, q) != 0) {
		stop_syncers(q, started);
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
	job->lat_submitted = LAT_NOW();
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
	stop_syncers(q, SYNC_THREADS);
	store_close(q->store);
	storeq_free(q);
	log_info("store: closed");
	LAT_REPORT();
}

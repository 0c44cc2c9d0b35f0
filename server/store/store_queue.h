/*
 * store_queue.h - the store thread: the one thread that touches the
 * database, fed by a queue of jobs so that network threads never block on
 * disk.
 *
 * A job runs on the store thread with the store; then, if it has a reply
 * mailbox, its mail is posted there and the requesting thread finishes it
 * (a worker answers the device); without one, storeq_call() waits for it.
 *
 * Batched jobs (the delivery service's) share one transaction: the thread
 * takes every waiting job at once, runs consecutive batched jobs each in a
 * savepoint of one transaction (a job that fails is undone alone) and
 * commits once. A job that is not batched runs on its own, after the open
 * batch is committed.
 *
 * Group commit: the commit does not wait for the disk (store_ops.
 * defer_sync). The store thread hands what it finished, in order, to the
 * sync threads and goes on with the next batch; an idle sync thread
 * makes everything committed so far durable with one sync (store_ops.
 * sync) - covering every batch committed meanwhile - and only then
 * finishes the jobs (replies) and delivers what each batch's hook took
 * (pushes), in the order the store thread finished them. Two sync
 * threads: what is committed while one sync runs starts the next at once
 * on the other (syncs overlap; whichever ends covers everything handed
 * over before it began). So no reply or push leaves before what it
 * reports is durable, and the disk's latency is off the store thread's
 * path.
 *
 *   store thread:  take all -> BEGIN, SAVEPOINT job1 ... jobN, COMMIT
 *                  -> taken = hooks.after_batch(rc) -> hand over
 *   sync threads:  sync -> finish job1..jobN (replies), in order
 *                  -> hooks.deliver(taken)
 */
#ifndef BWD_STORE_QUEUE_H
#define BWD_STORE_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "mailbox.h"
#include "store.h"

struct store_job;
typedef int (*store_job_fn)(struct store *s, struct store_job *job);

struct store_job {
	struct store_job *next;
	store_job_fn run;
	int rc;                /* what run returned */
	struct mailbox *reply; /* where the mail goes when done, or NULL */
	struct mail mail;      /* posted to reply when done */
	/* Without a reply: a detached job is handed to release() on the sync
	 * thread when done (nobody waits for it). */
	void (*release)(struct store_job *job);
	bool batched; /* runs in the shared transaction (above) */
	bool done;
	/* lat_trace.h's stamps (zero unless built with BULWARK_LAT_TRACE) */
	uint64_t lat_submitted, lat_taken;
};

/* What the queue calls besides jobs. */
struct storeq_hooks {
	/* Store thread, after each batch's commit: rc is 0 when the batch
	 * committed, else the error every one of its jobs gets. Returns
	 * what deliver() gets once the batch is durable, after its jobs
	 * were finished (NULL: nothing). */
	void *(*after_batch)(void *arg, int rc);
	/* A sync thread (one at a time): hand out what after_batch took. */
	void (*deliver)(void *arg, void *taken);
	/* About once a second, between batches (periodic work). */
	void (*tick)(void *arg, struct store *s);
	void *arg;
};

struct storeq;

/* Start the store thread over an open store (the queue owns it). */
int storeq_start(struct store *s, struct storeq **out);
/* Install the hooks (before any batched job is queued). */
void storeq_set_hooks(struct storeq *q, const struct storeq_hooks *h);
/* Queue a job that answers through job->reply (or job->release).
 * BWD_ERR_STOPPING after storeq_stop began. */
int storeq_submit(struct storeq *q, struct store_job *job);
/* Queue a job and wait for it; returns job->rc. */
int storeq_call(struct storeq *q, struct store_job *job);
/* Run the jobs already queued, stop the thread, close the store. */
void storeq_stop(struct storeq *q);

#endif

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
 * savepoint of one transaction (a job that fails is undone alone), commits
 * once - one fsync for all of them - and only then finishes them, so no
 * reply leaves before what it reports is durable. A job that is not
 * batched runs on its own, as before, after the open batch is committed.
 *
 *   store thread:  take all -> BEGIN, SAVEPOINT job1 ... jobN, COMMIT
 *                  -> finish job1..jobN (replies) -> hooks.after_batch(rc)
 */
#ifndef BWD_STORE_QUEUE_H
#define BWD_STORE_QUEUE_H

#include <pthread.h>
#include <stdbool.h>

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
	/* Without a reply: a detached job is handed to release() on the store
	 * thread when done (nobody waits for it). */
	void (*release)(struct store_job *job);
	bool batched; /* runs in the shared transaction (above) */
	bool done;
};

/* What the store thread calls besides jobs, on its own thread. */
struct storeq_hooks {
	/* After each batch's jobs were finished: rc is 0 when the batch
	 * committed, else the error every one of its jobs got. */
	void (*after_batch)(void *arg, int rc);
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

/*
 * store_queue.h - the store thread: the one thread that touches the
 * database, fed by a queue of jobs so that network threads never block on
 * disk.
 *
 * A job runs on the store thread with the store; then, if it has a reply
 * mailbox, its mail is posted there and the requesting thread finishes it
 * (a worker answers the device); without one, storeq_call() waits for it.
 * The thread takes every waiting job at once, which is where batched
 * durable writes (many messages, one commit) will go.
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
	bool done;
};

struct storeq;

/* Start the store thread over an open store (the queue owns it). */
int storeq_start(struct store *s, struct storeq **out);
/* Queue a job that answers through job->reply (or job->release).
 * BWD_ERR_STOPPING after storeq_stop began. */
int storeq_submit(struct storeq *q, struct store_job *job);
/* Queue a job and wait for it; returns job->rc. */
int storeq_call(struct storeq *q, struct store_job *job);
/* Run the jobs already queued, stop the thread, close the store. */
void storeq_stop(struct storeq *q);

#endif

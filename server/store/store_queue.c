/* store_queue.c - the store thread and its job queue. */
#include <stdlib.h>

#include "errors.h"
#include "log.h"
#include "store_queue.h"

struct storeq {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;  /* jobs waiting, or stop */
	pthread_cond_t done;  /* a synchronous job finished */
	struct store_job *head, **tail;
	bool stopping;
	struct store *store;
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

static void *store_thread(void *arg)
{
	struct storeq *q = arg;
	struct store_job *job, *next;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (q->head == NULL && !q->stopping)
			pthread_cond_wait(&q->wake, &q->lock);
		if (q->head == NULL)
			break; /* stopping, and nothing left */
		job = q->head;
		q->head = NULL;
		q->tail = &q->head;
		pthread_mutex_unlock(&q->lock);
		for (; job != NULL; job = next) {
			next = job->next; /* finish_job hands job back */
			job->rc = job->run(q->store, job);
			finish_job(q, job);
		}
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int storeq_start(struct store *s, struct storeq **out)
{
	struct storeq *q;

	*out = NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return BW_ERR_NOMEM;
	q->store = s;
	q->tail = &q->head;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	pthread_cond_init(&q->done, NULL);
	if (pthread_create(&q->thread, NULL, store_thread, q) != 0) {
		pthread_cond_destroy(&q->done);
		pthread_cond_destroy(&q->wake);
		pthread_mutex_destroy(&q->lock);
		free(q);
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
	store_close(q->store);
	pthread_cond_destroy(&q->done);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->lock);
	free(q);
	log_info("store: closed");
}

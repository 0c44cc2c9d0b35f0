/* test_ds_batch.c - the store thread's batches (store_queue.c): batched
 * jobs share one transaction and one commit, each in its own savepoint;
 * no job is finished before its commit was made durable by the sync
 * thread; a failing job is undone alone; a failed commit fails every job
 * of its batch; the hook takes after the commit and delivers after the
 * replies; a job that is not batched closes the batch before it; jobs
 * finish in order. The store is a counting stand-in, so only the queue's
 * logic is under test. */
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "store_queue.h"
#include "test.h"

#define EVENTS_MAX 20000

/* What the stand-in store and the jobs saw, in order. */
static struct {
	pthread_mutex_t lock;
	char ev[EVENTS_MAX];
	size_t n;
	int commit_rc;
	unsigned commits, batches, hook_failures, durable, delivered;
	char finished[EVENTS_MAX]; /* names of the jobs, as finished */
	size_t n_finished;
} log_;

static void note(char c)
{
	pthread_mutex_lock(&log_.lock);
	if (log_.n < EVENTS_MAX - 1)
		log_.ev[log_.n++] = c;
	log_.ev[log_.n] = '\0';
	pthread_mutex_unlock(&log_.lock);
}

static int st_begin(struct store *s) { (void)s; note('B'); return 0; }
static int st_commit(struct store *s)
{
	(void)s;
	note(log_.commit_rc == 0 ? 'C' : 'F');
	log_.commits++;
	return log_.commit_rc;
}
static void st_rollback(struct store *s) { (void)s; note('R'); }
static int st_savepoint(struct store *s) { (void)s; note('('); return 0; }
static int st_release(struct store *s) { (void)s; note(')'); return 0; }
static void st_rollback_to(struct store *s) { (void)s; note('!'); }
static void st_close(struct store *s) { (void)s; }
/* Everything committed so far is durable: what the sync thread waits
 * for. Not an event of the log, since it also runs for the holder. */
static int st_sync(struct store *s)
{
	(void)s;
	pthread_mutex_lock(&log_.lock);
	log_.durable = log_.commits;
	pthread_mutex_unlock(&log_.lock);
	return 0;
}

static const struct store_ops ops = {
	.close = st_close, .begin = st_begin, .commit = st_commit,
	.rollback = st_rollback, .savepoint = st_savepoint,
	.release = st_release, .rollback_to = st_rollback_to,
	.sync = st_sync,
};
static struct store fake = { .ops = &ops };

struct job {
	struct store_job job;
	char name;
	int fail;       /* what run returns */
	int rc_seen;    /* job->rc when finished */
	unsigned durable; /* commits made durable when finished */
	bool finished;
};

static int run(struct store *s, struct store_job *j)
{
	struct job *x = (struct job *)j;

	(void)s;
	note(x->name);
	return x->fail;
}

static void finished(struct store_job *j)
{
	struct job *x = (struct job *)j;

	x->rc_seen = j->rc;
	x->finished = true;
	pthread_mutex_lock(&log_.lock);
	x->durable = log_.durable;
	if (log_.n_finished < EVENTS_MAX - 1)
		log_.finished[log_.n_finished++] = x->name;
	pthread_mutex_unlock(&log_.lock);
	note('f');
}

static void *hook(void *arg, int rc)
{
	(void)arg;
	log_.batches++;
	if (rc != 0)
		log_.hook_failures++;
	note('H');
	return &log_;
}

static void deliver(void *arg, void *taken)
{
	(void)arg;
	if (taken == &log_)
		log_.delivered++;
	note('D');
}

/* The events of the store thread alone: without the sync thread's. */
static const char *store_events(void)
{
	static char out[EVENTS_MAX];
	size_t n = 0;

	for (size_t i = 0; i < log_.n; i++)
		if (log_.ev[i] != 'f' && log_.ev[i] != 'D')
			out[n++] = log_.ev[i];
	out[n] = '\0';
	return out;
}

/* A job that holds the store thread until the test has queued the rest,
 * so that they are taken in one round. */
static sem_t gate, holding;

static int hold(struct store *s, struct store_job *j)
{
	(void)s;
	(void)j;
	sem_post(&holding);
	sem_wait(&gate);
	return 0;
}

static struct storeq *start(void)
{
	struct storeq_hooks h = { .after_batch = hook, .deliver = deliver };
	struct storeq *q = NULL;

	memset(log_.ev, 0, sizeof(log_.ev));
	memset(log_.finished, 0, sizeof(log_.finished));
	log_.n = log_.n_finished = 0;
	log_.commits = log_.batches = log_.hook_failures = 0;
	log_.durable = log_.delivered = 0;
	log_.commit_rc = 0;
	if (storeq_start(&fake, &q) != 0)
		return NULL;
	storeq_set_hooks(q, &h);
	return q;
}

static void queue_held(struct storeq *q, struct store_job *holder,
		       struct job *jobs, size_t n)
{
	holder->run = hold;
	holder->release = NULL;
	storeq_submit(q, holder);
	sem_wait(&holding); /* the thread has taken the holder alone */
	for (size_t i = 0; i < n; i++) {
		jobs[i].job.run = run;
		jobs[i].job.release = finished;
		storeq_submit(q, &jobs[i].job);
	}
}

static bool test_one_commit_for_many(void)
{
	struct store_job holder = { 0 };
	struct job jobs[4] = {
		{ .name = 'a', .job.batched = true },
		{ .name = 'b', .job.batched = true, .fail = BWD_ERR_REFUSED },
		{ .name = 'c', .job.batched = true },
		{ .name = 'd', .job.batched = true },
	};
	struct storeq *q = start();

	CHECK(q != NULL);
	queue_held(q, &holder, jobs, 4);
	sem_post(&gate);
	storeq_stop(q);
	/* One transaction, a savepoint each, b undone alone, one commit,
	 * the hook's take; once durable the replies, then the delivery. */
	CHECK(strstr(log_.ev, "B(a)(b!(c)(d)CHffffD") != NULL);
	CHECK_EQ_INT(log_.commits, 1);
	CHECK_EQ_INT(log_.batches, 1);
	CHECK_EQ_INT(log_.delivered, 1);
	for (size_t i = 0; i < 4; i++)
		CHECK_EQ_INT(jobs[i].durable, 1);
	CHECK(strcmp(log_.finished, "abcd") == 0);
	CHECK(jobs[0].rc_seen == 0 && jobs[2].rc_seen == 0);
	CHECK_EQ_INT(jobs[1].rc_seen, BWD_ERR_REFUSED);
	return true;
}

static bool test_failed_commit_fails_all(void)
{
	struct store_job holder = { 0 };
	struct job jobs[2] = {
		{ .name = 'a', .job.batched = true },
		{ .name = 'b', .job.batched = true },
	};
	struct storeq *q = start();

	CHECK(q != NULL);
	log_.commit_rc = BWD_ERR_STORE;
	queue_held(q, &holder, jobs, 2);
	sem_post(&gate);
	storeq_stop(q);
	CHECK(strstr(log_.ev, "B(a)(b)FRHffD") != NULL);
	CHECK_EQ_INT(jobs[0].rc_seen, BWD_ERR_STORE);
	CHECK_EQ_INT(jobs[1].rc_seen, BWD_ERR_STORE);
	CHECK_EQ_INT(log_.hook_failures, 1);
	return true;
}

static bool test_unbatched_job_splits(void)
{
	struct store_job holder = { 0 };
	struct job jobs[4] = {
		{ .name = 'a', .job.batched = true },
		{ .name = 'n' },
		{ .name = 'b', .job.batched = true },
		{ .name = 'c', .job.batched = true },
	};
	struct storeq *q = start();

	CHECK(q != NULL);
	queue_held(q, &holder, jobs, 4);
	sem_post(&gate);
	storeq_stop(q);
	/* a is committed before n runs; b and c share the next
	 * transaction; replies in order, each after its commit is durable. */
	CHECK(strstr(store_events(), "B(a)CHnB(b)(c)CH") != NULL);
	CHECK(strcmp(log_.finished, "anbc") == 0);
	CHECK(jobs[0].durable >= 1 && jobs[1].durable >= 1);
	CHECK(jobs[2].durable == 2 && jobs[3].durable == 2);
	CHECK_EQ_INT(log_.delivered, 2);
	CHECK_EQ_INT(log_.commits, 2);
	return true;
}

static bool test_batches_are_bounded(void)
{
	size_t n = 5000;
	struct job *jobs = calloc(n, sizeof(*jobs));
	struct store_job holder = { 0 };
	struct storeq *q = start();

	CHECK(q != NULL && jobs != NULL);
	for (size_t i = 0; i < n; i++) {
		jobs[i].name = 'x';
		jobs[i].job.batched = true;
	}
	queue_held(q, &holder, jobs, n);
	sem_post(&gate);
	storeq_stop(q);
	/* 4096 in the first transaction, the rest in a second. */
	CHECK_EQ_INT(log_.commits, 2);
	for (size_t i = 0; i < n; i++)
		CHECK(jobs[i].finished && jobs[i].rc_seen == 0 &&
		      jobs[i].durable >= (i < 4096 ? 1u : 2u));
	free(jobs);
	return true;
}

int main(void)
{
	int failed = 0;

	pthread_mutex_init(&log_.lock, NULL);
	sem_init(&gate, 0, 0);
	sem_init(&holding, 0, 0);
	RUN(test_one_commit_for_many, &failed);
	RUN(test_failed_commit_fails_all, &failed);
	RUN(test_unbatched_job_splits, &failed);
	RUN(test_batches_are_bounded, &failed);
	sem_destroy(&gate);
	sem_destroy(&holding);
	return failed == 0 ? 0 : 1;
}

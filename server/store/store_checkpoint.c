/*
 * store_checkpoint.c - WAL checkpoints off the store thread.
 *
 * With SQLite's default, the connection that commits copies the WAL back
 * into the database file whenever the WAL passes 1000 pages: the store
 * thread would write every page twice and wait for the database file's
 * fsync in the middle of a batch. Here the store's connection only tells
 * this thread, through its WAL hook, that the WAL has grown; the thread
 * runs a PASSIVE checkpoint on a connection of its own, which never
 * blocks the store thread's transactions (SQLite's WAL concurrency:
 * https://sqlite.org/wal.html, "Checkpointing").
 *
 * SQLite starts the WAL over only when a writer begins a transaction
 * once every frame has been copied back, which under constant load a
 * checkpoint running beside the writer never sees. So past a hard size
 * the store thread itself, between two batches, copies what this thread
 * has not yet (little: this thread did the bulk) with a passive
 * checkpoint of its own connection; its next transaction then starts
 * the WAL over, which keeps it bounded.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "errors.h"
#include "lat_trace.h"
#include "log.h"
#include "store_sqlite_int.h"

/* WAL pages after which a checkpoint is due (16 MiB of 4 KiB pages),
 * and after which the WAL must start over (256 MiB). Small batches
 * write a few frames each: with SQLite's 1,000 and 64 MiB the store
 * thread finished a checkpoint about every second at 2,000 msgs/s,
 * which made A′'s p99 7.5 ms instead of 1.2 (docs/benchmarks.md). */
#define CHECKPOINT_PAGES 4000
#define RESTART_PAGES 65536

struct sq_checkpointer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool due, stop;
	sqlite3 *db;
	int wal_pages; /* the store thread's: as of its last commit */
};

static void *run(void *arg)
{
	struct sq_checkpointer *c = arg;
	int wal = 0, copied = 0;
	uint64_t start;

	prctl(PR_SET_NAME, "bwd-checkpoint");
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->due && !c->stop)
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->stop)
			break;
		c->due = false;
		pthread_mutex_unlock(&c->lock);
		start = LAT_NOW();
		if (sqlite3_wal_checkpoint_v2(c->db, "main",
					      SQLITE_CHECKPOINT_PASSIVE, &wal,
					      &copied) != SQLITE_OK)
			log_warn("store: checkpoint failed: %s",
				 sqlite3_errmsg(c->db));
		LAT_ADD(LAT_CHECKPOINT, start, LAT_NOW());
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* The store connection's WAL hook, after each commit. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct sq_checkpointer *c = arg;

	(void)db;
	(void)name;
	c->wal_pages = pages;
	if (pages < CHECKPOINT_PAGES)
		return SQLITE_OK;
	pthread_mutex_lock(&c->lock);
	c->due = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	return SQLITE_OK;
}

void sq_checkpoint_restart(struct store_sqlite *q)
{
	struct sq_checkpointer *c = q->checkpointer;
	int wal = 0, copied = 0;
	uint64_t start;

	if (c == NULL || c->wal_pages < RESTART_PAGES)
		return;
	start = LAT_NOW();
	/* Busy when the other connection is checkpointing: next time. */
	if (sqlite3_wal_checkpoint_v2(q->db, "main", SQLITE_CHECKPOINT_PASSIVE,
				      &wal, &copied) == SQLITE_OK &&
	    wal == copied)
		c->wal_pages = 0;
	LAT_ADD(LAT_RESTART, start, LAT_NOW());
}

static int open_db(const char *path, sqlite3 **db)
{
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE |
					      SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		return BWD_ERR_STORE;
	sqlite3_busy_timeout(*db, 5000);
	/* The database file is synced before the WAL is reused. */
	return sqlite3_exec(*db, "PRAGMA synchronous = FULL", NULL, NULL,
			    NULL) == SQLITE_OK
		       ? 0
		       : BWD_ERR_STORE;
}

int sq_checkpointer_start(struct store_sqlite *q, const char *path)
{
	struct sq_checkpointer *c;
	int rc;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return BW_ERR_NOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	if ((rc = open_db(path, &c->db)) != 0 ||
	    pthread_create(&c->thread, NULL, run, c) != 0) {
		sqlite3_close(c->db);
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return rc != 0 ? rc : BWD_ERR_SYSTEM;
	}
	q->checkpointer = c;
	/* Replaces SQLite's automatic checkpoints on the store's connection. */
	sqlite3_wal_hook(q->db, on_commit, c);
	return 0;
}

void sq_checkpointer_stop(struct store_sqlite *q)
{
	struct sq_checkpointer *c = q->checkpointer;

	if (c == NULL)
		return;
	sqlite3_wal_hook(q->db, NULL, NULL);
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	sqlite3_close(c->db);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c);
	q->checkpointer = NULL;
}

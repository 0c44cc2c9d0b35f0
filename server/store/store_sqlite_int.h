/*
 * store_sqlite_int.h - what the files of the SQLite store share:
 * store_sqlite.c (users, devices, activation, audit, transactions) and
 * store_sqlite_ds.c (the delivery service).
 */
#ifndef BWD_STORE_SQLITE_INT_H
#define BWD_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store.h"
#include "store_ds.h"

struct sq_checkpointer;
struct sq_index;

struct sq_ack;

/* Folding the cursors into members (store_sqlite_ds.c): a round writes
 * every cursor ahead of members at its start, in members' key order, a
 * slice per batch, then deletes the acks rows up to upto; next_* take
 * effect when the batch commits. */
struct sq_fold {
	int64_t upto;       /* the round's last acks row; 0: no round */
	struct sq_ack **todo;
	size_t n_todo;
	size_t pos, next_pos;
	int64_t trimmed, next_trimmed;
	int64_t next_round; /* time */
};

struct store_sqlite {
	struct store base; /* first: a struct store * is a struct store_sqlite * */
	sqlite3 *db;
	sqlite3_stmt **st; /* store_sqlite.c's prepared statements */
	sqlite3_stmt **ds; /* store_sqlite_ds.c's */
	struct sq_checkpointer *checkpointer; /* store_checkpoint.c */
	struct sq_index *ix; /* store_sqlite_index.h */
	char *wal_path;      /* the WAL, synced by the queue's sync thread */
	int wal_fd;          /* that thread's, opened at its first sync */
	struct sq_fold fold;
};

/* Checkpoint the WAL from a thread of its own, on a connection of its
 * own to path, instead of in the store's commits; stop before closing
 * the store's connection. */
int sq_checkpointer_start(struct store_sqlite *q, const char *path);
void sq_checkpointer_stop(struct store_sqlite *q);
/* Store thread, outside a transaction: when the WAL has grown past its
 * bound, finish the checkpoint so that the next transaction starts it
 * over. */
void sq_checkpoint_restart(struct store_sqlite *q);

/* Schema migrations 2 and 3: the delivery service's tables, then its log
 * in arrival order with acknowledgements appended. */
extern const char SQ_DS_SCHEMA[];
extern const char SQ_LOG_SCHEMA[];
extern const struct store_ds_ops sq_ds_ops;

/* Prepare, reset (after a failure) and finalize the DS statements. */
int sq_ds_prepare(struct store_sqlite *q);
void sq_ds_reset(struct store_sqlite *q);
void sq_ds_finalize(struct store_sqlite *q);
/* (Re)build the in-memory index from the tables. */
int sq_ds_load(struct store_sqlite *q);
/* The index follows the transaction (store.h's savepoints). */
void sq_ds_savepoint(struct store_sqlite *q);
void sq_ds_rollback_to(struct store_sqlite *q);
void sq_ds_commit(struct store_sqlite *q);
int sq_ds_rollback(struct store_sqlite *q);
/* Drop the round in progress (a cursor of its list may be gone). */
void sq_fold_cancel(struct store_sqlite *q);
/* At the start of a batch's transaction: a slice of the cursors' fold. */
void sq_ds_in_batch(struct store_sqlite *q);

/* A statement reset and unbound, ready for binding. */
sqlite3_stmt *sq_ready(sqlite3_stmt *st);
int sq_bind_text(sqlite3_stmt *st, int i, const char *v);
/* An empty blob is bound as a blob, not NULL. */
int sq_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n);
/* SQLite result to 0, BWD_ERR_EXISTS (constraint) or BWD_ERR_STORE. */
int sq_map_rc(int rc);
/* Step a statement that returns no rows, then reset it. */
int sq_exec(sqlite3_stmt *st);
void sq_copy_text(char *dst, size_t size, sqlite3_stmt *st, int col);
int sq_copy_blob(struct bw_bytes *dst, sqlite3_stmt *st, int col);
/* A blob column into dst[size], cut at size; *len (if not NULL) its
 * length. */
void sq_copy_fixed(uint8_t *dst, size_t size, size_t *len,
		   sqlite3_stmt *st, int col);

#endif

/*
 * store_sqlite_index.h - the SQLite store's in-memory index of the
 * delivery service's message log and cursors (docs/storage.md).
 *
 * On disk, messages are one append-only rowid table in arrival order and
 * acknowledgements one append-only table: a message or an ack costs a
 * write to the rightmost page only. What the old secondary indexes gave
 * lives here instead, rebuilt at open by one sequential scan:
 *
 *   - per group (sq_glog): seq -> rowid of each retained message, from
 *     the first retained seq to the last appended one;
 *   - the idempotency keys: a hash of (gid, sender, key) -> rowid, which
 *     the caller verifies against the stored row;
 *   - per (gid, device) (sq_ack): the acknowledged cursor, authoritative,
 *     and what `members` holds of it; the difference is folded into
 *     `members` in bulk later.
 *
 * Changes made inside a transaction are journaled, so that a job's
 * savepoint or a batch can be undone here as SQLite undoes them on disk.
 * One thread at a time, like the store.
 */
#ifndef BWD_STORE_SQLITE_INDEX_H
#define BWD_STORE_SQLITE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* A retained message: its rowid (0: a hole) and the hash of its
 * idempotency key (0: none). */
struct sq_slot {
	int64_t rowid;
	uint64_t key;
};

/* A group's retained log: v[head..n) hold seqs first..last. */
struct sq_glog {
	int64_t gid;
	uint64_t last;
	uint64_t floor; /* scratch of the purge */
	size_t head, n, cap;
	struct sq_slot *v;
};

/* A device's cursor in a group, over all its membership intervals. */
struct sq_ack {
	int64_t gid;
	uint64_t acked;   /* authoritative: members, the acks table and own
			   * messages passed over (memory only) */
	uint64_t stored;  /* as members.acked_seq has it (committed) */
	uint64_t folding; /* written to members by the open transaction */
	size_t pos;       /* in the index's list of cursors */
	char device[STORE_NAME_SIZE];
};

struct sq_index;

int sqi_new(struct sq_index **out);
void sqi_free(struct sq_index *ix);
/* Forget everything (before a rebuild). */
void sqi_reset(struct sq_index *ix);

static inline size_t sqi_count(const struct sq_glog *g)
{
	return g->n - g->head;
}
static inline uint64_t sqi_first(const struct sq_glog *g)
{
	return g->last + 1 - sqi_count(g);
}
/* The rowid of seq in g, 0 if not retained. */
int64_t sqi_rowid(const struct sq_glog *g, uint64_t seq);

struct sq_glog *sqi_glog(struct sq_index *ix, int64_t gid);
/* Each group's log, in no particular order; fn may not add or remove. */
void sqi_each_glog(struct sq_index *ix, void (*fn)(void *, struct sq_glog *),
		   void *arg);
/* Record message seq of gid at rowid (key: its idempotency hash or 0).
 * BWD_ERR_EXISTS if seq is not past the group's last. */
int sqi_append(struct sq_index *ix, int64_t gid, uint64_t seq, int64_t rowid,
	       uint64_t key, bool journal);
/* Drop g's messages up to and including seq, at most *budget of them;
 * the dropped rowids are appended to rowids (which grows). Frees g when
 * it empties (*emptied then holds its last seq, else 0). Not journaled:
 * a transaction that purges is undone by a rebuild (sqi_need_rebuild). */
int sqi_drop_prefix(struct sq_index *ix, struct sq_glog *g, uint64_t seq,
		    uint64_t *budget, int64_t **rowids, size_t *n,
		    size_t *cap, uint64_t *emptied);

/* The hash of an idempotency key (PROTO_IDEMPOTENCY_KEY_LEN bytes) of
 * sender in gid; never 0. */
uint64_t sqi_key_hash(const struct sq_index *ix, int64_t gid,
		      const char *sender, const uint8_t *key);
/* Call fn for each rowid recorded under hash h until it returns non-zero,
 * which is returned. */
int sqi_key_each(struct sq_index *ix, uint64_t h,
		 int (*fn)(void *, int64_t), void *arg);

struct sq_ack *sqi_ack(struct sq_index *ix, int64_t gid, const char *device);
/* A cursor known to exist in members with acked_seq stored. */
int sqi_ack_add(struct sq_index *ix, int64_t gid, const char *device,
		uint64_t stored, bool journal, struct sq_ack **out);
int sqi_ack_set(struct sq_index *ix, struct sq_ack *a, uint64_t acked,
		bool journal);
void sqi_ack_remove(struct sq_index *ix, struct sq_ack *a);
size_t sqi_ack_total(const struct sq_index *ix);
struct sq_ack *sqi_ack_at(struct sq_index *ix, size_t pos);

/* ---- transactions ---- */
void sqi_savepoint(struct sq_index *ix);
void sqi_rollback_to(struct sq_index *ix);
/* The transaction committed: cursors being folded are now stored. */
void sqi_commit(struct sq_index *ix);
/* Undo the transaction; false when a rebuild is needed instead. */
bool sqi_rollback(struct sq_index *ix);
/* The open transaction changed what the journal cannot undo. */
void sqi_need_rebuild(struct sq_index *ix);
/* A cursor written to members by the open transaction. */
int sqi_folding(struct sq_index *ix, struct sq_ack *a);

/* Memory the index holds, in bytes (docs/storage.md's figures). */
size_t sqi_memory(const struct sq_index *ix);

#endif

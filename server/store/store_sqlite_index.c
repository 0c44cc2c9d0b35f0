/*
 * store_sqlite_index.c - the in-memory index of the SQLite store's
 * message log and cursors (store_sqlite_index.h).
 *
 * Three hashed tables (probe_table.h): groups by gid, idempotency hashes,
 * cursors by (gid, device). Hashes are seeded from the CSPRNG at
 * creation, so a device cannot choose idempotency keys that collide in
 * this process.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "errors.h"
#include "probe_table.h"
#include "proto.h"
#include "seeded_hash.h"
#include "store_sqlite_index.h"

enum undo_type { UNDO_APPEND, UNDO_ACK };

/* How to take back one change of the open transaction. */
struct undo {
	uint8_t type;
	bool created;   /* the group log or cursor came with the change */
	void *p;        /* struct sq_glog * or struct sq_ack * */
	uint64_t old;   /* APPEND: the log's last; ACK: the cursor */
	size_t old_n;   /* APPEND: the log's count of slots before */
};

struct sq_index {
	uint64_t seed;
	struct probe_table glogs; /* struct sq_glog * by gid */
	struct probe_table keys;  /* rowids by idempotency hash */
	struct probe_table acks;  /* struct sq_ack * by (gid, device) */
	struct sq_ack **ack_list; /* every cursor, for the fold */
	size_t n_acks, ack_list_cap;
	struct undo *journal;
	size_t n_journal, journal_cap, mark;
	struct sq_ack **folding;
	size_t n_folding, folding_cap;
	bool rebuild;
};

/* Slot hashes are never 0, which marks an empty slot. */
static uint64_t nonzero(uint64_t h)
{
	return h != 0 ? h : 1;
}

/* Grow a pointer array by doubling. */
static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if ((p = realloc(*v, c * size)) == NULL)
		return BW_ERR_NOMEM;
	*v = p;
	*cap = c;
	return 0;
}

int sqi_new(struct sq_index **out)
{
	struct sq_index *ix;

	*out = NULL;
	if ((ix = calloc(1, sizeof(*ix))) == NULL)
		return BW_ERR_NOMEM;
	if (RAND_bytes((unsigned char *)&ix->seed, sizeof(ix->seed)) != 1) {
		free(ix);
		return BWD_ERR_STORE;
	}
	*out = ix;
	return 0;
}

static void glog_free(struct sq_glog *g)
{
	if (g == NULL)
		return;
	free(g->v);
	free(g);
}

void sqi_reset(struct sq_index *ix)
{
	for (size_t i = 0; i < probe_table_size(&ix->glogs); i++)
		if (ix->glogs.slots[i].hash != 0)
			glog_free(ix->glogs.slots[i].v.ptr);
	for (size_t i = 0; i < ix->n_acks; i++)
		free(ix->ack_list[i]);
	probe_table_clear(&ix->glogs);
	probe_table_clear(&ix->keys);
	probe_table_clear(&ix->acks);
	ix->n_acks = 0;
	ix->n_journal = ix->mark = ix->n_folding = 0;
	ix->rebuild = false;
}

void sqi_free(struct sq_index *ix)
{
	if (ix == NULL)
		return;
	sqi_reset(ix);
	free(ix->ack_list);
	free(ix->journal);
	free(ix->folding);
	free(ix);
}

/* ---- groups by gid ---- */

static uint64_t glog_hash(const struct sq_index *ix, int64_t gid)
{
	return nonzero(seeded_hash_mix((uint64_t)gid ^ ix->seed));
}

struct sq_glog *sqi_glog(struct sq_index *ix, int64_t gid)
{
	uint64_t h = glog_hash(ix, gid);
	struct sq_glog *g;

	for (size_t i = probe_table_first(&ix->glogs, h); i != PROBE_NONE;
	     i = probe_table_next(&ix->glogs, i)) {
		g = ix->glogs.slots[i].v.ptr;
		if (g->gid == gid)
			return g;
	}
	return NULL;
}

void sqi_each_glog(struct sq_index *ix, void (*fn)(void *, struct sq_glog *),
		   void *arg)
{
	for (size_t i = 0; i < probe_table_size(&ix->glogs); i++)
		if (ix->glogs.slots[i].hash != 0)
			fn(arg, ix->glogs.slots[i].v.ptr);
}

int64_t sqi_rowid(const struct sq_glog *g, uint64_t seq)
{
	if (g == NULL || seq > g->last || seq < sqi_first(g))
		return 0;
	return g->v[g->head + (size_t)(seq - sqi_first(g))].rowid;
}

/* ---- idempotency hashes ---- */

static void key_remove(struct sq_index *ix, uint64_t h, int64_t rowid)
{
	for (size_t i = probe_table_first(&ix->keys, h); i != PROBE_NONE;
	     i = probe_table_next(&ix->keys, i))
		if (ix->keys.slots[i].v.num == rowid) {
			probe_table_remove_at(&ix->keys, i);
			return;
		}
}

uint64_t sqi_key_hash(const struct sq_index *ix, int64_t gid,
		      const char *sender, const uint8_t *key)
{
	uint64_t h = seeded_hash_mix(ix->seed ^ (uint64_t)gid);

	h = seeded_hash_bytes(h, (const uint8_t *)sender, strlen(sender));
	return nonzero(seeded_hash_bytes(h, key, PROTO_IDEMPOTENCY_KEY_LEN));
}

int sqi_key_each(struct sq_index *ix, uint64_t h,
		 int (*fn)(void *, int64_t), void *arg)
{
	int rc;

	for (size_t i = probe_table_first(&ix->keys, h); i != PROBE_NONE;
	     i = probe_table_next(&ix->keys, i))
		if ((rc = fn(arg, ix->keys.slots[i].v.num)) != 0)
			return rc;
	return 0;
}

/* ---- the journal ---- */

static int journal_add(struct sq_index *ix, const struct undo *u)
{
	int rc = grow((void **)&ix->journal, &ix->journal_cap,
		      ix->n_journal + 1, sizeof(*ix->journal));

	if (rc == 0)
		ix->journal[ix->n_journal++] = *u;
	return rc;
}

/* ---- appending and dropping ---- */

static int glog_new(struct sq_index *ix, int64_t gid, struct sq_glog **out)
{
	struct sq_glog *g;
	int rc;

	if ((rc = probe_table_reserve(&ix->glogs)) != 0)
		return rc;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return BW_ERR_NOMEM;
	g->gid = gid;
	probe_table_add(&ix->glogs, glog_hash(ix, gid),
			(union probe_value){ .ptr = g });
	*out = g;
	return 0;
}

static void glog_drop(struct sq_index *ix, struct sq_glog *g)
{
	probe_table_remove_ptr(&ix->glogs, glog_hash(ix, g->gid), g);
	glog_free(g);
}

/* Room for seq at the end of g: holes (rowid 0) fill any gap. */
static int glog_extend(struct sq_glog *g, uint64_t seq)
{
	uint64_t add = sqi_count(g) == 0 ? 1 : seq - g->last;
	struct sq_slot *v;
	size_t cap;

	if (add > (1u << 20))
		return BWD_ERR_STORE; /* seqs are dense: a gap is a bug */
	if (g->head > 0 && g->head >= g->n / 2) {
		/* Reclaim the dropped prefix before growing. */
		memmove(g->v, g->v + g->head, sqi_count(g) * sizeof(*g->v));
		g->n -= g->head;
		g->head = 0;
	}
	if (g->n + add > g->cap) {
		cap = g->cap ? 2 * g->cap : 4;
		while (cap < g->n + add)
			cap *= 2;
		if ((v = realloc(g->v, cap * sizeof(*v))) == NULL)
			return BW_ERR_NOMEM;
		g->v = v;
		g->cap = cap;
	}
	memset(g->v + g->n, 0, (size_t)add * sizeof(*g->v));
	g->n += (size_t)add;
	g->last = seq;
	return 0;
}

int sqi_append(struct sq_index *ix, int64_t gid, uint64_t seq, int64_t rowid,
	       uint64_t key, bool journal)
{
	struct sq_glog *g = sqi_glog(ix, gid);
	struct undo u = { .type = UNDO_APPEND, .created = g == NULL };
	int rc;

	if (g != NULL && sqi_count(g) > 0 && seq <= g->last)
		return BWD_ERR_EXISTS;
	if ((key != 0 && (rc = probe_table_reserve(&ix->keys)) != 0) ||
	    (journal && (rc = grow((void **)&ix->journal, &ix->journal_cap,
				   ix->n_journal + 1,
				   sizeof(*ix->journal))) != 0) ||
	    (g == NULL && (rc = glog_new(ix, gid, &g)) != 0))
		return rc;
	u.p = g;
	u.old = g->last;
	/* A count, not an index: growing may move the slots down. */
	u.old_n = sqi_count(g);
	if ((rc = glog_extend(g, seq)) != 0) {
		if (u.created)
			glog_drop(ix, g);
		return rc;
	}
	g->v[g->n - 1] = (struct sq_slot){ rowid, key };
	if (key != 0)
		probe_table_add(&ix->keys, key,
				(union probe_value){ .num = rowid });
	if (journal)
		ix->journal[ix->n_journal++] = u;
	return 0;
}

/* Take back one append: what it added to g's end. */
static void undo_append(struct sq_index *ix, const struct undo *u)
{
	struct sq_glog *g = u->p;
	size_t start = g->head + u->old_n;

	for (size_t i = start; i < g->n; i++)
		if (g->v[i].key != 0)
			key_remove(ix, g->v[i].key, g->v[i].rowid);
	g->n = start;
	g->last = u->old;
	if (u->created)
		glog_drop(ix, g);
}

int sqi_drop_prefix(struct sq_index *ix, struct sq_glog *g, uint64_t seq,
		    uint64_t *budget, int64_t **rowids, size_t *n,
		    size_t *cap, uint64_t *emptied)
{
	int rc;

	*emptied = 0;
	while (sqi_count(g) > 0 && sqi_first(g) <= seq && *budget > 0) {
		struct sq_slot *s = &g->v[g->head];

		if (s->rowid != 0) {
			if ((rc = grow((void **)rowids, cap, *n + 1,
				       sizeof(**rowids))) != 0)
				return rc;
			(*rowids)[(*n)++] = s->rowid;
			(*budget)--;
		}
		if (s->key != 0)
			key_remove(ix, s->key, s->rowid);
		g->head++;
	}
	if (sqi_count(g) == 0) {
		*emptied = g->last;
		glog_drop(ix, g);
	}
	return 0;
}

/* ---- cursors ---- */

static uint64_t ack_hash(const struct sq_index *ix, int64_t gid,
			 const char *device)
{
	uint64_t h = seeded_hash_mix(ix->seed ^ (uint64_t)gid);

	return nonzero(seeded_hash_bytes(h, (const uint8_t *)device,
					 strlen(device)));
}

struct sq_ack *sqi_ack(struct sq_index *ix, int64_t gid, const char *device)
{
	uint64_t h = ack_hash(ix, gid, device);
	struct sq_ack *a;

	for (size_t i = probe_table_first(&ix->acks, h); i != PROBE_NONE;
	     i = probe_table_next(&ix->acks, i)) {
		a = ix->acks.slots[i].v.ptr;
		if (a->gid == gid && strcmp(a->device, device) == 0)
			return a;
	}
	return NULL;
}

int sqi_ack_add(struct sq_index *ix, int64_t gid, const char *device,
		uint64_t stored, bool journal, struct sq_ack **out)
{
	size_t len = strlen(device);
	struct sq_ack *a;
	int rc;

	*out = NULL;
	if (len >= sizeof(a->device))
		return BWD_ERR_NOT_FOUND;
	if ((rc = probe_table_reserve(&ix->acks)) != 0 ||
	    (rc = grow((void **)&ix->ack_list, &ix->ack_list_cap,
		       ix->n_acks + 1, sizeof(*ix->ack_list))) != 0 ||
	    (journal && (rc = grow((void **)&ix->journal, &ix->journal_cap,
				   ix->n_journal + 1,
				   sizeof(*ix->journal))) != 0))
		return rc;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return BW_ERR_NOMEM;
	a->gid = gid;
	a->acked = a->stored = a->folding = stored;
	memcpy(a->device, device, len + 1);
	a->pos = ix->n_acks;
	ix->ack_list[ix->n_acks++] = a;
	probe_table_add(&ix->acks, ack_hash(ix, gid, a->device),
			(union probe_value){ .ptr = a });
	if (journal)
		ix->journal[ix->n_journal++] = (struct undo){
			.type = UNDO_ACK, .created = true, .p = a,
			.old = stored };
	*out = a;
	return 0;
}

int sqi_ack_set(struct sq_index *ix, struct sq_ack *a, uint64_t acked,
		bool journal)
{
	struct undo u = { .type = UNDO_ACK, .p = a, .old = a->acked };
	int rc;

	if (journal && (rc = journal_add(ix, &u)) != 0)
		return rc;
	a->acked = acked;
	return 0;
}

void sqi_ack_remove(struct sq_index *ix, struct sq_ack *a)
{
	struct sq_ack *moved;

	probe_table_remove_ptr(&ix->acks, ack_hash(ix, a->gid, a->device), a);
	moved = ix->ack_list[--ix->n_acks];
	ix->ack_list[a->pos] = moved;
	moved->pos = a->pos;
	for (size_t i = 0; i < ix->n_folding; i++)
		if (ix->folding[i] == a)
			ix->folding[i] = ix->folding[--ix->n_folding];
	free(a);
}

size_t sqi_ack_total(const struct sq_index *ix)
{
	return ix->n_acks;
}

struct sq_ack *sqi_ack_at(struct sq_index *ix, size_t pos)
{
	return pos < ix->n_acks ? ix->ack_list[pos] : NULL;
}

/* ---- transactions ---- */

static void undo_one(struct sq_index *ix, const struct undo *u)
{
	struct sq_ack *a = u->p;

	if (u->type == UNDO_APPEND) {
		undo_append(ix, u);
		return;
	}
	if (u->created)
		sqi_ack_remove(ix, a);
	else
		a->acked = u->old;
}

static void undo_to(struct sq_index *ix, size_t mark)
{
	while (ix->n_journal > mark)
		undo_one(ix, &ix->journal[--ix->n_journal]);
}

void sqi_savepoint(struct sq_index *ix)
{
	ix->mark = ix->n_journal;
}

void sqi_rollback_to(struct sq_index *ix)
{
	undo_to(ix, ix->mark);
}

void sqi_commit(struct sq_index *ix)
{
	for (size_t i = 0; i < ix->n_folding; i++)
		ix->folding[i]->stored = ix->folding[i]->folding;
	ix->n_folding = 0;
	ix->n_journal = ix->mark = 0;
	ix->rebuild = false;
}

bool sqi_rollback(struct sq_index *ix)
{
	ix->n_folding = 0;
	if (ix->rebuild) {
		ix->n_journal = ix->mark = 0;
		return false;
	}
	undo_to(ix, 0);
	ix->mark = 0;
	return true;
}

void sqi_need_rebuild(struct sq_index *ix)
{
	ix->rebuild = true;
}

int sqi_folding(struct sq_index *ix, struct sq_ack *a)
{
	int rc = grow((void **)&ix->folding, &ix->folding_cap,
		      ix->n_folding + 1, sizeof(*ix->folding));

	if (rc == 0) {
		a->folding = a->acked;
		ix->folding[ix->n_folding++] = a;
	}
	return rc;
}

size_t sqi_memory(const struct sq_index *ix)
{
	size_t bytes = sizeof(*ix) + probe_table_memory(&ix->glogs) +
		       probe_table_memory(&ix->keys) +
		       probe_table_memory(&ix->acks);
	const struct sq_glog *g;

	for (size_t i = 0; i < probe_table_size(&ix->glogs); i++)
		if (ix->glogs.slots[i].hash != 0) {
			g = ix->glogs.slots[i].v.ptr;
			bytes += sizeof(*g) + g->cap * sizeof(*g->v);
		}
	bytes += ix->n_acks * sizeof(struct sq_ack) +
		 ix->ack_list_cap * sizeof(*ix->ack_list);
	return bytes;
}

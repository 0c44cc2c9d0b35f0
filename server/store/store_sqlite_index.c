/*
 * store_sqlite_index.c - the in-memory index of the SQLite store's
 * message log and cursors (store_sqlite_index.h).
 *
 * Three open-addressing tables with linear probing and backward-shift
 * deletion (no tombstones), each kept at most half full: groups by gid,
 * idempotency hashes, cursors by (gid, device). Hashes are seeded from
 * the CSPRNG at creation, so a device cannot choose idempotency keys that
 * collide in this process.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "errors.h"
#include "proto.h"
#include "store_sqlite_index.h"

#define MIN_SLOTS 64u

enum undo_type { UNDO_APPEND, UNDO_ACK };

/* How to take back one change of the open transaction. */
struct undo {
	uint8_t type;
	bool created;   /* the group log or cursor came with the change */
	void *p;        /* struct sq_glog * or struct sq_ack * */
	uint64_t old;   /* APPEND: the log's last; ACK: the cursor */
	size_t old_n;   /* APPEND: the log's count of slots before */
};

struct key_slot {
	uint64_t h; /* 0: empty */
	int64_t rowid;
};

struct sq_index {
	uint64_t seed;
	struct sq_glog **glogs; /* by gid */
	size_t glog_mask, n_glogs;
	struct key_slot *keys;
	size_t key_mask, n_keys;
	struct sq_ack **acks; /* by (gid, device) */
	size_t ack_mask;
	struct sq_ack **ack_list; /* every cursor, for the fold */
	size_t n_acks, ack_list_cap;
	struct undo *journal;
	size_t n_journal, journal_cap, mark;
	struct sq_ack **folding;
	size_t n_folding, folding_cap;
	bool rebuild;
};

/* splitmix64's finaliser: every input bit reaches every output bit. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t mix_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	uint64_t w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = mix(h ^ w);
	}
	w = n;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * (i + 1));
	return mix(h ^ w);
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
	for (size_t i = 0; ix->glogs != NULL && i <= ix->glog_mask; i++)
		glog_free(ix->glogs[i]);
	for (size_t i = 0; i < ix->n_acks; i++)
		free(ix->ack_list[i]);
	free(ix->glogs);
	free(ix->keys);
	free(ix->acks);
	ix->glogs = NULL;
	ix->keys = NULL;
	ix->acks = NULL;
	ix->glog_mask = ix->key_mask = ix->ack_mask = 0;
	ix->n_glogs = ix->n_keys = ix->n_acks = 0;
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

static size_t glog_home(const struct sq_index *ix, int64_t gid)
{
	return (size_t)mix((uint64_t)gid ^ ix->seed) & ix->glog_mask;
}

struct sq_glog *sqi_glog(struct sq_index *ix, int64_t gid)
{
	if (ix->glogs == NULL)
		return NULL;
	for (size_t i = glog_home(ix, gid);; i = (i + 1) & ix->glog_mask) {
		if (ix->glogs[i] == NULL)
			return NULL;
		if (ix->glogs[i]->gid == gid)
			return ix->glogs[i];
	}
}

static void glog_place(struct sq_index *ix, struct sq_glog *g)
{
	size_t i = glog_home(ix, g->gid);

	while (ix->glogs[i] != NULL)
		i = (i + 1) & ix->glog_mask;
	ix->glogs[i] = g;
}

static int glogs_grow(struct sq_index *ix)
{
	size_t old = ix->glogs ? ix->glog_mask + 1 : 0, n = old ? 2 * old
								 : MIN_SLOTS;
	struct sq_glog **prev = ix->glogs;

	if (2 * (ix->n_glogs + 1) <= old)
		return 0;
	if ((ix->glogs = calloc(n, sizeof(*ix->glogs))) == NULL) {
		ix->glogs = prev;
		return BW_ERR_NOMEM;
	}
	ix->glog_mask = n - 1;
	for (size_t i = 0; i < old; i++)
		if (prev[i] != NULL)
			glog_place(ix, prev[i]);
	free(prev);
	return 0;
}

/* Whether home h lies cyclically in (hole, j]: the entry at j may not
 * move back into the hole. */
static bool stays(size_t hole, size_t j, size_t h)
{
	return hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
}

static void glog_unlink(struct sq_index *ix, struct sq_glog *g)
{
	size_t hole = glog_home(ix, g->gid), j;

	while (ix->glogs[hole] != g)
		hole = (hole + 1) & ix->glog_mask;
	ix->glogs[hole] = NULL;
	for (j = (hole + 1) & ix->glog_mask; ix->glogs[j] != NULL;
	     j = (j + 1) & ix->glog_mask) {
		if (stays(hole, j, glog_home(ix, ix->glogs[j]->gid)))
			continue;
		ix->glogs[hole] = ix->glogs[j];
		ix->glogs[j] = NULL;
		hole = j;
	}
	ix->n_glogs--;
}

void sqi_each_glog(struct sq_index *ix, void (*fn)(void *, struct sq_glog *),
		   void *arg)
{
	for (size_t i = 0; ix->glogs != NULL && i <= ix->glog_mask; i++)
		if (ix->glogs[i] != NULL)
			fn(arg, ix->glogs[i]);
}

int64_t sqi_rowid(const struct sq_glog *g, uint64_t seq)
{
	if (g == NULL || seq > g->last || seq < sqi_first(g))
		return 0;
	return g->v[g->head + (size_t)(seq - sqi_first(g))].rowid;
}

/* ---- idempotency hashes ---- */

static size_t key_home(const struct sq_index *ix, uint64_t h)
{
	return (size_t)h & ix->key_mask;
}

static void key_place(struct sq_index *ix, uint64_t h, int64_t rowid)
{
	size_t i = key_home(ix, h);

	while (ix->keys[i].h != 0)
		i = (i + 1) & ix->key_mask;
	ix->keys[i] = (struct key_slot){ h, rowid };
}

static int keys_grow(struct sq_index *ix)
{
	size_t old = ix->keys ? ix->key_mask + 1 : 0, n = old ? 2 * old
							      : MIN_SLOTS;
	struct key_slot *prev = ix->keys;

	if (2 * (ix->n_keys + 1) <= old)
		return 0;
	if ((ix->keys = calloc(n, sizeof(*ix->keys))) == NULL) {
		ix->keys = prev;
		return BW_ERR_NOMEM;
	}
	ix->key_mask = n - 1;
	for (size_t i = 0; i < old; i++)
		if (prev[i].h != 0)
			key_place(ix, prev[i].h, prev[i].rowid);
	free(prev);
	return 0;
}

static void key_remove(struct sq_index *ix, uint64_t h, int64_t rowid)
{
	size_t hole, j;

	if (ix->keys == NULL)
		return;
	for (hole = key_home(ix, h); ix->keys[hole].h != 0;
	     hole = (hole + 1) & ix->key_mask)
		if (ix->keys[hole].h == h && ix->keys[hole].rowid == rowid)
			break;
	if (ix->keys[hole].h == 0)
		return;
	ix->keys[hole].h = 0;
	for (j = (hole + 1) & ix->key_mask; ix->keys[j].h != 0;
	     j = (j + 1) & ix->key_mask) {
		if (stays(hole, j, key_home(ix, ix->keys[j].h)))
			continue;
		ix->keys[hole] = ix->keys[j];
		ix->keys[j].h = 0;
		hole = j;
	}
	ix->n_keys--;
}

uint64_t sqi_key_hash(const struct sq_index *ix, int64_t gid,
		      const char *sender, const uint8_t *key)
{
	uint64_t h = mix(ix->seed ^ (uint64_t)gid);

	h = mix_bytes(h, (const uint8_t *)sender, strlen(sender));
	h = mix_bytes(h, key, PROTO_IDEMPOTENCY_KEY_LEN);
	return h != 0 ? h : 1;
}

int sqi_key_each(struct sq_index *ix, uint64_t h,
		 int (*fn)(void *, int64_t), void *arg)
{
	int rc;

	if (ix->keys == NULL)
		return 0;
	for (size_t i = key_home(ix, h); ix->keys[i].h != 0;
	     i = (i + 1) & ix->key_mask)
		if (ix->keys[i].h == h &&
		    (rc = fn(arg, ix->keys[i].rowid)) != 0)
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

	if ((rc = glogs_grow(ix)) != 0)
		return rc;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return BW_ERR_NOMEM;
	g->gid = gid;
	glog_place(ix, g);
	ix->n_glogs++;
	*out = g;
	return 0;
}

static void glog_drop(struct sq_index *ix, struct sq_glog *g)
{
	glog_unlink(ix, g);
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
	if ((key != 0 && (rc = keys_grow(ix)) != 0) ||
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
	if (key != 0) {
		key_place(ix, key, rowid);
		ix->n_keys++;
	}
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

static size_t ack_home(const struct sq_index *ix, int64_t gid,
		       const char *device)
{
	uint64_t h = mix(ix->seed ^ (uint64_t)gid);

	return (size_t)mix_bytes(h, (const uint8_t *)device, strlen(device)) &
	       ix->ack_mask;
}

struct sq_ack *sqi_ack(struct sq_index *ix, int64_t gid, const char *device)
{
	struct sq_ack *a;

	if (ix->acks == NULL)
		return NULL;
	for (size_t i = ack_home(ix, gid, device);;
	     i = (i + 1) & ix->ack_mask) {
		if ((a = ix->acks[i]) == NULL)
			return NULL;
		if (a->gid == gid && strcmp(a->device, device) == 0)
			return a;
	}
}

static void ack_place(struct sq_index *ix, struct sq_ack *a)
{
	size_t i = ack_home(ix, a->gid, a->device);

	while (ix->acks[i] != NULL)
		i = (i + 1) & ix->ack_mask;
	ix->acks[i] = a;
}

static int acks_grow(struct sq_index *ix)
{
	size_t old = ix->acks ? ix->ack_mask + 1 : 0, n = old ? 2 * old
							      : MIN_SLOTS;
	struct sq_ack **prev = ix->acks;

	if (2 * (ix->n_acks + 1) <= old)
		return 0;
	if ((ix->acks = calloc(n, sizeof(*ix->acks))) == NULL) {
		ix->acks = prev;
		return BW_ERR_NOMEM;
	}
	ix->ack_mask = n - 1;
	for (size_t i = 0; i < old; i++)
		if (prev[i] != NULL)
			ack_place(ix, prev[i]);
	free(prev);
	return 0;
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
	if ((rc = acks_grow(ix)) != 0 ||
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
	ack_place(ix, a);
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
	size_t hole = ack_home(ix, a->gid, a->device), j;
	struct sq_ack *moved;

	while (ix->acks[hole] != a)
		hole = (hole + 1) & ix->ack_mask;
	ix->acks[hole] = NULL;
	for (j = (hole + 1) & ix->ack_mask; ix->acks[j] != NULL;
	     j = (j + 1) & ix->ack_mask) {
		if (stays(hole, j, ack_home(ix, ix->acks[j]->gid,
					    ix->acks[j]->device)))
			continue;
		ix->acks[hole] = ix->acks[j];
		ix->acks[j] = NULL;
		hole = j;
	}
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
	size_t bytes = sizeof(*ix);

	if (ix->glogs != NULL) {
		bytes += (ix->glog_mask + 1) * sizeof(*ix->glogs);
		for (size_t i = 0; i <= ix->glog_mask; i++)
			if (ix->glogs[i] != NULL)
				bytes += sizeof(struct sq_glog) +
					 ix->glogs[i]->cap *
						 sizeof(struct sq_slot);
	}
	if (ix->keys != NULL)
		bytes += (ix->key_mask + 1) * sizeof(*ix->keys);
	if (ix->acks != NULL)
		bytes += (ix->ack_mask + 1) * sizeof(*ix->acks);
	bytes += ix->n_acks * sizeof(struct sq_ack) +
		 ix->ack_list_cap * sizeof(*ix->ack_list);
	return bytes;
}

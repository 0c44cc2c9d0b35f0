/*
 * probe_table.h - an open-addressing table of (64-bit hash, value) slots:
 * linear probing, kept at most half full, backward-shift deletion (no
 * tombstones). The store's in-memory index (store_sqlite_index.c) keeps
 * its groups, idempotency keys and cursors in three of them.
 *
 * The table knows hashes only: a hash's slot is hash & mask, and what a
 * hit means is the caller's to verify (several entries may share a
 * hash). A lookup compares the stored hash before the caller touches the
 * entry, and growing or removing never recomputes a hash. Hash 0 marks
 * an empty slot: callers never store it.
 */
#ifndef BWD_PROBE_TABLE_H
#define BWD_PROBE_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* What a slot maps its hash to: an entry, or a number (a rowid). */
union probe_value {
	void *ptr;
	int64_t num;
};

struct probe_slot {
	uint64_t hash; /* 0: empty */
	union probe_value v;
};

/* Embedded by value; all zero is an empty table without slots. */
struct probe_table {
	struct probe_slot *slots;
	size_t mask; /* the number of slots (a power of two) - 1 */
	size_t n;    /* occupied slots */
};

/* Returned by the scans when the probe reached an empty slot. */
#define PROBE_NONE SIZE_MAX

/* Empty slot i (a scan's answer), moving back the entries after it that
 * may then be reached from their home. */
void probe_table_remove_at(struct probe_table *t, size_t i);
/* Remove entry ptr, stored under hash: it must be in the table. */
void probe_table_remove_ptr(struct probe_table *t, uint64_t hash,
			    const void *ptr);
/* Free the slots: the table is empty and without slots again. */
void probe_table_clear(struct probe_table *t);
/* The slots' bytes. */
size_t probe_table_memory(const struct probe_table *t);

/* How many slots there are (0 before the first reserve): iterating over
 * them sees every entry, occupied ones having a non-zero hash. */
static inline size_t probe_table_size(const struct probe_table *t)
{
	return t->slots != NULL ? t->mask + 1 : 0;
}

/* Twice the slots (64 at first), entries re-placed by their stored
 * hashes. On failure (BW_ERR_NOMEM) the table is unchanged. */
int probe_table_grow(struct probe_table *t);

/* Room for one more entry, growing when it would be more than half
 * full. Inline, as add: the message log appends once per message. */
static inline int probe_table_reserve(struct probe_table *t)
{
	return 2 * (t->n + 1) <= probe_table_size(t) ? 0 : probe_table_grow(t);
}

/* Store (hash, v) in the first empty slot of its probe; a reserve must
 * have made room since the last add. */
static inline void probe_table_add(struct probe_table *t, uint64_t hash,
				   union probe_value v)
{
	size_t i = hash & t->mask;

	while (t->slots[i].hash != 0)
		i = (i + 1) & t->mask;
	t->slots[i] = (struct probe_slot){ hash, v };
	t->n++;
}

/* The first slot from i on holding hash, or PROBE_NONE at an empty one. */
static inline size_t probe_table_scan(const struct probe_table *t,
				      uint64_t hash, size_t i)
{
	for (;; i = (i + 1) & t->mask) {
		if (t->slots[i].hash == hash)
			return i;
		if (t->slots[i].hash == 0)
			return PROBE_NONE;
	}
}

/* The first slot holding hash, or PROBE_NONE. Inline: the cursor lookup
 * it serves runs once per delivery. */
static inline size_t probe_table_first(const struct probe_table *t,
				       uint64_t hash)
{
	return t->slots != NULL ? probe_table_scan(t, hash, hash & t->mask)
				: PROBE_NONE;
}

/* The next slot after i holding the same hash, or PROBE_NONE. */
static inline size_t probe_table_next(const struct probe_table *t, size_t i)
{
	return probe_table_scan(t, t->slots[i].hash, (i + 1) & t->mask);
}

#endif

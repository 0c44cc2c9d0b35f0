/*
 * probe_table.c - the open-addressing table of hashed slots
 * (probe_table.h).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "err.h"
#include "probe_table.h"

#define MIN_SLOTS 64u

int probe_table_grow(struct probe_table *t)
{
	size_t old = probe_table_size(t), n = old ? 2 * old : MIN_SLOTS;
	struct probe_table grown = { .mask = n - 1 };

	if ((grown.slots = calloc(n, sizeof(*grown.slots))) == NULL)
		return BW_ERR_NOMEM;
	for (size_t i = 0; i < old; i++)
		if (t->slots[i].hash != 0)
			probe_table_add(&grown, t->slots[i].hash,
					t->slots[i].v);
	free(t->slots);
	*t = grown;
	return 0;
}

/* Whether home h lies cyclically in (hole, j]: the entry at j may not
 * move back into the hole, or a probe from h would no longer reach it. */
static bool stays(size_t hole, size_t j, size_t h)
{
	return hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
}

void probe_table_remove_at(struct probe_table *t, size_t hole)
{
	t->slots[hole].hash = 0;
	for (size_t j = (hole + 1) & t->mask; t->slots[j].hash != 0;
	     j = (j + 1) & t->mask) {
		if (stays(hole, j, t->slots[j].hash & t->mask))
			continue;
		t->slots[hole] = t->slots[j];
		t->slots[j].hash = 0;
		hole = j;
	}
	t->n--;
}

void probe_table_remove_ptr(struct probe_table *t, uint64_t hash,
			    const void *ptr)
{
	size_t i = probe_table_first(t, hash);

	while (t->slots[i].v.ptr != ptr)
		i = probe_table_next(t, i);
	probe_table_remove_at(t, i);
}

void probe_table_clear(struct probe_table *t)
{
	free(t->slots);
	*t = (struct probe_table){ 0 };
}

size_t probe_table_memory(const struct probe_table *t)
{
	return probe_table_size(t) * sizeof(*t->slots);
}

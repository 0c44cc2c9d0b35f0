/* test_probe_table.c - the store index's open-addressing table
 * (server/store/probe_table.h): growth over many doublings, backward-shift
 * removal across the end of the slots, entries sharing a hash, and random
 * adds and removals checked against a plain list. */
#include <stdint.h>

#include "probe_table.h"
#include "test.h"

#define MIN_SLOTS 64u

/* A hash with its home at slot `home` of a 64-slot table; tag makes
 * distinct hashes with the same home. */
static uint64_t at_home(size_t home, uint64_t tag)
{
	return (tag << 32) | home;
}

static bool add_num(struct probe_table *t, uint64_t hash, int64_t num)
{
	CHECK(probe_table_reserve(t) == 0);
	probe_table_add(t, hash, (union probe_value){ .num = num });
	return true;
}

/* The slot of (hash, num) as a lookup of hash reaches it, or PROBE_NONE. */
static size_t find_num(const struct probe_table *t, uint64_t hash,
		       int64_t num)
{
	size_t i = probe_table_first(t, hash);

	while (i != PROBE_NONE && t->slots[i].v.num != num)
		i = probe_table_next(t, i);
	return i;
}

static bool holds(const struct probe_table *t, uint64_t hash, int64_t num)
{
	return find_num(t, hash, num) != PROBE_NONE;
}

/* Every entry is reachable from its home (no empty slot between), the
 * count is right and the table at most half full. */
static bool well_formed(const struct probe_table *t)
{
	size_t occupied = 0;

	for (size_t i = 0; i < probe_table_size(t); i++) {
		if (t->slots[i].hash == 0)
			continue;
		occupied++;
		for (size_t j = t->slots[i].hash & t->mask; j != i;
		     j = (j + 1) & t->mask)
			CHECK(t->slots[j].hash != 0);
	}
	CHECK_EQ_INT(occupied, t->n);
	CHECK(2 * t->n <= probe_table_size(t));
	return true;
}

/* splitmix64: spread test hashes, never 0 in practice (checked). */
static uint64_t spread(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static bool test_grow(void)
{
	struct probe_table t = { 0 };
	const int64_t n = 10000;

	CHECK_EQ_INT(probe_table_first(&t, 1), PROBE_NONE);
	CHECK_EQ_INT(probe_table_memory(&t), 0);
	for (int64_t i = 1; i <= n; i++) {
		CHECK(spread((uint64_t)i) != 0);
		CHECK(add_num(&t, spread((uint64_t)i), i));
		CHECK(2 * t.n <= probe_table_size(&t));
	}
	/* 64 slots doubled nine times: the first size at most half full. */
	CHECK_EQ_INT(probe_table_size(&t), MIN_SLOTS << 9);
	CHECK_EQ_INT(probe_table_memory(&t),
		     (MIN_SLOTS << 9) * sizeof(struct probe_slot));
	CHECK(well_formed(&t));
	for (int64_t i = 1; i <= n; i++)
		CHECK(holds(&t, spread((uint64_t)i), i));
	CHECK(!holds(&t, spread((uint64_t)n + 1), n + 1));
	probe_table_clear(&t);
	CHECK_EQ_INT(probe_table_size(&t), 0);
	CHECK_EQ_INT(t.n, 0);
	CHECK_EQ_INT(probe_table_first(&t, spread(1)), PROBE_NONE);
	return true;
}

/* A run from slot 62 wraps to 0 and 1; removing its head moves every
 * later entry back one slot, across the end. */
static bool test_remove_shifts_across_the_end(void)
{
	struct probe_table t = { 0 };
	const uint64_t a = at_home(62, 1), b = at_home(62, 2),
		       c = at_home(63, 3), d = at_home(0, 4),
		       e = at_home(62, 5);

	CHECK(add_num(&t, a, 1) && add_num(&t, b, 2) && add_num(&t, c, 3) &&
	      add_num(&t, d, 4) && add_num(&t, e, 5));
	CHECK_EQ_INT(probe_table_size(&t), MIN_SLOTS);
	CHECK_EQ_INT(t.slots[62].hash, a);
	CHECK_EQ_INT(t.slots[1].hash, d);
	CHECK_EQ_INT(t.slots[2].hash, e);
	probe_table_remove_at(&t, probe_table_first(&t, a));
	CHECK_EQ_INT(t.slots[62].hash, b);
	CHECK_EQ_INT(t.slots[63].hash, c);
	CHECK_EQ_INT(t.slots[0].hash, d);
	CHECK_EQ_INT(t.slots[1].hash, e);
	CHECK_EQ_INT(t.slots[2].hash, 0);
	CHECK(!holds(&t, a, 1));
	CHECK(holds(&t, b, 2) && holds(&t, c, 3) && holds(&t, d, 4) &&
	      holds(&t, e, 5));
	CHECK(well_formed(&t));
	probe_table_clear(&t);
	return true;
}

/* An entry already at its home stays when the hole is behind it. */
static bool test_remove_keeps_entries_at_home(void)
{
	struct probe_table t = { 0 };
	const uint64_t a = at_home(62, 1), b = at_home(62, 2),
		       c = at_home(63, 3), d = at_home(1, 4);

	CHECK(add_num(&t, a, 1) && add_num(&t, b, 2) && add_num(&t, c, 3) &&
	      add_num(&t, d, 4));
	CHECK_EQ_INT(t.slots[0].hash, c);
	CHECK_EQ_INT(t.slots[1].hash, d);
	probe_table_remove_at(&t, probe_table_first(&t, b));
	CHECK_EQ_INT(t.slots[62].hash, a);
	CHECK_EQ_INT(t.slots[63].hash, c);
	CHECK_EQ_INT(t.slots[0].hash, 0);
	CHECK_EQ_INT(t.slots[1].hash, d);
	CHECK(holds(&t, a, 1) && holds(&t, c, 3) && holds(&t, d, 4));
	CHECK(!holds(&t, b, 2));
	CHECK(well_formed(&t));
	probe_table_clear(&t);
	return true;
}

/* Entries under one hash are all found, and each removed alone. */
static bool test_shared_hash(void)
{
	struct probe_table t = { 0 };
	int entries[4], seen = 0;
	const uint64_t h = at_home(5, 7), other = at_home(6, 8);

	CHECK(add_num(&t, other, 99));
	for (int i = 0; i < 4; i++) {
		CHECK(probe_table_reserve(&t) == 0);
		probe_table_add(&t, h,
				(union probe_value){ .ptr = &entries[i] });
	}
	for (size_t i = probe_table_first(&t, h); i != PROBE_NONE;
	     i = probe_table_next(&t, i))
		seen++;
	CHECK_EQ_INT(seen, 4);
	probe_table_remove_ptr(&t, h, &entries[2]);
	probe_table_remove_ptr(&t, h, &entries[0]);
	seen = 0;
	for (size_t i = probe_table_first(&t, h); i != PROBE_NONE;
	     i = probe_table_next(&t, i)) {
		CHECK(t.slots[i].v.ptr == &entries[1] ||
		      t.slots[i].v.ptr == &entries[3]);
		seen++;
	}
	CHECK_EQ_INT(seen, 2);
	CHECK(holds(&t, other, 99));
	CHECK(well_formed(&t));
	probe_table_clear(&t);
	return true;
}

/* A random hash: half of them at one of a few homes (the last slot, the
 * first, the middle, whatever the size), for long runs that wrap. */
static uint64_t random_hash(uint64_t r)
{
	static const uint64_t hot[] = { 0xffff, 0xfffe, 0, 1, 0x7fff, 0x8000 };
	uint64_t low = (r >> 8) % 2 ? hot[(r >> 16) % 6] : (r >> 24) & 0xffff;

	return ((r >> 40) + 1) << 16 | low;
}

/* Random adds and removals, the table checked against a list: every
 * entry is found after each change while it grows and empties. */
static bool test_random_against_list(void)
{
	enum { MAX = 1500, STEPS = 12000 };
	static uint64_t hashes[MAX];
	static int64_t nums[MAX];
	struct probe_table t = { 0 };
	uint64_t r = 1;
	size_t n = 0, peak = 0, k;
	int64_t next_num = 1;
	bool ok = true;

	for (int step = 0; ok && step < STEPS; step++) {
		r = spread(r);
		/* Mostly adds in the first half, mostly removals after. */
		if (n == 0 ||
		    (n < MAX && r % 4 < (step < STEPS / 2 ? 3u : 1u))) {
			k = n++;
			hashes[k] = random_hash(r);
			nums[k] = next_num++;
			ok = add_num(&t, hashes[k], nums[k]);
		} else {
			k = (size_t)(r >> 32) % n;
			ok = holds(&t, hashes[k], nums[k]);
			if (ok)
				probe_table_remove_at(
					&t, find_num(&t, hashes[k], nums[k]));
			ok = ok && !holds(&t, hashes[k], nums[k]);
			hashes[k] = hashes[--n];
			nums[k] = nums[n];
		}
		peak = n > peak ? n : peak;
		ok = ok && t.n == n;
		if (step % 64 == 0)
			for (size_t i = 0; ok && i < n; i++)
				ok = holds(&t, hashes[i], nums[i]);
		if (step % 512 == 0)
			ok = ok && well_formed(&t);
	}
	for (size_t i = 0; ok && i < n; i++)
		ok = holds(&t, hashes[i], nums[i]);
	ok = ok && well_formed(&t);
	probe_table_clear(&t);
	CHECK(ok);
	CHECK(peak > MAX / 2);
	return true;
}

int main(void)
{
	int failed = 0;

	RUN(test_grow, &failed);
	RUN(test_remove_shifts_across_the_end, &failed);
	RUN(test_remove_keeps_entries_at_home, &failed);
	RUN(test_shared_hash, &failed);
	RUN(test_random_against_list, &failed);
	return failed ? 1 : 0;
}

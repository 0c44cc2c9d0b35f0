/*
 * seeded_hash.h - 64-bit hashes for the server's in-memory tables (the
 * store's index, the delivery service's group and device caches), whose
 * keys devices choose: group ids, idempotency keys. Each table draws its
 * seed from the CSPRNG when it is created, so that a device cannot pick
 * keys that collide in this process and turn lookups into long scans.
 */
#ifndef BWD_SEEDED_HASH_H
#define BWD_SEEDED_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* splitmix64's finaliser: every input bit reaches every output bit. */
static inline uint64_t seeded_hash_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* h (a seed, or a hash so far) extended by p[0..n), eight bytes a step;
 * the length goes into the last word, so that a prefix differs. */
static inline uint64_t seeded_hash_bytes(uint64_t h, const uint8_t *p,
					 size_t n)
{
	uint64_t w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = seeded_hash_mix(h ^ w);
	}
	w = n;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * (i + 1));
	return seeded_hash_mix(h ^ w);
}

#endif

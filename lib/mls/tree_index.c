/*
 * tree_index.c - the index of every encryption and signature key in a
 * ratchet tree, for the uniqueness rules of RFC 9420 §7.3 and §12.4.2 at
 * O(1) per key.
 *
 * An open-addressing hash set with linear probing and backward-shift
 * deletion, at most half full. Keys are hashed with SipHash under a random
 * key per tree, so a member choosing its keys cannot make them collide and
 * turn lookups linear. Entries name a node rather than copy its key; the
 * key bytes are compared where the node holds them.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>

#include "tree_internal.h"

#define SIPHASH_KEY_LEN 16
#define INITIAL_SLOTS 64u

static uint32_t slot_ref(uint32_t x, enum tree_key_kind kind)
{
	return 1u + ((x << 1) | (uint32_t)kind);
}

const struct bw_bytes *tree_node_key(const struct mls_tree *t, uint32_t x,
				     enum tree_key_kind kind)
{
	const struct mls_node *n = &t->nodes[x];

	switch (n->type) {
	case MLS_NODE_LEAF:
		return kind == TREE_KEY_ENCRYPTION ? &n->leaf->encryption_key
						   : &n->leaf->signature_key;
	case MLS_NODE_PARENT:
		return kind == TREE_KEY_ENCRYPTION ? &n->parent->encryption_key
						   : NULL;
	}
	return NULL;
}

int tree_index_init(struct mls_tree *t)
{
	uint8_t key[SIPHASH_KEY_LEN];
	size_t out_len = sizeof(uint64_t);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &out_len),
		OSSL_PARAM_END,
	};
	EVP_MAC *mac = NULL;
	int rc = MLS_ERR_CRYPTO;

	if ((t->slots = calloc(INITIAL_SLOTS, sizeof(*t->slots))) == NULL)
		return BW_ERR_NOMEM;
	t->slot_mask = INITIAL_SLOTS - 1;
	t->n_keys = 0;
	if ((rc = mls_random(key, sizeof(key))) != 0)
		goto out;
	rc = MLS_ERR_CRYPTO;
	if ((mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL)) == NULL ||
	    (t->siphash = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(t->siphash, key, sizeof(key), params) != 1)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	EVP_MAC_free(mac);
	return rc;
}

void tree_index_free(struct mls_tree *t)
{
	free(t->slots);
	t->slots = NULL;
	EVP_MAC_CTX_free(t->siphash);
	t->siphash = NULL;
}

int tree_index_clone(struct mls_tree *dst, const struct mls_tree *src)
{
	size_t n = (size_t)src->slot_mask + 1;

	if ((dst->slots = malloc(n * sizeof(*dst->slots))) == NULL)
		return BW_ERR_NOMEM;
	memcpy(dst->slots, src->slots, n * sizeof(*dst->slots));
	dst->slot_mask = src->slot_mask;
	dst->n_keys = src->n_keys;
	if ((dst->siphash = EVP_MAC_CTX_dup(src->siphash)) == NULL)
		return MLS_ERR_CRYPTO;
	return 0;
}

int tree_index_hash(const struct mls_tree *t, const uint8_t *key, size_t len,
		    uint32_t *hash)
{
	uint8_t out[sizeof(uint64_t)];
	size_t out_len = 0;

	/* Re-initialising with no key restarts SipHash under the same key. */
	if (EVP_MAC_init(t->siphash, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(t->siphash, key, len) != 1 ||
	    EVP_MAC_final(t->siphash, out, &out_len, sizeof(out)) != 1 ||
	    out_len != sizeof(out))
		return MLS_ERR_CRYPTO;
	*hash = (uint32_t)out[0] | (uint32_t)out[1] << 8 |
		(uint32_t)out[2] << 16 | (uint32_t)out[3] << 24;
	return 0;
}

int tree_index_node_keys(const struct mls_tree *t, const struct mls_node *n,
			 struct tree_node_keys *k)
{
	const struct bw_bytes *key;
	int rc;

	memset(k, 0, sizeof(*k));
	if (n->type == MLS_NODE_BLANK)
		return 0;
	key = n->type == MLS_NODE_LEAF ? &n->leaf->encryption_key
				       : &n->parent->encryption_key;
	if ((rc = tree_index_hash(t, key->p, key->len, &k->hash[0])) != 0)
		return rc;
	k->present[0] = true;
	if (n->type != MLS_NODE_LEAF)
		return 0;
	key = &n->leaf->signature_key;
	if ((rc = tree_index_hash(t, key->p, key->len, &k->hash[1])) != 0)
		return rc;
	k->present[1] = true;
	return 0;
}

/* Re-insert every entry into a table twice the size. */
static int grow(struct mls_tree *t)
{
	uint32_t n = t->slot_mask + 1, mask = 2 * n - 1;
	struct tree_key_slot *slots = calloc(2 * (size_t)n, sizeof(*slots));

	if (slots == NULL)
		return BW_ERR_NOMEM;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t j;

		if (t->slots[i].ref == 0)
			continue;
		for (j = t->slots[i].hash & mask; slots[j].ref != 0;
		     j = (j + 1) & mask)
			;
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->slot_mask = mask;
	return 0;
}

int tree_index_reserve(struct mls_tree *t, uint32_t more)
{
	int rc;

	/* At most half full, so that probe sequences stay short. */
	while (2 * ((uint64_t)t->n_keys + more) > (uint64_t)t->slot_mask + 1)
		if ((rc = grow(t)) != 0)
			return rc;
	return 0;
}

bool tree_index_find(const struct mls_tree *t, enum tree_key_kind kind,
		     const uint8_t *key, size_t len, uint32_t hash,
		     uint32_t *node)
{
	for (uint32_t i = hash & t->slot_mask; t->slots[i].ref != 0;
	     i = (i + 1) & t->slot_mask) {
		uint32_t ref = t->slots[i].ref - 1, x = ref >> 1;
		const struct bw_bytes *k;

		if (t->slots[i].hash != hash || (ref & 1) != (uint32_t)kind)
			continue;
		k = tree_node_key(t, x, kind);
		if (k != NULL && k->len == len &&
		    (len == 0 || memcmp(k->p, key, len) == 0)) {
			if (node != NULL)
				*node = x;
			return true;
		}
	}
	return false;
}

static void slot_insert(struct mls_tree *t, uint32_t hash, uint32_t ref)
{
	uint32_t i;

	for (i = hash & t->slot_mask; t->slots[i].ref != 0;
	     i = (i + 1) & t->slot_mask)
		;
	t->slots[i].hash = hash;
	t->slots[i].ref = ref;
	t->n_keys++;
}

/* Backward-shift deletion: later entries of the probe run move up so that
 * no lookup meets an empty slot before its key. */
static void slot_delete(struct mls_tree *t, uint32_t hash, uint32_t ref)
{
	uint32_t i = hash & t->slot_mask, j, home;

	while (t->slots[i].ref != ref) {
		if (t->slots[i].ref == 0)
			return; /* not indexed: nothing to do */
		i = (i + 1) & t->slot_mask;
	}
	for (j = (i + 1) & t->slot_mask; t->slots[j].ref != 0;
	     j = (j + 1) & t->slot_mask) {
		home = t->slots[j].hash & t->slot_mask;
		/* The entry at j may fill the hole at i unless its home lies
		 * cyclically in (i, j]. */
		if (((j - home) & t->slot_mask) >= ((j - i) & t->slot_mask)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i].ref = 0;
	t->slots[i].hash = 0;
	t->n_keys--;
}

void tree_index_add(struct mls_tree *t, uint32_t x,
		    const struct tree_node_keys *k)
{
	for (int kind = 0; kind < 2; kind++)
		if (k->present[kind])
			slot_insert(t, k->hash[kind],
				    slot_ref(x, (enum tree_key_kind)kind));
}

void tree_index_remove(struct mls_tree *t, uint32_t x,
		       const struct tree_node_keys *k)
{
	for (int kind = 0; kind < 2; kind++)
		if (k->present[kind])
			slot_delete(t, k->hash[kind],
				    slot_ref(x, (enum tree_key_kind)kind));
}

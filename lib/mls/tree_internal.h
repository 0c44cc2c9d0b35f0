/*
 * tree_internal.h - the representation of struct mls_tree, shared by
 * tree.c (structure, changes, undo log), tree_index.c (the key index) and
 * tree_hash.c (tree and parent hashes, validation). Nothing outside these
 * files includes it.
 *
 * Invariants (docs/internals/tree.md):
 *   - nodes[0 .. cap) exist; those at or beyond the width 2n - 1 are blank.
 *   - filled[x] counts the non-blank nodes and members[x] the non-blank
 *     leaves of x's subtree, for every x in the tree. A node's subtree does
 *     not depend on the tree's size, so the counts of nodes beyond the
 *     width stay exact (all zero) and only the roots a shrink leaves above
 *     the tree go stale; growing recomputes them (tree_set_width).
 *   - hash[x] is x's tree hash whenever clean[x]; a change clears clean on
 *     the node and its ancestors. The same holds beyond the width: those
 *     subtrees are blank, so a clean hash there is still exact.
 *   - the key index holds exactly one entry per encryption key of a
 *     non-blank node and per signature key of a non-blank leaf.
 *   - undo[0 .. n_undo) records, oldest first, each node replaced since the
 *     transaction began, with the key hashes of the old and new node so that
 *     undoing cannot fail.
 */
#ifndef MLS_TREE_INTERNAL_H
#define MLS_TREE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "codec.h"
#include "crypto.h"
#include "messages.h"
#include "tree.h"

enum tree_key_kind { TREE_KEY_ENCRYPTION = 0, TREE_KEY_SIGNATURE = 1 };

/* The index hashes of a node's keys (a leaf has both, a parent only its
 * encryption key, a blank node none). */
struct tree_node_keys {
	uint32_t hash[2];
	bool present[2];
};

/* One slot of the open-addressing key index: ref 0 is empty, else
 * 1 + (node << 1 | kind). hash is the key's SipHash, kept so that growing
 * and deleting never rehash a key. */
struct tree_key_slot {
	uint32_t hash;
	uint32_t ref;
};

struct tree_undo {
	uint32_t node;
	struct mls_node old;
	struct tree_node_keys old_keys, new_keys;
};

struct mls_tree {
	const struct mls_suite *suite;
	uint32_t n_leaves;  /* 0 or a power of two */
	uint32_t n_members; /* non-blank leaves */
	uint32_t cap;       /* node slots allocated */
	struct mls_node *nodes;
	uint32_t *filled;
	uint32_t *members;
	uint8_t *hash; /* cap * suite->hash_len */
	uint8_t *clean;

	/* Key index (tree_index.c). */
	struct tree_key_slot *slots;
	uint32_t slot_mask; /* slot count - 1; the count is a power of two */
	uint32_t n_keys;
	EVP_MAC_CTX *siphash;

	/* Credential types in use and supported (§7.3): index 0 basic,
	 * 1 x509; other types are refused by credential validation. */
	uint32_t cred_used[2], cred_supported[2];

	/* Undo log of the open transaction. */
	bool txn;
	uint32_t txn_leaves;     /* width when it began */
	uint32_t txn_max_leaves; /* widest the tree has been since */
	struct tree_undo *undo;
	size_t n_undo, cap_undo;

	struct bw_writer scratch; /* hash inputs */
};

/* ---- tree_index.c ---- */
int tree_index_init(struct mls_tree *t);
void tree_index_free(struct mls_tree *t);
int tree_index_clone(struct mls_tree *dst, const struct mls_tree *src);
/* The hashes of n's keys. */
int tree_index_node_keys(const struct mls_tree *t, const struct mls_node *n,
			 struct tree_node_keys *k);
/* Room for `more` further keys, so that adding them cannot fail. */
int tree_index_reserve(struct mls_tree *t, uint32_t more);
/* Whether a key of that kind is indexed; *node (if not NULL) receives the
 * node holding it. hash is tree_index_hash() of the key. */
bool tree_index_find(const struct mls_tree *t, enum tree_key_kind kind,
		     const uint8_t *key, size_t len, uint32_t hash,
		     uint32_t *node);
int tree_index_hash(const struct mls_tree *t, const uint8_t *key, size_t len,
		    uint32_t *hash);
/* Add or remove the entries of node x (whose content is t->nodes[x]). Add
 * needs the room reserved and the keys absent. */
void tree_index_add(struct mls_tree *t, uint32_t x,
		    const struct tree_node_keys *k);
void tree_index_remove(struct mls_tree *t, uint32_t x,
		       const struct tree_node_keys *k);
/* The key bytes of one entry of node x. */
const struct bw_bytes *tree_node_key(const struct mls_tree *t, uint32_t x,
				     enum tree_key_kind kind);

/* ---- tree.c ---- */
/* Leaves below node x: [*first, *first + count). */
void tree_leaf_range(uint32_t x, uint32_t *first, uint32_t *count);

/* ---- tree_hash.c ---- */
/* The tree hash of x from the cache, computing what is stale; *out points
 * into the cache (valid until the tree changes). */
int tree_node_hash(struct mls_tree *t, uint32_t x, const uint8_t **out);
/* §7.9 Hash(ParentHashInput{key, parent_hash, sibling_hash}) into out. */
int tree_parent_hash(struct mls_tree *t, const struct bw_bytes *key,
		     const struct bw_bytes *parent_hash,
		     const uint8_t *sibling_hash, uint8_t *out);

#endif

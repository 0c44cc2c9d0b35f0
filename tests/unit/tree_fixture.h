/*
 * tree_fixture.h - groups of members over one shared ratchet tree, for the
 * tree and TreeKEM tests and benchmarks.
 *
 * Every member has real keys (signature, leaf HPKE) and a basic credential
 * "member-<id>"; the public tree is one object, each member has its own
 * private view. fx_commit() is a whole TreeKEM round: the committer
 * creates and encrypts a path, every other member decrypts it and must
 * reach the same commit secret, joiners get their path secret as a Welcome
 * would give it, and every private view is checked against the tree.
 */
#ifndef BW_TREE_FIXTURE_H
#define BW_TREE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tree.h"
#include "treekem.h"

struct fx_member {
	bool present;
	struct bw_bytes sig_priv, enc_priv;
	struct mls_leaf_node leaf; /* its current LeafNode */
	struct mls_tree_priv *priv;
};

struct fx_group {
	const struct mls_suite *s;
	struct mls_tree *t;
	uint8_t gid[16];
	uint64_t epoch;
	struct fx_member *m; /* by leaf index, cap entries */
	uint32_t cap;
	uint32_t next_id;
};

/* Keys and a signed key_package-source LeafNode for a new member. */
int fx_member_init(const struct mls_suite *s, uint32_t id,
		   struct fx_member *m);
void fx_member_clear(struct fx_member *m);

/* A group of one member (leaf 0). */
int fx_group_new(const struct mls_suite *s, struct fx_group *g);
void fx_group_clear(struct fx_group *g);

/* Add a fresh member (§12.1.1); *leaf receives its index. */
int fx_add(struct fx_group *g, uint32_t *leaf);
/* Remove the member at leaf (§12.1.3). */
int fx_remove(struct fx_group *g, uint32_t leaf);
/* The member at leaf replaces its leaf with a new key (§12.1.2). */
int fx_update(struct fx_group *g, uint32_t leaf);
/* A full TreeKEM round by sender; joiners (added since the last commit)
 * are excluded from the encryption and join by path secret. */
int fx_commit(struct fx_group *g, uint32_t sender, const uint32_t *joiners,
	      size_t n_joiners);
/* The serialised provisional GroupContext for the tree as it is. */
int fx_group_context(struct fx_group *g, struct bw_writer *w);

/* §7.8 tree hash of node x recomputed from scratch over the exported
 * tree, sharing no code with the cache. */
int fx_naive_hash(const struct mls_suite *s, const struct mls_ratchet_tree *rt,
		  uint32_t n_leaves, uint32_t x, uint8_t *out);
/* Every node's cached hash equals its naive one. */
bool fx_hashes_match(struct mls_tree *t);

/* Serialisation and tree hash, to compare a tree before and after. */
struct fx_snapshot {
	struct bw_bytes bytes;
	uint8_t hash[MLS_MAX_HASH_LEN];
};
int fx_snapshot_take(struct mls_tree *t, struct fx_snapshot *snap);
bool fx_snapshot_same(struct mls_tree *t, const struct fx_snapshot *snap);
void fx_snapshot_clear(struct fx_snapshot *snap);

int fx_accept_all(void *arg, const struct mls_credential *c,
		  const uint8_t *key, size_t len);

#endif

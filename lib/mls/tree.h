/*
 * tree.h - the public ratchet tree of a group (RFC 9420 §4, §7, §12.4.3).
 *
 * A struct mls_tree holds every node of the group's tree (LeafNodes and
 * ParentNodes as messages.h defines them, blank nodes as nothing) in array
 * order (leaf L at node 2L, Appendix C) together with
 *   - the tree hash of every node (§7.8), cached: a change marks the node
 *     and its ancestors stale, so the next hash rehashes O(log n) nodes;
 *   - an index of every encryption key and signature key (a hash set keyed
 *     with a random SipHash key), so uniqueness (§7.3) costs O(1) per key;
 *   - per node, the number of non-blank nodes below it, so that emptiness
 *     of a resolution (the filtered direct path, §4.1) is O(1);
 *   - an undo log: between mls_tree_txn_begin() and _commit() every change
 *     is recorded and mls_tree_txn_rollback() restores the tree exactly, at
 *     a cost proportional to the nodes changed. A rejected commit therefore
 *     changes nothing without copying the tree.
 * See docs/internals/tree.md for the design and each operation's cost.
 *
 * Errors: MLS_ERR_LEAF_INDEX (a leaf outside the tree), MLS_ERR_BLANK_NODE
 * (an operation on a blank leaf), MLS_ERR_DUPLICATE_KEY (a key that would
 * appear twice), MLS_ERR_TREE_INVALID (malformed tree), MLS_ERR_TREE_HASH,
 * MLS_ERR_PARENT_HASH, and the leaf validation errors of leaf_node.h.
 * Every modifying function either succeeds or leaves the tree as it was.
 *
 * A tree is not thread-safe; the hash functions update the cache and so
 * take a non-const tree.
 *
 *   struct mls_tree *t;
 *   rc = mls_tree_import(suite, &ratchet_tree, &t);   // takes the nodes
 *   rc = mls_tree_validate(t, gi->group_context.tree_hash.p,  // §12.4.3.1
 *                          gi->group_context.tree_hash.len, gid, gid_len,
 *                          &policy);
 *   mls_tree_txn_begin(t);
 *   rc = mls_tree_add_leaf(t, &kp->leaf_node, &leaf);
 *   if (rc != 0) mls_tree_txn_rollback(t); else mls_tree_txn_commit(t);
 *   mls_tree_free(t);
 */
#ifndef MLS_TREE_H
#define MLS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "crypto.h"
#include "leaf_node.h"
#include "messages.h"
#include "treemath.h"

struct mls_tree;

/* A growable list of node indices (resolutions). */
struct mls_node_list {
	uint32_t *v;
	size_t n, cap;
};

void mls_node_list_clear(struct mls_node_list *l);

/* ---- creation, import, export ---- */

/* An empty tree (no leaves); the first mls_tree_add_leaf() makes it a
 * one-leaf tree, as when a group is created (§11). */
int mls_tree_new(const struct mls_suite *s, struct mls_tree **out);
/*
 * A tree from the ratchet_tree wire form (§12.4.3.3), extended on the right
 * with the fewest blanks that make it complete. The nodes are moved out of
 * *rt, which is left empty whatever the result. Checks the structure a
 * tree must have: leaves at most MLS_MAX_TREE_LEAVES, every parent's
 * unmerged_leaves strictly increasing, each a non-blank descendant leaf
 * listed by every non-blank node between it and the parent (§7.1,
 * §12.4.3.1), else MLS_ERR_TREE_INVALID; and no encryption key or
 * signature key twice (MLS_ERR_DUPLICATE_KEY). Cryptographic checks are
 * mls_tree_validate()'s.
 */
int mls_tree_import(const struct mls_suite *s, struct mls_ratchet_tree *rt,
		    struct mls_tree **out);
/* Decode a serialised ratchet_tree and import it. */
int mls_tree_decode(const struct mls_suite *s, const uint8_t *p, size_t n,
		    struct mls_tree **out);
/* The ratchet_tree wire form: without trailing blank nodes (§12.4.3.3). */
int mls_tree_encode(const struct mls_tree *t, struct bw_writer *w);
/* The same as a struct (deep copies; *out is replaced). */
int mls_tree_export(const struct mls_tree *t, struct mls_ratchet_tree *out);
/* A deep copy, hash cache included, without the undo log (MLS_ERR_STATE
 * inside a transaction). O(n). */
int mls_tree_clone(const struct mls_tree *t, struct mls_tree **out);
/* NULL is a no-op. */
void mls_tree_free(struct mls_tree *t);

/* ---- reading ---- */

const struct mls_suite *mls_tree_suite(const struct mls_tree *t);
/* Leaves in the tree: a power of two, or 0 for an empty new tree. */
uint32_t mls_tree_n_leaves(const struct mls_tree *t);
/* Non-blank leaves. */
uint32_t mls_tree_n_members(const struct mls_tree *t);
/* The node at index x: NULL when x is blank or outside the tree. */
const struct mls_node *mls_tree_node(const struct mls_tree *t, uint32_t x);
/* The LeafNode of leaf index i, or NULL when blank or outside. */
const struct mls_leaf_node *mls_tree_leaf(const struct mls_tree *t,
					  uint32_t leaf);
/* The ParentNode at node index x, or NULL when blank, a leaf or outside. */
const struct mls_parent_node *mls_tree_parent(const struct mls_tree *t,
					      uint32_t x);
/* The encryption key of node x (leaf or parent), or NULL when blank. */
const struct bw_bytes *mls_tree_encryption_key(const struct mls_tree *t,
					       uint32_t x);

/* The node whose encryption key, or the leaf whose signature key, is
 * key[0..len): its node index in *node. false if there is none. O(1). */
bool mls_tree_find_encryption_key(const struct mls_tree *t, const void *key,
				  size_t len, uint32_t *node);
bool mls_tree_find_signature_key(const struct mls_tree *t, const void *key,
				 size_t len, uint32_t *leaf);
/* The leaf holding a LeafNode identical to ln (§12.4.3.1 "my_leaf"). */
bool mls_tree_find_leaf(const struct mls_tree *t,
			const struct mls_leaf_node *ln, uint32_t *leaf);

/* Where the next added leaf goes: the leftmost blank leaf, or
 * mls_tree_n_leaves() when the tree must be extended (§7.7). */
uint32_t mls_tree_free_leaf(const struct mls_tree *t);

/* ---- §4.1 resolution and paths ---- */

/*
 * Append the resolution of node x to *out (left to right, §4.1), leaving
 * out the leaves listed in exclude[0..n_exclude) (the members added by the
 * same commit, §7.6; any order). MLS_ERR_INVALID_ARG if x is not in the
 * tree. Cost: the size of the result plus the blank nodes crossed.
 */
int mls_tree_resolution(const struct mls_tree *t, uint32_t x,
			const uint32_t *exclude, size_t n_exclude,
			struct mls_node_list *out);
/* Whether the resolution of x is empty. O(1). */
bool mls_tree_resolution_empty(const struct mls_tree *t, uint32_t x);
/*
 * §4.1 filtered direct path of a leaf, leaf to root: path[i] is a parent
 * whose child copath[i] (off the leaf's path) has a non-empty resolution.
 * *n receives the count (at most MLS_TM_MAX_PATH). MLS_ERR_LEAF_INDEX if
 * the leaf is outside the tree. O(log n).
 */
int mls_tree_filtered_direct_path(const struct mls_tree *t, uint32_t leaf,
				  uint32_t path[MLS_TM_MAX_PATH],
				  uint32_t copath[MLS_TM_MAX_PATH],
				  uint32_t *n);

/* ---- §7.8 tree hash, §7.9 parent hash ---- */

/* The tree hash of the root (s->hash_len bytes). Rehashes only what
 * changed since the last call. MLS_ERR_TREE_INVALID for an empty tree. */
int mls_tree_hash(struct mls_tree *t, uint8_t *out);
/* The tree hash of node x. */
int mls_tree_node_hash(struct mls_tree *t, uint32_t x, uint8_t *out);
/*
 * §7.9.2 for the whole tree, as a joiner must: every non-blank parent node
 * is parent-hash valid from exactly one child chain (MLS_ERR_PARENT_HASH
 * otherwise). Original sibling tree hashes reuse the cache wherever the
 * parent's unmerged leaves do not reach.
 */
int mls_tree_verify_parent_hashes(struct mls_tree *t);

/* ---- §12.4.3.1 a joiner's validation ---- */

/*
 * Everything a new member checks before using a tree: its root hash is
 * tree_hash (the GroupInfo's, MLS_ERR_TREE_HASH); every parent's
 * encryption key has the shape of the suite's KEM keys (MLS_ERR_BAD_KEY;
 * see mls_leaf_node_validate_in_tree for why not more); parent hashes
 * (MLS_ERR_PARENT_HASH); every
 * leaf by mls_leaf_node_validate_in_tree() with the group id and its index,
 * including its credential by pol->accept; credential types supported by
 * every member (MLS_ERR_CAPABILITIES). Structure and key uniqueness were
 * checked by mls_tree_import(). The signatures dominate the cost: one
 * verification per leaf; the rest is linear (docs/benchmarks.md).
 */
int mls_tree_validate(struct mls_tree *t, const uint8_t *tree_hash,
		      size_t tree_hash_len, const uint8_t *group_id,
		      size_t group_id_len, const struct mls_leaf_policy *pol);

/*
 * §7.3 credential-type checks of ln against the other members (every
 * member but replaced, which a leaf for an Update or a commit replaces;
 * MLS_TM_NONE for a new leaf): the other members all support ln's
 * credential type and ln supports every type they use.
 * MLS_ERR_CAPABILITIES otherwise. O(1).
 */
int mls_tree_leaf_compatible(const struct mls_tree *t,
			     const struct mls_leaf_node *ln,
			     uint32_t replaced);

/* ---- §12.1 changes ---- */

/* §12.1.1 Add: a copy of ln into the leftmost blank leaf (extending the
 * tree when there is none), its index appended to the unmerged leaves of
 * each non-blank parent above it. *leaf receives the index. */
int mls_tree_add_leaf(struct mls_tree *t, const struct mls_leaf_node *ln,
		      uint32_t *leaf);
/* §12.1.2 Update: replace the (non-blank) leaf with a copy of ln and blank
 * the parents on its direct path. */
int mls_tree_update_leaf(struct mls_tree *t, uint32_t leaf,
			 const struct mls_leaf_node *ln);
/* §12.1.3 Remove: blank the (non-blank) leaf and its direct path, then
 * truncate (§7.7). */
int mls_tree_remove_leaf(struct mls_tree *t, uint32_t leaf);
/* Make leaf part of the tree: nothing if it is, one extension (§7.7) if it
 * is one past the end (an external joiner's leaf), MLS_ERR_LEAF_INDEX
 * otherwise. */
int mls_tree_reserve_leaf(struct mls_tree *t, uint32_t leaf);
/* Replace a leaf (blank or not) with a copy of ln and nothing else.
 * TreeKEM uses it to set a committer's new leaf once its path is merged. */
int mls_tree_set_leaf(struct mls_tree *t, uint32_t leaf,
		      const struct mls_leaf_node *ln);

/*
 * The public part of merging an UpdatePath (§7.5 "merges UpdatePath into
 * the tree", §7.9): the sender's leaf is in the tree (blank for an external
 * joiner: see mls_tree_reserve_leaf). keys[i] is the new
 * encryption key of the i-th node of the sender's filtered direct path,
 * n_keys must equal its length (MLS_ERR_PATH), and no key may already be
 * in the tree nor repeat (MLS_ERR_DUPLICATE_KEY). The direct path is
 * blanked, each filtered node set to its key with no unmerged leaves, and
 * the parent hashes chained from the root down. leaf_parent_hash receives
 * the value the sender's new LeafNode must carry (empty when the filtered
 * direct path is). The leaf itself is not changed.
 */
int mls_tree_merge_path(struct mls_tree *t, uint32_t leaf,
			const struct bw_bytes *keys, size_t n_keys,
			struct bw_bytes *leaf_parent_hash);

/* ---- transactions ---- */

/* Start recording changes. MLS_ERR_STATE if one is already open. */
int mls_tree_txn_begin(struct mls_tree *t);
/* Undo every change since begin and close the transaction. */
void mls_tree_txn_rollback(struct mls_tree *t);
/* Keep the changes and close the transaction. */
void mls_tree_txn_commit(struct mls_tree *t);
bool mls_tree_txn_active(const struct mls_tree *t);

/*
 * Savepoints make a sequence of changes atomic, inside the caller's
 * transaction or without one (a savepoint then opens a transaction of its
 * own, which _release commits and _rollback_to rolls back):
 *
 *   struct mls_tree_savepoint sp;
 *   mls_tree_savepoint(t, &sp);
 *   if ((rc = step_one(t)) != 0 || (rc = step_two(t)) != 0)
 *           mls_tree_rollback_to(t, &sp);
 *   else
 *           mls_tree_release(t, &sp);
 *
 * Savepoints nest; each is ended exactly once, innermost first.
 */
struct mls_tree_savepoint {
	size_t undo_len;
	uint32_t n_leaves;
	bool owns_txn;
};

void mls_tree_savepoint(struct mls_tree *t, struct mls_tree_savepoint *sp);
void mls_tree_rollback_to(struct mls_tree *t,
			  const struct mls_tree_savepoint *sp);
void mls_tree_release(struct mls_tree *t, const struct mls_tree_savepoint *sp);

/* Approximate heap bytes the tree holds (for the benchmarks). */
size_t mls_tree_memory(const struct mls_tree *t);

#endif

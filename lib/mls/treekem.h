/*
 * treekem.h - TreeKEM (RFC 9420 §7.4-§7.6): a member's private keys in the
 * ratchet tree, and creating and applying UpdatePaths.
 *
 * A struct mls_tree_priv is one member's private view of the tree: its
 * leaf index, its leaf's HPKE private key and the private keys it knows on
 * its direct path, each kept with its public key so that a key whose node
 * has since changed is never used. Everything in it is wiped when freed.
 *
 * An UpdatePath is handled in two steps because its HPKE context, the
 * provisional GroupContext, holds the tree hash of the tree the path
 * produces (§12.4.2):
 *
 *   committer                                 other member
 *   mls_treekem_create(tree, ...) -> u        mls_treekem_merge(tree, path)
 *   (tree now holds the new path)             (tree now holds the new path)
 *   provisional GroupContext with mls_tree_hash(tree)
 *   mls_treekem_encrypt(u, tree, gc) -> path  mls_treekem_decrypt(tree, priv,
 *                                                 path, gc) -> u
 *   commit_secret = mls_treekem_commit_secret(u)
 *   once the commit is accepted: mls_treekem_apply(u, priv)
 *
 * The tree changes are the caller's to undo (mls_tree_txn_rollback) if the
 * commit fails later; the private view changes only in mls_treekem_apply,
 * so a rejected commit leaves it untouched too. A struct mls_treekem_update
 * holds the path secrets of one commit (for the Welcome's path_secret) and
 * the new private keys; mls_treekem_update_free() wipes them (§7.5: delete
 * them once used).
 */
#ifndef MLS_TREEKEM_H
#define MLS_TREEKEM_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "crypto.h"
#include "messages.h"
#include "tree.h"

struct mls_tree_priv;
struct mls_treekem_update;

/* ---- a member's private view ---- */

/* For leaf with the HPKE private key of its encryption key (copied);
 * leaf_priv may be NULL for an external joiner whose keys come from its
 * own UpdatePath (mls_treekem_apply). */
int mls_tree_priv_new(const struct mls_suite *s, uint32_t leaf,
		      const uint8_t *leaf_priv, size_t leaf_priv_len,
		      struct mls_tree_priv **out);
/* Wipes every key. NULL is a no-op. */
void mls_tree_priv_free(struct mls_tree_priv *p);
int mls_tree_priv_clone(const struct mls_tree_priv *p,
			struct mls_tree_priv **out);
uint32_t mls_tree_priv_leaf(const struct mls_tree_priv *p);
/* Replace the leaf's private key, after an Update of one's own leaf. */
int mls_tree_priv_set_leaf_key(struct mls_tree_priv *p, const uint8_t *priv,
			       size_t priv_len);

/* The private key of the node on the direct path (or the leaf) given the
 * node's path secret: node key pair = DeriveKeyPair(DeriveSecret(
 * path_secret, "node")) (§7.4); its public key must be the tree's
 * (MLS_ERR_PATH_KEY_MISMATCH, MLS_ERR_BLANK_NODE, MLS_ERR_INVALID_ARG for a
 * node off the direct path). */
int mls_tree_priv_set_path_secret(struct mls_tree_priv *p,
				  const struct mls_tree *t, uint32_t node,
				  const uint8_t *path_secret, size_t len);
/*
 * §12.4.3.1 joining by Welcome: path_secret is for the lowest common
 * ancestor of this leaf and the committer's leaf (sender); the secrets of
 * the non-blank ancestors above it, which are the rest of the committer's
 * filtered direct path, follow by DeriveSecret(., "path"). Every derived
 * public key must be the tree's (MLS_ERR_PATH_KEY_MISMATCH). On failure
 * *p is unchanged.
 */
int mls_tree_priv_join(struct mls_tree_priv *p, const struct mls_tree *t,
		       uint32_t sender, const uint8_t *path_secret,
		       size_t len);
/* Every private key's public key is in the tree at its node (the leaf's at
 * the leaf): 0, or MLS_ERR_PATH_KEY_MISMATCH. */
int mls_tree_priv_check(const struct mls_tree_priv *p,
			const struct mls_tree *t);
/* Wipe the path keys whose node no longer holds their public key (blanked
 * or replaced by proposals), keeping the view minimal (§7.5). */
void mls_tree_priv_prune(struct mls_tree_priv *p, const struct mls_tree *t);

/* Persist and restore (secrets included: the caller encrypts the
 * result). */
int mls_tree_priv_encode(const struct mls_tree_priv *p, struct bw_writer *w);
int mls_tree_priv_decode(const struct mls_suite *s, struct bw_reader *r,
			 struct mls_tree_priv **out);

/* ---- creating an UpdatePath ---- */

/*
 * Step one for the committer at leaf (blank, or one past the end, for an
 * external joiner): a fresh leaf secret (leaf_secret: NULL for random; a
 * value of s->hash_len bytes only in tests), the leaf key pair from
 * DeriveSecret(leaf_secret, "node") and path_secret[0] =
 * DeriveSecret(leaf_secret, "path"), then one path secret and key pair per
 * node of the filtered direct path (§7.4), merged into the tree
 * (mls_tree_merge_path). The new LeafNode is a copy of templ with source
 * commit, the new encryption key and the parent hash, signed as
 * LeafNodeTBS for group_id and leaf with sig_priv; templ supplies
 * signature_key, credential, capabilities and extensions. The tree holds
 * the new path and leaf when this returns 0; on failure it is unchanged.
 */
int mls_treekem_create(struct mls_tree *t, uint32_t leaf,
		       const struct mls_leaf_node *templ,
		       const uint8_t *sig_priv, size_t sig_priv_len,
		       const uint8_t *group_id, size_t group_id_len,
		       const uint8_t *leaf_secret,
		       struct mls_treekem_update **out);
/*
 * Step two: the UpdatePath, each path secret encrypted with
 * EncryptWithLabel(pk, "UpdatePathNode", group_context, path_secret) to
 * every node of the resolution of the corresponding copath child, leaving
 * out the leaves joiners[0..n_joiners) added by the same commit (§7.6).
 * group_context is the serialised provisional GroupContext. *out is
 * replaced.
 */
int mls_treekem_encrypt(const struct mls_treekem_update *u,
			const struct mls_tree *t, const uint32_t *joiners,
			size_t n_joiners, const uint8_t *group_context,
			size_t group_context_len, struct mls_update_path *out);

/* ---- applying a received UpdatePath ---- */

/*
 * Step one for every other member: §12.4.2's checks that concern TreeKEM,
 * then the merge. The path's leaf must have source commit
 * (MLS_ERR_LEAF_NODE) and an encryption key different from the sender's
 * current one; no key of the path may be in the tree already
 * (MLS_ERR_DUPLICATE_KEY); one node per node of the filtered direct path
 * (MLS_ERR_PATH) with keys of the suite's KEM (MLS_ERR_BAD_KEY); the leaf's
 * parent_hash must equal the one the merge computes (MLS_ERR_PARENT_HASH).
 * The leaf is then set at sender (blank or one past the end for an external
 * commit). Validating the LeafNode itself (signature, credential,
 * capabilities: mls_leaf_node_validate, mls_tree_leaf_compatible) is the
 * caller's. On failure the tree is unchanged.
 */
int mls_treekem_merge(struct mls_tree *t, uint32_t sender,
		      const struct mls_update_path *path);
/*
 * Step two: find the copath node above this member, the ciphertext for the
 * resolution node whose private key it holds (the resolution computed
 * without the joiners, as the sender did), decrypt the path secret
 * (MLS_ERR_AEAD if it does not open, MLS_ERR_PATH_NO_KEY if the member
 * holds no key for it), derive the rest of the path and check each derived
 * public key against the tree (MLS_ERR_PATH_KEY_MISMATCH). The tree must
 * hold the merged path. *out receives the result; priv is not changed.
 */
int mls_treekem_decrypt(const struct mls_tree *t,
			const struct mls_tree_priv *priv, uint32_t sender,
			const struct mls_update_path *path,
			const uint32_t *joiners, size_t n_joiners,
			const uint8_t *group_context, size_t group_context_len,
			struct mls_treekem_update **out);

/* ---- results ---- */

/* commit_secret = DeriveSecret(last path secret, "path") (§12.4.2),
 * s->hash_len bytes, owned by u. The chain starts at the leaf secret, so
 * for an empty filtered direct path it is DeriveSecret(leaf_secret,
 * "path"). */
const uint8_t *mls_treekem_commit_secret(const struct mls_treekem_update *u);
/* The path secret of the lowest common ancestor of the sender and leaf:
 * what a Welcome gives a joiner at leaf (§12.4.3.1), and what a member at
 * leaf decrypted. MLS_ERR_INVALID_ARG if this update does not know it. */
int mls_treekem_path_secret(const struct mls_treekem_update *u,
			    uint32_t leaf, struct bw_bytes *out);
/* Install the new private keys: the sender's new leaf key (committer) and
 * every derived node key, dropping keys of nodes the path replaced. priv
 * must be for the same leaf as u when u is the committer's. */
int mls_treekem_apply(const struct mls_treekem_update *u,
		      struct mls_tree_priv *priv);
/* Wipes every secret. NULL is a no-op. */
void mls_treekem_update_free(struct mls_treekem_update *u);

#endif

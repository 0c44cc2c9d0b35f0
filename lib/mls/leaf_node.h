/*
 * leaf_node.h - creating, signing and validating LeafNodes (RFC 9420 §7.2,
 * §7.3).
 *
 * A LeafNode is created by filling a struct mls_leaf_node (messages.h) and
 * signing it with mls_leaf_node_sign(); the signature covers LeafNodeTBS,
 * which binds leaves of the update and commit sources to the group id and
 * the leaf index (§7.2). TreeKEM builds the commit-source leaf of an
 * UpdatePath itself (treekem.h); KeyPackages build theirs (key_package.h).
 *
 * mls_leaf_node_validate() performs the checks of §7.3 that concern one
 * leaf. The checks that need the whole group are the tree's:
 * uniqueness of encryption and signature keys (mls_tree_add_leaf and
 * friends refuse duplicates) and credential-type compatibility with the
 * other members (mls_tree_leaf_compatible). The joiner's validation of a
 * whole tree, mls_tree_validate(), runs all of them.
 *
 *   struct mls_leaf_policy pol = {
 *           .group_extensions = &gc->extensions,
 *           .check_lifetime = true, .now = time(NULL),
 *           .max_lifetime = 90 * 86400,
 *           .accept = accept_org, .accept_arg = org,
 *   };
 *   rc = mls_leaf_node_validate(suite, &update->leaf_node,
 *                               MLS_LEAF_SOURCE_UPDATE, gid, gid_len,
 *                               sender, &pol);
 */
#ifndef MLS_LEAF_NODE_H
#define MLS_LEAF_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "credential.h"
#include "crypto.h"
#include "messages.h"

/* What a group requires of a LeafNode besides its own consistency. */
struct mls_leaf_policy {
	/* The GroupContext extensions, or NULL for none: a
	 * required_capabilities extension must be met (§11.1), and every
	 * non-default extension type in use by the group must be listed in
	 * the leaf's capabilities (§12.1.7). */
	const struct mls_extension_list *group_extensions;
	/* §7.3 lifetime of key_package-source leaves: now must lie within
	 * [not_before, not_after] when check_lifetime is set. A leaf being
	 * sent MUST be checked; a received one SHOULD be. */
	bool check_lifetime;
	uint64_t now; /* seconds since the Unix epoch */
	/* The longest not_after - not_before the application accepts for a
	 * key_package-source leaf (§7.2 "Applications MUST define a maximum
	 * total lifetime"); 0 accepts any. */
	uint64_t max_lifetime;
	/* The Authentication Service's verdict (credential.h); required. */
	mls_credential_fn accept;
	void *accept_arg;
};

/* Proposal and extension types every client implements (§7.2): they are
 * never listed in capabilities and need no support check. */
bool mls_proposal_type_is_default(uint16_t type);
bool mls_extension_type_is_default(uint16_t type);

/* Capabilities a libmls client advertises for a suite: version mls10, the
 * suite, both credential types, and one random GREASE value (§13.5) in each
 * list that allows one. *out is replaced. */
int mls_capabilities_init_default(struct mls_capabilities *out,
				  uint16_t suite);

/* Deep copies; on failure *dst is left cleared. */
int mls_capabilities_copy(struct mls_capabilities *dst,
			  const struct mls_capabilities *src);
int mls_extension_list_copy(struct mls_extension_list *dst,
			    const struct mls_extension_list *src);
int mls_leaf_node_copy(struct mls_leaf_node *dst,
		       const struct mls_leaf_node *src);
/* Encoding equality (what §12.4.3.1 means by an "identical" LeafNode). */
bool mls_leaf_node_equal(const struct mls_leaf_node *a,
			 const struct mls_leaf_node *b);

/* key is a public key of the suite's KEM: Npk bytes and, for P-256, a
 * point on the curve (RFC 9180 §7.1.4). 0 or MLS_ERR_BAD_KEY. */
int mls_hpke_public_key_check(const struct mls_suite *s, const uint8_t *key,
			      size_t len);

/* The shape alone: Npk bytes, and an uncompressed point for P-256. */
int mls_hpke_public_key_shape_check(const struct mls_suite *s,
				    const uint8_t *key, size_t len);

/* ln->signature = SignWithLabel(sig_priv, "LeafNodeTBS", LeafNodeTBS).
 * group_id and leaf_index are used for the update and commit sources and
 * ignored for key_package. */
int mls_leaf_node_sign(const struct mls_suite *s, struct mls_leaf_node *ln,
		       const uint8_t *sig_priv, size_t sig_priv_len,
		       const uint8_t *group_id, size_t group_id_len,
		       uint32_t leaf_index);
/* The signature alone, with ln->signature_key: 0, MLS_ERR_SIGNATURE, or
 * MLS_ERR_BAD_KEY for an unusable key. */
int mls_leaf_node_verify(const struct mls_suite *s,
			 const struct mls_leaf_node *ln,
			 const uint8_t *group_id, size_t group_id_len,
			 uint32_t leaf_index);

/*
 * §7.3 for one leaf, in this order, each failure with its own code:
 *   source: equals expected_source unless that is 0 (MLS_ERR_LEAF_NODE);
 *   keys: encryption_key is a public key of the suite's KEM and
 *     signature_key of its signature scheme (MLS_ERR_BAD_KEY);
 *   capabilities: list version mls10, the suite, the credential's type,
 *     every non-default extension type of the leaf and of the group, and
 *     the group's required capabilities (MLS_ERR_CAPABILITIES);
 *   lifetime of a key_package leaf: not_before <= not_after, within
 *     max_lifetime, and containing now if checked (MLS_ERR_LIFETIME);
 *   credential (mls_credential_validate: MLS_ERR_CREDENTIAL);
 *   signature (MLS_ERR_SIGNATURE).
 * The cheap checks run before the signature so that junk costs little.
 */
int mls_leaf_node_validate(const struct mls_suite *s,
			   const struct mls_leaf_node *ln,
			   uint8_t expected_source, const uint8_t *group_id,
			   size_t group_id_len, uint32_t leaf_index,
			   const struct mls_leaf_policy *pol);

/*
 * The same for a leaf of a tree being joined (any source), except that
 * the encryption key's shape is checked but not its point: members
 * checked it when the leaf arrived (mls_leaf_node_validate), and HPKE
 * validates every key before using it (hpke.h), so a bad one can only make
 * a later encryption fail. This saves a point decode per leaf for P-256,
 * a third of the join cost on top of the signatures.
 */
int mls_leaf_node_validate_in_tree(const struct mls_suite *s,
				   const struct mls_leaf_node *ln,
				   const uint8_t *group_id,
				   size_t group_id_len, uint32_t leaf_index,
				   const struct mls_leaf_policy *pol);

/* The capability checks alone (MLS_ERR_CAPABILITIES), for callers that
 * re-check a leaf against changed group extensions (§12.1.7). */
int mls_leaf_node_check_capabilities(const struct mls_suite *s,
				     const struct mls_leaf_node *ln,
				     const struct mls_extension_list *group_ext);

#endif

/*
 * key_package.h - creating, validating and referencing KeyPackages
 * (RFC 9420 §10, §5.2).
 *
 * A KeyPackage carries a fresh init_key (for the Welcome) and the LeafNode
 * (source key_package) its owner will occupy. Creation generates both HPKE
 * key pairs and hands the private keys to the caller, who keeps them until
 * the KeyPackage is used or expires; they are secrets (wiped on clear).
 *
 *   struct mls_key_package_params p = {
 *           .credential = &cred,
 *           .lifetime = { now - 3600, now + 30 * 86400 },
 *   };
 *   struct mls_key_package kp;
 *   struct mls_key_package_secrets ks;
 *   rc = mls_key_package_create(suite, &p, sig_priv, sig_priv_len, &kp, &ks);
 *   rc = mls_key_package_ref(suite, &kp, ref);      // KeyPackageRef
 *   ...
 *   mls_key_package_secrets_clear(&ks);
 *   mls_key_package_clear(&kp);
 */
#ifndef MLS_KEY_PACKAGE_H
#define MLS_KEY_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"
#include "leaf_node.h"
#include "messages.h"

struct mls_key_package_params {
	const struct mls_credential *credential; /* required */
	/* NULL: mls_capabilities_init_default(). */
	const struct mls_capabilities *capabilities;
	struct mls_lifetime lifetime;
	/* NULL for none. Non-default types must be in the capabilities. */
	const struct mls_extension_list *leaf_extensions;
	const struct mls_extension_list *extensions;
};

/* The private halves of a KeyPackage's init_key and encryption_key. */
struct mls_key_package_secrets {
	struct bw_bytes init_priv;
	struct bw_bytes encryption_priv;
};

void mls_key_package_secrets_clear(struct mls_key_package_secrets *ks);

/*
 * A signed KeyPackage for suite s: fresh init and encryption key pairs
 * (distinct by construction), the leaf signed as LeafNodeTBS and the whole
 * as KeyPackageTBS with sig_priv, whose public key becomes the leaf's
 * signature_key. The result passes mls_key_package_validate(). On failure
 * *out and *secrets are left cleared.
 */
int mls_key_package_create(const struct mls_suite *s,
			   const struct mls_key_package_params *p,
			   const uint8_t *sig_priv, size_t sig_priv_len,
			   struct mls_key_package *out,
			   struct mls_key_package_secrets *secrets);

/*
 * §10.1: version mls10 (MLS_ERR_VERSION) and the suite s
 * (MLS_ERR_UNSUPPORTED_SUITE); init_key a valid KEM public key
 * (MLS_ERR_BAD_KEY) different from leaf_node.encryption_key
 * (MLS_ERR_KEY_PACKAGE); non-default KeyPackage extension types listed in
 * the leaf's capabilities (MLS_ERR_CAPABILITIES); the leaf valid as a
 * key_package leaf (mls_leaf_node_validate and its errors); the
 * KeyPackage signature (MLS_ERR_SIGNATURE).
 */
int mls_key_package_validate(const struct mls_suite *s,
			     const struct mls_key_package *kp,
			     const struct mls_leaf_policy *pol);

/* §5.2 KeyPackageRef = RefHash("MLS 1.0 KeyPackage Reference", kp);
 * out receives s->hash_len bytes. */
int mls_key_package_ref(const struct mls_suite *s,
			const struct mls_key_package *kp, uint8_t *out);

#endif

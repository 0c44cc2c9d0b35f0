/*
 * key_package.c - KeyPackages (RFC 9420 §10): creation, §10.1 validation
 * and KeyPackageRef (§5.2).
 */
#include "key_package.h"

#include <string.h>

#include "hpke.h"

void mls_key_package_secrets_clear(struct mls_key_package_secrets *ks)
{
	bw_bytes_clear(&ks->init_priv);
	bw_bytes_clear(&ks->encryption_priv);
}

/* The LeafNode of a new KeyPackage, unsigned: copies of the parameters
 * and the fresh keys. */
static int leaf_fill(const struct mls_suite *s,
		     const struct mls_key_package_params *p,
		     struct mls_leaf_node *ln)
{
	int rc;

	ln->source = MLS_LEAF_SOURCE_KEY_PACKAGE;
	ln->lifetime = p->lifetime;
	if ((rc = mls_credential_copy(&ln->credential, p->credential)) != 0)
		return rc;
	rc = p->capabilities != NULL
		     ? mls_capabilities_copy(&ln->capabilities, p->capabilities)
		     : mls_capabilities_init_default(&ln->capabilities, s->id);
	if (rc == 0 && p->leaf_extensions != NULL)
		rc = mls_extension_list_copy(&ln->extensions,
					     p->leaf_extensions);
	return rc;
}

/* KeyPackageTBS signed into kp->signature. */
static int key_package_sign(const struct mls_suite *s,
			    struct mls_key_package *kp, const uint8_t *sig_priv,
			    size_t sig_priv_len)
{
	struct bw_bytes sig = { 0 };
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((rc = mls_key_package_tbs_encode(kp, &w)) == 0 &&
	    (rc = mls_sign_with_label(s, sig_priv, sig_priv_len,
				      "KeyPackageTBS", w.buf, w.len, &sig)) ==
		    0)
		bw_bytes_move(&kp->signature, &sig);
	bw_writer_free(&w);
	return rc;
}

int mls_key_package_create(const struct mls_suite *s,
			   const struct mls_key_package_params *p,
			   const uint8_t *sig_priv, size_t sig_priv_len,
			   struct mls_key_package *out,
			   struct mls_key_package_secrets *secrets)
{
	struct mls_key_package kp = { 0 };
	struct mls_key_package_secrets ks = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	memset(secrets, 0, sizeof(*secrets));
	if (p->credential == NULL)
		return MLS_ERR_INVALID_ARG;
	kp.version = MLS_PROTOCOL_VERSION_MLS10;
	kp.cipher_suite = s->id;
	if ((rc = hpke_generate_keypair(s->kem_id, &ks.init_priv,
					&kp.init_key)) != 0 ||
	    (rc = hpke_generate_keypair(s->kem_id, &ks.encryption_priv,
					&kp.leaf_node.encryption_key)) != 0 ||
	    (rc = mls_sig_public(s, sig_priv, sig_priv_len,
				 &kp.leaf_node.signature_key)) != 0 ||
	    (rc = leaf_fill(s, p, &kp.leaf_node)) != 0)
		goto out;
	if (p->extensions != NULL &&
	    (rc = mls_extension_list_copy(&kp.extensions, p->extensions)) != 0)
		goto out;
	/* §10: two independent fresh keys collide only if the DRBG fails. */
	if (bw_bytes_eq(&kp.init_key, kp.leaf_node.encryption_key.p,
			kp.leaf_node.encryption_key.len)) {
		rc = MLS_ERR_CRYPTO;
		goto out;
	}
	if ((rc = mls_leaf_node_sign(s, &kp.leaf_node, sig_priv, sig_priv_len,
				     NULL, 0, 0)) != 0 ||
	    (rc = key_package_sign(s, &kp, sig_priv, sig_priv_len)) != 0)
		goto out;
	*out = kp;
	memset(&kp, 0, sizeof(kp)); /* transferred */
	*secrets = ks;
	memset(&ks, 0, sizeof(ks)); /* transferred */
out:
	mls_key_package_clear(&kp);
	mls_key_package_secrets_clear(&ks);
	return rc;
}

/* KeyPackage extensions of non-default types are in the capabilities. */
static int extensions_listed(const struct mls_key_package *kp)
{
	const struct mls_extension_list *l = &kp->extensions;

	for (size_t i = 0; i < l->n; i++)
		if (!mls_extension_type_is_default(l->v[i].type) &&
		    !mls_u16_list_contains(&kp->leaf_node.capabilities.extensions,
					   l->v[i].type))
			return MLS_ERR_CAPABILITIES;
	return 0;
}

static int key_package_verify(const struct mls_suite *s,
			      const struct mls_key_package *kp)
{
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((rc = mls_key_package_tbs_encode(kp, &w)) == 0)
		rc = mls_verify_with_label(s, kp->leaf_node.signature_key.p,
					   kp->leaf_node.signature_key.len,
					   "KeyPackageTBS", w.buf, w.len,
					   kp->signature.p, kp->signature.len);
	bw_writer_free(&w);
	return rc;
}

int mls_key_package_validate(const struct mls_suite *s,
			     const struct mls_key_package *kp,
			     const struct mls_leaf_policy *pol)
{
	int rc;

	if (kp->version != MLS_PROTOCOL_VERSION_MLS10)
		return MLS_ERR_VERSION;
	if (kp->cipher_suite != s->id)
		return MLS_ERR_UNSUPPORTED_SUITE;
	if ((rc = mls_hpke_public_key_check(s, kp->init_key.p,
					    kp->init_key.len)) != 0)
		return rc;
	if (bw_bytes_eq(&kp->init_key, kp->leaf_node.encryption_key.p,
			kp->leaf_node.encryption_key.len))
		return MLS_ERR_KEY_PACKAGE;
	if ((rc = extensions_listed(kp)) != 0 ||
	    (rc = mls_leaf_node_validate(s, &kp->leaf_node,
					 MLS_LEAF_SOURCE_KEY_PACKAGE, NULL, 0,
					 0, pol)) != 0)
		return rc;
	return key_package_verify(s, kp);
}

int mls_key_package_ref(const struct mls_suite *s,
			const struct mls_key_package *kp, uint8_t *out)
{
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((rc = mls_key_package_encode(kp, &w)) == 0)
		rc = mls_make_key_package_ref(s, w.buf, w.len, out);
	bw_writer_free(&w);
	return rc;
}

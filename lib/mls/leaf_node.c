/*
 * leaf_node.c - LeafNode signing and validation (RFC 9420 §7.2, §7.3),
 * capabilities, and the copies a tree or KeyPackage needs.
 */
#include "leaf_node.h"

#include <stdlib.h>
#include <string.h>

#include "hpke.h"

#define ED25519_KEY_LEN 32

/* §13.5: the values reserved for GREASE in every registry. */
static const uint16_t grease_values[] = {
	0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A, 0x5A5A, 0x6A6A, 0x7A7A,
	0x8A8A, 0x9A9A, 0xAAAA, 0xBABA, 0xCACA, 0xDADA, 0xEAEA,
};

bool mls_proposal_type_is_default(uint16_t type)
{
	return type >= MLS_PROPOSAL_ADD &&
	       type <= MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS;
}

bool mls_extension_type_is_default(uint16_t type)
{
	return type >= MLS_EXT_APPLICATION_ID &&
	       type <= MLS_EXT_EXTERNAL_SENDERS;
}

/* ---- copies: encode then decode, so a copy is canonical and owns all of
 * its memory exactly as a decoded value does ---- */

int mls_capabilities_copy(struct mls_capabilities *dst,
			  const struct mls_capabilities *src)
{
	struct bw_writer w;
	struct bw_reader r;
	int rc;

	memset(dst, 0, sizeof(*dst));
	bw_writer_init(&w, 0);
	if ((rc = mls_capabilities_encode(src, &w)) == 0) {
		bw_reader_init(&r, w.buf, w.len);
		rc = mls_capabilities_decode(&r, dst);
	}
	bw_writer_free(&w);
	return rc;
}

int mls_extension_list_copy(struct mls_extension_list *dst,
			    const struct mls_extension_list *src)
{
	struct bw_writer w;
	struct bw_reader r;
	int rc;

	memset(dst, 0, sizeof(*dst));
	bw_writer_init(&w, 0);
	if ((rc = mls_extension_list_encode(src, &w)) == 0) {
		bw_reader_init(&r, w.buf, w.len);
		rc = mls_extension_list_decode(&r, dst);
	}
	bw_writer_free(&w);
	return rc;
}

int mls_leaf_node_copy(struct mls_leaf_node *dst,
		       const struct mls_leaf_node *src)
{
	struct bw_writer w;
	struct bw_reader r;
	int rc;

	memset(dst, 0, sizeof(*dst));
	bw_writer_init(&w, 0);
	if ((rc = mls_leaf_node_encode(src, &w)) == 0) {
		bw_reader_init(&r, w.buf, w.len);
		rc = mls_leaf_node_decode(&r, dst);
	}
	bw_writer_free(&w);
	return rc;
}

bool mls_leaf_node_equal(const struct mls_leaf_node *a,
			 const struct mls_leaf_node *b)
{
	struct bw_writer wa, wb;
	bool eq;

	bw_writer_init(&wa, 0);
	bw_writer_init(&wb, 0);
	mls_leaf_node_encode(a, &wa);
	mls_leaf_node_encode(b, &wb);
	eq = wa.err == 0 && wb.err == 0 && wa.len == wb.len &&
	     memcmp(wa.buf, wb.buf, wa.len) == 0;
	bw_writer_free(&wa);
	bw_writer_free(&wb);
	return eq;
}

/* ---- capabilities ---- */

static int u16_list_set(struct mls_u16_list *l, const uint16_t *v, size_t n)
{
	uint16_t *copy = calloc(n, sizeof(*copy));

	if (copy == NULL)
		return BW_ERR_NOMEM;
	memcpy(copy, v, n * sizeof(*copy));
	mls_u16_list_clear(l);
	l->v = copy;
	l->n = n;
	return 0;
}

static int grease_value(uint16_t *out)
{
	uint8_t pick;
	int rc;

	if ((rc = mls_random(&pick, 1)) != 0)
		return rc;
	*out = grease_values[pick % (sizeof(grease_values) /
				     sizeof(grease_values[0]))];
	return 0;
}

int mls_capabilities_init_default(struct mls_capabilities *out,
				  uint16_t suite)
{
	struct mls_capabilities c = { 0 };
	const uint16_t version = MLS_PROTOCOL_VERSION_MLS10;
	uint16_t g[4];
	int rc;

	for (size_t i = 0; i < 4; i++)
		if ((rc = grease_value(&g[i])) != 0)
			return rc;
	const uint16_t suites[] = { suite, g[0] };
	const uint16_t creds[] = { MLS_CREDENTIAL_BASIC, MLS_CREDENTIAL_X509,
				   g[1] };

	if ((rc = u16_list_set(&c.versions, &version, 1)) != 0 ||
	    (rc = u16_list_set(&c.cipher_suites, suites, 2)) != 0 ||
	    (rc = u16_list_set(&c.extensions, &g[2], 1)) != 0 ||
	    (rc = u16_list_set(&c.proposals, &g[3], 1)) != 0 ||
	    (rc = u16_list_set(&c.credentials, creds, 3)) != 0) {
		mls_capabilities_clear(&c);
		return rc;
	}
	mls_capabilities_clear(out);
	*out = c;
	return 0;
}

/* Required capabilities of the group (§11.1), default types excepted. */
static int check_required(const struct mls_capabilities *caps,
			  const struct mls_extension *ext)
{
	struct mls_required_capabilities req;
	struct bw_reader r;
	int rc = 0;
	size_t i;

	bw_reader_init(&r, ext->data.p, ext->data.len);
	if (mls_required_capabilities_decode(&r, &req) != 0)
		return r.err;
	if ((rc = bw_reader_finish(&r)) != 0)
		goto out;
	for (i = 0; i < req.extension_types.n && rc == 0; i++)
		if (!mls_extension_type_is_default(req.extension_types.v[i]) &&
		    !mls_u16_list_contains(&caps->extensions,
					   req.extension_types.v[i]))
			rc = MLS_ERR_CAPABILITIES;
	for (i = 0; i < req.proposal_types.n && rc == 0; i++)
		if (!mls_proposal_type_is_default(req.proposal_types.v[i]) &&
		    !mls_u16_list_contains(&caps->proposals,
					   req.proposal_types.v[i]))
			rc = MLS_ERR_CAPABILITIES;
	for (i = 0; i < req.credential_types.n && rc == 0; i++)
		if (!mls_u16_list_contains(&caps->credentials,
					   req.credential_types.v[i]))
			rc = MLS_ERR_CAPABILITIES;
out:
	mls_required_capabilities_clear(&req);
	return rc;
}

/* Every non-default extension type of the list is listed in caps. */
static bool extensions_supported(const struct mls_capabilities *caps,
				 const struct mls_extension_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (!mls_extension_type_is_default(l->v[i].type) &&
		    !mls_u16_list_contains(&caps->extensions, l->v[i].type))
			return false;
	return true;
}

int mls_leaf_node_check_capabilities(const struct mls_suite *s,
				     const struct mls_leaf_node *ln,
				     const struct mls_extension_list *group_ext)
{
	const struct mls_capabilities *caps = &ln->capabilities;
	const struct mls_extension *req;

	if (!mls_u16_list_contains(&caps->versions,
				   MLS_PROTOCOL_VERSION_MLS10) ||
	    !mls_u16_list_contains(&caps->cipher_suites, s->id) ||
	    !mls_u16_list_contains(&caps->credentials, ln->credential.type) ||
	    !extensions_supported(caps, &ln->extensions))
		return MLS_ERR_CAPABILITIES;
	if (group_ext == NULL)
		return 0;
	/* §13.4: every GroupContext extension must be supported. */
	if (!extensions_supported(caps, group_ext))
		return MLS_ERR_CAPABILITIES;
	req = mls_extension_list_find(group_ext, MLS_EXT_REQUIRED_CAPABILITIES);
	return req != NULL ? check_required(caps, req) : 0;
}

/* ---- keys ---- */

int mls_hpke_public_key_check(const struct mls_suite *s, const uint8_t *key,
			      size_t len)
{
	EVP_PKEY *pk = NULL;
	int rc;

	if (len != hpke_kem_pk_len(s->kem_id))
		return MLS_ERR_BAD_KEY;
	if (s->kem_id != HPKE_KEM_P256_SHA256)
		return 0; /* every 32-byte string is an X25519 key */
	rc = mls_p256_pkey(key, NULL, &pk);
	EVP_PKEY_free(pk);
	return rc;
}

int mls_hpke_public_key_shape_check(const struct mls_suite *s,
				    const uint8_t *key, size_t len)
{
	if (len != hpke_kem_pk_len(s->kem_id))
		return MLS_ERR_BAD_KEY;
	/* P-256 keys are uncompressed points (RFC 9180 §7.1.1). */
	if (s->kem_id == HPKE_KEM_P256_SHA256 && key[0] != 0x04)
		return MLS_ERR_BAD_KEY;
	return 0;
}

/* The signature key has the scheme's length; its point is checked when a
 * signature is verified with it. */
static int sig_key_check(const struct mls_suite *s, size_t len)
{
	size_t want = s->sig_alg == MLS_SIG_ED25519 ? ED25519_KEY_LEN
						    : MLS_P256_POINT_LEN;

	return len == want ? 0 : MLS_ERR_BAD_KEY;
}

/* ---- signature ---- */

static int tbs_encode(const struct mls_leaf_node *ln, const uint8_t *group_id,
		      size_t group_id_len, uint32_t leaf_index,
		      struct bw_writer *w)
{
	bw_writer_init(w, 0);
	return mls_leaf_node_tbs_encode(ln, group_id, group_id_len, leaf_index,
					w);
}

int mls_leaf_node_sign(const struct mls_suite *s, struct mls_leaf_node *ln,
		       const uint8_t *sig_priv, size_t sig_priv_len,
		       const uint8_t *group_id, size_t group_id_len,
		       uint32_t leaf_index)
{
	struct bw_bytes sig = { 0 };
	struct bw_writer w;
	int rc;

	if ((rc = tbs_encode(ln, group_id, group_id_len, leaf_index, &w)) ==
		    0 &&
	    (rc = mls_sign_with_label(s, sig_priv, sig_priv_len, "LeafNodeTBS",
				      w.buf, w.len, &sig)) == 0)
		bw_bytes_move(&ln->signature, &sig);
	bw_writer_free(&w);
	return rc;
}

int mls_leaf_node_verify(const struct mls_suite *s,
			 const struct mls_leaf_node *ln,
			 const uint8_t *group_id, size_t group_id_len,
			 uint32_t leaf_index)
{
	struct bw_writer w;
	int rc;

	if ((rc = tbs_encode(ln, group_id, group_id_len, leaf_index, &w)) == 0)
		rc = mls_verify_with_label(s, ln->signature_key.p,
					   ln->signature_key.len, "LeafNodeTBS",
					   w.buf, w.len, ln->signature.p,
					   ln->signature.len);
	bw_writer_free(&w);
	return rc;
}

/* ---- validation ---- */

static int check_lifetime(const struct mls_lifetime *lt,
			  const struct mls_leaf_policy *pol)
{
	if (lt->not_before > lt->not_after)
		return MLS_ERR_LIFETIME;
	if (pol->max_lifetime != 0 &&
	    lt->not_after - lt->not_before > pol->max_lifetime)
		return MLS_ERR_LIFETIME;
	if (pol->check_lifetime &&
	    (pol->now < lt->not_before || pol->now > lt->not_after))
		return MLS_ERR_LIFETIME;
	return 0;
}

static int leaf_validate(const struct mls_suite *s,
			 const struct mls_leaf_node *ln,
			 uint8_t expected_source, const uint8_t *group_id,
			 size_t group_id_len, uint32_t leaf_index,
			 const struct mls_leaf_policy *pol, bool in_tree)
{
	const struct bw_bytes *ek = &ln->encryption_key;
	int rc;

	if (pol == NULL || pol->accept == NULL)
		return MLS_ERR_INVALID_ARG;
	if (expected_source != 0 && ln->source != expected_source)
		return MLS_ERR_LEAF_NODE;
	rc = in_tree ? mls_hpke_public_key_shape_check(s, ek->p, ek->len)
		     : mls_hpke_public_key_check(s, ek->p, ek->len);
	if (rc != 0 || (rc = sig_key_check(s, ln->signature_key.len)) != 0 ||
	    (rc = mls_leaf_node_check_capabilities(s, ln,
						   pol->group_extensions)) != 0)
		return rc;
	if (ln->source == MLS_LEAF_SOURCE_KEY_PACKAGE &&
	    (rc = check_lifetime(&ln->lifetime, pol)) != 0)
		return rc;
	if ((rc = mls_credential_validate(s, &ln->credential,
					  ln->signature_key.p,
					  ln->signature_key.len, pol->accept,
					  pol->accept_arg)) != 0)
		return rc;
	return mls_leaf_node_verify(s, ln, group_id, group_id_len, leaf_index);
}

int mls_leaf_node_validate(const struct mls_suite *s,
			   const struct mls_leaf_node *ln,
			   uint8_t expected_source, const uint8_t *group_id,
			   size_t group_id_len, uint32_t leaf_index,
			   const struct mls_leaf_policy *pol)
{
	return leaf_validate(s, ln, expected_source, group_id, group_id_len,
			     leaf_index, pol, false);
}

int mls_leaf_node_validate_in_tree(const struct mls_suite *s,
				   const struct mls_leaf_node *ln,
				   const uint8_t *group_id,
				   size_t group_id_len, uint32_t leaf_index,
				   const struct mls_leaf_policy *pol)
{
	return leaf_validate(s, ln, 0, group_id, group_id_len, leaf_index, pol,
			     true);
}

/*
 * welcome.c - GroupInfo (RFC 9420 §12.4.3), Welcome creation and joining
 * by Welcome (§12.4.3.1), with the ratchet tree from the ratchet_tree
 * extension (§12.4.3.3) or supplied out of band.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "group_internal.h"
#include "msg_internal.h"

#define GROUP_INFO_LABEL "GroupInfoTBS"
#define WELCOME_LABEL "Welcome"

/* ---- GroupInfo ---- */

static int group_context_copy(struct mls_group_context *dst,
			      const struct mls_group_context *src)
{
	struct bw_writer w;
	struct bw_reader r;
	int rc;

	/* The codec is canonical: a round trip is an exact deep copy. */
	memset(dst, 0, sizeof(*dst));
	bw_writer_init(&w, 0);
	if ((rc = mls_group_context_encode(src, &w)) == 0) {
		bw_reader_init(&r, w.buf, w.len);
		if ((rc = mls_group_context_decode(&r, dst)) == 0 &&
		    (rc = bw_reader_finish(&r)) != 0)
			mls_group_context_clear(dst);
	}
	bw_writer_free(&w);
	return rc;
}

/* ExternalPub { HPKEPublicKey external_pub; } of an epoch (§8). */
static int external_pub_ext(const struct mls_epoch_secrets *secrets,
			    struct mls_extension *x)
{
	struct bw_bytes priv = { 0 }, pub = { 0 };
	struct bw_writer w;
	int rc;

	x->type = MLS_EXT_EXTERNAL_PUB;
	bw_writer_init(&w, 0);
	if ((rc = mls_key_schedule_external_keypair(secrets, &priv, &pub)) ==
		    0 &&
	    (rc = mls_write_bytes(&w, &pub)) == 0)
		rc = bw_bytes_set(&x->data, w.buf, w.len);
	bw_bytes_clear(&priv);
	bw_bytes_clear(&pub);
	bw_writer_free(&w);
	return rc;
}

static int ratchet_tree_ext(const struct mls_tree *t, struct mls_extension *x)
{
	struct bw_writer w;
	int rc;

	x->type = MLS_EXT_RATCHET_TREE;
	bw_writer_init(&w, MLS_MAX_RATCHET_TREE_LEN);
	if ((rc = mls_tree_encode(t, &w)) == 0)
		rc = bw_writer_take(&w, &x->data.p, &x->data.len);
	bw_writer_free(&w);
	return rc;
}

static int group_info_sign(const struct mls_suite *s,
			   struct mls_group_info *gi,
			   const struct bw_bytes *priv)
{
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((rc = mls_group_info_tbs_encode(gi, &w)) == 0)
		rc = mls_sign_with_label(s, priv->p, priv->len,
					 GROUP_INFO_LABEL, w.buf, w.len,
					 &gi->signature);
	bw_writer_free(&w);
	return rc;
}

int mls_group_info_build(struct mls_group *g,
			 const struct mls_group_context *gc,
			 const struct mls_epoch_secrets *secrets,
			 const uint8_t *confirmation_tag, bool with_tree,
			 struct mls_group_info *out)
{
	const struct mls_suite *s = g->st.suite;
	struct mls_group_info gi = { 0 };
	struct mls_extension_list *ext = &gi.extensions;
	int rc;

	memset(out, 0, sizeof(*out));
	gi.signer = mls_group_leaf(g);
	if ((ext->v = calloc(2, sizeof(*ext->v))) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = group_context_copy(&gi.group_context, gc)) != 0 ||
	    (with_tree && (rc = ratchet_tree_ext(g->st.tree,
						 &ext->v[ext->n++])) != 0) ||
	    (rc = external_pub_ext(secrets, &ext->v[ext->n++])) != 0 ||
	    (rc = bw_bytes_set(&gi.confirmation_tag, confirmation_tag,
			       s->hash_len)) != 0 ||
	    (rc = group_info_sign(s, &gi, &g->sig_priv)) != 0) {
		mls_group_info_clear(&gi);
		return rc;
	}
	*out = gi;
	return 0;
}

int mls_group_group_info(struct mls_group *g, bool ratchet_tree,
			 uint8_t **out, size_t *out_len)
{
	struct mls_group_info gi;
	struct bw_writer w;
	int rc;

	*out = NULL;
	*out_len = 0;
	if (g->status != MLS_GROUP_ACTIVE)
		return MLS_ERR_GROUP_INACTIVE;
	if ((rc = mls_group_info_build(g, &g->st.gc, &g->secrets,
				       g->st.confirmation_tag, ratchet_tree,
				       &gi)) != 0)
		return rc;
	bw_writer_init(&w, 0);
	bw_write_u16(&w, MLS_PROTOCOL_VERSION_MLS10);
	bw_write_u16(&w, MLS_WIRE_FORMAT_GROUP_INFO);
	mls_group_info_encode(&gi, &w);
	rc = bw_writer_take(&w, out, out_len);
	bw_writer_free(&w);
	mls_group_info_clear(&gi);
	return rc;
}

int mls_group_info_verify_key(const struct mls_suite *s,
			      const struct mls_group_info *gi,
			      const struct bw_bytes *key)
{
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((rc = mls_group_info_tbs_encode(gi, &w)) == 0)
		rc = mls_verify_with_label(s, key->p, key->len,
					   GROUP_INFO_LABEL, w.buf, w.len,
					   gi->signature.p, gi->signature.len);
	bw_writer_free(&w);
	return rc;
}

int mls_group_info_verify(const struct mls_suite *s,
			  const struct mls_group_info *gi,
			  const struct mls_tree *t)
{
	const struct mls_leaf_node *signer;

	/* §12.4.3: the key of the signer's leaf, which must not be blank. */
	if (gi->signer >= mls_tree_n_leaves(t))
		return MLS_ERR_LEAF_INDEX;
	if ((signer = mls_tree_leaf(t, gi->signer)) == NULL)
		return MLS_ERR_BLANK_NODE;
	return mls_group_info_verify_key(s, gi, &signer->signature_key);
}

/* The tree of a GroupInfo: the caller's, or its ratchet_tree extension. */
static int group_info_tree(const struct mls_suite *s,
			   const struct mls_group_info *gi, const uint8_t *tree,
			   size_t tree_len, struct mls_tree **out)
{
	const struct mls_extension *x;

	if (tree != NULL)
		return mls_tree_decode(s, tree, tree_len, out);
	if ((x = mls_extension_list_find(&gi->extensions,
					 MLS_EXT_RATCHET_TREE)) == NULL)
		return MLS_ERR_TREE_MISSING;
	return mls_tree_decode(s, x->data.p, x->data.len, out);
}

int mls_public_state_from_group_info(struct mls_public_state *st,
				     struct mls_group_info *gi,
				     const uint8_t *tree, size_t tree_len)
{
	const struct mls_group_context *gc = &gi->group_context;
	const struct mls_suite *s = mls_suite_get(gc->cipher_suite);
	struct mls_external_senders es = { 0 };
	uint8_t interim[MLS_MAX_HASH_LEN];
	struct mls_leaf_policy pol;
	struct mls_tree *t = NULL;
	int rc;

	if (s == NULL)
		return MLS_ERR_UNSUPPORTED_SUITE;
	if (gi->confirmation_tag.len != s->hash_len)
		return MLS_ERR_CONFIRMATION_TAG;
	st->suite = s;
	mls_public_state_leaf_policy(st, &gc->extensions, false, &pol);
	/* The signature first: it is cheap next to the tree's validation
	 * (§12.4.3.1: one leaf signature per member). */
	if ((rc = group_info_tree(s, gi, tree, tree_len, &t)) != 0 ||
	    (rc = mls_group_info_verify(s, gi, t)) != 0 ||
	    (rc = mls_tree_validate(t, gc->tree_hash.p, gc->tree_hash.len,
				    gc->group_id.p, gc->group_id.len, &pol)) !=
		    0 ||
	    (rc = mls_interim_hash(s, &gc->confirmed_transcript_hash,
				   gi->confirmation_tag.p,
				   gi->confirmation_tag.len, interim)) != 0 ||
	    (rc = mls_external_senders_of(&gc->extensions, &es)) != 0)
		goto out;
	mls_public_state_install_context(st, &gi->group_context, &es);
	memcpy(st->interim, interim, s->hash_len);
	memcpy(st->confirmation_tag, gi->confirmation_tag.p, s->hash_len);
	mls_tree_free(st->tree);
	st->tree = t;
	t = NULL; /* transferred */
out:
	mls_tree_free(t);
	return rc;
}

/* ---- Welcome ---- */

/* welcome_key and welcome_nonce (§12.4.3.1). */
static int welcome_keys(const struct mls_suite *s, const uint8_t *ws,
			uint8_t *key, uint8_t *nonce)
{
	int rc;

	if ((rc = mls_expand_with_label(s, ws, s->hash_len, "key", NULL, 0, key,
					s->key_len)) != 0)
		return rc;
	return mls_expand_with_label(s, ws, s->hash_len, "nonce", NULL, 0,
				     nonce, s->nonce_len);
}

/* encrypted_group_info: the GroupInfo under the welcome key. */
static int seal_group_info(const struct mls_suite *s,
			   const struct mls_group_info *gi,
			   const uint8_t *welcome_secret, struct bw_bytes *out)
{
	uint8_t key[MLS_MAX_AEAD_KEY_LEN], nonce[MLS_MAX_AEAD_NONCE_LEN];
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, MLS_MAX_GROUP_INFO_LEN);
	if ((rc = mls_group_info_encode(gi, &w)) != 0 ||
	    (rc = welcome_keys(s, welcome_secret, key, nonce)) != 0 ||
	    (rc = bw_bytes_alloc(out, w.len + MLS_AEAD_TAG_LEN)) != 0)
		goto out;
	if ((rc = mls_aead_seal(s, key, nonce, NULL, 0, w.buf, w.len,
				out->p)) != 0)
		bw_bytes_clear(out);
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(nonce, sizeof(nonce));
	bw_writer_free(&w);
	return rc;
}

/* GroupSecrets for one joiner, encoded (§12.4.3.1). */
static int group_secrets_encode(const struct mls_commit_state *cs,
				const struct mls_epoch_secrets *secrets,
				const struct bw_bytes *path_secret,
				struct bw_writer *w)
{
	size_t mark;

	bw_write_opaque(w, secrets->joiner_secret, secrets->suite->hash_len);
	bw_write_optional(w, path_secret->len > 0);
	if (path_secret->len > 0)
		mls_write_bytes(w, path_secret);
	/* The PSKs in the order of the commit's proposals (§8.4). */
	mark = bw_write_vector_begin(w);
	for (size_t i = 0; i < cs->n; i++)
		if (cs->v[i].p->type == MLS_PROPOSAL_PSK)
			mls_pre_shared_key_id_encode(&cs->v[i].p->psk, w);
	bw_write_vector_end(w, mark);
	return w->err;
}

/* The EncryptedGroupSecrets of the joiner whose KeyPackage is kp. */
static int seal_group_secrets(const struct mls_group *g,
			      const struct mls_commit_state *cs,
			      const struct mls_epoch_secrets *secrets,
			      const struct mls_treekem_update *u,
			      const struct mls_key_package *kp, uint32_t leaf,
			      const struct bw_bytes *egi,
			      struct mls_encrypted_group_secrets *out)
{
	const struct mls_suite *s = g->st.suite;
	struct bw_bytes path_secret = { 0 };
	uint8_t ref[MLS_MAX_HASH_LEN];
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((u != NULL &&
	     (rc = mls_treekem_path_secret(u, leaf, &path_secret)) != 0) ||
	    (rc = group_secrets_encode(cs, secrets, &path_secret, &w)) != 0 ||
	    (rc = mls_key_package_ref(s, kp, ref)) != 0 ||
	    (rc = bw_bytes_set(&out->new_member, ref, s->hash_len)) != 0)
		goto out;
	rc = mls_encrypt_with_label(
		s, kp->init_key.p, kp->init_key.len, WELCOME_LABEL, egi->p,
		egi->len, w.buf, w.len,
		&out->encrypted_group_secrets.kem_output,
		&out->encrypted_group_secrets.ciphertext);
out:
	bw_bytes_clear(&path_secret);
	bw_writer_free(&w);
	return rc;
}

int mls_welcome_build(const struct mls_group *g,
		      const struct mls_commit_state *cs,
		      const struct mls_group_info *gi,
		      const struct mls_epoch_secrets *secrets,
		      const struct mls_treekem_update *u, struct bw_writer *w)
{
	struct mls_welcome wl = { 0 };
	size_t k = 0;
	int rc;

	wl.cipher_suite = g->st.suite->id;
	if ((wl.secrets = calloc(cs->n_joiners, sizeof(*wl.secrets))) == NULL)
		return BW_ERR_NOMEM;
	wl.n_secrets = cs->n_joiners;
	if ((rc = seal_group_info(g->st.suite, gi, secrets->welcome_secret,
				  &wl.encrypted_group_info)) != 0)
		goto out;
	/* The joiners are the Adds' leaves, in the Adds' order. */
	for (size_t i = 0; i < cs->n && rc == 0; i++)
		if (cs->v[i].p->type == MLS_PROPOSAL_ADD) {
			rc = seal_group_secrets(g, cs, secrets, u,
						&cs->v[i].p->add,
						cs->joiners[k],
						&wl.encrypted_group_info,
						&wl.secrets[k]);
			k++;
		}
	if (rc != 0)
		goto out;
	bw_write_u16(w, MLS_PROTOCOL_VERSION_MLS10);
	bw_write_u16(w, MLS_WIRE_FORMAT_WELCOME);
	rc = mls_welcome_encode(&wl, w);
out:
	mls_welcome_clear(&wl);
	return rc;
}

/* ---- joining (§12.4.3.1) ---- */

/* The bundle and the entry of the Welcome meant for it. */
static int find_entry(const struct mls_welcome *wl,
		      const struct mls_key_package_bundle *const *bundles,
		      size_t n, const struct mls_key_package_bundle **b,
		      const struct mls_encrypted_group_secrets **e)
{
	for (size_t i = 0; i < n; i++) {
		if (bundles[i]->suite->id != wl->cipher_suite)
			continue;
		for (size_t j = 0; j < wl->n_secrets; j++)
			if (wl->secrets[j].new_member.len ==
				    bundles[i]->suite->hash_len &&
			    memcmp(wl->secrets[j].new_member.p, bundles[i]->ref,
				   bundles[i]->suite->hash_len) == 0) {
				*b = bundles[i];
				*e = &wl->secrets[j];
				return 0;
			}
	}
	return MLS_ERR_WELCOME_NO_MATCH;
}

int mls_welcome_open_secrets(const struct mls_suite *s,
			     const struct mls_welcome *wl,
			     const struct mls_encrypted_group_secrets *e,
			     const struct bw_bytes *init_priv,
			     struct mls_group_secrets *out)
{
	const struct mls_hpke_ciphertext *ct = &e->encrypted_group_secrets;
	struct bw_bytes pt = { 0 };
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = mls_decrypt_with_label(
		     s, init_priv->p, init_priv->len, WELCOME_LABEL,
		     wl->encrypted_group_info.p,
		     wl->encrypted_group_info.len, ct->kem_output.p,
		     ct->kem_output.len, ct->ciphertext.p, ct->ciphertext.len,
		     &pt)) != 0)
		return rc;
	bw_reader_init(&r, pt.p, pt.len);
	if ((rc = mls_group_secrets_decode(&r, out)) == 0 &&
	    (rc = bw_reader_finish(&r)) != 0)
		mls_group_secrets_clear(out);
	bw_bytes_clear(&pt);
	return rc;
}

/* §12.4.3.1: at most one PSK of usage reinit or branch; *special is
 * whether there is one. */
static int check_welcome_psks(const struct mls_group_secrets *gs,
			      bool *special)
{
	size_t n = 0;

	for (size_t i = 0; i < gs->n_psks; i++)
		if (gs->psks[i].psktype == MLS_PSK_RESUMPTION &&
		    gs->psks[i].usage != MLS_PSK_USAGE_APPLICATION)
			n++;
	*special = n > 0;
	return n > 1 ? MLS_ERR_WELCOME_PSK : 0;
}

/* psk_secret of the Welcome's PSKs; old (the group a reinitialised one
 * continues, or NULL) answers its own resumption PSKs. */
static int welcome_psk_secret(const struct mls_suite *s,
			      const struct mls_config *cfg,
			      const struct mls_group *old,
			      const struct mls_group_secrets *gs, uint8_t *out)
{
	const struct mls_pre_shared_key_id **ids = NULL;
	int rc;

	if (gs->n_psks > 0 &&
	    (ids = calloc(gs->n_psks, sizeof(*ids))) == NULL)
		return BW_ERR_NOMEM;
	for (size_t i = 0; i < gs->n_psks; i++)
		ids[i] = &gs->psks[i];
	rc = mls_psk_secret_of(s, cfg, old, ids, gs->n_psks, out);
	free(ids);
	return rc;
}

int mls_welcome_open_group_info(const struct mls_suite *s,
				const struct mls_welcome *wl,
				const uint8_t *welcome_secret,
				struct mls_group_info *out)
{
	uint8_t key[MLS_MAX_AEAD_KEY_LEN], nonce[MLS_MAX_AEAD_NONCE_LEN];
	const struct bw_bytes *egi = &wl->encrypted_group_info;
	struct bw_bytes pt = { 0 };
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if (egi->len < MLS_AEAD_TAG_LEN)
		return MLS_ERR_AEAD;
	if ((rc = welcome_keys(s, welcome_secret, key, nonce)) != 0 ||
	    (rc = bw_bytes_alloc(&pt, egi->len - MLS_AEAD_TAG_LEN)) != 0 ||
	    (rc = mls_aead_open(s, key, nonce, NULL, 0, egi->p, egi->len,
				pt.p)) != 0)
		goto out;
	bw_reader_init(&r, pt.p, pt.len);
	if ((rc = mls_group_info_decode(&r, out)) == 0 &&
	    (rc = bw_reader_finish(&r)) != 0)
		mls_group_info_clear(out);
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(nonce, sizeof(nonce));
	bw_bytes_clear(&pt);
	return rc;
}

/* What the Welcome gives a joiner before the group object exists. */
struct welcome_open {
	const struct mls_key_package_bundle *b;
	struct mls_group_secrets gs;
	struct mls_group_info gi;
	uint8_t psk_secret[MLS_MAX_HASH_LEN];
	bool special_psk; /* a reinit or branch PSK */
};

static void welcome_open_clear(struct welcome_open *wo)
{
	mls_group_secrets_clear(&wo->gs);
	mls_group_info_clear(&wo->gi);
	OPENSSL_cleanse(wo->psk_secret, sizeof(wo->psk_secret));
}

/* Decrypt the Welcome meant for one of bundles: its GroupSecrets, PSKs and
 * GroupInfo. */
static int welcome_open(const struct mls_config *cfg,
			const struct mls_group *old,
			const struct mls_key_package_bundle *const *bundles,
			size_t n, const uint8_t *p, size_t len,
			struct welcome_open *wo)
{
	const struct mls_encrypted_group_secrets *e = NULL;
	uint8_t ws[MLS_MAX_HASH_LEN];
	const struct mls_suite *s;
	struct mls_message m;
	int rc;

	if ((rc = mls_message_decode(p, len, &m)) != 0)
		return rc;
	if (m.wire_format != MLS_WIRE_FORMAT_WELCOME) {
		rc = MLS_ERR_WIRE_FORMAT;
		goto out;
	}
	if ((s = mls_suite_get(m.welcome.cipher_suite)) == NULL) {
		rc = MLS_ERR_UNSUPPORTED_SUITE;
		goto out;
	}
	if ((rc = find_entry(&m.welcome, bundles, n, &wo->b, &e)) != 0 ||
	    (rc = mls_welcome_open_secrets(s, &m.welcome, e,
					   &wo->b->secrets.init_priv,
					   &wo->gs)) != 0 ||
	    (rc = check_welcome_psks(&wo->gs, &wo->special_psk)) != 0)
		goto out;
	/* A reinit or branch Welcome only with its old group, and the other
	 * way round. */
	if (wo->special_psk != (old != NULL)) {
		rc = MLS_ERR_WELCOME_PSK;
		goto out;
	}
	if ((rc = welcome_psk_secret(s, cfg, old, &wo->gs, wo->psk_secret)) !=
		    0 ||
	    (rc = mls_welcome_secret(s, wo->gs.joiner_secret.p,
				     wo->gs.joiner_secret.len, wo->psk_secret,
				     ws)) != 0 ||
	    (rc = mls_welcome_open_group_info(s, &m.welcome, ws, &wo->gi)) != 0)
		goto out;
	/* §12.4.3.1: the group's suite is the KeyPackage's. */
	if (wo->gi.group_context.cipher_suite != s->id)
		rc = MLS_ERR_SUITE_MISMATCH;
out:
	OPENSSL_cleanse(ws, sizeof(ws));
	mls_message_clear(&m);
	return rc;
}

/* This member's keys: its leaf's, and those the path secret gives on the
 * path it shares with the committer (the GroupInfo's signer). */
static int join_keys(struct mls_group *g, const struct welcome_open *wo,
		     uint32_t signer)
{
	const struct mls_key_package_bundle *b = wo->b;
	const struct bw_bytes *ps = &wo->gs.path_secret;
	uint32_t leaf;
	int rc;

	if (!mls_tree_find_leaf(g->st.tree, &b->kp.leaf_node, &leaf))
		return MLS_ERR_WELCOME_NO_MATCH;
	if ((rc = mls_tree_priv_new(b->suite, leaf,
				    b->secrets.encryption_priv.p,
				    b->secrets.encryption_priv.len,
				    &g->priv)) != 0)
		return rc;
	if (wo->gs.has_path_secret &&
	    (rc = mls_tree_priv_join(g->priv, g->st.tree, signer, ps->p,
				     ps->len)) != 0)
		return rc;
	return bw_bytes_set(&g->sig_priv, b->sig_priv.p, b->sig_priv.len);
}

/* The epoch's secrets from the joiner secret, checked by the GroupInfo's
 * confirmation tag. */
static int join_secrets(struct mls_group *g, const struct welcome_open *wo)
{
	const struct mls_suite *s = g->st.suite;
	const struct bw_bytes *confirmed = &g->st.gc.confirmed_transcript_hash;
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((rc = mls_group_context_encode(&g->st.gc, &w)) != 0 ||
	    (rc = mls_key_schedule_join(s, wo->gs.joiner_secret.p,
					wo->gs.joiner_secret.len,
					wo->psk_secret, w.buf, w.len,
					&g->secrets)) != 0)
		goto out;
	rc = mls_hmac_verify(s, g->secrets.confirmation_key, s->hash_len,
			     confirmed->p, confirmed->len,
			     g->st.confirmation_tag, s->hash_len);
	if (rc == MLS_ERR_MAC)
		rc = MLS_ERR_CONFIRMATION_TAG;
out:
	bw_writer_free(&w);
	return rc;
}

/* The extensions of two lists are the same, in the same order. */
static bool same_extensions(const struct mls_extension_list *a,
			    const struct mls_extension_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].type != b->v[i].type ||
		    !mls_bytes_equal(&a->v[i].data, &b->v[i].data))
			return false;
	return true;
}

/* §12.4.3.1 for a group that continues old: the Welcome's reinit PSK is
 * old's last epoch's, and the group is the one old's ReInit asked for. */
static int check_reinit(const struct mls_group *old,
			const struct mls_group_secrets *gs,
			const struct mls_group_context *gc)
{
	const struct mls_pre_shared_key_id *id = NULL;
	const struct mls_reinit *ri = old->reinit;

	for (size_t i = 0; i < gs->n_psks; i++)
		if (gs->psks[i].psktype == MLS_PSK_RESUMPTION &&
		    gs->psks[i].usage != MLS_PSK_USAGE_APPLICATION)
			id = &gs->psks[i];
	if (id == NULL || id->usage != MLS_PSK_USAGE_REINIT ||
	    !mls_bytes_equal(&id->psk_group_id, &old->st.gc.group_id) ||
	    id->psk_epoch != old->st.gc.epoch ||
	    !mls_bytes_equal(&gc->group_id, &ri->group_id) ||
	    gc->version != ri->version || gc->cipher_suite != ri->cipher_suite ||
	    !same_extensions(&gc->extensions, &ri->extensions))
		return MLS_ERR_WELCOME_PSK;
	return 0;
}

/* Join from a Welcome; old is the group a reinitialised one continues
 * (then the Welcome must be its successor's) or NULL. A Welcome with a
 * reinit or branch PSK needs its old group: the checks of §12.4.3.1 are
 * made against it. */
static int join(const struct mls_config *cfg, const struct mls_group *old,
		const struct mls_key_package_bundle *const *bundles,
		size_t n_bundles, const uint8_t *welcome, size_t welcome_len,
		const uint8_t *ratchet_tree, size_t ratchet_tree_len,
		struct mls_group **out)
{
	struct welcome_open wo = { 0 };
	struct mls_group *g = NULL;
	uint32_t signer;
	int rc;

	*out = NULL;
	if ((g = mls_group_alloc()) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = mls_public_state_set_config(&g->st, cfg)) != 0 ||
	    (rc = mls_group_init_resumption(g)) != 0 ||
	    (rc = welcome_open(cfg, old, bundles, n_bundles, welcome,
			       welcome_len, &wo)) != 0)
		goto out;
	signer = wo.gi.signer;
	if ((rc = mls_public_state_from_group_info(&g->st, &wo.gi, ratchet_tree,
						   ratchet_tree_len)) != 0 ||
	    (rc = join_keys(g, &wo, signer)) != 0 ||
	    (rc = join_secrets(g, &wo)) != 0)
		goto out;
	/* §11.2, §11.3: a reinit or branch Welcome starts a new group. */
	if (wo.special_psk &&
	    (g->st.gc.epoch != 1 ||
	     (rc = check_reinit(old, &wo.gs, &g->st.gc)) != 0)) {
		rc = MLS_ERR_WELCOME_PSK;
		goto out;
	}
	if ((rc = mls_group_start_epoch(g)) != 0)
		goto out;
	*out = g;
	g = NULL; /* transferred */
out:
	welcome_open_clear(&wo);
	mls_group_free(g);
	return rc;
}

int mls_group_join(const struct mls_config *cfg,
		   const struct mls_key_package_bundle *const *bundles,
		   size_t n_bundles, const uint8_t *welcome, size_t welcome_len,
		   const uint8_t *ratchet_tree, size_t ratchet_tree_len,
		   struct mls_group **out)
{
	return join(cfg, NULL, bundles, n_bundles, welcome, welcome_len,
		    ratchet_tree, ratchet_tree_len, out);
}

int mls_group_join_reinit(const struct mls_config *cfg,
			  const struct mls_group *old,
			  const struct mls_key_package_bundle *const *bundles,
			  size_t n_bundles, const uint8_t *welcome,
			  size_t welcome_len, const uint8_t *ratchet_tree,
			  size_t ratchet_tree_len, struct mls_group **out)
{
	*out = NULL;
	if (old->status != MLS_GROUP_REINIT || old->reinit == NULL)
		return MLS_ERR_STATE;
	return join(cfg, old, bundles, n_bundles, welcome, welcome_len,
		    ratchet_tree, ratchet_tree_len, out);
}

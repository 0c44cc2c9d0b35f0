/*
 * external.c - joining by external commit (RFC 9420 §12.4.3.2) and the
 * external init secret on both sides (§8.3).
 *
 * The joiner learns the group from a GroupInfo with an external_pub
 * extension, sends a new init_secret to it through HPKE (ExternalInit),
 * takes the leftmost free leaf and commits with a path, all by value and
 * signed with its own leaf's key (sender new_member_commit).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "group_internal.h"
#include "hpke.h"
#include "msg_internal.h"
#include "transcript.h"

#define EXTERNAL_INIT_LABEL "MLS 1.0 external init secret"

static void hpke_suite_of(const struct mls_suite *s, struct hpke_suite *hs)
{
	hs->kem_id = s->kem_id;
	hs->kdf_id = s->kdf_id;
	hs->aead_id = s->aead_id;
}

int mls_external_init_secret(const struct mls_group *g,
			     const struct bw_bytes *kem_output, uint8_t *out)
{
	const struct mls_suite *s = g->st.suite;
	struct bw_bytes priv = { 0 }, pub = { 0 };
	struct hpke_ctx *ctx = NULL;
	struct hpke_suite hs;
	int rc;

	/* context = SetupBaseR(kem_output, external_priv, "") */
	hpke_suite_of(s, &hs);
	if ((rc = mls_key_schedule_external_keypair(&g->secrets, &priv,
						    &pub)) != 0 ||
	    (rc = hpke_setup_r(&hs, HPKE_MODE_BASE, kem_output->p,
			       kem_output->len, priv.p, priv.len, NULL, 0, NULL,
			       0, NULL, 0, NULL, 0, &ctx)) != 0)
		goto out;
	rc = hpke_export(ctx, (const uint8_t *)EXTERNAL_INIT_LABEL,
			 strlen(EXTERNAL_INIT_LABEL), out, s->hash_len);
out:
	hpke_ctx_free(ctx);
	bw_bytes_clear(&priv);
	bw_bytes_clear(&pub);
	return rc;
}

/* The joiner's side: kem_output and init_secret for external_pub. */
static int external_init_send(const struct mls_suite *s,
			      const struct bw_bytes *external_pub,
			      struct bw_bytes *kem_output, uint8_t *init)
{
	struct hpke_ctx *ctx = NULL;
	struct hpke_suite hs;
	int rc;

	hpke_suite_of(s, &hs);
	if ((rc = hpke_setup_s(&hs, HPKE_MODE_BASE, external_pub->p,
			       external_pub->len, NULL, 0, NULL, 0, NULL, 0,
			       NULL, 0, NULL, 0, kem_output, &ctx)) != 0)
		return rc;
	rc = hpke_export(ctx, (const uint8_t *)EXTERNAL_INIT_LABEL,
			 strlen(EXTERNAL_INIT_LABEL), init, s->hash_len);
	hpke_ctx_free(ctx);
	return rc;
}

/* ExternalPub { HPKEPublicKey external_pub; } of a GroupInfo. */
static int external_pub_of(const struct mls_group_info *gi,
			   struct bw_bytes *out)
{
	const struct mls_extension *x =
		mls_extension_list_find(&gi->extensions, MLS_EXT_EXTERNAL_PUB);
	struct bw_reader r;
	int rc;

	if (x == NULL)
		return MLS_ERR_EXTERNAL;
	bw_reader_init(&r, x->data.p, x->data.len);
	if ((rc = mls_read_bytes(&r, MLS_MAX_KEY_LEN, out)) != 0 ||
	    (rc = bw_reader_finish(&r)) != 0) {
		bw_bytes_clear(out);
		return MLS_ERR_EXTERNAL;
	}
	return 0;
}

/* The external commit's proposals, by value: ExternalInit, the Remove of
 * a resync, one PreSharedKey per external PSK (fresh nonces, §8.4). */
static int external_proposals(const struct mls_suite *s,
			      const struct mls_external_join *p,
			      struct bw_bytes *kem_output,
			      struct mls_commit *c)
{
	size_t n = 1 + (p->resync ? 1 : 0) + p->n_psks;
	struct mls_proposal *q;
	int rc = 0;

	if ((c->proposals = calloc(n, sizeof(*c->proposals))) == NULL)
		return BW_ERR_NOMEM;
	c->n_proposals = n;
	for (size_t i = 0; i < n; i++)
		c->proposals[i].type = MLS_PROPOSAL_OR_REF_PROPOSAL;
	q = &c->proposals[0].proposal;
	q->type = MLS_PROPOSAL_EXTERNAL_INIT;
	bw_bytes_move(&q->external_init, kem_output);
	if (p->resync) {
		q = &c->proposals[1].proposal;
		q->type = MLS_PROPOSAL_REMOVE;
		q->remove = p->resync_leaf;
	}
	for (size_t i = 0; i < p->n_psks && rc == 0; i++) {
		q = &c->proposals[n - p->n_psks + i].proposal;
		q->type = MLS_PROPOSAL_PSK;
		q->psk.psktype = MLS_PSK_EXTERNAL;
		if ((rc = bw_bytes_set(&q->psk.psk_id, p->psk_ids[i],
				       p->psk_id_lens[i])) == 0 &&
		    (rc = bw_bytes_alloc(&q->psk.psk_nonce, s->hash_len)) == 0)
			rc = mls_random(q->psk.psk_nonce.p, s->hash_len);
	}
	return rc;
}

/* The joiner's new leaf: its credential and signature key, the default
 * capabilities; TreeKEM fills in the rest. */
static int joiner_leaf(const struct mls_signer *signer,
		       struct mls_leaf_node *ln)
{
	int rc;

	memset(ln, 0, sizeof(*ln));
	ln->source = MLS_LEAF_SOURCE_COMMIT;
	if ((rc = mls_credential_copy(&ln->credential, &signer->credential)) !=
		    0 ||
	    (rc = bw_bytes_set(&ln->signature_key, signer->pub.p,
			       signer->pub.len)) != 0)
		return rc;
	return mls_capabilities_init_default(&ln->capabilities,
					     signer->suite->id);
}

/* Everything the joiner computes; installed in the group at the end. */
struct external_made {
	struct mls_authenticated_content ac;
	struct mls_commit_state cs;
	struct mls_treekem_update *u;
	struct mls_epoch_secrets secrets;
	struct mls_secret_tree *secret_tree;
	uint8_t init[MLS_MAX_HASH_LEN];
	uint8_t tag[MLS_MAX_HASH_LEN];
	uint8_t interim[MLS_MAX_HASH_LEN];
};

static void external_made_clear(struct external_made *m,
				struct mls_public_state *st)
{
	mls_authenticated_content_clear(&m->ac);
	mls_commit_state_clear(&m->cs, st);
	mls_treekem_update_free(m->u);
	mls_epoch_secrets_clear(&m->secrets);
	mls_secret_tree_free(m->secret_tree);
	OPENSSL_cleanse(m->init, sizeof(m->init));
}

/* The commit's content: sender new_member_commit, the proposals, and the
 * proposals applied to the tree. */
static int external_content(struct mls_group *g,
			    const struct mls_external_join *p,
			    const struct bw_bytes *external_pub,
			    struct external_made *m)
{
	const struct mls_suite *s = g->st.suite;
	struct mls_framed_content *c = &m->ac.content;
	struct bw_bytes kem_output = { 0 };
	int rc;

	m->ac.wire_format = MLS_WIRE_FORMAT_PUBLIC_MESSAGE;
	c->epoch = g->st.gc.epoch;
	c->sender.type = MLS_SENDER_NEW_MEMBER_COMMIT;
	c->content_type = MLS_CONTENT_COMMIT;
	m->cs.external = true;
	m->cs.committer = MLS_TM_NONE;
	if ((rc = bw_bytes_set(&c->group_id, g->st.gc.group_id.p,
			       g->st.gc.group_id.len)) != 0 ||
	    (rc = external_init_send(s, external_pub, &kem_output, m->init)) !=
		    0 ||
	    (rc = external_proposals(s, p, &kem_output, &c->commit)) != 0 ||
	    (rc = mls_commit_resolve(&m->cs, &g->st, &c->commit, &c->sender)) !=
		    0 ||
	    (rc = mls_commit_validate(&m->cs, &g->st, true)) != 0)
		goto out;
	rc = mls_commit_apply(&m->cs, &g->st);
out:
	bw_bytes_clear(&kem_output);
	return rc;
}

/* The path from the leftmost free leaf (§12.4.3.2), its keys in the
 * joiner's private view. */
static int external_path(struct mls_group *g, const struct mls_signer *signer,
			 struct external_made *m)
{
	struct mls_commit *commit = &m->ac.content.commit;
	struct mls_leaf_node templ;
	uint32_t leaf = mls_tree_free_leaf(g->st.tree);
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	m->cs.committer = leaf;
	if ((rc = joiner_leaf(signer, &templ)) != 0 ||
	    (rc = mls_tree_reserve_leaf(g->st.tree, leaf)) != 0 ||
	    (rc = mls_treekem_create(g->st.tree, leaf, &templ, signer->priv.p,
				     signer->priv.len, g->st.gc.group_id.p,
				     g->st.gc.group_id.len, NULL, &m->u)) !=
		    0 ||
	    (rc = mls_commit_provisional_context(&m->cs, &g->st, &w)) != 0 ||
	    (rc = mls_treekem_encrypt(m->u, g->st.tree, NULL, 0, w.buf, w.len,
				      &commit->path)) != 0)
		goto out;
	commit->has_path = true;
	if ((rc = mls_tree_priv_new(g->st.suite, leaf, NULL, 0, &g->priv)) ==
	    0)
		rc = mls_treekem_apply(m->u, g->priv);
out:
	mls_leaf_node_clear(&templ);
	bw_writer_free(&w);
	return rc;
}

/* Sign (with the GroupInfo's context), then the new epoch. */
static int external_epoch(struct mls_group *g, const struct mls_signer *signer,
			  const struct mls_config *cfg, struct external_made *m)
{
	const struct mls_suite *s = g->st.suite;
	const struct mls_pre_shared_key_id **ids = NULL;
	uint8_t psk_secret[MLS_MAX_HASH_LEN];
	struct mls_framing_ctx ctx;
	struct bw_writer w;
	size_t n = 0;
	int rc;

	bw_writer_init(&w, 0);
	mls_public_state_framing(&g->st, &ctx);
	if (m->cs.n_psks > 0 &&
	    (ids = calloc(m->cs.n_psks, sizeof(*ids))) == NULL) {
		rc = BW_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < m->cs.n; i++)
		if (m->cs.v[i].p->type == MLS_PROPOSAL_PSK)
			ids[n++] = &m->cs.v[i].p->psk;
	if ((rc = mls_framed_content_sign(&ctx, &m->ac, signer->priv.p,
					  signer->priv.len)) != 0 ||
	    (rc = mls_commit_confirm_context(&m->cs, &g->st, &m->ac)) != 0 ||
	    (rc = mls_psk_secret_of(s, cfg, NULL, ids, n, psk_secret)) != 0 ||
	    (rc = mls_group_context_encode(&m->cs.next, &w)) != 0 ||
	    (rc = mls_key_schedule_epoch(s, m->init,
					 mls_treekem_commit_secret(m->u),
					 psk_secret, w.buf, w.len,
					 &m->secrets)) != 0 ||
	    (rc = mls_confirmation_tag(s, m->secrets.confirmation_key,
				       m->cs.next.confirmed_transcript_hash.p,
				       m->tag)) != 0 ||
	    (rc = bw_bytes_set(&m->ac.auth.confirmation_tag, m->tag,
			       s->hash_len)) != 0)
		goto out;
	rc = mls_interim_transcript_hash(
		s, m->cs.next.confirmed_transcript_hash.p, m->tag, s->hash_len,
		m->interim);
out:
	OPENSSL_cleanse(psk_secret, sizeof(psk_secret));
	free(ids);
	bw_writer_free(&w);
	return rc;
}

/* The GroupInfo's state and the joiner's keys, before the commit. */
static int external_start(struct mls_group *g, const struct mls_signer *signer,
			  const struct mls_external_join *p,
			  struct bw_bytes *external_pub)
{
	struct mls_message m;
	int rc;

	if ((rc = mls_message_decode(p->group_info, p->group_info_len, &m)) !=
	    0)
		return rc;
	if (m.wire_format != MLS_WIRE_FORMAT_GROUP_INFO)
		rc = MLS_ERR_WIRE_FORMAT;
	else if (m.group_info.group_context.cipher_suite != signer->suite->id)
		rc = MLS_ERR_SUITE_MISMATCH;
	else if ((rc = external_pub_of(&m.group_info, external_pub)) == 0)
		rc = mls_public_state_from_group_info(&g->st, &m.group_info,
						      p->ratchet_tree,
						      p->ratchet_tree_len);
	if (rc == 0)
		rc = bw_bytes_set(&g->sig_priv, signer->priv.p,
				  signer->priv.len);
	mls_message_clear(&m);
	return rc;
}

int mls_group_join_external(const struct mls_config *cfg,
			    const struct mls_signer *signer,
			    const struct mls_external_join *p,
			    uint8_t **commit, size_t *commit_len,
			    struct mls_group **out)
{
	struct bw_bytes external_pub = { 0 };
	struct external_made m = { 0 };
	struct mls_framing_ctx ctx;
	struct mls_group *g = NULL;
	struct bw_writer w;
	int rc;

	*out = NULL;
	*commit = NULL;
	*commit_len = 0;
	if (!signer->has_credential || (p->n_psks > 0 && p->psk_ids == NULL))
		return MLS_ERR_INVALID_ARG;
	if ((g = mls_group_alloc()) == NULL)
		return BW_ERR_NOMEM;
	bw_writer_init(&w, 0);
	if ((rc = mls_public_state_set_config(&g->st, cfg)) != 0 ||
	    (rc = mls_group_init_resumption(g)) != 0 ||
	    (rc = external_start(g, signer, p, &external_pub)) != 0 ||
	    (rc = external_content(g, p, &external_pub, &m)) != 0 ||
	    (rc = external_path(g, signer, &m)) != 0 ||
	    (rc = external_epoch(g, signer, cfg, &m)) != 0 ||
	    (rc = mls_group_new_secret_tree(g, &m.secrets, &m.secret_tree)) !=
		    0 ||
	    (rc = mls_commit_prepare_install(&m.cs)) != 0)
		goto out;
	/* The message is protected for the epoch the GroupInfo describes:
	 * no membership tag, an outsider has no membership key. */
	mls_public_state_framing(&g->st, &ctx);
	if ((rc = mls_public_message_protect(&ctx, &m.ac, &w)) != 0 ||
	    (rc = bw_writer_take(&w, commit, commit_len)) != 0)
		goto out;
	mls_commit_install(&m.cs, &g->st, m.interim, m.tag);
	mls_group_install_epoch(g, &m.secrets, m.secret_tree);
	m.secret_tree = NULL; /* moved */
out:
	external_made_clear(&m, &g->st);
	if (rc == 0) {
		*out = g;
		g = NULL; /* transferred */
	} else {
		free(*commit);
		*commit = NULL;
		*commit_len = 0;
	}
	bw_bytes_clear(&external_pub);
	bw_writer_free(&w);
	mls_group_free(g);
	return rc;
}

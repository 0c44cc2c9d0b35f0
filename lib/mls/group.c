/*
 * group.c - a group's public state, a member's group object and its epoch
 * bookkeeping, group creation (RFC 9420 §11) and the read accessors.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "group_internal.h"
#include "hpke.h"
#include "msg_internal.h"
#include "psk.h"

/* ---- the public state ---- */

void mls_public_state_clear(struct mls_public_state *st)
{
	mls_group_context_clear(&st->gc);
	mls_external_senders_clear(&st->external_senders);
	mls_tree_free(st->tree);
	mls_proposal_cache_clear(&st->proposals);
	OPENSSL_cleanse(st->interim, sizeof(st->interim));
	memset(st, 0, sizeof(*st));
}

int mls_public_state_set_config(struct mls_public_state *st,
				const struct mls_config *cfg)
{
	if (cfg == NULL || cfg->accept_credential == NULL ||
	    cfg->resumption_epochs > MLS_MAX_RESUMPTION_EPOCHS)
		return MLS_ERR_INVALID_ARG;
	st->cfg = *cfg;
	return 0;
}

int mls_external_senders_of(const struct mls_extension_list *ext,
				   struct mls_external_senders *out)
{
	const struct mls_extension *x =
		mls_extension_list_find(ext, MLS_EXT_EXTERNAL_SENDERS);
	struct bw_reader r;

	memset(out, 0, sizeof(*out));
	if (x == NULL)
		return 0;
	bw_reader_init(&r, x->data.p, x->data.len);
	if (mls_external_senders_decode(&r, out) != 0 ||
	    bw_reader_finish(&r) != 0) {
		mls_external_senders_clear(out);
		return MLS_ERR_PROPOSAL_INVALID;
	}
	return 0;
}

int mls_public_state_set_context(struct mls_public_state *st,
				 struct mls_group_context *gc)
{
	struct mls_external_senders es;
	int rc;

	if ((rc = mls_external_senders_of(&gc->extensions, &es)) != 0)
		return rc;
	mls_public_state_install_context(st, gc, &es);
	return 0;
}

void mls_public_state_install_context(struct mls_public_state *st,
				      struct mls_group_context *gc,
				      struct mls_external_senders *es)
{
	mls_external_senders_clear(&st->external_senders);
	st->external_senders = *es;
	memset(es, 0, sizeof(*es)); /* moved */
	mls_group_context_clear(&st->gc);
	st->gc = *gc;
	memset(gc, 0, sizeof(*gc)); /* moved */
}

void mls_public_state_leaf_policy(const struct mls_public_state *st,
				  const struct mls_extension_list *ext,
				  bool lifetime, struct mls_leaf_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->group_extensions = ext;
	pol->check_lifetime = lifetime;
	pol->now = st->cfg.now != 0 ? st->cfg.now : (uint64_t)time(NULL);
	pol->max_lifetime = st->cfg.max_lifetime;
	pol->accept = st->cfg.accept_credential;
	pol->accept_arg = st->cfg.accept_arg;
}

int mls_public_state_sender_key(void *arg,
				const struct mls_framed_content *c,
				const uint8_t **key, size_t *key_len)
{
	const struct mls_public_state *st = arg;
	const struct mls_leaf_node *leaf;
	const struct bw_bytes *k = NULL;

	switch (c->sender.type) {
	case MLS_SENDER_MEMBER:
		if ((leaf = mls_tree_leaf(st->tree, c->sender.index)) == NULL)
			return MLS_ERR_NOT_MEMBER;
		k = &leaf->signature_key;
		break;
	case MLS_SENDER_EXTERNAL:
		/* §12.1.8.1: only the senders the group lists. */
		if (c->sender.index >= st->external_senders.n)
			return MLS_ERR_EXTERNAL_SENDER;
		k = &st->external_senders.v[c->sender.index].signature_key;
		break;
	case MLS_SENDER_NEW_MEMBER_COMMIT:
		/* §12.4.3.2: signed with the key of the path's leaf. */
		if (c->content_type != MLS_CONTENT_COMMIT ||
		    !c->commit.has_path)
			return MLS_ERR_PATH_REQUIRED;
		k = &c->commit.path.leaf_node.signature_key;
		break;
	case MLS_SENDER_NEW_MEMBER_PROPOSAL:
		if (c->content_type != MLS_CONTENT_PROPOSAL ||
		    c->proposal.type != MLS_PROPOSAL_ADD)
			return MLS_ERR_SENDER_TYPE;
		k = &c->proposal.add.leaf_node.signature_key;
		break;
	default:
		return MLS_ERR_SENDER_TYPE;
	}
	*key = k->p;
	*key_len = k->len;
	return 0;
}

void mls_public_state_framing(struct mls_public_state *st,
			      struct mls_framing_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->suite = st->suite;
	ctx->group_context = &st->gc;
	ctx->sender_key = mls_public_state_sender_key;
	ctx->sender_key_arg = st;
}

int mls_public_state_check_epoch(const struct mls_public_state *st,
				 const struct bw_bytes *group_id,
				 uint64_t epoch)
{
	if (!mls_bytes_equal(group_id, &st->gc.group_id))
		return MLS_ERR_WRONG_GROUP;
	return epoch == st->gc.epoch ? 0 : MLS_ERR_WRONG_EPOCH;
}

int mls_public_state_member(const struct mls_public_state *st, uint32_t leaf,
			    struct mls_member *out)
{
	const struct mls_leaf_node *ln;

	memset(out, 0, sizeof(*out));
	if (leaf >= mls_tree_n_leaves(st->tree))
		return MLS_ERR_LEAF_INDEX;
	if ((ln = mls_tree_leaf(st->tree, leaf)) == NULL)
		return MLS_ERR_BLANK_NODE;
	out->leaf = leaf;
	out->credential = &ln->credential;
	out->signature_key = ln->signature_key.p;
	out->signature_key_len = ln->signature_key.len;
	out->encryption_key = ln->encryption_key.p;
	out->encryption_key_len = ln->encryption_key.len;
	return 0;
}

int mls_interim_hash(const struct mls_suite *s,
		     const struct bw_bytes *confirmed, const uint8_t *tag,
		     size_t tag_len, uint8_t *out)
{
	struct bw_writer w;
	int rc;

	/* §8.2: interim = Hash(confirmed || InterimTranscriptHashInput);
	 * the confirmed hash of epoch 0 is the empty string. */
	bw_writer_init(&w, 0);
	bw_write_bytes(&w, confirmed->p, confirmed->len);
	if ((rc = bw_write_opaque(&w, tag, tag_len)) == 0)
		rc = mls_hash(s, w.buf, w.len, out);
	bw_writer_free(&w);
	return rc;
}

/* ---- a member's group ---- */

struct mls_group *mls_group_alloc(void)
{
	return calloc(1, sizeof(struct mls_group));
}

void mls_pending_commit_free(struct mls_pending_commit *pc)
{
	if (pc == NULL)
		return;
	mls_authenticated_content_clear(&pc->ac);
	bw_bytes_clear(&pc->message);
	mls_group_context_clear(&pc->gc);
	mls_epoch_secrets_clear(&pc->secrets);
	OPENSSL_cleanse(pc->interim, sizeof(pc->interim));
	mls_tree_priv_free(pc->priv);
	free(pc);
}

void mls_group_clear_by_value(struct mls_group *g)
{
	for (size_t i = 0; i < g->n_by_value; i++)
		mls_proposal_clear(&g->by_value[i]);
	free(g->by_value);
	g->by_value = NULL;
	g->n_by_value = 0;
}

void mls_group_free(struct mls_group *g)
{
	if (g == NULL)
		return;
	mls_public_state_clear(&g->st);
	bw_bytes_clear(&g->sig_priv);
	mls_tree_priv_free(g->priv);
	mls_epoch_secrets_clear(&g->secrets);
	mls_secret_tree_free(g->secret_tree);
	mls_group_clear_by_value(g);
	mls_pending_commit_free(g->pending);
	mls_reinit_free(g->reinit);
	mls_group_clear_reinit_psk(g);
	bw_free_secret(g->resumption,
		       g->resumption_cap * sizeof(*g->resumption));
	free(g);
}

uint32_t mls_group_leaf(const struct mls_group *g)
{
	return mls_tree_priv_leaf(g->priv);
}

void mls_group_framing(struct mls_group *g, struct mls_framing_ctx *ctx)
{
	mls_public_state_framing(&g->st, ctx);
	ctx->membership_key = g->secrets.membership_key;
	ctx->sender_data_secret = g->secrets.sender_data_secret;
	ctx->secret_tree = g->secret_tree;
}

int mls_group_content_init(struct mls_group *g, uint8_t content_type,
			   struct mls_authenticated_content *ac)
{
	bool private = content_type == MLS_CONTENT_APPLICATION ||
		       g->st.cfg.private_handshake;

	memset(ac, 0, sizeof(*ac));
	ac->wire_format = private ? MLS_WIRE_FORMAT_PRIVATE_MESSAGE :
				    MLS_WIRE_FORMAT_PUBLIC_MESSAGE;
	ac->content.epoch = g->st.gc.epoch;
	ac->content.sender.type = MLS_SENDER_MEMBER;
	ac->content.sender.index = mls_group_leaf(g);
	ac->content.content_type = content_type;
	return bw_bytes_set(&ac->content.group_id, g->st.gc.group_id.p,
			    g->st.gc.group_id.len);
}

/* Zero bytes that bring the private content to a multiple of the
 * configured block (§6.3.1: padding hides the content's length). */
static int padding_for(const struct mls_group *g,
		       const struct mls_authenticated_content *ac,
		       size_t *padding)
{
	uint32_t block = g->st.cfg.padding_block;
	struct bw_writer w;
	int rc;

	*padding = 0;
	if (block <= 1)
		return 0;
	bw_writer_init(&w, 0);
	mls_content_body_encode(&ac->content, &w);
	if ((rc = mls_auth_data_encode(&ac->auth, ac->content.content_type,
				       &w)) == 0)
		*padding = (block - w.len % block) % block;
	bw_writer_free(&w);
	return rc;
}

int mls_group_sign(struct mls_group *g, struct mls_authenticated_content *ac)
{
	struct mls_framing_ctx ctx;

	mls_group_framing(g, &ctx);
	return mls_framed_content_sign(&ctx, ac, g->sig_priv.p,
				       g->sig_priv.len);
}

int mls_group_protect(struct mls_group *g,
		      const struct mls_authenticated_content *ac,
		      struct bw_writer *w)
{
	struct mls_framing_ctx ctx;
	size_t padding;
	int rc;

	mls_group_framing(g, &ctx);
	if (ac->wire_format == MLS_WIRE_FORMAT_PUBLIC_MESSAGE)
		return mls_public_message_protect(&ctx, ac, w);
	if ((rc = padding_for(g, ac, &padding)) != 0)
		return rc;
	return mls_private_message_protect(&ctx, ac, padding, w);
}

int mls_group_send(struct mls_group *g, struct mls_authenticated_content *ac,
		   struct bw_writer *w)
{
	int rc;

	if ((rc = mls_group_sign(g, ac)) != 0)
		return rc;
	return mls_group_protect(g, ac, w);
}

int mls_group_init_resumption(struct mls_group *g)
{
	size_t keep = g->st.cfg.resumption_epochs != 0 ?
			      g->st.cfg.resumption_epochs :
			      MLS_DEFAULT_RESUMPTION_EPOCHS;

	if ((g->resumption = calloc(keep, sizeof(*g->resumption))) == NULL)
		return BW_ERR_NOMEM;
	g->resumption_cap = keep;
	return 0;
}

/* Keep this epoch's resumption PSK, dropping the oldest beyond the
 * configured count (§8.6: the application bounds the history). */
static void resumption_push(struct mls_group *g)
{
	struct mls_resumption_psk *v = g->resumption;

	if (g->n_resumption == g->resumption_cap) {
		OPENSSL_cleanse(v, sizeof(*v));
		memmove(v, v + 1, (g->n_resumption - 1) * sizeof(*v));
		g->n_resumption--;
	}
	v[g->n_resumption].epoch = g->st.gc.epoch;
	memcpy(v[g->n_resumption].psk, g->secrets.resumption_psk,
	       sizeof(v->psk));
	g->n_resumption++;
}

int mls_group_new_secret_tree(const struct mls_group *g,
			      const struct mls_epoch_secrets *secrets,
			      struct mls_secret_tree **out)
{
	const struct mls_suite *s = g->st.suite;
	uint32_t fwd = g->st.cfg.max_forward, ret = g->st.cfg.max_retained;
	int rc;

	if ((rc = mls_secret_tree_new(s, secrets->encryption_secret,
				      s->hash_len,
				      mls_tree_n_leaves(g->st.tree), out)) != 0)
		return rc;
	mls_secret_tree_set_limits(*out,
				   fwd != 0 ? fwd : MLS_DEFAULT_MAX_FORWARD,
				   ret != 0 ? ret : MLS_DEFAULT_MAX_RETAINED);
	return 0;
}

void mls_group_install_epoch(struct mls_group *g,
			     struct mls_epoch_secrets *secrets,
			     struct mls_secret_tree *t)
{
	if (secrets != &g->secrets) {
		mls_epoch_secrets_clear(&g->secrets);
		g->secrets = *secrets;
		mls_epoch_secrets_clear(secrets);
	}
	mls_secret_tree_free(g->secret_tree);
	g->secret_tree = t;
	resumption_push(g);
}

int mls_group_start_epoch(struct mls_group *g)
{
	struct mls_secret_tree *t;
	int rc;

	if ((rc = mls_group_new_secret_tree(g, &g->secrets, &t)) != 0)
		return rc;
	mls_group_install_epoch(g, &g->secrets, t);
	return 0;
}

void mls_group_clear_reinit_psk(struct mls_group *g)
{
	if (g->reinit_psk != NULL) {
		mls_pre_shared_key_id_clear(g->reinit_psk);
		free(g->reinit_psk);
		g->reinit_psk = NULL;
	}
	OPENSSL_cleanse(g->reinit_psk_value, sizeof(g->reinit_psk_value));
}

void mls_group_end_epoch(struct mls_group *g)
{
	mls_proposal_cache_clear(&g->st.proposals);
	mls_group_clear_by_value(g);
	mls_pending_commit_free(g->pending);
	g->pending = NULL;
	/* The reinit PSK was for the first commit only. */
	mls_group_clear_reinit_psk(g);
}

/* ---- PSKs (§8.4) ---- */

/* The store's value for an id: own resumption PSKs first. */
static int psk_lookup(const struct mls_config *cfg,
		      const struct mls_group *g,
		      const struct mls_pre_shared_key_id *id,
		      const uint8_t **psk, size_t *psk_len)
{
	struct mls_psk_ref ref = { 0 };

	if (g != NULL && g->reinit_psk != NULL &&
	    mls_psk_id_same(id, g->reinit_psk)) {
		*psk = g->reinit_psk_value;
		*psk_len = g->st.suite->hash_len;
		return 0;
	}
	if (g != NULL && id->psktype == MLS_PSK_RESUMPTION &&
	    mls_bytes_equal(&id->psk_group_id, &g->st.gc.group_id)) {
		for (size_t i = 0; i < g->n_resumption; i++)
			if (g->resumption[i].epoch == id->psk_epoch) {
				*psk = g->resumption[i].psk;
				*psk_len = g->st.suite->hash_len;
				return 0;
			}
	}
	if (cfg->psk == NULL)
		return MLS_ERR_PSK_MISSING;
	ref.psktype = id->psktype;
	ref.id = id->psk_id.p;
	ref.id_len = id->psk_id.len;
	ref.usage = id->usage;
	ref.group_id = id->psk_group_id.p;
	ref.group_id_len = id->psk_group_id.len;
	ref.epoch = id->psk_epoch;
	*psk = NULL;
	*psk_len = 0;
	if (cfg->psk(cfg->psk_arg, &ref, psk, psk_len) != 0 || *psk == NULL ||
	    *psk_len == 0)
		return MLS_ERR_PSK_MISSING;
	return 0;
}

int mls_group_psk_value(const struct mls_group *g,
			const struct mls_pre_shared_key_id *id,
			const uint8_t **psk, size_t *psk_len)
{
	return psk_lookup(&g->st.cfg, g, id, psk, psk_len);
}

int mls_psk_secret_of(const struct mls_suite *s, const struct mls_config *cfg,
		      const struct mls_group *lookup,
		      const struct mls_pre_shared_key_id *const *ids,
		      size_t n, uint8_t *out)
{
	struct mls_psk_input *in = NULL;
	size_t *offs = NULL;
	struct bw_writer w;
	int rc = 0;

	if (n == 0)
		return mls_psk_secret(s, NULL, 0, out);
	bw_writer_init(&w, 0);
	if ((in = calloc(n, sizeof(*in))) == NULL ||
	    (offs = calloc(n + 1, sizeof(*offs))) == NULL) {
		rc = BW_ERR_NOMEM;
		goto out;
	}
	/* One buffer for every serialised id: offsets, since it moves. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = mls_pre_shared_key_id_encode(ids[i], &w);
		offs[i + 1] = w.len;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		in[i].id = w.buf + offs[i];
		in[i].id_len = offs[i + 1] - offs[i];
		rc = psk_lookup(cfg, lookup, ids[i], &in[i].psk,
				&in[i].psk_len);
	}
	if (rc == 0)
		rc = mls_psk_secret(s, in, n, out);
out:
	free(in);
	free(offs);
	bw_writer_free(&w);
	return rc;
}

/* ---- creation (§11) ---- */

/* The creator's capabilities: the defaults and every non-default
 * extension type the group starts with (its own leaf must support
 * them, §7.2). */
static int creator_capabilities(const struct mls_suite *s,
				const struct mls_extension_list *ext,
				struct mls_capabilities *caps)
{
	struct mls_u16_list *l = &caps->extensions;
	uint16_t *v;
	int rc;

	if ((rc = mls_capabilities_init_default(caps, s->id)) != 0)
		return rc;
	for (size_t i = 0; ext != NULL && i < ext->n; i++) {
		uint16_t type = ext->v[i].type;

		if (mls_extension_type_is_default(type) ||
		    mls_u16_list_contains(l, type))
			continue;
		if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL)
			return BW_ERR_NOMEM;
		v[l->n++] = type;
		l->v = v;
	}
	return 0;
}

int mls_confirmation_tag_of(const struct mls_suite *s, const uint8_t *key,
			    const struct bw_bytes *confirmed, uint8_t *tag)
{
	/* §6.1: MAC(confirmation_key, confirmed_transcript_hash), which is
	 * empty in epoch 0. */
	return mls_hmac(s, key, s->hash_len, confirmed->p, confirmed->len, tag);
}

/* Epoch 0 over the group's tree: the GroupContext with an empty
 * transcript, the key schedule from init (§11), the interim transcript
 * hash from the confirmation tag over the empty transcript. */
static int epoch_zero(struct mls_group *g, const uint8_t *group_id,
		      size_t group_id_len, const struct mls_extension_list *ext,
		      const uint8_t *init)
{
	const struct mls_suite *s = g->st.suite;
	struct mls_group_context gc = { 0 };
	uint8_t th[MLS_MAX_HASH_LEN];
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	gc.version = MLS_PROTOCOL_VERSION_MLS10;
	gc.cipher_suite = s->id;
	if ((rc = bw_bytes_set(&gc.group_id, group_id, group_id_len)) != 0 ||
	    (rc = mls_tree_hash(g->st.tree, th)) != 0 ||
	    (rc = bw_bytes_set(&gc.tree_hash, th, s->hash_len)) != 0 ||
	    (ext != NULL &&
	     (rc = mls_extension_list_copy(&gc.extensions, ext)) != 0) ||
	    (rc = mls_group_context_encode(&gc, &w)) != 0 ||
	    (rc = mls_key_schedule_epoch(s, init, NULL, NULL, w.buf, w.len,
					 &g->secrets)) != 0 ||
	    (rc = mls_confirmation_tag_of(s, g->secrets.confirmation_key,
					  &gc.confirmed_transcript_hash,
					  g->st.confirmation_tag)) != 0 ||
	    (rc = mls_interim_hash(s, &gc.confirmed_transcript_hash,
				   g->st.confirmation_tag, s->hash_len,
				   g->st.interim)) != 0 ||
	    (rc = mls_public_state_set_context(&g->st, &gc)) != 0)
		goto out;
	rc = mls_group_start_epoch(g);
out:
	mls_group_context_clear(&gc);
	bw_writer_free(&w);
	return rc;
}

int mls_group_from_tree(const struct mls_config *cfg, struct mls_tree *tree,
			struct mls_tree_priv *priv,
			const struct bw_bytes *sig_priv,
			const uint8_t *group_id, size_t group_id_len,
			const struct mls_extension_list *ext,
			const uint8_t *init_secret, struct mls_group **out)
{
	const struct mls_suite *s = mls_tree_suite(tree);
	uint8_t init[MLS_MAX_HASH_LEN];
	struct mls_group *g;
	int rc;

	*out = NULL;
	if ((g = mls_group_alloc()) == NULL) {
		mls_tree_free(tree);
		mls_tree_priv_free(priv);
		return BW_ERR_NOMEM;
	}
	g->st.suite = s;
	g->st.tree = tree;
	g->priv = priv;
	/* §11: the first epoch's secrets start from fresh randomness. */
	if (init_secret != NULL)
		memcpy(init, init_secret, s->hash_len);
	if ((rc = mls_public_state_set_config(&g->st, cfg)) != 0 ||
	    (rc = mls_group_init_resumption(g)) != 0 ||
	    (init_secret == NULL &&
	     (rc = mls_random(init, s->hash_len)) != 0) ||
	    (rc = bw_bytes_set(&g->sig_priv, sig_priv->p, sig_priv->len)) !=
		    0 ||
	    (rc = epoch_zero(g, group_id, group_id_len, ext, init)) != 0) {
		mls_group_free(g);
		g = NULL;
	}
	OPENSSL_cleanse(init, sizeof(init));
	*out = g;
	return rc;
}

int mls_group_create(const struct mls_config *cfg,
		     const struct mls_signer *signer, const uint8_t *group_id,
		     size_t group_id_len, const struct mls_extensions *ext,
		     struct mls_group **out)
{
	const struct mls_extension_list *el = ext != NULL ? &ext->list : NULL;
	struct mls_key_package_params p = { 0 };
	struct mls_capabilities caps = { 0 };
	struct mls_key_package_secrets ks = { 0 };
	struct mls_key_package kp = { 0 };
	struct mls_tree_priv *priv = NULL;
	struct mls_public_state st = { 0 };
	struct mls_tree *tree = NULL;
	struct mls_leaf_policy pol;
	uint32_t leaf = 0;
	int rc;

	*out = NULL;
	if (!signer->has_credential || group_id_len == 0 ||
	    group_id_len > MLS_MAX_GROUP_ID_LEN)
		return MLS_ERR_INVALID_ARG;
	/* The creator's own KeyPackage (§11), with the capabilities the
	 * group's extensions need, valid for them. */
	p.credential = &signer->credential;
	p.capabilities = &caps;
	mls_config_lifetime(cfg, &p.lifetime);
	if ((rc = mls_public_state_set_config(&st, cfg)) != 0 ||
	    (rc = creator_capabilities(signer->suite, el, &caps)) != 0 ||
	    (rc = mls_key_package_create(signer->suite, &p, signer->priv.p,
					 signer->priv.len, &kp, &ks)) != 0)
		goto out;
	mls_public_state_leaf_policy(&st, el, true, &pol);
	if ((rc = mls_leaf_node_validate(signer->suite, &kp.leaf_node,
					 MLS_LEAF_SOURCE_KEY_PACKAGE, group_id,
					 group_id_len, 0, &pol)) != 0 ||
	    (rc = mls_tree_new(signer->suite, &tree)) != 0 ||
	    (rc = mls_tree_add_leaf(tree, &kp.leaf_node, &leaf)) != 0 ||
	    (rc = mls_tree_priv_new(signer->suite, leaf, ks.encryption_priv.p,
				    ks.encryption_priv.len, &priv)) != 0)
		goto out;
	rc = mls_group_from_tree(cfg, tree, priv, &signer->priv, group_id,
				 group_id_len, el, NULL, out);
	tree = NULL; /* taken */
	priv = NULL;
out:
	mls_tree_free(tree);
	mls_tree_priv_free(priv);
	mls_key_package_clear(&kp);
	mls_key_package_secrets_clear(&ks);
	mls_capabilities_clear(&caps);
	return rc;
}

int mls_group_create_reinit(const struct mls_config *cfg,
			    const struct mls_group *old,
			    const struct mls_signer *signer,
			    struct mls_group **out)
{
	const struct mls_reinit *ri = old->reinit;
	struct mls_pre_shared_key_id *id = NULL;
	uint8_t value[MLS_MAX_HASH_LEN];
	struct mls_extensions ext;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (old->status != MLS_GROUP_REINIT || ri == NULL)
		return MLS_ERR_STATE;
	if (ri->version != MLS_PROTOCOL_VERSION_MLS10)
		return MLS_ERR_VERSION;
	if (signer->suite->id != ri->cipher_suite)
		return MLS_ERR_SUITE_MISMATCH;
	ext.list = ri->extensions; /* borrowed, never freed here */
	/* §11.2: resumption PSK, usage reinit, of old's last epoch. */
	if ((id = calloc(1, sizeof(*id))) == NULL)
		return BW_ERR_NOMEM;
	id->psktype = MLS_PSK_RESUMPTION;
	id->usage = MLS_PSK_USAGE_REINIT;
	id->psk_epoch = old->st.gc.epoch;
	if ((rc = mls_group_resumption_psk(old, id->psk_epoch, value, &len)) !=
		    0 ||
	    (rc = bw_bytes_set(&id->psk_group_id, old->st.gc.group_id.p,
			       old->st.gc.group_id.len)) != 0 ||
	    (rc = bw_bytes_alloc(&id->psk_nonce, signer->suite->hash_len)) !=
		    0 ||
	    (rc = mls_random(id->psk_nonce.p, signer->suite->hash_len)) != 0 ||
	    (rc = mls_group_create(cfg, signer, ri->group_id.p,
				   ri->group_id.len, &ext, out)) != 0)
		goto out;
	(*out)->reinit_psk = id;
	id = NULL; /* transferred */
	memcpy((*out)->reinit_psk_value, value, len);
out:
	if (id != NULL) {
		mls_pre_shared_key_id_clear(id);
		free(id);
	}
	OPENSSL_cleanse(value, sizeof(value));
	return rc;
}

/* ---- accessors ---- */

uint64_t mls_group_epoch(const struct mls_group *g)
{
	return g->st.gc.epoch;
}

uint16_t mls_group_suite(const struct mls_group *g)
{
	return g->st.suite->id;
}

void mls_group_id(const struct mls_group *g, const uint8_t **p, size_t *n)
{
	*p = g->st.gc.group_id.p;
	*n = g->st.gc.group_id.len;
}

uint32_t mls_group_own_leaf(const struct mls_group *g)
{
	return mls_group_leaf(g);
}

bool mls_group_active(const struct mls_group *g)
{
	return g->status == MLS_GROUP_ACTIVE;
}

int mls_group_tree_hash(struct mls_group *g, uint8_t out[MLS_MAX_SECRET_LEN],
			size_t *len)
{
	*len = g->st.suite->hash_len;
	return mls_tree_hash(g->st.tree, out);
}

uint32_t mls_group_n_leaves(const struct mls_group *g)
{
	return mls_tree_n_leaves(g->st.tree);
}

int mls_group_member(const struct mls_group *g, uint32_t leaf,
		     struct mls_member *out)
{
	return mls_public_state_member(&g->st, leaf, out);
}

void mls_group_epoch_authenticator(const struct mls_group *g,
				   uint8_t out[MLS_MAX_SECRET_LEN],
				   size_t *len)
{
	*len = g->st.suite->hash_len;
	memcpy(out, g->secrets.epoch_authenticator, *len);
}

int mls_group_export(const struct mls_group *g, const char *label,
		     const void *context, size_t context_len, uint8_t *out,
		     size_t out_len)
{
	if (g->status != MLS_GROUP_ACTIVE)
		return MLS_ERR_GROUP_INACTIVE;
	if (label == NULL || (context == NULL && context_len > 0))
		return MLS_ERR_INVALID_ARG;
	return mls_key_schedule_export(&g->secrets, label, strlen(label),
				       context, context_len, out, out_len);
}

int mls_group_resumption_psk(const struct mls_group *g, uint64_t epoch,
			     uint8_t out[MLS_MAX_SECRET_LEN], size_t *len)
{
	*len = 0;
	for (size_t i = 0; i < g->n_resumption; i++)
		if (g->resumption[i].epoch == epoch) {
			*len = g->st.suite->hash_len;
			memcpy(out, g->resumption[i].psk, *len);
			return 0;
		}
	return MLS_ERR_PSK_MISSING;
}

int mls_group_ratchet_tree(const struct mls_group *g, uint8_t **out,
			   size_t *out_len)
{
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, MLS_MAX_RATCHET_TREE_LEN);
	if ((rc = mls_tree_encode(g->st.tree, &w)) == 0)
		rc = bw_writer_take(&w, out, out_len);
	else
		*out = NULL;
	bw_writer_free(&w);
	return rc;
}

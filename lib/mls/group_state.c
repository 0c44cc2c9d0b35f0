/*
 * group_state.c - a member's whole group state as bytes, encrypted and
 * authenticated under the caller's key, and back.
 *
 * Sealed format (version 1):
 *   "BWMS" | u8 version | u8 kind | nonce[12] | AES-256-GCM(payload) | tag[16]
 * with the first 18 bytes as additional data, so that a state of another
 * kind or version cannot be passed off as this one. The payload is
 * encoded with the codec (below, mls_group_state_encode) and decoded with
 * it; anything that does not decode, or decodes to an inconsistent state
 * (a tree whose hash is not the context's, private keys that are not the
 * tree's), is MLS_ERR_STATE_CORRUPT, as is a wrong key.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "group_internal.h"
#include "msg_internal.h"

#define STATE_MAGIC "BWMS"
#define STATE_MAGIC_LEN 4
#define STATE_VERSION 1
#define STATE_NONCE_LEN 12
#define STATE_TAG_LEN 16
#define STATE_HEADER_LEN (STATE_MAGIC_LEN + 2 + STATE_NONCE_LEN)
#define STATE_KIND_GROUP 1
/* Largest payload: the biggest tree and proposals with room for the
 * rest; keeps every length in an int for EVP. */
#define STATE_MAX_PAYLOAD (MLS_MAX_RATCHET_TREE_LEN + MLS_MAX_PROPOSALS_LEN + \
			   64u * 1024u * 1024u)

/* ---- sealing ---- */

/* One AES-256-GCM pass; enc selects the direction. tag is written when
 * sealing and checked when opening. */
static int gcm(bool enc, const uint8_t *key, const uint8_t *hdr,
	       const uint8_t *in, size_t n, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	const uint8_t *nonce = hdr + STATE_MAGIC_LEN + 2;
	int len = 0, ok;

	if (ctx == NULL)
		return BW_ERR_NOMEM;
	ok = EVP_CipherInit_ex2(ctx, EVP_aes_256_gcm(), key, nonce, enc ? 1 : 0,
				NULL) == 1 &&
	     EVP_CipherUpdate(ctx, NULL, &len, hdr, STATE_HEADER_LEN) == 1 &&
	     (n == 0 || EVP_CipherUpdate(ctx, out, &len, in, (int)n) == 1);
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
					 STATE_TAG_LEN, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(ctx, out + len, &len) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
					 STATE_TAG_LEN, tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (ok)
		return 0;
	return enc ? MLS_ERR_CRYPTO : MLS_ERR_STATE_CORRUPT;
}

int mls_state_seal(uint8_t kind, const uint8_t *key, const uint8_t *pt,
		   size_t pt_len, uint8_t **out, size_t *out_len)
{
	size_t n = STATE_HEADER_LEN + pt_len + STATE_TAG_LEN;
	uint8_t *p;
	int rc;

	*out = NULL;
	*out_len = 0;
	if (pt_len > STATE_MAX_PAYLOAD)
		return BW_ERR_TOO_LONG;
	if ((p = malloc(n)) == NULL)
		return BW_ERR_NOMEM;
	memcpy(p, STATE_MAGIC, STATE_MAGIC_LEN);
	p[STATE_MAGIC_LEN] = STATE_VERSION;
	p[STATE_MAGIC_LEN + 1] = kind;
	if ((rc = mls_random(p + STATE_MAGIC_LEN + 2, STATE_NONCE_LEN)) != 0 ||
	    (rc = gcm(true, key, p, pt, pt_len, p + STATE_HEADER_LEN,
		      p + n - STATE_TAG_LEN)) != 0) {
		free(p);
		return rc;
	}
	*out = p;
	*out_len = n;
	return 0;
}

int mls_state_open(uint8_t kind, const uint8_t *key, const uint8_t *p,
		   size_t n, uint8_t **pt, size_t *pt_len)
{
	uint8_t tag[STATE_TAG_LEN];
	size_t len;
	uint8_t *buf;
	int rc;

	*pt = NULL;
	*pt_len = 0;
	if (n < STATE_HEADER_LEN + STATE_TAG_LEN ||
	    n - STATE_HEADER_LEN - STATE_TAG_LEN > STATE_MAX_PAYLOAD ||
	    memcmp(p, STATE_MAGIC, STATE_MAGIC_LEN) != 0 ||
	    p[STATE_MAGIC_LEN] != STATE_VERSION ||
	    p[STATE_MAGIC_LEN + 1] != kind)
		return MLS_ERR_STATE_CORRUPT;
	len = n - STATE_HEADER_LEN - STATE_TAG_LEN;
	if ((buf = malloc(len + 1)) == NULL)
		return BW_ERR_NOMEM;
	memcpy(tag, p + n - STATE_TAG_LEN, STATE_TAG_LEN);
	if ((rc = gcm(false, key, p, p + STATE_HEADER_LEN, len, buf, tag)) !=
	    0) {
		bw_free_secret(buf, len + 1);
		return rc;
	}
	*pt = buf;
	*pt_len = len;
	return 0;
}

/* ---- encoding ---- */

/* The secrets of an epoch, in the order of struct mls_epoch_secrets. */
static const size_t secret_offsets[] = {
	offsetof(struct mls_epoch_secrets, joiner_secret),
	offsetof(struct mls_epoch_secrets, welcome_secret),
	offsetof(struct mls_epoch_secrets, sender_data_secret),
	offsetof(struct mls_epoch_secrets, encryption_secret),
	offsetof(struct mls_epoch_secrets, exporter_secret),
	offsetof(struct mls_epoch_secrets, external_secret),
	offsetof(struct mls_epoch_secrets, confirmation_key),
	offsetof(struct mls_epoch_secrets, membership_key),
	offsetof(struct mls_epoch_secrets, resumption_psk),
	offsetof(struct mls_epoch_secrets, epoch_authenticator),
	offsetof(struct mls_epoch_secrets, init_secret),
};
#define N_SECRETS (sizeof(secret_offsets) / sizeof(secret_offsets[0]))

static void secrets_encode(const struct mls_epoch_secrets *e, size_t hl,
			   struct bw_writer *w)
{
	for (size_t i = 0; i < N_SECRETS; i++)
		bw_write_opaque(w, (const uint8_t *)e + secret_offsets[i], hl);
}

static int secrets_decode(struct bw_reader *r, const struct mls_suite *s,
			  struct mls_epoch_secrets *e)
{
	const uint8_t *p = NULL;

	memset(e, 0, sizeof(*e));
	e->suite = s;
	for (size_t i = 0; i < N_SECRETS; i++)
		if (bw_read_opaque_exact(r, s->hash_len, &p) == 0)
			memcpy((uint8_t *)e + secret_offsets[i], p,
			       s->hash_len);
	return r->err;
}

static void cached_encode(const struct mls_cached_proposal *c, size_t hl,
			  struct bw_writer *w)
{
	bw_write_opaque(w, c->ref, hl);
	mls_sender_encode(&c->sender, w);
	mls_proposal_encode(&c->proposal, w);
	mls_write_bytes(w, &c->leaf_priv);
	mls_write_bytes(w, &c->message_hash);
}

static void pending_encode(const struct mls_pending_commit *pc, size_t hl,
			   struct bw_writer *w)
{
	mls_authenticated_content_encode(&pc->ac, w);
	mls_write_bytes(w, &pc->message);
	mls_group_context_encode(&pc->gc, w);
	secrets_encode(&pc->secrets, hl, w);
	bw_write_opaque(w, pc->interim, hl);
	mls_tree_priv_encode(pc->priv, w);
}

int mls_group_state_encode(const struct mls_group *g, struct bw_writer *w)
{
	size_t hl = g->st.suite->hash_len, mark;

	bw_write_u16(w, g->st.suite->id);
	bw_write_u8(w, g->status);
	mls_group_context_encode(&g->st.gc, w);
	mark = bw_write_vector_begin(w);
	mls_tree_encode(g->st.tree, w);
	bw_write_vector_end(w, mark);
	bw_write_opaque(w, g->st.interim, hl);
	bw_write_opaque(w, g->st.confirmation_tag, hl);
	mark = bw_write_vector_begin(w);
	for (size_t i = 0; i < g->st.proposals.n; i++)
		cached_encode(&g->st.proposals.v[i], hl, w);
	bw_write_vector_end(w, mark);
	mls_write_bytes(w, &g->sig_priv);
	mls_tree_priv_encode(g->priv, w);
	secrets_encode(&g->secrets, hl, w);
	mls_secret_tree_encode(g->secret_tree, w);
	mark = bw_write_vector_begin(w);
	for (size_t i = 0; i < g->n_by_value; i++)
		mls_proposal_encode(&g->by_value[i], w);
	bw_write_vector_end(w, mark);
	mark = bw_write_vector_begin(w);
	for (size_t i = 0; i < g->n_resumption; i++) {
		bw_write_u64(w, g->resumption[i].epoch);
		bw_write_opaque(w, g->resumption[i].psk, hl);
	}
	bw_write_vector_end(w, mark);
	bw_write_optional(w, g->pending != NULL);
	if (g->pending != NULL)
		pending_encode(g->pending, hl, w);
	bw_write_optional(w, g->reinit != NULL);
	if (g->reinit != NULL)
		mls_reinit_encode(g->reinit, w);
	bw_write_optional(w, g->reinit_psk != NULL);
	if (g->reinit_psk != NULL) {
		mls_pre_shared_key_id_encode(g->reinit_psk, w);
		bw_write_opaque(w, g->reinit_psk_value, hl);
	}
	return w->err;
}

int mls_group_save(const struct mls_group *g,
		   const uint8_t key[MLS_STATE_KEY_LEN], uint8_t **out,
		   size_t *out_len)
{
	struct bw_writer w;
	int rc;

	*out = NULL;
	*out_len = 0;
	bw_writer_init(&w, STATE_MAX_PAYLOAD);
	if ((rc = mls_group_state_encode(g, &w)) == 0)
		rc = mls_state_seal(STATE_KIND_GROUP, key, w.buf, w.len, out,
				    out_len);
	bw_writer_free(&w);
	return rc;
}

/* ---- decoding ---- */

static int read_tree(struct bw_reader *r, const struct mls_suite *s,
		     struct mls_tree **out)
{
	struct bw_reader sub;

	if (bw_read_vector(r, MLS_MAX_RATCHET_TREE_LEN, &sub) != 0)
		return r->err;
	return mls_tree_decode(s, sub.p, sub.len, out);
}

static int read_hash(struct bw_reader *r, size_t hl, uint8_t *out)
{
	const uint8_t *p = NULL;

	if (bw_read_opaque_exact(r, hl, &p) == 0)
		memcpy(out, p, hl);
	return r->err;
}

static int read_cache(struct bw_reader *r, const struct mls_suite *s,
		      struct mls_proposal_cache *c)
{
	struct mls_cached_proposal *e;
	struct mls_proposal p;
	struct mls_sender sender;
	uint8_t ref[MLS_MAX_HASH_LEN];
	struct bw_reader sub;
	int rc;

	if (bw_read_vector(r, MLS_MAX_PROPOSALS_LEN, &sub) != 0)
		return r->err;
	while (bw_reader_remaining(&sub) > 0) {
		if (read_hash(&sub, s->hash_len, ref) != 0 ||
		    mls_sender_decode(&sub, &sender) != 0 ||
		    mls_proposal_decode(&sub, &p) != 0)
			return MLS_ERR_STATE_CORRUPT;
		if ((rc = mls_proposal_cache_add(c, ref, s->hash_len, &sender,
						 &p, &e)) != 0) {
			mls_proposal_clear(&p);
			return rc;
		}
		if (mls_read_bytes(&sub, MLS_MAX_KEY_LEN, &e->leaf_priv) != 0 ||
		    mls_read_bytes(&sub, MLS_MAX_HASH_VALUE_LEN,
				   &e->message_hash) != 0)
			return MLS_ERR_STATE_CORRUPT;
	}
	return 0;
}

static int read_by_value(struct bw_reader *r, struct mls_group *g)
{
	struct mls_proposal *v;
	struct bw_reader sub;

	if (bw_read_vector(r, MLS_MAX_PROPOSALS_LEN, &sub) != 0)
		return r->err;
	while (bw_reader_remaining(&sub) > 0) {
		if (g->n_by_value >= MLS_GROUP_MAX_PROPOSALS)
			return MLS_ERR_STATE_CORRUPT;
		if ((v = realloc(g->by_value,
				 (g->n_by_value + 1) * sizeof(*v))) == NULL)
			return BW_ERR_NOMEM;
		g->by_value = v;
		if (mls_proposal_decode(&sub, &v[g->n_by_value]) != 0)
			return MLS_ERR_STATE_CORRUPT;
		g->n_by_value++;
	}
	return 0;
}

/* The resumption PSKs; if the configuration now keeps fewer, the newest. */
static int read_resumption(struct bw_reader *r, struct mls_group *g)
{
	struct mls_resumption_psk e;
	struct bw_reader sub;
	size_t hl = g->st.suite->hash_len;

	if (bw_read_vector(r, MLS_MAX_RESUMPTION_EPOCHS * 80u, &sub) != 0)
		return r->err;
	while (bw_reader_remaining(&sub) > 0) {
		if (bw_read_u64(&sub, &e.epoch) != 0 ||
		    read_hash(&sub, hl, e.psk) != 0)
			return MLS_ERR_STATE_CORRUPT;
		if (g->n_resumption == g->resumption_cap) {
			memmove(g->resumption, g->resumption + 1,
				(g->n_resumption - 1) * sizeof(e));
			g->n_resumption--;
		}
		g->resumption[g->n_resumption++] = e;
	}
	OPENSSL_cleanse(&e, sizeof(e));
	return 0;
}

static int read_pending(struct bw_reader *r, const struct mls_suite *s,
			struct mls_pending_commit **out)
{
	struct mls_pending_commit *pc;
	int rc = MLS_ERR_STATE_CORRUPT;

	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return BW_ERR_NOMEM;
	if (mls_authenticated_content_decode(r, &pc->ac) != 0 ||
	    mls_read_bytes(r, BW_WRITER_DEFAULT_MAX, &pc->message) != 0 ||
	    mls_group_context_decode(r, &pc->gc) != 0 ||
	    secrets_decode(r, s, &pc->secrets) != 0 ||
	    read_hash(r, s->hash_len, pc->interim) != 0 ||
	    mls_tree_priv_decode(s, r, &pc->priv) != 0 ||
	    pc->ac.content.content_type != MLS_CONTENT_COMMIT) {
		mls_pending_commit_free(pc);
		return rc;
	}
	*out = pc;
	return 0;
}

/* The ReInit of a reinitialised group, and the reinit PSK of the group
 * that continues one (both optional). */
static int read_reinit(struct bw_reader *r, struct mls_group *g)
{
	bool present = false;

	if (bw_read_optional(r, &present) != 0)
		return r->err;
	if (present) {
		if ((g->reinit = calloc(1, sizeof(*g->reinit))) == NULL)
			return BW_ERR_NOMEM;
		if (mls_reinit_decode(r, g->reinit) != 0)
			return r->err;
	}
	if (bw_read_optional(r, &present) != 0 || !present)
		return r->err;
	if ((g->reinit_psk = calloc(1, sizeof(*g->reinit_psk))) == NULL)
		return BW_ERR_NOMEM;
	if (mls_pre_shared_key_id_decode(r, g->reinit_psk) != 0)
		return r->err;
	return read_hash(r, g->st.suite->hash_len, g->reinit_psk_value);
}

/* The decoded state is one group: the tree is the context's and, unless
 * the member was removed (its keys then belong to a tree that is gone),
 * the private keys are the tree's. */
static int state_consistent(struct mls_group *g)
{
	uint8_t th[MLS_MAX_HASH_LEN];
	size_t hl = g->st.suite->hash_len;

	if (g->st.gc.cipher_suite != g->st.suite->id ||
	    g->status > MLS_GROUP_REINIT ||
	    mls_tree_hash(g->st.tree, th) != 0 ||
	    g->st.gc.tree_hash.len != hl ||
	    memcmp(th, g->st.gc.tree_hash.p, hl) != 0 ||
	    (g->status != MLS_GROUP_REMOVED &&
	     (mls_tree_leaf(g->st.tree, mls_group_leaf(g)) == NULL ||
	      mls_tree_priv_check(g->priv, g->st.tree) != 0)))
		return MLS_ERR_STATE_CORRUPT;
	return 0;
}

static int state_decode(struct bw_reader *r, struct mls_group *g)
{
	const struct mls_suite *s;
	struct mls_group_context gc;
	uint16_t suite = 0;
	bool pending = false;

	bw_read_u16(r, &suite);
	bw_read_u8(r, &g->status);
	if (r->err != 0 || (s = mls_suite_get(suite)) == NULL)
		return MLS_ERR_STATE_CORRUPT;
	g->st.suite = s;
	if (mls_group_context_decode(r, &gc) != 0)
		return MLS_ERR_STATE_CORRUPT;
	if (mls_public_state_set_context(&g->st, &gc) != 0) {
		mls_group_context_clear(&gc);
		return MLS_ERR_STATE_CORRUPT;
	}
	if (read_tree(r, s, &g->st.tree) != 0 ||
	    read_hash(r, s->hash_len, g->st.interim) != 0 ||
	    read_hash(r, s->hash_len, g->st.confirmation_tag) != 0 ||
	    read_cache(r, s, &g->st.proposals) != 0 ||
	    mls_read_bytes(r, MLS_MAX_KEY_LEN, &g->sig_priv) != 0 ||
	    mls_tree_priv_decode(s, r, &g->priv) != 0 ||
	    secrets_decode(r, s, &g->secrets) != 0 ||
	    mls_secret_tree_decode(s, r, &g->secret_tree) != 0 ||
	    read_by_value(r, g) != 0 || read_resumption(r, g) != 0 ||
	    bw_read_optional(r, &pending) != 0 ||
	    (pending && read_pending(r, s, &g->pending) != 0) ||
	    read_reinit(r, g) != 0 || bw_reader_finish(r) != 0 ||
	    (g->status == MLS_GROUP_REINIT) != (g->reinit != NULL))
		return MLS_ERR_STATE_CORRUPT;
	return state_consistent(g);
}

int mls_group_load(const struct mls_config *cfg,
		   const uint8_t key[MLS_STATE_KEY_LEN], const uint8_t *p,
		   size_t n, struct mls_group **out)
{
	struct mls_group *g = NULL;
	uint8_t *pt = NULL;
	size_t pt_len = 0;
	struct bw_reader r;
	int rc;

	*out = NULL;
	if ((g = mls_group_alloc()) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = mls_public_state_set_config(&g->st, cfg)) != 0 ||
	    (rc = mls_group_init_resumption(g)) != 0 ||
	    (rc = mls_state_open(STATE_KIND_GROUP, key, p, n, &pt, &pt_len)) !=
		    0)
		goto out;
	bw_reader_init(&r, pt, pt_len);
	if ((rc = state_decode(&r, g)) != 0)
		goto out;
	*out = g;
	g = NULL; /* transferred */
out:
	bw_free_secret(pt, pt_len + 1);
	mls_group_free(g);
	return rc;
}

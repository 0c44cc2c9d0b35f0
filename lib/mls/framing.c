/*
 * framing.c - PublicMessage and PrivateMessage protection (RFC 9420 §6).
 *
 * Plaintexts of private messages and every derived key are wiped on all
 * paths; tags are compared in constant time (mls_hmac_verify, AEAD).
 */
#include "framing.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "msg_internal.h"

#define SIGN_LABEL "FramedContentTBS"
#define ENCRYPTED_SENDER_DATA_LEN (MLS_SENDER_DATA_LEN + MLS_AEAD_TAG_LEN)

/* ---- checks shared by both message types ---- */

static int check_group_epoch(const struct mls_framing_ctx *ctx,
			     const struct bw_bytes *group_id, uint64_t epoch)
{
	const struct mls_group_context *gc = ctx->group_context;

	if (!bw_bytes_eq(group_id, gc->group_id.p, gc->group_id.len))
		return MLS_ERR_WRONG_GROUP;
	return epoch == gc->epoch ? 0 : MLS_ERR_WRONG_EPOCH;
}

/* §12.1.8 and the IANA "Ext" column: what an external sender may propose. */
static bool external_proposal_allowed(uint16_t type)
{
	switch (type) {
	case MLS_PROPOSAL_ADD:
	case MLS_PROPOSAL_REMOVE:
	case MLS_PROPOSAL_PSK:
	case MLS_PROPOSAL_REINIT:
	case MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS:
		return true;
	}
	return false;
}

/* §6.1: what each kind of sender may send. */
static int check_sender(const struct mls_framed_content *c)
{
	switch (c->sender.type) {
	case MLS_SENDER_MEMBER:
		return 0;
	case MLS_SENDER_EXTERNAL:
		if (c->content_type == MLS_CONTENT_PROPOSAL &&
		    external_proposal_allowed(c->proposal.type))
			return 0;
		break;
	case MLS_SENDER_NEW_MEMBER_COMMIT:
		if (c->content_type == MLS_CONTENT_COMMIT)
			return 0;
		break;
	case MLS_SENDER_NEW_MEMBER_PROPOSAL:
		if (c->content_type == MLS_CONTENT_PROPOSAL &&
		    c->proposal.type == MLS_PROPOSAL_ADD)
			return 0;
		break;
	}
	return MLS_ERR_SENDER_TYPE;
}

/* A sender protects only signed content, with the tag a commit needs. */
static int check_signed(const struct mls_authenticated_content *ac)
{
	if (ac->auth.signature.len == 0 ||
	    (ac->content.content_type == MLS_CONTENT_COMMIT &&
	     ac->auth.confirmation_tag.len == 0))
		return MLS_ERR_INVALID_ARG;
	return 0;
}

/* ---- signature (§6.1) ---- */

/* FramedContentTBS: the GroupContext is signed along for members and new
 * members committing, binding their content to this group and epoch. */
static int tbs_encode(const struct mls_framing_ctx *ctx, uint16_t wire_format,
		      const struct mls_framed_content *c, struct bw_writer *w)
{
	bw_write_u16(w, MLS_PROTOCOL_VERSION_MLS10);
	bw_write_u16(w, wire_format);
	mls_framed_content_encode(c, w);
	if (c->sender.type == MLS_SENDER_MEMBER ||
	    c->sender.type == MLS_SENDER_NEW_MEMBER_COMMIT)
		mls_group_context_encode(ctx->group_context, w);
	return w->err;
}

int mls_framed_content_sign(const struct mls_framing_ctx *ctx,
			    struct mls_authenticated_content *ac,
			    const uint8_t *priv, size_t priv_len)
{
	struct bw_bytes sig = { 0 };
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((rc = tbs_encode(ctx, ac->wire_format, &ac->content, &w)) == 0 &&
	    (rc = mls_sign_with_label(ctx->suite, priv, priv_len, SIGN_LABEL,
				      w.buf, w.len, &sig)) == 0)
		bw_bytes_move(&ac->auth.signature, &sig);
	bw_writer_free(&w);
	return rc;
}

int mls_framed_content_verify(const struct mls_framing_ctx *ctx,
			      const struct mls_authenticated_content *ac,
			      const uint8_t *pub, size_t pub_len)
{
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((rc = tbs_encode(ctx, ac->wire_format, &ac->content, &w)) == 0)
		rc = mls_verify_with_label(ctx->suite, pub, pub_len, SIGN_LABEL,
					   w.buf, w.len, ac->auth.signature.p,
					   ac->auth.signature.len);
	bw_writer_free(&w);
	return rc;
}

/* Verify the signature over tbs with the key the group names. */
static int verify_sender(const struct mls_framing_ctx *ctx,
			 const struct mls_framed_content *c,
			 const struct bw_bytes *signature, const uint8_t *tbs,
			 size_t tbs_len)
{
	const uint8_t *key = NULL;
	size_t key_len = 0;
	int rc;

	if ((rc = ctx->sender_key(ctx->sender_key_arg, c, &key, &key_len)) != 0)
		return rc;
	return mls_verify_with_label(ctx->suite, key, key_len, SIGN_LABEL, tbs,
				     tbs_len, signature->p, signature->len);
}

/* ---- PublicMessage (§6.2) ---- */

/* membership_tag = MAC(membership_key, AuthenticatedContentTBM), where
 * TBM is FramedContentTBS followed by the auth data; w holds the TBS. */
static int membership_tag(const struct mls_framing_ctx *ctx,
			  const struct mls_framed_content *c,
			  const struct mls_auth_data *auth, struct bw_writer *w,
			  uint8_t *tag)
{
	int rc;

	if ((rc = mls_auth_data_encode(auth, c->content_type, w)) != 0)
		return rc;
	return mls_hmac(ctx->suite, ctx->membership_key, ctx->suite->hash_len,
			w->buf, w->len, tag);
}

int mls_public_message_protect(const struct mls_framing_ctx *ctx,
			       const struct mls_authenticated_content *ac,
			       struct bw_writer *w)
{
	const struct mls_framed_content *c = &ac->content;
	uint8_t tag[MLS_MAX_HASH_LEN];
	bool member = c->sender.type == MLS_SENDER_MEMBER;
	struct bw_writer tbm;
	int rc;

	if (ac->wire_format != MLS_WIRE_FORMAT_PUBLIC_MESSAGE)
		return MLS_ERR_WIRE_FORMAT;
	if (c->content_type == MLS_CONTENT_APPLICATION)
		return MLS_ERR_APP_AS_PUBLIC;
	if ((rc = check_group_epoch(ctx, &c->group_id, c->epoch)) != 0 ||
	    (rc = check_sender(c)) != 0 || (rc = check_signed(ac)) != 0)
		return rc;
	bw_writer_init(&tbm, 0);
	if (member &&
	    ((rc = tbs_encode(ctx, ac->wire_format, c, &tbm)) != 0 ||
	     (rc = membership_tag(ctx, c, &ac->auth, &tbm, tag)) != 0))
		goto out;
	bw_write_u16(w, MLS_PROTOCOL_VERSION_MLS10);
	bw_write_u16(w, MLS_WIRE_FORMAT_PUBLIC_MESSAGE);
	mls_framed_content_encode(c, w);
	mls_auth_data_encode(&ac->auth, c->content_type, w);
	if (member)
		bw_write_opaque(w, tag, ctx->suite->hash_len);
	rc = w->err;
out:
	bw_writer_free(&tbm);
	return rc;
}

int mls_public_message_unprotect(const struct mls_framing_ctx *ctx,
				 struct mls_public_message *pm,
				 struct mls_authenticated_content *out)
{
	const struct mls_framed_content *c = &pm->content;
	uint8_t tag[MLS_MAX_HASH_LEN];
	struct bw_writer w;
	size_t tbs_len;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_group_epoch(ctx, &c->group_id, c->epoch)) != 0)
		return rc;
	if (c->content_type == MLS_CONTENT_APPLICATION)
		return MLS_ERR_APP_AS_PUBLIC;
	if ((rc = check_sender(c)) != 0)
		return rc;
	bw_writer_init(&w, 0);
	if ((rc = tbs_encode(ctx, MLS_WIRE_FORMAT_PUBLIC_MESSAGE, c, &w)) != 0)
		goto out;
	tbs_len = w.len;
	/* The cheap symmetric check first: non-members stop here. */
	if (c->sender.type == MLS_SENDER_MEMBER) {
		if ((rc = membership_tag(ctx, c, &pm->auth, &w, tag)) != 0)
			goto out;
		if (!bw_bytes_eq(&pm->membership_tag, tag,
				 ctx->suite->hash_len)) {
			rc = MLS_ERR_MEMBERSHIP_TAG;
			goto out;
		}
	}
	if ((rc = verify_sender(ctx, c, &pm->auth.signature, w.buf,
				tbs_len)) != 0)
		goto out;
	out->wire_format = MLS_WIRE_FORMAT_PUBLIC_MESSAGE;
	out->content = pm->content;
	out->auth = pm->auth;
	memset(&pm->content, 0, sizeof(pm->content)); /* moved to *out */
	memset(&pm->auth, 0, sizeof(pm->auth));
out:
	OPENSSL_cleanse(tag, sizeof(tag));
	bw_writer_free(&w);
	return rc;
}

/* ---- PrivateMessage (§6.3) ---- */

static enum mls_ratchet_type ratchet_for(uint8_t content_type)
{
	return content_type == MLS_CONTENT_APPLICATION ?
		       MLS_RATCHET_APPLICATION : MLS_RATCHET_HANDSHAKE;
}

/* SenderDataAAD, and PrivateContentAAD which adds authenticated_data. */
static int aad_encode(const struct bw_bytes *group_id, uint64_t epoch,
		      uint8_t content_type,
		      const struct bw_bytes *authenticated_data,
		      struct bw_writer *w)
{
	mls_write_bytes(w, group_id);
	bw_write_u64(w, epoch);
	bw_write_u8(w, content_type);
	if (authenticated_data != NULL)
		mls_write_bytes(w, authenticated_data);
	return w->err;
}

/* PrivateMessageContent: content, auth data, then padding zero bytes. */
static int private_content_encode(const struct mls_authenticated_content *ac,
				  size_t padding, struct bw_writer *w)
{
	uint8_t *pad;

	mls_content_body_encode(&ac->content, w);
	mls_auth_data_encode(&ac->auth, ac->content.content_type, w);
	if (padding > 0 && (pad = bw_write_reserve(w, padding)) != NULL)
		memset(pad, 0, padding);
	return w->err;
}

/* §6.3.2: what seals and opens SenderData. Key and nonce come from
 * sender_data_secret and the first Nh bytes of the content ciphertext; the
 * AAD is SenderDataAAD. */
struct sender_data_keys {
	uint8_t key[MLS_MAX_AEAD_KEY_LEN];
	uint8_t nonce[MLS_MAX_AEAD_NONCE_LEN];
	uint8_t aad[MLS_MAX_GROUP_ID_LEN + 16];
	size_t aad_len;
};

static int sender_data_keys(const struct mls_framing_ctx *ctx,
			    const struct bw_bytes *group_id, uint64_t epoch,
			    uint8_t content_type, const uint8_t *ct,
			    size_t ct_len, struct sender_data_keys *k)
{
	const struct mls_suite *s = ctx->suite;
	struct bw_writer aad;
	int rc;

	bw_writer_init_fixed(&aad, k->aad, sizeof(k->aad));
	if ((rc = aad_encode(group_id, epoch, content_type, NULL, &aad)) != 0)
		return rc;
	k->aad_len = aad.len;
	return mls_sender_data_keys(s, ctx->sender_data_secret, s->hash_len,
				    ct, ct_len, k->key, k->nonce);
}

/* Seal SenderData (leaf, generation, guard) into esd, keyed by the
 * content ciphertext ct. */
static int seal_sender_data(const struct mls_framing_ctx *ctx,
			    const struct mls_framed_content *c,
			    uint32_t generation, const uint8_t *guard,
			    const uint8_t *ct, size_t ct_len, uint8_t *esd)
{
	uint8_t sd[MLS_SENDER_DATA_LEN];
	struct sender_data_keys k;
	struct bw_writer sdw;
	int rc;

	bw_writer_init_fixed(&sdw, sd, sizeof(sd));
	bw_write_u32(&sdw, c->sender.index);
	bw_write_u32(&sdw, generation);
	bw_write_bytes(&sdw, guard, MLS_REUSE_GUARD_LEN);
	if ((rc = sdw.err) == 0 &&
	    (rc = sender_data_keys(ctx, &c->group_id, c->epoch,
				   c->content_type, ct, ct_len, &k)) == 0)
		rc = mls_aead_seal(ctx->suite, k.key, k.nonce, k.aad,
				   k.aad_len, sd, sizeof(sd), esd);
	OPENSSL_cleanse(&k, sizeof(k));
	OPENSSL_cleanse(sd, sizeof(sd));
	return rc;
}

/* The message around the two ciphertexts (its first fields are those of
 * PrivateContentAAD), whose room is reserved: the sender data is sealed
 * last because its key depends on the content ciphertext. Offsets, not
 * pointers: reserving may move the buffer. */
static int private_header_write(const struct mls_framed_content *c,
				size_t ct_len, struct bw_writer *w,
				size_t *esd_off, size_t *ct_off)
{
	bw_write_u16(w, MLS_PROTOCOL_VERSION_MLS10);
	bw_write_u16(w, MLS_WIRE_FORMAT_PRIVATE_MESSAGE);
	aad_encode(&c->group_id, c->epoch, c->content_type,
		   &c->authenticated_data, w);
	bw_write_varint(w, ENCRYPTED_SENDER_DATA_LEN);
	*esd_off = w->len;
	bw_write_reserve(w, ENCRYPTED_SENDER_DATA_LEN);
	if (ct_len > BW_VARINT_MAX)
		return mls_writer_fail(w, BW_ERR_TOO_LONG);
	bw_write_varint(w, (uint32_t)ct_len);
	*ct_off = w->len;
	bw_write_reserve(w, ct_len);
	return w->err;
}

static int private_checks(const struct mls_framing_ctx *ctx,
			  const struct mls_authenticated_content *ac)
{
	int rc;

	if (ac->wire_format != MLS_WIRE_FORMAT_PRIVATE_MESSAGE)
		return MLS_ERR_WIRE_FORMAT;
	/* §6.3.2: only members have a leaf index and ratchets. */
	if (ac->content.sender.type != MLS_SENDER_MEMBER)
		return MLS_ERR_SENDER_TYPE;
	if ((rc = check_group_epoch(ctx, &ac->content.group_id,
				    ac->content.epoch)) != 0)
		return rc;
	return check_signed(ac);
}

int mls_private_message_protect(const struct mls_framing_ctx *ctx,
				const struct mls_authenticated_content *ac,
				size_t padding, struct bw_writer *w)
{
	const struct mls_framed_content *c = &ac->content;
	struct mls_ratchet_key key = { 0 };
	uint8_t guard[MLS_REUSE_GUARD_LEN];
	struct bw_writer pt, aad;
	size_t start = w->len, esd_off = 0, ct_off = 0;
	int rc;

	if ((rc = private_checks(ctx, ac)) != 0)
		return rc;
	bw_writer_init(&pt, MLS_MAX_CIPHERTEXT_LEN - MLS_AEAD_TAG_LEN);
	bw_writer_init(&aad, 0);
	if ((rc = private_content_encode(ac, padding, &pt)) != 0 ||
	    (rc = aad_encode(&c->group_id, c->epoch, c->content_type,
			     &c->authenticated_data, &aad)) != 0 ||
	    (rc = mls_secret_tree_next(ctx->secret_tree, c->sender.index,
				       ratchet_for(c->content_type),
				       &key)) != 0 ||
	    (rc = mls_random(guard, sizeof(guard))) != 0)
		goto out;
	/* §6.3.1: the reuse guard protects against a ratchet state lost and
	 * replayed; it is XORed into the first four nonce bytes. */
	for (size_t i = 0; i < MLS_REUSE_GUARD_LEN; i++)
		key.nonce[i] ^= guard[i];
	if ((rc = private_header_write(c, pt.len + MLS_AEAD_TAG_LEN, w,
				       &esd_off, &ct_off)) != 0 ||
	    (rc = mls_aead_seal(ctx->suite, key.key, key.nonce, aad.buf,
				aad.len, pt.buf, pt.len, w->buf + ct_off)) != 0)
		goto out;
	rc = seal_sender_data(ctx, c, key.generation, guard, w->buf + ct_off,
			      pt.len + MLS_AEAD_TAG_LEN, w->buf + esd_off);
out:
	if (rc != 0 && w->err == 0 && w->len > start) {
		OPENSSL_cleanse(w->buf + start, w->len - start);
		w->len = start; /* no half-written message */
	}
	mls_ratchet_key_clear(&key);
	bw_writer_free(&pt);
	bw_writer_free(&aad);
	return rc;
}

/* Decrypt and parse SenderData: the leaf, generation and reuse guard. */
static int open_sender_data(const struct mls_framing_ctx *ctx,
			    const struct mls_private_message *pm,
			    uint32_t *leaf, uint32_t *generation,
			    uint8_t *guard)
{
	uint8_t sd[MLS_SENDER_DATA_LEN];
	struct sender_data_keys k;
	const uint8_t *g = NULL;
	struct bw_reader r;
	int rc;

	/* A SenderData has one size; anything else cannot be authentic. */
	if (pm->encrypted_sender_data.len != ENCRYPTED_SENDER_DATA_LEN)
		return MLS_ERR_AEAD;
	if ((rc = sender_data_keys(ctx, &pm->group_id, pm->epoch,
				   pm->content_type, pm->ciphertext.p,
				   pm->ciphertext.len, &k)) != 0 ||
	    (rc = mls_aead_open(ctx->suite, k.key, k.nonce, k.aad, k.aad_len,
				pm->encrypted_sender_data.p,
				ENCRYPTED_SENDER_DATA_LEN, sd)) != 0)
		goto out;
	bw_reader_init(&r, sd, sizeof(sd));
	bw_read_u32(&r, leaf);
	bw_read_u32(&r, generation);
	if ((rc = bw_read_bytes(&r, MLS_REUSE_GUARD_LEN, &g)) == 0)
		memcpy(guard, g, MLS_REUSE_GUARD_LEN);
out:
	OPENSSL_cleanse(&k, sizeof(k));
	OPENSSL_cleanse(sd, sizeof(sd));
	return rc;
}

/* PrivateMessageContent from the plaintext: §6.3.1 requires the padding,
 * whatever follows the auth data, to be all zero. */
static int private_content_decode(const uint8_t *pt, size_t pt_len,
				  uint8_t content_type,
				  struct mls_authenticated_content *out)
{
	struct bw_reader r;
	uint8_t nonzero = 0;

	bw_reader_init(&r, pt, pt_len);
	mls_content_body_decode(&r, content_type, &out->content);
	mls_auth_data_decode(&r, content_type, &out->auth);
	if (r.err != 0)
		return r.err;
	for (size_t i = r.pos; i < r.len; i++)
		nonzero |= pt[i];
	return nonzero == 0 ? 0 : MLS_ERR_PADDING;
}

/* Decrypt the content with the sender's key for that generation. */
static int open_content(const struct mls_framing_ctx *ctx,
			const struct mls_private_message *pm, uint32_t leaf,
			uint32_t generation, const uint8_t *guard,
			struct mls_authenticated_content *out)
{
	struct mls_ratchet_key key = { 0 };
	size_t pt_len = 0;
	uint8_t *pt = NULL;
	struct bw_writer aad;
	int rc;

	if (pm->ciphertext.len < MLS_AEAD_TAG_LEN)
		return MLS_ERR_AEAD;
	pt_len = pm->ciphertext.len - MLS_AEAD_TAG_LEN;
	bw_writer_init(&aad, 0);
	if ((pt = malloc(pt_len ? pt_len : 1)) == NULL) {
		rc = BW_ERR_NOMEM;
		goto out;
	}
	if ((rc = aad_encode(&pm->group_id, pm->epoch, pm->content_type,
			     &pm->authenticated_data, &aad)) != 0 ||
	    (rc = mls_secret_tree_peek(ctx->secret_tree, leaf,
				       ratchet_for(pm->content_type),
				       generation, &key)) != 0)
		goto out;
	for (size_t i = 0; i < MLS_REUSE_GUARD_LEN; i++)
		key.nonce[i] ^= guard[i];
	/* Only a ciphertext that decrypts uses the key up (RFC 9420 §9.2). */
	if ((rc = mls_aead_open(ctx->suite, key.key, key.nonce, aad.buf,
				aad.len, pm->ciphertext.p, pm->ciphertext.len,
				pt)) != 0 ||
	    (rc = mls_secret_tree_get(ctx->secret_tree, leaf,
				      ratchet_for(pm->content_type),
				      generation, &key)) != 0)
		goto out;
	rc = private_content_decode(pt, pt_len, pm->content_type, out);
out:
	mls_ratchet_key_clear(&key);
	bw_free_secret(pt, pt_len ? pt_len : 1);
	bw_writer_free(&aad);
	return rc;
}

int mls_private_message_unprotect(const struct mls_framing_ctx *ctx,
				  const struct mls_private_message *pm,
				  struct mls_authenticated_content *out)
{
	uint8_t guard[MLS_REUSE_GUARD_LEN];
	uint32_t leaf = 0, generation = 0;
	struct mls_framed_content *c = &out->content;
	struct bw_writer tbs;
	int rc;

	memset(out, 0, sizeof(*out));
	bw_writer_init(&tbs, 0);
	if ((rc = check_group_epoch(ctx, &pm->group_id, pm->epoch)) != 0 ||
	    (rc = open_sender_data(ctx, pm, &leaf, &generation, guard)) != 0 ||
	    (rc = open_content(ctx, pm, leaf, generation, guard, out)) != 0)
		goto out;
	out->wire_format = MLS_WIRE_FORMAT_PRIVATE_MESSAGE;
	c->epoch = pm->epoch;
	c->sender.type = MLS_SENDER_MEMBER;
	c->sender.index = leaf;
	if ((rc = bw_bytes_set(&c->group_id, pm->group_id.p,
			       pm->group_id.len)) != 0 ||
	    (rc = bw_bytes_set(&c->authenticated_data, pm->authenticated_data.p,
			       pm->authenticated_data.len)) != 0 ||
	    (rc = tbs_encode(ctx, out->wire_format, c, &tbs)) != 0)
		goto out;
	rc = verify_sender(ctx, c, &out->auth.signature, tbs.buf, tbs.len);
out:
	if (rc != 0)
		mls_authenticated_content_clear(out);
	bw_writer_free(&tbs);
	OPENSSL_cleanse(guard, sizeof(guard));
	return rc;
}

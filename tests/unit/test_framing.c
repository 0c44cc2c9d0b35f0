/*
 * test_framing.c - PublicMessage and PrivateMessage protection (RFC 9420
 * §6) and transcript hashes (§8.2): round trips in suites 1-3, and every
 * check on receipt failing with its own error: forged signature, wrong
 * membership tag, wrong group or epoch, tampered ciphertext and sender
 * data, non-zero padding, replayed and too-distant generations, leaf index
 * out of range, sender type rules, application data as a PublicMessage.
 */
#include <stdlib.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "framing.h"
#include "messages.h"
#include "secret_tree.h"
#include "test.h"
#include "transcript.h"

#define N_LEAVES 4
#define SENDER 2
#define EXTERNAL_INDEX 0

struct group {
	const struct mls_suite *suite;
	struct mls_group_context gc;
	uint8_t membership_key[MLS_MAX_HASH_LEN];
	uint8_t sender_data_secret[MLS_MAX_HASH_LEN];
	uint8_t encryption_secret[MLS_MAX_HASH_LEN];
	struct bw_bytes sig_priv, sig_pub;     /* the member at SENDER */
	struct bw_bytes other_priv, other_pub; /* the external sender */
	struct mls_secret_tree *send_tree, *recv_tree;
	struct mls_framing_ctx send, recv;
};

/* The group's view of signature keys: SENDER's leaf and one external
 * sender; anyone else is not a member. */
static int sender_key(void *arg, const struct mls_framed_content *c,
		      const uint8_t **key, size_t *key_len)
{
	const struct group *g = arg;

	if (c->sender.type == MLS_SENDER_MEMBER && c->sender.index == SENDER) {
		*key = g->sig_pub.p;
		*key_len = g->sig_pub.len;
		return 0;
	}
	if (c->sender.type == MLS_SENDER_EXTERNAL &&
	    c->sender.index == EXTERNAL_INDEX) {
		*key = g->other_pub.p;
		*key_len = g->other_pub.len;
		return 0;
	}
	return MLS_ERR_NOT_MEMBER;
}

static void ctx_init(struct group *g, struct mls_secret_tree *tree,
		     struct mls_framing_ctx *ctx)
{
	*ctx = (struct mls_framing_ctx){
		.suite = g->suite,
		.group_context = &g->gc,
		.membership_key = g->membership_key,
		.sender_data_secret = g->sender_data_secret,
		.secret_tree = tree,
		.sender_key = sender_key,
		.sender_key_arg = g,
	};
}

static bool random_bytes(struct bw_bytes *b, size_t n)
{
	return bw_bytes_alloc(b, n) == 0 && mls_random(b->p, n) == 0;
}

static bool group_init(struct group *g, uint16_t suite)
{
	size_t nh;

	memset(g, 0, sizeof(*g));
	CHECK((g->suite = mls_suite_get(suite)) != NULL);
	nh = g->suite->hash_len;
	g->gc.version = MLS_PROTOCOL_VERSION_MLS10;
	g->gc.cipher_suite = suite;
	g->gc.epoch = 42;
	CHECK(bw_bytes_set(&g->gc.group_id, "bulwark-test", 12) == 0);
	CHECK(random_bytes(&g->gc.tree_hash, nh));
	CHECK(random_bytes(&g->gc.confirmed_transcript_hash, nh));
	CHECK(mls_random(g->membership_key, nh) == 0);
	CHECK(mls_random(g->sender_data_secret, nh) == 0);
	CHECK(mls_random(g->encryption_secret, nh) == 0);
	CHECK(mls_sig_keygen(g->suite, &g->sig_priv, &g->sig_pub) == 0);
	CHECK(mls_sig_keygen(g->suite, &g->other_priv, &g->other_pub) == 0);
	CHECK(mls_secret_tree_new(g->suite, g->encryption_secret, nh, N_LEAVES,
				  &g->send_tree) == 0);
	CHECK(mls_secret_tree_new(g->suite, g->encryption_secret, nh, N_LEAVES,
				  &g->recv_tree) == 0);
	ctx_init(g, g->send_tree, &g->send);
	ctx_init(g, g->recv_tree, &g->recv);
	return true;
}

static void group_clear(struct group *g)
{
	mls_group_context_clear(&g->gc);
	bw_bytes_clear(&g->sig_priv);
	bw_bytes_clear(&g->sig_pub);
	bw_bytes_clear(&g->other_priv);
	bw_bytes_clear(&g->other_pub);
	mls_secret_tree_free(g->send_tree);
	mls_secret_tree_free(g->recv_tree);
	OPENSSL_cleanse(g, sizeof(*g));
}

/* Content from `sender` of a content type: application data, a Remove
 * proposal, or a Commit by reference with its confirmation tag. */
static bool content_init(struct group *g, struct mls_authenticated_content *ac,
			 uint16_t wire_format, uint8_t content_type,
			 struct mls_sender sender)
{
	struct mls_framed_content *c = &ac->content;
	struct mls_proposal_or_ref *ref;

	memset(ac, 0, sizeof(*ac));
	ac->wire_format = wire_format;
	c->epoch = g->gc.epoch;
	c->sender = sender;
	c->content_type = content_type;
	CHECK(bw_bytes_set(&c->group_id, g->gc.group_id.p,
			   g->gc.group_id.len) == 0);
	CHECK(bw_bytes_set(&c->authenticated_data, "ad", 2) == 0);
	switch (content_type) {
	case MLS_CONTENT_APPLICATION:
		CHECK(bw_bytes_set(&c->application_data, "hello", 5) == 0);
		break;
	case MLS_CONTENT_PROPOSAL:
		c->proposal.type = MLS_PROPOSAL_REMOVE;
		c->proposal.remove = 3;
		break;
	case MLS_CONTENT_COMMIT:
		CHECK((ref = calloc(1, sizeof(*ref))) != NULL);
		c->commit.proposals = ref;
		c->commit.n_proposals = 1;
		ref->type = MLS_PROPOSAL_OR_REF_REFERENCE;
		CHECK(random_bytes(&ref->reference, g->suite->hash_len));
		CHECK(random_bytes(&ac->auth.confirmation_tag,
				   g->suite->hash_len));
		break;
	}
	return true;
}

static const struct mls_sender member = { MLS_SENDER_MEMBER, SENDER };

/* Signed content from SENDER. */
static bool signed_content(struct group *g, struct mls_authenticated_content *ac,
			   uint16_t wire_format, uint8_t content_type)
{
	CHECK(content_init(g, ac, wire_format, content_type, member));
	CHECK(mls_framed_content_sign(&g->send, ac, g->sig_priv.p,
				      g->sig_priv.len) == 0);
	return true;
}

static int protect(struct group *g, const struct mls_authenticated_content *ac,
		   size_t padding, struct bw_writer *w)
{
	if (ac->wire_format == MLS_WIRE_FORMAT_PUBLIC_MESSAGE)
		return mls_public_message_protect(&g->send, ac, w);
	return mls_private_message_protect(&g->send, ac, padding, w);
}

/* Decode and unprotect; on success *out holds the content. */
static int unprotect(const struct mls_framing_ctx *ctx, const uint8_t *p,
		     size_t n, struct mls_authenticated_content *out)
{
	struct mls_message m;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = mls_message_decode(p, n, &m)) != 0)
		return rc;
	if (m.wire_format == MLS_WIRE_FORMAT_PUBLIC_MESSAGE)
		rc = mls_public_message_unprotect(ctx, &m.public_message, out);
	else if (m.wire_format == MLS_WIRE_FORMAT_PRIVATE_MESSAGE)
		rc = mls_private_message_unprotect(ctx, &m.private_message, out);
	else
		rc = MLS_ERR_WIRE_FORMAT;
	mls_message_clear(&m);
	return rc;
}

static int unprotect_rc(const struct mls_framing_ctx *ctx,
			const struct bw_writer *w)
{
	struct mls_authenticated_content out;
	int rc = unprotect(ctx, w->buf, w->len, &out);

	mls_authenticated_content_clear(&out);
	return rc;
}

static bool same_encoding(const struct mls_authenticated_content *a,
			  const struct mls_authenticated_content *b)
{
	struct bw_writer wa, wb;
	bool same;

	bw_writer_init(&wa, 0);
	bw_writer_init(&wb, 0);
	mls_authenticated_content_encode(a, &wa);
	mls_authenticated_content_encode(b, &wb);
	same = wa.err == 0 && wb.err == 0 && wa.len == wb.len &&
	       memcmp(wa.buf, wb.buf, wa.len) == 0;
	bw_writer_free(&wa);
	bw_writer_free(&wb);
	return same;
}

/* Protect content of a type as a wire format and get it back unchanged. */
static bool roundtrip(struct group *g, uint16_t wire_format,
		      uint8_t content_type, size_t padding)
{
	struct mls_authenticated_content ac, got;
	struct bw_writer w;
	int rc;

	CHECK(signed_content(g, &ac, wire_format, content_type));
	bw_writer_init(&w, 0);
	CHECK(protect(g, &ac, padding, &w) == 0);
	rc = unprotect(&g->recv, w.buf, w.len, &got);
	CHECK_EQ_INT(rc, 0);
	CHECK(same_encoding(&ac, &got));
	mls_authenticated_content_clear(&got);
	mls_authenticated_content_clear(&ac);
	bw_writer_free(&w);
	return true;
}

static bool test_roundtrip_all_suites(void)
{
	struct group g;

	for (uint16_t suite = 1; suite <= 3; suite++) {
		CHECK(group_init(&g, suite));
		CHECK(roundtrip(&g, MLS_WIRE_FORMAT_PUBLIC_MESSAGE,
				MLS_CONTENT_PROPOSAL, 0));
		CHECK(roundtrip(&g, MLS_WIRE_FORMAT_PUBLIC_MESSAGE,
				MLS_CONTENT_COMMIT, 0));
		for (size_t pad = 0; pad <= 300; pad += 100) {
			CHECK(roundtrip(&g, MLS_WIRE_FORMAT_PRIVATE_MESSAGE,
					MLS_CONTENT_APPLICATION, pad));
			CHECK(roundtrip(&g, MLS_WIRE_FORMAT_PRIVATE_MESSAGE,
					MLS_CONTENT_PROPOSAL, pad));
			CHECK(roundtrip(&g, MLS_WIRE_FORMAT_PRIVATE_MESSAGE,
					MLS_CONTENT_COMMIT, pad));
		}
		group_clear(&g);
	}
	return true;
}

/* Content signed with someone else's key: the membership tag is right
 * (a member could compute it), the signature is not SENDER's. */
static bool forged_rc(uint16_t wire_format, int *rc)
{
	struct mls_authenticated_content ac;
	struct bw_writer w;
	struct group g;

	CHECK(group_init(&g, 1));
	CHECK(content_init(&g, &ac, wire_format, MLS_CONTENT_PROPOSAL, member));
	CHECK(mls_framed_content_sign(&g.send, &ac, g.other_priv.p,
				      g.other_priv.len) == 0);
	bw_writer_init(&w, 0);
	CHECK(protect(&g, &ac, 0, &w) == 0);
	*rc = unprotect_rc(&g.recv, &w);
	bw_writer_free(&w);
	mls_authenticated_content_clear(&ac);
	group_clear(&g);
	return true;
}

static bool test_forged_signature(void)
{
	int rc;

	CHECK(forged_rc(MLS_WIRE_FORMAT_PUBLIC_MESSAGE, &rc));
	CHECK_EQ_INT(rc, MLS_ERR_SIGNATURE);
	CHECK(forged_rc(MLS_WIRE_FORMAT_PRIVATE_MESSAGE, &rc));
	CHECK_EQ_INT(rc, MLS_ERR_SIGNATURE);
	return true;
}

static bool test_wrong_membership_tag(void)
{
	struct mls_authenticated_content ac, out;
	uint8_t other_key[MLS_MAX_HASH_LEN] = { 0 };
	struct bw_bytes *tag;
	struct mls_framing_ctx ctx;
	struct mls_message m;
	struct bw_writer w;
	struct group g;

	CHECK(group_init(&g, 2));
	CHECK(signed_content(&g, &ac, MLS_WIRE_FORMAT_PUBLIC_MESSAGE,
			     MLS_CONTENT_COMMIT));
	bw_writer_init(&w, 0);
	CHECK(protect(&g, &ac, 0, &w) == 0);
	/* another membership key: not a member of this epoch */
	ctx = g.recv;
	ctx.membership_key = other_key;
	CHECK_EQ_INT(unprotect_rc(&ctx, &w), MLS_ERR_MEMBERSHIP_TAG);
	/* the tag is the message's last field: flip its last bit */
	w.buf[w.len - 1] ^= 1;
	CHECK(mls_message_decode(w.buf, w.len, &m) == 0);
	CHECK_EQ_INT(mls_public_message_unprotect(&g.recv, &m.public_message,
						  &out),
		     MLS_ERR_MEMBERSHIP_TAG);
	/* nothing moved out of the message on failure */
	CHECK_EQ_INT(m.public_message.content.content_type, MLS_CONTENT_COMMIT);
	CHECK(m.public_message.auth.signature.len > 0);
	CHECK(out.content.content_type == 0 && out.auth.signature.p == NULL);
	/* and with the tag restored it goes through */
	tag = &m.public_message.membership_tag;
	tag->p[tag->len - 1] ^= 1;
	CHECK_EQ_INT(mls_public_message_unprotect(&g.recv, &m.public_message,
						  &out), 0);
	CHECK(same_encoding(&ac, &out));
	mls_authenticated_content_clear(&out);
	mls_message_clear(&m);
	mls_authenticated_content_clear(&ac);
	bw_writer_free(&w);
	group_clear(&g);
	return true;
}

static bool wrong_context_case(uint16_t wire_format)
{
	struct mls_authenticated_content ac;
	struct mls_group_context gc;
	struct mls_framing_ctx ctx;
	struct bw_writer w;
	struct group g;

	CHECK(group_init(&g, 3));
	CHECK(signed_content(&g, &ac, wire_format, MLS_CONTENT_PROPOSAL));
	bw_writer_init(&w, 0);
	CHECK(protect(&g, &ac, 0, &w) == 0);
	ctx = g.recv;
	ctx.group_context = &gc;
	gc = g.gc; /* shallow: same bytes, another epoch */
	gc.epoch = g.gc.epoch + 1;
	CHECK_EQ_INT(unprotect_rc(&ctx, &w), MLS_ERR_WRONG_EPOCH);
	gc.epoch = g.gc.epoch - 1;
	CHECK_EQ_INT(unprotect_rc(&ctx, &w), MLS_ERR_WRONG_EPOCH);
	gc.epoch = g.gc.epoch;
	gc.group_id.len--; /* a prefix of the group id is another group */
	CHECK_EQ_INT(unprotect_rc(&ctx, &w), MLS_ERR_WRONG_GROUP);
	/* the failures consumed nothing */
	CHECK_EQ_INT(unprotect_rc(&g.recv, &w), 0);
	/* a sender is refused content that is not for its context */
	CHECK_EQ_INT(ac.wire_format == MLS_WIRE_FORMAT_PUBLIC_MESSAGE ?
			     mls_public_message_protect(&ctx, &ac, &w) :
			     mls_private_message_protect(&ctx, &ac, 0, &w),
		     MLS_ERR_WRONG_GROUP);
	mls_authenticated_content_clear(&ac);
	bw_writer_free(&w);
	group_clear(&g);
	return true;
}

static bool test_wrong_epoch_and_group(void)
{
	CHECK(wrong_context_case(MLS_WIRE_FORMAT_PUBLIC_MESSAGE));
	CHECK(wrong_context_case(MLS_WIRE_FORMAT_PRIVATE_MESSAGE));
	return true;
}

/* A private message, its decoded form, for byte surgery. */
static bool private_message(struct group *g, uint8_t content_type,
			    struct bw_writer *w, struct mls_message *m)
{
	struct mls_authenticated_content ac;

	CHECK(signed_content(g, &ac, MLS_WIRE_FORMAT_PRIVATE_MESSAGE,
			     content_type));
	bw_writer_init(w, 0);
	CHECK(protect(g, &ac, 0, w) == 0);
	mls_authenticated_content_clear(&ac);
	CHECK(mls_message_decode(w->buf, w->len, m) == 0);
	return true;
}

static int private_rc(struct group *g, const struct mls_message *m)
{
	struct mls_authenticated_content out;
	int rc = mls_private_message_unprotect(&g->recv, &m->private_message,
					       &out);

	mls_authenticated_content_clear(&out);
	return rc;
}

static bool test_tampered_private_message(void)
{
	struct mls_private_message *pm;
	struct mls_message m;
	struct bw_writer w;
	struct group g;

	CHECK(group_init(&g, 1));
	CHECK(private_message(&g, MLS_CONTENT_APPLICATION, &w, &m));
	pm = &m.private_message;
	/* sender data: its ciphertext, its AAD (content type), its key
	 * (the sample of the content ciphertext) */
	pm->encrypted_sender_data.p[3] ^= 0x80;
	CHECK_EQ_INT(private_rc(&g, &m), MLS_ERR_AEAD);
	pm->encrypted_sender_data.p[3] ^= 0x80;
	pm->content_type = MLS_CONTENT_PROPOSAL;
	CHECK_EQ_INT(private_rc(&g, &m), MLS_ERR_AEAD);
	pm->content_type = MLS_CONTENT_APPLICATION;
	pm->ciphertext.p[0] ^= 1;
	CHECK_EQ_INT(private_rc(&g, &m), MLS_ERR_AEAD);
	pm->ciphertext.p[0] ^= 1;
	/* a sender data of the wrong size */
	pm->encrypted_sender_data.len--;
	CHECK_EQ_INT(private_rc(&g, &m), MLS_ERR_AEAD);
	pm->encrypted_sender_data.len++;
	/* none of that used the key: the message still opens */
	CHECK_EQ_INT(private_rc(&g, &m), 0);
	mls_message_clear(&m);
	bw_writer_free(&w);

	/* content: its tag, and its AAD (authenticated_data); a copy that
	 * fails to decrypt does not use up the generation of the real one */
	CHECK(private_message(&g, MLS_CONTENT_APPLICATION, &w, &m));
	pm = &m.private_message;
	pm->ciphertext.p[pm->ciphertext.len - 1] ^= 1;
	CHECK_EQ_INT(private_rc(&g, &m), MLS_ERR_AEAD);
	pm->ciphertext.p[pm->ciphertext.len - 1] ^= 1;
	CHECK_EQ_INT(private_rc(&g, &m), 0);
	CHECK_EQ_INT(private_rc(&g, &m), MLS_ERR_GENERATION_CONSUMED);
	mls_message_clear(&m);
	bw_writer_free(&w);
	CHECK(private_message(&g, MLS_CONTENT_APPLICATION, &w, &m));
	m.private_message.authenticated_data.p[0] ^= 1;
	CHECK_EQ_INT(private_rc(&g, &m), MLS_ERR_AEAD);
	mls_message_clear(&m);
	bw_writer_free(&w);
	group_clear(&g);
	return true;
}

/* A PrivateMessage built by hand from the primitives, with plaintext pt
 * (content, auth data and padding as the caller wants them): reuse guard
 * zero, key from the sender's ratchet (§6.3). */
static bool seal_by_hand(struct group *g, uint8_t content_type,
			 const struct bw_writer *pt, struct bw_writer *out)
{
	const struct mls_suite *s = g->suite;
	uint8_t sd[MLS_SENDER_DATA_LEN] = { 0 }, esd[MLS_SENDER_DATA_LEN + 16];
	uint8_t sd_key[MLS_MAX_AEAD_KEY_LEN], sd_nonce[MLS_MAX_AEAD_NONCE_LEN];
	struct mls_ratchet_key key;
	struct bw_writer aad, sd_aad;
	uint8_t *ct;

	CHECK(mls_secret_tree_next(g->send_tree, SENDER,
				   content_type == MLS_CONTENT_APPLICATION ?
					   MLS_RATCHET_APPLICATION :
					   MLS_RATCHET_HANDSHAKE,
				   &key) == 0);
	CHECK((ct = malloc(pt->len + 16)) != NULL);
	bw_writer_init(&aad, 0);
	bw_write_opaque(&aad, g->gc.group_id.p, g->gc.group_id.len);
	bw_write_u64(&aad, g->gc.epoch);
	bw_write_u8(&aad, content_type);
	bw_writer_init(&sd_aad, 0);
	bw_write_bytes(&sd_aad, aad.buf, aad.len); /* SenderDataAAD */
	bw_write_opaque(&aad, "ad", 2);            /* PrivateContentAAD */
	CHECK(mls_aead_seal(s, key.key, key.nonce, aad.buf, aad.len, pt->buf,
			    pt->len, ct) == 0);
	CHECK(mls_sender_data_keys(s, g->sender_data_secret, s->hash_len, ct,
				   pt->len + 16, sd_key, sd_nonce) == 0);
	sd[3] = SENDER;
	sd[7] = (uint8_t)key.generation;
	CHECK(mls_aead_seal(s, sd_key, sd_nonce, sd_aad.buf, sd_aad.len, sd,
			    sizeof(sd), esd) == 0);
	bw_writer_init(out, 0);
	bw_write_u16(out, MLS_PROTOCOL_VERSION_MLS10);
	bw_write_u16(out, MLS_WIRE_FORMAT_PRIVATE_MESSAGE);
	bw_write_bytes(out, aad.buf, aad.len);
	bw_write_opaque(out, esd, sizeof(esd));
	bw_write_opaque(out, ct, pt->len + 16);
	CHECK(out->err == 0);
	free(ct);
	bw_writer_free(&aad);
	bw_writer_free(&sd_aad);
	mls_ratchet_key_clear(&key);
	return true;
}

/* Application data signed by SENDER, then padding with one byte set at
 * nonzero_at (or none if nonzero_at >= pad_len). */
static bool padded_rc(struct group *g, size_t pad_len, size_t nonzero_at,
		      int *rc)
{
	struct mls_authenticated_content ac;
	struct bw_writer pt, msg;
	uint8_t *pad;

	CHECK(signed_content(g, &ac, MLS_WIRE_FORMAT_PRIVATE_MESSAGE,
			     MLS_CONTENT_APPLICATION));
	bw_writer_init(&pt, 0);
	mls_content_body_encode(&ac.content, &pt);
	mls_auth_data_encode(&ac.auth, MLS_CONTENT_APPLICATION, &pt);
	CHECK((pad = bw_write_reserve(&pt, pad_len)) != NULL);
	memset(pad, 0, pad_len);
	if (nonzero_at < pad_len)
		pad[nonzero_at] = 0x01;
	CHECK(seal_by_hand(g, MLS_CONTENT_APPLICATION, &pt, &msg));
	*rc = unprotect_rc(&g->recv, &msg);
	bw_writer_free(&pt);
	bw_writer_free(&msg);
	mls_authenticated_content_clear(&ac);
	return true;
}

static bool test_nonzero_padding(void)
{
	struct group g;
	int rc;

	CHECK(group_init(&g, 1));
	CHECK(padded_rc(&g, 64, 64, &rc)); /* all zero: accepted */
	CHECK_EQ_INT(rc, 0);
	CHECK(padded_rc(&g, 64, 0, &rc));
	CHECK_EQ_INT(rc, MLS_ERR_PADDING);
	CHECK(padded_rc(&g, 64, 63, &rc));
	CHECK_EQ_INT(rc, MLS_ERR_PADDING);
	CHECK(padded_rc(&g, 1, 0, &rc));
	CHECK_EQ_INT(rc, MLS_ERR_PADDING);
	group_clear(&g);
	return true;
}

static bool test_replayed_and_reordered_generations(void)
{
	struct mls_authenticated_content ac;
	struct bw_writer w[4];
	struct group g;

	CHECK(group_init(&g, 3));
	for (size_t i = 0; i < 4; i++) {
		CHECK(signed_content(&g, &ac, MLS_WIRE_FORMAT_PRIVATE_MESSAGE,
				     MLS_CONTENT_APPLICATION));
		bw_writer_init(&w[i], 0);
		CHECK(protect(&g, &ac, 0, &w[i]) == 0);
		mls_authenticated_content_clear(&ac);
	}
	/* out of order is fine, each generation once */
	CHECK_EQ_INT(unprotect_rc(&g.recv, &w[2]), 0);
	CHECK_EQ_INT(unprotect_rc(&g.recv, &w[0]), 0);
	CHECK_EQ_INT(unprotect_rc(&g.recv, &w[0]), MLS_ERR_GENERATION_CONSUMED);
	CHECK_EQ_INT(unprotect_rc(&g.recv, &w[3]), 0);
	CHECK_EQ_INT(unprotect_rc(&g.recv, &w[1]), 0);
	CHECK_EQ_INT(unprotect_rc(&g.recv, &w[3]), MLS_ERR_GENERATION_CONSUMED);
	CHECK_EQ_INT(unprotect_rc(&g.recv, &w[2]), MLS_ERR_GENERATION_CONSUMED);
	for (size_t i = 0; i < 4; i++)
		bw_writer_free(&w[i]);
	group_clear(&g);
	return true;
}

static bool test_generation_too_far(void)
{
	struct mls_authenticated_content ac;
	struct bw_writer w;
	struct group g;

	CHECK(group_init(&g, 1));
	mls_secret_tree_set_limits(g.recv_tree, 3, MLS_DEFAULT_MAX_RETAINED);
	for (size_t i = 0; i < 5; i++) {
		CHECK(signed_content(&g, &ac, MLS_WIRE_FORMAT_PRIVATE_MESSAGE,
				     MLS_CONTENT_PROPOSAL));
		bw_writer_init(&w, 0);
		CHECK(protect(&g, &ac, 0, &w) == 0);
		mls_authenticated_content_clear(&ac);
		if (i < 4)
			bw_writer_free(&w);
	}
	CHECK_EQ_INT(unprotect_rc(&g.recv, &w), MLS_ERR_GENERATION_TOO_FAR);
	bw_writer_free(&w);
	group_clear(&g);
	return true;
}

/* A sender the receiver's tree does not have. */
static bool test_leaf_index_out_of_range(void)
{
	struct mls_authenticated_content ac;
	struct mls_secret_tree *bigger = NULL;
	struct mls_sender far = { MLS_SENDER_MEMBER, N_LEAVES + 1 };
	struct bw_writer w;
	struct group g;

	CHECK(group_init(&g, 2));
	CHECK(content_init(&g, &ac, MLS_WIRE_FORMAT_PRIVATE_MESSAGE,
			   MLS_CONTENT_APPLICATION, far));
	CHECK(mls_framed_content_sign(&g.send, &ac, g.sig_priv.p,
				      g.sig_priv.len) == 0);
	bw_writer_init(&w, 0);
	CHECK_EQ_INT(mls_private_message_protect(&g.send, &ac, 0, &w),
		     MLS_ERR_LEAF_INDEX);
	CHECK_EQ_INT(w.len, 0);
	CHECK(mls_secret_tree_new(g.suite, g.encryption_secret,
				  g.suite->hash_len, 2 * N_LEAVES,
				  &bigger) == 0);
	g.send.secret_tree = bigger;
	CHECK(mls_private_message_protect(&g.send, &ac, 0, &w) == 0);
	CHECK_EQ_INT(unprotect_rc(&g.recv, &w), MLS_ERR_LEAF_INDEX);
	mls_secret_tree_free(bigger);
	mls_authenticated_content_clear(&ac);
	bw_writer_free(&w);
	group_clear(&g);
	return true;
}

/* Encode a PublicMessage the protect side would refuse to produce. */
static bool encode_public(const struct mls_authenticated_content *ac,
			  struct bw_writer *w)
{
	struct mls_message m = { .version = MLS_PROTOCOL_VERSION_MLS10,
				 .wire_format = MLS_WIRE_FORMAT_PUBLIC_MESSAGE };
	static uint8_t tag[32];

	m.public_message.content = ac->content;
	m.public_message.auth = ac->auth;
	m.public_message.membership_tag.p = tag;
	m.public_message.membership_tag.len = sizeof(tag);
	bw_writer_init(w, 0);
	return mls_message_encode(&m, w) == 0; /* m borrows: not cleared */
}

/* Content of a type from a sender, signed by the external key: the rc of
 * protecting it as a PublicMessage, and of unprotecting it encoded. */
static bool sender_rule_rc(struct group *g, struct mls_sender sender,
			   uint8_t content_type, uint16_t proposal_type,
			   int *protect_rc, int *unprotect_rc_out)
{
	struct mls_authenticated_content ac;
	struct bw_writer w;

	CHECK(content_init(g, &ac, MLS_WIRE_FORMAT_PUBLIC_MESSAGE,
			   content_type, sender));
	if (proposal_type == MLS_PROPOSAL_EXTERNAL_INIT) {
		mls_proposal_clear(&ac.content.proposal);
		ac.content.proposal.type = proposal_type;
		CHECK(bw_bytes_set(&ac.content.proposal.external_init, "k",
				   1) == 0);
	}
	CHECK(mls_framed_content_sign(&g->send, &ac, g->other_priv.p,
				      g->other_priv.len) == 0);
	bw_writer_init(&w, 0);
	*protect_rc = mls_public_message_protect(&g->send, &ac, &w);
	bw_writer_free(&w);
	CHECK(encode_public(&ac, &w));
	*unprotect_rc_out = unprotect_rc(&g->recv, &w);
	bw_writer_free(&w);
	mls_authenticated_content_clear(&ac);
	return true;
}

static bool test_sender_type_rules(void)
{
	const struct mls_sender ext = { MLS_SENDER_EXTERNAL, EXTERNAL_INDEX };
	const struct mls_sender nmp = { MLS_SENDER_NEW_MEMBER_PROPOSAL, 0 };
	const struct mls_sender nmc = { MLS_SENDER_NEW_MEMBER_COMMIT, 0 };
	struct group g;
	int p, u;

	CHECK(group_init(&g, 1));
	/* an external sender may propose a Remove, and it verifies */
	CHECK(sender_rule_rc(&g, ext, MLS_CONTENT_PROPOSAL,
			     MLS_PROPOSAL_REMOVE, &p, &u));
	CHECK_EQ_INT(p, 0);
	CHECK_EQ_INT(u, 0);
	/* ... but not an ExternalInit, nor a Commit */
	CHECK(sender_rule_rc(&g, ext, MLS_CONTENT_PROPOSAL,
			     MLS_PROPOSAL_EXTERNAL_INIT, &p, &u));
	CHECK_EQ_INT(p, MLS_ERR_SENDER_TYPE);
	CHECK_EQ_INT(u, MLS_ERR_SENDER_TYPE);
	CHECK(sender_rule_rc(&g, ext, MLS_CONTENT_COMMIT, 0, &p, &u));
	CHECK_EQ_INT(p, MLS_ERR_SENDER_TYPE);
	CHECK_EQ_INT(u, MLS_ERR_SENDER_TYPE);
	/* a new member proposes only its Add, commits only a Commit */
	CHECK(sender_rule_rc(&g, nmp, MLS_CONTENT_PROPOSAL,
			     MLS_PROPOSAL_REMOVE, &p, &u));
	CHECK_EQ_INT(p, MLS_ERR_SENDER_TYPE);
	CHECK_EQ_INT(u, MLS_ERR_SENDER_TYPE);
	CHECK(sender_rule_rc(&g, nmc, MLS_CONTENT_PROPOSAL,
			     MLS_PROPOSAL_REMOVE, &p, &u));
	CHECK_EQ_INT(p, MLS_ERR_SENDER_TYPE);
	CHECK_EQ_INT(u, MLS_ERR_SENDER_TYPE);
	/* a new member commit whose key the group does not know */
	CHECK(sender_rule_rc(&g, nmc, MLS_CONTENT_COMMIT, 0, &p, &u));
	CHECK_EQ_INT(p, 0);
	CHECK_EQ_INT(u, MLS_ERR_NOT_MEMBER);
	group_clear(&g);
	return true;
}

static bool test_application_never_public(void)
{
	struct mls_authenticated_content ac;
	struct bw_writer w;
	struct group g;

	CHECK(group_init(&g, 1));
	CHECK(signed_content(&g, &ac, MLS_WIRE_FORMAT_PUBLIC_MESSAGE,
			     MLS_CONTENT_APPLICATION));
	bw_writer_init(&w, 0);
	CHECK_EQ_INT(mls_public_message_protect(&g.send, &ac, &w),
		     MLS_ERR_APP_AS_PUBLIC);
	CHECK_EQ_INT(w.len, 0);
	CHECK(encode_public(&ac, &w));
	CHECK_EQ_INT(unprotect_rc(&g.recv, &w), MLS_ERR_APP_AS_PUBLIC);
	bw_writer_free(&w);
	mls_authenticated_content_clear(&ac);
	group_clear(&g);
	return true;
}

static bool test_protect_refuses_bad_input(void)
{
	struct mls_authenticated_content ac;
	const struct mls_sender ext = { MLS_SENDER_EXTERNAL, EXTERNAL_INDEX };
	struct bw_writer w;
	struct group g;

	CHECK(group_init(&g, 1));
	bw_writer_init(&w, 0);
	/* wire format and protection disagree */
	CHECK(signed_content(&g, &ac, MLS_WIRE_FORMAT_PRIVATE_MESSAGE,
			     MLS_CONTENT_PROPOSAL));
	CHECK_EQ_INT(mls_public_message_protect(&g.send, &ac, &w),
		     MLS_ERR_WIRE_FORMAT);
	ac.wire_format = MLS_WIRE_FORMAT_PUBLIC_MESSAGE;
	CHECK_EQ_INT(mls_private_message_protect(&g.send, &ac, 0, &w),
		     MLS_ERR_WIRE_FORMAT);
	mls_authenticated_content_clear(&ac);
	/* unsigned content, and a commit without its confirmation tag */
	CHECK(content_init(&g, &ac, MLS_WIRE_FORMAT_PRIVATE_MESSAGE,
			   MLS_CONTENT_COMMIT, member));
	CHECK_EQ_INT(mls_private_message_protect(&g.send, &ac, 0, &w),
		     MLS_ERR_INVALID_ARG);
	CHECK(mls_framed_content_sign(&g.send, &ac, g.sig_priv.p,
				      g.sig_priv.len) == 0);
	bw_bytes_clear(&ac.auth.confirmation_tag);
	CHECK_EQ_INT(mls_private_message_protect(&g.send, &ac, 0, &w),
		     MLS_ERR_INVALID_ARG);
	mls_authenticated_content_clear(&ac);
	/* only members send private messages (§6.3.2) */
	CHECK(content_init(&g, &ac, MLS_WIRE_FORMAT_PRIVATE_MESSAGE,
			   MLS_CONTENT_PROPOSAL, ext));
	CHECK(mls_framed_content_sign(&g.send, &ac, g.other_priv.p,
				      g.other_priv.len) == 0);
	CHECK_EQ_INT(mls_private_message_protect(&g.send, &ac, 0, &w),
		     MLS_ERR_SENDER_TYPE);
	CHECK_EQ_INT(w.len, 0);
	mls_authenticated_content_clear(&ac);
	bw_writer_free(&w);
	group_clear(&g);
	return true;
}

static bool test_framed_content_verify(void)
{
	struct mls_authenticated_content ac;
	struct group g;

	CHECK(group_init(&g, 2));
	CHECK(signed_content(&g, &ac, MLS_WIRE_FORMAT_PUBLIC_MESSAGE,
			     MLS_CONTENT_PROPOSAL));
	CHECK_EQ_INT(mls_framed_content_verify(&g.recv, &ac, g.sig_pub.p,
					       g.sig_pub.len), 0);
	CHECK_EQ_INT(mls_framed_content_verify(&g.recv, &ac, g.other_pub.p,
					       g.other_pub.len),
		     MLS_ERR_SIGNATURE);
	/* the signature covers the wire format */
	ac.wire_format = MLS_WIRE_FORMAT_PRIVATE_MESSAGE;
	CHECK_EQ_INT(mls_framed_content_verify(&g.recv, &ac, g.sig_pub.p,
					       g.sig_pub.len),
		     MLS_ERR_SIGNATURE);
	mls_authenticated_content_clear(&ac);
	group_clear(&g);
	return true;
}

static bool test_transcript_and_confirmation_tag(void)
{
	uint8_t confirmed[MLS_MAX_HASH_LEN], interim[MLS_MAX_HASH_LEN];
	uint8_t again[MLS_MAX_HASH_LEN], key[MLS_MAX_HASH_LEN];
	uint8_t tag[MLS_MAX_HASH_LEN];
	struct mls_authenticated_content ac;
	struct group g;
	size_t nh;

	CHECK(group_init(&g, 1));
	nh = g.suite->hash_len;
	CHECK(signed_content(&g, &ac, MLS_WIRE_FORMAT_PUBLIC_MESSAGE,
			     MLS_CONTENT_COMMIT));
	CHECK(mls_random(key, nh) == 0);
	/* a new group's first commit starts from the empty interim hash */
	CHECK(mls_confirmed_transcript_hash(g.suite, NULL, 0, &ac,
					    confirmed) == 0);
	CHECK(mls_confirmation_tag(g.suite, key, confirmed, tag) == 0);
	CHECK(bw_bytes_set(&ac.auth.confirmation_tag, tag, nh) == 0);
	CHECK_EQ_INT(mls_confirmation_tag_verify(g.suite, key, confirmed, tag,
						 nh), 0);
	CHECK(mls_transcript_hashes_update(g.suite, NULL, 0, &ac, again,
					   interim) == 0);
	CHECK_MEM(again, nh, confirmed, nh);
	CHECK(mls_interim_transcript_hash(g.suite, confirmed, tag, nh,
					  again) == 0);
	CHECK_MEM(again, nh, interim, nh);
	/* a wrong tag, a short tag, another key */
	tag[0] ^= 1;
	CHECK_EQ_INT(mls_confirmation_tag_verify(g.suite, key, confirmed, tag,
						 nh), MLS_ERR_CONFIRMATION_TAG);
	tag[0] ^= 1;
	CHECK_EQ_INT(mls_confirmation_tag_verify(g.suite, key, confirmed, tag,
						 nh - 1),
		     MLS_ERR_CONFIRMATION_TAG);
	key[nh - 1] ^= 1;
	CHECK_EQ_INT(mls_confirmation_tag_verify(g.suite, key, confirmed, tag,
						 nh), MLS_ERR_CONFIRMATION_TAG);
	mls_authenticated_content_clear(&ac);
	/* only a Commit enters the transcript */
	CHECK(signed_content(&g, &ac, MLS_WIRE_FORMAT_PUBLIC_MESSAGE,
			     MLS_CONTENT_PROPOSAL));
	CHECK_EQ_INT(mls_confirmed_transcript_hash(g.suite, interim, nh, &ac,
						   confirmed),
		     MLS_ERR_CONTENT_TYPE);
	mls_authenticated_content_clear(&ac);
	group_clear(&g);
	return true;
}

int main(void)
{
	int failed = 0;

	RUN(test_roundtrip_all_suites, &failed);
	RUN(test_forged_signature, &failed);
	RUN(test_wrong_membership_tag, &failed);
	RUN(test_wrong_epoch_and_group, &failed);
	RUN(test_tampered_private_message, &failed);
	RUN(test_nonzero_padding, &failed);
	RUN(test_replayed_and_reordered_generations, &failed);
	RUN(test_generation_too_far, &failed);
	RUN(test_leaf_index_out_of_range, &failed);
	RUN(test_sender_type_rules, &failed);
	RUN(test_application_never_public, &failed);
	RUN(test_protect_refuses_bad_input, &failed);
	RUN(test_framed_content_verify, &failed);
	RUN(test_transcript_and_confirmation_tag, &failed);
	return failed == 0 ? 0 : 1;
}

/*
 * fuzz_private_content.c - PrivateMessage unprotection (RFC 9420 §6.3)
 * past the AEAD: any member can encrypt arbitrary bytes as
 * PrivateMessageContent, so the plaintext parser (content, auth data,
 * padding) is fuzzed by sealing the input with the group's keys and
 * unprotecting it. Input: one byte selecting the content type, then the
 * plaintext.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"

#define LEAF 1

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fixture {
	const struct mls_suite *suite;
	struct mls_group_context gc;
	uint8_t secret[32];
	struct mls_secret_tree *send, *recv;
	struct mls_framing_ctx ctx;
	struct bw_bytes sig_pub, sig_priv;
};

static int sender_key(void *arg, const struct mls_framed_content *c,
		      const uint8_t **key, size_t *key_len)
{
	const struct fixture *f = arg;

	if (c->sender.index != LEAF)
		abort(); /* the leaf comes from the sender data we sealed */
	*key = f->sig_pub.p;
	*key_len = f->sig_pub.len;
	return 0;
}

/* One group for the whole run; sender and receiver trees advance in step
 * because every input's sender data is authentic. */
static struct fixture *fixture(void)
{
	static struct fixture f;
	static const uint8_t gid[] = "fuzz-group";

	if (f.suite != NULL)
		return &f;
	f.suite = mls_suite_get(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
	f.gc.version = MLS_PROTOCOL_VERSION_MLS10;
	f.gc.cipher_suite = f.suite->id;
	f.gc.epoch = 5;
	memset(f.secret, 0x5a, sizeof(f.secret));
	if (bw_bytes_set(&f.gc.group_id, gid, sizeof(gid) - 1) != 0 ||
	    mls_sig_keygen(f.suite, &f.sig_priv, &f.sig_pub) != 0 ||
	    mls_secret_tree_new(f.suite, f.secret, 32, 2, &f.send) != 0 ||
	    mls_secret_tree_new(f.suite, f.secret, 32, 2, &f.recv) != 0)
		abort();
	f.ctx = (struct mls_framing_ctx){
		.suite = f.suite, .group_context = &f.gc,
		.membership_key = f.secret, .sender_data_secret = f.secret,
		.secret_tree = f.recv, .sender_key = sender_key,
		.sender_key_arg = &f,
	};
	return &f;
}

/* Seal pt as a PrivateMessage from LEAF (reuse guard zero). */
static void seal(struct fixture *f, uint8_t content_type, const uint8_t *pt,
		 size_t pt_len, struct mls_private_message *pm)
{
	const struct mls_suite *s = f->suite;
	uint8_t sd[MLS_SENDER_DATA_LEN] = { 0, 0, 0, LEAF };
	uint8_t key[MLS_MAX_AEAD_KEY_LEN], nonce[MLS_MAX_AEAD_NONCE_LEN];
	struct mls_ratchet_key rk;
	struct bw_writer aad;

	pm->content_type = content_type;
	pm->epoch = f->gc.epoch;
	bw_writer_init(&aad, 0);
	bw_write_opaque(&aad, f->gc.group_id.p, f->gc.group_id.len);
	bw_write_u64(&aad, pm->epoch);
	bw_write_u8(&aad, content_type);
	bw_write_opaque(&aad, NULL, 0); /* authenticated_data */
	if (mls_secret_tree_next(f->send, LEAF,
				 content_type == MLS_CONTENT_APPLICATION ?
					 MLS_RATCHET_APPLICATION :
					 MLS_RATCHET_HANDSHAKE,
				 &rk) != 0 ||
	    bw_bytes_set(&pm->group_id, f->gc.group_id.p,
			 f->gc.group_id.len) != 0 ||
	    bw_bytes_alloc(&pm->ciphertext, pt_len + MLS_AEAD_TAG_LEN) != 0 ||
	    bw_bytes_alloc(&pm->encrypted_sender_data,
			   sizeof(sd) + MLS_AEAD_TAG_LEN) != 0 ||
	    mls_aead_seal(s, rk.key, rk.nonce, aad.buf, aad.len, pt, pt_len,
			  pm->ciphertext.p) != 0 ||
	    mls_sender_data_keys(s, f->secret, 32, pm->ciphertext.p,
				 pm->ciphertext.len, key, nonce) != 0)
		abort();
	sd[4] = (uint8_t)(rk.generation >> 24);
	sd[5] = (uint8_t)(rk.generation >> 16);
	sd[6] = (uint8_t)(rk.generation >> 8);
	sd[7] = (uint8_t)rk.generation;
	/* SenderDataAAD is PrivateContentAAD without authenticated_data. */
	if (mls_aead_seal(s, key, nonce, aad.buf, aad.len - 1, sd, sizeof(sd),
			  pm->encrypted_sender_data.p) != 0)
		abort();
	mls_ratchet_key_clear(&rk);
	bw_writer_free(&aad);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fixture *f = fixture();
	struct mls_private_message pm = { 0 };
	struct mls_authenticated_content out;
	int rc;

	if (size < 1 || size > 65536)
		return 0;
	seal(f, (uint8_t)(data[0] % 3 + 1), data + 1, size - 1, &pm);
	rc = mls_private_message_unprotect(&f->ctx, &pm, &out);
	/* The key schedule side must accept every sealed input: anything
	 * but a content error means the fixture lost step. */
	if (rc == MLS_ERR_AEAD || rc == MLS_ERR_GENERATION_CONSUMED ||
	    rc == MLS_ERR_GENERATION_TOO_FAR)
		abort();
	if (rc != 0 && (out.content.content_type != 0 ||
			out.auth.signature.p != NULL))
		abort(); /* not cleared on failure */
	mls_authenticated_content_clear(&out);
	mls_private_message_clear(&pm);
	return 0;
}

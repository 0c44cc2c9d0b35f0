/*
 * bench_framing.c - cost of protecting and unprotecting a 1 KiB
 * application message as a PrivateMessage (RFC 9420 §6.3), per cipher
 * suite, against the raw primitives it cannot avoid.
 *
 *   bench_framing [seconds per measurement, default 1]
 *
 * protect   = sign the FramedContentTBS, next key of the sender's ratchet,
 *             seal the content, derive the sender-data key and nonce,
 *             seal the sender data, write the MLSMessage;
 * unprotect = decode the MLSMessage, open the sender data, take the key of
 *             the generation from the receiver's secret tree, open the
 *             content, parse it, verify the signature.
 * The floor of protect is one AEAD seal of 1 KiB plus one signature, of
 * unprotect one AEAD open of 1 KiB plus one verification, all through EVP
 * with contexts prepared once; the ratio to it is the cost of MLS around
 * the primitives (key derivations, encodings, allocation). The last
 * column is the part of that which the crypto provider spends turning the
 * signature key's wire form into an EVP_PKEY on every call. Times are
 * process CPU time. Prints a Markdown table for docs/benchmarks.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "bench_util.h"
#include "crypto.h"
#include "framing.h"
#include "messages.h"
#include "secret_tree.h"

#define MSG_LEN 1024
#define BATCH 256
#define SENDER 3
#define N_LEAVES 8

/* ---- the group ---- */

struct bench {
	const struct mls_suite *suite;
	struct mls_group_context gc;
	uint8_t secret[MLS_MAX_HASH_LEN];
	struct bw_bytes sig_priv, sig_pub;
	struct mls_secret_tree *send_tree, *recv_tree;
	struct mls_framing_ctx send, recv;
	struct mls_authenticated_content ac;
	struct bw_writer out;
	struct bw_writer msgs[BATCH];
};

static int sender_key(void *arg, const struct mls_framed_content *c,
		      const uint8_t **key, size_t *key_len)
{
	const struct bench *b = arg;

	if (c->sender.index != SENDER)
		return MLS_ERR_NOT_MEMBER;
	*key = b->sig_pub.p;
	*key_len = b->sig_pub.len;
	return 0;
}

static void bench_init(struct bench *b, uint16_t suite)
{
	struct mls_framed_content *c = &b->ac.content;
	size_t nh;

	memset(b, 0, sizeof(*b));
	if ((b->suite = mls_suite_get(suite)) == NULL)
		bench_die("suite");
	nh = b->suite->hash_len;
	b->gc.version = MLS_PROTOCOL_VERSION_MLS10;
	b->gc.cipher_suite = suite;
	b->gc.epoch = 1;
	if (mls_random(b->secret, nh) != 0 ||
	    bw_bytes_set(&b->gc.group_id, b->secret, 16) != 0 ||
	    bw_bytes_set(&b->gc.tree_hash, b->secret, nh) != 0 ||
	    bw_bytes_set(&b->gc.confirmed_transcript_hash, b->secret, nh) != 0 ||
	    mls_sig_keygen(b->suite, &b->sig_priv, &b->sig_pub) != 0 ||
	    mls_secret_tree_new(b->suite, b->secret, nh, N_LEAVES,
				&b->send_tree) != 0 ||
	    mls_secret_tree_new(b->suite, b->secret, nh, N_LEAVES,
				&b->recv_tree) != 0)
		bench_die("setup");
	b->send = (struct mls_framing_ctx){
		.suite = b->suite, .group_context = &b->gc,
		.membership_key = b->secret, .sender_data_secret = b->secret,
		.secret_tree = b->send_tree, .sender_key = sender_key,
		.sender_key_arg = b,
	};
	b->recv = b->send;
	b->recv.secret_tree = b->recv_tree;
	b->ac.wire_format = MLS_WIRE_FORMAT_PRIVATE_MESSAGE;
	c->epoch = b->gc.epoch;
	c->sender.type = MLS_SENDER_MEMBER;
	c->sender.index = SENDER;
	c->content_type = MLS_CONTENT_APPLICATION;
	if (bw_bytes_set(&c->group_id, b->gc.group_id.p, b->gc.group_id.len) !=
		    0 ||
	    bw_bytes_alloc(&c->application_data, MSG_LEN) != 0)
		bench_die("content");
	bw_writer_init(&b->out, 0);
	for (size_t i = 0; i < BATCH; i++)
		bw_writer_init(&b->msgs[i], 0);
}

static void bench_clear(struct bench *b)
{
	mls_authenticated_content_clear(&b->ac);
	mls_group_context_clear(&b->gc);
	bw_bytes_clear(&b->sig_priv);
	bw_bytes_clear(&b->sig_pub);
	mls_secret_tree_free(b->send_tree);
	mls_secret_tree_free(b->recv_tree);
	bw_writer_free(&b->out);
	for (size_t i = 0; i < BATCH; i++)
		bw_writer_free(&b->msgs[i]);
}

/* What a sender does per application message: sign, then protect. */
static int protect_into(struct bench *b, struct bw_writer *w)
{
	int rc;

	bw_writer_reset(w);
	if ((rc = mls_framed_content_sign(&b->send, &b->ac, b->sig_priv.p,
					  b->sig_priv.len)) != 0)
		return rc;
	return mls_private_message_protect(&b->send, &b->ac, 0, w);
}

static int op_protect(void *arg)
{
	struct bench *b = arg;

	return protect_into(b, &b->out);
}

static int unprotect_one(struct bench *b, const struct bw_writer *w)
{
	struct mls_authenticated_content got;
	struct mls_message m;
	int rc;

	if ((rc = mls_message_decode(w->buf, w->len, &m)) != 0)
		return rc;
	rc = mls_private_message_unprotect(&b->recv, &m.private_message, &got);
	mls_authenticated_content_clear(&got);
	mls_message_clear(&m);
	return rc;
}

/* Each generation opens once: protect a batch untimed, then time its
 * unprotection; repeat until enough time is spent. */
static double time_unprotect(struct bench *b)
{
	unsigned long n = 0;
	double elapsed = 0, start;

	do {
		for (size_t i = 0; i < BATCH; i++)
			if (protect_into(b, &b->msgs[i]) != 0)
				bench_die("protect");
		start = bench_now();
		for (size_t i = 0; i < BATCH; i++)
			if (unprotect_one(b, &b->msgs[i]) != 0)
				bench_die("unprotect");
		elapsed += bench_now() - start;
		n += BATCH;
	} while (elapsed < bench_seconds_per_op);
	return elapsed * 1e6 / (double)n;
}

/* ---- raw primitives through EVP, contexts prepared once ---- */

struct raw_aead {
	EVP_CIPHER_CTX *ctx;
	int enc;
	uint8_t nonce[MLS_MAX_AEAD_NONCE_LEN];
	uint8_t in[MSG_LEN + MLS_AEAD_TAG_LEN], out[MSG_LEN + MLS_AEAD_TAG_LEN];
};

static int op_raw_aead(void *arg)
{
	struct raw_aead *a = arg;
	int n;

	if (EVP_CipherInit_ex(a->ctx, NULL, NULL, NULL, a->nonce, a->enc) != 1 ||
	    EVP_CipherUpdate(a->ctx, NULL, &n, a->nonce, 8) != 1 ||
	    EVP_CipherUpdate(a->ctx, a->out, &n, a->in, MSG_LEN) != 1)
		return -1;
	if (!a->enc && EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG,
					   MLS_AEAD_TAG_LEN,
					   a->in + MSG_LEN) != 1)
		return -1;
	if (EVP_CipherFinal_ex(a->ctx, a->out + MSG_LEN, &n) != 1)
		return -1;
	if (a->enc && EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG,
					  MLS_AEAD_TAG_LEN,
					  a->out + MSG_LEN) != 1)
		return -1;
	return 0;
}

/* Seal and open 1 KiB with the suite's AEAD: microseconds each. */
static void raw_aead_costs(const struct mls_suite *s, double *seal,
			   double *open)
{
	struct raw_aead a = { .enc = 1 };
	uint8_t key[MLS_MAX_AEAD_KEY_LEN] = { 1 };

	if ((a.ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex2(a.ctx, s->aead, key, a.nonce, 1, NULL) != 1)
		bench_die("raw AEAD setup");
	*seal = bench_time_op("raw seal", op_raw_aead, &a);
	/* open what was sealed last, so the tag verifies */
	memcpy(a.in, a.out, sizeof(a.in));
	a.enc = 0;
	*open = bench_time_op("raw open", op_raw_aead, &a);
	EVP_CIPHER_CTX_free(a.ctx);
}

struct raw_sig {
	const struct mls_suite *suite;
	EVP_PKEY *key;
	uint8_t msg[256], sig[MLS_MAX_SIG_LEN];
	size_t sig_len;
};

static const char *sig_digest(const struct mls_suite *s)
{
	return s->sig_alg == MLS_SIG_ED25519 ? NULL : "SHA256";
}

static int op_raw_sign(void *arg)
{
	struct raw_sig *r = arg;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = -1;

	r->sig_len = sizeof(r->sig);
	if (md != NULL &&
	    EVP_DigestSignInit_ex(md, NULL, sig_digest(r->suite), NULL, NULL,
				  r->key, NULL) == 1 &&
	    EVP_DigestSign(md, r->sig, &r->sig_len, r->msg,
			   sizeof(r->msg)) == 1)
		rc = 0;
	EVP_MD_CTX_free(md);
	return rc;
}

static int op_raw_verify(void *arg)
{
	struct raw_sig *r = arg;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = -1;

	if (md != NULL &&
	    EVP_DigestVerifyInit_ex(md, NULL, sig_digest(r->suite), NULL, NULL,
				    r->key, NULL) == 1 &&
	    EVP_DigestVerify(md, r->sig, r->sig_len, r->msg,
			     sizeof(r->msg)) == 1)
		rc = 0;
	EVP_MD_CTX_free(md);
	return rc;
}

struct key_import {
	const struct bench *b;
	bool priv;
};

/* What SignWithLabel and VerifyWithLabel do before the primitive: turn
 * the key's wire form into an EVP_PKEY. */
static int op_key_import(void *arg)
{
	const struct key_import *k = arg;
	const struct bw_bytes *key = k->priv ? &k->b->sig_priv : &k->b->sig_pub;
	EVP_PKEY *pk = NULL;
	int rc = k->priv ? mls_sig_pkey_private(k->b->suite, key->p, key->len,
						&pk) :
			   mls_sig_pkey_public(k->b->suite, key->p, key->len,
					       &pk);

	EVP_PKEY_free(pk);
	return rc;
}

/* One signature and one verification of a TBS-sized message. */
static void raw_sig_costs(const struct bench *b, double *sign, double *verify)
{
	struct raw_sig r = { .suite = b->suite };

	if (mls_sig_pkey_private(b->suite, b->sig_priv.p, b->sig_priv.len,
				 &r.key) != 0)
		bench_die("raw signature key");
	*sign = bench_time_op("raw sign", op_raw_sign, &r);
	*verify = bench_time_op("raw verify", op_raw_verify, &r);
	EVP_PKEY_free(r.key);
}

int main(int argc, char **argv)
{
	static const uint16_t suites[] = { 1, 2, 3 };
	static struct bench b;

	bench_parse_seconds(argc, argv);
	printf("| suite | protect µs | protect/s | unprotect µs | unprotect/s "
	       "| AEAD 1 KiB seal / open µs | sign / verify µs "
	       "| protect ÷ floor | unprotect ÷ floor "
	       "| key import priv / pub µs |\n"
	       "|---|---|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		double prot, unprot, seal, open, sign, verify, kpriv, kpub;
		struct key_import k = { &b, true };

		bench_init(&b, suites[i]);
		/* unprotect first: the receiver must follow the sender's
		 * ratchet, which timing protect alone runs far ahead */
		unprot = time_unprotect(&b);
		prot = bench_time_op("protect", op_protect, &b);
		raw_aead_costs(b.suite, &seal, &open);
		raw_sig_costs(&b, &sign, &verify);
		kpriv = bench_time_op("private key import", op_key_import, &k);
		k.priv = false;
		kpub = bench_time_op("public key import", op_key_import, &k);
		printf("| %u %s | %.1f | %.0f | %.1f | %.0f | %.2f / %.2f "
		       "| %.1f / %.1f | %.2f | %.2f | %.1f / %.1f |\n",
		       suites[i], b.suite->name, prot, 1e6 / prot, unprot,
		       1e6 / unprot, seal, open, sign, verify,
		       prot / (seal + sign), unprot / (open + verify), kpriv,
		       kpub);
		bench_clear(&b);
	}
	return 0;
}

/*
 * test_crypto.c - the MLS crypto provider (lib/mls/crypto.c) beyond what
 * the official vectors cover: failures must be the right ones (tampered
 * AEAD input, wrong signature inputs, malformed keys), outputs of failed
 * operations are wiped, key generation is consistent, and KDF lengths are
 * bounded. Every test runs for suites 1, 2 and 3.
 */
#include <stdlib.h>

#include "crypto.h"
#include "test.h"

static const uint16_t suite_ids[] = {
	MLS_SUITE_X25519_AES128GCM_SHA256_ED25519,
	MLS_SUITE_P256_AES128GCM_SHA256_P256,
	MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519,
};
#define N_SUITES (sizeof(suite_ids) / sizeof(suite_ids[0]))

static const uint8_t msg[] = "the quick brown fox jumps over the lazy dog";
#define MSG_LEN (sizeof(msg) - 1)
static const uint8_t aad[] = "header";
#define AAD_LEN (sizeof(aad) - 1)

static bool test_suites_known(void)
{
	for (size_t i = 0; i < N_SUITES; i++) {
		const struct mls_suite *s = mls_suite_get(suite_ids[i]);

		CHECK(s != NULL && s->id == suite_ids[i] && s->hash_len == 32);
	}
	CHECK(mls_suite_get(0) == NULL);
	CHECK(mls_suite_get(4) == NULL);
	return true;
}

/* Open after one change fails with MLS_ERR_AEAD and leaves zeros. */
static bool open_fails_wiped(const struct mls_suite *s, const uint8_t *key,
			     const uint8_t *nonce, const uint8_t *a,
			     size_t a_len, const uint8_t *ct, size_t ct_len)
{
	uint8_t pt[MSG_LEN], zero[MSG_LEN] = { 0 };

	memset(pt, 0xaa, sizeof(pt));
	CHECK(mls_aead_open(s, key, nonce, a, a_len, ct, ct_len, pt) ==
	      MLS_ERR_AEAD);
	CHECK(ct_len < MLS_AEAD_TAG_LEN ||
	      memcmp(pt, zero, ct_len - MLS_AEAD_TAG_LEN) == 0);
	return true;
}

static bool aead_tamper(const struct mls_suite *s)
{
	uint8_t key[MLS_MAX_AEAD_KEY_LEN], nonce[MLS_MAX_AEAD_NONCE_LEN];
	uint8_t ct[MSG_LEN + MLS_AEAD_TAG_LEN], pt[MSG_LEN];
	uint8_t aad2[AAD_LEN];

	CHECK(mls_random(key, s->key_len) == 0);
	CHECK(mls_random(nonce, s->nonce_len) == 0);
	CHECK(mls_aead_seal(s, key, nonce, aad, AAD_LEN, msg, MSG_LEN, ct) == 0);
	CHECK(mls_aead_open(s, key, nonce, aad, AAD_LEN, ct, sizeof(ct), pt) ==
	      0);
	CHECK_MEM(pt, MSG_LEN, msg, MSG_LEN);

	ct[sizeof(ct) - 1] ^= 0x01; /* tag */
	CHECK(open_fails_wiped(s, key, nonce, aad, AAD_LEN, ct, sizeof(ct)));
	ct[sizeof(ct) - 1] ^= 0x01;
	ct[3] ^= 0x40; /* ciphertext byte */
	CHECK(open_fails_wiped(s, key, nonce, aad, AAD_LEN, ct, sizeof(ct)));
	ct[3] ^= 0x40;
	memcpy(aad2, aad, AAD_LEN);
	aad2[0] ^= 0x01; /* associated data */
	CHECK(open_fails_wiped(s, key, nonce, aad2, AAD_LEN, ct, sizeof(ct)));
	CHECK(open_fails_wiped(s, key, nonce, NULL, 0, ct, sizeof(ct)));
	CHECK(open_fails_wiped(s, key, nonce, aad, AAD_LEN, ct,
			       sizeof(ct) - 1)); /* truncated */
	CHECK(open_fails_wiped(s, key, nonce, aad, AAD_LEN, ct,
			       MLS_AEAD_TAG_LEN - 1)); /* shorter than a tag */
	nonce[0] ^= 0x01;
	CHECK(open_fails_wiped(s, key, nonce, aad, AAD_LEN, ct, sizeof(ct)));
	nonce[0] ^= 0x01;
	key[0] ^= 0x01;
	CHECK(open_fails_wiped(s, key, nonce, aad, AAD_LEN, ct, sizeof(ct)));
	return true;
}

/* An empty plaintext still carries a tag that is checked. */
static bool aead_empty(const struct mls_suite *s)
{
	uint8_t key[MLS_MAX_AEAD_KEY_LEN] = { 1 }, nonce[MLS_MAX_AEAD_NONCE_LEN];
	uint8_t tag[MLS_AEAD_TAG_LEN];

	memset(nonce, 2, sizeof(nonce));
	CHECK(mls_aead_seal(s, key, nonce, aad, AAD_LEN, NULL, 0, tag) == 0);
	CHECK(mls_aead_open(s, key, nonce, aad, AAD_LEN, tag, sizeof(tag),
			    NULL) == 0);
	tag[0] ^= 1;
	CHECK(mls_aead_open(s, key, nonce, aad, AAD_LEN, tag, sizeof(tag),
			    NULL) == MLS_ERR_AEAD);
	return true;
}

static bool keygen_sign_verify(const struct mls_suite *s)
{
	struct bw_bytes priv = { 0 }, pub = { 0 }, again = { 0 }, sig = { 0 };
	bool ok;

	CHECK(mls_sig_keygen(s, &priv, &pub) == 0);
	CHECK_EQ_INT(priv.len, 32);
	CHECK_EQ_INT(pub.len, s->sig_alg == MLS_SIG_ED25519 ? 32 : 65);
	ok = mls_sig_public(s, priv.p, priv.len, &again) == 0 &&
	     bw_bytes_eq(&again, pub.p, pub.len) &&
	     mls_sign_with_label(s, priv.p, priv.len, "Label", msg, MSG_LEN,
				 &sig) == 0 &&
	     mls_verify_with_label(s, pub.p, pub.len, "Label", msg, MSG_LEN,
				   sig.p, sig.len) == 0;
	bw_bytes_clear(&priv);
	bw_bytes_clear(&pub);
	bw_bytes_clear(&again);
	bw_bytes_clear(&sig);
	CHECK(ok);
	return true;
}

/* A signature fails against another key, label or content, and when it is
 * altered or truncated. */
static bool signature_wrong_inputs(const struct mls_suite *s)
{
	struct bw_bytes priv = { 0 }, pub = { 0 }, priv2 = { 0 }, pub2 = { 0 };
	struct bw_bytes sig = { 0 };
	uint8_t content[MSG_LEN];
	bool ok;

	CHECK(mls_sig_keygen(s, &priv, &pub) == 0);
	CHECK(mls_sig_keygen(s, &priv2, &pub2) == 0);
	memcpy(content, msg, MSG_LEN);
	ok = mls_sign_with_label(s, priv.p, priv.len, "Label", content,
				 MSG_LEN, &sig) == 0;
	ok = ok && mls_verify_with_label(s, pub2.p, pub2.len, "Label", content,
					 MSG_LEN, sig.p, sig.len) ==
			   MLS_ERR_SIGNATURE;
	ok = ok && mls_verify_with_label(s, pub.p, pub.len, "Label2", content,
					 MSG_LEN, sig.p, sig.len) ==
			   MLS_ERR_SIGNATURE;
	/* "MLS 1.0 " is part of what is signed: an empty label differs too */
	ok = ok && mls_verify_with_label(s, pub.p, pub.len, "", content,
					 MSG_LEN, sig.p, sig.len) ==
			   MLS_ERR_SIGNATURE;
	content[0] ^= 1;
	ok = ok && mls_verify_with_label(s, pub.p, pub.len, "Label", content,
					 MSG_LEN, sig.p, sig.len) ==
			   MLS_ERR_SIGNATURE;
	content[0] ^= 1;
	ok = ok && mls_verify_with_label(s, pub.p, pub.len, "Label", content,
					 MSG_LEN - 1, sig.p, sig.len) ==
			   MLS_ERR_SIGNATURE;
	ok = ok && mls_verify_with_label(s, pub.p, pub.len, "Label", content,
					 MSG_LEN, sig.p, sig.len - 1) ==
			   MLS_ERR_SIGNATURE;
	ok = ok && mls_verify_with_label(s, pub.p, pub.len, "Label", content,
					 MSG_LEN, sig.p, 0) ==
			   MLS_ERR_SIGNATURE;
	sig.p[sig.len / 2] ^= 0x10;
	ok = ok && mls_verify_with_label(s, pub.p, pub.len, "Label", content,
					 MSG_LEN, sig.p, sig.len) ==
			   MLS_ERR_SIGNATURE;
	bw_bytes_clear(&priv);
	bw_bytes_clear(&pub);
	bw_bytes_clear(&priv2);
	bw_bytes_clear(&pub2);
	bw_bytes_clear(&sig);
	CHECK(ok);
	return true;
}

/* Malformed signature keys are MLS_ERR_BAD_KEY, never a verify result. */
static bool malformed_sig_keys(const struct mls_suite *s)
{
	struct bw_bytes priv = { 0 }, pub = { 0 }, sig = { 0 }, out = { 0 };
	uint8_t bad[65];
	EVP_PKEY *pk = NULL;
	bool ok;

	CHECK(mls_sig_keygen(s, &priv, &pub) == 0);
	CHECK(mls_sign_with_label(s, priv.p, priv.len, "L", msg, MSG_LEN,
				  &sig) == 0);
	memcpy(bad, pub.p, pub.len);
	ok = mls_verify_with_label(s, pub.p, pub.len - 1, "L", msg, MSG_LEN,
				   sig.p, sig.len) == MLS_ERR_BAD_KEY &&
	     mls_sig_pkey_public(s, pub.p, 0, &pk) == MLS_ERR_BAD_KEY &&
	     pk == NULL &&
	     mls_sign_with_label(s, priv.p, priv.len - 1, "L", msg, MSG_LEN,
				 &out) == MLS_ERR_BAD_KEY &&
	     mls_sig_public(s, priv.p, priv.len - 1, &out) ==
		     MLS_ERR_BAD_KEY &&
	     out.len == 0;
	if (s->sig_alg == MLS_SIG_ECDSA_P256_SHA256) {
		bad[64] ^= 1; /* off the curve */
		ok = ok && mls_verify_with_label(s, bad, 65, "L", msg, MSG_LEN,
						 sig.p, sig.len) ==
				   MLS_ERR_BAD_KEY;
		bad[64] ^= 1;
		bad[0] = 0x02; /* not the uncompressed form */
		ok = ok && mls_verify_with_label(s, bad, 65, "L", msg, MSG_LEN,
						 sig.p, sig.len) ==
				   MLS_ERR_BAD_KEY;
		ok = ok && mls_verify_with_label(s, bad, 33, "L", msg, MSG_LEN,
						 sig.p, sig.len) ==
				   MLS_ERR_BAD_KEY;
		memset(bad + 1, 0xff, 64); /* coordinates not below p */
		bad[0] = 0x04;
		ok = ok && mls_sig_pkey_public(s, bad, 65, &pk) ==
				   MLS_ERR_BAD_KEY;
	}
	bw_bytes_clear(&priv);
	bw_bytes_clear(&pub);
	bw_bytes_clear(&sig);
	CHECK(ok);
	return true;
}

/* P-256 private keys are scalars in [1, order-1]. */
static bool p256_private_range(void)
{
	static const uint8_t order[32] = {
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
		0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
	};
	static const uint8_t zero[32];
	const struct mls_suite *s =
		mls_suite_get(MLS_SUITE_P256_AES128GCM_SHA256_P256);
	struct bw_bytes pub = { 0 }, sig = { 0 };

	CHECK(mls_sig_public(s, zero, 32, &pub) == MLS_ERR_BAD_KEY);
	CHECK(mls_sig_public(s, order, 32, &pub) == MLS_ERR_BAD_KEY);
	CHECK(mls_sign_with_label(s, order, 32, "L", msg, MSG_LEN, &sig) ==
	      MLS_ERR_BAD_KEY);
	CHECK(pub.len == 0 && sig.len == 0);
	return true;
}

/* EncryptWithLabel: malformed HPKE public keys are MLS_ERR_BAD_KEY; the
 * wrong label, context or key fails to decrypt; a short ciphertext too. */
static bool encrypt_with_label(const struct mls_suite *s)
{
	struct bw_bytes priv = { 0 }, pub = { 0 }, kem = { 0 }, ct = { 0 };
	struct bw_bytes pt = { 0 }, priv2 = { 0 }, pub2 = { 0 };
	uint8_t seed[32] = { 7 }, bad[65];
	bool ok;

	CHECK(mls_kem_derive_keypair(s, seed, sizeof(seed), &priv, &pub) == 0);
	seed[0]++;
	CHECK(mls_kem_derive_keypair(s, seed, sizeof(seed), &priv2, &pub2) ==
	      0);
	ok = mls_encrypt_with_label(s, pub.p, pub.len, "L", "ctx", 3, msg,
				    MSG_LEN, &kem, &ct) == 0 &&
	     mls_decrypt_with_label(s, priv.p, priv.len, "L", "ctx", 3, kem.p,
				    kem.len, ct.p, ct.len, &pt) == 0 &&
	     bw_bytes_eq(&pt, msg, MSG_LEN);
	bw_bytes_clear(&pt);
	ok = ok && mls_decrypt_with_label(s, priv.p, priv.len, "M", "ctx", 3,
					  kem.p, kem.len, ct.p, ct.len,
					  &pt) == MLS_ERR_AEAD;
	ok = ok && mls_decrypt_with_label(s, priv.p, priv.len, "L", "ctX", 3,
					  kem.p, kem.len, ct.p, ct.len,
					  &pt) == MLS_ERR_AEAD;
	ok = ok && mls_decrypt_with_label(s, priv2.p, priv2.len, "L", "ctx",
					  3, kem.p, kem.len, ct.p, ct.len,
					  &pt) == MLS_ERR_AEAD;
	ok = ok && mls_decrypt_with_label(s, priv.p, priv.len, "L", "ctx", 3,
					  kem.p, kem.len, ct.p, 10,
					  &pt) == MLS_ERR_AEAD;
	ok = ok && pt.len == 0;
	ok = ok && mls_encrypt_with_label(s, pub.p, pub.len - 1, "L", NULL, 0,
					  msg, MSG_LEN, &kem,
					  &ct) == MLS_ERR_BAD_KEY;
	ok = ok && mls_decrypt_with_label(s, priv.p, priv.len, "L", "ctx", 3,
					  kem.p, kem.len - 1, ct.p, ct.len,
					  &pt) == MLS_ERR_BAD_KEY;
	if (s->kem_id == HPKE_KEM_P256_SHA256) {
		memcpy(bad, pub.p, sizeof(bad));
		bad[64] ^= 1;
		ok = ok && mls_encrypt_with_label(s, bad, 65, "L", NULL, 0, msg,
						  MSG_LEN, &kem, &ct) ==
				   MLS_ERR_BAD_KEY;
		bad[64] ^= 1;
		bad[0] = 0x03;
		ok = ok && mls_encrypt_with_label(s, bad, 65, "L", NULL, 0, msg,
						  MSG_LEN, &kem, &ct) ==
				   MLS_ERR_BAD_KEY;
	}
	bw_bytes_clear(&priv);
	bw_bytes_clear(&pub);
	bw_bytes_clear(&priv2);
	bw_bytes_clear(&pub2);
	bw_bytes_clear(&kem);
	bw_bytes_clear(&ct);
	CHECK(ok);
	return true;
}

/* KDF.Expand gives at most 255 * Nh bytes and KDFLabel.length is 16 bits;
 * a longer request is MLS_ERR_KDF_LENGTH, never a truncated output. */
static bool expand_with_label_limits(const struct mls_suite *s)
{
	static uint8_t out[255 * 32 + 1];
	uint8_t secret[32] = { 3 }, first[32];

	CHECK(mls_expand_with_label(s, secret, 32, "L", NULL, 0, out,
				    255 * s->hash_len) == 0);
	CHECK(mls_expand_with_label(s, secret, 32, "L", NULL, 0, out,
				    255 * s->hash_len + 1) ==
	      MLS_ERR_KDF_LENGTH);
	CHECK(mls_expand_with_label(s, secret, 32, "L", NULL, 0, out,
				    (size_t)UINT16_MAX + 1) ==
	      MLS_ERR_KDF_LENGTH);
	CHECK(mls_kdf_expand(s, secret, 32, NULL, 0, out,
			     255 * s->hash_len + 1) == MLS_ERR_KDF_LENGTH);
	/* The length is part of the label: 32 bytes are not a prefix of 64. */
	CHECK(mls_expand_with_label(s, secret, 32, "L", NULL, 0, first, 32) ==
	      0);
	CHECK(mls_expand_with_label(s, secret, 32, "L", NULL, 0, out, 64) ==
	      0);
	CHECK(memcmp(first, out, 32) != 0);
	/* A context too long for the stack path takes the heap path. */
	CHECK(mls_expand_with_label(s, secret, 32, "L", out, 1000, first,
				    32) == 0);
	return true;
}

static bool hmac_verify(const struct mls_suite *s)
{
	uint8_t key[32] = { 9 }, mac[MLS_MAX_HASH_LEN];

	CHECK(mls_hmac(s, key, sizeof(key), msg, MSG_LEN, mac) == 0);
	CHECK(mls_hmac_verify(s, key, sizeof(key), msg, MSG_LEN, mac,
			      s->hash_len) == 0);
	CHECK(mls_hmac_verify(s, key, sizeof(key), msg, MSG_LEN, mac,
			      s->hash_len - 1) == MLS_ERR_MAC);
	mac[s->hash_len - 1] ^= 1;
	CHECK(mls_hmac_verify(s, key, sizeof(key), msg, MSG_LEN, mac,
			      s->hash_len) == MLS_ERR_MAC);
	return true;
}

/* Each per-suite test, for every suite. */
#define PER_SUITE(fn)                                                       \
	static bool fn##_all(void)                                          \
	{                                                                   \
		for (size_t i = 0; i < N_SUITES; i++) {                     \
			const struct mls_suite *s = mls_suite_get(suite_ids[i]); \
			if (s == NULL || !fn(s)) {                          \
				fprintf(stderr, "  in suite %u\n",          \
					suite_ids[i]);                      \
				return false;                               \
			}                                                   \
		}                                                           \
		return true;                                                \
	}
PER_SUITE(aead_tamper)
PER_SUITE(aead_empty)
PER_SUITE(keygen_sign_verify)
PER_SUITE(signature_wrong_inputs)
PER_SUITE(malformed_sig_keys)
PER_SUITE(encrypt_with_label)
PER_SUITE(expand_with_label_limits)
PER_SUITE(hmac_verify)

int main(void)
{
	int failed = 0;

	RUN(test_suites_known, &failed);
	RUN(aead_tamper_all, &failed);
	RUN(aead_empty_all, &failed);
	RUN(keygen_sign_verify_all, &failed);
	RUN(signature_wrong_inputs_all, &failed);
	RUN(malformed_sig_keys_all, &failed);
	RUN(p256_private_range, &failed);
	RUN(encrypt_with_label_all, &failed);
	RUN(expand_with_label_limits_all, &failed);
	RUN(hmac_verify_all, &failed);
	return failed != 0;
}

/*
 * crypto.h - the MLS crypto provider (RFC 9420 §5) on OpenSSL 3 EVP.
 *
 * A struct mls_suite names one cipher suite's algorithms and holds the EVP
 * objects fetched once for it; it is immutable after mls_suite_get() and
 * may be shared between threads. Every primitive is OpenSSL's; this file
 * only adds MLS's labelled constructions on top.
 *
 * Key formats are MLS's wire formats (FORMATS.md of the interop vectors):
 * Ed25519 keys are raw 32-byte strings; P-256 public keys are uncompressed
 * points (65 bytes) and private keys 32-byte big-endian scalars.
 */
#ifndef MLS_CRYPTO_H
#define MLS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "bytes.h"
#include "mls/mls.h"

#define MLS_MAX_HASH_LEN 64
#define MLS_MAX_AEAD_KEY_LEN 32
#define MLS_MAX_AEAD_NONCE_LEN 12
#define MLS_AEAD_TAG_LEN 16
#define MLS_MAX_SIG_LEN 144

enum mls_sig_alg { MLS_SIG_ED25519, MLS_SIG_ECDSA_P256_SHA256 };

/* HPKE algorithm identifiers (RFC 9180 §7). */
enum hpke_kem_id { HPKE_KEM_P256_SHA256 = 0x0010, HPKE_KEM_X25519_SHA256 = 0x0020 };
enum hpke_kdf_id { HPKE_KDF_HKDF_SHA256 = 0x0001 };
enum hpke_aead_id {
	HPKE_AEAD_AES128GCM = 0x0001,
	HPKE_AEAD_CHACHA20POLY1305 = 0x0003,
	HPKE_AEAD_EXPORT_ONLY = 0xffff,
};

struct mls_suite {
	uint16_t id;
	const char *name;
	uint16_t kem_id, kdf_id, aead_id; /* the HPKE suite MLS uses */
	enum mls_sig_alg sig_alg;
	size_t hash_len;  /* KDF.Nh and the hash output length */
	size_t key_len;   /* AEAD.Nk */
	size_t nonce_len; /* AEAD.Nn */
	EVP_MD *md;
	EVP_CIPHER *aead;
	EVP_MAC *hmac;
	EVP_KDF *hkdf;
};

/* The suite with this id, or NULL if libmls does not implement it. */
const struct mls_suite *mls_suite_get(uint16_t id);

/* ---- hash, MAC, KDF ---- */
int mls_hash(const struct mls_suite *s, const void *in, size_t n,
	     uint8_t *out /* hash_len */);
int mls_hmac(const struct mls_suite *s, const void *key, size_t key_len,
	     const void *in, size_t n, uint8_t *out /* hash_len */);
/* Constant-time check that MAC(key, in) == mac. 0 or MLS_ERR_MAC. */
int mls_hmac_verify(const struct mls_suite *s, const void *key,
		    size_t key_len, const void *in, size_t n,
		    const uint8_t *mac, size_t mac_len);
int mls_kdf_extract(const struct mls_suite *s, const void *salt,
		    size_t salt_len, const void *ikm, size_t ikm_len,
		    uint8_t *out /* hash_len */);
int mls_kdf_expand(const struct mls_suite *s, const void *prk,
		   size_t prk_len, const void *info, size_t info_len,
		   uint8_t *out, size_t out_len);
/* §8: KDF.Expand(secret, KDFLabel{length, "MLS 1.0 " + label, context}). */
int mls_expand_with_label(const struct mls_suite *s, const uint8_t *secret,
			  size_t secret_len, const char *label,
			  const void *context, size_t context_len,
			  uint8_t *out, size_t out_len);
/* §8: ExpandWithLabel(secret, label, "", Nh). */
int mls_derive_secret(const struct mls_suite *s, const uint8_t *secret,
		      size_t secret_len, const char *label,
		      uint8_t *out /* hash_len */);
/* §9: ExpandWithLabel(secret, label, uint32 generation, length). */
int mls_derive_tree_secret(const struct mls_suite *s, const uint8_t *secret,
			   size_t secret_len, const char *label,
			   uint32_t generation, uint8_t *out, size_t out_len);
/* §5.2: Hash(RefHashInput{label, value}). */
int mls_ref_hash(const struct mls_suite *s, const char *label,
		 const void *value, size_t n, uint8_t *out /* hash_len */);
int mls_make_key_package_ref(const struct mls_suite *s, const void *kp,
			     size_t n, uint8_t *out);
int mls_make_proposal_ref(const struct mls_suite *s, const void *auth_content,
			  size_t n, uint8_t *out);

/* ---- AEAD ---- */
/* ct receives pt_len + MLS_AEAD_TAG_LEN bytes; pt and ct may be the same. */
int mls_aead_seal(const struct mls_suite *s, const uint8_t *key,
		  const uint8_t *nonce, const void *aad, size_t aad_len,
		  const void *pt, size_t pt_len, uint8_t *ct);
/* pt receives ct_len - MLS_AEAD_TAG_LEN bytes; MLS_ERR_AEAD if the tag
 * fails, in which case pt holds nothing usable (it is wiped). */
int mls_aead_open(const struct mls_suite *s, const uint8_t *key,
		  const uint8_t *nonce, const void *aad, size_t aad_len,
		  const void *ct, size_t ct_len, uint8_t *pt);
/* The same AEADs, named by HPKE id, for HPKE's own use. */
int mls_aead_seal_id(uint16_t aead_id, const uint8_t *key,
		     const uint8_t *nonce, const void *aad, size_t aad_len,
		     const void *pt, size_t pt_len, uint8_t *ct);
int mls_aead_open_id(uint16_t aead_id, const uint8_t *key,
		     const uint8_t *nonce, const void *aad, size_t aad_len,
		     const void *ct, size_t ct_len, uint8_t *pt);

/* ---- signatures ---- */
/* Fresh key pair in MLS wire format; priv is secret (wiped on clear). */
int mls_sig_keygen(const struct mls_suite *s, struct bw_bytes *priv,
		   struct bw_bytes *pub);
/* The public key belonging to a private key. */
int mls_sig_public(const struct mls_suite *s, const uint8_t *priv,
		   size_t priv_len, struct bw_bytes *pub);
/* §5.1.2: Sign(priv, SignContent{"MLS 1.0 " + label, content}). */
int mls_sign_with_label(const struct mls_suite *s, const uint8_t *priv,
			size_t priv_len, const char *label,
			const void *content, size_t content_len,
			struct bw_bytes *sig);
/* 0 if valid, MLS_ERR_SIGNATURE if not, MLS_ERR_BAD_KEY for a bad key. */
int mls_verify_with_label(const struct mls_suite *s, const uint8_t *pub,
			  size_t pub_len, const char *label,
			  const void *content, size_t content_len,
			  const uint8_t *sig, size_t sig_len);
/* EVP_PKEY for a wire-format key (caller frees with EVP_PKEY_free). */
int mls_sig_pkey_public(const struct mls_suite *s, const uint8_t *pub,
			size_t pub_len, EVP_PKEY **out);
int mls_sig_pkey_private(const struct mls_suite *s, const uint8_t *priv,
			 size_t priv_len, EVP_PKEY **out);

/* ---- P-256 keys, for ECDSA and for HPKE's DHKEM(P-256) ---- */
#define MLS_P256_SCALAR_LEN 32
#define MLS_P256_POINT_LEN 65
/* pub (MLS_P256_POINT_LEN bytes, uncompressed) = priv * G for a
 * big-endian scalar; MLS_ERR_BAD_KEY unless 0 < priv < order. */
int mls_p256_public_point(const uint8_t *priv, uint8_t *pub);
/* EVP_PKEY from an uncompressed point and, when priv is not NULL, its
 * scalar. MLS_ERR_BAD_KEY if OpenSSL refuses the point (off the curve, a
 * coordinate not below p). */
int mls_p256_pkey(const uint8_t *pub, const uint8_t *priv, EVP_PKEY **out);

/* ---- HPKE as MLS uses it (§5.1.3) ---- */
int mls_encrypt_with_label(const struct mls_suite *s, const uint8_t *pub,
			   size_t pub_len, const char *label,
			   const void *context, size_t context_len,
			   const void *pt, size_t pt_len,
			   struct bw_bytes *kem_output, struct bw_bytes *ct);
int mls_decrypt_with_label(const struct mls_suite *s, const uint8_t *priv,
			   size_t priv_len, const char *label,
			   const void *context, size_t context_len,
			   const uint8_t *kem_output, size_t kem_output_len,
			   const uint8_t *ct, size_t ct_len,
			   struct bw_bytes *pt);
/* KEM.DeriveKeyPair(secret) for the suite's KEM. */
int mls_kem_derive_keypair(const struct mls_suite *s, const uint8_t *ikm,
			   size_t ikm_len, struct bw_bytes *priv,
			   struct bw_bytes *pub);

/* Random bytes from OpenSSL's DRBG. */
int mls_random(void *out, size_t n);

#endif

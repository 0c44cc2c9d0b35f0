/*
 * hpke.h - Hybrid Public Key Encryption (RFC 9180) on OpenSSL 3 EVP.
 *
 * OpenSSL 3.0 has no HPKE, so the protocol is ours, built only from EVP
 * primitives (X25519/P-256 ECDH, HKDF-SHA256, AES-128-GCM,
 * ChaCha20-Poly1305) and proven by the RFC's vectors. KEMs:
 * DHKEM(X25519, HKDF-SHA256) and DHKEM(P-256, HKDF-SHA256); KDF:
 * HKDF-SHA256; AEADs: AES-128-GCM, ChaCha20-Poly1305, export-only. All four
 * modes (base, psk, auth, auth_psk).
 *
 * Keys are in their serialised forms (§7.1.1): X25519 raw 32 bytes; P-256
 * public uncompressed 65 bytes, private 32-byte big-endian scalar. Every
 * public key that comes in is validated (§7.1.4) before use; a bad one gives
 * MLS_ERR_BAD_KEY. Inconsistent mode inputs (§5.1 VerifyPSKInputs, a sender
 * key outside the auth modes) give MLS_ERR_HPKE_MODE.
 *
 *   struct hpke_suite suite = { HPKE_KEM_X25519_SHA256,
 *                               HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES128GCM };
 *   struct hpke_ctx *ctx;
 *   struct bw_bytes enc = {0};
 *   rc = hpke_setup_s(&suite, HPKE_MODE_BASE, pkR, pkR_len, info, info_len,
 *                     NULL, 0, NULL, 0, NULL, 0, NULL, 0, &enc, &ctx);
 *   rc = hpke_seal(ctx, aad, aad_len, pt, pt_len, ct); // ct: pt_len + 16
 *   hpke_ctx_free(ctx);
 */
#ifndef MLS_HPKE_H
#define MLS_HPKE_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

enum hpke_mode {
	HPKE_MODE_BASE = 0,
	HPKE_MODE_PSK = 1,
	HPKE_MODE_AUTH = 2,
	HPKE_MODE_AUTH_PSK = 3,
};

struct hpke_suite {
	uint16_t kem_id;  /* enum hpke_kem_id */
	uint16_t kdf_id;  /* enum hpke_kdf_id */
	uint16_t aead_id; /* enum hpke_aead_id */
};

/* Nsecret of both DHKEMs and Nh of HKDF-SHA256. */
#define HPKE_SECRET_LEN 32
/* Largest Nenc/Npk (P-256 uncompressed point). */
#define HPKE_MAX_PK_LEN 65
/* Bound on info, psk, psk_id, exporter_context and ikm. RFC 9180 §7.2.1
 * allows about 2^61 bytes; ours keeps every labelled KDF input small enough
 * to build in memory while leaving room for MLS's largest info (a Welcome's
 * encrypted GroupInfo). */
#define HPKE_MAX_INPUT_LEN (16u * 1024u * 1024u)

struct hpke_ctx;

/* Sizes for a KEM: Nenc, Npk, Nsk (0 if the KEM is unsupported). */
size_t hpke_kem_enc_len(uint16_t kem_id);
size_t hpke_kem_pk_len(uint16_t kem_id);
size_t hpke_kem_sk_len(uint16_t kem_id);
/* Tag length of an AEAD (0 for export-only and unsupported AEADs). */
size_t hpke_aead_tag_len(uint16_t aead_id);

/* §7.1.3 DeriveKeyPair(ikm). sk is secret (wiped on clear). On failure
 * neither output changes. */
int hpke_derive_keypair(uint16_t kem_id, const uint8_t *ikm, size_t ikm_len,
			struct bw_bytes *sk, struct bw_bytes *pk);
/* A fresh key pair: DeriveKeyPair of Nsk random bytes (§4). */
int hpke_generate_keypair(uint16_t kem_id, struct bw_bytes *sk,
			  struct bw_bytes *pk);
/* Public key of a private key. */
int hpke_public_key(uint16_t kem_id, const uint8_t *sk, size_t sk_len,
		    struct bw_bytes *pk);

/*
 * §4.1 Encap(pkR), or AuthEncap(pkR, skS) when skS is not NULL. ikmE, when
 * not NULL, makes the ephemeral key deterministic (DeriveKeyPair(ikmE)) for
 * test vectors; production passes NULL. shared_secret receives
 * HPKE_SECRET_LEN bytes, enc the encapsulated key.
 */
int hpke_encap(uint16_t kem_id, const uint8_t *pkR, size_t pkR_len,
	       const uint8_t *skS, size_t skS_len, const uint8_t *ikmE,
	       size_t ikmE_len, uint8_t *shared_secret, struct bw_bytes *enc);
/* §4.1 Decap(enc, skR), or AuthDecap(enc, skR, pkS) when pkS is not NULL. */
int hpke_decap(uint16_t kem_id, const uint8_t *enc, size_t enc_len,
	       const uint8_t *skR, size_t skR_len, const uint8_t *pkS,
	       size_t pkS_len, uint8_t *shared_secret);

/*
 * Sender setup (§5.1). psk/psk_id are used in the PSK modes, skS in the auth
 * modes (pass NULL/0 otherwise). ikmE as for hpke_encap. enc receives the
 * encapsulated key; *ctx is the caller's (hpke_ctx_free). On failure *ctx is
 * NULL and enc is unchanged.
 */
int hpke_setup_s(const struct hpke_suite *suite, enum hpke_mode mode,
		 const uint8_t *pkR, size_t pkR_len, const uint8_t *info,
		 size_t info_len, const uint8_t *psk, size_t psk_len,
		 const uint8_t *psk_id, size_t psk_id_len, const uint8_t *skS,
		 size_t skS_len, const uint8_t *ikmE, size_t ikmE_len,
		 struct bw_bytes *enc, struct hpke_ctx **ctx);
/* Receiver setup; pkS is the sender's public key in the auth modes. */
int hpke_setup_r(const struct hpke_suite *suite, enum hpke_mode mode,
		 const uint8_t *enc, size_t enc_len, const uint8_t *skR,
		 size_t skR_len, const uint8_t *info, size_t info_len,
		 const uint8_t *psk, size_t psk_len, const uint8_t *psk_id,
		 size_t psk_id_len, const uint8_t *pkS, size_t pkS_len,
		 struct hpke_ctx **ctx);

/* Sender contexts only. ct receives pt_len + tag bytes. Each call advances
 * the sequence number; MLS_ERR_HPKE_SEQ_OVERFLOW once it is exhausted. */
int hpke_seal(struct hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
	      const uint8_t *pt, size_t pt_len, uint8_t *ct);
/* Receiver contexts only. pt receives ct_len - tag bytes; MLS_ERR_AEAD if
 * it does not verify, in which case pt is wiped and the sequence number
 * does not advance. */
int hpke_open(struct hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
	      const uint8_t *ct, size_t ct_len, uint8_t *pt);
/* §5.3 Export: out_len at most 255 * Nh. Either role. */
int hpke_export(const struct hpke_ctx *ctx, const uint8_t *exporter_context,
		size_t exporter_context_len, uint8_t *out, size_t out_len);
/* Wipes all key material. NULL is a no-op. */
void hpke_ctx_free(struct hpke_ctx *ctx);

/* Single-shot base mode (§6.1), as MLS's EncryptWithLabel uses it. On
 * failure the outputs are unchanged. */
int hpke_seal_base(const struct hpke_suite *suite, const uint8_t *pkR,
		   size_t pkR_len, const uint8_t *info, size_t info_len,
		   const uint8_t *aad, size_t aad_len, const uint8_t *pt,
		   size_t pt_len, struct bw_bytes *enc, struct bw_bytes *ct);
int hpke_open_base(const struct hpke_suite *suite, const uint8_t *enc,
		   size_t enc_len, const uint8_t *skR, size_t skR_len,
		   const uint8_t *info, size_t info_len, const uint8_t *aad,
		   size_t aad_len, const uint8_t *ct, size_t ct_len,
		   struct bw_bytes *pt);

/*
 * ---- Test-only accessors ----
 * They expose secrets so that the RFC's vectors can check every
 * intermediate value; nothing outside tests/ calls them.
 */
struct hpke_test_schedule {
	uint8_t key_schedule_context[1 + 2 * HPKE_SECRET_LEN];
	uint8_t secret[HPKE_SECRET_LEN];
};
/* The key_schedule_context and secret that KeySchedule (§5.1) derives. */
int hpke_test_key_schedule(const struct hpke_suite *suite,
			   enum hpke_mode mode, const uint8_t *shared_secret,
			   const uint8_t *info, size_t info_len,
			   const uint8_t *psk, size_t psk_len,
			   const uint8_t *psk_id, size_t psk_id_len,
			   struct hpke_test_schedule *out);
struct hpke_test_view {
	const uint8_t *key;
	size_t key_len; /* 0 for export-only */
	const uint8_t *base_nonce;
	size_t base_nonce_len;
	const uint8_t *exporter_secret;
	size_t exporter_secret_len;
	uint64_t seq;
};
/* Pointers into ctx, valid until it is freed. */
void hpke_test_ctx_view(const struct hpke_ctx *ctx, struct hpke_test_view *v);
/* Jump the sequence number, to reach its limit in a test. */
void hpke_test_ctx_set_seq(struct hpke_ctx *ctx, uint64_t seq);

#endif

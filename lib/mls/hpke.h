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
 * public uncompressed 65 bytes, private 32-byte big-endian scalar.
 *
 *   struct hpke_ctx *ctx;
 *   struct bw_bytes enc = {0};
 *   hpke_setup_s(&suite, HPKE_MODE_BASE, pkR, pkR_len, info, info_len,
 *                NULL, 0, NULL, 0, NULL, 0, NULL, &enc, &ctx);
 *   hpke_seal(ctx, aad, aad_len, pt, pt_len, ct);   // ct: pt_len + tag
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

struct hpke_ctx;

/* Sizes for a KEM: Nenc, Npk, Nsk (0 if the KEM is unsupported). */
size_t hpke_kem_enc_len(uint16_t kem_id);
size_t hpke_kem_pk_len(uint16_t kem_id);
size_t hpke_kem_sk_len(uint16_t kem_id);
/* Tag length of an AEAD (0 for export-only). */
size_t hpke_aead_tag_len(uint16_t aead_id);

/* §7.1.3 DeriveKeyPair(ikm). */
int hpke_derive_keypair(uint16_t kem_id, const uint8_t *ikm, size_t ikm_len,
			struct bw_bytes *sk, struct bw_bytes *pk);
int hpke_generate_keypair(uint16_t kem_id, struct bw_bytes *sk,
			  struct bw_bytes *pk);
/* Public key of a private key. */
int hpke_public_key(uint16_t kem_id, const uint8_t *sk, size_t sk_len,
		    struct bw_bytes *pk);

/*
 * Sender setup (§5.1). psk/psk_id are used in the PSK modes, skS in the auth
 * modes (pass NULL/0 otherwise). ikmE, when not NULL, makes the ephemeral
 * key deterministic (DeriveKeyPair(ikmE)) for test vectors; production
 * passes NULL. enc receives the encapsulated key; *ctx is the caller's.
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

/* ct receives pt_len + tag bytes. Each call advances the sequence number. */
int hpke_seal(struct hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
	      const uint8_t *pt, size_t pt_len, uint8_t *ct);
/* pt receives ct_len - tag bytes; MLS_ERR_AEAD if it does not verify (the
 * sequence number does not advance then). */
int hpke_open(struct hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
	      const uint8_t *ct, size_t ct_len, uint8_t *pt);
int hpke_export(struct hpke_ctx *ctx, const uint8_t *exporter_context,
		size_t exporter_context_len, uint8_t *out, size_t out_len);
/* Wipes all key material. NULL is a no-op. */
void hpke_ctx_free(struct hpke_ctx *ctx);

/* Single-shot base mode (§6.1), as MLS's EncryptWithLabel uses it. */
int hpke_seal_base(const struct hpke_suite *suite, const uint8_t *pkR,
		   size_t pkR_len, const uint8_t *info, size_t info_len,
		   const uint8_t *aad, size_t aad_len, const uint8_t *pt,
		   size_t pt_len, struct bw_bytes *enc, struct bw_bytes *ct);
int hpke_open_base(const struct hpke_suite *suite, const uint8_t *enc,
		   size_t enc_len, const uint8_t *skR, size_t skR_len,
		   const uint8_t *info, size_t info_len, const uint8_t *aad,
		   size_t aad_len, const uint8_t *ct, size_t ct_len,
		   struct bw_bytes *pt);

#endif

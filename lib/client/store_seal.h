/*
 * store_seal.h - the keys of the local store and the sealing of its
 * columns (store_seal.c).
 *
 * From the random store key (in the keystore), HKDF-SHA256 derives one key
 * per use, so no key serves two purposes:
 *
 *   "bulwark store v1 rows"   AES-256-GCM of sealed columns
 *   "bulwark store v1 index"  HMAC-SHA256 of group ids into row keys
 *   "bulwark store v1 state"  libmls's seal of group states and bundles
 *   "bulwark store v1 check"  HMAC of a fixed text, kept in the database
 *                             to recognise its key
 *
 * A sealed value is nonce[12] || ciphertext || tag[16], with a fresh
 * random nonce each time and the caller's associated data (which row of
 * which table) authenticated with it.
 */
#ifndef BW_CLIENT_STORE_SEAL_H
#define BW_CLIENT_STORE_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "bulwark/bulwark.h"
#include "bytes.h"

#define SEAL_KEY_LEN 32u
#define SEAL_NONCE_LEN 12u
#define SEAL_TAG_LEN 16u
#define SEAL_OVERHEAD (SEAL_NONCE_LEN + SEAL_TAG_LEN)
#define SEAL_REF_LEN 32u

/* Secret: wiped by seal_keys_clear. */
struct seal_keys {
	uint8_t rows[SEAL_KEY_LEN];
	uint8_t index[SEAL_KEY_LEN];
	uint8_t state[SEAL_KEY_LEN];
	uint8_t check[SEAL_KEY_LEN];
};

int seal_keys_derive(const uint8_t *store_key, size_t len,
		     struct seal_keys *k);
void seal_keys_clear(struct seal_keys *k);

/* The row key of a group id. */
int seal_ref(const struct seal_keys *k, const uint8_t *gid, size_t gid_len,
	     uint8_t ref[SEAL_REF_LEN]);
/* What the database keeps to recognise its key. */
int seal_check_value(const struct seal_keys *k, uint8_t out[SEAL_REF_LEN]);

/* *out (replaced) holds nonce || ciphertext || tag. */
int seal_value(const struct seal_keys *k, const uint8_t *aad, size_t aad_len,
	       const uint8_t *pt, size_t pt_len, struct bw_bytes *out);
/* BULWARK_ERR_STORE_CORRUPT if the value does not open; *out is secret
 * (bw_bytes_clear). */
BULWARK_MUST_CHECK int seal_open(const struct seal_keys *k,
				 const uint8_t *aad, size_t aad_len,
				 const uint8_t *sealed, size_t sealed_len,
				 struct bw_bytes *out);

#endif

/*
 * keystore.h - the keystore file format, inside libbulwark. The public API
 * is in include/bulwark/bulwark.h; this header is for keystore.c, its tests
 * and its fuzz target.
 *
 * keystore_format.c implements it, keystore.c the API over it.
 *
 * File, version 1 (docs/internals/keystore.md), big-endian integers:
 *
 *   header (the AAD of the seal, 70 bytes)
 *     opaque magic[4] = "BWKS";  uint16 version = 1;
 *     uint8 kdf = 1 (scrypt);    uint8 log2_n;  uint8 r;  uint8 p;
 *     opaque salt[16];           opaque check[32];  opaque nonce[12];
 *   opaque sealed<V>;            AES-256-GCM(payload) || tag[16]
 *   opaque digest[32];           SHA-256 of every byte before it
 *
 *   payload: struct { opaque name<V>; opaque value<V>; } entries<V>;
 *            names unique and in ascending order
 *
 * scrypt(passphrase, salt, 2^log2_n, r, p) gives 64 bytes: the AES key,
 * then the check value. The check value tells a wrong passphrase from a
 * damaged file; the digest tells accidental damage from a wrong
 * passphrase without running scrypt; only the GCM tag is security.
 */
#ifndef BW_CLIENT_KEYSTORE_H
#define BW_CLIENT_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/bulwark.h"
#include "bytes.h"

#define KS_MAGIC "BWKS"
#define KS_MAGIC_LEN 4
#define KS_VERSION 1
#define KS_KDF_SCRYPT 1
#define KS_SALT_LEN 16
#define KS_CHECK_LEN 32
#define KS_NONCE_LEN 12
#define KS_TAG_LEN 16
#define KS_KEY_LEN 32
#define KS_DIGEST_LEN 32
#define KS_HEADER_LEN (KS_MAGIC_LEN + 2 + 4 + KS_SALT_LEN + KS_CHECK_LEN + \
		       KS_NONCE_LEN)

/* New keystores: scrypt N = 2^17, r = 8, p = 1, i.e. 128 MiB and about
 * 0.4 s per unlock on one 2020s core. */
#define KS_SCRYPT_LOG2_N 17
#define KS_SCRYPT_R 8
#define KS_SCRYPT_P 1
/* Tests only: log2(N) for new keystores, from KS_SCRYPT_MIN_LOG2_N up to
 * the default (docs/internals/keystore.md, "Keys"). */
#define KS_TEST_COST_ENV "BULWARK_TEST_KEYSTORE_LOG2_N"
/* What an existing file may ask for: bounded so that a planted file
 * cannot make opening it allocate more than 256 MiB or run for minutes. */
#define KS_SCRYPT_MIN_LOG2_N 10
#define KS_SCRYPT_MAX_LOG2_N 18
#define KS_SCRYPT_MAX_R 16
#define KS_SCRYPT_MAX_P 4
#define KS_SCRYPT_MAX_MEM (256u * 1024u * 1024u)

#define KS_MAX_PAYLOAD_LEN (16u * 1024u * 1024u)
#define KS_MAX_FILE_LEN (KS_HEADER_LEN + 4 + KS_MAX_PAYLOAD_LEN + KS_TAG_LEN + \
			 KS_DIGEST_LEN)

struct ks_header {
	uint16_t version;
	uint8_t kdf, log2_n, r, p;
	uint8_t salt[KS_SALT_LEN];
	uint8_t check[KS_CHECK_LEN];
	uint8_t nonce[KS_NONCE_LEN];
};

/* A decoded file; aad and sealed point into the caller's buffer. */
struct ks_file {
	struct ks_header h;
	const uint8_t *aad;
	size_t aad_len;
	const uint8_t *sealed; /* ciphertext || tag */
	size_t sealed_len;
};

/* What the passphrase unlocks; secret. */
struct ks_keys {
	uint8_t aead[KS_KEY_LEN];
	uint8_t check[KS_CHECK_LEN];
};

struct ks_entry {
	char *name;
	struct bw_bytes value;
};

/* Entries sorted by name. */
struct ks_entries {
	struct ks_entry *e;
	size_t n;
};

/* 0, or why the passphrase cannot be used (empty, too long). */
int ks_passphrase_check(const char *passphrase);
/* The header of a new keystore: default costs, a fresh random salt. */
int ks_header_init(struct ks_header *h);
/* Magic, version, KDF bounds, digest and structure of a whole file. */
BULWARK_MUST_CHECK int ks_file_decode(const uint8_t *buf, size_t len,
				      struct ks_file *f);
/* The header's KDF over the passphrase; h->check is not consulted. */
int ks_derive_keys(const char *passphrase, const struct ks_header *h,
		   struct ks_keys *k);
/* Check value, then the GCM tag; *pt is the caller's (bw_free_secret). */
BULWARK_MUST_CHECK int ks_payload_open(const struct ks_file *f,
				       const struct ks_keys *k, uint8_t **pt,
				       size_t *pt_len);
/* The whole file for a payload: header with k's check value and the given
 * nonce, seal, digest. *out is the caller's (free). */
int ks_file_encode(const struct ks_header *h, const struct ks_keys *k,
		   const uint8_t *pt, size_t pt_len, uint8_t **out,
		   size_t *out_len);

BULWARK_MUST_CHECK int ks_entries_decode(const uint8_t *pt, size_t n,
					 struct ks_entries *out);
/* *out is secret: the caller wipes it (bw_free_secret). */
int ks_entries_encode(const struct ks_entries *es, uint8_t **out,
		      size_t *out_len);
void ks_entries_clear(struct ks_entries *es);
/* 0 or BULWARK_ERR_KS_NAME. */
int ks_name_check(const char *name, size_t len);

/* The index of name, or where it would be inserted. */
bool ks_entries_find(const struct ks_entries *es, const char *name,
		     size_t *idx);
/* Insert at idx, taking ownership of name and value on success. */
int ks_entries_insert(struct ks_entries *es, size_t idx, char *name,
		      struct bw_bytes *value);
/* Take entry idx out into *out; the array keeps its allocation, so that
 * ks_entries_restore() can put it back without failing. */
void ks_entries_remove(struct ks_entries *es, size_t idx,
		       struct ks_entry *out);
void ks_entries_restore(struct ks_entries *es, size_t idx,
			const struct ks_entry *e);
void ks_entry_clear(struct ks_entry *e);

#endif

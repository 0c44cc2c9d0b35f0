/*
 * ca_key.h - where the CA's private key lives, behind a small interface.
 *
 * Everything the CA does with its private key goes through struct
 * ca_key_ops: sign a certificate, show the public key. Today the key is a
 * file (key_file.c: PKCS#8 encrypted under a passphrase, decrypted into the
 * monitor's memory). A PKCS#11/HSM backend implements the same operations
 * with the key held by the token (for example an EVP_PKEY from OpenSSL's
 * pkcs11 provider), and nothing above this interface changes.
 */
#ifndef BW_CA_KEY_H
#define BW_CA_KEY_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bytes.h"

struct ca_key;

struct ca_key_ops {
	/* Sign cert (ECDSA with SHA-256); it must be complete otherwise. */
	int (*sign_cert)(struct ca_key *key, X509 *cert);
	/* The public half; borrowed, valid as long as the key. */
	EVP_PKEY *(*public_key)(const struct ca_key *key);
	void (*free)(struct ca_key *key);
};

/* Each backend embeds this as its first member. */
struct ca_key {
	const struct ca_key_ops *ops;
};

/* How a key file's passphrase becomes the encryption key (key_file.c). */
enum ca_key_kdf {
	CA_KDF_SCRYPT, /* memory-hard; the default */
	CA_KDF_PBKDF2, /* PBKDF2-HMAC-SHA256: FIPS-approved, for suite 2 */
};

/* A fresh P-256 key held in memory. */
int ca_key_file_generate(struct ca_key **out);
/* Write the key as PKCS#8 EncryptedPrivateKeyInfo (PEM, mode 0600);
 * path must not exist. */
int ca_key_file_save(const struct ca_key *key, const char *path,
		     const struct bw_bytes *passphrase, enum ca_key_kdf kdf);
/* Decrypt a key file written by ca_key_file_save(). */
int ca_key_file_load(const char *path, const struct bw_bytes *passphrase,
		     struct ca_key **out);

static inline void ca_key_free(struct ca_key *key)
{
	if (key != NULL)
		key->ops->free(key);
}

#endif

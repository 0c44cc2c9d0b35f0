/*
 * key_file.c - the CA key as a file encrypted under a passphrase: the
 * software backend of ca_key.h.
 *
 * At rest the key is PKCS#8 EncryptedPrivateKeyInfo (RFC 5958) in PEM,
 * PBES2 (RFC 8018 §6.2) with AES-256-CBC and a 16-byte random salt, so
 * `openssl pkey -in ca.key` can read it. The PrivateKeyInfo comes from
 * OpenSSL's encoder (OSSL_ENCODER); the encryption is set up here because
 * OpenSSL 3.0's encoder fixes PBES2 to PBKDF2 with 2048 iterations, far too
 * few for a key that may sit on a stolen disk. The key derivation is:
 *   scrypt N=2^14, r=8, p=8 (RFC 7914): 16 MiB and ~0.3 s a guess. N and r
 *     stay within the 32 MiB OpenSSL's decoder allows scrypt by default;
 *     p multiplies the work without adding memory;
 *   PBKDF2-HMAC-SHA256, 600 000 iterations, for organisations that must
 *     use FIPS-approved algorithms only (MLS suite 2).
 * Loading goes through OpenSSL's decoder (OSSL_DECODER), which accepts
 * only the encrypted structure, so an unencrypted key file is refused.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>

#include "ca_int.h"

#define KEY_FILE_MAX 16384u
#define SALT_LEN 16
#define SCRYPT_N (1u << 14)
#define SCRYPT_R 8u
#define SCRYPT_P 8u
#define PBKDF2_ITERATIONS 600000

struct key_file {
	struct ca_key base;
	EVP_PKEY *pkey;
};

static int file_sign_cert(struct ca_key *key, X509 *cert)
{
	struct key_file *k = (struct key_file *)key;

	return X509_sign(cert, k->pkey, EVP_sha256()) > 0 ? 0 : CA_ERR_CRYPTO;
}

static EVP_PKEY *file_public_key(const struct ca_key *key)
{
	return ((const struct key_file *)key)->pkey;
}

static void file_free(struct ca_key *key)
{
	struct key_file *k = (struct key_file *)key;

	EVP_PKEY_free(k->pkey); /* clears the private scalar */
	free(k);
}

static const struct ca_key_ops file_ops = {
	.sign_cert = file_sign_cert,
	.public_key = file_public_key,
	.free = file_free,
};

/* Wrap pkey (consumed) as a struct ca_key. */
static int wrap(EVP_PKEY *pkey, struct ca_key **out)
{
	struct key_file *k = calloc(1, sizeof(*k));

	if (k == NULL) {
		EVP_PKEY_free(pkey);
		return BW_ERR_NOMEM;
	}
	k->base.ops = &file_ops;
	k->pkey = pkey;
	*out = &k->base;
	return 0;
}

static bool is_p256(EVP_PKEY *pkey)
{
	char group[32];

	return EVP_PKEY_is_a(pkey, "EC") &&
	       EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) &&
	       strcmp(group, "prime256v1") == 0;
}

int ca_key_file_generate(struct ca_key **out)
{
	EVP_PKEY *pkey;

	*out = NULL;
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		return CA_ERR_CRYPTO;
	return wrap(pkey, out);
}

/* The key's PrivateKeyInfo, from OpenSSL's encoder. */
static PKCS8_PRIV_KEY_INFO *private_key_info(EVP_PKEY *pkey)
{
	OSSL_ENCODER_CTX *ectx;
	PKCS8_PRIV_KEY_INFO *p8inf = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t der_len = 0;

	ectx = OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_KEYPAIR, "DER",
					     "PrivateKeyInfo", NULL);
	if (ectx != NULL && OSSL_ENCODER_to_data(ectx, &der, &der_len) &&
	    der_len <= KEY_FILE_MAX) {
		p = der;
		p8inf = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)der_len);
	}
	OPENSSL_clear_free(der, der_len);
	OSSL_ENCODER_CTX_free(ectx);
	return p8inf;
}

/* PBES2 parameters: the chosen KDF, a fresh salt, AES-256-CBC. */
static X509_ALGOR *pbes2_params(enum ca_key_kdf kdf)
{
	unsigned char salt[SALT_LEN];
	EVP_CIPHER *aes;
	X509_ALGOR *alg = NULL;

	if ((aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL)) == NULL)
		return NULL;
	if (RAND_bytes(salt, sizeof(salt)) == 1) {
		if (kdf == CA_KDF_SCRYPT)
			alg = PKCS5_pbe2_set_scrypt(aes, salt, sizeof(salt),
						    NULL, SCRYPT_N, SCRYPT_R,
						    SCRYPT_P);
		else
			alg = PKCS5_pbe2_set_iv_ex(aes, PBKDF2_ITERATIONS, salt,
						   sizeof(salt), NULL,
						   NID_hmacWithSHA256, NULL);
	}
	EVP_CIPHER_free(aes);
	return alg;
}

int ca_key_file_save(const struct ca_key *key, const char *path,
		     const struct bw_bytes *passphrase, enum ca_key_kdf kdf)
{
	EVP_PKEY *pkey = key->ops->public_key(key);
	PKCS8_PRIV_KEY_INFO *p8inf = NULL;
	X509_ALGOR *pbe = NULL;
	X509_SIG *p8 = NULL;
	BIO *mem = NULL;
	char *pem;
	long pem_len;
	int rc = CA_ERR_CRYPTO;

	if (key->ops != &file_ops || passphrase->len == 0 ||
	    passphrase->len > CA_PASSPHRASE_MAX)
		return BW_ERR_INVALID_ARG;
	if ((p8inf = private_key_info(pkey)) == NULL ||
	    (pbe = pbes2_params(kdf)) == NULL)
		goto out;
	p8 = PKCS8_set0_pbe_ex((const char *)passphrase->p,
			       (int)passphrase->len, p8inf, pbe, NULL, NULL);
	if (p8 == NULL)
		goto out;
	pbe = NULL; /* owned by p8 */
	if ((mem = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_PKCS8(mem, p8) ||
	    (pem_len = BIO_get_mem_data(mem, &pem)) <= 0)
		goto out;
	rc = ca_file_create(path, 0600, pem, (size_t)pem_len);
out:
	BIO_free(mem);
	X509_SIG_free(p8);
	X509_ALGOR_free(pbe);
	PKCS8_PRIV_KEY_INFO_free(p8inf); /* wipes the key octets */
	ERR_clear_error();
	return rc;
}

int ca_key_file_load(const char *path, const struct bw_bytes *passphrase,
		     struct ca_key **out)
{
	struct bw_bytes file = { 0 };
	OSSL_DECODER_CTX *dctx = NULL;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p;
	size_t left;
	int rc;

	*out = NULL;
	if ((rc = ca_file_read(path, KEY_FILE_MAX, &file, NULL)) != 0)
		return rc;
	rc = CA_ERR_CRYPTO;
	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM",
					     "EncryptedPrivateKeyInfo", "EC",
					     OSSL_KEYMGMT_SELECT_KEYPAIR, NULL,
					     NULL);
	/* The context keeps a copy of the passphrase, wiped when freed. */
	if (dctx == NULL ||
	    !OSSL_DECODER_CTX_set_passphrase(dctx, passphrase->p,
					     passphrase->len))
		goto out;
	p = file.p;
	left = file.len;
	if (!OSSL_DECODER_from_data(dctx, &p, &left) || pkey == NULL) {
		rc = CA_ERR_PASSPHRASE;
		goto out;
	}
	if (!is_p256(pkey)) {
		rc = CA_ERR_KEY_TYPE;
		goto out;
	}
	rc = wrap(pkey, out);
	pkey = NULL; /* transferred */
out:
	EVP_PKEY_free(pkey);
	OSSL_DECODER_CTX_free(dctx);
	bw_bytes_clear(&file);
	ERR_clear_error();
	return rc;
}

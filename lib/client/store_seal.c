/* store_seal.c - keys of the local store and sealed columns
 * (store_seal.h). */
#include "store_seal.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "err.h"

#define LABEL_PREFIX "bulwark store v1 "
#define CHECK_TEXT "bulwark store v1 key check"

static int hkdf(const uint8_t *key, size_t key_len, const char *label,
		uint8_t out[SEAL_KEY_LEN])
{
	char info[64];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[4];
	int n = snprintf(info, sizeof(info), LABEL_PREFIX "%s", label), rc;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						      (void *)key, key_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
						      (size_t)n);
	params[3] = OSSL_PARAM_construct_end();
	rc = ctx != NULL && EVP_KDF_derive(ctx, out, SEAL_KEY_LEN, params) == 1
		     ? 0
		     : BULWARK_ERR_KS_CRYPTO;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int seal_keys_derive(const uint8_t *store_key, size_t len,
		     struct seal_keys *k)
{
	int rc;

	if (len != SEAL_KEY_LEN)
		return BULWARK_ERR_DEVICE_DAMAGED;
	if ((rc = hkdf(store_key, len, "rows", k->rows)) != 0 ||
	    (rc = hkdf(store_key, len, "index", k->index)) != 0 ||
	    (rc = hkdf(store_key, len, "state", k->state)) != 0 ||
	    (rc = hkdf(store_key, len, "check", k->check)) != 0)
		seal_keys_clear(k);
	return rc;
}

void seal_keys_clear(struct seal_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

static int hmac(const uint8_t key[SEAL_KEY_LEN], const void *p, size_t n,
		uint8_t out[SEAL_REF_LEN])
{
	size_t len = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, SEAL_KEY_LEN,
		      p, n, out, SEAL_REF_LEN, &len) == NULL ||
	    len != SEAL_REF_LEN) {
		ERR_clear_error();
		return BULWARK_ERR_KS_CRYPTO;
	}
	return 0;
}

int seal_ref(const struct seal_keys *k, const uint8_t *gid, size_t gid_len,
	     uint8_t ref[SEAL_REF_LEN])
{
	return hmac(k->index, gid, gid_len, ref);
}

int seal_check_value(const struct seal_keys *k, uint8_t out[SEAL_REF_LEN])
{
	return hmac(k->check, CHECK_TEXT, sizeof(CHECK_TEXT) - 1, out);
}

/* One AES-256-GCM operation over in[0..n) into out, with aad. */
static int gcm(bool enc, const uint8_t key[SEAL_KEY_LEN],
	       const uint8_t nonce[SEAL_NONCE_LEN], const uint8_t *aad,
	       size_t aad_len, const uint8_t *in, size_t n, uint8_t *out,
	       uint8_t tag[SEAL_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t none[1]; /* GCM's final step writes nothing */
	int len = 0, ok;

	ok = ctx != NULL && n <= INT_MAX && aad_len <= INT_MAX &&
	     EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce,
			       enc ? 1 : 0) == 1 &&
	     EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1 &&
	     (n == 0 || EVP_CipherUpdate(ctx, out, &len, in, (int)n) == 1) &&
	     (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
					 SEAL_TAG_LEN, tag) == 1) &&
	     EVP_CipherFinal_ex(ctx, n == 0 ? none : out + len, &len) == 1 &&
	     (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
					  SEAL_TAG_LEN, tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : -1;
}

int seal_value(const struct seal_keys *k, const uint8_t *aad, size_t aad_len,
	       const uint8_t *pt, size_t pt_len, struct bw_bytes *out)
{
	struct bw_bytes v = { 0 };
	int rc;

	if ((rc = bw_bytes_alloc(&v, pt_len + SEAL_OVERHEAD)) != 0)
		return rc;
	if (RAND_bytes(v.p, SEAL_NONCE_LEN) != 1 ||
	    gcm(true, k->rows, v.p, aad, aad_len, pt, pt_len,
		v.p + SEAL_NONCE_LEN, v.p + SEAL_NONCE_LEN + pt_len) != 0) {
		bw_bytes_clear(&v);
		return BULWARK_ERR_KS_CRYPTO;
	}
	bw_bytes_move(out, &v);
	return 0;
}

int seal_open(const struct seal_keys *k, const uint8_t *aad, size_t aad_len,
	      const uint8_t *sealed, size_t sealed_len, struct bw_bytes *out)
{
	struct bw_bytes v = { 0 };
	uint8_t tag[SEAL_TAG_LEN];
	size_t n;
	int rc;

	if (sealed_len < SEAL_OVERHEAD)
		return BULWARK_ERR_STORE_CORRUPT;
	n = sealed_len - SEAL_OVERHEAD;
	if ((rc = bw_bytes_alloc(&v, n)) != 0)
		return rc;
	memcpy(tag, sealed + SEAL_NONCE_LEN + n, SEAL_TAG_LEN);
	if (gcm(false, k->rows, sealed, aad, aad_len, sealed + SEAL_NONCE_LEN,
		n, v.p, tag) != 0) {
		bw_bytes_clear(&v);
		return BULWARK_ERR_STORE_CORRUPT;
	}
	bw_bytes_move(out, &v);
	return 0;
}

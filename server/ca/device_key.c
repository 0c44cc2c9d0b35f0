/*
 * device_key.c - the device signature key a certificate may carry.
 *
 * The key is both the device's TLS client key and its MLS signature key,
 * and RFC 9420 §5.3 requires the certificate's subjectPublicKeyInfo to be
 * identical to the LeafNode's signature_key. So the key must be of the
 * suite's signature scheme (§5.1: Ed25519 for suites 1 and 3, ECDSA P-256
 * for suite 2), and its encoding must be the one MLS uses (§5.1.1: a P-256
 * key is an uncompressed point on the named curve). Anything else, however
 * valid as X.509, is refused.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "ca_int.h"

static bool param_is(EVP_PKEY *pkey, const char *name, const char *want)
{
	char value[32];

	return EVP_PKEY_get_utf8_string_param(pkey, name, value, sizeof(value),
					      NULL) &&
	       strcmp(value, want) == 0;
}

static int check_type(int suite, EVP_PKEY *pkey)
{
	if (suite == 1 || suite == 3)
		return EVP_PKEY_is_a(pkey, "ED25519") ? 0 : CA_ERR_KEY_TYPE;
	if (suite != 2)
		return CA_ERR_SUITE;
	if (!EVP_PKEY_is_a(pkey, "EC") ||
	    !param_is(pkey, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1"))
		return CA_ERR_KEY_TYPE;
	if (!param_is(pkey, OSSL_PKEY_PARAM_EC_ENCODING,
		      OSSL_PKEY_EC_ENCODING_GROUP) ||
	    !param_is(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
		      OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED))
		return CA_ERR_KEY_ENCODING;
	return 0;
}

static bool public_key_ok(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	bool ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* DER has one encoding per value: re-encoding must give the input back. */
static bool canonical(EVP_PKEY *pkey, const uint8_t *spki, size_t len)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(pkey, &der);
	bool same = n > 0 && (size_t)n == len && memcmp(der, spki, len) == 0;

	OPENSSL_free(der);
	return same;
}

int ca_device_key_parse(int suite, const uint8_t *spki, size_t len,
			EVP_PKEY **out)
{
	const unsigned char *p = spki;
	EVP_PKEY *pkey = NULL;
	int rc = CA_ERR_KEY_ENCODING;

	*out = NULL;
	if (len == 0 || len > CA_SPKI_MAX)
		return CA_ERR_KEY_ENCODING;
	pkey = d2i_PUBKEY(NULL, &p, (long)len);
	if (pkey == NULL || p != spki + len)
		goto out;
	if ((rc = check_type(suite, pkey)) != 0)
		goto out;
	if (!public_key_ok(pkey) || !canonical(pkey, spki, len)) {
		rc = CA_ERR_KEY_ENCODING;
		goto out;
	}
	*out = pkey;
	pkey = NULL; /* transferred */
out:
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

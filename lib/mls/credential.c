/*
 * credential.c - basic and X.509 credentials (RFC 9420 §5.3) and their
 * validation: structure and key binding here, acceptability by the
 * application's callback.
 */
#include "credential.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#define ED25519_KEY_LEN 32
#define P256_COORD_LEN 32

int mls_credential_basic(const void *identity, size_t identity_len,
			 struct mls_credential *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (identity_len > MLS_MAX_CREDENTIAL_LEN)
		return MLS_ERR_INVALID_ARG;
	if ((rc = bw_bytes_set(&out->identity, identity, identity_len)) != 0)
		return rc;
	out->type = MLS_CREDENTIAL_BASIC;
	return 0;
}

int mls_credential_x509(const uint8_t *const *der, const size_t *der_len,
			size_t n, struct mls_credential *out)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n > MLS_MAX_CERTIFICATES)
		return MLS_ERR_INVALID_ARG;
	if ((out->certificates = calloc(n, sizeof(*out->certificates))) == NULL)
		return BW_ERR_NOMEM;
	out->type = MLS_CREDENTIAL_X509;
	out->n_certificates = n;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = bw_bytes_set(&out->certificates[i], der[i], der_len[i]);
	if (rc != 0)
		mls_credential_clear(out);
	return rc;
}

int mls_credential_copy(struct mls_credential *dst,
			const struct mls_credential *src)
{
	int rc = 0;

	memset(dst, 0, sizeof(*dst));
	dst->type = src->type;
	if (src->type == MLS_CREDENTIAL_BASIC)
		return bw_bytes_set(&dst->identity, src->identity.p,
				    src->identity.len);
	if (src->n_certificates == 0)
		return 0;
	dst->certificates = calloc(src->n_certificates,
				   sizeof(*dst->certificates));
	if (dst->certificates == NULL)
		return BW_ERR_NOMEM;
	dst->n_certificates = src->n_certificates;
	for (size_t i = 0; i < src->n_certificates && rc == 0; i++)
		rc = bw_bytes_set(&dst->certificates[i],
				  src->certificates[i].p,
				  src->certificates[i].len);
	if (rc != 0)
		mls_credential_clear(dst);
	return rc;
}

/* An Ed25519 key as its raw 32 bytes. */
static int ed25519_wire(EVP_PKEY *pk, struct bw_bytes *out)
{
	uint8_t raw[ED25519_KEY_LEN];
	size_t len = sizeof(raw);

	if (!EVP_PKEY_is_a(pk, "ED25519"))
		return MLS_ERR_BAD_KEY;
	if (EVP_PKEY_get_raw_public_key(pk, raw, &len) != 1 ||
	    len != sizeof(raw))
		return MLS_ERR_BAD_KEY;
	return bw_bytes_set(out, raw, len);
}

/* A P-256 key as the uncompressed point 04 || x || y, whatever form the
 * certificate used. */
static int p256_wire(EVP_PKEY *pk, struct bw_bytes *out)
{
	uint8_t point[MLS_P256_POINT_LEN];
	char group[32];
	BIGNUM *x = NULL, *y = NULL;
	int rc = MLS_ERR_BAD_KEY;

	if (!EVP_PKEY_is_a(pk, "EC") ||
	    EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
					   group, sizeof(group), NULL) != 1 ||
	    strcmp(group, "prime256v1") != 0)
		goto out;
	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1)
		goto out;
	point[0] = 0x04;
	if (BN_bn2binpad(x, point + 1, P256_COORD_LEN) != P256_COORD_LEN ||
	    BN_bn2binpad(y, point + 1 + P256_COORD_LEN, P256_COORD_LEN) !=
		    P256_COORD_LEN)
		goto out;
	rc = bw_bytes_set(out, point, sizeof(point));
out:
	BN_free(x);
	BN_free(y);
	return rc;
}

int mls_credential_x509_public_key(const struct mls_suite *s,
				   const struct mls_credential *c,
				   struct bw_bytes *out)
{
	const unsigned char *p;
	X509 *cert = NULL;
	EVP_PKEY *pk;
	int rc = MLS_ERR_CREDENTIAL;

	if (c->type != MLS_CREDENTIAL_X509 || c->n_certificates == 0 ||
	    c->certificates[0].len > LONG_MAX)
		return MLS_ERR_CREDENTIAL;
	p = c->certificates[0].p;
	cert = d2i_X509(NULL, &p, (long)c->certificates[0].len);
	/* The whole entry must be one certificate. */
	if (cert == NULL ||
	    p != c->certificates[0].p + c->certificates[0].len ||
	    (pk = X509_get0_pubkey(cert)) == NULL)
		goto out;
	rc = s->sig_alg == MLS_SIG_ED25519 ? ed25519_wire(pk, out)
					   : p256_wire(pk, out);
out:
	X509_free(cert);
	return rc;
}

/* §5.3: the end-entity certificate's key is the leaf's signature key. */
static int x509_binding(const struct mls_suite *s,
			const struct mls_credential *c, const uint8_t *sig_key,
			size_t sig_key_len)
{
	struct bw_bytes key = { 0 };
	int rc;

	rc = mls_credential_x509_public_key(s, c, &key);
	if (rc == 0 && !bw_bytes_eq(&key, sig_key, sig_key_len))
		rc = MLS_ERR_CREDENTIAL;
	bw_bytes_clear(&key);
	return rc == BW_ERR_NOMEM ? rc : (rc != 0 ? MLS_ERR_CREDENTIAL : 0);
}

int mls_credential_validate(const struct mls_suite *s,
			    const struct mls_credential *c,
			    const uint8_t *sig_key, size_t sig_key_len,
			    mls_credential_fn accept, void *arg)
{
	int rc;

	if (accept == NULL)
		return MLS_ERR_INVALID_ARG;
	switch (c->type) {
	case MLS_CREDENTIAL_BASIC:
		break;
	case MLS_CREDENTIAL_X509:
		if ((rc = x509_binding(s, c, sig_key, sig_key_len)) != 0)
			return rc;
		break;
	default:
		return MLS_ERR_CREDENTIAL;
	}
	return accept(arg, c, sig_key, sig_key_len) == 0 ? 0
							 : MLS_ERR_CREDENTIAL;
}

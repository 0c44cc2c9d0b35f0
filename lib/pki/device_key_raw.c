/* device_key_raw.c - a device's signature key in the form MLS signs with
 * (RFC 9420 §5.1.1): what the device library and the load generator hand
 * to mls_signer_new. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "pki.h"

int ca_device_key_raw(EVP_PKEY *key, uint8_t out[CA_KEY_RAW_MAX],
		      size_t *len)
{
	BIGNUM *d = NULL;
	int rc = CA_ERR_CRYPTO;

	*len = CA_KEY_RAW_MAX;
	if (EVP_PKEY_is_a(key, "ED25519")) {
		if (EVP_PKEY_get_raw_private_key(key, out, len) == 1)
			rc = 0;
	} else if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) ==
			   1 &&
		   BN_bn2binpad(d, out, 32) == 32) {
		*len = 32;
		rc = 0;
	}
	BN_clear_free(d);
	ERR_clear_error();
	return rc;
}

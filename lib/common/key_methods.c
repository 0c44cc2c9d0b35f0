/*
 * key_methods.c - OpenSSL's built-in EC and Ed25519 key methods through
 * an ENGINE (key_methods.h says why).
 *
 * OpenSSL 3.0 asks ENGINE_get_pkey_meth_engine() first, both when it
 * decodes a certificate's key (x509_pubkey_decode: a registered engine
 * selects the built-in ASN.1 decoding instead of OSSL_DECODER) and when it
 * creates an EVP_PKEY_CTX for a key of that type. The engine hands back the
 * library's own methods from EVP_PKEY_meth_find(); it implements nothing.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* ENGINE, EVP_PKEY_meth_find */

#include "key_methods.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/opensslv.h>

#include "err.h"

#if OPENSSL_VERSION_NUMBER < 0x30200000L && !defined(OPENSSL_NO_ENGINE)
#include <openssl/engine.h>

/* X25519 stays with the providers: libssl creates its key shares by name,
 * which the built-in X25519 method does not serve. */
static const int key_nids[] = { NID_X9_62_id_ecPublicKey, NID_ED25519 };

static int builtin_methods(ENGINE *e, EVP_PKEY_METHOD **method,
			   const int **nids, int nid)
{
	(void)e;
	if (method == NULL) {
		*nids = key_nids;
		return (int)(sizeof(key_nids) / sizeof(key_nids[0]));
	}
	/* libcrypto only reads the method an engine returns. */
	*method = (EVP_PKEY_METHOD *)EVP_PKEY_meth_find(nid);
	return *method != NULL;
}

static int register_engine(void)
{
	ENGINE *e = ENGINE_new();
	int ok = e != NULL && ENGINE_set_id(e, "bulwark-builtin-keys") == 1 &&
		 ENGINE_set_name(e, "OpenSSL's built-in EC and Ed25519 "
				    "methods") == 1 &&
		 ENGINE_set_pkey_meths(e, builtin_methods) == 1 &&
		 ENGINE_add(e) == 1 && ENGINE_set_default_pkey_meths(e) == 1;

	/* The engine list and the default table keep their own references
	 * (released by OPENSSL_cleanup at exit). */
	ENGINE_free(e);
	return ok ? 1 : BW_ERR_OPENSSL;
}

int bw_key_methods_use_builtin(void)
{
	static int state; /* 0: not tried, else the first answer */

	if (state != 0)
		return state;
	if (OpenSSL_version_num() >= 0x30200000L ||
	    EVP_default_properties_is_fips_enabled(NULL))
		return 0;
	for (size_t i = 0; i < sizeof(key_nids) / sizeof(key_nids[0]); i++)
		if (EVP_PKEY_meth_find(key_nids[i]) == NULL)
			return 0;
	state = register_engine();
	return state;
}

#else

int bw_key_methods_use_builtin(void)
{
	return 0;
}

#endif

/* ca_secrets.c - needles for the CA's secrets (ca_secrets.h). */
#include "ca_secrets.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include "ca.h"
#include "ca_key.h"

#define SCALAR_LEN 32 /* P-256 */

static int scalar_needles(const struct ca_key *key,
			  struct memscan_needle out[CA_SECRETS])
{
	uint8_t be[SCALAR_LEN], le[SCALAR_LEN];
	BIGNUM *d = NULL;
	int rc = CA_ERR_CRYPTO;

	if (EVP_PKEY_get_bn_param(key->ops->public_key(key),
				  OSSL_PKEY_PARAM_PRIV_KEY, &d) &&
	    BN_bn2binpad(d, be, SCALAR_LEN) == SCALAR_LEN &&
	    BN_bn2lebinpad(d, le, SCALAR_LEN) == SCALAR_LEN &&
	    memscan_needle_init(&out[CA_SECRET_KEY_BE], "ca-key-be", be,
				SCALAR_LEN) == 0 &&
	    memscan_needle_init(&out[CA_SECRET_KEY_LE], "ca-key-le", le,
				SCALAR_LEN) == 0)
		rc = 0;
	OPENSSL_cleanse(be, sizeof(be));
	OPENSSL_cleanse(le, sizeof(le));
	BN_clear_free(d);
	return rc;
}

int ca_secrets_needles(const char *key_path, const char *pass_path,
		       struct memscan_needle out[CA_SECRETS])
{
	struct bw_bytes pass = { 0 };
	struct ca_key *key = NULL;
	int rc;

	if ((rc = ca_passphrase_read(pass_path, &pass)) != 0 ||
	    (rc = ca_key_file_load(key_path, &pass, &key)) != 0)
		goto out;
	if ((rc = scalar_needles(key, out)) != 0)
		goto out;
	if (memscan_needle_init(&out[CA_SECRET_PASSPHRASE], "passphrase",
				pass.p, pass.len) != 0)
		rc = CA_ERR_PASSPHRASE_FILE; /* shorter than a needle */
out:
	ca_key_free(key);
	bw_bytes_clear(&pass);
	return rc;
}

/* authority.c - the CA itself: create it, save it, load it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca_int.h"

static int self_sign(struct ca *ca, uint32_t days)
{
	EVP_PKEY *pub = ca->key->ops->public_key(ca->key);
	char cn[CA_ORG_MAX + sizeof(" Bulwark CA")];
	X509 *cert = NULL;
	int rc;

	snprintf(cn, sizeof(cn), "%s Bulwark CA", ca->org);
	if ((rc = ca_cert_new(cn, ca->org, NULL, pub, days, NULL, &cert)) != 0)
		return rc;
	/* pathlen:0 - the CA certifies end entities only, never another CA. */
	if ((rc = ca_cert_add_ext(cert, NULL, NID_basic_constraints,
				  "critical,CA:TRUE,pathlen:0")) != 0 ||
	    (rc = ca_cert_add_ext(cert, NULL, NID_key_usage,
				  "critical,keyCertSign,cRLSign")) != 0 ||
	    (rc = ca_cert_add_ext(cert, NULL, NID_subject_key_identifier,
				  "hash")) != 0 ||
	    (rc = ca_cert_add_suite(cert, ca->suite)) != 0 ||
	    (rc = ca->key->ops->sign_cert(ca->key, cert)) != 0) {
		X509_free(cert);
		return rc;
	}
	ca->cert = cert;
	return 0;
}

int ca_generate(const char *org, int suite, uint32_t days, struct ca **out)
{
	struct ca *ca;
	int rc;

	*out = NULL;
	if (!ca_org_name_valid(org))
		return CA_ERR_ORG_NAME;
	if (suite < 1 || suite > 3)
		return CA_ERR_SUITE;
	if (days == 0 || days > CA_DEFAULT_CA_DAYS)
		return CA_ERR_VALIDITY;
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return BW_ERR_NOMEM;
	ca->suite = suite;
	snprintf(ca->org, sizeof(ca->org), "%s", org);
	if ((rc = ca_key_file_generate(&ca->key)) != 0 ||
	    (rc = self_sign(ca, days)) != 0) {
		ca_free(ca);
		ERR_clear_error();
		return rc;
	}
	*out = ca;
	return 0;
}

int ca_save(const struct ca *ca, const char *key_path, const char *cert_path,
	    const struct bw_bytes *passphrase)
{
	/* Suite 2 promises FIPS-approved algorithms only; scrypt is not. */
	enum ca_key_kdf kdf = ca->suite == 2 ? CA_KDF_PBKDF2 : CA_KDF_SCRYPT;
	struct bw_bytes pem = { 0 };
	int rc;

	if ((rc = ca_cert_to_pem(ca->cert, &pem)) != 0)
		return rc;
	if ((rc = ca_key_file_save(ca->key, key_path, passphrase, kdf)) == 0 &&
	    (rc = ca_file_create(cert_path, 0644, pem.p, pem.len)) != 0)
		unlink(key_path); /* all or nothing */
	bw_bytes_clear(&pem);
	return rc;
}

/* The organisation recorded in a CA certificate's subject. */
static int cert_org(const X509 *cert, char org[CA_ORG_MAX + 1])
{
	/* One byte more than allowed: a longer name shows as too long
	 * instead of being cut to a valid one. */
	char text[CA_ORG_MAX + 2];
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
					  NID_organizationName, text,
					  sizeof(text));

	if (n <= 0 || !ca_org_name_valid(text))
		return CA_ERR_NOT_CA;
	memcpy(org, text, (size_t)n + 1);
	return 0;
}

/* The certificate half of a CA: a CA certificate with a suite. */
static int load_cert(const char *cert_path, struct ca *ca)
{
	uint8_t *der = NULL;
	size_t len;
	int rc;

	if ((rc = ca_cert_file_read(cert_path, &der, &len)) != 0 ||
	    (rc = ca_cert_from_der(der, len, &ca->cert)) != 0)
		goto out;
	if (X509_check_ca(ca->cert) != 1) {
		rc = CA_ERR_NOT_CA;
		goto out;
	}
	if ((rc = ca_cert_get_suite(ca->cert, &ca->suite)) != 0)
		goto out;
	rc = cert_org(ca->cert, ca->org);
out:
	free(der);
	return rc;
}

int ca_load(const char *key_path, const char *cert_path,
	    const char *passphrase_file, struct ca **out)
{
	struct bw_bytes pass = { 0 };
	struct ca *ca;
	int rc;

	*out = NULL;
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return BW_ERR_NOMEM;
	/* The certificate first: a wrong file fails before the slow KDF. */
	if ((rc = load_cert(cert_path, ca)) != 0 ||
	    (rc = ca_passphrase_read(passphrase_file, &pass)) != 0)
		goto out;
	rc = ca_key_file_load(key_path, &pass, &ca->key);
	bw_bytes_clear(&pass); /* no longer needed once the key is open */
	if (rc != 0)
		goto out;
	if (EVP_PKEY_eq(X509_get0_pubkey(ca->cert),
			ca->key->ops->public_key(ca->key)) != 1) {
		rc = CA_ERR_KEY_MISMATCH;
		goto out;
	}
	*out = ca;
	ca = NULL; /* transferred */
out:
	ca_free(ca);
	ERR_clear_error();
	return rc;
}

void ca_free(struct ca *ca)
{
	if (ca == NULL)
		return;
	ca_key_free(ca->key);
	X509_free(ca->cert);
	free(ca);
}

int ca_suite(const struct ca *ca)
{
	return ca->suite;
}

int ca_cert_der(const struct ca *ca, uint8_t **der, size_t *len)
{
	return ca_cert_to_der(ca->cert, der, len);
}

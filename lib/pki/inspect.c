/* inspect.c - reading certificates without the CA key: fingerprints, the
 * organisation's suite, a device's identity, and chain verification (for
 * tests, and for validating MLS x509 credentials, RFC 9420 §5.3.1). */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki.h"

#define CERT_FILE_MAX 65536u

int ca_cert_file_read(const char *path, uint8_t **der, size_t *len)
{
	struct bw_bytes text = { 0 };
	BIO *mem = NULL;
	X509 *cert = NULL;
	int rc;

	*der = NULL;
	*len = 0;
	if ((rc = ca_file_read(path, CERT_FILE_MAX, &text, NULL)) != 0)
		return rc;
	rc = CA_ERR_CERT_PARSE;
	if (text.len > 0 &&
	    (mem = BIO_new_mem_buf(text.p, (int)text.len)) != NULL &&
	    (cert = PEM_read_bio_X509(mem, NULL, NULL, NULL)) != NULL)
		rc = ca_cert_to_der(cert, der, len);
	X509_free(cert);
	BIO_free(mem);
	bw_bytes_clear(&text);
	ERR_clear_error();
	return rc;
}

int ca_fingerprint(const uint8_t *der, size_t len,
		   uint8_t fp[CA_FINGERPRINT_LEN])
{
	size_t n = 0;

	if (!EVP_Q_digest(NULL, "SHA256", NULL, der, len, fp, &n) ||
	    n != CA_FINGERPRINT_LEN)
		return CA_ERR_CRYPTO;
	return 0;
}

void ca_fingerprint_text(const uint8_t fp[CA_FINGERPRINT_LEN],
			 char out[CA_FINGERPRINT_TEXT_SIZE])
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = 0; i < CA_FINGERPRINT_LEN; i++) {
		out[3 * i] = digits[fp[i] >> 4];
		out[3 * i + 1] = digits[fp[i] & 15];
		out[3 * i + 2] = ':';
	}
	out[CA_FINGERPRINT_TEXT_SIZE - 1] = '\0';
}

int ca_cert_suite(const uint8_t *ca_der, size_t ca_len, int *suite)
{
	X509 *cert;
	int rc;

	if ((rc = ca_cert_from_der(ca_der, ca_len, &cert)) != 0)
		return rc;
	rc = X509_check_ca(cert) == 1 ? ca_cert_get_suite(cert, suite) :
					CA_ERR_NOT_CA;
	X509_free(cert);
	return rc;
}

/* The one bulwark: URI among the certificate's subjectAltNames. */
static int identity_of(X509 *cert, char user[CA_NAME_MAX + 1],
		       char device_id[CA_NAME_MAX + 1])
{
	static const char scheme[] = "bulwark:";
	GENERAL_NAMES *names;
	const ASN1_IA5STRING *uri = NULL;
	int crit, rc = CA_ERR_NO_IDENTITY;

	/* NULL also when the extension occurs twice (crit == -2). */
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		const ASN1_IA5STRING *s = gn->d.uniformResourceIdentifier;

		if (gn->type != GEN_URI ||
		    ASN1_STRING_length(s) < (int)sizeof(scheme) - 1 ||
		    memcmp(ASN1_STRING_get0_data(s), scheme,
			   sizeof(scheme) - 1) != 0)
			continue;
		if (uri != NULL)
			goto out; /* two identities: trust neither */
		uri = s;
	}
	if (uri != NULL)
		rc = ca_device_uri_parse(
			(const char *)ASN1_STRING_get0_data(uri),
			(size_t)ASN1_STRING_length(uri), user, device_id);
out:
	GENERAL_NAMES_free(names);
	ERR_clear_error();
	return rc;
}

int ca_device_identity(const uint8_t *der, size_t len,
		       char user[CA_NAME_MAX + 1],
		       char device_id[CA_NAME_MAX + 1])
{
	X509 *cert;
	int rc;

	if ((rc = ca_cert_from_der(der, len, &cert)) != 0)
		return rc;
	rc = identity_of(cert, user, device_id);
	X509_free(cert);
	return rc;
}

/* Path validation of cert against the CA alone (RFC 5280 §6, OpenSSL's
 * strict mode) for one purpose, at time `at` (0: now). */
static int verify_chain(X509 *ca, X509 *cert, int purpose, time_t at)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = CA_ERR_CRYPTO;

	if (store == NULL || ctx == NULL || !X509_STORE_add_cert(store, ca) ||
	    !X509_STORE_CTX_init(ctx, store, cert, NULL) ||
	    !X509_STORE_CTX_set_purpose(ctx, purpose))
		goto out;
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
	if (at != 0)
		X509_STORE_CTX_set_time(ctx, 0, at);
	if (X509_verify_cert(ctx) == 1) {
		rc = 0;
		goto out;
	}
	switch (X509_STORE_CTX_get_error(ctx)) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		rc = CA_ERR_EXPIRED;
		break;
	default:
		rc = CA_ERR_UNTRUSTED;
	}
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return rc;
}

static int verify_der(const uint8_t *ca_der, size_t ca_len,
		      const uint8_t *der, size_t len, int purpose, time_t at,
		      X509 **cert_out)
{
	X509 *ca = NULL, *cert = NULL;
	int rc;

	*cert_out = NULL;
	if ((rc = ca_cert_from_der(ca_der, ca_len, &ca)) != 0 ||
	    (rc = ca_cert_from_der(der, len, &cert)) != 0 ||
	    (rc = verify_chain(ca, cert, purpose, at)) != 0)
		goto out;
	*cert_out = cert;
	cert = NULL; /* transferred */
out:
	X509_free(cert);
	X509_free(ca);
	return rc;
}

int ca_verify_device_cert(const uint8_t *ca_der, size_t ca_len,
			  const uint8_t *der, size_t len, time_t at,
			  char user[CA_NAME_MAX + 1],
			  char device_id[CA_NAME_MAX + 1])
{
	X509 *cert;
	int rc;

	if ((rc = verify_der(ca_der, ca_len, der, len, X509_PURPOSE_SSL_CLIENT,
			     at, &cert)) != 0)
		return rc;
	rc = identity_of(cert, user, device_id);
	X509_free(cert);
	return rc;
}

int ca_verify_server_cert(const uint8_t *ca_der, size_t ca_len,
			  const uint8_t *der, size_t len, time_t at)
{
	X509 *cert;
	int rc;

	if ((rc = verify_der(ca_der, ca_len, der, len, X509_PURPOSE_SSL_SERVER,
			     at, &cert)) != 0)
		return rc;
	X509_free(cert);
	return 0;
}

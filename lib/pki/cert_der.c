/* cert_der.c - certificates in and out of DER, and the MLS suite they
 * record. */
#include <stdlib.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "pki.h"

int ca_cert_get_suite(const X509 *cert, int *suite)
{
	ASN1_OBJECT *oid = OBJ_txt2obj(CA_SUITE_EXT_OID, 1);
	ASN1_INTEGER *value = NULL;
	const ASN1_OCTET_STRING *data;
	const unsigned char *p;
	int64_t v;
	int idx, rc = CA_ERR_NOT_CA;

	if (oid == NULL)
		return CA_ERR_CRYPTO;
	/* Exactly one suite extension holding exactly one INTEGER. */
	idx = X509_get_ext_by_OBJ(cert, oid, -1);
	if (idx < 0 || X509_get_ext_by_OBJ(cert, oid, idx) >= 0)
		goto out;
	data = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
	p = ASN1_STRING_get0_data(data);
	value = d2i_ASN1_INTEGER(NULL, &p, ASN1_STRING_length(data));
	if (value == NULL || p != ASN1_STRING_get0_data(data) +
					  ASN1_STRING_length(data) ||
	    !ASN1_INTEGER_get_int64(&v, value))
		goto out;
	if (v < 1 || v > 3) {
		rc = CA_ERR_SUITE;
		goto out;
	}
	*suite = (int)v;
	rc = 0;
out:
	ASN1_INTEGER_free(value);
	ASN1_OBJECT_free(oid);
	ERR_clear_error();
	return rc;
}

int ca_cert_to_der(const X509 *cert, uint8_t **der, size_t *len)
{
	int n = i2d_X509(cert, NULL);
	uint8_t *buf, *p;

	*der = NULL;
	*len = 0;
	if (n <= 0)
		return CA_ERR_CRYPTO;
	if ((buf = malloc((size_t)n)) == NULL)
		return BW_ERR_NOMEM;
	p = buf;
	if (i2d_X509(cert, &p) != n) {
		free(buf);
		return CA_ERR_CRYPTO;
	}
	*der = buf;
	*len = (size_t)n;
	return 0;
}

int ca_cert_from_der(const uint8_t *der, size_t len, X509 **out)
{
	const unsigned char *p = der;
	X509 *cert;

	*out = NULL;
	if (len == 0 || len > CA_CERT_MAX)
		return CA_ERR_CERT_PARSE;
	cert = d2i_X509(NULL, &p, (long)len);
	if (cert == NULL || p != der + len) {
		X509_free(cert);
		ERR_clear_error();
		return CA_ERR_CERT_PARSE;
	}
	*out = cert;
	return 0;
}

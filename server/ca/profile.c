/* profile.c - what every Bulwark certificate shares (docs/ca.md):
 * version 3, random serial, O and CN, validity with clock-skew slack, the
 * extensions, and the MLS cipher-suite extension of the CA certificate. */
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca_int.h"

/* Devices with a clock a little behind must still accept a certificate
 * issued a moment ago. */
#define NOT_BEFORE_SLACK_SECONDS (5 * 60)

/* Bulwark's private extension: the organisation's MLS cipher suite, an
 * INTEGER, non-critical. The OID is in the 2.25 arc, derived from a UUID
 * (ITU-T X.667), so it needs no registration and clashes with nothing. */

static int set_random_serial(X509 *cert)
{
	BIGNUM *bn = BN_new();
	int rc = CA_ERR_CRYPTO;

	/* 128 random bits; zero is not a valid serial (RFC 5280 §4.1.2.2). */
	if (bn == NULL)
		return CA_ERR_CRYPTO;
	do {
		if (!BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY))
			goto out;
	} while (BN_is_zero(bn));
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL)
		rc = 0;
out:
	BN_free(bn);
	return rc;
}

static int set_subject(X509 *cert, const char *cn, const char *org)
{
	X509_NAME *name = X509_get_subject_name(cert);

	if (!X509_NAME_add_entry_by_NID(name, NID_organizationName,
					MBSTRING_ASC,
					(const unsigned char *)org, -1, -1,
					0) ||
	    !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1, 0))
		return CA_ERR_CRYPTO;
	return 0;
}

static int set_validity(X509 *cert, uint32_t days,
			const ASN1_TIME *not_after_max)
{
	if (X509_gmtime_adj(X509_getm_notBefore(cert),
			    -NOT_BEFORE_SLACK_SECONDS) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, 0, NULL) ==
		    NULL)
		return CA_ERR_CRYPTO;
	/* A certificate cannot outlive its issuer: path validation would
	 * refuse it from that day on anyway. */
	if (not_after_max != NULL &&
	    ASN1_TIME_compare(X509_get0_notAfter(cert), not_after_max) > 0 &&
	    !X509_set1_notAfter(cert, not_after_max))
		return CA_ERR_CRYPTO;
	return 0;
}

int ca_cert_new(const char *cn, const char *org, const X509_NAME *issuer,
		EVP_PKEY *pub, uint32_t days, const ASN1_TIME *not_after_max,
		X509 **out)
{
	X509 *cert;
	int rc;

	*out = NULL;
	if ((cert = X509_new()) == NULL)
		return BW_ERR_NOMEM;
	if (!X509_set_version(cert, X509_VERSION_3) ||
	    !X509_set_pubkey(cert, pub)) {
		rc = CA_ERR_CRYPTO;
		goto out;
	}
	if ((rc = set_random_serial(cert)) != 0 ||
	    (rc = set_subject(cert, cn, org)) != 0 ||
	    (rc = set_validity(cert, days, not_after_max)) != 0)
		goto out;
	if (!X509_set_issuer_name(cert, issuer != NULL ?
					       issuer :
					       X509_get_subject_name(cert))) {
		rc = CA_ERR_CRYPTO;
		goto out;
	}
	*out = cert;
	cert = NULL; /* transferred */
out:
	X509_free(cert);
	return rc;
}

int ca_cert_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : cert, cert, NULL, NULL,
		       0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value)) == NULL)
		return CA_ERR_CRYPTO;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : CA_ERR_CRYPTO;
}

/* One GENERAL_NAME of the given type: an IA5String for URIs and DNS
 * names, the address octets for IP addresses. */
static GENERAL_NAME *general_name(int type, const char *value)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_STRING *s;

	if (gn == NULL)
		return NULL;
	if (type == GEN_IPADD) {
		s = a2i_IPADDRESS(value);
	} else if ((s = ASN1_IA5STRING_new()) != NULL &&
		   !ASN1_STRING_set(s, value, -1)) {
		ASN1_IA5STRING_free(s);
		s = NULL;
	}
	if (s == NULL) {
		GENERAL_NAME_free(gn);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, type, s);
	return gn;
}

int ca_cert_add_san(X509 *cert, int type, const char *value)
{
	GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gn = general_name(type, value);
	int rc = CA_ERR_CRYPTO;

	if (names == NULL || gn == NULL || !sk_GENERAL_NAME_push(names, gn))
		goto out;
	gn = NULL; /* owned by names */
	if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0,
			      X509V3_ADD_DEFAULT) == 1)
		rc = 0;
out:
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(names);
	return rc;
}

int ca_cert_add_suite(X509 *cert, int suite)
{
	ASN1_OBJECT *oid = OBJ_txt2obj(CA_SUITE_EXT_OID, 1);
	ASN1_INTEGER *value = ASN1_INTEGER_new();
	ASN1_OCTET_STRING *data = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	unsigned char *der = NULL;
	int der_len, rc = CA_ERR_CRYPTO;

	if (oid == NULL || value == NULL || data == NULL ||
	    !ASN1_INTEGER_set(value, suite) ||
	    (der_len = i2d_ASN1_INTEGER(value, &der)) <= 0 ||
	    !ASN1_OCTET_STRING_set(data, der, der_len))
		goto out;
	ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, data);
	if (ext != NULL && X509_add_ext(cert, ext, -1))
		rc = 0;
out:
	X509_EXTENSION_free(ext);
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(data);
	ASN1_INTEGER_free(value);
	ASN1_OBJECT_free(oid);
	return rc;
}

int ca_cert_to_pem(const X509 *cert, struct bw_bytes *pem)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *text;
	long n;
	int rc = CA_ERR_CRYPTO;

	if (mem != NULL && PEM_write_bio_X509(mem, cert) &&
	    (n = BIO_get_mem_data(mem, &text)) > 0)
		rc = bw_bytes_set(pem, text, (size_t)n);
	BIO_free(mem);
	return rc;
}

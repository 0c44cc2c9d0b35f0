/* test_cert.c - certificates made in a test (test_cert.h). */
#include <openssl/x509v3.h>

#include "test_cert.h"

static int mark_ca(X509 *cert)
{
	X509V3_CTX v3;
	X509_EXTENSION *bc;
	int ok;

	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	bc = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
				 "critical,CA:TRUE");
	ok = bc != NULL && X509_add_ext(cert, bc, -1) == 1;
	X509_EXTENSION_free(bc);
	return ok;
}

X509 *test_cert_new(const char *cn, EVP_PKEY *key, X509 *issuer,
		    EVP_PKEY *issuer_key)
{
	X509 *cert = X509_new();
	X509_NAME *name = cert != NULL ? X509_get_subject_name(cert) : NULL;
	EVP_PKEY *signer = issuer != NULL ? issuer_key : key;
	int ok = name != NULL && X509_set_version(cert, 2) == 1 &&
		 ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) == 1 &&
		 X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != NULL &&
		 X509_gmtime_adj(X509_getm_notAfter(cert), 86400) != NULL &&
		 X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					    (const unsigned char *)cn, -1, -1,
					    0) == 1 &&
		 X509_set_issuer_name(cert, issuer != NULL
						    ? X509_get_subject_name(issuer)
						    : name) == 1 &&
		 X509_set_pubkey(cert, key) == 1 &&
		 (issuer != NULL || mark_ca(cert)) &&
		 X509_sign(cert, signer,
			   EVP_PKEY_is_a(signer, "ED25519") ? NULL
							    : EVP_sha256()) > 0;

	if (!ok) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

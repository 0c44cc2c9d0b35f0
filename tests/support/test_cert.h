/*
 * test_cert.h - X.509 certificates made in a test, for the tests that need
 * a CA, a server or a device without bulwarkd's CA code.
 */
#ifndef BW_TEST_CERT_H
#define BW_TEST_CERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

/* A v3 certificate named cn for key, valid from an hour ago for a day,
 * issued under issuer's name and signed by issuer_key; self-signed by key
 * (and marked CA:TRUE) when issuer is NULL. SHA-256 unless the signer is
 * Ed25519. NULL on any failure. */
X509 *test_cert_new(const char *cn, EVP_PKEY *key, X509 *issuer,
		    EVP_PKEY *issuer_key);

#endif

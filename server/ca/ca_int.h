/*
 * ca_int.h - what the files of server/ca share and nothing outside uses.
 */
#ifndef BW_CA_INT_H
#define BW_CA_INT_H

#include <sys/types.h>

#include <openssl/x509.h>

#include "ca.h"
#include "ca_key.h"

struct ca {
	struct ca_key *key;
	X509 *cert;
	int suite;
	char org[CA_ORG_MAX + 1];
};


/* profile.c: the parts every Bulwark certificate shares. */
/* A version 3 certificate with a random 128-bit serial, subject CN and O,
 * issuer, public key and validity [now - 5 min, now + days], cut at
 * not_after_max when that is not NULL. */
int ca_cert_new(const char *cn, const char *org, const X509_NAME *issuer,
		EVP_PKEY *pub, uint32_t days, const ASN1_TIME *not_after_max,
		X509 **out);
/* Add an extension given in OpenSSL's configuration syntax (fixed strings
 * only, never user input) with issuer/subject context. */
int ca_cert_add_ext(X509 *cert, X509 *issuer, int nid, const char *value);
/* subjectAltName holding one name: type GEN_URI or GEN_DNS (value as is)
 * or GEN_IPADD (value an address literal). */
int ca_cert_add_san(X509 *cert, int type, const char *value);
/* device_key.c: parse a device's SubjectPublicKeyInfo and check it is
 * the canonical encoding of the key type the suite signs with. */
int ca_device_key_parse(int suite, const uint8_t *spki, size_t len,
			EVP_PKEY **out);
/* The Bulwark MLS cipher-suite extension of a CA certificate. */
int ca_cert_add_suite(X509 *cert, int suite);
/* PEM text of the certificate. */
int ca_cert_to_pem(const X509 *cert, struct bw_bytes *pem);

#endif

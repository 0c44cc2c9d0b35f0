/*
 * ca_secrets.h - the CA's secrets as memscan needles: the private scalar as
 * big-endian bytes (DER, files) and little-endian (OpenSSL's BIGNUM words
 * on x86-64 and arm64), and the passphrase as its file holds it.
 */
#ifndef BW_TEST_CA_SECRETS_H
#define BW_TEST_CA_SECRETS_H

#include "memscan.h"

enum { CA_SECRET_KEY_BE, CA_SECRET_KEY_LE, CA_SECRET_PASSPHRASE,
       CA_SECRETS };

/* Decrypt key_path with the passphrase in pass_path, fingerprint the
 * secrets into out[CA_SECRETS] and wipe every copy. Returns 0 or a
 * ca_err.h code. */
int ca_secrets_needles(const char *key_path, const char *pass_path,
		       struct memscan_needle out[CA_SECRETS]);

#endif

/*
 * ca.h - the organisation's certificate authority (docs/ca.md).
 *
 * The CA is a P-256 ECDSA key and a self-signed certificate; it certifies
 * the server's TLS key and each device's signature key, which the device
 * uses both for mutual TLS and as its MLS signature key (the certificate is
 * its MLS x509 credential, RFC 9420 §5.3). The organisation's MLS cipher
 * suite is recorded in the CA certificate, so whoever holds the CA
 * certificate knows which device key type it certifies.
 *
 * Only bulwarkctl init (creating the CA) and the CA monitor (issuing
 * certificates, server/privsep) ever hold a struct ca; everyone else reads
 * certificates with lib/pki (pki.h), which needs no CA key.
 *
 * Every function that can fail returns 0 or a negative code (ca_err.h).
 * Byte strings handed out (uint8_t **) are the caller's to free().
 */
#ifndef BW_CA_H
#define BW_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "pki.h"

struct ca;

/* --- the CA itself --- */

/* A new CA for org, whose devices use MLS cipher suite `suite`, valid for
 * `days` from now. The key exists only in memory until ca_save(). */
int ca_generate(const char *org, int suite, uint32_t days, struct ca **out);
/* Write the key (PKCS#8, encrypted under passphrase, mode 0600) and the
 * certificate (PEM, 0644). Neither file may exist yet. */
int ca_save(const struct ca *ca, const char *key_path, const char *cert_path,
	    const struct bw_bytes *passphrase);
/* Load a CA saved by ca_save(), reading the passphrase from its file and
 * wiping it once the key is decrypted. */
int ca_load(const char *key_path, const char *cert_path,
	    const char *passphrase_file, struct ca **out);
void ca_free(struct ca *ca);

int ca_suite(const struct ca *ca);
/* A copy of the CA certificate, DER. */
int ca_cert_der(const struct ca *ca, uint8_t **der, size_t *len);

/* Certify a device's signature key (SubjectPublicKeyInfo, DER): subject
 * CN=device_id, O=org, SAN URI bulwark:user/<user>/device/<device_id>,
 * clientAuth. The key must be Ed25519 for suites 1 and 3 and P-256
 * (uncompressed point) for suite 2. Validity 1..CA_DEVICE_DAYS_MAX days,
 * ending no later than the CA certificate. */
int ca_issue_device_cert(const struct ca *ca, const char *user,
			 const char *device_id, const uint8_t *spki,
			 size_t spki_len, uint32_t days, uint8_t **der,
			 size_t *len);
/* The delivery service's MLS credential (docs/ca.md): subject
 * CN=CA_DS_COMMON_NAME, O=org, SAN URI bulwark:server/<server_name>,
 * digitalSignature and no extended key usage, for a key of the type the
 * suite signs with (as a device's). Validity 1..CA_SERVER_CERT_DAYS days,
 * ending no later than the CA certificate. */
#define CA_DS_URI_PREFIX "bulwark:server/"
#define CA_DS_COMMON_NAME "Bulwark delivery service"
int ca_issue_ds_cert(const struct ca *ca, const char *server_name,
		     const uint8_t *spki, size_t spki_len, uint32_t days,
		     uint8_t **der, size_t *len);
/* A fresh P-256 key and a serverAuth certificate for server_name (SAN DNS
 * name or IP address), written to key_path (PEM, 0600) and cert_path
 * (PEM, 0644), neither of which may exist yet. */
int ca_issue_server_cert(const struct ca *ca, const char *server_name,
			 uint32_t days, const char *key_path,
			 const char *cert_path);

/* --- passphrases --- */

/* Read a passphrase file: at most CA_PASSPHRASE_MAX bytes, one trailing
 * newline dropped, not empty, no permission for "other". */
int ca_passphrase_read(const char *path, struct bw_bytes *out);
/* Create path (mode 0600, must not exist) holding 32 random bytes in
 * base64, and return that passphrase in out. */
int ca_passphrase_generate(const char *path, struct bw_bytes *out);

#endif

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
 * certificates, server/privsep) ever hold a struct ca; the network-facing
 * process uses the functions marked "no CA key needed".
 *
 * Every function that can fail returns 0 or a negative code (ca_err.h).
 * Byte strings handed out (uint8_t **) are the caller's to free().
 */
#ifndef BW_CA_H
#define BW_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bytes.h"
#include "ca_err.h"

#define CA_NAME_MAX 64u        /* user names and device ids */
/* The CA's common name is "<org> Bulwark CA", at most 64 characters
 * (X.520 ub-common-name). */
#define CA_ORG_MAX 53u
#define CA_SERVER_NAME_MAX 253u
#define CA_SPKI_MAX 1024u      /* a device's SubjectPublicKeyInfo, DER */
#define CA_CERT_MAX 8192u      /* one certificate, DER */
#define CA_PASSPHRASE_MAX 1023u
#define CA_DEFAULT_CA_DAYS 7305u     /* 20 years */
#define CA_SERVER_CERT_DAYS 825u
#define CA_DEVICE_DAYS_MAX 3650u
#define CA_FINGERPRINT_LEN 32u
/* "AB:CD:...": three characters a byte, the last ':' becomes the NUL. */
#define CA_FINGERPRINT_TEXT_SIZE (3u * CA_FINGERPRINT_LEN)
/* "bulwark:user/<user>/device/<device id>" and its NUL. */
#define CA_DEVICE_URI_PREFIX "bulwark:user/"
#define CA_DEVICE_URI_MIDDLE "/device/"
#define CA_DEVICE_URI_SIZE (sizeof(CA_DEVICE_URI_PREFIX) - 1 + CA_NAME_MAX + \
			    sizeof(CA_DEVICE_URI_MIDDLE) - 1 + CA_NAME_MAX + 1)

struct ca;

/* --- names (no CA key needed) --- */

/* 1..CA_ORG_MAX printable ASCII characters, no leading or trailing space. */
bool ca_org_name_valid(const char *org);
/* User names and device ids: 1..CA_NAME_MAX characters from [a-z0-9._-],
 * starting with a letter or digit (the protocol's rule, lib/proto). */
bool ca_name_valid(const char *name);
/* A DNS name (LDH labels, at most CA_SERVER_NAME_MAX) or an IPv4/IPv6
 * address literal. */
bool ca_server_name_valid(const char *name);

/* Write the device URI of (user, device_id) into out. */
int ca_device_uri_format(const char *user, const char *device_id,
			 char out[CA_DEVICE_URI_SIZE]);
/* Split a device URI into its NUL-terminated parts; both must be valid
 * names and nothing else may follow. */
int ca_device_uri_parse(const char *uri, size_t len,
			char user[CA_NAME_MAX + 1],
			char device_id[CA_NAME_MAX + 1]);

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

/* --- certificates (no CA key needed) --- */

/* The first certificate of a PEM file, as DER. */
int ca_cert_file_read(const char *path, uint8_t **der, size_t *len);
/* SHA-256 of a certificate's DER: what devices pin and people compare. */
int ca_fingerprint(const uint8_t *der, size_t len,
		   uint8_t fp[CA_FINGERPRINT_LEN]);
/* "AB:CD:..." as `openssl x509 -fingerprint -sha256` prints it. */
void ca_fingerprint_text(const uint8_t fp[CA_FINGERPRINT_LEN],
			 char out[CA_FINGERPRINT_TEXT_SIZE]);
/* The MLS cipher suite recorded in a Bulwark CA certificate. */
int ca_cert_suite(const uint8_t *ca_der, size_t ca_len, int *suite);
/* The (user, device id) of a device certificate's bulwark URI, without
 * verifying the certificate. */
int ca_device_identity(const uint8_t *der, size_t len,
		       char user[CA_NAME_MAX + 1],
		       char device_id[CA_NAME_MAX + 1]);
/* Verify that a device certificate chains to the CA (strict X.509 rules,
 * clientAuth, valid at time `at`, 0 for now) and return its identity. */
int ca_verify_device_cert(const uint8_t *ca_der, size_t ca_len,
			  const uint8_t *der, size_t len, time_t at,
			  char user[CA_NAME_MAX + 1],
			  char device_id[CA_NAME_MAX + 1]);
/* Verify that the server's TLS certificate chains to the CA (serverAuth,
 * valid at `at`, 0 for now). */
int ca_verify_server_cert(const uint8_t *ca_der, size_t ca_len,
			  const uint8_t *der, size_t len, time_t at);

#endif

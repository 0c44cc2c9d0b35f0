/*
 * pki.h - the organisation's certificate profile, as everyone reads it
 * (docs/ca.md): names, the device URI, fingerprints, the MLS suite recorded
 * in the CA certificate, and chain checks. Nothing here needs the CA key,
 * so the device library, the server's network process and the tools all
 * link it; issuing certificates is server/ca's (ca.h), behind the monitor.
 *
 * Every function that can fail returns 0 or a negative code (ca_err.h).
 * Byte strings handed out (uint8_t **) are the caller's to free().
 */
#ifndef BW_PKI_H
#define BW_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/x509.h>

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

/* Object identifier of the CA certificate's MLS cipher-suite extension. */
#define CA_SUITE_EXT_OID "2.25.269511023494655168145520086399216251763"

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

/* A device's private signature key in the suite's wire format: the
 * Ed25519 seed, or the P-256 scalar as 32 big-endian bytes; out is wiped
 * by the caller. 0 or CA_ERR_CRYPTO. */
#define CA_KEY_RAW_MAX 66u
int ca_device_key_raw(EVP_PKEY *key, uint8_t out[CA_KEY_RAW_MAX],
		      size_t *len);

/* --- building blocks shared with the CA (server/ca) --- */

/* The Bulwark MLS cipher-suite extension of a CA certificate. */
int ca_cert_get_suite(const X509 *cert, int *suite);
/* The certificate as DER in a fresh allocation. */
int ca_cert_to_der(const X509 *cert, uint8_t **der, size_t *len);
/* Parse exactly one DER certificate of at most CA_CERT_MAX bytes. */
int ca_cert_from_der(const uint8_t *der, size_t len, X509 **out);
/* Create path exclusively (O_EXCL, no symlink followed) with exactly
 * `mode`, write data and fsync. On failure nothing is left behind. */
int ca_file_create(const char *path, mode_t mode, const void *data,
		   size_t len);
/* Read at most max bytes of a regular file; *data is wiped when freed
 * with bw_bytes_clear. *mode (when not NULL) gets the file's st_mode. */
int ca_file_read(const char *path, size_t max, struct bw_bytes *data,
		 mode_t *mode);

#endif

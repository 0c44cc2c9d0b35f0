/*
 * ds_key.h - the delivery service's signature key and certificate files,
 * shared by bulwarkd and `bulwarkctl init` (docs/protocol.md,
 * SERVER_INFO).
 *
 * The DS key signs the server's MLS external proposals (the removal of a
 * revoked device). It is not the CA key and certifies nothing: it lives in
 * the data directory as unencrypted PKCS#8 PEM, mode 0600, because
 * bulwarkd uses it unattended. Its certificate (PEM) is issued by the
 * organisation's CA: by `bulwarkctl init`, which holds the CA, or through
 * the CA monitor when bulwarkd finds no usable one at start.
 *
 * Errors: BWD_ERR_NOT_FOUND (no such file), BWD_ERR_DS_KEY (unusable key
 * or certificate), CA_ERR_* and BW_ERR_* from below.
 */
#ifndef BWD_DS_KEY_H
#define BWD_DS_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

/* Days of validity a certificate must have left to be kept at start. */
#define DS_CERT_RENEW_DAYS 30

/* A fresh key of the suite's signature type (Ed25519 for suites 1 and 3,
 * P-256 for 2) written to path, which must not exist (its directory is
 * created 0700 if missing). *spki receives its SubjectPublicKeyInfo. */
int ds_key_create(int suite, const char *path, struct bw_bytes *spki);
/* The key at path: *priv in MLS's private key format (the raw Ed25519
 * seed or P-256 scalar, wiped on clear), *spki its public key. Refused if
 * others may read the file or the key is not the suite's type. */
int ds_key_load(int suite, const char *path, struct bw_bytes *priv,
		struct bw_bytes *spki);
/* Write a certificate (DER) to path as PEM, mode 0644, replacing it. */
int ds_cert_save(const char *path, const uint8_t *der, size_t len);
/* The certificate at path (*der, DER) if it chains to the CA, holds spki,
 * names bulwark:server/<server_name> and stays valid for
 * DS_CERT_RENEW_DAYS more; BWD_ERR_DS_KEY otherwise. */
int ds_cert_check(const char *path, const uint8_t *ca_der, size_t ca_len,
		  const char *server_name, const struct bw_bytes *spki,
		  struct bw_bytes *der);

#endif

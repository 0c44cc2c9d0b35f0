/*
 * device.h - the activated device inside libbulwark: what its keystore
 * holds and how it is read back. The public half is in bulwark.h.
 *
 * Keystore entries (docs/libbulwark.md, "What is stored where"):
 *
 *   device/key      the signature private key, PKCS#8 DER (secret)
 *   device/cert     its certificate from the organisation's CA, DER
 *   device/id       the id the server gave it
 *   device/name     the name it was activated with
 *   device/user     its user
 *   server/address  HOST:PORT it connects to
 *   server/name     the server's name (its certificate's, and the
 *                   SPAKE2+ idVerifier at activation)
 *   ca/cert         the organisation's CA certificate, DER: pinned
 */
#ifndef BW_CLIENT_DEVICE_H
#define BW_CLIENT_DEVICE_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bulwark/bulwark.h"

#define DEVICE_E_KEY "device/key"
#define DEVICE_E_CERT "device/cert"
#define DEVICE_E_ID "device/id"
#define DEVICE_E_NAME "device/name"
#define DEVICE_E_USER "device/user"
#define DEVICE_E_ADDRESS "server/address"
#define DEVICE_E_SERVER_NAME "server/name"
#define DEVICE_E_CA "ca/cert"

struct bulwark_device {
	struct bulwark_keystore *ks;
	EVP_PKEY *key;
	X509 *cert;
	X509 *ca;
	struct bulwark_device_info info;
};

/* What an activation hands over to be stored. */
struct device_record {
	const char *user, *device_id, *device_name, *address, *server_name;
	EVP_PKEY *key;
	const uint8_t *cert, *ca;
	size_t cert_len, ca_len;
};

/* A fresh signature key of the type the organisation's MLS suite needs
 * (docs/ca.md): Ed25519 for suites 1 and 3, P-256 for suite 2. */
int device_keygen(int suite, EVP_PKEY **out);
/* Write the record into the keystore, entry by entry. */
int device_store(struct bulwark_keystore *ks, const struct device_record *r);
/* Load the device from an open keystore, which it then owns (also on
 * failure: the keystore is freed). */
int device_load(struct bulwark_keystore *ks, struct bulwark_device **out);

#endif

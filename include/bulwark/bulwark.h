/*
 * bulwark.h - libbulwark, the device-side client library of Bulwark.
 *
 * libbulwark is what runs on a user's device: it keeps the device's secrets
 * in an encrypted local keystore, activates the device against the
 * organisation's bulwarkd, and (as it grows) holds the device's sessions
 * and MLS groups. The `bulwark` command-line client is a thin layer over it.
 *
 * Every function that can fail returns 0 or a negative error code; the
 * text comes from bulwark_strerror(), which also knows the codes of the
 * shared layer, libmls and SPAKE2+ passed through unchanged.
 *
 * The keystore is one file of named secret blobs (private keys, the pinned
 * CA certificate, the device id), sealed under a key derived from the
 * user's passphrase. Every change is written to disk before the call
 * returns, atomically; a failed call changes nothing.
 *
 *   struct bulwark_keystore *ks;
 *   char *pass;
 *   uint8_t *key;
 *   size_t key_len;
 *   int rc;
 *
 *   if ((rc = bulwark_passphrase_load("env:BULWARK_PASSPHRASE", &pass)) != 0)
 *           return rc;
 *   rc = bulwark_keystore_open("device.keystore", pass, &ks);
 *   bulwark_passphrase_free(pass);
 *   if (rc != 0) {
 *           fprintf(stderr, "keystore: %s\n", bulwark_strerror(rc));
 *           return rc;
 *   }
 *   if ((rc = bulwark_keystore_put(ks, "device.id", "d-42", 4)) == 0 &&
 *       (rc = bulwark_keystore_get(ks, "device.sig_key", &key, &key_len)) == 0) {
 *           ... use key ...
 *           bulwark_secret_free(key, key_len);
 *   }
 *   bulwark_keystore_free(ks);
 */
#ifndef BULWARK_BULWARK_H
#define BULWARK_BULWARK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Results of opening, reading and parsing must not be ignored. */
#define BULWARK_MUST_CHECK __attribute__((warn_unused_result))

/* Error codes, -600..-799. Each module of libbulwark owns a section; add
 * new codes only at the end of your own section, with a number from its
 * range. */
#define BULWARK_ERRORS(X)                                                     \
	/* keystore and passphrases: -600..-639 */                           \
	X(BULWARK_ERR_KS_PASSPHRASE, -600, "wrong passphrase for this keystore") \
	X(BULWARK_ERR_KS_CORRUPT, -601,                                       \
	  "keystore file is damaged or has been tampered with")               \
	X(BULWARK_ERR_KS_NOT_KEYSTORE, -602, "file is not a Bulwark keystore") \
	X(BULWARK_ERR_KS_VERSION, -603, "keystore format version not supported") \
	X(BULWARK_ERR_KS_NO_FILE, -604, "keystore file does not exist")        \
	X(BULWARK_ERR_KS_EXISTS, -605, "a file already exists at the keystore path") \
	X(BULWARK_ERR_KS_IO, -606, "cannot read or write the keystore file")  \
	X(BULWARK_ERR_KS_NOT_FOUND, -607, "no keystore entry with that name") \
	X(BULWARK_ERR_KS_NAME, -608,                                          \
	  "keystore entry name must be 1-64 characters of A-Z a-z 0-9 . _ : / -") \
	X(BULWARK_ERR_KS_TOO_LARGE, -609,                                     \
	  "keystore entry or file exceeds its size limit")                    \
	X(BULWARK_ERR_KS_FULL, -610, "keystore holds the maximum number of entries") \
	X(BULWARK_ERR_KS_CRYPTO, -611, "cryptographic library failure")       \
	X(BULWARK_ERR_PASSPHRASE_EMPTY, -612, "passphrase is empty")          \
	X(BULWARK_ERR_PASSPHRASE_TOO_LONG, -613, "passphrase is too long")    \
	X(BULWARK_ERR_PASSPHRASE_INVALID, -614, "passphrase contains a NUL byte") \
	X(BULWARK_ERR_PASSPHRASE_SOURCE, -615,                                \
	  "passphrase source must be pass:TEXT, file:PATH or env:NAME")       \
	X(BULWARK_ERR_PASSPHRASE_UNAVAILABLE, -616,                           \
	  "passphrase file is unreadable or environment variable is not set")

enum bulwark_err {
#define BULWARK_ERR_ENUM(name, code, text) name = (code),
	BULWARK_ERRORS(BULWARK_ERR_ENUM)
#undef BULWARK_ERR_ENUM
};

/* Text for any code libbulwark returns; never NULL. */
const char *bulwark_strerror(int err);

/* ---- keystore ---- */

/* Limits: an entry name is 1..64 characters of [A-Za-z0-9._:/-]. */
#define BULWARK_KS_MAX_NAME_LEN 64
#define BULWARK_KS_MAX_VALUE_LEN (4u * 1024u * 1024u)
#define BULWARK_KS_MAX_ENTRIES 1024u
#define BULWARK_PASSPHRASE_MAX_LEN 1024u

struct bulwark_keystore;

/* Create an empty keystore at path (mode 0600). Fails with
 * BULWARK_ERR_KS_EXISTS rather than replace anything already there. */
BULWARK_MUST_CHECK int bulwark_keystore_create(const char *path,
					       const char *passphrase,
					       struct bulwark_keystore **out);
/* Open and decrypt an existing keystore. BULWARK_ERR_KS_PASSPHRASE for a
 * wrong passphrase; BULWARK_ERR_KS_CORRUPT and friends for a damaged file. */
BULWARK_MUST_CHECK int bulwark_keystore_open(const char *path,
					     const char *passphrase,
					     struct bulwark_keystore **out);
/* Wipe the keys and entries held in memory (NULL is a no-op). */
void bulwark_keystore_free(struct bulwark_keystore *ks);

/* Store (or replace) a value and save the keystore. */
int bulwark_keystore_put(struct bulwark_keystore *ks, const char *name,
			 const void *value, size_t len);
/* A copy of the value: *value is the caller's, to be released with
 * bulwark_secret_free(*value, *len) (NULL when the value is empty). */
BULWARK_MUST_CHECK int bulwark_keystore_get(const struct bulwark_keystore *ks,
					    const char *name, uint8_t **value,
					    size_t *len);
/* Remove an entry and save the keystore. */
int bulwark_keystore_delete(struct bulwark_keystore *ks, const char *name);
/* The entries, in name order: names only, for listings. */
size_t bulwark_keystore_count(const struct bulwark_keystore *ks);
const char *bulwark_keystore_name(const struct bulwark_keystore *ks,
				  size_t i);

/* Wipe and free a secret handed out by libbulwark (NULL is a no-op). */
void bulwark_secret_free(void *p, size_t len);

/* ---- passphrases for the CLI and scripts ----
 * source is "pass:TEXT" (the passphrase itself), "file:PATH" (the file's
 * first line, without its line ending) or "env:NAME" (an environment
 * variable), as OpenSSL's -passin. *out is the caller's. */
BULWARK_MUST_CHECK int bulwark_passphrase_load(const char *source,
					       char **out);
/* Wipe and free a passphrase (NULL is a no-op). */
void bulwark_passphrase_free(char *passphrase);

#ifdef __cplusplus
}
#endif
#endif

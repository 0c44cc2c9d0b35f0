/*
 * mls.h - libmls, Messaging Layer Security (RFC 9420) on OpenSSL 3.
 *
 * The public face of libmls: error codes, cipher suites and the operations
 * an application needs. Everything else is internal to lib/mls.
 *
 * Every function that can fail returns 0 or a negative error code; the text
 * comes from mls_strerror(), which also knows the codes of the shared codec
 * (BW_ERR_*, -1..-99) that decoders pass through unchanged.
 *
 *   if ((rc = mls_something(...)) != 0)
 *           fprintf(stderr, "mls: %s\n", mls_strerror(rc));
 */
#ifndef MLS_MLS_H
#define MLS_MLS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Cipher suites libmls implements (RFC 9420 §17.1). */
enum mls_cipher_suite {
	MLS_SUITE_X25519_AES128GCM_SHA256_ED25519 = 1,
	MLS_SUITE_P256_AES128GCM_SHA256_P256 = 2, /* FIPS-approved algorithms only */
	MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519 = 3,
};

/* Error codes, -100..-299. Each module owns a section; add new codes only at
 * the end of your own section, with a number from its range. */
#define MLS_ERRORS(X)                                                            \
	/* general and crypto provider: -100..-119 */                           \
	X(MLS_ERR_UNSUPPORTED_SUITE, -100, "cipher suite not supported")         \
	X(MLS_ERR_CRYPTO, -101, "cryptographic library failure")                 \
	X(MLS_ERR_SIGNATURE, -102, "signature verification failed")              \
	X(MLS_ERR_AEAD, -103, "authenticated decryption failed")                 \
	X(MLS_ERR_BAD_KEY, -104, "malformed or invalid key")                     \
	X(MLS_ERR_KDF_LENGTH, -105, "requested key derivation output too long")  \
	X(MLS_ERR_INVALID_ARG, -106, "invalid argument")                         \
	X(MLS_ERR_UNSUPPORTED, -107, "feature not supported")                    \
	X(MLS_ERR_MAC, -108, "MAC verification failed")                          \
	/* HPKE: -120..-139 */                                                  \
	X(MLS_ERR_HPKE_MODE, -120, "HPKE mode or its inputs are inconsistent")   \
	X(MLS_ERR_HPKE_SEQ_OVERFLOW, -121, "HPKE message limit reached")         \
	X(MLS_ERR_HPKE_DERIVE, -122, "HPKE key pair derivation failed")          \
	X(MLS_ERR_HPKE_EXPORT_ONLY, -123, "HPKE context is export-only")         \
	/* messages, framing: -140..-179 */                                     \
	X(MLS_ERR_VERSION, -140, "unsupported protocol version")                 \
	X(MLS_ERR_WIRE_FORMAT, -141, "unexpected wire format")                   \
	X(MLS_ERR_CONTENT_TYPE, -142, "unexpected content type")                 \
	X(MLS_ERR_SENDER_TYPE, -143, "sender type not allowed here")             \
	X(MLS_ERR_WRONG_GROUP, -144, "message is for another group")             \
	X(MLS_ERR_WRONG_EPOCH, -145, "message is for another epoch")             \
	X(MLS_ERR_MEMBERSHIP_TAG, -146, "membership tag does not verify")        \
	X(MLS_ERR_CONFIRMATION_TAG, -147, "confirmation tag does not verify")    \
	X(MLS_ERR_PADDING, -148, "padding is not all zero")                      \
	X(MLS_ERR_UNKNOWN_TYPE, -149, "unknown type value")                      \
	X(MLS_ERR_LEAF_INDEX, -150, "leaf index out of range")                   \
	X(MLS_ERR_APP_AS_PUBLIC, -151,                                            \
	  "application data may not be sent as a public message")               \
	/* key schedule, secret tree, PSKs: -180..-199 */                       \
	X(MLS_ERR_GENERATION_CONSUMED, -180,                                     \
	  "key generation already used or deleted")                             \
	X(MLS_ERR_GENERATION_TOO_FAR, -181,                                      \
	  "key generation too far ahead of the ratchet")                        \
	X(MLS_ERR_PSK_MISSING, -182, "pre-shared key not available")             \
	X(MLS_ERR_PSK_INVALID, -183, "pre-shared key reference is invalid")      \
	/* ratchet tree, TreeKEM: -200..-239 */                                 \
	X(MLS_ERR_TREE_INVALID, -200, "ratchet tree is malformed")               \
	X(MLS_ERR_TREE_HASH, -201, "tree hash does not match")                   \
	X(MLS_ERR_PARENT_HASH, -202, "parent hash does not verify")              \
	X(MLS_ERR_DUPLICATE_KEY, -203, "key appears more than once in the tree") \
	X(MLS_ERR_BLANK_NODE, -204, "node is blank")                             \
	X(MLS_ERR_PATH, -205, "update path does not fit the tree")               \
	X(MLS_ERR_LEAF_NODE, -206, "leaf node is invalid")                       \
	X(MLS_ERR_CREDENTIAL, -207, "credential rejected")                        \
	X(MLS_ERR_CAPABILITIES, -208, "capabilities do not allow this")          \
	X(MLS_ERR_LIFETIME, -209, "outside the key's lifetime")                  \
	/* group lifecycle: -240..-299 */                                       \
	X(MLS_ERR_PROPOSAL_INVALID, -240, "proposal list is invalid")            \
	X(MLS_ERR_PROPOSAL_UNKNOWN, -241, "referenced proposal is unknown")      \
	X(MLS_ERR_COMMIT_INVALID, -242, "commit is invalid")                     \
	X(MLS_ERR_PATH_REQUIRED, -243, "commit requires an update path")         \
	X(MLS_ERR_NOT_MEMBER, -244, "sender is not a member")                    \
	X(MLS_ERR_WELCOME_NO_MATCH, -245, "Welcome holds nothing for this key")  \
	X(MLS_ERR_STATE, -246, "operation not valid in this state")              \
	X(MLS_ERR_KEY_PACKAGE, -247, "key package is invalid")                   \
	X(MLS_ERR_EXTERNAL, -248, "external commit or proposal is invalid")      \
	X(MLS_ERR_STATE_CORRUPT, -249, "serialised state is corrupt")

enum mls_err {
#define MLS_ERR_ENUM(name, code, text) name = (code),
	MLS_ERRORS(MLS_ERR_ENUM)
#undef MLS_ERR_ENUM
};

/* Text for any error libmls returns (including codec errors); never NULL. */
const char *mls_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif

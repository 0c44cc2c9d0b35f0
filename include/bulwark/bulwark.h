/*
 * bulwark.h - libbulwark, the device-side client library of Bulwark.
 *
 * libbulwark is what runs on a user's device: it keeps the device's secrets
 * in an encrypted local keystore, activates the device against the
 * organisation's bulwarkd, connects to it as the device (mutual TLS,
 * WebSocket, the device protocol) and (as it grows) holds the device's MLS
 * groups. The `bulwark` command-line client is a thin layer over it;
 * docs/libbulwark.md describes the whole.
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

#include <stdbool.h>
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
	  "passphrase file is unreadable or environment variable is not set") \
	/* connection to the server: TCP, TLS, WebSocket: -640..-679 */     \
	X(BULWARK_ERR_ADDRESS, -640,                                          \
	  "server address must be HOST:PORT (an IPv6 address as [ADDR]:PORT)") \
	X(BULWARK_ERR_RESOLVE, -641, "cannot resolve the server's host name") \
	X(BULWARK_ERR_UNREACHABLE, -642,                                      \
	  "cannot reach the server: nothing answers at that address and port") \
	X(BULWARK_ERR_TIMEOUT, -643, "the server did not answer in time")     \
	X(BULWARK_ERR_TLS, -644, "the TLS connection to the server failed")   \
	X(BULWARK_ERR_SERVER_CERT, -645,                                      \
	  "the server's certificate is not from this organisation's CA or not " \
	  "for this server: possible interception")                           \
	X(BULWARK_ERR_DEVICE_REFUSED, -646,                                   \
	  "the server refused this device's certificate")                     \
	X(BULWARK_ERR_DEVICE_REVOKED, -647,                                   \
	  "this device was revoked (or its user disabled): the server refuses " \
	  "it; activate it again")                                            \
	X(BULWARK_ERR_CERT_EXPIRED, -648,                                     \
	  "this device's certificate has expired; activate it again")         \
	X(BULWARK_ERR_UPGRADE, -649,                                          \
	  "the server refused the WebSocket upgrade (not a Bulwark server, or " \
	  "a proxy in the way)")                                              \
	X(BULWARK_ERR_WEBSOCKET, -650, "the server broke the WebSocket protocol") \
	X(BULWARK_ERR_CLOSED, -651, "the server closed the connection")       \
	X(BULWARK_ERR_TOO_BIG, -652, "message exceeds the connection's size limit") \
	/* sessions and the device protocol: -680..-699 */                  \
	X(BULWARK_ERR_PROTOCOL, -680,                                         \
	  "the server sent a malformed or unexpected message")               \
	X(BULWARK_ERR_VERSION, -681,                                          \
	  "the server speaks no protocol version this device supports")      \
	X(BULWARK_ERR_REFUSED, -682, "the server refused the request")       \
	X(BULWARK_ERR_BUSY, -683, "the server is busy; try again later")      \
	X(BULWARK_ERR_NOT_AUTHENTICATED, -684,                                \
	  "the server did not authenticate this device")                     \
	X(BULWARK_ERR_STALE_EPOCH, -685,                                      \
	  "the conversation moved on meanwhile (stale epoch)")               \
	X(BULWARK_ERR_NOT_MEMBER, -686,                                       \
	  "the server says this device is not a member of that conversation") \
	X(BULWARK_ERR_INVALID_MLS, -687,                                      \
	  "the server refused an invalid MLS message")                       \
	X(BULWARK_ERR_UNKNOWN_GROUP, -688,                                    \
	  "the server knows no such conversation")                           \
	X(BULWARK_ERR_NO_KEY_PACKAGE, -689,                                   \
	  "a device of that user has no key package left; try again later")  \
	X(BULWARK_ERR_CONFLICT, -690,                                         \
	  "the server already has a conversation with that id")             \
	X(BULWARK_ERR_FORBIDDEN, -691,                                        \
	  "forbidden by the organisation's policy")                          \
	X(BULWARK_ERR_UNKNOWN_USER, -692,                                     \
	  "no such user in the organisation (or the user is disabled)")     \
	X(BULWARK_ERR_IDEMPOTENCY, -693,                                      \
	  "the server saw this request's idempotency key with other content") \
	/* activation: -700..-739 */                                         \
	X(BULWARK_ERR_ACTIVATION_URI, -700,                                   \
	  "not an activation URI (bulwark://activate?server=HOST:PORT&user=U" \
	  "&code=ID&pw=PASSWORD&ca=SHA256HEX)")                               \
	X(BULWARK_ERR_USER_NAME, -701,                                        \
	  "user name must be 1-64 characters of a-z 0-9 . _ -, starting with " \
	  "a letter or digit")                                                \
	X(BULWARK_ERR_CODE_ID, -702,                                          \
	  "activation code must be 1-32 characters of a-z 0-9 . _ -")        \
	X(BULWARK_ERR_PASSWORD, -703,                                         \
	  "activation password must be 1-64 printable characters (dashes and " \
	  "spaces are ignored)")                                              \
	X(BULWARK_ERR_FINGERPRINT, -704,                                      \
	  "CA fingerprint must be 64 hexadecimal digits (colons allowed)")   \
	X(BULWARK_ERR_DEVICE_NAME, -705,                                      \
	  "device name must be 1-64 printable ASCII characters")             \
	X(BULWARK_ERR_ACTIVATION_REFUSED, -706,                               \
	  "activation refused: wrong password, or a code that is unknown, "   \
	  "expired, used or locked, or an intercepted connection")           \
	X(BULWARK_ERR_CA_MISMATCH, -707,                                      \
	  "the server's CA certificate does not match the fingerprint given: " \
	  "possible interception (nothing was sent)")                         \
	X(BULWARK_ERR_CERT_INVALID, -708,                                     \
	  "the certificate the server issued does not verify or does not "   \
	  "carry this device's key")                                          \
	X(BULWARK_ERR_KDF_PARAMS, -709,                                       \
	  "the server asks for password KDF costs outside this device's limits") \
	X(BULWARK_ERR_SUITE, -710,                                            \
	  "the organisation's MLS cipher suite is not supported")            \
	/* the activated device in the keystore: -740..-759 */               \
	X(BULWARK_ERR_NOT_ACTIVATED, -740,                                    \
	  "the keystore holds no activated device")                          \
	X(BULWARK_ERR_DEVICE_DAMAGED, -741,                                   \
	  "the keystore's device entries are incomplete or unreadable")     \
	/* the local conversation store: -760..-779 */                       \
	X(BULWARK_ERR_STORE_IO, -760,                                         \
	  "cannot read or write the device's conversation store")           \
	X(BULWARK_ERR_STORE_CORRUPT, -761,                                    \
	  "the conversation store is damaged or has been tampered with")    \
	X(BULWARK_ERR_STORE_KEY, -762,                                        \
	  "the conversation store belongs to another keystore")             \
	X(BULWARK_ERR_STORE_BUSY, -763,                                       \
	  "another bulwark process is using this device's store")           \
	X(BULWARK_ERR_STORE_VERSION, -764,                                    \
	  "conversation store format not supported")                        \
	X(BULWARK_ERR_STORE_DUPLICATE, -765,                                  \
	  "the store already holds that message")                           \
	/* conversations: -780..-799 */                                      \
	X(BULWARK_ERR_NO_CONVERSATION, -780,                                  \
	  "no conversation with that id or name")                            \
	X(BULWARK_ERR_AMBIGUOUS, -781,                                        \
	  "several conversations match: give more of the id")               \
	X(BULWARK_ERR_CONV_INACTIVE, -782,                                    \
	  "this device is no longer a member of the conversation")          \
	X(BULWARK_ERR_DS_CREDENTIAL, -783,                                    \
	  "the server's delivery-service credential is not from this "       \
	  "organisation's CA")                                               \
	X(BULWARK_ERR_TEXT_SIZE, -784,                                        \
	  "message text must be 1 byte to 64 KiB")                          \
	X(BULWARK_ERR_NOT_IN_CONVERSATION, -785,                              \
	  "that user has no device in the conversation")                    \
	X(BULWARK_ERR_NO_DEVICES, -786,                                       \
	  "that user has no active device to add")                          \
	X(BULWARK_ERR_GAVE_UP, -787,                                          \
	  "the conversation kept changing: gave up retrying")               \
	X(BULWARK_ERR_CONV_NAME, -788,                                        \
	  "conversation name must be 1-64 printable ASCII characters")      \
	X(BULWARK_ERR_REMOVE_SELF, -789,                                      \
	  "a device cannot remove its own user from a conversation")        \
	X(BULWARK_ERR_USERS, -790,                                            \
	  "give 1 to 64 other users, each once")                             \
	X(BULWARK_ERR_ALREADY_MEMBER, -791,                                   \
	  "that user is already in the conversation")                        \
	X(BULWARK_ERR_MESSAGE_INVALID, -792,                                  \
	  "a message from the server could not be processed")              \
	X(BULWARK_ERR_KEY_PACKAGE, -793,                                      \
	  "the server handed out a key package of another device than it "    \
	  "named")

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

/* ---- activation ----
 *
 * The administrator's `bulwarkctl device activate USER` prints a server
 * address, the user, a code id, a one-time password and the SHA-256
 * fingerprint of the organisation's CA certificate, and the same as a URI
 * (in a QR code). bulwark_activate() proves knowledge of the password to
 * the server with SPAKE2+ bound to the TLS session (docs/protocol.md),
 * has a fresh signature key certified, and stores the device in a new
 * keystore. The server is authenticated by the exchange itself and by the
 * fingerprint, not by its TLS certificate: the device pins the CA only
 * once it has checked it.
 *
 *   struct bulwark_activation a;
 *   if ((rc = bulwark_activation_parse_uri(uri, &a)) == 0)
 *           rc = bulwark_activate(&a, "laptop", path, pass, 0, NULL);
 *   bulwark_activation_clear(&a);
 */
#define BULWARK_MAX_NAME 64u        /* user names, device ids and names */
#define BULWARK_MAX_CODE_ID 32u
#define BULWARK_MAX_PASSWORD 64u
#define BULWARK_MAX_ADDRESS 300u    /* HOST:PORT */
#define BULWARK_MAX_SERVER_NAME 255u
#define BULWARK_FINGERPRINT_LEN 32u /* SHA-256 */
/* "AB:CD:...", as bulwarkctl and `openssl x509 -fingerprint` print it. */
#define BULWARK_FINGERPRINT_TEXT_SIZE (3u * BULWARK_FINGERPRINT_LEN)
#define BULWARK_MAX_URI 1024u
/* Each network step (connect, TLS, a request) waits at most this long
 * unless the caller gives another timeout (timeout_ms 0). */
#define BULWARK_DEFAULT_TIMEOUT_MS 20000

/* The values of one activation. password is secret: clear the struct
 * with bulwark_activation_clear() on every path. */
struct bulwark_activation {
	char server[BULWARK_MAX_ADDRESS + 1];
	char user[BULWARK_MAX_NAME + 1];
	char code_id[BULWARK_MAX_CODE_ID + 1];
	char password[BULWARK_MAX_PASSWORD + 1];
	uint8_t ca_fingerprint[BULWARK_FINGERPRINT_LEN];
};

/* Fill *a from the printed values, checking each: server "HOST:PORT",
 * password as printed (dashes, spaces and case do not matter), fingerprint
 * as 64 hex digits with or without colons. On failure *a is cleared. */
BULWARK_MUST_CHECK int bulwark_activation_set(struct bulwark_activation *a,
					      const char *server,
					      const char *user,
					      const char *code_id,
					      const char *password,
					      const char *ca_fingerprint);
/* Fill *a from bulwark://activate?server=..&user=..&code=..&pw=..&ca=..
 * (values may be percent-encoded; each key exactly once). */
BULWARK_MUST_CHECK int bulwark_activation_parse_uri(
	const char *uri, struct bulwark_activation *a);
/* Wipe the values (the password above all). */
void bulwark_activation_clear(struct bulwark_activation *a);

struct bulwark_device;

/* Activate this device and create its keystore at keystore_path, sealed
 * with passphrase. device_name is for people (1-64 printable ASCII).
 * Fails with BULWARK_ERR_KS_EXISTS before any network traffic if the
 * keystore exists; BULWARK_ERR_CA_MISMATCH if the server's CA is not the
 * one the fingerprint names; BULWARK_ERR_ACTIVATION_REFUSED for every
 * refusal the server makes (it reveals nothing more). On failure no
 * keystore is left behind. *out (may be NULL) is the opened device. */
BULWARK_MUST_CHECK int bulwark_activate(const struct bulwark_activation *a,
					const char *device_name,
					const char *keystore_path,
					const char *passphrase, int timeout_ms,
					struct bulwark_device **out);

/* ---- the activated device ---- */

/* What the keystore says about the device (all public). */
struct bulwark_device_info {
	char user[BULWARK_MAX_NAME + 1];
	char device_id[BULWARK_MAX_NAME + 1];
	char device_name[BULWARK_MAX_NAME + 1];
	char server[BULWARK_MAX_ADDRESS + 1];           /* HOST:PORT */
	char server_name[BULWARK_MAX_SERVER_NAME + 1];  /* in its certificate */
	char ca_fingerprint[BULWARK_FINGERPRINT_TEXT_SIZE]; /* pinned CA */
	int64_t cert_not_after; /* the device certificate's expiry, epoch s */
	int mls_suite;          /* the organisation's, from the CA */
};

/* Open the keystore and load the device from it: its key, certificate
 * and the pinned CA. BULWARK_ERR_NOT_ACTIVATED for a keystore without a
 * device. */
BULWARK_MUST_CHECK int bulwark_device_open(const char *keystore_path,
					   const char *passphrase,
					   struct bulwark_device **out);
/* Wipe the device's keys from memory and close its keystore (NULL is a
 * no-op). */
void bulwark_device_free(struct bulwark_device *d);
const struct bulwark_device_info *
bulwark_device_info(const struct bulwark_device *d);

/* ---- sessions with the server ----
 *
 * A session is one connection: TLS 1.3 with the device's certificate
 * (mutual TLS), the server's certificate verified against the pinned CA
 * and the server name, then the WebSocket upgrade and HELLO. Requests are
 * matched to responses by request id; pushes from the server go to the
 * push handler, from whichever call is reading when they arrive.
 *
 * Threading: a session belongs to one thread at a time. An application
 * that waits for pushes while it also sends (a listener) polls
 * bulwark_session_fd() for input together with its other descriptors,
 * calls bulwark_session_poll(s, 0) when it is readable (which drains every
 * complete message, so nothing is left buffered inside TLS), and makes its
 * requests from the same thread.
 */
struct bulwark_session;

/* A push: its type (0x8000..0xffff) and body, valid during the call. */
typedef void (*bulwark_push_fn)(void *user, uint16_t type,
				const uint8_t *body, size_t len);

/* Connect as the device. A refused handshake is BULWARK_ERR_DEVICE_REVOKED
 * (the server no longer knows this device) or BULWARK_ERR_CERT_EXPIRED. */
BULWARK_MUST_CHECK int bulwark_connect(const struct bulwark_device *d,
				       int timeout_ms,
				       struct bulwark_session **out);
/* Close the connection cleanly and free (NULL is a no-op). */
void bulwark_session_free(struct bulwark_session *s);
void bulwark_session_set_push_handler(struct bulwark_session *s,
				      bulwark_push_fn fn, void *user);
/* The socket, for poll(): readable means bulwark_session_poll() has work. */
int bulwark_session_fd(const struct bulwark_session *s);
/* Wait up to timeout_ms (0: do not wait) for input and handle all of it;
 * 0 when nothing went wrong. BULWARK_ERR_DEVICE_REVOKED when the server
 * closes the connection because the device was revoked, BULWARK_ERR_CLOSED
 * for any other close. */
int bulwark_session_poll(struct bulwark_session *s, int timeout_ms);

/* The server's name and software, from HELLO. */
const char *bulwark_session_server_name(const struct bulwark_session *s);
const char *bulwark_session_server_software(const struct bulwark_session *s);

struct bulwark_whoami {
	char user[BULWARK_MAX_NAME + 1];
	char device_id[BULWARK_MAX_NAME + 1];
	char device_name[BULWARK_MAX_NAME + 1];
	uint64_t server_time; /* seconds since the epoch */
};
/* Who the server says this connection is. */
BULWARK_MUST_CHECK int bulwark_session_whoami(struct bulwark_session *s,
					      struct bulwark_whoami *out);
/* An end-to-end round trip through proxies. */
BULWARK_MUST_CHECK int bulwark_session_ping(struct bulwark_session *s);

/* ---- conversations ----
 *
 * Every conversation is an MLS group (RFC 9420) whose members are all the
 * devices of its users; the server stores and relays only ciphertext.
 * A struct bulwark_client holds the device, its local store (the MLS
 * states, the history, cursors; sealed under a key kept in the keystore)
 * and, while connected, a session. docs/libbulwark.md, "Conversations".
 *
 *   struct bulwark_client *c;
 *   char id[BULWARK_CONV_ID_SIZE];
 *   const char *with[] = { "bob", "carol" };
 *
 *   if ((rc = bulwark_client_open(dev, "/home/u/.bulwark/store.db",
 *                                 &c)) != 0)          // takes dev
 *           return rc;
 *   if ((rc = bulwark_client_connect(c, 0)) == 0 &&
 *       (rc = bulwark_conversation_create(c, with, 2, "project", id)) == 0)
 *           rc = bulwark_send(c, id, "hello", 5, NULL);
 *   if (rc == 0)
 *           rc = bulwark_client_sync(c);   // the backlog, acknowledged
 *   bulwark_client_free(c);
 *
 * A conversation is named, in every call, by its name, its id in hex, or
 * a prefix of the id of at least 4 hex digits (the short id is the first
 * 8). One process at a time may use a device's store
 * (BULWARK_ERR_STORE_BUSY).
 */
#define BULWARK_MAX_TEXT (64u * 1024u)          /* one message, bytes */
#define BULWARK_CONV_ID_SIZE 129u               /* hex of a group id, NUL */
#define BULWARK_SHORT_ID_LEN 8u
#define BULWARK_MAX_AUTHENTICATOR_SIZE 129u     /* hex, NUL */
#define BULWARK_MAX_USERS 64u                   /* per create */

/* A message of a conversation's history. */
enum bulwark_message_kind {
	BULWARK_MESSAGE_TEXT = 1,  /* what a member wrote */
	BULWARK_MESSAGE_TITLE = 2, /* a member named the conversation */
};

struct bulwark_message {
	uint64_t id;  /* local: increasing in the order stored */
	uint64_t seq; /* the server's order within the conversation */
	uint64_t time; /* when the server received it, seconds */
	int kind;      /* enum bulwark_message_kind */
	bool own;      /* sent by this device */
	char conversation[BULWARK_CONV_ID_SIZE];
	char user[BULWARK_MAX_NAME + 1];      /* the sender */
	char device_id[BULWARK_MAX_NAME + 1];
	char *text; /* NUL-terminated copy; text_len bytes (may hold NULs) */
	size_t text_len;
};

struct bulwark_member {
	uint32_t leaf;
	char user[BULWARK_MAX_NAME + 1];
	char device_id[BULWARK_MAX_NAME + 1];
};

struct bulwark_conversation {
	char id[BULWARK_CONV_ID_SIZE];
	char short_id[BULWARK_SHORT_ID_LEN + 1];
	char name[BULWARK_MAX_NAME + 1]; /* "" when it has none */
	uint64_t created;
	uint64_t epoch;
	bool active; /* false once this device was removed */
	/* RFC 9420 §8.7: equal at every member in the same epoch; members
	 * compare it to know that nobody forked. */
	char epoch_authenticator[BULWARK_MAX_AUTHENTICATOR_SIZE];
	struct bulwark_member *members;
	size_t n_members;
};

struct bulwark_client;

/* Open the conversations of device d (which the client takes over: it is
 * freed with the client, and on failure) with its store at store_path,
 * created on first use (mode 0600, its key in d's keystore). */
BULWARK_MUST_CHECK int bulwark_client_open(struct bulwark_device *d,
					   const char *store_path,
					   struct bulwark_client **out);
/* Close the session and the store (NULL is a no-op). */
void bulwark_client_free(struct bulwark_client *c);
/* The device the client was opened with. */
const struct bulwark_device *bulwark_client_device(
	const struct bulwark_client *c);

/* Connect as the device (bulwark_connect) and make sure the server holds
 * key packages of it, so that others can add it to conversations. What
 * the server sends (the backlog, then new messages) is handled by the
 * calls below, as it arrives. */
BULWARK_MUST_CHECK int bulwark_client_connect(struct bulwark_client *c,
					      int timeout_ms);
/* Handle everything the server holds for this device, until it says the
 * backlog is done: Welcomes (joining), commits, proposals and messages of
 * every conversation, in order, each stored before it is acknowledged.
 * Then join, by external commit, the conversations of this device's user
 * that it is not in yet (a newly activated device), and commit the
 * server's pending Remove proposals (revoked devices). */
BULWARK_MUST_CHECK int bulwark_client_sync(struct bulwark_client *c);

/* Called once for every message received and stored (not this device's
 * own), during whichever call handled it; m is valid during the call. */
typedef void (*bulwark_message_fn)(void *arg, const struct bulwark_message *m);
void bulwark_client_set_message_handler(struct bulwark_client *c,
					bulwark_message_fn fn, void *arg);
/* For an event loop: the session's socket, and handling what arrived
 * within timeout_ms (0: what is there). A closed connection is
 * BULWARK_ERR_CLOSED (BULWARK_ERR_DEVICE_REVOKED if the device was
 * revoked); bulwark_client_connect() again to go on. */
int bulwark_client_fd(const struct bulwark_client *c);
BULWARK_MUST_CHECK int bulwark_client_poll(struct bulwark_client *c,
					   int timeout_ms);

/* A new conversation with users (each 1-64 characters, at most
 * BULWARK_MAX_USERS, without this device's own user, whose other devices
 * are always added): every active device of each is added in one commit
 * and receives a Welcome. name (NULL: none) is sent to the members.
 * id_out receives the conversation's id. */
BULWARK_MUST_CHECK int bulwark_conversation_create(
	struct bulwark_client *c, const char *const *users, size_t n_users,
	const char *name, char id_out[BULWARK_CONV_ID_SIZE]);
/* Add every device of a user; remove every device of a user. */
BULWARK_MUST_CHECK int bulwark_conversation_add(struct bulwark_client *c,
						const char *conv,
						const char *user);
BULWARK_MUST_CHECK int bulwark_conversation_remove(struct bulwark_client *c,
						   const char *conv,
						   const char *user);
/* Send text (1..BULWARK_MAX_TEXT bytes). *seq_out (may be NULL) is its
 * place in the conversation. Should the connection drop, the same message
 * is sent again on a new one until the timeout: the server keeps it once. */
BULWARK_MUST_CHECK int bulwark_send(struct bulwark_client *c,
				    const char *conv, const void *text,
				    size_t len, uint64_t *seq_out);

/* The id of the conversation conv names. */
BULWARK_MUST_CHECK int bulwark_conversation_id(
	struct bulwark_client *c, const char *conv,
	char id_out[BULWARK_CONV_ID_SIZE]);
/* The conversations, oldest first; *out is the caller's
 * (bulwark_conversations_free). */
BULWARK_MUST_CHECK int bulwark_conversations(struct bulwark_client *c,
					     struct bulwark_conversation **out,
					     size_t *n);
void bulwark_conversations_free(struct bulwark_conversation *list, size_t n);
/* One conversation's history, in its order. */
BULWARK_MUST_CHECK int bulwark_history(struct bulwark_client *c,
				       const char *conv,
				       struct bulwark_message **out,
				       size_t *n);
/* Messages received since they were last marked seen, in the order
 * stored (the device's own are left out); then mark them seen up to the
 * id of the last one shown. */
BULWARK_MUST_CHECK int bulwark_unseen(struct bulwark_client *c,
				      struct bulwark_message **out,
				      size_t *n);
int bulwark_mark_seen(struct bulwark_client *c, uint64_t id);
void bulwark_messages_free(struct bulwark_message *m, size_t n);

#ifdef __cplusplus
}
#endif
#endif

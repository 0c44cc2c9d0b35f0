/*
 * ca_err.h - error codes of the organisation's CA (server/ca) and of the
 * privilege-separated CA monitor (server/privsep), -500..-549.
 *
 * ca_strerror() gives the text of these and hands any other code to
 * bw_strerror(), so codec errors keep their meaning. Codes cross the
 * monitor's socket as numbers, so a code never changes once assigned; add
 * new ones at the end of their section.
 */
#ifndef BW_CA_ERR_H
#define BW_CA_ERR_H

#include "err.h" /* BW_ERR_* pass through unchanged */

#define CA_ERRORS(X)                                                        \
	/* certificate authority: -500..-529 */                            \
	X(CA_ERR_CRYPTO, -500, "certificate library failure")               \
	X(CA_ERR_ORG_NAME, -501, "organisation name is invalid")            \
	X(CA_ERR_USER_NAME, -502, "user name is invalid")                   \
	X(CA_ERR_DEVICE_ID, -503, "device id is invalid")                   \
	X(CA_ERR_SERVER_NAME, -504,                                         \
	  "server name is neither a DNS name nor an IP address")            \
	X(CA_ERR_KEY_TYPE, -505,                                            \
	  "device key type does not match the organisation's cipher suite") \
	X(CA_ERR_KEY_ENCODING, -506,                                        \
	  "device key is not a canonical SubjectPublicKeyInfo")             \
	X(CA_ERR_VALIDITY, -507, "validity period is out of range")         \
	X(CA_ERR_SUITE, -508, "MLS cipher suite must be 1, 2 or 3")         \
	X(CA_ERR_PASSPHRASE, -509, "wrong passphrase or damaged CA key file") \
	X(CA_ERR_PASSPHRASE_FILE, -510,                                     \
	  "passphrase file is empty, too long or accessible to others")     \
	X(CA_ERR_EXISTS, -511, "file already exists")                       \
	X(CA_ERR_KEY_MISMATCH, -512,                                        \
	  "CA key does not belong to the CA certificate")                   \
	X(CA_ERR_NOT_CA, -513, "certificate is not a Bulwark CA certificate") \
	X(CA_ERR_CERT_PARSE, -514, "certificate is malformed")              \
	X(CA_ERR_UNTRUSTED, -515,                                           \
	  "certificate does not chain to the organisation's CA")            \
	X(CA_ERR_EXPIRED, -516, "certificate is expired or not yet valid")  \
	X(CA_ERR_NO_IDENTITY, -517,                                         \
	  "certificate carries no Bulwark device identity")                 \
	X(CA_ERR_DEVICE_URI, -518, "malformed Bulwark device URI")          \
	/* privilege separation: -530..-549 */                             \
	X(PRIVSEP_ERR_SPAWN, -530, "cannot start the CA monitor")           \
	X(PRIVSEP_ERR_GONE, -531, "the CA monitor has exited")              \
	X(PRIVSEP_ERR_MALFORMED, -532, "malformed monitor request or reply") \
	X(PRIVSEP_ERR_UNKNOWN_REQUEST, -533,                                \
	  "request type is not in the monitor's table")                     \
	X(PRIVSEP_ERR_TOO_LONG, -534,                                       \
	  "monitor message exceeds its size limit")                         \
	X(PRIVSEP_ERR_NO_MONITOR, -535,                                     \
	  "CA monitor executable not found beside this program")            \
	X(PRIVSEP_ERR_TIMEOUT, -536, "the CA monitor did not start in time") \
	X(PRIVSEP_ERR_SANDBOX, -537, "cannot confine the CA monitor")

enum ca_err {
#define CA_ERR_ENUM(name, code, text) name = (code),
	CA_ERRORS(CA_ERR_ENUM)
#undef CA_ERR_ENUM
};

/* The range, for callers that route codes to their strerror. */
#define CA_ERR_FIRST (-500)
#define CA_ERR_LAST (-549)

/* Text for any code of this range or of the shared layer; never NULL. */
const char *ca_strerror(int err);

#endif

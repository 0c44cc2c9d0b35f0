/*
 * spake2plus.h - SPAKE2+ (RFC 9383), the augmented password-authenticated
 * key exchange that activates a device.
 *
 * The administrator's tool turns a one-time activation password into the
 * registration record (w0, L) and gives the server only that; the device,
 * knowing the password, derives (w0, w1) and runs the exchange as Prover
 * against the server as Verifier. Both sides bind the exchange to their TLS
 * session through the Context string, so a relay that terminates TLS ends
 * up with two different Contexts and key confirmation fails.
 *
 *   Prover (device)                              Verifier (server)
 *   pake_prover_new()                            pake_verifier_new()
 *   pake_prover_share()        -- shareP -->
 *                                                pake_verifier_respond()
 *                      <-- shareV, confirmV --
 *   pake_prover_finish()
 *                              -- confirmP -->
 *                                                pake_verifier_finish()
 *   pake_prover_shared_key()                     pake_verifier_shared_key()
 *
 * Each side is a state machine; a call in the wrong state returns
 * PAKE_ERR_STATE. A malformed share or confirmation is rejected and leaves
 * the state as it was; a confirmation that does not verify ends the exchange
 * for good (state "failed", every secret wiped), because it means the peer
 * does not know the password or sees another Context. K_shared is available
 * only after the peer's confirmation has verified.
 *
 * Byte formats (RFC 9383 §3.3, §4): shares are uncompressed SEC1 points,
 * scalars (w0, w1, x, y) big-endian and exactly as long as a field element.
 *
 * Every function that can fail returns 0 or a negative code, -300..-399 here
 * or a shared code from err.h; pake_strerror() gives the text. Outputs of
 * type struct bw_bytes are replaced on success and untouched on failure.
 */
#ifndef BW_PAKE_SPAKE2PLUS_H
#define BW_PAKE_SPAKE2PLUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "err.h"

/* Results of verify and decode steps must not be ignored. */
#define PAKE_MUST_CHECK __attribute__((warn_unused_result))

#define PAKE_ERRORS(X)                                                       \
	X(PAKE_ERR_SUITE, -300, "SPAKE2+ cipher suite not supported")         \
	X(PAKE_ERR_CRYPTO, -301, "cryptographic library failure")             \
	X(PAKE_ERR_STATE, -302, "operation not valid in this state of the exchange") \
	X(PAKE_ERR_SHARE_ENCODING, -303,                                      \
	  "share is not an uncompressed point of the right length")           \
	X(PAKE_ERR_SHARE_NOT_ON_CURVE, -304, "share is not a point on the curve") \
	X(PAKE_ERR_SHARE_IDENTITY, -305,                                      \
	  "share is the identity element or cancels the password mask")       \
	X(PAKE_ERR_CONFIRM_LENGTH, -306,                                      \
	  "confirmation message has the wrong length")                        \
	X(PAKE_ERR_CONFIRM, -307, "key confirmation failed")                  \
	X(PAKE_ERR_SCALAR, -308, "scalar is zero, not below the group order or of the wrong length") \
	X(PAKE_ERR_RECORD, -309, "registration point L is not a valid point")  \
	X(PAKE_ERR_PBKDF_PARAMS, -310, "password KDF parameters out of range") \
	X(PAKE_ERR_TOO_LONG, -311,                                            \
	  "password, identity or context longer than allowed")                \
	X(PAKE_ERR_PASSWORD_EMPTY, -312, "password is empty")

enum pake_err {
#define PAKE_ERR_ENUM(name, code, text) name = (code),
	PAKE_ERRORS(PAKE_ERR_ENUM)
#undef PAKE_ERR_ENUM
};

/* Text for any code from this module or the shared layer; never NULL. */
const char *pake_strerror(int err);

/* The ciphersuites of RFC 9383 §4 on NIST curves. Bulwark uses the first;
 * the others share the code and are proven by the same vectors. */
enum pake_suite {
	PAKE_P256_SHA256_HKDF_SHA256_HMAC_SHA256 = 1,
	PAKE_P256_SHA512_HKDF_SHA512_HMAC_SHA512 = 2,
	PAKE_P384_SHA256_HKDF_SHA256_HMAC_SHA256 = 3,
	PAKE_P384_SHA512_HKDF_SHA512_HMAC_SHA512 = 4,
	PAKE_P521_SHA512_HKDF_SHA512_HMAC_SHA512 = 5,
	PAKE_P256_SHA256_HKDF_SHA256_CMAC_AES128 = 6,
	PAKE_P256_SHA512_HKDF_SHA512_CMAC_AES128 = 7,
};
#define PAKE_SUITE_BULWARK PAKE_P256_SHA256_HKDF_SHA256_HMAC_SHA256

/* Largest sizes over all suites (P-521, SHA-512), for fixed buffers. */
#define PAKE_MAX_SCALAR_LEN 66
#define PAKE_MAX_SHARE_LEN (1 + 2 * PAKE_MAX_SCALAR_LEN)
#define PAKE_MAX_HASH_LEN 64

/* Input limits: Context carries a protocol label and a TLS exporter value,
 * identities a user and a device name. */
#define PAKE_MAX_CONTEXT_LEN 1024
#define PAKE_MAX_ID_LEN 256
#define PAKE_MAX_PASSWORD_LEN 1024

/* The RFC 9383 name ("P256-SHA256-HKDF-SHA256-HMAC-SHA256"), or NULL. */
const char *pake_suite_name(enum pake_suite suite);
/* The suite with that RFC 9383 name; PAKE_ERR_SUITE if none. */
int pake_suite_by_name(const char *name, enum pake_suite *out);
/* The suite's fixed points M and N (§4), in SEC1 form. */
int pake_suite_points(enum pake_suite suite, bool compressed,
		      struct bw_bytes *m, struct bw_bytes *n);

/* The identities of both parties (either may be empty, RFC 9383 §3.2). */
struct pake_ids {
	const uint8_t *prover;
	size_t prover_len;
	const uint8_t *verifier;
	size_t verifier_len;
};

/* What both sides of one exchange must agree on. */
struct pake_config {
	enum pake_suite suite;
	const uint8_t *context;
	size_t context_len;
	struct pake_ids ids;
};

/* ---- registration (RFC 9383 §3.2) ----
 *
 * w0s || w1s = scrypt(len(pw) || pw || len(idProver) || idProver ||
 *                     len(idVerifier) || idVerifier, salt, N, r, p)
 * with 8-byte little-endian lengths; each half is ceil(log2(p)) + 64 bits
 * (40 bytes for P-256) so that w0 = w0s mod p and w1 = w1s mod p carry a
 * bias of at most 2^-64. The salt is random per registration and public:
 * the server stores it and the scrypt costs with (w0, L) and sends them to
 * the device before the exchange. */
#define PAKE_SCRYPT_N 32768u /* RFC 9383 §3.2 recommends (32768, 8, 1) */
#define PAKE_SCRYPT_R 8u
#define PAKE_SCRYPT_P 1u
#define PAKE_SCRYPT_MIN_N 1024u
#define PAKE_SCRYPT_MAX_N 1048576u
#define PAKE_SCRYPT_MAX_R 32u
#define PAKE_SCRYPT_MAX_P 16u
/* 128 * r * N bytes of scrypt memory at most: bounds what the parameters a
 * device receives from a server can make it allocate. */
#define PAKE_SCRYPT_MAX_MEM (256u * 1024u * 1024u)
#define PAKE_SALT_LEN 16
#define PAKE_MIN_SALT_LEN 16
#define PAKE_MAX_SALT_LEN 64

struct pake_pbkdf {
	uint64_t n; /* CPU/memory cost, a power of two */
	uint32_t r; /* block size */
	uint32_t p; /* parallelism */
	uint8_t salt[PAKE_MAX_SALT_LEN];
	size_t salt_len;
};

/* The default costs and a fresh random salt of PAKE_SALT_LEN bytes. */
int pake_pbkdf_init(struct pake_pbkdf *kdf);
/* Check the costs and salt against the limits above. */
int pake_pbkdf_check(const struct pake_pbkdf *kdf);

/* Device side: the secret scalars w0 and w1 from the password. */
int pake_password_scalars(enum pake_suite suite, const struct pake_pbkdf *kdf,
			  const uint8_t *pw, size_t pw_len,
			  const struct pake_ids *ids, struct bw_bytes *w0,
			  struct bw_bytes *w1);
/* L = w1*P, the verifier's half of the registration record. */
int pake_registration_point(enum pake_suite suite, const uint8_t *w1,
			    size_t w1_len, struct bw_bytes *l);
/* Administrator side: the record (w0, L) the server stores; w1 never
 * leaves this function. */
int pake_register(enum pake_suite suite, const struct pake_pbkdf *kdf,
		  const uint8_t *pw, size_t pw_len, const struct pake_ids *ids,
		  struct bw_bytes *w0, struct bw_bytes *l);

/* ---- the exchange (RFC 9383 §3.3, §3.4) ---- */
struct pake_prover;
struct pake_verifier;

/* A prover from w0 and w1, with a fresh random x. */
int pake_prover_new(struct pake_prover **out, const struct pake_config *cfg,
		    const uint8_t *w0, size_t w0_len, const uint8_t *w1,
		    size_t w1_len);
/* shareP = X = x*P + w0*M. INIT -> SHARE_SENT. */
int pake_prover_share(struct pake_prover *p, struct bw_bytes *share_p);
/* Check shareV and confirmV; on success confirmP is the message to send.
 * SHARE_SENT -> DONE, or -> FAILED if confirmV does not verify. */
PAKE_MUST_CHECK int pake_prover_finish(struct pake_prover *p,
				       const uint8_t *share_v, size_t share_v_len,
				       const uint8_t *confirm_v,
				       size_t confirm_v_len,
				       struct bw_bytes *confirm_p);
/* K_shared (hash length), only in state DONE. */
int pake_prover_shared_key(const struct pake_prover *p, struct bw_bytes *key);
void pake_prover_free(struct pake_prover *p);

/* A verifier from the stored record (w0, L), with a fresh random y. */
int pake_verifier_new(struct pake_verifier **out,
		      const struct pake_config *cfg, const uint8_t *w0,
		      size_t w0_len, const uint8_t *l, size_t l_len);
/* Check shareP; answer with shareV and confirmV. INIT -> AWAIT_CONFIRM. */
PAKE_MUST_CHECK int pake_verifier_respond(struct pake_verifier *v,
					  const uint8_t *share_p,
					  size_t share_p_len,
					  struct bw_bytes *share_v,
					  struct bw_bytes *confirm_v);
/* Check confirmP. AWAIT_CONFIRM -> DONE, or -> FAILED. */
PAKE_MUST_CHECK int pake_verifier_finish(struct pake_verifier *v,
					 const uint8_t *confirm_p,
					 size_t confirm_p_len);
int pake_verifier_shared_key(const struct pake_verifier *v,
			     struct bw_bytes *key);
void pake_verifier_free(struct pake_verifier *v);

/* ---- test hooks: known-answer tests only (RFC 9383 Appendix C) ----
 * They fix the ephemeral scalar instead of drawing it at random, and record
 * the intermediate values of the key schedule into a caller's trace (NULL:
 * none), which must outlive the object. Never use them in a real exchange:
 * a fixed x or y gives the password away. */
struct pake_trace {
	struct bw_bytes z, v, tt, k_main, k_confirm_p, k_confirm_v;
};
/* Wipe and free every value in the trace. */
void pake_trace_clear(struct pake_trace *t);

int pake_prover_new_with_scalar(struct pake_prover **out,
				const struct pake_config *cfg,
				const uint8_t *w0, size_t w0_len,
				const uint8_t *w1, size_t w1_len,
				const uint8_t *x, size_t x_len,
				struct pake_trace *trace);
int pake_verifier_new_with_scalar(struct pake_verifier **out,
				  const struct pake_config *cfg,
				  const uint8_t *w0, size_t w0_len,
				  const uint8_t *l, size_t l_len,
				  const uint8_t *y, size_t y_len,
				  struct pake_trace *trace);

#endif

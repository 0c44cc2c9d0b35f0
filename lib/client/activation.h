/*
 * activation.h - the steps of a device activation (docs/protocol.md,
 * "Activation"), inside libbulwark. bulwark_activate() (activate.c) runs
 * them in order; the integration test client runs them one by one, so it
 * can tamper with a step and see the server refuse.
 *
 *   act_server_ca()    the CA certificate in the server's TLS chain must
 *                      be the one the printed fingerprint names
 *   act_prove()        ACTIVATE_PARAMS, ACTIVATE_START: SPAKE2+ as Prover,
 *                      bound to this TLS session; checks confirmV
 *   act_finish()       ACTIVATE_FINISH: confirmP, the new public key and
 *                      the device name; the certificate comes back
 *   act_check_result() the CA is the same, the certificate chains to it,
 *                      names this user and device and carries our key
 */
#ifndef BW_CLIENT_ACTIVATION_H
#define BW_CLIENT_ACTIVATION_H

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "bulwark/bulwark.h"
#include "bytes.h"
#include "session.h"

struct act_claim {
	const char *user;
	const char *code_id;
	const char *password;
	const char *id_verifier; /* the server's name, from HELLO */
};

struct act_result {
	char device_id[BULWARK_MAX_NAME + 1];
	struct bw_bytes cert; /* DER */
	struct bw_bytes ca;   /* DER */
};

/* The certificate of the server's chain whose SHA-256 is fingerprint,
 * provided the server's own certificate chains to it: *ca (DER) is the
 * caller's. BULWARK_ERR_CA_MISMATCH otherwise. */
BULWARK_MUST_CHECK int act_server_ca(
	SSL *ssl, const uint8_t fingerprint[BULWARK_FINGERPRINT_LEN],
	struct bw_bytes *ca);
/* The exchange up to the server's key confirmation: confirmP for
 * act_finish(). BULWARK_ERR_ACTIVATION_REFUSED when confirmV does not
 * verify (wrong password, unusable code, another TLS session). */
BULWARK_MUST_CHECK int act_prove(struct bulwark_session *s,
				 const struct act_claim *c,
				 struct bw_bytes *confirm_p);
/* Certification of key under device_name. BULWARK_ERR_ACTIVATION_REFUSED
 * when the server does not accept confirmP (s->last_status says so). */
BULWARK_MUST_CHECK int act_finish(struct bulwark_session *s,
				  const struct bw_bytes *confirm_p,
				  EVP_PKEY *key, const char *device_name,
				  struct act_result *r);
BULWARK_MUST_CHECK int act_check_result(const struct act_result *r,
					const struct bw_bytes *ca,
					EVP_PKEY *key, const char *user);
void act_result_clear(struct act_result *r);

#endif

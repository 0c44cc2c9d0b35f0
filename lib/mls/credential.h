/*
 * credential.h - MLS credentials (RFC 9420 §5.3): basic and X.509, and
 * their validation with the Authentication Service the application runs.
 *
 * libmls checks what the protocol defines: the credential type is one it
 * knows, and for X.509 that the end-entity certificate (certificates[0])
 * parses and its public key, in MLS wire format, equals the LeafNode's
 * signature_key (§5.3). Whether the presented identity is acceptable is
 * the application's decision, made by a callback. In Bulwark the callback
 * checks that the chain leads to the organisation's CA and that no
 * certificate in it is revoked.
 *
 *   static int accept_org(void *store, const struct mls_credential *c,
 *                         const uint8_t *key, size_t key_len);
 *   rc = mls_credential_validate(suite, &leaf->credential,
 *                                leaf->signature_key.p,
 *                                leaf->signature_key.len,
 *                                accept_org, org_store);
 */
#ifndef MLS_CREDENTIAL_H
#define MLS_CREDENTIAL_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"
#include "messages.h"

/*
 * The application's verdict on a credential presented with sig_key (the
 * LeafNode's or the external sender's signature key, in MLS wire format).
 * Return 0 to accept; any other value rejects it and the caller reports
 * MLS_ERR_CREDENTIAL. Called only after the structural and key-binding
 * checks passed. It must not keep the pointers.
 */
typedef int (*mls_credential_fn)(void *arg, const struct mls_credential *cred,
				 const uint8_t *sig_key, size_t sig_key_len);

/* A basic credential for identity (copied). */
int mls_credential_basic(const void *identity, size_t identity_len,
			 struct mls_credential *out);
/* An X.509 credential from n DER certificates, end-entity first (copied).
 * MLS_ERR_INVALID_ARG unless 1 <= n <= MLS_MAX_CERTIFICATES. */
int mls_credential_x509(const uint8_t *const *der, const size_t *der_len,
			size_t n, struct mls_credential *out);
/* Deep copy; on failure *dst is left cleared. */
int mls_credential_copy(struct mls_credential *dst,
			const struct mls_credential *src);

/* The public key of an X.509 credential's end-entity certificate in the
 * suite's signature key format. MLS_ERR_CREDENTIAL if there is no
 * certificate or it does not parse, MLS_ERR_BAD_KEY if its key is not of
 * the suite's signature algorithm. */
int mls_credential_x509_public_key(const struct mls_suite *s,
				   const struct mls_credential *c,
				   struct bw_bytes *out);

/*
 * Validate a credential for sig_key: a known type (else
 * MLS_ERR_CREDENTIAL), for X.509 the key binding above (MLS_ERR_CREDENTIAL
 * on a mismatch), then the application's callback (MLS_ERR_CREDENTIAL on
 * refusal). accept may not be NULL (MLS_ERR_INVALID_ARG).
 */
int mls_credential_validate(const struct mls_suite *s,
			    const struct mls_credential *c,
			    const uint8_t *sig_key, size_t sig_key_len,
			    mls_credential_fn accept, void *arg);

#endif

/*
 * key_schedule.h - the MLS key schedule (RFC 9420 §8): from the previous
 * epoch's init_secret, the commit_secret, the psk_secret and the new
 * GroupContext to the epoch's secrets, plus the exporter (§8.5), the
 * external key pair (§8) and the Welcome path (§12.4.3.1), which enters
 * the schedule at the joiner_secret.
 *
 *                 init_secret[n-1]
 *   commit_secret -> Extract -> ExpandWithLabel(., "joiner", GC, Nh)
 *                 joiner_secret
 *   psk_secret    -> Extract -> DeriveSecret(., "welcome") = welcome_secret
 *                            -> ExpandWithLabel(., "epoch", GC, Nh)
 *                 epoch_secret -> DeriveSecret(., <label>) for each secret
 *                              -> DeriveSecret(., "init") = init_secret[n]
 *
 * Every secret is KDF.Nh (suite->hash_len) bytes. The epoch_secret and the
 * intermediate extracts are wiped inside; the caller wipes the results with
 * mls_epoch_secrets_clear(), and should do so for joiner_secret and
 * welcome_secret as soon as the Welcome is built or read (§9.2).
 *
 *   struct mls_epoch_secrets e;
 *   rc = mls_key_schedule_epoch(suite, prev_init, commit_secret, NULL,
 *                               gc_bytes, gc_len, &e);  // NULL: no PSK
 *   ...use e.encryption_secret, e.membership_key...
 *   mls_epoch_secrets_clear(&e);
 */
#ifndef MLS_KEY_SCHEDULE_H
#define MLS_KEY_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "crypto.h"

/* Longest exporter label or context accepted: far beyond any registered
 * label (§17.8), small enough to bound the work done for a caller. */
#define MLS_EXPORTER_MAX_INPUT 65535u

/* An epoch's secrets; each array holds suite->hash_len bytes. */
struct mls_epoch_secrets {
	const struct mls_suite *suite;
	uint8_t joiner_secret[MLS_MAX_HASH_LEN];
	uint8_t welcome_secret[MLS_MAX_HASH_LEN];
	uint8_t sender_data_secret[MLS_MAX_HASH_LEN];
	uint8_t encryption_secret[MLS_MAX_HASH_LEN];
	uint8_t exporter_secret[MLS_MAX_HASH_LEN];
	uint8_t external_secret[MLS_MAX_HASH_LEN];
	uint8_t confirmation_key[MLS_MAX_HASH_LEN];
	uint8_t membership_key[MLS_MAX_HASH_LEN];
	uint8_t resumption_psk[MLS_MAX_HASH_LEN];
	uint8_t epoch_authenticator[MLS_MAX_HASH_LEN];
	uint8_t init_secret[MLS_MAX_HASH_LEN]; /* for the next epoch */
};

/* A new epoch from the previous one. init_secret is Nh bytes (the previous
 * epoch's, a fresh random value for a new group, or the external init
 * secret, §8.3); commit_secret and psk_secret are Nh bytes or NULL for the
 * all-zero vector. group_context is the serialised GroupContext of the new
 * epoch. The inputs may point into *out (the previous epoch's init_secret
 * or resumption_psk). On failure *out is wiped. */
int mls_key_schedule_epoch(const struct mls_suite *s,
			   const uint8_t *init_secret,
			   const uint8_t *commit_secret,
			   const uint8_t *psk_secret,
			   const uint8_t *group_context, size_t group_context_len,
			   struct mls_epoch_secrets *out);

/* Welcome path, first step: the welcome_secret that decrypts GroupInfo,
 * from GroupSecrets.joiner_secret (which must be Nh bytes, else
 * MLS_ERR_INVALID_ARG) and the psk_secret (NULL: zero). out: Nh bytes. */
int mls_welcome_secret(const struct mls_suite *s, const uint8_t *joiner_secret,
		       size_t joiner_secret_len, const uint8_t *psk_secret,
		       uint8_t *out);

/* Welcome path, second step: the epoch's secrets once GroupInfo gave the
 * GroupContext. out->joiner_secret is a copy of joiner_secret. */
int mls_key_schedule_join(const struct mls_suite *s,
			  const uint8_t *joiner_secret,
			  size_t joiner_secret_len, const uint8_t *psk_secret,
			  const uint8_t *group_context,
			  size_t group_context_len,
			  struct mls_epoch_secrets *out);

/* §8.5 MLS-Exporter(label, context, length) =
 *   ExpandWithLabel(DeriveSecret(exporter_secret, label), "exported",
 *                   Hash(context), length).
 * label and context are byte strings of at most MLS_EXPORTER_MAX_INPUT. */
int mls_key_schedule_export(const struct mls_epoch_secrets *e,
			    const void *label, size_t label_len,
			    const void *context, size_t context_len,
			    uint8_t *out, size_t out_len);

/* §8: external_priv, external_pub = KEM.DeriveKeyPair(external_secret).
 * priv is a secret (wiped by bw_bytes_clear). */
int mls_key_schedule_external_keypair(const struct mls_epoch_secrets *e,
				      struct bw_bytes *priv,
				      struct bw_bytes *pub);

/* Wipe every secret; the struct may be reused. */
void mls_epoch_secrets_clear(struct mls_epoch_secrets *e);

#endif

/*
 * psk.h - the psk_secret of a commit or Welcome (RFC 9420 §8.4).
 *
 * The PSKs are chained in the order the Commit (or GroupSecrets) lists
 * them; each is bound to its PreSharedKeyID and its position through
 * PSKLabel { PreSharedKeyID id; uint16 index; uint16 count; }. Finding each
 * PSK's value (an external key from the application, or the resumption_psk
 * of an earlier epoch) is the caller's business; a reference it cannot
 * resolve is MLS_ERR_PSK_MISSING for the caller to return.
 *
 *   struct mls_psk_input in[] = { { id_bytes, id_len, psk, psk_len } };
 *   uint8_t psk_secret[MLS_MAX_HASH_LEN];
 *   rc = mls_psk_secret(suite, in, 1, psk_secret);
 *   ... mls_key_schedule_epoch(suite, init, commit, psk_secret, ...);
 *   OPENSSL_cleanse(psk_secret, sizeof(psk_secret));
 */
#ifndef MLS_PSK_H
#define MLS_PSK_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

/* PSKLabel.count is a uint16. */
#define MLS_PSK_MAX_COUNT 65535u
/* Longest serialised PreSharedKeyID accepted (a psk_id or group_id of a few
 * KiB at most in practice). */
#define MLS_PSK_MAX_ID_LEN 65536u

struct mls_psk_input {
	const uint8_t *id; /* serialised PreSharedKeyID */
	size_t id_len;
	const uint8_t *psk; /* the PSK's value: secret */
	size_t psk_len;
};

/* psk_secret (suite->hash_len bytes) of n PSKs; the all-zero vector when
 * n == 0. MLS_ERR_PSK_INVALID for an empty or oversized id or n above
 * MLS_PSK_MAX_COUNT. Intermediate secrets are wiped. */
int mls_psk_secret(const struct mls_suite *s, const struct mls_psk_input *psks,
		   size_t n, uint8_t *out);

#endif

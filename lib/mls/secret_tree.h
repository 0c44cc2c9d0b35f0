/*
 * secret_tree.h - the secret tree and per-sender hash ratchets (RFC 9420 §9)
 * and sender-data keys (§6.3.2).
 *
 * A tree derives, from the epoch's encryption_secret, one handshake and one
 * application ratchet per leaf. Secrets are derived lazily: a leaf's ratchet
 * exists only once it is used, and each tree node's secret is deleted as soon
 * as both children are derived (§9.2), so memory grows with the number of
 * active senders, not the group size.
 *
 * Receiving tolerates reordering: keys for skipped generations are kept (up
 * to a bounded number per ratchet) and each key can be used once; a
 * generation more than max_forward ahead is refused, as is one already
 * used or deleted. Every secret is wiped when it is deleted.
 *
 * n_leaves is the ratchet tree's leaf count, a power of two (RFC 9420 §4.1)
 * up to 2^31. Generation 2^32 - 1 is never issued (its successor would not
 * fit). Memory, in tables kept at most half full: a 68-byte slot per node
 * secret held (at most the copath of each leaf reached), a 184-byte slot
 * per sender reached, and 48 bytes per retained key.
 *
 *   struct mls_secret_tree *t;
 *   struct mls_ratchet_key k;
 *   mls_secret_tree_new(suite, enc_secret, suite->hash_len, n_leaves, &t);
 *   mls_secret_tree_next(t, my_leaf, MLS_RATCHET_APPLICATION, &k);  // send
 *   mls_secret_tree_get(t, leaf, MLS_RATCHET_APPLICATION, gen, &k);  // receive
 *   mls_ratchet_key_clear(&k);
 *   mls_secret_tree_free(t);
 */
#ifndef MLS_SECRET_TREE_H
#define MLS_SECRET_TREE_H

#include <stdint.h>

#include "codec.h"
#include "crypto.h"

enum mls_ratchet_type { MLS_RATCHET_HANDSHAKE = 0, MLS_RATCHET_APPLICATION = 1 };

/* Defaults: a generation at most this far ahead is accepted ... */
#define MLS_DEFAULT_MAX_FORWARD 1024u
/* ... and at most this many skipped keys are kept per ratchet. */
#define MLS_DEFAULT_MAX_RETAINED 256u

struct mls_ratchet_key {
	uint32_t generation;
	uint8_t key[MLS_MAX_AEAD_KEY_LEN];
	uint8_t nonce[MLS_MAX_AEAD_NONCE_LEN];
};

struct mls_secret_tree;

/* MLS_ERR_INVALID_ARG unless secret_len is the suite's hash length and
 * n_leaves a power of two in 1 .. 2^31. */
int mls_secret_tree_new(const struct mls_suite *s,
			const uint8_t *encryption_secret, size_t secret_len,
			uint32_t n_leaves, struct mls_secret_tree **out);
/* Wipes every secret. NULL is a no-op. */
void mls_secret_tree_free(struct mls_secret_tree *t);
/* Lowering max_retained evicts the oldest retained keys at once. The limits
 * are part of the persisted state. */
void mls_secret_tree_set_limits(struct mls_secret_tree *t,
				uint32_t max_forward, uint32_t max_retained);

/* Sending: the key for the ratchet's current generation, then advance. */
int mls_secret_tree_next(struct mls_secret_tree *t, uint32_t leaf,
			 enum mls_ratchet_type type,
			 struct mls_ratchet_key *out);
/* Receiving: the key for a generation, usable once. Errors:
 * MLS_ERR_LEAF_INDEX, MLS_ERR_GENERATION_CONSUMED (used, deleted or older
 * than what is retained), MLS_ERR_GENERATION_TOO_FAR, MLS_ERR_INVALID_ARG
 * (not a ratchet type). A failure changes nothing and leaves *out wiped. */
int mls_secret_tree_get(struct mls_secret_tree *t, uint32_t leaf,
			enum mls_ratchet_type type, uint32_t generation,
			struct mls_ratchet_key *out);
/* The same key without using it up: nothing changes. A receiver peeks,
 * decrypts, and only then calls mls_secret_tree_get(), so a forged or
 * corrupted copy cannot burn the generation of the real message (§9.2:
 * keys are deleted once they have decrypted a message). */
int mls_secret_tree_peek(struct mls_secret_tree *t, uint32_t leaf,
			 enum mls_ratchet_type type, uint32_t generation,
			 struct mls_ratchet_key *out);
void mls_ratchet_key_clear(struct mls_ratchet_key *k);

/* Persist and restore the whole state (secrets included: the caller
 * encrypts the result). The encoding is canonical and versioned. decode
 * reads one state from r and leaves any bytes after it to the caller;
 * anything malformed or inconsistent (wrong suite, a leaf covered twice or
 * not at all, out-of-range indices, limits exceeded) is
 * MLS_ERR_STATE_CORRUPT. */
int mls_secret_tree_encode(const struct mls_secret_tree *t,
			   struct bw_writer *w);
int mls_secret_tree_decode(const struct mls_suite *s, struct bw_reader *r,
			   struct mls_secret_tree **out);

/* §6.3.2: sender_data key and nonce from the first Nh bytes of the
 * content ciphertext (all of it if shorter). */
int mls_sender_data_keys(const struct mls_suite *s,
			 const uint8_t *sender_data_secret, size_t secret_len,
			 const uint8_t *ciphertext, size_t ciphertext_len,
			 uint8_t *key /* key_len */,
			 uint8_t *nonce /* nonce_len */);

#endif

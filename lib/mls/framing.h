/*
 * framing.h - protecting and unprotecting MLS messages (RFC 9420 §6).
 *
 * Sending: fill a struct mls_authenticated_content (wire_format and
 * content), sign it, set the confirmation tag if it is a commit
 * (transcript.h), then protect it as a PublicMessage or a PrivateMessage;
 * protect writes the whole MLSMessage.
 *
 * Receiving: decode the MLSMessage (messages.h), then unprotect it, which
 * checks, in this order and each with its own error:
 *   group id (MLS_ERR_WRONG_GROUP), epoch (MLS_ERR_WRONG_EPOCH);
 *   public: sender type and content rules of §6.1 (MLS_ERR_SENDER_TYPE),
 *     application data never public (MLS_ERR_APP_AS_PUBLIC), the membership
 *     tag of member senders in constant time (MLS_ERR_MEMBERSHIP_TAG);
 *   private: sender data and content AEAD (MLS_ERR_AEAD), the generation
 *     through the secret tree (MLS_ERR_LEAF_INDEX,
 *     MLS_ERR_GENERATION_CONSUMED, MLS_ERR_GENERATION_TOO_FAR), all-zero
 *     padding (MLS_ERR_PADDING);
 *   then the signature with the key the group's callback names for the
 *   sender (MLS_ERR_SIGNATURE).
 * The result is the AuthenticatedContent. A commit's confirmation tag is
 * carried but verified by the caller once the new epoch's confirmation key
 * is known (mls_confirmation_tag_verify in transcript.h).
 *
 *   struct mls_authenticated_content ac = { .wire_format =
 *           MLS_WIRE_FORMAT_PRIVATE_MESSAGE, .content = content };
 *   mls_framed_content_sign(&ctx, &ac, sig_priv, sig_priv_len);
 *   mls_private_message_protect(&ctx, &ac, 0, &w);    // w: MLSMessage
 *   ...
 *   mls_message_decode(buf, len, &m);
 *   mls_private_message_unprotect(&ctx, &m.private_message, &ac);
 */
#ifndef MLS_FRAMING_H
#define MLS_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "crypto.h"
#include "messages.h"
#include "secret_tree.h"

/* SenderData is leaf_index, generation and a 4-byte reuse guard (§6.3.2). */
#define MLS_SENDER_DATA_LEN 12u
#define MLS_REUSE_GUARD_LEN 4u

/*
 * The signature public key of a message's sender (§6.1): for a member the
 * LeafNode at its leaf index (the group checks that the leaf is not
 * blank), for an external sender its external_senders entry, for new
 * members the LeafNode in the message itself. On success *key points to
 * key_len bytes that stay valid until unprotect returns; any error is
 * passed on by unprotect.
 */
typedef int (*mls_sender_key_fn)(void *arg,
				 const struct mls_framed_content *content,
				 const uint8_t **key, size_t *key_len);

/* One epoch of a group as framing sees it. Everything is borrowed. */
struct mls_framing_ctx {
	const struct mls_suite *suite;
	/* This epoch's context: its group_id and epoch are checked, and it
	 * is signed with member and new-member-commit content. */
	const struct mls_group_context *group_context;
	const uint8_t *membership_key;     /* suite->hash_len bytes */
	const uint8_t *sender_data_secret; /* suite->hash_len bytes */
	struct mls_secret_tree *secret_tree; /* advanced by private messages */
	mls_sender_key_fn sender_key;
	void *sender_key_arg;
};

/* ac->auth.signature = SignWithLabel(priv, "FramedContentTBS",
 * FramedContentTBS) for ac->wire_format and ac->content. */
int mls_framed_content_sign(const struct mls_framing_ctx *ctx,
			    struct mls_authenticated_content *ac,
			    const uint8_t *priv, size_t priv_len);
/* 0, or MLS_ERR_SIGNATURE (MLS_ERR_BAD_KEY for an unusable key). */
MLS_MUST_CHECK int
mls_framed_content_verify(const struct mls_framing_ctx *ctx,
			  const struct mls_authenticated_content *ac,
			  const uint8_t *pub, size_t pub_len);

/* Write MLSMessage(PublicMessage) for a signed ac, with the membership tag
 * for a member sender. Refuses application data (MLS_ERR_APP_AS_PUBLIC),
 * a wire format other than mls_public_message (MLS_ERR_WIRE_FORMAT) and
 * content for another group or epoch. */
int mls_public_message_protect(const struct mls_framing_ctx *ctx,
			       const struct mls_authenticated_content *ac,
			       struct bw_writer *w);
/* Check a PublicMessage (see above). On success its content and auth data
 * move into *out (pm keeps only the membership tag); on failure neither
 * changes. */
MLS_MUST_CHECK int
mls_public_message_unprotect(const struct mls_framing_ctx *ctx,
			     struct mls_public_message *pm,
			     struct mls_authenticated_content *out);

/* Write MLSMessage(PrivateMessage) for a signed ac from a member, with the
 * next key of the sender's ratchet, a fresh reuse guard and padding zero
 * bytes after the content. */
int mls_private_message_protect(const struct mls_framing_ctx *ctx,
				const struct mls_authenticated_content *ac,
				size_t padding, struct bw_writer *w);
/* Decrypt and check a PrivateMessage (see above) into *out. The key of the
 * generation is consumed once the sender data decrypts. */
MLS_MUST_CHECK int
mls_private_message_unprotect(const struct mls_framing_ctx *ctx,
			      const struct mls_private_message *pm,
			      struct mls_authenticated_content *out);

#endif

/*
 * transcript.h - transcript hashes and confirmation tags (RFC 9420 §8.2,
 * §6.1).
 *
 * Each Commit advances two running hashes:
 *   confirmed = Hash(interim_prev || ConfirmedTranscriptHashInput)
 *     ConfirmedTranscriptHashInput = wire_format, FramedContent, signature
 *   interim   = Hash(confirmed || InterimTranscriptHashInput)
 *     InterimTranscriptHashInput   = confirmation_tag
 * and the Commit's confirmation tag is MAC(confirmation_key, confirmed)
 * with the new epoch's confirmation_key. Both hashes of a new group are
 * empty (interim_prev may be NULL with length 0).
 *
 *   uint8_t confirmed[MLS_MAX_HASH_LEN], interim[MLS_MAX_HASH_LEN];
 *   mls_confirmed_transcript_hash(s, interim_prev, n, &commit_ac, confirmed);
 *   ...new epoch's key schedule...
 *   mls_confirmation_tag_verify(s, confirmation_key, confirmed, tag, tag_len);
 *   mls_interim_transcript_hash(s, confirmed, tag, tag_len, interim);
 */
#ifndef MLS_TRANSCRIPT_H
#define MLS_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "messages.h"

/* out: hash_len bytes. MLS_ERR_CONTENT_TYPE unless ac holds a Commit. */
int mls_confirmed_transcript_hash(const struct mls_suite *s,
				  const uint8_t *interim_prev,
				  size_t interim_prev_len,
				  const struct mls_authenticated_content *ac,
				  uint8_t *out);
/* confirmed: hash_len bytes; out: hash_len bytes. */
int mls_interim_transcript_hash(const struct mls_suite *s,
				const uint8_t *confirmed,
				const uint8_t *confirmation_tag, size_t tag_len,
				uint8_t *out);
/* Both at once for a Commit that carries its confirmation tag. */
int mls_transcript_hashes_update(const struct mls_suite *s,
				 const uint8_t *interim_prev,
				 size_t interim_prev_len,
				 const struct mls_authenticated_content *ac,
				 uint8_t *confirmed, uint8_t *interim);

/* tag = MAC(confirmation_key, confirmed); key, hash and tag hash_len. */
int mls_confirmation_tag(const struct mls_suite *s,
			 const uint8_t *confirmation_key,
			 const uint8_t *confirmed, uint8_t *tag);
/* Constant-time check: 0 or MLS_ERR_CONFIRMATION_TAG. */
MLS_MUST_CHECK int
mls_confirmation_tag_verify(const struct mls_suite *s,
			    const uint8_t *confirmation_key,
			    const uint8_t *confirmed, const uint8_t *tag,
			    size_t tag_len);

#endif

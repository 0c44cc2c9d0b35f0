/* transcript.c - transcript hashes and confirmation tags (RFC 9420 §8.2). */
#include "transcript.h"

#include "msg_internal.h"

int mls_confirmed_transcript_hash(const struct mls_suite *s,
				  const uint8_t *interim_prev,
				  size_t interim_prev_len,
				  const struct mls_authenticated_content *ac,
				  uint8_t *out)
{
	struct bw_writer w;
	int rc;

	if (ac->content.content_type != MLS_CONTENT_COMMIT)
		return MLS_ERR_CONTENT_TYPE;
	bw_writer_init(&w, 0);
	bw_write_bytes(&w, interim_prev, interim_prev_len);
	/* ConfirmedTranscriptHashInput: the AuthenticatedContent up to and
	 * including the signature, i.e. without the confirmation tag. */
	bw_write_u16(&w, ac->wire_format);
	mls_framed_content_encode(&ac->content, &w);
	if ((rc = mls_write_bytes(&w, &ac->auth.signature)) == 0)
		rc = mls_hash(s, w.buf, w.len, out);
	bw_writer_free(&w);
	return rc;
}

int mls_interim_transcript_hash(const struct mls_suite *s,
				const uint8_t *confirmed,
				const uint8_t *confirmation_tag, size_t tag_len,
				uint8_t *out)
{
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	bw_write_bytes(&w, confirmed, s->hash_len);
	if ((rc = bw_write_opaque(&w, confirmation_tag, tag_len)) == 0)
		rc = mls_hash(s, w.buf, w.len, out);
	bw_writer_free(&w);
	return rc;
}

int mls_transcript_hashes_update(const struct mls_suite *s,
				 const uint8_t *interim_prev,
				 size_t interim_prev_len,
				 const struct mls_authenticated_content *ac,
				 uint8_t *confirmed, uint8_t *interim)
{
	int rc;

	if ((rc = mls_confirmed_transcript_hash(s, interim_prev,
						interim_prev_len, ac,
						confirmed)) != 0)
		return rc;
	return mls_interim_transcript_hash(s, confirmed,
					   ac->auth.confirmation_tag.p,
					   ac->auth.confirmation_tag.len,
					   interim);
}

int mls_confirmation_tag(const struct mls_suite *s,
			 const uint8_t *confirmation_key,
			 const uint8_t *confirmed, uint8_t *tag)
{
	return mls_hmac(s, confirmation_key, s->hash_len, confirmed,
			s->hash_len, tag);
}

int mls_confirmation_tag_verify(const struct mls_suite *s,
				const uint8_t *confirmation_key,
				const uint8_t *confirmed, const uint8_t *tag,
				size_t tag_len)
{
	int rc = mls_hmac_verify(s, confirmation_key, s->hash_len, confirmed,
				 s->hash_len, tag, tag_len);

	return rc == MLS_ERR_MAC ? MLS_ERR_CONFIRMATION_TAG : rc;
}

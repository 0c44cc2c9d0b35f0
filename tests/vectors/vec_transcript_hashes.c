/*
 * vec_transcript_hashes.c - RFC 9420 §8.2 against
 * mls/transcript-hashes.json: the AuthenticatedContent holds a Commit whose
 * confirmation tag is MAC(confirmation_key, confirmed_transcript_hash_after),
 * and updating interim_transcript_hash_before with it gives both "after"
 * hashes.
 */
#include "crypto.h"
#include "messages.h"
#include "suite_vectors.h"
#include "test.h"
#include "transcript.h"
#include "vectors.h"

static bool check(json_t *v, const struct mls_suite *s)
{
	struct bw_bytes key = { 0 }, raw = { 0 }, before = { 0 };
	struct bw_bytes confirmed = { 0 }, interim = { 0 };
	uint8_t got_confirmed[MLS_MAX_HASH_LEN], got_interim[MLS_MAX_HASH_LEN];
	struct mls_authenticated_content ac = { 0 };
	struct bw_reader r;
	bool ok = false;

	if (!tv_hex(v, "confirmation_key", &key) ||
	    !tv_hex(v, "authenticated_content", &raw) ||
	    !tv_hex(v, "interim_transcript_hash_before", &before) ||
	    !tv_hex(v, "confirmed_transcript_hash_after", &confirmed) ||
	    !tv_hex(v, "interim_transcript_hash_after", &interim) ||
	    key.len != s->hash_len || confirmed.len != s->hash_len ||
	    interim.len != s->hash_len)
		goto out;
	bw_reader_init(&r, raw.p, raw.len);
	if (mls_authenticated_content_decode(&r, &ac) != 0 ||
	    bw_reader_finish(&r) != 0 ||
	    ac.content.content_type != MLS_CONTENT_COMMIT) {
		fprintf(stderr, "authenticated_content is not a Commit\n");
		goto out;
	}
	if (mls_confirmation_tag_verify(s, key.p, confirmed.p,
					ac.auth.confirmation_tag.p,
					ac.auth.confirmation_tag.len) != 0) {
		fprintf(stderr, "confirmation tag does not verify\n");
		goto out;
	}
	if (mls_transcript_hashes_update(s, before.p, before.len, &ac,
					 got_confirmed, got_interim) != 0)
		goto out;
	ok = bw_ct_eq(got_confirmed, confirmed.p, s->hash_len) &&
	     bw_ct_eq(got_interim, interim.p, s->hash_len);
	if (!ok)
		fprintf(stderr, "suite %u: transcript hashes differ\n", s->id);
out:
	mls_authenticated_content_clear(&ac);
	bw_bytes_clear(&key);
	bw_bytes_clear(&raw);
	bw_bytes_clear(&before);
	bw_bytes_clear(&confirmed);
	bw_bytes_clear(&interim);
	return ok;
}

int main(int argc, char **argv)
{
	return tv_run_suites(argc, argv, "mls/transcript-hashes.json", "transcript-hashes", check);
}

/* msg_group.c - GroupContext (RFC 9420 §8.1) and GroupInfo (§12.4.3). */
#include <string.h>

#include "messages.h"
#include "msg_internal.h"

int mls_group_context_decode(struct bw_reader *r,
			     struct mls_group_context *out)
{
	memset(out, 0, sizeof(*out));
	/* "ProtocolVersion version = mls10": the one version we speak. */
	if (bw_read_u16(r, &out->version) == 0 &&
	    out->version != MLS_PROTOCOL_VERSION_MLS10)
		bw_reader_fail(r, MLS_ERR_VERSION);
	bw_read_u16(r, &out->cipher_suite);
	mls_read_bytes(r, MLS_MAX_GROUP_ID_LEN, &out->group_id);
	bw_read_u64(r, &out->epoch);
	mls_read_bytes(r, MLS_MAX_HASH_VALUE_LEN, &out->tree_hash);
	mls_read_bytes(r, MLS_MAX_HASH_VALUE_LEN,
		       &out->confirmed_transcript_hash);
	mls_extension_list_decode(r, &out->extensions);
	if (r->err != 0)
		mls_group_context_clear(out);
	return r->err;
}

int mls_group_context_encode(const struct mls_group_context *in,
			     struct bw_writer *w)
{
	bw_write_u16(w, in->version);
	bw_write_u16(w, in->cipher_suite);
	mls_write_bytes(w, &in->group_id);
	bw_write_u64(w, in->epoch);
	mls_write_bytes(w, &in->tree_hash);
	mls_write_bytes(w, &in->confirmed_transcript_hash);
	return mls_extension_list_encode(&in->extensions, w);
}

void mls_group_context_clear(struct mls_group_context *gc)
{
	bw_bytes_clear(&gc->group_id);
	bw_bytes_clear(&gc->tree_hash);
	bw_bytes_clear(&gc->confirmed_transcript_hash);
	mls_extension_list_clear(&gc->extensions);
	memset(gc, 0, sizeof(*gc));
}

int mls_group_info_decode(struct bw_reader *r, struct mls_group_info *out)
{
	memset(out, 0, sizeof(*out));
	mls_group_context_decode(r, &out->group_context);
	mls_extension_list_decode_limited(r, MLS_MAX_GROUP_INFO_EXTENSIONS_LEN,
					  true, &out->extensions);
	mls_read_bytes(r, MLS_MAX_HASH_VALUE_LEN, &out->confirmation_tag);
	bw_read_u32(r, &out->signer);
	mls_read_bytes(r, MLS_MAX_SIGNATURE_LEN, &out->signature);
	if (r->err != 0)
		mls_group_info_clear(out);
	return r->err;
}

int mls_group_info_tbs_encode(const struct mls_group_info *in,
			      struct bw_writer *w)
{
	mls_group_context_encode(&in->group_context, w);
	mls_extension_list_encode(&in->extensions, w);
	mls_write_bytes(w, &in->confirmation_tag);
	return bw_write_u32(w, in->signer);
}

int mls_group_info_encode(const struct mls_group_info *in,
			  struct bw_writer *w)
{
	mls_group_info_tbs_encode(in, w);
	return mls_write_bytes(w, &in->signature);
}

void mls_group_info_clear(struct mls_group_info *gi)
{
	mls_group_context_clear(&gi->group_context);
	mls_extension_list_clear(&gi->extensions);
	bw_bytes_clear(&gi->confirmation_tag);
	bw_bytes_clear(&gi->signature);
	memset(gi, 0, sizeof(*gi));
}

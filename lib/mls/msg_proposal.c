/*
 * msg_proposal.c - Proposal and its bodies (RFC 9420 §12.1), with
 * PreSharedKeyID (§8.4) and ReInit (§12.1.5).
 */
#include <string.h>

#include "messages.h"
#include "msg_internal.h"

/* ---- PreSharedKeyID (§8.4) ---- */

int mls_pre_shared_key_id_decode(struct bw_reader *r,
				 struct mls_pre_shared_key_id *out)
{
	memset(out, 0, sizeof(*out));
	if (bw_read_u8(r, &out->psktype) != 0)
		return r->err;
	switch (out->psktype) {
	case MLS_PSK_EXTERNAL:
		mls_read_bytes(r, MLS_MAX_PSK_ID_LEN, &out->psk_id);
		break;
	case MLS_PSK_RESUMPTION:
		if (bw_read_u8(r, &out->usage) == 0 &&
		    (out->usage < MLS_PSK_USAGE_APPLICATION ||
		     out->usage > MLS_PSK_USAGE_BRANCH))
			bw_reader_fail(r, MLS_ERR_UNKNOWN_TYPE);
		mls_read_bytes(r, MLS_MAX_GROUP_ID_LEN, &out->psk_group_id);
		bw_read_u64(r, &out->psk_epoch);
		break;
	default:
		bw_reader_fail(r, MLS_ERR_UNKNOWN_TYPE);
	}
	mls_read_bytes(r, MLS_MAX_HASH_VALUE_LEN, &out->psk_nonce);
	if (r->err != 0)
		mls_pre_shared_key_id_clear(out);
	return r->err;
}

int mls_pre_shared_key_id_encode(const struct mls_pre_shared_key_id *in,
				 struct bw_writer *w)
{
	bw_write_u8(w, in->psktype);
	switch (in->psktype) {
	case MLS_PSK_EXTERNAL:
		mls_write_bytes(w, &in->psk_id);
		break;
	case MLS_PSK_RESUMPTION:
		bw_write_u8(w, in->usage);
		mls_write_bytes(w, &in->psk_group_id);
		bw_write_u64(w, in->psk_epoch);
		break;
	default:
		mls_writer_fail(w, MLS_ERR_UNKNOWN_TYPE);
	}
	return mls_write_bytes(w, &in->psk_nonce);
}

void mls_pre_shared_key_id_clear(struct mls_pre_shared_key_id *p)
{
	bw_bytes_clear(&p->psk_id);
	bw_bytes_clear(&p->psk_group_id);
	bw_bytes_clear(&p->psk_nonce);
	memset(p, 0, sizeof(*p));
}

/* ---- ReInit (§12.1.5) ---- */

int mls_reinit_decode(struct bw_reader *r, struct mls_reinit *out)
{
	memset(out, 0, sizeof(*out));
	mls_read_bytes(r, MLS_MAX_GROUP_ID_LEN, &out->group_id);
	bw_read_u16(r, &out->version);
	bw_read_u16(r, &out->cipher_suite);
	mls_extension_list_decode(r, &out->extensions);
	if (r->err != 0)
		mls_reinit_clear(out);
	return r->err;
}

int mls_reinit_encode(const struct mls_reinit *in, struct bw_writer *w)
{
	mls_write_bytes(w, &in->group_id);
	bw_write_u16(w, in->version);
	bw_write_u16(w, in->cipher_suite);
	return mls_extension_list_encode(&in->extensions, w);
}

void mls_reinit_clear(struct mls_reinit *ri)
{
	bw_bytes_clear(&ri->group_id);
	mls_extension_list_clear(&ri->extensions);
	memset(ri, 0, sizeof(*ri));
}

/* ---- Proposal (§12.1) ---- */

int mls_proposal_body_decode(struct bw_reader *r, uint16_t type,
			     struct mls_proposal *out)
{
	memset(out, 0, sizeof(*out));
	out->type = type;
	switch (type) {
	case MLS_PROPOSAL_ADD:
		mls_key_package_decode(r, &out->add);
		break;
	case MLS_PROPOSAL_UPDATE:
		mls_leaf_node_decode(r, &out->update);
		break;
	case MLS_PROPOSAL_REMOVE:
		bw_read_u32(r, &out->remove);
		break;
	case MLS_PROPOSAL_PSK:
		mls_pre_shared_key_id_decode(r, &out->psk);
		break;
	case MLS_PROPOSAL_REINIT:
		mls_reinit_decode(r, &out->reinit);
		break;
	case MLS_PROPOSAL_EXTERNAL_INIT:
		mls_read_bytes(r, MLS_MAX_KEY_LEN, &out->external_init);
		break;
	case MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS:
		mls_extension_list_decode(r, &out->group_context_extensions);
		break;
	default:
		bw_reader_fail(r, MLS_ERR_UNKNOWN_TYPE);
	}
	if (r->err != 0)
		mls_proposal_clear(out);
	return r->err;
}

int mls_proposal_decode(struct bw_reader *r, struct mls_proposal *out)
{
	uint16_t type = 0;

	memset(out, 0, sizeof(*out));
	if (bw_read_u16(r, &type) != 0)
		return r->err;
	return mls_proposal_body_decode(r, type, out);
}

int mls_proposal_body_encode(const struct mls_proposal *in,
			     struct bw_writer *w)
{
	switch (in->type) {
	case MLS_PROPOSAL_ADD:
		return mls_key_package_encode(&in->add, w);
	case MLS_PROPOSAL_UPDATE:
		return mls_leaf_node_encode(&in->update, w);
	case MLS_PROPOSAL_REMOVE:
		return bw_write_u32(w, in->remove);
	case MLS_PROPOSAL_PSK:
		return mls_pre_shared_key_id_encode(&in->psk, w);
	case MLS_PROPOSAL_REINIT:
		return mls_reinit_encode(&in->reinit, w);
	case MLS_PROPOSAL_EXTERNAL_INIT:
		return mls_write_bytes(w, &in->external_init);
	case MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS:
		return mls_extension_list_encode(&in->group_context_extensions,
						 w);
	}
	return mls_writer_fail(w, MLS_ERR_UNKNOWN_TYPE);
}

int mls_proposal_encode(const struct mls_proposal *in, struct bw_writer *w)
{
	bw_write_u16(w, in->type);
	return mls_proposal_body_encode(in, w);
}

void mls_proposal_clear(struct mls_proposal *p)
{
	switch (p->type) {
	case MLS_PROPOSAL_ADD:
		mls_key_package_clear(&p->add);
		break;
	case MLS_PROPOSAL_UPDATE:
		mls_leaf_node_clear(&p->update);
		break;
	case MLS_PROPOSAL_PSK:
		mls_pre_shared_key_id_clear(&p->psk);
		break;
	case MLS_PROPOSAL_REINIT:
		mls_reinit_clear(&p->reinit);
		break;
	case MLS_PROPOSAL_EXTERNAL_INIT:
		bw_bytes_clear(&p->external_init);
		break;
	case MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS:
		mls_extension_list_clear(&p->group_context_extensions);
		break;
	}
	memset(p, 0, sizeof(*p));
}

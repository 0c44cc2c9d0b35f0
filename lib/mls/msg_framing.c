/*
 * msg_framing.c - the framing structures of RFC 9420 §6: Sender,
 * FramedContent, FramedContentAuthData, AuthenticatedContent,
 * PublicMessage, PrivateMessage and the MLSMessage wrapper.
 */
#include <string.h>

#include "messages.h"
#include "msg_internal.h"

/* SenderData (12 bytes) sealed with a 16-byte tag; generous for others. */
#define MAX_ENCRYPTED_SENDER_DATA_LEN 256u

/* ---- Sender ---- */

int mls_sender_decode(struct bw_reader *r, struct mls_sender *out)
{
	memset(out, 0, sizeof(*out));
	if (bw_read_u8(r, &out->type) != 0)
		return r->err;
	switch (out->type) {
	case MLS_SENDER_MEMBER:
	case MLS_SENDER_EXTERNAL:
		bw_read_u32(r, &out->index);
		break;
	case MLS_SENDER_NEW_MEMBER_PROPOSAL:
	case MLS_SENDER_NEW_MEMBER_COMMIT:
		break;
	default:
		bw_reader_fail(r, MLS_ERR_UNKNOWN_TYPE);
	}
	if (r->err != 0)
		memset(out, 0, sizeof(*out));
	return r->err;
}

int mls_sender_encode(const struct mls_sender *in, struct bw_writer *w)
{
	bw_write_u8(w, in->type);
	switch (in->type) {
	case MLS_SENDER_MEMBER:
	case MLS_SENDER_EXTERNAL:
		return bw_write_u32(w, in->index);
	case MLS_SENDER_NEW_MEMBER_PROPOSAL:
	case MLS_SENDER_NEW_MEMBER_COMMIT:
		return w->err;
	}
	return mls_writer_fail(w, MLS_ERR_UNKNOWN_TYPE);
}

/* ---- content (the select shared by FramedContent and
 * PrivateMessageContent) ---- */

static void content_body_clear(struct mls_framed_content *fc)
{
	switch (fc->content_type) {
	case MLS_CONTENT_APPLICATION:
		bw_bytes_clear(&fc->application_data);
		break;
	case MLS_CONTENT_PROPOSAL:
		mls_proposal_clear(&fc->proposal);
		break;
	case MLS_CONTENT_COMMIT:
		mls_commit_clear(&fc->commit);
		break;
	}
	fc->content_type = 0;
}

int mls_content_body_decode(struct bw_reader *r, uint8_t content_type,
			    struct mls_framed_content *out)
{
	out->content_type = content_type;
	switch (content_type) {
	case MLS_CONTENT_APPLICATION:
		mls_read_bytes(r, MLS_MAX_APPLICATION_DATA_LEN,
			       &out->application_data);
		break;
	case MLS_CONTENT_PROPOSAL:
		mls_proposal_decode(r, &out->proposal);
		break;
	case MLS_CONTENT_COMMIT:
		mls_commit_decode(r, &out->commit);
		break;
	default:
		bw_reader_fail(r, MLS_ERR_UNKNOWN_TYPE);
	}
	if (r->err != 0)
		content_body_clear(out);
	return r->err;
}

int mls_content_body_encode(const struct mls_framed_content *in,
			    struct bw_writer *w)
{
	switch (in->content_type) {
	case MLS_CONTENT_APPLICATION:
		return mls_write_bytes(w, &in->application_data);
	case MLS_CONTENT_PROPOSAL:
		return mls_proposal_encode(&in->proposal, w);
	case MLS_CONTENT_COMMIT:
		return mls_commit_encode(&in->commit, w);
	}
	return mls_writer_fail(w, MLS_ERR_UNKNOWN_TYPE);
}

/* ---- FramedContent ---- */

int mls_framed_content_decode(struct bw_reader *r,
			      struct mls_framed_content *out)
{
	uint8_t content_type = 0;

	memset(out, 0, sizeof(*out));
	mls_read_bytes(r, MLS_MAX_GROUP_ID_LEN, &out->group_id);
	bw_read_u64(r, &out->epoch);
	mls_sender_decode(r, &out->sender);
	mls_read_bytes(r, MLS_MAX_AUTHENTICATED_DATA_LEN,
		       &out->authenticated_data);
	if (bw_read_u8(r, &content_type) == 0)
		mls_content_body_decode(r, content_type, out);
	if (r->err != 0)
		mls_framed_content_clear(out);
	return r->err;
}

int mls_framed_content_encode(const struct mls_framed_content *in,
			      struct bw_writer *w)
{
	mls_write_bytes(w, &in->group_id);
	bw_write_u64(w, in->epoch);
	mls_sender_encode(&in->sender, w);
	mls_write_bytes(w, &in->authenticated_data);
	bw_write_u8(w, in->content_type);
	return mls_content_body_encode(in, w);
}

void mls_framed_content_clear(struct mls_framed_content *fc)
{
	content_body_clear(fc);
	bw_bytes_clear(&fc->group_id);
	bw_bytes_clear(&fc->authenticated_data);
	memset(fc, 0, sizeof(*fc));
}

/* ---- FramedContentAuthData (§6.1) ---- */

int mls_auth_data_decode(struct bw_reader *r, uint8_t content_type,
			 struct mls_auth_data *out)
{
	memset(out, 0, sizeof(*out));
	mls_read_bytes(r, MLS_MAX_SIGNATURE_LEN, &out->signature);
	if (content_type == MLS_CONTENT_COMMIT)
		mls_read_bytes(r, MLS_MAX_HASH_VALUE_LEN,
			       &out->confirmation_tag);
	if (r->err != 0)
		mls_auth_data_clear(out);
	return r->err;
}

int mls_auth_data_encode(const struct mls_auth_data *in, uint8_t content_type,
			 struct bw_writer *w)
{
	mls_write_bytes(w, &in->signature);
	if (content_type == MLS_CONTENT_COMMIT)
		mls_write_bytes(w, &in->confirmation_tag);
	return w->err;
}

void mls_auth_data_clear(struct mls_auth_data *a)
{
	bw_bytes_clear(&a->signature);
	bw_bytes_clear(&a->confirmation_tag);
}

/* ---- AuthenticatedContent ---- */

/* Framed content travels only in public and private messages. */
static int framing_wire_format_check(struct bw_reader *r, uint16_t wf)
{
	if (wf < MLS_WIRE_FORMAT_PUBLIC_MESSAGE ||
	    wf > MLS_WIRE_FORMAT_KEY_PACKAGE)
		return bw_reader_fail(r, MLS_ERR_UNKNOWN_TYPE);
	if (wf != MLS_WIRE_FORMAT_PUBLIC_MESSAGE &&
	    wf != MLS_WIRE_FORMAT_PRIVATE_MESSAGE)
		return bw_reader_fail(r, MLS_ERR_WIRE_FORMAT);
	return 0;
}

int mls_authenticated_content_decode(struct bw_reader *r,
				     struct mls_authenticated_content *out)
{
	memset(out, 0, sizeof(*out));
	if (bw_read_u16(r, &out->wire_format) == 0)
		framing_wire_format_check(r, out->wire_format);
	mls_framed_content_decode(r, &out->content);
	mls_auth_data_decode(r, out->content.content_type, &out->auth);
	if (r->err != 0)
		mls_authenticated_content_clear(out);
	return r->err;
}

int mls_authenticated_content_encode(
	const struct mls_authenticated_content *in, struct bw_writer *w)
{
	bw_write_u16(w, in->wire_format);
	mls_framed_content_encode(&in->content, w);
	return mls_auth_data_encode(&in->auth, in->content.content_type, w);
}

void mls_authenticated_content_clear(struct mls_authenticated_content *ac)
{
	mls_framed_content_clear(&ac->content);
	mls_auth_data_clear(&ac->auth);
	ac->wire_format = 0;
}

/* ---- PublicMessage (§6.2) ---- */

int mls_public_message_decode(struct bw_reader *r,
			      struct mls_public_message *out)
{
	memset(out, 0, sizeof(*out));
	mls_framed_content_decode(r, &out->content);
	mls_auth_data_decode(r, out->content.content_type, &out->auth);
	if (out->content.sender.type == MLS_SENDER_MEMBER)
		mls_read_bytes(r, MLS_MAX_HASH_VALUE_LEN,
			       &out->membership_tag);
	if (r->err != 0)
		mls_public_message_clear(out);
	return r->err;
}

int mls_public_message_encode(const struct mls_public_message *in,
			      struct bw_writer *w)
{
	mls_framed_content_encode(&in->content, w);
	mls_auth_data_encode(&in->auth, in->content.content_type, w);
	if (in->content.sender.type == MLS_SENDER_MEMBER)
		mls_write_bytes(w, &in->membership_tag);
	return w->err;
}

void mls_public_message_clear(struct mls_public_message *pm)
{
	mls_framed_content_clear(&pm->content);
	mls_auth_data_clear(&pm->auth);
	bw_bytes_clear(&pm->membership_tag);
}

/* ---- PrivateMessage (§6.3) ---- */

int mls_private_message_decode(struct bw_reader *r,
			       struct mls_private_message *out)
{
	memset(out, 0, sizeof(*out));
	mls_read_bytes(r, MLS_MAX_GROUP_ID_LEN, &out->group_id);
	bw_read_u64(r, &out->epoch);
	if (bw_read_u8(r, &out->content_type) == 0 &&
	    (out->content_type < MLS_CONTENT_APPLICATION ||
	     out->content_type > MLS_CONTENT_COMMIT))
		bw_reader_fail(r, MLS_ERR_UNKNOWN_TYPE);
	mls_read_bytes(r, MLS_MAX_AUTHENTICATED_DATA_LEN,
		       &out->authenticated_data);
	mls_read_bytes(r, MAX_ENCRYPTED_SENDER_DATA_LEN,
		       &out->encrypted_sender_data);
	mls_read_bytes(r, MLS_MAX_CIPHERTEXT_LEN, &out->ciphertext);
	if (r->err != 0)
		mls_private_message_clear(out);
	return r->err;
}

int mls_private_message_encode(const struct mls_private_message *in,
			       struct bw_writer *w)
{
	mls_write_bytes(w, &in->group_id);
	bw_write_u64(w, in->epoch);
	bw_write_u8(w, in->content_type);
	mls_write_bytes(w, &in->authenticated_data);
	mls_write_bytes(w, &in->encrypted_sender_data);
	return mls_write_bytes(w, &in->ciphertext);
}

void mls_private_message_clear(struct mls_private_message *pm)
{
	bw_bytes_clear(&pm->group_id);
	bw_bytes_clear(&pm->authenticated_data);
	bw_bytes_clear(&pm->encrypted_sender_data);
	bw_bytes_clear(&pm->ciphertext);
	memset(pm, 0, sizeof(*pm));
}

/* ---- MLSMessage ---- */

static int message_body_decode(struct bw_reader *r, struct mls_message *out)
{
	switch (out->wire_format) {
	case MLS_WIRE_FORMAT_PUBLIC_MESSAGE:
		return mls_public_message_decode(r, &out->public_message);
	case MLS_WIRE_FORMAT_PRIVATE_MESSAGE:
		return mls_private_message_decode(r, &out->private_message);
	case MLS_WIRE_FORMAT_WELCOME:
		return mls_welcome_decode(r, &out->welcome);
	case MLS_WIRE_FORMAT_GROUP_INFO:
		return mls_group_info_decode(r, &out->group_info);
	case MLS_WIRE_FORMAT_KEY_PACKAGE:
		/* §10: a KeyPackage's version must be its message's. */
		if (mls_key_package_decode(r, &out->key_package) == 0 &&
		    out->key_package.version != out->version)
			bw_reader_fail(r, MLS_ERR_VERSION);
		return r->err;
	}
	return bw_reader_fail(r, MLS_ERR_UNKNOWN_TYPE);
}

int mls_message_read(struct bw_reader *r, struct mls_message *out)
{
	memset(out, 0, sizeof(*out));
	if (bw_read_u16(r, &out->version) == 0 &&
	    out->version != MLS_PROTOCOL_VERSION_MLS10)
		bw_reader_fail(r, MLS_ERR_VERSION);
	if (bw_read_u16(r, &out->wire_format) == 0)
		message_body_decode(r, out);
	if (r->err != 0)
		mls_message_clear(out);
	return r->err;
}

int mls_message_decode(const uint8_t *p, size_t n, struct mls_message *out)
{
	struct bw_reader r;
	int rc;

	bw_reader_init(&r, p, n);
	if (mls_message_read(&r, out) != 0)
		return r.err;
	if ((rc = bw_reader_finish(&r)) != 0)
		mls_message_clear(out);
	return rc;
}

int mls_message_encode(const struct mls_message *in, struct bw_writer *w)
{
	bw_write_u16(w, in->version);
	bw_write_u16(w, in->wire_format);
	switch (in->wire_format) {
	case MLS_WIRE_FORMAT_PUBLIC_MESSAGE:
		return mls_public_message_encode(&in->public_message, w);
	case MLS_WIRE_FORMAT_PRIVATE_MESSAGE:
		return mls_private_message_encode(&in->private_message, w);
	case MLS_WIRE_FORMAT_WELCOME:
		return mls_welcome_encode(&in->welcome, w);
	case MLS_WIRE_FORMAT_GROUP_INFO:
		return mls_group_info_encode(&in->group_info, w);
	case MLS_WIRE_FORMAT_KEY_PACKAGE:
		return mls_key_package_encode(&in->key_package, w);
	}
	return mls_writer_fail(w, MLS_ERR_UNKNOWN_TYPE);
}

void mls_message_clear(struct mls_message *m)
{
	switch (m->wire_format) {
	case MLS_WIRE_FORMAT_PUBLIC_MESSAGE:
		mls_public_message_clear(&m->public_message);
		break;
	case MLS_WIRE_FORMAT_PRIVATE_MESSAGE:
		mls_private_message_clear(&m->private_message);
		break;
	case MLS_WIRE_FORMAT_WELCOME:
		mls_welcome_clear(&m->welcome);
		break;
	case MLS_WIRE_FORMAT_GROUP_INFO:
		mls_group_info_clear(&m->group_info);
		break;
	case MLS_WIRE_FORMAT_KEY_PACKAGE:
		mls_key_package_clear(&m->key_package);
		break;
	}
	memset(m, 0, sizeof(*m));
}

/* admin_proto.c - frames and bodies of the administration protocol. */
#include <string.h>

#include "admin_proto.h"

const char *admin_status_text(uint16_t status)
{
	switch (status) {
#define ADMIN_STATUS_CASE(name, code, text)                                \
	case code:                                                          \
		return text;
		ADMIN_STATUSES(ADMIN_STATUS_CASE)
#undef ADMIN_STATUS_CASE
	}
	return "unknown status";
}

int admin_frame_length(const uint8_t hdr[4], size_t max, size_t *len)
{
	uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		     (uint32_t)hdr[2] << 8 | hdr[3];

	*len = 0;
	if (n == 0 || n > max)
		return PROTO_ERR_FRAME;
	*len = n;
	return 0;
}

struct admin_marks admin_request_begin(struct bw_writer *w, uint16_t op)
{
	struct admin_marks mk;

	mk.frame = w->len;
	bw_write_u32(w, 0); /* patched by admin_end */
	bw_write_u8(w, ADMIN_VERSION);
	bw_write_u16(w, op);
	mk.body = bw_write_vector_begin(w);
	return mk;
}

struct admin_marks admin_response_begin(struct bw_writer *w, uint16_t status,
					const char *text)
{
	struct admin_marks mk;

	if (text == NULL)
		text = admin_status_text(status);
	mk.frame = w->len;
	bw_write_u32(w, 0);
	bw_write_u8(w, ADMIN_VERSION);
	bw_write_u16(w, status);
	bw_write_opaque(w, text, strnlen(text, PROTO_MAX_TEXT));
	mk.body = bw_write_vector_begin(w);
	return mk;
}

int admin_end(struct bw_writer *w, struct admin_marks mk)
{
	size_t n;
	int rc;

	if ((rc = bw_write_vector_end(w, mk.body)) != 0)
		return rc;
	n = w->len - mk.frame - 4;
	if (n > ADMIN_MAX_RESPONSE) {
		w->err = PROTO_ERR_FRAME;
		return w->err;
	}
	w->buf[mk.frame] = (uint8_t)(n >> 24);
	w->buf[mk.frame + 1] = (uint8_t)(n >> 16);
	w->buf[mk.frame + 2] = (uint8_t)(n >> 8);
	w->buf[mk.frame + 3] = (uint8_t)n;
	return 0;
}

static int read_span(struct bw_reader *r, size_t max, struct proto_span *s)
{
	return bw_read_opaque(r, max, &s->p, &s->n);
}

static int write_span(struct bw_writer *w, const struct proto_span *s)
{
	return bw_write_opaque(w, s->p, s->n);
}

int admin_decode_request(const uint8_t *p, size_t n,
			 struct admin_request *out)
{
	struct bw_reader r;

	memset(out, 0, sizeof(*out));
	bw_reader_init(&r, p, n);
	bw_read_u8(&r, &out->version);
	if (r.err == 0 && out->version != ADMIN_VERSION)
		return PROTO_ERR_VERSION;
	bw_read_u16(&r, &out->op);
	read_span(&r, ADMIN_MAX_REQUEST, &out->body);
	return bw_reader_finish(&r);
}

int admin_decode_response(const uint8_t *p, size_t n,
			  struct admin_response *out)
{
	struct bw_reader r;

	memset(out, 0, sizeof(*out));
	bw_reader_init(&r, p, n);
	bw_read_u8(&r, &out->version);
	if (r.err == 0 && out->version != ADMIN_VERSION)
		return PROTO_ERR_VERSION;
	bw_read_u16(&r, &out->status);
	read_span(&r, PROTO_MAX_TEXT, &out->text);
	read_span(&r, ADMIN_MAX_RESPONSE, &out->body);
	return bw_reader_finish(&r);
}

static bool span_is_name(const struct proto_span *s, size_t max)
{
	return proto_name_valid(s->p, s->n, max);
}

int admin_decode_status_info(const struct proto_span *body,
			     struct admin_status_info *out)
{
	struct bw_reader r;

	memset(out, 0, sizeof(*out));
	bw_reader_init(&r, body->p, body->n);
	read_span(&r, ADMIN_MAX_VERSION_TEXT, &out->version);
	read_span(&r, PROTO_MAX_HOST, &out->server_name);
	read_span(&r, ADMIN_MAX_ADDRESS, &out->public_address);
	read_span(&r, ADMIN_MAX_FINGERPRINT_TEXT, &out->ca_fingerprint);
	bw_read_u16(&r, &out->mls_suite);
	bw_read_u64(&r, &out->uptime);
	bw_read_u32(&r, &out->connections);
	bw_read_u32(&r, &out->authenticated);
	bw_read_u32(&r, &out->users);
	bw_read_u32(&r, &out->devices);
	return bw_reader_finish(&r);
}

int admin_encode_status_info(struct bw_writer *w,
			     const struct admin_status_info *in)
{
	write_span(w, &in->version);
	write_span(w, &in->server_name);
	write_span(w, &in->public_address);
	write_span(w, &in->ca_fingerprint);
	bw_write_u16(w, in->mls_suite);
	bw_write_u64(w, in->uptime);
	bw_write_u32(w, in->connections);
	bw_write_u32(w, in->authenticated);
	bw_write_u32(w, in->users);
	return bw_write_u32(w, in->devices);
}

int admin_decode_user_add(const struct proto_span *body,
			  struct admin_user_add *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	bw_reader_init(&r, body->p, body->n);
	read_span(&r, PROTO_MAX_NAME, &out->name);
	read_span(&r, ADMIN_MAX_DISPLAY, &out->display_name);
	if ((rc = bw_reader_finish(&r)) != 0)
		return rc;
	if (!span_is_name(&out->name, PROTO_MAX_NAME))
		return PROTO_ERR_NAME;
	/* The display name is for people: printable, no control bytes. */
	for (size_t i = 0; i < out->display_name.n; i++)
		if (out->display_name.p[i] < 0x20 || out->display_name.p[i] == 0x7f)
			return PROTO_ERR_NAME;
	return 0;
}

int admin_encode_user_add(struct bw_writer *w,
			  const struct admin_user_add *in)
{
	write_span(w, &in->name);
	return write_span(w, &in->display_name);
}

int admin_decode_name(const struct proto_span *body, bool allow_empty,
		      struct admin_name *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	bw_reader_init(&r, body->p, body->n);
	read_span(&r, PROTO_MAX_NAME, &out->name);
	if ((rc = bw_reader_finish(&r)) != 0)
		return rc;
	if (out->name.n == 0 && allow_empty)
		return 0;
	if (!span_is_name(&out->name, PROTO_MAX_NAME))
		return PROTO_ERR_NAME;
	return 0;
}

int admin_encode_name(struct bw_writer *w, const struct admin_name *in)
{
	return write_span(w, &in->name);
}

int admin_open_list(const struct proto_span *body, struct bw_reader *list)
{
	struct bw_reader r;
	int rc;

	bw_reader_init(&r, body->p, body->n);
	if ((rc = bw_read_vector(&r, ADMIN_MAX_RESPONSE, list)) != 0)
		return rc;
	return bw_reader_finish(&r);
}

int admin_read_user(struct bw_reader *list, struct admin_user *out)
{
	memset(out, 0, sizeof(*out));
	read_span(list, PROTO_MAX_NAME, &out->name);
	read_span(list, ADMIN_MAX_DISPLAY, &out->display_name);
	bw_read_optional(list, &out->disabled);
	bw_read_u64(list, &out->created);
	bw_read_u32(list, &out->devices);
	return list->err;
}

int admin_write_user(struct bw_writer *w, const struct admin_user *in)
{
	write_span(w, &in->name);
	write_span(w, &in->display_name);
	bw_write_optional(w, in->disabled);
	bw_write_u64(w, in->created);
	return bw_write_u32(w, in->devices);
}

int admin_read_device(struct bw_reader *list, struct admin_device *out)
{
	memset(out, 0, sizeof(*out));
	read_span(list, PROTO_MAX_NAME, &out->id);
	read_span(list, PROTO_MAX_NAME, &out->user);
	read_span(list, PROTO_MAX_NAME, &out->name);
	read_span(list, ADMIN_MAX_FINGERPRINT, &out->fingerprint);
	read_span(list, ADMIN_MAX_SERIAL, &out->serial);
	bw_read_u64(list, &out->created);
	bw_read_u64(list, &out->revoked_at);
	return list->err;
}

int admin_write_device(struct bw_writer *w, const struct admin_device *in)
{
	write_span(w, &in->id);
	write_span(w, &in->user);
	write_span(w, &in->name);
	write_span(w, &in->fingerprint);
	write_span(w, &in->serial);
	bw_write_u64(w, in->created);
	return bw_write_u64(w, in->revoked_at);
}

int admin_decode_activation_create(const struct proto_span *body,
				   struct admin_activation_create *out)
{
	struct proto_kdf_params kdf;
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	bw_reader_init(&r, body->p, body->n);
	read_span(&r, PROTO_MAX_NAME, &out->user);
	read_span(&r, PROTO_MAX_CODE_ID, &out->code_id);
	read_span(&r, ADMIN_MAX_W0, &out->w0);
	read_span(&r, ADMIN_MAX_L, &out->l);
	read_span(&r, ADMIN_MAX_SALT, &out->salt);
	read_span(&r, ADMIN_MAX_KDF_PARAMS, &out->kdf_params);
	bw_read_u64(&r, &out->ttl);
	if ((rc = bw_reader_finish(&r)) != 0)
		return rc;
	if (!span_is_name(&out->user, PROTO_MAX_NAME) ||
	    !span_is_name(&out->code_id, PROTO_MAX_CODE_ID))
		return PROTO_ERR_NAME;
	if (out->w0.n == 0 || out->l.n == 0)
		return BW_ERR_BAD_VALUE;
	return proto_decode_kdf_params(out->kdf_params.p, out->kdf_params.n,
				       &kdf);
}

int admin_encode_activation_create(struct bw_writer *w,
				   const struct admin_activation_create *in)
{
	write_span(w, &in->user);
	write_span(w, &in->code_id);
	write_span(w, &in->w0);
	write_span(w, &in->l);
	write_span(w, &in->salt);
	write_span(w, &in->kdf_params);
	return bw_write_u64(w, in->ttl);
}

int admin_decode_activation_created(const struct proto_span *body,
				    struct admin_activation_created *out)
{
	struct bw_reader r;

	memset(out, 0, sizeof(*out));
	bw_reader_init(&r, body->p, body->n);
	bw_read_u64(&r, &out->expires);
	return bw_reader_finish(&r);
}

int admin_encode_activation_created(struct bw_writer *w,
				    const struct admin_activation_created *in)
{
	return bw_write_u64(w, in->expires);
}

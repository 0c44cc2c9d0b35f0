/* proto.c - envelope of the device protocol and the bodies of version 1
 * (docs/protocol.md). */
#include <string.h>

#include "proto.h"
#include "proto_int.h"

const char *proto_status_text(uint16_t status)
{
	switch (status) {
#define PROTO_STATUS_CASE(name, code, text)                                \
	case code:                                                          \
		return text;
		PROTO_STATUSES(PROTO_STATUS_CASE)
#undef PROTO_STATUS_CASE
	}
	return "unknown status";
}

const char *proto_strerror(int err)
{
	switch (err) {
#define PROTO_ERR_CASE(name, code, text)                                   \
	case code:                                                          \
		return text;
		PROTO_ERRORS(PROTO_ERR_CASE)
#undef PROTO_ERR_CASE
	}
	return bw_strerror(err);
}

int proto_read_span(struct bw_reader *r, size_t max, struct proto_span *s)
{
	return bw_read_opaque(r, max, &s->p, &s->n);
}

int proto_write_span(struct bw_writer *w, const struct proto_span *s)
{
	return bw_write_opaque(w, s->p, s->n);
}

int proto_decode(const uint8_t *p, size_t n, size_t max_body,
		 struct proto_msg *m)
{
	struct bw_reader r;

	memset(m, 0, sizeof(*m));
	bw_reader_init(&r, p, n);
	bw_read_u8(&r, &m->version);
	if (r.err == 0 && m->version != PROTO_VERSION)
		return PROTO_ERR_VERSION;
	bw_read_u8(&r, &m->kind);
	if (r.err == 0 && (m->kind < PROTO_REQUEST || m->kind > PROTO_PUSH))
		return PROTO_ERR_KIND;
	bw_read_u16(&r, &m->type);
	bw_read_u32(&r, &m->request_id);
	if (m->kind == PROTO_RESPONSE) {
		bw_read_u16(&r, &m->status);
		proto_read_span(&r, PROTO_MAX_TEXT, &m->text);
	}
	proto_read_span(&r, max_body, &m->body);
	return bw_reader_finish(&r);
}

int proto_encode(struct bw_writer *w, const struct proto_msg *m)
{
	bw_write_u8(w, m->version);
	bw_write_u8(w, m->kind);
	bw_write_u16(w, m->type);
	bw_write_u32(w, m->request_id);
	if (m->kind == PROTO_RESPONSE) {
		bw_write_u16(w, m->status);
		proto_write_span(w, &m->text);
	}
	return proto_write_span(w, &m->body);
}

int proto_encode_status(struct bw_writer *w, uint16_t type,
			uint32_t request_id, uint16_t status)
{
	const char *text = proto_status_text(status);
	struct proto_msg m = {
		.version = PROTO_VERSION,
		.kind = PROTO_RESPONSE,
		.type = type,
		.request_id = request_id,
		.status = status,
		.text = { (const uint8_t *)text, strlen(text) },
	};

	return proto_encode(w, &m);
}

size_t proto_begin(struct bw_writer *w, uint8_t kind, uint16_t type,
		   uint32_t request_id)
{
	bw_write_u8(w, PROTO_VERSION);
	bw_write_u8(w, kind);
	bw_write_u16(w, type);
	bw_write_u32(w, request_id);
	if (kind == PROTO_RESPONSE) {
		bw_write_u16(w, PROTO_OK);
		bw_write_opaque(w, NULL, 0);
	}
	return bw_write_vector_begin(w);
}

int proto_end(struct bw_writer *w, size_t mark)
{
	return bw_write_vector_end(w, mark);
}

static bool name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-';
}

bool proto_name_valid(const uint8_t *p, size_t n, size_t max)
{
	if (n == 0 || n > max || !name_char(p[0]) || p[0] == '.' ||
	    p[0] == '_' || p[0] == '-')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!name_char(p[i]))
			return false;
	return true;
}

bool proto_label_valid(const uint8_t *p, size_t n)
{
	if (n == 0 || n > PROTO_MAX_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

int proto_open_body(const struct proto_msg *m, uint8_t kind, uint16_t type,
		     struct bw_reader *r)
{
	if (m->kind != kind || m->type != type)
		return PROTO_ERR_TYPE;
	bw_reader_init(r, m->body.p, m->body.n);
	return 0;
}

int proto_decode_hello_req(const struct proto_msg *m,
			   struct proto_hello_req *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_REQUEST, PROTO_T_HELLO, &r)) != 0)
		return rc;
	bw_read_u8(&r, &out->min_version);
	bw_read_u8(&r, &out->max_version);
	proto_read_span(&r, PROTO_MAX_SOFTWARE, &out->software);
	if (r.err == 0 && out->min_version > out->max_version)
		bw_reader_fail(&r, BW_ERR_BAD_VALUE);
	return bw_reader_finish(&r);
}

int proto_encode_hello_req(struct bw_writer *w,
			   const struct proto_hello_req *in)
{
	bw_write_u8(w, in->min_version);
	bw_write_u8(w, in->max_version);
	return proto_write_span(w, &in->software);
}

int proto_decode_hello_resp(const struct proto_msg *m,
			    struct proto_hello_resp *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_RESPONSE, PROTO_T_HELLO, &r)) != 0)
		return rc;
	bw_read_u8(&r, &out->version);
	bw_read_optional(&r, &out->authenticated);
	bw_read_u32(&r, &out->max_message);
	proto_read_span(&r, PROTO_MAX_HOST, &out->server_name);
	proto_read_span(&r, PROTO_MAX_SOFTWARE, &out->software);
	return bw_reader_finish(&r);
}

int proto_encode_hello_resp(struct bw_writer *w,
			    const struct proto_hello_resp *in)
{
	bw_write_u8(w, in->version);
	bw_write_optional(w, in->authenticated);
	bw_write_u32(w, in->max_message);
	proto_write_span(w, &in->server_name);
	return proto_write_span(w, &in->software);
}

/* PING has the same body in both directions. */
int proto_decode_ping(const struct proto_msg *m, struct proto_ping *out)
{
	struct bw_reader r;

	memset(out, 0, sizeof(*out));
	if (m->type != PROTO_T_PING || m->kind == PROTO_PUSH)
		return PROTO_ERR_TYPE;
	bw_reader_init(&r, m->body.p, m->body.n);
	proto_read_span(&r, PROTO_MAX_PING, &out->data);
	return bw_reader_finish(&r);
}

int proto_encode_ping(struct bw_writer *w, const struct proto_ping *in)
{
	return proto_write_span(w, &in->data);
}

int proto_decode_whoami_resp(const struct proto_msg *m,
			     struct proto_whoami_resp *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_RESPONSE, PROTO_T_WHOAMI, &r)) != 0)
		return rc;
	proto_read_span(&r, PROTO_MAX_NAME, &out->user);
	proto_read_span(&r, PROTO_MAX_NAME, &out->device_id);
	proto_read_span(&r, PROTO_MAX_NAME, &out->device_name);
	bw_read_u64(&r, &out->server_time);
	return bw_reader_finish(&r);
}

int proto_encode_whoami_resp(struct bw_writer *w,
			     const struct proto_whoami_resp *in)
{
	proto_write_span(w, &in->user);
	proto_write_span(w, &in->device_id);
	proto_write_span(w, &in->device_name);
	return bw_write_u64(w, in->server_time);
}

int proto_decode_kdf_params(const uint8_t *p, size_t n,
			    struct proto_kdf_params *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	bw_reader_init(&r, p, n);
	bw_read_u16(&r, &out->kdf);
	bw_read_u64(&r, &out->n);
	bw_read_u32(&r, &out->r);
	bw_read_u32(&r, &out->p);
	if ((rc = bw_reader_finish(&r)) != 0)
		return rc;
	return out->kdf == PROTO_KDF_SCRYPT ? 0 : BW_ERR_BAD_VALUE;
}

int proto_encode_kdf_params(struct bw_writer *w,
			    const struct proto_kdf_params *in)
{
	bw_write_u16(w, in->kdf);
	bw_write_u64(w, in->n);
	bw_write_u32(w, in->r);
	return bw_write_u32(w, in->p);
}

static int check_names(const struct proto_span *user,
		       const struct proto_span *code_id)
{
	if (!proto_name_valid(user->p, user->n, PROTO_MAX_NAME) ||
	    !proto_name_valid(code_id->p, code_id->n, PROTO_MAX_CODE_ID))
		return PROTO_ERR_NAME;
	return 0;
}

int proto_decode_activate_params_req(const struct proto_msg *m,
				     struct proto_activate_params_req *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_REQUEST, PROTO_T_ACTIVATE_PARAMS, &r)) !=
	    0)
		return rc;
	proto_read_span(&r, PROTO_MAX_NAME, &out->user);
	proto_read_span(&r, PROTO_MAX_CODE_ID, &out->code_id);
	if ((rc = bw_reader_finish(&r)) != 0)
		return rc;
	return check_names(&out->user, &out->code_id);
}

int proto_encode_activate_params_req(
	struct bw_writer *w, const struct proto_activate_params_req *in)
{
	proto_write_span(w, &in->user);
	return proto_write_span(w, &in->code_id);
}

int proto_decode_activate_params_resp(const struct proto_msg *m,
				      struct proto_activate_params_resp *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_RESPONSE, PROTO_T_ACTIVATE_PARAMS, &r)) !=
	    0)
		return rc;
	proto_read_span(&r, PROTO_MAX_SALT, &out->salt);
	proto_read_span(&r, PROTO_MAX_KDF_PARAMS, &out->kdf_params);
	return bw_reader_finish(&r);
}

int proto_encode_activate_params_resp(
	struct bw_writer *w, const struct proto_activate_params_resp *in)
{
	proto_write_span(w, &in->salt);
	return proto_write_span(w, &in->kdf_params);
}

int proto_decode_activate_start_req(const struct proto_msg *m,
				    struct proto_activate_start_req *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_REQUEST, PROTO_T_ACTIVATE_START, &r)) != 0)
		return rc;
	proto_read_span(&r, PROTO_MAX_NAME, &out->user);
	proto_read_span(&r, PROTO_MAX_CODE_ID, &out->code_id);
	proto_read_span(&r, PROTO_MAX_SHARE, &out->share_p);
	if ((rc = bw_reader_finish(&r)) != 0)
		return rc;
	return check_names(&out->user, &out->code_id);
}

int proto_encode_activate_start_req(struct bw_writer *w,
				    const struct proto_activate_start_req *in)
{
	proto_write_span(w, &in->user);
	proto_write_span(w, &in->code_id);
	return proto_write_span(w, &in->share_p);
}

int proto_decode_activate_start_resp(const struct proto_msg *m,
				     struct proto_activate_start_resp *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_RESPONSE, PROTO_T_ACTIVATE_START, &r)) !=
	    0)
		return rc;
	proto_read_span(&r, PROTO_MAX_SHARE, &out->share_v);
	proto_read_span(&r, PROTO_MAX_CONFIRM, &out->confirm_v);
	return bw_reader_finish(&r);
}

int proto_encode_activate_start_resp(
	struct bw_writer *w, const struct proto_activate_start_resp *in)
{
	proto_write_span(w, &in->share_v);
	return proto_write_span(w, &in->confirm_v);
}

int proto_decode_activate_finish_req(const struct proto_msg *m,
				     struct proto_activate_finish_req *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_REQUEST, PROTO_T_ACTIVATE_FINISH, &r)) !=
	    0)
		return rc;
	proto_read_span(&r, PROTO_MAX_CONFIRM, &out->confirm_p);
	proto_read_span(&r, PROTO_MAX_SPKI, &out->spki);
	proto_read_span(&r, PROTO_MAX_NAME, &out->device_name);
	if ((rc = bw_reader_finish(&r)) != 0)
		return rc;
	if (!proto_label_valid(out->device_name.p, out->device_name.n))
		return PROTO_ERR_NAME;
	return 0;
}

int proto_encode_activate_finish_req(
	struct bw_writer *w, const struct proto_activate_finish_req *in)
{
	proto_write_span(w, &in->confirm_p);
	proto_write_span(w, &in->spki);
	return proto_write_span(w, &in->device_name);
}

int proto_decode_activate_finish_resp(const struct proto_msg *m,
				      struct proto_activate_finish_resp *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_RESPONSE, PROTO_T_ACTIVATE_FINISH, &r)) !=
	    0)
		return rc;
	proto_read_span(&r, PROTO_MAX_NAME, &out->device_id);
	proto_read_span(&r, PROTO_MAX_CERT, &out->cert);
	proto_read_span(&r, PROTO_MAX_CERT, &out->ca_cert);
	return bw_reader_finish(&r);
}

int proto_encode_activate_finish_resp(
	struct bw_writer *w, const struct proto_activate_finish_resp *in)
{
	proto_write_span(w, &in->device_id);
	proto_write_span(w, &in->cert);
	return proto_write_span(w, &in->ca_cert);
}

void proto_activation_context(
	const uint8_t exporter[PROTO_ACTIVATION_EXPORTER_LEN], uint8_t *out)
{
	size_t prefix = sizeof(PROTO_ACTIVATION_CONTEXT_PREFIX) - 1;

	memcpy(out, PROTO_ACTIVATION_CONTEXT_PREFIX, prefix);
	memcpy(out + prefix, exporter, PROTO_ACTIVATION_EXPORTER_LEN);
}

size_t proto_activation_id_prover(const uint8_t *user, size_t user_len,
				  const uint8_t *code_id, size_t code_id_len,
				  uint8_t *out)
{
	if (user_len > PROTO_MAX_NAME || code_id_len > PROTO_MAX_CODE_ID)
		return 0;
	memcpy(out, user, user_len);
	out[user_len] = '/';
	memcpy(out + user_len + 1, code_id, code_id_len);
	return user_len + 1 + code_id_len;
}

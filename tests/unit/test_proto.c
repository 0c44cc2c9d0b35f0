/* test_proto.c - the device and administration protocols (lib/proto):
 * round trips, every limit, names, and refusal of malformed input. */
#include <stdlib.h>
#include <string.h>

#include "admin_proto.h"
#include "proto.h"
#include "test.h"

#define SPAN(s) ((struct proto_span){ (const uint8_t *)(s), sizeof(s) - 1 })

/* Encode a request of type with the body written by the caller into w. */
static bool encode_request(struct bw_writer *out, uint16_t type,
			   uint32_t id, const struct bw_writer *body)
{
	struct proto_msg m = {
		.version = PROTO_VERSION, .kind = PROTO_REQUEST, .type = type,
		.request_id = id, .body = { body->buf, body->len },
	};

	CHECK(proto_encode(out, &m) == 0);
	return true;
}

static bool test_envelope_round_trip(void)
{
	struct bw_writer body, w;
	struct proto_hello_req hello = { 1, 1, SPAN("bulwark/1") }, got;
	struct proto_msg m;

	bw_writer_init(&body, 0);
	bw_writer_init(&w, 0);
	CHECK(proto_encode_hello_req(&body, &hello) == 0);
	CHECK(encode_request(&w, PROTO_T_HELLO, 42, &body));
	CHECK(proto_decode(w.buf, w.len, PROTO_MAX_MESSAGE_PREAUTH, &m) == 0);
	CHECK_EQ_INT(m.kind, PROTO_REQUEST);
	CHECK_EQ_INT(m.type, PROTO_T_HELLO);
	CHECK_EQ_INT(m.request_id, 42);
	CHECK(proto_decode_hello_req(&m, &got) == 0);
	CHECK_EQ_INT(got.max_version, 1);
	CHECK_MEM(got.software.p, got.software.n, "bulwark/1", 9);
	/* The wrong decoder for the type is refused. */
	{
		struct proto_activate_start_req s;

		CHECK_EQ_INT(proto_decode_activate_start_req(&m, &s),
			     PROTO_ERR_TYPE);
	}
	/* Every truncation fails, and so does a trailing byte. */
	for (size_t n = 0; n < w.len; n++)
		CHECK(proto_decode(w.buf, n, PROTO_MAX_MESSAGE_PREAUTH, &m) != 0);
	CHECK(bw_write_u8(&w, 0) == 0);
	CHECK_EQ_INT(proto_decode(w.buf, w.len, PROTO_MAX_MESSAGE_PREAUTH, &m),
		     BW_ERR_TRAILING);
	bw_writer_free(&body);
	bw_writer_free(&w);
	return true;
}

static bool test_envelope_header_checks(void)
{
	uint8_t bad_version[] = { 2, 1, 0, 1, 0, 0, 0, 1, 0 };
	uint8_t bad_kind[] = { 1, 4, 0, 1, 0, 0, 0, 1, 0 };
	struct proto_msg m;

	CHECK_EQ_INT(proto_decode(bad_version, sizeof(bad_version), 100, &m),
		     PROTO_ERR_VERSION);
	CHECK_EQ_INT(proto_decode(bad_kind, sizeof(bad_kind), 100, &m),
		     PROTO_ERR_KIND);
	return true;
}

/* The body limit is the caller's: tighter before authentication. */
static bool test_body_limit(void)
{
	struct bw_writer body, w;
	struct proto_msg m;
	uint8_t *big = calloc(1, PROTO_MAX_MESSAGE_PREAUTH + 1);

	CHECK(big != NULL);
	bw_writer_init(&body, 0);
	bw_writer_init(&w, 0);
	CHECK(bw_write_bytes(&body, big, PROTO_MAX_MESSAGE_PREAUTH + 1) == 0);
	CHECK(encode_request(&w, PROTO_T_PING, 1, &body));
	CHECK_EQ_INT(proto_decode(w.buf, w.len, PROTO_MAX_MESSAGE_PREAUTH, &m),
		     BW_ERR_TOO_LONG);
	CHECK(proto_decode(w.buf, w.len, PROTO_MAX_MESSAGE_AUTH, &m) == 0);
	/* ...and each field has its own: a ping payload is short. */
	{
		struct proto_ping ping;

		CHECK(proto_decode_ping(&m, &ping) != 0);
	}
	free(big);
	bw_writer_free(&body);
	bw_writer_free(&w);
	return true;
}

static bool test_response_status(void)
{
	struct bw_writer w;
	struct proto_msg m;

	bw_writer_init(&w, 0);
	CHECK(proto_encode_status(&w, 0x0777, 9, PROTO_E_UNKNOWN_TYPE) == 0);
	CHECK(proto_decode(w.buf, w.len, 0, &m) == 0);
	CHECK_EQ_INT(m.kind, PROTO_RESPONSE);
	CHECK_EQ_INT(m.type, 0x0777);
	CHECK_EQ_INT(m.request_id, 9);
	CHECK_EQ_INT(m.status, PROTO_E_UNKNOWN_TYPE);
	CHECK_MEM(m.text.p, m.text.n, "unknown message type", 20);
	CHECK(strcmp(proto_status_text(999), "unknown status") == 0);
	bw_writer_free(&w);
	return true;
}

static bool test_names(void)
{
	CHECK(proto_name_valid((const uint8_t *)"alice", 5, PROTO_MAX_NAME));
	CHECK(proto_name_valid((const uint8_t *)"a.b_c-9", 7, PROTO_MAX_NAME));
	CHECK(!proto_name_valid((const uint8_t *)"", 0, PROTO_MAX_NAME));
	CHECK(!proto_name_valid((const uint8_t *)"-a", 2, PROTO_MAX_NAME));
	CHECK(!proto_name_valid((const uint8_t *)"Alice", 5, PROTO_MAX_NAME));
	CHECK(!proto_name_valid((const uint8_t *)"a/b", 3, PROTO_MAX_NAME));
	CHECK(!proto_name_valid((const uint8_t *)"abc", 3, 2));
	CHECK(proto_label_valid((const uint8_t *)"Alice's phone", 13));
	CHECK(!proto_label_valid((const uint8_t *)"a\nb", 3));
	return true;
}

/* Activation bodies: the names in them are checked by the decoder. */
static bool test_activation_bodies(void)
{
	struct proto_activate_start_req in = { SPAN("alice"), SPAN("code-1"),
					       SPAN("\x04share") }, out;
	struct proto_activate_start_req bad = { SPAN("Alice"), SPAN("c"),
						SPAN("x") };
	struct bw_writer body, w;
	struct proto_msg m;

	bw_writer_init(&body, 0);
	bw_writer_init(&w, 0);
	CHECK(proto_encode_activate_start_req(&body, &in) == 0);
	CHECK(encode_request(&w, PROTO_T_ACTIVATE_START, 3, &body));
	CHECK(proto_decode(w.buf, w.len, PROTO_MAX_MESSAGE_PREAUTH, &m) == 0);
	CHECK(proto_decode_activate_start_req(&m, &out) == 0);
	CHECK_MEM(out.code_id.p, out.code_id.n, "code-1", 6);
	bw_writer_reset(&body);
	bw_writer_reset(&w);
	CHECK(proto_encode_activate_start_req(&body, &bad) == 0);
	CHECK(encode_request(&w, PROTO_T_ACTIVATE_START, 3, &body));
	CHECK(proto_decode(w.buf, w.len, PROTO_MAX_MESSAGE_PREAUTH, &m) == 0);
	CHECK_EQ_INT(proto_decode_activate_start_req(&m, &out), PROTO_ERR_NAME);
	bw_writer_free(&body);
	bw_writer_free(&w);
	return true;
}

static bool test_activation_context(void)
{
	uint8_t exporter[PROTO_ACTIVATION_EXPORTER_LEN];
	uint8_t ctx[PROTO_ACTIVATION_CONTEXT_LEN];
	uint8_t id[PROTO_MAX_ID_PROVER];
	size_t prefix = sizeof(PROTO_ACTIVATION_CONTEXT_PREFIX) - 1;
	size_t n;

	memset(exporter, 0xab, sizeof(exporter));
	proto_activation_context(exporter, ctx);
	CHECK_MEM(ctx, prefix, PROTO_ACTIVATION_CONTEXT_PREFIX, prefix);
	CHECK_MEM(ctx + prefix, sizeof(exporter), exporter, sizeof(exporter));
	n = proto_activation_id_prover((const uint8_t *)"alice", 5,
				       (const uint8_t *)"k1", 2, id);
	CHECK_MEM(id, n, "alice/k1", 8);
	return true;
}

static bool test_kdf_params(void)
{
	struct proto_kdf_params in = { PROTO_KDF_SCRYPT, 32768, 8, 1 }, out;
	uint8_t buf[PROTO_MAX_KDF_PARAMS];
	struct bw_writer w;

	bw_writer_init_fixed(&w, buf, sizeof(buf));
	CHECK(proto_encode_kdf_params(&w, &in) == 0);
	CHECK(proto_decode_kdf_params(buf, w.len, &out) == 0);
	CHECK_EQ_INT(out.n, 32768);
	CHECK_EQ_INT(out.r, 8);
	buf[1] = 2; /* an unknown KDF */
	CHECK_EQ_INT(proto_decode_kdf_params(buf, w.len, &out),
		     BW_ERR_BAD_VALUE);
	return true;
}

/* ---- administration protocol ---- */

static bool frame_payload(const struct bw_writer *w, const uint8_t **p,
			  size_t *n)
{
	CHECK(w->len >= 4);
	CHECK(admin_frame_length(w->buf, ADMIN_MAX_RESPONSE, n) == 0);
	CHECK_EQ_INT(*n, w->len - 4);
	*p = w->buf + 4;
	return true;
}

static bool test_admin_request_round_trip(void)
{
	struct admin_user_add add = { SPAN("bob"), SPAN("Bob B.") }, got;
	struct admin_request req;
	struct admin_marks mk;
	struct bw_writer w;
	const uint8_t *p;
	size_t n;

	bw_writer_init(&w, 0);
	mk = admin_request_begin(&w, ADMIN_OP_USER_ADD);
	CHECK(admin_encode_user_add(&w, &add) == 0);
	CHECK(admin_end(&w, mk) == 0);
	CHECK(frame_payload(&w, &p, &n));
	CHECK(admin_decode_request(p, n, &req) == 0);
	CHECK_EQ_INT(req.op, ADMIN_OP_USER_ADD);
	CHECK(admin_decode_user_add(&req.body, &got) == 0);
	CHECK_MEM(got.display_name.p, got.display_name.n, "Bob B.", 6);
	bw_writer_free(&w);
	return true;
}

static bool test_admin_list_response(void)
{
	struct admin_user u1 = { SPAN("alice"), SPAN("Alice"), false, 1, 2 };
	struct admin_user u2 = { SPAN("bob"), SPAN(""), true, 3, 0 }, got;
	struct admin_response resp;
	struct bw_reader list;
	struct admin_marks mk;
	struct bw_writer w;
	const uint8_t *p;
	size_t n, v;

	bw_writer_init(&w, 0);
	mk = admin_response_begin(&w, ADMIN_OK, NULL);
	v = bw_write_vector_begin(&w);
	admin_write_user(&w, &u1);
	admin_write_user(&w, &u2);
	CHECK(bw_write_vector_end(&w, v) == 0);
	CHECK(admin_end(&w, mk) == 0);
	CHECK(frame_payload(&w, &p, &n));
	CHECK(admin_decode_response(p, n, &resp) == 0);
	CHECK_EQ_INT(resp.status, ADMIN_OK);
	CHECK(admin_open_list(&resp.body, &list) == 0);
	CHECK(admin_read_user(&list, &got) == 0);
	CHECK_MEM(got.name.p, got.name.n, "alice", 5);
	CHECK_EQ_INT(got.devices, 2);
	CHECK(admin_read_user(&list, &got) == 0);
	CHECK(got.disabled);
	CHECK_EQ_INT(bw_reader_remaining(&list), 0);
	bw_writer_free(&w);
	return true;
}

static bool test_admin_refusals(void)
{
	uint8_t hdr_big[4] = { 0, 1, 0, 0 }; /* 64 KiB > request limit */
	uint8_t hdr_zero[4] = { 0 };
	uint8_t unknown_version[] = { 9, 0, 1, 0 };
	struct admin_activation_create act = {
		SPAN("alice"), SPAN("c1"), SPAN("w0"), SPAN("L"), SPAN("salt"),
		SPAN("\x00\x01"), 0 }, got;
	struct admin_request req;
	struct proto_span body;
	struct bw_writer w;
	size_t n;

	CHECK_EQ_INT(admin_frame_length(hdr_big, ADMIN_MAX_REQUEST, &n),
		     PROTO_ERR_FRAME);
	CHECK_EQ_INT(admin_frame_length(hdr_zero, ADMIN_MAX_REQUEST, &n),
		     PROTO_ERR_FRAME);
	CHECK_EQ_INT(admin_decode_request(unknown_version,
					  sizeof(unknown_version), &req),
		     PROTO_ERR_VERSION);
	/* KDF parameters that do not decode are refused. */
	bw_writer_init(&w, 0);
	CHECK(admin_encode_activation_create(&w, &act) == 0);
	body = (struct proto_span){ w.buf, w.len };
	CHECK(admin_decode_activation_create(&body, &got) != 0);
	bw_writer_free(&w);
	return true;
}

int main(void)
{
	int failed = 0;

	RUN(test_envelope_round_trip, &failed);
	RUN(test_envelope_header_checks, &failed);
	RUN(test_body_limit, &failed);
	RUN(test_response_status, &failed);
	RUN(test_names, &failed);
	RUN(test_activation_bodies, &failed);
	RUN(test_activation_context, &failed);
	RUN(test_kdf_params, &failed);
	RUN(test_admin_request_round_trip, &failed);
	RUN(test_admin_list_response, &failed);
	RUN(test_admin_refusals, &failed);
	return failed ? 1 : 0;
}

/* fuzz_protocol.c - the device protocol's decoders (lib/proto): the
 * envelope under both limits and every body. Whatever decodes must encode
 * back to the same bytes (the encoding is canonical). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Re-encode a decoded envelope and compare. */
static void check_envelope(const uint8_t *data, size_t size,
			   const struct proto_msg *m)
{
	struct bw_writer w;

	bw_writer_init(&w, 0);
	if (proto_encode(&w, m) != 0 || w.len != size ||
	    memcmp(w.buf, data, size) != 0)
		abort();
	bw_writer_free(&w);
}

/* Decode body as type T with decoder D and re-encode it with E. */
#define ROUND_TRIP(T, D, E)                                                 \
	do {                                                                \
		T v_;                                                       \
		struct bw_writer w_;                                        \
		if (D(m, &v_) == 0) {                                       \
			bw_writer_init(&w_, 0);                             \
			if (E(&w_, &v_) != 0 || w_.len != m->body.n ||      \
			    memcmp(w_.buf, m->body.p, w_.len) != 0)         \
				abort();                                    \
			bw_writer_free(&w_);                                \
		}                                                           \
	} while (0)

static void check_bodies(const struct proto_msg *m)
{
	struct proto_kdf_params kdf;

	ROUND_TRIP(struct proto_hello_req, proto_decode_hello_req,
		   proto_encode_hello_req);
	ROUND_TRIP(struct proto_hello_resp, proto_decode_hello_resp,
		   proto_encode_hello_resp);
	ROUND_TRIP(struct proto_ping, proto_decode_ping, proto_encode_ping);
	ROUND_TRIP(struct proto_whoami_resp, proto_decode_whoami_resp,
		   proto_encode_whoami_resp);
	ROUND_TRIP(struct proto_activate_params_req,
		   proto_decode_activate_params_req,
		   proto_encode_activate_params_req);
	ROUND_TRIP(struct proto_activate_params_resp,
		   proto_decode_activate_params_resp,
		   proto_encode_activate_params_resp);
	ROUND_TRIP(struct proto_activate_start_req,
		   proto_decode_activate_start_req,
		   proto_encode_activate_start_req);
	ROUND_TRIP(struct proto_activate_start_resp,
		   proto_decode_activate_start_resp,
		   proto_encode_activate_start_resp);
	ROUND_TRIP(struct proto_activate_finish_req,
		   proto_decode_activate_finish_req,
		   proto_encode_activate_finish_req);
	ROUND_TRIP(struct proto_activate_finish_resp,
		   proto_decode_activate_finish_resp,
		   proto_encode_activate_finish_resp);
	(void)proto_decode_kdf_params(m->body.p, m->body.n, &kdf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg m;
	uint16_t types[] = { PROTO_T_HELLO, PROTO_T_PING, PROTO_T_WHOAMI,
			     PROTO_T_ACTIVATE_PARAMS, PROTO_T_ACTIVATE_START,
			     PROTO_T_ACTIVATE_FINISH };

	if (proto_decode(data, size, PROTO_MAX_MESSAGE_PREAUTH, &m) == 0)
		check_envelope(data, size, &m);
	if (proto_decode(data, size, PROTO_MAX_MESSAGE_AUTH, &m) != 0)
		return 0;
	check_envelope(data, size, &m);
	/* The body as each type, in each kind the decoders accept. */
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		m.type = types[i];
		m.kind = PROTO_REQUEST;
		check_bodies(&m);
		m.kind = PROTO_RESPONSE;
		check_bodies(&m);
	}
	return 0;
}

/* fuzz_protocol.c - the device protocol's decoders (lib/proto): the
 * envelope under both limits and every body, the conversation messages'
 * lists and the x509 credential included. Whatever decodes must encode
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

/* The DS credential: its certificates re-encoded are the same bytes. */
static void check_credential(const struct proto_msg *m)
{
	struct proto_span certs[8];
	struct bw_writer w;
	size_t n;

	if (proto_decode_x509_credential(&m->body, certs, 8, &n) != 0)
		return;
	bw_writer_init(&w, 0);
	if (proto_encode_x509_credential(&w, certs, n) != 0 ||
	    w.len != m->body.n || memcmp(w.buf, m->body.p, w.len) != 0)
		abort();
	bw_writer_free(&w);
}

/* Every item of a decoded list reads back; none is left over. */
static void walk_lists(const struct proto_msg *m)
{
	struct proto_kp_upload_req up;
	struct proto_kp_claim_req req;
	struct proto_kp_claim_resp resp;
	struct proto_group_list_resp list;
	struct proto_queue_ack_req acks;
	union {
		struct proto_span s;
		struct proto_claim c;
		struct proto_group_entry g;
		struct proto_ack a;
	} item;
	struct bw_reader it;
	uint32_t n;

#define WALK(L, NEXT)                                                       \
	do {                                                                \
		proto_list_iter(&(L), &it);                                 \
		for (n = 0; NEXT(&it, (void *)&item); n++)                  \
			;                                                   \
		if (n != (L).count || bw_reader_remaining(&it) != 0)         \
			abort();                                            \
	} while (0)
	if (proto_decode_kp_upload_req(m, &up) == 0)
		WALK(up.key_packages, proto_next_key_package);
	if (proto_decode_kp_claim_req(m, &req) == 0)
		WALK(req.users, proto_next_user);
	if (proto_decode_kp_claim_resp(m, &resp) == 0)
		WALK(resp.claims, proto_next_claim);
	if (proto_decode_group_list_resp(m, &list) == 0)
		WALK(list.groups, proto_next_group);
	if (proto_decode_queue_ack_req(m, &acks) == 0)
		WALK(acks.acks, proto_next_ack);
#undef WALK
}

static void check_conversation_bodies(const struct proto_msg *m)
{
	ROUND_TRIP(struct proto_server_info, proto_decode_server_info,
		   proto_encode_server_info);
	ROUND_TRIP(struct proto_kp_upload_req, proto_decode_kp_upload_req,
		   proto_encode_kp_upload_req);
	ROUND_TRIP(struct proto_kp_count, proto_decode_kp_count,
		   proto_encode_kp_count);
	ROUND_TRIP(struct proto_kp_low, proto_decode_kp_low,
		   proto_encode_kp_low);
	ROUND_TRIP(struct proto_kp_claim_req, proto_decode_kp_claim_req,
		   proto_encode_kp_claim_req);
	ROUND_TRIP(struct proto_kp_claim_resp, proto_decode_kp_claim_resp,
		   proto_encode_kp_claim_resp);
	ROUND_TRIP(struct proto_group_create_req,
		   proto_decode_group_create_req,
		   proto_encode_group_create_req);
	ROUND_TRIP(struct proto_epoch, proto_decode_epoch, proto_encode_epoch);
	ROUND_TRIP(struct proto_group_commit_req,
		   proto_decode_group_commit_req,
		   proto_encode_group_commit_req);
	ROUND_TRIP(struct proto_seq_epoch, proto_decode_seq_epoch,
		   proto_encode_seq_epoch);
	ROUND_TRIP(struct proto_group_message_req,
		   proto_decode_group_message_req,
		   proto_encode_group_message_req);
	ROUND_TRIP(struct proto_seq, proto_decode_seq, proto_encode_seq);
	ROUND_TRIP(struct proto_group_ref, proto_decode_group_ref,
		   proto_encode_group_ref);
	ROUND_TRIP(struct proto_group_info_resp, proto_decode_group_info_resp,
		   proto_encode_group_info_resp);
	ROUND_TRIP(struct proto_group_list_resp, proto_decode_group_list_resp,
		   proto_encode_group_list_resp);
	ROUND_TRIP(struct proto_queue_ack_req, proto_decode_queue_ack_req,
		   proto_encode_queue_ack_req);
	ROUND_TRIP(struct proto_deliver, proto_decode_deliver,
		   proto_encode_deliver);
	ROUND_TRIP(struct proto_stale_epoch, proto_decode_stale_epoch,
		   proto_encode_stale_epoch);
	(void)proto_decode_empty(m);
	walk_lists(m);
	check_credential(m);
}

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
	check_conversation_bodies(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg m;
	uint16_t types[] = { PROTO_T_HELLO, PROTO_T_PING, PROTO_T_WHOAMI,
			     PROTO_T_ACTIVATE_PARAMS, PROTO_T_ACTIVATE_START,
			     PROTO_T_ACTIVATE_FINISH, PROTO_T_SERVER_INFO,
			     PROTO_T_KP_UPLOAD, PROTO_T_KP_CLAIM,
			     PROTO_T_KP_COUNT, PROTO_T_GROUP_CREATE,
			     PROTO_T_GROUP_COMMIT, PROTO_T_GROUP_PROPOSE,
			     PROTO_T_GROUP_SEND, PROTO_T_GROUP_INFO,
			     PROTO_T_GROUP_LIST, PROTO_T_QUEUE_ACK,
			     PROTO_T_KP_LOW, PROTO_T_DELIVER };

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
		m.status = PROTO_E_STALE_EPOCH;
		check_bodies(&m);
		m.status = 0;
		m.kind = PROTO_PUSH;
		check_bodies(&m);
	}
	return 0;
}

/* test_ds_proto.c - the conversation messages of the device protocol
 * (lib/proto/proto_conv.c): every body round trips, lists hold what was
 * put in them, and every limit and malformed shape is refused. */
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "test.h"

#define SPAN(s) ((struct proto_span){ (const uint8_t *)(s), sizeof(s) - 1 })

static const uint8_t key16[PROTO_IDEMPOTENCY_KEY_LEN] = "0123456789abcdef";

/* A message of kind and type whose body is w's. */
static struct proto_msg msg_of(uint8_t kind, uint16_t type,
			       const struct bw_writer *w)
{
	return (struct proto_msg){ .version = PROTO_VERSION, .kind = kind,
				   .type = type,
				   .body = { w->buf, w->len } };
}

static bool test_server_info(void)
{
	struct proto_span certs[2] = { SPAN("cert-one"), SPAN("cert-two") },
			  got[2], one[1];
	struct proto_server_info in = { 2, SPAN("key"), { NULL, 0 } }, out;
	struct bw_writer cred, w;
	struct proto_msg m;
	size_t n;

	bw_writer_init(&cred, 0);
	bw_writer_init(&w, 0);
	CHECK(proto_encode_x509_credential(&cred, certs, 2) == 0);
	in.ds_credential = (struct proto_span){ cred.buf, cred.len };
	CHECK(proto_encode_server_info(&w, &in) == 0);
	m = msg_of(PROTO_RESPONSE, PROTO_T_SERVER_INFO, &w);
	CHECK(proto_decode_server_info(&m, &out) == 0);
	CHECK_EQ_INT(out.mls_suite, 2);
	CHECK_MEM(out.ds_signature_key.p, out.ds_signature_key.n, "key", 3);
	CHECK(proto_decode_x509_credential(&out.ds_credential, got, 2, &n) ==
	      0);
	CHECK_EQ_INT(n, 2);
	CHECK_MEM(got[1].p, got[1].n, "cert-two", 8);
	/* Room for fewer certificates than there are. */
	CHECK_EQ_INT(proto_decode_x509_credential(&out.ds_credential, one, 1,
						  &n),
		     BW_ERR_TOO_LONG);
	/* A basic credential (type 1) is not an x509 one. */
	cred.buf[1] = 1;
	CHECK_EQ_INT(proto_decode_x509_credential(
			     &(struct proto_span){ cred.buf, cred.len }, got, 2,
			     &n),
		     BW_ERR_BAD_VALUE);
	/* As a request it is another message. */
	m.kind = PROTO_REQUEST;
	CHECK_EQ_INT(proto_decode_server_info(&m, &out), PROTO_ERR_TYPE);
	bw_writer_free(&cred);
	bw_writer_free(&w);
	return true;
}

static bool test_kp_upload(void)
{
	struct proto_kp_upload_req out;
	struct proto_span kp;
	struct bw_reader it;
	struct bw_writer w;
	struct proto_msg m;
	size_t list;
	int n = 0;

	bw_writer_init(&w, 0);
	list = bw_write_vector_begin(&w);
	proto_write_key_package(&w, &SPAN("kp-1"));
	proto_write_key_package(&w, &SPAN("kp-2"));
	bw_write_vector_end(&w, list);
	bw_write_optional(&w, true);
	bw_write_opaque(&w, "last", 4);
	m = msg_of(PROTO_REQUEST, PROTO_T_KP_UPLOAD, &w);
	CHECK(proto_decode_kp_upload_req(&m, &out) == 0);
	CHECK_EQ_INT(out.key_packages.count, 2);
	CHECK(out.has_last_resort);
	CHECK_MEM(out.last_resort.p, out.last_resort.n, "last", 4);
	proto_list_iter(&out.key_packages, &it);
	while (proto_next_key_package(&it, &kp))
		n++;
	CHECK_EQ_INT(n, 2);
	{
		struct bw_writer again;

		bw_writer_init(&again, 0);
		CHECK(proto_encode_kp_upload_req(&again, &out) == 0);
		CHECK_MEM(again.buf, again.len, w.buf, w.len);
		bw_writer_free(&again);
	}
	/* Nothing at all to upload is malformed. */
	bw_writer_reset(&w);
	w.err = 0;
	list = bw_write_vector_begin(&w);
	bw_write_vector_end(&w, list);
	bw_write_optional(&w, false);
	m = msg_of(PROTO_REQUEST, PROTO_T_KP_UPLOAD, &w);
	CHECK_EQ_INT(proto_decode_kp_upload_req(&m, &out), BW_ERR_BAD_VALUE);
	bw_writer_free(&w);
	return true;
}

static bool test_kp_upload_limits(void)
{
	uint8_t *big = calloc(1, PROTO_MAX_KEY_PACKAGE + 1);
	struct proto_kp_upload_req out;
	struct bw_writer w;
	struct proto_msg m;
	size_t list;

	CHECK(big != NULL);
	bw_writer_init(&w, 0);
	list = bw_write_vector_begin(&w);
	for (unsigned i = 0; i <= PROTO_MAX_UPLOAD_KEY_PACKAGES; i++)
		bw_write_opaque(&w, "kp", 2);
	bw_write_vector_end(&w, list);
	bw_write_optional(&w, false);
	m = msg_of(PROTO_REQUEST, PROTO_T_KP_UPLOAD, &w);
	CHECK_EQ_INT(proto_decode_kp_upload_req(&m, &out), BW_ERR_TOO_LONG);
	bw_writer_reset(&w);
	w.err = 0;
	list = bw_write_vector_begin(&w);
	bw_write_opaque(&w, big, PROTO_MAX_KEY_PACKAGE + 1);
	bw_write_vector_end(&w, list);
	bw_write_optional(&w, false);
	m = msg_of(PROTO_REQUEST, PROTO_T_KP_UPLOAD, &w);
	CHECK_EQ_INT(proto_decode_kp_upload_req(&m, &out), BW_ERR_TOO_LONG);
	/* An empty key package. */
	bw_writer_reset(&w);
	w.err = 0;
	list = bw_write_vector_begin(&w);
	bw_write_opaque(&w, NULL, 0);
	bw_write_vector_end(&w, list);
	bw_write_optional(&w, false);
	m = msg_of(PROTO_REQUEST, PROTO_T_KP_UPLOAD, &w);
	CHECK_EQ_INT(proto_decode_kp_upload_req(&m, &out), BW_ERR_BAD_VALUE);
	bw_writer_free(&w);
	free(big);
	return true;
}

static bool test_claims(void)
{
	struct proto_claim c = { SPAN("bob"), SPAN("dev-1"), SPAN("kp") }, got;
	struct proto_kp_claim_resp resp;
	struct proto_kp_claim_req req;
	struct bw_reader it;
	struct bw_writer w;
	struct proto_msg m;
	size_t list;

	bw_writer_init(&w, 0);
	list = bw_write_vector_begin(&w);
	proto_write_user(&w, &SPAN("bob"));
	proto_write_user(&w, &SPAN("carol"));
	bw_write_vector_end(&w, list);
	m = msg_of(PROTO_REQUEST, PROTO_T_KP_CLAIM, &w);
	CHECK(proto_decode_kp_claim_req(&m, &req) == 0);
	CHECK_EQ_INT(req.users.count, 2);
	/* A name with characters the protocol does not allow. */
	bw_writer_reset(&w);
	w.err = 0;
	list = bw_write_vector_begin(&w);
	proto_write_user(&w, &SPAN("Bob/x"));
	bw_write_vector_end(&w, list);
	m = msg_of(PROTO_REQUEST, PROTO_T_KP_CLAIM, &w);
	CHECK_EQ_INT(proto_decode_kp_claim_req(&m, &req), PROTO_ERR_NAME);
	/* The response. */
	bw_writer_reset(&w);
	w.err = 0;
	list = bw_write_vector_begin(&w);
	proto_write_claim(&w, &c);
	bw_write_vector_end(&w, list);
	m = msg_of(PROTO_RESPONSE, PROTO_T_KP_CLAIM, &w);
	CHECK(proto_decode_kp_claim_resp(&m, &resp) == 0);
	CHECK_EQ_INT(resp.claims.count, 1);
	proto_list_iter(&resp.claims, &it);
	CHECK(proto_next_claim(&it, &got));
	CHECK_MEM(got.device_id.p, got.device_id.n, "dev-1", 5);
	CHECK(!proto_next_claim(&it, &got));
	bw_writer_free(&w);
	return true;
}

static bool test_group_commit(void)
{
	struct proto_group_commit_req in = {
		SPAN("group"), { key16, 16 }, SPAN("commit"), SPAN("info"),
		true, SPAN("welcome"),
	}, out;
	struct proto_seq_epoch se = { 7, 3 }, se_out;
	struct bw_writer w;
	struct proto_msg m;

	bw_writer_init(&w, 0);
	CHECK(proto_encode_group_commit_req(&w, &in) == 0);
	m = msg_of(PROTO_REQUEST, PROTO_T_GROUP_COMMIT, &w);
	CHECK(proto_decode_group_commit_req(&m, &out) == 0);
	CHECK(out.has_welcome);
	CHECK_MEM(out.welcome.p, out.welcome.n, "welcome", 7);
	CHECK_MEM(out.idempotency_key.p, out.idempotency_key.n, key16, 16);
	/* A key of another length is refused both ways. */
	bw_writer_reset(&w);
	w.err = 0;
	in.idempotency_key.n = 15;
	CHECK(proto_encode_group_commit_req(&w, &in) != 0);
	bw_writer_reset(&w);
	w.err = 0;
	bw_write_opaque(&w, "group", 5);
	bw_write_opaque(&w, key16, 15);
	bw_write_opaque(&w, "commit", 6);
	bw_write_opaque(&w, "info", 4);
	bw_write_optional(&w, false);
	m = msg_of(PROTO_REQUEST, PROTO_T_GROUP_COMMIT, &w);
	CHECK(proto_decode_group_commit_req(&m, &out) != 0);
	/* An empty group id. */
	bw_writer_reset(&w);
	w.err = 0;
	bw_write_opaque(&w, NULL, 0);
	bw_write_opaque(&w, key16, 16);
	bw_write_opaque(&w, "commit", 6);
	bw_write_opaque(&w, "info", 4);
	bw_write_optional(&w, false);
	m = msg_of(PROTO_REQUEST, PROTO_T_GROUP_COMMIT, &w);
	CHECK_EQ_INT(proto_decode_group_commit_req(&m, &out), BW_ERR_BAD_VALUE);
	/* The response. */
	bw_writer_reset(&w);
	w.err = 0;
	CHECK(proto_encode_seq_epoch(&w, &se) == 0);
	m = msg_of(PROTO_RESPONSE, PROTO_T_GROUP_COMMIT, &w);
	CHECK(proto_decode_seq_epoch(&m, &se_out) == 0);
	CHECK_EQ_INT(se_out.seq, 7);
	CHECK_EQ_INT(se_out.epoch, 3);
	bw_writer_free(&w);
	return true;
}

static bool test_group_messages(void)
{
	struct proto_group_message_req in = { SPAN("g"), { key16, 16 },
					      SPAN("ciphertext") },
					out;
	struct proto_seq seq = { 42 }, seq_out;
	struct bw_writer w;
	struct proto_msg m;

	bw_writer_init(&w, 0);
	CHECK(proto_encode_group_message_req(&w, &in) == 0);
	m = msg_of(PROTO_REQUEST, PROTO_T_GROUP_SEND, &w);
	CHECK(proto_decode_group_message_req(&m, &out) == 0);
	CHECK_MEM(out.message.p, out.message.n, "ciphertext", 10);
	m.type = PROTO_T_GROUP_PROPOSE;
	CHECK(proto_decode_group_message_req(&m, &out) == 0);
	m.type = PROTO_T_GROUP_COMMIT;
	CHECK_EQ_INT(proto_decode_group_message_req(&m, &out), PROTO_ERR_TYPE);
	bw_writer_reset(&w);
	w.err = 0;
	CHECK(proto_encode_seq(&w, &seq) == 0);
	m = msg_of(PROTO_RESPONSE, PROTO_T_GROUP_SEND, &w);
	CHECK(proto_decode_seq(&m, &seq_out) == 0);
	CHECK_EQ_INT(seq_out.seq, 42);
	bw_writer_free(&w);
	return true;
}

static bool test_group_info_and_list(void)
{
	struct proto_group_entry e = { SPAN("group-a"), 9, true }, got;
	struct proto_group_info_resp info = { 4, SPAN("gi") }, info_out;
	struct proto_group_list_resp list_out;
	struct proto_group_ref ref;
	struct bw_reader it;
	struct bw_writer w;
	struct proto_msg m;
	size_t list;

	bw_writer_init(&w, 0);
	CHECK(proto_encode_group_ref(&w, &(struct proto_group_ref){
		SPAN("group-a") }) == 0);
	m = msg_of(PROTO_REQUEST, PROTO_T_GROUP_INFO, &w);
	CHECK(proto_decode_group_ref(&m, &ref) == 0);
	bw_writer_reset(&w);
	w.err = 0;
	CHECK(proto_encode_group_info_resp(&w, &info) == 0);
	m = msg_of(PROTO_RESPONSE, PROTO_T_GROUP_INFO, &w);
	CHECK(proto_decode_group_info_resp(&m, &info_out) == 0);
	CHECK_EQ_INT(info_out.epoch, 4);
	bw_writer_reset(&w);
	w.err = 0;
	list = bw_write_vector_begin(&w);
	proto_write_group(&w, &e);
	bw_write_vector_end(&w, list);
	m = msg_of(PROTO_RESPONSE, PROTO_T_GROUP_LIST, &w);
	CHECK(proto_decode_group_list_resp(&m, &list_out) == 0);
	proto_list_iter(&list_out.groups, &it);
	CHECK(proto_next_group(&it, &got));
	CHECK(got.member);
	CHECK_EQ_INT(got.epoch, 9);
	/* member is 0 or 1. */
	w.buf[w.len - 1] = 2;
	CHECK(proto_decode_group_list_resp(&m, &list_out) != 0);
	bw_writer_free(&w);
	return true;
}

static bool test_acks_and_deliver(void)
{
	struct proto_deliver d = { { NULL, 0 }, 3, PROTO_DELIVER_WELCOME, 1000,
				   SPAN("welcome") },
			     got;
	struct proto_queue_ack_req acks;
	struct proto_ack a;
	struct bw_reader it;
	struct bw_writer w;
	struct proto_msg m;
	size_t list;

	bw_writer_init(&w, 0);
	list = bw_write_vector_begin(&w);
	proto_write_ack(&w, &(struct proto_ack){ { NULL, 0 }, 5 });
	proto_write_ack(&w, &(struct proto_ack){ SPAN("g"), 7 });
	bw_write_vector_end(&w, list);
	m = msg_of(PROTO_REQUEST, PROTO_T_QUEUE_ACK, &w);
	CHECK(proto_decode_queue_ack_req(&m, &acks) == 0);
	proto_list_iter(&acks.acks, &it);
	CHECK(proto_next_ack(&it, &a) && a.group_id.n == 0 && a.seq == 5);
	CHECK(proto_next_ack(&it, &a) && a.group_id.n == 1 && a.seq == 7);
	/* A Welcome in the inbox; a Welcome for a group is malformed, as is
	 * a group message in the inbox. */
	bw_writer_reset(&w);
	w.err = 0;
	CHECK(proto_encode_deliver(&w, &d) == 0);
	m = msg_of(PROTO_PUSH, PROTO_T_DELIVER, &w);
	CHECK(proto_decode_deliver(&m, &got) == 0);
	CHECK_EQ_INT(got.kind, PROTO_DELIVER_WELCOME);
	d.group_id = SPAN("g");
	bw_writer_reset(&w);
	w.err = 0;
	proto_encode_deliver(&w, &d);
	m = msg_of(PROTO_PUSH, PROTO_T_DELIVER, &w);
	CHECK_EQ_INT(proto_decode_deliver(&m, &got), BW_ERR_BAD_VALUE);
	d.kind = PROTO_DELIVER_APPLICATION;
	d.group_id = (struct proto_span){ NULL, 0 };
	bw_writer_reset(&w);
	w.err = 0;
	proto_encode_deliver(&w, &d);
	m = msg_of(PROTO_PUSH, PROTO_T_DELIVER, &w);
	CHECK_EQ_INT(proto_decode_deliver(&m, &got), BW_ERR_BAD_VALUE);
	bw_writer_free(&w);
	return true;
}

static bool test_status_bodies(void)
{
	struct proto_stale_epoch stale;
	struct bw_writer w;
	struct proto_msg m;

	bw_writer_init(&w, 0);
	CHECK(proto_encode_stale_epoch_response(&w, PROTO_T_GROUP_SEND, 9,
						12) == 0);
	CHECK(proto_decode(w.buf, w.len, PROTO_MAX_MESSAGE_AUTH, &m) == 0);
	CHECK_EQ_INT(m.status, PROTO_E_STALE_EPOCH);
	CHECK_EQ_INT(m.request_id, 9);
	CHECK(proto_decode_stale_epoch(&m, &stale) == 0);
	CHECK_EQ_INT(stale.current_epoch, 12);
	bw_writer_reset(&w);
	w.err = 0;
	CHECK(proto_encode_status_text(&w, PROTO_T_GROUP_COMMIT, 3,
				       PROTO_E_INVALID_MLS,
				       "signature verification failed") == 0);
	CHECK(proto_decode(w.buf, w.len, PROTO_MAX_MESSAGE_AUTH, &m) == 0);
	CHECK_MEM(m.text.p, m.text.n, "signature verification failed", 29);
	CHECK_EQ_INT(proto_decode_stale_epoch(&m, &stale), PROTO_ERR_TYPE);
	CHECK(strcmp(proto_status_text(PROTO_E_IDEMPOTENCY),
		     "idempotency key reused with different content") == 0);
	CHECK(strcmp(proto_status_text(PROTO_E_UNKNOWN_USER), "unknown user") ==
	      0);
	bw_writer_free(&w);
	return true;
}

static bool test_empty_bodies(void)
{
	struct proto_msg m = { .kind = PROTO_REQUEST,
			       .type = PROTO_T_GROUP_LIST };
	uint8_t one = 0;

	CHECK(proto_decode_empty(&m) == 0);
	m.body = (struct proto_span){ &one, 1 };
	CHECK_EQ_INT(proto_decode_empty(&m), BW_ERR_TRAILING);
	return true;
}

int main(void)
{
	int failed = 0;

	RUN(test_server_info, &failed);
	RUN(test_kp_upload, &failed);
	RUN(test_kp_upload_limits, &failed);
	RUN(test_claims, &failed);
	RUN(test_group_commit, &failed);
	RUN(test_group_messages, &failed);
	RUN(test_group_info_and_list, &failed);
	RUN(test_acks_and_deliver, &failed);
	RUN(test_status_bodies, &failed);
	RUN(test_empty_bodies, &failed);
	return failed == 0 ? 0 : 1;
}

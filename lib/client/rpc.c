/* rpc.c - the conversation requests of the device protocol
 * (docs/protocol.md, "Conversations"), encoded and decoded with the
 * shared codec of lib/proto. */
#include "client.h"

#include <string.h>

#include "session.h"

/* The connection is gone or unusable: drop it so that the caller's next
 * step reconnects rather than reads a dead socket. */
static int call(struct bulwark_client *c, uint16_t type,
		struct proto_msg *resp)
{
	int rc;

	if ((rc = client_need_session(c)) != 0)
		return rc;
	rc = session_call_body(c->s, type, resp);
	if (rc == BULWARK_ERR_CLOSED || rc == BULWARK_ERR_TIMEOUT ||
	    rc == BULWARK_ERR_TLS || rc == BULWARK_ERR_WEBSOCKET ||
	    rc == BULWARK_ERR_DEVICE_REVOKED || rc == BULWARK_ERR_PROTOCOL ||
	    rc == BULWARK_ERR_TOO_BIG)
		client_disconnect(c);
	return rc;
}

/* The body of the next request, empty: an empty body is sent as it is. */
static struct bw_writer *body(struct bulwark_client *c)
{
	return session_body(c->s);
}

/* Decoding a response the server sent as OK must not fail. */
static int decoded(int rc)
{
	return rc == 0 ? 0 : BULWARK_ERR_PROTOCOL;
}

int rpc_server_info(struct bulwark_client *c, struct proto_server_info *out)
{
	struct proto_msg m;
	int rc;

	if ((rc = client_need_session(c)) != 0)
		return rc;
	body(c); /* empty */
	if ((rc = call(c, PROTO_T_SERVER_INFO, &m)) != 0)
		return rc;
	return decoded(proto_decode_server_info(&m, out));
}

int rpc_kp_count(struct bulwark_client *c, struct proto_kp_count *out)
{
	struct proto_msg m;
	int rc;

	if ((rc = client_need_session(c)) != 0)
		return rc;
	body(c); /* empty */
	if ((rc = call(c, PROTO_T_KP_COUNT, &m)) != 0)
		return rc;
	return decoded(proto_decode_kp_count(&m, out));
}

int rpc_kp_upload(struct bulwark_client *c, const struct bw_bytes *kps,
		  size_t n, const struct bw_bytes *last_resort,
		  struct proto_kp_count *out)
{
	struct proto_kp_upload_req req = { 0 };
	struct bw_writer list;
	struct proto_msg m;
	int rc;

	if ((rc = client_need_session(c)) != 0)
		return rc;
	bw_writer_init(&list, PROTO_MAX_MESSAGE_AUTH);
	for (size_t i = 0; i < n; i++)
		proto_write_key_package(&list,
					&(struct proto_span){ kps[i].p,
							      kps[i].len });
	if ((rc = list.err) != 0)
		goto out;
	req.key_packages.bytes = (struct proto_span){ list.buf, list.len };
	req.key_packages.count = (uint32_t)n;
	req.has_last_resort = last_resort != NULL;
	if (last_resort != NULL)
		req.last_resort = (struct proto_span){ last_resort->p,
						       last_resort->len };
	proto_encode_kp_upload_req(body(c), &req);
	if ((rc = call(c, PROTO_T_KP_UPLOAD, &m)) == 0)
		rc = decoded(proto_decode_kp_count(&m, out));
out:
	bw_writer_free(&list);
	return rc;
}

int rpc_kp_claim(struct bulwark_client *c, const char *const *users,
		 size_t n, struct proto_kp_claim_resp *out)
{
	struct proto_kp_claim_req req = { 0 };
	struct bw_writer list;
	struct proto_msg m;
	int rc;

	if ((rc = client_need_session(c)) != 0)
		return rc;
	bw_writer_init(&list, PROTO_MAX_MESSAGE_AUTH);
	for (size_t i = 0; i < n; i++)
		proto_write_user(&list,
				 &(struct proto_span){
					 (const uint8_t *)users[i],
					 strlen(users[i]) });
	if ((rc = list.err) != 0)
		goto out;
	req.users.bytes = (struct proto_span){ list.buf, list.len };
	req.users.count = (uint32_t)n;
	proto_encode_kp_claim_req(body(c), &req);
	if ((rc = call(c, PROTO_T_KP_CLAIM, &m)) == 0)
		rc = decoded(proto_decode_kp_claim_resp(&m, out));
out:
	bw_writer_free(&list);
	return rc;
}

int rpc_group_create(struct bulwark_client *c, const uint8_t *group_info,
		     size_t len)
{
	struct proto_group_create_req req = { { group_info, len } };
	struct proto_epoch epoch;
	struct proto_msg m;
	int rc;

	if ((rc = client_need_session(c)) != 0)
		return rc;
	proto_encode_group_create_req(body(c), &req);
	if ((rc = call(c, PROTO_T_GROUP_CREATE, &m)) != 0)
		return rc;
	return decoded(proto_decode_epoch(&m, &epoch));
}

/* A stale epoch's response carries the group's current epoch. */
static int stale(const struct proto_msg *m, uint64_t *current_epoch)
{
	struct proto_stale_epoch st;

	if (current_epoch != NULL) {
		if (proto_decode_stale_epoch(m, &st) != 0)
			return BULWARK_ERR_PROTOCOL;
		*current_epoch = st.current_epoch;
	}
	return BULWARK_ERR_STALE_EPOCH;
}

int rpc_group_commit(struct bulwark_client *c, const struct group_post *p,
		     struct proto_seq_epoch *out, uint64_t *current_epoch)
{
	struct proto_group_commit_req req = {
		.group_id = { p->group_id, p->group_id_len },
		.idempotency_key = { p->idempotency_key,
				     sizeof(p->idempotency_key) },
		.commit = { p->message, p->message_len },
		.group_info = { p->group_info, p->group_info_len },
		.has_welcome = p->welcome != NULL,
		.welcome = { p->welcome, p->welcome_len },
	};
	struct proto_msg m;
	int rc;

	if ((rc = client_need_session(c)) != 0)
		return rc;
	proto_encode_group_commit_req(body(c), &req);
	rc = call(c, PROTO_T_GROUP_COMMIT, &m);
	if (rc == BULWARK_ERR_STALE_EPOCH)
		return stale(&m, current_epoch);
	if (rc != 0)
		return rc;
	return decoded(proto_decode_seq_epoch(&m, out));
}

int rpc_group_send(struct bulwark_client *c, const struct group_post *p,
		   uint64_t *seq, uint64_t *current_epoch)
{
	struct proto_group_message_req req = {
		.group_id = { p->group_id, p->group_id_len },
		.idempotency_key = { p->idempotency_key,
				     sizeof(p->idempotency_key) },
		.message = { p->message, p->message_len },
	};
	struct proto_seq out;
	struct proto_msg m;
	int rc;

	if ((rc = client_need_session(c)) != 0)
		return rc;
	proto_encode_group_message_req(body(c), &req);
	rc = call(c, PROTO_T_GROUP_SEND, &m);
	if (rc == BULWARK_ERR_STALE_EPOCH)
		return stale(&m, current_epoch);
	if (rc != 0 || (rc = decoded(proto_decode_seq(&m, &out))) != 0)
		return rc;
	*seq = out.seq;
	return 0;
}

int rpc_group_info(struct bulwark_client *c, const uint8_t *gid,
		   size_t gid_len, struct proto_group_info_resp *out)
{
	struct proto_group_ref req = { { gid, gid_len } };
	struct proto_msg m;
	int rc;

	if ((rc = client_need_session(c)) != 0)
		return rc;
	proto_encode_group_ref(body(c), &req);
	if ((rc = call(c, PROTO_T_GROUP_INFO, &m)) != 0)
		return rc;
	return decoded(proto_decode_group_info_resp(&m, out));
}

int rpc_group_list(struct bulwark_client *c,
		   struct proto_group_list_resp *out)
{
	struct proto_msg m;
	int rc;

	if ((rc = client_need_session(c)) != 0)
		return rc;
	body(c); /* empty */
	if ((rc = call(c, PROTO_T_GROUP_LIST, &m)) != 0)
		return rc;
	return decoded(proto_decode_group_list_resp(&m, out));
}

int rpc_queue_ack(struct bulwark_client *c, const struct ack *acks,
		  size_t n)
{
	struct proto_queue_ack_req req = { 0 };
	struct bw_writer list;
	struct proto_msg m;
	int rc;

	if ((rc = client_need_session(c)) != 0)
		return rc;
	bw_writer_init(&list, PROTO_MAX_MESSAGE_AUTH);
	for (size_t i = 0; i < n; i++)
		proto_write_ack(&list, &(struct proto_ack){
					       { acks[i].group_id.p,
						 acks[i].group_id.len },
					       acks[i].seq });
	if ((rc = list.err) != 0)
		goto out;
	req.acks.bytes = (struct proto_span){ list.buf, list.len };
	req.acks.count = (uint32_t)n;
	proto_encode_queue_ack_req(body(c), &req);
	if ((rc = call(c, PROTO_T_QUEUE_ACK, &m)) == 0)
		rc = decoded(proto_decode_empty(&m));
out:
	bw_writer_free(&list);
	return rc;
}

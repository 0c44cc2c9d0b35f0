/* proto_conv.c - the conversation messages of the device protocol: server
 * info, key packages, groups, queues and pushes (docs/protocol.md,
 * "Conversations"). */
#include <string.h>

#include "proto.h"
#include "proto_int.h"

/* RFC 9420 §5.3 CredentialType x509. */
#define CREDENTIAL_X509 2

void proto_list_iter(const struct proto_list *l, struct bw_reader *it)
{
	bw_reader_init(it, l->bytes.p, l->bytes.n);
}

/* Read a vector of at most max_items items, each checked by one call of
 * item(); the list keeps the vector's bytes for iteration. */
static int read_list(struct bw_reader *r, uint32_t max_items,
		     bool (*item)(struct bw_reader *it, void *out),
		     void *scratch, struct proto_list *l)
{
	struct bw_reader sub;

	memset(l, 0, sizeof(*l));
	if (bw_read_vector(r, PROTO_MAX_MLS_MESSAGE, &sub) != 0)
		return r->err;
	l->bytes.p = sub.p;
	l->bytes.n = sub.len;
	while (bw_reader_remaining(&sub) > 0) {
		if (!item(&sub, scratch))
			return bw_reader_fail(r, sub.err ? sub.err
							 : BW_ERR_BAD_VALUE);
		if (++l->count > max_items)
			return bw_reader_fail(r, BW_ERR_TOO_LONG);
	}
	return 0;
}

static int write_list(struct bw_writer *w, const struct proto_list *l)
{
	size_t mark = bw_write_vector_begin(w);

	bw_write_bytes(w, l->bytes.p, l->bytes.n);
	return bw_write_vector_end(w, mark);
}

static bool group_id_valid(const struct proto_span *g)
{
	return g->n >= 1 && g->n <= PROTO_MAX_GROUP_ID;
}

/* ---- list items ---- */

bool proto_next_key_package(struct bw_reader *it, struct proto_span *kp)
{
	if (bw_reader_remaining(it) == 0 ||
	    proto_read_span(it, PROTO_MAX_KEY_PACKAGE, kp) != 0)
		return false;
	if (kp->n == 0) {
		bw_reader_fail(it, BW_ERR_BAD_VALUE);
		return false;
	}
	return true;
}

int proto_write_key_package(struct bw_writer *w, const struct proto_span *kp)
{
	return proto_write_span(w, kp);
}

bool proto_next_user(struct bw_reader *it, struct proto_span *user)
{
	if (bw_reader_remaining(it) == 0 ||
	    proto_read_span(it, PROTO_MAX_NAME, user) != 0)
		return false;
	if (!proto_name_valid(user->p, user->n, PROTO_MAX_NAME)) {
		bw_reader_fail(it, PROTO_ERR_NAME);
		return false;
	}
	return true;
}

int proto_write_user(struct bw_writer *w, const struct proto_span *user)
{
	return proto_write_span(w, user);
}

bool proto_next_claim(struct bw_reader *it, struct proto_claim *c)
{
	memset(c, 0, sizeof(*c));
	if (bw_reader_remaining(it) == 0)
		return false;
	proto_read_span(it, PROTO_MAX_NAME, &c->user);
	proto_read_span(it, PROTO_MAX_NAME, &c->device_id);
	proto_read_span(it, PROTO_MAX_KEY_PACKAGE, &c->key_package);
	if (it->err != 0)
		return false;
	if (!proto_name_valid(c->user.p, c->user.n, PROTO_MAX_NAME) ||
	    !proto_name_valid(c->device_id.p, c->device_id.n,
			      PROTO_MAX_NAME)) {
		bw_reader_fail(it, PROTO_ERR_NAME);
		return false;
	}
	if (c->key_package.n == 0) {
		bw_reader_fail(it, BW_ERR_BAD_VALUE);
		return false;
	}
	return true;
}

int proto_write_claim(struct bw_writer *w, const struct proto_claim *c)
{
	proto_write_span(w, &c->user);
	proto_write_span(w, &c->device_id);
	return proto_write_span(w, &c->key_package);
}

bool proto_next_group(struct bw_reader *it, struct proto_group_entry *g)
{
	uint8_t member = 0;

	memset(g, 0, sizeof(*g));
	if (bw_reader_remaining(it) == 0)
		return false;
	proto_read_span(it, PROTO_MAX_GROUP_ID, &g->group_id);
	bw_read_u64(it, &g->epoch);
	bw_read_u8(it, &member);
	if (it->err != 0)
		return false;
	if (!group_id_valid(&g->group_id) || member > 1) {
		bw_reader_fail(it, BW_ERR_BAD_VALUE);
		return false;
	}
	g->member = member == 1;
	return true;
}

int proto_write_group(struct bw_writer *w, const struct proto_group_entry *g)
{
	proto_write_span(w, &g->group_id);
	bw_write_u64(w, g->epoch);
	return bw_write_u8(w, g->member ? 1 : 0);
}

bool proto_next_ack(struct bw_reader *it, struct proto_ack *a)
{
	memset(a, 0, sizeof(*a));
	if (bw_reader_remaining(it) == 0)
		return false;
	proto_read_span(it, PROTO_MAX_GROUP_ID, &a->group_id);
	bw_read_u64(it, &a->seq);
	return it->err == 0;
}

int proto_write_ack(struct bw_writer *w, const struct proto_ack *a)
{
	proto_write_span(w, &a->group_id);
	return bw_write_u64(w, a->seq);
}

/* Adapters for read_list (the item's own struct as scratch). */
static bool key_package_item(struct bw_reader *it, void *out)
{
	return proto_next_key_package(it, out);
}

static bool user_item(struct bw_reader *it, void *out)
{
	return proto_next_user(it, out);
}

static bool claim_item(struct bw_reader *it, void *out)
{
	return proto_next_claim(it, out);
}

static bool group_item(struct bw_reader *it, void *out)
{
	return proto_next_group(it, out);
}

static bool ack_item(struct bw_reader *it, void *out)
{
	return proto_next_ack(it, out);
}

/* ---- x509 credentials ---- */

int proto_decode_x509_credential(const struct proto_span *cred,
				 struct proto_span *certs, size_t max,
				 size_t *n)
{
	struct bw_reader r, sub;
	uint16_t type = 0;

	*n = 0;
	bw_reader_init(&r, cred->p, cred->n);
	bw_read_u16(&r, &type);
	if (r.err == 0 && type != CREDENTIAL_X509)
		return BW_ERR_BAD_VALUE;
	bw_read_vector(&r, PROTO_MAX_CREDENTIAL, &sub);
	while (r.err == 0 && bw_reader_remaining(&sub) > 0) {
		if (*n == max)
			return BW_ERR_TOO_LONG;
		if (proto_read_span(&sub, PROTO_MAX_CERT, &certs[*n]) != 0)
			return sub.err;
		if (certs[*n].n == 0)
			return BW_ERR_BAD_VALUE;
		(*n)++;
	}
	if (r.err == 0 && *n == 0)
		return BW_ERR_BAD_VALUE;
	return bw_reader_finish(&r);
}

int proto_encode_x509_credential(struct bw_writer *w,
				 const struct proto_span *certs, size_t n)
{
	size_t mark;

	bw_write_u16(w, CREDENTIAL_X509);
	mark = bw_write_vector_begin(w);
	for (size_t i = 0; i < n; i++)
		proto_write_span(w, &certs[i]);
	return bw_write_vector_end(w, mark);
}

/* ---- bodies ---- */

int proto_decode_empty(const struct proto_msg *m)
{
	return m->body.n == 0 ? 0 : BW_ERR_TRAILING;
}

int proto_decode_server_info(const struct proto_msg *m,
			     struct proto_server_info *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_RESPONSE, PROTO_T_SERVER_INFO,
				  &r)) != 0)
		return rc;
	bw_read_u16(&r, &out->mls_suite);
	proto_read_span(&r, PROTO_MAX_SIGNATURE_KEY, &out->ds_signature_key);
	proto_read_span(&r, PROTO_MAX_CREDENTIAL, &out->ds_credential);
	return bw_reader_finish(&r);
}

int proto_encode_server_info(struct bw_writer *w,
			     const struct proto_server_info *in)
{
	bw_write_u16(w, in->mls_suite);
	proto_write_span(w, &in->ds_signature_key);
	return proto_write_span(w, &in->ds_credential);
}

int proto_decode_kp_upload_req(const struct proto_msg *m,
			       struct proto_kp_upload_req *out)
{
	struct proto_span kp;
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_REQUEST, PROTO_T_KP_UPLOAD, &r)) !=
	    0)
		return rc;
	read_list(&r, PROTO_MAX_UPLOAD_KEY_PACKAGES, key_package_item, &kp,
		  &out->key_packages);
	bw_read_optional(&r, &out->has_last_resort);
	if (out->has_last_resort) {
		proto_read_span(&r, PROTO_MAX_KEY_PACKAGE, &out->last_resort);
		if (r.err == 0 && out->last_resort.n == 0)
			bw_reader_fail(&r, BW_ERR_BAD_VALUE);
	}
	if (r.err == 0 && out->key_packages.count == 0 &&
	    !out->has_last_resort)
		bw_reader_fail(&r, BW_ERR_BAD_VALUE);
	return bw_reader_finish(&r);
}

int proto_encode_kp_upload_req(struct bw_writer *w,
			       const struct proto_kp_upload_req *in)
{
	write_list(w, &in->key_packages);
	bw_write_optional(w, in->has_last_resort);
	if (in->has_last_resort)
		proto_write_span(w, &in->last_resort);
	return w->err;
}

/* KP_UPLOAD and KP_COUNT share their response. */
int proto_decode_kp_count(const struct proto_msg *m,
			  struct proto_kp_count *out)
{
	struct bw_reader r;

	memset(out, 0, sizeof(*out));
	if (m->kind != PROTO_RESPONSE ||
	    (m->type != PROTO_T_KP_UPLOAD && m->type != PROTO_T_KP_COUNT))
		return PROTO_ERR_TYPE;
	bw_reader_init(&r, m->body.p, m->body.n);
	bw_read_u32(&r, &out->available);
	bw_read_u32(&r, &out->low_water);
	return bw_reader_finish(&r);
}

int proto_encode_kp_count(struct bw_writer *w,
			  const struct proto_kp_count *in)
{
	bw_write_u32(w, in->available);
	return bw_write_u32(w, in->low_water);
}

int proto_decode_kp_low(const struct proto_msg *m, struct proto_kp_low *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_PUSH, PROTO_T_KP_LOW, &r)) != 0)
		return rc;
	bw_read_u32(&r, &out->available);
	return bw_reader_finish(&r);
}

int proto_encode_kp_low(struct bw_writer *w, const struct proto_kp_low *in)
{
	return bw_write_u32(w, in->available);
}

int proto_decode_kp_claim_req(const struct proto_msg *m,
			      struct proto_kp_claim_req *out)
{
	struct proto_span user;
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_REQUEST, PROTO_T_KP_CLAIM, &r)) !=
	    0)
		return rc;
	read_list(&r, PROTO_MAX_CLAIM_USERS, user_item, &user, &out->users);
	if (r.err == 0 && out->users.count == 0)
		bw_reader_fail(&r, BW_ERR_BAD_VALUE);
	return bw_reader_finish(&r);
}

int proto_encode_kp_claim_req(struct bw_writer *w,
			      const struct proto_kp_claim_req *in)
{
	return write_list(w, &in->users);
}

int proto_decode_kp_claim_resp(const struct proto_msg *m,
			       struct proto_kp_claim_resp *out)
{
	struct proto_claim claim;
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_RESPONSE, PROTO_T_KP_CLAIM, &r)) !=
	    0)
		return rc;
	read_list(&r, UINT32_MAX, claim_item, &claim, &out->claims);
	return bw_reader_finish(&r);
}

int proto_encode_kp_claim_resp(struct bw_writer *w,
			       const struct proto_kp_claim_resp *in)
{
	return write_list(w, &in->claims);
}

int proto_decode_group_create_req(const struct proto_msg *m,
				  struct proto_group_create_req *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_REQUEST, PROTO_T_GROUP_CREATE,
				  &r)) != 0)
		return rc;
	proto_read_span(&r, PROTO_MAX_MLS_MESSAGE, &out->group_info);
	if (r.err == 0 && out->group_info.n == 0)
		bw_reader_fail(&r, BW_ERR_BAD_VALUE);
	return bw_reader_finish(&r);
}

int proto_encode_group_create_req(struct bw_writer *w,
				  const struct proto_group_create_req *in)
{
	return proto_write_span(w, &in->group_info);
}

int proto_decode_epoch(const struct proto_msg *m, struct proto_epoch *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_RESPONSE, PROTO_T_GROUP_CREATE,
				  &r)) != 0)
		return rc;
	bw_read_u64(&r, &out->epoch);
	return bw_reader_finish(&r);
}

int proto_encode_epoch(struct bw_writer *w, const struct proto_epoch *in)
{
	return bw_write_u64(w, in->epoch);
}

/* group_id, then the idempotency key: the head of every request that
 * adds to a group's log. */
static void read_group_head(struct bw_reader *r, struct proto_span *group_id,
			    struct proto_span *key)
{
	proto_read_span(r, PROTO_MAX_GROUP_ID, group_id);
	bw_read_opaque_exact(r, PROTO_IDEMPOTENCY_KEY_LEN, &key->p);
	key->n = r->err == 0 ? PROTO_IDEMPOTENCY_KEY_LEN : 0;
	if (r->err == 0 && !group_id_valid(group_id))
		bw_reader_fail(r, BW_ERR_BAD_VALUE);
}

/* A non-empty MLS message. */
static void read_message(struct bw_reader *r, struct proto_span *msg)
{
	proto_read_span(r, PROTO_MAX_MLS_MESSAGE, msg);
	if (r->err == 0 && msg->n == 0)
		bw_reader_fail(r, BW_ERR_BAD_VALUE);
}

static int write_key(struct bw_writer *w, const struct proto_span *key)
{
	if (key->n != PROTO_IDEMPOTENCY_KEY_LEN) {
		if (w->err == 0)
			w->err = BW_ERR_BAD_VALUE;
		return w->err;
	}
	return proto_write_span(w, key);
}

int proto_decode_group_commit_req(const struct proto_msg *m,
				  struct proto_group_commit_req *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_REQUEST, PROTO_T_GROUP_COMMIT,
				  &r)) != 0)
		return rc;
	read_group_head(&r, &out->group_id, &out->idempotency_key);
	read_message(&r, &out->commit);
	read_message(&r, &out->group_info);
	bw_read_optional(&r, &out->has_welcome);
	if (out->has_welcome)
		read_message(&r, &out->welcome);
	return bw_reader_finish(&r);
}

int proto_encode_group_commit_req(struct bw_writer *w,
				  const struct proto_group_commit_req *in)
{
	proto_write_span(w, &in->group_id);
	write_key(w, &in->idempotency_key);
	proto_write_span(w, &in->commit);
	proto_write_span(w, &in->group_info);
	bw_write_optional(w, in->has_welcome);
	if (in->has_welcome)
		proto_write_span(w, &in->welcome);
	return w->err;
}

int proto_decode_seq_epoch(const struct proto_msg *m,
			   struct proto_seq_epoch *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_RESPONSE, PROTO_T_GROUP_COMMIT,
				  &r)) != 0)
		return rc;
	bw_read_u64(&r, &out->seq);
	bw_read_u64(&r, &out->epoch);
	return bw_reader_finish(&r);
}

int proto_encode_seq_epoch(struct bw_writer *w,
			   const struct proto_seq_epoch *in)
{
	bw_write_u64(w, in->seq);
	return bw_write_u64(w, in->epoch);
}

static bool is_message_type(uint16_t type)
{
	return type == PROTO_T_GROUP_PROPOSE || type == PROTO_T_GROUP_SEND;
}

int proto_decode_group_message_req(const struct proto_msg *m,
				   struct proto_group_message_req *out)
{
	struct bw_reader r;

	memset(out, 0, sizeof(*out));
	if (m->kind != PROTO_REQUEST || !is_message_type(m->type))
		return PROTO_ERR_TYPE;
	bw_reader_init(&r, m->body.p, m->body.n);
	read_group_head(&r, &out->group_id, &out->idempotency_key);
	read_message(&r, &out->message);
	return bw_reader_finish(&r);
}

int proto_encode_group_message_req(struct bw_writer *w,
				   const struct proto_group_message_req *in)
{
	proto_write_span(w, &in->group_id);
	write_key(w, &in->idempotency_key);
	return proto_write_span(w, &in->message);
}

int proto_decode_seq(const struct proto_msg *m, struct proto_seq *out)
{
	struct bw_reader r;

	memset(out, 0, sizeof(*out));
	if (m->kind != PROTO_RESPONSE || !is_message_type(m->type))
		return PROTO_ERR_TYPE;
	bw_reader_init(&r, m->body.p, m->body.n);
	bw_read_u64(&r, &out->seq);
	return bw_reader_finish(&r);
}

int proto_encode_seq(struct bw_writer *w, const struct proto_seq *in)
{
	return bw_write_u64(w, in->seq);
}

int proto_decode_group_ref(const struct proto_msg *m,
			   struct proto_group_ref *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_REQUEST, PROTO_T_GROUP_INFO, &r)) !=
	    0)
		return rc;
	proto_read_span(&r, PROTO_MAX_GROUP_ID, &out->group_id);
	if (r.err == 0 && !group_id_valid(&out->group_id))
		bw_reader_fail(&r, BW_ERR_BAD_VALUE);
	return bw_reader_finish(&r);
}

int proto_encode_group_ref(struct bw_writer *w,
			   const struct proto_group_ref *in)
{
	return proto_write_span(w, &in->group_id);
}

int proto_decode_group_info_resp(const struct proto_msg *m,
				 struct proto_group_info_resp *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_RESPONSE, PROTO_T_GROUP_INFO,
				  &r)) != 0)
		return rc;
	bw_read_u64(&r, &out->epoch);
	read_message(&r, &out->group_info);
	return bw_reader_finish(&r);
}

int proto_encode_group_info_resp(struct bw_writer *w,
				 const struct proto_group_info_resp *in)
{
	bw_write_u64(w, in->epoch);
	return proto_write_span(w, &in->group_info);
}

int proto_decode_group_list_resp(const struct proto_msg *m,
				 struct proto_group_list_resp *out)
{
	struct proto_group_entry g;
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_RESPONSE, PROTO_T_GROUP_LIST,
				  &r)) != 0)
		return rc;
	read_list(&r, UINT32_MAX, group_item, &g, &out->groups);
	return bw_reader_finish(&r);
}

int proto_encode_group_list_resp(struct bw_writer *w,
				 const struct proto_group_list_resp *in)
{
	return write_list(w, &in->groups);
}

int proto_decode_queue_ack_req(const struct proto_msg *m,
			       struct proto_queue_ack_req *out)
{
	struct proto_ack a;
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_REQUEST, PROTO_T_QUEUE_ACK, &r)) !=
	    0)
		return rc;
	read_list(&r, PROTO_MAX_ACKS, ack_item, &a, &out->acks);
	if (r.err == 0 && out->acks.count == 0)
		bw_reader_fail(&r, BW_ERR_BAD_VALUE);
	return bw_reader_finish(&r);
}

int proto_encode_queue_ack_req(struct bw_writer *w,
			       const struct proto_queue_ack_req *in)
{
	return write_list(w, &in->acks);
}

int proto_decode_deliver(const struct proto_msg *m,
			 struct proto_deliver *out)
{
	struct bw_reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_open_body(m, PROTO_PUSH, PROTO_T_DELIVER, &r)) != 0)
		return rc;
	proto_read_span(&r, PROTO_MAX_GROUP_ID, &out->group_id);
	bw_read_u64(&r, &out->seq);
	bw_read_u8(&r, &out->kind);
	bw_read_u64(&r, &out->timestamp);
	read_message(&r, &out->payload);
	if (r.err == 0 && (out->kind < PROTO_DELIVER_APPLICATION ||
			   out->kind > PROTO_DELIVER_WELCOME ||
			   (out->kind == PROTO_DELIVER_WELCOME) !=
				   (out->group_id.n == 0)))
		bw_reader_fail(&r, BW_ERR_BAD_VALUE);
	return bw_reader_finish(&r);
}

int proto_encode_deliver(struct bw_writer *w, const struct proto_deliver *in)
{
	proto_write_span(w, &in->group_id);
	bw_write_u64(w, in->seq);
	bw_write_u8(w, in->kind);
	bw_write_u64(w, in->timestamp);
	return proto_write_span(w, &in->payload);
}

int proto_decode_stale_epoch(const struct proto_msg *m,
			     struct proto_stale_epoch *out)
{
	struct bw_reader r;

	memset(out, 0, sizeof(*out));
	if (m->kind != PROTO_RESPONSE || m->status != PROTO_E_STALE_EPOCH)
		return PROTO_ERR_TYPE;
	bw_reader_init(&r, m->body.p, m->body.n);
	bw_read_u64(&r, &out->current_epoch);
	return bw_reader_finish(&r);
}

int proto_encode_stale_epoch(struct bw_writer *w,
			     const struct proto_stale_epoch *in)
{
	return bw_write_u64(w, in->current_epoch);
}

int proto_encode_status_text(struct bw_writer *w, uint16_t type,
			     uint32_t request_id, uint16_t status,
			     const char *text)
{
	size_t n = strlen(text);
	struct proto_msg m = {
		.version = PROTO_VERSION,
		.kind = PROTO_RESPONSE,
		.type = type,
		.request_id = request_id,
		.status = status,
		.text = { (const uint8_t *)text,
			  n < PROTO_MAX_TEXT ? n : PROTO_MAX_TEXT },
	};

	return proto_encode(w, &m);
}

int proto_encode_stale_epoch_response(struct bw_writer *w, uint16_t type,
				      uint32_t request_id,
				      uint64_t current_epoch)
{
	const char *text = proto_status_text(PROTO_E_STALE_EPOCH);
	struct proto_msg m = {
		.version = PROTO_VERSION,
		.kind = PROTO_RESPONSE,
		.type = type,
		.request_id = request_id,
		.status = PROTO_E_STALE_EPOCH,
		.text = { (const uint8_t *)text, strlen(text) },
	};
	uint8_t body[8];
	struct bw_writer b;

	bw_writer_init_fixed(&b, body, sizeof(body));
	bw_write_u64(&b, current_epoch);
	m.body = (struct proto_span){ body, b.len };
	return proto_encode(w, &m);
}

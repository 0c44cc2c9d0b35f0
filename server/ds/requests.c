/*
 * requests.c - the delivery service's requests on the worker side: decode
 * (a malformed request never reaches the store thread), check what needs
 * no state there (key packages, a new group's GroupInfo), copy the body
 * into a job, and send the response the store thread built once the batch
 * holding it is durable.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "conn.h"
#include "ds_int.h"
#include "errors.h"
#include "log.h"
#include "server.h"
#include "session.h"
#include "worker.h"
#include "ws.h"

bool ds_handles(uint16_t type)
{
	switch (type) {
	case PROTO_T_SERVER_INFO:
	case PROTO_T_KP_UPLOAD:
	case PROTO_T_KP_CLAIM:
	case PROTO_T_KP_COUNT:
	case PROTO_T_GROUP_CREATE:
	case PROTO_T_GROUP_COMMIT:
	case PROTO_T_GROUP_PROPOSE:
	case PROTO_T_GROUP_SEND:
	case PROTO_T_GROUP_INFO:
	case PROTO_T_GROUP_LIST:
	case PROTO_T_QUEUE_ACK:
		return true;
	default:
		return false;
	}
}

/* ---- responses, built on the store thread ---- */

void ds_reply_status(struct ds_req *r, uint16_t status, const char *why)
{
	bw_writer_reset(&r->resp);
	r->resp.err = 0;
	proto_encode_status_text(&r->resp, r->m.type, r->m.request_id, status,
				 why != NULL ? why : proto_status_text(status));
}

void ds_reply_stale(struct ds_req *r, uint64_t current_epoch)
{
	bw_writer_reset(&r->resp);
	r->resp.err = 0;
	proto_encode_stale_epoch_response(&r->resp, r->m.type,
					  r->m.request_id, current_epoch);
}

size_t ds_reply_begin(struct ds_req *r)
{
	bw_writer_reset(&r->resp);
	r->resp.err = 0;
	return proto_begin(&r->resp, PROTO_RESPONSE, r->m.type,
			   r->m.request_id);
}

int ds_reply_end(struct ds_req *r, size_t mark)
{
	return proto_end(&r->resp, mark);
}

int ds_refuse(struct ds_req *r, uint16_t status, const char *why)
{
	ds_reply_status(r, status, why);
	r->refused = true;
	return BWD_ERR_REFUSED;
}

/* ---- the store thread's side ---- */

static int dispatch(struct ds *ds, struct store *s, struct ds_req *r)
{
	switch (r->m.type) {
	case PROTO_T_KP_UPLOAD:
		return ds_kp_upload(ds, s, r);
	case PROTO_T_KP_CLAIM:
		return ds_kp_claim(ds, s, r);
	case PROTO_T_KP_COUNT:
		return ds_kp_count(ds, s, r);
	case PROTO_T_GROUP_CREATE:
		return ds_group_create(ds, s, r);
	case PROTO_T_GROUP_COMMIT:
		return ds_group_commit(ds, s, r);
	case PROTO_T_GROUP_PROPOSE:
	case PROTO_T_GROUP_SEND:
		return ds_group_message(ds, s, r);
	case PROTO_T_GROUP_INFO:
		return ds_group_info(ds, s, r);
	case PROTO_T_GROUP_LIST:
		return ds_group_list(ds, s, r);
	default: /* PROTO_T_QUEUE_ACK */
		return ds_queue_ack(ds, s, r);
	}
}

/* A refused or failed request leaves no push behind: its writes are
 * undone. */
int ds_run_request(struct store *s, struct store_job *job)
{
	struct ds_req *r = (struct ds_req *)job;
	int rc;

	ds_pushes_mark(r->ds);
	if ((rc = dispatch(r->ds, s, r)) != 0)
		ds_pushes_rewind(r->ds);
	return rc;
}

/* ---- the worker's side ---- */

void ds_req_free(struct ds_req *r)
{
	bw_writer_free(&r->resp);
	mls_public_group_free(r->new_view);
	free(r->kps);
	free(r);
}

/* The job is back: answer, unless the connection went meanwhile. */
static void req_done(struct mail *m, void *receiver)
{
	struct ds_req *r = (struct ds_req *)((char *)m -
					     offsetof(struct ds_req, job) -
					     offsetof(struct store_job, mail));
	struct conn *c = r->conn;

	(void)receiver;
	conn_unref(c);
	if (!c->closed && c->state == CONN_WS) {
		if ((r->refused || r->job.rc == 0) && r->resp.err == 0 &&
		    r->resp.len > 0)
			ws_send_binary(c, r->resp.buf, r->resp.len);
		else
			session_send_status(c, r->m.type, r->m.request_id,
					    PROTO_E_INTERNAL);
	}
	ds_req_free(r);
}

static void answer_server_info(struct conn *c, const struct proto_msg *m)
{
	struct ds *ds = c->worker->srv->ds;
	const uint8_t *key;
	size_t key_len;
	struct proto_server_info info;
	struct bw_writer *w;
	size_t mark;

	if (proto_decode_empty(m) != 0) {
		session_send_status(c, m->type, m->request_id,
				    PROTO_E_MALFORMED);
		return;
	}
	mls_signer_public_key(ds->signer, &key, &key_len);
	info = (struct proto_server_info){
		.mls_suite = ds->suite,
		.ds_signature_key = { key, key_len },
		.ds_credential = { ds->credential.p, ds->credential.len },
	};
	w = session_reply(c);
	mark = proto_begin(w, PROTO_RESPONSE, m->type, m->request_id);
	proto_encode_server_info(w, &info);
	proto_end(w, mark);
	session_send(c);
}

/* User names of a claim: each once. */
static bool users_distinct(const struct proto_kp_claim_req *req)
{
	struct proto_span a, b;
	struct bw_reader i, j;
	uint32_t k = 0;

	proto_list_iter(&req->users, &i);
	while (proto_next_user(&i, &a)) {
		proto_list_iter(&req->users, &j);
		for (uint32_t n = 0; n < k && proto_next_user(&j, &b); n++)
			if (a.n == b.n && memcmp(a.p, b.p, a.n) == 0)
				return false;
		k++;
	}
	return true;
}

/* SHA-256 of the body, what an idempotency key stands for: on the
 * worker, so that the store thread only compares it. */
static int body_hash(struct ds_req *r)
{
	return EVP_Digest(r->m.body.p, r->m.body.n, r->hash, NULL,
			  r->ds->sha256, NULL) == 1
		       ? 0
		       : BWD_ERR_STORE;
}

uint16_t ds_req_prepare(struct ds *ds, struct ds_req *r, const char **why)
{
	const struct proto_msg *m = &r->m;
	union {
		struct proto_kp_upload_req upload;
		struct proto_kp_claim_req claim;
		struct proto_group_create_req create;
		struct proto_group_commit_req commit;
		struct proto_group_message_req message;
		struct proto_group_ref ref;
		struct proto_queue_ack_req ack;
	} u;

	*why = NULL;
	switch (m->type) {
	case PROTO_T_KP_UPLOAD:
		if (proto_decode_kp_upload_req(m, &u.upload) != 0)
			return PROTO_E_MALFORMED;
		return ds_kp_prepare(ds, r, &u.upload, why);
	case PROTO_T_KP_CLAIM:
		return proto_decode_kp_claim_req(m, &u.claim) == 0 &&
				       users_distinct(&u.claim)
			       ? 0
			       : PROTO_E_MALFORMED;
	case PROTO_T_KP_COUNT:
	case PROTO_T_GROUP_LIST:
		return proto_decode_empty(m) == 0 ? 0 : PROTO_E_MALFORMED;
	case PROTO_T_GROUP_CREATE:
		if (proto_decode_group_create_req(m, &u.create) != 0)
			return PROTO_E_MALFORMED;
		return ds_create_prepare(ds, r, &u.create, why);
	case PROTO_T_GROUP_COMMIT:
		if (proto_decode_group_commit_req(m, &u.commit) != 0)
			return PROTO_E_MALFORMED;
		return body_hash(r) == 0 ? 0 : PROTO_E_BUSY;
	case PROTO_T_GROUP_PROPOSE:
	case PROTO_T_GROUP_SEND:
		if (proto_decode_group_message_req(m, &u.message) != 0)
			return PROTO_E_MALFORMED;
		return body_hash(r) == 0 ? 0 : PROTO_E_BUSY;
	case PROTO_T_GROUP_INFO:
		return proto_decode_group_ref(m, &u.ref) == 0
			       ? 0
			       : PROTO_E_MALFORMED;
	default: /* PROTO_T_QUEUE_ACK */
		return proto_decode_queue_ack_req(m, &u.ack) == 0
			       ? 0
			       : PROTO_E_MALFORMED;
	}
}

static struct ds_req *req_new(struct conn *c, const struct proto_msg *m)
{
	struct ds_req *r = calloc(1, sizeof(*r) + m->body.n);

	if (r == NULL)
		return NULL;
	r->ds = c->worker->srv->ds;
	r->conn = c;
	r->who = *c->ident;
	r->m = *m;
	r->m.text = (struct proto_span){ NULL, 0 };
	if (m->body.n > 0)
		memcpy(r->body, m->body.p, m->body.n);
	r->m.body.p = r->body;
	bw_writer_init(&r->resp, c->worker->srv->cfg.max_message_size);
	r->job.run = ds_run_request;
	r->job.batched = true;
	r->job.reply = &c->worker->inbox;
	r->job.mail.fn = req_done;
	return r;
}

void ds_on_request(struct conn *c, const struct proto_msg *m)
{
	struct ds *ds = c->worker->srv->ds;
	struct ds_req *r;
	const char *why;
	uint16_t status;

	if (m->type == PROTO_T_SERVER_INFO) {
		answer_server_info(c, m);
		return;
	}
	if ((r = req_new(c, m)) == NULL) {
		session_send_status(c, m->type, m->request_id, PROTO_E_BUSY);
		return;
	}
	if ((status = ds_req_prepare(ds, r, &why)) != 0) {
		struct bw_writer *w = session_reply(c);

		if (why == NULL)
			why = proto_status_text(status);
		proto_encode_status_text(w, m->type, m->request_id, status,
					 why);
		session_send(c);
		ds_req_free(r);
		return;
	}
	if (storeq_submit(c->worker->srv->store, &r->job) != 0) {
		session_send_status(c, m->type, m->request_id, PROTO_E_BUSY);
		ds_req_free(r);
		return;
	}
	conn_ref(c);
}

/* session.c - requests, responses and pushes of the device protocol. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "net.h"
#include "session.h"

#define SOFTWARE "bulwark/" BULWARK_VERSION
/* The envelope around a body of the server's largest: its header and a
 * status text (docs/protocol.md, "Envelope"). */
#define ENVELOPE_MAX (8u + 2u + 2u + PROTO_MAX_TEXT + 4u)
#define PING_LEN 16u

int session_copy_text(const struct proto_span *s, char *out, size_t size)
{
	if (s->n >= size)
		return BULWARK_ERR_PROTOCOL;
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i] < ' ' || s->p[i] > '~')
			return BULWARK_ERR_PROTOCOL;
	memcpy(out, s->p, s->n);
	out[s->n] = '\0';
	return 0;
}

static int status_error(uint16_t status)
{
	switch (status) {
	case PROTO_OK:
		return 0;
	case PROTO_E_BUSY:
		return BULWARK_ERR_BUSY;
	case PROTO_E_VERSION:
		return BULWARK_ERR_VERSION;
	case PROTO_E_STALE_EPOCH:
		return BULWARK_ERR_STALE_EPOCH;
	case PROTO_E_NOT_MEMBER:
		return BULWARK_ERR_NOT_MEMBER;
	case PROTO_E_INVALID_MLS:
		return BULWARK_ERR_INVALID_MLS;
	case PROTO_E_UNKNOWN_GROUP:
		return BULWARK_ERR_UNKNOWN_GROUP;
	case PROTO_E_NO_KEY_PACKAGE:
		return BULWARK_ERR_NO_KEY_PACKAGE;
	case PROTO_E_CONFLICT:
		return BULWARK_ERR_CONFLICT;
	case PROTO_E_FORBIDDEN:
		return BULWARK_ERR_FORBIDDEN;
	case PROTO_E_UNKNOWN_USER:
		return BULWARK_ERR_UNKNOWN_USER;
	case PROTO_E_IDEMPOTENCY:
		return BULWARK_ERR_IDEMPOTENCY;
	default:
		return BULWARK_ERR_REFUSED;
	}
}

/* Something that is not the response being waited for. */
static int unsolicited(struct bulwark_session *s, const struct proto_msg *m)
{
	switch (m->kind) {
	case PROTO_PUSH:
		if (s->on_push != NULL)
			s->on_push(s->push_user, m->type, m->body.p, m->body.n);
		return 0;
	case PROTO_RESPONSE:
		/* The server could not read a request of ours as one. */
		if (m->type == PROTO_T_ERROR && m->request_id == 0) {
			s->last_status = m->status;
			return BULWARK_ERR_PROTOCOL;
		}
		return 0; /* late: its request has timed out */
	default:
		return BULWARK_ERR_PROTOCOL; /* the server makes no requests */
	}
}

static int decode(const struct bulwark_session *s, const uint8_t *msg,
		  size_t len, struct proto_msg *m)
{
	return proto_decode(msg, len, s->read_max, m) == 0
		       ? 0
		       : BULWARK_ERR_PROTOCOL;
}

static int send_request(struct bulwark_session *s, uint16_t type,
			uint32_t id, const uint8_t *body, size_t len)
{
	struct proto_msg req = {
		.version = PROTO_VERSION, .kind = PROTO_REQUEST, .type = type,
		.request_id = id, .body = { body, len },
	};
	int rc;

	bw_writer_reset(&s->req);
	s->req.err = 0;
	if (proto_encode(&s->req, &req) != 0)
		rc = BULWARK_ERR_TOO_BIG;
	else
		rc = transport_send(s->t, s->req.buf, s->req.len, s->timeout_ms);
	OPENSSL_cleanse(s->req.buf, s->req.cap); /* as the body */
	return rc;
}

int session_call(struct bulwark_session *s, uint16_t type,
		 const uint8_t *body, size_t len, struct proto_msg *resp)
{
	int64_t deadline = net_deadline(s->timeout_ms), left;
	uint32_t id = s->next_id++;
	const uint8_t *msg;
	size_t msg_len;
	int rc;

	if (s->next_id == 0)
		s->next_id = 1; /* 0 is for pushes */
	if ((rc = send_request(s, type, id, body, len)) != 0)
		return rc;
	for (;;) {
		if ((left = deadline - net_now_ms()) <= 0)
			return BULWARK_ERR_TIMEOUT;
		if ((rc = transport_recv(s->t, (int)left, &msg, &msg_len)) != 0 ||
		    (rc = decode(s, msg, msg_len, resp)) != 0)
			return rc;
		if (resp->kind == PROTO_RESPONSE && resp->request_id == id)
			break;
		if ((rc = unsolicited(s, resp)) != 0)
			return rc;
	}
	if (resp->type != type)
		return BULWARK_ERR_PROTOCOL;
	s->last_status = resp->status;
	return status_error(resp->status);
}

struct bw_writer *session_body(struct bulwark_session *s)
{
	bw_writer_reset(&s->body);
	s->body.err = 0;
	return &s->body;
}

int session_call_body(struct bulwark_session *s, uint16_t type,
		      struct proto_msg *resp)
{
	int rc = s->body.err != 0 ? BW_ERR_NOMEM
				  : session_call(s, type, s->body.buf,
						 s->body.len, resp);

	/* Bodies carry key confirmations: nothing stays behind. */
	OPENSSL_cleanse(s->body.buf, s->body.cap);
	return rc;
}

/* A push carries a message a member sent within the server's limit, and
 * its Deliver fields (group id, seq, kind, timestamp, lengths). */
#define PUSH_FIELDS_MAX (PROTO_MAX_GROUP_ID + 64u)

/* The server takes messages of up to max_message (its max_message_size,
 * which an operator raises for the commits and Welcomes of large groups)
 * from every member, so pushes can be that large: read and send up to it,
 * never less than the default, never more than the protocol's bound. */
static void follow_limit(struct bulwark_session *s)
{
	size_t limit = s->max_message;

	if (limit < PROTO_MAX_MESSAGE_AUTH)
		limit = PROTO_MAX_MESSAGE_AUTH;
	if (limit > PROTO_MAX_MLS_MESSAGE)
		limit = PROTO_MAX_MLS_MESSAGE;
	s->read_max = limit + PUSH_FIELDS_MAX;
	transport_set_max_message(s->t, s->read_max + ENVELOPE_MAX);
	bw_writer_set_max(&s->body, limit);
	bw_writer_set_max(&s->req, limit + ENVELOPE_MAX);
}

static int hello(struct bulwark_session *s)
{
	struct proto_hello_req req = {
		PROTO_VERSION_MIN, PROTO_VERSION_MAX,
		{ (const uint8_t *)SOFTWARE, sizeof(SOFTWARE) - 1 },
	};
	struct proto_hello_resp resp;
	struct proto_msg m;
	int rc;

	proto_encode_hello_req(session_body(s), &req);
	if ((rc = session_call_body(s, PROTO_T_HELLO, &m)) != 0)
		return rc;
	if (proto_decode_hello_resp(&m, &resp) != 0 ||
	    session_copy_text(&resp.server_name, s->server_name,
			      sizeof(s->server_name)) != 0 ||
	    session_copy_text(&resp.software, s->software,
			      sizeof(s->software)) != 0)
		return BULWARK_ERR_PROTOCOL;
	if (resp.version < PROTO_VERSION_MIN || resp.version > PROTO_VERSION_MAX)
		return BULWARK_ERR_VERSION;
	s->authenticated = resp.authenticated;
	s->max_message = resp.max_message;
	follow_limit(s);
	return 0;
}

int session_open(struct transport_config *cfg, struct bulwark_session **out)
{
	struct bulwark_session *s;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return BW_ERR_NOMEM;
	s->timeout_ms = cfg->timeout_ms;
	s->next_id = 1;
	s->read_max = PROTO_MAX_MESSAGE_AUTH;
	bw_writer_init(&s->body, PROTO_MAX_MESSAGE_AUTH);
	bw_writer_init(&s->req, PROTO_MAX_MESSAGE_AUTH + ENVELOPE_MAX);
	cfg->max_message = PROTO_MAX_MESSAGE_AUTH + ENVELOPE_MAX;
	if ((rc = transport_open(cfg, &s->t)) != 0 || (rc = hello(s)) != 0) {
		bulwark_session_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* ---- the public API ---- */

void bulwark_session_free(struct bulwark_session *s)
{
	if (s == NULL)
		return;
	transport_free(s->t);
	bw_writer_free(&s->body);
	bw_writer_free(&s->req);
	free(s);
}

void bulwark_session_set_push_handler(struct bulwark_session *s,
				      bulwark_push_fn fn, void *user)
{
	s->on_push = fn;
	s->push_user = user;
}

int bulwark_session_fd(const struct bulwark_session *s)
{
	return transport_fd(s->t);
}

int bulwark_session_poll(struct bulwark_session *s, int timeout_ms)
{
	const uint8_t *msg;
	size_t len;
	struct proto_msg m;
	int rc;

	/* Wait once, then take whatever else is already there. */
	for (int wait = timeout_ms;; wait = 0) {
		rc = transport_recv(s->t, wait, &msg, &len);
		if (rc == BULWARK_ERR_TIMEOUT)
			return 0;
		if (rc != 0 || (rc = decode(s, msg, len, &m)) != 0 ||
		    (rc = unsolicited(s, &m)) != 0)
			return rc;
	}
}

const char *bulwark_session_server_name(const struct bulwark_session *s)
{
	return s->server_name;
}

const char *bulwark_session_server_software(const struct bulwark_session *s)
{
	return s->software;
}

int bulwark_session_whoami(struct bulwark_session *s,
			   struct bulwark_whoami *out)
{
	struct proto_whoami_resp resp;
	struct proto_msg m;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = session_call(s, PROTO_T_WHOAMI, NULL, 0, &m)) != 0)
		return rc;
	if (proto_decode_whoami_resp(&m, &resp) != 0 ||
	    session_copy_text(&resp.user, out->user, sizeof(out->user)) != 0 ||
	    session_copy_text(&resp.device_id, out->device_id,
			      sizeof(out->device_id)) != 0 ||
	    session_copy_text(&resp.device_name, out->device_name,
			      sizeof(out->device_name)) != 0)
		return BULWARK_ERR_PROTOCOL;
	out->server_time = resp.server_time;
	return 0;
}

int bulwark_session_ping(struct bulwark_session *s)
{
	uint8_t data[PING_LEN];
	struct proto_ping ping = { { data, sizeof(data) } }, echo;
	struct proto_msg m;
	int rc;

	if (RAND_bytes(data, sizeof(data)) != 1)
		return BULWARK_ERR_TLS;
	proto_encode_ping(session_body(s), &ping);
	if ((rc = session_call_body(s, PROTO_T_PING, &m)) != 0)
		return rc;
	if (proto_decode_ping(&m, &echo) != 0 || echo.data.n != sizeof(data) ||
	    memcmp(echo.data.p, data, sizeof(data)) != 0)
		return BULWARK_ERR_PROTOCOL;
	return 0;
}

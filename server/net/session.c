/* session.c - dispatch of the device protocol's requests. */
#include <string.h>
#include <time.h>

#include "activation.h"
#include "ds.h"
#include "log.h"
#include "proto.h"
#include "session.h"
#include "worker.h"
#include "ws.h"

struct bw_writer *session_reply(struct conn *c)
{
	bw_writer_reset(&c->worker->reply);
	c->worker->reply.err = 0;
	return &c->worker->reply;
}

int session_send(struct conn *c)
{
	struct bw_writer *w = &c->worker->reply;

	if (w->err != 0) {
		log_warn("connection %s: cannot encode a reply: %s", c->peer,
			 proto_strerror(w->err));
		return -1;
	}
	return ws_send_binary(c, w->buf, w->len);
}

void session_send_status(struct conn *c, uint16_t type, uint32_t request_id,
			 uint16_t status)
{
	struct bw_writer *w = session_reply(c);

	proto_encode_status(w, type, request_id, status);
	session_send(c);
}

/* Answer an error; a connection without a certificate has a small budget
 * of them, so a hostile peer cannot keep a slot busy for free. */
static void refuse(struct conn *c, uint16_t type, uint32_t request_id,
		   uint16_t status)
{
	session_send_status(c, type, request_id, status);
	if (c->errors < UINT8_MAX)
		c->errors++;
	if (!c->authenticated && c->errors > SESSION_MAX_PREAUTH_ERRORS)
		conn_close_ws(c, WS_CLOSE_POLICY, "too many errors");
}

static void on_hello(struct conn *c, const struct proto_msg *m)
{
	const struct bwd_config *cfg = &c->worker->srv->cfg;
	struct proto_hello_req req;
	struct proto_hello_resp resp = {
		.version = PROTO_VERSION_MAX,
		.authenticated = c->authenticated,
		.max_message = c->max_message,
		.server_name = { (const uint8_t *)cfg->server_name,
				 strlen(cfg->server_name) },
		.software = { (const uint8_t *)BWD_SOFTWARE,
			      sizeof(BWD_SOFTWARE) - 1 },
	};
	struct bw_writer *w;
	size_t mark;

	if (proto_decode_hello_req(m, &req) != 0) {
		refuse(c, m->type, m->request_id, PROTO_E_MALFORMED);
		return;
	}
	/* The highest version both speak. */
	if (req.max_version < PROTO_VERSION_MIN ||
	    req.min_version > PROTO_VERSION_MAX) {
		refuse(c, m->type, m->request_id, PROTO_E_VERSION);
		return;
	}
	if (req.max_version < resp.version)
		resp.version = req.max_version;
	c->hello_done = true;
	w = session_reply(c);
	mark = proto_begin(w, PROTO_RESPONSE, PROTO_T_HELLO, m->request_id);
	proto_encode_hello_resp(w, &resp);
	proto_end(w, mark);
	session_send(c);
	/* Then the device's backlog, and SYNCED. */
	if (c->authenticated && !c->closed)
		ds_on_hello(c);
}

static void on_ping(struct conn *c, const struct proto_msg *m)
{
	struct proto_ping ping;
	struct bw_writer *w;
	size_t mark;

	if (proto_decode_ping(m, &ping) != 0) {
		refuse(c, m->type, m->request_id, PROTO_E_MALFORMED);
		return;
	}
	w = session_reply(c);
	mark = proto_begin(w, PROTO_RESPONSE, PROTO_T_PING, m->request_id);
	proto_encode_ping(w, &ping);
	proto_end(w, mark);
	session_send(c);
}

static struct proto_span text_span(const char *s)
{
	return (struct proto_span){ (const uint8_t *)s, strlen(s) };
}

static void on_whoami(struct conn *c, const struct proto_msg *m)
{
	struct proto_whoami_resp resp = {
		.user = text_span(c->ident->user),
		.device_id = text_span(c->ident->id),
		.device_name = text_span(c->ident->name),
		.server_time = (uint64_t)time(NULL),
	};
	struct bw_writer *w;
	size_t mark;

	if (m->body.n != 0) {
		refuse(c, m->type, m->request_id, PROTO_E_MALFORMED);
		return;
	}
	w = session_reply(c);
	mark = proto_begin(w, PROTO_RESPONSE, PROTO_T_WHOAMI, m->request_id);
	proto_encode_whoami_resp(w, &resp);
	proto_end(w, mark);
	session_send(c);
}

static bool is_activation(uint16_t type)
{
	return type == PROTO_T_ACTIVATE_PARAMS ||
	       type == PROTO_T_ACTIVATE_START ||
	       type == PROTO_T_ACTIVATE_FINISH;
}

static bool is_known(uint16_t type)
{
	return type == PROTO_T_HELLO || type == PROTO_T_PING ||
	       type == PROTO_T_WHOAMI || is_activation(type) ||
	       ds_handles(type);
}

/* Which requests the connection's state allows. */
static bool allowed(const struct conn *c, uint16_t type)
{
	if (type == PROTO_T_HELLO)
		return true;
	if (!c->hello_done)
		return false;
	if (is_activation(type))
		return !c->authenticated;
	return c->authenticated;
}

static void dispatch(struct conn *c, const struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_T_HELLO:
		on_hello(c, m);
		break;
	case PROTO_T_PING:
		on_ping(c, m);
		break;
	case PROTO_T_WHOAMI:
		on_whoami(c, m);
		break;
	default:
		if (ds_handles(m->type))
			ds_on_request(c, m);
		else
			activation_on_request(c, m);
		break;
	}
}

void session_on_message(struct conn *c, const uint8_t *p, size_t n)
{
	struct proto_msg m;
	int rc;

	if ((rc = proto_decode(p, n, c->max_message, &m)) != 0) {
		log_debug("connection %s: undecodable message: %s", c->peer,
			  proto_strerror(rc));
		refuse(c, PROTO_T_ERROR, 0,
		       rc == PROTO_ERR_VERSION ? PROTO_E_VERSION
					       : PROTO_E_MALFORMED);
		return;
	}
	if (m.kind != PROTO_REQUEST) {
		refuse(c, m.type, m.request_id, PROTO_E_NOT_ALLOWED);
		return;
	}
	if (!is_known(m.type)) {
		refuse(c, m.type, m.request_id, PROTO_E_UNKNOWN_TYPE);
		return;
	}
	if (!allowed(c, m.type)) {
		refuse(c, m.type, m.request_id, PROTO_E_NOT_ALLOWED);
		return;
	}
	dispatch(c, &m);
}

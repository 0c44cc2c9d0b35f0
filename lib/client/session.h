/*
 * session.h - the device protocol over a transport, inside libbulwark:
 * HELLO, then requests matched to their responses by request id, and
 * pushes handed to the push handler whenever they arrive. The public
 * half is in bulwark.h (struct bulwark_session); this header is for the
 * library's other modules and the integration test client.
 *
 * Every request waits at most the session's timeout for its response. A
 * response to an earlier request that timed out is recognised by its id
 * and dropped.
 */
#ifndef BW_CLIENT_SESSION_H
#define BW_CLIENT_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "bulwark/bulwark.h"
#include "proto.h"
#include "transport.h"

struct bulwark_session {
	struct transport *t;
	int timeout_ms;
	uint32_t next_id;
	uint16_t last_status; /* of the last response, PROTO_OK when none */
	bulwark_push_fn on_push;
	void *push_user;
	/* from HELLO */
	bool authenticated;
	uint32_t max_message; /* the server's limit for our messages */
	size_t read_max;      /* the body of a message from the server */
	char server_name[BULWARK_MAX_SERVER_NAME + 1];
	char software[PROTO_MAX_SOFTWARE + 1];
	struct bw_writer body; /* the body of the next request */
	struct bw_writer req;  /* the request being sent; both wiped after */
};

/* Connect with cfg and say HELLO. cfg->max_message is set here. */
int session_open(struct transport_config *cfg, struct bulwark_session **out);
/* Send a request with body[0..len) and wait for its response. 0 when the
 * status is PROTO_OK, with *resp valid until the next call; otherwise
 * s->last_status holds the server's status, *resp is still the response
 * (a stale epoch's carries the current epoch), and the result is
 * BULWARK_ERR_BUSY, BULWARK_ERR_VERSION, the error of a conversation
 * status (8..16: BULWARK_ERR_STALE_EPOCH and the codes after it) or
 * BULWARK_ERR_REFUSED. */
int session_call(struct bulwark_session *s, uint16_t type,
		 const uint8_t *body, size_t len, struct proto_msg *resp);
/* The body of the next request, empty: encode into it, then call
 * session_call_body(). */
struct bw_writer *session_body(struct bulwark_session *s);
/* session_call() with the body encoded into session_body(); an encoding
 * that failed is BW_ERR_NOMEM and sends nothing. */
int session_call_body(struct bulwark_session *s, uint16_t type,
		      struct proto_msg *resp);
/* Copy a name the server sent into out (size bytes): printable ASCII
 * only, else BULWARK_ERR_PROTOCOL. */
int session_copy_text(const struct proto_span *s, char *out, size_t size);

#endif

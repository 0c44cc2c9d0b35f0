/*
 * session.h - the device protocol on an open WebSocket (docs/protocol.md):
 * decode each message, check it is allowed in the connection's state, and
 * answer. Before authentication only HELLO and the activation requests are
 * allowed; every refusal is an error response, never a crash.
 */
#ifndef BWD_SESSION_H
#define BWD_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "conn.h"

/* Protocol errors a connection may cause before authentication before it
 * is closed (an authenticated device only gets error responses). */
#define SESSION_MAX_PREAUTH_ERRORS 8

/* One complete WebSocket message from the device. */
void session_on_message(struct conn *c, const uint8_t *p, size_t n);
/* Send the message in the worker's reply writer as one binary message. */
int session_send(struct conn *c);
/* Answer with a status only (an error, or an empty success). */
void session_send_status(struct conn *c, uint16_t type, uint32_t request_id,
			 uint16_t status);
/* The worker's reply writer, reset and ready for a new message. */
struct bw_writer *session_reply(struct conn *c);

#endif

/*
 * ws.h - WebSocket (RFC 6455) on a connection, with wslay's frame layer:
 * wslay decodes and encodes frames, this module enforces Bulwark's rules.
 *
 * Accepted from a device: masked binary messages, possibly fragmented,
 * whose total never exceeds the connection's limit and which complete
 * within message_timeout; ping (answered with pong), pong, close. Refused
 * with a close frame: text (1003), unmasked frames, reserved bits, unknown
 * opcodes, a continuation with nothing to continue or a data frame inside
 * a fragmented message (1002), an oversize message (1009).
 */
#ifndef BWD_WS_H
#define BWD_WS_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

/* Process whatever the connection has to read. */
void ws_on_readable(struct conn *c);
/* Send one binary message. */
int ws_send_binary(struct conn *c, const uint8_t *p, size_t n);
/* Send a close frame with a status code and a short reason. */
int ws_send_close(struct conn *c, uint16_t code, const char *reason);
/* Free the decoder and the buffers of a closing connection. */
void ws_clear(struct conn *c);
/* The worker's frame encoder, writing into w->scratch. */
int ws_encoder_new(struct worker *w);

#endif

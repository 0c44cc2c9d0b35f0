/*
 * upgrade.h - the HTTP/1.1 request that opens a WebSocket (RFC 6455 §4.2),
 * parsed with http-parser; this module only checks what it found.
 *
 * Accepted: GET PROTO_WS_PATH HTTP/1.1 with Upgrade: websocket,
 * Connection: upgrade, Sec-WebSocket-Version: 13, a Sec-WebSocket-Key of
 * 16 bytes and PROTO_WS_SUBPROTOCOL among Sec-WebSocket-Protocol. Anything
 * else gets an HTTP error status and the connection is closed.
 */
#ifndef BWD_UPGRADE_H
#define BWD_UPGRADE_H

#include <stddef.h>
#include <stdint.h>

#include "ws_handshake.h"

/* The whole request line and headers must fit in this. */
#define UPGRADE_MAX_REQUEST WSH_MAX_HEAD

enum upgrade_result {
	UPGRADE_MORE = 0,   /* need more bytes */
	UPGRADE_ACCEPT = 1, /* valid: send upgrade_response() */
	UPGRADE_REJECT = 2, /* send upgrade_error_response(status) */
};

struct upgrade;

int upgrade_new(struct upgrade **out);
void upgrade_free(struct upgrade *u);
/* Feed request bytes. *used tells how many belong to the request; bytes
 * after an accepted request are the first WebSocket frames. */
enum upgrade_result upgrade_feed(struct upgrade *u, const uint8_t *p,
				 size_t n, size_t *used);
/* The HTTP status of a rejected request (400, 404, 405, 426, 431). */
int upgrade_status(const struct upgrade *u);
/* The 101 Switching Protocols response; returns its length or 0. */
size_t upgrade_response(const struct upgrade *u, char *buf, size_t size);
/* A short error response that closes the connection. */
size_t upgrade_error_response(int status, char *buf, size_t size);

#endif

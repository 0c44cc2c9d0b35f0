/*
 * ws_client.h - the client end of a WebSocket (RFC 6455) for libbulwark:
 * the opening handshake (its HTTP half in lib/proto/ws_handshake.c, which
 * the server shares) and frames with wslay's frame layer, as the server
 * uses it.
 *
 * The module does no waiting and no writing of its own: it pulls bytes
 * from a non-blocking source (TLS in transport.c, memory in the fuzz
 * target) and appends every frame it produces (masked, §5.3) to w->out,
 * which the caller writes out. So the same code serves a blocking CLI and
 * an event loop.
 *
 * Accepted from the server: unmasked binary messages, possibly fragmented,
 * up to max_message bytes in all; ping (answered with pong), pong, close
 * (answered with close, §5.5.1). Refused, with a close frame queued: text
 * (1003), masked frames, reserved bits, unknown opcodes, a continuation of
 * nothing or a data frame inside a fragmented message (1002), an oversize
 * message (1009).
 */
#ifndef BW_CLIENT_WS_CLIENT_H
#define BW_CLIENT_WS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <wslay/wslay.h>

#include "codec.h"
#include "ws_handshake.h"

/* Returned (positive) when the source has nothing more for now, or a
 * budget of frames has been handled: write w->out, wait, call again. */
#define WSC_AGAIN 1
#define WSC_CTRL_MAX 125 /* §5.5 */
/* Frames handled per call before the caller gets to flush and check its
 * deadline: a server that floods pings cannot hold the client forever. */
#define WSC_BUDGET 64

enum ws_close_status {
	WSC_CLOSE_NORMAL = 1000,
	WSC_CLOSE_PROTOCOL = 1002,
	WSC_CLOSE_UNSUPPORTED = 1003,
	WSC_CLOSE_POLICY = 1008,
	WSC_CLOSE_TOO_BIG = 1009,
};

/* The byte stream under the WebSocket. > 0: bytes read; 0: none now; < 0:
 * an error code (BULWARK_ERR_CLOSED at the end of the stream). */
typedef ssize_t (*wsc_read_fn)(void *io, uint8_t *buf, size_t n);

struct wsc {
	wslay_frame_context_ptr frames;
	wsc_read_fn read;
	void *io;
	int read_err;  /* why the source stopped, 0 if it only ran dry */
	bool blocked;  /* the last read found nothing */
	int failed;    /* the error that ended the connection, or 0 */
	/* bytes that came with the upgrade response: the first frames */
	uint8_t *early;
	size_t early_len, early_off;
	/* the frame and the message being received */
	size_t max_message;
	bool in_frame, in_message, delivered;
	uint8_t opcode;
	uint64_t frame_len, frame_off;
	struct bw_writer msg;
	uint8_t ctrl[WSC_CTRL_MAX];
	size_t ctrl_len;
	/* frames waiting to be written */
	struct bw_writer out;
	bool close_sent, close_received;
	uint16_t close_code; /* the server's, 0 if it gave none */
	char close_reason[WSC_CTRL_MAX];
	/* the opening handshake */
	struct wsh head;
	char accept[WSH_ACCEPT_LEN + 1]; /* the value the server must send */
	int http_status;
};

/* A WebSocket over the source read(io, ...), receiving messages of at
 * most max_message bytes. */
int wsc_init(struct wsc *w, wsc_read_fn read, void *io, size_t max_message);
/* Free everything (w itself is the caller's). */
void wsc_clear(struct wsc *w);

/* Queue the upgrade request for GET PROTO_WS_PATH on host (the Host
 * header: "HOST:PORT"), with a fresh random key. */
int wsc_upgrade_request(struct wsc *w, const char *host);
/* Read the response: 0 once it has been accepted (its Sec-WebSocket-Accept
 * matches the key), WSC_AGAIN for more, BULWARK_ERR_UPGRADE if refused
 * (w->http_status says how), or the source's error. */
int wsc_upgrade_read(struct wsc *w);

/* The next binary message: 0 with *msg valid until the next call,
 * WSC_AGAIN, BULWARK_ERR_CLOSED once the server has closed (w->close_code,
 * w->close_reason), or another error, after which the connection is done. */
int wsc_recv(struct wsc *w, const uint8_t **msg, size_t *len);
/* Accept messages of up to max bytes from now on. */
void wsc_set_max_message(struct wsc *w, size_t max);
/* Queue one binary message, unfragmented. */
int wsc_send(struct wsc *w, const uint8_t *p, size_t n);
/* Queue a close frame (once). */
int wsc_send_close(struct wsc *w, uint16_t code);

#endif

/* ws.c - WebSocket frames in and out of a connection (RFC 6455 §5). */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "session.h"
#include "worker.h"
#include "ws.h"

/* Chunks handled per wake-up before other connections get their turn. */
#define WS_BUDGET 64
#define WS_CTRL_MAX 125 /* §5.5 */

/* ---- input ---- */

static ssize_t recv_cb(uint8_t *buf, size_t len, int flags, void *user)
{
	struct worker *w = user;
	struct conn *c = w->ws_reading;
	size_t n;

	(void)flags;
	if (c->early != NULL) {
		/* Frames that came in the same read as the upgrade request. */
		n = c->early_len - c->early_off;
		if (n > len)
			n = len;
		memcpy(buf, c->early + c->early_off, n);
		c->early_off += (uint32_t)n;
		if (c->early_off == c->early_len) {
			free(c->early);
			c->early = NULL;
		}
		c->ws_fed += n;
		return (ssize_t)n;
	}
	if ((n = conn_read(c, buf, len)) == 0)
		return -1; /* wslay: want read; c->io tells would-block or EOF */
	c->ws_fed += n;
	return (ssize_t)n;
}

static int genmask_cb(uint8_t *buf, size_t len, void *user)
{
	(void)buf;
	(void)len;
	(void)user;
	return -1; /* a server never masks (§5.1) */
}

static ssize_t send_cb(const uint8_t *data, size_t len, int flags, void *user)
{
	struct worker *w = user;

	(void)flags;
	return bw_write_bytes(&w->scratch, data, len) == 0 ? (ssize_t)len : -1;
}

static const struct wslay_frame_callbacks decoder_cbs = {
	.recv_callback = recv_cb,
	.genmask_callback = genmask_cb,
};

static const struct wslay_frame_callbacks encoder_cbs = {
	.send_callback = send_cb,
	.genmask_callback = genmask_cb,
};

int ws_encoder_new(struct worker *w)
{
	return wslay_frame_context_init(&w->ws_out, &encoder_cbs, w) == 0 ? 0
									 : -1;
}

/* Size of the header wslay consumed for a frame: it accepts only minimal
 * length encodings (§5.2), so this is exact. */
static uint64_t header_len(uint64_t payload, bool masked)
{
	uint64_t n = 2 + (masked ? 4 : 0);

	if (payload >= 65536)
		return n + 8;
	return payload >= 126 ? n + 2 : n;
}

static void drop_message(struct conn *c)
{
	free(c->msg);
	c->msg = NULL;
	c->msg_len = c->msg_cap = 0;
	c->in_message = false;
	c->msg_deadline = 0;
}

void ws_clear(struct conn *c)
{
	if (c->ws != NULL) {
		wslay_frame_context_free(c->ws);
		c->ws = NULL;
	}
	drop_message(c);
	free(c->ctrl);
	c->ctrl = NULL;
	free(c->early);
	c->early = NULL;
}

/* An idle connection gives its decoder back: only when no frame is half
 * read and every byte fed to wslay belonged to a complete frame, so that
 * wslay waits for a header with nothing buffered, as a new decoder does.
 * The worker keeps one for the next connection that reads: a decoder is
 * 4 KiB that calloc would zero at every readable event. */
static void release_decoder(struct conn *c)
{
	struct worker *w = c->worker;

	if (c->ws == NULL || c->in_frame || c->in_message ||
	    c->early != NULL || c->ws_fed != c->ws_used)
		return;
	if (w->ws_spare == NULL)
		w->ws_spare = c->ws;
	else
		wslay_frame_context_free(c->ws);
	c->ws = NULL;
}

static int take_decoder(struct conn *c)
{
	struct worker *w = c->worker;

	if (c->ws != NULL)
		return 0;
	if (w->ws_spare == NULL)
		return wslay_frame_context_init(&c->ws, &decoder_cbs, w);
	c->ws = w->ws_spare;
	w->ws_spare = NULL;
	return 0;
}

static int frame_start(struct conn *c, const struct wslay_frame_iocb *f)
{
	if (f->rsv != 0 || !f->mask) {
		conn_close_ws(c, WS_CLOSE_PROTOCOL,
			      f->mask ? "reserved bits set" : "unmasked frame");
		return -1;
	}
	switch (f->opcode) {
	case WSLAY_BINARY_FRAME:
		if (c->in_message)
			goto protocol;
		c->in_message = true;
		c->msg_deadline = c->worker->now + c->worker->srv->cfg.message_timeout;
		break;
	case WSLAY_CONTINUATION_FRAME:
		if (!c->in_message)
			goto protocol;
		break;
	case WSLAY_TEXT_FRAME:
		conn_close_ws(c, WS_CLOSE_UNSUPPORTED, "binary frames only");
		return -1;
	case WSLAY_PING:
	case WSLAY_PONG:
	case WSLAY_CONNECTION_CLOSE:
		/* wslay has checked: fin set and at most 125 bytes */
		c->ctrl_len = 0;
		break;
	default:
		goto protocol;
	}
	if (!wslay_is_ctrl_frame(f->opcode) &&
	    f->payload_length > (uint64_t)c->max_message - c->msg_len) {
		conn_close_ws(c, WS_CLOSE_TOO_BIG, "message too big");
		return -1;
	}
	c->in_frame = true;
	c->frame_opcode = f->opcode;
	c->frame_len = f->payload_length;
	c->frame_off = 0;
	c->ws_used += header_len(f->payload_length, f->mask);
	return 0;
protocol:
	conn_close_ws(c, WS_CLOSE_PROTOCOL, "unexpected frame");
	return -1;
}

static int append_data(struct conn *c, const uint8_t *p, size_t n)
{
	uint64_t need = (uint64_t)c->msg_len + (c->frame_len - c->frame_off);
	uint8_t *grown;

	/* Room for the rest of this frame; frame_start checked the limit. */
	if (need > c->msg_cap) {
		if ((grown = realloc(c->msg, need)) == NULL) {
			conn_close_ws(c, WS_CLOSE_INTERNAL, "out of memory");
			return -1;
		}
		c->msg = grown;
		c->msg_cap = (uint32_t)need;
	}
	memcpy(c->msg + c->msg_len, p, n);
	c->msg_len += (uint32_t)n;
	return 0;
}

static int append_ctrl(struct conn *c, const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	if (c->ctrl == NULL && (c->ctrl = malloc(WS_CTRL_MAX)) == NULL) {
		conn_close_ws(c, WS_CLOSE_INTERNAL, "out of memory");
		return -1;
	}
	memcpy(c->ctrl + c->ctrl_len, p, n);
	c->ctrl_len = (uint8_t)(c->ctrl_len + n);
	return 0;
}

/* ---- output ---- */


static int send_frame(struct conn *c, uint8_t opcode, const uint8_t *p,
		      size_t n)
{
	struct worker *w = c->worker;
	struct wslay_frame_iocb f = {
		.fin = 1, .opcode = opcode, .payload_length = n,
		.data = p, .data_length = n,
	};

	bw_writer_reset(&w->scratch);
	if (wslay_frame_send(w->ws_out, &f) != (ssize_t)n)
		return -1;
	return conn_write(c, w->scratch.buf, w->scratch.len);
}

/* ---- input, continued ---- */

static void control_done(struct conn *c)
{
	switch (c->frame_opcode) {
	case WSLAY_PING:
		send_frame(c, WSLAY_PONG, c->ctrl, c->ctrl_len);
		break;
	case WSLAY_CONNECTION_CLOSE:
		/* Answer with a close of our own, then close (§5.5.1). */
		conn_close_ws(c, WS_CLOSE_NORMAL, "");
		break;
	default:
		break; /* pong: nothing to do */
	}
	free(c->ctrl);
	c->ctrl = NULL;
	c->ctrl_len = 0;
}

/* A frame's chunk arrived; returns -1 once the connection is closed. */
static int on_chunk(struct conn *c, const struct wslay_frame_iocb *f)
{
	bool whole;

	if (!c->in_frame && frame_start(c, f) != 0)
		return -1;
	whole = c->frame_off == 0 && f->data_length == c->frame_len;
	if (wslay_is_ctrl_frame(c->frame_opcode)) {
		if (append_ctrl(c, f->data, f->data_length) != 0)
			return -1;
	} else if (!(whole && f->fin && c->msg_len == 0) &&
		   append_data(c, f->data, f->data_length) != 0) {
		return -1;
	}
	c->frame_off += f->data_length;
	if (c->frame_off < c->frame_len)
		return 0;
	c->in_frame = false;
	c->ws_used += c->frame_len;
	if (wslay_is_ctrl_frame(c->frame_opcode)) {
		control_done(c);
		return c->closed || c->state == CONN_CLOSING ? -1 : 0;
	}
	if (!f->fin)
		return 0;
	conn_touch(c);
	if (whole && c->msg_len == 0) {
		/* Unfragmented and in one piece: no copy. */
		c->in_message = false;
		c->msg_deadline = 0;
		session_on_message(c, f->data, f->data_length);
	} else {
		session_on_message(c, c->msg, c->msg_len);
		drop_message(c);
	}
	return c->closed || c->state == CONN_CLOSING ? -1 : 0;
}

void ws_on_readable(struct conn *c)
{
	struct wslay_frame_iocb f;
	ssize_t r;

	for (int budget = WS_BUDGET; budget > 0; budget--) {
		if (c->closed || c->paused || c->state != CONN_WS)
			return;
		if (take_decoder(c) != 0) {
			conn_close(c, "out of memory");
			return;
		}
		c->io = CONN_IO_OK;
		memset(&f, 0, sizeof(f));
		c->worker->ws_reading = c;
		r = wslay_frame_recv(c->ws, &f);
		if (r == WSLAY_ERR_WANT_READ) {
			if (c->io == CONN_IO_EOF)
				conn_close(c, "peer closed the connection");
			else
				release_decoder(c);
			return;
		}
		if (r < 0) {
			conn_close_ws(c, WS_CLOSE_PROTOCOL, "malformed frame");
			return;
		}
		if (on_chunk(c, &f) != 0)
			return;
	}
	worker_defer(c->worker, c); /* more may be waiting: later */
}

int ws_send_binary(struct conn *c, const uint8_t *p, size_t n)
{
	return send_frame(c, WSLAY_BINARY_FRAME, p, n);
}

int ws_send_close(struct conn *c, uint16_t code, const char *reason)
{
	uint8_t payload[WS_CTRL_MAX];
	size_t n = strnlen(reason, WS_CTRL_MAX - 2);

	payload[0] = (uint8_t)(code >> 8);
	payload[1] = (uint8_t)code;
	memcpy(payload + 2, reason, n);
	return send_frame(c, WSLAY_CONNECTION_CLOSE, payload, n + 2);
}

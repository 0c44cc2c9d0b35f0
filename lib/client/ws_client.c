/* ws_client.c - WebSocket client: opening handshake and frames (RFC 6455
 * §4.1, §5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "bulwark/bulwark.h"
#include "proto.h"
#include "ws_client.h"

/* Output never holds more than a message and a few control frames. */
#define WSC_OUT_SLACK (64u * 1024u)

/* ---- wslay callbacks ---- */

static ssize_t recv_cb(uint8_t *buf, size_t len, int flags, void *user)
{
	struct wsc *w = user;
	ssize_t n;

	(void)flags;
	if (w->early != NULL) {
		size_t k = w->early_len - w->early_off;

		if (k > len)
			k = len;
		memcpy(buf, w->early + w->early_off, k);
		w->early_off += k;
		if (w->early_off == w->early_len) {
			free(w->early);
			w->early = NULL;
		}
		return (ssize_t)k;
	}
	n = w->read(w->io, buf, len);
	w->blocked = n == 0;
	if (n < 0)
		w->read_err = (int)n;
	return n > 0 ? n : -1; /* wslay: want read */
}

static ssize_t send_cb(const uint8_t *data, size_t len, int flags, void *user)
{
	struct wsc *w = user;

	(void)flags;
	return bw_write_bytes(&w->out, data, len) == 0 ? (ssize_t)len : -1;
}

static int mask_cb(uint8_t *buf, size_t len, void *user)
{
	(void)user;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static const struct wslay_frame_callbacks frame_cbs = {
	.send_callback = send_cb,
	.recv_callback = recv_cb,
	.genmask_callback = mask_cb,
};

int wsc_init(struct wsc *w, wsc_read_fn read, void *io, size_t max_message)
{
	memset(w, 0, sizeof(*w));
	w->read = read;
	w->io = io;
	w->max_message = max_message;
	bw_writer_init(&w->msg, max_message);
	bw_writer_init(&w->out, max_message + WSC_OUT_SLACK);
	wsh_init(&w->head, HTTP_RESPONSE);
	return wslay_frame_context_init(&w->frames, &frame_cbs, w) == 0
		       ? 0
		       : BW_ERR_NOMEM;
}

void wsc_set_max_message(struct wsc *w, size_t max)
{
	w->max_message = max;
	bw_writer_set_max(&w->msg, max);
	bw_writer_set_max(&w->out, max + WSC_OUT_SLACK);
}

void wsc_clear(struct wsc *w)
{
	if (w->frames != NULL)
		wslay_frame_context_free(w->frames);
	free(w->early);
	bw_writer_free(&w->msg);
	bw_writer_free(&w->out);
	memset(w, 0, sizeof(*w));
}

/* ---- output ---- */

static int send_frame(struct wsc *w, uint8_t opcode, const uint8_t *p,
		      size_t n)
{
	struct wslay_frame_iocb f = {
		.fin = 1, .opcode = opcode, .mask = 1, .payload_length = n,
		.data = p, .data_length = n,
	};

	return wslay_frame_send(w->frames, &f) == (ssize_t)n ? 0
							     : BW_ERR_NOMEM;
}

int wsc_send(struct wsc *w, const uint8_t *p, size_t n)
{
	if (w->failed != 0)
		return w->failed;
	if (w->close_sent || w->close_received)
		return BULWARK_ERR_CLOSED;
	return send_frame(w, WSLAY_BINARY_FRAME, p, n);
}

int wsc_send_close(struct wsc *w, uint16_t code)
{
	uint8_t payload[2] = { (uint8_t)(code >> 8), (uint8_t)code };

	if (w->close_sent)
		return 0;
	w->close_sent = true;
	return send_frame(w, WSLAY_CONNECTION_CLOSE, payload, sizeof(payload));
}

/* The server broke the rules: tell it why (§7.1.7) and stop. */
static int fail(struct wsc *w, uint16_t code, int err)
{
	wsc_send_close(w, code);
	w->failed = err;
	return err;
}

/* ---- the opening handshake ---- */

int wsc_upgrade_request(struct wsc *w, const char *host)
{
	char req[WSH_MAX_HEAD];
	size_t n;
	int rc = wsh_client_request(host, w->accept, req, sizeof(req), &n);

	if (rc != 0)
		return rc == -2 ? BULWARK_ERR_ADDRESS : BULWARK_ERR_TLS;
	return bw_write_bytes(&w->out, req, n);
}

/* §4.1, the client's checks of the server's handshake, items 1-6. */
static int judge(struct wsc *w)
{
	const struct wsh *h = &w->head;

	w->http_status = (int)h->parser.status_code;
	if (h->parser.status_code != 101 || !h->complete ||
	    !h->has_upgrade || !h->has_connection || !h->protocol_ok ||
	    w->accept[0] == '\0' || strcmp(h->accept, w->accept) != 0)
		return BULWARK_ERR_UPGRADE;
	return 0;
}

/* Bytes after the response are frames: keep them for the decoder. */
static int keep_early(struct wsc *w, const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	if ((w->early = malloc(n)) == NULL)
		return BW_ERR_NOMEM;
	memcpy(w->early, p, n);
	w->early_len = n;
	w->early_off = 0;
	return 0;
}

int wsc_upgrade_read(struct wsc *w)
{
	uint8_t buf[WSH_MAX_HEAD];
	size_t used;
	ssize_t n;

	for (;;) {
		n = w->read(w->io, buf, WSH_MAX_HEAD - w->head.total);
		w->blocked = n == 0;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return WSC_AGAIN;
		switch (wsh_feed(&w->head, buf, (size_t)n, &used)) {
		case WSH_MORE:
			continue;
		case WSH_DONE:
			if (judge(w) != 0)
				return BULWARK_ERR_UPGRADE;
			return keep_early(w, buf + used, (size_t)n - used);
		case WSH_TOO_LONG:
		case WSH_MALFORMED:
			return BULWARK_ERR_UPGRADE;
		}
	}
}

/* ---- input ---- */

static int frame_start(struct wsc *w, const struct wslay_frame_iocb *f)
{
	/* §5.1: a client closes the connection on a masked frame. */
	if (f->rsv != 0 || f->mask)
		return fail(w, WSC_CLOSE_PROTOCOL, BULWARK_ERR_WEBSOCKET);
	switch (f->opcode) {
	case WSLAY_BINARY_FRAME:
		if (w->in_message)
			return fail(w, WSC_CLOSE_PROTOCOL, BULWARK_ERR_WEBSOCKET);
		w->in_message = true;
		break;
	case WSLAY_CONTINUATION_FRAME:
		if (!w->in_message)
			return fail(w, WSC_CLOSE_PROTOCOL, BULWARK_ERR_WEBSOCKET);
		break;
	case WSLAY_TEXT_FRAME:
		return fail(w, WSC_CLOSE_UNSUPPORTED, BULWARK_ERR_WEBSOCKET);
	case WSLAY_PING:
	case WSLAY_PONG:
	case WSLAY_CONNECTION_CLOSE:
		/* wslay has checked: fin set and at most 125 bytes */
		w->ctrl_len = 0;
		break;
	default:
		return fail(w, WSC_CLOSE_PROTOCOL, BULWARK_ERR_WEBSOCKET);
	}
	if (!wslay_is_ctrl_frame(f->opcode) &&
	    f->payload_length > (uint64_t)(w->max_message - w->msg.len))
		return fail(w, WSC_CLOSE_TOO_BIG, BULWARK_ERR_TOO_BIG);
	w->in_frame = true;
	w->opcode = f->opcode;
	w->frame_len = f->payload_length;
	w->frame_off = 0;
	return 0;
}

/* The server's close: its code and printable reason, then ours (§5.5.1). */
static int on_close(struct wsc *w)
{
	size_t j = 0;

	w->close_received = true;
	if (w->ctrl_len >= 2)
		w->close_code = (uint16_t)(w->ctrl[0] << 8 | w->ctrl[1]);
	for (size_t i = 2; i < w->ctrl_len && j + 1 < sizeof(w->close_reason);
	     i++)
		if (w->ctrl[i] >= ' ' && w->ctrl[i] <= '~')
			w->close_reason[j++] = (char)w->ctrl[i];
	w->close_reason[j] = '\0';
	wsc_send_close(w, w->close_code ? w->close_code : WSC_CLOSE_NORMAL);
	return BULWARK_ERR_CLOSED;
}

static int control_done(struct wsc *w)
{
	switch (w->opcode) {
	case WSLAY_PING:
		return send_frame(w, WSLAY_PONG, w->ctrl, w->ctrl_len);
	case WSLAY_CONNECTION_CLOSE:
		return on_close(w);
	default:
		return 0; /* pong: nothing to do */
	}
}

/* A chunk of a frame: 0 when a message is complete, WSC_AGAIN for more,
 * or an error. */
static int on_chunk(struct wsc *w, const struct wslay_frame_iocb *f)
{
	int rc;

	if (!w->in_frame && (rc = frame_start(w, f)) != 0)
		return rc;
	if (wslay_is_ctrl_frame(w->opcode)) {
		memcpy(w->ctrl + w->ctrl_len, f->data, f->data_length);
		w->ctrl_len += f->data_length;
	} else if (bw_write_bytes(&w->msg, f->data, f->data_length) != 0) {
		return fail(w, WSC_CLOSE_TOO_BIG, BULWARK_ERR_TOO_BIG);
	}
	w->frame_off += f->data_length;
	if (w->frame_off < w->frame_len)
		return WSC_AGAIN;
	w->in_frame = false;
	if (wslay_is_ctrl_frame(w->opcode))
		return (rc = control_done(w)) != 0 ? rc : WSC_AGAIN;
	if (!f->fin)
		return WSC_AGAIN;
	w->in_message = false;
	return 0;
}

int wsc_recv(struct wsc *w, const uint8_t **msg, size_t *len)
{
	struct wslay_frame_iocb f;
	ssize_t r;
	int rc;

	if (w->failed != 0)
		return w->failed;
	if (w->close_received)
		return BULWARK_ERR_CLOSED;
	if (w->delivered) {
		bw_writer_reset(&w->msg);
		w->delivered = false;
	}
	for (int budget = WSC_BUDGET; budget > 0; budget--) {
		memset(&f, 0, sizeof(f));
		r = wslay_frame_recv(w->frames, &f);
		if (r == WSLAY_ERR_WANT_READ)
			return w->read_err != 0 ? (w->failed = w->read_err)
						: WSC_AGAIN;
		if (r < 0)
			return fail(w, WSC_CLOSE_PROTOCOL, BULWARK_ERR_WEBSOCKET);
		if ((rc = on_chunk(w, &f)) == WSC_AGAIN)
			continue;
		if (rc == 0) {
			*msg = w->msg.buf;
			*len = w->msg.len;
			w->delivered = true;
		}
		return rc;
	}
	w->blocked = false;
	return WSC_AGAIN;
}

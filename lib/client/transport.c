/* transport.c - a device's connection: TCP, TLS, WebSocket, messages. */
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "bulwark/bulwark.h"
#include "net.h"
#include "tls_client.h"
#include "transport.h"
#include "ws_client.h"

/* How long a clean close may wait for the server's close frame. */
#define CLOSE_WAIT_MS 1000

struct transport {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	short want; /* POLLIN or POLLOUT: what the last TLS call waits for */
	int timeout_ms;
	bool upgraded; /* the WebSocket is open: frames may be sent */
	struct wsc ws;
};

/* ---- TLS as the WebSocket's byte source ---- */

static ssize_t tls_read(void *io, uint8_t *buf, size_t n)
{
	struct transport *t = io;
	size_t got = 0;
	int r = SSL_read_ex(t->ssl, buf, n, &got);

	if (r == 1)
		return (ssize_t)got;
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		t->want = POLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		t->want = POLLOUT;
		return 0;
	default:
		return tlsc_failure(t->ssl, r);
	}
}

/* Write everything the WebSocket has queued. */
static int flush(struct transport *t, int64_t deadline)
{
	struct bw_writer *out = &t->ws.out;
	size_t off = 0, n;
	int r, rc = 0;

	while (off < out->len) {
		if ((r = SSL_write_ex(t->ssl, out->buf + off, out->len - off,
				      &n)) == 1) {
			off += n;
			continue;
		}
		switch (SSL_get_error(t->ssl, r)) {
		case SSL_ERROR_WANT_WRITE:
			rc = net_wait(t->fd, POLLOUT, deadline);
			break;
		case SSL_ERROR_WANT_READ:
			rc = net_wait(t->fd, POLLIN, deadline);
			break;
		default:
			rc = tlsc_failure(t->ssl, r);
		}
		if (rc != 0)
			break;
	}
	bw_writer_reset(out);
	return rc;
}

/* Drive a step of the WebSocket that reads (the upgrade, a message) to
 * its end or the deadline: flush what it queued, wait when the source is
 * dry, go again. */
static int drive(struct transport *t, int64_t deadline,
		 int (*step)(struct transport *t, void *arg), void *arg)
{
	int rc, frc;

	for (;;) {
		rc = step(t, arg);
		frc = flush(t, deadline);
		if (rc != WSC_AGAIN)
			return rc;
		if (frc != 0)
			return frc;
		if (net_now_ms() >= deadline)
			return BULWARK_ERR_TIMEOUT;
		if (t->ws.blocked &&
		    (rc = net_wait(t->fd, t->want, deadline)) != 0)
			return rc;
	}
}

static int upgrade_step(struct transport *t, void *arg)
{
	(void)arg;
	return wsc_upgrade_read(&t->ws);
}

struct recv_arg {
	const uint8_t **msg;
	size_t *len;
};

static int recv_step(struct transport *t, void *arg)
{
	struct recv_arg *a = arg;

	return wsc_recv(&t->ws, a->msg, a->len);
}

/* ---- open and close ---- */

static int handshake_and_upgrade(struct transport *t,
				 const struct transport_config *cfg,
				 const char *host, int64_t deadline)
{
	int rc, frc;

	if ((rc = tlsc_new(cfg, host, t->fd, &t->ctx, &t->ssl)) != 0 ||
	    (rc = tlsc_handshake(t->ssl, t->fd, deadline)) != 0 ||
	    (rc = wsc_init(&t->ws, tls_read, t, cfg->max_message)) != 0 ||
	    (rc = wsc_upgrade_request(&t->ws, cfg->address)) != 0)
		return rc;
	/* TLS 1.3: the server judges our certificate after our side of the
	 * handshake is done, so its refusal (an alert) arrives here, instead
	 * of the response; it may even have hung up before our request went
	 * out, and then the alert is still there to read. */
	frc = flush(t, deadline);
	rc = drive(t, deadline, upgrade_step, NULL);
	if (rc == BULWARK_ERR_CLOSED)
		rc = frc != 0 ? frc : BULWARK_ERR_UPGRADE;
	if (rc != 0)
		return rc;
	t->upgraded = true;
	return 0;
}

int transport_open(const struct transport_config *cfg, struct transport **out)
{
	char host[NET_MAX_HOST], port[NET_MAX_PORT];
	int64_t deadline = net_deadline(cfg->timeout_ms);
	struct transport *t;
	int rc;

	*out = NULL;
	if ((rc = net_split_address(cfg->address, host, port)) != 0)
		return rc;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return BW_ERR_NOMEM;
	t->timeout_ms = cfg->timeout_ms;
	if ((rc = net_connect(cfg->address, deadline, &t->fd)) != 0 ||
	    (rc = handshake_and_upgrade(t, cfg, host, deadline)) != 0) {
		transport_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

/* The server's close frame, if it comes soon; whatever else arrives in
 * the meantime no longer matters. */
static void await_close(struct transport *t, int64_t deadline)
{
	const uint8_t *msg;
	size_t len;
	struct recv_arg a = { &msg, &len };

	while (drive(t, deadline, recv_step, &a) == 0)
		;
}

void transport_free(struct transport *t)
{
	int64_t deadline;

	if (t == NULL)
		return;
	if (t->upgraded && t->ws.failed == 0 && !t->ws.close_received) {
		deadline = net_deadline(CLOSE_WAIT_MS);
		if (wsc_send_close(&t->ws, WSC_CLOSE_NORMAL) == 0 &&
		    flush(t, deadline) == 0)
			await_close(t, deadline);
	}
	if (t->upgraded && t->ws.failed == 0)
		SSL_shutdown(t->ssl); /* one try: the socket closes anyway */
	wsc_clear(&t->ws);
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	if (t->fd >= 0)
		close(t->fd);
	ERR_clear_error();
	free(t);
}

/* ---- messages ---- */

int transport_send(struct transport *t, const uint8_t *p, size_t n,
		   int timeout_ms)
{
	int rc;

	if ((rc = wsc_send(&t->ws, p, n)) != 0)
		return rc;
	return flush(t, net_deadline(timeout_ms ? timeout_ms : t->timeout_ms));
}

/* The server closed with a reason the device must know (docs/protocol.md:
 * 1008 "device revoked", "user disabled"). */
static int closed_why(const struct transport *t)
{
	if (t->ws.close_code == WSC_CLOSE_POLICY &&
	    (strcmp(t->ws.close_reason, "device revoked") == 0 ||
	     strcmp(t->ws.close_reason, "user disabled") == 0))
		return BULWARK_ERR_DEVICE_REVOKED;
	return BULWARK_ERR_CLOSED;
}

int transport_recv(struct transport *t, int timeout_ms, const uint8_t **msg,
		   size_t *len)
{
	struct recv_arg a = { msg, len };
	int rc = drive(t, net_now_ms() + (timeout_ms > 0 ? timeout_ms : 0),
		       recv_step, &a);

	return rc == BULWARK_ERR_CLOSED && t->ws.close_received ? closed_why(t)
								 : rc;
}

void transport_set_max_message(struct transport *t, size_t max)
{
	wsc_set_max_message(&t->ws, max);
}

int transport_fd(const struct transport *t)
{
	return t->fd;
}

SSL *transport_ssl(const struct transport *t)
{
	return t->ssl;
}

uint16_t transport_close_code(const struct transport *t)
{
	return t->ws.close_code;
}

const char *transport_close_reason(const struct transport *t)
{
	return t->ws.close_reason;
}

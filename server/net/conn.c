/* conn.c - a device connection: TLS handshake, HTTP upgrade, buffered
 * output, closing. WebSocket input is ws.c's, the protocol session.c's. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "activation.h"
#include "ds.h"
#include "errors.h"
#include "log.h"
#include "tls.h"
#include "upgrade.h"
#include "worker.h"
#include "ws.h"

/* Output a connection may have waiting before it counts as a consumer too
 * slow to keep: small before authentication. */
#define OUT_MAX_PREAUTH (64u * 1024u)
#define OUT_MAX_AUTH (8u * 1024u * 1024u)
/* A round's output is gathered up to one full record (RFC 8446 §5.1). */
#define PEND_MAX TLS_REC_MAX_PLAIN
#define PEND_FIRST 1024u

/* ---- the handshake's reads ----
 *
 * OpenSSL reads a record's header, then its body: two read()s a record,
 * ten for a login. Its own read-ahead would take the bytes that follow the
 * client's Finished, which the record layer needs (tls_record.h). Its reads
 * go instead through the record layer's read-ahead (tls_rec_read_raw):
 * one read() takes what the socket holds, and what OpenSSL leaves is
 * already where the records are read from. */

static BIO_METHOD *handshake_reader;
static pthread_once_t handshake_reader_once = PTHREAD_ONCE_INIT;

static int handshake_read(BIO *b, char *buf, size_t n, size_t *got)
{
	struct conn *c = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	switch (tls_rec_read_raw(&c->rec, &c->worker->rec_ctx, c->fd,
				 (uint8_t *)buf, n, got)) {
	case TLS_REC_DATA:
		return 1;
	case TLS_REC_AGAIN:
		BIO_set_retry_read(b);
		return 0;
	default:
		return 0; /* closed: OpenSSL sees the end of the stream */
	}
}

static long handshake_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH; /* nothing buffered on this side */
}

static void make_handshake_reader(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
				     "bulwarkd handshake reader");

	if (m != NULL && (BIO_meth_set_read_ex(m, handshake_read) != 1 ||
			  BIO_meth_set_ctrl(m, handshake_ctrl) != 1)) {
		BIO_meth_free(m);
		m = NULL;
	}
	handshake_reader = m;
}

/* Reads through the record layer, writes straight to the socket. */
static int attach_bios(struct conn *c, int fd)
{
	BIO *rbio, *wbio;

	if (pthread_once(&handshake_reader_once, make_handshake_reader) != 0 ||
	    handshake_reader == NULL)
		return -1;
	rbio = BIO_new(handshake_reader);
	wbio = BIO_new_socket(fd, BIO_NOCLOSE);
	if (rbio == NULL || wbio == NULL) {
		BIO_free(rbio);
		BIO_free(wbio);
		return -1;
	}
	BIO_set_data(rbio, c);
	BIO_set_init(rbio, 1);
	SSL_set_bio(c->ssl, rbio, wbio);
	return 0;
}

int conn_new(struct worker *w, int fd, const char *peer, struct conn **out)
{
	struct conn *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return BW_ERR_NOMEM;
	c->worker = w;
	c->fd = fd;
	if ((c->ssl = SSL_new(w->srv->ssl_ctx)) == NULL ||
	    attach_bios(c, fd) != 0) {
		SSL_free(c->ssl);
		free(c);
		return BWD_ERR_TLS;
	}
	SSL_set_accept_state(c->ssl);
	SSL_set_app_data(c->ssl, &c->rec); /* the traffic secrets go there */
	c->state = CONN_TLS;
	c->max_message = w->srv->cfg.max_preauth_message_size;
	c->deadline = w->now + w->srv->cfg.handshake_timeout;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	*out = c;
	return 0;
}

void conn_touch(struct conn *c)
{
	const struct bwd_config *cfg = &c->worker->srv->cfg;

	if (c->state != CONN_WS)
		return; /* the handshake deadline does not move */
	c->deadline = c->worker->now + (c->authenticated
						? cfg->idle_timeout
						: cfg->preauth_idle_timeout);
}

static void set_interest(struct conn *c)
{
	if (!c->closed)
		worker_watch(c->worker, c, false);
}

/* Last SSL error as text for a log line (never contains secrets). */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r != NULL ? r : "connection error";
}

static int send_pending(struct conn *c, const char **why);

/* An alert after the round's output, when nothing waits before it in the
 * socket's output; best effort: the connection closes right after. */
static void send_alert(struct conn *c, enum tls_alert alert)
{
	struct bw_writer *sealed = &c->worker->sealed;
	const char *why = NULL;
	size_t sent;

	if (send_pending(c, &why) != 0 || c->out != NULL)
		return;
	bw_writer_reset(sealed);
	sealed->err = 0;
	if (tls_rec_seal_alert(&c->rec, &c->worker->rec_ctx, alert, sealed) ==
	    0)
		tls_rec_send(c->fd, sealed->buf, sealed->len, &sent);
}

static size_t rec_read(struct conn *c, uint8_t *buf, size_t n)
{
	size_t got = 0;

	switch (tls_rec_read(&c->rec, &c->worker->rec_ctx, c->fd, buf, n,
			     &got)) {
	case TLS_REC_DATA:
		c->io = CONN_IO_OK;
		return got;
	case TLS_REC_AGAIN:
		c->io = CONN_IO_AGAIN;
		return 0;
	case TLS_REC_FAIL:
		log_debug("connection %s: TLS alert %u", c->peer,
			  c->rec.alert);
		send_alert(c, c->rec.alert);
		break;
	case TLS_REC_EOF:
		break;
	}
	c->io = CONN_IO_EOF;
	c->peer_eof = true;
	return 0;
}

size_t conn_read(struct conn *c, uint8_t *buf, size_t n)
{
	size_t got = 0;
	int err;

	if (c->closed)
		return 0;
	if (c->ssl == NULL)
		return rec_read(c, buf, n);
	ERR_clear_error();
	if (SSL_read_ex(c->ssl, buf, n, &got) == 1) {
		c->io = CONN_IO_OK;
		return got;
	}
	err = SSL_get_error(c->ssl, 0);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		c->io = CONN_IO_AGAIN;
		return 0;
	}
	c->io = CONN_IO_EOF;
	c->peer_eof = true;
	return 0;
}

/* Write what the socket takes; *sent tells how much. -1 on a hard error. */
static int write_some(struct conn *c, const uint8_t *p, size_t n,
		      size_t *sent)
{
	size_t k;
	int err;

	*sent = 0;
	while (*sent < n) {
		ERR_clear_error();
		if (SSL_write_ex(c->ssl, p + *sent, n - *sent, &k) == 1) {
			*sent += k;
			continue;
		}
		err = SSL_get_error(c->ssl, 0);
		if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ)
			return 0;
		return -1;
	}
	return 0;
}

static int buffer_rest(struct conn *c, const uint8_t *p, size_t n)
{
	size_t pending = c->out_len - c->out_off;
	size_t max = c->authenticated ? OUT_MAX_AUTH : OUT_MAX_PREAUTH;
	uint8_t *grown;

	if (pending + n > max)
		return -1;
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_off = 0;
		c->out_len = (uint32_t)pending;
	}
	if ((grown = realloc(c->out, pending + n)) == NULL)
		return -1;
	memcpy(grown + pending, p, n);
	c->out = grown;
	c->out_len = (uint32_t)(pending + n);
	if (!c->want_write) {
		c->want_write = true;
		set_interest(c);
	}
	return 0;
}

/* Protect p[0..n) and send the records, keeping what the socket does not
 * take (after what already waits). On failure *why says what happened. */
static int seal_and_send(struct conn *c, const uint8_t *p, size_t n,
			 const char **why)
{
	struct bw_writer *sealed = &c->worker->sealed;
	size_t sent = 0;

	bw_writer_reset(sealed);
	sealed->err = 0;
	if (tls_rec_seal(&c->rec, &c->worker->rec_ctx, p, n, sealed) != 0) {
		*why = "cannot protect a record";
		return -1;
	}
	if (c->out == NULL &&
	    tls_rec_send(c->fd, sealed->buf, sealed->len, &sent) != 0) {
		*why = "connection lost";
		return -1;
	}
	if (sent < sealed->len &&
	    buffer_rest(c, sealed->buf + sent, sealed->len - sent) != 0) {
		*why = "peer too slow to read its output";
		return -1;
	}
	return 0;
}

static void drop_pending(struct conn *c)
{
	free(c->pend);
	c->pend = NULL;
	c->pend_len = c->pend_cap = 0;
}

/* The round's plaintext leaves as one record; an idle connection keeps
 * no buffer. */
static int send_pending(struct conn *c, const char **why)
{
	int rc = 0;

	if (c->pend_len > 0)
		rc = seal_and_send(c, c->pend, c->pend_len, why);
	drop_pending(c);
	return rc;
}

static int append_pending(struct conn *c, const uint8_t *p, size_t n)
{
	size_t need = (size_t)c->pend_len + n;
	size_t cap = c->pend_cap != 0 ? c->pend_cap : PEND_FIRST;
	uint8_t *grown;

	while (cap < need)
		cap *= 2;
	if (cap != c->pend_cap) {
		if ((grown = realloc(c->pend, cap)) == NULL)
			return -1;
		c->pend = grown;
		c->pend_cap = (uint32_t)cap;
	}
	memcpy(c->pend + c->pend_len, p, n);
	c->pend_len = (uint32_t)need;
	return 0;
}

/* Application data waits for the end of the round (conn_flush); what
 * would not fit in one record goes out first. */
static int rec_write(struct conn *c, const uint8_t *p, size_t n)
{
	const char *why = "out of memory";

	if (c->pend_len + n > PEND_MAX && send_pending(c, &why) != 0)
		goto fail;
	if (n >= PEND_MAX) {
		if (seal_and_send(c, p, n, &why) != 0)
			goto fail;
		return 0;
	}
	if (append_pending(c, p, n) != 0)
		goto fail;
	/* Not on the worker's list: send now rather than never. */
	if (!c->dirty && worker_mark_dirty(c->worker, c) != 0 &&
	    send_pending(c, &why) != 0)
		goto fail;
	return 0;
fail:
	conn_close(c, why);
	return -1;
}

void conn_flush(struct conn *c)
{
	const char *why = NULL;

	if (c->closed || c->ssl != NULL)
		return;
	if (send_pending(c, &why) != 0)
		conn_close(c, why);
}

int conn_write(struct conn *c, const uint8_t *p, size_t n)
{
	size_t sent;

	if (c->closed)
		return -1;
	if (c->ssl == NULL)
		return rec_write(c, p, n);
	if (c->out != NULL)
		goto buffer; /* keep the order: after what is waiting */
	if (write_some(c, p, n, &sent) != 0) {
		conn_close(c, ssl_reason());
		return -1;
	}
	if (sent == n)
		return 0;
	p += sent;
	n -= sent;
buffer:
	if (buffer_rest(c, p, n) != 0) {
		conn_close(c, "peer too slow to read its output");
		return -1;
	}
	return 0;
}

/* EPOLLOUT: send what waits; then a closing connection may go. */
static void flush(struct conn *c)
{
	const uint8_t *p = c->out + c->out_off;
	size_t n = c->out_len - c->out_off, sent;

	if (c->ssl == NULL ? tls_rec_send(c->fd, p, n, &sent) != 0
			   : write_some(c, p, n, &sent) != 0) {
		conn_close(c, c->ssl == NULL ? "connection lost" : ssl_reason());
		return;
	}
	c->out_off += (uint32_t)sent;
	if (c->out_off < c->out_len)
		return;
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	c->want_write = false;
	if (c->state == CONN_CLOSING) {
		conn_close(c, NULL);
		return;
	}
	set_interest(c);
	ds_conn_drained(c);
}

void conn_close(struct conn *c, const char *why)
{
	struct bwd_server *srv = c->worker->srv;

	if (c->closed)
		return;
	if (why != NULL)
		log_debug("connection %s closed: %s", c->peer, why);
	/* The round's output, then close_notify if it goes out at once;
	 * never wait for it. */
	if (c->ssl == NULL && !c->peer_eof)
		send_alert(c, TLS_ALERT_CLOSE_NOTIFY);
	else if (c->ssl == NULL)
		send_pending(c, &why);
	else if (c->ssl != NULL && SSL_is_init_finished(c->ssl) &&
		 !c->peer_eof)
		SSL_shutdown(c->ssl);
	SSL_free(c->ssl);
	c->ssl = NULL;
	tls_rec_clear(&c->rec);
	close(c->fd);
	c->fd = -1;
	c->closed = true;
	ds_conn_closed(c);
	if (c->authenticated)
		atomic_fetch_sub(&srv->authenticated, 1);
	atomic_fetch_sub(&srv->connections, 1);
	worker_unlink(c->worker, c);
}

void conn_close_ws(struct conn *c, uint16_t code, const char *reason)
{
	const char *why = NULL;

	if (c->closed || c->state == CONN_CLOSING)
		return;
	if (c->state == CONN_WS && code != 0)
		ws_send_close(c, code, reason);
	if (c->closed)
		return;
	log_debug("connection %s: closing (%u %s)", c->peer, code, reason);
	/* The close frame joins the socket's output before we look at it. */
	if (c->ssl == NULL && send_pending(c, &why) != 0) {
		conn_close(c, why);
		return;
	}
	c->state = CONN_CLOSING;
	if (c->out == NULL) {
		conn_close(c, NULL);
		return;
	}
	/* Give the close frame until the deadline to leave. */
	c->deadline = c->worker->now + 2;
	set_interest(c);
}

void conn_free(struct conn *c)
{
	ws_clear(c);
	upgrade_free(c->upgrade);
	activation_free(c->activation);
	free(c->out);
	free(c->pend);
	free(c->ident);
	free(c);
}

void conn_hold(struct conn *c)
{
	c->holds++;
	c->paused = true;
	set_interest(c);
}

void conn_release(struct conn *c)
{
	c->holds--;
	if (c->closed)
		return; /* the worker frees it now that nothing refers to it */
	c->paused = false;
	set_interest(c);
	worker_defer(c->worker, c); /* frames may wait in the decoder */
}

void conn_ref(struct conn *c)
{
	c->holds++;
	if (++c->queued_requests == CONN_MAX_QUEUED) {
		c->paused = true;
		set_interest(c);
	}
}

void conn_unref(struct conn *c)
{
	c->holds--;
	if (c->queued_requests-- != CONN_MAX_QUEUED || c->closed)
		return;
	c->paused = false;
	set_interest(c);
	worker_defer(c->worker, c); /* frames may wait in the decoder */
}

/* ---- TLS handshake ---- */

static int authenticate(struct conn *c)
{
	struct bwd_server *srv = c->worker->srv;
	X509 *cert = SSL_get0_peer_certificate(c->ssl);
	uint8_t fp[STORE_FINGERPRINT_LEN];

	if (cert == NULL)
		return 0; /* allowed: activation only */
	if ((c->ident = calloc(1, sizeof(*c->ident))) == NULL)
		return -1;
	/* The verify callback accepted it; it may have been revoked since. */
	if (tls_cert_fingerprint(cert, fp) != 0 ||
	    !devices_lookup(srv->devices, fp, c->ident))
		return -1;
	c->authenticated = true;
	c->max_message = srv->cfg.max_message_size;
	atomic_fetch_add(&srv->authenticated, 1);
	log_info("device %s of %s connected from %s", c->ident->id,
		 c->ident->user, c->peer);
	return 0;
}

/* From here the device's records are protected by rec (tls_record.h):
 * the SSL object, its session and the peer's certificate go. OpenSSL
 * reads no further than the client's Finished (no read-ahead) and sends
 * no tickets, so no application data has used the traffic keys yet. */
static int take_over_records(struct conn *c)
{
	if (SSL_has_pending(c->ssl) ||
	    tls_rec_start(&c->rec, &c->worker->rec_ctx, c->ssl) != 0)
		return -1;
	SSL_free(c->ssl);
	c->ssl = NULL;
	return 0;
}

static void on_tls(struct conn *c)
{
	int rc, err;

	ERR_clear_error();
	if ((rc = SSL_do_handshake(c->ssl)) != 1) {
		err = SSL_get_error(c->ssl, rc);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			c->want_write = err == SSL_ERROR_WANT_WRITE;
			set_interest(c);
			return;
		}
		conn_close(c, err == SSL_ERROR_SSL ? ssl_reason()
						   : "handshake aborted");
		return;
	}
	c->want_write = false;
	if (authenticate(c) != 0) {
		conn_close(c, "device not allowed");
		return;
	}
	if (c->authenticated && take_over_records(c) != 0) {
		conn_close(c, "cannot take over the records");
		return;
	}
	if (!c->authenticated) /* OpenSSL keeps protecting the records */
		tls_rec_forget_keys(&c->rec);
	if (upgrade_new(&c->upgrade) != 0) {
		conn_close(c, "out of memory");
		return;
	}
	c->state = CONN_HTTP;
	set_interest(c);
}

/* ---- HTTP upgrade ---- */

static void reject_http(struct conn *c, int status)
{
	char resp[256];
	size_t n = upgrade_error_response(status, resp, sizeof(resp));

	log_debug("connection %s: HTTP request refused (%d)", c->peer, status);
	if (n > 0 && conn_write(c, (const uint8_t *)resp, n) != 0)
		return;
	conn_close_ws(c, 0, "");
}

static int keep_early(struct conn *c, const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	if ((c->early = malloc(n)) == NULL)
		return -1;
	memcpy(c->early, p, n);
	c->early_len = (uint32_t)n;
	c->early_off = 0;
	return 0;
}

static void accept_upgrade(struct conn *c, const uint8_t *rest, size_t n)
{
	char resp[256];
	size_t len = upgrade_response(c->upgrade, resp, sizeof(resp));

	upgrade_free(c->upgrade);
	c->upgrade = NULL;
	if (len == 0 || keep_early(c, rest, n) != 0) {
		conn_close(c, "cannot answer the upgrade");
		return;
	}
	if (conn_write(c, (const uint8_t *)resp, len) != 0)
		return;
	c->state = CONN_WS;
	conn_touch(c);
	ws_on_readable(c);
}

static void on_http(struct conn *c)
{
	uint8_t buf[UPGRADE_MAX_REQUEST];
	size_t n, used;

	while ((n = conn_read(c, buf, sizeof(buf))) > 0) {
		switch (upgrade_feed(c->upgrade, buf, n, &used)) {
		case UPGRADE_MORE:
			continue;
		case UPGRADE_ACCEPT:
			accept_upgrade(c, buf + used, n - used);
			return;
		case UPGRADE_REJECT:
			reject_http(c, upgrade_status(c->upgrade));
			return;
		}
	}
	if (c->io == CONN_IO_EOF)
		conn_close(c, "peer closed during the upgrade");
}

void conn_resume(struct conn *c)
{
	if (c->closed || c->paused)
		return;
	switch (c->state) {
	case CONN_TLS:
		on_tls(c);
		/* The upgrade request may have come with the Finished: it is
		 * read ahead already, no socket event would tell. */
		if (!c->closed && c->state == CONN_HTTP)
			on_http(c);
		break;
	case CONN_HTTP:
		on_http(c);
		break;
	case CONN_WS:
		ws_on_readable(c);
		break;
	case CONN_CLOSING:
		break;
	}
	/* Bytes read ahead for this connection wait in its own buffer. */
	if (!c->closed)
		tls_rec_park(&c->rec, &c->worker->rec_ctx);
}

void conn_on_event(struct conn *c, uint32_t events)
{
	if (c->closed)
		return;
	if ((events & EPOLLOUT) && c->out != NULL) {
		flush(c);
		if (c->closed)
			return;
	}
	if (c->state == CONN_CLOSING) {
		if (events & (EPOLLERR | EPOLLHUP))
			conn_close(c, NULL);
		return;
	}
	if (events & (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP))
		conn_resume(c);
}

/* conn.c - a device's connection (conn.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "conn.h"
#include "loop.h"
#include "tls_client.h"
#include "ws.h"
#include "ws_handshake.h"

#define READ_CHUNK (64u * 1024u)
/* Plaintext sealed per send: the records of a flush stay bounded. */
#define SEAL_CHUNK (256u * 1024u)
/* Buffers larger than this are released once empty. */
#define KEEP_BUFFER (256u * 1024u)

struct lc_upgrade {
	struct wsh head;
	char accept[WSH_ACCEPT_LEN + 1];
};

/* ---- buffers ---- */

void lbuf_reserve(struct lbuf *b, size_t extra)
{
	size_t cap;

	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + extra <= b->cap)
		return;
	if (b->off > 0) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->len + extra <= b->cap)
			return;
	}
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra)
		cap *= 2;
	b->p = lg_xrealloc(b->p, cap, 1);
	b->cap = cap;
}

void lbuf_free(struct lbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void lbuf_append(struct lbuf *b, const uint8_t *p, size_t n)
{
	lbuf_reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* ---- events ---- */

static void watch(struct lg *g, struct lconn *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (c->ev == ev || c->fd < 0)
		return;
	if (epoll_ctl(g->ep, c->ev ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd,
		      &e) != 0)
		lg_die("epoll_ctl: %s", strerror(errno));
	c->ev = ev;
}

/* SSL_get_error() needs the thread's error queue empty before each TLS
 * call; clearing walks every slot of the queue, and it is empty after
 * every call that succeeded: only clear what is there. */
static void err_queue_empty(void)
{
	if (ERR_peek_error() != 0)
		ERR_clear_error();
}

static const char *ssl_reason(char *buf, size_t n)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, n, "%s", errno ? strerror(errno) : "closed");
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

/* Devices come from many addresses, not one: from a single address to a
 * single port, 20,000 connections make the kernel's search for a free
 * ephemeral port the largest cost of connect(). The target is on
 * 127.0.0.0/8 (main.c), where every address is local; the port is chosen
 * at connect(), per address (IP_BIND_ADDRESS_NO_PORT). */
#define SOURCE_ADDRS 16u

static int bind_source(int fd, uint32_t idx)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1;

	sa.sin_addr.s_addr = htonl(0x7f000002u + idx % SOURCE_ADDRS);
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		       sizeof(one)) != 0)
		return -1;
	return bind(fd, (struct sockaddr *)&sa, sizeof(sa));
}

int conn_open(struct lg *g, struct dev *d)
{
	struct lconn *c = &d->conn;
	int one = 1, fd;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->dev = d;
	c->t_start = lg_now_ns();
	c->state = LC_TCP;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		conn_close(g, c, "socket: no descriptor");
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	if (bind_source(fd, d->idx) != 0) {
		conn_close(g, c, "bind: no source address");
		return -1;
	}
	if (connect(fd, (struct sockaddr *)g->addr, sizeof(*g->addr)) != 0 &&
	    errno != EINPROGRESS) {
		conn_close(g, c, "connect refused");
		return -1;
	}
	watch(g, c, EPOLLOUT);
	return 0;
}

static void drop_acks(struct lconn *c)
{
	for (uint32_t i = 0; i < c->n_acks; i++)
		c->acks[i]->ack_queued = false;
	c->n_acks = 0;
}

void conn_close(struct lg *g, struct lconn *c, const char *why)
{
	struct dev *d = c->dev;
	bool failed = why != NULL && c->state != LC_CLOSING;
	uint8_t was = c->state;

	if (c->state == LC_DEAD)
		return;
	if (c->fd >= 0) {
		epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	SSL_free(c->ssl);
	c->ssl = NULL;
	tls_rec_clear(&c->rec);
	c->fd = -1;
	c->ev = 0;
	free(c->up);
	c->up = NULL;
	lbuf_free(&c->in);
	lbuf_free(&c->frag);
	lbuf_free(&c->out);
	lbuf_free(&c->wire);
	drop_acks(c);
	free(c->acks);
	c->acks = NULL;
	c->cap_acks = 0;
	g->acks_out -= c->acks_out; /* their answers will never come */
	c->acks_out = 0;
	c->state = LC_DEAD;
	loop_conn_closed(g, c, was, failed ? why : NULL);
	if (g->hooks->closed != NULL)
		g->hooks->closed(g, d, failed);
}

void conn_trim(struct lconn *c)
{
	if (c->in.len == c->in.off)
		lbuf_free(&c->in);
	if (c->out.len == c->out.off)
		lbuf_free(&c->out);
	if (c->wire.len == c->wire.off)
		lbuf_free(&c->wire);
	if (c->n_acks == 0) {
		free(c->acks);
		c->acks = NULL;
		c->cap_acks = 0;
	}
}

/* ---- output ---- */

static void queue_frame(struct lg *g, struct lconn *c, uint8_t opcode,
			const uint8_t *p, size_t n)
{
	size_t size = wsf_size(n);

	lbuf_reserve(&c->out, size);
	wsf_put(c->out.p + c->out.len, opcode, p, n, loop_mask(g));
	c->out.len += size;
	loop_dirty(g, c);
}

static void queue_bytes(struct lg *g, struct lconn *c, const void *p,
			size_t n)
{
	lbuf_append(&c->out, p, n);
	loop_dirty(g, c);
}

/* Send what waits in c->wire; false if some still waits or c closed. */
static bool send_wire(struct lg *g, struct lconn *c)
{
	size_t sent;

	if (tls_rec_send(c->fd, c->wire.p + c->wire.off,
			 c->wire.len - c->wire.off, &sent) != 0) {
		conn_close(g, c, "write: connection lost");
		return false;
	}
	c->wire.off += sent;
	if (c->wire.off < c->wire.len) {
		watch(g, c, EPOLLIN | EPOLLOUT);
		return false;
	}
	c->wire.off = c->wire.len = 0;
	if (c->wire.cap > KEEP_BUFFER)
		lbuf_free(&c->wire);
	return true;
}

/* Seal up to SEAL_CHUNK of c->out as records and send them; what the
 * socket does not take waits in c->wire. */
static bool seal_and_send(struct lg *g, struct lconn *c)
{
	size_t n = c->out.len - c->out.off, sent;
	struct bw_writer *w = &g->sealed;

	if (n > SEAL_CHUNK)
		n = SEAL_CHUNK;
	bw_writer_reset(w);
	w->err = 0;
	if (tls_rec_seal(&c->rec, &g->rec_ctx, c->out.p + c->out.off, n, w) !=
	    0) {
		conn_close(g, c, "cannot protect a record");
		return false;
	}
	c->out.off += n;
	if (tls_rec_send(c->fd, w->buf, w->len, &sent) != 0) {
		conn_close(g, c, "write: connection lost");
		return false;
	}
	if (sent == w->len)
		return true;
	lbuf_append(&c->wire, w->buf + sent, w->len - sent);
	watch(g, c, EPOLLIN | EPOLLOUT);
	return false;
}

void conn_flush(struct lg *g, struct lconn *c)
{
	if (c->state < LC_UPGRADE)
		return;
	if (c->wire.len > c->wire.off && !send_wire(g, c))
		return;
	while (c->out.len > c->out.off)
		if (!seal_and_send(g, c))
			return;
	c->out.off = c->out.len = 0;
	if (c->out.cap > KEEP_BUFFER)
		lbuf_free(&c->out);
	watch(g, c, EPOLLIN);
}

struct bw_writer *conn_msg_begin(struct lg *g, struct lconn *c, uint16_t type,
				 uint32_t rid, size_t *mark)
{
	static struct bw_writer w;

	bw_writer_init_fixed(&w, g->scratch, g->scratch_cap);
	if (rid == LG_RID_NEXT)
		rid = (c->rid++ & (LG_RID_CONN - 1)) | LG_RID_OTHER |
		      LG_RID_CONN;
	*mark = proto_begin(&w, PROTO_REQUEST, type, rid);
	return &w;
}

int conn_msg_send(struct lg *g, struct lconn *c, struct bw_writer *w,
		  size_t mark)
{
	int rc;

	if ((rc = proto_end(w, mark)) != 0)
		return rc;
	if (c->state == LC_DEAD || c->state == LC_CLOSING)
		return -1;
	queue_frame(g, c, WSF_BINARY, w->buf, w->len);
	return 0;
}

void conn_logout(struct lg *g, struct lconn *c)
{
	static const uint8_t normal[2] = { 1000 >> 8, 1000 & 0xff };

	if (c->state == LC_DEAD || c->state == LC_CLOSING)
		return;
	if (c->state < LC_HELLO) {
		conn_close(g, c, NULL);
		return;
	}
	drop_acks(c);
	queue_frame(g, c, WSF_CLOSE, normal, sizeof(normal));
	c->state = LC_CLOSING;
	c->t_closing = lg_now_ns();
}

/* ---- acknowledgements ---- */

void conn_ack_later(struct lg *g, struct lconn *c, struct member *m)
{
	if (m->ack_queued || c->state == LC_DEAD || c->state == LC_CLOSING)
		return;
	if (c->n_acks == c->cap_acks) {
		c->cap_acks = c->cap_acks ? 2 * c->cap_acks : 8;
		c->acks = lg_xrealloc(c->acks, c->cap_acks, sizeof(*c->acks));
	}
	c->acks[c->n_acks++] = m;
	m->ack_queued = true;
	if (!c->in_ackq)
		loop_ack_queue(g, c);
}

void conn_send_acks(struct lg *g, struct lconn *c)
{
	size_t mark, list;
	struct bw_writer *w;
	uint32_t done = 0;

	while (done < c->n_acks) {
		uint32_t k = 0;

		w = conn_msg_begin(g, c, PROTO_T_QUEUE_ACK, LG_RID_NEXT,
				   &mark);
		list = bw_write_vector_begin(w);
		for (; done < c->n_acks && k < PROTO_MAX_ACKS; done++) {
			struct member *m = c->acks[done];
			struct proto_ack a = {
				/* no conversation: the device's inbox */
				.group_id = { m->conv ? m->conv->gid : NULL,
					      m->conv ? LG_GID_LEN : 0 },
				.seq = m->ack_seq,
			};

			m->ack_queued = false;
			if (m->ack_seq <= m->acked_seq)
				continue;
			proto_write_ack(w, &a);
			m->acked_seq = m->ack_seq;
			k++;
		}
		bw_write_vector_end(w, list);
		if (k == 0)
			continue;
		if (conn_msg_send(g, c, w, mark) != 0)
			break;
		c->acks_out++;
		g->acks_out++;
	}
	c->n_acks = 0;
}

/* ---- input: envelopes ---- */

static void on_hello(struct lg *g, struct lconn *c, const struct proto_msg *m)
{
	struct proto_hello_resp h;

	if (m->status != PROTO_OK || proto_decode_hello_resp(m, &h) != 0) {
		conn_close(g, c, "HELLO refused");
		return;
	}
	if (!h.authenticated) {
		conn_close(g, c, "certificate not accepted");
		return;
	}
	c->state = LC_SYNC;
	c->t_auth = lg_now_ns();
}

static void on_push(struct lg *g, struct lconn *c, const struct proto_msg *m)
{
	struct proto_deliver d;

	switch (m->type) {
	case PROTO_T_DELIVER:
		if (proto_decode_deliver(m, &d) != 0) {
			conn_close(g, c, "malformed DELIVER");
			return;
		}
		if (g->hooks->deliver != NULL)
			g->hooks->deliver(g, c->dev, &d);
		break;
	case PROTO_T_SYNCED:
		if (c->state == LC_SYNC) {
			c->state = LC_READY;
			c->t_ready = lg_now_ns();
			loop_conn_ready(g);
			if (g->hooks->ready != NULL)
				g->hooks->ready(g, c->dev);
		}
		break;
	default: /* KP_LOW: the setup uploads what it needs */
		break;
	}
}

static void on_message(struct lg *g, struct lconn *c, const uint8_t *p,
		       size_t n)
{
	struct proto_msg m;

	if (proto_decode(p, n, LG_MAX_MESSAGE, &m) != 0) {
		conn_close(g, c, "undecodable message");
		return;
	}
	if (m.kind == PROTO_PUSH) {
		on_push(g, c, &m);
	} else if (m.kind != PROTO_RESPONSE) {
		conn_close(g, c, "request from the server");
	} else if (m.type == PROTO_T_HELLO && c->state == LC_HELLO) {
		on_hello(g, c, &m);
	} else if (m.type == PROTO_T_ERROR) {
		conn_close(g, c, "server could not parse a request");
	} else if (m.type == PROTO_T_QUEUE_ACK && c->acks_out > 0) {
		c->acks_out--;
		g->acks_out--;
		g->acks_refused += m.status != PROTO_OK;
	} else if (g->hooks->response != NULL) {
		g->hooks->response(g, c->dev, &m);
	}
}

/* ---- input: frames ---- */

static void on_close_frame(struct lg *g, struct lconn *c, const uint8_t *p,
			   size_t n)
{
	static const uint8_t normal[2] = { 1000 >> 8, 1000 & 0xff };
	char why[64];
	unsigned code = n >= 2 ? (unsigned)(p[0] << 8 | p[1]) : 0;

	if (c->state == LC_CLOSING) {
		conn_close(g, c, NULL);
		return;
	}
	/* §5.5.1: answer, then the server closes the TCP connection. */
	queue_frame(g, c, WSF_CLOSE, normal, sizeof(normal));
	conn_flush(g, c);
	snprintf(why, sizeof(why), "server closed (%u)", code);
	conn_close(g, c, why);
}

static void on_frame(struct lg *g, struct lconn *c, const struct wsf *f,
		     const uint8_t *p)
{
	switch (f->opcode) {
	case WSF_BINARY:
		if (c->fragmented) {
			conn_close(g, c, "data frame inside a fragmented one");
		} else if (f->fin) {
			on_message(g, c, p, f->len);
		} else {
			c->fragmented = true;
			lbuf_append(&c->frag, p, f->len);
		}
		break;
	case WSF_CONT:
		if (!c->fragmented) {
			conn_close(g, c, "continuation of nothing");
			break;
		}
		if (c->frag.len + f->len > LG_MAX_MESSAGE) {
			conn_close(g, c, "message too large");
			break;
		}
		lbuf_append(&c->frag, p, f->len);
		if (f->fin) {
			c->fragmented = false;
			on_message(g, c, c->frag.p, c->frag.len);
			if (c->state != LC_DEAD)
				c->frag.len = 0;
		}
		break;
	case WSF_PING:
		queue_frame(g, c, WSF_PONG, p, f->len);
		break;
	case WSF_CLOSE:
		on_close_frame(g, c, p, f->len);
		break;
	default: /* pong */
		break;
	}
}

/* Handle every complete frame of p[0..n); returns the bytes used, or
 * SIZE_MAX after closing the connection on a broken frame. */
static size_t frames(struct lg *g, struct lconn *c, const uint8_t *p, size_t n)
{
	size_t pos = 0;
	struct wsf f;
	int r;

	while (pos < n && c->state != LC_DEAD) {
		r = wsf_parse(p + pos, n - pos, LG_MAX_MESSAGE, &f);
		if (r < 0) {
			conn_close(g, c, "broken WebSocket frame");
			return SIZE_MAX;
		}
		if (r == 0 || f.head + f.len > n - pos)
			break;
		on_frame(g, c, &f, p + pos + f.head);
		pos += f.head + f.len;
	}
	return c->state == LC_DEAD ? SIZE_MAX : pos;
}

/* New plaintext: frames, with whatever an earlier read left. */
static void take_bytes(struct lg *g, struct lconn *c, const uint8_t *p,
		       size_t n)
{
	size_t used;

	if (c->in.len == c->in.off) {
		used = frames(g, c, p, n);
		if (used != SIZE_MAX && used < n)
			lbuf_append(&c->in, p + used, n - used);
		return;
	}
	lbuf_append(&c->in, p, n);
	used = frames(g, c, c->in.p + c->in.off, c->in.len - c->in.off);
	if (used == SIZE_MAX)
		return;
	c->in.off += used;
	if (c->in.off == c->in.len) {
		c->in.off = c->in.len = 0;
		if (c->in.cap > KEEP_BUFFER)
			lbuf_free(&c->in);
	}
}

/* ---- the upgrade ---- */

static void send_upgrade(struct lg *g, struct lconn *c)
{
	char req[512];
	size_t n;

	c->up = lg_xcalloc(1, sizeof(*c->up));
	wsh_init(&c->up->head, HTTP_RESPONSE);
	if (wsh_client_request(g->cfg.server_name, c->up->accept, req,
			       sizeof(req), &n) != 0)
		lg_die("cannot make the upgrade request");
	queue_bytes(g, c, req, n);
	c->state = LC_UPGRADE;
	c->t_tls = lg_now_ns();
}

static void send_hello(struct lg *g, struct lconn *c)
{
	static const char sw[] = "bulwark-load/" BULWARK_VERSION;
	struct proto_hello_req h = {
		.min_version = PROTO_VERSION_MIN,
		.max_version = PROTO_VERSION_MAX,
		.software = { (const uint8_t *)sw, sizeof(sw) - 1 },
	};
	size_t mark;
	struct bw_writer *w = conn_msg_begin(g, c, PROTO_T_HELLO, LG_RID_NEXT,
					      &mark);

	proto_encode_hello_req(w, &h);
	c->state = LC_HELLO;
	conn_msg_send(g, c, w, mark);
}

/* RFC 6455 §4.1: the client's checks of the server's handshake. */
static bool upgrade_accepted(const struct lc_upgrade *up)
{
	const struct wsh *h = &up->head;

	return h->parser.status_code == 101 && h->complete &&
	       h->has_upgrade && h->has_connection && h->protocol_ok &&
	       strcmp(h->accept, up->accept) == 0;
}

static void take_upgrade(struct lg *g, struct lconn *c, const uint8_t *p,
			 size_t n)
{
	size_t used = 0;

	switch (wsh_feed(&c->up->head, p, n, &used)) {
	case WSH_MORE:
		return;
	case WSH_DONE:
		if (upgrade_accepted(c->up))
			break;
		/* fall through */
	default:
		conn_close(g, c, "upgrade refused");
		return;
	}
	free(c->up);
	c->up = NULL;
	send_hello(g, c);
	if (used < n)
		take_bytes(g, c, p + used, n - used);
}

/* ---- driving the connection ---- */

static void start_tls(struct lg *g, struct lconn *c)
{
	struct dev *d = c->dev;
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		conn_close(g, c, "connect failed");
		return;
	}
	if (tls_client_ssl(g->tls, d->cert, d->key, g->cfg.server_name,
			   &c->rec, &c->ssl) != 0 ||
	    SSL_set_fd(c->ssl, c->fd) != 1)
		lg_die("cannot set up TLS for device %u", d->idx);
	c->state = LC_TLS;
}

/* From here the records are the record layer's (tls_record.h), as on the
 * server: OpenSSL's per-record bookkeeping was most of the generator's
 * user time. The SSL object, its session and the server's certificate
 * go; nothing was read past the handshake and no traffic key used. */
static bool take_over_records(struct lg *g, struct lconn *c)
{
	if (SSL_has_pending(c->ssl) ||
	    tls_rec_start(&c->rec, &g->rec_ctx, c->ssl) != 0) {
		conn_close(g, c, "cannot take over the records");
		return false;
	}
	SSL_free(c->ssl);
	c->ssl = NULL;
	return true;
}

static void handshake(struct lg *g, struct lconn *c)
{
	char why[120], reason[96];
	int r, e;

	err_queue_empty();
	if ((r = SSL_do_handshake(c->ssl)) == 1) {
		if (!take_over_records(g, c))
			return;
		send_upgrade(g, c);
		watch(g, c, EPOLLIN);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		watch(g, c, EPOLLIN);
		return;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		watch(g, c, EPOLLOUT);
		return;
	}
	snprintf(why, sizeof(why), "TLS handshake: %s",
		 ssl_reason(reason, sizeof(reason)));
	conn_close(g, c, why);
}

/* The peer broke TLS: its alert, best effort, before closing. */
static void tls_failed(struct lg *g, struct lconn *c)
{
	struct bw_writer *w = &g->sealed;
	char why[64];
	size_t sent;

	bw_writer_reset(w);
	w->err = 0;
	if (c->wire.len == c->wire.off &&
	    tls_rec_seal_alert(&c->rec, &g->rec_ctx, c->rec.alert, w) == 0)
		tls_rec_send(c->fd, w->buf, w->len, &sent);
	snprintf(why, sizeof(why), "read: TLS alert %u", c->rec.alert);
	conn_close(g, c, why);
}

/* Every record the socket holds now (the record layer reads it once per
 * 64 KiB); what is left of a record waits with the connection. */
static void readable(struct lg *g, struct lconn *c)
{
	uint8_t *buf = loop_read_buffer(g, READ_CHUNK);
	size_t got;

	/* until the socket is empty or the connection has closed */
	while (c->state >= LC_UPGRADE) {
		switch (tls_rec_read(&c->rec, &g->rec_ctx, c->fd, buf,
				     READ_CHUNK, &got)) {
		case TLS_REC_DATA:
			if (c->state == LC_UPGRADE)
				take_upgrade(g, c, buf, got);
			else
				take_bytes(g, c, buf, got);
			break;
		case TLS_REC_AGAIN:
			tls_rec_park(&c->rec, &g->rec_ctx);
			return;
		case TLS_REC_EOF:
			conn_close(g, c, c->state == LC_CLOSING
						 ? NULL
						 : "server hung up");
			return;
		case TLS_REC_FAIL:
			tls_failed(g, c);
			return;
		}
	}
}

void conn_event(struct lg *g, struct lconn *c, uint32_t events)
{
	if (c->state == LC_DEAD)
		return;
	if (c->state == LC_TCP) {
		start_tls(g, c);
		if (c->state == LC_DEAD)
			return;
	}
	if (c->state == LC_TLS) {
		handshake(g, c);
		if (c->state != LC_UPGRADE)
			return;
		events |= EPOLLIN; /* the server's first bytes may be read */
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		readable(g, c);
	if (c->state != LC_DEAD && (events & EPOLLOUT))
		conn_flush(g, c);
}

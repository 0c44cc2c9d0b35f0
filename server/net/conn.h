/*
 * conn.h - one device connection, owned by one worker thread.
 *
 * State machine (each step has a deadline; the worker's tick enforces it):
 *
 *   TLS ---SSL_accept done---> HTTP ---valid Upgrade---> WS ---> CLOSING
 *    |  conn_on_tls()           |  conn_on_http()        |  ws_on_readable()
 *    +-- error/timeout ---------+------------------------+--> freed
 *
 * Memory is held only while something is in flight: the struct itself is
 * small; the HTTP parser exists during the upgrade, the WebSocket frame
 * decoder while a frame is arriving, the message buffer while a message is
 * being assembled, the output buffer while the socket cannot take more,
 * the activation state during an activation. OpenSSL's SSL object lives
 * through the handshake; an authenticated device's connection then
 * protects its records itself (tls_record.h) and frees it. A connection
 * without a certificate keeps it (activation needs its exporter), with
 * its record buffers released when idle (SSL_MODE_RELEASE_BUFFERS).
 */
#ifndef BWD_CONN_H
#define BWD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <wslay/wslay.h>

#include "devices.h"
#include "tls_record.h"

struct worker;
struct upgrade;
struct activation;
struct ds_session;

/* Requests one authenticated connection may have queued at once; more
 * wait in its socket until some are answered. */
#define CONN_MAX_QUEUED 32u

enum conn_state { CONN_TLS, CONN_HTTP, CONN_WS, CONN_CLOSING };
/* Outcome of the last read from the TLS connection. */
enum conn_io { CONN_IO_OK, CONN_IO_AGAIN, CONN_IO_EOF };

/* WebSocket close codes (RFC 6455 §7.4.1). */
enum ws_close_code {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_UNSUPPORTED = 1003,
	WS_CLOSE_POLICY = 1008,
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_INTERNAL = 1011,
};

struct conn {
	struct conn *prev, *next; /* the worker's list */
	struct worker *worker;
	SSL *ssl;              /* NULL once rec protects the records */
	int fd;
	enum conn_state state;
	uint32_t deadline;     /* worker clock, seconds: idle/handshake */
	uint32_t msg_deadline; /* 0, or when the message in flight expires */
	uint32_t max_message;  /* tighter before authentication */
	uint16_t holds;        /* jobs in flight that reference this conn */
	uint8_t errors;        /* protocol errors answered so far */
	bool authenticated;
	bool hello_done;
	bool want_write;       /* waiting for EPOLLOUT */
	bool paused;           /* not reading: a job is in flight */
	bool queued;           /* on the worker's ready list */
	bool closed;           /* socket gone; freed when holds reach 0 */
	bool peer_eof;
	bool dirty;            /* on the worker's list of output to flush */
	bool in_frame;         /* the WebSocket decoder is inside a frame */
	uint8_t io;            /* last read: enum conn_io */
	uint32_t ev;           /* events registered with epoll */
	char peer[48];         /* address:port for logs */

	/* ---- HTTP upgrade (CONN_HTTP only) ---- */
	struct upgrade *upgrade;
	/* bytes that arrived after the upgrade request, for the WS decoder */
	uint8_t *early;
	uint32_t early_len, early_off;

	/* ---- WebSocket input ---- */
	wslay_frame_context_ptr ws;  /* while a frame is arriving */
	uint64_t ws_fed;             /* bytes given to the decoder */
	uint64_t ws_used;            /* bytes of complete frames */
	uint64_t frame_len, frame_off;
	uint8_t frame_opcode;
	bool in_message;             /* a data message is being assembled */
	uint8_t *msg;                /* its bytes */
	uint32_t msg_len, msg_cap;
	uint8_t *ctrl;               /* a control frame's payload (<= 125) */
	uint8_t ctrl_len;

	/* ---- output the socket could not take yet: plaintext for ssl,
	 * protected records once rec has taken over ---- */
	uint8_t *out;
	uint32_t out_len, out_off;
	/* ---- plaintext written during this round, sealed as one record
	 * and sent in one write when the round ends (conn_flush) ---- */
	uint8_t *pend;
	uint32_t pend_len, pend_cap;

	/* ---- who, once authenticated; activation in progress ---- */
	struct device_ident *ident;
	struct activation *activation;
	struct ds_session *ds;       /* its delivery, after HELLO */
	uint16_t queued_requests;    /* delivery service jobs in flight */

	/* ---- TLS records after the handshake ---- */
	struct tls_rec rec;
};

/* A new connection on an accepted socket (non-blocking). */
int conn_new(struct worker *w, int fd, const char *peer, struct conn **out);
/* Drive the connection after epoll reported events. */
void conn_on_event(struct conn *c, uint32_t events);
/* Continue reading (after a pause or a fairness budget ran out). */
void conn_resume(struct conn *c);
/* Send bytes on the TLS connection, buffering what does not fit. Once
 * our record layer protects it, the bytes wait until conn_flush (the
 * worker calls it at the end of each round) so that a round's output
 * leaves as one record in one write. */
int conn_write(struct conn *c, const uint8_t *p, size_t n);
/* Seal and send what conn_write left waiting; on failure the connection
 * is closed. */
void conn_flush(struct conn *c);
/* Close now: socket, TLS and buffers go; the struct stays while holds>0. */
void conn_close(struct conn *c, const char *why);
/* Send a WebSocket close frame, then close. */
void conn_close_ws(struct conn *c, uint16_t code, const char *reason);
/* A job referencing c starts / finishes; release resumes reading or, if
 * the connection closed meanwhile, frees it. */
void conn_hold(struct conn *c);
void conn_release(struct conn *c);
/* The same for a request that does not stop reading: up to
 * CONN_MAX_QUEUED may be in flight at once (pipelining). */
void conn_ref(struct conn *c);
void conn_unref(struct conn *c);
/* Activity: move the idle deadline forward. */
void conn_touch(struct conn *c);
/* Read decrypted bytes: > 0 bytes read, 0 nothing now (c->io says why). */
size_t conn_read(struct conn *c, uint8_t *buf, size_t n);
/* Free a closed connection (the worker calls it once holds are 0). */
void conn_free(struct conn *c);

#endif

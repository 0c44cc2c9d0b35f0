/*
 * conn.h - a device's connection to bulwarkd, non-blocking, driven by the
 * loop (loop.c): TCP, TLS 1.3 with the device's certificate (mutual TLS,
 * a full handshake every time: no tickets, no cache), the WebSocket
 * upgrade (lib/proto/ws_handshake.c reads the 101), then HELLO and the
 * backlog until SYNCED, after which the device is logged in.
 *
 *   LC_TCP -> LC_TLS -> LC_UPGRADE -> LC_HELLO -> LC_SYNC -> LC_READY
 *                                                   -> LC_CLOSING -> LC_DEAD
 *
 * Output is appended to the connection's buffer and written once per loop
 * turn (conn_flush). Input is parsed where TLS returned it; only a frame's
 * incomplete tail is kept. Requests are built in the generator's scratch
 * (conn_msg_begin) and framed with conn_msg_send.
 */
#ifndef LG_CONN_H
#define LG_CONN_H

#include "codec.h"
#include "lg.h"

/* Start connecting d (its connection must be dead). */
int conn_open(struct lg *g, struct dev *d);
/* epoll reported events on c. */
void conn_event(struct lg *g, struct lconn *c, uint32_t events);
/* Write what c's output buffer holds (as much as the socket takes). */
void conn_flush(struct lg *g, struct lconn *c);
/* Close now. why: NULL for an orderly end, else the failure (counted). */
void conn_close(struct lg *g, struct lconn *c, const char *why);
/* Send a WebSocket close (1000) and close once the server answers (or
 * after a grace period, loop.c). */
void conn_logout(struct lg *g, struct lconn *c);
/* Drop the buffers an idle connection does not need (scenario C). */
void conn_trim(struct lconn *c);

/* A request of type in g's scratch: returns the writer, *mark for
 * conn_msg_send. rid LG_RID_NEXT: the connection's next own id. */
struct bw_writer *conn_msg_begin(struct lg *g, struct lconn *c, uint16_t type,
				 uint32_t rid, size_t *mark);
/* Close the envelope and queue it as one binary frame. */
int conn_msg_send(struct lg *g, struct lconn *c, struct bw_writer *w,
		  size_t mark);
/* Queue an acknowledgement of m's seq (sent within cfg.ack_ms). */
void conn_ack_later(struct lg *g, struct lconn *c, struct member *m);
/* Send every acknowledgement c has queued, as one QUEUE_ACK. */
void conn_send_acks(struct lg *g, struct lconn *c);

#endif

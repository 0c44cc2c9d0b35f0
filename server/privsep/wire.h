/*
 * wire.h - the messages between bulwarkd and the CA monitor.
 *
 * The socket is AF_UNIX SOCK_SEQPACKET, so the kernel keeps message
 * boundaries: one request or reply per message, no length prefix, and an
 * oversized or malformed message never desynchronises the stream. Bodies use
 * the project's codec (lib/common/codec.h); every length has a limit.
 *
 *   request = uint8 type, then per type:
 *     GET_CA_CERT (1)        nothing
 *     ISSUE_DEVICE_CERT (2)  opaque user<V> (<= 64), opaque device_id<V>
 *                            (<= 64), opaque spki<V> (<= 1024),
 *                            uint32 validity_days
 *     ISSUE_DS_CERT (3)      opaque server_name<V> (<= 253),
 *                            opaque spki<V> (<= 1024)
 *   reply   = uint8 type (the request's when it is in the table, else 0;
 *             READY for the start-up message),
 *             uint16 error (0, or the magnitude of a negative error code),
 *             then when error == 0, per type:
 *     READY (0)              nothing
 *     GET_CA_CERT, ISSUE_*   opaque certificate<V> (DER, <= 8192)
 */
#ifndef BW_PRIVSEP_WIRE_H
#define BW_PRIVSEP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "ca.h"
#include "codec.h"

enum privsep_type {
	PRIVSEP_READY = 0,
	PRIVSEP_REQ_GET_CA_CERT = 1,
	PRIVSEP_REQ_ISSUE_DEVICE_CERT = 2,
	PRIVSEP_REQ_ISSUE_DS_CERT = 3,
	PRIVSEP_REQ_LAST = PRIVSEP_REQ_ISSUE_DS_CERT,
};

/* Largest request: type, three varint headers, the fields at their limits. */
#define PRIVSEP_REQUEST_MAX 2048u
#define PRIVSEP_REPLY_MAX (CA_CERT_MAX + 16u)
/* The monitor's end of the socket, in the monitor. */
#define PRIVSEP_MONITOR_FD 3

/* A decoded request; the pointers point into the message. */
struct privsep_request {
	uint8_t type;
	const uint8_t *user;
	size_t user_len;
	const uint8_t *device_id;
	size_t device_id_len;
	const uint8_t *spki;
	size_t spki_len;
	uint32_t validity_days;
	const uint8_t *server_name; /* ISSUE_DS_CERT */
	size_t server_name_len;
};

/* A decoded reply; cert points into the message. */
struct privsep_reply {
	uint8_t type;
	int err; /* 0 or a negative code of ca_err.h / err.h */
	const uint8_t *cert;
	size_t cert_len;
};

int privsep_request_encode(struct bw_writer *w,
			   const struct privsep_request *req);
/* Unknown types give PRIVSEP_ERR_UNKNOWN_REQUEST, anything malformed a
 * codec error; the whole message must be consumed. */
int privsep_request_decode(const uint8_t *msg, size_t len,
			   struct privsep_request *req);

int privsep_reply_encode(struct bw_writer *w, const struct privsep_reply *rep);
int privsep_reply_decode(const uint8_t *msg, size_t len,
			 struct privsep_reply *rep);

#endif

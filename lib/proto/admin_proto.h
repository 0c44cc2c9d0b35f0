/*
 * admin_proto.h - the administration protocol between bulwarkctl and bulwarkd
 * over the server's Unix domain socket (docs/protocol.md, part 2).
 *
 * A frame is a uint32 big-endian length followed by that many bytes of one
 * message encoded with the project codec:
 *
 *   struct { uint8 version; uint16 op; opaque body<V>; } AdminRequest;
 *   struct { uint8 version; uint16 status; opaque text<0..200>;
 *            opaque body<V>; } AdminResponse;
 *
 * Requests are small (ADMIN_MAX_REQUEST); responses can carry lists
 * (ADMIN_MAX_RESPONSE). Decoding is zero-copy: spans point into the frame.
 */
#ifndef BW_ADMIN_PROTO_H
#define BW_ADMIN_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "proto.h"

#define ADMIN_VERSION 1
#define ADMIN_MAX_REQUEST (16u * 1024u)
#define ADMIN_MAX_RESPONSE (16u * 1024u * 1024u)
#define ADMIN_MAX_DISPLAY 128u
#define ADMIN_MAX_W0 66u   /* a scalar of up to P-521 */
#define ADMIN_MAX_L 133u   /* an uncompressed point of up to P-521 */
#define ADMIN_MAX_SALT PROTO_MAX_SALT
#define ADMIN_MAX_KDF_PARAMS PROTO_MAX_KDF_PARAMS
#define ADMIN_MAX_FINGERPRINT 64u
#define ADMIN_MAX_FINGERPRINT_TEXT 128u
#define ADMIN_MAX_SERIAL 32u
#define ADMIN_MAX_VERSION_TEXT 64u
#define ADMIN_MAX_ADDRESS 300u

enum admin_op {
	ADMIN_OP_STATUS = 1,
	ADMIN_OP_USER_ADD = 2,
	ADMIN_OP_USER_LIST = 3,
	ADMIN_OP_USER_DISABLE = 4,
	ADMIN_OP_DEVICE_LIST = 5,
	ADMIN_OP_DEVICE_REVOKE = 6,
	ADMIN_OP_ACTIVATION_CREATE = 7,
	ADMIN_OP_DEVICE_ENROLL = 8, /* admin_enroll.h */
};

#define ADMIN_STATUSES(X)                                                   \
	X(ADMIN_OK, 0, "ok")                                                \
	X(ADMIN_E_MALFORMED, 1, "malformed request")                        \
	X(ADMIN_E_VERSION, 2, "unsupported administration protocol version") \
	X(ADMIN_E_UNKNOWN_OP, 3, "unknown operation")                       \
	X(ADMIN_E_NOT_FOUND, 4, "no such user or device")                   \
	X(ADMIN_E_EXISTS, 5, "already exists")                              \
	X(ADMIN_E_INVALID, 6, "invalid name or value")                      \
	X(ADMIN_E_INTERNAL, 7, "internal server error")                     \
	X(ADMIN_E_DISABLED, 8, "user is disabled")

enum admin_status {
#define ADMIN_STATUS_ENUM(name, code, text) name = (code),
	ADMIN_STATUSES(ADMIN_STATUS_ENUM)
#undef ADMIN_STATUS_ENUM
};

const char *admin_status_text(uint16_t status);

struct admin_request {
	uint8_t version;
	uint16_t op;
	struct proto_span body;
};

struct admin_response {
	uint8_t version;
	uint16_t status;
	struct proto_span text;
	struct proto_span body;
};

/* Length of the frame whose 4-byte header is hdr, checked against max. */
int admin_frame_length(const uint8_t hdr[4], size_t max, size_t *len);
/* Build a whole frame in place: begin writes the frame header and the
 * message header and opens the body, which the caller appends; end closes
 * both. Errors stick in the writer.
 *
 *   struct admin_marks mk = admin_request_begin(w, ADMIN_OP_USER_ADD);
 *   admin_encode_user_add(w, &add);
 *   rc = admin_end(w, mk);
 */
struct admin_marks {
	size_t frame, body;
};
struct admin_marks admin_request_begin(struct bw_writer *w, uint16_t op);
/* text NULL: the status's own text. */
struct admin_marks admin_response_begin(struct bw_writer *w, uint16_t status,
					const char *text);
int admin_end(struct bw_writer *w, struct admin_marks mk);
/* Decode a message (the bytes after the frame header). */
int admin_decode_request(const uint8_t *p, size_t n,
			 struct admin_request *out);
int admin_decode_response(const uint8_t *p, size_t n,
			  struct admin_response *out);

/* ---- bodies ---- */

struct admin_status_info {
	struct proto_span version;        /* software version */
	struct proto_span server_name;
	struct proto_span public_address; /* host:port devices connect to */
	struct proto_span ca_fingerprint; /* "AB:CD:..", SHA-256 of the CA */
	uint16_t mls_suite;
	uint64_t uptime;                  /* seconds */
	uint32_t connections;             /* open device connections */
	uint32_t authenticated;           /* of which authenticated */
	uint32_t users;
	uint32_t devices;                 /* active (not revoked) */
};

struct admin_user_add {
	struct proto_span name;
	struct proto_span display_name;
};

/* Requests naming one user (USER_DISABLE), one device (DEVICE_REVOKE) or
 * filtering by user (DEVICE_LIST, empty for all). */
struct admin_name {
	struct proto_span name;
};

struct admin_user {
	struct proto_span name;
	struct proto_span display_name;
	bool disabled;
	uint64_t created;
	uint32_t devices; /* active devices */
};

struct admin_device {
	struct proto_span id;
	struct proto_span user;
	struct proto_span name;
	struct proto_span fingerprint; /* SHA-256 of the certificate */
	struct proto_span serial;      /* certificate serial number */
	uint64_t created;
	uint64_t revoked_at;           /* 0 while active */
};

struct admin_activation_create {
	struct proto_span user;
	struct proto_span code_id;
	struct proto_span w0;
	struct proto_span l;
	struct proto_span salt;
	struct proto_span kdf_params; /* KdfParams (proto.h), encoded */
	uint64_t ttl; /* seconds; 0 for the server's activation_ttl */
};

struct admin_activation_created {
	uint64_t expires; /* seconds since the epoch */
};

int admin_decode_status_info(const struct proto_span *body,
			     struct admin_status_info *out);
int admin_encode_status_info(struct bw_writer *w,
		const struct admin_status_info *in);
int admin_decode_user_add(const struct proto_span *body,
			  struct admin_user_add *out);
int admin_encode_user_add(struct bw_writer *w,
		const struct admin_user_add *in);
int admin_decode_name(const struct proto_span *body, bool allow_empty,
		      struct admin_name *out);
int admin_encode_name(struct bw_writer *w,
		const struct admin_name *in);
/* Lists: a vector<V> of entries. Read one entry at a time from the
 * sub-reader that admin_open_list gives. */
int admin_open_list(const struct proto_span *body, struct bw_reader *list);
int admin_read_user(struct bw_reader *list, struct admin_user *out);
int admin_write_user(struct bw_writer *w, const struct admin_user *in);
int admin_read_device(struct bw_reader *list, struct admin_device *out);
int admin_write_device(struct bw_writer *w, const struct admin_device *in);
int admin_decode_activation_create(const struct proto_span *body,
				   struct admin_activation_create *out);
int admin_encode_activation_create(struct bw_writer *w,
		const struct admin_activation_create *in);
int admin_decode_activation_created(const struct proto_span *body,
				    struct admin_activation_created *out);
int admin_encode_activation_created(struct bw_writer *w,
		const struct admin_activation_created *in);

#endif

/*
 * proto.h - the device protocol of Bulwark, version 1 (docs/protocol.md).
 *
 * One binary message travels in one WebSocket message. Every message is an
 * envelope encoded with the project codec (lib/common/codec.h):
 *
 *   struct {
 *       uint8  version;      // PROTO_VERSION
 *       uint8  kind;         // request, response or push
 *       uint16 type;         // enum proto_type
 *       uint32 request_id;   // chosen by the requester, echoed; 0 in pushes
 *       select (kind) {
 *       case response: uint16 status; opaque text<0..PROTO_MAX_TEXT>;
 *       }
 *       opaque body<0..limit>;   // the type's own structure
 *   } Envelope;
 *
 * Decoding is zero-copy: every struct proto_span points into the caller's
 * buffer, which must outlive the decoded struct. Every field has a hard
 * length limit; the envelope's body limit is the caller's (tighter before
 * authentication). Errors are negative codes (-450..-479, proto_strerror).
 *
 *   struct proto_msg m;
 *   if ((rc = proto_decode(buf, len, PROTO_MAX_MESSAGE_PREAUTH, &m)) != 0) ...
 *   if (m.type == PROTO_T_PING) proto_decode_ping(&m, &ping);
 */
#ifndef BW_PROTO_H
#define BW_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

#define PROTO_VERSION 1
/* Versions of the protocol this library speaks (HELLO negotiation). */
#define PROTO_VERSION_MIN 1
#define PROTO_VERSION_MAX 1

/* WebSocket endpoint and subprotocol. */
#define PROTO_WS_PATH "/bulwark/v1"
#define PROTO_WS_SUBPROTOCOL "bulwark.v1"

/* Whole-message limits: before the device is authenticated (activation
 * only) and after. */
#define PROTO_MAX_MESSAGE_PREAUTH 4096u
#define PROTO_MAX_MESSAGE_AUTH (1024u * 1024u)
/* Field limits. */
#define PROTO_MAX_TEXT 200u
#define PROTO_MAX_SOFTWARE 64u
#define PROTO_MAX_NAME 64u     /* user names, device ids, device names */
#define PROTO_MAX_CODE_ID 32u  /* activation code ids */
#define PROTO_MAX_SHARE 133u   /* an uncompressed point of up to P-521 */
#define PROTO_MAX_CONFIRM 64u  /* a MAC of up to SHA-512 */
#define PROTO_MAX_SPKI 1024u   /* a device's SubjectPublicKeyInfo, DER */
#define PROTO_MAX_CERT 8192u   /* one certificate, DER */
#define PROTO_MAX_PING 64u
#define PROTO_MAX_HOST 255u
#define PROTO_MAX_SALT 64u
#define PROTO_MAX_KDF_PARAMS 64u

/* Label of the TLS exporter that binds activation to the TLS session
 * (RFC 8446 §7.5), and its output length. */
#define PROTO_ACTIVATION_EXPORTER_LABEL "EXPORTER-bulwark-activation"
#define PROTO_ACTIVATION_EXPORTER_LEN 32u
/* Prefix of the SPAKE2+ Context; the exporter value follows it. */
#define PROTO_ACTIVATION_CONTEXT_PREFIX "bulwark activation v1 "

enum proto_kind {
	PROTO_REQUEST = 1,
	PROTO_RESPONSE = 2,
	PROTO_PUSH = 3,
};

/* Message types, grouped in ranges of 256 so each area can grow. */
enum proto_type {
	/* a response to something that could not be parsed as a request */
	PROTO_T_ERROR = 0x0000,
	/* 0x0001..0x00ff session */
	PROTO_T_HELLO = 0x0001,
	PROTO_T_PING = 0x0002,
	PROTO_T_WHOAMI = 0x0003,
	/* 0x0100..0x01ff activation (before authentication) */
	PROTO_T_ACTIVATE_PARAMS = 0x0100,
	PROTO_T_ACTIVATE_START = 0x0101,
	PROTO_T_ACTIVATE_FINISH = 0x0102,
	/* 0x0200..0x02ff key packages, 0x0300..0x03ff groups and messages,
	 * 0x0400..0x04ff queues and acknowledgements: the next protocol
	 * revision. 0x8000..0xffff: pushes. */
};

/* Status of a response (uint16 on the wire). */
#define PROTO_STATUSES(X)                                                   \
	X(PROTO_OK, 0, "ok")                                                \
	X(PROTO_E_MALFORMED, 1, "malformed message")                        \
	X(PROTO_E_VERSION, 2, "unsupported protocol version")               \
	X(PROTO_E_UNKNOWN_TYPE, 3, "unknown message type")                  \
	X(PROTO_E_NOT_ALLOWED, 4, "not allowed in this state")              \
	X(PROTO_E_ACTIVATION_FAILED, 5, "activation failed")                \
	X(PROTO_E_INTERNAL, 6, "internal server error")                     \
	X(PROTO_E_BUSY, 7, "server busy, try again later")

enum proto_status {
#define PROTO_STATUS_ENUM(name, code, text) name = (code),
	PROTO_STATUSES(PROTO_STATUS_ENUM)
#undef PROTO_STATUS_ENUM
};

/* Short text of a status; never NULL. */
const char *proto_status_text(uint16_t status);

/* Error codes of the protocol library, -450..-479. */
#define PROTO_ERRORS(X)                                                     \
	X(PROTO_ERR_VERSION, -450, "unsupported protocol envelope version") \
	X(PROTO_ERR_KIND, -451, "unknown message kind")                     \
	X(PROTO_ERR_TYPE, -452, "message of another type")                  \
	X(PROTO_ERR_NAME, -453, "name holds characters not allowed")        \
	X(PROTO_ERR_ADMIN_OP, -454, "unknown administration operation")     \
	X(PROTO_ERR_FRAME, -455, "administration frame too large")

enum proto_err {
#define PROTO_ERR_ENUM(name, code, text) name = (code),
	PROTO_ERRORS(PROTO_ERR_ENUM)
#undef PROTO_ERR_ENUM
};

/* Text for a protocol error (codec errors included); never NULL. */
const char *proto_strerror(int err);

/* A view into a decoded buffer. */
struct proto_span {
	const uint8_t *p;
	size_t n;
};

struct proto_msg {
	uint8_t version;
	uint8_t kind;
	uint16_t type;
	uint32_t request_id;
	uint16_t status;        /* responses only */
	struct proto_span text; /* responses only */
	struct proto_span body;
};

/* Decode an envelope of at most max_body body bytes. */
int proto_decode(const uint8_t *p, size_t n, size_t max_body,
		 struct proto_msg *m);
/* Append an envelope; body and text come from m. */
int proto_encode(struct bw_writer *w, const struct proto_msg *m);
/* Append a response carrying only a status and its text (no body). */
int proto_encode_status(struct bw_writer *w, uint16_t type,
			uint32_t request_id, uint16_t status);

/* True for names the protocol accepts: 1..PROTO_MAX_NAME characters from
 * [a-z0-9._-], starting with a letter or digit. Used for user names,
 * device ids and activation code ids. */
bool proto_name_valid(const uint8_t *p, size_t n, size_t max);
/* Device names are free text for people: 1..PROTO_MAX_NAME printable
 * ASCII characters. */
bool proto_label_valid(const uint8_t *p, size_t n);

/* ---- bodies ---- */

struct proto_hello_req {
	uint8_t min_version, max_version;
	struct proto_span software; /* e.g. "bulwark/0.1.0" */
};
struct proto_hello_resp {
	uint8_t version; /* the chosen version */
	bool authenticated;
	uint32_t max_message; /* the limit that applies to this connection */
	struct proto_span server_name;
	struct proto_span software;
};
struct proto_ping {
	struct proto_span data; /* echoed */
};
struct proto_whoami_resp {
	struct proto_span user;
	struct proto_span device_id;
	struct proto_span device_name;
	uint64_t server_time; /* seconds since the epoch */
};
/* The password KDF of an activation code, as stored and sent:
 *   struct { uint16 kdf; uint64 n; uint32 r; uint32 p; } KdfParams;
 * with kdf = PROTO_KDF_SCRYPT (RFC 7914 costs N, r, p). */
#define PROTO_KDF_SCRYPT 1
struct proto_kdf_params {
	uint16_t kdf;
	uint64_t n;
	uint32_t r, p;
};
int proto_decode_kdf_params(const uint8_t *p, size_t n,
			    struct proto_kdf_params *out);
int proto_encode_kdf_params(struct bw_writer *w,
			    const struct proto_kdf_params *in);

struct proto_activate_params_req {
	struct proto_span user;
	struct proto_span code_id;
};
struct proto_activate_params_resp {
	struct proto_span salt;
	struct proto_span kdf_params; /* KdfParams, encoded */
};
struct proto_activate_start_req {
	struct proto_span user;
	struct proto_span code_id;
	struct proto_span share_p;
};
struct proto_activate_start_resp {
	struct proto_span share_v;
	struct proto_span confirm_v;
};
struct proto_activate_finish_req {
	struct proto_span confirm_p;
	struct proto_span spki;        /* the device's new signature key */
	struct proto_span device_name;
};
struct proto_activate_finish_resp {
	struct proto_span device_id;
	struct proto_span cert;    /* the device's certificate, DER */
	struct proto_span ca_cert; /* the organisation's CA, DER */
};

/* Each decoder checks m's kind and type, reads the body with its limits
 * and rejects trailing bytes. Each encoder appends a body only. */
int proto_decode_hello_req(const struct proto_msg *m,
			   struct proto_hello_req *out);
int proto_encode_hello_req(struct bw_writer *w,
			   const struct proto_hello_req *in);
int proto_decode_hello_resp(const struct proto_msg *m,
			    struct proto_hello_resp *out);
int proto_encode_hello_resp(struct bw_writer *w,
			    const struct proto_hello_resp *in);
int proto_decode_ping(const struct proto_msg *m, struct proto_ping *out);
int proto_encode_ping(struct bw_writer *w, const struct proto_ping *in);
int proto_decode_whoami_resp(const struct proto_msg *m,
			     struct proto_whoami_resp *out);
int proto_encode_whoami_resp(struct bw_writer *w,
			     const struct proto_whoami_resp *in);
int proto_decode_activate_params_req(const struct proto_msg *m,
				     struct proto_activate_params_req *out);
int proto_encode_activate_params_req(
	struct bw_writer *w, const struct proto_activate_params_req *in);
int proto_decode_activate_params_resp(const struct proto_msg *m,
				      struct proto_activate_params_resp *out);
int proto_encode_activate_params_resp(
	struct bw_writer *w, const struct proto_activate_params_resp *in);
int proto_decode_activate_start_req(const struct proto_msg *m,
				    struct proto_activate_start_req *out);
int proto_encode_activate_start_req(struct bw_writer *w,
				    const struct proto_activate_start_req *in);
int proto_decode_activate_start_resp(const struct proto_msg *m,
				     struct proto_activate_start_resp *out);
int proto_encode_activate_start_resp(
	struct bw_writer *w, const struct proto_activate_start_resp *in);
int proto_decode_activate_finish_req(const struct proto_msg *m,
				     struct proto_activate_finish_req *out);
int proto_encode_activate_finish_req(
	struct bw_writer *w, const struct proto_activate_finish_req *in);
int proto_decode_activate_finish_resp(const struct proto_msg *m,
				      struct proto_activate_finish_resp *out);
int proto_encode_activate_finish_resp(
	struct bw_writer *w, const struct proto_activate_finish_resp *in);

/* Build a message in place: proto_begin writes the envelope header (a
 * response gets status PROTO_OK) and opens the body, whose fields the
 * caller then appends; proto_end closes it. Errors stick in the writer.
 *
 *   size_t mark = proto_begin(w, PROTO_RESPONSE, PROTO_T_PING, id);
 *   proto_encode_ping(w, &ping);
 *   rc = proto_end(w, mark);
 */
size_t proto_begin(struct bw_writer *w, uint8_t kind, uint16_t type,
		   uint32_t request_id);
int proto_end(struct bw_writer *w, size_t mark);

/* The SPAKE2+ Context of an activation: the fixed prefix followed by the
 * TLS exporter value. out must hold PROTO_ACTIVATION_CONTEXT_LEN bytes. */
#define PROTO_ACTIVATION_CONTEXT_LEN                                         \
	(sizeof(PROTO_ACTIVATION_CONTEXT_PREFIX) - 1 +                      \
	 PROTO_ACTIVATION_EXPORTER_LEN)
void proto_activation_context(const uint8_t exporter[PROTO_ACTIVATION_EXPORTER_LEN],
			      uint8_t *out);
/* idProver of an activation: "<user>/<code id>". out must hold
 * PROTO_MAX_NAME + 1 + PROTO_MAX_CODE_ID bytes; returns the length. */
#define PROTO_MAX_ID_PROVER (PROTO_MAX_NAME + 1 + PROTO_MAX_CODE_ID)
size_t proto_activation_id_prover(const uint8_t *user, size_t user_len,
				  const uint8_t *code_id, size_t code_id_len,
				  uint8_t *out);

#endif

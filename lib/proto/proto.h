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
/* Conversations (docs/protocol.md, "Conversations"). */
#define PROTO_MAX_GROUP_ID 64u          /* an MLS group id: 1..64 bytes */
#define PROTO_IDEMPOTENCY_KEY_LEN 16u   /* exactly */
#define PROTO_MAX_SIGNATURE_KEY 133u    /* the DS's public key */
#define PROTO_MAX_CREDENTIAL 16384u     /* the DS's MLS credential */
#define PROTO_MAX_KEY_PACKAGE 16384u    /* one MLSMessage(KeyPackage) */
#define PROTO_MAX_UPLOAD_KEY_PACKAGES 100u /* per KP_UPLOAD */
#define PROTO_MAX_CLAIM_USERS 100u      /* per KP_CLAIM */
#define PROTO_MAX_ACKS 1024u            /* per QUEUE_ACK */
/* Any MLS message in a request or a push: the connection's message limit
 * (at most 64 MiB, max_message_size) is the real bound. */
#define PROTO_MAX_MLS_MESSAGE (64u * 1024u * 1024u)

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
	PROTO_T_SERVER_INFO = 0x0004,
	/* 0x0100..0x01ff activation (before authentication) */
	PROTO_T_ACTIVATE_PARAMS = 0x0100,
	PROTO_T_ACTIVATE_START = 0x0101,
	PROTO_T_ACTIVATE_FINISH = 0x0102,
	/* 0x0200..0x02ff key packages */
	PROTO_T_KP_UPLOAD = 0x0200,
	PROTO_T_KP_CLAIM = 0x0201,
	PROTO_T_KP_COUNT = 0x0202,
	/* 0x0300..0x03ff groups and messages */
	PROTO_T_GROUP_CREATE = 0x0300,
	PROTO_T_GROUP_COMMIT = 0x0301,
	PROTO_T_GROUP_PROPOSE = 0x0302,
	PROTO_T_GROUP_SEND = 0x0303,
	PROTO_T_GROUP_INFO = 0x0304,
	PROTO_T_GROUP_LIST = 0x0305,
	/* 0x0400..0x04ff queues and acknowledgements */
	PROTO_T_QUEUE_ACK = 0x0400,
	/* 0x8000..0xffff pushes, server to device (kind push, request id 0) */
	PROTO_T_KP_LOW = 0x8001,
	PROTO_T_DELIVER = 0x8002,
	PROTO_T_SYNCED = 0x8003,
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
	X(PROTO_E_BUSY, 7, "server busy, try again later")                  \
	X(PROTO_E_STALE_EPOCH, 8, "stale epoch")                            \
	X(PROTO_E_NOT_MEMBER, 9, "not a member")                            \
	X(PROTO_E_INVALID_MLS, 10, "invalid MLS message")                   \
	X(PROTO_E_UNKNOWN_GROUP, 11, "unknown group")                       \
	X(PROTO_E_NO_KEY_PACKAGE, 12, "no key package available")           \
	X(PROTO_E_CONFLICT, 13, "conflict")                                 \
	X(PROTO_E_FORBIDDEN, 14, "forbidden by policy")                     \
	X(PROTO_E_UNKNOWN_USER, 15, "unknown user")                         \
	X(PROTO_E_IDEMPOTENCY, 16,                                          \
	  "idempotency key reused with different content")

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

/* ---- conversations: key packages, groups, queues (docs/protocol.md) ---- */

/*
 * A vector of items, checked in full when its message was decoded: the
 * items are then read one by one with proto_list_iter() and the item's
 * proto_next_*() function, which cannot fail on a list the decoder
 * accepted (it returns false at the end).
 */
struct proto_list {
	struct proto_span bytes; /* the vector's contents */
	uint32_t count;
};
void proto_list_iter(const struct proto_list *l, struct bw_reader *it);

/* SERVER_INFO response (the request body is empty). ds_credential is the
 * RFC 9420 §5.3 Credential, TLS-encoded: uint16 credential_type = 2
 * (x509); Certificate certificates<V> (each opaque cert_data<V>, DER,
 * end-entity first). */
struct proto_server_info {
	uint16_t mls_suite;
	struct proto_span ds_signature_key;
	struct proto_span ds_credential;
};
/* The DER certificates of an x509 Credential, e.g. SERVER_INFO's
 * ds_credential, end-entity first: at most max of them (BW_ERR_TOO_LONG
 * beyond), each 1..PROTO_MAX_CERT bytes; *n receives the count. Any other
 * credential type is BW_ERR_BAD_VALUE. */
int proto_decode_x509_credential(const struct proto_span *cred,
				 struct proto_span *certs, size_t max,
				 size_t *n);
int proto_encode_x509_credential(struct bw_writer *w,
				 const struct proto_span *certs, size_t n);

/* KP_UPLOAD request: 1..PROTO_MAX_UPLOAD_KEY_PACKAGES key packages (each
 * opaque<1..PROTO_MAX_KEY_PACKAGE>, an MLSMessage) and an optional
 * last-resort one. An upload of only a last-resort package has an empty
 * list. */
struct proto_kp_upload_req {
	struct proto_list key_packages; /* proto_next_key_package() */
	bool has_last_resort;
	struct proto_span last_resort;
};
/* KP_UPLOAD and KP_COUNT responses. */
struct proto_kp_count {
	uint32_t available; /* this device's unclaimed key packages */
	uint32_t low_water; /* below this the server pushes KP_LOW */
};
/* KP_LOW push. */
struct proto_kp_low {
	uint32_t available;
};
/* KP_CLAIM request: 1..PROTO_MAX_CLAIM_USERS user names
 * (proto_next_user). */
struct proto_kp_claim_req {
	struct proto_list users;
};
/* KP_CLAIM response: one claim per device (proto_next_claim). */
struct proto_kp_claim_resp {
	struct proto_list claims;
};
struct proto_claim {
	struct proto_span user;
	struct proto_span device_id;
	struct proto_span key_package; /* MLSMessage(KeyPackage) */
};

/* GROUP_CREATE request and response. */
struct proto_group_create_req {
	struct proto_span group_info; /* MLSMessage(GroupInfo), epoch 0 */
};
struct proto_epoch {
	uint64_t epoch;
};
/* GROUP_COMMIT request and response. */
struct proto_group_commit_req {
	struct proto_span group_id;
	struct proto_span idempotency_key; /* PROTO_IDEMPOTENCY_KEY_LEN */
	struct proto_span commit;          /* MLSMessage(PublicMessage) */
	struct proto_span group_info;      /* the new epoch's GroupInfo */
	bool has_welcome;
	struct proto_span welcome;
};
struct proto_seq_epoch {
	uint64_t seq;
	uint64_t epoch;
};
/* GROUP_PROPOSE and GROUP_SEND requests: message is the proposal
 * (PublicMessage) or the application message (PrivateMessage). */
struct proto_group_message_req {
	struct proto_span group_id;
	struct proto_span idempotency_key;
	struct proto_span message;
};
/* GROUP_PROPOSE and GROUP_SEND responses. */
struct proto_seq {
	uint64_t seq;
};
/* GROUP_INFO request (also the body of anything naming one group). */
struct proto_group_ref {
	struct proto_span group_id;
};
struct proto_group_info_resp {
	uint64_t epoch;
	struct proto_span group_info;
};
/* GROUP_LIST response (the request body is empty): proto_next_group. */
struct proto_group_list_resp {
	struct proto_list groups;
};
struct proto_group_entry {
	struct proto_span group_id;
	uint64_t epoch;
	bool member; /* this device itself is a member */
};
/* QUEUE_ACK request (the response body is empty): proto_next_ack. */
struct proto_queue_ack_req {
	struct proto_list acks;
};
struct proto_ack {
	struct proto_span group_id; /* empty: the device's inbox */
	uint64_t seq;               /* everything up to and including it */
};
/* DELIVER push. */
enum proto_deliver_kind {
	PROTO_DELIVER_APPLICATION = 1,
	PROTO_DELIVER_HANDSHAKE = 2,
	PROTO_DELIVER_WELCOME = 3,
};
struct proto_deliver {
	struct proto_span group_id; /* empty for the inbox (Welcomes) */
	uint64_t seq;
	uint8_t kind;               /* enum proto_deliver_kind */
	uint64_t timestamp;         /* seconds since the epoch */
	struct proto_span payload;  /* the MLSMessage */
};
/* The body of a response with status PROTO_E_STALE_EPOCH. */
struct proto_stale_epoch {
	uint64_t current_epoch;
};

/* Items of the lists above. */
bool proto_next_key_package(struct bw_reader *it, struct proto_span *kp);
int proto_write_key_package(struct bw_writer *w, const struct proto_span *kp);
bool proto_next_user(struct bw_reader *it, struct proto_span *user);
int proto_write_user(struct bw_writer *w, const struct proto_span *user);
bool proto_next_claim(struct bw_reader *it, struct proto_claim *c);
int proto_write_claim(struct bw_writer *w, const struct proto_claim *c);
bool proto_next_group(struct bw_reader *it, struct proto_group_entry *g);
int proto_write_group(struct bw_writer *w, const struct proto_group_entry *g);
bool proto_next_ack(struct bw_reader *it, struct proto_ack *a);
int proto_write_ack(struct bw_writer *w, const struct proto_ack *a);

/* As for the bodies above: each decoder checks m's kind and type, every
 * limit and the trailing bytes. A list is encoded by the caller between
 * bw_write_vector_begin() and bw_write_vector_end() with the item
 * writers; the encoders below take the list's bytes as they are. */
int proto_decode_server_info(const struct proto_msg *m,
			     struct proto_server_info *out);
int proto_encode_server_info(struct bw_writer *w,
			     const struct proto_server_info *in);
int proto_decode_kp_upload_req(const struct proto_msg *m,
			       struct proto_kp_upload_req *out);
int proto_encode_kp_upload_req(struct bw_writer *w,
			       const struct proto_kp_upload_req *in);
/* KP_UPLOAD or KP_COUNT response. */
int proto_decode_kp_count(const struct proto_msg *m,
			  struct proto_kp_count *out);
int proto_encode_kp_count(struct bw_writer *w,
			  const struct proto_kp_count *in);
int proto_decode_kp_low(const struct proto_msg *m, struct proto_kp_low *out);
int proto_encode_kp_low(struct bw_writer *w, const struct proto_kp_low *in);
int proto_decode_kp_claim_req(const struct proto_msg *m,
			      struct proto_kp_claim_req *out);
int proto_encode_kp_claim_req(struct bw_writer *w,
			      const struct proto_kp_claim_req *in);
int proto_decode_kp_claim_resp(const struct proto_msg *m,
			       struct proto_kp_claim_resp *out);
int proto_encode_kp_claim_resp(struct bw_writer *w,
			       const struct proto_kp_claim_resp *in);
int proto_decode_group_create_req(const struct proto_msg *m,
				  struct proto_group_create_req *out);
int proto_encode_group_create_req(struct bw_writer *w,
				  const struct proto_group_create_req *in);
/* GROUP_CREATE response. */
int proto_decode_epoch(const struct proto_msg *m, struct proto_epoch *out);
int proto_encode_epoch(struct bw_writer *w, const struct proto_epoch *in);
int proto_decode_group_commit_req(const struct proto_msg *m,
				  struct proto_group_commit_req *out);
int proto_encode_group_commit_req(struct bw_writer *w,
				  const struct proto_group_commit_req *in);
/* GROUP_COMMIT response. */
int proto_decode_seq_epoch(const struct proto_msg *m,
			   struct proto_seq_epoch *out);
int proto_encode_seq_epoch(struct bw_writer *w,
			   const struct proto_seq_epoch *in);
/* GROUP_PROPOSE or GROUP_SEND request (m's type tells which). */
int proto_decode_group_message_req(const struct proto_msg *m,
				   struct proto_group_message_req *out);
int proto_encode_group_message_req(struct bw_writer *w,
				   const struct proto_group_message_req *in);
/* GROUP_PROPOSE or GROUP_SEND response. */
int proto_decode_seq(const struct proto_msg *m, struct proto_seq *out);
int proto_encode_seq(struct bw_writer *w, const struct proto_seq *in);
/* GROUP_INFO request. */
int proto_decode_group_ref(const struct proto_msg *m,
			   struct proto_group_ref *out);
int proto_encode_group_ref(struct bw_writer *w,
			   const struct proto_group_ref *in);
int proto_decode_group_info_resp(const struct proto_msg *m,
				 struct proto_group_info_resp *out);
int proto_encode_group_info_resp(struct bw_writer *w,
				 const struct proto_group_info_resp *in);
int proto_decode_group_list_resp(const struct proto_msg *m,
				 struct proto_group_list_resp *out);
int proto_encode_group_list_resp(struct bw_writer *w,
				 const struct proto_group_list_resp *in);
int proto_decode_queue_ack_req(const struct proto_msg *m,
			       struct proto_queue_ack_req *out);
int proto_encode_queue_ack_req(struct bw_writer *w,
			       const struct proto_queue_ack_req *in);
int proto_decode_deliver(const struct proto_msg *m,
			 struct proto_deliver *out);
int proto_encode_deliver(struct bw_writer *w, const struct proto_deliver *in);
/* The body of a PROTO_E_STALE_EPOCH response (any request type). */
int proto_decode_stale_epoch(const struct proto_msg *m,
			     struct proto_stale_epoch *out);
int proto_encode_stale_epoch(struct bw_writer *w,
			     const struct proto_stale_epoch *in);
/* An empty body, as SERVER_INFO, KP_COUNT and GROUP_LIST requests, the
 * QUEUE_ACK response and the SYNCED push have: 0 or BW_ERR_TRAILING. */
int proto_decode_empty(const struct proto_msg *m);

/* A response with a status and a text of the caller's instead of the
 * status's own (cut at PROTO_MAX_TEXT), e.g. why an MLS message was
 * refused; no body. */
int proto_encode_status_text(struct bw_writer *w, uint16_t type,
			     uint32_t request_id, uint16_t status,
			     const char *text);
/* A response with status PROTO_E_STALE_EPOCH and its body. */
int proto_encode_stale_epoch_response(struct bw_writer *w, uint16_t type,
				      uint32_t request_id,
				      uint64_t current_epoch);

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

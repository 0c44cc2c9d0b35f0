/*
 * admin_enroll.h - DEVICE_ENROLL, the administration protocol's bulk
 * provisioning of managed devices (docs/protocol.md part 2, docs/cli.md
 * "device enroll").
 *
 * The administrator's tool generates each device's key pair itself and
 * sends only the public keys; the server has the CA monitor certify each
 * one and records the devices, all in one transaction per request:
 *
 *   struct {
 *       opaque user<1..64>;
 *       opaque name<1..64>;        // the device's name, for people
 *       opaque spki<1..1024>;      // its public key, SubjectPublicKeyInfo DER
 *   } EnrollEntry;
 *   struct { EnrollEntry entries<V>; } DeviceEnroll;       // 1..100 entries
 *
 *   struct { opaque device_id<1..64>; opaque cert<1..8192>; } Enrolled;
 *   struct {
 *       opaque ca_cert<1..8192>;   // the organisation's CA, DER
 *       Enrolled devices<V>;       // one per entry, in the request's order
 *   } DeviceEnrolled;
 *
 * Decoding is zero-copy (spans point into the frame); lists are checked in
 * full when decoded, then read item by item.
 */
#ifndef BW_ADMIN_ENROLL_H
#define BW_ADMIN_ENROLL_H

#include <stddef.h>
#include <stdint.h>

#include "admin_proto.h"

/* Entries per request: 100 keys of any suite fit in ADMIN_MAX_REQUEST. */
#define ADMIN_MAX_ENROLL 100u

struct admin_enroll_entry {
	struct proto_span user;
	struct proto_span name;
	struct proto_span spki;
};

struct admin_enroll {
	struct bw_reader entries; /* admin_enroll_next() */
	uint32_t count;
};

struct admin_enrolled_device {
	struct proto_span device_id;
	struct proto_span cert;
};

struct admin_enrolled {
	struct proto_span ca_cert;
	struct bw_reader devices; /* admin_enrolled_next() */
	uint32_t count;
};

/* A DeviceEnroll body: 1..ADMIN_MAX_ENROLL entries, every name valid
 * (PROTO_ERR_NAME otherwise), every key 1..PROTO_MAX_SPKI bytes. */
int admin_decode_enroll(const struct proto_span *body,
			struct admin_enroll *out);
/* The next entry of a decoded request: false at the end. */
bool admin_enroll_next(struct admin_enroll *e,
		       struct admin_enroll_entry *out);
/* Entries are written between bw_write_vector_begin() and
 * bw_write_vector_end(): the whole body is that one vector. */
int admin_write_enroll_entry(struct bw_writer *w,
			     const struct admin_enroll_entry *in);

/* A DeviceEnrolled body, every device id a valid name. */
int admin_decode_enrolled(const struct proto_span *body,
			  struct admin_enrolled *out);
bool admin_enrolled_next(struct admin_enrolled *e,
			 struct admin_enrolled_device *out);
/* The CA certificate; then the devices as a vector of
 * admin_write_enrolled_device(). */
int admin_write_enrolled_device(struct bw_writer *w,
				const struct admin_enrolled_device *in);

#endif

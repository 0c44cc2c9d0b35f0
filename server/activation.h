/*
 * activation.h - a device activates over the device protocol with SPAKE2+
 * (RFC 9383) against the activation code's record (w0, L), the server as
 * Verifier, bound to the TLS session (docs/protocol.md, "Activation").
 *
 *   ACTIVATE_PARAMS  user, code id      -> salt, KDF parameters
 *   ACTIVATE_START   user, code id, shareP -> shareV, confirmV
 *   ACTIVATE_FINISH  confirmP, key, name  -> device id, certificate, CA
 *
 * An unknown user or code, an expired, used or locked code, and a wrong
 * password all look the same from the network: PARAMS answers with a salt
 * derived from the claim, START runs the exchange against a fixed fake
 * record, and FINISH fails with PROTO_E_ACTIVATION_FAILED. Each START on a
 * real code counts one attempt; the code locks after
 * activation_max_attempts. On success one store transaction certifies the
 * key (through the CA monitor), records the device and uses up the code.
 */
#ifndef BWD_ACTIVATION_H
#define BWD_ACTIVATION_H

#include "conn.h"
#include "proto.h"
#include "store.h"

struct bwd_server;
struct activation;
struct activation_keys;

/* The fake record and the key that derives fake salts: made once at start
 * (the key is kept in the store so fake salts survive restarts). */
int activation_keys_new(struct bwd_server *srv, struct activation_keys **out);
void activation_keys_free(struct activation_keys *k);

/* A request of the activation range on a connection without a
 * certificate. */
void activation_on_request(struct conn *c, const struct proto_msg *m);
/* Wipe and free a connection's activation state (NULL is a no-op). */
void activation_free(struct activation *a);

#endif

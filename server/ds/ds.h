/*
 * ds.h - the delivery service in bulwarkd (docs/architecture.md,
 * "Delivery service"; the protocol in docs/protocol.md, "Conversations").
 *
 * It keeps the KeyPackage directory, follows every group's public state
 * with libmls's mls_public_group, orders each group's messages (the first
 * valid commit of an epoch wins), stores each message once in its group's
 * log, and delivers it to the members' devices once it is durable.
 *
 *   worker threads   decode requests, check what needs no state (key
 *                    packages, a new group's GroupInfo), queue a job;
 *                    write responses and pushes (ds_on_request, ...)
 *   store thread     every job in a batch: one transaction, one fsync,
 *                    then the replies, then the pushes to each worker
 *
 * The DS's state (groups, sessions) belongs to the store thread; workers
 * touch only their own connections and what mail hands them.
 */
#ifndef BWD_DS_H
#define BWD_DS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

struct bwd_server;
struct conn;
struct ds;
struct store;

/* Load the DS key and certificate (creating or renewing them through the
 * CA monitor as needed) and hook into the store thread. After
 * storeq_start(), before the workers. */
int ds_start(struct bwd_server *srv, struct ds **out);
/* Once the store thread has stopped (nothing runs the DS any more). NULL
 * is a no-op. */
void ds_free(struct ds *ds);

/* ---- worker side ---- */

/* True for the request types the DS answers. */
bool ds_handles(uint16_t type);
/* One request of an authenticated device. */
void ds_on_request(struct conn *c, const struct proto_msg *m);
/* An authenticated device said HELLO: send its backlog, then SYNCED. */
void ds_on_hello(struct conn *c);
/* The connection is closing: stop delivering to it. */
void ds_conn_closed(struct conn *c);
/* The connection's output has drained: continue its backlog. */
void ds_conn_drained(struct conn *c);

/* ---- store thread ---- */

/* Inside the current transaction: a Remove proposal signed by the DS in
 * every group for every leaf of the device (device_id) or of every device
 * of the user (user), whichever is not NULL; both delivered after the
 * commit. For revocation and user disabling (admin.c). */
int ds_remove_devices(struct ds *ds, struct store *s, const char *device_id,
		      const char *user);

#endif

/*
 * enroll.h - DEVICE_ENROLL on the administration socket: pre-provisioned
 * (managed) devices, whose keys the administrator's tool generated.
 *
 * Each key is certified by the CA monitor (ISSUE_DEVICE_CERT, as activation
 * does) and its device recorded and audited; a request's devices are one
 * transaction, so a refusal of any entry (unknown or disabled user, a key
 * the CA refuses) records none of them. Once committed, the devices may
 * log in at once (the registry is updated).
 */
#ifndef BWD_ENROLL_H
#define BWD_ENROLL_H

#include "admin_proto.h"
#include "server.h"

/* Run the request whose body is body for the administrator actor (for the
 * audit log) and leave the whole response frame in w. Called on the admin
 * thread; the work runs on the store thread. */
void enroll_handle(struct bwd_server *srv, const char *actor,
		   const struct proto_span *body, struct bw_writer *w);

#endif

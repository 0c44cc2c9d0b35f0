/*
 * admin.h - the administration socket: a Unix domain socket (mode 0600)
 * on which bulwarkctl speaks the administration protocol (lib/proto/admin.h,
 * docs/protocol.md). Only root and the server's own user may use it
 * (SO_PEERCRED). One thread serves it, one client at a time; every
 * operation runs on the store thread and is audited.
 */
#ifndef BWD_ADMIN_H
#define BWD_ADMIN_H

#include "server.h"

struct admin;

/* Bind the socket (replacing a stale one) and start the thread. */
int admin_start(struct bwd_server *srv, struct admin **out);
/* Stop the thread, close and remove the socket. NULL is a no-op. */
void admin_stop(struct admin *a);

#endif

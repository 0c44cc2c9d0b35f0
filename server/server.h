/*
 * server.h - what the threads of bulwarkd share (docs/architecture.md).
 *
 *   main thread    configuration, start and stop, signals
 *   workers (N)    each its own epoll loop and SO_REUSEPORT listener: TLS,
 *                  WebSocket and the device protocol (server/net)
 *   store thread   the only one touching the database (store_queue.h)
 *   admin thread   the administration socket (admin.h)
 *   CA monitor     a separate process holding the CA key (privsep.h)
 *
 * Everything here is set before the threads start and read-only after,
 * except the counters (atomics) and the device registry (its own lock).
 */
#ifndef BWD_SERVER_H
#define BWD_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include <openssl/ssl.h>

#include "bytes.h"
#include "ca.h"
#include "config.h"
#include "devices.h"
#include "store_queue.h"

#define BWD_SOFTWARE "bulwarkd/" BULWARK_VERSION

struct worker;
struct privsep;
struct activation_keys;
struct admin;
struct ds;

struct bwd_server {
	struct bwd_config cfg;
	struct storeq *store;
	struct devices *devices;
	struct privsep *privsep;
	SSL_CTX *ssl_ctx;
	struct bw_bytes ca_cert_der;
	/* SHA-256 of the CA certificate as people compare it, AB:CD:... */
	char ca_fingerprint[CA_FINGERPRINT_TEXT_SIZE];
	struct activation_keys *activation;
	struct admin *admin;
	struct ds *ds;              /* the delivery service (server/ds) */
	struct worker **workers;
	unsigned nworkers;
	time_t started;
	atomic_uint connections;    /* open device connections */
	atomic_uint authenticated;  /* of which authenticated */
};

/* Start the store thread, load what the network needs, the workers and
 * the admin socket (srv->cfg and srv->privsep set by the caller). After a
 * failure, server_stop() releases what was started. */
int server_start(struct bwd_server *srv);
/* Stop accepting and administering, close every connection with a
 * WebSocket close, finish the store's work. The monitor is the caller's. */
void server_stop(struct bwd_server *srv);

/* Close every live connection of a device (revoked) or of a user
 * (disabled), on whichever worker it is. Safe from any thread. */
void server_kick_device(struct bwd_server *srv, const char *device_id);
void server_kick_user(struct bwd_server *srv, const char *user);

#endif

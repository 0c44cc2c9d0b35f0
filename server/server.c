/* server.c - bring bulwarkd's threads up in order and down in reverse. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "activation.h"
#include "admin.h"
#include "ds.h"
#include "errors.h"
#include "key_methods.h"
#include "log.h"
#include "privsep.h"
#include "tls.h"
#include "worker.h"

void server_kick_device(struct bwd_server *srv, const char *device_id)
{
	for (unsigned i = 0; i < srv->nworkers; i++)
		worker_kick(srv->workers[i], device_id, false);
}

void server_kick_user(struct bwd_server *srv, const char *user)
{
	for (unsigned i = 0; i < srv->nworkers; i++)
		worker_kick(srv->workers[i], user, true);
}

/* Every device that may log in, from the store into memory. */
struct load_job {
	struct store_job job;
	struct devices *devices;
};

static int add_device(void *arg, const struct store_device *d)
{
	return devices_add(arg, d);
}

static int run_load(struct store *s, struct store_job *job)
{
	struct load_job *l = (struct load_job *)job;

	return s->ops->device_list_active(s, add_device, l->devices);
}

static int load_devices(struct bwd_server *srv)
{
	struct load_job job = { .job.run = run_load };
	int rc;

	if ((rc = devices_new(&srv->devices)) != 0)
		return rc;
	job.devices = srv->devices;
	return storeq_call(srv->store, &job.job);
}

/* The CA certificate as the monitor signs with it, and its fingerprint
 * for bulwarkctl to print (devices pin it). */
static int load_ca_cert(struct bwd_server *srv)
{
	uint8_t *der = NULL, fp[CA_FINGERPRINT_LEN];
	size_t len = 0;
	int rc;

	if ((rc = privsep_get_ca_cert(srv->privsep, &der, &len)) != 0)
		return rc;
	srv->ca_cert_der.p = der;
	srv->ca_cert_der.len = len;
	if ((rc = ca_fingerprint(der, len, fp)) != 0)
		return rc;
	ca_fingerprint_text(fp, srv->ca_fingerprint);
	return 0;
}

static int start_workers(struct bwd_server *srv)
{
	struct bwd_config *cfg = &srv->cfg;
	bool default_address = cfg->listen_port == 0;
	int rc;

	if ((srv->workers = calloc(cfg->workers, sizeof(*srv->workers))) ==
	    NULL)
		return BW_ERR_NOMEM;
	/* Worker 0 binds first: with port 0 it learns the port the others
	 * then share through SO_REUSEPORT. */
	for (unsigned i = 0; i < cfg->workers; i++) {
		if ((rc = worker_start(srv, i, &srv->workers[i])) != 0)
			return rc;
		srv->nworkers++;
	}
	if (default_address && strstr(cfg->public_address, ":0") != NULL)
		snprintf(cfg->public_address, sizeof(cfg->public_address),
			 "%s:%u", cfg->server_name, cfg->listen_port);
	return 0;
}

/* Before any key is used and any worker runs (key_methods.h). */
static void choose_key_methods(const struct bwd_config *cfg)
{
	int rc = cfg->builtin_key_methods ? bw_key_methods_use_builtin() : 0;

	if (rc < 0)
		log_warn("openssl: built-in key methods refused (%s); the "
			 "providers do the work", bwd_strerror(rc));
	else
		log_info("openssl: EC and Ed25519 keys through %s",
			 rc == 1 ? "its built-in methods" : "its providers");
}

int server_start(struct bwd_server *srv)
{
	struct bwd_config *cfg = &srv->cfg;
	struct store *store;
	int rc;

	srv->started = time(NULL);
	choose_key_methods(cfg);
	if ((rc = store_sqlite_open(cfg->database, &store)) != 0) {
		log_error("cannot open the database %s: %s", cfg->database,
			  bwd_strerror(rc));
		return rc;
	}
	if ((rc = storeq_start(store, &srv->store)) != 0) {
		store_close(store);
		return rc;
	}
	if ((rc = load_devices(srv)) != 0 ||
	    (rc = activation_keys_new(srv, &srv->activation)) != 0 ||
	    (rc = load_ca_cert(srv)) != 0 ||
	    (rc = ds_start(srv, &srv->ds)) != 0) {
		log_error("cannot prepare the server: %s", bwd_strerror(rc));
		return rc;
	}
	if ((rc = tls_context_new(cfg->tls_cert, cfg->tls_key, cfg->ca_cert,
				  srv->devices, &srv->ssl_ctx)) != 0 ||
	    (rc = start_workers(srv)) != 0 ||
	    (rc = admin_start(srv, &srv->admin)) != 0)
		return rc;
	log_info("bulwarkd %s for %s listening on %s:%u (%u workers, %zu "
		 "devices), admin socket %s",
		 BULWARK_VERSION, cfg->org_name, cfg->listen_host,
		 cfg->listen_port, srv->nworkers, devices_count(srv->devices),
		 cfg->admin_socket);
	return 0;
}

void server_stop(struct bwd_server *srv)
{
	/* No new administration, then no network, then the last writes. */
	admin_stop(srv->admin);
	srv->admin = NULL;
	for (unsigned i = 0; i < srv->nworkers; i++)
		worker_stop(srv->workers[i]);
	free(srv->workers);
	srv->workers = NULL;
	srv->nworkers = 0;
	storeq_stop(srv->store);
	srv->store = NULL;
	ds_free(srv->ds); /* nothing runs it once the store thread is gone */
	srv->ds = NULL;
	SSL_CTX_free(srv->ssl_ctx);
	srv->ssl_ctx = NULL;
	activation_keys_free(srv->activation);
	srv->activation = NULL;
	devices_free(srv->devices);
	srv->devices = NULL;
	bw_bytes_clear(&srv->ca_cert_der);
}

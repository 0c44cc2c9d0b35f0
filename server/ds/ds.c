/* ds.c - the delivery service's start and stop, its key, who it lets into
 * groups, and its part of the store thread (ds_int.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ds_int.h"
#include "ds_key.h"
#include "errors.h"
#include "log.h"
#include "pki.h"
#include "privsep.h"
#include "server.h"

/* ---- messages ---- */

int ds_msg_new(int64_t gid, const uint8_t *group_id, size_t group_id_len,
	       uint8_t kind, uint64_t seq, int64_t time, const uint8_t *p,
	       size_t n, struct ds_msg **out)
{
	struct ds_msg *m;

	*out = NULL;
	if (group_id_len > PROTO_MAX_GROUP_ID)
		return BW_ERR_TOO_LONG;
	if ((m = malloc(sizeof(*m) + n)) == NULL)
		return BW_ERR_NOMEM;
	atomic_init(&m->refs, 1);
	m->kind = kind;
	m->gid = gid;
	m->group_id_len = (uint8_t)group_id_len;
	if (group_id_len > 0)
		memcpy(m->group_id, group_id, group_id_len);
	m->seq = seq;
	m->time = time;
	m->len = n;
	if (n > 0)
		memcpy(m->payload, p, n);
	*out = m;
	return 0;
}

void ds_msg_ref(struct ds_msg *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

void ds_msg_unref(struct ds_msg *m)
{
	if (m != NULL &&
	    atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		free(m);
}

/* ---- who may be in a group ---- */

int ds_accept_credential(void *arg, const struct mls_credential *cred,
			 const uint8_t *sig_key, size_t sig_key_len)
{
	const struct ds_accept *a = arg;
	const struct bwd_server *srv = a->ds->srv;
	char user[CA_NAME_MAX + 1], device[CA_NAME_MAX + 1];
	uint8_t fp[DS_FINGERPRINT_LEN];
	struct device_ident who;
	const uint8_t *der;
	size_t n;

	/* libmls has checked that the certificate holds sig_key (§5.3). */
	(void)sig_key;
	(void)sig_key_len;
	if (mls_credential_get_type(cred) != 2 ||
	    mls_credential_certificate(cred, 0, &der, &n) != 0 ||
	    ca_fingerprint(der, n, fp) != 0)
		return -1;
	if (a->fingerprint != NULL &&
	    memcmp(fp, a->fingerprint, sizeof(fp)) != 0)
		return -1;
	/* A device that may log in now: activated, not revoked, its user
	 * enabled; then the chain, which also checks the validity. */
	if (!devices_lookup(srv->devices, fp, &who) ||
	    ca_verify_device_cert(srv->ca_cert_der.p, srv->ca_cert_der.len,
				  der, n, 0, user, device) != 0)
		return -1;
	if (strcmp(user, who.user) != 0 || strcmp(device, who.id) != 0)
		return -1;
	return 0;
}

void ds_mls_config(struct ds_accept *a, struct mls_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->accept_credential = ds_accept_credential;
	cfg->accept_arg = a;
	cfg->max_lifetime = DS_MAX_KP_LIFETIME;
}

/* ---- the DS key ---- */

/* The key from its file, created on first start. */
static int load_key(struct ds *ds, struct bw_bytes *priv,
		    struct bw_bytes *spki)
{
	const struct bwd_config *cfg = &ds->srv->cfg;
	int rc = ds_key_load(ds->suite, cfg->ds_key, priv, spki);

	if (rc != BWD_ERR_NOT_FOUND)
		return rc;
	if ((rc = ds_key_create(ds->suite, cfg->ds_key, spki)) != 0)
		return rc;
	bw_bytes_clear(spki);
	log_info("delivery service key created in %s", cfg->ds_key);
	return ds_key_load(ds->suite, cfg->ds_key, priv, spki);
}

/* The certificate from its file, or a new one from the CA monitor when
 * there is none or it does not fit (other key or name, expiring). */
static int load_cert(struct ds *ds, const struct bw_bytes *spki,
		     struct bw_bytes *der)
{
	struct bwd_server *srv = ds->srv;
	const struct bwd_config *cfg = &srv->cfg;
	uint8_t *fresh = NULL;
	size_t len = 0;
	int rc;

	rc = ds_cert_check(cfg->ds_cert, srv->ca_cert_der.p,
			   srv->ca_cert_der.len, cfg->server_name, spki, der);
	if (rc != BWD_ERR_NOT_FOUND && rc != BWD_ERR_DS_KEY)
		return rc;
	if ((rc = privsep_issue_ds_cert(srv->privsep, cfg->server_name,
					spki->p, spki->len, &fresh, &len)) !=
		    0 ||
	    (rc = ds_cert_save(cfg->ds_cert, fresh, len)) != 0 ||
	    (rc = bw_bytes_set(der, fresh, len)) != 0)
		goto out;
	log_info("delivery service certificate issued into %s", cfg->ds_cert);
out:
	free(fresh);
	return rc;
}

/* The signer with its x509 credential, and the credential as SERVER_INFO
 * sends it. */
static int make_identity(struct ds *ds, const struct bw_bytes *priv,
			 const struct bw_bytes *der)
{
	struct proto_span cert = { der->p, der->len };
	const uint8_t *certs[1] = { der->p };
	size_t lens[1] = { der->len };
	struct mls_credential *cred = NULL;
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, PROTO_MAX_CREDENTIAL);
	if ((rc = mls_signer_new(ds->suite, priv->p, priv->len,
				 &ds->signer)) != 0 ||
	    (rc = mls_credential_new_x509(certs, lens, 1, &cred)) != 0 ||
	    (rc = mls_signer_set_credential(ds->signer, cred)) != 0 ||
	    (rc = proto_encode_x509_credential(&w, &cert, 1)) != 0)
		goto out;
	rc = bw_bytes_set(&ds->credential, w.buf, w.len);
out:
	mls_credential_free(cred);
	bw_writer_free(&w);
	return rc;
}

static int load_identity(struct ds *ds)
{
	struct bw_bytes priv = { 0 }, spki = { 0 }, der = { 0 };
	int rc;

	if ((rc = load_key(ds, &priv, &spki)) != 0 ||
	    (rc = load_cert(ds, &spki, &der)) != 0)
		goto out;
	rc = make_identity(ds, &priv, &der);
out:
	bw_bytes_clear(&priv);
	bw_bytes_clear(&spki);
	bw_bytes_clear(&der);
	return rc;
}

/* ---- the store thread's hooks ---- */

static void *after_batch(void *arg, int rc)
{
	return ds_pushes_take(arg, rc);
}

static void deliver(void *arg, void *taken)
{
	ds_pushes_deliver(arg, taken);
}

/* Retention, a bounded amount at a time (docs/protocol.md). */
static void purge(struct ds *ds, struct store *s, time_t now)
{
	const struct bwd_config *cfg = &ds->srv->cfg;
	struct store_purge p = {
		.older_than = (int64_t)now - cfg->message_retention,
		.max_per_group = cfg->max_group_messages,
		.now = (int64_t)now,
		.limit = DS_PURGE_LIMIT,
	};
	int rc;

	if ((rc = store_begin(s)) != 0 ||
	    (rc = s->ds->purge(s, &p)) != 0 || (rc = store_commit(s)) != 0) {
		store_rollback(s);
		log_warn("delivery service: purge failed: %s",
			 bwd_strerror(rc));
		ds->next_purge = now + cfg->purge_interval;
		return;
	}
	if (p.deleted > 0)
		log_info("delivery service: purged %llu rows",
			 (unsigned long long)p.deleted);
	/* A full round may have left more: go on at the next tick. */
	ds->next_purge = now + (p.deleted >= DS_PURGE_LIMIT
					? 1
					: (time_t)cfg->purge_interval);
}

static void tick(void *arg, struct store *s)
{
	struct ds *ds = arg;
	time_t now = time(NULL);

	if (now >= ds->next_purge)
		purge(ds, s, now);
}

/* ---- start and stop ---- */

int ds_start(struct bwd_server *srv, struct ds **out)
{
	struct storeq_hooks hooks = { .after_batch = after_batch,
				      .deliver = deliver,
				      .tick = tick };
	struct ds *ds;
	int suite = 0, rc;

	*out = NULL;
	if ((rc = ca_cert_suite(srv->ca_cert_der.p, srv->ca_cert_der.len,
				&suite)) != 0)
		return rc;
	if (suite != srv->cfg.mls_suite) {
		log_error("mls_suite %u differs from the CA's suite %d",
			  srv->cfg.mls_suite, suite);
		return BWD_ERR_CONFIG;
	}
	if ((ds = calloc(1, sizeof(*ds))) == NULL)
		return BW_ERR_NOMEM;
	ds->srv = srv;
	ds->suite = (uint16_t)suite;
	ds->accept.ds = ds;
	ds->next_purge = time(NULL) + (time_t)srv->cfg.purge_interval;
	if ((rc = load_identity(ds)) != 0 || (rc = ds_groups_init(ds)) != 0)
		goto fail;
	/* An explicit fetch: EVP_sha256() fetches again at every digest. */
	if ((ds->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL)) == NULL) {
		rc = BWD_ERR_SYSTEM;
		goto fail;
	}
	if ((ds->out = calloc(srv->cfg.workers, sizeof(*ds->out))) == NULL) {
		rc = BW_ERR_NOMEM;
		goto fail;
	}
	hooks.arg = ds;
	storeq_set_hooks(srv->store, &hooks);
	*out = ds;
	return 0;
fail:
	ds_free(ds);
	return rc;
}

/* After the store thread has stopped: nothing runs on ds any more. */
void ds_free(struct ds *ds)
{
	if (ds == NULL)
		return;
	for (unsigned i = 0; ds->out != NULL && i < ds->srv->cfg.workers; i++)
		ds_pushes_clear(&ds->out[i]);
	free(ds->out);
	ds_groups_free(ds);
	EVP_MD_free(ds->sha256);
	mls_signer_free(ds->signer);
	bw_bytes_clear(&ds->credential);
	free(ds);
}

/* activation.c - device activation: SPAKE2+ Verifier on the worker thread,
 * records and certification on the store thread. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "activation.h"
#include "ca_err.h"
#include "errors.h"
#include "log.h"
#include "privsep.h"
#include "server.h"
#include "session.h"
#include "spake2plus.h"
#include "tls.h"
#include "worker.h"

#define FAKE_SALT_LEN PAKE_SALT_LEN
#define SALT_KEY_NAME "activation-fake-salt"
#define SALT_KEY_LEN 32

struct activation_keys {
	struct bw_bytes fake_w0, fake_l; /* a record no password matches */
	struct bw_bytes salt_key;        /* HMAC key of fake salts */
	uint8_t fake_kdf[PROTO_MAX_KDF_PARAMS];
	size_t fake_kdf_len;
};

enum act_state { ACT_IDLE, ACT_BUSY, ACT_AWAIT_FINISH };

/* Exchanges one connection may start: each costs the server an exchange
 * and an audit line, so a client gets few before it must reconnect. */
#define ACT_MAX_STARTS 4

struct activation {
	struct store_job job; /* the one job in flight */
	struct bwd_server *srv;
	struct conn *conn;
	char peer[48]; /* the conn's, for the store thread's audit lines */
	enum act_state state;
	uint8_t starts;
	uint32_t request_id;
	bool usable;  /* START found a code that may activate */
	bool known;   /* the claim names a real code */
	char user[STORE_NAME_SIZE];
	char code_id[STORE_CODE_SIZE];
	struct pake_verifier *verifier;
	/* inputs and outputs of the store jobs */
	struct store_activation rec;
	const char *outcome; /* for the audit log */
	struct bw_bytes share_p, spki, cert;
	char device_id[STORE_NAME_SIZE];
	char device_name[STORE_NAME_SIZE];
};

/* ---- server-wide keys ---- */

struct key_job {
	struct store_job job;
	struct bw_bytes key;
};

static int run_key_job(struct store *s, struct store_job *job)
{
	struct key_job *k = (struct key_job *)job;

	return s->ops->server_key(s, SALT_KEY_NAME, SALT_KEY_LEN, &k->key);
}

static int make_fake_record(struct activation_keys *k)
{
	static const uint8_t fake_ids[] = "bulwark-no-such-code";
	struct pake_ids ids = { fake_ids, sizeof(fake_ids) - 1, fake_ids,
				sizeof(fake_ids) - 1 };
	struct pake_pbkdf kdf;
	uint8_t pw[32];
	int rc;

	/* A random password nobody knows: the exchange against it fails
	 * exactly as a wrong password does, at the same cost. */
	if (RAND_priv_bytes(pw, sizeof(pw)) != 1)
		return BWD_ERR_ACTIVATION;
	if ((rc = pake_pbkdf_init(&kdf)) == 0)
		rc = pake_register(PAKE_SUITE_BULWARK, &kdf, pw, sizeof(pw),
				   &ids, &k->fake_w0, &k->fake_l);
	OPENSSL_cleanse(pw, sizeof(pw));
	return rc;
}

static int encode_fake_kdf(struct activation_keys *k)
{
	struct proto_kdf_params params = {
		.kdf = PROTO_KDF_SCRYPT,
		.n = PAKE_SCRYPT_N,
		.r = PAKE_SCRYPT_R,
		.p = PAKE_SCRYPT_P,
	};
	struct bw_writer w;

	bw_writer_init_fixed(&w, k->fake_kdf, sizeof(k->fake_kdf));
	if (proto_encode_kdf_params(&w, &params) != 0)
		return BWD_ERR_ACTIVATION;
	k->fake_kdf_len = w.len;
	return 0;
}

int activation_keys_new(struct bwd_server *srv, struct activation_keys **out)
{
	struct activation_keys *k;
	struct key_job job = { .job.run = run_key_job };
	int rc;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = storeq_call(srv->store, &job.job)) != 0 ||
	    (rc = make_fake_record(k)) != 0 || (rc = encode_fake_kdf(k)) != 0)
		goto out;
	bw_bytes_move(&k->salt_key, &job.key);
	*out = k;
	k = NULL; /* transferred */
out:
	bw_bytes_clear(&job.key);
	activation_keys_free(k);
	return rc;
}

void activation_keys_free(struct activation_keys *k)
{
	if (k == NULL)
		return;
	bw_bytes_clear(&k->fake_w0);
	bw_bytes_clear(&k->fake_l);
	bw_bytes_clear(&k->salt_key);
	free(k);
}

/* ---- per-connection state ---- */

void activation_free(struct activation *a)
{
	if (a == NULL)
		return;
	pake_verifier_free(a->verifier);
	store_activation_clear(&a->rec);
	bw_bytes_clear(&a->share_p);
	bw_bytes_clear(&a->spki);
	bw_bytes_clear(&a->cert);
	free(a);
}

/* Back to idle: forget the exchange and everything it held. */
static void reset(struct activation *a)
{
	pake_verifier_free(a->verifier);
	a->verifier = NULL;
	store_activation_clear(&a->rec);
	bw_bytes_clear(&a->share_p);
	bw_bytes_clear(&a->spki);
	bw_bytes_clear(&a->cert);
	a->state = ACT_IDLE;
	a->usable = a->known = false;
}

static void copy_span(char *dst, size_t size, const struct proto_span *s)
{
	size_t n = s->n < size - 1 ? s->n : size - 1;

	memcpy(dst, s->p, n);
	dst[n] = '\0';
}

static void fail(struct activation *a, uint16_t type, uint16_t status)
{
	reset(a);
	session_send_status(a->conn, type, a->request_id, status);
}

/* Run job on the store thread; done() finishes on this worker. */
static int submit(struct activation *a, store_job_fn run, mail_fn done)
{
	a->job.run = run;
	a->job.reply = &a->conn->worker->inbox;
	a->job.release = NULL;
	a->job.mail.fn = done;
	if (storeq_submit(a->srv->store, &a->job) != 0)
		return -1;
	a->state = ACT_BUSY;
	conn_hold(a->conn);
	return 0;
}

/* The mail of a finished job: which activation, and is its conn alive? */
static struct activation *job_done(struct mail *m)
{
	struct activation *a = (struct activation *)((char *)m -
		offsetof(struct activation, job) - offsetof(struct store_job, mail));

	conn_release(a->conn);
	return a->conn->closed ? NULL : a;
}

/* ---- ACTIVATE_PARAMS ---- */

static int run_params(struct store *s, struct store_job *job)
{
	struct activation *a = (struct activation *)job;

	return s->ops->activation_get(s, a->user, a->code_id, &a->rec);
}

/* A salt for a claim that names no code: stable for the same claim, so
 * asking twice cannot tell a fake from a real one. */
static int fake_salt(const struct activation *a, uint8_t *out)
{
	const struct activation_keys *k = a->srv->activation;
	uint8_t mac[EVP_MAX_MD_SIZE];
	char claim[STORE_NAME_SIZE + STORE_CODE_SIZE + 1];
	size_t n = 0;
	int len = snprintf(claim, sizeof(claim), "%s/%s", a->user, a->code_id);

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, k->salt_key.p,
		      k->salt_key.len, (const uint8_t *)claim, (size_t)len, mac,
		      sizeof(mac),
		      &n) == NULL ||
	    n < FAKE_SALT_LEN)
		return -1;
	memcpy(out, mac, FAKE_SALT_LEN);
	return 0;
}

static void params_done(struct mail *m, void *receiver)
{
	struct activation *a = job_done(m);
	const struct activation_keys *k;
	struct proto_activate_params_resp resp;
	uint8_t salt[FAKE_SALT_LEN];
	struct bw_writer *w;
	size_t mark;

	(void)receiver;
	if (a == NULL)
		return;
	k = a->srv->activation;
	if (a->job.rc == 0) {
		resp.salt = (struct proto_span){ a->rec.salt.p, a->rec.salt.len };
		resp.kdf_params = (struct proto_span){ a->rec.kdf_params.p,
						       a->rec.kdf_params.len };
	} else if (a->job.rc == BWD_ERR_NOT_FOUND && fake_salt(a, salt) == 0) {
		resp.salt = (struct proto_span){ salt, sizeof(salt) };
		resp.kdf_params = (struct proto_span){ k->fake_kdf,
						       k->fake_kdf_len };
	} else {
		fail(a, PROTO_T_ACTIVATE_PARAMS, PROTO_E_INTERNAL);
		return;
	}
	w = session_reply(a->conn);
	mark = proto_begin(w, PROTO_RESPONSE, PROTO_T_ACTIVATE_PARAMS,
			   a->request_id);
	proto_encode_activate_params_resp(w, &resp);
	proto_end(w, mark);
	reset(a);
	session_send(a->conn);
}

static void on_params(struct activation *a, const struct proto_msg *m)
{
	struct proto_activate_params_req req;

	if (proto_decode_activate_params_req(m, &req) != 0) {
		fail(a, m->type, PROTO_E_MALFORMED);
		return;
	}
	reset(a);
	copy_span(a->user, sizeof(a->user), &req.user);
	copy_span(a->code_id, sizeof(a->code_id), &req.code_id);
	if (submit(a, run_params, params_done) != 0)
		fail(a, m->type, PROTO_E_BUSY);
}

/* ---- ACTIVATE_START ---- */

/* Why a real code may not activate now, or NULL if it may. */
static const char *code_refusal(struct store *s, const struct activation *a,
				uint32_t max_attempts)
{
	struct store_user u;

	if (a->rec.used)
		return "refused: code already used";
	if (a->rec.expires <= time(NULL))
		return "refused: code expired";
	if (a->rec.attempts >= max_attempts)
		return "refused: code locked after too many attempts";
	if (s->ops->user_get(s, a->user, &u) != 0 || u.disabled)
		return "refused: user disabled";
	return NULL;
}

/* Look the code up and count the attempt, in one transaction. An unknown
 * claim also writes (its audit line), so both take the same time. */
static int run_start(struct store *s, struct store_job *job)
{
	struct activation *a = (struct activation *)job;
	int rc;

	if ((rc = store_begin(s)) != 0)
		return rc;
	rc = s->ops->activation_get(s, a->user, a->code_id, &a->rec);
	a->known = rc == 0;
	if (rc == BWD_ERR_NOT_FOUND) {
		a->outcome = "refused: unknown user or code";
	} else if (rc == 0) {
		a->outcome = code_refusal(s, a,
					  a->srv->cfg.activation_max_attempts);
		a->usable = a->outcome == NULL;
		if (a->usable)
			a->outcome = "exchange started";
		rc = s->ops->activation_count_attempt(s, a->user, a->code_id);
	}
	if (rc == 0 || rc == BWD_ERR_NOT_FOUND)
		rc = s->ops->audit_add(s, time(NULL), a->peer,
				       "activation start", a->user, a->outcome);
	if (rc != 0 || (rc = store_commit(s)) != 0) {
		store_rollback(s);
		a->usable = false;
	}
	return rc;
}

static int start_exchange(struct activation *a, struct bw_bytes *share_v,
			  struct bw_bytes *confirm_v)
{
	const struct activation_keys *k = a->srv->activation;
	const struct bwd_config *cfg = &a->srv->cfg;
	uint8_t exporter[PROTO_ACTIVATION_EXPORTER_LEN];
	uint8_t context[PROTO_ACTIVATION_CONTEXT_LEN];
	uint8_t id_prover[PROTO_MAX_ID_PROVER];
	const struct bw_bytes *w0 = a->usable ? &a->rec.w0 : &k->fake_w0;
	const struct bw_bytes *l = a->usable ? &a->rec.l : &k->fake_l;
	struct pake_config pc = { .suite = PAKE_SUITE_BULWARK };
	int rc;

	/* RFC 9383 §3.3: Context binds the exchange to this TLS session, so a
	 * relay that terminates TLS makes confirmation fail. */
	if (tls_activation_exporter(a->conn->ssl, exporter, sizeof(exporter)) !=
	    0)
		return BWD_ERR_TLS;
	proto_activation_context(exporter, context);
	pc.context = context;
	pc.context_len = sizeof(context);
	pc.ids.prover = id_prover;
	pc.ids.prover_len = proto_activation_id_prover(
		(const uint8_t *)a->user, strlen(a->user),
		(const uint8_t *)a->code_id, strlen(a->code_id), id_prover);
	pc.ids.verifier = (const uint8_t *)cfg->server_name;
	pc.ids.verifier_len = strlen(cfg->server_name);
	if ((rc = pake_verifier_new(&a->verifier, &pc, w0->p, w0->len, l->p,
				    l->len)) != 0)
		return rc;
	return pake_verifier_respond(a->verifier, a->share_p.p, a->share_p.len,
				     share_v, confirm_v);
}

static void start_done(struct mail *m, void *receiver)
{
	struct activation *a = job_done(m);
	struct bw_bytes share_v = { 0 }, confirm_v = { 0 };
	struct proto_activate_start_resp resp;
	struct bw_writer *w;
	size_t mark;
	int rc;

	(void)receiver;
	if (a == NULL)
		return;
	if (a->job.rc != 0) {
		fail(a, PROTO_T_ACTIVATE_START, PROTO_E_INTERNAL);
		return;
	}
	if ((rc = start_exchange(a, &share_v, &confirm_v)) != 0) {
		log_info("activation from %s: exchange refused: %s",
			 a->conn->peer, pake_strerror(rc));
		fail(a, PROTO_T_ACTIVATE_START, PROTO_E_ACTIVATION_FAILED);
		goto out;
	}
	resp.share_v = (struct proto_span){ share_v.p, share_v.len };
	resp.confirm_v = (struct proto_span){ confirm_v.p, confirm_v.len };
	w = session_reply(a->conn);
	mark = proto_begin(w, PROTO_RESPONSE, PROTO_T_ACTIVATE_START,
			   a->request_id);
	proto_encode_activate_start_resp(w, &resp);
	proto_end(w, mark);
	/* The verifier has what it needs from the record. */
	bw_bytes_clear(&a->share_p);
	store_activation_clear(&a->rec);
	a->state = ACT_AWAIT_FINISH;
	session_send(a->conn);
out:
	bw_bytes_clear(&share_v);
	bw_bytes_clear(&confirm_v);
}

static void on_start(struct activation *a, const struct proto_msg *m)
{
	struct proto_activate_start_req req;

	if (proto_decode_activate_start_req(m, &req) != 0) {
		fail(a, m->type, PROTO_E_MALFORMED);
		return;
	}
	if (++a->starts > ACT_MAX_STARTS) {
		conn_close_ws(a->conn, WS_CLOSE_POLICY,
			      "too many activation attempts");
		return;
	}
	reset(a);
	copy_span(a->user, sizeof(a->user), &req.user);
	copy_span(a->code_id, sizeof(a->code_id), &req.code_id);
	if (bw_bytes_set(&a->share_p, req.share_p.p, req.share_p.n) != 0 ||
	    submit(a, run_start, start_done) != 0)
		fail(a, m->type, PROTO_E_BUSY);
}

/* ---- ACTIVATE_FINISH ---- */

static int cert_identity(const struct bw_bytes *der, struct store_device *d)
{
	const uint8_t *p = der->p;
	X509 *cert = d2i_X509(NULL, &p, (long)der->len);
	BIGNUM *serial = NULL;
	int rc = BWD_ERR_ISSUE, n;

	if (cert == NULL || p != der->p + der->len)
		goto out;
	if ((serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) ==
	    NULL)
		goto out;
	n = BN_num_bytes(serial);
	if (n <= 0 || n > STORE_MAX_SERIAL)
		goto out;
	d->serial_len = (size_t)BN_bn2bin(serial, d->serial);
	if (tls_cert_fingerprint(cert, d->fingerprint) != 0)
		goto out;
	rc = 0;
out:
	BN_free(serial);
	X509_free(cert);
	return rc;
}

/* Certify the key and record the device, all or nothing. */
static int finish_in_transaction(struct store *s, struct activation *a,
				 struct store_device *d)
{
	const struct bwd_config *cfg = &a->srv->cfg;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int rc;

	store_activation_clear(&a->rec);
	if ((rc = s->ops->activation_get(s, a->user, a->code_id, &a->rec)) != 0)
		return rc;
	/* Attempts were counted at START; this one has proven the password. */
	if ((a->outcome = code_refusal(s, a, UINT32_MAX)) != NULL)
		return BWD_ERR_ACTIVATION;
	if ((rc = privsep_issue_device_cert(a->srv->privsep, a->user,
					    a->device_id, a->spki.p,
					    a->spki.len, cfg->device_cert_days,
					    &der, &der_len)) != 0) {
		a->outcome = "refused: the CA did not certify the key";
		return rc;
	}
	a->cert.p = der;
	a->cert.len = der_len;
	memset(d, 0, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "%s", a->device_id);
	snprintf(d->user, sizeof(d->user), "%s", a->user);
	snprintf(d->name, sizeof(d->name), "%s", a->device_name);
	d->created = time(NULL);
	a->outcome = "failed: cannot record the device";
	if ((rc = cert_identity(&a->cert, d)) != 0 ||
	    (rc = s->ops->device_add(s, d)) != 0 ||
	    (rc = s->ops->activation_mark_used(s, a->user, a->code_id)) != 0)
		return rc;
	a->outcome = "activated";
	return 0;
}

static int run_finish(struct store *s, struct store_job *job)
{
	struct activation *a = (struct activation *)job;
	struct store_device d;
	char result[96];
	int rc;

	if ((rc = store_begin(s)) != 0)
		return rc;
	rc = finish_in_transaction(s, a, &d);
	if (rc == 0) {
		snprintf(result, sizeof(result), "activated device %s",
			 a->device_id);
		if ((rc = s->ops->audit_add(s, time(NULL), a->peer,
					    "activation finish", a->user,
					    result)) == 0)
			rc = store_commit(s);
	}
	if (rc != 0) {
		store_rollback(s);
		bw_bytes_clear(&a->cert);
		/* The refusal is worth an audit line of its own. */
		s->ops->audit_add(s, time(NULL), a->peer,
				  "activation finish", a->user,
				  a->outcome ? a->outcome : "failed");
		return rc;
	}
	/* Committed: the device may log in from now on. */
	return devices_add(a->srv->devices, &d);
}

static void finish_done(struct mail *m, void *receiver)
{
	struct activation *a = job_done(m);
	struct proto_activate_finish_resp resp;
	struct bw_writer *w;
	size_t mark;
	int rc;

	(void)receiver;
	if (a == NULL)
		return;
	if ((rc = a->job.rc) != 0) {
		log_warn("activation of %s from %s failed: %s", a->user,
			 a->conn->peer, bwd_strerror(rc));
		fail(a, PROTO_T_ACTIVATE_FINISH,
		     rc == CA_ERR_KEY_TYPE || rc == CA_ERR_KEY_ENCODING
			     ? PROTO_E_MALFORMED
			     : PROTO_E_ACTIVATION_FAILED);
		return;
	}
	log_info("device %s of %s activated from %s", a->device_id, a->user,
		 a->conn->peer);
	resp.device_id = (struct proto_span){ (const uint8_t *)a->device_id,
					      strlen(a->device_id) };
	resp.cert = (struct proto_span){ a->cert.p, a->cert.len };
	resp.ca_cert = (struct proto_span){ a->srv->ca_cert_der.p,
					    a->srv->ca_cert_der.len };
	w = session_reply(a->conn);
	mark = proto_begin(w, PROTO_RESPONSE, PROTO_T_ACTIVATE_FINISH,
			   a->request_id);
	proto_encode_activate_finish_resp(w, &resp);
	proto_end(w, mark);
	reset(a);
	session_send(a->conn);
}

/* A failed confirmation: audited without waiting for the store. */
struct audit_job {
	struct store_job job;
	char peer[48];
	char user[STORE_NAME_SIZE];
};

static int run_audit(struct store *s, struct store_job *job)
{
	struct audit_job *j = (struct audit_job *)job;

	return s->ops->audit_add(s, time(NULL), j->peer, "activation finish",
				 j->user,
				 "refused: confirmation failed (wrong "
				 "password, unknown code or relayed TLS)");
}

static void release_audit(struct store_job *job)
{
	free(job);
}

static void audit_refusal(struct activation *a)
{
	struct audit_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return;
	j->job.run = run_audit;
	j->job.release = release_audit;
	snprintf(j->peer, sizeof(j->peer), "%s", a->conn->peer);
	snprintf(j->user, sizeof(j->user), "%s", a->user);
	if (storeq_submit(a->srv->store, &j->job) != 0)
		free(j);
}

static int new_device_id(char *out, size_t size)
{
	uint8_t raw[16];

	if (size < 2 * sizeof(raw) + 1 || RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	bw_hex_encode(raw, sizeof(raw), out);
	return 0;
}

static void on_finish(struct activation *a, const struct proto_msg *m)
{
	struct proto_activate_finish_req req;
	bool confirmed;

	if (a->state != ACT_AWAIT_FINISH) {
		session_send_status(a->conn, m->type, m->request_id,
				    PROTO_E_NOT_ALLOWED);
		return;
	}
	if (proto_decode_activate_finish_req(m, &req) != 0) {
		fail(a, m->type, PROTO_E_MALFORMED);
		return;
	}
	confirmed = pake_verifier_finish(a->verifier, req.confirm_p.p,
					 req.confirm_p.n) == 0;
	if (!confirmed || !a->usable) {
		if (a->known)
			log_info("activation of %s from %s refused",
				 a->user, a->conn->peer);
		audit_refusal(a);
		fail(a, m->type, PROTO_E_ACTIVATION_FAILED);
		return;
	}
	copy_span(a->device_name, sizeof(a->device_name), &req.device_name);
	if (bw_bytes_set(&a->spki, req.spki.p, req.spki.n) != 0 ||
	    new_device_id(a->device_id, sizeof(a->device_id)) != 0 ||
	    submit(a, run_finish, finish_done) != 0)
		fail(a, m->type, PROTO_E_BUSY);
}

void activation_on_request(struct conn *c, const struct proto_msg *m)
{
	struct activation *a = c->activation;

	if (a == NULL) {
		if ((a = calloc(1, sizeof(*a))) == NULL) {
			session_send_status(c, m->type, m->request_id,
					    PROTO_E_BUSY);
			return;
		}
		a->srv = c->worker->srv;
		a->conn = c;
		snprintf(a->peer, sizeof(a->peer), "%s", c->peer);
		c->activation = a;
	}
	if (a->state == ACT_BUSY) {
		/* Cannot happen while the connection is paused; be safe. */
		session_send_status(c, m->type, m->request_id, PROTO_E_BUSY);
		return;
	}
	a->request_id = m->request_id;
	switch (m->type) {
	case PROTO_T_ACTIVATE_PARAMS:
		on_params(a, m);
		break;
	case PROTO_T_ACTIVATE_START:
		on_start(a, m);
		break;
	default:
		on_finish(a, m);
		break;
	}
}

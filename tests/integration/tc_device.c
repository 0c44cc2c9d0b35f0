/* tc_device.c - the test client's MLS device (tc_device.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "codec.h"
#include "pki.h"
#include "session.h"
#include "tc_device.h"

#define STATE_FILE "tc.state"
#define STATE_MAX (64u * 1024u * 1024u)
#define CALL_TIMEOUT_MS 20000

/* Test devices keep their state under a fixed key: these files protect
 * nothing but a test run. */
static const uint8_t state_key[MLS_STATE_KEY_LEN] =
	"bulwark test client state key!!";

void tc_die(const char *what, int rc)
{
	fprintf(stderr, "bw_testclient: %s: %d\n", what, rc);
	exit(TC_EXIT_FAIL);
}

/* ---- files ---- */

static int read_file(const char *dir, const char *name, uint8_t **out,
		     size_t *len)
{
	char path[4200];
	FILE *f;
	long n;

	*out = NULL;
	*len = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return -ENOENT;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    (size_t)n > STATE_MAX || fseek(f, 0, SEEK_SET) != 0 ||
	    (*out = malloc((size_t)n + 1)) == NULL ||
	    fread(*out, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(*out);
		*out = NULL;
		return -EIO;
	}
	fclose(f);
	*len = (size_t)n;
	return 0;
}

static int write_file(const char *dir, const char *name, const uint8_t *p,
		      size_t n)
{
	char path[4200], tmp[4210];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "wb")) == NULL)
		return -errno;
	ok = fwrite(p, 1, n, f) == n && fflush(f) == 0 && fsync(fileno(f)) == 0;
	fclose(f);
	if (!ok || rename(tmp, path) != 0)
		return -EIO;
	return 0;
}

/* ---- identity ---- */

/* Members accept only devices certified by the organisation's CA. */
static int accept_device(void *arg, const struct mls_credential *cred,
			 const uint8_t *sig_key, size_t sig_key_len)
{
	const struct tc_device *d = arg;
	char user[CA_NAME_MAX + 1], device[CA_NAME_MAX + 1];
	const uint8_t *der;
	size_t n;

	(void)sig_key;
	(void)sig_key_len;
	if (mls_credential_get_type(cred) != 2 ||
	    mls_credential_certificate(cred, 0, &der, &n) != 0)
		return -1;
	return ca_verify_device_cert(d->ca_der, d->ca_len, der, n, 0, user,
				     device);
}

static int raw_private(int suite, EVP_PKEY *key, uint8_t out[32])
{
	size_t len = 32;
	BIGNUM *bn = NULL;
	int ok;

	if (suite != 2)
		return EVP_PKEY_get_raw_private_key(key, out, &len) == 1 &&
				       len == 32
			       ? 0
			       : -1;
	ok = EVP_PKEY_get_bn_param(key, "priv", &bn) == 1 &&
	     BN_bn2binpad(bn, out, 32) == 32;
	BN_clear_free(bn);
	return ok ? 0 : -1;
}

static int load_identity(struct tc_device *d)
{
	uint8_t *pem = NULL, priv[32], *der = NULL;
	const uint8_t *certs[1];
	size_t len, lens[1];
	struct mls_credential *cred = NULL;
	BIO *b = NULL;
	int n, rc = -1;

	if (read_file(d->dir, "device.key", &pem, &len) != 0 ||
	    (b = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (d->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL)
		goto out;
	BIO_free(b);
	free(pem);
	pem = NULL;
	if (read_file(d->dir, "device.crt", &pem, &len) != 0 ||
	    (b = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (d->cert = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL ||
	    (n = i2d_X509(d->cert, &der)) <= 0)
		goto out;
	certs[0] = der;
	lens[0] = (size_t)n;
	if (raw_private(d->suite, d->key, priv) != 0 ||
	    mls_signer_new((uint16_t)d->suite, priv, sizeof(priv),
			   &d->signer) != 0 ||
	    mls_credential_new_x509(certs, lens, 1, &cred) != 0 ||
	    mls_signer_set_credential(d->signer, cred) != 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(priv, sizeof(priv));
	mls_credential_free(cred);
	OPENSSL_free(der);
	BIO_free(b);
	free(pem);
	return rc;
}

/* ---- state ---- */

static int load_groups(struct tc_device *d, struct bw_reader *r)
{
	const uint8_t *id, *st;
	size_t id_len, st_len;
	uint32_t n = 0, own = 0;

	bw_read_u32(r, &n);
	for (uint32_t i = 0; r->err == 0 && i < n && i < TC_MAX_GROUPS; i++) {
		struct tc_group *g = &d->groups[d->n_groups];

		bw_read_opaque(r, TC_GROUP_ID_LEN, &id, &id_len);
		bw_read_u64(r, &g->seen);
		bw_read_opaque(r, STATE_MAX, &st, &st_len);
		bw_read_u32(r, &own);
		if (r->err != 0 || id_len != TC_GROUP_ID_LEN)
			return -1;
		memcpy(g->id, id, id_len);
		if ((g->own = calloc(own + 1, sizeof(*g->own))) == NULL)
			return -1;
		g->cap_own = own + 1;
		for (uint32_t k = 0; k < own; k++)
			bw_read_u64(r, &g->own[g->n_own++]);
		if (mls_group_load(&d->cfg, state_key, st, st_len, &g->g) != 0)
			return -1;
		d->n_groups++;
	}
	return r->err;
}

static int load_state(struct tc_device *d)
{
	const uint8_t *b;
	uint8_t *file = NULL;
	size_t len, blen;
	uint32_t n = 0;
	struct bw_reader r;
	int rc;

	if (read_file(d->dir, STATE_FILE, &file, &len) != 0)
		return 0; /* a fresh device */
	bw_reader_init(&r, file, len);
	bw_read_u64(&r, &d->inbox_seen);
	if ((rc = load_groups(d, &r)) == 0) {
		bw_read_u32(&r, &n);
		for (uint32_t i = 0; r.err == 0 && i < n && i < TC_MAX_KPS;
		     i++) {
			bw_read_opaque(&r, STATE_MAX, &b, &blen);
			if (r.err == 0 &&
			    mls_key_package_bundle_load(state_key, b, blen,
							&d->kps[d->n_kps]) ==
				    0)
				d->n_kps++;
		}
		rc = bw_reader_finish(&r);
	}
	free(file);
	return rc;
}

static int save_group(struct bw_writer *w, const struct tc_group *g)
{
	uint8_t *st = NULL;
	size_t n = 0;
	int rc;

	if ((rc = mls_group_save(g->g, state_key, &st, &n)) != 0)
		return rc;
	bw_write_opaque(w, g->id, TC_GROUP_ID_LEN);
	bw_write_u64(w, g->seen);
	bw_write_opaque(w, st, n);
	bw_write_u32(w, (uint32_t)g->n_own);
	for (size_t k = 0; k < g->n_own; k++)
		bw_write_u64(w, g->own[k]);
	free(st);
	return w->err;
}

int tc_device_save(struct tc_device *d)
{
	struct bw_writer w;
	uint8_t *b;
	size_t n;
	int rc = 0;

	bw_writer_init(&w, STATE_MAX);
	bw_write_u64(&w, d->inbox_seen);
	bw_write_u32(&w, (uint32_t)d->n_groups);
	for (size_t i = 0; rc == 0 && i < d->n_groups; i++)
		rc = save_group(&w, &d->groups[i]);
	bw_write_u32(&w, (uint32_t)d->n_kps);
	for (size_t i = 0; rc == 0 && i < d->n_kps; i++) {
		if ((rc = mls_key_package_bundle_save(d->kps[i], state_key, &b,
						      &n)) == 0) {
			bw_write_opaque(&w, b, n);
			free(b);
		}
	}
	if (rc == 0 && w.err == 0)
		rc = write_file(d->dir, STATE_FILE, w.buf, w.len);
	bw_writer_free(&w);
	return rc != 0 ? rc : w.err;
}

int tc_device_open(const char *dir, struct tc_device *d)
{
	uint8_t *pem = NULL, *der = NULL;
	size_t len;
	char *nl;
	X509 *ca = NULL;
	BIO *b = NULL;
	int n;

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	if (read_file(dir, "device_id", &pem, &len) != 0 ||
	    len >= sizeof(d->device_id))
		return -1;
	memcpy(d->device_id, pem, len);
	if ((nl = strchr(d->device_id, '\n')) != NULL)
		*nl = '\0';
	free(pem);
	pem = NULL;
	if (read_file(dir, "ca.crt", &pem, &len) != 0 ||
	    (b = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (ca = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL ||
	    (n = i2d_X509(ca, &der)) <= 0) {
		BIO_free(b);
		free(pem);
		X509_free(ca);
		return -1;
	}
	d->ca_der = der;
	d->ca_len = (size_t)n;
	BIO_free(b);
	free(pem);
	X509_free(ca);
	if (ca_cert_suite(d->ca_der, d->ca_len, &d->suite) != 0)
		return -1;
	d->cfg.accept_credential = accept_device;
	d->cfg.accept_arg = d;
	if (load_identity(d) != 0)
		return -1;
	return load_state(d);
}

void tc_device_close(struct tc_device *d)
{
	tc_disconnect(d);
	for (size_t i = 0; i < d->n_groups; i++) {
		mls_group_free(d->groups[i].g);
		free(d->groups[i].own);
	}
	for (size_t i = 0; i < d->n_kps; i++)
		mls_key_package_bundle_free(d->kps[i]);
	for (size_t i = 0; i < d->n_queue; i++)
		free(d->queue[i].body);
	free(d->queue);
	mls_credential_free(d->ds_cred);
	mls_signer_free(d->signer);
	EVP_PKEY_free(d->key);
	X509_free(d->cert);
	OPENSSL_free(d->ca_der);
	memset(d, 0, sizeof(*d));
}

/* ---- connection ---- */

static void on_push(void *user, uint16_t type, const uint8_t *body,
		    size_t len)
{
	struct tc_device *d = user;
	struct tc_push *grown;

	if (d->n_queue == d->cap_queue) {
		d->cap_queue = d->cap_queue ? 2 * d->cap_queue : 64;
		grown = realloc(d->queue, d->cap_queue * sizeof(*grown));
		if (grown == NULL)
			tc_die("out of memory", -1);
		d->queue = grown;
	}
	if ((d->queue[d->n_queue].body = malloc(len + 1)) == NULL)
		tc_die("out of memory", -1);
	memcpy(d->queue[d->n_queue].body, body, len);
	d->queue[d->n_queue].len = len;
	d->queue[d->n_queue++].type = type;
}

int tc_call(struct tc_device *d, uint16_t type, const uint8_t *body,
	    size_t n, struct proto_msg *resp)
{
	int rc;

	d->s->last_status = 0;
	rc = session_call(d->s, type, body, n, resp);
	d->last_status = d->s->last_status;
	if (rc == 0)
		return 0;
	if (d->s->last_status != 0 && rc != BULWARK_ERR_TIMEOUT &&
	    rc != BULWARK_ERR_CLOSED)
		return d->s->last_status;
	return rc < 0 ? rc : -1;
}

static int server_info(struct tc_device *d)
{
	struct proto_server_info info;
	struct proto_span certs[4];
	const uint8_t *der[4];
	size_t lens[4], n;
	struct proto_msg m;
	int rc;

	if ((rc = tc_call(d, PROTO_T_SERVER_INFO, NULL, 0, &m)) != 0 ||
	    (rc = proto_decode_server_info(&m, &info)) != 0 ||
	    (rc = proto_decode_x509_credential(&info.ds_credential, certs, 4,
					       &n)) != 0)
		return rc != 0 ? rc : -1;
	if (info.mls_suite != d->suite ||
	    info.ds_signature_key.n > sizeof(d->ds_key))
		return -1;
	for (size_t i = 0; i < n; i++) {
		der[i] = certs[i].p;
		lens[i] = certs[i].n;
	}
	memcpy(d->ds_key, info.ds_signature_key.p, info.ds_signature_key.n);
	d->ds_key_len = info.ds_signature_key.n;
	mls_credential_free(d->ds_cred);
	return mls_credential_new_x509(der, lens, n, &d->ds_cred);
}

int tc_connect(struct tc_device *d, const char *address)
{
	struct transport_config cfg = { .address = address,
					.timeout_ms = CALL_TIMEOUT_MS,
					.cert = d->cert,
					.key = d->key };
	int rc;

	d->synced = false;
	if ((rc = session_open(&cfg, &d->s)) != 0)
		return rc;
	bulwark_session_set_push_handler(d->s, on_push, d);
	return server_info(d);
}

void tc_disconnect(struct tc_device *d)
{
	bulwark_session_free(d->s);
	d->s = NULL;
}

/* ---- groups ---- */

void tc_group_id(const char *name, uint8_t out[TC_GROUP_ID_LEN])
{
	uint8_t h[32];
	char text[256];
	int n = snprintf(text, sizeof(text), "bulwark test group %s", name);

	EVP_Digest(text, (size_t)n, h, NULL, EVP_sha256(), NULL);
	memcpy(out, h, TC_GROUP_ID_LEN);
}

static struct tc_group *group_by_id(struct tc_device *d, const uint8_t *id,
				    size_t n)
{
	for (size_t i = 0; i < d->n_groups; i++)
		if (n == TC_GROUP_ID_LEN && memcmp(d->groups[i].id, id, n) == 0)
			return &d->groups[i];
	return NULL;
}

struct tc_group *tc_group_find(struct tc_device *d, const char *name)
{
	uint8_t id[TC_GROUP_ID_LEN];

	tc_group_id(name, id);
	return group_by_id(d, id, sizeof(id));
}

static struct tc_group *group_add(struct tc_device *d, struct mls_group *g)
{
	struct tc_group *gr;
	const uint8_t *id;
	size_t n;

	mls_group_id(g, &id, &n);
	if (d->n_groups == TC_MAX_GROUPS || n != TC_GROUP_ID_LEN)
		return NULL;
	gr = &d->groups[d->n_groups++];
	memset(gr, 0, sizeof(*gr));
	memcpy(gr->id, id, n);
	gr->g = g;
	return gr;
}

static void own_add(struct tc_group *g, uint64_t seq)
{
	uint64_t *grown;

	if (g->n_own == g->cap_own) {
		g->cap_own = g->cap_own ? 2 * g->cap_own : 64;
		if ((grown = realloc(g->own, g->cap_own * sizeof(*grown))) ==
		    NULL)
			tc_die("out of memory", -1);
		g->own = grown;
	}
	g->own[g->n_own++] = seq;
}

static bool own_has(const struct tc_group *g, uint64_t seq)
{
	for (size_t i = 0; i < g->n_own; i++)
		if (g->own[i] == seq)
			return true;
	return false;
}

void tc_random_key(uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN])
{
	if (RAND_bytes(key, PROTO_IDEMPOTENCY_KEY_LEN) != 1)
		tc_die("no randomness", -1);
}

/* ---- receiving ---- */

static void group_name(const uint8_t *id, char out[9])
{
	bw_hex_encode(id, 4, out);
}

static void process_group(struct tc_device *d, struct tc_group *gr,
			  const struct proto_deliver *dv)
{
	struct mls_process_result res;
	char name[9];
	int rc;

	group_name(gr->id, name);
	rc = mls_group_process(gr->g, dv->payload.p, dv->payload.n, &res);
	if (rc != 0) {
		printf("skip %s %llu %s\n", name, (unsigned long long)dv->seq,
		       mls_strerror(rc));
		return;
	}
	switch (res.kind) {
	case MLS_RESULT_APPLICATION:
		printf("recv %s %llu %.*s\n", name, (unsigned long long)dv->seq,
		       (int)res.data_len, (const char *)res.data);
		d->received++;
		break;
	case MLS_RESULT_PROPOSAL:
		if (res.sender_type == 2) {
			gr->server_proposal = true;
			printf("server-proposal %s %llu\n", name,
			       (unsigned long long)dv->seq);
		}
		break;
	default:
		gr->server_proposal = false;
		printf("epoch %s %llu %llu%s\n", name,
		       (unsigned long long)dv->seq,
		       (unsigned long long)res.epoch,
		       res.removed_self ? " removed" : "");
		break;
	}
	mls_process_result_clear(&res);
}

static void join_welcome(struct tc_device *d, const struct proto_deliver *dv)
{
	struct mls_group *g = NULL;
	char name[9];
	int rc;

	rc = mls_group_join(
		&d->cfg, (const struct mls_key_package_bundle *const *)d->kps,
		d->n_kps, dv->payload.p, dv->payload.n, NULL, 0, &g);
	if (rc != 0 || group_add(d, g) == NULL) {
		printf("welcome-refused %s\n", mls_strerror(rc));
		mls_group_free(g);
		return;
	}
	group_name(d->groups[d->n_groups - 1].id, name);
	printf("joined %s epoch %llu\n", name,
	       (unsigned long long)mls_group_epoch(g));
	d->welcomes++;
}

static void on_deliver(struct tc_device *d, const struct tc_push *p)
{
	struct proto_msg m = { .version = PROTO_VERSION, .kind = PROTO_PUSH,
			       .type = PROTO_T_DELIVER,
			       .body = { p->body, p->len } };
	struct proto_deliver dv;
	struct tc_group *gr;

	if (proto_decode_deliver(&m, &dv) != 0)
		tc_die("malformed DELIVER", -1);
	if (dv.group_id.n == 0) {
		if (dv.seq <= d->inbox_seen) {
			d->duplicates++;
			return;
		}
		d->inbox_seen = dv.seq;
		join_welcome(d, &dv);
		return;
	}
	if ((gr = group_by_id(d, dv.group_id.p, dv.group_id.n)) == NULL) {
		printf("unknown-group %llu\n", (unsigned long long)dv.seq);
		return;
	}
	if (dv.seq <= gr->seen) {
		d->duplicates++;
		return;
	}
	gr->seen = dv.seq;
	if (own_has(gr, dv.seq))
		d->own++;
	else
		process_group(d, gr, &dv);
}

static int ack_all(struct tc_device *d)
{
	struct bw_writer w;
	struct proto_msg m;
	size_t list;
	int rc;

	bw_writer_init(&w, 0);
	list = bw_write_vector_begin(&w);
	if (d->inbox_seen > 0)
		proto_write_ack(&w, &(struct proto_ack){ { NULL, 0 },
							 d->inbox_seen });
	for (size_t i = 0; i < d->n_groups; i++)
		if (d->groups[i].seen > 0)
			proto_write_ack(&w, &(struct proto_ack){
				{ d->groups[i].id, TC_GROUP_ID_LEN },
				d->groups[i].seen });
	bw_write_vector_end(&w, list);
	rc = w.len > 1 ? tc_call(d, PROTO_T_QUEUE_ACK, w.buf, w.len, &m) : 0;
	bw_writer_free(&w);
	return rc;
}

/* Handle what is queued; save, then acknowledge. */
static int handle_queue(struct tc_device *d)
{
	size_t n = d->n_queue;
	bool delivered = false;

	for (size_t i = 0; i < n; i++) {
		struct tc_push *p = &d->queue[i];

		if (p->type == PROTO_T_DELIVER) {
			on_deliver(d, p);
			delivered = true;
		} else if (p->type == PROTO_T_SYNCED) {
			d->synced = true;
		} else if (p->type == PROTO_T_KP_LOW) {
			d->kp_low++;
		}
		free(p->body);
	}
	if (n > 0)
		memmove(d->queue, d->queue + n,
			(d->n_queue - n) * sizeof(*d->queue));
	d->n_queue -= n;
	if (!delivered)
		return 0;
	fflush(stdout);
	if (tc_device_save(d) != 0)
		tc_die("cannot save the device's state", -1);
	return ack_all(d);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tc_pump(struct tc_device *d, int ms, bool until_synced)
{
	int64_t deadline = now_ms() + ms;
	int rc = 0;

	do {
		int64_t left = deadline - now_ms();

		if ((rc = handle_queue(d)) != 0)
			break;
		if (until_synced && d->synced)
			break;
		if (left <= 0)
			break;
		rc = bulwark_session_poll(d->s, left < 100 ? (int)left : 100);
	} while (rc == 0);
	if (rc == 0)
		rc = handle_queue(d);
	return rc;
}

/* ---- requests ---- */

int tc_upload_key_packages(struct tc_device *d, unsigned n, bool last_resort,
			   uint32_t *available)
{
	struct proto_kp_count count;
	struct bw_writer w;
	struct proto_msg m;
	uint8_t *kp;
	size_t len, list;
	int rc = 0;

	bw_writer_init(&w, 0);
	list = bw_write_vector_begin(&w);
	for (unsigned i = 0; rc == 0 && i < n + (last_resort ? 1 : 0); i++) {
		if (d->n_kps == TC_MAX_KPS)
			tc_die("too many key packages", -1);
		if ((rc = mls_key_package_bundle_new(&d->cfg, d->signer,
						     &d->kps[d->n_kps])) != 0 ||
		    (rc = mls_key_package_bundle_message(d->kps[d->n_kps++],
							 &kp, &len)) != 0)
			break;
		if (i == n) {
			bw_write_vector_end(&w, list);
			bw_write_optional(&w, true);
			bw_write_opaque(&w, kp, len);
		} else {
			bw_write_opaque(&w, kp, len);
		}
		free(kp);
	}
	if (!last_resort) {
		bw_write_vector_end(&w, list);
		bw_write_optional(&w, false);
	}
	if (rc == 0 && (rc = tc_device_save(d)) == 0 &&
	    (rc = tc_call(d, PROTO_T_KP_UPLOAD, w.buf, w.len, &m)) == 0 &&
	    proto_decode_kp_count(&m, &count) == 0)
		*available = count.available;
	bw_writer_free(&w);
	return rc;
}

int tc_group_create(struct tc_device *d, const char *name)
{
	uint8_t id[TC_GROUP_ID_LEN], *gi = NULL;
	struct mls_extensions *ext = NULL;
	struct mls_group *g = NULL;
	struct bw_writer w;
	struct proto_msg m;
	size_t len = 0;
	int rc;

	tc_group_id(name, id);
	bw_writer_init(&w, 0);
	if ((rc = mls_extensions_new(&ext)) != 0 ||
	    (rc = mls_extensions_add_external_sender(ext, d->ds_key,
						     d->ds_key_len,
						     d->ds_cred)) != 0 ||
	    (rc = mls_group_create(&d->cfg, d->signer, id, sizeof(id), ext,
				   &g)) != 0 ||
	    (rc = mls_group_group_info(g, true, &gi, &len)) != 0)
		goto out;
	bw_write_opaque(&w, gi, len);
	if ((rc = tc_call(d, PROTO_T_GROUP_CREATE, w.buf, w.len, &m)) != 0)
		goto out;
	if (group_add(d, g) == NULL) {
		rc = -1;
		goto out;
	}
	g = NULL;
	rc = tc_device_save(d);
out:
	free(gi);
	bw_writer_free(&w);
	mls_group_free(g);
	mls_extensions_free(ext);
	return rc;
}

int tc_submit_commit(struct tc_device *d, struct tc_group *gr,
		     const struct mls_commit_output *co, const uint8_t *key,
		     uint64_t *seq, uint64_t *epoch)
{
	struct proto_group_commit_req req = {
		.group_id = { gr->id, TC_GROUP_ID_LEN },
		.idempotency_key = { key, PROTO_IDEMPOTENCY_KEY_LEN },
		.commit = { co->commit, co->commit_len },
		.group_info = { co->group_info, co->group_info_len },
		.has_welcome = co->welcome != NULL,
		.welcome = { co->welcome, co->welcome_len },
	};
	struct proto_seq_epoch out;
	struct proto_stale_epoch stale;
	struct bw_writer w;
	struct proto_msg m;
	int rc;

	bw_writer_init(&w, 0);
	proto_encode_group_commit_req(&w, &req);
	rc = tc_call(d, PROTO_T_GROUP_COMMIT, w.buf, w.len, &m);
	if (rc == 0 && proto_decode_seq_epoch(&m, &out) == 0) {
		*seq = out.seq;
		*epoch = out.epoch;
	} else if (rc == PROTO_E_STALE_EPOCH &&
		   proto_decode_stale_epoch(&m, &stale) == 0) {
		*epoch = stale.current_epoch;
	}
	bw_writer_free(&w);
	return rc;
}

/* After an accepted commit: its echo merges it. */
static int await_seq(struct tc_device *d, struct tc_group *gr, uint64_t seq)
{
	int rc = 0;

	for (int i = 0; rc == 0 && gr->seen < seq && i < 100; i++)
		rc = tc_pump(d, 100, false);
	if (rc == 0 && gr->seen < seq)
		rc = -1;
	return rc;
}

static int commit_and_wait(struct tc_device *d, struct tc_group *gr,
			   uint64_t *seq_out)
{
	struct mls_commit_options opt = { .force_path = true,
					  .ratchet_tree = true };
	struct mls_commit_output co = { 0 };
	uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN];
	uint64_t seq = 0, epoch = 0;
	int rc;

	tc_random_key(key);
	if ((rc = mls_group_commit(gr->g, &opt, &co)) != 0)
		return rc;
	if ((rc = tc_device_save(d)) == 0 &&
	    (rc = tc_submit_commit(d, gr, &co, key, &seq, &epoch)) == 0)
		rc = await_seq(d, gr, seq);
	else if (mls_group_has_pending_commit(gr->g))
		mls_group_discard_pending_commit(gr->g);
	if (seq_out != NULL)
		*seq_out = seq;
	mls_commit_output_clear(&co);
	return rc;
}

struct claims {
	uint8_t **kp;
	size_t *len;
	size_t n;
};

static int claim(struct tc_device *d, const char *const *users, size_t n,
		 struct claims *out)
{
	struct proto_kp_claim_resp resp;
	struct proto_claim c;
	struct bw_reader it;
	struct bw_writer w;
	struct proto_msg m;
	size_t list;
	int rc;

	memset(out, 0, sizeof(*out));
	bw_writer_init(&w, 0);
	list = bw_write_vector_begin(&w);
	for (size_t i = 0; i < n; i++)
		proto_write_user(&w, &(struct proto_span){
			(const uint8_t *)users[i], strlen(users[i]) });
	bw_write_vector_end(&w, list);
	if ((rc = tc_call(d, PROTO_T_KP_CLAIM, w.buf, w.len, &m)) != 0 ||
	    (rc = proto_decode_kp_claim_resp(&m, &resp)) != 0)
		goto out;
	out->kp = calloc(resp.claims.count + 1, sizeof(*out->kp));
	out->len = calloc(resp.claims.count + 1, sizeof(*out->len));
	if (out->kp == NULL || out->len == NULL)
		tc_die("out of memory", -1);
	proto_list_iter(&resp.claims, &it);
	while (proto_next_claim(&it, &c)) {
		if ((out->kp[out->n] = malloc(c.key_package.n)) == NULL)
			tc_die("out of memory", -1);
		memcpy(out->kp[out->n], c.key_package.p, c.key_package.n);
		out->len[out->n++] = c.key_package.n;
		printf("claimed %.*s %.*s\n", (int)c.user.n, c.user.p,
		       (int)c.device_id.n, c.device_id.p);
	}
out:
	bw_writer_free(&w);
	return rc;
}

static void claims_clear(struct claims *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->kp[i]);
	free(c->kp);
	free(c->len);
}

int tc_group_add(struct tc_device *d, const char *name,
		 const char *const *users, size_t n_users)
{
	struct tc_group *gr = tc_group_find(d, name);
	struct claims c;
	int rc;

	if (gr == NULL)
		return -1;
	if ((rc = claim(d, users, n_users, &c)) != 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < c.n; i++)
		rc = mls_group_propose_add(gr->g, c.kp[i], c.len[i], NULL,
					   NULL);
	if (rc == 0)
		rc = commit_and_wait(d, gr, NULL);
	claims_clear(&c);
	return rc;
}

int tc_group_commit(struct tc_device *d, const char *name, uint64_t *seq)
{
	struct tc_group *gr = tc_group_find(d, name);

	return gr == NULL ? -1 : commit_and_wait(d, gr, seq);
}

int tc_send_text(struct tc_device *d, const char *name, const char *text,
		 uint64_t *seq)
{
	struct tc_group *gr = tc_group_find(d, name);
	uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN], *msg = NULL;
	struct proto_group_message_req req;
	struct proto_seq out;
	struct bw_writer w;
	struct proto_msg m;
	size_t len = 0;
	int rc;

	if (gr == NULL)
		return -1;
	tc_random_key(key);
	if ((rc = mls_group_encrypt(gr->g, text, strlen(text), NULL, 0, &msg,
				    &len)) != 0 ||
	    (rc = tc_device_save(d)) != 0)
		return rc;
	req = (struct proto_group_message_req){
		.group_id = { gr->id, TC_GROUP_ID_LEN },
		.idempotency_key = { key, sizeof(key) },
		.message = { msg, len },
	};
	bw_writer_init(&w, 0);
	proto_encode_group_message_req(&w, &req);
	if ((rc = tc_call(d, PROTO_T_GROUP_SEND, w.buf, w.len, &m)) == 0 &&
	    proto_decode_seq(&m, &out) == 0) {
		own_add(gr, out.seq);
		*seq = out.seq;
		rc = tc_device_save(d);
	}
	bw_writer_free(&w);
	free(msg);
	return rc;
}

/* One group of the user's: its GroupInfo, an external commit from it. */
static int join_one(struct tc_device *d, const struct proto_span *id)
{
	struct mls_external_join p = { 0 };
	struct proto_group_info_resp info;
	struct mls_commit_output co = { 0 };
	uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN];
	struct mls_group *g = NULL;
	struct tc_group tmp = { 0 }, *gr;
	uint64_t seq = 0, epoch = 0;
	struct proto_msg m;
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	proto_encode_group_ref(&w, &(struct proto_group_ref){ *id });
	if ((rc = tc_call(d, PROTO_T_GROUP_INFO, w.buf, w.len, &m)) != 0 ||
	    (rc = proto_decode_group_info_resp(&m, &info)) != 0)
		goto out;
	p.group_info = info.group_info.p;
	p.group_info_len = info.group_info.n;
	if ((rc = mls_group_join_external(&d->cfg, d->signer, &p, &co.commit,
					  &co.commit_len, &g)) != 0 ||
	    (rc = mls_group_group_info(g, true, &co.group_info,
				       &co.group_info_len)) != 0)
		goto out;
	memcpy(tmp.id, id->p, TC_GROUP_ID_LEN);
	tc_random_key(key);
	if ((rc = tc_submit_commit(d, &tmp, &co, key, &seq, &epoch)) != 0)
		goto out;
	if ((gr = group_add(d, g)) == NULL) {
		rc = -1;
		goto out;
	}
	g = NULL;
	gr->seen = seq; /* the server does not echo a joiner's own commit */
	rc = tc_device_save(d);
out:
	mls_commit_output_clear(&co);
	mls_group_free(g);
	bw_writer_free(&w);
	return rc;
}

int tc_join_external(struct tc_device *d, unsigned *joined)
{
	struct proto_group_list_resp list;
	struct proto_group_entry e;
	struct proto_span ids[TC_MAX_GROUPS];
	uint8_t copies[TC_MAX_GROUPS][TC_GROUP_ID_LEN];
	struct bw_reader it;
	struct proto_msg m;
	size_t n = 0;
	int rc;

	*joined = 0;
	if ((rc = tc_call(d, PROTO_T_GROUP_LIST, NULL, 0, &m)) != 0 ||
	    (rc = proto_decode_group_list_resp(&m, &list)) != 0)
		return rc;
	proto_list_iter(&list.groups, &it);
	while (proto_next_group(&it, &e) && n < TC_MAX_GROUPS)
		if (!e.member && e.group_id.n == TC_GROUP_ID_LEN) {
			memcpy(copies[n], e.group_id.p, TC_GROUP_ID_LEN);
			ids[n] = (struct proto_span){ copies[n],
						      TC_GROUP_ID_LEN };
			n++;
		}
	for (size_t i = 0; rc == 0 && i < n; i++)
		if ((rc = join_one(d, &ids[i])) == 0)
			(*joined)++;
	return rc;
}

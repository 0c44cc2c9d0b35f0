/* enroll.c - DEVICE_ENROLL: certify administrator-generated device keys
 * and record the devices (enroll.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "admin_enroll.h"
#include "enroll.h"
#include "errors.h"
#include "log.h"
#include "pki.h"
#include "privsep.h"

/* What the store thread made of one entry. */
struct enrolled {
	struct store_device dev;
	uint8_t *cert;
	size_t cert_len;
};

struct enroll_job {
	struct store_job job;
	struct bwd_server *srv;
	const char *actor;
	struct admin_enroll req;
	struct enrolled out[ADMIN_MAX_ENROLL];
	uint32_t n;
	uint32_t failed_at; /* the entry a refusal concerns */
	char failed_user[STORE_NAME_SIZE];
};

static void copy_span(char *dst, size_t size, const struct proto_span *s)
{
	size_t n = s->n < size - 1 ? s->n : size - 1;

	memcpy(dst, s->p, n);
	dst[n] = '\0';
}

/* 128 random bits in hex, as activation names devices. */
static int new_device_id(char out[STORE_NAME_SIZE])
{
	uint8_t raw[16];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return BWD_ERR_SYSTEM;
	bw_hex_encode(raw, sizeof(raw), out);
	return 0;
}

/* The registry and the device list know a certificate by its serial
 * number and SHA-256 fingerprint. */
static int cert_identity(const uint8_t *der, size_t len,
			 struct store_device *d)
{
	X509 *cert = NULL;
	BIGNUM *serial = NULL;
	int rc, n;

	if ((rc = ca_cert_from_der(der, len, &cert)) != 0)
		return rc;
	rc = BWD_ERR_ISSUE;
	serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	if (serial == NULL || (n = BN_num_bytes(serial)) <= 0 ||
	    n > STORE_MAX_SERIAL)
		goto out;
	d->serial_len = (size_t)BN_bn2bin(serial, d->serial);
	rc = ca_fingerprint(der, len, d->fingerprint);
out:
	BN_free(serial);
	X509_free(cert);
	return rc;
}

/* One device: the user may have devices, the CA certifies the key, the
 * device and its audit line are recorded (inside the caller's
 * transaction). */
static int enroll_one(struct store *s, struct enroll_job *j,
		      const struct admin_enroll_entry *e, struct enrolled *out)
{
	struct store_device *d = &out->dev;
	struct store_user u;
	char result[96];
	int rc;

	memset(d, 0, sizeof(*d));
	copy_span(d->user, sizeof(d->user), &e->user);
	copy_span(d->name, sizeof(d->name), &e->name);
	if ((rc = s->ops->user_get(s, d->user, &u)) != 0)
		return rc;
	if (u.disabled)
		return BWD_ERR_DISABLED;
	if ((rc = new_device_id(d->id)) != 0 ||
	    (rc = privsep_issue_device_cert(
		     j->srv->privsep, d->user, d->id, e->spki.p, e->spki.n,
		     j->srv->cfg.device_cert_days, &out->cert,
		     &out->cert_len)) != 0 ||
	    (rc = cert_identity(out->cert, out->cert_len, d)) != 0)
		return rc;
	d->created = time(NULL);
	snprintf(result, sizeof(result), "enrolled device %s", d->id);
	if ((rc = s->ops->device_add(s, d)) != 0)
		return rc;
	return s->ops->audit_add(s, d->created, j->actor, "device enroll",
				 d->user, result);
}

static void forget(struct enroll_job *j)
{
	for (uint32_t i = 0; i < j->n; i++) {
		free(j->out[i].cert);
		j->out[i].cert = NULL;
	}
	j->n = 0;
}

static int run_enroll(struct store *s, struct store_job *job)
{
	struct enroll_job *j = (struct enroll_job *)job;
	struct admin_enroll walk = j->req;
	struct admin_enroll_entry e;
	int rc;

	if ((rc = store_begin(s)) != 0)
		return rc;
	while (admin_enroll_next(&walk, &e)) {
		j->failed_at = j->n;
		copy_span(j->failed_user, sizeof(j->failed_user), &e.user);
		rc = enroll_one(s, j, &e, &j->out[j->n]);
		j->n++;
		if (rc != 0)
			break;
	}
	if (rc == 0)
		rc = store_commit(s);
	if (rc != 0) {
		store_rollback(s);
		forget(j);
		return rc;
	}
	/* Committed: these devices may log in from now on. */
	for (uint32_t i = 0; i < j->n && rc == 0; i++)
		rc = devices_add(j->srv->devices, &j->out[i].dev);
	return rc;
}

static uint16_t status_of(int rc)
{
	switch (rc) {
	case BWD_ERR_NOT_FOUND: return ADMIN_E_NOT_FOUND;
	case BWD_ERR_DISABLED: return ADMIN_E_DISABLED;
	case BWD_ERR_EXISTS: return ADMIN_E_EXISTS;
	case CA_ERR_KEY_TYPE:
	case CA_ERR_KEY_ENCODING:
	case CA_ERR_USER_NAME:
		return ADMIN_E_INVALID;
	default:
		return rc > BW_ERR_MIN ? ADMIN_E_MALFORMED : ADMIN_E_INTERNAL;
	}
}

static const char *reason(int rc)
{
	switch (rc) {
	case BWD_ERR_NOT_FOUND: return "no such user";
	case BWD_ERR_DISABLED: return "user is disabled";
	default: return bwd_strerror(rc);
	}
}

static void respond_error(struct bw_writer *w, uint16_t status,
			  const char *text)
{
	struct admin_marks mk;

	bw_writer_reset(w);
	w->err = 0;
	mk = admin_response_begin(w, status, text);
	admin_end(w, mk);
}

static void respond(struct enroll_job *j, struct bw_writer *w)
{
	const struct bw_bytes *ca = &j->srv->ca_cert_der;
	struct admin_marks mk = admin_response_begin(w, ADMIN_OK, NULL);
	size_t list;

	bw_write_opaque(w, ca->p, ca->len);
	list = bw_write_vector_begin(w);
	for (uint32_t i = 0; i < j->n; i++) {
		struct admin_enrolled_device d = {
			.device_id = { (const uint8_t *)j->out[i].dev.id,
				       strlen(j->out[i].dev.id) },
			.cert = { j->out[i].cert, j->out[i].cert_len },
		};

		admin_write_enrolled_device(w, &d);
	}
	bw_write_vector_end(w, list);
	if (admin_end(w, mk) != 0)
		respond_error(w, ADMIN_E_INTERNAL, NULL);
}

void enroll_handle(struct bwd_server *srv, const char *actor,
		   const struct proto_span *body, struct bw_writer *w)
{
	struct enroll_job *j = calloc(1, sizeof(*j));
	char text[PROTO_MAX_TEXT];
	int rc;

	if (j == NULL) {
		respond_error(w, ADMIN_E_INTERNAL, NULL);
		return;
	}
	j->srv = srv;
	j->actor = actor;
	j->job.run = run_enroll;
	if ((rc = admin_decode_enroll(body, &j->req)) != 0) {
		respond_error(w, rc == PROTO_ERR_NAME ? ADMIN_E_INVALID
						      : ADMIN_E_MALFORMED,
			      NULL);
		goto out;
	}
	if ((rc = storeq_call(srv->store, &j->job)) != 0) {
		/* Which entry, and why: never anything secret (public keys and
		 * names only). */
		snprintf(text, sizeof(text),
			 "device %u of the request (user %s): %s",
			 (unsigned)j->failed_at + 1, j->failed_user,
			 reason(rc));
		log_info("admin: device enrollment refused: %s", text);
		respond_error(w, status_of(rc), text);
		goto out;
	}
	log_info("admin: %u devices enrolled", (unsigned)j->n);
	respond(j, w);
out:
	forget(j);
	free(j);
}

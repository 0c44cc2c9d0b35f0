/* activate.c - bulwark_activate(): from the printed activation values to
 * a device in its own keystore (docs/libbulwark.md, "Activation"). */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "activation.h"
#include "pki.h"
#include "device.h"
#include "keystore.h"

/* What a successful exchange leaves for the keystore. */
struct activated {
	char server_name[BULWARK_MAX_SERVER_NAME + 1];
	struct bw_bytes ca;
	struct act_result result;
	EVP_PKEY *key;
};

static void activated_clear(struct activated *x)
{
	bw_bytes_clear(&x->ca);
	act_result_clear(&x->result);
	EVP_PKEY_free(x->key);
	memset(x, 0, sizeof(*x));
}

/* The keystore must be creatable before any traffic: a used code cannot
 * be given back. */
static int keystore_path_free(const char *path)
{
	struct stat st;
	char *copy;
	int rc;

	if (lstat(path, &st) == 0)
		return BULWARK_ERR_KS_EXISTS;
	if (errno != ENOENT)
		return BULWARK_ERR_KS_IO;
	if ((copy = strdup(path)) == NULL)
		return BW_ERR_NOMEM;
	rc = access(dirname(copy), W_OK | X_OK) == 0 ? 0 : BULWARK_ERR_KS_IO;
	free(copy);
	return rc;
}

/* The device's key, of the type the organisation's CA certifies. */
static int key_for_ca(const struct bw_bytes *ca, EVP_PKEY **key)
{
	int suite;

	if (ca_cert_suite(ca->p, ca->len, &suite) != 0)
		return BULWARK_ERR_SUITE;
	return device_keygen(suite, key);
}

/* One connection: the CA check, the exchange and the certificate. */
static int exchange_on(struct bulwark_session *s,
		       const struct bulwark_activation *a,
		       const char *device_name, struct activated *x)
{
	struct act_claim claim = { a->user, a->code_id, a->password,
				   s->server_name };
	struct bw_bytes confirm_p = { 0 };
	int rc;

	if ((rc = act_server_ca(transport_ssl(s->t), a->ca_fingerprint,
				&x->ca)) != 0 ||
	    (rc = key_for_ca(&x->ca, &x->key)) != 0 ||
	    (rc = act_prove(s, &claim, &confirm_p)) != 0 ||
	    (rc = act_finish(s, &confirm_p, x->key, device_name,
			     &x->result)) != 0 ||
	    (rc = act_check_result(&x->result, &x->ca, x->key, a->user)) != 0)
		goto out;
	snprintf(x->server_name, sizeof(x->server_name), "%s", s->server_name);
out:
	bw_bytes_clear(&confirm_p);
	return rc;
}

static int run_exchange(const struct bulwark_activation *a,
			const char *device_name, int timeout_ms,
			struct activated *x)
{
	/* No pinned CA yet: SPAKE2+ and the fingerprint authenticate the
	 * server (transport.h). */
	struct transport_config cfg = { .address = a->server,
					.timeout_ms = timeout_ms };
	struct bulwark_session *s;
	int rc;

	if ((rc = session_open(&cfg, &s)) != 0)
		return rc;
	rc = exchange_on(s, a, device_name, x);
	bulwark_session_free(s);
	return rc;
}

static int save(const struct bulwark_activation *a, const char *device_name,
		const struct activated *x, const char *path,
		const char *passphrase, struct bulwark_keystore **ks)
{
	struct device_record r = {
		.user = a->user, .device_id = x->result.device_id,
		.device_name = device_name, .address = a->server,
		.server_name = x->server_name, .key = x->key,
		.cert = x->result.cert.p, .cert_len = x->result.cert.len,
		.ca = x->ca.p, .ca_len = x->ca.len,
	};
	int rc;

	if ((rc = bulwark_keystore_create(path, passphrase, ks)) != 0)
		return rc;
	if ((rc = device_store(*ks, &r)) != 0) {
		bulwark_keystore_free(*ks);
		*ks = NULL;
		unlink(path); /* nothing half-made stays behind */
	}
	return rc;
}

int bulwark_activate(const struct bulwark_activation *a,
		     const char *device_name, const char *keystore_path,
		     const char *passphrase, int timeout_ms,
		     struct bulwark_device **out)
{
	struct bulwark_keystore *ks = NULL;
	struct activated x;
	int rc;

	if (out != NULL)
		*out = NULL;
	memset(&x, 0, sizeof(x));
	if (!proto_label_valid((const uint8_t *)device_name,
			       strlen(device_name)))
		return BULWARK_ERR_DEVICE_NAME;
	if ((rc = ks_passphrase_check(passphrase)) != 0 ||
	    (rc = keystore_path_free(keystore_path)) != 0)
		return rc;
	if ((rc = run_exchange(a, device_name, timeout_ms, &x)) == 0 &&
	    (rc = save(a, device_name, &x, keystore_path, passphrase, &ks)) ==
		    0) {
		if (out != NULL)
			rc = device_load(ks, out);
		else
			bulwark_keystore_free(ks);
	}
	activated_clear(&x);
	return rc;
}

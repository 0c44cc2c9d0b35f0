/* device.c - the activated device: its keystore entries, keys and
 * certificates, and connecting as it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "pki.h"
#include "device.h"
#include "net.h"
#include "proto.h"
#include "session.h"

int device_keygen(int suite, EVP_PKEY **out)
{
	switch (suite) {
	case 1:
	case 3:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case 2:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	default:
		*out = NULL;
		return BULWARK_ERR_SUITE;
	}
	return *out != NULL ? 0 : BULWARK_ERR_KS_CRYPTO;
}

/* ---- storing ---- */

static int put_text(struct bulwark_keystore *ks, const char *name,
		    const char *value)
{
	return bulwark_keystore_put(ks, name, value, strlen(value));
}

/* The private key as PKCS#8 DER, wiped after use. */
static int put_key(struct bulwark_keystore *ks, EVP_PKEY *key)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
	unsigned char *der = NULL;
	int len = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &der) : -1;
	int rc = len > 0 ? bulwark_keystore_put(ks, DEVICE_E_KEY, der,
						 (size_t)len)
			 : BULWARK_ERR_KS_CRYPTO;

	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)len);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return rc;
}

int device_store(struct bulwark_keystore *ks, const struct device_record *r)
{
	int rc;

	if ((rc = put_key(ks, r->key)) != 0 ||
	    (rc = bulwark_keystore_put(ks, DEVICE_E_CERT, r->cert,
				       r->cert_len)) != 0 ||
	    (rc = bulwark_keystore_put(ks, DEVICE_E_CA, r->ca, r->ca_len)) != 0 ||
	    (rc = put_text(ks, DEVICE_E_USER, r->user)) != 0 ||
	    (rc = put_text(ks, DEVICE_E_NAME, r->device_name)) != 0 ||
	    (rc = put_text(ks, DEVICE_E_ADDRESS, r->address)) != 0 ||
	    (rc = put_text(ks, DEVICE_E_SERVER_NAME, r->server_name)) != 0)
		return rc;
	/* Last: its presence says the device is complete. */
	return put_text(ks, DEVICE_E_ID, r->device_id);
}

/* ---- loading ---- */

/* An entry the device needs: missing means damaged. *v is secret. */
static int get_entry(const struct bulwark_keystore *ks, const char *name,
		     uint8_t **v, size_t *n)
{
	int rc = bulwark_keystore_get(ks, name, v, n);

	return rc == BULWARK_ERR_KS_NOT_FOUND ? BULWARK_ERR_DEVICE_DAMAGED : rc;
}

static int get_text(const struct bulwark_keystore *ks, const char *name,
		    char *out, size_t size)
{
	uint8_t *v = NULL;
	size_t n = 0;
	struct proto_span span;
	int rc;

	if ((rc = get_entry(ks, name, &v, &n)) != 0)
		return rc;
	span = (struct proto_span){ v, n };
	rc = n > 0 && session_copy_text(&span, out, size) == 0
		     ? 0
		     : BULWARK_ERR_DEVICE_DAMAGED;
	bulwark_secret_free(v, n);
	return rc;
}

static int get_cert(const struct bulwark_keystore *ks, const char *name,
		    X509 **out)
{
	uint8_t *v = NULL;
	size_t n = 0;
	const unsigned char *p;
	int rc;

	if ((rc = get_entry(ks, name, &v, &n)) != 0)
		return rc;
	p = v;
	*out = d2i_X509(NULL, &p, (long)n);
	rc = *out != NULL && p == v + n ? 0 : BULWARK_ERR_DEVICE_DAMAGED;
	bulwark_secret_free(v, n);
	return rc;
}

static int get_key(const struct bulwark_keystore *ks, EVP_PKEY **out)
{
	uint8_t *v = NULL;
	size_t n = 0;
	const unsigned char *p;
	PKCS8_PRIV_KEY_INFO *p8;
	int rc;

	if ((rc = get_entry(ks, DEVICE_E_KEY, &v, &n)) != 0)
		return rc;
	p = v;
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)n);
	*out = p8 != NULL ? EVP_PKCS82PKEY(p8) : NULL;
	rc = *out != NULL ? 0 : BULWARK_ERR_DEVICE_DAMAGED;
	PKCS8_PRIV_KEY_INFO_free(p8); /* wipes the key it held */
	bulwark_secret_free(v, n);
	return rc;
}

/* Expiry, CA fingerprint and suite: what status shows. */
static int derive_info(struct bulwark_device *d)
{
	uint8_t *ca_der = NULL, fp[CA_FINGERPRINT_LEN];
	int len = i2d_X509(d->ca, &ca_der), rc = BULWARK_ERR_DEVICE_DAMAGED;
	struct tm tm;

	if (len <= 0 ||
	    ca_fingerprint(ca_der, (size_t)len, fp) != 0 ||
	    ca_cert_suite(ca_der, (size_t)len, &d->info.mls_suite) != 0 ||
	    ASN1_TIME_to_tm(X509_get0_notAfter(d->cert), &tm) != 1)
		goto out;
	ca_fingerprint_text(fp, d->info.ca_fingerprint);
	d->info.cert_not_after = (int64_t)timegm(&tm);
	rc = 0;
out:
	OPENSSL_free(ca_der);
	return rc;
}

int device_load(struct bulwark_keystore *ks, struct bulwark_device **out)
{
	struct bulwark_device *d;
	struct bulwark_device_info *i;
	int rc;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		bulwark_keystore_free(ks);
		return BW_ERR_NOMEM;
	}
	d->ks = ks;
	i = &d->info;
	rc = get_text(ks, DEVICE_E_ID, i->device_id, sizeof(i->device_id));
	if (rc == BULWARK_ERR_DEVICE_DAMAGED)
		rc = BULWARK_ERR_NOT_ACTIVATED; /* stored last: never finished */
	if (rc != 0 ||
	    (rc = get_text(ks, DEVICE_E_USER, i->user, sizeof(i->user))) != 0 ||
	    (rc = get_text(ks, DEVICE_E_NAME, i->device_name,
			   sizeof(i->device_name))) != 0 ||
	    (rc = get_text(ks, DEVICE_E_ADDRESS, i->server,
			   sizeof(i->server))) != 0 ||
	    (rc = get_text(ks, DEVICE_E_SERVER_NAME, i->server_name,
			   sizeof(i->server_name))) != 0 ||
	    (rc = get_cert(ks, DEVICE_E_CERT, &d->cert)) != 0 ||
	    (rc = get_cert(ks, DEVICE_E_CA, &d->ca)) != 0 ||
	    (rc = get_key(ks, &d->key)) != 0 ||
	    (rc = derive_info(d)) != 0) {
		bulwark_device_free(d);
		ERR_clear_error();
		return rc;
	}
	*out = d;
	return 0;
}

/* ---- the public API ---- */

int bulwark_device_open(const char *keystore_path, const char *passphrase,
			struct bulwark_device **out)
{
	struct bulwark_keystore *ks;
	int rc;

	*out = NULL;
	if ((rc = bulwark_keystore_open(keystore_path, passphrase, &ks)) != 0)
		return rc;
	return device_load(ks, out);
}

void bulwark_device_free(struct bulwark_device *d)
{
	if (d == NULL)
		return;
	EVP_PKEY_free(d->key); /* OpenSSL wipes private key material */
	X509_free(d->cert);
	X509_free(d->ca);
	bulwark_keystore_free(d->ks);
	free(d);
}

const struct bulwark_device_info *
bulwark_device_info(const struct bulwark_device *d)
{
	return &d->info;
}

int bulwark_connect(const struct bulwark_device *d, int timeout_ms,
		    struct bulwark_session **out)
{
	struct transport_config cfg = {
		.address = d->info.server,
		.ca = d->ca,
		.server_name = d->info.server_name,
		.cert = d->cert,
		.key = d->key,
		.timeout_ms = timeout_ms,
	};
	struct bulwark_session *s;
	int rc;

	*out = NULL;
	if ((rc = session_open(&cfg, &s)) != 0)
		return rc;
	if (!s->authenticated) {
		bulwark_session_free(s);
		return BULWARK_ERR_NOT_AUTHENTICATED;
	}
	*out = s;
	return 0;
}

/* mls_dev.c - the devices' MLS identity and authentication service
 * (mls_dev.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "mls_dev.h"
#include "pki.h"

#define MAX_DS_CERTS 4u

/* ---- certificates already verified ---- */

static bool seen(const struct lg_mls *m, const uint8_t fp[32], uint32_t *slot)
{
	uint32_t i;

	memcpy(&i, fp, sizeof(i));
	for (i &= m->seen_mask;; i = (i + 1) & m->seen_mask) {
		static const uint8_t zero[32];

		if (memcmp(m->seen[i], zero, 32) == 0) {
			*slot = i;
			return false;
		}
		if (memcmp(m->seen[i], fp, 32) == 0)
			return true;
	}
}

static void remember(struct lg_mls *m, const uint8_t fp[32], uint32_t slot)
{
	/* keep the table at most half full; beyond, verify every time */
	if (2 * (m->n_seen + 1) > m->seen_mask + 1)
		return;
	memcpy(m->seen[slot], fp, 32);
	m->n_seen++;
}

/* RFC 9420 §5.3.1: the application's authentication service. */
static int accept_credential(void *arg, const struct mls_credential *cred,
			     const uint8_t *sig_key, size_t sig_key_len)
{
	struct lg_mls *m = arg;
	char user[CA_NAME_MAX + 1], device_id[CA_NAME_MAX + 1];
	uint8_t fp[32];
	const uint8_t *der;
	uint32_t slot;
	size_t n;

	(void)sig_key; /* libmls checks the certificate carries it */
	(void)sig_key_len;
	if (mls_credential_get_type(cred) != 2 ||
	    mls_credential_n_certificates(cred) < 1 ||
	    mls_credential_certificate(cred, 0, &der, &n) != 0 ||
	    ca_fingerprint(der, n, fp) != 0)
		return -1;
	if (seen(m, fp, &slot))
		return 0;
	if (ca_verify_device_cert(m->ca_der, m->ca_len, der, n, 0, user,
				  device_id) != 0)
		return -1;
	remember(m, fp, slot);
	return 0;
}

int lgm_init(struct lg_mls *m, const char *ca_file)
{
	int suite, rc;

	memset(m, 0, sizeof(*m));
	if ((rc = ca_cert_file_read(ca_file, &m->ca_der, &m->ca_len)) != 0 ||
	    (rc = ca_cert_suite(m->ca_der, m->ca_len, &suite)) != 0)
		return rc;
	m->suite = (uint16_t)suite;
	m->seen_mask = (1u << 17) - 1;
	m->seen = lg_xcalloc(m->seen_mask + 1, sizeof(*m->seen));
	m->cfg.accept_credential = accept_credential;
	m->cfg.accept_arg = m;
	return 0;
}

void lgm_free(struct lg_mls *m)
{
	free(m->ca_der);
	free(m->seen);
	mls_extensions_free(m->ext);
	memset(m, 0, sizeof(*m));
}

/* ---- a device's signer ---- */

int lgm_signer(struct lg_mls *m, struct dev *d)
{
	uint8_t priv[CA_KEY_RAW_MAX];
	unsigned char *cert = NULL;
	struct mls_credential *cred = NULL;
	const uint8_t *certs[1];
	size_t priv_len = 0, cert_len;
	int rc, n;

	if (d->signer != NULL)
		return 0;
	if ((n = i2d_X509(d->cert, &cert)) <= 0 ||
	    ca_device_key_raw(d->key, priv, &priv_len) != 0) {
		rc = MLS_ERR_BAD_KEY;
		goto out;
	}
	certs[0] = cert;
	cert_len = (size_t)n;
	if ((rc = mls_credential_new_x509(certs, &cert_len, 1, &cred)) != 0 ||
	    (rc = mls_signer_new(m->suite, priv, priv_len, &d->signer)) != 0 ||
	    (rc = mls_signer_set_credential(d->signer, cred)) != 0) {
		mls_signer_free(d->signer);
		d->signer = NULL;
	}
out:
	OPENSSL_cleanse(priv, sizeof(priv));
	OPENSSL_free(cert);
	mls_credential_free(cred);
	return rc;
}

/* ---- the delivery service ---- */

static bool chains_to_ca(const struct lg_mls *m, const uint8_t *der, size_t n)
{
	X509 *ca = NULL, *cert = NULL;
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	bool ok = false;

	if (store != NULL && ctx != NULL &&
	    ca_cert_from_der(m->ca_der, m->ca_len, &ca) == 0 &&
	    ca_cert_from_der(der, n, &cert) == 0 &&
	    X509_STORE_add_cert(store, ca) == 1 &&
	    X509_STORE_CTX_init(ctx, store, cert, NULL) == 1) {
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
		ok = X509_verify_cert(ctx) == 1;
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(cert);
	X509_free(ca);
	ERR_clear_error();
	return ok;
}

int lgm_set_ds(struct lg_mls *m, const struct proto_server_info *info)
{
	struct proto_span certs[MAX_DS_CERTS];
	const uint8_t *der[MAX_DS_CERTS];
	size_t lens[MAX_DS_CERTS], n = 0;
	struct mls_credential *cred = NULL;
	int rc;

	if (info->mls_suite != m->suite)
		return MLS_ERR_SUITE_MISMATCH;
	if ((rc = proto_decode_x509_credential(&info->ds_credential, certs,
					       MAX_DS_CERTS, &n)) != 0)
		return rc;
	if (n == 0 || !chains_to_ca(m, certs[0].p, certs[0].n))
		return MLS_ERR_CREDENTIAL;
	for (size_t i = 0; i < n; i++) {
		der[i] = certs[i].p;
		lens[i] = certs[i].n;
	}
	mls_extensions_free(m->ext);
	m->ext = NULL;
	if ((rc = mls_credential_new_x509(der, lens, n, &cred)) == 0 &&
	    (rc = mls_extensions_new(&m->ext)) == 0)
		rc = mls_extensions_add_external_sender(
			m->ext, info->ds_signature_key.p,
			info->ds_signature_key.n, cred);
	mls_credential_free(cred);
	return rc;
}

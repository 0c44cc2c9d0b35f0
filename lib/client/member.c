/* member.c - the device as an MLS client: signer, credential, the
 * organisation's authentication service, and members' identities
 * (member.h). */
#include "member.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "codec.h"
#include "device.h"
#include "pki.h"

#define SERVER_URI_PREFIX "bulwark:server/"
#define MAX_DS_CERTS 4u
/* Application messages are padded to a multiple of this many bytes
 * (RFC 9420 §6.3.1), so the server learns their length only roughly. */
#define PADDING_BLOCK 64u

/* ---- the authentication service ---- */

/* RFC 9420 §5.3.1: the application decides which identities are valid;
 * here, a device certificate from the organisation's CA. */
static int accept_credential(void *arg, const struct mls_credential *cred,
			     const uint8_t *sig_key, size_t sig_key_len)
{
	const struct member_ctx *m = arg;
	char user[BULWARK_MAX_NAME + 1], device_id[BULWARK_MAX_NAME + 1];
	const uint8_t *der;
	size_t n;

	(void)sig_key; /* libmls binds it to the certificate (§5.3) */
	(void)sig_key_len;
	if (mls_credential_get_type(cred) != 2 ||
	    mls_credential_n_certificates(cred) < 1 ||
	    mls_credential_certificate(cred, 0, &der, &n) != 0)
		return -1;
	return ca_verify_device_cert(m->ca_der, m->ca_len, der, n, 0, user,
				     device_id) == 0
		       ? 0
		       : -1;
}

/* ---- the device's signer ---- */

static int der_of(X509 *cert, uint8_t **der, size_t *len)
{
	unsigned char *p = NULL;
	int n = i2d_X509(cert, &p);

	if (n <= 0)
		return BULWARK_ERR_DEVICE_DAMAGED;
	*der = p;
	*len = (size_t)n;
	return 0;
}

static int make_signer(struct member_ctx *m, const struct bulwark_device *d)
{
	uint8_t priv[CA_KEY_RAW_MAX], *cert = NULL;
	size_t priv_len = 0, cert_len = 0;
	struct mls_credential *cred = NULL;
	const uint8_t *certs[1];
	int rc;

	rc = BULWARK_ERR_KS_CRYPTO;
	if (ca_device_key_raw(d->key, priv, &priv_len) != 0 ||
	    (rc = der_of(d->cert, &cert, &cert_len)) != 0)
		goto out;
	certs[0] = cert;
	if ((rc = mls_credential_new_x509(certs, &cert_len, 1, &cred)) != 0 ||
	    (rc = mls_signer_new(m->suite, priv, priv_len, &m->signer)) != 0 ||
	    (rc = mls_signer_set_credential(m->signer, cred)) != 0)
		goto out;
out:
	OPENSSL_cleanse(priv, sizeof(priv));
	OPENSSL_free(cert);
	mls_credential_free(cred);
	return rc;
}

int member_init(struct member_ctx *m, const struct bulwark_device *d)
{
	const struct bulwark_device_info *i = bulwark_device_info(d);
	int rc;

	memset(m, 0, sizeof(*m));
	m->suite = (uint16_t)i->mls_suite;
	snprintf(m->server_name, sizeof(m->server_name), "%s", i->server_name);
	m->cfg.accept_credential = accept_credential;
	m->cfg.accept_arg = m;
	m->cfg.padding_block = PADDING_BLOCK;
	if ((rc = der_of(d->ca, &m->ca_der, &m->ca_len)) != 0 ||
	    (rc = make_signer(m, d)) != 0)
		member_clear(m);
	return rc;
}

void member_clear(struct member_ctx *m)
{
	mls_signer_free(m->signer);
	OPENSSL_free(m->ca_der);
	memset(m, 0, sizeof(*m));
}

/* ---- identities ---- */

int member_identity(const struct mls_credential *c,
		    char user[BULWARK_MAX_NAME + 1],
		    char device_id[BULWARK_MAX_NAME + 1])
{
	const uint8_t *der;
	size_t n;

	if (mls_credential_n_certificates(c) < 1 ||
	    mls_credential_certificate(c, 0, &der, &n) != 0 ||
	    ca_device_identity(der, n, user, device_id) != 0)
		return BULWARK_ERR_MESSAGE_INVALID;
	return 0;
}

int member_leaf_identity(const struct mls_group *g, uint32_t leaf,
			 char user[BULWARK_MAX_NAME + 1],
			 char device_id[BULWARK_MAX_NAME + 1])
{
	struct mls_member mb;
	int rc;

	if ((rc = mls_group_member(g, leaf, &mb)) != 0)
		return rc;
	return member_identity(mb.credential, user, device_id);
}

/* RFC 9420 §6 and §10: MLSMessage { version; wire_format = key_package;
 * KeyPackage { version; cipher_suite; init_key<V>; LeafNode {
 * encryption_key<V>; signature_key<V>; Credential { credential_type = x509;
 * certificates<V> } ... } } }: the first certificate is the device's. */
#define WIRE_KEY_PACKAGE 5
#define CREDENTIAL_X509 2

int member_key_package_identity(const uint8_t *kp, size_t len,
				char user[BULWARK_MAX_NAME + 1],
				char device_id[BULWARK_MAX_NAME + 1])
{
	const uint8_t *skip, *cert = NULL;
	size_t skip_len, cert_len = 0;
	uint16_t version, wire, kp_version, suite, type;
	struct bw_reader r, certs;

	bw_reader_init(&r, kp, len);
	bw_read_u16(&r, &version);
	bw_read_u16(&r, &wire);
	bw_read_u16(&r, &kp_version);
	bw_read_u16(&r, &suite);
	for (int i = 0; i < 3; i++) /* init, encryption and signature keys */
		bw_read_opaque(&r, len, &skip, &skip_len);
	bw_read_u16(&r, &type);
	if (r.err != 0 || wire != WIRE_KEY_PACKAGE || type != CREDENTIAL_X509 ||
	    bw_read_vector(&r, len, &certs) != 0 ||
	    bw_read_opaque(&certs, len, &cert, &cert_len) != 0 ||
	    ca_device_identity(cert, cert_len, user, device_id) != 0)
		return BULWARK_ERR_KEY_PACKAGE;
	return 0;
}

/* ---- the delivery service as external sender ---- */

/* The certificate chains to the CA alone (strict X.509, valid now). */
static bool chains_to(X509 *ca, X509 *cert)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	bool ok = store != NULL && ctx != NULL &&
		  X509_STORE_add_cert(store, ca) == 1 &&
		  X509_STORE_CTX_init(ctx, store, cert, NULL) == 1;

	if (ok) {
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
		ok = X509_verify_cert(ctx) == 1;
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

/* Exactly one bulwark: URI among its names, and it is want. */
static bool names_server(X509 *cert, const char *want)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name,
						NULL, NULL);
	int found = 0;
	bool match = false;

	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		const ASN1_IA5STRING *s;
		size_t n;

		if (gn->type != GEN_URI)
			continue;
		s = gn->d.uniformResourceIdentifier;
		n = (size_t)ASN1_STRING_length(s);
		if (n < 8 ||
		    memcmp(ASN1_STRING_get0_data(s), "bulwark:", 8) != 0)
			continue;
		found++;
		match = n == strlen(want) &&
			memcmp(ASN1_STRING_get0_data(s), want, n) == 0;
	}
	GENERAL_NAMES_free(names);
	return found == 1 && match;
}

/* The certificate's public key in the suite's wire format is sig_key. */
static bool carries_key(X509 *cert, const struct proto_span *sig_key)
{
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	uint8_t raw[CA_KEY_RAW_MAX * 2];
	size_t n = sizeof(raw);

	if (pk == NULL)
		return false;
	if (EVP_PKEY_is_a(pk, "ED25519")) {
		if (EVP_PKEY_get_raw_public_key(pk, raw, &n) != 1)
			return false;
	} else if (EVP_PKEY_get_octet_string_param(
			   pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, raw,
			   sizeof(raw), &n) != 1) {
		return false;
	}
	return n == sig_key->n && memcmp(raw, sig_key->p, n) == 0;
}

static int check_ds_certificate(const struct member_ctx *m,
				const struct proto_span *der,
				const struct proto_span *sig_key)
{
	char want[sizeof(SERVER_URI_PREFIX) + BULWARK_MAX_SERVER_NAME];
	X509 *ca = NULL, *cert = NULL;
	int rc = BULWARK_ERR_DS_CREDENTIAL;

	snprintf(want, sizeof(want), SERVER_URI_PREFIX "%s", m->server_name);
	if (ca_cert_from_der(m->ca_der, m->ca_len, &ca) == 0 &&
	    ca_cert_from_der(der->p, der->n, &cert) == 0 &&
	    chains_to(ca, cert) && names_server(cert, want) &&
	    carries_key(cert, sig_key))
		rc = 0;
	X509_free(cert);
	X509_free(ca);
	ERR_clear_error();
	return rc;
}

int member_ds_extensions(const struct member_ctx *m,
			 const struct proto_server_info *info,
			 struct mls_extensions **out)
{
	struct proto_span certs[MAX_DS_CERTS];
	const uint8_t *der[MAX_DS_CERTS];
	size_t lens[MAX_DS_CERTS], n = 0;
	struct mls_credential *cred = NULL;
	struct mls_extensions *ext = NULL;
	int rc;

	*out = NULL;
	if (info->mls_suite != m->suite ||
	    proto_decode_x509_credential(&info->ds_credential, certs,
					 MAX_DS_CERTS, &n) != 0 ||
	    n == 0)
		return BULWARK_ERR_DS_CREDENTIAL;
	if ((rc = check_ds_certificate(m, &certs[0],
				       &info->ds_signature_key)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		der[i] = certs[i].p;
		lens[i] = certs[i].n;
	}
	if ((rc = mls_credential_new_x509(der, lens, n, &cred)) != 0 ||
	    (rc = mls_extensions_new(&ext)) != 0 ||
	    (rc = mls_extensions_add_external_sender(
		     ext, info->ds_signature_key.p, info->ds_signature_key.n,
		     cred)) != 0)
		goto out;
	*out = ext;
	ext = NULL; /* transferred */
out:
	mls_extensions_free(ext);
	mls_credential_free(cred);
	return rc;
}

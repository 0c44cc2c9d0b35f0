/* ds_key.c - the delivery service's key and certificate files (ds_key.h). */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "ds_key.h"
#include "errors.h"

#define PRIV_LEN 32 /* an Ed25519 seed or a P-256 scalar */
#define KEY_FILE_MAX 4096

static bool ed25519_suite(int suite)
{
	return suite == 1 || suite == 3;
}

static EVP_PKEY *generate(int suite)
{
	if (ed25519_suite(suite))
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (suite == 2)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return NULL;
}

static int spki_of(EVP_PKEY *key, struct bw_bytes *spki)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key, &der);
	int rc;

	if (n <= 0)
		return BWD_ERR_DS_KEY;
	rc = bw_bytes_set(spki, der, (size_t)n);
	OPENSSL_free(der);
	return rc;
}

/* The directory of path, created 0700 when missing. */
static int make_parent(const char *path)
{
	char copy[PATH_MAX];
	struct stat st;
	const char *dir;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return BW_ERR_TOO_LONG;
	dir = dirname(copy);
	if (mkdir(dir, 0700) == 0 || (errno == EEXIST && stat(dir, &st) == 0 &&
				       S_ISDIR(st.st_mode)))
		return 0;
	return BW_ERR_IO;
}

int ds_key_create(int suite, const char *path, struct bw_bytes *spki)
{
	EVP_PKEY *key = generate(suite);
	BIO *mem = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long n = 0;
	int rc = BWD_ERR_DS_KEY;

	if (key == NULL || mem == NULL ||
	    !PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL) ||
	    (n = BIO_get_mem_data(mem, &pem)) <= 0)
		goto out;
	if ((rc = make_parent(path)) != 0 ||
	    (rc = ca_file_create(path, 0600, pem, (size_t)n)) != 0)
		goto out;
	if ((rc = spki_of(key, spki)) != 0)
		unlink(path);
out:
	if (pem != NULL)
		OPENSSL_cleanse(pem, (size_t)n);
	BIO_free(mem);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return rc;
}

/* The raw private key in MLS's format. */
static int raw_private(int suite, EVP_PKEY *key, struct bw_bytes *priv)
{
	size_t len = PRIV_LEN;
	BIGNUM *d = NULL;
	int rc = BWD_ERR_DS_KEY;

	if (bw_bytes_alloc(priv, PRIV_LEN) != 0)
		return BW_ERR_NOMEM;
	if (ed25519_suite(suite)) {
		if (EVP_PKEY_is_a(key, "ED25519") &&
		    EVP_PKEY_get_raw_private_key(key, priv->p, &len) == 1 &&
		    len == PRIV_LEN)
			rc = 0;
	} else if (EVP_PKEY_is_a(key, "EC") &&
		   EVP_PKEY_get_bits(key) == 256 &&
		   EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) ==
			   1 &&
		   BN_bn2binpad(d, priv->p, PRIV_LEN) == PRIV_LEN) {
		rc = 0;
	}
	BN_clear_free(d);
	if (rc != 0)
		bw_bytes_clear(priv);
	return rc;
}

int ds_key_load(int suite, const char *path, struct bw_bytes *priv,
		struct bw_bytes *spki)
{
	struct bw_bytes file = { 0 };
	EVP_PKEY *key = NULL;
	BIO *mem = NULL;
	mode_t mode = 0;
	int rc;

	if (access(path, F_OK) != 0)
		return BWD_ERR_NOT_FOUND;
	if ((rc = ca_file_read(path, KEY_FILE_MAX, &file, &mode)) != 0)
		return rc;
	rc = BWD_ERR_DS_KEY;
	if ((mode & 077) != 0 ||
	    (mem = BIO_new_mem_buf(file.p, (int)file.len)) == NULL ||
	    (key = PEM_read_bio_PrivateKey(mem, NULL, NULL, NULL)) == NULL)
		goto out;
	if ((rc = raw_private(suite, key, priv)) == 0 &&
	    (rc = spki_of(key, spki)) != 0)
		bw_bytes_clear(priv);
out:
	EVP_PKEY_free(key);
	BIO_free(mem);
	bw_bytes_clear(&file);
	ERR_clear_error();
	return rc;
}

int ds_cert_save(const char *path, const uint8_t *der, size_t len)
{
	char tmp[PATH_MAX];
	X509 *cert = NULL;
	BIO *mem = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long n = 0;
	int rc = BWD_ERR_DS_KEY;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		rc = BW_ERR_TOO_LONG;
	else if (mem != NULL && ca_cert_from_der(der, len, &cert) == 0 &&
		 PEM_write_bio_X509(mem, cert) &&
		 (n = BIO_get_mem_data(mem, &pem)) > 0 &&
		 make_parent(path) == 0) {
		/* Written aside, then renamed over: never half a file. */
		unlink(tmp);
		if ((rc = ca_file_create(tmp, 0644, pem, (size_t)n)) == 0 &&
		    rename(tmp, path) != 0) {
			unlink(tmp);
			rc = BW_ERR_IO;
		}
	}
	X509_free(cert);
	BIO_free(mem);
	ERR_clear_error();
	return rc;
}

/* The certificate's subjectAltName holds exactly the expected URI. */
static bool names_server(X509 *cert, const char *server_name)
{
	char uri[sizeof(CA_DS_URI_PREFIX) + CA_SERVER_NAME_MAX];
	GENERAL_NAMES *names =
		X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	bool found = false;
	int n;

	snprintf(uri, sizeof(uri), "%s%s", CA_DS_URI_PREFIX, server_name);
	n = strlen(uri) > INT_MAX ? 0 : (int)strlen(uri);
	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const ASN1_IA5STRING *v = g->d.uniformResourceIdentifier;

		if (g->type == GEN_URI && ASN1_STRING_length(v) == n &&
		    memcmp(ASN1_STRING_get0_data(v), uri, (size_t)n) == 0)
			found = true;
	}
	GENERAL_NAMES_free(names);
	return found;
}

/* Signed by the CA, and valid now and DS_CERT_RENEW_DAYS from now. */
static bool chains(X509 *cert, X509 *ca)
{
	time_t later = time(NULL) + (time_t)DS_CERT_RENEW_DAYS * 86400;
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	bool ok = false;

	if (store != NULL && ctx != NULL && X509_STORE_add_cert(store, ca) &&
	    X509_STORE_CTX_init(ctx, store, cert, NULL))
		ok = X509_verify_cert(ctx) == 1 &&
		     X509_cmp_time(X509_get0_notAfter(cert), &later) > 0;
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

int ds_cert_check(const char *path, const uint8_t *ca_der, size_t ca_len,
		  const char *server_name, const struct bw_bytes *spki,
		  struct bw_bytes *der)
{
	struct bw_bytes key = { 0 };
	X509 *cert = NULL, *ca = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (access(path, F_OK) != 0)
		return BWD_ERR_NOT_FOUND;
	if ((rc = ca_cert_file_read(path, &buf, &len)) != 0 ||
	    (rc = ca_cert_from_der(buf, len, &cert)) != 0 ||
	    (rc = ca_cert_from_der(ca_der, ca_len, &ca)) != 0)
		goto out;
	rc = BWD_ERR_DS_KEY;
	if (!chains(cert, ca) || !names_server(cert, server_name) ||
	    spki_of(X509_get0_pubkey(cert), &key) != 0 ||
	    !bw_bytes_eq(&key, spki->p, spki->len))
		goto out;
	rc = bw_bytes_set(der, buf, len);
out:
	bw_bytes_clear(&key);
	free(buf);
	X509_free(cert);
	X509_free(ca);
	ERR_clear_error();
	return rc;
}

/* test_ds_key.c - the delivery service's signature key and certificate:
 * the key file (created 0600, refused when others may read it or it is of
 * the wrong type), the certificate issued through the CA monitor's
 * ISSUE_DS_CERT request (its profile, and what the monitor refuses), and
 * the checks bulwarkd makes at start before it keeps a certificate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "ca.h"
#include "ds_key.h"
#include "errors.h"
#include "mls/mls.h"
#include "privsep.h"
#include "test.h"

static char dir[] = "/tmp/bw-test-ds-key-XXXXXX";
static char key_path[128], cert_path[128], pass_path[128];
static char ds_key_path[128], ds_cert_path[128];
static uint8_t *ca_der;
static size_t ca_len;

static bool set_up(void)
{
	struct bw_bytes pass = { 0 };
	struct ca *ca = NULL;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(key_path, sizeof(key_path), "%s/ca.key", dir);
	snprintf(cert_path, sizeof(cert_path), "%s/ca.crt", dir);
	snprintf(pass_path, sizeof(pass_path), "%s/passphrase", dir);
	snprintf(ds_key_path, sizeof(ds_key_path), "%s/ds/ds.key", dir);
	snprintf(ds_cert_path, sizeof(ds_cert_path), "%s/ds/ds.crt", dir);
	CHECK(ca_passphrase_generate(pass_path, &pass) == 0);
	CHECK(ca_generate("DS Key Org", 1, 3650, &ca) == 0);
	CHECK(ca_save(ca, key_path, cert_path, &pass) == 0);
	CHECK(ca_cert_der(ca, &ca_der, &ca_len) == 0);
	bw_bytes_clear(&pass);
	ca_free(ca);
	setenv(PRIVSEP_MONITOR_ENV, BW_CA_MONITOR_PATH, 1);
	return true;
}

static bool test_key_file(void)
{
	struct bw_bytes spki = { 0 }, priv = { 0 }, spki2 = { 0 };
	struct stat st;

	CHECK(ds_key_create(1, ds_key_path, &spki) == 0);
	CHECK(stat(ds_key_path, &st) == 0 && (st.st_mode & 0777) == 0600);
	/* Never over an existing key. */
	CHECK(ds_key_create(1, ds_key_path, &spki2) != 0);
	CHECK(ds_key_load(1, ds_key_path, &priv, &spki2) == 0);
	CHECK_EQ_INT(priv.len, 32);
	CHECK(bw_bytes_eq(&spki2, spki.p, spki.len));
	bw_bytes_clear(&priv);
	bw_bytes_clear(&spki2);
	/* An Ed25519 key is not the P-256 of suite 2. */
	CHECK_EQ_INT(ds_key_load(2, ds_key_path, &priv, &spki2),
		     BWD_ERR_DS_KEY);
	/* Readable by others: refused. */
	CHECK(chmod(ds_key_path, 0644) == 0);
	CHECK_EQ_INT(ds_key_load(1, ds_key_path, &priv, &spki2),
		     BWD_ERR_DS_KEY);
	CHECK(chmod(ds_key_path, 0600) == 0);
	CHECK_EQ_INT(ds_key_load(1, "/nonexistent/ds.key", &priv, &spki2),
		     BWD_ERR_NOT_FOUND);
	bw_bytes_clear(&spki);
	return true;
}

/* The subjectAltName URI and the absence of an extended key usage. */
static bool profile_ok(const uint8_t *der, size_t len)
{
	const uint8_t *p = der;
	X509 *cert = d2i_X509(NULL, &p, (long)len);
	GENERAL_NAMES *names;
	const GENERAL_NAME *g;
	bool ok;

	CHECK(cert != NULL);
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	CHECK(names != NULL && sk_GENERAL_NAME_num(names) == 1);
	g = sk_GENERAL_NAME_value(names, 0);
	ok = g->type == GEN_URI &&
	     strcmp((const char *)ASN1_STRING_get0_data(
			    g->d.uniformResourceIdentifier),
		    "bulwark:server/chat.example.org") == 0 &&
	     X509_get_ext_by_NID(cert, NID_ext_key_usage, -1) < 0 &&
	     (X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE) != 0;
	GENERAL_NAMES_free(names);
	X509_free(cert);
	return ok;
}

static bool test_certificate(void)
{
	struct bw_bytes spki = { 0 }, priv = { 0 }, der = { 0 };
	struct mls_credential *cred = NULL;
	struct mls_signer *signer = NULL;
	struct privsep *ps = NULL;
	uint8_t *cert = NULL, *p256 = NULL;
	size_t len = 0;
	EVP_PKEY *k;
	int n, rc;

	CHECK(ds_key_load(1, ds_key_path, &priv, &spki) == 0);
	rc = privsep_start(key_path, cert_path, pass_path, &ps);
	if (rc != 0)
		fprintf(stderr, "privsep_start: %s\n", ca_strerror(rc));
	CHECK_EQ_INT(rc, 0);
	/* What the monitor refuses: a name that is not a server's, a key of
	 * another type, bytes that are not a key. */
	CHECK_EQ_INT(privsep_issue_ds_cert(ps, "not a name!", spki.p, spki.len,
					   &cert, &len),
		     CA_ERR_SERVER_NAME);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	CHECK(k != NULL && (n = i2d_PUBKEY(k, &p256)) > 0);
	CHECK_EQ_INT(privsep_issue_ds_cert(ps, "chat.example.org", p256,
					   (size_t)n, &cert, &len),
		     CA_ERR_KEY_TYPE);
	CHECK(privsep_issue_ds_cert(ps, "chat.example.org",
				    (const uint8_t *)"junk", 4, &cert,
				    &len) != 0);
	/* And what it issues. */
	CHECK(privsep_issue_ds_cert(ps, "chat.example.org", spki.p, spki.len,
				    &cert, &len) == 0);
	CHECK(profile_ok(cert, len));
	CHECK(ds_cert_save(ds_cert_path, cert, len) == 0);
	/* bulwarkd keeps it only for this key, this name, this CA. */
	CHECK(ds_cert_check(ds_cert_path, ca_der, ca_len, "chat.example.org",
			    &spki, &der) == 0);
	CHECK(bw_bytes_eq(&der, cert, len));
	bw_bytes_clear(&der);
	CHECK_EQ_INT(ds_cert_check(ds_cert_path, ca_der, ca_len,
				   "other.example.org", &spki, &der),
		     BWD_ERR_DS_KEY);
	{
		struct bw_bytes other = { p256, (size_t)n };

		CHECK_EQ_INT(ds_cert_check(ds_cert_path, ca_der, ca_len,
					   "chat.example.org", &other, &der),
			     BWD_ERR_DS_KEY);
	}
	CHECK_EQ_INT(ds_cert_check("/nonexistent/ds.crt", ca_der, ca_len,
				   "chat.example.org", &spki, &der),
		     BWD_ERR_NOT_FOUND);
	/* The key signs MLS with the certificate as its credential. */
	CHECK(mls_signer_new(1, priv.p, priv.len, &signer) == 0);
	CHECK(mls_credential_new_x509((const uint8_t *const *)&cert, &len, 1,
				      &cred) == 0);
	CHECK(mls_signer_set_credential(signer, cred) == 0);
	mls_credential_free(cred);
	mls_signer_free(signer);
	privsep_stop(ps);
	free(cert);
	OPENSSL_free(p256);
	EVP_PKEY_free(k);
	bw_bytes_clear(&priv);
	bw_bytes_clear(&spki);
	return true;
}

int main(void)
{
	int failed = 0;
	char path[200];

	if (!set_up())
		return 1;
	RUN(test_key_file, &failed);
	RUN(test_certificate, &failed);
	unlink(ds_key_path);
	unlink(ds_cert_path);
	snprintf(path, sizeof(path), "%s/ds", dir);
	rmdir(path);
	unlink(key_path);
	unlink(cert_path);
	unlink(pass_path);
	rmdir(dir);
	OPENSSL_free(ca_der);
	return failed == 0 ? 0 : 1;
}

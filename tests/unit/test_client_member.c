/* test_client_member.c - the device as an MLS client (lib/client/member.c):
 * the organisation's authentication service accepts only device
 * certificates from its own CA; the delivery service's credential must
 * chain to the CA, name this server and carry its key; a KeyPackage's
 * identity is read from its certificate. A CA made here (server/ca)
 * issues the certificates. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ca.h"
#include "codec.h"
#include "device.h"
#include "member.h"
#include "test.h"

static struct ca *org, *other;

/* A device of org (or of another CA) with a fresh key. */
static bool make_device(struct ca *ca, const char *user, const char *id,
			struct bulwark_device *d)
{
	uint8_t *spki = NULL, *der = NULL, *ca_der = NULL;
	const uint8_t *p;
	size_t der_len = 0, ca_len = 0;
	int spki_len;

	memset(d, 0, sizeof(*d));
	CHECK(device_keygen(1, &d->key) == 0);
	CHECK((spki_len = i2d_PUBKEY(d->key, &spki)) > 0);
	CHECK(ca_issue_device_cert(ca, user, id, spki, (size_t)spki_len, 30,
				   &der, &der_len) == 0);
	p = der;
	CHECK((d->cert = d2i_X509(NULL, &p, (long)der_len)) != NULL);
	CHECK(ca_cert_der(org, &ca_der, &ca_len) == 0); /* pins org's CA */
	p = ca_der;
	CHECK((d->ca = d2i_X509(NULL, &p, (long)ca_len)) != NULL);
	d->info.mls_suite = 1;
	snprintf(d->info.server_name, sizeof(d->info.server_name),
		 "localhost");
	snprintf(d->info.user, sizeof(d->info.user), "%s", user);
	OPENSSL_free(spki);
	free(der);
	free(ca_der);
	return true;
}

static void device_clear(struct bulwark_device *d)
{
	EVP_PKEY_free(d->key);
	X509_free(d->cert);
	X509_free(d->ca);
	memset(d, 0, sizeof(*d));
}

static bool key_package_of(struct member_ctx *m, struct bw_bytes *out)
{
	struct mls_key_package_bundle *b = NULL;

	CHECK(mls_key_package_bundle_new(&m->cfg, m->signer, &b) == 0);
	CHECK(mls_key_package_bundle_message(b, &out->p, &out->len) == 0);
	mls_key_package_bundle_free(b);
	return true;
}

static bool test_key_package_identity(void)
{
	struct bulwark_device d;
	struct member_ctx m;
	struct bw_bytes kp = { 0 };
	char user[BULWARK_MAX_NAME + 1], dev[BULWARK_MAX_NAME + 1];

	CHECK(make_device(org, "bob", "d-1", &d));
	CHECK(member_init(&m, &d) == 0);
	CHECK(key_package_of(&m, &kp));
	CHECK(member_key_package_identity(kp.p, kp.len, user, dev) == 0);
	CHECK(strcmp(user, "bob") == 0 && strcmp(dev, "d-1") == 0);
	/* Cut short anywhere before the certificate, or not a KeyPackage. */
	for (size_t n = 0; n < 200 && n < kp.len; n++)
		CHECK_EQ_INT(member_key_package_identity(kp.p, n, user, dev),
			     BULWARK_ERR_KEY_PACKAGE);
	kp.p[3] = 3; /* wire format: a Welcome */
	CHECK_EQ_INT(member_key_package_identity(kp.p, kp.len, user, dev),
		     BULWARK_ERR_KEY_PACKAGE);
	bw_bytes_clear(&kp);
	member_clear(&m);
	device_clear(&d);
	return true;
}

/* The credential of a device, as members receive it in a leaf. */
static int accepts(struct member_ctx *m, struct bulwark_device *d)
{
	struct mls_credential *cred = NULL;
	uint8_t *der = NULL;
	size_t len;
	int n = i2d_X509(d->cert, &der), rc;
	const uint8_t *certs[1] = { der };

	len = (size_t)n;
	rc = mls_credential_new_x509(certs, &len, 1, &cred);
	if (rc == 0)
		rc = m->cfg.accept_credential(m->cfg.accept_arg, cred, NULL, 0);
	mls_credential_free(cred);
	OPENSSL_free(der);
	return rc;
}

static bool test_authentication_service(void)
{
	struct bulwark_device me, carol, stranger;
	struct member_ctx m;
	struct mls_credential *basic = NULL;

	CHECK(make_device(org, "alice", "d-2", &me));
	CHECK(make_device(org, "carol", "d-3", &carol));
	CHECK(make_device(other, "mallory", "d-4", &stranger));
	CHECK(member_init(&m, &me) == 0);
	CHECK(accepts(&m, &carol) == 0);
	CHECK(accepts(&m, &stranger) != 0); /* another organisation's CA */
	CHECK(mls_credential_new_basic("carol", 5, &basic) == 0);
	CHECK(m.cfg.accept_credential(m.cfg.accept_arg, basic, NULL, 0) != 0);
	mls_credential_free(basic);
	member_clear(&m);
	device_clear(&me);
	device_clear(&carol);
	device_clear(&stranger);
	return true;
}

/* SERVER_INFO as a server of ca would send it. */
struct ds {
	EVP_PKEY *key;
	uint8_t raw[32];
	size_t raw_len;
	struct bw_writer cred;
};

static bool make_ds(struct ca *ca, const char *server_name, struct ds *ds)
{
	uint8_t *spki = NULL, *der = NULL;
	size_t der_len = 0;
	int spki_len;
	struct proto_span cert;

	memset(ds, 0, sizeof(*ds));
	CHECK(device_keygen(1, &ds->key) == 0);
	ds->raw_len = sizeof(ds->raw);
	CHECK(EVP_PKEY_get_raw_public_key(ds->key, ds->raw, &ds->raw_len) == 1);
	CHECK((spki_len = i2d_PUBKEY(ds->key, &spki)) > 0);
	CHECK(ca_issue_ds_cert(ca, server_name, spki, (size_t)spki_len, 30,
			       &der, &der_len) == 0);
	cert = (struct proto_span){ der, der_len };
	bw_writer_init(&ds->cred, 0);
	CHECK(proto_encode_x509_credential(&ds->cred, &cert, 1) == 0);
	OPENSSL_free(spki);
	free(der);
	return true;
}

static void ds_clear(struct ds *ds)
{
	EVP_PKEY_free(ds->key);
	bw_writer_free(&ds->cred);
}

static int ds_check(const struct member_ctx *m, const struct ds *ds,
		    uint16_t suite, const uint8_t *key, size_t key_len)
{
	struct proto_server_info info = {
		suite, { key, key_len }, { ds->cred.buf, ds->cred.len },
	};
	struct mls_extensions *ext = NULL;
	int rc = member_ds_extensions(m, &info, &ext);

	mls_extensions_free(ext);
	return rc;
}

static bool test_delivery_service_credential(void)
{
	struct bulwark_device me;
	struct member_ctx m;
	struct ds good, elsewhere, foreign;

	CHECK(make_device(org, "alice", "d-5", &me));
	CHECK(member_init(&m, &me) == 0);
	CHECK(make_ds(org, "localhost", &good));
	CHECK(make_ds(org, "other.example.org", &elsewhere));
	CHECK(make_ds(other, "localhost", &foreign));
	CHECK(ds_check(&m, &good, 1, good.raw, good.raw_len) == 0);
	CHECK_EQ_INT(ds_check(&m, &elsewhere, 1, elsewhere.raw,
			      elsewhere.raw_len),
		     BULWARK_ERR_DS_CREDENTIAL);
	CHECK_EQ_INT(ds_check(&m, &foreign, 1, foreign.raw, foreign.raw_len),
		     BULWARK_ERR_DS_CREDENTIAL);
	/* Another key than the certificate's; another suite. */
	CHECK_EQ_INT(ds_check(&m, &good, 1, foreign.raw, foreign.raw_len),
		     BULWARK_ERR_DS_CREDENTIAL);
	CHECK_EQ_INT(ds_check(&m, &good, 3, good.raw, good.raw_len),
		     BULWARK_ERR_DS_CREDENTIAL);
	ds_clear(&good);
	ds_clear(&elsewhere);
	ds_clear(&foreign);
	member_clear(&m);
	device_clear(&me);
	return true;
}

int main(void)
{
	int failed = 0;

	if (ca_generate("Test Org", 1, 365, &org) != 0 ||
	    ca_generate("Other Org", 1, 365, &other) != 0)
		return 1;
	RUN(test_key_package_identity, &failed);
	RUN(test_authentication_service, &failed);
	RUN(test_delivery_service_credential, &failed);
	ca_free(org);
	ca_free(other);
	return failed ? 1 : 0;
}

/* test_ca.c - the organisation's CA: creation and its certificate profile,
 * the encrypted key at rest, device and server certificates, strict input
 * validation, the device URI, fingerprints and chain verification. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "test.h"

static char dir[] = "/tmp/bw-test-ca-XXXXXX";
static char path_buf[8][512];

/* A path inside the test directory; eight rotating buffers. */
static const char *tpath(const char *name)
{
	static unsigned next;
	char *p = path_buf[next++ % 8];

	snprintf(p, sizeof(path_buf[0]), "%s/%s", dir, name);
	return p;
}

static const struct bw_bytes *pass_of(const char *text)
{
	static struct bw_bytes b;

	b.p = (uint8_t *)(uintptr_t)text;
	b.len = strlen(text);
	return &b;
}

static bool write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return false;
	fputs(text, f);
	fclose(f);
	return chmod(path, mode) == 0;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (st.st_mode & 07777) : (mode_t)-1;
}

/* SubjectPublicKeyInfo of a fresh key; format applies to EC keys. */
static bool spki_of(EVP_PKEY *key, const char *format, uint8_t **der,
		    size_t *len)
{
	unsigned char *p = NULL;
	int n;

	if (key == NULL)
		return false;
	if (format != NULL)
		EVP_PKEY_set_utf8_string_param(
			key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
			format);
	n = i2d_PUBKEY(key, &p);
	EVP_PKEY_free(key);
	if (n <= 0)
		return false;
	*der = malloc((size_t)n);
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(p);
	return true;
}

/* A fresh key: EC takes a group, RSA a size, the others nothing. */
static EVP_PKEY *key_new(const char *type, const char *group)
{
	if (group != NULL)
		return EVP_PKEY_Q_keygen(NULL, NULL, type, group);
	if (strcmp(type, "RSA") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, type, (size_t)2048);
	return EVP_PKEY_Q_keygen(NULL, NULL, type);
}

static bool spki_new(const char *type, const char *group, uint8_t **der,
		     size_t *len)
{
	return spki_of(key_new(type, group), NULL, der, len);
}

static X509 *x509_of(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;

	return d2i_X509(NULL, &p, (long)len);
}

static int ext_critical(X509 *cert, int nid)
{
	int idx = X509_get_ext_by_NID(cert, nid, -1);

	if (idx < 0)
		return -1;
	return X509_EXTENSION_get_critical(X509_get_ext(cert, idx));
}

static long days_between(const ASN1_TIME *from, const ASN1_TIME *to)
{
	int days = 0, secs = 0;

	ASN1_TIME_diff(&days, &secs, from, to);
	return days;
}

static bool test_names(void)
{
	CHECK(ca_name_valid("alice"));
	CHECK(ca_name_valid("a.b_c-9"));
	CHECK(ca_name_valid("0laptop"));
	CHECK(!ca_name_valid(""));
	CHECK(!ca_name_valid("Alice"));
	CHECK(!ca_name_valid(".alice"));
	CHECK(!ca_name_valid("-alice"));
	CHECK(!ca_name_valid("al/ice"));
	CHECK(!ca_name_valid("al ice"));
	CHECK(!ca_name_valid("al@ice"));
	CHECK(!ca_name_valid("caf\xc3\xa9"));
	CHECK(ca_name_valid("a234567890123456789012345678901234567890"
			    "123456789012345678901234"));  /* 64 */
	CHECK(!ca_name_valid("a234567890123456789012345678901234567890"
			     "1234567890123456789012345")); /* 65 */
	CHECK(ca_org_name_valid("Acme Corp."));
	CHECK(!ca_org_name_valid(" Acme"));
	CHECK(!ca_org_name_valid("Acme\n"));
	CHECK(!ca_org_name_valid(""));
	CHECK(!ca_org_name_valid(
		"An organisation name much longer than fifty-three chars"));
	CHECK(ca_server_name_valid("localhost"));
	CHECK(ca_server_name_valid("chat.example.org"));
	CHECK(ca_server_name_valid("192.0.2.7"));
	CHECK(ca_server_name_valid("2001:db8::1"));
	CHECK(!ca_server_name_valid("-bad.example"));
	CHECK(!ca_server_name_valid("bad..example"));
	CHECK(!ca_server_name_valid("bad_name.example"));
	CHECK(!ca_server_name_valid("example.org."));
	CHECK(!ca_server_name_valid(""));
	return true;
}

static bool uri_rejected(const char *uri)
{
	char user[CA_NAME_MAX + 1], dev[CA_NAME_MAX + 1];

	return ca_device_uri_parse(uri, strlen(uri), user, dev) ==
	       CA_ERR_DEVICE_URI;
}

static bool test_device_uri(void)
{
	char uri[CA_DEVICE_URI_SIZE];
	char user[CA_NAME_MAX + 1], dev[CA_NAME_MAX + 1];
	static const char nul_inside[] = "bulwark:user/al\0ce/device/x";
	char long_user[CA_NAME_MAX + 2];

	CHECK(ca_device_uri_format("alice", "phone-1", uri) == 0);
	CHECK(strcmp(uri, "bulwark:user/alice/device/phone-1") == 0);
	CHECK(ca_device_uri_parse(uri, strlen(uri), user, dev) == 0);
	CHECK(strcmp(user, "alice") == 0 && strcmp(dev, "phone-1") == 0);
	memset(long_user, 'a', sizeof(long_user) - 1);
	long_user[sizeof(long_user) - 1] = '\0';
	CHECK_EQ_INT(ca_device_uri_format(long_user, "x", uri),
		     CA_ERR_USER_NAME);
	CHECK_EQ_INT(ca_device_uri_format("alice", "X", uri), CA_ERR_DEVICE_ID);
	CHECK(uri_rejected("bulwark:user/alice/device/"));
	CHECK(uri_rejected("bulwark:user//device/x"));
	CHECK(uri_rejected("bulwark:user/alice/device/x/y"));
	CHECK(uri_rejected("bulwark:user/alice/dev/x"));
	CHECK(uri_rejected("bulwark:user/alice"));
	CHECK(uri_rejected("bulwark:User/alice/device/x"));
	CHECK(uri_rejected("https://user/alice/device/x"));
	CHECK(uri_rejected("bulwark:user/Alice/device/x"));
	CHECK(uri_rejected(""));
	CHECK_EQ_INT(ca_device_uri_parse(nul_inside, sizeof(nul_inside) - 1,
					 user, dev),
		     CA_ERR_DEVICE_URI);
	return true;
}

/* A CA of suite `suite` saved under prefix (prefix.key, prefix.crt,
 * prefix.pass). */
static bool make_ca(const char *prefix, int suite, uint32_t days,
		    struct ca **out)
{
	char key[64], crt[64], pass[64];
	struct ca *ca;

	snprintf(key, sizeof(key), "%s.key", prefix);
	snprintf(crt, sizeof(crt), "%s.crt", prefix);
	snprintf(pass, sizeof(pass), "%s.pass", prefix);
	CHECK(ca_generate("Acme Corp.", suite, days, &ca) == 0);
	CHECK(write_text(tpath(pass), "correct horse battery\n", 0600));
	CHECK(ca_save(ca, tpath(key), tpath(crt),
		      pass_of("correct horse battery")) == 0);
	*out = ca;
	return true;
}

static bool test_ca_profile(void)
{
	struct ca *ca;
	uint8_t *der;
	size_t len;
	X509 *cert;
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	char cn[80], org[80];
	const ASN1_INTEGER *serial;
	int suite = 0;

	CHECK(ca_generate("Acme Corp.", 1, CA_DEFAULT_CA_DAYS, &ca) == 0);
	CHECK(ca_cert_der(ca, &der, &len) == 0);
	CHECK((cert = x509_of(der, len)) != NULL);
	CHECK(X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
					NID_commonName, cn, sizeof(cn)) > 0);
	CHECK(strcmp(cn, "Acme Corp. Bulwark CA") == 0);
	CHECK(X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
					NID_organizationName, org,
					sizeof(org)) > 0);
	CHECK(strcmp(org, "Acme Corp.") == 0);
	CHECK(X509_check_ca(cert) == 1);
	bc = X509_get_ext_d2i(cert, NID_basic_constraints, NULL, NULL);
	CHECK(bc != NULL && bc->ca && ASN1_INTEGER_get(bc->pathlen) == 0);
	BASIC_CONSTRAINTS_free(bc);
	CHECK_EQ_INT(ext_critical(cert, NID_basic_constraints), 1);
	ku = X509_get_ext_d2i(cert, NID_key_usage, NULL, NULL);
	/* keyCertSign (5) and cRLSign (6), not digitalSignature (0). */
	CHECK(ku != NULL && ASN1_BIT_STRING_get_bit(ku, 5) &&
	      ASN1_BIT_STRING_get_bit(ku, 6) &&
	      !ASN1_BIT_STRING_get_bit(ku, 0));
	ASN1_BIT_STRING_free(ku);
	CHECK_EQ_INT(ext_critical(cert, NID_key_usage), 1);
	CHECK(X509_get0_subject_key_id(cert) != NULL);
	CHECK(EVP_PKEY_is_a(X509_get0_pubkey(cert), "EC"));
	CHECK_EQ_INT(X509_get_signature_nid(cert), NID_ecdsa_with_SHA256);
	/* 20 years, plus the five minutes of clock-skew slack. */
	CHECK_EQ_INT(days_between(X509_get0_notBefore(cert),
				  X509_get0_notAfter(cert)),
		     CA_DEFAULT_CA_DAYS);
	serial = X509_get0_serialNumber(cert);
	/* 128 random bits: 17 bytes at most, with a sign octet. */
	CHECK(ASN1_STRING_length(serial) >= 8 &&
	      ASN1_STRING_length(serial) <= 17);
	CHECK(ca_cert_suite(der, len, &suite) == 0);
	CHECK_EQ_INT(suite, 1);
	CHECK(X509_verify(cert, X509_get0_pubkey(cert)) == 1);
	X509_free(cert);
	free(der);
	ca_free(ca);
	CHECK_EQ_INT(ca_generate("Acme", 4, 365, &ca), CA_ERR_SUITE);
	CHECK_EQ_INT(ca_generate("Acme\t", 1, 365, &ca), CA_ERR_ORG_NAME);
	CHECK_EQ_INT(ca_generate("Acme", 1, 0, &ca), CA_ERR_VALIDITY);
	CHECK(ca == NULL);
	return true;
}

/* The KDF named in an encrypted PKCS#8 key file. */
static int key_file_kdf(const char *path, long *iterations)
{
	FILE *f = fopen(path, "r");
	X509_SIG *p8;
	const X509_ALGOR *alg;
	PBE2PARAM *pbe2;
	int kdf_nid = NID_undef;

	if (f == NULL)
		return NID_undef;
	p8 = PEM_read_PKCS8(f, NULL, NULL, NULL);
	fclose(f);
	if (p8 == NULL)
		return NID_undef;
	X509_SIG_get0(p8, &alg, NULL);
	if (OBJ_obj2nid(alg->algorithm) == NID_pbes2 &&
	    (pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM),
					      alg->parameter)) != NULL) {
		kdf_nid = OBJ_obj2nid(pbe2->keyfunc->algorithm);
		if (kdf_nid == NID_id_pbkdf2) {
			PBKDF2PARAM *kdf = ASN1_TYPE_unpack_sequence(
				ASN1_ITEM_rptr(PBKDF2PARAM),
				pbe2->keyfunc->parameter);
			*iterations = ASN1_INTEGER_get(kdf->iter);
			PBKDF2PARAM_free(kdf);
		}
		if (OBJ_obj2nid(pbe2->encryption->algorithm) != NID_aes_256_cbc)
			kdf_nid = NID_undef;
		PBE2PARAM_free(pbe2);
	}
	X509_SIG_free(p8);
	return kdf_nid;
}

static bool test_key_at_rest(void)
{
	struct ca *ca, *loaded = NULL;
	uint8_t *a, *b;
	size_t alen, blen;
	long iterations = 0;

	CHECK(make_ca("s1", 1, 365, &ca));
	CHECK_EQ_INT(mode_of(tpath("s1.key")), 0600);
	CHECK_EQ_INT(mode_of(tpath("s1.crt")), 0644);
	CHECK_EQ_INT(key_file_kdf(tpath("s1.key"), &iterations), NID_id_scrypt);
	/* Never overwritten. */
	CHECK_EQ_INT(ca_save(ca, tpath("s1.key"), tpath("other.crt"),
			     pass_of("x")),
		     CA_ERR_EXISTS);
	CHECK(access(tpath("other.crt"), F_OK) != 0);
	CHECK_EQ_INT(ca_save(ca, tpath("other.key"), tpath("s1.crt"),
			     pass_of("x")),
		     CA_ERR_EXISTS);
	CHECK(access(tpath("other.key"), F_OK) != 0); /* all or nothing */

	CHECK(ca_load(tpath("s1.key"), tpath("s1.crt"), tpath("s1.pass"),
		      &loaded) == 0);
	CHECK_EQ_INT(ca_suite(loaded), 1);
	CHECK(ca_cert_der(ca, &a, &alen) == 0 &&
	      ca_cert_der(loaded, &b, &blen) == 0);
	CHECK_MEM(a, alen, b, blen);
	free(a);
	free(b);
	ca_free(loaded);
	loaded = NULL;

	CHECK(write_text(tpath("wrong.pass"), "correct horse battery!\n",
			 0600));
	CHECK_EQ_INT(ca_load(tpath("s1.key"), tpath("s1.crt"),
			     tpath("wrong.pass"), &loaded),
		     CA_ERR_PASSPHRASE);
	CHECK(write_text(tpath("open.pass"), "correct horse battery\n", 0644));
	CHECK_EQ_INT(ca_load(tpath("s1.key"), tpath("s1.crt"),
			     tpath("open.pass"), &loaded),
		     CA_ERR_PASSPHRASE_FILE);
	CHECK(write_text(tpath("empty.pass"), "\n", 0600));
	CHECK_EQ_INT(ca_load(tpath("s1.key"), tpath("s1.crt"),
			     tpath("empty.pass"), &loaded),
		     CA_ERR_PASSPHRASE_FILE);
	CHECK_EQ_INT(ca_load(tpath("s1.key"), tpath("s1.crt"),
			     tpath("missing.pass"), &loaded),
		     BW_ERR_IO);
	CHECK(loaded == NULL);
	ca_free(ca);

	/* Suite 2 keeps to FIPS-approved algorithms: PBKDF2, not scrypt. */
	CHECK(make_ca("s2", 2, 365, &ca));
	CHECK_EQ_INT(key_file_kdf(tpath("s2.key"), &iterations), NID_id_pbkdf2);
	CHECK(iterations >= 600000);
	/* A key that does not belong to the certificate. */
	CHECK_EQ_INT(ca_load(tpath("s2.key"), tpath("s1.crt"), tpath("s1.pass"),
			     &loaded),
		     CA_ERR_KEY_MISMATCH);
	CHECK(ca_load(tpath("s2.key"), tpath("s2.crt"), tpath("s2.pass"),
		      &loaded) == 0);
	CHECK_EQ_INT(ca_suite(loaded), 2);
	ca_free(loaded);
	ca_free(ca);
	return true;
}

static bool test_unencrypted_key_refused(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	FILE *f = fopen(tpath("plain.key"), "w");
	struct ca *ca = NULL;

	CHECK(k != NULL && f != NULL);
	CHECK(PEM_write_PKCS8PrivateKey(f, k, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	EVP_PKEY_free(k);
	CHECK_EQ_INT(ca_load(tpath("plain.key"), tpath("s1.crt"),
			     tpath("s1.pass"), &ca),
		     CA_ERR_PASSPHRASE);
	CHECK_EQ_INT(ca_load(tpath("s1.key"), tpath("s1.key"), tpath("s1.pass"),
			     &ca),
		     CA_ERR_CERT_PARSE);
	CHECK(ca == NULL);
	return true;
}

static bool test_passphrase_generate(void)
{
	struct bw_bytes gen = { 0 }, back = { 0 };

	CHECK(ca_passphrase_generate(tpath("gen.pass"), &gen) == 0);
	CHECK_EQ_INT(gen.len, 44);
	CHECK_EQ_INT(mode_of(tpath("gen.pass")), 0600);
	CHECK(ca_passphrase_read(tpath("gen.pass"), &back) == 0);
	CHECK(bw_bytes_eq(&gen, back.p, back.len));
	CHECK_EQ_INT(ca_passphrase_generate(tpath("gen.pass"), &back),
		     CA_ERR_EXISTS);
	bw_bytes_clear(&gen);
	bw_bytes_clear(&back);
	return true;
}

/* Issue a device certificate for a fresh key of (type, group). */
static int issue_for(const struct ca *ca, const char *type, const char *group,
		     const char *format)
{
	uint8_t *spki, *der = NULL;
	size_t len, der_len;
	int rc;

	if (!spki_of(key_new(type, group), format, &spki, &len))
		return -9999;
	rc = ca_issue_device_cert(ca, "alice", "phone", spki, len, 30, &der,
				  &der_len);
	free(spki);
	free(der);
	return rc;
}

static bool check_device_profile(const uint8_t *der, size_t len,
				 const uint8_t *spki, size_t spki_len)
{
	X509 *cert = x509_of(der, len);
	EXTENDED_KEY_USAGE *eku;
	ASN1_BIT_STRING *ku;
	BASIC_CONSTRAINTS *bc;
	unsigned char *pub = NULL;
	char cn[80], org[80];
	int n;

	CHECK(cert != NULL);
	CHECK(X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
					NID_commonName, cn, sizeof(cn)) > 0);
	CHECK(strcmp(cn, "phone-1") == 0);
	CHECK(X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
					NID_organizationName, org,
					sizeof(org)) > 0);
	CHECK(strcmp(org, "Acme Corp.") == 0);
	bc = X509_get_ext_d2i(cert, NID_basic_constraints, NULL, NULL);
	CHECK(bc != NULL && !bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	ku = X509_get_ext_d2i(cert, NID_key_usage, NULL, NULL);
	CHECK(ku != NULL && ASN1_BIT_STRING_get_bit(ku, 0) &&
	      !ASN1_BIT_STRING_get_bit(ku, 5));
	ASN1_BIT_STRING_free(ku);
	CHECK_EQ_INT(ext_critical(cert, NID_key_usage), 1);
	eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	CHECK(eku != NULL && sk_ASN1_OBJECT_num(eku) == 1 &&
	      OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) == NID_client_auth);
	EXTENDED_KEY_USAGE_free(eku);
	CHECK(X509_get0_subject_key_id(cert) != NULL);
	CHECK(X509_get0_authority_key_id(cert) != NULL);
	/* RFC 9420 §5.3: the certificate's key is the device's key, byte for
	 * byte. */
	n = i2d_PUBKEY(X509_get0_pubkey(cert), &pub);
	CHECK_MEM(pub, (size_t)n, spki, spki_len);
	OPENSSL_free(pub);
	CHECK_EQ_INT(days_between(X509_get0_notBefore(cert),
				  X509_get0_notAfter(cert)),
		     365);
	X509_free(cert);
	return true;
}

static bool test_device_cert(void)
{
	struct ca *ca;
	uint8_t *spki, *der, *der2, *ca_der;
	size_t spki_len, len, len2, ca_len;
	char user[CA_NAME_MAX + 1], dev[CA_NAME_MAX + 1];
	X509 *a, *b;

	CHECK(ca_generate("Acme Corp.", 1, 3650, &ca) == 0);
	CHECK(ca_cert_der(ca, &ca_der, &ca_len) == 0);
	CHECK(spki_new("ED25519", NULL, &spki, &spki_len));
	CHECK(ca_issue_device_cert(ca, "alice", "phone-1", spki, spki_len, 365,
				   &der, &len) == 0);
	CHECK(check_device_profile(der, len, spki, spki_len));
	CHECK(ca_verify_device_cert(ca_der, ca_len, der, len, 0, user, dev) ==
	      0);
	CHECK(strcmp(user, "alice") == 0 && strcmp(dev, "phone-1") == 0);
	memset(user, 0, sizeof(user));
	CHECK(ca_device_identity(der, len, user, dev) == 0);
	CHECK(strcmp(user, "alice") == 0 && strcmp(dev, "phone-1") == 0);
	/* A client certificate is no server certificate. */
	CHECK_EQ_INT(ca_verify_server_cert(ca_der, ca_len, der, len, 0),
		     CA_ERR_UNTRUSTED);
	/* Expired after its validity; not valid before issuance. */
	CHECK_EQ_INT(ca_verify_device_cert(ca_der, ca_len, der, len,
					   time(NULL) + 366 * 86400, user, dev),
		     CA_ERR_EXPIRED);
	CHECK_EQ_INT(ca_verify_device_cert(ca_der, ca_len, der, len,
					   time(NULL) - 86400, user, dev),
		     CA_ERR_EXPIRED);
	/* Every certificate gets its own random serial. */
	CHECK(ca_issue_device_cert(ca, "alice", "phone-1", spki, spki_len, 365,
				   &der2, &len2) == 0);
	a = x509_of(der, len);
	b = x509_of(der2, len2);
	CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(a),
			       X509_get0_serialNumber(b)) != 0);
	X509_free(a);
	X509_free(b);
	/* A flipped bit in the signed part breaks the chain. */
	der2[len2 / 2] ^= 0x01;
	CHECK(ca_verify_device_cert(ca_der, ca_len, der2, len2, 0, user, dev) !=
	      0);
	free(der2);
	free(der);
	free(spki);
	free(ca_der);
	ca_free(ca);
	return true;
}

static bool test_device_key_types(void)
{
	struct ca *s1, *s2;
	uint8_t *spki, *der;
	size_t len, der_len;
	uint8_t junk[CA_SPKI_MAX + 1];

	CHECK(ca_generate("Acme Corp.", 1, 365, &s1) == 0);
	CHECK(ca_generate("Acme Corp.", 2, 365, &s2) == 0);
	CHECK_EQ_INT(issue_for(s1, "ED25519", NULL, NULL), 0);
	CHECK_EQ_INT(issue_for(s2, "EC", "P-256", NULL), 0);
	/* The suite decides: no P-256 for suite 1, no Ed25519 for suite 2. */
	CHECK_EQ_INT(issue_for(s1, "EC", "P-256", NULL), CA_ERR_KEY_TYPE);
	CHECK_EQ_INT(issue_for(s2, "ED25519", NULL, NULL), CA_ERR_KEY_TYPE);
	CHECK_EQ_INT(issue_for(s2, "EC", "P-384", NULL), CA_ERR_KEY_TYPE);
	CHECK_EQ_INT(issue_for(s1, "ED448", NULL, NULL), CA_ERR_KEY_TYPE);
	CHECK_EQ_INT(issue_for(s1, "X25519", NULL, NULL), CA_ERR_KEY_TYPE);
	CHECK_EQ_INT(issue_for(s2, "RSA", NULL, NULL), CA_ERR_KEY_TYPE);
	/* MLS needs the uncompressed point (RFC 9420 §5.1.1). */
	CHECK_EQ_INT(issue_for(s2, "EC", "P-256", "compressed"),
		     CA_ERR_KEY_ENCODING);

	CHECK(spki_new("ED25519", NULL, &spki, &len));
	/* Truncated, trailing bytes, empty, oversized, garbage. */
	CHECK_EQ_INT(ca_issue_device_cert(s1, "alice", "x", spki, len - 1, 30,
					  &der, &der_len),
		     CA_ERR_KEY_ENCODING);
	memset(junk, 0, sizeof(junk));
	memcpy(junk, spki, len);
	CHECK_EQ_INT(ca_issue_device_cert(s1, "alice", "x", junk, len + 1, 30,
					  &der, &der_len),
		     CA_ERR_KEY_ENCODING);
	CHECK_EQ_INT(ca_issue_device_cert(s1, "alice", "x", junk, 0, 30, &der,
					  &der_len),
		     CA_ERR_KEY_ENCODING);
	CHECK_EQ_INT(ca_issue_device_cert(s1, "alice", "x", junk, sizeof(junk),
					  30, &der, &der_len),
		     CA_ERR_KEY_ENCODING);
	memset(junk, 0x30, 64);
	CHECK_EQ_INT(ca_issue_device_cert(s1, "alice", "x", junk, 64, 30, &der,
					  &der_len),
		     CA_ERR_KEY_ENCODING);
	/* Names and validity. */
	CHECK_EQ_INT(ca_issue_device_cert(s1, "Alice", "x", spki, len, 30, &der,
					  &der_len),
		     CA_ERR_USER_NAME);
	CHECK_EQ_INT(ca_issue_device_cert(s1, "alice", "x/y", spki, len, 30,
					  &der, &der_len),
		     CA_ERR_DEVICE_ID);
	CHECK_EQ_INT(ca_issue_device_cert(s1, "alice", "", spki, len, 30, &der,
					  &der_len),
		     CA_ERR_DEVICE_ID);
	CHECK_EQ_INT(ca_issue_device_cert(s1, "alice", "x", spki, len, 0, &der,
					  &der_len),
		     CA_ERR_VALIDITY);
	CHECK_EQ_INT(ca_issue_device_cert(s1, "alice", "x", spki, len,
					  CA_DEVICE_DAYS_MAX + 1, &der,
					  &der_len),
		     CA_ERR_VALIDITY);
	CHECK(der == NULL && der_len == 0);
	free(spki);
	ca_free(s1);
	ca_free(s2);
	return true;
}

static bool test_validity_within_ca(void)
{
	struct ca *ca;
	uint8_t *spki, *der, *ca_der;
	size_t len, der_len, ca_len;
	X509 *cert, *cacert;

	CHECK(ca_generate("Acme Corp.", 3, 30, &ca) == 0);
	CHECK(spki_new("ED25519", NULL, &spki, &len));
	CHECK(ca_issue_device_cert(ca, "bob", "laptop", spki, len, 365, &der,
				   &der_len) == 0);
	CHECK(ca_cert_der(ca, &ca_der, &ca_len) == 0);
	cert = x509_of(der, der_len);
	cacert = x509_of(ca_der, ca_len);
	CHECK(ASN1_TIME_compare(X509_get0_notAfter(cert),
				X509_get0_notAfter(cacert)) == 0);
	X509_free(cert);
	X509_free(cacert);
	free(ca_der);
	free(der);
	free(spki);
	ca_free(ca);
	return true;
}

static bool test_other_ca_untrusted(void)
{
	struct ca *ours, *theirs;
	uint8_t *spki, *der, *ca_der;
	size_t len, der_len, ca_len;
	char user[CA_NAME_MAX + 1], dev[CA_NAME_MAX + 1];

	CHECK(ca_generate("Acme Corp.", 1, 365, &ours) == 0);
	CHECK(ca_generate("Acme Corp.", 1, 365, &theirs) == 0);
	CHECK(spki_new("ED25519", NULL, &spki, &len));
	CHECK(ca_issue_device_cert(theirs, "alice", "phone", spki, len, 30,
				   &der, &der_len) == 0);
	CHECK(ca_cert_der(ours, &ca_der, &ca_len) == 0);
	CHECK_EQ_INT(ca_verify_device_cert(ca_der, ca_len, der, der_len, 0,
					   user, dev),
		     CA_ERR_UNTRUSTED);
	CHECK_EQ_INT(ca_verify_device_cert(ca_der, ca_len, der, 10, 0, user,
					   dev),
		     CA_ERR_CERT_PARSE);
	free(ca_der);
	free(der);
	free(spki);
	ca_free(ours);
	ca_free(theirs);
	return true;
}

static bool check_server_san(const char *crt_path, int type)
{
	uint8_t *der;
	size_t len;
	X509 *cert;
	GENERAL_NAMES *names;
	EXTENDED_KEY_USAGE *eku;

	CHECK(ca_cert_file_read(crt_path, &der, &len) == 0);
	cert = x509_of(der, len);
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	CHECK(names != NULL && sk_GENERAL_NAME_num(names) == 1 &&
	      sk_GENERAL_NAME_value(names, 0)->type == type);
	GENERAL_NAMES_free(names);
	eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	CHECK(eku != NULL && sk_ASN1_OBJECT_num(eku) == 1 &&
	      OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) == NID_server_auth);
	EXTENDED_KEY_USAGE_free(eku);
	X509_free(cert);
	free(der);
	return true;
}

static bool test_server_cert(void)
{
	struct ca *ca;
	uint8_t *ca_der, *der;
	size_t ca_len, len;
	FILE *f;
	EVP_PKEY *key;
	X509 *cert;

	CHECK(ca_generate("Acme Corp.", 1, 3650, &ca) == 0);
	CHECK(ca_cert_der(ca, &ca_der, &ca_len) == 0);
	CHECK(ca_issue_server_cert(ca, "localhost", CA_SERVER_CERT_DAYS,
				   tpath("tls.key"), tpath("tls.crt")) == 0);
	CHECK_EQ_INT(mode_of(tpath("tls.key")), 0600);
	CHECK(ca_cert_file_read(tpath("tls.crt"), &der, &len) == 0);
	CHECK(ca_verify_server_cert(ca_der, ca_len, der, len, 0) == 0);
	CHECK(check_server_san(tpath("tls.crt"), GEN_DNS));
	/* The key file holds the certificate's private key. */
	f = fopen(tpath("tls.key"), "r");
	CHECK(f != NULL);
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	cert = x509_of(der, len);
	CHECK(key != NULL && X509_check_private_key(cert, key) == 1);
	EVP_PKEY_free(key);
	X509_free(cert);
	free(der);
	CHECK(ca_issue_server_cert(ca, "192.0.2.7", 30, tpath("ip4.key"),
				   tpath("ip4.crt")) == 0);
	CHECK(check_server_san(tpath("ip4.crt"), GEN_IPADD));
	CHECK(ca_issue_server_cert(ca, "::1", 30, tpath("ip6.key"),
				   tpath("ip6.crt")) == 0);
	CHECK(check_server_san(tpath("ip6.crt"), GEN_IPADD));
	CHECK_EQ_INT(ca_issue_server_cert(ca, "bad name", 30, tpath("b.key"),
					  tpath("b.crt")),
		     CA_ERR_SERVER_NAME);
	CHECK_EQ_INT(ca_issue_server_cert(ca, "localhost", 30, tpath("tls.key"),
					  tpath("new.crt")),
		     CA_ERR_EXISTS);
	CHECK(access(tpath("b.key"), F_OK) != 0);
	free(ca_der);
	ca_free(ca);
	return true;
}

static bool test_fingerprint(void)
{
	struct ca *ca;
	uint8_t *der, fp[CA_FINGERPRINT_LEN], want[32];
	size_t len;
	unsigned int n;
	char text[CA_FINGERPRINT_TEXT_SIZE];

	CHECK(ca_generate("Acme Corp.", 1, 365, &ca) == 0);
	CHECK(ca_cert_der(ca, &der, &len) == 0);
	CHECK(ca_fingerprint(der, len, fp) == 0);
	CHECK(EVP_Digest(der, len, want, &n, EVP_sha256(), NULL) && n == 32);
	CHECK_MEM(fp, sizeof(fp), want, sizeof(want));
	ca_fingerprint_text(fp, text);
	CHECK_EQ_INT(strlen(text), 95);
	for (size_t i = 0; i < 32; i++) {
		char byte[3];

		snprintf(byte, sizeof(byte), "%02X", fp[i]);
		CHECK(memcmp(text + 3 * i, byte, 2) == 0);
		CHECK(i == 31 || text[3 * i + 2] == ':');
	}
	free(der);
	ca_free(ca);
	return true;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	int failed = 0;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_names, &failed);
	RUN(test_device_uri, &failed);
	RUN(test_ca_profile, &failed);
	RUN(test_key_at_rest, &failed);
	RUN(test_unencrypted_key_refused, &failed);
	RUN(test_passphrase_generate, &failed);
	RUN(test_device_cert, &failed);
	RUN(test_device_key_types, &failed);
	RUN(test_validity_within_ca, &failed);
	RUN(test_other_ca_untrusted, &failed);
	RUN(test_server_cert, &failed);
	RUN(test_fingerprint, &failed);
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	return failed == 0 ? 0 : 1;
}

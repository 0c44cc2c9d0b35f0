/* test_key_package.c - LeafNodes, KeyPackages and credentials in all three
 * suites: creation and validation; each §10.1 and §7.3 rule broken alone
 * and refused with its own error; KeyPackageRef; X.509 credentials whose
 * leaf certificate must carry the LeafNode's signature key, judged by an
 * Authentication Service callback that verifies the chain to a CA. */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "credential.h"
#include "hpke.h"
#include "key_package.h"
#include "test.h"
#include "test_cert.h"

static const struct mls_suite *suite;

static int accept_all(void *arg, const struct mls_credential *c,
		      const uint8_t *key, size_t len)
{
	(void)arg;
	(void)c;
	(void)key;
	(void)len;
	return 0;
}

static const struct mls_leaf_policy policy = { .accept = accept_all };

struct member {
	struct bw_bytes sig_priv, sig_pub;
	struct mls_credential cred;
	struct mls_key_package kp;
	struct mls_key_package_secrets ks;
};

static bool member_new(struct member *m, const char *name)
{
	struct mls_key_package_params p = { .credential = &m->cred,
					    .lifetime = { 100, 200 } };

	memset(m, 0, sizeof(*m));
	return mls_sig_keygen(suite, &m->sig_priv, &m->sig_pub) == 0 &&
	       mls_credential_basic(name, strlen(name), &m->cred) == 0 &&
	       mls_key_package_create(suite, &p, m->sig_priv.p,
				      m->sig_priv.len, &m->kp, &m->ks) == 0;
}

static void member_clear(struct member *m)
{
	bw_bytes_clear(&m->sig_priv);
	bw_bytes_clear(&m->sig_pub);
	mls_credential_clear(&m->cred);
	mls_key_package_clear(&m->kp);
	mls_key_package_secrets_clear(&m->ks);
}

/* Re-sign the KeyPackage (and its leaf) after a change, so that the
 * change itself is what validation meets. */
static bool resign(struct member *m)
{
	struct bw_writer w;
	struct bw_bytes sig = { 0 };
	bool ok;

	bw_writer_init(&w, 0);
	ok = mls_leaf_node_sign(suite, &m->kp.leaf_node, m->sig_priv.p,
				m->sig_priv.len, NULL, 0, 0) == 0 &&
	     mls_key_package_tbs_encode(&m->kp, &w) == 0 &&
	     mls_sign_with_label(suite, m->sig_priv.p, m->sig_priv.len,
				 "KeyPackageTBS", w.buf, w.len, &sig) == 0;
	if (ok)
		bw_bytes_move(&m->kp.signature, &sig);
	bw_writer_free(&w);
	return ok;
}

static bool test_create_validate(void)
{
	struct mls_key_package kp = { 0 };
	uint8_t ref[MLS_MAX_HASH_LEN], ref2[MLS_MAX_HASH_LEN];
	struct bw_writer w;
	struct bw_reader r;
	struct bw_bytes pk = { 0 };
	struct member m;

	CHECK(member_new(&m, "alice"));
	CHECK_EQ_INT(mls_key_package_validate(suite, &m.kp, &policy), 0);
	/* The secrets belong to the keys. */
	CHECK_EQ_INT(hpke_public_key(suite->kem_id, m.ks.init_priv.p,
				     m.ks.init_priv.len, &pk),
		     0);
	CHECK(bw_bytes_eq(&pk, m.kp.init_key.p, m.kp.init_key.len));
	CHECK_EQ_INT(hpke_public_key(suite->kem_id, m.ks.encryption_priv.p,
				     m.ks.encryption_priv.len, &pk),
		     0);
	CHECK(bw_bytes_eq(&pk, m.kp.leaf_node.encryption_key.p,
			  m.kp.leaf_node.encryption_key.len));
	/* The reference is RefHash over the encoding, stable across a
	 * decode. */
	bw_writer_init(&w, 0);
	CHECK_EQ_INT(mls_key_package_encode(&m.kp, &w), 0);
	CHECK_EQ_INT(mls_make_key_package_ref(suite, w.buf, w.len, ref), 0);
	bw_reader_init(&r, w.buf, w.len);
	CHECK_EQ_INT(mls_key_package_decode(&r, &kp), 0);
	CHECK_EQ_INT(mls_key_package_ref(suite, &kp, ref2), 0);
	CHECK_MEM(ref, suite->hash_len, ref2, suite->hash_len);
	CHECK_EQ_INT(mls_key_package_validate(suite, &kp, &policy), 0);
	mls_key_package_clear(&kp);
	bw_writer_free(&w);
	bw_bytes_clear(&pk);
	member_clear(&m);
	return true;
}

static bool test_rules(void)
{
	struct mls_leaf_policy pol = policy;
	const struct mls_suite *other =
		mls_suite_get(suite->id == 1 ? 3 : 1);
	struct mls_extension ext = { 0xff01, { 0 } };
	struct member m;

	CHECK(member_new(&m, "bob"));
	/* Version and suite of the group. */
	m.kp.version = 2;
	CHECK_EQ_INT(mls_key_package_validate(suite, &m.kp, &pol),
		     MLS_ERR_VERSION);
	m.kp.version = MLS_PROTOCOL_VERSION_MLS10;
	CHECK_EQ_INT(mls_key_package_validate(other, &m.kp, &pol),
		     MLS_ERR_UNSUPPORTED_SUITE);
	/* The signature covers every field. */
	m.kp.signature.p[0] ^= 1;
	CHECK_EQ_INT(mls_key_package_validate(suite, &m.kp, &pol),
		     MLS_ERR_SIGNATURE);
	m.kp.signature.p[0] ^= 1;
	/* Lifetime [100, 200]: only inside it when checked. */
	pol.check_lifetime = true;
	pol.now = 150;
	CHECK_EQ_INT(mls_key_package_validate(suite, &m.kp, &pol), 0);
	pol.now = 201;
	CHECK_EQ_INT(mls_key_package_validate(suite, &m.kp, &pol),
		     MLS_ERR_LIFETIME);
	pol.now = 99;
	CHECK_EQ_INT(mls_key_package_validate(suite, &m.kp, &pol),
		     MLS_ERR_LIFETIME);
	pol.check_lifetime = false;
	pol.max_lifetime = 99;
	CHECK_EQ_INT(mls_key_package_validate(suite, &m.kp, &pol),
		     MLS_ERR_LIFETIME);
	pol.max_lifetime = 0;
	/* The Authentication Service decides last. */
	CHECK_EQ_INT(mls_key_package_validate(suite, &m.kp, NULL),
		     MLS_ERR_INVALID_ARG);
	/* A KeyPackage extension of a type the leaf does not list. */
	m.kp.extensions.v = &ext;
	m.kp.extensions.n = 1;
	CHECK(resign(&m));
	CHECK_EQ_INT(mls_key_package_validate(suite, &m.kp, &pol),
		     MLS_ERR_CAPABILITIES);
	m.kp.extensions.v = NULL;
	m.kp.extensions.n = 0;
	/* init_key equal to the leaf's encryption key. */
	bw_bytes_clear(&m.kp.init_key);
	bw_bytes_set(&m.kp.init_key, m.kp.leaf_node.encryption_key.p,
		     m.kp.leaf_node.encryption_key.len);
	CHECK(resign(&m));
	CHECK_EQ_INT(mls_key_package_validate(suite, &m.kp, &pol),
		     MLS_ERR_KEY_PACKAGE);
	/* An init_key that is no key of the suite. */
	m.kp.init_key.len--;
	CHECK(resign(&m));
	CHECK_EQ_INT(mls_key_package_validate(suite, &m.kp, &pol),
		     MLS_ERR_BAD_KEY);
	member_clear(&m);
	return true;
}

static bool test_leaf_rules(void)
{
	const uint8_t gid[] = "group";
	struct mls_leaf_policy pol = policy;
	struct mls_leaf_node *ln;
	struct member m;
	uint8_t req[] = { 0, 2, 0x7f, 0x00, 0 }; /* proposal type 0x7f00 */
	struct mls_extension ext = { MLS_EXT_REQUIRED_CAPABILITIES,
				     { req, sizeof(req) } };
	struct mls_extension_list group_ext = { &ext, 1 };

	CHECK(member_new(&m, "carol"));
	ln = &m.kp.leaf_node;
	/* A KeyPackage's leaf has the key_package source. */
	ln->source = MLS_LEAF_SOURCE_UPDATE;
	CHECK(resign(&m));
	CHECK_EQ_INT(mls_key_package_validate(suite, &m.kp, &pol),
		     MLS_ERR_LEAF_NODE);
	/* An update leaf is bound to its group and leaf index. */
	CHECK_EQ_INT(mls_leaf_node_sign(suite, ln, m.sig_priv.p,
					m.sig_priv.len, gid, 5, 3),
		     0);
	CHECK_EQ_INT(mls_leaf_node_validate(suite, ln, MLS_LEAF_SOURCE_UPDATE,
					    gid, 5, 3, &pol),
		     0);
	CHECK_EQ_INT(mls_leaf_node_validate(suite, ln, MLS_LEAF_SOURCE_UPDATE,
					    gid, 5, 4, &pol),
		     MLS_ERR_SIGNATURE);
	CHECK_EQ_INT(mls_leaf_node_validate(suite, ln, MLS_LEAF_SOURCE_UPDATE,
					    gid, 4, 3, &pol),
		     MLS_ERR_SIGNATURE);
	CHECK_EQ_INT(mls_leaf_node_validate(suite, ln, MLS_LEAF_SOURCE_COMMIT,
					    gid, 5, 3, &pol),
		     MLS_ERR_LEAF_NODE);
	/* The group requires a proposal type the leaf does not list. */
	pol.group_extensions = &group_ext;
	CHECK_EQ_INT(mls_leaf_node_validate(suite, ln, MLS_LEAF_SOURCE_UPDATE,
					    gid, 5, 3, &pol),
		     MLS_ERR_CAPABILITIES);
	/* ... until it does. */
	ln->capabilities.proposals.v[0] = 0x7f00;
	CHECK_EQ_INT(mls_leaf_node_check_capabilities(suite, ln, &group_ext),
		     0);
	/* Its own credential type must be listed. */
	ln->capabilities.credentials.v[0] = 0x7777;
	CHECK_EQ_INT(mls_leaf_node_check_capabilities(suite, ln, NULL),
		     MLS_ERR_CAPABILITIES);
	/* Keys of the wrong size for the suite. */
	ln->signature_key.len--;
	CHECK_EQ_INT(mls_leaf_node_validate(suite, ln, 0, gid, 5, 3, &pol),
		     MLS_ERR_BAD_KEY);
	ln->signature_key.len++;
	CHECK(mls_proposal_type_is_default(MLS_PROPOSAL_REMOVE));
	CHECK(!mls_extension_type_is_default(0x0a0a));
	member_clear(&m);
	return true;
}

/* ---- X.509 ---- */

struct pki {
	EVP_PKEY *ca_key;
	X509 *ca;
};

static bool pki_new(struct pki *p, const char *cn)
{
	p->ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	p->ca = p->ca_key ? test_cert_new(cn, p->ca_key, NULL, NULL) : NULL;
	return p->ca != NULL;
}

static void pki_free(struct pki *p)
{
	X509_free(p->ca);
	EVP_PKEY_free(p->ca_key);
}

/* The credential [leaf, ca] for sig_pub, issued by p's CA. */
static bool x509_credential(struct pki *p, const struct bw_bytes *sig_pub,
			    struct mls_credential *out)
{
	EVP_PKEY *pk = NULL;
	X509 *leaf = NULL;
	uint8_t *der[2] = { NULL, NULL };
	size_t len[2];
	int n0, n1;
	bool ok;

	ok = mls_sig_pkey_public(suite, sig_pub->p, sig_pub->len, &pk) == 0 &&
	     (leaf = test_cert_new("device", pk, p->ca, p->ca_key)) != NULL &&
	     (n0 = i2d_X509(leaf, &der[0])) > 0 &&
	     (n1 = i2d_X509(p->ca, &der[1])) > 0;
	if (ok) {
		len[0] = (size_t)n0;
		len[1] = (size_t)n1;
		ok = mls_credential_x509((const uint8_t *const *)der, len, 2,
					 out) == 0;
	}
	OPENSSL_free(der[0]);
	OPENSSL_free(der[1]);
	X509_free(leaf);
	EVP_PKEY_free(pk);
	return ok;
}

/* Bulwark's rule, as a test stands it up: the chain verifies up to the
 * organisation's CA (arg is its X509_STORE). */
static int chains_to_ca(void *arg, const struct mls_credential *c,
			const uint8_t *key, size_t len)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *leaf = NULL;
	int ok = 0;

	(void)key;
	(void)len;
	for (size_t i = 0; i < c->n_certificates; i++) {
		const unsigned char *p = c->certificates[i].p;
		X509 *x = d2i_X509(NULL, &p, (long)c->certificates[i].len);

		if (x == NULL)
			goto out;
		if (i == 0)
			leaf = x;
		else
			sk_X509_push(chain, x);
	}
	ok = X509_STORE_CTX_init(ctx, arg, leaf, chain) == 1 &&
	     X509_verify_cert(ctx) == 1;
out:
	X509_STORE_CTX_free(ctx);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	return ok ? 0 : -1;
}

static bool test_x509(void)
{
	struct pki org, rogue;
	X509_STORE *store = X509_STORE_new();
	struct mls_credential cred = { 0 }, copy = { 0 };
	struct bw_bytes priv = { 0 }, pub = { 0 }, other = { 0 }, key = { 0 };

	CHECK(pki_new(&org, "org CA") && pki_new(&rogue, "rogue CA"));
	CHECK_EQ_INT(X509_STORE_add_cert(store, org.ca), 1);
	CHECK_EQ_INT(mls_sig_keygen(suite, &priv, &pub), 0);
	CHECK(x509_credential(&org, &pub, &cred));
	/* The leaf certificate's key, in MLS wire format, is the key. */
	CHECK_EQ_INT(mls_credential_x509_public_key(suite, &cred, &key), 0);
	CHECK(bw_bytes_eq(&key, pub.p, pub.len));
	CHECK_EQ_INT(mls_credential_validate(suite, &cred, pub.p, pub.len,
					     chains_to_ca, store),
		     0);
	CHECK_EQ_INT(mls_credential_copy(&copy, &cred), 0);
	CHECK_EQ_INT(mls_credential_validate(suite, &copy, pub.p, pub.len,
					     chains_to_ca, store),
		     0);
	/* Presented with another signature key. */
	bw_bytes_clear(&priv);
	CHECK_EQ_INT(mls_sig_keygen(suite, &priv, &other), 0);
	CHECK_EQ_INT(mls_credential_validate(suite, &cred, other.p, other.len,
					     chains_to_ca, store),
		     MLS_ERR_CREDENTIAL);
	/* Issued by a CA the organisation does not trust. */
	mls_credential_clear(&cred);
	CHECK(x509_credential(&rogue, &pub, &cred));
	CHECK_EQ_INT(mls_credential_validate(suite, &cred, pub.p, pub.len,
					     chains_to_ca, store),
		     MLS_ERR_CREDENTIAL);
	/* A certificate that does not parse, trailing bytes included. */
	cred.certificates[0].len--;
	CHECK_EQ_INT(mls_credential_validate(suite, &cred, pub.p, pub.len,
					     accept_all, NULL),
		     MLS_ERR_CREDENTIAL);
	cred.certificates[0].len++;
	/* Unknown types and a missing callback. */
	copy.type = 0x7777;
	CHECK_EQ_INT(mls_credential_validate(suite, &copy, pub.p, pub.len,
					     accept_all, NULL),
		     MLS_ERR_CREDENTIAL);
	copy.type = MLS_CREDENTIAL_X509;
	mls_credential_clear(&copy);
	CHECK_EQ_INT(mls_credential_validate(suite, &cred, pub.p, pub.len,
					     NULL, NULL),
		     MLS_ERR_INVALID_ARG);
	CHECK_EQ_INT(mls_credential_x509(NULL, NULL, 0, &copy),
		     MLS_ERR_INVALID_ARG);
	mls_credential_clear(&cred);
	bw_bytes_clear(&priv);
	bw_bytes_clear(&pub);
	bw_bytes_clear(&other);
	bw_bytes_clear(&key);
	X509_STORE_free(store);
	pki_free(&org);
	pki_free(&rogue);
	return true;
}

static bool test_x509_key_package(void)
{
	struct pki org;
	X509_STORE *store = X509_STORE_new();
	struct mls_leaf_policy pol = { .accept = chains_to_ca,
				       .accept_arg = store };
	struct mls_key_package_params p = { .lifetime = { 0, UINT64_MAX } };
	struct mls_credential cred = { 0 };
	struct mls_key_package kp = { 0 };
	struct mls_key_package_secrets ks = { 0 };
	struct bw_bytes priv = { 0 }, pub = { 0 };

	CHECK(pki_new(&org, "org CA"));
	CHECK_EQ_INT(X509_STORE_add_cert(store, org.ca), 1);
	CHECK_EQ_INT(mls_sig_keygen(suite, &priv, &pub), 0);
	CHECK(x509_credential(&org, &pub, &cred));
	p.credential = &cred;
	CHECK_EQ_INT(mls_key_package_create(suite, &p, priv.p, priv.len, &kp,
					    &ks),
		     0);
	CHECK_EQ_INT(mls_key_package_validate(suite, &kp, &pol), 0);
	mls_key_package_clear(&kp);
	mls_key_package_secrets_clear(&ks);
	/* Signed with a key other than the certificate's. */
	bw_bytes_clear(&priv);
	bw_bytes_clear(&pub);
	CHECK_EQ_INT(mls_sig_keygen(suite, &priv, &pub), 0);
	CHECK_EQ_INT(mls_key_package_create(suite, &p, priv.p, priv.len, &kp,
					    &ks),
		     0);
	CHECK_EQ_INT(mls_key_package_validate(suite, &kp, &pol),
		     MLS_ERR_CREDENTIAL);
	mls_key_package_clear(&kp);
	mls_key_package_secrets_clear(&ks);
	mls_credential_clear(&cred);
	bw_bytes_clear(&priv);
	bw_bytes_clear(&pub);
	X509_STORE_free(store);
	pki_free(&org);
	return true;
}

static bool test_default_capabilities(void)
{
	struct mls_capabilities c = { 0 };

	CHECK_EQ_INT(mls_capabilities_init_default(&c, suite->id), 0);
	CHECK(mls_u16_list_contains(&c.versions, MLS_PROTOCOL_VERSION_MLS10));
	CHECK(mls_u16_list_contains(&c.cipher_suites, suite->id));
	CHECK(mls_u16_list_contains(&c.credentials, MLS_CREDENTIAL_BASIC));
	CHECK(mls_u16_list_contains(&c.credentials, MLS_CREDENTIAL_X509));
	/* One GREASE value (§13.5) in the lists that take them. */
	CHECK_EQ_INT(c.extensions.n, 1);
	CHECK_EQ_INT(c.extensions.v[0] & 0x0f0f, 0x0a0a);
	mls_capabilities_clear(&c);
	return true;
}

int main(void)
{
	static const uint16_t suites[] = {
		MLS_SUITE_X25519_AES128GCM_SHA256_ED25519,
		MLS_SUITE_P256_AES128GCM_SHA256_P256,
		MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519,
	};
	int failed = 0;

	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		suite = mls_suite_get(suites[i]);
		printf("-- suite %u\n", suite->id);
		RUN(test_create_validate, &failed);
		RUN(test_rules, &failed);
		RUN(test_leaf_rules, &failed);
		RUN(test_x509, &failed);
		RUN(test_x509_key_package, &failed);
		RUN(test_default_capabilities, &failed);
	}
	return failed ? 1 : 0;
}

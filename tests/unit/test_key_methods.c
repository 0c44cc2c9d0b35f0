/* test_key_methods.c - OpenSSL's built-in EC and Ed25519 methods
 * (lib/common/key_methods.c): once they are registered, certificates'
 * keys are decoded without the providers, signatures and ECDH still
 * accept what is right and refuse what is not, and a mutual-TLS 1.3
 * handshake (Ed25519 device, P-256 server and CA, X25519 or P-256 key
 * exchange) succeeds, while a device from another CA is refused. The
 * registration is process-wide, so the cases run in this order. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "err.h"
#include "key_methods.h"
#include "test.h"
#include "test_cert.h"

static EVP_PKEY *ca_key, *device_key, *server_key, *other_ca_key;
static X509 *ca_cert, *device_cert, *server_cert, *foreign_device_cert;

static bool make_identities(void)
{
	ca_key = EVP_EC_gen("P-256");
	other_ca_key = EVP_EC_gen("P-256");
	server_key = EVP_EC_gen("P-256");
	device_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	CHECK(ca_key && other_ca_key && server_key && device_key);
	ca_cert = test_cert_new("Org CA", ca_key, NULL, NULL);
	server_cert = test_cert_new("server", server_key, ca_cert, ca_key);
	device_cert = test_cert_new("device", device_key, ca_cert, ca_key);
	/* Same issuer name, another key: only the signature tells. */
	foreign_device_cert = test_cert_new("device", device_key, ca_cert,
					    other_ca_key);
	CHECK(ca_cert && server_cert && device_cert && foreign_device_cert);
	return true;
}

/* cert's public key as a peer's arrives: parsed from its DER. */
static EVP_PKEY *parsed_key(X509 *cert)
{
	unsigned char *der = NULL;
	int n = i2d_X509(cert, &der);
	const unsigned char *p = der;
	X509 *copy = n > 0 ? d2i_X509(NULL, &p, n) : NULL;
	EVP_PKEY *key = copy != NULL ? X509_get_pubkey(copy) : NULL;

	X509_free(copy);
	OPENSSL_free(der);
	return key;
}

static bool builtin_expected(void)
{
	return OpenSSL_version_num() < 0x30200000L;
}

static bool test_providers_before(void)
{
	EVP_PKEY *key = parsed_key(device_cert);

	CHECK(key != NULL);
	CHECK(EVP_PKEY_get0_provider(key) != NULL);
	EVP_PKEY_free(key);
	return true;
}

static bool test_register(void)
{
	int expect = builtin_expected() ? 1 : 0;

	CHECK_EQ_INT(bw_key_methods_use_builtin(), expect);
	CHECK_EQ_INT(bw_key_methods_use_builtin(), expect); /* once */
	return true;
}

static bool test_certificate_keys_builtin(void)
{
	X509 *certs[] = { device_cert, server_cert };

	if (!builtin_expected())
		return true;
	for (size_t i = 0; i < 2; i++) {
		EVP_PKEY *key = parsed_key(certs[i]);

		CHECK(key != NULL);
		CHECK(EVP_PKEY_get0_provider(key) == NULL);
		EVP_PKEY_free(key);
	}
	return true;
}

static int sign(EVP_PKEY *key, const unsigned char *msg, size_t len,
		unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *md = EVP_PKEY_is_a(key, "ED25519") ? NULL : EVP_sha256();
	int ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, md, NULL, key) &&
		 EVP_DigestSign(ctx, sig, siglen, msg, len) == 1;

	EVP_MD_CTX_free(ctx);
	return ok;
}

static int verify(EVP_PKEY *key, const unsigned char *msg, size_t len,
		  const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *md = EVP_PKEY_is_a(key, "ED25519") ? NULL : EVP_sha256();
	int rc = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, md, NULL,
						     key) == 1
			 ? EVP_DigestVerify(ctx, sig, siglen, msg, len)
			 : -1;

	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Signed with the generated key, checked with the certificate's parsed
 * key: the right message passes, a changed message or signature not. */
static bool check_signatures(EVP_PKEY *signer, X509 *cert)
{
	unsigned char msg[64] = "TLS 1.3, server CertificateVerify";
	unsigned char sig[128];
	size_t siglen = sizeof(sig);
	EVP_PKEY *peer = parsed_key(cert);
	bool ok = peer != NULL && sign(signer, msg, sizeof(msg), sig, &siglen);

	ok = ok && verify(peer, msg, sizeof(msg), sig, siglen) == 1;
	msg[3] ^= 1;
	ok = ok && verify(peer, msg, sizeof(msg), sig, siglen) != 1;
	msg[3] ^= 1;
	sig[siglen / 2] ^= 0x40;
	ok = ok && verify(peer, msg, sizeof(msg), sig, siglen) != 1;
	EVP_PKEY_free(peer);
	return ok;
}

static bool test_signatures(void)
{
	CHECK(check_signatures(device_key, device_cert));
	CHECK(check_signatures(server_key, server_cert));
	/* The CA's signature on a certificate, as X509_verify_cert checks. */
	CHECK_EQ_INT(X509_verify(device_cert, ca_key), 1);
	CHECK(X509_verify(foreign_device_cert, ca_key) != 1);
	return true;
}

static bool derive(EVP_PKEY *mine, EVP_PKEY *peer, unsigned char *out,
		   size_t *len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(mine, NULL);
	bool ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
		  EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
		  EVP_PKEY_derive(ctx, out, len) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static bool test_p256_ecdh(void)
{
	EVP_PKEY *peer = parsed_key(server_cert);
	unsigned char a[32], b[32];
	size_t alen = sizeof(a), blen = sizeof(b);

	CHECK(peer != NULL);
	CHECK(derive(ca_key, peer, a, &alen));
	EVP_PKEY_free(peer);
	peer = parsed_key(ca_cert);
	CHECK(peer != NULL);
	CHECK(derive(server_key, peer, b, &blen));
	EVP_PKEY_free(peer);
	CHECK_MEM(a, alen, b, blen);
	return true;
}

static SSL_CTX *context(bool server, const char *groups, X509 *cert,
			EVP_PKEY *key)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method()
					  : TLS_client_method());
	X509_STORE *store = ctx != NULL ? SSL_CTX_get_cert_store(ctx) : NULL;
	bool ok = store != NULL &&
		  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1 &&
		  SSL_CTX_set1_groups_list(ctx, groups) == 1 &&
		  SSL_CTX_use_certificate(ctx, cert) == 1 &&
		  SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
		  X509_STORE_add_cert(store, ca_cert) == 1;

	if (!ok) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx,
			   SSL_VERIFY_PEER |
				   SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   NULL);
	return ctx;
}

/* 1: both sides finished; 0: refused; -1: could not run. */
static int handshake(const char *groups, X509 *device)
{
	SSL_CTX *sctx = context(true, groups, server_cert, server_key);
	SSL_CTX *cctx = context(false, groups, device, device_key);
	SSL *s = sctx ? SSL_new(sctx) : NULL, *c = cctx ? SSL_new(cctx) : NULL;
	BIO *sb = NULL, *cb = NULL;
	int rs = 0, rc = 0, result = -1;

	if (s != NULL && c != NULL && BIO_new_bio_pair(&sb, 0, &cb, 0) == 1) {
		SSL_set_bio(s, sb, sb);
		SSL_set_bio(c, cb, cb);
		SSL_set_accept_state(s);
		SSL_set_connect_state(c);
		for (int i = 0; i < 20 && (rs != 1 || rc != 1); i++) {
			if (rc != 1)
				rc = SSL_do_handshake(c);
			if (rs != 1)
				rs = SSL_do_handshake(s);
		}
		/* TLS 1.3: the client finishes before the server has seen
		 * its certificate; the server's answer decides. */
		result = rs == 1 ? 1 : 0;
	}
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	return result;
}

static bool test_tls_handshakes(void)
{
	CHECK_EQ_INT(handshake("X25519", device_cert), 1);
	CHECK_EQ_INT(handshake("P-256", device_cert), 1);
	CHECK_EQ_INT(handshake("X25519", foreign_device_cert), 0);
	return true;
}

int main(void)
{
	int failed = 0;

	if (!make_identities()) {
		printf("FAIL make_identities\n");
		return 1;
	}
	RUN(test_providers_before, &failed);
	RUN(test_register, &failed);
	RUN(test_certificate_keys_builtin, &failed);
	RUN(test_signatures, &failed);
	RUN(test_p256_ecdh, &failed);
	RUN(test_tls_handshakes, &failed);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_ca_key);
	EVP_PKEY_free(server_key);
	EVP_PKEY_free(device_key);
	X509_free(ca_cert);
	X509_free(server_cert);
	X509_free(device_cert);
	X509_free(foreign_device_cert);
	return failed ? 1 : 0;
}

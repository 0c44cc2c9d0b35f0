/* tls_client.c - a simulated device's side of TLS (tls_client.h). */
#include <stdbool.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "tls_client.h"

/* The server's certificate as last verified in full (DER): every
 * simulated device trusts the same CA and name, so a byte-identical
 * certificate that is still within its validity needs no second chain
 * verification, as a client caches a verification it has done. */
static unsigned char *verified_der;
static int verified_len;

static bool same_as_verified(X509 *cert)
{
	unsigned char *der = NULL;
	int n = i2d_X509(cert, &der);
	bool same = n > 0 && n == verified_len &&
		    memcmp(der, verified_der, (size_t)n) == 0 &&
		    X509_cmp_current_time(X509_get0_notBefore(cert)) < 0 &&
		    X509_cmp_current_time(X509_get0_notAfter(cert)) > 0;

	OPENSSL_free(der);
	return same;
}

static int verify_server(X509_STORE_CTX *ctx, void *arg)
{
	X509 *cert = X509_STORE_CTX_get0_cert(ctx);

	(void)arg;
	if (cert == NULL)
		return 0;
	if (verified_der != NULL && same_as_verified(cert))
		return 1;
	if (X509_verify_cert(ctx) != 1)
		return 0;
	OPENSSL_free(verified_der);
	verified_der = NULL;
	verified_len = i2d_X509(cert, &verified_der);
	return 1;
}

/* The application traffic secrets go to the connection's record layer,
 * which takes over once the handshake is done. */
static void keep_traffic_secrets(const SSL *ssl, const char *line)
{
	struct tls_rec *rec = SSL_get_app_data(ssl);

	if (rec != NULL)
		tls_rec_keylog(rec, line);
}

int tls_client_context(const char *ca_file, SSL_CTX **out)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	STACK_OF(X509_NAME) *cas = NULL;

	*out = NULL;
	if (ctx == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS_REC_CIPHERSUITES) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1 ||
	    (cas = SSL_load_client_CA_file(ca_file)) == NULL) {
		SSL_CTX_free(ctx);
		return -1;
	}
	/* An activated device has its CA: naming it (certificate_authorities,
	 * RFC 8446 §4.2.4) lets the server leave it out of its chain, one
	 * certificate less to parse per login. */
	SSL_CTX_set0_CA_list(ctx, cas);
	/* Every login a full mutual-TLS handshake, as the server requires. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	/* The device sends its certificate alone (the server has the CA):
	 * no chain to build on every handshake. */
	SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
	/* One read() per flight of the server's rather than two per record;
	 * the server sends nothing after its Finished until the upgrade
	 * request, so nothing is read past the handshake. */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_keylog_callback(ctx, keep_traffic_secrets);
	SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, verify_server, NULL);
	*out = ctx;
	return 0;
}

int tls_client_ssl(SSL_CTX *ctx, X509 *cert, EVP_PKEY *key,
		   const char *server_name, struct tls_rec *rec, SSL **out)
{
	SSL *ssl = SSL_new(ctx);

	*out = NULL;
	if (ssl == NULL ||
	    SSL_set_tlsext_host_name(ssl, server_name) != 1 ||
	    SSL_set1_host(ssl, server_name) != 1 ||
	    SSL_use_certificate(ssl, cert) != 1 ||
	    SSL_use_PrivateKey(ssl, key) != 1) {
		SSL_free(ssl);
		return -1;
	}
	SSL_set_app_data(ssl, rec);
	SSL_set_connect_state(ssl);
	*out = ssl;
	return 0;
}

/* tls.c - the TLS server context and device certificate checks. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdbool.h>
#include <string.h>

#include "codec.h"
#include "errors.h"
#include "log.h"
#include "proto.h"
#include "tls_record.h"
#include "tls.h"

int tls_cert_fingerprint(X509 *cert, uint8_t out[STORE_FINGERPRINT_LEN])
{
	unsigned int n = 0;

	if (X509_digest(cert, EVP_sha256(), out, &n) != 1 ||
	    n != STORE_FINGERPRINT_LEN)
		return BWD_ERR_TLS;
	return 0;
}

int tls_activation_exporter(SSL *ssl, uint8_t *out, size_t n)
{
	static const char label[] = PROTO_ACTIVATION_EXPORTER_LABEL;

	return SSL_export_keying_material(ssl, out, n, label, sizeof(label) - 1,
					  NULL, 0, 0) == 1
		       ? 0
		       : BWD_ERR_TLS;
}

/* OpenSSL has checked the chain, validity and purpose (preverify_ok); the
 * leaf must also be a device that may log in. */
static int verify_device(int preverify_ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
		xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct devices *devices = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	uint8_t fp[STORE_FINGERPRINT_LEN];
	X509 *cert;

	if (!preverify_ok)
		return 0;
	if (X509_STORE_CTX_get_error_depth(xs) != 0)
		return 1; /* the CA itself */
	cert = X509_STORE_CTX_get_current_cert(xs);
	if (tls_cert_fingerprint(cert, fp) != 0 ||
	    !devices_lookup(devices, fp, NULL)) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REVOKED);
		return 0;
	}
	return 1;
}

/* The application traffic secrets go to the connection's record layer,
 * which takes over once the handshake is done (tls_record.h). */
static void keep_traffic_secrets(const SSL *ssl, const char *line)
{
	struct tls_rec *r = SSL_get_app_data(ssl);

	if (r != NULL)
		tls_rec_keylog(r, line);
}

static int load_client_ca(SSL_CTX *ctx, const char *ca_path)
{
	STACK_OF(X509_NAME) *names;

	if (SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1)
		return BWD_ERR_TLS;
	if ((names = SSL_load_client_CA_file(ca_path)) == NULL)
		return BWD_ERR_TLS;
	SSL_CTX_set_client_CA_list(ctx, names);
	return 0;
}

/* Does the ClientHello's certificate_authorities extension (RFC 8446
 * §4.2.4: DistinguishedName authorities<3..2^16-1>, each opaque<1..2^16-1>)
 * name the CA, whose subject is subject[0..n)? */
static bool client_names(SSL *ssl, const unsigned char *subject, size_t n)
{
	const unsigned char *ext;
	const uint8_t *name;
	struct bw_reader r, list;
	uint16_t len;
	size_t ext_len;

	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_certificate_authorities,
				      &ext, &ext_len) != 1)
		return false;
	bw_reader_init(&r, ext, ext_len);
	if (bw_read_u16(&r, &len) != 0 || bw_read_bytes(&r, len, &name) != 0 ||
	    bw_reader_finish(&r) != 0)
		return false;
	bw_reader_init(&list, name, len);
	while (bw_reader_remaining(&list) > 0) {
		if (bw_read_u16(&list, &len) != 0 ||
		    bw_read_bytes(&list, len, &name) != 0)
			return false;
		if (len == n && memcmp(name, subject, n) == 0)
			return true;
	}
	return false;
}

/* The CA certificate travels with the server's own: a device that is
 * activating reads the organisation's MLS suite from it (its key type) and
 * compares its fingerprint with the one the administrator printed before
 * it sends anything (docs/protocol.md, "Activation"). A client that names
 * the CA among its certificate authorities has it already: RFC 8446 §4.4.2
 * lets the chain omit it, which spares the client parsing it again. */
static int choose_chain(SSL *ssl, int *alert, void *arg)
{
	STACK_OF(X509) *chain = NULL;
	const unsigned char *subject;
	size_t n;

	(void)alert;
	(void)arg;
	if (SSL_get0_chain_certs(ssl, &chain) != 1 ||
	    sk_X509_num(chain) != 1 ||
	    X509_NAME_get0_der(X509_get_subject_name(sk_X509_value(chain, 0)),
			       &subject, &n) != 1)
		return SSL_CLIENT_HELLO_SUCCESS; /* the chain as configured */
	if (client_names(ssl, subject, n) && SSL_set0_chain(ssl, NULL) != 1)
		return SSL_CLIENT_HELLO_ERROR;
	return SSL_CLIENT_HELLO_SUCCESS;
}

static int add_ca_to_chain(SSL_CTX *ctx, const char *ca_path)
{
	BIO *bio = BIO_new_file(ca_path, "r");
	X509 *ca = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	int rc = ca != NULL && SSL_CTX_add1_chain_cert(ctx, ca) == 1
			 ? 0
			 : BWD_ERR_TLS;

	if (rc == 0)
		SSL_CTX_set_client_hello_cb(ctx, choose_chain, NULL);
	X509_free(ca);
	BIO_free(bio);
	return rc;
}

int tls_context_new(const char *cert_path, const char *key_path,
		    const char *ca_path, struct devices *devices,
		    SSL_CTX **out)
{
	SSL_CTX *ctx;
	int rc = BWD_ERR_TLS;

	*out = NULL;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return BWD_ERR_TLS;
	/* TLS 1.3 only, with the suites the record layer protects. */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS_REC_CIPHERSUITES) != 1)
		goto out;
	SSL_CTX_set_keylog_callback(ctx, keep_traffic_secrets);
	/* Idle connections keep no record buffers; writes may be partial
	 * and resumed from our own buffer. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
				      SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_NO_AUTO_CHAIN);
	/* No resumption: every connection proves its certificate afresh, and
	 * no ticket keys or session cache to hold. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		log_error("tls: cannot load certificate %s", cert_path);
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_error("tls: cannot load the key %s or it does not match",
			  key_path);
		goto out;
	}
	if (load_client_ca(ctx, ca_path) != 0 ||
	    add_ca_to_chain(ctx, ca_path) != 0) {
		log_error("tls: cannot load the CA certificate %s", ca_path);
		goto out;
	}
	SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	/* The device certificate, signed by the CA itself: no intermediates. */
	SSL_CTX_set_verify_depth(ctx, 0);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE,
			   verify_device);
	SSL_CTX_set_app_data(ctx, devices);
	*out = ctx;
	ctx = NULL; /* transferred */
	rc = 0;
out:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

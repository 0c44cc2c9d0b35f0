/* tls_client.c - the TLS client context, handshake and error reading. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "bulwark/bulwark.h"
#include "net.h"
#include "tls_client.h"

/* ---- a socket BIO that never raises SIGPIPE ---- */

static BIO_METHOD *nosig_method;
static CRYPTO_ONCE nosig_once = CRYPTO_ONCE_STATIC_INIT;

static int nosig_write(BIO *b, const char *buf, int len)
{
	int fd = (int)BIO_get_fd(b, NULL);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		      errno == EINTR))
		BIO_set_retry_write(b);
	return (int)n;
}

/* OpenSSL's socket BIO with only the write replaced. */
static void nosig_init(void)
{
	const BIO_METHOD *sock = BIO_s_socket();
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK |
					     BIO_TYPE_DESCRIPTOR,
				     "bulwark socket");

	if (m == NULL)
		return;
	if (!BIO_meth_set_write(m, nosig_write) ||
	    !BIO_meth_set_read(m, BIO_meth_get_read(sock)) ||
	    !BIO_meth_set_puts(m, BIO_meth_get_puts(sock)) ||
	    !BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(sock)) ||
	    !BIO_meth_set_create(m, BIO_meth_get_create(sock)) ||
	    !BIO_meth_set_destroy(m, BIO_meth_get_destroy(sock))) {
		BIO_meth_free(m);
		return;
	}
	nosig_method = m;
}

static BIO *nosig_bio(int fd)
{
	BIO *b;

	if (!CRYPTO_THREAD_run_once(&nosig_once, nosig_init) ||
	    nosig_method == NULL || (b = BIO_new(nosig_method)) == NULL)
		return NULL;
	BIO_set_fd(b, fd, BIO_NOCLOSE);
	return b;
}

/* ---- context ---- */

/* The server must chain to the pinned CA alone (no intermediates), be
 * for TLS servers and name the server (RFC 6125 via OpenSSL). */
static int pin_ca(SSL_CTX *ctx, X509 *ca)
{
	X509_STORE *store = X509_STORE_new();

	if (store == NULL || X509_STORE_add_cert(store, ca) != 1 ||
	    X509_STORE_set_flags(store, X509_V_FLAG_X509_STRICT) != 1) {
		X509_STORE_free(store);
		return BULWARK_ERR_TLS;
	}
	SSL_CTX_set_cert_store(ctx, store); /* the context owns it now */
	SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	SSL_CTX_set_verify_depth(ctx, 0);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return 0;
}

static int new_context(const struct transport_config *cfg, SSL_CTX **out)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int rc = BULWARK_ERR_TLS;

	if (ctx == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1)
		goto out;
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (cfg->ca == NULL)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	else if ((rc = pin_ca(ctx, cfg->ca)) != 0)
		goto out;
	rc = BULWARK_ERR_TLS;
	if (cfg->cert != NULL &&
	    (SSL_CTX_use_certificate(ctx, cfg->cert) != 1 ||
	     SSL_CTX_use_PrivateKey(ctx, cfg->key) != 1 ||
	     SSL_CTX_check_private_key(ctx) != 1))
		goto out;
	*out = ctx;
	ctx = NULL; /* transferred */
	rc = 0;
out:
	SSL_CTX_free(ctx);
	return rc;
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

int tlsc_new(const struct transport_config *cfg, const char *sni_host, int fd,
	     SSL_CTX **ctx_out, SSL **ssl_out)
{
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	BIO *bio;
	int rc;

	*ctx_out = NULL;
	*ssl_out = NULL;
	if ((rc = new_context(cfg, &ctx)) != 0)
		goto out;
	rc = BULWARK_ERR_TLS;
	if ((ssl = SSL_new(ctx)) == NULL || (bio = nosig_bio(fd)) == NULL)
		goto out;
	SSL_set_bio(ssl, bio, bio);
	if (cfg->ca != NULL && SSL_set1_host(ssl, cfg->server_name) != 1)
		goto out;
	if (!is_ip_literal(sni_host) &&
	    SSL_set_tlsext_host_name(ssl, sni_host) != 1)
		goto out;
	SSL_set_connect_state(ssl);
	*ctx_out = ctx;
	*ssl_out = ssl;
	ctx = NULL; /* transferred */
	ssl = NULL;
	rc = 0;
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/* What an alert from the server says about our certificate. */
static int alert_code(int reason)
{
	switch (reason) {
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
		return BULWARK_ERR_DEVICE_REVOKED;
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
		return BULWARK_ERR_CERT_EXPIRED;
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
		return BULWARK_ERR_DEVICE_REFUSED;
	case SSL_R_CERTIFICATE_VERIFY_FAILED:
		return BULWARK_ERR_SERVER_CERT;
	default:
		return BULWARK_ERR_TLS;
	}
}

int tlsc_failure(SSL *ssl, int ret)
{
	unsigned long e;
	int rc;

	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_ZERO_RETURN:
		rc = BULWARK_ERR_CLOSED;
		break;
	case SSL_ERROR_SYSCALL:
		/* No alert: the peer hung up, or the socket failed. */
		rc = ERR_peek_error() == 0 ? BULWARK_ERR_CLOSED : BULWARK_ERR_TLS;
		break;
	case SSL_ERROR_SSL:
		e = ERR_peek_last_error();
		rc = ERR_GET_LIB(e) == ERR_LIB_SSL ? alert_code(ERR_GET_REASON(e))
						   : BULWARK_ERR_TLS;
		break;
	default:
		rc = BULWARK_ERR_TLS;
	}
	ERR_clear_error();
	return rc;
}

int tlsc_handshake(SSL *ssl, int fd, int64_t deadline)
{
	int r, rc;

	while ((r = SSL_connect(ssl)) != 1) {
		switch (SSL_get_error(ssl, r)) {
		case SSL_ERROR_WANT_READ:
			rc = net_wait(fd, POLLIN, deadline);
			break;
		case SSL_ERROR_WANT_WRITE:
			rc = net_wait(fd, POLLOUT, deadline);
			break;
		default:
			rc = tlsc_failure(ssl, r);
			/* Ended in the handshake: not a clean close. */
			return rc == BULWARK_ERR_CLOSED ? BULWARK_ERR_TLS : rc;
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

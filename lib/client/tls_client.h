/*
 * tls_client.h - the device's TLS 1.3 client (OpenSSL), for transport.c.
 *
 * No session resumption (every connection proves the certificate anew,
 * as the server requires), no SIGPIPE: the socket BIO writes with
 * MSG_NOSIGNAL, so a server that goes away cannot kill the application.
 */
#ifndef BW_CLIENT_TLS_CLIENT_H
#define BW_CLIENT_TLS_CLIENT_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "transport.h"

/* An SSL object on the connected socket fd for cfg: pinned CA or none,
 * client certificate or none. sni_host is sent as the server name
 * indication unless it is an IP address. *ctx and *ssl are the caller's. */
int tlsc_new(const struct transport_config *cfg, const char *sni_host, int fd,
	     SSL_CTX **ctx, SSL **ssl);
/* Run the handshake to its end or the deadline. */
int tlsc_handshake(SSL *ssl, int fd, int64_t deadline);
/* The error code for a TLS call that failed with result ret, telling
 * apart the server refusing our certificate (by the alert it sent), our
 * refusing the server's, and the connection ending. Clears OpenSSL's
 * error queue. */
int tlsc_failure(SSL *ssl, int ret);

#endif

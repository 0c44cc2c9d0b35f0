/*
 * tls_client.h - a simulated device's side of TLS: the client context
 * bulwark-load logs in with, and one device's SSL object on it. Shared by
 * bulwark-load and bench_handshake, so that the handshake measured alone
 * is the one the scenarios make.
 */
#ifndef LG_TLS_CLIENT_H
#define LG_TLS_CLIENT_H

#include <openssl/ssl.h>

#include "tls_record.h"

/* TLS 1.3 only, the server verified against the organisation's CA (in
 * ca_file) and its name, no session resumption. */
int tls_client_context(const char *ca_file, SSL_CTX **out);

/* A device's SSL object in connect state: its certificate and key, the
 * server's name (SNI and the check), and the record layer that takes
 * the traffic secrets (tls_rec_keylog). Returns -1 if OpenSSL refused. */
int tls_client_ssl(SSL_CTX *ctx, X509 *cert, EVP_PKEY *key,
		   const char *server_name, struct tls_rec *rec, SSL **out);

#endif

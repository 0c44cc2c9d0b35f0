/*
 * tls.h - the server's TLS context: TLS 1.3 only, the server certificate
 * from bulwarkctl init, and device authentication by client certificate.
 *
 * A client certificate is optional at the handshake (a device that is not
 * yet activated has none) but, when sent, must chain to the organisation's
 * CA, be within its validity, be meant for client authentication and
 * belong to a device that may log in (struct devices): otherwise the
 * handshake fails. Without a certificate a connection may only activate.
 *
 * Each SSL's app data is its connection's struct tls_rec: the context's
 * key log callback hands it the traffic secrets (tls_record.h).
 */
#ifndef BWD_TLS_H
#define BWD_TLS_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "devices.h"
#include "store.h"

int tls_context_new(const char *cert_path, const char *key_path,
		    const char *ca_path, struct devices *devices,
		    SSL_CTX **out);
/* SHA-256 of the certificate's DER encoding. */
int tls_cert_fingerprint(X509 *cert, uint8_t out[STORE_FINGERPRINT_LEN]);
/* The activation binding: RFC 8446 §7.5 exporter of this TLS session. */
int tls_activation_exporter(SSL *ssl, uint8_t *out, size_t n);

#endif

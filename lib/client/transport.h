/*
 * transport.h - one connection from a device to bulwarkd: TCP, TLS 1.3,
 * the WebSocket upgrade, and binary messages in both directions, each
 * step bounded by a timeout (docs/protocol.md, "Transport").
 *
 * Two ways to authenticate the server:
 *  - with a pinned CA (after activation): the server's certificate must
 *    chain to it, be for TLS servers and name server_name;
 *  - without (activation): TLS does not authenticate the server at all;
 *    the caller does, through the SPAKE2+ key confirmation bound to this
 *    session's exporter and the CA fingerprint (activate.c).
 * A client certificate and key, when given, authenticate the device
 * (mutual TLS).
 *
 * State: open (after transport_open) -> closed (the server's close frame,
 * an error, or transport_free). A transport belongs to one thread at a
 * time; it never blocks longer than the timeout it is given.
 */
#ifndef BW_CLIENT_TRANSPORT_H
#define BW_CLIENT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

struct transport_config {
	const char *address;     /* HOST:PORT or [IPV6]:PORT */
	X509 *ca;                /* pinned CA, or NULL during activation */
	const char *server_name; /* the server certificate's name (with ca) */
	X509 *cert;              /* the device's certificate and key, or NULL */
	EVP_PKEY *key;
	size_t max_message;      /* largest message accepted from the server */
	int timeout_ms;          /* for opening, and then each send (0: default) */
};

struct transport;

/* Connect, handshake and upgrade. Errors tell the steps apart:
 * BULWARK_ERR_RESOLVE/_UNREACHABLE/_TIMEOUT (TCP), _SERVER_CERT (the
 * pinned CA refused the server), _DEVICE_REVOKED/_CERT_EXPIRED/
 * _DEVICE_REFUSED (the server refused our certificate), _TLS, _UPGRADE. */
int transport_open(const struct transport_config *cfg, struct transport **out);
/* Send a clean close (1000), briefly wait for the server's, and free
 * (NULL is a no-op). */
void transport_free(struct transport *t);

/* Send one binary message, within timeout_ms (0: the default). */
int transport_send(struct transport *t, const uint8_t *p, size_t n,
		   int timeout_ms);
/* The next message within timeout_ms (0: only what is already there):
 * 0 with *msg valid until the next call, BULWARK_ERR_TIMEOUT,
 * BULWARK_ERR_CLOSED or BULWARK_ERR_DEVICE_REVOKED when the server closed
 * (transport_close_code() says how), or another error. */
int transport_recv(struct transport *t, int timeout_ms, const uint8_t **msg,
		   size_t *len);

int transport_fd(const struct transport *t);
/* Accept messages of up to max bytes from the server from now on. */
void transport_set_max_message(struct transport *t, size_t max);
/* The TLS session: for the exporter and the server's certificates. */
SSL *transport_ssl(const struct transport *t);
/* The server's close code and reason (0 and "" if it sent none). */
uint16_t transport_close_code(const struct transport *t);
const char *transport_close_reason(const struct transport *t);

#endif

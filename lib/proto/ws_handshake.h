/*
 * ws_handshake.h - the HTTP/1.1 half of the WebSocket opening handshake
 * (RFC 6455 §4), shared by bulwarkd, which reads the request, and the
 * clients (libbulwark, the load generator), which write it and read the
 * response.
 *
 * http-parser does the HTTP syntax; this module collects the few headers
 * the handshake depends on, with a limit on every length, and leaves the
 * verdict to each side (server/net/upgrade.c, lib/client/ws_client.c).
 * It does no I/O and allocates nothing: feed it bytes as they arrive.
 *
 *   struct wsh h;
 *   wsh_init(&h, HTTP_RESPONSE);
 *   switch (wsh_feed(&h, buf, n, &used)) {
 *   case WSH_MORE: read more; case WSH_DONE: judge h; default: refuse;
 *   }
 */
#ifndef BW_WS_HANDSHAKE_H
#define BW_WS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

/* The request or status line and the headers must fit in this. */
#define WSH_MAX_HEAD 4096u
#define WSH_FIELD_MAX 32u
#define WSH_VALUE_MAX 256u
#define WSH_URL_MAX 64u
#define WSH_KEY_LEN 24u    /* Sec-WebSocket-Key: base64 of 16 bytes */
#define WSH_ACCEPT_LEN 28u /* Sec-WebSocket-Accept: base64 of a SHA-1 */

enum wsh_result {
	WSH_MORE = 0,      /* the head is not complete yet */
	WSH_DONE = 1,      /* complete: judge what was collected */
	WSH_TOO_LONG = 2,  /* a header or the whole head is over its limit */
	WSH_MALFORMED = 3, /* not HTTP/1.x */
};

struct wsh {
	http_parser parser; /* method, status_code, http_major/minor */
	size_t total;       /* head bytes parsed so far */
	char field[WSH_FIELD_MAX + 1];
	size_t field_len;
	char value[WSH_VALUE_MAX + 1];
	size_t value_len;
	bool in_value;
	bool too_long; /* a field or value over its limit */
	/* The request target; url_len > WSH_URL_MAX: longer than any path
	 * Bulwark serves. */
	char url[WSH_URL_MAX];
	size_t url_len;
	/* What the headers said. */
	bool has_upgrade;    /* Upgrade lists "websocket" */
	bool has_connection; /* Connection lists "upgrade" */
	bool version_ok;     /* Sec-WebSocket-Version: 13 */
	bool protocol_ok;    /* Sec-WebSocket-Protocol lists ours */
	char key[WSH_KEY_LEN + 1];       /* a well-formed key, or "" */
	char accept[WSH_ACCEPT_LEN + 1]; /* an accept value of the right length, or "" */
	bool headers_done;
	bool complete; /* the whole message; the parser stops after it */
};

/* Ready to read a request (the server) or a response (the client). */
void wsh_init(struct wsh *h, enum http_parser_type type);
/* Feed head bytes. *used tells how many belong to the HTTP message: after
 * WSH_DONE, the bytes past them are the first WebSocket frames. */
enum wsh_result wsh_feed(struct wsh *h, const uint8_t *p, size_t n,
			 size_t *used);
/* Was the request target exactly path? */
bool wsh_url_is(const struct wsh *h, const char *path);
/* The Sec-WebSocket-Accept value for a key (RFC 6455 §4.2.2 item 5.4):
 * base64(SHA-1(key || GUID)). 0 or -1 if the digest fails. */
int wsh_accept_value(const char key[WSH_KEY_LEN + 1],
		     char out[WSH_ACCEPT_LEN + 1]);
/* The client's opening request (§4.1) to host, with a fresh random key,
 * into req (cap bytes; *len: its length); accept gets the value the
 * server must answer with. 0, -1 (no randomness or no SHA-1) or -2 (a
 * host too long for cap). */
int wsh_client_request(const char *host, char accept[WSH_ACCEPT_LEN + 1],
		       char *req, size_t cap, size_t *len);

#endif

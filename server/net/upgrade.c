/* upgrade.c - check the WebSocket opening handshake (RFC 6455 §4.2.1) and
 * answer it (§4.2.2). The HTTP syntax is http-parser's job; collecting the
 * headers is lib/proto/ws_handshake.c's, shared with the device library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "upgrade.h"
#include "ws_handshake.h"

struct upgrade {
	struct wsh h;
	int status;
};

int upgrade_new(struct upgrade **out)
{
	struct upgrade *u;

	if ((*out = u = calloc(1, sizeof(*u))) == NULL)
		return -1;
	wsh_init(&u->h, HTTP_REQUEST);
	return 0;
}

void upgrade_free(struct upgrade *u)
{
	free(u);
}

static enum upgrade_result reject(struct upgrade *u, int status)
{
	u->status = status;
	return UPGRADE_REJECT;
}

static enum upgrade_result judge(struct upgrade *u)
{
	const struct wsh *h = &u->h;

	if (h->parser.method != HTTP_GET)
		return reject(u, 405);
	if (h->parser.http_major != 1 || h->parser.http_minor < 1)
		return reject(u, 400);
	if (!wsh_url_is(h, PROTO_WS_PATH))
		return reject(u, 404);
	if (!h->has_upgrade || !h->has_connection || !h->version_ok)
		return reject(u, 426);
	if (h->key[0] == '\0' || !h->protocol_ok)
		return reject(u, 400);
	return UPGRADE_ACCEPT;
}

enum upgrade_result upgrade_feed(struct upgrade *u, const uint8_t *p,
				 size_t n, size_t *used)
{
	switch (wsh_feed(&u->h, p, n, used)) {
	case WSH_DONE:
		return judge(u);
	case WSH_TOO_LONG:
		return reject(u, 431);
	case WSH_MALFORMED:
		return reject(u, 400);
	case WSH_MORE:
		break;
	}
	return UPGRADE_MORE;
}

int upgrade_status(const struct upgrade *u)
{
	return u->status;
}

size_t upgrade_response(const struct upgrade *u, char *buf, size_t size)
{
	char accept[WSH_ACCEPT_LEN + 1];
	int n;

	if (wsh_accept_value(u->h.key, accept) != 0)
		return 0;
	n = snprintf(buf, size,
		     "HTTP/1.1 101 Switching Protocols\r\n"
		     "Upgrade: websocket\r\n"
		     "Connection: Upgrade\r\n"
		     "Sec-WebSocket-Accept: %s\r\n"
		     "Sec-WebSocket-Protocol: " PROTO_WS_SUBPROTOCOL "\r\n"
		     "\r\n",
		     accept);
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

static const char *reason_of(int status)
{
	switch (status) {
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 426: return "Upgrade Required";
	case 431: return "Request Header Fields Too Large";
	default: return "Bad Request";
	}
}

size_t upgrade_error_response(int status, char *buf, size_t size)
{
	int n = snprintf(buf, size,
			 "HTTP/1.1 %d %s\r\n"
			 "Connection: close\r\n"
			 "Content-Type: text/plain\r\n"
			 "Content-Length: %zu\r\n"
			 "%s"
			 "\r\n"
			 "%s\n",
			 status, reason_of(status),
			 strlen(reason_of(status)) + 1,
			 status == 426 ? "Sec-WebSocket-Version: 13\r\n"
				       : "",
			 reason_of(status));

	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

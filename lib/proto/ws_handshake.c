/* ws_handshake.c - collect the headers of a WebSocket opening handshake
 * (RFC 6455 §4.1, §4.2) from http-parser's callbacks. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "proto.h"
#include "ws_handshake.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum header {
	H_OTHER,
	H_UPGRADE,
	H_CONNECTION,
	H_VERSION,
	H_KEY,
	H_ACCEPT,
	H_PROTOCOL,
};

/* Does the comma-separated list s contain token (case-insensitive)? */
static bool list_has(const char *s, const char *token)
{
	size_t tlen = strlen(token);

	while (*s) {
		const char *end;
		size_t len;

		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		end = s;
		while (*end && *end != ',')
			end++;
		len = (size_t)(end - s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len == tlen && strncasecmp(s, token, tlen) == 0)
			return true;
		s = end;
	}
	return false;
}

static enum header classify(const char *field)
{
	static const struct {
		const char *name;
		enum header h;
	} known[] = {
		{ "Upgrade", H_UPGRADE },
		{ "Connection", H_CONNECTION },
		{ "Sec-WebSocket-Version", H_VERSION },
		{ "Sec-WebSocket-Key", H_KEY },
		{ "Sec-WebSocket-Accept", H_ACCEPT },
		{ "Sec-WebSocket-Protocol", H_PROTOCOL },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcasecmp(field, known[i].name) == 0)
			return known[i].h;
	return H_OTHER;
}

static bool key_valid(const char *v)
{
	unsigned char raw[20];

	if (strlen(v) != WSH_KEY_LEN || v[WSH_KEY_LEN - 2] != '=' ||
	    v[WSH_KEY_LEN - 1] != '=')
		return false;
	/* 24 base64 characters decode to 18 bytes, the last two padding. */
	return EVP_DecodeBlock(raw, (const unsigned char *)v, WSH_KEY_LEN) == 18;
}

/* One header (field and value) is complete. */
static void header_done(struct wsh *h)
{
	if (!h->in_value)
		return;
	h->field[h->field_len] = '\0';
	h->value[h->value_len] = '\0';
	switch (classify(h->field)) {
	case H_UPGRADE:
		h->has_upgrade |= list_has(h->value, "websocket");
		break;
	case H_CONNECTION:
		h->has_connection |= list_has(h->value, "upgrade");
		break;
	case H_VERSION:
		h->version_ok = strcmp(h->value, "13") == 0;
		break;
	case H_KEY:
		if (key_valid(h->value))
			memcpy(h->key, h->value, WSH_KEY_LEN + 1);
		break;
	case H_ACCEPT:
		if (h->value_len == WSH_ACCEPT_LEN)
			memcpy(h->accept, h->value, WSH_ACCEPT_LEN + 1);
		break;
	case H_PROTOCOL:
		h->protocol_ok |= list_has(h->value, PROTO_WS_SUBPROTOCOL);
		break;
	case H_OTHER:
		break;
	}
	h->field_len = h->value_len = 0;
	h->in_value = false;
}

static int append(char *dst, size_t *len, size_t max, const char *p, size_t n,
		  bool *too_long)
{
	if (*len + n > max) {
		*too_long = true;
		return 1; /* stop the parser */
	}
	memcpy(dst + *len, p, n);
	*len += n;
	return 0;
}

/* The URL may arrive in pieces; only an exact path is ever accepted, so a
 * longer one need not be kept. */
static int on_url(http_parser *p, const char *at, size_t n)
{
	struct wsh *h = p->data;

	if (h->url_len + n > WSH_URL_MAX) {
		h->url_len = WSH_URL_MAX + 1;
		return 0;
	}
	memcpy(h->url + h->url_len, at, n);
	h->url_len += n;
	return 0;
}

static int on_field(http_parser *p, const char *at, size_t n)
{
	struct wsh *h = p->data;

	header_done(h);
	return append(h->field, &h->field_len, WSH_FIELD_MAX, at, n,
		      &h->too_long);
}

static int on_value(http_parser *p, const char *at, size_t n)
{
	struct wsh *h = p->data;

	h->in_value = true;
	return append(h->value, &h->value_len, WSH_VALUE_MAX, at, n,
		      &h->too_long);
}

static int on_headers_complete(http_parser *p)
{
	struct wsh *h = p->data;

	header_done(h);
	h->headers_done = true;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct wsh *h = p->data;

	h->complete = true;
	http_parser_pause(p, 1); /* one message only */
	return 0;
}

static const http_parser_settings settings = {
	.on_url = on_url,
	.on_header_field = on_field,
	.on_header_value = on_value,
	.on_headers_complete = on_headers_complete,
	.on_message_complete = on_message_complete,
};

void wsh_init(struct wsh *h, enum http_parser_type type)
{
	memset(h, 0, sizeof(*h));
	http_parser_init(&h->parser, type);
	h->parser.data = h;
}

/* A response is judged on its head alone: a refusal's body is of no
 * interest, and a 101 has none. */
static bool done(const struct wsh *h)
{
	if (h->complete || h->parser.upgrade)
		return true;
	return h->parser.type == HTTP_RESPONSE && h->headers_done;
}

enum wsh_result wsh_feed(struct wsh *h, const uint8_t *p, size_t n,
			 size_t *used)
{
	size_t parsed;
	enum http_errno err;

	if (h->total + n > WSH_MAX_HEAD)
		n = WSH_MAX_HEAD - h->total; /* the rest cannot matter */
	parsed = http_parser_execute(&h->parser, &settings, (const char *)p,
				     n);
	h->total += parsed;
	*used = parsed;
	err = HTTP_PARSER_ERRNO(&h->parser);
	if (h->too_long)
		return WSH_TOO_LONG;
	if (done(h))
		return WSH_DONE;
	if (err != HPE_OK)
		return WSH_MALFORMED;
	if (h->total >= WSH_MAX_HEAD)
		return WSH_TOO_LONG;
	return WSH_MORE;
}

bool wsh_url_is(const struct wsh *h, const char *path)
{
	size_t n = strlen(path);

	return h->url_len == n && memcmp(h->url, path, n) == 0;
}

int wsh_accept_value(const char key[WSH_KEY_LEN + 1],
		     char out[WSH_ACCEPT_LEN + 1])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	char input[WSH_KEY_LEN + sizeof(WS_GUID)];
	unsigned int dlen;
	int n;

	n = snprintf(input, sizeof(input), "%s%s", key, WS_GUID);
	if (n < 0 || !EVP_Digest(input, (size_t)n, digest, &dlen, EVP_sha1(),
				 NULL))
		return -1;
	return EVP_EncodeBlock((unsigned char *)out, digest, (int)dlen) ==
		       (int)WSH_ACCEPT_LEN
		       ? 0
		       : -1;
}

int wsh_client_request(const char *host, char accept[WSH_ACCEPT_LEN + 1],
		       char *req, size_t cap, size_t *len)
{
	uint8_t nonce[16]; /* the key is base64 of 16 random bytes */
	char key[WSH_KEY_LEN + 1];
	int n;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)key, nonce, sizeof(nonce));
	if (wsh_accept_value(key, accept) != 0)
		return -1;
	n = snprintf(req, cap,
		     "GET " PROTO_WS_PATH " HTTP/1.1\r\n"
		     "Host: %s\r\n"
		     "Upgrade: websocket\r\n"
		     "Connection: Upgrade\r\n"
		     "Sec-WebSocket-Key: %s\r\n"
		     "Sec-WebSocket-Version: 13\r\n"
		     "Sec-WebSocket-Protocol: " PROTO_WS_SUBPROTOCOL "\r\n"
		     "\r\n",
		     host, key);
	if (n < 0 || (size_t)n >= cap)
		return -2;
	*len = (size_t)n;
	return 0;
}

/* upgrade.c - check the WebSocket opening handshake (RFC 6455 §4.2.1) and
 * answer it (§4.2.2). The HTTP syntax is http-parser's job. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>
#include <openssl/evp.h>

#include "proto.h"
#include "upgrade.h"

#define FIELD_MAX 32
#define URL_MAX 64
#define VALUE_MAX 256
#define WS_KEY_LEN 24 /* base64 of 16 bytes */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum header {
	H_OTHER,
	H_UPGRADE,
	H_CONNECTION,
	H_VERSION,
	H_KEY,
	H_PROTOCOL,
};

struct upgrade {
	http_parser parser;
	size_t total;
	char field[FIELD_MAX + 1];
	size_t field_len;
	char value[VALUE_MAX + 1];
	size_t value_len;
	bool in_value;
	bool too_long;    /* a field or value over its limit */
	char url[URL_MAX];
	size_t url_len; /* URL_MAX + 1: longer than any path we serve */
	bool has_upgrade, has_connection, version_ok, protocol_ok;
	bool complete;
	char key[WS_KEY_LEN + 1];
	int status;
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
	if (strcasecmp(field, "Upgrade") == 0)
		return H_UPGRADE;
	if (strcasecmp(field, "Connection") == 0)
		return H_CONNECTION;
	if (strcasecmp(field, "Sec-WebSocket-Version") == 0)
		return H_VERSION;
	if (strcasecmp(field, "Sec-WebSocket-Key") == 0)
		return H_KEY;
	if (strcasecmp(field, "Sec-WebSocket-Protocol") == 0)
		return H_PROTOCOL;
	return H_OTHER;
}

static bool key_valid(const char *v)
{
	unsigned char raw[20];

	if (strlen(v) != WS_KEY_LEN || v[WS_KEY_LEN - 2] != '=' ||
	    v[WS_KEY_LEN - 1] != '=')
		return false;
	/* 24 base64 characters decode to 18 bytes, the last two padding. */
	return EVP_DecodeBlock(raw, (const unsigned char *)v, WS_KEY_LEN) == 18;
}

/* One header (field and value) is complete. */
static void header_done(struct upgrade *u)
{
	if (!u->in_value)
		return;
	u->field[u->field_len] = '\0';
	u->value[u->value_len] = '\0';
	switch (classify(u->field)) {
	case H_UPGRADE:
		u->has_upgrade |= list_has(u->value, "websocket");
		break;
	case H_CONNECTION:
		u->has_connection |= list_has(u->value, "upgrade");
		break;
	case H_VERSION:
		u->version_ok = strcmp(u->value, "13") == 0;
		break;
	case H_KEY:
		if (key_valid(u->value))
			memcpy(u->key, u->value, WS_KEY_LEN + 1);
		break;
	case H_PROTOCOL:
		u->protocol_ok |= list_has(u->value, PROTO_WS_SUBPROTOCOL);
		break;
	case H_OTHER:
		break;
	}
	u->field_len = u->value_len = 0;
	u->in_value = false;
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

/* The URL may arrive in pieces; only the exact path is accepted, so a
 * longer one need not be kept. */
static int on_url(http_parser *p, const char *at, size_t n)
{
	struct upgrade *u = p->data;

	if (u->url_len + n > URL_MAX) {
		u->url_len = URL_MAX + 1;
		return 0;
	}
	memcpy(u->url + u->url_len, at, n);
	u->url_len += n;
	return 0;
}

static int on_field(http_parser *p, const char *at, size_t n)
{
	struct upgrade *u = p->data;

	header_done(u);
	return append(u->field, &u->field_len, FIELD_MAX, at, n, &u->too_long);
}

static int on_value(http_parser *p, const char *at, size_t n)
{
	struct upgrade *u = p->data;

	u->in_value = true;
	return append(u->value, &u->value_len, VALUE_MAX, at, n, &u->too_long);
}

static int on_headers_complete(http_parser *p)
{
	header_done(p->data);
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct upgrade *u = p->data;

	u->complete = true;
	http_parser_pause(p, 1); /* one request only */
	return 0;
}

static const http_parser_settings settings = {
	.on_url = on_url,
	.on_header_field = on_field,
	.on_header_value = on_value,
	.on_headers_complete = on_headers_complete,
	.on_message_complete = on_message_complete,
};

int upgrade_new(struct upgrade **out)
{
	struct upgrade *u;

	if ((*out = u = calloc(1, sizeof(*u))) == NULL)
		return -1;
	http_parser_init(&u->parser, HTTP_REQUEST);
	u->parser.data = u;
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
	if (u->parser.method != HTTP_GET)
		return reject(u, 405);
	if (u->parser.http_major != 1 || u->parser.http_minor < 1)
		return reject(u, 400);
	if (u->url_len != sizeof(PROTO_WS_PATH) - 1 ||
	    memcmp(u->url, PROTO_WS_PATH, u->url_len) != 0)
		return reject(u, 404);
	if (!u->has_upgrade || !u->has_connection || !u->version_ok)
		return reject(u, 426);
	if (u->key[0] == '\0' || !u->protocol_ok)
		return reject(u, 400);
	return UPGRADE_ACCEPT;
}

enum upgrade_result upgrade_feed(struct upgrade *u, const uint8_t *p,
				 size_t n, size_t *used)
{
	size_t parsed;
	enum http_errno err;

	*used = 0;
	if (u->total + n > UPGRADE_MAX_REQUEST)
		n = UPGRADE_MAX_REQUEST - u->total; /* the rest cannot matter */
	parsed = http_parser_execute(&u->parser, &settings, (const char *)p, n);
	u->total += parsed;
	*used = parsed;
	err = HTTP_PARSER_ERRNO(&u->parser);
	if (u->too_long)
		return reject(u, 431);
	if (u->complete || u->parser.upgrade)
		return judge(u);
	if (err != HPE_OK)
		return reject(u, 400);
	if (u->total >= UPGRADE_MAX_REQUEST)
		return reject(u, 431);
	return UPGRADE_MORE;
}

int upgrade_status(const struct upgrade *u)
{
	return u->status;
}

size_t upgrade_response(const struct upgrade *u, char *buf, size_t size)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	char input[WS_KEY_LEN + sizeof(WS_GUID)];
	char accept[32];
	unsigned int dlen;
	int n;

	/* Sec-WebSocket-Accept = base64(SHA-1(key || GUID)), §4.2.2. */
	n = snprintf(input, sizeof(input), "%s%s", u->key, WS_GUID);
	if (n < 0 || !EVP_Digest(input, (size_t)n, digest, &dlen, EVP_sha1(),
				 NULL))
		return 0;
	EVP_EncodeBlock((unsigned char *)accept, digest, (int)dlen);
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

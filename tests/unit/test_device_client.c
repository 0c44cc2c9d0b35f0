/* test_device_client.c - libbulwark's pieces that need no server: the
 * activation values and URI, server addresses, and the WebSocket client
 * (opening handshake and frames) over bytes from memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulwark/bulwark.h"
#include "net.h"
#include "test.h"
#include "ws_client.h"

#define FP_HEX "BFE86085C641778B047667053C8FAA28188295335779041DEDDFC572238C0C17"

/* ---- activation values ---- */

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static bool test_activation_uri(void)
{
	struct bulwark_activation a;

	CHECK(bulwark_activation_parse_uri(
		      "bulwark://activate?server=localhost:8443&user=alice&"
		      "code=inv65h75a6&pw=RCBD8WKERLSABLSU&ca=" FP_HEX,
		      &a) == 0);
	CHECK(strcmp(a.server, "localhost:8443") == 0);
	CHECK(strcmp(a.user, "alice") == 0);
	CHECK(strcmp(a.code_id, "inv65h75a6") == 0);
	CHECK(strcmp(a.password, "RCBD8WKERLSABLSU") == 0);
	CHECK(a.ca_fingerprint[0] == 0xBF && a.ca_fingerprint[31] == 0x17);
	bulwark_activation_clear(&a);
	CHECK(all_zero(&a, sizeof(a)));
	/* Percent-encoding, any order, an unknown key left alone. */
	CHECK(bulwark_activation_parse_uri(
		      "bulwark://activate?v=2&ca=" FP_HEX "&pw=ab%2Dcd&user=bob"
		      "&code=c1&server=%5B%3A%3A1%5D%3A443",
		      &a) == 0);
	CHECK(strcmp(a.server, "[::1]:443") == 0);
	CHECK(strcmp(a.password, "ABCD") == 0);
	bulwark_activation_clear(&a);
	/* Missing, repeated, malformed. */
	CHECK_EQ_INT(bulwark_activation_parse_uri(
			     "bulwark://activate?server=h:1&user=u&code=c&pw=p",
			     &a),
		     BULWARK_ERR_ACTIVATION_URI);
	CHECK_EQ_INT(bulwark_activation_parse_uri(
			     "bulwark://activate?server=h:1&user=u&user=v&code=c"
			     "&pw=p&ca=" FP_HEX,
			     &a),
		     BULWARK_ERR_ACTIVATION_URI);
	CHECK_EQ_INT(bulwark_activation_parse_uri("https://activate?x=1", &a),
		     BULWARK_ERR_ACTIVATION_URI);
	CHECK_EQ_INT(bulwark_activation_parse_uri(
			     "bulwark://activate?server=h:1&user=u&code=c&pw=p%4"
			     "&ca=" FP_HEX,
			     &a),
		     BULWARK_ERR_ACTIVATION_URI);
	CHECK_EQ_INT(bulwark_activation_parse_uri(
			     "bulwark://activate?server=h:1&user=u&code=c&pw=p%00"
			     "&ca=" FP_HEX,
			     &a),
		     BULWARK_ERR_ACTIVATION_URI);
	CHECK(all_zero(&a, sizeof(a)));
	return true;
}

static bool test_activation_values(void)
{
	struct bulwark_activation a;
	char colons[100];
	size_t j = 0;

	/* The fingerprint as bulwarkctl prints it, with colons. */
	for (size_t i = 0; i < 64; i += 2) {
		colons[j++] = FP_HEX[i];
		colons[j++] = FP_HEX[i + 1];
		colons[j++] = i + 2 < 64 ? ':' : '\0';
	}
	CHECK(bulwark_activation_set(&a, "bulwark.example:443", "alice", "c1",
				     "rcbd-8wke rlsa-blsu", colons) == 0);
	CHECK(strcmp(a.password, "RCBD8WKERLSABLSU") == 0);
	CHECK(a.ca_fingerprint[1] == 0xE8);
	bulwark_activation_clear(&a);
	CHECK_EQ_INT(bulwark_activation_set(&a, "nohost", "alice", "c1", "pw",
					    FP_HEX),
		     BULWARK_ERR_ADDRESS);
	CHECK_EQ_INT(bulwark_activation_set(&a, "h:1", "Alice", "c1", "pw",
					    FP_HEX),
		     BULWARK_ERR_USER_NAME);
	CHECK_EQ_INT(bulwark_activation_set(&a, "h:1", "alice",
					    "a-code-id-that-is-longer-than-32x",
					    "pw", FP_HEX),
		     BULWARK_ERR_CODE_ID);
	CHECK_EQ_INT(bulwark_activation_set(&a, "h:1", "alice", "c1", "- -",
					    FP_HEX),
		     BULWARK_ERR_PASSWORD);
	CHECK_EQ_INT(bulwark_activation_set(&a, "h:1", "alice", "c1", "pw\t",
					    FP_HEX),
		     BULWARK_ERR_PASSWORD);
	CHECK_EQ_INT(bulwark_activation_set(&a, "h:1", "alice", "c1", "pw",
					    FP_HEX "00"),
		     BULWARK_ERR_FINGERPRINT);
	memcpy(colons, FP_HEX, sizeof(FP_HEX));
	colons[0] = 'X';
	CHECK_EQ_INT(bulwark_activation_set(&a, "h:1", "alice", "c1", "pw",
					    colons),
		     BULWARK_ERR_FINGERPRINT);
	CHECK(all_zero(&a, sizeof(a)));
	return true;
}

static bool test_addresses(void)
{
	char host[NET_MAX_HOST], port[NET_MAX_PORT];

	CHECK(net_split_address("localhost:8443", host, port) == 0);
	CHECK(strcmp(host, "localhost") == 0 && strcmp(port, "8443") == 0);
	CHECK(net_split_address("[2001:db8::1]:443", host, port) == 0);
	CHECK(strcmp(host, "2001:db8::1") == 0 && strcmp(port, "443") == 0);
	CHECK(net_split_address("192.0.2.1:1", host, port) == 0);
	CHECK_EQ_INT(net_split_address("2001:db8::1:443", host, port),
		     BULWARK_ERR_ADDRESS);
	CHECK_EQ_INT(net_split_address("host:", host, port), BULWARK_ERR_ADDRESS);
	CHECK_EQ_INT(net_split_address(":443", host, port), BULWARK_ERR_ADDRESS);
	CHECK_EQ_INT(net_split_address("host:65536", host, port),
		     BULWARK_ERR_ADDRESS);
	CHECK_EQ_INT(net_split_address("host:0", host, port),
		     BULWARK_ERR_ADDRESS);
	CHECK_EQ_INT(net_split_address("a b:1", host, port), BULWARK_ERR_ADDRESS);
	CHECK_EQ_INT(net_split_address("[::1]443", host, port),
		     BULWARK_ERR_ADDRESS);
	return true;
}

/* ---- the WebSocket client over memory ---- */

/* The server's bytes, handed out `chunk` at a time; then the end. */
struct mem {
	const uint8_t *p;
	size_t n, off, chunk;
};

static ssize_t mem_read(void *io, uint8_t *buf, size_t len)
{
	struct mem *m = io;
	size_t k = m->n - m->off;

	if (k == 0)
		return BULWARK_ERR_CLOSED;
	if (k > len)
		k = len;
	if (k > m->chunk)
		k = m->chunk;
	memcpy(buf, m->p + m->off, k);
	m->off += k;
	return (ssize_t)k;
}

/* A server frame (unmasked unless mask), appended at b[*n]. */
static void frame(uint8_t *b, size_t *n, uint8_t b0, const char *payload,
		  size_t len, bool mask)
{
	b[(*n)++] = b0;
	b[(*n)++] = (uint8_t)((mask ? 0x80 : 0) | len);
	if (mask) {
		memset(b + *n, 0, 4); /* a zero mask leaves the payload as is */
		*n += 4;
	}
	memcpy(b + *n, payload, len);
	*n += len;
}

static int recv_one(const uint8_t *bytes, size_t n, size_t chunk,
		    size_t max, struct wsc *w, const uint8_t **msg,
		    size_t *len)
{
	static struct mem m;
	int rc;

	m = (struct mem){ bytes, n, 0, chunk };
	if (wsc_init(w, mem_read, &m, max) != 0)
		return -1;
	while ((rc = wsc_recv(w, msg, len)) == WSC_AGAIN)
		;
	return rc;
}

static bool test_frames(void)
{
	uint8_t b[512];
	const uint8_t *msg;
	size_t n = 0, len;
	struct wsc w;

	/* Fragmented, with a ping in between; one byte at a time. */
	frame(b, &n, 0x02, "hel", 3, false);
	frame(b, &n, 0x89, "pi", 2, false);
	frame(b, &n, 0x80, "lo", 2, false);
	CHECK_EQ_INT(recv_one(b, n, 1, 64, &w, &msg, &len), 0);
	CHECK_MEM(msg, len, "hello", 5);
	/* The pong went out masked (§5.3), with the ping's payload. */
	CHECK(w.out.len == 2 + 4 + 2 && w.out.buf[0] == 0x8A &&
	      w.out.buf[1] == 0x82);
	CHECK((w.out.buf[6] ^ w.out.buf[2]) == 'p' &&
	      (w.out.buf[7] ^ w.out.buf[3]) == 'i');
	wsc_clear(&w);
	/* The server's close: its code and reason; ours goes back. */
	n = 0;
	frame(b, &n, 0x88, "\x03\xf0" "device revoked", 16, false);
	CHECK_EQ_INT(recv_one(b, n, 100, 64, &w, &msg, &len),
		     BULWARK_ERR_CLOSED);
	CHECK_EQ_INT(w.close_code, 1008);
	CHECK(strcmp(w.close_reason, "device revoked") == 0);
	CHECK(w.out.len == 2 + 4 + 2 && w.out.buf[0] == 0x88);
	wsc_clear(&w);
	/* The connection ends in the middle of a frame. */
	n = 0;
	frame(b, &n, 0x82, "truncated", 9, false);
	CHECK_EQ_INT(recv_one(b, n - 3, 100, 64, &w, &msg, &len),
		     BULWARK_ERR_CLOSED);
	wsc_clear(&w);
	return true;
}

/* A violation by the server: its frames, the error, the close code. */
struct violation {
	struct {
		uint8_t b0;
		const char *payload;
		bool mask;
	} frames[2];
	size_t max_message;
	int err;
	uint16_t close_code;
};

static bool refused_as_expected(const struct violation *v)
{
	uint8_t b[512];
	const uint8_t *msg;
	size_t n = 0, len;
	struct wsc w;
	bool ok;

	for (size_t i = 0; i < 2 && v->frames[i].payload != NULL; i++)
		frame(b, &n, v->frames[i].b0, v->frames[i].payload,
		      strlen(v->frames[i].payload), v->frames[i].mask);
	ok = recv_one(b, n, 100, v->max_message, &w, &msg, &len) == v->err &&
	     w.out.len >= 8 && w.out.buf[0] == 0x88 &&
	     (uint16_t)((w.out.buf[6] ^ w.out.buf[2]) << 8 |
			(w.out.buf[7] ^ w.out.buf[3])) == v->close_code;
	wsc_clear(&w);
	return ok;
}

static bool test_frame_violations(void)
{
	static const struct violation cases[] = {
		{ { { 0x82, "masked", true } }, 64, BULWARK_ERR_WEBSOCKET, 1002 },
		{ { { 0x81, "text", false } }, 64, BULWARK_ERR_WEBSOCKET, 1003 },
		{ { { 0x80, "cont", false } }, 64, BULWARK_ERR_WEBSOCKET, 1002 },
		{ { { 0x02, "a", false }, { 0x82, "b", false } },
		  64, BULWARK_ERR_WEBSOCKET, 1002 },
		{ { { 0xC2, "rsv", false } }, 64, BULWARK_ERR_WEBSOCKET, 1002 },
		{ { { 0x83, "op", false } }, 64, BULWARK_ERR_WEBSOCKET, 1002 },
		/* Over the limit in all, though each fragment fits. */
		{ { { 0x02, "0123456789", false }, { 0x80, "0123456789", false } },
		  16, BULWARK_ERR_TOO_BIG, 1009 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(refused_as_expected(&cases[i]));
	return true;
}

/* The key of the request the client queued, and the accept it wants. */
static void accept_for(const struct wsc *w, char accept[WSH_ACCEPT_LEN + 1])
{
	char key[WSH_KEY_LEN + 1];
	const char *k = strstr((const char *)w->out.buf, "Sec-WebSocket-Key: ");

	memcpy(key, k + 19, WSH_KEY_LEN);
	key[WSH_KEY_LEN] = '\0';
	wsh_accept_value(key, accept);
}

/* A response around the accept value: before || accept || after. */
struct response {
	const char *before, *after;
};

static int upgrade(const struct response *r, bool right_accept, size_t chunk,
		   struct wsc *w, struct mem *m, char *resp, size_t size)
{
	char accept[WSH_ACCEPT_LEN + 1];
	int rc, n;

	if (wsc_init(w, mem_read, m, 64) != 0 ||
	    wsc_upgrade_request(w, "bulwark.example:443") != 0 ||
	    bw_write_u8(&w->out, 0) != 0) /* a NUL for strstr */
		return -1;
	accept_for(w, accept);
	if (!right_accept)
		accept[0] = accept[0] == 'A' ? 'B' : 'A';
	n = snprintf(resp, size, "%s%s%s", r->before, accept, r->after);
	*m = (struct mem){ (const uint8_t *)resp, (size_t)n, 0, chunk };
	while ((rc = wsc_upgrade_read(w)) == WSC_AGAIN)
		;
	return rc;
}

static bool test_upgrade(void)
{
	static const struct response ok = {
		"HTTP/1.1 101 Switching Protocols\r\n"
		"Upgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Accept: ",
		"\r\nSec-WebSocket-Protocol: bulwark.v1\r\n\r\n"
		"\x82\x02hi",
	};
	static const struct response no_protocol = {
		"HTTP/1.1 101 Switching Protocols\r\n"
		"Upgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Accept: ",
		"\r\n\r\n",
	};
	static const struct response not_found = {
		"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\nX-Accept: ",
		"\r\n\r\nNot Found\n",
	};
	char resp[8192];
	const uint8_t *msg;
	size_t len;
	struct mem m;
	struct wsc w;

	/* Accepted, in one piece and byte by byte; the frame that came
	 * with the response is the first message. */
	for (size_t chunk = 1; chunk <= 4096; chunk += 4095) {
		CHECK_EQ_INT(upgrade(&ok, true, chunk, &w, &m, resp,
				     sizeof(resp)),
			     0);
		while (wsc_recv(&w, &msg, &len) == WSC_AGAIN)
			;
		CHECK_MEM(msg, len, "hi", 2);
		wsc_clear(&w);
	}
	CHECK_EQ_INT(upgrade(&ok, false, 4096, &w, &m, resp, sizeof(resp)),
		     BULWARK_ERR_UPGRADE);
	wsc_clear(&w);
	CHECK_EQ_INT(upgrade(&no_protocol, true, 4096, &w, &m, resp,
			     sizeof(resp)),
		     BULWARK_ERR_UPGRADE);
	wsc_clear(&w);
	CHECK_EQ_INT(upgrade(&not_found, true, 4096, &w, &m, resp,
			     sizeof(resp)),
		     BULWARK_ERR_UPGRADE);
	CHECK_EQ_INT(w.http_status, 404);
	wsc_clear(&w);
	/* A head that never ends is cut off at its limit. */
	memset(resp, 'a', sizeof(resp));
	memcpy(resp, "HTTP/1.1 101 OK\r\nX: ", 20);
	m = (struct mem){ (const uint8_t *)resp, sizeof(resp), 0, 512 };
	CHECK(wsc_init(&w, mem_read, &m, 64) == 0);
	CHECK_EQ_INT(wsc_upgrade_read(&w), BULWARK_ERR_UPGRADE);
	wsc_clear(&w);
	return true;
}

int main(void)
{
	int failed = 0;

	RUN(test_activation_uri, &failed);
	RUN(test_activation_values, &failed);
	RUN(test_addresses, &failed);
	RUN(test_frames, &failed);
	RUN(test_frame_violations, &failed);
	RUN(test_upgrade, &failed);
	return failed ? 1 : 0;
}

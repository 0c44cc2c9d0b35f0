/*
 * bw_testclient.c - a device and an administrator in one small program,
 * for the loopback integration tests: TLS (optionally with a client
 * certificate), the WebSocket upgrade, the device protocol, SPAKE2+
 * activation as Prover, and the administration socket.
 *
 *   bw_testclient code ADMIN_SOCK SERVER_NAME USER CODE_ID PASSWORD [TTL]
 *   bw_testclient activate HOST:PORT SERVER_NAME USER CODE_ID PASSWORD OUTDIR
 *                [tamper]   (flip a bit of confirmP: the server must refuse)
 *   bw_testclient whoami HOST:PORT CERT KEY
 *   bw_testclient hold HOST:PORT CERT KEY
 *   bw_testclient call HOST:PORT TYPE [CERT KEY]
 *
 * Exit status: 0 success, 1 refused by the server (the reason is printed),
 * 2 usage, 3 TLS handshake refused, 4 other failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <wslay/wslay.h>

#include "admin_proto.h"
#include "proto.h"
#include "spake2plus.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_HANDSHAKE 3
#define EXIT_FAIL 4

struct client {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	wslay_frame_context_ptr ws;
	uint32_t next_id;
	uint8_t *msg;     /* the last message received */
	size_t msg_len;
	uint16_t close_code;
	char close_reason[128];
};

static void die(int code, const char *what)
{
	fprintf(stderr, "bw_testclient: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(code);
}

/* ---- TCP, TLS, WebSocket ---- */

static int tcp_connect(const char *hostport)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct timeval tv = { 20, 0 };
	int fd;

	if (colon == NULL || (size_t)(colon - hostport) >= sizeof(host))
		die(EXIT_USAGE, "address must be HOST:PORT");
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		die(EXIT_FAIL, "cannot resolve the address");
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		die(EXIT_FAIL, "cannot connect");
	freeaddrinfo(ai);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static ssize_t ws_recv(uint8_t *buf, size_t len, int flags, void *user)
{
	struct client *c = user;
	size_t n = 0;

	(void)flags;
	if (SSL_read_ex(c->ssl, buf, len, &n) != 1)
		return -1;
	return (ssize_t)n;
}

static ssize_t ws_send(const uint8_t *data, size_t len, int flags, void *user)
{
	struct client *c = user;
	size_t n = 0;

	(void)flags;
	if (SSL_write_ex(c->ssl, data, len, &n) != 1)
		return -1;
	return (ssize_t)n;
}

static int ws_mask(uint8_t *buf, size_t len, void *user)
{
	(void)user;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static const struct wslay_frame_callbacks ws_cbs = { ws_send, ws_recv,
						     ws_mask };

/* TLS 1.3 finishes the client's handshake before the server has judged
 * its certificate: a refusal shows as an alert or a reset on the first
 * read or write after it. */
static void refused_or_die(struct client *c, const char *what)
{
	int err = SSL_get_error(c->ssl, 0);

	if (err == SSL_ERROR_SSL || err == SSL_ERROR_SYSCALL) {
		printf("handshake refused\n");
		exit(EXIT_HANDSHAKE);
	}
	die(EXIT_FAIL, what);
}

/* GET /bulwark/v1 with the upgrade headers; expect 101. */
static void ws_upgrade(struct client *c)
{
	static const char req[] =
		"GET " PROTO_WS_PATH " HTTP/1.1\r\n"
		"Host: bulwark\r\n"
		"Upgrade: websocket\r\n"
		"Connection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Version: 13\r\n"
		"Sec-WebSocket-Protocol: " PROTO_WS_SUBPROTOCOL "\r\n"
		"\r\n";
	char resp[1024];
	size_t len = 0, n;

	if (SSL_write_ex(c->ssl, req, sizeof(req) - 1, &n) != 1)
		refused_or_die(c, "cannot send the upgrade request");
	/* Byte by byte, so no frame byte is read past the headers. */
	while (len + 1 < sizeof(resp)) {
		if (SSL_read_ex(c->ssl, resp + len, 1, &n) != 1)
			refused_or_die(c, "connection closed during the upgrade");
		len++;
		resp[len] = '\0';
		if (len >= 4 && strcmp(resp + len - 4, "\r\n\r\n") == 0)
			break;
	}
	/* The accept value for the sample key of RFC 6455 §1.3. */
	if (strncmp(resp, "HTTP/1.1 101 ", 13) != 0 ||
	    strstr(resp, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == NULL)
		die(EXIT_FAIL, "upgrade refused");
	if (wslay_frame_context_init(&c->ws, &ws_cbs, c) != 0)
		die(EXIT_FAIL, "out of memory");
}

static int load_identity(SSL_CTX *ctx, const char *cert, const char *key)
{
	if (SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		return -1;
	return 0;
}

/* Connect; the server's certificate is not checked: activation must be
 * safe without it (the exporter binding is what is being tested). */
static void client_open(struct client *c, const char *hostport,
			const char *cert, const char *key)
{
	memset(c, 0, sizeof(*c));
	c->next_id = 1;
	c->fd = tcp_connect(hostport);
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die(EXIT_FAIL, "SSL_CTX_new");
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_3_VERSION);
	if (cert != NULL && load_identity(c->ctx, cert, key) != 0)
		die(EXIT_FAIL, "cannot load the device certificate and key");
	if ((c->ssl = SSL_new(c->ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		die(EXIT_FAIL, "SSL_new");
	if (SSL_connect(c->ssl) != 1) {
		printf("handshake refused\n");
		exit(EXIT_HANDSHAKE);
	}
	ws_upgrade(c);
}

static void client_close(struct client *c)
{
	if (c->ws != NULL)
		wslay_frame_context_free(c->ws);
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	close(c->fd);
	free(c->msg);
}

static void send_frame(struct client *c, uint8_t opcode, const uint8_t *p,
		       size_t n)
{
	struct wslay_frame_iocb f = { .fin = 1, .opcode = opcode, .mask = 1,
				      .payload_length = n, .data = p,
				      .data_length = n };

	if (wslay_frame_send(c->ws, &f) != (ssize_t)n)
		die(EXIT_FAIL, "cannot send a frame");
}

/* The next binary message; false when the server closed (close_code set)
 * or with TLS 1.3, a handshake failure the server reports only now. */
static bool recv_message(struct client *c)
{
	struct wslay_frame_iocb f;
	uint8_t ctrl[128];
	size_t ctrl_len = 0;
	ssize_t r;

	free(c->msg);
	c->msg = NULL;
	c->msg_len = 0;
	for (;;) {
		memset(&f, 0, sizeof(f));
		if ((r = wslay_frame_recv(c->ws, &f)) < 0)
			return false;
		if (wslay_is_ctrl_frame(f.opcode)) {
			memcpy(ctrl + ctrl_len, f.data, f.data_length);
			ctrl_len += f.data_length;
			if (ctrl_len < f.payload_length)
				continue;
			if (f.opcode == WSLAY_CONNECTION_CLOSE) {
				c->close_code = ctrl_len >= 2
					? (uint16_t)(ctrl[0] << 8 | ctrl[1]) : 0;
				snprintf(c->close_reason,
					 sizeof(c->close_reason), "%.*s",
					 ctrl_len > 2 ? (int)ctrl_len - 2 : 0,
					 ctrl + 2);
				return false;
			}
			ctrl_len = 0;
			continue;
		}
		c->msg = realloc(c->msg, c->msg_len + f.data_length + 1);
		memcpy(c->msg + c->msg_len, f.data, f.data_length);
		c->msg_len += f.data_length;
		if (f.fin && c->msg_len >= f.payload_length)
			return true;
	}
}

/* Send a request and wait for its response (decoded into *m). */
static void request(struct client *c, uint16_t type, const struct bw_writer *body,
		    struct proto_msg *m)
{
	struct proto_msg req = {
		.version = PROTO_VERSION, .kind = PROTO_REQUEST, .type = type,
		.request_id = c->next_id++,
		.body = { body ? body->buf : NULL, body ? body->len : 0 },
	};
	struct bw_writer w;

	bw_writer_init(&w, 0);
	if (proto_encode(&w, &req) != 0)
		die(EXIT_FAIL, "cannot encode a request");
	send_frame(c, WSLAY_BINARY_FRAME, w.buf, w.len);
	bw_writer_free(&w);
	if (!recv_message(c)) {
		printf("closed %u %s\n", c->close_code, c->close_reason);
		exit(EXIT_REFUSED);
	}
	if (proto_decode(c->msg, c->msg_len, PROTO_MAX_MESSAGE_AUTH, m) != 0)
		die(EXIT_FAIL, "undecodable response");
	if (m->kind != PROTO_RESPONSE || m->request_id != req.request_id)
		die(EXIT_FAIL, "response does not match the request");
}

/* Exit with the server's refusal when a response is not OK. */
static void expect_ok(const struct proto_msg *m)
{
	if (m->status == PROTO_OK)
		return;
	printf("refused %u %.*s\n", m->status, (int)m->text.n, m->text.p);
	exit(EXIT_REFUSED);
}

static void hello(struct client *c, struct proto_hello_resp *out)
{
	struct proto_hello_req req = { PROTO_VERSION_MIN, PROTO_VERSION_MAX,
				       { (const uint8_t *)"bw_testclient", 13 } };
	struct proto_msg m;
	struct bw_writer w;

	bw_writer_init(&w, 0);
	proto_encode_hello_req(&w, &req);
	request(c, PROTO_T_HELLO, &w, &m);
	bw_writer_free(&w);
	expect_ok(&m);
	if (proto_decode_hello_resp(&m, out) != 0)
		die(EXIT_FAIL, "bad HELLO response");
}

/* ---- activation (Prover) ---- */

struct activation_args {
	const char *server_name, *user, *code_id, *password, *outdir;
	bool tamper;
};

static void get_params(struct client *c, const struct activation_args *a,
		       struct pake_pbkdf *kdf)
{
	struct proto_activate_params_req req = {
		{ (const uint8_t *)a->user, strlen(a->user) },
		{ (const uint8_t *)a->code_id, strlen(a->code_id) },
	};
	struct proto_activate_params_resp resp;
	struct proto_kdf_params params;
	struct proto_msg m;
	struct bw_writer w;

	bw_writer_init(&w, 0);
	proto_encode_activate_params_req(&w, &req);
	request(c, PROTO_T_ACTIVATE_PARAMS, &w, &m);
	bw_writer_free(&w);
	expect_ok(&m);
	if (proto_decode_activate_params_resp(&m, &resp) != 0 ||
	    proto_decode_kdf_params(resp.kdf_params.p, resp.kdf_params.n,
				    &params) != 0 ||
	    resp.salt.n > sizeof(kdf->salt))
		die(EXIT_FAIL, "bad ACTIVATE_PARAMS response");
	memset(kdf, 0, sizeof(*kdf));
	kdf->n = params.n;
	kdf->r = params.r;
	kdf->p = params.p;
	memcpy(kdf->salt, resp.salt.p, resp.salt.n);
	kdf->salt_len = resp.salt.n;
	if (pake_pbkdf_check(kdf) != 0)
		die(EXIT_FAIL, "server asks for KDF costs out of range");
}

static struct pake_prover *make_prover(SSL *ssl, const struct activation_args *a,
				       const struct pake_pbkdf *kdf,
				       uint8_t *context, uint8_t *id_prover)
{
	uint8_t exporter[PROTO_ACTIVATION_EXPORTER_LEN];
	struct bw_bytes w0 = { 0 }, w1 = { 0 };
	struct pake_config pc = { .suite = PAKE_SUITE_BULWARK };
	struct pake_prover *p = NULL;

	if (SSL_export_keying_material(ssl, exporter, sizeof(exporter),
				       PROTO_ACTIVATION_EXPORTER_LABEL,
				       sizeof(PROTO_ACTIVATION_EXPORTER_LABEL) - 1,
				       NULL, 0, 0) != 1)
		die(EXIT_FAIL, "no TLS exporter");
	proto_activation_context(exporter, context);
	pc.context = context;
	pc.context_len = PROTO_ACTIVATION_CONTEXT_LEN;
	pc.ids.prover = id_prover;
	pc.ids.prover_len = proto_activation_id_prover(
		(const uint8_t *)a->user, strlen(a->user),
		(const uint8_t *)a->code_id, strlen(a->code_id), id_prover);
	pc.ids.verifier = (const uint8_t *)a->server_name;
	pc.ids.verifier_len = strlen(a->server_name);
	if (pake_password_scalars(PAKE_SUITE_BULWARK, kdf,
				  (const uint8_t *)a->password,
				  strlen(a->password), &pc.ids, &w0, &w1) != 0 ||
	    pake_prover_new(&p, &pc, w0.p, w0.len, w1.p, w1.len) != 0)
		die(EXIT_FAIL, "cannot start the exchange");
	bw_bytes_clear(&w0);
	bw_bytes_clear(&w1);
	return p;
}

/* shareP out, shareV and confirmV back, confirmP returned. */
static void exchange(struct client *c, const struct activation_args *a,
		     struct pake_prover *p, struct bw_bytes *confirm_p)
{
	struct bw_bytes share_p = { 0 };
	struct proto_activate_start_req req;
	struct proto_activate_start_resp resp;
	struct proto_msg m;
	struct bw_writer w;

	if (pake_prover_share(p, &share_p) != 0)
		die(EXIT_FAIL, "no share");
	req.user = (struct proto_span){ (const uint8_t *)a->user,
					strlen(a->user) };
	req.code_id = (struct proto_span){ (const uint8_t *)a->code_id,
					   strlen(a->code_id) };
	req.share_p = (struct proto_span){ share_p.p, share_p.len };
	bw_writer_init(&w, 0);
	proto_encode_activate_start_req(&w, &req);
	request(c, PROTO_T_ACTIVATE_START, &w, &m);
	bw_writer_free(&w);
	bw_bytes_clear(&share_p);
	expect_ok(&m);
	if (proto_decode_activate_start_resp(&m, &resp) != 0)
		die(EXIT_FAIL, "bad ACTIVATE_START response");
	if (pake_prover_finish(p, resp.share_v.p, resp.share_v.n,
			       resp.confirm_v.p, resp.confirm_v.n,
			       confirm_p) != 0) {
		/* The server did not prove knowledge of the record for this
		 * password and this TLS session. */
		printf("refused confirmV\n");
		exit(EXIT_REFUSED);
	}
}

static EVP_PKEY *device_key(void)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	if (key == NULL)
		die(EXIT_FAIL, "cannot generate the device key");
	return key;
}

static void write_pem(const char *dir, const char *name, EVP_PKEY *key,
		      const uint8_t *der, size_t len)
{
	char path[4096];
	const uint8_t *p = der;
	X509 *cert = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		die(EXIT_FAIL, "cannot write output");
	if (key != NULL)
		PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	else if ((cert = d2i_X509(NULL, &p, (long)len)) != NULL)
		PEM_write_X509(f, cert);
	else
		die(EXIT_FAIL, "server sent a bad certificate");
	X509_free(cert);
	fclose(f);
}

static void finish(struct client *c, const struct activation_args *a,
		   const struct bw_bytes *confirm_p)
{
	EVP_PKEY *key = device_key();
	struct proto_activate_finish_req req;
	struct proto_activate_finish_resp resp;
	struct proto_msg m;
	struct bw_writer w;
	uint8_t *spki = NULL;
	int spki_len = i2d_PUBKEY(key, &spki);
	char path[4096];
	FILE *f;

	if (spki_len <= 0)
		die(EXIT_FAIL, "cannot encode the key");
	req.confirm_p = (struct proto_span){ confirm_p->p, confirm_p->len };
	req.spki = (struct proto_span){ spki, (size_t)spki_len };
	req.device_name = (struct proto_span){ (const uint8_t *)"test device",
					       11 };
	bw_writer_init(&w, 0);
	proto_encode_activate_finish_req(&w, &req);
	request(c, PROTO_T_ACTIVATE_FINISH, &w, &m);
	bw_writer_free(&w);
	OPENSSL_free(spki);
	expect_ok(&m);
	if (proto_decode_activate_finish_resp(&m, &resp) != 0)
		die(EXIT_FAIL, "bad ACTIVATE_FINISH response");
	write_pem(a->outdir, "device.key", key, NULL, 0);
	write_pem(a->outdir, "device.crt", NULL, resp.cert.p, resp.cert.n);
	write_pem(a->outdir, "ca.crt", NULL, resp.ca_cert.p, resp.ca_cert.n);
	snprintf(path, sizeof(path), "%s/device_id", a->outdir);
	if ((f = fopen(path, "w")) == NULL)
		die(EXIT_FAIL, "cannot write output");
	fprintf(f, "%.*s\n", (int)resp.device_id.n, resp.device_id.p);
	fclose(f);
	printf("activated %.*s\n", (int)resp.device_id.n, resp.device_id.p);
	EVP_PKEY_free(key);
}

static int cmd_activate(int argc, char **argv)
{
	struct activation_args a = { argv[1], argv[2], argv[3], argv[4],
				     argv[5], argc > 6 && strcmp(argv[6], "tamper") == 0 };
	uint8_t context[PROTO_ACTIVATION_CONTEXT_LEN];
	uint8_t id_prover[PROTO_MAX_ID_PROVER];
	struct proto_hello_resp hr;
	struct bw_bytes confirm_p = { 0 };
	struct pake_pbkdf kdf;
	struct pake_prover *p;
	struct client c;

	client_open(&c, argv[0], NULL, NULL);
	hello(&c, &hr);
	get_params(&c, &a, &kdf);
	p = make_prover(c.ssl, &a, &kdf, context, id_prover);
	exchange(&c, &a, p, &confirm_p);
	if (a.tamper)
		confirm_p.p[0] ^= 1;
	finish(&c, &a, &confirm_p);
	bw_bytes_clear(&confirm_p);
	pake_prover_free(p);
	client_close(&c);
	return 0;
}

/* ---- authenticated device ---- */

static void whoami(struct client *c)
{
	struct proto_whoami_resp resp;
	struct proto_msg m;

	request(c, PROTO_T_WHOAMI, NULL, &m);
	expect_ok(&m);
	if (proto_decode_whoami_resp(&m, &resp) != 0)
		die(EXIT_FAIL, "bad WHOAMI response");
	printf("user=%.*s device=%.*s\n", (int)resp.user.n, resp.user.p,
	       (int)resp.device_id.n, resp.device_id.p);
	fflush(stdout);
}

static int cmd_whoami(char **argv)
{
	struct proto_hello_resp hr;
	struct client c;

	client_open(&c, argv[0], argv[1], argv[2]);
	hello(&c, &hr);
	if (!hr.authenticated)
		die(EXIT_FAIL, "server did not authenticate the device");
	whoami(&c);
	client_close(&c);
	return 0;
}

/* Stay connected until the server closes; report how. */
static int cmd_hold(char **argv)
{
	struct proto_hello_resp hr;
	struct client c;

	client_open(&c, argv[0], argv[1], argv[2]);
	hello(&c, &hr);
	whoami(&c);
	printf("ready\n");
	fflush(stdout);
	while (recv_message(&c))
		;
	printf("closed %u %s\n", c.close_code, c.close_reason);
	client_close(&c);
	return 0;
}

/* HELLO, then one request of the given type with an empty body. */
static int cmd_call(int argc, char **argv)
{
	struct proto_hello_resp hr;
	struct proto_msg m;
	struct client c;
	long type = strtol(argv[1], NULL, 0);

	client_open(&c, argv[0], argc > 3 ? argv[2] : NULL,
		    argc > 3 ? argv[3] : NULL);
	hello(&c, &hr);
	request(&c, (uint16_t)type, NULL, &m);
	printf("status %u %.*s\n", m.status, (int)m.text.n, m.text.p);
	client_close(&c);
	return m.status == PROTO_OK ? 0 : EXIT_REFUSED;
}

/* ---- administration: an activation code with fast KDF costs ---- */

static void admin_roundtrip(const char *sock, struct bw_writer *req,
			    struct admin_response *resp, uint8_t **buf)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	uint8_t hdr[4];
	size_t len;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		die(EXIT_FAIL, "cannot reach the admin socket");
	if (write(fd, req->buf, req->len) != (ssize_t)req->len ||
	    recv(fd, hdr, 4, MSG_WAITALL) != 4 ||
	    admin_frame_length(hdr, ADMIN_MAX_RESPONSE, &len) != 0 ||
	    (*buf = malloc(len)) == NULL ||
	    recv(fd, *buf, len, MSG_WAITALL) != (ssize_t)len ||
	    admin_decode_response(*buf, len, resp) != 0)
		die(EXIT_FAIL, "bad admin response");
	close(fd);
}

static int cmd_code(int argc, char **argv)
{
	const char *server_name = argv[1], *user = argv[2], *code = argv[3],
		   *pw = argv[4];
	uint8_t id_prover[PROTO_MAX_ID_PROVER], kdf_buf[64], *buf = NULL;
	struct pake_ids ids;
	struct pake_pbkdf kdf;
	struct proto_kdf_params params = { PROTO_KDF_SCRYPT,
					   PAKE_SCRYPT_MIN_N, 8, 1 };
	struct bw_bytes w0 = { 0 }, l = { 0 };
	struct admin_activation_create in;
	struct admin_response resp;
	struct admin_marks mk;
	struct bw_writer w, kw;

	if (pake_pbkdf_init(&kdf) != 0)
		die(EXIT_FAIL, "no randomness");
	kdf.n = PAKE_SCRYPT_MIN_N; /* tests run many exchanges */
	ids.prover = id_prover;
	ids.prover_len = proto_activation_id_prover(
		(const uint8_t *)user, strlen(user), (const uint8_t *)code,
		strlen(code), id_prover);
	ids.verifier = (const uint8_t *)server_name;
	ids.verifier_len = strlen(server_name);
	if (pake_register(PAKE_SUITE_BULWARK, &kdf, (const uint8_t *)pw,
			  strlen(pw), &ids, &w0, &l) != 0)
		die(EXIT_FAIL, "registration failed");
	bw_writer_init_fixed(&kw, kdf_buf, sizeof(kdf_buf));
	proto_encode_kdf_params(&kw, &params);
	in = (struct admin_activation_create){
		.user = { (const uint8_t *)user, strlen(user) },
		.code_id = { (const uint8_t *)code, strlen(code) },
		.w0 = { w0.p, w0.len }, .l = { l.p, l.len },
		.salt = { kdf.salt, kdf.salt_len },
		.kdf_params = { kdf_buf, kw.len },
		.ttl = argc > 5 ? strtoull(argv[5], NULL, 10) : 0,
	};
	bw_writer_init(&w, 0);
	mk = admin_request_begin(&w, ADMIN_OP_ACTIVATION_CREATE);
	admin_encode_activation_create(&w, &in);
	if (admin_end(&w, mk) != 0)
		die(EXIT_FAIL, "cannot encode");
	admin_roundtrip(argv[0], &w, &resp, &buf);
	bw_writer_free(&w);
	bw_bytes_clear(&w0);
	bw_bytes_clear(&l);
	printf("status %u %.*s\n", resp.status, (int)resp.text.n, resp.text.p);
	free(buf);
	return resp.status == ADMIN_OK ? 0 : EXIT_REFUSED;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(cmd, "code") == 0 && (argc == 7 || argc == 8))
		return cmd_code(argc - 2, argv + 2);
	if (strcmp(cmd, "activate") == 0 && (argc == 8 || argc == 9))
		return cmd_activate(argc - 2, argv + 2);
	if (strcmp(cmd, "whoami") == 0 && argc == 5)
		return cmd_whoami(argv + 2);
	if (strcmp(cmd, "hold") == 0 && argc == 5)
		return cmd_hold(argv + 2);
	if (strcmp(cmd, "call") == 0 && (argc == 4 || argc == 6))
		return cmd_call(argc - 2, argv + 2);
	fprintf(stderr, "usage: see the comment at the top of bw_testclient.c\n");
	return EXIT_USAGE;
}

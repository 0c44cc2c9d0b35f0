/* test_record.c - the TLS 1.3 record layer (lib/tls/tls_record.c)
 * against OpenSSL: after an OpenSSL handshake one side drops its SSL
 * object and speaks records itself (bulwarkd as the server, the load
 * generator as the client), in every suite, through KeyUpdates both ways,
 * alerts, and tampered or malformed records. Also the server context's
 * chain (server/net/tls.c): the CA certificate is left out only for a
 * client that names the CA. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <openssl/pem.h>

#include "devices.h"
#include "test.h"
#include "test_cert.h"
#include "tls.h"
#include "tls_record.h"

static const char *const suite_names[TLS_REC_NSUITES] = {
	"TLS_AES_128_GCM_SHA256",
	"TLS_AES_256_GCM_SHA384",
	"TLS_CHACHA20_POLY1305_SHA256",
};

/* Which side of the connection the record layer takes over. */
enum side { OURS_SERVER, OURS_CLIENT };

/* A connected pair: OpenSSL on one side (peer), the record layer on the
 * other once the handshake is over. */
struct pair {
	SSL_CTX *cctx, *sctx;
	SSL *peer;
	int pfd, ofd; /* the peer's socket, ours */
	struct tls_rec rec;
	struct tls_rec_ctx x;
	struct bw_writer out;
};

static void keylog(const SSL *ssl, const char *line)
{
	tls_rec_keylog(SSL_get_app_data(ssl), line);
}

/* A self-signed P-256 certificate for the server. */
static int server_identity(SSL_CTX *ctx)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = key != NULL ? test_cert_new("server", key, NULL, NULL)
				 : NULL;
	int ok = cert != NULL && SSL_CTX_use_certificate(ctx, cert) == 1 &&
		 SSL_CTX_use_PrivateKey(ctx, key) == 1;

	X509_free(cert);
	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

static int nonblocking(int fd)
{
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int handshake(SSL *client, SSL *server)
{
	int c = 0, s = 0;

	for (int i = 0; i < 100 && (c != 1 || s != 1); i++) {
		if (c != 1)
			c = SSL_do_handshake(client);
		if (s != 1)
			s = SSL_do_handshake(server);
	}
	return c == 1 && s == 1 ? 0 : -1;
}

/* OpenSSL's client and server over a socket pair, their handshake done;
 * ours is the side whose records the layer takes over. */
static int pair_open_as(struct pair *p, enum tls_rec_suite suite,
			enum side side)
{
	SSL *client = NULL, *server = NULL, *ours;
	int fds[2], rc = -1;

	memset(p, 0, sizeof(*p));
	p->pfd = p->ofd = -1;
	bw_writer_init(&p->out, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
		return -1;
	p->ofd = fds[side == OURS_SERVER];
	p->pfd = fds[side != OURS_SERVER];
	p->cctx = SSL_CTX_new(TLS_client_method());
	p->sctx = SSL_CTX_new(TLS_server_method());
	if (p->cctx == NULL || p->sctx == NULL ||
	    nonblocking(p->pfd) != 0 || nonblocking(p->ofd) != 0 ||
	    SSL_CTX_set_min_proto_version(p->cctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(p->cctx, suite_names[suite]) != 1 ||
	    SSL_CTX_set_ciphersuites(p->sctx, TLS_REC_CIPHERSUITES) != 1 ||
	    server_identity(p->sctx) != 0 || tls_rec_ctx_init(&p->x) != 0)
		return -1;
	SSL_CTX_set_num_tickets(p->sctx, 0);
	SSL_CTX_set_keylog_callback(side == OURS_SERVER ? p->sctx : p->cctx,
				    keylog);
	client = SSL_new(p->cctx);
	server = SSL_new(p->sctx);
	if (client == NULL || server == NULL ||
	    SSL_set_fd(client, fds[0]) != 1 || SSL_set_fd(server, fds[1]) != 1)
		goto out;
	ours = side == OURS_SERVER ? server : client;
	SSL_set_app_data(ours, &p->rec);
	SSL_set_connect_state(client);
	SSL_set_accept_state(server);
	if (handshake(client, server) != 0 ||
	    tls_rec_start(&p->rec, &p->x, ours) != 0)
		goto out;
	p->peer = side == OURS_SERVER ? client : server;
	rc = 0;
out:
	/* ours goes, as bulwarkd and the generator free theirs */
	if (p->peer != client)
		SSL_free(client);
	if (p->peer != server)
		SSL_free(server);
	return rc;
}

static int pair_open(struct pair *p, enum tls_rec_suite suite)
{
	return pair_open_as(p, suite, OURS_SERVER);
}

static void pair_close(struct pair *p)
{
	SSL_free(p->peer);
	SSL_CTX_free(p->cctx);
	SSL_CTX_free(p->sctx);
	if (p->pfd >= 0)
		close(p->pfd);
	if (p->ofd >= 0)
		close(p->ofd);
	tls_rec_clear(&p->rec);
	tls_rec_ctx_clear(&p->x);
	bw_writer_free(&p->out);
}

/* The record layer reads exactly n bytes of application data. */
static bool ours_reads(struct pair *p, const void *want, size_t n)
{
	uint8_t buf[64 * 1024];
	size_t have = 0, got;

	while (have < n) {
		CHECK(tls_rec_read(&p->rec, &p->x, p->ofd, buf + have,
				   sizeof(buf) - have, &got) == TLS_REC_DATA);
		have += got;
	}
	/* The turn is over, as the worker ends each connection's. */
	tls_rec_park(&p->rec, &p->x);
	CHECK_MEM(buf, have, want, n);
	return true;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = write(fd, p, n)) <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The record layer protects p[0..n) and OpenSSL reads it all. */
static bool peer_reads(struct pair *p, const uint8_t *data, size_t n)
{
	static uint8_t buf[64 * 1024];
	size_t have = 0;
	int k;

	bw_writer_reset(&p->out);
	CHECK(tls_rec_seal(&p->rec, &p->x, data, n, &p->out) == 0);
	CHECK(send_all(p->ofd, p->out.buf, p->out.len) == 0);
	while (have < n) {
		k = SSL_read(p->peer, buf + have, (int)(sizeof(buf) - have));
		CHECK(k > 0);
		have += (size_t)k;
	}
	CHECK_MEM(buf, have, data, n);
	return true;
}

static bool exchange_in(enum tls_rec_suite suite, enum side side)
{
	struct pair p;
	static uint8_t big[40000];
	bool ok = false;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	if (pair_open_as(&p, suite, side) != 0 ||
	    p.rec.secret_len != (suite == TLS_REC_AES_256_GCM ? 48 : 32))
		goto out;
	if (SSL_write(p.peer, "hello", 5) != 5 ||
	    !ours_reads(&p, "hello", 5) ||
	    !peer_reads(&p, (const uint8_t *)"world", 5) ||
	    /* more than one record each way */
	    SSL_write(p.peer, big, sizeof(big)) != (int)sizeof(big) ||
	    !ours_reads(&p, big, sizeof(big)) ||
	    !peer_reads(&p, big, sizeof(big)))
		goto out;
	ok = true;
out:
	pair_close(&p);
	return ok;
}

static bool test_every_suite_either_side(void)
{
	for (int s = 0; s < TLS_REC_NSUITES; s++) {
		CHECK(exchange_in((enum tls_rec_suite)s, OURS_SERVER));
		CHECK(exchange_in((enum tls_rec_suite)s, OURS_CLIENT));
	}
	return true;
}

/* §4.6.3: the peer's KeyUpdate asks for ours; both sides move on. */
static bool key_updates_as(enum side side)
{
	struct pair p;
	bool ok = false;

	if (pair_open_as(&p, TLS_REC_AES_128_GCM, side) != 0)
		goto out;
	for (int round = 0; round < 3; round++) {
		/* The answer: our KeyUpdate, then "reply" as the first record
		 * under our next key. */
		if (SSL_key_update(p.peer, SSL_KEY_UPDATE_REQUESTED) != 1 ||
		    SSL_write(p.peer, "again", 5) != 5 ||
		    !ours_reads(&p, "again", 5) || !p.rec.key_update_due ||
		    !peer_reads(&p, (const uint8_t *)"reply", 5) ||
		    p.rec.key_update_due || p.rec.tx.seq != 1 ||
		    p.rec.rx.seq != 1)
			goto out;
	}
	/* Without a request we keep our key. */
	if (SSL_key_update(p.peer, SSL_KEY_UPDATE_NOT_REQUESTED) != 1 ||
	    SSL_write(p.peer, "quiet", 5) != 5 ||
	    !ours_reads(&p, "quiet", 5) || p.rec.key_update_due ||
	    !peer_reads(&p, (const uint8_t *)"same", 4) ||
	    p.rec.tx.seq != 2)
		goto out;
	ok = true;
out:
	pair_close(&p);
	return ok;
}

static bool test_key_updates_either_side(void)
{
	CHECK(key_updates_as(OURS_SERVER));
	CHECK(key_updates_as(OURS_CLIENT));
	return true;
}

static bool close_notify_as(enum side side)
{
	struct pair p;
	uint8_t buf[16];
	size_t got;
	bool ok = false;

	if (pair_open_as(&p, TLS_REC_AES_256_GCM, side) != 0)
		goto out;
	/* The peer's close_notify ends our stream. */
	if (SSL_shutdown(p.peer) < 0 ||
	    tls_rec_read(&p.rec, &p.x, p.ofd, buf, sizeof(buf), &got) !=
		    TLS_REC_EOF)
		goto out;
	/* And ours, the peer's. */
	bw_writer_reset(&p.out);
	if (tls_rec_seal_alert(&p.rec, &p.x, TLS_ALERT_CLOSE_NOTIFY,
			       &p.out) != 0 ||
	    send_all(p.ofd, p.out.buf, p.out.len) != 0 ||
	    SSL_read(p.peer, buf, sizeof(buf)) != 0 ||
	    SSL_get_error(p.peer, 0) != SSL_ERROR_ZERO_RETURN)
		goto out;
	ok = true;
out:
	pair_close(&p);
	return ok;
}

static bool test_close_notify_both_ways(void)
{
	CHECK(close_notify_as(OURS_SERVER));
	CHECK(close_notify_as(OURS_CLIENT));
	return true;
}

/* The peer's next record, as it is on the wire. */
static int peer_record(struct pair *p, uint8_t *buf, size_t size,
			 size_t *n)
{
	ssize_t k;

	if (SSL_write(p->peer, "payload", 7) != 7)
		return -1;
	if ((k = read(p->ofd, buf, size)) <= 0)
		return -1;
	*n = (size_t)k;
	return 0;
}

/* The record layer reads raw from a pipe holding these bytes. */
static enum tls_rec_io read_crafted(struct pair *p, const uint8_t *bytes,
				    size_t n)
{
	uint8_t buf[64];
	size_t got;
	int fds[2];
	enum tls_rec_io io = TLS_REC_FAIL;

	if (pipe(fds) != 0)
		return io;
	if (send_all(fds[1], bytes, n) == 0) {
		close(fds[1]);
		fds[1] = -1;
		io = tls_rec_read(&p->rec, &p->x, fds[0], buf, sizeof(buf),
				  &got);
		tls_rec_park(&p->rec, &p->x);
	}
	close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return io;
}

static bool test_tampered_record_refused(void)
{
	struct pair p;
	uint8_t rec[256];
	size_t n;
	bool ok = false;

	if (pair_open(&p, TLS_REC_CHACHA20_POLY1305) != 0 ||
	    peer_record(&p, rec, sizeof(rec), &n) != 0)
		goto out;
	rec[n - 3] ^= 1;
	if (read_crafted(&p, rec, n) != TLS_REC_FAIL ||
	    p.rec.alert != TLS_ALERT_BAD_RECORD_MAC)
		goto out;
	ok = true;
out:
	pair_close(&p);
	return ok;
}

static bool test_malformed_headers_refused(void)
{
	static const uint8_t handshake_type[] = { 22, 3, 3, 0, 20 };
	static const uint8_t too_long[] = { 23, 3, 3, 0x41, 0x01 };
	static const uint8_t too_short[] = { 23, 3, 3, 0, 16 };
	struct pair p;
	bool ok = false;

	if (pair_open(&p, TLS_REC_AES_128_GCM) != 0)
		goto out;
	if (read_crafted(&p, handshake_type, sizeof(handshake_type)) !=
		    TLS_REC_FAIL ||
	    p.rec.alert != TLS_ALERT_UNEXPECTED_MESSAGE)
		goto out;
	p.rec.hdr_len = 0;
	if (read_crafted(&p, too_long, sizeof(too_long)) != TLS_REC_FAIL ||
	    p.rec.alert != TLS_ALERT_RECORD_OVERFLOW)
		goto out;
	p.rec.hdr_len = 0;
	if (read_crafted(&p, too_short, sizeof(too_short)) != TLS_REC_FAIL ||
	    p.rec.alert != TLS_ALERT_BAD_RECORD_MAC)
		goto out;
	ok = true;
out:
	pair_close(&p);
	return ok;
}

/* A record cut short waits for the rest; an idle reader holds no buffer. */
static bool test_partial_record_waits(void)
{
	struct pair p;
	uint8_t rec[256], buf[16];
	size_t n, got;
	bool ok = false;

	if (pair_open(&p, TLS_REC_AES_128_GCM) != 0 ||
	    peer_record(&p, rec, sizeof(rec), &n) != 0)
		goto out;
	if (send_all(p.pfd, rec, 3) != 0 ||
	    tls_rec_read(&p.rec, &p.x, p.ofd, buf, sizeof(buf), &got) !=
		    TLS_REC_AGAIN ||
	    send_all(p.pfd, rec + 3, 7) != 0 ||
	    tls_rec_read(&p.rec, &p.x, p.ofd, buf, sizeof(buf), &got) !=
		    TLS_REC_AGAIN ||
	    p.rec.body == NULL || send_all(p.pfd, rec + 10, n - 10) != 0 ||
	    tls_rec_read(&p.rec, &p.x, p.ofd, buf, 3, &got) !=
		    TLS_REC_DATA ||
	    got != 3 || memcmp(buf, "pay", 3) != 0 ||
	    tls_rec_read(&p.rec, &p.x, p.ofd, buf, sizeof(buf), &got) !=
		    TLS_REC_DATA ||
	    got != 4 || memcmp(buf, "load", 4) != 0 || p.rec.body != NULL)
		goto out;
	ok = true;
out:
	pair_close(&p);
	return ok;
}

/* One read() takes both records; when the turn ends the second waits in
 * the connection's own buffer, and the thread's read-ahead is free. */
static bool test_read_ahead_parks(void)
{
	struct pair p;
	uint8_t buf[16];
	size_t got;
	bool ok = false;

	if (pair_open(&p, TLS_REC_AES_128_GCM) != 0 ||
	    SSL_write(p.peer, "one", 3) != 3 ||
	    SSL_write(p.peer, "two", 3) != 3)
		goto out;
	if (tls_rec_read(&p.rec, &p.x, p.ofd, buf, sizeof(buf), &got) !=
		    TLS_REC_DATA ||
	    got != 3 || memcmp(buf, "one", 3) != 0 || p.x.ra_owner != &p.rec)
		goto out;
	tls_rec_park(&p.rec, &p.x);
	if (p.rec.stash == NULL || p.x.ra_owner != NULL || p.x.ra_len != 0 ||
	    tls_rec_read(&p.rec, &p.x, p.ofd, buf, sizeof(buf), &got) !=
		    TLS_REC_DATA ||
	    got != 3 || memcmp(buf, "two", 3) != 0 || p.rec.stash != NULL ||
	    tls_rec_read(&p.rec, &p.x, p.ofd, buf, sizeof(buf), &got) !=
		    TLS_REC_AGAIN)
		goto out;
	tls_rec_park(&p.rec, &p.x);
	ok = p.rec.body == NULL && p.rec.stash == NULL && p.x.ra_owner == NULL;
out:
	pair_close(&p);
	return ok;
}

/* The handshake's reads (tls_rec_read_raw, as bulwarkd's OpenSSL does
 * them) share the records' read-ahead: bytes the socket gave together
 * with the end of the handshake are read as records afterwards, with no
 * second read() (the socket said it was empty). */
static bool test_raw_reads_share_read_ahead(void)
{
	struct pair p;
	uint8_t buf[16];
	size_t got;
	bool ok = false;

	if (pair_open(&p, TLS_REC_AES_128_GCM) != 0 ||
	    send_all(p.pfd, (const uint8_t *)"fin", 3) != 0 ||
	    SSL_write(p.peer, "one", 3) != 3)
		goto out;
	if (tls_rec_read_raw(&p.rec, &p.x, p.ofd, buf, 3, &got) !=
		    TLS_REC_DATA ||
	    got != 3 || memcmp(buf, "fin", 3) != 0 || p.x.ra_owner != &p.rec ||
	    !p.x.ra_drained || p.x.ra_off == p.x.ra_len)
		goto out;
	if (tls_rec_read(&p.rec, &p.x, p.ofd, buf, sizeof(buf), &got) !=
		    TLS_REC_DATA ||
	    got != 3 || memcmp(buf, "one", 3) != 0)
		goto out;
	/* Drained: neither reader asks the socket again in this turn. */
	if (SSL_write(p.peer, "two", 3) != 3 ||
	    tls_rec_read_raw(&p.rec, &p.x, p.ofd, buf, 1, &got) !=
		    TLS_REC_AGAIN ||
	    got != 0)
		goto out;
	tls_rec_park(&p.rec, &p.x);
	ok = ours_reads(&p, "two", 3);
out:
	pair_close(&p);
	return ok;
}

static char ca_path[] = "/tmp/bw_test_ca_XXXXXX";
static char crt_path[] = "/tmp/bw_test_crt_XXXXXX";
static char key_path[] = "/tmp/bw_test_key_XXXXXX";

static int write_pem(char *path, X509 *cert, EVP_PKEY *key)
{
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok = f != NULL &&
		 (cert != NULL ? PEM_write_X509(f, cert)
			       : PEM_write_PrivateKey(f, key, NULL, NULL, 0,
						      NULL, NULL)) == 1;

	if (f != NULL)
		fclose(f);
	return ok ? 0 : -1;
}

/* The organisation's CA and a server certificate it signed, in files as
 * bulwarkctl init writes them. */
static int org_files(void)
{
	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256");
	X509 *ca = ca_key != NULL ? test_cert_new("CA", ca_key, NULL, NULL)
				  : NULL;
	X509 *cert = ca != NULL && key != NULL
			     ? test_cert_new("localhost", key, ca, ca_key)
			     : NULL;
	int rc = cert != NULL && write_pem(ca_path, ca, NULL) == 0 &&
			 write_pem(crt_path, cert, NULL) == 0 &&
			 write_pem(key_path, NULL, key) == 0
		 ? 0
		 : -1;

	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return rc;
}

/* How many certificates the server sends to a client that names the CA
 * (certificate_authorities) or not; -1 if the handshake fails. */
static int chain_length(SSL_CTX *sctx, bool names_ca)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *client = NULL, *server = NULL;
	STACK_OF(X509_NAME) *cas;
	struct tls_rec rec = { 0 }; /* the server's key log lands here */
	int fds[2] = { -1, -1 }, n = -1;

	if (cctx == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
		goto out;
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(cctx, ca_path, NULL) != 1 ||
	    nonblocking(fds[0]) != 0 || nonblocking(fds[1]) != 0)
		goto out;
	if (names_ca) {
		if ((cas = SSL_load_client_CA_file(ca_path)) == NULL)
			goto out;
		SSL_CTX_set0_CA_list(cctx, cas);
	}
	client = SSL_new(cctx);
	server = SSL_new(sctx);
	if (client == NULL || server == NULL ||
	    SSL_set_fd(client, fds[0]) != 1 || SSL_set_fd(server, fds[1]) != 1)
		goto out;
	SSL_set_app_data(server, &rec);
	SSL_set_connect_state(client);
	SSL_set_accept_state(server);
	if (handshake(client, server) == 0 &&
	    SSL_get_verify_result(client) == X509_V_OK)
		n = sk_X509_num(SSL_get_peer_cert_chain(client));
out:
	SSL_free(client);
	SSL_free(server);
	SSL_CTX_free(cctx);
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	tls_rec_clear(&rec);
	return n;
}

static bool test_chain_omits_ca_only_when_named(void)
{
	struct devices *devices = NULL;
	SSL_CTX *sctx = NULL;
	int with, without;

	CHECK(org_files() == 0);
	CHECK(devices_new(&devices) == 0);
	CHECK(tls_context_new(crt_path, key_path, ca_path, devices, &sctx) ==
	      0);
	without = chain_length(sctx, false);
	with = chain_length(sctx, true);
	SSL_CTX_free(sctx);
	devices_free(devices);
	unlink(ca_path);
	unlink(crt_path);
	unlink(key_path);
	CHECK_EQ_INT(without, 2); /* an activating device reads the CA */
	CHECK_EQ_INT(with, 1);
	return true;
}

int main(void)
{
	int failed = 0;

	RUN(test_every_suite_either_side, &failed);
	RUN(test_key_updates_either_side, &failed);
	RUN(test_close_notify_both_ways, &failed);
	RUN(test_tampered_record_refused, &failed);
	RUN(test_malformed_headers_refused, &failed);
	RUN(test_partial_record_waits, &failed);
	RUN(test_read_ahead_parks, &failed);
	RUN(test_raw_reads_share_read_ahead, &failed);
	RUN(test_chain_omits_ca_only_when_named, &failed);
	ERR_clear_error();
	return failed ? 1 : 0;
}

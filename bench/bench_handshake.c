/*
 * bench_handshake.c - one login's TLS alone: the full mutual-TLS 1.3
 * handshake between bulwarkd's server context (server/net/tls.c) and
 * bulwark-load's device (bench/load/tls_client.c), in one process over a
 * BIO pair: no network, no scheduling, no WebSocket or HELLO. Each side's
 * CPU time is measured apart, from SSL_new to the record layer taking the
 * traffic secrets over and SSL_free, as both programs do per login.
 *
 *   bench_handshake <data-dir> <device.pem> [handshakes] [providers]
 *
 * data-dir: an organisation's (tls/server.crt and .key, ca/ca.crt, as
 * bulwarkctl init writes them); device.pem: an enrolled device's
 * certificate and key (bulwarkctl device enroll --out). bench/run.sh
 * handshake runs it on the scenarios' cache. "providers" leaves the keys
 * to OpenSSL's providers (lib/common/key_methods.h).
 *
 * Both sides share the machine in scenario C, so the sum is what a login
 * costs its two cores: two cores make at most 2 s / sum logins a second.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "bench_util.h"
#include "devices.h"
#include "key_methods.h"
#include "tls.h"
#include "tls_client.h"
#include "tls_record.h"

#define WARMUP 50
#define SERVER_NAME "localhost"

struct side {
	SSL_CTX *ctx;
	SSL *ssl;
	struct tls_rec rec;
	struct tls_rec_ctx rec_ctx;
	double cpu_us; /* this side's CPU time, summed */
	bool done;
};

/* One thread: the process's CPU time is the side's that runs. */
static double cpu_us(void)
{
	return bench_now() * 1e6;
}

static _Noreturn void die(const char *what)
{
	ERR_print_errors_fp(stderr);
	bench_die(what);
}

/* The enrolled device the server's registry knows (verify_device). */
static struct devices *registry_of(X509 *cert)
{
	struct store_device dev = { .id = "bench", .user = "bench" };
	struct devices *d;

	if (devices_new(&d) != 0 ||
	    tls_cert_fingerprint(cert, dev.fingerprint) != 0 ||
	    devices_add(d, &dev) != 0)
		die("the device registry");
	return d;
}

/* One step of a side's handshake; the record layer takes over at its end. */
static void step(struct side *s)
{
	double t0 = cpu_us();
	int rc;

	if (!s->done) {
		rc = SSL_do_handshake(s->ssl);
		if (rc != 1 && SSL_get_error(s->ssl, rc) != SSL_ERROR_WANT_READ)
			die("the handshake");
		if (rc == 1) {
			if (tls_rec_start(&s->rec, &s->rec_ctx, s->ssl) != 0)
				die("the record take-over");
			s->done = true;
		}
	}
	s->cpu_us += cpu_us() - t0;
}

/* Once both are done: each side's half of the BIO pair goes with it. */
static void end(struct side *s)
{
	double t0 = cpu_us();

	SSL_free(s->ssl);
	s->ssl = NULL;
	tls_rec_clear(&s->rec);
	s->cpu_us += cpu_us() - t0;
}

static void login(struct side *srv, struct side *dev, X509 *cert,
		  EVP_PKEY *key)
{
	BIO *a, *b;
	double t0 = cpu_us();

	if (tls_client_ssl(dev->ctx, cert, key, SERVER_NAME, &dev->rec,
			   &dev->ssl) != 0)
		die("the device's SSL");
	dev->cpu_us += cpu_us() - t0;
	t0 = cpu_us();
	if ((srv->ssl = SSL_new(srv->ctx)) == NULL)
		die("the server's SSL");
	SSL_set_accept_state(srv->ssl);
	SSL_set_app_data(srv->ssl, &srv->rec);
	srv->cpu_us += cpu_us() - t0;
	if (BIO_new_bio_pair(&a, 0, &b, 0) != 1)
		die("the BIO pair");
	SSL_set_bio(srv->ssl, a, a);
	SSL_set_bio(dev->ssl, b, b);
	srv->done = dev->done = false;
	for (int flights = 0; !(srv->done && dev->done); flights++) {
		if (flights > 8)
			die("finishing the handshake within eight flights");
		step(dev);
		step(srv);
	}
	end(dev);
	end(srv);
}

static void load_device(const char *path, X509 **cert, EVP_PKEY **key)
{
	FILE *f = fopen(path, "r");

	if (f == NULL)
		die(path);
	*cert = PEM_read_X509(f, NULL, NULL, NULL);
	*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (*cert == NULL || *key == NULL)
		die("reading the device's certificate and key");
}

int main(int argc, char **argv)
{
	struct side srv = { 0 }, dev = { 0 };
	struct devices *registry;
	char crt[4096], key[4096], ca[4096];
	X509 *dev_cert;
	EVP_PKEY *dev_key;
	int n = argc > 3 ? atoi(argv[3]) : 2000;
	bool providers = argc > 4 && strcmp(argv[4], "providers") == 0;
	double both;

	if (argc < 3 || n <= 0) {
		fprintf(stderr, "usage: %s <data-dir> <device.pem> "
				"[handshakes] [providers]\n", argv[0]);
		return 2;
	}
	if (!providers && bw_key_methods_use_builtin() < 0)
		die("the built-in key methods");
	snprintf(crt, sizeof(crt), "%s/tls/server.crt", argv[1]);
	snprintf(key, sizeof(key), "%s/tls/server.key", argv[1]);
	snprintf(ca, sizeof(ca), "%s/ca/ca.crt", argv[1]);
	load_device(argv[2], &dev_cert, &dev_key);
	registry = registry_of(dev_cert);
	if (tls_context_new(crt, key, ca, registry, &srv.ctx) != 0 ||
	    tls_client_context(ca, &dev.ctx) != 0 ||
	    tls_rec_ctx_init(&srv.rec_ctx) != 0 ||
	    tls_rec_ctx_init(&dev.rec_ctx) != 0)
		die("the TLS contexts");
	for (int i = 0; i < WARMUP; i++)
		login(&srv, &dev, dev_cert, dev_key);
	srv.cpu_us = dev.cpu_us = 0;
	for (int i = 0; i < n; i++)
		login(&srv, &dev, dev_cert, dev_key);
	both = (srv.cpu_us + dev.cpu_us) / n;
	printf("%d mutual-TLS 1.3 handshakes (%s key methods), CPU per "
	       "handshake: server %.1f us, device %.1f us, both %.1f us: "
	       "two cores make at most %.0f a second\n",
	       n, providers ? "providers'" : "built-in", srv.cpu_us / n,
	       dev.cpu_us / n, both, 2e6 / both);
	tls_rec_ctx_clear(&srv.rec_ctx);
	tls_rec_ctx_clear(&dev.rec_ctx);
	SSL_CTX_free(srv.ctx);
	SSL_CTX_free(dev.ctx);
	devices_free(registry);
	X509_free(dev_cert);
	EVP_PKEY_free(dev_key);
	return 0;
}

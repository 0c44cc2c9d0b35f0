/*
 * bw_testclient.c - a device and an administrator in one small program,
 * for the loopback integration tests. The device half is libbulwark's own
 * transport, session and activation steps (lib/client), driven one step at
 * a time so a test can tamper with one; the server's certificate is not
 * checked (activation must be safe without it). The administrator half
 * speaks the administration protocol to make codes with low KDF costs.
 *
 *   bw_testclient code ADMIN_SOCK SERVER_NAME USER CODE_ID PASSWORD [TTL]
 *   bw_testclient activate HOST:PORT SERVER_NAME USER CODE_ID PASSWORD OUTDIR
 *                [tamper]   (flip a bit of confirmP: the server must refuse)
 *   bw_testclient whoami HOST:PORT CERT KEY
 *   bw_testclient hold HOST:PORT CERT KEY
 *   bw_testclient hold-device KEYSTORE PASSPHRASE_FILE
 *   bw_testclient call HOST:PORT TYPE [CERT KEY]
 *   bw_testclient ds-... (the delivery service's commands, tc_ds.c)
 *
 * Exit status: 0 success, 1 refused by the server (the reason is printed),
 * 2 usage, 3 TLS handshake refused, 4 other failure.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "activation.h"
#include "admin_proto.h"
#include "pki.h"
#include "device.h"
#include "session.h"
#include "spake2plus.h"
#include "tc_ds.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_HANDSHAKE 3
#define EXIT_FAIL 4
#define TIMEOUT_MS 20000

static void die(int code, const char *what)
{
	fprintf(stderr, "bw_testclient: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(code);
}

/* Exit as the tests expect for an error of the device library. */
static void fail(const struct bulwark_session *s, int rc)
{
	switch (rc) {
	case BULWARK_ERR_DEVICE_REVOKED:
	case BULWARK_ERR_DEVICE_REFUSED:
	case BULWARK_ERR_CERT_EXPIRED:
	case BULWARK_ERR_CLOSED:
		if (s == NULL) { /* at the handshake, before any session */
			printf("handshake refused\n");
			exit(EXIT_HANDSHAKE);
		}
		printf("closed %u %s\n", transport_close_code(s->t),
		       transport_close_reason(s->t));
		exit(EXIT_REFUSED);
	case BULWARK_ERR_BUSY:
	case BULWARK_ERR_VERSION:
	case BULWARK_ERR_REFUSED:
	case BULWARK_ERR_ACTIVATION_REFUSED:
		printf("refused %u %s\n", s->last_status,
		       proto_status_text(s->last_status));
		exit(EXIT_REFUSED);
	default:
		die(EXIT_FAIL, bulwark_strerror(rc));
	}
}

/* ---- connections ---- */

static void load_identity(const char *cert_path, const char *key_path,
			  X509 **cert, EVP_PKEY **key)
{
	FILE *f;

	if ((f = fopen(cert_path, "r")) == NULL ||
	    (*cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		die(EXIT_FAIL, "cannot load the device certificate");
	fclose(f);
	if ((f = fopen(key_path, "r")) == NULL ||
	    (*key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		die(EXIT_FAIL, "cannot load the device key");
	fclose(f);
}

/* Connect and say HELLO, with a client certificate when given. */
static struct bulwark_session *open_session(const char *hostport,
					    const char *cert, const char *key)
{
	struct transport_config cfg = { .address = hostport,
					.timeout_ms = TIMEOUT_MS };
	struct bulwark_session *s;
	int rc;

	if (cert != NULL)
		load_identity(cert, key, &cfg.cert, &cfg.key);
	rc = session_open(&cfg, &s);
	X509_free(cfg.cert);
	EVP_PKEY_free(cfg.key);
	if (rc != 0)
		fail(NULL, rc);
	return s;
}

/* ---- activation (Prover) ---- */

/* The organisation's suite, from the CA certificate in the server's
 * chain: it decides the device key's type. */
static int chain_suite(SSL *ssl)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	uint8_t *der = NULL;
	int suite = 0, len;

	for (int i = 0; chain != NULL && i < sk_X509_num(chain) && !suite; i++) {
		if ((len = i2d_X509(sk_X509_value(chain, i), &der)) > 0 &&
		    ca_cert_suite(der, (size_t)len, &suite) != 0)
			suite = 0;
		OPENSSL_free(der);
		der = NULL;
	}
	if (suite == 0)
		die(EXIT_FAIL, "the server sent no CA certificate");
	return suite;
}

static void write_pem(const char *dir, const char *name, EVP_PKEY *key,
		      const struct bw_bytes *der)
{
	char path[4096];
	const uint8_t *p = der ? der->p : NULL;
	X509 *cert = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		die(EXIT_FAIL, "cannot write output");
	if (key != NULL)
		PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	else if ((cert = d2i_X509(NULL, &p, (long)der->len)) != NULL)
		PEM_write_X509(f, cert);
	else
		die(EXIT_FAIL, "server sent a bad certificate");
	X509_free(cert);
	fclose(f);
}

static void write_outputs(const char *dir, EVP_PKEY *key,
			  const struct act_result *r)
{
	char path[4096];
	FILE *f;

	write_pem(dir, "device.key", key, NULL);
	write_pem(dir, "device.crt", NULL, &r->cert);
	write_pem(dir, "ca.crt", NULL, &r->ca);
	snprintf(path, sizeof(path), "%s/device_id", dir);
	if ((f = fopen(path, "w")) == NULL)
		die(EXIT_FAIL, "cannot write output");
	fprintf(f, "%s\n", r->device_id);
	fclose(f);
}

static int cmd_activate(int argc, char **argv)
{
	struct act_claim claim = { argv[2], argv[3], argv[4], argv[1] };
	bool tamper = argc > 6 && strcmp(argv[6], "tamper") == 0;
	struct bw_bytes confirm_p = { 0 };
	struct bulwark_session *s = open_session(argv[0], NULL, NULL);
	struct act_result r;
	EVP_PKEY *key;
	int rc;

	if ((rc = act_prove(s, &claim, &confirm_p)) ==
	    BULWARK_ERR_ACTIVATION_REFUSED) {
		/* The server did not prove knowledge of the record for this
		 * password and this TLS session. */
		printf("refused confirmV\n");
		exit(EXIT_REFUSED);
	}
	if (rc != 0)
		fail(s, rc);
	if (device_keygen(chain_suite(transport_ssl(s->t)), &key) != 0)
		die(EXIT_FAIL, "cannot generate the device key");
	if (tamper)
		confirm_p.p[0] ^= 1;
	if ((rc = act_finish(s, &confirm_p, key, "test device", &r)) != 0 ||
	    (rc = act_check_result(&r, &r.ca, key, claim.user)) != 0)
		fail(s, rc);
	write_outputs(argv[5], key, &r);
	printf("activated %s\n", r.device_id);
	act_result_clear(&r);
	bw_bytes_clear(&confirm_p);
	EVP_PKEY_free(key);
	bulwark_session_free(s);
	return 0;
}

/* ---- authenticated device ---- */

static void whoami(struct bulwark_session *s)
{
	struct bulwark_whoami who;
	int rc;

	if ((rc = bulwark_session_whoami(s, &who)) != 0)
		fail(s, rc);
	printf("user=%s device=%s\n", who.user, who.device_id);
	fflush(stdout);
}

static int cmd_whoami(char **argv)
{
	struct bulwark_session *s = open_session(argv[0], argv[1], argv[2]);

	if (!s->authenticated)
		die(EXIT_FAIL, "server did not authenticate the device");
	whoami(s);
	bulwark_session_free(s);
	return 0;
}

/* Stay connected until the server closes; report how. */
static int hold(struct bulwark_session *s)
{
	int rc;

	whoami(s);
	printf("ready\n");
	fflush(stdout);
	while ((rc = bulwark_session_poll(s, 60000)) == 0)
		;
	printf("closed %u %s\n", transport_close_code(s->t),
	       transport_close_reason(s->t));
	fprintf(stderr, "bw_testclient: %s\n", bulwark_strerror(rc));
	bulwark_session_free(s);
	return 0;
}

static int cmd_hold(char **argv)
{
	return hold(open_session(argv[0], argv[1], argv[2]));
}

/* The same, as a device activated by `bulwark activate`: its keystore,
 * pinned CA and mutual TLS through libbulwark's public API. */
static int cmd_hold_device(char **argv)
{
	char source[4200], *pass = NULL;
	struct bulwark_device *d = NULL;
	struct bulwark_session *s;
	int rc;

	snprintf(source, sizeof(source), "file:%s", argv[1]);
	if ((rc = bulwark_passphrase_load(source, &pass)) != 0 ||
	    (rc = bulwark_device_open(argv[0], pass, &d)) != 0)
		die(EXIT_FAIL, bulwark_strerror(rc));
	bulwark_passphrase_free(pass);
	if ((rc = bulwark_connect(d, TIMEOUT_MS, &s)) != 0)
		fail(NULL, rc);
	rc = hold(s);
	bulwark_device_free(d);
	return rc;
}

/* HELLO, then one request of the given type with an empty body. */
static int cmd_call(int argc, char **argv)
{
	struct bulwark_session *s = open_session(
		argv[0], argc > 3 ? argv[2] : NULL, argc > 3 ? argv[3] : NULL);
	struct proto_msg m;
	int rc = session_call(s, (uint16_t)strtol(argv[1], NULL, 0), NULL, 0,
			      &m);

	if (rc != 0 && rc != BULWARK_ERR_REFUSED && rc != BULWARK_ERR_BUSY &&
	    rc != BULWARK_ERR_VERSION)
		fail(s, rc);
	printf("status %u %s\n", s->last_status,
	       proto_status_text(s->last_status));
	bulwark_session_free(s);
	return rc == 0 ? 0 : EXIT_REFUSED;
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

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(cmd, "code") == 0 && (argc == 7 || argc == 8))
		return cmd_code(argc - 2, argv + 2);
	if (strcmp(cmd, "activate") == 0 && (argc == 8 || argc == 9))
		return cmd_activate(argc - 2, argv + 2);
	if (strcmp(cmd, "whoami") == 0 && argc == 5)
		return cmd_whoami(argv + 2);
	if (strcmp(cmd, "hold") == 0 && argc == 5)
		return cmd_hold(argv + 2);
	if (strcmp(cmd, "hold-device") == 0 && argc == 4)
		return cmd_hold_device(argv + 2);
	if (strcmp(cmd, "call") == 0 && (argc == 4 || argc == 6))
		return cmd_call(argc - 2, argv + 2);
	if (strncmp(cmd, "ds-", 3) == 0) {
		int rc = tc_ds_main(argc - 1, argv + 1);

		if (rc >= 0)
			return rc;
	}
	fprintf(stderr, "usage: see the comment at the top of bw_testclient.c\n");
	return EXIT_USAGE;
}

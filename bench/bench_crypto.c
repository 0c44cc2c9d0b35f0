/*
 * bench_crypto.c - cost of HPKE and of MLS's labelled signatures and
 * encryption, per cipher suite, against the cost of the raw primitives
 * they are built from, measured here through EVP with prepared contexts.
 *
 *   bench_crypto [seconds per measurement, default 1]
 *
 * Times are process CPU time. Prints two Markdown tables for
 * docs/benchmarks.md. The "floor" of a protocol operation is the sum of
 * the raw primitives it cannot avoid (e.g. SealBase: one key generation,
 * one DH, four HKDF extract+expand pairs, one AEAD seal); the ratio to it
 * is the overhead of the protocol code: EVP object setup, encodings,
 * copies, allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "bench_util.h"
#include "crypto.h"
#include "hpke.h"

#define MSG_SMALL 64
#define MSG_LARGE 1024
#define SIGNED_LEN 256
/* HKDF extract+expand pairs in a base-mode setup: ExtractAndExpand (1) and
 * KeySchedule's psk_id_hash, info_hash and secret with key, base_nonce and
 * exp (3), RFC 9180 §4.1 and §5.1. */
#define SETUP_HKDF_PAIRS 4

/* ---- raw primitives through EVP ---- */

struct raw_costs {
	double x25519_keygen, x25519_dh, p256_keygen, p256_dh;
	double ed25519_sign, ed25519_verify, ecdsa_sign, ecdsa_verify;
	double aes_small, aes_large, chacha_small, chacha_large, hkdf;
};

struct keygen_arg {
	EVP_PKEY_CTX *ctx;
};

static int op_keygen(void *a)
{
	struct keygen_arg *k = a;
	EVP_PKEY *key = NULL;
	int rc = EVP_PKEY_keygen(k->ctx, &key) == 1 ? 0 : -1;

	EVP_PKEY_free(key);
	return rc;
}

struct dh_arg {
	EVP_PKEY_CTX *ctx;
	uint8_t out[32];
};

static int op_dh(void *a)
{
	struct dh_arg *d = a;
	size_t len = sizeof(d->out);

	return EVP_PKEY_derive(d->ctx, d->out, &len) == 1 ? 0 : -1;
}

static EVP_PKEY *new_key(const char *alg)
{
	EVP_PKEY *k = strcmp(alg, "EC") == 0 ?
			      EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") :
			      EVP_PKEY_Q_keygen(NULL, NULL, alg);

	if (k == NULL)
		bench_die(alg);
	return k;
}

static void bench_kex(const char *alg, const char *label, double *keygen,
		      double *dhc)
{
	EVP_PKEY *mine = new_key(alg), *peer = new_key(alg);
	struct keygen_arg kg = { EVP_PKEY_CTX_new_from_name(NULL, alg, NULL) };
	struct dh_arg dh = { EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL),
			     { 0 } };

	if (kg.ctx == NULL || EVP_PKEY_keygen_init(kg.ctx) != 1 ||
	    (strcmp(alg, "EC") == 0 &&
	     EVP_PKEY_CTX_set_group_name(kg.ctx, "P-256") != 1) ||
	    dh.ctx == NULL || EVP_PKEY_derive_init(dh.ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(dh.ctx, peer) != 1)
		bench_die(label);
	*keygen = bench_time_op(label, op_keygen, &kg);
	*dhc = bench_time_op(label, op_dh, &dh);
	EVP_PKEY_CTX_free(kg.ctx);
	EVP_PKEY_CTX_free(dh.ctx);
	EVP_PKEY_free(mine);
	EVP_PKEY_free(peer);
}

/* Ed25519 signs the message itself; ECDSA a SHA-256 digest, as openssl
 * speed does. */
struct sig_arg {
	EVP_MD_CTX *md;	  /* Ed25519 */
	EVP_PKEY_CTX *pk; /* ECDSA */
	uint8_t msg[SIGNED_LEN];
	uint8_t sig[MLS_MAX_SIG_LEN];
	size_t sig_len;
};

static int op_ed25519_sign(void *a)
{
	struct sig_arg *s = a;

	s->sig_len = sizeof(s->sig);
	return EVP_DigestSign(s->md, s->sig, &s->sig_len, s->msg,
			      sizeof(s->msg)) == 1 ? 0 : -1;
}

static int op_ed25519_verify(void *a)
{
	struct sig_arg *s = a;

	return EVP_DigestVerify(s->md, s->sig, s->sig_len, s->msg,
				sizeof(s->msg)) == 1 ? 0 : -1;
}

static int op_ecdsa_sign(void *a)
{
	struct sig_arg *s = a;

	s->sig_len = sizeof(s->sig);
	return EVP_PKEY_sign(s->pk, s->sig, &s->sig_len, s->msg, 32) == 1 ?
		       0 : -1;
}

static int op_ecdsa_verify(void *a)
{
	struct sig_arg *s = a;

	return EVP_PKEY_verify(s->pk, s->sig, s->sig_len, s->msg, 32) == 1 ?
		       0 : -1;
}

static void bench_ed25519(struct raw_costs *c)
{
	EVP_PKEY *k = new_key("ED25519");
	struct sig_arg s = { .md = EVP_MD_CTX_new() };

	if (s.md == NULL ||
	    EVP_DigestSignInit_ex(s.md, NULL, NULL, NULL, NULL, k, NULL) != 1)
		bench_die("Ed25519 sign init");
	c->ed25519_sign = bench_time_op("Ed25519 sign", op_ed25519_sign, &s);
	EVP_MD_CTX_free(s.md);
	if ((s.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(s.md, NULL, NULL, NULL, NULL, k, NULL) != 1)
		bench_die("Ed25519 verify init");
	c->ed25519_verify = bench_time_op("Ed25519 verify", op_ed25519_verify, &s);
	EVP_MD_CTX_free(s.md);
	EVP_PKEY_free(k);
}

static void bench_ecdsa(struct raw_costs *c)
{
	EVP_PKEY *k = new_key("EC");
	struct sig_arg s = { .pk = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL) };

	if (s.pk == NULL || EVP_PKEY_sign_init(s.pk) != 1)
		bench_die("ECDSA sign init");
	c->ecdsa_sign = bench_time_op("ECDSA sign", op_ecdsa_sign, &s);
	if (EVP_PKEY_verify_init(s.pk) != 1)
		bench_die("ECDSA verify init");
	c->ecdsa_verify = bench_time_op("ECDSA verify", op_ecdsa_verify, &s);
	EVP_PKEY_CTX_free(s.pk);
	EVP_PKEY_free(k);
}

struct aead_arg {
	EVP_CIPHER_CTX *ctx;
	uint8_t nonce[12];
	uint8_t in[MSG_LARGE], out[MSG_LARGE + 16];
	size_t len;
};

/* One seal with the key already scheduled: new nonce, body, tag. */
static int op_aead(void *a)
{
	struct aead_arg *x = a;
	int n;

	x->nonce[11]++;
	return EVP_EncryptInit_ex2(x->ctx, NULL, NULL, x->nonce, NULL) == 1 &&
			       EVP_EncryptUpdate(x->ctx, x->out, &n, x->in,
						 (int)x->len) == 1 &&
			       EVP_EncryptFinal_ex(x->ctx, x->out + n, &n) == 1 &&
			       EVP_CIPHER_CTX_ctrl(x->ctx,
						   EVP_CTRL_AEAD_GET_TAG, 16,
						   x->out + x->len) == 1 ?
		       0 : -1;
}

static void bench_aead(const char *name, double *small, double *large)
{
	static const uint8_t key[32] = { 1 };
	struct aead_arg x = { .ctx = EVP_CIPHER_CTX_new() };
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, name, NULL);

	if (c == NULL || x.ctx == NULL ||
	    EVP_EncryptInit_ex2(x.ctx, c, key, x.nonce, NULL) != 1)
		bench_die(name);
	x.len = MSG_SMALL;
	*small = bench_time_op(name, op_aead, &x);
	x.len = MSG_LARGE;
	*large = bench_time_op(name, op_aead, &x);
	EVP_CIPHER_CTX_free(x.ctx);
	EVP_CIPHER_free(c);
}

struct hkdf_arg {
	EVP_KDF_CTX *ctx;
	uint8_t out[32];
};

static int op_hkdf(void *a)
{
	struct hkdf_arg *h = a;

	return EVP_KDF_derive(h->ctx, h->out, sizeof(h->out), NULL) == 1 ?
		       0 : -1;
}

/* HKDF-SHA256 Extract then Expand to 32 bytes, parameters set once. */
static void bench_hkdf(struct raw_costs *c)
{
	static uint8_t ikm[32] = { 2 }, salt[32] = { 3 }, info[40] = { 4 };
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	struct hkdf_arg h = { .ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL };
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						 (char *)"SHA256", 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm,
						  sizeof(ikm)),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt,
						  sizeof(salt)),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
						  sizeof(info)),
		OSSL_PARAM_construct_end(),
	};

	if (h.ctx == NULL || EVP_KDF_CTX_set_params(h.ctx, params) != 1)
		bench_die("HKDF");
	c->hkdf = bench_time_op("HKDF", op_hkdf, &h);
	EVP_KDF_CTX_free(h.ctx);
	EVP_KDF_free(kdf);
}

static void print_raw_row(const char *name, double us)
{
	printf("| %s | %.0f | %.2f |\n", name, 1e6 / us, us);
}

static void bench_raw(struct raw_costs *c)
{
	bench_kex("X25519", "X25519", &c->x25519_keygen, &c->x25519_dh);
	bench_kex("EC", "P-256 ECDH", &c->p256_keygen, &c->p256_dh);
	bench_ed25519(c);
	bench_ecdsa(c);
	bench_aead("AES-128-GCM", &c->aes_small, &c->aes_large);
	bench_aead("ChaCha20-Poly1305", &c->chacha_small, &c->chacha_large);
	bench_hkdf(c);

	printf("| raw primitive (EVP, prepared context) | ops/s | µs/op |\n");
	printf("|---|---:|---:|\n");
	print_raw_row("X25519 key generation", c->x25519_keygen);
	print_raw_row("X25519 derive", c->x25519_dh);
	print_raw_row("P-256 key generation", c->p256_keygen);
	print_raw_row("P-256 ECDH derive", c->p256_dh);
	print_raw_row("Ed25519 sign (256 B)", c->ed25519_sign);
	print_raw_row("Ed25519 verify (256 B)", c->ed25519_verify);
	print_raw_row("ECDSA P-256 sign (SHA-256 digest)", c->ecdsa_sign);
	print_raw_row("ECDSA P-256 verify (SHA-256 digest)", c->ecdsa_verify);
	print_raw_row("AES-128-GCM seal 64 B", c->aes_small);
	print_raw_row("AES-128-GCM seal 1 KiB", c->aes_large);
	print_raw_row("ChaCha20-Poly1305 seal 64 B", c->chacha_small);
	print_raw_row("ChaCha20-Poly1305 seal 1 KiB", c->chacha_large);
	print_raw_row("HKDF-SHA256 extract+expand 32 B", c->hkdf);
	printf("\n");
}

/* ---- protocol operations per suite ---- */

struct proto_arg {
	const struct mls_suite *s;
	struct hpke_suite hs;
	struct bw_bytes sk, pk, enc, ct, sig;
	uint8_t msg[MSG_LARGE];
	size_t len;
};

static int op_seal_base(void *a)
{
	struct proto_arg *p = a;
	struct bw_bytes enc = { 0 }, ct = { 0 };
	int rc = hpke_seal_base(&p->hs, p->pk.p, p->pk.len, NULL, 0, NULL, 0,
				p->msg, p->len, &enc, &ct);

	bw_bytes_clear(&enc);
	bw_bytes_clear(&ct);
	return rc;
}

static int op_open_base(void *a)
{
	struct proto_arg *p = a;
	struct bw_bytes pt = { 0 };
	int rc = hpke_open_base(&p->hs, p->enc.p, p->enc.len, p->sk.p,
				p->sk.len, NULL, 0, NULL, 0, p->ct.p,
				p->ct.len, &pt);

	bw_bytes_clear(&pt);
	return rc;
}

static int op_encrypt_with_label(void *a)
{
	struct proto_arg *p = a;
	struct bw_bytes kem = { 0 }, ct = { 0 };
	int rc = mls_encrypt_with_label(p->s, p->pk.p, p->pk.len, "bench",
					p->msg, 32, p->msg, p->len, &kem, &ct);

	bw_bytes_clear(&kem);
	bw_bytes_clear(&ct);
	return rc;
}

static int op_decrypt_with_label(void *a)
{
	struct proto_arg *p = a;
	struct bw_bytes pt = { 0 };
	int rc = mls_decrypt_with_label(p->s, p->sk.p, p->sk.len, "bench",
					p->msg, 32, p->enc.p, p->enc.len,
					p->ct.p, p->ct.len, &pt);

	bw_bytes_clear(&pt);
	return rc;
}

static int op_sign_with_label(void *a)
{
	struct proto_arg *p = a;
	struct bw_bytes sig = { 0 };
	int rc = mls_sign_with_label(p->s, p->sk.p, p->sk.len, "bench", p->msg,
				     SIGNED_LEN, &sig);

	bw_bytes_clear(&sig);
	return rc;
}

static int op_verify_with_label(void *a)
{
	struct proto_arg *p = a;

	return mls_verify_with_label(p->s, p->pk.p, p->pk.len, "bench",
				     p->msg, SIGNED_LEN, p->sig.p, p->sig.len);
}

static void print_row(uint16_t suite, const char *op, double us,
		      double floor_us)
{
	printf("| %u | %s | %.0f | %.2f | %.2f | %.2f |\n", suite, op,
	       1e6 / us, us, floor_us, us / floor_us);
}

/* HPKE SealBase/OpenBase of 64 B and 1 KiB. */
static void bench_hpke(struct proto_arg *p, double keygen, double dhc,
		       double hkdf, const double aead[2])
{
	static const size_t lens[2] = { MSG_SMALL, MSG_LARGE };
	double setup = dhc + SETUP_HKDF_PAIRS * hkdf;

	for (size_t i = 0; i < 2; i++) {
		char name[64];

		p->len = lens[i];
		if (hpke_seal_base(&p->hs, p->pk.p, p->pk.len, NULL, 0, NULL, 0,
				   p->msg, p->len, &p->enc, &p->ct) != 0)
			bench_die("SealBase");
		snprintf(name, sizeof(name), "HPKE SealBase %zu B", p->len);
		print_row(p->s->id, name, bench_time_op(name, op_seal_base, p),
			  keygen + setup + aead[i]);
		snprintf(name, sizeof(name), "HPKE OpenBase %zu B", p->len);
		print_row(p->s->id, name, bench_time_op(name, op_open_base, p),
			  setup + aead[i]);
	}
}

/* EncryptWithLabel/DecryptWithLabel of 64 B (a path secret's size class)
 * and SignWithLabel/VerifyWithLabel of 256 B. */
static void bench_labelled(struct proto_arg *p, double keygen, double dhc,
			   double hkdf, double aead_small, double sign,
			   double verify)
{
	struct bw_bytes sig_sk = { 0 }, sig_pk = { 0 };
	double setup = dhc + SETUP_HKDF_PAIRS * hkdf;

	p->len = MSG_SMALL;
	if (mls_encrypt_with_label(p->s, p->pk.p, p->pk.len, "bench", p->msg,
				   32, p->msg, p->len, &p->enc, &p->ct) != 0)
		bench_die("EncryptWithLabel");
	print_row(p->s->id, "EncryptWithLabel 64 B",
		  bench_time_op("EncryptWithLabel", op_encrypt_with_label, p),
		  keygen + setup + aead_small);
	print_row(p->s->id, "DecryptWithLabel 64 B",
		  bench_time_op("DecryptWithLabel", op_decrypt_with_label, p),
		  setup + aead_small);

	/* the signature key pair replaces the HPKE one from here on */
	if (mls_sig_keygen(p->s, &sig_sk, &sig_pk) != 0)
		bench_die("signature key generation");
	bw_bytes_move(&p->sk, &sig_sk);
	bw_bytes_move(&p->pk, &sig_pk);
	if (mls_sign_with_label(p->s, p->sk.p, p->sk.len, "bench", p->msg,
				SIGNED_LEN, &p->sig) != 0)
		bench_die("SignWithLabel");
	print_row(p->s->id, "SignWithLabel 256 B",
		  bench_time_op("SignWithLabel", op_sign_with_label, p), sign);
	print_row(p->s->id, "VerifyWithLabel 256 B",
		  bench_time_op("VerifyWithLabel", op_verify_with_label, p), verify);
}

static void bench_suite(uint16_t id, const struct raw_costs *c)
{
	struct proto_arg p = { .s = mls_suite_get(id) };
	bool p256, chacha, ed25519;
	double aead[2];

	if (p.s == NULL)
		bench_die("mls_suite_get");
	p256 = p.s->kem_id == HPKE_KEM_P256_SHA256;
	chacha = p.s->aead_id == HPKE_AEAD_CHACHA20POLY1305;
	ed25519 = p.s->sig_alg == MLS_SIG_ED25519;
	aead[0] = chacha ? c->chacha_small : c->aes_small;
	aead[1] = chacha ? c->chacha_large : c->aes_large;
	p.hs = (struct hpke_suite){ p.s->kem_id, p.s->kdf_id, p.s->aead_id };
	memset(p.msg, 0x5a, sizeof(p.msg));
	if (hpke_generate_keypair(p.s->kem_id, &p.sk, &p.pk) != 0)
		bench_die("HPKE key generation");
	bench_hpke(&p, p256 ? c->p256_keygen : c->x25519_keygen,
		   p256 ? c->p256_dh : c->x25519_dh, c->hkdf, aead);
	bench_labelled(&p, p256 ? c->p256_keygen : c->x25519_keygen,
		       p256 ? c->p256_dh : c->x25519_dh, c->hkdf, aead[0],
		       ed25519 ? c->ed25519_sign : c->ecdsa_sign,
		       ed25519 ? c->ed25519_verify : c->ecdsa_verify);
	bw_bytes_clear(&p.sk);
	bw_bytes_clear(&p.pk);
	bw_bytes_clear(&p.enc);
	bw_bytes_clear(&p.ct);
	bw_bytes_clear(&p.sig);
}

int main(int argc, char **argv)
{
	static const uint16_t suites[] = {
		MLS_SUITE_X25519_AES128GCM_SHA256_ED25519,
		MLS_SUITE_P256_AES128GCM_SHA256_P256,
		MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519,
	};
	struct raw_costs c;

	bench_parse_seconds(argc, argv);
	printf("%s, %.1f s per measurement\n\n", OpenSSL_version(OPENSSL_VERSION),
	       bench_seconds_per_op);
	bench_raw(&c);
	printf("| suite | operation | ops/s | µs/op | floor µs | ratio |\n");
	printf("|---:|---|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		bench_suite(suites[i], &c);
	return 0;
}

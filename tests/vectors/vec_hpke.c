/*
 * vec_hpke.c - RFC 9180 HPKE against hpke/test-vectors.json (every entry:
 * DHKEM(X25519 | P-256), HKDF-SHA256, AES-128-GCM | ChaCha20-Poly1305 |
 * export-only, all four modes).
 *
 * Per entry: the derived key pairs, Encap/Decap (enc, shared_secret), the
 * key schedule (key_schedule_context, secret, key, base_nonce,
 * exporter_secret), every encryption in sequence on both sides, every
 * export on both sides, and the entry's negative cases (tampered ct or aad,
 * wrong or inconsistent PSK and sender-key inputs). After the vectors, the
 * checks the file cannot express: sequence number exhaustion, invalid
 * public and private keys, role misuse, unsupported suites, export limits.
 */
#include <stdlib.h>

#include "crypto.h"
#include "hpke.h"
#include "test.h"
#include "vectors.h"

struct entry {
	size_t index;
	struct hpke_suite suite;
	enum hpke_mode mode;
	bool psk_mode, auth_mode;
	struct bw_bytes info, ikmR, ikmE, ikmS, skRm, skEm, skSm, pkRm, pkEm,
		pkSm, psk, psk_id, enc, shared_secret, ksc, secret, key,
		base_nonce, exporter_secret;
	json_t *encryptions, *exports;
};

static unsigned n_encryptions, n_exports;

static void entry_clear(struct entry *e)
{
	struct bw_bytes *all[] = { &e->info, &e->ikmR, &e->ikmE, &e->ikmS,
				   &e->skRm, &e->skEm, &e->skSm, &e->pkRm,
				   &e->pkEm, &e->pkSm, &e->psk, &e->psk_id,
				   &e->enc, &e->shared_secret, &e->ksc,
				   &e->secret, &e->key, &e->base_nonce,
				   &e->exporter_secret };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		bw_bytes_clear(all[i]);
}

static bool entry_load(json_t *v, size_t index, struct entry *e)
{
	uint64_t mode, kem, kdf, aead;

	e->index = index;
	CHECK(tv_u64(v, "mode", &mode) && tv_u64(v, "kem_id", &kem) &&
	      tv_u64(v, "kdf_id", &kdf) && tv_u64(v, "aead_id", &aead));
	CHECK(mode <= HPKE_MODE_AUTH_PSK && kem <= UINT16_MAX &&
	      kdf <= UINT16_MAX && aead <= UINT16_MAX);
	e->mode = (enum hpke_mode)mode;
	e->suite = (struct hpke_suite){ (uint16_t)kem, (uint16_t)kdf,
					(uint16_t)aead };
	e->psk_mode = mode == HPKE_MODE_PSK || mode == HPKE_MODE_AUTH_PSK;
	e->auth_mode = mode == HPKE_MODE_AUTH || mode == HPKE_MODE_AUTH_PSK;
	CHECK(tv_hex(v, "info", &e->info) && tv_hex(v, "ikmR", &e->ikmR) &&
	      tv_hex(v, "ikmE", &e->ikmE) && tv_hex(v, "skRm", &e->skRm) &&
	      tv_hex(v, "skEm", &e->skEm) && tv_hex(v, "pkRm", &e->pkRm) &&
	      tv_hex(v, "pkEm", &e->pkEm) && tv_hex(v, "enc", &e->enc) &&
	      tv_hex(v, "shared_secret", &e->shared_secret) &&
	      tv_hex(v, "key_schedule_context", &e->ksc) &&
	      tv_hex(v, "secret", &e->secret) && tv_hex(v, "key", &e->key) &&
	      tv_hex(v, "base_nonce", &e->base_nonce) &&
	      tv_hex(v, "exporter_secret", &e->exporter_secret));
	if (e->psk_mode)
		CHECK(tv_hex(v, "psk", &e->psk) &&
		      tv_hex(v, "psk_id", &e->psk_id));
	if (e->auth_mode)
		CHECK(tv_hex(v, "ikmS", &e->ikmS) &&
		      tv_hex(v, "skSm", &e->skSm) &&
		      tv_hex(v, "pkSm", &e->pkSm));
	e->encryptions = json_object_get(v, "encryptions");
	e->exports = json_object_get(v, "exports");
	CHECK(json_is_array(e->encryptions) && json_is_array(e->exports));
	/* Only export-only entries may come without encryptions. */
	CHECK((json_array_size(e->encryptions) == 0) ==
	      (aead == HPKE_AEAD_EXPORT_ONLY));
	CHECK(json_array_size(e->exports) > 0);
	return true;
}

/* ---- contexts built from an entry, optionally with altered inputs ---- */

struct setup_args {
	enum hpke_mode mode;
	const struct bw_bytes *psk, *psk_id;
	const uint8_t *sender_key; /* skS for the sender, pkS for the receiver */
	size_t sender_key_len;
};

/* The entry's own inputs. */
static struct setup_args args_of(const struct entry *e, bool sender)
{
	const struct bw_bytes *key = sender ? &e->skSm : &e->pkSm;

	return (struct setup_args){
		.mode = e->mode,
		.psk = &e->psk,
		.psk_id = &e->psk_id,
		.sender_key = e->auth_mode ? key->p : NULL,
		.sender_key_len = e->auth_mode ? key->len : 0,
	};
}

static int sender_with(const struct entry *e, const struct setup_args *a,
		       struct bw_bytes *enc, struct hpke_ctx **ctx)
{
	return hpke_setup_s(&e->suite, a->mode, e->pkRm.p, e->pkRm.len,
			    e->info.p, e->info.len, a->psk->p, a->psk->len,
			    a->psk_id->p, a->psk_id->len, a->sender_key,
			    a->sender_key_len, e->ikmE.p, e->ikmE.len, enc, ctx);
}

static int receiver_with(const struct entry *e, const struct setup_args *a,
			 struct hpke_ctx **ctx)
{
	return hpke_setup_r(&e->suite, a->mode, e->enc.p, e->enc.len,
			    e->skRm.p, e->skRm.len, e->info.p, e->info.len,
			    a->psk->p, a->psk->len, a->psk_id->p,
			    a->psk_id->len, a->sender_key, a->sender_key_len,
			    ctx);
}

static int receiver(const struct entry *e, struct hpke_ctx **ctx)
{
	struct setup_args a = args_of(e, false);

	return receiver_with(e, &a, ctx);
}

/* ---- the entry's values ---- */

static bool check_keypair(uint16_t kem_id, const struct bw_bytes *ikm,
			  const struct bw_bytes *sk, const struct bw_bytes *pk)
{
	struct bw_bytes got_sk = { 0 }, got_pk = { 0 }, pub = { 0 };
	bool ok = hpke_derive_keypair(kem_id, ikm->p, ikm->len, &got_sk,
				      &got_pk) == 0 &&
		  hpke_public_key(kem_id, sk->p, sk->len, &pub) == 0 &&
		  bw_bytes_eq(&got_sk, sk->p, sk->len) &&
		  bw_bytes_eq(&got_pk, pk->p, pk->len) &&
		  bw_bytes_eq(&pub, pk->p, pk->len);

	bw_bytes_clear(&got_sk);
	bw_bytes_clear(&got_pk);
	bw_bytes_clear(&pub);
	return ok;
}

static bool check_keys(const struct entry *e)
{
	uint16_t kem = e->suite.kem_id;

	CHECK(check_keypair(kem, &e->ikmR, &e->skRm, &e->pkRm));
	CHECK(check_keypair(kem, &e->ikmE, &e->skEm, &e->pkEm));
	if (e->auth_mode)
		CHECK(check_keypair(kem, &e->ikmS, &e->skSm, &e->pkSm));
	CHECK_EQ_INT(hpke_kem_enc_len(kem), e->enc.len);
	CHECK_EQ_INT(hpke_kem_pk_len(kem), e->pkRm.len);
	CHECK_EQ_INT(hpke_kem_sk_len(kem), e->skRm.len);
	return true;
}

static bool check_kem(const struct entry *e)
{
	uint8_t ss[HPKE_SECRET_LEN];
	struct bw_bytes enc = { 0 };
	bool ok;

	CHECK(hpke_encap(e->suite.kem_id, e->pkRm.p, e->pkRm.len,
			 e->auth_mode ? e->skSm.p : NULL, e->skSm.len,
			 e->ikmE.p, e->ikmE.len, ss, &enc) == 0);
	ok = bw_bytes_eq(&enc, e->enc.p, e->enc.len) &&
	     bw_bytes_eq(&e->shared_secret, ss, sizeof(ss));
	bw_bytes_clear(&enc);
	CHECK(ok);
	memset(ss, 0, sizeof(ss));
	CHECK(hpke_decap(e->suite.kem_id, e->enc.p, e->enc.len, e->skRm.p,
			 e->skRm.len, e->auth_mode ? e->pkSm.p : NULL,
			 e->pkSm.len, ss) == 0);
	CHECK(bw_bytes_eq(&e->shared_secret, ss, sizeof(ss)));
	return true;
}

static bool check_schedule(const struct entry *e)
{
	struct hpke_test_schedule s;

	CHECK(hpke_test_key_schedule(&e->suite, e->mode, e->shared_secret.p,
				     e->info.p, e->info.len, e->psk.p,
				     e->psk.len, e->psk_id.p, e->psk_id.len,
				     &s) == 0);
	CHECK(bw_bytes_eq(&e->ksc, s.key_schedule_context,
			  sizeof(s.key_schedule_context)));
	CHECK(bw_bytes_eq(&e->secret, s.secret, sizeof(s.secret)));
	return true;
}

/* key, base_nonce and exporter_secret as the context holds them; an
 * export-only entry gives no key or nonce (the file has them empty). */
static bool check_context_values(const struct entry *e,
				 const struct hpke_ctx *ctx)
{
	struct hpke_test_view v;

	hpke_test_ctx_view(ctx, &v);
	CHECK(bw_bytes_eq(&e->key, v.key, v.key_len));
	CHECK(bw_bytes_eq(&e->base_nonce, v.base_nonce, v.base_nonce_len));
	CHECK(bw_bytes_eq(&e->exporter_secret, v.exporter_secret,
			  v.exporter_secret_len));
	CHECK_EQ_INT(v.seq, 0);
	return true;
}

static uint64_t seq_of(const struct hpke_ctx *ctx)
{
	struct hpke_test_view v;

	hpke_test_ctx_view(ctx, &v);
	return v.seq;
}

static bool check_one_encryption(json_t *x, uint64_t seq,
				 struct hpke_ctx *s, struct hpke_ctx *r)
{
	struct bw_bytes aad = { 0 }, pt = { 0 }, ct = { 0 }, got = { 0 };
	bool ok = false;

	if (!tv_hex(x, "aad", &aad) || !tv_hex(x, "pt", &pt) ||
	    !tv_hex(x, "ct", &ct) || ct.len != pt.len + 16 ||
	    seq_of(s) != seq || seq_of(r) != seq ||
	    bw_bytes_alloc(&got, ct.len) != 0)
		goto out;
	if (hpke_seal(s, aad.p, aad.len, pt.p, pt.len, got.p) != 0 ||
	    memcmp(got.p, ct.p, ct.len) != 0) {
		fprintf(stderr, "seal %llu differs\n", (unsigned long long)seq);
		goto out;
	}
	memset(got.p, 0, got.len);
	if (hpke_open(r, aad.p, aad.len, ct.p, ct.len, got.p) != 0 ||
	    memcmp(got.p, pt.p, pt.len) != 0) {
		fprintf(stderr, "open %llu differs\n", (unsigned long long)seq);
		goto out;
	}
	ok = true;
out:
	bw_bytes_clear(&aad);
	bw_bytes_clear(&pt);
	bw_bytes_clear(&ct);
	bw_bytes_clear(&got);
	return ok;
}

static bool check_encryptions(const struct entry *e, struct hpke_ctx *s,
			      struct hpke_ctx *r)
{
	size_t i;
	json_t *x;

	json_array_foreach(e->encryptions, i, x) {
		CHECK(check_one_encryption(x, i, s, r));
		n_encryptions++;
	}
	return true;
}

/* Export(exporter_context, L) from ctx equals want (or, with !equal,
 * differs from it). */
static bool export_is(const struct hpke_ctx *ctx, json_t *x, bool equal)
{
	struct bw_bytes exp_ctx = { 0 }, want = { 0 }, got = { 0 };
	uint64_t L;
	bool ok = false;

	if (!tv_hex(x, "exporter_context", &exp_ctx) || !tv_u64(x, "L", &L) ||
	    !tv_hex(x, "exported_value", &want) || L != want.len ||
	    bw_bytes_alloc(&got, want.len) != 0 ||
	    hpke_export(ctx, exp_ctx.p, exp_ctx.len, got.p, got.len) != 0)
		goto out;
	ok = bw_bytes_eq(&want, got.p, got.len) == equal;
out:
	bw_bytes_clear(&exp_ctx);
	bw_bytes_clear(&want);
	bw_bytes_clear(&got);
	return ok;
}

static bool check_exports(const struct entry *e, const struct hpke_ctx *s,
			  const struct hpke_ctx *r)
{
	size_t i;
	json_t *x;

	json_array_foreach(e->exports, i, x) {
		CHECK(export_is(s, x, true));
		CHECK(export_is(r, x, true));
		n_exports++;
	}
	return true;
}

/* ---- the entry's negative cases ---- */

/* Open of the first encryption with ct or aad changed fails with
 * MLS_ERR_AEAD, wipes the output and leaves the sequence number alone;
 * the genuine message then opens at sequence number 0. */
static bool check_tampering(const struct entry *e)
{
	json_t *x = json_array_get(e->encryptions, 0);
	struct bw_bytes aad = { 0 }, ct = { 0 }, pt = { 0 };
	struct hpke_ctx *r = NULL;
	bool ok = false;

	if (!tv_hex(x, "aad", &aad) || !tv_hex(x, "ct", &ct) ||
	    bw_bytes_alloc(&pt, ct.len - 16) != 0 || receiver(e, &r) != 0)
		goto out;
	/* the first ciphertext byte, then the last tag byte */
	for (size_t i = 0, pos[2] = { 0, ct.len - 1 }; i < 2; i++) {
		ct.p[pos[i]] ^= 0x01;
		memset(pt.p, 0xaa, pt.len);
		if (hpke_open(r, aad.p, aad.len, ct.p, ct.len, pt.p) !=
			    MLS_ERR_AEAD ||
		    seq_of(r) != 0 || pt.p[0] != 0)
			goto out;
		ct.p[pos[i]] ^= 0x01;
	}
	aad.p[0] ^= 0x80;
	if (hpke_open(r, aad.p, aad.len, ct.p, ct.len, pt.p) != MLS_ERR_AEAD ||
	    seq_of(r) != 0)
		goto out;
	aad.p[0] ^= 0x80;
	ok = hpke_open(r, aad.p, aad.len, ct.p, ct.len, pt.p) == 0 &&
	     seq_of(r) == 1;
out:
	if (!ok)
		fprintf(stderr, "tampered ciphertext or aad not refused\n");
	hpke_ctx_free(r);
	bw_bytes_clear(&aad);
	bw_bytes_clear(&ct);
	bw_bytes_clear(&pt);
	return ok;
}

/* A receiver built with altered inputs derives other keys: the first
 * message does not open (AEAD) or the first export differs. */
static bool receiver_disagrees(const struct entry *e,
			       const struct setup_args *a)
{
	json_t *x = json_array_get(e->encryptions, 0);
	struct bw_bytes aad = { 0 }, ct = { 0 }, pt = { 0 };
	struct hpke_ctx *r = NULL;
	bool ok = false;

	if (receiver_with(e, a, &r) != 0)
		goto out;
	if (hpke_aead_tag_len(e->suite.aead_id) == 0) {
		ok = export_is(r, json_array_get(e->exports, 0), false);
		goto out;
	}
	ok = tv_hex(x, "aad", &aad) && tv_hex(x, "ct", &ct) &&
	     bw_bytes_alloc(&pt, ct.len - 16) == 0 &&
	     hpke_open(r, aad.p, aad.len, ct.p, ct.len, pt.p) == MLS_ERR_AEAD;
out:
	hpke_ctx_free(r);
	bw_bytes_clear(&aad);
	bw_bytes_clear(&ct);
	bw_bytes_clear(&pt);
	return ok;
}

/* Both sides refuse these inputs with MLS_ERR_HPKE_MODE and hand nothing
 * over. a holds the receiver's inputs; the sender gets a private key where
 * the receiver has a public one. */
static bool refused(const struct entry *e, const struct setup_args *a)
{
	const struct bw_bytes *sk = e->auth_mode ? &e->skSm : &e->skEm;
	struct setup_args sa = *a;
	struct hpke_ctx *ctx = NULL;
	struct bw_bytes enc = { 0 };

	CHECK(receiver_with(e, a, &ctx) == MLS_ERR_HPKE_MODE && ctx == NULL);
	if (sa.sender_key != NULL) {
		sa.sender_key = sk->p;
		sa.sender_key_len = sk->len;
	}
	CHECK(sender_with(e, &sa, &enc, &ctx) == MLS_ERR_HPKE_MODE &&
	      ctx == NULL && enc.len == 0);
	return true;
}

static bool check_psk_inputs(const struct entry *e)
{
	static const struct bw_bytes none = { 0 };
	struct setup_args a = args_of(e, false);
	struct bw_bytes other = { 0 };
	bool ok;

	if (!e->psk_mode) {
		/* §5.1 VerifyPSKInputs: a PSK where the mode has none */
		a.psk = a.psk_id = &e->info;
		CHECK(refused(e, &a));
		a.mode = e->auth_mode ? HPKE_MODE_AUTH_PSK : HPKE_MODE_PSK;
		a.psk = &none;
		a.psk_id = &none;
		CHECK(refused(e, &a)); /* a PSK mode without a PSK */
		return true;
	}
	a.psk_id = &none;
	CHECK(refused(e, &a)); /* psk without psk_id */
	a.psk_id = &e->psk_id;
	a.psk = &none;
	CHECK(refused(e, &a)); /* psk_id without psk */
	a.psk = &e->psk;
	a.mode = e->auth_mode ? HPKE_MODE_AUTH : HPKE_MODE_BASE;
	CHECK(refused(e, &a)); /* a PSK in a mode without one */
	a.mode = e->mode;
	CHECK(bw_bytes_set(&other, e->psk.p, e->psk.len) == 0);
	other.p[0] ^= 1;
	a.psk = &other;
	ok = receiver_disagrees(e, &a); /* the wrong PSK */
	bw_bytes_clear(&other);
	CHECK(ok);
	return true;
}

static bool check_sender_key_inputs(const struct entry *e)
{
	struct setup_args a = args_of(e, false);

	if (!e->auth_mode) {
		a.sender_key = e->pkEm.p; /* a sender key outside auth modes */
		a.sender_key_len = e->pkEm.len;
		CHECK(refused(e, &a));
		return true;
	}
	a.sender_key = NULL;
	a.sender_key_len = 0;
	CHECK(refused(e, &a)); /* an auth mode without the sender's key */
	a.sender_key = e->pkRm.p;
	a.sender_key_len = e->pkRm.len;
	CHECK(receiver_disagrees(e, &a)); /* the wrong sender */
	return true;
}

/* An export-only context refuses Seal and Open. */
static bool check_export_only(struct hpke_ctx *s, struct hpke_ctx *r)
{
	uint8_t buf[32] = { 0 };

	CHECK(hpke_seal(s, NULL, 0, buf, 8, buf) == MLS_ERR_HPKE_EXPORT_ONLY);
	CHECK(hpke_open(r, NULL, 0, buf, sizeof(buf), buf) ==
	      MLS_ERR_HPKE_EXPORT_ONLY);
	return true;
}

static bool check_entry(const struct entry *e)
{
	struct setup_args sa = args_of(e, true);
	struct hpke_ctx *s = NULL, *r = NULL;
	struct bw_bytes enc = { 0 };
	bool aead = hpke_aead_tag_len(e->suite.aead_id) > 0;
	bool ok = false;

	if (!check_keys(e) || !check_kem(e) || !check_schedule(e))
		goto out;
	if (sender_with(e, &sa, &enc, &s) != 0 || receiver(e, &r) != 0 ||
	    !bw_bytes_eq(&enc, e->enc.p, e->enc.len)) {
		fprintf(stderr, "setup fails or enc differs\n");
		goto out;
	}
	ok = check_context_values(e, s) && check_context_values(e, r) &&
	     check_encryptions(e, s, r) && check_exports(e, s, r) &&
	     (aead ? check_tampering(e) : check_export_only(s, r)) &&
	     check_psk_inputs(e) && check_sender_key_inputs(e);
out:
	hpke_ctx_free(s);
	hpke_ctx_free(r);
	bw_bytes_clear(&enc);
	return ok;
}

static bool check_vector(json_t *v, size_t index)
{
	struct entry e = { 0 };
	bool ok = entry_load(v, index, &e) && check_entry(&e);

	if (!ok)
		fprintf(stderr, "FAIL entry %zu (mode %d, kem 0x%04x, aead 0x%04x)\n",
			index, (int)e.mode, e.suite.kem_id, e.suite.aead_id);
	entry_clear(&e);
	return ok;
}

/* ---- beyond the file ---- */

static const struct hpke_suite x25519_aes = { HPKE_KEM_X25519_SHA256,
					      HPKE_KDF_HKDF_SHA256,
					      HPKE_AEAD_AES128GCM };
static const struct hpke_suite p256_chacha = { HPKE_KEM_P256_SHA256,
					       HPKE_KDF_HKDF_SHA256,
					       HPKE_AEAD_CHACHA20POLY1305 };

/* A fresh base-mode pair of contexts for suite. */
static bool fresh_pair(const struct hpke_suite *suite, struct hpke_ctx **s,
		       struct hpke_ctx **r)
{
	struct bw_bytes sk = { 0 }, pk = { 0 }, enc = { 0 };
	bool ok = hpke_generate_keypair(suite->kem_id, &sk, &pk) == 0 &&
		  hpke_setup_s(suite, HPKE_MODE_BASE, pk.p, pk.len, NULL, 0,
			       NULL, 0, NULL, 0, NULL, 0, NULL, 0, &enc,
			       s) == 0 &&
		  hpke_setup_r(suite, HPKE_MODE_BASE, enc.p, enc.len, sk.p,
			       sk.len, NULL, 0, NULL, 0, NULL, 0, NULL, 0,
			       r) == 0;

	bw_bytes_clear(&sk);
	bw_bytes_clear(&pk);
	bw_bytes_clear(&enc);
	return ok;
}

/* §5.2: the sequence number's last value is never used; the nonces just
 * below it still agree between the two sides. */
static bool test_sequence_limit(void)
{
	uint8_t pt[4] = { 1, 2, 3, 4 }, ct[sizeof(pt) + 16], back[sizeof(pt)];
	struct hpke_ctx *s = NULL, *r = NULL;
	bool ok;

	CHECK(fresh_pair(&x25519_aes, &s, &r));
	hpke_test_ctx_set_seq(s, UINT64_MAX - 1);
	hpke_test_ctx_set_seq(r, UINT64_MAX - 1);
	ok = hpke_seal(s, NULL, 0, pt, sizeof(pt), ct) == 0 &&
	     hpke_open(r, NULL, 0, ct, sizeof(ct), back) == 0 &&
	     memcmp(back, pt, sizeof(pt)) == 0 &&
	     hpke_seal(s, NULL, 0, pt, sizeof(pt), ct) ==
		     MLS_ERR_HPKE_SEQ_OVERFLOW &&
	     hpke_open(r, NULL, 0, ct, sizeof(ct), back) ==
		     MLS_ERR_HPKE_SEQ_OVERFLOW &&
	     seq_of(s) == UINT64_MAX && seq_of(r) == UINT64_MAX;
	hpke_ctx_free(s);
	hpke_ctx_free(r);
	CHECK(ok);
	return true;
}

/* §5.2: a sender context never decrypts and a receiver never encrypts. */
static bool test_roles(void)
{
	uint8_t buf[32] = { 0 };
	struct hpke_ctx *s = NULL, *r = NULL;
	bool ok;

	CHECK(fresh_pair(&p256_chacha, &s, &r));
	ok = hpke_seal(r, NULL, 0, buf, 8, buf) == MLS_ERR_INVALID_ARG &&
	     hpke_open(s, NULL, 0, buf, 24, buf) == MLS_ERR_INVALID_ARG &&
	     seq_of(s) == 0 && seq_of(r) == 0;
	hpke_ctx_free(s);
	hpke_ctx_free(r);
	CHECK(ok);
	return true;
}

static int setup_s_to(const struct hpke_suite *suite, const uint8_t *pk,
		      size_t pk_len)
{
	struct bw_bytes enc = { 0 };
	struct hpke_ctx *ctx = NULL;
	int rc = hpke_setup_s(suite, HPKE_MODE_BASE, pk, pk_len, NULL, 0, NULL,
			      0, NULL, 0, NULL, 0, NULL, 0, &enc, &ctx);

	hpke_ctx_free(ctx);
	bw_bytes_clear(&enc);
	return rc;
}

/* §7.1.4: X25519 public keys of small order give an all-zero DH output,
 * refused on both sides. */
static bool test_x25519_low_order(void)
{
	/* 0, 1 and a point of order 8 (RFC 7748 §6.1 discussion; any of the
	 * small-order u-coordinates serves). */
	static const uint8_t low[][32] = {
		{ 0 },
		{ 1 },
		{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56,
		  0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb,
		  0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
		  0xb8, 0x00 },
	};
	struct bw_bytes sk = { 0 }, pk = { 0 };
	uint8_t ss[HPKE_SECRET_LEN];
	bool ok = true;

	CHECK(hpke_generate_keypair(HPKE_KEM_X25519_SHA256, &sk, &pk) == 0);
	for (size_t i = 0; i < sizeof(low) / sizeof(low[0]); i++) {
		ok = ok && setup_s_to(&x25519_aes, low[i], 32) == MLS_ERR_BAD_KEY;
		ok = ok && hpke_decap(HPKE_KEM_X25519_SHA256, low[i], 32, sk.p,
				      sk.len, NULL, 0, ss) == MLS_ERR_BAD_KEY;
		/* as the sender's key in auth mode */
		ok = ok && hpke_decap(HPKE_KEM_X25519_SHA256, pk.p, pk.len,
				      sk.p, sk.len, low[i], 32,
				      ss) == MLS_ERR_BAD_KEY;
	}
	ok = ok && setup_s_to(&x25519_aes, pk.p, 31) == MLS_ERR_BAD_KEY;
	bw_bytes_clear(&sk);
	bw_bytes_clear(&pk);
	CHECK(ok);
	return true;
}

/* §7.1.4: P-256 public keys must be uncompressed points on the curve. */
static bool test_p256_public_keys(void)
{
	struct bw_bytes sk = { 0 }, pk = { 0 };
	uint8_t bad[MLS_P256_POINT_LEN];
	bool ok;

	CHECK(hpke_generate_keypair(HPKE_KEM_P256_SHA256, &sk, &pk) == 0);
	CHECK(setup_s_to(&p256_chacha, pk.p, pk.len) == 0);
	memcpy(bad, pk.p, sizeof(bad));
	bad[64] ^= 1; /* off the curve */
	ok = setup_s_to(&p256_chacha, bad, sizeof(bad)) == MLS_ERR_BAD_KEY;
	bad[64] ^= 1;
	bad[0] = 0x03; /* not the uncompressed form */
	ok = ok && setup_s_to(&p256_chacha, bad, sizeof(bad)) == MLS_ERR_BAD_KEY;
	ok = ok && setup_s_to(&p256_chacha, bad, 33) == MLS_ERR_BAD_KEY;
	memset(bad, 0xff, sizeof(bad)); /* coordinates not below p */
	bad[0] = 0x04;
	ok = ok && setup_s_to(&p256_chacha, bad, sizeof(bad)) == MLS_ERR_BAD_KEY;
	memset(bad, 0, sizeof(bad)); /* the point at infinity's "coordinates" */
	bad[0] = 0x04;
	ok = ok && setup_s_to(&p256_chacha, bad, sizeof(bad)) == MLS_ERR_BAD_KEY;
	ok = ok && setup_s_to(&p256_chacha, pk.p, 64) == MLS_ERR_BAD_KEY;
	bw_bytes_clear(&sk);
	bw_bytes_clear(&pk);
	CHECK(ok);
	return true;
}

/* §7.1.2: a P-256 private key is a scalar in [1, order-1]. */
static bool test_p256_private_keys(void)
{
	static const uint8_t order[32] = {
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
		0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
	};
	static const uint8_t zero[32];
	uint8_t below[32];
	struct bw_bytes pk = { 0 };

	memcpy(below, order, sizeof(below));
	below[31]--;
	CHECK(hpke_public_key(HPKE_KEM_P256_SHA256, zero, 32, &pk) ==
	      MLS_ERR_BAD_KEY);
	CHECK(hpke_public_key(HPKE_KEM_P256_SHA256, order, 32, &pk) ==
	      MLS_ERR_BAD_KEY);
	CHECK(hpke_public_key(HPKE_KEM_P256_SHA256, order, 31, &pk) ==
	      MLS_ERR_BAD_KEY);
	CHECK(pk.len == 0);
	CHECK(hpke_public_key(HPKE_KEM_P256_SHA256, below, 32, &pk) == 0);
	CHECK_EQ_INT(pk.len, MLS_P256_POINT_LEN);
	bw_bytes_clear(&pk);
	return true;
}

static bool test_unsupported(void)
{
	static const struct hpke_suite bad[] = {
		{ 0x0011, HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES128GCM },
		{ HPKE_KEM_X25519_SHA256, 0x0002, HPKE_AEAD_AES128GCM },
		{ HPKE_KEM_X25519_SHA256, HPKE_KDF_HKDF_SHA256, 0x0002 },
	};
	struct bw_bytes sk = { 0 }, pk = { 0 };
	bool ok = true;

	CHECK(hpke_generate_keypair(HPKE_KEM_X25519_SHA256, &sk, &pk) == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok = ok && setup_s_to(&bad[i], pk.p, pk.len) ==
				   MLS_ERR_UNSUPPORTED_SUITE;
	ok = ok && hpke_generate_keypair(0x0011, &sk, &pk) ==
			   MLS_ERR_UNSUPPORTED_SUITE;
	bw_bytes_clear(&sk);
	bw_bytes_clear(&pk);
	CHECK(ok);
	CHECK(hpke_kem_pk_len(0x0011) == 0 && hpke_aead_tag_len(0x0002) == 0);
	return true;
}

/* §5.3: L at most 255 * Nh; 0 bytes is no export. */
static bool test_export_limits(void)
{
	static uint8_t out[255 * HPKE_SECRET_LEN + 1];
	struct hpke_ctx *s = NULL, *r = NULL;
	bool ok;

	CHECK(fresh_pair(&x25519_aes, &s, &r));
	ok = hpke_export(s, NULL, 0, out, sizeof(out) - 1) == 0 &&
	     hpke_export(s, NULL, 0, out, sizeof(out)) == MLS_ERR_KDF_LENGTH &&
	     hpke_export(s, NULL, 0, out, 0) == MLS_ERR_INVALID_ARG &&
	     hpke_export(s, NULL, 1, out, 32) == MLS_ERR_INVALID_ARG;
	hpke_ctx_free(s);
	hpke_ctx_free(r);
	CHECK(ok);
	return true;
}

/* Single-shot base mode, including an empty plaintext; a failed open
 * leaves the output alone. */
static bool test_single_shot(void)
{
	static const uint8_t info[] = "info", aad[] = "aad", msg[] = "message";
	struct bw_bytes sk = { 0 }, pk = { 0 }, enc = { 0 }, ct = { 0 };
	struct bw_bytes pt = { 0 };
	bool ok;

	CHECK(hpke_generate_keypair(HPKE_KEM_P256_SHA256, &sk, &pk) == 0);
	ok = hpke_seal_base(&p256_chacha, pk.p, pk.len, info, 4, aad, 3, msg,
			    7, &enc, &ct) == 0 &&
	     ct.len == 7 + 16 &&
	     hpke_open_base(&p256_chacha, enc.p, enc.len, sk.p, sk.len, info,
			    4, aad, 3, ct.p, ct.len, &pt) == 0 &&
	     bw_bytes_eq(&pt, msg, 7);
	bw_bytes_clear(&pt);
	ct.p[0] ^= 1;
	ok = ok && hpke_open_base(&p256_chacha, enc.p, enc.len, sk.p, sk.len,
				  info, 4, aad, 3, ct.p, ct.len,
				  &pt) == MLS_ERR_AEAD &&
	     pt.p == NULL;
	ok = ok && hpke_open_base(&p256_chacha, enc.p, enc.len, sk.p, sk.len,
				  info, 4, aad, 3, ct.p, 15,
				  &pt) == MLS_ERR_AEAD;
	ok = ok && hpke_seal_base(&p256_chacha, pk.p, pk.len, NULL, 0, NULL, 0,
				  NULL, 0, &enc, &ct) == 0 &&
	     ct.len == 16 &&
	     hpke_open_base(&p256_chacha, enc.p, enc.len, sk.p, sk.len, NULL,
			    0, NULL, 0, ct.p, ct.len, &pt) == 0 &&
	     pt.len == 0;
	bw_bytes_clear(&sk);
	bw_bytes_clear(&pk);
	bw_bytes_clear(&enc);
	bw_bytes_clear(&ct);
	bw_bytes_clear(&pt);
	CHECK(ok);
	return true;
}

int main(int argc, char **argv)
{
	json_t *all = tv_load(tv_dir(argc, argv), "hpke/test-vectors.json");
	struct tv_count c = { .name = "hpke" };
	int failed = 0;
	size_t i;
	json_t *v;

	RUN(test_sequence_limit, &failed);
	RUN(test_roles, &failed);
	RUN(test_x25519_low_order, &failed);
	RUN(test_p256_public_keys, &failed);
	RUN(test_p256_private_keys, &failed);
	RUN(test_unsupported, &failed);
	RUN(test_export_limits, &failed);
	RUN(test_single_shot, &failed);
	json_array_foreach(all, i, v)
		tv_count(&c, check_vector(v, i));
	json_decref(all);
	printf("hpke: %u encryptions and %u exports checked on both sides\n",
	       n_encryptions, n_exports);
	return tv_report(&c) != 0 || failed != 0;
}

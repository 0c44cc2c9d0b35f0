/* test_spake2plus.c - SPAKE2+ exchanges end to end: password registration,
 * wrong passwords, tampered confirmations, hostile shares, a relay that
 * sees another Context, and calls in the wrong state. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "spake2plus.h"
#include "test.h"

#define SUITE PAKE_SUITE_BULWARK
#define P256_SCALAR_LEN 32
#define P256_SHARE_LEN 65
#define HASH_LEN 32

static const char ctx_a[] = "bulwark activation v1|tls-exporter:aaaa";
static const char ctx_b[] = "bulwark activation v1|tls-exporter:bbbb";
static const struct pake_ids ids = {
	(const uint8_t *)"alice/phone", 11, (const uint8_t *)"bulwark.example", 15,
};

/* The record of one password, as the administrator's tool makes it, and
 * the device's scalars for a password it was told. */
struct creds {
	struct bw_bytes w0, l;     /* server */
	struct bw_bytes dw0, dw1;  /* device */
};

static void creds_clear(struct creds *c)
{
	bw_bytes_clear(&c->w0);
	bw_bytes_clear(&c->l);
	bw_bytes_clear(&c->dw0);
	bw_bytes_clear(&c->dw1);
}

/* Cheap scrypt costs for tests that are not about the KDF. */
static void fast_pbkdf(struct pake_pbkdf *kdf)
{
	memset(kdf, 0, sizeof(*kdf));
	kdf->n = PAKE_SCRYPT_MIN_N;
	kdf->r = 8;
	kdf->p = 1;
	kdf->salt_len = PAKE_SALT_LEN;
	memset(kdf->salt, 0x5a, kdf->salt_len);
}

static bool make_creds(const struct pake_pbkdf *kdf, const char *registered,
		       const char *typed, struct creds *c)
{
	CHECK(pake_register(SUITE, kdf, (const uint8_t *)registered,
			    strlen(registered), &ids, &c->w0, &c->l) == 0);
	CHECK(pake_password_scalars(SUITE, kdf, (const uint8_t *)typed,
				    strlen(typed), &ids, &c->dw0, &c->dw1) == 0);
	return true;
}

static struct pake_config config(const char *context)
{
	return (struct pake_config){ .suite = SUITE,
				     .context = (const uint8_t *)context,
				     .context_len = strlen(context),
				     .ids = ids };
}

/* Both sides of one exchange and the messages between them. */
struct run {
	struct pake_prover *p;
	struct pake_verifier *v;
	struct bw_bytes share_p, share_v, confirm_v, confirm_p;
	struct pake_trace trace; /* the prover's */
};

static void run_clear(struct run *r)
{
	pake_prover_free(r->p);
	pake_verifier_free(r->v);
	bw_bytes_clear(&r->share_p);
	bw_bytes_clear(&r->share_v);
	bw_bytes_clear(&r->confirm_v);
	bw_bytes_clear(&r->confirm_p);
	pake_trace_clear(&r->trace);
	memset(r, 0, sizeof(*r));
}

/* Set up both sides (prover with a traced fixed x when traced) and carry
 * the exchange up to the verifier's answer. */
static bool run_start(struct run *r, const struct creds *c,
		      const char *prover_ctx, const char *verifier_ctx,
		      bool traced)
{
	struct pake_config pc = config(prover_ctx), vc = config(verifier_ctx);
	uint8_t x[P256_SCALAR_LEN];

	memset(r, 0, sizeof(*r));
	memset(x, 0x42, sizeof(x));
	if (traced)
		CHECK(pake_prover_new_with_scalar(&r->p, &pc, c->dw0.p, c->dw0.len,
						  c->dw1.p, c->dw1.len, x,
						  sizeof(x), &r->trace) == 0);
	else
		CHECK(pake_prover_new(&r->p, &pc, c->dw0.p, c->dw0.len, c->dw1.p,
				      c->dw1.len) == 0);
	CHECK(pake_verifier_new(&r->v, &vc, c->w0.p, c->w0.len, c->l.p,
				c->l.len) == 0);
	CHECK(pake_prover_share(r->p, &r->share_p) == 0);
	CHECK_EQ_INT(r->share_p.len, P256_SHARE_LEN);
	CHECK(pake_verifier_respond(r->v, r->share_p.p, r->share_p.len,
				    &r->share_v, &r->confirm_v) == 0);
	return true;
}

static bool keys_match(struct run *r)
{
	struct bw_bytes kp = { 0 }, kv = { 0 };
	bool ok = pake_prover_shared_key(r->p, &kp) == 0 &&
		  pake_verifier_shared_key(r->v, &kv) == 0 &&
		  kp.len == HASH_LEN && kv.len == HASH_LEN &&
		  memcmp(kp.p, kv.p, HASH_LEN) == 0;

	bw_bytes_clear(&kp);
	bw_bytes_clear(&kv);
	return ok;
}

static bool finish_both(struct run *r)
{
	CHECK(pake_prover_finish(r->p, r->share_v.p, r->share_v.len,
				 r->confirm_v.p, r->confirm_v.len,
				 &r->confirm_p) == 0);
	CHECK(pake_verifier_finish(r->v, r->confirm_p.p, r->confirm_p.len) == 0);
	CHECK(keys_match(r));
	return true;
}

/* What a prover that ignores confirmV would send: MAC(K_confirmP, shareV)
 * from the keys it derived. */
static bool forged_confirm_p(const struct run *r, uint8_t out[HASH_LEN])
{
	size_t n = 0;

	CHECK(r->trace.k_confirm_p.len == HASH_LEN);
	CHECK(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, r->trace.k_confirm_p.p,
			r->trace.k_confirm_p.len, r->share_v.p, r->share_v.len,
			out, HASH_LEN, &n) != NULL);
	CHECK_EQ_INT(n, HASH_LEN);
	return true;
}

static bool test_exchange_with_password(void)
{
	struct pake_pbkdf kdf;
	struct creds c = { 0 };
	struct run r;
	bool ok;

	/* The deployed costs, a random salt. */
	CHECK(pake_pbkdf_init(&kdf) == 0);
	CHECK(kdf.n == PAKE_SCRYPT_N && kdf.salt_len == PAKE_SALT_LEN);
	ok = make_creds(&kdf, "K7QF-2M9D-XW4P", "K7QF-2M9D-XW4P", &c) &&
	     c.w0.len == P256_SCALAR_LEN && c.l.len == P256_SHARE_LEN &&
	     bw_bytes_eq(&c.w0, c.dw0.p, c.dw0.len) &&
	     run_start(&r, &c, ctx_a, ctx_a, false) && finish_both(&r);
	run_clear(&r);
	creds_clear(&c);
	return ok;
}

static bool test_derivation_binds_inputs(void)
{
	struct pake_pbkdf kdf;
	struct pake_ids other = ids;
	struct bw_bytes w0 = { 0 }, w1 = { 0 }, w0b = { 0 }, w1b = { 0 };
	struct bw_bytes l = { 0 };
	const uint8_t pw[] = "hunter2";
	bool ok = false;

	fast_pbkdf(&kdf);
	other.prover_len--;
	if (pake_password_scalars(SUITE, &kdf, pw, 7, &ids, &w0, &w1) != 0 ||
	    pake_password_scalars(SUITE, &kdf, pw, 7, &ids, &w0b, &w1b) != 0 ||
	    !bw_bytes_eq(&w0, w0b.p, w0b.len) || !bw_bytes_eq(&w1, w1b.p, w1b.len) ||
	    bw_bytes_eq(&w0, w1.p, w1.len))
		goto out;
	kdf.salt[0] ^= 1;
	if (pake_password_scalars(SUITE, &kdf, pw, 7, &ids, &w0b, &w1b) != 0 ||
	    bw_bytes_eq(&w0, w0b.p, w0b.len) || bw_bytes_eq(&w1, w1b.p, w1b.len))
		goto out;
	kdf.salt[0] ^= 1;
	if (pake_password_scalars(SUITE, &kdf, pw, 7, &other, &w0b, &w1b) != 0 ||
	    bw_bytes_eq(&w0, w0b.p, w0b.len))
		goto out;
	/* The record is (w0, w1*P) of the same derivation. */
	if (pake_register(SUITE, &kdf, pw, 7, &ids, &w0b, &l) != 0 ||
	    !bw_bytes_eq(&w0, w0b.p, w0b.len) ||
	    pake_registration_point(SUITE, w1.p, w1.len, &w1b) != 0 ||
	    !bw_bytes_eq(&l, w1b.p, w1b.len) || l.len != P256_SHARE_LEN)
		goto out;
	ok = true;
out:
	bw_bytes_clear(&w0);
	bw_bytes_clear(&w1);
	bw_bytes_clear(&w0b);
	bw_bytes_clear(&w1b);
	bw_bytes_clear(&l);
	return ok;
}

static bool test_wrong_password(void)
{
	struct pake_pbkdf kdf;
	struct creds c = { 0 };
	uint8_t forged[HASH_LEN];
	struct bw_bytes k = { 0 };
	struct run r = { 0 };
	bool ok;

	fast_pbkdf(&kdf);
	ok = make_creds(&kdf, "right-password", "wrong-password", &c) &&
	     run_start(&r, &c, ctx_a, ctx_a, true) &&
	     /* the device refuses the server's confirmation ... */
	     pake_prover_finish(r.p, r.share_v.p, r.share_v.len, r.confirm_v.p,
				r.confirm_v.len, &r.confirm_p) == PAKE_ERR_CONFIRM &&
	     r.confirm_p.len == 0 &&
	     /* ... and the server refuses what a device that went on anyway
	      * would send */
	     forged_confirm_p(&r, forged) &&
	     pake_verifier_finish(r.v, forged, sizeof(forged)) == PAKE_ERR_CONFIRM &&
	     pake_prover_shared_key(r.p, &k) == PAKE_ERR_STATE &&
	     pake_verifier_shared_key(r.v, &k) == PAKE_ERR_STATE && k.len == 0;
	run_clear(&r);
	creds_clear(&c);
	return ok;
}

static bool test_flipped_confirmations(void)
{
	struct pake_pbkdf kdf;
	struct creds c = { 0 };
	struct run r = { 0 };
	bool ok;

	fast_pbkdf(&kdf);
	CHECK(make_creds(&kdf, "pw", "pw", &c));
	/* confirmV with one bit flipped: the prover refuses */
	ok = run_start(&r, &c, ctx_a, ctx_a, false);
	r.confirm_v.p[7] ^= 0x80;
	ok = ok && pake_prover_finish(r.p, r.share_v.p, r.share_v.len,
				      r.confirm_v.p, r.confirm_v.len,
				      &r.confirm_p) == PAKE_ERR_CONFIRM;
	run_clear(&r);
	/* confirmP with one bit flipped: the verifier refuses */
	ok = ok && run_start(&r, &c, ctx_a, ctx_a, false) &&
	     pake_prover_finish(r.p, r.share_v.p, r.share_v.len, r.confirm_v.p,
				r.confirm_v.len, &r.confirm_p) == 0;
	if (ok) {
		r.confirm_p.p[HASH_LEN - 1] ^= 0x01;
		ok = pake_verifier_finish(r.v, r.confirm_p.p, r.confirm_p.len) ==
		     PAKE_ERR_CONFIRM;
	}
	run_clear(&r);
	creds_clear(&c);
	return ok;
}

/* A copy of share with one change. */
static void tweak(struct bw_bytes *out, const struct bw_bytes *share,
		  size_t at, uint8_t xor)
{
	bw_bytes_set(out, share->p, share->len);
	out->p[at] ^= xor;
}

/* shareP = w0*M: X - w0*M is the identity. Only a holder of w0 can send
 * it, but the verifier must still not build keys on it. */
static bool mask_cancelling_share(const struct creds *c, struct bw_bytes *out)
{
	struct bw_bytes m = { 0 }, n = { 0 };
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *pt = g ? EC_POINT_new(g) : NULL;
	BIGNUM *w0 = BN_bin2bn(c->w0.p, (int)c->w0.len, NULL);
	bool ok = pt && w0 && pake_suite_points(SUITE, false, &m, &n) == 0 &&
		  EC_POINT_oct2point(g, pt, m.p, m.len, NULL) == 1 &&
		  EC_POINT_mul(g, pt, NULL, pt, w0, NULL) == 1 &&
		  bw_bytes_alloc(out, P256_SHARE_LEN) == 0 &&
		  EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, out->p,
				     out->len, NULL) == P256_SHARE_LEN;

	bw_bytes_clear(&m);
	bw_bytes_clear(&n);
	BN_free(w0);
	EC_POINT_free(pt);
	EC_GROUP_free(g);
	return ok;
}

/* Every hostile shareP is refused with its own error and leaves the
 * verifier waiting; then the honest share completes. */
static bool test_bad_shares_verifier(void)
{
	struct pake_pbkdf kdf;
	struct creds c = { 0 };
	struct run r = { 0 };
	struct bw_bytes bad = { 0 }, sv = { 0 }, cv = { 0 };
	struct pake_config cfg = config(ctx_a);
	static const uint8_t identity[1] = { 0x00 };
	uint8_t zeros[P256_SHARE_LEN] = { 0x04 };
	uint8_t big_x[P256_SHARE_LEN];
	bool ok = false;

	fast_pbkdf(&kdf);
	memset(big_x, 0xff, sizeof(big_x));
	big_x[0] = 0x04;
	if (!make_creds(&kdf, "pw", "pw", &c) ||
	    pake_prover_new(&r.p, &cfg, c.dw0.p, c.dw0.len, c.dw1.p, c.dw1.len) ||
	    pake_verifier_new(&r.v, &cfg, c.w0.p, c.w0.len, c.l.p, c.l.len) ||
	    pake_prover_share(r.p, &r.share_p) != 0)
		goto out;
	tweak(&bad, &r.share_p, P256_SHARE_LEN - 1, 0x01);
#define RESPOND(sh, shn) pake_verifier_respond(r.v, (sh), (shn), &sv, &cv)
	if (RESPOND(bad.p, bad.len) != PAKE_ERR_SHARE_NOT_ON_CURVE ||
	    RESPOND(identity, 1) != PAKE_ERR_SHARE_IDENTITY ||
	    RESPOND(zeros, sizeof(zeros)) != PAKE_ERR_SHARE_NOT_ON_CURVE ||
	    RESPOND(big_x, sizeof(big_x)) != PAKE_ERR_SHARE_NOT_ON_CURVE ||
	    RESPOND(r.share_p.p, 64) != PAKE_ERR_SHARE_ENCODING ||
	    RESPOND(r.share_p.p, 33) != PAKE_ERR_SHARE_ENCODING ||
	    RESPOND(NULL, 0) != PAKE_ERR_SHARE_ENCODING)
		goto out;
	tweak(&bad, &r.share_p, 0, 0x04 ^ 0x02); /* compressed prefix */
	if (RESPOND(bad.p, 33) != PAKE_ERR_SHARE_ENCODING ||
	    RESPOND(bad.p, bad.len) != PAKE_ERR_SHARE_ENCODING ||
	    !mask_cancelling_share(&c, &bad) ||
	    RESPOND(bad.p, bad.len) != PAKE_ERR_SHARE_IDENTITY || sv.len || cv.len)
		goto out;
#undef RESPOND
	if (pake_verifier_respond(r.v, r.share_p.p, r.share_p.len, &r.share_v,
				  &r.confirm_v) != 0)
		goto out;
	ok = finish_both(&r);
out:
	run_clear(&r);
	creds_clear(&c);
	bw_bytes_clear(&bad);
	bw_bytes_clear(&sv);
	bw_bytes_clear(&cv);
	return ok;
}

/* The same for shareV at the prover, and a confirmV of the wrong length. */
static bool test_bad_shares_prover(void)
{
	struct pake_pbkdf kdf;
	struct creds c = { 0 };
	struct run r = { 0 };
	struct bw_bytes bad = { 0 }, cp = { 0 };
	static const uint8_t identity[1] = { 0x00 };
	bool ok = false;

	fast_pbkdf(&kdf);
	if (!make_creds(&kdf, "pw", "pw", &c) ||
	    !run_start(&r, &c, ctx_a, ctx_a, false))
		goto out;
	tweak(&bad, &r.share_v, 40, 0x01);
#define FINISH(sh, shn, cv, cvn) pake_prover_finish(r.p, (sh), (shn), (cv), (cvn), &cp)
	if (FINISH(bad.p, bad.len, r.confirm_v.p, r.confirm_v.len) !=
		    PAKE_ERR_SHARE_NOT_ON_CURVE ||
	    FINISH(identity, 1, r.confirm_v.p, r.confirm_v.len) !=
		    PAKE_ERR_SHARE_IDENTITY ||
	    FINISH(r.share_v.p, 66, r.confirm_v.p, r.confirm_v.len) !=
		    PAKE_ERR_SHARE_ENCODING ||
	    FINISH(r.share_v.p, r.share_v.len, r.confirm_v.p, 31) !=
		    PAKE_ERR_CONFIRM_LENGTH ||
	    FINISH(r.share_v.p, r.share_v.len, NULL, 0) !=
		    PAKE_ERR_CONFIRM_LENGTH ||
	    cp.len != 0)
		goto out;
#undef FINISH
	/* and a confirmP of the wrong length at the verifier */
	if (pake_prover_finish(r.p, r.share_v.p, r.share_v.len, r.confirm_v.p,
			       r.confirm_v.len, &r.confirm_p) != 0 ||
	    pake_verifier_finish(r.v, r.confirm_p.p, 33) != PAKE_ERR_CONFIRM_LENGTH ||
	    pake_verifier_finish(r.v, r.confirm_p.p, r.confirm_p.len) != 0)
		goto out;
	ok = keys_match(&r);
out:
	run_clear(&r);
	creds_clear(&c);
	bw_bytes_clear(&bad);
	bw_bytes_clear(&cp);
	return ok;
}

/* A relay terminating TLS on both sides gives each a different exporter
 * value and so a different Context: each side's confirmation fails. */
static bool test_context_mismatch(void)
{
	struct pake_pbkdf kdf;
	struct creds c = { 0 };
	uint8_t forged[HASH_LEN];
	struct run r = { 0 };
	bool ok;

	fast_pbkdf(&kdf);
	ok = make_creds(&kdf, "pw", "pw", &c) &&
	     run_start(&r, &c, ctx_a, ctx_b, true) &&
	     pake_prover_finish(r.p, r.share_v.p, r.share_v.len, r.confirm_v.p,
				r.confirm_v.len, &r.confirm_p) == PAKE_ERR_CONFIRM &&
	     forged_confirm_p(&r, forged) &&
	     pake_verifier_finish(r.v, forged, sizeof(forged)) == PAKE_ERR_CONFIRM;
	run_clear(&r);
	creds_clear(&c);
	return ok;
}

static bool test_state_misuse(void)
{
	struct pake_pbkdf kdf;
	struct creds c = { 0 };
	struct run r = { 0 };
	struct bw_bytes b1 = { 0 }, b2 = { 0 };
	bool ok = false;

	fast_pbkdf(&kdf);
	if (!make_creds(&kdf, "pw", "pw", &c) ||
	    !run_start(&r, &c, ctx_a, ctx_a, false))
		goto out;
	/* second share / respond, keys and verifier finish out of turn */
	if (pake_prover_share(r.p, &b1) != PAKE_ERR_STATE ||
	    pake_verifier_respond(r.v, r.share_p.p, r.share_p.len, &b1, &b2) !=
		    PAKE_ERR_STATE ||
	    pake_prover_shared_key(r.p, &b1) != PAKE_ERR_STATE ||
	    pake_verifier_shared_key(r.v, &b1) != PAKE_ERR_STATE || b1.len ||
	    !finish_both(&r))
		goto out;
	/* after DONE every step is over */
	if (pake_prover_share(r.p, &b1) != PAKE_ERR_STATE ||
	    pake_prover_finish(r.p, r.share_v.p, r.share_v.len, r.confirm_v.p,
			       r.confirm_v.len, &b1) != PAKE_ERR_STATE ||
	    pake_verifier_finish(r.v, r.confirm_p.p, r.confirm_p.len) !=
		    PAKE_ERR_STATE)
		goto out;
	run_clear(&r);
	/* finish before share; verifier finish before respond */
	{
		struct pake_config cfg = config(ctx_a);

		if (pake_prover_new(&r.p, &cfg, c.dw0.p, c.dw0.len, c.dw1.p,
				    c.dw1.len) != 0 ||
		    pake_verifier_new(&r.v, &cfg, c.w0.p, c.w0.len, c.l.p,
				      c.l.len) != 0 ||
		    pake_prover_finish(r.p, c.l.p, c.l.len, c.w0.p, c.w0.len,
				       &b1) != PAKE_ERR_STATE ||
		    pake_verifier_finish(r.v, c.w0.p, c.w0.len) != PAKE_ERR_STATE)
			goto out;
	}
	run_clear(&r);
	/* after a failed confirmation nothing more is possible */
	if (!run_start(&r, &c, ctx_a, ctx_b, false) ||
	    pake_prover_finish(r.p, r.share_v.p, r.share_v.len, r.confirm_v.p,
			       r.confirm_v.len, &b1) != PAKE_ERR_CONFIRM ||
	    pake_prover_finish(r.p, r.share_v.p, r.share_v.len, r.confirm_v.p,
			       r.confirm_v.len, &b1) != PAKE_ERR_STATE ||
	    pake_prover_share(r.p, &b1) != PAKE_ERR_STATE)
		goto out;
	pake_prover_free(NULL);
	pake_verifier_free(NULL);
	ok = true;
out:
	run_clear(&r);
	creds_clear(&c);
	bw_bytes_clear(&b1);
	bw_bytes_clear(&b2);
	return ok;
}

static bool test_bad_parameters(void)
{
	struct pake_pbkdf kdf;
	struct creds c = { 0 };
	struct pake_config cfg = config(ctx_a);
	struct pake_prover *p = NULL;
	struct pake_verifier *v = NULL;
	struct bw_bytes w0 = { 0 }, l = { 0 };
	static const uint8_t zero[P256_SCALAR_LEN];
	uint8_t order[P256_SCALAR_LEN], long_ctx[PAKE_MAX_CONTEXT_LEN + 1];

	fast_pbkdf(&kdf);
	CHECK(make_creds(&kdf, "pw", "pw", &c));
	/* the group order itself is not a valid scalar */
	{
		EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
		int n = g ? BN_bn2binpad(EC_GROUP_get0_order(g), order,
					 sizeof(order)) : -1;

		EC_GROUP_free(g);
		CHECK(n == sizeof(order));
	}
	CHECK(pake_prover_new(&p, &cfg, zero, 32, c.dw1.p, 32) == PAKE_ERR_SCALAR);
	CHECK(pake_prover_new(&p, &cfg, c.dw0.p, 32, order, 32) == PAKE_ERR_SCALAR);
	CHECK(pake_prover_new(&p, &cfg, c.dw0.p, 31, c.dw1.p, 32) == PAKE_ERR_SCALAR);
	CHECK(pake_verifier_new(&v, &cfg, c.w0.p, 32, c.l.p, 64) == PAKE_ERR_RECORD);
	c.l.p[64] ^= 1;
	CHECK(pake_verifier_new(&v, &cfg, c.w0.p, 32, c.l.p, 65) == PAKE_ERR_RECORD);
	CHECK(p == NULL && v == NULL);
	cfg.suite = (enum pake_suite)99;
	CHECK(pake_prover_new(&p, &cfg, c.dw0.p, 32, c.dw1.p, 32) == PAKE_ERR_SUITE);
	cfg = config(ctx_a);
	memset(long_ctx, 'c', sizeof(long_ctx));
	cfg.context = long_ctx;
	cfg.context_len = sizeof(long_ctx);
	CHECK(pake_prover_new(&p, &cfg, c.dw0.p, 32, c.dw1.p, 32) == PAKE_ERR_TOO_LONG);
	creds_clear(&c);
	/* scrypt parameters a hostile server might send */
	kdf.n = 3000;
	CHECK(pake_register(SUITE, &kdf, (const uint8_t *)"pw", 2, &ids, &w0, &l) ==
	      PAKE_ERR_PBKDF_PARAMS);
	kdf.n = 1u << 21;
	CHECK(pake_pbkdf_check(&kdf) == PAKE_ERR_PBKDF_PARAMS);
	kdf.n = 1u << 20; /* 128 * 8 * 2^20 = 1 GiB of memory */
	CHECK(pake_pbkdf_check(&kdf) == PAKE_ERR_PBKDF_PARAMS);
	fast_pbkdf(&kdf);
	kdf.salt_len = 8;
	CHECK(pake_pbkdf_check(&kdf) == PAKE_ERR_PBKDF_PARAMS);
	fast_pbkdf(&kdf);
	kdf.p = 0;
	CHECK(pake_pbkdf_check(&kdf) == PAKE_ERR_PBKDF_PARAMS);
	fast_pbkdf(&kdf);
	CHECK(pake_register(SUITE, &kdf, (const uint8_t *)"", 0, &ids, &w0, &l) ==
	      PAKE_ERR_PASSWORD_EMPTY);
	CHECK(w0.len == 0 && l.len == 0);
	return true;
}

static bool test_strerror(void)
{
	CHECK(strcmp(pake_strerror(PAKE_ERR_CONFIRM), "key confirmation failed") == 0);
	CHECK(strcmp(pake_strerror(BW_ERR_NOMEM), bw_strerror(BW_ERR_NOMEM)) == 0);
	CHECK(strcmp(pake_strerror(-399), "unknown error") == 0);
#define DISTINCT(name, code, text) CHECK(code >= -399 && code <= -300 && \
	strcmp(pake_strerror(code), text) == 0);
	PAKE_ERRORS(DISTINCT)
#undef DISTINCT
	return true;
}

int main(void)
{
	int failed = 0;

	RUN(test_exchange_with_password, &failed);
	RUN(test_derivation_binds_inputs, &failed);
	RUN(test_wrong_password, &failed);
	RUN(test_flipped_confirmations, &failed);
	RUN(test_bad_shares_verifier, &failed);
	RUN(test_bad_shares_prover, &failed);
	RUN(test_context_mismatch, &failed);
	RUN(test_state_misuse, &failed);
	RUN(test_bad_parameters, &failed);
	RUN(test_strerror, &failed);
	return failed ? 1 : 0;
}

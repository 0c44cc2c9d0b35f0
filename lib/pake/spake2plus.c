/*
 * spake2plus.c - the Prover and Verifier of SPAKE2+ (RFC 9383 §3.3).
 *
 * States (spake2plus.h draws the message flow):
 *   prover:   INIT --share--> SENT --finish--> DONE
 *   verifier: INIT --respond--> SENT --finish--> DONE
 * and any state --confirmation fails--> FAILED. A step validates the peer's
 * message before it computes anything, and returns with the state untouched
 * if the message is malformed; once it computes, a failure ends the
 * exchange. Secrets the next step no longer needs are wiped as soon as a
 * step succeeds.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

enum pake_state { ST_INIT, ST_SENT, ST_DONE, ST_FAILED };

struct pake_session {
	struct pake_group g;
	struct pake_config cfg; /* points into the copies below */
	struct bw_bytes context, id_prover, id_verifier;
	BIGNUM *w0;
	BIGNUM *eph; /* x or y */
	BIGNUM *w1;  /* prover only */
	EC_POINT *l; /* verifier only */
	uint8_t share_p[PAKE_MAX_SHARE_LEN];
	uint8_t share_v[PAKE_MAX_SHARE_LEN];
	struct pake_keys keys;
	struct pake_trace *trace; /* test hook, usually NULL */
	enum pake_state state;
};

struct pake_prover {
	struct pake_session s;
};

struct pake_verifier {
	struct pake_session s;
};

static int config_check(const struct pake_config *cfg)
{
	if (cfg == NULL ||
	    (cfg->context == NULL && cfg->context_len != 0) ||
	    (cfg->ids.prover == NULL && cfg->ids.prover_len != 0) ||
	    (cfg->ids.verifier == NULL && cfg->ids.verifier_len != 0))
		return BW_ERR_INVALID_ARG;
	if (cfg->context_len > PAKE_MAX_CONTEXT_LEN ||
	    cfg->ids.prover_len > PAKE_MAX_ID_LEN ||
	    cfg->ids.verifier_len > PAKE_MAX_ID_LEN)
		return PAKE_ERR_TOO_LONG;
	return 0;
}

static void forget_scalars(struct pake_session *s)
{
	BN_clear_free(s->w0);
	BN_clear_free(s->w1);
	BN_clear_free(s->eph);
	s->w0 = s->w1 = s->eph = NULL;
}

static void session_fail(struct pake_session *s)
{
	forget_scalars(s);
	OPENSSL_cleanse(&s->keys, sizeof(s->keys));
	s->state = ST_FAILED;
}

static void session_clear(struct pake_session *s)
{
	session_fail(s);
	EC_POINT_free(s->l);
	bw_bytes_clear(&s->context);
	bw_bytes_clear(&s->id_prover);
	bw_bytes_clear(&s->id_verifier);
	pake_group_clear(&s->g);
}

/* The parts both roles share: suite, Context, identities, w0 and the
 * ephemeral scalar (eph NULL: drawn at random). */
static int session_init(struct pake_session *s, const struct pake_config *cfg,
			const uint8_t *w0, size_t w0_len, const uint8_t *eph,
			size_t eph_len, struct pake_trace *trace)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->state = ST_INIT;
	s->trace = trace;
	if ((rc = config_check(cfg)) != 0 ||
	    (rc = pake_group_init(&s->g, cfg->suite)) != 0)
		return rc;
	if ((rc = bw_bytes_set(&s->context, cfg->context, cfg->context_len)) != 0 ||
	    (rc = bw_bytes_set(&s->id_prover, cfg->ids.prover,
			       cfg->ids.prover_len)) != 0 ||
	    (rc = bw_bytes_set(&s->id_verifier, cfg->ids.verifier,
			       cfg->ids.verifier_len)) != 0)
		return rc;
	s->cfg = (struct pake_config){
		.suite = cfg->suite,
		.context = s->context.p, .context_len = s->context.len,
		.ids = { s->id_prover.p, s->id_prover.len,
			 s->id_verifier.p, s->id_verifier.len },
	};
	if ((rc = pake_scalar_decode(&s->g, w0, w0_len, &s->w0)) != 0)
		return rc;
	return eph ? pake_scalar_decode(&s->g, eph, eph_len, &s->eph) :
		     pake_scalar_random(&s->g, &s->eph);
}

/* share = eph*P + w0*mask, mask being M for the prover, N for the
 * verifier. Two single-scalar products: a combined EC_POINT_mul would leave
 * OpenSSL's constant-time ladder for variable-time wNAF. */
static int make_share(struct pake_session *s, const EC_POINT *mask,
		      uint8_t *out)
{
	const struct pake_group *g = &s->g;
	EC_POINT *a = EC_POINT_new(g->group), *b = EC_POINT_new(g->group);
	int rc = BW_ERR_NOMEM;

	if (a == NULL || b == NULL)
		goto out;
	if ((rc = pake_mul(g, a, NULL, s->eph)) != 0 ||
	    (rc = pake_mul(g, b, mask, s->w0)) != 0)
		goto out;
	rc = PAKE_ERR_CRYPTO;
	if (EC_POINT_add(g->group, a, a, b, g->bn) != 1)
		goto out;
	rc = pake_point_encode(g, a, out);
out:
	EC_POINT_clear_free(a);
	EC_POINT_clear_free(b);
	return rc;
}

/* t = share - w0*mask: the peer's ephemeral point without the password's
 * mask. The identity here means the peer sent exactly w0*mask, which only
 * a holder of w0 can, and would make Z and V degenerate: refused. */
static int unmask(const struct pake_session *s, const EC_POINT *share,
		  const EC_POINT *mask, EC_POINT *t)
{
	const struct pake_group *g = &s->g;
	int rc;

	if ((rc = pake_mul(g, t, mask, s->w0)) != 0)
		return rc;
	if (EC_POINT_invert(g->group, t, g->bn) != 1 ||
	    EC_POINT_add(g->group, t, share, t, g->bn) != 1)
		return PAKE_ERR_CRYPTO;
	return EC_POINT_is_at_infinity(g->group, t) ? PAKE_ERR_SHARE_IDENTITY : 0;
}

/* Decode and unmask a peer's share into *t (caller frees). */
static int peer_point(const struct pake_session *s, const uint8_t *share,
		      size_t n, const EC_POINT *mask, EC_POINT **t)
{
	EC_POINT *pt = NULL, *res = NULL;
	int rc;

	if ((rc = pake_point_decode(&s->g, share, n, &pt)) != 0)
		goto out;
	rc = BW_ERR_NOMEM;
	if ((res = EC_POINT_new(s->g.group)) == NULL)
		goto out;
	if ((rc = unmask(s, pt, mask, res)) != 0)
		goto out;
	*t = res;
	res = NULL; /* transferred */
out:
	EC_POINT_clear_free(res);
	EC_POINT_free(pt);
	return rc;
}

/* z = eph*t, v = k*base: prover (x*T, w1*T), verifier (y*T, y*L). */
static int compute_zv(const struct pake_session *s, const EC_POINT *t,
		      const BIGNUM *k, const EC_POINT *base, uint8_t *z,
		      uint8_t *v)
{
	const struct pake_group *g = &s->g;
	EC_POINT *pt = EC_POINT_new(g->group);
	int rc = BW_ERR_NOMEM;

	if (pt == NULL)
		goto out;
	if ((rc = pake_mul(g, pt, t, s->eph)) != 0 ||
	    (rc = pake_point_encode(g, pt, z)) != 0 ||
	    (rc = pake_mul(g, pt, base, k)) != 0 ||
	    (rc = pake_point_encode(g, pt, v)) != 0)
		goto out;
out:
	EC_POINT_clear_free(pt);
	return rc;
}

/* From Z and V to the keys of §3.4. */
static int derive_keys(struct pake_session *s, const uint8_t *z,
		       const uint8_t *v)
{
	uint8_t w0[PAKE_MAX_SCALAR_LEN];
	struct pake_transcript t = {
		.cfg = &s->cfg, .share_p = s->share_p, .share_v = s->share_v,
		.z = z, .v = v, .w0 = w0,
	};
	int rc;

	if ((rc = pake_scalar_encode(&s->g, s->w0, w0)) == 0)
		rc = pake_key_schedule(&s->g, &t, &s->keys, s->trace);
	OPENSSL_cleanse(w0, sizeof(w0));
	return rc;
}

static int make_confirm(const struct pake_session *s, const uint8_t *key,
			const uint8_t *share, struct bw_bytes *out)
{
	uint8_t mac[PAKE_MAX_HASH_LEN];
	int rc;

	if ((rc = pake_mac(&s->g, key, share, s->g.point_len, mac)) == 0)
		rc = bw_bytes_set(out, mac, s->g.mac_len);
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

static int shared_key(const struct pake_session *s, struct bw_bytes *key)
{
	if (key == NULL)
		return BW_ERR_INVALID_ARG;
	if (s->state != ST_DONE)
		return PAKE_ERR_STATE;
	return bw_bytes_set(key, s->keys.k_shared, s->g.hash_len);
}

/* ---- prover ---- */

static int prover_create(struct pake_prover **out,
			 const struct pake_config *cfg, const uint8_t *w0,
			 size_t w0_len, const uint8_t *w1, size_t w1_len,
			 const uint8_t *x, size_t x_len,
			 struct pake_trace *trace)
{
	struct pake_prover *p;
	int rc;

	if (out == NULL)
		return BW_ERR_INVALID_ARG;
	*out = NULL;
	if ((p = malloc(sizeof(*p))) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = session_init(&p->s, cfg, w0, w0_len, x, x_len, trace)) != 0 ||
	    (rc = pake_scalar_decode(&p->s.g, w1, w1_len, &p->s.w1)) != 0) {
		pake_prover_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int pake_prover_new(struct pake_prover **out, const struct pake_config *cfg,
		    const uint8_t *w0, size_t w0_len, const uint8_t *w1,
		    size_t w1_len)
{
	return prover_create(out, cfg, w0, w0_len, w1, w1_len, NULL, 0, NULL);
}

int pake_prover_new_with_scalar(struct pake_prover **out,
				const struct pake_config *cfg,
				const uint8_t *w0, size_t w0_len,
				const uint8_t *w1, size_t w1_len,
				const uint8_t *x, size_t x_len,
				struct pake_trace *trace)
{
	if (x == NULL)
		return PAKE_ERR_SCALAR;
	return prover_create(out, cfg, w0, w0_len, w1, w1_len, x, x_len, trace);
}

int pake_prover_share(struct pake_prover *p, struct bw_bytes *share_p)
{
	struct pake_session *s;
	int rc;

	if (p == NULL || share_p == NULL)
		return BW_ERR_INVALID_ARG;
	s = &p->s;
	if (s->state != ST_INIT)
		return PAKE_ERR_STATE;
	/* X = x*P + w0*M */
	if ((rc = make_share(s, s->g.m, s->share_p)) != 0 ||
	    (rc = bw_bytes_set(share_p, s->share_p, s->g.point_len)) != 0)
		return rc;
	s->state = ST_SENT;
	return 0;
}

/* Z, V and the keys from the verifier's Y (already unmasked into t), then
 * confirmV checked before confirmP is made: §3.3 has the prover answer
 * only a verifier that proved it holds the record. */
static int prover_confirm(struct pake_session *s, const EC_POINT *t,
			  const uint8_t *confirm_v, struct bw_bytes *confirm_p)
{
	uint8_t z[PAKE_MAX_SHARE_LEN], v[PAKE_MAX_SHARE_LEN];
	int rc;

	/* Z = x*T; V = w1*T */
	if ((rc = compute_zv(s, t, s->w1, t, z, v)) == 0 &&
	    (rc = derive_keys(s, z, v)) == 0 &&
	    (rc = pake_mac_verify(&s->g, s->keys.k_confirm_v, s->share_p,
				  s->g.point_len, confirm_v,
				  s->g.mac_len)) == 0)
		rc = make_confirm(s, s->keys.k_confirm_p, s->share_v, confirm_p);
	OPENSSL_cleanse(z, sizeof(z));
	OPENSSL_cleanse(v, sizeof(v));
	return rc;
}

int pake_prover_finish(struct pake_prover *p, const uint8_t *share_v,
		       size_t share_v_len, const uint8_t *confirm_v,
		       size_t confirm_v_len, struct bw_bytes *confirm_p)
{
	struct pake_session *s;
	EC_POINT *t = NULL;
	int rc;

	if (p == NULL || confirm_p == NULL ||
	    (share_v == NULL && share_v_len != 0))
		return BW_ERR_INVALID_ARG;
	s = &p->s;
	if (s->state != ST_SENT)
		return PAKE_ERR_STATE;
	if (confirm_v == NULL || confirm_v_len != s->g.mac_len)
		return PAKE_ERR_CONFIRM_LENGTH;
	/* T = Y - w0*N */
	if ((rc = peer_point(s, share_v, share_v_len, s->g.n, &t)) != 0)
		return rc;
	memcpy(s->share_v, share_v, s->g.point_len);
	if ((rc = prover_confirm(s, t, confirm_v, confirm_p)) != 0) {
		session_fail(s);
		goto out;
	}
	forget_scalars(s);
	OPENSSL_cleanse(s->keys.k_confirm_p, sizeof(s->keys.k_confirm_p));
	OPENSSL_cleanse(s->keys.k_confirm_v, sizeof(s->keys.k_confirm_v));
	s->state = ST_DONE;
out:
	EC_POINT_clear_free(t);
	return rc;
}

int pake_prover_shared_key(const struct pake_prover *p, struct bw_bytes *key)
{
	return p == NULL ? BW_ERR_INVALID_ARG : shared_key(&p->s, key);
}

void pake_prover_free(struct pake_prover *p)
{
	if (p == NULL)
		return;
	session_clear(&p->s);
	OPENSSL_clear_free(p, sizeof(*p));
}

/* ---- verifier ---- */

static int verifier_create(struct pake_verifier **out,
			   const struct pake_config *cfg, const uint8_t *w0,
			   size_t w0_len, const uint8_t *l, size_t l_len,
			   const uint8_t *y, size_t y_len,
			   struct pake_trace *trace)
{
	struct pake_verifier *v;
	int rc;

	if (out == NULL)
		return BW_ERR_INVALID_ARG;
	*out = NULL;
	if ((v = malloc(sizeof(*v))) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = session_init(&v->s, cfg, w0, w0_len, y, y_len, trace)) != 0)
		goto fail;
	if (l == NULL) {
		rc = PAKE_ERR_RECORD;
		goto fail;
	}
	/* L comes from our own storage, but a damaged record must not yield
	 * a degenerate V. */
	if ((rc = pake_point_decode(&v->s.g, l, l_len, &v->s.l)) != 0) {
		rc = rc == BW_ERR_NOMEM ? rc : PAKE_ERR_RECORD;
		goto fail;
	}
	*out = v;
	return 0;
fail:
	pake_verifier_free(v);
	return rc;
}

int pake_verifier_new(struct pake_verifier **out,
		      const struct pake_config *cfg, const uint8_t *w0,
		      size_t w0_len, const uint8_t *l, size_t l_len)
{
	return verifier_create(out, cfg, w0, w0_len, l, l_len, NULL, 0, NULL);
}

int pake_verifier_new_with_scalar(struct pake_verifier **out,
				  const struct pake_config *cfg,
				  const uint8_t *w0, size_t w0_len,
				  const uint8_t *l, size_t l_len,
				  const uint8_t *y, size_t y_len,
				  struct pake_trace *trace)
{
	if (y == NULL)
		return PAKE_ERR_SCALAR;
	return verifier_create(out, cfg, w0, w0_len, l, l_len, y, y_len, trace);
}

/* Y, Z, V, the keys and confirmV from the prover's X (unmasked into t). */
static int verifier_answer(struct pake_session *s, const EC_POINT *t,
			   struct bw_bytes *share_v, struct bw_bytes *confirm_v)
{
	uint8_t z[PAKE_MAX_SHARE_LEN], v[PAKE_MAX_SHARE_LEN];
	struct bw_bytes share = { 0 }, confirm = { 0 };
	int rc;

	/* Y = y*P + w0*N; Z = y*T; V = y*L */
	if ((rc = make_share(s, s->g.n, s->share_v)) != 0 ||
	    (rc = compute_zv(s, t, s->eph, s->l, z, v)) != 0 ||
	    (rc = derive_keys(s, z, v)) != 0 ||
	    (rc = bw_bytes_set(&share, s->share_v, s->g.point_len)) != 0 ||
	    (rc = make_confirm(s, s->keys.k_confirm_v, s->share_p,
			       &confirm)) != 0)
		goto out;
	bw_bytes_move(share_v, &share);
	bw_bytes_move(confirm_v, &confirm);
out:
	OPENSSL_cleanse(z, sizeof(z));
	OPENSSL_cleanse(v, sizeof(v));
	bw_bytes_clear(&share);
	bw_bytes_clear(&confirm);
	return rc;
}

int pake_verifier_respond(struct pake_verifier *vf, const uint8_t *share_p,
			  size_t share_p_len, struct bw_bytes *share_v,
			  struct bw_bytes *confirm_v)
{
	struct pake_session *s;
	EC_POINT *t = NULL;
	int rc;

	if (vf == NULL || share_v == NULL || confirm_v == NULL ||
	    (share_p == NULL && share_p_len != 0))
		return BW_ERR_INVALID_ARG;
	s = &vf->s;
	if (s->state != ST_INIT)
		return PAKE_ERR_STATE;
	/* T = X - w0*M */
	if ((rc = peer_point(s, share_p, share_p_len, s->g.m, &t)) != 0)
		return rc;
	memcpy(s->share_p, share_p, s->g.point_len);
	if ((rc = verifier_answer(s, t, share_v, confirm_v)) != 0) {
		session_fail(s);
		goto out;
	}
	/* Only K_confirmP and K_shared are needed from here on. */
	forget_scalars(s);
	OPENSSL_cleanse(s->keys.k_confirm_v, sizeof(s->keys.k_confirm_v));
	s->state = ST_SENT;
out:
	EC_POINT_clear_free(t);
	return rc;
}

int pake_verifier_finish(struct pake_verifier *vf, const uint8_t *confirm_p,
			 size_t confirm_p_len)
{
	struct pake_session *s;
	int rc;

	if (vf == NULL)
		return BW_ERR_INVALID_ARG;
	s = &vf->s;
	if (s->state != ST_SENT)
		return PAKE_ERR_STATE;
	if (confirm_p == NULL || confirm_p_len != s->g.mac_len)
		return PAKE_ERR_CONFIRM_LENGTH;
	/* confirmP = MAC(K_confirmP, shareV) */
	if ((rc = pake_mac_verify(&s->g, s->keys.k_confirm_p, s->share_v,
				  s->g.point_len, confirm_p,
				  confirm_p_len)) != 0) {
		session_fail(s);
		return rc;
	}
	OPENSSL_cleanse(s->keys.k_confirm_p, sizeof(s->keys.k_confirm_p));
	s->state = ST_DONE;
	return 0;
}

int pake_verifier_shared_key(const struct pake_verifier *v,
			     struct bw_bytes *key)
{
	return v == NULL ? BW_ERR_INVALID_ARG : shared_key(&v->s, key);
}

void pake_verifier_free(struct pake_verifier *v)
{
	if (v == NULL)
		return;
	session_clear(&v->s);
	OPENSSL_clear_free(v, sizeof(*v));
}

void pake_trace_clear(struct pake_trace *t)
{
	if (t == NULL)
		return;
	bw_bytes_clear(&t->z);
	bw_bytes_clear(&t->v);
	bw_bytes_clear(&t->tt);
	bw_bytes_clear(&t->k_main);
	bw_bytes_clear(&t->k_confirm_p);
	bw_bytes_clear(&t->k_confirm_v);
}

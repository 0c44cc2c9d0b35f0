/* vec_spake2plus.c - SPAKE2+ (RFC 9383 Appendix C) against
 * spake2plus/vectors.json, every suite and every field, in both roles:
 * registration (L = w1*P), the prover with the vector's x, the verifier
 * with its y and L (never w1), and a flipped confirmation bit on each side. */
#include <stdlib.h>
#include <string.h>

#include "spake2plus.h"
#include "test.h"
#include "vectors.h"

enum field {
	F_CONTEXT, F_ID_P, F_ID_V, F_M, F_N, F_M_UNC, F_N_UNC, F_W0, F_W1, F_L,
	F_X, F_SHARE_P, F_Y, F_SHARE_V, F_Z, F_V, F_TT, F_K_MAIN, F_K_CONF_P,
	F_K_CONF_V, F_CONFIRM_P, F_CONFIRM_V, F_K_SHARED, N_FIELDS
};

static const char *const field_names[N_FIELDS] = {
	"context_hex", "idProver_hex", "idVerifier_hex", "M", "N",
	"M_uncompressed", "N_uncompressed", "w0", "w1", "L", "x", "shareP",
	"y", "shareV", "Z", "V", "TT", "K_main", "K_confirmP", "K_confirmV",
	"confirmP", "confirmV", "K_shared",
};

struct vec {
	enum pake_suite suite;
	struct pake_config cfg;
	struct bw_bytes f[N_FIELDS];
};

static bool same(const char *what, const struct bw_bytes *got,
		 const struct bw_bytes *want)
{
	if (got->len == want->len &&
	    (want->len == 0 || memcmp(got->p, want->p, want->len) == 0))
		return true;
	fprintf(stderr, "  %s differs\n", what);
	return false;
}

static bool same_str(const char *text, const struct bw_bytes *hex)
{
	return text != NULL && strlen(text) == hex->len &&
	       memcmp(text, hex->p, hex->len) == 0;
}

/* The suite name must be the concatenation of its parts ("P-256" is
 * written "P256" in names) and name a suite this code implements. */
static bool load_suite(json_t *v, struct vec *t)
{
	const char *name = tv_str(v, "suite"), *group = tv_str(v, "group");
	const char *hash = tv_str(v, "hash"), *kdf = tv_str(v, "kdf");
	const char *mac = tv_str(v, "mac");
	char want[128];

	if (!name || !group || !hash || !kdf || !mac || strlen(group) < 3)
		return false;
	snprintf(want, sizeof(want), "%c%s-%s-%s-%s", group[0], group + 2,
		 hash, kdf, mac);
	CHECK(strcmp(want, name) == 0);
	CHECK(pake_suite_by_name(name, &t->suite) == 0);
	CHECK(strcmp(pake_suite_name(t->suite), name) == 0);
	return true;
}

static bool load(json_t *v, struct vec *t)
{
	for (int i = 0; i < N_FIELDS; i++)
		CHECK(tv_hex(v, field_names[i], &t->f[i]));
	CHECK(same_str(tv_str(v, "context"), &t->f[F_CONTEXT]));
	CHECK(same_str(tv_str(v, "idProver"), &t->f[F_ID_P]));
	CHECK(same_str(tv_str(v, "idVerifier"), &t->f[F_ID_V]));
	t->cfg = (struct pake_config){
		.suite = t->suite,
		.context = t->f[F_CONTEXT].p,
		.context_len = t->f[F_CONTEXT].len,
		.ids = { t->f[F_ID_P].p, t->f[F_ID_P].len, t->f[F_ID_V].p,
			 t->f[F_ID_V].len },
	};
	return true;
}

static bool check_points_and_record(const struct vec *t)
{
	struct bw_bytes m = { 0 }, n = { 0 }, l = { 0 };
	bool ok;

	ok = pake_suite_points(t->suite, true, &m, &n) == 0 &&
	     same("M", &m, &t->f[F_M]) && same("N", &n, &t->f[F_N]) &&
	     pake_suite_points(t->suite, false, &m, &n) == 0 &&
	     same("M_uncompressed", &m, &t->f[F_M_UNC]) &&
	     same("N_uncompressed", &n, &t->f[F_N_UNC]) &&
	     pake_registration_point(t->suite, t->f[F_W1].p, t->f[F_W1].len,
				     &l) == 0 &&
	     same("L = w1*P", &l, &t->f[F_L]);
	bw_bytes_clear(&m);
	bw_bytes_clear(&n);
	bw_bytes_clear(&l);
	return ok;
}

static bool check_trace(const struct pake_trace *tr, const struct vec *t)
{
	return same("Z", &tr->z, &t->f[F_Z]) && same("V", &tr->v, &t->f[F_V]) &&
	       same("TT", &tr->tt, &t->f[F_TT]) &&
	       same("K_main", &tr->k_main, &t->f[F_K_MAIN]) &&
	       same("K_confirmP", &tr->k_confirm_p, &t->f[F_K_CONF_P]) &&
	       same("K_confirmV", &tr->k_confirm_v, &t->f[F_K_CONF_V]);
}

static struct pake_prover *prover(const struct vec *t, struct pake_trace *tr)
{
	struct pake_prover *p = NULL;

	if (pake_prover_new_with_scalar(&p, &t->cfg, t->f[F_W0].p,
					t->f[F_W0].len, t->f[F_W1].p,
					t->f[F_W1].len, t->f[F_X].p,
					t->f[F_X].len, tr) != 0)
		fprintf(stderr, "  prover refused the vector's inputs\n");
	return p;
}

static struct pake_verifier *verifier(const struct vec *t,
				      struct pake_trace *tr)
{
	struct pake_verifier *v = NULL;

	if (pake_verifier_new_with_scalar(&v, &t->cfg, t->f[F_W0].p,
					  t->f[F_W0].len, t->f[F_L].p,
					  t->f[F_L].len, t->f[F_Y].p,
					  t->f[F_Y].len, tr) != 0)
		fprintf(stderr, "  verifier refused the vector's inputs\n");
	return v;
}

static bool run_prover(const struct vec *t)
{
	struct pake_trace tr = { 0 };
	struct bw_bytes share = { 0 }, confirm = { 0 }, key = { 0 };
	struct pake_prover *p = prover(t, &tr);
	bool ok;

	ok = p != NULL && pake_prover_share(p, &share) == 0 &&
	     same("shareP", &share, &t->f[F_SHARE_P]) &&
	     pake_prover_finish(p, t->f[F_SHARE_V].p, t->f[F_SHARE_V].len,
				t->f[F_CONFIRM_V].p, t->f[F_CONFIRM_V].len,
				&confirm) == 0 &&
	     same("confirmP", &confirm, &t->f[F_CONFIRM_P]) &&
	     check_trace(&tr, t) && pake_prover_shared_key(p, &key) == 0 &&
	     same("K_shared (prover)", &key, &t->f[F_K_SHARED]);
	pake_prover_free(p);
	pake_trace_clear(&tr);
	bw_bytes_clear(&share);
	bw_bytes_clear(&confirm);
	bw_bytes_clear(&key);
	return ok;
}

static bool run_verifier(const struct vec *t)
{
	struct pake_trace tr = { 0 };
	struct bw_bytes share = { 0 }, confirm = { 0 }, key = { 0 };
	struct pake_verifier *v = verifier(t, &tr);
	bool ok;

	ok = v != NULL &&
	     pake_verifier_respond(v, t->f[F_SHARE_P].p, t->f[F_SHARE_P].len,
				   &share, &confirm) == 0 &&
	     same("shareV", &share, &t->f[F_SHARE_V]) &&
	     same("confirmV", &confirm, &t->f[F_CONFIRM_V]) &&
	     check_trace(&tr, t) &&
	     pake_verifier_finish(v, t->f[F_CONFIRM_P].p,
				  t->f[F_CONFIRM_P].len) == 0 &&
	     pake_verifier_shared_key(v, &key) == 0 &&
	     same("K_shared (verifier)", &key, &t->f[F_K_SHARED]);
	pake_verifier_free(v);
	pake_trace_clear(&tr);
	bw_bytes_clear(&share);
	bw_bytes_clear(&confirm);
	bw_bytes_clear(&key);
	return ok;
}

/* One flipped bit in confirmV, then in confirmP: each side must refuse
 * and hand out no key. */
static bool run_flipped(const struct vec *t)
{
	struct bw_bytes share = { 0 }, confirm = { 0 }, bad = { 0 };
	struct pake_prover *p = prover(t, NULL);
	struct pake_verifier *v = verifier(t, NULL);
	bool ok = false;

	if (p == NULL || v == NULL ||
	    bw_bytes_set(&bad, t->f[F_CONFIRM_V].p, t->f[F_CONFIRM_V].len) != 0)
		goto out;
	bad.p[bad.len / 2] ^= 0x10;
	ok = pake_prover_share(p, &share) == 0 &&
	     pake_prover_finish(p, t->f[F_SHARE_V].p, t->f[F_SHARE_V].len,
				bad.p, bad.len, &confirm) == PAKE_ERR_CONFIRM &&
	     confirm.len == 0 &&
	     pake_prover_shared_key(p, &share) == PAKE_ERR_STATE;
	if (!ok || bw_bytes_set(&bad, t->f[F_CONFIRM_P].p,
				t->f[F_CONFIRM_P].len) != 0) {
		fprintf(stderr, "  prover accepted a flipped confirmV\n");
		goto out;
	}
	bad.p[0] ^= 0x01;
	ok = pake_verifier_respond(v, t->f[F_SHARE_P].p, t->f[F_SHARE_P].len,
				   &share, &confirm) == 0 &&
	     pake_verifier_finish(v, bad.p, bad.len) == PAKE_ERR_CONFIRM &&
	     pake_verifier_shared_key(v, &share) == PAKE_ERR_STATE;
	if (!ok)
		fprintf(stderr, "  verifier accepted a flipped confirmP\n");
out:
	pake_prover_free(p);
	pake_verifier_free(v);
	bw_bytes_clear(&share);
	bw_bytes_clear(&confirm);
	bw_bytes_clear(&bad);
	return ok;
}

static bool check(json_t *v)
{
	struct vec t = { 0 };
	bool ok;

	ok = load_suite(v, &t) && load(v, &t) && check_points_and_record(&t) &&
	     run_prover(&t) && run_verifier(&t) && run_flipped(&t);
	if (!ok)
		fprintf(stderr, "FAIL %s\n", tv_str(v, "suite"));
	for (int i = 0; i < N_FIELDS; i++)
		bw_bytes_clear(&t.f[i]);
	return ok;
}

int main(int argc, char **argv)
{
	json_t *all = tv_load(tv_dir(argc, argv), "spake2plus/vectors.json");
	json_t *list = json_object_get(all, "vectors");
	struct tv_count c = { .name = "spake2plus" };
	size_t i;
	json_t *v;

	if (!json_is_array(list) || json_array_size(list) == 0) {
		fprintf(stderr, "FAIL: no \"vectors\" array\n");
		c.failed++;
	}
	json_array_foreach(list, i, v)
		tv_count(&c, check(v));
	json_decref(all);
	return tv_report(&c);
}

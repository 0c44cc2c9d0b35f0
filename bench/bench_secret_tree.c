/*
 * bench_secret_tree.c - cost of secret-tree key derivation (RFC 9420 §9)
 * per cipher suite, against the raw HKDF-Expand it is built from.
 *
 *   bench_secret_tree [seconds per measurement, default 1]
 *
 * Measured here:
 *  - raw HKDF-Expand: SHA-256, 32-byte PRK, a KDFLabel-sized info, 32-byte
 *    output, through an EVP_KDF_CTX prepared once (the primitive's floor),
 *    and the same with a context made and freed per call;
 *  - ExpandWithLabel as the crypto provider runs it (context per call);
 *  - one ratchet step while sending (key, nonce and next secret: three
 *    expands);
 *  - the key for generation 1000 of one leaf in a fresh tree of a group of
 *    2, 1,000 and 10,000 members (trees of 2, 1024 and 16384 leaves), with
 *    the default limits: the path down the tree (two expands per level),
 *    the two ratchet roots, 1001 ratchet steps, and key and nonce for the
 *    256 retained skipped generations and the requested one.
 * The floor of each is its number of expands times the raw cost; the ratio
 * to it is the overhead of the library around the primitive.
 * Prints Markdown tables for docs/benchmarks.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "bench_util.h"
#include "crypto.h"
#include "secret_tree.h"
#include "treemath.h"

#define TARGET_GENERATION 1000u
#define KDF_LABEL_LEN 26 /* u16 + "MLS 1.0 secret" + u32 generation */

/* ---- raw HKDF-Expand ---- */

static uint8_t raw_prk[32] = { 1 }, raw_info[KDF_LABEL_LEN] = { 2 };
static int raw_mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;

struct raw_arg {
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx;
	OSSL_PARAM params[5];
	uint8_t out[32];
};

static void raw_params(struct raw_arg *r)
{
	r->params[0] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &raw_mode);
	r->params[1] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
							(char *)"SHA256", 0);
	r->params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
							 raw_prk,
							 sizeof(raw_prk));
	r->params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
							 raw_info,
							 sizeof(raw_info));
	r->params[4] = OSSL_PARAM_construct_end();
}

/* Parameters set once: the primitive alone. */
static int op_raw_expand(void *a)
{
	struct raw_arg *r = a;

	return EVP_KDF_derive(r->ctx, r->out, sizeof(r->out), NULL) == 1 ? 0 : -1;
}

/* A context made, configured and freed per call, as a stateless provider
 * function must. */
static int op_raw_expand_fresh_ctx(void *a)
{
	struct raw_arg *r = a;
	EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(r->kdf);
	int rc = ctx != NULL && EVP_KDF_derive(ctx, r->out, sizeof(r->out),
					       r->params) == 1 ? 0 : -1;

	EVP_KDF_CTX_free(ctx);
	return rc;
}

static double bench_raw_expand(double *fresh_ctx)
{
	struct raw_arg r = { .kdf = EVP_KDF_fetch(NULL, "HKDF", NULL) };
	double us;

	raw_params(&r);
	if (r.kdf == NULL || (r.ctx = EVP_KDF_CTX_new(r.kdf)) == NULL ||
	    EVP_KDF_CTX_set_params(r.ctx, r.params) != 1)
		bench_die("raw HKDF-Expand");
	us = bench_time_op("raw HKDF-Expand", op_raw_expand, &r);
	*fresh_ctx = bench_time_op("HKDF-Expand, fresh context",
			     op_raw_expand_fresh_ctx, &r);
	EVP_KDF_CTX_free(r.ctx);
	EVP_KDF_free(r.kdf);
	return us;
}

/* ---- the library ---- */

struct suite_arg {
	const struct mls_suite *s;
	uint8_t secret[MLS_MAX_HASH_LEN];
	struct mls_secret_tree *t;
	uint32_t n_leaves, leaf;
};

static int op_expand_with_label(void *a)
{
	struct suite_arg *x = a;
	uint8_t out[MLS_MAX_HASH_LEN];

	return mls_derive_tree_secret(x->s, x->secret, x->s->hash_len, "secret",
				      7, out, x->s->hash_len);
}

static int op_ratchet_step(void *a)
{
	struct suite_arg *x = a;
	struct mls_ratchet_key k;
	int rc = mls_secret_tree_next(x->t, 0, MLS_RATCHET_APPLICATION, &k);

	mls_ratchet_key_clear(&k);
	return rc;
}

static int op_generation_1000(void *a)
{
	struct suite_arg *x = a;
	struct mls_secret_tree *t;
	struct mls_ratchet_key k;
	int rc;

	if ((rc = mls_secret_tree_new(x->s, x->secret, x->s->hash_len,
				      x->n_leaves, &t)) != 0)
		return rc;
	rc = mls_secret_tree_get(t, x->leaf, MLS_RATCHET_APPLICATION,
				 TARGET_GENERATION, &k);
	mls_ratchet_key_clear(&k);
	mls_secret_tree_free(t);
	return rc;
}

/* Expands needed for generation 1000 of a fresh leaf at this depth. */
static unsigned generation_1000_expands(uint32_t n_leaves)
{
	unsigned depth = mls_tm_level(mls_tm_root(n_leaves));
	unsigned kept = TARGET_GENERATION < MLS_DEFAULT_MAX_RETAINED ?
				TARGET_GENERATION : MLS_DEFAULT_MAX_RETAINED;

	return 2 * depth + 2 + (TARGET_GENERATION + 1) + 2 * (kept + 1);
}

static void print_row(const char *suite, const char *what, double us,
		      double floor_us)
{
	printf("| %s | %s | %.2f | %.2f | %.2f |\n", suite, what, us, floor_us,
	       us / floor_us);
}

static void bench_suite(uint16_t id, double raw)
{
	static const struct {
		uint32_t members, n_leaves;
		const char *what;
	} groups[] = {
		{ 2, 2, "generation 1000, group of 2 (2 leaves)" },
		{ 1000, 1024, "generation 1000, group of 1,000 (1024 leaves)" },
		{ 10000, 16384, "generation 1000, group of 10,000 (16384 leaves)" },
	};
	struct suite_arg x = { .s = mls_suite_get(id) };
	char name[8];
	double us;

	if (x.s == NULL || mls_random(x.secret, x.s->hash_len) != 0)
		bench_die("suite");
	snprintf(name, sizeof(name), "%u", id);
	print_row(name, "ExpandWithLabel (provider)",
		  bench_time_op("ExpandWithLabel", op_expand_with_label, &x), raw);
	if (mls_secret_tree_new(x.s, x.secret, x.s->hash_len, 2, &x.t) != 0)
		bench_die("tree");
	print_row(name, "ratchet step (next)",
		  bench_time_op("ratchet step", op_ratchet_step, &x), 3 * raw);
	mls_secret_tree_free(x.t);
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		x.n_leaves = groups[i].n_leaves;
		x.leaf = groups[i].members - 1; /* the deepest-numbered member */
		us = bench_time_op(groups[i].what, op_generation_1000, &x);
		print_row(name, groups[i].what, us,
			  generation_1000_expands(x.n_leaves) * raw);
	}
}

int main(int argc, char **argv)
{
	static const uint16_t suites[] = { 1, 2, 3 };
	double raw, fresh_ctx;

	bench_parse_seconds(argc, argv);
	raw = bench_raw_expand(&fresh_ctx);
	printf("HKDF-SHA256 Expand, 32 B out: %.3f us with an EVP_KDF_CTX "
	       "prepared once (raw), %.3f us with a context per call\n\n",
	       raw, fresh_ctx);
	printf("| suite | operation | us | floor (us) | ratio |\n");
	printf("|---|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		bench_suite(suites[i], raw);
	return 0;
}

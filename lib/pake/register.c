/*
 * register.c - SPAKE2+ registration (RFC 9383 §3.2): from a password to
 * the scalars w0, w1 through scrypt (RFC 7914, EVP_KDF "SCRYPT"), and the
 * record (w0, L = w1*P) the verifier stores.
 */
#include "internal.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

/* Each half of the scrypt output is ceil(log2(p)) + 64 bits, so that the
 * reduction mod p is biased by at most 2^-64 (§3.2): 40 bytes for P-256,
 * 56 for P-384, 74 for P-521. */
#define BIAS_BITS 64
#define MAX_HALF_LEN ((PAKE_MAX_SCALAR_LEN * 8 + BIAS_BITS + 7) / 8)

int pake_pbkdf_init(struct pake_pbkdf *kdf)
{
	if (kdf == NULL)
		return BW_ERR_INVALID_ARG;
	memset(kdf, 0, sizeof(*kdf));
	kdf->n = PAKE_SCRYPT_N;
	kdf->r = PAKE_SCRYPT_R;
	kdf->p = PAKE_SCRYPT_P;
	kdf->salt_len = PAKE_SALT_LEN;
	return RAND_bytes(kdf->salt, PAKE_SALT_LEN) == 1 ? 0 : PAKE_ERR_CRYPTO;
}

int pake_pbkdf_check(const struct pake_pbkdf *kdf)
{
	if (kdf == NULL)
		return BW_ERR_INVALID_ARG;
	if (kdf->n < PAKE_SCRYPT_MIN_N || kdf->n > PAKE_SCRYPT_MAX_N ||
	    (kdf->n & (kdf->n - 1)) != 0 ||
	    kdf->r < 1 || kdf->r > PAKE_SCRYPT_MAX_R ||
	    kdf->p < 1 || kdf->p > PAKE_SCRYPT_MAX_P ||
	    128u * kdf->r * kdf->n > PAKE_SCRYPT_MAX_MEM ||
	    kdf->salt_len < PAKE_MIN_SALT_LEN ||
	    kdf->salt_len > PAKE_MAX_SALT_LEN)
		return PAKE_ERR_PBKDF_PARAMS;
	return 0;
}

static int scrypt(const struct pake_pbkdf *kdf, const uint8_t *in,
		  size_t in_len, uint8_t *out, size_t out_len)
{
	uint64_t n = kdf->n, maxmem = PAKE_SCRYPT_MAX_MEM;
	uint32_t r = kdf->r, p = kdf->p;
	OSSL_PARAM params[7];
	EVP_KDF *alg;
	EVP_KDF_CTX *ctx = NULL;
	int rc = PAKE_ERR_CRYPTO;

	if ((alg = EVP_KDF_fetch(NULL, "SCRYPT", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(alg)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_PASSWORD, (void *)in, in_len);
	params[1] = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_SALT, (void *)kdf->salt, kdf->salt_len);
	params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	/* scrypt needs a little over 128*r*N bytes: leave it room above our
	 * own limit, which pake_pbkdf_check() already enforced. */
	maxmem += maxmem / 8;
	params[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM,
						&maxmem);
	params[6] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, out_len, params) == 1)
		rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(alg);
	return rc;
}

/* w = ws mod p, into scalar_len bytes. */
static int reduce(const struct pake_group *g, const uint8_t *ws, size_t n,
		  uint8_t *out)
{
	BIGNUM *wide = BN_secure_new(), *w = BN_secure_new();
	int rc = BW_ERR_NOMEM;

	if (wide == NULL || w == NULL)
		goto out;
	BN_set_flags(wide, BN_FLG_CONSTTIME);
	BN_set_flags(w, BN_FLG_CONSTTIME);
	rc = PAKE_ERR_CRYPTO;
	if (BN_bin2bn(ws, (int)n, wide) == NULL ||
	    BN_nnmod(w, wide, g->order, g->bn) != 1)
		goto out;
	/* Zero has probability about 2^-256; refusing it keeps L a
	 * non-identity point. */
	if (BN_is_zero(w)) {
		rc = PAKE_ERR_SCALAR;
		goto out;
	}
	rc = pake_scalar_encode(g, w, out);
out:
	BN_clear_free(wide);
	BN_clear_free(w);
	return rc;
}

static int check_inputs(const struct pake_pbkdf *kdf, const uint8_t *pw,
			size_t pw_len, const struct pake_ids *ids)
{
	int rc;

	if (ids == NULL || (pw == NULL && pw_len != 0) ||
	    (ids->prover == NULL && ids->prover_len != 0) ||
	    (ids->verifier == NULL && ids->verifier_len != 0))
		return BW_ERR_INVALID_ARG;
	if ((rc = pake_pbkdf_check(kdf)) != 0)
		return rc;
	if (pw_len == 0)
		return PAKE_ERR_PASSWORD_EMPTY;
	if (pw_len > PAKE_MAX_PASSWORD_LEN || ids->prover_len > PAKE_MAX_ID_LEN ||
	    ids->verifier_len > PAKE_MAX_ID_LEN)
		return PAKE_ERR_TOO_LONG;
	return 0;
}

int pake_password_scalars(enum pake_suite suite, const struct pake_pbkdf *kdf,
			  const uint8_t *pw, size_t pw_len,
			  const struct pake_ids *ids, struct bw_bytes *w0,
			  struct bw_bytes *w1)
{
	uint8_t ws[2 * MAX_HALF_LEN];
	uint8_t w0_enc[PAKE_MAX_SCALAR_LEN], w1_enc[PAKE_MAX_SCALAR_LEN];
	struct bw_bytes w0_out = { 0 }, w1_out = { 0 };
	struct pake_group g;
	struct bw_writer in;
	size_t half;
	int rc;

	if (w0 == NULL || w1 == NULL)
		return BW_ERR_INVALID_ARG;
	if ((rc = check_inputs(kdf, pw, pw_len, ids)) != 0 ||
	    (rc = pake_group_init(&g, suite)) != 0)
		return rc;
	bw_writer_init(&in, 0);
	half = ((size_t)BN_num_bits(g.order) + BIAS_BITS + 7) / 8;
	/* len(pw) || pw || len(idProver) || idProver || len(idVerifier) ||
	 * idVerifier */
	pake_write_field(&in, pw, pw_len);
	pake_write_field(&in, ids->prover, ids->prover_len);
	pake_write_field(&in, ids->verifier, ids->verifier_len);
	if ((rc = in.err) != 0 ||
	    (rc = scrypt(kdf, in.buf, in.len, ws, 2 * half)) != 0 ||
	    (rc = reduce(&g, ws, half, w0_enc)) != 0 ||
	    (rc = reduce(&g, ws + half, half, w1_enc)) != 0 ||
	    (rc = bw_bytes_set(&w0_out, w0_enc, g.scalar_len)) != 0 ||
	    (rc = bw_bytes_set(&w1_out, w1_enc, g.scalar_len)) != 0)
		goto out;
	bw_bytes_move(w0, &w0_out);
	bw_bytes_move(w1, &w1_out);
out:
	OPENSSL_cleanse(ws, sizeof(ws));
	OPENSSL_cleanse(w0_enc, sizeof(w0_enc));
	OPENSSL_cleanse(w1_enc, sizeof(w1_enc));
	bw_bytes_clear(&w0_out);
	bw_bytes_clear(&w1_out);
	bw_writer_free(&in);
	pake_group_clear(&g);
	return rc;
}

int pake_registration_point(enum pake_suite suite, const uint8_t *w1,
			    size_t w1_len, struct bw_bytes *l)
{
	struct bw_bytes enc = { 0 };
	struct pake_group g;
	BIGNUM *k = NULL;
	EC_POINT *pt = NULL;
	int rc;

	if (l == NULL)
		return BW_ERR_INVALID_ARG;
	if ((rc = pake_group_init(&g, suite)) != 0)
		return rc;
	if ((rc = pake_scalar_decode(&g, w1, w1_len, &k)) != 0)
		goto out;
	rc = BW_ERR_NOMEM;
	if ((pt = EC_POINT_new(g.group)) == NULL)
		goto out;
	if ((rc = pake_mul(&g, pt, NULL, k)) != 0 ||
	    (rc = bw_bytes_alloc(&enc, g.point_len)) != 0 ||
	    (rc = pake_point_encode(&g, pt, enc.p)) != 0)
		goto out;
	bw_bytes_move(l, &enc);
out:
	bw_bytes_clear(&enc);
	EC_POINT_free(pt);
	BN_clear_free(k);
	pake_group_clear(&g);
	return rc;
}

int pake_register(enum pake_suite suite, const struct pake_pbkdf *kdf,
		  const uint8_t *pw, size_t pw_len, const struct pake_ids *ids,
		  struct bw_bytes *w0, struct bw_bytes *l)
{
	struct bw_bytes w0_out = { 0 }, w1 = { 0 }, l_out = { 0 };
	int rc;

	if (w0 == NULL || l == NULL)
		return BW_ERR_INVALID_ARG;
	if ((rc = pake_password_scalars(suite, kdf, pw, pw_len, ids, &w0_out,
					&w1)) != 0 ||
	    (rc = pake_registration_point(suite, w1.p, w1.len, &l_out)) != 0)
		goto out;
	bw_bytes_move(w0, &w0_out);
	bw_bytes_move(l, &l_out);
out:
	bw_bytes_clear(&w0_out);
	bw_bytes_clear(&w1);
	bw_bytes_clear(&l_out);
	return rc;
}

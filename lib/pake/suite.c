/*
 * suite.c - SPAKE2+ ciphersuites (RFC 9383 §4) and the group arithmetic
 * under them: scalars, points and multiplication on OpenSSL's EC_POINT
 * layer, which EVP does not cover.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/obj_mac.h>

/* M and N are the compressed points printed in RFC 9383 §4, generated from
 * the seeds "<curve OID> point generation seed (M|N)"; nobody knows their
 * discrete logarithms, which is what the protocol's security rests on. */
#define P256_M "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f"
#define P256_N "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49"
#define P384_M "030ff0895ae5ebf6187080a82d82b42e2765e3b2f8749c7e05eba366434b363d3d" \
	       "c36f15314739074d2eb8613fceec2853"
#define P384_N "02c72cf2e390853a1c1c4ad816a62fd15824f56078918f43f922ca21518f9c543b" \
	       "b252c5490214cf9aa3f0baab4b665c10"
#define P521_M "02003f06f38131b2ba2600791e82488e8d20ab889af753a41806c5db18d37d8560" \
	       "8cfae06b82e4a72cd744c719193562a653ea1f119eef9356907edc9b56979962d7aa"
#define P521_N "0200c7924b9ec017f3094562894336a53c50167ba8c5963876880542bc669e494b" \
	       "2532d76c5b53dfb349fdf69154b9e0048c58a42e8ed04cef052a3bc349d95575cd25"

static const struct pake_suite_info suites[] = {
	{ PAKE_P256_SHA256_HKDF_SHA256_HMAC_SHA256,
	  "P256-SHA256-HKDF-SHA256-HMAC-SHA256", NID_X9_62_prime256v1,
	  "SHA256", "HMAC", "SHA256", 0, P256_M, P256_N },
	{ PAKE_P256_SHA512_HKDF_SHA512_HMAC_SHA512,
	  "P256-SHA512-HKDF-SHA512-HMAC-SHA512", NID_X9_62_prime256v1,
	  "SHA512", "HMAC", "SHA512", 0, P256_M, P256_N },
	{ PAKE_P384_SHA256_HKDF_SHA256_HMAC_SHA256,
	  "P384-SHA256-HKDF-SHA256-HMAC-SHA256", NID_secp384r1,
	  "SHA256", "HMAC", "SHA256", 0, P384_M, P384_N },
	{ PAKE_P384_SHA512_HKDF_SHA512_HMAC_SHA512,
	  "P384-SHA512-HKDF-SHA512-HMAC-SHA512", NID_secp384r1,
	  "SHA512", "HMAC", "SHA512", 0, P384_M, P384_N },
	{ PAKE_P521_SHA512_HKDF_SHA512_HMAC_SHA512,
	  "P521-SHA512-HKDF-SHA512-HMAC-SHA512", NID_secp521r1,
	  "SHA512", "HMAC", "SHA512", 0, P521_M, P521_N },
	{ PAKE_P256_SHA256_HKDF_SHA256_CMAC_AES128,
	  "P256-SHA256-HKDF-SHA256-CMAC-AES-128", NID_X9_62_prime256v1,
	  "SHA256", "CMAC", "AES-128-CBC", 16, P256_M, P256_N },
	{ PAKE_P256_SHA512_HKDF_SHA512_CMAC_AES128,
	  "P256-SHA512-HKDF-SHA512-CMAC-AES-128", NID_X9_62_prime256v1,
	  "SHA512", "CMAC", "AES-128-CBC", 16, P256_M, P256_N },
};
#define N_SUITES (sizeof(suites) / sizeof(suites[0]))
#define CMAC_AES_TAG_LEN 16 /* one AES block */

const struct pake_suite_info *pake_suite_info(enum pake_suite suite)
{
	for (size_t i = 0; i < N_SUITES; i++)
		if (suites[i].id == suite)
			return &suites[i];
	return NULL;
}

const char *pake_suite_name(enum pake_suite suite)
{
	const struct pake_suite_info *info = pake_suite_info(suite);

	return info ? info->name : NULL;
}

int pake_suite_by_name(const char *name, enum pake_suite *out)
{
	for (size_t i = 0; name != NULL && i < N_SUITES; i++) {
		if (strcmp(suites[i].name, name) == 0) {
			*out = suites[i].id;
			return 0;
		}
	}
	return PAKE_ERR_SUITE;
}

static int point_from_hex(const EC_GROUP *group, const char *hex,
			  EC_POINT **out, BN_CTX *bn)
{
	uint8_t *oct = NULL;
	size_t n = 0;
	EC_POINT *pt = NULL;
	int rc;

	if ((rc = bw_hex_decode(hex, &oct, &n)) != 0)
		goto out;
	rc = PAKE_ERR_CRYPTO;
	if ((pt = EC_POINT_new(group)) == NULL ||
	    EC_POINT_oct2point(group, pt, oct, n, bn) != 1)
		goto out;
	*out = pt;
	pt = NULL; /* transferred */
	rc = 0;
out:
	EC_POINT_free(pt);
	free(oct);
	return rc;
}

int pake_group_init(struct pake_group *g, enum pake_suite suite)
{
	int rc = PAKE_ERR_CRYPTO;

	memset(g, 0, sizeof(*g));
	if ((g->info = pake_suite_info(suite)) == NULL)
		return PAKE_ERR_SUITE;
	if ((g->bn = BN_CTX_secure_new()) == NULL ||
	    (g->group = EC_GROUP_new_by_curve_name(g->info->curve_nid)) == NULL ||
	    (g->md = EVP_MD_fetch(NULL, g->info->md_name, NULL)) == NULL)
		goto out;
	if ((rc = point_from_hex(g->group, g->info->m_hex, &g->m, g->bn)) != 0 ||
	    (rc = point_from_hex(g->group, g->info->n_hex, &g->n, g->bn)) != 0)
		goto out;
	g->order = EC_GROUP_get0_order(g->group);
	g->scalar_len = ((size_t)EC_GROUP_get_degree(g->group) + 7) / 8;
	g->point_len = 1 + 2 * g->scalar_len;
	g->hash_len = (size_t)EVP_MD_get_size(g->md);
	g->confirm_key_len = g->info->cmac_key_len ? g->info->cmac_key_len :
						     g->hash_len;
	g->mac_len = g->info->cmac_key_len ? CMAC_AES_TAG_LEN : g->hash_len;
	rc = 0;
out:
	if (rc != 0)
		pake_group_clear(g);
	return rc;
}

void pake_group_clear(struct pake_group *g)
{
	EC_POINT_free(g->m);
	EC_POINT_free(g->n);
	EC_GROUP_free(g->group);
	EVP_MD_free(g->md);
	BN_CTX_free(g->bn);
	memset(g, 0, sizeof(*g));
}

int pake_suite_points(enum pake_suite suite, bool compressed,
		      struct bw_bytes *m, struct bw_bytes *n)
{
	point_conversion_form_t form = compressed ?
		POINT_CONVERSION_COMPRESSED : POINT_CONVERSION_UNCOMPRESSED;
	struct bw_bytes m_enc = { 0 }, n_enc = { 0 };
	struct pake_group g;
	size_t len;
	int rc;

	if ((rc = pake_group_init(&g, suite)) != 0)
		return rc;
	len = compressed ? 1 + g.scalar_len : g.point_len;
	if ((rc = bw_bytes_alloc(&m_enc, len)) != 0 ||
	    (rc = bw_bytes_alloc(&n_enc, len)) != 0)
		goto out;
	rc = PAKE_ERR_CRYPTO;
	if (EC_POINT_point2oct(g.group, g.m, form, m_enc.p, len, g.bn) != len ||
	    EC_POINT_point2oct(g.group, g.n, form, n_enc.p, len, g.bn) != len)
		goto out;
	bw_bytes_move(m, &m_enc);
	bw_bytes_move(n, &n_enc);
	rc = 0;
out:
	bw_bytes_clear(&m_enc);
	bw_bytes_clear(&n_enc);
	pake_group_clear(&g);
	return rc;
}

/* ---- scalars ---- */

int pake_scalar_decode(const struct pake_group *g, const uint8_t *p,
		       size_t n, BIGNUM **out)
{
	BIGNUM *s;

	if (p == NULL || n != g->scalar_len)
		return PAKE_ERR_SCALAR;
	if ((s = BN_secure_new()) == NULL)
		return BW_ERR_NOMEM;
	BN_set_flags(s, BN_FLG_CONSTTIME);
	if (BN_bin2bn(p, (int)n, s) == NULL) {
		BN_clear_free(s);
		return PAKE_ERR_CRYPTO;
	}
	if (BN_is_zero(s) || BN_cmp(s, g->order) >= 0) {
		BN_clear_free(s);
		return PAKE_ERR_SCALAR;
	}
	*out = s;
	return 0;
}

int pake_scalar_random(const struct pake_group *g, BIGNUM **out)
{
	BIGNUM *s;

	if ((s = BN_secure_new()) == NULL)
		return BW_ERR_NOMEM;
	BN_set_flags(s, BN_FLG_CONSTTIME);
	/* [0, order) with zero redrawn: the RFC allows 0, but a zero x or y
	 * would make the share a pure function of w0. */
	do {
		if (BN_priv_rand_range_ex(s, g->order, 0, g->bn) != 1) {
			BN_clear_free(s);
			return PAKE_ERR_CRYPTO;
		}
	} while (BN_is_zero(s));
	*out = s;
	return 0;
}

int pake_scalar_encode(const struct pake_group *g, const BIGNUM *s,
		       uint8_t *out)
{
	return BN_bn2binpad(s, out, (int)g->scalar_len) == (int)g->scalar_len ?
		       0 : PAKE_ERR_CRYPTO;
}

/* ---- points ---- */

int pake_point_decode(const struct pake_group *g, const uint8_t *p,
		      size_t n, EC_POINT **out)
{
	EC_POINT *pt;

	/* SEC1 encodes the identity as the single octet 0. */
	if (n == 1 && p[0] == 0x00)
		return PAKE_ERR_SHARE_IDENTITY;
	if (n != g->point_len || p[0] != POINT_CONVERSION_UNCOMPRESSED)
		return PAKE_ERR_SHARE_ENCODING;
	if ((pt = EC_POINT_new(g->group)) == NULL)
		return BW_ERR_NOMEM;
	/* oct2point rejects coordinates outside the field and points off the
	 * curve; the explicit check below keeps that independent of it. */
	if (EC_POINT_oct2point(g->group, pt, p, n, g->bn) != 1 ||
	    EC_POINT_is_on_curve(g->group, pt, g->bn) != 1) {
		EC_POINT_free(pt);
		return PAKE_ERR_SHARE_NOT_ON_CURVE;
	}
	/* §6: the cofactor of the NIST curves is 1, so every point on the
	 * curve but the identity lies in the prime-order group. */
	if (EC_POINT_is_at_infinity(g->group, pt)) {
		EC_POINT_free(pt);
		return PAKE_ERR_SHARE_IDENTITY;
	}
	*out = pt;
	return 0;
}

int pake_point_encode(const struct pake_group *g, const EC_POINT *pt,
		      uint8_t *out)
{
	return EC_POINT_point2oct(g->group, pt, POINT_CONVERSION_UNCOMPRESSED,
				  out, g->point_len, g->bn) == g->point_len ?
		       0 : PAKE_ERR_CRYPTO;
}

int pake_mul(const struct pake_group *g, EC_POINT *out, const EC_POINT *base,
	     const BIGNUM *k)
{
	int ok = base == NULL ?
		EC_POINT_mul(g->group, out, k, NULL, NULL, g->bn) :
		EC_POINT_mul(g->group, out, NULL, base, k, g->bn);

	return ok == 1 ? 0 : PAKE_ERR_CRYPTO;
}

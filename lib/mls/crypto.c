/*
 * crypto.c - MLS cipher suites and labelled constructions on OpenSSL EVP.
 *
 * Algorithms are fetched once per process (pthread_once) because fetching
 * is far more expensive than using them; after that a suite is read-only.
 */
#include "crypto.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "codec.h"
#include "hpke.h"

#define LABEL_PREFIX "MLS 1.0 "
#define ED25519_KEY_LEN 32

static struct mls_suite suites[] = {
	{ .id = MLS_SUITE_X25519_AES128GCM_SHA256_ED25519,
	  .name = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
	  .kem_id = HPKE_KEM_X25519_SHA256, .kdf_id = HPKE_KDF_HKDF_SHA256,
	  .aead_id = HPKE_AEAD_AES128GCM, .sig_alg = MLS_SIG_ED25519,
	  .hash_len = 32, .key_len = 16, .nonce_len = 12 },
	{ .id = MLS_SUITE_P256_AES128GCM_SHA256_P256,
	  .name = "MLS_128_DHKEMP256_AES128GCM_SHA256_P256",
	  .kem_id = HPKE_KEM_P256_SHA256, .kdf_id = HPKE_KDF_HKDF_SHA256,
	  .aead_id = HPKE_AEAD_AES128GCM, .sig_alg = MLS_SIG_ECDSA_P256_SHA256,
	  .hash_len = 32, .key_len = 16, .nonce_len = 12 },
	{ .id = MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519,
	  .name = "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519",
	  .kem_id = HPKE_KEM_X25519_SHA256, .kdf_id = HPKE_KDF_HKDF_SHA256,
	  .aead_id = HPKE_AEAD_CHACHA20POLY1305, .sig_alg = MLS_SIG_ED25519,
	  .hash_len = 32, .key_len = 32, .nonce_len = 12 },
};
#define N_SUITES (sizeof(suites) / sizeof(suites[0]))

static EVP_CIPHER *aes128gcm, *chacha20poly1305;
static bool fetched_ok;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_algorithms(void)
{
	EVP_MD *sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_KDF *hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);

	aes128gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	chacha20poly1305 = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	if (!sha256 || !hmac || !hkdf || !aes128gcm || !chacha20poly1305)
		return; /* deliberately kept for the life of the process */
	for (size_t i = 0; i < N_SUITES; i++) {
		suites[i].md = sha256;
		suites[i].hmac = hmac;
		suites[i].hkdf = hkdf;
		suites[i].aead = suites[i].aead_id == HPKE_AEAD_AES128GCM ?
					 aes128gcm : chacha20poly1305;
	}
	fetched_ok = true;
}

const struct mls_suite *mls_suite_get(uint16_t id)
{
	if (pthread_once(&fetch_once, fetch_algorithms) != 0 || !fetched_ok)
		return NULL;
	for (size_t i = 0; i < N_SUITES; i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}

int mls_random(void *out, size_t n)
{
	return RAND_bytes(out, (int)n) == 1 ? 0 : MLS_ERR_CRYPTO;
}

/* ---- per-thread cache ----
 *
 * Preparing an HKDF context (fetching its digest by name) costs as much as
 * the expansion itself, and importing a raw Ed25519 private key costs a
 * scalar multiplication, as much as the signature. Each thread therefore
 * keeps one prepared HKDF context per mode and the last signing key it
 * used (a device signs with one key). The cached private key is wiped when
 * replaced and when the thread exits. */

struct thread_cache {
	const EVP_MD *md;
	EVP_KDF_CTX *hkdf[2]; /* extract, expand */
	const struct mls_suite *sign_suite;
	uint8_t sign_priv[MLS_P256_SCALAR_LEN];
	size_t sign_priv_len;
	EVP_PKEY *sign_key;
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static bool cache_ok;

static void cache_free(void *arg)
{
	struct thread_cache *c = arg;

	EVP_KDF_CTX_free(c->hkdf[0]);
	EVP_KDF_CTX_free(c->hkdf[1]);
	EVP_PKEY_free(c->sign_key);
	OPENSSL_clear_free(c, sizeof(*c));
}

static void cache_init(void)
{
	cache_ok = pthread_key_create(&cache_key, cache_free) == 0;
}

/* This thread's cache, or NULL (callers then work without one). */
static struct thread_cache *thread_cache(void)
{
	struct thread_cache *c;

	if (pthread_once(&cache_once, cache_init) != 0 || !cache_ok)
		return NULL;
	if ((c = pthread_getspecific(cache_key)) != NULL)
		return c;
	if ((c = OPENSSL_zalloc(sizeof(*c))) == NULL)
		return NULL;
	if (pthread_setspecific(cache_key, c) != 0) {
		OPENSSL_free(c);
		return NULL;
	}
	return c;
}

/* An HKDF context with digest and mode set, to be used with key and
 * salt/info parameters only. Owned by the cache unless *owned. */
static EVP_KDF_CTX *hkdf_ctx(const struct mls_suite *s, int mode,
			     bool *owned)
{
	struct thread_cache *c = thread_cache();
	int slot = mode == EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[3];
	EVP_KDF_CTX *ctx;

	*owned = false;
	if (c != NULL && c->md == s->md && c->hkdf[slot] != NULL)
		return c->hkdf[slot];
	if ((ctx = EVP_KDF_CTX_new(s->hkdf)) == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[1] = OSSL_PARAM_construct_utf8_string(
		OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(s->md), 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_KDF_CTX_set_params(ctx, params) != 1) {
		EVP_KDF_CTX_free(ctx);
		return NULL;
	}
	if (c == NULL) {
		*owned = true;
		return ctx;
	}
	if (c->md != s->md) {
		EVP_KDF_CTX_free(c->hkdf[0]);
		EVP_KDF_CTX_free(c->hkdf[1]);
		c->hkdf[0] = c->hkdf[1] = NULL;
		c->md = s->md;
	}
	return c->hkdf[slot] = ctx;
}

/* The EVP_PKEY for a signing key, from the cache when it was the last one
 * used. The caller frees it with EVP_PKEY_free (a reference is taken). */
static int signing_pkey(const struct mls_suite *s, const uint8_t *priv,
			size_t priv_len, EVP_PKEY **out)
{
	struct thread_cache *c = thread_cache();
	int rc;

	if (c != NULL && c->sign_suite == s && c->sign_priv_len == priv_len &&
	    bw_ct_eq(c->sign_priv, priv, priv_len)) {
		*out = c->sign_key;
		return EVP_PKEY_up_ref(*out) == 1 ? 0 : MLS_ERR_CRYPTO;
	}
	if ((rc = mls_sig_pkey_private(s, priv, priv_len, out)) != 0 ||
	    c == NULL || priv_len > sizeof(c->sign_priv) ||
	    EVP_PKEY_up_ref(*out) != 1)
		return rc;
	EVP_PKEY_free(c->sign_key);
	OPENSSL_cleanse(c->sign_priv, sizeof(c->sign_priv));
	c->sign_key = *out;
	c->sign_suite = s;
	memcpy(c->sign_priv, priv, priv_len);
	c->sign_priv_len = priv_len;
	return 0;
}

/* ---- hash, MAC, KDF ---- */

int mls_hash(const struct mls_suite *s, const void *in, size_t n,
	     uint8_t *out)
{
	return EVP_Digest(in, n, out, NULL, s->md, NULL) == 1 ? 0 :
								 MLS_ERR_CRYPTO;
}

int mls_hmac(const struct mls_suite *s, const void *key, size_t key_len,
	     const void *in, size_t n, uint8_t *out)
{
	static const uint8_t empty;
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;
	size_t out_len;
	int rc = MLS_ERR_CRYPTO;

	if ((ctx = EVP_MAC_CTX_new(s->hmac)) == NULL)
		return BW_ERR_NOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(
		OSSL_MAC_PARAM_DIGEST, (char *)EVP_MD_get0_name(s->md), 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key_len ? key : &empty, key_len, params) == 1 &&
	    EVP_MAC_update(ctx, in, n) == 1 &&
	    EVP_MAC_final(ctx, out, &out_len, s->hash_len) == 1)
		rc = 0;
	EVP_MAC_CTX_free(ctx);
	return rc;
}

int mls_hmac_verify(const struct mls_suite *s, const void *key,
		    size_t key_len, const void *in, size_t n,
		    const uint8_t *mac, size_t mac_len)
{
	uint8_t want[MLS_MAX_HASH_LEN];
	int rc;

	if ((rc = mls_hmac(s, key, key_len, in, n, want)) != 0)
		return rc;
	rc = mac_len == s->hash_len && bw_ct_eq(want, mac, mac_len) ?
		     0 : MLS_ERR_MAC;
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

/* One HKDF step through EVP_KDF; mode is EVP_KDF_HKDF_MODE_*. */
static int hkdf(const struct mls_suite *s, int mode, const void *key,
		size_t key_len, const void *salt_or_info, size_t sl,
		uint8_t *out, size_t out_len)
{
	static uint8_t empty;
	OSSL_PARAM params[3];
	EVP_KDF_CTX *ctx;
	bool owned;
	int rc;

	if ((ctx = hkdf_ctx(s, mode, &owned)) == NULL)
		return BW_ERR_NOMEM;
	params[0] = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_KEY, key_len ? (void *)key : &empty, key_len);
	params[1] = OSSL_PARAM_construct_octet_string(
		mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY ? OSSL_KDF_PARAM_SALT :
							 OSSL_KDF_PARAM_INFO,
		sl ? (void *)salt_or_info : &empty, sl);
	params[2] = OSSL_PARAM_construct_end();
	rc = EVP_KDF_derive(ctx, out, out_len, params) == 1 ? 0 : MLS_ERR_CRYPTO;
	if (owned)
		EVP_KDF_CTX_free(ctx);
	return rc;
}

int mls_kdf_extract(const struct mls_suite *s, const void *salt,
		    size_t salt_len, const void *ikm, size_t ikm_len,
		    uint8_t *out)
{
	return hkdf(s, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, ikm, ikm_len, salt,
		    salt_len, out, s->hash_len);
}

int mls_kdf_expand(const struct mls_suite *s, const void *prk,
		   size_t prk_len, const void *info, size_t info_len,
		   uint8_t *out, size_t out_len)
{
	if (out_len > 255 * s->hash_len)
		return MLS_ERR_KDF_LENGTH;
	return hkdf(s, EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, prk_len, info,
		    info_len, out, out_len);
}

/* Encode struct { opaque label<V> = "MLS 1.0 " + label; opaque rest<V>; }
 * preceded by an optional uint16 length (KDFLabel), into w. */
static int write_labelled(struct bw_writer *w, const char *prefix,
			  const char *label, const void *rest, size_t rest_len)
{
	size_t mark = bw_write_vector_begin(w);

	bw_write_bytes(w, prefix, strlen(prefix));
	bw_write_bytes(w, label, strlen(label));
	bw_write_vector_end(w, mark);
	return bw_write_opaque(w, rest, rest_len);
}

int mls_expand_with_label(const struct mls_suite *s, const uint8_t *secret,
			  size_t secret_len, const char *label,
			  const void *context, size_t context_len,
			  uint8_t *out, size_t out_len)
{
	uint8_t stack[256];
	struct bw_writer w;
	int rc;

	if (out_len > UINT16_MAX)
		return MLS_ERR_KDF_LENGTH;
	/* Most KDFLabels are small: encode on the stack, else on the heap. */
	if (context_len + strlen(label) + 32 <= sizeof(stack))
		bw_writer_init_fixed(&w, stack, sizeof(stack));
	else
		bw_writer_init(&w, 0);
	bw_write_u16(&w, (uint16_t)out_len);
	if ((rc = write_labelled(&w, LABEL_PREFIX, label, context,
				 context_len)) == 0)
		rc = mls_kdf_expand(s, secret, secret_len, w.buf, w.len, out,
				    out_len);
	bw_writer_free(&w);
	return rc;
}

int mls_derive_secret(const struct mls_suite *s, const uint8_t *secret,
		      size_t secret_len, const char *label, uint8_t *out)
{
	return mls_expand_with_label(s, secret, secret_len, label, NULL, 0,
				     out, s->hash_len);
}

int mls_derive_tree_secret(const struct mls_suite *s, const uint8_t *secret,
			   size_t secret_len, const char *label,
			   uint32_t generation, uint8_t *out, size_t out_len)
{
	uint8_t ctx[4] = { (uint8_t)(generation >> 24), (uint8_t)(generation >> 16),
			   (uint8_t)(generation >> 8), (uint8_t)generation };

	return mls_expand_with_label(s, secret, secret_len, label, ctx,
				     sizeof(ctx), out, out_len);
}

int mls_ref_hash(const struct mls_suite *s, const char *label,
		 const void *value, size_t n, uint8_t *out)
{
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((rc = write_labelled(&w, "", label, value, n)) == 0)
		rc = mls_hash(s, w.buf, w.len, out);
	bw_writer_free(&w);
	return rc;
}

int mls_make_key_package_ref(const struct mls_suite *s, const void *kp,
			     size_t n, uint8_t *out)
{
	return mls_ref_hash(s, "MLS 1.0 KeyPackage Reference", kp, n, out);
}

int mls_make_proposal_ref(const struct mls_suite *s, const void *auth_content,
			  size_t n, uint8_t *out)
{
	return mls_ref_hash(s, "MLS 1.0 Proposal Reference", auth_content, n,
			    out);
}

/* ---- AEAD ---- */

static const EVP_CIPHER *aead_cipher(uint16_t aead_id)
{
	if (pthread_once(&fetch_once, fetch_algorithms) != 0 || !fetched_ok)
		return NULL;
	switch (aead_id) {
	case HPKE_AEAD_AES128GCM:
		return aes128gcm;
	case HPKE_AEAD_CHACHA20POLY1305:
		return chacha20poly1305;
	}
	return NULL;
}

/* One AEAD operation; enc selects seal (1) or open (0). Lengths are
 * bounded by the callers' protocol limits, well below INT_MAX. */
static int aead_run(const EVP_CIPHER *c, int enc, const uint8_t *key,
		    const uint8_t *nonce, const void *aad, size_t aad_len,
		    const uint8_t *in, size_t in_len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	int n, rc = enc ? MLS_ERR_CRYPTO : MLS_ERR_AEAD;
	size_t body = enc ? in_len : in_len - MLS_AEAD_TAG_LEN;
	uint8_t *tail; /* where the body ends; out may be NULL if it is empty */

	if (c == NULL)
		return MLS_ERR_UNSUPPORTED_SUITE;
	if ((!enc && in_len < MLS_AEAD_TAG_LEN) || in_len > INT32_MAX ||
	    aad_len > INT32_MAX)
		return enc ? MLS_ERR_INVALID_ARG : MLS_ERR_AEAD;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return BW_ERR_NOMEM;
	tail = body > 0 ? out + body : out;
	if (EVP_CipherInit_ex2(ctx, c, key, nonce, enc, NULL) != 1)
		goto out;
	if (aad_len > 0 &&
	    EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	if (body > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)body) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
					MLS_AEAD_TAG_LEN,
					(void *)(in + body)) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, tail, &n) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
				       MLS_AEAD_TAG_LEN, tail) != 1)
		goto out;
	rc = 0;
out:
	if (rc != 0 && !enc && body > 0)
		OPENSSL_cleanse(out, body); /* never release unverified text */
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int mls_aead_seal_id(uint16_t aead_id, const uint8_t *key,
		     const uint8_t *nonce, const void *aad, size_t aad_len,
		     const void *pt, size_t pt_len, uint8_t *ct)
{
	return aead_run(aead_cipher(aead_id), 1, key, nonce, aad, aad_len, pt,
			pt_len, ct);
}

int mls_aead_open_id(uint16_t aead_id, const uint8_t *key,
		     const uint8_t *nonce, const void *aad, size_t aad_len,
		     const void *ct, size_t ct_len, uint8_t *pt)
{
	return aead_run(aead_cipher(aead_id), 0, key, nonce, aad, aad_len, ct,
			ct_len, pt);
}

int mls_aead_seal(const struct mls_suite *s, const uint8_t *key,
		  const uint8_t *nonce, const void *aad, size_t aad_len,
		  const void *pt, size_t pt_len, uint8_t *ct)
{
	return aead_run(s->aead, 1, key, nonce, aad, aad_len, pt, pt_len, ct);
}

int mls_aead_open(const struct mls_suite *s, const uint8_t *key,
		  const uint8_t *nonce, const void *aad, size_t aad_len,
		  const void *ct, size_t ct_len, uint8_t *pt)
{
	return aead_run(s->aead, 0, key, nonce, aad, aad_len, ct, ct_len, pt);
}

/* ---- P-256 keys, for ECDSA and for HPKE's DHKEM(P-256) ---- */

int mls_p256_public_point(const uint8_t *priv, uint8_t *pub)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *pt = g ? EC_POINT_new(g) : NULL;
	BIGNUM *k = BN_bin2bn(priv, MLS_P256_SCALAR_LEN, NULL);
	int rc = MLS_ERR_BAD_KEY;

	if (g == NULL || pt == NULL || k == NULL) {
		rc = BW_ERR_NOMEM;
		goto out;
	}
	BN_set_flags(k, BN_FLG_CONSTTIME);
	if (BN_is_zero(k) || BN_cmp(k, EC_GROUP_get0_order(g)) >= 0)
		goto out;
	if (EC_POINT_mul(g, pt, k, NULL, NULL, NULL) == 1 &&
	    EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, pub,
			       MLS_P256_POINT_LEN, NULL) == MLS_P256_POINT_LEN)
		rc = 0;
out:
	BN_clear_free(k);
	EC_POINT_free(pt);
	EC_GROUP_free(g);
	return rc;
}

/* Domain parameters of P-256, made once: copying them into a new key is
 * four times cheaper than building a key from a group name, which matters
 * when a joiner imports one public key per member. */
static EVP_PKEY *p256_params;
static pthread_once_t p256_params_once = PTHREAD_ONCE_INIT;

static void make_p256_params(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     "prime256v1", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx == NULL || EVP_PKEY_paramgen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_params(ctx, params) != 1 ||
	    EVP_PKEY_paramgen(ctx, &p256_params) != 1)
		p256_params = NULL;
	EVP_PKEY_CTX_free(ctx);
}

/* A public-only P-256 key; the point is checked to be on the curve. */
static int p256_public_pkey(const uint8_t *pub, EVP_PKEY **out)
{
	EVP_PKEY *pk;

	if (pthread_once(&p256_params_once, make_p256_params) != 0 ||
	    p256_params == NULL || (pk = EVP_PKEY_new()) == NULL)
		return MLS_ERR_CRYPTO;
	if (EVP_PKEY_copy_parameters(pk, p256_params) != 1 ||
	    EVP_PKEY_set1_encoded_public_key(pk, pub, MLS_P256_POINT_LEN) != 1) {
		EVP_PKEY_free(pk);
		return MLS_ERR_BAD_KEY;
	}
	*out = pk;
	return 0;
}

/* A P-256 key pair from its public point and private scalar. */
static int p256_keypair_pkey(const uint8_t *pub, const uint8_t *priv,
			     EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	BIGNUM *k = BN_secure_new();
	int rc = BW_ERR_NOMEM;

	if (bld == NULL || ctx == NULL || k == NULL ||
	    BN_bin2bn(priv, MLS_P256_SCALAR_LEN, k) == NULL)
		goto out;
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
					     "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
					      pub, MLS_P256_POINT_LEN) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, k) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	rc = MLS_ERR_BAD_KEY;
	if (EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_KEYPAIR, params) == 1)
		rc = 0;
out:
	OSSL_PARAM_free(params); /* OSSL_PARAM_BLD copies are cleared */
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(k);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int mls_p256_pkey(const uint8_t *pub, const uint8_t *priv, EVP_PKEY **out)
{
	*out = NULL;
	return priv ? p256_keypair_pkey(pub, priv, out) :
		      p256_public_pkey(pub, out);
}

/* ---- signatures ---- */

int mls_sig_pkey_public(const struct mls_suite *s, const uint8_t *pub,
			size_t pub_len, EVP_PKEY **out)
{
	*out = NULL;
	if (s->sig_alg == MLS_SIG_ED25519) {
		if (pub_len != ED25519_KEY_LEN)
			return MLS_ERR_BAD_KEY;
		*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
						   pub_len);
		return *out ? 0 : MLS_ERR_BAD_KEY;
	}
	if (pub_len != MLS_P256_POINT_LEN || pub[0] != 0x04)
		return MLS_ERR_BAD_KEY;
	return mls_p256_pkey(pub, NULL, out);
}

int mls_sig_pkey_private(const struct mls_suite *s, const uint8_t *priv,
			 size_t priv_len, EVP_PKEY **out)
{
	uint8_t pub[MLS_P256_POINT_LEN];
	int rc;

	*out = NULL;
	if (s->sig_alg == MLS_SIG_ED25519) {
		if (priv_len != ED25519_KEY_LEN)
			return MLS_ERR_BAD_KEY;
		*out = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
						    priv, priv_len);
		return *out ? 0 : MLS_ERR_BAD_KEY;
	}
	if (priv_len != MLS_P256_SCALAR_LEN)
		return MLS_ERR_BAD_KEY;
	if ((rc = mls_p256_public_point(priv, pub)) != 0)
		return rc;
	return mls_p256_pkey(pub, priv, out);
}

int mls_sig_public(const struct mls_suite *s, const uint8_t *priv,
		   size_t priv_len, struct bw_bytes *pub)
{
	uint8_t buf[MLS_P256_POINT_LEN];
	size_t len = sizeof(buf);
	EVP_PKEY *pk;
	int rc;

	if (s->sig_alg == MLS_SIG_ECDSA_P256_SHA256) {
		if (priv_len != MLS_P256_SCALAR_LEN)
			return MLS_ERR_BAD_KEY;
		if ((rc = mls_p256_public_point(priv, buf)) != 0)
			return rc;
		return bw_bytes_set(pub, buf, MLS_P256_POINT_LEN);
	}
	if ((rc = mls_sig_pkey_private(s, priv, priv_len, &pk)) != 0)
		return rc;
	rc = EVP_PKEY_get_raw_public_key(pk, buf, &len) == 1 ?
		     bw_bytes_set(pub, buf, len) : MLS_ERR_CRYPTO;
	EVP_PKEY_free(pk);
	return rc;
}

int mls_sig_keygen(const struct mls_suite *s, struct bw_bytes *priv,
		   struct bw_bytes *pub)
{
	uint8_t k[MLS_P256_SCALAR_LEN];
	size_t len = sizeof(k);
	EVP_PKEY *pk = NULL;
	BIGNUM *bn = NULL;
	int rc = MLS_ERR_CRYPTO;

	if (s->sig_alg == MLS_SIG_ED25519)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (pk == NULL)
		return MLS_ERR_CRYPTO;
	if (s->sig_alg == MLS_SIG_ED25519) {
		if (EVP_PKEY_get_raw_private_key(pk, k, &len) != 1)
			goto out;
	} else {
		if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &bn) != 1 ||
		    BN_bn2binpad(bn, k, sizeof(k)) != (int)sizeof(k))
			goto out;
	}
	if ((rc = bw_bytes_set(priv, k, len)) == 0 &&
	    (rc = mls_sig_public(s, k, len, pub)) != 0)
		bw_bytes_clear(priv);
out:
	OPENSSL_cleanse(k, sizeof(k));
	BN_clear_free(bn);
	EVP_PKEY_free(pk);
	return rc;
}

/* SignContent / the signed bytes: {"MLS 1.0 " + label, content}. */
static int sign_content(struct bw_writer *w, const char *label,
			const void *content, size_t content_len)
{
	bw_writer_init(w, 0);
	return write_labelled(w, LABEL_PREFIX, label, content, content_len);
}

static const EVP_MD *sig_md(const struct mls_suite *s)
{
	return s->sig_alg == MLS_SIG_ED25519 ? NULL : s->md;
}

int mls_sign_with_label(const struct mls_suite *s, const uint8_t *priv,
			size_t priv_len, const char *label,
			const void *content, size_t content_len,
			struct bw_bytes *sig)
{
	uint8_t out[MLS_MAX_SIG_LEN];
	size_t out_len = sizeof(out);
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *pk = NULL;
	struct bw_writer w;
	int rc;

	if ((rc = sign_content(&w, label, content, content_len)) != 0 ||
	    (rc = signing_pkey(s, priv, priv_len, &pk)) != 0)
		goto out;
	rc = MLS_ERR_CRYPTO;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit_ex(md, NULL,
				  sig_md(s) ? EVP_MD_get0_name(sig_md(s)) : NULL,
				  NULL, NULL, pk, NULL) != 1 ||
	    EVP_DigestSign(md, out, &out_len, w.buf, w.len) != 1)
		goto out;
	rc = bw_bytes_set(sig, out, out_len);
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	bw_writer_free(&w);
	return rc;
}

int mls_verify_with_label(const struct mls_suite *s, const uint8_t *pub,
			  size_t pub_len, const char *label,
			  const void *content, size_t content_len,
			  const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *pk = NULL;
	struct bw_writer w;
	int rc;

	if ((rc = sign_content(&w, label, content, content_len)) != 0 ||
	    (rc = mls_sig_pkey_public(s, pub, pub_len, &pk)) != 0)
		goto out;
	rc = MLS_ERR_CRYPTO;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(md, NULL,
				    sig_md(s) ? EVP_MD_get0_name(sig_md(s)) : NULL,
				    NULL, NULL, pk, NULL) != 1)
		goto out;
	rc = EVP_DigestVerify(md, sig, sig_len, w.buf, w.len) == 1 ?
		     0 : MLS_ERR_SIGNATURE;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	bw_writer_free(&w);
	return rc;
}

/* ---- HPKE as MLS uses it ---- */

static void hpke_suite_of(const struct mls_suite *s, struct hpke_suite *h)
{
	h->kem_id = s->kem_id;
	h->kdf_id = s->kdf_id;
	h->aead_id = s->aead_id;
}

/* EncryptContext{"MLS 1.0 " + label, context} */
static int encrypt_context(struct bw_writer *w, const char *label,
			   const void *context, size_t context_len)
{
	bw_writer_init(w, 0);
	return write_labelled(w, LABEL_PREFIX, label, context, context_len);
}

int mls_encrypt_with_label(const struct mls_suite *s, const uint8_t *pub,
			   size_t pub_len, const char *label,
			   const void *context, size_t context_len,
			   const void *pt, size_t pt_len,
			   struct bw_bytes *kem_output, struct bw_bytes *ct)
{
	struct hpke_suite hs;
	struct bw_writer w;
	int rc;

	hpke_suite_of(s, &hs);
	if ((rc = encrypt_context(&w, label, context, context_len)) == 0)
		rc = hpke_seal_base(&hs, pub, pub_len, w.buf, w.len, NULL, 0,
				    pt, pt_len, kem_output, ct);
	bw_writer_free(&w);
	return rc;
}

int mls_decrypt_with_label(const struct mls_suite *s, const uint8_t *priv,
			   size_t priv_len, const char *label,
			   const void *context, size_t context_len,
			   const uint8_t *kem_output, size_t kem_output_len,
			   const uint8_t *ct, size_t ct_len,
			   struct bw_bytes *pt)
{
	struct hpke_suite hs;
	struct bw_writer w;
	int rc;

	hpke_suite_of(s, &hs);
	if ((rc = encrypt_context(&w, label, context, context_len)) == 0)
		rc = hpke_open_base(&hs, kem_output, kem_output_len, priv,
				    priv_len, w.buf, w.len, NULL, 0, ct, ct_len,
				    pt);
	bw_writer_free(&w);
	return rc;
}

int mls_kem_derive_keypair(const struct mls_suite *s, const uint8_t *ikm,
			   size_t ikm_len, struct bw_bytes *priv,
			   struct bw_bytes *pub)
{
	return hpke_derive_keypair(s->kem_id, ikm, ikm_len, priv, pub);
}

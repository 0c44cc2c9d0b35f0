/*
 * schedule.c - the SPAKE2+ transcript and key schedule (RFC 9383 §3.3,
 * §3.4): TT, K_main = Hash(TT), the confirmation keys, K_shared and the
 * confirmation MACs, all through EVP.
 */
#include "internal.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include "codec.h"

#define LABEL_CONFIRMATION "ConfirmationKeys"
#define LABEL_SHARED "SharedKey"

void pake_write_field(struct bw_writer *w, const void *p, size_t n)
{
	uint8_t *len = bw_write_reserve(w, 8);

	if (len == NULL)
		return; /* the writer's error sticks */
	for (size_t i = 0; i < 8; i++)
		len[i] = (uint8_t)((uint64_t)n >> (8 * i));
	bw_write_bytes(w, p, n);
}

static int encode_transcript(const struct pake_group *g,
			     const struct pake_transcript *t,
			     struct bw_writer *w)
{
	const struct pake_config *cfg = t->cfg;
	uint8_t m[PAKE_MAX_SHARE_LEN], n[PAKE_MAX_SHARE_LEN];
	int rc;

	if ((rc = pake_point_encode(g, g->m, m)) != 0 ||
	    (rc = pake_point_encode(g, g->n, n)) != 0)
		return rc;
	pake_write_field(w, cfg->context, cfg->context_len);
	pake_write_field(w, cfg->ids.prover, cfg->ids.prover_len);
	pake_write_field(w, cfg->ids.verifier, cfg->ids.verifier_len);
	pake_write_field(w, m, g->point_len);
	pake_write_field(w, n, g->point_len);
	pake_write_field(w, t->share_p, g->point_len);
	pake_write_field(w, t->share_v, g->point_len);
	pake_write_field(w, t->z, g->point_len);
	pake_write_field(w, t->v, g->point_len);
	pake_write_field(w, t->w0, g->scalar_len);
	return w->err;
}

/* HKDF(salt = nil, IKM, info, L): OpenSSL's HKDF without a salt uses the
 * empty key, which HMAC pads to RFC 5869's hash-length zeros. */
static int hkdf(const struct pake_group *g, const uint8_t *ikm,
		const char *info, uint8_t *out, size_t out_len)
{
	OSSL_PARAM params[4];
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx = NULL;
	int rc = PAKE_ERR_CRYPTO;

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(
		OSSL_KDF_PARAM_DIGEST, (char *)g->info->md_name, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_KEY, (void *)ikm, g->hash_len);
	params[2] = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, out_len, params) == 1)
		rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

static int record_trace(const struct pake_group *g,
			const struct pake_transcript *t,
			const struct bw_writer *tt, const uint8_t *k_main,
			const uint8_t *confirm_keys, struct pake_trace *trace)
{
	int rc;

	if (trace == NULL)
		return 0;
	if ((rc = bw_bytes_set(&trace->z, t->z, g->point_len)) != 0 ||
	    (rc = bw_bytes_set(&trace->v, t->v, g->point_len)) != 0 ||
	    (rc = bw_bytes_set(&trace->tt, tt->buf, tt->len)) != 0 ||
	    (rc = bw_bytes_set(&trace->k_main, k_main, g->hash_len)) != 0 ||
	    (rc = bw_bytes_set(&trace->k_confirm_p, confirm_keys,
			       g->confirm_key_len)) != 0)
		return rc;
	return bw_bytes_set(&trace->k_confirm_v,
			    confirm_keys + g->confirm_key_len,
			    g->confirm_key_len);
}

int pake_key_schedule(const struct pake_group *g,
		      const struct pake_transcript *t, struct pake_keys *k,
		      struct pake_trace *trace)
{
	uint8_t k_main[PAKE_MAX_HASH_LEN];
	uint8_t confirm_keys[2 * PAKE_MAX_HASH_LEN];
	struct bw_writer tt;
	int rc;

	bw_writer_init(&tt, 0);
	if ((rc = encode_transcript(g, t, &tt)) != 0)
		goto out;
	rc = PAKE_ERR_CRYPTO;
	if (EVP_Digest(tt.buf, tt.len, k_main, NULL, g->md, NULL) != 1)
		goto out;
	/* K_confirmP || K_confirmV = KDF(nil, K_main, "ConfirmationKeys") */
	if ((rc = hkdf(g, k_main, LABEL_CONFIRMATION, confirm_keys,
		       2 * g->confirm_key_len)) != 0 ||
	    (rc = hkdf(g, k_main, LABEL_SHARED, k->k_shared, g->hash_len)) != 0)
		goto out;
	memcpy(k->k_confirm_p, confirm_keys, g->confirm_key_len);
	memcpy(k->k_confirm_v, confirm_keys + g->confirm_key_len,
	       g->confirm_key_len);
	rc = record_trace(g, t, &tt, k_main, confirm_keys, trace);
out:
	/* §3.4: K_main is used for nothing but these derivations. */
	OPENSSL_cleanse(k_main, sizeof(k_main));
	OPENSSL_cleanse(confirm_keys, sizeof(confirm_keys));
	bw_writer_free(&tt);
	if (rc != 0)
		OPENSSL_cleanse(k, sizeof(*k));
	return rc;
}

int pake_mac(const struct pake_group *g, const uint8_t *key,
	     const uint8_t *data, size_t n, uint8_t *out)
{
	size_t out_len = 0;

	if (EVP_Q_mac(NULL, g->info->mac_name, NULL, g->info->mac_subalg, NULL,
		      key, g->confirm_key_len, data, n, out, g->mac_len,
		      &out_len) == NULL ||
	    out_len != g->mac_len)
		return PAKE_ERR_CRYPTO;
	return 0;
}

int pake_mac_verify(const struct pake_group *g, const uint8_t *key,
		    const uint8_t *data, size_t n, const uint8_t *mac,
		    size_t mac_len)
{
	uint8_t want[PAKE_MAX_HASH_LEN];
	int rc;

	if (mac == NULL || mac_len != g->mac_len)
		return PAKE_ERR_CONFIRM_LENGTH;
	if ((rc = pake_mac(g, key, data, n, want)) != 0)
		return rc;
	rc = bw_ct_eq(want, mac, mac_len) ? 0 : PAKE_ERR_CONFIRM;
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

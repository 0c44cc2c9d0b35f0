/*
 * hpke.c - RFC 9180 HPKE: DHKEM(X25519 | P-256, HKDF-SHA256), HKDF-SHA256,
 * AES-128-GCM | ChaCha20-Poly1305 | export-only, in all four modes.
 *
 * Only the protocol lives here: ECDH and HKDF are OpenSSL's through EVP,
 * the AEADs OpenSSL's through crypto.h. Intermediate secrets are held in
 * fixed-size locals wiped before every return, or in codec writers, which
 * wipe themselves when freed.
 */
#include "hpke.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "codec.h"
#include "crypto.h"

#define VERSION_LABEL "HPKE-v1"
#define NH HPKE_SECRET_LEN /* HKDF-SHA256 */
#define NDH 32		   /* X25519 and P-256 */
#define NSK 32		   /* X25519 and P-256 */
#define NN 12		   /* both AEADs */
#define NT 16		   /* both AEADs */
#define MAX_NK 32
#define X25519_LEN 32
#define SUITE_ID_MAX 10 /* "HPKE" + three ids; "KEM" + kem_id is 5 */
#define DKP_MAX_COUNTER 255
/* LabeledExtract/Expand inputs up to this size are built on the stack. */
#define LABELED_STACK 256

struct suite_id {
	uint8_t b[SUITE_ID_MAX];
	size_t len;
};

struct hpke_ctx {
	struct hpke_suite suite;
	bool sender;
	size_t key_len; /* 0: export-only */
	uint8_t key[MAX_NK];
	uint8_t base_nonce[NN];
	uint8_t exporter_secret[NH];
	uint64_t seq;
};

/* ---- algorithm parameters ---- */

size_t hpke_kem_pk_len(uint16_t kem_id)
{
	switch (kem_id) {
	case HPKE_KEM_X25519_SHA256:
		return X25519_LEN;
	case HPKE_KEM_P256_SHA256:
		return MLS_P256_POINT_LEN;
	}
	return 0;
}

/* DHKEM's enc is the ephemeral public key (§4.1). */
size_t hpke_kem_enc_len(uint16_t kem_id)
{
	return hpke_kem_pk_len(kem_id);
}

size_t hpke_kem_sk_len(uint16_t kem_id)
{
	return hpke_kem_pk_len(kem_id) ? NSK : 0;
}

size_t hpke_aead_tag_len(uint16_t aead_id)
{
	return aead_id == HPKE_AEAD_AES128GCM ||
			       aead_id == HPKE_AEAD_CHACHA20POLY1305 ?
		       NT : 0;
}

static size_t aead_key_len(uint16_t aead_id)
{
	switch (aead_id) {
	case HPKE_AEAD_AES128GCM:
		return 16;
	case HPKE_AEAD_CHACHA20POLY1305:
		return 32;
	}
	return 0;
}

static int check_suite(const struct hpke_suite *s)
{
	if (hpke_kem_pk_len(s->kem_id) == 0 ||
	    s->kdf_id != HPKE_KDF_HKDF_SHA256 ||
	    (aead_key_len(s->aead_id) == 0 &&
	     s->aead_id != HPKE_AEAD_EXPORT_ONLY))
		return MLS_ERR_UNSUPPORTED_SUITE;
	return 0;
}

/* A variable-length input: present when its length says so, and bounded. */
static bool input_ok(const void *p, size_t len)
{
	return len <= HPKE_MAX_INPUT_LEN && (p != NULL || len == 0);
}

/* ---- LabeledExtract / LabeledExpand (§4) ---- */

static EVP_KDF *hkdf_alg;
static pthread_once_t hkdf_once = PTHREAD_ONCE_INIT;

static void fetch_hkdf(void)
{
	hkdf_alg = EVP_KDF_fetch(NULL, "HKDF", NULL); /* kept for the process */
}

/* One HKDF-SHA256 step; mode is EVP_KDF_HKDF_MODE_EXTRACT_ONLY (key = ikm,
 * aux = salt) or EVP_KDF_HKDF_MODE_EXPAND_ONLY (key = prk, aux = info). */
static int hkdf(int mode, const uint8_t *key, size_t key_len,
		const uint8_t *aux, size_t aux_len, uint8_t *out, size_t out_len)
{
	static const uint8_t empty[1];
	OSSL_PARAM params[5], *p = params;
	EVP_KDF_CTX *ctx;
	int rc = MLS_ERR_CRYPTO;

	if (pthread_once(&hkdf_once, fetch_hkdf) != 0 || hkdf_alg == NULL)
		return MLS_ERR_CRYPTO;
	if ((ctx = EVP_KDF_CTX_new(hkdf_alg)) == NULL)
		return BW_ERR_NOMEM;
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_KEY, (void *)(key_len ? key : empty), key_len);
	*p++ = OSSL_PARAM_construct_octet_string(
		mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY ? OSSL_KDF_PARAM_SALT :
							 OSSL_KDF_PARAM_INFO,
		(void *)(aux_len ? aux : empty), aux_len);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, out_len, params) == 1)
		rc = 0;
	EVP_KDF_CTX_free(ctx);
	return rc;
}

/* A writer for a labelled input of about `need` bytes: on the stack when it
 * fits, else on the heap. Either way bw_writer_free wipes it. */
static void labeled_writer(struct bw_writer *w, uint8_t *stack, size_t need)
{
	if (need <= LABELED_STACK)
		bw_writer_init_fixed(w, stack, LABELED_STACK);
	else
		bw_writer_init(w, 0);
}

static void write_label(struct bw_writer *w, const struct suite_id *sid,
			const char *label)
{
	bw_write_bytes(w, VERSION_LABEL, strlen(VERSION_LABEL));
	bw_write_bytes(w, sid->b, sid->len);
	bw_write_bytes(w, label, strlen(label));
}

/* out[NH] = Extract(salt, "HPKE-v1" || suite_id || label || ikm). */
static int labeled_extract(const struct suite_id *sid, const uint8_t *salt,
			   size_t salt_len, const char *label,
			   const uint8_t *ikm, size_t ikm_len, uint8_t *out)
{
	uint8_t stack[LABELED_STACK];
	struct bw_writer w;
	int rc;

	labeled_writer(&w, stack,
		       strlen(VERSION_LABEL) + sid->len + strlen(label) + ikm_len);
	write_label(&w, sid, label);
	if ((rc = bw_write_bytes(&w, ikm, ikm_len)) == 0)
		rc = hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, w.buf, w.len, salt,
			  salt_len, out, NH);
	bw_writer_free(&w);
	return rc;
}

/* out[L] = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label ||
 * info, L); prk is NH bytes. */
static int labeled_expand(const struct suite_id *sid, const uint8_t *prk,
			  const char *label, const uint8_t *info,
			  size_t info_len, uint8_t *out, size_t L)
{
	uint8_t stack[LABELED_STACK];
	struct bw_writer w;
	int rc;

	if (L == 0 || L > 255 * NH) /* HKDF's limit; also keeps L in 16 bits */
		return MLS_ERR_KDF_LENGTH;
	labeled_writer(&w, stack, 2 + strlen(VERSION_LABEL) + sid->len +
					  strlen(label) + info_len);
	bw_write_u16(&w, (uint16_t)L);
	write_label(&w, sid, label);
	if ((rc = bw_write_bytes(&w, info, info_len)) == 0)
		rc = hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, NH, w.buf, w.len,
			  out, L);
	bw_writer_free(&w);
	return rc;
}

/* suite_id = "KEM" || I2OSP(kem_id, 2) (§4.1). */
static void kem_suite_id(uint16_t kem_id, struct suite_id *sid)
{
	memcpy(sid->b, "KEM", 3);
	sid->b[3] = (uint8_t)(kem_id >> 8);
	sid->b[4] = (uint8_t)kem_id;
	sid->len = 5;
}

/* suite_id = "HPKE" || kem_id || kdf_id || aead_id (§5.1). */
static void hpke_suite_id(const struct hpke_suite *s, struct suite_id *sid)
{
	const uint16_t ids[3] = { s->kem_id, s->kdf_id, s->aead_id };

	memcpy(sid->b, "HPKE", 4);
	for (size_t i = 0; i < 3; i++) {
		sid->b[4 + 2 * i] = (uint8_t)(ids[i] >> 8);
		sid->b[5 + 2 * i] = (uint8_t)ids[i];
	}
	sid->len = 10;
}

/* ---- DHKEM keys (§4.1, §7.1) ---- */

/* An X25519 key from its 32 raw bytes, with its public key. OpenSSL clamps
 * the scalar (RFC 7748 §5) as DeserializePrivateKey must (§7.1.2). */
static int x25519_private(const uint8_t *sk, EVP_PKEY **pkey, uint8_t *pk)
{
	size_t pk_len = X25519_LEN;
	EVP_PKEY *k;

	if ((k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk,
					      X25519_LEN)) == NULL)
		return MLS_ERR_CRYPTO;
	if (EVP_PKEY_get_raw_public_key(k, pk, &pk_len) != 1) {
		EVP_PKEY_free(k);
		return MLS_ERR_CRYPTO;
	}
	*pkey = k;
	return 0;
}

/* DeserializePrivateKey: *pkey for a serialised private key, and pk(sk)
 * serialised into pk (Npk bytes). */
static int private_key(uint16_t kem_id, const uint8_t *sk, size_t sk_len,
		       EVP_PKEY **pkey, uint8_t *pk)
{
	int rc;

	*pkey = NULL;
	if (sk == NULL || sk_len != hpke_kem_sk_len(kem_id))
		return MLS_ERR_BAD_KEY;
	if (kem_id == HPKE_KEM_X25519_SHA256)
		return x25519_private(sk, pkey, pk);
	/* P-256: a scalar outside [1, order-1] is refused (§7.1.2). */
	if ((rc = mls_p256_public_point(sk, pk)) != 0)
		return rc;
	return mls_p256_pkey(pk, sk, pkey);
}

/* DeserializePublicKey with the validation of §7.1.4. */
static int public_key(uint16_t kem_id, const uint8_t *pk, size_t pk_len,
		      EVP_PKEY **pkey)
{
	EVP_PKEY_CTX *check = NULL;
	int rc;

	*pkey = NULL;
	if (pk == NULL || pk_len != hpke_kem_pk_len(kem_id))
		return MLS_ERR_BAD_KEY;
	if (kem_id == HPKE_KEM_X25519_SHA256) {
		/* Any 32 bytes are an X25519 key; a low-order one shows as an
		 * all-zero shared secret, which dh() refuses. */
		*pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pk,
						    pk_len);
		return *pkey ? 0 : MLS_ERR_CRYPTO;
	}
	/* P-256: only the uncompressed form has Npk bytes, and the point at
	 * infinity has no such encoding. Import refuses coordinates not below
	 * p; the partial check (SP 800-56A 5.6.2.3.4) puts the point on the
	 * curve, which for a cofactor-1 curve means in the group. */
	if (pk[0] != 0x04)
		return MLS_ERR_BAD_KEY;
	if ((rc = mls_p256_pkey(pk, NULL, pkey)) != 0)
		return rc;
	if ((check = EVP_PKEY_CTX_new_from_pkey(NULL, *pkey, NULL)) == NULL)
		rc = BW_ERR_NOMEM;
	else if (EVP_PKEY_public_check_quick(check) != 1)
		rc = MLS_ERR_BAD_KEY;
	EVP_PKEY_CTX_free(check);
	if (rc != 0) {
		EVP_PKEY_free(*pkey);
		*pkey = NULL;
	}
	return rc;
}

/* out[NDH] = DH(sk, pk), refusing the outputs §7.1.4 forbids. */
static int dh(uint16_t kem_id, EVP_PKEY *sk, EVP_PKEY *pk, uint8_t *out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, sk, NULL);
	size_t len = NDH;
	uint8_t any = 0;
	int rc = MLS_ERR_CRYPTO;

	if (ctx == NULL)
		return BW_ERR_NOMEM;
	/* pk was validated by public_key(); OpenSSL's own peer check would
	 * repeat it in full (a scalar multiplication by the order). */
	if (EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer_ex(ctx, pk, 0) != 1)
		goto out;
	/* OpenSSL fails an all-zero X25519 result and a P-256 result at
	 * infinity; either is the peer key's fault. */
	rc = MLS_ERR_BAD_KEY;
	if (EVP_PKEY_derive(ctx, out, &len) != 1 || len != NDH)
		goto out;
	if (kem_id == HPKE_KEM_X25519_SHA256) {
		/* §7.1.4 requires the all-zero check of us, whatever the
		 * library does; constant time in the secret. */
		for (size_t i = 0; i < NDH; i++)
			any |= out[i];
		if (any == 0)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		OPENSSL_cleanse(out, NDH);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/*
 * DeriveKeyPair(ikm) (§7.1.3): *pkey and, when not NULL, sk (Nsk bytes)
 * and pk (Npk bytes). pk(sk) is computed once, which is why the serialised
 * and EVP forms come out together.
 */
static int derive_private(uint16_t kem_id, const uint8_t *ikm, size_t ikm_len,
			  EVP_PKEY **pkey, uint8_t *sk, uint8_t *pk)
{
	uint8_t prk[NH], cand[NSK];
	struct suite_id sid;
	int rc;

	*pkey = NULL;
	if (!input_ok(ikm, ikm_len))
		return MLS_ERR_INVALID_ARG;
	kem_suite_id(kem_id, &sid);
	if ((rc = labeled_extract(&sid, NULL, 0, "dkp_prk", ikm, ikm_len,
				  prk)) != 0)
		goto out;
	if (kem_id == HPKE_KEM_X25519_SHA256) {
		if ((rc = labeled_expand(&sid, prk, "sk", NULL, 0, cand,
					 NSK)) == 0)
			rc = x25519_private(cand, pkey, pk);
	} else {
		/* Rejection sampling; the bitmask is 0xff for P-256, so the
		 * candidate is used as it comes. */
		rc = MLS_ERR_HPKE_DERIVE;
		for (unsigned ctr = 0; ctr <= DKP_MAX_COUNTER; ctr++) {
			uint8_t c = (uint8_t)ctr;

			if ((rc = labeled_expand(&sid, prk, "candidate", &c, 1,
						 cand, NSK)) != 0)
				goto out;
			rc = mls_p256_public_point(cand, pk);
			if (rc != MLS_ERR_BAD_KEY) /* 0 < sk < order, or failure */
				break;
			rc = MLS_ERR_HPKE_DERIVE;
		}
		if (rc == 0)
			rc = mls_p256_pkey(pk, cand, pkey);
	}
	if (rc == 0 && sk != NULL)
		memcpy(sk, cand, NSK);
out:
	OPENSSL_cleanse(prk, sizeof(prk));
	OPENSSL_cleanse(cand, sizeof(cand));
	return rc;
}

/* GenerateKeyPair() as DeriveKeyPair(random(Nsk)), as §4 allows: one code
 * path, proven by the vectors. */
static int generate_private(uint16_t kem_id, EVP_PKEY **pkey, uint8_t *sk,
			    uint8_t *pk)
{
	uint8_t ikm[NSK];
	int rc;

	*pkey = NULL;
	if ((rc = mls_random(ikm, sizeof(ikm))) == 0)
		rc = derive_private(kem_id, ikm, sizeof(ikm), pkey, sk, pk);
	OPENSSL_cleanse(ikm, sizeof(ikm));
	return rc;
}

/* Hand a key pair over to the caller's byte strings, all or nothing. */
static int keypair_out(const uint8_t *sk, const uint8_t *pk, size_t pk_len,
		       struct bw_bytes *sk_out, struct bw_bytes *pk_out)
{
	struct bw_bytes s = { 0 }, p = { 0 };
	int rc;

	if ((rc = bw_bytes_set(&s, sk, NSK)) != 0 ||
	    (rc = bw_bytes_set(&p, pk, pk_len)) != 0)
		goto out;
	bw_bytes_move(sk_out, &s);
	bw_bytes_move(pk_out, &p);
out:
	bw_bytes_clear(&s);
	bw_bytes_clear(&p);
	return rc;
}

int hpke_derive_keypair(uint16_t kem_id, const uint8_t *ikm, size_t ikm_len,
			struct bw_bytes *sk, struct bw_bytes *pk)
{
	uint8_t skb[NSK], pkb[HPKE_MAX_PK_LEN];
	EVP_PKEY *k = NULL;
	int rc;

	if (hpke_kem_pk_len(kem_id) == 0)
		return MLS_ERR_UNSUPPORTED_SUITE;
	if ((rc = derive_private(kem_id, ikm, ikm_len, &k, skb, pkb)) == 0)
		rc = keypair_out(skb, pkb, hpke_kem_pk_len(kem_id), sk, pk);
	EVP_PKEY_free(k);
	OPENSSL_cleanse(skb, sizeof(skb));
	return rc;
}

int hpke_generate_keypair(uint16_t kem_id, struct bw_bytes *sk,
			  struct bw_bytes *pk)
{
	uint8_t skb[NSK], pkb[HPKE_MAX_PK_LEN];
	EVP_PKEY *k = NULL;
	int rc;

	if (hpke_kem_pk_len(kem_id) == 0)
		return MLS_ERR_UNSUPPORTED_SUITE;
	if ((rc = generate_private(kem_id, &k, skb, pkb)) == 0)
		rc = keypair_out(skb, pkb, hpke_kem_pk_len(kem_id), sk, pk);
	EVP_PKEY_free(k);
	OPENSSL_cleanse(skb, sizeof(skb));
	return rc;
}

int hpke_public_key(uint16_t kem_id, const uint8_t *sk, size_t sk_len,
		    struct bw_bytes *pk)
{
	uint8_t pkb[HPKE_MAX_PK_LEN];
	EVP_PKEY *k = NULL;
	int rc;

	if (hpke_kem_pk_len(kem_id) == 0)
		return MLS_ERR_UNSUPPORTED_SUITE;
	if ((rc = private_key(kem_id, sk, sk_len, &k, pkb)) == 0)
		rc = bw_bytes_set(pk, pkb, hpke_kem_pk_len(kem_id));
	EVP_PKEY_free(k);
	return rc;
}

/* ---- Encap / Decap (§4.1) ---- */

/* shared_secret = ExtractAndExpand(dh, kem_context). */
static int extract_and_expand(uint16_t kem_id, const uint8_t *dhv,
			      size_t dh_len, const uint8_t *kem_context,
			      size_t kem_context_len, uint8_t *shared_secret)
{
	uint8_t eae_prk[NH];
	struct suite_id sid;
	int rc;

	kem_suite_id(kem_id, &sid);
	if ((rc = labeled_extract(&sid, NULL, 0, "eae_prk", dhv, dh_len,
				  eae_prk)) == 0)
		rc = labeled_expand(&sid, eae_prk, "shared_secret", kem_context,
				    kem_context_len, shared_secret,
				    HPKE_SECRET_LEN);
	OPENSSL_cleanse(eae_prk, sizeof(eae_prk));
	return rc;
}

int hpke_encap(uint16_t kem_id, const uint8_t *pkR, size_t pkR_len,
	       const uint8_t *skS, size_t skS_len, const uint8_t *ikmE,
	       size_t ikmE_len, uint8_t *shared_secret, struct bw_bytes *enc)
{
	uint8_t dhv[2 * NDH], kem_context[3 * HPKE_MAX_PK_LEN];
	EVP_PKEY *kR = NULL, *kE = NULL, *kS = NULL;
	size_t npk = hpke_kem_pk_len(kem_id), dh_len = NDH;
	uint8_t *pkEm = kem_context, *pkSm = kem_context + 2 * npk;
	int rc;

	if (npk == 0)
		return MLS_ERR_UNSUPPORTED_SUITE;
	if ((rc = public_key(kem_id, pkR, pkR_len, &kR)) != 0)
		goto out;
	rc = ikmE ? derive_private(kem_id, ikmE, ikmE_len, &kE, NULL, pkEm) :
		    generate_private(kem_id, &kE, NULL, pkEm);
	if (rc != 0 || (rc = dh(kem_id, kE, kR, dhv)) != 0)
		goto out;
	if (skS != NULL) { /* AuthEncap: dh = DH(skE, pkR) || DH(skS, pkR) */
		if ((rc = private_key(kem_id, skS, skS_len, &kS, pkSm)) != 0 ||
		    (rc = dh(kem_id, kS, kR, dhv + NDH)) != 0)
			goto out;
		dh_len += NDH;
	}
	/* kem_context = enc || pkRm [|| pkSm] */
	memcpy(kem_context + npk, pkR, npk);
	if ((rc = extract_and_expand(kem_id, dhv, dh_len, kem_context,
				     skS ? 3 * npk : 2 * npk,
				     shared_secret)) != 0 ||
	    (rc = bw_bytes_set(enc, pkEm, npk)) != 0)
		OPENSSL_cleanse(shared_secret, HPKE_SECRET_LEN);
out:
	OPENSSL_cleanse(dhv, sizeof(dhv));
	EVP_PKEY_free(kR);
	EVP_PKEY_free(kE);
	EVP_PKEY_free(kS);
	return rc;
}

int hpke_decap(uint16_t kem_id, const uint8_t *enc, size_t enc_len,
	       const uint8_t *skR, size_t skR_len, const uint8_t *pkS,
	       size_t pkS_len, uint8_t *shared_secret)
{
	uint8_t dhv[2 * NDH], kem_context[3 * HPKE_MAX_PK_LEN];
	EVP_PKEY *kE = NULL, *kR = NULL, *kS = NULL;
	size_t npk = hpke_kem_pk_len(kem_id), dh_len = NDH;
	int rc;

	if (npk == 0)
		return MLS_ERR_UNSUPPORTED_SUITE;
	if ((rc = public_key(kem_id, enc, enc_len, &kE)) != 0 ||
	    (rc = private_key(kem_id, skR, skR_len, &kR,
			      kem_context + npk)) != 0 ||
	    (rc = dh(kem_id, kR, kE, dhv)) != 0)
		goto out;
	if (pkS != NULL) { /* AuthDecap: dh = DH(skR, pkE) || DH(skR, pkS) */
		if ((rc = public_key(kem_id, pkS, pkS_len, &kS)) != 0 ||
		    (rc = dh(kem_id, kR, kS, dhv + NDH)) != 0)
			goto out;
		dh_len += NDH;
		memcpy(kem_context + 2 * npk, pkS, npk);
	}
	/* kem_context = enc || pkRm [|| pkSm] */
	memcpy(kem_context, enc, npk);
	rc = extract_and_expand(kem_id, dhv, dh_len, kem_context,
				pkS ? 3 * npk : 2 * npk, shared_secret);
out:
	OPENSSL_cleanse(dhv, sizeof(dhv));
	EVP_PKEY_free(kE);
	EVP_PKEY_free(kR);
	EVP_PKEY_free(kS);
	return rc;
}

/* ---- key schedule (§5.1) ---- */

/* VerifyPSKInputs (§5.1): psk and psk_id come together, exactly in the
 * PSK modes. */
static int verify_psk_inputs(enum hpke_mode mode, size_t psk_len,
			     size_t psk_id_len)
{
	bool got_psk = psk_len > 0, got_psk_id = psk_id_len > 0;
	bool wants_psk = mode == HPKE_MODE_PSK || mode == HPKE_MODE_AUTH_PSK;

	return got_psk == got_psk_id && got_psk == wants_psk ?
		       0 : MLS_ERR_HPKE_MODE;
}

/* The mode is known, its PSK inputs consistent, and a sender key (skS or
 * pkS) given exactly in the auth modes. */
static int check_mode(enum hpke_mode mode, size_t psk_len, size_t psk_id_len,
		      bool got_sender_key)
{
	bool wants_key = mode == HPKE_MODE_AUTH || mode == HPKE_MODE_AUTH_PSK;

	if ((unsigned)mode > HPKE_MODE_AUTH_PSK ||
	    got_sender_key != wants_key)
		return MLS_ERR_HPKE_MODE;
	return verify_psk_inputs(mode, psk_len, psk_id_len);
}

/* key_schedule_context = mode || psk_id_hash || info_hash, and
 * secret = LabeledExtract(shared_secret, "secret", psk). */
static int schedule_values(const struct suite_id *sid, enum hpke_mode mode,
			   const uint8_t *shared_secret, const uint8_t *info,
			   size_t info_len, const uint8_t *psk, size_t psk_len,
			   const uint8_t *psk_id, size_t psk_id_len,
			   uint8_t *context, uint8_t *secret)
{
	int rc;

	context[0] = (uint8_t)mode;
	if ((rc = labeled_extract(sid, NULL, 0, "psk_id_hash", psk_id,
				  psk_id_len, context + 1)) != 0 ||
	    (rc = labeled_extract(sid, NULL, 0, "info_hash", info, info_len,
				  context + 1 + NH)) != 0)
		return rc;
	return labeled_extract(sid, shared_secret, HPKE_SECRET_LEN, "secret",
			       psk, psk_len, secret);
}

static int key_schedule(const struct hpke_suite *suite, enum hpke_mode mode,
			bool sender, const uint8_t *shared_secret,
			const uint8_t *info, size_t info_len,
			const uint8_t *psk, size_t psk_len,
			const uint8_t *psk_id, size_t psk_id_len,
			struct hpke_ctx **out)
{
	uint8_t context[1 + 2 * NH], secret[NH];
	struct hpke_ctx *ctx;
	struct suite_id sid;
	int rc;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return BW_ERR_NOMEM;
	ctx->suite = *suite;
	ctx->sender = sender;
	ctx->key_len = aead_key_len(suite->aead_id);
	hpke_suite_id(suite, &sid);
	if ((rc = schedule_values(&sid, mode, shared_secret, info, info_len,
				  psk, psk_len, psk_id, psk_id_len, context,
				  secret)) != 0)
		goto out;
	/* An export-only context has no key or nonce to derive (§5.3). */
	if (ctx->key_len > 0 &&
	    ((rc = labeled_expand(&sid, secret, "key", context,
				  sizeof(context), ctx->key,
				  ctx->key_len)) != 0 ||
	     (rc = labeled_expand(&sid, secret, "base_nonce", context,
				  sizeof(context), ctx->base_nonce, NN)) != 0))
		goto out;
	rc = labeled_expand(&sid, secret, "exp", context, sizeof(context),
			    ctx->exporter_secret, NH);
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	if (rc != 0)
		hpke_ctx_free(ctx);
	else
		*out = ctx;
	return rc;
}

static int check_setup(const struct hpke_suite *suite, enum hpke_mode mode,
		       const uint8_t *info, size_t info_len,
		       const uint8_t *psk, size_t psk_len,
		       const uint8_t *psk_id, size_t psk_id_len,
		       bool got_sender_key)
{
	int rc;

	if ((rc = check_suite(suite)) != 0)
		return rc;
	if (!input_ok(info, info_len) || !input_ok(psk, psk_len) ||
	    !input_ok(psk_id, psk_id_len))
		return MLS_ERR_INVALID_ARG;
	return check_mode(mode, psk_len, psk_id_len, got_sender_key);
}

int hpke_setup_s(const struct hpke_suite *suite, enum hpke_mode mode,
		 const uint8_t *pkR, size_t pkR_len, const uint8_t *info,
		 size_t info_len, const uint8_t *psk, size_t psk_len,
		 const uint8_t *psk_id, size_t psk_id_len, const uint8_t *skS,
		 size_t skS_len, const uint8_t *ikmE, size_t ikmE_len,
		 struct bw_bytes *enc, struct hpke_ctx **ctx)
{
	uint8_t shared_secret[HPKE_SECRET_LEN];
	struct bw_bytes e = { 0 };
	struct hpke_ctx *c = NULL;
	int rc;

	*ctx = NULL;
	if ((rc = check_setup(suite, mode, info, info_len, psk, psk_len,
			      psk_id, psk_id_len, skS != NULL)) != 0)
		return rc;
	if ((rc = hpke_encap(suite->kem_id, pkR, pkR_len, skS, skS_len, ikmE,
			     ikmE_len, shared_secret, &e)) != 0 ||
	    (rc = key_schedule(suite, mode, true, shared_secret, info,
			       info_len, psk, psk_len, psk_id, psk_id_len,
			       &c)) != 0)
		goto out;
	bw_bytes_move(enc, &e);
	*ctx = c;
out:
	OPENSSL_cleanse(shared_secret, sizeof(shared_secret));
	bw_bytes_clear(&e);
	return rc;
}

int hpke_setup_r(const struct hpke_suite *suite, enum hpke_mode mode,
		 const uint8_t *enc, size_t enc_len, const uint8_t *skR,
		 size_t skR_len, const uint8_t *info, size_t info_len,
		 const uint8_t *psk, size_t psk_len, const uint8_t *psk_id,
		 size_t psk_id_len, const uint8_t *pkS, size_t pkS_len,
		 struct hpke_ctx **ctx)
{
	uint8_t shared_secret[HPKE_SECRET_LEN];
	int rc;

	*ctx = NULL;
	if ((rc = check_setup(suite, mode, info, info_len, psk, psk_len,
			      psk_id, psk_id_len, pkS != NULL)) != 0)
		return rc;
	if ((rc = hpke_decap(suite->kem_id, enc, enc_len, skR, skR_len, pkS,
			     pkS_len, shared_secret)) == 0)
		rc = key_schedule(suite, mode, false, shared_secret, info,
				  info_len, psk, psk_len, psk_id, psk_id_len,
				  ctx);
	OPENSSL_cleanse(shared_secret, sizeof(shared_secret));
	return rc;
}

/* ---- encryption context (§5.2, §5.3) ---- */

/* base_nonce XOR I2OSP(seq, Nn); the sequence number is 64 bits. */
static void compute_nonce(const struct hpke_ctx *ctx, uint8_t *nonce)
{
	memcpy(nonce, ctx->base_nonce, NN);
	for (size_t i = 0; i < 8; i++)
		nonce[NN - 1 - i] ^= (uint8_t)(ctx->seq >> (8 * i));
}

/* The checks Seal and Open share: an AEAD, the right role, a sequence
 * number left. The last 64-bit value is never used, so IncrementSeq (§5.2)
 * cannot wrap. */
static int check_context(const struct hpke_ctx *ctx, bool sender)
{
	if (ctx->key_len == 0)
		return MLS_ERR_HPKE_EXPORT_ONLY;
	if (ctx->sender != sender)
		return MLS_ERR_INVALID_ARG;
	return ctx->seq == UINT64_MAX ? MLS_ERR_HPKE_SEQ_OVERFLOW : 0;
}

int hpke_seal(struct hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
	      const uint8_t *pt, size_t pt_len, uint8_t *ct)
{
	uint8_t nonce[NN];
	int rc;

	if ((rc = check_context(ctx, true)) != 0)
		return rc;
	compute_nonce(ctx, nonce);
	if ((rc = mls_aead_seal_id(ctx->suite.aead_id, ctx->key, nonce, aad,
				   aad_len, pt, pt_len, ct)) == 0)
		ctx->seq++;
	OPENSSL_cleanse(nonce, sizeof(nonce));
	return rc;
}

int hpke_open(struct hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
	      const uint8_t *ct, size_t ct_len, uint8_t *pt)
{
	uint8_t nonce[NN];
	int rc;

	if ((rc = check_context(ctx, false)) != 0)
		return rc;
	compute_nonce(ctx, nonce);
	if ((rc = mls_aead_open_id(ctx->suite.aead_id, ctx->key, nonce, aad,
				   aad_len, ct, ct_len, pt)) == 0)
		ctx->seq++;
	OPENSSL_cleanse(nonce, sizeof(nonce));
	return rc;
}

int hpke_export(const struct hpke_ctx *ctx, const uint8_t *exporter_context,
		size_t exporter_context_len, uint8_t *out, size_t out_len)
{
	struct suite_id sid;

	if (!input_ok(exporter_context, exporter_context_len) || out_len == 0)
		return MLS_ERR_INVALID_ARG;
	hpke_suite_id(&ctx->suite, &sid);
	return labeled_expand(&sid, ctx->exporter_secret, "sec",
			      exporter_context, exporter_context_len, out,
			      out_len);
}

void hpke_ctx_free(struct hpke_ctx *ctx)
{
	if (ctx != NULL)
		OPENSSL_clear_free(ctx, sizeof(*ctx));
}

/* ---- single-shot base mode (§6.1) ---- */

int hpke_seal_base(const struct hpke_suite *suite, const uint8_t *pkR,
		   size_t pkR_len, const uint8_t *info, size_t info_len,
		   const uint8_t *aad, size_t aad_len, const uint8_t *pt,
		   size_t pt_len, struct bw_bytes *enc, struct bw_bytes *ct)
{
	struct bw_bytes e = { 0 }, c = { 0 };
	struct hpke_ctx *ctx = NULL;
	int rc;

	if ((rc = hpke_setup_s(suite, HPKE_MODE_BASE, pkR, pkR_len, info,
			       info_len, NULL, 0, NULL, 0, NULL, 0, NULL, 0,
			       &e, &ctx)) != 0 ||
	    (rc = bw_bytes_alloc(&c, pt_len + hpke_aead_tag_len(
							suite->aead_id))) != 0 ||
	    (rc = hpke_seal(ctx, aad, aad_len, pt, pt_len, c.p)) != 0)
		goto out;
	bw_bytes_move(enc, &e);
	bw_bytes_move(ct, &c);
out:
	hpke_ctx_free(ctx);
	bw_bytes_clear(&e);
	bw_bytes_clear(&c);
	return rc;
}

int hpke_open_base(const struct hpke_suite *suite, const uint8_t *enc,
		   size_t enc_len, const uint8_t *skR, size_t skR_len,
		   const uint8_t *info, size_t info_len, const uint8_t *aad,
		   size_t aad_len, const uint8_t *ct, size_t ct_len,
		   struct bw_bytes *pt)
{
	size_t tag = hpke_aead_tag_len(suite->aead_id);
	struct hpke_ctx *ctx = NULL;
	struct bw_bytes p = { 0 };
	int rc;

	/* A ct shorter than its tag cannot verify: refuse it before the DH.
	 * An export-only suite is refused by hpke_open. */
	if (tag > 0 && ct_len < tag)
		return MLS_ERR_AEAD;
	if ((rc = hpke_setup_r(suite, HPKE_MODE_BASE, enc, enc_len, skR,
			       skR_len, info, info_len, NULL, 0, NULL, 0, NULL,
			       0, &ctx)) != 0 ||
	    (rc = bw_bytes_alloc(&p, tag > 0 ? ct_len - tag : 0)) != 0 ||
	    (rc = hpke_open(ctx, aad, aad_len, ct, ct_len, p.p)) != 0)
		goto out;
	bw_bytes_move(pt, &p);
out:
	hpke_ctx_free(ctx);
	bw_bytes_clear(&p);
	return rc;
}

/* ---- test-only accessors ---- */

int hpke_test_key_schedule(const struct hpke_suite *suite,
			   enum hpke_mode mode, const uint8_t *shared_secret,
			   const uint8_t *info, size_t info_len,
			   const uint8_t *psk, size_t psk_len,
			   const uint8_t *psk_id, size_t psk_id_len,
			   struct hpke_test_schedule *out)
{
	struct suite_id sid;
	int rc;

	if ((rc = check_suite(suite)) != 0 ||
	    (rc = verify_psk_inputs(mode, psk_len, psk_id_len)) != 0)
		return rc;
	hpke_suite_id(suite, &sid);
	return schedule_values(&sid, mode, shared_secret, info, info_len, psk,
			       psk_len, psk_id, psk_id_len,
			       out->key_schedule_context, out->secret);
}

void hpke_test_ctx_view(const struct hpke_ctx *ctx, struct hpke_test_view *v)
{
	v->key = ctx->key;
	v->key_len = ctx->key_len;
	v->base_nonce = ctx->base_nonce;
	v->base_nonce_len = ctx->key_len ? NN : 0;
	v->exporter_secret = ctx->exporter_secret;
	v->exporter_secret_len = NH;
	v->seq = ctx->seq;
}

void hpke_test_ctx_set_seq(struct hpke_ctx *ctx, uint64_t seq)
{
	ctx->seq = seq;
}

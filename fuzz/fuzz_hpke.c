/* fuzz_hpke.c - HPKE receiver setup and Open on arbitrary bytes. enc, the
 * sender's public key and the ciphertext all arrive from the network
 * (Welcome, UpdatePath): none of them may crash, leak or read out of
 * bounds.
 *
 * Input: byte 0 picks the suite (bits 0-1) and base or auth mode (bit 2);
 * then enc (Nenc bytes), in auth mode the sender's public key (Npk bytes),
 * and the ciphertext. */
#include <stdint.h>
#include <stdlib.h>

#include "crypto.h"
#include "hpke.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct hpke_suite suites[] = {
	{ HPKE_KEM_X25519_SHA256, HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES128GCM },
	{ HPKE_KEM_P256_SHA256, HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES128GCM },
	{ HPKE_KEM_X25519_SHA256, HPKE_KDF_HKDF_SHA256,
	  HPKE_AEAD_CHACHA20POLY1305 },
	{ HPKE_KEM_P256_SHA256, HPKE_KDF_HKDF_SHA256, HPKE_AEAD_EXPORT_ONLY },
};
#define N_SUITES (sizeof(suites) / sizeof(suites[0]))

/* The receiver's fixed key pair per suite (kept for the process). */
static struct bw_bytes sk[N_SUITES], pk[N_SUITES];

static void derive_keys(void)
{
	static const uint8_t ikm[32] = "bulwark fuzz receiver key ikm";

	for (size_t i = 0; i < N_SUITES; i++)
		if (hpke_derive_keypair(suites[i].kem_id, ikm, sizeof(ikm),
					&sk[i], &pk[i]) != 0)
			abort();
}

static size_t take(const uint8_t **p, size_t *left, size_t want)
{
	size_t n = want < *left ? want : *left;

	*p += n;
	*left -= n;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t info[] = "fuzz";
	const struct hpke_suite *s;
	const uint8_t *enc, *pkS = NULL, *ct, *cur;
	size_t enc_len, pkS_len = 0, i, left;
	struct hpke_ctx *ctx = NULL;
	uint8_t *pt;
	bool auth;

	if (sk[0].len == 0)
		derive_keys();
	if (size < 1)
		return 0;
	i = data[0] & 3;
	auth = data[0] & 4;
	s = &suites[i];
	cur = data + 1;
	left = size - 1;
	enc = cur;
	enc_len = take(&cur, &left, hpke_kem_enc_len(s->kem_id));
	if (auth) {
		pkS = cur;
		pkS_len = take(&cur, &left, hpke_kem_pk_len(s->kem_id));
	}
	ct = cur;
	if (hpke_setup_r(s, auth ? HPKE_MODE_AUTH : HPKE_MODE_BASE, enc,
			 enc_len, sk[i].p, sk[i].len, info, sizeof(info), NULL,
			 0, NULL, 0, pkS, pkS_len, &ctx) != 0)
		return 0;
	if ((pt = malloc(left + 1)) == NULL)
		abort();
	hpke_open(ctx, info, sizeof(info), ct, left, pt);
	free(pt);
	hpke_ctx_free(ctx);
	return 0;
}

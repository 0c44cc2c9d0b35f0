/* fuzz_spake2plus.c - the SPAKE2+ prover and verifier fed arbitrary shares
 * and confirmations. Neither may crash, and neither may ever complete an
 * exchange with a peer that does not know the password; an honest exchange
 * over an input-chosen Context must always complete with equal keys.
 *
 * First byte: mode. Modes 0/1 give raw share bytes (length byte, share,
 * confirmation) to the verifier/prover; modes 2/3 turn the input into a
 * valid curve point first, so that the confirmation path is reached; mode 4
 * runs an honest exchange with the rest as Context. */
#include <stdlib.h>
#include <string.h>

#include "spake2plus.h"

#define SUITE PAKE_SUITE_BULWARK
#define SCALAR_LEN 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct bw_bytes w0, w1, l;

static void setup(void)
{
	static const struct pake_ids ids = {
		(const uint8_t *)"device", 6, (const uint8_t *)"server", 6,
	};
	struct pake_pbkdf kdf = { .n = PAKE_SCRYPT_MIN_N, .r = 8, .p = 1,
				  .salt_len = PAKE_SALT_LEN };

	if (w0.len != 0)
		return;
	if (pake_password_scalars(SUITE, &kdf, (const uint8_t *)"fuzz", 4, &ids,
				  &w0, &w1) != 0 ||
	    pake_registration_point(SUITE, w1.p, w1.len, &l) != 0)
		abort();
}

static const struct pake_config fixed_cfg = {
	.suite = SUITE, .context = (const uint8_t *)"fuzz context",
	.context_len = 12,
};

/* A valid share k*P from input bytes (k forced into [1, order-1] by
 * clearing the top bit and setting the lowest). */
static int point_from(const uint8_t *p, size_t n, struct bw_bytes *out)
{
	uint8_t k[SCALAR_LEN] = { 0 };

	memcpy(k, p, n < SCALAR_LEN ? n : SCALAR_LEN);
	k[0] &= 0x7f;
	k[SCALAR_LEN - 1] |= 1;
	return pake_registration_point(SUITE, k, sizeof(k), out);
}

/* Split input into share (length-prefixed) and confirmation. */
static void split(const uint8_t *p, size_t n, const uint8_t **share,
		  size_t *share_len, const uint8_t **confirm, size_t *confirm_len)
{
	size_t k = n ? p[0] : 0;

	if (k > n - (n ? 1 : 0))
		k = n ? n - 1 : 0;
	*share = n ? p + 1 : p;
	*share_len = k;
	*confirm = *share + k;
	*confirm_len = n - (n ? 1 : 0) - k;
}

static void against_verifier(const uint8_t *share, size_t share_len,
			     const uint8_t *confirm, size_t confirm_len)
{
	struct pake_verifier *v = NULL;
	struct bw_bytes sv = { 0 }, cv = { 0 };

	if (pake_verifier_new(&v, &fixed_cfg, w0.p, w0.len, l.p, l.len) != 0)
		abort();
	if (pake_verifier_respond(v, share, share_len, &sv, &cv) == 0 &&
	    pake_verifier_finish(v, confirm, confirm_len) == 0)
		abort(); /* accepted a prover without the password */
	pake_verifier_free(v);
	bw_bytes_clear(&sv);
	bw_bytes_clear(&cv);
}

static void against_prover(const uint8_t *share, size_t share_len,
			   const uint8_t *confirm, size_t confirm_len)
{
	struct pake_prover *p = NULL;
	struct bw_bytes sp = { 0 }, cp = { 0 };

	if (pake_prover_new(&p, &fixed_cfg, w0.p, w0.len, w1.p, w1.len) != 0 ||
	    pake_prover_share(p, &sp) != 0)
		abort();
	if (pake_prover_finish(p, share, share_len, confirm, confirm_len,
			       &cp) == 0)
		abort(); /* accepted a verifier without the record */
	pake_prover_free(p);
	bw_bytes_clear(&sp);
	bw_bytes_clear(&cp);
}

static void honest(const uint8_t *context, size_t n)
{
	struct pake_config cfg = fixed_cfg;
	struct pake_prover *p = NULL;
	struct pake_verifier *v = NULL;
	struct bw_bytes sp = { 0 }, sv = { 0 }, cv = { 0 }, cp = { 0 };
	struct bw_bytes kp = { 0 }, kv = { 0 };
	int rc;

	cfg.context = context;
	cfg.context_len = n;
	rc = pake_prover_new(&p, &cfg, w0.p, w0.len, w1.p, w1.len);
	if (n > PAKE_MAX_CONTEXT_LEN) {
		if (rc != PAKE_ERR_TOO_LONG)
			abort();
		return;
	}
	if (rc != 0 ||
	    pake_verifier_new(&v, &cfg, w0.p, w0.len, l.p, l.len) != 0 ||
	    pake_prover_share(p, &sp) != 0 ||
	    pake_verifier_respond(v, sp.p, sp.len, &sv, &cv) != 0 ||
	    pake_prover_finish(p, sv.p, sv.len, cv.p, cv.len, &cp) != 0 ||
	    pake_verifier_finish(v, cp.p, cp.len) != 0 ||
	    pake_prover_shared_key(p, &kp) != 0 ||
	    pake_verifier_shared_key(v, &kv) != 0 ||
	    !bw_bytes_eq(&kp, kv.p, kv.len))
		abort();
	pake_prover_free(p);
	pake_verifier_free(v);
	bw_bytes_clear(&sp);
	bw_bytes_clear(&sv);
	bw_bytes_clear(&cv);
	bw_bytes_clear(&cp);
	bw_bytes_clear(&kp);
	bw_bytes_clear(&kv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *share, *confirm;
	size_t share_len, confirm_len;
	struct bw_bytes pt = { 0 };

	if (size < 1)
		return 0;
	setup();
	split(data + 1, size - 1, &share, &share_len, &confirm, &confirm_len);
	switch (data[0] % 5) {
	case 0:
		against_verifier(share, share_len, confirm, confirm_len);
		break;
	case 1:
		against_prover(share, share_len, confirm, confirm_len);
		break;
	case 2:
	case 3:
		if (point_from(share, share_len, &pt) != 0)
			abort();
		if (data[0] % 5 == 2)
			against_verifier(pt.p, pt.len, confirm, confirm_len);
		else
			against_prover(pt.p, pt.len, confirm, confirm_len);
		bw_bytes_clear(&pt);
		break;
	default:
		honest(data + 1, size - 1);
	}
	return 0;
}

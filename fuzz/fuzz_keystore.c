/* fuzz_keystore.c - the keystore file decoder, before and after
 * decryption, with keys derived once from a fixed passphrase.
 *
 * First byte: mode.
 *   0: the input is a keystore file: container decode (magic, version,
 *      digest, header, bounds), then the seal and the payload.
 *   1: the input is a decrypted payload: entries decode, which must
 *      re-encode to exactly the input (the encoding is canonical).
 *   2: the input is scrypt costs (3 bytes) and a payload, sealed here into
 *      a complete file: it must decode and open again to the same payload
 *      when the costs are within bounds, and be refused when they are not.
 */
#include <stdlib.h>
#include <string.h>

#include "keystore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ks_keys keys;
static struct ks_header base;

static void setup(void)
{
	static bool ready;

	if (ready)
		return;
	memset(&base, 0, sizeof(base));
	base.version = KS_VERSION;
	base.kdf = KS_KDF_SCRYPT;
	base.log2_n = KS_SCRYPT_MIN_LOG2_N;
	base.r = 8;
	base.p = 1;
	if (ks_derive_keys("fuzz passphrase", &base, &keys) != 0)
		abort();
	ready = true;
}

/* Decode entries; when they decode, their encoding is the input. */
static void payload(const uint8_t *p, size_t n)
{
	struct ks_entries es = { 0 };
	uint8_t *again = NULL;
	size_t again_len = 0;

	if (ks_entries_decode(p, n, &es) == 0) {
		if (ks_entries_encode(&es, &again, &again_len) != 0 ||
		    again_len != n || memcmp(again, p, n) != 0)
			abort();
		bw_free_secret(again, again_len);
	}
	ks_entries_clear(&es);
}

static void file(const uint8_t *p, size_t n)
{
	struct ks_file f;
	uint8_t *pt = NULL;
	size_t pt_len = 0;

	if (ks_file_decode(p, n, &f) != 0)
		return;
	if (f.aad != p || f.aad_len != KS_HEADER_LEN)
		abort();
	if (ks_payload_open(&f, &keys, &pt, &pt_len) == 0)
		payload(pt, pt_len);
	bw_free_secret(pt, pt_len);
}

static bool costs_ok(const struct ks_header *h)
{
	return h->log2_n >= KS_SCRYPT_MIN_LOG2_N &&
	       h->log2_n <= KS_SCRYPT_MAX_LOG2_N && h->r >= 1 &&
	       h->r <= KS_SCRYPT_MAX_R && h->p >= 1 && h->p <= KS_SCRYPT_MAX_P &&
	       ((uint64_t)128 * h->r << h->log2_n) <= KS_SCRYPT_MAX_MEM;
}

static void seal_and_reopen(const uint8_t *p, size_t n)
{
	struct ks_header h = base;
	struct ks_file f;
	uint8_t *out = NULL, *pt = NULL;
	size_t out_len = 0, pt_len = 0;
	int rc;

	if (n < 3)
		return;
	h.log2_n = p[0];
	h.r = p[1];
	h.p = p[2];
	memcpy(h.nonce, p, n < KS_NONCE_LEN ? n : KS_NONCE_LEN);
	if (ks_file_encode(&h, &keys, p + 3, n - 3, &out, &out_len) != 0)
		abort();
	rc = ks_file_decode(out, out_len, &f);
	if (!costs_ok(&h)) {
		if (rc != BULWARK_ERR_KS_CORRUPT)
			abort();
	} else if (rc != 0 || ks_payload_open(&f, &keys, &pt, &pt_len) != 0 ||
		   pt_len != n - 3 || memcmp(pt, p + 3, pt_len) != 0) {
		abort();
	} else {
		payload(pt, pt_len);
	}
	bw_free_secret(pt, pt_len);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	setup();
	switch (data[0] % 3) {
	case 0:
		file(data + 1, size - 1);
		break;
	case 1:
		payload(data + 1, size - 1);
		break;
	default:
		seal_and_reopen(data + 1, size - 1);
	}
	return 0;
}

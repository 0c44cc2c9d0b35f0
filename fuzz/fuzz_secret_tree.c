/* fuzz_secret_tree.c - restore secret-tree state from arbitrary bytes
 * (persisted state may be corrupt): decoding never crashes, a state that
 * decodes re-encodes to exactly the bytes read, and survives lookups. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "secret_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A few lookups steered by the input's first bytes. */
static void exercise(struct mls_secret_tree *t, const uint8_t *data,
		     size_t size)
{
	struct mls_ratchet_key k;

	for (size_t i = 0; i + 2 < size && i < 24; i += 3) {
		uint32_t leaf = data[i], gen = data[i + 1] % 64;
		enum mls_ratchet_type type = data[i + 2] & 1;

		if (data[i + 2] & 2)
			mls_secret_tree_next(t, leaf, type, &k);
		else
			mls_secret_tree_get(t, leaf, type, gen, &k);
	}
	mls_ratchet_key_clear(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mls_suite *s =
		mls_suite_get(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
	struct mls_secret_tree *t = NULL;
	struct bw_reader r;
	struct bw_writer w;

	if (s == NULL)
		abort();
	bw_reader_init(&r, data, size);
	if (mls_secret_tree_decode(s, &r, &t) != 0)
		return 0;
	bw_writer_init(&w, 0);
	if (mls_secret_tree_encode(t, &w) != 0 || w.len != r.pos ||
	    memcmp(w.buf, data, w.len) != 0)
		abort(); /* decoding accepted a non-canonical state */
	bw_writer_free(&w);
	/* Limits from the input could make one lookup derive billions of
	 * keys; the fuzzer looks at structure, not at patience. */
	mls_secret_tree_set_limits(t, 64, 64);
	exercise(t, data, size);
	mls_secret_tree_free(t);
	return 0;
}

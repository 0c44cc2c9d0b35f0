/* vec_secret_tree.c - RFC 9420 §9 and §6.3.2 against mls/secret-tree.json:
 * sender-data key and nonce, and the handshake and application key and
 * nonce of every listed (leaf, generation). Each vector is checked three
 * ways over fresh trees: receiving in order, receiving in reverse (leaves
 * last to first, generations newest first, so earlier keys come from the
 * retained ones), and sending (the ratchet's own next()). */
#include <string.h>

#include "crypto.h"
#include "secret_tree.h"
#include "suite_vectors.h"
#include "test.h"
#include "vectors.h"

enum walk { IN_ORDER, REVERSED, SENDING };

static bool field_eq(json_t *v, const char *key, const uint8_t *got,
		     size_t len)
{
	struct bw_bytes want = { 0 };
	bool ok = tv_hex(v, key, &want) && want.len == len &&
		  memcmp(want.p, got, len) == 0;

	if (!ok)
		fprintf(stderr, "%s differs\n", key);
	bw_bytes_clear(&want);
	return ok;
}

static bool check_sender_data(json_t *v, const struct mls_suite *s)
{
	json_t *sd = json_object_get(v, "sender_data");
	struct bw_bytes secret = { 0 }, ct = { 0 };
	uint8_t key[MLS_MAX_AEAD_KEY_LEN], nonce[MLS_MAX_AEAD_NONCE_LEN];
	bool ok = json_is_object(sd) &&
		  tv_hex(sd, "sender_data_secret", &secret) &&
		  tv_hex(sd, "ciphertext", &ct) &&
		  mls_sender_data_keys(s, secret.p, secret.len, ct.p, ct.len, key,
				       nonce) == 0 &&
		  field_eq(sd, "key", key, s->key_len) &&
		  field_eq(sd, "nonce", nonce, s->nonce_len);

	bw_bytes_clear(&secret);
	bw_bytes_clear(&ct);
	return ok;
}

/* The key of (leaf, type, generation) by the walk's method. */
static bool key_for(struct mls_secret_tree *t, enum walk how, uint32_t leaf,
		    enum mls_ratchet_type type, uint32_t gen,
		    struct mls_ratchet_key *k)
{
	if (how != SENDING)
		return mls_secret_tree_get(t, leaf, type, gen, k) == 0;
	do {
		if (mls_secret_tree_next(t, leaf, type, k) != 0)
			return false;
	} while (k->generation < gen);
	return k->generation == gen;
}

static bool check_entry(json_t *e, const struct mls_suite *s,
			struct mls_secret_tree *t, enum walk how, uint32_t leaf)
{
	struct mls_ratchet_key hs, app;
	uint64_t gen;
	bool ok = tv_u64(e, "generation", &gen) && gen < UINT32_MAX &&
		  key_for(t, how, leaf, MLS_RATCHET_HANDSHAKE, (uint32_t)gen,
			  &hs) &&
		  key_for(t, how, leaf, MLS_RATCHET_APPLICATION, (uint32_t)gen,
			  &app) &&
		  field_eq(e, "handshake_key", hs.key, s->key_len) &&
		  field_eq(e, "handshake_nonce", hs.nonce, s->nonce_len) &&
		  field_eq(e, "application_key", app.key, s->key_len) &&
		  field_eq(e, "application_nonce", app.nonce, s->nonce_len);

	mls_ratchet_key_clear(&hs);
	mls_ratchet_key_clear(&app);
	return ok;
}

static bool walk_tree(json_t *v, const struct mls_suite *s,
		      const struct bw_bytes *enc, enum walk how)
{
	json_t *leaves = json_object_get(v, "leaves");
	size_t n = json_array_size(leaves);
	struct mls_secret_tree *t = NULL;
	bool ok = n > 0 && n <= UINT32_MAX &&
		  mls_secret_tree_new(s, enc->p, enc->len, (uint32_t)n, &t) == 0;

	for (size_t i = 0; ok && i < n; i++) {
		size_t leaf = how == REVERSED ? n - 1 - i : i;
		json_t *entries = json_array_get(leaves, leaf);
		size_t m = json_array_size(entries);

		for (size_t j = 0; ok && j < m; j++)
			ok = check_entry(json_array_get(entries,
							how == REVERSED ? m - 1 - j : j),
					 s, t, how, (uint32_t)leaf);
	}
	mls_secret_tree_free(t);
	if (!ok)
		fprintf(stderr, "suite %u, %zu leaves, walk %d failed\n", s->id,
			n, (int)how);
	return ok;
}

static bool check(json_t *v, const struct mls_suite *s)
{
	struct bw_bytes enc = { 0 };
	bool ok = check_sender_data(v, s) &&
		  tv_hex(v, "encryption_secret", &enc) &&
		  walk_tree(v, s, &enc, IN_ORDER) &&
		  walk_tree(v, s, &enc, REVERSED) &&
		  walk_tree(v, s, &enc, SENDING);

	bw_bytes_clear(&enc);
	return ok;
}

int main(int argc, char **argv)
{
	return tv_run_suites(argc, argv, "mls/secret-tree.json", "secret-tree", check);
}

/* test_secret_tree.c - the secret tree's receiving rules (reordering
 * window, single use, limits, eviction), the §9.2 deletion schedule,
 * sparse growth, persistence, rejection of corrupt state, and that a
 * failed call changes nothing. Keys are compared with a reference tree
 * read in order through next(), itself proven by vec_secret_tree. */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "crypto.h"
#include "secret_tree.h"
#include "test.h"

/* Offsets into the persisted state (see secret_tree.c). */
#define OFF_VERSION 0
#define OFF_N_LEAVES 3
#define OFF_MAX_RETAINED 11
#define OFF_N_NODES 15
#define OFF_FIRST_NODE 19

static const struct mls_suite *suite;
static uint8_t enc_secret[MLS_MAX_HASH_LEN];

static struct mls_secret_tree *tree(uint32_t n_leaves)
{
	struct mls_secret_tree *t = NULL;

	if (mls_secret_tree_new(suite, enc_secret, suite->hash_len, n_leaves,
				&t) != 0)
		return NULL;
	return t;
}

/* The state's encoding, caller frees. */
static uint8_t *encode(const struct mls_secret_tree *t, size_t *len)
{
	struct bw_writer w;
	uint8_t *p = NULL;

	bw_writer_init(&w, 0);
	if (mls_secret_tree_encode(t, &w) != 0 || bw_writer_take(&w, &p, len) != 0)
		p = NULL;
	bw_writer_free(&w);
	return p;
}

static int decode(const uint8_t *p, size_t len, struct mls_secret_tree **out)
{
	struct bw_reader r;
	int rc;

	bw_reader_init(&r, p, len);
	if ((rc = mls_secret_tree_decode(suite, &r, out)) == 0 &&
	    bw_reader_remaining(&r) != 0) {
		mls_secret_tree_free(*out);
		*out = NULL;
		return BW_ERR_TRAILING;
	}
	return rc;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static bool key_eq(const struct mls_ratchet_key *a,
		   const struct mls_ratchet_key *b)
{
	return a->generation == b->generation &&
	       memcmp(a->key, b->key, suite->key_len) == 0 &&
	       memcmp(a->nonce, b->nonce, suite->nonce_len) == 0;
}

/* Reference keys of (leaf, type) for generations 0 .. n-1, by sending. */
static bool reference_keys(uint32_t n_leaves, uint32_t leaf,
			   enum mls_ratchet_type type, uint32_t n,
			   struct mls_ratchet_key *out)
{
	struct mls_secret_tree *t = tree(n_leaves);

	CHECK(t != NULL);
	for (uint32_t g = 0; g < n; g++) {
		CHECK(mls_secret_tree_next(t, leaf, type, &out[g]) == 0);
		CHECK_EQ_INT(out[g].generation, g);
	}
	mls_secret_tree_free(t);
	return true;
}

/* The encoding is unchanged by a call that failed with want_rc. */
static bool fails_unchanged(struct mls_secret_tree *t, uint32_t leaf,
			    enum mls_ratchet_type type, uint32_t gen,
			    int want_rc)
{
	struct mls_ratchet_key k;
	size_t n0, n1;
	uint8_t *before = encode(t, &n0), *after;
	int rc = mls_secret_tree_get(t, leaf, type, gen, &k);

	after = encode(t, &n1);
	CHECK(before != NULL && after != NULL);
	CHECK_EQ_INT(rc, want_rc);
	CHECK_MEM(before, n0, after, n1);
	bw_free_secret(before, n0);
	bw_free_secret(after, n1);
	return true;
}

static bool test_out_of_order_window(void)
{
	static const uint32_t order[] = { 5, 2, 9, 0, 1, 8, 3, 4, 7, 6 };
	struct mls_ratchet_key ref[10], k;
	struct mls_secret_tree *t = tree(16);

	CHECK(t != NULL);
	CHECK(reference_keys(16, 3, MLS_RATCHET_APPLICATION, 10, ref));
	for (size_t i = 0; i < 10; i++) {
		CHECK(mls_secret_tree_get(t, 3, MLS_RATCHET_APPLICATION,
					  order[i], &k) == 0);
		CHECK(key_eq(&k, &ref[order[i]]));
	}
	/* The handshake ratchet of the same leaf is independent. */
	CHECK(mls_secret_tree_get(t, 3, MLS_RATCHET_HANDSHAKE, 0, &k) == 0);
	CHECK(memcmp(k.key, ref[0].key, suite->key_len) != 0);
	mls_secret_tree_free(t);
	return true;
}

static bool test_replay_consumed(void)
{
	struct mls_secret_tree *t = tree(4);
	struct mls_ratchet_key k;

	CHECK(t != NULL);
	CHECK(mls_secret_tree_get(t, 1, MLS_RATCHET_HANDSHAKE, 0, &k) == 0);
	CHECK(fails_unchanged(t, 1, MLS_RATCHET_HANDSHAKE, 0,
			      MLS_ERR_GENERATION_CONSUMED));
	CHECK(mls_secret_tree_get(t, 1, MLS_RATCHET_HANDSHAKE, 4, &k) == 0);
	CHECK(fails_unchanged(t, 1, MLS_RATCHET_HANDSHAKE, 4,
			      MLS_ERR_GENERATION_CONSUMED));
	CHECK(mls_secret_tree_get(t, 1, MLS_RATCHET_HANDSHAKE, 2, &k) == 0);
	CHECK(fails_unchanged(t, 1, MLS_RATCHET_HANDSHAKE, 2,
			      MLS_ERR_GENERATION_CONSUMED));
	/* What was sent is gone for receiving too. */
	CHECK(mls_secret_tree_next(t, 2, MLS_RATCHET_APPLICATION, &k) == 0);
	CHECK(fails_unchanged(t, 2, MLS_RATCHET_APPLICATION, 0,
			      MLS_ERR_GENERATION_CONSUMED));
	mls_secret_tree_free(t);
	return true;
}

static bool test_too_far(void)
{
	struct mls_secret_tree *t = tree(8);
	struct mls_ratchet_key k;

	CHECK(t != NULL);
	CHECK(fails_unchanged(t, 0, MLS_RATCHET_APPLICATION,
			      MLS_DEFAULT_MAX_FORWARD + 1,
			      MLS_ERR_GENERATION_TOO_FAR));
	CHECK(mls_secret_tree_get(t, 0, MLS_RATCHET_APPLICATION,
				  MLS_DEFAULT_MAX_FORWARD, &k) == 0);
	mls_secret_tree_set_limits(t, 10, 4);
	CHECK(fails_unchanged(t, 0, MLS_RATCHET_APPLICATION,
			      MLS_DEFAULT_MAX_FORWARD + 12,
			      MLS_ERR_GENERATION_TOO_FAR));
	CHECK(mls_secret_tree_get(t, 0, MLS_RATCHET_APPLICATION,
				  MLS_DEFAULT_MAX_FORWARD + 11, &k) == 0);
	/* A fresh leaf counts from generation 0. */
	CHECK(fails_unchanged(t, 5, MLS_RATCHET_HANDSHAKE, 11,
			      MLS_ERR_GENERATION_TOO_FAR));
	CHECK(mls_secret_tree_get(t, 5, MLS_RATCHET_HANDSHAKE, 10, &k) == 0);
	/* The last generation can never be reached. */
	mls_secret_tree_set_limits(t, UINT32_MAX, 4);
	CHECK(fails_unchanged(t, 6, MLS_RATCHET_HANDSHAKE, UINT32_MAX,
			      MLS_ERR_GENERATION_TOO_FAR));
	mls_secret_tree_free(t);
	return true;
}

static bool test_eviction(void)
{
	struct mls_ratchet_key ref[14], k;
	struct mls_secret_tree *t = tree(2);

	CHECK(t != NULL);
	CHECK(reference_keys(2, 1, MLS_RATCHET_APPLICATION, 14, ref));
	mls_secret_tree_set_limits(t, 100, 4);
	/* Skipping 0..9 keeps only 6..9. */
	CHECK(mls_secret_tree_get(t, 1, MLS_RATCHET_APPLICATION, 10, &k) == 0);
	CHECK(key_eq(&k, &ref[10]));
	CHECK(fails_unchanged(t, 1, MLS_RATCHET_APPLICATION, 5,
			      MLS_ERR_GENERATION_CONSUMED));
	CHECK(mls_secret_tree_get(t, 1, MLS_RATCHET_APPLICATION, 6, &k) == 0);
	CHECK(key_eq(&k, &ref[6]));
	/* Kept 7, 8, 9; skipping 11 and 12 evicts the oldest, 7. */
	CHECK(mls_secret_tree_get(t, 1, MLS_RATCHET_APPLICATION, 13, &k) == 0);
	CHECK(key_eq(&k, &ref[13]));
	CHECK(fails_unchanged(t, 1, MLS_RATCHET_APPLICATION, 7,
			      MLS_ERR_GENERATION_CONSUMED));
	CHECK(mls_secret_tree_get(t, 1, MLS_RATCHET_APPLICATION, 8, &k) == 0);
	CHECK(key_eq(&k, &ref[8]));
	/* Kept 9, 11, 12: lowering the limit to one keeps only 12. */
	mls_secret_tree_set_limits(t, 100, 1);
	CHECK(fails_unchanged(t, 1, MLS_RATCHET_APPLICATION, 9,
			      MLS_ERR_GENERATION_CONSUMED));
	CHECK(fails_unchanged(t, 1, MLS_RATCHET_APPLICATION, 11,
			      MLS_ERR_GENERATION_CONSUMED));
	CHECK(mls_secret_tree_get(t, 1, MLS_RATCHET_APPLICATION, 12, &k) == 0);
	CHECK(key_eq(&k, &ref[12]));
	/* No retention at all: anything skipped is gone at once. */
	mls_secret_tree_set_limits(t, 100, 0);
	CHECK(mls_secret_tree_get(t, 0, MLS_RATCHET_APPLICATION, 3, &k) == 0);
	CHECK(fails_unchanged(t, 0, MLS_RATCHET_APPLICATION, 2,
			      MLS_ERR_GENERATION_CONSUMED));
	mls_secret_tree_free(t);
	return true;
}

static bool test_bad_arguments(void)
{
	struct mls_secret_tree *t = tree(8), *u = NULL;
	struct mls_ratchet_key k;

	CHECK(t != NULL);
	CHECK(fails_unchanged(t, 8, MLS_RATCHET_APPLICATION, 0,
			      MLS_ERR_LEAF_INDEX));
	CHECK(fails_unchanged(t, UINT32_MAX, MLS_RATCHET_HANDSHAKE, 0,
			      MLS_ERR_LEAF_INDEX));
	CHECK_EQ_INT(mls_secret_tree_next(t, 8, MLS_RATCHET_HANDSHAKE, &k),
		     MLS_ERR_LEAF_INDEX);
	CHECK(fails_unchanged(t, 0, (enum mls_ratchet_type)2, 0,
			      MLS_ERR_INVALID_ARG));
	CHECK_EQ_INT(mls_secret_tree_new(suite, enc_secret, suite->hash_len, 0,
					 &u), MLS_ERR_INVALID_ARG);
	CHECK_EQ_INT(mls_secret_tree_new(suite, enc_secret, suite->hash_len, 12,
					 &u), MLS_ERR_INVALID_ARG);
	CHECK_EQ_INT(mls_secret_tree_new(suite, enc_secret, 16, 8, &u),
		     MLS_ERR_INVALID_ARG);
	CHECK(u == NULL);
	mls_secret_tree_free(NULL);
	mls_secret_tree_free(t);
	return true;
}

/* §9.2: the stored node secrets are exactly those not yet consumed. */
static bool test_deletion_schedule(void)
{
	struct mls_secret_tree *t = tree(8);
	struct mls_ratchet_key k;
	uint8_t *p;
	size_t len;

	CHECK(t != NULL);
	CHECK(mls_secret_tree_get(t, 0, MLS_RATCHET_APPLICATION, 0, &k) == 0);
	/* Root 7 and parents 3, 1 and leaf 0 consumed; copath 2, 5, 11 kept. */
	CHECK((p = encode(t, &len)) != NULL);
	CHECK_EQ_INT(get_u32(p + OFF_N_NODES), 3);
	CHECK_EQ_INT(get_u32(p + OFF_FIRST_NODE), 2);
	bw_free_secret(p, len);
	CHECK(mls_secret_tree_get(t, 1, MLS_RATCHET_HANDSHAKE, 0, &k) == 0);
	CHECK((p = encode(t, &len)) != NULL);
	CHECK_EQ_INT(get_u32(p + OFF_N_NODES), 2);
	bw_free_secret(p, len);
	for (uint32_t leaf = 2; leaf < 8; leaf++)
		CHECK(mls_secret_tree_next(t, leaf, MLS_RATCHET_HANDSHAKE,
					   &k) == 0);
	CHECK((p = encode(t, &len)) != NULL);
	CHECK_EQ_INT(get_u32(p + OFF_N_NODES), 0);
	bw_free_secret(p, len);
	mls_ratchet_key_clear(&k);
	mls_secret_tree_free(t);
	return true;
}

/* State grows with the senders seen: a 2^31-leaf tree with two senders
 * holds two leaves' ratchets and about two paths of node secrets. */
static bool test_sparse_growth(void)
{
	struct mls_secret_tree *t = tree(UINT32_C(1) << 31);
	struct mls_secret_tree *u = tree(16384);
	struct mls_ratchet_key k;
	uint8_t *p;
	size_t len;

	CHECK(t != NULL && u != NULL);
	CHECK(mls_secret_tree_get(t, 0, MLS_RATCHET_APPLICATION, 3, &k) == 0);
	CHECK(mls_secret_tree_get(t, (UINT32_C(1) << 31) - 1,
				  MLS_RATCHET_HANDSHAKE, 0, &k) == 0);
	CHECK((p = encode(t, &len)) != NULL);
	CHECK_EQ_INT(get_u32(p + OFF_N_NODES), 60); /* 31 + 31 - the root's 2 */
	CHECK(len < 8192);
	bw_free_secret(p, len);
	for (uint32_t leaf = 0; leaf < 16384; leaf += 4096)
		CHECK(mls_secret_tree_next(u, leaf, MLS_RATCHET_APPLICATION,
					   &k) == 0);
	CHECK((p = encode(u, &len)) != NULL);
	CHECK(get_u32(p + OFF_N_NODES) <= 4 * 14);
	bw_free_secret(p, len);
	mls_secret_tree_free(t);
	mls_secret_tree_free(u);
	return true;
}

/* A tree with a little of everything: senders, skipped keys, node
 * secrets at several levels. */
static struct mls_secret_tree *busy_tree(void)
{
	struct mls_secret_tree *t = tree(32);
	struct mls_ratchet_key k;
	bool ok = t != NULL;

	ok = ok && mls_secret_tree_get(t, 7, MLS_RATCHET_APPLICATION, 6, &k) == 0;
	ok = ok && mls_secret_tree_get(t, 7, MLS_RATCHET_APPLICATION, 2, &k) == 0;
	ok = ok && mls_secret_tree_next(t, 20, MLS_RATCHET_HANDSHAKE, &k) == 0;
	ok = ok && mls_secret_tree_get(t, 21, MLS_RATCHET_HANDSHAKE, 3, &k) == 0;
	ok = ok && mls_secret_tree_get(t, 0, MLS_RATCHET_APPLICATION, 0, &k) == 0;
	mls_ratchet_key_clear(&k);
	if (!ok) {
		mls_secret_tree_free(t);
		return NULL;
	}
	return t;
}

static bool same_answers(struct mls_secret_tree *a, struct mls_secret_tree *b,
			 uint32_t leaf, enum mls_ratchet_type type, uint32_t gen)
{
	struct mls_ratchet_key ka, kb;
	int ra = mls_secret_tree_get(a, leaf, type, gen, &ka);
	int rb = mls_secret_tree_get(b, leaf, type, gen, &kb);

	CHECK_EQ_INT(ra, rb);
	CHECK(ra != 0 || key_eq(&ka, &kb));
	return true;
}

static bool test_persistence_round_trip(void)
{
	struct mls_secret_tree *t = busy_tree(), *u = NULL;
	uint8_t *p, *q;
	size_t n, m;

	CHECK(t != NULL);
	mls_secret_tree_set_limits(t, 500, 100);
	CHECK((p = encode(t, &n)) != NULL);
	CHECK(decode(p, n, &u) == 0);
	CHECK((q = encode(u, &m)) != NULL);
	CHECK_MEM(p, n, q, m);
	bw_free_secret(q, m);
	/* Both behave alike: retained keys, consumed ones, fresh leaves,
	 * the restored limits. */
	CHECK(same_answers(t, u, 7, MLS_RATCHET_APPLICATION, 4));
	CHECK(same_answers(t, u, 7, MLS_RATCHET_APPLICATION, 2));
	CHECK(same_answers(t, u, 7, MLS_RATCHET_APPLICATION, 7));
	CHECK(same_answers(t, u, 21, MLS_RATCHET_HANDSHAKE, 1));
	CHECK(same_answers(t, u, 20, MLS_RATCHET_HANDSHAKE, 0));
	CHECK(same_answers(t, u, 31, MLS_RATCHET_APPLICATION, 9));
	CHECK(same_answers(t, u, 1, MLS_RATCHET_HANDSHAKE, 501));
	CHECK(same_answers(t, u, 1, MLS_RATCHET_HANDSHAKE, 500));
	CHECK((q = encode(u, &m)) != NULL);
	bw_free_secret(p, n);
	CHECK((p = encode(t, &n)) != NULL);
	CHECK_MEM(p, n, q, m);
	bw_free_secret(p, n);
	bw_free_secret(q, m);
	mls_secret_tree_free(t);
	mls_secret_tree_free(u);
	return true;
}

/* The state with one field changed must be refused. */
static bool corrupt_refused(const uint8_t *p, size_t n, size_t off,
			    uint32_t v, bool u8)
{
	uint8_t *c = malloc(n);
	struct mls_secret_tree *u = NULL;

	CHECK(c != NULL);
	memcpy(c, p, n);
	if (u8)
		c[off] = (uint8_t)v;
	else
		put_u32(c + off, v);
	CHECK_EQ_INT(decode(c, n, &u), MLS_ERR_STATE_CORRUPT);
	CHECK(u == NULL);
	free(c);
	return true;
}

static bool test_corrupt_state(void)
{
	struct mls_secret_tree *t = busy_tree(), *u = NULL;
	const struct mls_suite *other = mls_suite_get(2);
	struct bw_reader r;
	uint32_t first;
	uint8_t *p;
	size_t n;

	CHECK(t != NULL && other != NULL);
	CHECK((p = encode(t, &n)) != NULL);
	/* Every truncation fails cleanly. */
	for (size_t len = 0; len < n; len++) {
		int rc = decode(p, len, &u);

		CHECK(rc == MLS_ERR_STATE_CORRUPT);
		CHECK(u == NULL);
	}
	CHECK(corrupt_refused(p, n, OFF_VERSION, 2, true));
	CHECK(corrupt_refused(p, n, OFF_N_LEAVES, 24, false));  /* not 2^k */
	CHECK(corrupt_refused(p, n, OFF_N_LEAVES, 64, false));  /* uncovered */
	CHECK(corrupt_refused(p, n, OFF_N_LEAVES, 16, false));  /* outside */
	CHECK(corrupt_refused(p, n, OFF_MAX_RETAINED, 1, false)); /* too many */
	CHECK(corrupt_refused(p, n, OFF_N_NODES, 0, false));
	CHECK(corrupt_refused(p, n, OFF_N_NODES, UINT32_MAX, false));
	first = get_u32(p + OFF_FIRST_NODE);
	/* The first stored node moved to the root: it now overlaps. */
	CHECK(corrupt_refused(p, n, OFF_FIRST_NODE, 31, false));
	CHECK(corrupt_refused(p, n, OFF_FIRST_NODE, 63, false));
	CHECK(first != 31);
	/* The same bytes under another suite. */
	bw_reader_init(&r, p, n);
	CHECK_EQ_INT(mls_secret_tree_decode(other, &r, &u),
		     MLS_ERR_STATE_CORRUPT);
	/* Random damage never crashes: it is refused or decodes. */
	for (int i = 0; i < 2000; i++) {
		uint8_t *c = malloc(n);

		CHECK(c != NULL);
		memcpy(c, p, n);
		c[(size_t)rand() % n] ^= (uint8_t)(1u << (rand() % 8));
		if (decode(c, n, &u) == 0)
			mls_secret_tree_free(u);
		free(c);
	}
	bw_free_secret(p, n);
	mls_secret_tree_free(t);
	return true;
}

static bool test_sender_data_keys(void)
{
	uint8_t secret[MLS_MAX_HASH_LEN] = { 1 }, ct[40] = { 2 };
	uint8_t k1[MLS_MAX_AEAD_KEY_LEN], n1[MLS_MAX_AEAD_NONCE_LEN];
	uint8_t k2[MLS_MAX_AEAD_KEY_LEN], n2[MLS_MAX_AEAD_NONCE_LEN];

	/* Only the first Nh bytes of the ciphertext are sampled. */
	CHECK(mls_sender_data_keys(suite, secret, suite->hash_len, ct, 40, k1,
				   n1) == 0);
	ct[39] ^= 1;
	CHECK(mls_sender_data_keys(suite, secret, suite->hash_len, ct, 40, k2,
				   n2) == 0);
	CHECK_MEM(k1, suite->key_len, k2, suite->key_len);
	CHECK_MEM(n1, suite->nonce_len, n2, suite->nonce_len);
	/* A shorter ciphertext is used whole. */
	CHECK(mls_sender_data_keys(suite, secret, suite->hash_len, ct, 5, k2,
				   n2) == 0);
	CHECK(memcmp(k1, k2, suite->key_len) != 0);
	CHECK(mls_sender_data_keys(suite, secret, suite->hash_len, NULL, 0, k2,
				   n2) == 0);
	CHECK_EQ_INT(mls_sender_data_keys(suite, secret, 16, ct, 40, k2, n2),
		     MLS_ERR_INVALID_ARG);
	return true;
}

int main(void)
{
	int failed = 0;

	suite = mls_suite_get(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
	if (suite == NULL || mls_random(enc_secret, suite->hash_len) != 0)
		return 1;
	srand(1);
	RUN(test_out_of_order_window, &failed);
	RUN(test_replay_consumed, &failed);
	RUN(test_too_far, &failed);
	RUN(test_eviction, &failed);
	RUN(test_bad_arguments, &failed);
	RUN(test_deletion_schedule, &failed);
	RUN(test_sparse_growth, &failed);
	RUN(test_persistence_round_trip, &failed);
	RUN(test_corrupt_state, &failed);
	RUN(test_sender_data_keys, &failed);
	return failed ? 1 : 0;
}

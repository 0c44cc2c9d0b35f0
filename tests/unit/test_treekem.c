/* test_treekem.c - TreeKEM across all three suites: random sequences of
 * adds, removes, updates and commits in which every member decrypts every
 * path to the same commit secret and joiners follow by path secret; an
 * external joiner's path at a new leaf; and each way a received path can
 * be bad, refused with its own error while the tree and the member's
 * private state stay as they were. */
#include <stdlib.h>
#include <string.h>

#include "hpke.h"
#include "test.h"
#include "tree_fixture.h"

static const struct mls_suite *suite;
static uint64_t rng_state = 0x243f6a8885a308d3u;

static uint32_t rnd(uint32_t bound)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % bound);
}

static uint32_t random_member(const struct fx_group *g, uint32_t except)
{
	uint32_t n = mls_tree_n_leaves(g->t), i = rnd(n);

	while (!g->m[i].present || i == except)
		i = (i + 1) % n;
	return i;
}

/* ---- random rounds ---- */

static bool round_trip_state(const struct fx_group *g)
{
	for (uint32_t i = 0; i < mls_tree_n_leaves(g->t); i++) {
		struct mls_tree_priv *p = NULL;
		struct bw_writer w, w2;
		struct bw_reader r;
		bool same;

		if (!g->m[i].present)
			continue;
		bw_writer_init(&w, 0);
		bw_writer_init(&w2, 0);
		if (mls_tree_priv_encode(g->m[i].priv, &w) != 0)
			return false;
		bw_reader_init(&r, w.buf, w.len);
		same = mls_tree_priv_decode(suite, &r, &p) == 0 &&
		       bw_reader_finish(&r) == 0 &&
		       mls_tree_priv_encode(p, &w2) == 0 && w.len == w2.len &&
		       memcmp(w.buf, w2.buf, w.len) == 0 &&
		       mls_tree_priv_check(p, g->t) == 0;
		mls_tree_priv_free(p);
		bw_writer_free(&w);
		bw_writer_free(&w2);
		if (!same)
			return false;
	}
	return true;
}

static bool run_rounds(uint32_t ops, uint32_t max_members)
{
	struct fx_group g;
	uint32_t joiners[8], n_joiners = 0, leaf;

	CHECK_EQ_INT(fx_group_new(suite, &g), 0);
	for (uint32_t i = 0; i < ops; i++) {
		uint32_t r = rnd(100), members = mls_tree_n_members(g.t);

		if (members < max_members && n_joiners < 8 &&
		    (r < 40 || members < 2)) {
			CHECK_EQ_INT(fx_add(&g, &leaf), 0);
			joiners[n_joiners++] = leaf;
			continue;
		}
		if (r < 55 && members > 2 && n_joiners == 0) {
			CHECK_EQ_INT(fx_remove(&g, random_member(&g, 0)), 0);
			continue;
		}
		if (r < 65 && n_joiners == 0) {
			CHECK_EQ_INT(fx_update(&g, random_member(&g, MLS_TM_NONE)),
				     0);
			continue;
		}
		/* A commit by a member that is not joining in it. */
		leaf = random_member(&g, MLS_TM_NONE);
		for (uint32_t j = 0; j < n_joiners; j++)
			if (joiners[j] == leaf)
				leaf = 0;
		CHECK_EQ_INT(fx_commit(&g, leaf, joiners, n_joiners), 0);
		n_joiners = 0;
		CHECK_EQ_INT(mls_tree_verify_parent_hashes(g.t), 0);
		CHECK(fx_hashes_match(g.t));
	}
	CHECK(round_trip_state(&g));
	fx_group_clear(&g);
	return true;
}

static bool test_rounds(void)
{
	CHECK(run_rounds(120, 24));
	return true;
}

static bool test_alone(void)
{
	struct fx_group g;
	uint32_t leaf;

	/* A single member's path is empty; the commit secret still comes
	 * from its leaf secret. */
	CHECK_EQ_INT(fx_group_new(suite, &g), 0);
	CHECK_EQ_INT(fx_commit(&g, 0, NULL, 0), 0);
	CHECK_EQ_INT(fx_add(&g, &leaf), 0);
	CHECK_EQ_INT(fx_commit(&g, 0, &leaf, 1), 0);
	CHECK_EQ_INT(fx_commit(&g, 1, NULL, 0), 0);
	fx_group_clear(&g);
	return true;
}

/* ---- an external joiner (§12.4.3.2) ---- */

/* A new member commits at the free leaf of a copy of the tree; the
 * members merge its path into theirs and decrypt it. */
static bool external_join(struct fx_group *g)
{
	struct fx_member m;
	struct mls_tree *mine = NULL;
	struct mls_treekem_update *u = NULL, *ru = NULL;
	struct mls_tree_priv *priv = NULL;
	struct mls_update_path path = { 0 };
	struct bw_writer gc;
	uint8_t a[MLS_MAX_HASH_LEN], b[MLS_MAX_HASH_LEN];
	uint32_t at = mls_tree_free_leaf(g->t);

	CHECK_EQ_INT(fx_member_init(suite, 1000 + at, &m), 0);
	CHECK_EQ_INT(mls_tree_clone(g->t, &mine), 0);
	CHECK_EQ_INT(mls_treekem_create(mine, at, &m.leaf, m.sig_priv.p,
					m.sig_priv.len, g->gid, sizeof(g->gid),
					NULL, &u),
		     0);
	CHECK_EQ_INT(mls_tree_hash(mine, a), 0);
	{
		struct mls_tree *t = g->t;

		g->t = mine;
		CHECK_EQ_INT(fx_group_context(g, &gc), 0);
		g->t = t;
	}
	CHECK_EQ_INT(mls_treekem_encrypt(u, mine, NULL, 0, gc.buf, gc.len,
					 &path),
		     0);
	CHECK_EQ_INT(mls_tree_priv_new(suite, at, NULL, 0, &priv), 0);
	CHECK_EQ_INT(mls_treekem_apply(u, priv), 0);
	CHECK_EQ_INT(mls_tree_priv_check(priv, mine), 0);
	/* Every member: merge, same tree, decrypt, same secret. */
	CHECK_EQ_INT(mls_treekem_merge(g->t, at, &path), 0);
	CHECK_EQ_INT(mls_tree_hash(g->t, b), 0);
	CHECK_MEM(a, suite->hash_len, b, suite->hash_len);
	for (uint32_t j = 0; j < g->cap; j++) {
		if (j == at || !g->m[j].present)
			continue;
		CHECK_EQ_INT(mls_treekem_decrypt(g->t, g->m[j].priv, at, &path,
						 NULL, 0, gc.buf, gc.len, &ru),
			     0);
		CHECK_MEM(mls_treekem_commit_secret(ru), suite->hash_len,
			  mls_treekem_commit_secret(u), suite->hash_len);
		mls_treekem_update_free(ru);
		ru = NULL;
	}
	CHECK_EQ_INT(mls_tree_verify_parent_hashes(g->t), 0);
	mls_tree_priv_free(priv);
	mls_treekem_update_free(u);
	mls_update_path_clear(&path);
	bw_writer_free(&gc);
	mls_tree_free(mine);
	fx_member_clear(&m);
	return true;
}

static bool test_external_join(void)
{
	struct fx_group g;
	uint32_t leaf;

	CHECK_EQ_INT(fx_group_new(suite, &g), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(fx_add(&g, &leaf), 0);
	CHECK_EQ_INT(fx_commit(&g, 1, NULL, 0), 0);
	/* A full tree: the joiner's leaf is one past the end. */
	CHECK_EQ_INT(mls_tree_free_leaf(g.t), 4);
	CHECK(external_join(&g));
	CHECK_EQ_INT(mls_tree_n_leaves(g.t), 8);
	fx_group_clear(&g);
	/* A blank leaf inside the tree. */
	CHECK_EQ_INT(fx_group_new(suite, &g), 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(fx_add(&g, &leaf), 0);
	CHECK_EQ_INT(fx_commit(&g, 4, NULL, 0), 0);
	CHECK_EQ_INT(fx_remove(&g, 1), 0);
	CHECK(external_join(&g));
	fx_group_clear(&g);
	return true;
}

/* ---- bad paths ---- */

struct bad {
	struct fx_group g;
	uint32_t sender, receiver;
	struct mls_update_path path;  /* a genuine path from sender */
	struct mls_update_path other; /* another genuine one, same context */
	struct bw_writer gc;          /* the context both are encrypted to */
	struct fx_snapshot before;
	struct bw_writer priv_before;
};

/* A path from sender made on the tree and undone again, all paths
 * encrypted to one fixed context so that they can be mixed. */
static bool make_path(struct bad *b, struct mls_update_path *out)
{
	struct fx_member *m = &b->g.m[b->sender];
	struct mls_treekem_update *u = NULL;
	bool ok;

	ok = mls_tree_txn_begin(b->g.t) == 0 &&
	     mls_treekem_create(b->g.t, b->sender, &m->leaf, m->sig_priv.p,
				m->sig_priv.len, b->g.gid, sizeof(b->g.gid),
				NULL, &u) == 0 &&
	     mls_treekem_encrypt(u, b->g.t, NULL, 0, b->gc.buf, b->gc.len,
				 out) == 0;
	mls_tree_txn_rollback(b->g.t);
	mls_treekem_update_free(u);
	return ok;
}

static bool bad_setup(struct bad *b)
{
	uint32_t leaf;

	memset(b, 0, sizeof(*b));
	CHECK_EQ_INT(fx_group_new(suite, &b->g), 0);
	for (int i = 0; i < 6; i++)
		CHECK_EQ_INT(fx_add(&b->g, &leaf), 0);
	CHECK_EQ_INT(fx_commit(&b->g, 0, NULL, 0), 0);
	b->sender = 5;
	b->receiver = 1;
	CHECK_EQ_INT(fx_group_context(&b->g, &b->gc), 0);
	CHECK(make_path(b, &b->path) && make_path(b, &b->other));
	CHECK_EQ_INT(fx_snapshot_take(b->g.t, &b->before), 0);
	bw_writer_init(&b->priv_before, 0);
	CHECK_EQ_INT(mls_tree_priv_encode(b->g.m[b->receiver].priv,
					  &b->priv_before),
		     0);
	return true;
}

static void bad_clear(struct bad *b)
{
	mls_update_path_clear(&b->path);
	mls_update_path_clear(&b->other);
	bw_writer_free(&b->gc);
	bw_writer_free(&b->priv_before);
	fx_snapshot_clear(&b->before);
	fx_group_clear(&b->g);
}

/* Neither the tree nor the receiver's private state changed. */
static bool unchanged(struct bad *b)
{
	struct bw_writer w;
	bool same;

	bw_writer_init(&w, 0);
	same = fx_snapshot_same(b->g.t, &b->before) &&
	       mls_tree_priv_encode(b->g.m[b->receiver].priv, &w) == 0 &&
	       w.len == b->priv_before.len &&
	       memcmp(w.buf, b->priv_before.buf, w.len) == 0;
	bw_writer_free(&w);
	return same;
}

static int merge_copy(struct bad *b, struct mls_update_path *p)
{
	int rc = mls_treekem_merge(b->g.t, b->sender, p);

	mls_update_path_clear(p);
	return rc;
}

static bool copy_path(const struct mls_update_path *src,
		      struct mls_update_path *dst)
{
	struct bw_writer w;
	struct bw_reader r;
	bool ok;

	bw_writer_init(&w, 0);
	ok = mls_update_path_encode(src, &w) == 0;
	bw_reader_init(&r, w.buf, w.len);
	ok = ok && mls_update_path_decode(&r, dst) == 0;
	bw_writer_free(&w);
	return ok;
}

static void drop_ciphertext(struct mls_update_path_node *n)
{
	mls_hpke_ciphertext_clear(
		&n->encrypted_path_secret[--n->n_encrypted_path_secret]);
}

static void drop_last_node(struct mls_update_path *p)
{
	struct mls_update_path_node *n = &p->nodes[p->n_nodes - 1];

	while (n->n_encrypted_path_secret > 0)
		drop_ciphertext(n);
	free(n->encrypted_path_secret);
	bw_bytes_clear(&n->encryption_key);
	p->n_nodes--;
}

static void set_bytes(struct bw_bytes *b, const uint8_t *p, size_t n)
{
	bw_bytes_clear(b);
	bw_bytes_set(b, p, n);
}

static bool test_bad_merge(void)
{
	const struct bw_bytes *k2;
	struct mls_update_path p;
	struct bad b;
	uint8_t junk[MLS_P256_POINT_LEN];

	CHECK(bad_setup(&b));
	CHECK(b.path.n_nodes >= 2);
	/* One node too few for the filtered direct path. */
	CHECK(copy_path(&b.path, &p));
	drop_last_node(&p);
	CHECK_EQ_INT(merge_copy(&b, &p), MLS_ERR_PATH);
	CHECK(unchanged(&b));
	/* Node keys of another path: the leaf's parent hash does not fit. */
	CHECK(copy_path(&b.path, &p));
	set_bytes(&p.nodes[1].encryption_key, b.other.nodes[1].encryption_key.p,
		  b.other.nodes[1].encryption_key.len);
	CHECK_EQ_INT(merge_copy(&b, &p), MLS_ERR_PARENT_HASH);
	CHECK(unchanged(&b));
	/* A node key that another node already holds. */
	k2 = &b.g.m[2].leaf.encryption_key;
	CHECK(copy_path(&b.path, &p));
	set_bytes(&p.nodes[0].encryption_key, k2->p, k2->len);
	CHECK_EQ_INT(merge_copy(&b, &p), MLS_ERR_DUPLICATE_KEY);
	CHECK(unchanged(&b));
	/* The committer's current leaf key again. */
	CHECK(copy_path(&b.path, &p));
	set_bytes(&p.leaf_node.encryption_key,
		  mls_tree_leaf(b.g.t, b.sender)->encryption_key.p,
		  mls_tree_leaf(b.g.t, b.sender)->encryption_key.len);
	CHECK_EQ_INT(merge_copy(&b, &p), MLS_ERR_DUPLICATE_KEY);
	CHECK(unchanged(&b));
	/* A leaf that is not of the commit source. */
	CHECK(copy_path(&b.path, &p));
	p.leaf_node.source = MLS_LEAF_SOURCE_UPDATE;
	CHECK_EQ_INT(merge_copy(&b, &p), MLS_ERR_LEAF_NODE);
	CHECK(unchanged(&b));
	/* A key that is no key of the suite's KEM: off the curve for P-256,
	 * a wrong length for X25519. */
	memset(junk, 0x04, sizeof(junk));
	CHECK(copy_path(&b.path, &p));
	set_bytes(&p.nodes[0].encryption_key, junk,
		  suite->kem_id == HPKE_KEM_P256_SHA256 ? sizeof(junk) : 31);
	CHECK_EQ_INT(merge_copy(&b, &p), MLS_ERR_BAD_KEY);
	CHECK(unchanged(&b));
	bad_clear(&b);
	return true;
}

static int decrypt(struct bad *b, const struct mls_tree_priv *priv,
		   const struct mls_update_path *p)
{
	struct mls_treekem_update *u = NULL;
	int rc = mls_treekem_decrypt(b->g.t, priv, b->sender, p, NULL, 0,
				     b->gc.buf, b->gc.len, &u);

	mls_treekem_update_free(u);
	return rc;
}

static bool test_bad_decrypt(void)
{
	struct mls_tree_priv *stranger = NULL, *recv;
	struct bw_bytes sk = { 0 }, pk = { 0 };
	struct mls_update_path p;
	struct bad b;

	CHECK(bad_setup(&b));
	recv = b.g.m[b.receiver].priv;
	CHECK_EQ_INT(mls_tree_txn_begin(b.g.t), 0);
	CHECK_EQ_INT(mls_treekem_merge(b.g.t, b.sender, &b.path), 0);
	CHECK_EQ_INT(decrypt(&b, recv, &b.path), 0);
	/* Tampered ciphertexts do not open. */
	CHECK(copy_path(&b.path, &p));
	for (size_t i = 0; i < p.n_nodes; i++)
		for (size_t j = 0; j < p.nodes[i].n_encrypted_path_secret; j++)
			p.nodes[i].encrypted_path_secret[j].ciphertext.p[0] ^= 1;
	CHECK_EQ_INT(decrypt(&b, recv, &p), MLS_ERR_AEAD);
	mls_update_path_clear(&p);
	/* Secrets of another path, sealed to the same keys and context, open
	 * but derive keys other than the tree's. */
	CHECK(copy_path(&b.other, &p));
	for (size_t i = 0; i < p.n_nodes; i++)
		set_bytes(&p.nodes[i].encryption_key,
			  b.path.nodes[i].encryption_key.p,
			  b.path.nodes[i].encryption_key.len);
	CHECK_EQ_INT(decrypt(&b, recv, &p), MLS_ERR_PATH_KEY_MISMATCH);
	mls_update_path_clear(&p);
	/* One ciphertext missing for a resolution. */
	CHECK(copy_path(&b.path, &p));
	for (size_t i = 0; i < p.n_nodes; i++)
		drop_ciphertext(&p.nodes[i]);
	CHECK_EQ_INT(decrypt(&b, recv, &p), MLS_ERR_PATH);
	mls_update_path_clear(&p);
	/* A member holding no key the path was encrypted to. */
	CHECK_EQ_INT(hpke_generate_keypair(suite->kem_id, &sk, &pk), 0);
	CHECK_EQ_INT(mls_tree_priv_new(suite, b.receiver, sk.p, sk.len,
				       &stranger),
		     0);
	CHECK_EQ_INT(decrypt(&b, stranger, &b.path), MLS_ERR_PATH_NO_KEY);
	/* The sender itself does not decrypt its own path. */
	CHECK_EQ_INT(decrypt(&b, b.g.m[b.sender].priv, &b.path),
		     MLS_ERR_INVALID_ARG);
	mls_tree_txn_rollback(b.g.t);
	CHECK(unchanged(&b));
	mls_tree_priv_free(stranger);
	bw_bytes_clear(&sk);
	bw_bytes_clear(&pk);
	bad_clear(&b);
	return true;
}

static bool test_bad_join(void)
{
	uint8_t secret[MLS_MAX_HASH_LEN] = { 1 };
	struct mls_tree_priv *recv;
	struct bad b;

	CHECK(bad_setup(&b));
	recv = b.g.m[b.receiver].priv;
	/* A Welcome's path secret that does not derive the tree's keys. */
	CHECK_EQ_INT(mls_tree_priv_join(recv, b.g.t, b.sender, secret,
					suite->hash_len),
		     MLS_ERR_PATH_KEY_MISMATCH);
	CHECK_EQ_INT(mls_tree_priv_join(recv, b.g.t, b.sender, secret, 7),
		     MLS_ERR_INVALID_ARG);
	/* A node off the member's direct path. */
	CHECK_EQ_INT(mls_tree_priv_set_path_secret(recv, b.g.t, 9, secret,
						   suite->hash_len),
		     MLS_ERR_INVALID_ARG);
	CHECK(unchanged(&b));
	bad_clear(&b);
	return true;
}

int main(void)
{
	static const uint16_t suites[] = {
		MLS_SUITE_X25519_AES128GCM_SHA256_ED25519,
		MLS_SUITE_P256_AES128GCM_SHA256_P256,
		MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519,
	};
	int failed = 0;

	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		suite = mls_suite_get(suites[i]);
		printf("-- suite %u\n", suite->id);
		RUN(test_rounds, &failed);
		RUN(test_alone, &failed);
		RUN(test_external_join, &failed);
		RUN(test_bad_merge, &failed);
		RUN(test_bad_decrypt, &failed);
		RUN(test_bad_join, &failed);
	}
	return failed ? 1 : 0;
}

/* test_tree.c - the ratchet tree: the RFC's resolution and filtered
 * direct path examples; random add/remove/update/commit sequences on trees
 * of up to 1,000 leaves checked against a naive recomputation of every
 * tree hash, parent-hash validity and the free-leaf search, with
 * transactions rolled back at random; and the joiner's validation
 * refusing each kind of bad tree with its own error. After every failure
 * the tree's serialisation and hash are unchanged. */
#include <stdlib.h>
#include <string.h>

#include "credential.h"
#include "test.h"
#include "tree.h"
#include "tree_fixture.h"

static const struct mls_suite *suite;

/* ---- deterministic randomness for the sequences ---- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t bound)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % bound);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(256);
}

/* ---- hand-built trees ---- */

static void key_for(struct bw_bytes *k, uint32_t tag)
{
	uint8_t raw[32] = { 0 };

	memcpy(raw, &tag, sizeof(tag));
	raw[31] = 0x5a;
	bw_bytes_set(k, raw, sizeof(raw));
}

/* A LeafNode with distinct keys and no valid signature: enough for the
 * tree's structure, which does not look at signatures. */
static struct mls_node leaf_node(uint32_t tag)
{
	struct mls_node n = { .type = MLS_NODE_LEAF };

	n.leaf = calloc(1, sizeof(*n.leaf));
	key_for(&n.leaf->encryption_key, tag);
	key_for(&n.leaf->signature_key, tag | 0x80000000u);
	n.leaf->credential.type = MLS_CREDENTIAL_BASIC;
	n.leaf->source = MLS_LEAF_SOURCE_UPDATE;
	return n;
}

static struct mls_node parent_node(uint32_t tag, const uint32_t *unmerged,
				   size_t n_unmerged)
{
	struct mls_node n = { .type = MLS_NODE_PARENT };

	n.parent = calloc(1, sizeof(*n.parent));
	key_for(&n.parent->encryption_key, tag);
	if (n_unmerged > 0) {
		n.parent->unmerged_leaves = calloc(n_unmerged, sizeof(uint32_t));
		memcpy(n.parent->unmerged_leaves, unmerged,
		       n_unmerged * sizeof(uint32_t));
		n.parent->n_unmerged_leaves = n_unmerged;
	}
	return n;
}

/* nodes: 'L' leaf, 'P' parent, '_' blank; unmerged lists for one node. */
static struct mls_tree *build(const char *shape, uint32_t with_unmerged,
			      const uint32_t *unmerged, size_t n_unmerged)
{
	struct mls_ratchet_tree rt = { 0 };
	struct mls_tree *t = NULL;
	size_t n = strlen(shape);

	rt.nodes = calloc(n, sizeof(*rt.nodes));
	rt.n_nodes = n;
	for (uint32_t x = 0; x < n; x++) {
		if (shape[x] == 'L')
			rt.nodes[x] = leaf_node(x);
		else if (shape[x] == 'P')
			rt.nodes[x] = x == with_unmerged
					      ? parent_node(x, unmerged,
							    n_unmerged)
					      : parent_node(x, NULL, 0);
	}
	if (mls_tree_import(suite, &rt, &t) != 0)
		return NULL;
	return t;
}

static bool resolution_is(struct mls_tree *t, uint32_t x,
			  const uint32_t *want, size_t n)
{
	struct mls_node_list l = { 0 };
	bool ok = mls_tree_resolution(t, x, NULL, 0, &l) == 0 && l.n == n &&
		  (n == 0 || memcmp(l.v, want, n * sizeof(*want)) == 0);

	mls_node_list_clear(&l);
	return ok;
}

/* §4.1 "A Tree with Blanks and Unmerged Leaves": X = node 3 with B
 * unmerged, Y = node 9, leaves 2 and 6 blank. */
static bool test_resolution_example(void)
{
	const uint32_t b[] = { 1 };
	struct mls_tree *t = build("L_LP__L_LPL___L", 3, b, 1);
	const uint32_t res_x[] = { 3, 2 }, res_root[] = { 3, 2, 9, 14 };
	const uint32_t excl[] = { 1 }, res_excl[] = { 3, 9, 14 };
	struct mls_node_list l = { 0 };

	CHECK(t != NULL);
	CHECK(resolution_is(t, 3, res_x, 2));
	CHECK(resolution_is(t, 4, NULL, 0));
	CHECK(resolution_is(t, 12, NULL, 0));
	CHECK(resolution_is(t, 7, res_root, 4));
	CHECK(mls_tree_resolution_empty(t, 12));
	CHECK(!mls_tree_resolution_empty(t, 11));
	/* The members a commit adds are left out (§7.6). */
	CHECK_EQ_INT(mls_tree_resolution(t, 7, excl, 1, &l), 0);
	CHECK_MEM(l.v, l.n * sizeof(uint32_t), res_excl, sizeof(res_excl));
	mls_node_list_clear(&l);
	CHECK_EQ_INT(mls_tree_resolution(t, 15, NULL, 0, &l),
		     MLS_ERR_INVALID_ARG);
	mls_tree_free(t);
	return true;
}

static bool fdp_is(struct mls_tree *t, uint32_t leaf, const uint32_t *want,
		   uint32_t n)
{
	uint32_t path[MLS_TM_MAX_PATH], copath[MLS_TM_MAX_PATH], len;

	return mls_tree_filtered_direct_path(t, leaf, path, copath, &len) ==
		       0 &&
	       len == n && memcmp(path, want, n * sizeof(*want)) == 0;
}

/* §4.1 "A Complete Tree with Five Members": A B _ _ E F G _ with T, W, X,
 * Y set and U, V, Z blank. */
static bool test_filtered_path_example(void)
{
	struct mls_tree *t = build("LPL____PLPLPL__", MLS_TM_NONE, NULL, 0);
	const uint32_t a[] = { 1, 7 }, e[] = { 9, 11, 7 }, g[] = { 11, 7 };
	uint32_t path[MLS_TM_MAX_PATH], copath[MLS_TM_MAX_PATH], n;

	CHECK(t != NULL);
	CHECK(fdp_is(t, 0, a, 2));
	CHECK(fdp_is(t, 1, a, 2));
	CHECK(fdp_is(t, 4, e, 3));
	CHECK(fdp_is(t, 5, e, 3));
	CHECK(fdp_is(t, 6, g, 2));
	CHECK_EQ_INT(mls_tree_filtered_direct_path(t, 8, path, copath, &n),
		     MLS_ERR_LEAF_INDEX);
	CHECK_EQ_INT(mls_tree_free_leaf(t), 2);
	mls_tree_free(t);
	return true;
}

/* ---- import checks ---- */

static bool test_import_structure(void)
{
	const uint32_t outside[] = { 2 }, unsorted[] = { 1, 0 },
		       blank_leaf[] = { 1 };
	struct mls_ratchet_tree rt = { 0 };
	struct mls_tree *t = NULL;

	/* Unmerged leaves must lie below the parent, in increasing order,
	 * and be members. */
	CHECK(build("LPL", 1, outside, 1) == NULL);
	CHECK(build("LPL", 1, unsorted, 2) == NULL);
	CHECK(build("LP_", 1, blank_leaf, 1) == NULL);
	/* Listed at P but not at the non-blank node between. */
	{
		const uint32_t one[] = { 0 };

		CHECK(build("LPLPL_L", 3, one, 1) == NULL);
	}
	/* An empty tree carries nothing. */
	CHECK_EQ_INT(mls_tree_import(suite, &rt, &t), MLS_ERR_TREE_INVALID);
	/* A leaf at a parent position. */
	rt.nodes = calloc(3, sizeof(*rt.nodes));
	rt.n_nodes = 3;
	rt.nodes[0] = leaf_node(0);
	rt.nodes[1] = leaf_node(1);
	rt.nodes[2] = leaf_node(2);
	CHECK_EQ_INT(mls_tree_import(suite, &rt, &t), MLS_ERR_TREE_INVALID);
	CHECK(rt.nodes == NULL && t == NULL);
	return true;
}

static bool test_import_duplicates(void)
{
	struct mls_ratchet_tree rt = { 0 };
	struct mls_tree *t = NULL;

	rt.nodes = calloc(3, sizeof(*rt.nodes));
	rt.n_nodes = 3;
	rt.nodes[0] = leaf_node(0);
	rt.nodes[2] = leaf_node(0); /* same encryption and signature keys */
	CHECK_EQ_INT(mls_tree_import(suite, &rt, &t), MLS_ERR_DUPLICATE_KEY);
	rt.nodes = calloc(3, sizeof(*rt.nodes));
	rt.n_nodes = 3;
	rt.nodes[0] = leaf_node(0);
	rt.nodes[1] = parent_node(0, NULL, 0); /* the leaf's key */
	rt.nodes[2] = leaf_node(2);
	CHECK_EQ_INT(mls_tree_import(suite, &rt, &t), MLS_ERR_DUPLICATE_KEY);
	rt.nodes = calloc(3, sizeof(*rt.nodes));
	rt.n_nodes = 3;
	rt.nodes[0] = leaf_node(0);
	rt.nodes[2] = leaf_node(2);
	bw_bytes_clear(&rt.nodes[2].leaf->signature_key);
	key_for(&rt.nodes[2].leaf->signature_key, 0x80000000u);
	CHECK_EQ_INT(mls_tree_import(suite, &rt, &t), MLS_ERR_DUPLICATE_KEY);
	return true;
}

/* ---- random sequences against a naive recomputation ---- */

/* A commit's public part with random keys: the path merged, the leaf set
 * with source commit and the right parent hash. */
static int public_commit(struct mls_tree *t, uint32_t leaf)
{
	uint32_t path[MLS_TM_MAX_PATH], copath[MLS_TM_MAX_PATH], n;
	struct bw_bytes keys[MLS_TM_MAX_PATH] = { { 0 } }, ph = { 0 };
	struct mls_leaf_node ln = { 0 };
	uint8_t raw[32];
	int rc;

	if ((rc = mls_tree_filtered_direct_path(t, leaf, path, copath, &n)))
		return rc;
	for (uint32_t i = 0; i < n; i++) {
		rnd_bytes(raw, sizeof(raw));
		bw_bytes_set(&keys[i], raw, sizeof(raw));
	}
	if ((rc = mls_tree_merge_path(t, leaf, keys, n, &ph)) == 0 &&
	    (rc = mls_leaf_node_copy(&ln, mls_tree_leaf(t, leaf))) == 0) {
		rnd_bytes(raw, sizeof(raw));
		bw_bytes_set(&ln.encryption_key, raw, sizeof(raw));
		ln.source = MLS_LEAF_SOURCE_COMMIT;
		memset(&ln.lifetime, 0, sizeof(ln.lifetime));
		bw_bytes_move(&ln.parent_hash, &ph);
		rc = mls_tree_set_leaf(t, leaf, &ln);
	}
	for (uint32_t i = 0; i < n; i++)
		bw_bytes_clear(&keys[i]);
	bw_bytes_clear(&ph);
	mls_leaf_node_clear(&ln);
	return rc;
}

static uint32_t next_id;

static int random_add(struct mls_tree *t)
{
	struct mls_node n = leaf_node(next_id++);
	uint32_t leaf;
	int rc = mls_tree_add_leaf(t, n.leaf, &leaf);

	mls_node_clear(&n);
	return rc;
}

static int random_update(struct mls_tree *t, uint32_t leaf)
{
	struct mls_leaf_node ln = { 0 };
	struct mls_node fresh = leaf_node(next_id++);
	int rc;

	if ((rc = mls_leaf_node_copy(&ln, mls_tree_leaf(t, leaf))) == 0) {
		bw_bytes_move(&ln.encryption_key, &fresh.leaf->encryption_key);
		ln.source = MLS_LEAF_SOURCE_UPDATE;
		bw_bytes_clear(&ln.parent_hash);
		rc = mls_tree_update_leaf(t, leaf, &ln);
	}
	mls_leaf_node_clear(&ln);
	mls_node_clear(&fresh);
	return rc;
}

static uint32_t random_member(struct mls_tree *t)
{
	uint32_t n = mls_tree_n_leaves(t), i = rnd(n);

	while (mls_tree_leaf(t, i) == NULL)
		i = (i + 1) % n;
	return i;
}

/* One random change; grows the tree while it is below target. */
static int random_op(struct mls_tree *t, uint32_t target)
{
	uint32_t r = rnd(100), members = mls_tree_n_members(t);

	if (members == 0 || (members < target && r < 45))
		return random_add(t);
	if (r < 65 && members > 1)
		return mls_tree_remove_leaf(t, random_member(t));
	if (r < 75)
		return random_update(t, random_member(t));
	return public_commit(t, random_member(t));
}

/* The free-leaf search agrees with a scan, the member count with a
 * count. */
static bool counts_right(struct mls_tree *t)
{
	uint32_t n = mls_tree_n_leaves(t), members = 0, first = n;

	for (uint32_t i = 0; i < n; i++) {
		if (mls_tree_leaf(t, i) != NULL)
			members++;
		else if (first == n)
			first = i;
	}
	return members == mls_tree_n_members(t) &&
	       first == mls_tree_free_leaf(t);
}

/* A few changes in a transaction, rolled back: nothing changed. */
static bool rollback_probe(struct mls_tree *t, uint32_t target)
{
	struct fx_snapshot before;
	uint32_t n_leaves = mls_tree_n_leaves(t);
	bool ok;

	if (fx_snapshot_take(t, &before) != 0 || mls_tree_txn_begin(t) != 0)
		return false;
	for (uint32_t i = 1 + rnd(5); i > 0; i--)
		if (random_op(t, target) != 0)
			break;
	mls_tree_txn_rollback(t);
	ok = fx_snapshot_same(t, &before) && mls_tree_n_leaves(t) == n_leaves;
	fx_snapshot_clear(&before);
	return ok;
}

/* ops random changes towards target members, every cached hash checked
 * against the naive one each check_every changes; *peak receives the
 * largest membership reached. */
static bool run_sequence(uint64_t seed, uint32_t target, uint32_t ops,
			 uint32_t check_every, uint32_t *peak)
{
	struct mls_tree *t = NULL;

	rng_state = seed;
	CHECK_EQ_INT(mls_tree_new(suite, &t), 0);
	for (uint32_t i = 0; i < ops; i++) {
		bool full = i % check_every == 0 || i + 1 == ops;

		if (mls_tree_n_members(t) > 0 && rnd(20) == 0) {
			if (!rollback_probe(t, target)) {
				fprintf(stderr, "seed %llu op %u: rollback\n",
					(unsigned long long)seed, i);
				return false;
			}
			continue;
		}
		CHECK_EQ_INT(random_op(t, target), 0);
		CHECK(counts_right(t));
		if (mls_tree_n_members(t) > *peak)
			*peak = mls_tree_n_members(t);
		if (full && !fx_hashes_match(t)) {
			fprintf(stderr, "seed %llu op %u: hash cache wrong\n",
				(unsigned long long)seed, i);
			return false;
		}
		if (full)
			CHECK_EQ_INT(mls_tree_verify_parent_hashes(t), 0);
	}
	mls_tree_free(t);
	return true;
}

static bool test_random_small(void)
{
	uint32_t peak = 0;

	for (uint64_t seed = 1; seed <= 20; seed++)
		CHECK(run_sequence(seed * 0x9e3779b97f4a7c15u, 40, 300, 1,
				   &peak));
	CHECK(peak == 40);
	return true;
}

static bool test_random_1000(void)
{
	uint32_t peak = 0;

	CHECK(run_sequence(0x1234567887654321u, 1000, 6000, 200, &peak));
	CHECK(peak == 1000);
	return true;
}

/* ---- live changes that fail change nothing ---- */

static bool test_failures_change_nothing(void)
{
	struct fx_group g;
	struct fx_snapshot snap;
	struct mls_leaf_node dup = { 0 };
	struct bw_bytes keys[3] = { { 0 } }, ph = { 0 };
	struct mls_tree_savepoint sp;
	uint32_t leaf, blank;

	CHECK_EQ_INT(fx_group_new(suite, &g), 0);
	for (int i = 0; i < 6; i++)
		CHECK_EQ_INT(fx_add(&g, &leaf), 0);
	CHECK_EQ_INT(fx_commit(&g, 0, NULL, 0), 0);
	CHECK_EQ_INT(fx_remove(&g, 2), 0);
	blank = 2;
	CHECK_EQ_INT(fx_snapshot_take(g.t, &snap), 0);

	/* Another member's encryption key, then signature key. */
	CHECK_EQ_INT(mls_leaf_node_copy(&dup, &g.m[1].leaf), 0);
	CHECK_EQ_INT(mls_tree_add_leaf(g.t, &dup, &leaf),
		     MLS_ERR_DUPLICATE_KEY);
	key_for(&dup.encryption_key, 777);
	CHECK_EQ_INT(mls_tree_add_leaf(g.t, &dup, &leaf),
		     MLS_ERR_DUPLICATE_KEY);
	CHECK_EQ_INT(mls_tree_update_leaf(g.t, 3, &dup),
		     MLS_ERR_DUPLICATE_KEY);
	CHECK(fx_snapshot_same(g.t, &snap));
	CHECK_EQ_INT(mls_tree_update_leaf(g.t, blank, &dup),
		     MLS_ERR_BLANK_NODE);
	CHECK_EQ_INT(mls_tree_update_leaf(g.t, 64, &dup), MLS_ERR_LEAF_INDEX);
	CHECK_EQ_INT(mls_tree_remove_leaf(g.t, blank), MLS_ERR_BLANK_NODE);
	CHECK_EQ_INT(mls_tree_remove_leaf(g.t, 64), MLS_ERR_LEAF_INDEX);
	/* A path of the wrong length, and one reusing a key in the tree. */
	key_for(&keys[0], 901);
	key_for(&keys[1], 902);
	CHECK_EQ_INT(mls_tree_merge_path(g.t, 0, keys, 2, &ph), MLS_ERR_PATH);
	bw_bytes_clear(&keys[1]);
	bw_bytes_set(&keys[1], g.m[5].leaf.encryption_key.p,
		     g.m[5].leaf.encryption_key.len);
	key_for(&keys[2], 903);
	CHECK_EQ_INT(mls_tree_merge_path(g.t, 0, keys, 3, &ph),
		     MLS_ERR_DUPLICATE_KEY);
	bw_bytes_clear(&keys[1]);
	key_for(&keys[1], 902);
	bw_bytes_clear(&keys[2]);
	key_for(&keys[2], 901); /* repeated within the path */
	CHECK_EQ_INT(mls_tree_merge_path(g.t, 0, keys, 3, &ph),
		     MLS_ERR_DUPLICATE_KEY);
	CHECK(fx_snapshot_same(g.t, &snap));
	CHECK(fx_hashes_match(g.t));

	/* Savepoints: a change rolled back, a nested one too. */
	mls_tree_savepoint(g.t, &sp);
	CHECK_EQ_INT(mls_tree_remove_leaf(g.t, 1), 0);
	CHECK_EQ_INT(mls_tree_txn_begin(g.t), MLS_ERR_STATE);
	mls_tree_rollback_to(g.t, &sp);
	CHECK(!mls_tree_txn_active(g.t));
	CHECK(fx_snapshot_same(g.t, &snap));

	for (int i = 0; i < 3; i++)
		bw_bytes_clear(&keys[i]);
	mls_leaf_node_clear(&dup);
	fx_snapshot_clear(&snap);
	fx_group_clear(&g);
	return true;
}

static bool test_truncate_and_extend(void)
{
	struct fx_group g;
	uint32_t leaf;

	CHECK_EQ_INT(fx_group_new(suite, &g), 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(fx_add(&g, &leaf), 0);
	CHECK_EQ_INT(mls_tree_n_leaves(g.t), 8);
	CHECK_EQ_INT(fx_commit(&g, 4, NULL, 0), 0);
	/* Removing the right edge shrinks the tree to what remains. */
	CHECK_EQ_INT(fx_remove(&g, 4), 0);
	CHECK_EQ_INT(mls_tree_n_leaves(g.t), 4);
	CHECK_EQ_INT(fx_remove(&g, 3), 0);
	CHECK_EQ_INT(fx_remove(&g, 2), 0);
	CHECK_EQ_INT(mls_tree_n_leaves(g.t), 2);
	CHECK(fx_hashes_match(g.t));
	CHECK_EQ_INT(fx_add(&g, &leaf), 0);
	CHECK_EQ_INT(leaf, 2);
	CHECK_EQ_INT(mls_tree_n_leaves(g.t), 4);
	CHECK(fx_hashes_match(g.t));
	CHECK_EQ_INT(fx_remove(&g, 0), 0);
	CHECK_EQ_INT(mls_tree_free_leaf(g.t), 0);
	CHECK_EQ_INT(mls_tree_verify_parent_hashes(g.t), 0);
	fx_group_clear(&g);
	return true;
}

/* ---- a joiner's validation ---- */

struct bad_tree {
	struct mls_ratchet_tree rt;
	struct mls_tree *t;
	uint8_t th[MLS_MAX_HASH_LEN];
};

static struct fx_group valid_group;
/* Leaf 8 of the valid group, alone under the blank root: no parent hash
 * covers it, so changing it leaves the parent-hash chains intact and the
 * change reaches the leaf checks. */
#define UNCOVERED 16

/* A group of 9 with parents from three commits; leaf 7 joined in the
 * last one and stays unmerged at node 11; leaf 8 extended the tree to 16
 * leaves under a blank root. */
static bool make_valid_group(void)
{
	uint32_t leaf, joiner;

	CHECK_EQ_INT(fx_group_new(suite, &valid_group), 0);
	for (int i = 0; i < 6; i++)
		CHECK_EQ_INT(fx_add(&valid_group, &leaf), 0);
	CHECK_EQ_INT(fx_commit(&valid_group, 2, NULL, 0), 0);
	CHECK_EQ_INT(fx_commit(&valid_group, 5, NULL, 0), 0);
	CHECK_EQ_INT(fx_add(&valid_group, &joiner), 0);
	CHECK_EQ_INT(joiner, 7);
	CHECK_EQ_INT(fx_commit(&valid_group, 0, &joiner, 1), 0);
	CHECK_EQ_INT(fx_add(&valid_group, &leaf), 0);
	CHECK_EQ_INT(mls_tree_n_leaves(valid_group.t), 16);
	CHECK(mls_tree_parent(valid_group.t, 11)->n_unmerged_leaves == 1);
	return true;
}

/* The valid group's tree, exported for corruption. */
static bool export_tree(struct bad_tree *b)
{
	memset(b, 0, sizeof(*b));
	return mls_tree_export(valid_group.t, &b->rt) == 0;
}

/* Import the (corrupted) tree and validate it against its own hash. */
static int import_validate(struct bad_tree *b,
			   const struct mls_leaf_policy *pol)
{
	int rc;

	if ((rc = mls_tree_import(suite, &b->rt, &b->t)) != 0 ||
	    (rc = mls_tree_hash(b->t, b->th)) != 0)
		return rc;
	rc = mls_tree_validate(b->t, b->th, suite->hash_len, valid_group.gid,
			       sizeof(valid_group.gid), pol);
	mls_tree_free(b->t);
	b->t = NULL;
	return rc;
}

static int reject_member_3(void *arg, const struct mls_credential *c,
			   const uint8_t *key, size_t len)
{
	(void)arg;
	(void)key;
	(void)len;
	return c->identity.len == 8 && memcmp(c->identity.p, "member-3", 8) == 0;
}

static bool test_validate(void)
{
	struct mls_leaf_policy pol = { .accept = fx_accept_all };
	struct bad_tree b;
	uint8_t th[MLS_MAX_HASH_LEN];

	CHECK(make_valid_group());
	/* The genuine tree passes, and only with its own hash. */
	CHECK(export_tree(&b));
	CHECK_EQ_INT(import_validate(&b, &pol), 0);
	CHECK_EQ_INT(mls_tree_hash(valid_group.t, th), 0);
	th[0] ^= 1;
	CHECK_EQ_INT(mls_tree_validate(valid_group.t, th, suite->hash_len,
				       valid_group.gid, sizeof(valid_group.gid),
				       &pol),
		     MLS_ERR_TREE_HASH);
	CHECK_EQ_INT(mls_tree_validate(valid_group.t, th, suite->hash_len,
				       valid_group.gid, sizeof(valid_group.gid),
				       NULL),
		     MLS_ERR_INVALID_ARG);

	/* A parent's parent_hash altered: its chain breaks. */
	CHECK(export_tree(&b));
	CHECK(b.rt.nodes[3].type == MLS_NODE_PARENT);
	b.rt.nodes[3].parent->parent_hash.p[0] ^= 1;
	CHECK_EQ_INT(import_validate(&b, &pol), MLS_ERR_PARENT_HASH);
	/* A parent's key swapped for another valid key. */
	CHECK(export_tree(&b));
	bw_bytes_clear(&b.rt.nodes[3].parent->encryption_key);
	bw_bytes_set(&b.rt.nodes[3].parent->encryption_key,
		     valid_group.m[0].leaf.signature_key.p, 32);
	CHECK_EQ_INT(import_validate(&b, &pol), MLS_ERR_PARENT_HASH);
	/* A leaf's signature forged. */
	CHECK(export_tree(&b));
	b.rt.nodes[UNCOVERED].leaf->signature.p[3] ^= 0x10;
	CHECK_EQ_INT(import_validate(&b, &pol), MLS_ERR_SIGNATURE);
	/* The Authentication Service refuses member-3. */
	CHECK(export_tree(&b));
	pol.accept = reject_member_3;
	CHECK_EQ_INT(import_validate(&b, &pol), MLS_ERR_CREDENTIAL);
	pol.accept = fx_accept_all;
	/* A duplicate key never gets as far as validation. */
	CHECK(export_tree(&b));
	bw_bytes_clear(&b.rt.nodes[4].leaf->encryption_key);
	bw_bytes_set(&b.rt.nodes[4].leaf->encryption_key,
		     b.rt.nodes[8].leaf->encryption_key.p,
		     b.rt.nodes[8].leaf->encryption_key.len);
	CHECK_EQ_INT(import_validate(&b, &pol), MLS_ERR_DUPLICATE_KEY);
	mls_ratchet_tree_clear(&b.rt);
	return true;
}

static bool test_validate_policy(void)
{
	struct mls_leaf_policy pol = { .accept = fx_accept_all };
	struct mls_extension_list ext = { 0 };
	uint8_t req_data[] = { 2, 0xff, 0x00, 0, 0 }; /* extension 0xff00 */
	struct mls_extension req = { MLS_EXT_REQUIRED_CAPABILITIES,
				     { req_data, sizeof(req_data) } };
	struct bad_tree b;

	/* A member without the group's suite in its capabilities. */
	CHECK(export_tree(&b));
	b.rt.nodes[UNCOVERED].leaf->capabilities.cipher_suites.v[0] = 0x7777;
	CHECK_EQ_INT(import_validate(&b, &pol), MLS_ERR_CAPABILITIES);
	/* The group requires an extension nobody supports. */
	ext.v = &req;
	ext.n = 1;
	pol.group_extensions = &ext;
	CHECK(export_tree(&b));
	CHECK_EQ_INT(import_validate(&b, &pol), MLS_ERR_CAPABILITIES);
	pol.group_extensions = NULL;
	/* The key_package leaf outside its lifetime, or too long-lived. */
	CHECK(export_tree(&b));
	CHECK(b.rt.nodes[UNCOVERED].leaf->source ==
	      MLS_LEAF_SOURCE_KEY_PACKAGE);
	b.rt.nodes[UNCOVERED].leaf->lifetime.not_after = 1000;
	pol.check_lifetime = true;
	pol.now = 2000;
	CHECK_EQ_INT(import_validate(&b, &pol), MLS_ERR_LIFETIME);
	pol.check_lifetime = false;
	pol.max_lifetime = 86400;
	CHECK(export_tree(&b));
	CHECK_EQ_INT(import_validate(&b, &pol), MLS_ERR_LIFETIME);
	pol.max_lifetime = 0;
	/* A credential type another member does not support. */
	CHECK(export_tree(&b));
	b.rt.nodes[UNCOVERED].leaf->capabilities.credentials.v[0] = 0x7777;
	CHECK_EQ_INT(import_validate(&b, &pol), MLS_ERR_CAPABILITIES);
	CHECK_EQ_INT(mls_tree_leaf_compatible(valid_group.t,
					      &valid_group.m[1].leaf, 1),
		     0);
	fx_group_clear(&valid_group);
	return true;
}

static bool test_clone_and_encode(void)
{
	struct fx_group g;
	struct mls_tree *c = NULL, *d = NULL;
	struct fx_snapshot snap;
	struct bw_writer w;
	uint32_t leaf;

	CHECK_EQ_INT(fx_group_new(suite, &g), 0);
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(fx_add(&g, &leaf), 0);
	CHECK_EQ_INT(fx_commit(&g, 3, NULL, 0), 0);
	CHECK_EQ_INT(fx_snapshot_take(g.t, &snap), 0);
	CHECK_EQ_INT(mls_tree_clone(g.t, &c), 0);
	CHECK(fx_snapshot_same(c, &snap));
	CHECK_EQ_INT(mls_tree_remove_leaf(c, 1), 0);
	CHECK(fx_snapshot_same(g.t, &snap));
	CHECK(!fx_snapshot_same(c, &snap));
	CHECK(mls_tree_find_leaf(c, &g.m[2].leaf, &leaf) && leaf == 2);
	CHECK(!mls_tree_find_leaf(c, &g.m[1].leaf, &leaf));
	/* Encode, decode: the same tree. */
	bw_writer_init(&w, 0);
	CHECK_EQ_INT(mls_tree_encode(g.t, &w), 0);
	CHECK_EQ_INT(mls_tree_decode(suite, w.buf, w.len, &d), 0);
	CHECK(fx_snapshot_same(d, &snap));
	CHECK(mls_tree_memory(d) > 6 * sizeof(struct mls_leaf_node));
	bw_writer_free(&w);
	mls_tree_free(c);
	mls_tree_free(d);
	fx_snapshot_clear(&snap);
	fx_group_clear(&g);
	return true;
}

int main(void)
{
	int failed = 0;

	suite = mls_suite_get(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
	RUN(test_resolution_example, &failed);
	RUN(test_filtered_path_example, &failed);
	RUN(test_import_structure, &failed);
	RUN(test_import_duplicates, &failed);
	RUN(test_random_small, &failed);
	RUN(test_random_1000, &failed);
	RUN(test_failures_change_nothing, &failed);
	RUN(test_truncate_and_extend, &failed);
	RUN(test_validate, &failed);
	RUN(test_validate_policy, &failed);
	RUN(test_clone_and_encode, &failed);
	return failed ? 1 : 0;
}

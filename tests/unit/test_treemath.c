/* test_treemath.c - tree arithmetic: the RFC 9420 §4.1 example paths,
 * structural properties over every node of trees up to 2^20 leaves, the
 * extremes of a 2^31-leaf tree, and explicit "no node" answers for input
 * outside the tree. */
#include <stdint.h>

#include "mls/mls.h"
#include "test.h"
#include "treemath.h"

static bool path_is(const uint32_t *got, uint32_t n, const uint32_t *want,
		    uint32_t want_n)
{
	CHECK_EQ_INT(n, want_n);
	for (uint32_t i = 0; i < n; i++)
		CHECK_EQ_INT(got[i], want[i]);
	return true;
}

/* §4.1 figure: eight leaves A B _ _ E F G _, nodes T U W V X Y Z. */
static bool test_rfc_example(void)
{
	static const uint32_t a_path[] = { 1, 3, 7 }, a_copath[] = { 2, 5, 11 };
	static const uint32_t e_path[] = { 9, 11, 7 }, e_copath[] = { 10, 13, 3 };
	static const uint32_t g_path[] = { 13, 11, 7 }, g_copath[] = { 14, 9, 3 };
	uint32_t p[MLS_TM_MAX_PATH], n;

	CHECK(mls_tm_direct_path(0, 8, p, &n) == 0 && path_is(p, n, a_path, 3));
	CHECK(mls_tm_copath(0, 8, p, &n) == 0 && path_is(p, n, a_copath, 3));
	CHECK(mls_tm_direct_path(8, 8, p, &n) == 0 && path_is(p, n, e_path, 3));
	CHECK(mls_tm_copath(8, 8, p, &n) == 0 && path_is(p, n, e_copath, 3));
	CHECK(mls_tm_direct_path(12, 8, p, &n) == 0 && path_is(p, n, g_path, 3));
	CHECK(mls_tm_copath(12, 8, p, &n) == 0 && path_is(p, n, g_copath, 3));
	CHECK(mls_tm_direct_path(7, 8, p, &n) == 0 && n == 0);
	CHECK(mls_tm_copath(7, 8, p, &n) == 0 && n == 0);
	CHECK_EQ_INT(mls_tm_common_ancestor(0, 2, 8), 1);
	CHECK_EQ_INT(mls_tm_common_ancestor(0, 8, 8), 7);
	CHECK_EQ_INT(mls_tm_common_ancestor(8, 12, 8), 11);
	CHECK_EQ_INT(mls_tm_common_ancestor(9, 10, 8), 9);
	CHECK_EQ_INT(mls_tm_common_ancestor(5, 5, 8), 5);
	return true;
}

/* Properties every node must have; x is a node of the tree with n leaves. */
static bool node_properties(uint32_t x, uint32_t n)
{
	uint32_t root = mls_tm_root(n), k = mls_tm_level(x), p[MLS_TM_MAX_PATH];
	uint32_t c[MLS_TM_MAX_PATH], len, clen;

	if (!mls_tm_is_leaf(x)) {
		uint32_t l = mls_tm_left(x, n), r = mls_tm_right(x, n);

		CHECK(l < x && x < r && mls_tm_in_tree(r, n));
		CHECK_EQ_INT(mls_tm_parent(l, n), x);
		CHECK_EQ_INT(mls_tm_parent(r, n), x);
		CHECK_EQ_INT(mls_tm_level(l), k - 1);
		CHECK_EQ_INT(mls_tm_sibling(l, n), r);
		CHECK_EQ_INT(mls_tm_common_ancestor(l, r, n), x);
	} else {
		CHECK_EQ_INT(mls_tm_left(x, n), MLS_TM_NONE);
		CHECK_EQ_INT(mls_tm_leaf_node(mls_tm_node_leaf(x)), x);
	}
	CHECK(mls_tm_direct_path(x, n, p, &len) == 0);
	CHECK(mls_tm_copath(x, n, c, &clen) == 0);
	CHECK_EQ_INT(len, mls_tm_level(root) - k);
	CHECK_EQ_INT(clen, len);
	if (x == root)
		return mls_tm_parent(x, n) == MLS_TM_NONE;
	CHECK_EQ_INT(p[len - 1], root);
	CHECK_EQ_INT(p[0], mls_tm_parent(x, n));
	CHECK_EQ_INT(c[0], mls_tm_sibling(x, n));
	CHECK_EQ_INT(mls_tm_sibling(mls_tm_sibling(x, n), n), x);
	CHECK(mls_tm_is_descendant(x, p[len - 1], n));
	CHECK(!mls_tm_is_descendant(x, c[0], n));
	return true;
}

static bool test_properties_up_to_2_20(void)
{
	for (uint32_t n = 1; n <= (UINT32_C(1) << 20); n *= 2) {
		uint32_t w = mls_tm_node_width(n);
		uint64_t leaves = 0;

		CHECK_EQ_INT(w, 2 * n - 1);
		CHECK_EQ_INT(mls_tm_subtree_leaves(mls_tm_root(n), n), n);
		for (uint32_t x = 0; x < w; x++) {
			if (!node_properties(x, n)) {
				fprintf(stderr, "n=%u x=%u\n", n, x);
				return false;
			}
			leaves += mls_tm_is_leaf(x);
		}
		CHECK_EQ_INT(leaves, n);
		CHECK_EQ_INT(mls_tm_parent(w, n), MLS_TM_NONE);
	}
	return true;
}

/* The common ancestor is the lowest node both direct paths share. */
static bool test_common_ancestor_brute_force(void)
{
	const uint32_t n = 64, w = mls_tm_node_width(n);

	for (uint32_t x = 0; x < w; x++) {
		for (uint32_t y = 0; y < w; y++) {
			uint32_t a = mls_tm_common_ancestor(x, y, n), want = x;

			/* climb from x until y lies below */
			while (!mls_tm_is_descendant(y, want, n))
				want = mls_tm_parent(want, n);
			CHECK_EQ_INT(a, want);
			CHECK(mls_tm_is_descendant(x, a, n));
		}
	}
	return true;
}

static bool test_largest_tree(void)
{
	const uint32_t n = MLS_TM_MAX_LEAVES, last = UINT32_MAX - 1;
	uint32_t p[MLS_TM_MAX_PATH], len;

	CHECK(mls_tm_valid_leaves(n));
	CHECK_EQ_INT(mls_tm_node_width(n), UINT32_MAX);
	CHECK_EQ_INT(mls_tm_root(n), n - 1);
	CHECK_EQ_INT(mls_tm_level(n - 1), 31);
	CHECK_EQ_INT(mls_tm_leaf_node(n - 1), last);
	CHECK_EQ_INT(mls_tm_leaf_node(n), MLS_TM_NONE);
	CHECK(mls_tm_in_tree(last, n) && !mls_tm_in_tree(UINT32_MAX, n));
	CHECK_EQ_INT(mls_tm_left(n - 1, n), (n >> 1) - 1);
	CHECK_EQ_INT(mls_tm_right(n - 1, n), n + (n >> 1) - 1);
	CHECK_EQ_INT(mls_tm_parent(last, n), last - 1);
	CHECK_EQ_INT(mls_tm_sibling(last, n), last - 2);
	CHECK(mls_tm_direct_path(last, n, p, &len) == 0);
	CHECK_EQ_INT(len, MLS_TM_MAX_PATH);
	CHECK_EQ_INT(p[len - 1], n - 1);
	CHECK_EQ_INT(mls_tm_common_ancestor(0, last, n), n - 1);
	CHECK(node_properties(last, n) && node_properties(0, n) &&
	      node_properties(n - 1, n) && node_properties(last - 1, n));
	CHECK_EQ_INT(mls_tm_subtree_leaves(n - 1, n), n);
	return true;
}

static bool test_out_of_range(void)
{
	static const uint32_t bad_n[] = { 0, 3, 6, 1000, (UINT32_C(1) << 31) + 1,
					  UINT32_MAX };
	uint32_t p[MLS_TM_MAX_PATH], len;

	for (size_t i = 0; i < sizeof(bad_n) / sizeof(bad_n[0]); i++) {
		CHECK(!mls_tm_valid_leaves(bad_n[i]));
		CHECK_EQ_INT(mls_tm_node_width(bad_n[i]), 0);
		CHECK_EQ_INT(mls_tm_root(bad_n[i]), MLS_TM_NONE);
		CHECK_EQ_INT(mls_tm_parent(0, bad_n[i]), MLS_TM_NONE);
		CHECK_EQ_INT(mls_tm_direct_path(0, bad_n[i], p, &len),
			     MLS_ERR_INVALID_ARG);
	}
	CHECK_EQ_INT(mls_tm_parent(7, 8), MLS_TM_NONE);   /* root */
	CHECK_EQ_INT(mls_tm_sibling(7, 8), MLS_TM_NONE);
	CHECK_EQ_INT(mls_tm_left(15, 8), MLS_TM_NONE);    /* outside */
	CHECK_EQ_INT(mls_tm_right(15, 8), MLS_TM_NONE);
	CHECK_EQ_INT(mls_tm_parent(15, 8), MLS_TM_NONE);
	CHECK_EQ_INT(mls_tm_right(4, 8), MLS_TM_NONE);    /* leaf */
	CHECK_EQ_INT(mls_tm_common_ancestor(0, 15, 8), MLS_TM_NONE);
	CHECK(!mls_tm_is_descendant(15, 7, 8));
	CHECK_EQ_INT(mls_tm_subtree_leaves(15, 8), 0);
	CHECK_EQ_INT(mls_tm_level(MLS_TM_NONE), MLS_TM_NONE);
	CHECK_EQ_INT(mls_tm_node_leaf(3), MLS_TM_NONE);
	CHECK_EQ_INT(mls_tm_direct_path(15, 8, p, &len), MLS_ERR_INVALID_ARG);
	CHECK_EQ_INT(len, 0);
	CHECK_EQ_INT(mls_tm_copath(UINT32_MAX, 8, p, &len), MLS_ERR_INVALID_ARG);
	return true;
}

int main(void)
{
	int failed = 0;

	RUN(test_rfc_example, &failed);
	RUN(test_properties_up_to_2_20, &failed);
	RUN(test_common_ancestor_brute_force, &failed);
	RUN(test_largest_tree, &failed);
	RUN(test_out_of_range, &failed);
	return failed ? 1 : 0;
}

/*
 * treemath.c - array-based tree arithmetic (RFC 9420 Appendix C) for
 * perfect binary trees of up to 2^31 leaves.
 *
 * The layout is in-order: a node at level k has its children at
 * x -/+ 2^(k-1), and its subtree is the contiguous range x -/+ (2^k - 1).
 * Every shift below is by at most 31, because the only index with 32
 * trailing one bits is MLS_TM_NONE, which callers never reach as a node.
 */
#include "treemath.h"

#include "mls/mls.h"

bool mls_tm_valid_leaves(uint32_t n_leaves)
{
	return n_leaves != 0 && n_leaves <= MLS_TM_MAX_LEAVES &&
	       (n_leaves & (n_leaves - 1)) == 0;
}

uint32_t mls_tm_node_width(uint32_t n_leaves)
{
	if (!mls_tm_valid_leaves(n_leaves))
		return 0;
	return 2 * (n_leaves - 1) + 1; /* 2^32 - 1 at most: no overflow */
}

bool mls_tm_in_tree(uint32_t x, uint32_t n_leaves)
{
	return x < mls_tm_node_width(n_leaves);
}

uint32_t mls_tm_level(uint32_t x)
{
	uint32_t k = 0;

	if (x == MLS_TM_NONE)
		return MLS_TM_NONE;
	while ((x >> k) & 1u)
		k++;
	return k;
}

bool mls_tm_is_leaf(uint32_t x)
{
	return (x & 1u) == 0;
}

uint32_t mls_tm_leaf_node(uint32_t leaf)
{
	return leaf < MLS_TM_MAX_LEAVES ? 2 * leaf : MLS_TM_NONE;
}

uint32_t mls_tm_node_leaf(uint32_t x)
{
	return mls_tm_is_leaf(x) ? x / 2 : MLS_TM_NONE;
}

uint32_t mls_tm_root(uint32_t n_leaves)
{
	/* (1 << log2(2n - 1)) - 1 of Appendix C, for n a power of two. */
	return mls_tm_valid_leaves(n_leaves) ? n_leaves - 1 : MLS_TM_NONE;
}

uint32_t mls_tm_left(uint32_t x, uint32_t n_leaves)
{
	uint32_t k;

	if (!mls_tm_in_tree(x, n_leaves) || mls_tm_is_leaf(x))
		return MLS_TM_NONE;
	k = mls_tm_level(x);
	return x ^ (UINT32_C(1) << (k - 1));
}

uint32_t mls_tm_right(uint32_t x, uint32_t n_leaves)
{
	uint32_t k;

	if (!mls_tm_in_tree(x, n_leaves) || mls_tm_is_leaf(x))
		return MLS_TM_NONE;
	k = mls_tm_level(x);
	return x ^ (UINT32_C(3) << (k - 1));
}

/* Parent of a non-root node x at level k (k <= 30 below the root). */
static uint32_t parent_at(uint32_t x, uint32_t k)
{
	uint32_t b = (x >> (k + 1)) & 1u;

	return (x | (UINT32_C(1) << k)) ^ (b << (k + 1));
}

uint32_t mls_tm_parent(uint32_t x, uint32_t n_leaves)
{
	if (!mls_tm_in_tree(x, n_leaves) || x == mls_tm_root(n_leaves))
		return MLS_TM_NONE;
	return parent_at(x, mls_tm_level(x));
}

uint32_t mls_tm_sibling(uint32_t x, uint32_t n_leaves)
{
	uint32_t p = mls_tm_parent(x, n_leaves);

	if (p == MLS_TM_NONE)
		return MLS_TM_NONE;
	return x < p ? mls_tm_right(p, n_leaves) : mls_tm_left(p, n_leaves);
}

uint64_t mls_tm_subtree_leaves(uint32_t x, uint32_t n_leaves)
{
	if (!mls_tm_in_tree(x, n_leaves))
		return 0;
	return UINT64_C(1) << mls_tm_level(x);
}

bool mls_tm_is_descendant(uint32_t x, uint32_t y, uint32_t n_leaves)
{
	uint64_t half;

	if (!mls_tm_in_tree(x, n_leaves) || !mls_tm_in_tree(y, n_leaves))
		return false;
	half = mls_tm_subtree_leaves(y, n_leaves) - 1;
	return (uint64_t)x + half >= y && (uint64_t)x <= (uint64_t)y + half;
}

uint32_t mls_tm_common_ancestor(uint32_t x, uint32_t y, uint32_t n_leaves)
{
	uint32_t lx, ly;

	if (!mls_tm_in_tree(x, n_leaves) || !mls_tm_in_tree(y, n_leaves))
		return MLS_TM_NONE;
	lx = mls_tm_level(x);
	ly = mls_tm_level(y);
	/* Climb the lower node (x on a tie) until the two meet: at most
	 * log2(n) steps each. */
	while (x != y) {
		if (lx <= ly)
			x = parent_at(x, lx++);
		else
			y = parent_at(y, ly++);
	}
	return x;
}

int mls_tm_direct_path(uint32_t x, uint32_t n_leaves,
		       uint32_t out[MLS_TM_MAX_PATH], uint32_t *len)
{
	uint32_t root = mls_tm_root(n_leaves), k;

	*len = 0;
	if (!mls_tm_in_tree(x, n_leaves))
		return MLS_ERR_INVALID_ARG;
	for (k = mls_tm_level(x); x != root; k++) {
		x = parent_at(x, k);
		out[(*len)++] = x;
	}
	return 0;
}

int mls_tm_copath(uint32_t x, uint32_t n_leaves,
		  uint32_t out[MLS_TM_MAX_PATH], uint32_t *len)
{
	uint32_t root = mls_tm_root(n_leaves), k, p;

	*len = 0;
	if (!mls_tm_in_tree(x, n_leaves))
		return MLS_ERR_INVALID_ARG;
	/* The sibling of a child of p at level k is p's other child,
	 * p -/+ 2^k. */
	for (k = mls_tm_level(x); x != root; k++, x = p) {
		p = parent_at(x, k);
		out[(*len)++] = x < p ? p + (UINT32_C(1) << k) :
					p - (UINT32_C(1) << k);
	}
	return 0;
}

/*
 * treemath.h - index arithmetic on MLS trees stored as arrays
 * (RFC 9420 §4.1, Appendix C).
 *
 * An MLS tree is always a perfect binary tree: its leaf count n is a power
 * of two (§4.1), leaf i is node 2i, and parents sit at the odd indices.
 * Trees of up to 2^31 leaves are supported, so every node index fits in a
 * uint32 (the widest tree has 2^32 - 1 nodes, indices 0 .. 2^32 - 2).
 *
 * Each function is O(1) or O(log n) with no allocation. Input that does
 * not describe a node of the tree (a leaf count that is not a power of two
 * or exceeds 2^31, an index outside the tree, the parent of the root, the
 * children of a leaf) gives MLS_TM_NONE, never a wrong index; the path
 * functions return MLS_ERR_INVALID_ARG instead.
 *
 *   uint32_t path[MLS_TM_MAX_PATH], n;
 *   if (mls_tm_direct_path(mls_tm_leaf_node(leaf), n_leaves, path, &n) != 0)
 *           return MLS_ERR_LEAF_INDEX;
 *   for (uint32_t i = 0; i < n; i++)    // leaf to root
 *           visit(path[i]);
 */
#ifndef MLS_TREEMATH_H
#define MLS_TREEMATH_H

#include <stdbool.h>
#include <stdint.h>

/* No such node; never a valid index (the largest index is 2^32 - 2). */
#define MLS_TM_NONE UINT32_MAX
/* Largest supported leaf count. */
#define MLS_TM_MAX_LEAVES (UINT32_C(1) << 31)
/* Longest direct path or copath: one node per level below the root. */
#define MLS_TM_MAX_PATH 31

/* n is a power of two in 1 .. 2^31. */
bool mls_tm_valid_leaves(uint32_t n_leaves);
/* Number of nodes of a tree with n leaves (2n - 1), 0 if n is invalid. */
uint32_t mls_tm_node_width(uint32_t n_leaves);
/* x is a node of the tree with n leaves. */
bool mls_tm_in_tree(uint32_t x, uint32_t n_leaves);

/* Level of node x: leaves are 0, their parents 1, ... (MLS_TM_NONE for
 * MLS_TM_NONE, which is no node). */
uint32_t mls_tm_level(uint32_t x);
bool mls_tm_is_leaf(uint32_t x);
/* Node index of leaf i, and leaf index of node x (MLS_TM_NONE when x is not
 * a leaf or i is beyond the largest tree). */
uint32_t mls_tm_leaf_node(uint32_t leaf);
uint32_t mls_tm_node_leaf(uint32_t x);

uint32_t mls_tm_root(uint32_t n_leaves);
uint32_t mls_tm_left(uint32_t x, uint32_t n_leaves);
uint32_t mls_tm_right(uint32_t x, uint32_t n_leaves);
uint32_t mls_tm_parent(uint32_t x, uint32_t n_leaves);
uint32_t mls_tm_sibling(uint32_t x, uint32_t n_leaves);
/* Lowest node whose subtree holds both x and y (x itself if x == y). */
uint32_t mls_tm_common_ancestor(uint32_t x, uint32_t y, uint32_t n_leaves);
/* x is y or lies in y's subtree. */
bool mls_tm_is_descendant(uint32_t x, uint32_t y, uint32_t n_leaves);
/* Leaves in x's subtree: 2^level(x) (0 for a node not in the tree). */
uint64_t mls_tm_subtree_leaves(uint32_t x, uint32_t n_leaves);

/* §4.1: parents of x from x's parent up to the root (empty for the root),
 * and the siblings of x and of each of those parents but the root.
 * out holds MLS_TM_MAX_PATH entries; *len receives the count. */
int mls_tm_direct_path(uint32_t x, uint32_t n_leaves,
		       uint32_t out[MLS_TM_MAX_PATH], uint32_t *len);
int mls_tm_copath(uint32_t x, uint32_t n_leaves,
		  uint32_t out[MLS_TM_MAX_PATH], uint32_t *len);

#endif

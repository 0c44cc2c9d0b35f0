/*
 * tree_hash.c - tree hashes (RFC 9420 §7.8) with the per-node cache,
 * parent hashes (§7.9) and their verification (§7.9.2), and the joiner's
 * validation of a whole tree (§12.4.3.1).
 *
 * Hash inputs are encoded into the tree's scratch writer, reused for every
 * node so that hashing allocates nothing once warm.
 */
#include <stdlib.h>
#include <string.h>

#include "tree_internal.h"

static bool is_blank(const struct mls_tree *t, uint32_t x)
{
	return t->nodes[x].type == MLS_NODE_BLANK;
}

static struct bw_writer *scratch(struct mls_tree *t)
{
	bw_writer_reset(&t->scratch);
	return &t->scratch;
}

static int hash_scratch(struct mls_tree *t, uint8_t *out)
{
	if (t->scratch.err != 0)
		return t->scratch.err;
	return mls_hash(t->suite, t->scratch.buf, t->scratch.len, out);
}

/* TreeHashInput{leaf, LeafNodeHashInput{leaf_index, optional<LeafNode>}};
 * blank selects the absent optional whatever the node holds. */
static int leaf_input(struct mls_tree *t, uint32_t x, bool blank)
{
	struct bw_writer *w = scratch(t);

	bw_write_u8(w, MLS_NODE_LEAF);
	bw_write_u32(w, x / 2);
	bw_write_optional(w, !blank);
	if (!blank)
		mls_leaf_node_encode(t->nodes[x].leaf, w);
	return w->err;
}

static bool in_sorted(const uint32_t *v, size_t n, uint32_t key)
{
	while (n > 0) {
		size_t mid = n / 2;

		if (v[mid] == key)
			return true;
		if (v[mid] < key) {
			v += mid + 1;
			n -= mid + 1;
		} else {
			n = mid;
		}
	}
	return false;
}

/* TreeHashInput{parent, ParentNodeHashInput{optional<ParentNode>,
 * left_hash, right_hash}}, leaving out of unmerged_leaves the sorted leaves
 * excl[0..n_excl) (for original sibling tree hashes, §7.9). */
static int parent_input(struct mls_tree *t, uint32_t x, const uint32_t *excl,
			size_t n_excl, const uint8_t *lh, const uint8_t *rh)
{
	const struct mls_parent_node *p =
		is_blank(t, x) ? NULL : t->nodes[x].parent;
	struct bw_writer *w = scratch(t);
	size_t hl = t->suite->hash_len, mark;

	bw_write_u8(w, MLS_NODE_PARENT);
	bw_write_optional(w, p != NULL);
	if (p != NULL) {
		bw_write_opaque(w, p->encryption_key.p, p->encryption_key.len);
		bw_write_opaque(w, p->parent_hash.p, p->parent_hash.len);
		mark = bw_write_vector_begin(w);
		for (size_t i = 0; i < p->n_unmerged_leaves; i++)
			if (!in_sorted(excl, n_excl, p->unmerged_leaves[i]))
				bw_write_u32(w, p->unmerged_leaves[i]);
		bw_write_vector_end(w, mark);
	}
	bw_write_opaque(w, lh, hl);
	bw_write_opaque(w, rh, hl);
	return w->err;
}

int tree_node_hash(struct mls_tree *t, uint32_t x, const uint8_t **out)
{
	uint8_t *h = t->hash + (size_t)x * t->suite->hash_len;
	const uint8_t *lh, *rh;
	int rc;

	if (!t->clean[x]) {
		if (mls_tm_is_leaf(x)) {
			rc = leaf_input(t, x, is_blank(t, x));
		} else if ((rc = tree_node_hash(t, mls_tm_left(x, t->n_leaves),
						&lh)) == 0 &&
			   (rc = tree_node_hash(t, mls_tm_right(x, t->n_leaves),
						&rh)) == 0) {
			rc = parent_input(t, x, NULL, 0, lh, rh);
		}
		if (rc != 0 || (rc = hash_scratch(t, h)) != 0)
			return rc;
		t->clean[x] = 1;
	}
	*out = h;
	return 0;
}

int mls_tree_node_hash(struct mls_tree *t, uint32_t x, uint8_t *out)
{
	const uint8_t *h;
	int rc;

	if (t->n_leaves == 0 || x > 2 * (t->n_leaves - 1))
		return MLS_ERR_INVALID_ARG;
	if ((rc = tree_node_hash(t, x, &h)) != 0)
		return rc;
	memcpy(out, h, t->suite->hash_len);
	return 0;
}

int mls_tree_hash(struct mls_tree *t, uint8_t *out)
{
	if (t->n_leaves == 0)
		return MLS_ERR_TREE_INVALID;
	return mls_tree_node_hash(t, mls_tm_root(t->n_leaves), out);
}

int tree_parent_hash(struct mls_tree *t, const struct bw_bytes *key,
		     const struct bw_bytes *parent_hash,
		     const uint8_t *sibling_hash, uint8_t *out)
{
	struct bw_writer *w = scratch(t);

	bw_write_opaque(w, key->p, key->len);
	bw_write_opaque(w, parent_hash->p, parent_hash->len);
	bw_write_opaque(w, sibling_hash, t->suite->hash_len);
	return hash_scratch(t, out);
}

/* ---- §7.9.2 parent-hash verification ---- */

/* The sorted leaves v[0..n) that lie below x: *lo .. *hi. */
static void leaves_below(uint32_t x, const uint32_t *v, size_t n, size_t *lo,
			 size_t *hi)
{
	uint32_t first, count;
	size_t a = 0, b = n;

	tree_leaf_range(x, &first, &count);
	while (a < b) { /* first entry >= first */
		size_t mid = a + (b - a) / 2;

		if (v[mid] < first)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	for (b = n; a < b;) { /* first entry >= first + count */
		size_t mid = a + (b - a) / 2;

		if (v[mid] - first < count)
			a = mid + 1;
		else
			b = mid;
	}
	*hi = a;
}

/*
 * The tree hash of x in the tree where the leaves excl (sorted) are blank
 * and absent from every unmerged list (§7.9 original sibling tree hash).
 * Subtrees that hold none of them come from the cache, so the cost is
 * O(|excl| log n) hashes.
 */
static int excluded_hash(struct mls_tree *t, uint32_t x, const uint32_t *excl,
			 size_t n_excl, uint8_t *out)
{
	uint8_t lh[MLS_MAX_HASH_LEN], rh[MLS_MAX_HASH_LEN];
	const uint8_t *h;
	size_t lo, hi;
	int rc;

	leaves_below(x, excl, n_excl, &lo, &hi);
	if (lo == hi) {
		if ((rc = tree_node_hash(t, x, &h)) == 0)
			memcpy(out, h, t->suite->hash_len);
		return rc;
	}
	if (mls_tm_is_leaf(x)) /* the excluded leaf itself */
		return (rc = leaf_input(t, x, true)) != 0 ? rc
							  : hash_scratch(t, out);
	excl += lo;
	n_excl = hi - lo;
	if ((rc = excluded_hash(t, mls_tm_left(x, t->n_leaves), excl, n_excl,
				lh)) != 0 ||
	    (rc = excluded_hash(t, mls_tm_right(x, t->n_leaves), excl, n_excl,
				rh)) != 0 ||
	    (rc = parent_input(t, x, excl, n_excl, lh, rh)) != 0)
		return rc;
	return hash_scratch(t, out);
}

/* Resolution sizes of every node, bottom-up in one pass. */
static uint32_t resolution_sizes(const struct mls_tree *t, uint32_t x,
				 uint32_t *res)
{
	const struct mls_node *n = &t->nodes[x];

	if (n->type == MLS_NODE_LEAF)
		return res[x] = 1;
	if (mls_tm_is_leaf(x))
		return res[x] = 0;
	/* Children first: every node's size is needed later. */
	res[x] = resolution_sizes(t, mls_tm_left(x, t->n_leaves), res) +
		 resolution_sizes(t, mls_tm_right(x, t->n_leaves), res);
	if (n->type == MLS_NODE_PARENT)
		res[x] = 1 + (uint32_t)n->parent->n_unmerged_leaves;
	return res[x];
}

/* Members of x's resolution that are not among P's unmerged leaves u. The
 * import made every unmerged leaf of P a member of the resolution of the
 * child it lies under, so this is a difference of counts. */
static uint32_t outside(uint32_t x, const uint32_t *res, const uint32_t *u,
			size_t n_u)
{
	size_t lo, hi;

	leaves_below(x, u, n_u, &lo, &hi);
	return res[x] - (uint32_t)(hi - lo);
}

/*
 * §7.9.2: the one node D in the resolution of child c of P such that P's
 * unmerged leaves under c are the rest of that resolution, or MLS_TM_NONE.
 * Descends through blank nodes towards the side that holds D.
 */
static uint32_t chain_child(const struct mls_tree *t, uint32_t c,
			    const uint32_t *res,
			    const struct mls_parent_node *p)
{
	const uint32_t *u = p->unmerged_leaves;
	size_t n_u = p->n_unmerged_leaves;
	uint32_t y = c;

	if (outside(c, res, u, n_u) != 1)
		return MLS_TM_NONE;
	while (is_blank(t, y)) {
		uint32_t l;

		if (mls_tm_is_leaf(y))
			return MLS_TM_NONE;
		l = mls_tm_left(y, t->n_leaves);

		y = outside(l, res, u, n_u) == 1 ? l
						 : mls_tm_right(y, t->n_leaves);
	}
	return y;
}

static const struct bw_bytes *parent_hash_of(const struct mls_tree *t,
					     uint32_t x)
{
	const struct mls_node *n = &t->nodes[x];

	if (n->type == MLS_NODE_PARENT)
		return &n->parent->parent_hash;
	return n->leaf->source == MLS_LEAF_SOURCE_COMMIT ? &n->leaf->parent_hash
							 : NULL;
}

/* Whether the child on one side authenticates P = x through its parent
 * hash; *valid counts the sides that do. */
static int check_side(struct mls_tree *t, uint32_t x, uint32_t c, uint32_t s,
		      const uint32_t *res, int *valid)
{
	const struct mls_parent_node *p = t->nodes[x].parent;
	uint8_t sib[MLS_MAX_HASH_LEN], ph[MLS_MAX_HASH_LEN];
	size_t hl = t->suite->hash_len;
	const struct bw_bytes *dph;
	uint32_t d = chain_child(t, c, res, p);
	int rc;

	if (d == MLS_TM_NONE || (dph = parent_hash_of(t, d)) == NULL ||
	    dph->len != hl)
		return 0;
	if ((rc = excluded_hash(t, s, p->unmerged_leaves,
				p->n_unmerged_leaves, sib)) != 0 ||
	    (rc = tree_parent_hash(t, &p->encryption_key, &p->parent_hash, sib,
				   ph)) != 0)
		return rc;
	if (memcmp(ph, dph->p, hl) == 0)
		(*valid)++;
	return 0;
}

int mls_tree_verify_parent_hashes(struct mls_tree *t)
{
	uint32_t n = t->n_leaves, w, *res;
	int rc = 0;

	if (n == 0)
		return MLS_ERR_TREE_INVALID;
	w = 2 * n - 1;
	if ((res = calloc(w, sizeof(*res))) == NULL)
		return BW_ERR_NOMEM;
	resolution_sizes(t, mls_tm_root(n), res);
	/* Top down: each non-blank parent needs exactly one authenticating
	 * child; by induction every one chains down to a leaf. */
	for (uint32_t x = 1; x < w && rc == 0; x += 2) {
		uint32_t l, r;
		int valid = 0;

		if (is_blank(t, x))
			continue;
		l = mls_tm_left(x, n);
		r = mls_tm_right(x, n);
		if ((rc = check_side(t, x, l, r, res, &valid)) == 0 &&
		    (rc = check_side(t, x, r, l, res, &valid)) == 0 &&
		    valid != 1)
			rc = MLS_ERR_PARENT_HASH;
	}
	free(res);
	return rc;
}

/* ---- §12.4.3.1 ---- */

static int check_parent_keys(const struct mls_tree *t)
{
	uint32_t w = 2 * t->n_leaves - 1;
	int rc;

	for (uint32_t x = 1; x < w; x += 2) {
		const struct mls_parent_node *p = t->nodes[x].parent;

		if (!is_blank(t, x) &&
		    (rc = mls_hpke_public_key_shape_check(
			     t->suite, p->encryption_key.p,
			     p->encryption_key.len)) != 0)
			return rc;
	}
	return 0;
}

static int check_leaves(struct mls_tree *t, const uint8_t *group_id,
			size_t group_id_len, const struct mls_leaf_policy *pol)
{
	int rc;

	/* The checks without signatures first, so junk costs little. */
	for (uint32_t i = 0; i < t->n_leaves; i++) {
		const struct mls_leaf_node *ln = mls_tree_leaf(t, i);

		if (ln != NULL &&
		    (rc = mls_tree_leaf_compatible(t, ln, i)) != 0)
			return rc;
	}
	for (uint32_t i = 0; i < t->n_leaves; i++) {
		const struct mls_leaf_node *ln = mls_tree_leaf(t, i);

		if (ln != NULL &&
		    (rc = mls_leaf_node_validate_in_tree(t->suite, ln, group_id,
							 group_id_len, i,
							 pol)) != 0)
			return rc;
	}
	return 0;
}

int mls_tree_validate(struct mls_tree *t, const uint8_t *tree_hash,
		      size_t tree_hash_len, const uint8_t *group_id,
		      size_t group_id_len, const struct mls_leaf_policy *pol)
{
	uint8_t th[MLS_MAX_HASH_LEN];
	int rc;

	if (pol == NULL || pol->accept == NULL)
		return MLS_ERR_INVALID_ARG;
	if ((rc = mls_tree_hash(t, th)) != 0)
		return rc;
	if (tree_hash_len != t->suite->hash_len ||
	    memcmp(th, tree_hash, tree_hash_len) != 0)
		return MLS_ERR_TREE_HASH;
	if ((rc = check_parent_keys(t)) != 0 ||
	    (rc = mls_tree_verify_parent_hashes(t)) != 0)
		return rc;
	return check_leaves(t, group_id, group_id_len, pol);
}

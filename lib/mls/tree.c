/*
 * tree.c - the ratchet tree's structure (RFC 9420 §4, §7.7, §12.1): import
 * and export, the changes proposals make, resolutions and filtered direct
 * paths, and the undo log that makes every change reversible.
 *
 * Every change to a node goes through node_replace(), which keeps the key
 * index, the subtree counts, the hash cache marks and the credential
 * statistics in step and records the old node while a transaction is open.
 * Operations made of several node changes run inside a savepoint and roll
 * back to it on failure, so each public call is atomic.
 */
#include <stdlib.h>
#include <string.h>

#include "tree_internal.h"

/* ---- small helpers ---- */

void mls_node_list_clear(struct mls_node_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int node_list_push(struct mls_node_list *l, uint32_t x)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		uint32_t *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return BW_ERR_NOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = x;
	return 0;
}

void tree_leaf_range(uint32_t x, uint32_t *first, uint32_t *count)
{
	uint32_t k = mls_tm_level(x);

	*count = UINT32_C(1) << k;
	*first = (x + 1 - *count) / 2;
}

static bool is_blank(const struct mls_tree *t, uint32_t x)
{
	return t->nodes[x].type == MLS_NODE_BLANK;
}

static uint32_t width(const struct mls_tree *t)
{
	return t->n_leaves ? 2 * t->n_leaves - 1 : 0;
}

/* First position in sorted v[0..n) holding a value >= key. */
static size_t lower_bound(const uint32_t *v, size_t n, uint32_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool sorted_contains(const uint32_t *v, size_t n, uint32_t key)
{
	size_t i = lower_bound(v, n, key);

	return i < n && v[i] == key;
}

/* ---- allocation ---- */

static int tree_alloc(const struct mls_suite *s, struct mls_tree **out)
{
	struct mls_tree *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (t == NULL)
		return BW_ERR_NOMEM;
	t->suite = s;
	bw_writer_init(&t->scratch, 0);
	if ((rc = tree_index_init(t)) != 0) {
		mls_tree_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

static void *grow_array(void *p, size_t old_n, size_t new_n, size_t elem)
{
	uint8_t *q = realloc(p, new_n * elem);

	if (q != NULL)
		memset(q + old_n * elem, 0, (new_n - old_n) * elem);
	return q;
}

/* Room for a tree of n_leaves leaves. New slots are blank, counted zero
 * and not clean. On failure the capacity is unchanged (arrays that did
 * grow keep their contents). */
static int tree_reserve(struct mls_tree *t, uint32_t n_leaves)
{
	size_t want = 2 * (size_t)n_leaves - 1, hl = t->suite->hash_len;
	void *p;

	if (want <= t->cap)
		return 0;
	if ((p = grow_array(t->nodes, t->cap, want, sizeof(*t->nodes))) == NULL)
		return BW_ERR_NOMEM;
	t->nodes = p;
	if ((p = grow_array(t->filled, t->cap, want, sizeof(*t->filled))) ==
	    NULL)
		return BW_ERR_NOMEM;
	t->filled = p;
	if ((p = grow_array(t->members, t->cap, want, sizeof(*t->members))) ==
	    NULL)
		return BW_ERR_NOMEM;
	t->members = p;
	if ((p = grow_array(t->clean, t->cap, want, 1)) == NULL)
		return BW_ERR_NOMEM;
	t->clean = p;
	if ((p = grow_array(t->hash, t->cap * hl, want * hl, 1)) == NULL)
		return BW_ERR_NOMEM;
	t->hash = p;
	t->cap = (uint32_t)want;
	return 0;
}

/*
 * Change the width (capacity reserved). Growing adds one level at a time:
 * the new root's left subtree is the old tree, its right subtree lies
 * beyond the old width and is blank with exact counts, and the root is
 * blank; only the root's counts and hash need refreshing (§7.7).
 */
static void tree_set_width(struct mls_tree *t, uint32_t n_leaves)
{
	while (t->n_leaves < n_leaves) {
		uint32_t m = t->n_leaves, r = 2 * m - 1;

		if (m != 0) {
			t->filled[r] = t->filled[m - 1] + t->filled[r + m];
			t->members[r] = t->members[m - 1] + t->members[r + m];
			t->clean[r] = 0;
		}
		t->n_leaves = m ? 2 * m : 1;
	}
	t->n_leaves = n_leaves;
	if (t->txn && n_leaves > t->txn_max_leaves)
		t->txn_max_leaves = n_leaves;
}

static int tree_extend(struct mls_tree *t)
{
	uint32_t n = t->n_leaves ? 2 * t->n_leaves : 1;
	int rc;

	if (n > MLS_MAX_TREE_LEAVES)
		return MLS_ERR_TREE_INVALID;
	if ((rc = tree_reserve(t, n)) != 0)
		return rc;
	tree_set_width(t, n);
	return 0;
}

/* ---- node changes ---- */

/* Mark x and its ancestors: counts change by the deltas, hashes go stale. */
static void touch(struct mls_tree *t, uint32_t x, uint32_t d_filled,
		  uint32_t d_members)
{
	for (uint32_t y = x; y != MLS_TM_NONE; y = mls_tm_parent(y, t->n_leaves)) {
		t->filled[y] += d_filled; /* unsigned: a delta of -1 wraps */
		t->members[y] += d_members;
		t->clean[y] = 0;
	}
}

static void cred_stats(struct mls_tree *t, const struct mls_node *n,
		       uint32_t delta)
{
	if (n->type != MLS_NODE_LEAF)
		return;
	for (uint16_t i = 0; i < 2; i++) {
		uint16_t type = MLS_CREDENTIAL_BASIC + i;

		if (n->leaf->credential.type == type)
			t->cred_used[i] += delta;
		if (mls_u16_list_contains(&n->leaf->capabilities.credentials,
					  type))
			t->cred_supported[i] += delta;
	}
}

/* Swap the node at x for *n, keeping every derived structure exact. */
static void node_swap(struct mls_tree *t, uint32_t x, struct mls_node *n,
		      const struct tree_node_keys *out_keys,
		      const struct tree_node_keys *in_keys)
{
	struct mls_node *cur = &t->nodes[x], tmp;
	uint32_t d_filled, d_members;

	tree_index_remove(t, x, out_keys);
	cred_stats(t, cur, UINT32_MAX);
	d_filled = (uint32_t)(n->type != MLS_NODE_BLANK) -
		   (uint32_t)(cur->type != MLS_NODE_BLANK);
	d_members = mls_tm_is_leaf(x) ? d_filled : 0;
	tmp = *cur;
	*cur = *n;
	*n = tmp;
	tree_index_add(t, x, in_keys);
	cred_stats(t, cur, 1);
	t->n_members += d_members;
	touch(t, x, d_filled, d_members);
}

static int undo_reserve(struct mls_tree *t)
{
	struct tree_undo *v;
	size_t cap;

	if (t->n_undo < t->cap_undo)
		return 0;
	cap = t->cap_undo ? 2 * t->cap_undo : 32;
	if ((v = realloc(t->undo, cap * sizeof(*v))) == NULL)
		return BW_ERR_NOMEM;
	t->undo = v;
	t->cap_undo = cap;
	return 0;
}

/* A key of n already held by another node? */
static bool key_taken(const struct mls_tree *t, uint32_t x,
		      const struct mls_node *n, const struct tree_node_keys *k)
{
	for (int kind = 0; kind < 2; kind++) {
		const struct bw_bytes *key;
		uint32_t y;

		if (!k->present[kind])
			continue;
		key = kind == TREE_KEY_ENCRYPTION
			      ? (n->type == MLS_NODE_LEAF
					 ? &n->leaf->encryption_key
					 : &n->parent->encryption_key)
			      : &n->leaf->signature_key;
		if (tree_index_find(t, (enum tree_key_kind)kind, key->p,
				    key->len, k->hash[kind], &y) &&
		    y != x)
			return true;
	}
	return false;
}

/*
 * Put *n at node x. *n is consumed (left blank) on success and untouched on
 * failure. The old node is kept in the undo log during a transaction and
 * freed otherwise. MLS_ERR_DUPLICATE_KEY if a key of *n is another node's.
 */
static int node_replace(struct mls_tree *t, uint32_t x, struct mls_node *n)
{
	struct tree_node_keys old_keys, new_keys;
	int rc;

	if ((rc = tree_index_node_keys(t, &t->nodes[x], &old_keys)) != 0 ||
	    (rc = tree_index_node_keys(t, n, &new_keys)) != 0 ||
	    (rc = tree_index_reserve(t, 2)) != 0 ||
	    (t->txn && (rc = undo_reserve(t)) != 0))
		return rc;
	if (key_taken(t, x, n, &new_keys))
		return MLS_ERR_DUPLICATE_KEY;
	node_swap(t, x, n, &old_keys, &new_keys);
	if (t->txn) {
		struct tree_undo *u = &t->undo[t->n_undo++];

		u->node = x;
		u->old = *n;
		u->old_keys = old_keys;
		u->new_keys = new_keys;
	} else {
		mls_node_clear(n);
	}
	memset(n, 0, sizeof(*n));
	return 0;
}

static int node_blank(struct mls_tree *t, uint32_t x)
{
	struct mls_node blank = { 0 };

	return is_blank(t, x) ? 0 : node_replace(t, x, &blank);
}

/* ---- transactions ---- */

static void undo_one(struct mls_tree *t, struct tree_undo *u)
{
	struct mls_node n = u->old;

	node_swap(t, u->node, &n, &u->new_keys, &u->old_keys);
	mls_node_clear(&n); /* the node the change had put in */
}

/* Undo the log down to len entries and return to a width of n_leaves.
 * The undone nodes may lie beyond that width, so the tree first regains
 * the widest size it had; touch() then reaches every ancestor. */
static void undo_to(struct mls_tree *t, size_t len, uint32_t n_leaves)
{
	tree_set_width(t, t->txn_max_leaves);
	while (t->n_undo > len)
		undo_one(t, &t->undo[--t->n_undo]);
	tree_set_width(t, n_leaves);
}

int mls_tree_txn_begin(struct mls_tree *t)
{
	if (t->txn)
		return MLS_ERR_STATE;
	t->txn = true;
	t->txn_leaves = t->txn_max_leaves = t->n_leaves;
	t->n_undo = 0;
	return 0;
}

void mls_tree_txn_rollback(struct mls_tree *t)
{
	if (!t->txn)
		return;
	undo_to(t, 0, t->txn_leaves);
	t->txn = false;
}

void mls_tree_txn_commit(struct mls_tree *t)
{
	if (!t->txn)
		return;
	for (size_t i = 0; i < t->n_undo; i++)
		mls_node_clear(&t->undo[i].old);
	t->n_undo = 0;
	t->txn = false;
}

bool mls_tree_txn_active(const struct mls_tree *t)
{
	return t->txn;
}

void mls_tree_savepoint(struct mls_tree *t, struct mls_tree_savepoint *sp)
{
	sp->owns_txn = !t->txn;
	if (sp->owns_txn)
		mls_tree_txn_begin(t);
	sp->undo_len = t->n_undo;
	sp->n_leaves = t->n_leaves;
}

void mls_tree_rollback_to(struct mls_tree *t,
			  const struct mls_tree_savepoint *sp)
{
	undo_to(t, sp->undo_len, sp->n_leaves);
	if (sp->owns_txn)
		t->txn = false;
}

void mls_tree_release(struct mls_tree *t, const struct mls_tree_savepoint *sp)
{
	if (sp->owns_txn)
		mls_tree_txn_commit(t);
}

/* ---- creation, import, export ---- */

int mls_tree_new(const struct mls_suite *s, struct mls_tree **out)
{
	return tree_alloc(s, out);
}

void mls_tree_free(struct mls_tree *t)
{
	if (t == NULL)
		return;
	mls_tree_txn_commit(t);
	free(t->undo);
	for (uint32_t x = 0; x < t->cap; x++)
		mls_node_clear(&t->nodes[x]);
	free(t->nodes);
	free(t->filled);
	free(t->members);
	free(t->clean);
	free(t->hash);
	tree_index_free(t);
	bw_writer_free(&t->scratch);
	free(t);
}

/* Subtree counts of x from its children (the import's single pass). */
static void count_subtree(struct mls_tree *t, uint32_t x)
{
	uint32_t self = !is_blank(t, x), l, r;

	if (mls_tm_is_leaf(x)) {
		t->filled[x] = t->members[x] = self;
		return;
	}
	l = mls_tm_left(x, t->n_leaves);
	r = mls_tm_right(x, t->n_leaves);
	count_subtree(t, l);
	count_subtree(t, r);
	t->filled[x] = self + t->filled[l] + t->filled[r];
	t->members[x] = t->members[l] + t->members[r];
}

/* A node of the right kind for its position, with its body present. */
static bool node_shape_ok(const struct mls_node *n, uint32_t x)
{
	switch (n->type) {
	case MLS_NODE_BLANK:
		return true;
	case MLS_NODE_LEAF:
		return x % 2 == 0 && n->leaf != NULL;
	case MLS_NODE_PARENT:
		return x % 2 == 1 && n->parent != NULL;
	}
	return false;
}

/* Unmerged leaves of parent x: strictly increasing leaves of its subtree. */
static bool unmerged_sorted(const struct mls_tree *t, uint32_t x)
{
	const struct mls_parent_node *p = t->nodes[x].parent;
	uint32_t first, count;

	tree_leaf_range(x, &first, &count);
	for (size_t i = 0; i < p->n_unmerged_leaves; i++) {
		uint32_t u = p->unmerged_leaves[i];

		if (u < first || u - first >= count ||
		    (i > 0 && u <= p->unmerged_leaves[i - 1]))
			return false;
	}
	return true;
}

/* §12.4.3.1: each unmerged leaf of x is a non-blank leaf, and every
 * non-blank node between it and x lists it too. Needs sorted lists. */
static bool unmerged_consistent(const struct mls_tree *t, uint32_t x)
{
	const struct mls_parent_node *p = t->nodes[x].parent;

	for (size_t i = 0; i < p->n_unmerged_leaves; i++) {
		uint32_t u = p->unmerged_leaves[i], y;

		if (is_blank(t, 2 * u))
			return false;
		for (y = mls_tm_parent(2 * u, t->n_leaves); y != x;
		     y = mls_tm_parent(y, t->n_leaves)) {
			const struct mls_parent_node *q = t->nodes[y].parent;

			if (!is_blank(t, y) &&
			    !sorted_contains(q->unmerged_leaves,
					     q->n_unmerged_leaves, u))
				return false;
		}
	}
	return true;
}

static int import_check(struct mls_tree *t)
{
	uint32_t w = width(t), x;

	for (x = 0; x < w; x++)
		if (!node_shape_ok(&t->nodes[x], x))
			return MLS_ERR_TREE_INVALID;
	for (x = 1; x < w; x += 2)
		if (!is_blank(t, x) && !unmerged_sorted(t, x))
			return MLS_ERR_TREE_INVALID;
	for (x = 1; x < w; x += 2)
		if (!is_blank(t, x) && !unmerged_consistent(t, x))
			return MLS_ERR_TREE_INVALID;
	return 0;
}

/* Index every key, refusing duplicates (§7.3, §12.4.3.1). */
static int import_index(struct mls_tree *t)
{
	uint32_t w = width(t);
	int rc;

	if ((rc = tree_index_reserve(t, 2 * t->n_leaves)) != 0)
		return rc;
	for (uint32_t x = 0; x < w; x++) {
		struct tree_node_keys k;

		if (is_blank(t, x))
			continue;
		if ((rc = tree_index_node_keys(t, &t->nodes[x], &k)) != 0)
			return rc;
		if (key_taken(t, x, &t->nodes[x], &k))
			return MLS_ERR_DUPLICATE_KEY;
		tree_index_add(t, x, &k);
		cred_stats(t, &t->nodes[x], 1);
	}
	return 0;
}

int mls_tree_import(const struct mls_suite *s, struct mls_ratchet_tree *rt,
		    struct mls_tree **out)
{
	struct mls_tree *t = NULL;
	uint32_t n = 1;
	int rc;

	*out = NULL;
	if (rt->n_nodes == 0 || rt->n_nodes > MLS_MAX_TREE_NODES) {
		rc = MLS_ERR_TREE_INVALID;
		goto out;
	}
	/* §12.4.3.3: extend with the fewest blanks to a complete tree. */
	while (2 * (size_t)n - 1 < rt->n_nodes)
		n *= 2;
	if ((rc = tree_alloc(s, &t)) != 0 || (rc = tree_reserve(t, n)) != 0)
		goto out;
	memcpy(t->nodes, rt->nodes, rt->n_nodes * sizeof(*rt->nodes));
	free(rt->nodes);
	rt->nodes = NULL;
	rt->n_nodes = 0;
	t->n_leaves = n;
	if ((rc = import_check(t)) != 0)
		goto out;
	count_subtree(t, mls_tm_root(n));
	t->n_members = t->members[mls_tm_root(n)];
	if ((rc = import_index(t)) != 0)
		goto out;
	*out = t;
	t = NULL; /* transferred */
out:
	mls_ratchet_tree_clear(rt);
	mls_tree_free(t);
	return rc;
}

int mls_tree_decode(const struct mls_suite *s, const uint8_t *p, size_t n,
		    struct mls_tree **out)
{
	struct mls_ratchet_tree rt;
	struct bw_reader r;
	int rc;

	*out = NULL;
	bw_reader_init(&r, p, n);
	if (mls_ratchet_tree_decode(&r, &rt) != 0)
		return r.err;
	if ((rc = bw_reader_finish(&r)) != 0) {
		mls_ratchet_tree_clear(&rt);
		return rc;
	}
	return mls_tree_import(s, &rt, out);
}

/* Entries up to the last non-blank node (§12.4.3.3). */
static uint32_t encoded_width(const struct mls_tree *t)
{
	uint32_t w = width(t);

	while (w > 0 && is_blank(t, w - 1))
		w--;
	return w;
}

int mls_tree_encode(const struct mls_tree *t, struct bw_writer *w)
{
	uint32_t n = encoded_width(t);
	size_t mark;

	if (n == 0) { /* no member: nothing a ratchet_tree can carry */
		if (w->err == 0)
			w->err = MLS_ERR_TREE_INVALID;
		return w->err;
	}
	mark = bw_write_vector_begin(w);
	for (uint32_t x = 0; x < n && w->err == 0; x++) {
		bw_write_optional(w, !is_blank(t, x));
		if (!is_blank(t, x))
			mls_node_encode(&t->nodes[x], w);
	}
	return bw_write_vector_end(w, mark);
}

/* A copy of src with leaf (unless MLS_TM_NONE) inserted into its sorted
 * unmerged leaves. */
static int parent_node_copy(struct mls_parent_node *dst,
			    const struct mls_parent_node *src, uint32_t leaf)
{
	size_t n = src->n_unmerged_leaves, at = n;
	int rc;

	memset(dst, 0, sizeof(*dst));
	if (leaf != MLS_TM_NONE) {
		at = lower_bound(src->unmerged_leaves, n, leaf);
		n++;
	}
	if (n > 0 &&
	    (dst->unmerged_leaves = malloc(n * sizeof(uint32_t))) == NULL)
		return BW_ERR_NOMEM;
	dst->n_unmerged_leaves = n;
	for (size_t i = 0, j = 0; j < n; j++)
		dst->unmerged_leaves[j] =
			j == at ? leaf : src->unmerged_leaves[i++];
	if ((rc = bw_bytes_set(&dst->encryption_key, src->encryption_key.p,
			       src->encryption_key.len)) != 0 ||
	    (rc = bw_bytes_set(&dst->parent_hash, src->parent_hash.p,
			       src->parent_hash.len)) != 0)
		mls_parent_node_clear(dst);
	return rc;
}

static int node_copy(struct mls_node *dst, const struct mls_node *src)
{
	int rc = 0;

	memset(dst, 0, sizeof(*dst));
	if (src->type == MLS_NODE_LEAF) {
		if ((dst->leaf = calloc(1, sizeof(*dst->leaf))) == NULL)
			return BW_ERR_NOMEM;
		dst->type = MLS_NODE_LEAF;
		rc = mls_leaf_node_copy(dst->leaf, src->leaf);
	} else if (src->type == MLS_NODE_PARENT) {
		if ((dst->parent = calloc(1, sizeof(*dst->parent))) == NULL)
			return BW_ERR_NOMEM;
		dst->type = MLS_NODE_PARENT;
		rc = parent_node_copy(dst->parent, src->parent,
					  MLS_TM_NONE);
	}
	if (rc != 0)
		mls_node_clear(dst);
	return rc;
}

int mls_tree_export(const struct mls_tree *t, struct mls_ratchet_tree *out)
{
	struct mls_ratchet_tree rt = { 0 };
	uint32_t n = encoded_width(t);
	int rc = 0;

	if (n == 0)
		return MLS_ERR_TREE_INVALID;
	if ((rt.nodes = calloc(n, sizeof(*rt.nodes))) == NULL)
		return BW_ERR_NOMEM;
	rt.n_nodes = n;
	for (uint32_t x = 0; x < n && rc == 0; x++)
		rc = node_copy(&rt.nodes[x], &t->nodes[x]);
	if (rc != 0) {
		mls_ratchet_tree_clear(&rt);
		return rc;
	}
	mls_ratchet_tree_clear(out);
	*out = rt;
	return 0;
}

static int clone_arrays(struct mls_tree *c, const struct mls_tree *t)
{
	size_t hl = t->suite->hash_len;
	int rc;

	if ((rc = tree_reserve(c, (t->cap + 1) / 2)) != 0)
		return rc;
	memcpy(c->filled, t->filled, t->cap * sizeof(*t->filled));
	memcpy(c->members, t->members, t->cap * sizeof(*t->members));
	memcpy(c->clean, t->clean, t->cap);
	memcpy(c->hash, t->hash, t->cap * hl);
	for (uint32_t x = 0; x < t->cap; x++)
		if ((rc = node_copy(&c->nodes[x], &t->nodes[x])) != 0)
			return rc;
	return 0;
}

int mls_tree_clone(const struct mls_tree *t, struct mls_tree **out)
{
	struct mls_tree *c = NULL;
	int rc;

	*out = NULL;
	if (t->txn)
		return MLS_ERR_STATE;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return BW_ERR_NOMEM;
	c->suite = t->suite;
	bw_writer_init(&c->scratch, 0);
	if ((rc = tree_index_clone(c, t)) != 0 ||
	    (t->cap > 0 && (rc = clone_arrays(c, t)) != 0))
		goto out;
	c->n_leaves = t->n_leaves;
	c->n_members = t->n_members;
	memcpy(c->cred_used, t->cred_used, sizeof(c->cred_used));
	memcpy(c->cred_supported, t->cred_supported,
	       sizeof(c->cred_supported));
	*out = c;
	c = NULL; /* transferred */
out:
	mls_tree_free(c);
	return rc;
}

/* ---- reading ---- */

const struct mls_suite *mls_tree_suite(const struct mls_tree *t)
{
	return t->suite;
}

uint32_t mls_tree_n_leaves(const struct mls_tree *t)
{
	return t->n_leaves;
}

uint32_t mls_tree_n_members(const struct mls_tree *t)
{
	return t->n_members;
}

const struct mls_node *mls_tree_node(const struct mls_tree *t, uint32_t x)
{
	return x < width(t) && !is_blank(t, x) ? &t->nodes[x] : NULL;
}

const struct mls_leaf_node *mls_tree_leaf(const struct mls_tree *t,
					  uint32_t leaf)
{
	const struct mls_node *n =
		leaf < t->n_leaves ? mls_tree_node(t, 2 * leaf) : NULL;

	return n != NULL ? n->leaf : NULL;
}

const struct mls_parent_node *mls_tree_parent(const struct mls_tree *t,
					      uint32_t x)
{
	const struct mls_node *n = mls_tree_node(t, x);

	return n != NULL && n->type == MLS_NODE_PARENT ? n->parent : NULL;
}

const struct bw_bytes *mls_tree_encryption_key(const struct mls_tree *t,
					       uint32_t x)
{
	return mls_tree_node(t, x) != NULL
		       ? tree_node_key(t, x, TREE_KEY_ENCRYPTION)
		       : NULL;
}

static bool find_key(const struct mls_tree *t, enum tree_key_kind kind,
		     const void *key, size_t len, uint32_t *node)
{
	uint32_t h;

	return tree_index_hash(t, key, len, &h) == 0 &&
	       tree_index_find(t, kind, key, len, h, node);
}

bool mls_tree_find_encryption_key(const struct mls_tree *t, const void *key,
				  size_t len, uint32_t *node)
{
	return find_key(t, TREE_KEY_ENCRYPTION, key, len, node);
}

bool mls_tree_find_signature_key(const struct mls_tree *t, const void *key,
				 size_t len, uint32_t *leaf)
{
	uint32_t x;

	if (!find_key(t, TREE_KEY_SIGNATURE, key, len, &x))
		return false;
	if (leaf != NULL)
		*leaf = x / 2;
	return true;
}

bool mls_tree_find_leaf(const struct mls_tree *t,
			const struct mls_leaf_node *ln, uint32_t *leaf)
{
	uint32_t i;

	if (!mls_tree_find_signature_key(t, ln->signature_key.p,
					 ln->signature_key.len, &i) ||
	    !mls_leaf_node_equal(mls_tree_leaf(t, i), ln))
		return false;
	if (leaf != NULL)
		*leaf = i;
	return true;
}

/* Descend towards the leftmost subtree that is not full. O(log n). */
uint32_t mls_tree_free_leaf(const struct mls_tree *t)
{
	uint32_t x;

	if (t->n_leaves == 0 || t->n_members == t->n_leaves)
		return t->n_leaves;
	x = mls_tm_root(t->n_leaves);
	while (!mls_tm_is_leaf(x)) {
		uint32_t l = mls_tm_left(x, t->n_leaves);

		x = t->members[l] < mls_tm_subtree_leaves(l, t->n_leaves)
			    ? l
			    : mls_tm_right(x, t->n_leaves);
	}
	return x / 2;
}

/* ---- resolution and paths ---- */

static int resolve(const struct mls_tree *t, uint32_t x,
		   const uint32_t *excl, size_t n_excl,
		   struct mls_node_list *out)
{
	const struct mls_node *n = &t->nodes[x];
	int rc;

	if (t->filled[x] == 0)
		return 0;
	if (n->type == MLS_NODE_LEAF)
		return sorted_contains(excl, n_excl, x / 2)
			       ? 0
			       : node_list_push(out, x);
	if (n->type == MLS_NODE_PARENT) {
		if ((rc = node_list_push(out, x)) != 0)
			return rc;
		for (size_t i = 0; i < n->parent->n_unmerged_leaves; i++) {
			uint32_t u = n->parent->unmerged_leaves[i];

			if (!sorted_contains(excl, n_excl, u) &&
			    (rc = node_list_push(out, 2 * u)) != 0)
				return rc;
		}
		return 0;
	}
	if ((rc = resolve(t, mls_tm_left(x, t->n_leaves), excl, n_excl,
			  out)) != 0)
		return rc;
	return resolve(t, mls_tm_right(x, t->n_leaves), excl, n_excl, out);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int mls_tree_resolution(const struct mls_tree *t, uint32_t x,
			const uint32_t *exclude, size_t n_exclude,
			struct mls_node_list *out)
{
	uint32_t *excl = NULL;
	int rc;

	if (x >= width(t))
		return MLS_ERR_INVALID_ARG;
	if (n_exclude > 0) {
		if ((excl = malloc(n_exclude * sizeof(*excl))) == NULL)
			return BW_ERR_NOMEM;
		memcpy(excl, exclude, n_exclude * sizeof(*excl));
		qsort(excl, n_exclude, sizeof(*excl), cmp_u32);
	}
	rc = resolve(t, x, excl, n_exclude, out);
	free(excl);
	return rc;
}

bool mls_tree_resolution_empty(const struct mls_tree *t, uint32_t x)
{
	return x >= width(t) || t->filled[x] == 0;
}

int mls_tree_filtered_direct_path(const struct mls_tree *t, uint32_t leaf,
				  uint32_t path[MLS_TM_MAX_PATH],
				  uint32_t copath[MLS_TM_MAX_PATH],
				  uint32_t *n)
{
	uint32_t y, p;

	*n = 0;
	if (leaf >= t->n_leaves)
		return MLS_ERR_LEAF_INDEX;
	for (y = 2 * leaf; (p = mls_tm_parent(y, t->n_leaves)) != MLS_TM_NONE;
	     y = p) {
		uint32_t c = mls_tm_sibling(y, t->n_leaves);

		/* §4.1: drop parents whose copath child resolves to nothing. */
		if (t->filled[c] == 0)
			continue;
		path[*n] = p;
		copath[*n] = c;
		(*n)++;
	}
	return 0;
}

/* ---- §12.1 changes ---- */

static int leaf_node_new(const struct mls_leaf_node *ln, struct mls_node *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((out->leaf = calloc(1, sizeof(*out->leaf))) == NULL)
		return BW_ERR_NOMEM;
	out->type = MLS_NODE_LEAF;
	if ((rc = mls_leaf_node_copy(out->leaf, ln)) != 0)
		mls_node_clear(out);
	return rc;
}

/* Blank every parent on x's direct path. */
static int blank_direct_path(struct mls_tree *t, uint32_t x)
{
	int rc;

	for (uint32_t y = mls_tm_parent(x, t->n_leaves); y != MLS_TM_NONE;
	     y = mls_tm_parent(y, t->n_leaves))
		if ((rc = node_blank(t, y)) != 0)
			return rc;
	return 0;
}

/* §12.1.1: the new leaf becomes unmerged at every non-blank parent above
 * it (its index is new, so it is in no list yet). */
static int add_unmerged(struct mls_tree *t, uint32_t leaf)
{
	struct mls_node n;
	int rc;

	for (uint32_t y = mls_tm_parent(2 * leaf, t->n_leaves);
	     y != MLS_TM_NONE; y = mls_tm_parent(y, t->n_leaves)) {
		if (is_blank(t, y))
			continue;
		n.type = MLS_NODE_PARENT;
		if ((n.parent = calloc(1, sizeof(*n.parent))) == NULL)
			return BW_ERR_NOMEM;
		if ((rc = parent_node_copy(n.parent, t->nodes[y].parent,
					       leaf)) != 0 ||
		    (rc = node_replace(t, y, &n)) != 0) {
			mls_node_clear(&n);
			return rc;
		}
	}
	return 0;
}

int mls_tree_add_leaf(struct mls_tree *t, const struct mls_leaf_node *ln,
		      uint32_t *leaf)
{
	struct mls_tree_savepoint sp;
	struct mls_node n;
	uint32_t i = mls_tree_free_leaf(t);
	int rc;

	if ((rc = leaf_node_new(ln, &n)) != 0)
		return rc;
	mls_tree_savepoint(t, &sp);
	if ((i < t->n_leaves || (rc = tree_extend(t)) == 0) &&
	    (rc = node_replace(t, 2 * i, &n)) == 0)
		rc = add_unmerged(t, i);
	if (rc != 0) {
		mls_tree_rollback_to(t, &sp);
		mls_node_clear(&n);
		return rc;
	}
	mls_tree_release(t, &sp);
	*leaf = i;
	return 0;
}

static int check_member(const struct mls_tree *t, uint32_t leaf)
{
	if (leaf >= t->n_leaves)
		return MLS_ERR_LEAF_INDEX;
	return is_blank(t, 2 * leaf) ? MLS_ERR_BLANK_NODE : 0;
}

int mls_tree_update_leaf(struct mls_tree *t, uint32_t leaf,
			 const struct mls_leaf_node *ln)
{
	struct mls_tree_savepoint sp;
	struct mls_node n;
	int rc;

	if ((rc = check_member(t, leaf)) != 0 ||
	    (rc = leaf_node_new(ln, &n)) != 0)
		return rc;
	mls_tree_savepoint(t, &sp);
	if ((rc = node_replace(t, 2 * leaf, &n)) != 0 ||
	    (rc = blank_direct_path(t, 2 * leaf)) != 0) {
		mls_tree_rollback_to(t, &sp);
		mls_node_clear(&n);
		return rc;
	}
	mls_tree_release(t, &sp);
	return 0;
}

/* §7.7: drop the right half while it holds no non-blank node. */
static int truncate_tree(struct mls_tree *t)
{
	int rc;

	while (t->n_leaves > 1) {
		uint32_t r = mls_tm_root(t->n_leaves);

		if (t->filled[mls_tm_right(r, t->n_leaves)] != 0)
			break;
		if ((rc = node_blank(t, r)) != 0)
			return rc;
		tree_set_width(t, t->n_leaves / 2);
	}
	return 0;
}

int mls_tree_remove_leaf(struct mls_tree *t, uint32_t leaf)
{
	struct mls_tree_savepoint sp;
	int rc;

	if ((rc = check_member(t, leaf)) != 0)
		return rc;
	mls_tree_savepoint(t, &sp);
	if ((rc = node_blank(t, 2 * leaf)) != 0 ||
	    (rc = blank_direct_path(t, 2 * leaf)) != 0 ||
	    (rc = truncate_tree(t)) != 0) {
		mls_tree_rollback_to(t, &sp);
		return rc;
	}
	mls_tree_release(t, &sp);
	return 0;
}

int mls_tree_reserve_leaf(struct mls_tree *t, uint32_t leaf)
{
	if (leaf < t->n_leaves)
		return 0;
	return leaf == t->n_leaves ? tree_extend(t) : MLS_ERR_LEAF_INDEX;
}

int mls_tree_set_leaf(struct mls_tree *t, uint32_t leaf,
		      const struct mls_leaf_node *ln)
{
	struct mls_node n;
	int rc;

	if (leaf >= t->n_leaves)
		return MLS_ERR_LEAF_INDEX;
	if ((rc = leaf_node_new(ln, &n)) != 0)
		return rc;
	if ((rc = node_replace(t, 2 * leaf, &n)) != 0)
		mls_node_clear(&n);
	return rc;
}

/* Path keys are new: not in the tree and not repeated (§12.4.2). */
static int path_keys_fresh(const struct mls_tree *t,
			   const struct bw_bytes *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (find_key(t, TREE_KEY_ENCRYPTION, keys[i].p, keys[i].len,
			     NULL))
			return MLS_ERR_DUPLICATE_KEY;
		for (size_t j = 0; j < i; j++)
			if (bw_bytes_eq(&keys[j], keys[i].p, keys[i].len))
				return MLS_ERR_DUPLICATE_KEY;
	}
	return 0;
}

/* Set filtered path node x to key with parent hash ph, no unmerged leaves,
 * and compute its own parent hash towards copath child c into out. */
static int path_node_set(struct mls_tree *t, uint32_t x, uint32_t c,
			 const struct bw_bytes *key,
			 const struct bw_bytes *ph, uint8_t *out)
{
	const uint8_t *sibling_hash;
	struct mls_node n = { .type = MLS_NODE_PARENT };
	int rc;

	if ((n.parent = calloc(1, sizeof(*n.parent))) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = bw_bytes_set(&n.parent->encryption_key, key->p,
			       key->len)) != 0 ||
	    (rc = bw_bytes_set(&n.parent->parent_hash, ph->p, ph->len)) != 0 ||
	    (rc = node_replace(t, x, &n)) != 0) {
		mls_node_clear(&n);
		return rc;
	}
	/* §7.9: the sibling's subtree is untouched by the path and the node
	 * has no unmerged leaves, so its original tree hash is the current. */
	if ((rc = tree_node_hash(t, c, &sibling_hash)) != 0)
		return rc;
	return tree_parent_hash(t, key, &t->nodes[x].parent->parent_hash,
				sibling_hash, out);
}

static int merge_nodes(struct mls_tree *t, uint32_t leaf,
		       const uint32_t *path, const uint32_t *copath,
		       const struct bw_bytes *keys, uint32_t n,
		       struct bw_bytes *ph)
{
	uint8_t next[MLS_MAX_HASH_LEN];
	int rc;

	if ((rc = blank_direct_path(t, 2 * leaf)) != 0)
		return rc;
	/* §7.9: parent hashes chain from the root down; the root's parent
	 * hash is empty. */
	bw_bytes_clear(ph);
	for (uint32_t i = n; i-- > 0;) {
		if ((rc = path_node_set(t, path[i], copath[i], &keys[i], ph,
					next)) != 0 ||
		    (rc = bw_bytes_set(ph, next, t->suite->hash_len)) != 0)
			return rc;
	}
	return 0;
}

int mls_tree_merge_path(struct mls_tree *t, uint32_t leaf,
			const struct bw_bytes *keys, size_t n_keys,
			struct bw_bytes *leaf_parent_hash)
{
	uint32_t path[MLS_TM_MAX_PATH], copath[MLS_TM_MAX_PATH], n;
	struct bw_bytes ph = { 0 };
	struct mls_tree_savepoint sp;
	int rc;

	if ((rc = mls_tree_filtered_direct_path(t, leaf, path, copath, &n)) !=
	    0)
		return rc;
	if (n_keys != n)
		return MLS_ERR_PATH;
	if ((rc = path_keys_fresh(t, keys, n)) != 0)
		return rc;
	mls_tree_savepoint(t, &sp);
	if ((rc = merge_nodes(t, leaf, path, copath, keys, n, &ph)) != 0) {
		mls_tree_rollback_to(t, &sp);
		bw_bytes_clear(&ph);
		return rc;
	}
	mls_tree_release(t, &sp);
	bw_bytes_move(leaf_parent_hash, &ph);
	return 0;
}

/* ---- §7.3 credential types ---- */

int mls_tree_leaf_compatible(const struct mls_tree *t,
			     const struct mls_leaf_node *ln,
			     uint32_t replaced)
{
	uint32_t used[2], supported[2], others = t->n_members;
	const struct mls_leaf_node *old = mls_tree_leaf(t, replaced);
	uint16_t type = ln->credential.type;

	memcpy(used, t->cred_used, sizeof(used));
	memcpy(supported, t->cred_supported, sizeof(supported));
	if (old != NULL) {
		others--;
		for (uint16_t i = 0; i < 2; i++) {
			used[i] -= old->credential.type ==
				   MLS_CREDENTIAL_BASIC + i;
			supported[i] -= mls_u16_list_contains(
				&old->capabilities.credentials,
				MLS_CREDENTIAL_BASIC + i);
		}
	}
	if (type != MLS_CREDENTIAL_BASIC && type != MLS_CREDENTIAL_X509)
		return MLS_ERR_CAPABILITIES;
	if (supported[type - MLS_CREDENTIAL_BASIC] != others)
		return MLS_ERR_CAPABILITIES;
	for (uint16_t i = 0; i < 2; i++)
		if (used[i] > 0 &&
		    !mls_u16_list_contains(&ln->capabilities.credentials,
					   MLS_CREDENTIAL_BASIC + i))
			return MLS_ERR_CAPABILITIES;
	return 0;
}

/* ---- memory ---- */

static size_t leaf_memory(const struct mls_leaf_node *ln)
{
	const struct mls_capabilities *c = &ln->capabilities;
	size_t n = sizeof(*ln) + ln->encryption_key.len +
		   ln->signature_key.len + ln->credential.identity.len +
		   ln->parent_hash.len + ln->signature.len;

	for (size_t i = 0; i < ln->credential.n_certificates; i++)
		n += sizeof(struct bw_bytes) + ln->credential.certificates[i].len;
	n += 2 * (c->versions.n + c->cipher_suites.n + c->extensions.n +
		  c->proposals.n + c->credentials.n);
	for (size_t i = 0; i < ln->extensions.n; i++)
		n += sizeof(struct mls_extension) + ln->extensions.v[i].data.len;
	return n;
}

size_t mls_tree_memory(const struct mls_tree *t)
{
	size_t n = sizeof(*t) + t->cap * (sizeof(*t->nodes) +
					  sizeof(*t->filled) +
					  sizeof(*t->members) + 1 +
					  t->suite->hash_len) +
		   ((size_t)t->slot_mask + 1) * sizeof(*t->slots) +
		   t->cap_undo * sizeof(*t->undo) + t->scratch.cap;

	for (uint32_t x = 0; x < t->cap; x++) {
		const struct mls_node *nd = &t->nodes[x];

		if (nd->type == MLS_NODE_LEAF)
			n += leaf_memory(nd->leaf);
		else if (nd->type == MLS_NODE_PARENT)
			n += sizeof(*nd->parent) +
			     nd->parent->encryption_key.len +
			     nd->parent->parent_hash.len +
			     4 * nd->parent->n_unmerged_leaves;
	}
	return n;
}

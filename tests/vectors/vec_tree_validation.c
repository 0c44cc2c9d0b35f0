/* vec_tree_validation.c - mls/tree-validation.json: for each tree, the
 * resolution and tree hash of every node, parent-hash verification as a
 * joiner does it, every leaf's signature with the group id, and the whole
 * §12.4.3.1 validation (mls_tree_validate) on top. */
#include <stdlib.h>

#include "suite_vectors.h"
#include "test.h"
#include "tree.h"
#include "vectors.h"

static int accept_any(void *arg, const struct mls_credential *c,
		      const uint8_t *key, size_t len)
{
	(void)arg;
	(void)c;
	(void)key;
	(void)len;
	return 0;
}

static bool check_resolution(struct mls_tree *t, uint32_t x, json_t *want)
{
	struct mls_node_list res = { 0 };
	bool ok = json_is_array(want) &&
		  mls_tree_resolution(t, x, NULL, 0, &res) == 0 &&
		  res.n == json_array_size(want);

	for (size_t i = 0; ok && i < res.n; i++) {
		json_t *e = json_array_get(want, i);

		ok = json_is_integer(e) &&
		     json_integer_value(e) == (json_int_t)res.v[i];
	}
	mls_node_list_clear(&res);
	if (!ok)
		fprintf(stderr, "node %u: resolution differs\n", x);
	return ok;
}

static bool check_hash(struct mls_tree *t, uint32_t x, json_t *want)
{
	const struct mls_suite *s = mls_tree_suite(t);
	struct bw_bytes h = { 0 };
	uint8_t got[MLS_MAX_HASH_LEN];
	bool ok = tv_hex_value(want, &h) &&
		  mls_tree_node_hash(t, x, got) == 0 &&
		  bw_bytes_eq(&h, got, s->hash_len);

	bw_bytes_clear(&h);
	if (!ok)
		fprintf(stderr, "node %u: tree hash differs\n", x);
	return ok;
}

static bool check_signatures(struct mls_tree *t, const struct bw_bytes *gid)
{
	for (uint32_t i = 0; i < mls_tree_n_leaves(t); i++) {
		const struct mls_leaf_node *ln = mls_tree_leaf(t, i);

		if (ln != NULL && mls_leaf_node_verify(mls_tree_suite(t), ln,
						       gid->p, gid->len,
						       i) != 0) {
			fprintf(stderr, "leaf %u: signature fails\n", i);
			return false;
		}
	}
	return true;
}

static bool check_tree(struct mls_tree *t, json_t *v,
		       const struct bw_bytes *gid)
{
	json_t *res = json_object_get(v, "resolutions");
	json_t *hashes = json_object_get(v, "tree_hashes");
	uint32_t w = 2 * mls_tree_n_leaves(t) - 1;
	uint8_t root[MLS_MAX_HASH_LEN];
	struct mls_leaf_policy pol = { .accept = accept_any };

	CHECK_EQ_INT(json_array_size(res), w);
	CHECK_EQ_INT(json_array_size(hashes), w);
	for (uint32_t x = 0; x < w; x++)
		CHECK(check_resolution(t, x, json_array_get(res, x)) &&
		      check_hash(t, x, json_array_get(hashes, x)));
	CHECK_EQ_INT(mls_tree_verify_parent_hashes(t), 0);
	CHECK(check_signatures(t, gid));
	CHECK_EQ_INT(mls_tree_hash(t, root), 0);
	CHECK_EQ_INT(mls_tree_validate(t, root, mls_tree_suite(t)->hash_len,
				       gid->p, gid->len, &pol),
		     0);
	return true;
}

static bool check(json_t *v, const struct mls_suite *s)
{
	struct bw_bytes tree = { 0 }, gid = { 0 };
	struct mls_tree *t = NULL;
	bool ok = false;

	if (!tv_hex(v, "tree", &tree) || !tv_hex(v, "group_id", &gid))
		goto out;
	if (mls_tree_decode(s, tree.p, tree.len, &t) != 0) {
		fprintf(stderr, "tree does not import\n");
		goto out;
	}
	ok = check_tree(t, v, &gid);
out:
	mls_tree_free(t);
	bw_bytes_clear(&tree);
	bw_bytes_clear(&gid);
	return ok;
}

int main(int argc, char **argv)
{
	return tv_run_suites(argc, argv, "mls/tree-validation.json", "tree-validation", check);
}

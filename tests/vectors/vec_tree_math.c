/* vec_tree_math.c - RFC 9420 Appendix C tree arithmetic against
 * mls/tree-math.json: width, root, and left/right/parent/sibling of every
 * node, where null means the function has no answer (MLS_TM_NONE). */
#include "test.h"
#include "treemath.h"
#include "vectors.h"

/* Expected value of array[i]: null -> MLS_TM_NONE. */
static bool expected(json_t *v, const char *key, size_t i, uint32_t *out)
{
	json_t *arr = json_object_get(v, key), *e;

	if (!json_is_array(arr) || (e = json_array_get(arr, i)) == NULL) {
		fprintf(stderr, "%s[%zu] missing\n", key, i);
		return false;
	}
	if (json_is_null(e)) {
		*out = MLS_TM_NONE;
		return true;
	}
	if (!json_is_integer(e) || json_integer_value(e) < 0 ||
	    json_integer_value(e) >= MLS_TM_NONE) {
		fprintf(stderr, "%s[%zu] is not a node index\n", key, i);
		return false;
	}
	*out = (uint32_t)json_integer_value(e);
	return true;
}

static bool check_node(json_t *v, uint32_t n, uint32_t x)
{
	uint32_t left, right, parent, sibling;

	if (!expected(v, "left", x, &left) || !expected(v, "right", x, &right) ||
	    !expected(v, "parent", x, &parent) ||
	    !expected(v, "sibling", x, &sibling))
		return false;
	if (mls_tm_left(x, n) != left || mls_tm_right(x, n) != right ||
	    mls_tm_parent(x, n) != parent || mls_tm_sibling(x, n) != sibling) {
		fprintf(stderr, "n_leaves %u, node %u: wrong relative\n", n, x);
		return false;
	}
	return true;
}

static bool check(json_t *v)
{
	uint64_t n, n_nodes, root;

	if (!tv_u64(v, "n_leaves", &n) || !tv_u64(v, "n_nodes", &n_nodes) ||
	    !tv_u64(v, "root", &root) || n > MLS_TM_MAX_LEAVES)
		return false;
	if (mls_tm_node_width((uint32_t)n) != n_nodes ||
	    mls_tm_root((uint32_t)n) != root) {
		fprintf(stderr, "n_leaves %llu: wrong width or root\n",
			(unsigned long long)n);
		return false;
	}
	if (json_array_size(json_object_get(v, "left")) != n_nodes)
		return false;
	for (uint32_t x = 0; x < n_nodes; x++)
		if (!check_node(v, (uint32_t)n, x))
			return false;
	/* One past the end is outside the tree. */
	return mls_tm_parent((uint32_t)n_nodes, (uint32_t)n) == MLS_TM_NONE;
}

int main(int argc, char **argv)
{
	json_t *all = tv_load(tv_dir(argc, argv), "mls/tree-math.json");
	struct tv_count c = { .name = "tree-math" };
	size_t i;
	json_t *v;

	json_array_foreach(all, i, v)
		tv_count(&c, check(v));
	json_decref(all);
	return tv_report(&c);
}

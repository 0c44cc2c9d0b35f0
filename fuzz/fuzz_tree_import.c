/* fuzz_tree_import.c - a joiner's handling of a ratchet tree from the
 * network (RFC 9420 §12.4.3.1): decode, import, hash, parent-hash and full
 * validation, then a change rolled back. The first byte picks the suite;
 * the rest is the ratchet_tree. Nothing may crash or leak, and a tree that
 * imports must re-encode to its own bytes and be unchanged by a rolled
 * back change. */
#include <stdlib.h>
#include <string.h>

#include "tree.h"

static int accept_all(void *arg, const struct mls_credential *c,
		      const uint8_t *key, size_t len)
{
	(void)arg;
	(void)c;
	(void)key;
	(void)len;
	return 0;
}

static void same_bytes(const struct mls_tree *t, const uint8_t *p, size_t n)
{
	struct bw_writer w;

	bw_writer_init(&w, 0);
	if (mls_tree_encode(t, &w) != 0 || w.len != n ||
	    memcmp(w.buf, p, n) != 0)
		abort();
	bw_writer_free(&w);
}

static void exercise(struct mls_tree *t, const uint8_t *p, size_t n)
{
	static const uint8_t gid[] = "fuzz";
	struct mls_leaf_policy pol = { .accept = accept_all };
	uint8_t th[MLS_MAX_HASH_LEN], again[MLS_MAX_HASH_LEN];
	struct mls_node_list res = { 0 };
	uint32_t leaf = 0;

	same_bytes(t, p, n);
	if (mls_tree_hash(t, th) != 0)
		abort();
	mls_tree_resolution(t, mls_tm_root(mls_tree_n_leaves(t)), NULL, 0,
			    &res);
	mls_node_list_clear(&res);
	mls_tree_verify_parent_hashes(t);
	mls_tree_validate(t, th, mls_tree_suite(t)->hash_len, gid,
			  sizeof(gid), &pol);
	while (leaf < mls_tree_n_leaves(t) && mls_tree_leaf(t, leaf) == NULL)
		leaf++;
	if (mls_tree_txn_begin(t) != 0)
		abort();
	mls_tree_remove_leaf(t, leaf);
	mls_tree_txn_rollback(t);
	same_bytes(t, p, n);
	if (mls_tree_hash(t, again) != 0 ||
	    memcmp(th, again, mls_tree_suite(t)->hash_len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mls_suite *s;
	struct mls_tree *t = NULL;

	if (size < 1)
		return 0;
	s = mls_suite_get((uint16_t)(1 + data[0] % 3));
	if (mls_tree_decode(s, data + 1, size - 1, &t) == 0)
		exercise(t, data + 1, size - 1);
	mls_tree_free(t);
	return 0;
}

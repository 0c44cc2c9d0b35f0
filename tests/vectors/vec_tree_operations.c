/* vec_tree_operations.c - mls/tree-operations.json: apply an Add, Update or
 * Remove proposal to tree_before; the serialised result and its tree hash
 * must match. Each change is made inside a transaction and also rolled
 * back, which must restore tree_before byte for byte and hash for hash. */
#include "suite_vectors.h"
#include "test.h"
#include "tree.h"
#include "vectors.h"

static bool tree_is(struct mls_tree *t, const struct bw_bytes *bytes,
		    const struct bw_bytes *hash)
{
	uint8_t th[MLS_MAX_HASH_LEN];
	struct bw_writer w;
	bool ok;

	bw_writer_init(&w, 0);
	ok = mls_tree_encode(t, &w) == 0 && bw_bytes_eq(bytes, w.buf, w.len) &&
	     mls_tree_hash(t, th) == 0 &&
	     bw_bytes_eq(hash, th, mls_tree_suite(t)->hash_len);
	bw_writer_free(&w);
	return ok;
}

static int apply(struct mls_tree *t, const struct mls_proposal *p,
		 uint32_t sender)
{
	uint32_t leaf;

	switch (p->type) {
	case MLS_PROPOSAL_ADD:
		return mls_tree_add_leaf(t, &p->add.leaf_node, &leaf);
	case MLS_PROPOSAL_UPDATE:
		return mls_tree_update_leaf(t, sender, &p->update);
	case MLS_PROPOSAL_REMOVE:
		return mls_tree_remove_leaf(t, p->remove);
	}
	return MLS_ERR_UNKNOWN_TYPE;
}

struct vec {
	struct bw_bytes before, after, hash_before, hash_after, proposal;
	uint64_t sender;
};

static bool run(const struct mls_suite *s, const struct vec *v)
{
	struct mls_proposal p = { 0 };
	struct mls_tree *t = NULL;
	struct bw_reader r;
	bool ok = false;

	bw_reader_init(&r, v->proposal.p, v->proposal.len);
	if (mls_proposal_decode(&r, &p) != 0 || bw_reader_finish(&r) != 0 ||
	    mls_tree_decode(s, v->before.p, v->before.len, &t) != 0)
		goto out;
	if (!tree_is(t, &v->before, &v->hash_before) ||
	    mls_tree_txn_begin(t) != 0 ||
	    apply(t, &p, (uint32_t)v->sender) != 0 ||
	    !tree_is(t, &v->after, &v->hash_after))
		goto out;
	mls_tree_txn_rollback(t);
	if (!tree_is(t, &v->before, &v->hash_before) ||
	    apply(t, &p, (uint32_t)v->sender) != 0)
		goto out;
	ok = tree_is(t, &v->after, &v->hash_after);
out:
	mls_tree_free(t);
	mls_proposal_clear(&p);
	return ok;
}

static bool check(json_t *j, const struct mls_suite *s)
{
	struct vec v = { 0 };
	bool ok = tv_hex(j, "tree_before", &v.before) &&
		  tv_hex(j, "tree_after", &v.after) &&
		  tv_hex(j, "tree_hash_before", &v.hash_before) &&
		  tv_hex(j, "tree_hash_after", &v.hash_after) &&
		  tv_hex(j, "proposal", &v.proposal) &&
		  tv_u64(j, "proposal_sender", &v.sender) &&
		  v.sender <= UINT32_MAX && run(s, &v);

	bw_bytes_clear(&v.before);
	bw_bytes_clear(&v.after);
	bw_bytes_clear(&v.hash_before);
	bw_bytes_clear(&v.hash_after);
	bw_bytes_clear(&v.proposal);
	return ok;
}

int main(int argc, char **argv)
{
	return tv_run_suites(argc, argv, "mls/tree-operations.json", "tree-operations", check);
}

/* vec_treekem.c - mls/treekem.json, every check of FORMATS.md:
 *   - each member's private state (leaf key and path secrets) is
 *     consistent with the tree;
 *   - each given UpdatePath merges (parent-hash valid), gives the tree hash
 *     after, and every other member decrypts the expected path secret and
 *     derives the expected commit secret;
 *   - a new UpdatePath created by the same sender is processed by every
 *     other member to the creator's commit secret.
 * Beyond the file: the new path also merges as a receiver would, to the
 * same tree hash, a fully parent-hash valid tree and a valid leaf
 * signature; and each member's private state, once updated, is consistent
 * with the new tree. Every step runs in a transaction rolled back after. */
#include <stdlib.h>

#include <openssl/crypto.h>

#include "suite_vectors.h"
#include "test.h"
#include "treekem.h"
#include "vectors.h"

struct group {
	const struct mls_suite *s;
	struct mls_tree *t;
	struct bw_bytes gid, cth;
	uint64_t epoch;
	uint32_t n; /* leaves */
	struct mls_tree_priv **priv;
	struct bw_bytes *sig_priv;
};

static void group_clear(struct group *g)
{
	for (uint32_t i = 0; g->priv != NULL && i < g->n; i++) {
		mls_tree_priv_free(g->priv[i]);
		bw_bytes_clear(&g->sig_priv[i]);
	}
	free(g->priv);
	free(g->sig_priv);
	mls_tree_free(g->t);
	bw_bytes_clear(&g->gid);
	bw_bytes_clear(&g->cth);
}

/* The serialised provisional GroupContext for the tree as it is now. */
static bool group_context(struct group *g, struct bw_writer *w)
{
	struct mls_group_context gc = {
		.version = MLS_PROTOCOL_VERSION_MLS10,
		.cipher_suite = g->s->id,
		.group_id = g->gid,
		.epoch = g->epoch,
		.confirmed_transcript_hash = g->cth,
	};
	uint8_t th[MLS_MAX_HASH_LEN];

	gc.tree_hash.p = th;
	gc.tree_hash.len = g->s->hash_len;
	bw_writer_init(w, 0);
	return mls_tree_hash(g->t, th) == 0 &&
	       mls_group_context_encode(&gc, w) == 0;
}

static bool load_private(struct group *g, json_t *lp)
{
	json_t *ps = json_object_get(lp, "path_secrets"), *e;
	struct bw_bytes enc = { 0 }, secret = { 0 };
	uint64_t idx, node;
	size_t i;
	bool ok = false;

	if (!tv_u64(lp, "index", &idx) || idx >= g->n ||
	    !tv_hex(lp, "encryption_priv", &enc) ||
	    !tv_hex(lp, "signature_priv", &g->sig_priv[idx]) ||
	    mls_tree_priv_new(g->s, (uint32_t)idx, enc.p, enc.len,
			      &g->priv[idx]) != 0)
		goto out;
	json_array_foreach(ps, i, e) {
		if (!tv_u64(e, "node", &node) ||
		    !tv_hex(e, "path_secret", &secret) ||
		    mls_tree_priv_set_path_secret(g->priv[idx], g->t,
						  (uint32_t)node, secret.p,
						  secret.len) != 0)
			goto out;
	}
	ok = mls_tree_priv_check(g->priv[idx], g->t) == 0;
out:
	bw_bytes_clear(&enc);
	bw_bytes_clear(&secret);
	if (!ok)
		fprintf(stderr, "private state of leaf %llu inconsistent\n",
			(unsigned long long)idx);
	return ok;
}

static bool load(struct group *g, json_t *v)
{
	json_t *lps = json_object_get(v, "leaves_private"), *lp;
	struct bw_bytes tree = { 0 };
	size_t i;
	bool ok;

	ok = tv_hex(v, "group_id", &g->gid) &&
	     tv_hex(v, "confirmed_transcript_hash", &g->cth) &&
	     tv_u64(v, "epoch", &g->epoch) &&
	     tv_hex(v, "ratchet_tree", &tree) &&
	     mls_tree_decode(g->s, tree.p, tree.len, &g->t) == 0;
	bw_bytes_clear(&tree);
	if (!ok)
		return false;
	g->n = mls_tree_n_leaves(g->t);
	g->priv = calloc(g->n, sizeof(*g->priv));
	g->sig_priv = calloc(g->n, sizeof(*g->sig_priv));
	if (g->priv == NULL || g->sig_priv == NULL)
		return false;
	json_array_foreach(lps, i, lp)
		if (!load_private(g, lp))
			return false;
	return true;
}

/* Member j processes path from sender: the commit secret must be want
 * and, when want_ps is not NULL, the decrypted path secret too. Its
 * private state, once updated, must match the tree. */
static bool process(struct group *g, uint32_t j, uint32_t sender,
		    const struct mls_update_path *path, const struct bw_writer *gc,
		    const uint8_t *want, const struct bw_bytes *want_ps)
{
	struct mls_treekem_update *u = NULL;
	struct mls_tree_priv *after = NULL;
	struct bw_bytes ps = { 0 };
	bool ok;

	ok = mls_treekem_decrypt(g->t, g->priv[j], sender, path, NULL, 0,
				 gc->buf, gc->len, &u) == 0 &&
	     CRYPTO_memcmp(mls_treekem_commit_secret(u), want,
			   g->s->hash_len) == 0 &&
	     mls_treekem_path_secret(u, j, &ps) == 0 &&
	     (want_ps == NULL || bw_bytes_eq(want_ps, ps.p, ps.len)) &&
	     mls_tree_priv_clone(g->priv[j], &after) == 0 &&
	     mls_treekem_apply(u, after) == 0 &&
	     mls_tree_priv_check(after, g->t) == 0;
	if (!ok)
		fprintf(stderr, "leaf %u fails to process the path of %u\n", j,
			sender);
	mls_tree_priv_free(after);
	mls_treekem_update_free(u);
	bw_bytes_clear(&ps);
	return ok;
}

static bool check_given(struct group *g, json_t *up)
{
	struct bw_bytes bytes = { 0 }, commit = { 0 }, th_after = { 0 },
			ps = { 0 };
	json_t *secrets = json_object_get(up, "path_secrets");
	struct mls_update_path path = { 0 };
	uint8_t th[MLS_MAX_HASH_LEN];
	struct bw_writer gc = { 0 };
	struct bw_reader r;
	uint64_t sender;
	bool ok = false;

	if (!tv_u64(up, "sender", &sender) || sender >= g->n ||
	    !tv_hex(up, "update_path", &bytes) ||
	    !tv_hex(up, "commit_secret", &commit) ||
	    !tv_hex(up, "tree_hash_after", &th_after))
		goto out;
	bw_reader_init(&r, bytes.p, bytes.len);
	if (mls_update_path_decode(&r, &path) != 0 ||
	    bw_reader_finish(&r) != 0 || mls_tree_txn_begin(g->t) != 0)
		goto out;
	if (mls_treekem_merge(g->t, (uint32_t)sender, &path) != 0 ||
	    mls_tree_hash(g->t, th) != 0 ||
	    !bw_bytes_eq(&th_after, th, g->s->hash_len) ||
	    !group_context(g, &gc))
		goto rollback;
	for (uint32_t j = 0; j < g->n; j++) {
		if (j == sender || mls_tree_leaf(g->t, j) == NULL)
			continue;
		if (!tv_hex_value(json_array_get(secrets, j), &ps) ||
		    g->priv[j] == NULL ||
		    !process(g, j, (uint32_t)sender, &path, &gc, commit.p, &ps))
			goto rollback;
	}
	ok = true;
rollback:
	mls_tree_txn_rollback(g->t);
out:
	if (!ok)
		fprintf(stderr, "update path of leaf %llu fails\n",
			(unsigned long long)sender);
	bw_writer_free(&gc);
	mls_update_path_clear(&path);
	bw_bytes_clear(&bytes);
	bw_bytes_clear(&commit);
	bw_bytes_clear(&th_after);
	bw_bytes_clear(&ps);
	return ok;
}

/* The created path, merged by a receiver into the old tree, gives the
 * same tree, fully parent-hash valid, with a correctly signed leaf. */
static bool receiver_agrees(struct group *g, uint32_t i,
			    const struct mls_update_path *path,
			    const uint8_t *creator_th)
{
	uint8_t th[MLS_MAX_HASH_LEN];

	return mls_tree_txn_begin(g->t) == 0 &&
	       mls_treekem_merge(g->t, i, path) == 0 &&
	       mls_tree_hash(g->t, th) == 0 &&
	       CRYPTO_memcmp(th, creator_th, g->s->hash_len) == 0 &&
	       mls_tree_verify_parent_hashes(g->t) == 0 &&
	       mls_leaf_node_verify(g->s, mls_tree_leaf(g->t, i), g->gid.p,
				    g->gid.len, i) == 0;
}

static bool check_new(struct group *g, uint32_t i)
{
	struct mls_leaf_node templ = { 0 };
	struct mls_treekem_update *u = NULL;
	struct mls_update_path path = { 0 };
	uint8_t th[MLS_MAX_HASH_LEN];
	struct bw_writer gc = { 0 };
	bool ok = false;

	if (mls_leaf_node_copy(&templ, mls_tree_leaf(g->t, i)) != 0 ||
	    mls_tree_txn_begin(g->t) != 0)
		goto out;
	if (mls_treekem_create(g->t, i, &templ, g->sig_priv[i].p,
			       g->sig_priv[i].len, g->gid.p, g->gid.len, NULL,
			       &u) != 0 ||
	    !group_context(g, &gc) || mls_tree_hash(g->t, th) != 0 ||
	    mls_treekem_encrypt(u, g->t, NULL, 0, gc.buf, gc.len, &path) != 0)
		goto rollback;
	for (uint32_t j = 0; j < g->n; j++)
		if (j != i && mls_tree_leaf(g->t, j) != NULL &&
		    !process(g, j, i, &path, &gc, mls_treekem_commit_secret(u),
			     NULL))
			goto rollback;
	mls_tree_txn_rollback(g->t);
	ok = receiver_agrees(g, i, &path, th);
rollback:
	mls_tree_txn_rollback(g->t);
out:
	if (!ok)
		fprintf(stderr, "new update path of leaf %u fails\n", i);
	mls_treekem_update_free(u);
	mls_update_path_clear(&path);
	mls_leaf_node_clear(&templ);
	bw_writer_free(&gc);
	return ok;
}

static bool check(json_t *v, const struct mls_suite *s)
{
	json_t *ups = json_object_get(v, "update_paths"), *up;
	struct group g = { .s = s };
	uint64_t sender;
	size_t i;
	bool ok = load(&g, v) && json_array_size(ups) > 0;

	json_array_foreach(ups, i, up) {
		if (!ok)
			break;
		ok = check_given(&g, up) && tv_u64(up, "sender", &sender) &&
		     check_new(&g, (uint32_t)sender);
	}
	group_clear(&g);
	return ok;
}

int main(int argc, char **argv)
{
	return tv_run_suites(argc, argv, "mls/treekem.json", "treekem", check);
}

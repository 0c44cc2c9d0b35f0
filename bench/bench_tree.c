/*
 * bench_tree.c - the ratchet tree and TreeKEM (RFC 9420 §7, §12.4.3.1) for
 * groups of 10, 100, 1,000 and 10,000 members, suites 1 and 2.
 *
 *   bench_tree [seconds per measurement, default 1] [largest group]
 *
 * Each group is built as a real one: every member added with its own keys
 * and signed LeafNode, then every other member commits a path (so every
 * parent node is set and parent hashes chain as in a live group). Then:
 *  - join: decode the serialised tree, import it, and validate it as a
 *    joiner does (tree hash against the expected one, parent hashes, every
 *    leaf's keys, capabilities, credential callback and signature), next to
 *    n times one signature check measured in this program (the unavoidable
 *    cost): VerifyWithLabel as libmls runs it and the raw EVP verify under
 *    it; and the linear parts on their own (decode and import, tree hash
 *    from nothing, parent-hash verification);
 *  - create a commit path: mls_treekem_create, the tree hash for the
 *    provisional GroupContext, mls_treekem_encrypt to every copath
 *    resolution, then a rollback of the tree;
 *  - process it as the committer's sibling (who decrypts at the lowest
 *    node and so derives every key of the path): merge, tree hash, decrypt,
 *    rollback;
 *  - the rehash after one leaf changes (Update proposal, tree hash,
 *    rollback): O(log n) hashes from the cache;
 *  - memory of the tree, whole and per member.
 * Prints Markdown tables for docs/benchmarks.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "bench_util.h"
#include "tree_fixture.h"

struct bench {
	struct fx_group g;
	struct bw_writer bytes; /* the serialised tree */
	uint8_t th[MLS_MAX_HASH_LEN];
	struct mls_update_path path; /* from leaf 0 */
	struct bw_writer gc;         /* its provisional GroupContext */
};

/* n members, then a path from every other one (left to right). */
static void build(struct bench *b, const struct mls_suite *s, uint32_t n)
{
	uint32_t leaf;

	if (fx_group_new(s, &b->g) != 0)
		bench_die("group");
	for (uint32_t i = 1; i < n; i++)
		if (fx_add(&b->g, &leaf) != 0)
			bench_die("add");
	for (uint32_t i = 0; i < n; i += 2) {
		struct fx_member *m = &b->g.m[i];
		struct mls_treekem_update *u = NULL;

		if (mls_treekem_create(b->g.t, i, &m->leaf, m->sig_priv.p,
				       m->sig_priv.len, b->g.gid,
				       sizeof(b->g.gid), NULL, &u) != 0 ||
		    mls_treekem_apply(u, m->priv) != 0)
			bench_die("commit");
		mls_leaf_node_clear(&m->leaf);
		if (mls_leaf_node_copy(&m->leaf, mls_tree_leaf(b->g.t, i)) != 0)
			bench_die("leaf copy");
		mls_treekem_update_free(u);
	}
	bw_writer_init(&b->bytes, 0);
	if (mls_tree_encode(b->g.t, &b->bytes) != 0 ||
	    mls_tree_hash(b->g.t, b->th) != 0)
		bench_die("encode");
}

/* ---- join ---- */

static int op_import(void *arg)
{
	struct bench *b = arg;
	struct mls_tree *t = NULL;
	int rc = mls_tree_decode(b->g.s, b->bytes.buf, b->bytes.len, &t);

	mls_tree_free(t);
	return rc;
}

static int op_hash_fresh(void *arg)
{
	struct bench *b = arg;
	struct mls_tree *t = NULL;
	uint8_t th[MLS_MAX_HASH_LEN];
	int rc;

	if ((rc = mls_tree_decode(b->g.s, b->bytes.buf, b->bytes.len, &t)) ==
	    0)
		rc = mls_tree_hash(t, th);
	mls_tree_free(t);
	return rc;
}

static int op_parent_hashes(void *arg)
{
	struct bench *b = arg;
	struct mls_tree *t = NULL;
	uint8_t th[MLS_MAX_HASH_LEN];
	int rc;

	if ((rc = mls_tree_decode(b->g.s, b->bytes.buf, b->bytes.len, &t)) ==
		    0 &&
	    (rc = mls_tree_hash(t, th)) == 0)
		rc = mls_tree_verify_parent_hashes(t);
	mls_tree_free(t);
	return rc;
}

static int op_join(void *arg)
{
	struct bench *b = arg;
	struct mls_leaf_policy pol = { .accept = fx_accept_all };
	struct mls_tree *t = NULL;
	int rc;

	if ((rc = mls_tree_decode(b->g.s, b->bytes.buf, b->bytes.len, &t)) ==
	    0)
		rc = mls_tree_validate(t, b->th, b->g.s->hash_len, b->g.gid,
				       sizeof(b->g.gid), &pol);
	mls_tree_free(t);
	return rc;
}

/* One leaf's signature check: VerifyWithLabel as the join does it, and
 * the raw primitive under it (EVP_DigestVerify over the same SignContent
 * with a key imported once), which is what `openssl speed` measures. */
static struct {
	const struct mls_suite *s;
	const struct mls_leaf_node *ln;
	struct bw_writer tbs, sign_content;
	EVP_PKEY *pkey;
	EVP_MD_CTX *md;
} verify_one;

static int op_verify(void *arg)
{
	const struct mls_leaf_node *ln = verify_one.ln;

	(void)arg;
	return mls_verify_with_label(verify_one.s, ln->signature_key.p,
				     ln->signature_key.len, "LeafNodeTBS",
				     verify_one.tbs.buf, verify_one.tbs.len,
				     ln->signature.p, ln->signature.len);
}

static int op_verify_raw(void *arg)
{
	const struct mls_leaf_node *ln = verify_one.ln;
	const EVP_MD *md = verify_one.s->sig_alg == MLS_SIG_ED25519
				   ? NULL
				   : verify_one.s->md;

	(void)arg;
	if (EVP_DigestVerifyInit(verify_one.md, NULL, md, NULL,
				 verify_one.pkey) != 1 ||
	    EVP_DigestVerify(verify_one.md, ln->signature.p, ln->signature.len,
			     verify_one.sign_content.buf,
			     verify_one.sign_content.len) != 1)
		return MLS_ERR_SIGNATURE;
	return 0;
}

static void verify_setup(const struct mls_suite *s,
			 const struct mls_leaf_node *ln, const uint8_t *gid,
			 size_t gid_len)
{
	static const char label[] = "MLS 1.0 LeafNodeTBS";

	verify_one.s = s;
	verify_one.ln = ln;
	bw_writer_init(&verify_one.tbs, 0);
	bw_writer_init(&verify_one.sign_content, 0);
	if (mls_leaf_node_tbs_encode(ln, gid, gid_len, 1, &verify_one.tbs) ||
	    bw_write_opaque(&verify_one.sign_content, label,
			    sizeof(label) - 1) ||
	    bw_write_opaque(&verify_one.sign_content, verify_one.tbs.buf,
			    verify_one.tbs.len) ||
	    mls_sig_pkey_public(s, ln->signature_key.p, ln->signature_key.len,
				&verify_one.pkey) ||
	    (verify_one.md = EVP_MD_CTX_new()) == NULL)
		bench_die("verify setup");
}

static void verify_clear(void)
{
	bw_writer_free(&verify_one.tbs);
	bw_writer_free(&verify_one.sign_content);
	EVP_PKEY_free(verify_one.pkey);
	EVP_MD_CTX_free(verify_one.md);
	memset(&verify_one, 0, sizeof(verify_one));
}

/* ---- commits ---- */

static int op_create(void *arg)
{
	struct bench *b = arg;
	struct fx_member *m = &b->g.m[0];
	struct mls_treekem_update *u = NULL;
	struct mls_update_path path = { 0 };
	struct bw_writer gc = { 0 };
	int rc;

	if ((rc = mls_tree_txn_begin(b->g.t)) != 0)
		return rc;
	if ((rc = mls_treekem_create(b->g.t, 0, &m->leaf, m->sig_priv.p,
				     m->sig_priv.len, b->g.gid,
				     sizeof(b->g.gid), NULL, &u)) == 0 &&
	    (rc = fx_group_context(&b->g, &gc)) == 0)
		rc = mls_treekem_encrypt(u, b->g.t, NULL, 0, gc.buf, gc.len,
					 &path);
	mls_tree_txn_rollback(b->g.t);
	mls_treekem_update_free(u);
	mls_update_path_clear(&path);
	bw_writer_free(&gc);
	return rc;
}

/* The path the receiver benchmark processes, made once. */
static void make_path(struct bench *b)
{
	struct fx_member *m = &b->g.m[0];
	struct mls_treekem_update *u = NULL;

	if (mls_tree_txn_begin(b->g.t) != 0 ||
	    mls_treekem_create(b->g.t, 0, &m->leaf, m->sig_priv.p,
			       m->sig_priv.len, b->g.gid, sizeof(b->g.gid),
			       NULL, &u) != 0 ||
	    fx_group_context(&b->g, &b->gc) != 0 ||
	    mls_treekem_encrypt(u, b->g.t, NULL, 0, b->gc.buf, b->gc.len,
				&b->path) != 0)
		bench_die("path");
	mls_tree_txn_rollback(b->g.t);
	mls_treekem_update_free(u);
}

static int op_process(void *arg)
{
	struct bench *b = arg;
	struct mls_treekem_update *u = NULL;
	struct bw_writer gc = { 0 };
	int rc;

	if ((rc = mls_tree_txn_begin(b->g.t)) != 0)
		return rc;
	if ((rc = mls_treekem_merge(b->g.t, 0, &b->path)) == 0 &&
	    (rc = fx_group_context(&b->g, &gc)) == 0)
		rc = mls_treekem_decrypt(b->g.t, b->g.m[1].priv, 0, &b->path,
					 NULL, 0, gc.buf, gc.len, &u);
	mls_tree_txn_rollback(b->g.t);
	mls_treekem_update_free(u);
	bw_writer_free(&gc);
	return rc;
}

static int op_rehash(void *arg)
{
	struct bench *b = arg;
	uint32_t last = mls_tree_n_members(b->g.t) - 1;
	uint8_t th[MLS_MAX_HASH_LEN];
	int rc;

	if ((rc = mls_tree_txn_begin(b->g.t)) != 0)
		return rc;
	if ((rc = mls_tree_remove_leaf(b->g.t, last / 2)) == 0)
		rc = mls_tree_hash(b->g.t, th);
	mls_tree_txn_rollback(b->g.t);
	return rc;
}

static void bench_clear(struct bench *b)
{
	bw_writer_free(&b->bytes);
	bw_writer_free(&b->gc);
	mls_update_path_clear(&b->path);
	fx_group_clear(&b->g);
}

static void run(const struct mls_suite *s, uint32_t n)
{
	struct bench b;
	double verify, raw, join, import, hash, parent, create, process, rehash;
	size_t mem;

	memset(&b, 0, sizeof(b));
	build(&b, s, n);
	make_path(&b);
	verify_setup(s, mls_tree_leaf(b.g.t, 1), b.g.gid, sizeof(b.g.gid));
	verify = bench_time_op("verify", op_verify, NULL);
	raw = bench_time_op("raw verify", op_verify_raw, NULL);
	join = bench_time_op("join", op_join, &b);
	import = bench_time_op("import", op_import, &b);
	hash = bench_time_op("hash", op_hash_fresh, &b) - import;
	parent = bench_time_op("parent hashes", op_parent_hashes, &b) - import -
		 hash;
	create = bench_time_op("create", op_create, &b);
	process = bench_time_op("process", op_process, &b);
	rehash = bench_time_op("rehash", op_rehash, &b);
	mem = mls_tree_memory(b.g.t);
	printf("| %u | %u | %zu | %.1f | %.1f | %.2f | %.1f | %.2f | %.2f | "
	       "%.2f | %.2f | %.3f | %.3f | %.3f | %.2f | %zu |\n",
	       s->id, n, b.bytes.len, join / 1e3, n * verify / 1e3,
	       join / (n * verify), n * raw / 1e3, join / (n * raw),
	       import / 1e3, hash / 1e3, parent / 1e3, create / 1e3,
	       process / 1e3, rehash / 1e3, (double)mem / 1048576.0, mem / n);
	fflush(stdout);
	verify_clear();
	bench_clear(&b);
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 10, 100, 1000, 10000 };
	static const uint16_t suites[] = {
		MLS_SUITE_X25519_AES128GCM_SHA256_ED25519,
		MLS_SUITE_P256_AES128GCM_SHA256_P256,
	};
	unsigned long largest = 10000;

	if (argc > 1)
		bench_seconds_per_op = atof(argv[1]);
	if (argc > 2)
		largest = strtoul(argv[2], NULL, 10);
	printf("| suite | members | tree bytes | join ms | n × VerifyWithLabel "
	       "ms | ratio | n × raw verify ms | ratio | decode+import ms | "
	       "tree hash ms | parent hashes ms | create path ms | "
	       "process path ms | remove + rehash ms | tree MiB | "
	       "tree bytes per member |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	       "---:|---:|---:|---:|\n");
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		for (size_t j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++)
			if (sizes[j] <= largest)
				run(mls_suite_get(suites[i]), sizes[j]);
	return 0;
}

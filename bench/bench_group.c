/*
 * bench_group.c - the group lifecycle (RFC 9420 §12.4) through libmls's
 * public API, per suite, for groups of 10, 100, 1,000 and 10,000 members.
 *
 *   bench_group [seconds per measurement, default 1] [largest group]
 *               [suite, default all three]
 *
 * Each group is a live one: the ratchet tree is built with the unit
 * tests' fixture (every member with its own keys and signed LeafNode, then
 * every other member commits a path, so every parent node is set and
 * parent hashes chain as in practice), and two members' group objects
 * stand on copies of it: A at leaf 0 and B at leaf 1, which decrypts at
 * the lowest node and so derives every key of A's paths. Then:
 *  - create a commit with a path: mls_group_commit (A, forced path);
 *  - process it: mls_group_process (B), which verifies the signature and
 *    membership tag, the new leaf, merges and decrypts the path, runs the
 *    key schedule and checks the confirmation tag (A then merges, untimed);
 *  - a Welcome for one new member: mls_group_propose_add by value and
 *    mls_group_commit with a path and the ratchet tree in the Welcome (A);
 *  - join from it: mls_group_join (the new member), next to n times one
 *    signature check measured here (VerifyWithLabel of a LeafNodeTBS as
 *    the join runs it, and the raw EVP verify with a prepared key), and
 *    the tree's part of it alone (decode, import, mls_tree_validate);
 *  - memory of a member's state: heap held by B's group object as loaded
 *    from its saved state, and the saved state's size.
 * Prints a Markdown table for docs/benchmarks.md.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bench_util.h"
#include "group_internal.h"
#include "tree_fixture.h"

struct bench {
	const struct mls_suite *s;
	uint32_t n;
	struct fx_group fx;
	struct bw_writer tree;         /* the serialised tree */
	uint8_t th[MLS_MAX_HASH_LEN];  /* its hash */
	struct mls_config cfg;
	struct mls_group *a, *b;
	struct mls_key_package_bundle *joiner;
	uint8_t *kp;
	size_t kp_len;
};

/* n members, then a path from every other one (left to right). */
static void build_tree(struct bench *bn)
{
	struct fx_group *g = &bn->fx;
	uint32_t leaf;

	if (fx_group_new(bn->s, g) != 0)
		bench_die("group");
	for (uint32_t i = 1; i < bn->n; i++)
		if (fx_add(g, &leaf) != 0)
			bench_die("add");
	for (uint32_t i = 0; i < bn->n; i += 2) {
		struct fx_member *m = &g->m[i];
		struct mls_treekem_update *u = NULL;

		if (mls_treekem_create(g->t, i, &m->leaf, m->sig_priv.p,
				       m->sig_priv.len, g->gid, sizeof(g->gid),
				       NULL, &u) != 0 ||
		    mls_treekem_apply(u, m->priv) != 0)
			bench_die("path");
		mls_leaf_node_clear(&m->leaf);
		if (mls_leaf_node_copy(&m->leaf, mls_tree_leaf(g->t, i)) != 0)
			bench_die("leaf copy");
		mls_treekem_update_free(u);
	}
}

/* The group object of the fixture's member at leaf, on a copy of the tree,
 * in the epoch every member built with init shares. */
static struct mls_group *member(struct bench *bn, uint32_t leaf,
				const uint8_t *init)
{
	struct fx_member *m = &bn->fx.m[leaf];
	struct mls_tree_priv *priv = NULL;
	struct mls_tree *t = NULL;
	struct mls_group *g = NULL;

	mls_tree_priv_prune(m->priv, bn->fx.t);
	if (mls_tree_clone(bn->fx.t, &t) != 0 ||
	    mls_tree_priv_clone(m->priv, &priv) != 0 ||
	    mls_group_from_tree(&bn->cfg, t, priv, &m->sig_priv, bn->fx.gid,
				sizeof(bn->fx.gid), NULL, init, &g) != 0)
		bench_die("member");
	return g;
}

static void build(struct bench *bn, const struct mls_suite *s, uint32_t n)
{
	struct mls_credential *c = NULL;
	struct mls_signer *signer = NULL;
	uint8_t init[MLS_MAX_HASH_LEN];

	memset(bn, 0, sizeof(*bn));
	bn->s = s;
	bn->n = n;
	bn->cfg.accept_credential = fx_accept_all;
	build_tree(bn);
	if (mls_random(init, sizeof(init)) != 0)
		bench_die("random");
	bn->a = member(bn, 0, init);
	bn->b = member(bn, 1, init);
	bw_writer_init(&bn->tree, 0);
	if (mls_tree_encode(bn->fx.t, &bn->tree) != 0 ||
	    mls_tree_hash(bn->fx.t, bn->th) != 0)
		bench_die("tree");
	if (mls_credential_new_basic("joiner", 6, &c) != 0 ||
	    mls_signer_new(s->id, NULL, 0, &signer) != 0 ||
	    mls_signer_set_credential(signer, c) != 0 ||
	    mls_key_package_bundle_new(&bn->cfg, signer, &bn->joiner) != 0 ||
	    mls_key_package_bundle_message(bn->joiner, &bn->kp,
					   &bn->kp_len) != 0)
		bench_die("joiner");
	mls_credential_free(c);
	mls_signer_free(signer);
}

static void bench_clear(struct bench *bn)
{
	mls_group_free(bn->a);
	mls_group_free(bn->b);
	mls_key_package_bundle_free(bn->joiner);
	free(bn->kp);
	bw_writer_free(&bn->tree);
	fx_group_clear(&bn->fx);
}

/* ---- commits ---- */

/* Mean microseconds to create a commit with a path (A) and to process it
 * (B); A merges it, untimed, so both move to the next epoch. */
static void time_commits(struct bench *bn, double *create, double *process)
{
	struct mls_commit_options opt = { .force_path = true };
	struct mls_process_result r;
	struct mls_commit_output o;
	double tc = 0, tp = 0, t0, t1, t2;
	unsigned long k = 0;

	do {
		t0 = bench_now();
		if (mls_group_commit(bn->a, &opt, &o) != 0)
			bench_die("commit");
		t1 = bench_now();
		if (mls_group_process(bn->b, o.commit, o.commit_len, &r) != 0)
			bench_die("process");
		t2 = bench_now();
		mls_process_result_clear(&r);
		if (mls_group_process(bn->a, o.commit, o.commit_len, &r) != 0)
			bench_die("merge");
		mls_process_result_clear(&r);
		mls_commit_output_clear(&o);
		tc += t1 - t0;
		tp += t2 - t1;
		k++;
	} while (tc + tp < bench_seconds_per_op || k < 3);
	*create = tc * 1e6 / (double)k;
	*process = tp * 1e6 / (double)k;
}

/* Mean microseconds for A's commit adding the joiner (with its Welcome)
 * and for the joiner's join; A drops the commit each time. */
static void time_join(struct bench *bn, double *welcome, double *join)
{
	struct mls_commit_options opt = { .force_path = true,
					  .ratchet_tree = true };
	const struct mls_key_package_bundle *b = bn->joiner;
	struct mls_commit_output o;
	struct mls_group *g = NULL;
	double tw = 0, tj = 0, t0, t1, t2;
	unsigned long k = 0;

	do {
		int rc;

		t0 = bench_now();
		if ((rc = mls_group_propose_add(bn->a, bn->kp, bn->kp_len, NULL,
						NULL)) != 0 ||
		    (rc = mls_group_commit(bn->a, &opt, &o)) != 0) {
			fprintf(stderr, "%s\n", mls_strerror(rc));
			bench_die("welcome");
		}
		t1 = bench_now();
		if (mls_group_join(&bn->cfg, &b, 1, o.welcome, o.welcome_len,
				   NULL, 0, &g) != 0)
			bench_die("join");
		t2 = bench_now();
		mls_group_free(g);
		mls_group_discard_pending_commit(bn->a);
		mls_commit_output_clear(&o);
		tw += t1 - t0;
		tj += t2 - t1;
		k++;
	} while (tw + tj < bench_seconds_per_op || k < 2);
	*welcome = tw * 1e6 / (double)k;
	*join = tj * 1e6 / (double)k;
}

/* ---- one signature check, as the join runs it and raw ---- */

static struct {
	const struct mls_suite *s;
	const struct mls_leaf_node *ln;
	struct bw_writer tbs, content;
	EVP_PKEY *pkey;
	EVP_MD_CTX *md;
} one;

static void verify_setup(struct bench *bn)
{
	const char label[] = "MLS 1.0 LeafNodeTBS";

	one.s = bn->s;
	one.ln = mls_tree_leaf(bn->fx.t, 1);
	bw_writer_init(&one.tbs, 0);
	bw_writer_init(&one.content, 0);
	/* SignContent (§5.1.2), what the signature covers. */
	if (mls_leaf_node_tbs_encode(one.ln, bn->fx.gid, sizeof(bn->fx.gid), 1,
				     &one.tbs) != 0 ||
	    bw_write_opaque(&one.content, label, sizeof(label) - 1) != 0 ||
	    bw_write_opaque(&one.content, one.tbs.buf, one.tbs.len) != 0 ||
	    mls_sig_pkey_public(one.s, one.ln->signature_key.p,
				one.ln->signature_key.len, &one.pkey) != 0 ||
	    (one.md = EVP_MD_CTX_new()) == NULL)
		bench_die("verify setup");
}

static void verify_clear(void)
{
	bw_writer_free(&one.tbs);
	bw_writer_free(&one.content);
	EVP_PKEY_free(one.pkey);
	EVP_MD_CTX_free(one.md);
	memset(&one, 0, sizeof(one));
}

static int op_verify(void *arg)
{
	(void)arg;
	return mls_verify_with_label(one.s, one.ln->signature_key.p,
				     one.ln->signature_key.len, "LeafNodeTBS",
				     one.tbs.buf, one.tbs.len,
				     one.ln->signature.p, one.ln->signature.len);
}

static int op_verify_raw(void *arg)
{
	const EVP_MD *md = one.s->sig_alg == MLS_SIG_ED25519 ? NULL : one.s->md;

	(void)arg;
	if (EVP_DigestVerifyInit(one.md, NULL, md, NULL, one.pkey) != 1 ||
	    EVP_DigestVerify(one.md, one.ln->signature.p, one.ln->signature.len,
			     one.content.buf, one.content.len) != 1)
		return -1;
	return 0;
}

/* The tree's part of a join alone: decode, import and validate it. */
static int op_validate(void *arg)
{
	struct bench *bn = arg;
	struct mls_leaf_policy pol = { .accept = fx_accept_all };
	struct mls_tree *t = NULL;
	int rc;

	if ((rc = mls_tree_decode(bn->s, bn->tree.buf, bn->tree.len, &t)) == 0)
		rc = mls_tree_validate(t, bn->th, bn->s->hash_len, bn->fx.gid,
				       sizeof(bn->fx.gid), &pol);
	mls_tree_free(t);
	return rc;
}

/* ---- memory ---- */

/* Heap bytes B's group object holds once loaded from its saved state, and
 * the saved state's size. */
static void state_memory(struct bench *bn, size_t *heap, size_t *saved)
{
	static const uint8_t key[MLS_STATE_KEY_LEN] = { 1 };
	struct mls_group *g = NULL;
	uint8_t *state = NULL;
	size_t before;

	if (mls_group_save(bn->b, key, &state, saved) != 0)
		bench_die("save");
	before = mallinfo2().uordblks;
	if (mls_group_load(&bn->cfg, key, state, *saved, &g) != 0)
		bench_die("load");
	*heap = mallinfo2().uordblks - before;
	mls_group_free(g);
	free(state);
}

static void run(const struct mls_suite *s, uint32_t n)
{
	double create, process, welcome, join, verify, raw, tree;
	size_t heap, saved;
	struct bench bn;

	build(&bn, s, n);
	verify_setup(&bn);
	verify = bench_time_op("verify", op_verify, NULL);
	raw = bench_time_op("raw verify", op_verify_raw, NULL);
	time_commits(&bn, &create, &process);
	time_join(&bn, &welcome, &join);
	tree = bench_time_op("validate", op_validate, &bn);
	state_memory(&bn, &heap, &saved);
	printf("| %u | %u | %.3f | %.3f | %.1f | %.1f | %.1f | %.1f | %.2f | "
	       "%.1f | %.2f | %.2f | %zu | %.2f |\n",
	       s->id, n, create / 1e3, process / 1e3, welcome / 1e3,
	       join / 1e3, tree / 1e3, n * verify / 1e3, join / (n * verify),
	       n * raw / 1e3, join / (n * raw), (double)heap / 1048576.0,
	       heap / n, (double)saved / 1048576.0);
	fflush(stdout);
	verify_clear();
	bench_clear(&bn);
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 10, 100, 1000, 10000 };
	static const uint16_t suites[] = {
		MLS_SUITE_X25519_AES128GCM_SHA256_ED25519,
		MLS_SUITE_P256_AES128GCM_SHA256_P256,
		MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519,
	};
	unsigned long largest = 10000, only = 0;

	bench_parse_seconds(argc, argv);
	if (argc > 2)
		largest = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		only = strtoul(argv[3], NULL, 10);
	printf("| suite | members | create commit ms | process commit ms | "
	       "commit + Welcome ms | join ms | of which tree ms | "
	       "n × VerifyWithLabel ms | "
	       "ratio | n × raw verify ms | ratio | state MiB | "
	       "state bytes per member | saved MiB |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	       "---:|---:|\n");
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		for (size_t j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++)
			if (sizes[j] <= largest &&
			    (only == 0 || only == suites[i]))
				run(mls_suite_get(suites[i]), sizes[j]);
	return 0;
}

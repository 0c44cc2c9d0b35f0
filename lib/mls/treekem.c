/*
 * treekem.c - TreeKEM (RFC 9420 §7.4-§7.6): path secrets, node key pairs,
 * UpdatePath encryption and decryption, and a member's private keys.
 *
 * Path secrets chain from the leaf secret up the filtered direct path
 * (§7.4, and the derivation figure there):
 *   leaf key     = DeriveKeyPair(DeriveSecret(leaf_secret, "node"))
 *   path_secret[0]   = DeriveSecret(leaf_secret, "path")
 *   path_secret[i+1] = DeriveSecret(path_secret[i], "path")
 *   node key [i] = DeriveKeyPair(DeriveSecret(path_secret[i], "node"))
 *   commit_secret    = DeriveSecret(path_secret[last], "path")
 */
#include "treekem.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hpke.h"

#define LEVELS (MLS_TM_MAX_PATH + 1) /* the leaf (0) and 31 parent levels */
#define MAX_LEAF_INDEX (MLS_TM_MAX_LEAVES - 1)

/* Private keys by level: the node at level k above the leaf is the only
 * one of the leaf's direct path at that level, whatever the tree's size.
 * Each key is kept with its public key, compared to the tree's before
 * use. */
struct mls_tree_priv {
	const struct mls_suite *suite;
	uint32_t leaf;
	struct bw_bytes priv[LEVELS];
	struct bw_bytes pub[LEVELS];
};

struct mls_treekem_update {
	const struct mls_suite *suite;
	uint32_t sender;
	uint32_t n_leaves; /* of the tree the path was merged into */
	bool is_sender;
	uint32_t n, first; /* path length; secrets known from first on */
	uint32_t path[MLS_TM_MAX_PATH], copath[MLS_TM_MAX_PATH];
	uint8_t secret[MLS_TM_MAX_PATH][MLS_MAX_HASH_LEN];
	struct bw_bytes priv[MLS_TM_MAX_PATH], pub[MLS_TM_MAX_PATH];
	struct bw_bytes leaf_priv, leaf_pub; /* the committer's only */
	uint8_t commit_secret[MLS_MAX_HASH_LEN];
};

/* The ancestor of leaf at level k (k = 0: the leaf's own node). */
static uint32_t ancestor(uint32_t leaf, uint32_t k)
{
	uint32_t x = 2 * leaf;

	return ((x >> (k + 1)) << (k + 1)) + (UINT32_C(1) << k) - 1;
}

/* §7.4 node key pair from a path secret of suite->hash_len bytes. */
static int node_keypair(const struct mls_suite *s, const uint8_t *secret,
			struct bw_bytes *priv, struct bw_bytes *pub)
{
	uint8_t node_secret[MLS_MAX_HASH_LEN];
	int rc;

	if ((rc = mls_derive_secret(s, secret, s->hash_len, "node",
				    node_secret)) == 0)
		rc = mls_kem_derive_keypair(s, node_secret, s->hash_len, priv,
					    pub);
	OPENSSL_cleanse(node_secret, sizeof(node_secret));
	return rc;
}

static int next_secret(const struct mls_suite *s, const uint8_t *secret,
		       uint8_t *out)
{
	return mls_derive_secret(s, secret, s->hash_len, "path", out);
}

/* The tree holds pub at node x. */
static bool tree_has_key(const struct mls_tree *t, uint32_t x,
			 const struct bw_bytes *pub)
{
	const struct bw_bytes *key = mls_tree_encryption_key(t, x);

	return key != NULL && bw_bytes_eq(key, pub->p, pub->len);
}

/* ---- a member's private view ---- */

int mls_tree_priv_new(const struct mls_suite *s, uint32_t leaf,
		      const uint8_t *leaf_priv, size_t leaf_priv_len,
		      struct mls_tree_priv **out)
{
	struct mls_tree_priv *p;
	int rc = 0;

	*out = NULL;
	if (leaf > MAX_LEAF_INDEX)
		return MLS_ERR_LEAF_INDEX;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return BW_ERR_NOMEM;
	p->suite = s;
	p->leaf = leaf;
	if (leaf_priv != NULL &&
	    (rc = mls_tree_priv_set_leaf_key(p, leaf_priv, leaf_priv_len)) !=
		    0) {
		mls_tree_priv_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void mls_tree_priv_free(struct mls_tree_priv *p)
{
	if (p == NULL)
		return;
	for (size_t k = 0; k < LEVELS; k++) {
		bw_bytes_clear(&p->priv[k]);
		bw_bytes_clear(&p->pub[k]);
	}
	OPENSSL_clear_free(p, sizeof(*p));
}

int mls_tree_priv_clone(const struct mls_tree_priv *p,
			struct mls_tree_priv **out)
{
	struct mls_tree_priv *c;
	int rc = 0;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return BW_ERR_NOMEM;
	c->suite = p->suite;
	c->leaf = p->leaf;
	for (size_t k = 0; k < LEVELS && rc == 0; k++)
		if ((rc = bw_bytes_set(&c->priv[k], p->priv[k].p,
				       p->priv[k].len)) == 0)
			rc = bw_bytes_set(&c->pub[k], p->pub[k].p,
					  p->pub[k].len);
	if (rc != 0) {
		mls_tree_priv_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

uint32_t mls_tree_priv_leaf(const struct mls_tree_priv *p)
{
	return p->leaf;
}

int mls_tree_priv_set_leaf_key(struct mls_tree_priv *p, const uint8_t *priv,
			       size_t priv_len)
{
	struct bw_bytes sk = { 0 }, pk = { 0 };
	int rc;

	if ((rc = hpke_public_key(p->suite->kem_id, priv, priv_len, &pk)) !=
		    0 ||
	    (rc = bw_bytes_set(&sk, priv, priv_len)) != 0) {
		bw_bytes_clear(&pk);
		return rc;
	}
	bw_bytes_move(&p->priv[0], &sk);
	bw_bytes_move(&p->pub[0], &pk);
	return 0;
}

/* Level of node on the direct path of p's leaf (the leaf: 0), or
 * MLS_TM_NONE if node is not on it. */
static uint32_t path_level(const struct mls_tree_priv *p, uint32_t node)
{
	uint32_t k = mls_tm_level(node);

	return k < LEVELS && ancestor(p->leaf, k) == node ? k : MLS_TM_NONE;
}

/* The key pair of node from its path secret, checked against the tree. */
static int derive_checked(const struct mls_suite *s, const struct mls_tree *t,
			  uint32_t node, const uint8_t *secret,
			  struct bw_bytes *priv, struct bw_bytes *pub)
{
	int rc;

	if (mls_tree_encryption_key(t, node) == NULL)
		return MLS_ERR_BLANK_NODE;
	if ((rc = node_keypair(s, secret, priv, pub)) != 0)
		return rc;
	return tree_has_key(t, node, pub) ? 0 : MLS_ERR_PATH_KEY_MISMATCH;
}

int mls_tree_priv_set_path_secret(struct mls_tree_priv *p,
				  const struct mls_tree *t, uint32_t node,
				  const uint8_t *path_secret, size_t len)
{
	struct bw_bytes sk = { 0 }, pk = { 0 };
	uint32_t k = path_level(p, node);
	int rc;

	if (k == MLS_TM_NONE || len != p->suite->hash_len)
		return MLS_ERR_INVALID_ARG;
	if ((rc = derive_checked(p->suite, t, node, path_secret, &sk, &pk)) ==
	    0) {
		bw_bytes_move(&p->priv[k], &sk);
		bw_bytes_move(&p->pub[k], &pk);
	}
	bw_bytes_clear(&sk);
	bw_bytes_clear(&pk);
	return rc;
}

static void clear_levels(struct bw_bytes *priv, struct bw_bytes *pub)
{
	for (size_t k = 0; k < LEVELS; k++) {
		bw_bytes_clear(&priv[k]);
		bw_bytes_clear(&pub[k]);
	}
}

/* Keys derived for the non-blank ancestors of x, from secret at x on. */
static int derive_upwards(const struct mls_tree_priv *p,
			  const struct mls_tree *t, uint32_t x,
			  const uint8_t *secret, struct bw_bytes *priv,
			  struct bw_bytes *pub)
{
	const struct mls_suite *s = p->suite;
	uint8_t cur[MLS_MAX_HASH_LEN];
	uint32_t n = mls_tree_n_leaves(t);
	bool first = true;
	int rc = 0;

	memcpy(cur, secret, s->hash_len);
	for (; x != MLS_TM_NONE && rc == 0; x = mls_tm_parent(x, n)) {
		uint32_t k = mls_tm_level(x);

		/* Blank ancestors were left out of the filtered path. */
		if (mls_tree_encryption_key(t, x) == NULL && !first)
			continue;
		if (!first && (rc = next_secret(s, cur, cur)) != 0)
			break;
		first = false;
		rc = derive_checked(s, t, x, cur, &priv[k], &pub[k]);
	}
	OPENSSL_cleanse(cur, sizeof(cur));
	return rc;
}

int mls_tree_priv_join(struct mls_tree_priv *p, const struct mls_tree *t,
		       uint32_t sender, const uint8_t *path_secret,
		       size_t len)
{
	struct bw_bytes priv[LEVELS] = { { 0 } }, pub[LEVELS] = { { 0 } };
	uint32_t n = mls_tree_n_leaves(t), lca, k0;
	int rc;

	if (len != p->suite->hash_len || sender == p->leaf ||
	    sender >= n || p->leaf >= n)
		return MLS_ERR_INVALID_ARG;
	lca = mls_tm_common_ancestor(2 * p->leaf, 2 * sender, n);
	if ((rc = derive_upwards(p, t, lca, path_secret, priv, pub)) == 0) {
		/* Keys above the ancestor are all replaced by the commit. */
		k0 = mls_tm_level(lca);
		for (uint32_t k = k0; k < LEVELS; k++) {
			bw_bytes_move(&p->priv[k], &priv[k]);
			bw_bytes_move(&p->pub[k], &pub[k]);
		}
	}
	clear_levels(priv, pub);
	return rc;
}

int mls_tree_priv_check(const struct mls_tree_priv *p,
			const struct mls_tree *t)
{
	for (uint32_t k = 0; k < LEVELS; k++)
		if (p->pub[k].len > 0 &&
		    !tree_has_key(t, ancestor(p->leaf, k), &p->pub[k]))
			return MLS_ERR_PATH_KEY_MISMATCH;
	return 0;
}

void mls_tree_priv_prune(struct mls_tree_priv *p, const struct mls_tree *t)
{
	for (uint32_t k = 1; k < LEVELS; k++)
		if (p->pub[k].len > 0 &&
		    !tree_has_key(t, ancestor(p->leaf, k), &p->pub[k])) {
			bw_bytes_clear(&p->priv[k]);
			bw_bytes_clear(&p->pub[k]);
		}
}

/* Encoding: uint32 leaf, then a vector of {uint8 level; opaque priv<V>;
 * opaque pub<V>} for each level holding a key. */
int mls_tree_priv_encode(const struct mls_tree_priv *p, struct bw_writer *w)
{
	size_t mark;

	bw_write_u32(w, p->leaf);
	mark = bw_write_vector_begin(w);
	for (uint32_t k = 0; k < LEVELS; k++) {
		if (p->priv[k].len == 0)
			continue;
		bw_write_u8(w, (uint8_t)k);
		bw_write_opaque(w, p->priv[k].p, p->priv[k].len);
		bw_write_opaque(w, p->pub[k].p, p->pub[k].len);
	}
	return bw_write_vector_end(w, mark);
}

static int priv_entry_decode(struct bw_reader *r, struct mls_tree_priv *p)
{
	const uint8_t *sk, *pk;
	size_t sk_len = 0, pk_len = 0;
	uint8_t k = 0;
	int rc;

	bw_read_u8(r, &k);
	bw_read_opaque(r, MLS_MAX_KEY_LEN, &sk, &sk_len);
	bw_read_opaque(r, MLS_MAX_KEY_LEN, &pk, &pk_len);
	if (r->err != 0)
		return r->err;
	if (k >= LEVELS || p->priv[k].len != 0 || sk_len == 0 || pk_len == 0)
		return bw_reader_fail(r, MLS_ERR_STATE_CORRUPT);
	if ((rc = bw_bytes_set(&p->priv[k], sk, sk_len)) != 0 ||
	    (rc = bw_bytes_set(&p->pub[k], pk, pk_len)) != 0)
		return bw_reader_fail(r, rc);
	return 0;
}

int mls_tree_priv_decode(const struct mls_suite *s, struct bw_reader *r,
			 struct mls_tree_priv **out)
{
	struct mls_tree_priv *p = NULL;
	struct bw_reader sub;
	uint32_t leaf = 0;
	int rc;

	*out = NULL;
	bw_read_u32(r, &leaf);
	if (bw_read_vector(r, LEVELS * (1 + 2 * (4 + MLS_MAX_KEY_LEN)),
			   &sub) != 0)
		return r->err;
	if ((rc = mls_tree_priv_new(s, leaf, NULL, 0, &p)) != 0)
		return bw_reader_fail(r, rc == MLS_ERR_LEAF_INDEX
						 ? MLS_ERR_STATE_CORRUPT
						 : rc);
	while (bw_reader_remaining(&sub) > 0 && sub.err == 0)
		priv_entry_decode(&sub, p);
	if (sub.err != 0) {
		mls_tree_priv_free(p);
		return bw_reader_fail(r, sub.err);
	}
	*out = p;
	return 0;
}

/* ---- updates ---- */

void mls_treekem_update_free(struct mls_treekem_update *u)
{
	if (u == NULL)
		return;
	for (size_t i = 0; i < MLS_TM_MAX_PATH; i++) {
		bw_bytes_clear(&u->priv[i]);
		bw_bytes_clear(&u->pub[i]);
	}
	bw_bytes_clear(&u->leaf_priv);
	bw_bytes_clear(&u->leaf_pub);
	OPENSSL_clear_free(u, sizeof(*u));
}

static int update_new(const struct mls_tree *t, uint32_t sender,
		      struct mls_treekem_update **out)
{
	struct mls_treekem_update *u = calloc(1, sizeof(*u));
	int rc;

	*out = NULL;
	if (u == NULL)
		return BW_ERR_NOMEM;
	u->suite = mls_tree_suite(t);
	u->sender = sender;
	u->n_leaves = mls_tree_n_leaves(t);
	if ((rc = mls_tree_filtered_direct_path(t, sender, u->path, u->copath,
						&u->n)) != 0) {
		mls_treekem_update_free(u);
		return rc;
	}
	*out = u;
	return 0;
}

/* Secrets, keys and the commit secret from path_secret[from] (already in
 * u->secret[from]) to the end of the path. */
static int derive_path(struct mls_treekem_update *u, uint32_t from)
{
	const struct mls_suite *s = u->suite;
	int rc;

	for (uint32_t i = from; i < u->n; i++) {
		if (i > from &&
		    (rc = next_secret(s, u->secret[i - 1], u->secret[i])) != 0)
			return rc;
		if ((rc = node_keypair(s, u->secret[i], &u->priv[i],
				       &u->pub[i])) != 0)
			return rc;
	}
	u->first = from;
	return next_secret(s, u->secret[u->n - 1], u->commit_secret);
}

/* The committer's secrets: leaf key, then the whole path. */
static int derive_sender(struct mls_treekem_update *u,
			 const uint8_t *leaf_secret)
{
	const struct mls_suite *s = u->suite;
	uint8_t fresh[MLS_MAX_HASH_LEN];
	int rc;

	if (leaf_secret == NULL) {
		if ((rc = mls_random(fresh, s->hash_len)) != 0)
			goto out;
		leaf_secret = fresh;
	}
	if ((rc = node_keypair(s, leaf_secret, &u->leaf_priv,
			       &u->leaf_pub)) != 0)
		goto out;
	if (u->n == 0) { /* alone in the tree: only the commit secret */
		rc = next_secret(s, leaf_secret, u->commit_secret);
		goto out;
	}
	if ((rc = next_secret(s, leaf_secret, u->secret[0])) == 0)
		rc = derive_path(u, 0);
out:
	OPENSSL_cleanse(fresh, sizeof(fresh));
	return rc;
}

/* The committer's new LeafNode (§7.5 step 4): the template with the new
 * key and parent hash, source commit, signed for the group and leaf. */
static int sender_leaf(const struct mls_treekem_update *u,
		       const struct mls_leaf_node *templ,
		       const struct bw_bytes *ph, const uint8_t *sig_priv,
		       size_t sig_priv_len, const uint8_t *group_id,
		       size_t group_id_len, struct mls_leaf_node *ln)
{
	int rc;

	if ((rc = mls_leaf_node_copy(ln, templ)) != 0)
		return rc;
	ln->source = MLS_LEAF_SOURCE_COMMIT;
	memset(&ln->lifetime, 0, sizeof(ln->lifetime));
	if ((rc = bw_bytes_set(&ln->encryption_key, u->leaf_pub.p,
			       u->leaf_pub.len)) != 0 ||
	    (rc = bw_bytes_set(&ln->parent_hash, ph->p, ph->len)) != 0)
		return rc;
	return mls_leaf_node_sign(u->suite, ln, sig_priv, sig_priv_len,
				  group_id, group_id_len, u->sender);
}

static int create_in(struct mls_tree *t, uint32_t leaf,
		     const struct mls_leaf_node *templ,
		     const uint8_t *sig_priv, size_t sig_priv_len,
		     const uint8_t *group_id, size_t group_id_len,
		     const uint8_t *leaf_secret, struct mls_treekem_update **out)
{
	struct mls_treekem_update *u = NULL;
	struct mls_leaf_node ln = { 0 };
	struct bw_bytes ph = { 0 };
	int rc;

	if ((rc = mls_tree_reserve_leaf(t, leaf)) != 0 ||
	    (rc = update_new(t, leaf, &u)) != 0)
		goto out;
	u->is_sender = true;
	if ((rc = derive_sender(u, leaf_secret)) != 0 ||
	    (rc = mls_tree_merge_path(t, leaf, u->pub, u->n, &ph)) != 0 ||
	    (rc = sender_leaf(u, templ, &ph, sig_priv, sig_priv_len, group_id,
			      group_id_len, &ln)) != 0 ||
	    (rc = mls_tree_set_leaf(t, leaf, &ln)) != 0)
		goto out;
	*out = u;
	u = NULL; /* transferred */
out:
	mls_leaf_node_clear(&ln);
	bw_bytes_clear(&ph);
	mls_treekem_update_free(u);
	return rc;
}

int mls_treekem_create(struct mls_tree *t, uint32_t leaf,
		       const struct mls_leaf_node *templ,
		       const uint8_t *sig_priv, size_t sig_priv_len,
		       const uint8_t *group_id, size_t group_id_len,
		       const uint8_t *leaf_secret,
		       struct mls_treekem_update **out)
{
	struct mls_tree_savepoint sp;
	int rc;

	*out = NULL;
	mls_tree_savepoint(t, &sp);
	rc = create_in(t, leaf, templ, sig_priv, sig_priv_len, group_id,
		       group_id_len, leaf_secret, out);
	if (rc != 0)
		mls_tree_rollback_to(t, &sp);
	else
		mls_tree_release(t, &sp);
	return rc;
}

/* One UpdatePathNode: the key, and the secret sealed to each resolution
 * member of the copath child. */
static int encrypt_node(const struct mls_treekem_update *u,
			const struct mls_tree *t, uint32_t i,
			const uint32_t *joiners, size_t n_joiners,
			const uint8_t *gc, size_t gc_len,
			struct mls_update_path_node *out)
{
	const struct mls_suite *s = u->suite;
	struct mls_node_list res = { 0 };
	int rc;

	if ((rc = bw_bytes_set(&out->encryption_key, u->pub[i].p,
			       u->pub[i].len)) != 0 ||
	    (rc = mls_tree_resolution(t, u->copath[i], joiners, n_joiners,
				      &res)) != 0)
		goto out;
	if (res.n > 0 &&
	    (out->encrypted_path_secret =
		     calloc(res.n, sizeof(*out->encrypted_path_secret))) ==
		    NULL) {
		rc = BW_ERR_NOMEM;
		goto out;
	}
	out->n_encrypted_path_secret = res.n;
	for (size_t j = 0; j < res.n && rc == 0; j++) {
		const struct bw_bytes *pk =
			mls_tree_encryption_key(t, res.v[j]);
		struct mls_hpke_ciphertext *ct =
			&out->encrypted_path_secret[j];

		rc = mls_encrypt_with_label(s, pk->p, pk->len,
					    "UpdatePathNode", gc, gc_len,
					    u->secret[i], s->hash_len,
					    &ct->kem_output, &ct->ciphertext);
	}
out:
	mls_node_list_clear(&res);
	return rc;
}

int mls_treekem_encrypt(const struct mls_treekem_update *u,
			const struct mls_tree *t, const uint32_t *joiners,
			size_t n_joiners, const uint8_t *group_context,
			size_t group_context_len, struct mls_update_path *out)
{
	const struct mls_leaf_node *ln = mls_tree_leaf(t, u->sender);
	struct mls_update_path up = { 0 };
	int rc;

	if (!u->is_sender || ln == NULL)
		return MLS_ERR_INVALID_ARG;
	if ((rc = mls_leaf_node_copy(&up.leaf_node, ln)) != 0)
		goto out;
	if (u->n > 0 &&
	    (up.nodes = calloc(u->n, sizeof(*up.nodes))) == NULL) {
		rc = BW_ERR_NOMEM;
		goto out;
	}
	up.n_nodes = u->n;
	for (uint32_t i = 0; i < u->n && rc == 0; i++)
		rc = encrypt_node(u, t, i, joiners, n_joiners, group_context,
				  group_context_len, &up.nodes[i]);
	if (rc != 0)
		goto out;
	mls_update_path_clear(out);
	*out = up;
	memset(&up, 0, sizeof(up)); /* transferred */
out:
	mls_update_path_clear(&up);
	return rc;
}

/* ---- receiving ---- */

/* Every key of the path is a KEM public key, and the leaf's is new. */
static int path_keys_ok(const struct mls_tree *t,
			const struct mls_update_path *path)
{
	const struct mls_suite *s = mls_tree_suite(t);
	const struct bw_bytes *lk = &path->leaf_node.encryption_key;
	int rc;

	if ((rc = mls_hpke_public_key_check(s, lk->p, lk->len)) != 0)
		return rc;
	for (size_t i = 0; i < path->n_nodes; i++) {
		const struct bw_bytes *k = &path->nodes[i].encryption_key;

		if ((rc = mls_hpke_public_key_check(s, k->p, k->len)) != 0)
			return rc;
		if (bw_bytes_eq(k, lk->p, lk->len))
			return MLS_ERR_DUPLICATE_KEY;
	}
	/* §12.4.2: also different from the committer's current leaf key. */
	return mls_tree_find_encryption_key(t, lk->p, lk->len, NULL)
		       ? MLS_ERR_DUPLICATE_KEY
		       : 0;
}

static int merge_in(struct mls_tree *t, uint32_t sender,
		    const struct mls_update_path *path)
{
	uint32_t fdp[MLS_TM_MAX_PATH], cop[MLS_TM_MAX_PATH], n;
	struct bw_bytes keys[MLS_TM_MAX_PATH], ph = { 0 };
	int rc;

	if ((rc = mls_tree_reserve_leaf(t, sender)) != 0 ||
	    (rc = mls_tree_filtered_direct_path(t, sender, fdp, cop, &n)) != 0)
		return rc;
	if (path->n_nodes != n)
		return MLS_ERR_PATH;
	if ((rc = path_keys_ok(t, path)) != 0)
		return rc;
	for (uint32_t i = 0; i < n; i++)
		keys[i] = path->nodes[i].encryption_key; /* borrowed */
	if ((rc = mls_tree_merge_path(t, sender, keys, n, &ph)) != 0)
		return rc;
	/* §7.9.2: the leaf must carry the parent hash of its new path. */
	if (!bw_bytes_eq(&path->leaf_node.parent_hash, ph.p, ph.len))
		rc = MLS_ERR_PARENT_HASH;
	else
		rc = mls_tree_set_leaf(t, sender, &path->leaf_node);
	bw_bytes_clear(&ph);
	return rc;
}

int mls_treekem_merge(struct mls_tree *t, uint32_t sender,
		      const struct mls_update_path *path)
{
	struct mls_tree_savepoint sp;
	int rc;

	if (path->leaf_node.source != MLS_LEAF_SOURCE_COMMIT)
		return MLS_ERR_LEAF_NODE;
	mls_tree_savepoint(t, &sp);
	if ((rc = merge_in(t, sender, path)) != 0)
		mls_tree_rollback_to(t, &sp);
	else
		mls_tree_release(t, &sp);
	return rc;
}

/* The first copath node whose subtree holds leaf: the path secret of its
 * parent is the one encrypted for leaf (§7.5 "decrypts the path
 * secrets"). */
static uint32_t copath_index(const struct mls_treekem_update *u,
			     uint32_t leaf)
{
	for (uint32_t i = 0; i < u->n; i++)
		if (mls_tm_is_descendant(2 * leaf, u->copath[i], u->n_leaves))
			return i;
	return MLS_TM_NONE;
}

/* The position in res of a node whose private key priv holds (its leaf
 * or an ancestor with the tree's current key), and that key's level. */
static bool holder(const struct mls_tree_priv *priv, const struct mls_tree *t,
		   const struct mls_node_list *res, size_t *j, uint32_t *level)
{
	for (size_t i = 0; i < res->n; i++) {
		uint32_t k = path_level(priv, res->v[i]);

		if (k != MLS_TM_NONE && priv->priv[k].len > 0 &&
		    tree_has_key(t, res->v[i], &priv->pub[k])) {
			*j = i;
			*level = k;
			return true;
		}
	}
	return false;
}

static int open_secret(struct mls_treekem_update *u,
		       const struct mls_tree_priv *priv,
		       const struct bw_bytes *sk,
		       const struct mls_hpke_ciphertext *ct, uint32_t i,
		       const uint8_t *gc, size_t gc_len)
{
	struct bw_bytes pt = { 0 };
	int rc;

	rc = mls_decrypt_with_label(priv->suite, sk->p, sk->len,
				    "UpdatePathNode", gc, gc_len,
				    ct->kem_output.p, ct->kem_output.len,
				    ct->ciphertext.p, ct->ciphertext.len, &pt);
	if (rc == 0 && pt.len != u->suite->hash_len)
		rc = MLS_ERR_PATH;
	if (rc == 0)
		memcpy(u->secret[i], pt.p, pt.len);
	bw_bytes_clear(&pt);
	return rc;
}

/* Each derived public key is the one the path put in the tree. */
static int check_derived(const struct mls_treekem_update *u,
			 const struct mls_tree *t)
{
	for (uint32_t i = u->first; i < u->n; i++)
		if (!tree_has_key(t, u->path[i], &u->pub[i]))
			return MLS_ERR_PATH_KEY_MISMATCH;
	return 0;
}

static int decrypt_in(struct mls_treekem_update *u, const struct mls_tree *t,
		      const struct mls_tree_priv *priv,
		      const struct mls_update_path *path,
		      const uint32_t *joiners, size_t n_joiners,
		      const uint8_t *gc, size_t gc_len)
{
	struct mls_node_list res = { 0 };
	const struct mls_update_path_node *pn;
	uint32_t i, level;
	size_t j;
	int rc;

	if (path->n_nodes != u->n)
		return MLS_ERR_PATH;
	if ((i = copath_index(u, priv->leaf)) == MLS_TM_NONE)
		return MLS_ERR_PATH_NO_KEY;
	pn = &path->nodes[i];
	if ((rc = mls_tree_resolution(t, u->copath[i], joiners, n_joiners,
				      &res)) != 0)
		goto out;
	if (res.n != pn->n_encrypted_path_secret) {
		rc = MLS_ERR_PATH;
		goto out;
	}
	if (!holder(priv, t, &res, &j, &level)) {
		rc = MLS_ERR_PATH_NO_KEY;
		goto out;
	}
	if ((rc = open_secret(u, priv, &priv->priv[level],
			      &pn->encrypted_path_secret[j], i, gc,
			      gc_len)) != 0 ||
	    (rc = derive_path(u, i)) != 0)
		goto out;
	rc = check_derived(u, t);
out:
	mls_node_list_clear(&res);
	return rc;
}

int mls_treekem_decrypt(const struct mls_tree *t,
			const struct mls_tree_priv *priv, uint32_t sender,
			const struct mls_update_path *path,
			const uint32_t *joiners, size_t n_joiners,
			const uint8_t *group_context, size_t group_context_len,
			struct mls_treekem_update **out)
{
	struct mls_treekem_update *u = NULL;
	int rc;

	*out = NULL;
	if (sender == priv->leaf)
		return MLS_ERR_INVALID_ARG;
	if ((rc = update_new(t, sender, &u)) != 0)
		return rc;
	rc = decrypt_in(u, t, priv, path, joiners, n_joiners, group_context,
			group_context_len);
	if (rc != 0) {
		mls_treekem_update_free(u);
		return rc;
	}
	*out = u;
	return 0;
}

/* ---- results ---- */

const uint8_t *mls_treekem_commit_secret(const struct mls_treekem_update *u)
{
	return u->commit_secret;
}

int mls_treekem_path_secret(const struct mls_treekem_update *u,
			    uint32_t leaf, struct bw_bytes *out)
{
	uint32_t lca;

	if (leaf == u->sender || leaf >= u->n_leaves)
		return MLS_ERR_INVALID_ARG;
	lca = mls_tm_common_ancestor(2 * u->sender, 2 * leaf, u->n_leaves);
	for (uint32_t i = u->first; i < u->n; i++)
		if (u->path[i] == lca)
			return bw_bytes_set(out, u->secret[i],
					    u->suite->hash_len);
	return MLS_ERR_INVALID_ARG;
}

int mls_treekem_apply(const struct mls_treekem_update *u,
		      struct mls_tree_priv *priv)
{
	struct bw_bytes sk[LEVELS] = { { 0 } }, pk[LEVELS] = { { 0 } };
	uint32_t from;
	int rc = 0;

	if (u->is_sender && priv->leaf != u->sender)
		return MLS_ERR_INVALID_ARG;
	if (u->is_sender &&
	    (rc = bw_bytes_set(&sk[0], u->leaf_priv.p, u->leaf_priv.len)) == 0)
		rc = bw_bytes_set(&pk[0], u->leaf_pub.p, u->leaf_pub.len);
	for (uint32_t i = u->first; i < u->n && rc == 0; i++) {
		uint32_t k = mls_tm_level(u->path[i]);

		if ((rc = bw_bytes_set(&sk[k], u->priv[i].p,
				       u->priv[i].len)) == 0)
			rc = bw_bytes_set(&pk[k], u->pub[i].p, u->pub[i].len);
	}
	if (rc != 0) {
		clear_levels(sk, pk);
		return rc;
	}
	/* The path replaced every node above where this member joins it:
	 * from its leaf for the committer, else from the common ancestor. */
	from = u->is_sender ? 0
	       : u->first < u->n ? mls_tm_level(u->path[u->first])
				 : LEVELS;
	for (uint32_t k = from; k < LEVELS; k++) {
		bw_bytes_move(&priv->priv[k], &sk[k]);
		bw_bytes_move(&priv->pub[k], &pk[k]);
	}
	clear_levels(sk, pk);
	return 0;
}

/* tree_fixture.c - see tree_fixture.h. */
#include "tree_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "credential.h"
#include "hpke.h"
#include "leaf_node.h"

int fx_accept_all(void *arg, const struct mls_credential *c,
		  const uint8_t *key, size_t len)
{
	(void)arg;
	(void)c;
	(void)key;
	(void)len;
	return 0;
}

int fx_member_init(const struct mls_suite *s, uint32_t id,
		   struct fx_member *m)
{
	char identity[32];
	int rc;

	memset(m, 0, sizeof(*m));
	snprintf(identity, sizeof(identity), "member-%u", id);
	m->leaf.source = MLS_LEAF_SOURCE_KEY_PACKAGE;
	m->leaf.lifetime.not_after = UINT64_MAX;
	if ((rc = mls_sig_keygen(s, &m->sig_priv, &m->leaf.signature_key)) ||
	    (rc = hpke_generate_keypair(s->kem_id, &m->enc_priv,
					&m->leaf.encryption_key)) ||
	    (rc = mls_credential_basic(identity, strlen(identity),
				       &m->leaf.credential)) ||
	    (rc = mls_capabilities_init_default(&m->leaf.capabilities,
						s->id)) ||
	    (rc = mls_leaf_node_sign(s, &m->leaf, m->sig_priv.p,
				     m->sig_priv.len, NULL, 0, 0)))
		fx_member_clear(m);
	return rc;
}

void fx_member_clear(struct fx_member *m)
{
	bw_bytes_clear(&m->sig_priv);
	bw_bytes_clear(&m->enc_priv);
	mls_leaf_node_clear(&m->leaf);
	mls_tree_priv_free(m->priv);
	memset(m, 0, sizeof(*m));
}

static int members_reserve(struct fx_group *g, uint32_t n)
{
	struct fx_member *m;

	if (n <= g->cap)
		return 0;
	if ((m = realloc(g->m, n * sizeof(*m))) == NULL)
		return BW_ERR_NOMEM;
	memset(m + g->cap, 0, (n - g->cap) * sizeof(*m));
	g->m = m;
	g->cap = n;
	return 0;
}

/* The member at leaf is added with its fresh leaf as fixture member m. */
static int place(struct fx_group *g, struct fx_member *m, uint32_t leaf)
{
	int rc;

	if ((rc = members_reserve(g, mls_tree_n_leaves(g->t))) != 0 ||
	    (rc = mls_tree_priv_new(g->s, leaf, m->enc_priv.p, m->enc_priv.len,
				    &m->priv)) != 0)
		return rc;
	g->m[leaf] = *m;
	g->m[leaf].present = true;
	memset(m, 0, sizeof(*m)); /* transferred */
	return 0;
}

int fx_group_new(const struct mls_suite *s, struct fx_group *g)
{
	uint32_t leaf;
	int rc;

	memset(g, 0, sizeof(*g));
	g->s = s;
	if ((rc = mls_random(g->gid, sizeof(g->gid))) != 0 ||
	    (rc = mls_tree_new(s, &g->t)) != 0 || (rc = fx_add(g, &leaf)) != 0)
		fx_group_clear(g);
	return rc;
}

void fx_group_clear(struct fx_group *g)
{
	for (uint32_t i = 0; i < g->cap; i++)
		fx_member_clear(&g->m[i]);
	free(g->m);
	mls_tree_free(g->t);
	memset(g, 0, sizeof(*g));
}

int fx_add(struct fx_group *g, uint32_t *leaf)
{
	struct fx_member m;
	int rc;

	if ((rc = fx_member_init(g->s, g->next_id++, &m)) != 0)
		return rc;
	if ((rc = mls_tree_add_leaf(g->t, &m.leaf, leaf)) == 0)
		rc = place(g, &m, *leaf);
	fx_member_clear(&m);
	return rc;
}

/* Drop private keys of nodes that changed under the members. */
static void prune_all(struct fx_group *g)
{
	for (uint32_t i = 0; i < g->cap; i++)
		if (g->m[i].present)
			mls_tree_priv_prune(g->m[i].priv, g->t);
}

int fx_remove(struct fx_group *g, uint32_t leaf)
{
	int rc;

	if ((rc = mls_tree_remove_leaf(g->t, leaf)) != 0)
		return rc;
	fx_member_clear(&g->m[leaf]);
	prune_all(g);
	return 0;
}

int fx_update(struct fx_group *g, uint32_t leaf)
{
	struct fx_member *m = &g->m[leaf];
	struct mls_leaf_node ln = { 0 };
	struct bw_bytes sk = { 0 };
	int rc;

	if ((rc = mls_leaf_node_copy(&ln, &m->leaf)) != 0)
		return rc;
	ln.source = MLS_LEAF_SOURCE_UPDATE;
	memset(&ln.lifetime, 0, sizeof(ln.lifetime));
	bw_bytes_clear(&ln.parent_hash);
	if ((rc = hpke_generate_keypair(g->s->kem_id, &sk,
					&ln.encryption_key)) ||
	    (rc = mls_leaf_node_sign(g->s, &ln, m->sig_priv.p, m->sig_priv.len,
				     g->gid, sizeof(g->gid), leaf)) ||
	    (rc = mls_tree_update_leaf(g->t, leaf, &ln)) ||
	    (rc = mls_tree_priv_set_leaf_key(m->priv, sk.p, sk.len)))
		goto out;
	bw_bytes_move(&m->enc_priv, &sk);
	mls_leaf_node_clear(&m->leaf);
	m->leaf = ln;
	memset(&ln, 0, sizeof(ln)); /* transferred */
	prune_all(g);
out:
	mls_leaf_node_clear(&ln);
	bw_bytes_clear(&sk);
	return rc;
}

int fx_group_context(struct fx_group *g, struct bw_writer *w)
{
	uint8_t th[MLS_MAX_HASH_LEN];
	struct mls_group_context gc = {
		.version = MLS_PROTOCOL_VERSION_MLS10,
		.cipher_suite = g->s->id,
		.group_id = { g->gid, sizeof(g->gid) },
		.epoch = g->epoch + 1,
		.tree_hash = { th, g->s->hash_len },
	};
	int rc;

	bw_writer_init(w, 0);
	if ((rc = mls_tree_hash(g->t, th)) != 0)
		return rc;
	return mls_group_context_encode(&gc, w);
}

static bool is_joiner(const uint32_t *joiners, size_t n, uint32_t leaf)
{
	for (size_t i = 0; i < n; i++)
		if (joiners[i] == leaf)
			return true;
	return false;
}

/* Member j receives the path: same commit secret, keys installed. */
static int receive(struct fx_group *g, uint32_t j, uint32_t sender,
		   const struct mls_update_path *path, const uint32_t *joiners,
		   size_t n_joiners, const struct bw_writer *gc,
		   const uint8_t *commit_secret)
{
	struct mls_treekem_update *u = NULL;
	int rc;

	if ((rc = mls_treekem_decrypt(g->t, g->m[j].priv, sender, path,
				      joiners, n_joiners, gc->buf, gc->len,
				      &u)) != 0)
		return rc;
	if (CRYPTO_memcmp(mls_treekem_commit_secret(u), commit_secret,
			  g->s->hash_len) != 0)
		rc = MLS_ERR_PATH_KEY_MISMATCH;
	else
		rc = mls_treekem_apply(u, g->m[j].priv);
	mls_treekem_update_free(u);
	return rc;
}

/* A joiner gets the path secret of its common ancestor with the sender,
 * as the Welcome's GroupSecrets carry it (§12.4.3.1). */
static int join(struct fx_group *g, uint32_t j, uint32_t sender,
		const struct mls_treekem_update *u)
{
	struct bw_bytes ps = { 0 };
	int rc;

	if ((rc = mls_treekem_path_secret(u, j, &ps)) == 0)
		rc = mls_tree_priv_join(g->m[j].priv, g->t, sender, ps.p,
					ps.len);
	bw_bytes_clear(&ps);
	return rc;
}

static int everyone_receives(struct fx_group *g, uint32_t sender,
			     const struct mls_treekem_update *u,
			     const struct mls_update_path *path,
			     const uint32_t *joiners, size_t n_joiners,
			     const struct bw_writer *gc)
{
	int rc = 0;

	for (uint32_t j = 0; j < g->cap && rc == 0; j++) {
		if (!g->m[j].present || j == sender)
			continue;
		rc = is_joiner(joiners, n_joiners, j)
			     ? join(g, j, sender, u)
			     : receive(g, j, sender, path, joiners, n_joiners,
				       gc, mls_treekem_commit_secret(u));
		if (rc == 0)
			rc = mls_tree_priv_check(g->m[j].priv, g->t);
	}
	return rc;
}

int fx_commit(struct fx_group *g, uint32_t sender, const uint32_t *joiners,
	      size_t n_joiners)
{
	struct fx_member *m = &g->m[sender];
	struct mls_treekem_update *u = NULL;
	struct mls_update_path path = { 0 };
	struct bw_writer gc = { 0 };
	int rc;

	if ((rc = mls_treekem_create(g->t, sender, &m->leaf, m->sig_priv.p,
				     m->sig_priv.len, g->gid, sizeof(g->gid),
				     NULL, &u)) ||
	    (rc = fx_group_context(g, &gc)) ||
	    (rc = mls_treekem_encrypt(u, g->t, joiners, n_joiners, gc.buf,
				      gc.len, &path)) ||
	    (rc = everyone_receives(g, sender, u, &path, joiners, n_joiners,
				    &gc)) ||
	    (rc = mls_treekem_apply(u, m->priv)) ||
	    (rc = mls_tree_priv_check(m->priv, g->t)))
		goto out;
	mls_leaf_node_clear(&m->leaf);
	rc = mls_leaf_node_copy(&m->leaf, mls_tree_leaf(g->t, sender));
	g->epoch++;
out:
	mls_treekem_update_free(u);
	mls_update_path_clear(&path);
	bw_writer_free(&gc);
	return rc;
}

/* ---- naive tree hash ---- */

static const struct mls_node *naive_node(const struct mls_ratchet_tree *rt,
					 uint32_t x)
{
	return x < rt->n_nodes && rt->nodes[x].type != MLS_NODE_BLANK
		       ? &rt->nodes[x]
		       : NULL;
}

int fx_naive_hash(const struct mls_suite *s, const struct mls_ratchet_tree *rt,
		  uint32_t n_leaves, uint32_t x, uint8_t *out)
{
	const struct mls_node *n = naive_node(rt, x);
	uint8_t l[MLS_MAX_HASH_LEN], r[MLS_MAX_HASH_LEN];
	struct bw_writer w;
	int rc;

	if (!mls_tm_is_leaf(x) &&
	    ((rc = fx_naive_hash(s, rt, n_leaves, mls_tm_left(x, n_leaves),
				 l)) != 0 ||
	     (rc = fx_naive_hash(s, rt, n_leaves, mls_tm_right(x, n_leaves),
				 r)) != 0))
		return rc;
	bw_writer_init(&w, 0);
	if (mls_tm_is_leaf(x)) {
		bw_write_u8(&w, MLS_NODE_LEAF);
		bw_write_u32(&w, x / 2);
		bw_write_optional(&w, n != NULL);
		if (n != NULL)
			mls_leaf_node_encode(n->leaf, &w);
	} else {
		bw_write_u8(&w, MLS_NODE_PARENT);
		bw_write_optional(&w, n != NULL);
		if (n != NULL)
			mls_parent_node_encode(n->parent, &w);
		bw_write_opaque(&w, l, s->hash_len);
		bw_write_opaque(&w, r, s->hash_len);
	}
	rc = w.err != 0 ? w.err : mls_hash(s, w.buf, w.len, out);
	bw_writer_free(&w);
	return rc;
}

bool fx_hashes_match(struct mls_tree *t)
{
	const struct mls_suite *s = mls_tree_suite(t);
	struct mls_ratchet_tree rt = { 0 };
	uint32_t n = mls_tree_n_leaves(t);
	uint8_t a[MLS_MAX_HASH_LEN], b[MLS_MAX_HASH_LEN];
	bool ok = mls_tree_export(t, &rt) == 0;

	for (uint32_t x = 0; ok && x < 2 * n - 1; x++)
		ok = mls_tree_node_hash(t, x, a) == 0 &&
		     fx_naive_hash(s, &rt, n, x, b) == 0 &&
		     memcmp(a, b, s->hash_len) == 0;
	mls_ratchet_tree_clear(&rt);
	return ok;
}

int fx_snapshot_take(struct mls_tree *t, struct fx_snapshot *snap)
{
	struct bw_writer w;
	int rc;

	memset(snap, 0, sizeof(*snap));
	bw_writer_init(&w, 0);
	if ((rc = mls_tree_encode(t, &w)) == 0 &&
	    (rc = bw_bytes_set(&snap->bytes, w.buf, w.len)) == 0)
		rc = mls_tree_hash(t, snap->hash);
	bw_writer_free(&w);
	return rc;
}

bool fx_snapshot_same(struct mls_tree *t, const struct fx_snapshot *snap)
{
	struct fx_snapshot now;
	bool same;

	same = fx_snapshot_take(t, &now) == 0 &&
	       bw_bytes_eq(&snap->bytes, now.bytes.p, now.bytes.len) &&
	       memcmp(snap->hash, now.hash, mls_tree_suite(t)->hash_len) == 0;
	fx_snapshot_clear(&now);
	return same;
}

void fx_snapshot_clear(struct fx_snapshot *snap)
{
	bw_bytes_clear(&snap->bytes);
}

/* group_world.c - see group_world.h. */
#include "group_world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(rc, what)                                                      \
	do {                                                                \
		fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__,     \
			(what), mls_strerror(rc));                          \
		return (rc);                                                \
	} while (0)

static const uint8_t psk_value[32] = { 0x42, 1, 2, 3, 4, 5, 6, 7 };

/* The organisation's Authentication Service, for tests: any basic
 * credential naming a client or the delivery service. */
static int accept_any(void *arg, const struct mls_credential *c,
		      const uint8_t *key, size_t key_len)
{
	const uint8_t *id;
	size_t n;

	(void)arg;
	(void)key;
	(void)key_len;
	if (mls_credential_get_type(c) != 1)
		return -1;
	mls_credential_identity(c, &id, &n);
	return (n > 7 && memcmp(id, "client-", 7) == 0) ||
			       (n == 2 && memcmp(id, "ds", 2) == 0) ?
		       0 :
		       -1;
}

static int psk_store(void *arg, const struct mls_psk_ref *ref,
		     const uint8_t **psk, size_t *psk_len)
{
	(void)arg;
	if (ref->psktype != 1 || ref->id_len != strlen(GW_PSK_ID) ||
	    memcmp(ref->id, GW_PSK_ID, ref->id_len) != 0)
		return -1;
	*psk = psk_value;
	*psk_len = sizeof(psk_value);
	return 0;
}

uint32_t gw_rand(struct gw_world *w, uint32_t bound)
{
	uint64_t x;

	/* xorshift64*: reproducible runs from a seed. */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	x = (w->rng * 2685821657736338717ull) >> 32;
	return bound == 0 ? 0 : (uint32_t)(x % bound);
}

int gw_new_signer(struct gw_world *w, struct mls_signer **out, int *id)
{
	struct mls_credential *c = NULL;
	char name[32];
	int rc, len;

	*id = w->next_id++;
	len = snprintf(name, sizeof(name), "client-%d", *id);
	if ((rc = mls_signer_new(w->suite, NULL, 0, out)) != 0 ||
	    (rc = mls_credential_new_basic(name, (size_t)len, &c)) != 0 ||
	    (rc = mls_signer_set_credential(*out, c)) != 0)
		FAIL(rc, "new signer");
	mls_credential_free(c);
	return 0;
}

static int push_member(struct gw_world *w, struct mls_group *g, int id)
{
	struct gw_member *v = realloc(w->m, (w->n + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	w->m = v;
	v[w->n++] = (struct gw_member){ g, id };
	return 0;
}

static void drop_member(struct gw_world *w, size_t i)
{
	mls_group_free(w->m[i].g);
	memmove(&w->m[i], &w->m[i + 1], (w->n - i - 1) * sizeof(w->m[0]));
	w->n--;
}

static void keep_group_info(struct gw_world *w, uint8_t *gi, size_t len,
			    bool has_tree)
{
	free(w->group_info);
	w->group_info = gi;
	w->group_info_len = len;
	w->group_info_has_tree = has_tree;
}

int gw_init(struct gw_world *w, uint16_t suite, uint64_t seed,
	    bool private_handshake)
{
	struct mls_extensions *ext = NULL;
	struct mls_signer *s = NULL;
	struct mls_group *g = NULL;
	const uint8_t *dk;
	size_t dkn;
	uint8_t *gi = NULL;
	size_t gi_len = 0;
	uint8_t gid[16];
	int rc, id;

	memset(w, 0, sizeof(*w));
	w->suite = suite;
	w->rng = seed * 0x9e3779b97f4a7c15ull + 1;
	w->cfg.accept_credential = accept_any;
	w->cfg.psk = psk_store;
	w->cfg.private_handshake = private_handshake;
	/* Private worlds also pad their PrivateMessages (§6.3.1). */
	w->cfg.padding_block = private_handshake ? 64 : 0;
	w->ds_follows = !private_handshake;
	for (size_t i = 0; i < sizeof(w->state_key); i++)
		w->state_key[i] = (uint8_t)gw_rand(w, 256);
	for (size_t i = 0; i < sizeof(gid); i++)
		gid[i] = (uint8_t)gw_rand(w, 256);
	/* The delivery service may send Removes (external_senders). */
	if ((rc = mls_signer_new(suite, NULL, 0, &w->ds_signer)) != 0 ||
	    (rc = mls_credential_new_basic("ds", 2, &w->ds_credential)) != 0 ||
	    (rc = mls_signer_set_credential(w->ds_signer, w->ds_credential)) !=
		    0 ||
	    (rc = mls_extensions_new(&ext)) != 0)
		FAIL(rc, "delivery service signer");
	mls_signer_public_key(w->ds_signer, &dk, &dkn);
	if ((rc = mls_extensions_add_external_sender(ext, dk, dkn,
						     w->ds_credential)) != 0 ||
	    (rc = gw_new_signer(w, &s, &id)) != 0 ||
	    (rc = mls_group_create(&w->cfg, s, gid, sizeof(gid), ext, &g)) != 0 ||
	    (rc = mls_group_group_info(g, true, &gi, &gi_len)) != 0 ||
	    (rc = mls_public_group_new(&w->cfg, gi, gi_len, NULL, 0,
				       &w->ds)) != 0)
		FAIL(rc, "group creation");
	mls_extensions_free(ext);
	keep_group_info(w, gi, gi_len, true);
	mls_signer_free(s);
	return push_member(w, g, id);
}

void gw_free(struct gw_world *w)
{
	while (w->n > 0)
		drop_member(w, w->n - 1);
	free(w->m);
	mls_public_group_free(w->ds);
	mls_signer_free(w->ds_signer);
	mls_credential_free(w->ds_credential);
	free(w->group_info);
	memset(w, 0, sizeof(*w));
}

size_t gw_find(const struct gw_world *w, uint32_t leaf)
{
	for (size_t i = 0; i < w->n; i++)
		if (mls_group_own_leaf(w->m[i].g) == leaf)
			return i;
	return w->n;
}

size_t gw_find_id(const struct gw_world *w, int id)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->m[i].id == id)
			return i;
	return w->n;
}

int gw_deliver(struct gw_world *w, int from, const uint8_t *msg, size_t len,
	       bool application)
{
	struct mls_process_result r;
	int rc;

	if (w->ds_follows) {
		if ((rc = mls_public_group_process(w->ds, msg, len, &r)) != 0)
			FAIL(rc, "delivery service");
		mls_process_result_clear(&r);
	}
	for (size_t i = 0; i < w->n; i++) {
		if (application && (int)i == from)
			continue;
		if ((rc = mls_group_process(w->m[i].g, msg, len, &r)) != 0) {
			fprintf(stderr, "member %zu (leaf %u) from %d:\n", i,
				mls_group_own_leaf(w->m[i].g), from);
			FAIL(rc, "process");
		}
		mls_process_result_clear(&r);
	}
	/* Members a commit removed leave. */
	for (size_t i = w->n; i-- > 0;)
		if (!mls_group_active(w->m[i].g))
			drop_member(w, i);
	return 0;
}

/* The ratchet tree as a joiner gets it out of band: from the DS, or from
 * a member when the DS does not follow. */
static int tree_out_of_band(struct gw_world *w, uint8_t **tree, size_t *len)
{
	if (w->ds_follows)
		return mls_public_group_ratchet_tree(w->ds, tree, len);
	return mls_group_ratchet_tree(w->m[0].g, tree, len);
}

/* New members join from the Welcome: the tree from it or from the DS. */
static int join_all(struct gw_world *w, const struct mls_commit_output *o,
		    bool tree_inside,
		    struct mls_key_package_bundle **joiners, int *ids,
		    size_t n)
{
	uint8_t *tree = NULL;
	size_t tree_len = 0;
	struct mls_group *g;
	int rc = 0;

	if (!tree_inside && (rc = tree_out_of_band(w, &tree, &tree_len)) != 0)
		FAIL(rc, "tree from the delivery service");
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct mls_key_package_bundle *b = joiners[i];

		if ((rc = mls_group_join(&w->cfg, &b, 1, o->welcome,
					 o->welcome_len, tree, tree_len,
					 &g)) != 0) {
			fprintf(stderr, "joiner %zu\n", i);
			break;
		}
		if ((rc = push_member(w, g, ids[i])) != 0)
			break;
	}
	free(tree);
	if (rc != 0)
		FAIL(rc, "join");
	return 0;
}

int gw_commit(struct gw_world *w, int from, bool force_path,
	      struct mls_key_package_bundle **joiners, int *joiner_ids,
	      size_t n_joiners)
{
	struct mls_commit_options opt = { force_path, gw_rand(w, 2) == 0 };
	struct mls_commit_output o;
	int rc;

	if ((rc = mls_group_commit(w->m[from].g, &opt, &o)) != 0)
		FAIL(rc, "commit");
	/* Sometimes the committer restarts while its commit is pending. */
	if (gw_rand(w, 4) == 0 && (rc = gw_reload(w, (size_t)from)) != 0)
		goto out;
	if ((rc = gw_deliver(w, from, o.commit, o.commit_len, false)) != 0)
		goto out;
	rc = gw_accept_group_info(w, &o, opt.ratchet_tree);
	if (rc == 0 && n_joiners > 0)
		rc = join_all(w, &o, opt.ratchet_tree, joiners, joiner_ids,
			      n_joiners);
out:
	mls_commit_output_clear(&o);
	return rc;
}

int gw_accept_group_info(struct gw_world *w, struct mls_commit_output *o,
			 bool has_tree)
{
	int rc;

	if (w->ds_follows &&
	    (rc = mls_public_group_check_group_info(w->ds, o->group_info,
						    o->group_info_len)) != 0)
		FAIL(rc, "GroupInfo refused by the delivery service");
	keep_group_info(w, o->group_info, o->group_info_len, has_tree);
	o->group_info = NULL; /* kept */
	return 0;
}

int gw_add_members(struct gw_world *w, int from, size_t n)
{
	struct mls_key_package_bundle **b = calloc(n, sizeof(*b));
	int *ids = calloc(n, sizeof(*ids));
	struct mls_signer *s = NULL;
	uint8_t *kp = NULL;
	size_t kp_len;
	int rc = 0;

	if (b == NULL || ids == NULL)
		rc = -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if ((rc = gw_new_signer(w, &s, &ids[i])) != 0 ||
		    (rc = mls_key_package_bundle_new(&w->cfg, s, &b[i])) != 0 ||
		    (rc = mls_key_package_bundle_message(b[i], &kp, &kp_len)) !=
			    0 ||
		    (rc = mls_group_propose_add(w->m[from].g, kp, kp_len, NULL,
						NULL)) != 0)
			fprintf(stderr, "add: %s\n", mls_strerror(rc));
		mls_signer_free(s);
		free(kp);
		kp = NULL;
	}
	if (rc == 0)
		rc = gw_commit(w, from, false, b, ids, n);
	for (size_t i = 0; b != NULL && i < n; i++)
		mls_key_package_bundle_free(b[i]);
	free(b);
	free(ids);
	return rc;
}

int gw_external_join(struct gw_world *w)
{
	struct mls_external_join p = { 0 };
	struct mls_signer *s = NULL;
	struct mls_group *g = NULL;
	uint8_t *commit = NULL, *tree = NULL;
	size_t commit_len, tree_len = 0;
	int rc, id;

	p.group_info = w->group_info;
	p.group_info_len = w->group_info_len;
	/* The tree from the GroupInfo when it has one, else (or at random)
	 * out of band. */
	if ((!w->group_info_has_tree || gw_rand(w, 2) == 0) &&
	    (rc = tree_out_of_band(w, &tree, &tree_len)) != 0)
		FAIL(rc, "tree");
	p.ratchet_tree = tree;
	p.ratchet_tree_len = tree_len;
	if ((rc = gw_new_signer(w, &s, &id)) != 0 ||
	    (rc = mls_group_join_external(&w->cfg, s, &p, &commit, &commit_len,
					  &g)) != 0) {
		free(tree);
		mls_signer_free(s);
		FAIL(rc, "external join");
	}
	free(tree);
	mls_signer_free(s);
	if ((rc = gw_deliver(w, -1, commit, commit_len, false)) == 0 &&
	    (rc = push_member(w, g, id)) == 0)
		g = NULL;
	mls_group_free(g);
	free(commit);
	if (rc == 0 && (rc = mls_group_group_info(w->m[w->n - 1].g, false,
						  &commit, &commit_len)) == 0)
		keep_group_info(w, commit, commit_len, false);
	return rc;
}

int gw_reload(struct gw_world *w, size_t i)
{
	struct mls_group *g = NULL;
	uint8_t *state = NULL;
	size_t len;
	int rc;

	if ((rc = mls_group_save(w->m[i].g, w->state_key, &state, &len)) != 0 ||
	    (rc = mls_group_load(&w->cfg, w->state_key, state, len, &g)) != 0) {
		free(state);
		FAIL(rc, "save and load");
	}
	free(state);
	mls_group_free(w->m[i].g);
	w->m[i].g = g;
	return 0;
}

int gw_message(struct gw_world *w, int from)
{
	struct mls_process_result r;
	uint8_t data[64], *msg = NULL;
	size_t len, n = 1 + gw_rand(w, sizeof(data));
	int rc;

	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)gw_rand(w, 256);
	if ((rc = mls_group_encrypt(w->m[from].g, data, n, "ad", 2, &msg,
				    &len)) != 0)
		FAIL(rc, "encrypt");
	if (w->ds_follows &&
	    ((rc = mls_public_group_process(w->ds, msg, len, &r)) != 0 ||
	     r.kind != MLS_RESULT_OPAQUE)) {
		free(msg);
		FAIL(rc, "delivery service on application data");
	}
	for (size_t i = 0; i < w->n && rc == 0; i++) {
		if ((int)i == from)
			continue;
		if ((rc = mls_group_process(w->m[i].g, msg, len, &r)) != 0)
			break;
		if (r.kind != MLS_RESULT_APPLICATION || r.data_len != n ||
		    memcmp(r.data, data, n) != 0 ||
		    r.sender != mls_group_own_leaf(w->m[from].g) ||
		    r.authenticated_data_len != 2) {
			fprintf(stderr, "member %zu decrypted other data\n", i);
			rc = -1;
		}
		mls_process_result_clear(&r);
	}
	free(msg);
	if (rc != 0)
		FAIL(rc, "application message");
	return 0;
}

/* Two groups (or a group and the DS view) hold the same leaves with the
 * same signature keys. */
typedef int (*member_fn)(const void *g, uint32_t leaf, struct mls_member *m);

static int member_of_group(const void *g, uint32_t leaf, struct mls_member *m)
{
	return mls_group_member(g, leaf, m);
}

static int member_of_view(const void *g, uint32_t leaf, struct mls_member *m)
{
	return mls_public_group_member(g, leaf, m);
}

static int same_members(const void *a, member_fn fa, const void *b,
			member_fn fb, uint32_t n)
{
	struct mls_member ma, mb;

	for (uint32_t leaf = 0; leaf < n; leaf++) {
		int ra = fa(a, leaf, &ma), rb = fb(b, leaf, &mb);

		if (ra != rb ||
		    (ra == 0 &&
		     (ma.signature_key_len != mb.signature_key_len ||
		      memcmp(ma.signature_key, mb.signature_key,
			     ma.signature_key_len) != 0)))
			return -1;
	}
	return 0;
}

/* The DS view agrees with member 0 and has as many members as the world. */
static int check_view(struct gw_world *w, const uint8_t *th0, size_t tn0)
{
	struct mls_group *g0 = w->m[0].g;
	uint8_t th[MLS_MAX_SECRET_LEN];
	uint32_t n = mls_public_group_n_leaves(w->ds), members = 0;
	struct mls_member m;
	size_t tn;
	int rc;

	if ((rc = mls_public_group_tree_hash(w->ds, th, &tn)) != 0)
		FAIL(rc, "tree hash");
	for (uint32_t leaf = 0; leaf < n; leaf++)
		members += mls_public_group_member(w->ds, leaf, &m) == 0;
	if (members != w->n || tn != tn0 || memcmp(th, th0, tn) != 0 ||
	    mls_public_group_epoch(w->ds) != mls_group_epoch(g0) ||
	    n != mls_group_n_leaves(g0) ||
	    same_members(g0, member_of_group, w->ds, member_of_view, n) != 0) {
		fprintf(stderr, "the DS view disagrees (%u members, %zu)\n",
			members, w->n);
		return -1;
	}
	return 0;
}

int gw_check(struct gw_world *w)
{
	uint8_t ea0[MLS_MAX_SECRET_LEN], ea[MLS_MAX_SECRET_LEN];
	uint8_t th0[MLS_MAX_SECRET_LEN], th[MLS_MAX_SECRET_LEN];
	struct mls_group *g0 = w->m[0].g;
	size_t n0, n, tn0, tn;
	int rc;

	mls_group_epoch_authenticator(g0, ea0, &n0);
	if ((rc = mls_group_tree_hash(g0, th0, &tn0)) != 0)
		FAIL(rc, "tree hash");
	for (size_t i = 1; i < w->n; i++) {
		struct mls_group *g = w->m[i].g;

		mls_group_epoch_authenticator(g, ea, &n);
		if ((rc = mls_group_tree_hash(g, th, &tn)) != 0)
			FAIL(rc, "tree hash");
		if (mls_group_epoch(g) != mls_group_epoch(g0) || n != n0 ||
		    memcmp(ea, ea0, n) != 0 || tn != tn0 ||
		    memcmp(th, th0, tn) != 0 ||
		    mls_group_n_leaves(g) != mls_group_n_leaves(g0) ||
		    same_members(g0, member_of_group, g, member_of_group,
				 mls_group_n_leaves(g0)) != 0) {
			fprintf(stderr, "member %zu disagrees (epoch %llu)\n",
				i, (unsigned long long)mls_group_epoch(g));
			return -1;
		}
	}
	return w->ds_follows ? check_view(w, th0, tn0) : 0;
}

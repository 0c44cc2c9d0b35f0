/*
 * test_group_negative.c - for each rule the group lifecycle enforces
 * (RFC 9420 §6, §7.3, §12.1-§12.4, §12.4.3), a message that breaks that
 * rule, the exact error it must produce, and the proof that the receiving
 * member and the delivery service's view are unchanged (their whole state,
 * compared byte for byte before and after).
 *
 * Messages are crafted with libmls internals: proposals and commits the
 * public API would refuse to make are built, signed with the sender's key
 * and protected with its epoch's keys, so only the rule under test is
 * broken. Where the rule concerns a commit that needs a path, the path is
 * a real one, made for the tree the commit's proposals would give.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group_internal.h"
#include "group_world.h"
#include "test.h"

/* The delivery service's result is not compared (it cannot check what
 * the rule is about). */
#define DS_SKIP 1

static uint16_t suite;
static struct gw_world w;

/* Four members A, B, C, D at leaves 0-3. */
#define A (w.m[0].g)
#define B (w.m[1].g)
#define C (w.m[2].g)
#define D (w.m[3].g)

static bool setup(void)
{
	if (gw_init(&w, suite, 77, false) != 0)
		return false;
	return gw_add_members(&w, 0, 3) == 0 && w.n == 4;
}

static void teardown(void)
{
	gw_free(&w);
}

/* ---- states ---- */

struct snap {
	uint8_t *member, *ds;
	size_t member_len, ds_len;
};

static bool snap_take(struct mls_group *g, struct snap *s)
{
	struct bw_writer bw;
	bool ok;

	memset(s, 0, sizeof(*s));
	bw_writer_init(&bw, 0);
	ok = mls_group_state_encode(g, &bw) == 0 &&
	     bw_writer_take(&bw, &s->member, &s->member_len) == 0 &&
	     mls_public_group_save(w.ds, &s->ds, &s->ds_len) == 0;
	bw_writer_free(&bw);
	return ok;
}

static void snap_clear(struct snap *s)
{
	bw_free_secret(s->member, s->member_len);
	free(s->ds);
	memset(s, 0, sizeof(*s));
}

static bool snap_same(struct mls_group *g, const struct snap *s)
{
	struct snap now;
	bool same;

	if (!snap_take(g, &now))
		return false;
	same = now.member_len == s->member_len &&
	       memcmp(now.member, s->member, s->member_len) == 0 &&
	       now.ds_len == s->ds_len && memcmp(now.ds, s->ds, s->ds_len) == 0;
	snap_clear(&now);
	return same;
}

/* g refuses msg with `want` and the DS with ds_want (unless DS_SKIP);
 * neither changes. */
static bool refused(struct mls_group *g, const uint8_t *msg, size_t len,
		    int want, int ds_want)
{
	struct mls_process_result r;
	struct snap before;
	int rc, ds_rc = 0;
	bool ok;

	if (!snap_take(g, &before))
		return false;
	rc = mls_group_process(g, msg, len, &r);
	if (rc == 0)
		mls_process_result_clear(&r);
	if (ds_want != DS_SKIP &&
	    (ds_rc = mls_public_group_process(w.ds, msg, len, &r)) == 0)
		mls_process_result_clear(&r);
	ok = rc == want && (ds_want == DS_SKIP || ds_rc == ds_want);
	if (!ok)
		fprintf(stderr, "member: %s (want %s); DS: %s\n",
			mls_strerror(rc), mls_strerror(want),
			ds_want == DS_SKIP ? "-" : mls_strerror(ds_rc));
	if (!snap_same(g, &before)) {
		fprintf(stderr, "state changed by a refused message\n");
		ok = false;
	}
	snap_clear(&before);
	return ok;
}

/* ---- crafting ---- */

/* The AuthenticatedContent of a PublicMessage, unchecked. */
static bool open_public(const uint8_t *msg, size_t len,
			struct mls_authenticated_content *ac)
{
	struct mls_message m;

	memset(ac, 0, sizeof(*ac));
	if (mls_message_decode(msg, len, &m) != 0)
		return false;
	if (m.wire_format != MLS_WIRE_FORMAT_PUBLIC_MESSAGE) {
		mls_message_clear(&m);
		return false;
	}
	ac->wire_format = MLS_WIRE_FORMAT_PUBLIC_MESSAGE;
	ac->content = m.public_message.content;
	ac->auth = m.public_message.auth;
	memset(&m.public_message.content, 0, sizeof(m.public_message.content));
	memset(&m.public_message.auth, 0, sizeof(m.public_message.auth));
	mls_message_clear(&m);
	return true;
}

/* ac (cleared) protected as a PublicMessage with g's epoch keys, signed
 * first by g if resign. */
static bool seal(struct mls_group *g, struct mls_authenticated_content *ac,
		 bool resign, struct bw_bytes *out)
{
	struct bw_writer bw;
	bool ok;

	bw_writer_init(&bw, 0);
	ok = (!resign || mls_group_sign(g, ac) == 0) &&
	     mls_group_protect(g, ac, &bw) == 0 &&
	     bw_writer_take(&bw, &out->p, &out->len) == 0;
	bw_writer_free(&bw);
	mls_authenticated_content_clear(ac);
	return ok;
}

/* A commit by g of v[0..n) (taken) and path (taken, may be NULL), with a
 * confirmation tag of the right length: every check before the key
 * schedule sees a well-formed commit. */
static bool craft_commit(struct mls_group *g, struct mls_proposal_or_ref *v,
			 size_t n, struct mls_update_path *path,
			 struct bw_bytes *out)
{
	struct mls_authenticated_content ac;
	size_t hl = g->st.suite->hash_len;

	if (mls_group_content_init(g, MLS_CONTENT_COMMIT, &ac) != 0)
		return false;
	ac.content.commit.proposals = v;
	ac.content.commit.n_proposals = n;
	if (path != NULL) {
		ac.content.commit.has_path = true;
		ac.content.commit.path = *path;
		memset(path, 0, sizeof(*path));
	}
	if (bw_bytes_alloc(&ac.auth.confirmation_tag, hl) != 0 ||
	    mls_random(ac.auth.confirmation_tag.p, hl) != 0) {
		mls_authenticated_content_clear(&ac);
		return false;
	}
	return seal(g, &ac, true, out);
}

/* A real UpdatePath from committer g for the tree its proposals give:
 * remove_leaf (MLS_TM_NONE: nothing) is removed from a copy of the tree
 * first. */
static bool real_path(struct mls_group *g, uint32_t remove_leaf,
		      struct mls_update_path *out)
{
	struct mls_group_context gc = g->st.gc; /* shallow: not cleared */
	struct mls_treekem_update *u = NULL;
	struct mls_leaf_node templ = { 0 };
	uint8_t th[MLS_MAX_HASH_LEN];
	uint32_t me = mls_group_leaf(g);
	struct mls_tree *t = NULL;
	struct bw_writer bw;
	bool ok;

	bw_writer_init(&bw, 0);
	gc.epoch++;
	gc.tree_hash.p = th;
	gc.tree_hash.len = g->st.suite->hash_len;
	ok = mls_tree_clone(g->st.tree, &t) == 0 &&
	     (remove_leaf == MLS_TM_NONE ||
	      mls_tree_remove_leaf(t, remove_leaf) == 0) &&
	     mls_leaf_node_copy(&templ, mls_tree_leaf(t, me)) == 0 &&
	     mls_treekem_create(t, me, &templ, g->sig_priv.p, g->sig_priv.len,
				g->st.gc.group_id.p, g->st.gc.group_id.len,
				NULL, &u) == 0 &&
	     mls_tree_hash(t, th) == 0 &&
	     mls_group_context_encode(&gc, &bw) == 0 &&
	     mls_treekem_encrypt(u, t, NULL, 0, bw.buf, bw.len, out) == 0;
	mls_treekem_update_free(u);
	mls_leaf_node_clear(&templ);
	mls_tree_free(t);
	bw_writer_free(&bw);
	return ok;
}

static struct mls_proposal_or_ref *props(size_t n)
{
	return calloc(n, sizeof(struct mls_proposal_or_ref));
}

static void set_remove(struct mls_proposal_or_ref *p, uint32_t leaf)
{
	p->type = MLS_PROPOSAL_OR_REF_PROPOSAL;
	p->proposal.type = MLS_PROPOSAL_REMOVE;
	p->proposal.remove = leaf;
}

static bool set_psk(struct mls_proposal_or_ref *p, size_t nonce_len,
		    uint8_t psktype, uint8_t usage)
{
	struct mls_pre_shared_key_id *id = &p->proposal.psk;

	p->type = MLS_PROPOSAL_OR_REF_PROPOSAL;
	p->proposal.type = MLS_PROPOSAL_PSK;
	id->psktype = psktype;
	id->usage = usage;
	if (psktype == MLS_PSK_RESUMPTION)
		return bw_bytes_set(&id->psk_group_id, A->st.gc.group_id.p,
				    A->st.gc.group_id.len) == 0 &&
		       bw_bytes_alloc(&id->psk_nonce, nonce_len) == 0;
	return bw_bytes_set(&id->psk_id, GW_PSK_ID, strlen(GW_PSK_ID)) == 0 &&
	       bw_bytes_alloc(&id->psk_nonce, nonce_len) == 0 &&
	       mls_random(id->psk_nonce.p, nonce_len) == 0;
}

static bool set_gce(struct mls_proposal_or_ref *p,
		    const struct mls_extension_list *ext)
{
	p->type = MLS_PROPOSAL_OR_REF_PROPOSAL;
	p->proposal.type = MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS;
	return mls_extension_list_copy(&p->proposal.group_context_extensions,
				       ext) == 0;
}

/* A reference to the proposal in msg (a PublicMessage). */
static bool set_ref(struct mls_proposal_or_ref *p, const struct bw_bytes *msg)
{
	struct mls_authenticated_content ac;
	uint8_t ref[MLS_MAX_HASH_LEN];
	bool ok;

	p->type = MLS_PROPOSAL_OR_REF_REFERENCE;
	ok = open_public(msg->p, msg->len, &ac) &&
	     mls_proposal_ref(A->st.suite, &ac, ref) == 0 &&
	     bw_bytes_set(&p->reference, ref, A->st.suite->hash_len) == 0;
	mls_authenticated_content_clear(&ac);
	return ok;
}

/* A fresh client's KeyPackage (signer: NULL for a new one). */
static bool new_key_package(const struct mls_signer *signer,
			    struct mls_key_package *out)
{
	struct mls_key_package_bundle *b = NULL;
	struct mls_signer *s = NULL;
	struct mls_proposal p = { .type = MLS_PROPOSAL_ADD }, q;
	int id;
	bool ok;

	ok = (signer != NULL || gw_new_signer(&w, &s, &id) == 0) &&
	     mls_key_package_bundle_new(&w.cfg, signer != NULL ? signer : s,
					&b) == 0;
	if (ok) {
		p.add = b->kp; /* shallow, for the copy */
		ok = mls_proposal_copy(&q, &p) == 0;
		if (ok)
			*out = q.add;
	}
	mls_key_package_bundle_free(b);
	mls_signer_free(s);
	return ok;
}

static bool set_add(struct mls_proposal_or_ref *p,
		    const struct mls_signer *signer)
{
	p->type = MLS_PROPOSAL_OR_REF_PROPOSAL;
	p->proposal.type = MLS_PROPOSAL_ADD;
	return new_key_package(signer, &p->proposal.add);
}

/* A member's message, delivered to everyone (proposals get cached). */
static bool send(const struct bw_bytes *msg, int from)
{
	return gw_deliver(&w, from, msg->p, msg->len, false) == 0;
}

/* ---- authentication and framing (§6) ---- */

static bool test_forged_signature(void)
{
	struct mls_commit_output o;
	struct mls_authenticated_content ac;
	struct bw_bytes msg = { 0 };
	struct mls_commit_options opt = { .force_path = true };
	bool ok;

	CHECK(setup());
	CHECK(mls_group_commit(A, &opt, &o) == 0);
	ok = open_public(o.commit, o.commit_len, &ac);
	if (ok) {
		ac.auth.signature.p[0] ^= 1;
		ok = seal(A, &ac, false, &msg) &&
		     refused(B, msg.p, msg.len, MLS_ERR_SIGNATURE,
			     MLS_ERR_SIGNATURE);
	}
	mls_commit_output_clear(&o);
	bw_bytes_clear(&msg);
	teardown();
	return ok;
}

/* The DS has no membership key: it cannot see this one. */
static bool test_membership_tag(void)
{
	struct mls_commit_output o;
	bool ok;

	CHECK(setup());
	CHECK(mls_group_commit(A, NULL, &o) == 0);
	o.commit[o.commit_len - 1] ^= 1;
	ok = refused(B, o.commit, o.commit_len, MLS_ERR_MEMBERSHIP_TAG,
		     DS_SKIP);
	mls_commit_output_clear(&o);
	teardown();
	return ok;
}

static bool test_wrong_epoch(void)
{
	struct bw_bytes msg;
	bool ok;

	CHECK(setup());
	CHECK(mls_group_propose_update(C, &msg.p, &msg.len) == 0);
	ok = gw_commit(&w, 3, true, NULL, NULL, 0) == 0 &&
	     refused(B, msg.p, msg.len, MLS_ERR_WRONG_EPOCH,
		     MLS_ERR_WRONG_EPOCH);
	bw_bytes_clear(&msg);
	teardown();
	return ok;
}

static bool test_wrong_group(void)
{
	struct gw_world other;
	struct mls_commit_output o;
	bool ok;

	CHECK(gw_init(&other, suite, 78, false) == 0);
	CHECK(setup());
	CHECK(mls_group_commit(other.m[0].g, NULL, &o) == 0);
	ok = refused(B, o.commit, o.commit_len, MLS_ERR_WRONG_GROUP,
		     MLS_ERR_WRONG_GROUP);
	mls_commit_output_clear(&o);
	gw_free(&other);
	teardown();
	return ok;
}

/* A member the previous commit removed: its leaf is blank. */
static bool test_removed_member(void)
{
	struct mls_authenticated_content ac;
	struct bw_bytes msg = { 0 }, forged = { 0 };
	uint32_t c_leaf;
	bool ok;

	CHECK(setup());
	c_leaf = mls_group_own_leaf(C);
	CHECK(mls_group_propose_remove(A, c_leaf, NULL, NULL) == 0);
	CHECK(gw_commit(&w, 0, false, NULL, NULL, 0) == 0 && w.n == 3);
	/* D sent it, but it claims to come from C's leaf. */
	CHECK(mls_group_propose_update(w.m[2].g, &msg.p, &msg.len) == 0);
	ok = open_public(msg.p, msg.len, &ac);
	if (ok) {
		ac.content.sender.index = c_leaf;
		ok = seal(w.m[2].g, &ac, false, &forged) &&
		     refused(B, forged.p, forged.len, MLS_ERR_NOT_MEMBER,
			     MLS_ERR_NOT_MEMBER);
	}
	bw_bytes_clear(&msg);
	bw_bytes_clear(&forged);
	teardown();
	return ok;
}

static bool test_truncated(void)
{
	struct mls_commit_output o;
	bool ok = true;

	CHECK(setup());
	CHECK(mls_group_commit(A, NULL, &o) == 0);
	for (size_t cut = 1; cut < o.commit_len && ok; cut += 1 + cut / 4)
		ok = refused(B, o.commit, o.commit_len - cut, BW_ERR_TRUNCATED,
			     BW_ERR_TRUNCATED);
	mls_commit_output_clear(&o);
	teardown();
	return ok;
}

/* ---- application messages (§6.3, §9) ---- */

static bool encrypt(struct mls_group *g, struct bw_bytes *out)
{
	return mls_group_encrypt(g, "x", 1, NULL, 0, &out->p, &out->len) == 0;
}

static bool test_replayed_generation(void)
{
	struct mls_process_result r;
	struct bw_bytes msg;
	bool ok;

	CHECK(setup());
	CHECK(encrypt(A, &msg));
	ok = mls_group_process(B, msg.p, msg.len, &r) == 0;
	mls_process_result_clear(&r);
	ok = ok && refused(B, msg.p, msg.len, MLS_ERR_GENERATION_CONSUMED,
			   DS_SKIP);
	bw_bytes_clear(&msg);
	teardown();
	return ok;
}

/* n messages from A; the receiver gets the last one first. */
static bool burst(size_t n, struct bw_bytes *v)
{
	struct mls_process_result r;
	bool ok;

	for (size_t i = 0; i < n; i++)
		if (!encrypt(A, &v[i]))
			return false;
	ok = mls_group_process(B, v[n - 1].p, v[n - 1].len, &r) == 0;
	mls_process_result_clear(&r);
	return ok;
}

/* Generation 0 after 259: fallen out of the window of retained keys. */
static bool test_too_old_generation(void)
{
	enum { N = MLS_DEFAULT_MAX_RETAINED + 4 };
	struct bw_bytes *v;
	bool ok;

	CHECK(setup());
	CHECK((v = calloc(N, sizeof(*v))) != NULL);
	ok = burst(N, v) && refused(B, v[0].p, v[0].len,
				    MLS_ERR_GENERATION_CONSUMED, DS_SKIP);
	for (size_t i = 0; i < N; i++)
		bw_bytes_clear(&v[i]);
	free(v);
	teardown();
	return ok;
}

static bool test_too_far_generation(void)
{
	enum { N = MLS_DEFAULT_MAX_FORWARD + 2 };
	struct bw_bytes *v;
	bool ok = true;

	CHECK(setup());
	CHECK((v = calloc(N, sizeof(*v))) != NULL);
	for (size_t i = 0; i < N && ok; i++)
		ok = encrypt(A, &v[i]);
	ok = ok && refused(B, v[N - 1].p, v[N - 1].len,
			   MLS_ERR_GENERATION_TOO_FAR, DS_SKIP);
	for (size_t i = 0; i < N; i++)
		bw_bytes_clear(&v[i]);
	free(v);
	teardown();
	return ok;
}

/* msg with byte i of its content ciphertext flipped. */
static bool flip_ciphertext(const struct bw_bytes *msg, size_t i,
			    struct bw_bytes *out)
{
	struct mls_message m;
	struct bw_writer bw;
	bool ok;

	if (mls_message_decode(msg->p, msg->len, &m) != 0)
		return false;
	bw_writer_init(&bw, 0);
	m.private_message.ciphertext.p[i % m.private_message.ciphertext.len] ^=
		1;
	ok = mls_message_encode(&m, &bw) == 0 &&
	     bw_writer_take(&bw, &out->p, &out->len) == 0;
	bw_writer_free(&bw);
	mls_message_clear(&m);
	return ok;
}

/* A flipped byte at the start of the content ciphertext (also the sender
 * data key's sample, §6.3.2) and one in its tag: nothing is used up, the
 * genuine message still decrypts. */
static bool test_tampered_ciphertext(void)
{
	struct bw_bytes msg, first = { 0 }, last = { 0 };
	struct mls_process_result r;
	bool ok;

	CHECK(setup());
	CHECK(encrypt(A, &msg));
	ok = flip_ciphertext(&msg, 0, &first) &&
	     flip_ciphertext(&msg, (size_t)-1, &last) &&
	     refused(B, first.p, first.len, MLS_ERR_AEAD, DS_SKIP) &&
	     refused(B, last.p, last.len, MLS_ERR_AEAD, DS_SKIP) &&
	     mls_group_process(B, msg.p, msg.len, &r) == 0;
	if (ok)
		mls_process_result_clear(&r);
	bw_bytes_clear(&msg);
	bw_bytes_clear(&first);
	bw_bytes_clear(&last);
	teardown();
	return ok;
}

/* §12.4: proposals of the epoch are committed before data is sent. */
static bool test_data_with_pending_proposals(void)
{
	struct bw_bytes msg, data = { 0 };
	bool ok;

	CHECK(setup());
	CHECK(mls_group_propose_update(C, &msg.p, &msg.len) == 0);
	ok = send(&msg, 2) &&
	     mls_group_encrypt(B, "x", 1, NULL, 0, &data.p, &data.len) ==
		     MLS_ERR_PROPOSALS_PENDING &&
	     data.p == NULL;
	bw_bytes_clear(&msg);
	teardown();
	return ok;
}

/* ---- commits (§12.4) ---- */

static bool test_bad_confirmation_tag(void)
{
	struct mls_commit_output o;
	struct mls_authenticated_content ac;
	struct bw_bytes msg = { 0 };
	bool ok;

	CHECK(setup());
	CHECK(mls_group_commit(A, NULL, &o) == 0);
	ok = open_public(o.commit, o.commit_len, &ac);
	if (ok) {
		ac.auth.confirmation_tag.p[0] ^= 1;
		/* The DS cannot check it (no confirmation key). */
		ok = seal(A, &ac, false, &msg) &&
		     refused(B, msg.p, msg.len, MLS_ERR_CONFIRMATION_TAG,
			     DS_SKIP);
	}
	mls_commit_output_clear(&o);
	bw_bytes_clear(&msg);
	teardown();
	return ok;
}

static bool test_bad_parent_hash(void)
{
	struct mls_commit_options opt = { .force_path = true };
	struct mls_commit_output o;
	struct mls_authenticated_content ac;
	struct bw_bytes msg = { 0 };
	struct mls_leaf_node *ln;
	bool ok;

	CHECK(setup());
	CHECK(mls_group_commit(A, &opt, &o) == 0);
	ok = open_public(o.commit, o.commit_len, &ac);
	if (ok) {
		/* The leaf is signed again: only the chain is wrong. */
		ln = &ac.content.commit.path.leaf_node;
		ln->parent_hash.p[0] ^= 1;
		ok = mls_leaf_node_sign(A->st.suite, ln, A->sig_priv.p,
					A->sig_priv.len, A->st.gc.group_id.p,
					A->st.gc.group_id.len, 0) == 0 &&
		     seal(A, &ac, true, &msg) &&
		     refused(B, msg.p, msg.len, MLS_ERR_PARENT_HASH,
			     MLS_ERR_PARENT_HASH);
	}
	mls_commit_output_clear(&o);
	bw_bytes_clear(&msg);
	teardown();
	return ok;
}

/* §7.3: an Update whose new encryption key is another member's. */
static bool test_duplicate_leaf_key(void)
{
	struct mls_authenticated_content ac;
	struct mls_leaf_node *ln;
	struct bw_bytes msg, bad = { 0 };
	const struct mls_leaf_node *c_leaf;
	bool ok;

	CHECK(setup());
	CHECK(mls_group_propose_update(B, &msg.p, &msg.len) == 0);
	ok = open_public(msg.p, msg.len, &ac);
	c_leaf = mls_tree_leaf(D->st.tree, mls_group_own_leaf(C));
	if (ok) {
		ln = &ac.content.proposal.update;
		bw_bytes_clear(&ln->encryption_key);
		ok = bw_bytes_set(&ln->encryption_key, c_leaf->encryption_key.p,
				  c_leaf->encryption_key.len) == 0 &&
		     mls_leaf_node_sign(B->st.suite, ln, B->sig_priv.p,
					B->sig_priv.len, B->st.gc.group_id.p,
					B->st.gc.group_id.len,
					mls_group_own_leaf(B)) == 0 &&
		     seal(B, &ac, true, &bad) &&
		     refused(D, bad.p, bad.len, MLS_ERR_DUPLICATE_KEY,
			     MLS_ERR_DUPLICATE_KEY);
	}
	bw_bytes_clear(&msg);
	bw_bytes_clear(&bad);
	teardown();
	return ok;
}

/* A path node whose key is already in the tree (the chain of parent
 * hashes no longer matches either, but uniqueness is checked first). */
static bool test_duplicate_path_key(void)
{
	struct mls_commit_options opt = { .force_path = true };
	struct mls_commit_output o;
	struct mls_authenticated_content ac;
	struct bw_bytes msg = { 0 };
	const struct mls_leaf_node *c_leaf;
	struct bw_bytes *k;
	bool ok;

	CHECK(setup());
	CHECK(mls_group_commit(A, &opt, &o) == 0);
	c_leaf = mls_tree_leaf(B->st.tree, mls_group_own_leaf(C));
	ok = open_public(o.commit, o.commit_len, &ac) &&
	     ac.content.commit.path.n_nodes > 0;
	if (ok) {
		k = &ac.content.commit.path.nodes[0].encryption_key;
		bw_bytes_clear(k);
		ok = bw_bytes_set(k, c_leaf->encryption_key.p,
				  c_leaf->encryption_key.len) == 0 &&
		     seal(A, &ac, true, &msg) &&
		     refused(B, msg.p, msg.len, MLS_ERR_DUPLICATE_KEY,
			     MLS_ERR_DUPLICATE_KEY);
	} else {
		mls_authenticated_content_clear(&ac);
	}
	mls_commit_output_clear(&o);
	bw_bytes_clear(&msg);
	teardown();
	return ok;
}

/* A commit of A's with v[0..n) and a real path (after removing
 * remove_leaf) or none, refused by B and the DS with want. */
static bool commit_refused(struct mls_proposal_or_ref *v, size_t n,
			   bool with_path, uint32_t remove_leaf, int want)
{
	struct mls_update_path path = { 0 };
	struct bw_bytes msg = { 0 };
	bool ok;

	ok = (!with_path || real_path(A, remove_leaf, &path)) &&
	     craft_commit(A, v, n, with_path ? &path : NULL, &msg) &&
	     refused(B, msg.p, msg.len, want, want);
	mls_update_path_clear(&path);
	bw_bytes_clear(&msg);
	return ok;
}

static bool test_duplicate_adds(void)
{
	struct mls_proposal_or_ref *v = props(2);
	struct mls_proposal q = { 0 };
	bool ok;

	CHECK(setup());
	ok = set_add(&v[0], NULL) &&
	     mls_proposal_copy(&q, &v[0].proposal) == 0;
	v[1].type = MLS_PROPOSAL_OR_REF_PROPOSAL;
	v[1].proposal = q;
	/* Adds need no path (§12.4). */
	ok = ok && commit_refused(v, 2, false, MLS_TM_NONE,
				  MLS_ERR_PROPOSAL_DUPLICATE_ADD);
	teardown();
	return ok;
}

/* A KeyPackage with B's signature key: B is already a member. */
static bool test_add_existing_member(void)
{
	struct mls_proposal_or_ref *v = props(1);
	struct mls_signer *bs = NULL;
	struct mls_member m;
	bool ok;

	CHECK(setup());
	ok = mls_group_member(B, mls_group_own_leaf(B), &m) == 0 &&
	     mls_signer_new(suite, B->sig_priv.p, B->sig_priv.len, &bs) == 0 &&
	     mls_signer_set_credential(bs, m.credential) == 0 &&
	     set_add(&v[0], bs) &&
	     commit_refused(v, 1, false, MLS_TM_NONE,
			    MLS_ERR_PROPOSAL_ADD_MEMBER);
	mls_signer_free(bs);
	teardown();
	return ok;
}

static bool test_duplicate_removes(void)
{
	struct mls_proposal_or_ref *v = props(2);
	uint32_t c;
	bool ok;

	CHECK(setup());
	c = mls_group_own_leaf(C);
	set_remove(&v[0], c);
	set_remove(&v[1], c);
	ok = commit_refused(v, 2, true, c, MLS_ERR_PROPOSAL_SAME_LEAF);
	teardown();
	return ok;
}

static bool test_update_and_remove(void)
{
	struct mls_proposal_or_ref *v = props(2);
	struct bw_bytes msg;
	uint32_t b;
	bool ok;

	CHECK(setup());
	b = mls_group_own_leaf(B);
	CHECK(mls_group_propose_update(B, &msg.p, &msg.len) == 0);
	ok = send(&msg, 1) && set_ref(&v[0], &msg);
	set_remove(&v[1], b);
	ok = ok && commit_refused(v, 2, true, b, MLS_ERR_PROPOSAL_SAME_LEAF);
	bw_bytes_clear(&msg);
	teardown();
	return ok;
}

static bool test_remove_blank_leaf(void)
{
	struct mls_proposal_or_ref *v = props(1);
	uint32_t c;
	bool ok;

	CHECK(setup());
	c = mls_group_own_leaf(C);
	CHECK(mls_group_propose_remove(A, c, NULL, NULL) == 0);
	CHECK(gw_commit(&w, 0, false, NULL, NULL, 0) == 0 && w.n == 3);
	set_remove(&v[0], c);
	ok = commit_refused(v, 1, true, MLS_TM_NONE,
			    MLS_ERR_PROPOSAL_REMOVE_BLANK);
	teardown();
	return ok;
}

/* The committer cannot have a path once its own leaf is gone: the path
 * is left out, a rule checked after this one. */
static bool test_self_remove(void)
{
	struct mls_proposal_or_ref *v = props(1);
	bool ok;

	CHECK(setup());
	set_remove(&v[0], mls_group_own_leaf(A));
	ok = commit_refused(v, 1, false, MLS_TM_NONE,
			    MLS_ERR_PROPOSAL_SELF_REMOVE);
	teardown();
	return ok;
}

static bool test_self_update(void)
{
	struct mls_proposal_or_ref *v = props(1);
	struct bw_bytes msg;
	bool ok;

	CHECK(setup());
	CHECK(mls_group_propose_update(A, &msg.p, &msg.len) == 0);
	ok = send(&msg, 0) && set_ref(&v[0], &msg) &&
	     commit_refused(v, 1, true, MLS_TM_NONE,
			    MLS_ERR_PROPOSAL_SELF_UPDATE);
	bw_bytes_clear(&msg);
	teardown();
	return ok;
}

static bool test_duplicate_psk(void)
{
	struct mls_proposal_or_ref *v = props(2);
	size_t hl;
	bool ok;

	CHECK(setup());
	hl = A->st.suite->hash_len;
	ok = set_psk(&v[0], hl, MLS_PSK_EXTERNAL, 0) &&
	     set_psk(&v[1], hl, MLS_PSK_EXTERNAL, 0) &&
	     commit_refused(v, 2, false, MLS_TM_NONE,
			    MLS_ERR_PROPOSAL_DUPLICATE_PSK);
	teardown();
	return ok;
}

static bool test_psk_nonce(void)
{
	struct mls_proposal_or_ref *v = props(1);
	bool ok;

	CHECK(setup());
	ok = set_psk(&v[0], 5, MLS_PSK_EXTERNAL, 0) &&
	     commit_refused(v, 1, false, MLS_TM_NONE, MLS_ERR_PSK_NONCE);
	teardown();
	return ok;
}

/* §11.2: a reinit PSK belongs in a Welcome, never in a proposal. */
static bool test_psk_usage(void)
{
	struct mls_proposal_or_ref *v = props(1);
	bool ok;

	CHECK(setup());
	ok = set_psk(&v[0], A->st.suite->hash_len, MLS_PSK_RESUMPTION,
		     MLS_PSK_USAGE_REINIT) &&
	     commit_refused(v, 1, false, MLS_TM_NONE, MLS_ERR_PSK_USAGE);
	teardown();
	return ok;
}

static bool test_multiple_gce(void)
{
	struct mls_proposal_or_ref *v = props(2);
	bool ok;

	CHECK(setup());
	ok = set_gce(&v[0], &A->st.gc.extensions) &&
	     set_gce(&v[1], &A->st.gc.extensions) &&
	     commit_refused(v, 2, true, MLS_TM_NONE,
			    MLS_ERR_PROPOSAL_MULTIPLE_GCE);
	teardown();
	return ok;
}

/* §11.1: required capabilities some members lack. */
static bool test_gce_unsupported(void)
{
	static const uint16_t unknown = 0xff01;
	struct mls_proposal_or_ref *v = props(1);
	struct mls_extensions *ext = NULL;
	bool ok;

	CHECK(setup());
	ok = mls_extensions_new(&ext) == 0 &&
	     mls_extensions_set_required_capabilities(ext, &unknown, 1, NULL,
						      0, NULL, 0) == 0 &&
	     set_gce(&v[0], &ext->list) &&
	     commit_refused(v, 1, true, MLS_TM_NONE, MLS_ERR_CAPABILITIES);
	mls_extensions_free(ext);
	teardown();
	return ok;
}

/* §12.1.7: a known extension that does not parse. */
static bool test_gce_malformed(void)
{
	struct mls_proposal_or_ref *v = props(1);
	struct mls_extensions *ext = NULL;
	bool ok;

	CHECK(setup());
	ok = mls_extensions_new(&ext) == 0 &&
	     mls_extensions_set(ext, MLS_EXT_EXTERNAL_SENDERS,
				(const uint8_t *)"\x05junk", 5) == 0 &&
	     set_gce(&v[0], &ext->list) &&
	     commit_refused(v, 1, true, MLS_TM_NONE, MLS_ERR_PROPOSAL_INVALID);
	mls_extensions_free(ext);
	teardown();
	return ok;
}

static bool set_reinit(struct mls_proposal_or_ref *p, uint16_t version)
{
	p->type = MLS_PROPOSAL_OR_REF_PROPOSAL;
	p->proposal.type = MLS_PROPOSAL_REINIT;
	p->proposal.reinit.version = version;
	p->proposal.reinit.cipher_suite = suite;
	return bw_bytes_set(&p->proposal.reinit.group_id, "new", 3) == 0;
}

static bool test_reinit_not_alone(void)
{
	struct mls_proposal_or_ref *v = props(2);
	bool ok;

	CHECK(setup());
	ok = set_reinit(&v[0], MLS_PROTOCOL_VERSION_MLS10) &&
	     set_psk(&v[1], A->st.suite->hash_len, MLS_PSK_EXTERNAL, 0) &&
	     commit_refused(v, 2, false, MLS_TM_NONE,
			    MLS_ERR_PROPOSAL_REINIT_NOT_ALONE);
	teardown();
	return ok;
}

static bool test_reinit_version(void)
{
	struct mls_proposal_or_ref *v = props(1);
	bool ok;

	CHECK(setup());
	ok = set_reinit(&v[0], 0) &&
	     commit_refused(v, 1, false, MLS_TM_NONE, MLS_ERR_REINIT_VERSION);
	teardown();
	return ok;
}

static bool test_external_init_in_member_commit(void)
{
	struct mls_proposal_or_ref *v = props(1);
	bool ok;

	CHECK(setup());
	v[0].type = MLS_PROPOSAL_OR_REF_PROPOSAL;
	v[0].proposal.type = MLS_PROPOSAL_EXTERNAL_INIT;
	ok = bw_bytes_set(&v[0].proposal.external_init, "kem", 3) == 0 &&
	     commit_refused(v, 1, true, MLS_TM_NONE,
			    MLS_ERR_PROPOSAL_EXTERNAL_INIT);
	teardown();
	return ok;
}

static bool test_unknown_reference(void)
{
	struct mls_proposal_or_ref *v = props(1);
	size_t hl;
	bool ok;

	CHECK(setup());
	hl = A->st.suite->hash_len;
	v[0].type = MLS_PROPOSAL_OR_REF_REFERENCE;
	ok = bw_bytes_alloc(&v[0].reference, hl) == 0 &&
	     mls_random(v[0].reference.p, hl) == 0 &&
	     commit_refused(v, 1, true, MLS_TM_NONE,
			    MLS_ERR_PROPOSAL_UNKNOWN);
	teardown();
	return ok;
}

/* §12.4: a Remove requires a path, and so does an empty commit. */
static bool test_missing_path(void)
{
	struct mls_proposal_or_ref *v = props(1);
	bool ok;

	CHECK(setup());
	set_remove(&v[0], mls_group_own_leaf(C));
	ok = commit_refused(v, 1, false, MLS_TM_NONE, MLS_ERR_PATH_REQUIRED) &&
	     commit_refused(NULL, 0, false, MLS_TM_NONE,
			    MLS_ERR_PATH_REQUIRED);
	teardown();
	return ok;
}

/* A member's own commit, echoed after it dropped the pending state. */
static bool test_own_commit_without_pending(void)
{
	struct mls_commit_output o;
	bool ok;

	CHECK(setup());
	CHECK(mls_group_commit(A, NULL, &o) == 0);
	ok = mls_group_commit(A, NULL, &(struct mls_commit_output){ 0 }) ==
		     MLS_ERR_STATE;
	mls_group_discard_pending_commit(A);
	ok = ok && refused(A, o.commit, o.commit_len, MLS_ERR_OWN_COMMIT,
			   DS_SKIP);
	mls_commit_output_clear(&o);
	teardown();
	return ok;
}

/* B proposes an external PSK (a fresh nonce each time: distinct). */
static int psk_proposal(struct mls_group *g, struct bw_bytes *msg)
{
	bw_bytes_clear(msg);
	return mls_group_propose_external_psk(g, (const uint8_t *)GW_PSK_ID,
					      strlen(GW_PSK_ID), &msg->p,
					      &msg->len);
}

/* The epoch's proposals are bounded: one more is refused, unchanged, by
 * a receiver and by the sender's own cache. */
static bool test_too_many_proposals(void)
{
	struct mls_process_result r;
	struct bw_bytes msg = { 0 };
	bool ok = true;

	CHECK(setup());
	for (size_t i = 0; i < MLS_GROUP_MAX_PROPOSALS && ok; i++) {
		ok = psk_proposal(B, &msg) == 0 &&
		     mls_group_process(D, msg.p, msg.len, &r) == 0;
		mls_process_result_clear(&r);
	}
	ok = ok && psk_proposal(B, &msg) == MLS_ERR_TOO_MANY_PROPOSALS &&
	     psk_proposal(C, &msg) == 0 &&
	     refused(D, msg.p, msg.len, MLS_ERR_TOO_MANY_PROPOSALS, DS_SKIP);
	bw_bytes_clear(&msg);
	teardown();
	return ok;
}

/* ---- the end of membership (§12.4.2, §11.2) ---- */

/* A's commit, processed by g; its result in *r. */
static bool commit_to(struct mls_group *g, struct mls_process_result *r)
{
	struct mls_commit_output o;
	bool ok;

	if (mls_group_commit(A, NULL, &o) != 0)
		return false;
	ok = mls_group_process(g, o.commit, o.commit_len, r) == 0;
	mls_commit_output_clear(&o);
	return ok;
}

/* g, inactive, neither sends nor processes. */
static bool inactive(struct mls_group *g)
{
	struct mls_commit_output o;
	struct mls_process_result r;
	struct bw_bytes msg = { 0 };

	return !mls_group_active(g) &&
	       mls_group_encrypt(g, "x", 1, NULL, 0, &msg.p, &msg.len) ==
		       MLS_ERR_GROUP_INACTIVE &&
	       mls_group_commit(g, NULL, &o) == MLS_ERR_GROUP_INACTIVE &&
	       mls_group_propose_remove(g, 0, &msg.p, &msg.len) ==
		       MLS_ERR_GROUP_INACTIVE &&
	       mls_group_process(g, (const uint8_t *)"x", 1, &r) ==
		       MLS_ERR_GROUP_INACTIVE;
}

/* Removed, the member stays inactive, across a restart too. */
static bool test_removed_member_inactive(void)
{
	struct mls_process_result r = { 0 };
	bool ok;

	CHECK(setup());
	ok = mls_group_propose_remove(A, mls_group_own_leaf(C), NULL, NULL) ==
		     0 &&
	     commit_to(C, &r) && r.removed_self && r.n_removed == 1 &&
	     inactive(C) && gw_reload(&w, 2) == 0 && inactive(C);
	mls_process_result_clear(&r);
	teardown();
	return ok;
}

/* A ReInit ends the group's use: no member sends in it any more. */
static bool test_reinit_ends_group(void)
{
	struct mls_process_result r = { 0 };
	bool ok;

	CHECK(setup());
	ok = mls_group_propose_reinit(A, (const uint8_t *)"next", 4, suite,
				      NULL, NULL, NULL) == 0 &&
	     commit_to(B, &r) && r.reinit && inactive(B) &&
	     mls_group_merge_pending_commit(A) == 0 && inactive(A) &&
	     gw_reload(&w, 1) == 0 && inactive(B);
	mls_process_result_clear(&r);
	teardown();
	return ok;
}

/* A new KeyPackage for member i's client (its signature key). */
static bool member_key_package(size_t i, struct mls_key_package_bundle **b,
			       uint8_t **kp, size_t *len)
{
	struct mls_group *g = w.m[i].g;
	struct mls_signer *s = NULL;
	struct mls_member m;
	bool ok;

	ok = mls_group_member(g, mls_group_own_leaf(g), &m) == 0 &&
	     mls_signer_new(suite, g->sig_priv.p, g->sig_priv.len, &s) == 0 &&
	     mls_signer_set_credential(s, m.credential) == 0 &&
	     mls_key_package_bundle_new(&w.cfg, s, b) == 0 &&
	     mls_key_package_bundle_message(*b, kp, len) == 0;
	mls_signer_free(s);
	return ok;
}

/* §11.2: after the ReInit commit, A makes the group that continues it and
 * adds B; B joins it as the continuation of its old group. A Welcome of
 * the new group is no ordinary Welcome, and an ordinary one is no
 * continuation. */
static bool test_reinit_successor(void)
{
	struct mls_key_package_bundle *b = NULL;
	const struct mls_key_package_bundle *bp;
	struct mls_commit_output o = { 0 }, o2 = { 0 };
	struct mls_process_result r = { 0 };
	struct mls_group *na = NULL, *nb = NULL, *x = (struct mls_group *)1;
	struct mls_signer *as = NULL;
	struct mls_member m;
	uint8_t ea[MLS_MAX_SECRET_LEN], eb[MLS_MAX_SECRET_LEN];
	uint8_t *kp = NULL;
	size_t kp_len, na_len, nb_len;
	bool ok;

	CHECK(setup());
	ok = mls_group_propose_reinit(A, (const uint8_t *)"next", 4, suite,
				      NULL, NULL, NULL) == 0 &&
	     commit_to(B, &r) && mls_group_merge_pending_commit(A) == 0 &&
	     mls_group_member(A, 0, &m) == 0 &&
	     mls_signer_new(suite, A->sig_priv.p, A->sig_priv.len, &as) == 0 &&
	     mls_signer_set_credential(as, m.credential) == 0 &&
	     mls_group_create_reinit(&w.cfg, A, as, &na) == 0 &&
	     member_key_package(1, &b, &kp, &kp_len) &&
	     mls_group_propose_add(na, kp, kp_len, NULL, NULL) == 0 &&
	     mls_group_commit(na, &(struct mls_commit_options){
					  .ratchet_tree = true },
			      &o) == 0 &&
	     mls_group_merge_pending_commit(na) == 0;
	bp = b;
	/* Not as an ordinary Welcome; then as B's continuation. */
	ok = ok && mls_group_join(&w.cfg, &bp, 1, o.welcome, o.welcome_len,
				  NULL, 0, &x) == MLS_ERR_WELCOME_PSK &&
	     x == NULL &&
	     mls_group_join_reinit(&w.cfg, B, &bp, 1, o.welcome,
				   o.welcome_len, NULL, 0, &nb) == 0;
	if (ok) {
		mls_group_epoch_authenticator(na, ea, &na_len);
		mls_group_epoch_authenticator(nb, eb, &nb_len);
		ok = mls_group_epoch(nb) == 1 && na_len == nb_len &&
		     memcmp(ea, eb, na_len) == 0;
	}
	/* An ordinary Welcome (the new group's next add) is no
	 * continuation of B's old group. */
	mls_key_package_bundle_free(b);
	free(kp);
	b = NULL;
	kp = NULL;
	ok = ok && member_key_package(2, &b, &kp, &kp_len) &&
	     mls_group_propose_add(na, kp, kp_len, NULL, NULL) == 0 &&
	     mls_group_commit(na, &(struct mls_commit_options){
					  .ratchet_tree = true },
			      &o2) == 0;
	bp = b;
	ok = ok && mls_group_join_reinit(&w.cfg, B, &bp, 1, o2.welcome,
					 o2.welcome_len, NULL, 0, &x) ==
			   MLS_ERR_WELCOME_PSK;
	mls_process_result_clear(&r);
	mls_commit_output_clear(&o);
	mls_commit_output_clear(&o2);
	mls_group_free(na);
	mls_group_free(nb);
	mls_key_package_bundle_free(b);
	mls_signer_free(as);
	free(kp);
	teardown();
	return ok;
}

/* ---- external commits and senders (§12.1.8, §12.4.3.2) ---- */

/* A signer of another suite cannot join this group. */
static bool test_external_suite_mismatch(void)
{
	struct mls_external_join p = { .group_info = w.group_info,
				       .group_info_len = w.group_info_len };
	struct mls_credential *c = NULL;
	struct mls_signer *s = NULL;
	struct mls_group *g = NULL;
	uint8_t *commit = NULL;
	size_t len;
	bool ok;

	CHECK(setup());
	p.group_info = w.group_info;
	p.group_info_len = w.group_info_len;
	ok = mls_credential_new_basic("client-x", 8, &c) == 0 &&
	     mls_signer_new(suite == 1 ? 2 : 1, NULL, 0, &s) == 0 &&
	     mls_signer_set_credential(s, c) == 0 &&
	     mls_group_join_external(&w.cfg, s, &p, &commit, &len, &g) ==
		     MLS_ERR_SUITE_MISMATCH &&
	     g == NULL && commit == NULL;
	mls_credential_free(c);
	mls_signer_free(s);
	teardown();
	return ok;
}

/* An outsider's external commit, opened for changes. */
static bool external_commit(struct mls_signer **s,
			    struct mls_authenticated_content *ac,
			    bool resync_b)
{
	struct mls_external_join p = { .group_info = w.group_info,
				       .group_info_len = w.group_info_len };
	struct mls_group *g = NULL;
	uint8_t *commit = NULL, *tree = NULL;
	size_t len, tree_len = 0;
	int id, rc;
	bool ok;

	p.resync = resync_b;
	p.resync_leaf = mls_group_own_leaf(B);
	ok = mls_public_group_ratchet_tree(w.ds, &tree, &tree_len) == 0 &&
	     gw_new_signer(&w, s, &id) == 0;
	p.ratchet_tree = tree;
	p.ratchet_tree_len = tree_len;
	if (ok && (rc = mls_group_join_external(&w.cfg, *s, &p, &commit, &len,
						&g)) != 0) {
		fprintf(stderr, "external join: %s\n", mls_strerror(rc));
		ok = false;
	}
	ok = ok && open_public(commit, len, ac);
	mls_group_free(g);
	free(commit);
	free(tree);
	return ok;
}

/* The external commit ac, signed again by s with the group's context. */
static bool external_seal(struct mls_signer *s,
			  struct mls_authenticated_content *ac,
			  struct bw_bytes *out)
{
	struct mls_framing_ctx ctx;
	struct bw_writer bw;
	const uint8_t *priv;
	size_t n;
	bool ok;

	mls_signer_private_key(s, &priv, &n);
	mls_group_framing(B, &ctx);
	bw_writer_init(&bw, 0);
	ok = mls_framed_content_sign(&ctx, ac, priv, n) == 0 &&
	     mls_public_message_protect(&ctx, ac, &bw) == 0 &&
	     bw_writer_take(&bw, &out->p, &out->len) == 0;
	bw_writer_free(&bw);
	mls_authenticated_content_clear(ac);
	return ok;
}

/* Replace an external commit's proposals with v[0..n). */
static bool external_refused(struct mls_proposal_or_ref *v, size_t n,
			     bool keep_init, int want)
{
	struct mls_authenticated_content ac;
	struct mls_signer *s = NULL;
	struct mls_commit *c = &ac.content.commit;
	struct bw_bytes msg = { 0 };
	bool ok;

	ok = external_commit(&s, &ac, false);
	if (ok) {
		/* Keep the ExternalInit (first) if asked, then v. */
		struct mls_proposal_or_ref *nv = props(n + 1);
		size_t k = 0;

		if (keep_init)
			nv[k++] = c->proposals[0];
		else
			mls_proposal_clear(&c->proposals[0].proposal);
		for (size_t i = 1; i < c->n_proposals; i++)
			mls_proposal_clear(&c->proposals[i].proposal);
		free(c->proposals);
		memcpy(&nv[k], v, n * sizeof(*v));
		free(v);
		c->proposals = nv;
		c->n_proposals = k + n;
		ok = external_seal(s, &ac, &msg) &&
		     refused(B, msg.p, msg.len, want, want);
	} else {
		free(v);
	}
	mls_signer_free(s);
	bw_bytes_clear(&msg);
	return ok;
}

static bool test_external_without_init(void)
{
	struct mls_proposal_or_ref *v = props(1);
	bool ok;

	CHECK(setup());
	ok = set_psk(&v[0], A->st.suite->hash_len, MLS_PSK_EXTERNAL, 0) &&
	     external_refused(v, 1, false, MLS_ERR_EXTERNAL_INIT_COUNT);
	teardown();
	return ok;
}

static bool test_external_by_reference(void)
{
	struct mls_proposal_or_ref *v = props(1);
	struct bw_bytes msg;
	bool ok;

	CHECK(setup());
	CHECK(mls_group_propose_update(C, &msg.p, &msg.len) == 0);
	ok = send(&msg, 2) && set_ref(&v[0], &msg) &&
	     external_refused(v, 1, true, MLS_ERR_EXTERNAL_BY_REFERENCE);
	bw_bytes_clear(&msg);
	teardown();
	return ok;
}

static bool test_external_with_add(void)
{
	struct mls_proposal_or_ref *v = props(1);
	bool ok;

	CHECK(setup());
	ok = set_add(&v[0], NULL) &&
	     external_refused(v, 1, true, MLS_ERR_EXTERNAL_PROPOSALS);
	teardown();
	return ok;
}

/* §12.2: a "resync" may remove only an old appearance of the joiner. */
static bool test_external_resync_other(void)
{
	struct mls_authenticated_content ac;
	struct mls_signer *s = NULL;
	struct bw_bytes msg = { 0 };
	bool ok;

	CHECK(setup());
	ok = external_commit(&s, &ac, true) && external_seal(s, &ac, &msg) &&
	     refused(C, msg.p, msg.len, MLS_ERR_CREDENTIAL,
		     MLS_ERR_CREDENTIAL);
	mls_signer_free(s);
	bw_bytes_clear(&msg);
	teardown();
	return ok;
}

/* An external proposal from a sender the group does not list. */
static bool test_unlisted_external_sender(void)
{
	struct mls_authenticated_content ac = { 0 };
	struct mls_framing_ctx ctx;
	struct mls_signer *s = NULL;
	struct bw_bytes msg = { 0 };
	struct bw_writer bw;
	const uint8_t *priv;
	size_t n;
	int id;
	bool ok;

	CHECK(setup());
	ac.wire_format = MLS_WIRE_FORMAT_PUBLIC_MESSAGE;
	ac.content.epoch = B->st.gc.epoch;
	ac.content.sender.type = MLS_SENDER_EXTERNAL;
	ac.content.sender.index = 1; /* the group lists one, index 0 */
	ac.content.content_type = MLS_CONTENT_PROPOSAL;
	ac.content.proposal.type = MLS_PROPOSAL_REMOVE;
	ac.content.proposal.remove = mls_group_own_leaf(C);
	mls_group_framing(B, &ctx);
	bw_writer_init(&bw, 0);
	ok = gw_new_signer(&w, &s, &id) == 0 &&
	     bw_bytes_set(&ac.content.group_id, B->st.gc.group_id.p,
			  B->st.gc.group_id.len) == 0;
	if (ok) {
		mls_signer_private_key(s, &priv, &n);
		ok = mls_framed_content_sign(&ctx, &ac, priv, n) == 0 &&
		     mls_public_message_protect(&ctx, &ac, &bw) == 0 &&
		     bw_writer_take(&bw, &msg.p, &msg.len) == 0 &&
		     refused(B, msg.p, msg.len, MLS_ERR_EXTERNAL_SENDER,
			     MLS_ERR_EXTERNAL_SENDER);
	}
	/* And the DS's own call, for a signer the group does not list. */
	bw_bytes_clear(&msg);
	ok = ok && mls_public_group_external_remove(w.ds, s, 0, &msg.p,
						    &msg.len) ==
			   MLS_ERR_EXTERNAL_SENDER;
	mls_authenticated_content_clear(&ac);
	mls_signer_free(s);
	bw_writer_free(&bw);
	bw_bytes_clear(&msg);
	teardown();
	return ok;
}

/* ---- Welcome (§12.4.3.1) ---- */

/* A's commit adding one client; *b is its bundle. */
static bool commit_add(bool with_tree, struct mls_key_package_bundle **b,
		       struct mls_commit_output *o)
{
	struct mls_commit_options opt = { .ratchet_tree = with_tree };
	struct mls_signer *s = NULL;
	uint8_t *kp = NULL;
	size_t len;
	int id;
	bool ok;

	ok = gw_new_signer(&w, &s, &id) == 0 &&
	     mls_key_package_bundle_new(&w.cfg, s, b) == 0 &&
	     mls_key_package_bundle_message(*b, &kp, &len) == 0 &&
	     mls_group_propose_add(A, kp, len, NULL, NULL) == 0 &&
	     mls_group_commit(A, &opt, o) == 0;
	free(kp);
	mls_signer_free(s);
	return ok;
}

static bool test_welcome_errors(void)
{
	struct mls_key_package_bundle *b = NULL, *other = NULL;
	const struct mls_key_package_bundle *bp;
	struct mls_commit_output o;
	struct mls_signer *s = NULL;
	struct mls_group *g = NULL;
	uint8_t *old_tree = NULL;
	size_t old_len;
	int id;
	bool ok;

	CHECK(setup());
	CHECK(mls_group_ratchet_tree(A, &old_tree, &old_len) == 0);
	ok = commit_add(false, &b, &o) && gw_new_signer(&w, &s, &id) == 0 &&
	     mls_key_package_bundle_new(&w.cfg, s, &other) == 0 &&
	     mls_group_merge_pending_commit(A) == 0;
	/* A KeyPackage the Welcome is not for. */
	bp = other;
	ok = ok && mls_group_join(&w.cfg, &bp, 1, o.welcome, o.welcome_len,
				  NULL, 0, &g) == MLS_ERR_WELCOME_NO_MATCH;
	/* No tree in the Welcome and none given. */
	bp = b;
	ok = ok && mls_group_join(&w.cfg, &bp, 1, o.welcome, o.welcome_len,
				  NULL, 0, &g) == MLS_ERR_TREE_MISSING;
	/* The tree of the previous epoch: not the signed tree hash. */
	ok = ok && mls_group_join(&w.cfg, &bp, 1, o.welcome, o.welcome_len,
				  old_tree, old_len, &g) == MLS_ERR_TREE_HASH;
	ok = ok && g == NULL;
	mls_commit_output_clear(&o);
	mls_key_package_bundle_free(b);
	mls_key_package_bundle_free(other);
	mls_signer_free(s);
	free(old_tree);
	teardown();
	return ok;
}

/* §12.4.3.1: at most one PSK of usage reinit or branch in a Welcome. The
 * GroupSecrets are refused before anything else is read. */
static bool test_welcome_two_reinit_psks(void)
{
	struct mls_key_package_bundle *b = NULL;
	const struct mls_key_package_bundle *bp;
	const struct mls_suite *s = mls_suite_get(suite);
	struct mls_welcome wl = { .cipher_suite = suite, .n_secrets = 1 };
	struct mls_proposal_or_ref psk[2] = { 0 };
	struct mls_group *g = NULL;
	struct mls_signer *sg = NULL;
	struct bw_writer gs, msg;
	uint8_t joiner[MLS_MAX_HASH_LEN] = { 7 };
	size_t mark;
	int id;
	bool ok;

	CHECK(setup());
	bw_writer_init(&gs, 0);
	bw_writer_init(&msg, 0);
	ok = gw_new_signer(&w, &sg, &id) == 0 &&
	     mls_key_package_bundle_new(&w.cfg, sg, &b) == 0 &&
	     (wl.secrets = calloc(1, sizeof(*wl.secrets))) != NULL &&
	     set_psk(&psk[0], s->hash_len, MLS_PSK_RESUMPTION,
		     MLS_PSK_USAGE_REINIT) &&
	     set_psk(&psk[1], s->hash_len, MLS_PSK_RESUMPTION,
		     MLS_PSK_USAGE_BRANCH) &&
	     bw_bytes_set(&wl.encrypted_group_info, "gi", 2) == 0;
	/* GroupSecrets { joiner_secret, no path secret, psks }. */
	bw_write_opaque(&gs, joiner, s->hash_len);
	bw_write_optional(&gs, false);
	mark = bw_write_vector_begin(&gs);
	mls_pre_shared_key_id_encode(&psk[0].proposal.psk, &gs);
	mls_pre_shared_key_id_encode(&psk[1].proposal.psk, &gs);
	bw_write_vector_end(&gs, mark);
	bw_write_u16(&msg, MLS_PROTOCOL_VERSION_MLS10);
	bw_write_u16(&msg, MLS_WIRE_FORMAT_WELCOME);
	ok = ok && gs.err == 0 &&
	     bw_bytes_set(&wl.secrets[0].new_member, b->ref, s->hash_len) ==
		     0 &&
	     mls_encrypt_with_label(
		     s, b->kp.init_key.p, b->kp.init_key.len, "Welcome",
		     wl.encrypted_group_info.p, wl.encrypted_group_info.len,
		     gs.buf, gs.len,
		     &wl.secrets[0].encrypted_group_secrets.kem_output,
		     &wl.secrets[0].encrypted_group_secrets.ciphertext) == 0 &&
	     mls_welcome_encode(&wl, &msg) == 0;
	bp = b;
	ok = ok && mls_group_join(&w.cfg, &bp, 1, msg.buf, msg.len, NULL, 0,
				  &g) == MLS_ERR_WELCOME_PSK &&
	     g == NULL;
	mls_proposal_clear(&psk[0].proposal);
	mls_proposal_clear(&psk[1].proposal);
	mls_welcome_clear(&wl);
	bw_writer_free(&gs);
	bw_writer_free(&msg);
	mls_key_package_bundle_free(b);
	mls_signer_free(sg);
	teardown();
	return ok;
}

/* ---- state and the DS view ---- */

static bool test_corrupt_state(void)
{
	uint8_t key[MLS_STATE_KEY_LEN] = { 1 };
	struct mls_group *g = (struct mls_group *)1;
	uint8_t *state = NULL;
	size_t len;
	bool ok;

	CHECK(setup());
	CHECK(mls_group_save(B, w.state_key, &state, &len) == 0);
	ok = mls_group_load(&w.cfg, key, state, len, &g) ==
		     MLS_ERR_STATE_CORRUPT &&
	     g == NULL;
	state[len / 2] ^= 1;
	ok = ok && mls_group_load(&w.cfg, w.state_key, state, len, &g) ==
			   MLS_ERR_STATE_CORRUPT;
	state[len / 2] ^= 1;
	ok = ok && mls_group_load(&w.cfg, w.state_key, state, len - 1, &g) ==
			   MLS_ERR_STATE_CORRUPT;
	ok = ok && mls_group_load(&w.cfg, w.state_key, state, len, &g) == 0;
	mls_group_free(g);
	free(state);
	teardown();
	return ok;
}

/* The DS keeps only a GroupInfo of the state it follows. */
static bool test_stale_group_info(void)
{
	uint8_t *old = NULL;
	size_t len;
	bool ok;

	CHECK(setup());
	CHECK(mls_group_group_info(A, false, &old, &len) == 0);
	ok = mls_public_group_check_group_info(w.ds, old, len) == 0 &&
	     gw_commit(&w, 1, false, NULL, NULL, 0) == 0 &&
	     mls_public_group_check_group_info(w.ds, old, len) ==
		     MLS_ERR_GROUP_INFO_MISMATCH;
	free(old);
	teardown();
	return ok;
}

int main(void)
{
	static const uint16_t suites[] = {
		MLS_SUITE_X25519_AES128GCM_SHA256_ED25519,
		MLS_SUITE_P256_AES128GCM_SHA256_P256,
		MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519,
	};
	int failed = 0;

	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		suite = suites[i];
		printf("suite %u\n", suite);
		RUN(test_forged_signature, &failed);
		RUN(test_membership_tag, &failed);
		RUN(test_wrong_epoch, &failed);
		RUN(test_wrong_group, &failed);
		RUN(test_removed_member, &failed);
		RUN(test_truncated, &failed);
		RUN(test_replayed_generation, &failed);
		RUN(test_too_old_generation, &failed);
		RUN(test_too_far_generation, &failed);
		RUN(test_tampered_ciphertext, &failed);
		RUN(test_data_with_pending_proposals, &failed);
		RUN(test_bad_confirmation_tag, &failed);
		RUN(test_bad_parent_hash, &failed);
		RUN(test_duplicate_leaf_key, &failed);
		RUN(test_duplicate_path_key, &failed);
		RUN(test_duplicate_adds, &failed);
		RUN(test_add_existing_member, &failed);
		RUN(test_duplicate_removes, &failed);
		RUN(test_update_and_remove, &failed);
		RUN(test_remove_blank_leaf, &failed);
		RUN(test_self_remove, &failed);
		RUN(test_self_update, &failed);
		RUN(test_duplicate_psk, &failed);
		RUN(test_psk_nonce, &failed);
		RUN(test_psk_usage, &failed);
		RUN(test_multiple_gce, &failed);
		RUN(test_gce_unsupported, &failed);
		RUN(test_gce_malformed, &failed);
		RUN(test_reinit_not_alone, &failed);
		RUN(test_reinit_version, &failed);
		RUN(test_external_init_in_member_commit, &failed);
		RUN(test_unknown_reference, &failed);
		RUN(test_missing_path, &failed);
		RUN(test_own_commit_without_pending, &failed);
		RUN(test_too_many_proposals, &failed);
		RUN(test_removed_member_inactive, &failed);
		RUN(test_reinit_ends_group, &failed);
		RUN(test_reinit_successor, &failed);
		RUN(test_external_suite_mismatch, &failed);
		RUN(test_external_without_init, &failed);
		RUN(test_external_by_reference, &failed);
		RUN(test_external_with_add, &failed);
		RUN(test_external_resync_other, &failed);
		RUN(test_unlisted_external_sender, &failed);
		RUN(test_welcome_errors, &failed);
		RUN(test_welcome_two_reinit_psks, &failed);
		RUN(test_corrupt_state, &failed);
		RUN(test_stale_group_info, &failed);
	}
	return failed ? 1 : 0;
}

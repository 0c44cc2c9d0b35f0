/*
 * commit.c - commits (RFC 9420 §12.4): the steps shared by members and the
 * delivery service, creating a commit (§12.4.1), processing one (§12.4.2)
 * and the pending commit's merge.
 *
 * Every step that can fail runs before the first change to the group: the
 * tree's changes are in a savepoint, the private view is a copy, the new
 * secrets and secret tree are built aside. Only then is the new epoch
 * installed, by functions that cannot fail.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "group_internal.h"
#include "msg_internal.h"
#include "transcript.h"

/* ---- the shared steps ---- */

void mls_commit_state_clear(struct mls_commit_state *cs,
			    struct mls_public_state *st)
{
	if (cs->sp_open)
		mls_tree_rollback_to(st->tree, &cs->sp);
	free(cs->v);
	free(cs->joiners);
	mls_member_changes_free(cs->removed, cs->n_removed);
	mls_group_context_clear(&cs->next);
	mls_external_senders_clear(&cs->next_senders);
	memset(cs, 0, sizeof(*cs));
}

void mls_commit_state_release(struct mls_commit_state *cs,
			      struct mls_public_state *st)
{
	if (cs->sp_open)
		mls_tree_release(st->tree, &cs->sp);
	cs->sp_open = false;
}

int mls_commit_merge_path(struct mls_commit_state *cs,
			  struct mls_public_state *st,
			  const struct mls_update_path *path)
{
	const struct mls_leaf_node *ln = &path->leaf_node;
	struct mls_leaf_policy pol;
	int rc;

	/* §12.4.2: an external committer takes the leftmost free leaf of
	 * the tree the proposals made. */
	if (cs->external) {
		cs->committer = mls_tree_free_leaf(st->tree);
		if ((rc = mls_tree_reserve_leaf(st->tree, cs->committer)) != 0)
			return rc;
	}
	mls_public_state_leaf_policy(st, cs->extensions, true, &pol);
	if ((rc = mls_leaf_node_validate(st->suite, ln, MLS_LEAF_SOURCE_COMMIT,
					 st->gc.group_id.p, st->gc.group_id.len,
					 cs->committer, &pol)) != 0 ||
	    (rc = mls_tree_leaf_compatible(st->tree, ln, cs->committer)) != 0)
		return rc;
	/* §12.2: a "resync" joiner must be the client it removes. */
	if (cs->external && cs->n_removed == 1 &&
	    !mls_credential_same_identity(cs->removed[0].credential,
					  &ln->credential))
		return MLS_ERR_CREDENTIAL;
	return mls_treekem_merge(st->tree, cs->committer, path);
}

int mls_commit_provisional_context(struct mls_commit_state *cs,
				   struct mls_public_state *st,
				   struct bw_writer *w)
{
	const struct mls_suite *s = st->suite;
	struct mls_group_context *next = &cs->next;
	uint8_t th[MLS_MAX_HASH_LEN];
	int rc;

	mls_group_context_clear(next);
	next->version = st->gc.version;
	next->cipher_suite = st->gc.cipher_suite;
	next->epoch = st->gc.epoch + 1;
	if ((rc = bw_bytes_set(&next->group_id, st->gc.group_id.p,
			       st->gc.group_id.len)) != 0 ||
	    (rc = mls_tree_hash(st->tree, th)) != 0 ||
	    (rc = bw_bytes_set(&next->tree_hash, th, s->hash_len)) != 0 ||
	    (rc = bw_bytes_set(&next->confirmed_transcript_hash,
			       st->gc.confirmed_transcript_hash.p,
			       st->gc.confirmed_transcript_hash.len)) != 0 ||
	    (rc = mls_extension_list_copy(&next->extensions,
					  cs->extensions)) != 0)
		return rc;
	return w != NULL ? mls_group_context_encode(next, w) : 0;
}

int mls_commit_confirm_context(struct mls_commit_state *cs,
			       const struct mls_public_state *st,
			       const struct mls_authenticated_content *ac)
{
	const struct mls_suite *s = st->suite;
	uint8_t h[MLS_MAX_HASH_LEN];
	int rc;

	if ((rc = mls_confirmed_transcript_hash(s, st->interim, s->hash_len,
						ac, h)) != 0)
		return rc;
	bw_bytes_clear(&cs->next.confirmed_transcript_hash);
	return bw_bytes_set(&cs->next.confirmed_transcript_hash, h,
			    s->hash_len);
}

/* A result entry for each member the commit added: the joiners of Adds
 * and an external committer. */
static int result_added(const struct mls_commit_state *cs,
			const struct mls_public_state *st,
			struct mls_process_result *res)
{
	size_t n = cs->n_joiners + (cs->external ? 1 : 0);
	const struct mls_leaf_node *ln;
	int rc;

	if (n == 0)
		return 0;
	if ((res->added = calloc(n, sizeof(*res->added))) == NULL)
		return BW_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t leaf = i < cs->n_joiners ? cs->joiners[i] :
						    cs->committer;

		if ((ln = mls_tree_leaf(st->tree, leaf)) == NULL)
			return MLS_ERR_BLANK_NODE;
		res->n_added++;
		if ((rc = mls_member_change_set(&res->added[i], leaf, ln)) != 0)
			return rc;
	}
	return 0;
}

int mls_commit_result(struct mls_commit_state *cs,
		      const struct mls_public_state *st,
		      struct mls_process_result *res)
{
	res->kind = MLS_RESULT_COMMIT;
	res->epoch = cs->next.epoch;
	res->reinit = cs->reinit != NULL;
	res->removed = cs->removed;
	res->n_removed = cs->n_removed;
	cs->removed = NULL; /* moved */
	cs->n_removed = 0;
	return result_added(cs, st, res);
}

int mls_commit_prepare_install(struct mls_commit_state *cs)
{
	mls_external_senders_clear(&cs->next_senders);
	return mls_external_senders_of(&cs->next.extensions, &cs->next_senders);
}

void mls_commit_install(struct mls_commit_state *cs,
			struct mls_public_state *st, const uint8_t *interim,
			const uint8_t *confirmation_tag)
{
	size_t n = st->suite->hash_len;

	mls_commit_state_release(cs, st);
	mls_public_state_install_context(st, &cs->next, &cs->next_senders);
	memcpy(st->interim, interim, n);
	memcpy(st->confirmation_tag, confirmation_tag, n);
	mls_proposal_cache_clear(&st->proposals);
}

/* The PreSharedKeyIDs of the list, in order (§8.4). */
static int psk_ids(const struct mls_commit_state *cs,
		   const struct mls_pre_shared_key_id ***out, size_t *n)
{
	const struct mls_pre_shared_key_id **v = NULL;

	*out = NULL;
	*n = 0;
	if (cs->n_psks == 0)
		return 0;
	if ((v = calloc(cs->n_psks, sizeof(*v))) == NULL)
		return BW_ERR_NOMEM;
	for (size_t i = 0; i < cs->n; i++)
		if (cs->v[i].p->type == MLS_PROPOSAL_PSK)
			v[(*n)++] = &cs->v[i].p->psk;
	*out = v;
	return 0;
}

/* The key schedule of the new epoch (§8) once cs->next is complete. */
static int next_secrets(const struct mls_group *g,
			const struct mls_commit_state *cs,
			const uint8_t *init_secret,
			const uint8_t *commit_secret,
			struct mls_epoch_secrets *out)
{
	const struct mls_suite *s = g->st.suite;
	const struct mls_pre_shared_key_id **ids = NULL;
	uint8_t psk_secret[MLS_MAX_HASH_LEN];
	struct bw_writer w;
	size_t n = 0;
	int rc;

	bw_writer_init(&w, 0);
	if ((rc = psk_ids(cs, &ids, &n)) != 0 ||
	    (rc = mls_psk_secret_of(s, &g->st.cfg, g, ids, n, psk_secret)) !=
		    0 ||
	    (rc = mls_group_context_encode(&cs->next, &w)) != 0)
		goto out;
	rc = mls_key_schedule_epoch(s, init_secret, commit_secret, psk_secret,
				    w.buf, w.len, out);
out:
	OPENSSL_cleanse(psk_secret, sizeof(psk_secret));
	free(ids);
	bw_writer_free(&w);
	return rc;
}

/* The init_secret the new epoch starts from: the previous epoch's, or the
 * external init secret of an external commit (§8.3). */
static int init_secret_of(const struct mls_group *g,
			  const struct mls_commit_state *cs, uint8_t *out)
{
	if (cs->external)
		return mls_external_init_secret(g, cs->external_init, out);
	memcpy(out, g->secrets.init_secret, g->st.suite->hash_len);
	return 0;
}

/* ---- processing (§12.4.2) ---- */

/* A private view for the new epoch: a copy of this member's, with the
 * leaf key of its own Update if the commit applies one. */
static int next_priv(const struct mls_group *g,
		     const struct mls_commit_state *cs,
		     struct mls_tree_priv **out)
{
	uint32_t me = mls_group_leaf(g);
	int rc;

	if ((rc = mls_tree_priv_clone(g->priv, out)) != 0)
		return rc;
	for (size_t i = 0; i < cs->n; i++) {
		const struct mls_committed *c = &cs->v[i];

		if (c->p->type != MLS_PROPOSAL_UPDATE ||
		    c->sender.index != me)
			continue;
		/* Only this member could have signed it; the key was kept
		 * when it was sent. */
		if (c->cached == NULL || c->cached->leaf_priv.len == 0)
			return MLS_ERR_PATH_NO_KEY;
		rc = mls_tree_priv_set_leaf_key(*out, c->cached->leaf_priv.p,
						c->cached->leaf_priv.len);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static bool removes_leaf(const struct mls_commit_state *cs, uint32_t leaf)
{
	for (size_t i = 0; i < cs->n_removed; i++)
		if (cs->removed[i].leaf == leaf)
			return true;
	return false;
}

/* What processing computes before anything is installed. */
struct commit_next {
	struct mls_tree_priv *priv;
	struct mls_treekem_update *u;
	struct mls_epoch_secrets secrets;
	struct mls_secret_tree *secret_tree;
	uint8_t interim[MLS_MAX_HASH_LEN];
	bool removed_self;
	struct mls_reinit *reinit; /* a copy of the commit's ReInit */
};

static void commit_next_clear(struct commit_next *nx)
{
	mls_tree_priv_free(nx->priv);
	mls_treekem_update_free(nx->u);
	mls_epoch_secrets_clear(&nx->secrets);
	mls_secret_tree_free(nx->secret_tree);
	mls_reinit_free(nx->reinit);
	OPENSSL_cleanse(nx->interim, sizeof(nx->interim));
	memset(nx, 0, sizeof(*nx));
}

/* The path: merged into the tree, and (for a member still in the group)
 * its path secret decrypted with the provisional context (§12.4.2). */
static int process_path(struct mls_group *g, struct mls_commit_state *cs,
			const struct mls_commit *commit, struct commit_next *nx)
{
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((commit->has_path &&
	     (rc = mls_commit_merge_path(cs, &g->st, &commit->path)) != 0) ||
	    (rc = mls_commit_provisional_context(cs, &g->st, &w)) != 0)
		goto out;
	if (commit->has_path && !nx->removed_self)
		rc = mls_treekem_decrypt(g->st.tree, nx->priv, cs->committer,
					 &commit->path, cs->joiners,
					 cs->n_joiners, w.buf, w.len, &nx->u);
out:
	bw_writer_free(&w);
	return rc;
}

/* The new epoch's secrets, the confirmation tag's check (§6.1) and the
 * interim transcript hash. */
static int process_key_schedule(struct mls_group *g,
				struct mls_commit_state *cs,
				const struct mls_authenticated_content *ac,
				struct commit_next *nx)
{
	const struct mls_suite *s = g->st.suite;
	const struct bw_bytes *tag = &ac->auth.confirmation_tag;
	const uint8_t *commit_secret =
		nx->u != NULL ? mls_treekem_commit_secret(nx->u) : NULL;
	uint8_t init[MLS_MAX_HASH_LEN];
	int rc;

	if ((rc = init_secret_of(g, cs, init)) != 0 ||
	    (rc = next_secrets(g, cs, init, commit_secret, &nx->secrets)) !=
		    0 ||
	    (rc = mls_confirmation_tag_verify(
		     s, nx->secrets.confirmation_key,
		     cs->next.confirmed_transcript_hash.p, tag->p,
		     tag->len)) != 0 ||
	    (rc = mls_interim_transcript_hash(
		     s, cs->next.confirmed_transcript_hash.p, tag->p, tag->len,
		     nx->interim)) != 0)
		goto out;
	if (nx->u != NULL && (rc = mls_treekem_apply(nx->u, nx->priv)) != 0)
		goto out;
	mls_tree_priv_prune(nx->priv, g->st.tree);
	rc = mls_group_new_secret_tree(g, &nx->secrets, &nx->secret_tree);
out:
	OPENSSL_cleanse(init, sizeof(init));
	return rc;
}

/* Install what was computed: the new epoch, or for a member the commit
 * removed, the end of its membership. */
static void process_install(struct mls_group *g, struct mls_commit_state *cs,
			    const struct mls_authenticated_content *ac,
			    struct commit_next *nx)
{
	mls_commit_install(cs, &g->st, nx->interim,
			   ac->auth.confirmation_tag.p);
	mls_group_end_epoch(g);
	if (nx->removed_self) {
		g->status = MLS_GROUP_REMOVED;
		return;
	}
	mls_tree_priv_free(g->priv);
	g->priv = nx->priv;
	nx->priv = NULL; /* moved */
	mls_group_install_epoch(g, &nx->secrets, nx->secret_tree);
	nx->secret_tree = NULL; /* moved */
	if (nx->reinit != NULL) {
		g->status = MLS_GROUP_REINIT;
		g->reinit = nx->reinit;
		nx->reinit = NULL; /* moved */
	}
}

int mls_group_process_commit(struct mls_group *g,
			     struct mls_authenticated_content *ac,
			     struct mls_process_result *res)
{
	const struct mls_commit *commit = &ac->content.commit;
	const struct mls_sender *sender = &ac->content.sender;
	struct mls_commit_state cs = { 0 };
	struct commit_next nx = { 0 };
	const struct mls_suite *s = g->st.suite;
	int rc;

	if (sender->type == MLS_SENDER_MEMBER &&
	    sender->index == mls_group_leaf(g))
		return MLS_ERR_OWN_COMMIT;
	if (sender->type != MLS_SENDER_MEMBER &&
	    sender->type != MLS_SENDER_NEW_MEMBER_COMMIT)
		return MLS_ERR_SENDER_TYPE;
	cs.external = sender->type == MLS_SENDER_NEW_MEMBER_COMMIT;
	cs.committer = cs.external ? MLS_TM_NONE : sender->index;
	if ((rc = mls_commit_resolve(&cs, &g->st, commit, sender)) != 0 ||
	    (rc = mls_commit_validate(&cs, &g->st, commit->has_path)) != 0 ||
	    (rc = mls_commit_apply(&cs, &g->st)) != 0)
		goto out;
	nx.removed_self = removes_leaf(&cs, mls_group_leaf(g));
	if ((rc = next_priv(g, &cs, &nx.priv)) != 0 ||
	    (rc = process_path(g, &cs, commit, &nx)) != 0 ||
	    (rc = mls_commit_confirm_context(&cs, &g->st, ac)) != 0)
		goto out;
	/* A removed member cannot derive the new epoch: it checks what it
	 * can (signature, proposals, tree) and leaves the group. */
	if (nx.removed_self)
		rc = mls_interim_transcript_hash(
			s, cs.next.confirmed_transcript_hash.p,
			ac->auth.confirmation_tag.p,
			ac->auth.confirmation_tag.len, nx.interim);
	else
		rc = process_key_schedule(g, &cs, ac, &nx);
	if (rc != 0 || (rc = mls_commit_result(&cs, &g->st, res)) != 0 ||
	    (cs.reinit != NULL &&
	     (rc = mls_reinit_dup(cs.reinit, &nx.reinit)) != 0) ||
	    (rc = mls_commit_prepare_install(&cs)) != 0)
		goto out;
	res->removed_self = nx.removed_self;
	process_install(g, &cs, ac, &nx);
out:
	mls_commit_state_clear(&cs, &g->st);
	commit_next_clear(&nx);
	return rc;
}

/* ---- creating (§12.4.1) ---- */

/* The cached proposals in the order a committer takes them: Removes first
 * (§12.2: they win over Updates of the same leaf), then the others, a
 * ReInit last and only alone (it SHOULD yield to other proposals). */
static bool in_pass(const struct mls_cached_proposal *c, int pass)
{
	uint16_t type = c->proposal.type;

	if (pass == 0)
		return type == MLS_PROPOSAL_REMOVE;
	if (pass == 1)
		return type != MLS_PROPOSAL_REMOVE &&
		       type != MLS_PROPOSAL_REINIT;
	return type == MLS_PROPOSAL_REINIT;
}

/* Take a cached proposal by reference if the list stays valid. */
static int take_cached(struct mls_group *g, struct mls_commit *commit,
		       struct mls_commit_state *cs,
		       const struct mls_cached_proposal *c)
{
	size_t hl = g->st.suite->hash_len;
	struct mls_proposal_or_ref *por = &commit->proposals[cs->n];

	if (c->proposal.type == MLS_PROPOSAL_REINIT &&
	    (cs->n > 0 || g->n_by_value > 0))
		return 0;
	cs->v[cs->n] = (struct mls_committed){ &c->proposal, c->sender, c };
	if (mls_commit_check_candidate(cs, &g->st, cs->n) != 0)
		return 0; /* left out */
	por->type = MLS_PROPOSAL_OR_REF_REFERENCE;
	cs->n++;
	commit->n_proposals = cs->n;
	return bw_bytes_set(&por->reference, c->ref, hl);
}

/* Append a by-value proposal to the list, which must stay valid. */
static int take_by_value(struct mls_group *g, struct mls_commit *commit,
			 struct mls_commit_state *cs,
			 const struct mls_proposal *p)
{
	struct mls_proposal_or_ref *por = &commit->proposals[cs->n];
	struct mls_sender me = { MLS_SENDER_MEMBER, mls_group_leaf(g) };
	int rc;

	por->type = MLS_PROPOSAL_OR_REF_PROPOSAL;
	commit->n_proposals = cs->n + 1;
	if ((rc = mls_proposal_copy(&por->proposal, p)) != 0)
		return rc;
	cs->v[cs->n] = (struct mls_committed){ &por->proposal, me, NULL };
	if ((rc = mls_commit_check_candidate(cs, &g->st, cs->n)) == 0)
		cs->n++;
	return rc;
}

/* The commit's list: cached proposals that fit, then this member's
 * proposals by value, which must, and the reinit PSK of a group that
 * continues another (§11.2). */
static int build_list(struct mls_group *g, struct mls_commit *commit,
		      struct mls_commit_state *cs)
{
	const struct mls_proposal_cache *cache = &g->st.proposals;
	size_t max = cache->n + g->n_by_value + 1;
	struct mls_sender me = { MLS_SENDER_MEMBER, mls_group_leaf(g) };
	int rc = 0;

	cs->committer = me.index;
	if ((commit->proposals = calloc(max, sizeof(*commit->proposals))) ==
		    NULL ||
	    (cs->v = calloc(max, sizeof(*cs->v))) == NULL)
		return BW_ERR_NOMEM;
	for (int pass = 0; pass < 3 && rc == 0; pass++)
		for (size_t i = 0; i < cache->n && rc == 0; i++) {
			const struct mls_cached_proposal *c = &cache->v[i];

			/* §12.2: the path replaces one's own Updates. */
			if (!in_pass(c, pass) ||
			    (c->sender.type == MLS_SENDER_MEMBER &&
			     c->sender.index == me.index))
				continue;
			rc = take_cached(g, commit, cs, c);
		}
	for (size_t i = 0; i < g->n_by_value && rc == 0; i++)
		rc = take_by_value(g, commit, cs, &g->by_value[i]);
	if (rc == 0 && g->reinit_psk != NULL) {
		struct mls_proposal p = { .type = MLS_PROPOSAL_PSK };

		p.psk = *g->reinit_psk; /* shallow: copied by take_by_value */
		rc = take_by_value(g, commit, cs, &p);
	}
	return rc;
}

/* What creating computes besides the commit itself. */
struct commit_made {
	struct mls_treekem_update *u;
	struct mls_epoch_secrets secrets;
	uint8_t tag[MLS_MAX_HASH_LEN];
	uint8_t interim[MLS_MAX_HASH_LEN];
	struct mls_group_info gi;
};

static void commit_made_clear(struct commit_made *m)
{
	mls_treekem_update_free(m->u);
	mls_epoch_secrets_clear(&m->secrets);
	OPENSSL_cleanse(m->tag, sizeof(m->tag));
	OPENSSL_cleanse(m->interim, sizeof(m->interim));
	mls_group_info_clear(&m->gi);
	memset(m, 0, sizeof(*m));
}

/* The path (§7.4-§7.6): new keys on this member's filtered direct path,
 * path secrets encrypted with the provisional context. */
static int make_path(struct mls_group *g, struct mls_commit_state *cs,
		     struct mls_commit *commit, bool with_path,
		     struct commit_made *m)
{
	struct mls_leaf_node templ = { 0 };
	uint32_t me = mls_group_leaf(g);
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if (with_path &&
	    ((rc = mls_leaf_node_copy(&templ, mls_tree_leaf(g->st.tree, me))) !=
		     0 ||
	     (rc = mls_treekem_create(g->st.tree, me, &templ, g->sig_priv.p,
				      g->sig_priv.len, g->st.gc.group_id.p,
				      g->st.gc.group_id.len, NULL, &m->u)) !=
		     0))
		goto out;
	if ((rc = mls_commit_provisional_context(cs, &g->st, &w)) != 0)
		goto out;
	if (with_path) {
		rc = mls_treekem_encrypt(m->u, g->st.tree, cs->joiners,
					 cs->n_joiners, w.buf, w.len,
					 &commit->path);
		commit->has_path = rc == 0;
	}
out:
	mls_leaf_node_clear(&templ);
	bw_writer_free(&w);
	return rc;
}

/* Sign, then the new epoch's secrets, confirmation tag and interim
 * transcript hash (§12.4.1, "Construct a FramedContent ..."). */
static int make_epoch(struct mls_group *g, struct mls_commit_state *cs,
		      struct mls_authenticated_content *ac,
		      struct commit_made *m)
{
	const struct mls_suite *s = g->st.suite;
	int rc;

	if ((rc = mls_group_sign(g, ac)) != 0 ||
	    (rc = mls_commit_confirm_context(cs, &g->st, ac)) != 0 ||
	    (rc = next_secrets(g, cs, g->secrets.init_secret,
			       m->u != NULL ? mls_treekem_commit_secret(m->u) :
					      NULL,
			       &m->secrets)) != 0 ||
	    (rc = mls_confirmation_tag(s, m->secrets.confirmation_key,
				       cs->next.confirmed_transcript_hash.p,
				       m->tag)) != 0 ||
	    (rc = bw_bytes_set(&ac->auth.confirmation_tag, m->tag,
			       s->hash_len)) != 0)
		return rc;
	return mls_interim_transcript_hash(
		s, cs->next.confirmed_transcript_hash.p, m->tag, s->hash_len,
		m->interim);
}

/* The messages: the commit (protected with this epoch's keys), the new
 * epoch's GroupInfo, and the Welcome if the commit adds members. */
static int make_messages(struct mls_group *g, struct mls_commit_state *cs,
			 struct mls_authenticated_content *ac,
			 const struct mls_commit_options *opt,
			 struct commit_made *m, struct mls_commit_output *out)
{
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((rc = mls_group_protect(g, ac, &w)) != 0 ||
	    (rc = bw_writer_take(&w, &out->commit, &out->commit_len)) != 0 ||
	    (rc = mls_group_info_build(g, &cs->next, &m->secrets, m->tag,
				       opt->ratchet_tree, &m->gi)) != 0)
		goto out;
	bw_write_u16(&w, MLS_PROTOCOL_VERSION_MLS10);
	bw_write_u16(&w, MLS_WIRE_FORMAT_GROUP_INFO);
	mls_group_info_encode(&m->gi, &w);
	if ((rc = bw_writer_take(&w, &out->group_info, &out->group_info_len)) !=
		    0 ||
	    cs->n_joiners == 0)
		goto out;
	if ((rc = mls_welcome_build(g, cs, &m->gi, &m->secrets, m->u, &w)) ==
	    0)
		rc = bw_writer_take(&w, &out->welcome, &out->welcome_len);
out:
	bw_writer_free(&w);
	return rc;
}

/* The pending commit: what merging it installs. */
static int make_pending(struct mls_group *g, struct mls_commit_state *cs,
			struct mls_authenticated_content *ac,
			const struct mls_commit_output *o,
			struct commit_made *m, struct mls_pending_commit **out)
{
	struct mls_pending_commit *pc;
	int rc;

	*out = NULL;
	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = bw_bytes_set(&pc->message, o->commit, o->commit_len)) != 0 ||
	    (rc = mls_tree_priv_clone(g->priv, &pc->priv)) != 0 ||
	    (m->u != NULL && (rc = mls_treekem_apply(m->u, pc->priv)) != 0)) {
		mls_pending_commit_free(pc);
		return rc;
	}
	pc->ac = *ac;
	memset(ac, 0, sizeof(*ac)); /* moved */
	pc->gc = cs->next;
	memset(&cs->next, 0, sizeof(cs->next)); /* moved */
	pc->secrets = m->secrets;
	memcpy(pc->interim, m->interim, sizeof(pc->interim));
	*out = pc;
	return 0;
}

int mls_group_commit(struct mls_group *g, const struct mls_commit_options *opt,
		     struct mls_commit_output *out)
{
	static const struct mls_commit_options defaults = { 0 };
	struct mls_authenticated_content ac = { 0 };
	struct mls_commit_output o = { 0 };
	struct mls_commit_state cs = { 0 };
	struct commit_made m = { 0 };
	struct mls_pending_commit *pc = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (opt == NULL)
		opt = &defaults;
	if (g->status != MLS_GROUP_ACTIVE)
		return MLS_ERR_GROUP_INACTIVE;
	if (g->pending != NULL)
		return MLS_ERR_STATE;
	if ((rc = mls_group_content_init(g, MLS_CONTENT_COMMIT, &ac)) != 0 ||
	    (rc = build_list(g, &ac.content.commit, &cs)) != 0 ||
	    (rc = mls_commit_validate(&cs, &g->st, true)) != 0 ||
	    (rc = mls_commit_apply(&cs, &g->st)) != 0 ||
	    (rc = make_path(g, &cs, &ac.content.commit,
			    cs.path_required || opt->force_path, &m)) != 0 ||
	    (rc = make_epoch(g, &cs, &ac, &m)) != 0 ||
	    (rc = make_messages(g, &cs, &ac, opt, &m, &o)) != 0 ||
	    (rc = make_pending(g, &cs, &ac, &o, &m, &pc)) != 0)
		goto out;
	memset(&m.secrets, 0, sizeof(m.secrets)); /* moved into pc */
	g->pending = pc;
	mls_group_clear_by_value(g); /* in the commit now */
	*out = o;
	memset(&o, 0, sizeof(o)); /* transferred */
out:
	/* The tree returns to this epoch until the commit is merged. */
	mls_commit_state_clear(&cs, &g->st);
	mls_authenticated_content_clear(&ac);
	mls_commit_output_clear(&o);
	commit_made_clear(&m);
	return rc;
}

/* ---- the pending commit ---- */

/* Apply the pending commit's proposals and path to the tree, as every
 * other member does, and check that it gives the tree the commit was made
 * for. */
static int replay_pending(struct mls_group *g, struct mls_commit_state *cs,
			  const struct mls_pending_commit *pc)
{
	const struct mls_commit *commit = &pc->ac.content.commit;
	const struct mls_sender *me = &pc->ac.content.sender;
	int rc;

	cs->committer = me->index;
	if ((rc = mls_commit_resolve(cs, &g->st, commit, me)) != 0 ||
	    (rc = mls_commit_validate(cs, &g->st, commit->has_path)) != 0 ||
	    (rc = mls_commit_apply(cs, &g->st)) != 0 ||
	    (commit->has_path &&
	     (rc = mls_commit_merge_path(cs, &g->st, &commit->path)) != 0) ||
	    (rc = mls_commit_provisional_context(cs, &g->st, NULL)) != 0)
		return rc;
	return mls_bytes_equal(&cs->next.tree_hash, &pc->gc.tree_hash) ?
		       0 :
		       MLS_ERR_STATE;
}

int mls_group_merge_pending(struct mls_group *g, struct mls_process_result *res)
{
	struct mls_pending_commit *pc = g->pending;
	struct mls_secret_tree *t = NULL;
	struct mls_commit_state cs = { 0 };
	struct mls_reinit *reinit = NULL;
	struct mls_epoch_secrets secrets;
	int rc;

	if (pc == NULL)
		return MLS_ERR_STATE;
	if ((rc = replay_pending(g, &cs, pc)) != 0 ||
	    (rc = mls_group_new_secret_tree(g, &pc->secrets, &t)) != 0 ||
	    (res != NULL && (rc = mls_commit_result(&cs, &g->st, res)) != 0) ||
	    (cs.reinit != NULL &&
	     (rc = mls_reinit_dup(cs.reinit, &reinit)) != 0))
		goto out;
	mls_group_context_clear(&cs.next);
	cs.next = pc->gc;
	memset(&pc->gc, 0, sizeof(pc->gc)); /* moved */
	if ((rc = mls_commit_prepare_install(&cs)) != 0)
		goto out;
	mls_tree_priv_prune(pc->priv, g->st.tree);
	if (res != NULL)
		res->own_commit = true;
	mls_commit_install(&cs, &g->st, pc->interim,
			   pc->ac.auth.confirmation_tag.p);
	mls_tree_priv_free(g->priv);
	g->priv = pc->priv;
	pc->priv = NULL; /* moved */
	secrets = pc->secrets;
	memset(&pc->secrets, 0, sizeof(pc->secrets)); /* moved */
	mls_group_install_epoch(g, &secrets, t);
	t = NULL; /* moved */
	if (reinit != NULL) {
		g->status = MLS_GROUP_REINIT;
		g->reinit = reinit;
		reinit = NULL; /* moved */
	}
	mls_group_end_epoch(g); /* frees pc */
out:
	mls_commit_state_clear(&cs, &g->st);
	mls_secret_tree_free(t);
	mls_reinit_free(reinit);
	return rc;
}

int mls_group_merge_pending_commit(struct mls_group *g)
{
	return mls_group_merge_pending(g, NULL);
}

void mls_group_discard_pending_commit(struct mls_group *g)
{
	mls_pending_commit_free(g->pending);
	g->pending = NULL;
}

bool mls_group_has_pending_commit(const struct mls_group *g)
{
	return g->pending != NULL;
}

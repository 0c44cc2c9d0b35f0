/*
 * proposals.c - proposals (RFC 9420 §12.1): the cache of an epoch, the
 * validity of each proposal, the rules of a committed list (§12.2) and its
 * application to the tree (§12.3).
 *
 * Each rule fails with its own code, so that a rejected commit says which
 * rule it broke. The list rules compare every proposal with the ones
 * before it; lists are bounded by MLS_GROUP_MAX_PROPOSALS for cached
 * proposals and by the message size for those by value.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "group_internal.h"
#include "msg_internal.h"

/* ---- the cache ---- */

static void cached_clear(struct mls_cached_proposal *c)
{
	mls_proposal_clear(&c->proposal);
	bw_bytes_clear(&c->leaf_priv);
	bw_bytes_clear(&c->message_hash);
	OPENSSL_cleanse(c->ref, sizeof(c->ref));
}

void mls_proposal_cache_clear(struct mls_proposal_cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		cached_clear(&c->v[i]);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

void mls_proposal_cache_drop_last(struct mls_proposal_cache *c)
{
	if (c->n > 0)
		cached_clear(&c->v[--c->n]);
}

struct mls_cached_proposal *
mls_proposal_cache_find(const struct mls_proposal_cache *c, const uint8_t *ref,
			size_t ref_len)
{
	for (size_t i = 0; i < c->n; i++)
		if (ref_len > 0 && ref_len <= MLS_MAX_HASH_LEN &&
		    memcmp(c->v[i].ref, ref, ref_len) == 0)
			return &c->v[i];
	return NULL;
}

int mls_proposal_cache_add(struct mls_proposal_cache *c, const uint8_t *ref,
			   size_t ref_len, const struct mls_sender *sender,
			   struct mls_proposal *p,
			   struct mls_cached_proposal **out)
{
	struct mls_cached_proposal *v;

	if (c->n >= MLS_GROUP_MAX_PROPOSALS)
		return MLS_ERR_TOO_MANY_PROPOSALS;
	if (ref_len > MLS_MAX_HASH_LEN)
		return MLS_ERR_INVALID_ARG;
	if ((v = realloc(c->v, (c->n + 1) * sizeof(*v))) == NULL)
		return BW_ERR_NOMEM;
	c->v = v;
	v = &c->v[c->n++];
	memset(v, 0, sizeof(*v));
	memcpy(v->ref, ref, ref_len);
	v->sender = *sender;
	v->proposal = *p;
	memset(p, 0, sizeof(*p)); /* moved */
	if (out != NULL)
		*out = v;
	return 0;
}

int mls_proposal_ref(const struct mls_suite *s,
		     const struct mls_authenticated_content *ac, uint8_t *out)
{
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((rc = mls_authenticated_content_encode(ac, &w)) == 0)
		rc = mls_make_proposal_ref(s, w.buf, w.len, out);
	bw_writer_free(&w);
	return rc;
}

int mls_proposal_copy(struct mls_proposal *dst, const struct mls_proposal *src)
{
	struct bw_writer w;
	struct bw_reader r;
	int rc;

	/* The codec is canonical, so a round trip is an exact deep copy. */
	memset(dst, 0, sizeof(*dst));
	bw_writer_init(&w, 0);
	if ((rc = mls_proposal_encode(src, &w)) == 0) {
		bw_reader_init(&r, w.buf, w.len);
		if ((rc = mls_proposal_decode(&r, dst)) == 0 &&
		    (rc = bw_reader_finish(&r)) != 0)
			mls_proposal_clear(dst);
	}
	bw_writer_free(&w);
	return rc;
}

int mls_reinit_dup(const struct mls_reinit *src, struct mls_reinit **out)
{
	struct mls_proposal p = { .type = MLS_PROPOSAL_REINIT }, q;
	int rc;

	*out = NULL;
	p.reinit = *src; /* shallow, for the copy */
	if ((rc = mls_proposal_copy(&q, &p)) != 0)
		return rc;
	if ((*out = malloc(sizeof(**out))) == NULL) {
		mls_proposal_clear(&q);
		return BW_ERR_NOMEM;
	}
	**out = q.reinit;
	return 0;
}

void mls_reinit_free(struct mls_reinit *ri)
{
	if (ri == NULL)
		return;
	mls_reinit_clear(ri);
	free(ri);
}

/* ---- one proposal (§12.1) ---- */

/* Known GroupContext extensions parse (§12.1.7 replaces them wholesale,
 * so a malformed one would break every later check). */
static int extensions_parse(const struct mls_extension_list *ext)
{
	const struct mls_extension *x;
	struct mls_required_capabilities rq;
	struct mls_external_senders es;
	struct bw_reader r;
	int rc = 0;

	if ((x = mls_extension_list_find(ext, MLS_EXT_REQUIRED_CAPABILITIES))) {
		bw_reader_init(&r, x->data.p, x->data.len);
		if (mls_required_capabilities_decode(&r, &rq) != 0 ||
		    bw_reader_finish(&r) != 0)
			rc = MLS_ERR_PROPOSAL_INVALID;
		mls_required_capabilities_clear(&rq);
	}
	if (rc == 0 &&
	    (x = mls_extension_list_find(ext, MLS_EXT_EXTERNAL_SENDERS))) {
		bw_reader_init(&r, x->data.p, x->data.len);
		if (mls_external_senders_decode(&r, &es) != 0 ||
		    bw_reader_finish(&r) != 0)
			rc = MLS_ERR_PROPOSAL_INVALID;
		mls_external_senders_clear(&es);
	}
	/* These describe one GroupInfo, never the group (§12.4.3). */
	if (rc == 0 && (mls_extension_list_find(ext, MLS_EXT_RATCHET_TREE) ||
			mls_extension_list_find(ext, MLS_EXT_EXTERNAL_PUB)))
		rc = MLS_ERR_PROPOSAL_INVALID;
	return rc;
}

/* §11.1, §12.1.7: every member supports the extensions ext. */
static int members_support(const struct mls_public_state *st,
			   const struct mls_extension_list *ext)
{
	uint32_t n = mls_tree_n_leaves(st->tree);
	const struct mls_leaf_node *leaf;
	int rc;

	for (uint32_t i = 0; i < n; i++)
		if ((leaf = mls_tree_leaf(st->tree, i)) != NULL &&
		    (rc = mls_leaf_node_check_capabilities(st->suite, leaf,
							   ext)) != 0)
			return rc;
	return 0;
}

/* §7.3: a leaf's encryption key is new to the tree, and so is its
 * signature key unless it is the replaced leaf's (MLS_TM_NONE: none). The
 * signature key of an Add may be a member's: that is the list rule
 * about clients already in the group (§12.2), checked with the list. */
static int keys_unique(const struct mls_public_state *st,
		       const struct mls_leaf_node *ln, uint32_t replaced,
		       bool check_signature_key)
{
	uint32_t x;

	if (mls_tree_find_encryption_key(st->tree, ln->encryption_key.p,
					 ln->encryption_key.len, &x))
		return MLS_ERR_DUPLICATE_KEY;
	if (check_signature_key &&
	    mls_tree_find_signature_key(st->tree, ln->signature_key.p,
					ln->signature_key.len, &x) &&
	    x != replaced)
		return MLS_ERR_DUPLICATE_KEY;
	return 0;
}

static int check_add(const struct mls_public_state *st,
		     const struct mls_key_package *kp,
		     const struct mls_extension_list *ext)
{
	struct mls_leaf_policy pol;
	int rc;

	mls_public_state_leaf_policy(st, ext, true, &pol);
	if ((rc = mls_key_package_validate(st->suite, kp, &pol)) != 0 ||
	    (rc = keys_unique(st, &kp->leaf_node, MLS_TM_NONE, false)) != 0)
		return rc;
	return mls_tree_leaf_compatible(st->tree, &kp->leaf_node, MLS_TM_NONE);
}

static int check_update(const struct mls_public_state *st,
			const struct mls_leaf_node *ln,
			const struct mls_sender *sender,
			const struct mls_extension_list *ext)
{
	const struct mls_leaf_node *old;
	struct mls_leaf_policy pol;
	int rc;

	if (sender->type != MLS_SENDER_MEMBER)
		return MLS_ERR_SENDER_TYPE;
	if ((old = mls_tree_leaf(st->tree, sender->index)) == NULL)
		return MLS_ERR_NOT_MEMBER;
	/* §7.3: an Update brings a new encryption key. */
	if (mls_bytes_equal(&old->encryption_key, &ln->encryption_key))
		return MLS_ERR_LEAF_NODE;
	mls_public_state_leaf_policy(st, ext, true, &pol);
	if ((rc = mls_leaf_node_validate(st->suite, ln, MLS_LEAF_SOURCE_UPDATE,
					 st->gc.group_id.p, st->gc.group_id.len,
					 sender->index, &pol)) != 0 ||
	    (rc = keys_unique(st, ln, sender->index, true)) != 0)
		return rc;
	return mls_tree_leaf_compatible(st->tree, ln, sender->index);
}

static int check_psk(const struct mls_public_state *st,
		     const struct mls_pre_shared_key_id *id)
{
	if (id->psk_nonce.len != st->suite->hash_len)
		return MLS_ERR_PSK_NONCE;
	/* §11.2, §11.3, §12.1.4: reinit and branch PSKs only start a group
	 * that continues another, in its first commit. */
	if (id->psktype == MLS_PSK_RESUMPTION &&
	    id->usage != MLS_PSK_USAGE_APPLICATION && st->gc.epoch != 0)
		return MLS_ERR_PSK_USAGE;
	return 0;
}

int mls_proposal_check(const struct mls_public_state *st,
		       const struct mls_proposal *p,
		       const struct mls_sender *sender,
		       const struct mls_extension_list *ext)
{
	int rc;

	switch (p->type) {
	case MLS_PROPOSAL_ADD:
		return check_add(st, &p->add, ext);
	case MLS_PROPOSAL_UPDATE:
		return check_update(st, &p->update, sender, ext);
	case MLS_PROPOSAL_REMOVE:
		return mls_tree_leaf(st->tree, p->remove) == NULL ?
			       MLS_ERR_PROPOSAL_REMOVE_BLANK :
			       0;
	case MLS_PROPOSAL_PSK:
		return check_psk(st, &p->psk);
	case MLS_PROPOSAL_REINIT:
		return p->reinit.version < st->gc.version ?
			       MLS_ERR_REINIT_VERSION :
			       0;
	case MLS_PROPOSAL_EXTERNAL_INIT:
		return 0;
	case MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS:
		if ((rc = extensions_parse(&p->group_context_extensions)) != 0)
			return rc;
		return members_support(st, &p->group_context_extensions);
	}
	return MLS_ERR_UNKNOWN_TYPE;
}

int mls_proposal_receive(struct mls_public_state *st,
			 struct mls_authenticated_content *ac,
			 struct mls_cached_proposal **out)
{
	struct mls_proposal *p = &ac->content.proposal;
	uint8_t ref[MLS_MAX_HASH_LEN];
	int rc;

	*out = NULL;
	/* §12.1.6: ExternalInit exists only inside an external commit. */
	if (p->type == MLS_PROPOSAL_EXTERNAL_INIT)
		return MLS_ERR_PROPOSAL_EXTERNAL_INIT;
	if ((rc = mls_proposal_ref(st->suite, ac, ref)) != 0)
		return rc;
	if ((*out = mls_proposal_cache_find(&st->proposals, ref,
					    st->suite->hash_len)) != NULL)
		return 0; /* seen already (e.g. the echo of one's own) */
	if ((rc = mls_proposal_check(st, p, &ac->content.sender,
				     &st->gc.extensions)) != 0)
		return rc;
	return mls_proposal_cache_add(&st->proposals, ref, st->suite->hash_len,
				      &ac->content.sender, p, out);
}

/* ---- the committed list (§12.2) ---- */

int mls_commit_resolve(struct mls_commit_state *cs,
		       const struct mls_public_state *st,
		       const struct mls_commit *commit,
		       const struct mls_sender *committer)
{
	const struct mls_cached_proposal *c;

	if (commit->n_proposals == 0)
		return 0;
	if ((cs->v = calloc(commit->n_proposals, sizeof(*cs->v))) == NULL)
		return BW_ERR_NOMEM;
	for (size_t i = 0; i < commit->n_proposals; i++) {
		const struct mls_proposal_or_ref *por = &commit->proposals[i];

		if (por->type == MLS_PROPOSAL_OR_REF_PROPOSAL) {
			cs->v[cs->n++] = (struct mls_committed){
				&por->proposal, *committer, NULL
			};
			continue;
		}
		/* §12.4.3.2: an outsider cannot know the epoch's proposals. */
		if (cs->external)
			return MLS_ERR_EXTERNAL_BY_REFERENCE;
		if (por->reference.len != st->suite->hash_len ||
		    (c = mls_proposal_cache_find(&st->proposals,
						 por->reference.p,
						 por->reference.len)) == NULL)
			return MLS_ERR_PROPOSAL_UNKNOWN;
		cs->v[cs->n++] = (struct mls_committed){ &c->proposal,
							 c->sender, c };
	}
	return 0;
}

bool mls_psk_id_same(const struct mls_pre_shared_key_id *a,
		     const struct mls_pre_shared_key_id *b)
{
	if (a->psktype != b->psktype)
		return false;
	if (a->psktype == MLS_PSK_EXTERNAL)
		return mls_bytes_equal(&a->psk_id, &b->psk_id);
	return a->usage == b->usage && a->psk_epoch == b->psk_epoch &&
	       mls_bytes_equal(&a->psk_group_id, &b->psk_group_id);
}

/* The leaf an Update or Remove applies to, or MLS_TM_NONE. */
static uint32_t target_leaf(const struct mls_committed *c)
{
	if (c->p->type == MLS_PROPOSAL_UPDATE)
		return c->sender.index;
	if (c->p->type == MLS_PROPOSAL_REMOVE)
		return c->p->remove;
	return MLS_TM_NONE;
}

/* v[i] against v[j] for every j < i. */
static int check_pairs(const struct mls_commit_state *cs, size_t i)
{
	const struct mls_proposal *p = cs->v[i].p;
	uint32_t leaf = target_leaf(&cs->v[i]);

	for (size_t j = 0; j < i; j++) {
		const struct mls_proposal *q = cs->v[j].p;

		if (leaf != MLS_TM_NONE && target_leaf(&cs->v[j]) == leaf)
			return MLS_ERR_PROPOSAL_SAME_LEAF;
		if (q->type != p->type)
			continue;
		if (p->type == MLS_PROPOSAL_ADD &&
		    mls_bytes_equal(&p->add.leaf_node.signature_key,
				    &q->add.leaf_node.signature_key))
			return MLS_ERR_PROPOSAL_DUPLICATE_ADD;
		if (p->type == MLS_PROPOSAL_PSK &&
		    mls_psk_id_same(&p->psk, &q->psk))
			return MLS_ERR_PROPOSAL_DUPLICATE_PSK;
		if (p->type == MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS)
			return MLS_ERR_PROPOSAL_MULTIPLE_GCE;
	}
	return 0;
}

int mls_commit_check_one(const struct mls_commit_state *cs,
			 const struct mls_public_state *st, size_t i)
{
	const struct mls_committed *c = &cs->v[i];

	switch (c->p->type) {
	case MLS_PROPOSAL_UPDATE:
		if (c->sender.type != MLS_SENDER_MEMBER)
			return MLS_ERR_SENDER_TYPE;
		if (!cs->external && c->sender.index == cs->committer)
			return MLS_ERR_PROPOSAL_SELF_UPDATE;
		break;
	case MLS_PROPOSAL_REMOVE:
		/* An external committer removes only its old self. */
		if (!cs->external && c->p->remove == cs->committer)
			return MLS_ERR_PROPOSAL_SELF_REMOVE;
		if (mls_tree_leaf(st->tree, c->p->remove) == NULL)
			return MLS_ERR_PROPOSAL_REMOVE_BLANK;
		break;
	default:
		break;
	}
	return check_pairs(cs, i);
}

/* A leaf this list removes. */
static bool removed_by(const struct mls_commit_state *cs, uint32_t leaf)
{
	for (size_t i = 0; i < cs->n; i++)
		if (cs->v[i].p->type == MLS_PROPOSAL_REMOVE &&
		    cs->v[i].p->remove == leaf)
			return true;
	return false;
}

/* §12.2: no Add of a client already in the group, unless the same list
 * removes it; "the same client" is the same signature key. */
static int check_adds(const struct mls_commit_state *cs,
		      const struct mls_public_state *st)
{
	uint32_t leaf;

	for (size_t i = 0; i < cs->n; i++) {
		const struct mls_proposal *p = cs->v[i].p;

		if (p->type == MLS_PROPOSAL_ADD &&
		    mls_tree_find_signature_key(
			    st->tree, p->add.leaf_node.signature_key.p,
			    p->add.leaf_node.signature_key.len, &leaf) &&
		    !removed_by(cs, leaf))
			return MLS_ERR_PROPOSAL_ADD_MEMBER;
	}
	return 0;
}

static void count_types(struct mls_commit_state *cs)
{
	cs->n_gce = cs->n_reinit = cs->n_external_init = 0;
	cs->n_removes = cs->n_psks = 0;
	cs->path_required = cs->n == 0;
	for (size_t i = 0; i < cs->n; i++) {
		switch (cs->v[i].p->type) {
		case MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS:
			cs->n_gce++;
			cs->path_required = true;
			break;
		case MLS_PROPOSAL_REINIT:
			cs->n_reinit++;
			break;
		case MLS_PROPOSAL_EXTERNAL_INIT:
			cs->n_external_init++;
			cs->path_required = true;
			break;
		case MLS_PROPOSAL_REMOVE:
			cs->n_removes++;
			cs->path_required = true;
			break;
		case MLS_PROPOSAL_UPDATE:
			cs->path_required = true;
			break;
		case MLS_PROPOSAL_PSK:
			cs->n_psks++;
			break;
		}
	}
}

int mls_commit_check_candidate(const struct mls_commit_state *cs,
			       const struct mls_public_state *st, size_t i)
{
	const struct mls_proposal *p = cs->v[i].p;
	uint32_t leaf;
	int rc;

	if ((rc = mls_commit_check_one(cs, st, i)) != 0)
		return rc;
	/* A committer takes Removes first, so v[0..i) holds them. */
	if (p->type == MLS_PROPOSAL_ADD &&
	    mls_tree_find_signature_key(st->tree,
					p->add.leaf_node.signature_key.p,
					p->add.leaf_node.signature_key.len,
					&leaf)) {
		for (size_t j = 0; j < i; j++)
			if (cs->v[j].p->type == MLS_PROPOSAL_REMOVE &&
			    cs->v[j].p->remove == leaf)
				return 0;
		return MLS_ERR_PROPOSAL_ADD_MEMBER;
	}
	return 0;
}

/* §12.2 for an external commit: exactly one ExternalInit, at most one
 * Remove, PSKs, nothing else. */
static int check_external(const struct mls_commit_state *cs)
{
	if (cs->n_external_init != 1)
		return MLS_ERR_EXTERNAL_INIT_COUNT;
	if (cs->n_removes > 1 ||
	    cs->n != cs->n_external_init + cs->n_removes + cs->n_psks)
		return MLS_ERR_EXTERNAL_PROPOSALS;
	return 0;
}

int mls_commit_validate(struct mls_commit_state *cs,
			const struct mls_public_state *st, bool has_path)
{
	int rc;

	for (size_t i = 0; i < cs->n; i++)
		if ((rc = mls_commit_check_one(cs, st, i)) != 0)
			return rc;
	count_types(cs);
	if (cs->external) {
		if ((rc = check_external(cs)) != 0)
			return rc;
	} else if (cs->n_external_init > 0) {
		return MLS_ERR_PROPOSAL_EXTERNAL_INIT;
	} else if (cs->n_reinit > 0 && cs->n > 1) {
		return MLS_ERR_PROPOSAL_REINIT_NOT_ALONE;
	}
	if ((rc = check_adds(cs, st)) != 0)
		return rc;
	/* §12.4: the path is required for an empty list and for update,
	 * remove, external_init and group_context_extensions. */
	if (cs->path_required && !has_path)
		return MLS_ERR_PATH_REQUIRED;
	return 0;
}

/* ---- application (§12.3) ---- */

static int push_leaf(uint32_t **v, size_t *n, uint32_t leaf)
{
	uint32_t *nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (nv == NULL)
		return BW_ERR_NOMEM;
	nv[(*n)++] = leaf;
	*v = nv;
	return 0;
}

/* A copy of a member's credential and key, for the commit's result. */
int mls_member_change_set(struct mls_member_change *m, uint32_t leaf,
			  const struct mls_leaf_node *ln)
{
	memset(m, 0, sizeof(*m));
	m->leaf = leaf;
	if ((m->credential = calloc(1, sizeof(*m->credential))) == NULL ||
	    (m->signature_key = malloc(ln->signature_key.len + 1)) == NULL)
		return BW_ERR_NOMEM;
	memcpy(m->signature_key, ln->signature_key.p, ln->signature_key.len);
	m->signature_key_len = ln->signature_key.len;
	return mls_credential_copy(m->credential, &ln->credential);
}

static int record_removed(struct mls_commit_state *cs,
			  const struct mls_public_state *st, uint32_t leaf)
{
	const struct mls_leaf_node *ln = mls_tree_leaf(st->tree, leaf);
	struct mls_member_change *v;

	if (ln == NULL)
		return MLS_ERR_PROPOSAL_REMOVE_BLANK;
	if ((v = realloc(cs->removed, (cs->n_removed + 1) * sizeof(*v))) ==
	    NULL)
		return BW_ERR_NOMEM;
	cs->removed = v;
	return mls_member_change_set(&v[cs->n_removed++], leaf, ln);
}

/* Proposals of one type, in list order. recheck: proposals checked when
 * they were received are checked again (the extensions changed). */
static int apply_type(struct mls_commit_state *cs, struct mls_public_state *st,
		      uint16_t type, bool recheck)
{
	uint32_t leaf;
	int rc = 0;

	for (size_t i = 0; i < cs->n && rc == 0; i++) {
		const struct mls_committed *c = &cs->v[i];
		const struct mls_proposal *p = c->p;

		if (p->type != type)
			continue;
		if ((c->cached == NULL || recheck) &&
		    (rc = mls_proposal_check(st, p, &c->sender,
					     cs->extensions)) != 0)
			break;
		switch (type) {
		case MLS_PROPOSAL_UPDATE:
			rc = mls_tree_update_leaf(st->tree, c->sender.index,
						  &p->update);
			break;
		case MLS_PROPOSAL_REMOVE:
			if ((rc = record_removed(cs, st, p->remove)) == 0)
				rc = mls_tree_remove_leaf(st->tree, p->remove);
			break;
		case MLS_PROPOSAL_ADD:
			if ((rc = mls_tree_add_leaf(st->tree,
						    &p->add.leaf_node,
						    &leaf)) == 0)
				rc = push_leaf(&cs->joiners, &cs->n_joiners,
					       leaf);
			break;
		case MLS_PROPOSAL_REINIT:
			cs->reinit = &p->reinit;
			break;
		case MLS_PROPOSAL_EXTERNAL_INIT:
			cs->external_init = &p->external_init;
			break;
		}
	}
	return rc;
}

int mls_commit_apply(struct mls_commit_state *cs, struct mls_public_state *st)
{
	static const uint16_t order[] = {
		MLS_PROPOSAL_UPDATE, MLS_PROPOSAL_REMOVE, MLS_PROPOSAL_ADD,
		MLS_PROPOSAL_PSK,    MLS_PROPOSAL_EXTERNAL_INIT,
		MLS_PROPOSAL_REINIT,
	};
	const struct mls_committed *gce = NULL;
	int rc;

	for (size_t i = 0; i < cs->n; i++)
		if (cs->v[i].p->type == MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS)
			gce = &cs->v[i];
	/* The new extensions govern every other proposal of the list. */
	cs->extensions = gce != NULL ? &gce->p->group_context_extensions :
				       &st->gc.extensions;
	if (gce != NULL && (rc = extensions_parse(cs->extensions)) != 0)
		return rc;
	mls_tree_savepoint(st->tree, &cs->sp);
	cs->sp_open = true;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if ((rc = apply_type(cs, st, order[i], gce != NULL)) != 0)
			return rc;
	/* §12.1.7: members added included, members removed excluded. */
	return gce != NULL ? members_support(st, cs->extensions) : 0;
}

/* ---- an external commit's Remove (§12.2) ---- */

/* The subject name of a DER certificate, or NULL. */
static X509_NAME *subject_of(const struct bw_bytes *der, X509 **cert)
{
	const unsigned char *p = der->p;

	*cert = d2i_X509(NULL, &p, (long)der->len);
	if (*cert == NULL || p != der->p + der->len)
		return NULL;
	return X509_get_subject_name(*cert);
}

/* Two credentials present the same identity: equal basic identities, or
 * end-entity certificates with equal subjects (a renewed certificate
 * still names the same client). */
bool mls_credential_same_identity(const struct mls_credential *a,
				  const struct mls_credential *b)
{
	X509 *ca = NULL, *cb = NULL;
	X509_NAME *na, *nb;
	bool same = false;

	if (a->type != b->type)
		return false;
	if (a->type == MLS_CREDENTIAL_BASIC)
		return mls_bytes_equal(&a->identity, &b->identity);
	if (a->n_certificates == 0 || b->n_certificates == 0)
		return false;
	na = subject_of(&a->certificates[0], &ca);
	nb = subject_of(&b->certificates[0], &cb);
	same = na != NULL && nb != NULL && X509_NAME_cmp(na, nb) == 0;
	X509_free(ca);
	X509_free(cb);
	return same;
}

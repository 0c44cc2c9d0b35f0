/*
 * public_group.c - the delivery service's view of a group: the public
 * state of RFC 9420 §12 followed from PublicMessage proposals and commits,
 * without any group secret.
 *
 * What it checks: every signature (FramedContentTBS with the sender's
 * leaf, external sender or joiner key), the sender rules of §6.1, each
 * proposal (§12.1) and the committed list (§12.2), the new tree (leaf
 * nodes, parent hashes through the UpdatePath merge, key uniqueness,
 * credentials through the callback). What it cannot check: membership
 * tags and confirmation tags (keyed by the epoch's secrets), PrivateMessage
 * contents. It follows the transcript hashes from the public framing, so
 * its GroupContext is the members' as long as the commits it accepts are
 * the ones they accept.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "group_internal.h"
#include "msg_internal.h"
#include "transcript.h"

#define PUBLIC_STATE_MAGIC "BWMP"
#define PUBLIC_STATE_MAGIC_LEN 4
#define PUBLIC_STATE_VERSION 1

struct mls_public_group {
	struct mls_public_state st;
};

void mls_public_group_free(struct mls_public_group *pg)
{
	if (pg == NULL)
		return;
	mls_public_state_clear(&pg->st);
	free(pg);
}

int mls_public_group_new(const struct mls_config *cfg,
			 const uint8_t *group_info, size_t group_info_len,
			 const uint8_t *ratchet_tree, size_t ratchet_tree_len,
			 struct mls_public_group **out)
{
	struct mls_public_group *pg;
	struct mls_message m;
	int rc;

	*out = NULL;
	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = mls_public_state_set_config(&pg->st, cfg)) != 0 ||
	    (rc = mls_message_decode(group_info, group_info_len, &m)) != 0) {
		mls_public_group_free(pg);
		return rc;
	}
	if (m.wire_format != MLS_WIRE_FORMAT_GROUP_INFO)
		rc = MLS_ERR_WIRE_FORMAT;
	else
		rc = mls_public_state_from_group_info(&pg->st, &m.group_info,
						      ratchet_tree,
						      ratchet_tree_len);
	mls_message_clear(&m);
	if (rc != 0) {
		mls_public_group_free(pg);
		return rc;
	}
	*out = pg;
	return 0;
}

/* §6.1 and §12.1.8: what each kind of sender may send in public. */
static int check_sender(const struct mls_framed_content *c)
{
	uint16_t p = c->content_type == MLS_CONTENT_PROPOSAL ?
			     c->proposal.type :
			     0;

	if (c->content_type == MLS_CONTENT_APPLICATION)
		return MLS_ERR_APP_AS_PUBLIC;
	switch (c->sender.type) {
	case MLS_SENDER_MEMBER:
		return 0;
	case MLS_SENDER_EXTERNAL:
		if (p == MLS_PROPOSAL_ADD || p == MLS_PROPOSAL_REMOVE ||
		    p == MLS_PROPOSAL_PSK || p == MLS_PROPOSAL_REINIT ||
		    p == MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS)
			return 0;
		break;
	case MLS_SENDER_NEW_MEMBER_COMMIT:
		if (c->content_type == MLS_CONTENT_COMMIT)
			return 0;
		break;
	case MLS_SENDER_NEW_MEMBER_PROPOSAL:
		if (p == MLS_PROPOSAL_ADD)
			return 0;
		break;
	}
	return MLS_ERR_SENDER_TYPE;
}

/* A PublicMessage as far as a non-member can check it: group, epoch,
 * sender rules and the signature. On success its content moves to *ac. */
static int unprotect(struct mls_public_state *st,
		     struct mls_public_message *pm,
		     struct mls_authenticated_content *ac)
{
	const struct mls_framed_content *c = &pm->content;
	struct mls_framing_ctx ctx;
	const uint8_t *key = NULL;
	size_t key_len = 0;
	int rc;

	if ((rc = mls_public_state_check_epoch(st, &c->group_id, c->epoch)) !=
		    0 ||
	    (rc = check_sender(c)) != 0 ||
	    (rc = mls_public_state_sender_key(st, c, &key, &key_len)) != 0)
		return rc;
	ac->wire_format = MLS_WIRE_FORMAT_PUBLIC_MESSAGE;
	ac->content = pm->content;
	ac->auth = pm->auth;
	memset(&pm->content, 0, sizeof(pm->content)); /* moved */
	memset(&pm->auth, 0, sizeof(pm->auth));
	mls_public_state_framing(st, &ctx);
	return mls_framed_content_verify(&ctx, ac, key, key_len);
}

/* §12.4.2 without the secrets: proposals, path, transcript hashes. */
static int process_commit(struct mls_public_state *st,
			  const struct mls_authenticated_content *ac,
			  struct mls_process_result *res)
{
	const struct mls_commit *commit = &ac->content.commit;
	const struct mls_sender *sender = &ac->content.sender;
	const struct bw_bytes *tag = &ac->auth.confirmation_tag;
	struct mls_commit_state cs = { 0 };
	uint8_t interim[MLS_MAX_HASH_LEN];
	int rc;

	cs.external = sender->type == MLS_SENDER_NEW_MEMBER_COMMIT;
	cs.committer = cs.external ? MLS_TM_NONE : sender->index;
	if (tag->len != st->suite->hash_len)
		return MLS_ERR_CONFIRMATION_TAG;
	if ((rc = mls_commit_resolve(&cs, st, commit, sender)) != 0 ||
	    (rc = mls_commit_validate(&cs, st, commit->has_path)) != 0 ||
	    (rc = mls_commit_apply(&cs, st)) != 0 ||
	    (commit->has_path &&
	     (rc = mls_commit_merge_path(&cs, st, &commit->path)) != 0) ||
	    (rc = mls_commit_provisional_context(&cs, st, NULL)) != 0 ||
	    (rc = mls_commit_confirm_context(&cs, st, ac)) != 0 ||
	    (rc = mls_interim_transcript_hash(
		     st->suite, cs.next.confirmed_transcript_hash.p, tag->p,
		     tag->len, interim)) != 0 ||
	    (rc = mls_commit_result(&cs, st, res)) != 0 ||
	    (rc = mls_commit_prepare_install(&cs)) != 0)
		goto out;
	mls_commit_install(&cs, st, interim, tag->p);
out:
	mls_commit_state_clear(&cs, st);
	return rc;
}

static int process_public(struct mls_public_state *st,
			  struct mls_public_message *pm,
			  struct mls_process_result *out)
{
	struct mls_authenticated_content ac = { 0 };
	struct mls_cached_proposal *cached;
	int rc;

	if ((rc = unprotect(st, pm, &ac)) != 0)
		goto out;
	out->sender_type = ac.content.sender.type;
	out->sender = ac.content.sender.index;
	if (ac.content.content_type == MLS_CONTENT_COMMIT) {
		rc = process_commit(st, &ac, out);
	} else if ((rc = mls_proposal_receive(st, &ac, &cached)) == 0) {
		out->kind = MLS_RESULT_PROPOSAL;
		out->proposal_type = cached->proposal.type;
	}
out:
	mls_authenticated_content_clear(&ac);
	return rc;
}

int mls_public_group_process(struct mls_public_group *pg, const uint8_t *msg,
			     size_t len, struct mls_process_result *out)
{
	const struct mls_private_message *pm;
	struct mls_message m;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = mls_message_decode(msg, len, &m)) != 0)
		return rc;
	switch (m.wire_format) {
	case MLS_WIRE_FORMAT_PUBLIC_MESSAGE:
		rc = process_public(&pg->st, &m.public_message, out);
		break;
	case MLS_WIRE_FORMAT_PRIVATE_MESSAGE:
		/* Relayed unseen; a handshake the view cannot follow would
		 * leave it behind, so it is refused. */
		pm = &m.private_message;
		if ((rc = mls_public_state_check_epoch(&pg->st, &pm->group_id,
						       pm->epoch)) == 0)
			rc = pm->content_type == MLS_CONTENT_APPLICATION ?
				     0 :
				     MLS_ERR_WIRE_FORMAT;
		out->kind = MLS_RESULT_OPAQUE;
		break;
	default:
		rc = MLS_ERR_WIRE_FORMAT;
	}
	if (rc != 0)
		mls_process_result_clear(out);
	mls_message_clear(&m);
	return rc;
}

/* ---- reading ---- */

uint64_t mls_public_group_epoch(const struct mls_public_group *pg)
{
	return pg->st.gc.epoch;
}

void mls_public_group_id(const struct mls_public_group *pg,
			 const uint8_t **p, size_t *n)
{
	*p = pg->st.gc.group_id.p;
	*n = pg->st.gc.group_id.len;
}

int mls_public_group_tree_hash(struct mls_public_group *pg,
			       uint8_t out[MLS_MAX_SECRET_LEN], size_t *len)
{
	*len = pg->st.suite->hash_len;
	return mls_tree_hash(pg->st.tree, out);
}

uint32_t mls_public_group_n_leaves(const struct mls_public_group *pg)
{
	return mls_tree_n_leaves(pg->st.tree);
}

int mls_public_group_member(const struct mls_public_group *pg, uint32_t leaf,
			    struct mls_member *out)
{
	return mls_public_state_member(&pg->st, leaf, out);
}

int mls_public_group_ratchet_tree(const struct mls_public_group *pg,
				  uint8_t **out, size_t *out_len)
{
	struct bw_writer w;
	int rc;

	*out = NULL;
	*out_len = 0;
	bw_writer_init(&w, MLS_MAX_RATCHET_TREE_LEN);
	if ((rc = mls_tree_encode(pg->st.tree, &w)) == 0)
		rc = bw_writer_take(&w, out, out_len);
	bw_writer_free(&w);
	return rc;
}

/* The encodings of two structures are equal. */
static int same_encoding(const struct mls_group_context *a,
			 const struct mls_group_context *b, bool *same)
{
	struct bw_writer wa, wb;
	int rc;

	bw_writer_init(&wa, 0);
	bw_writer_init(&wb, 0);
	if ((rc = mls_group_context_encode(a, &wa)) == 0 &&
	    (rc = mls_group_context_encode(b, &wb)) == 0)
		*same = wa.len == wb.len && memcmp(wa.buf, wb.buf, wa.len) == 0;
	bw_writer_free(&wa);
	bw_writer_free(&wb);
	return rc;
}

/* A ratchet_tree extension, if present, is the view's tree. */
static int same_tree(const struct mls_public_state *st,
		     const struct mls_group_info *gi, bool *same)
{
	const struct mls_extension *x =
		mls_extension_list_find(&gi->extensions, MLS_EXT_RATCHET_TREE);
	struct bw_writer w;
	int rc;

	*same = true;
	if (x == NULL)
		return 0;
	bw_writer_init(&w, MLS_MAX_RATCHET_TREE_LEN);
	if ((rc = mls_tree_encode(st->tree, &w)) == 0)
		*same = w.len == x->data.len &&
			memcmp(w.buf, x->data.p, w.len) == 0;
	bw_writer_free(&w);
	return rc;
}

int mls_public_group_check_group_info(struct mls_public_group *pg,
				      const uint8_t *group_info, size_t len)
{
	const struct mls_public_state *st = &pg->st;
	size_t hl = st->suite->hash_len;
	bool ctx_same = false, tree_same = false;
	struct mls_message m;
	int rc;

	if ((rc = mls_message_decode(group_info, len, &m)) != 0)
		return rc;
	if (m.wire_format != MLS_WIRE_FORMAT_GROUP_INFO) {
		rc = MLS_ERR_WIRE_FORMAT;
		goto out;
	}
	if ((rc = same_encoding(&m.group_info.group_context, &st->gc,
				&ctx_same)) != 0 ||
	    (rc = same_tree(st, &m.group_info, &tree_same)) != 0)
		goto out;
	if (!ctx_same || !tree_same ||
	    m.group_info.confirmation_tag.len != hl ||
	    CRYPTO_memcmp(m.group_info.confirmation_tag.p, st->confirmation_tag,
			  hl) != 0) {
		rc = MLS_ERR_GROUP_INFO_MISMATCH;
		goto out;
	}
	rc = mls_group_info_verify(st->suite, &m.group_info, st->tree);
out:
	mls_message_clear(&m);
	return rc;
}

/* ---- external proposals (§12.1.8) ---- */

/* The index of the signer in the group's external_senders extension. */
static int external_sender_index(const struct mls_public_state *st,
				 const struct mls_signer *signer,
				 uint32_t *index)
{
	const struct mls_external_senders *es = &st->external_senders;

	if (signer->suite != st->suite)
		return MLS_ERR_SUITE_MISMATCH;
	for (size_t i = 0; i < es->n; i++)
		if (mls_bytes_equal(&es->v[i].signature_key, &signer->pub)) {
			*index = (uint32_t)i;
			return 0;
		}
	return MLS_ERR_EXTERNAL_SENDER;
}

int mls_public_group_external_remove(struct mls_public_group *pg,
				     const struct mls_signer *signer,
				     uint32_t leaf, uint8_t **msg,
				     size_t *msg_len)
{
	struct mls_public_state *st = &pg->st;
	struct mls_authenticated_content ac = { 0 };
	struct mls_framed_content *c = &ac.content;
	uint8_t ref[MLS_MAX_HASH_LEN];
	struct mls_framing_ctx ctx;
	struct bw_writer w;
	int rc;

	*msg = NULL;
	*msg_len = 0;
	bw_writer_init(&w, 0);
	ac.wire_format = MLS_WIRE_FORMAT_PUBLIC_MESSAGE;
	c->epoch = st->gc.epoch;
	c->sender.type = MLS_SENDER_EXTERNAL;
	c->content_type = MLS_CONTENT_PROPOSAL;
	c->proposal.type = MLS_PROPOSAL_REMOVE;
	c->proposal.remove = leaf;
	mls_public_state_framing(st, &ctx);
	if ((rc = external_sender_index(st, signer, &c->sender.index)) != 0 ||
	    (rc = mls_proposal_check(st, &c->proposal, &c->sender,
				     &st->gc.extensions)) != 0 ||
	    (rc = bw_bytes_set(&c->group_id, st->gc.group_id.p,
			       st->gc.group_id.len)) != 0 ||
	    (rc = mls_framed_content_sign(&ctx, &ac, signer->priv.p,
					  signer->priv.len)) != 0 ||
	    (rc = mls_public_message_protect(&ctx, &ac, &w)) != 0 ||
	    (rc = mls_proposal_ref(st->suite, &ac, ref)) != 0)
		goto out;
	/* Cached as the proposals it relays are; its echo is then known. */
	if (mls_proposal_cache_find(&st->proposals, ref, st->suite->hash_len) ==
		    NULL &&
	    (rc = mls_proposal_cache_add(&st->proposals, ref,
					 st->suite->hash_len, &c->sender,
					 &c->proposal, NULL)) != 0)
		goto out;
	if ((rc = bw_writer_take(&w, msg, msg_len)) != 0)
		mls_proposal_cache_drop_last(&st->proposals);
out:
	mls_authenticated_content_clear(&ac);
	bw_writer_free(&w);
	return rc;
}

/* ---- storage ---- */

int mls_public_group_save(const struct mls_public_group *pg, uint8_t **out,
			  size_t *out_len)
{
	const struct mls_public_state *st = &pg->st;
	size_t hl = st->suite->hash_len, mark;
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	bw_write_bytes(&w, PUBLIC_STATE_MAGIC, PUBLIC_STATE_MAGIC_LEN);
	bw_write_u8(&w, PUBLIC_STATE_VERSION);
	bw_write_u16(&w, st->suite->id);
	mls_group_context_encode(&st->gc, &w);
	mark = bw_write_vector_begin(&w);
	mls_tree_encode(st->tree, &w);
	bw_write_vector_end(&w, mark);
	bw_write_opaque(&w, st->interim, hl);
	bw_write_opaque(&w, st->confirmation_tag, hl);
	mark = bw_write_vector_begin(&w);
	for (size_t i = 0; i < st->proposals.n; i++) {
		bw_write_opaque(&w, st->proposals.v[i].ref, hl);
		mls_sender_encode(&st->proposals.v[i].sender, &w);
		mls_proposal_encode(&st->proposals.v[i].proposal, &w);
	}
	bw_write_vector_end(&w, mark);
	rc = bw_writer_take(&w, out, out_len);
	bw_writer_free(&w);
	return rc;
}

static int read_fixed(struct bw_reader *r, size_t n, uint8_t *out)
{
	const uint8_t *p = NULL;

	if (bw_read_opaque_exact(r, n, &p) == 0)
		memcpy(out, p, n);
	return r->err;
}

static int load_proposals(struct bw_reader *r, struct mls_public_state *st)
{
	uint8_t ref[MLS_MAX_HASH_LEN];
	struct mls_sender sender;
	struct mls_proposal p;
	struct bw_reader sub;
	int rc;

	if (bw_read_vector(r, MLS_MAX_PROPOSALS_LEN, &sub) != 0)
		return r->err;
	while (bw_reader_remaining(&sub) > 0) {
		if (read_fixed(&sub, st->suite->hash_len, ref) != 0 ||
		    mls_sender_decode(&sub, &sender) != 0 ||
		    mls_proposal_decode(&sub, &p) != 0)
			return sub.err;
		if ((rc = mls_proposal_cache_add(&st->proposals, ref,
						 st->suite->hash_len, &sender,
						 &p, NULL)) != 0) {
			mls_proposal_clear(&p);
			return rc;
		}
	}
	return 0;
}

static int load_state(struct bw_reader *r, struct mls_public_state *st)
{
	const uint8_t *magic = NULL;
	struct mls_group_context gc;
	uint8_t version = 0, th[MLS_MAX_HASH_LEN];
	uint16_t suite = 0;
	struct bw_reader tree;

	bw_read_bytes(r, PUBLIC_STATE_MAGIC_LEN, &magic);
	bw_read_u8(r, &version);
	bw_read_u16(r, &suite);
	if (r->err != 0 ||
	    memcmp(magic, PUBLIC_STATE_MAGIC, PUBLIC_STATE_MAGIC_LEN) != 0 ||
	    version != PUBLIC_STATE_VERSION ||
	    (st->suite = mls_suite_get(suite)) == NULL ||
	    mls_group_context_decode(r, &gc) != 0)
		return MLS_ERR_STATE_CORRUPT;
	if (mls_public_state_set_context(st, &gc) != 0) {
		mls_group_context_clear(&gc);
		return MLS_ERR_STATE_CORRUPT;
	}
	if (bw_read_vector(r, MLS_MAX_RATCHET_TREE_LEN, &tree) != 0 ||
	    mls_tree_decode(st->suite, tree.p, tree.len, &st->tree) != 0 ||
	    read_fixed(r, st->suite->hash_len, st->interim) != 0 ||
	    read_fixed(r, st->suite->hash_len, st->confirmation_tag) != 0 ||
	    load_proposals(r, st) != 0 || bw_reader_finish(r) != 0 ||
	    st->gc.cipher_suite != suite || mls_tree_hash(st->tree, th) != 0 ||
	    !bw_bytes_eq(&st->gc.tree_hash, th, st->suite->hash_len))
		return MLS_ERR_STATE_CORRUPT;
	return 0;
}

int mls_public_group_load(const struct mls_config *cfg, const uint8_t *p,
			  size_t n, struct mls_public_group **out)
{
	struct mls_public_group *pg;
	struct bw_reader r;
	int rc;

	*out = NULL;
	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		return BW_ERR_NOMEM;
	bw_reader_init(&r, p, n);
	if ((rc = mls_public_state_set_config(&pg->st, cfg)) != 0 ||
	    (rc = load_state(&r, &pg->st)) != 0) {
		mls_public_group_free(pg);
		return rc;
	}
	*out = pg;
	return 0;
}

/*
 * group_message.c - a member's messages: processing what the delivery
 * service delivers (RFC 9420 §6, §12.1, §12.4.2) and sending application
 * data (§15).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "group_internal.h"
#include "msg_internal.h"

/* §6.2: a PublicMessage of a member is checked against its leaf, which
 * must be in the tree: a removed member's message stops here. */
static int unprotect_public(struct mls_group *g, struct mls_public_message *pm,
			    struct mls_authenticated_content *ac)
{
	const struct mls_framed_content *c = &pm->content;
	struct mls_framing_ctx ctx;
	int rc;

	if ((rc = mls_public_state_check_epoch(&g->st, &c->group_id,
					       c->epoch)) != 0)
		return rc;
	if (c->sender.type == MLS_SENDER_MEMBER &&
	    mls_tree_leaf(g->st.tree, c->sender.index) == NULL)
		return MLS_ERR_NOT_MEMBER;
	mls_group_framing(g, &ctx);
	return mls_public_message_unprotect(&ctx, pm, ac);
}

static int unprotect_private(struct mls_group *g,
			     const struct mls_private_message *pm,
			     struct mls_authenticated_content *ac)
{
	struct mls_framing_ctx ctx;

	mls_group_framing(g, &ctx);
	return mls_private_message_unprotect(&ctx, pm, ac);
}

/* The echo of a proposal this member sent as a PrivateMessage (it cannot
 * decrypt its own: the key of that generation was used to send). */
static const struct mls_cached_proposal *
own_private_proposal(const struct mls_group *g, const uint8_t *msg,
		     size_t len)
{
	const struct mls_proposal_cache *c = &g->st.proposals;
	uint8_t h[MLS_MAX_HASH_LEN];
	size_t hl = g->st.suite->hash_len;

	if (mls_hash(g->st.suite, msg, len, h) != 0)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].message_hash.len == hl &&
		    memcmp(c->v[i].message_hash.p, h, hl) == 0)
			return &c->v[i];
	return NULL;
}

static void result_proposal(const struct mls_cached_proposal *c,
			    struct mls_process_result *out)
{
	out->kind = MLS_RESULT_PROPOSAL;
	out->proposal_type = c->proposal.type;
	out->sender_type = c->sender.type;
	out->sender = c->sender.index;
}

/* What the unprotected content was. */
static int dispatch(struct mls_group *g, struct mls_authenticated_content *ac,
		    struct mls_process_result *out)
{
	struct mls_framed_content *c = &ac->content;
	struct mls_cached_proposal *cached;
	int rc;

	out->sender_type = c->sender.type;
	out->sender = c->sender.index;
	if (c->authenticated_data.len > 0) {
		out->authenticated_data = c->authenticated_data.p;
		out->authenticated_data_len = c->authenticated_data.len;
		memset(&c->authenticated_data, 0,
		       sizeof(c->authenticated_data)); /* moved */
	}
	switch (c->content_type) {
	case MLS_CONTENT_APPLICATION:
		out->kind = MLS_RESULT_APPLICATION;
		out->data = c->application_data.p;
		out->data_len = c->application_data.len;
		memset(&c->application_data, 0,
		       sizeof(c->application_data)); /* moved */
		return 0;
	case MLS_CONTENT_PROPOSAL:
		if ((rc = mls_proposal_receive(&g->st, ac, &cached)) != 0)
			return rc;
		result_proposal(cached, out);
		return 0;
	case MLS_CONTENT_COMMIT:
		return mls_group_process_commit(g, ac, out);
	}
	return MLS_ERR_CONTENT_TYPE;
}

/* This member's pending commit, echoed by the delivery service. */
static bool is_pending(const struct mls_group *g, const uint8_t *msg,
		       size_t len)
{
	const struct bw_bytes *m;

	if (g->pending == NULL)
		return false;
	m = &g->pending->message;
	return m->len == len && memcmp(m->p, msg, len) == 0;
}

int mls_group_process(struct mls_group *g, const uint8_t *msg, size_t len,
		      struct mls_process_result *out)
{
	struct mls_authenticated_content ac = { 0 };
	const struct mls_cached_proposal *own;
	struct mls_message m;
	int rc;

	memset(out, 0, sizeof(*out));
	if (g->status != MLS_GROUP_ACTIVE)
		return MLS_ERR_GROUP_INACTIVE;
	if (is_pending(g, msg, len))
		return mls_group_merge_pending(g, out);
	if ((rc = mls_message_decode(msg, len, &m)) != 0)
		return rc;
	switch (m.wire_format) {
	case MLS_WIRE_FORMAT_PUBLIC_MESSAGE:
		rc = unprotect_public(g, &m.public_message, &ac);
		break;
	case MLS_WIRE_FORMAT_PRIVATE_MESSAGE:
		if ((own = own_private_proposal(g, msg, len)) != NULL) {
			result_proposal(own, out);
			goto out;
		}
		rc = unprotect_private(g, &m.private_message, &ac);
		break;
	default:
		rc = MLS_ERR_WIRE_FORMAT;
	}
	if (rc == 0)
		rc = dispatch(g, &ac, out);
out:
	if (rc != 0)
		mls_process_result_clear(out);
	mls_authenticated_content_clear(&ac);
	mls_message_clear(&m);
	return rc;
}

int mls_group_encrypt(struct mls_group *g, const void *data, size_t len,
		      const void *aad, size_t aad_len, uint8_t **msg,
		      size_t *msg_len)
{
	struct mls_authenticated_content ac = { 0 };
	struct bw_writer w;
	int rc;

	*msg = NULL;
	*msg_len = 0;
	if (g->status != MLS_GROUP_ACTIVE)
		return MLS_ERR_GROUP_INACTIVE;
	/* §12.4: proposals seen this epoch are committed before data is
	 * sent (a pending commit of this member's does that). */
	if (g->st.proposals.n > 0 && g->pending == NULL)
		return MLS_ERR_PROPOSALS_PENDING;
	if ((data == NULL && len > 0) || (aad == NULL && aad_len > 0) ||
	    len > MLS_MAX_APPLICATION_DATA_LEN ||
	    aad_len > MLS_MAX_AUTHENTICATED_DATA_LEN)
		return MLS_ERR_INVALID_ARG;
	bw_writer_init(&w, 0);
	if ((rc = mls_group_content_init(g, MLS_CONTENT_APPLICATION, &ac)) !=
		    0 ||
	    (rc = bw_bytes_set(&ac.content.application_data, data, len)) != 0 ||
	    (rc = bw_bytes_set(&ac.content.authenticated_data, aad, aad_len)) !=
		    0 ||
	    (rc = mls_group_send(g, &ac, &w)) != 0)
		goto out;
	rc = bw_writer_take(&w, msg, msg_len);
out:
	mls_authenticated_content_clear(&ac);
	bw_writer_free(&w);
	return rc;
}

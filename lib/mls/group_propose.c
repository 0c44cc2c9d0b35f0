/*
 * group_propose.c - a member's proposals (RFC 9420 §12.1): built, checked
 * as every receiver will check them, then sent (and cached for the next
 * commit, by reference) or kept for this member's own next commit, by
 * value.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "group_internal.h"
#include "hpke.h"
#include "msg_internal.h"

/* Keep p (moved) for this member's next commit. */
static int keep_by_value(struct mls_group *g, struct mls_proposal *p)
{
	struct mls_proposal *v;

	if (g->n_by_value >= MLS_GROUP_MAX_PROPOSALS)
		return MLS_ERR_TOO_MANY_PROPOSALS;
	if ((v = realloc(g->by_value, (g->n_by_value + 1) * sizeof(*v))) ==
	    NULL)
		return BW_ERR_NOMEM;
	g->by_value = v;
	v[g->n_by_value++] = *p;
	memset(p, 0, sizeof(*p)); /* moved */
	return 0;
}

/* Send p (moved) as a proposal message and cache it as this member's own
 * (with the new leaf's private key of an Update). */
static int send_proposal(struct mls_group *g, struct mls_proposal *p,
			 struct bw_bytes *leaf_priv, uint8_t **msg,
			 size_t *msg_len)
{
	const struct mls_suite *s = g->st.suite;
	struct mls_authenticated_content ac = { 0 };
	struct mls_cached_proposal *c = NULL;
	uint8_t ref[MLS_MAX_HASH_LEN], h[MLS_MAX_HASH_LEN];
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((rc = mls_group_content_init(g, MLS_CONTENT_PROPOSAL, &ac)) != 0)
		goto out;
	ac.content.proposal = *p;
	memset(p, 0, sizeof(*p)); /* moved */
	if ((rc = mls_group_send(g, &ac, &w)) != 0 ||
	    (rc = mls_proposal_ref(s, &ac, ref)) != 0 ||
	    (rc = mls_hash(s, w.buf, w.len, h)) != 0 ||
	    (rc = mls_proposal_cache_add(&g->st.proposals, ref, s->hash_len,
					 &ac.content.sender,
					 &ac.content.proposal, &c)) != 0)
		goto out;
	if (leaf_priv != NULL)
		bw_bytes_move(&c->leaf_priv, leaf_priv);
	if ((rc = bw_bytes_set(&c->message_hash, h, s->hash_len)) != 0 ||
	    (rc = bw_writer_take(&w, msg, msg_len)) != 0) {
		/* Not sent after all: forget it. */
		mls_proposal_cache_drop_last(&g->st.proposals);
		goto out;
	}
out:
	mls_authenticated_content_clear(&ac);
	bw_writer_free(&w);
	return rc;
}

/* Check p as its receivers will, then send or keep it. p is cleared
 * whatever happens. */
static int propose(struct mls_group *g, struct mls_proposal *p,
		   struct bw_bytes *leaf_priv, uint8_t **msg, size_t *msg_len)
{
	struct mls_sender me = { MLS_SENDER_MEMBER, mls_group_leaf(g) };
	int rc;

	if (msg != NULL) {
		*msg = NULL;
		*msg_len = 0;
	}
	if (g->status != MLS_GROUP_ACTIVE)
		rc = MLS_ERR_GROUP_INACTIVE;
	else if (msg == NULL && p->type == MLS_PROPOSAL_UPDATE)
		rc = MLS_ERR_INVALID_ARG; /* §12.2: never by value */
	else if ((rc = mls_proposal_check(&g->st, p, &me,
					  &g->st.gc.extensions)) == 0)
		rc = msg == NULL ? keep_by_value(g, p) :
				   send_proposal(g, p, leaf_priv, msg, msg_len);
	mls_proposal_clear(p);
	return rc;
}

int mls_group_propose_add(struct mls_group *g, const uint8_t *key_package,
			  size_t key_package_len, uint8_t **msg,
			  size_t *msg_len)
{
	struct mls_proposal p = { .type = MLS_PROPOSAL_ADD };
	struct mls_message m;
	int rc;

	if ((rc = mls_message_decode(key_package, key_package_len, &m)) != 0)
		return rc;
	if (m.wire_format != MLS_WIRE_FORMAT_KEY_PACKAGE) {
		mls_message_clear(&m);
		return MLS_ERR_WIRE_FORMAT;
	}
	p.add = m.key_package;
	memset(&m.key_package, 0, sizeof(m.key_package)); /* moved */
	mls_message_clear(&m);
	return propose(g, &p, NULL, msg, msg_len);
}

/* §12.1.2: this member's leaf with a fresh encryption key, source update,
 * signed for its group and leaf. */
static int update_leaf(struct mls_group *g, struct mls_leaf_node *ln,
		       struct bw_bytes *priv)
{
	const struct mls_suite *s = g->st.suite;
	uint32_t me = mls_group_leaf(g);
	int rc;

	if ((rc = mls_leaf_node_copy(ln, mls_tree_leaf(g->st.tree, me))) != 0)
		return rc;
	ln->source = MLS_LEAF_SOURCE_UPDATE;
	memset(&ln->lifetime, 0, sizeof(ln->lifetime));
	bw_bytes_clear(&ln->parent_hash);
	bw_bytes_clear(&ln->encryption_key);
	if ((rc = hpke_generate_keypair(s->kem_id, priv,
					&ln->encryption_key)) != 0)
		return rc;
	return mls_leaf_node_sign(s, ln, g->sig_priv.p, g->sig_priv.len,
				  g->st.gc.group_id.p, g->st.gc.group_id.len,
				  me);
}

int mls_group_propose_update(struct mls_group *g, uint8_t **msg,
			     size_t *msg_len)
{
	struct mls_proposal p = { .type = MLS_PROPOSAL_UPDATE };
	struct bw_bytes priv = { 0 };
	int rc;

	if (msg == NULL)
		return MLS_ERR_INVALID_ARG;
	if (g->status != MLS_GROUP_ACTIVE)
		return MLS_ERR_GROUP_INACTIVE;
	if ((rc = update_leaf(g, &p.update, &priv)) == 0)
		rc = propose(g, &p, &priv, msg, msg_len);
	mls_proposal_clear(&p);
	bw_bytes_clear(&priv);
	return rc;
}

int mls_group_propose_remove(struct mls_group *g, uint32_t leaf,
			     uint8_t **msg, size_t *msg_len)
{
	struct mls_proposal p = { .type = MLS_PROPOSAL_REMOVE };

	p.remove = leaf;
	return propose(g, &p, NULL, msg, msg_len);
}

/* A PreSharedKey proposal for id, with a fresh nonce (§8.4), whose value
 * this member can find. */
static int propose_psk(struct mls_group *g, struct mls_proposal *p,
		       uint8_t **msg, size_t *msg_len)
{
	const struct mls_suite *s = g->st.suite;
	const uint8_t *value;
	size_t value_len;
	int rc;

	p->type = MLS_PROPOSAL_PSK;
	if ((rc = mls_group_psk_value(g, &p->psk, &value, &value_len)) != 0 ||
	    (rc = bw_bytes_alloc(&p->psk.psk_nonce, s->hash_len)) != 0 ||
	    (rc = mls_random(p->psk.psk_nonce.p, s->hash_len)) != 0) {
		mls_proposal_clear(p);
		return rc;
	}
	return propose(g, p, NULL, msg, msg_len);
}

int mls_group_propose_external_psk(struct mls_group *g, const uint8_t *id,
				   size_t id_len, uint8_t **msg,
				   size_t *msg_len)
{
	struct mls_proposal p = { .type = MLS_PROPOSAL_PSK };
	int rc;

	if (id_len == 0 || id_len > MLS_MAX_PSK_ID_LEN)
		return MLS_ERR_INVALID_ARG;
	p.psk.psktype = MLS_PSK_EXTERNAL;
	if ((rc = bw_bytes_set(&p.psk.psk_id, id, id_len)) != 0)
		return rc;
	return propose_psk(g, &p, msg, msg_len);
}

int mls_group_propose_resumption_psk(struct mls_group *g, uint64_t epoch,
				     uint8_t **msg, size_t *msg_len)
{
	struct mls_proposal p = { .type = MLS_PROPOSAL_PSK };
	int rc;

	p.psk.psktype = MLS_PSK_RESUMPTION;
	p.psk.usage = MLS_PSK_USAGE_APPLICATION;
	p.psk.psk_epoch = epoch;
	if ((rc = bw_bytes_set(&p.psk.psk_group_id, g->st.gc.group_id.p,
			       g->st.gc.group_id.len)) != 0)
		return rc;
	return propose_psk(g, &p, msg, msg_len);
}

int mls_group_propose_reinit(struct mls_group *g, const uint8_t *group_id,
			     size_t group_id_len, uint16_t suite,
			     const struct mls_extensions *ext, uint8_t **msg,
			     size_t *msg_len)
{
	struct mls_proposal p = { .type = MLS_PROPOSAL_REINIT };
	int rc;

	if (group_id_len == 0 || group_id_len > MLS_MAX_GROUP_ID_LEN ||
	    mls_suite_get(suite) == NULL)
		return MLS_ERR_INVALID_ARG;
	p.reinit.version = MLS_PROTOCOL_VERSION_MLS10;
	p.reinit.cipher_suite = suite;
	if ((rc = bw_bytes_set(&p.reinit.group_id, group_id, group_id_len)) !=
		    0 ||
	    (ext != NULL && (rc = mls_extension_list_copy(&p.reinit.extensions,
							  &ext->list)) != 0)) {
		mls_proposal_clear(&p);
		return rc;
	}
	return propose(g, &p, NULL, msg, msg_len);
}

int mls_group_propose_group_context_extensions(
	struct mls_group *g, const struct mls_extensions *ext, uint8_t **msg,
	size_t *msg_len)
{
	struct mls_proposal p = {
		.type = MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS
	};
	int rc;

	if (ext != NULL &&
	    (rc = mls_extension_list_copy(&p.group_context_extensions,
					  &ext->list)) != 0)
		return rc;
	return propose(g, &p, NULL, msg, msg_len);
}

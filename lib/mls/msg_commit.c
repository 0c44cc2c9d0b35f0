/*
 * msg_commit.c - Commit and ProposalOrRef (RFC 9420 §12.4), UpdatePath and
 * UpdatePathNode (§7.6).
 */
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "msg_internal.h"

/* ---- UpdatePath (§7.6) ---- */

static int path_secret_decode(struct bw_reader *r, void *elem)
{
	return mls_hpke_ciphertext_decode(r, elem);
}

static int path_secret_encode(const void *elem, struct bw_writer *w)
{
	return mls_hpke_ciphertext_encode(elem, w);
}

static void update_path_node_clear(struct mls_update_path_node *n)
{
	bw_bytes_clear(&n->encryption_key);
	for (size_t i = 0; i < n->n_encrypted_path_secret; i++)
		mls_hpke_ciphertext_clear(&n->encrypted_path_secret[i]);
	free(n->encrypted_path_secret);
	memset(n, 0, sizeof(*n));
}

static int update_path_node_decode(struct bw_reader *r, void *elem)
{
	struct mls_update_path_node *n = elem;
	void *arr = NULL;

	mls_read_bytes(r, MLS_MAX_KEY_LEN, &n->encryption_key);
	/* One ciphertext per member of a resolution: at most the leaves. */
	mls_read_list(r, MLS_MAX_PATH_SECRETS_LEN, MLS_MAX_TREE_LEAVES, &arr,
		      &n->n_encrypted_path_secret,
		      sizeof(*n->encrypted_path_secret), path_secret_decode);
	n->encrypted_path_secret = arr;
	if (r->err != 0)
		update_path_node_clear(n);
	return r->err;
}

static int update_path_node_encode(const void *elem, struct bw_writer *w)
{
	const struct mls_update_path_node *n = elem;

	mls_write_bytes(w, &n->encryption_key);
	return mls_write_list(w, n->encrypted_path_secret,
			      n->n_encrypted_path_secret,
			      sizeof(*n->encrypted_path_secret),
			      path_secret_encode);
}

int mls_update_path_decode(struct bw_reader *r, struct mls_update_path *out)
{
	void *arr = NULL;

	memset(out, 0, sizeof(*out));
	mls_leaf_node_decode(r, &out->leaf_node);
	mls_read_list(r, MLS_MAX_PATH_LEN, MLS_MAX_PATH_NODES, &arr,
		      &out->n_nodes, sizeof(*out->nodes),
		      update_path_node_decode);
	out->nodes = arr;
	if (r->err != 0)
		mls_update_path_clear(out);
	return r->err;
}

int mls_update_path_encode(const struct mls_update_path *in,
			   struct bw_writer *w)
{
	mls_leaf_node_encode(&in->leaf_node, w);
	return mls_write_list(w, in->nodes, in->n_nodes, sizeof(*in->nodes),
			      update_path_node_encode);
}

void mls_update_path_clear(struct mls_update_path *p)
{
	mls_leaf_node_clear(&p->leaf_node);
	for (size_t i = 0; i < p->n_nodes; i++)
		update_path_node_clear(&p->nodes[i]);
	free(p->nodes);
	memset(p, 0, sizeof(*p));
}

/* ---- ProposalOrRef and Commit (§12.4) ---- */

static void proposal_or_ref_clear(struct mls_proposal_or_ref *p)
{
	mls_proposal_clear(&p->proposal);
	bw_bytes_clear(&p->reference);
	p->type = 0;
}

static int proposal_or_ref_decode(struct bw_reader *r, void *elem)
{
	struct mls_proposal_or_ref *p = elem;

	if (bw_read_u8(r, &p->type) != 0)
		return r->err;
	switch (p->type) {
	case MLS_PROPOSAL_OR_REF_PROPOSAL:
		mls_proposal_decode(r, &p->proposal);
		break;
	case MLS_PROPOSAL_OR_REF_REFERENCE:
		mls_read_bytes(r, MLS_MAX_HASH_VALUE_LEN, &p->reference);
		break;
	default:
		bw_reader_fail(r, MLS_ERR_UNKNOWN_TYPE);
	}
	if (r->err != 0)
		proposal_or_ref_clear(p);
	return r->err;
}

static int proposal_or_ref_encode(const void *elem, struct bw_writer *w)
{
	const struct mls_proposal_or_ref *p = elem;

	bw_write_u8(w, p->type);
	switch (p->type) {
	case MLS_PROPOSAL_OR_REF_PROPOSAL:
		return mls_proposal_encode(&p->proposal, w);
	case MLS_PROPOSAL_OR_REF_REFERENCE:
		return mls_write_bytes(w, &p->reference);
	}
	return mls_writer_fail(w, MLS_ERR_UNKNOWN_TYPE);
}

int mls_commit_decode(struct bw_reader *r, struct mls_commit *out)
{
	void *arr = NULL;

	memset(out, 0, sizeof(*out));
	mls_read_list(r, MLS_MAX_PROPOSALS_LEN, MLS_MAX_PROPOSALS, &arr,
		      &out->n_proposals, sizeof(*out->proposals),
		      proposal_or_ref_decode);
	out->proposals = arr;
	if (bw_read_optional(r, &out->has_path) == 0 && out->has_path)
		mls_update_path_decode(r, &out->path);
	if (r->err != 0)
		mls_commit_clear(out);
	return r->err;
}

int mls_commit_encode(const struct mls_commit *in, struct bw_writer *w)
{
	mls_write_list(w, in->proposals, in->n_proposals,
		       sizeof(*in->proposals), proposal_or_ref_encode);
	bw_write_optional(w, in->has_path);
	if (in->has_path)
		mls_update_path_encode(&in->path, w);
	return w->err;
}

void mls_commit_clear(struct mls_commit *c)
{
	for (size_t i = 0; i < c->n_proposals; i++)
		proposal_or_ref_clear(&c->proposals[i]);
	free(c->proposals);
	mls_update_path_clear(&c->path);
	memset(c, 0, sizeof(*c));
}

/*
 * msg_tree.c - LeafNode (§7.2), ParentNode (§7.1), Node and the
 * ratchet_tree extension's vector of optional<Node> (§12.4.3.3).
 */
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "msg_internal.h"

/* ---- LeafNode ---- */

int mls_leaf_node_decode(struct bw_reader *r, struct mls_leaf_node *out)
{
	memset(out, 0, sizeof(*out));
	mls_read_bytes(r, MLS_MAX_KEY_LEN, &out->encryption_key);
	mls_read_bytes(r, MLS_MAX_KEY_LEN, &out->signature_key);
	mls_credential_decode(r, &out->credential);
	mls_capabilities_decode(r, &out->capabilities);
	if (bw_read_u8(r, &out->source) == 0) {
		switch (out->source) {
		case MLS_LEAF_SOURCE_KEY_PACKAGE:
			bw_read_u64(r, &out->lifetime.not_before);
			bw_read_u64(r, &out->lifetime.not_after);
			break;
		case MLS_LEAF_SOURCE_UPDATE:
			break;
		case MLS_LEAF_SOURCE_COMMIT:
			mls_read_bytes(r, MLS_MAX_HASH_VALUE_LEN,
				       &out->parent_hash);
			break;
		default:
			bw_reader_fail(r, MLS_ERR_UNKNOWN_TYPE);
		}
	}
	mls_extension_list_decode(r, &out->extensions);
	mls_read_bytes(r, MLS_MAX_SIGNATURE_LEN, &out->signature);
	if (r->err != 0)
		mls_leaf_node_clear(out);
	return r->err;
}

/* The fields LeafNode and LeafNodeTBS share: all above the signature. */
static int leaf_node_content_encode(const struct mls_leaf_node *in,
				    struct bw_writer *w)
{
	mls_write_bytes(w, &in->encryption_key);
	mls_write_bytes(w, &in->signature_key);
	mls_credential_encode(&in->credential, w);
	mls_capabilities_encode(&in->capabilities, w);
	bw_write_u8(w, in->source);
	switch (in->source) {
	case MLS_LEAF_SOURCE_KEY_PACKAGE:
		bw_write_u64(w, in->lifetime.not_before);
		bw_write_u64(w, in->lifetime.not_after);
		break;
	case MLS_LEAF_SOURCE_UPDATE:
		break;
	case MLS_LEAF_SOURCE_COMMIT:
		mls_write_bytes(w, &in->parent_hash);
		break;
	default:
		mls_writer_fail(w, MLS_ERR_UNKNOWN_TYPE);
	}
	return mls_extension_list_encode(&in->extensions, w);
}

int mls_leaf_node_encode(const struct mls_leaf_node *in, struct bw_writer *w)
{
	leaf_node_content_encode(in, w);
	return mls_write_bytes(w, &in->signature);
}

int mls_leaf_node_tbs_encode(const struct mls_leaf_node *in,
			     const uint8_t *group_id, size_t group_id_len,
			     uint32_t leaf_index, struct bw_writer *w)
{
	leaf_node_content_encode(in, w);
	/* §7.2: a leaf made inside a group is bound to the group and leaf. */
	if (in->source == MLS_LEAF_SOURCE_UPDATE ||
	    in->source == MLS_LEAF_SOURCE_COMMIT) {
		bw_write_opaque(w, group_id, group_id_len);
		bw_write_u32(w, leaf_index);
	}
	return w->err;
}

void mls_leaf_node_clear(struct mls_leaf_node *n)
{
	bw_bytes_clear(&n->encryption_key);
	bw_bytes_clear(&n->signature_key);
	mls_credential_clear(&n->credential);
	mls_capabilities_clear(&n->capabilities);
	bw_bytes_clear(&n->parent_hash);
	mls_extension_list_clear(&n->extensions);
	bw_bytes_clear(&n->signature);
	memset(n, 0, sizeof(*n));
}

/* ---- ParentNode ---- */

static int unmerged_leaves_decode(struct bw_reader *r,
				  struct mls_parent_node *out)
{
	struct bw_reader sub;
	size_t count;

	if (bw_read_vector(r, MLS_MAX_UNMERGED_LEAVES_LEN, &sub) != 0)
		return r->err;
	if (sub.len % 4 != 0)
		return bw_reader_fail(r, BW_ERR_TRUNCATED);
	if ((count = sub.len / 4) == 0)
		return 0;
	out->unmerged_leaves = calloc(count, sizeof(*out->unmerged_leaves));
	if (out->unmerged_leaves == NULL)
		return bw_reader_fail(r, BW_ERR_NOMEM);
	out->n_unmerged_leaves = count;
	for (size_t i = 0; i < count; i++)
		bw_read_u32(&sub, &out->unmerged_leaves[i]);
	return 0;
}

int mls_parent_node_decode(struct bw_reader *r, struct mls_parent_node *out)
{
	memset(out, 0, sizeof(*out));
	mls_read_bytes(r, MLS_MAX_KEY_LEN, &out->encryption_key);
	mls_read_bytes(r, MLS_MAX_HASH_VALUE_LEN, &out->parent_hash);
	unmerged_leaves_decode(r, out);
	if (r->err != 0)
		mls_parent_node_clear(out);
	return r->err;
}

int mls_parent_node_encode(const struct mls_parent_node *in,
			   struct bw_writer *w)
{
	size_t mark;

	mls_write_bytes(w, &in->encryption_key);
	mls_write_bytes(w, &in->parent_hash);
	mark = bw_write_vector_begin(w);
	for (size_t i = 0; i < in->n_unmerged_leaves; i++)
		bw_write_u32(w, in->unmerged_leaves[i]);
	return bw_write_vector_end(w, mark);
}

void mls_parent_node_clear(struct mls_parent_node *n)
{
	bw_bytes_clear(&n->encryption_key);
	bw_bytes_clear(&n->parent_hash);
	free(n->unmerged_leaves);
	memset(n, 0, sizeof(*n));
}

/* ---- Node ---- */

int mls_node_decode(struct bw_reader *r, struct mls_node *out)
{
	uint8_t type = 0;

	memset(out, 0, sizeof(*out));
	if (bw_read_u8(r, &type) != 0)
		return r->err;
	switch (type) {
	case MLS_NODE_LEAF:
		if ((out->leaf = calloc(1, sizeof(*out->leaf))) == NULL)
			return bw_reader_fail(r, BW_ERR_NOMEM);
		out->type = type;
		mls_leaf_node_decode(r, out->leaf);
		break;
	case MLS_NODE_PARENT:
		if ((out->parent = calloc(1, sizeof(*out->parent))) == NULL)
			return bw_reader_fail(r, BW_ERR_NOMEM);
		out->type = type;
		mls_parent_node_decode(r, out->parent);
		break;
	default:
		bw_reader_fail(r, MLS_ERR_UNKNOWN_TYPE);
	}
	if (r->err != 0)
		mls_node_clear(out);
	return r->err;
}

int mls_node_encode(const struct mls_node *in, struct bw_writer *w)
{
	bw_write_u8(w, in->type);
	switch (in->type) {
	case MLS_NODE_LEAF:
		return mls_leaf_node_encode(in->leaf, w);
	case MLS_NODE_PARENT:
		return mls_parent_node_encode(in->parent, w);
	}
	return mls_writer_fail(w, MLS_ERR_UNKNOWN_TYPE);
}

void mls_node_clear(struct mls_node *n)
{
	if (n->type == MLS_NODE_LEAF && n->leaf != NULL) {
		mls_leaf_node_clear(n->leaf);
		free(n->leaf);
	} else if (n->type == MLS_NODE_PARENT && n->parent != NULL) {
		mls_parent_node_clear(n->parent);
		free(n->parent);
	}
	memset(n, 0, sizeof(*n));
}

/* ---- ratchet_tree (§12.4.3.3) ---- */

/* One optional<Node> at array position pos: leaves sit at even positions,
 * parents at odd ones (Appendix C). */
static int tree_entry_decode(struct bw_reader *r, size_t pos,
			     struct mls_node *out)
{
	bool present = false;

	if (bw_read_optional(r, &present) != 0 || !present)
		return r->err;
	if (mls_node_decode(r, out) != 0)
		return r->err;
	if (out->type != (pos % 2 == 0 ? MLS_NODE_LEAF : MLS_NODE_PARENT))
		return bw_reader_fail(r, MLS_ERR_TREE_INVALID);
	return 0;
}

int mls_ratchet_tree_decode(struct bw_reader *r, struct mls_ratchet_tree *out)
{
	struct bw_reader sub;
	struct mls_node *node;
	void *arr = NULL;

	memset(out, 0, sizeof(*out));
	if (bw_read_vector(r, MLS_MAX_RATCHET_TREE_LEN, &sub) != 0)
		return r->err;
	while (bw_reader_remaining(&sub) > 0 && sub.err == 0) {
		node = mls_array_push(&sub, &arr, &out->n_nodes, sizeof(*node),
				      MLS_MAX_TREE_NODES);
		out->nodes = arr;
		if (node != NULL)
			tree_entry_decode(&sub, out->n_nodes - 1, node);
	}
	/* A sender must not send trailing blank nodes (§12.4.3.3). */
	if (sub.err == 0 &&
	    (out->n_nodes == 0 ||
	     out->nodes[out->n_nodes - 1].type == MLS_NODE_BLANK))
		bw_reader_fail(&sub, MLS_ERR_TREE_INVALID);
	if (sub.err != 0) {
		bw_reader_fail(r, sub.err);
		mls_ratchet_tree_clear(out);
	}
	return r->err;
}

int mls_ratchet_tree_encode(const struct mls_ratchet_tree *in,
			    struct bw_writer *w)
{
	size_t mark = bw_write_vector_begin(w);

	for (size_t i = 0; i < in->n_nodes && w->err == 0; i++) {
		bool present = in->nodes[i].type != MLS_NODE_BLANK;

		bw_write_optional(w, present);
		if (present)
			mls_node_encode(&in->nodes[i], w);
	}
	return bw_write_vector_end(w, mark);
}

void mls_ratchet_tree_clear(struct mls_ratchet_tree *t)
{
	for (size_t i = 0; i < t->n_nodes; i++)
		mls_node_clear(&t->nodes[i]);
	free(t->nodes);
	t->nodes = NULL;
	t->n_nodes = 0;
}

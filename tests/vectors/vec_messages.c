/*
 * vec_messages.c - every structure of mls/messages.json (RFC 9420 §6-§12):
 * each field decodes as its structure, with the expected wire format and
 * content type, consumes all its bytes and re-encodes to the same bytes.
 * Known extensions found inside (ratchet_tree, required_capabilities,
 * external_senders, external_pub, application_id) are decoded and
 * re-encoded too. One vector per entry: it passes when all fields do.
 */
#include <stdlib.h>

#include "messages.h"
#include "test.h"
#include "vectors.h"

/* How to read one field, and what its decoded value must look like. */
struct field {
	const char *name;
	size_t size;
	int (*decode)(struct bw_reader *r, void *out);
	int (*encode)(const void *in, struct bw_writer *w);
	void (*clear)(void *x);
	bool (*check)(const void *x);
};

static bool extensions_ok(const struct mls_extension_list *l);

/* Decode data with one of the typed extension decoders and re-encode. */
#define TYPED_ROUNDTRIP(type, dec, enc, clr, bytes)                         \
	do {                                                                \
		type x_;                                                    \
		struct bw_reader r_;                                        \
		struct bw_writer w_;                                        \
		bool same_;                                                 \
		bw_reader_init(&r_, (bytes)->p, (bytes)->len);              \
		if (dec(&r_, &x_) != 0 || bw_reader_finish(&r_) != 0) {     \
			fprintf(stderr, "%s: %s\n", #dec,                   \
				mls_strerror(bw_reader_finish(&r_)));       \
			clr(&x_);                                           \
			return false;                                       \
		}                                                           \
		bw_writer_init(&w_, 0);                                     \
		enc(&x_, &w_);                                              \
		same_ = w_.err == 0 && w_.len == (bytes)->len &&            \
			memcmp(w_.buf, (bytes)->p, w_.len) == 0;            \
		bw_writer_free(&w_);                                        \
		clr(&x_);                                                   \
		CHECK(same_);                                               \
	} while (0)

static int opaque_decode(struct bw_reader *r, struct bw_bytes *out)
{
	const uint8_t *p;
	size_t n;

	*out = (struct bw_bytes){ 0 };
	if (bw_read_opaque(r, MLS_MAX_EXTENSION_DATA_LEN, &p, &n) != 0)
		return r->err;
	return bw_bytes_set(out, p, n);
}

static int opaque_encode(const struct bw_bytes *in, struct bw_writer *w)
{
	return bw_write_opaque(w, in->p, in->len);
}

static bool tree_leaves_ok(const struct bw_bytes *data)
{
	struct mls_ratchet_tree t;
	struct bw_reader r;
	bool ok = true;

	bw_reader_init(&r, data->p, data->len);
	CHECK(mls_ratchet_tree_decode(&r, &t) == 0);
	for (size_t i = 0; i < t.n_nodes && ok; i++)
		if (t.nodes[i].type == MLS_NODE_LEAF)
			ok = extensions_ok(&t.nodes[i].leaf->extensions);
	mls_ratchet_tree_clear(&t);
	return ok;
}

static bool extension_ok(const struct mls_extension *e)
{
	switch (e->type) {
	case MLS_EXT_RATCHET_TREE:
		TYPED_ROUNDTRIP(struct mls_ratchet_tree,
				mls_ratchet_tree_decode,
				mls_ratchet_tree_encode,
				mls_ratchet_tree_clear, &e->data);
		return tree_leaves_ok(&e->data);
	case MLS_EXT_REQUIRED_CAPABILITIES:
		TYPED_ROUNDTRIP(struct mls_required_capabilities,
				mls_required_capabilities_decode,
				mls_required_capabilities_encode,
				mls_required_capabilities_clear, &e->data);
		break;
	case MLS_EXT_EXTERNAL_SENDERS:
		TYPED_ROUNDTRIP(struct mls_external_senders,
				mls_external_senders_decode,
				mls_external_senders_encode,
				mls_external_senders_clear, &e->data);
		break;
	case MLS_EXT_EXTERNAL_PUB:
	case MLS_EXT_APPLICATION_ID:
		TYPED_ROUNDTRIP(struct bw_bytes, opaque_decode, opaque_encode,
				bw_bytes_clear, &e->data);
		break;
	}
	return true;
}

static bool extensions_ok(const struct mls_extension_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		CHECK(extension_ok(&l->v[i]));
	return true;
}

static bool key_package_ok(const struct mls_key_package *kp)
{
	CHECK_EQ_INT(kp->leaf_node.source, MLS_LEAF_SOURCE_KEY_PACKAGE);
	CHECK(kp->init_key.len > 0 && kp->signature.len > 0);
	return extensions_ok(&kp->extensions) &&
	       extensions_ok(&kp->leaf_node.extensions);
}

/* ---- adapters, one per field kind ---- */

static int msg_decode(struct bw_reader *r, void *out)
{
	return mls_message_read(r, out);
}

static int msg_encode(const void *in, struct bw_writer *w)
{
	return mls_message_encode(in, w);
}

static void msg_clear(void *x)
{
	mls_message_clear(x);
}

static bool is_welcome(const void *x)
{
	const struct mls_message *m = x;

	CHECK_EQ_INT(m->wire_format, MLS_WIRE_FORMAT_WELCOME);
	CHECK(m->welcome.n_secrets > 0);
	return true;
}

static bool is_group_info(const void *x)
{
	const struct mls_message *m = x;

	CHECK_EQ_INT(m->wire_format, MLS_WIRE_FORMAT_GROUP_INFO);
	return extensions_ok(&m->group_info.group_context.extensions) &&
	       extensions_ok(&m->group_info.extensions);
}

static bool is_key_package(const void *x)
{
	const struct mls_message *m = x;

	CHECK_EQ_INT(m->wire_format, MLS_WIRE_FORMAT_KEY_PACKAGE);
	return key_package_ok(&m->key_package);
}

static bool is_public(const struct mls_message *m, uint8_t content_type)
{
	CHECK_EQ_INT(m->wire_format, MLS_WIRE_FORMAT_PUBLIC_MESSAGE);
	CHECK_EQ_INT(m->public_message.content.content_type, content_type);
	if (m->public_message.content.sender.type == MLS_SENDER_MEMBER)
		CHECK(m->public_message.membership_tag.len > 0);
	return true;
}

static bool is_public_application(const void *x)
{
	return is_public(x, MLS_CONTENT_APPLICATION);
}

static bool is_public_proposal(const void *x)
{
	return is_public(x, MLS_CONTENT_PROPOSAL);
}

static bool is_public_commit(const void *x)
{
	const struct mls_message *m = x;

	CHECK(is_public(m, MLS_CONTENT_COMMIT));
	CHECK(m->public_message.auth.confirmation_tag.len > 0);
	return true;
}

static bool is_private(const void *x)
{
	const struct mls_message *m = x;

	CHECK_EQ_INT(m->wire_format, MLS_WIRE_FORMAT_PRIVATE_MESSAGE);
	CHECK(m->private_message.ciphertext.len > 0);
	return true;
}

static int tree_decode(struct bw_reader *r, void *out)
{
	return mls_ratchet_tree_decode(r, out);
}

static int tree_encode(const void *in, struct bw_writer *w)
{
	return mls_ratchet_tree_encode(in, w);
}

static void tree_clear(void *x)
{
	mls_ratchet_tree_clear(x);
}

static bool tree_ok(const void *x)
{
	const struct mls_ratchet_tree *t = x;

	CHECK(t->n_nodes % 2 == 1); /* ends with a leaf */
	for (size_t i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].type == MLS_NODE_LEAF)
			CHECK(extensions_ok(&t->nodes[i].leaf->extensions));
	return true;
}

static int secrets_decode(struct bw_reader *r, void *out)
{
	return mls_group_secrets_decode(r, out);
}

static int secrets_encode(const void *in, struct bw_writer *w)
{
	return mls_group_secrets_encode(in, w);
}

static void secrets_clear(void *x)
{
	mls_group_secrets_clear(x);
}

static bool secrets_ok(const void *x)
{
	const struct mls_group_secrets *gs = x;

	CHECK(gs->joiner_secret.len > 0);
	return true;
}

static int commit_decode(struct bw_reader *r, void *out)
{
	return mls_commit_decode(r, out);
}

static int commit_encode(const void *in, struct bw_writer *w)
{
	return mls_commit_encode(in, w);
}

static void commit_clear(void *x)
{
	mls_commit_clear(x);
}

static bool commit_ok(const void *x)
{
	const struct mls_commit *c = x;

	if (c->has_path)
		CHECK_EQ_INT(c->path.leaf_node.source,
			     MLS_LEAF_SOURCE_COMMIT);
	for (size_t i = 0; i < c->n_proposals; i++)
		CHECK(c->proposals[i].type == MLS_PROPOSAL_OR_REF_PROPOSAL ||
		      c->proposals[i].reference.len > 0);
	return true;
}

/* Proposal bodies: the vector holds Add, Update, ... without the type. */
#define BODY_ADAPTER(fn, type)                                              \
	static int fn(struct bw_reader *r, void *out)                       \
	{                                                                   \
		return mls_proposal_body_decode(r, type, out);              \
	}
BODY_ADAPTER(add_decode, MLS_PROPOSAL_ADD)
BODY_ADAPTER(update_decode, MLS_PROPOSAL_UPDATE)
BODY_ADAPTER(remove_decode, MLS_PROPOSAL_REMOVE)
BODY_ADAPTER(psk_decode, MLS_PROPOSAL_PSK)
BODY_ADAPTER(reinit_decode, MLS_PROPOSAL_REINIT)
BODY_ADAPTER(external_init_decode, MLS_PROPOSAL_EXTERNAL_INIT)
BODY_ADAPTER(gce_decode, MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS)

static int body_encode(const void *in, struct bw_writer *w)
{
	return mls_proposal_body_encode(in, w);
}

static void proposal_clear(void *x)
{
	mls_proposal_clear(x);
}

static bool add_ok(const void *x)
{
	return key_package_ok(&((const struct mls_proposal *)x)->add);
}

static bool update_ok(const void *x)
{
	const struct mls_proposal *p = x;

	CHECK_EQ_INT(p->update.source, MLS_LEAF_SOURCE_UPDATE);
	return extensions_ok(&p->update.extensions);
}

static bool any_ok(const void *x)
{
	(void)x;
	return true;
}

static bool psk_ok(const void *x)
{
	const struct mls_proposal *p = x;

	CHECK(p->psk.psk_nonce.len > 0);
	return true;
}

static bool reinit_ok(const void *x)
{
	const struct mls_proposal *p = x;

	return extensions_ok(&p->reinit.extensions);
}

static bool gce_ok(const void *x)
{
	return extensions_ok(
		&((const struct mls_proposal *)x)->group_context_extensions);
}

#define MSG(name, check)                                                    \
	{ name, sizeof(struct mls_message), msg_decode, msg_encode,         \
	  msg_clear, check }
#define BODY(name, dec, check)                                              \
	{ name, sizeof(struct mls_proposal), dec, body_encode,              \
	  proposal_clear, check }

static const struct field fields[] = {
	MSG("mls_welcome", is_welcome),
	MSG("mls_group_info", is_group_info),
	MSG("mls_key_package", is_key_package),
	{ "ratchet_tree", sizeof(struct mls_ratchet_tree), tree_decode,
	  tree_encode, tree_clear, tree_ok },
	{ "group_secrets", sizeof(struct mls_group_secrets), secrets_decode,
	  secrets_encode, secrets_clear, secrets_ok },
	BODY("add_proposal", add_decode, add_ok),
	BODY("update_proposal", update_decode, update_ok),
	BODY("remove_proposal", remove_decode, any_ok),
	BODY("pre_shared_key_proposal", psk_decode, psk_ok),
	BODY("re_init_proposal", reinit_decode, reinit_ok),
	BODY("external_init_proposal", external_init_decode, any_ok),
	BODY("group_context_extensions_proposal", gce_decode, gce_ok),
	{ "commit", sizeof(struct mls_commit), commit_decode, commit_encode,
	  commit_clear, commit_ok },
	MSG("public_message_application", is_public_application),
	MSG("public_message_proposal", is_public_proposal),
	MSG("public_message_commit", is_public_commit),
	MSG("private_message", is_private),
};

static bool check_field(json_t *v, const struct field *f)
{
	struct bw_bytes in = { 0 };
	struct bw_reader r;
	struct bw_writer w;
	void *x = calloc(1, f->size);
	bool ok = false;

	bw_writer_init(&w, 0);
	if (x == NULL || !tv_hex(v, f->name, &in))
		goto out;
	bw_reader_init(&r, in.p, in.len);
	if (f->decode(&r, x) != 0 || bw_reader_finish(&r) != 0) {
		fprintf(stderr, "%s: does not decode: %s\n", f->name,
			mls_strerror(bw_reader_finish(&r)));
		goto out;
	}
	if (!f->check(x)) {
		fprintf(stderr, "%s: wrong structure\n", f->name);
		goto out;
	}
	f->encode(x, &w);
	ok = w.err == 0 && w.len == in.len && memcmp(w.buf, in.p, w.len) == 0;
	if (!ok)
		fprintf(stderr, "%s: re-encoding differs\n", f->name);
out:
	if (x != NULL)
		f->clear(x);
	free(x);
	bw_writer_free(&w);
	bw_bytes_clear(&in);
	return ok;
}

static bool check_entry(json_t *v)
{
	bool ok = true;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		ok &= check_field(v, &fields[i]);
	return ok;
}

int main(int argc, char **argv)
{
	json_t *all = tv_load(tv_dir(argc, argv), "mls/messages.json");
	struct tv_count c = { .name = "messages" };
	size_t i;
	json_t *v;

	json_array_foreach(all, i, v)
		tv_count(&c, check_entry(v));
	json_decref(all);
	return tv_report(&c);
}

/*
 * test_messages.c - the MLS structure decoders on hostile input: every
 * truncation of official vector messages, trailing bytes, bad presence
 * octets, unknown code points, over-limit lengths and counts, ratchet tree
 * shape, duplicate extensions; and round trips of what the vectors do not
 * carry (external_senders, X.509 credentials, unknown extensions), and the
 * TBS encoders against the signed KeyPackages of mls/welcome.json.
 */
#include <stdlib.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "key_schedule.h"
#include "messages.h"
#include "test.h"
#include "transcript.h"
#include "vectors.h"

/* The MLSMessage fields of messages.json, and how many entries to cut. */
static const char *const message_fields[] = {
	"mls_welcome", "mls_group_info", "mls_key_package",
	"public_message_application", "public_message_proposal",
	"public_message_commit", "private_message",
};
#define TRUNCATION_ENTRIES 8

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static json_t *messages_json(void)
{
	return tv_load(BW_VECTORS_DIR, "mls/messages.json");
}

/* Every proper prefix fails as truncated and leaves *out cleared. */
static bool truncations_fail(const struct bw_bytes *msg)
{
	struct mls_message m;

	for (size_t len = 0; len < msg->len; len++) {
		memset(&m, 0xa5, sizeof(m));
		CHECK_EQ_INT(mls_message_decode(msg->p, len, &m),
			     BW_ERR_TRUNCATED);
		CHECK(all_zero(&m, sizeof(m)));
	}
	CHECK(mls_message_decode(msg->p, msg->len, &m) == 0);
	mls_message_clear(&m);
	return true;
}

static bool tree_truncations_fail(const struct bw_bytes *raw)
{
	struct mls_ratchet_tree t;
	struct bw_reader r;

	for (size_t len = 0; len < raw->len; len++) {
		bw_reader_init(&r, raw->p, len);
		CHECK_EQ_INT(mls_ratchet_tree_decode(&r, &t), BW_ERR_TRUNCATED);
		CHECK(t.nodes == NULL && t.n_nodes == 0);
	}
	return true;
}

static bool test_truncation_at_every_byte(void)
{
	json_t *all = messages_json(), *v;
	struct bw_bytes b = { 0 };
	bool ok = true;
	size_t i;

	json_array_foreach(all, i, v) {
		if (i >= TRUNCATION_ENTRIES || !ok)
			break;
		for (size_t f = 0; f < sizeof(message_fields) /
					       sizeof(message_fields[0]) && ok;
		     f++)
			ok = tv_hex(v, message_fields[f], &b) &&
			     truncations_fail(&b);
		ok = ok && tv_hex(v, "ratchet_tree", &b) &&
		     tree_truncations_fail(&b);
	}
	bw_bytes_clear(&b);
	json_decref(all);
	return ok;
}

static bool test_trailing_bytes_rejected(void)
{
	json_t *all = messages_json();
	struct bw_bytes b = { 0 };
	struct mls_message m;
	uint8_t *longer;

	CHECK(tv_hex(json_array_get(all, 0), "private_message", &b));
	json_decref(all);
	CHECK((longer = malloc(b.len + 1)) != NULL);
	memcpy(longer, b.p, b.len);
	longer[b.len] = 0;
	CHECK_EQ_INT(mls_message_decode(longer, b.len + 1, &m), BW_ERR_TRAILING);
	CHECK(all_zero(&m, sizeof(m)));
	free(longer);
	bw_bytes_clear(&b);
	return true;
}

/* ---- hand-made structures ---- */

static void put_opaque_fill(struct bw_writer *w, size_t n, uint8_t fill)
{
	uint8_t *p;

	bw_write_varint(w, (uint32_t)n);
	if (n > 0 && (p = bw_write_reserve(w, n)) != NULL)
		memset(p, fill, n);
}

static void put_u16_list(struct bw_writer *w, const uint16_t *v, size_t n)
{
	size_t mark = bw_write_vector_begin(w);

	for (size_t i = 0; i < n; i++)
		bw_write_u16(w, v[i]);
	bw_write_vector_end(w, mark);
}

static void put_capabilities(struct bw_writer *w)
{
	static const uint16_t one[] = { 1 }, grease[] = { 0x0a0a, 1 };

	put_u16_list(w, one, 1);    /* versions */
	put_u16_list(w, grease, 2); /* cipher suites, with GREASE */
	put_u16_list(w, NULL, 0);   /* extensions */
	put_u16_list(w, NULL, 0);   /* proposals */
	put_u16_list(w, one, 1);    /* credentials */
}

/* A LeafNode with the given source and credential type. */
static void put_leaf_node(struct bw_writer *w, uint8_t source,
			  uint16_t credential_type)
{
	put_opaque_fill(w, 32, 0x11); /* encryption_key */
	put_opaque_fill(w, 32, 0x22); /* signature_key */
	bw_write_u16(w, credential_type);
	put_opaque_fill(w, 5, 'a');   /* identity, or a cert's length */
	put_capabilities(w);
	bw_write_u8(w, source);
	if (source == MLS_LEAF_SOURCE_KEY_PACKAGE) {
		bw_write_u64(w, 0);
		bw_write_u64(w, UINT64_MAX);
	} else if (source == MLS_LEAF_SOURCE_COMMIT) {
		put_opaque_fill(w, 32, 0x33);
	}
	put_opaque_fill(w, 0, 0);     /* extensions */
	put_opaque_fill(w, 64, 0x44); /* signature */
}

typedef int (*decode_fn)(struct bw_reader *r, void *out);

/* Decode w's bytes; the result code, with out cleared on failure and
 * every byte consumed on success. */
static int decode_all(struct bw_writer *w, decode_fn decode, void *out,
		      size_t out_size)
{
	struct bw_reader r;
	int rc;

	if (w->err != 0)
		return w->err;
	bw_reader_init(&r, w->buf, w->len);
	rc = decode(&r, out);
	if (rc != 0 && !all_zero(out, out_size))
		return -9999; /* not cleared */
	return rc == 0 ? bw_reader_finish(&r) : rc;
}

static int leaf_decode(struct bw_reader *r, void *out)
{
	return mls_leaf_node_decode(r, out);
}

static int message_read(struct bw_reader *r, void *out)
{
	return mls_message_read(r, out);
}

static int commit_decode(struct bw_reader *r, void *out)
{
	return mls_commit_decode(r, out);
}

static int tree_decode(struct bw_reader *r, void *out)
{
	return mls_ratchet_tree_decode(r, out);
}

static int secrets_decode(struct bw_reader *r, void *out)
{
	return mls_group_secrets_decode(r, out);
}

static int psk_id_decode(struct bw_reader *r, void *out)
{
	return mls_pre_shared_key_id_decode(r, out);
}

static int extensions_decode(struct bw_reader *r, void *out)
{
	return mls_extension_list_decode(r, out);
}

static int group_context_decode(struct bw_reader *r, void *out)
{
	return mls_group_context_decode(r, out);
}

static bool leaf_case(uint8_t source, uint16_t credential_type, int want)
{
	struct mls_leaf_node n;
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	put_leaf_node(&w, source, credential_type);
	rc = decode_all(&w, leaf_decode, &n, sizeof(n));
	bw_writer_free(&w);
	mls_leaf_node_clear(&n);
	CHECK_EQ_INT(rc, want);
	return true;
}

static bool test_leaf_node_types(void)
{
	CHECK(leaf_case(MLS_LEAF_SOURCE_KEY_PACKAGE, MLS_CREDENTIAL_BASIC, 0));
	CHECK(leaf_case(MLS_LEAF_SOURCE_UPDATE, MLS_CREDENTIAL_BASIC, 0));
	CHECK(leaf_case(MLS_LEAF_SOURCE_COMMIT, MLS_CREDENTIAL_BASIC, 0));
	/* unknown leaf node sources */
	CHECK(leaf_case(0, MLS_CREDENTIAL_BASIC, MLS_ERR_UNKNOWN_TYPE));
	CHECK(leaf_case(4, MLS_CREDENTIAL_BASIC, MLS_ERR_UNKNOWN_TYPE));
	/* unknown credential types, GREASE included (§13.5: never sent) */
	CHECK(leaf_case(MLS_LEAF_SOURCE_UPDATE, 0, MLS_ERR_UNKNOWN_TYPE));
	CHECK(leaf_case(MLS_LEAF_SOURCE_UPDATE, 3, MLS_ERR_UNKNOWN_TYPE));
	CHECK(leaf_case(MLS_LEAF_SOURCE_UPDATE, 0x0a0a, MLS_ERR_UNKNOWN_TYPE));
	return true;
}

/* An MLSMessage header (version, wire format) and nothing else. */
static int message_header_rc(uint16_t version, uint16_t wire_format)
{
	struct mls_message m;
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	bw_write_u16(&w, version);
	bw_write_u16(&w, wire_format);
	put_opaque_fill(&w, 4, 1);
	rc = decode_all(&w, message_read, &m, sizeof(m));
	bw_writer_free(&w);
	mls_message_clear(&m);
	return rc;
}

static bool test_message_header(void)
{
	CHECK_EQ_INT(message_header_rc(2, MLS_WIRE_FORMAT_WELCOME),
		     MLS_ERR_VERSION);
	CHECK_EQ_INT(message_header_rc(0, MLS_WIRE_FORMAT_WELCOME),
		     MLS_ERR_VERSION);
	CHECK_EQ_INT(message_header_rc(1, 0), MLS_ERR_UNKNOWN_TYPE);
	CHECK_EQ_INT(message_header_rc(1, 6), MLS_ERR_UNKNOWN_TYPE);
	CHECK_EQ_INT(message_header_rc(1, 0xf000), MLS_ERR_UNKNOWN_TYPE);
	return true;
}

/* A member's PublicMessage header up to the content type. */
static void put_framed_header(struct bw_writer *w, uint8_t sender_type)
{
	bw_write_u16(w, MLS_PROTOCOL_VERSION_MLS10);
	bw_write_u16(w, MLS_WIRE_FORMAT_PUBLIC_MESSAGE);
	put_opaque_fill(w, 8, 'g'); /* group_id */
	bw_write_u64(w, 7);         /* epoch */
	bw_write_u8(w, sender_type);
	if (sender_type == MLS_SENDER_MEMBER ||
	    sender_type == MLS_SENDER_EXTERNAL)
		bw_write_u32(w, 1);
	put_opaque_fill(w, 0, 0); /* authenticated_data */
}

static int framed_rc(uint8_t sender_type, uint8_t content_type,
		     uint16_t proposal_type)
{
	struct mls_message m;
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	put_framed_header(&w, sender_type);
	bw_write_u8(&w, content_type);
	if (content_type == MLS_CONTENT_PROPOSAL) {
		bw_write_u16(&w, proposal_type);
		bw_write_u32(&w, 3); /* a Remove body */
	} else {
		put_opaque_fill(&w, 3, 'x'); /* application data */
	}
	put_opaque_fill(&w, 64, 0x55); /* signature */
	if (sender_type == MLS_SENDER_MEMBER)
		put_opaque_fill(&w, 32, 0x66); /* membership tag */
	rc = decode_all(&w, message_read, &m, sizeof(m));
	bw_writer_free(&w);
	mls_message_clear(&m);
	return rc;
}

static bool test_framing_types(void)
{
	CHECK_EQ_INT(framed_rc(MLS_SENDER_MEMBER, MLS_CONTENT_APPLICATION, 0),
		     0);
	CHECK_EQ_INT(framed_rc(MLS_SENDER_MEMBER, MLS_CONTENT_PROPOSAL,
			       MLS_PROPOSAL_REMOVE), 0);
	CHECK_EQ_INT(framed_rc(MLS_SENDER_EXTERNAL, MLS_CONTENT_PROPOSAL,
			       MLS_PROPOSAL_REMOVE), 0);
	CHECK_EQ_INT(framed_rc(0, MLS_CONTENT_APPLICATION, 0),
		     MLS_ERR_UNKNOWN_TYPE);
	CHECK_EQ_INT(framed_rc(5, MLS_CONTENT_APPLICATION, 0),
		     MLS_ERR_UNKNOWN_TYPE);
	CHECK_EQ_INT(framed_rc(MLS_SENDER_MEMBER, 0, 0), MLS_ERR_UNKNOWN_TYPE);
	CHECK_EQ_INT(framed_rc(MLS_SENDER_MEMBER, 4, 0), MLS_ERR_UNKNOWN_TYPE);
	CHECK_EQ_INT(framed_rc(MLS_SENDER_MEMBER, MLS_CONTENT_PROPOSAL, 0),
		     MLS_ERR_UNKNOWN_TYPE);
	CHECK_EQ_INT(framed_rc(MLS_SENDER_MEMBER, MLS_CONTENT_PROPOSAL, 8),
		     MLS_ERR_UNKNOWN_TYPE);
	CHECK_EQ_INT(framed_rc(MLS_SENDER_MEMBER, MLS_CONTENT_PROPOSAL,
			       0x0a0a), MLS_ERR_UNKNOWN_TYPE);
	return true;
}

static bool test_private_message_content_type(void)
{
	struct mls_message m;
	struct bw_writer w;

	for (unsigned ct = 0; ct <= 4; ct++) {
		int rc;

		bw_writer_init(&w, 0);
		bw_write_u16(&w, MLS_PROTOCOL_VERSION_MLS10);
		bw_write_u16(&w, MLS_WIRE_FORMAT_PRIVATE_MESSAGE);
		put_opaque_fill(&w, 8, 'g');
		bw_write_u64(&w, 7);
		bw_write_u8(&w, (uint8_t)ct);
		put_opaque_fill(&w, 0, 0);
		put_opaque_fill(&w, 28, 1);
		put_opaque_fill(&w, 40, 2);
		rc = decode_all(&w, message_read, &m, sizeof(m));
		bw_writer_free(&w);
		mls_message_clear(&m);
		CHECK_EQ_INT(rc, ct >= 1 && ct <= 3 ? 0 : MLS_ERR_UNKNOWN_TYPE);
	}
	return true;
}

/* A Commit with one ProposalOrRef and a path presence octet. */
static int commit_rc(uint8_t por_type, uint8_t path_octet)
{
	struct mls_commit c;
	struct bw_writer w;
	size_t mark;
	int rc;

	bw_writer_init(&w, 0);
	mark = bw_write_vector_begin(&w);
	bw_write_u8(&w, por_type);
	if (por_type == MLS_PROPOSAL_OR_REF_PROPOSAL) {
		bw_write_u16(&w, MLS_PROPOSAL_REMOVE);
		bw_write_u32(&w, 1);
	} else {
		put_opaque_fill(&w, 32, 0x77);
	}
	bw_write_vector_end(&w, mark);
	bw_write_u8(&w, path_octet);
	if (path_octet == 1) {
		put_leaf_node(&w, MLS_LEAF_SOURCE_COMMIT, MLS_CREDENTIAL_BASIC);
		mark = bw_write_vector_begin(&w); /* one UpdatePathNode */
		put_opaque_fill(&w, 32, 0x12);
		put_opaque_fill(&w, 0, 0);
		bw_write_vector_end(&w, mark);
	}
	rc = decode_all(&w, commit_decode, &c, sizeof(c));
	bw_writer_free(&w);
	mls_commit_clear(&c);
	return rc;
}

static bool test_commit_octets_and_types(void)
{
	CHECK_EQ_INT(commit_rc(MLS_PROPOSAL_OR_REF_PROPOSAL, 0), 0);
	CHECK_EQ_INT(commit_rc(MLS_PROPOSAL_OR_REF_REFERENCE, 1), 0);
	CHECK_EQ_INT(commit_rc(MLS_PROPOSAL_OR_REF_REFERENCE, 2),
		     BW_ERR_OPTIONAL);
	CHECK_EQ_INT(commit_rc(MLS_PROPOSAL_OR_REF_REFERENCE, 0xff),
		     BW_ERR_OPTIONAL);
	CHECK_EQ_INT(commit_rc(0, 0), MLS_ERR_UNKNOWN_TYPE);
	CHECK_EQ_INT(commit_rc(3, 0), MLS_ERR_UNKNOWN_TYPE);
	return true;
}

static bool test_group_secrets_octet_and_psk_types(void)
{
	struct mls_pre_shared_key_id id;
	struct mls_group_secrets gs;
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	put_opaque_fill(&w, 32, 0x99); /* joiner_secret */
	bw_write_u8(&w, 2);            /* optional<PathSecret> */
	put_opaque_fill(&w, 32, 0x98);
	put_opaque_fill(&w, 0, 0);
	rc = decode_all(&w, secrets_decode, &gs, sizeof(gs));
	mls_group_secrets_clear(&gs);
	bw_writer_free(&w);
	CHECK_EQ_INT(rc, BW_ERR_OPTIONAL);

	for (unsigned type = 0; type <= 3; type++) {
		for (unsigned usage = 0; usage <= 4; usage++) {
			int want = MLS_ERR_UNKNOWN_TYPE;

			bw_writer_init(&w, 0);
			bw_write_u8(&w, (uint8_t)type);
			if (type == MLS_PSK_EXTERNAL) {
				put_opaque_fill(&w, 4, 'p');
				want = 0;
			} else if (type == MLS_PSK_RESUMPTION) {
				bw_write_u8(&w, (uint8_t)usage);
				put_opaque_fill(&w, 8, 'g');
				bw_write_u64(&w, 3);
				if (usage >= 1 && usage <= 3)
					want = 0;
			}
			put_opaque_fill(&w, 32, 0x42); /* psk_nonce */
			rc = decode_all(&w, psk_id_decode, &id, sizeof(id));
			mls_pre_shared_key_id_clear(&id);
			bw_writer_free(&w);
			CHECK_EQ_INT(rc, want);
		}
	}
	return true;
}

/* ---- limits ---- */

static bool test_length_limits(void)
{
	struct mls_group_context gc;
	struct mls_leaf_node n;
	struct bw_writer w;
	int rc;

	/* a group_id one byte over MLS_MAX_GROUP_ID_LEN */
	bw_writer_init(&w, 0);
	bw_write_u16(&w, MLS_PROTOCOL_VERSION_MLS10);
	bw_write_u16(&w, 1);
	put_opaque_fill(&w, MLS_MAX_GROUP_ID_LEN + 1, 'g');
	rc = decode_all(&w, group_context_decode, &gc, sizeof(gc));
	bw_writer_free(&w);
	CHECK_EQ_INT(rc, BW_ERR_TOO_LONG);

	/* a header claiming 2^30-1 bytes fails on the limit, not memory */
	bw_writer_init(&w, 0);
	bw_write_u16(&w, MLS_PROTOCOL_VERSION_MLS10);
	bw_write_u16(&w, 1);
	bw_write_varint(&w, BW_VARINT_MAX);
	rc = decode_all(&w, group_context_decode, &gc, sizeof(gc));
	bw_writer_free(&w);
	CHECK_EQ_INT(rc, BW_ERR_TOO_LONG);

	/* an encryption key over MLS_MAX_KEY_LEN */
	bw_writer_init(&w, 0);
	put_opaque_fill(&w, MLS_MAX_KEY_LEN + 1, 1);
	rc = decode_all(&w, leaf_decode, &n, sizeof(n));
	bw_writer_free(&w);
	CHECK_EQ_INT(rc, BW_ERR_TOO_LONG);

	/* a capabilities list over MLS_MAX_CAPABILITY_LEN */
	bw_writer_init(&w, 0);
	put_opaque_fill(&w, 32, 1);
	put_opaque_fill(&w, 32, 2);
	bw_write_u16(&w, MLS_CREDENTIAL_BASIC);
	put_opaque_fill(&w, 1, 'a');
	put_opaque_fill(&w, MLS_MAX_CAPABILITY_LEN + 2, 0);
	rc = decode_all(&w, leaf_decode, &n, sizeof(n));
	bw_writer_free(&w);
	CHECK_EQ_INT(rc, BW_ERR_TOO_LONG);
	return true;
}

/* An extension list of n entries of distinct (or, if dup, equal) types,
 * each with data_len bytes of data. */
static int extensions_rc(size_t n, bool dup, size_t data_len)
{
	struct mls_extension_list l;
	struct bw_writer w;
	size_t mark;
	int rc;

	bw_writer_init(&w, 0);
	mark = bw_write_vector_begin(&w);
	for (size_t i = 0; i < n; i++) {
		bw_write_u16(&w, dup ? 0xfafa : (uint16_t)(0xf000 + i));
		put_opaque_fill(&w, data_len, (uint8_t)i);
	}
	bw_write_vector_end(&w, mark);
	rc = decode_all(&w, extensions_decode, &l, sizeof(l));
	if (rc == 0 && l.n != n)
		rc = -9998;
	bw_writer_free(&w);
	mls_extension_list_clear(&l);
	return rc;
}

static bool test_extension_limits_and_duplicates(void)
{
	CHECK_EQ_INT(extensions_rc(MLS_MAX_EXTENSIONS, false, 1), 0);
	CHECK_EQ_INT(extensions_rc(MLS_MAX_EXTENSIONS + 1, false, 1),
		     BW_ERR_TOO_LONG);
	CHECK_EQ_INT(extensions_rc(1, false, MLS_MAX_EXTENSION_DATA_LEN), 0);
	CHECK_EQ_INT(extensions_rc(1, false, MLS_MAX_EXTENSION_DATA_LEN + 1),
		     BW_ERR_TOO_LONG);
	CHECK_EQ_INT(extensions_rc(2, true, 1), MLS_ERR_DUPLICATE_EXTENSION);
	return true;
}

static bool test_unknown_extension_kept(void)
{
	struct mls_extension_list l;
	struct bw_writer w, back;
	size_t mark;

	bw_writer_init(&w, 0);
	mark = bw_write_vector_begin(&w);
	bw_write_u16(&w, 0xeaea); /* GREASE */
	put_opaque_fill(&w, 17, 0x3c);
	bw_write_u16(&w, MLS_EXT_APPLICATION_ID);
	put_opaque_fill(&w, 5, 'i');
	bw_write_vector_end(&w, mark);
	CHECK(decode_all(&w, extensions_decode, &l, sizeof(l)) == 0);
	CHECK_EQ_INT(l.n, 2);
	CHECK(mls_extension_list_find(&l, 0xeaea) == &l.v[0]);
	CHECK_EQ_INT(l.v[0].data.len, 17);
	CHECK(mls_extension_list_find(&l, MLS_EXT_RATCHET_TREE) == NULL);
	bw_writer_init(&back, 0);
	CHECK(mls_extension_list_encode(&l, &back) == 0);
	CHECK_MEM(back.buf, back.len, w.buf, w.len);
	bw_writer_free(&back);
	bw_writer_free(&w);
	mls_extension_list_clear(&l);
	return true;
}

/* ---- ratchet tree shape ---- */

/* A tree of n entries: present[i] says whether entry i is a node. */
static int tree_rc(const bool *present, size_t n, bool swap_types)
{
	struct mls_ratchet_tree t;
	struct bw_writer w;
	size_t mark;
	int rc;

	bw_writer_init(&w, 0);
	mark = bw_write_vector_begin(&w);
	for (size_t i = 0; i < n; i++) {
		bool leaf = (i % 2 == 0) != swap_types;

		bw_write_optional(&w, present[i]);
		if (!present[i])
			continue;
		bw_write_u8(&w, leaf ? MLS_NODE_LEAF : MLS_NODE_PARENT);
		if (leaf) {
			put_leaf_node(&w, MLS_LEAF_SOURCE_UPDATE,
				      MLS_CREDENTIAL_BASIC);
		} else {
			put_opaque_fill(&w, 32, 0x13);
			put_opaque_fill(&w, 0, 0);
			put_opaque_fill(&w, 8, 0); /* unmerged leaves 0, 0 */
		}
	}
	bw_write_vector_end(&w, mark);
	rc = decode_all(&w, tree_decode, &t, sizeof(t));
	bw_writer_free(&w);
	mls_ratchet_tree_clear(&t);
	return rc;
}

static bool test_ratchet_tree_shape(void)
{
	static const bool full[] = { true, true, true };
	static const bool gap[] = { true, false, false, false, true };
	static const bool trailing[] = { true, true, true, false };
	static const bool single[] = { true };
	struct mls_ratchet_tree t;
	struct bw_writer w;
	size_t mark;
	int rc;

	CHECK_EQ_INT(tree_rc(full, 3, false), 0);
	CHECK_EQ_INT(tree_rc(gap, 5, false), 0);
	CHECK_EQ_INT(tree_rc(trailing, 4, false), MLS_ERR_TREE_INVALID);
	CHECK_EQ_INT(tree_rc(full, 0, false), MLS_ERR_TREE_INVALID);
	CHECK_EQ_INT(tree_rc(full, 3, true), MLS_ERR_TREE_INVALID);
	CHECK_EQ_INT(tree_rc(single, 1, false), 0);

	/* presence octet 2 */
	bw_writer_init(&w, 0);
	put_opaque_fill(&w, 1, 2);
	rc = decode_all(&w, tree_decode, &t, sizeof(t));
	bw_writer_free(&w);
	CHECK_EQ_INT(rc, BW_ERR_OPTIONAL);

	/* an unknown node type */
	bw_writer_init(&w, 0);
	mark = bw_write_vector_begin(&w);
	bw_write_optional(&w, true);
	bw_write_u8(&w, 3);
	bw_write_vector_end(&w, mark);
	rc = decode_all(&w, tree_decode, &t, sizeof(t));
	bw_writer_free(&w);
	CHECK_EQ_INT(rc, MLS_ERR_UNKNOWN_TYPE);
	return true;
}

/* MLS_MAX_TREE_NODES blank entries then a leaf: one entry too many, from
 * an input of a few hundred KiB that must not allocate much. */
static bool test_ratchet_tree_node_limit(void)
{
	struct mls_ratchet_tree t;
	struct bw_writer w;
	size_t mark;
	int rc;

	bw_writer_init(&w, 0);
	mark = bw_write_vector_begin(&w);
	for (size_t i = 0; i < MLS_MAX_TREE_NODES + 1; i++)
		bw_write_optional(&w, false);
	bw_write_optional(&w, true);
	bw_write_u8(&w, MLS_NODE_LEAF);
	put_leaf_node(&w, MLS_LEAF_SOURCE_UPDATE, MLS_CREDENTIAL_BASIC);
	bw_write_vector_end(&w, mark);
	rc = decode_all(&w, tree_decode, &t, sizeof(t));
	bw_writer_free(&w);
	CHECK_EQ_INT(rc, BW_ERR_TOO_LONG);
	return true;
}

/* ---- round trips the vectors do not cover ---- */

static bool test_x509_credential_and_external_senders(void)
{
	struct mls_external_senders es;
	struct bw_writer w, back;
	struct bw_reader r;
	size_t mark, certs;

	bw_writer_init(&w, 0);
	mark = bw_write_vector_begin(&w);
	put_opaque_fill(&w, 32, 0x21);       /* signature_key */
	bw_write_u16(&w, MLS_CREDENTIAL_X509);
	certs = bw_write_vector_begin(&w);
	put_opaque_fill(&w, 300, 0x30);      /* end-entity certificate */
	put_opaque_fill(&w, 200, 0x31);      /* its issuer */
	bw_write_vector_end(&w, certs);
	put_opaque_fill(&w, 65, 0x04);       /* a second sender */
	bw_write_u16(&w, MLS_CREDENTIAL_BASIC);
	put_opaque_fill(&w, 6, 'b');
	bw_write_vector_end(&w, mark);
	CHECK(w.err == 0);
	bw_reader_init(&r, w.buf, w.len);
	CHECK(mls_external_senders_decode(&r, &es) == 0);
	CHECK(bw_reader_finish(&r) == 0);
	CHECK_EQ_INT(es.n, 2);
	CHECK_EQ_INT(es.v[0].credential.n_certificates, 2);
	CHECK_EQ_INT(es.v[0].credential.certificates[1].len, 200);
	CHECK_EQ_INT(es.v[1].signature_key.len, 65);
	bw_writer_init(&back, 0);
	CHECK(mls_external_senders_encode(&es, &back) == 0);
	CHECK_MEM(back.buf, back.len, w.buf, w.len);
	mls_external_senders_clear(&es);
	bw_writer_free(&back);
	bw_writer_free(&w);
	return true;
}

static bool test_x509_chain_limit(void)
{
	struct mls_credential c;
	struct bw_writer w;
	struct bw_reader r;
	size_t mark;

	bw_writer_init(&w, 0);
	bw_write_u16(&w, MLS_CREDENTIAL_X509);
	mark = bw_write_vector_begin(&w);
	for (size_t i = 0; i <= MLS_MAX_CERTIFICATES; i++)
		put_opaque_fill(&w, 1, 0x30);
	bw_write_vector_end(&w, mark);
	bw_reader_init(&r, w.buf, w.len);
	CHECK_EQ_INT(mls_credential_decode(&r, &c), BW_ERR_TOO_LONG);
	CHECK(c.certificates == NULL && c.n_certificates == 0);
	bw_writer_free(&w);
	return true;
}

/* Decoded structures own their bytes: the input may go at once. */
static bool test_decoded_owns_its_bytes(void)
{
	json_t *all = messages_json();
	struct bw_bytes b = { 0 };
	struct mls_message m;
	struct bw_writer w;
	uint8_t *copy;

	CHECK(tv_hex(json_array_get(all, 1), "mls_group_info", &b));
	json_decref(all);
	CHECK((copy = malloc(b.len)) != NULL);
	memcpy(copy, b.p, b.len);
	CHECK(mls_message_decode(copy, b.len, &m) == 0);
	OPENSSL_cleanse(copy, b.len);
	free(copy);
	bw_writer_init(&w, 0);
	CHECK(mls_message_encode(&m, &w) == 0);
	CHECK_MEM(w.buf, w.len, b.p, b.len);
	bw_writer_free(&w);
	mls_message_clear(&m);
	CHECK(all_zero(&m, sizeof(m)));
	mls_message_clear(&m); /* clearing twice is harmless */
	bw_bytes_clear(&b);
	return true;
}

/* ---- TBS encoders against real signatures (mls/welcome.json) ---- */

static bool key_package_signatures_verify(json_t *v)
{
	struct bw_bytes raw = { 0 };
	struct mls_message m;
	struct bw_writer tbs;
	const struct mls_suite *s;
	const struct mls_key_package *kp;
	int rc;

	CHECK(tv_hex(v, "key_package", &raw));
	CHECK(mls_message_decode(raw.p, raw.len, &m) == 0);
	CHECK_EQ_INT(m.wire_format, MLS_WIRE_FORMAT_KEY_PACKAGE);
	kp = &m.key_package;
	CHECK((s = mls_suite_get(kp->cipher_suite)) != NULL);
	bw_writer_init(&tbs, 0);
	CHECK(mls_key_package_tbs_encode(kp, &tbs) == 0);
	/* the TBS is the encoding up to the signature */
	CHECK(tbs.len < raw.len - 4 && memcmp(tbs.buf, raw.p + 4, tbs.len) == 0);
	rc = mls_verify_with_label(s, kp->leaf_node.signature_key.p,
				   kp->leaf_node.signature_key.len,
				   "KeyPackageTBS", tbs.buf, tbs.len,
				   kp->signature.p, kp->signature.len);
	CHECK_EQ_INT(rc, 0);
	bw_writer_reset(&tbs);
	CHECK(mls_leaf_node_tbs_encode(&kp->leaf_node, NULL, 0, 0, &tbs) == 0);
	rc = mls_verify_with_label(s, kp->leaf_node.signature_key.p,
				   kp->leaf_node.signature_key.len,
				   "LeafNodeTBS", tbs.buf, tbs.len,
				   kp->leaf_node.signature.p,
				   kp->leaf_node.signature.len);
	CHECK_EQ_INT(rc, 0);
	/* one flipped bit of the TBS and the signature no longer holds */
	tbs.buf[tbs.len / 2] ^= 1;
	rc = mls_verify_with_label(s, kp->leaf_node.signature_key.p,
				   kp->leaf_node.signature_key.len,
				   "LeafNodeTBS", tbs.buf, tbs.len,
				   kp->leaf_node.signature.p,
				   kp->leaf_node.signature.len);
	CHECK_EQ_INT(rc, MLS_ERR_SIGNATURE);
	bw_writer_free(&tbs);
	mls_message_clear(&m);
	bw_bytes_clear(&raw);
	return true;
}

static bool test_tbs_against_signed_key_packages(void)
{
	json_t *all = tv_load(BW_VECTORS_DIR, "mls/welcome.json"), *v;
	unsigned checked = 0;
	bool ok = true;
	uint64_t suite;
	size_t i;

	json_array_foreach(all, i, v) {
		if (!tv_u64(v, "cipher_suite", &suite) ||
		    !tv_suite_in_scope(suite))
			continue;
		ok = ok && key_package_signatures_verify(v);
		checked++;
	}
	json_decref(all);
	CHECK(ok);
	CHECK_EQ_INT(checked, 3);
	return true;
}

/* The entry of a Welcome for a KeyPackage: MakeKeyPackageRef matches. */
static const struct mls_encrypted_group_secrets *
welcome_entry(const struct mls_suite *s, const struct mls_welcome *wl,
	      const struct bw_bytes *kp_message)
{
	uint8_t ref[MLS_MAX_HASH_LEN];

	/* the KeyPackage itself, without the MLSMessage header */
	if (mls_make_key_package_ref(s, kp_message->p + 4, kp_message->len - 4,
				     ref) != 0)
		return NULL;
	for (size_t i = 0; i < wl->n_secrets; i++)
		if (wl->secrets[i].new_member.len == s->hash_len &&
		    memcmp(wl->secrets[i].new_member.p, ref, s->hash_len) == 0)
			return &wl->secrets[i];
	return NULL;
}

/* Decrypt the GroupSecrets for kp, then the GroupInfo (§12.4.3.1). */
static bool open_welcome(const struct mls_suite *s, json_t *v,
			 struct mls_group_secrets *gs,
			 struct mls_group_info *gi)
{
	struct bw_bytes kp = { 0 }, wraw = { 0 }, init_priv = { 0 };
	struct bw_bytes secrets = { 0 }, info = { 0 };
	const struct mls_encrypted_group_secrets *e;
	uint8_t welcome_secret[MLS_MAX_HASH_LEN];
	uint8_t key[MLS_MAX_AEAD_KEY_LEN], nonce[MLS_MAX_AEAD_NONCE_LEN];
	struct mls_message m;
	struct bw_reader r;

	CHECK(tv_hex(v, "key_package", &kp) && tv_hex(v, "welcome", &wraw) &&
	      tv_hex(v, "init_priv", &init_priv));
	CHECK(mls_message_decode(wraw.p, wraw.len, &m) == 0);
	CHECK_EQ_INT(m.wire_format, MLS_WIRE_FORMAT_WELCOME);
	CHECK((e = welcome_entry(s, &m.welcome, &kp)) != NULL);
	CHECK(mls_decrypt_with_label(
		      s, init_priv.p, init_priv.len, "Welcome",
		      m.welcome.encrypted_group_info.p,
		      m.welcome.encrypted_group_info.len,
		      e->encrypted_group_secrets.kem_output.p,
		      e->encrypted_group_secrets.kem_output.len,
		      e->encrypted_group_secrets.ciphertext.p,
		      e->encrypted_group_secrets.ciphertext.len, &secrets) == 0);
	bw_reader_init(&r, secrets.p, secrets.len);
	CHECK(mls_group_secrets_decode(&r, gs) == 0 &&
	      bw_reader_finish(&r) == 0);
	CHECK(mls_welcome_secret(s, gs->joiner_secret.p, gs->joiner_secret.len,
				 NULL, welcome_secret) == 0);
	CHECK(mls_expand_with_label(s, welcome_secret, s->hash_len, "key",
				    NULL, 0, key, s->key_len) == 0);
	CHECK(mls_expand_with_label(s, welcome_secret, s->hash_len, "nonce",
				    NULL, 0, nonce, s->nonce_len) == 0);
	CHECK(bw_bytes_alloc(&info, m.welcome.encrypted_group_info.len -
					    MLS_AEAD_TAG_LEN) == 0);
	CHECK(mls_aead_open(s, key, nonce, NULL, 0,
			    m.welcome.encrypted_group_info.p,
			    m.welcome.encrypted_group_info.len, info.p) == 0);
	bw_reader_init(&r, info.p, info.len);
	CHECK(mls_group_info_decode(&r, gi) == 0 && bw_reader_finish(&r) == 0);
	OPENSSL_cleanse(welcome_secret, sizeof(welcome_secret));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(nonce, sizeof(nonce));
	mls_message_clear(&m);
	bw_bytes_clear(&kp);
	bw_bytes_clear(&wraw);
	bw_bytes_clear(&init_priv);
	bw_bytes_clear(&secrets);
	bw_bytes_clear(&info);
	return true;
}

/* mls/welcome.json: the GroupInfo's signature (GroupInfoTBS) verifies
 * with signer_pub, and its confirmation tag with the confirmation key of
 * the epoch the GroupSecrets' joiner_secret opens. */
static bool group_info_verifies(const struct mls_suite *s, json_t *v)
{
	struct mls_group_secrets gs;
	struct mls_group_info gi;
	struct mls_epoch_secrets e;
	struct bw_bytes signer = { 0 };
	struct bw_writer w;

	CHECK(open_welcome(s, v, &gs, &gi));
	CHECK(tv_hex(v, "signer_pub", &signer));
	bw_writer_init(&w, 0);
	CHECK(mls_group_info_tbs_encode(&gi, &w) == 0);
	CHECK_EQ_INT(mls_verify_with_label(s, signer.p, signer.len,
					   "GroupInfoTBS", w.buf, w.len,
					   gi.signature.p, gi.signature.len),
		     0);
	bw_writer_reset(&w);
	CHECK(mls_group_context_encode(&gi.group_context, &w) == 0);
	CHECK(mls_key_schedule_join(s, gs.joiner_secret.p,
				    gs.joiner_secret.len, NULL, w.buf, w.len,
				    &e) == 0);
	CHECK(gi.group_context.confirmed_transcript_hash.len == s->hash_len);
	CHECK_EQ_INT(mls_confirmation_tag_verify(
			     s, e.confirmation_key,
			     gi.group_context.confirmed_transcript_hash.p,
			     gi.confirmation_tag.p, gi.confirmation_tag.len),
		     0);
	mls_epoch_secrets_clear(&e);
	bw_writer_free(&w);
	bw_bytes_clear(&signer);
	mls_group_info_clear(&gi);
	mls_group_secrets_clear(&gs);
	return true;
}

static bool test_group_info_and_secrets_from_welcome(void)
{
	json_t *all = tv_load(BW_VECTORS_DIR, "mls/welcome.json"), *v;
	const struct mls_suite *s;
	unsigned checked = 0;
	bool ok = true;
	uint64_t suite;
	size_t i;

	json_array_foreach(all, i, v) {
		if (!tv_u64(v, "cipher_suite", &suite) ||
		    !tv_suite_in_scope(suite))
			continue;
		ok = ok && (s = mls_suite_get((uint16_t)suite)) != NULL &&
		     group_info_verifies(s, v);
		checked++;
	}
	json_decref(all);
	CHECK(ok);
	CHECK_EQ_INT(checked, 3);
	return true;
}

/* LeafNodeTBS of the update and commit sources appends group and leaf. */
static bool test_leaf_node_tbs_context(void)
{
	struct mls_leaf_node n;
	struct bw_writer w, tbs;
	static const uint8_t gid[] = { 'g', 'r', 'p' };

	bw_writer_init(&w, 0);
	put_leaf_node(&w, MLS_LEAF_SOURCE_COMMIT, MLS_CREDENTIAL_BASIC);
	CHECK(decode_all(&w, leaf_decode, &n, sizeof(n)) == 0);
	bw_writer_init(&tbs, 0);
	CHECK(mls_leaf_node_tbs_encode(&n, gid, sizeof(gid), 0x01020304,
				       &tbs) == 0);
	/* fields without the 64-byte signature and its 2-byte header ... */
	CHECK(memcmp(tbs.buf, w.buf, w.len - 66) == 0);
	/* ... then opaque group_id and uint32 leaf_index */
	CHECK_EQ_INT(tbs.len, w.len - 66 + 1 + sizeof(gid) + 4);
	CHECK(memcmp(tbs.buf + tbs.len - 4, "\x01\x02\x03\x04", 4) == 0);
	bw_writer_free(&tbs);
	bw_writer_free(&w);
	mls_leaf_node_clear(&n);
	return true;
}

int main(void)
{
	int failed = 0;

	RUN(test_truncation_at_every_byte, &failed);
	RUN(test_trailing_bytes_rejected, &failed);
	RUN(test_leaf_node_types, &failed);
	RUN(test_message_header, &failed);
	RUN(test_framing_types, &failed);
	RUN(test_private_message_content_type, &failed);
	RUN(test_commit_octets_and_types, &failed);
	RUN(test_group_secrets_octet_and_psk_types, &failed);
	RUN(test_length_limits, &failed);
	RUN(test_extension_limits_and_duplicates, &failed);
	RUN(test_unknown_extension_kept, &failed);
	RUN(test_ratchet_tree_shape, &failed);
	RUN(test_ratchet_tree_node_limit, &failed);
	RUN(test_x509_credential_and_external_senders, &failed);
	RUN(test_x509_chain_limit, &failed);
	RUN(test_decoded_owns_its_bytes, &failed);
	RUN(test_tbs_against_signed_key_packages, &failed);
	RUN(test_group_info_and_secrets_from_welcome, &failed);
	RUN(test_leaf_node_tbs_context, &failed);
	return failed == 0 ? 0 : 1;
}

/*
 * vec_message_protection.c - PublicMessage and PrivateMessage protection
 * (RFC 9420 §6) against mls/message-protection.json, every check of its
 * FORMATS.md section: for the proposal, the commit and the application
 * data, sent by leaf 1 of a two-member group,
 *   - the given PublicMessage unprotects to the raw value (proposal and
 *     commit), and protecting the raw value as a PublicMessage gives one
 *     that unprotects (for application data, protecting as a
 *     PublicMessage fails);
 *   - the given PrivateMessage unprotects with a secret tree from
 *     encryption_secret, and protecting the raw value as a PrivateMessage
 *     gives one that unprotects with a fresh secret tree.
 */
#include <stdlib.h>

#include "crypto.h"
#include "framing.h"
#include "messages.h"
#include "secret_tree.h"
#include "suite_vectors.h"
#include "test.h"
#include "vectors.h"

#define SENDER_LEAF 1

struct vector {
	const struct mls_suite *suite;
	struct mls_group_context gc;
	struct bw_bytes sig_priv, sig_pub, encryption_secret;
	struct bw_bytes sender_data_secret, membership_key;
};

/* Every message comes from leaf 1, whose key the vector gives. */
static int sender_key(void *arg, const struct mls_framed_content *content,
		      const uint8_t **key, size_t *key_len)
{
	const struct vector *tv = arg;

	if (content->sender.type != MLS_SENDER_MEMBER ||
	    content->sender.index != SENDER_LEAF)
		return MLS_ERR_NOT_MEMBER;
	*key = tv->sig_pub.p;
	*key_len = tv->sig_pub.len;
	return 0;
}

static void framing_ctx(struct vector *tv, struct mls_secret_tree *tree,
			struct mls_framing_ctx *ctx)
{
	*ctx = (struct mls_framing_ctx){
		.suite = tv->suite,
		.group_context = &tv->gc,
		.membership_key = tv->membership_key.p,
		.sender_data_secret = tv->sender_data_secret.p,
		.secret_tree = tree,
		.sender_key = sender_key,
		.sender_key_arg = tv,
	};
}

/* The raw value of a content type, decoded into fc's body. */
static bool raw_decode(const struct bw_bytes *raw, uint8_t content_type,
		       struct mls_framed_content *fc)
{
	struct bw_reader r;

	if (content_type == MLS_CONTENT_APPLICATION) {
		fc->content_type = content_type;
		return bw_bytes_set(&fc->application_data, raw->p, raw->len) ==
		       0;
	}
	bw_reader_init(&r, raw->p, raw->len);
	CHECK(mls_content_body_decode(&r, content_type, fc) == 0);
	CHECK(bw_reader_finish(&r) == 0);
	return true;
}

/* The body of unprotected content must be the raw value, byte for byte. */
static bool body_is(const struct mls_authenticated_content *ac,
		    uint8_t content_type, const struct bw_bytes *raw)
{
	struct bw_writer w;
	bool same;

	CHECK_EQ_INT(ac->content.content_type, content_type);
	CHECK_EQ_INT(ac->content.sender.type, MLS_SENDER_MEMBER);
	CHECK_EQ_INT(ac->content.sender.index, SENDER_LEAF);
	if (content_type == MLS_CONTENT_APPLICATION) {
		CHECK_MEM(ac->content.application_data.p,
			  ac->content.application_data.len, raw->p, raw->len);
		return true;
	}
	bw_writer_init(&w, 0);
	mls_content_body_encode(&ac->content, &w);
	same = w.err == 0 && w.len == raw->len &&
	       memcmp(w.buf, raw->p, w.len) == 0;
	bw_writer_free(&w);
	CHECK(same);
	return true;
}

/* Decode an MLSMessage and unprotect it with a fresh secret tree. */
static bool unprotect_is(struct vector *tv, const uint8_t *msg, size_t len,
			 uint8_t content_type, const struct bw_bytes *raw)
{
	struct mls_authenticated_content ac;
	struct mls_secret_tree *tree = NULL;
	struct mls_framing_ctx ctx;
	struct mls_message m;
	int rc;

	CHECK(mls_message_decode(msg, len, &m) == 0);
	CHECK(mls_secret_tree_new(tv->suite, tv->encryption_secret.p,
				  tv->encryption_secret.len, 2, &tree) == 0);
	framing_ctx(tv, tree, &ctx);
	if (m.wire_format == MLS_WIRE_FORMAT_PUBLIC_MESSAGE)
		rc = mls_public_message_unprotect(&ctx, &m.public_message, &ac);
	else if (m.wire_format == MLS_WIRE_FORMAT_PRIVATE_MESSAGE)
		rc = mls_private_message_unprotect(&ctx, &m.private_message,
						   &ac);
	else
		rc = MLS_ERR_WIRE_FORMAT;
	mls_message_clear(&m);
	mls_secret_tree_free(tree);
	if (rc != 0) {
		fprintf(stderr, "unprotect: %s\n", mls_strerror(rc));
		return false;
	}
	rc = body_is(&ac, content_type, raw);
	mls_authenticated_content_clear(&ac);
	return rc;
}

/* Protect the raw value as wire_format, then unprotect the result. */
static bool protect_roundtrip(struct vector *tv, uint16_t wire_format,
			      uint8_t content_type, const struct bw_bytes *raw,
			      const struct bw_bytes *confirmation_tag)
{
	struct mls_authenticated_content ac = { .wire_format = wire_format };
	struct mls_secret_tree *tree = NULL;
	struct mls_framing_ctx ctx;
	struct bw_writer w;
	bool ok = false;
	int rc;

	bw_writer_init(&w, 0);
	ac.content.epoch = tv->gc.epoch;
	ac.content.sender.type = MLS_SENDER_MEMBER;
	ac.content.sender.index = SENDER_LEAF;
	if (bw_bytes_set(&ac.content.group_id, tv->gc.group_id.p,
			 tv->gc.group_id.len) != 0 ||
	    !raw_decode(raw, content_type, &ac.content) ||
	    bw_bytes_set(&ac.auth.confirmation_tag, confirmation_tag->p,
			 confirmation_tag->len) != 0 ||
	    mls_secret_tree_new(tv->suite, tv->encryption_secret.p,
				tv->encryption_secret.len, 2, &tree) != 0)
		goto out;
	framing_ctx(tv, tree, &ctx);
	if ((rc = mls_framed_content_sign(&ctx, &ac, tv->sig_priv.p,
					  tv->sig_priv.len)) != 0)
		goto out;
	if (wire_format == MLS_WIRE_FORMAT_PUBLIC_MESSAGE)
		rc = mls_public_message_protect(&ctx, &ac, &w);
	else
		rc = mls_private_message_protect(&ctx, &ac, 16, &w);
	if (content_type == MLS_CONTENT_APPLICATION &&
	    wire_format == MLS_WIRE_FORMAT_PUBLIC_MESSAGE) {
		ok = rc == MLS_ERR_APP_AS_PUBLIC && w.len == 0;
		goto out;
	}
	if (rc != 0) {
		fprintf(stderr, "protect: %s\n", mls_strerror(rc));
		goto out;
	}
	/* unprotect_is uses a fresh tree: the receiver's own. */
	ok = unprotect_is(tv, w.buf, w.len, content_type, raw);
out:
	mls_secret_tree_free(tree);
	mls_authenticated_content_clear(&ac);
	bw_writer_free(&w);
	return ok;
}

/* The confirmation tag a commit_pub carries, reused for our own commit. */
static bool commit_tag(json_t *v, struct bw_bytes *tag)
{
	struct bw_bytes msg = { 0 };
	struct mls_message m;
	bool ok;

	if (!tv_hex(v, "commit_pub", &msg))
		return false;
	ok = mls_message_decode(msg.p, msg.len, &m) == 0 &&
	     m.wire_format == MLS_WIRE_FORMAT_PUBLIC_MESSAGE &&
	     bw_bytes_set(tag, m.public_message.auth.confirmation_tag.p,
			  m.public_message.auth.confirmation_tag.len) == 0;
	mls_message_clear(&m);
	bw_bytes_clear(&msg);
	return ok;
}

static bool check_kind(struct vector *tv, json_t *v, const char *name,
		       uint8_t content_type, const struct bw_bytes *tag)
{
	char key[32];
	struct bw_bytes raw = { 0 }, msg = { 0 };
	bool ok = false;

	if (!tv_hex(v, name, &raw))
		goto out;
	if (content_type != MLS_CONTENT_APPLICATION) {
		snprintf(key, sizeof(key), "%s_pub", name);
		if (!tv_hex(v, key, &msg) ||
		    !unprotect_is(tv, msg.p, msg.len, content_type, &raw))
			goto out;
	}
	if (!protect_roundtrip(tv, MLS_WIRE_FORMAT_PUBLIC_MESSAGE,
			       content_type, &raw, tag))
		goto out;
	snprintf(key, sizeof(key), "%s_priv", name);
	if (!tv_hex(v, key, &msg) ||
	    !unprotect_is(tv, msg.p, msg.len, content_type, &raw) ||
	    !protect_roundtrip(tv, MLS_WIRE_FORMAT_PRIVATE_MESSAGE,
			       content_type, &raw, tag))
		goto out;
	ok = true;
out:
	if (!ok)
		fprintf(stderr, "suite %u: %s fails\n", tv->suite->id, name);
	bw_bytes_clear(&raw);
	bw_bytes_clear(&msg);
	return ok;
}

static bool load(json_t *v, struct vector *tv)
{
	uint64_t epoch;

	tv->gc.version = MLS_PROTOCOL_VERSION_MLS10;
	tv->gc.cipher_suite = tv->suite->id;
	if (!tv_hex(v, "group_id", &tv->gc.group_id) ||
	    !tv_u64(v, "epoch", &epoch) ||
	    !tv_hex(v, "tree_hash", &tv->gc.tree_hash) ||
	    !tv_hex(v, "confirmed_transcript_hash",
		    &tv->gc.confirmed_transcript_hash) ||
	    !tv_hex(v, "signature_priv", &tv->sig_priv) ||
	    !tv_hex(v, "signature_pub", &tv->sig_pub) ||
	    !tv_hex(v, "encryption_secret", &tv->encryption_secret) ||
	    !tv_hex(v, "sender_data_secret", &tv->sender_data_secret) ||
	    !tv_hex(v, "membership_key", &tv->membership_key))
		return false;
	tv->gc.epoch = epoch;
	return tv->membership_key.len == tv->suite->hash_len &&
	       tv->sender_data_secret.len == tv->suite->hash_len;
}

static bool check(json_t *v, const struct mls_suite *suite)
{
	struct vector tv = { .suite = suite };
	struct bw_bytes tag = { 0 };
	bool ok = load(v, &tv) && commit_tag(v, &tag) &&
		  check_kind(&tv, v, "proposal", MLS_CONTENT_PROPOSAL, &tag) &&
		  check_kind(&tv, v, "commit", MLS_CONTENT_COMMIT, &tag) &&
		  check_kind(&tv, v, "application", MLS_CONTENT_APPLICATION,
			     &tag);

	mls_group_context_clear(&tv.gc);
	bw_bytes_clear(&tv.sig_priv);
	bw_bytes_clear(&tv.sig_pub);
	bw_bytes_clear(&tv.encryption_secret);
	bw_bytes_clear(&tv.sender_data_secret);
	bw_bytes_clear(&tv.membership_key);
	bw_bytes_clear(&tag);
	return ok;
}

int main(int argc, char **argv)
{
	return tv_run_suites(argc, argv, "mls/message-protection.json", "message-protection", check);
}

/*
 * fuzz_commit_process.c - messages processed by a live group of three
 * (RFC 9420 §6, §12.1-§12.4): by member B and by the delivery service's
 * view. The first byte says how the rest is used:
 *   0  the MLSMessage itself;
 *   1  XOR patches (uint16 offset, uint8 mask) on one of several real
 *      messages (next byte): commits with and without a path, adding and
 *      removing, an external commit, a proposal, application data;
 *   2  a Commit body, sent by member A as a signed PublicMessage with a
 *      valid membership tag, so that proposal validation, the path and
 *      the key schedule see the bytes.
 * Each input starts from the same saved states. A message that fails
 * must leave both states exactly as they were (checked); one that
 * succeeds is fine.
 */
#include <stdlib.h>
#include <string.h>

#include "group_internal.h"
#include "msg_internal.h"

#define N_REAL 6

static struct mls_config cfg;
static const uint8_t key[MLS_STATE_KEY_LEN] = { 0x5e, 0xc2 };
static struct mls_group *alice;         /* signs mode 2's commits */
static struct bw_bytes b_state, ds_state; /* B and the DS, saved */
static struct bw_bytes b_plain;         /* B's state, unencrypted */
static struct bw_bytes real[N_REAL];

static int accept_all(void *arg, const struct mls_credential *c,
		      const uint8_t *k, size_t len)
{
	(void)arg;
	(void)c;
	(void)k;
	(void)len;
	return 0;
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz_commit_process: %s failed\n", what);
	abort();
}

static struct mls_signer *signer(uint16_t suite, const char *name)
{
	struct mls_credential *c = NULL;
	struct mls_signer *s = NULL;

	if (mls_credential_new_basic(name, strlen(name), &c) != 0 ||
	    mls_signer_new(suite, NULL, 0, &s) != 0 ||
	    mls_signer_set_credential(s, c) != 0)
		die("signer");
	mls_credential_free(c);
	return s;
}

/* A KeyPackage message for a new client. */
static void key_package(uint16_t suite, const char *name, uint8_t **kp,
			size_t *len)
{
	struct mls_key_package_bundle *b = NULL;
	struct mls_signer *s = signer(suite, name);

	if (mls_key_package_bundle_new(&cfg, s, &b) != 0 ||
	    mls_key_package_bundle_message(b, kp, len) != 0)
		die("key package");
	mls_key_package_bundle_free(b);
	mls_signer_free(s);
}

static void keep(size_t i, const uint8_t *p, size_t n)
{
	if (bw_bytes_set(&real[i], p, n) != 0)
		die("keep");
}

/* A commit of A's, kept as a real message; A's pending state dropped. */
static void real_commit(size_t i, bool force_path)
{
	struct mls_commit_options opt = { .force_path = force_path };
	struct mls_commit_output o;

	if (mls_group_commit(alice, &opt, &o) != 0)
		die("commit");
	keep(i, o.commit, o.commit_len);
	mls_group_discard_pending_commit(alice);
	mls_commit_output_clear(&o);
}

/* A, B, C at epoch 1, the DS following; the real messages of epoch 1. */
static void make_group(void)
{
	const uint16_t suite = MLS_SUITE_X25519_AES128GCM_SHA256_ED25519;
	struct mls_key_package_bundle *bb = NULL, *cb = NULL;
	const struct mls_key_package_bundle *bundles[2];
	struct mls_signer *a = signer(suite, "alice"), *x;
	struct mls_external_join ej = { 0 };
	struct mls_commit_output o;
	struct mls_public_group *ds = NULL;
	struct mls_group *bob = NULL, *out = NULL;
	struct mls_process_result r;
	struct bw_writer w;
	uint8_t *p = NULL, *gi = NULL;
	size_t n, gi_len;

	x = signer(suite, "bob");
	if (mls_key_package_bundle_new(&cfg, x, &bb) != 0)
		die("bob");
	mls_signer_free(x);
	x = signer(suite, "carol");
	if (mls_key_package_bundle_new(&cfg, x, &cb) != 0)
		die("carol");
	mls_signer_free(x);
	if (mls_group_create(&cfg, a, (const uint8_t *)"fuzz", 4, NULL,
			     &alice) != 0 ||
	    mls_group_group_info(alice, true, &gi, &gi_len) != 0 ||
	    mls_public_group_new(&cfg, gi, gi_len, NULL, 0, &ds) != 0)
		die("group");
	free(gi);
	bundles[0] = bb;
	bundles[1] = cb;
	for (size_t i = 0; i < 2; i++) {
		if (mls_key_package_bundle_message(bundles[i], &p, &n) != 0 ||
		    mls_group_propose_add(alice, p, n, NULL, NULL) != 0)
			die("add");
		free(p);
	}
	if (mls_group_commit(alice, &(struct mls_commit_options){ .ratchet_tree = true },
			     &o) != 0 ||
	    mls_public_group_process(ds, o.commit, o.commit_len, &r) != 0 ||
	    mls_group_merge_pending_commit(alice) != 0 ||
	    mls_group_join(&cfg, bundles, 1, o.welcome, o.welcome_len, NULL, 0,
			   &bob) != 0)
		die("first commit");
	mls_process_result_clear(&r);
	/* The real messages of this epoch. */
	real_commit(0, true);
	if (mls_group_propose_remove(alice, 2, NULL, NULL) != 0)
		die("remove");
	real_commit(1, false);
	key_package(suite, "dave", &p, &n);
	if (mls_group_propose_add(alice, p, n, NULL, NULL) != 0)
		die("add");
	free(p);
	real_commit(2, false);
	ej.group_info = o.group_info;
	ej.group_info_len = o.group_info_len;
	x = signer(suite, "erin");
	if (mls_group_join_external(&cfg, x, &ej, &p, &n, &out) != 0)
		die("external commit");
	keep(3, p, n);
	free(p);
	mls_group_free(out);
	mls_signer_free(x);
	if (mls_group_propose_update(bob, &p, &n) != 0)
		die("update");
	keep(4, p, n);
	free(p);
	if (mls_group_encrypt(alice, "data", 4, NULL, 0, &p, &n) != 0)
		die("encrypt");
	keep(5, p, n);
	free(p);
	/* The states every input starts from. */
	bw_writer_init(&w, 0);
	if (mls_group_save(bob, key, &b_state.p, &b_state.len) != 0 ||
	    mls_public_group_save(ds, &ds_state.p, &ds_state.len) != 0 ||
	    mls_group_state_encode(bob, &w) != 0 ||
	    bw_writer_take(&w, &b_plain.p, &b_plain.len) != 0)
		die("save");
	bw_writer_free(&w);
	mls_commit_output_clear(&o);
	mls_group_free(bob);
	mls_public_group_free(ds);
	mls_key_package_bundle_free(bb);
	mls_key_package_bundle_free(cb);
	mls_signer_free(a);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cfg.accept_credential = accept_all;
	make_group();
	return 0;
}

static int patched(const struct bw_bytes *base, const uint8_t *p, size_t n,
		   struct bw_bytes *out)
{
	if (bw_bytes_set(out, base->p, base->len) != 0)
		return -1;
	for (size_t i = 0; i + 3 <= n; i += 3)
		out->p[((size_t)p[i] << 8 | p[i + 1]) % out->len] ^= p[i + 2];
	return 0;
}

/* A's commit with the body in p (a Commit), signed and tagged. */
static int wrap_commit(const uint8_t *p, size_t n, struct bw_bytes *out)
{
	struct mls_authenticated_content ac;
	size_t hl = alice->st.suite->hash_len;
	struct bw_reader r;
	struct bw_writer w;
	int rc;

	if ((rc = mls_group_content_init(alice, MLS_CONTENT_COMMIT, &ac)) != 0)
		return rc;
	bw_reader_init(&r, p, n);
	bw_writer_init(&w, 0);
	if ((rc = mls_commit_decode(&r, &ac.content.commit)) != 0 ||
	    (rc = bw_reader_finish(&r)) != 0 ||
	    (rc = bw_bytes_alloc(&ac.auth.confirmation_tag, hl)) != 0 ||
	    (rc = mls_group_send(alice, &ac, &w)) != 0)
		goto out;
	rc = bw_writer_take(&w, &out->p, &out->len);
out:
	mls_authenticated_content_clear(&ac);
	bw_writer_free(&w);
	return rc;
}

/* B processes msg; a refusal changes nothing. */
static void member_processes(const struct bw_bytes *msg)
{
	struct mls_process_result r;
	struct mls_group *b = NULL;
	struct bw_writer w;

	if (mls_group_load(&cfg, key, b_state.p, b_state.len, &b) != 0)
		die("load");
	if (mls_group_process(b, msg->p, msg->len, &r) == 0) {
		mls_process_result_clear(&r);
	} else {
		bw_writer_init(&w, 0);
		if (mls_group_state_encode(b, &w) != 0 || w.len != b_plain.len ||
		    memcmp(w.buf, b_plain.p, w.len) != 0)
			die("unchanged member state");
		bw_writer_free(&w);
	}
	mls_group_free(b);
}

static void view_processes(const struct bw_bytes *msg)
{
	struct mls_process_result r;
	struct mls_public_group *ds = NULL;
	uint8_t *now = NULL;
	size_t n;

	if (mls_public_group_load(&cfg, ds_state.p, ds_state.len, &ds) != 0)
		die("load view");
	if (mls_public_group_process(ds, msg->p, msg->len, &r) == 0) {
		mls_process_result_clear(&r);
	} else if (mls_public_group_save(ds, &now, &n) != 0 ||
		   n != ds_state.len || memcmp(now, ds_state.p, n) != 0) {
		die("unchanged view");
	}
	free(now);
	mls_public_group_free(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bw_bytes msg = { 0 };
	int rc;

	if (size < 2)
		return 0;
	switch (data[0] % 3) {
	case 0:
		rc = bw_bytes_set(&msg, data + 1, size - 1);
		break;
	case 1:
		rc = patched(&real[data[1] % N_REAL], data + 2, size - 2, &msg);
		break;
	default:
		rc = wrap_commit(data + 1, size - 1, &msg);
	}
	if (rc == 0) {
		member_processes(&msg);
		view_processes(&msg);
	}
	bw_bytes_clear(&msg);
	return 0;
}

/*
 * tc_hostile.c - hostile requests to the delivery service, each with the
 * status it must get; test_ds.py compares the database before and after
 * to show that none of them stored anything.
 *
 * ds-prep makes what needs the group to move on first: B's message and
 * commit of an epoch that is then over, C's commit and message from
 * before C was removed, a key package A uploaded, and the idempotency key
 * of a message A sent. ds-hostile then sends, as the wrong device, at the
 * wrong time or in the wrong shape:
 *   invalid MLS, stale epochs, another leaf's commit or proposal (forged
 *   sender), a removed member's commit, groups a device is not in, unknown
 *   groups and users, duplicate, foreign, garbage, oversize and too many
 *   key packages, a taken group id, a group whose member is another
 *   device, a GroupInfo that does not match, a reused idempotency key.
 * It never processes a push, so it acknowledges nothing either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "pki.h"
#include "session.h"
#include "tc_ds.h"

static int failures;

static void expect(const char *what, int got, int want)
{
	if (got == want) {
		printf("ok   %s (status %d)\n", what, got);
		return;
	}
	printf("FAIL %s: status %d, expected %d\n", what, got, want);
	failures++;
}

/* ---- artifacts ---- */

static void put(const char *dir, const char *name, const uint8_t *p,
		size_t n)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n)
		tc_die("cannot write an artifact", -1);
	fclose(f);
}

struct blob {
	uint8_t *p;
	size_t n;
};

static struct blob get(const char *dir, const char *name)
{
	struct blob b = { 0 };
	char path[4200];
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (b.p = malloc((size_t)n)) == NULL ||
	    fread(b.p, 1, (size_t)n, f) != (size_t)n)
		tc_die("cannot read an artifact", -1);
	fclose(f);
	b.n = (size_t)n;
	return b;
}

/* ---- requests ---- */

static int commit_raw(struct tc_device *d, const uint8_t *group_id,
		      const struct blob *commit, const struct blob *gi,
		      const uint8_t *key)
{
	struct proto_group_commit_req req = {
		.group_id = { group_id, TC_GROUP_ID_LEN },
		.idempotency_key = { key, PROTO_IDEMPOTENCY_KEY_LEN },
		.commit = { commit->p, commit->n },
		.group_info = { gi->p, gi->n },
	};
	struct bw_writer w;
	struct proto_msg m;
	int rc;

	bw_writer_init(&w, 0);
	proto_encode_group_commit_req(&w, &req);
	rc = tc_call(d, PROTO_T_GROUP_COMMIT, w.buf, w.len, &m);
	bw_writer_free(&w);
	return rc;
}

static int message_raw(struct tc_device *d, const uint8_t *group_id,
		       uint16_t type, const struct blob *msg)
{
	uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN];
	uint64_t seq;

	tc_random_key(key);
	return tc_send_raw(d, group_id, key, msg->p, msg->n, type, &seq);
}

/* A request whose body is a list of key packages (and no last resort). */
static int upload_raw(struct tc_device *d, const struct blob *kps, size_t n)
{
	struct bw_writer w;
	struct proto_msg m;
	size_t list;
	int rc;

	bw_writer_init(&w, 0);
	list = bw_write_vector_begin(&w);
	for (size_t i = 0; i < n; i++)
		bw_write_opaque(&w, kps[i].p, kps[i].n);
	bw_write_vector_end(&w, list);
	bw_write_optional(&w, false);
	rc = tc_call(d, PROTO_T_KP_UPLOAD, w.buf, w.len, &m);
	bw_writer_free(&w);
	return rc;
}

static int claim_raw(struct tc_device *d, const char *const *users, size_t n)
{
	struct bw_writer w;
	struct proto_msg m;
	size_t list;
	int rc;

	bw_writer_init(&w, 0);
	list = bw_write_vector_begin(&w);
	for (size_t i = 0; i < n; i++)
		bw_write_opaque(&w, users[i], strlen(users[i]));
	bw_write_vector_end(&w, list);
	rc = tc_call(d, PROTO_T_KP_CLAIM, w.buf, w.len, &m);
	bw_writer_free(&w);
	return rc;
}

/* A fresh key package of d's, not uploaded. */
static struct blob fresh_kp(struct tc_device *d)
{
	struct mls_key_package_bundle *b = NULL;
	struct blob kp = { 0 };

	if (mls_key_package_bundle_new(&d->cfg, d->signer, &b) != 0 ||
	    mls_key_package_bundle_message(b, &kp.p, &kp.n) != 0)
		tc_die("cannot make a key package", -1);
	mls_key_package_bundle_free(b);
	return kp;
}

/* The leaf of the user's device in a group. */
static uint32_t leaf_of(struct tc_group *gr, const char *user)
{
	char u[CA_NAME_MAX + 1], dev[CA_NAME_MAX + 1];
	struct mls_member m;
	const uint8_t *der;
	size_t n;

	for (uint32_t i = 0; i < mls_group_n_leaves(gr->g); i++)
		if (mls_group_member(gr->g, i, &m) == 0 &&
		    mls_credential_certificate(m.credential, 0, &der, &n) ==
			    0 &&
		    ca_device_identity(der, n, u, dev) == 0 &&
		    strcmp(u, user) == 0)
			return i;
	tc_die("no leaf of that user", -1);
}

static struct tc_group *group_or_die(struct tc_device *d, const char *name)
{
	struct tc_group *gr = tc_group_find(d, name);

	if (gr == NULL)
		tc_die("the device is not in the group", -1);
	return gr;
}

/* ---- ds-prep ---- */

/* A commit (with its GroupInfo) and a message of the current epoch,
 * written out and never sent; the device's state is not saved after. */
static void craft(struct tc_group *gr, const char *out, const char *prefix)
{
	struct mls_commit_options opt = { .force_path = true,
					  .ratchet_tree = true };
	struct mls_commit_output co = { 0 };
	uint8_t *msg = NULL;
	size_t len = 0;
	char name[64];

	if (mls_group_encrypt(gr->g, "never sent", 10, NULL, 0, &msg, &len) !=
		    0 ||
	    mls_group_commit(gr->g, &opt, &co) != 0)
		tc_die("cannot craft", -1);
	snprintf(name, sizeof(name), "%s_msg", prefix);
	put(out, name, msg, len);
	snprintf(name, sizeof(name), "%s_commit", prefix);
	put(out, name, co.commit, co.commit_len);
	snprintf(name, sizeof(name), "%s_gi", prefix);
	put(out, name, co.group_info, co.group_info_len);
	mls_commit_output_clear(&co);
	free(msg);
}

int tc_hostile_prep(char **argv)
{
	const char *addr = argv[0], *cuser = argv[4], *name = argv[5],
		   *out = argv[6];
	uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN], *msg = NULL;
	struct tc_device a, b, c;
	struct tc_group *ga;
	struct blob kp;
	uint64_t seq;
	size_t len;

	tc_open(addr, argv[1], &a);
	/* C comes in, and crafts what it will send once removed. C connects
	 * after the commit, so that its backlog before SYNCED holds the
	 * Welcome. */
	if (tc_pump(&a, 10000, true) != 0 ||
	    tc_group_add(&a, name, &cuser, 1) != 0)
		tc_die("cannot add C", -1);
	tc_open(addr, argv[3], &c);
	tc_open(addr, argv[2], &b);
	if (tc_pump(&c, 10000, true) != 0)
		tc_die("C cannot join", -1);
	craft(group_or_die(&c, name), out, "c");
	/* B crafts for the epoch that A's next commit ends. */
	if (tc_pump(&b, 10000, true) != 0)
		tc_die("B cannot catch up", -1);
	craft(group_or_die(&b, name), out, "b");
	ga = group_or_die(&a, name);
	if (mls_group_propose_remove(ga->g, leaf_of(ga, cuser), NULL, NULL) !=
		    0 ||
	    tc_group_commit(&a, name, &seq) != 0)
		tc_die("cannot remove C", -1);
	/* A message whose key ds-hostile reuses, and a key package. */
	tc_random_key(key);
	if (mls_group_encrypt(ga->g, "keyed", 5, NULL, 0, &msg, &len) != 0 ||
	    tc_device_save(&a) != 0 ||
	    tc_send_raw(&a, ga->id, key, msg, len, PROTO_T_GROUP_SEND, &seq) !=
		    0)
		tc_die("cannot send", -1);
	put(out, "a_key", key, sizeof(key));
	kp = fresh_kp(&a);
	if (upload_raw(&a, &kp, 1) != 0)
		tc_die("cannot upload", -1);
	put(out, "a_kp", kp.p, kp.n);
	free(kp.p);
	free(msg);
	printf("prepared\n");
	/* Closing saves nothing: B's and C's crafting stays unsaved. */
	tc_device_close(&c);
	tc_device_close(&b);
	tc_device_close(&a);
	return 0;
}

/* ---- ds-hostile ---- */

static void hostile_messages(struct tc_device *b, struct tc_device *c,
			     const uint8_t *gid, const char *out)
{
	struct blob b_msg = get(out, "b_msg"), b_commit = get(out, "b_commit"),
		    b_gi = get(out, "b_gi"), c_msg = get(out, "c_msg"),
		    c_commit = get(out, "c_commit"), c_gi = get(out, "c_gi");
	uint8_t junk[64], key[PROTO_IDEMPOTENCY_KEY_LEN];
	struct blob garbage = { junk, sizeof(junk) };

	RAND_bytes(junk, sizeof(junk));
	tc_random_key(key);
	expect("garbage as an application message",
	       message_raw(b, gid, PROTO_T_GROUP_SEND, &garbage),
	       PROTO_E_INVALID_MLS);
	expect("a PublicMessage sent as an application message",
	       message_raw(b, gid, PROTO_T_GROUP_SEND, &b_commit),
	       PROTO_E_INVALID_MLS);
	expect("a PrivateMessage proposed",
	       message_raw(b, gid, PROTO_T_GROUP_PROPOSE, &b_msg),
	       PROTO_E_INVALID_MLS);
	expect("a message of a past epoch",
	       message_raw(b, gid, PROTO_T_GROUP_SEND, &b_msg),
	       PROTO_E_STALE_EPOCH);
	expect("a commit for a past epoch",
	       commit_raw(b, gid, &b_commit, &b_gi, key), PROTO_E_STALE_EPOCH);
	expect("a removed member's commit",
	       commit_raw(c, gid, &c_commit, &c_gi, key), PROTO_E_NOT_MEMBER);
	expect("a removed member's message",
	       message_raw(c, gid, PROTO_T_GROUP_SEND, &c_msg),
	       PROTO_E_NOT_MEMBER);
	free(b_msg.p);
	free(b_commit.p);
	free(b_gi.p);
	free(c_msg.p);
	free(c_commit.p);
	free(c_gi.p);
}

/* A's valid commit and proposal, sent by B: another leaf's. */
static void forged_senders(struct tc_device *a, struct tc_device *b,
			   struct tc_group *ga, const char *out)
{
	struct mls_commit_options opt = { .force_path = true,
					  .ratchet_tree = true };
	struct mls_commit_output co = { 0 };
	struct blob commit, gi, proposal, stale_gi = get(out, "b_gi");
	uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN];

	tc_random_key(key);
	if (mls_group_propose_update(ga->g, &proposal.p, &proposal.n) != 0 ||
	    mls_group_commit(ga->g, &opt, &co) != 0)
		tc_die("cannot craft A's messages", -1);
	commit = (struct blob){ co.commit, co.commit_len };
	gi = (struct blob){ co.group_info, co.group_info_len };
	expect("A's proposal sent by B",
	       message_raw(b, ga->id, PROTO_T_GROUP_PROPOSE, &proposal),
	       PROTO_E_FORBIDDEN);
	expect("A's commit sent by B", commit_raw(b, ga->id, &commit, &gi, key),
	       PROTO_E_FORBIDDEN);
	expect("A's commit with a GroupInfo of another epoch",
	       commit_raw(a, ga->id, &commit, &stale_gi, key),
	       PROTO_E_INVALID_MLS);
	mls_commit_output_clear(&co);
	free(proposal.p);
	free(stale_gi.p);
}

static void hostile_groups(struct tc_device *a, struct tc_device *b,
			   struct tc_device *c, struct tc_group *ga,
			   const char *out)
{
	uint8_t unknown[TC_GROUP_ID_LEN] = { 0xee }, *msg = NULL;
	struct blob key = get(out, "a_key"), other;
	struct proto_msg m;
	struct bw_writer w;
	uint64_t seq;

	if (mls_group_encrypt(ga->g, "other", 5, NULL, 0, &msg, &other.n) != 0)
		tc_die("cannot encrypt", -1);
	other.p = msg;
	expect("a used idempotency key with other content",
	       tc_send_raw(a, ga->id, key.p, other.p, other.n,
			   PROTO_T_GROUP_SEND, &seq),
	       PROTO_E_IDEMPOTENCY);
	expect("a message to an unknown group",
	       message_raw(a, unknown, PROTO_T_GROUP_SEND, &other),
	       PROTO_E_UNKNOWN_GROUP);
	bw_writer_init(&w, 0);
	proto_encode_group_ref(&w, &(struct proto_group_ref){
		{ ga->id, TC_GROUP_ID_LEN } });
	expect("GROUP_INFO by a device whose user is not in the group",
	       tc_call(c, PROTO_T_GROUP_INFO, w.buf, w.len, &m),
	       PROTO_E_NOT_MEMBER);
	bw_writer_reset(&w);
	{
		size_t list = bw_write_vector_begin(&w);

		proto_write_ack(&w, &(struct proto_ack){
			{ ga->id, TC_GROUP_ID_LEN }, UINT64_MAX / 2 });
		bw_write_vector_end(&w, list);
	}
	expect("an acknowledgement beyond the log",
	       tc_call(b, PROTO_T_QUEUE_ACK, w.buf, w.len, &m),
	       PROTO_E_MALFORMED);
	bw_writer_reset(&w);
	{
		size_t list = bw_write_vector_begin(&w);

		proto_write_ack(&w, &(struct proto_ack){
			{ unknown, TC_GROUP_ID_LEN }, 1 });
		bw_write_vector_end(&w, list);
	}
	expect("an acknowledgement for an unknown group",
	       tc_call(b, PROTO_T_QUEUE_ACK, w.buf, w.len, &m),
	       PROTO_E_UNKNOWN_GROUP);
	bw_writer_free(&w);
	free(key.p);
	free(msg);
}

/* GroupInfo of a group made here and never uploaded. */
static struct blob local_group_info(struct tc_device *d, const char *name,
				    bool with_ds)
{
	uint8_t id[TC_GROUP_ID_LEN];
	struct mls_extensions *ext = NULL;
	struct mls_group *g = NULL;
	struct blob gi = { 0 };

	tc_group_id(name, id);
	if (mls_extensions_new(&ext) != 0 ||
	    (with_ds && mls_extensions_add_external_sender(
				ext, d->ds_key, d->ds_key_len, d->ds_cred) !=
				0) ||
	    mls_group_create(&d->cfg, d->signer, id, sizeof(id), ext, &g) !=
		    0 ||
	    mls_group_group_info(g, true, &gi.p, &gi.n) != 0)
		tc_die("cannot make a group", -1);
	mls_group_free(g);
	mls_extensions_free(ext);
	return gi;
}

static void hostile_create(struct tc_device *a, struct tc_device *b,
			   const char *name)
{
	struct blob taken = local_group_info(a, name, true),
		    other = local_group_info(a, "hostile-fresh", true),
		    no_ds = local_group_info(a, "hostile-no-ds", false);
	struct proto_msg m;
	struct bw_writer w;

	bw_writer_init(&w, 0);
	bw_write_opaque(&w, taken.p, taken.n);
	expect("GROUP_CREATE of a taken group id",
	       tc_call(a, PROTO_T_GROUP_CREATE, w.buf, w.len, &m),
	       PROTO_E_CONFLICT);
	bw_writer_reset(&w);
	bw_write_opaque(&w, other.p, other.n);
	expect("GROUP_CREATE of a group whose member is another device",
	       tc_call(b, PROTO_T_GROUP_CREATE, w.buf, w.len, &m),
	       PROTO_E_FORBIDDEN);
	bw_writer_reset(&w);
	bw_write_opaque(&w, no_ds.p, no_ds.n);
	expect("GROUP_CREATE without the server as external sender",
	       tc_call(a, PROTO_T_GROUP_CREATE, w.buf, w.len, &m),
	       PROTO_E_INVALID_MLS);
	bw_writer_free(&w);
	free(taken.p);
	free(other.p);
	free(no_ds.p);
}

static void hostile_key_packages(struct tc_device *a, struct tc_device *b,
				 const char *out)
{
	static const char *const unknown[] = { "nobody-here" },
				 *const bad[] = { "Not A Name" },
				 *const twice[] = { "nobody-here",
						    "nobody-here" };
	struct blob old = get(out, "a_kp"), fresh = fresh_kp(a);
	struct blob pair[2] = { fresh, fresh }, many[41];
	uint8_t junk[200], *big = calloc(1, PROTO_MAX_KEY_PACKAGE + 1);
	struct blob garbage = { junk, sizeof(junk) },
		    oversize = { big, PROTO_MAX_KEY_PACKAGE + 1 };

	if (big == NULL)
		tc_die("out of memory", -1);
	RAND_bytes(junk, sizeof(junk));
	expect("a claim for an unknown user", claim_raw(a, unknown, 1),
	       PROTO_E_UNKNOWN_USER);
	expect("a claim with an invalid user name", claim_raw(a, bad, 1),
	       PROTO_E_MALFORMED);
	expect("a claim naming a user twice", claim_raw(a, twice, 2),
	       PROTO_E_MALFORMED);
	expect("an uploaded key package again", upload_raw(a, &old, 1),
	       PROTO_E_CONFLICT);
	expect("one key package twice in an upload", upload_raw(a, pair, 2),
	       PROTO_E_CONFLICT);
	expect("garbage as a key package", upload_raw(a, &garbage, 1),
	       PROTO_E_INVALID_MLS);
	expect("A's key package uploaded by B", upload_raw(b, &fresh, 1),
	       PROTO_E_INVALID_MLS);
	expect("an oversize key package", upload_raw(a, &oversize, 1),
	       PROTO_E_MALFORMED);
	for (size_t i = 0; i < 41; i++)
		many[i] = fresh_kp(a);
	expect("more key packages than the server keeps",
	       upload_raw(a, many, 41), PROTO_E_FORBIDDEN);
	for (size_t i = 0; i < 41; i++)
		free(many[i].p);
	free(old.p);
	free(fresh.p);
	free(big);
}

int tc_hostile(char **argv)
{
	const char *addr = argv[0], *name = argv[5], *out = argv[6];
	struct tc_device a, b, c;
	struct tc_group *ga;

	tc_open(addr, argv[1], &a);
	tc_open(addr, argv[2], &b);
	tc_open(addr, argv[3], &c);
	ga = group_or_die(&a, name);
	hostile_messages(&b, &c, ga->id, out);
	forged_senders(&a, &b, ga, out);
	hostile_groups(&a, &b, &c, ga, out);
	hostile_create(&a, &b, name);
	hostile_key_packages(&a, &b, out);
	/* Nothing of this is saved: the devices' states stay as they were. */
	tc_device_close(&a);
	tc_device_close(&b);
	tc_device_close(&c);
	printf("%s\n", failures == 0 ? "all refused" : "some were not");
	return failures == 0 ? 0 : TC_EXIT_REFUSED;
}

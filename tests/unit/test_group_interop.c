/*
 * test_group_interop.c - members that are separate state objects and
 * exchange only serialised MLSMessages, in groups of 2, 3, 10 and 100, for
 * the three cipher suites: seeded random sequences of adds, removes
 * (proposed by members and by the delivery service), updates, empty
 * commits, external joins, PSK proposals, application messages and
 * save/load of members. After every step every member has the same epoch
 * authenticator and tree as every other and as the delivery service's
 * public view, and every application message is decrypted by all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group_world.h"
#include "test.h"

static const uint16_t suites[] = {
	MLS_SUITE_X25519_AES128GCM_SHA256_ED25519,
	MLS_SUITE_P256_AES128GCM_SHA256_P256,
	MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519,
};

/* A member other than i (the group has at least two). */
static size_t other(struct gw_world *w, size_t i)
{
	size_t j = gw_rand(w, (uint32_t)w->n - 1);

	return j >= i ? j + 1 : j;
}

/* The proposal in msg is sent by member `from` and delivered; a random
 * member (not removed by it) commits it. */
static int propose_and_commit(struct gw_world *w, size_t from, uint8_t *msg,
			      size_t len, uint32_t removed_leaf)
{
	size_t c;
	int rc;

	rc = gw_deliver(w, (int)from, msg, len, false);
	free(msg);
	if (rc != 0)
		return rc;
	do
		c = gw_rand(w, (uint32_t)w->n);
	while (mls_group_own_leaf(w->m[c].g) == removed_leaf);
	return gw_commit(w, (int)c, false, NULL, NULL, 0);
}

static int step_remove(struct gw_world *w)
{
	size_t a = gw_rand(w, (uint32_t)w->n), b = other(w, a);
	uint32_t leaf = mls_group_own_leaf(w->m[b].g);
	uint8_t *msg;
	size_t len;
	int rc;

	if (gw_rand(w, 2) == 0) {
		/* By value in the remover's own commit. */
		if ((rc = mls_group_propose_remove(w->m[a].g, leaf, NULL,
						   NULL)) != 0)
			return rc;
		return gw_commit(w, (int)a, false, NULL, NULL, 0);
	}
	if ((rc = mls_group_propose_remove(w->m[a].g, leaf, &msg, &len)) != 0)
		return rc;
	return propose_and_commit(w, a, msg, len, leaf);
}

/* The delivery service removes a member (a revoked device, §12.1.8). */
static int step_external_remove(struct gw_world *w)
{
	size_t b = gw_rand(w, (uint32_t)w->n);
	uint32_t leaf = mls_group_own_leaf(w->m[b].g);
	uint8_t *msg;
	size_t len;
	int rc;

	if ((rc = mls_public_group_external_remove(w->ds, w->ds_signer, leaf,
						   &msg, &len)) != 0)
		return rc;
	return propose_and_commit(w, (size_t)-1, msg, len, leaf);
}

static int step_update(struct gw_world *w)
{
	size_t a = gw_rand(w, (uint32_t)w->n);
	uint8_t *msg;
	size_t len;
	int rc;

	if ((rc = mls_group_propose_update(w->m[a].g, &msg, &len)) != 0)
		return rc;
	/* The updater's own commit would leave its Update out (§12.2):
	 * another member commits. */
	return propose_and_commit(w, a, msg, len,
				  mls_group_own_leaf(w->m[a].g));
}

/* An external PSK of the organisation, or the group's resumption PSK of
 * this or the previous epoch (§8.4, §8.6). */
static int step_psk(struct gw_world *w)
{
	size_t a = gw_rand(w, (uint32_t)w->n);
	struct mls_group *g = w->m[a].g;
	uint64_t epoch = mls_group_epoch(g);
	uint8_t *msg;
	size_t len;
	int rc;

	if (gw_rand(w, 2) == 0)
		rc = mls_group_propose_external_psk(
			g, (const uint8_t *)GW_PSK_ID, strlen(GW_PSK_ID), &msg,
			&len);
	else
		/* Of this epoch: every member has it, joiners of this
		 * epoch included. */
		rc = mls_group_propose_resumption_psk(g, epoch, &msg, &len);
	if (rc != 0)
		return rc;
	return propose_and_commit(w, a, msg, len, UINT32_MAX);
}

/* New GroupContext extensions (§12.1.7): the same external sender and a
 * required_capabilities every member meets. */
static int step_extensions(struct gw_world *w)
{
	static const uint16_t basic = 1;
	size_t a = gw_rand(w, (uint32_t)w->n);
	struct mls_extensions *ext = NULL;
	const uint8_t *k;
	uint8_t *msg = NULL;
	size_t kn, len;
	int rc;

	mls_signer_public_key(w->ds_signer, &k, &kn);
	if ((rc = mls_extensions_new(&ext)) != 0 ||
	    (rc = mls_extensions_add_external_sender(ext, k, kn,
						     w->ds_credential)) != 0 ||
	    (rc = mls_extensions_set_required_capabilities(
		     ext, NULL, 0, NULL, 0, &basic, 1)) != 0 ||
	    (rc = mls_group_propose_group_context_extensions(w->m[a].g, ext,
							     &msg, &len)) != 0) {
		mls_extensions_free(ext);
		return rc;
	}
	mls_extensions_free(ext);
	return propose_and_commit(w, a, msg, len, UINT32_MAX);
}

/* Two members commit in the same epoch; the DS takes the first. The
 * second committer drops its pending commit on processing the first, and
 * everyone refuses the second (§14: one commit per epoch). */
static int step_race(struct gw_world *w)
{
	size_t a = gw_rand(w, (uint32_t)w->n), b = other(w, a);
	struct mls_commit_output oa, ob;
	struct mls_process_result r;
	int rc, bid = w->m[b].id;

	if ((rc = mls_group_commit(w->m[a].g, NULL, &oa)) != 0)
		return rc;
	if ((rc = mls_group_commit(w->m[b].g, NULL, &ob)) != 0) {
		mls_commit_output_clear(&oa);
		return rc;
	}
	if ((rc = gw_deliver(w, (int)a, oa.commit, oa.commit_len, false)) ==
		    0 &&
	    (rc = gw_accept_group_info(w, &oa, false)) == 0) {
		b = gw_find_id(w, bid);
		if (b < w->n && mls_group_has_pending_commit(w->m[b].g)) {
			fprintf(stderr, "race: the loser's commit is pending\n");
			rc = -1;
		}
		for (size_t i = 0; i < w->n && rc == 0; i++)
			if ((rc = mls_group_process(w->m[i].g, ob.commit,
						    ob.commit_len, &r)) !=
			    MLS_ERR_WRONG_EPOCH) {
				fprintf(stderr, "race: member %zu: %s\n", i,
					mls_strerror(rc));
				rc = -1;
			} else {
				rc = 0;
			}
		if (rc == 0 && w->ds_follows &&
		    mls_public_group_process(w->ds, ob.commit, ob.commit_len,
					     &r) != MLS_ERR_WRONG_EPOCH)
			rc = -1;
	}
	mls_commit_output_clear(&oa);
	mls_commit_output_clear(&ob);
	return rc;
}

static int step_messages(struct gw_world *w)
{
	size_t a = gw_rand(w, (uint32_t)w->n), b = other(w, a);
	int rc;

	/* Both directions, and a burst from one sender. */
	if ((rc = gw_message(w, (int)a)) != 0 || (rc = gw_message(w, (int)b)) != 0)
		return rc;
	return gw_message(w, (int)a);
}

enum step {
	STEP_ADD, STEP_EXTERNAL_JOIN, STEP_REMOVE, STEP_UPDATE, STEP_COMMIT,
	STEP_PSK, STEP_DS_REMOVE, STEP_RELOAD, STEP_EXTENSIONS, STEP_RACE,
	STEP_MESSAGES, N_STEPS
};

static const char *const step_names[N_STEPS] = {
	"add", "external join", "remove", "update", "empty commit", "psk",
	"DS remove", "reload", "extensions", "race", "messages",
};

/* Pick a step, keeping the group near its target size. */
static enum step pick(struct gw_world *w, size_t target)
{
	static const enum step ops[] = {
		STEP_EXTERNAL_JOIN, STEP_REMOVE, STEP_UPDATE,
		STEP_COMMIT,	    STEP_PSK,	 STEP_DS_REMOVE,
		STEP_RELOAD,	    STEP_EXTENSIONS, STEP_RACE,
		STEP_MESSAGES,	    STEP_MESSAGES,
	};
	enum step op = ops[gw_rand(w, sizeof(ops) / sizeof(ops[0]))];

	if (w->n < 2 || (w->n < target && gw_rand(w, 4) == 0))
		return STEP_ADD;
	if (w->n > target + target / 2 + 1)
		return STEP_REMOVE;
	/* The DS removes only from a group it follows. */
	if (op == STEP_DS_REMOVE && !w->ds_follows)
		return STEP_UPDATE;
	return op;
}

static int do_step(struct gw_world *w, enum step op)
{
	switch (op) {
	case STEP_ADD:
		return gw_add_members(w, (int)gw_rand(w, (uint32_t)w->n), 1);
	case STEP_EXTERNAL_JOIN:
		return gw_external_join(w);
	case STEP_REMOVE:
		return step_remove(w);
	case STEP_UPDATE:
		return step_update(w);
	case STEP_COMMIT:
		return gw_commit(w, (int)gw_rand(w, (uint32_t)w->n), true,
				 NULL, NULL, 0);
	case STEP_PSK:
		return step_psk(w);
	case STEP_DS_REMOVE:
		return step_external_remove(w);
	case STEP_RELOAD:
		return gw_reload(w, gw_rand(w, (uint32_t)w->n));
	case STEP_EXTENSIONS:
		return step_extensions(w);
	case STEP_RACE:
		return step_race(w);
	default:
		return step_messages(w);
	}
}

/* Seeds are fixed so that a failure reproduces; BW_GROUP_SEED shifts them
 * all to explore other sequences. */
static uint64_t seed_base;

/* A group of n members, then steps random steps, for one suite. */
static bool run(uint16_t suite, size_t n, int steps, uint64_t seed,
		bool private_handshake)
{
	unsigned count[N_STEPS] = { 0 };
	struct gw_world w;
	int rc = 0;

	seed += seed_base;
	if (gw_init(&w, suite, seed, private_handshake) != 0)
		return false;
	if (n > 1)
		rc = gw_add_members(&w, 0, n - 1);
	if (rc == 0)
		rc = gw_check(&w);
	for (int i = 0; i < steps && rc == 0; i++) {
		enum step op = pick(&w, n);

		count[op]++;
		if ((rc = do_step(&w, op)) == 0)
			rc = gw_check(&w);
	}
	printf("     suite %u, %zu members%s: epoch %llu,", suite, n,
	       private_handshake ? " (private handshake)" : "",
	       (unsigned long long)mls_group_epoch(w.m[0].g));
	for (int i = 0; i < N_STEPS; i++)
		if (count[i] > 0)
			printf(" %u %s", count[i], step_names[i]);
	printf("\n");
	if (rc != 0)
		fprintf(stderr, "suite %u, %zu members, seed %llu: failed\n",
			suite, n, (unsigned long long)seed);
	gw_free(&w);
	return rc == 0;
}

static bool test_two_members(void)
{
	for (size_t s = 0; s < 3; s++)
		CHECK(run(suites[s], 2, 40, 2 + s, false));
	return true;
}

static bool test_three_members(void)
{
	for (size_t s = 0; s < 3; s++)
		CHECK(run(suites[s], 3, 40, 3 + s, false));
	return true;
}

static bool test_ten_members(void)
{
	for (size_t s = 0; s < 3; s++)
		CHECK(run(suites[s], 10, 40, 10 + s, false));
	return true;
}

static bool test_hundred_members(void)
{
	for (size_t s = 0; s < 3; s++)
		CHECK(run(suites[s], 100, 8, 100 + s, false));
	return true;
}

/* Handshake messages as PrivateMessage: the delivery service cannot
 * follow them (it refuses them), the members still agree. */
static bool test_private_handshake(void)
{
	for (size_t s = 0; s < 3; s++)
		CHECK(run(suites[s], 5, 30, 50 + s, true));
	return true;
}

int main(void)
{
	const char *base = getenv("BW_GROUP_SEED");
	int failed = 0;

	seed_base = base != NULL ? strtoull(base, NULL, 10) : 0;
	RUN(test_two_members, &failed);
	RUN(test_three_members, &failed);
	RUN(test_ten_members, &failed);
	RUN(test_hundred_members, &failed);
	RUN(test_private_handshake, &failed);
	return failed ? 1 : 0;
}

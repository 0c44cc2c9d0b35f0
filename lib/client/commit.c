/*
 * commit.c - changing a conversation's membership (RFC 9420 §12.4): a
 * commit is made, saved with its pending state, sent, and merged when the
 * server delivers it back in the conversation's order. The server takes
 * the first valid commit of each epoch; the others are refused with the
 * current epoch, and their sender catches up by handling the backlog,
 * drops its pending commit (processing the winner does that) and tries
 * again from the new epoch.
 */
#include "client.h"

#include <string.h>

#include <openssl/rand.h>

/* ---- a conversation's MLS state ---- */

int client_save_group(struct bulwark_client *c, struct store_conv *conv,
		      const struct mls_group *g)
{
	struct bw_bytes state = { 0 };
	int rc;

	if ((rc = mls_group_save(g, store_state_key(c->store), &state.p,
				 &state.len)) != 0)
		return rc;
	bw_bytes_move(&conv->state, &state);
	conv->epoch = mls_group_epoch(g);
	conv->active = mls_group_active(g);
	return store_conv_put(c->store, conv);
}

int client_load_group(struct bulwark_client *c, const struct store_conv *conv,
		      struct mls_group **g)
{
	const uint8_t *gid;
	size_t gid_len;
	int rc;

	rc = mls_group_load(&c->me.cfg, store_state_key(c->store),
			    conv->state.p, conv->state.len, g);
	if (rc == MLS_ERR_STATE_CORRUPT)
		return BULWARK_ERR_STORE_CORRUPT;
	if (rc != 0)
		return rc;
	/* A state moved in from another row names another group. */
	mls_group_id(*g, &gid, &gid_len);
	if (!bw_bytes_eq(&conv->group_id, gid, gid_len)) {
		mls_group_free(*g);
		*g = NULL;
		return BULWARK_ERR_STORE_CORRUPT;
	}
	return 0;
}

/* ---- waiting for the conversation to move ---- */

struct target {
	const uint8_t *gid;
	size_t gid_len;
	uint64_t epoch; /* reached this epoch */
	uint64_t seq;   /* or handled this seq */
	int err;
};

static bool reached(struct bulwark_client *c, void *arg)
{
	struct target *t = arg;
	struct store_conv conv;

	bool done;

	t->err = store_conv_get(c->store, t->gid, t->gid_len, &conv);
	if (t->err != 0)
		return true;
	done = !conv.active || conv.epoch >= t->epoch ||
	       (t->seq != 0 && conv.cursor >= t->seq);
	store_conv_clear(&conv);
	return done;
}

static int wait_for(struct bulwark_client *c, struct target *t)
{
	int rc = client_pump(c, client_deadline(c), reached, t);

	return rc != 0 ? rc : t->err;
}

int client_catch_up(struct bulwark_client *c, const uint8_t *gid,
		    size_t gid_len, uint64_t epoch)
{
	struct target t = { gid, gid_len, epoch, 0, 0 };

	return wait_for(c, &t);
}

/* ---- pending commits ---- */

/* Drop a pending commit and save (the server did not take it). */
static int discard(struct bulwark_client *c, struct store_conv *conv)
{
	struct mls_group *g = NULL;
	int rc;

	if ((rc = client_load_group(c, conv, &g)) != 0)
		return rc;
	if (mls_group_has_pending_commit(g)) {
		mls_group_discard_pending_commit(g);
		rc = client_save_group(c, conv, g);
	}
	mls_group_free(g);
	return rc;
}

int client_drop_stale_commits(struct bulwark_client *c)
{
	struct store_conv *convs;
	size_t n;
	int rc;

	/* Only what earlier sessions left: a commit of this session may
	 * still be on its way back. */
	if (c->sent_commit)
		return 0;
	if ((rc = store_conv_list(c->store, &convs, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (convs[i].active)
			rc = discard(c, &convs[i]);
	store_convs_free(convs, n);
	return rc;
}

/* A commit left pending by an earlier session blocks a new one: the
 * backlog says whether the server took it. */
static int settle_pending(struct bulwark_client *c, const uint8_t *gid,
			  size_t gid_len)
{
	struct store_conv conv;
	int rc;

	if (c->sent_commit)
		return BULWARK_ERR_GAVE_UP; /* ours, still on its way back */
	if ((rc = client_pump(c, client_deadline(c), client_is_synced,
			      NULL)) != 0)
		return rc;
	if ((rc = store_conv_get(c->store, gid, gid_len, &conv)) != 0)
		return rc;
	rc = discard(c, &conv);
	store_conv_clear(&conv);
	return rc;
}

/* ---- one commit ---- */

struct attempt {
	struct mls_commit_output co;
	uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN];
};

/* Load, build, commit and save with the pending commit; *nothing when
 * the builder found nothing left to do. */
static int prepare_commit(struct bulwark_client *c, struct store_conv *conv,
			  commit_build_fn build, void *arg,
			  struct attempt *a, bool *nothing, bool *pending)
{
	static const struct mls_commit_options opt = { .ratchet_tree = true };
	struct mls_group *g = NULL;
	int rc;

	*nothing = *pending = false;
	if ((rc = client_load_group(c, conv, &g)) != 0)
		return rc;
	if (mls_group_has_pending_commit(g)) {
		*pending = true;
		goto out;
	}
	if ((rc = build(c, g, conv, arg)) == COMMIT_NOTHING) {
		*nothing = true;
		rc = 0;
		goto out;
	}
	if (rc != 0 || (rc = mls_group_commit(g, &opt, &a->co)) != 0)
		goto out;
	if (RAND_bytes(a->key, sizeof(a->key)) != 1) {
		rc = BULWARK_ERR_KS_CRYPTO;
		goto out;
	}
	/* Saved before it is sent (docs/libmls.md, "What to persist"). */
	rc = client_save_group(c, conv, g);
out:
	mls_group_free(g);
	return rc;
}

static int post_commit(struct bulwark_client *c, const struct store_conv *conv,
		       const struct attempt *a, struct proto_seq_epoch *res,
		       uint64_t *current)
{
	struct group_post p = {
		.group_id = conv->group_id.p,
		.group_id_len = conv->group_id.len,
		.message = a->co.commit,
		.message_len = a->co.commit_len,
		.group_info = a->co.group_info,
		.group_info_len = a->co.group_info_len,
		.welcome = a->co.welcome,
		.welcome_len = a->co.welcome_len,
	};

	memcpy(p.idempotency_key, a->key, sizeof(p.idempotency_key));
	c->sent_commit = true;
	return rpc_group_commit(c, &p, res, current);
}

/* Accepted: wait for it in the conversation's order, where processing it
 * merges the pending state. */
static int merged(struct bulwark_client *c, const struct store_conv *conv,
		  const struct proto_seq_epoch *res)
{
	struct target t = { conv->group_id.p, conv->group_id.len, res->epoch,
			    res->seq, 0 };
	struct store_conv now;
	int rc;

	if ((rc = wait_for(c, &t)) != 0)
		return rc;
	if ((rc = store_conv_get(c->store, t.gid, t.gid_len, &now)) != 0)
		return rc;
	rc = now.epoch >= res->epoch || !now.active
		     ? 0
		     : BULWARK_ERR_MESSAGE_INVALID;
	store_conv_clear(&now);
	return rc;
}

/* One attempt: 0 (done), BULWARK_ERR_STALE_EPOCH with *current, or an
 * error. */
static int attempt(struct bulwark_client *c, struct store_conv *conv,
		   commit_build_fn build, void *arg, uint64_t *current)
{
	struct attempt a;
	struct proto_seq_epoch res;
	bool nothing, pending;
	int rc;

	memset(&a, 0, sizeof(a));
	rc = prepare_commit(c, conv, build, arg, &a, &nothing, &pending);
	if (rc == 0 && pending) {
		if ((rc = settle_pending(c, conv->group_id.p,
					 conv->group_id.len)) == 0)
			rc = BULWARK_ERR_STALE_EPOCH; /* again, from there */
		*current = 0;
		goto out;
	}
	if (rc != 0 || nothing)
		goto out;
	rc = post_commit(c, conv, &a, &res, current);
	if (rc == 0)
		rc = merged(c, conv, &res);
	else if (!client_transient(rc))
		/* Refused for good: the pending state goes. Unanswered, it
		 * stays until the backlog tells (client_drop_stale_commits). */
		(void)discard(c, conv);
out:
	mls_commit_output_clear(&a.co);
	return rc;
}

int client_commit(struct bulwark_client *c, const uint8_t *gid,
		  size_t gid_len, commit_build_fn build, void *arg)
{
	struct store_conv conv;
	uint64_t current = 0;
	int rc = BULWARK_ERR_GAVE_UP;

	for (int i = 0; i < CLIENT_MAX_ATTEMPTS; i++) {
		if ((rc = store_conv_get(c->store, gid, gid_len, &conv)) != 0)
			return rc;
		rc = conv.active ? attempt(c, &conv, build, arg, &current)
				 : BULWARK_ERR_CONV_INACTIVE;
		store_conv_clear(&conv);
		if (rc != BULWARK_ERR_STALE_EPOCH)
			return rc;
		/* Another commit won this epoch: handle it, then again. */
		if (current != 0 &&
		    (rc = client_catch_up(c, gid, gid_len, current)) != 0)
			return rc;
		rc = BULWARK_ERR_GAVE_UP;
	}
	return rc;
}

/* ---- the server's proposals ---- */

static int build_pending(struct bulwark_client *c, struct mls_group *g,
			 const struct store_conv *conv, void *arg)
{
	(void)c;
	(void)g;
	(void)arg;
	/* Nothing by value: the commit takes the cached proposals. */
	return conv->proposals ? 0 : COMMIT_NOTHING;
}

int client_commit_proposals(struct bulwark_client *c, const uint8_t *gid,
			    size_t gid_len)
{
	return client_commit(c, gid, gid_len, build_pending, NULL);
}

static int forget_proposals(struct bulwark_client *c,
			    const struct bw_bytes *gid)
{
	struct store_conv conv;
	int rc;

	if ((rc = store_conv_get(c->store, gid->p, gid->len, &conv)) != 0)
		return rc;
	conv.proposals = false;
	rc = store_conv_put(c->store, &conv);
	store_conv_clear(&conv);
	return rc;
}

int client_commit_pending(struct bulwark_client *c)
{
	struct store_conv *convs;
	size_t n;
	int rc;

	/* Only after a proposal arrived (or a new session began). */
	if (!c->check_proposals)
		return 0;
	c->check_proposals = false;
	if ((rc = store_conv_list(c->store, &convs, &n)) != 0) {
		c->check_proposals = true;
		return rc;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!convs[i].active || !convs[i].proposals)
			continue;
		rc = client_commit_proposals(c, convs[i].group_id.p,
					     convs[i].group_id.len);
		/* Proposals that cannot be committed are not retried forever:
		 * the next commit of the epoch, anyone's, settles them. */
		if (rc != 0 && !client_transient(rc) &&
		    rc != BULWARK_ERR_DEVICE_REVOKED)
			rc = forget_proposals(c, &convs[i].group_id);
	}
	if (rc != 0)
		c->check_proposals = true; /* again next time */
	store_convs_free(convs, n);
	return rc;
}

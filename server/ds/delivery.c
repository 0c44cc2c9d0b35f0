/*
 * delivery.c - groups and their messages (docs/protocol.md, GROUP_*).
 *
 * Ordering: the store thread takes requests one at a time, so the first
 * valid commit of an epoch advances the group's view and every later one
 * for that epoch fails libmls's epoch check (status 8). Membership is what
 * the view's tree says after each commit the server verified itself, read
 * leaf by leaf from the credentials (groups.c); a member's request is
 * checked against the leaf the view says it signed from.
 *
 * Every handler validates before it writes and changes the cached group
 * only once its writes are done; a failure after the view has moved drops
 * the group from the cache so that the stored state comes back.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "ds_int.h"
#include "errors.h"
#include "server.h"

#define SENDER_MEMBER 1
#define SENDER_NEW_MEMBER_COMMIT 4
#define WIRE_PUBLIC 1
#define WIRE_PRIVATE 2

static void ds_public_key(const struct ds *ds, const uint8_t **p, size_t *n)
{
	mls_signer_public_key(ds->signer, p, n);
}

/* ---- GROUP_CREATE ---- */

static bool only_member_is(struct mls_public_group *view,
			   const uint8_t *fingerprint, size_t *members)
{
	uint8_t fp[DS_FINGERPRINT_LEN];
	uint32_t width = mls_public_group_n_leaves(view);
	struct mls_member m;
	const uint8_t *der;
	size_t n;
	bool mine = false;

	*members = 0;
	for (uint32_t i = 0; i < width; i++) {
		if (mls_public_group_member(view, i, &m) != 0)
			continue;
		(*members)++;
		mine = mls_credential_certificate(m.credential, 0, &der, &n) ==
			       0 &&
		       ca_fingerprint(der, n, fp) == 0 &&
		       memcmp(fp, fingerprint, sizeof(fp)) == 0;
	}
	return mine && *members == 1;
}

uint16_t ds_create_prepare(struct ds *ds, struct ds_req *r,
			   const struct proto_group_create_req *req,
			   const char **why)
{
	const struct proto_span *gi = &req->group_info;
	struct mls_group_info_facts f;
	struct mls_config cfg;
	const uint8_t *key, *id;
	size_t key_len, id_len, members;
	int rc;

	ds_public_key(ds, &key, &key_len);
	if ((rc = mls_group_info_facts(gi->p, gi->n, key, key_len, &f)) != 0) {
		*why = mls_strerror(rc);
		return PROTO_E_INVALID_MLS;
	}
	*why = f.suite != ds->suite ? "not the organisation's cipher suite"
	       : f.epoch != 0	    ? "a new group starts at epoch 0"
	       : !f.ratchet_tree    ? "no ratchet_tree extension"
	       : !f.external_sender ? "the server is not an external sender"
				    : NULL;
	if (*why != NULL)
		return PROTO_E_INVALID_MLS;
	/* The view keeps its configuration: the server-wide acceptance. */
	ds_mls_config(&ds->accept, &cfg);
	if ((rc = mls_public_group_new(&cfg, gi->p, gi->n, NULL, 0,
				       &r->new_view)) != 0) {
		*why = mls_strerror(rc);
		return PROTO_E_INVALID_MLS;
	}
	mls_public_group_id(r->new_view, &id, &id_len);
	if (id_len == 0 || id_len > PROTO_MAX_GROUP_ID) {
		*why = "a group id is 1 to 64 bytes";
		return PROTO_E_INVALID_MLS;
	}
	if (!only_member_is(r->new_view, r->who.fingerprint, &members)) {
		*why = members != 1 ? "a new group has one member"
				    : "the member is not this device";
		return members != 1 ? PROTO_E_INVALID_MLS : PROTO_E_FORBIDDEN;
	}
	return 0;
}

int ds_group_create(struct ds *ds, struct store *s, struct ds_req *r)
{
	struct proto_group_create_req req;
	struct store_group row = { 0 };
	struct proto_epoch out = { 0 };
	struct ds_group *g;
	const uint8_t *id;
	size_t id_len, mark;
	int64_t gid = 0;
	int rc;

	if (proto_decode_group_create_req(&r->m, &req) != 0)
		return ds_refuse(r, PROTO_E_MALFORMED, NULL);
	mls_public_group_id(r->new_view, &id, &id_len);
	if ((rc = ds_group_find(ds, s, id, id_len, &g)) == 0)
		return ds_refuse(r, PROTO_E_CONFLICT, "group id taken");
	if (rc != BWD_ERR_NOT_FOUND)
		return rc;
	if ((rc = mls_public_group_save(r->new_view, &row.view.p,
					&row.view.len)) != 0)
		return rc;
	row.group_id = (struct bw_bytes){ (uint8_t *)id, id_len };
	row.group_info = (struct bw_bytes){ (uint8_t *)req.group_info.p,
					    req.group_info.n };
	row.created = (int64_t)time(NULL);
	rc = s->ds->group_add(s, &row, &gid);
	free(row.view.p);
	if (rc == BWD_ERR_EXISTS)
		return ds_refuse(r, PROTO_E_CONFLICT, "group id taken");
	if (rc != 0 ||
	    (rc = s->ds->member_join(s, gid, r->who.id, 0)) != 0 ||
	    (rc = ds_group_insert(ds, gid, r->new_view, req.group_info.p,
				  req.group_info.n, &g)) != 0)
		return rc;
	r->new_view = NULL; /* the cache has it */
	mark = ds_reply_begin(r);
	proto_encode_epoch(&r->resp, &out);
	return ds_reply_end(r, mark);
}

/* ---- idempotency ---- */

/* A retry of something already accepted: answer as the first time. 1 if
 * answered, 0 if the key is new. */
static int replay(struct store *s, struct ds_req *r, const struct ds_group *g,
		  const struct proto_span *key, const uint8_t *hash)
{
	struct store_idem found;
	size_t mark;
	int rc = s->ds->log_find_key(s, g->gid, r->who.id, key->p, &found);

	if (rc == BWD_ERR_NOT_FOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (CRYPTO_memcmp(found.hash, hash, STORE_HASH_LEN) != 0) {
		ds_refuse(r, PROTO_E_IDEMPOTENCY, NULL);
		return 1;
	}
	mark = ds_reply_begin(r);
	if (r->m.type == PROTO_T_GROUP_COMMIT) {
		struct proto_seq_epoch out = { found.seq, found.epoch };

		proto_encode_seq_epoch(&r->resp, &out);
	} else {
		struct proto_seq out = { found.seq };

		proto_encode_seq(&r->resp, &out);
	}
	ds_reply_end(r, mark);
	return 1;
}

/* ---- messages into the log ---- */

struct appended {
	uint64_t seq;
	struct ds_msg *msg;
};

/* Append a message to g's log at the next seq and make its push; the
 * group's last_seq moves only with *a, once the caller is done. */
static int append(struct store *s, struct ds_group *g, uint64_t seq,
		  uint8_t kind, const char *sender,
		  const struct proto_span *key, const uint8_t *hash,
		  uint64_t epoch, const uint8_t *p, size_t n,
		  struct appended *a)
{
	int64_t now = (int64_t)time(NULL);
	struct store_log_entry e = {
		.gid = g->gid, .seq = seq, .kind = kind, .time = now,
		.sender = sender, .idem_key = key != NULL ? key->p : NULL,
		.idem_hash = hash, .epoch = epoch, .payload = p,
		.payload_len = n,
	};
	int rc;

	a->seq = seq;
	a->msg = NULL;
	if ((rc = s->ds->log_append(s, &e)) != 0)
		return rc;
	return ds_msg_new(g->gid, g->id, g->id_len, kind, seq, now, p, n,
			  &a->msg);
}

/* The server's own Remove proposal for one leaf, appended to the log. */
static int server_remove(struct ds *ds, struct store *s, struct ds_group *g,
			 uint32_t leaf, uint64_t seq, struct appended *a)
{
	uint8_t *msg = NULL;
	size_t len = 0;
	int rc;

	if ((rc = mls_public_group_external_remove(g->view, ds->signer, leaf,
						   &msg, &len)) != 0)
		return rc;
	rc = append(s, g, seq, PROTO_DELIVER_HANDSHAKE, "", NULL, NULL,
		    g->epoch, msg, len, a);
	free(msg);
	return rc;
}

/* ---- GROUP_COMMIT ---- */

/* What a commit changes, as the server reads it. */
struct commit_state {
	struct mls_process_result res;
	struct ds_leaf *leaves;       /* the new tree's */
	size_t n_leaves;
	char (*added)[STORE_NAME_SIZE]; /* devices added by Add proposals */
	size_t n_added;
	struct appended commit;
	struct appended *removes;     /* the server's proposals after it */
	size_t n_removes;
	struct {
		struct ds_device *dev;
		uint64_t seq;
	} *welcomed;
	size_t n_welcomed;
	struct ds_msg *welcome;
};

static void commit_state_clear(struct commit_state *cs)
{
	mls_process_result_clear(&cs->res);
	free(cs->leaves);
	free(cs->added);
	ds_msg_unref(cs->commit.msg);
	for (size_t i = 0; i < cs->n_removes; i++)
		ds_msg_unref(cs->removes[i].msg);
	free(cs->removes);
	free(cs->welcomed);
	ds_msg_unref(cs->welcome);
}

/* The device of a member a commit added (it passed the credential
 * check, so it is in the registry). */
static const char *added_device(struct ds *ds,
				const struct mls_member_change *m,
				struct device_ident *who)
{
	uint8_t fp[DS_FINGERPRINT_LEN];
	const uint8_t *der;
	size_t n;

	if (mls_credential_certificate(m->credential, 0, &der, &n) != 0 ||
	    ca_fingerprint(der, n, fp) != 0 ||
	    !devices_lookup(ds->srv->devices, fp, who))
		return NULL;
	return who->id;
}

/* The sender is this device: its own leaf, or its own external join when
 * its user is already in the group. NULL, or why not. */
static const char *check_sender(struct ds *ds, const struct ds_group *g,
				const struct ds_req *r,
				const struct commit_state *cs)
{
	const struct ds_leaf *leaf;
	struct device_ident who;

	if (cs->res.sender_type == SENDER_MEMBER) {
		leaf = ds_group_leaf(g, cs->res.sender);
		return leaf != NULL && strcmp(leaf->dev->id, r->who.id) == 0
			       ? NULL
			       : "the commit is not from this device's leaf";
	}
	if (cs->res.sender_type != SENDER_NEW_MEMBER_COMMIT)
		return "commits come from members";
	if (!ds_group_has_user(g, r->who.user))
		return "external commits only join a user's own groups";
	for (size_t i = 0; i < cs->res.n_added; i++) {
		const char *id = added_device(ds, &cs->res.added[i], &who);

		if (id != NULL && strcmp(id, r->who.id) == 0)
			return NULL;
	}
	return "the external commit does not add this device";
}

/* The devices added by Add proposals (an external joiner excluded).
 * Each passed the credential check, so each is in the registry. */
static int collect_added(struct ds *ds, const struct ds_req *r,
			 struct commit_state *cs)
{
	bool external = cs->res.sender_type == SENDER_NEW_MEMBER_COMMIT;
	struct device_ident who;
	const char *id;

	if (cs->res.n_added == 0)
		return 0;
	if ((cs->added = calloc(cs->res.n_added, sizeof(*cs->added))) == NULL)
		return BW_ERR_NOMEM;
	for (size_t i = 0; i < cs->res.n_added; i++) {
		if ((id = added_device(ds, &cs->res.added[i], &who)) == NULL)
			return BWD_ERR_STORE;
		if (external && strcmp(id, r->who.id) == 0) {
			external = false; /* the joiner itself, once */
			continue;
		}
		snprintf(cs->added[cs->n_added++], STORE_NAME_SIZE, "%s", id);
	}
	return 0;
}

/* Matching the Welcome's recipients with the added devices: each
 * recipient takes one not yet taken. */
struct recipients {
	struct store *s;
	struct commit_state *cs;
	bool *taken;
	bool mismatch;
	int store_err;
};

static int one_recipient(void *arg, const uint8_t *ref, size_t ref_len)
{
	struct recipients *rc = arg;
	char device[STORE_NAME_SIZE];
	int err = rc->s->ds->kp_owner(rc->s, ref, ref_len, device,
				      sizeof(device));

	if (err != 0) {
		/* A ref this server never handed out, or the store failed. */
		rc->mismatch = err == BWD_ERR_NOT_FOUND;
		rc->store_err = rc->mismatch ? 0 : err;
		return 1;
	}
	for (size_t i = 0; i < rc->cs->n_added; i++)
		if (!rc->taken[i] && strcmp(rc->cs->added[i], device) == 0) {
			rc->taken[i] = true;
			return 0;
		}
	rc->mismatch = true;
	return 1;
}

/* NULL if the Welcome goes exactly to the added devices, else why. */
static const char *check_welcome(struct store *s,
				 const struct proto_group_commit_req *req,
				 struct commit_state *cs, uint16_t suite,
				 int *err)
{
	struct recipients rc = { .s = s, .cs = cs };
	uint16_t welcome_suite = 0;
	int e;

	*err = 0;
	if (cs->n_added == 0)
		return req->has_welcome ? "a Welcome but nobody added" : NULL;
	if (!req->has_welcome)
		return "members added without a Welcome";
	if ((rc.taken = calloc(cs->n_added, sizeof(bool))) == NULL) {
		*err = BW_ERR_NOMEM;
		return NULL;
	}
	e = mls_welcome_recipients(req->welcome.p, req->welcome.n,
				   &welcome_suite, one_recipient, &rc);
	for (size_t i = 0; e == 0 && i < cs->n_added; i++)
		rc.mismatch |= !rc.taken[i];
	free(rc.taken);
	if ((*err = rc.store_err) != 0)
		return NULL;
	if (e < 0)
		return mls_strerror(e);
	if (rc.mismatch || welcome_suite != suite)
		return "the Welcome is not for exactly the added devices";
	return NULL;
}

/* Validation of a processed commit beyond libmls: NULL, or the reason
 * with *status; *err for an internal failure. */
static const char *vet_commit(struct ds *ds, struct store *s,
			      const struct ds_group *g, struct ds_req *r,
			      const struct proto_group_commit_req *req,
			      struct commit_state *cs, uint16_t *status,
			      int *err)
{
	const char *why;
	int rc;

	*status = PROTO_E_INVALID_MLS;
	*err = 0;
	if (cs->res.kind != MLS_RESULT_COMMIT)
		return "not a commit";
	if ((why = check_sender(ds, g, r, cs)) != NULL) {
		*status = PROTO_E_FORBIDDEN;
		return why;
	}
	if ((rc = mls_public_group_check_group_info(g->view, req->group_info.p,
						    req->group_info.n)) != 0)
		return "the GroupInfo is not the new epoch's";
	if ((*err = collect_added(ds, r, cs)) != 0 ||
	    (*err = ds_leaves_read(ds, g->view, &cs->leaves,
				   &cs->n_leaves)) != 0)
		return NULL;
	return check_welcome(s, req, cs, ds->suite, err);
}

static bool leaves_have(const struct ds_leaf *v, size_t n, const char *device)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].dev->id, device) == 0)
			return true;
	return false;
}

/* Membership rows follow the devices in the tree: a device that left
 * gets this commit as its last message, one that came in what follows. */
static int update_members(struct store *s, const struct ds_group *g,
			  const struct commit_state *cs, uint64_t seq)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < g->n_leaves; i++)
		if (!leaves_have(cs->leaves, cs->n_leaves,
				 g->leaves[i].dev->id) &&
		    !leaves_have(g->leaves, i, g->leaves[i].dev->id))
			rc = s->ds->member_leave(s, g->gid,
						 g->leaves[i].dev->id, seq);
	for (size_t i = 0; rc == 0 && i < cs->n_leaves; i++)
		if (!leaves_have(g->leaves, g->n_leaves,
				 cs->leaves[i].dev->id) &&
		    !leaves_have(cs->leaves, i, cs->leaves[i].dev->id))
			rc = s->ds->member_join(s, g->gid,
						cs->leaves[i].dev->id, seq);
	return rc;
}

/* The Welcome, stored once, in the inbox of every device it names. */
static int store_welcome(struct ds *ds, struct store *s,
			 const struct proto_group_commit_req *req,
			 struct commit_state *cs)
{
	int64_t now = (int64_t)time(NULL), id = 0;
	int rc;

	if (cs->n_added == 0)
		return 0;
	if ((cs->welcomed = calloc(cs->n_added, sizeof(*cs->welcomed))) ==
		    NULL ||
	    (rc = ds_msg_new(0, NULL, 0, PROTO_DELIVER_WELCOME, 0, now,
			     req->welcome.p, req->welcome.n, &cs->welcome)) !=
		    0)
		return BW_ERR_NOMEM;
	if ((rc = s->ds->welcome_add(s, now, req->welcome.p, req->welcome.n,
				     &id)) != 0)
		return rc;
	for (size_t i = 0; i < cs->n_added; i++) {
		if ((cs->welcomed[i].dev = ds_device_get(ds, cs->added[i])) ==
		    NULL)
			return BW_ERR_NOMEM;
		if ((rc = s->ds->inbox_add(s, cs->added[i], id, now,
					   &cs->welcomed[i].seq)) != 0)
			return rc;
		cs->n_welcomed++;
	}
	return 0;
}

/* Devices no longer allowed (revoked, user disabled) are proposed for
 * removal again in each new epoch until a commit removes them. */
static int sweep_inactive(struct ds *ds, struct store *s, struct ds_group *g,
			  struct commit_state *cs, uint64_t *seq)
{
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < cs->n_leaves; i++)
		n += cs->leaves[i].active ? 0 : 1;
	if (n == 0)
		return 0;
	if ((cs->removes = calloc(n, sizeof(*cs->removes))) == NULL)
		return BW_ERR_NOMEM;
	for (size_t i = 0; i < cs->n_leaves; i++) {
		if (cs->leaves[i].active)
			continue;
		if ((rc = server_remove(ds, s, g, cs->leaves[i].leaf, *seq + 1,
					&cs->removes[cs->n_removes])) != 0)
			return rc;
		cs->n_removes++;
		(*seq)++;
	}
	return 0;
}

static int write_commit(struct ds *ds, struct store *s, struct ds_group *g,
			struct ds_req *r,
			const struct proto_group_commit_req *req,
			const uint8_t *hash, struct commit_state *cs)
{
	uint64_t seq = g->last_seq + 1, last;
	struct bw_bytes gi = { (uint8_t *)req->group_info.p,
			       req->group_info.n };
	int rc;

	g->epoch = mls_public_group_epoch(g->view);
	if ((rc = append(s, g, seq, PROTO_DELIVER_HANDSHAKE, r->who.id,
			 &req->idempotency_key, hash, g->epoch, req->commit.p,
			 req->commit.n, &cs->commit)) != 0 ||
	    (rc = update_members(s, g, cs, seq)) != 0 ||
	    (rc = store_welcome(ds, s, req, cs)) != 0)
		return rc;
	last = seq;
	if ((rc = sweep_inactive(ds, s, g, cs, &last)) != 0)
		return rc;
	g->last_seq = last;
	return ds_group_save(s, g, &gi);
}

/* Stored: the cache takes the new state, the devices get their pushes
 * (the commit to every device that was a member before it). */
static int install_commit(struct ds *ds, struct ds_group *g,
			  const struct proto_group_commit_req *req,
			  struct commit_state *cs)
{
	int rc;

	if ((rc = bw_bytes_set(&g->group_info, req->group_info.p,
			       req->group_info.n)) != 0 ||
	    (rc = ds_push_leaves(ds, g->leaves, g->n_leaves,
				 cs->commit.msg, NULL)) != 0)
		return rc;
	free(g->leaves);
	g->leaves = cs->leaves;
	g->n_leaves = cs->n_leaves;
	cs->leaves = NULL;
	for (size_t i = 0; rc == 0 && i < cs->n_welcomed; i++)
		rc = ds_push_device(ds, cs->welcomed[i].dev, cs->welcome,
				    cs->welcomed[i].seq);
	for (size_t i = 0; rc == 0 && i < cs->n_removes; i++)
		rc = ds_push_leaves(ds, g->leaves, g->n_leaves,
				    cs->removes[i].msg, NULL);
	return rc;
}

static int reply_seq_epoch(struct ds_req *r, uint64_t seq, uint64_t epoch)
{
	struct proto_seq_epoch out = { seq, epoch };
	size_t mark = ds_reply_begin(r);

	proto_encode_seq_epoch(&r->resp, &out);
	return ds_reply_end(r, mark);
}

/* After the view has taken the commit: vet, store, install. */
static int accept_commit(struct ds *ds, struct store *s, struct ds_group *g,
			 struct ds_req *r,
			 const struct proto_group_commit_req *req,
			 const uint8_t *hash, struct commit_state *cs)
{
	const char *why;
	uint16_t status;
	int rc;

	if ((why = vet_commit(ds, s, g, r, req, cs, &status, &rc)) != NULL ||
	    rc != 0) {
		ds_group_forget(ds, g);
		return why != NULL ? ds_refuse(r, status, why) : rc;
	}
	if ((rc = write_commit(ds, s, g, r, req, hash, cs)) != 0 ||
	    (rc = install_commit(ds, g, req, cs)) != 0) {
		ds_group_forget(ds, g);
		return rc;
	}
	return reply_seq_epoch(r, cs->commit.seq, g->epoch);
}

int ds_group_commit(struct ds *ds, struct store *s, struct ds_req *r)
{
	struct proto_group_commit_req req;
	struct mls_group_info_facts f;
	struct commit_state cs = { 0 };
	const uint8_t *hash = r->hash; /* the worker made it */
	struct ds_group *g;
	const uint8_t *key;
	size_t key_len;
	int rc;

	if (proto_decode_group_commit_req(&r->m, &req) != 0)
		return ds_refuse(r, PROTO_E_MALFORMED, NULL);
	if ((rc = ds_group_find_named(ds, s, r, &req.group_id, &g)) != 0)
		return rc;
	if ((rc = replay(s, r, g, &req.idempotency_key, hash)) != 0)
		return rc < 0 ? rc : 0;
	if (!ds_group_has_device(g, r->who.id) &&
	    !ds_group_has_user(g, r->who.user))
		return ds_refuse(r, PROTO_E_NOT_MEMBER, NULL);
	ds_public_key(ds, &key, &key_len);
	if ((rc = mls_group_info_facts(req.group_info.p, req.group_info.n, key,
				       key_len, &f)) != 0)
		return ds_refuse(r, PROTO_E_INVALID_MLS, mls_strerror(rc));
	if (!f.ratchet_tree || !f.external_sender)
		return ds_refuse(r, PROTO_E_INVALID_MLS,
				 !f.ratchet_tree
					 ? "GroupInfo without the ratchet tree"
					 : "the server is not an external "
					   "sender");
	if (mls_message_wire_format(req.commit.p, req.commit.n) != WIRE_PUBLIC)
		return ds_refuse(r, PROTO_E_INVALID_MLS,
				 "a commit is a PublicMessage");
	rc = mls_public_group_process(g->view, req.commit.p, req.commit.n,
				      &cs.res);
	if (rc == MLS_ERR_WRONG_EPOCH) {
		ds_reply_stale(r, g->epoch);
		r->refused = true;
		rc = BWD_ERR_REFUSED;
	} else if (rc != 0) {
		rc = ds_refuse(r, PROTO_E_INVALID_MLS, mls_strerror(rc));
	} else {
		rc = accept_commit(ds, s, g, r, &req, hash, &cs);
	}
	commit_state_clear(&cs);
	return rc;
}

/* ---- GROUP_PROPOSE and GROUP_SEND ---- */

/* The view took a proposal: it must be this device's, as a member. */
static const char *vet_proposal(const struct ds_group *g,
				const struct ds_req *r,
				const struct mls_process_result *res)
{
	const struct ds_leaf *leaf;

	if (res->kind != MLS_RESULT_PROPOSAL)
		return "not a proposal";
	if (res->sender_type != SENDER_MEMBER ||
	    (leaf = ds_group_leaf(g, res->sender)) == NULL ||
	    strcmp(leaf->dev->id, r->who.id) != 0)
		return "the proposal is not from this device's leaf";
	return NULL;
}

/* Through the view: 0 when the message may be logged, 1 when it was a
 * retry and is answered, else refused (the group is dropped from the
 * cache if the view had moved). */
static int through_view(struct ds *ds, struct store *s, struct ds_group *g,
			struct ds_req *r,
			const struct proto_group_message_req *req,
			const uint8_t *hash)
{
	bool send = r->m.type == PROTO_T_GROUP_SEND;
	struct mls_process_result res;
	const char *why;
	int rc;

	if (mls_message_wire_format(req->message.p, req->message.n) !=
	    (send ? WIRE_PRIVATE : WIRE_PUBLIC))
		return ds_refuse(r, PROTO_E_INVALID_MLS,
				 send ? "messages are PrivateMessages"
				      : "proposals are PublicMessages");
	rc = mls_public_group_process(g->view, req->message.p, req->message.n,
				      &res);
	if (rc == MLS_ERR_WRONG_EPOCH) {
		/* A retry of what was accepted in an earlier epoch? */
		if ((rc = replay(s, r, g, &req->idempotency_key, hash)) != 0)
			return rc;
		ds_reply_stale(r, g->epoch);
		r->refused = true;
		return BWD_ERR_REFUSED;
	}
	if (rc != 0)
		return ds_refuse(r, PROTO_E_INVALID_MLS, mls_strerror(rc));
	why = send ? (res.kind == MLS_RESULT_OPAQUE ? NULL : "not a message")
		   : vet_proposal(g, r, &res);
	mls_process_result_clear(&res);
	if (why == NULL)
		return 0;
	if (!send)
		ds_group_forget(ds, g);
	return ds_refuse(r, send ? PROTO_E_INVALID_MLS : PROTO_E_FORBIDDEN,
			 why);
}

static int reply_seq(struct ds_req *r, uint64_t seq)
{
	struct proto_seq out = { seq };
	size_t mark = ds_reply_begin(r);

	proto_encode_seq(&r->resp, &out);
	return ds_reply_end(r, mark);
}

/* Stored: to the members' devices. An application message does not go
 * back to the device that sent it: it deleted the key it used (RFC 9420
 * §9.2, "Deletion Schedule"), and the response gives it the seq. Its
 * cursor moves past the message instead if it had everything before. */
static int deliver_message(struct ds *ds, struct store *s, struct ds_group *g,
			   struct ds_device *sender, bool send,
			   struct ds_msg *m)
{
	int rc;

	if (!send)
		return ds_push_leaves(ds, g->leaves, g->n_leaves, m, NULL);
	if ((rc = s->ds->member_pass_own(s, g->gid, sender->id, m->seq)) !=
	    0)
		return rc;
	return ds_push_leaves(ds, g->leaves, g->n_leaves, m, sender);
}

int ds_group_message(struct ds *ds, struct store *s, struct ds_req *r)
{
	bool send = r->m.type == PROTO_T_GROUP_SEND;
	struct proto_group_message_req req;
	const uint8_t *hash = r->hash; /* the worker made it */
	struct appended a = { 0 };
	struct ds_device *sender;
	struct ds_group *g;
	int rc;

	if (proto_decode_group_message_req(&r->m, &req) != 0)
		return ds_refuse(r, PROTO_E_MALFORMED, NULL);
	if ((rc = ds_group_find_named(ds, s, r, &req.group_id, &g)) != 0)
		return rc;
	if ((sender = ds_group_device(g, r->who.id)) == NULL)
		return ds_refuse(r, PROTO_E_NOT_MEMBER, NULL);
	/* A proposal changes the view: look for a retry first. Messages
	 * find theirs through the log's unique key below. */
	if (!send && (rc = replay(s, r, g, &req.idempotency_key, hash)) != 0)
		return rc < 0 ? rc : 0;
	if ((rc = through_view(ds, s, g, r, &req, hash)) != 0)
		return rc < 0 ? rc : 0;
	rc = append(s, g, g->last_seq + 1,
		    send ? PROTO_DELIVER_APPLICATION : PROTO_DELIVER_HANDSHAKE,
		    r->who.id, &req.idempotency_key, hash, g->epoch,
		    req.message.p, req.message.n, &a);
	if (rc == BWD_ERR_EXISTS && send) {
		rc = replay(s, r, g, &req.idempotency_key, hash);
		return rc < 0 ? rc : 0;
	}
	if (rc == 0) {
		g->last_seq++;
		if (!send)
			rc = ds_group_save(s, g, NULL);
		if (rc == 0)
			rc = deliver_message(ds, s, g, sender, send, a.msg);
	}
	ds_msg_unref(a.msg);
	if (rc != 0) {
		ds_group_forget(ds, g); /* its last seq or view moved */
		return rc;
	}
	return reply_seq(r, a.seq);
}

/* ---- GROUP_INFO and GROUP_LIST ---- */

int ds_group_info(struct ds *ds, struct store *s, struct ds_req *r)
{
	struct proto_group_info_resp out;
	struct proto_group_ref req;
	struct ds_group *g;
	size_t mark;
	int rc;

	if (proto_decode_group_ref(&r->m, &req) != 0)
		return ds_refuse(r, PROTO_E_MALFORMED, NULL);
	if ((rc = ds_group_find_named(ds, s, r, &req.group_id, &g)) != 0)
		return rc;
	if (!ds_group_has_user(g, r->who.user))
		return ds_refuse(r, PROTO_E_NOT_MEMBER, NULL);
	out = (struct proto_group_info_resp){
		.epoch = g->epoch,
		.group_info = { g->group_info.p, g->group_info.len },
	};
	mark = ds_reply_begin(r);
	proto_encode_group_info_resp(&r->resp, &out);
	return ds_reply_end(r, mark);
}

static int list_entry(void *arg, const struct store_user_group *g)
{
	struct proto_group_entry e = {
		.group_id = { g->group_id, g->group_id_len },
		.epoch = g->epoch,
		.member = g->member,
	};

	return proto_write_group(arg, &e);
}

int ds_group_list(struct ds *ds, struct store *s, struct ds_req *r)
{
	size_t mark, list;
	int rc;

	(void)ds;
	mark = ds_reply_begin(r);
	list = bw_write_vector_begin(&r->resp);
	if ((rc = s->ds->user_groups(s, r->who.user, r->who.id, list_entry,
				     &r->resp)) != 0 &&
	    r->resp.err == 0)
		return rc;
	bw_write_vector_end(&r->resp, list);
	if (ds_reply_end(r, mark) != 0)
		return ds_refuse(r, PROTO_E_FORBIDDEN,
				 "list too large for one response");
	return 0;
}

/* ---- revocation ---- */

/* Every leaf of the device (or of the user's devices) in g. */
static int remove_from(struct ds *ds, struct store *s, struct ds_group *g,
		       const char *device_id, const char *user)
{
	struct appended a = { 0 };
	struct ds_leaf *fresh;
	size_t n;
	int rc;

	/* The registry no longer has the device: read the leaves again. */
	if ((rc = ds_leaves_read(ds, g->view, &fresh, &n)) != 0)
		return rc;
	free(g->leaves);
	g->leaves = fresh;
	g->n_leaves = n;
	for (size_t i = 0; i < g->n_leaves; i++) {
		const struct ds_leaf *l = &g->leaves[i];

		if (device_id != NULL ? strcmp(l->dev->id, device_id) != 0
				      : strcmp(l->user, user) != 0)
			continue;
		if ((rc = server_remove(ds, s, g, l->leaf, g->last_seq + 1,
					&a)) != 0)
			return rc;
		g->last_seq++;
		rc = ds_push_leaves(ds, g->leaves, g->n_leaves, a.msg, NULL);
		ds_msg_unref(a.msg);
		if (rc != 0)
			return rc;
	}
	return ds_group_save(s, g, NULL);
}

struct gid_list {
	int64_t *v;
	size_t n, cap;
};

static int add_gid(void *arg, int64_t gid)
{
	struct gid_list *l = arg;
	int64_t *grown;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == gid)
			return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		if ((grown = realloc(l->v, l->cap * sizeof(*grown))) == NULL)
			return BW_ERR_NOMEM;
		l->v = grown;
	}
	l->v[l->n++] = gid;
	return 0;
}

struct user_gids {
	struct store *s;
	struct gid_list *gids;
};

static int user_device_groups(void *arg, const struct store_device *d)
{
	struct user_gids *a = arg;

	return a->s->ds->device_groups(a->s, d->id, add_gid, a->gids);
}

int ds_remove_devices(struct ds *ds, struct store *s, const char *device_id,
		      const char *user)
{
	struct gid_list gids = { 0 };
	struct user_gids arg = { s, &gids };
	struct ds_group *g;
	int rc;

	ds_pushes_mark(ds);
	rc = device_id != NULL
		     ? s->ds->device_groups(s, device_id, add_gid, &gids)
		     : s->ops->device_list(s, user, user_device_groups, &arg);
	for (size_t i = 0; rc == 0 && i < gids.n; i++) {
		if ((rc = ds_group_find_gid(ds, s, gids.v[i], &g)) == 0 &&
		    (rc = remove_from(ds, s, g, device_id, user)) != 0)
			ds_group_forget(ds, g);
	}
	if (rc != 0)
		ds_pushes_rewind(ds);
	free(gids.v);
	return rc;
}

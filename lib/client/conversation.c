/*
 * conversation.c - what a device does to its conversations: create one
 * with users, add and remove users (all their devices), send.
 *
 * Creating: the group is made with the server's delivery-service key in
 * external_senders (after its credential was checked against the pinned
 * CA), registered with GROUP_CREATE, and every device of every user
 * (this device's user's other devices too) is added by one commit whose
 * Welcome the server routes by KeyPackageRef.
 */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "device.h"
#include "pki.h"

#define GROUP_ID_LEN 32u /* KDF.Nh of every suite, as §11 suggests */
#define MIN_ID_PREFIX 4u

/* ---- naming a conversation ---- */

static bool is_hex(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static bool matches(const struct store_conv *conv, const char *ref,
		    bool by_name)
{
	char hex[BULWARK_CONV_ID_SIZE];
	size_t n = strlen(ref);

	if (by_name)
		return strcmp(conv->name, ref) == 0;
	bw_hex_encode(conv->group_id.p, conv->group_id.len, hex);
	return n >= MIN_ID_PREFIX && is_hex(ref) && n <= strlen(hex) &&
	       memcmp(hex, ref, n) == 0;
}

/* A name first, then an id prefix; exactly one must match. */
static int resolve_stored(struct bulwark_client *c, const char *ref,
			  struct store_conv *out)
{
	struct store_conv *convs;
	size_t n, found = 0, at = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (ref == NULL || ref[0] == '\0')
		return BULWARK_ERR_NO_CONVERSATION;
	if ((rc = store_conv_list(c->store, &convs, &n)) != 0)
		return rc;
	for (int by_name = 1; by_name >= 0 && found == 0; by_name--)
		for (size_t i = 0; i < n; i++)
			if (matches(&convs[i], ref, by_name)) {
				found++;
				at = i;
			}
	if (found == 1) {
		*out = convs[at];
		memset(&convs[at], 0, sizeof(convs[at])); /* transferred */
	}
	store_convs_free(convs, n);
	return found == 1 ? 0
			  : found == 0 ? BULWARK_ERR_NO_CONVERSATION
				       : BULWARK_ERR_AMBIGUOUS;
}

/* A conversation this device was just added to is in the backlog: handle
 * that before saying there is none. */
int client_resolve(struct bulwark_client *c, const char *ref,
		   struct store_conv *out)
{
	int rc = resolve_stored(c, ref, out);

	if (rc != BULWARK_ERR_NO_CONVERSATION || c->s == NULL || c->synced)
		return rc;
	if ((rc = client_pump(c, client_deadline(c), client_is_synced,
			      NULL)) != 0)
		return rc;
	return resolve_stored(c, ref, out);
}

/* ---- adding devices ---- */

/* Key packages claimed for the users to add, one per device. */
struct claimed {
	struct bw_bytes *kps;
	char (*users)[BULWARK_MAX_NAME + 1];
	char (*devices)[BULWARK_MAX_NAME + 1];
	size_t n;
};

static void claimed_clear(struct claimed *cl)
{
	for (size_t i = 0; cl->kps != NULL && i < cl->n; i++)
		bw_bytes_clear(&cl->kps[i]);
	free(cl->kps);
	free(cl->users);
	free(cl->devices);
	memset(cl, 0, sizeof(*cl));
}

static void copy_name(const struct proto_span *s,
		      char out[BULWARK_MAX_NAME + 1])
{
	memcpy(out, s->p, s->n); /* the codec checked: a name, <= 64 */
	out[s->n] = '\0';
}

/* The server says whose each package is; the package's certificate must
 * say the same, and be of a user that was asked for: the server cannot
 * slip another device into a conversation. */
static int check_claim(const char *user, const char *device_id,
		       const struct proto_claim *item,
		       const char *const *users, size_t n)
{
	char u[BULWARK_MAX_NAME + 1], d[BULWARK_MAX_NAME + 1];
	bool asked = false;
	int rc;

	for (size_t i = 0; i < n; i++)
		asked = asked || strcmp(users[i], user) == 0;
	if ((rc = member_key_package_identity(item->key_package.p,
					      item->key_package.n, u, d)) != 0)
		return rc;
	return asked && strcmp(u, user) == 0 && strcmp(d, device_id) == 0
		       ? 0
		       : BULWARK_ERR_KEY_PACKAGE;
}

/* Claim one key package for every device of each user (this device's
 * own is left out by the server); every user but own_user must have
 * one. */
static int claim(struct bulwark_client *c, const char *const *users,
		 size_t n, const char *own_user, struct claimed *out)
{
	struct proto_kp_claim_resp resp;
	struct proto_claim item;
	struct bw_reader it;
	size_t i = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rpc_kp_claim(c, users, n, &resp)) != 0)
		return rc;
	out->kps = calloc(resp.claims.count + 1, sizeof(*out->kps));
	out->users = calloc(resp.claims.count + 1, sizeof(*out->users));
	out->devices = calloc(resp.claims.count + 1, sizeof(*out->devices));
	if (out->kps == NULL || out->users == NULL || out->devices == NULL) {
		claimed_clear(out);
		return BW_ERR_NOMEM;
	}
	proto_list_iter(&resp.claims, &it);
	while (i < resp.claims.count && proto_next_claim(&it, &item)) {
		copy_name(&item.user, out->users[i]);
		copy_name(&item.device_id, out->devices[i]);
		if ((rc = check_claim(out->users[i], out->devices[i], &item,
				      users, n)) != 0 ||
		    (rc = bw_bytes_set(&out->kps[i], item.key_package.p,
				       item.key_package.n)) != 0) {
			out->n = i + 1;
			claimed_clear(out);
			return rc;
		}
		out->n = ++i;
	}
	for (size_t u = 0; u < n; u++) {
		bool any = false;

		for (size_t k = 0; k < out->n; k++)
			any = any || strcmp(out->users[k], users[u]) == 0;
		if (!any && strcmp(users[u], own_user) != 0) {
			claimed_clear(out);
			return BULWARK_ERR_NO_DEVICES;
		}
	}
	return 0;
}

/* ---- identities in a group ---- */

/* Is the device (user, device_id) a member of g? */
static bool device_in(const struct mls_group *g, const char *user,
		      const char *device_id)
{
	char u[BULWARK_MAX_NAME + 1], d[BULWARK_MAX_NAME + 1];

	for (uint32_t leaf = 0; leaf < mls_group_n_leaves(g); leaf++)
		if (member_leaf_identity(g, leaf, u, d) == 0 &&
		    strcmp(u, user) == 0 && strcmp(d, device_id) == 0)
			return true;
	return false;
}

/* Add by value each claimed device not in the group yet (another
 * member may have added it while this one caught up). */
static int build_add(struct bulwark_client *c, struct mls_group *g,
		     const struct store_conv *conv, void *arg)
{
	const struct claimed *cl = arg;
	size_t added = 0;
	int rc;

	(void)c;
	(void)conv;
	for (size_t i = 0; i < cl->n; i++) {
		if (device_in(g, cl->users[i], cl->devices[i]))
			continue;
		if ((rc = mls_group_propose_add(g, cl->kps[i].p, cl->kps[i].len,
						NULL, NULL)) != 0)
			return rc;
		added++;
	}
	return added > 0 ? 0 : COMMIT_NOTHING;
}

/* The leaves of user's devices in g (the first max of them); *n counts
 * them all. */
static void user_leaves(const struct mls_group *g, const char *user,
			uint32_t *leaves, size_t max, size_t *n)
{
	char u[BULWARK_MAX_NAME + 1], d[BULWARK_MAX_NAME + 1];

	*n = 0;
	for (uint32_t leaf = 0; leaf < mls_group_n_leaves(g); leaf++) {
		if (member_leaf_identity(g, leaf, u, d) != 0 ||
		    strcmp(u, user) != 0)
			continue;
		if (leaves != NULL && *n < max)
			leaves[*n] = leaf;
		(*n)++;
	}
}

static int user_in(struct bulwark_client *c, const struct store_conv *conv,
		   const char *user, bool *in)
{
	struct mls_group *g = NULL;
	size_t n = 0;
	int rc;

	if ((rc = client_load_group(c, conv, &g)) == 0)
		user_leaves(g, user, NULL, 0, &n);
	mls_group_free(g);
	*in = n > 0;
	return rc;
}

#define MAX_USER_DEVICES 256u

static int build_remove(struct bulwark_client *c, struct mls_group *g,
			const struct store_conv *conv, void *arg)
{
	const char *user = arg;
	uint32_t leaves[MAX_USER_DEVICES];
	size_t n;
	int rc;

	(void)c;
	(void)conv;
	user_leaves(g, user, leaves, MAX_USER_DEVICES, &n);
	if (n == 0)
		return COMMIT_NOTHING; /* removed meanwhile */
	if (n > MAX_USER_DEVICES)
		n = MAX_USER_DEVICES;
	for (size_t i = 0; i < n; i++)
		if ((rc = mls_group_propose_remove(g, leaves[i], NULL, NULL)) !=
		    0)
			return rc;
	return 0;
}

/* ---- sending ---- */

struct outgoing {
	struct bw_bytes msg; /* the PrivateMessage */
	uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN];
	uint64_t epoch;
};

/* Encrypt in the current epoch, committing pending proposals first
 * (RFC 9420 §12.4: no application data while proposals are pending). */
static int encrypt(struct bulwark_client *c, const struct bw_bytes *gid,
		   const struct bw_bytes *plain, struct outgoing *out)
{
	struct store_conv conv;
	struct mls_group *g = NULL;
	int rc;

	memset(&conv, 0, sizeof(conv));
	for (int i = 0; i < 2; i++) {
		if ((rc = store_conv_get(c->store, gid->p, gid->len, &conv)) !=
		    0)
			return rc;
		if (!conv.active) {
			rc = BULWARK_ERR_CONV_INACTIVE;
			goto out;
		}
		if ((rc = client_load_group(c, &conv, &g)) != 0)
			goto out;
		rc = mls_group_encrypt(g, plain->p, plain->len, NULL, 0,
				       &out->msg.p, &out->msg.len);
		if (rc != MLS_ERR_PROPOSALS_PENDING)
			break;
		mls_group_free(g);
		g = NULL;
		store_conv_clear(&conv);
		if ((rc = client_commit_proposals(c, gid->p, gid->len)) != 0)
			return rc;
		rc = MLS_ERR_PROPOSALS_PENDING;
	}
	if (rc != 0)
		goto out;
	out->epoch = mls_group_epoch(g);
	if (RAND_bytes(out->key, sizeof(out->key)) != 1) {
		rc = BULWARK_ERR_KS_CRYPTO;
		goto out;
	}
	/* The ratchet moved: saved before the message leaves. */
	rc = client_save_group(c, &conv, g);
out:
	mls_group_free(g);
	store_conv_clear(&conv);
	return rc;
}

/* Post it; a dropped connection is reopened and the same message posted
 * again (the idempotency key makes it one) until the deadline. */
static int post(struct bulwark_client *c, const struct bw_bytes *gid,
		const struct outgoing *o, int64_t deadline, uint64_t *seq,
		uint64_t *current)
{
	struct group_post p = {
		.group_id = gid->p,
		.group_id_len = gid->len,
		.message = o->msg.p,
		.message_len = o->msg.len,
	};
	int rc;

	memcpy(p.idempotency_key, o->key, sizeof(p.idempotency_key));
	for (;;) {
		rc = rpc_group_send(c, &p, seq, current);
		if (!client_transient(rc))
			return rc;
		if ((rc = client_reconnect(c, deadline)) != 0)
			return rc;
	}
}

static int record_own(struct bulwark_client *c, const struct bw_bytes *gid,
		      uint8_t kind, const void *text, size_t len, uint64_t seq)
{
	const struct bulwark_device_info *i = bulwark_device_info(c->dev);
	struct store_msg m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.seq = seq;
	m.time = (uint64_t)time(NULL);
	m.kind = kind;
	m.own = true;
	memcpy(m.user, i->user, sizeof(m.user));
	memcpy(m.device_id, i->device_id, sizeof(m.device_id));
	if ((rc = bw_bytes_set(&m.group_id, gid->p, gid->len)) == 0 &&
	    (rc = bw_bytes_set(&m.text, text, len)) == 0)
		rc = store_msg_add(c->store, &m);
	store_msg_clear(&m);
	return rc;
}

static int send_app(struct bulwark_client *c, const struct bw_bytes *gid,
		    uint8_t kind, const void *text, size_t len, uint64_t *seq)
{
	struct bw_bytes plain = { 0 };
	struct outgoing o;
	int64_t deadline = client_deadline(c);
	uint64_t current = 0;
	int rc;

	if ((rc = app_message_encode(kind, text, len, &plain)) != 0)
		return rc;
	for (int i = 0; i < CLIENT_MAX_ATTEMPTS; i++) {
		memset(&o, 0, sizeof(o));
		if ((rc = client_need_session(c)) != 0 ||
		    (rc = encrypt(c, gid, &plain, &o)) != 0)
			break;
		rc = post(c, gid, &o, deadline, seq, &current);
		bw_bytes_clear(&o.msg);
		if (rc != BULWARK_ERR_STALE_EPOCH)
			break;
		/* A commit came first: handle it, encrypt again. */
		if ((rc = client_catch_up(c, gid->p, gid->len, current)) != 0)
			break;
		rc = BULWARK_ERR_GAVE_UP;
	}
	if (rc == 0)
		rc = record_own(c, gid, kind, text, len, *seq);
	bw_bytes_clear(&plain);
	return rc;
}

/* ---- creating ---- */

static int check_users(const struct bulwark_client *c,
		       const char *const *users, size_t n)
{
	const char *own = bulwark_device_info(c->dev)->user;

	if (n == 0 || n > BULWARK_MAX_USERS)
		return BULWARK_ERR_USERS;
	for (size_t i = 0; i < n; i++) {
		if (users[i] == NULL || !ca_name_valid(users[i]))
			return BULWARK_ERR_USER_NAME;
		if (strcmp(users[i], own) == 0)
			return BULWARK_ERR_USERS;
		for (size_t j = 0; j < i; j++)
			if (strcmp(users[i], users[j]) == 0)
				return BULWARK_ERR_USERS;
	}
	return 0;
}

static bool name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > BULWARK_MAX_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] < ' ' || name[i] > '~')
			return false;
	return true;
}

/* The group at epoch 0, stored and registered with the server. */
static int start_group(struct bulwark_client *c, const char *name,
		       struct store_conv *conv)
{
	struct proto_server_info info;
	struct mls_extensions *ext = NULL;
	struct mls_group *g = NULL;
	uint8_t gid[GROUP_ID_LEN], *gi = NULL;
	size_t gi_len = 0;
	int rc;

	memset(conv, 0, sizeof(*conv));
	if (RAND_bytes(gid, sizeof(gid)) != 1)
		return BULWARK_ERR_KS_CRYPTO;
	if ((rc = rpc_server_info(c, &info)) != 0 ||
	    (rc = member_ds_extensions(&c->me, &info, &ext)) != 0 ||
	    (rc = mls_group_create(&c->me.cfg, c->me.signer, gid, sizeof(gid),
				   ext, &g)) != 0 ||
	    (rc = mls_group_group_info(g, true, &gi, &gi_len)) != 0 ||
	    (rc = bw_bytes_set(&conv->group_id, gid, sizeof(gid))) != 0)
		goto out;
	snprintf(conv->name, sizeof(conv->name), "%s", name ? name : "");
	conv->created = (uint64_t)time(NULL);
	conv->active = true;
	if ((rc = client_save_group(c, conv, g)) != 0)
		goto out;
	if ((rc = rpc_group_create(c, gi, gi_len)) != 0)
		(void)store_conv_delete(c->store, gid, sizeof(gid));
out:
	free(gi);
	mls_group_free(g);
	mls_extensions_free(ext);
	if (rc != 0)
		store_conv_clear(conv);
	return rc;
}

int bulwark_conversation_create(struct bulwark_client *c,
				const char *const *users, size_t n_users,
				const char *name,
				char id_out[BULWARK_CONV_ID_SIZE])
{
	const char *own = bulwark_device_info(c->dev)->user;
	const char *all[BULWARK_MAX_USERS + 1];
	struct store_conv conv;
	struct claimed cl;
	uint64_t seq;
	int rc;

	id_out[0] = '\0';
	memset(&cl, 0, sizeof(cl));
	if ((rc = check_users(c, users, n_users)) != 0)
		return rc;
	if (name != NULL && !name_valid(name))
		return BULWARK_ERR_CONV_NAME;
	if ((rc = client_need_session(c)) != 0)
		return rc;
	memcpy(all, users, n_users * sizeof(*all));
	all[n_users] = own; /* this user's other devices */
	if ((rc = claim(c, all, n_users + 1, own, &cl)) != 0)
		return rc;
	if ((rc = start_group(c, name, &conv)) != 0)
		goto out;
	bw_hex_encode(conv.group_id.p, conv.group_id.len, id_out);
	if ((rc = client_commit(c, conv.group_id.p, conv.group_id.len,
				build_add, &cl)) != 0)
		goto out;
	/* Tell the members what the conversation is called. */
	if (name != NULL)
		rc = send_app(c, &conv.group_id, STORE_MSG_TITLE, name,
			      strlen(name), &seq);
out:
	claimed_clear(&cl);
	store_conv_clear(&conv);
	return rc;
}

/* ---- adding and removing users ---- */

int bulwark_conversation_add(struct bulwark_client *c, const char *ref,
			     const char *user)
{
	struct store_conv conv;
	struct claimed cl;
	const char *users[1] = { user };
	bool in = false;
	int rc;

	memset(&cl, 0, sizeof(cl));
	if (user == NULL || !ca_name_valid(user))
		return BULWARK_ERR_USER_NAME;
	if ((rc = client_need_session(c)) != 0 ||
	    (rc = client_resolve(c, ref, &conv)) != 0)
		return rc;
	if (!conv.active)
		rc = BULWARK_ERR_CONV_INACTIVE;
	else if ((rc = user_in(c, &conv, user, &in)) == 0 && in)
		rc = BULWARK_ERR_ALREADY_MEMBER;
	if (rc == 0 && (rc = claim(c, users, 1, "", &cl)) == 0) {
		rc = client_commit(c, conv.group_id.p, conv.group_id.len,
				   build_add, &cl);
	}
	claimed_clear(&cl);
	store_conv_clear(&conv);
	return rc;
}

int bulwark_conversation_remove(struct bulwark_client *c, const char *ref,
				const char *user)
{
	struct store_conv conv;
	bool in = false;
	int rc;

	if (user == NULL || !ca_name_valid(user))
		return BULWARK_ERR_USER_NAME;
	if (strcmp(user, bulwark_device_info(c->dev)->user) == 0)
		return BULWARK_ERR_REMOVE_SELF;
	if ((rc = client_need_session(c)) != 0 ||
	    (rc = client_resolve(c, ref, &conv)) != 0)
		return rc;
	if (!conv.active)
		rc = BULWARK_ERR_CONV_INACTIVE;
	else if ((rc = user_in(c, &conv, user, &in)) == 0 && !in)
		rc = BULWARK_ERR_NOT_IN_CONVERSATION;
	if (rc == 0)
		rc = client_commit(c, conv.group_id.p, conv.group_id.len,
				   build_remove, (void *)user);
	store_conv_clear(&conv);
	return rc;
}

int bulwark_send(struct bulwark_client *c, const char *ref, const void *text,
		 size_t len, uint64_t *seq_out)
{
	struct store_conv conv;
	uint64_t seq = 0;
	int rc;

	if (len == 0 || len > BULWARK_MAX_TEXT)
		return BULWARK_ERR_TEXT_SIZE;
	if ((rc = client_need_session(c)) != 0 ||
	    (rc = client_resolve(c, ref, &conv)) != 0)
		return rc;
	rc = conv.active ? send_app(c, &conv.group_id, STORE_MSG_TEXT, text,
				    len, &seq)
			 : BULWARK_ERR_CONV_INACTIVE;
	store_conv_clear(&conv);
	if (rc == 0 && seq_out != NULL)
		*seq_out = seq;
	return rc;
}

/*
 * rejoin.c - a device joins its user's conversations by external commit
 * (RFC 9420 §12.4.3.2): GROUP_LIST names the groups in which the user has
 * a device, GROUP_INFO gives each one's latest GroupInfo (kept by the
 * server, checked against its view of the group), and the external
 * commit adds this device. The server accepts such a commit only from a
 * device whose user is already in the group; the members accept it only
 * with a credential from the organisation's CA.
 */
#include "client.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

/* The group ids to join, copied out of the GROUP_LIST response. */
struct to_join {
	struct bw_bytes *ids;
	size_t n;
};

static void to_join_clear(struct to_join *t)
{
	for (size_t i = 0; i < t->n; i++)
		bw_bytes_clear(&t->ids[i]);
	free(t->ids);
	memset(t, 0, sizeof(*t));
}

static int list_missing(struct bulwark_client *c, struct to_join *out)
{
	struct proto_group_list_resp resp;
	struct proto_group_entry e;
	struct bw_reader it;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rpc_group_list(c, &resp)) != 0)
		return rc;
	if ((out->ids = calloc(resp.groups.count + 1, sizeof(*out->ids))) ==
	    NULL)
		return BW_ERR_NOMEM;
	proto_list_iter(&resp.groups, &it);
	while (proto_next_group(&it, &e)) {
		if (e.member)
			continue;
		if ((rc = bw_bytes_set(&out->ids[out->n], e.group_id.p,
				       e.group_id.n)) != 0) {
			to_join_clear(out);
			return rc;
		}
		out->n++;
	}
	return 0;
}

struct external {
	struct bw_bytes commit;
	uint8_t *group_info; /* the new epoch's, for the server */
	size_t group_info_len;
	uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN];
};

static void external_clear(struct external *x)
{
	bw_bytes_clear(&x->commit);
	free(x->group_info);
	memset(x, 0, sizeof(*x));
}

/* The external commit, and the conversation saved in its new epoch
 * (before the commit is sent: the server may take it). *old keeps what
 * was stored before, to put back if the server refuses. */
static int make_join(struct bulwark_client *c, const struct bw_bytes *gid,
		     struct external *x, struct store_conv *old, bool *had)
{
	struct proto_group_info_resp resp;
	struct mls_external_join p;
	struct store_conv conv;
	struct mls_group *g = NULL;
	int rc;

	memset(&conv, 0, sizeof(conv));
	if ((rc = rpc_group_info(c, gid->p, gid->len, &resp)) != 0)
		return rc;
	memset(&p, 0, sizeof(p));
	p.group_info = resp.group_info.p;
	p.group_info_len = resp.group_info.n;
	if ((rc = mls_group_join_external(&c->me.cfg, c->me.signer, &p,
					  &x->commit.p, &x->commit.len, &g)) !=
		    0 ||
	    (rc = mls_group_group_info(g, true, &x->group_info,
				       &x->group_info_len)) != 0)
		goto out;
	if (RAND_bytes(x->key, sizeof(x->key)) != 1) {
		rc = BULWARK_ERR_KS_CRYPTO;
		goto out;
	}
	rc = store_conv_get(c->store, gid->p, gid->len, old);
	*had = rc == 0;
	if (rc != 0 && rc != BULWARK_ERR_NO_CONVERSATION)
		goto out;
	if ((rc = bw_bytes_set(&conv.group_id, gid->p, gid->len)) != 0)
		goto out;
	if (*had) {
		memcpy(conv.name, old->name, sizeof(conv.name));
		conv.created = old->created;
		conv.cursor = old->cursor;
	} else {
		conv.created = (uint64_t)time(NULL);
	}
	rc = client_save_group(c, &conv, g);
out:
	mls_group_free(g);
	store_conv_clear(&conv);
	return rc;
}

static void undo_join(struct bulwark_client *c, const struct bw_bytes *gid,
		      const struct store_conv *old, bool had)
{
	if (had)
		(void)store_conv_put(c->store, old);
	else
		(void)store_conv_delete(c->store, gid->p, gid->len);
}

static int join_one(struct bulwark_client *c, const struct bw_bytes *gid)
{
	struct external x;
	struct store_conv old;
	struct proto_seq_epoch res;
	bool had = false;
	int rc = BULWARK_ERR_GAVE_UP;

	for (int i = 0; i < CLIENT_MAX_ATTEMPTS; i++) {
		memset(&x, 0, sizeof(x));
		memset(&old, 0, sizeof(old));
		if ((rc = make_join(c, gid, &x, &old, &had)) == 0) {
			struct group_post p = {
				.group_id = gid->p,
				.group_id_len = gid->len,
				.message = x.commit.p,
				.message_len = x.commit.len,
				.group_info = x.group_info,
				.group_info_len = x.group_info_len,
			};

			memcpy(p.idempotency_key, x.key, sizeof(x.key));
			c->sent_commit = true;
			rc = rpc_group_commit(c, &p, &res, NULL);
			/* Unanswered, it may have been taken: the next
			 * GROUP_LIST tells. Refused, it never happened. */
			if (rc != 0 && !client_transient(rc))
				undo_join(c, gid, &old, had);
		}
		external_clear(&x);
		store_conv_clear(&old);
		/* A commit came first: a newer GroupInfo, again. */
		if (rc != BULWARK_ERR_STALE_EPOCH)
			break;
	}
	return rc;
}

int client_rejoin(struct bulwark_client *c)
{
	struct to_join t;
	int rc;

	if ((rc = list_missing(c, &t)) != 0)
		return rc;
	for (size_t i = 0; i < t.n; i++) {
		rc = join_one(c, &t.ids[i]);
		/* One conversation that cannot be joined (the server's policy,
		 * a GroupInfo that does not verify) does not stop the others;
		 * a lost connection does. */
		if (client_transient(rc) || rc == BULWARK_ERR_DEVICE_REVOKED ||
		    client_local_failure(rc))
			break;
		rc = 0;
	}
	to_join_clear(&t);
	return rc;
}

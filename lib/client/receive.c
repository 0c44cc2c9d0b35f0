/*
 * receive.c - what the server delivers, handled in order: Welcomes from
 * the inbox (joining), and each conversation's commits, proposals and
 * application messages by seq. Each is stored (state, cursor and message
 * in one transaction) before it is acknowledged, so a crash loses nothing
 * and a redelivery is recognised by its (group, seq) and dropped.
 */
#include "client.h"

#include <stdlib.h>
#include <string.h>

#include "codec.h"

/* RFC 9420 §6: WireFormat values of an MLSMessage. */
#define WIRE_PUBLIC_MESSAGE 1
#define WIRE_PRIVATE_MESSAGE 2

/* ---- acknowledgements ---- */

int client_ack_later(struct bulwark_client *c, const uint8_t *gid,
		     size_t gid_len, uint64_t seq)
{
	struct ack *a;
	int rc;

	for (size_t i = 0; i < c->n_acks; i++) {
		a = &c->acks[i];
		if (bw_bytes_eq(&a->group_id, gid, gid_len)) {
			if (seq > a->seq)
				a->seq = seq;
			return 0;
		}
	}
	if (c->n_acks == c->cap_acks) {
		size_t cap = c->cap_acks ? c->cap_acks * 2 : 8;

		if ((a = realloc(c->acks, cap * sizeof(*a))) == NULL)
			return BW_ERR_NOMEM;
		c->acks = a;
		c->cap_acks = cap;
	}
	a = &c->acks[c->n_acks];
	memset(a, 0, sizeof(*a));
	if (gid_len > 0 && (rc = bw_bytes_set(&a->group_id, gid, gid_len)) != 0)
		return rc;
	a->seq = seq;
	c->n_acks++;
	return 0;
}

int client_flush_acks(struct bulwark_client *c)
{
	size_t done = 0, n;
	int rc = 0;

	/* A push was lost: acknowledging what followed it would lose it for
	 * good. Reconnecting has the server send it again. */
	if (c->push_error != 0) {
		rc = c->push_error;
		client_disconnect(c);
		return rc;
	}
	while (done < c->n_acks) {
		n = c->n_acks - done;
		if (n > PROTO_MAX_ACKS)
			n = PROTO_MAX_ACKS;
		if ((rc = rpc_queue_ack(c, c->acks + done, n)) != 0)
			break;
		done += n;
	}
	if (c->s == NULL)
		return rc; /* the acknowledgements went with the session */
	for (size_t i = 0; i < done; i++)
		bw_bytes_clear(&c->acks[i].group_id);
	if (done < c->n_acks)
		memmove(c->acks, c->acks + done,
			(c->n_acks - done) * sizeof(*c->acks));
	c->n_acks -= done;
	return rc;
}

/* ---- one conversation's messages ---- */

/* The epoch a PublicMessage or PrivateMessage is for (RFC 9420 §6.2,
 * §6.3: both start with group_id and epoch). */
static bool peek_epoch(const uint8_t *p, size_t n, uint64_t *epoch)
{
	struct bw_reader r;
	uint16_t version, wire;
	const uint8_t *gid;
	size_t gid_len;

	bw_reader_init(&r, p, n);
	bw_read_u16(&r, &version);
	bw_read_u16(&r, &wire);
	if (r.err != 0 ||
	    (wire != WIRE_PUBLIC_MESSAGE && wire != WIRE_PRIVATE_MESSAGE))
		return false;
	bw_read_opaque(&r, STORE_MAX_GROUP_ID, &gid, &gid_len);
	bw_read_u64(&r, epoch);
	return r.err == 0;
}

/* An application message: its plaintext and sender, for the history. */
static int application(struct bulwark_client *c, struct store_conv *conv,
		       const struct mls_group *g,
		       const struct mls_process_result *res,
		       const struct proto_deliver *d, struct store_msg *m)
{
	const uint8_t *text;
	size_t len;
	uint8_t kind;
	int rc;

	(void)c;
	if (res->sender_type != 1 ||
	    app_message_decode(res->data, res->data_len, &kind, &text,
			       &len) != 0)
		return BULWARK_ERR_MESSAGE_INVALID;
	if ((rc = member_leaf_identity(g, res->sender, m->user,
				       m->device_id)) != 0 ||
	    (rc = bw_bytes_set(&m->group_id, conv->group_id.p,
			       conv->group_id.len)) != 0 ||
	    (rc = bw_bytes_set(&m->text, text, len)) != 0)
		return rc;
	m->seq = d->seq;
	m->time = d->timestamp;
	m->kind = kind;
	if (kind == STORE_MSG_TITLE) {
		memcpy(conv->name, text, len); /* checked: printable, <= 64 */
		conv->name[len] = '\0';
	}
	return 0;
}

/* What processing a message changes in the conversation's record.
 * *processed: MLS took it, so the state changed (even if what a member
 * put inside is then refused). */
static int apply(struct bulwark_client *c, struct store_conv *conv,
		 struct mls_group *g, const struct proto_deliver *d,
		 struct store_msg *m, bool *have_msg, bool *processed)
{
	struct mls_process_result res;
	int rc;

	memset(&res, 0, sizeof(res));
	rc = mls_group_process(g, d->payload.p, d->payload.n, &res);
	if (rc != 0)
		goto out;
	*processed = true;
	switch (res.kind) {
	case MLS_RESULT_APPLICATION:
		rc = application(c, conv, g, &res, d, m);
		*have_msg = rc == 0;
		break;
	case MLS_RESULT_PROPOSAL:
		conv->proposals = true;
		c->check_proposals = true;
		break;
	case MLS_RESULT_COMMIT:
		/* Proposals belong to their epoch (RFC 9420 §12.4). */
		conv->proposals = false;
		conv->active = mls_group_active(g);
		break;
	default:
		rc = BULWARK_ERR_MESSAGE_INVALID;
	}
out:
	mls_process_result_clear(&res);
	return rc;
}

/* Store the conversation (and the message) as of seq, in one
 * transaction. */
static int save(struct bulwark_client *c, struct store_conv *conv,
		const struct mls_group *g, uint64_t seq, struct store_msg *m)
{
	int rc;

	conv->cursor = seq;
	if ((rc = store_begin(c->store)) != 0)
		return rc;
	if ((g != NULL && (rc = client_save_group(c, conv, g)) != 0) ||
	    (g == NULL && (rc = store_conv_put(c->store, conv)) != 0) ||
	    (m != NULL && (rc = store_msg_add(c->store, m)) != 0) ||
	    (rc = store_commit(c->store)) != 0) {
		store_rollback(c->store);
		return rc;
	}
	return 0;
}

static void notify(struct bulwark_client *c, const struct store_msg *m)
{
	struct bulwark_message out;

	if (c->on_message == NULL || listing_message(m, &out) != 0)
		return;
	c->on_message(c->message_arg, &out);
	listing_message_clear(&out);
}

/* A message of a conversation this device knows. */
static int conversation_message(struct bulwark_client *c,
				struct store_conv *conv,
				const struct proto_deliver *d)
{
	struct mls_group *g = NULL;
	struct store_msg m;
	uint64_t epoch;
	bool own = false, have_msg = false, processed = false;
	int rc;

	memset(&m, 0, sizeof(m));
	if (d->seq <= conv->cursor)
		return 0; /* handled before: a redelivery */
	/* This device's own application message: stored when it was sent. */
	if ((rc = store_msg_has(c->store, d->group_id.p, d->group_id.n, d->seq,
				&own)) != 0)
		return rc;
	if (own)
		return save(c, conv, NULL, d->seq, NULL);
	if ((rc = client_load_group(c, conv, &g)) != 0)
		goto out;
	/* Older than the state: e.g. the commit that added this device, or
	 * its own external commit. */
	if (peek_epoch(d->payload.p, d->payload.n, &epoch) &&
	    epoch < mls_group_epoch(g)) {
		rc = save(c, conv, NULL, d->seq, NULL);
		goto out;
	}
	rc = apply(c, conv, g, d, &m, &have_msg, &processed);
	if (client_local_failure(rc))
		goto out;
	/* Refused (forged, invalid, a key already used, content that is not
	 * ours): passed over. The state is saved if MLS took the message, so
	 * that the key it used is gone from disk too. */
	rc = save(c, conv, processed ? g : NULL, d->seq, have_msg ? &m : NULL);
	if (rc == 0 && have_msg)
		notify(c, &m);
out:
	mls_group_free(g);
	store_msg_clear(&m);
	return rc;
}

/* ---- Welcomes ---- */

/* Deliveries held for gid go back to the front of the queue, in the order
 * they came: they precede anything queued since. */
static void release_held(struct bulwark_client *c, const struct bw_bytes *gid)
{
	struct push **pp = &c->held, *mine = NULL, **tail = &mine;

	while (*pp != NULL) {
		struct push *p = *pp;
		struct proto_deliver d;
		struct proto_msg msg = { .kind = PROTO_PUSH,
					 .type = PROTO_T_DELIVER,
					 .body = { p->body, p->len } };

		if (proto_decode_deliver(&msg, &d) == 0 &&
		    bw_bytes_eq(gid, d.group_id.p, d.group_id.n)) {
			*pp = p->next;
			p->next = NULL;
			*tail = p;
			tail = &p->next;
		} else {
			pp = &p->next;
		}
	}
	if (mine == NULL)
		return;
	*tail = c->head;
	c->head = mine;
	if (c->tail == NULL)
		for (c->tail = mine; c->tail->next != NULL;)
			c->tail = c->tail->next;
}

static int join(struct bulwark_client *c, const struct proto_deliver *d)
{
	struct store_conv conv, old;
	struct mls_group *g = NULL;
	const uint8_t *gid;
	uint8_t id[32];
	size_t gid_len;
	bool last_resort = false;
	int rc;

	memset(&conv, 0, sizeof(conv));
	rc = client_kp_join(c, d->payload.p, d->payload.n, &g, id,
			    &last_resort);
	if (rc != 0)
		return rc;
	mls_group_id(g, &gid, &gid_len);
	conv.created = d->timestamp;
	/* A group id this device is in already is not a new conversation;
	 * one it was removed from, added again, keeps its name. */
	if ((rc = store_conv_get(c->store, gid, gid_len, &old)) == 0) {
		rc = old.active ? BULWARK_ERR_MESSAGE_INVALID : 0;
		memcpy(conv.name, old.name, sizeof(conv.name));
		conv.created = old.created;
		conv.cursor = old.cursor;
		store_conv_clear(&old);
	} else if (rc == BULWARK_ERR_NO_CONVERSATION) {
		rc = 0;
	}
	if (rc != 0 || (rc = bw_bytes_set(&conv.group_id, gid, gid_len)) != 0)
		goto out;
	conv.active = true;
	if ((rc = store_begin(c->store)) != 0)
		goto out;
	if ((rc = client_save_group(c, &conv, g)) != 0 ||
	    (!last_resort && (rc = store_kp_delete(c->store, id)) != 0) ||
	    (rc = store_counter_set(c->store, STORE_C_INBOX, d->seq)) != 0 ||
	    (rc = store_commit(c->store)) != 0) {
		store_rollback(c->store);
		goto out;
	}
	release_held(c, &conv.group_id);
out:
	mls_group_free(g);
	store_conv_clear(&conv);
	return rc;
}

static int welcome(struct bulwark_client *c, const struct proto_deliver *d)
{
	uint64_t inbox;
	int rc;

	if ((rc = store_counter_get(c->store, STORE_C_INBOX, &inbox)) != 0)
		return rc;
	if (d->seq <= inbox)
		return client_ack_later(c, NULL, 0, d->seq);
	rc = d->kind == PROTO_DELIVER_WELCOME ? join(c, d)
					       : BULWARK_ERR_MESSAGE_INVALID;
	if (client_local_failure(rc))
		return rc;
	/* Not for any key package of this device, or not valid: passed
	 * over, as a refused message is. */
	if (rc != 0 &&
	    (rc = store_counter_set(c->store, STORE_C_INBOX, d->seq)) != 0)
		return rc;
	return client_ack_later(c, NULL, 0, d->seq);
}

/* ---- the queue ---- */

/* One DELIVER; *held when it waits for its conversation's Welcome. */
static int deliver(struct bulwark_client *c, const struct push *p,
		   bool *held)
{
	struct proto_msg msg = { .kind = PROTO_PUSH, .type = PROTO_T_DELIVER,
				 .body = { p->body, p->len } };
	struct proto_deliver d;
	struct store_conv conv;
	int rc;

	*held = false;
	if (proto_decode_deliver(&msg, &d) != 0)
		return BULWARK_ERR_PROTOCOL;
	if (d.group_id.n == 0)
		return welcome(c, &d);
	rc = store_conv_get(c->store, d.group_id.p, d.group_id.n, &conv);
	if (rc == BULWARK_ERR_NO_CONVERSATION) {
		*held = true;
		return 0;
	}
	if (rc != 0)
		return rc;
	if ((rc = conversation_message(c, &conv, &d)) == 0)
		rc = client_ack_later(c, d.group_id.p, d.group_id.n, d.seq);
	store_conv_clear(&conv);
	return rc;
}

static int handle(struct bulwark_client *c, struct push *p, bool *kept)
{
	*kept = false;
	switch (p->type) {
	case PROTO_T_SYNCED:
		c->synced = true;
		return 0;
	case PROTO_T_KP_LOW:
		c->kp_low = true;
		return 0;
	default:
		return deliver(c, p, kept);
	}
}

int client_drain(struct bulwark_client *c)
{
	struct push *p;
	bool kept;
	int rc;

	while (c->head != NULL || c->n_acks > 0) {
		while ((p = client_next_push(c)) != NULL) {
			if ((rc = handle(c, p, &kept)) != 0) {
				push_free(p);
				/* Nothing after it may be acknowledged. */
				client_disconnect(c);
				return rc;
			}
			if (kept) {
				struct push **end = &c->held;

				while (*end != NULL)
					end = &(*end)->next;
				*end = p; /* in the order they came */
			} else {
				push_free(p);
			}
		}
		if ((rc = client_flush_acks(c)) != 0)
			return rc;
	}
	return 0;
}

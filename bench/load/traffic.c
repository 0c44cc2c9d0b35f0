/* traffic.c - sending, receiving and checking messages (traffic.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "bytes.h"
#include "conn.h"
#include "framing.h"
#include "convs.h"
#include "stats.h"
#include "traffic.h"

#define FILLER_POOL 65536u
#define MAX_LOGGED_REFUSALS 5

static struct {
	const struct lg_mls *mls;
	const struct traffic_hooks *h;
	uint8_t salt[8];             /* idempotency keys: nonce, gid, salt */
	uint8_t filler[FILLER_POOL]; /* the payload after the header */
	uint8_t *pt;                 /* --mls: a plaintext being built */
	uint32_t refusals_logged;
} T;

/* ---- sending ---- */

static struct msgrec *new_record(struct lg *g, uint32_t *gid)
{
	if (g->n_msgs == g->cap_msgs) {
		uint32_t cap = g->cap_msgs ? 2 * g->cap_msgs : (1u << 20);

		if (cap > LG_RID_OTHER)
			lg_die("too many messages for one run");
		g->msgs = lg_xrealloc(g->msgs, cap, sizeof(*g->msgs));
		memset(g->msgs + g->cap_msgs, 0,
		       (cap - g->cap_msgs) * sizeof(*g->msgs));
		g->cap_msgs = cap;
	}
	*gid = g->n_msgs++;
	return &g->msgs[*gid];
}

static void make_header(const struct lg *g, uint32_t gid,
			const struct msgrec *r, struct lg_hdr *h)
{
	const struct conv *c = &g->convs[r->conv];

	h->magic = LG_MAGIC;
	h->nonce = g->nonce;
	h->gid = gid;
	h->from = r->from;
	h->to = c->n == 2 ? (c->m[0].dev->idx == r->from ? c->m[1].dev->idx
							  : c->m[0].dev->idx)
			  : LG_NO_DEVICE;
	h->order = r->order;
	h->ts_ns = r->t_sent;
}

static void idempotency_key(const struct lg *g, uint32_t gid,
			    uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN])
{
	memcpy(key, &g->nonce, 4);
	memcpy(key + 4, &gid, 4);
	memcpy(key + 8, T.salt, 8);
}

/* The GROUP_SEND of message gid with these MLS message bytes. */
static int post(struct lg *g, struct dev *d, struct member *m, uint32_t gid,
		const uint8_t *msg, size_t len)
{
	uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN];
	struct proto_group_message_req req = {
		.group_id = { m->conv->gid, LG_GID_LEN },
		.idempotency_key = { key, sizeof(key) },
		.message = { msg, len },
	};
	size_t mark;
	struct bw_writer *w = conn_msg_begin(g, &d->conn, PROTO_T_GROUP_SEND,
					      gid, &mark);

	idempotency_key(g, gid, key);
	proto_encode_group_message_req(w, &req);
	return conn_msg_send(g, &d->conn, w, mark);
}

/* --raw: the template, its ciphertext starting with the header. */
static int post_raw(struct lg *g, struct member *m, uint32_t gid,
		    const struct lg_hdr *h)
{
	memcpy(m->tmpl + m->hdr_off, h, LG_HDR_LEN);
	return post(g, m->dev, m, gid, m->tmpl, m->tmpl_len);
}

/* --mls: header and filler, encrypted by the member's group. */
static int encrypt(struct lg *g, struct member *m, uint32_t gid,
		   const struct lg_hdr *h, uint8_t **msg, size_t *len)
{
	uint32_t n = g->cfg.msg_size;
	uint32_t off = (gid * 2654435761u) % (FILLER_POOL - n);

	memcpy(T.pt, h, LG_HDR_LEN);
	memcpy(T.pt + LG_HDR_LEN, T.filler + off, n - LG_HDR_LEN);
	return mls_group_encrypt(m->g, T.pt, n, NULL, 0, msg, len);
}

static void pend_add(struct dev *d, uint32_t gid, uint8_t *bytes, size_t len)
{
	if (d->n_pend == d->cap_pend) {
		d->cap_pend = d->cap_pend ? 2 * d->cap_pend : 4;
		d->pend = lg_xrealloc(d->pend, d->cap_pend, sizeof(*d->pend));
	}
	d->pend[d->n_pend++] = (struct pend){ gid, (uint32_t)len, bytes };
}

static void pend_remove(struct dev *d, uint32_t gid)
{
	/* kept in send order: a resend must not overtake an earlier one */
	for (uint32_t i = 0; i < d->n_pend; i++)
		if (d->pend[i].gid == gid) {
			free(d->pend[i].bytes);
			memmove(&d->pend[i], &d->pend[i + 1],
				(--d->n_pend - i) * sizeof(*d->pend));
			return;
		}
}

uint32_t traffic_send(struct lg *g, struct member *m)
{
	struct dev *d = m->dev;
	struct conv *c = m->conv;
	uint8_t *bytes = NULL;
	size_t len = 0;
	struct lg_hdr h;
	uint32_t gid;
	struct msgrec *r = new_record(g, &gid);
	int rc;

	r->t_sent = lg_now_ns();
	r->conv = c->idx;
	r->from = d->idx;
	r->order = ++m->order;
	r->expected = (uint16_t)(c->n - 1);
	make_header(g, gid, r, &h);
	if (g->cfg.mode == LG_RAW) {
		rc = post_raw(g, m, gid, &h);
	} else if ((rc = encrypt(g, m, gid, &h, &bytes, &len)) == 0) {
		rc = post(g, d, m, gid, bytes, len);
	}
	/* kept until answered, to be sent again after a lost connection */
	pend_add(d, gid, bytes, len);
	d->inflight++;
	g->st.sent++;
	(void)rc; /* a dead connection: sent again once it is back */
	return gid;
}

void traffic_resend(struct lg *g, struct dev *d)
{
	for (uint32_t i = 0; i < d->n_pend; i++) {
		struct pend *p = &d->pend[i];
		struct msgrec *r = &g->msgs[p->gid];
		struct conv *c = &g->convs[r->conv];
		struct member *m = convs_member(c, d);
		struct lg_hdr h;

		if (p->bytes != NULL) {
			post(g, d, m, p->gid, p->bytes, p->len);
		} else {
			make_header(g, p->gid, r, &h);
			post_raw(g, m, p->gid, &h);
		}
		g->st.resent++;
	}
}

/* ---- responses ---- */

static void on_response(struct lg *g, struct dev *d, const struct proto_msg *m)
{
	uint32_t gid = m->request_id;
	struct proto_seq seq;
	struct member *mb;
	struct msgrec *r;

	if (m->type != PROTO_T_GROUP_SEND || gid >= g->n_msgs ||
	    g->msgs[gid].from != d->idx)
		return;
	r = &g->msgs[gid];
	pend_remove(d, gid);
	if (r->flags & (MSG_ACKED | MSG_REFUSED))
		return; /* answered before the connection was lost */
	if (m->status != PROTO_OK || proto_decode_seq(m, &seq) != 0) {
		r->flags |= MSG_REFUSED;
		g->st.refused++;
		if (T.refusals_logged++ < MAX_LOGGED_REFUSALS)
			lg_log(g, "GROUP_SEND refused: %s",
			       proto_status_text(m->status));
		if (T.h->refused != NULL)
			T.h->refused(g, gid, r);
		return;
	}
	r->seq = seq.seq;
	r->flags |= MSG_ACKED;
	mb = convs_member(&g->convs[r->conv], d);
	/* responses may come out of send order after a resend: the order of
	 * the seqs they give is checked by the verdict */
	member_own_sent(mb, seq.seq);
	if (T.h->accepted != NULL)
		T.h->accepted(g, gid, r);
}

/* ---- deliveries ---- */

static void account(struct lg *g, struct dev *d, struct member *mb,
		    const struct lg_hdr *h, uint64_t seq, uint64_t now)
{
	struct msgrec *r;

	if (h->magic != LG_MAGIC) {
		g->st.malformed++;
		return;
	}
	if (h->nonce != g->nonce) {
		g->st.stale++;
		return;
	}
	if (h->gid >= g->n_msgs) {
		g->st.malformed++;
		return;
	}
	r = &g->msgs[h->gid];
	if (h->from == d->idx) {
		g->st.echoes++; /* own, its seq no longer remembered */
		return;
	}
	if (r->conv != mb->conv->idx ||
	    (h->to != LG_NO_DEVICE && h->to != d->idx)) {
		g->st.misrouted++;
		return;
	}
	if (mb->conv->n == 2) {
		if (h->order <= mb->order_in && g->st.misordered++ < 5)
			lg_log(g, "misordered: conversation %u, from device %u: "
			       "its message %u (seq %llu) after its %u",
			       r->conv, h->from, h->order,
			       (unsigned long long)seq, mb->order_in);
		mb->order_in = h->order;
	}
	if (r->delivered++ == 0)
		r->seq_seen = seq;
	if (r->delivered > r->expected) {
		g->st.dup++;
		return;
	}
	g->st.unique++;
	g->st.last_ns = now;
	if (g->measuring && now >= g->win_start && now < g->win_end) {
		g->st.win_count++;
		stats_latency(g, now - h->ts_ns);
	}
	if (r->delivered == r->expected && T.h->complete != NULL)
		T.h->complete(g, h->gid, r);
}

/* The header of an application message: in the clear at the start of
 * the ciphertext (--raw), or in the plaintext (--mls). 1: read; 0: the
 * member's own message, whose key it no longer has; -1: malformed. */
static int read_header(struct lg *g, struct member *mb,
		       const struct proto_deliver *m, struct lg_hdr *h)
{
	struct mls_process_result res;
	size_t off, ct_len;
	int rc;

	if (g->cfg.mode == LG_RAW) {
		if (lgm_ciphertext_offset(m->payload.p, m->payload.n, &off,
					  &ct_len) != 0 ||
		    ct_len < LG_HDR_LEN)
			return -1;
		memcpy(h, m->payload.p + off, LG_HDR_LEN);
		return 1;
	}
	memset(&res, 0, sizeof(res));
	rc = mls_group_process(mb->g, m->payload.p, m->payload.n, &res);
	if (rc == MLS_ERR_GENERATION_CONSUMED)
		return 0; /* a member cannot decrypt what it sent itself */
	rc = rc == 0 && res.kind == MLS_RESULT_APPLICATION &&
			     res.data_len >= LG_HDR_LEN
		     ? 1
		     : -1;
	if (rc == 1)
		memcpy(h, res.data, LG_HDR_LEN);
	mls_process_result_clear(&res);
	return rc;
}

static void on_deliver(struct lg *g, struct dev *d,
		       const struct proto_deliver *m)
{
	uint64_t now = lg_now_ns();
	struct member *mb;
	struct conv *c;
	struct lg_hdr h;
	bool own;
	int rc;

	if (m->group_id.n == 0) { /* a Welcome: nothing the runs make */
		d->inbox.ack_seq = m->seq;
		conn_ack_later(g, &d->conn, &d->inbox);
		return;
	}
	if ((c = convs_find(g, m->group_id.p, m->group_id.n)) == NULL ||
	    (mb = convs_member(c, d)) == NULL) {
		g->st.misrouted++;
		return;
	}
	/* the (group, seq) dedup of every device */
	if (m->seq <= mb->last_seq) {
		g->st.redelivered++;
		conn_ack_later(g, &d->conn, mb);
		return;
	}
	g->st.gaps += member_seq_take(mb, m->seq, &own);
	/* own messages passed over included: the server's cursor moves past
	 * those it could not (it does so only for a member that had all
	 * before them) */
	mb->ack_seq = mb->last_seq;
	conn_ack_later(g, &d->conn, mb);
	if (own) {
		g->st.echoes++;
		return;
	}
	if (m->kind != PROTO_DELIVER_APPLICATION)
		return;
	if ((rc = read_header(g, mb, m, &h)) < 0)
		g->st.malformed++;
	else if (rc == 0)
		g->st.echoes++;
	else
		account(g, d, mb, &h, m->seq, now);
}

static void on_ready(struct lg *g, struct dev *d)
{
	if (T.h->ready != NULL)
		T.h->ready(g, d);
}

static void on_closed(struct lg *g, struct dev *d, bool failed)
{
	if (T.h->closed != NULL)
		T.h->closed(g, d, failed);
}

static const struct lg_hooks traffic_hooks = {
	.ready = on_ready,
	.deliver = on_deliver,
	.response = on_response,
	.closed = on_closed,
};

void traffic_start(struct lg *g, const struct lg_mls *m,
		   const struct traffic_hooks *h)
{
	T.mls = m;
	T.h = h;
	if (T.pt == NULL) {
		if (RAND_bytes(T.salt, sizeof(T.salt)) != 1 ||
		    RAND_bytes(T.filler, sizeof(T.filler)) != 1)
			lg_die("no randomness");
		T.pt = lg_xcalloc(1, g->cfg.msg_size);
	}
	g->hooks = &traffic_hooks;
}

/* ---- the verdict ---- */

static struct member *sender_of(const struct lg *g, const struct msgrec *r)
{
	return convs_member(&g->convs[r->conv], &g->devs[r->from]);
}

/* The server orders one sender's messages as they were sent: walked in
 * send order (global ids), each member's acknowledged seqs increase. */
static uint64_t send_order_breaks(const struct lg *g, uint32_t first)
{
	uint64_t n = 0;

	for (uint32_t i = first; i < g->n_msgs; i++)
		sender_of(g, &g->msgs[i])->verdict_seq = 0;
	for (uint32_t i = first; i < g->n_msgs; i++) {
		const struct msgrec *r = &g->msgs[i];
		struct member *mb = sender_of(g, r);

		if (!(r->flags & MSG_ACKED))
			continue;
		n += r->seq <= mb->verdict_seq;
		mb->verdict_seq = r->seq;
	}
	return n;
}

/* Answered without an error, not delivered to every recipient. */
static bool acked_undelivered(const struct msgrec *r)
{
	return (r->flags & MSG_ACKED) && !(r->flags & MSG_REFUSED) &&
	       r->delivered < r->expected;
}

void traffic_verdict(const struct lg *g, uint32_t first,
		     struct traffic_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->send_misordered = send_order_breaks(g, first);
	for (uint32_t i = first; i < g->n_msgs; i++) {
		const struct msgrec *r = &g->msgs[i];
		bool all = r->delivered >= r->expected;

		v->sent++;
		v->incomplete += !all;
		if (r->flags & MSG_REFUSED) {
			v->refused++;
		} else if (r->flags & MSG_ACKED) {
			v->acked++;
			v->acked_lost += acked_undelivered(r);
			v->acked_dup += r->delivered > r->expected;
			v->seq_mismatch += r->delivered > 0 &&
					   r->seq_seen != r->seq;
		} else if (r->delivered > 0) {
			v->unacked_delivered++;
		} else {
			v->unacked_missing++;
		}
	}
}

static void log_lost_one(struct lg *g, const struct msgrec *r)
{
	const struct conv *c = &g->convs[r->conv];
	uint64_t now = lg_now_ns();
	char gid[2 * 8 + 1];

	bw_hex_encode(c->gid, 8, gid);
	lg_log(g, "lost: conversation %u (group %s...), from device %u, seq "
	       "%llu, sent %.3f s ago", c->idx, gid, r->from,
	       (unsigned long long)r->seq, (double)(now - r->t_sent) / 1e9);
	for (uint32_t i = 0; i < c->n; i++) {
		const struct member *mb = &c->m[i];

		if (mb->dev->idx == r->from || mb->last_seq >= r->seq)
			continue;
		lg_log(g, "  device %u has seq %llu, acknowledged %llu; its "
		       "connection in state %d since %.3f s ago, %u messages "
		       "unanswered", mb->dev->idx,
		       (unsigned long long)mb->last_seq,
		       (unsigned long long)mb->acked_seq, mb->dev->conn.state,
		       (double)(now - mb->dev->conn.t_ready) / 1e9,
		       mb->dev->n_pend);
	}
}

void traffic_log_lost(struct lg *g, uint32_t first, unsigned max)
{
	for (uint32_t i = first; i < g->n_msgs && max > 0; i++) {
		if (acked_undelivered(&g->msgs[i])) {
			log_lost_one(g, &g->msgs[i]);
			max--;
		}
	}
}

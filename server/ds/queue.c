/*
 * queue.c - delivery to devices: each connection's session with its
 * backlog, the pushes of every batch, and acknowledgements.
 *
 * A session starts at HELLO. Its backlog is read in pages by batched jobs
 * (so a page sees everything committed before it and nothing after),
 * the inbox first, then the groups in the order of their numbers (gid);
 * the next page is read only once the connection's output has drained.
 * From its first page on the session takes the pushes of what its pages
 * have passed: Welcomes once they read groups, a group's messages once
 * they have gone beyond its number; what lies ahead the next pages read.
 * The page that finds the end makes the session synced: from the next
 * job on it takes every push. A page reaches the worker as its job's
 * reply, before the pushes of its batch and of any later one, so the
 * device never sees a message twice or out of order on one connection,
 * and nothing committed while its backlog is read is missed.
 *
 * Pushes: while a batch runs, each job appends its pushes to one growing
 * batch per worker (one entry per recipient connection, pointing at one
 * shared copy of the message); after the commit the store thread takes
 * them, and once the commit is durable the store queue's sync thread
 * gives each worker its batch in one mail, after the jobs' replies. A
 * failed batch drops them.
 *
 * A session ends with a job that is not batched: it runs after the
 * batches before it were committed and handed out, and its reply, which
 * frees the session on the worker, comes after every push that could
 * still name it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "ds_int.h"
#include "errors.h"
#include "log.h"
#include "server.h"
#include "session.h"
#include "worker.h"

/* ---- push lists ---- */

int ds_pushes_add(struct ds_pushes *q, const struct ds_push *p)
{
	struct ds_push_batch *grown;
	size_t cap;

	if (q->n == q->cap) {
		cap = q->cap ? 2 * q->cap : 64;
		grown = realloc(q->b,
				sizeof(*grown) + cap * sizeof(grown->v[0]));
		if (grown == NULL)
			return BW_ERR_NOMEM;
		q->b = grown;
		q->cap = cap;
	}
	q->b->v[q->n++] = *p;
	return 0;
}

static void truncate_to(struct ds_pushes *q, size_t n)
{
	while (q->n > n)
		ds_msg_unref(q->b->v[--q->n].m);
}

void ds_pushes_clear(struct ds_pushes *q)
{
	truncate_to(q, 0);
	free(q->b);
	memset(q, 0, sizeof(*q));
}

void ds_pushes_mark(struct ds *ds)
{
	for (unsigned i = 0; i < ds->srv->cfg.workers; i++)
		ds->out[i].mark = ds->out[i].n;
}

void ds_pushes_rewind(struct ds *ds)
{
	for (unsigned i = 0; i < ds->srv->cfg.workers; i++)
		truncate_to(&ds->out[i], ds->out[i].mark);
}

static int push_to(struct ds *ds, struct ds_session *s,
		   const struct ds_push *p)
{
	return ds_pushes_add(&ds->out[s->worker->index], p);
}

/* Whether m is behind the session's backlog pages, which will not read
 * it (the top of this file). */
static bool passed(const struct ds_session *s, const struct ds_msg *m)
{
	if (s->synced)
		return true;
	if (!s->cursor.in_groups)
		return false;
	return m->group_id_len == 0 || m->gid < s->cursor.gid;
}

int ds_push_device(struct ds *ds, struct ds_device *dev, struct ds_msg *m,
		   uint64_t seq)
{
	int rc;

	for (struct ds_session *s = dev->live; s != NULL; s = s->next) {
		struct ds_push p = { .s = s, .m = m, .seq = seq,
				     .type = DS_PUSH_DELIVER };

		if (!passed(s, m))
			continue;
		ds_msg_ref(m);
		if ((rc = push_to(ds, s, &p)) != 0) {
			ds_msg_unref(m);
			return rc;
		}
	}
	return 0;
}

int ds_push_leaves(struct ds *ds, const struct ds_leaf *leaves, size_t n,
		   struct ds_msg *m, const struct ds_device *except)
{
	uint64_t stamp = ++ds->stamp;
	int rc;

	for (size_t i = 0; i < n; i++) {
		struct ds_device *dev = leaves[i].dev;

		if (dev->stamp == stamp || dev->live == NULL || dev == except)
			continue; /* a device with two leaves gets it once */
		dev->stamp = stamp;
		if ((rc = ds_push_device(ds, dev, m, m->seq)) != 0)
			return rc;
	}
	return 0;
}

int ds_push_kp_low(struct ds *ds, const char *device, uint32_t available)
{
	struct ds_device *dev = ds_device_get(ds, device);
	int rc;

	if (dev == NULL)
		return BW_ERR_NOMEM;
	for (struct ds_session *s = dev->live; s != NULL; s = s->next) {
		struct ds_push p = { .s = s, .available = available,
				     .type = DS_PUSH_KP_LOW };

		if (!s->synced)
			continue; /* its last page tells */
		if ((rc = push_to(ds, s, &p)) != 0)
			return rc;
	}
	return 0;
}

/* ---- worker: writing pushes ---- */

static void send_push(struct conn *c, const struct ds_push *p)
{
	struct bw_writer *w;
	size_t mark;

	if (c == NULL || c->closed || c->state != CONN_WS)
		return;
	w = session_reply(c);
	if (p->type == DS_PUSH_KP_LOW) {
		struct proto_kp_low low = { p->available };

		mark = proto_begin(w, PROTO_PUSH, PROTO_T_KP_LOW, 0);
		proto_encode_kp_low(w, &low);
	} else {
		struct proto_deliver d = {
			.group_id = { p->m->group_id, p->m->group_id_len },
			.seq = p->seq,
			.kind = p->m->kind,
			.timestamp = (uint64_t)p->m->time,
			.payload = { p->m->payload, p->m->len },
		};

		mark = proto_begin(w, PROTO_PUSH, PROTO_T_DELIVER, 0);
		proto_encode_deliver(w, &d);
	}
	proto_end(w, mark);
	session_send(c);
}

static void on_pushes(struct mail *m, void *receiver)
{
	struct ds_push_batch *b = (struct ds_push_batch *)m;

	(void)receiver;
	for (size_t i = 0; i < b->n; i++) {
		send_push(b->v[i].s->conn, &b->v[i]);
		ds_msg_unref(b->v[i].m);
	}
	free(b);
}

struct ds_push_batch *ds_pushes_take(struct ds *ds, int rc)
{
	struct bwd_server *srv = ds->srv;
	struct ds_push_batch *chain = NULL;

	for (unsigned i = 0; i < srv->cfg.workers; i++) {
		struct ds_pushes *q = &ds->out[i];

		if (q->n == 0)
			continue;
		if (rc != 0) {
			ds_pushes_clear(q);
			continue;
		}
		q->b->n = q->n;
		q->b->mail.fn = on_pushes;
		q->b->worker = i;
		q->b->chain = chain;
		chain = q->b;
		memset(q, 0, sizeof(*q)); /* the chain has it */
	}
	/* The cached groups may hold changes the store does not. */
	if (rc != 0)
		ds_groups_forget_all(ds);
	return chain;
}

void ds_pushes_deliver(struct ds *ds, struct ds_push_batch *chain)
{
	struct ds_push_batch *next;

	for (; chain != NULL; chain = next) {
		next = chain->chain; /* the worker frees it */
		worker_post(ds->srv->workers[chain->worker], &chain->mail);
	}
}

/* ---- sessions: store thread ---- */

static struct ds_session *session_of_job(struct store_job *job)
{
	return (struct ds_session *)((char *)job -
				     offsetof(struct ds_session, job));
}

static int page_add(void *arg, const struct store_backlog_msg *bm)
{
	struct ds_session *s = arg;
	struct ds_push p = { .s = s, .seq = bm->seq, .type = DS_PUSH_DELIVER };
	int rc;

	if ((rc = ds_msg_new(bm->gid, bm->group_id, bm->group_id_len,
			     bm->kind, bm->seq, bm->time, bm->payload,
			     bm->payload_len, &p.m)) != 0)
		return rc;
	if ((rc = ds_pushes_add(&s->page, &p)) != 0)
		ds_msg_unref(p.m);
	return rc;
}

static void subscribe(struct ds_session *s)
{
	s->prev = NULL;
	s->next = s->dev->live;
	if (s->next != NULL)
		s->next->prev = s;
	s->dev->live = s;
	s->live = true;
}

static int run_page(struct store *st, struct store_job *job)
{
	struct ds_session *s = session_of_job(job);
	struct ds *ds = s->ds;
	bool more;
	int rc;

	if (s->dev == NULL)
		s->dev = ds_device_get(ds, s->device_id);
	if (s->dev == NULL)
		return BW_ERR_NOMEM;
	if (!s->live)
		subscribe(s);
	if ((rc = st->ds->backlog(st, s->device_id, &s->cursor,
				  ds->srv->cfg.backlog_page, page_add, s,
				  &more)) != 0)
		return rc;
	if (more)
		return 0;
	/* The end of the backlog: from the next job on, every push. */
	if ((rc = ds_kp_stock(ds, st, s->device_id, &s->kp_available,
			      &s->kp_low)) != 0)
		return rc;
	s->synced = true;
	return 0;
}

static int run_unsubscribe(struct store *st, struct store_job *job)
{
	struct ds_session *s = session_of_job(job);

	(void)st;
	if (!s->live)
		return 0;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		s->dev->live = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->live = false;
	return 0;
}

/* ---- sessions: worker ---- */

static void session_free(struct ds_session *s)
{
	s->worker->ds_sessions--;
	ds_pushes_clear(&s->page);
	free(s);
}

static void on_released(struct mail *m, void *receiver)
{
	struct ds_session *s = (struct ds_session *)((char *)m -
		offsetof(struct ds_session, job) -
		offsetof(struct store_job, mail));

	(void)receiver;
	session_free(s);
}

static void unsubscribe(struct ds_session *s)
{
	s->busy = true;
	s->job = (struct store_job){
		.run = run_unsubscribe,
		.reply = &s->worker->inbox,
		.mail.fn = on_released,
	};
	/* Refused only once the store thread is stopping: it will not look
	 * at the session again. */
	if (storeq_submit(s->worker->srv->store, &s->job) != 0)
		session_free(s);
}

static void page_done(struct mail *m, void *receiver);

static void request_page(struct ds_session *s)
{
	s->busy = true;
	s->want_page = false;
	s->job = (struct store_job){
		.run = run_page,
		.batched = true,
		.reply = &s->worker->inbox,
		.mail.fn = page_done,
	};
	if (storeq_submit(s->worker->srv->store, &s->job) == 0)
		return;
	s->busy = false;
	conn_close_ws(s->conn, WS_CLOSE_GOING_AWAY, "server shutting down");
}

static void send_simple_push(struct conn *c, uint16_t type,
			     const struct proto_kp_low *low)
{
	struct bw_writer *w = session_reply(c);
	size_t mark = proto_begin(w, PROTO_PUSH, type, 0);

	if (low != NULL)
		proto_encode_kp_low(w, low);
	proto_end(w, mark);
	session_send(c);
}

static void page_done(struct mail *m, void *receiver)
{
	struct ds_session *s = (struct ds_session *)((char *)m -
		offsetof(struct ds_session, job) -
		offsetof(struct store_job, mail));
	struct conn *c = s->conn;

	(void)receiver;
	s->busy = false;
	if (c == NULL) { /* closed meanwhile */
		ds_pushes_clear(&s->page);
		unsubscribe(s);
		return;
	}
	if (s->job.rc != 0) {
		ds_pushes_clear(&s->page);
		log_warn("device %s: cannot read its queue: %s", s->device_id,
			 bwd_strerror(s->job.rc));
		conn_close_ws(c, WS_CLOSE_INTERNAL, "queue unavailable");
		return;
	}
	for (size_t i = 0; i < s->page.n && s->conn != NULL; i++)
		send_push(s->conn, &s->page.b->v[i]);
	ds_pushes_clear(&s->page);
	if (s->conn == NULL || c->closed || c->state != CONN_WS)
		return;
	if (s->synced) {
		struct proto_kp_low low = { s->kp_available };

		if (s->kp_low)
			send_simple_push(c, PROTO_T_KP_LOW, &low);
		if (!c->closed)
			send_simple_push(c, PROTO_T_SYNCED, NULL);
		return;
	}
	/* The page's pushes reach the socket first: the next page waits
	 * while it cannot take them. Closing may free s. */
	conn_flush(c);
	if (c->closed)
		return;
	if (c->out == NULL)
		request_page(s);
	else
		s->want_page = true;
}

void ds_on_hello(struct conn *c)
{
	struct ds_session *s;

	if (!c->authenticated || c->ds != NULL)
		return;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		conn_close_ws(c, WS_CLOSE_INTERNAL, "out of memory");
		return;
	}
	s->ds = c->worker->srv->ds;
	s->worker = c->worker;
	s->conn = c;
	snprintf(s->device_id, sizeof(s->device_id), "%s", c->ident->id);
	c->ds = s;
	c->worker->ds_sessions++;
	request_page(s);
}

void ds_conn_drained(struct conn *c)
{
	struct ds_session *s = c->ds;

	if (s != NULL && s->want_page && !s->busy)
		request_page(s);
}

void ds_conn_closed(struct conn *c)
{
	struct ds_session *s = c->ds;

	if (s == NULL)
		return;
	c->ds = NULL;
	s->conn = NULL;
	if (!s->busy)
		unsubscribe(s);
}

/* ---- QUEUE_ACK ---- */

static int ack_one(struct ds *ds, struct store *s, struct ds_req *r,
		   const struct proto_ack *a)
{
	struct ds_group *g;
	uint64_t last = 0;
	int rc;

	if (a->group_id.n == 0) {
		if ((rc = s->ds->inbox_last(s, r->who.id, &last)) != 0)
			return rc;
		if (a->seq > last)
			return ds_refuse(r, PROTO_E_MALFORMED,
					 "acknowledges what was never sent");
		return s->ds->inbox_ack(s, r->who.id, a->seq);
	}
	if ((rc = ds_group_find_named(ds, s, r, &a->group_id, &g)) != 0)
		return rc;
	if (a->seq > g->last_seq)
		return ds_refuse(r, PROTO_E_MALFORMED,
				 "acknowledges what was never sent");
	rc = s->ds->member_ack(s, g->gid, r->who.id, a->seq);
	if (rc == BWD_ERR_NOT_FOUND)
		return ds_refuse(r, PROTO_E_NOT_MEMBER, NULL);
	return rc;
}

int ds_queue_ack(struct ds *ds, struct store *s, struct ds_req *r)
{
	struct proto_queue_ack_req req;
	struct proto_ack a;
	struct bw_reader it;
	size_t mark;
	int rc = 0;

	if (proto_decode_queue_ack_req(&r->m, &req) != 0)
		return ds_refuse(r, PROTO_E_MALFORMED, NULL);
	proto_list_iter(&req.acks, &it);
	while (rc == 0 && proto_next_ack(&it, &a))
		rc = ack_one(ds, s, r, &a);
	if (rc != 0)
		return rc;
	mark = ds_reply_begin(r);
	return ds_reply_end(r, mark);
}

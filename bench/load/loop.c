/* loop.c - the event loop (loop.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "conn.h"
#include "loop.h"

#define EVENTS 1024
#define CLOSE_GRACE_NS 3000000000ull
#define CHECK_EVERY_NS 500000000ull

static uint8_t *read_buf;
static size_t read_cap;

int loop_init(struct lg *g)
{
	if ((g->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	/* Requests up to the largest message, with room for the frame. */
	g->scratch_cap = LG_MAX_MESSAGE + 64;
	g->scratch = lg_xcalloc(1, g->scratch_cap);
	g->mask_off = sizeof(g->mask_pool);
	bw_writer_init(&g->sealed, 0);
	return tls_rec_ctx_init(&g->rec_ctx);
}

void loop_free(struct lg *g)
{
	if (g->ep >= 0)
		close(g->ep);
	free(g->scratch);
	bw_writer_free(&g->sealed);
	tls_rec_ctx_clear(&g->rec_ctx);
	free(g->dirty);
	free(g->pending);
	free(g->ackq);
	free(read_buf);
	read_buf = NULL;
	read_cap = 0;
}

uint8_t *loop_read_buffer(struct lg *g, size_t n)
{
	(void)g;
	if (read_cap < n) {
		read_buf = lg_xrealloc(read_buf, n, 1);
		read_cap = n;
	}
	return read_buf;
}

/* RFC 6455 §5.3: a fresh unpredictable mask per frame, drawn from the
 * CSPRNG a pool at a time. */
const uint8_t *loop_mask(struct lg *g)
{
	if (g->mask_off + 4 > sizeof(g->mask_pool)) {
		if (RAND_bytes(g->mask_pool, sizeof(g->mask_pool)) != 1)
			lg_die("no randomness");
		g->mask_off = 0;
	}
	g->mask_off += 4;
	return g->mask_pool + g->mask_off - 4;
}

void loop_dirty(struct lg *g, struct lconn *c)
{
	if (c->dirty)
		return;
	if (g->n_dirty == g->cap_dirty) {
		g->cap_dirty = g->cap_dirty ? 2 * g->cap_dirty : 1024;
		g->dirty = lg_xrealloc(g->dirty, g->cap_dirty,
				       sizeof(*g->dirty));
	}
	g->dirty[g->n_dirty++] = c;
	c->dirty = true;
}

void loop_ack_queue(struct lg *g, struct lconn *c)
{
	uint32_t i;

	if (g->ackq_n == g->ackq_cap) {
		uint32_t cap = g->ackq_cap ? 2 * g->ackq_cap : 1024;
		struct lconn **q = lg_xcalloc(cap, sizeof(*q));

		for (i = 0; i < g->ackq_n; i++)
			q[i] = g->ackq[(g->ackq_head + i) % g->ackq_cap];
		free(g->ackq);
		g->ackq = q;
		g->ackq_cap = cap;
		g->ackq_head = 0;
	}
	g->ackq[(g->ackq_head + g->ackq_n) % g->ackq_cap] = c;
	g->ackq_n++;
	c->in_ackq = true;
	c->ack_due = lg_now_ns() + (uint64_t)g->cfg.ack_ms * 1000000u;
}

/* Acknowledgements queued longest ago first: deadlines only grow. */
static void send_due_acks(struct lg *g, uint64_t now)
{
	while (g->ackq_n > 0) {
		struct lconn *c = g->ackq[g->ackq_head];

		if (c->in_ackq && c->state != LC_DEAD && c->ack_due > now)
			break;
		g->ackq_head = (g->ackq_head + 1) % g->ackq_cap;
		g->ackq_n--;
		if (!c->in_ackq)
			continue;
		c->in_ackq = false;
		if (c->state != LC_DEAD)
			conn_send_acks(g, c);
	}
}

void loop_login(struct lg *g, struct dev *d)
{
	if (g->n_pending == g->cap_pending) {
		g->cap_pending = g->cap_pending ? 2 * g->cap_pending : 1024;
		g->pending = lg_xrealloc(g->pending, g->cap_pending,
					 sizeof(*g->pending));
	}
	g->pending[g->n_pending++] = d;
}

bool loop_logins_settled(struct lg *g)
{
	return g->pending_head == g->n_pending && g->n_connecting == 0;
}

static void start_logins(struct lg *g)
{
	while (g->pending_head < g->n_pending &&
	       g->n_connecting < g->cfg.conc) {
		struct dev *d = g->pending[g->pending_head++];

		if (d->conn.state != LC_DEAD)
			continue;
		g->n_connecting++;
		conn_open(g, d);
	}
	if (g->pending_head == g->n_pending)
		g->pending_head = g->n_pending = 0;
}

void loop_conn_ready(struct lg *g)
{
	g->n_connecting--;
	g->n_ready++;
}

/* Reasons go into the JSON result as keys: no quote, backslash or
 * control character. */
static void count_reason(struct lg *g, const char *text)
{
	char why[sizeof(g->reasons[0].why)];
	uint32_t i;

	snprintf(why, sizeof(why), "%s", text);
	for (char *p = why; *p != '\0'; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			*p = '_';
	for (i = 0; i < g->n_reasons; i++)
		if (strcmp(g->reasons[i].why, why) == 0)
			break;
	if (i == g->n_reasons) {
		if (i == sizeof(g->reasons) / sizeof(g->reasons[0]))
			return;
		snprintf(g->reasons[i].why, sizeof(g->reasons[i].why), "%s",
			 why);
		g->n_reasons++;
	}
	g->reasons[i].n++;
}

void loop_conn_closed(struct lg *g, struct lconn *c, uint8_t was,
		      const char *why)
{
	if (was >= LC_TCP && was <= LC_SYNC)
		g->n_connecting--;
	else if (was == LC_READY || was == LC_CLOSING)
		g->n_ready--;
	if (why != NULL) {
		g->n_failed++;
		count_reason(g, why);
		if (g->cfg.verbose)
			lg_log(g, "device %u (%s): %s", c->dev->idx,
			       c->dev->id, why);
	}
}

static void flush_dirty(struct lg *g)
{
	for (uint32_t i = 0; i < g->n_dirty; i++) {
		struct lconn *c = g->dirty[i];

		c->dirty = false;
		if (c->state != LC_DEAD)
			conn_flush(g, c);
	}
	g->n_dirty = 0;
}

/* Logins that take too long, and closes the server never answered. */
static void check_deadlines(struct lg *g, uint64_t now)
{
	uint64_t login_ns = (uint64_t)(g->cfg.login_timeout * 1e9);

	for (uint32_t i = 0; i < g->n_devs; i++) {
		struct lconn *c = &g->devs[i].conn;

		if (c->state == LC_DEAD || c->state == LC_READY)
			continue;
		if (c->state == LC_CLOSING) {
			if (now - c->t_closing > CLOSE_GRACE_NS)
				conn_close(g, c, NULL);
		} else if (now - c->t_start > login_ns) {
			conn_close(g, c, "login timeout");
		}
	}
}

bool loop_run(struct lg *g, bool (*done)(struct lg *g), double timeout_s)
{
	static uint64_t next_check;
	struct epoll_event ev[EVENTS];
	uint64_t end = lg_now_ns() + (uint64_t)(timeout_s * 1e9), now;
	int n, wait_ms;

	for (;;) {
		start_logins(g);
		if (g->tick != NULL)
			g->tick(g);
		now = lg_now_ns();
		send_due_acks(g, now);
		flush_dirty(g);
		if (done != NULL && done(g))
			return true;
		if (now >= end)
			return false;
		wait_ms = g->tick != NULL || g->ackq_n > 0 ||
					  g->pending_head < g->n_pending
				  ? 1
				  : 20;
		if ((end - now) / 1000000u < (uint64_t)wait_ms)
			wait_ms = (int)((end - now) / 1000000u) + 1;
		n = epoll_wait(g->ep, ev, EVENTS, wait_ms);
		if (n < 0 && errno != EINTR)
			lg_die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++)
			conn_event(g, ev[i].data.ptr, ev[i].events);
		if (now >= next_check) {
			check_deadlines(g, now);
			next_check = now + CHECK_EVERY_NS;
		}
	}
}

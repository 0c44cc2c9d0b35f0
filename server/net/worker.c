/* worker.c - a network thread's event loop. */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "lat_trace.h"
#include "log.h"
#include "worker.h"
#include "ws.h"

#define MAX_EVENTS 256
#define ACCEPT_BUDGET 64 /* new connections per wake-up */
#define LISTEN_BACKLOG 4096

/* epoll tags for the worker's own descriptors. */
static char tag_listen, tag_inbox, tag_timer;

static uint64_t monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static int listen_socket(const struct bwd_config *cfg)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, cfg->listen_host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(cfg->listen_port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, cfg->listen_host, &sin6->sin6_addr) ==
		   1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(cfg->listen_port);
		len = sizeof(*sin6);
	} else {
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The port the kernel chose when the configuration asked for port 0: the
 * other workers must bind the same one. */
static uint16_t bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int add_fd(struct worker *w, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int worker_watch(struct worker *w, struct conn *c, bool add)
{
	struct epoll_event ev = { .data.ptr = c };
	uint32_t want = 0;

	if (!c->paused && c->state != CONN_CLOSING)
		want |= EPOLLIN;
	if (c->want_write)
		want |= EPOLLOUT;
	if (!add && want == c->ev)
		return 0;
	ev.events = want;
	if (epoll_ctl(w->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd,
		      &ev) != 0)
		return -1;
	c->ev = want;
	return 0;
}

void worker_defer(struct worker *w, struct conn *c)
{
	struct conn **grown;
	size_t cap;

	if (c->queued || c->closed)
		return;
	if (w->nready == w->ready_cap) {
		cap = w->ready_cap ? w->ready_cap * 2 : 64;
		if ((grown = realloc(w->ready, cap * sizeof(*grown))) == NULL)
			return; /* the socket's next event resumes it */
		w->ready = grown;
		w->ready_cap = cap;
	}
	c->queued = true;
	w->ready[w->nready++] = c;
}

int worker_mark_dirty(struct worker *w, struct conn *c)
{
	struct conn **grown;
	size_t cap;

	if (c->dirty)
		return 0;
	if (w->ndirty == w->dirty_cap) {
		cap = w->dirty_cap ? w->dirty_cap * 2 : 64;
		if ((grown = realloc(w->dirty, cap * sizeof(*grown))) == NULL)
			return -1;
		w->dirty = grown;
		w->dirty_cap = cap;
	}
	c->dirty = true;
	w->dirty[w->ndirty++] = c;
	return 0;
}

/* Everything a round produced for a connection (its replies, the pushes
 * of a store batch, answers to what it sent) leaves in one write. A
 * connection closed meanwhile is still in memory: reap runs after. */
static void flush_dirty(struct worker *w)
{
	struct conn *c;

	for (size_t i = 0; i < w->ndirty; i++) {
		c = w->dirty[i];
		c->dirty = false;
		conn_flush(c);
	}
	w->ndirty = 0;
}

/* A closed connection leaves the live list for the dead one; it is freed
 * after the current round, once no job refers to it. */
void worker_unlink(struct worker *w, struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = w->dead;
	w->dead = c;
}

static void link_conn(struct worker *w, struct conn *c)
{
	c->prev = NULL;
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
}

/* Free dead connections no job refers to any more. */
static void reap(struct worker *w)
{
	struct conn **pc = &w->dead, *c;

	while ((c = *pc) != NULL) {
		if (c->holds > 0 || c->queued) {
			pc = &c->next;
			continue;
		}
		*pc = c->next;
		conn_free(c);
	}
}

static void peer_name(const struct sockaddr_storage *ss, char *out,
		      size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		port = ntohs(s->sin6_port);
	}
	snprintf(out, size, "%s:%u", host, port);
}

static void accept_one(struct worker *w, int fd,
		       const struct sockaddr_storage *ss)
{
	struct bwd_server *srv = w->srv;
	struct conn *c;
	char peer[48];
	int one = 1;

	if (atomic_fetch_add(&srv->connections, 1) >= srv->cfg.max_connections) {
		atomic_fetch_sub(&srv->connections, 1);
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	peer_name(ss, peer, sizeof(peer));
	if (conn_new(w, fd, peer, &c) != 0) {
		atomic_fetch_sub(&srv->connections, 1);
		close(fd);
		return;
	}
	link_conn(w, c);
	if (worker_watch(w, c, true) != 0) {
		conn_close(c, "cannot watch the socket");
		return;
	}
	log_debug("connection %s accepted by worker %u", peer, w->index);
}

static void on_listen(struct worker *w)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	for (int i = 0; i < ACCEPT_BUDGET; i++) {
		len = sizeof(ss);
		fd = accept4(w->lfd, (struct sockaddr *)&ss, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				log_warn("worker %u: out of file descriptors",
					 w->index);
			return;
		}
		accept_one(w, fd, &ss);
	}
}

/* Every second: close connections past their deadline. */
static void on_tick(struct worker *w)
{
	struct conn *c, *next;
	uint64_t expirations;
	ssize_t n;

	n = read(w->tfd, &expirations, sizeof(expirations));
	(void)n;
	w->now = (uint32_t)(monotonic_seconds() - w->clock_base);
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (c->msg_deadline != 0 && c->msg_deadline <= w->now)
			conn_close_ws(c, WS_CLOSE_POLICY, "message too slow");
		else if (c->deadline <= w->now && c->state == CONN_WS)
			conn_close_ws(c, WS_CLOSE_POLICY, "idle timeout");
		else if (c->deadline <= w->now)
			conn_close(c, "timeout");
	}
}

static void run_ready(struct worker *w)
{
	size_t n = w->nready;
	struct conn *c;

	/* Connections deferred now go to the next round. */
	for (size_t i = 0; i < n; i++) {
		c = w->ready[i];
		c->queued = false;
		w->ready[i] = NULL;
		conn_resume(c);
	}
	if (w->nready > n)
		memmove(w->ready, w->ready + n,
			(w->nready - n) * sizeof(*w->ready));
	w->nready -= n;
}

static void close_all(struct worker *w)
{
	struct conn *c, *next;

	if (w->lfd >= 0) {
		close(w->lfd);
		w->lfd = -1;
	}
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state == CONN_WS)
			conn_close_ws(c, WS_CLOSE_GOING_AWAY,
				      "server shutting down");
		else
			conn_close(c, "server shutting down");
	}
}

static bool finished(const struct worker *w)
{
	return w->stopping && w->conns == NULL && w->dead == NULL &&
	       w->ds_sessions == 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[MAX_EVENTS];
	uint64_t mail_run;
	int n;

	while (!finished(w)) {
		n = epoll_wait(w->epfd, ev, MAX_EVENTS, w->nready ? 0 : 1000);
		mail_run = 0;
		for (int i = 0; i < n; i++) {
			void *tag = ev[i].data.ptr;

			if (tag == &tag_listen)
				on_listen(w);
			else if (tag == &tag_inbox) {
				mail_run = LAT_NOW();
				mailbox_drain(&w->inbox, w);
			}
			else if (tag == &tag_timer)
				on_tick(w);
			else
				conn_on_event(tag, ev[i].events);
		}
		run_ready(w);
		if (w->stopping && w->lfd >= 0)
			close_all(w);
		flush_dirty(w);
		if (mail_run != 0)
			LAT_ADD(LAT_FLUSH, mail_run, LAT_NOW());
		reap(w);
	}
	return NULL;
}

static void worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	if (w->lfd >= 0)
		close(w->lfd);
	if (w->tfd >= 0)
		close(w->tfd);
	if (w->epfd >= 0)
		close(w->epfd);
	mailbox_clear(&w->inbox);
	if (w->ws_out != NULL)
		wslay_frame_context_free(w->ws_out);
	if (w->ws_spare != NULL)
		wslay_frame_context_free(w->ws_spare);
	bw_writer_free(&w->scratch);
	bw_writer_free(&w->reply);
	bw_writer_free(&w->sealed);
	tls_rec_ctx_clear(&w->rec_ctx);
	free(w->ready);
	free(w->dirty);
	free(w);
}

static int worker_setup(struct worker *w)
{
	struct itimerspec tick = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct bwd_config *cfg = &w->srv->cfg;

	if ((w->lfd = listen_socket(cfg)) < 0) {
		log_error("worker %u: cannot listen on %s:%u: %s", w->index,
			  cfg->listen_host, cfg->listen_port, strerror(errno));
		return BWD_ERR_SYSTEM;
	}
	if (cfg->listen_port == 0)
		cfg->listen_port = bound_port(w->lfd); /* before others start */
	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (w->tfd = timerfd_create(CLOCK_MONOTONIC,
				     TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
	    timerfd_settime(w->tfd, 0, &tick, NULL) != 0 ||
	    mailbox_init(&w->inbox) != 0 || add_fd(w, w->lfd, &tag_listen) != 0 ||
	    add_fd(w, w->inbox.efd, &tag_inbox) != 0 ||
	    add_fd(w, w->tfd, &tag_timer) != 0)
		return BWD_ERR_SYSTEM;
	if (ws_encoder_new(w) != 0 || tls_rec_ctx_init(&w->rec_ctx) != 0)
		return BW_ERR_NOMEM;
	return 0;
}

/* The records of the largest frame written at once. */
static size_t sealed_max(size_t frame)
{
	return frame + (frame / TLS_REC_MAX_PLAIN + 2) * TLS_REC_OVERHEAD;
}

int worker_start(struct bwd_server *srv, unsigned index, struct worker **out)
{
	struct worker *w;
	int rc;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return BW_ERR_NOMEM;
	w->srv = srv;
	w->index = index;
	w->lfd = w->tfd = w->epfd = w->inbox.efd = -1;
	w->clock_base = monotonic_seconds();
	bw_writer_init(&w->scratch, srv->cfg.max_message_size + 64);
	bw_writer_init(&w->reply, srv->cfg.max_message_size);
	bw_writer_init(&w->sealed, sealed_max(srv->cfg.max_message_size + 64));
	if ((rc = worker_setup(w)) != 0)
		goto fail;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		rc = BWD_ERR_SYSTEM;
		goto fail;
	}
	*out = w;
	return 0;
fail:
	worker_free(w);
	return rc;
}

static void stop_mail(struct mail *m, void *receiver)
{
	struct worker *w = receiver;

	(void)m;
	w->stopping = true;
}

void worker_stop(struct worker *w)
{
	struct mail m = { .fn = stop_mail };

	if (w == NULL)
		return;
	worker_post(w, &m);
	pthread_join(w->thread, NULL);
	worker_free(w);
}

void worker_post(struct worker *w, struct mail *m)
{
	mailbox_post(&w->inbox, m);
}

/* Close the live connections of a device or of a user, on this worker. */
struct kick_mail {
	struct mail mail;
	bool by_user;
	char name[STORE_NAME_SIZE];
};

static void kick(struct mail *m, void *receiver)
{
	struct kick_mail *k = (struct kick_mail *)m;
	struct worker *w = receiver;
	struct conn *c, *next;
	const char *who;

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (!c->authenticated)
			continue;
		who = k->by_user ? c->ident->user : c->ident->id;
		if (strcmp(who, k->name) != 0)
			continue;
		log_info("device %s of %s disconnected: %s", c->ident->id,
			 c->ident->user,
			 k->by_user ? "user disabled" : "device revoked");
		conn_close_ws(c, WS_CLOSE_POLICY, k->by_user ? "user disabled"
							     : "device revoked");
	}
	free(k);
}

void worker_kick(struct worker *w, const char *name, bool by_user)
{
	struct kick_mail *k = calloc(1, sizeof(*k));

	if (k == NULL) {
		log_error("worker %u: out of memory, cannot disconnect %s",
			  w->index, name);
		return;
	}
	k->mail.fn = kick;
	k->by_user = by_user;
	snprintf(k->name, sizeof(k->name), "%s", name);
	worker_post(w, &k->mail);
}

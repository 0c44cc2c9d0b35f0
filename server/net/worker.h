/*
 * worker.h - one network thread: its own epoll loop, its own listening
 * socket (SO_REUSEPORT: the kernel spreads new connections over the
 * workers, with no shared accept lock), a mailbox for work handed over by
 * other threads, and a one-second tick that enforces every deadline.
 */
#ifndef BWD_WORKER_H
#define BWD_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "mailbox.h"
#include "server.h"

struct worker {
	struct bwd_server *srv;
	unsigned index;
	int epfd, lfd, tfd;
	pthread_t thread;
	struct mailbox inbox;
	struct conn *conns;     /* every live connection */
	struct conn *dead;      /* closed, to be freed after this round */
	struct conn **ready;    /* connections to continue after this round */
	size_t nready, ready_cap;
	struct conn **dirty;    /* connections with output to flush */
	size_t ndirty, dirty_cap;
	uint32_t now;           /* seconds since the worker started */
	unsigned ds_sessions;   /* delivery sessions not yet released */
	uint64_t clock_base;    /* CLOCK_MONOTONIC at start, in seconds */
	bool stopping;
	/* Frames are built here before they are written: one per thread, so
	 * the hot path does not allocate. */
	struct bw_writer scratch;
	struct bw_writer reply; /* protocol messages are encoded here */
	wslay_frame_context_ptr ws_out; /* frame encoder, writes to scratch */
	/* Frame decoders read for ws_reading. One that an idle connection
	 * gave back, with none of its bytes left in it, waits in ws_spare
	 * for the next connection that reads (ws.c). */
	wslay_frame_context_ptr ws_spare;
	struct conn *ws_reading;
	/* Records are protected into sealed, with the thread's contexts. */
	struct bw_writer sealed;
	struct tls_rec_ctx rec_ctx;
};

/* Create the listener and the loop and start the thread. */
int worker_start(struct bwd_server *srv, unsigned index, struct worker **out);
/* Ask the worker to close its connections (WebSocket close) and stop;
 * join it and free it. */
void worker_stop(struct worker *w);
/* Hand mail to the worker's thread. */
void worker_post(struct worker *w, struct mail *m);

/* Close the live connections of a device (by id) or, by_user, of every
 * device of a user. Safe from any thread. */
void worker_kick(struct worker *w, const char *name, bool by_user);

/* For the connection code: (un)register interest, queue for another
 * round, and unlink a freed connection. */
int worker_watch(struct worker *w, struct conn *c, bool add);
void worker_defer(struct worker *w, struct conn *c);
/* c has output waiting: conn_flush at the end of the round. */
int worker_mark_dirty(struct worker *w, struct conn *c);
void worker_unlink(struct worker *w, struct conn *c);

#endif

/*
 * loop.h - the generator's one event loop: epoll, logins paced to
 * cfg.conc in flight, output written once per turn, acknowledgements
 * batched over cfg.ack_ms, deadlines checked twice a second.
 *
 * A turn: start queued logins; run the scenario's tick; send the
 * acknowledgements that are due; write every connection that has output;
 * wait for events (at most a millisecond while anything is scheduled);
 * handle them.
 */
#ifndef LG_LOOP_H
#define LG_LOOP_H

#include "lg.h"

int loop_init(struct lg *g);
void loop_free(struct lg *g);

/* Run until done(g) holds (checked every turn) or timeout_s passes;
 * true if done. done NULL: run for timeout_s. */
bool loop_run(struct lg *g, bool (*done)(struct lg *g), double timeout_s);

/* Queue a login of d (started when a slot is free). */
void loop_login(struct lg *g, struct dev *d);
/* Every queued login has started and none is in flight. */
bool loop_logins_settled(struct lg *g);

/* For conn.c. */
void loop_dirty(struct lg *g, struct lconn *c);
const uint8_t *loop_mask(struct lg *g);
uint8_t *loop_read_buffer(struct lg *g, size_t n);
void loop_ack_queue(struct lg *g, struct lconn *c);
void loop_conn_ready(struct lg *g);
void loop_conn_closed(struct lg *g, struct lconn *c, uint8_t was,
		      const char *why);

#endif

/*
 * mailbox.h - hand work to another thread: a mutex-protected list of
 * intrusive items plus an eventfd the receiving thread polls.
 *
 * The sender fills a struct mail (embedded in its own struct) and posts
 * it; the receiver, woken by the eventfd in its event loop, takes the whole
 * list at once and runs each item's fn on its own thread. Posting never
 * blocks for long and never allocates.
 */
#ifndef BWD_MAILBOX_H
#define BWD_MAILBOX_H

#include <pthread.h>
#include <stdint.h>

struct mail;
typedef void (*mail_fn)(struct mail *m, void *receiver);

struct mail {
	struct mail *next;
	mail_fn fn;
	uint64_t lat_posted; /* lat_trace.h (zero without BULWARK_LAT_TRACE) */
};

struct mailbox {
	pthread_mutex_t lock;
	struct mail *head, **tail;
	int efd; /* readable while mail is waiting */
};

int mailbox_init(struct mailbox *mb);
/* Free the eventfd; mail still queued is dropped without running. */
void mailbox_clear(struct mailbox *mb);
void mailbox_post(struct mailbox *mb, struct mail *m);
/* Run every waiting item in posting order (receiver's thread). */
void mailbox_drain(struct mailbox *mb, void *receiver);

#endif

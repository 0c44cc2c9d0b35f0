/* mailbox.c - cross-thread handoff by mutex + eventfd. */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "errors.h"
#include "lat_trace.h"
#include "mailbox.h"

int mailbox_init(struct mailbox *mb)
{
	mb->head = NULL;
	mb->tail = &mb->head;
	if ((mb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return BWD_ERR_SYSTEM;
	if (pthread_mutex_init(&mb->lock, NULL) != 0) {
		close(mb->efd);
		mb->efd = -1;
		return BWD_ERR_SYSTEM;
	}
	return 0;
}

void mailbox_clear(struct mailbox *mb)
{
	if (mb->efd < 0)
		return;
	close(mb->efd);
	mb->efd = -1;
	pthread_mutex_destroy(&mb->lock);
}

void mailbox_post(struct mailbox *mb, struct mail *m)
{
	uint64_t one = 1;
	ssize_t n;
	int was_empty;

	m->next = NULL;
	m->lat_posted = LAT_NOW();
	pthread_mutex_lock(&mb->lock);
	was_empty = mb->head == NULL;
	*mb->tail = m;
	mb->tail = &m->next;
	pthread_mutex_unlock(&mb->lock);
	/* One wake-up per batch: the receiver takes the whole list. */
	if (was_empty) {
		n = write(mb->efd, &one, sizeof(one));
		(void)n; /* EAGAIN: the counter is already non-zero */
	}
}

void mailbox_drain(struct mailbox *mb, void *receiver)
{
	struct mail *m, *next;
	uint64_t count;
	ssize_t n;

	n = read(mb->efd, &count, sizeof(count));
	(void)n; /* EAGAIN: woken for another reason */
	pthread_mutex_lock(&mb->lock);
	m = mb->head;
	mb->head = NULL;
	mb->tail = &mb->head;
	pthread_mutex_unlock(&mb->lock);
	for (; m != NULL; m = next) {
		next = m->next; /* fn may free m */
		LAT_ADD(LAT_MAIL, m->lat_posted, LAT_NOW());
		m->fn(m, receiver);
	}
}

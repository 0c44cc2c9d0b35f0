/*
 * traffic.h - messages: sending, receiving, and checking each one.
 *
 * Sending (GROUP_SEND, request id = the message's global id):
 *   --raw  the member's template PrivateMessage (a real one of the group's
 *          epoch, convs.h) with the 32-byte header written over the start
 *          of its ciphertext: the server's work is exactly a real
 *          message's (it cannot look inside), the generator does no MLS;
 *   --mls  the header and filler encrypted by the member's group
 *          (mls_group_encrypt); the recipient decrypts (mls_group_process)
 *          before it counts the message as had.
 * Both are built in the scratch and framed into the connection's buffer:
 * in --raw mode nothing is allocated per message.
 *
 * Receiving (DELIVER): the (group, seq) dedup every device does
 * (docs/protocol.md: a device keeps the highest seq it stored) drops
 * redeliveries, which are counted; each message is then accounted by its
 * header: stale (another run), misrouted, misordered (a sender's messages
 * out of its order), duplicated (more deliveries than recipients), and
 * its latency from the send time. A device's own application messages
 * are not pushed back to it: the seq of the response counts as had
 * (convs.h, member_own_sent); one that comes in a backlog anyway is an
 * echo. Every delivery is acknowledged within cfg.ack_ms.
 */
#ifndef LG_TRAFFIC_H
#define LG_TRAFFIC_H

#include "lg.h"
#include "mls_dev.h"

/* What a scenario does when traffic events happen (each optional). */
struct traffic_hooks {
	void (*ready)(struct lg *g, struct dev *d);
	void (*closed)(struct lg *g, struct dev *d, bool failed);
	/* The message reached every recipient (once each). */
	void (*complete)(struct lg *g, uint32_t gid, struct msgrec *r);
	/* The server accepted it (response with its seq) or refused it. */
	void (*accepted)(struct lg *g, uint32_t gid, struct msgrec *r);
	void (*refused)(struct lg *g, uint32_t gid, struct msgrec *r);
};

/* Take over g's device events for traffic; m for --mls mode. */
void traffic_start(struct lg *g, const struct lg_mls *m,
		   const struct traffic_hooks *h);
/* Send a new message from member m to its conversation; its global id. */
uint32_t traffic_send(struct lg *g, struct member *m);
/* Send d's unanswered messages again (same idempotency key and bytes):
 * after a reconnection. */
void traffic_resend(struct lg *g, struct dev *d);

/* After the run: every message checked against what was sent. */
struct traffic_verdict {
	uint64_t sent;             /* messages */
	uint64_t acked;            /* with the server's response */
	uint64_t acked_lost;       /* acked, not delivered to all */
	uint64_t acked_dup;        /* acked, delivered more than once */
	uint64_t unacked_delivered;/* no response, yet delivered (allowed) */
	uint64_t unacked_missing;  /* no response, never delivered */
	uint64_t refused;
	uint64_t seq_mismatch;     /* delivered under another seq than its
				    * response gave */
	uint64_t send_misordered;  /* a sender's acked message with a lower
				    * seq than its previous one */
	uint64_t incomplete;       /* not delivered to all, acked or not */
};
/* Messages first.. (global ids) */
void traffic_verdict(const struct lg *g, uint32_t first,
		     struct traffic_verdict *v);
/* Log the first max acknowledged messages not delivered to everyone, with
 * where each recipient stands, to tell a loss from a stalled device. */
void traffic_log_lost(struct lg *g, uint32_t first, unsigned max);

#endif

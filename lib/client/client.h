/*
 * client.h - conversations inside libbulwark: the client object that ties
 * the device, its local store, its MLS identity and a session together,
 * and the modules that work on it. The public half is in bulwark.h;
 * docs/libbulwark.md, "Conversations", describes the whole.
 *
 *   client.c        open, connect, the push queue, waiting for pushes
 *   rpc.c           the conversation requests of the device protocol
 *   receive.c       deliveries in order: store, then acknowledge
 *   key_packages.c  the device's stock of key packages; Welcomes
 *   commit.c        commits, with the stale-epoch retry
 *   conversation.c  create, add, remove, send
 *   rejoin.c        joining the user's conversations by external commit
 *   listing.c       conversations and history for the application
 *   app_message.c   the plaintext inside an application message
 *
 * Rules that keep the device consistent across crashes:
 *  - a group's state is saved (with the message and cursor it goes with,
 *    in one store transaction) before anything it produced is sent, and
 *    before the server is told the message was received (QUEUE_ACK);
 *  - no loaded mls_group is kept across a network call: pushes handled
 *    meanwhile change the stored state, so it is loaded again after.
 */
#ifndef BW_CLIENT_CLIENT_H
#define BW_CLIENT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/bulwark.h"
#include "bytes.h"
#include "member.h"
#include "proto.h"
#include "store.h"

/* A push as received, kept until handled. */
struct push {
	struct push *next;
	uint16_t type;
	size_t len;
	uint8_t body[];
};

/* The highest seq handled per group, to acknowledge ("" is the inbox). */
struct ack {
	struct bw_bytes group_id;
	uint64_t seq;
};

struct bulwark_client {
	struct bulwark_device *dev;
	struct store *store;
	struct member_ctx me;
	struct bulwark_session *s; /* NULL when not connected */
	int timeout_ms;
	/* pushes received and not yet handled, oldest first */
	struct push *head, *tail;
	/* deliveries of groups this device does not know yet (their Welcome
	 * is still on its way): kept, not acknowledged */
	struct push *held;
	int push_error; /* a push was lost (no memory): stop acknowledging */
	bool synced;    /* SYNCED arrived on this session */
	bool kp_low;    /* KP_LOW arrived: top up */
	bool sent_commit; /* a commit was sent on this session */
	bool check_proposals; /* a conversation may hold proposals to commit */
	struct ack *acks;
	size_t n_acks, cap_acks;
	bulwark_message_fn on_message;
	void *message_arg;
};

/* Retries of a commit or send that keeps meeting a newer epoch. */
#define CLIENT_MAX_ATTEMPTS 5

/* ---- client.c ---- */

/* Connected, else BULWARK_ERR_CLOSED. */
int client_need_session(struct bulwark_client *c);
/* A network error after which reconnecting may help. */
bool client_transient(int err);
/* A failure of this device rather than of what the server sent (memory,
 * the store, the crypto library): a message is not passed over for it. */
bool client_local_failure(int err);
/* Drop the session (after an error that closed it). */
void client_disconnect(struct bulwark_client *c);
/* Connect again, retrying until deadline (monotonic ms). */
int client_reconnect(struct bulwark_client *c, int64_t deadline);
/* Handle pushes until done(c, arg) holds, waiting for more until
 * deadline; BULWARK_ERR_TIMEOUT if it never does. */
int client_pump(struct bulwark_client *c, int64_t deadline,
		bool (*done)(struct bulwark_client *c, void *arg), void *arg);
/* A done() for client_pump: the backlog has been handled. */
bool client_is_synced(struct bulwark_client *c, void *arg);
/* Now plus the client's timeout, on the monotonic clock. */
int64_t client_deadline(const struct bulwark_client *c);
/* Take the oldest queued push (NULL when none). */
struct push *client_next_push(struct bulwark_client *c);
void push_free(struct push *p);

/* ---- rpc.c: one request each, on the client's session (a session that
 * failed underneath is dropped). Spans in the results point into the
 * session's buffer until its next call. On BULWARK_ERR_STALE_EPOCH,
 * *current_epoch (when not NULL) is the group's epoch at the server. */
struct group_post {
	const uint8_t *group_id;
	size_t group_id_len;
	uint8_t idempotency_key[PROTO_IDEMPOTENCY_KEY_LEN];
	const uint8_t *message; /* commit, or application message */
	size_t message_len;
	const uint8_t *group_info; /* commits only */
	size_t group_info_len;
	const uint8_t *welcome;    /* commits only; NULL: none */
	size_t welcome_len;
};
int rpc_server_info(struct bulwark_client *c, struct proto_server_info *out);
int rpc_kp_count(struct bulwark_client *c, struct proto_kp_count *out);
int rpc_kp_upload(struct bulwark_client *c, const struct bw_bytes *kps,
		  size_t n, const struct bw_bytes *last_resort,
		  struct proto_kp_count *out);
int rpc_kp_claim(struct bulwark_client *c, const char *const *users,
		 size_t n, struct proto_kp_claim_resp *out);
int rpc_group_create(struct bulwark_client *c, const uint8_t *group_info,
		     size_t len);
int rpc_group_commit(struct bulwark_client *c, const struct group_post *p,
		     struct proto_seq_epoch *out, uint64_t *current_epoch);
int rpc_group_send(struct bulwark_client *c, const struct group_post *p,
		   uint64_t *seq, uint64_t *current_epoch);
int rpc_group_info(struct bulwark_client *c, const uint8_t *gid,
		   size_t gid_len, struct proto_group_info_resp *out);
int rpc_group_list(struct bulwark_client *c,
		   struct proto_group_list_resp *out);
int rpc_queue_ack(struct bulwark_client *c, const struct ack *acks,
		  size_t n);

/* ---- receive.c ---- */

/* Handle every queued push in order, then acknowledge what was stored. */
int client_drain(struct bulwark_client *c);
/* Record that seq of a group (NULL, 0: the inbox) was handled. */
int client_ack_later(struct bulwark_client *c, const uint8_t *gid,
		     size_t gid_len, uint64_t seq);
/* Send the acknowledgements recorded so far. */
int client_flush_acks(struct bulwark_client *c);

/* ---- key_packages.c ---- */

/* Top the server's stock of this device's key packages up when it is
 * below its low-water mark (and upload a last-resort one if there is
 * none). */
int client_kp_ensure(struct bulwark_client *c);
/* Join from a Welcome with the bundle it was made for: *g and the id of
 * the bundle used (deleted by the caller unless it is the last-resort
 * one, *last_resort). BULWARK_ERR_MESSAGE_INVALID if none fits. */
int client_kp_join(struct bulwark_client *c, const uint8_t *welcome,
		   size_t len, struct mls_group **g, uint8_t id[32],
		   bool *last_resort);

/* ---- commit.c ---- */

/* What a commit proposes besides the proposals cached in its epoch:
 * called on the freshly loaded group before each attempt (conv is its
 * record). COMMIT_NOTHING: nothing is left to do (e.g. another member's
 * commit did it), and no commit is made. */
#define COMMIT_NOTHING 1
typedef int (*commit_build_fn)(struct bulwark_client *c,
			       struct mls_group *g,
			       const struct store_conv *conv, void *arg);
/* Commit in the conversation gid: build, commit, save, send, and wait
 * until the commit is back and merged. A stale epoch is caught up on and
 * retried (CLIENT_MAX_ATTEMPTS). */
int client_commit(struct bulwark_client *c, const uint8_t *gid,
		  size_t gid_len, commit_build_fn build, void *arg);
/* Wait until the stored conversation reaches epoch (or is gone). */
int client_catch_up(struct bulwark_client *c, const uint8_t *gid,
		    size_t gid_len, uint64_t epoch);
/* Save g as the state of conversation conv (and its epoch). */
int client_save_group(struct bulwark_client *c, struct store_conv *conv,
		      const struct mls_group *g);
/* Load the state of conv. */
int client_load_group(struct bulwark_client *c, const struct store_conv *conv,
		      struct mls_group **g);
/* Commit the proposals cached in one conversation (if any). */
int client_commit_proposals(struct bulwark_client *c, const uint8_t *gid,
			    size_t gid_len);
/* Commit the proposals pending in every conversation (the server's
 * Remove proposals of revoked devices). */
int client_commit_pending(struct bulwark_client *c);
/* After the backlog: a commit still pending was never accepted by the
 * server (its echo would have come back first); drop it. */
int client_drop_stale_commits(struct bulwark_client *c);

/* ---- conversation.c ---- */

/* The conversation named by ref: its name, its whole id in hex, or a
 * prefix of the id of at least 4 hex digits. */
int client_resolve(struct bulwark_client *c, const char *ref,
		   struct store_conv *out);

/* ---- rejoin.c ---- */

/* Join, by external commit, the conversations in which this device's
 * user has a device but this device is not a member. */
int client_rejoin(struct bulwark_client *c);

/* ---- listing.c ---- */

/* The application's view of a stored message; *out is cleared with
 * listing_message_clear. */
int listing_message(const struct store_msg *m, struct bulwark_message *out);
void listing_message_clear(struct bulwark_message *m);

/* ---- app_message.c: the plaintext of an application message,
 *   struct { uint8 kind; opaque text<0..BULWARK_MAX_TEXT>; } ---- */
int app_message_encode(uint8_t kind, const void *text, size_t len,
		       struct bw_bytes *out);
BULWARK_MUST_CHECK int app_message_decode(const uint8_t *p, size_t n,
					  uint8_t *kind, const uint8_t **text,
					  size_t *len);

#endif

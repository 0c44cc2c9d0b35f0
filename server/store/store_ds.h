/*
 * store_ds.h - what the delivery service stores (docs/architecture.md,
 * "Delivery service"): key packages, groups with their public view and
 * log, each device's membership intervals and cursor per group, and each
 * device's inbox of Welcomes.
 *
 * A group message is stored once, in its group's log, numbered by seq; a
 * device's queue for a group is the part of that log between its cursor
 * (acked_seq) and the end of its membership. Fan-out therefore writes no
 * row per recipient. Welcomes are stored once too, with one small inbox
 * row per recipient device.
 *
 * As store.h: one thread at a time, inside or outside a transaction.
 * Byte strings handed out in struct bw_bytes are the caller's.
 */
#ifndef BWD_STORE_DS_H
#define BWD_STORE_DS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

#define STORE_MAX_REF 64   /* KeyPackageRef: the suite's hash */
#define STORE_HASH_LEN 32  /* SHA-256 of a request, for idempotency */

struct store;

/* A key package as uploaded. */
struct store_kp {
	const char *device;
	const uint8_t *ref;
	size_t ref_len;
	const uint8_t *key_package;
	size_t key_package_len;
	bool last_resort;
	int64_t not_after;
	int64_t uploaded;
};

/* A group's stored state. */
struct store_group {
	int64_t gid;              /* the store's number for it */
	struct bw_bytes group_id;
	uint64_t epoch;
	uint64_t last_seq;        /* at least: the log may be ahead */
	struct bw_bytes view;     /* mls_public_group_save() */
	struct bw_bytes group_info;
	int64_t created;
};

void store_group_clear(struct store_group *g);

/* One message of a group's log. sender is a device id, "" for the
 * server's own; key and hash are NULL for the server's own. */
struct store_log_entry {
	int64_t gid;
	uint64_t seq;
	uint8_t kind;             /* enum proto_deliver_kind */
	int64_t time;
	const char *sender;
	const uint8_t *idem_key;  /* PROTO_IDEMPOTENCY_KEY_LEN bytes */
	const uint8_t *idem_hash; /* STORE_HASH_LEN bytes */
	uint64_t epoch;           /* the group's epoch after it */
	const uint8_t *payload;
	size_t payload_len;
};

/* What an idempotency key found. */
struct store_idem {
	uint64_t seq;
	uint64_t epoch;
	uint8_t hash[STORE_HASH_LEN];
};

/* A message of a device's backlog; payload and group_id valid during the
 * callback only. group_id is empty for the inbox. */
struct store_backlog_msg {
	const uint8_t *group_id;
	size_t group_id_len;
	int64_t gid;              /* 0 for the inbox */
	uint64_t seq;
	uint8_t kind;
	int64_t time;
	const uint8_t *payload;
	size_t payload_len;
};

/* Where a backlog read stopped: the inbox first, then the groups in gid
 * order, each in seq order. */
struct store_cursor {
	bool in_groups;
	uint64_t inbox_seq;
	int64_t gid;
	uint64_t seq;
};

/* A group a device's user is in (GROUP_LIST). */
struct store_user_group {
	const uint8_t *group_id;
	size_t group_id_len;
	int64_t gid;
	uint64_t epoch;
	bool member; /* the asking device itself */
};

struct store_purge {
	int64_t older_than;       /* drop what was stored before this */
	uint64_t max_per_group;   /* keep at most this many per group */
	int64_t now;              /* expired key packages */
	uint32_t limit;           /* rows per table and call */
	uint64_t deleted;         /* out: rows deleted */
};

typedef int (*store_backlog_fn)(void *arg, const struct store_backlog_msg *m);
typedef int (*store_user_group_fn)(void *arg,
				   const struct store_user_group *g);
typedef int (*store_gid_fn)(void *arg, int64_t gid);

struct store_ds_ops {
	/* ---- key packages ---- */
	/* BWD_ERR_EXISTS if the ref is known. A last-resort package
	 * replaces the device's previous one. */
	int (*kp_add)(struct store *s, const struct store_kp *kp);
	/* Unclaimed packages of a device valid at now, last resort
	 * excluded. */
	int (*kp_count)(struct store *s, const char *device, int64_t now,
			uint32_t *available);
	/* The device's oldest package valid at now, marked claimed (only
	 * the ref is kept); else its last-resort package, which stays.
	 * BWD_ERR_NOT_FOUND if it has neither. */
	int (*kp_claim)(struct store *s, const char *device, int64_t now,
			struct bw_bytes *key_package);
	/* The device that uploaded a ref. BWD_ERR_NOT_FOUND if none. */
	int (*kp_owner)(struct store *s, const uint8_t *ref, size_t ref_len,
			char *device, size_t size);

	/* ---- groups ---- */
	/* *gid receives the new group's number; BWD_ERR_EXISTS if the group
	 * id is taken. */
	int (*group_add)(struct store *s, const struct store_group *g,
			 int64_t *gid);
	/* By group id or by gid; BWD_ERR_NOT_FOUND. */
	int (*group_get)(struct store *s, const uint8_t *group_id, size_t len,
			 struct store_group *out);
	int (*group_get_gid)(struct store *s, int64_t gid,
			     struct store_group *out);
	/* After a handshake message: epoch, last seq, view and GroupInfo
	 * (group_info NULL: unchanged). */
	int (*group_update)(struct store *s, int64_t gid, uint64_t epoch,
			    uint64_t last_seq, const struct bw_bytes *view,
			    const struct bw_bytes *group_info);
	/* The highest seq in the log, 0 if empty. */
	int (*log_last_seq)(struct store *s, int64_t gid, uint64_t *seq);
	/* BWD_ERR_EXISTS if the sender already used the idempotency key. */
	int (*log_append)(struct store *s, const struct store_log_entry *e);
	/* BWD_ERR_NOT_FOUND if the sender never used the key in the group. */
	int (*log_find_key)(struct store *s, int64_t gid, const char *sender,
			    const uint8_t *key, struct store_idem *out);

	/* ---- membership and cursors ---- */
	int (*member_join)(struct store *s, int64_t gid, const char *device,
			   uint64_t joined_seq);
	int (*member_leave)(struct store *s, int64_t gid, const char *device,
			    uint64_t left_seq);
	/* Cumulative acknowledgement, on every membership interval of the
	 * device in the group. BWD_ERR_NOT_FOUND if it never was a member. */
	int (*member_ack)(struct store *s, int64_t gid, const char *device,
			  uint64_t seq);
	/* The device's own application message seq, which it is not sent:
	 * a cursor at seq - 1 moves to seq, as an acknowledgement would but
	 * without a write of its own (a crash may forget it: the device
	 * then receives its message again and passes over it); a cursor
	 * behind stays. BWD_ERR_NOT_FOUND if it never was a member. */
	int (*member_pass_own)(struct store *s, int64_t gid,
			       const char *device, uint64_t seq);
	/* Groups the device is a member of now, in gid order. */
	int (*device_groups)(struct store *s, const char *device,
			     store_gid_fn fn, void *arg);
	/* Groups in which a device of user is a member, oldest first;
	 * member tells whether device is one. */
	int (*user_groups)(struct store *s, const char *user,
			   const char *device, store_user_group_fn fn,
			   void *arg);

	/* ---- inbox ---- */
	int (*welcome_add)(struct store *s, int64_t now, const uint8_t *p,
			   size_t n, int64_t *welcome_id);
	/* Append a Welcome to a device's inbox; *seq receives its number. */
	int (*inbox_add)(struct store *s, const char *device,
			 int64_t welcome_id, int64_t now, uint64_t *seq);
	/* The last seq of a device's inbox (0: none yet). */
	int (*inbox_last)(struct store *s, const char *device, uint64_t *seq);
	int (*inbox_ack)(struct store *s, const char *device, uint64_t seq);

	/* ---- delivery ---- */
	/* Up to max messages of a device's backlog after *cursor, which
	 * moves past them; *more is false once the backlog is exhausted. */
	int (*backlog)(struct store *s, const char *device,
		       struct store_cursor *cursor, uint32_t max,
		       store_backlog_fn fn, void *arg, bool *more);
	/* Retention: at most p->limit rows of each kind. */
	int (*purge)(struct store *s, struct store_purge *p);
};

#endif

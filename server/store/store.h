/*
 * store.h - bulwarkd's storage interface.
 *
 * A struct store is a backend behind a vtable: SQLite today
 * (store_sqlite.c), PostgreSQL later. A store is used by one thread at a
 * time (the store thread, store_queue.h); nothing here is thread-safe.
 *
 * Transactions are explicit so that an operation made of several steps
 * (activation: certify, insert the device, mark the code used, audit) is
 * all-or-nothing: store_begin(), the steps, then store_commit() or
 * store_rollback(). Every operation also works outside a transaction, as
 * its own.
 *
 * Times are seconds since the epoch. Names are the protocol's names
 * (proto_name_valid) and are NUL-terminated here. Nothing secret is stored:
 * an activation code is only its SPAKE2+ verifier (w0, L) and the salt and
 * KDF parameters the password was stretched with.
 *
 * Errors: BWD_ERR_NOT_FOUND, BWD_ERR_EXISTS, BWD_ERR_DISABLED,
 * BWD_ERR_STORE (the backend failed), BWD_ERR_SCHEMA.
 */
#ifndef BWD_STORE_H
#define BWD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "proto.h"

#define STORE_NAME_SIZE (PROTO_MAX_NAME + 1)
#define STORE_DISPLAY_SIZE 129
#define STORE_CODE_SIZE (PROTO_MAX_CODE_ID + 1)
#define STORE_FINGERPRINT_LEN 32 /* SHA-256 */
#define STORE_MAX_SERIAL 32

struct store_user {
	char name[STORE_NAME_SIZE];
	char display_name[STORE_DISPLAY_SIZE];
	bool disabled;
	int64_t created;
	uint32_t devices; /* active devices (filled by user_list) */
};

struct store_device {
	char id[STORE_NAME_SIZE];
	char user[STORE_NAME_SIZE];
	char name[STORE_NAME_SIZE];
	uint8_t fingerprint[STORE_FINGERPRINT_LEN];
	uint8_t serial[STORE_MAX_SERIAL];
	size_t serial_len;
	int64_t created;
	int64_t revoked_at; /* 0 while active */
};

/* An activation code: the SPAKE2+ registration record and its state. */
struct store_activation {
	char user[STORE_NAME_SIZE];
	char code_id[STORE_CODE_SIZE];
	struct bw_bytes w0, l, salt, kdf_params;
	int64_t created, expires;
	uint32_t attempts;
	bool used;
};

/* Release the byte strings of an activation record (w0 is wiped). */
void store_activation_clear(struct store_activation *a);

struct store_counts {
	uint32_t users, devices; /* devices: active */
};

struct store;

typedef int (*store_user_fn)(void *arg, const struct store_user *u);
typedef int (*store_device_fn)(void *arg, const struct store_device *d);

struct store_ops {
	void (*close)(struct store *s);
	int (*begin)(struct store *s);
	int (*commit)(struct store *s);
	void (*rollback)(struct store *s);
	/* Inside a transaction: a savepoint, its release, and undoing what
	 * was done since it (which also releases it). One at a time. */
	int (*savepoint)(struct store *s);
	int (*release)(struct store *s);
	void (*rollback_to)(struct store *s);
	/* Outside any transaction, between batches: housekeeping that must
	 * run on the store's own thread (SQLite: bounding the WAL). */
	void (*between_batches)(struct store *s);
	/* Inside a batch's transaction, before its first job: housekeeping
	 * whose writes ride on the batch's commit (SQLite: folding the
	 * cursors). Its effects count only once the batch commits. */
	void (*in_batch)(struct store *s);
	/* Group commit off the store thread (store_queue.h). defer_sync:
	 * from now on a commit does not wait for the disk (NULL: commits
	 * are durable by themselves). sync: make every transaction
	 * committed so far durable; called from the queue's sync threads,
	 * two of them possibly at once, while the store thread goes on. */
	int (*defer_sync)(struct store *s);
	int (*sync)(struct store *s);

	int (*user_add)(struct store *s, const char *name,
			const char *display_name, int64_t now);
	int (*user_get)(struct store *s, const char *name,
			struct store_user *out);
	int (*user_disable)(struct store *s, const char *name);
	/* Every user in name order; a non-zero return from fn stops. */
	int (*user_list)(struct store *s, store_user_fn fn, void *arg);

	int (*device_add)(struct store *s, const struct store_device *d);
	/* Devices of one user (user NULL: all), ordered by user and time. */
	int (*device_list)(struct store *s, const char *user,
			   store_device_fn fn, void *arg);
	/* Active devices of enabled users: what may log in. */
	int (*device_list_active)(struct store *s, store_device_fn fn,
				  void *arg);
	/* Mark a device revoked; *out receives it (for the caller's cache). */
	int (*device_revoke)(struct store *s, const char *id, int64_t now,
			     struct store_device *out);

	int (*activation_add)(struct store *s,
			      const struct store_activation *a);
	int (*activation_get)(struct store *s, const char *user,
			      const char *code_id,
			      struct store_activation *out);
	int (*activation_count_attempt)(struct store *s, const char *user,
					const char *code_id);
	int (*activation_mark_used)(struct store *s, const char *user,
				    const char *code_id);

	/* Audit log: who did what to whom, and how it went. Never secrets. */
	int (*audit_add)(struct store *s, int64_t now, const char *actor,
			 const char *action, const char *subject,
			 const char *result);
	int (*counts)(struct store *s, struct store_counts *out);

	/* The server's own keys (not the CA's: those never reach this
	 * process): get one, creating it from n random bytes if missing. */
	int (*server_key)(struct store *s, const char *name, size_t n,
			  struct bw_bytes *out);
};

struct store_ds_ops;

struct store {
	const struct store_ops *ops;
	const struct store_ds_ops *ds; /* store_ds.h */
};

/* Open (creating or migrating as needed) the SQLite database at path. */
int store_sqlite_open(const char *path, struct store **out);

/* Thin wrappers so callers read like plain function calls. */
static inline void store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}
static inline int store_begin(struct store *s) { return s->ops->begin(s); }
static inline int store_commit(struct store *s) { return s->ops->commit(s); }
static inline void store_rollback(struct store *s) { s->ops->rollback(s); }

#endif

/*
 * store_sqlite.c - the storage interface on SQLite.
 *
 * Durable by default: WAL journal with synchronous=FULL, so a commit has
 * reached the disk before the caller answers anyone. Every statement is
 * prepared once at open. The schema carries its version in
 * PRAGMA user_version and is brought up to date by the migrations below,
 * each in its own transaction.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <sqlite3.h>

#include "errors.h"
#include "log.h"
#include "store.h"
#include "store_sqlite_index.h"
#include "store_sqlite_int.h"

/* Schema migrations: entry i takes the schema from version i to i + 1.
 * Append only; never edit a released step. */
static const char *const migrations[] = {
	"CREATE TABLE users ("
	"  name TEXT PRIMARY KEY,"
	"  display_name TEXT NOT NULL,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE devices ("
	"  id TEXT PRIMARY KEY,"
	"  user TEXT NOT NULL REFERENCES users(name),"
	"  name TEXT NOT NULL,"
	"  cert_serial BLOB NOT NULL,"
	"  fingerprint BLOB NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL,"
	"  revoked_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX devices_by_user ON devices(user, created);"
	"CREATE TABLE activation_codes ("
	"  code_id TEXT PRIMARY KEY,"
	"  user TEXT NOT NULL REFERENCES users(name),"
	"  w0 BLOB NOT NULL,"
	"  l BLOB NOT NULL,"
	"  salt BLOB NOT NULL,"
	"  kdf_params BLOB NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  used INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE server_keys ("
	"  name TEXT PRIMARY KEY,"
	"  value BLOB NOT NULL);"
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY,"
	"  time INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  result TEXT NOT NULL);",
	/* 2: the delivery service (store_ds.h) */
	SQ_DS_SCHEMA,
	/* 3: its log in arrival order, acknowledgements appended */
	SQ_LOG_SCHEMA,
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_USER_ADD,
	ST_USER_GET,
	ST_USER_DISABLE,
	ST_USER_LIST,
	ST_DEVICE_ADD,
	ST_DEVICE_LIST_ALL,
	ST_DEVICE_LIST_USER,
	ST_DEVICE_LIST_ACTIVE,
	ST_DEVICE_GET,
	ST_DEVICE_REVOKE,
	ST_ACT_ADD,
	ST_ACT_GET,
	ST_ACT_ATTEMPT,
	ST_ACT_USED,
	ST_AUDIT_ADD,
	ST_COUNT_USERS,
	ST_COUNT_DEVICES,
	ST_KEY_GET,
	ST_KEY_PUT,
	ST_COUNT
};

#define DEVICE_COLS                                                         \
	"id, user, name, fingerprint, cert_serial, created, revoked_at"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT job",
	[ST_RELEASE] = "RELEASE job",
	[ST_ROLLBACK_TO] = "ROLLBACK TO job",
	[ST_USER_ADD] = "INSERT INTO users (name, display_name, created) "
			"VALUES (?1, ?2, ?3)",
	[ST_USER_GET] = "SELECT name, display_name, disabled, created "
			"FROM users WHERE name = ?1",
	[ST_USER_DISABLE] = "UPDATE users SET disabled = 1 WHERE name = ?1",
	[ST_USER_LIST] =
		"SELECT u.name, u.display_name, u.disabled, u.created, "
		"(SELECT count(*) FROM devices d "
		" WHERE d.user = u.name AND d.revoked_at = 0) "
		"FROM users u ORDER BY u.name",
	[ST_DEVICE_ADD] = "INSERT INTO devices (" DEVICE_COLS ") "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)",
	[ST_DEVICE_LIST_ALL] = "SELECT " DEVICE_COLS " FROM devices "
			       "ORDER BY user, created, id",
	[ST_DEVICE_LIST_USER] = "SELECT " DEVICE_COLS " FROM devices "
				"WHERE user = ?1 ORDER BY created, id",
	[ST_DEVICE_LIST_ACTIVE] =
		"SELECT d.id, d.user, d.name, d.fingerprint, d.cert_serial, "
		"d.created, d.revoked_at FROM devices d JOIN users u "
		"ON u.name = d.user WHERE d.revoked_at = 0 AND u.disabled = 0",
	[ST_DEVICE_GET] = "SELECT " DEVICE_COLS " FROM devices WHERE id = ?1",
	[ST_DEVICE_REVOKE] = "UPDATE devices SET revoked_at = ?2 "
			     "WHERE id = ?1 AND revoked_at = 0",
	[ST_ACT_ADD] = "INSERT INTO activation_codes (code_id, user, w0, l, "
		       "salt, kdf_params, created, expires) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_ACT_GET] = "SELECT user, code_id, w0, l, salt, kdf_params, "
		       "created, expires, attempts, used FROM activation_codes "
		       "WHERE code_id = ?1 AND user = ?2",
	[ST_ACT_ATTEMPT] = "UPDATE activation_codes SET attempts = attempts + 1 "
			   "WHERE code_id = ?1 AND user = ?2",
	[ST_ACT_USED] = "UPDATE activation_codes SET used = 1 "
			"WHERE code_id = ?1 AND user = ?2 AND used = 0",
	[ST_AUDIT_ADD] = "INSERT INTO audit (time, actor, action, subject, "
			 "result) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_COUNT_USERS] = "SELECT count(*) FROM users",
	[ST_COUNT_DEVICES] = "SELECT count(*) FROM devices WHERE revoked_at = 0",
	[ST_KEY_GET] = "SELECT value FROM server_keys WHERE name = ?1",
	[ST_KEY_PUT] = "INSERT INTO server_keys (name, value) VALUES (?1, ?2)",
};

static struct store_sqlite *impl(struct store *s)
{
	return (struct store_sqlite *)s;
}

void store_activation_clear(struct store_activation *a)
{
	bw_bytes_clear(&a->w0);
	bw_bytes_clear(&a->l);
	bw_bytes_clear(&a->salt);
	bw_bytes_clear(&a->kdf_params);
}

/* Prepared statement ready for binding: reset and unbound. */
static sqlite3_stmt *stmt(struct store_sqlite *q, enum stmt_id id)
{
	return sq_ready(q->st[id]);
}

sqlite3_stmt *sq_ready(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

int sq_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

int sq_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	/* An empty blob must still be a blob, not NULL. */
	return sqlite3_bind_blob(st, i, n ? p : "", (int)n, SQLITE_STATIC);
}

int sq_map_rc(int rc)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_CONSTRAINT:
		return BWD_ERR_EXISTS;
	default:
		return BWD_ERR_STORE;
	}
}

/* Run a statement that returns no rows; reset it whatever happens. */
int sq_exec(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return sq_map_rc(rc);
}

void sq_copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	size_t n = v ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(dst, v, n);
	dst[n] = '\0';
}

int sq_copy_blob(struct bw_bytes *dst, sqlite3_stmt *st, int col)
{
	return bw_bytes_set(dst, sqlite3_column_blob(st, col),
			    (size_t)sqlite3_column_bytes(st, col));
}

void sq_copy_fixed(uint8_t *dst, size_t size, size_t *len,
		   sqlite3_stmt *st, int col)
{
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	if (n > size)
		n = size;
	if (n)
		memcpy(dst, sqlite3_column_blob(st, col), n);
	if (len != NULL)
		*len = n;
}

/* ---- transactions ---- */

static int sq_begin(struct store *s)
{
	return sq_exec(stmt(impl(s), ST_BEGIN));
}

static int sq_commit(struct store *s)
{
	int rc = sq_exec(stmt(impl(s), ST_COMMIT));

	if (rc == 0)
		sq_ds_commit(impl(s));
	return rc;
}

/* Statements still in progress would keep a transaction open. */
static void reset_all(struct store_sqlite *q)
{
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_reset(q->st[i]);
	sq_ds_reset(q);
}

static void sq_rollback(struct store *s)
{
	struct store_sqlite *q = impl(s);

	reset_all(q);
	if (!sqlite3_get_autocommit(q->db))
		(void)sq_exec(stmt(q, ST_ROLLBACK));
	if (sq_ds_rollback(q) != 0)
		log_error("store: cannot rebuild the message index");
}

static void sq_between_batches(struct store *s)
{
	sq_checkpoint_restart(impl(s));
}

static void sq_in_batch(struct store *s)
{
	sq_ds_in_batch(impl(s));
}

/* A commit appends its frames to the WAL and no longer syncs it
 * (synchronous=NORMAL: still synced before every checkpoint copies
 * frames, so the database file never holds what the WAL may lose);
 * sq_sync does, for every commit so far at once. The WAL exists once the
 * store is open (its first read created it) and lives until the last
 * connection closes, so its descriptor is opened here, once, before any
 * sync thread can use it. */
static int sq_defer_sync(struct store *s)
{
	struct store_sqlite *q = impl(s);

	if (q->wal_fd < 0 &&
	    (q->wal_fd = open(q->wal_path, O_RDWR | O_CLOEXEC)) < 0)
		return BWD_ERR_STORE;
	return sqlite3_exec(q->db, "PRAGMA synchronous = NORMAL", NULL, NULL,
			    NULL) == SQLITE_OK
		       ? 0
		       : BWD_ERR_STORE;
}

/* The sync threads': fdatasync on the WAL reaches every frame written
 * through SQLite's own descriptor (the same file) before it began. */
static int sq_sync(struct store *s)
{
	return fdatasync(impl(s)->wal_fd) == 0 ? 0 : BWD_ERR_STORE;
}

static int sq_savepoint(struct store *s)
{
	int rc = sq_exec(stmt(impl(s), ST_SAVEPOINT));

	if (rc == 0)
		sq_ds_savepoint(impl(s));
	return rc;
}

static int sq_release(struct store *s)
{
	return sq_exec(stmt(impl(s), ST_RELEASE));
}

static void sq_rollback_to(struct store *s)
{
	struct store_sqlite *q = impl(s);

	reset_all(q);
	(void)sq_exec(stmt(q, ST_ROLLBACK_TO));
	(void)sq_exec(stmt(q, ST_RELEASE));
	sq_ds_rollback_to(q);
}

/* ---- users ---- */

static int sq_user_add(struct store *s, const char *name,
		       const char *display_name, int64_t now)
{
	sqlite3_stmt *st = stmt(impl(s), ST_USER_ADD);

	sq_bind_text(st, 1, name);
	sq_bind_text(st, 2, display_name);
	sqlite3_bind_int64(st, 3, now);
	return sq_exec(st);
}

static void row_user(sqlite3_stmt *st, struct store_user *u)
{
	memset(u, 0, sizeof(*u));
	sq_copy_text(u->name, sizeof(u->name), st, 0);
	sq_copy_text(u->display_name, sizeof(u->display_name), st, 1);
	u->disabled = sqlite3_column_int(st, 2) != 0;
	u->created = sqlite3_column_int64(st, 3);
}

static int sq_user_get(struct store *s, const char *name,
		       struct store_user *out)
{
	sqlite3_stmt *st = stmt(impl(s), ST_USER_GET);
	int rc;

	sq_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_user(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return BWD_ERR_NOT_FOUND;
	return sq_map_rc(rc);
}

static int sq_user_disable(struct store *s, const char *name)
{
	struct store_sqlite *q = impl(s);
	sqlite3_stmt *st = stmt(q, ST_USER_DISABLE);
	int rc;

	sq_bind_text(st, 1, name);
	if ((rc = sq_exec(st)) != 0)
		return rc;
	return sqlite3_changes(q->db) == 1 ? 0 : BWD_ERR_NOT_FOUND;
}

static int sq_user_list(struct store *s, store_user_fn fn, void *arg)
{
	sqlite3_stmt *st = stmt(impl(s), ST_USER_LIST);
	struct store_user u;
	int rc, stop = 0;

	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_user(st, &u);
		u.devices = (uint32_t)sqlite3_column_int(st, 4);
		stop = fn(arg, &u);
	}
	sqlite3_reset(st);
	return stop != 0 ? stop : sq_map_rc(rc);
}

/* ---- devices ---- */

static int sq_device_add(struct store *s, const struct store_device *d)
{
	sqlite3_stmt *st = stmt(impl(s), ST_DEVICE_ADD);

	sq_bind_text(st, 1, d->id);
	sq_bind_text(st, 2, d->user);
	sq_bind_text(st, 3, d->name);
	sq_bind_blob(st, 4, d->fingerprint, sizeof(d->fingerprint));
	sq_bind_blob(st, 5, d->serial, d->serial_len);
	sqlite3_bind_int64(st, 6, d->created);
	return sq_exec(st);
}

static void row_device(sqlite3_stmt *st, struct store_device *d)
{
	memset(d, 0, sizeof(*d));
	sq_copy_text(d->id, sizeof(d->id), st, 0);
	sq_copy_text(d->user, sizeof(d->user), st, 1);
	sq_copy_text(d->name, sizeof(d->name), st, 2);
	sq_copy_fixed(d->fingerprint, sizeof(d->fingerprint), NULL, st, 3);
	sq_copy_fixed(d->serial, sizeof(d->serial), &d->serial_len, st, 4);
	d->created = sqlite3_column_int64(st, 5);
	d->revoked_at = sqlite3_column_int64(st, 6);
}

static int each_device(sqlite3_stmt *st, store_device_fn fn, void *arg)
{
	struct store_device d;
	int rc, stop = 0;

	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_device(st, &d);
		stop = fn(arg, &d);
	}
	sqlite3_reset(st);
	return stop != 0 ? stop : sq_map_rc(rc);
}

static int sq_device_list(struct store *s, const char *user,
			  store_device_fn fn, void *arg)
{
	struct store_sqlite *q = impl(s);
	sqlite3_stmt *st;

	if (user == NULL)
		return each_device(stmt(q, ST_DEVICE_LIST_ALL), fn, arg);
	st = stmt(q, ST_DEVICE_LIST_USER);
	sq_bind_text(st, 1, user);
	return each_device(st, fn, arg);
}

static int sq_device_list_active(struct store *s, store_device_fn fn,
				 void *arg)
{
	return each_device(stmt(impl(s), ST_DEVICE_LIST_ACTIVE), fn, arg);
}

static int sq_device_revoke(struct store *s, const char *id, int64_t now,
			    struct store_device *out)
{
	struct store_sqlite *q = impl(s);
	sqlite3_stmt *st = stmt(q, ST_DEVICE_REVOKE);
	int rc;

	sq_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = sq_exec(st)) != 0)
		return rc;
	if (sqlite3_changes(q->db) != 1)
		return BWD_ERR_NOT_FOUND; /* unknown or already revoked */
	st = stmt(q, ST_DEVICE_GET);
	sq_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_device(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : BWD_ERR_STORE;
}

/* ---- activation codes ---- */

static int sq_activation_add(struct store *s, const struct store_activation *a)
{
	sqlite3_stmt *st;
	struct store_user u;
	int rc;

	if ((rc = sq_user_get(s, a->user, &u)) != 0)
		return rc;
	if (u.disabled)
		return BWD_ERR_DISABLED;
	st = stmt(impl(s), ST_ACT_ADD);
	sq_bind_text(st, 1, a->code_id);
	sq_bind_text(st, 2, a->user);
	sq_bind_blob(st, 3, a->w0.p, a->w0.len);
	sq_bind_blob(st, 4, a->l.p, a->l.len);
	sq_bind_blob(st, 5, a->salt.p, a->salt.len);
	sq_bind_blob(st, 6, a->kdf_params.p, a->kdf_params.len);
	sqlite3_bind_int64(st, 7, a->created);
	sqlite3_bind_int64(st, 8, a->expires);
	return sq_exec(st);
}

static int row_activation(sqlite3_stmt *st, struct store_activation *a)
{
	sq_copy_text(a->user, sizeof(a->user), st, 0);
	sq_copy_text(a->code_id, sizeof(a->code_id), st, 1);
	if (sq_copy_blob(&a->w0, st, 2) != 0 || sq_copy_blob(&a->l, st, 3) != 0 ||
	    sq_copy_blob(&a->salt, st, 4) != 0 ||
	    sq_copy_blob(&a->kdf_params, st, 5) != 0)
		return BW_ERR_NOMEM;
	a->created = sqlite3_column_int64(st, 6);
	a->expires = sqlite3_column_int64(st, 7);
	a->attempts = (uint32_t)sqlite3_column_int64(st, 8);
	a->used = sqlite3_column_int(st, 9) != 0;
	return 0;
}

static int sq_activation_get(struct store *s, const char *user,
			     const char *code_id, struct store_activation *out)
{
	sqlite3_stmt *st = stmt(impl(s), ST_ACT_GET);
	struct store_activation a = { 0 };
	int rc, step;

	memset(out, 0, sizeof(*out));
	sq_bind_text(st, 1, code_id);
	sq_bind_text(st, 2, user);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = row_activation(st, &a);
	else
		rc = step == SQLITE_DONE ? BWD_ERR_NOT_FOUND : sq_map_rc(step);
	sqlite3_reset(st);
	if (rc != 0)
		goto out;
	*out = a;
	memset(&a, 0, sizeof(a)); /* transferred */
out:
	store_activation_clear(&a);
	return rc;
}

static int update_code(struct store *s, enum stmt_id id, const char *user,
		       const char *code_id)
{
	struct store_sqlite *q = impl(s);
	sqlite3_stmt *st = stmt(q, id);
	int rc;

	sq_bind_text(st, 1, code_id);
	sq_bind_text(st, 2, user);
	if ((rc = sq_exec(st)) != 0)
		return rc;
	return sqlite3_changes(q->db) == 1 ? 0 : BWD_ERR_NOT_FOUND;
}

static int sq_activation_count_attempt(struct store *s, const char *user,
				       const char *code_id)
{
	return update_code(s, ST_ACT_ATTEMPT, user, code_id);
}

static int sq_activation_mark_used(struct store *s, const char *user,
				   const char *code_id)
{
	return update_code(s, ST_ACT_USED, user, code_id);
}

/* ---- audit and counts ---- */

static int sq_audit_add(struct store *s, int64_t now, const char *actor,
			const char *action, const char *subject,
			const char *result)
{
	sqlite3_stmt *st = stmt(impl(s), ST_AUDIT_ADD);

	sqlite3_bind_int64(st, 1, now);
	sq_bind_text(st, 2, actor);
	sq_bind_text(st, 3, action);
	sq_bind_text(st, 4, subject);
	sq_bind_text(st, 5, result);
	return sq_exec(st);
}

static int count_rows(struct store_sqlite *q, enum stmt_id id, uint32_t *out)
{
	sqlite3_stmt *st = stmt(q, id);
	int rc = sqlite3_step(st);

	*out = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : BWD_ERR_STORE;
}

static int sq_counts(struct store *s, struct store_counts *out)
{
	struct store_sqlite *q = impl(s);
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = count_rows(q, ST_COUNT_USERS, &out->users)) != 0)
		return rc;
	return count_rows(q, ST_COUNT_DEVICES, &out->devices);
}

static int key_get(struct store_sqlite *q, const char *name,
		   struct bw_bytes *out)
{
	sqlite3_stmt *st = stmt(q, ST_KEY_GET);
	int rc;

	sq_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = sq_copy_blob(out, st, 0) == 0 ? 0 : BW_ERR_NOMEM;
	else
		rc = rc == SQLITE_DONE ? BWD_ERR_NOT_FOUND : BWD_ERR_STORE;
	sqlite3_reset(st);
	return rc;
}

static int sq_server_key(struct store *s, const char *name, size_t n,
			 struct bw_bytes *out)
{
	struct store_sqlite *q = impl(s);
	struct bw_bytes fresh = { 0 };
	sqlite3_stmt *st;
	int rc;

	if ((rc = key_get(q, name, out)) != BWD_ERR_NOT_FOUND)
		return rc;
	if ((rc = bw_bytes_alloc(&fresh, n)) != 0)
		return rc;
	if (RAND_priv_bytes(fresh.p, (int)n) != 1) {
		rc = BWD_ERR_STORE;
		goto out;
	}
	st = stmt(q, ST_KEY_PUT);
	sq_bind_text(st, 1, name);
	sq_bind_blob(st, 2, fresh.p, fresh.len);
	if ((rc = sq_exec(st)) != 0)
		goto out;
	bw_bytes_move(out, &fresh);
out:
	bw_bytes_clear(&fresh);
	return rc;
}

/* ---- open, migrate, close ---- */

static void sq_close(struct store *s)
{
	struct store_sqlite *q = impl(s);

	sq_checkpointer_stop(q);
	for (int i = 0; q->st != NULL && i < ST_COUNT; i++)
		sqlite3_finalize(q->st[i]);
	free(q->st);
	sq_ds_finalize(q);
	sqi_free(q->ix);
	sqlite3_close(q->db);
	if (q->wal_fd >= 0)
		close(q->wal_fd);
	free(q->wal_path);
	free(q);
}

static const struct store_ops sqlite_ops = {
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.savepoint = sq_savepoint,
	.release = sq_release,
	.rollback_to = sq_rollback_to,
	.between_batches = sq_between_batches,
	.in_batch = sq_in_batch,
	.defer_sync = sq_defer_sync,
	.sync = sq_sync,
	.user_add = sq_user_add,
	.user_get = sq_user_get,
	.user_disable = sq_user_disable,
	.user_list = sq_user_list,
	.device_add = sq_device_add,
	.device_list = sq_device_list,
	.device_list_active = sq_device_list_active,
	.device_revoke = sq_device_revoke,
	.activation_add = sq_activation_add,
	.activation_get = sq_activation_get,
	.activation_count_attempt = sq_activation_count_attempt,
	.activation_mark_used = sq_activation_mark_used,
	.audit_add = sq_audit_add,
	.counts = sq_counts,
	.server_key = sq_server_key,
};

static int schema_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return BWD_ERR_STORE;
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : BWD_ERR_STORE;
}

static int migrate_step(sqlite3 *db, int from)
{
	char pragma[48];

	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", from + 1);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return BWD_ERR_STORE;
	if (sqlite3_exec(db, migrations[from], NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return BWD_ERR_STORE;
	}
	return 0;
}

static int migrate(sqlite3 *db)
{
	int version, rc;

	if ((rc = schema_version(db, &version)) != 0)
		return rc;
	if (version > SCHEMA_VERSION)
		return BWD_ERR_SCHEMA;
	for (; version < SCHEMA_VERSION; version++)
		if ((rc = migrate_step(db, version)) != 0)
			return rc;
	return 0;
}

static int configure(sqlite3 *db)
{
	/* The delivery service's working set (the logs' last pages, the
	 * idempotency index, the cursors) stays in memory: a page cache of
	 * 64 MiB, and reads through a mapping instead of a copy. */
	static const char pragmas[] = "PRAGMA journal_mode = WAL;"
				      "PRAGMA synchronous = FULL;"
				      "PRAGMA foreign_keys = ON;"
				      "PRAGMA secure_delete = ON;"
				      "PRAGMA cache_size = -65536;"
				      "PRAGMA mmap_size = 268435456;";

	sqlite3_busy_timeout(db, 5000);
	return sqlite3_exec(db, pragmas, NULL, NULL, NULL) == SQLITE_OK
		       ? 0
		       : BWD_ERR_STORE;
}

int store_sqlite_open(const char *path, struct store **out)
{
	struct store_sqlite *q;
	int rc;

	*out = NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return BW_ERR_NOMEM;
	q->base.ops = &sqlite_ops;
	q->base.ds = &sq_ds_ops;
	q->wal_fd = -1;
	if ((q->wal_path = malloc(strlen(path) + 5)) == NULL) {
		rc = BW_ERR_NOMEM;
		goto out;
	}
	snprintf(q->wal_path, strlen(path) + 5, "%s-wal", path);
	if ((q->st = calloc(ST_COUNT, sizeof(*q->st))) == NULL) {
		rc = BW_ERR_NOMEM;
		goto out;
	}
	if (sqlite3_open_v2(path, &q->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = BWD_ERR_STORE;
		goto out;
	}
	if ((rc = configure(q->db)) != 0 || (rc = migrate(q->db)) != 0)
		goto out;
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(q->db, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &q->st[i],
				       NULL) != SQLITE_OK) {
			rc = BWD_ERR_STORE;
			goto out;
		}
	}
	if ((rc = sq_ds_prepare(q)) != 0 || (rc = sqi_new(&q->ix)) != 0 ||
	    (rc = sq_ds_load(q)) != 0 ||
	    (rc = sq_checkpointer_start(q, path)) != 0)
		goto out;
	*out = &q->base;
	q = NULL; /* transferred */
out:
	if (q != NULL)
		sq_close(&q->base);
	return rc;
}

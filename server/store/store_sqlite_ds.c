/*
 * store_sqlite_ds.c - the delivery service's storage on SQLite
 * (store_ds.h): key packages, groups and their logs, membership
 * intervals with cursors, inboxes, backlogs and retention.
 *
 * The hot path writes only the rightmost page of append-only tables: a
 * message is one INSERT into `messages` (rowids in arrival order, no
 * secondary index), an acknowledgement one INSERT into `acks`. What an
 * index on (gid, seq) and on the idempotency keys would give, and the
 * cursors, are kept in memory (store_sqlite_index.h), rebuilt at open by
 * one sequential scan; the cursors are folded into `members` in bulk, a
 * bounded slice per batch (docs/storage.md). Recipients are not written:
 * each device's queue is the log between its cursor and the end of its
 * membership.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "log.h"
#include "store_sqlite_index.h"
#include "store_sqlite_int.h"

const char SQ_DS_SCHEMA[] =
	"CREATE TABLE key_packages ("
	"  ref BLOB PRIMARY KEY,"
	"  device TEXT NOT NULL,"
	"  key_package BLOB,"               /* NULL once claimed */
	"  last_resort INTEGER NOT NULL,"
	"  not_after INTEGER NOT NULL,"
	"  uploaded INTEGER NOT NULL,"
	"  claimed INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX key_packages_stock ON key_packages"
	"  (device, last_resort, claimed, uploaded);"
	"CREATE TABLE groups ("
	"  gid INTEGER PRIMARY KEY,"
	"  group_id BLOB NOT NULL UNIQUE,"
	"  epoch INTEGER NOT NULL,"
	"  last_seq INTEGER NOT NULL,"
	"  view BLOB NOT NULL,"
	"  group_info BLOB NOT NULL,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE group_log ("
	"  gid INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  sender TEXT NOT NULL,"
	"  idem_key BLOB,"
	"  idem_hash BLOB,"
	"  epoch INTEGER NOT NULL,"
	"  payload BLOB NOT NULL,"
	"  PRIMARY KEY (gid, seq)) WITHOUT ROWID;"
	"CREATE UNIQUE INDEX group_log_keys ON group_log"
	"  (gid, sender, idem_key) WHERE idem_key IS NOT NULL;"
	"CREATE TABLE members ("
	"  gid INTEGER NOT NULL,"
	"  device TEXT NOT NULL,"
	"  joined_seq INTEGER NOT NULL,"    /* receives seq > joined_seq */
	"  left_seq INTEGER NOT NULL DEFAULT 0," /* 0: member; else <= it */
	"  acked_seq INTEGER NOT NULL,"
	"  PRIMARY KEY (gid, device, joined_seq)) WITHOUT ROWID;"
	"CREATE INDEX members_by_device ON members (device, gid, joined_seq);"
	"CREATE TABLE welcomes ("
	"  id INTEGER PRIMARY KEY,"
	"  time INTEGER NOT NULL,"
	"  payload BLOB NOT NULL);"
	"CREATE TABLE inboxes ("
	"  device TEXT PRIMARY KEY,"
	"  last_seq INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE inbox ("
	"  device TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  welcome INTEGER NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  PRIMARY KEY (device, seq)) WITHOUT ROWID;"
	"CREATE INDEX inbox_by_welcome ON inbox (welcome);"
	"CREATE INDEX inbox_by_time ON inbox (time);";

/* Migration 3: the log in arrival order, acknowledgements appended. The
 * old rows keep each group's seq order in their new rowids, which is
 * what the in-memory index relies on. */
const char SQ_LOG_SCHEMA[] =
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"          /* arrival order */
	"  gid INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  sender TEXT NOT NULL,"
	"  idem_key BLOB,"
	"  idem_hash BLOB,"
	"  epoch INTEGER NOT NULL,"
	"  payload BLOB NOT NULL);"
	"INSERT INTO messages (gid, seq, kind, time, sender, idem_key,"
	"  idem_hash, epoch, payload) SELECT gid, seq, kind, time, sender,"
	"  idem_key, idem_hash, epoch, payload FROM group_log"
	"  ORDER BY gid, seq;"
	"DROP TABLE group_log;"
	"CREATE TABLE acks ("
	"  id INTEGER PRIMARY KEY,"
	"  gid INTEGER NOT NULL,"
	"  device TEXT NOT NULL,"
	"  seq INTEGER NOT NULL);";

enum ds_stmt {
	DS_KP_ADD,
	DS_KP_RETIRE_LAST_RESORT,
	DS_KP_COUNT,
	DS_KP_OLDEST,
	DS_KP_MARK_CLAIMED,
	DS_KP_LAST_RESORT,
	DS_KP_OWNER,
	DS_GROUP_ADD,
	DS_GROUP_GET,
	DS_GROUP_GET_GID,
	DS_GROUP_UPDATE,
	DS_LOG_APPEND,
	DS_LOG_ROW_KEY,
	DS_LOG_ROW,
	DS_LOG_SCAN,
	DS_MEMBER_JOIN,
	DS_MEMBER_LEAVE,
	DS_MEMBER_ACKED,
	DS_ACK_ADD,
	DS_ACK_FOLD,
	DS_ACK_LAST,
	DS_ACK_TRIM,
	DS_ACK_SCAN,
	DS_DEVICE_GROUPS,
	DS_USER_GROUPS,
	DS_WELCOME_ADD,
	DS_INBOX_BUMP,
	DS_INBOX_LAST,
	DS_INBOX_ADD,
	DS_INBOX_ACK,
	DS_BACKLOG_INBOX,
	DS_BACKLOG_MEMBERS,
	DS_BACKLOG_GROUP_ID,
	DS_PURGE_GROUP_LAST,
	DS_PURGE_RANGE,
	DS_PURGE_OLD,
	DS_PURGE_CURSORS,
	DS_PURGE_ENDED,
	DS_PURGE_MEMBER,
	DS_PURGE_INBOX,
	DS_PURGE_WELCOMES,
	DS_PURGE_KEY_PACKAGES,
	DS_COUNT
};

static const char *const ds_sql[DS_COUNT] = {
	[DS_KP_ADD] = "INSERT INTO key_packages (ref, device, key_package, "
		      "last_resort, not_after, uploaded) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/* A replaced last-resort package keeps its ref (a Welcome may still
	 * name it) but is never handed out again. */
	[DS_KP_RETIRE_LAST_RESORT] =
		"UPDATE key_packages SET last_resort = 0, claimed = ?2, "
		"key_package = NULL WHERE device = ?1 AND last_resort = 1",
	[DS_KP_COUNT] = "SELECT count(*) FROM key_packages WHERE device = ?1 "
			"AND last_resort = 0 AND claimed = 0 "
			"AND not_after >= ?2",
	[DS_KP_OLDEST] = "SELECT ref, key_package FROM key_packages "
			 "WHERE device = ?1 AND last_resort = 0 "
			 "AND claimed = 0 AND not_after >= ?2 "
			 "ORDER BY uploaded, rowid LIMIT 1",
	[DS_KP_MARK_CLAIMED] = "UPDATE key_packages SET claimed = ?2, "
			       "key_package = NULL WHERE ref = ?1",
	[DS_KP_LAST_RESORT] = "SELECT key_package FROM key_packages "
			      "WHERE device = ?1 AND last_resort = 1 "
			      "AND not_after >= ?2",
	[DS_KP_OWNER] = "SELECT device FROM key_packages WHERE ref = ?1",
	[DS_GROUP_ADD] = "INSERT INTO groups (group_id, epoch, last_seq, view, "
			 "group_info, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[DS_GROUP_GET] = "SELECT gid, group_id, epoch, last_seq, view, "
			 "group_info, created FROM groups WHERE group_id = ?1",
	[DS_GROUP_GET_GID] = "SELECT gid, group_id, epoch, last_seq, view, "
			     "group_info, created FROM groups WHERE gid = ?1",
	[DS_GROUP_UPDATE] = "UPDATE groups SET epoch = ?2, last_seq = ?3, "
			    "view = ?4, group_info = coalesce(?5, group_info) "
			    "WHERE gid = ?1",
	[DS_LOG_APPEND] = "INSERT INTO messages (gid, seq, kind, time, "
			  "sender, idem_key, idem_hash, epoch, payload) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	/* A hit of the in-memory key hash, checked against its row. */
	[DS_LOG_ROW_KEY] = "SELECT gid, sender, idem_key, seq, epoch, "
			   "idem_hash FROM messages WHERE id = ?1",
	[DS_LOG_ROW] = "SELECT kind, time, payload FROM messages WHERE id = ?1",
	/* The index's rebuild: one pass in rowid order. */
	[DS_LOG_SCAN] = "SELECT id, gid, seq, sender, idem_key FROM messages "
			"ORDER BY id",
	[DS_MEMBER_JOIN] = "INSERT INTO members (gid, device, joined_seq, "
			   "acked_seq) VALUES (?1, ?2, ?3, ?3)",
	[DS_MEMBER_LEAVE] = "UPDATE members SET left_seq = ?3 WHERE gid = ?1 "
			    "AND device = ?2 AND left_seq = 0",
	/* NULL when the device never was a member. */
	[DS_MEMBER_ACKED] = "SELECT max(acked_seq) FROM members "
			    "WHERE gid = ?1 AND device = ?2",
	[DS_ACK_ADD] = "INSERT INTO acks (gid, device, seq) VALUES (?1, ?2, ?3)",
	[DS_ACK_FOLD] = "UPDATE members SET acked_seq = max(acked_seq, ?3) "
			"WHERE gid = ?1 AND device = ?2",
	[DS_ACK_LAST] = "SELECT coalesce(min(id), 1) - 1, coalesce(max(id), 0) "
			"FROM acks",
	[DS_ACK_TRIM] = "DELETE FROM acks WHERE id <= ?1",
	[DS_ACK_SCAN] = "SELECT gid, device, max(seq) FROM acks "
			"GROUP BY gid, device",
	[DS_DEVICE_GROUPS] = "SELECT gid FROM members WHERE device = ?1 "
			     "AND left_seq = 0 ORDER BY gid",
	[DS_USER_GROUPS] =
		"SELECT g.group_id, g.gid, g.epoch, max(m.device = ?2) "
		"FROM groups g JOIN members m ON m.gid = g.gid "
		"JOIN devices d ON d.id = m.device "
		"WHERE m.left_seq = 0 AND d.user = ?1 "
		"GROUP BY g.gid ORDER BY g.gid",
	[DS_WELCOME_ADD] = "INSERT INTO welcomes (time, payload) "
			   "VALUES (?1, ?2)",
	[DS_INBOX_BUMP] = "INSERT INTO inboxes (device, last_seq) "
			  "VALUES (?1, 1) ON CONFLICT (device) DO UPDATE SET "
			  "last_seq = last_seq + 1",
	[DS_INBOX_LAST] = "SELECT last_seq FROM inboxes WHERE device = ?1",
	[DS_INBOX_ADD] = "INSERT INTO inbox (device, seq, welcome, time) "
			 "VALUES (?1, ?2, ?3, ?4)",
	[DS_INBOX_ACK] = "DELETE FROM inbox WHERE device = ?1 AND seq <= ?2",
	[DS_BACKLOG_INBOX] =
		"SELECT i.seq, i.time, w.payload FROM inbox i "
		"JOIN welcomes w ON w.id = i.welcome "
		"WHERE i.device = ?1 AND i.seq > ?2 ORDER BY i.seq LIMIT ?3",
	/* A device's memberships that may have something left to read (the
	 * cursor in memory may be ahead of acked_seq), in the order of a
	 * key; each one's range of the log is then read by rowid. */
	[DS_BACKLOG_MEMBERS] =
		"SELECT gid, max(joined_seq, acked_seq), left_seq, acked_seq "
		"FROM members WHERE device = ?1 AND gid >= ?2 AND "
		"(left_seq = 0 OR acked_seq < left_seq) "
		"ORDER BY gid, joined_seq",
	/* Only for a membership with something to read: a login with
	 * nothing waiting touches no group row. */
	[DS_BACKLOG_GROUP_ID] = "SELECT group_id FROM groups WHERE gid = ?1",
	/* A group whose log empties remembers its last seq. */
	[DS_PURGE_GROUP_LAST] = "UPDATE groups SET last_seq = "
				"max(last_seq, ?2) WHERE gid = ?1",
	[DS_PURGE_RANGE] = "DELETE FROM messages WHERE id BETWEEN ?1 AND ?2",
	[DS_PURGE_OLD] = "SELECT gid, seq FROM messages WHERE time < ?1 "
			 "ORDER BY id LIMIT ?2",
	[DS_PURGE_CURSORS] = "SELECT gid, device, joined_seq, left_seq, "
			     "acked_seq FROM members",
	[DS_PURGE_ENDED] = "SELECT gid, device, joined_seq, left_seq, "
			   "acked_seq FROM members WHERE left_seq != 0",
	[DS_PURGE_MEMBER] = "DELETE FROM members WHERE gid = ?1 AND "
			    "device = ?2 AND joined_seq = ?3",
	[DS_PURGE_INBOX] = "DELETE FROM inbox WHERE (device, seq) IN ("
			   "SELECT device, seq FROM inbox WHERE time < ?1 "
			   "LIMIT ?2)",
	[DS_PURGE_WELCOMES] = "DELETE FROM welcomes WHERE id IN (SELECT id "
			      "FROM welcomes w WHERE NOT EXISTS (SELECT 1 "
			      "FROM inbox i WHERE i.welcome = w.id) LIMIT ?1)",
	[DS_PURGE_KEY_PACKAGES] =
		"DELETE FROM key_packages WHERE ref IN (SELECT ref FROM "
		"key_packages WHERE (claimed = 0 AND not_after < ?1) OR "
		"(claimed != 0 AND claimed < ?2) LIMIT ?3)",
};

static struct store_sqlite *impl(struct store *s)
{
	return (struct store_sqlite *)s;
}

static sqlite3_stmt *ds(struct store *s, enum ds_stmt id)
{
	return sq_ready(impl(s)->ds[id]);
}

static int64_t i64(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

int sq_ds_prepare(struct store_sqlite *q)
{
	if ((q->ds = calloc(DS_COUNT, sizeof(*q->ds))) == NULL)
		return BW_ERR_NOMEM;
	for (int i = 0; i < DS_COUNT; i++)
		if (sqlite3_prepare_v3(q->db, ds_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &q->ds[i],
				       NULL) != SQLITE_OK)
			return BWD_ERR_STORE;
	return 0;
}

void sq_ds_reset(struct store_sqlite *q)
{
	for (int i = 0; q->ds != NULL && i < DS_COUNT; i++)
		sqlite3_reset(q->ds[i]);
}

void sq_ds_finalize(struct store_sqlite *q)
{
	sq_fold_cancel(q);
	for (int i = 0; q->ds != NULL && i < DS_COUNT; i++)
		sqlite3_finalize(q->ds[i]);
	free(q->ds);
	q->ds = NULL;
}

void store_group_clear(struct store_group *g)
{
	bw_bytes_clear(&g->group_id);
	bw_bytes_clear(&g->view);
	bw_bytes_clear(&g->group_info);
	memset(g, 0, sizeof(*g));
}

/* One row of one column as an unsigned integer; *found tells whether a
 * row came. */
static int one_u64(sqlite3_stmt *st, uint64_t *out, bool *found)
{
	int rc = sqlite3_step(st);

	*found = rc == SQLITE_ROW;
	*out = *found ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : BWD_ERR_STORE;
}

static int changed(struct store *s, int rc)
{
	if (rc != 0)
		return rc;
	return sqlite3_changes(impl(s)->db) > 0 ? 0 : BWD_ERR_NOT_FOUND;
}

/* ---- key packages ---- */

static int kp_add(struct store *s, const struct store_kp *kp)
{
	sqlite3_stmt *st;
	int rc;

	if (kp->last_resort) {
		st = ds(s, DS_KP_RETIRE_LAST_RESORT);
		sq_bind_text(st, 1, kp->device);
		sqlite3_bind_int64(st, 2, kp->uploaded);
		if ((rc = sq_exec(st)) != 0)
			return rc;
	}
	st = ds(s, DS_KP_ADD);
	sq_bind_blob(st, 1, kp->ref, kp->ref_len);
	sq_bind_text(st, 2, kp->device);
	sq_bind_blob(st, 3, kp->key_package, kp->key_package_len);
	sqlite3_bind_int(st, 4, kp->last_resort ? 1 : 0);
	sqlite3_bind_int64(st, 5, kp->not_after);
	sqlite3_bind_int64(st, 6, kp->uploaded);
	return sq_exec(st);
}

static int kp_count(struct store *s, const char *device, int64_t now,
		    uint32_t *available)
{
	sqlite3_stmt *st = ds(s, DS_KP_COUNT);
	uint64_t n;
	bool found;
	int rc;

	sq_bind_text(st, 1, device);
	sqlite3_bind_int64(st, 2, now);
	rc = one_u64(st, &n, &found);
	*available = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	return rc;
}

static int kp_last_resort(struct store *s, const char *device, int64_t now,
			  struct bw_bytes *out)
{
	sqlite3_stmt *st = ds(s, DS_KP_LAST_RESORT);
	int rc;

	sq_bind_text(st, 1, device);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = sq_copy_blob(out, st, 0);
	else
		rc = rc == SQLITE_DONE ? BWD_ERR_NOT_FOUND : BWD_ERR_STORE;
	sqlite3_reset(st);
	return rc;
}

static int kp_claim(struct store *s, const char *device, int64_t now,
		    struct bw_bytes *key_package)
{
	sqlite3_stmt *st = ds(s, DS_KP_OLDEST);
	uint8_t ref[STORE_MAX_REF];
	size_t ref_len = 0;
	int rc;

	sq_bind_text(st, 1, device);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ref_len = (size_t)sqlite3_column_bytes(st, 0);
		if (ref_len > sizeof(ref))
			ref_len = 0;
		memcpy(ref, sqlite3_column_blob(st, 0), ref_len);
		rc = sq_copy_blob(key_package, st, 1);
	} else {
		rc = rc == SQLITE_DONE ? BWD_ERR_NOT_FOUND : BWD_ERR_STORE;
	}
	sqlite3_reset(st);
	if (rc == BWD_ERR_NOT_FOUND)
		return kp_last_resort(s, device, now, key_package);
	if (rc != 0 || ref_len == 0)
		return rc != 0 ? rc : BWD_ERR_STORE;
	st = ds(s, DS_KP_MARK_CLAIMED);
	sq_bind_blob(st, 1, ref, ref_len);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = sq_exec(st)) != 0)
		bw_bytes_clear(key_package);
	return rc;
}

static int kp_owner(struct store *s, const uint8_t *ref, size_t ref_len,
		    char *device, size_t size)
{
	sqlite3_stmt *st = ds(s, DS_KP_OWNER);
	int rc;

	sq_bind_blob(st, 1, ref, ref_len);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		sq_copy_text(device, size, st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return BWD_ERR_NOT_FOUND;
	return sq_map_rc(rc);
}

/* ---- groups ---- */

static int group_add(struct store *s, const struct store_group *g,
		     int64_t *gid)
{
	sqlite3_stmt *st = ds(s, DS_GROUP_ADD);
	int rc;

	sq_bind_blob(st, 1, g->group_id.p, g->group_id.len);
	sqlite3_bind_int64(st, 2, i64(g->epoch));
	sqlite3_bind_int64(st, 3, i64(g->last_seq));
	sq_bind_blob(st, 4, g->view.p, g->view.len);
	sq_bind_blob(st, 5, g->group_info.p, g->group_info.len);
	sqlite3_bind_int64(st, 6, g->created);
	if ((rc = sq_exec(st)) == 0)
		*gid = sqlite3_last_insert_rowid(impl(s)->db);
	return rc;
}

static int row_group(sqlite3_stmt *st, struct store_group *g)
{
	g->gid = sqlite3_column_int64(st, 0);
	g->epoch = (uint64_t)sqlite3_column_int64(st, 2);
	g->last_seq = (uint64_t)sqlite3_column_int64(st, 3);
	g->created = sqlite3_column_int64(st, 6);
	if (sq_copy_blob(&g->group_id, st, 1) != 0 ||
	    sq_copy_blob(&g->view, st, 4) != 0 ||
	    sq_copy_blob(&g->group_info, st, 5) != 0)
		return BW_ERR_NOMEM;
	return 0;
}

static int get_group(sqlite3_stmt *st, struct store_group *out)
{
	struct store_group g = { 0 };
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		rc = row_group(st, &g);
	else
		rc = rc == SQLITE_DONE ? BWD_ERR_NOT_FOUND : BWD_ERR_STORE;
	sqlite3_reset(st);
	if (rc != 0) {
		store_group_clear(&g);
		return rc;
	}
	*out = g;
	return 0;
}

static int group_get(struct store *s, const uint8_t *group_id, size_t len,
		     struct store_group *out)
{
	sqlite3_stmt *st = ds(s, DS_GROUP_GET);

	sq_bind_blob(st, 1, group_id, len);
	return get_group(st, out);
}

static int group_get_gid(struct store *s, int64_t gid,
			 struct store_group *out)
{
	sqlite3_stmt *st = ds(s, DS_GROUP_GET_GID);

	sqlite3_bind_int64(st, 1, gid);
	return get_group(st, out);
}

static int group_update(struct store *s, int64_t gid, uint64_t epoch,
			uint64_t last_seq, const struct bw_bytes *view,
			const struct bw_bytes *group_info)
{
	sqlite3_stmt *st = ds(s, DS_GROUP_UPDATE);

	sqlite3_bind_int64(st, 1, gid);
	sqlite3_bind_int64(st, 2, i64(epoch));
	sqlite3_bind_int64(st, 3, i64(last_seq));
	sq_bind_blob(st, 4, view->p, view->len);
	if (group_info != NULL)
		sq_bind_blob(st, 5, group_info->p, group_info->len);
	return changed(s, sq_exec(st));
}

/* Changes to the index are journaled while a transaction is open. */
static bool in_tx(struct store *s)
{
	return !sqlite3_get_autocommit(impl(s)->db);
}

static int log_last_seq(struct store *s, int64_t gid, uint64_t *seq)
{
	struct sq_glog *g = sqi_glog(impl(s)->ix, gid);

	*seq = g != NULL ? g->last : 0;
	return 0;
}

/* Looking for a key's row among the index's hits. */
struct key_search {
	struct store *s;
	int64_t gid;
	const char *sender;
	const uint8_t *key;
	struct store_idem *out;
	int rc;
};

/* 1 when rowid holds the key (out filled), 0 to look on. */
static int key_row(void *arg, int64_t rowid)
{
	struct key_search *k = arg;
	sqlite3_stmt *st = ds(k->s, DS_LOG_ROW_KEY);
	const char *sender;
	int rc, found = 0;

	sqlite3_bind_int64(st, 1, rowid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sender = (const char *)sqlite3_column_text(st, 1);
		found = sqlite3_column_int64(st, 0) == k->gid &&
			sender != NULL && strcmp(sender, k->sender) == 0 &&
			sqlite3_column_bytes(st, 2) ==
				PROTO_IDEMPOTENCY_KEY_LEN &&
			memcmp(sqlite3_column_blob(st, 2), k->key,
			       PROTO_IDEMPOTENCY_KEY_LEN) == 0;
		if (found && k->out != NULL) {
			k->out->seq = (uint64_t)sqlite3_column_int64(st, 3);
			k->out->epoch = (uint64_t)sqlite3_column_int64(st, 4);
			if (sqlite3_column_bytes(st, 5) == STORE_HASH_LEN)
				memcpy(k->out->hash,
				       sqlite3_column_blob(st, 5),
				       STORE_HASH_LEN);
		}
	} else if (rc != SQLITE_DONE) {
		k->rc = BWD_ERR_STORE;
		found = 1;
	}
	sqlite3_reset(st);
	return found;
}

/* 0 if found (out may be NULL), BWD_ERR_NOT_FOUND, or a failure. */
static int find_key(struct store *s, int64_t gid, const char *sender,
		    const uint8_t *key, uint64_t h, struct store_idem *out)
{
	struct key_search k = { s, gid, sender, key, out, 0 };

	if (sqi_key_each(impl(s)->ix, h, key_row, &k) == 0)
		return BWD_ERR_NOT_FOUND;
	return k.rc;
}

static int log_append(struct store *s, const struct store_log_entry *e)
{
	struct store_sqlite *q = impl(s);
	struct sq_glog *g;
	sqlite3_stmt *st;
	uint64_t h = 0;
	int rc;

	if (e->idem_key != NULL) {
		h = sqi_key_hash(q->ix, e->gid, e->sender, e->idem_key);
		rc = find_key(s, e->gid, e->sender, e->idem_key, h, NULL);
		if (rc != BWD_ERR_NOT_FOUND)
			return rc == 0 ? BWD_ERR_EXISTS : rc;
	}
	g = sqi_glog(q->ix, e->gid);
	if (g != NULL && sqi_count(g) > 0 && e->seq <= g->last)
		return BWD_ERR_EXISTS; /* (gid, seq) is taken */
	st = ds(s, DS_LOG_APPEND);
	sqlite3_bind_int64(st, 1, e->gid);
	sqlite3_bind_int64(st, 2, i64(e->seq));
	sqlite3_bind_int(st, 3, e->kind);
	sqlite3_bind_int64(st, 4, e->time);
	sq_bind_text(st, 5, e->sender);
	if (e->idem_key != NULL) {
		sq_bind_blob(st, 6, e->idem_key, PROTO_IDEMPOTENCY_KEY_LEN);
		sq_bind_blob(st, 7, e->idem_hash, STORE_HASH_LEN);
	}
	sqlite3_bind_int64(st, 8, i64(e->epoch));
	sq_bind_blob(st, 9, e->payload, e->payload_len);
	if ((rc = sq_exec(st)) != 0)
		return rc;
	rc = sqi_append(q->ix, e->gid, e->seq, sqlite3_last_insert_rowid(q->db),
			h, in_tx(s));
	/* Outside a transaction the row is committed already: the index
	 * must follow it, or be rebuilt. */
	if (rc != 0 && !in_tx(s))
		(void)sq_ds_load(q);
	return rc;
}

static int log_find_key(struct store *s, int64_t gid, const char *sender,
			const uint8_t *key, struct store_idem *out)
{
	memset(out, 0, sizeof(*out));
	return find_key(s, gid, sender, key,
			sqi_key_hash(impl(s)->ix, gid, sender, key), out);
}

/* ---- membership ---- */

static int member_join(struct store *s, int64_t gid, const char *device,
		       uint64_t joined_seq)
{
	sqlite3_stmt *st = ds(s, DS_MEMBER_JOIN);

	sqlite3_bind_int64(st, 1, gid);
	sq_bind_text(st, 2, device);
	sqlite3_bind_int64(st, 3, i64(joined_seq));
	return sq_exec(st);
}

static int member_leave(struct store *s, int64_t gid, const char *device,
			uint64_t left_seq)
{
	sqlite3_stmt *st = ds(s, DS_MEMBER_LEAVE);

	sqlite3_bind_int64(st, 1, gid);
	sq_bind_text(st, 2, device);
	sqlite3_bind_int64(st, 3, i64(left_seq));
	return changed(s, sq_exec(st));
}

/* The device's cursor in the group, from the index or members;
 * BWD_ERR_NOT_FOUND if it never was a member. */
static int cursor_of(struct store *s, int64_t gid, const char *device,
		     struct sq_ack **out)
{
	struct store_sqlite *q = impl(s);
	sqlite3_stmt *st;
	uint64_t stored = 0;
	bool member = false;
	int rc;

	if ((*out = sqi_ack(q->ix, gid, device)) != NULL)
		return 0;
	st = ds(s, DS_MEMBER_ACKED);
	sqlite3_bind_int64(st, 1, gid);
	sq_bind_text(st, 2, device);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		member = true;
		stored = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return BWD_ERR_STORE;
	if (!member)
		return BWD_ERR_NOT_FOUND;
	return sqi_ack_add(q->ix, gid, device, stored, in_tx(s), out);
}

/* One appended row, whatever the size of the members table: the cursor
 * in memory is authoritative until folded (sq_ds_in_batch). */
static int member_ack(struct store *s, int64_t gid, const char *device,
		      uint64_t seq)
{
	struct sq_ack *a;
	sqlite3_stmt *st;
	int rc;

	if ((rc = cursor_of(s, gid, device, &a)) != 0)
		return rc;
	if (seq <= a->acked)
		return 0; /* cumulative: nothing new */
	st = ds(s, DS_ACK_ADD);
	sqlite3_bind_int64(st, 1, gid);
	sq_bind_text(st, 2, device);
	sqlite3_bind_int64(st, 3, i64(seq));
	if ((rc = sq_exec(st)) != 0)
		return rc;
	/* Only a journal without memory fails, inside a transaction: the
	 * job's savepoint then takes the row back. */
	return sqi_ack_set(impl(s)->ix, a, seq, in_tx(s));
}

/* Only in memory: the fold writes the cursor to members with the others,
 * in a batch's transaction, and the journal undoes it with the batch. */
static int member_pass_own(struct store *s, int64_t gid, const char *device,
			   uint64_t seq)
{
	struct sq_ack *a;
	int rc;

	if ((rc = cursor_of(s, gid, device, &a)) != 0)
		return rc;
	if (a->acked + 1 != seq)
		return 0; /* behind: its backlog brings the message */
	return sqi_ack_set(impl(s)->ix, a, seq, in_tx(s));
}

/* The cursor of a members row with the index's cursor a on top. */
static uint64_t acked_over(const struct sq_ack *a, uint64_t row)
{
	return a != NULL && a->acked > row ? a->acked : row;
}

/* The cursor of a members row with what the index knows on top. */
static uint64_t acked_now(struct store *s, int64_t gid, const char *device,
			  uint64_t row)
{
	return acked_over(sqi_ack(impl(s)->ix, gid, device), row);
}

static int device_groups(struct store *s, const char *device,
			 store_gid_fn fn, void *arg)
{
	sqlite3_stmt *st = ds(s, DS_DEVICE_GROUPS);
	int rc, stop = 0;

	sq_bind_text(st, 1, device);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = fn(arg, sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	return stop != 0 ? stop : sq_map_rc(rc);
}

static int user_groups(struct store *s, const char *user, const char *device,
		       store_user_group_fn fn, void *arg)
{
	sqlite3_stmt *st = ds(s, DS_USER_GROUPS);
	struct store_user_group g;
	int rc, stop = 0;

	sq_bind_text(st, 1, user);
	sq_bind_text(st, 2, device);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		g.group_id = sqlite3_column_blob(st, 0);
		g.group_id_len = (size_t)sqlite3_column_bytes(st, 0);
		g.gid = sqlite3_column_int64(st, 1);
		g.epoch = (uint64_t)sqlite3_column_int64(st, 2);
		g.member = sqlite3_column_int(st, 3) != 0;
		stop = fn(arg, &g);
	}
	sqlite3_reset(st);
	return stop != 0 ? stop : sq_map_rc(rc);
}

/* ---- inbox ---- */

static int welcome_add(struct store *s, int64_t now, const uint8_t *p,
		       size_t n, int64_t *welcome_id)
{
	sqlite3_stmt *st = ds(s, DS_WELCOME_ADD);
	int rc;

	sqlite3_bind_int64(st, 1, now);
	sq_bind_blob(st, 2, p, n);
	if ((rc = sq_exec(st)) == 0)
		*welcome_id = sqlite3_last_insert_rowid(impl(s)->db);
	return rc;
}

static int inbox_last(struct store *s, const char *device, uint64_t *seq)
{
	sqlite3_stmt *st = ds(s, DS_INBOX_LAST);
	bool found;

	sq_bind_text(st, 1, device);
	return one_u64(st, seq, &found);
}

static int inbox_add(struct store *s, const char *device, int64_t welcome_id,
		     int64_t now, uint64_t *seq)
{
	sqlite3_stmt *st = ds(s, DS_INBOX_BUMP);
	int rc;

	sq_bind_text(st, 1, device);
	if ((rc = sq_exec(st)) != 0 || (rc = inbox_last(s, device, seq)) != 0)
		return rc;
	st = ds(s, DS_INBOX_ADD);
	sq_bind_text(st, 1, device);
	sqlite3_bind_int64(st, 2, i64(*seq));
	sqlite3_bind_int64(st, 3, welcome_id);
	sqlite3_bind_int64(st, 4, now);
	return sq_exec(st);
}

static int inbox_ack(struct store *s, const char *device, uint64_t seq)
{
	sqlite3_stmt *st = ds(s, DS_INBOX_ACK);

	sq_bind_text(st, 1, device);
	sqlite3_bind_int64(st, 2, i64(seq));
	return sq_exec(st);
}

/* ---- backlog ---- */

static int backlog_inbox(struct store *s, const char *device,
			 struct store_cursor *c, uint32_t max,
			 store_backlog_fn fn, void *arg, uint32_t *n)
{
	sqlite3_stmt *st = ds(s, DS_BACKLOG_INBOX);
	struct store_backlog_msg m = { .kind = PROTO_DELIVER_WELCOME };
	int rc, stop = 0;

	sq_bind_text(st, 1, device);
	sqlite3_bind_int64(st, 2, i64(c->inbox_seq));
	sqlite3_bind_int64(st, 3, max);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		m.seq = (uint64_t)sqlite3_column_int64(st, 0);
		m.time = sqlite3_column_int64(st, 1);
		m.payload = sqlite3_column_blob(st, 2);
		m.payload_len = (size_t)sqlite3_column_bytes(st, 2);
		c->inbox_seq = m.seq;
		(*n)++;
		stop = fn(arg, &m);
	}
	sqlite3_reset(st);
	return stop != 0 ? stop : sq_map_rc(rc);
}

/* One membership interval still to read. */
struct interval {
	int64_t gid;
	uint64_t after, until;
	uint8_t group_id[PROTO_MAX_GROUP_ID];
	size_t group_id_len;
};

/* The group's id into iv; 0, BWD_ERR_NOT_FOUND or BWD_ERR_STORE. */
static int interval_group_id(struct store *s, struct interval *iv)
{
	sqlite3_stmt *st = ds(s, DS_BACKLOG_GROUP_ID);
	int rc;

	sqlite3_bind_int64(st, 1, iv->gid);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		sq_copy_fixed(iv->group_id, sizeof(iv->group_id),
			      &iv->group_id_len, st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW    ? 0
	       : rc == SQLITE_DONE ? BWD_ERR_NOT_FOUND
				   : BWD_ERR_STORE;
}

/* Whether the group's log, as the index has it, holds anything after. */
static bool log_has_after(struct store *s, int64_t gid, uint64_t after)
{
	const struct sq_glog *g = sqi_glog(impl(s)->ix, gid);

	return g != NULL && sqi_count(g) > 0 && g->last > after;
}

/* A group's membership rows as they go by, for warm_cursor. */
struct warm {
	int64_t gid;
	uint64_t acked; /* its row's acked_seq */
	uint32_t rows;
	bool cached;    /* the index has its cursor already */
	bool due;       /* something of the group is about to be read */
};

/* The cursor of a group about to be read goes into the index now: the
 * device's acknowledgements of what it reads then find it there rather
 * than query members once per group (scenario B's drain). Only for a
 * device in the group once (one row), whose cursor is that row's, so
 * that the intervals read are the same either way; and only a help:
 * without it, the acknowledgement looks the cursor up itself. */
static void warm_cursor(struct store *s, const char *device,
			const struct warm *w)
{
	struct sq_ack *a;

	if (w->due && w->rows == 1 && !w->cached)
		(void)sqi_ack_add(impl(s)->ix, w->gid, device, w->acked,
				  in_tx(s), &a);
}

static void warm_row(struct store *s, const char *device, struct warm *w,
		     int64_t gid, uint64_t acked, bool cached)
{
	if (gid == w->gid) {
		w->rows++;
		return;
	}
	warm_cursor(s, device, w);
	*w = (struct warm){ .gid = gid, .acked = acked, .rows = 1,
			    .cached = cached };
}

/* The device's intervals with something to read, from the cursor's
 * group on, with the cursors in memory on top of members'. */
static int intervals(struct store *s, const char *device, int64_t from,
		     struct interval **out, size_t *n)
{
	sqlite3_stmt *st = ds(s, DS_BACKLOG_MEMBERS);
	struct interval *v = NULL, *grown, *iv;
	struct warm w = { 0 };
	size_t cap = 0;
	int rc, err = 0;

	*n = 0;
	sq_bind_text(st, 1, device);
	sqlite3_bind_int64(st, 2, from);
	while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t gid = sqlite3_column_int64(st, 0);
		const struct sq_ack *a = sqi_ack(impl(s)->ix, gid, device);
		uint64_t after = acked_over(
			a, (uint64_t)sqlite3_column_int64(st, 1));
		uint64_t until = (uint64_t)sqlite3_column_int64(st, 2);

		warm_row(s, device, &w, gid,
			 (uint64_t)sqlite3_column_int64(st, 3), a != NULL);
		if (until == 0)
			until = INT64_MAX;
		if (after >= until || !log_has_after(s, gid, after))
			continue; /* read to its end, or nothing there */
		w.due = true;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grown = realloc(v, cap * sizeof(*v))) == NULL) {
				err = BW_ERR_NOMEM;
				break;
			}
			v = grown;
		}
		iv = &v[*n];
		*iv = (struct interval){ .gid = gid, .after = after,
					 .until = until };
		if ((err = interval_group_id(s, iv)) == 0)
			(*n)++;
	}
	sqlite3_reset(st);
	warm_cursor(s, device, &w);
	*out = v;
	if (err != 0)
		return err == BWD_ERR_NOT_FOUND ? BWD_ERR_STORE : err;
	return rc == SQLITE_DONE ? 0 : BWD_ERR_STORE;
}

/* One message by rowid into m; 0, or BWD_ERR_STORE. */
static int read_row(struct store *s, int64_t rowid, store_backlog_fn fn,
		    void *arg, struct store_backlog_msg *m, int *stop)
{
	sqlite3_stmt *st = ds(s, DS_LOG_ROW);
	int rc;

	sqlite3_bind_int64(st, 1, rowid);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		m->kind = (uint8_t)sqlite3_column_int(st, 0);
		m->time = sqlite3_column_int64(st, 1);
		m->payload = sqlite3_column_blob(st, 2);
		m->payload_len = (size_t)sqlite3_column_bytes(st, 2);
		*stop = fn(arg, m);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : BWD_ERR_STORE;
}

/* Up to max messages of one interval after the cursor: rowids from the
 * group's index, each row read by its key. */
static int read_range(struct store *s, const struct interval *iv,
		      struct store_cursor *c, uint32_t max,
		      store_backlog_fn fn, void *arg, uint32_t *n)
{
	const struct sq_glog *g = sqi_glog(impl(s)->ix, iv->gid);
	uint64_t after = iv->after, seq, end;
	struct store_backlog_msg m = { .group_id = iv->group_id,
				       .group_id_len = iv->group_id_len,
				       .gid = iv->gid };
	uint32_t taken = 0;
	int64_t rowid;
	int rc = 0, stop = 0;

	if (g == NULL || sqi_count(g) == 0)
		return 0;
	if (iv->gid == c->gid && c->seq > after)
		after = c->seq;
	seq = after + 1 > sqi_first(g) ? after + 1 : sqi_first(g);
	end = iv->until < g->last ? iv->until : g->last;
	for (; seq <= end && taken < max && rc == 0 && stop == 0; seq++) {
		if ((rowid = sqi_rowid(g, seq)) == 0)
			continue;
		m.seq = seq;
		c->gid = m.gid;
		c->seq = seq;
		taken++;
		(*n)++;
		rc = read_row(s, rowid, fn, arg, &m, &stop);
	}
	return rc != 0 ? rc : stop;
}

static int backlog_groups(struct store *s, const char *device,
			  struct store_cursor *c, uint32_t max,
			  store_backlog_fn fn, void *arg, uint32_t *n)
{
	struct interval *v = NULL;
	size_t count = 0;
	int rc;

	if ((rc = intervals(s, device, c->gid, &v, &count)) != 0)
		goto out;
	for (size_t i = 0; rc == 0 && i < count && *n < max; i++)
		rc = read_range(s, &v[i], c, max - *n, fn, arg, n);
out:
	free(v);
	return rc;
}

static int backlog(struct store *s, const char *device,
		   struct store_cursor *cursor, uint32_t max,
		   store_backlog_fn fn, void *arg, bool *more)
{
	uint32_t n = 0;
	int rc;

	*more = true;
	if (!cursor->in_groups) {
		if ((rc = backlog_inbox(s, device, cursor, max, fn, arg,
					&n)) != 0)
			return rc;
		if (n == max)
			return 0;
		cursor->in_groups = true;
	}
	if ((rc = backlog_groups(s, device, cursor, max, fn, arg, &n)) !=
	    0)
		return rc;
	*more = n == max;
	return 0;
}

/* ---- retention ---- */

static int purge_step(struct store *s, enum ds_stmt id, int64_t a, int64_t b,
		      int64_t c, int nargs, uint64_t *deleted)
{
	sqlite3_stmt *st = ds(s, id);
	int rc;

	if (nargs > 0)
		sqlite3_bind_int64(st, 1, a);
	if (nargs > 1)
		sqlite3_bind_int64(st, 2, b);
	if (nargs > 2)
		sqlite3_bind_int64(st, 3, c);
	if ((rc = sq_exec(st)) == 0)
		*deleted += (uint64_t)sqlite3_changes(impl(s)->db);
	return rc;
}

/* What one purge drops from the log: the rowids, and each group's
 * prefix up to a seq. */
struct drop {
	int64_t *rowids;
	size_t n, cap;
	struct { int64_t gid; uint64_t upto; } *to;
	size_t n_to, cap_to;
};

static int drop_upto(struct drop *d, int64_t gid, uint64_t upto)
{
	void *p;

	if (d->n_to == d->cap_to) {
		d->cap_to = d->cap_to ? 2 * d->cap_to : 64;
		if ((p = realloc(d->to, d->cap_to * sizeof(*d->to))) == NULL)
			return BW_ERR_NOMEM;
		d->to = p;
	}
	d->to[d->n_to].gid = gid;
	d->to[d->n_to++].upto = upto;
	return 0;
}

static int cmp_rowid(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Drop the prefixes from the index, then their rows from the table in
 * runs of consecutive rowids (arrival order: mostly long runs). */
static int drop_apply(struct store *s, struct drop *d, uint64_t limit,
		      uint64_t *deleted)
{
	struct sq_index *ix = impl(s)->ix;
	uint64_t budget = limit, emptied;
	struct sq_glog *g;
	sqlite3_stmt *st;
	size_t i, j;
	int rc = 0;

	d->n = 0;
	for (i = 0; rc == 0 && i < d->n_to && budget > 0; i++) {
		if ((g = sqi_glog(ix, d->to[i].gid)) == NULL)
			continue;
		rc = sqi_drop_prefix(ix, g, d->to[i].upto, &budget, &d->rowids,
				     &d->n, &d->cap, &emptied);
		if (rc == 0 && emptied != 0) {
			st = ds(s, DS_PURGE_GROUP_LAST);
			sqlite3_bind_int64(st, 1, d->to[i].gid);
			sqlite3_bind_int64(st, 2, i64(emptied));
			rc = sq_exec(st);
		}
	}
	if (d->n > 1)
		qsort(d->rowids, d->n, sizeof(*d->rowids), cmp_rowid);
	for (i = 0; rc == 0 && i < d->n; i = j) {
		for (j = i + 1; j < d->n && d->rowids[j] == d->rowids[j - 1] + 1;
		     j++)
			;
		st = ds(s, DS_PURGE_RANGE);
		sqlite3_bind_int64(st, 1, d->rowids[i]);
		sqlite3_bind_int64(st, 2, d->rowids[j - 1]);
		if ((rc = sq_exec(st)) == 0)
			*deleted += (uint64_t)sqlite3_changes(impl(s)->db);
	}
	d->n_to = 0;
	return rc;
}

/* Each group's floor: the lowest cursor of a device still due. */
struct floors {
	struct drop *d;
	int rc;
};

static void floor_init(void *arg, struct sq_glog *g)
{
	(void)arg;
	g->floor = g->last;
}

static void floor_collect(void *arg, struct sq_glog *g)
{
	struct floors *f = arg;

	if (f->rc == 0 && g->floor >= sqi_first(g))
		f->rc = drop_upto(f->d, g->gid, g->floor);
}

static int purge_acked(struct store *s, struct drop *d, uint64_t limit,
		       uint64_t *deleted)
{
	struct sq_index *ix = impl(s)->ix;
	sqlite3_stmt *st = ds(s, DS_PURGE_CURSORS);
	struct floors f = { d, 0 };
	struct sq_glog *g;
	uint64_t joined, left, acked, low;
	int rc;

	sqi_each_glog(ix, floor_init, NULL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t gid = sqlite3_column_int64(st, 0);

		if ((g = sqi_glog(ix, gid)) == NULL)
			continue;
		joined = (uint64_t)sqlite3_column_int64(st, 2);
		left = (uint64_t)sqlite3_column_int64(st, 3);
		acked = acked_now(s, gid,
				  (const char *)sqlite3_column_text(st, 1),
				  (uint64_t)sqlite3_column_int64(st, 4));
		if (left != 0 && acked >= left)
			continue; /* nothing due any more */
		low = joined > acked ? joined : acked;
		if (low < g->floor)
			g->floor = low;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return BWD_ERR_STORE;
	sqi_each_glog(ix, floor_collect, &f);
	return f.rc != 0 ? f.rc : drop_apply(s, d, limit, deleted);
}

/* Older than the retention, by arrival: prefixes of their groups. */
static int purge_old(struct store *s, struct drop *d, int64_t older_than,
		     uint64_t limit, uint64_t *deleted)
{
	sqlite3_stmt *st = ds(s, DS_PURGE_OLD);
	int rc, err = 0;

	sqlite3_bind_int64(st, 1, older_than);
	sqlite3_bind_int64(st, 2, i64(limit));
	while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		err = drop_upto(d, sqlite3_column_int64(st, 0),
				(uint64_t)sqlite3_column_int64(st, 1));
	sqlite3_reset(st);
	if (err != 0 || (err = sq_map_rc(rc)) != 0)
		return err;
	return drop_apply(s, d, limit, deleted);
}

struct cap {
	struct drop *d;
	uint64_t max;
	int rc;
};

static void cap_collect(void *arg, struct sq_glog *g)
{
	struct cap *c = arg;

	if (c->rc == 0 && g->last > c->max && sqi_first(g) <= g->last - c->max)
		c->rc = drop_upto(c->d, g->gid, g->last - c->max);
}

static int purge_cap(struct store *s, struct drop *d, uint64_t max,
		     uint64_t limit, uint64_t *deleted)
{
	struct cap c = { d, max, 0 };

	sqi_each_glog(impl(s)->ix, cap_collect, &c);
	return c.rc != 0 ? c.rc : drop_apply(s, d, limit, deleted);
}

/* A membership that ended is dropped once it has nothing left to
 * deliver: read to its end, or its last message is gone. */
struct ended {
	int64_t gid;
	uint64_t joined;
	char device[STORE_NAME_SIZE];
};

static int ended_list(struct store *s, struct ended **out, size_t *n)
{
	sqlite3_stmt *st = ds(s, DS_PURGE_ENDED);
	struct ended *v = NULL, *grown;
	size_t cap = 0;
	int rc;

	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t gid = sqlite3_column_int64(st, 0);
		const char *device = (const char *)sqlite3_column_text(st, 1);
		uint64_t left = (uint64_t)sqlite3_column_int64(st, 3);
		uint64_t acked = acked_now(s, gid, device,
				(uint64_t)sqlite3_column_int64(st, 4));

		if (acked < left &&
		    sqi_rowid(sqi_glog(impl(s)->ix, gid), left) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grown = realloc(v, cap * sizeof(*v))) == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = grown;
		}
		v[*n].gid = gid;
		v[*n].joined = (uint64_t)sqlite3_column_int64(st, 2);
		sq_copy_text(v[*n].device, sizeof(v[*n].device), st, 1);
		(*n)++;
	}
	sqlite3_reset(st);
	*out = v;
	return rc == SQLITE_DONE ? 0 : rc == SQLITE_NOMEM ? BW_ERR_NOMEM
							 : BWD_ERR_STORE;
}

/* A cursor whose memberships are all gone leaves the index. */
static int forget_cursor(struct store *s, int64_t gid, const char *device)
{
	struct store_sqlite *q = impl(s);
	struct sq_ack *a = sqi_ack(q->ix, gid, device);
	sqlite3_stmt *st;
	bool gone;
	int rc;

	if (a == NULL)
		return 0;
	st = ds(s, DS_MEMBER_ACKED);
	sqlite3_bind_int64(st, 1, gid);
	sq_bind_text(st, 2, device);
	rc = sqlite3_step(st);
	gone = rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_NULL;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return BWD_ERR_STORE;
	if (gone) {
		sqi_ack_remove(q->ix, a);
		sq_fold_cancel(q); /* its list may name the cursor */
	}
	return 0;
}

static int purge_members(struct store *s, uint64_t *deleted)
{
	struct ended *v = NULL;
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;

	if ((rc = ended_list(s, &v, &n)) != 0)
		goto out;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		st = ds(s, DS_PURGE_MEMBER);
		sqlite3_bind_int64(st, 1, v[i].gid);
		sq_bind_text(st, 2, v[i].device);
		sqlite3_bind_int64(st, 3, i64(v[i].joined));
		if ((rc = sq_exec(st)) == 0) {
			*deleted += (uint64_t)sqlite3_changes(impl(s)->db);
			rc = forget_cursor(s, v[i].gid, v[i].device);
		}
	}
out:
	free(v);
	return rc;
}

static int purge_log(struct store *s, struct store_purge *p)
{
	struct drop d = { 0 };
	int rc;

	if ((rc = purge_acked(s, &d, p->limit, &p->deleted)) == 0 &&
	    (rc = purge_old(s, &d, p->older_than, p->limit, &p->deleted)) ==
		    0 &&
	    (rc = purge_cap(s, &d, p->max_per_group, p->limit,
			    &p->deleted)) == 0)
		rc = purge_members(s, &p->deleted);
	free(d.rowids);
	free(d.to);
	return rc;
}

/* The index follows the purge without a journal: inside a transaction
 * a rollback rebuilds it, outside one a failure does at once. */
static int purge(struct store *s, struct store_purge *p)
{
	struct store_sqlite *q = impl(s);
	int64_t limit = p->limit;
	bool tx = in_tx(s);
	int rc;

	if (tx)
		sqi_need_rebuild(q->ix);
	if ((rc = purge_log(s, p)) != 0) {
		if (!tx)
			(void)sq_ds_load(q);
		return rc;
	}
	if ((rc = purge_step(s, DS_PURGE_INBOX, p->older_than, limit, 0, 2,
			     &p->deleted)) != 0 ||
	    (rc = purge_step(s, DS_PURGE_WELCOMES, limit, 0, 0, 1,
			     &p->deleted)) != 0)
		return rc;
	return purge_step(s, DS_PURGE_KEY_PACKAGES, p->now, p->older_than,
			  limit, 3, &p->deleted);
}

/* ---- the index: rebuild, transactions, folding the cursors ---- */

static int load_log(struct store_sqlite *q, size_t *rows)
{
	sqlite3_stmt *st = sq_ready(q->ds[DS_LOG_SCAN]);
	const char *sender;
	uint64_t h;
	int rc, err = 0;

	*rows = 0;
	while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t gid = sqlite3_column_int64(st, 1);

		(*rows)++;
		sender = (const char *)sqlite3_column_text(st, 3);
		h = sqlite3_column_bytes(st, 4) == PROTO_IDEMPOTENCY_KEY_LEN &&
				    sender != NULL
			    ? sqi_key_hash(q->ix, gid, sender,
					   sqlite3_column_blob(st, 4))
			    : 0;
		/* A seq that does not grow with the rowid breaks the
		 * index's premise: refuse to run on it. */
		err = sqi_append(q->ix, gid,
				 (uint64_t)sqlite3_column_int64(st, 2),
				 sqlite3_column_int64(st, 0), h, false);
		if (err == BWD_ERR_EXISTS)
			err = BWD_ERR_SCHEMA;
	}
	sqlite3_reset(st);
	return err != 0 ? err : sq_map_rc(rc);
}

/* Acknowledgements not folded yet: the cursors ahead of members. */
static int load_acks(struct store_sqlite *q)
{
	sqlite3_stmt *st = sq_ready(q->ds[DS_ACK_SCAN]);
	struct sq_ack *a;
	int rc, err = 0;

	while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *device = (const char *)sqlite3_column_text(st, 1);
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 2);

		err = cursor_of(&q->base, sqlite3_column_int64(st, 0),
				device != NULL ? device : "", &a);
		if (err == BWD_ERR_NOT_FOUND) {
			err = 0; /* the membership was purged since */
			continue;
		}
		if (err == 0 && seq > a->acked)
			err = sqi_ack_set(q->ix, a, seq, false);
	}
	sqlite3_reset(st);
	return err != 0 ? err : sq_map_rc(rc);
}

int sq_ds_load(struct store_sqlite *q)
{
	size_t rows = 0;
	int rc;

	sqi_reset(q->ix);
	sq_fold_cancel(q);
	if ((rc = load_log(q, &rows)) != 0 || (rc = load_acks(q)) != 0) {
		sqi_reset(q->ix);
		return rc;
	}
	log_info("store: message index of %zu messages, %zu cursors: %zu KiB",
		 rows, sqi_ack_total(q->ix), sqi_memory(q->ix) / 1024);
	return 0;
}

void sq_ds_savepoint(struct store_sqlite *q)
{
	sqi_savepoint(q->ix);
}

void sq_ds_rollback_to(struct store_sqlite *q)
{
	sqi_rollback_to(q->ix);
}

void sq_ds_commit(struct store_sqlite *q)
{
	sqi_commit(q->ix);
	q->fold.pos = q->fold.next_pos;
	q->fold.trimmed = q->fold.next_trimmed;
	if (q->fold.upto != 0 && q->fold.trimmed >= q->fold.upto)
		sq_fold_cancel(q); /* the round is complete */
}

int sq_ds_rollback(struct store_sqlite *q)
{
	q->fold.next_pos = q->fold.pos;
	q->fold.next_trimmed = q->fold.trimmed;
	return sqi_rollback(q->ix) ? 0 : sq_ds_load(q);
}

/* Cursors written to members per batch at most, and acks rows deleted:
 * a slice costs the batch a few pages, since the cursors are written in
 * members' key order. */
#define FOLD_UPDATES 256u
#define FOLD_TRIM 8192
/* Seconds between the starts of two rounds: a cursor moved many times
 * meanwhile is written once (scenario A moves each about once a second). */
#define FOLD_INTERVAL 30

void sq_fold_cancel(struct store_sqlite *q)
{
	free(q->fold.todo);
	q->fold = (struct sq_fold){ .next_round = q->fold.next_round };
}

static int cmp_cursor(const void *a, const void *b)
{
	const struct sq_ack *x = *(struct sq_ack *const *)a,
			    *y = *(struct sq_ack *const *)b;

	if (x->gid != y->gid)
		return x->gid < y->gid ? -1 : 1;
	return strcmp(x->device, y->device);
}

/* The cursors ahead of members now, sorted. */
static int fold_list(struct store_sqlite *q)
{
	size_t total = sqi_ack_total(q->ix), n = 0;
	struct sq_ack *a;

	if (total == 0)
		return 0;
	if ((q->fold.todo = calloc(total, sizeof(*q->fold.todo))) == NULL)
		return BW_ERR_NOMEM;
	for (size_t i = 0; i < total; i++) {
		a = sqi_ack_at(q->ix, i);
		if (a->acked > a->stored)
			q->fold.todo[n++] = a;
	}
	if (n > 1)
		qsort(q->fold.todo, n, sizeof(*q->fold.todo), cmp_cursor);
	q->fold.n_todo = n;
	return 0;
}

static int fold_start(struct store_sqlite *q)
{
	sqlite3_stmt *st = sq_ready(q->ds[DS_ACK_LAST]);
	int64_t now = (int64_t)time(NULL), first = 0, last = 0;
	int rc;

	if (now < q->fold.next_round)
		return 0;
	q->fold.next_round = now + FOLD_INTERVAL;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		first = sqlite3_column_int64(st, 0);
		last = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return BWD_ERR_STORE;
	if (last == 0)
		return 0;
	/* Rows up to last exist before the round: every cursor they moved
	 * is ahead of members now (or was written already), so they can go
	 * once the list is written. */
	if ((rc = fold_list(q)) != 0)
		return rc;
	q->fold.upto = last;
	q->fold.trimmed = q->fold.next_trimmed = first;
	return 0;
}

static int fold_slice(struct store_sqlite *q)
{
	size_t pos, end = q->fold.pos + FOLD_UPDATES;
	struct sq_ack *a;
	sqlite3_stmt *st;
	int rc = 0;

	if (end > q->fold.n_todo)
		end = q->fold.n_todo;
	for (pos = q->fold.pos; rc == 0 && pos < end; pos++) {
		a = q->fold.todo[pos];
		if (a->acked <= a->stored)
			continue;
		st = sq_ready(q->ds[DS_ACK_FOLD]);
		sqlite3_bind_int64(st, 1, a->gid);
		sq_bind_text(st, 2, a->device);
		sqlite3_bind_int64(st, 3, i64(a->acked));
		if ((rc = sq_exec(st)) == 0)
			rc = sqi_folding(q->ix, a);
	}
	q->fold.next_pos = pos;
	return rc;
}

static int fold_trim(struct store_sqlite *q)
{
	sqlite3_stmt *st = sq_ready(q->ds[DS_ACK_TRIM]);
	int64_t to = q->fold.trimmed + FOLD_TRIM;
	int rc;

	if (to > q->fold.upto)
		to = q->fold.upto;
	sqlite3_bind_int64(st, 1, to);
	if ((rc = sq_exec(st)) == 0)
		q->fold.next_trimmed = to;
	return rc;
}

void sq_ds_in_batch(struct store_sqlite *q)
{
	int rc;

	if (q->fold.upto == 0 && (rc = fold_start(q)) != 0)
		goto out;
	if (q->fold.upto == 0)
		return;
	if (q->fold.pos < q->fold.n_todo)
		rc = fold_slice(q);
	else
		rc = fold_trim(q);
out:
	/* A failed slice is taken again by a later batch; the statement
	 * that failed was undone by SQLite alone. */
	if (rc != 0) {
		q->fold.next_pos = q->fold.pos;
		q->fold.next_trimmed = q->fold.trimmed;
	}
}

const struct store_ds_ops sq_ds_ops = {
	.kp_add = kp_add,
	.kp_count = kp_count,
	.kp_claim = kp_claim,
	.kp_owner = kp_owner,
	.group_add = group_add,
	.group_get = group_get,
	.group_get_gid = group_get_gid,
	.group_update = group_update,
	.log_last_seq = log_last_seq,
	.log_append = log_append,
	.log_find_key = log_find_key,
	.member_join = member_join,
	.member_leave = member_leave,
	.member_ack = member_ack,
	.member_pass_own = member_pass_own,
	.device_groups = device_groups,
	.user_groups = user_groups,
	.welcome_add = welcome_add,
	.inbox_add = inbox_add,
	.inbox_last = inbox_last,
	.inbox_ack = inbox_ack,
	.backlog = backlog,
	.purge = purge,
};

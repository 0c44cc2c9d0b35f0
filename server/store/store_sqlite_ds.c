/*
 * store_sqlite_ds.c - the delivery service's storage on SQLite
 * (store_ds.h): key packages, groups and their logs, membership
 * intervals with cursors, inboxes, backlogs and retention.
 *
 * The hot path, a message appended to a group, is one INSERT into
 * group_log; its UNIQUE index on (gid, sender, idem_key) turns a sender's
 * retry into a constraint error that the caller resolves with
 * log_find_key. Recipients are not written: each device's queue is the
 * log between its cursor and the end of its membership.
 */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
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
	DS_LOG_LAST,
	DS_LOG_APPEND,
	DS_LOG_FIND_KEY,
	DS_MEMBER_JOIN,
	DS_MEMBER_LEAVE,
	DS_MEMBER_ACK,
	DS_DEVICE_GROUPS,
	DS_USER_GROUPS,
	DS_WELCOME_ADD,
	DS_INBOX_BUMP,
	DS_INBOX_LAST,
	DS_INBOX_ADD,
	DS_INBOX_ACK,
	DS_BACKLOG_INBOX,
	DS_BACKLOG_MEMBERS,
	DS_BACKLOG_RANGE,
	DS_PURGE_LAST_SEQ,
	DS_PURGE_ACKED,
	DS_PURGE_OLD,
	DS_PURGE_CAP,
	DS_PURGE_MEMBERS,
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
	[DS_LOG_LAST] = "SELECT max(seq) FROM group_log WHERE gid = ?1",
	[DS_LOG_APPEND] = "INSERT INTO group_log (gid, seq, kind, time, "
			  "sender, idem_key, idem_hash, epoch, payload) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[DS_LOG_FIND_KEY] = "SELECT seq, epoch, idem_hash FROM group_log "
			    "WHERE gid = ?1 AND sender = ?2 AND idem_key = ?3",
	[DS_MEMBER_JOIN] = "INSERT INTO members (gid, device, joined_seq, "
			   "acked_seq) VALUES (?1, ?2, ?3, ?3)",
	[DS_MEMBER_LEAVE] = "UPDATE members SET left_seq = ?3 WHERE gid = ?1 "
			    "AND device = ?2 AND left_seq = 0",
	[DS_MEMBER_ACK] = "UPDATE members SET acked_seq = max(acked_seq, ?3) "
			  "WHERE gid = ?1 AND device = ?2",
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
	/* A device's memberships with something left to read, then each
	 * one's range of its group's log: both in the order of a key, so a
	 * page costs its own size whatever the backlog's. The range is
	 * found in group_log_seqs, and a group's row (its public view: a
	 * page or more) is read only for a range that has messages (CROSS
	 * JOIN keeps the log outermost), so a login with nothing to read
	 * touches index pages alone. */
	[DS_BACKLOG_MEMBERS] =
		"SELECT gid, max(joined_seq, acked_seq), left_seq "
		"FROM members WHERE device = ?1 AND gid >= ?2 AND "
		"(left_seq = 0 OR acked_seq < left_seq) "
		"ORDER BY gid, joined_seq",
	[DS_BACKLOG_RANGE] =
		"SELECT l.seq, l.kind, l.time, l.payload, g.group_id "
		"FROM group_log l INDEXED BY group_log_seqs "
		"CROSS JOIN groups g ON g.gid = l.gid "
		"WHERE l.gid = ?1 AND l.seq > ?2 AND l.seq <= ?3 "
		"ORDER BY l.seq LIMIT ?4",
	/* Before anything is deleted, each group remembers its last seq. */
	[DS_PURGE_LAST_SEQ] =
		"UPDATE groups SET last_seq = max(last_seq, coalesce("
		"(SELECT max(seq) FROM group_log l "
		"WHERE l.gid = groups.gid), 0))",
	/* Everything every device still due has acknowledged: each
	 * group's floor first, then a range of its log's key. */
	[DS_PURGE_ACKED] =
		"WITH floors AS MATERIALIZED (SELECT g.gid AS gid, coalesce(("
		"SELECT min(max(m.joined_seq, m.acked_seq)) FROM members m "
		"WHERE m.gid = g.gid AND (m.left_seq = 0 OR "
		"m.acked_seq < m.left_seq)), g.last_seq) AS floor "
		"FROM groups g) "
		"DELETE FROM group_log WHERE (gid, seq) IN ("
		"SELECT l.gid, l.seq FROM floors f JOIN group_log l "
		"ON l.gid = f.gid AND l.seq <= f.floor LIMIT ?1)",
	[DS_PURGE_OLD] = "DELETE FROM group_log WHERE (gid, seq) IN ("
			 "SELECT gid, seq FROM group_log WHERE time < ?1 "
			 "LIMIT ?2)",
	/* CROSS JOIN keeps this order: each group's range of its log. */
	[DS_PURGE_CAP] = "DELETE FROM group_log WHERE (gid, seq) IN ("
			 "SELECT l.gid, l.seq FROM groups g CROSS JOIN "
			 "group_log l ON l.gid = g.gid AND "
			 "l.seq <= g.last_seq - ?1 LIMIT ?2)",
	/* Memberships that ended and have nothing left to deliver. */
	[DS_PURGE_MEMBERS] =
		"DELETE FROM members WHERE left_seq != 0 AND "
		"(acked_seq >= left_seq OR NOT EXISTS (SELECT 1 FROM group_log "
		"l WHERE l.gid = members.gid AND l.seq = members.left_seq))",
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

static int log_last_seq(struct store *s, int64_t gid, uint64_t *seq)
{
	sqlite3_stmt *st = ds(s, DS_LOG_LAST);
	bool found;

	sqlite3_bind_int64(st, 1, gid);
	return one_u64(st, seq, &found);
}

static int log_append(struct store *s, const struct store_log_entry *e)
{
	sqlite3_stmt *st = ds(s, DS_LOG_APPEND);

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
	return sq_exec(st);
}

static int log_find_key(struct store *s, int64_t gid, const char *sender,
			const uint8_t *key, struct store_idem *out)
{
	sqlite3_stmt *st = ds(s, DS_LOG_FIND_KEY);
	int rc;

	memset(out, 0, sizeof(*out));
	sqlite3_bind_int64(st, 1, gid);
	sq_bind_text(st, 2, sender);
	sq_bind_blob(st, 3, key, PROTO_IDEMPOTENCY_KEY_LEN);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->seq = (uint64_t)sqlite3_column_int64(st, 0);
		out->epoch = (uint64_t)sqlite3_column_int64(st, 1);
		if (sqlite3_column_bytes(st, 2) == STORE_HASH_LEN)
			memcpy(out->hash, sqlite3_column_blob(st, 2),
			       STORE_HASH_LEN);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return BWD_ERR_NOT_FOUND;
	return sq_map_rc(rc);
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

static int member_ack(struct store *s, int64_t gid, const char *device,
		      uint64_t seq)
{
	sqlite3_stmt *st = ds(s, DS_MEMBER_ACK);

	sqlite3_bind_int64(st, 1, gid);
	sq_bind_text(st, 2, device);
	sqlite3_bind_int64(st, 3, i64(seq));
	return changed(s, sq_exec(st));
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
};

/* The device's intervals from the cursor's group on. */
static int intervals(struct store *s, const char *device, int64_t from,
		     struct interval **out, size_t *n)
{
	sqlite3_stmt *st = ds(s, DS_BACKLOG_MEMBERS);
	struct interval *v = NULL, *grown;
	size_t cap = 0;
	int rc;

	*n = 0;
	sq_bind_text(st, 1, device);
	sqlite3_bind_int64(st, 2, from);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grown = realloc(v, cap * sizeof(*v))) == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = grown;
		}
		v[*n].gid = sqlite3_column_int64(st, 0);
		v[*n].after = (uint64_t)sqlite3_column_int64(st, 1);
		v[*n].until = (uint64_t)sqlite3_column_int64(st, 2);
		if (v[*n].until == 0)
			v[*n].until = INT64_MAX;
		(*n)++;
	}
	sqlite3_reset(st);
	*out = v;
	return rc == SQLITE_DONE ? 0 : rc == SQLITE_NOMEM ? BW_ERR_NOMEM
							 : BWD_ERR_STORE;
}

/* Up to max messages of one interval after the cursor. */
static int read_range(struct store *s, const struct interval *iv,
		      struct store_cursor *c, uint32_t max,
		      store_backlog_fn fn, void *arg, uint32_t *n)
{
	sqlite3_stmt *st = ds(s, DS_BACKLOG_RANGE);
	uint64_t after = iv->after;
	struct store_backlog_msg m = { .gid = iv->gid };
	int rc, stop = 0;

	if (iv->gid == c->gid && c->seq > after)
		after = c->seq;
	sqlite3_bind_int64(st, 1, iv->gid);
	sqlite3_bind_int64(st, 2, i64(after));
	sqlite3_bind_int64(st, 3, i64(iv->until));
	sqlite3_bind_int64(st, 4, max);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		m.seq = (uint64_t)sqlite3_column_int64(st, 0);
		m.kind = (uint8_t)sqlite3_column_int(st, 1);
		m.time = sqlite3_column_int64(st, 2);
		m.payload = sqlite3_column_blob(st, 3);
		m.payload_len = (size_t)sqlite3_column_bytes(st, 3);
		m.group_id = sqlite3_column_blob(st, 4);
		m.group_id_len = (size_t)sqlite3_column_bytes(st, 4);
		if (m.group_id_len > PROTO_MAX_GROUP_ID)
			m.group_id_len = PROTO_MAX_GROUP_ID;
		c->gid = m.gid;
		c->seq = m.seq;
		(*n)++;
		stop = fn(arg, &m);
	}
	sqlite3_reset(st);
	return stop != 0 ? stop : sq_map_rc(rc);
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

static int purge(struct store *s, struct store_purge *p)
{
	uint64_t none = 0;
	int64_t limit = p->limit;
	int rc;

	if ((rc = purge_step(s, DS_PURGE_LAST_SEQ, 0, 0, 0, 0, &none)) != 0 ||
	    (rc = purge_step(s, DS_PURGE_ACKED, limit, 0, 0, 1,
			     &p->deleted)) != 0 ||
	    (rc = purge_step(s, DS_PURGE_OLD, p->older_than, limit, 0, 2,
			     &p->deleted)) != 0 ||
	    (rc = purge_step(s, DS_PURGE_CAP, i64(p->max_per_group), limit, 0,
			     2, &p->deleted)) != 0 ||
	    (rc = purge_step(s, DS_PURGE_MEMBERS, 0, 0, 0, 0, &p->deleted)) !=
		    0 ||
	    (rc = purge_step(s, DS_PURGE_INBOX, p->older_than, limit, 0, 2,
			     &p->deleted)) != 0 ||
	    (rc = purge_step(s, DS_PURGE_WELCOMES, limit, 0, 0, 1,
			     &p->deleted)) != 0)
		return rc;
	return purge_step(s, DS_PURGE_KEY_PACKAGES, p->now, p->older_than,
			  limit, 3, &p->deleted);
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
	.device_groups = device_groups,
	.user_groups = user_groups,
	.welcome_add = welcome_add,
	.inbox_add = inbox_add,
	.inbox_last = inbox_last,
	.inbox_ack = inbox_ack,
	.backlog = backlog,
	.purge = purge,
};

/* test_ds_store.c - the delivery service's storage (store_ds.h on
 * SQLite): the key package directory, groups and their logs with
 * idempotency keys, membership intervals and cursors, inboxes, backlogs
 * read in pages, and retention. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "errors.h"
#include "store.h"
#include "store_ds.h"
#include "test.h"

static char dir[] = "/tmp/bw_test_ds_store_XXXXXX";
static char path[256];
static int counter;

static struct store *fresh_store(void)
{
	struct store *s = NULL;

	snprintf(path, sizeof(path), "%s/db%d", dir, counter++);
	if (store_sqlite_open(path, &s) != 0)
		return NULL;
	return s;
}

/* The same database again, as after a restart. */
static struct store *reopen(struct store *s)
{
	store_close(s);
	s = NULL;
	if (store_sqlite_open(path, &s) != 0)
		return NULL;
	return s;
}

/* A query on the database file itself, beside the store: its first
 * column of its first row as an integer (-1 when none). */
static int64_t sql_int(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL
			    ? -1
			    : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static bool sql_exec(const char *sql)
{
	sqlite3 *db = NULL;
	int rc = SQLITE_ERROR;

	if (sqlite3_open(path, &db) == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK;
}

static struct store_kp kp(const char *device, const char *ref,
			  const char *body, bool last_resort, int64_t uploaded)
{
	return (struct store_kp){
		.device = device, .ref = (const uint8_t *)ref,
		.ref_len = strlen(ref), .key_package = (const uint8_t *)body,
		.key_package_len = strlen(body), .last_resort = last_resort,
		.not_after = 1000, .uploaded = uploaded,
	};
}

static bool test_key_packages(void)
{
	struct store *s = fresh_store();
	struct store_kp a = kp("dev-a", "ref-1", "kp-1", false, 10),
			b = kp("dev-a", "ref-2", "kp-2", false, 20),
			lr = kp("dev-a", "ref-lr", "kp-lr", true, 30),
			lr2 = kp("dev-a", "ref-lr2", "kp-lr2", true, 40);
	struct bw_bytes got = { 0 };
	char owner[STORE_NAME_SIZE];
	uint32_t n = 0;

	CHECK(s != NULL);
	CHECK(s->ds->kp_add(s, &a) == 0);
	CHECK(s->ds->kp_add(s, &b) == 0);
	CHECK_EQ_INT(s->ds->kp_add(s, &a), BWD_ERR_EXISTS);
	CHECK(s->ds->kp_add(s, &lr) == 0);
	CHECK(s->ds->kp_count(s, "dev-a", 100, &n) == 0);
	CHECK_EQ_INT(n, 2); /* the last resort is not counted */
	/* Oldest first; a claimed package is gone but its ref stays. */
	CHECK(s->ds->kp_claim(s, "dev-a", 100, &got) == 0);
	CHECK(bw_bytes_eq(&got, "kp-1", 4));
	bw_bytes_clear(&got);
	CHECK(s->ds->kp_owner(s, (const uint8_t *)"ref-1", 5, owner,
			      sizeof(owner)) == 0);
	CHECK(strcmp(owner, "dev-a") == 0);
	CHECK(s->ds->kp_claim(s, "dev-a", 100, &got) == 0);
	CHECK(bw_bytes_eq(&got, "kp-2", 4));
	bw_bytes_clear(&got);
	/* Then the last resort, over and over. */
	for (int i = 0; i < 3; i++) {
		CHECK(s->ds->kp_claim(s, "dev-a", 100, &got) == 0);
		CHECK(bw_bytes_eq(&got, "kp-lr", 5));
		bw_bytes_clear(&got);
	}
	/* A new last resort replaces the old, whose ref stays known. */
	CHECK(s->ds->kp_add(s, &lr2) == 0);
	CHECK(s->ds->kp_claim(s, "dev-a", 100, &got) == 0);
	CHECK(bw_bytes_eq(&got, "kp-lr2", 6));
	bw_bytes_clear(&got);
	CHECK(s->ds->kp_owner(s, (const uint8_t *)"ref-lr", 6, owner,
			      sizeof(owner)) == 0);
	/* Expired packages are not handed out. */
	CHECK_EQ_INT(s->ds->kp_claim(s, "dev-a", 2000, &got),
		     BWD_ERR_NOT_FOUND);
	CHECK_EQ_INT(s->ds->kp_claim(s, "nobody", 100, &got),
		     BWD_ERR_NOT_FOUND);
	CHECK_EQ_INT(s->ds->kp_owner(s, (const uint8_t *)"ref-x", 5, owner,
				     sizeof(owner)),
		     BWD_ERR_NOT_FOUND);
	store_close(s);
	return true;
}

static int64_t add_group(struct store *s, const char *id)
{
	struct store_group g = {
		.group_id = { (uint8_t *)id, strlen(id) },
		.view = { (uint8_t *)"view", 4 },
		.group_info = { (uint8_t *)"gi", 2 },
		.created = 5,
	};
	int64_t gid = 0;

	return s->ds->group_add(s, &g, &gid) == 0 ? gid : -1;
}

static int append(struct store *s, int64_t gid, uint64_t seq,
		  const char *sender, const char *key, const char *payload)
{
	uint8_t hash[STORE_HASH_LEN] = { (uint8_t)seq };
	struct store_log_entry e = {
		.gid = gid, .seq = seq, .kind = 1, .time = 100 + (int64_t)seq,
		.sender = sender, .idem_key = (const uint8_t *)key,
		.idem_hash = key != NULL ? hash : NULL, .epoch = 1,
		.payload = (const uint8_t *)payload,
		.payload_len = strlen(payload),
	};

	return s->ds->log_append(s, &e);
}

static bool test_groups_and_log(void)
{
	struct store *s = fresh_store();
	struct store_group got = { 0 };
	struct store_idem idem;
	struct bw_bytes view = { (uint8_t *)"view-2", 6 };
	uint64_t last = 0;
	int64_t gid;

	CHECK(s != NULL);
	CHECK((gid = add_group(s, "group-one")) > 0);
	CHECK_EQ_INT(add_group(s, "group-one"), -1);
	CHECK(s->ds->group_get(s, (const uint8_t *)"group-one", 9, &got) == 0);
	CHECK_EQ_INT(got.gid, gid);
	CHECK(bw_bytes_eq(&got.view, "view", 4));
	store_group_clear(&got);
	CHECK_EQ_INT(s->ds->group_get(s, (const uint8_t *)"nope", 4, &got),
		     BWD_ERR_NOT_FOUND);
	CHECK(append(s, gid, 1, "dev-a", "key-aaaaaaaaaaaa", "m1") == 0);
	CHECK(append(s, gid, 2, "dev-b", "key-aaaaaaaaaaaa", "m2") == 0);
	/* The same key from the same sender: the log refuses the copy. */
	CHECK_EQ_INT(append(s, gid, 3, "dev-a", "key-aaaaaaaaaaaa", "m3"),
		     BWD_ERR_EXISTS);
	CHECK(append(s, gid, 3, "", NULL, "server") == 0);
	CHECK(append(s, gid, 4, "", NULL, "server") == 0);
	CHECK(s->ds->log_find_key(s, gid, "dev-b",
				  (const uint8_t *)"key-aaaaaaaaaaaa",
				  &idem) == 0);
	CHECK_EQ_INT(idem.seq, 2);
	CHECK_EQ_INT(idem.hash[0], 2);
	CHECK_EQ_INT(s->ds->log_find_key(s, gid, "dev-c",
					 (const uint8_t *)"key-aaaaaaaaaaaa",
					 &idem),
		     BWD_ERR_NOT_FOUND);
	CHECK(s->ds->log_last_seq(s, gid, &last) == 0);
	CHECK_EQ_INT(last, 4);
	CHECK(s->ds->group_update(s, gid, 2, 4, &view, NULL) == 0);
	CHECK(s->ds->group_get_gid(s, gid, &got) == 0);
	CHECK_EQ_INT(got.epoch, 2);
	CHECK(bw_bytes_eq(&got.view, "view-2", 6));
	CHECK(bw_bytes_eq(&got.group_info, "gi", 2)); /* unchanged */
	store_group_clear(&got);
	store_close(s);
	return true;
}

/* The users and devices table the DS's queries join with. */
static bool add_device(struct store *s, const char *id, const char *user)
{
	struct store_device d;
	struct store_user u;

	memset(&d, 0, sizeof(d));
	snprintf(d.id, sizeof(d.id), "%s", id);
	snprintf(d.user, sizeof(d.user), "%s", user);
	snprintf(d.name, sizeof(d.name), "phone");
	/* Unique per device of the test. */
	memcpy(d.fingerprint, id, strlen(id) < 32 ? strlen(id) : 32);
	d.serial_len = 1;
	if (s->ops->user_get(s, user, &u) != 0)
		CHECK(s->ops->user_add(s, user, "", 1) == 0);
	CHECK(s->ops->device_add(s, &d) == 0);
	return true;
}

struct seen {
	uint64_t seq[64];
	int64_t gid[64];
	size_t n;
};

static int collect(void *arg, const struct store_backlog_msg *m)
{
	struct seen *v = arg;

	v->seq[v->n] = m->seq;
	v->gid[v->n++] = m->gid;
	return 0;
}

static int collect_gid(void *arg, int64_t gid)
{
	struct seen *v = arg;

	v->gid[v->n++] = gid;
	return 0;
}

static int collect_group(void *arg, const struct store_user_group *g)
{
	struct seen *v = arg;

	v->gid[v->n] = g->gid;
	v->seq[v->n++] = g->member;
	return 0;
}

static bool test_membership_and_backlog(void)
{
	struct store *s = fresh_store();
	struct store_cursor cur = { 0 };
	struct seen v = { 0 };
	uint64_t inbox = 0;
	int64_t g1, g2, w;
	bool more;

	CHECK(s != NULL);
	CHECK(add_device(s, "dev-a", "alice") && add_device(s, "dev-b", "bob"));
	g1 = add_group(s, "g1");
	g2 = add_group(s, "g2");
	for (uint64_t i = 1; i <= 10; i++)
		CHECK(append(s, g1, i, "dev-a", NULL, "x") == 0);
	for (uint64_t i = 1; i <= 3; i++)
		CHECK(append(s, g2, i, "dev-a", NULL, "y") == 0);
	/* b: in g1 from after 2 up to and including 5, again after 8; in g2
	 * from the start. */
	CHECK(s->ds->member_join(s, g1, "dev-b", 2) == 0);
	CHECK(s->ds->member_leave(s, g1, "dev-b", 5) == 0);
	CHECK_EQ_INT(s->ds->member_leave(s, g1, "dev-b", 6),
		     BWD_ERR_NOT_FOUND);
	CHECK(s->ds->member_join(s, g1, "dev-b", 8) == 0);
	CHECK(s->ds->member_join(s, g2, "dev-b", 0) == 0);
	CHECK(s->ds->welcome_add(s, 100, (const uint8_t *)"w", 1, &w) == 0);
	CHECK(s->ds->inbox_add(s, "dev-b", w, 100, &inbox) == 0);
	CHECK_EQ_INT(inbox, 1);
	CHECK(s->ds->inbox_add(s, "dev-b", w, 100, &inbox) == 0);
	CHECK_EQ_INT(inbox, 2);
	/* Pages of 4: inbox 1 2, g1 3 4 | 5 9 10, g2 1 | 2 3 and done. */
	CHECK(s->ds->backlog(s, "dev-b", &cur, 4, collect, &v, &more) == 0);
	CHECK(more && v.n == 4);
	CHECK(s->ds->backlog(s, "dev-b", &cur, 4, collect, &v, &more) == 0);
	CHECK(more && v.n == 8);
	CHECK(s->ds->backlog(s, "dev-b", &cur, 4, collect, &v, &more) == 0);
	CHECK(!more);
	{
		uint64_t want[] = { 1, 2, 3, 4, 5, 9, 10, 1, 2, 3 };
		int64_t gids[] = { 0, 0, g1, g1, g1, g1, g1, g2, g2, g2 };

		CHECK_EQ_INT(v.n, 10);
		for (size_t i = 0; i < 10; i++) {
			CHECK_EQ_INT(v.seq[i], want[i]);
			CHECK_EQ_INT(v.gid[i], gids[i]);
		}
	}
	/* Acknowledged: cumulative, on every interval of the device. */
	CHECK(s->ds->member_ack(s, g1, "dev-b", 9) == 0);
	CHECK(s->ds->member_ack(s, g1, "dev-b", 3) == 0); /* no step back */
	CHECK_EQ_INT(s->ds->member_ack(s, g1, "dev-c", 1), BWD_ERR_NOT_FOUND);
	CHECK(s->ds->inbox_ack(s, "dev-b", 2) == 0);
	memset(&v, 0, sizeof(v));
	memset(&cur, 0, sizeof(cur));
	CHECK(s->ds->backlog(s, "dev-b", &cur, 64, collect, &v, &more) == 0);
	CHECK(!more);
	CHECK_EQ_INT(v.n, 4); /* g1 10, g2 1 2 3 */
	CHECK_EQ_INT(v.seq[0], 10);
	/* Who is where. */
	memset(&v, 0, sizeof(v));
	CHECK(s->ds->device_groups(s, "dev-b", collect_gid, &v) == 0);
	CHECK_EQ_INT(v.n, 2);
	CHECK(s->ds->member_join(s, g1, "dev-a", 0) == 0);
	memset(&v, 0, sizeof(v));
	CHECK(s->ds->user_groups(s, "alice", "dev-a", collect_group, &v) == 0);
	CHECK_EQ_INT(v.n, 1);
	CHECK_EQ_INT(v.gid[0], g1);
	CHECK_EQ_INT(v.seq[0], 1);
	store_close(s);
	return true;
}

/* The highest seq still in the log (0 when empty). */
static uint64_t log_last(struct store *s, int64_t gid)
{
	uint64_t last = 0;

	return s->ds->log_last_seq(s, gid, &last) == 0 ? last : UINT64_MAX;
}

static bool test_purge(void)
{
	struct store *s = fresh_store();
	struct store_purge p = { .older_than = 0, .max_per_group = 1000,
				 .now = 100, .limit = 1000 };
	struct store_group row = { 0 };
	struct store_kp old = kp("dev-a", "ref-old", "kp", false, 10);
	struct bw_bytes got = { 0 };
	uint64_t inbox;
	int64_t gid, w;

	CHECK(s != NULL);
	CHECK(add_device(s, "dev-a", "alice") && add_device(s, "dev-b", "bob"));
	gid = add_group(s, "g");
	for (uint64_t i = 1; i <= 6; i++)
		CHECK(append(s, gid, i, "dev-a", NULL, "x") == 0);
	CHECK(s->ds->member_join(s, gid, "dev-a", 0) == 0);
	CHECK(s->ds->member_join(s, gid, "dev-b", 0) == 0);
	CHECK(s->ds->member_ack(s, gid, "dev-a", 6) == 0);
	CHECK(s->ds->member_ack(s, gid, "dev-b", 3) == 0);
	/* Acknowledged by everyone: 1..3 go, 4..6 wait for b. */
	CHECK(s->ds->purge(s, &p) == 0);
	CHECK_EQ_INT(p.deleted, 3);
	CHECK_EQ_INT(log_last(s, gid), 6);
	/* The row remembers the last seq once the log is empty. */
	CHECK(s->ds->member_ack(s, gid, "dev-b", 6) == 0);
	p.deleted = 0;
	CHECK(s->ds->purge(s, &p) == 0);
	CHECK_EQ_INT(p.deleted, 3);
	CHECK_EQ_INT(log_last(s, gid), 0);
	CHECK(s->ds->group_get_gid(s, gid, &row) == 0);
	CHECK_EQ_INT(row.last_seq, 6);
	store_group_clear(&row);
	/* Retention by age and by count, whoever still waits. */
	for (uint64_t i = 7; i <= 12; i++)
		CHECK(append(s, gid, i, "dev-a", NULL, "x") == 0);
	p = (struct store_purge){ .older_than = 109, .max_per_group = 2,
				  .now = 100, .limit = 1000 };
	CHECK(s->ds->purge(s, &p) == 0);
	CHECK_EQ_INT(p.deleted, 4); /* 7, 8 by age; 9, 10 past the cap */
	/* A membership that ended and was read is dropped. */
	CHECK(s->ds->member_leave(s, gid, "dev-b", 12) == 0);
	CHECK(s->ds->member_ack(s, gid, "dev-b", 12) == 0);
	/* Old inbox entries, unreferenced Welcomes, expired key packages. */
	CHECK(s->ds->welcome_add(s, 50, (const uint8_t *)"w", 1, &w) == 0);
	CHECK(s->ds->inbox_add(s, "dev-b", w, 50, &inbox) == 0);
	CHECK(s->ds->kp_add(s, &old) == 0);
	p = (struct store_purge){ .older_than = 60, .max_per_group = 1000,
				  .now = 5000, .limit = 1000 };
	CHECK(s->ds->purge(s, &p) == 0);
	CHECK(p.deleted >= 4); /* member, inbox, welcome, key package */
	CHECK_EQ_INT(s->ds->kp_claim(s, "dev-a", 0, &got), BWD_ERR_NOT_FOUND);
	CHECK_EQ_INT(s->ds->member_ack(s, gid, "dev-b", 12), BWD_ERR_NOT_FOUND);
	store_close(s);
	return true;
}

/* A job's savepoint: undone alone, the transaction goes on. */
static bool test_savepoints(void)
{
	struct store *s = fresh_store();
	uint64_t last = 0;
	int64_t gid;

	CHECK(s != NULL);
	gid = add_group(s, "g");
	CHECK(store_begin(s) == 0);
	CHECK(s->ops->savepoint(s) == 0);
	CHECK(append(s, gid, 1, "dev-a", NULL, "kept") == 0);
	CHECK(s->ops->release(s) == 0);
	CHECK(s->ops->savepoint(s) == 0);
	CHECK(append(s, gid, 2, "dev-a", NULL, "undone") == 0);
	s->ops->rollback_to(s);
	CHECK(store_commit(s) == 0);
	CHECK(s->ds->log_last_seq(s, gid, &last) == 0);
	CHECK_EQ_INT(last, 1);
	store_close(s);
	return true;
}

/* A device's whole backlog as (gid, seq) pairs. */
static bool read_all(struct store *s, const char *device, struct seen *v)
{
	struct store_cursor cur = { 0 };
	bool more = true;

	memset(v, 0, sizeof(*v));
	while (more)
		CHECK(s->ds->backlog(s, device, &cur, 3, collect, v, &more) ==
		      0);
	return true;
}

static bool same_seen(const struct seen *a, const struct seen *b)
{
	CHECK_EQ_INT(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		CHECK_EQ_INT(a->seq[i], b->seq[i]);
		CHECK_EQ_INT(a->gid[i], b->gid[i]);
	}
	return true;
}

static void key_of(char key[17], int i)
{
	snprintf(key, 17, "key-%012d", i);
}

/* The index rebuilt at open holds what was written: last seqs, the
 * idempotency keys (a retry after a restart is still refused), the
 * cursors of acknowledgements not folded yet. */
static bool test_index_rebuild(void)
{
	struct store *s = fresh_store();
	struct seen before, after;
	struct store_idem idem;
	int64_t g[3];
	char key[17];

	CHECK(s != NULL);
	CHECK(add_device(s, "dev-a", "alice") && add_device(s, "dev-b", "bob"));
	for (int i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "g%d", i);
		CHECK((g[i] = add_group(s, name)) > 0);
		CHECK(s->ds->member_join(s, g[i], "dev-b", 0) == 0);
	}
	/* Interleaved, as arrivals are. */
	for (int i = 0; i < 30; i++) {
		key_of(key, i);
		CHECK(append(s, g[i % 3], (uint64_t)(i / 3 + 1), "dev-a", key,
			     "m") == 0);
	}
	CHECK(s->ds->member_ack(s, g[0], "dev-b", 4) == 0);
	CHECK(s->ds->member_ack(s, g[2], "dev-b", 9) == 0);
	CHECK(read_all(s, "dev-b", &before));
	CHECK_EQ_INT(before.n, 30 - 4 - 9);
	CHECK((s = reopen(s)) != NULL);
	for (int i = 0; i < 3; i++) {
		uint64_t last = 0;

		CHECK(s->ds->log_last_seq(s, g[i], &last) == 0);
		CHECK_EQ_INT(last, 10);
	}
	for (int i = 0; i < 30; i++) {
		key_of(key, i);
		CHECK(s->ds->log_find_key(s, g[i % 3], "dev-a",
					  (const uint8_t *)key, &idem) == 0);
		CHECK_EQ_INT(idem.seq, i / 3 + 1);
		/* Another group or sender: a different key. */
		CHECK_EQ_INT(s->ds->log_find_key(s, g[(i + 1) % 3], "dev-a",
						 (const uint8_t *)key, &idem),
			     BWD_ERR_NOT_FOUND);
	}
	key_of(key, 7);
	CHECK_EQ_INT(append(s, g[1], 11, "dev-a", key, "retry"),
		     BWD_ERR_EXISTS);
	CHECK_EQ_INT(append(s, g[1], 10, "dev-a", NULL, "taken"),
		     BWD_ERR_EXISTS);
	CHECK(read_all(s, "dev-b", &after));
	CHECK(same_seen(&before, &after));
	/* The cursors went on: no step back, then forward. */
	CHECK(s->ds->member_ack(s, g[2], "dev-b", 2) == 0);
	CHECK(s->ds->member_ack(s, g[1], "dev-b", 10) == 0);
	CHECK(read_all(s, "dev-b", &after));
	CHECK_EQ_INT(after.n, 30 - 4 - 9 - 10);
	store_close(s);
	return true;
}

/* A job's savepoint takes back the index's changes with the rows. */
static bool test_index_savepoint(void)
{
	struct store *s = fresh_store();
	struct store_idem idem;
	struct seen v;
	uint64_t last = 0;
	int64_t gid;

	CHECK(s != NULL);
	CHECK(add_device(s, "dev-b", "bob"));
	gid = add_group(s, "g");
	CHECK(s->ds->member_join(s, gid, "dev-b", 0) == 0);
	CHECK(store_begin(s) == 0);
	CHECK(s->ops->savepoint(s) == 0);
	CHECK(append(s, gid, 1, "dev-a", "key-aaaaaaaaaaaa", "kept") == 0);
	CHECK(s->ops->release(s) == 0);
	CHECK(s->ops->savepoint(s) == 0);
	CHECK(append(s, gid, 2, "dev-a", "key-bbbbbbbbbbbb", "undone") == 0);
	CHECK(s->ds->member_ack(s, gid, "dev-b", 2) == 0);
	s->ops->rollback_to(s);
	CHECK(store_commit(s) == 0);
	CHECK(s->ds->log_last_seq(s, gid, &last) == 0);
	CHECK_EQ_INT(last, 1);
	CHECK_EQ_INT(s->ds->log_find_key(s, gid, "dev-a",
					 (const uint8_t *)"key-bbbbbbbbbbbb",
					 &idem),
		     BWD_ERR_NOT_FOUND);
	CHECK(read_all(s, "dev-b", &v));
	CHECK_EQ_INT(v.n, 1); /* the ack went with its savepoint */
	/* A whole transaction rolled back. */
	CHECK(store_begin(s) == 0);
	CHECK(append(s, gid, 2, "dev-a", "key-bbbbbbbbbbbb", "gone") == 0);
	CHECK(s->ds->member_ack(s, gid, "dev-b", 1) == 0);
	store_rollback(s);
	CHECK(s->ds->log_last_seq(s, gid, &last) == 0);
	CHECK_EQ_INT(last, 1);
	CHECK(read_all(s, "dev-b", &v));
	CHECK_EQ_INT(v.n, 1);
	CHECK(append(s, gid, 2, "dev-a", "key-bbbbbbbbbbbb", "again") == 0);
	store_close(s);
	return true;
}

/* Batches fold the cursors into members and empty the acks table. */
/* Three batches: a whole round of the fold, every cursor in members. */
static bool fold(struct store *s)
{
	for (int i = 0; i < 3; i++) {
		CHECK(store_begin(s) == 0);
		s->ops->in_batch(s);
		CHECK(store_commit(s) == 0);
	}
	return true;
}

static bool test_fold(void)
{
	struct store *s = fresh_store();
	struct seen v;
	int64_t gid;

	CHECK(s != NULL);
	CHECK(add_device(s, "dev-b", "bob"));
	gid = add_group(s, "g");
	CHECK(s->ds->member_join(s, gid, "dev-b", 0) == 0);
	for (uint64_t i = 1; i <= 5; i++) {
		CHECK(append(s, gid, i, "dev-a", NULL, "x") == 0);
		CHECK(s->ds->member_ack(s, gid, "dev-b", i) == 0);
	}
	CHECK_EQ_INT(sql_int("SELECT count(*) FROM acks"), 5);
	CHECK_EQ_INT(sql_int("SELECT acked_seq FROM members"), 0);
	CHECK(fold(s));
	CHECK_EQ_INT(sql_int("SELECT count(*) FROM acks"), 0);
	CHECK_EQ_INT(sql_int("SELECT acked_seq FROM members"), 5);
	CHECK((s = reopen(s)) != NULL);
	CHECK(read_all(s, "dev-b", &v));
	CHECK_EQ_INT(v.n, 0);
	store_close(s);
	return true;
}

/* A backlog read brings the cursor of a group the device is in once into
 * memory, with the value members holds, so that its acknowledgements need
 * no lookup: members changed behind the store's back afterwards no longer
 * moves what is read (the cursor in memory is ahead of the row). A group
 * left and joined again keeps being read from its rows. */
static bool test_backlog_warms_cursor(void)
{
	struct store *s = fresh_store();
	struct seen v;
	int64_t once, twice;

	CHECK(s != NULL);
	CHECK(add_device(s, "dev-b", "bob"));
	once = add_group(s, "once");
	twice = add_group(s, "twice");
	CHECK(s->ds->member_join(s, once, "dev-b", 0) == 0);
	CHECK(s->ds->member_join(s, twice, "dev-b", 0) == 0);
	CHECK(s->ds->member_leave(s, twice, "dev-b", 1) == 0);
	CHECK(s->ds->member_join(s, twice, "dev-b", 2) == 0);
	for (uint64_t i = 1; i <= 4; i++) {
		CHECK(append(s, once, i, "dev-a", NULL, "x") == 0);
		CHECK(append(s, twice, i, "dev-a", NULL, "y") == 0);
	}
	CHECK(s->ds->member_ack(s, once, "dev-b", 2) == 0);
	CHECK(fold(s)); /* into members */
	CHECK((s = reopen(s)) != NULL); /* no cursor in memory */
	CHECK(read_all(s, "dev-b", &v));
	CHECK_EQ_INT(v.n, 5); /* once 3 4, twice 1 3 4 */
	CHECK_EQ_INT(v.seq[0], 3);
	CHECK(sql_exec("UPDATE members SET acked_seq = 0"));
	CHECK(read_all(s, "dev-b", &v));
	CHECK_EQ_INT(v.n, 5);
	CHECK_EQ_INT(v.gid[0], once);
	CHECK_EQ_INT(v.seq[0], 3);
	CHECK_EQ_INT(v.gid[2], twice);
	CHECK_EQ_INT(v.seq[2], 1);
	CHECK(s->ds->member_ack(s, once, "dev-b", 4) == 0);
	CHECK(read_all(s, "dev-b", &v));
	CHECK_EQ_INT(v.n, 3);
	store_close(s);
	return true;
}

/* dev-a, with everything up to seq - 1 acknowledged, sends seq and has its
 * cursor passed over it. */
static bool send_own_caught_up(struct store *s, int64_t gid, uint64_t seq)
{
	CHECK(s->ds->member_ack(s, gid, "dev-a", seq - 1) == 0);
	CHECK(append(s, gid, seq, "dev-a", NULL, "x") == 0);
	CHECK(s->ds->member_pass_own(s, gid, "dev-a", seq) == 0);
	return true;
}

/* A device's own application message: its cursor moves past it in memory
 * when it had everything before it, stays when it was behind; the fold
 * makes the move durable, a rollback undoes it, a restart before the fold
 * forgets it (the device is sent its message again). */
static bool test_pass_own(void)
{
	struct store *s = fresh_store();
	struct seen v;
	int64_t gid;

	CHECK(s != NULL);
	CHECK(add_device(s, "dev-a", "alice") && add_device(s, "dev-b", "bob"));
	gid = add_group(s, "g");
	CHECK(s->ds->member_join(s, gid, "dev-a", 0) == 0);
	CHECK(s->ds->member_join(s, gid, "dev-b", 0) == 0);
	/* Behind (1 not acknowledged): 2 stays in a's backlog. */
	CHECK(append(s, gid, 1, "dev-b", NULL, "x") == 0);
	CHECK(append(s, gid, 2, "dev-a", NULL, "x") == 0);
	CHECK(s->ds->member_pass_own(s, gid, "dev-a", 2) == 0);
	CHECK(read_all(s, "dev-a", &v));
	CHECK_EQ_INT(v.n, 2);
	CHECK_EQ_INT(v.seq[1], 2);
	/* Caught up: passed, without an acks row. */
	CHECK(send_own_caught_up(s, gid, 3));
	CHECK_EQ_INT(sql_int("SELECT count(*) FROM acks"), 1);
	CHECK(read_all(s, "dev-a", &v));
	CHECK_EQ_INT(v.n, 0);
	CHECK_EQ_INT(s->ds->member_pass_own(s, gid, "dev-c", 3),
		     BWD_ERR_NOT_FOUND);
	/* Folded with the acknowledgements: durable. */
	CHECK(fold(s));
	CHECK_EQ_INT(sql_int("SELECT acked_seq FROM members "
			     "WHERE device = 'dev-a'"), 3);
	CHECK((s = reopen(s)) != NULL);
	CHECK(read_all(s, "dev-a", &v));
	CHECK_EQ_INT(v.n, 0);
	/* Undone with the transaction. */
	CHECK(store_begin(s) == 0);
	CHECK(append(s, gid, 4, "dev-a", NULL, "x") == 0);
	CHECK(s->ds->member_pass_own(s, gid, "dev-a", 4) == 0);
	store_rollback(s);
	CHECK(append(s, gid, 4, "dev-b", NULL, "x") == 0);
	CHECK(read_all(s, "dev-a", &v));
	CHECK_EQ_INT(v.n, 1);
	CHECK_EQ_INT(v.seq[0], 4);
	/* Not folded yet at a restart: sent again. */
	CHECK(send_own_caught_up(s, gid, 5));
	CHECK(read_all(s, "dev-a", &v));
	CHECK_EQ_INT(v.n, 0);
	CHECK((s = reopen(s)) != NULL);
	CHECK(read_all(s, "dev-a", &v));
	CHECK_EQ_INT(v.n, 1);
	CHECK_EQ_INT(v.seq[0], 5);
	store_close(s);
	return true;
}

/* A database of schema 2 (group_log keyed by (gid, seq), cursors in
 * members only) opens as schema 3 with the same contents. */
static bool test_migration(void)
{
	struct store *s = fresh_store();
	struct store_idem idem;
	struct seen v;
	uint64_t last = 0;
	int64_t g1, g2;

	CHECK(s != NULL);
	CHECK(add_device(s, "dev-b", "bob"));
	g1 = add_group(s, "g1");
	g2 = add_group(s, "g2");
	CHECK(s->ds->member_join(s, g1, "dev-b", 0) == 0);
	CHECK(s->ds->member_join(s, g2, "dev-b", 0) == 0);
	store_close(s);
	/* Back to schema 2, with g2's rows before g1's in the table. */
	CHECK(sql_exec(
		"DROP TABLE messages; DROP TABLE acks;"
		"CREATE TABLE group_log (gid INTEGER NOT NULL,"
		"  seq INTEGER NOT NULL, kind INTEGER NOT NULL,"
		"  time INTEGER NOT NULL, sender TEXT NOT NULL,"
		"  idem_key BLOB, idem_hash BLOB, epoch INTEGER NOT NULL,"
		"  payload BLOB NOT NULL, PRIMARY KEY (gid, seq)) WITHOUT ROWID;"
		"CREATE UNIQUE INDEX group_log_keys ON group_log"
		"  (gid, sender, idem_key) WHERE idem_key IS NOT NULL;"
		"INSERT INTO group_log VALUES (2, 3, 1, 1, 'dev-a',"
		"  CAST('key-cccccccccccc' AS BLOB),"
		"  x'0300000000000000000000000000000000000000000000000000000000000000', 1, x'63');"
		"INSERT INTO group_log VALUES (2, 4, 1, 1, '', NULL, NULL, 1,"
		"  x'64');"
		"INSERT INTO group_log VALUES (1, 1, 1, 1, 'dev-a',"
		"  CAST('key-aaaaaaaaaaaa' AS BLOB), x'01', 1, x'61');"
		"INSERT INTO group_log VALUES (1, 2, 1, 1, 'dev-a',"
		"  CAST('key-bbbbbbbbbbbb' AS BLOB), x'02', 1, x'62');"
		"UPDATE members SET acked_seq = 1 WHERE gid = 1;"
		"PRAGMA user_version = 2;"));
	CHECK_EQ_INT(g1, 1);
	CHECK_EQ_INT(g2, 2);
	CHECK(store_sqlite_open(path, &s) == 0);
	CHECK_EQ_INT(sql_int("PRAGMA user_version"), 3);
	CHECK_EQ_INT(sql_int("SELECT count(*) FROM messages"), 4);
	CHECK_EQ_INT(sql_int("SELECT count(*) FROM sqlite_master WHERE "
			     "name = 'group_log'"),
		     0);
	CHECK(s->ds->log_last_seq(s, g1, &last) == 0);
	CHECK_EQ_INT(last, 2);
	CHECK(s->ds->log_last_seq(s, g2, &last) == 0);
	CHECK_EQ_INT(last, 4);
	CHECK(s->ds->log_find_key(s, g2, "dev-a",
				  (const uint8_t *)"key-cccccccccccc",
				  &idem) == 0);
	CHECK_EQ_INT(idem.seq, 3);
	CHECK_EQ_INT(idem.hash[0], 3);
	CHECK_EQ_INT(append(s, g1, 3, "dev-a", "key-bbbbbbbbbbbb", "retry"),
		     BWD_ERR_EXISTS);
	CHECK(read_all(s, "dev-b", &v));
	{
		uint64_t want[] = { 2, 3, 4 };
		int64_t gids[] = { g1, g2, g2 };

		CHECK_EQ_INT(v.n, 3);
		for (size_t i = 0; i < 3; i++) {
			CHECK_EQ_INT(v.seq[i], want[i]);
			CHECK_EQ_INT(v.gid[i], gids[i]);
		}
	}
	CHECK(append(s, g1, 3, "dev-a", "key-dddddddddddd", "new") == 0);
	store_close(s);
	return true;
}

/* Purge drops rows and index entries alike; a restart agrees. */
static bool test_purge_restart(void)
{
	struct store *s = fresh_store();
	struct store_purge p = { .older_than = 0, .max_per_group = 1000,
				 .now = 100, .limit = 1000 };
	struct store_idem idem;
	struct seen v;
	uint64_t last = 0;
	int64_t g1, g2;
	char key[17];

	CHECK(s != NULL);
	CHECK(add_device(s, "dev-b", "bob"));
	g1 = add_group(s, "g1");
	g2 = add_group(s, "g2");
	CHECK(s->ds->member_join(s, g1, "dev-b", 0) == 0);
	CHECK(s->ds->member_join(s, g2, "dev-b", 0) == 0);
	for (int i = 0; i < 20; i++) {
		key_of(key, i);
		CHECK(append(s, i % 2 ? g2 : g1, (uint64_t)(i / 2 + 1),
			     "dev-a", key, "m") == 0);
	}
	CHECK(s->ds->member_ack(s, g1, "dev-b", 6) == 0);
	CHECK(s->ds->member_ack(s, g2, "dev-b", 10) == 0);
	CHECK(store_begin(s) == 0);
	CHECK(s->ds->purge(s, &p) == 0);
	CHECK(store_commit(s) == 0);
	CHECK_EQ_INT(p.deleted, 16);
	CHECK_EQ_INT(sql_int("SELECT count(*) FROM messages"), 4);
	key_of(key, 0);
	CHECK_EQ_INT(s->ds->log_find_key(s, g1, "dev-a", (const uint8_t *)key,
					 &idem),
		     BWD_ERR_NOT_FOUND);
	/* g2's log is empty: its row keeps the last seq. */
	CHECK(s->ds->log_last_seq(s, g2, &last) == 0);
	CHECK_EQ_INT(last, 0);
	CHECK_EQ_INT(sql_int("SELECT last_seq FROM groups WHERE gid = 2"), 10);
	CHECK((s = reopen(s)) != NULL);
	CHECK(read_all(s, "dev-b", &v));
	CHECK_EQ_INT(v.n, 4);
	CHECK_EQ_INT(v.seq[0], 7);
	key_of(key, 18);
	CHECK(s->ds->log_find_key(s, g1, "dev-a", (const uint8_t *)key,
				  &idem) == 0);
	CHECK_EQ_INT(idem.seq, 10);
	/* A purge that is rolled back leaves the index as it was. */
	CHECK(s->ds->member_ack(s, g1, "dev-b", 10) == 0);
	p.deleted = 0;
	CHECK(store_begin(s) == 0);
	CHECK(s->ds->purge(s, &p) == 0);
	CHECK_EQ_INT(p.deleted, 4);
	store_rollback(s);
	CHECK(s->ds->log_find_key(s, g1, "dev-a", (const uint8_t *)key,
				  &idem) == 0);
	CHECK(s->ds->log_last_seq(s, g1, &last) == 0);
	CHECK_EQ_INT(last, 10);
	store_close(s);
	return true;
}

int main(void)
{
	int failed = 0;

	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_key_packages, &failed);
	RUN(test_groups_and_log, &failed);
	RUN(test_membership_and_backlog, &failed);
	RUN(test_purge, &failed);
	RUN(test_savepoints, &failed);
	RUN(test_index_rebuild, &failed);
	RUN(test_index_savepoint, &failed);
	RUN(test_fold, &failed);
	RUN(test_backlog_warms_cursor, &failed);
	RUN(test_pass_own, &failed);
	RUN(test_migration, &failed);
	RUN(test_purge_restart, &failed);
	for (int i = 0; i < counter; i++) {
		char f[300];

		snprintf(f, sizeof(f), "%s/db%d", dir, i);
		unlink(f);
		snprintf(f, sizeof(f), "%s/db%d-wal", dir, i);
		unlink(f);
		snprintf(f, sizeof(f), "%s/db%d-shm", dir, i);
		unlink(f);
	}
	rmdir(dir);
	return failed == 0 ? 0 : 1;
}

/* test_store.c - the SQLite store: schema creation and reopening,
 * users, devices, activation codes, audit, transactions that roll back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "errors.h"
#include "store.h"
#include "test.h"

static char dir[] = "/tmp/bw_test_store_XXXXXX";
static char path[256];

static int count_cb(void *arg, const struct store_device *d)
{
	(void)d;
	(*(int *)arg)++;
	return 0;
}

static int count_users(void *arg, const struct store_user *u)
{
	(void)u;
	(*(int *)arg)++;
	return 0;
}

static void make_device(struct store_device *d, const char *id,
			const char *user, uint8_t fp)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "%s", id);
	snprintf(d->user, sizeof(d->user), "%s", user);
	snprintf(d->name, sizeof(d->name), "phone");
	memset(d->fingerprint, fp, sizeof(d->fingerprint));
	d->serial[0] = fp;
	d->serial_len = 1;
	d->created = 100;
}

static bool test_users(void)
{
	struct store *s;
	struct store_user u;
	int n = 0;

	CHECK(store_sqlite_open(path, &s) == 0);
	CHECK(s->ops->user_add(s, "alice", "Alice", 10) == 0);
	CHECK_EQ_INT(s->ops->user_add(s, "alice", "Again", 11), BWD_ERR_EXISTS);
	CHECK(s->ops->user_add(s, "bob", "", 12) == 0);
	CHECK(s->ops->user_get(s, "alice", &u) == 0);
	CHECK(strcmp(u.display_name, "Alice") == 0);
	CHECK(!u.disabled);
	CHECK_EQ_INT(s->ops->user_get(s, "carol", &u), BWD_ERR_NOT_FOUND);
	CHECK(s->ops->user_disable(s, "bob") == 0);
	CHECK_EQ_INT(s->ops->user_disable(s, "carol"), BWD_ERR_NOT_FOUND);
	CHECK(s->ops->user_list(s, count_users, &n) == 0);
	CHECK_EQ_INT(n, 2);
	store_close(s);
	return true;
}

static bool test_devices_and_revocation(void)
{
	struct store *s;
	struct store_device d, revoked;
	struct store_counts c;
	int all = 0, active = 0;

	CHECK(store_sqlite_open(path, &s) == 0); /* reopens: schema kept */
	make_device(&d, "dev1", "alice", 1);
	CHECK(s->ops->device_add(s, &d) == 0);
	make_device(&d, "dev2", "alice", 2);
	CHECK(s->ops->device_add(s, &d) == 0);
	make_device(&d, "dev3", "bob", 3); /* bob is disabled */
	CHECK(s->ops->device_add(s, &d) == 0);
	make_device(&d, "dev4", "nobody", 4); /* no such user */
	CHECK(s->ops->device_add(s, &d) != 0);
	make_device(&d, "dev5", "alice", 1); /* the same certificate */
	CHECK_EQ_INT(s->ops->device_add(s, &d), BWD_ERR_EXISTS);
	CHECK(s->ops->device_revoke(s, "dev2", 200, &revoked) == 0);
	CHECK_EQ_INT(revoked.fingerprint[0], 2);
	CHECK_EQ_INT(revoked.revoked_at, 200);
	CHECK_EQ_INT(s->ops->device_revoke(s, "dev2", 201, &revoked),
		     BWD_ERR_NOT_FOUND);
	CHECK(s->ops->device_list(s, NULL, count_cb, &all) == 0);
	CHECK_EQ_INT(all, 3);
	CHECK(s->ops->device_list_active(s, count_cb, &active) == 0);
	CHECK_EQ_INT(active, 1); /* dev1: dev2 revoked, bob disabled */
	CHECK(s->ops->counts(s, &c) == 0);
	CHECK_EQ_INT(c.users, 2);
	CHECK_EQ_INT(c.devices, 2);
	store_close(s);
	return true;
}

static bool test_activation_codes(void)
{
	struct store *s;
	struct store_activation a = { 0 }, got;

	CHECK(store_sqlite_open(path, &s) == 0);
	snprintf(a.user, sizeof(a.user), "alice");
	snprintf(a.code_id, sizeof(a.code_id), "code1");
	CHECK(bw_bytes_set(&a.w0, "w0w0", 4) == 0);
	CHECK(bw_bytes_set(&a.l, "LLLL", 4) == 0);
	CHECK(bw_bytes_set(&a.salt, "salt", 4) == 0);
	CHECK(bw_bytes_set(&a.kdf_params, "kdf", 3) == 0);
	a.created = 1;
	a.expires = 1000;
	CHECK(s->ops->activation_add(s, &a) == 0);
	CHECK_EQ_INT(s->ops->activation_add(s, &a), BWD_ERR_EXISTS);
	snprintf(a.user, sizeof(a.user), "bob");
	snprintf(a.code_id, sizeof(a.code_id), "code2");
	CHECK_EQ_INT(s->ops->activation_add(s, &a), BWD_ERR_DISABLED);
	CHECK_EQ_INT(s->ops->activation_get(s, "bob", "code1", &got),
		     BWD_ERR_NOT_FOUND); /* the code is alice's */
	CHECK(s->ops->activation_count_attempt(s, "alice", "code1") == 0);
	CHECK(s->ops->activation_count_attempt(s, "alice", "code1") == 0);
	CHECK(s->ops->activation_get(s, "alice", "code1", &got) == 0);
	CHECK_EQ_INT(got.attempts, 2);
	CHECK(!got.used);
	CHECK_MEM(got.w0.p, got.w0.len, "w0w0", 4);
	CHECK_EQ_INT(got.expires, 1000);
	store_activation_clear(&got);
	CHECK(s->ops->activation_mark_used(s, "alice", "code1") == 0);
	CHECK_EQ_INT(s->ops->activation_mark_used(s, "alice", "code1"),
		     BWD_ERR_NOT_FOUND); /* single use */
	store_activation_clear(&a);
	store_close(s);
	return true;
}

/* A rolled-back transaction leaves nothing behind. */
static bool test_rollback(void)
{
	struct store *s;
	struct store_user u;

	CHECK(store_sqlite_open(path, &s) == 0);
	CHECK(store_begin(s) == 0);
	CHECK(s->ops->user_add(s, "carol", "Carol", 5) == 0);
	CHECK(s->ops->audit_add(s, 5, "test", "user add", "carol", "ok") == 0);
	store_rollback(s);
	CHECK_EQ_INT(s->ops->user_get(s, "carol", &u), BWD_ERR_NOT_FOUND);
	CHECK(store_begin(s) == 0);
	CHECK(s->ops->user_add(s, "carol", "Carol", 5) == 0);
	CHECK(store_commit(s) == 0);
	CHECK(s->ops->user_get(s, "carol", &u) == 0);
	store_close(s);
	return true;
}

static bool test_server_key(void)
{
	struct bw_bytes k1 = { 0 }, k2 = { 0 };
	struct store *s;

	CHECK(store_sqlite_open(path, &s) == 0);
	CHECK(s->ops->server_key(s, "k", 32, &k1) == 0);
	CHECK_EQ_INT(k1.len, 32);
	store_close(s);
	CHECK(store_sqlite_open(path, &s) == 0);
	CHECK(s->ops->server_key(s, "k", 32, &k2) == 0);
	CHECK(bw_bytes_eq(&k1, k2.p, k2.len)); /* kept across restarts */
	bw_bytes_clear(&k1);
	bw_bytes_clear(&k2);
	store_close(s);
	return true;
}

/* A database from a newer server is refused, not misread. */
static bool test_newer_schema(void)
{
	struct store *s;
	sqlite3 *db;

	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) ==
	      SQLITE_OK);
	sqlite3_close(db);
	CHECK_EQ_INT(store_sqlite_open(path, &s), BWD_ERR_SCHEMA);
	return true;
}

int main(void)
{
	int failed = 0;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/bulwark.db", dir);
	RUN(test_users, &failed);
	RUN(test_devices_and_revocation, &failed);
	RUN(test_activation_codes, &failed);
	RUN(test_rollback, &failed);
	RUN(test_server_key, &failed);
	RUN(test_newer_schema, &failed);
	unlink(path);
	snprintf(path, sizeof(path), "%s/bulwark.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/bulwark.db-shm", dir);
	unlink(path);
	rmdir(dir);
	return failed ? 1 : 0;
}

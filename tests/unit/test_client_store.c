/* test_client_store.c - the device's local conversation store: round trips
 * across reopening, nothing readable on disk, tampering detected (a
 * changed byte, a value moved to another row), another keystore's key
 * refused, one process at a time, transactions, duplicates; and the
 * plaintext envelope of application messages. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bulwark/bulwark.h"
#include "client.h"
#include "store.h"
#include "test.h"

#define PASS "store test passphrase"
#define SECRET_TEXT "canary-7f3a9 meet at the north gate"
#define SECRET_NAME "operation-canary"

static char dir[64];
static char db_path[128], ks_path[128], ks2_path[128];

static bool setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/bw_store_XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(db_path, sizeof(db_path), "%s/store.db", dir);
	snprintf(ks_path, sizeof(ks_path), "%s/keystore", dir);
	snprintf(ks2_path, sizeof(ks2_path), "%s/keystore2", dir);
	return true;
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static const uint8_t gid_a[32] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5 };
static const uint8_t gid_b[32] = { 0xb1, 0xb2, 0xb3, 0xb4, 0xb5 };

static bool make_conv(struct store_conv *c, const uint8_t *gid,
		      const char *name, uint64_t cursor)
{
	static const uint8_t state[] = "sealed-by-libmls";

	memset(c, 0, sizeof(*c));
	CHECK(bw_bytes_set(&c->group_id, gid, 32) == 0);
	CHECK(bw_bytes_set(&c->state, state, sizeof(state)) == 0);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->created = 1700000000;
	c->cursor = cursor;
	c->epoch = 3;
	c->active = true;
	c->proposals = true;
	return true;
}

static bool make_msg(struct store_msg *m, const uint8_t *gid, uint64_t seq,
		     const char *text)
{
	memset(m, 0, sizeof(*m));
	CHECK(bw_bytes_set(&m->group_id, gid, 32) == 0);
	CHECK(bw_bytes_set(&m->text, text, strlen(text)) == 0);
	snprintf(m->user, sizeof(m->user), "alice");
	snprintf(m->device_id, sizeof(m->device_id), "d-17");
	m->seq = seq;
	m->time = 1700000100 + seq;
	m->kind = STORE_MSG_TEXT;
	return true;
}

static struct store *open_store(const char *kspath, bool create, int *rc)
{
	struct bulwark_keystore *ks = NULL;
	struct store *s = NULL;

	*rc = create ? bulwark_keystore_create(kspath, PASS, &ks)
		     : bulwark_keystore_open(kspath, PASS, &ks);
	if (*rc == 0)
		*rc = store_open(db_path, ks, &s);
	bulwark_keystore_free(ks);
	return s;
}

static bool contains(const uint8_t *p, size_t len, const void *needle,
		     size_t n)
{
	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (memcmp(p + i, needle, n) == 0)
			return true;
	return false;
}

/* Does needle occur in the file at path? */
static bool file_contains(const char *path, const void *needle, size_t n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;
	bool found = false;

	if (f == NULL)
		return false;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (len > 0 && (buf = malloc((size_t)len)) != NULL) {
		if (fread(buf, 1, (size_t)len, f) == (size_t)len)
			found = contains(buf, (size_t)len, needle, n);
		free(buf);
	}
	fclose(f);
	return found;
}

static bool disk_contains(const void *needle, size_t n)
{
	char wal[160];

	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	return file_contains(db_path, needle, n) ||
	       file_contains(wal, needle, n);
}

static bool test_round_trip(void)
{
	struct store_conv c, got, *list;
	struct store_msg m, *msgs;
	struct store_kp kp, *kps;
	struct store *s;
	uint64_t v;
	size_t n;
	bool has;
	int rc;

	CHECK((s = open_store(ks_path, true, &rc)) != NULL);
	CHECK(make_conv(&c, gid_a, SECRET_NAME, 0));
	CHECK(store_conv_put(s, &c) == 0);
	store_conv_clear(&c);
	CHECK(make_conv(&c, gid_b, "", 7));
	c.active = false;
	CHECK(store_conv_put(s, &c) == 0);
	store_conv_clear(&c);

	CHECK(make_msg(&m, gid_a, 2, SECRET_TEXT));
	CHECK(store_msg_add(s, &m) == 0);
	CHECK(m.id > 0);
	store_msg_clear(&m);
	CHECK(make_msg(&m, gid_a, 1, "earlier"));
	m.own = true;
	CHECK(store_msg_add(s, &m) == 0);
	CHECK_EQ_INT(store_msg_add(s, &m), BULWARK_ERR_STORE_DUPLICATE);
	store_msg_clear(&m);

	memset(&kp, 0, sizeof(kp));
	memset(kp.id, 0x42, sizeof(kp.id));
	kp.last_resort = true;
	CHECK(bw_bytes_set(&kp.bundle, "bundle", 6) == 0);
	CHECK(store_kp_add(s, &kp) == 0);
	bw_bytes_clear(&kp.bundle);
	CHECK(store_counter_set(s, STORE_C_INBOX, 12) == 0);
	store_free(s);

	/* Everything back after reopening with the keystore. */
	CHECK((s = open_store(ks_path, false, &rc)) != NULL);
	CHECK(store_conv_get(s, gid_a, 32, &got) == 0);
	CHECK(strcmp(got.name, SECRET_NAME) == 0);
	CHECK(got.active && got.proposals);
	CHECK_EQ_INT(got.epoch, 3);
	CHECK_EQ_INT(got.created, 1700000000);
	CHECK_MEM(got.state.p, got.state.len, "sealed-by-libmls", 17);
	store_conv_clear(&got);
	CHECK_EQ_INT(store_conv_get(s, gid_a, 31, &got),
		     BULWARK_ERR_NO_CONVERSATION);
	CHECK(store_conv_list(s, &list, &n) == 0);
	CHECK_EQ_INT(n, 2);
	CHECK(list[0].group_id.p[0] == 0xa1 && !list[1].active);
	CHECK_EQ_INT(list[1].cursor, 7);
	store_convs_free(list, n);

	CHECK(store_msg_has(s, gid_a, 32, 2, &has) == 0 && has);
	CHECK(store_msg_has(s, gid_a, 32, 3, &has) == 0 && !has);
	CHECK(store_msg_has(s, gid_b, 32, 2, &has) == 0 && !has);
	/* A conversation's history in seq order; all of them in id order. */
	CHECK(store_msg_list(s, gid_a, 32, 0, 0, &msgs, &n) == 0);
	CHECK_EQ_INT(n, 2);
	CHECK(msgs[0].seq == 1 && msgs[0].own && msgs[1].seq == 2);
	CHECK_MEM(msgs[1].text.p, msgs[1].text.len, SECRET_TEXT,
		  strlen(SECRET_TEXT));
	CHECK(strcmp(msgs[1].user, "alice") == 0 &&
	      strcmp(msgs[1].device_id, "d-17") == 0);
	store_msgs_free(msgs, n);
	CHECK(store_msg_list(s, NULL, 0, 0, 0, &msgs, &n) == 0);
	CHECK(n == 2 && msgs[0].seq == 2 && msgs[0].id < msgs[1].id);
	v = msgs[0].id;
	store_msgs_free(msgs, n);
	CHECK(store_msg_list(s, NULL, 0, v, 0, &msgs, &n) == 0);
	CHECK(n == 1 && msgs[0].seq == 1);
	store_msgs_free(msgs, n);

	CHECK(store_kp_list(s, &kps, &n) == 0);
	CHECK(n == 1 && kps[0].last_resort && kps[0].id[0] == 0x42);
	store_kps_free(kps, n);
	CHECK(store_kp_delete(s, kp.id) == 0);
	CHECK(store_kp_list(s, &kps, &n) == 0 && n == 0);
	store_kps_free(kps, n);
	CHECK(store_counter_get(s, STORE_C_INBOX, &v) == 0 && v == 12);
	CHECK(store_counter_get(s, STORE_C_SHOWN, &v) == 0 && v == 0);
	CHECK(store_conv_delete(s, gid_b, 32) == 0);
	CHECK_EQ_INT(store_conv_get(s, gid_b, 32, &got),
		     BULWARK_ERR_NO_CONVERSATION);
	store_free(s);
	return true;
}

/* The passphrase protects everything: no text, name or group id is on
 * disk in clear, and the file is only its owner's. */
static bool test_nothing_in_clear(void)
{
	struct stat st;

	CHECK(!disk_contains(SECRET_TEXT, strlen(SECRET_TEXT)));
	CHECK(!disk_contains("canary", 6));
	CHECK(!disk_contains(SECRET_NAME, strlen(SECRET_NAME)));
	CHECK(!disk_contains("alice", 5));
	CHECK(!disk_contains(gid_a, 5));
	CHECK(stat(db_path, &st) == 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	return true;
}

static bool sql(const char *statement)
{
	sqlite3 *db = NULL;
	bool ok = sqlite3_open(db_path, &db) == SQLITE_OK &&
		  sqlite3_exec(db, statement, NULL, NULL, NULL) == SQLITE_OK;

	sqlite3_close(db);
	return ok;
}

static bool test_tampering(void)
{
	struct store_conv got;
	struct store_msg *msgs;
	struct store *s;
	size_t n;
	int rc;

	/* One byte of a message's sealed body changed. */
	CHECK(sql("UPDATE messages SET body = substr(body, 1, 20) ||"
		  " (CASE WHEN substr(body, 21, 1) = x'00' THEN x'01'"
		  " ELSE x'00' END) || substr(body, 22) WHERE seq = 2"));
	CHECK((s = open_store(ks_path, false, &rc)) != NULL);
	CHECK_EQ_INT(store_msg_list(s, gid_a, 32, 0, 0, &msgs, &n),
		     BULWARK_ERR_STORE_CORRUPT);
	store_free(s);
	CHECK(sql("DELETE FROM messages WHERE seq = 2"));

	/* A message moved to another seq, a conversation's info moved to
	 * another row: both caught by the associated data. */
	CHECK(sql("UPDATE messages SET seq = 5 WHERE seq = 1"));
	CHECK((s = open_store(ks_path, false, &rc)) != NULL);
	CHECK_EQ_INT(store_msg_list(s, gid_a, 32, 0, 0, &msgs, &n),
		     BULWARK_ERR_STORE_CORRUPT);
	store_free(s);
	CHECK(sql("DELETE FROM messages"));
	CHECK((s = open_store(ks_path, false, &rc)) != NULL);
	CHECK(store_conv_get(s, gid_a, 32, &got) == 0);
	memcpy(got.group_id.p, gid_b, 32); /* a second row, b's */
	CHECK(store_conv_put(s, &got) == 0);
	store_conv_clear(&got);
	store_free(s);
	CHECK(sql("UPDATE conversations SET info = (SELECT info FROM"
		  " conversations ORDER BY rowid LIMIT 1 OFFSET 1) WHERE"
		  " rowid = (SELECT min(rowid) FROM conversations)"));
	CHECK((s = open_store(ks_path, false, &rc)) != NULL);
	CHECK_EQ_INT(store_conv_get(s, gid_a, 32, &got),
		     BULWARK_ERR_STORE_CORRUPT);
	store_free(s);
	return true;
}

/* Another keystore's key does not open this store; a second opener waits
 * its turn. */
static bool test_key_and_lock(void)
{
	struct store *s, *s2;
	int rc;

	CHECK(open_store(ks2_path, true, &rc) == NULL);
	CHECK_EQ_INT(rc, BULWARK_ERR_STORE_KEY);
	CHECK((s = open_store(ks_path, false, &rc)) != NULL);
	CHECK((s2 = open_store(ks_path, false, &rc)) == NULL);
	CHECK_EQ_INT(rc, BULWARK_ERR_STORE_BUSY);
	store_free(s);
	CHECK((s2 = open_store(ks_path, false, &rc)) != NULL);
	store_free(s2);
	return true;
}

/* A rolled-back transaction leaves nothing. */
static bool test_transaction(void)
{
	struct store_msg m;
	struct store *s;
	bool has;
	int rc;

	CHECK((s = open_store(ks_path, false, &rc)) != NULL);
	CHECK(store_begin(s) == 0);
	CHECK(make_msg(&m, gid_a, 9, "rolled back"));
	CHECK(store_msg_add(s, &m) == 0);
	CHECK(store_counter_set(s, STORE_C_INBOX, 99) == 0);
	store_rollback(s);
	store_msg_clear(&m);
	CHECK(store_msg_has(s, gid_a, 32, 9, &has) == 0 && !has);
	CHECK(store_begin(s) == 0);
	CHECK(make_msg(&m, gid_a, 9, "kept"));
	CHECK(store_msg_add(s, &m) == 0);
	CHECK(store_commit(s) == 0);
	store_msg_clear(&m);
	CHECK(store_msg_has(s, gid_a, 32, 9, &has) == 0 && has);
	store_free(s);
	return true;
}

static bool test_app_message(void)
{
	struct bw_bytes b = { 0 };
	const uint8_t *text;
	size_t len;
	uint8_t kind;
	char big[BULWARK_MAX_TEXT + 1];

	CHECK(app_message_encode(STORE_MSG_TEXT, "hi", 2, &b) == 0);
	CHECK(app_message_decode(b.p, b.len, &kind, &text, &len) == 0);
	CHECK(kind == STORE_MSG_TEXT && len == 2 && memcmp(text, "hi", 2) == 0);
	/* Trailing byte, truncation, unknown kind, an unprintable title. */
	CHECK(app_message_decode(b.p, b.len - 1, &kind, &text, &len) != 0);
	b.p[0] = 7;
	CHECK(app_message_decode(b.p, b.len, &kind, &text, &len) != 0);
	bw_bytes_clear(&b);
	CHECK_EQ_INT(app_message_encode(STORE_MSG_TITLE, "a\033b", 3, &b),
		     BULWARK_ERR_CONV_NAME);
	CHECK_EQ_INT(app_message_encode(STORE_MSG_TEXT, "", 0, &b),
		     BULWARK_ERR_TEXT_SIZE);
	memset(big, 'x', sizeof(big));
	CHECK_EQ_INT(app_message_encode(STORE_MSG_TEXT, big, sizeof(big), &b),
		     BULWARK_ERR_TEXT_SIZE);
	CHECK(app_message_encode(STORE_MSG_TEXT, big, BULWARK_MAX_TEXT, &b) ==
	      0);
	CHECK(app_message_decode(b.p, b.len, &kind, &text, &len) == 0 &&
	      len == BULWARK_MAX_TEXT);
	bw_bytes_clear(&b);
	return true;
}

int main(void)
{
	int failed = 0;

	/* Keystores here are made with the lowest scrypt cost. */
	setenv("BULWARK_TEST_KEYSTORE_LOG2_N", "10", 1);
	if (!setup())
		return 1;
	RUN(test_round_trip, &failed);
	RUN(test_nothing_in_clear, &failed);
	RUN(test_tampering, &failed);
	RUN(test_key_and_lock, &failed);
	RUN(test_transaction, &failed);
	RUN(test_app_message, &failed);
	teardown();
	return failed ? 1 : 0;
}

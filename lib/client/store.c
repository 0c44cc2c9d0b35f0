/*
 * store.c - the device's local conversation store: SQLite with sealed
 * columns (store.h; docs/libbulwark.md, "The local store").
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "codec.h"
#include "store_seal.h"

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 5000
#define LOCK_SUFFIX ".lock"

struct store {
	sqlite3 *db;
	int lock_fd;
	struct seal_keys keys;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta("
	" name TEXT PRIMARY KEY, value BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS conversations("
	" ref BLOB PRIMARY KEY, cursor INTEGER NOT NULL,"
	" info BLOB NOT NULL, state BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS messages("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, ref BLOB NOT NULL,"
	" seq INTEGER NOT NULL, body BLOB NOT NULL, UNIQUE(ref, seq));"
	"CREATE TABLE IF NOT EXISTS key_packages("
	" id BLOB PRIMARY KEY, last_resort INTEGER NOT NULL,"
	" bundle BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS counters("
	" name TEXT PRIMARY KEY, value INTEGER NOT NULL);";

/* ---- SQLite helpers ---- */

static int sql_error(int code)
{
	switch (code & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_NOMEM:
		return BW_ERR_NOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return BULWARK_ERR_STORE_BUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return BULWARK_ERR_STORE_CORRUPT;
	case SQLITE_CONSTRAINT:
		return BULWARK_ERR_STORE_DUPLICATE;
	default:
		return BULWARK_ERR_STORE_IO;
	}
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
	return sql_error(sqlite3_prepare_v2(s->db, sql, -1, st, NULL));
}

/* Run a prepared statement that returns no rows, and finalise it. */
static int run_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sql_error(rc);
}

static int exec(struct store *s, const char *sql)
{
	return sql_error(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

static int bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	/* An empty value is an empty blob, not NULL. */
	static const uint8_t none[1];

	return sql_error(sqlite3_bind_blob64(st, i, n ? p : none, n,
					     SQLITE_STATIC));
}

static int column_copy(sqlite3_stmt *st, int i, size_t max,
		       struct bw_bytes *out)
{
	const void *p = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);

	if (n > max || (n > 0 && p == NULL))
		return BULWARK_ERR_STORE_CORRUPT;
	return bw_bytes_set(out, p, n);
}

int store_begin(struct store *s)
{
	return exec(s, "BEGIN IMMEDIATE");
}

int store_commit(struct store *s)
{
	return exec(s, "COMMIT");
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- opening ---- */

static int take_lock(const char *path, int *fd_out)
{
	char lock[4096 + sizeof(LOCK_SUFFIX)];
	int fd;

	if ((size_t)snprintf(lock, sizeof(lock), "%s" LOCK_SUFFIX, path) >=
	    sizeof(lock))
		return BULWARK_ERR_STORE_IO;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return BULWARK_ERR_STORE_IO;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int busy = errno == EWOULDBLOCK;

		close(fd);
		return busy ? BULWARK_ERR_STORE_BUSY : BULWARK_ERR_STORE_IO;
	}
	*fd_out = fd;
	return 0;
}

/* The store key from the keystore, made on first use. */
static int store_key(struct bulwark_keystore *ks, struct seal_keys *keys)
{
	uint8_t fresh[STORE_KEY_LEN], *key = NULL;
	size_t len = 0;
	int rc = bulwark_keystore_get(ks, STORE_KEY_ENTRY, &key, &len);

	if (rc == BULWARK_ERR_KS_NOT_FOUND) {
		if (RAND_bytes(fresh, sizeof(fresh)) != 1)
			return BULWARK_ERR_KS_CRYPTO;
		rc = bulwark_keystore_put(ks, STORE_KEY_ENTRY, fresh,
					  sizeof(fresh));
		if (rc == 0)
			rc = seal_keys_derive(fresh, sizeof(fresh), keys);
		OPENSSL_cleanse(fresh, sizeof(fresh));
		return rc;
	}
	if (rc == 0)
		rc = seal_keys_derive(key, len, keys);
	bulwark_secret_free(key, len);
	return rc;
}

/* A new database gets its version and key check; an existing one must
 * carry the same. */
static int check_meta(struct store *s)
{
	uint8_t want[SEAL_REF_LEN];
	sqlite3_stmt *st = NULL;
	int rc, version = -1;
	bool key_ok = false, have_key = false;

	if ((rc = seal_check_value(&s->keys, want)) != 0 ||
	    (rc = prepare(s, "SELECT name, value FROM meta", &st)) != 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const void *v = sqlite3_column_blob(st, 1);
		int n = sqlite3_column_bytes(st, 1);

		if (name != NULL && strcmp(name, "version") == 0)
			version = sqlite3_column_int(st, 1);
		else if (name != NULL && strcmp(name, "key_check") == 0) {
			have_key = true;
			key_ok = n == SEAL_REF_LEN && v != NULL &&
				 CRYPTO_memcmp(v, want, SEAL_REF_LEN) == 0;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_error(rc);
	if (version == -1 && !have_key) {
		if ((rc = prepare(s, "INSERT INTO meta VALUES ('version', ?1),"
				     " ('key_check', ?2)", &st)) != 0)
			return rc;
		sqlite3_bind_int(st, 1, SCHEMA_VERSION);
		bind_blob(st, 2, want, sizeof(want));
		return run_done(st);
	}
	if (version != SCHEMA_VERSION)
		return BULWARK_ERR_STORE_VERSION;
	return key_ok ? 0 : BULWARK_ERR_STORE_KEY;
}

/* The file exists before SQLite opens it, with mode 0600; SQLite gives its
 * -wal and -shm files the same mode. */
static int create_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return BULWARK_ERR_STORE_IO;
	close(fd);
	return 0;
}

static int open_db(struct store *s, const char *path)
{
	int rc;

	if ((rc = create_file(path)) != 0)
		return rc;
	if ((rc = sql_error(sqlite3_open_v2(
		     path, &s->db,
		     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL))) != 0)
		return rc;
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* Durable at every commit: an acknowledgement follows it. */
	if ((rc = exec(s, "PRAGMA journal_mode=WAL")) != 0 ||
	    (rc = exec(s, "PRAGMA synchronous=FULL")) != 0 ||
	    (rc = exec(s, "PRAGMA secure_delete=ON")) != 0 ||
	    (rc = store_begin(s)) != 0)
		return rc;
	if ((rc = exec(s, schema)) != 0 || (rc = check_meta(s)) != 0) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

int store_open(const char *path, struct bulwark_keystore *ks,
	       struct store **out)
{
	struct store *s;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return BW_ERR_NOMEM;
	s->lock_fd = -1;
	if ((rc = take_lock(path, &s->lock_fd)) != 0 ||
	    (rc = store_key(ks, &s->keys)) != 0 ||
	    (rc = open_db(s, path)) != 0) {
		store_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void store_free(struct store *s)
{
	if (s == NULL)
		return;
	sqlite3_close_v2(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* releases the lock */
	seal_keys_clear(&s->keys);
	free(s);
}

const uint8_t *store_state_key(const struct store *s)
{
	return s->keys.state;
}

/* ---- associated data: which table, which row ---- */

struct aad {
	uint8_t p[8 + SEAL_REF_LEN + 8];
	size_t n;
};

static void aad_make(struct aad *a, const char tag[8],
		     const uint8_t ref[SEAL_REF_LEN], uint64_t seq)
{
	memcpy(a->p, tag, 8);
	memcpy(a->p + 8, ref, SEAL_REF_LEN);
	for (int i = 0; i < 8; i++)
		a->p[8 + SEAL_REF_LEN + i] = (uint8_t)(seq >> (56 - 8 * i));
	a->n = sizeof(a->p);
}

/* ---- conversations ----
 *
 * info = struct { opaque group_id<1..64>; opaque name<0..64>;
 *                 uint64 created; uint64 epoch; uint8 active;
 *                 uint8 proposals; }
 */

static int info_encode(const struct store_conv *c, struct bw_bytes *out)
{
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 1024);
	bw_write_opaque(&w, c->group_id.p, c->group_id.len);
	bw_write_opaque(&w, c->name, strlen(c->name));
	bw_write_u64(&w, c->created);
	bw_write_u64(&w, c->epoch);
	bw_write_u8(&w, c->active ? 1 : 0);
	bw_write_u8(&w, c->proposals ? 1 : 0);
	rc = bw_writer_take(&w, &out->p, &out->len);
	bw_writer_free(&w);
	return rc;
}

static int info_decode(const struct bw_bytes *in, struct store_conv *c)
{
	const uint8_t *gid, *name;
	size_t gid_len, name_len;
	uint8_t active, proposals;
	struct bw_reader r;

	bw_reader_init(&r, in->p, in->len);
	bw_read_opaque(&r, STORE_MAX_GROUP_ID, &gid, &gid_len);
	bw_read_opaque(&r, BULWARK_MAX_NAME, &name, &name_len);
	bw_read_u64(&r, &c->created);
	bw_read_u64(&r, &c->epoch);
	bw_read_u8(&r, &active);
	bw_read_u8(&r, &proposals);
	if (bw_reader_finish(&r) != 0 || gid_len == 0 || active > 1 ||
	    proposals > 1 || memchr(name, 0, name_len) != NULL)
		return BULWARK_ERR_STORE_CORRUPT;
	memcpy(c->name, name, name_len);
	c->name[name_len] = '\0';
	c->active = active;
	c->proposals = proposals;
	return bw_bytes_set(&c->group_id, gid, gid_len);
}

int store_conv_put(struct store *s, const struct store_conv *c)
{
	static const char sql[] =
		"INSERT INTO conversations(ref, cursor, info, state)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT(ref) DO UPDATE SET"
		" cursor = ?2, info = ?3, state = ?4";
	uint8_t ref[SEAL_REF_LEN];
	struct bw_bytes info = { 0 }, sealed = { 0 };
	struct aad aad;
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = seal_ref(&s->keys, c->group_id.p, c->group_id.len, ref)) !=
		    0 ||
	    (rc = info_encode(c, &info)) != 0)
		goto out;
	aad_make(&aad, "conv\0\0\0\0", ref, 0);
	if ((rc = seal_value(&s->keys, aad.p, aad.n, info.p, info.len,
			     &sealed)) != 0 ||
	    (rc = prepare(s, sql, &st)) != 0)
		goto out;
	bind_blob(st, 1, ref, sizeof(ref));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c->cursor);
	bind_blob(st, 3, sealed.p, sealed.len);
	bind_blob(st, 4, c->state.p, c->state.len);
	rc = run_done(st);
out:
	bw_bytes_clear(&info);
	bw_bytes_clear(&sealed);
	return rc;
}

/* A row of SELECT ref, cursor, info, state. */
static int conv_row(struct store *s, sqlite3_stmt *st, struct store_conv *c)
{
	struct bw_bytes ref = { 0 }, sealed = { 0 }, info = { 0 };
	struct aad aad;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = column_copy(st, 0, SEAL_REF_LEN, &ref)) != 0 ||
	    (rc = column_copy(st, 2, STORE_MAX_STATE, &sealed)) != 0 ||
	    (rc = column_copy(st, 3, STORE_MAX_STATE, &c->state)) != 0)
		goto out;
	if (ref.len != SEAL_REF_LEN) {
		rc = BULWARK_ERR_STORE_CORRUPT;
		goto out;
	}
	c->cursor = (uint64_t)sqlite3_column_int64(st, 1);
	aad_make(&aad, "conv\0\0\0\0", ref.p, 0);
	if ((rc = seal_open(&s->keys, aad.p, aad.n, sealed.p, sealed.len,
			    &info)) != 0 ||
	    (rc = info_decode(&info, c)) != 0)
		goto out;
out:
	if (rc != 0)
		store_conv_clear(c);
	bw_bytes_clear(&ref);
	bw_bytes_clear(&sealed);
	bw_bytes_clear(&info);
	return rc;
}

int store_conv_get(struct store *s, const uint8_t *gid, size_t gid_len,
		   struct store_conv *out)
{
	uint8_t ref[SEAL_REF_LEN];
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = seal_ref(&s->keys, gid, gid_len, ref)) != 0 ||
	    (rc = prepare(s, "SELECT ref, cursor, info, state FROM"
			     " conversations WHERE ref = ?1", &st)) != 0)
		return rc;
	bind_blob(st, 1, ref, sizeof(ref));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = conv_row(s, st, out);
	else
		rc = rc == SQLITE_DONE ? BULWARK_ERR_NO_CONVERSATION
				       : sql_error(rc);
	sqlite3_finalize(st);
	/* The sealed info names its group: a row moved from elsewhere is
	 * caught here. */
	if (rc == 0 && !bw_bytes_eq(&out->group_id, gid, gid_len)) {
		store_conv_clear(out);
		rc = BULWARK_ERR_STORE_CORRUPT;
	}
	return rc;
}

/* Append one element to a growing array of size elem. */
static int grow(void **arr, size_t *n, size_t *cap, size_t elem)
{
	void *p;
	size_t ncap;

	if (*n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if ((p = realloc(*arr, ncap * elem)) == NULL)
		return BW_ERR_NOMEM;
	memset((uint8_t *)p + *cap * elem, 0, (ncap - *cap) * elem);
	*arr = p;
	*cap = ncap;
	return 0;
}

int store_conv_list(struct store *s, struct store_conv **out, size_t *n)
{
	struct store_conv *arr = NULL;
	size_t count = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	int rc = 0, step;

	*out = NULL;
	*n = 0;
	if ((rc = prepare(s, "SELECT ref, cursor, info, state FROM"
			     " conversations ORDER BY rowid", &st)) != 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = grow((void **)&arr, &count, &cap, sizeof(*arr))) !=
			    0 ||
		    (rc = conv_row(s, st, &arr[count])) != 0)
			break;
		count++;
	}
	sqlite3_finalize(st);
	if (rc == 0 && step != SQLITE_DONE)
		rc = sql_error(step);
	if (rc != 0) {
		store_convs_free(arr, count);
		return rc;
	}
	*out = arr;
	*n = count;
	return 0;
}

int store_conv_delete(struct store *s, const uint8_t *gid, size_t gid_len)
{
	uint8_t ref[SEAL_REF_LEN];
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = seal_ref(&s->keys, gid, gid_len, ref)) != 0 ||
	    (rc = prepare(s, "DELETE FROM conversations WHERE ref = ?1",
			  &st)) != 0)
		return rc;
	bind_blob(st, 1, ref, sizeof(ref));
	return run_done(st);
}

void store_conv_clear(struct store_conv *c)
{
	bw_bytes_clear(&c->group_id);
	bw_bytes_clear(&c->state);
	memset(c, 0, sizeof(*c));
}

void store_convs_free(struct store_conv *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_conv_clear(&c[i]);
	free(c);
}

/* ---- messages ----
 *
 * body = struct { opaque group_id<1..64>; uint64 time; uint8 kind;
 *                 uint8 own; opaque user<0..64>; opaque device_id<0..64>;
 *                 opaque text<0..STORE_MAX_TEXT>; }
 */

static int body_encode(const struct store_msg *m, struct bw_bytes *out)
{
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, STORE_MAX_TEXT + 1024);
	bw_write_opaque(&w, m->group_id.p, m->group_id.len);
	bw_write_u64(&w, m->time);
	bw_write_u8(&w, m->kind);
	bw_write_u8(&w, m->own ? 1 : 0);
	bw_write_opaque(&w, m->user, strlen(m->user));
	bw_write_opaque(&w, m->device_id, strlen(m->device_id));
	bw_write_opaque(&w, m->text.p, m->text.len);
	rc = bw_writer_take(&w, &out->p, &out->len);
	bw_writer_free(&w);
	return rc;
}

static int read_name(struct bw_reader *r, char out[BULWARK_MAX_NAME + 1])
{
	const uint8_t *p;
	size_t n;

	if (bw_read_opaque(r, BULWARK_MAX_NAME, &p, &n) != 0 ||
	    memchr(p, 0, n) != NULL)
		return bw_reader_fail(r, BULWARK_ERR_STORE_CORRUPT);
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int body_decode(const struct bw_bytes *in, struct store_msg *m)
{
	const uint8_t *gid, *text;
	size_t gid_len, text_len;
	uint8_t own;
	struct bw_reader r;
	int rc;

	bw_reader_init(&r, in->p, in->len);
	bw_read_opaque(&r, STORE_MAX_GROUP_ID, &gid, &gid_len);
	bw_read_u64(&r, &m->time);
	bw_read_u8(&r, &m->kind);
	bw_read_u8(&r, &own);
	read_name(&r, m->user);
	read_name(&r, m->device_id);
	bw_read_opaque(&r, STORE_MAX_TEXT, &text, &text_len);
	if (bw_reader_finish(&r) != 0 || own > 1)
		return BULWARK_ERR_STORE_CORRUPT;
	m->own = own;
	if ((rc = bw_bytes_set(&m->group_id, gid, gid_len)) != 0)
		return rc;
	return bw_bytes_set(&m->text, text, text_len);
}

int store_msg_add(struct store *s, struct store_msg *m)
{
	uint8_t ref[SEAL_REF_LEN];
	struct bw_bytes body = { 0 }, sealed = { 0 };
	struct aad aad;
	sqlite3_stmt *st = NULL;
	int rc;

	if (m->text.len > STORE_MAX_TEXT)
		return BULWARK_ERR_TEXT_SIZE;
	if ((rc = seal_ref(&s->keys, m->group_id.p, m->group_id.len, ref)) !=
		    0 ||
	    (rc = body_encode(m, &body)) != 0)
		goto out;
	aad_make(&aad, "message\0", ref, m->seq);
	if ((rc = seal_value(&s->keys, aad.p, aad.n, body.p, body.len,
			     &sealed)) != 0 ||
	    (rc = prepare(s, "INSERT INTO messages(ref, seq, body)"
			     " VALUES (?1, ?2, ?3)", &st)) != 0)
		goto out;
	bind_blob(st, 1, ref, sizeof(ref));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)m->seq);
	bind_blob(st, 3, sealed.p, sealed.len);
	if ((rc = run_done(st)) == 0)
		m->id = (uint64_t)sqlite3_last_insert_rowid(s->db);
out:
	bw_bytes_clear(&body);
	bw_bytes_clear(&sealed);
	return rc;
}

int store_msg_has(struct store *s, const uint8_t *gid, size_t gid_len,
		  uint64_t seq, bool *has)
{
	uint8_t ref[SEAL_REF_LEN];
	sqlite3_stmt *st = NULL;
	int rc;

	*has = false;
	if ((rc = seal_ref(&s->keys, gid, gid_len, ref)) != 0 ||
	    (rc = prepare(s, "SELECT 1 FROM messages WHERE ref = ?1 AND"
			     " seq = ?2", &st)) != 0)
		return rc;
	bind_blob(st, 1, ref, sizeof(ref));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	rc = sqlite3_step(st);
	*has = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_error(rc);
}

/* A row of SELECT id, ref, seq, body. */
static int msg_row(struct store *s, sqlite3_stmt *st, struct store_msg *m)
{
	struct bw_bytes ref = { 0 }, sealed = { 0 }, body = { 0 };
	struct aad aad;
	uint8_t want[SEAL_REF_LEN];
	int rc;

	memset(m, 0, sizeof(*m));
	m->id = (uint64_t)sqlite3_column_int64(st, 0);
	m->seq = (uint64_t)sqlite3_column_int64(st, 2);
	if ((rc = column_copy(st, 1, SEAL_REF_LEN, &ref)) != 0 ||
	    (rc = column_copy(st, 3, STORE_MAX_TEXT + 1024, &sealed)) != 0)
		goto out;
	if (ref.len != SEAL_REF_LEN) {
		rc = BULWARK_ERR_STORE_CORRUPT;
		goto out;
	}
	aad_make(&aad, "message\0", ref.p, m->seq);
	if ((rc = seal_open(&s->keys, aad.p, aad.n, sealed.p, sealed.len,
			    &body)) != 0 ||
	    (rc = body_decode(&body, m)) != 0 ||
	    (rc = seal_ref(&s->keys, m->group_id.p, m->group_id.len, want)) !=
		    0)
		goto out;
	if (CRYPTO_memcmp(want, ref.p, SEAL_REF_LEN) != 0)
		rc = BULWARK_ERR_STORE_CORRUPT;
out:
	if (rc != 0)
		store_msg_clear(m);
	bw_bytes_clear(&ref);
	bw_bytes_clear(&sealed);
	bw_bytes_clear(&body);
	return rc;
}

int store_msg_list(struct store *s, const uint8_t *gid, size_t gid_len,
		   uint64_t after_id, size_t limit, struct store_msg **out,
		   size_t *n)
{
	static const char one[] =
		"SELECT id, ref, seq, body FROM messages WHERE ref = ?1 AND"
		" id > ?2 ORDER BY seq LIMIT ?3";
	static const char all[] =
		"SELECT id, ref, seq, body FROM messages WHERE id > ?2"
		" ORDER BY id LIMIT ?3";
	uint8_t ref[SEAL_REF_LEN];
	struct store_msg *arr = NULL;
	size_t count = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	int rc = 0, step;

	*out = NULL;
	*n = 0;
	if (gid != NULL && (rc = seal_ref(&s->keys, gid, gid_len, ref)) != 0)
		return rc;
	if ((rc = prepare(s, gid != NULL ? one : all, &st)) != 0)
		return rc;
	if (gid != NULL)
		bind_blob(st, 1, ref, sizeof(ref));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)after_id);
	sqlite3_bind_int64(st, 3, limit ? (sqlite3_int64)limit : -1);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = grow((void **)&arr, &count, &cap, sizeof(*arr))) !=
			    0 ||
		    (rc = msg_row(s, st, &arr[count])) != 0)
			break;
		count++;
	}
	sqlite3_finalize(st);
	if (rc == 0 && step != SQLITE_DONE)
		rc = sql_error(step);
	if (rc != 0) {
		store_msgs_free(arr, count);
		return rc;
	}
	*out = arr;
	*n = count;
	return 0;
}

void store_msg_clear(struct store_msg *m)
{
	bw_bytes_clear(&m->group_id);
	bw_bytes_clear(&m->text);
	OPENSSL_cleanse(m, sizeof(*m));
}

void store_msgs_free(struct store_msg *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_msg_clear(&m[i]);
	free(m);
}

/* ---- key package bundles ---- */

int store_kp_add(struct store *s, const struct store_kp *kp)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = prepare(s, "INSERT INTO key_packages(id, last_resort, bundle)"
			     " VALUES (?1, ?2, ?3)", &st)) != 0)
		return rc;
	bind_blob(st, 1, kp->id, sizeof(kp->id));
	sqlite3_bind_int(st, 2, kp->last_resort ? 1 : 0);
	bind_blob(st, 3, kp->bundle.p, kp->bundle.len);
	return run_done(st);
}

int store_kp_list(struct store *s, struct store_kp **out, size_t *n)
{
	struct store_kp *arr = NULL;
	size_t count = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	int rc = 0, step;

	*out = NULL;
	*n = 0;
	if ((rc = prepare(s, "SELECT id, last_resort, bundle FROM key_packages"
			     " ORDER BY rowid", &st)) != 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_kp *kp;

		if ((rc = grow((void **)&arr, &count, &cap, sizeof(*arr))) != 0)
			break;
		kp = &arr[count];
		if (sqlite3_column_bytes(st, 0) != (int)sizeof(kp->id) ||
		    sqlite3_column_blob(st, 0) == NULL) {
			rc = BULWARK_ERR_STORE_CORRUPT;
			break;
		}
		memcpy(kp->id, sqlite3_column_blob(st, 0), sizeof(kp->id));
		kp->last_resort = sqlite3_column_int(st, 1) != 0;
		if ((rc = column_copy(st, 2, STORE_MAX_STATE,
				      &kp->bundle)) != 0)
			break;
		count++;
	}
	sqlite3_finalize(st);
	if (rc == 0 && step != SQLITE_DONE)
		rc = sql_error(step);
	if (rc != 0) {
		store_kps_free(arr, count);
		return rc;
	}
	*out = arr;
	*n = count;
	return 0;
}

int store_kp_delete(struct store *s, const uint8_t id[32])
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = prepare(s, "DELETE FROM key_packages WHERE id = ?1", &st)) !=
	    0)
		return rc;
	bind_blob(st, 1, id, 32);
	return run_done(st);
}

void store_kps_free(struct store_kp *kp, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bw_bytes_clear(&kp[i].bundle);
	free(kp);
}

/* ---- counters ---- */

int store_counter_get(struct store *s, const char *name, uint64_t *v)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*v = 0;
	if ((rc = prepare(s, "SELECT value FROM counters WHERE name = ?1",
			  &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_error(rc);
}

int store_counter_set(struct store *s, const char *name, uint64_t v)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = prepare(s, "INSERT INTO counters(name, value) VALUES (?1, ?2)"
			     " ON CONFLICT(name) DO UPDATE SET value = ?2",
			  &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)v);
	return run_done(st);
}

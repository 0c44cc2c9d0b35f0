/*
 * keystore.c - the device's encrypted keystore: the public API of
 * bulwark.h over the format of keystore.h. docs/internals/keystore.md gives
 * the reasons.
 *
 * Every change is written in full to a temporary file in the same
 * directory, synced, renamed over the keystore and the directory synced,
 * so a crash leaves either the old or the new file, never a mix. A call
 * that fails leaves both the file and the in-memory state as they were.
 */
#include "keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "err.h"

struct bulwark_keystore {
	char *path;
	struct ks_header h; /* salt and costs, kept for every save */
	struct ks_keys keys;
	struct ks_entries entries;
};

/* ---- files ---- */

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc = BULWARK_ERR_KS_IO;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? BULWARK_ERR_KS_NO_FILE : BULWARK_ERR_KS_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	if ((uint64_t)st.st_size > KS_MAX_FILE_LEN) {
		rc = BULWARK_ERR_KS_TOO_LARGE;
		goto out;
	}
	if ((buf = malloc(st.st_size ? (size_t)st.st_size : 1)) == NULL) {
		rc = BW_ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out; /* error, or the file shrank under us */
		got += (size_t)n;
	}
	*out = buf;
	*len = got;
	buf = NULL; /* transferred */
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return BULWARK_ERR_KS_IO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Make a rename or link in path's directory durable. */
static int sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc = BULWARK_ERR_KS_IO;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return BW_ERR_NOMEM;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(fd) == 0)
			rc = 0;
		close(fd);
	}
	free(dir);
	return rc;
}

/* Write a temporary file beside path (mode 0600), sync it, then move it
 * into place: rename() to replace, link() to create without replacing. */
static int write_atomic(const char *path, const uint8_t *buf, size_t len,
			bool create)
{
	static const char suffix[] = ".tmp-XXXXXX";
	size_t path_len = strlen(path);
	char *tmp = malloc(path_len + sizeof(suffix));
	int fd = -1, rc = BULWARK_ERR_KS_IO;

	if (tmp == NULL)
		return BW_ERR_NOMEM;
	memcpy(tmp, path, path_len);
	memcpy(tmp + path_len, suffix, sizeof(suffix));
	if ((fd = mkstemp(tmp)) < 0) {
		free(tmp);
		return BULWARK_ERR_KS_IO;
	}
	if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 || write_all(fd, buf, len) != 0 ||
	    fsync(fd) != 0)
		goto out;
	close(fd);
	fd = -1;
	if (create && link(tmp, path) != 0) {
		rc = errno == EEXIST ? BULWARK_ERR_KS_EXISTS : BULWARK_ERR_KS_IO;
		goto out;
	}
	if (!create && rename(tmp, path) != 0)
		goto out;
	/* A failure here comes after the new file is in place but perhaps
	 * not yet durable; it is reported, and the caller's view stays on
	 * the old contents, which is what a crash would leave. */
	rc = sync_dir(path);
out:
	if (fd >= 0)
		close(fd);
	if (create || rc != 0)
		unlink(tmp); /* after link(), or a file that never moved */
	free(tmp);
	return rc;
}

/* ---- the keystore ---- */

static int save(struct bulwark_keystore *ks, bool create)
{
	uint8_t *pt = NULL, *file = NULL;
	size_t pt_len = 0, file_len = 0;
	int rc;

	/* A fresh nonce for every seal under the same key. */
	if (RAND_bytes(ks->h.nonce, KS_NONCE_LEN) != 1)
		return BULWARK_ERR_KS_CRYPTO;
	if ((rc = ks_entries_encode(&ks->entries, &pt, &pt_len)) == 0 &&
	    (rc = ks_file_encode(&ks->h, &ks->keys, pt, pt_len, &file,
				 &file_len)) == 0)
		rc = write_atomic(ks->path, file, file_len, create);
	bw_free_secret(pt, pt_len);
	free(file);
	return rc;
}

static struct bulwark_keystore *keystore_alloc(const char *path)
{
	struct bulwark_keystore *ks = calloc(1, sizeof(*ks));

	if (ks != NULL && (ks->path = strdup(path)) == NULL) {
		free(ks);
		ks = NULL;
	}
	return ks;
}

void bulwark_keystore_free(struct bulwark_keystore *ks)
{
	if (ks == NULL)
		return;
	ks_entries_clear(&ks->entries);
	OPENSSL_cleanse(&ks->keys, sizeof(ks->keys));
	free(ks->path);
	free(ks);
}

int bulwark_keystore_create(const char *path, const char *passphrase,
			    struct bulwark_keystore **out)
{
	struct bulwark_keystore *ks = NULL;
	int rc;

	if (out == NULL || path == NULL)
		return BW_ERR_INVALID_ARG;
	*out = NULL;
	if ((rc = ks_passphrase_check(passphrase)) != 0)
		return rc;
	if ((ks = keystore_alloc(path)) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = ks_header_init(&ks->h)) != 0 ||
	    (rc = ks_derive_keys(passphrase, &ks->h, &ks->keys)) != 0 ||
	    (rc = save(ks, true)) != 0)
		goto out;
	*out = ks;
	ks = NULL; /* transferred */
out:
	bulwark_keystore_free(ks);
	return rc;
}

int bulwark_keystore_open(const char *path, const char *passphrase,
			  struct bulwark_keystore **out)
{
	struct bulwark_keystore *ks = NULL;
	uint8_t *buf = NULL, *pt = NULL;
	size_t len = 0, pt_len = 0;
	struct ks_file f;
	int rc;

	if (out == NULL || path == NULL)
		return BW_ERR_INVALID_ARG;
	*out = NULL;
	if ((rc = ks_passphrase_check(passphrase)) != 0)
		return rc;
	/* Decode before running the KDF: a damaged file costs no scrypt. */
	if ((rc = read_file(path, &buf, &len)) != 0 ||
	    (rc = ks_file_decode(buf, len, &f)) != 0)
		goto out;
	rc = BW_ERR_NOMEM;
	if ((ks = keystore_alloc(path)) == NULL)
		goto out;
	ks->h = f.h;
	if ((rc = ks_derive_keys(passphrase, &ks->h, &ks->keys)) != 0 ||
	    (rc = ks_payload_open(&f, &ks->keys, &pt, &pt_len)) != 0 ||
	    (rc = ks_entries_decode(pt, pt_len, &ks->entries)) != 0)
		goto out;
	*out = ks;
	ks = NULL; /* transferred */
out:
	bw_free_secret(pt, pt_len);
	free(buf);
	bulwark_keystore_free(ks);
	return rc;
}

static int name_arg_check(const char *name)
{
	if (name == NULL)
		return BW_ERR_INVALID_ARG;
	return ks_name_check(name, strnlen(name, BULWARK_KS_MAX_NAME_LEN + 1));
}

int bulwark_keystore_put(struct bulwark_keystore *ks, const char *name,
			 const void *value, size_t len)
{
	struct bw_bytes v = { 0 };
	char *copy = NULL;
	size_t idx;
	int rc;

	if (ks == NULL || (value == NULL && len != 0))
		return BW_ERR_INVALID_ARG;
	if ((rc = name_arg_check(name)) != 0)
		return rc;
	if (len > BULWARK_KS_MAX_VALUE_LEN)
		return BULWARK_ERR_KS_TOO_LARGE;
	if ((rc = bw_bytes_set(&v, value, len)) != 0)
		return rc;
	if (ks_entries_find(&ks->entries, name, &idx)) {
		/* Swap the new value in; v ends up holding whichever of the
		 * two is dropped, old on success, new on failure. */
		struct bw_bytes *slot = &ks->entries.e[idx].value;
		struct bw_bytes old = *slot;

		*slot = v;
		if ((rc = save(ks, false)) != 0) {
			v = *slot;
			*slot = old;
		} else {
			v = old;
		}
		goto out;
	}
	rc = BW_ERR_NOMEM;
	if ((copy = strdup(name)) == NULL ||
	    (rc = ks_entries_insert(&ks->entries, idx, copy, &v)) != 0)
		goto out;
	copy = NULL; /* transferred */
	if ((rc = save(ks, false)) != 0) {
		struct ks_entry gone;

		ks_entries_remove(&ks->entries, idx, &gone);
		ks_entry_clear(&gone);
	}
out:
	free(copy);
	bw_bytes_clear(&v);
	return rc;
}

int bulwark_keystore_get(const struct bulwark_keystore *ks, const char *name,
			 uint8_t **value, size_t *len)
{
	const struct bw_bytes *v;
	uint8_t *copy = NULL;
	size_t idx;
	int rc;

	if (ks == NULL || value == NULL || len == NULL)
		return BW_ERR_INVALID_ARG;
	*value = NULL;
	*len = 0;
	if ((rc = name_arg_check(name)) != 0)
		return rc;
	if (!ks_entries_find(&ks->entries, name, &idx))
		return BULWARK_ERR_KS_NOT_FOUND;
	v = &ks->entries.e[idx].value;
	if (v->len > 0) {
		if ((copy = malloc(v->len)) == NULL)
			return BW_ERR_NOMEM;
		memcpy(copy, v->p, v->len);
	}
	*value = copy;
	*len = v->len;
	return 0;
}

int bulwark_keystore_delete(struct bulwark_keystore *ks, const char *name)
{
	struct ks_entry gone;
	size_t idx;
	int rc;

	if (ks == NULL)
		return BW_ERR_INVALID_ARG;
	if ((rc = name_arg_check(name)) != 0)
		return rc;
	if (!ks_entries_find(&ks->entries, name, &idx))
		return BULWARK_ERR_KS_NOT_FOUND;
	ks_entries_remove(&ks->entries, idx, &gone);
	if ((rc = save(ks, false)) != 0) {
		ks_entries_restore(&ks->entries, idx, &gone);
		return rc;
	}
	ks_entry_clear(&gone);
	return 0;
}

size_t bulwark_keystore_count(const struct bulwark_keystore *ks)
{
	return ks ? ks->entries.n : 0;
}

const char *bulwark_keystore_name(const struct bulwark_keystore *ks,
				  size_t i)
{
	return ks && i < ks->entries.n ? ks->entries.e[i].name : NULL;
}

void bulwark_secret_free(void *p, size_t len)
{
	bw_free_secret(p, len);
}

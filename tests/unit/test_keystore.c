/* test_keystore.c - the device keystore: round trips across reopen, wrong
 * passphrases, damaged and tampered files, file mode, crashes and failed
 * saves that must leave everything as it was, passphrase sources. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "bulwark/bulwark.h"
#include "keystore.h"
#include "mls/mls.h"
#include "spake2plus.h"
#include "test.h"

#define PASS "correct horse battery staple"

static char dir[64];

static const char *path_in_dir(const char *name)
{
	static char buf[4][sizeof(dir) + 1 + 256]; /* dir, '/', any name */
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

static bool slurp(const char *path, struct bw_bytes *out)
{
	struct bw_bytes acc = { 0 };
	struct stat st;
	FILE *f = fopen(path, "rb");
	bool ok = f != NULL && fstat(fileno(f), &st) == 0 &&
		  bw_bytes_alloc(&acc, (size_t)st.st_size) == 0 &&
		  fread(acc.p, 1, acc.len, f) == acc.len;

	if (f != NULL)
		fclose(f);
	if (ok)
		bw_bytes_move(out, &acc);
	bw_bytes_clear(&acc);
	return ok;
}

static bool spit(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	bool ok = f != NULL && (n == 0 || fwrite(p, 1, n, f) == n);

	if (f != NULL && fclose(f) != 0)
		ok = false;
	return ok;
}

static bool value_is(const struct bulwark_keystore *ks, const char *name,
		     const void *want, size_t want_len)
{
	uint8_t *v = NULL;
	size_t n = 0;
	bool ok = bulwark_keystore_get(ks, name, &v, &n) == 0 && n == want_len &&
		  (n == 0 || memcmp(v, want, n) == 0);

	bulwark_secret_free(v, n);
	return ok;
}

static bool test_round_trip(void)
{
	const char *path = path_in_dir("rt.keystore");
	struct bulwark_keystore *ks = NULL;
	uint8_t key[32], cert[1500];

	CHECK(RAND_bytes(key, sizeof(key)) == 1);
	CHECK(RAND_bytes(cert, sizeof(cert)) == 1);
	CHECK(bulwark_keystore_create(path, PASS, &ks) == 0);
	CHECK_EQ_INT(bulwark_keystore_count(ks), 0);
	CHECK(bulwark_keystore_put(ks, "device.sig_key", key, sizeof(key)) == 0);
	CHECK(bulwark_keystore_put(ks, "ca.cert", cert, sizeof(cert)) == 0);
	CHECK(bulwark_keystore_put(ks, "device.id", "d-0042", 6) == 0);
	CHECK(bulwark_keystore_put(ks, "empty", NULL, 0) == 0);
	bulwark_keystore_free(ks);

	CHECK(bulwark_keystore_open(path, PASS, &ks) == 0);
	CHECK_EQ_INT(bulwark_keystore_count(ks), 4);
	CHECK(strcmp(bulwark_keystore_name(ks, 0), "ca.cert") == 0);
	CHECK(strcmp(bulwark_keystore_name(ks, 3), "empty") == 0);
	CHECK(bulwark_keystore_name(ks, 4) == NULL);
	CHECK(value_is(ks, "device.sig_key", key, sizeof(key)));
	CHECK(value_is(ks, "ca.cert", cert, sizeof(cert)));
	CHECK(value_is(ks, "device.id", "d-0042", 6));
	CHECK(value_is(ks, "empty", NULL, 0));
	/* replace one, delete one */
	CHECK(bulwark_keystore_put(ks, "device.id", "d-0043", 6) == 0);
	CHECK(bulwark_keystore_delete(ks, "ca.cert") == 0);
	CHECK(bulwark_keystore_delete(ks, "ca.cert") == BULWARK_ERR_KS_NOT_FOUND);
	bulwark_keystore_free(ks);

	CHECK(bulwark_keystore_open(path, PASS, &ks) == 0);
	{
		uint8_t *v = (uint8_t *)1;
		size_t n = 1;

		CHECK(bulwark_keystore_get(ks, "ca.cert", &v, &n) ==
		      BULWARK_ERR_KS_NOT_FOUND);
		CHECK(v == NULL && n == 0);
	}
	CHECK_EQ_INT(bulwark_keystore_count(ks), 3);
	CHECK(value_is(ks, "device.id", "d-0043", 6));
	CHECK(value_is(ks, "device.sig_key", key, sizeof(key)));
	bulwark_keystore_free(ks);
	bulwark_keystore_free(NULL);
	return true;
}

static bool test_bad_names_and_sizes(void)
{
	const char *path = path_in_dir("names.keystore");
	struct bulwark_keystore *ks = NULL;
	char long_name[BULWARK_KS_MAX_NAME_LEN + 2];
	uint8_t *big = NULL;
	bool ok = false;

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	CHECK(bulwark_keystore_create(path, PASS, &ks) == 0);
	if (bulwark_keystore_put(ks, "", "x", 1) != BULWARK_ERR_KS_NAME ||
	    bulwark_keystore_put(ks, "has space", "x", 1) != BULWARK_ERR_KS_NAME ||
	    bulwark_keystore_put(ks, "caf\xc3\xa9", "x", 1) != BULWARK_ERR_KS_NAME ||
	    bulwark_keystore_put(ks, long_name, "x", 1) != BULWARK_ERR_KS_NAME ||
	    bulwark_keystore_put(ks, NULL, "x", 1) != BW_ERR_INVALID_ARG ||
	    bulwark_keystore_put(ks, "mls/group:0a-ff_x.y", "x", 1) != 0)
		goto out;
	long_name[BULWARK_KS_MAX_NAME_LEN] = '\0';
	if (bulwark_keystore_put(ks, long_name, "x", 1) != 0)
		goto out;
	/* one value over the limit is refused before anything is written */
	if ((big = calloc(1, BULWARK_KS_MAX_VALUE_LEN + 1)) == NULL ||
	    bulwark_keystore_put(ks, "big", big, BULWARK_KS_MAX_VALUE_LEN + 1) !=
		    BULWARK_ERR_KS_TOO_LARGE)
		goto out;
	ok = bulwark_keystore_count(ks) == 2;
out:
	free(big);
	bulwark_keystore_free(ks);
	return ok;
}

static bool test_wrong_passphrase(void)
{
	const char *path = path_in_dir("wp.keystore");
	struct bulwark_keystore *ks = NULL;
	struct bw_bytes before = { 0 }, after = { 0 };
	bool ok;

	CHECK(bulwark_keystore_create(path, PASS, &ks) == 0);
	CHECK(bulwark_keystore_put(ks, "k", "secret", 6) == 0);
	bulwark_keystore_free(ks);
	ks = NULL;
	CHECK(slurp(path, &before));
	CHECK(bulwark_keystore_open(path, "correct horse battery stapler", &ks) ==
	      BULWARK_ERR_KS_PASSPHRASE);
	CHECK(ks == NULL);
	CHECK(bulwark_keystore_open(path, "", &ks) == BULWARK_ERR_PASSPHRASE_EMPTY);
	CHECK(slurp(path, &after));
	ok = bw_bytes_eq(&before, after.p, after.len);
	bw_bytes_clear(&before);
	bw_bytes_clear(&after);
	CHECK(ok);
	CHECK(bulwark_keystore_open(path, PASS, &ks) == 0);
	CHECK(value_is(ks, "k", "secret", 6));
	bulwark_keystore_free(ks);
	return true;
}

/* Open a variant of a keystore file written to its own path. */
static int open_variant(const uint8_t *p, size_t n)
{
	const char *path = path_in_dir("variant.keystore");
	struct bulwark_keystore *ks = NULL;
	int rc;

	if (!spit(path, p, n))
		return 1;
	rc = bulwark_keystore_open(path, PASS, &ks);
	bulwark_keystore_free(ks);
	return rc;
}

/* Make the trailing digest right again, as a deliberate tamperer would. */
static void redigest(struct bw_bytes *f)
{
	EVP_Digest(f->p, f->len - KS_DIGEST_LEN, f->p + f->len - KS_DIGEST_LEN,
		   NULL, EVP_sha256(), NULL);
}

static bool test_damaged_files(void)
{
	const char *path = path_in_dir("dmg.keystore");
	struct bulwark_keystore *ks = NULL;
	struct bw_bytes good = { 0 }, bad = { 0 };
	size_t cuts[] = { 0, 3, 5, 6, KS_HEADER_LEN, 0, 0 };

	CHECK(bulwark_keystore_create(path, PASS, &ks) == 0);
	CHECK(bulwark_keystore_put(ks, "device.sig_key", "0123456789abcdef", 16) == 0);
	bulwark_keystore_free(ks);
	CHECK(slurp(path, &good));
	CHECK(good.len > KS_HEADER_LEN + KS_TAG_LEN + KS_DIGEST_LEN);
	/* truncated anywhere */
	cuts[5] = good.len / 2;
	cuts[6] = good.len - 1;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		int rc = open_variant(good.p, cuts[i]);

		CHECK(rc == (cuts[i] < KS_MAGIC_LEN ? BULWARK_ERR_KS_NOT_KEYSTORE :
						       BULWARK_ERR_KS_CORRUPT));
	}
	/* one flipped bit anywhere: the digest catches it before any KDF */
	CHECK(bw_bytes_set(&bad, good.p, good.len) == 0);
	for (size_t i = 0; i < good.len; i++) {
		int want = i < KS_MAGIC_LEN ? BULWARK_ERR_KS_NOT_KEYSTORE :
			   i < KS_MAGIC_LEN + 2 ? BULWARK_ERR_KS_VERSION :
						  BULWARK_ERR_KS_CORRUPT;

		bad.p[i] ^= 0x04;
		CHECK_EQ_INT(open_variant(bad.p, bad.len), want);
		bad.p[i] ^= 0x04;
	}
	/* trailing garbage */
	{
		struct bw_bytes longer = { 0 };
		int rc;

		CHECK(bw_bytes_alloc(&longer, good.len + 1) == 0);
		memcpy(longer.p, good.p, good.len);
		rc = open_variant(longer.p, longer.len);
		bw_bytes_clear(&longer);
		CHECK_EQ_INT(rc, BULWARK_ERR_KS_CORRUPT);
	}
	/* deliberate tampering with a fixed-up digest: the GCM tag (AAD =
	 * header) or the KDF bounds refuse it */
	bad.p[bad.len - KS_DIGEST_LEN - 1] ^= 0x01; /* the tag */
	redigest(&bad);
	CHECK_EQ_INT(open_variant(bad.p, bad.len), BULWARK_ERR_KS_CORRUPT);
	CHECK(bw_bytes_set(&bad, good.p, good.len) == 0);
	bad.p[KS_HEADER_LEN - 1] ^= 0x01; /* the nonce */
	redigest(&bad);
	CHECK_EQ_INT(open_variant(bad.p, bad.len), BULWARK_ERR_KS_CORRUPT);
	CHECK(bw_bytes_set(&bad, good.p, good.len) == 0);
	bad.p[KS_MAGIC_LEN + 3] = 40; /* log2_n: 2^40 would exhaust memory */
	redigest(&bad);
	CHECK_EQ_INT(open_variant(bad.p, bad.len), BULWARK_ERR_KS_CORRUPT);
	bw_bytes_clear(&bad);
	bw_bytes_clear(&good);
	/* not a keystore at all, missing, a directory */
	CHECK_EQ_INT(open_variant((const uint8_t *)"hello\n", 6),
		     BULWARK_ERR_KS_NOT_KEYSTORE);
	CHECK(bulwark_keystore_open(path_in_dir("missing"), PASS, &ks) ==
	      BULWARK_ERR_KS_NO_FILE);
	CHECK(bulwark_keystore_open(dir, PASS, &ks) == BULWARK_ERR_KS_IO);
	return true;
}

static bool test_oversize_file(void)
{
	const char *path = path_in_dir("huge.keystore");
	struct bulwark_keystore *ks = NULL;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	CHECK(write(fd, KS_MAGIC "\0\1", 6) == 6);
	CHECK(ftruncate(fd, (off_t)KS_MAX_FILE_LEN + 1) == 0); /* sparse */
	close(fd);
	CHECK(bulwark_keystore_open(path, PASS, &ks) == BULWARK_ERR_KS_TOO_LARGE);
	return true;
}

static bool test_file_mode(void)
{
	const char *path = path_in_dir("mode.keystore");
	struct bulwark_keystore *ks = NULL;
	struct stat st;
	mode_t old = umask(0); /* the file must not depend on the umask */
	int rc = bulwark_keystore_create(path, PASS, &ks);

	umask(old);
	CHECK(rc == 0);
	CHECK(stat(path, &st) == 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0600);
	CHECK(bulwark_keystore_put(ks, "a", "b", 1) == 0);
	CHECK(stat(path, &st) == 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0600);
	bulwark_keystore_free(ks);
	/* creating over an existing file is refused and leaves it alone */
	CHECK(bulwark_keystore_create(path, "other passphrase", &ks) ==
	      BULWARK_ERR_KS_EXISTS);
	CHECK(ks == NULL);
	CHECK(bulwark_keystore_open(path, PASS, &ks) == 0);
	CHECK(value_is(ks, "a", "b", 1));
	bulwark_keystore_free(ks);
	return true;
}

static size_t count_files(const char *in)
{
	DIR *d = opendir(in);
	struct dirent *e;
	size_t n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n;
}

/* A crash between writing the temporary file and the rename leaves a
 * stray temporary beside an intact keystore. */
static bool test_crash_leaves_previous(void)
{
	const char *path = path_in_dir("crash.keystore");
	const char *stray = path_in_dir("crash.keystore.tmp-Q1w2E3");
	struct bulwark_keystore *ks = NULL;
	struct bw_bytes half = { 0 };

	CHECK(bulwark_keystore_create(path, PASS, &ks) == 0);
	CHECK(bulwark_keystore_put(ks, "device.id", "old", 3) == 0);
	bulwark_keystore_free(ks);
	CHECK(slurp(path, &half));
	CHECK(spit(stray, half.p, half.len / 2));
	bw_bytes_clear(&half);

	CHECK(bulwark_keystore_open(path, PASS, &ks) == 0);
	CHECK(value_is(ks, "device.id", "old", 3));
	CHECK(bulwark_keystore_put(ks, "device.id", "new", 3) == 0);
	bulwark_keystore_free(ks);
	CHECK(bulwark_keystore_open(path, PASS, &ks) == 0);
	CHECK(value_is(ks, "device.id", "new", 3));
	bulwark_keystore_free(ks);
	CHECK(unlink(stray) == 0);
	return true;
}

/* A save that fails leaves the file and the open keystore as they were:
 * once when the payload would exceed its limit, once when the directory
 * has gone away under the open keystore. */
static bool test_failed_save_changes_nothing(void)
{
	char sub[96], moved[96], ks_path[128], name[8];
	struct bulwark_keystore *ks = NULL;
	uint8_t *chunk = calloc(1, BULWARK_KS_MAX_VALUE_LEN);
	struct bw_bytes before = { 0 }, after = { 0 };
	size_t files;
	bool ok = false;

	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(moved, sizeof(moved), "%s/moved", dir);
	snprintf(ks_path, sizeof(ks_path), "%s/fail.keystore", sub);
	CHECK(chunk != NULL);
	if (mkdir(sub, 0700) != 0 ||
	    bulwark_keystore_create(ks_path, PASS, &ks) != 0)
		goto out;
	/* three of the largest values fit in a payload, a fourth does not */
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "blob%d", i);
		if (bulwark_keystore_put(ks, name, chunk, BULWARK_KS_MAX_VALUE_LEN))
			goto out;
	}
	files = count_files(sub);
	if (!slurp(ks_path, &before) ||
	    bulwark_keystore_put(ks, "blob3", chunk, BULWARK_KS_MAX_VALUE_LEN) !=
		    BULWARK_ERR_KS_TOO_LARGE ||
	    bulwark_keystore_count(ks) != 3 || !slurp(ks_path, &after) ||
	    !bw_bytes_eq(&before, after.p, after.len))
		goto out;
	/* the directory moves away: neither put nor delete can save */
	if (rename(sub, moved) != 0 ||
	    bulwark_keystore_put(ks, "blob0", "changed", 7) != BULWARK_ERR_KS_IO ||
	    bulwark_keystore_put(ks, "fresh", "x", 1) != BULWARK_ERR_KS_IO ||
	    bulwark_keystore_delete(ks, "blob1") != BULWARK_ERR_KS_IO ||
	    rename(moved, sub) != 0 || bulwark_keystore_count(ks) != 3 ||
	    !value_is(ks, "blob0", chunk, BULWARK_KS_MAX_VALUE_LEN) ||
	    !value_is(ks, "blob1", chunk, BULWARK_KS_MAX_VALUE_LEN) ||
	    count_files(sub) != files)
		goto out;
	/* with the directory back, the same keystore saves again */
	if (bulwark_keystore_delete(ks, "blob1") != 0 ||
	    bulwark_keystore_put(ks, "blob0", "small", 5) != 0)
		goto out;
	bulwark_keystore_free(ks);
	ks = NULL;
	if (bulwark_keystore_open(ks_path, PASS, &ks) != 0 ||
	    bulwark_keystore_count(ks) != 2 || !value_is(ks, "blob0", "small", 5) ||
	    !value_is(ks, "blob2", chunk, BULWARK_KS_MAX_VALUE_LEN))
		goto out;
	ok = true;
out:
	bulwark_keystore_free(ks);
	bw_bytes_clear(&before);
	bw_bytes_clear(&after);
	free(chunk);
	unlink(ks_path);
	rmdir(sub);
	return ok;
}

static bool loads(const char *source, const char *want)
{
	char *got = NULL;
	bool ok = bulwark_passphrase_load(source, &got) == 0 &&
		  strcmp(got, want) == 0;

	bulwark_passphrase_free(got);
	return ok;
}

static int load_rc(const char *source)
{
	char *got = NULL;
	int rc = bulwark_passphrase_load(source, &got);

	bulwark_passphrase_free(got);
	return rc;
}

static bool test_passphrase_sources(void)
{
	char src[160], big[BULWARK_PASSPHRASE_MAX_LEN + 8];
	const char *file = path_in_dir("pass.txt");

	CHECK(loads("pass:" PASS, PASS));
	CHECK(setenv("BW_TEST_PASSPHRASE", "from env", 1) == 0);
	CHECK(loads("env:BW_TEST_PASSPHRASE", "from env"));
	CHECK(unsetenv("BW_TEST_PASSPHRASE") == 0);
	CHECK_EQ_INT(load_rc("env:BW_TEST_PASSPHRASE"),
		     BULWARK_ERR_PASSPHRASE_UNAVAILABLE);
	snprintf(src, sizeof(src), "file:%s", file);
	CHECK(spit(file, "line one\nline two\n", 18));
	CHECK(loads(src, "line one"));
	CHECK(spit(file, "crlf\r\n", 6));
	CHECK(loads(src, "crlf"));
	CHECK(spit(file, "no newline", 10));
	CHECK(loads(src, "no newline"));
	CHECK(spit(file, "\n", 1));
	CHECK_EQ_INT(load_rc(src), BULWARK_ERR_PASSPHRASE_EMPTY);
	CHECK(spit(file, "nul\0inside\n", 11));
	CHECK_EQ_INT(load_rc(src), BULWARK_ERR_PASSPHRASE_INVALID);
	memset(big, 'p', sizeof(big));
	CHECK(spit(file, big, sizeof(big)));
	CHECK_EQ_INT(load_rc(src), BULWARK_ERR_PASSPHRASE_TOO_LONG);
	CHECK(spit(file, big, BULWARK_PASSPHRASE_MAX_LEN));
	{
		char *got = NULL;

		CHECK(bulwark_passphrase_load(src, &got) == 0);
		CHECK_EQ_INT(strlen(got), BULWARK_PASSPHRASE_MAX_LEN);
		bulwark_passphrase_free(got);
	}
	CHECK(unlink(file) == 0);
	CHECK_EQ_INT(load_rc(src), BULWARK_ERR_PASSPHRASE_UNAVAILABLE);
	CHECK_EQ_INT(load_rc("pass:"), BULWARK_ERR_PASSPHRASE_EMPTY);
	CHECK_EQ_INT(load_rc(PASS), BULWARK_ERR_PASSPHRASE_SOURCE);
	bulwark_passphrase_free(NULL);
	return true;
}

/* The payload decoder on its own: canonical order, names, trailing bytes. */
static bool decodes(const char *hex, int want)
{
	struct ks_entries es = { 0 };
	uint8_t *p = NULL;
	size_t n = 0;
	int rc;

	if (bw_hex_decode(hex, &p, &n) != 0)
		return false;
	rc = ks_entries_decode(p, n, &es);
	ks_entries_clear(&es);
	free(p);
	if (rc != want)
		fprintf(stderr, "  %s: %d, expected %d\n", hex, rc, want);
	return rc == want;
}

static bool test_payload_decoder(void)
{
	/* entries<V> of { name<V>, value<V> } */
	CHECK(decodes("00", 0));                               /* none */
	CHECK(decodes("03016100", 0));                         /* a="" */
	CHECK(decodes("0701610101016200", 0));                 /* a=01, b="" */
	CHECK(decodes("0701620101016100", BULWARK_ERR_KS_CORRUPT)); /* b, a */
	CHECK(decodes("0701610101016100", BULWARK_ERR_KS_CORRUPT)); /* a, a */
	CHECK(decodes("03012000", BULWARK_ERR_KS_CORRUPT));    /* name " " */
	CHECK(decodes("020000", BULWARK_ERR_KS_CORRUPT));      /* empty name */
	CHECK(decodes("03016101", BULWARK_ERR_KS_CORRUPT));    /* value cut */
	CHECK(decodes("0301610000", BULWARK_ERR_KS_CORRUPT));  /* trailing */
	CHECK(decodes("4003016100", BULWARK_ERR_KS_CORRUPT));  /* non-minimal */
	CHECK(decodes("", BULWARK_ERR_KS_CORRUPT));            /* nothing */
	return true;
}

static bool test_strerror(void)
{
	CHECK(strcmp(bulwark_strerror(BULWARK_ERR_KS_PASSPHRASE),
		     "wrong passphrase for this keystore") == 0);
	CHECK(strcmp(bulwark_strerror(PAKE_ERR_CONFIRM),
		     pake_strerror(PAKE_ERR_CONFIRM)) == 0);
	CHECK(strcmp(bulwark_strerror(MLS_ERR_AEAD), mls_strerror(MLS_ERR_AEAD)) == 0);
	CHECK(strcmp(bulwark_strerror(BW_ERR_TRUNCATED),
		     bw_strerror(BW_ERR_TRUNCATED)) == 0);
	CHECK(strcmp(bulwark_strerror(-799), "unknown error") == 0);
#define IN_RANGE(name, code, text) CHECK(code <= -600 && code >= -799 && \
	strcmp(bulwark_strerror(code), text) == 0);
	BULWARK_ERRORS(IN_RANGE)
#undef IN_RANGE
	return true;
}

static void remove_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlink(path_in_dir(e->d_name));
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	int failed = 0;

	snprintf(dir, sizeof(dir), "%s/bw-keystore-XXXXXX",
		 tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_round_trip, &failed);
	RUN(test_bad_names_and_sizes, &failed);
	RUN(test_wrong_passphrase, &failed);
	RUN(test_damaged_files, &failed);
	RUN(test_oversize_file, &failed);
	RUN(test_file_mode, &failed);
	RUN(test_crash_leaves_previous, &failed);
	RUN(test_failed_save_changes_nothing, &failed);
	RUN(test_passphrase_sources, &failed);
	RUN(test_payload_decoder, &failed);
	RUN(test_strerror, &failed);
	remove_dir();
	return failed ? 1 : 0;
}

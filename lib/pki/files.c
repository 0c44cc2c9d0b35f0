/* files.c - the CA's files: created exclusively with exact modes, read
 * with a size limit into wipeable buffers. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pki.h"

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return BW_ERR_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ca_file_create(const char *path, mode_t mode, const void *data,
		   size_t len)
{
	int fd, rc;

	/* O_EXCL never replaces an organisation's file; O_NOFOLLOW refuses a
	 * planted symlink. fchmod gives the exact mode whatever the umask. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0)
		return errno == EEXIST ? CA_ERR_EXISTS : BW_ERR_IO;
	rc = fchmod(fd, mode) == 0 ? 0 : BW_ERR_IO;
	if (rc == 0)
		rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) != 0)
		rc = BW_ERR_IO;
	if (close(fd) != 0 && rc == 0)
		rc = BW_ERR_IO;
	if (rc != 0)
		unlink(path);
	return rc;
}

int ca_file_read(const char *path, size_t max, struct bw_bytes *data,
		 mode_t *mode)
{
	struct bw_bytes buf = { 0 };
	struct stat st;
	size_t len = 0;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return BW_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = BW_ERR_IO;
		goto out;
	}
	if (mode != NULL)
		*mode = st.st_mode;
	/* One byte more than allowed, to tell "exactly max" from "longer". */
	if ((rc = bw_bytes_alloc(&buf, max + 1)) != 0)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf.p + len, buf.len - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = BW_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			rc = BW_ERR_TOO_LONG;
			goto out;
		}
	}
	bw_bytes_clear(data);
	if (len == 0)
		goto out; /* an empty file gives an empty string */
	/* Bytes past len were never written (calloc), so wiping len bytes
	 * on clear wipes everything the file put there. */
	buf.len = len;
	bw_bytes_move(data, &buf);
out:
	bw_bytes_clear(&buf);
	close(fd);
	return rc;
}

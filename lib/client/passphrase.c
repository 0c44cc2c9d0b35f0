/*
 * passphrase.c - where the CLI and scripts take a keystore passphrase
 * from: pass:TEXT, file:PATH or env:NAME (as OpenSSL's -passin), so that it
 * never has to appear on a command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "bulwark/bulwark.h"
#include "err.h"

static int passphrase_dup(const char *p, size_t n, char **out)
{
	char *copy;

	if (n == 0)
		return BULWARK_ERR_PASSPHRASE_EMPTY;
	if (n > BULWARK_PASSPHRASE_MAX_LEN)
		return BULWARK_ERR_PASSPHRASE_TOO_LONG;
	if (memchr(p, '\0', n) != NULL)
		return BULWARK_ERR_PASSPHRASE_INVALID;
	if ((copy = malloc(n + 1)) == NULL)
		return BW_ERR_NOMEM;
	memcpy(copy, p, n);
	copy[n] = '\0';
	*out = copy;
	return 0;
}

/* The first line of the file, without "\n" or "\r\n". */
static int passphrase_from_file(const char *path, char **out)
{
	char buf[BULWARK_PASSPHRASE_MAX_LEN + 2];
	size_t got = 0, line;
	ssize_t n = 0;
	char *nl;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return BULWARK_ERR_PASSPHRASE_UNAVAILABLE;
	while (got < sizeof(buf)) {
		if ((n = read(fd, buf + got, sizeof(buf) - got)) < 0 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (n < 0) {
		rc = BULWARK_ERR_PASSPHRASE_UNAVAILABLE;
		goto out;
	}
	nl = memchr(buf, '\n', got);
	line = nl ? (size_t)(nl - buf) : got;
	if (line > 0 && buf[line - 1] == '\r')
		line--;
	rc = passphrase_dup(buf, line, out);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

int bulwark_passphrase_load(const char *source, char **out)
{
	const char *env;

	if (source == NULL || out == NULL)
		return BW_ERR_INVALID_ARG;
	*out = NULL;
	if (strncmp(source, "pass:", 5) == 0)
		return passphrase_dup(source + 5, strlen(source + 5), out);
	if (strncmp(source, "file:", 5) == 0)
		return passphrase_from_file(source + 5, out);
	if (strncmp(source, "env:", 4) == 0) {
		if ((env = getenv(source + 4)) == NULL)
			return BULWARK_ERR_PASSPHRASE_UNAVAILABLE;
		return passphrase_dup(env, strlen(env), out);
	}
	return BULWARK_ERR_PASSPHRASE_SOURCE;
}

void bulwark_passphrase_free(char *passphrase)
{
	if (passphrase != NULL)
		OPENSSL_clear_free(passphrase, strlen(passphrase) + 1);
}

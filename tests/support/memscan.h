/*
 * memscan.h - look for secrets in a process's memory (/proc/PID/maps and
 * /proc/PID/mem) without holding them.
 *
 * A needle keeps only the length, a rolling hash and the SHA-256 of its
 * secret, so a process can scan its own memory for a secret it never had:
 * the scan cannot find the scanner's copy because there is none. Every
 * window whose rolling hash matches is confirmed by its SHA-256.
 *
 *   struct memscan_needle n[1];
 *   struct memscan_result res;
 *   memscan_needle_init(&n[0], "ca-key", scalar, 32);  // then wipe scalar
 *   if (memscan_pid(getpid(), n, 1, &res) == 0 && res.hits[0] == 0) ...
 *
 * Reading another process needs ptrace access to it (same user and
 * dumpable, or CAP_SYS_PTRACE). In AddressSanitizer builds the shadow
 * memory, terabytes of metadata that never hold program data, is skipped.
 */
#ifndef BW_TEST_MEMSCAN_H
#define BW_TEST_MEMSCAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MEMSCAN_NEEDLES_MAX 8
#define MEMSCAN_NEEDLE_MIN 8u    /* shorter needles would match by chance */
#define MEMSCAN_NEEDLE_MAX 1024u

struct memscan_needle {
	char label[32];
	size_t len;
	uint64_t rolling;
	uint8_t sha256[32];
};

struct memscan_result {
	size_t regions;     /* readable mappings scanned */
	uint64_t bytes;     /* bytes read */
	size_t hits[MEMSCAN_NEEDLES_MAX];
	uint64_t first_hit[MEMSCAN_NEEDLES_MAX]; /* address, when hits > 0 */
};

/* Fingerprint secret[0..len) (MEMSCAN_NEEDLE_MIN..MEMSCAN_NEEDLE_MAX). */
int memscan_needle_init(struct memscan_needle *n, const char *label,
			const uint8_t *secret, size_t len);

/* Scan every readable mapping of process pid for the needles. Returns 0,
 * or -1 when the process's memory cannot be opened (errno tells why). */
int memscan_pid(pid_t pid, const struct memscan_needle *needles,
		size_t count, struct memscan_result *res);

#endif

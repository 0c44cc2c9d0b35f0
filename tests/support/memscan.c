/* memscan.c - scan a process's readable memory for fingerprinted secrets
 * (memscan.h). */
#include "memscan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#if defined(__SANITIZE_ADDRESS__)
#define MEMSCAN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEMSCAN_ASAN 1
#endif
#endif
#ifdef MEMSCAN_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define BASE UINT64_C(0x100000001b3) /* odd, so powers never vanish */
#define CHUNK (1u << 20)
#define PAGE 4096u

struct scan {
	const struct memscan_needle *needles;
	size_t count;
	/* Needles of equal length share one rolling pass. */
	size_t lens[MEMSCAN_NEEDLES_MAX];
	uint64_t pow[MEMSCAN_NEEDLES_MAX]; /* BASE^(len - 1) per length */
	/* The rolling hashes of the needles of each length. */
	uint64_t hashes[MEMSCAN_NEEDLES_MAX][MEMSCAN_NEEDLES_MAX];
	size_t nhashes[MEMSCAN_NEEDLES_MAX];
	size_t nlens;
	size_t keep;      /* longest needle - 1: bytes carried over */
	uint8_t *buf;     /* carried bytes, then the new ones */
	size_t carry;     /* carried bytes at buf[0..carry) */
	uint64_t base;    /* address of buf[carry] */
	struct memscan_result *res;
};

static uint64_t hash_init(const uint8_t *p, size_t n)
{
	uint64_t h = 0;

	for (size_t i = 0; i < n; i++)
		h = h * BASE + p[i];
	return h;
}

static bool sha256_is(const uint8_t *p, size_t n, const uint8_t want[32])
{
	uint8_t md[32];
	unsigned int len = 0;

	return EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) && len == 32 &&
	       memcmp(md, want, 32) == 0;
}

int memscan_needle_init(struct memscan_needle *n, const char *label,
			const uint8_t *secret, size_t len)
{
	unsigned int md_len = 0;

	if (len < MEMSCAN_NEEDLE_MIN || len > MEMSCAN_NEEDLE_MAX)
		return -1;
	memset(n, 0, sizeof(*n));
	snprintf(n->label, sizeof(n->label), "%s", label);
	n->len = len;
	n->rolling = hash_init(secret, len);
	return EVP_Digest(secret, len, n->sha256, &md_len, EVP_sha256(),
			  NULL) && md_len == 32 ? 0 : -1;
}

static inline bool hash_wanted(const struct scan *s, size_t l, uint64_t h)
{
	bool wanted = false;

	for (size_t i = 0; i < s->nhashes[l]; i++)
		wanted |= h == s->hashes[l][i];
	return wanted;
}

/* A window whose rolling hash is h: count it for every needle it is. */
static void match(struct scan *s, size_t len, uint64_t h, size_t start)
{
	for (size_t k = 0; k < s->count; k++) {
		const struct memscan_needle *n = &s->needles[k];

		if (n->len != len || n->rolling != h ||
		    !sha256_is(s->buf + start, len, n->sha256))
			continue;
		if (s->res->hits[k]++ == 0)
			s->res->first_hit[k] = s->base - s->carry + start;
	}
}

/* Look at every window of buf[0..carry + fresh) that ends in the fresh
 * bytes (the others were looked at before), then carry the tail over. */
static void scan_fresh(struct scan *s, size_t fresh)
{
	size_t total = s->carry + fresh;
	size_t keep = total < s->keep ? total : s->keep;
	const uint8_t *b = s->buf;

	for (size_t l = 0; l < s->nlens; l++) {
		size_t len = s->lens[l];
		uint64_t h, pow = s->pow[l];

		if (total < len)
			continue;
		h = hash_init(b, len);
		for (size_t start = 0;; start++) {
			size_t end = start + len;

			/* Hashes first: a call per byte would dominate. */
			if (end > s->carry && hash_wanted(s, l, h))
				match(s, len, h, start);
			if (end == total)
				break;
			h = (h - b[start] * pow) * BASE + b[end];
		}
	}
	memmove(s->buf, s->buf + total - keep, keep);
	s->base += fresh;
	s->carry = keep;
}

/* Read [addr, addr + len) into the scan, page by page where a whole chunk
 * cannot be read; an unreadable page breaks the run of bytes. */
static void read_span(struct scan *s, int fd, uint64_t addr, size_t len)
{
	ssize_t n = pread(fd, s->buf + s->carry, len, (off_t)addr);

	if (n == (ssize_t)len) {
		s->res->bytes += len;
		scan_fresh(s, len);
		return;
	}
	for (size_t off = 0; off < len; off += PAGE) {
		n = pread(fd, s->buf + s->carry, PAGE, (off_t)(addr + off));
		if (n != PAGE) {
			s->carry = 0;
			s->base = addr + off + PAGE;
			continue;
		}
		s->res->bytes += PAGE;
		scan_fresh(s, PAGE);
	}
}

static void scan_region(struct scan *s, int fd, uint64_t lo, uint64_t hi)
{
	s->carry = 0;
	s->base = lo;
	for (uint64_t addr = lo; addr < hi; addr += CHUNK)
		read_span(s, fd, addr, hi - addr < CHUNK ? hi - addr : CHUNK);
	s->res->regions++;
}

static void add_needle(struct scan *s, const struct memscan_needle *n)
{
	size_t len = n->len;

	for (size_t l = 0; l < s->nlens; l++) {
		if (s->lens[l] == len) {
			s->hashes[l][s->nhashes[l]++] = n->rolling;
			return;
		}
	}
	s->lens[s->nlens] = len;
	s->hashes[s->nlens][0] = n->rolling;
	s->nhashes[s->nlens] = 1;
	s->pow[s->nlens] = 1;
	for (size_t i = 1; i < len; i++)
		s->pow[s->nlens] *= BASE;
	s->nlens++;
	if (len - 1 > s->keep)
		s->keep = len - 1;
}

/* AddressSanitizer's shadow (and its gap) holds no program data. */
static bool is_shadow(uint64_t lo, uint64_t hi)
{
#ifdef MEMSCAN_ASAN
	size_t scale, offset;

	__asan_get_shadow_mapping(&scale, &offset);
	return lo >= offset &&
	       hi <= offset + (UINT64_C(0x7fffffffffff) >> scale) + 1;
#else
	(void)lo;
	(void)hi;
	return false;
#endif
}

/* "lo-hi perms ..." of one line of /proc/PID/maps; true when readable. */
static bool parse_map_line(const char *line, uint64_t *lo, uint64_t *hi)
{
	char *end;

	*lo = strtoull(line, &end, 16);
	if (*end != '-')
		return false;
	*hi = strtoull(end + 1, &end, 16);
	return *end == ' ' && end[1] == 'r' && *hi > *lo;
}

int memscan_pid(pid_t pid, const struct memscan_needle *needles,
		size_t count, struct memscan_result *res)
{
	struct scan s = { .needles = needles, .count = count, .res = res };
	char path[64], line[4096 + 128];
	uint64_t lo, hi;
	FILE *maps;
	int fd;

	memset(res, 0, sizeof(*res));
	if (count > MEMSCAN_NEEDLES_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (size_t k = 0; k < count; k++)
		add_needle(&s, &needles[k]);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if ((maps = fopen(path, "re")) == NULL)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (s.buf = malloc(s.keep + CHUNK)) == NULL) {
		if (fd >= 0)
			close(fd);
		fclose(maps);
		return -1;
	}
	while (fgets(line, sizeof(line), maps) != NULL)
		if (parse_map_line(line, &lo, &hi) && !is_shadow(lo, hi))
			scan_region(&s, fd, lo, hi);
	free(s.buf);
	close(fd);
	fclose(maps);
	return 0;
}

/*
 * codec.h - the one bounds-checked codec for every byte Bulwark parses or
 * produces: the TLS presentation language as MLS uses it (RFC 9420 §2.1),
 * which the server protocol reuses.
 *
 * Reading (struct bw_reader) is zero-copy over a caller's buffer. Every read
 * checks the remaining length first and consumes nothing when it fails; the
 * first error sticks in r->err, so a decoder may read a run of fields and test
 * once at the end. A reader never touches a byte past its end.
 *
 * Writing (struct bw_writer) either grows a heap buffer up to a hard maximum
 * or fills a caller's fixed buffer without allocating (for hot paths). Errors
 * also stick. The buffer is wiped when freed because encodings often hold
 * secrets (GroupSecrets, key schedule inputs).
 *
 *   struct bw_reader r;
 *   const uint8_t *id; size_t id_len; uint64_t epoch;
 *   bw_reader_init(&r, data, len);
 *   bw_read_opaque(&r, 255, &id, &id_len);
 *   bw_read_u64(&r, &epoch);
 *   if ((rc = bw_reader_finish(&r)) != 0) return rc;   // truncated/trailing
 */
#ifndef BW_CODEC_H
#define BW_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Largest value an MLS variable-length integer can hold (30 bits). */
#define BW_VARINT_MAX 0x3fffffffu
/* Default hard maximum of a growable writer. */
#define BW_WRITER_DEFAULT_MAX (64u * 1024u * 1024u)

struct bw_reader {
	const uint8_t *p;
	size_t len;
	size_t pos;
	int err;
};

void bw_reader_init(struct bw_reader *r, const uint8_t *p, size_t len);
size_t bw_reader_remaining(const struct bw_reader *r);
/* The first error seen, else BW_ERR_TRAILING if bytes remain, else 0. */
int bw_reader_finish(const struct bw_reader *r);

int bw_read_u8(struct bw_reader *r, uint8_t *v);
int bw_read_u16(struct bw_reader *r, uint16_t *v);
int bw_read_u32(struct bw_reader *r, uint32_t *v);
int bw_read_u64(struct bw_reader *r, uint64_t *v);
/* MLS variable-length integer with the minimum-encoding rule (§2.1.2). */
int bw_read_varint(struct bw_reader *r, uint32_t *v);
/* n raw bytes, zero-copy: *p points into the reader's buffer. */
int bw_read_bytes(struct bw_reader *r, size_t n, const uint8_t **p);
/* opaque<V> of at most max bytes, zero-copy. */
int bw_read_opaque(struct bw_reader *r, size_t max, const uint8_t **p,
		   size_t *n);
/* opaque<V> copied into a fresh allocation (*p owned by the caller; an empty
 * vector gives *p == NULL, *n == 0). */
int bw_read_opaque_dup(struct bw_reader *r, size_t max, uint8_t **p,
		       size_t *n);
/* opaque<V> that must be exactly n bytes long (a fixed-size key or hash). */
int bw_read_opaque_exact(struct bw_reader *r, size_t n, const uint8_t **p);
/* vector<V> of at most max bytes: *sub reads only its contents. */
int bw_read_vector(struct bw_reader *r, size_t max, struct bw_reader *sub);
/* optional<T> presence octet: anything but 0 or 1 is malformed. */
int bw_read_optional(struct bw_reader *r, bool *present);
/* Record an error found by a decoder above the codec (sticky, first wins). */
int bw_reader_fail(struct bw_reader *r, int err);

struct bw_writer {
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t max;
	int err;
	bool fixed; /* caller's buffer: never reallocated or freed */
};

/* A growable writer holding at most max bytes (0: BW_WRITER_DEFAULT_MAX). */
void bw_writer_init(struct bw_writer *w, size_t max);
/* A writer over buf[0..cap), which it never reallocates. */
void bw_writer_init_fixed(struct bw_writer *w, uint8_t *buf, size_t cap);
/* Change a growable writer's limit (what it holds stays). */
void bw_writer_set_max(struct bw_writer *w, size_t max);
/* Wipe and release a growable writer's buffer. */
void bw_writer_free(struct bw_writer *w);
/* Forget the contents but keep the allocation (for reuse in loops). */
void bw_writer_reset(struct bw_writer *w);
/* Hand the encoding over: *out is the caller's (free with
 * bw_free_secret or free), the writer is left empty. Fails with the writer's
 * sticky error, in which case nothing is handed over. */
int bw_writer_take(struct bw_writer *w, uint8_t **out, size_t *out_len);

int bw_write_u8(struct bw_writer *w, uint8_t v);
int bw_write_u16(struct bw_writer *w, uint16_t v);
int bw_write_u32(struct bw_writer *w, uint32_t v);
int bw_write_u64(struct bw_writer *w, uint64_t v);
int bw_write_varint(struct bw_writer *w, uint32_t v);
int bw_write_bytes(struct bw_writer *w, const void *p, size_t n);
int bw_write_opaque(struct bw_writer *w, const void *p, size_t n);
int bw_write_optional(struct bw_writer *w, bool present);
/* Reserve n bytes and return a pointer to them (NULL on error). */
uint8_t *bw_write_reserve(struct bw_writer *w, size_t n);

/* vector<V> whose contents are written in between: begin returns a mark
 * that end uses to insert the minimal length header. */
size_t bw_write_vector_begin(struct bw_writer *w);
int bw_write_vector_end(struct bw_writer *w, size_t mark);

/* Size of the varint header for a length (1, 2 or 4; 0 if too large). */
size_t bw_varint_size(size_t v);

#endif

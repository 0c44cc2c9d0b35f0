/*
 * codec.c - bounds-checked TLS-presentation-language reader and writer.
 *
 * Invariants: r->pos <= r->len and w->len <= w->cap <= w->max always hold;
 * every read checks bw_reader_remaining() before touching a byte; a failed
 * read leaves r->pos where it was.
 */
#include "codec.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void bw_reader_init(struct bw_reader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->pos = 0;
	r->err = 0;
}

size_t bw_reader_remaining(const struct bw_reader *r)
{
	return r->len - r->pos;
}

int bw_reader_fail(struct bw_reader *r, int err)
{
	if (r->err == 0)
		r->err = err;
	return r->err;
}

int bw_reader_finish(const struct bw_reader *r)
{
	if (r->err != 0)
		return r->err;
	return r->pos == r->len ? 0 : BW_ERR_TRAILING;
}

/* Take n bytes from the reader, or fail without consuming anything. */
static int take(struct bw_reader *r, size_t n, const uint8_t **p)
{
	if (r->err != 0)
		return r->err;
	if (n > bw_reader_remaining(r))
		return bw_reader_fail(r, BW_ERR_TRUNCATED);
	*p = r->p + r->pos;
	r->pos += n;
	return 0;
}

static uint64_t load_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

int bw_read_u8(struct bw_reader *r, uint8_t *v)
{
	const uint8_t *p = NULL;
	int rc = take(r, 1, &p);

	if (rc == 0)
		*v = p[0];
	return rc;
}

int bw_read_u16(struct bw_reader *r, uint16_t *v)
{
	const uint8_t *p = NULL;
	int rc = take(r, 2, &p);

	if (rc == 0)
		*v = (uint16_t)load_be(p, 2);
	return rc;
}

int bw_read_u32(struct bw_reader *r, uint32_t *v)
{
	const uint8_t *p = NULL;
	int rc = take(r, 4, &p);

	if (rc == 0)
		*v = (uint32_t)load_be(p, 4);
	return rc;
}

int bw_read_u64(struct bw_reader *r, uint64_t *v)
{
	const uint8_t *p = NULL;
	int rc = take(r, 8, &p);

	if (rc == 0)
		*v = load_be(p, 8);
	return rc;
}

/* RFC 9420 §2.1.2: 2-bit length prefix, and the value must not fit in half
 * the bytes used. Validated before anything is consumed. */
int bw_read_varint(struct bw_reader *r, uint32_t *v)
{
	size_t n;
	uint32_t val;

	if (r->err != 0)
		return r->err;
	if (bw_reader_remaining(r) < 1)
		return bw_reader_fail(r, BW_ERR_TRUNCATED);
	uint8_t prefix = r->p[r->pos] >> 6;
	if (prefix == 3)
		return bw_reader_fail(r, BW_ERR_VARINT_PREFIX);
	n = (size_t)1 << prefix;
	if (bw_reader_remaining(r) < n)
		return bw_reader_fail(r, BW_ERR_TRUNCATED);
	val = (uint32_t)load_be(r->p + r->pos, n) & (BW_VARINT_MAX >> (8 * (4 - n)));
	if (prefix >= 1 && val < (1u << (8 * (n / 2) - 2)))
		return bw_reader_fail(r, BW_ERR_VARINT_NONMINIMAL);
	r->pos += n;
	*v = val;
	return 0;
}

int bw_read_bytes(struct bw_reader *r, size_t n, const uint8_t **p)
{
	return take(r, n, p);
}

int bw_read_opaque(struct bw_reader *r, size_t max, const uint8_t **p,
		   size_t *n)
{
	size_t start = r->pos;
	uint32_t len;
	int rc;

	if ((rc = bw_read_varint(r, &len)) != 0)
		return rc;
	if (len > max) {
		r->pos = start;
		return bw_reader_fail(r, BW_ERR_TOO_LONG);
	}
	if (len > bw_reader_remaining(r)) {
		r->pos = start;
		return bw_reader_fail(r, BW_ERR_TRUNCATED);
	}
	*p = r->p + r->pos;
	*n = len;
	r->pos += len;
	return 0;
}

int bw_read_opaque_dup(struct bw_reader *r, size_t max, uint8_t **p,
		       size_t *n)
{
	const uint8_t *src;
	size_t len, start = r->pos;
	int rc;

	*p = NULL;
	*n = 0;
	if ((rc = bw_read_opaque(r, max, &src, &len)) != 0)
		return rc;
	if (len == 0)
		return 0;
	if ((*p = malloc(len)) == NULL) {
		r->pos = start;
		return bw_reader_fail(r, BW_ERR_NOMEM);
	}
	memcpy(*p, src, len);
	*n = len;
	return 0;
}

int bw_read_opaque_exact(struct bw_reader *r, size_t n, const uint8_t **p)
{
	size_t start = r->pos, len;
	int rc;

	if ((rc = bw_read_opaque(r, n, p, &len)) != 0)
		return rc;
	if (len != n) {
		r->pos = start;
		return bw_reader_fail(r, BW_ERR_BAD_VALUE);
	}
	return 0;
}

int bw_read_vector(struct bw_reader *r, size_t max, struct bw_reader *sub)
{
	const uint8_t *p = NULL;
	size_t n;
	int rc;

	bw_reader_init(sub, NULL, 0);
	if ((rc = bw_read_opaque(r, max, &p, &n)) != 0)
		return rc;
	bw_reader_init(sub, p, n);
	return 0;
}

int bw_read_optional(struct bw_reader *r, bool *present)
{
	uint8_t v;
	int rc;

	if (r->err != 0)
		return r->err;
	if (bw_reader_remaining(r) < 1)
		return bw_reader_fail(r, BW_ERR_TRUNCATED);
	v = r->p[r->pos];
	if (v > 1)
		return bw_reader_fail(r, BW_ERR_OPTIONAL);
	if ((rc = bw_read_u8(r, &v)) != 0)
		return rc;
	*present = v == 1;
	return 0;
}

/* ---- writer ---- */

void bw_writer_init(struct bw_writer *w, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max ? max : BW_WRITER_DEFAULT_MAX;
}

void bw_writer_set_max(struct bw_writer *w, size_t max)
{
	if (!w->fixed && max >= w->len)
		w->max = max;
}

void bw_writer_init_fixed(struct bw_writer *w, uint8_t *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	w->max = cap;
	w->fixed = true;
}

void bw_writer_free(struct bw_writer *w)
{
	if (!w->fixed && w->buf != NULL)
		OPENSSL_clear_free(w->buf, w->cap);
	else if (w->fixed && w->buf != NULL)
		OPENSSL_cleanse(w->buf, w->len);
	w->buf = NULL;
	w->len = w->cap = 0;
}

void bw_writer_reset(struct bw_writer *w)
{
	if (w->buf != NULL)
		OPENSSL_cleanse(w->buf, w->len);
	w->len = 0;
	w->err = 0;
}

int bw_writer_take(struct bw_writer *w, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (w->err != 0)
		return w->err;
	if (w->fixed)
		return BW_ERR_INVALID_ARG;
	if (w->buf == NULL && (w->buf = malloc(1)) == NULL)
		return w->err = BW_ERR_NOMEM;
	*out = w->buf;
	*out_len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	return 0;
}

static int writer_fail(struct bw_writer *w, int err)
{
	if (w->err == 0)
		w->err = err;
	return w->err;
}

/* Make room for n more bytes, growing geometrically up to w->max. */
static int ensure(struct bw_writer *w, size_t n)
{
	size_t want, cap;
	uint8_t *nbuf;

	if (w->err != 0)
		return w->err;
	if (n > w->max - w->len)
		return writer_fail(w, BW_ERR_WRITER_FULL);
	want = w->len + n;
	if (want <= w->cap)
		return 0;
	if (w->fixed)
		return writer_fail(w, BW_ERR_WRITER_FULL);
	cap = w->cap ? w->cap : 64;
	while (cap < want)
		cap = cap > w->max / 2 ? w->max : cap * 2;
	/* Copy rather than realloc so that old contents can be wiped. */
	if ((nbuf = malloc(cap)) == NULL)
		return writer_fail(w, BW_ERR_NOMEM);
	if (w->buf != NULL) {
		memcpy(nbuf, w->buf, w->len);
		OPENSSL_clear_free(w->buf, w->cap);
	}
	w->buf = nbuf;
	w->cap = cap;
	return 0;
}

uint8_t *bw_write_reserve(struct bw_writer *w, size_t n)
{
	uint8_t *p;

	if (ensure(w, n) != 0)
		return NULL;
	p = w->buf + w->len;
	w->len += n;
	return p;
}

static int write_be(struct bw_writer *w, uint64_t v, size_t n)
{
	uint8_t *p = bw_write_reserve(w, n);

	if (p == NULL)
		return w->err;
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return 0;
}

int bw_write_u8(struct bw_writer *w, uint8_t v)
{
	return write_be(w, v, 1);
}

int bw_write_u16(struct bw_writer *w, uint16_t v)
{
	return write_be(w, v, 2);
}

int bw_write_u32(struct bw_writer *w, uint32_t v)
{
	return write_be(w, v, 4);
}

int bw_write_u64(struct bw_writer *w, uint64_t v)
{
	return write_be(w, v, 8);
}

size_t bw_varint_size(size_t v)
{
	if (v <= 0x3f)
		return 1;
	if (v <= 0x3fff)
		return 2;
	if (v <= BW_VARINT_MAX)
		return 4;
	return 0;
}

int bw_write_varint(struct bw_writer *w, uint32_t v)
{
	switch (bw_varint_size(v)) {
	case 1:
		return write_be(w, v, 1);
	case 2:
		return write_be(w, 0x4000u | v, 2);
	case 4:
		return write_be(w, 0x80000000u | v, 4);
	}
	return writer_fail(w, BW_ERR_TOO_LONG);
}

int bw_write_bytes(struct bw_writer *w, const void *p, size_t n)
{
	uint8_t *dst;

	if (n == 0)
		return w->err;
	if ((dst = bw_write_reserve(w, n)) == NULL)
		return w->err;
	memcpy(dst, p, n);
	return 0;
}

int bw_write_opaque(struct bw_writer *w, const void *p, size_t n)
{
	int rc;

	if (n > BW_VARINT_MAX)
		return writer_fail(w, BW_ERR_TOO_LONG);
	if ((rc = bw_write_varint(w, (uint32_t)n)) != 0)
		return rc;
	return bw_write_bytes(w, p, n);
}

int bw_write_optional(struct bw_writer *w, bool present)
{
	return bw_write_u8(w, present ? 1 : 0);
}

/* The header is written last, so reserve the largest one (4 bytes) and
 * close the gap once the contents' length is known. */
size_t bw_write_vector_begin(struct bw_writer *w)
{
	size_t mark = w->len;

	bw_write_reserve(w, 4);
	return mark;
}

int bw_write_vector_end(struct bw_writer *w, size_t mark)
{
	size_t body, hdr, end;
	uint8_t *p;

	if (w->err != 0)
		return w->err;
	if (mark + 4 > w->len)
		return writer_fail(w, BW_ERR_INVALID_ARG);
	body = w->len - mark - 4;
	if ((hdr = bw_varint_size(body)) == 0)
		return writer_fail(w, BW_ERR_TOO_LONG);
	p = w->buf + mark;
	memmove(p + hdr, p + 4, body);
	end = w->len;
	w->len = mark;
	bw_write_varint(w, (uint32_t)body);
	w->len = mark + hdr + body;
	OPENSSL_cleanse(w->buf + w->len, end - w->len);
	return w->err;
}

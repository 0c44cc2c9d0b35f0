/* test_codec.c - the bounds-checked codec: every error path, boundaries,
 * no consumption on failure, and randomised round trips. */
#include <stdlib.h>

#include <openssl/rand.h>

#include "bytes.h"
#include "codec.h"
#include "test.h"

static bool varint_case(const char *hex, int want_rc, uint32_t want)
{
	struct bw_reader r;
	uint8_t *p;
	size_t n;
	uint32_t v = 0;
	int rc;

	CHECK(bw_hex_decode(hex, &p, &n) == 0);
	bw_reader_init(&r, p, n);
	rc = bw_read_varint(&r, &v);
	free(p);
	CHECK_EQ_INT(rc, want_rc);
	if (rc == 0)
		CHECK_EQ_INT(v, want);
	else
		CHECK_EQ_INT(r.pos, 0); /* nothing consumed */
	return true;
}

static bool test_varint_decode(void)
{
	CHECK(varint_case("25", 0, 37));
	CHECK(varint_case("7bbd", 0, 15293));
	CHECK(varint_case("9d7f3e7d", 0, 494878333));
	CHECK(varint_case("3f", 0, 63));
	CHECK(varint_case("4040", 0, 64));
	CHECK(varint_case("bfffffff", 0, 0x3fffffff));
	CHECK(varint_case("4000", BW_ERR_VARINT_NONMINIMAL, 0));
	CHECK(varint_case("403f", BW_ERR_VARINT_NONMINIMAL, 0));
	CHECK(varint_case("80003fff", BW_ERR_VARINT_NONMINIMAL, 0));
	CHECK(varint_case("c0", BW_ERR_VARINT_PREFIX, 0));
	CHECK(varint_case("ffffffffffffffff", BW_ERR_VARINT_PREFIX, 0));
	CHECK(varint_case("40", BW_ERR_TRUNCATED, 0));
	CHECK(varint_case("80ffff", BW_ERR_TRUNCATED, 0));
	CHECK(varint_case("", BW_ERR_TRUNCATED, 0));
	return true;
}

static bool test_varint_encode_boundaries(void)
{
	static const uint32_t vals[] = { 0, 63, 64, 16383, 16384, 0x3fffffff };
	static const size_t sizes[] = { 1, 1, 2, 2, 4, 4 };
	struct bw_writer w;

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		struct bw_reader r;
		uint32_t back;

		bw_writer_init(&w, 0);
		CHECK(bw_write_varint(&w, vals[i]) == 0);
		CHECK_EQ_INT(w.len, sizes[i]);
		bw_reader_init(&r, w.buf, w.len);
		CHECK(bw_read_varint(&r, &back) == 0);
		CHECK_EQ_INT(back, vals[i]);
		CHECK(bw_reader_finish(&r) == 0);
		bw_writer_free(&w);
	}
	bw_writer_init(&w, 0);
	CHECK(bw_write_varint(&w, 0x40000000u) == BW_ERR_TOO_LONG);
	CHECK(w.err == BW_ERR_TOO_LONG); /* sticky */
	CHECK(bw_write_u8(&w, 1) == BW_ERR_TOO_LONG);
	bw_writer_free(&w);
	return true;
}

static bool test_fixed_width(void)
{
	static const uint8_t in[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
				      13, 14, 15 };
	struct bw_reader r;
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;

	bw_reader_init(&r, in, sizeof(in));
	CHECK(bw_read_u8(&r, &a) == 0 && a == 1);
	CHECK(bw_read_u16(&r, &b) == 0 && b == 0x0203);
	CHECK(bw_read_u32(&r, &c) == 0 && c == 0x04050607);
	CHECK(bw_read_u64(&r, &d) == 0 && d == 0x08090a0b0c0d0e0fULL);
	CHECK(bw_reader_finish(&r) == 0);
	CHECK(bw_read_u8(&r, &a) == BW_ERR_TRUNCATED);
	CHECK_EQ_INT(r.pos, sizeof(in));
	/* a truncated u64 consumes nothing and the error sticks */
	bw_reader_init(&r, in, 7);
	CHECK(bw_read_u64(&r, &d) == BW_ERR_TRUNCATED);
	CHECK_EQ_INT(r.pos, 0);
	CHECK(bw_read_u8(&r, &a) == BW_ERR_TRUNCATED);
	CHECK(bw_reader_finish(&r) == BW_ERR_TRUNCATED);
	return true;
}

static bool test_opaque(void)
{
	static const uint8_t ok[] = { 0x03, 'a', 'b', 'c', 0xff };
	static const uint8_t shortv[] = { 0x05, 'a', 'b' };
	struct bw_reader r;
	const uint8_t *p;
	uint8_t *dup;
	size_t n;

	bw_reader_init(&r, ok, sizeof(ok));
	CHECK(bw_read_opaque(&r, 3, &p, &n) == 0);
	CHECK_MEM(p, n, "abc", (size_t)3);
	CHECK(bw_reader_finish(&r) == BW_ERR_TRAILING);

	bw_reader_init(&r, ok, sizeof(ok));
	CHECK(bw_read_opaque(&r, 2, &p, &n) == BW_ERR_TOO_LONG);
	CHECK_EQ_INT(r.pos, 0);

	bw_reader_init(&r, shortv, sizeof(shortv));
	CHECK(bw_read_opaque(&r, 100, &p, &n) == BW_ERR_TRUNCATED);
	CHECK_EQ_INT(r.pos, 0);

	bw_reader_init(&r, ok, sizeof(ok));
	CHECK(bw_read_opaque_dup(&r, 10, &dup, &n) == 0);
	CHECK_MEM(dup, n, "abc", (size_t)3);
	free(dup);

	bw_reader_init(&r, ok, sizeof(ok));
	CHECK(bw_read_opaque_exact(&r, 4, &p) == BW_ERR_TOO_LONG ||
	      r.err != 0);
	bw_reader_init(&r, ok, 4);
	CHECK(bw_read_opaque_exact(&r, 3, &p) == 0);
	CHECK(bw_reader_finish(&r) == 0);
	return true;
}

static bool test_optional_and_vector(void)
{
	static const uint8_t opt[] = { 0x02 };
	static const uint8_t vec[] = { 0x04, 0x00, 0x01, 0x00, 0x02, 0x07 };
	struct bw_reader r, sub;
	uint16_t x;
	bool present;

	bw_reader_init(&r, opt, sizeof(opt));
	CHECK(bw_read_optional(&r, &present) == BW_ERR_OPTIONAL);
	CHECK_EQ_INT(r.pos, 0);

	bw_reader_init(&r, vec, sizeof(vec));
	CHECK(bw_read_vector(&r, 4, &sub) == 0);
	CHECK(bw_read_u16(&sub, &x) == 0 && x == 1);
	CHECK(bw_read_u16(&sub, &x) == 0 && x == 2);
	CHECK(bw_read_u16(&sub, &x) == BW_ERR_TRUNCATED); /* stays inside */
	CHECK(bw_reader_remaining(&r) == 1);
	return true;
}

static bool test_writer_vectors(void)
{
	struct bw_writer w;
	uint8_t *out;
	size_t n, mark, inner;

	bw_writer_init(&w, 0);
	mark = bw_write_vector_begin(&w);
	inner = bw_write_vector_begin(&w);
	for (int i = 0; i < 100; i++)
		bw_write_u8(&w, (uint8_t)i);
	CHECK(bw_write_vector_end(&w, inner) == 0);
	CHECK(bw_write_vector_end(&w, mark) == 0);
	CHECK(bw_writer_take(&w, &out, &n) == 0);
	/* outer: 2-byte header for 102, inner: 2-byte header for 100 */
	CHECK_EQ_INT(n, 104);
	CHECK(out[0] == 0x40 && out[1] == 102);
	CHECK(out[2] == 0x40 && out[3] == 100 && out[4] == 0 && out[103] == 99);
	free(out);

	bw_writer_init(&w, 0);
	mark = bw_write_vector_begin(&w);
	CHECK(bw_write_vector_end(&w, mark) == 0);
	CHECK_EQ_INT(w.len, 1);
	CHECK(w.buf[0] == 0);
	bw_writer_free(&w);
	return true;
}

static bool test_writer_limits(void)
{
	uint8_t buf[4];
	struct bw_writer w;

	bw_writer_init_fixed(&w, buf, sizeof(buf));
	CHECK(bw_write_u32(&w, 7) == 0);
	CHECK(bw_write_u8(&w, 1) == BW_ERR_WRITER_FULL);
	CHECK_EQ_INT(w.len, 4);
	bw_writer_free(&w);

	bw_writer_init(&w, 10);
	CHECK(bw_write_u64(&w, 1) == 0);
	CHECK(bw_write_u32(&w, 1) == BW_ERR_WRITER_FULL);
	bw_writer_free(&w);
	return true;
}

/* Random structures written then read back must match, and every strict
 * prefix of an encoding must fail to decode as a whole. */
static bool test_random_roundtrip(void)
{
	for (int iter = 0; iter < 200; iter++) {
		uint8_t data[300];
		uint16_t lens[5];
		struct bw_writer w;
		struct bw_reader r;

		RAND_bytes(data, sizeof(data));
		RAND_bytes((uint8_t *)lens, sizeof(lens));
		bw_writer_init(&w, 0);
		for (int i = 0; i < 5; i++) {
			lens[i] %= 60;
			bw_write_optional(&w, lens[i] & 1);
			bw_write_opaque(&w, data + i * 60, lens[i]);
		}
		CHECK(w.err == 0);
		for (size_t cut = 0; cut <= w.len; cut++) {
			int rc = 0;

			bw_reader_init(&r, w.buf, cut);
			for (int i = 0; i < 5 && rc == 0; i++) {
				const uint8_t *p;
				size_t n;
				bool pr;

				if ((rc = bw_read_optional(&r, &pr)) == 0 &&
				    (rc = bw_read_opaque(&r, 60, &p, &n)) == 0 &&
				    cut == w.len) {
					CHECK(pr == (lens[i] & 1));
					CHECK_MEM(p, n, data + i * 60,
						  (size_t)lens[i]);
				}
			}
			CHECK((bw_reader_finish(&r) == 0) == (cut == w.len));
		}
		bw_writer_free(&w);
	}
	return true;
}

static bool test_hex(void)
{
	static const uint8_t raw[] = { 0x00, 0x9a, 0xff, 0x10 };
	char out[9];
	uint8_t *p;
	size_t n;

	bw_hex_encode(raw, sizeof(raw), out);
	CHECK(strcmp(out, "009aff10") == 0);
	CHECK(bw_hex_decode("009AfF10", &p, &n) == 0);
	CHECK_MEM(p, n, raw, sizeof(raw));
	free(p);
	CHECK(bw_hex_decode("0g", &p, &n) == BW_ERR_HEX);
	CHECK(bw_hex_decode("abc", &p, &n) == BW_ERR_HEX);
	CHECK(strcmp(bw_strerror(BW_ERR_TRAILING),
		     "unexpected bytes after the structure") == 0);
	return true;
}

int main(void)
{
	int failed = 0;

	RUN(test_varint_decode, &failed);
	RUN(test_varint_encode_boundaries, &failed);
	RUN(test_fixed_width, &failed);
	RUN(test_opaque, &failed);
	RUN(test_optional_and_vector, &failed);
	RUN(test_writer_vectors, &failed);
	RUN(test_writer_limits, &failed);
	RUN(test_random_roundtrip, &failed);
	RUN(test_hex, &failed);
	return failed ? 1 : 0;
}

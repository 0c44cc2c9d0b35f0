/* fuzz_codec.c - drive the codec reader with input-chosen operations: no
 * read may go out of bounds, and a failed read must consume nothing. */
#include <stdint.h>
#include <stdlib.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bw_reader r, sub;
	const uint8_t *p;
	uint8_t *dup;
	size_t n, before;
	uint64_t v64;
	uint32_t v32;
	uint16_t v16;
	uint8_t op;
	bool b;

	if (size < 1)
		return 0;
	bw_reader_init(&r, data + 1, size - 1);
	for (unsigned i = 0; i < data[0] && r.err == 0; i++) {
		if (bw_read_u8(&r, &op) != 0)
			break;
		before = r.pos;
		int rc;
		switch (op % 8) {
		case 0: rc = bw_read_varint(&r, &v32); break;
		case 1: rc = bw_read_opaque(&r, op, &p, &n); break;
		case 2: rc = bw_read_vector(&r, 1u << 20, &sub);
			if (rc == 0) (void)bw_read_u16(&sub, &v16);
			break;
		case 3: rc = bw_read_optional(&r, &b); break;
		case 4: rc = bw_read_u64(&r, &v64); break;
		case 5: rc = bw_read_opaque_dup(&r, 4096, &dup, &n);
			free(dup);
			break;
		case 6: rc = bw_read_opaque_exact(&r, op % 40, &p); break;
		default: rc = bw_read_bytes(&r, op, &p); break;
		}
		if (rc != 0 && r.pos != before)
			abort(); /* a failed read consumed input */
	}
	(void)bw_reader_finish(&r);
	return 0;
}

/* fuzz_load_frames.c - what the load generator (bench/load) reads from the
 * server before the protocol library does: WebSocket frame headers
 * (ws.c), over a whole stream as the generator walks it, and the
 * PrivateMessage framing in which --raw mode finds its header
 * (framing.c). Accepted frames and ciphertexts must lie inside the
 * input. */
#include <stdint.h>
#include <stdlib.h>

#include "framing.h"
#include "ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PAYLOAD 65536u

static void frames(const uint8_t *p, size_t n)
{
	struct wsf f;
	size_t pos = 0;

	while (pos < n && wsf_parse(p + pos, n - pos, MAX_PAYLOAD, &f) == 1) {
		if (f.head < 2 || f.head > WSF_MAX_HEAD - 4 ||
		    f.len > MAX_PAYLOAD ||
		    ((f.opcode & 0x8) && (!f.fin || f.len > WSF_CTRL_MAX)))
			abort();
		if (f.head + f.len > n - pos)
			break; /* the generator waits for the rest */
		pos += f.head + f.len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off, len;

	frames(data, size);
	if (lgm_ciphertext_offset(data, size, &off, &len) == 0 &&
	    (off > size || len > size - off))
		abort();
	return 0;
}

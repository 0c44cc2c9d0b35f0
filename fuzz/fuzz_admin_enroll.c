/* fuzz_admin_enroll.c - DEVICE_ENROLL (lib/proto/admin_enroll.h): the
 * bulk request bulwarkd reads from the admin socket and the response
 * bulwarkctl reads back. A request that decodes must encode back to the
 * same bytes, entry by entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin_enroll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request(const struct proto_span *body)
{
	struct admin_enroll req;
	struct admin_enroll_entry e;
	struct bw_writer w;
	size_t list;
	uint32_t n = 0;

	if (admin_decode_enroll(body, &req) != 0)
		return;
	bw_writer_init(&w, 0);
	list = bw_write_vector_begin(&w);
	while (admin_enroll_next(&req, &e)) {
		admin_write_enroll_entry(&w, &e);
		n++;
	}
	bw_write_vector_end(&w, list);
	if (n != req.count || w.err != 0 || w.len != body->n ||
	    memcmp(w.buf, body->p, w.len) != 0)
		abort();
	bw_writer_free(&w);
}

static void response(const struct proto_span *body)
{
	struct admin_enrolled res;
	struct admin_enrolled_device d;
	uint32_t n = 0;

	if (admin_decode_enrolled(body, &res) != 0)
		return;
	while (admin_enrolled_next(&res, &d))
		n++;
	if (n != res.count)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_span body = { data, size };

	request(&body);
	response(&body);
	return 0;
}

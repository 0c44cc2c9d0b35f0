/* fuzz_admin.c - the administration protocol's decoders (lib/proto): what
 * the server reads from the admin socket, and what bulwarkctl reads back.
 * Decoded requests must encode back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROUND_TRIP(T, decode, encode, ...)                                  \
	do {                                                                \
		T v_;                                                       \
		struct bw_writer w_;                                        \
		if (decode(&req.body, ##__VA_ARGS__, &v_) == 0) {           \
			bw_writer_init(&w_, 0);                             \
			if (encode(&w_, &v_) != 0 || w_.len != req.body.n || \
			    memcmp(w_.buf, req.body.p, w_.len) != 0)        \
				abort();                                    \
			bw_writer_free(&w_);                                \
		}                                                           \
	} while (0)

static void requests(const uint8_t *data, size_t size)
{
	struct admin_request req;

	if (admin_decode_request(data, size, &req) != 0)
		return;
	ROUND_TRIP(struct admin_user_add, admin_decode_user_add,
		   admin_encode_user_add);
	ROUND_TRIP(struct admin_name, admin_decode_name, admin_encode_name,
		   true);
	ROUND_TRIP(struct admin_activation_create,
		   admin_decode_activation_create,
		   admin_encode_activation_create);
}

static void responses(const uint8_t *data, size_t size)
{
	struct admin_response resp;
	struct admin_status_info info;
	struct admin_activation_created created;
	struct admin_user u;
	struct admin_device d;
	struct bw_reader list;

	if (admin_decode_response(data, size, &resp) != 0)
		return;
	(void)admin_decode_status_info(&resp.body, &info);
	(void)admin_decode_activation_created(&resp.body, &created);
	if (admin_open_list(&resp.body, &list) == 0)
		while (bw_reader_remaining(&list) > 0 &&
		       admin_read_user(&list, &u) == 0)
			;
	if (admin_open_list(&resp.body, &list) == 0)
		while (bw_reader_remaining(&list) > 0 &&
		       admin_read_device(&list, &d) == 0)
			;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len;

	if (size >= 4)
		(void)admin_frame_length(data, ADMIN_MAX_REQUEST, &len);
	requests(data, size);
	responses(data, size);
	return 0;
}

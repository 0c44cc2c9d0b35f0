/* fuzz_app_message.c - the plaintext of an application message, as any
 * member of a conversation can make it (lib/client/app_message.c): decode,
 * and whatever decodes must encode again to exactly the input. */
#include <stdlib.h>
#include <string.h>

#include "client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bw_bytes again = { 0 };
	const uint8_t *text;
	size_t len;
	uint8_t kind;

	if (app_message_decode(data, size, &kind, &text, &len) != 0)
		return 0;
	if (app_message_encode(kind, text, len, &again) != 0 ||
	    again.len != size || memcmp(again.p, data, size) != 0)
		abort();
	bw_bytes_clear(&again);
	return 0;
}

/* fuzz_privsep_request.c - the CA monitor's request path (server/privsep/
 * monitor.c): whatever the network-facing process sends, the monitor
 * answers with a well-formed reply and never crashes, and a request that
 * decodes re-encodes to the same bytes. Runs against a suite-1 and a
 * suite-2 CA, whose device key rules differ. */
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "monitor.h"
#include "wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ca *cas[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (ca_generate("Fuzz Org", 1, 365, &cas[0]) != 0 ||
	    ca_generate("Fuzz Org", 2, 365, &cas[1]) != 0)
		abort();
	return 0;
}

static void check_round_trip(const uint8_t *data, size_t size)
{
	static uint8_t again[PRIVSEP_REQUEST_MAX];
	struct privsep_request req;
	struct bw_writer w;

	if (privsep_request_decode(data, size, &req) != 0)
		return;
	bw_writer_init_fixed(&w, again, sizeof(again));
	if (privsep_request_encode(&w, &req) != 0 || w.len != size ||
	    memcmp(again, data, size) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t reply[PRIVSEP_REPLY_MAX];
	struct privsep_reply rep;
	struct bw_writer w;

	/* Longer messages are answered before decoding (monitor_serve). */
	if (size > PRIVSEP_REQUEST_MAX)
		return 0;
	check_round_trip(data, size);
	for (size_t i = 0; i < 2; i++) {
		bw_writer_init_fixed(&w, reply, sizeof(reply));
		if (monitor_answer(cas[i], data, size, &w) != 0 ||
		    privsep_reply_decode(w.buf, w.len, &rep) != 0)
			abort();
	}
	return 0;
}

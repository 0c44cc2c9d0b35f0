/* fuzz_ws_client.c - what a server (or anything in its place) sends a
 * device before and after the WebSocket opens: the response to the
 * upgrade (lib/client/ws_client.c over lib/proto/ws_handshake.c) and
 * the frames after it. The first byte picks the piece and how the bytes
 * are cut into reads; the server's side of the handshake, the request,
 * goes through the same header collector.
 *
 * An accepted upgrade needs the Sec-WebSocket-Accept of the key sent; the
 * target fixes it to that of RFC 6455's sample key, so seeds can hold it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulwark/bulwark.h"
#include "ws_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SAMPLE_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define MAX_MESSAGE 4096u

struct feed {
	const uint8_t *p;
	size_t n, off, cut;
};

/* Reads of at most `cut` bytes, a dry read between them, then the end. */
static ssize_t feed_read(void *io, uint8_t *buf, size_t len)
{
	struct feed *f = io;
	size_t k;

	if (f->off == f->n)
		return BULWARK_ERR_CLOSED;
	k = f->n - f->off < len ? f->n - f->off : len;
	if (k > f->cut)
		k = f->cut;
	memcpy(buf, f->p + f->off, k);
	f->off += k;
	return (ssize_t)k;
}

static void frames(struct wsc *w)
{
	const uint8_t *msg;
	size_t len;
	int rc;

	while ((rc = wsc_recv(w, &msg, &len)) == WSC_AGAIN || rc == 0) {
		if (rc == 0 && len > MAX_MESSAGE)
			abort(); /* over the limit it was given */
		bw_writer_reset(&w->out);
	}
}

static void client(struct feed *f, bool upgrade_first)
{
	struct wsc w;
	int rc;

	if (wsc_init(&w, feed_read, f, MAX_MESSAGE) != 0)
		return;
	if (upgrade_first) {
		if (wsc_upgrade_request(&w, "fuzz:443") != 0)
			goto out;
		memcpy(w.accept, SAMPLE_ACCEPT, sizeof(SAMPLE_ACCEPT));
		while ((rc = wsc_upgrade_read(&w)) == WSC_AGAIN)
			;
		if (rc != 0)
			goto out;
	}
	frames(&w);
out:
	wsc_clear(&w);
}

static void request(const uint8_t *p, size_t n)
{
	struct wsh h;
	size_t used;

	wsh_init(&h, HTTP_REQUEST);
	if (wsh_feed(&h, p, n, &used) == WSH_DONE && used > n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed f;

	if (size < 1)
		return 0;
	f = (struct feed){ data + 1, size - 1, 0, (size_t)(data[0] >> 2) + 1 };
	switch (data[0] & 3) {
	case 0:
		client(&f, true);
		break;
	case 1:
		client(&f, false);
		break;
	default:
		request(data + 1, size - 1);
	}
	return 0;
}

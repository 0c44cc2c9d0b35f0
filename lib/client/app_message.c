/* app_message.c - the plaintext inside an MLS application message: what
 * kind of message it is, and its text. Only members ever see it.
 *
 *   struct { uint8 kind; opaque text<0..BULWARK_MAX_TEXT>; } AppMessage;
 *
 * kind 1: text a member wrote (1..BULWARK_MAX_TEXT bytes);
 * kind 2: the conversation's new name (1..64 printable ASCII). */
#include "client.h"

#include "codec.h"

static bool title_valid(const uint8_t *p, size_t n)
{
	if (n == 0 || n > BULWARK_MAX_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < ' ' || p[i] > '~')
			return false;
	return true;
}

static bool valid(uint8_t kind, const uint8_t *text, size_t len)
{
	switch (kind) {
	case STORE_MSG_TEXT:
		return len >= 1 && len <= BULWARK_MAX_TEXT;
	case STORE_MSG_TITLE:
		return title_valid(text, len);
	default:
		return false;
	}
}

int app_message_encode(uint8_t kind, const void *text, size_t len,
		       struct bw_bytes *out)
{
	struct bw_writer w;
	int rc;

	if (!valid(kind, text, len))
		return kind == STORE_MSG_TITLE ? BULWARK_ERR_CONV_NAME
					       : BULWARK_ERR_TEXT_SIZE;
	bw_writer_init(&w, BULWARK_MAX_TEXT + 16);
	bw_write_u8(&w, kind);
	bw_write_opaque(&w, text, len);
	rc = bw_writer_take(&w, &out->p, &out->len);
	bw_writer_free(&w);
	return rc;
}

int app_message_decode(const uint8_t *p, size_t n, uint8_t *kind,
		       const uint8_t **text, size_t *len)
{
	struct bw_reader r;

	bw_reader_init(&r, p, n);
	bw_read_u8(&r, kind);
	bw_read_opaque(&r, BULWARK_MAX_TEXT, text, len);
	if (bw_reader_finish(&r) != 0 || !valid(*kind, *text, *len))
		return BULWARK_ERR_MESSAGE_INVALID;
	return 0;
}

/* ws.c - WebSocket frames for the generator (ws.h). */
#include <string.h>

#include "ws.h"

static bool known_opcode(uint8_t op)
{
	return op == WSF_CONT || op == WSF_BINARY || op == WSF_CLOSE ||
	       op == WSF_PING || op == WSF_PONG;
}

int wsf_parse(const uint8_t *p, size_t n, uint64_t max, struct wsf *f)
{
	uint64_t len;
	size_t head = 2;

	if (n < 2)
		return 0;
	/* §5.2: RSV bits are 0 without an extension; §5.1: a server never
	 * masks. Text frames are not part of the device protocol. */
	if ((p[0] & 0x70) != 0 || (p[1] & 0x80) != 0 ||
	    !known_opcode(p[0] & 0x0f))
		return -1;
	len = p[1] & 0x7f;
	if (len == 126) {
		if (n < 4)
			return 0;
		len = (uint64_t)p[2] << 8 | p[3];
		if (len < 126)
			return -1; /* §5.2: the minimal number of bytes */
		head = 4;
	} else if (len == 127) {
		if (n < 10)
			return 0;
		len = 0;
		for (int i = 2; i < 10; i++)
			len = len << 8 | p[i];
		if (len < 65536 || len >> 63)
			return -1;
		head = 10;
	}
	f->opcode = p[0] & 0x0f;
	f->fin = (p[0] & 0x80) != 0;
	/* §5.5: control frames are complete and short */
	if ((f->opcode & 0x8) && (!f->fin || len > WSF_CTRL_MAX))
		return -1;
	if (len > max)
		return -1;
	f->head = head;
	f->len = len;
	return 1;
}

size_t wsf_size(size_t n)
{
	return n + 6 + (n < 126 ? 0 : n < 65536 ? 2 : 8);
}

/* XOR with the mask, eight bytes at a time where possible. */
static void mask_copy(uint8_t *dst, const uint8_t *p, size_t n,
		      const uint8_t mask[4])
{
	uint8_t m8[8];
	uint64_t m, v;
	size_t i = 0;

	memcpy(m8, mask, 4);
	memcpy(m8 + 4, mask, 4);
	memcpy(&m, m8, 8);
	for (; i + 8 <= n; i += 8) {
		memcpy(&v, p + i, 8);
		v ^= m;
		memcpy(dst + i, &v, 8);
	}
	for (; i < n; i++)
		dst[i] = p[i] ^ mask[i & 3];
}

void wsf_put(uint8_t *dst, uint8_t opcode, const uint8_t *p, size_t n,
	     const uint8_t mask[4])
{
	size_t h = 2;

	dst[0] = (uint8_t)(0x80 | opcode);
	if (n < 126) {
		dst[1] = (uint8_t)(0x80 | n);
	} else if (n < 65536) {
		dst[1] = 0x80 | 126;
		dst[2] = (uint8_t)(n >> 8);
		dst[3] = (uint8_t)n;
		h = 4;
	} else {
		dst[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			dst[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		h = 10;
	}
	memcpy(dst + h, mask, 4);
	mask_copy(dst + h + 4, p, n, mask);
}

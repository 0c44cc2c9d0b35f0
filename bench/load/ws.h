/*
 * ws.h - the generator's WebSocket frames (RFC 6455 §5): client frames are
 * written masked straight into a connection's output buffer, server
 * frames are read in place from the bytes TLS returned, so the message
 * path neither allocates nor copies more than once.
 *
 * Accepted from the server: unmasked frames, no reserved bits, opcodes
 * continuation, binary, close, ping and pong, control frames complete and
 * at most 125 bytes, lengths in their shortest form and at most the
 * caller's maximum. Anything else is a protocol error (the connection is
 * dropped and counted).
 */
#ifndef LG_WS_H
#define LG_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WSF_CONT 0x0
#define WSF_TEXT 0x1
#define WSF_BINARY 0x2
#define WSF_CLOSE 0x8
#define WSF_PING 0x9
#define WSF_PONG 0xa
#define WSF_MAX_HEAD 14u /* 2 + 8 (length) + 4 (mask) */
#define WSF_CTRL_MAX 125u

struct wsf {
	uint8_t opcode;
	bool fin;
	size_t head;    /* header bytes */
	uint64_t len;   /* payload bytes */
};

/* The header of the server frame at p[0..n): 1 with *f filled, 0 when more
 * bytes are needed, -1 when the frame breaks the rules above or is longer
 * than max. */
int wsf_parse(const uint8_t *p, size_t n, uint64_t max, struct wsf *f);

/* Bytes a client frame of n payload bytes takes. */
size_t wsf_size(size_t n);
/* Write a final, masked client frame of opcode with payload p[0..n) at
 * dst (wsf_size(n) bytes); p may not overlap dst. */
void wsf_put(uint8_t *dst, uint8_t opcode, const uint8_t *p, size_t n,
	     const uint8_t mask[4]);

#endif

/*
 * framing.h - where the generator's header is in a PrivateMessage: the
 * start of its ciphertext (RFC 9420 §6.3), found with the project codec.
 * --raw mode writes the header there before sending and reads it there on
 * delivery; the server never looks inside.
 */
#ifndef LG_FRAMING_H
#define LG_FRAMING_H

#include <stddef.h>
#include <stdint.h>

/* msg[0..len) must be exactly one MLSMessage holding a PrivateMessage:
 * 0 with the ciphertext's offset and length, or a negative error (codec
 * errors, or MLS_ERR_WIRE_FORMAT for another version or wire format). */
int lgm_ciphertext_offset(const uint8_t *msg, size_t len, size_t *off,
			  size_t *ct_len);

#endif

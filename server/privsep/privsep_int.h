/*
 * privsep_int.h - the raw exchange under privsep.h, for the request
 * functions and for tests that speak to the monitor byte by byte.
 */
#ifndef BW_PRIVSEP_INT_H
#define BW_PRIVSEP_INT_H

#include "privsep.h"

/* Send one request message and receive its reply into reply[0..cap).
 * Serialised by the handle's lock. */
int privsep_call(struct privsep *ps, const uint8_t *req, size_t len,
		 uint8_t *reply, size_t cap, size_t *reply_len);

#endif

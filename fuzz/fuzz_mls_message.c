/* fuzz_mls_message.c - MLSMessage (RFC 9420 §6), every wire format:
 * what a server and every client decode first from the network. */
#include "fuzz_roundtrip.h"

FUZZ_ROUNDTRIP(struct mls_message, mls_message_read,
	       mls_message_encode, mls_message_clear)

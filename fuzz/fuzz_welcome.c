/* fuzz_welcome.c - Welcome (RFC 9420 §12.4.3.1). */
#include "fuzz_roundtrip.h"

FUZZ_ROUNDTRIP(struct mls_welcome, mls_welcome_decode,
	       mls_welcome_encode, mls_welcome_clear)

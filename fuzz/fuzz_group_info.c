/* fuzz_group_info.c - GroupInfo (RFC 9420 §12.4.3), decrypted from a
 * Welcome or published for external joins; may carry the ratchet tree. */
#include "fuzz_roundtrip.h"

FUZZ_ROUNDTRIP(struct mls_group_info, mls_group_info_decode,
	       mls_group_info_encode, mls_group_info_clear)

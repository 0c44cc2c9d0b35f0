/* fuzz_group_secrets.c - GroupSecrets (RFC 9420 §12.4.3.1), decrypted
 * from a Welcome with the joiner's init key. */
#include "fuzz_roundtrip.h"

FUZZ_ROUNDTRIP(struct mls_group_secrets, mls_group_secrets_decode,
	       mls_group_secrets_encode, mls_group_secrets_clear)

/* fuzz_commit.c - Commit with its proposals and UpdatePath
 * (RFC 9420 §12.4, §7.6). */
#include "fuzz_roundtrip.h"

FUZZ_ROUNDTRIP(struct mls_commit, mls_commit_decode,
	       mls_commit_encode, mls_commit_clear)

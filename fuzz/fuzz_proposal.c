/* fuzz_proposal.c - Proposal of every type (RFC 9420 §12.1). */
#include "fuzz_roundtrip.h"

FUZZ_ROUNDTRIP(struct mls_proposal, mls_proposal_decode,
	       mls_proposal_encode, mls_proposal_clear)

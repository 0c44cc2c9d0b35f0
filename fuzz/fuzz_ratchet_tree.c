/* fuzz_ratchet_tree.c - the ratchet_tree extension (RFC 9420
 * §12.4.3.3): a joiner's whole view of the group. */
#include "fuzz_roundtrip.h"

FUZZ_ROUNDTRIP(struct mls_ratchet_tree, mls_ratchet_tree_decode,
	       mls_ratchet_tree_encode, mls_ratchet_tree_clear)

/* fuzz_key_package.c - KeyPackage (RFC 9420 §10), as fetched from
 * the directory or carried in an Add proposal. */
#include "fuzz_roundtrip.h"

FUZZ_ROUNDTRIP(struct mls_key_package, mls_key_package_decode,
	       mls_key_package_encode, mls_key_package_clear)

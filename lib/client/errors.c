/* errors.c - texts of libbulwark's error codes, and of the codes it passes
 * through from the modules below it. */
#include "bulwark/bulwark.h"
#include "err.h"
#include "mls/mls.h"
#include "spake2plus.h"

const char *bulwark_strerror(int err)
{
	switch (err) {
#define BULWARK_ERR_CASE(name, code, text)                                 \
	case code:                                                          \
		return text;
		BULWARK_ERRORS(BULWARK_ERR_CASE)
#undef BULWARK_ERR_CASE
	}
	if (err <= -300 && err >= -399)
		return pake_strerror(err);
	if (err <= -100 && err >= -299)
		return mls_strerror(err);
	return bw_strerror(err);
}

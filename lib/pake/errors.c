/* errors.c - texts of the SPAKE2+ module's error codes. */
#include "spake2plus.h"

const char *pake_strerror(int err)
{
	switch (err) {
#define PAKE_ERR_CASE(name, code, text)                                    \
	case code:                                                          \
		return text;
		PAKE_ERRORS(PAKE_ERR_CASE)
#undef PAKE_ERR_CASE
	}
	return bw_strerror(err);
}

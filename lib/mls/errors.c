/* errors.c - texts of libmls's error codes. */
#include "err.h"
#include "mls/mls.h"

const char *mls_strerror(int err)
{
	switch (err) {
#define MLS_ERR_CASE(name, code, text)                                     \
	case code:                                                          \
		return text;
		MLS_ERRORS(MLS_ERR_CASE)
#undef MLS_ERR_CASE
	}
	return bw_strerror(err);
}

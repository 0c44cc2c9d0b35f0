/* err.c - texts of the shared layer's error codes. */
#include "err.h"

const char *bw_strerror(int err)
{
	switch (err) {
#define BW_ERR_CASE(name, code, text)                                      \
	case code:                                                          \
		return text;
		BW_ERRORS(BW_ERR_CASE)
#undef BW_ERR_CASE
	}
	return "unknown error";
}

/* errors.c - texts of the CA's and the CA monitor's error codes. */
#include "ca_err.h"
#include "err.h"

const char *ca_strerror(int err)
{
	switch (err) {
#define CA_ERR_CASE(name, code, text)                                      \
	case code:                                                          \
		return text;
		CA_ERRORS(CA_ERR_CASE)
#undef CA_ERR_CASE
	}
	return bw_strerror(err);
}

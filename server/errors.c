/* errors.c - texts of bulwarkd's error codes, and of the layers below. */
#include "ca_err.h"
#include "errors.h"
#include "mls/mls.h"
#include "proto.h"
#include "spake2plus.h"

const char *bwd_strerror(int err)
{
	switch (err) {
#define BWD_ERR_CASE(name, code, text)                                     \
	case code:                                                          \
		return text;
		BWD_ERRORS(BWD_ERR_CASE)
#undef BWD_ERR_CASE
	}
	if (err <= -100 && err > -300)
		return mls_strerror(err);
	if (err <= -300 && err > -400)
		return pake_strerror(err);
	if (err <= -450 && err > -480)
		return proto_strerror(err);
	if (err <= CA_ERR_FIRST && err >= CA_ERR_LAST)
		return ca_strerror(err);
	return bw_strerror(err);
}

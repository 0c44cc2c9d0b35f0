/*
 * errors.h - error codes of bulwarkd, -400..-449, with bwd_strerror().
 *
 * bwd_strerror() also knows the codes the server passes through from the
 * layers below: the shared codec (-1..-99), the protocol library
 * (-450..-479) and the CA and monitor (-500..-549).
 */
#ifndef BWD_ERRORS_H
#define BWD_ERRORS_H

#define BWD_ERRORS(X)                                                       \
	/* configuration and process: -400..-409 */                        \
	X(BWD_ERR_CONFIG, -400, "invalid configuration")                    \
	X(BWD_ERR_SYSTEM, -401, "system call failed")                       \
	X(BWD_ERR_TLS, -402, "TLS setup failed")                            \
	/* store: -410..-429 */                                             \
	X(BWD_ERR_STORE, -410, "database error")                            \
	X(BWD_ERR_NOT_FOUND, -411, "no such record")                        \
	X(BWD_ERR_EXISTS, -412, "record already exists")                    \
	X(BWD_ERR_SCHEMA, -413, "database schema is newer than this server") \
	X(BWD_ERR_DISABLED, -414, "user is disabled")                       \
	/* activation: -430..-439 */                                        \
	X(BWD_ERR_ACTIVATION, -430, "activation failed")                    \
	X(BWD_ERR_ISSUE, -431, "certificate issuance failed")               \
	/* shutdown: -440..-444 */                                          \
	X(BWD_ERR_STOPPING, -440, "server is shutting down")                \
	/* delivery service: -445..-449 */                                  \
	X(BWD_ERR_DS_KEY, -445,                                             \
	  "delivery service key or certificate unusable")                   \
	X(BWD_ERR_REFUSED, -446, "request refused, nothing stored")

enum bwd_err {
#define BWD_ERR_ENUM(name, code, text) name = (code),
	BWD_ERRORS(BWD_ERR_ENUM)
#undef BWD_ERR_ENUM
};

/* Text for any code bulwarkd produces; never NULL. */
const char *bwd_strerror(int err);

#endif

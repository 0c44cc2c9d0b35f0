/*
 * err.h - error codes of the shared layer (codec, encoding helpers).
 *
 * Every module of Bulwark reports failure as a negative int from its own
 * range, with a *_strerror() that never returns NULL:
 *     -1 ..  -99  common (this file)      bw_strerror()
 *   -100 .. -299  libmls                  mls_strerror()
 *   -300 .. -399  SPAKE2+                 pake_strerror()
 *   -400 .. -449  server                  bwd_strerror()
 *   -450 .. -479  protocol library        proto_strerror()
 *   -500 .. -549  CA and CA monitor       ca_strerror()  (server/ca/ca_err.h:
 *                 -500..-529 CA, -530..-549 privilege separation)
 *   -600 .. -799  client library          bulwark_strerror()
 * A module's strerror hands codes outside its range to the one that owns
 * them, so an error from the codec keeps its meaning through any caller.
 * Codes and texts come from one X-macro so they cannot drift apart.
 */
#ifndef BW_ERR_H
#define BW_ERR_H

#define BW_ERRORS(X)                                                        \
	X(BW_OK, 0, "success")                                              \
	X(BW_ERR_TRUNCATED, -1, "input ends before the structure does")     \
	X(BW_ERR_TRAILING, -2, "unexpected bytes after the structure")      \
	X(BW_ERR_VARINT_PREFIX, -3, "invalid variable-length integer prefix") \
	X(BW_ERR_VARINT_NONMINIMAL, -4,                                     \
	  "variable-length integer not minimally encoded")                  \
	X(BW_ERR_TOO_LONG, -5, "length exceeds the limit for this field")   \
	X(BW_ERR_OPTIONAL, -6, "optional presence octet is neither 0 nor 1") \
	X(BW_ERR_NOMEM, -7, "out of memory")                                \
	X(BW_ERR_WRITER_FULL, -8, "encoding exceeds the output limit")      \
	X(BW_ERR_BAD_VALUE, -9, "field holds a value not allowed here")     \
	X(BW_ERR_HEX, -10, "invalid hexadecimal string")                    \
	X(BW_ERR_IO, -11, "input/output error")                             \
	X(BW_ERR_INVALID_ARG, -12, "invalid argument")                     \
	X(BW_ERR_OPENSSL, -13, "OpenSSL refused the operation")

enum bw_err {
#define BW_ERR_ENUM(name, code, text) name = (code),
	BW_ERRORS(BW_ERR_ENUM)
#undef BW_ERR_ENUM
};

#define BW_ERR_MIN (-99)

/* Text for any code Bulwark produces; never NULL. */
const char *bw_strerror(int err);

#endif

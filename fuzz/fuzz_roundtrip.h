/*
 * fuzz_roundtrip.h - the body shared by the MLS structure fuzz targets:
 * decode arbitrary bytes; on success re-encoding must give back exactly the
 * bytes consumed (the canonical-encoding property signatures rely on), on
 * failure the struct must be left cleared. Everything is freed, so
 * LeakSanitizer sees any leak on either path.
 */
#ifndef BW_FUZZ_ROUNDTRIP_H
#define BW_FUZZ_ROUNDTRIP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline int fuzz_all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* Defines LLVMFuzzerTestOneInput for a struct type and its functions. */
#define FUZZ_ROUNDTRIP(type, decode, encode, clear)                         \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)        \
	{                                                                   \
		struct bw_reader r;                                         \
		struct bw_writer w;                                         \
		type x;                                                     \
                                                                            \
		bw_reader_init(&r, data, size);                             \
		if (decode(&r, &x) != 0) {                                  \
			if (!fuzz_all_zero(&x, sizeof(x)))                  \
				abort(); /* not cleared on failure */       \
			return 0;                                           \
		}                                                           \
		bw_writer_init(&w, 0);                                      \
		if (encode(&x, &w) != 0 || w.len != r.pos ||                \
		    memcmp(w.buf, data, r.pos) != 0)                        \
			abort(); /* decode and encode disagree */           \
		bw_writer_free(&w);                                         \
		clear(&x);                                                  \
		return 0;                                                   \
	}

#endif

/*
 * test.h - minimal assertions for Bulwark's C tests.
 *
 * CHECK() reports the failed condition with file and line and makes the
 * enclosing test function return false; test functions return bool.
 *
 *   static bool test_varint(void) {
 *           CHECK(bw_read_varint(&r, &v) == 0);
 *           CHECK_EQ_INT(v, 37);
 *           return true;
 *   }
 */
#ifndef BW_TEST_H
#define BW_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond)                                                         \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "%s:%d: check failed: %s\n",        \
				__FILE__, __LINE__, #cond);                 \
			return false;                                       \
		}                                                           \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                  \
	do {                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);         \
		if (a_ != b_) {                                             \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", \
				__FILE__, __LINE__, #a, a_, b_);            \
			return false;                                       \
		}                                                           \
	} while (0)

#define CHECK_MEM(a, alen, b, blen)                                         \
	do {                                                                \
		if ((alen) != (blen) ||                                     \
		    ((alen) > 0 && memcmp((a), (b), (alen)) != 0)) {        \
			fprintf(stderr, "%s:%d: %s differs from %s\n",      \
				__FILE__, __LINE__, #a, #b);                \
			return false;                                       \
		}                                                           \
	} while (0)

/* Run one named test function, counting failures in *failed. */
#define RUN(fn, failed)                                                     \
	do {                                                                \
		if (fn()) {                                                 \
			printf("ok   %s\n", #fn);                           \
		} else {                                                    \
			printf("FAIL %s\n", #fn);                           \
			(*(failed))++;                                      \
		}                                                           \
	} while (0)

#endif

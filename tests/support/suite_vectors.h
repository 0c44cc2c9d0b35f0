/*
 * suite_vectors.h - the loop every per-cipher-suite MLS vector test shares.
 *
 * Runs check() on each entry of an MLS vector file whose cipher suite is in
 * scope (1, 2, 3) and counts the entries of other suites as not run, so the
 * report line says how many there were: nothing is skipped silently.
 *
 *   int main(int argc, char **argv) {
 *           return tv_run_suites(argc, argv, "mls/psk_secret.json",
 *                                "psk_secret", check);
 *   }
 */
#ifndef BW_SUITE_VECTORS_H
#define BW_SUITE_VECTORS_H

#include <stdbool.h>

#include <jansson.h>

#include "crypto.h"

typedef bool (*tv_suite_check)(json_t *v, const struct mls_suite *s);

/* The process exit status: 0 only if every entry in scope passed. */
int tv_run_suites(int argc, char **argv, const char *file, const char *name,
		  tv_suite_check check);

#endif

/*
 * vectors.h - reading the official test vectors (JSON) at run time.
 *
 * The vectors live in ../shared/vectors beside the project and are never
 * copied into it. A file that is missing or unreadable is a failure, never
 * a skip. Each vector test ends with tv_report(), which prints
 * "<file>: N vectors passed, M failed" and gives the exit status.
 *
 *   json_t *all = tv_load(argv[1], "mls/tree-math.json");
 *   size_t i; json_t *v;
 *   struct tv_count c = { "tree-math" };
 *   json_array_foreach(all, i, v) tv_count(&c, check_one(v));
 *   return tv_report(&c);
 */
#ifndef BW_VECTORS_H
#define BW_VECTORS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "bytes.h"

struct tv_count {
	const char *name;
	unsigned passed, failed, skipped_suites;
};

/* Load <dir>/<rel>; on any failure print why and exit(1). */
json_t *tv_load(const char *dir, const char *rel);
/* The vector directory from argv, or exit(1) with a usage line. */
const char *tv_dir(int argc, char **argv);

/* Field accessors: false (with a message) when the field is missing or of
 * the wrong type. tv_hex replaces *out with the decoded bytes; a JSON null
 * gives false unless allow_null, where it gives an empty *out. */
bool tv_hex(json_t *obj, const char *key, struct bw_bytes *out);
bool tv_hex_or_null(json_t *obj, const char *key, struct bw_bytes *out,
		    bool *is_null);
bool tv_u64(json_t *obj, const char *key, uint64_t *out);
const char *tv_str(json_t *obj, const char *key);
/* Decode a hex string JSON value (not a field). */
bool tv_hex_value(json_t *v, struct bw_bytes *out);

/* The suites in scope for the vectors (1, 2, 3). */
bool tv_suite_in_scope(uint64_t suite);

void tv_count(struct tv_count *c, bool ok);
/* Print the summary line; 0 if all passed and at least one ran, else 1. */
int tv_report(const struct tv_count *c);

#endif

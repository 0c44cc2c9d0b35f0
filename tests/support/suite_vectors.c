/* suite_vectors.c - run a check over the in-scope entries of an MLS vector
 * file. */
#include "suite_vectors.h"

#include "vectors.h"

int tv_run_suites(int argc, char **argv, const char *file, const char *name,
		  tv_suite_check check)
{
	json_t *all = tv_load(tv_dir(argc, argv), file);
	struct tv_count c = { .name = name };
	uint64_t id;
	size_t i;
	json_t *v;

	json_array_foreach(all, i, v) {
		if (!tv_u64(v, "cipher_suite", &id)) {
			tv_count(&c, false);
		} else if (!tv_suite_in_scope(id)) {
			c.skipped_suites++;
		} else {
			const struct mls_suite *s = mls_suite_get((uint16_t)id);

			tv_count(&c, s != NULL && check(v, s));
		}
	}
	json_decref(all);
	return tv_report(&c);
}

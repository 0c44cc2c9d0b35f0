/* vectors.c - loading and reading the official JSON test vectors. */
#include "vectors.h"

#include <stdio.h>
#include <stdlib.h>

json_t *tv_load(const char *dir, const char *rel)
{
	char path[4096];
	json_error_t err;
	json_t *root;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	root = json_load_file(path, 0, &err);
	if (root == NULL) {
		fprintf(stderr, "FAIL: cannot read vector file %s: %s (line %d)\n",
			path, err.text, err.line);
		exit(1);
	}
	if (!json_is_array(root) && !json_is_object(root)) {
		fprintf(stderr, "FAIL: %s is neither an array nor an object\n",
			path);
		exit(1);
	}
	return root;
}

const char *tv_dir(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s VECTORS_DIR\n", argv[0]);
		exit(1);
	}
	return argv[1];
}

bool tv_hex_value(json_t *v, struct bw_bytes *out)
{
	uint8_t *p;
	size_t n;

	if (!json_is_string(v) || bw_hex_decode(json_string_value(v), &p, &n) != 0)
		return false;
	bw_bytes_clear(out);
	out->p = p;
	out->len = n;
	return true;
}

bool tv_hex_or_null(json_t *obj, const char *key, struct bw_bytes *out,
		    bool *is_null)
{
	json_t *v = json_object_get(obj, key);

	*is_null = json_is_null(v);
	if (*is_null) {
		bw_bytes_clear(out);
		return true;
	}
	if (!tv_hex_value(v, out)) {
		fprintf(stderr, "vector field '%s' missing or not hex\n", key);
		return false;
	}
	return true;
}

bool tv_hex(json_t *obj, const char *key, struct bw_bytes *out)
{
	if (!tv_hex_value(json_object_get(obj, key), out)) {
		fprintf(stderr, "vector field '%s' missing or not hex\n", key);
		return false;
	}
	return true;
}

bool tv_u64(json_t *obj, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		fprintf(stderr, "vector field '%s' missing or not an integer\n",
			key);
		return false;
	}
	*out = (uint64_t)json_integer_value(v);
	return true;
}

const char *tv_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v)) {
		fprintf(stderr, "vector field '%s' missing or not a string\n", key);
		return NULL;
	}
	return json_string_value(v);
}

bool tv_suite_in_scope(uint64_t suite)
{
	return suite >= 1 && suite <= 3;
}

void tv_count(struct tv_count *c, bool ok)
{
	if (ok)
		c->passed++;
	else
		c->failed++;
}

int tv_report(const struct tv_count *c)
{
	printf("%s: %u vectors passed, %u failed", c->name, c->passed,
	       c->failed);
	if (c->skipped_suites)
		printf(" (%u for cipher suites outside 1-3 not run)",
		       c->skipped_suites);
	printf("\n");
	return c->failed == 0 && c->passed > 0 ? 0 : 1;
}

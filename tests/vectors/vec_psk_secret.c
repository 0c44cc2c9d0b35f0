/* vec_psk_secret.c - RFC 9420 §8.4 against mls/psk_secret.json: external
 * PreSharedKeyIDs (written with the codec here) and their values chain
 * into the expected psk_secret; no PSK gives the zero vector. */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "crypto.h"
#include "psk.h"
#include "suite_vectors.h"
#include "test.h"
#include "vectors.h"

#define PSK_TYPE_EXTERNAL 1

/* One entry of "psks": its PreSharedKeyID encoding and its value. */
struct psk_entry {
	struct bw_writer id;
	struct bw_bytes value;
};

static bool load_entry(json_t *p, struct psk_entry *e)
{
	struct bw_bytes psk_id = { 0 }, nonce = { 0 };
	bool ok = tv_hex(p, "psk_id", &psk_id) &&
		  tv_hex(p, "psk_nonce", &nonce) && tv_hex(p, "psk", &e->value);

	bw_write_u8(&e->id, PSK_TYPE_EXTERNAL);
	bw_write_opaque(&e->id, psk_id.p, psk_id.len);
	bw_write_opaque(&e->id, nonce.p, nonce.len);
	bw_bytes_clear(&psk_id);
	bw_bytes_clear(&nonce);
	return ok && e->id.err == 0;
}

static bool check(json_t *v, const struct mls_suite *s)
{
	json_t *list = json_object_get(v, "psks");
	size_t n = json_array_size(list), i;
	struct psk_entry *entries = calloc(n ? n : 1, sizeof(*entries));
	struct mls_psk_input *in = calloc(n ? n : 1, sizeof(*in));
	struct bw_bytes want = { 0 };
	uint8_t got[MLS_MAX_HASH_LEN];
	bool ok = entries && in && json_is_array(list) &&
		  tv_hex(v, "psk_secret", &want);

	for (i = 0; i < n; i++)
		bw_writer_init(&entries[i].id, 0);
	for (i = 0; ok && i < n; i++) {
		ok = load_entry(json_array_get(list, i), &entries[i]);
		in[i].id = entries[i].id.buf;
		in[i].id_len = entries[i].id.len;
		in[i].psk = entries[i].value.p;
		in[i].psk_len = entries[i].value.len;
	}
	ok = ok && mls_psk_secret(s, in, n, got) == 0 &&
	     want.len == s->hash_len && memcmp(got, want.p, want.len) == 0;
	for (i = 0; entries && i < n; i++) {
		bw_writer_free(&entries[i].id);
		bw_bytes_clear(&entries[i].value);
	}
	free(entries);
	free(in);
	bw_bytes_clear(&want);
	if (!ok)
		fprintf(stderr, "suite %u with %zu PSKs failed\n", s->id, n);
	return ok;
}

int main(int argc, char **argv)
{
	return tv_run_suites(argc, argv, "mls/psk_secret.json", "psk_secret", check);
}

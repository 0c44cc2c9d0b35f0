/* passive_client.c - see passive_client.h. */
#include "passive_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mls/mls.h"
#include "test.h"
#include "vectors.h"

/* The vectors' external PSKs, as the application's PSK store. */
struct psk_store {
	struct bw_bytes *ids, *values;
	size_t n;
};

static int psk_lookup(void *arg, const struct mls_psk_ref *ref,
		      const uint8_t **psk, size_t *psk_len)
{
	const struct psk_store *st = arg;

	for (size_t i = 0; ref->psktype == 1 && i < st->n; i++)
		if (st->ids[i].len == ref->id_len &&
		    memcmp(st->ids[i].p, ref->id, ref->id_len) == 0) {
			*psk = st->values[i].p;
			*psk_len = st->values[i].len;
			return 0;
		}
	return -1;
}

/* The vectors' credentials are basic ones the generator chose: the
 * application accepts them (the structural checks are the library's). */
static int accept_all(void *arg, const struct mls_credential *c,
		      const uint8_t *key, size_t key_len)
{
	(void)arg;
	(void)c;
	(void)key;
	(void)key_len;
	return 0;
}

static void psk_store_clear(struct psk_store *st)
{
	for (size_t i = 0; i < st->n; i++) {
		bw_bytes_clear(&st->ids[i]);
		bw_bytes_clear(&st->values[i]);
	}
	free(st->ids);
	free(st->values);
	memset(st, 0, sizeof(*st));
}

static bool psk_store_load(json_t *v, struct psk_store *st)
{
	json_t *list = json_object_get(v, "external_psks"), *e;
	size_t i;

	if (!json_is_array(list))
		return false;
	st->n = json_array_size(list);
	st->ids = calloc(st->n + 1, sizeof(*st->ids));
	st->values = calloc(st->n + 1, sizeof(*st->values));
	if (st->ids == NULL || st->values == NULL)
		return false;
	json_array_foreach(list, i, e)
		if (!tv_hex(e, "psk_id", &st->ids[i]) ||
		    !tv_hex(e, "psk", &st->values[i]))
			return false;
	return true;
}

/* The epoch authenticator is the expected one. */
static bool authenticator_is(struct mls_group *g, json_t *v, const char *key)
{
	uint8_t got[MLS_MAX_SECRET_LEN];
	struct bw_bytes want = { 0 };
	size_t n;
	bool ok;

	mls_group_epoch_authenticator(g, got, &n);
	ok = tv_hex(v, key, &want) && want.len == n &&
	     memcmp(want.p, got, n) == 0;
	if (!ok)
		fprintf(stderr, "epoch %llu: epoch authenticator differs\n",
			(unsigned long long)mls_group_epoch(g));
	bw_bytes_clear(&want);
	return ok;
}

/* Process one message of the group, which must succeed. */
static bool process(struct mls_group *g, json_t *hex)
{
	struct mls_process_result r;
	struct bw_bytes msg = { 0 };
	int rc = -1;

	if (tv_hex_value(hex, &msg))
		rc = mls_group_process(g, msg.p, msg.len, &r);
	if (rc == 0)
		mls_process_result_clear(&r);
	else
		fprintf(stderr, "epoch %llu: %s\n",
			(unsigned long long)mls_group_epoch(g),
			mls_strerror(rc));
	bw_bytes_clear(&msg);
	return rc == 0;
}

/* Every epoch: the proposals, then the commit, then the authenticator. */
static bool follow(struct mls_group *g, json_t *v)
{
	json_t *epochs = json_object_get(v, "epochs"), *e, *p;
	size_t i, j;

	if (!json_is_array(epochs))
		return false;
	json_array_foreach(epochs, i, e) {
		json_t *proposals = json_object_get(e, "proposals");

		if (!json_is_array(proposals))
			return false;
		json_array_foreach(proposals, j, p)
			if (!process(g, p))
				return false;
		if (!process(g, json_object_get(e, "commit")) ||
		    !authenticator_is(g, e, "epoch_authenticator"))
			return false;
	}
	return true;
}

static bool check(json_t *v)
{
	struct bw_bytes kp = { 0 }, init = { 0 }, enc = { 0 }, sig = { 0 };
	struct bw_bytes welcome = { 0 }, tree = { 0 };
	struct mls_key_package_bundle *b = NULL;
	const struct mls_key_package_bundle *mine;
	struct psk_store psks = { 0 };
	struct mls_config cfg = { 0 };
	struct mls_group *g = NULL;
	bool ok = false, no_tree = false;
	int rc;

	cfg.accept_credential = accept_all;
	cfg.psk = psk_lookup;
	cfg.psk_arg = &psks;
	if (!tv_hex(v, "key_package", &kp) || !tv_hex(v, "init_priv", &init) ||
	    !tv_hex(v, "encryption_priv", &enc) ||
	    !tv_hex(v, "signature_priv", &sig) ||
	    !tv_hex(v, "welcome", &welcome) ||
	    !tv_hex_or_null(v, "ratchet_tree", &tree, &no_tree) ||
	    !psk_store_load(v, &psks))
		goto out;
	/* The private keys must match the KeyPackage's public keys. */
	if ((rc = mls_key_package_bundle_import(kp.p, kp.len, init.p, init.len,
						enc.p, enc.len, sig.p, sig.len,
						&b)) != 0 ||
	    (mine = b, rc = mls_group_join(&cfg, &mine, 1, welcome.p,
					   welcome.len, no_tree ? NULL : tree.p,
					   tree.len, &g)) != 0) {
		fprintf(stderr, "join: %s\n", mls_strerror(rc));
		goto out;
	}
	ok = authenticator_is(g, v, "initial_epoch_authenticator") &&
	     follow(g, v);
out:
	mls_group_free(g);
	mls_key_package_bundle_free(b);
	psk_store_clear(&psks);
	bw_bytes_clear(&kp);
	bw_bytes_clear(&init);
	bw_bytes_clear(&enc);
	bw_bytes_clear(&sig);
	bw_bytes_clear(&welcome);
	bw_bytes_clear(&tree);
	return ok;
}

int passive_client_main(int argc, char **argv, const char *file,
			const char *name)
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
			bool ok = check(v);

			if (!ok)
				fprintf(stderr, "%s: vector %zu failed\n", name,
					i);
			tv_count(&c, ok);
		}
	}
	json_decref(all);
	return tv_report(&c);
}

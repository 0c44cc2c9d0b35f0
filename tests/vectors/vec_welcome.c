/*
 * vec_welcome.c - RFC 9420 §12.4.3.1 against mls/welcome.json: find the
 * Welcome's entry for the KeyPackage, decrypt the GroupSecrets with
 * init_priv and the GroupInfo with the welcome secret, verify the
 * GroupInfo's signature with signer_pub and its confirmation tag with the
 * epoch's confirmation key. The vectors carry no ratchet tree, so the
 * steps run one by one (libmls internals); the whole join is
 * vec_passive_client_welcome's.
 */
#include <string.h>

#include "crypto.h"
#include "group_internal.h"
#include "key_schedule.h"
#include "messages.h"
#include "test.h"
#include "vectors.h"

/* The MLSMessage in field key, of the given wire format. */
static bool message(json_t *v, const char *key, uint16_t wire_format,
		    struct mls_message *m)
{
	struct bw_bytes raw = { 0 };
	bool ok = tv_hex(v, key, &raw) &&
		  mls_message_decode(raw.p, raw.len, m) == 0 &&
		  m->wire_format == wire_format;

	bw_bytes_clear(&raw);
	if (!ok)
		fprintf(stderr, "%s is not the expected MLSMessage\n", key);
	return ok;
}

static const struct mls_encrypted_group_secrets *
entry_for(const struct mls_suite *s, const struct mls_welcome *wl,
	  const struct mls_key_package *kp)
{
	uint8_t ref[MLS_MAX_HASH_LEN];

	if (mls_key_package_ref(s, kp, ref) != 0)
		return NULL;
	for (size_t i = 0; i < wl->n_secrets; i++)
		if (bw_bytes_eq(&wl->secrets[i].new_member, ref, s->hash_len))
			return &wl->secrets[i];
	return NULL;
}

/* The confirmation tag of the GroupInfo under the epoch's key. */
static bool tag_verifies(const struct mls_suite *s,
			 const struct mls_group_secrets *gs,
			 const struct mls_group_info *gi)
{
	const struct bw_bytes *confirmed =
		&gi->group_context.confirmed_transcript_hash;
	struct mls_epoch_secrets e;
	struct bw_writer w;
	bool ok;

	bw_writer_init(&w, 0);
	ok = mls_group_context_encode(&gi->group_context, &w) == 0 &&
	     mls_key_schedule_join(s, gs->joiner_secret.p,
				   gs->joiner_secret.len, NULL, w.buf, w.len,
				   &e) == 0 &&
	     mls_hmac_verify(s, e.confirmation_key, s->hash_len, confirmed->p,
			     confirmed->len, gi->confirmation_tag.p,
			     gi->confirmation_tag.len) == 0;
	mls_epoch_secrets_clear(&e);
	bw_writer_free(&w);
	return ok;
}

static bool check(json_t *v, const struct mls_suite *s)
{
	struct mls_message kp = { 0 }, wl = { 0 };
	const struct mls_encrypted_group_secrets *e;
	struct bw_bytes init = { 0 }, signer = { 0 };
	struct mls_group_secrets gs = { 0 };
	struct mls_group_info gi = { 0 };
	uint8_t ws[MLS_MAX_HASH_LEN];
	bool ok = false;

	if (!tv_hex(v, "init_priv", &init) || !tv_hex(v, "signer_pub", &signer) ||
	    !message(v, "key_package", MLS_WIRE_FORMAT_KEY_PACKAGE, &kp) ||
	    !message(v, "welcome", MLS_WIRE_FORMAT_WELCOME, &wl))
		goto out;
	if ((e = entry_for(s, &wl.welcome, &kp.key_package)) == NULL) {
		fprintf(stderr, "no Welcome entry for the KeyPackage\n");
		goto out;
	}
	if (mls_welcome_open_secrets(s, &wl.welcome, e, &init, &gs) != 0 ||
	    mls_welcome_secret(s, gs.joiner_secret.p, gs.joiner_secret.len,
			       NULL, ws) != 0 ||
	    mls_welcome_open_group_info(s, &wl.welcome, ws, &gi) != 0) {
		fprintf(stderr, "the Welcome does not decrypt\n");
		goto out;
	}
	if (mls_group_info_verify_key(s, &gi, &signer) != 0) {
		fprintf(stderr, "GroupInfo signature does not verify\n");
		goto out;
	}
	if (!(ok = tag_verifies(s, &gs, &gi)))
		fprintf(stderr, "confirmation tag does not verify\n");
out:
	mls_message_clear(&kp);
	mls_message_clear(&wl);
	mls_group_secrets_clear(&gs);
	mls_group_info_clear(&gi);
	bw_bytes_clear(&init);
	bw_bytes_clear(&signer);
	return ok;
}

int main(int argc, char **argv)
{
	json_t *all = tv_load(tv_dir(argc, argv), "mls/welcome.json");
	struct tv_count c = { .name = "welcome" };
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

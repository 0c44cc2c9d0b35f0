/* vec_key_schedule.c - RFC 9420 §8 against mls/key-schedule.json: for each
 * epoch the GroupContext encoding, every epoch secret, the next
 * init_secret, external_pub (KEM.DeriveKeyPair(external_secret)) and one
 * MLS-Exporter output. The Welcome path (from joiner_secret) must reach
 * the same secrets. */
#include <string.h>

#include "codec.h"
#include "crypto.h"
#include "key_schedule.h"
#include "suite_vectors.h"
#include "test.h"
#include "vectors.h"

/* The hex field `key` of v equals got[0..len). */
static bool field_eq(json_t *v, const char *key, const uint8_t *got,
		     size_t len)
{
	struct bw_bytes want = { 0 };
	bool ok = tv_hex(v, key, &want) && want.len == len &&
		  memcmp(want.p, got, len) == 0;

	if (!ok)
		fprintf(stderr, "%s differs\n", key);
	bw_bytes_clear(&want);
	return ok;
}

/* GroupContext (§8.1) with empty extensions, written with the codec. */
static bool encode_group_context(json_t *v, uint16_t suite,
				 const struct bw_bytes *group_id,
				 uint64_t epoch, struct bw_writer *w)
{
	struct bw_bytes tree_hash = { 0 }, cth = { 0 };
	bool ok = tv_hex(v, "tree_hash", &tree_hash) &&
		  tv_hex(v, "confirmed_transcript_hash", &cth);

	bw_writer_init(w, 0);
	bw_write_u16(w, 1); /* mls10 */
	bw_write_u16(w, suite);
	bw_write_opaque(w, group_id->p, group_id->len);
	bw_write_u64(w, epoch);
	bw_write_opaque(w, tree_hash.p, tree_hash.len);
	bw_write_opaque(w, cth.p, cth.len);
	bw_write_opaque(w, NULL, 0);
	bw_bytes_clear(&tree_hash);
	bw_bytes_clear(&cth);
	return ok && w->err == 0;
}

static bool secrets_eq(json_t *v, const struct mls_epoch_secrets *e, size_t n)
{
	return field_eq(v, "joiner_secret", e->joiner_secret, n) &&
	       field_eq(v, "welcome_secret", e->welcome_secret, n) &&
	       field_eq(v, "sender_data_secret", e->sender_data_secret, n) &&
	       field_eq(v, "encryption_secret", e->encryption_secret, n) &&
	       field_eq(v, "exporter_secret", e->exporter_secret, n) &&
	       field_eq(v, "epoch_authenticator", e->epoch_authenticator, n) &&
	       field_eq(v, "external_secret", e->external_secret, n) &&
	       field_eq(v, "confirmation_key", e->confirmation_key, n) &&
	       field_eq(v, "membership_key", e->membership_key, n) &&
	       field_eq(v, "resumption_psk", e->resumption_psk, n) &&
	       field_eq(v, "init_secret", e->init_secret, n);
}

static bool check_exporter(json_t *v, const struct mls_epoch_secrets *e)
{
	json_t *x = json_object_get(v, "exporter");
	struct bw_bytes context = { 0 };
	const char *label; /* text, used as its bytes */
	uint8_t out[256];
	uint64_t len;
	bool ok = false;

	if (!json_is_object(x) || (label = tv_str(x, "label")) == NULL ||
	    !tv_hex(x, "context", &context) || !tv_u64(x, "length", &len) ||
	    len > sizeof(out))
		goto out;
	ok = mls_key_schedule_export(e, label, strlen(label), context.p,
				     context.len, out, len) == 0 &&
	     field_eq(x, "secret", out, len);
out:
	bw_bytes_clear(&context);
	return ok;
}

static bool check_external_pub(json_t *v, const struct mls_epoch_secrets *e)
{
	struct bw_bytes priv = { 0 }, pub = { 0 };
	bool ok = mls_key_schedule_external_keypair(e, &priv, &pub) == 0 &&
		  field_eq(v, "external_pub", pub.p, pub.len);

	bw_bytes_clear(&priv);
	bw_bytes_clear(&pub);
	return ok;
}

/* The Welcome path from this epoch's joiner_secret gives the same. */
static bool check_join(json_t *v, const struct mls_suite *s,
		       const struct mls_epoch_secrets *e, const uint8_t *psk,
		       const struct bw_writer *gc)
{
	struct mls_epoch_secrets j;
	uint8_t welcome[MLS_MAX_HASH_LEN];
	bool ok = mls_welcome_secret(s, e->joiner_secret, s->hash_len, psk,
				     welcome) == 0 &&
		  field_eq(v, "welcome_secret", welcome, s->hash_len) &&
		  mls_key_schedule_join(s, e->joiner_secret, s->hash_len, psk,
					gc->buf, gc->len, &j) == 0 &&
		  secrets_eq(v, &j, s->hash_len);

	mls_epoch_secrets_clear(&j);
	return ok;
}

static bool check_epoch(json_t *v, const struct mls_suite *s,
			const struct bw_bytes *group_id, uint64_t epoch,
			uint8_t *init /* in: previous, out: next */)
{
	struct bw_bytes commit = { 0 }, psk = { 0 };
	struct mls_epoch_secrets e;
	struct bw_writer gc;
	bool ok = false;

	if (!encode_group_context(v, s->id, group_id, epoch, &gc) ||
	    !field_eq(v, "group_context", gc.buf, gc.len) ||
	    !tv_hex(v, "commit_secret", &commit) || !tv_hex(v, "psk_secret", &psk) ||
	    commit.len != s->hash_len || psk.len != s->hash_len)
		goto out;
	if (mls_key_schedule_epoch(s, init, commit.p, psk.p, gc.buf, gc.len,
				   &e) != 0)
		goto out;
	ok = secrets_eq(v, &e, s->hash_len) && check_exporter(v, &e) &&
	     check_external_pub(v, &e) && check_join(v, s, &e, psk.p, &gc);
	memcpy(init, e.init_secret, s->hash_len);
	mls_epoch_secrets_clear(&e);
out:
	bw_writer_free(&gc);
	bw_bytes_clear(&commit);
	bw_bytes_clear(&psk);
	if (!ok)
		fprintf(stderr, "suite %u epoch %llu failed\n", s->id,
			(unsigned long long)epoch);
	return ok;
}

static bool check(json_t *v, const struct mls_suite *s)
{
	struct bw_bytes group_id = { 0 }, init = { 0 };
	json_t *epochs = json_object_get(v, "epochs"), *ep;
	size_t i;
	bool ok = tv_hex(v, "group_id", &group_id) &&
		  tv_hex(v, "initial_init_secret", &init) &&
		  init.len == s->hash_len && json_array_size(epochs) > 0;

	json_array_foreach(epochs, i, ep) {
		if (!ok)
			break;
		ok = check_epoch(ep, s, &group_id, i, init.p);
	}
	bw_bytes_clear(&group_id);
	bw_bytes_clear(&init);
	return ok;
}

int main(int argc, char **argv)
{
	return tv_run_suites(argc, argv, "mls/key-schedule.json", "key-schedule", check);
}

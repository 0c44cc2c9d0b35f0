/*
 * vec_crypto_basics.c - the MLS crypto provider (RFC 9420 §5.1-§5.2, §8,
 * §9) against mls/crypto-basics.json, for cipher suites 1, 2 and 3:
 * RefHash, ExpandWithLabel, DeriveSecret, DeriveTreeSecret, the given
 * signature verifies and a fresh one does too, the given ciphertext
 * decrypts and a fresh encryption round-trips. Entries of other suites are
 * counted as not run.
 */
#include <stdlib.h>

#include "crypto.h"
#include "suite_vectors.h"
#include "test.h"
#include "vectors.h"

static bool check_ref_hash(const struct mls_suite *s, json_t *v)
{
	struct bw_bytes value = { 0 }, want = { 0 };
	const char *label = tv_str(v, "label");
	uint8_t out[MLS_MAX_HASH_LEN];
	bool ok = label && tv_hex(v, "value", &value) &&
		  tv_hex(v, "out", &want) &&
		  mls_ref_hash(s, label, value.p, value.len, out) == 0 &&
		  bw_bytes_eq(&want, out, s->hash_len);

	bw_bytes_clear(&value);
	bw_bytes_clear(&want);
	return ok;
}

static bool check_expand_with_label(const struct mls_suite *s, json_t *v)
{
	struct bw_bytes secret = { 0 }, context = { 0 }, want = { 0 };
	struct bw_bytes out = { 0 };
	const char *label = tv_str(v, "label");
	uint64_t length;
	bool ok = label && tv_hex(v, "secret", &secret) &&
		  tv_hex(v, "context", &context) && tv_hex(v, "out", &want) &&
		  tv_u64(v, "length", &length) && length == want.len &&
		  bw_bytes_alloc(&out, length) == 0 &&
		  mls_expand_with_label(s, secret.p, secret.len, label,
					context.p, context.len, out.p,
					out.len) == 0 &&
		  bw_bytes_eq(&want, out.p, out.len);

	bw_bytes_clear(&secret);
	bw_bytes_clear(&context);
	bw_bytes_clear(&want);
	bw_bytes_clear(&out);
	return ok;
}

static bool check_derive_secret(const struct mls_suite *s, json_t *v)
{
	struct bw_bytes secret = { 0 }, want = { 0 };
	const char *label = tv_str(v, "label");
	uint8_t out[MLS_MAX_HASH_LEN];
	bool ok = label && tv_hex(v, "secret", &secret) &&
		  tv_hex(v, "out", &want) &&
		  mls_derive_secret(s, secret.p, secret.len, label, out) == 0 &&
		  bw_bytes_eq(&want, out, s->hash_len);

	bw_bytes_clear(&secret);
	bw_bytes_clear(&want);
	return ok;
}

static bool check_derive_tree_secret(const struct mls_suite *s, json_t *v)
{
	struct bw_bytes secret = { 0 }, want = { 0 }, out = { 0 };
	const char *label = tv_str(v, "label");
	uint64_t generation, length;
	bool ok = label && tv_hex(v, "secret", &secret) &&
		  tv_hex(v, "out", &want) &&
		  tv_u64(v, "generation", &generation) &&
		  generation <= UINT32_MAX && tv_u64(v, "length", &length) &&
		  length == want.len && bw_bytes_alloc(&out, length) == 0 &&
		  mls_derive_tree_secret(s, secret.p, secret.len, label,
					 (uint32_t)generation, out.p,
					 out.len) == 0 &&
		  bw_bytes_eq(&want, out.p, out.len);

	bw_bytes_clear(&secret);
	bw_bytes_clear(&want);
	bw_bytes_clear(&out);
	return ok;
}

/* The given signature verifies; so does a fresh one, and the public key
 * belongs to the private key. */
static bool check_sign_with_label(const struct mls_suite *s, json_t *v)
{
	struct bw_bytes priv = { 0 }, pub = { 0 }, content = { 0 };
	struct bw_bytes sig = { 0 }, fresh = { 0 }, derived = { 0 };
	const char *label = tv_str(v, "label");
	bool ok = label && tv_hex(v, "priv", &priv) && tv_hex(v, "pub", &pub) &&
		  tv_hex(v, "content", &content) &&
		  tv_hex(v, "signature", &sig) &&
		  mls_verify_with_label(s, pub.p, pub.len, label, content.p,
					content.len, sig.p, sig.len) == 0 &&
		  mls_sign_with_label(s, priv.p, priv.len, label, content.p,
				      content.len, &fresh) == 0 &&
		  mls_verify_with_label(s, pub.p, pub.len, label, content.p,
					content.len, fresh.p, fresh.len) == 0 &&
		  mls_sig_public(s, priv.p, priv.len, &derived) == 0 &&
		  bw_bytes_eq(&derived, pub.p, pub.len);

	bw_bytes_clear(&priv);
	bw_bytes_clear(&pub);
	bw_bytes_clear(&content);
	bw_bytes_clear(&sig);
	bw_bytes_clear(&fresh);
	bw_bytes_clear(&derived);
	return ok;
}

/* The given ciphertext decrypts; a fresh encryption decrypts too. */
static bool check_encrypt_with_label(const struct mls_suite *s, json_t *v)
{
	struct bw_bytes priv = { 0 }, pub = { 0 }, context = { 0 };
	struct bw_bytes pt = { 0 }, kem_output = { 0 }, ct = { 0 };
	struct bw_bytes got = { 0 }, kem2 = { 0 }, ct2 = { 0 }, got2 = { 0 };
	const char *label = tv_str(v, "label");
	bool ok = label && tv_hex(v, "priv", &priv) && tv_hex(v, "pub", &pub) &&
		  tv_hex(v, "context", &context) &&
		  tv_hex(v, "plaintext", &pt) &&
		  tv_hex(v, "kem_output", &kem_output) &&
		  tv_hex(v, "ciphertext", &ct) &&
		  mls_decrypt_with_label(s, priv.p, priv.len, label, context.p,
					 context.len, kem_output.p,
					 kem_output.len, ct.p, ct.len,
					 &got) == 0 &&
		  bw_bytes_eq(&got, pt.p, pt.len) &&
		  mls_encrypt_with_label(s, pub.p, pub.len, label, context.p,
					 context.len, pt.p, pt.len, &kem2,
					 &ct2) == 0 &&
		  mls_decrypt_with_label(s, priv.p, priv.len, label, context.p,
					 context.len, kem2.p, kem2.len, ct2.p,
					 ct2.len, &got2) == 0 &&
		  bw_bytes_eq(&got2, pt.p, pt.len);
	struct bw_bytes *all[] = { &priv, &pub, &context, &pt, &kem_output,
				   &ct, &got, &kem2, &ct2, &got2 };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		bw_bytes_clear(all[i]);
	return ok;
}

static const struct {
	const char *field;
	bool (*check)(const struct mls_suite *s, json_t *v);
} checks[] = {
	{ "ref_hash", check_ref_hash },
	{ "expand_with_label", check_expand_with_label },
	{ "derive_secret", check_derive_secret },
	{ "derive_tree_secret", check_derive_tree_secret },
	{ "sign_with_label", check_sign_with_label },
	{ "encrypt_with_label", check_encrypt_with_label },
};

static bool check_entry(json_t *v, const struct mls_suite *s)
{
	bool ok = true;

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		json_t *part = json_object_get(v, checks[i].field);

		if (!json_is_object(part) || !checks[i].check(s, part)) {
			fprintf(stderr, "suite %u: %s fails\n", s->id,
				checks[i].field);
			ok = false;
		}
	}
	return ok;
}

int main(int argc, char **argv)
{
	return tv_run_suites(argc, argv, "mls/crypto-basics.json", "crypto-basics", check_entry);
}

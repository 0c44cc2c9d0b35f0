/*
 * fuzz_welcome_join.c - joining a group by Welcome (RFC 9420 §12.4.3.1)
 * as a client holding a real KeyPackage. The first byte says how the rest
 * is used:
 *   0  the Welcome MLSMessage itself;
 *   1  XOR patches on a real Welcome meant for the KeyPackage;
 *   2  XOR patches on a real GroupInfo, then wrapped in a Welcome that is
 *      otherwise correctly made for the KeyPackage, so that the whole join
 *      (tree, signatures, key derivations) sees the changes;
 *   3  the GroupInfo itself, wrapped the same way.
 * A patch is (uint16 offset, uint8 mask). Nothing may crash or leak, and a
 * join that fails leaves no group behind.
 */
#include <stdlib.h>
#include <string.h>

#include "group_internal.h"
#include "msg_internal.h"

static struct mls_config cfg;
static struct mls_key_package_bundle *bundle;
static struct bw_bytes welcome, group_info;
static const uint8_t joiner_secret[MLS_MAX_HASH_LEN] = { 0x4a, 0x01 };

static int accept_all(void *arg, const struct mls_credential *c,
		      const uint8_t *key, size_t len)
{
	(void)arg;
	(void)c;
	(void)key;
	(void)len;
	return 0;
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz_welcome_join: %s failed\n", what);
	abort();
}

/* A group that adds the KeyPackage: its Welcome, and the GroupInfo inside
 * (the tree included). */
static void make_welcome(void)
{
	const uint16_t suite = MLS_SUITE_X25519_AES128GCM_SHA256_ED25519;
	struct mls_commit_options opt = { .ratchet_tree = true };
	struct mls_credential *cred = NULL;
	struct mls_signer *alice = NULL, *bob = NULL;
	struct mls_commit_output o;
	struct mls_group *g = NULL;
	struct mls_group_info gi;
	struct mls_message m;
	uint8_t *kp = NULL;
	size_t kp_len;

	if (mls_credential_new_basic("fuzz", 4, &cred) != 0 ||
	    mls_signer_new(suite, NULL, 0, &alice) != 0 ||
	    mls_signer_new(suite, NULL, 0, &bob) != 0 ||
	    mls_signer_set_credential(alice, cred) != 0 ||
	    mls_signer_set_credential(bob, cred) != 0 ||
	    mls_key_package_bundle_new(&cfg, bob, &bundle) != 0 ||
	    mls_key_package_bundle_message(bundle, &kp, &kp_len) != 0 ||
	    mls_group_create(&cfg, alice, (const uint8_t *)"fuzz-group", 10,
			     NULL, &g) != 0 ||
	    mls_group_propose_add(g, kp, kp_len, NULL, NULL) != 0 ||
	    mls_group_commit(g, &opt, &o) != 0 ||
	    bw_bytes_set(&welcome, o.welcome, o.welcome_len) != 0 ||
	    mls_message_decode(o.group_info, o.group_info_len, &m) != 0)
		die("setup");
	/* The GroupInfo of the Welcome is the one returned, but for its
	 * external_pub, which a GroupInfo in a Welcome may carry too. */
	gi = m.group_info;
	{
		struct bw_writer w;

		bw_writer_init(&w, 0);
		if (mls_group_info_encode(&gi, &w) != 0 ||
		    bw_writer_take(&w, &group_info.p, &group_info.len) != 0)
			die("group info");
		bw_writer_free(&w);
	}
	mls_message_clear(&m);
	mls_commit_output_clear(&o);
	mls_group_free(g);
	mls_signer_free(alice);
	mls_signer_free(bob);
	mls_credential_free(cred);
	free(kp);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cfg.accept_credential = accept_all;
	make_welcome();
	return 0;
}

/* A copy of base with the patches of p applied. */
static int patched(const struct bw_bytes *base, const uint8_t *p, size_t n,
		   struct bw_bytes *out)
{
	if (bw_bytes_set(out, base->p, base->len) != 0)
		return -1;
	for (size_t i = 0; i + 3 <= n; i += 3) {
		size_t off = ((size_t)p[i] << 8 | p[i + 1]) % out->len;

		out->p[off] ^= p[i + 2];
	}
	return 0;
}

/* The encrypted GroupSecrets entry for the bundle's KeyPackage. */
static int seal_secrets(const struct mls_suite *s, const struct bw_bytes *egi,
			struct mls_encrypted_group_secrets *e)
{
	const struct mls_key_package *kp = &bundle->kp;
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	bw_write_opaque(&w, joiner_secret, s->hash_len);
	bw_write_optional(&w, false);
	bw_write_varint(&w, 0); /* no PSKs */
	if ((rc = w.err) == 0 &&
	    (rc = bw_bytes_set(&e->new_member, bundle->ref, s->hash_len)) == 0)
		rc = mls_encrypt_with_label(
			s, kp->init_key.p, kp->init_key.len, "Welcome", egi->p,
			egi->len, w.buf, w.len,
			&e->encrypted_group_secrets.kem_output,
			&e->encrypted_group_secrets.ciphertext);
	bw_writer_free(&w);
	return rc;
}

/* A Welcome for the bundle around GroupInfo bytes gi. */
static int wrap(const struct bw_bytes *gi, struct bw_bytes *out)
{
	const struct mls_suite *s = bundle->suite;
	uint8_t ws[MLS_MAX_HASH_LEN], key[MLS_MAX_AEAD_KEY_LEN];
	uint8_t nonce[MLS_MAX_AEAD_NONCE_LEN];
	struct mls_welcome wl = { .cipher_suite = s->id, .n_secrets = 1 };
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	if ((wl.secrets = calloc(1, sizeof(*wl.secrets))) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = mls_welcome_secret(s, joiner_secret, s->hash_len, NULL,
				     ws)) != 0 ||
	    (rc = mls_expand_with_label(s, ws, s->hash_len, "key", NULL, 0, key,
					s->key_len)) != 0 ||
	    (rc = mls_expand_with_label(s, ws, s->hash_len, "nonce", NULL, 0,
					nonce, s->nonce_len)) != 0 ||
	    (rc = bw_bytes_alloc(&wl.encrypted_group_info,
				 gi->len + MLS_AEAD_TAG_LEN)) != 0 ||
	    (rc = mls_aead_seal(s, key, nonce, NULL, 0, gi->p, gi->len,
				wl.encrypted_group_info.p)) != 0 ||
	    (rc = seal_secrets(s, &wl.encrypted_group_info, &wl.secrets[0])) !=
		    0)
		goto out;
	bw_write_u16(&w, MLS_PROTOCOL_VERSION_MLS10);
	bw_write_u16(&w, MLS_WIRE_FORMAT_WELCOME);
	if ((rc = mls_welcome_encode(&wl, &w)) == 0)
		rc = bw_writer_take(&w, &out->p, &out->len);
out:
	mls_welcome_clear(&wl);
	bw_writer_free(&w);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mls_key_package_bundle *b = bundle;
	struct bw_bytes msg = { 0 }, gi = { 0 };
	struct mls_group *g = NULL;
	int rc = 0;

	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		rc = bw_bytes_set(&msg, data + 1, size - 1);
		break;
	case 1:
		rc = patched(&welcome, data + 1, size - 1, &msg);
		break;
	case 2:
		if ((rc = patched(&group_info, data + 1, size - 1, &gi)) == 0)
			rc = wrap(&gi, &msg);
		break;
	default:
		if ((rc = bw_bytes_set(&gi, data + 1, size - 1)) == 0)
			rc = wrap(&gi, &msg);
	}
	if (rc == 0) {
		rc = mls_group_join(&cfg, &b, 1, msg.p, msg.len, NULL, 0, &g);
		if ((rc == 0) != (g != NULL))
			abort(); /* a group exactly when the join succeeds */
		mls_group_free(g);
	}
	bw_bytes_clear(&msg);
	bw_bytes_clear(&gi);
	return 0;
}

/*
 * key_schedule.c - RFC 9420 §8: epoch secrets, the Welcome path and the
 * exporter.
 *
 * KDF.Extract(salt, ikm): in the §8 diagram the salt comes from the top
 * (the previous secret in the chain) and the IKM from the left (the
 * commit_secret, then the psk_secret).
 */
#include "key_schedule.h"

#include <string.h>

#include <openssl/crypto.h>

#include "codec.h"

#define LABEL_PREFIX "MLS 1.0 "

static const uint8_t zero_secret[MLS_MAX_HASH_LEN];

/* §8 table "Epoch-Derived Secrets": label and where its secret goes. */
static const struct {
	const char *label;
	size_t offset;
} epoch_derived[] = {
	{ "sender data", offsetof(struct mls_epoch_secrets, sender_data_secret) },
	{ "encryption", offsetof(struct mls_epoch_secrets, encryption_secret) },
	{ "exporter", offsetof(struct mls_epoch_secrets, exporter_secret) },
	{ "external", offsetof(struct mls_epoch_secrets, external_secret) },
	{ "confirm", offsetof(struct mls_epoch_secrets, confirmation_key) },
	{ "membership", offsetof(struct mls_epoch_secrets, membership_key) },
	{ "resumption", offsetof(struct mls_epoch_secrets, resumption_psk) },
	{ "authentication",
	  offsetof(struct mls_epoch_secrets, epoch_authenticator) },
	{ "init", offsetof(struct mls_epoch_secrets, init_secret) },
};

void mls_epoch_secrets_clear(struct mls_epoch_secrets *e)
{
	OPENSSL_cleanse(e, sizeof(*e));
	e->suite = NULL;
}

/* member = Extract(joiner_secret, psk_secret or 0): the secret both
 * welcome_secret and epoch_secret come from. */
static int member_secret(const struct mls_suite *s, const uint8_t *joiner,
			 const uint8_t *psk_secret, uint8_t *out)
{
	return mls_kdf_extract(s, joiner, s->hash_len,
			       psk_secret ? psk_secret : zero_secret,
			       s->hash_len, out);
}

/* From joiner_secret (already in e) onwards. */
static int derive_from_joiner(const struct mls_suite *s,
			      const uint8_t *psk_secret, const uint8_t *gc,
			      size_t gc_len, struct mls_epoch_secrets *e)
{
	uint8_t member[MLS_MAX_HASH_LEN], epoch[MLS_MAX_HASH_LEN];
	size_t i;
	int rc;

	if ((rc = member_secret(s, e->joiner_secret, psk_secret, member)) != 0 ||
	    (rc = mls_derive_secret(s, member, s->hash_len, "welcome",
				    e->welcome_secret)) != 0 ||
	    (rc = mls_expand_with_label(s, member, s->hash_len, "epoch", gc,
					gc_len, epoch, s->hash_len)) != 0)
		goto out;
	for (i = 0; i < sizeof(epoch_derived) / sizeof(epoch_derived[0]); i++)
		if ((rc = mls_derive_secret(s, epoch, s->hash_len,
					    epoch_derived[i].label,
					    (uint8_t *)e +
						    epoch_derived[i].offset)) != 0)
			goto out;
out:
	OPENSSL_cleanse(member, sizeof(member));
	OPENSSL_cleanse(epoch, sizeof(epoch)); /* consumed (§9.2) */
	return rc;
}

int mls_key_schedule_epoch(const struct mls_suite *s,
			   const uint8_t *init_secret,
			   const uint8_t *commit_secret,
			   const uint8_t *psk_secret,
			   const uint8_t *group_context, size_t group_context_len,
			   struct mls_epoch_secrets *out)
{
	uint8_t psk[MLS_MAX_HASH_LEN], extracted[MLS_MAX_HASH_LEN];
	int rc;

	if (s == NULL || init_secret == NULL || group_context == NULL) {
		mls_epoch_secrets_clear(out);
		return MLS_ERR_INVALID_ARG;
	}
	/* Inputs are used or copied before *out is wiped: the usual caller
	 * passes the previous epoch's out->init_secret (and may pass its
	 * resumption_psk as a PSK). */
	memcpy(psk, psk_secret ? psk_secret : zero_secret, s->hash_len);
	rc = mls_kdf_extract(s, init_secret, s->hash_len,
			     commit_secret ? commit_secret : zero_secret,
			     s->hash_len, extracted);
	mls_epoch_secrets_clear(out);
	out->suite = s;
	if (rc != 0 ||
	    (rc = mls_expand_with_label(s, extracted, s->hash_len, "joiner",
					group_context, group_context_len,
					out->joiner_secret, s->hash_len)) != 0 ||
	    (rc = derive_from_joiner(s, psk, group_context, group_context_len,
				     out)) != 0)
		mls_epoch_secrets_clear(out);
	OPENSSL_cleanse(psk, sizeof(psk));
	OPENSSL_cleanse(extracted, sizeof(extracted));
	return rc;
}

int mls_welcome_secret(const struct mls_suite *s, const uint8_t *joiner_secret,
		       size_t joiner_secret_len, const uint8_t *psk_secret,
		       uint8_t *out)
{
	uint8_t member[MLS_MAX_HASH_LEN];
	int rc;

	if (s == NULL || joiner_secret == NULL ||
	    joiner_secret_len != s->hash_len)
		return MLS_ERR_INVALID_ARG;
	if ((rc = member_secret(s, joiner_secret, psk_secret, member)) == 0)
		rc = mls_derive_secret(s, member, s->hash_len, "welcome", out);
	OPENSSL_cleanse(member, sizeof(member));
	return rc;
}

int mls_key_schedule_join(const struct mls_suite *s,
			  const uint8_t *joiner_secret,
			  size_t joiner_secret_len, const uint8_t *psk_secret,
			  const uint8_t *group_context,
			  size_t group_context_len,
			  struct mls_epoch_secrets *out)
{
	uint8_t joiner[MLS_MAX_HASH_LEN], psk[MLS_MAX_HASH_LEN];
	int rc;

	if (s == NULL || joiner_secret == NULL || group_context == NULL ||
	    joiner_secret_len != s->hash_len) {
		mls_epoch_secrets_clear(out);
		return MLS_ERR_INVALID_ARG;
	}
	/* Copied before *out is wiped: either may live in it. */
	memcpy(joiner, joiner_secret, s->hash_len);
	memcpy(psk, psk_secret ? psk_secret : zero_secret, s->hash_len);
	mls_epoch_secrets_clear(out);
	out->suite = s;
	memcpy(out->joiner_secret, joiner, s->hash_len);
	if ((rc = derive_from_joiner(s, psk, group_context, group_context_len,
				     out)) != 0)
		mls_epoch_secrets_clear(out);
	OPENSSL_cleanse(joiner, sizeof(joiner));
	OPENSSL_cleanse(psk, sizeof(psk));
	return rc;
}

/* DeriveSecret(secret, label) for a label that is a byte string rather
 * than text (exporter labels are the application's bytes, §8.5): the
 * KDFLabel of §8 written out with the codec. */
static int derive_secret_bytes(const struct mls_suite *s, const uint8_t *secret,
			       const void *label, size_t label_len,
			       uint8_t *out)
{
	struct bw_writer w;
	size_t mark;
	int rc;

	bw_writer_init(&w, 0);
	bw_write_u16(&w, (uint16_t)s->hash_len);
	mark = bw_write_vector_begin(&w);
	bw_write_bytes(&w, LABEL_PREFIX, strlen(LABEL_PREFIX));
	bw_write_bytes(&w, label, label_len);
	bw_write_vector_end(&w, mark);
	if ((rc = bw_write_opaque(&w, NULL, 0)) == 0)
		rc = mls_kdf_expand(s, secret, s->hash_len, w.buf, w.len, out,
				    s->hash_len);
	bw_writer_free(&w);
	return rc;
}

int mls_key_schedule_export(const struct mls_epoch_secrets *e,
			    const void *label, size_t label_len,
			    const void *context, size_t context_len,
			    uint8_t *out, size_t out_len)
{
	uint8_t secret[MLS_MAX_HASH_LEN], context_hash[MLS_MAX_HASH_LEN];
	const struct mls_suite *s = e->suite;
	int rc;

	if (s == NULL || label_len > MLS_EXPORTER_MAX_INPUT ||
	    context_len > MLS_EXPORTER_MAX_INPUT ||
	    (label_len > 0 && label == NULL) ||
	    (context_len > 0 && context == NULL))
		return MLS_ERR_INVALID_ARG;
	if (out_len == 0)
		return 0; /* HKDF-Expand to zero bytes is the empty string */
	if ((rc = derive_secret_bytes(s, e->exporter_secret, label, label_len,
				      secret)) == 0 &&
	    (rc = mls_hash(s, context, context_len, context_hash)) == 0)
		rc = mls_expand_with_label(s, secret, s->hash_len, "exported",
					   context_hash, s->hash_len, out,
					   out_len);
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

int mls_key_schedule_external_keypair(const struct mls_epoch_secrets *e,
				      struct bw_bytes *priv,
				      struct bw_bytes *pub)
{
	if (e->suite == NULL)
		return MLS_ERR_INVALID_ARG;
	return mls_kem_derive_keypair(e->suite, e->external_secret,
				      e->suite->hash_len, priv, pub);
}

/*
 * psk.c - RFC 9420 §8.4: chaining PSKs into the psk_secret.
 *
 *   psk_extracted[i] = KDF.Extract(0, psk[i])
 *   psk_input[i]     = ExpandWithLabel(psk_extracted[i], "derived psk",
 *                                      PSKLabel, KDF.Nh)
 *   psk_secret[0]    = 0
 *   psk_secret[i]    = KDF.Extract(psk_input[i-1], psk_secret[i-1])
 *
 * with KDF.Extract(salt, ikm): the salt of the last Extract is the new
 * psk_input and its IKM the previous psk_secret, as the §8.4 pseudocode
 * writes it and the interoperability vectors confirm (the §8.4 figure,
 * read with the §8 convention of salt from the top, suggests the
 * opposite order).
 */
#include "psk.h"

#include <string.h>

#include <openssl/crypto.h>

#include "codec.h"

static const uint8_t zero_secret[MLS_MAX_HASH_LEN];

static int check_inputs(const struct mls_psk_input *psks, size_t n)
{
	if (n > MLS_PSK_MAX_COUNT || (n > 0 && psks == NULL))
		return MLS_ERR_PSK_INVALID;
	for (size_t i = 0; i < n; i++)
		if (psks[i].id == NULL || psks[i].id_len == 0 ||
		    psks[i].id_len > MLS_PSK_MAX_ID_LEN ||
		    (psks[i].psk == NULL && psks[i].psk_len > 0))
			return MLS_ERR_PSK_INVALID;
	return 0;
}

/* psk_input[index] into out. */
static int psk_input(const struct mls_suite *s, const struct mls_psk_input *p,
		     uint16_t index, uint16_t count, uint8_t *out)
{
	uint8_t extracted[MLS_MAX_HASH_LEN];
	struct bw_writer label;
	int rc;

	bw_writer_init(&label, 0);
	bw_write_bytes(&label, p->id, p->id_len);
	bw_write_u16(&label, index);
	if ((rc = bw_write_u16(&label, count)) != 0 ||
	    (rc = mls_kdf_extract(s, zero_secret, s->hash_len, p->psk,
				  p->psk_len, extracted)) != 0)
		goto out;
	rc = mls_expand_with_label(s, extracted, s->hash_len, "derived psk",
				   label.buf, label.len, out, s->hash_len);
out:
	OPENSSL_cleanse(extracted, sizeof(extracted));
	bw_writer_free(&label);
	return rc;
}

int mls_psk_secret(const struct mls_suite *s, const struct mls_psk_input *psks,
		   size_t n, uint8_t *out)
{
	uint8_t secret[MLS_MAX_HASH_LEN] = { 0 }, input[MLS_MAX_HASH_LEN];
	uint8_t next[MLS_MAX_HASH_LEN];
	int rc;

	if ((rc = check_inputs(psks, n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = psk_input(s, &psks[i], (uint16_t)i, (uint16_t)n,
				    input)) != 0 ||
		    (rc = mls_kdf_extract(s, input, s->hash_len, secret,
					  s->hash_len, next)) != 0)
			goto out;
		memcpy(secret, next, s->hash_len);
	}
	memcpy(out, secret, s->hash_len);
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(input, sizeof(input));
	OPENSSL_cleanse(next, sizeof(next));
	return rc;
}

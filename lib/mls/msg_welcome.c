/*
 * msg_welcome.c - Welcome, EncryptedGroupSecrets and GroupSecrets
 * (RFC 9420 §12.4.3.1). GroupSecrets holds the joiner and path secrets:
 * bw_bytes_clear wipes them.
 */
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "msg_internal.h"

/* ---- GroupSecrets ---- */

static int psk_decode(struct bw_reader *r, void *elem)
{
	return mls_pre_shared_key_id_decode(r, elem);
}

static int psk_encode(const void *elem, struct bw_writer *w)
{
	return mls_pre_shared_key_id_encode(elem, w);
}

int mls_group_secrets_decode(struct bw_reader *r,
			     struct mls_group_secrets *out)
{
	void *arr = NULL;

	memset(out, 0, sizeof(*out));
	mls_read_bytes(r, MLS_MAX_HASH_VALUE_LEN, &out->joiner_secret);
	/* optional<PathSecret>, PathSecret being struct { opaque<V> }. */
	if (bw_read_optional(r, &out->has_path_secret) == 0 &&
	    out->has_path_secret)
		mls_read_bytes(r, MLS_MAX_HASH_VALUE_LEN, &out->path_secret);
	mls_read_list(r, MLS_MAX_PSKS_LEN, MLS_MAX_PSKS, &arr, &out->n_psks,
		      sizeof(*out->psks), psk_decode);
	out->psks = arr;
	if (r->err != 0)
		mls_group_secrets_clear(out);
	return r->err;
}

int mls_group_secrets_encode(const struct mls_group_secrets *in,
			     struct bw_writer *w)
{
	mls_write_bytes(w, &in->joiner_secret);
	bw_write_optional(w, in->has_path_secret);
	if (in->has_path_secret)
		mls_write_bytes(w, &in->path_secret);
	return mls_write_list(w, in->psks, in->n_psks, sizeof(*in->psks),
			      psk_encode);
}

void mls_group_secrets_clear(struct mls_group_secrets *gs)
{
	bw_bytes_clear(&gs->joiner_secret);
	bw_bytes_clear(&gs->path_secret);
	for (size_t i = 0; i < gs->n_psks; i++)
		mls_pre_shared_key_id_clear(&gs->psks[i]);
	free(gs->psks);
	memset(gs, 0, sizeof(*gs));
}

/* ---- Welcome ---- */

static void encrypted_group_secrets_clear(struct mls_encrypted_group_secrets *e)
{
	bw_bytes_clear(&e->new_member);
	mls_hpke_ciphertext_clear(&e->encrypted_group_secrets);
}

static int encrypted_group_secrets_decode(struct bw_reader *r, void *elem)
{
	struct mls_encrypted_group_secrets *e = elem;

	mls_read_bytes(r, MLS_MAX_HASH_VALUE_LEN, &e->new_member);
	mls_hpke_ciphertext_decode(r, &e->encrypted_group_secrets);
	if (r->err != 0)
		encrypted_group_secrets_clear(e);
	return r->err;
}

static int encrypted_group_secrets_encode(const void *elem,
					  struct bw_writer *w)
{
	const struct mls_encrypted_group_secrets *e = elem;

	mls_write_bytes(w, &e->new_member);
	return mls_hpke_ciphertext_encode(&e->encrypted_group_secrets, w);
}

int mls_welcome_decode(struct bw_reader *r, struct mls_welcome *out)
{
	void *arr = NULL;

	memset(out, 0, sizeof(*out));
	bw_read_u16(r, &out->cipher_suite);
	/* One entry per new member: at most the leaves of a tree. */
	mls_read_list(r, MLS_MAX_WELCOME_SECRETS_LEN, MLS_MAX_TREE_LEAVES, &arr,
		      &out->n_secrets, sizeof(*out->secrets),
		      encrypted_group_secrets_decode);
	out->secrets = arr;
	mls_read_bytes(r, MLS_MAX_ENCRYPTED_GROUP_INFO_LEN,
		       &out->encrypted_group_info);
	if (r->err != 0)
		mls_welcome_clear(out);
	return r->err;
}

int mls_welcome_encode(const struct mls_welcome *in, struct bw_writer *w)
{
	bw_write_u16(w, in->cipher_suite);
	mls_write_list(w, in->secrets, in->n_secrets, sizeof(*in->secrets),
		       encrypted_group_secrets_encode);
	return mls_write_bytes(w, &in->encrypted_group_info);
}

void mls_welcome_clear(struct mls_welcome *wl)
{
	for (size_t i = 0; i < wl->n_secrets; i++)
		encrypted_group_secrets_clear(&wl->secrets[i]);
	free(wl->secrets);
	bw_bytes_clear(&wl->encrypted_group_info);
	memset(wl, 0, sizeof(*wl));
}

/*
 * msg_common.c - building blocks shared by MLS structures: owned opaque
 * fields, growable lists, code point lists, extensions (§13), credentials
 * (§5.3), capabilities (§7.2), HPKECiphertext (§7.6) and the typed payloads
 * of the required_capabilities and external_senders extensions.
 */
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "msg_internal.h"

/* ---- helpers (msg_internal.h) ---- */

int mls_read_bytes(struct bw_reader *r, size_t max, struct bw_bytes *out)
{
	const uint8_t *p = NULL;
	size_t n = 0;

	if (bw_read_opaque(r, max, &p, &n) != 0)
		return r->err;
	if (bw_bytes_set(out, p, n) != 0)
		return bw_reader_fail(r, BW_ERR_NOMEM);
	return 0;
}

int mls_write_bytes(struct bw_writer *w, const struct bw_bytes *b)
{
	return bw_write_opaque(w, b->p, b->len);
}

int mls_writer_fail(struct bw_writer *w, int err)
{
	if (w->err == 0)
		w->err = err;
	return w->err;
}

void *mls_array_push(struct bw_reader *r, void **arr, size_t *n,
		     size_t elem_size, size_t max_n)
{
	uint8_t *p;

	if (r->err != 0)
		return NULL;
	if (*n >= max_n) {
		bw_reader_fail(r, BW_ERR_TOO_LONG);
		return NULL;
	}
	/* Capacity is the next power of two, so it is full when *n is 0 or
	 * a power of two: amortised O(1) appends, no capacity field. */
	if ((*n & (*n - 1)) == 0) {
		size_t cap = *n ? *n * 2 : 1;

		if ((p = realloc(*arr, cap * elem_size)) == NULL) {
			bw_reader_fail(r, BW_ERR_NOMEM);
			return NULL;
		}
		*arr = p;
	}
	p = (uint8_t *)*arr + *n * elem_size;
	memset(p, 0, elem_size);
	(*n)++;
	return p;
}

int mls_read_list(struct bw_reader *r, size_t max_len, size_t max_n,
		  void **arr, size_t *n, size_t elem_size,
		  int (*decode)(struct bw_reader *r, void *elem))
{
	struct bw_reader sub;
	void *elem;

	if (bw_read_vector(r, max_len, &sub) != 0)
		return r->err;
	while (bw_reader_remaining(&sub) > 0) {
		if ((elem = mls_array_push(&sub, arr, n, elem_size, max_n)) ==
			    NULL ||
		    decode(&sub, elem) != 0)
			return bw_reader_fail(r, sub.err);
	}
	return 0;
}

int mls_write_list(struct bw_writer *w, const void *arr, size_t n,
		   size_t elem_size,
		   int (*encode)(const void *elem, struct bw_writer *w))
{
	size_t mark = bw_write_vector_begin(w);

	for (size_t i = 0; i < n && w->err == 0; i++)
		encode((const uint8_t *)arr + i * elem_size, w);
	return bw_write_vector_end(w, mark);
}

/* ---- code point lists ---- */

int mls_u16_list_decode(struct bw_reader *r, size_t max_len,
			struct mls_u16_list *out)
{
	struct bw_reader sub;
	size_t count;

	memset(out, 0, sizeof(*out));
	if (bw_read_vector(r, max_len, &sub) != 0)
		return r->err;
	if (sub.len % 2 != 0)
		return bw_reader_fail(r, BW_ERR_TRUNCATED);
	if ((count = sub.len / 2) == 0)
		return 0;
	if ((out->v = calloc(count, sizeof(*out->v))) == NULL)
		return bw_reader_fail(r, BW_ERR_NOMEM);
	out->n = count;
	for (size_t i = 0; i < count; i++)
		bw_read_u16(&sub, &out->v[i]);
	return 0;
}

int mls_u16_list_encode(const struct mls_u16_list *in, struct bw_writer *w)
{
	size_t mark = bw_write_vector_begin(w);

	for (size_t i = 0; i < in->n; i++)
		bw_write_u16(w, in->v[i]);
	return bw_write_vector_end(w, mark);
}

void mls_u16_list_clear(struct mls_u16_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool mls_u16_list_contains(const struct mls_u16_list *l, uint16_t v)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == v)
			return true;
	return false;
}

/* ---- extensions (§13) ---- */

static int extension_decode(struct bw_reader *r, bool allow_tree,
			    struct mls_extension *out)
{
	uint16_t type = 0;
	size_t max;

	bw_read_u16(r, &type);
	/* The ratchet tree is the one extension that grows with the group;
	 * its data is an opaque<V> holding the tree's own vector. */
	max = type == MLS_EXT_RATCHET_TREE && allow_tree ?
		      MLS_MAX_RATCHET_TREE_LEN + 4 :
		      MLS_MAX_EXTENSION_DATA_LEN;
	out->type = type;
	return mls_read_bytes(r, max, &out->data);
}

int mls_extension_list_decode_limited(struct bw_reader *r, size_t max_len,
				      bool allow_tree,
				      struct mls_extension_list *out)
{
	struct bw_reader sub;
	struct mls_extension *e;
	void *arr = NULL;

	memset(out, 0, sizeof(*out));
	if (bw_read_vector(r, max_len, &sub) == 0) {
		while (bw_reader_remaining(&sub) > 0 && sub.err == 0) {
			e = mls_array_push(&sub, &arr, &out->n, sizeof(*e),
					   MLS_MAX_EXTENSIONS);
			out->v = arr;
			if (e == NULL ||
			    extension_decode(&sub, allow_tree, e) != 0)
				break;
			/* §13.4: at most one extension of each type; the
			 * list is short (MLS_MAX_EXTENSIONS), so scan. */
			for (size_t i = 0; i + 1 < out->n; i++)
				if (out->v[i].type == e->type)
					bw_reader_fail(
						&sub,
						MLS_ERR_DUPLICATE_EXTENSION);
		}
		if (sub.err != 0)
			bw_reader_fail(r, sub.err);
	}
	if (r->err != 0)
		mls_extension_list_clear(out);
	return r->err;
}

int mls_extension_list_decode(struct bw_reader *r,
			      struct mls_extension_list *out)
{
	return mls_extension_list_decode_limited(r, MLS_MAX_EXTENSIONS_LEN,
						 false, out);
}

int mls_extension_list_encode(const struct mls_extension_list *in,
			      struct bw_writer *w)
{
	size_t mark = bw_write_vector_begin(w);

	for (size_t i = 0; i < in->n; i++) {
		bw_write_u16(w, in->v[i].type);
		mls_write_bytes(w, &in->v[i].data);
	}
	return bw_write_vector_end(w, mark);
}

void mls_extension_list_clear(struct mls_extension_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		bw_bytes_clear(&l->v[i].data);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

const struct mls_extension *
mls_extension_list_find(const struct mls_extension_list *l, uint16_t type)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].type == type)
			return &l->v[i];
	return NULL;
}

/* ---- credentials (§5.3) ---- */

static int certificate_decode(struct bw_reader *r, void *elem)
{
	return mls_read_bytes(r, MLS_MAX_CREDENTIAL_LEN, elem);
}

static int certificate_encode(const void *elem, struct bw_writer *w)
{
	return mls_write_bytes(w, elem);
}

int mls_credential_decode(struct bw_reader *r, struct mls_credential *out)
{
	void *arr = NULL;

	memset(out, 0, sizeof(*out));
	if (bw_read_u16(r, &out->type) != 0)
		return r->err;
	switch (out->type) {
	case MLS_CREDENTIAL_BASIC:
		mls_read_bytes(r, MLS_MAX_CREDENTIAL_LEN, &out->identity);
		break;
	case MLS_CREDENTIAL_X509:
		mls_read_list(r, MLS_MAX_CREDENTIAL_LEN, MLS_MAX_CERTIFICATES,
			      &arr, &out->n_certificates,
			      sizeof(struct bw_bytes), certificate_decode);
		out->certificates = arr;
		break;
	default:
		bw_reader_fail(r, MLS_ERR_UNKNOWN_TYPE);
	}
	if (r->err != 0)
		mls_credential_clear(out);
	return r->err;
}

int mls_credential_encode(const struct mls_credential *in,
			  struct bw_writer *w)
{
	bw_write_u16(w, in->type);
	switch (in->type) {
	case MLS_CREDENTIAL_BASIC:
		return mls_write_bytes(w, &in->identity);
	case MLS_CREDENTIAL_X509:
		return mls_write_list(w, in->certificates, in->n_certificates,
				      sizeof(struct bw_bytes),
				      certificate_encode);
	}
	return mls_writer_fail(w, MLS_ERR_UNKNOWN_TYPE);
}

void mls_credential_clear(struct mls_credential *c)
{
	bw_bytes_clear(&c->identity);
	for (size_t i = 0; i < c->n_certificates; i++)
		bw_bytes_clear(&c->certificates[i]);
	free(c->certificates);
	memset(c, 0, sizeof(*c));
}

/* ---- capabilities (§7.2) ---- */

int mls_capabilities_decode(struct bw_reader *r, struct mls_capabilities *out)
{
	memset(out, 0, sizeof(*out));
	mls_u16_list_decode(r, MLS_MAX_CAPABILITY_LEN, &out->versions);
	mls_u16_list_decode(r, MLS_MAX_CAPABILITY_LEN, &out->cipher_suites);
	mls_u16_list_decode(r, MLS_MAX_CAPABILITY_LEN, &out->extensions);
	mls_u16_list_decode(r, MLS_MAX_CAPABILITY_LEN, &out->proposals);
	mls_u16_list_decode(r, MLS_MAX_CAPABILITY_LEN, &out->credentials);
	if (r->err != 0)
		mls_capabilities_clear(out);
	return r->err;
}

int mls_capabilities_encode(const struct mls_capabilities *in,
			    struct bw_writer *w)
{
	mls_u16_list_encode(&in->versions, w);
	mls_u16_list_encode(&in->cipher_suites, w);
	mls_u16_list_encode(&in->extensions, w);
	mls_u16_list_encode(&in->proposals, w);
	return mls_u16_list_encode(&in->credentials, w);
}

void mls_capabilities_clear(struct mls_capabilities *c)
{
	mls_u16_list_clear(&c->versions);
	mls_u16_list_clear(&c->cipher_suites);
	mls_u16_list_clear(&c->extensions);
	mls_u16_list_clear(&c->proposals);
	mls_u16_list_clear(&c->credentials);
}

/* ---- HPKECiphertext (§7.6) ---- */

int mls_hpke_ciphertext_decode(struct bw_reader *r,
			       struct mls_hpke_ciphertext *out)
{
	memset(out, 0, sizeof(*out));
	mls_read_bytes(r, MLS_MAX_KEY_LEN, &out->kem_output);
	mls_read_bytes(r, MLS_MAX_HPKE_CIPHERTEXT_LEN, &out->ciphertext);
	if (r->err != 0)
		mls_hpke_ciphertext_clear(out);
	return r->err;
}

int mls_hpke_ciphertext_encode(const struct mls_hpke_ciphertext *in,
			       struct bw_writer *w)
{
	mls_write_bytes(w, &in->kem_output);
	return mls_write_bytes(w, &in->ciphertext);
}

void mls_hpke_ciphertext_clear(struct mls_hpke_ciphertext *c)
{
	bw_bytes_clear(&c->kem_output);
	bw_bytes_clear(&c->ciphertext);
}

/* ---- required_capabilities (§11.1) ---- */

int mls_required_capabilities_decode(struct bw_reader *r,
				     struct mls_required_capabilities *out)
{
	memset(out, 0, sizeof(*out));
	mls_u16_list_decode(r, MLS_MAX_CAPABILITY_LEN, &out->extension_types);
	mls_u16_list_decode(r, MLS_MAX_CAPABILITY_LEN, &out->proposal_types);
	mls_u16_list_decode(r, MLS_MAX_CAPABILITY_LEN, &out->credential_types);
	if (r->err != 0)
		mls_required_capabilities_clear(out);
	return r->err;
}

int mls_required_capabilities_encode(
	const struct mls_required_capabilities *in, struct bw_writer *w)
{
	mls_u16_list_encode(&in->extension_types, w);
	mls_u16_list_encode(&in->proposal_types, w);
	return mls_u16_list_encode(&in->credential_types, w);
}

void mls_required_capabilities_clear(struct mls_required_capabilities *rc)
{
	mls_u16_list_clear(&rc->extension_types);
	mls_u16_list_clear(&rc->proposal_types);
	mls_u16_list_clear(&rc->credential_types);
}

/* ---- external_senders (§12.1.8.1) ---- */

static int external_sender_decode(struct bw_reader *r, void *elem)
{
	struct mls_external_sender *es = elem;

	mls_read_bytes(r, MLS_MAX_KEY_LEN, &es->signature_key);
	return mls_credential_decode(r, &es->credential);
}

static int external_sender_encode(const void *elem, struct bw_writer *w)
{
	const struct mls_external_sender *es = elem;

	mls_write_bytes(w, &es->signature_key);
	return mls_credential_encode(&es->credential, w);
}

int mls_external_senders_decode(struct bw_reader *r,
				struct mls_external_senders *out)
{
	void *arr = NULL;

	memset(out, 0, sizeof(*out));
	mls_read_list(r, MLS_MAX_EXTENSION_DATA_LEN, MLS_MAX_EXTENSION_DATA_LEN,
		      &arr, &out->n, sizeof(*out->v), external_sender_decode);
	out->v = arr;
	if (r->err != 0)
		mls_external_senders_clear(out);
	return r->err;
}

int mls_external_senders_encode(const struct mls_external_senders *in,
				struct bw_writer *w)
{
	return mls_write_list(w, in->v, in->n, sizeof(*in->v),
			      external_sender_encode);
}

void mls_external_senders_clear(struct mls_external_senders *es)
{
	for (size_t i = 0; i < es->n; i++) {
		bw_bytes_clear(&es->v[i].signature_key);
		mls_credential_clear(&es->v[i].credential);
	}
	free(es->v);
	es->v = NULL;
	es->n = 0;
}

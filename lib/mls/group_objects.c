/*
 * group_objects.c - the small objects of libmls's public API: credentials,
 * signers, extension lists, key package bundles and the result structs.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "credential.h"
#include "group_internal.h"
#include "hpke.h"
#include "msg_internal.h"

/* Object kinds of mls_state_seal(). */
#define STATE_KIND_BUNDLE 2

bool mls_bytes_equal(const struct bw_bytes *a, const struct bw_bytes *b)
{
	return a->len == b->len &&
	       (a->len == 0 || CRYPTO_memcmp(a->p, b->p, a->len) == 0);
}

/* ---- credentials ---- */

int mls_credential_new_basic(const void *identity, size_t identity_len,
			     struct mls_credential **out)
{
	struct mls_credential *c;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = mls_credential_basic(identity, identity_len, c)) != 0) {
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int mls_credential_new_x509(const uint8_t *const *der, const size_t *der_len,
			    size_t n, struct mls_credential **out)
{
	struct mls_credential *c;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = mls_credential_x509(der, der_len, n, c)) != 0) {
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void mls_credential_free(struct mls_credential *c)
{
	if (c == NULL)
		return;
	mls_credential_clear(c);
	free(c);
}

uint16_t mls_credential_get_type(const struct mls_credential *c)
{
	return c->type;
}

void mls_credential_identity(const struct mls_credential *c,
			     const uint8_t **p, size_t *n)
{
	*p = c->identity.p;
	*n = c->identity.len;
}

size_t mls_credential_n_certificates(const struct mls_credential *c)
{
	return c->n_certificates;
}

int mls_credential_certificate(const struct mls_credential *c, size_t i,
			       const uint8_t **p, size_t *n)
{
	if (i >= c->n_certificates)
		return MLS_ERR_INVALID_ARG;
	*p = c->certificates[i].p;
	*n = c->certificates[i].len;
	return 0;
}

/* ---- signers ---- */

int mls_signer_new(uint16_t suite, const uint8_t *priv, size_t priv_len,
		   struct mls_signer **out)
{
	const struct mls_suite *s = mls_suite_get(suite);
	struct mls_signer *sg = NULL;
	int rc;

	*out = NULL;
	if (s == NULL)
		return MLS_ERR_UNSUPPORTED_SUITE;
	if ((sg = calloc(1, sizeof(*sg))) == NULL)
		return BW_ERR_NOMEM;
	sg->suite = s;
	if (priv == NULL)
		rc = mls_sig_keygen(s, &sg->priv, &sg->pub);
	else if ((rc = mls_sig_public(s, priv, priv_len, &sg->pub)) == 0)
		rc = bw_bytes_set(&sg->priv, priv, priv_len);
	if (rc != 0) {
		mls_signer_free(sg);
		return rc;
	}
	*out = sg;
	return 0;
}

int mls_signer_set_credential(struct mls_signer *sg,
			      const struct mls_credential *c)
{
	struct mls_credential copy = { 0 };
	struct bw_bytes key = { 0 };
	int rc;

	/* §5.3: an X.509 credential must present the key that signs. */
	if (c->type == MLS_CREDENTIAL_X509) {
		if ((rc = mls_credential_x509_public_key(sg->suite, c, &key)) !=
		    0)
			return rc;
		rc = mls_bytes_equal(&key, &sg->pub) ? 0 : MLS_ERR_CREDENTIAL;
		bw_bytes_clear(&key);
		if (rc != 0)
			return rc;
	} else if (c->type != MLS_CREDENTIAL_BASIC) {
		return MLS_ERR_CREDENTIAL;
	}
	if ((rc = mls_credential_copy(&copy, c)) != 0)
		return rc;
	mls_credential_clear(&sg->credential);
	sg->credential = copy;
	sg->has_credential = true;
	return 0;
}

uint16_t mls_signer_suite(const struct mls_signer *sg)
{
	return sg->suite->id;
}

void mls_signer_public_key(const struct mls_signer *sg, const uint8_t **p,
			   size_t *n)
{
	*p = sg->pub.p;
	*n = sg->pub.len;
}

void mls_signer_private_key(const struct mls_signer *sg, const uint8_t **p,
			    size_t *n)
{
	*p = sg->priv.p;
	*n = sg->priv.len;
}

void mls_signer_free(struct mls_signer *sg)
{
	if (sg == NULL)
		return;
	bw_bytes_clear(&sg->priv);
	bw_bytes_clear(&sg->pub);
	mls_credential_clear(&sg->credential);
	free(sg);
}

/* ---- extension lists ---- */

int mls_extensions_new(struct mls_extensions **out)
{
	*out = calloc(1, sizeof(**out));
	return *out == NULL ? BW_ERR_NOMEM : 0;
}

void mls_extensions_free(struct mls_extensions *e)
{
	if (e == NULL)
		return;
	mls_extension_list_clear(&e->list);
	free(e);
}

/* The entry of this type, appended (empty) if there is none. */
static int extension_slot(struct mls_extension_list *l, uint16_t type,
			  struct mls_extension **out)
{
	struct mls_extension *v;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].type == type) {
			*out = &l->v[i];
			return 0;
		}
	if (l->n >= MLS_MAX_EXTENSIONS)
		return BW_ERR_TOO_LONG;
	if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL)
		return BW_ERR_NOMEM;
	l->v = v;
	memset(&v[l->n], 0, sizeof(v[l->n]));
	v[l->n].type = type;
	*out = &v[l->n++];
	return 0;
}

int mls_extensions_set(struct mls_extensions *e, uint16_t type,
		       const uint8_t *data, size_t len)
{
	struct mls_extension *x;
	int rc;

	/* These two describe a state the library itself knows. */
	if (type == MLS_EXT_RATCHET_TREE || type == MLS_EXT_EXTERNAL_PUB)
		return MLS_ERR_INVALID_ARG;
	if (len > MLS_MAX_EXTENSION_DATA_LEN)
		return BW_ERR_TOO_LONG;
	if ((rc = extension_slot(&e->list, type, &x)) != 0)
		return rc;
	return bw_bytes_set(&x->data, data, len);
}

int mls_extensions_add_external_sender(struct mls_extensions *e,
				       const uint8_t *signature_key,
				       size_t signature_key_len,
				       const struct mls_credential *c)
{
	struct mls_extension *x;
	struct bw_writer w;
	int rc;

	if (signature_key_len == 0 || signature_key_len > MLS_MAX_KEY_LEN)
		return MLS_ERR_INVALID_ARG;
	if ((rc = extension_slot(&e->list, MLS_EXT_EXTERNAL_SENDERS, &x)) != 0)
		return rc;
	/* ExternalSender external_senders<V>: re-open the vector and append
	 * one entry. */
	bw_writer_init(&w, MLS_MAX_EXTENSION_DATA_LEN);
	size_t mark = bw_write_vector_begin(&w);
	if (x->data.len > 0) {
		struct bw_reader r, body;

		bw_reader_init(&r, x->data.p, x->data.len);
		bw_read_vector(&r, MLS_MAX_EXTENSION_DATA_LEN, &body);
		if ((rc = bw_reader_finish(&r)) != 0)
			goto out;
		bw_write_bytes(&w, body.p, body.len);
	}
	bw_write_opaque(&w, signature_key, signature_key_len);
	mls_credential_encode(c, &w);
	bw_write_vector_end(&w, mark);
	if ((rc = w.err) != 0)
		goto out;
	bw_bytes_clear(&x->data);
	rc = bw_bytes_set(&x->data, w.buf, w.len);
out:
	bw_writer_free(&w);
	return rc;
}

int mls_extensions_set_required_capabilities(
	struct mls_extensions *e, const uint16_t *extension_types,
	size_t n_extension_types, const uint16_t *proposal_types,
	size_t n_proposal_types, const uint16_t *credential_types,
	size_t n_credential_types)
{
	const uint16_t *lists[3] = { extension_types, proposal_types,
				     credential_types };
	const size_t counts[3] = { n_extension_types, n_proposal_types,
				   n_credential_types };
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, MLS_MAX_EXTENSION_DATA_LEN);
	for (size_t l = 0; l < 3; l++) {
		size_t mark = bw_write_vector_begin(&w);

		for (size_t i = 0; i < counts[l]; i++)
			bw_write_u16(&w, lists[l][i]);
		bw_write_vector_end(&w, mark);
	}
	if ((rc = w.err) == 0)
		rc = mls_extensions_set(e, MLS_EXT_REQUIRED_CAPABILITIES, w.buf,
					w.len);
	bw_writer_free(&w);
	return rc;
}

/* ---- results ---- */

void mls_member_changes_free(struct mls_member_change *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		mls_credential_free(v[i].credential);
		free(v[i].signature_key);
	}
	free(v);
}

void mls_process_result_clear(struct mls_process_result *r)
{
	bw_free_secret(r->data, r->data_len);
	free(r->authenticated_data);
	mls_member_changes_free(r->added, r->n_added);
	mls_member_changes_free(r->removed, r->n_removed);
	memset(r, 0, sizeof(*r));
}

void mls_commit_output_clear(struct mls_commit_output *o)
{
	free(o->commit);
	free(o->welcome);
	free(o->group_info);
	memset(o, 0, sizeof(*o));
}

/* ---- key package bundles ---- */

void mls_config_lifetime(const struct mls_config *cfg,
			 struct mls_lifetime *out)
{
	uint64_t now = cfg->now != 0 ? cfg->now : (uint64_t)time(NULL);
	uint64_t life = cfg->key_package_lifetime != 0 ?
				cfg->key_package_lifetime :
				MLS_DEFAULT_KEY_PACKAGE_LIFETIME;

	out->not_before = now > MLS_KEY_PACKAGE_SKEW ?
				  now - MLS_KEY_PACKAGE_SKEW : 0;
	out->not_after = now + life;
}

void mls_key_package_bundle_free(struct mls_key_package_bundle *b)
{
	if (b == NULL)
		return;
	mls_key_package_clear(&b->kp);
	mls_key_package_secrets_clear(&b->secrets);
	bw_bytes_clear(&b->sig_priv);
	free(b);
}

int mls_key_package_bundle_new(const struct mls_config *cfg,
			       const struct mls_signer *signer,
			       struct mls_key_package_bundle **out)
{
	struct mls_key_package_params p = { 0 };
	struct mls_key_package_bundle *b;
	int rc;

	*out = NULL;
	if (!signer->has_credential)
		return MLS_ERR_INVALID_ARG;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return BW_ERR_NOMEM;
	b->suite = signer->suite;
	p.credential = &signer->credential;
	mls_config_lifetime(cfg, &p.lifetime);
	if ((rc = mls_key_package_create(b->suite, &p, signer->priv.p,
					 signer->priv.len, &b->kp,
					 &b->secrets)) != 0 ||
	    (rc = bw_bytes_set(&b->sig_priv, signer->priv.p,
			       signer->priv.len)) != 0 ||
	    (rc = mls_key_package_ref(b->suite, &b->kp, b->ref)) != 0) {
		mls_key_package_bundle_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

/* priv is the private key of the KEM public key pub. */
static int hpke_key_matches(const struct mls_suite *s, const uint8_t *priv,
			    size_t priv_len, const struct bw_bytes *pub)
{
	struct bw_bytes derived = { 0 };
	int rc;

	if ((rc = hpke_public_key(s->kem_id, priv, priv_len, &derived)) != 0)
		return rc;
	rc = mls_bytes_equal(&derived, pub) ? 0 : MLS_ERR_BAD_KEY;
	bw_bytes_clear(&derived);
	return rc;
}

/* Fill b's keys and ref from the private keys of its KeyPackage. */
static int bundle_set_keys(struct mls_key_package_bundle *b,
			   const uint8_t *init_priv, size_t init_len,
			   const uint8_t *enc_priv, size_t enc_len,
			   const uint8_t *sig_priv, size_t sig_len)
{
	struct bw_bytes sig_pub = { 0 };
	int rc;

	if ((rc = hpke_key_matches(b->suite, init_priv, init_len,
				   &b->kp.init_key)) != 0 ||
	    (rc = hpke_key_matches(b->suite, enc_priv, enc_len,
				   &b->kp.leaf_node.encryption_key)) != 0 ||
	    (rc = mls_sig_public(b->suite, sig_priv, sig_len, &sig_pub)) != 0)
		goto out;
	if (!mls_bytes_equal(&sig_pub, &b->kp.leaf_node.signature_key)) {
		rc = MLS_ERR_BAD_KEY;
		goto out;
	}
	if ((rc = bw_bytes_set(&b->secrets.init_priv, init_priv, init_len)) !=
		    0 ||
	    (rc = bw_bytes_set(&b->secrets.encryption_priv, enc_priv,
			       enc_len)) != 0 ||
	    (rc = bw_bytes_set(&b->sig_priv, sig_priv, sig_len)) != 0)
		goto out;
	rc = mls_key_package_ref(b->suite, &b->kp, b->ref);
out:
	bw_bytes_clear(&sig_pub);
	return rc;
}

int mls_key_package_bundle_import(const uint8_t *key_package, size_t len,
				  const uint8_t *init_priv, size_t init_len,
				  const uint8_t *encryption_priv,
				  size_t encryption_len,
				  const uint8_t *signature_priv,
				  size_t signature_len,
				  struct mls_key_package_bundle **out)
{
	struct mls_message m;
	struct mls_key_package_bundle *b = NULL;
	int rc;

	*out = NULL;
	if ((rc = mls_message_decode(key_package, len, &m)) != 0)
		return rc;
	if (m.wire_format != MLS_WIRE_FORMAT_KEY_PACKAGE) {
		rc = MLS_ERR_WIRE_FORMAT;
		goto out;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		rc = BW_ERR_NOMEM;
		goto out;
	}
	if ((b->suite = mls_suite_get(m.key_package.cipher_suite)) == NULL) {
		rc = MLS_ERR_UNSUPPORTED_SUITE;
		goto out;
	}
	b->kp = m.key_package;
	memset(&m.key_package, 0, sizeof(m.key_package)); /* moved */
	if ((rc = bundle_set_keys(b, init_priv, init_len, encryption_priv,
				  encryption_len, signature_priv,
				  signature_len)) != 0)
		goto out;
	*out = b;
	b = NULL; /* transferred */
out:
	mls_key_package_bundle_free(b);
	mls_message_clear(&m);
	return rc;
}

int mls_key_package_bundle_message(const struct mls_key_package_bundle *b,
				   uint8_t **out, size_t *out_len)
{
	struct bw_writer w;
	int rc;

	bw_writer_init(&w, 0);
	bw_write_u16(&w, MLS_PROTOCOL_VERSION_MLS10);
	bw_write_u16(&w, MLS_WIRE_FORMAT_KEY_PACKAGE);
	mls_key_package_encode(&b->kp, &w);
	rc = bw_writer_take(&w, out, out_len);
	bw_writer_free(&w);
	return rc;
}

int mls_key_package_bundle_save(const struct mls_key_package_bundle *b,
				const uint8_t key[MLS_STATE_KEY_LEN],
				uint8_t **out, size_t *out_len)
{
	struct bw_writer w;
	int rc;

	*out = NULL;
	*out_len = 0;
	bw_writer_init(&w, 0);
	mls_key_package_encode(&b->kp, &w);
	mls_write_bytes(&w, &b->secrets.init_priv);
	mls_write_bytes(&w, &b->secrets.encryption_priv);
	mls_write_bytes(&w, &b->sig_priv);
	if ((rc = w.err) == 0)
		rc = mls_state_seal(STATE_KIND_BUNDLE, key, w.buf, w.len, out,
				    out_len);
	bw_writer_free(&w);
	return rc;
}

int mls_key_package_bundle_load(const uint8_t key[MLS_STATE_KEY_LEN],
				const uint8_t *p, size_t n,
				struct mls_key_package_bundle **out)
{
	struct mls_key_package_bundle *b = NULL;
	const uint8_t *ip = NULL, *ep = NULL, *sp = NULL;
	size_t il = 0, el = 0, sl = 0, pt_len = 0;
	uint8_t *pt = NULL;
	struct bw_reader r;
	int rc;

	*out = NULL;
	if ((rc = mls_state_open(STATE_KIND_BUNDLE, key, p, n, &pt,
				 &pt_len)) != 0)
		return rc;
	rc = MLS_ERR_STATE_CORRUPT;
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		rc = BW_ERR_NOMEM;
		goto out;
	}
	bw_reader_init(&r, pt, pt_len);
	if (mls_key_package_decode(&r, &b->kp) != 0)
		goto out;
	bw_read_opaque(&r, MLS_MAX_KEY_LEN, &ip, &il);
	bw_read_opaque(&r, MLS_MAX_KEY_LEN, &ep, &el);
	bw_read_opaque(&r, MLS_MAX_KEY_LEN, &sp, &sl);
	if (bw_reader_finish(&r) != 0 ||
	    (b->suite = mls_suite_get(b->kp.cipher_suite)) == NULL ||
	    bundle_set_keys(b, ip, il, ep, el, sp, sl) != 0)
		goto out;
	*out = b;
	b = NULL; /* transferred */
	rc = 0;
out:
	mls_key_package_bundle_free(b);
	bw_free_secret(pt, pt_len);
	return rc;
}

/*
 * keystore_format.c - the keystore file format (keystore.h): header,
 * digest, scrypt keys, AES-256-GCM seal and the payload of entries. Pure
 * functions over buffers, so that the fuzz target drives them directly.
 */
#include "keystore.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "codec.h"

/* ---- header ---- */

/* The cost of a new keystore: the default, unless the test-only variable
 * KS_TEST_COST_ENV asks for less (never more, never below the minimum a
 * file may carry), so that integration tests creating many keystores run
 * in seconds. Unset, as in production, it changes nothing. */
static uint8_t new_log2_n(void)
{
	const char *v = getenv(KS_TEST_COST_ENV);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return KS_SCRYPT_LOG2_N;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < KS_SCRYPT_MIN_LOG2_N || n > KS_SCRYPT_LOG2_N)
		return KS_SCRYPT_LOG2_N;
	return (uint8_t)n;
}

int ks_header_init(struct ks_header *h)
{
	memset(h, 0, sizeof(*h));
	h->version = KS_VERSION;
	h->kdf = KS_KDF_SCRYPT;
	h->log2_n = new_log2_n();
	h->r = KS_SCRYPT_R;
	h->p = KS_SCRYPT_P;
	return RAND_bytes(h->salt, KS_SALT_LEN) == 1 ? 0 : BULWARK_ERR_KS_CRYPTO;
}

static bool kdf_params_ok(const struct ks_header *h)
{
	return h->kdf == KS_KDF_SCRYPT && h->log2_n >= KS_SCRYPT_MIN_LOG2_N &&
	       h->log2_n <= KS_SCRYPT_MAX_LOG2_N && h->r >= 1 &&
	       h->r <= KS_SCRYPT_MAX_R && h->p >= 1 && h->p <= KS_SCRYPT_MAX_P &&
	       ((uint64_t)128 * h->r << h->log2_n) <= KS_SCRYPT_MAX_MEM;
}

static void header_encode(struct bw_writer *w, const struct ks_header *h)
{
	bw_write_bytes(w, KS_MAGIC, KS_MAGIC_LEN);
	bw_write_u16(w, h->version);
	bw_write_u8(w, h->kdf);
	bw_write_u8(w, h->log2_n);
	bw_write_u8(w, h->r);
	bw_write_u8(w, h->p);
	bw_write_bytes(w, h->salt, KS_SALT_LEN);
	bw_write_bytes(w, h->check, KS_CHECK_LEN);
	bw_write_bytes(w, h->nonce, KS_NONCE_LEN);
}

/* Magic and version first, so that a foreign file or a newer format gets
 * its own error rather than "corrupt". */
static int magic_version_check(const uint8_t *buf, size_t len)
{
	const uint8_t *magic;
	uint16_t version;
	struct bw_reader r;

	bw_reader_init(&r, buf, len);
	if (bw_read_bytes(&r, KS_MAGIC_LEN, &magic) != 0 ||
	    memcmp(magic, KS_MAGIC, KS_MAGIC_LEN) != 0)
		return BULWARK_ERR_KS_NOT_KEYSTORE;
	if (bw_read_u16(&r, &version) != 0)
		return BULWARK_ERR_KS_CORRUPT;
	return version == KS_VERSION ? 0 : BULWARK_ERR_KS_VERSION;
}

static int read_fixed(struct bw_reader *r, uint8_t *dst, size_t n)
{
	const uint8_t *p;
	int rc;

	if ((rc = bw_read_bytes(r, n, &p)) == 0)
		memcpy(dst, p, n);
	return rc;
}

static int header_decode(struct bw_reader *r, struct ks_header *h)
{
	const uint8_t *magic;

	bw_read_bytes(r, KS_MAGIC_LEN, &magic);
	bw_read_u16(r, &h->version);
	bw_read_u8(r, &h->kdf);
	bw_read_u8(r, &h->log2_n);
	bw_read_u8(r, &h->r);
	bw_read_u8(r, &h->p);
	read_fixed(r, h->salt, KS_SALT_LEN);
	read_fixed(r, h->check, KS_CHECK_LEN);
	read_fixed(r, h->nonce, KS_NONCE_LEN);
	if (r->err != 0 || !kdf_params_ok(h))
		return BULWARK_ERR_KS_CORRUPT;
	return 0;
}

static int digest_check(const uint8_t *body, size_t n, const uint8_t *want)
{
	uint8_t got[KS_DIGEST_LEN];

	if (EVP_Digest(body, n, got, NULL, EVP_sha256(), NULL) != 1)
		return BULWARK_ERR_KS_CRYPTO;
	return CRYPTO_memcmp(got, want, KS_DIGEST_LEN) == 0 ?
		       0 : BULWARK_ERR_KS_CORRUPT;
}

int ks_file_decode(const uint8_t *buf, size_t len, struct ks_file *f)
{
	struct bw_reader r;
	size_t body_len;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = magic_version_check(buf, len)) != 0)
		return rc;
	if (len > KS_MAX_FILE_LEN)
		return BULWARK_ERR_KS_TOO_LARGE;
	if (len < KS_HEADER_LEN + 1 + KS_TAG_LEN + KS_DIGEST_LEN)
		return BULWARK_ERR_KS_CORRUPT;
	body_len = len - KS_DIGEST_LEN;
	if ((rc = digest_check(buf, body_len, buf + body_len)) != 0)
		return rc;
	bw_reader_init(&r, buf, body_len);
	if ((rc = header_decode(&r, &f->h)) != 0)
		return rc;
	f->aad = buf;
	f->aad_len = r.pos;
	if (bw_read_opaque(&r, KS_MAX_PAYLOAD_LEN + KS_TAG_LEN, &f->sealed,
			   &f->sealed_len) != 0 ||
	    f->sealed_len < KS_TAG_LEN || bw_reader_finish(&r) != 0) {
		memset(f, 0, sizeof(*f));
		return BULWARK_ERR_KS_CORRUPT;
	}
	return 0;
}

/* ---- keys and seal ---- */

int ks_passphrase_check(const char *passphrase)
{
	size_t n;

	if (passphrase == NULL)
		return BW_ERR_INVALID_ARG;
	n = strnlen(passphrase, BULWARK_PASSPHRASE_MAX_LEN + 1);
	if (n == 0)
		return BULWARK_ERR_PASSPHRASE_EMPTY;
	return n > BULWARK_PASSPHRASE_MAX_LEN ? BULWARK_ERR_PASSPHRASE_TOO_LONG : 0;
}

int ks_derive_keys(const char *passphrase, const struct ks_header *h,
		   struct ks_keys *k)
{
	uint8_t out[KS_KEY_LEN + KS_CHECK_LEN];
	uint64_t n, maxmem = KS_SCRYPT_MAX_MEM + KS_SCRYPT_MAX_MEM / 8;
	uint32_t r, p;
	OSSL_PARAM params[7];
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	int rc;

	if ((rc = ks_passphrase_check(passphrase)) != 0)
		return rc;
	if (!kdf_params_ok(h))
		return BULWARK_ERR_KS_CORRUPT;
	n = (uint64_t)1 << h->log2_n;
	r = h->r;
	p = h->p;
	rc = BULWARK_ERR_KS_CRYPTO;
	if ((kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_PASSWORD, (void *)passphrase, strlen(passphrase));
	params[1] = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_SALT, (void *)h->salt, KS_SALT_LEN);
	params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	/* a little above 128*r*N, which kdf_params_ok() bounded */
	params[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM,
						&maxmem);
	params[6] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, sizeof(out), params) != 1)
		goto out;
	/* Two separate output blocks of scrypt's final PBKDF2 step: the AES
	 * key, and the check value that may be stored in the clear. */
	memcpy(k->aead, out, KS_KEY_LEN);
	memcpy(k->check, out + KS_KEY_LEN, KS_CHECK_LEN);
	rc = 0;
out:
	OPENSSL_cleanse(out, sizeof(out));
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

/* AES-256-GCM in either direction over n bytes; tag is read (open) or
 * written (seal). */
static int gcm(bool seal, const struct ks_keys *k, const uint8_t *nonce,
	       const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t n,
	       uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER *aes = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int outl, rc = BULWARK_ERR_KS_CRYPTO;

	if (aes == NULL || ctx == NULL || aad_len > INT_MAX || n > INT_MAX ||
	    EVP_CipherInit_ex2(ctx, aes, k->aead, nonce, seal, NULL) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1 ||
	    (n > 0 && EVP_CipherUpdate(ctx, out, &outl, in, (int)n) != 1))
		goto out;
	if (!seal && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, KS_TAG_LEN,
					 tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + n, &outl) != 1) {
		rc = seal ? BULWARK_ERR_KS_CRYPTO : BULWARK_ERR_KS_CORRUPT;
		goto out;
	}
	if (seal && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, KS_TAG_LEN,
					tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(aes);
	return rc;
}

int ks_payload_open(const struct ks_file *f, const struct ks_keys *k,
		    uint8_t **pt, size_t *pt_len)
{
	size_t n = f->sealed_len - KS_TAG_LEN;
	uint8_t *buf;
	int rc;

	*pt = NULL;
	*pt_len = 0;
	if (!bw_ct_eq(k->check, f->h.check, KS_CHECK_LEN))
		return BULWARK_ERR_KS_PASSPHRASE;
	if ((buf = malloc(n ? n : 1)) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = gcm(false, k, f->h.nonce, f->aad, f->aad_len, f->sealed, n,
		      buf, (uint8_t *)f->sealed + n)) != 0) {
		bw_free_secret(buf, n ? n : 1);
		return rc;
	}
	*pt = buf;
	*pt_len = n;
	return 0;
}

int ks_file_encode(const struct ks_header *h, const struct ks_keys *k,
		   const uint8_t *pt, size_t pt_len, uint8_t **out,
		   size_t *out_len)
{
	struct ks_header sealed_h = *h;
	uint8_t digest[KS_DIGEST_LEN];
	struct bw_writer w;
	uint8_t *ct;
	int rc;

	*out = NULL;
	*out_len = 0;
	if (pt_len > KS_MAX_PAYLOAD_LEN)
		return BULWARK_ERR_KS_TOO_LARGE;
	memcpy(sealed_h.check, k->check, KS_CHECK_LEN);
	bw_writer_init(&w, KS_MAX_FILE_LEN);
	header_encode(&w, &sealed_h);
	bw_write_varint(&w, (uint32_t)(pt_len + KS_TAG_LEN));
	/* reserve before taking pointers: the writer may move its buffer */
	if ((ct = bw_write_reserve(&w, pt_len + KS_TAG_LEN)) == NULL) {
		rc = w.err;
		goto out;
	}
	if ((rc = gcm(true, k, sealed_h.nonce, w.buf, KS_HEADER_LEN, pt, pt_len,
		      ct, ct + pt_len)) != 0)
		goto out;
	rc = BULWARK_ERR_KS_CRYPTO;
	if (EVP_Digest(w.buf, w.len, digest, NULL, EVP_sha256(), NULL) != 1)
		goto out;
	bw_write_bytes(&w, digest, sizeof(digest));
	rc = bw_writer_take(&w, out, out_len);
out:
	bw_writer_free(&w);
	return rc;
}

/* ---- entries ---- */

int ks_name_check(const char *name, size_t len)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789._:/-";

	if (name == NULL || len == 0 || len > BULWARK_KS_MAX_NAME_LEN)
		return BULWARK_ERR_KS_NAME;
	for (size_t i = 0; i < len; i++)
		if (name[i] == '\0' || strchr(allowed, name[i]) == NULL)
			return BULWARK_ERR_KS_NAME;
	return 0;
}

void ks_entries_clear(struct ks_entries *es)
{
	for (size_t i = 0; i < es->n; i++) {
		free(es->e[i].name);
		bw_bytes_clear(&es->e[i].value);
	}
	free(es->e);
	es->e = NULL;
	es->n = 0;
}

bool ks_entries_find(const struct ks_entries *es, const char *name,
		     size_t *idx)
{
	size_t i = 0;
	int cmp = 1;

	while (i < es->n && (cmp = strcmp(es->e[i].name, name)) < 0)
		i++;
	*idx = i;
	return i < es->n && cmp == 0;
}

int ks_entries_insert(struct ks_entries *es, size_t idx, char *name,
		      struct bw_bytes *value)
{
	struct ks_entry *e;

	if (es->n >= BULWARK_KS_MAX_ENTRIES)
		return BULWARK_ERR_KS_FULL;
	if ((e = realloc(es->e, (es->n + 1) * sizeof(*e))) == NULL)
		return BW_ERR_NOMEM;
	memmove(e + idx + 1, e + idx, (es->n - idx) * sizeof(*e));
	e[idx].name = name;
	e[idx].value = *value;
	*value = (struct bw_bytes){ 0 };
	es->e = e;
	es->n++;
	return 0;
}

void ks_entries_remove(struct ks_entries *es, size_t idx,
		       struct ks_entry *out)
{
	*out = es->e[idx];
	memmove(es->e + idx, es->e + idx + 1,
		(es->n - idx - 1) * sizeof(*es->e));
	es->n--;
}

void ks_entries_restore(struct ks_entries *es, size_t idx,
			const struct ks_entry *e)
{
	memmove(es->e + idx + 1, es->e + idx, (es->n - idx) * sizeof(*es->e));
	es->e[idx] = *e;
	es->n++;
}

void ks_entry_clear(struct ks_entry *e)
{
	free(e->name);
	bw_bytes_clear(&e->value);
	e->name = NULL;
}

/* One entry of the payload, appended to es; names strictly ascending. */
static int entry_decode(struct bw_reader *r, struct ks_entries *es)
{
	const uint8_t *name, *value;
	size_t name_len, value_len;
	struct bw_bytes v = { 0 };
	char *copy;
	int rc;

	if (bw_read_opaque(r, BULWARK_KS_MAX_NAME_LEN, &name, &name_len) != 0 ||
	    bw_read_opaque(r, BULWARK_KS_MAX_VALUE_LEN, &value, &value_len) != 0 ||
	    ks_name_check((const char *)name, name_len) != 0)
		return BULWARK_ERR_KS_CORRUPT;
	if ((copy = strndup((const char *)name, name_len)) == NULL)
		return BW_ERR_NOMEM;
	if (es->n > 0 && strcmp(es->e[es->n - 1].name, copy) >= 0) {
		free(copy);
		return BULWARK_ERR_KS_CORRUPT; /* unsorted or duplicate */
	}
	if ((rc = bw_bytes_set(&v, value, value_len)) != 0 ||
	    (rc = ks_entries_insert(es, es->n, copy, &v)) != 0) {
		free(copy);
		bw_bytes_clear(&v);
		return rc == BULWARK_ERR_KS_FULL ? BULWARK_ERR_KS_CORRUPT : rc;
	}
	return 0;
}

int ks_entries_decode(const uint8_t *pt, size_t n, struct ks_entries *out)
{
	struct ks_entries es = { 0 };
	struct bw_reader r, list;
	int rc = BULWARK_ERR_KS_CORRUPT;

	bw_reader_init(&r, pt, n);
	if (bw_read_vector(&r, KS_MAX_PAYLOAD_LEN, &list) != 0 ||
	    bw_reader_finish(&r) != 0)
		goto out;
	while (bw_reader_remaining(&list) > 0)
		if ((rc = entry_decode(&list, &es)) != 0)
			goto out;
	*out = es;
	es = (struct ks_entries){ 0 }; /* transferred */
	rc = 0;
out:
	ks_entries_clear(&es);
	return rc;
}

int ks_entries_encode(const struct ks_entries *es, uint8_t **out,
		      size_t *out_len)
{
	struct bw_writer w;
	size_t mark;
	int rc;

	bw_writer_init(&w, KS_MAX_PAYLOAD_LEN);
	mark = bw_write_vector_begin(&w);
	for (size_t i = 0; i < es->n; i++) {
		bw_write_opaque(&w, es->e[i].name, strlen(es->e[i].name));
		bw_write_opaque(&w, es->e[i].value.p, es->e[i].value.len);
	}
	bw_write_vector_end(&w, mark);
	rc = bw_writer_take(&w, out, out_len);
	bw_writer_free(&w);
	return rc == BW_ERR_WRITER_FULL ? BULWARK_ERR_KS_TOO_LARGE : rc;
}

/* tls_record.c - TLS 1.3 records after the handshake (tls_record.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include "tls_record.h"

/* Content types (§5.1) and the one post-handshake message taken
 * (§4.6.3; a client refuses NewSessionTicket: tickets are off). */
enum { CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPLICATION = 23 };
enum { HS_KEY_UPDATE = 24 };
enum { KEY_UPDATE_NOT_REQUESTED = 0, KEY_UPDATE_REQUESTED = 1 };
enum { ALERT_WARNING = 1, ALERT_FATAL = 2 };

/* §5.2: a protected record's length limit; §5.4: its inner plaintext's
 * (content, type, padding). */
#define MAX_CIPHERTEXT (TLS_REC_MAX_PLAIN + 256u)
#define MAX_INNER (TLS_REC_MAX_PLAIN + 1u)
/* §5.5: an AES-GCM key protects at most 2^24.5 records; this side moves
 * to its next key well before. */
#define TX_RECORDS_PER_KEY (1ull << 23)

struct suite {
	uint32_t id; /* SSL_CIPHER_get_id() */
	const char *cipher, *digest;
	uint8_t key_len, secret_len;
};

static const struct suite suites[TLS_REC_NSUITES] = {
	[TLS_REC_AES_128_GCM] = { 0x03001301, "AES-128-GCM", "SHA256", 16, 32 },
	[TLS_REC_AES_256_GCM] = { 0x03001302, "AES-256-GCM", "SHA384", 32, 48 },
	[TLS_REC_CHACHA20_POLY1305] = { 0x03001303, "ChaCha20-Poly1305",
					"SHA256", 32, 32 },
};

/* ---- the thread's contexts ---- */

int tls_rec_ctx_init(struct tls_rec_ctx *x)
{
	EVP_CIPHER *cipher;
	EVP_KDF *kdf;

	memset(x, 0, sizeof(*x));
	for (int i = 0; i < TLS_REC_NSUITES; i++) {
		cipher = EVP_CIPHER_fetch(NULL, suites[i].cipher, NULL);
		x->aead[i] = cipher != NULL ? EVP_CIPHER_CTX_new() : NULL;
		/* The context holds its own reference to the cipher. */
		if (x->aead[i] == NULL ||
		    EVP_CipherInit_ex(x->aead[i], cipher, NULL, NULL, NULL,
				      1) != 1) {
			EVP_CIPHER_free(cipher);
			tls_rec_ctx_clear(x);
			return -1;
		}
		EVP_CIPHER_free(cipher);
	}
	kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_3_KDF, NULL);
	x->kdf = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	x->ra = malloc(TLS_REC_READ_AHEAD);
	if (x->kdf == NULL || x->ra == NULL) {
		tls_rec_ctx_clear(x);
		return -1;
	}
	return 0;
}

/* The read-ahead forgets its bytes and its owner. */
static void ra_reset(struct tls_rec_ctx *x)
{
	if (x->ra != NULL)
		OPENSSL_cleanse(x->ra, x->ra_len);
	if (x->ra_owner != NULL)
		x->ra_owner->ra_ctx = NULL;
	x->ra_owner = NULL;
	x->ra_off = x->ra_len = 0;
	x->ra_drained = false;
}

void tls_rec_ctx_clear(struct tls_rec_ctx *x)
{
	ra_reset(x);
	free(x->ra);
	for (int i = 0; i < TLS_REC_NSUITES; i++)
		EVP_CIPHER_CTX_free(x->aead[i]);
	EVP_KDF_CTX_free(x->kdf);
	memset(x, 0, sizeof(*x));
}

/* ---- keys ---- */

/* HKDF-Expand-Label(secret, label, "", n) (§7.1). */
static int expand_label(struct tls_rec_ctx *x, const struct suite *s,
			const uint8_t *secret, const char *label, uint8_t *out,
			size_t n)
{
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						 (char *)s->digest, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						  (void *)secret,
						  s->secret_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX,
						  (void *)"tls13 ", 6),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL,
						  (void *)label,
						  strlen(label)),
		OSSL_PARAM_construct_end(),
	};

	EVP_KDF_CTX_reset(x->kdf);
	return EVP_KDF_derive(x->kdf, out, n, params) == 1 ? 0 : -1;
}

/* §7.3: the key and IV of a traffic secret; the sequence restarts. */
static int install(struct tls_rec_ctx *x, const struct suite *s,
		   struct tls_rec_keys *k)
{
	k->seq = 0;
	if (expand_label(x, s, k->secret, "key", k->key, s->key_len) != 0 ||
	    expand_label(x, s, k->secret, "iv", k->iv, TLS_REC_IV_LEN) != 0)
		return -1;
	return 0;
}

/* §7.2: application_traffic_secret_N+1 and its key. */
static int next_key(struct tls_rec *r, struct tls_rec_ctx *x,
		    struct tls_rec_keys *k)
{
	const struct suite *s = &suites[r->suite];
	uint8_t next[TLS_REC_MAX_SECRET];
	int rc = -1;

	if (expand_label(x, s, k->secret, "traffic upd", next,
			 s->secret_len) != 0)
		goto out;
	memcpy(k->secret, next, s->secret_len);
	rc = install(x, s, k);
out:
	OPENSSL_cleanse(next, sizeof(next));
	return rc;
}

void tls_rec_keylog(struct tls_rec *r, const char *line)
{
	static const char client[] = "CLIENT_TRAFFIC_SECRET_0 ";
	static const char server[] = "SERVER_TRAFFIC_SECRET_0 ";
	struct tls_rec_keys *k;
	const char *hex;
	size_t n = 0;
	uint8_t bit;

	/* Kept as the server uses them (it reads with the client's secret);
	 * tls_rec_start swaps them for a client. */
	if (strncmp(line, client, sizeof(client) - 1) == 0) {
		k = &r->rx;
		bit = 1;
	} else if (strncmp(line, server, sizeof(server) - 1) == 0) {
		k = &r->tx;
		bit = 2;
	} else {
		return;
	}
	/* "<label> <client random> <secret>", in hex. */
	if ((hex = strrchr(line, ' ')) == NULL ||
	    OPENSSL_hexstr2buf_ex(k->secret, sizeof(k->secret), &n, hex + 1,
				  '\0') != 1 ||
	    (r->have != 0 && n != r->secret_len)) {
		OPENSSL_cleanse(k->secret, sizeof(k->secret));
		return;
	}
	r->secret_len = (uint8_t)n;
	r->have |= bit;
}

int tls_rec_start(struct tls_rec *r, struct tls_rec_ctx *x, const SSL *ssl)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	uint32_t id = c != NULL ? SSL_CIPHER_get_id(c) : 0;
	int i;

	for (i = 0; i < TLS_REC_NSUITES && suites[i].id != id; i++)
		;
	if (i == TLS_REC_NSUITES || SSL_version(ssl) != TLS1_3_VERSION ||
	    r->have != 3 || r->secret_len != suites[i].secret_len)
		return -1;
	r->suite = (uint8_t)i;
	if (!SSL_is_server(ssl)) {
		struct tls_rec_keys server = r->rx;

		r->rx = r->tx;
		r->tx = server;
		OPENSSL_cleanse(&server, sizeof(server));
	}
	if (install(x, &suites[i], &r->rx) != 0 ||
	    install(x, &suites[i], &r->tx) != 0)
		return -1;
	return 0;
}

void tls_rec_clear(struct tls_rec *r)
{
	if (r->ra_ctx != NULL && r->ra_ctx->ra_owner == r)
		ra_reset(r->ra_ctx);
	if (r->body != NULL && !r->body_borrowed)
		OPENSSL_clear_free(r->body, r->body_len);
	if (r->stash != NULL)
		OPENSSL_clear_free(r->stash, r->stash_len);
	OPENSSL_cleanse(r, sizeof(*r));
}

void tls_rec_forget_keys(struct tls_rec *r)
{
	OPENSSL_cleanse(&r->rx, sizeof(r->rx));
	OPENSSL_cleanse(&r->tx, sizeof(r->tx));
	r->have = 0;
	r->secret_len = 0;
}

/* §5.3: the IV XOR the record's sequence number, left-padded. */
static void record_nonce(const struct tls_rec_keys *k,
			 uint8_t out[TLS_REC_IV_LEN])
{
	memcpy(out, k->iv, TLS_REC_IV_LEN);
	for (int i = 0; i < 8; i++)
		out[TLS_REC_IV_LEN - 1 - i] ^= (uint8_t)(k->seq >> (8 * i));
}

/* ---- writing ---- */

/* One record of content type `type` holding p[0..n), n <= 2^14. */
static int seal_one(struct tls_rec *r, struct tls_rec_ctx *x, uint8_t type,
		    const uint8_t *p, size_t n, struct bw_writer *out)
{
	EVP_CIPHER_CTX *ctx = x->aead[r->suite];
	size_t clen = n + 1 + TLS_REC_TAG_LEN;
	uint8_t nonce[TLS_REC_IV_LEN], *rec, *body;
	int l1, l2, l3;

	if (r->tx.seq == UINT64_MAX ||
	    (rec = bw_write_reserve(out, TLS_REC_HEADER_LEN + clen)) == NULL)
		return -1;
	/* §5.2: opaque type application_data, legacy version 0x0303; the
	 * header is the additional data. */
	rec[0] = CT_APPLICATION;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (uint8_t)(clen >> 8);
	rec[4] = (uint8_t)clen;
	body = rec + TLS_REC_HEADER_LEN;
	record_nonce(&r->tx, nonce);
	if (EVP_CipherInit_ex(ctx, NULL, NULL, r->tx.key, nonce, 1) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &l1, rec, TLS_REC_HEADER_LEN) != 1 ||
	    EVP_CipherUpdate(ctx, body, &l1, p, (int)n) != 1 ||
	    EVP_CipherUpdate(ctx, body + l1, &l2, &type, 1) != 1 ||
	    EVP_CipherFinal_ex(ctx, body + l1 + l2, &l3) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TLS_REC_TAG_LEN,
				body + n + 1) != 1)
		return -1;
	r->tx.seq++;
	return 0;
}

/* §4.6.3: our KeyUpdate under the current key, then the next key. */
static int send_key_update(struct tls_rec *r, struct tls_rec_ctx *x,
			   struct bw_writer *out)
{
	static const uint8_t msg[] = { HS_KEY_UPDATE, 0, 0, 1,
				       KEY_UPDATE_NOT_REQUESTED };

	if (seal_one(r, x, CT_HANDSHAKE, msg, sizeof(msg), out) != 0 ||
	    next_key(r, x, &r->tx) != 0)
		return -1;
	r->key_update_due = false;
	return 0;
}

int tls_rec_seal(struct tls_rec *r, struct tls_rec_ctx *x, const uint8_t *p,
		 size_t n, struct bw_writer *out)
{
	size_t k;

	while (n > 0) {
		/* The peer's request is answered before our next application
		 * data, as §4.6.3 asks. */
		if ((r->key_update_due || r->tx.seq >= TX_RECORDS_PER_KEY) &&
		    send_key_update(r, x, out) != 0)
			return -1;
		k = n < TLS_REC_MAX_PLAIN ? n : TLS_REC_MAX_PLAIN;
		if (seal_one(r, x, CT_APPLICATION, p, k, out) != 0)
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

int tls_rec_seal_alert(struct tls_rec *r, struct tls_rec_ctx *x,
		       enum tls_alert alert, struct bw_writer *out)
{
	uint8_t msg[2] = { alert == TLS_ALERT_CLOSE_NOTIFY ? ALERT_WARNING
							   : ALERT_FATAL,
			   (uint8_t)alert };

	return seal_one(r, x, CT_ALERT, msg, sizeof(msg), out);
}

int tls_rec_send(int fd, const uint8_t *p, size_t n, size_t *sent)
{
	ssize_t k;

	*sent = 0;
	while (*sent < n) {
		k = send(fd, p + *sent, n - *sent, MSG_NOSIGNAL);
		if (k > 0)
			*sent += (size_t)k;
		else if (k < 0 && errno == EINTR)
			continue;
		else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		else
			return -1;
	}
	return 0;
}

/* ---- reading ---- */

static enum tls_rec_io fail(struct tls_rec *r, enum tls_alert alert)
{
	r->alert = (uint8_t)alert;
	return TLS_REC_FAIL;
}

static void drop_body(struct tls_rec *r)
{
	if (r->body_borrowed)
		OPENSSL_cleanse(r->body, r->body_len);
	else
		OPENSSL_clear_free(r->body, r->body_len);
	r->body_borrowed = false;
	r->body = NULL;
	r->body_len = r->body_got = 0;
	r->plain_off = r->plain_len = 0;
}

/* read() that retries on EINTR: > 0 bytes, or the outcome. */
static enum tls_rec_io read_some(int fd, uint8_t *p, size_t n, size_t *got)
{
	ssize_t k;

	do {
		k = read(fd, p, n);
	} while (k < 0 && errno == EINTR);
	if (k > 0) {
		*got = (size_t)k;
		return TLS_REC_DATA;
	}
	if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return TLS_REC_AGAIN;
	return TLS_REC_EOF; /* closed or reset: nothing to answer */
}

static uint8_t *copy_of(const uint8_t *p, size_t n)
{
	uint8_t *q = malloc(n);

	if (q != NULL)
		memcpy(q, p, n);
	return q;
}

void tls_rec_park(struct tls_rec *r, struct tls_rec_ctx *x)
{
	size_t left;
	uint8_t *body;

	if (r == NULL || x->ra_owner != r)
		return;
	left = x->ra_len - x->ra_off;
	if (r->body_borrowed) {
		/* Content the reader has not taken yet. */
		if ((body = copy_of(r->body, r->body_len)) == NULL)
			goto fail;
		r->body = body;
		r->body_borrowed = false;
	}
	if (left > 0 &&
	    (r->stash = copy_of(x->ra + x->ra_off, left)) == NULL)
		goto fail;
	r->stash_len = (uint32_t)left;
	r->stash_off = 0;
	ra_reset(x);
	return;
fail:
	/* The stream lost bytes: the next read ends the connection. */
	r->parked_bad = true;
	ra_reset(x);
}

/* One read() of all the socket holds into the thread's read-ahead, which
 * becomes r's; what another connection left there is parked first. */
static enum tls_rec_io read_ahead(struct tls_rec *r, struct tls_rec_ctx *x,
				  int fd)
{
	bool drained = x->ra_owner == r && x->ra_drained;
	enum tls_rec_io io;
	size_t got;

	tls_rec_park(x->ra_owner, x);
	if (drained)
		return TLS_REC_AGAIN;
	if ((io = read_some(fd, x->ra, TLS_REC_READ_AHEAD, &got)) !=
	    TLS_REC_DATA)
		return io;
	x->ra_owner = r;
	r->ra_ctx = x;
	x->ra_len = got;
	x->ra_drained = got < TLS_REC_READ_AHEAD;
	return TLS_REC_DATA;
}

/* Up to n bytes of r's stream: what its last turn left, else the
 * read-ahead, else the socket. */
static enum tls_rec_io take_bytes(struct tls_rec *r, struct tls_rec_ctx *x,
				  int fd, uint8_t *p, size_t n, size_t *got)
{
	enum tls_rec_io io;
	size_t k;

	if (r->stash != NULL) {
		k = r->stash_len - r->stash_off;
		k = k < n ? k : n;
		memcpy(p, r->stash + r->stash_off, k);
		r->stash_off += (uint32_t)k;
		if (r->stash_off == r->stash_len) {
			OPENSSL_clear_free(r->stash, r->stash_len);
			r->stash = NULL;
			r->stash_len = r->stash_off = 0;
		}
		*got = k;
		return TLS_REC_DATA;
	}
	if ((x->ra_owner != r || x->ra_off == x->ra_len) &&
	    (io = read_ahead(r, x, fd)) != TLS_REC_DATA)
		return io;
	k = x->ra_len - x->ra_off;
	k = k < n ? k : n;
	memcpy(p, x->ra + x->ra_off, k);
	x->ra_off += k;
	*got = k;
	return TLS_REC_DATA;
}

enum tls_rec_io tls_rec_read_raw(struct tls_rec *r, struct tls_rec_ctx *x,
				 int fd, uint8_t *p, size_t n, size_t *got)
{
	*got = 0;
	if (r->parked_bad)
		return TLS_REC_EOF; /* the stream lost bytes */
	if (n == 0)
		return TLS_REC_DATA;
	return take_bytes(r, x, fd, p, n, got);
}

/* A record's body that lies whole in the read-ahead is opened there,
 * without a copy. */
static bool borrow_body(struct tls_rec *r, struct tls_rec_ctx *x,
			uint16_t len)
{
	if (r->stash != NULL || x->ra_owner != r ||
	    x->ra_len - x->ra_off < len)
		return false;
	r->body = x->ra + x->ra_off;
	r->body_borrowed = true;
	r->body_len = r->body_got = len;
	x->ra_off += len;
	return true;
}

/* The header, then the whole protected record. */
static enum tls_rec_io fill(struct tls_rec *r, struct tls_rec_ctx *x, int fd)
{
	enum tls_rec_io io;
	size_t got;
	uint16_t len;

	while (r->hdr_len < TLS_REC_HEADER_LEN) {
		io = take_bytes(r, x, fd, r->hdr + r->hdr_len,
				TLS_REC_HEADER_LEN - r->hdr_len, &got);
		if (io != TLS_REC_DATA)
			return io;
		r->hdr_len = (uint8_t)(r->hdr_len + got);
	}
	if (r->body == NULL) {
		len = (uint16_t)(r->hdr[3] << 8 | r->hdr[4]);
		/* §5.2: after the handshake every record is protected. */
		if (r->hdr[0] != CT_APPLICATION)
			return fail(r, TLS_ALERT_UNEXPECTED_MESSAGE);
		if (len > MAX_CIPHERTEXT)
			return fail(r, TLS_ALERT_RECORD_OVERFLOW);
		if (len < 1 + TLS_REC_TAG_LEN)
			return fail(r, TLS_ALERT_BAD_RECORD_MAC);
		if (borrow_body(r, x, len))
			return TLS_REC_DATA;
		if ((r->body = malloc(len)) == NULL)
			return fail(r, TLS_ALERT_INTERNAL_ERROR);
		r->body_len = len;
		r->body_got = 0;
	}
	while (r->body_got < r->body_len) {
		io = take_bytes(r, x, fd, r->body + r->body_got,
				r->body_len - r->body_got, &got);
		if (io != TLS_REC_DATA)
			return io;
		r->body_got = (uint16_t)(r->body_got + got);
	}
	return TLS_REC_DATA;
}

/* Decrypt the record in place; *n: its inner plaintext's length. */
static int open_body(struct tls_rec *r, struct tls_rec_ctx *x, size_t *n)
{
	EVP_CIPHER_CTX *ctx = x->aead[r->suite];
	size_t len = r->body_len - TLS_REC_TAG_LEN;
	uint8_t nonce[TLS_REC_IV_LEN];
	int l1, l2;

	if (r->rx.seq == UINT64_MAX)
		return -1;
	record_nonce(&r->rx, nonce);
	if (EVP_CipherInit_ex(ctx, NULL, NULL, r->rx.key, nonce, 0) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &l1, r->hdr, TLS_REC_HEADER_LEN) != 1 ||
	    EVP_CipherUpdate(ctx, r->body, &l1, r->body, (int)len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TLS_REC_TAG_LEN,
				r->body + len) != 1 ||
	    EVP_CipherFinal_ex(ctx, r->body + l1, &l2) != 1)
		return -1;
	r->rx.seq++;
	*n = len;
	return 0;
}

/* §6: close_notify ends the stream; user_canceled announces it; every
 * other alert is fatal in TLS 1.3 and ends it too, without an answer. */
static enum tls_rec_io on_alert(struct tls_rec *r, size_t n)
{
	if (n != 2)
		return fail(r, TLS_ALERT_DECODE_ERROR);
	if (r->body[1] == TLS_ALERT_USER_CANCELED)
		return TLS_REC_DATA;
	return TLS_REC_EOF;
}

/* §4.6.3: a KeyUpdate, alone in its record (§5.1: handshake messages do
 * not span a key change). */
static enum tls_rec_io on_handshake(struct tls_rec *r, struct tls_rec_ctx *x,
				    size_t n)
{
	const uint8_t *m = r->body;

	if (n < 4 || m[0] != HS_KEY_UPDATE)
		return fail(r, TLS_ALERT_UNEXPECTED_MESSAGE);
	if (n != 5 || m[1] != 0 || m[2] != 0 || m[3] != 1)
		return fail(r, TLS_ALERT_DECODE_ERROR);
	if (m[4] != KEY_UPDATE_NOT_REQUESTED && m[4] != KEY_UPDATE_REQUESTED)
		return fail(r, TLS_ALERT_ILLEGAL_PARAMETER);
	if (next_key(r, x, &r->rx) != 0)
		return fail(r, TLS_ALERT_INTERNAL_ERROR);
	if (m[4] == KEY_UPDATE_REQUESTED)
		r->key_update_due = true;
	return TLS_REC_DATA;
}

/* A whole record is in: decrypt it and act on its content type. */
static enum tls_rec_io take_record(struct tls_rec *r, struct tls_rec_ctx *x)
{
	enum tls_rec_io io;
	size_t n;
	uint8_t type;

	r->hdr_len = 0;
	if ((size_t)r->body_len - TLS_REC_TAG_LEN > MAX_INNER)
		return fail(r, TLS_ALERT_RECORD_OVERFLOW);
	if (open_body(r, x, &n) != 0)
		return fail(r, TLS_ALERT_BAD_RECORD_MAC);
	/* §5.4: the content type is the last non-zero byte; zeros after it
	 * are padding. */
	while (n > 0 && r->body[n - 1] == 0)
		n--;
	if (n == 0)
		return fail(r, TLS_ALERT_UNEXPECTED_MESSAGE);
	type = r->body[--n];
	switch (type) {
	case CT_APPLICATION:
		r->plain_off = 0;
		r->plain_len = (uint16_t)n;
		if (n == 0) /* §5.4: empty application data is allowed */
			drop_body(r);
		return TLS_REC_DATA;
	case CT_ALERT:
		io = on_alert(r, n);
		break;
	case CT_HANDSHAKE:
		io = on_handshake(r, x, n);
		break;
	default:
		io = fail(r, TLS_ALERT_UNEXPECTED_MESSAGE);
		break;
	}
	drop_body(r);
	return io;
}

enum tls_rec_io tls_rec_read(struct tls_rec *r, struct tls_rec_ctx *x,
			     int fd, uint8_t *buf, size_t n, size_t *got)
{
	enum tls_rec_io io;
	size_t k;

	*got = 0;
	if (r->parked_bad)
		return fail(r, TLS_ALERT_INTERNAL_ERROR);
	for (;;) {
		if (r->plain_len > r->plain_off) {
			k = (size_t)(r->plain_len - r->plain_off);
			if (k > n)
				k = n;
			memcpy(buf, r->body + r->plain_off, k);
			r->plain_off = (uint16_t)(r->plain_off + k);
			/* An idle connection keeps no buffer. */
			if (r->plain_off == r->plain_len)
				drop_body(r);
			*got = k;
			return TLS_REC_DATA;
		}
		if ((io = fill(r, x, fd)) != TLS_REC_DATA ||
		    (io = take_record(r, x)) != TLS_REC_DATA)
			return io;
	}
}

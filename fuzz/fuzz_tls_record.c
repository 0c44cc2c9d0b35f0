/* fuzz_tls_record.c - the TLS 1.3 record reader (lib/tls/tls_record.c):
 * what a device sends bulwarkd once the handshake is over.
 *
 * An input is a list of chunks, each [kind u8][length u16][bytes]: kind
 * even puts the bytes on the wire as they are (headers, lengths, forged
 * tags); kind odd protects them as one record under the reader's current
 * key, so that what only a peer holding the keys can send is reached too:
 * the inner content type, padding, alerts and KeyUpdates. After each chunk
 * the reader reads until it waits, and the server answers with a record
 * (which carries its own KeyUpdate when one was asked for). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "codec.h"
#include "tls_record.h"

static struct tls_rec_ctx ctx;

/* One record of p[0..n) under the reader's key, as a peer would send it. */
static size_t protect(const struct tls_rec *r, const uint8_t *p, size_t n,
		      uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t nonce[TLS_REC_IV_LEN];
	size_t clen = n + TLS_REC_TAG_LEN;
	int l1 = 0, l2 = 0, ok;

	memcpy(nonce, r->rx.iv, sizeof(nonce));
	for (int i = 0; i < 8; i++)
		nonce[TLS_REC_IV_LEN - 1 - i] ^= (uint8_t)(r->rx.seq >> (8 * i));
	out[0] = 23;
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)(clen >> 8);
	out[4] = (uint8_t)clen;
	ok = c != NULL &&
	     EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, r->rx.key,
				nonce) == 1 &&
	     EVP_EncryptUpdate(c, NULL, &l1, out, TLS_REC_HEADER_LEN) == 1 &&
	     EVP_EncryptUpdate(c, out + TLS_REC_HEADER_LEN, &l1, p, (int)n) ==
		     1 &&
	     EVP_EncryptFinal_ex(c, out + TLS_REC_HEADER_LEN + l1, &l2) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TLS_REC_TAG_LEN,
				 out + TLS_REC_HEADER_LEN + n) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? TLS_REC_HEADER_LEN + clen : 0;
}

static int put(int fd, const uint8_t *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = write(fd, p, n)) <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Read until the reader waits; false once the connection would close. */
static bool drain(struct tls_rec *r, int fd)
{
	static uint8_t buf[4096];
	enum tls_rec_io io;
	size_t got;

	while ((io = tls_rec_read(r, &ctx, fd, buf, sizeof(buf), &got)) ==
	       TLS_REC_DATA)
		;
	return io == TLS_REC_AGAIN;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t wire[65535 + TLS_REC_HEADER_LEN + TLS_REC_TAG_LEN];
	struct tls_rec r;
	struct bw_reader in;
	struct bw_writer out;
	const uint8_t *p;
	uint16_t len;
	uint8_t kind;
	size_t n;
	int fds[2];

	if (ctx.kdf == NULL && tls_rec_ctx_init(&ctx) != 0)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0 ||
	    fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0)
		abort();
	memset(&r, 0, sizeof(r));
	r.suite = TLS_REC_AES_128_GCM;
	r.secret_len = 32;
	memset(r.rx.secret, 1, sizeof(r.rx.secret));
	memset(r.rx.key, 2, sizeof(r.rx.key));
	memset(r.rx.iv, 3, sizeof(r.rx.iv));
	r.tx = r.rx;
	bw_writer_init(&out, 0);
	bw_reader_init(&in, data, size);
	while (bw_read_u8(&in, &kind) == 0 && bw_read_u16(&in, &len) == 0 &&
	       bw_read_bytes(&in, len, &p) == 0) {
		n = (kind & 1) ? protect(&r, p, len, wire) : len;
		if (put(fds[1], (kind & 1) ? wire : p, n) != 0 ||
		    !drain(&r, fds[0]))
			break;
		bw_writer_reset(&out);
		out.err = 0;
		if (tls_rec_seal(&r, &ctx, (const uint8_t *)"ok", 2, &out) != 0)
			abort();
	}
	bw_writer_free(&out);
	tls_rec_clear(&r);
	close(fds[0]);
	close(fds[1]);
	return 0;
}

/* bytes.c - owned byte strings, wiping, constant-time compare and hex. */
#include "bytes.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "err.h"

int bw_bytes_alloc(struct bw_bytes *b, size_t n)
{
	uint8_t *p = NULL;

	if (n > 0 && (p = calloc(1, n)) == NULL)
		return BW_ERR_NOMEM;
	bw_bytes_clear(b);
	b->p = p;
	b->len = n;
	return 0;
}

int bw_bytes_set(struct bw_bytes *b, const void *src, size_t n)
{
	uint8_t *p = NULL;

	if (n > 0) {
		if ((p = malloc(n)) == NULL)
			return BW_ERR_NOMEM;
		memcpy(p, src, n);
	}
	bw_bytes_clear(b);
	b->p = p;
	b->len = n;
	return 0;
}

void bw_bytes_clear(struct bw_bytes *b)
{
	if (b->p != NULL)
		OPENSSL_clear_free(b->p, b->len);
	b->p = NULL;
	b->len = 0;
}

void bw_bytes_move(struct bw_bytes *dst, struct bw_bytes *src)
{
	if (dst == src)
		return;
	bw_bytes_clear(dst);
	*dst = *src;
	src->p = NULL;
	src->len = 0;
}

bool bw_bytes_eq(const struct bw_bytes *a, const void *p, size_t n)
{
	if (a->len != n)
		return false;
	return n == 0 || CRYPTO_memcmp(a->p, p, n) == 0;
}

bool bw_ct_eq(const void *a, const void *b, size_t n)
{
	return n == 0 || CRYPTO_memcmp(a, b, n) == 0;
}

void bw_free_secret(void *p, size_t n)
{
	if (p != NULL)
		OPENSSL_clear_free(p, n);
}

/* Branch-free nibble decoding: returns 0..15, or -1 for a non-hex char. */
static int hex_value(unsigned char c)
{
	int d = c - '0', l = (c | 0x20) - 'a';
	int is_d = ((d >= 0) & (d <= 9));
	int is_l = ((l >= 0) & (l <= 5));

	return (is_d * d) + (is_l * (l + 10)) + ((is_d | is_l) - 1);
}

int bw_hex_decode(const char *hex, uint8_t **out, size_t *n)
{
	size_t len = strlen(hex);
	uint8_t *p = NULL;

	*out = NULL;
	*n = 0;
	if (len % 2 != 0)
		return BW_ERR_HEX;
	if (len > 0 && (p = malloc(len / 2)) == NULL)
		return BW_ERR_NOMEM;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_value((unsigned char)hex[2 * i]);
		int lo = hex_value((unsigned char)hex[2 * i + 1]);
		if ((hi | lo) < 0) {
			bw_free_secret(p, len / 2);
			return BW_ERR_HEX;
		}
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = p;
	*n = len / 2;
	return 0;
}

void bw_hex_encode(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = p[i] >> 4, lo = p[i] & 15;
		/* '0'+v, plus ('a'-'0'-10) when v > 9, without branching. */
		out[2 * i] = (char)('0' + hi + (((9 - hi) >> 8) & 39));
		out[2 * i + 1] = (char)('0' + lo + (((9 - lo) >> 8) & 39));
	}
	out[2 * n] = '\0';
}

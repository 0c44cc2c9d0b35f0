/*
 * bytes.h - owned byte strings, secret hygiene and hex, shared by every
 * component.
 *
 * A struct bw_bytes owns its buffer; bw_bytes_clear() wipes before freeing,
 * so the same type serves public values and secrets. An empty string has
 * p == NULL and len == 0.
 */
#ifndef BW_BYTES_H
#define BW_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bw_bytes {
	uint8_t *p;
	size_t len;
};

/* Replace *b with a copy of p[0..n). On failure *b is unchanged. */
int bw_bytes_set(struct bw_bytes *b, const void *p, size_t n);
/* Allocate n zero bytes (n may be 0). */
int bw_bytes_alloc(struct bw_bytes *b, size_t n);
/* Wipe and free; leaves *b empty. */
void bw_bytes_clear(struct bw_bytes *b);
/* Move src into dst (dst is cleared first); src is left empty. */
void bw_bytes_move(struct bw_bytes *dst, struct bw_bytes *src);
/* Equal lengths and contents; contents compared in constant time. */
bool bw_bytes_eq(const struct bw_bytes *a, const void *p, size_t n);

/* Constant-time comparison of secrets (true when equal). */
bool bw_ct_eq(const void *a, const void *b, size_t n);
/* Wipe and free a heap buffer of n bytes (NULL is a no-op). */
void bw_free_secret(void *p, size_t n);

/* Lower-case hex. decode: *out owned by the caller (NULL when empty). */
int bw_hex_decode(const char *hex, uint8_t **out, size_t *n);
/* out must hold 2*n+1 bytes. Constant time in the data. */
void bw_hex_encode(const uint8_t *p, size_t n, char *out);

#endif

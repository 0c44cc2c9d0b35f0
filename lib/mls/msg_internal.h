/*
 * msg_internal.h - helpers shared by the msg_*.c decoders and encoders;
 * not part of any public interface.
 *
 * Decoders follow one pattern: zero *out, read every field (the reader's
 * error is sticky, so a run of reads is tested once), and on failure clear
 * *out and return r->err. Locals that a later branch depends on are
 * initialised, so a failed read leads to no decision on garbage.
 */
#ifndef MLS_MSG_INTERNAL_H
#define MLS_MSG_INTERNAL_H

#include <stddef.h>

#include "bytes.h"
#include "codec.h"
#include "messages.h"

/* opaque<V> of at most max bytes, copied into *out (which must be empty). */
int mls_read_bytes(struct bw_reader *r, size_t max, struct bw_bytes *out);
/* opaque<V> from an owned byte string. */
int mls_write_bytes(struct bw_writer *w, const struct bw_bytes *b);

/* Record an error in a writer (sticky: the first one wins); returns it. */
int mls_writer_fail(struct bw_writer *w, int err);

/* Append a zeroed element of elem_size bytes to the array *arr of *n
 * elements, growing it geometrically. NULL (and the reader fails) when
 * *n == max_n (BW_ERR_TOO_LONG) or memory runs out. */
void *mls_array_push(struct bw_reader *r, void **arr, size_t *n,
		     size_t elem_size, size_t max_n);

/* vector<V> of at most max_len bytes and max_n elements, each decoded by
 * decode() into a zeroed element of *arr. On failure the elements decoded
 * so far stay in *arr for the caller's clear. */
int mls_read_list(struct bw_reader *r, size_t max_len, size_t max_n,
		  void **arr, size_t *n, size_t elem_size,
		  int (*decode)(struct bw_reader *r, void *elem));
/* vector<V> of n elements, each written by encode(). */
int mls_write_list(struct bw_writer *w, const void *arr, size_t n,
		   size_t elem_size,
		   int (*encode)(const void *elem, struct bw_writer *w));

/* Extension list with a per-list byte limit; a ratchet_tree extension may
 * be as large as MLS_MAX_RATCHET_TREE_LEN only if allow_tree. */
int mls_extension_list_decode_limited(struct bw_reader *r, size_t max_len,
				      bool allow_tree,
				      struct mls_extension_list *out);

#endif

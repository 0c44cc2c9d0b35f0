/*
 * proto_int.h - helpers the files of lib/proto share; not for callers.
 */
#ifndef BW_PROTO_INT_H
#define BW_PROTO_INT_H

#include "proto.h"

/* opaque<V> of at most max bytes into a span (zero-copy). */
int proto_read_span(struct bw_reader *r, size_t max, struct proto_span *s);
int proto_write_span(struct bw_writer *w, const struct proto_span *s);
/* Open the body of m for reading if it is the expected kind and type
 * (PROTO_ERR_TYPE otherwise). */
int proto_open_body(const struct proto_msg *m, uint8_t kind, uint16_t type,
	      struct bw_reader *r);

#endif

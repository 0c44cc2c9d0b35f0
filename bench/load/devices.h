/*
 * devices.h - the generator's devices: those `bulwarkctl device enroll`
 * wrote to a directory (devices.tsv, one <device id>.pem each with its
 * certificate and private key, ca.crt). Device i is user u<i>'s first
 * device; the run needs devices 0..n-1.
 */
#ifndef LG_DEVICES_H
#define LG_DEVICES_H

#include "lg.h"

/* Load devices 0..n-1 (key and certificate) from dir; fails if any is
 * missing. */
int devices_load(struct lg *g, const char *dir, uint32_t n);
void devices_free(struct lg *g);

#endif

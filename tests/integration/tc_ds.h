/*
 * tc_ds.h - the test client's delivery service commands (tc_ds.c) and its
 * hostile input (tc_hostile.c).
 */
#ifndef TC_DS_H
#define TC_DS_H

#include <stddef.h>
#include <stdint.h>

#include "tc_device.h"

/* argv[0] is the command ("ds-..."); the exit status, or -1 for usage. */
int tc_ds_main(int argc, char **argv);

/* Load the device in dir and connect it, or exit. */
void tc_open(const char *addr, const char *dir, struct tc_device *d);
/* GROUP_SEND or GROUP_PROPOSE (type) of msg with key: 0 and *seq, or the
 * server's status. */
int tc_send_raw(struct tc_device *d, const uint8_t *group_id,
		const uint8_t *key, const uint8_t *msg, size_t len,
		uint16_t type, uint64_t *seq);

/* ds-prep and ds-hostile: argv is ADDR A B C CUSER NAME OUT. */
int tc_hostile_prep(char **argv);
int tc_hostile(char **argv);

#endif

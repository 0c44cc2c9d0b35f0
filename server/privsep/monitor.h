/*
 * monitor.h - the CA monitor's side (bulwark-ca-monitor): the fixed
 * request table, the serving loop and the confinement applied once the CA
 * key is open. docs/privsep.md lists the table and its rules.
 */
#ifndef BW_PRIVSEP_MONITOR_H
#define BW_PRIVSEP_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "ca.h"
#include "codec.h"

/* Answer one request message: the reply (success or error) goes to w.
 * Only a failure to encode the reply itself is returned; a bad request is
 * an error reply, never a failure of the monitor. */
int monitor_answer(const struct ca *ca, const uint8_t *msg, size_t len,
		   struct bw_writer *w);

/* Serve requests on fd until the other end closes it. */
int monitor_serve(const struct ca *ca, int fd);

/* Send the start-up message: READY, or why the monitor cannot serve. */
int monitor_send_ready(int fd, int err);

/* Give up what the monitor no longer needs once the key is open: file
 * writes, core dumps, new processes, privileges, and (except in sanitizer
 * builds) every system call but the few serving needs. */
int monitor_sandbox(void);

#endif

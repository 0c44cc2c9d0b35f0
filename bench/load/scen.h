/*
 * scen.h - the scenarios (bench/README.md has their definitions, the same
 * as ../shared/bench-peers/README.md's where the peers have them). Each
 * logs its devices in, runs, and writes one JSON object (stats.h).
 *
 *   A   throughput: closed loop (cfg.window outstanding per device) over
 *       random 1:1 conversations; with cfg.rate, A': an open loop at that
 *       many messages/s in all
 *   B   store and forward: senders fill offline recipients' queues, then
 *       the recipients log in and drain
 *   C   idle: as many logged-in idle devices as asked; server memory per
 *       connection and logins/s
 *   D   fan-out: one group of cfg.layout.d_members devices; time from a
 *       send until the last member has it, then cfg.rate messages/s
 *   E   crash torture: A's load with reconnection and resending while
 *       something else kills and restarts the server; at the end every
 *       acknowledged message must have been delivered exactly once and in
 *       order
 */
#ifndef LG_SCEN_H
#define LG_SCEN_H

#include "lg.h"
#include "mls_dev.h"

int scen_throughput(struct lg *g, const struct lg_mls *m);
int scen_offline(struct lg *g, const struct lg_mls *m);
int scen_idle(struct lg *g);
int scen_fanout(struct lg *g, const struct lg_mls *m);
int scen_torture(struct lg *g, const struct lg_mls *m);

/* Shared by the scenarios (scen_common.c). */
uint64_t scen_random(void);
void scen_seed(uint64_t seed);
/* Log devices [first, first + n) in (at most cfg.conc at a time) and
 * wait; the number logged in. */
uint32_t scen_login(struct lg *g, uint32_t first, uint32_t n);
/* Log them out and wait for the server to close. */
void scen_logout(struct lg *g, uint32_t first, uint32_t n);
/* d's 1:1 conversations of block A with another of the first `clients`
 * devices, into d->mem's first entries; their number. */
uint32_t scen_a_members(struct lg *g, struct dev *d, uint32_t clients);

#endif

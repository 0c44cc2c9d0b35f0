/*
 * passive_client.h - the "passive client" scenarios of the MLS interop
 * vectors (FORMATS.md, "Passive Client Scenarios"): a Bulwark member joins
 * a group run by another implementation from its Welcome and follows every
 * epoch, through the public API of libmls only.
 */
#ifndef BW_PASSIVE_CLIENT_H
#define BW_PASSIVE_CLIENT_H

/* Run every vector of <dir>/mls/<file>, print "<name>: N vectors passed,
 * M failed" and return the exit status. */
int passive_client_main(int argc, char **argv, const char *file,
			const char *name);

#endif

/*
 * commands.h - bulwarkctl's subcommands, and what they share.
 *
 * A subcommand is a function cmd_<name>() in its own file cmd_<name>.c
 * (CMake picks it up); adding one to the table below is the only other
 * change. It gets argv[0] = its name and parses its own options with
 * getopt_long; "--json" has been taken out of argv wherever it stood, and
 * ctl->json says whether it was there.
 *
 * Output: people get aligned text; with --json, a single JSON object on
 * standard output, errors included ({"error": {...}}), so scripts never
 * parse prose. Warnings always go to standard error.
 */
#ifndef BULWARKCTL_COMMANDS_H
#define BULWARKCTL_COMMANDS_H

#include <stdbool.h>

#include <jansson.h>

/* Exit statuses. */
enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

struct ctl {
	const char *prog; /* "bulwarkctl", for messages */
	bool json;
};

/* name, one-line description for --help */
#define BULWARKCTL_COMMANDS(X)                                               \
	X(init, "create the organisation: CA, TLS certificate, configuration") \
	X(user, "add, list or disable users")                                 \
	X(device, "activate, list or revoke devices")                         \
	X(status, "the running server: address, connections, devices")

#define CTL_DECLARE(name, text)                                              \
	int cmd_##name(struct ctl *ctl, int argc, char **argv);
BULWARKCTL_COMMANDS(CTL_DECLARE)
#undef CTL_DECLARE

/* output.c */

/* Report a failure: "bulwarkctl: <message>" on stderr, or with --json
 * {"error": {"message": ..., "code": code}} on stdout (code 0: none).
 * Returns CTL_FAIL. */
int ctl_fail(const struct ctl *ctl, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A usage mistake: the message and the command's usage text on stderr (or
 * the JSON error). Returns CTL_USAGE. */
int ctl_usage_error(const struct ctl *ctl, const char *usage,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A warning for the operator, on stderr in either mode. */
void ctl_warn(const struct ctl *ctl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print a result object (consumed) as one line of JSON on stdout.
 * Returns CTL_OK, or CTL_FAIL when it could not be built or written. */
int ctl_print_json(json_t *result);

#endif

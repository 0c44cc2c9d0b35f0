/*
 * main.c - bulwarkctl, the administrator's tool: global options, then one
 * subcommand from the table in commands.h.
 *
 *   bulwarkctl [--json] COMMAND [ARGS...]
 *   bulwarkctl COMMAND --help
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct {
	const char *name;
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *text;
} commands[] = {
#define CTL_ENTRY(name, text) { #name, cmd_##name, text },
	BULWARKCTL_COMMANDS(CTL_ENTRY)
#undef CTL_ENTRY
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--json] COMMAND [ARGS...]\n"
		"       %s COMMAND --help\n\n"
		"Administer a Bulwark server and its organisation.\n\n"
		"Options:\n"
		"  --json     print results (and errors) as one JSON object\n"
		"  --help     show this help\n\n"
		"Commands:\n",
		prog, prog);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].text);
}

/* Take every "--json" out of argv (up to a "--"), wherever it stands, so
 * it works before and after the command alike. */
static bool take_json_flag(int *argc, char **argv)
{
	bool found = false;
	int out = 1, i;

	for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--json") == 0)
			found = true;
		else
			argv[out++] = argv[i];
	}
	while (i < *argc)
		argv[out++] = argv[i++];
	argv[out] = NULL;
	*argc = out;
	return found;
}

int main(int argc, char **argv)
{
	struct ctl ctl = { .prog = "bulwarkctl" };

	ctl.json = take_json_flag(&argc, argv);
	if (argc < 2) {
		usage(stderr, ctl.prog);
		return CTL_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout, ctl.prog);
		return CTL_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(&ctl, argc - 1, argv + 1);
	if (ctl.json)
		return ctl_usage_error(&ctl, NULL, "unknown command '%s'",
				       argv[1]);
	fprintf(stderr, "%s: unknown command '%s'\n\n", ctl.prog, argv[1]);
	usage(stderr, ctl.prog);
	return CTL_USAGE;
}

/*
 * main.c - bulwark, the device's command-line client: one subcommand from
 * the table in commands.h, over libbulwark.
 *
 *   bulwark [--json] COMMAND [OPTIONS] [ARGS...]
 *   bulwark COMMAND --help
 *
 * Exit status: 0 success, 1 failure (the reason is printed), 2 usage.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *text;
} commands[] = {
#define CLI_ENTRY(name, text) { #name, cmd_##name, text },
	BULWARK_COMMANDS(CLI_ENTRY)
#undef CLI_ENTRY
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bulwark [--json] COMMAND [OPTIONS] [ARGS...]\n"
		"       bulwark COMMAND --help\n\n"
		"The Bulwark client of this device: activation, then "
		"connections to the\norganisation's server as this device.\n\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].text);
	fprintf(f, "\nOptions of every command:\n" CLI_COMMON_USAGE);
}

int main(int argc, char **argv)
{
	struct cli cli = { .prog = "bulwark" };

	/* libbulwark never raises SIGPIPE; nothing else here should either. */
	signal(SIGPIPE, SIG_IGN);
	/* Before the command, as after it (each command takes it too). */
	while (argc > 1 && strcmp(argv[1], "--json") == 0) {
		cli.json = true;
		argc--;
		argv++;
	}
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("bulwark %s\n", BULWARK_VERSION);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(&cli, argc - 1, argv + 1);
	fprintf(stderr, "bulwark: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return CLI_USAGE;
}

/*
 * cmd_recv.c - bulwark recv: receive everything the server holds for this
 * device (its backlog, until the server says it is done), store it,
 * acknowledge it, and show the messages not shown before.
 */
#include <stdio.h>

#include "commands.h"

static const char usage[] =
	"usage: bulwark recv [OPTIONS]\n"
	"\n"
	"Receive what the server holds for this device: new conversations,\n"
	"changes to them and messages, each stored on this device before the\n"
	"server is told it arrived. Then show the messages not shown before,\n"
	"and exit. A new device joins its user's conversations here.\n"
	"\n" CLI_COMMON_USAGE;

static int show(const struct cli *cli, struct bulwark_client *c)
{
	struct bulwark_message *m = NULL;
	json_t *arr;
	size_t n = 0;
	int rc;

	if ((rc = bulwark_unseen(c, &m, &n)) != 0)
		return cli_error(cli, "messages", rc);
	if (cli->json) {
		arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++)
			json_array_append_new(arr, cli_message_json(&m[i]));
		rc = cli_print_json(json_pack("{s:o}", "messages", arr));
	} else {
		for (size_t i = 0; i < n; i++)
			cli_print_message(&m[i]);
		rc = CLI_OK;
	}
	/* Shown: not again. */
	if (rc == CLI_OK && n > 0 &&
	    (rc = bulwark_mark_seen(c, m[n - 1].id)) != 0)
		rc = cli_error(cli, "messages", rc);
	bulwark_messages_free(m, n);
	return rc;
}

int cmd_recv(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct bulwark_client *c = NULL;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if ((rc = cli_common_option(cli, ch, usage)) != CLI_CONTINUE)
			return rc;
	if (optind != argc)
		return cli_usage(cli, usage, "unexpected argument");
	if ((rc = cli_open_client(cli, true, &c)) != CLI_OK)
		return rc;
	if ((rc = bulwark_client_sync(c)) != 0)
		rc = cli_error(cli, "receiving", rc);
	else
		rc = show(cli, c);
	bulwark_client_free(c);
	return rc;
}

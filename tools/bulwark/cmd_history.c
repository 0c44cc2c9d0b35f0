/*
 * cmd_history.c - bulwark history CHAT: a conversation's messages, in its
 * order, as this device stored them (after receiving what the server
 * holds, unless --offline).
 */
#include <stdio.h>

#include "commands.h"

static const char usage[] =
	"usage: bulwark history CHAT [--offline] [OPTIONS]\n"
	"\n"
	"Show the messages of the conversation CHAT (its name, short id or a\n"
	"prefix of its id), oldest first, this device's own included.\n"
	"\n"
	"  --offline      only what this device holds, without the server\n"
	CLI_COMMON_USAGE;

static int show(const struct cli *cli, struct bulwark_client *c,
		const char *chat)
{
	struct bulwark_message *m = NULL;
	char id[BULWARK_CONV_ID_SIZE];
	json_t *arr;
	size_t n = 0;
	int rc;

	if ((rc = bulwark_conversation_id(c, chat, id)) != 0 ||
	    (rc = bulwark_history(c, id, &m, &n)) != 0)
		return cli_error(cli, chat, rc);
	if (cli->json) {
		arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++)
			json_array_append_new(arr, cli_message_json(&m[i]));
		rc = cli_print_json(json_pack("{s:{s:s,s:o}}", "history",
					      "conversation", id, "messages",
					      arr));
	} else {
		for (size_t i = 0; i < n; i++)
			cli_print_message(&m[i]);
		rc = CLI_OK;
	}
	bulwark_messages_free(m, n);
	return rc;
}

int cmd_history(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "offline", no_argument, NULL, 'o' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct bulwark_client *c = NULL;
	bool offline = false;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'o')
			offline = true;
		else if ((rc = cli_common_option(cli, ch, usage)) !=
			 CLI_CONTINUE)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage(cli, usage, "give CHAT");
	if ((rc = cli_open_client(cli, !offline, &c)) != CLI_OK)
		return rc;
	if (!offline && (rc = bulwark_client_sync(c)) != 0)
		rc = cli_error(cli, "receiving", rc);
	else
		rc = show(cli, c, argv[optind]);
	bulwark_client_free(c);
	return rc;
}

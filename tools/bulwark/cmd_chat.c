/*
 * cmd_chat.c - bulwark chat: the device's conversations.
 *
 *   chat create --with U1,U2 [--name NAME]   a conversation with users
 *   chat list [--offline]                    the conversations
 *   chat add CHAT USER                       add every device of USER
 *   chat remove CHAT USER                    remove every device of USER
 *
 * Each connects, does its work (a conversation that moved on meanwhile is
 * caught up with and the change made again), then handles the rest of
 * the backlog so that the device is up to date.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static const char usage[] =
	"usage: bulwark chat create --with USER[,USER...] [--name NAME] "
	"[OPTIONS]\n"
	"       bulwark chat list [--offline] [OPTIONS]\n"
	"       bulwark chat add CHAT USER [OPTIONS]\n"
	"       bulwark chat remove CHAT USER [OPTIONS]\n"
	"\n"
	"Conversations are end-to-end encrypted MLS groups of every device of\n"
	"their users; this user's other devices are always members too. CHAT\n"
	"is a conversation's name, its short id (8 hex digits) or any prefix\n"
	"of its id of 4 digits or more.\n"
	"\n"
	"  --with USERS   the users of a new conversation, separated by\n"
	"                 commas\n"
	"  --name NAME    its name (1-64 printable characters), sent to its\n"
	"                 members\n"
	"  --offline      list what this device holds, without the server\n"
	CLI_COMMON_USAGE;

#define MAX_WITH 1024u

/* Split "a,b,c" in place into users. */
static int split_users(char *with, const char **users, size_t *n)
{
	char *save = NULL;

	*n = 0;
	for (char *u = strtok_r(with, ",", &save); u != NULL;
	     u = strtok_r(NULL, ",", &save)) {
		if (*n == BULWARK_MAX_USERS)
			return BULWARK_ERR_USERS;
		users[(*n)++] = u;
	}
	return *n > 0 ? 0 : BULWARK_ERR_USERS;
}

/* Handle the rest of the backlog, then describe the conversation. */
static int finish(const struct cli *cli, struct bulwark_client *c,
		  const char *id, const char *key)
{
	int rc;

	if ((rc = bulwark_client_sync(c)) != 0)
		return cli_error(cli, "receiving", rc);
	return cli_show_conversation(cli, c, id, key);
}

static int create(struct cli *cli, const char *with, const char *name)
{
	char copy[MAX_WITH], id[BULWARK_CONV_ID_SIZE];
	const char *users[BULWARK_MAX_USERS];
	struct bulwark_client *c = NULL;
	size_t n;
	int rc;

	if (with == NULL)
		return cli_usage(cli, usage, "--with USERS is needed");
	if (snprintf(copy, sizeof(copy), "%s", with) >= (int)sizeof(copy) ||
	    split_users(copy, users, &n) != 0)
		return cli_error(cli, "--with", BULWARK_ERR_USERS);
	if ((rc = cli_open_client(cli, true, &c)) != CLI_OK)
		return rc;
	if ((rc = bulwark_conversation_create(c, users, n, name, id)) != 0)
		rc = cli_error(cli, "creating the conversation", rc);
	else
		rc = finish(cli, c, id, "created");
	bulwark_client_free(c);
	return rc;
}

static int list(struct cli *cli, bool offline)
{
	struct bulwark_client *c = NULL;
	struct bulwark_conversation *v = NULL;
	json_t *arr;
	size_t n = 0;
	int rc;

	if ((rc = cli_open_client(cli, !offline, &c)) != CLI_OK)
		return rc;
	if (!offline && (rc = bulwark_client_sync(c)) != 0) {
		rc = cli_error(cli, "receiving", rc);
		goto out;
	}
	if ((rc = bulwark_conversations(c, &v, &n)) != 0) {
		rc = cli_error(cli, "conversations", rc);
		goto out;
	}
	if (cli->json) {
		arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++)
			json_array_append_new(arr,
					      cli_conversation_json(&v[i]));
		rc = cli_print_json(json_pack("{s:o}", "conversations", arr));
	} else {
		for (size_t i = 0; i < n; i++)
			cli_print_conversation(&v[i]);
	}
out:
	bulwark_conversations_free(v, n);
	bulwark_client_free(c);
	return rc;
}

/* chat add / chat remove. */
static int change(struct cli *cli, bool add, const char *chat,
		  const char *user)
{
	struct bulwark_client *c = NULL;
	char id[BULWARK_CONV_ID_SIZE];
	int rc;

	if ((rc = cli_open_client(cli, true, &c)) != CLI_OK)
		return rc;
	if ((rc = bulwark_conversation_id(c, chat, id)) != 0)
		rc = cli_error(cli, chat, rc);
	else if ((rc = add ? bulwark_conversation_add(c, id, user)
			   : bulwark_conversation_remove(c, id, user)) != 0)
		rc = cli_error(cli, add ? "adding" : "removing", rc);
	else
		rc = finish(cli, c, id, add ? "added" : "removed");
	bulwark_client_free(c);
	return rc;
}

int cmd_chat(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "with", required_argument, NULL, 'w' },
		{ "name", required_argument, NULL, 'n' },
		{ "offline", no_argument, NULL, 'o' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char *with = NULL, *name = NULL, *sub;
	bool offline = false;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'w': with = optarg; break;
		case 'n': name = optarg; break;
		case 'o': offline = true; break;
		default:
			if ((rc = cli_common_option(cli, ch, usage)) !=
			    CLI_CONTINUE)
				return rc;
		}
	}
	if (optind >= argc)
		return cli_usage(cli, usage, "which chat command?");
	sub = argv[optind++];
	if (strcmp(sub, "create") == 0 && optind == argc && !offline)
		return create(cli, with, name);
	if (strcmp(sub, "list") == 0 && optind == argc && with == NULL &&
	    name == NULL)
		return list(cli, offline);
	if ((strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0) &&
	    argc - optind == 2 && with == NULL && name == NULL && !offline)
		return change(cli, sub[0] == 'a', argv[optind],
			      argv[optind + 1]);
	return cli_usage(cli, usage, "unknown chat command or arguments");
}

/*
 * cmd_send.c - bulwark send: a message to a conversation.
 *
 *   send CHAT TEXT          TEXT is the message
 *   send CHAT               standard input, whole, is the message
 *   send CHAT --lines       each line of standard input is a message, sent
 *                           as it is read
 *
 * A message the server has acknowledged is stored on this device too; if
 * the connection drops, the same message is sent again on a new one (the
 * server keeps it once). Afterwards the rest of the backlog is handled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "err.h"

static const char usage[] =
	"usage: bulwark send CHAT TEXT [OPTIONS]\n"
	"       bulwark send CHAT [--lines] [OPTIONS] < FILE\n"
	"\n"
	"Send TEXT (or standard input) to the conversation CHAT: its name,\n"
	"its short id or a prefix of its id. Messages are end-to-end\n"
	"encrypted for the conversation's devices; the server sees only\n"
	"ciphertext.\n"
	"\n"
	"  --lines        each line of standard input is one message, sent as\n"
	"                 it is read (with --json, one object per line)\n"
	CLI_COMMON_USAGE;

static int report(const struct cli *cli, const char *id, uint64_t seq,
		  size_t len)
{
	if (cli->json)
		return cli_print_json(json_pack(
			"{s:{s:s,s:s%,s:I,s:I}}", "sent", "conversation", id,
			"short_id", id, (size_t)BULWARK_SHORT_ID_LEN, "seq",
			(json_int_t)seq, "bytes", (json_int_t)len));
	printf("sent to %.*s (seq %llu)\n", (int)BULWARK_SHORT_ID_LEN, id,
	       (unsigned long long)seq);
	fflush(stdout);
	return CLI_OK;
}

static int send_one(const struct cli *cli, struct bulwark_client *c,
		    const char *id, const char *text, size_t len)
{
	uint64_t seq;
	int rc;

	if ((rc = bulwark_send(c, id, text, len, &seq)) != 0)
		return cli_error(cli, "sending", rc);
	return report(cli, id, seq, len);
}

/* Standard input, whole, as one message (without the last line's
 * ending). */
static int read_all(char **out, size_t *len)
{
	size_t cap = 0, n = 0, got = 0;
	char *buf = NULL, *p;

	*out = NULL;
	do {
		if (n == cap) {
			if (cap > BULWARK_MAX_TEXT)
				break; /* too long: no need to read on */
			cap = cap ? cap * 2 : 4096;
			if ((p = realloc(buf, cap)) == NULL) {
				free(buf);
				return BW_ERR_NOMEM;
			}
			buf = p;
		}
		got = fread(buf + n, 1, cap - n, stdin);
		n += got;
	} while (got > 0);
	/* The line ending of the last line is not part of the message. */
	if (n > 0 && n <= BULWARK_MAX_TEXT && buf[n - 1] == '\n')
		n -= n > 1 && buf[n - 2] == '\r' ? 2 : 1;
	if (n == 0 || n > BULWARK_MAX_TEXT) {
		free(buf);
		return BULWARK_ERR_TEXT_SIZE;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int send_lines(const struct cli *cli, struct bulwark_client *c,
		      const char *id)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = CLI_OK;

	while (rc == CLI_OK && (n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0)
			rc = send_one(cli, c, id, line, (size_t)n);
	}
	free(line);
	return rc;
}

static int run(struct cli *cli, const char *chat, const char *text,
	       bool lines)
{
	struct bulwark_client *c = NULL;
	char id[BULWARK_CONV_ID_SIZE], *input = NULL;
	size_t len = 0;
	int rc;

	if (text == NULL && !lines && (rc = read_all(&input, &len)) != 0)
		return cli_error(cli, "standard input", rc);
	if ((rc = cli_open_client(cli, true, &c)) != CLI_OK)
		goto out;
	if ((rc = bulwark_conversation_id(c, chat, id)) != 0)
		rc = cli_error(cli, chat, rc);
	else if (lines)
		rc = send_lines(cli, c, id);
	else
		rc = text != NULL ? send_one(cli, c, id, text, strlen(text))
				  : send_one(cli, c, id, input, len);
	if (rc == CLI_OK && (rc = bulwark_client_sync(c)) != 0)
		rc = cli_error(cli, "receiving", rc);
out:
	free(input);
	bulwark_client_free(c);
	return rc;
}

int cmd_send(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lines", no_argument, NULL, 'l' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	bool lines = false;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'l')
			lines = true;
		else if ((rc = cli_common_option(cli, ch, usage)) !=
			 CLI_CONTINUE)
			return rc;
	}
	if (argc - optind == 2 && !lines)
		return run(cli, argv[optind], argv[optind + 1], false);
	if (argc - optind == 1)
		return run(cli, argv[optind], NULL, lines);
	return cli_usage(cli, usage, "give CHAT, and TEXT or standard input");
}

/*
 * commands.h - the `bulwark` device client's subcommands, and what they
 * share (cli.c).
 *
 * A subcommand is a function cmd_<name>() in its own file cmd_<name>.c
 * (CMake picks it up); adding one to the table below is the only other
 * change. It gets argv[0] = its name and parses its options with
 * getopt_long, CLI_COMMON_OPTIONS among them, handing the ones it does not
 * know to cli_common_option(). "--json" may also stand before the command.
 *
 * Output: people get aligned text; with --json, one JSON object on
 * standard output, errors included ({"error": {...}}). Nothing secret is
 * ever printed: no password, passphrase or key.
 */
#ifndef BULWARK_CLI_COMMANDS_H
#define BULWARK_CLI_COMMANDS_H

#include <getopt.h>
#include <stdbool.h>

#include <jansson.h>

#include "bulwark/bulwark.h"

/* Exit statuses. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Where the device's files live unless --home says otherwise. */
#define CLI_HOME_ENV "BULWARK_HOME"
#define CLI_HOME_DEFAULT ".bulwark" /* in $HOME */
#define CLI_KEYSTORE_FILE "keystore"
#define CLI_STORE_FILE "store.db"
#define CLI_PASSPHRASE_ENV "BULWARK_PASSPHRASE"

struct cli {
	const char *prog; /* "bulwark", for messages */
	bool json;
	const char *home;            /* --home, or NULL */
	const char *passphrase_file; /* --passphrase-file, or NULL */
	int timeout_ms;              /* --timeout, or 0 for the default */
	char keystore[4096];         /* resolved by cli_keystore_path() */
	char store[4096];            /* the conversations, beside it */
};

/* name, one-line description for --help */
#define BULWARK_COMMANDS(X)                                                   \
	X(activate, "activate this device with the values bulwarkctl printed") \
	X(status, "connect as this device and show who and where it is")    \
	X(chat, "create, list, and add or remove users of conversations")   \
	X(send, "send a message to a conversation")                          \
	X(recv, "receive what the server holds for this device, and show it") \
	X(listen, "show messages as they arrive, until interrupted")        \
	X(history, "show a conversation's messages")

#define CLI_DECLARE(name, text)                                              \
	int cmd_##name(struct cli *cli, int argc, char **argv);
BULWARK_COMMANDS(CLI_DECLARE)
#undef CLI_DECLARE

/* Options every command takes, for its getopt_long table (long only). */
enum {
	CLI_OPT_HOME = 0x100,
	CLI_OPT_PASSPHRASE_FILE,
	CLI_OPT_TIMEOUT,
	CLI_OPT_JSON,
	CLI_OPT_HELP,
};
#define CLI_COMMON_OPTIONS                                                   \
	{ "home", required_argument, NULL, CLI_OPT_HOME },                   \
	{ "passphrase-file", required_argument, NULL,                        \
	  CLI_OPT_PASSPHRASE_FILE },                                         \
	{ "timeout", required_argument, NULL, CLI_OPT_TIMEOUT },             \
	{ "json", no_argument, NULL, CLI_OPT_JSON },                         \
	{ "help", no_argument, NULL, CLI_OPT_HELP }
#define CLI_COMMON_USAGE                                                     \
	"  --home DIR              the device's directory (default: "        \
	"$BULWARK_HOME,\n"                                                   \
	"                          else ~/.bulwark); the keystore is "       \
	"DIR/keystore\n"                                                     \
	"  --passphrase-file FILE  the keystore passphrase (first line); "  \
	"else\n"                                                             \
	"                          $BULWARK_PASSPHRASE, else a prompt on "  \
	"the terminal\n"                                                     \
	"  --timeout SECONDS       for each network step (default 20)\n"  \
	"  --json                  print the result (or error) as one JSON " \
	"object\n"

/* cli.c */

/* What cli_common_option() returns for an option it took: go on. */
#define CLI_CONTINUE (-1)
/* Handle an option of the command's getopt_long loop that the command
 * itself does not know: a common one (CLI_CONTINUE), --help (the usage
 * is printed: CLI_OK), or a mistake (CLI_USAGE, reported). */
int cli_common_option(struct cli *cli, int ch, const char *usage);
/* Report a failure with a libbulwark code: "bulwark: what: text" on
 * stderr, or {"error": {"message": "what: text", "code": err}} on
 * stdout. Returns CLI_FAIL. */
int cli_error(const struct cli *cli, const char *what, int err);
/* A usage mistake: the message and the usage text on stderr (or the JSON
 * error). Returns CLI_USAGE. */
int cli_usage(const struct cli *cli, const char *usage, const char *msg);
/* Print a result object (consumed) as one line of JSON on stdout. */
int cli_print_json(json_t *result);
/* "2036-01-02T03:04:05Z" */
void cli_format_time(int64_t t, char *out, size_t size);

/* The keystore's path from --home, $BULWARK_HOME or ~/.bulwark, into
 * cli->keystore (and the store's into cli->store); with create, the
 * directory is made (0700) if missing. */
int cli_keystore_path(struct cli *cli, bool create);
/* The keystore passphrase: --passphrase-file, $BULWARK_PASSPHRASE, or a
 * prompt without echo on the terminal (twice with confirm). *out is for
 * bulwark_passphrase_free(). Reports its own failure: CLI_OK or
 * CLI_FAIL. */
int cli_passphrase(const struct cli *cli, bool confirm, char **out);
/* Is there a terminal to ask on (the process's controlling one, even
 * when standard input is a pipe)? */
bool cli_have_terminal(void);
/* A secret line from the terminal without echo; *out as above. */
int cli_prompt_secret(const char *prompt, char **out);

/* The activated device, its keystore opened with the passphrase (CLI_OK),
 * or the error printed. */
int cli_open_device(struct cli *cli, struct bulwark_device **out);
/* This device's conversations: the keystore opened with the passphrase,
 * the store, and with connect a session to the server. Reports its own
 * failure: CLI_OK or CLI_FAIL. */
int cli_open_client(struct cli *cli, bool connect,
		    struct bulwark_client **out);

/* output.c: messages and conversations, as text or JSON. */

/* The message as JSON: {"id", "conversation", "short_id", "seq", "time",
 * "timestamp", "kind", "own", "user", "device_id", "text"}. */
json_t *cli_message_json(const struct bulwark_message *m);
/* One line (or more, for a text with line breaks) for people; control
 * characters a sender put in are shown as '?', never sent to the
 * terminal. */
void cli_print_message(const struct bulwark_message *m);
/* {"id", "short_id", "name", "created", "epoch", "active",
 *  "epoch_authenticator", "members": [{"user", "device_id", "leaf"}]} */
json_t *cli_conversation_json(const struct bulwark_conversation *v);
void cli_print_conversation(const struct bulwark_conversation *v);
/* The conversation with this id (as bulwark_conversation_create gives
 * it), described; reports its own failure. */
int cli_show_conversation(const struct cli *cli, struct bulwark_client *c,
			  const char *id, const char *key);

#endif

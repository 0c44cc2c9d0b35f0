/*
 * cmd_status.c - bulwark status: open the keystore, connect as this device
 * (mutual TLS, the server checked against the pinned CA), HELLO and
 * WHOAMI, and show who and where the device is.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

static const char usage[] =
	"usage: bulwark status [OPTIONS]\n"
	"\n"
	"Connect to the organisation's server as this device, with its\n"
	"certificate (mutual TLS), and show what the server says about it.\n"
	"A revoked device is refused by the server at the handshake.\n"
	"\n" CLI_COMMON_USAGE;

static int print_status(const struct cli *cli,
			const struct bulwark_device_info *i,
			const struct bulwark_session *s,
			const struct bulwark_whoami *who)
{
	char expires[32];

	cli_format_time(i->cert_not_after, expires, sizeof(expires));
	if (cli->json)
		return cli_print_json(json_pack(
			"{s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:I}}",
			"status", "user", who->user, "device_id",
			who->device_id, "device_name", who->device_name,
			"server", i->server, "server_name",
			bulwark_session_server_name(s), "server_software",
			bulwark_session_server_software(s),
			"certificate_expires", expires, "ca_fingerprint",
			i->ca_fingerprint, "mls_suite", i->mls_suite,
			"server_time", (json_int_t)who->server_time));
	printf("user          %s\n"
	       "device        %s (%s)\n"
	       "server        %s (%s, %s)\n"
	       "connection    mutual TLS: the server knows this device\n"
	       "certificate   valid until %s\n"
	       "CA (SHA-256)  %s\n"
	       "MLS suite     %d\n",
	       who->user, who->device_id, who->device_name, i->server,
	       bulwark_session_server_name(s),
	       bulwark_session_server_software(s), expires, i->ca_fingerprint,
	       i->mls_suite);
	return CLI_OK;
}

/* Connect and ask the server who this connection is: the device in the
 * keystore, or something is badly wrong. */
static int ask_server(const struct cli *cli, const struct bulwark_device *d)
{
	const struct bulwark_device_info *i = bulwark_device_info(d);
	struct bulwark_session *s = NULL;
	struct bulwark_whoami who;
	int rc;

	if ((rc = bulwark_connect(d, cli->timeout_ms, &s)) != 0)
		return cli_error(cli, i->server, rc);
	if ((rc = bulwark_session_whoami(s, &who)) != 0)
		rc = cli_error(cli, "whoami", rc);
	else if (strcmp(who.user, i->user) != 0 ||
		 strcmp(who.device_id, i->device_id) != 0)
		rc = cli_error(cli, "whoami", BULWARK_ERR_PROTOCOL);
	else
		rc = print_status(cli, i, s, &who);
	bulwark_session_free(s);
	return rc;
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct bulwark_device *d = NULL;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if ((rc = cli_common_option(cli, ch, usage)) != CLI_CONTINUE)
			return rc;
	if (optind != argc)
		return cli_usage(cli, usage, "unexpected argument");
	if ((rc = cli_open_device(cli, &d)) != CLI_OK)
		return rc;
	rc = ask_server(cli, d);
	bulwark_device_free(d);
	return rc;
}

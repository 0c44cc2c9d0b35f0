/*
 * cmd_activate.c - bulwark activate: this device joins the organisation
 * with the one-time values an administrator printed (`bulwarkctl device
 * activate`), and keeps its key, certificate and the pinned CA in a new
 * keystore. The password and passphrase are never printed or logged.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "commands.h"

static const char usage[] =
	"usage: bulwark activate URI [--name NAME] [OPTIONS]\n"
	"       bulwark activate - [--name NAME] [OPTIONS]\n"
	"       bulwark activate --server HOST:PORT --user USER --code CODE\n"
	"                        --ca FINGERPRINT [--password PASSWORD]\n"
	"                        [--name NAME] [OPTIONS]\n"
	"\n"
	"Activate this device with the one-time values `bulwarkctl device\n"
	"activate` printed: the URI of its QR code (\"-\": read it from\n"
	"standard input), or each value; without --password, the password is\n"
	"asked for on the terminal. The device proves the password with\n"
	"SPAKE2+ bound to this TLS connection, checks the organisation's CA\n"
	"against the fingerprint, has its new key certified and pins the CA.\n"
	"\n"
	"  --name NAME             a name for this device, for people "
	"(default: the\n"
	"                          host name)\n" CLI_COMMON_USAGE;

struct values {
	const char *uri;
	const char *server, *user, *code, *password, *ca;
	const char *name;
};

/* The URI from standard input: one line. */
static int uri_from_stdin(struct bulwark_activation *a)
{
	char line[BULWARK_MAX_URI + 2];
	int rc = BULWARK_ERR_ACTIVATION_URI;

	if (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		rc = bulwark_activation_parse_uri(line, a);
	}
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}

static int from_fields(const struct values *v, struct bulwark_activation *a)
{
	char *prompted = NULL;
	int rc;

	if (v->password == NULL &&
	    (rc = cli_prompt_secret("Activation password: ", &prompted)) != 0)
		return rc == BULWARK_ERR_PASSPHRASE_EMPTY ? BULWARK_ERR_PASSWORD
							  : rc;
	rc = bulwark_activation_set(a, v->server, v->user, v->code,
				    v->password ? v->password : prompted,
				    v->ca);
	bulwark_passphrase_free(prompted);
	return rc;
}

static int gather(const struct cli *cli, const struct values *v,
		  struct bulwark_activation *a)
{
	int rc;

	if (v->uri != NULL && strcmp(v->uri, "-") == 0)
		rc = uri_from_stdin(a);
	else if (v->uri != NULL)
		rc = bulwark_activation_parse_uri(v->uri, a);
	else
		rc = from_fields(v, a);
	return rc == 0 ? CLI_OK : cli_error(cli, "activation values", rc);
}

/* The host name, as a device name: printable ASCII, at most 64. */
static void default_name(char *out, size_t size)
{
	char host[256] = "";
	size_t j = 0;

	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	for (size_t i = 0; host[i] != '\0' && j + 1 < size; i++)
		if (host[i] > ' ' && host[i] <= '~')
			out[j++] = host[i];
	if (j == 0)
		j = (size_t)snprintf(out, size, "device");
	out[j] = '\0';
}

static int print_result(const struct cli *cli, const struct bulwark_device *d)
{
	const struct bulwark_device_info *i = bulwark_device_info(d);

	if (cli->json)
		return cli_print_json(json_pack(
			"{s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s}}", "activation",
			"user", i->user, "device_id", i->device_id,
			"device_name", i->device_name, "server", i->server,
			"server_name", i->server_name, "ca_fingerprint",
			i->ca_fingerprint, "keystore", cli->keystore));
	printf("This device is activated.\n\n"
	       "  user          %s\n"
	       "  device        %s (%s)\n"
	       "  server        %s (%s)\n"
	       "  CA (SHA-256)  %s, pinned\n"
	       "  keystore      %s\n\n"
	       "Check the connection with: bulwark status\n",
	       i->user, i->device_id, i->device_name, i->server,
	       i->server_name, i->ca_fingerprint, cli->keystore);
	return CLI_OK;
}

/* Publish key packages at once, so that others can add this device to
 * conversations before it first connects for them. A failure here leaves
 * the device activated: it tries again whenever it connects. */
static void prepare_conversations(const struct cli *cli,
				  struct bulwark_device *d)
{
	struct bulwark_client *c = NULL;
	int rc;

	if ((rc = bulwark_client_open(d, cli->store, &c)) == 0)
		rc = bulwark_client_connect(c, cli->timeout_ms);
	if (rc != 0)
		fprintf(stderr,
			"%s: warning: key packages not published yet (%s); "
			"they will be when the device next connects\n",
			cli->prog, bulwark_strerror(rc));
	bulwark_client_free(c);
}

static int activate(struct cli *cli, const struct values *v)
{
	static const char exists[] =
		"this device is already activated (its keystore exists)";
	struct bulwark_activation a;
	struct bulwark_device *d = NULL;
	char host_name[BULWARK_MAX_NAME + 1];
	const char *name = v->name;
	char *pass = NULL;
	int rc;

	memset(&a, 0, sizeof(a));
	if (name == NULL) {
		default_name(host_name, sizeof(host_name));
		name = host_name;
	}
	if ((rc = cli_keystore_path(cli, true)) != CLI_OK)
		return rc;
	/* Before asking for anything; bulwark_activate() checks again. */
	if (access(cli->keystore, F_OK) == 0)
		return cli_error(cli, exists, BULWARK_ERR_KS_EXISTS);
	if ((rc = gather(cli, v, &a)) != CLI_OK ||
	    (rc = cli_passphrase(cli, true, &pass)) != CLI_OK)
		goto out;
	if ((rc = bulwark_activate(&a, name, cli->keystore, pass,
				   cli->timeout_ms, &d)) != 0) {
		rc = cli_error(cli, rc == BULWARK_ERR_KS_EXISTS ? exists
								: "activation",
			       rc);
		goto out;
	}
	rc = print_result(cli, d);
	prepare_conversations(cli, d);
	d = NULL; /* the client took it */
out:
	bulwark_activation_clear(&a);
	bulwark_passphrase_free(pass);
	bulwark_device_free(d);
	return rc;
}

int cmd_activate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "code", required_argument, NULL, 'c' },
		{ "password", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'a' },
		{ "name", required_argument, NULL, 'n' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct values v = { 0 };
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': v.server = optarg; break;
		case 'u': v.user = optarg; break;
		case 'c': v.code = optarg; break;
		case 'p': v.password = optarg; break;
		case 'a': v.ca = optarg; break;
		case 'n': v.name = optarg; break;
		default:
			if ((rc = cli_common_option(cli, ch, usage)) !=
			    CLI_CONTINUE)
				return rc;
		}
	}
	if (optind < argc)
		v.uri = argv[optind++];
	if (optind != argc)
		return cli_usage(cli, usage, "unexpected argument");
	if ((v.uri != NULL) ==
	    (v.server != NULL || v.user != NULL || v.code != NULL ||
	     v.ca != NULL || v.password != NULL))
		return cli_usage(cli, usage, "give either the URI or the values");
	if (v.uri == NULL &&
	    (v.server == NULL || v.user == NULL || v.code == NULL || v.ca == NULL))
		return cli_usage(cli, usage,
				 "--server, --user, --code and --ca are needed");
	if (v.uri == NULL && v.password == NULL && !cli_have_terminal())
		return cli_usage(cli, usage,
				 "no terminal to ask for the password on: give "
				 "--password or the URI");
	return activate(cli, &v);
}

/* cmd_status.c - bulwarkctl status: is the server up, and how busy. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "admin_client.h"
#include "ctl_format.h"

static const char usage[] = "usage: bulwarkctl status [-c CONFIG]\n";

static int print_status(const struct ctl *ctl,
			const struct admin_status_info *s)
{
	char up[32];

	if (ctl->json)
		return ctl_print_json(json_pack(
			"{s:{s:s%,s:s%,s:s%,s:s%,s:i,s:I,s:i,s:i,s:i,s:i}}",
			"status", "version", (const char *)s->version.p,
			s->version.n, "server_name",
			(const char *)s->server_name.p, s->server_name.n,
			"address", (const char *)s->public_address.p,
			s->public_address.n, "ca_fingerprint",
			(const char *)s->ca_fingerprint.p, s->ca_fingerprint.n,
			"mls_suite", (json_int_t)s->mls_suite, "uptime",
			(json_int_t)s->uptime, "connections",
			(json_int_t)s->connections, "authenticated",
			(json_int_t)s->authenticated, "users",
			(json_int_t)s->users, "devices",
			(json_int_t)s->devices));
	ctl_format_duration(s->uptime, up, sizeof(up));
	printf("server        %.*s (%.*s)\n"
	       "address       %.*s\n"
	       "MLS suite     %u\n"
	       "uptime        %s\n"
	       "connections   %u (%u authenticated devices)\n"
	       "users         %u\n"
	       "devices       %u active\n"
	       "CA (SHA-256)  %.*s\n",
	       (int)s->server_name.n, (const char *)s->server_name.p,
	       (int)s->version.n, (const char *)s->version.p,
	       (int)s->public_address.n, (const char *)s->public_address.p,
	       s->mls_suite, up, s->connections, s->authenticated, s->users,
	       s->devices, (int)s->ca_fingerprint.n,
	       (const char *)s->ca_fingerprint.p);
	return CTL_OK;
}

int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct admin_status_info info;
	struct admin_response resp;
	struct admin_client *ac;
	struct admin_marks mk;
	struct bw_writer *w;
	const char *config = NULL;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'h': fputs(usage, stdout); return CTL_OK;
		default: return ctl_usage_error(ctl, usage, "bad option");
		}
	}
	if (optind != argc)
		return ctl_usage_error(ctl, usage, "unexpected argument");
	if (admin_client_open(ctl, ctl_config_path(config), &ac) != CTL_OK)
		return CTL_FAIL;
	w = admin_client_request(ac);
	mk = admin_request_begin(w, ADMIN_OP_STATUS);
	admin_end(w, mk);
	rc = admin_client_call(ctl, ac, &resp);
	if (rc == CTL_OK && admin_decode_status_info(&resp.body, &info) != 0)
		rc = ctl_fail(ctl, 0, "bad status from the server");
	if (rc == CTL_OK)
		rc = print_status(ctl, &info);
	admin_client_close(ac);
	return rc;
}

/* cmd_user.c - bulwarkctl user add|list|disable: the organisation's
 * people, through the server's administration socket. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin_client.h"
#include "ctl_format.h"

static const char usage[] =
	"usage: bulwarkctl user add NAME [--display-name TEXT] [-c CONFIG]\n"
	"       bulwarkctl user list [-c CONFIG]\n"
	"       bulwarkctl user disable NAME [-c CONFIG]\n"
	"\n"
	"NAME: 1-64 characters from a-z 0-9 . _ -, starting with a letter or\n"
	"digit. Disabling a user closes the connections of all their devices\n"
	"and refuses them from then on.\n";

static int user_add(const struct ctl *ctl, struct admin_client *ac,
		    const char *name, const char *display)
{
	struct admin_user_add add = {
		{ (const uint8_t *)name, strlen(name) },
		{ (const uint8_t *)display, strlen(display) },
	};
	struct bw_writer *w = admin_client_request(ac);
	struct admin_marks mk = admin_request_begin(w, ADMIN_OP_USER_ADD);
	struct admin_response resp;

	admin_encode_user_add(w, &add);
	admin_end(w, mk);
	if (admin_client_call(ctl, ac, &resp) != CTL_OK)
		return CTL_FAIL;
	if (ctl->json)
		return ctl_print_json(json_pack("{s:{s:s,s:s}}", "user", "name",
						name, "display_name", display));
	printf("user %s added\n", name);
	return CTL_OK;
}

static int user_disable(const struct ctl *ctl, struct admin_client *ac,
			const char *name)
{
	struct admin_name n = { { (const uint8_t *)name, strlen(name) } };
	struct bw_writer *w = admin_client_request(ac);
	struct admin_marks mk = admin_request_begin(w, ADMIN_OP_USER_DISABLE);
	struct admin_response resp;

	admin_encode_name(w, &n);
	admin_end(w, mk);
	if (admin_client_call(ctl, ac, &resp) != CTL_OK)
		return CTL_FAIL;
	if (ctl->json)
		return ctl_print_json(json_pack("{s:{s:s,s:b}}", "user", "name",
						name, "disabled", 1));
	printf("user %s disabled; their devices are disconnected\n", name);
	return CTL_OK;
}

static json_t *user_json(const struct admin_user *u)
{
	char created[32];

	ctl_format_time(u->created, created, sizeof(created));
	return json_pack("{s:s%,s:s%,s:b,s:i,s:s}", "name",
			 (const char *)u->name.p, u->name.n, "display_name",
			 (const char *)u->display_name.p, u->display_name.n,
			 "disabled", u->disabled, "devices",
			 (json_int_t)u->devices, "created", created);
}

static void user_row(const struct admin_user *u)
{
	char created[32];

	ctl_format_time(u->created, created, sizeof(created));
	printf("%-20.*s %-28.*s %-9s %7u  %s\n", (int)u->name.n,
	       (const char *)u->name.p, (int)u->display_name.n,
	       (const char *)u->display_name.p,
	       u->disabled ? "disabled" : "active", u->devices, created);
}

static int user_list(const struct ctl *ctl, struct admin_client *ac)
{
	struct bw_writer *w = admin_client_request(ac);
	struct admin_marks mk = admin_request_begin(w, ADMIN_OP_USER_LIST);
	struct admin_response resp;
	struct admin_user u;
	struct bw_reader list;
	json_t *arr = json_array();

	admin_end(w, mk);
	if (admin_client_call(ctl, ac, &resp) != CTL_OK ||
	    admin_open_list(&resp.body, &list) != 0) {
		json_decref(arr);
		return CTL_FAIL;
	}
	if (!ctl->json)
		printf("%-20s %-28s %-9s %7s  %s\n", "NAME", "DISPLAY NAME",
		       "STATUS", "DEVICES", "CREATED");
	while (bw_reader_remaining(&list) > 0) {
		if (admin_read_user(&list, &u) != 0) {
			json_decref(arr);
			return ctl_fail(ctl, list.err, "bad user list");
		}
		if (ctl->json)
			json_array_append_new(arr, user_json(&u));
		else
			user_row(&u);
	}
	if (ctl->json)
		return ctl_print_json(json_pack("{s:o}", "users", arr));
	json_decref(arr);
	return CTL_OK;
}

int cmd_user(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "display-name", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *display = "", *action;
	struct admin_client *ac;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:d:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'd': display = optarg; break;
		case 'h': fputs(usage, stdout); return CTL_OK;
		default: return ctl_usage_error(ctl, usage, "bad option");
		}
	}
	action = optind < argc ? argv[optind] : "";
	if (!((strcmp(action, "list") == 0 && argc - optind == 1) ||
	      ((strcmp(action, "add") == 0 || strcmp(action, "disable") == 0) &&
	       argc - optind == 2)))
		return ctl_usage_error(ctl, usage, "expected add, list or "
						   "disable");
	if (admin_client_open(ctl, ctl_config_path(config), &ac) != CTL_OK)
		return CTL_FAIL;
	if (strcmp(action, "add") == 0)
		rc = user_add(ctl, ac, argv[optind + 1], display);
	else if (strcmp(action, "disable") == 0)
		rc = user_disable(ctl, ac, argv[optind + 1]);
	else
		rc = user_list(ctl, ac);
	admin_client_close(ac);
	return rc;
}

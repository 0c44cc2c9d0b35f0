/*
 * cmd_listen.c - bulwark listen: stay connected and show messages as they
 * arrive, until SIGINT or SIGTERM. Each is stored before the server is
 * told it arrived. A lost connection is opened again (the server keeps
 * what was not acknowledged); a revoked device stops.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"

static const char usage[] =
	"usage: bulwark listen [OPTIONS]\n"
	"\n"
	"Receive the backlog, then show every message as it arrives, until\n"
	"interrupted (SIGINT or SIGTERM). With --json, one object per line.\n"
	"If the connection is lost, it is opened again.\n"
	"\n" CLI_COMMON_USAGE;

/* How long one wait for the server lasts, so that a signal is noticed. */
#define WAIT_MS 200
#define RECONNECT_PAUSE_MS 500

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: waits return early */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

struct listener {
	const struct cli *cli;
	struct bulwark_client *c;
};

static void print_message(const struct cli *cli,
			  const struct bulwark_message *m)
{
	if (cli->json)
		cli_print_json(json_pack("{s:o}", "message",
					 cli_message_json(m)));
	else
		cli_print_message(m);
	fflush(stdout);
}

/* Each message as it is stored; shown means seen. */
static void on_message(void *arg, const struct bulwark_message *m)
{
	struct listener *l = arg;

	print_message(l->cli, m);
	(void)bulwark_mark_seen(l->c, m->id);
}

/* What arrived while nobody was listening. */
static int show_unseen(struct listener *l)
{
	struct bulwark_message *m = NULL;
	size_t n = 0;
	int rc;

	if ((rc = bulwark_unseen(l->c, &m, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		print_message(l->cli, &m[i]);
	if (n > 0)
		rc = bulwark_mark_seen(l->c, m[n - 1].id);
	bulwark_messages_free(m, n);
	return rc;
}

/* Connect (again), until it works or a signal comes. */
static int reconnect(struct listener *l)
{
	struct timespec pause = { 0, RECONNECT_PAUSE_MS * 1000000L };
	int rc;

	for (;;) {
		rc = bulwark_client_connect(l->c, l->cli->timeout_ms);
		if (rc == 0)
			rc = bulwark_client_sync(l->c);
		if (rc == 0 || rc == BULWARK_ERR_DEVICE_REVOKED ||
		    rc == BULWARK_ERR_CERT_EXPIRED ||
		    rc == BULWARK_ERR_DEVICE_REFUSED ||
		    rc == BULWARK_ERR_SERVER_CERT || stop)
			return rc;
		nanosleep(&pause, NULL);
	}
}

static int listen_loop(struct listener *l)
{
	int rc = 0;

	while (!stop) {
		rc = bulwark_client_poll(l->c, WAIT_MS);
		if (rc == BULWARK_ERR_DEVICE_REVOKED)
			return rc;
		if (rc != 0 && (rc = reconnect(l)) != 0)
			return stop ? 0 : rc;
	}
	return 0;
}

int cmd_listen(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct listener l = { cli, NULL };
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if ((rc = cli_common_option(cli, ch, usage)) != CLI_CONTINUE)
			return rc;
	if (optind != argc)
		return cli_usage(cli, usage, "unexpected argument");
	catch_signals();
	if ((rc = cli_open_client(cli, false, &l.c)) != CLI_OK)
		return rc;
	/* First what came before, then what comes. */
	if ((rc = show_unseen(&l)) == 0) {
		bulwark_client_set_message_handler(l.c, on_message, &l);
		if ((rc = reconnect(&l)) == 0)
			rc = listen_loop(&l);
	}
	rc = rc == 0 ? CLI_OK : cli_error(cli, "listening", rc);
	bulwark_client_free(l.c);
	return rc;
}

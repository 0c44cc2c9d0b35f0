/* main.c - bulwarkd: the Bulwark server. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "errors.h"
#include "log.h"
#include "privsep.h"
#include "server.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bulwarkd -c CONFIG\n"
		"       bulwarkd --help | --version\n"
		"\n"
		"Runs the Bulwark server in the foreground until SIGTERM or\n"
		"SIGINT; SIGHUP reopens the log file. CONFIG is the file that\n"
		"'bulwarkctl init' wrote (see docs/configuration.md).\n"
		"\n"
		"  -c, --config FILE   configuration file\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n");
}

static int parse_args(int argc, char **argv, const char **config)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			*config = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("bulwarkd %s\n", BULWARK_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (*config == NULL || optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* 20k connections need 20k descriptors: take all the hard limit allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("cannot raise the open file limit: %s",
			 strerror(errno));
}

/* Signals are taken synchronously by the main thread only: blocked here,
 * before any thread exists, so every thread inherits the mask. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void wait_for_stop(const sigset_t *set)
{
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			if (log_reopen() != 0)
				log_error("cannot reopen the log file");
			log_info("log reopened");
			continue;
		}
		log_info("%s received, shutting down",
			 sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return;
	}
}

int main(int argc, char **argv)
{
	static struct bwd_server srv;
	const char *config = NULL;
	char err[512];
	sigset_t set;
	int rc;

	if (parse_args(argc, argv, &config) != 0)
		return 2;
	umask(077); /* database, log and admin socket: the server's alone */
	if (config_load(config, &srv.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "bulwarkd: %s: %s\n", config, err);
		return 1;
	}
	/* The CA monitor first, from a process that has read no secret, no
	 * key and no network byte, and has no threads. */
	if ((rc = privsep_start(srv.cfg.ca_key, srv.cfg.ca_cert,
				srv.cfg.ca_passphrase_file, &srv.privsep)) != 0) {
		fprintf(stderr, "bulwarkd: cannot start the CA monitor: %s\n",
			ca_strerror(rc));
		return 1;
	}
	if (log_open(srv.cfg.log_file, srv.cfg.log_level) != 0) {
		fprintf(stderr, "bulwarkd: cannot open the log %s: %s\n",
			srv.cfg.log_file, strerror(errno));
		privsep_stop(srv.privsep);
		return 1;
	}
	raise_fd_limit();
	block_signals(&set);
	log_info("CA monitor running as process %d",
		 (int)privsep_monitor_pid(srv.privsep));
	if ((rc = server_start(&srv)) == 0)
		wait_for_stop(&set);
	server_stop(&srv);
	privsep_stop(srv.privsep);
	log_info(rc == 0 ? "stopped" : "could not start");
	log_close();
	return rc == 0 ? 0 : 1;
}

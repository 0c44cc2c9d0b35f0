/*
 * monitor_main.c - bulwark-ca-monitor, the process that holds the CA key.
 *
 * Started only by privsep_start() (server/privsep/client.c), with its end
 * of the socket as descriptor 3:
 *   bulwark-ca-monitor --ca-key K --ca-cert C --passphrase-file F
 * It forbids being traced or dumped before it reads anything secret, opens
 * the key, gives up what it no longer needs, reports READY (or why not) and
 * serves until the socket closes.
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "monitor.h"
#include "wire.h"

struct options {
	const char *ca_key;
	const char *ca_cert;
	const char *passphrase_file;
};

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "ca-key", required_argument, NULL, 'k' },
		{ "ca-cert", required_argument, NULL, 'c' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k': o->ca_key = optarg; break;
		case 'c': o->ca_cert = optarg; break;
		case 'p': o->passphrase_file = optarg; break;
		default: return -1;
		}
	}
	if (optind != argc || o->ca_key == NULL || o->ca_cert == NULL ||
	    o->passphrase_file == NULL)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct ca *ca = NULL;
	struct stat st;
	int rc;

	/* Before any secret is read: no core dump, and no ptrace or
	 * /proc/<pid>/mem access by processes of the same user. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 1;
	if (parse_options(argc, argv, &o) != 0 ||
	    fstat(PRIVSEP_MONITOR_FD, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "usage: %s --ca-key FILE --ca-cert FILE "
				"--passphrase-file FILE (started by bulwarkd, "
				"with its socket as descriptor %d)\n",
			argv[0], PRIVSEP_MONITOR_FD);
		return 2;
	}
	rc = ca_load(o.ca_key, o.ca_cert, o.passphrase_file, &ca);
	if (rc == 0)
		rc = monitor_sandbox();
	if (monitor_send_ready(PRIVSEP_MONITOR_FD, rc) != 0 || rc != 0) {
		ca_free(ca);
		return 1;
	}
	rc = monitor_serve(ca, PRIVSEP_MONITOR_FD);
	ca_free(ca);
	return rc == 0 ? 0 : 1;
}

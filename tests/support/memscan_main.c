/*
 * memscan_main.c - bw-memscan: is the CA's key or passphrase in the memory
 * of a running process? (docs/privsep.md, "How we check")
 *
 *   bw-memscan --pid PID --ca-key FILE --passphrase-file FILE
 *              [--expect-key]
 *
 * Exit 0 when neither secret is found (with --expect-key: when the key is
 * found, the positive control on the monitor); 1 otherwise; 2 when the
 * arguments, the key or the process's memory cannot be used.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "ca.h"
#include "ca_secrets.h"

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s --pid PID --ca-key FILE --passphrase-file FILE "
		"[--expect-key]\n",
		prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "ca-key", required_argument, NULL, 'k' },
		{ "passphrase-file", required_argument, NULL, 'f' },
		{ "expect-key", no_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	struct memscan_needle needles[CA_SECRETS];
	struct memscan_result res;
	const char *key = NULL, *pass = NULL;
	bool expect_key = false, key_found;
	long pid = 0;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': pid = strtol(optarg, NULL, 10); break;
		case 'k': key = optarg; break;
		case 'f': pass = optarg; break;
		case 'e': expect_key = true; break;
		default: usage(argv[0]); return 2;
		}
	}
	if (pid <= 0 || key == NULL || pass == NULL || optind != argc) {
		usage(argv[0]);
		return 2;
	}
	if ((rc = ca_secrets_needles(key, pass, needles)) != 0) {
		fprintf(stderr, "bw-memscan: %s: %s\n", key, ca_strerror(rc));
		return 2;
	}
	if (memscan_pid((pid_t)pid, needles, CA_SECRETS, &res) != 0) {
		perror("bw-memscan: cannot read the process's memory");
		return 2;
	}
	printf("pid %ld: %zu regions, %.1f MiB scanned:", pid, res.regions,
	       (double)res.bytes / (1024.0 * 1024.0));
	for (int k = 0; k < CA_SECRETS; k++)
		printf(" %s %zu", needles[k].label, res.hits[k]);
	printf("\n");
	for (int k = 0; k < CA_SECRETS; k++)
		if (res.hits[k] > 0)
			printf("  %s first found at 0x%llx\n", needles[k].label,
			       (unsigned long long)res.first_hit[k]);
	key_found = res.hits[CA_SECRET_KEY_BE] + res.hits[CA_SECRET_KEY_LE] > 0;
	if (expect_key)
		return key_found ? 0 : 1;
	return key_found || res.hits[CA_SECRET_PASSPHRASE] > 0 ? 1 : 0;
}

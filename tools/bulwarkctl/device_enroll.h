/*
 * device_enroll.h - bulwarkctl device enroll: pre-provisioned (managed)
 * devices, in bulk (docs/cli.md).
 *
 * The key pairs are generated here, of the type the organisation's suite
 * prescribes; only the public keys go to the server, whose CA monitor
 * certifies them (admin_enroll.h). Each device's certificate and private
 * key land in DIR/<device id>.pem (0600, created exclusively), the CA
 * certificate in DIR/ca.crt, and a line "user<TAB>device id<TAB>name<TAB>
 * file" per device in DIR/devices.tsv: what a device-management system
 * hands to each device.
 */
#ifndef BULWARKCTL_DEVICE_ENROLL_H
#define BULWARKCTL_DEVICE_ENROLL_H

#include <stdbool.h>

#include "admin_client.h"

/* Most devices one run enrolls (users x count). */
#define ENROLL_MAX_DEVICES 100000u
#define ENROLL_MAX_COUNT 10000u

struct enroll_options {
	const char *const *users; /* user names */
	unsigned n_users;
	unsigned count;          /* devices per user */
	const char *name;        /* device name (count > 1: "<name>-<i>") */
	const char *out_dir;
	bool add_users;          /* create the users that do not exist */
};

/* Enroll count devices for each user; reports its own failures. Devices
 * enrolled before a failure stay enrolled and recorded in the directory. */
int device_enroll(const struct ctl *ctl, struct admin_client *ac,
		  const struct enroll_options *o);

/* The whole command: the users named (names[0..n_names)) and those of
 * users_file (NULL: none), then device_enroll() on the server that the
 * configuration file config (NULL: the default) names. */
int device_enroll_command(const struct ctl *ctl, const char *config,
			  struct enroll_options *o, const char *users_file,
			  char **names, int n_names);

/* A device count, 1..ENROLL_MAX_COUNT; false if malformed. */
bool enroll_parse_count(const char *s, unsigned *out);

/* The user names of a file, one a line (blank lines and '#' comments
 * skipped): *users (an array of strings, each allocated) is the caller's,
 * freed with enroll_users_free. */
int enroll_users_read(const struct ctl *ctl, const char *path, char ***users,
		      unsigned *n);
void enroll_users_free(char **users, unsigned n);

#endif

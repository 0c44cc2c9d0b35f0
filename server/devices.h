/*
 * devices.h - the devices that may log in, in memory: every active device
 * of an enabled user, by certificate fingerprint (SHA-256 of the DER).
 *
 * The TLS verify callback of every worker asks it on each handshake, so it
 * is read-mostly and guarded by a reader-writer lock. It is loaded from the
 * store at start and changed only after the store has committed: a device
 * added on activation, removed on revocation or when its user is disabled.
 */
#ifndef BWD_DEVICES_H
#define BWD_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Who a connection is, once authenticated. */
struct device_ident {
	char id[STORE_NAME_SIZE];
	char user[STORE_NAME_SIZE];
	char name[STORE_NAME_SIZE];
	uint8_t fingerprint[STORE_FINGERPRINT_LEN]; /* of its certificate */
};

struct devices;

int devices_new(struct devices **out);
void devices_free(struct devices *d);
int devices_add(struct devices *d, const struct store_device *dev);
/* Remove one device by fingerprint (no-op if absent). */
void devices_remove(struct devices *d, const uint8_t *fingerprint);
/* Remove every device of a user. */
void devices_remove_user(struct devices *d, const char *user);
/* True if a device with this fingerprint may log in; *out (optional)
 * receives its identity. */
bool devices_lookup(struct devices *d, const uint8_t *fingerprint,
		    struct device_ident *out);
size_t devices_count(struct devices *d);

#endif

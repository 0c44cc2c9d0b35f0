/*
 * privsep.h - the CA behind privilege separation (docs/privsep.md).
 *
 * bulwarkd's network process never holds the CA private key. privsep_start()
 * starts the CA monitor, a separate small executable (bulwark-ca-monitor,
 * installed beside bulwarkd) that alone reads the passphrase, decrypts the
 * CA key and signs. The network process asks it for what it needs over a
 * socket, from a fixed request table; there is no request that signs
 * arbitrary bytes or reveals the key.
 *
 *   struct privsep *ps;
 *   if ((rc = privsep_start(cfg.ca_key, cfg.ca_cert, cfg.ca_passphrase_file,
 *                           &ps)) != 0)
 *           die("CA monitor: %s", ca_strerror(rc));
 *   ...
 *   rc = privsep_issue_device_cert(ps, user, device_id, spki, spki_len,
 *                                  cfg.device_cert_days, &cert, &cert_len);
 *   ...
 *   privsep_stop(ps);   // on SIGTERM, from the main loop
 *
 * Errors are negative codes of ca_err.h (ca_strerror()): the monitor's own
 * (-530..-549) and those of the CA it passes on (-500..-529, -1..-99).
 */
#ifndef BW_PRIVSEP_H
#define BW_PRIVSEP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ca_err.h"

/* Where privsep_start() looks for the monitor when the environment does
 * not name one: beside the running executable. */
#define PRIVSEP_MONITOR_NAME "bulwark-ca-monitor"
/* Absolute path of the monitor, overriding the default (tests, packaging). */
#define PRIVSEP_MONITOR_ENV "BULWARK_CA_MONITOR"

struct privsep;

/*
 * Start the CA monitor and wait until it has opened the CA key.
 *
 * Call it first thing in main(), before any thread, socket or untrusted
 * input exists: it forks, and the child closes every descriptor but its end
 * of the socket (and standard error), then executes the monitor, so the
 * monitor's address space holds nothing of the server. The paths are handed
 * over as they are (relative ones are relative to the current directory);
 * this process opens none of them. Fails with the monitor's reason, such as
 * CA_ERR_PASSPHRASE, when it cannot open the key. On success *out is the
 * caller's, to release with privsep_stop().
 */
int privsep_start(const char *ca_key_path, const char *ca_cert_path,
		  const char *passphrase_file, struct privsep **out);

/*
 * Ask the monitor to certify a device's signature key (SubjectPublicKeyInfo,
 * DER) for (user, device_id), valid for validity_days. The monitor checks
 * everything again (names, key type against the organisation's suite,
 * validity) as ca_issue_device_cert() documents. On success *cert_der
 * (DER, *cert_len bytes) is the caller's to free(). Blocking; thread-safe:
 * concurrent callers are served one at a time.
 */
int privsep_issue_device_cert(struct privsep *ps, const char *user,
			      const char *device_id, const uint8_t *spki_der,
			      size_t spki_len, uint32_t validity_days,
			      uint8_t **cert_der, size_t *cert_len);

/*
 * Ask the monitor to certify the delivery service's signature key (SPKI,
 * DER, of the suite's signature type) for server_name: the DS credential
 * of docs/ca.md, with the CA's fixed validity for server certificates.
 * As privsep_issue_device_cert: *cert_der is the caller's; blocking and
 * thread-safe.
 */
int privsep_issue_ds_cert(struct privsep *ps, const char *server_name,
			  const uint8_t *spki_der, size_t spki_len,
			  uint8_t **cert_der, size_t *cert_len);

/* The CA certificate the monitor signs with (DER, the caller's to free()).
 * Blocking; thread-safe. */
int privsep_get_ca_cert(struct privsep *ps, uint8_t **cert_der,
			size_t *cert_len);

/*
 * Close the socket, which ends the monitor, and reap it (killing it if it
 * has not exited within a few seconds). Not for a signal handler: call it
 * from the code that acts on SIGTERM, with no request in flight. NULL is a
 * no-op.
 */
void privsep_stop(struct privsep *ps);

/* The monitor's process id (-1 for NULL), e.g. for logs and tests. */
pid_t privsep_monitor_pid(const struct privsep *ps);

#endif

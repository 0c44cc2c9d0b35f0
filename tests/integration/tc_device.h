/*
 * tc_device.h - a small MLS device for the delivery service's integration
 * tests (bw_testclient ds-* commands): libmls groups driven directly over
 * the device protocol, so that a test can both play by the rules and break
 * them one at a time.
 *
 * A device lives in the directory `bw_testclient activate` wrote
 * (device.key, device.crt, ca.crt, device_id); its groups, key package
 * bundles and what it has received so far are kept in DIR/tc.state, so
 * that one command can pick up where another left off (and a receiver can
 * come back after the server was killed). Groups are named: the group id
 * is SHA-256("bulwark test group " NAME), truncated to 16 bytes, so every
 * device can name the same group.
 *
 * What a device receives it processes in the order of each group's seq,
 * skipping what it already has (the protocol's deduplication), prints
 * application messages as "recv NAME SEQ TEXT" (NAME: the group id's
 * first 8 hex digits), and acknowledges once its state is saved.
 */
#ifndef TC_DEVICE_H
#define TC_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "mls/mls.h"
#include "proto.h"

#define TC_MAX_GROUPS 16
#define TC_MAX_KPS 256
#define TC_GROUP_ID_LEN 16

struct bulwark_session;

struct tc_group {
	uint8_t id[TC_GROUP_ID_LEN];
	struct mls_group *g;
	uint64_t seen;        /* highest seq handled */
	uint64_t *own;        /* seqs of this device's application messages */
	size_t n_own, cap_own;
	bool server_proposal; /* a Remove of the server's is pending */
};

/* A push not handled yet (copied out of the session's buffer). */
struct tc_push {
	uint16_t type;
	uint8_t *body;
	size_t len;
};

struct tc_device {
	char dir[4096];
	char device_id[PROTO_MAX_NAME + 1];
	int suite;
	EVP_PKEY *key;
	X509 *cert;
	uint8_t *ca_der;
	size_t ca_len;
	struct mls_signer *signer;
	struct mls_config cfg;
	struct bulwark_session *s;
	/* SERVER_INFO */
	uint8_t ds_key[PROTO_MAX_SIGNATURE_KEY];
	size_t ds_key_len;
	struct mls_credential *ds_cred;
	/* state */
	struct tc_group groups[TC_MAX_GROUPS];
	size_t n_groups;
	uint64_t inbox_seen;
	struct mls_key_package_bundle *kps[TC_MAX_KPS];
	size_t n_kps;
	/* what arrived */
	struct tc_push *queue;
	size_t n_queue, cap_queue;
	bool synced;
	unsigned kp_low;      /* KP_LOW pushes seen */
	unsigned received;    /* application messages shown */
	unsigned duplicates;  /* deliveries of what was already handled */
	unsigned own;         /* deliveries of its own application messages */
	unsigned welcomes;    /* groups joined from a Welcome */
	uint64_t last_status;
};

/* Exit codes of the test client (bw_testclient.c). */
#define TC_EXIT_REFUSED 1
#define TC_EXIT_FAIL 4

/* Report and exit with TC_EXIT_FAIL. */
void tc_die(const char *what, int rc) __attribute__((noreturn));

int tc_device_open(const char *dir, struct tc_device *d);
void tc_device_close(struct tc_device *d);
int tc_device_save(struct tc_device *d);

/* Connect with mutual TLS, say HELLO, read SERVER_INFO. */
int tc_connect(struct tc_device *d, const char *address);
void tc_disconnect(struct tc_device *d);

/* Handle input for up to ms; with until_synced, return as soon as SYNCED
 * came (then everything pushed so far is handled and acknowledged). */
int tc_pump(struct tc_device *d, int ms, bool until_synced);

/* A request with body[0..n): 0 or the refusal's protocol status (also in
 * d->last_status); *resp valid until the next request. */
int tc_call(struct tc_device *d, uint16_t type, const uint8_t *body,
	    size_t n, struct proto_msg *resp);

void tc_group_id(const char *name, uint8_t out[TC_GROUP_ID_LEN]);
struct tc_group *tc_group_find(struct tc_device *d, const char *name);
/* 16 random bytes. */
void tc_random_key(uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN]);

/* Requests, as a well-behaved device makes them. Each returns 0 or the
 * server's status. */
int tc_upload_key_packages(struct tc_device *d, unsigned n, bool last_resort,
			   uint32_t *available);
int tc_group_create(struct tc_device *d, const char *name);
/* Claim every device of the users and add them in one commit. */
int tc_group_add(struct tc_device *d, const char *name,
		 const char *const *users, size_t n_users);
/* Commit what is pending (the server's proposals), or an empty commit
 * with a path. */
int tc_group_commit(struct tc_device *d, const char *name, uint64_t *seq);
int tc_send_text(struct tc_device *d, const char *name, const char *text,
		 uint64_t *seq);
/* GROUP_COMMIT of a prepared commit; *seq and *epoch of the answer. */
int tc_submit_commit(struct tc_device *d, struct tc_group *gr,
		     const struct mls_commit_output *co, const uint8_t *key,
		     uint64_t *seq, uint64_t *epoch);
/* Join every group of the user this device is not in, by external
 * commit; *joined counts them. */
int tc_join_external(struct tc_device *d, unsigned *joined);

#endif

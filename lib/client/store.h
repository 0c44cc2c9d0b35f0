/*
 * store.h - the device's local conversation store, inside libbulwark
 * (docs/libbulwark.md, "The local store").
 *
 * One SQLite database (WAL, synchronous=FULL) beside the keystore. What it
 * holds is sealed under keys derived from a random 32-byte store key that
 * lives in the keystore (entry "store/key"), so the database is useless
 * without the keystore's passphrase:
 *
 *   conversations  ref, cursor, MLS group state (sealed by libmls under the
 *                  state key), info (sealed: group id, name, flags)
 *   messages       ref, server seq, body (sealed: sender, time, text)
 *   key_packages   id, bundle (sealed by libmls), last-resort flag
 *   counters       name, value (the inbox cursor, what was last shown)
 *
 * A conversation's row key ("ref") is HMAC(index key, group id): the group
 * id itself never reaches the disk in clear. Every sealed column is
 * AES-256-GCM with the table and row key as associated data, so a value
 * cannot be moved to another row unnoticed.
 *
 * One process at a time: store_open takes an exclusive lock on
 * "<path>.lock" (BULWARK_ERR_STORE_BUSY otherwise), because two processes
 * using the same MLS state would reuse ratchet keys.
 *
 * Transactions: store_begin .. store_commit make the writes between them
 * atomic and durable (a message, its group state and its cursor together);
 * store_rollback undoes them. Calls outside a transaction commit at once.
 */
#ifndef BW_CLIENT_STORE_H
#define BW_CLIENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulwark/bulwark.h"
#include "bytes.h"
#include "mls/mls.h"

#define STORE_KEY_ENTRY "store/key"
#define STORE_KEY_LEN 32u
#define STORE_REF_LEN 32u
#define STORE_MAX_GROUP_ID 64u
#define STORE_MAX_STATE (16u * 1024u * 1024u)
#define STORE_MAX_TEXT (64u * 1024u)

/* Counters kept by name. */
#define STORE_C_INBOX "inbox"   /* last inbox seq processed */
#define STORE_C_SHOWN "shown"   /* last message id shown by recv/listen */

struct store;

/* A conversation as stored. */
struct store_conv {
	struct bw_bytes group_id;
	char name[BULWARK_MAX_NAME + 1]; /* "" when none */
	uint64_t created;                /* seconds since the epoch */
	uint64_t cursor;                 /* highest group seq processed */
	uint64_t epoch;                  /* the MLS state's epoch */
	bool active;                     /* this device is still a member */
	bool proposals;                  /* proposals of this epoch to commit */
	struct bw_bytes state;           /* mls_group_save() output */
};

/* One message of a conversation's history. */
enum store_msg_kind {
	STORE_MSG_TEXT = 1,  /* what a member wrote */
	STORE_MSG_TITLE = 2, /* a member named the conversation */
};

struct store_msg {
	uint64_t id;  /* local, increasing in the order stored */
	uint64_t seq; /* the server's, per conversation */
	uint64_t time;
	uint8_t kind;
	bool own;
	char user[BULWARK_MAX_NAME + 1];
	char device_id[BULWARK_MAX_NAME + 1];
	struct bw_bytes group_id;
	struct bw_bytes text;
};

/* Open (or create) the store at path with the key in ks (created there on
 * first use). BULWARK_ERR_STORE_KEY if the database was made with another
 * key. */
BULWARK_MUST_CHECK int store_open(const char *path,
				  struct bulwark_keystore *ks,
				  struct store **out);
void store_free(struct store *s);
/* The key libmls seals group states and key package bundles with. */
const uint8_t *store_state_key(const struct store *s);

int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* Insert or replace the conversation of c->group_id. */
int store_conv_put(struct store *s, const struct store_conv *c);
/* BULWARK_ERR_NO_CONVERSATION if there is none. */
BULWARK_MUST_CHECK int store_conv_get(struct store *s, const uint8_t *gid,
				      size_t gid_len, struct store_conv *out);
/* Every conversation, oldest first; *out is the caller's
 * (store_convs_free). */
BULWARK_MUST_CHECK int store_conv_list(struct store *s,
				       struct store_conv **out, size_t *n);
/* Remove a conversation (its messages stay). */
int store_conv_delete(struct store *s, const uint8_t *gid, size_t gid_len);
void store_conv_clear(struct store_conv *c);
void store_convs_free(struct store_conv *c, size_t n);

/* Add a message (m->id is assigned). BULWARK_ERR_STORE_DUPLICATE if the
 * conversation already has one with that seq. */
int store_msg_add(struct store *s, struct store_msg *m);
/* Is there a message with this (group, seq)? */
BULWARK_MUST_CHECK int store_msg_has(struct store *s, const uint8_t *gid,
				     size_t gid_len, uint64_t seq, bool *has);
/* Messages with an id above after_id, of one conversation (gid not NULL)
 * or all, in seq order per conversation (id order across them), at most
 * limit (0: all). *out is the caller's (store_msgs_free). */
BULWARK_MUST_CHECK int store_msg_list(struct store *s, const uint8_t *gid,
				      size_t gid_len, uint64_t after_id,
				      size_t limit, struct store_msg **out,
				      size_t *n);
void store_msg_clear(struct store_msg *m);
void store_msgs_free(struct store_msg *m, size_t n);

/* Key package bundles (mls_key_package_bundle_save output). */
struct store_kp {
	uint8_t id[32];
	bool last_resort;
	struct bw_bytes bundle;
};
int store_kp_add(struct store *s, const struct store_kp *kp);
BULWARK_MUST_CHECK int store_kp_list(struct store *s, struct store_kp **out,
				     size_t *n);
int store_kp_delete(struct store *s, const uint8_t id[32]);
void store_kps_free(struct store_kp *kp, size_t n);

/* Named counters; a missing one reads as 0. */
BULWARK_MUST_CHECK int store_counter_get(struct store *s, const char *name,
					 uint64_t *v);
int store_counter_set(struct store *s, const char *name, uint64_t v);

#endif

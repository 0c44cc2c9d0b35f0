/*
 * group_world.h - a small world for group tests: members that are separate
 * struct mls_group objects and talk only through serialised MLSMessages,
 * a delivery service that orders the messages and follows the group with
 * a struct mls_public_group, and a seeded random source.
 *
 *   struct gw_world w;
 *   gw_init(&w, MLS_SUITE_X25519_AES128GCM_SHA256_ED25519, 42, false);
 *   gw_add_members(&w, 0, 9);        // member 0 adds 9 by one commit
 *   gw_check(&w);                    // everyone agrees with everyone
 *   gw_free(&w);
 *
 * Every gw_ function returns 0 or the libmls error that stopped it, after
 * printing what failed.
 */
#ifndef BW_GROUP_WORLD_H
#define BW_GROUP_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mls/mls.h"

#define GW_PSK_ID "org-psk"

struct gw_member {
	struct mls_group *g;
	int id;
};

struct gw_world {
	uint16_t suite;
	struct mls_config cfg;
	struct gw_member *m;
	size_t n;
	struct mls_public_group *ds;
	struct mls_signer *ds_signer;
	struct mls_credential *ds_credential;
	/* Whether the DS view follows the group: not when handshake
	 * messages are PrivateMessages, which it cannot read. */
	bool ds_follows;
	/* The latest GroupInfo the delivery service accepted. */
	uint8_t *group_info;
	size_t group_info_len;
	bool group_info_has_tree;
	uint64_t rng;
	int next_id;
	uint8_t state_key[MLS_STATE_KEY_LEN];
};

int gw_init(struct gw_world *w, uint16_t suite, uint64_t seed,
	    bool private_handshake);
void gw_free(struct gw_world *w);
uint32_t gw_rand(struct gw_world *w, uint32_t bound);

/* A new client's signer with a basic credential "client-<id>". */
int gw_new_signer(struct gw_world *w, struct mls_signer **out, int *id);
/* Deliver msg from member `from` (-1: from outside) to every member and
 * the delivery service; the sender skips its own application data. Members
 * removed by a commit leave the world. */
int gw_deliver(struct gw_world *w, int from, const uint8_t *msg, size_t len,
	       bool application);
/* Member `from` commits what it has (cached and by value); the commit is
 * delivered, the GroupInfo checked by the delivery service and kept, new
 * members join from the Welcome (the tree in it, or from the DS, at
 * random). */
int gw_commit(struct gw_world *w, int from, bool force_path,
	      struct mls_key_package_bundle **joiners, int *joiner_ids,
	      size_t n_joiners);
/* The DS checks a commit's GroupInfo against its view and keeps it for
 * external joiners (o->group_info is taken). */
int gw_accept_group_info(struct gw_world *w, struct mls_commit_output *o,
			 bool has_tree);
/* Member `from` adds n new clients by value in one commit. */
int gw_add_members(struct gw_world *w, int from, size_t n);
/* A new client joins by external commit from the DS's GroupInfo. */
int gw_external_join(struct gw_world *w);
/* Member i is saved, freed and loaded again. */
int gw_reload(struct gw_world *w, size_t i);
/* Member `from` sends application data that every other member must
 * decrypt to the same bytes. */
int gw_message(struct gw_world *w, int from);
/* Every member (and the DS, if it follows) agree: epoch, epoch
 * authenticator, tree hash, leaves and their keys. */
int gw_check(struct gw_world *w);
/* The member at leaf, or with client id; w->n if there is none. */
size_t gw_find(const struct gw_world *w, uint32_t leaf);
size_t gw_find_id(const struct gw_world *w, int id);

#endif

/*
 * group_internal.h - the group lifecycle's internals (RFC 9420 §11-§12),
 * shared by group*.c, proposals.c, commit.c, welcome.c, external.c and
 * public_group.c; not part of any public interface.
 *
 * A group's state splits in two:
 *
 *   struct mls_public_state   what the delivery service can know: the
 *                             GroupContext, the ratchet tree, the interim
 *                             transcript hash, the epoch's confirmation tag
 *                             and the proposals cached this epoch;
 *   struct mls_group          a member: a public state plus its private
 *                             tree keys, signature key, epoch secrets,
 *                             secret tree, pending commit.
 *
 * A commit is handled in one pass over a struct mls_commit_state, the same
 * for a member and for the delivery service (commit.c):
 *
 *   mls_commit_resolve     ProposalOrRef -> proposals and their senders
 *   mls_commit_validate    §12.2 list rules (and "path required", §12.4)
 *   mls_commit_apply       §12.3 in a tree savepoint, checking each
 *                          proposal against the new extensions
 *   mls_commit_merge_path  §12.4.2 the UpdatePath's public part
 *   mls_commit_next_context  tree hash, transcript hash, epoch + 1
 *
 * after which the caller releases the savepoint and installs the new
 * epoch, or rolls it back: a rejected commit changes nothing.
 *
 *   group lifecycle                      pending commit
 *   create/join/join_external/load       mls_group_commit ----> pending
 *     -> active --process(commit)-->     pending --merge / own echo--> new
 *        new epoch                       epoch; --discard / other commit
 *     -> inactive (removed, reinit)      wins--> dropped
 */
#ifndef MLS_GROUP_INTERNAL_H
#define MLS_GROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "codec.h"
#include "crypto.h"
#include "framing.h"
#include "key_package.h"
#include "key_schedule.h"
#include "leaf_node.h"
#include "messages.h"
#include "mls/mls.h"
#include "secret_tree.h"
#include "tree.h"
#include "treekem.h"

/* Proposals cached per epoch: a bound on what one epoch's traffic can make
 * a client keep (and on the quadratic list checks). */
#define MLS_GROUP_MAX_PROPOSALS 1024u
#define MLS_DEFAULT_RESUMPTION_EPOCHS 8u
#define MLS_MAX_RESUMPTION_EPOCHS 1024u
#define MLS_DEFAULT_KEY_PACKAGE_LIFETIME (90u * 86400u)
/* Key packages are valid from this long before their creation. */
#define MLS_KEY_PACKAGE_SKEW 3600u

/* ---- objects of the public API ---- */

struct mls_signer {
	const struct mls_suite *suite;
	struct bw_bytes priv;
	struct bw_bytes pub;
	bool has_credential;
	struct mls_credential credential;
};

struct mls_extensions {
	struct mls_extension_list list;
};

/* Lifetime of a key package or leaf made now (MLS_KEY_PACKAGE_SKEW before
 * now to the configured lifetime after it). */
void mls_config_lifetime(const struct mls_config *cfg,
			 struct mls_lifetime *out);

struct mls_key_package_bundle {
	const struct mls_suite *suite;
	struct mls_key_package kp;
	struct mls_key_package_secrets secrets;
	struct bw_bytes sig_priv;
	uint8_t ref[MLS_MAX_HASH_LEN]; /* KeyPackageRef */
};

/* ---- proposals of an epoch (proposals.c) ---- */

struct mls_cached_proposal {
	uint8_t ref[MLS_MAX_HASH_LEN]; /* ProposalRef, §5.2 */
	struct mls_sender sender;
	struct mls_proposal proposal;
	/* This member's own Update: the new leaf's HPKE private key. */
	struct bw_bytes leaf_priv;
	/* Hash of the MLSMessage this member sent it in (own proposals
	 * only), so that the echo of a PrivateMessage is recognised. */
	struct bw_bytes message_hash;
};

struct mls_proposal_cache {
	struct mls_cached_proposal *v;
	size_t n;
};

/* ---- the public state of an epoch ---- */

struct mls_public_state {
	const struct mls_suite *suite;
	struct mls_config cfg;
	struct mls_group_context gc;
	/* gc's external_senders extension, decoded (empty without one). */
	struct mls_external_senders external_senders;
	struct mls_tree *tree;
	uint8_t interim[MLS_MAX_HASH_LEN];
	uint8_t confirmation_tag[MLS_MAX_HASH_LEN];
	struct mls_proposal_cache proposals;
};

void mls_public_state_clear(struct mls_public_state *st);
/* Copy cfg (MLS_ERR_INVALID_ARG without an accept_credential callback). */
int mls_public_state_set_config(struct mls_public_state *st,
				const struct mls_config *cfg);
/* Replace st->gc (moved from *gc, which is left cleared) and its decoded
 * external senders. On failure nothing changes. */
int mls_public_state_set_context(struct mls_public_state *st,
				 struct mls_group_context *gc);
/* The same in two steps: decoding (which may fail), then moving gc and es
 * (both left cleared) into st (which cannot). */
int mls_external_senders_of(const struct mls_extension_list *ext,
			    struct mls_external_senders *out);
void mls_public_state_install_context(struct mls_public_state *st,
				      struct mls_group_context *gc,
				      struct mls_external_senders *es);
/* The policy for leaves checked against the extensions ext. lifetime:
 * check key_package leaves' lifetimes against now (§7.3: a MUST for what
 * this client sends, RECOMMENDED for what it receives in a message; a
 * joiner does not check the tree's, whose leaves may be long in the
 * group). */
void mls_public_state_leaf_policy(const struct mls_public_state *st,
				  const struct mls_extension_list *ext,
				  bool lifetime, struct mls_leaf_policy *pol);
/* The signature key of a message's sender (mls_sender_key_fn). */
int mls_public_state_sender_key(void *st,
				const struct mls_framed_content *content,
				const uint8_t **key, size_t *key_len);
/* A framing context for signing and checking signatures (no secrets). */
void mls_public_state_framing(struct mls_public_state *st,
			      struct mls_framing_ctx *ctx);
/* Group id and epoch of a message against the state's
 * (MLS_ERR_WRONG_GROUP, MLS_ERR_WRONG_EPOCH). */
int mls_public_state_check_epoch(const struct mls_public_state *st,
				 const struct bw_bytes *group_id,
				 uint64_t epoch);
int mls_public_state_member(const struct mls_public_state *st, uint32_t leaf,
			    struct mls_member *out);

/* GroupContext and tree from a verified GroupInfo (welcome.c): the tree
 * from the ratchet_tree extension or tree (not NULL), imported and
 * validated against the GroupContext (§12.4.3.1), the GroupInfo's
 * signature checked with its signer's leaf. On success the tree and the
 * GroupContext are moved into st, whose config must be set. */
/* The GroupInfo's signature, by a given key or by its signer's leaf in
 * t. */
int mls_group_info_verify_key(const struct mls_suite *s,
			      const struct mls_group_info *gi,
			      const struct bw_bytes *key);
int mls_group_info_verify(const struct mls_suite *s,
			  const struct mls_group_info *gi,
			  const struct mls_tree *t);
int mls_public_state_from_group_info(struct mls_public_state *st,
				     struct mls_group_info *gi,
				     const uint8_t *tree, size_t tree_len);
/* The interim transcript hash from a confirmed hash (which is empty in
 * epoch 0) and a confirmation tag (§8.2). */
int mls_interim_hash(const struct mls_suite *s,
		     const struct bw_bytes *confirmed, const uint8_t *tag,
		     size_t tag_len, uint8_t *out);

void mls_proposal_cache_clear(struct mls_proposal_cache *c);
/* Forget the entry added last. */
void mls_proposal_cache_drop_last(struct mls_proposal_cache *c);
struct mls_cached_proposal *
mls_proposal_cache_find(const struct mls_proposal_cache *c, const uint8_t *ref,
			size_t ref_len);
/* Append a proposal (moved out of *p on success). MLS_ERR_TOO_MANY_PROPOSALS
 * when full. *out, if not NULL, receives the new entry. */
int mls_proposal_cache_add(struct mls_proposal_cache *c, const uint8_t *ref,
			   size_t ref_len, const struct mls_sender *sender,
			   struct mls_proposal *p,
			   struct mls_cached_proposal **out);

/*
 * Everything a proposal must satisfy on its own (§12.1), for a proposal
 * received in a message or carried by value, from sender, against the
 * current tree and the extensions ext: a valid KeyPackage of the group's
 * suite (Add), a valid update leaf (Update, members only), a non-blank
 * leaf (Remove), PSK nonce and usage, ReInit version, GroupContext
 * extensions that parse and that every member supports. ExternalInit is
 * valid only in an external commit (mls_commit_validate).
 */
int mls_proposal_check(const struct mls_public_state *st,
		       const struct mls_proposal *p,
		       const struct mls_sender *sender,
		       const struct mls_extension_list *ext);
/* The proposal in a verified AuthenticatedContent, checked and cached under
 * its ProposalRef (a known ref is not added twice). */
int mls_proposal_receive(struct mls_public_state *st,
			 struct mls_authenticated_content *ac,
			 struct mls_cached_proposal **out);
/* Deep copy (through the canonical codec); on failure *dst is cleared. */
int mls_proposal_copy(struct mls_proposal *dst, const struct mls_proposal *src);
/* A heap copy of a ReInit's parameters, and its release. */
int mls_reinit_dup(const struct mls_reinit *src, struct mls_reinit **out);
void mls_reinit_free(struct mls_reinit *ri);
/* Two PreSharedKeyIDs name the same PSK (the nonce aside, which only
 * makes one use of it unique). */
bool mls_psk_id_same(const struct mls_pre_shared_key_id *a,
		     const struct mls_pre_shared_key_id *b);
/* A copy of a leaf's credential and signature key for a result. */
int mls_member_change_set(struct mls_member_change *m, uint32_t leaf,
			  const struct mls_leaf_node *ln);
/* Two credentials present the same client: equal basic identities, or
 * X.509 end-entity certificates with equal subjects. */
bool mls_credential_same_identity(const struct mls_credential *a,
				  const struct mls_credential *b);
/* ProposalRef of an AuthenticatedContent holding a proposal (§5.2). */
int mls_proposal_ref(const struct mls_suite *s,
		     const struct mls_authenticated_content *ac, uint8_t *out);

/* ---- commits (commit.c, proposals.c) ---- */

/* One proposal of a commit, resolved. */
struct mls_committed {
	const struct mls_proposal *p;
	struct mls_sender sender;
	const struct mls_cached_proposal *cached; /* NULL: by value */
};

struct mls_commit_state {
	struct mls_committed *v;
	size_t n;
	bool external;      /* sender new_member_commit */
	uint32_t committer; /* its leaf; for an external commit, assigned */
	/* Counts the list rules need. */
	size_t n_gce, n_reinit, n_external_init, n_removes, n_psks;
	bool path_required;
	/* The new GroupContext extensions (borrowed: a GCE's, or gc's). */
	const struct mls_extension_list *extensions;
	const struct mls_reinit *reinit;
	const struct bw_bytes *external_init; /* kem_output */
	/* Leaves added (in order), and removed members (for results). */
	uint32_t *joiners;
	size_t n_joiners;
	struct mls_member_change *removed;
	size_t n_removed;
	/* The tree savepoint mls_commit_apply opened. */
	struct mls_tree_savepoint sp;
	bool sp_open;
	struct mls_group_context next; /* the new GroupContext */
	struct mls_external_senders next_senders; /* its external senders */
};

/* Roll back the tree if a savepoint is open, and free what cs holds. */
void mls_commit_state_clear(struct mls_commit_state *cs,
			    struct mls_public_state *st);
/* Keep the tree's changes. */
void mls_commit_state_release(struct mls_commit_state *cs,
			      struct mls_public_state *st);

/* ProposalOrRef to proposals: a reference must name a cached proposal
 * (MLS_ERR_PROPOSAL_UNKNOWN); by value, the committer proposed it. */
int mls_commit_resolve(struct mls_commit_state *cs,
		       const struct mls_public_state *st,
		       const struct mls_commit *commit,
		       const struct mls_sender *committer);
/* Check adding v[i] to v[0..i) (§12.2 pairwise rules). */
int mls_commit_check_one(const struct mls_commit_state *cs,
			 const struct mls_public_state *st, size_t i);
/* The same and, for an Add, that the client is not a member (unless
 * v[0..i) removes it): what a committer checks before taking v[i]. */
int mls_commit_check_candidate(const struct mls_commit_state *cs,
			       const struct mls_public_state *st, size_t i);
/* Every rule of §12.2 for the whole list, and the path rule of §12.4. */
int mls_commit_validate(struct mls_commit_state *cs,
			const struct mls_public_state *st, bool has_path);
/* §12.3, in a savepoint (cs->sp_open): extensions, Updates, Removes, Adds,
 * each proposal checked (mls_proposal_check) against the new extensions. */
int mls_commit_apply(struct mls_commit_state *cs, struct mls_public_state *st);
/* §12.4.2 "If the path value is populated": an external committer gets
 * the leftmost free leaf; the leaf node is validated and the path merged
 * (mls_treekem_merge). */
int mls_commit_merge_path(struct mls_commit_state *cs,
			  struct mls_public_state *st,
			  const struct mls_update_path *path);
/* cs->next: the provisional GroupContext (epoch + 1, new tree hash and
 * extensions, the old confirmed transcript hash), encoded into w if not
 * NULL. */
int mls_commit_provisional_context(struct mls_commit_state *cs,
				   struct mls_public_state *st,
				   struct bw_writer *w);
/* cs->next.confirmed_transcript_hash from the signed commit. */
int mls_commit_confirm_context(struct mls_commit_state *cs,
			       const struct mls_public_state *st,
			       const struct mls_authenticated_content *ac);
/* Results of a commit: added members (from the tree) and removed ones
 * (moved out of cs). */
int mls_commit_result(struct mls_commit_state *cs,
		      const struct mls_public_state *st,
		      struct mls_process_result *res);
/* The last step that may fail: decode the new context's external
 * senders. */
int mls_commit_prepare_install(struct mls_commit_state *cs);
/* Install the new public epoch: the tree's changes, the context, interim
 * hash and confirmation tag; clears the proposal cache. Cannot fail. */
void mls_commit_install(struct mls_commit_state *cs,
			struct mls_public_state *st, const uint8_t *interim,
			const uint8_t *confirmation_tag);
/* Free a list of member changes. */
void mls_member_changes_free(struct mls_member_change *v, size_t n);

/* ---- a member ---- */

struct mls_resumption_psk {
	uint64_t epoch;
	uint8_t psk[MLS_MAX_HASH_LEN];
};

/* A commit this member sent, waiting for the delivery service. */
struct mls_pending_commit {
	struct mls_authenticated_content ac;
	struct bw_bytes message;
	struct mls_group_context gc;
	struct mls_epoch_secrets secrets;
	uint8_t interim[MLS_MAX_HASH_LEN];
	struct mls_tree_priv *priv; /* the private view after the commit */
};

enum mls_group_status {
	MLS_GROUP_ACTIVE = 0,
	MLS_GROUP_REMOVED = 1,
	MLS_GROUP_REINIT = 2,
};

struct mls_group {
	struct mls_public_state st;
	struct bw_bytes sig_priv;
	struct mls_tree_priv *priv;
	struct mls_epoch_secrets secrets;
	struct mls_secret_tree *secret_tree;
	/* Proposals for this member's next commit, by value. */
	struct mls_proposal *by_value;
	size_t n_by_value;
	struct mls_pending_commit *pending;
	/* Resumption PSKs of recent epochs, oldest first. */
	struct mls_resumption_psk *resumption;
	size_t n_resumption, resumption_cap;
	uint8_t status; /* enum mls_group_status */
	/* The ReInit the commit that ended the group held (§11.2). */
	struct mls_reinit *reinit;
	/* A group that continues a reinitialised one: the reinit PSK its
	 * first commit carries (§11.2), and the PSK's value. */
	struct mls_pre_shared_key_id *reinit_psk;
	uint8_t reinit_psk_value[MLS_MAX_HASH_LEN];
};

struct mls_group *mls_group_alloc(void);
/*
 * A member's group in epoch 0 over tree (§11): the creator's one-leaf
 * tree, or any valid tree for tests and benchmarks that need a large group
 * without running its history. This member is priv's leaf with sig_priv;
 * the GroupContext has ext and an empty transcript; the key schedule
 * starts from init_secret (NULL: random, as at creation), so members built
 * from copies of one tree with one init_secret share the epoch. tree and
 * priv are taken, whatever the result.
 */
int mls_group_from_tree(const struct mls_config *cfg, struct mls_tree *tree,
			struct mls_tree_priv *priv,
			const struct bw_bytes *sig_priv,
			const uint8_t *group_id, size_t group_id_len,
			const struct mls_extension_list *ext,
			const uint8_t *init_secret, struct mls_group **out);
uint32_t mls_group_leaf(const struct mls_group *g);
/* The framing context of the current epoch. */
void mls_group_framing(struct mls_group *g, struct mls_framing_ctx *ctx);
/* Sign content from this member and protect it as the configuration says
 * (handshake) or as a PrivateMessage (application); w receives the
 * MLSMessage. */
int mls_group_send(struct mls_group *g, struct mls_authenticated_content *ac,
		   struct bw_writer *w);
/* The two halves of mls_group_send, for a commit whose confirmation tag
 * is computed in between. */
int mls_group_sign(struct mls_group *g, struct mls_authenticated_content *ac);
int mls_group_protect(struct mls_group *g,
		      const struct mls_authenticated_content *ac,
		      struct bw_writer *w);
/* A FramedContent of this member for the current epoch (wire format set
 * from the configuration for handshake content). */
int mls_group_content_init(struct mls_group *g, uint8_t content_type,
			   struct mls_authenticated_content *ac);
/* The resumption PSK history, sized by the configuration (so that keeping
 * an epoch's PSK cannot fail). */
int mls_group_init_resumption(struct mls_group *g);
/* The secret tree of an epoch with these secrets over the current tree. */
int mls_group_new_secret_tree(const struct mls_group *g,
			      const struct mls_epoch_secrets *secrets,
			      struct mls_secret_tree **out);
/* Make secrets (moved; may be &g->secrets) and t the current epoch's and
 * keep its resumption PSK. Cannot fail. */
void mls_group_install_epoch(struct mls_group *g,
			     struct mls_epoch_secrets *secrets,
			     struct mls_secret_tree *t);
/* Both for g->secrets, when a group object is first built. */
int mls_group_start_epoch(struct mls_group *g);
/* Drop the proposals kept for the next commit (a commit took them). */
void mls_group_clear_by_value(struct mls_group *g);
void mls_group_clear_reinit_psk(struct mls_group *g);
/* After an epoch change: drop what belonged to the old epoch. */
void mls_group_end_epoch(struct mls_group *g);
/* The value of a PSK (own resumption PSKs, then the store). */
int mls_group_psk_value(const struct mls_group *g,
			const struct mls_pre_shared_key_id *id,
			const uint8_t **psk, size_t *psk_len);
/* psk_secret (§8.4) of a list of PreSharedKeyIDs; lookup may be NULL for
 * a joiner without resumption PSKs of its own. */
int mls_psk_secret_of(const struct mls_suite *s, const struct mls_config *cfg,
		      const struct mls_group *lookup,
		      const struct mls_pre_shared_key_id *const *ids,
		      size_t n, uint8_t *out);
void mls_pending_commit_free(struct mls_pending_commit *pc);

/* commit.c */
/* Merge the pending commit (res, if not NULL, receives the result). */
int mls_group_merge_pending(struct mls_group *g,
			    struct mls_process_result *res);
int mls_group_process_commit(struct mls_group *g,
			     struct mls_authenticated_content *ac,
			     struct mls_process_result *res);
/* The GroupInfo of the epoch in gc with secrets (external_pub from them;
 * the tree if with_tree), signed by this member (welcome.c). */
int mls_group_info_build(struct mls_group *g,
			 const struct mls_group_context *gc,
			 const struct mls_epoch_secrets *secrets,
			 const uint8_t *confirmation_tag, bool with_tree,
			 struct mls_group_info *out);
/* The Welcome for the joiners of a commit (welcome.c). */
int mls_welcome_build(const struct mls_group *g,
		      const struct mls_commit_state *cs,
		      const struct mls_group_info *gi,
		      const struct mls_epoch_secrets *secrets,
		      const struct mls_treekem_update *u, struct bw_writer *w);
/* §12.4.3.1 for a joiner: its GroupSecrets from entry e with init_priv,
 * and the GroupInfo once the welcome_secret is known (welcome.c). */
int mls_welcome_open_secrets(const struct mls_suite *s,
			     const struct mls_welcome *wl,
			     const struct mls_encrypted_group_secrets *e,
			     const struct bw_bytes *init_priv,
			     struct mls_group_secrets *out);
int mls_welcome_open_group_info(const struct mls_suite *s,
				const struct mls_welcome *wl,
				const uint8_t *welcome_secret,
				struct mls_group_info *out);
/* External init (§8.3): the member's side (external.c). */
int mls_external_init_secret(const struct mls_group *g,
			     const struct bw_bytes *kem_output, uint8_t *out);

/* group_state.c: the plaintext of a saved state (for tests, which
 * compare states). */
int mls_group_state_encode(const struct mls_group *g, struct bw_writer *w);
/* AES-256-GCM sealing of a saved state (kind separates object types). */
int mls_state_seal(uint8_t kind, const uint8_t *key, const uint8_t *pt,
		   size_t pt_len, uint8_t **out, size_t *out_len);
int mls_state_open(uint8_t kind, const uint8_t *key, const uint8_t *p,
		   size_t n, uint8_t **pt, size_t *pt_len);

/* §6.1 MAC(confirmation_key, confirmed) for a confirmed transcript hash of
 * any length (empty in epoch 0); tag: hash_len bytes. */
int mls_confirmation_tag_of(const struct mls_suite *s, const uint8_t *key,
			    const struct bw_bytes *confirmed, uint8_t *tag);

/* Helpers over byte strings. */
bool mls_bytes_equal(const struct bw_bytes *a, const struct bw_bytes *b);

#endif

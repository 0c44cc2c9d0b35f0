/*
 * messages.h - every MLS structure of RFC 9420 §5.3 and §6-§13 as C structs
 * with decode, encode and clear.
 *
 * Decoding uses only the codec (codec.h). Each structure has
 *
 *   int  mls_<thing>_decode(struct bw_reader *r, struct mls_<thing> *out);
 *   int  mls_<thing>_encode(const struct mls_<thing> *in, struct bw_writer *w);
 *   void mls_<thing>_clear(struct mls_<thing> *x);
 *
 * decode reads one value from r. On failure it returns the reader's sticky
 * error (r->err says why) and leaves *out cleared; *out need not be
 * initialised before. Trailing bytes after the value are the caller's
 * business; mls_message_decode(), the entry point for bytes off the wire,
 * rejects them. encode appends the canonical encoding; errors stick in the
 * writer. clear wipes and frees everything the struct owns and leaves it
 * all-zero, so it may be reused; clearing an all-zero struct is a no-op.
 *
 * Ownership: a decoded struct owns every byte it refers to (struct bw_bytes
 * fields, arrays of sub-structures); nothing points into the input, so the
 * input may be freed at once and parts may be moved out (e.g. a LeafNode
 * into the ratchet tree) by copying the sub-struct and zeroing the source.
 * Sub-structures are embedded by value and cleared by their parent.
 *
 * Canonical encoding: the codec accepts exactly one encoding of a value
 * (minimal varints, presence octets 0 or 1) and every field is kept, so
 * encode(decode(x)) == x byte for byte. The messages vectors and every fuzz
 * target check this; it is what lets signatures and hashes be computed over
 * re-encoded structures (see docs/internals/messages.md).
 *
 * Unknown code points: a wire format, content type, sender type, proposal
 * type, credential type, leaf node source, node type, PSK type, resumption
 * usage or ProposalOrRef type outside RFC 9420 fails with
 * MLS_ERR_UNKNOWN_TYPE (the rest of the structure cannot be parsed without
 * it). Extensions of any
 * type are kept as (type, data); known types are parsed on demand by their
 * decoders below. Capability lists keep unknown (GREASE) values.
 *
 *   struct mls_message m;
 *   if ((rc = mls_message_decode(buf, len, &m)) != 0)
 *           return rc;                     // m is cleared
 *   if (m.wire_format == MLS_WIRE_FORMAT_KEY_PACKAGE)
 *           use(&m.key_package);
 *   mls_message_clear(&m);
 */
#ifndef MLS_MESSAGES_H
#define MLS_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "codec.h"
#include "mls/mls.h"

/*
 * Limits. Every vector has one; longer input fails with BW_ERR_TOO_LONG
 * before anything is allocated for it, and element counts are capped so a
 * small input cannot make a large allocation. Sized for groups of 65,536
 * members; a tree of 10,000 members with 2 KiB X.509 chains fits.
 */
/* HPKE and signature public keys, kem_output */
#define MLS_MAX_KEY_LEN 256u
#define MLS_MAX_SIGNATURE_LEN 256u
#define MLS_MAX_HASH_VALUE_LEN 64u    /* hashes, MACs, refs, nonces, secrets */
#define MLS_MAX_GROUP_ID_LEN 256u
#define MLS_MAX_PSK_ID_LEN 256u
#define MLS_MAX_CREDENTIAL_LEN (64u * 1024u) /* identity, or a whole chain */
#define MLS_MAX_CERTIFICATES 16u      /* per X.509 chain */
#define MLS_MAX_CAPABILITY_LEN 512u   /* bytes per capabilities list */
#define MLS_MAX_EXTENSION_DATA_LEN (64u * 1024u) /* each, but ratchet_tree */
#define MLS_MAX_EXTENSIONS 64u        /* per list; one per type */
#define MLS_MAX_EXTENSIONS_LEN (1024u * 1024u) /* bytes per list */
#define MLS_MAX_TREE_LEAVES 65536u
#define MLS_MAX_TREE_NODES (2u * MLS_MAX_TREE_LEAVES - 1u)
#define MLS_MAX_RATCHET_TREE_LEN (32u * 1024u * 1024u)
#define MLS_MAX_UNMERGED_LEAVES_LEN (4u * MLS_MAX_TREE_LEAVES)
#define MLS_MAX_AUTHENTICATED_DATA_LEN (64u * 1024u)
#define MLS_MAX_APPLICATION_DATA_LEN (16u * 1024u * 1024u)
#define MLS_MAX_PROPOSALS MLS_MAX_TREE_LEAVES /* per Commit */
#define MLS_MAX_PROPOSALS_LEN (32u * 1024u * 1024u)
#define MLS_MAX_PATH_NODES 32u        /* UpdatePath: one per tree level */
#define MLS_MAX_PATH_LEN (8u * 1024u * 1024u)
#define MLS_MAX_PATH_SECRETS_LEN (4u * 1024u * 1024u) /* per path node */
#define MLS_MAX_HPKE_CIPHERTEXT_LEN (64u * 1024u)
#define MLS_MAX_WELCOME_SECRETS_LEN (16u * 1024u * 1024u)
#define MLS_MAX_PSKS 64u              /* GroupSecrets.psks */
#define MLS_MAX_PSKS_LEN (64u * 1024u)
/* A GroupInfo's extensions may carry the ratchet tree. */
#define MLS_MAX_GROUP_INFO_EXTENSIONS_LEN \
	(MLS_MAX_RATCHET_TREE_LEN + MLS_MAX_EXTENSIONS_LEN)
#define MLS_MAX_GROUP_INFO_LEN (MLS_MAX_GROUP_INFO_EXTENSIONS_LEN + 64u * 1024u)
/* Welcome.encrypted_group_info: a GroupInfo and the AEAD tag. */
#define MLS_MAX_ENCRYPTED_GROUP_INFO_LEN (MLS_MAX_GROUP_INFO_LEN + 16u)
/* PrivateMessage.ciphertext: the largest content plus padding and tag. */
#define MLS_MAX_CIPHERTEXT_LEN (MLS_MAX_PROPOSALS_LEN + 16u * 1024u * 1024u)

/* A result that must not be ignored: parsing bytes off the wire, and every
 * verification (framing.h, transcript.h). */
#define MLS_MUST_CHECK __attribute__((warn_unused_result))

/* ---- code points (§17) ---- */

#define MLS_PROTOCOL_VERSION_MLS10 1

enum mls_wire_format {
	MLS_WIRE_FORMAT_PUBLIC_MESSAGE = 1,
	MLS_WIRE_FORMAT_PRIVATE_MESSAGE = 2,
	MLS_WIRE_FORMAT_WELCOME = 3,
	MLS_WIRE_FORMAT_GROUP_INFO = 4,
	MLS_WIRE_FORMAT_KEY_PACKAGE = 5,
};

enum mls_content_type {
	MLS_CONTENT_APPLICATION = 1,
	MLS_CONTENT_PROPOSAL = 2,
	MLS_CONTENT_COMMIT = 3,
};

enum mls_sender_type {
	MLS_SENDER_MEMBER = 1,
	MLS_SENDER_EXTERNAL = 2,
	MLS_SENDER_NEW_MEMBER_PROPOSAL = 3,
	MLS_SENDER_NEW_MEMBER_COMMIT = 4,
};

enum mls_credential_type {
	MLS_CREDENTIAL_BASIC = 1,
	MLS_CREDENTIAL_X509 = 2,
};

enum mls_extension_type {
	MLS_EXT_APPLICATION_ID = 1,
	MLS_EXT_RATCHET_TREE = 2,
	MLS_EXT_REQUIRED_CAPABILITIES = 3,
	MLS_EXT_EXTERNAL_PUB = 4,
	MLS_EXT_EXTERNAL_SENDERS = 5,
};

enum mls_leaf_node_source {
	MLS_LEAF_SOURCE_KEY_PACKAGE = 1,
	MLS_LEAF_SOURCE_UPDATE = 2,
	MLS_LEAF_SOURCE_COMMIT = 3,
};

enum mls_proposal_type {
	MLS_PROPOSAL_ADD = 1,
	MLS_PROPOSAL_UPDATE = 2,
	MLS_PROPOSAL_REMOVE = 3,
	MLS_PROPOSAL_PSK = 4,
	MLS_PROPOSAL_REINIT = 5,
	MLS_PROPOSAL_EXTERNAL_INIT = 6,
	MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS = 7,
};

enum mls_proposal_or_ref_type {
	MLS_PROPOSAL_OR_REF_PROPOSAL = 1,
	MLS_PROPOSAL_OR_REF_REFERENCE = 2,
};

enum mls_psk_type { MLS_PSK_EXTERNAL = 1, MLS_PSK_RESUMPTION = 2 };

enum mls_resumption_psk_usage {
	MLS_PSK_USAGE_APPLICATION = 1,
	MLS_PSK_USAGE_REINIT = 2,
	MLS_PSK_USAGE_BRANCH = 3,
};

/* In memory a blank node has type 0; on the wire it is an absent optional. */
enum mls_node_type {
	MLS_NODE_BLANK = 0,
	MLS_NODE_LEAF = 1,
	MLS_NODE_PARENT = 2,
};

/* ---- common building blocks (msg_common.c) ---- */

/* A vector of 16-bit code points, kept as received (GREASE included). */
struct mls_u16_list {
	uint16_t *v;
	size_t n;
};

/* §13: extension_data is kept verbatim whatever the type. */
struct mls_extension {
	uint16_t type;
	struct bw_bytes data;
};

/* Extension extensions<V>: at most one of each type (§13.4). */
struct mls_extension_list {
	struct mls_extension *v;
	size_t n;
};

/* §5.3 Credential. basic: identity; x509: DER certificates, leaf first. */
struct mls_credential {
	uint16_t type;
	struct bw_bytes identity;
	struct bw_bytes *certificates;
	size_t n_certificates;
};

/* §7.2 Capabilities. */
struct mls_capabilities {
	struct mls_u16_list versions;
	struct mls_u16_list cipher_suites;
	struct mls_u16_list extensions;
	struct mls_u16_list proposals;
	struct mls_u16_list credentials;
};

/* §7.2 Lifetime: seconds since the Unix epoch. */
struct mls_lifetime {
	uint64_t not_before;
	uint64_t not_after;
};

/* §7.6 HPKECiphertext. */
struct mls_hpke_ciphertext {
	struct bw_bytes kem_output;
	struct bw_bytes ciphertext;
};

int mls_u16_list_decode(struct bw_reader *r, size_t max_len,
			struct mls_u16_list *out);
int mls_u16_list_encode(const struct mls_u16_list *in, struct bw_writer *w);
void mls_u16_list_clear(struct mls_u16_list *l);
bool mls_u16_list_contains(const struct mls_u16_list *l, uint16_t v);

/* Fails with MLS_ERR_DUPLICATE_EXTENSION if a type repeats. */
int mls_extension_list_decode(struct bw_reader *r,
			      struct mls_extension_list *out);
int mls_extension_list_encode(const struct mls_extension_list *in,
			      struct bw_writer *w);
void mls_extension_list_clear(struct mls_extension_list *l);
/* The extension of that type, or NULL. */
const struct mls_extension *
mls_extension_list_find(const struct mls_extension_list *l, uint16_t type);

int mls_credential_decode(struct bw_reader *r, struct mls_credential *out);
int mls_credential_encode(const struct mls_credential *in,
			  struct bw_writer *w);
void mls_credential_clear(struct mls_credential *c);

int mls_capabilities_decode(struct bw_reader *r,
			    struct mls_capabilities *out);
int mls_capabilities_encode(const struct mls_capabilities *in,
			    struct bw_writer *w);
void mls_capabilities_clear(struct mls_capabilities *c);

int mls_hpke_ciphertext_decode(struct bw_reader *r,
			       struct mls_hpke_ciphertext *out);
int mls_hpke_ciphertext_encode(const struct mls_hpke_ciphertext *in,
			       struct bw_writer *w);
void mls_hpke_ciphertext_clear(struct mls_hpke_ciphertext *c);

/* ---- typed extension payloads (§12.1.8.1, §11.1, §12.4.3.3) ---- */

/* required_capabilities */
struct mls_required_capabilities {
	struct mls_u16_list extension_types;
	struct mls_u16_list proposal_types;
	struct mls_u16_list credential_types;
};

/* One entry of external_senders. */
struct mls_external_sender {
	struct bw_bytes signature_key;
	struct mls_credential credential;
};

struct mls_external_senders {
	struct mls_external_sender *v;
	size_t n;
};

int mls_required_capabilities_decode(struct bw_reader *r,
				     struct mls_required_capabilities *out);
int mls_required_capabilities_encode(
	const struct mls_required_capabilities *in, struct bw_writer *w);
void mls_required_capabilities_clear(struct mls_required_capabilities *rc);

int mls_external_senders_decode(struct bw_reader *r,
				struct mls_external_senders *out);
int mls_external_senders_encode(const struct mls_external_senders *in,
				struct bw_writer *w);
void mls_external_senders_clear(struct mls_external_senders *es);

/* ---- leaf and parent nodes, ratchet tree (msg_tree.c) ---- */

/* §7.2 LeafNode. lifetime is meaningful for the key_package source only,
 * parent_hash for the commit source only. */
struct mls_leaf_node {
	struct bw_bytes encryption_key;
	struct bw_bytes signature_key;
	struct mls_credential credential;
	struct mls_capabilities capabilities;
	uint8_t source; /* enum mls_leaf_node_source */
	struct mls_lifetime lifetime;
	struct bw_bytes parent_hash;
	struct mls_extension_list extensions;
	struct bw_bytes signature;
};

/* §7.1 ParentNode; unmerged_leaves are leaf indices. */
struct mls_parent_node {
	struct bw_bytes encryption_key;
	struct bw_bytes parent_hash;
	uint32_t *unmerged_leaves;
	size_t n_unmerged_leaves;
};

/* One entry of the ratchet tree: blank, or a node held by pointer so that
 * a blank entry costs 16 bytes and nodes can be moved between trees. */
struct mls_node {
	uint8_t type; /* enum mls_node_type */
	union {
		struct mls_leaf_node *leaf;
		struct mls_parent_node *parent;
	};
};

/* §12.4.3.3 optional<Node> ratchet_tree<V>, in array order (leaf L at
 * 2L), exactly as sent: not extended to a full tree. The decoder checks the
 * shape a sender must respect: at least one entry, at most
 * MLS_MAX_TREE_NODES, leaves at even and parents at odd positions, and a
 * non-blank last entry (MLS_ERR_TREE_INVALID otherwise). */
struct mls_ratchet_tree {
	struct mls_node *nodes;
	size_t n_nodes;
};

int mls_leaf_node_decode(struct bw_reader *r, struct mls_leaf_node *out);
int mls_leaf_node_encode(const struct mls_leaf_node *in, struct bw_writer *w);
void mls_leaf_node_clear(struct mls_leaf_node *n);
/* §7.2 LeafNodeTBS: the fields above the signature, then group_id and
 * leaf_index for the update and commit sources. */
int mls_leaf_node_tbs_encode(const struct mls_leaf_node *in,
			     const uint8_t *group_id, size_t group_id_len,
			     uint32_t leaf_index, struct bw_writer *w);

int mls_parent_node_decode(struct bw_reader *r, struct mls_parent_node *out);
int mls_parent_node_encode(const struct mls_parent_node *in,
			   struct bw_writer *w);
void mls_parent_node_clear(struct mls_parent_node *n);

/* Node { node_type; select { leaf_node | parent_node } } */
int mls_node_decode(struct bw_reader *r, struct mls_node *out);
int mls_node_encode(const struct mls_node *in, struct bw_writer *w);
void mls_node_clear(struct mls_node *n);

int mls_ratchet_tree_decode(struct bw_reader *r, struct mls_ratchet_tree *out);
int mls_ratchet_tree_encode(const struct mls_ratchet_tree *in,
			    struct bw_writer *w);
void mls_ratchet_tree_clear(struct mls_ratchet_tree *t);

/* ---- key package (msg_key_package.c) ---- */

/* §10 KeyPackage. */
struct mls_key_package {
	uint16_t version;
	uint16_t cipher_suite;
	struct bw_bytes init_key;
	struct mls_leaf_node leaf_node;
	struct mls_extension_list extensions;
	struct bw_bytes signature;
};

int mls_key_package_decode(struct bw_reader *r, struct mls_key_package *out);
int mls_key_package_encode(const struct mls_key_package *in,
			   struct bw_writer *w);
void mls_key_package_clear(struct mls_key_package *kp);
/* KeyPackageTBS: every field but the signature. */
int mls_key_package_tbs_encode(const struct mls_key_package *in,
			       struct bw_writer *w);

/* ---- proposals (msg_proposal.c) ---- */

/* §8.4 PreSharedKeyID. psk_id for the external type; usage, psk_group_id
 * and psk_epoch for the resumption type. */
struct mls_pre_shared_key_id {
	uint8_t psktype; /* enum mls_psk_type */
	struct bw_bytes psk_id;
	uint8_t usage; /* enum mls_resumption_psk_usage */
	struct bw_bytes psk_group_id;
	uint64_t psk_epoch;
	struct bw_bytes psk_nonce;
};

/* §12.1.5 ReInit. */
struct mls_reinit {
	struct bw_bytes group_id;
	uint16_t version;
	uint16_t cipher_suite;
	struct mls_extension_list extensions;
};

/* §12.1 Proposal: type selects the member of the union. Each member is the
 * body of that proposal (Add.key_package, Update.leaf_node,
 * Remove.removed, PreSharedKey.psk, ReInit, ExternalInit.kem_output,
 * GroupContextExtensions.extensions). */
struct mls_proposal {
	uint16_t type; /* enum mls_proposal_type */
	union {
		struct mls_key_package add;
		struct mls_leaf_node update;
		uint32_t remove;
		struct mls_pre_shared_key_id psk;
		struct mls_reinit reinit;
		struct bw_bytes external_init;
		struct mls_extension_list group_context_extensions;
	};
};

int mls_pre_shared_key_id_decode(struct bw_reader *r,
				 struct mls_pre_shared_key_id *out);
int mls_pre_shared_key_id_encode(const struct mls_pre_shared_key_id *in,
				 struct bw_writer *w);
void mls_pre_shared_key_id_clear(struct mls_pre_shared_key_id *p);

int mls_reinit_decode(struct bw_reader *r, struct mls_reinit *out);
int mls_reinit_encode(const struct mls_reinit *in, struct bw_writer *w);
void mls_reinit_clear(struct mls_reinit *ri);

int mls_proposal_decode(struct bw_reader *r, struct mls_proposal *out);
int mls_proposal_encode(const struct mls_proposal *in, struct bw_writer *w);
void mls_proposal_clear(struct mls_proposal *p);
/* The body alone (Add, Update, ... without proposal_type), for a type
 * known from elsewhere. */
int mls_proposal_body_decode(struct bw_reader *r, uint16_t type,
			     struct mls_proposal *out);
int mls_proposal_body_encode(const struct mls_proposal *in,
			     struct bw_writer *w);

/* ---- commit (msg_commit.c) ---- */

/* §12.4 ProposalOrRef: a proposal by value or a ProposalRef. */
struct mls_proposal_or_ref {
	uint8_t type; /* enum mls_proposal_or_ref_type */
	struct mls_proposal proposal;
	struct bw_bytes reference;
};

/* §7.6 UpdatePathNode: one HPKECiphertext per resolution member. */
struct mls_update_path_node {
	struct bw_bytes encryption_key;
	struct mls_hpke_ciphertext *encrypted_path_secret;
	size_t n_encrypted_path_secret;
};

/* §7.6 UpdatePath. */
struct mls_update_path {
	struct mls_leaf_node leaf_node;
	struct mls_update_path_node *nodes;
	size_t n_nodes;
};

/* §12.4 Commit. */
struct mls_commit {
	struct mls_proposal_or_ref *proposals;
	size_t n_proposals;
	bool has_path;
	struct mls_update_path path;
};

int mls_update_path_decode(struct bw_reader *r, struct mls_update_path *out);
int mls_update_path_encode(const struct mls_update_path *in,
			   struct bw_writer *w);
void mls_update_path_clear(struct mls_update_path *p);

int mls_commit_decode(struct bw_reader *r, struct mls_commit *out);
int mls_commit_encode(const struct mls_commit *in, struct bw_writer *w);
void mls_commit_clear(struct mls_commit *c);

/* ---- group context, group info (msg_group.c) ---- */

/* §8.1 GroupContext; version is always mls10 (else MLS_ERR_VERSION). */
struct mls_group_context {
	uint16_t version;
	uint16_t cipher_suite;
	struct bw_bytes group_id;
	uint64_t epoch;
	struct bw_bytes tree_hash;
	struct bw_bytes confirmed_transcript_hash;
	struct mls_extension_list extensions;
};

/* §12.4.3 GroupInfo. Its extensions may hold a ratchet_tree of up to
 * MLS_MAX_RATCHET_TREE_LEN. */
struct mls_group_info {
	struct mls_group_context group_context;
	struct mls_extension_list extensions;
	struct bw_bytes confirmation_tag;
	uint32_t signer;
	struct bw_bytes signature;
};

int mls_group_context_decode(struct bw_reader *r,
			     struct mls_group_context *out);
int mls_group_context_encode(const struct mls_group_context *in,
			     struct bw_writer *w);
void mls_group_context_clear(struct mls_group_context *gc);

int mls_group_info_decode(struct bw_reader *r, struct mls_group_info *out);
int mls_group_info_encode(const struct mls_group_info *in,
			  struct bw_writer *w);
void mls_group_info_clear(struct mls_group_info *gi);
/* GroupInfoTBS: every field but the signature. */
int mls_group_info_tbs_encode(const struct mls_group_info *in,
			      struct bw_writer *w);

/* ---- welcome, group secrets (msg_welcome.c) ---- */

/* §12.4.3.1 GroupSecrets: secrets, wiped on clear. */
struct mls_group_secrets {
	struct bw_bytes joiner_secret;
	bool has_path_secret;
	struct bw_bytes path_secret;
	struct mls_pre_shared_key_id *psks;
	size_t n_psks;
};

/* EncryptedGroupSecrets. */
struct mls_encrypted_group_secrets {
	struct bw_bytes new_member; /* KeyPackageRef */
	struct mls_hpke_ciphertext encrypted_group_secrets;
};

/* §12.4.3.1 Welcome. */
struct mls_welcome {
	uint16_t cipher_suite;
	struct mls_encrypted_group_secrets *secrets;
	size_t n_secrets;
	struct bw_bytes encrypted_group_info;
};

int mls_group_secrets_decode(struct bw_reader *r,
			     struct mls_group_secrets *out);
int mls_group_secrets_encode(const struct mls_group_secrets *in,
			     struct bw_writer *w);
void mls_group_secrets_clear(struct mls_group_secrets *gs);

int mls_welcome_decode(struct bw_reader *r, struct mls_welcome *out);
int mls_welcome_encode(const struct mls_welcome *in, struct bw_writer *w);
void mls_welcome_clear(struct mls_welcome *wl);

/* ---- framing (msg_framing.c) ---- */

/* §6 Sender: index is leaf_index for members, sender_index for external
 * senders, unused otherwise. */
struct mls_sender {
	uint8_t type; /* enum mls_sender_type */
	uint32_t index;
};

/* §6 FramedContent; content_type selects the member of the union. */
struct mls_framed_content {
	struct bw_bytes group_id;
	uint64_t epoch;
	struct mls_sender sender;
	struct bw_bytes authenticated_data;
	uint8_t content_type; /* enum mls_content_type */
	union {
		struct bw_bytes application_data;
		struct mls_proposal proposal;
		struct mls_commit commit;
	};
};

/* §6.1 FramedContentAuthData; confirmation_tag for commits only. */
struct mls_auth_data {
	struct bw_bytes signature;
	struct bw_bytes confirmation_tag;
};

/* §6 AuthenticatedContent. */
struct mls_authenticated_content {
	uint16_t wire_format;
	struct mls_framed_content content;
	struct mls_auth_data auth;
};

/* §6.2 PublicMessage; membership_tag for member senders only. */
struct mls_public_message {
	struct mls_framed_content content;
	struct mls_auth_data auth;
	struct bw_bytes membership_tag;
};

/* §6.3 PrivateMessage. */
struct mls_private_message {
	struct bw_bytes group_id;
	uint64_t epoch;
	uint8_t content_type;
	struct bw_bytes authenticated_data;
	struct bw_bytes encrypted_sender_data;
	struct bw_bytes ciphertext;
};

/* §6 MLSMessage; wire_format selects the member of the union. */
struct mls_message {
	uint16_t version;
	uint16_t wire_format; /* enum mls_wire_format */
	union {
		struct mls_public_message public_message;
		struct mls_private_message private_message;
		struct mls_welcome welcome;
		struct mls_group_info group_info;
		struct mls_key_package key_package;
	};
};

int mls_sender_decode(struct bw_reader *r, struct mls_sender *out);
int mls_sender_encode(const struct mls_sender *in, struct bw_writer *w);

/* The content body alone (the select of FramedContent and
 * PrivateMessageContent) for a content type known from elsewhere: sets
 * out->content_type and the union member, and touches no other field. */
int mls_content_body_decode(struct bw_reader *r, uint8_t content_type,
			    struct mls_framed_content *out);
int mls_content_body_encode(const struct mls_framed_content *in,
			    struct bw_writer *w);

int mls_framed_content_decode(struct bw_reader *r,
			      struct mls_framed_content *out);
int mls_framed_content_encode(const struct mls_framed_content *in,
			      struct bw_writer *w);
void mls_framed_content_clear(struct mls_framed_content *fc);

/* The auth data's shape depends on the content type. */
int mls_auth_data_decode(struct bw_reader *r, uint8_t content_type,
			 struct mls_auth_data *out);
int mls_auth_data_encode(const struct mls_auth_data *in, uint8_t content_type,
			 struct bw_writer *w);
void mls_auth_data_clear(struct mls_auth_data *a);

int mls_authenticated_content_decode(struct bw_reader *r,
				     struct mls_authenticated_content *out);
int mls_authenticated_content_encode(
	const struct mls_authenticated_content *in, struct bw_writer *w);
void mls_authenticated_content_clear(struct mls_authenticated_content *ac);

int mls_public_message_decode(struct bw_reader *r,
			      struct mls_public_message *out);
int mls_public_message_encode(const struct mls_public_message *in,
			      struct bw_writer *w);
void mls_public_message_clear(struct mls_public_message *pm);

int mls_private_message_decode(struct bw_reader *r,
			       struct mls_private_message *out);
int mls_private_message_encode(const struct mls_private_message *in,
			       struct bw_writer *w);
void mls_private_message_clear(struct mls_private_message *pm);

/* MLSMessage from a reader (trailing bytes allowed) or from a whole buffer
 * (trailing bytes fail with BW_ERR_TRAILING). MLS_ERR_VERSION unless
 * version is mls10 and, for a KeyPackage, its version is the same. */
int mls_message_read(struct bw_reader *r, struct mls_message *out);
MLS_MUST_CHECK int mls_message_decode(const uint8_t *p, size_t n,
				  struct mls_message *out);
int mls_message_encode(const struct mls_message *in, struct bw_writer *w);
void mls_message_clear(struct mls_message *m);

#endif

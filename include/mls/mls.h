/*
 * mls.h - libmls, Messaging Layer Security (RFC 9420) on OpenSSL 3.
 *
 * The public face of libmls: error codes, cipher suites and the operations
 * an application needs. Everything else is internal to lib/mls; the guide
 * is docs/libmls.md (ownership, threading, what to persist and when).
 *
 * Every function that can fail returns 0 or a negative error code; the text
 * comes from mls_strerror(), which also knows the codes of the shared codec
 * (BW_ERR_*, -1..-99) that decoders pass through unchanged.
 *
 *   if ((rc = mls_something(...)) != 0)
 *           fprintf(stderr, "mls: %s\n", mls_strerror(rc));
 *
 * A group in a few calls (error checks left out). Every message is an
 * MLSMessage in bytes; the delivery service carries them in one order to
 * every member, the sender included.
 *
 *   struct mls_config cfg = { .accept_credential = org_accepts,
 *                             .accept_arg = org };
 *   mls_credential_new_basic("alice@org", 9, &cred);
 *   mls_signer_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519, NULL, 0,
 *                  &alice);
 *   mls_signer_set_credential(alice, cred);
 *   mls_group_create(&cfg, alice, gid, gid_len, NULL, &g);
 *
 *   mls_group_propose_add(g, bob_kp, bob_kp_len, NULL, NULL); // by value
 *   mls_group_commit(g, NULL, &co);     // co.commit to the DS, co.welcome
 *   ...the DS accepts co.commit...      // to Bob
 *   mls_group_merge_pending_commit(g);  // (or process the echoed commit)
 *
 *   mls_group_join(&cfg, &bob_bundle, 1, co.welcome, co.welcome_len,
 *                  NULL, 0, &bg);       // on Bob's device
 *   mls_group_encrypt(bg, "hi", 2, NULL, 0, &msg, &msg_len);
 *   mls_group_process(g, msg, msg_len, &res);  // res.kind ==
 *                                              // MLS_RESULT_APPLICATION
 *   mls_process_result_clear(&res);
 *   mls_group_save(g, key32, &state, &state_len);  // after every change
 */
#ifndef MLS_MLS_H
#define MLS_MLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Cipher suites libmls implements (RFC 9420 §17.1). */
enum mls_cipher_suite {
	MLS_SUITE_X25519_AES128GCM_SHA256_ED25519 = 1,
	MLS_SUITE_P256_AES128GCM_SHA256_P256 = 2, /* FIPS-approved algorithms only */
	MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519 = 3,
};

/* Error codes, -100..-299. Each module owns a section; add new codes only at
 * the end of your own section, with a number from its range. */
#define MLS_ERRORS(X)                                                            \
	/* general and crypto provider: -100..-119 */                           \
	X(MLS_ERR_UNSUPPORTED_SUITE, -100, "cipher suite not supported")         \
	X(MLS_ERR_CRYPTO, -101, "cryptographic library failure")                 \
	X(MLS_ERR_SIGNATURE, -102, "signature verification failed")              \
	X(MLS_ERR_AEAD, -103, "authenticated decryption failed")                 \
	X(MLS_ERR_BAD_KEY, -104, "malformed or invalid key")                     \
	X(MLS_ERR_KDF_LENGTH, -105, "requested key derivation output too long")  \
	X(MLS_ERR_INVALID_ARG, -106, "invalid argument")                         \
	X(MLS_ERR_UNSUPPORTED, -107, "feature not supported")                    \
	X(MLS_ERR_MAC, -108, "MAC verification failed")                          \
	/* HPKE: -120..-139 */                                                  \
	X(MLS_ERR_HPKE_MODE, -120, "HPKE mode or its inputs are inconsistent")   \
	X(MLS_ERR_HPKE_SEQ_OVERFLOW, -121, "HPKE message limit reached")         \
	X(MLS_ERR_HPKE_DERIVE, -122, "HPKE key pair derivation failed")          \
	X(MLS_ERR_HPKE_EXPORT_ONLY, -123, "HPKE context is export-only")         \
	/* messages, framing: -140..-179 */                                     \
	X(MLS_ERR_VERSION, -140, "unsupported protocol version")                 \
	X(MLS_ERR_WIRE_FORMAT, -141, "unexpected wire format")                   \
	X(MLS_ERR_CONTENT_TYPE, -142, "unexpected content type")                 \
	X(MLS_ERR_SENDER_TYPE, -143, "sender type not allowed here")             \
	X(MLS_ERR_WRONG_GROUP, -144, "message is for another group")             \
	X(MLS_ERR_WRONG_EPOCH, -145, "message is for another epoch")             \
	X(MLS_ERR_MEMBERSHIP_TAG, -146, "membership tag does not verify")        \
	X(MLS_ERR_CONFIRMATION_TAG, -147, "confirmation tag does not verify")    \
	X(MLS_ERR_PADDING, -148, "padding is not all zero")                      \
	X(MLS_ERR_UNKNOWN_TYPE, -149, "unknown type value")                      \
	X(MLS_ERR_LEAF_INDEX, -150, "leaf index out of range")                   \
	X(MLS_ERR_APP_AS_PUBLIC, -151,                                            \
	  "application data may not be sent as a public message")               \
	X(MLS_ERR_DUPLICATE_EXTENSION, -152,                                     \
	  "extension type appears more than once in a list")                    \
	/* key schedule, secret tree, PSKs: -180..-199 */                       \
	X(MLS_ERR_GENERATION_CONSUMED, -180,                                     \
	  "key generation already used or deleted")                             \
	X(MLS_ERR_GENERATION_TOO_FAR, -181,                                      \
	  "key generation too far ahead of the ratchet")                        \
	X(MLS_ERR_PSK_MISSING, -182, "pre-shared key not available")             \
	X(MLS_ERR_PSK_INVALID, -183, "pre-shared key reference is invalid")      \
	/* ratchet tree, TreeKEM: -200..-239 */                                 \
	X(MLS_ERR_TREE_INVALID, -200, "ratchet tree is malformed")               \
	X(MLS_ERR_TREE_HASH, -201, "tree hash does not match")                   \
	X(MLS_ERR_PARENT_HASH, -202, "parent hash does not verify")              \
	X(MLS_ERR_DUPLICATE_KEY, -203, "key appears more than once in the tree") \
	X(MLS_ERR_BLANK_NODE, -204, "node is blank")                             \
	X(MLS_ERR_PATH, -205, "update path does not fit the tree")               \
	X(MLS_ERR_LEAF_NODE, -206, "leaf node is invalid")                       \
	X(MLS_ERR_CREDENTIAL, -207, "credential rejected")                        \
	X(MLS_ERR_CAPABILITIES, -208, "capabilities do not allow this")          \
	X(MLS_ERR_LIFETIME, -209, "outside the key's lifetime")                  \
	X(MLS_ERR_PATH_KEY_MISMATCH, -210,                                       \
	  "path secret does not derive the node's public key")                  \
	X(MLS_ERR_PATH_NO_KEY, -211,                                             \
	  "no private key for any node the path secret is encrypted to")        \
	/* group lifecycle: -240..-299 */                                       \
	X(MLS_ERR_PROPOSAL_INVALID, -240, "proposal list is invalid")            \
	X(MLS_ERR_PROPOSAL_UNKNOWN, -241, "referenced proposal is unknown")      \
	X(MLS_ERR_COMMIT_INVALID, -242, "commit is invalid")                     \
	X(MLS_ERR_PATH_REQUIRED, -243, "commit requires an update path")         \
	X(MLS_ERR_NOT_MEMBER, -244, "sender is not a member")                    \
	X(MLS_ERR_WELCOME_NO_MATCH, -245, "Welcome holds nothing for this key")  \
	X(MLS_ERR_STATE, -246, "operation not valid in this state")              \
	X(MLS_ERR_KEY_PACKAGE, -247, "key package is invalid")                   \
	X(MLS_ERR_EXTERNAL, -248, "external commit or proposal is invalid")      \
	X(MLS_ERR_STATE_CORRUPT, -249, "serialised state is corrupt")        \
	X(MLS_ERR_PROPOSAL_DUPLICATE_ADD, -250,                                  \
	  "two Add proposals for the same client")                              \
	X(MLS_ERR_PROPOSAL_ADD_MEMBER, -251,                                     \
	  "Add proposal for a client already in the group")                     \
	X(MLS_ERR_PROPOSAL_SAME_LEAF, -252,                                      \
	  "several Update or Remove proposals for one leaf")                    \
	X(MLS_ERR_PROPOSAL_REMOVE_BLANK, -253, "Remove proposal for a blank leaf") \
	X(MLS_ERR_PROPOSAL_SELF_REMOVE, -254, "committer removes itself")        \
	X(MLS_ERR_PROPOSAL_SELF_UPDATE, -255,                                    \
	  "committer includes its own Update proposal")                         \
	X(MLS_ERR_PROPOSAL_DUPLICATE_PSK, -256,                                  \
	  "pre-shared key proposed twice")                                      \
	X(MLS_ERR_PROPOSAL_MULTIPLE_GCE, -257,                                   \
	  "more than one GroupContextExtensions proposal")                      \
	X(MLS_ERR_PROPOSAL_REINIT_NOT_ALONE, -258,                               \
	  "ReInit proposal together with other proposals")                      \
	X(MLS_ERR_PROPOSAL_EXTERNAL_INIT, -259,                                  \
	  "ExternalInit proposal outside an external commit")                   \
	X(MLS_ERR_PSK_NONCE, -260, "PSK nonce is not KDF.Nh bytes long")         \
	X(MLS_ERR_PSK_USAGE, -261, "resumption PSK usage not allowed here")      \
	X(MLS_ERR_REINIT_VERSION, -262, "ReInit to an older protocol version")   \
	X(MLS_ERR_EXTERNAL_INIT_COUNT, -263,                                     \
	  "external commit without exactly one ExternalInit")                   \
	X(MLS_ERR_EXTERNAL_BY_REFERENCE, -264,                                   \
	  "external commit refers to proposals by reference")                   \
	X(MLS_ERR_EXTERNAL_PROPOSALS, -265,                                      \
	  "external commit holds a proposal it may not")                        \
	X(MLS_ERR_TREE_MISSING, -266,                                            \
	  "no ratchet tree in the GroupInfo and none supplied")                 \
	X(MLS_ERR_SUITE_MISMATCH, -267,                                          \
	  "cipher suite differs from the key package's")                       \
	X(MLS_ERR_GROUP_INACTIVE, -268,                                          \
	  "member removed or group reinitialised: no more messages")            \
	X(MLS_ERR_PROPOSALS_PENDING, -269,                                       \
	  "proposals of this epoch must be committed before sending data")      \
	X(MLS_ERR_EXTERNAL_SENDER, -270,                                         \
	  "sender is not in the group's external_senders extension")            \
	X(MLS_ERR_OWN_COMMIT, -271,                                              \
	  "own commit without its pending state")                               \
	X(MLS_ERR_GROUP_INFO_MISMATCH, -272,                                     \
	  "GroupInfo does not describe the group's current state")              \
	X(MLS_ERR_TOO_MANY_PROPOSALS, -273,                                      \
	  "too many proposals cached in this epoch")                            \
	X(MLS_ERR_WELCOME_PSK, -274,                                             \
	  "Welcome breaks the rules of reinit or branch PSKs")

enum mls_err {
#define MLS_ERR_ENUM(name, code, text) name = (code),
	MLS_ERRORS(MLS_ERR_ENUM)
#undef MLS_ERR_ENUM
};

/* Text for any error libmls returns (including codec errors); never NULL. */
const char *mls_strerror(int err);

/*
 * ---- Conventions of the API below ----
 *
 * Objects are opaque, made by _new (or _create, _join, _load) and released
 * by _free; _free(NULL) does nothing. Byte strings handed back through
 * (uint8_t **out, size_t *out_len) are the caller's, released with free();
 * on failure *out is NULL. Pointers returned through (const uint8_t **p,
 * size_t *n) are borrowed from the object and valid until it next changes.
 * An object is not thread-safe; different objects may be used from
 * different threads at once.
 */

/* Longest secret, hash or tag any suite produces (KDF.Nh, bytes). */
#define MLS_MAX_SECRET_LEN 64
/* The key that encrypts a saved state (AES-256-GCM). */
#define MLS_STATE_KEY_LEN 32

/* RFC 9420 §5.3: a basic credential (type 1) or an X.509 chain (type 2).
 * The layout is internal; use the functions below. */
struct mls_credential;

/* A credential for an identity, or for DER certificates, end-entity first
 * (both copied). */
int mls_credential_new_basic(const void *identity, size_t identity_len,
			     struct mls_credential **out);
int mls_credential_new_x509(const uint8_t *const *der, const size_t *der_len,
			    size_t n, struct mls_credential **out);
void mls_credential_free(struct mls_credential *c);
/* 1 (basic) or 2 (x509). */
uint16_t mls_credential_get_type(const struct mls_credential *c);
/* A basic credential's identity (empty for other types). */
void mls_credential_identity(const struct mls_credential *c,
			     const uint8_t **p, size_t *n);
/* An X.509 credential's certificates (0 for other types), DER. */
size_t mls_credential_n_certificates(const struct mls_credential *c);
int mls_credential_certificate(const struct mls_credential *c, size_t i,
			       const uint8_t **p, size_t *n);

/* A client's signature key pair for one cipher suite and the credential
 * that presents it. */
struct mls_signer;

/* priv NULL: a fresh key pair; else priv in the suite's wire format
 * (FORMATS.md: raw Ed25519 seed, P-256 scalar). */
int mls_signer_new(uint16_t suite, const uint8_t *priv, size_t priv_len,
		   struct mls_signer **out);
/* Bind a credential (copied). For X.509, the end-entity certificate must
 * hold this signer's public key (MLS_ERR_CREDENTIAL otherwise). */
int mls_signer_set_credential(struct mls_signer *s,
			      const struct mls_credential *c);
uint16_t mls_signer_suite(const struct mls_signer *s);
void mls_signer_public_key(const struct mls_signer *s, const uint8_t **p,
			   size_t *n);
/* The private key, for the application's own encrypted storage. */
void mls_signer_private_key(const struct mls_signer *s, const uint8_t **p,
			    size_t *n);
void mls_signer_free(struct mls_signer *s);

/* A list of extensions (RFC 9420 §13) for a GroupContext. */
struct mls_extensions;

int mls_extensions_new(struct mls_extensions **out);
void mls_extensions_free(struct mls_extensions *e);
/* Set the extension of this type to data (replacing any). Types the
 * library builds itself (ratchet_tree 2, external_pub 4) are refused. */
int mls_extensions_set(struct mls_extensions *e, uint16_t type,
		       const uint8_t *data, size_t len);
/* §12.1.8.1: append a sender allowed to send external proposals. */
int mls_extensions_add_external_sender(struct mls_extensions *e,
				       const uint8_t *signature_key,
				       size_t signature_key_len,
				       const struct mls_credential *c);
/* §11.1: what every member must support. */
int mls_extensions_set_required_capabilities(
	struct mls_extensions *e, const uint16_t *extension_types,
	size_t n_extension_types, const uint16_t *proposal_types,
	size_t n_proposal_types, const uint16_t *credential_types,
	size_t n_credential_types);

/* ---- configuration ---- */

/* A pre-shared key the library needs (RFC 9420 §8.4): psktype 1 names an
 * external PSK by id; psktype 2 a resumption PSK of group_id at epoch. */
struct mls_psk_ref {
	uint8_t psktype;
	const uint8_t *id;
	size_t id_len;
	uint8_t usage; /* resumption: 1 application, 2 reinit, 3 branch */
	const uint8_t *group_id;
	size_t group_id_len;
	uint64_t epoch;
};

/*
 * What a group needs from the application; copied by every function that
 * takes it (the callbacks' arguments must outlive the objects). A zero
 * field takes its default.
 */
struct mls_config {
	/* The Authentication Service (required): 0 accepts the credential
	 * presented with sig_key, anything else rejects it
	 * (MLS_ERR_CREDENTIAL). In Bulwark: the chain leads to the
	 * organisation's CA and nothing in it is revoked. */
	int (*accept_credential)(void *arg, const struct mls_credential *cred,
				 const uint8_t *sig_key, size_t sig_key_len);
	void *accept_arg;
	/* The PSK store: the value of an external PSK, or a resumption PSK
	 * of another group (a group's own recent resumption PSKs are kept by
	 * the group). *psk must stay valid until the call that asked for it
	 * returns. Nonzero: not available (MLS_ERR_PSK_MISSING). */
	int (*psk)(void *arg, const struct mls_psk_ref *ref,
		   const uint8_t **psk, size_t *psk_len);
	void *psk_arg;
	/* Seconds since the Unix epoch for key package lifetimes; 0: the
	 * system clock. */
	uint64_t now;
	/* Longest lifetime accepted in a received key package (§7.2);
	 * 0: any. */
	uint64_t max_lifetime;
	/* Lifetime of the key packages and leaves this client makes;
	 * 0: 90 days. They are valid from an hour before their creation, to
	 * allow for clock skew. */
	uint64_t key_package_lifetime;
	/* Send proposals and commits as PrivateMessage. The default is
	 * PublicMessage, so that the delivery service can follow the group
	 * (mls_public_group). */
	bool private_handshake;
	/* Pad the content of PrivateMessages to a multiple of this many
	 * bytes (§6.3.1); 0: no padding. */
	uint32_t padding_block;
	/* The secret tree's window for reordered messages (§9.2): how far
	 * ahead a generation may be, and how many skipped keys are kept per
	 * sender. 0: 1024 and 256. */
	uint32_t max_forward;
	uint32_t max_retained;
	/* How many past epochs' resumption PSKs a group keeps; 0: 8. */
	uint32_t resumption_epochs;
};

/* ---- key packages ---- */

/* A KeyPackage (RFC 9420 §10) with the private keys of its init_key and
 * leaf, and the signer that made it: what a client keeps from publishing
 * the KeyPackage until a Welcome arrives. */
struct mls_key_package_bundle;

/* A fresh KeyPackage for signer (which must have a credential). */
int mls_key_package_bundle_new(const struct mls_config *cfg,
			       const struct mls_signer *signer,
			       struct mls_key_package_bundle **out);
/* A KeyPackage made elsewhere (an MLSMessage) with its private keys; each
 * must match its public key (MLS_ERR_BAD_KEY). */
int mls_key_package_bundle_import(const uint8_t *key_package, size_t len,
				  const uint8_t *init_priv, size_t init_len,
				  const uint8_t *encryption_priv,
				  size_t encryption_len,
				  const uint8_t *signature_priv,
				  size_t signature_len,
				  struct mls_key_package_bundle **out);
/* The MLSMessage(KeyPackage) to publish. */
int mls_key_package_bundle_message(const struct mls_key_package_bundle *b,
				   uint8_t **out, size_t *out_len);
/* Encrypted, versioned storage, as mls_group_save / mls_group_load. */
int mls_key_package_bundle_save(const struct mls_key_package_bundle *b,
				const uint8_t key[MLS_STATE_KEY_LEN],
				uint8_t **out, size_t *out_len);
int mls_key_package_bundle_load(const uint8_t key[MLS_STATE_KEY_LEN],
				const uint8_t *p, size_t n,
				struct mls_key_package_bundle **out);
void mls_key_package_bundle_free(struct mls_key_package_bundle *b);

/* ---- a member's group ---- */

/* One member's state of a group: the tree, its private keys, the epoch's
 * secrets, cached proposals and a pending commit. */
struct mls_group;

/* §11: a one-member group (epoch 0) with signer's credential, a fresh
 * leaf and the GroupContext extensions ext (NULL: none). group_id must
 * be unique (e.g. KDF.Nh random bytes). */
int mls_group_create(const struct mls_config *cfg,
		     const struct mls_signer *signer, const uint8_t *group_id,
		     size_t group_id_len, const struct mls_extensions *ext,
		     struct mls_group **out);
/*
 * §12.4.3.1: join from a Welcome (MLSMessage) meant for one of bundles.
 * The ratchet tree comes from the GroupInfo's ratchet_tree extension or,
 * when ratchet_tree is not NULL, from the caller (serialised
 * optional<Node> ratchet_tree<V>, e.g. from the delivery service; it is
 * verified against the signed tree hash either way). The caller must
 * check that the group id is not one of its other groups'.
 */
int mls_group_join(const struct mls_config *cfg,
		   const struct mls_key_package_bundle *const *bundles,
		   size_t n_bundles, const uint8_t *welcome, size_t welcome_len,
		   const uint8_t *ratchet_tree, size_t ratchet_tree_len,
		   struct mls_group **out);

/*
 * §11.2, reinitialisation: old is a group a commit with a ReInit ended
 * (mls_group_active() false, MLS_ERR_STATE otherwise). _create_reinit
 * makes the group that continues it: one member, the ReInit's group id,
 * cipher suite (signer's, else MLS_ERR_SUITE_MISMATCH) and extensions.
 * Its first commit, which should add old's other members from their new
 * KeyPackages, carries a resumption PSK of usage reinit for old's last
 * epoch, and so does its Welcome. _join_reinit joins such a group from its
 * Welcome: besides mls_group_join's checks, the reinit PSK must be old's
 * (the only PSK of its kind) and the group the one the ReInit named, in
 * epoch 1 (MLS_ERR_WELCOME_PSK). That the new group holds the same
 * members is the application's to check. mls_group_join refuses Welcomes
 * with reinit or branch PSKs.
 */
int mls_group_create_reinit(const struct mls_config *cfg,
			    const struct mls_group *old,
			    const struct mls_signer *signer,
			    struct mls_group **out);
int mls_group_join_reinit(const struct mls_config *cfg,
			  const struct mls_group *old,
			  const struct mls_key_package_bundle *const *bundles,
			  size_t n_bundles, const uint8_t *welcome,
			  size_t welcome_len, const uint8_t *ratchet_tree,
			  size_t ratchet_tree_len, struct mls_group **out);

/* §12.4.3.2: joining by external commit, from a GroupInfo (MLSMessage)
 * with an external_pub extension. */
struct mls_external_join {
	const uint8_t *group_info;
	size_t group_info_len;
	/* NULL: the GroupInfo's ratchet_tree extension. */
	const uint8_t *ratchet_tree;
	size_t ratchet_tree_len;
	/* "Resync": also remove this leaf, an old appearance of the
	 * joiner. */
	bool resync;
	uint32_t resync_leaf;
	/* External PSKs to inject, by id. */
	const uint8_t *const *psk_ids;
	const size_t *psk_id_lens;
	size_t n_psks;
};

/* The new group is in the epoch the commit starts; *commit is the
 * MLSMessage to send. If the delivery service refuses the commit, free
 * the group and try again with a newer GroupInfo. */
int mls_group_join_external(const struct mls_config *cfg,
			    const struct mls_signer *signer,
			    const struct mls_external_join *p,
			    uint8_t **commit, size_t *commit_len,
			    struct mls_group **out);

/*
 * Proposals (§12.1). Each is signed by this member. With msg not NULL it
 * is returned as an MLSMessage to send and cached (by reference) for the
 * next commit of anyone; with msg NULL it is kept for this member's next
 * commit, which carries it by value (not for Update, which is by
 * reference only; a discarded commit does not give them back).
 */
int mls_group_propose_add(struct mls_group *g, const uint8_t *key_package,
			  size_t key_package_len, uint8_t **msg,
			  size_t *msg_len);
/* A fresh leaf encryption key for this member. */
int mls_group_propose_update(struct mls_group *g, uint8_t **msg,
			     size_t *msg_len);
int mls_group_propose_remove(struct mls_group *g, uint32_t leaf,
			     uint8_t **msg, size_t *msg_len);
/* An external PSK, which every member's PSK store must know. */
int mls_group_propose_external_psk(struct mls_group *g, const uint8_t *id,
				   size_t id_len, uint8_t **msg,
				   size_t *msg_len);
/* This group's resumption PSK of a past epoch it still keeps. */
int mls_group_propose_resumption_psk(struct mls_group *g, uint64_t epoch,
				     uint8_t **msg, size_t *msg_len);
int mls_group_propose_reinit(struct mls_group *g, const uint8_t *group_id,
			     size_t group_id_len, uint16_t suite,
			     const struct mls_extensions *ext, uint8_t **msg,
			     size_t *msg_len);
/* Replace the GroupContext extensions wholesale. */
int mls_group_propose_group_context_extensions(
	struct mls_group *g, const struct mls_extensions *ext, uint8_t **msg,
	size_t *msg_len);

struct mls_commit_options {
	/* Send a path even where §12.4 does not require one. */
	bool force_path;
	/* Put the ratchet tree in the Welcome's and the returned GroupInfo's
	 * ratchet_tree extension; otherwise joiners get it out of band. */
	bool ratchet_tree;
};

struct mls_commit_output {
	uint8_t *commit; /* MLSMessage for the group */
	size_t commit_len;
	uint8_t *welcome; /* MLSMessage for the added members, or NULL */
	size_t welcome_len;
	/* The new epoch's GroupInfo with external_pub (MLSMessage), for the
	 * delivery service to give external joiners. */
	uint8_t *group_info;
	size_t group_info_len;
};

void mls_commit_output_clear(struct mls_commit_output *o);

/*
 * §12.4.1: a commit of every valid proposal cached this epoch (by
 * reference; where two conflict, Removes win and the committer's own
 * Updates are left out, §12.2) and those kept by value, with a path when
 * needed or asked for. The group stays in its epoch with the commit
 * pending until mls_group_merge_pending_commit() (the delivery service
 * accepted it; processing the echoed commit does the same) or
 * mls_group_discard_pending_commit() (another commit won). opt may be
 * NULL. MLS_ERR_STATE if a commit is already pending.
 */
int mls_group_commit(struct mls_group *g, const struct mls_commit_options *opt,
		     struct mls_commit_output *out);
int mls_group_merge_pending_commit(struct mls_group *g);
void mls_group_discard_pending_commit(struct mls_group *g);
bool mls_group_has_pending_commit(const struct mls_group *g);

/* What a processed message was. */
enum mls_result_kind {
	MLS_RESULT_APPLICATION = 1, /* data holds the plaintext */
	MLS_RESULT_PROPOSAL = 2,    /* cached for the next commit */
	MLS_RESULT_COMMIT = 3,      /* the group is in a new epoch */
	/* Delivery service only: a PrivateMessage of this epoch, whose
	 * content it cannot see. */
	MLS_RESULT_OPAQUE = 4,
};

/* A member a commit added or removed. */
struct mls_member_change {
	uint32_t leaf;
	struct mls_credential *credential;
	uint8_t *signature_key;
	size_t signature_key_len;
};

struct mls_process_result {
	enum mls_result_kind kind;
	uint8_t sender_type; /* §6 SenderType: 1 member, 2 external,
			      * 3 new_member_proposal, 4 new_member_commit */
	uint32_t sender;     /* leaf index (member), or external sender index */
	uint8_t *data;       /* application data */
	size_t data_len;
	uint8_t *authenticated_data;
	size_t authenticated_data_len;
	uint16_t proposal_type; /* §17.4 ProposalType of a proposal */
	/* commits */
	uint64_t epoch;      /* the new epoch */
	bool own_commit;     /* this member's pending commit, merged */
	struct mls_member_change *added, *removed;
	size_t n_added, n_removed;
	bool removed_self;   /* the group is inactive from now on */
	bool reinit;         /* a ReInit: the group no longer sends (§11.2) */
};

void mls_process_result_clear(struct mls_process_result *r);

/*
 * Process one MLSMessage of this group: an application message, a
 * proposal (cached), or a commit (§12.4.2; a rejected commit changes
 * nothing). A commit from another member discards this member's pending
 * commit; this member's own commit, echoed, merges it. *out is
 * overwritten; clear it with mls_process_result_clear().
 */
int mls_group_process(struct mls_group *g, const uint8_t *msg, size_t len,
		      struct mls_process_result *out);

/* An application message (PrivateMessage) with optional authenticated
 * data (sent in clear, authenticated). MLS_ERR_PROPOSALS_PENDING while
 * proposals of this epoch are cached (§12.4: commit them first). */
int mls_group_encrypt(struct mls_group *g, const void *data, size_t len,
		      const void *aad, size_t aad_len, uint8_t **msg,
		      size_t *msg_len);

/* §8.5 MLS-Exporter(label, context, out_len). */
int mls_group_export(const struct mls_group *g, const char *label,
		     const void *context, size_t context_len, uint8_t *out,
		     size_t out_len);
/* §8.7 epoch_authenticator: *len receives KDF.Nh. */
void mls_group_epoch_authenticator(const struct mls_group *g,
				   uint8_t out[MLS_MAX_SECRET_LEN],
				   size_t *len);
/* §8.6 resumption_psk of a recent epoch (the configured number are kept),
 * for the PSK store of a group that resumes this one. */
int mls_group_resumption_psk(const struct mls_group *g, uint64_t epoch,
			     uint8_t out[MLS_MAX_SECRET_LEN], size_t *len);
uint64_t mls_group_epoch(const struct mls_group *g);
uint16_t mls_group_suite(const struct mls_group *g);
void mls_group_id(const struct mls_group *g, const uint8_t **p, size_t *n);
uint32_t mls_group_own_leaf(const struct mls_group *g);
/* False once removed or reinitialised. */
bool mls_group_active(const struct mls_group *g);
int mls_group_tree_hash(struct mls_group *g, uint8_t out[MLS_MAX_SECRET_LEN],
			size_t *len);

/* A member as the tree holds it; pointers borrowed from the group. */
struct mls_member {
	uint32_t leaf;
	const struct mls_credential *credential;
	const uint8_t *signature_key;
	size_t signature_key_len;
	const uint8_t *encryption_key;
	size_t encryption_key_len;
};

/* Leaves in the tree (members and blanks). */
uint32_t mls_group_n_leaves(const struct mls_group *g);
/* MLS_ERR_BLANK_NODE for a blank leaf, MLS_ERR_LEAF_INDEX past the end. */
int mls_group_member(const struct mls_group *g, uint32_t leaf,
		     struct mls_member *out);
/* The current epoch's signed GroupInfo with external_pub, optionally with
 * the ratchet tree. */
int mls_group_group_info(struct mls_group *g, bool ratchet_tree,
			 uint8_t **out, size_t *out_len);
/* The serialised ratchet tree, for joiners who get it out of band. */
int mls_group_ratchet_tree(const struct mls_group *g, uint8_t **out,
			   size_t *out_len);

/*
 * The whole state (tree, private keys, secrets, secret tree, cached
 * proposals, pending commit), AES-256-GCM encrypted under key: save after
 * every call that changes the group and before sending what it produced.
 * load: MLS_ERR_STATE_CORRUPT for a wrong key or damaged bytes.
 */
int mls_group_save(const struct mls_group *g,
		   const uint8_t key[MLS_STATE_KEY_LEN], uint8_t **out,
		   size_t *out_len);
int mls_group_load(const struct mls_config *cfg,
		   const uint8_t key[MLS_STATE_KEY_LEN], const uint8_t *p,
		   size_t n, struct mls_group **out);
void mls_group_free(struct mls_group *g);

/* ---- the delivery service's view ---- */

/*
 * A group as the server sees it, without any group secret: the tree, the
 * GroupContext and the proposals of the epoch, advanced by the
 * PublicMessage proposals and commits it relays. It checks every
 * signature, the proposal rules and the new tree (leaves, parent hashes,
 * key uniqueness, credentials), and follows the transcript hashes; it
 * cannot check membership tags or confirmation tags (they need the
 * epoch's secrets), nor see inside PrivateMessages.
 */
struct mls_public_group;

/* From a GroupInfo (MLSMessage), whose signature and tree it verifies;
 * the tree as for mls_group_join. */
int mls_public_group_new(const struct mls_config *cfg,
			 const uint8_t *group_info, size_t group_info_len,
			 const uint8_t *ratchet_tree, size_t ratchet_tree_len,
			 struct mls_public_group **out);
/* A PublicMessage proposal or commit is checked and applied; a
 * PrivateMessage gives MLS_RESULT_OPAQUE if it is an application message
 * of this epoch (a private handshake message: MLS_ERR_WIRE_FORMAT, it
 * cannot be followed). */
int mls_public_group_process(struct mls_public_group *pg, const uint8_t *msg,
			     size_t len, struct mls_process_result *out);
uint64_t mls_public_group_epoch(const struct mls_public_group *pg);
void mls_public_group_id(const struct mls_public_group *pg,
			 const uint8_t **p, size_t *n);
int mls_public_group_tree_hash(struct mls_public_group *pg,
			       uint8_t out[MLS_MAX_SECRET_LEN], size_t *len);
uint32_t mls_public_group_n_leaves(const struct mls_public_group *pg);
int mls_public_group_member(const struct mls_public_group *pg, uint32_t leaf,
			    struct mls_member *out);
/* 0 if group_info (MLSMessage) is a GroupInfo for exactly the current
 * state (GroupContext and confirmation tag as followed, signed by a
 * member), else MLS_ERR_GROUP_INFO_MISMATCH or the signature error. */
int mls_public_group_check_group_info(struct mls_public_group *pg,
				      const uint8_t *group_info, size_t len);
int mls_public_group_ratchet_tree(const struct mls_public_group *pg,
				  uint8_t **out, size_t *out_len);
/* §12.1.8: a Remove proposal (MLSMessage) signed by signer, whose key must
 * be in the group's external_senders extension (MLS_ERR_EXTERNAL_SENDER).
 * The view caches it as it caches the proposals it relays. */
int mls_public_group_external_remove(struct mls_public_group *pg,
				     const struct mls_signer *signer,
				     uint32_t leaf, uint8_t **msg,
				     size_t *msg_len);
/* Unencrypted storage of the view (it holds no secret). */
int mls_public_group_save(const struct mls_public_group *pg, uint8_t **out,
			  size_t *out_len);
int mls_public_group_load(const struct mls_config *cfg, const uint8_t *p,
			  size_t n, struct mls_public_group **out);
void mls_public_group_free(struct mls_public_group *pg);

/* ---- what the delivery service checks without being a member ---- */

/* The wire format of an MLSMessage (§6: 1 PublicMessage, 2 PrivateMessage,
 * 3 Welcome, 4 GroupInfo, 5 KeyPackage) from its header alone, or 0 if
 * the header is not mls10's. */
uint16_t mls_message_wire_format(const uint8_t *msg, size_t len);

/* A KeyPackage the delivery service accepted. */
struct mls_key_package_info {
	uint16_t suite;
	uint8_t ref[MLS_MAX_SECRET_LEN]; /* §5.2 KeyPackageRef */
	size_t ref_len;
	uint64_t not_after; /* end of the leaf's lifetime */
};

/*
 * §10.1: key_package (an MLSMessage) is a KeyPackage of suite
 * (MLS_ERR_SUITE_MISMATCH otherwise) that its recipients would accept:
 * version, init_key, capabilities, the leaf (lifetime containing cfg->now
 * and at most cfg->max_lifetime long, credential through
 * cfg->accept_credential) and both signatures, each failing with its own
 * code. On success *out holds its KeyPackageRef and expiry.
 */
int mls_key_package_inspect(const struct mls_config *cfg, uint16_t suite,
			    const uint8_t *key_package, size_t len,
			    struct mls_key_package_info *out);

/* §12.4.3.1: call fn with the KeyPackageRef of each EncryptedGroupSecrets
 * of a Welcome (MLSMessage), in order; a non-zero return stops and is
 * returned. *suite receives the Welcome's cipher suite. */
int mls_welcome_recipients(const uint8_t *welcome, size_t len,
			   uint16_t *suite,
			   int (*fn)(void *arg, const uint8_t *ref,
				     size_t ref_len),
			   void *arg);

/* What a GroupInfo (MLSMessage) declares, unverified: its signature and
 * contents are checked by mls_public_group_new() and
 * mls_public_group_check_group_info(). */
struct mls_group_info_facts {
	uint16_t suite;
	uint64_t epoch;
	bool ratchet_tree;    /* carries the ratchet_tree extension */
	bool external_sender; /* sender_key is in external_senders */
};

int mls_group_info_facts(const uint8_t *group_info, size_t len,
			 const uint8_t *sender_key, size_t sender_key_len,
			 struct mls_group_info_facts *out);

#ifdef __cplusplus
}
#endif
#endif

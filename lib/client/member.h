/*
 * member.h - the device as an MLS client, inside libbulwark: its signer
 * and x509 credential (the device's own key and certificate: the same key
 * serves mutual TLS and MLS, docs/libbulwark.md), the libmls configuration
 * with the organisation's authentication service, and the identities of
 * the members of a group.
 *
 * The authentication service (RFC 9420 §5.3.1): a credential is accepted
 * only if it is an x509 credential whose end-entity certificate chains to
 * the pinned CA (strict X.509, clientAuth, valid now) and names a device
 * with the URI bulwark:user/<user>/device/<id>. libmls itself checks that
 * the certificate carries the leaf's signature key.
 */
#ifndef BW_CLIENT_MEMBER_H
#define BW_CLIENT_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include "bulwark/bulwark.h"
#include "mls/mls.h"
#include "proto.h"

struct member_ctx {
	struct mls_config cfg; /* accept_arg points to this struct */
	struct mls_signer *signer;
	uint16_t suite;
	uint8_t *ca_der;
	size_t ca_len;
	char server_name[BULWARK_MAX_SERVER_NAME + 1];
};

/* Fill *m for the device d. m must not move afterwards (the
 * configuration points to it). */
int member_init(struct member_ctx *m, const struct bulwark_device *d);
void member_clear(struct member_ctx *m);

/* The (user, device id) an accepted credential names. */
int member_identity(const struct mls_credential *c,
		    char user[BULWARK_MAX_NAME + 1],
		    char device_id[BULWARK_MAX_NAME + 1]);
/* The identity of the member at a leaf of g. */
int member_leaf_identity(const struct mls_group *g, uint32_t leaf,
			 char user[BULWARK_MAX_NAME + 1],
			 char device_id[BULWARK_MAX_NAME + 1]);

/* The (user, device id) the certificate of a KeyPackage's credential
 * names (RFC 9420 §10: the leaf node's credential), read without
 * verifying anything: libmls verifies the package and the authentication
 * service the chain when it is proposed. */
int member_key_package_identity(const uint8_t *kp, size_t len,
				char user[BULWARK_MAX_NAME + 1],
				char device_id[BULWARK_MAX_NAME + 1]);

/* The server's delivery-service key and credential from SERVER_INFO, for
 * a group's external_senders: the credential must be x509, chain to the
 * pinned CA, name bulwark:server/<the server's name> and carry exactly
 * sig_key (else BULWARK_ERR_DS_CREDENTIAL). *out is the caller's
 * (mls_extensions_free). */
int member_ds_extensions(const struct member_ctx *m,
			 const struct proto_server_info *info,
			 struct mls_extensions **out);

#endif

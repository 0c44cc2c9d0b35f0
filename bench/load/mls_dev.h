/*
 * mls_dev.h - the MLS side of the generator's devices (libmls, mls.h).
 *
 * A device's signer is its enrolled key (the certificate's key: one key
 * for mutual TLS and MLS, docs/ca.md) with an x509 credential holding its
 * certificate. The authentication service accepts a credential whose
 * certificate chains to the organisation's CA and names a device, as a
 * real device does (lib/pki ca_verify_device_cert); a certificate once
 * verified is remembered by its SHA-256, since every simulated device
 * trusts the same CA. Groups list the server's delivery-service key in
 * external_senders (SERVER_INFO), as the server requires.
 */
#ifndef LG_MLS_DEV_H
#define LG_MLS_DEV_H

#include "lg.h"
#include "mls/mls.h"

struct lg_mls {
	struct mls_config cfg;
	uint16_t suite;
	uint8_t *ca_der;
	size_t ca_len;
	struct mls_extensions *ext; /* the DS as external sender */
	/* certificates already verified, by SHA-256 (open addressing) */
	uint8_t (*seen)[32];
	uint32_t seen_mask, n_seen;
};

/* The CA certificate (PEM file) and its suite. */
int lgm_init(struct lg_mls *m, const char *ca_file);
void lgm_free(struct lg_mls *m);
/* d->signer from d's key and certificate. */
int lgm_signer(struct lg_mls *m, struct dev *d);
/* The group extensions from SERVER_INFO: the DS's key and credential,
 * whose certificate must chain to the CA. */
int lgm_set_ds(struct lg_mls *m, const struct proto_server_info *info);

#endif

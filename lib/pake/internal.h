/*
 * internal.h - what the files of lib/pake share: one suite's group and
 * algorithms, scalar and point encodings, and the key schedule.
 */
#ifndef BW_PAKE_INTERNAL_H
#define BW_PAKE_INTERNAL_H

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "codec.h"
#include "spake2plus.h"

/* A suite of RFC 9383 §4: group, hash (also HKDF's), MAC, M and N. */
struct pake_suite_info {
	enum pake_suite id;
	const char *name;
	int curve_nid;
	const char *md_name;
	const char *mac_name;   /* "HMAC" or "CMAC" */
	const char *mac_subalg; /* HMAC's digest or CMAC's cipher */
	size_t cmac_key_len;    /* 0 for HMAC */
	const char *m_hex;      /* compressed SEC1 */
	const char *n_hex;
};

const struct pake_suite_info *pake_suite_info(enum pake_suite suite);

/* One suite's objects, owned by one exchange or registration. */
struct pake_group {
	const struct pake_suite_info *info;
	EC_GROUP *group;
	const BIGNUM *order; /* owned by group */
	EC_POINT *m, *n;
	EVP_MD *md;
	BN_CTX *bn;
	size_t scalar_len;  /* a field element, big-endian */
	size_t point_len;   /* uncompressed SEC1 */
	size_t hash_len;
	size_t confirm_key_len; /* §3.4: hash length for HMAC, k for CMAC */
	size_t mac_len;
};

int pake_group_init(struct pake_group *g, enum pake_suite suite);
void pake_group_clear(struct pake_group *g);

/* A secret scalar in [1, order-1] from exactly scalar_len bytes; *out is
 * flagged constant-time and must be freed with BN_clear_free. */
int pake_scalar_decode(const struct pake_group *g, const uint8_t *p,
		       size_t n, BIGNUM **out);
/* A uniformly random scalar in [1, order-1]. */
int pake_scalar_random(const struct pake_group *g, BIGNUM **out);
/* scalar_len bytes, big-endian. */
int pake_scalar_encode(const struct pake_group *g, const BIGNUM *s,
		       uint8_t *out);

/* A peer's share: uncompressed, on the curve, not the identity (§6). */
int pake_point_decode(const struct pake_group *g, const uint8_t *p,
		      size_t n, EC_POINT **out);
/* point_len bytes, uncompressed. */
int pake_point_encode(const struct pake_group *g, const EC_POINT *pt,
		      uint8_t *out);
/* out = k*base (base NULL: the generator P). One secret scalar per call so
 * that OpenSSL takes its constant-time ladder. */
int pake_mul(const struct pake_group *g, EC_POINT *out, const EC_POINT *base,
	     const BIGNUM *k);

/* len(p) || p, the length as 8 bytes little-endian (RFC 9383 §3.2, §3.3),
 * unlike the big-endian integers of the shared codec. Errors stick in w. */
void pake_write_field(struct bw_writer *w, const void *p, size_t n);

/* Everything the transcript TT holds besides M and N (§3.3). */
struct pake_transcript {
	const struct pake_config *cfg;
	const uint8_t *share_p, *share_v; /* point_len each */
	const uint8_t *z, *v;             /* point_len each */
	const uint8_t *w0;                /* scalar_len */
};

/* The keys of §3.4 this side keeps until the exchange ends. */
struct pake_keys {
	uint8_t k_confirm_p[PAKE_MAX_HASH_LEN];
	uint8_t k_confirm_v[PAKE_MAX_HASH_LEN];
	uint8_t k_shared[PAKE_MAX_HASH_LEN];
};

/* TT, K_main and the keys derived from it; records into trace if given. */
int pake_key_schedule(const struct pake_group *g,
		      const struct pake_transcript *t, struct pake_keys *k,
		      struct pake_trace *trace);
/* mac_len bytes of MAC(key, data) with the suite's MAC. */
int pake_mac(const struct pake_group *g, const uint8_t *key,
	     const uint8_t *data, size_t n, uint8_t *out);
/* Constant-time check of a received MAC: 0, PAKE_ERR_CONFIRM_LENGTH or
 * PAKE_ERR_CONFIRM. */
int pake_mac_verify(const struct pake_group *g, const uint8_t *key,
		    const uint8_t *data, size_t n, const uint8_t *mac,
		    size_t mac_len);

#endif

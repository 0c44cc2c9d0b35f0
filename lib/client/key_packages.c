/*
 * key_packages.c - the device's key packages (RFC 9420 §10): enough of
 * them at the server for others to add this device, each bundle (with its
 * private keys) in the store from before it is uploaded until a Welcome
 * uses it, and a last-resort one that is never used up.
 */
#include "client.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

/* Upload up to twice the server's low-water mark. */
#define KP_TARGET_FACTOR 2u

struct batch {
	struct store_kp *kps; /* bundles as stored */
	struct bw_bytes *msgs; /* the KeyPackage messages */
	size_t n;
	bool last_resort; /* the last one is the last-resort package */
};

static void batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		bw_bytes_clear(&b->kps[i].bundle);
		bw_bytes_clear(&b->msgs[i]);
	}
	free(b->kps);
	free(b->msgs);
	memset(b, 0, sizeof(*b));
}

static int make_one(struct bulwark_client *c, struct store_kp *kp,
		    struct bw_bytes *msg)
{
	struct mls_key_package_bundle *b = NULL;
	int rc;

	if (RAND_bytes(kp->id, sizeof(kp->id)) != 1)
		return BULWARK_ERR_KS_CRYPTO;
	if ((rc = mls_key_package_bundle_new(&c->me.cfg, c->me.signer, &b)) !=
		    0 ||
	    (rc = mls_key_package_bundle_message(b, &msg->p, &msg->len)) != 0 ||
	    (rc = mls_key_package_bundle_save(b, store_state_key(c->store),
					      &kp->bundle.p,
					      &kp->bundle.len)) != 0)
		goto out;
out:
	mls_key_package_bundle_free(b);
	return rc;
}

static int make_batch(struct bulwark_client *c, size_t n, bool last_resort,
		      struct batch *b)
{
	size_t total = n + (last_resort ? 1 : 0);
	int rc;

	memset(b, 0, sizeof(*b));
	b->kps = calloc(total, sizeof(*b->kps));
	b->msgs = calloc(total, sizeof(*b->msgs));
	if (b->kps == NULL || b->msgs == NULL) {
		batch_clear(b);
		return BW_ERR_NOMEM;
	}
	b->last_resort = last_resort;
	for (; b->n < total; b->n++)
		if ((rc = make_one(c, &b->kps[b->n], &b->msgs[b->n])) != 0) {
			b->n++; /* half made: cleared with the rest */
			batch_clear(b);
			return rc;
		}
	if (last_resort)
		b->kps[total - 1].last_resort = true;
	return 0;
}

/* Stored before the upload: a Welcome may follow at once. */
static int store_batch(struct bulwark_client *c, const struct batch *b)
{
	int rc;

	if ((rc = store_begin(c->store)) != 0)
		return rc;
	for (size_t i = 0; i < b->n; i++)
		if ((rc = store_kp_add(c->store, &b->kps[i])) != 0) {
			store_rollback(c->store);
			return rc;
		}
	return store_commit(c->store);
}

/* The upload failed: the server holds none of them. */
static void unstore_batch(struct bulwark_client *c, const struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		(void)store_kp_delete(c->store, b->kps[i].id);
}

static int have_last_resort(struct bulwark_client *c, bool *have)
{
	struct store_kp *kps;
	size_t n;
	int rc;

	*have = false;
	if ((rc = store_kp_list(c->store, &kps, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		*have = *have || kps[i].last_resort;
	store_kps_free(kps, n);
	return 0;
}

static int upload(struct bulwark_client *c, size_t n, bool last_resort)
{
	struct batch b;
	struct proto_kp_count count;
	size_t plain;
	int rc;

	if ((rc = make_batch(c, n, last_resort, &b)) != 0)
		return rc;
	if ((rc = store_batch(c, &b)) != 0)
		goto out;
	plain = b.n - (last_resort ? 1 : 0);
	rc = rpc_kp_upload(c, b.msgs, plain,
			   last_resort ? &b.msgs[b.n - 1] : NULL, &count);
	if (rc != 0)
		unstore_batch(c, &b);
out:
	batch_clear(&b);
	return rc;
}

int client_kp_ensure(struct bulwark_client *c)
{
	struct proto_kp_count count;
	size_t n = 0, target;
	bool last_resort;
	int rc;

	c->kp_low = false;
	if ((rc = rpc_kp_count(c, &count)) != 0 ||
	    (rc = have_last_resort(c, &last_resort)) != 0)
		return rc;
	target = (size_t)count.low_water * KP_TARGET_FACTOR;
	if (count.available < count.low_water && target > count.available)
		n = target - count.available;
	if (n > PROTO_MAX_UPLOAD_KEY_PACKAGES)
		n = PROTO_MAX_UPLOAD_KEY_PACKAGES;
	if (n == 0 && last_resort)
		return 0;
	return upload(c, n, !last_resort);
}

int client_kp_join(struct bulwark_client *c, const uint8_t *welcome,
		   size_t len, struct mls_group **g, uint8_t id[32],
		   bool *last_resort)
{
	struct store_kp *kps;
	struct mls_key_package_bundle *b;
	size_t n;
	int rc;

	*g = NULL;
	if ((rc = store_kp_list(c->store, &kps, &n)) != 0)
		return rc;
	rc = BULWARK_ERR_MESSAGE_INVALID;
	for (size_t i = 0; i < n; i++) {
		const struct mls_key_package_bundle *one[1];

		if ((rc = mls_key_package_bundle_load(store_state_key(c->store),
						      kps[i].bundle.p,
						      kps[i].bundle.len, &b)) !=
		    0)
			break;
		one[0] = b;
		rc = mls_group_join(&c->me.cfg, one, 1, welcome, len, NULL, 0,
				    g);
		mls_key_package_bundle_free(b);
		if (rc == MLS_ERR_WELCOME_NO_MATCH) {
			rc = BULWARK_ERR_MESSAGE_INVALID;
			continue;
		}
		if (rc == 0) {
			memcpy(id, kps[i].id, 32);
			*last_resort = kps[i].last_resort;
		}
		break;
	}
	store_kps_free(kps, n);
	return rc;
}

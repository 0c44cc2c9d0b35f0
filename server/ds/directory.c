/*
 * directory.c - the KeyPackage directory (docs/protocol.md, KP_*).
 *
 * A device uploads KeyPackages for itself: each is validated on the
 * worker (libmls: version, suite, signatures, lifetime; the leaf's
 * credential must be the very certificate the device logged in with)
 * before the store thread stores it under its KeyPackageRef. A claim takes
 * the oldest valid package of every active device of each named user,
 * all or nothing; a device's last-resort package is handed out when it
 * has nothing else, and never consumed. The refs stay after a claim, so
 * that the Welcome that uses one can be routed to its device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ds_int.h"
#include "errors.h"
#include "server.h"

/* ---- worker: validation ---- */

static uint16_t check_one(struct ds *ds, struct ds_req *r,
			  const struct proto_span *kp, bool last_resort,
			  struct ds_kp *out, const char **why)
{
	struct ds_accept only_this = { .ds = ds,
				       .fingerprint = r->who.fingerprint };
	struct mls_key_package_info info;
	struct mls_config cfg;
	int rc;

	ds_mls_config(&only_this, &cfg);
	if ((rc = mls_key_package_inspect(&cfg, ds->suite, kp->p, kp->n,
					  &info)) != 0) {
		*why = mls_strerror(rc);
		return PROTO_E_INVALID_MLS;
	}
	out->p = kp->p;
	out->n = kp->n;
	memcpy(out->ref, info.ref, info.ref_len);
	out->ref_len = info.ref_len;
	out->not_after = info.not_after > INT64_MAX ? INT64_MAX
						    : (int64_t)info.not_after;
	out->last_resort = last_resort;
	return 0;
}

static bool seen(const struct ds_kp *kps, size_t n, const struct ds_kp *k)
{
	for (size_t i = 0; i < n; i++)
		if (kps[i].ref_len == k->ref_len &&
		    memcmp(kps[i].ref, k->ref, k->ref_len) == 0)
			return true;
	return false;
}

uint16_t ds_kp_prepare(struct ds *ds, struct ds_req *r,
		       const struct proto_kp_upload_req *req,
		       const char **why)
{
	size_t max = req->key_packages.count + (req->has_last_resort ? 1 : 0);
	struct proto_span kp;
	struct bw_reader it;
	uint16_t status;

	if ((r->kps = calloc(max, sizeof(*r->kps))) == NULL)
		return PROTO_E_BUSY;
	proto_list_iter(&req->key_packages, &it);
	while (r->n_kps < max) {
		bool last = !proto_next_key_package(&it, &kp);

		if (last)
			kp = req->last_resort;
		if ((status = check_one(ds, r, &kp, last, &r->kps[r->n_kps],
					why)) != 0)
			return status;
		if (seen(r->kps, r->n_kps, &r->kps[r->n_kps])) {
			*why = "the same key package twice";
			return PROTO_E_CONFLICT;
		}
		r->n_kps++;
	}
	return 0;
}

/* ---- store thread ---- */

int ds_kp_stock(struct ds *ds, struct store *s, const char *device,
		uint32_t *available, bool *low)
{
	int rc = s->ds->kp_count(s, device, (int64_t)time(NULL), available);

	*low = rc == 0 && *available < ds->srv->cfg.key_package_low_water;
	return rc;
}

static int reply_count(struct ds *ds, struct store *s, struct ds_req *r)
{
	struct proto_kp_count out = {
		.low_water = ds->srv->cfg.key_package_low_water,
	};
	bool low;
	size_t mark;
	int rc;

	if ((rc = ds_kp_stock(ds, s, r->who.id, &out.available, &low)) != 0)
		return rc;
	mark = ds_reply_begin(r);
	proto_encode_kp_count(&r->resp, &out);
	return ds_reply_end(r, mark);
}

int ds_kp_upload(struct ds *ds, struct store *s, struct ds_req *r)
{
	int64_t now = (int64_t)time(NULL);
	uint32_t available = 0;
	size_t fresh = 0;
	bool low;
	int rc;

	for (size_t i = 0; i < r->n_kps; i++)
		fresh += r->kps[i].last_resort ? 0 : 1;
	if ((rc = ds_kp_stock(ds, s, r->who.id, &available, &low)) != 0)
		return rc;
	if (available + fresh > ds->srv->cfg.max_key_packages)
		return ds_refuse(r, PROTO_E_FORBIDDEN,
				 "more key packages than the server keeps");
	for (size_t i = 0; i < r->n_kps; i++) {
		const struct ds_kp *k = &r->kps[i];
		struct store_kp row = {
			.device = r->who.id,
			.ref = k->ref,
			.ref_len = k->ref_len,
			.key_package = k->p,
			.key_package_len = k->n,
			.last_resort = k->last_resort,
			.not_after = k->not_after,
			.uploaded = now,
		};

		rc = s->ds->kp_add(s, &row);
		if (rc == BWD_ERR_EXISTS)
			return ds_refuse(r, PROTO_E_CONFLICT,
					 "key package already uploaded");
		if (rc != 0)
			return rc;
	}
	return reply_count(ds, s, r);
}

int ds_kp_count(struct ds *ds, struct store *s, struct ds_req *r)
{
	return reply_count(ds, s, r);
}

/* The active devices of a user but the claimer. */
struct device_list {
	const char *except;
	char (*ids)[STORE_NAME_SIZE];
	size_t n, cap;
};

static int list_add(struct device_list *l, const char *id)
{
	char(*grown)[STORE_NAME_SIZE];

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		if ((grown = realloc(l->ids, l->cap * sizeof(*grown))) == NULL)
			return BW_ERR_NOMEM;
		l->ids = grown;
	}
	snprintf(l->ids[l->n++], STORE_NAME_SIZE, "%s", id);
	return 0;
}

static int collect_device(void *arg, const struct store_device *d)
{
	struct device_list *l = arg;

	if (d->revoked_at != 0 || strcmp(d->id, l->except) == 0)
		return 0;
	return list_add(l, d->id);
}

/* One package for each of the user's devices, appended to the response;
 * devices that ran low join *low. */
static int claim_user(struct ds *ds, struct store *s, struct ds_req *r,
		      const struct proto_span *user, struct device_list *low)
{
	struct device_list devs = { .except = r->who.id };
	char name[STORE_NAME_SIZE];
	struct bw_bytes kp = { 0 };
	struct store_user u;
	uint32_t available;
	bool is_low;
	int rc;

	memcpy(name, user->p, user->n);
	name[user->n] = '\0';
	rc = s->ops->user_get(s, name, &u);
	if (rc == BWD_ERR_NOT_FOUND || (rc == 0 && u.disabled))
		return ds_refuse(r, PROTO_E_UNKNOWN_USER, NULL);
	if (rc != 0 || (rc = s->ops->device_list(s, name, collect_device,
						 &devs)) != 0)
		goto out;
	for (size_t i = 0; i < devs.n && rc == 0; i++) {
		struct proto_claim c = { *user,
					 { (const uint8_t *)devs.ids[i],
					   strlen(devs.ids[i]) },
					 { NULL, 0 } };

		rc = s->ds->kp_claim(s, devs.ids[i], (int64_t)time(NULL), &kp);
		if (rc == BWD_ERR_NOT_FOUND) {
			rc = ds_refuse(r, PROTO_E_NO_KEY_PACKAGE, NULL);
			break;
		}
		if (rc != 0)
			break;
		c.key_package = (struct proto_span){ kp.p, kp.len };
		proto_write_claim(&r->resp, &c);
		bw_bytes_clear(&kp);
		if ((rc = ds_kp_stock(ds, s, devs.ids[i], &available,
				      &is_low)) == 0 && is_low)
			rc = list_add(low, devs.ids[i]);
	}
out:
	free(devs.ids);
	return rc;
}

int ds_kp_claim(struct ds *ds, struct store *s, struct ds_req *r)
{
	struct device_list low = { .except = "" };
	struct proto_kp_claim_req req;
	struct proto_span user;
	struct bw_reader it;
	size_t mark, list;
	uint32_t available;
	bool is_low;
	int rc = proto_decode_kp_claim_req(&r->m, &req);

	if (rc != 0)
		return ds_refuse(r, PROTO_E_MALFORMED, NULL);
	mark = ds_reply_begin(r);
	list = bw_write_vector_begin(&r->resp);
	proto_list_iter(&req.users, &it);
	while (rc == 0 && proto_next_user(&it, &user))
		rc = claim_user(ds, s, r, &user, &low);
	if (rc == 0) {
		bw_write_vector_end(&r->resp, list);
		if (ds_reply_end(r, mark) != 0)
			rc = ds_refuse(r, PROTO_E_FORBIDDEN,
				       "claim too large for one response");
	}
	/* Consumed: tell the devices that now run low. */
	for (size_t i = 0; rc == 0 && i < low.n; i++)
		if ((rc = ds_kp_stock(ds, s, low.ids[i], &available,
				      &is_low)) == 0)
			rc = ds_push_kp_low(ds, low.ids[i], available);
	free(low.ids);
	return rc;
}

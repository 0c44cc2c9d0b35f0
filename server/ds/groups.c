/*
 * groups.c - the store thread's cache of groups: each group's public view
 * (libmls mls_public_group, saved in the store after every change), its
 * epoch and last seq, its current GroupInfo, and which device holds each
 * leaf. A group comes into the cache when first needed; a change that
 * could not be stored is undone by dropping the group from the cache, so
 * that the store's state is loaded again.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ds_int.h"
#include "errors.h"
#include "pki.h"
#include "seeded_hash.h"
#include "server.h"

/* Initial sizes; both tables double once they hold one entry per
 * bucket, so a lookup stays one short chain whatever the organisation's
 * size (scenario A: 20,000 groups). */
#define GROUP_BUCKETS 1024u
#define DEVICE_BUCKETS 1024u

/* The entry of type that holds link l. */
#define ENTRY_OF(l, type) \
	((type *)(void *)((char *)(l) - offsetof(type, link)))

/* Group ids are chosen by devices: seeded (seeded_hash.h). */
static size_t hash(const struct ds *ds, const uint8_t *p, size_t n)
{
	return (size_t)seeded_hash_bytes(ds->hash_seed, p, n);
}

/* ---- chained tables ---- */

static int chains_init(struct ds_chains *t, size_t n_buckets)
{
	if ((t->buckets = calloc(n_buckets, sizeof(*t->buckets))) == NULL)
		return BW_ERR_NOMEM;
	t->n_buckets = n_buckets;
	return 0;
}

static struct ds_link **chains_head(const struct ds_chains *t, size_t h)
{
	return &t->buckets[h & (t->n_buckets - 1)];
}

/* Twice the buckets, each chain relinked; on failure the table stays. */
static void chains_grow(struct ds_chains *t)
{
	struct ds_chains grown = { .n_buckets = 2 * t->n_buckets, .n = t->n };
	struct ds_link *l, *next, **head;

	if ((grown.buckets = calloc(grown.n_buckets,
				    sizeof(*grown.buckets))) == NULL)
		return;
	for (size_t i = 0; i < t->n_buckets; i++)
		for (l = t->buckets[i]; l != NULL; l = next) {
			next = l->next;
			head = chains_head(&grown, l->hash);
			l->next = *head;
			*head = l;
		}
	free(t->buckets);
	*t = grown;
}

static void chains_link(struct ds_chains *t, struct ds_link *l, size_t h)
{
	struct ds_link **head;

	if (++t->n > t->n_buckets)
		chains_grow(t);
	head = chains_head(t, h);
	l->hash = h;
	l->next = *head;
	*head = l;
}

/* Unlink every entry, each handed to drop; the buckets stay. */
static void chains_empty(struct ds_chains *t, void (*drop)(struct ds_link *))
{
	struct ds_link *l, *next;

	for (size_t i = 0; t->buckets != NULL && i < t->n_buckets; i++) {
		for (l = t->buckets[i]; l != NULL; l = next) {
			next = l->next;
			drop(l);
		}
		t->buckets[i] = NULL;
	}
	t->n = 0;
}

int ds_groups_init(struct ds *ds)
{
	int rc;

	if (RAND_bytes((unsigned char *)&ds->hash_seed,
		       sizeof(ds->hash_seed)) != 1)
		return BW_ERR_OPENSSL;
	rc = chains_init(&ds->groups, GROUP_BUCKETS);
	return rc != 0 ? rc : chains_init(&ds->devices, DEVICE_BUCKETS);
}

static void group_free(struct ds_group *g)
{
	if (g == NULL)
		return;
	mls_public_group_free(g->view);
	bw_bytes_clear(&g->group_info);
	free(g->leaves);
	free(g);
}

static void group_drop(struct ds_link *l)
{
	group_free(ENTRY_OF(l, struct ds_group));
}

static void device_drop(struct ds_link *l)
{
	free(ENTRY_OF(l, struct ds_device));
}

void ds_groups_forget_all(struct ds *ds)
{
	chains_empty(&ds->groups, group_drop);
}

void ds_groups_free(struct ds *ds)
{
	chains_empty(&ds->groups, group_drop);
	free(ds->groups.buckets);
	chains_empty(&ds->devices, device_drop);
	free(ds->devices.buckets);
}

/* ---- devices ---- */

struct ds_device *ds_device_get(struct ds *ds, const char *id)
{
	size_t n = strlen(id), h = hash(ds, (const uint8_t *)id, n);
	struct ds_device *d;

	for (struct ds_link *l = *chains_head(&ds->devices, h); l != NULL;
	     l = l->next) {
		d = ENTRY_OF(l, struct ds_device);
		if (strcmp(d->id, id) == 0)
			return d;
	}
	if (n >= sizeof(d->id) || (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	memcpy(d->id, id, n + 1);
	chains_link(&ds->devices, &d->link, h);
	return d;
}

/* ---- leaves ---- */

/* Whose a leaf is: from the registry if the device may log in, else from
 * its certificate (a revoked device still in the group). */
static int leaf_owner(struct ds *ds, const struct mls_member *m,
		      struct ds_leaf *out)
{
	char user[CA_NAME_MAX + 1], device[CA_NAME_MAX + 1];
	uint8_t fp[DS_FINGERPRINT_LEN];
	struct device_ident who;
	const uint8_t *der;
	size_t n;
	int rc;

	out->leaf = m->leaf;
	if ((rc = mls_credential_certificate(m->credential, 0, &der, &n)) !=
		    0 ||
	    (rc = ca_fingerprint(der, n, fp)) != 0)
		return rc;
	out->active = devices_lookup(ds->srv->devices, fp, &who);
	if (out->active) {
		snprintf(user, sizeof(user), "%s", who.user);
		snprintf(device, sizeof(device), "%s", who.id);
	} else if ((rc = ca_device_identity(der, n, user, device)) != 0) {
		return rc;
	}
	snprintf(out->user, sizeof(out->user), "%s", user);
	return (out->dev = ds_device_get(ds, device)) != NULL ? 0
							      : BW_ERR_NOMEM;
}

int ds_leaves_read(struct ds *ds, struct mls_public_group *view,
		   struct ds_leaf **leaves, size_t *n)
{
	uint32_t width = mls_public_group_n_leaves(view);
	struct ds_leaf *v = NULL;
	struct mls_member m;
	size_t k = 0;
	int rc = 0;

	*leaves = NULL;
	*n = 0;
	if (width > 0 && (v = calloc(width, sizeof(*v))) == NULL)
		return BW_ERR_NOMEM;
	for (uint32_t i = 0; i < width && rc == 0; i++) {
		if (mls_public_group_member(view, i, &m) != 0)
			continue; /* blank */
		rc = leaf_owner(ds, &m, &v[k++]);
	}
	if (rc != 0) {
		free(v);
		return rc;
	}
	*leaves = v;
	*n = k;
	return 0;
}

const struct ds_leaf *ds_group_leaf(const struct ds_group *g, uint32_t leaf)
{
	for (size_t i = 0; i < g->n_leaves; i++)
		if (g->leaves[i].leaf == leaf)
			return &g->leaves[i];
	return NULL;
}

struct ds_device *ds_group_device(const struct ds_group *g,
				  const char *device)
{
	for (size_t i = 0; i < g->n_leaves; i++)
		if (strcmp(g->leaves[i].dev->id, device) == 0)
			return g->leaves[i].dev;
	return NULL;
}

bool ds_group_has_device(const struct ds_group *g, const char *device)
{
	return ds_group_device(g, device) != NULL;
}

bool ds_group_has_user(const struct ds_group *g, const char *user)
{
	for (size_t i = 0; i < g->n_leaves; i++)
		if (strcmp(g->leaves[i].user, user) == 0)
			return true;
	return false;
}

/* ---- the cache ---- */

void ds_group_forget(struct ds *ds, struct ds_group *g)
{
	struct ds_link **pl = chains_head(&ds->groups, g->link.hash);

	while (*pl != NULL && *pl != &g->link)
		pl = &(*pl)->next;
	if (*pl == NULL)
		return;
	*pl = g->link.next;
	ds->groups.n--;
	group_free(g);
}

static struct ds_group *cached(struct ds *ds, const uint8_t *id, size_t n)
{
	size_t h = hash(ds, id, n);
	struct ds_group *g;

	for (struct ds_link *l = *chains_head(&ds->groups, h); l != NULL;
	     l = l->next) {
		g = ENTRY_OF(l, struct ds_group);
		if (g->id_len == n && memcmp(g->id, id, n) == 0)
			return g;
	}
	return NULL;
}

/* A group from its stored row: the view, then whose each leaf is. */
static int load(struct ds *ds, struct store *s, struct store_group *row,
		struct ds_group **out)
{
	struct ds_group *g;
	struct mls_config cfg;
	uint64_t logged = 0;
	int rc;

	if (row->group_id.len == 0 || row->group_id.len > PROTO_MAX_GROUP_ID)
		return BWD_ERR_STORE;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return BW_ERR_NOMEM;
	ds_mls_config(&ds->accept, &cfg);
	g->gid = row->gid;
	g->id_len = row->group_id.len;
	memcpy(g->id, row->group_id.p, g->id_len);
	g->epoch = row->epoch;
	/* The row's last seq is written with handshakes and before purges;
	 * messages since then are in the log. */
	if ((rc = s->ds->log_last_seq(s, row->gid, &logged)) != 0 ||
	    (rc = mls_public_group_load(&cfg, row->view.p, row->view.len,
					&g->view)) != 0 ||
	    (rc = ds_leaves_read(ds, g->view, &g->leaves, &g->n_leaves)) != 0) {
		group_free(g);
		return rc;
	}
	g->last_seq = logged > row->last_seq ? logged : row->last_seq;
	bw_bytes_move(&g->group_info, &row->group_info);
	chains_link(&ds->groups, &g->link, hash(ds, g->id, g->id_len));
	*out = g;
	return 0;
}

int ds_group_find(struct ds *ds, struct store *s, const uint8_t *id,
		  size_t n, struct ds_group **out)
{
	struct store_group row = { 0 };
	int rc;

	if ((*out = cached(ds, id, n)) != NULL)
		return 0;
	if ((rc = s->ds->group_get(s, id, n, &row)) == 0)
		rc = load(ds, s, &row, out);
	store_group_clear(&row);
	return rc;
}

int ds_group_find_named(struct ds *ds, struct store *s, struct ds_req *r,
			const struct proto_span *id, struct ds_group **out)
{
	int rc = ds_group_find(ds, s, id->p, id->n, out);

	return rc == BWD_ERR_NOT_FOUND
		       ? ds_refuse(r, PROTO_E_UNKNOWN_GROUP, NULL)
		       : rc;
}

int ds_group_find_gid(struct ds *ds, struct store *s, int64_t gid,
		      struct ds_group **out)
{
	struct store_group row = { 0 };
	int rc;

	if ((rc = s->ds->group_get_gid(s, gid, &row)) == 0) {
		if ((*out = cached(ds, row.group_id.p, row.group_id.len)) ==
		    NULL)
			rc = load(ds, s, &row, out);
	}
	store_group_clear(&row);
	return rc;
}

int ds_group_insert(struct ds *ds, int64_t gid, struct mls_public_group *view,
		    const uint8_t *group_info, size_t group_info_len,
		    struct ds_group **out)
{
	const uint8_t *id;
	struct ds_group *g;
	size_t n;
	int rc;

	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return BW_ERR_NOMEM;
	mls_public_group_id(view, &id, &n);
	g->gid = gid;
	g->id_len = n;
	memcpy(g->id, id, n);
	g->epoch = mls_public_group_epoch(view);
	if ((rc = bw_bytes_set(&g->group_info, group_info, group_info_len)) !=
		    0 ||
	    (rc = ds_leaves_read(ds, view, &g->leaves, &g->n_leaves)) != 0) {
		group_free(g);
		return rc;
	}
	g->view = view;
	chains_link(&ds->groups, &g->link, hash(ds, g->id, g->id_len));
	*out = g;
	return 0;
}

int ds_group_save(struct store *s, struct ds_group *g,
		  const struct bw_bytes *group_info)
{
	struct bw_bytes view = { 0 };
	int rc;

	if ((rc = mls_public_group_save(g->view, &view.p, &view.len)) != 0)
		return rc;
	rc = s->ds->group_update(s, g->gid, g->epoch, g->last_seq, &view,
				 group_info);
	free(view.p);
	return rc;
}

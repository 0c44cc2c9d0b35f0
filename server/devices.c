/* devices.c - hash table of the devices that may log in. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "errors.h"

struct entry {
	struct entry *next;
	uint8_t fingerprint[STORE_FINGERPRINT_LEN];
	struct device_ident ident;
};

struct devices {
	pthread_rwlock_t lock;
	struct entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
};

#define INITIAL_BUCKETS 256

/* The fingerprint is a hash already: its first bytes index the table. */
static size_t bucket_of(const struct devices *d, const uint8_t *fp)
{
	uint64_t h;

	memcpy(&h, fp, sizeof(h));
	return (size_t)h & (d->nbuckets - 1);
}

int devices_new(struct devices **out)
{
	struct devices *d;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return BW_ERR_NOMEM;
	if ((d->buckets = calloc(INITIAL_BUCKETS, sizeof(*d->buckets))) ==
	    NULL) {
		free(d);
		return BW_ERR_NOMEM;
	}
	d->nbuckets = INITIAL_BUCKETS;
	pthread_rwlock_init(&d->lock, NULL);
	*out = d;
	return 0;
}

void devices_free(struct devices *d)
{
	struct entry *e, *next;

	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nbuckets; i++)
		for (e = d->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(d->buckets);
	pthread_rwlock_destroy(&d->lock);
	free(d);
}

/* Double the table when it gets full; keeps chains short. Best effort:
 * without memory the table just stays as it is. */
static void grow(struct devices *d)
{
	size_t n = d->nbuckets * 2;
	struct entry **b, *e, *next;
	struct devices tmp;

	if ((b = calloc(n, sizeof(*b))) == NULL)
		return;
	tmp.nbuckets = n;
	for (size_t i = 0; i < d->nbuckets; i++)
		for (e = d->buckets[i]; e != NULL; e = next) {
			size_t k = bucket_of(&tmp, e->fingerprint);

			next = e->next;
			e->next = b[k];
			b[k] = e;
		}
	free(d->buckets);
	d->buckets = b;
	d->nbuckets = n;
}

static struct entry **find(struct devices *d, const uint8_t *fp)
{
	struct entry **pe = &d->buckets[bucket_of(d, fp)];

	while (*pe != NULL &&
	       memcmp((*pe)->fingerprint, fp, STORE_FINGERPRINT_LEN) != 0)
		pe = &(*pe)->next;
	return pe;
}

static void copy_name(char *dst, const char *src)
{
	size_t n = strnlen(src, STORE_NAME_SIZE - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

int devices_add(struct devices *d, const struct store_device *dev)
{
	struct entry *e, **pe;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return BW_ERR_NOMEM;
	memcpy(e->fingerprint, dev->fingerprint, STORE_FINGERPRINT_LEN);
	memcpy(e->ident.fingerprint, dev->fingerprint, STORE_FINGERPRINT_LEN);
	copy_name(e->ident.id, dev->id);
	copy_name(e->ident.user, dev->user);
	copy_name(e->ident.name, dev->name);
	pthread_rwlock_wrlock(&d->lock);
	if (d->count >= d->nbuckets)
		grow(d);
	pe = find(d, e->fingerprint);
	if (*pe != NULL) {
		/* Same certificate again: keep the newer identity. */
		e->next = (*pe)->next;
		free(*pe);
		d->count--;
	} else {
		e->next = NULL;
	}
	*pe = e;
	d->count++;
	pthread_rwlock_unlock(&d->lock);
	return 0;
}

void devices_remove(struct devices *d, const uint8_t *fingerprint)
{
	struct entry **pe, *e;

	pthread_rwlock_wrlock(&d->lock);
	pe = find(d, fingerprint);
	if ((e = *pe) != NULL) {
		*pe = e->next;
		free(e);
		d->count--;
	}
	pthread_rwlock_unlock(&d->lock);
}

void devices_remove_user(struct devices *d, const char *user)
{
	struct entry **pe, *e;

	pthread_rwlock_wrlock(&d->lock);
	for (size_t i = 0; i < d->nbuckets; i++) {
		pe = &d->buckets[i];
		while ((e = *pe) != NULL) {
			if (strcmp(e->ident.user, user) == 0) {
				*pe = e->next;
				free(e);
				d->count--;
			} else {
				pe = &e->next;
			}
		}
	}
	pthread_rwlock_unlock(&d->lock);
}

bool devices_lookup(struct devices *d, const uint8_t *fingerprint,
		    struct device_ident *out)
{
	struct entry *e;

	pthread_rwlock_rdlock(&d->lock);
	e = *find(d, fingerprint);
	if (e != NULL && out != NULL)
		*out = e->ident;
	pthread_rwlock_unlock(&d->lock);
	return e != NULL;
}

size_t devices_count(struct devices *d)
{
	size_t n;

	pthread_rwlock_rdlock(&d->lock);
	n = d->count;
	pthread_rwlock_unlock(&d->lock);
	return n;
}

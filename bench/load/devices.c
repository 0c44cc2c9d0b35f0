/* devices.c - the enrolled devices (devices.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "conn.h"
#include "devices.h"
#include "mls/mls.h"

/* "u<digits>" -> its index; false for any other user name. */
static bool user_index(const char *user, uint32_t *idx)
{
	char *end;
	unsigned long v;

	if (user[0] != 'u' || user[1] < '0' || user[1] > '9')
		return false;
	errno = 0;
	v = strtoul(user + 1, &end, 10);
	if (errno != 0 || *end != '\0' || v >= UINT32_MAX)
		return false;
	*idx = (uint32_t)v;
	return true;
}

static int load_pem(struct dev *d, const char *path)
{
	FILE *f = fopen(path, "r");
	int rc = -1;

	if (f == NULL)
		return -1;
	if ((d->cert = PEM_read_X509(f, NULL, NULL, NULL)) != NULL &&
	    (d->key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) != NULL)
		rc = 0;
	fclose(f);
	return rc;
}

int devices_load(struct lg *g, const char *dir, uint32_t n)
{
	char path[4096], line[4096 + 256], *user, *id, *file, *save;
	uint32_t idx, loaded = 0;
	FILE *f;

	g->devs = lg_xcalloc(n, sizeof(*g->devs));
	g->n_devs = n;
	for (uint32_t i = 0; i < n; i++) {
		g->devs[i].idx = i;
		g->devs[i].conn.fd = -1;
		g->devs[i].conn.dev = &g->devs[i];
	}
	snprintf(path, sizeof(path), "%s/devices.tsv", dir);
	if ((f = fopen(path, "r")) == NULL) {
		lg_log(g, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		user = strtok_r(line, "\t", &save);
		id = strtok_r(NULL, "\t", &save);
		(void)strtok_r(NULL, "\t", &save); /* the device's name */
		file = strtok_r(NULL, "\t", &save);
		if (user == NULL || id == NULL || file == NULL ||
		    !user_index(user, &idx) || idx >= n ||
		    g->devs[idx].cert != NULL)
			continue;
		snprintf(g->devs[idx].id, sizeof(g->devs[idx].id), "%s", id);
		if (load_pem(&g->devs[idx], file) != 0) {
			lg_log(g, "cannot read device %s (%s)", id, file);
			fclose(f);
			return -1;
		}
		loaded++;
	}
	fclose(f);
	if (loaded < n) {
		lg_log(g, "%s holds %u of the %u devices u0..u%u needed", dir,
		       loaded, n, n - 1);
		return -1;
	}
	return 0;
}

void devices_free(struct lg *g)
{
	for (uint32_t i = 0; i < g->n_devs; i++) {
		struct dev *d = &g->devs[i];

		X509_free(d->cert);
		EVP_PKEY_free(d->key);
		free(d->mem);
		for (uint32_t k = 0; k < d->n_pend; k++)
			free(d->pend[k].bytes);
		free(d->pend);
		mls_signer_free(d->signer);
		for (uint32_t k = 0; k < d->n_kps; k++)
			mls_key_package_bundle_free(d->kps[k]);
		free(d->kps);
	}
	free(g->devs);
	g->devs = NULL;
	g->n_devs = 0;
}

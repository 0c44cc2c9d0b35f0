/* device_enroll.c - bulwarkctl device enroll (device_enroll.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "admin_enroll.h"
#include "device_enroll.h"
#include "pki.h"

#define MANIFEST "devices.tsv"
#define CA_FILE "ca.crt"

/* One request's devices, from key generation to their files. */
struct pending {
	const char *user;
	char name[PROTO_MAX_NAME + 1];
	EVP_PKEY *key;
	uint8_t *spki;
	size_t spki_len;
};

struct run {
	const struct ctl *ctl;
	struct admin_client *ac;
	const struct enroll_options *o;
	int suite;
	struct pending batch[ADMIN_MAX_ENROLL];
	unsigned n;
	unsigned enrolled;
	json_t *list; /* --json: every device enrolled */
	FILE *manifest;
};

/* ---- users ---- */

bool enroll_parse_count(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < 1 ||
	    v > ENROLL_MAX_COUNT)
		return false;
	*out = (unsigned)v;
	return true;
}

void enroll_users_free(char **users, unsigned n)
{
	for (unsigned i = 0; users != NULL && i < n; i++)
		free(users[i]);
	free(users);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' ||
			 e[-1] == '\t'))
		*--e = '\0';
	return s;
}

int enroll_users_read(const struct ctl *ctl, const char *path, char ***users,
		      unsigned *n)
{
	FILE *f = fopen(path, "r");
	char line[256], *name, **v = NULL, **grown;
	unsigned count = 0, cap = 0;
	int rc = CTL_FAIL;

	*users = NULL;
	*n = 0;
	if (f == NULL)
		return ctl_fail(ctl, BW_ERR_IO, "cannot read %s: %s", path,
				strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		name = trim(line);
		if (name[0] == '\0' || name[0] == '#')
			continue;
		if (count == ENROLL_MAX_DEVICES) {
			ctl_fail(ctl, BW_ERR_TOO_LONG, "%s: more than %u users",
				 path, ENROLL_MAX_DEVICES);
			goto out;
		}
		if (count == cap) {
			cap = cap ? 2 * cap : 256;
			if ((grown = realloc(v, cap * sizeof(*v))) == NULL)
				goto nomem;
			v = grown;
		}
		if ((v[count] = strdup(name)) == NULL)
			goto nomem;
		count++;
	}
	*users = v;
	*n = count;
	v = NULL;
	rc = CTL_OK;
	goto out;
nomem:
	ctl_fail(ctl, BW_ERR_NOMEM, "out of memory");
out:
	enroll_users_free(v, count);
	fclose(f);
	return rc;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the organisation's users, sorted. */
static int existing_users(struct run *r, char ***names, unsigned *n)
{
	struct bw_writer *w = admin_client_request(r->ac);
	struct admin_marks mk = admin_request_begin(w, ADMIN_OP_USER_LIST);
	struct admin_response resp;
	struct admin_user u;
	struct bw_reader list;
	char **v = NULL, **grown;
	unsigned count = 0, cap = 0;

	admin_end(w, mk);
	if (admin_client_call(r->ctl, r->ac, &resp) != CTL_OK ||
	    admin_open_list(&resp.body, &list) != 0)
		return ctl_fail(r->ctl, BW_ERR_BAD_VALUE, "bad user list");
	while (bw_reader_remaining(&list) > 0) {
		if (admin_read_user(&list, &u) != 0)
			goto bad;
		if (count == cap) {
			cap = cap ? 2 * cap : 256;
			if ((grown = realloc(v, cap * sizeof(*v))) == NULL)
				goto bad;
			v = grown;
		}
		if ((v[count] = strndup((const char *)u.name.p, u.name.n)) ==
		    NULL)
			goto bad;
		count++;
	}
	if (count > 0)
		qsort(v, count, sizeof(*v), cmp_name);
	*names = v;
	*n = count;
	return CTL_OK;
bad:
	enroll_users_free(v, count);
	return ctl_fail(r->ctl, BW_ERR_NOMEM, "cannot read the user list");
}

static int user_add(struct run *r, const char *name)
{
	struct admin_user_add add = {
		.name = { (const uint8_t *)name, strlen(name) },
	};
	struct bw_writer *w = admin_client_request(r->ac);
	struct admin_marks mk = admin_request_begin(w, ADMIN_OP_USER_ADD);
	struct admin_response resp;

	admin_encode_user_add(w, &add);
	admin_end(w, mk);
	return admin_client_call(r->ctl, r->ac, &resp);
}

/* --add-users: create every named user the server does not know. */
static int ensure_users(struct run *r)
{
	char **have = NULL;
	unsigned n_have = 0, added = 0;
	int rc;

	if ((rc = existing_users(r, &have, &n_have)) != CTL_OK)
		return rc;
	for (unsigned i = 0; i < r->o->n_users && rc == CTL_OK; i++) {
		const char *name = r->o->users[i];

		if (n_have > 0 &&
		    bsearch(&name, have, n_have, sizeof(*have), cmp_name))
			continue;
		if ((rc = user_add(r, name)) == CTL_OK)
			added++;
	}
	enroll_users_free(have, n_have);
	if (added > 0 && !r->ctl->json)
		printf("%u users added\n", added);
	return rc;
}

/* ---- keys ---- */

/* A fresh key of the type the organisation's suite prescribes (docs/ca.md:
 * Ed25519 for suites 1 and 3, P-256 for suite 2), and its
 * SubjectPublicKeyInfo. */
static int new_key(int suite, struct pending *p)
{
	unsigned char *der = NULL;
	int n;

	p->key = suite == 2 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
			    : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (p->key == NULL || (n = i2d_PUBKEY(p->key, &der)) <= 0)
		return BW_ERR_NOMEM;
	p->spki = der;
	p->spki_len = (size_t)n;
	return 0;
}

static void batch_clear(struct run *r)
{
	for (unsigned i = 0; i < r->n; i++) {
		EVP_PKEY_free(r->batch[i].key);
		OPENSSL_free(r->batch[i].spki);
	}
	memset(r->batch, 0, sizeof(r->batch));
	r->n = 0;
}

/* ---- files ---- */

/* The output directory: created 0700, or an existing one nobody else may
 * enter (it will hold private keys). */
static int prepare_dir(const struct ctl *ctl, const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ctl_fail(ctl, BW_ERR_IO, "cannot create %s: %s", dir,
				strerror(errno));
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return ctl_fail(ctl, BW_ERR_IO, "%s is not a directory", dir);
	if (st.st_mode & 077)
		return ctl_fail(ctl, BW_ERR_BAD_VALUE,
				"%s is open to other users (it will hold "
				"private keys): chmod 700 it",
				dir);
	return CTL_OK;
}

static int pem_of_cert(BIO *b, const uint8_t *der, size_t len)
{
	X509 *cert = NULL;
	int rc = ca_cert_from_der(der, len, &cert);

	if (rc == 0 && PEM_write_bio_X509(b, cert) != 1)
		rc = BW_ERR_NOMEM;
	X509_free(cert);
	return rc;
}

/* DIR/ca.crt, or the check that the one there is this organisation's. */
static int save_ca(struct run *r, const struct proto_span *ca)
{
	char path[4096];
	struct bw_bytes have = { 0 };
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;
	long n;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", r->o->out_dir, CA_FILE);
	if (b == NULL || (rc = pem_of_cert(b, ca->p, ca->n)) != 0) {
		rc = ctl_fail(r->ctl, BW_ERR_NOMEM, "bad CA certificate");
		goto out;
	}
	n = BIO_get_mem_data(b, &pem);
	if (ca_file_read(path, 65536, &have, NULL) == 0) {
		rc = have.len == (size_t)n && memcmp(have.p, pem, have.len) == 0
			     ? CTL_OK
			     : ctl_fail(r->ctl, BW_ERR_BAD_VALUE,
					"%s holds another organisation's CA",
					path);
		goto out;
	}
	rc = ca_file_create(path, 0644, pem, (size_t)n) == 0
		     ? CTL_OK
		     : ctl_fail(r->ctl, BW_ERR_IO, "cannot write %s", path);
out:
	bw_bytes_clear(&have);
	BIO_free(b);
	return rc;
}

/* DIR/<device id>.pem: the certificate, then the private key (PKCS#8). */
static int save_device(struct run *r, const struct pending *p,
		       const struct admin_enrolled_device *d, char *file,
		       size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;
	long n;
	int rc = BW_ERR_NOMEM;

	snprintf(file, size, "%s/%.*s.pem", r->o->out_dir, (int)d->device_id.n,
		 (const char *)d->device_id.p);
	if (b == NULL || pem_of_cert(b, d->cert.p, d->cert.n) != 0 ||
	    PEM_write_bio_PKCS8PrivateKey(b, p->key, NULL, NULL, 0, NULL,
					  NULL) != 1)
		goto out;
	n = BIO_get_mem_data(b, &pem);
	rc = ca_file_create(file, 0600, pem, (size_t)n);
	OPENSSL_cleanse(pem, (size_t)n);
out:
	BIO_free(b);
	ERR_clear_error();
	return rc;
}

static int record(struct run *r, const struct pending *p,
		  const struct admin_enrolled_device *d, const char *file)
{
	fprintf(r->manifest, "%s\t%.*s\t%s\t%s\n", p->user,
		(int)d->device_id.n, (const char *)d->device_id.p, p->name,
		file);
	if (r->list != NULL)
		json_array_append_new(
			r->list,
			json_pack("{s:s,s:s%,s:s,s:s}", "user", p->user,
				  "device_id", (const char *)d->device_id.p,
				  d->device_id.n, "name", p->name, "file",
				  file));
	r->enrolled++;
	return CTL_OK;
}

/* ---- one request ---- */

static int save_batch(struct run *r, const struct proto_span *body)
{
	struct admin_enrolled res;
	struct admin_enrolled_device d;
	char file[4096];
	int rc;

	if ((rc = admin_decode_enrolled(body, &res)) != 0 || res.count != r->n)
		return ctl_fail(r->ctl, rc ? rc : BW_ERR_BAD_VALUE,
				"bad response from the server");
	if ((rc = save_ca(r, &res.ca_cert)) != CTL_OK)
		return rc;
	for (unsigned i = 0; admin_enrolled_next(&res, &d); i++) {
		if ((rc = save_device(r, &r->batch[i], &d, file,
				      sizeof(file))) != 0)
			return ctl_fail(r->ctl, rc,
					"cannot write %s (device %.*s is "
					"enrolled: revoke it)",
					file, (int)d.device_id.n,
					(const char *)d.device_id.p);
		record(r, &r->batch[i], &d, file);
	}
	if (fflush(r->manifest) != 0 || fsync(fileno(r->manifest)) != 0)
		return ctl_fail(r->ctl, BW_ERR_IO, "cannot write %s/%s",
				r->o->out_dir, MANIFEST);
	return CTL_OK;
}

static int send_batch(struct run *r)
{
	struct bw_writer *w = admin_client_request(r->ac);
	struct admin_marks mk = admin_request_begin(w, ADMIN_OP_DEVICE_ENROLL);
	struct admin_response resp;
	size_t list = bw_write_vector_begin(w);
	int rc;

	for (unsigned i = 0; i < r->n; i++) {
		struct admin_enroll_entry e = {
			.user = { (const uint8_t *)r->batch[i].user,
				  strlen(r->batch[i].user) },
			.name = { (const uint8_t *)r->batch[i].name,
				  strlen(r->batch[i].name) },
			.spki = { r->batch[i].spki, r->batch[i].spki_len },
		};

		admin_write_enroll_entry(w, &e);
	}
	bw_write_vector_end(w, list);
	admin_end(w, mk);
	rc = admin_client_call(r->ctl, r->ac, &resp);
	if (rc == CTL_OK)
		rc = save_batch(r, &resp.body);
	batch_clear(r);
	return rc;
}

static int add_device(struct run *r, const char *user, unsigned i)
{
	struct pending *p = &r->batch[r->n];
	int rc;

	p->user = user;
	if (r->o->count > 1)
		snprintf(p->name, sizeof(p->name), "%.54s-%u", r->o->name,
			 (i + 1) % 100000u); /* i < ENROLL_MAX_COUNT */
	else
		snprintf(p->name, sizeof(p->name), "%s", r->o->name);
	r->n++;
	if ((rc = new_key(r->suite, p)) != 0)
		return ctl_fail(r->ctl, rc, "cannot generate a key");
	return r->n == ADMIN_MAX_ENROLL ? send_batch(r) : CTL_OK;
}

static int server_suite(struct run *r)
{
	struct bw_writer *w = admin_client_request(r->ac);
	struct admin_marks mk = admin_request_begin(w, ADMIN_OP_STATUS);
	struct admin_status_info info;
	struct admin_response resp;

	admin_end(w, mk);
	if (admin_client_call(r->ctl, r->ac, &resp) != CTL_OK)
		return CTL_FAIL;
	if (admin_decode_status_info(&resp.body, &info) != 0)
		return ctl_fail(r->ctl, BW_ERR_BAD_VALUE,
				"bad status from the server");
	r->suite = info.mls_suite;
	return CTL_OK;
}

static int check_options(const struct ctl *ctl, const struct enroll_options *o)
{
	if (o->n_users == 0)
		return ctl_fail(ctl, BW_ERR_INVALID_ARG, "no user named");
	if (o->count < 1 || o->count > ENROLL_MAX_COUNT ||
	    (uint64_t)o->count * o->n_users > ENROLL_MAX_DEVICES)
		return ctl_fail(ctl, BW_ERR_TOO_LONG,
				"at most %u devices per user and %u in all",
				ENROLL_MAX_COUNT, ENROLL_MAX_DEVICES);
	if (!proto_label_valid((const uint8_t *)o->name, strlen(o->name)) ||
	    strlen(o->name) > 54)
		return ctl_fail(ctl, PROTO_ERR_NAME,
				"invalid device name '%s' (1-54 printable "
				"characters)",
				o->name);
	for (unsigned i = 0; i < o->n_users; i++)
		if (!proto_name_valid((const uint8_t *)o->users[i],
				      strlen(o->users[i]), PROTO_MAX_NAME))
			return ctl_fail(ctl, PROTO_ERR_NAME,
					"invalid user name '%s'", o->users[i]);
	return prepare_dir(ctl, o->out_dir);
}

static int print_result(struct run *r)
{
	if (r->ctl->json) {
		json_t *res = json_pack("{s:{s:i,s:s,s:o}}", "enrolled",
					"count", (json_int_t)r->enrolled,
					"dir", r->o->out_dir, "devices",
					r->list);

		r->list = NULL; /* consumed */
		return ctl_print_json(res);
	}
	printf("%u devices enrolled for %u users: keys and certificates in "
	       "%s (index: %s/%s)\n",
	       r->enrolled, r->o->n_users, r->o->out_dir, r->o->out_dir,
	       MANIFEST);
	return CTL_OK;
}

int device_enroll(const struct ctl *ctl, struct admin_client *ac,
		  const struct enroll_options *o)
{
	struct run *r = calloc(1, sizeof(*r));
	char path[4096];
	int rc;

	if (r == NULL)
		return ctl_fail(ctl, BW_ERR_NOMEM, "out of memory");
	r->ctl = ctl;
	r->ac = ac;
	r->o = o;
	if ((rc = check_options(ctl, o)) != CTL_OK ||
	    (rc = server_suite(r)) != CTL_OK)
		goto out;
	if (o->add_users && (rc = ensure_users(r)) != CTL_OK)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", o->out_dir, MANIFEST);
	if ((r->manifest = fopen(path, "a")) == NULL) {
		rc = ctl_fail(ctl, BW_ERR_IO, "cannot write %s", path);
		goto out;
	}
	if (ctl->json)
		r->list = json_array();
	for (unsigned u = 0; u < o->n_users && rc == CTL_OK; u++)
		for (unsigned i = 0; i < o->count && rc == CTL_OK; i++)
			rc = add_device(r, o->users[u], i);
	if (rc == CTL_OK && r->n > 0)
		rc = send_batch(r);
	if (rc == CTL_OK)
		rc = print_result(r);
out:
	batch_clear(r);
	if (r->manifest != NULL)
		fclose(r->manifest);
	json_decref(r->list);
	free(r);
	return rc;
}

int device_enroll_command(const struct ctl *ctl, const char *config,
			  struct enroll_options *o, const char *users_file,
			  char **names, int n_names)
{
	struct admin_client *ac = NULL;
	char **from_file = NULL, **all = NULL;
	unsigned n = 0;
	int rc = CTL_FAIL;

	if (users_file != NULL &&
	    enroll_users_read(ctl, users_file, &from_file, &n) != CTL_OK)
		return CTL_FAIL;
	all = calloc((size_t)n + (size_t)n_names + 1, sizeof(*all));
	if (all == NULL) {
		rc = ctl_fail(ctl, BW_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < n_names; i++)
		all[i] = names[i];
	for (unsigned i = 0; i < n; i++)
		all[(unsigned)n_names + i] = from_file[i];
	o->users = (const char *const *)all;
	o->n_users = (unsigned)n_names + n;
	if (admin_client_open(ctl, ctl_config_path(config), &ac) == CTL_OK)
		rc = device_enroll(ctl, ac, o);
	admin_client_close(ac);
out:
	free(all);
	enroll_users_free(from_file, n);
	return rc;
}

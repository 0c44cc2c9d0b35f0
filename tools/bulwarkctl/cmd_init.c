/*
 * cmd_init.c - bulwarkctl init: create the organisation.
 *
 * Makes DIR/{ca,tls,db,ds}, the CA (key encrypted under a passphrase, read
 * from the given file or generated into DIR/ca/passphrase), the server's TLS
 * certificate, the delivery service's signature key and certificate
 * (ds_key.h) and DIR/bulwarkd.conf, then prints the CA fingerprint that
 * devices will be shown at activation. It never overwrites an organisation,
 * and leaves nothing behind when it fails half way.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "ca.h"
#include "commands.h"
#include "ds_key.h"
#include "errors.h"

static const char init_usage[] =
	"usage: bulwarkctl init --data-dir DIR --org NAME\n"
	"           [--server-name HOST] [--listen ADDR:PORT] [--suite 1|2|3]\n"
	"           [--ca-passphrase-file FILE]\n\n"
	"  --data-dir DIR             where the organisation lives (created)\n"
	"  --org NAME                 organisation name, in every certificate\n"
	"  --server-name HOST         DNS name or IP address devices connect\n"
	"                             to (default localhost)\n"
	"  --listen ADDR:PORT         numeric address to listen on\n"
	"                             (default 127.0.0.1:8443)\n"
	"  --suite N                  MLS cipher suite: 1 (default), 3, or 2\n"
	"                             for FIPS-approved algorithms only\n"
	"  --ca-passphrase-file FILE  passphrase of the CA key; without it\n"
	"                             one is generated, DIR/ca/passphrase\n";

static const char *const suite_names[] = {
	[1] = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
	[2] = "MLS_128_DHKEMP256_AES128GCM_SHA256_P256",
	[3] = "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519",
};

struct init_opts {
	const char *data_dir;
	const char *org;
	const char *server_name;
	const char *listen;
	const char *passphrase_file;
	int suite;
};

/* Every path init writes, absolute. */
struct org_paths {
	char dir[PATH_MAX];
	char ca_dir[PATH_MAX], tls_dir[PATH_MAX], db_dir[PATH_MAX];
	char ds_dir[PATH_MAX];
	char ca_key[PATH_MAX], ca_cert[PATH_MAX], passphrase[PATH_MAX];
	char tls_key[PATH_MAX], tls_cert[PATH_MAX], conf[PATH_MAX];
	char ds_key[PATH_MAX], ds_cert[PATH_MAX];
};

/* What init created, removed again in reverse order if it fails. */
#define UNDO_MAX 16
struct undo {
	const char *path[UNDO_MAX];
	bool is_dir[UNDO_MAX];
	size_t n;
};

static void undo_add(struct undo *u, const char *path, bool is_dir)
{
	if (u->n < UNDO_MAX) {
		u->path[u->n] = path;
		u->is_dir[u->n++] = is_dir;
	}
}

static void undo_all(struct undo *u)
{
	while (u->n > 0) {
		u->n--;
		if (u->is_dir[u->n])
			rmdir(u->path[u->n]);
		else
			unlink(u->path[u->n]);
	}
}

/* "ADDR:PORT" or "[ADDR]:PORT", ADDR numeric (bulwarkd binds it as is),
 * PORT 1..65535. */
static bool listen_valid(const char *s)
{
	const char *colon = strrchr(s, ':');
	unsigned char addr[16];
	char host[64], *end;
	size_t n;
	long port;

	if (colon == NULL || colon[1] == '\0')
		return false;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535 || colon[1] == '+' ||
	    colon[1] == '-')
		return false;
	n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	} else if (memchr(s, ':', n) != NULL) {
		return false; /* an IPv6 address needs its brackets */
	}
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	return inet_pton(AF_INET, host, addr) == 1 ||
	       inet_pton(AF_INET6, host, addr) == 1;
}

static int parse_options(struct ctl *ctl, int argc, char **argv,
			 struct init_opts *o)
{
	static const struct option longopts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "org", required_argument, NULL, 'o' },
		{ "server-name", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "suite", required_argument, NULL, 'S' },
		{ "ca-passphrase-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *suite = "1";
	int ch;

	*o = (struct init_opts){ .server_name = "localhost",
				 .listen = "127.0.0.1:8443" };
	optind = 0;
	opterr = !ctl->json;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o->data_dir = optarg; break;
		case 'o': o->org = optarg; break;
		case 's': o->server_name = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'S': suite = optarg; break;
		case 'p': o->passphrase_file = optarg; break;
		case 'h':
			fputs(init_usage, stdout);
			return -1;
		default:
			return ctl_usage_error(ctl, init_usage, "bad option");
		}
	}
	if (optind != argc)
		return ctl_usage_error(ctl, init_usage, "unexpected '%s'",
				       argv[optind]);
	if (o->data_dir == NULL || o->org == NULL)
		return ctl_usage_error(ctl, init_usage,
				       "--data-dir and --org are required");
	if (strlen(suite) != 1 || suite[0] < '1' || suite[0] > '3')
		return ctl_usage_error(ctl, init_usage,
				       "--suite must be 1, 2 or 3");
	o->suite = suite[0] - '0';
	if (!ca_org_name_valid(o->org) || strchr(o->org, '#') != NULL)
		return ctl_usage_error(ctl, init_usage,
				       "organisation name must be 1 to %u "
				       "printable characters without '#' or "
				       "surrounding spaces",
				       CA_ORG_MAX);
	if (!ca_server_name_valid(o->server_name))
		return ctl_usage_error(ctl, init_usage,
				       "--server-name: '%s' is neither a DNS "
				       "name nor an IP address",
				       o->server_name);
	if (!listen_valid(o->listen))
		return ctl_usage_error(ctl, init_usage,
				       "--listen: '%s' is not ADDR:PORT with a "
				       "numeric address",
				       o->listen);
	return CTL_OK;
}

static bool join(char out[PATH_MAX], const char *dir, const char *rel)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, rel);

	return n > 0 && n < PATH_MAX;
}

static bool make_paths(struct org_paths *p)
{
	return join(p->ca_dir, p->dir, "ca") &&
	       join(p->tls_dir, p->dir, "tls") &&
	       join(p->db_dir, p->dir, "db") &&
	       join(p->ds_dir, p->dir, "ds") &&
	       join(p->ds_key, p->dir, "ds/ds.key") &&
	       join(p->ds_cert, p->dir, "ds/ds.crt") &&
	       join(p->ca_key, p->dir, "ca/ca.key") &&
	       join(p->ca_cert, p->dir, "ca/ca.crt") &&
	       join(p->passphrase, p->dir, "ca/passphrase") &&
	       join(p->tls_key, p->dir, "tls/server.key") &&
	       join(p->tls_cert, p->dir, "tls/server.crt") &&
	       join(p->conf, p->dir, "bulwarkd.conf");
}

/* mkdir 0700, or accept an existing directory. */
static int make_dir(struct ctl *ctl, struct undo *u, const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0) {
		undo_add(u, path, true);
		return CTL_OK;
	}
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return CTL_OK;
	return ctl_fail(ctl, BW_ERR_IO, "cannot create %s: %s", path,
			strerror(errno));
}

/* The data directory, made absolute, and its four subdirectories. */
static int make_dirs(struct ctl *ctl, struct undo *u, const char *data_dir,
		     struct org_paths *p)
{
	int rc;

	if ((rc = make_dir(ctl, u, data_dir)) != CTL_OK)
		return rc;
	if (realpath(data_dir, p->dir) == NULL || !make_paths(p))
		return ctl_fail(ctl, BW_ERR_IO, "%s: %s", data_dir,
				strerror(errno));
	if ((rc = make_dir(ctl, u, p->ca_dir)) != CTL_OK ||
	    (rc = make_dir(ctl, u, p->tls_dir)) != CTL_OK ||
	    (rc = make_dir(ctl, u, p->db_dir)) != CTL_OK ||
	    (rc = make_dir(ctl, u, p->ds_dir)) != CTL_OK)
		return rc;
	return CTL_OK;
}

/* Refuse early, before the slow key derivation, if any file of an
 * organisation is already there. */
static int refuse_existing(struct ctl *ctl, const struct org_paths *p,
			   bool generate_passphrase)
{
	const char *files[] = { p->conf, p->ca_key, p->ca_cert, p->tls_key,
				p->tls_cert, p->ds_key, p->ds_cert,
				generate_passphrase ? p->passphrase : NULL };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i] != NULL && access(files[i], F_OK) == 0)
			return ctl_fail(ctl, CA_ERR_EXISTS,
					"an organisation already exists in %s "
					"(found %s); init never overwrites one",
					p->dir, files[i]);
	return CTL_OK;
}

/* The passphrase from its file, or a generated one in DIR/ca/passphrase.
 * conf_path gets what bulwarkd.conf names. */
static int get_passphrase(struct ctl *ctl, struct undo *u,
			  const struct init_opts *o, const struct org_paths *p,
			  struct bw_bytes *pass, char conf_path[PATH_MAX])
{
	int rc;

	if (o->passphrase_file == NULL) {
		if ((rc = ca_passphrase_generate(p->passphrase, pass)) != 0)
			return ctl_fail(ctl, rc, "%s: %s", p->passphrase,
					ca_strerror(rc));
		undo_add(u, p->passphrase, false);
		snprintf(conf_path, PATH_MAX, "ca/passphrase");
		return CTL_OK;
	}
	if ((rc = ca_passphrase_read(o->passphrase_file, pass)) != 0)
		return ctl_fail(ctl, rc, "%s: %s", o->passphrase_file,
				ca_strerror(rc));
	if (realpath(o->passphrase_file, conf_path) == NULL)
		return ctl_fail(ctl, BW_ERR_IO, "%s: %s", o->passphrase_file,
				strerror(errno));
	return CTL_OK;
}

/* The delivery service's signature key and its certificate from the CA. */
static int make_ds_key(struct ctl *ctl, struct undo *u,
		       const struct init_opts *o, const struct org_paths *p,
		       const struct ca *ca)
{
	struct bw_bytes spki = { 0 };
	uint8_t *der = NULL;
	size_t len = 0;
	int rc;

	if ((rc = ds_key_create(o->suite, p->ds_key, &spki)) != 0)
		return ctl_fail(ctl, rc, "creating the delivery service "
				"key: %s", bwd_strerror(rc));
	undo_add(u, p->ds_key, false);
	if ((rc = ca_issue_ds_cert(ca, o->server_name, spki.p, spki.len,
				   CA_SERVER_CERT_DAYS, &der, &len)) == 0 &&
	    (rc = ds_cert_save(p->ds_cert, der, len)) == 0)
		undo_add(u, p->ds_cert, false);
	free(der);
	bw_bytes_clear(&spki);
	if (rc != 0)
		return ctl_fail(ctl, rc,
				"certifying the delivery service key: %s",
				bwd_strerror(rc));
	return CTL_OK;
}

static int make_ca(struct ctl *ctl, struct undo *u, const struct init_opts *o,
		   const struct org_paths *p, const struct bw_bytes *pass,
		   struct ca **ca)
{
	int rc;

	if ((rc = ca_generate(o->org, o->suite, CA_DEFAULT_CA_DAYS, ca)) != 0 ||
	    (rc = ca_save(*ca, p->ca_key, p->ca_cert, pass)) != 0)
		return ctl_fail(ctl, rc, "creating the CA: %s",
				ca_strerror(rc));
	undo_add(u, p->ca_key, false);
	undo_add(u, p->ca_cert, false);
	if ((rc = ca_issue_server_cert(*ca, o->server_name, CA_SERVER_CERT_DAYS,
				       p->tls_key, p->tls_cert)) != 0)
		return ctl_fail(ctl, rc, "creating the TLS certificate: %s",
				ca_strerror(rc));
	undo_add(u, p->tls_key, false);
	undo_add(u, p->tls_cert, false);
	return make_ds_key(ctl, u, o, p, *ca);
}

/* bulwarkd.conf's "key = value" syntax has no quoting: '#' after a space
 * starts a comment and a line ends a value. */
static bool conf_value_ok(const char *v)
{
	return strpbrk(v, "#\n\r") == NULL;
}

static int write_conf(struct ctl *ctl, struct undo *u,
		      const struct init_opts *o, const struct org_paths *p,
		      const char *passphrase_path)
{
	char text[4 * PATH_MAX + 1024];
	int n, fd;

	if (!conf_value_ok(p->dir) || !conf_value_ok(passphrase_path))
		return ctl_fail(ctl, BW_ERR_BAD_VALUE,
				"paths in bulwarkd.conf cannot hold '#'");
	n = snprintf(text, sizeof(text),
		     "# bulwarkd configuration, written by bulwarkctl init.\n"
		     "# Relative paths are relative to data_dir.\n"
		     "listen = %s\n" "data_dir = %s\n" "org_name = %s\n"
		     "server_name = %s\n" "mls_suite = %d\n" "workers = 0\n"
		     "tls_cert = tls/server.crt\n" "tls_key = tls/server.key\n"
		     "ca_cert = ca/ca.crt\n" "ca_key = ca/ca.key\n"
		     "ca_passphrase_file = %s\n" "admin_socket = admin.sock\n"
		     "database = db/bulwark.db\n" "log_level = info\n"
		     "activation_ttl = 72h\n" "activation_max_attempts = 5\n"
		     "device_cert_days = 365\n" "ds_key = ds/ds.key\n"
		     "ds_cert = ds/ds.crt\n" "message_retention = 30d\n"
		     "max_group_messages = 100000\n"
		     "key_package_low_water = 10\n",
		     o->listen, p->dir, o->org, o->server_name, o->suite,
		     passphrase_path);
	if (n < 0 || (size_t)n >= sizeof(text))
		return ctl_fail(ctl, BW_ERR_TOO_LONG, "configuration too long");
	fd = open(p->conf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0640);
	if (fd < 0)
		return ctl_fail(ctl, BW_ERR_IO, "%s: %s", p->conf,
				strerror(errno));
	undo_add(u, p->conf, false);
	if (write(fd, text, (size_t)n) != n || fsync(fd) != 0) {
		close(fd);
		return ctl_fail(ctl, BW_ERR_IO, "%s: %s", p->conf,
				strerror(errno));
	}
	close(fd);
	return CTL_OK;
}

static int report(struct ctl *ctl, const struct init_opts *o,
		  const struct org_paths *p, const struct ca *ca,
		  const char *passphrase_path)
{
	uint8_t *der, fp[CA_FINGERPRINT_LEN];
	char fp_text[CA_FINGERPRINT_TEXT_SIZE];
	size_t len;
	int rc;

	if ((rc = ca_cert_der(ca, &der, &len)) == 0)
		rc = ca_fingerprint(der, len, fp);
	free(der);
	if (rc != 0)
		return ctl_fail(ctl, rc, "fingerprint: %s", ca_strerror(rc));
	ca_fingerprint_text(fp, fp_text);
	if (ctl->json)
		return ctl_print_json(json_pack(
			"{s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:b}", "data_dir",
			p->dir, "org_name", o->org, "server_name",
			o->server_name, "listen", o->listen, "mls_suite",
			o->suite, "ca_cert", p->ca_cert,
			"ca_fingerprint_sha256", fp_text, "config", p->conf,
			"ca_passphrase_file", passphrase_path,
			"passphrase_generated", o->passphrase_file == NULL));
	printf("Created the organisation \"%s\" in %s\n"
	       "  MLS cipher suite     %d (%s)\n"
	       "  server name          %s, listening on %s\n"
	       "  CA certificate       %s\n"
	       "  CA fingerprint       SHA256 %s\n"
	       "  configuration        %s\n"
	       "Devices are shown this fingerprint when they activate.\n",
	       o->org, p->dir, o->suite, suite_names[o->suite], o->server_name,
	       o->listen, p->ca_cert, fp_text, p->conf);
	return CTL_OK;
}

static int create_org(struct ctl *ctl, const struct init_opts *o)
{
	static struct org_paths p;
	char passphrase_path[PATH_MAX];
	struct bw_bytes pass = { 0 };
	struct undo undo = { 0 };
	struct ca *ca = NULL;
	int rc;

	if ((rc = make_dirs(ctl, &undo, o->data_dir, &p)) != CTL_OK ||
	    (rc = refuse_existing(ctl, &p, o->passphrase_file == NULL)) !=
		    CTL_OK ||
	    (rc = get_passphrase(ctl, &undo, o, &p, &pass, passphrase_path)) !=
		    CTL_OK)
		goto out;
	rc = make_ca(ctl, &undo, o, &p, &pass, &ca);
	bw_bytes_clear(&pass); /* the key is encrypted; forget it now */
	if (rc != CTL_OK ||
	    (rc = write_conf(ctl, &undo, o, &p, passphrase_path)) != CTL_OK ||
	    (rc = report(ctl, o, &p, ca, passphrase_path)) != CTL_OK)
		goto out;
	if (o->passphrase_file == NULL)
		ctl_warn(ctl,
			 "the CA key's passphrase was generated into %s, "
			 "beside the key. For production, keep it off this "
			 "machine's disk (e.g. provide it at start on a tmpfs) "
			 "and point ca_passphrase_file at it.",
			 p.passphrase);
out:
	if (rc != CTL_OK)
		undo_all(&undo);
	bw_bytes_clear(&pass);
	ca_free(ca);
	return rc;
}

int cmd_init(struct ctl *ctl, int argc, char **argv)
{
	struct init_opts o;
	int rc = parse_options(ctl, argc, argv, &o);

	if (rc < 0)
		return CTL_OK; /* --help */
	if (rc != CTL_OK)
		return rc;
	return create_org(ctl, &o);
}

/* config.c - parse bulwarkd.conf into struct bwd_config. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "errors.h"

#define LINE_MAX_LEN 8192

void config_defaults(struct bwd_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
	c->listen_port = 8443;
	snprintf(c->data_dir, sizeof(c->data_dir), "/var/lib/bulwark");
	snprintf(c->org_name, sizeof(c->org_name), "Example");
	snprintf(c->server_name, sizeof(c->server_name), "localhost");
	c->mls_suite = 1;
	snprintf(c->tls_cert, sizeof(c->tls_cert), "tls/server.crt");
	snprintf(c->tls_key, sizeof(c->tls_key), "tls/server.key");
	snprintf(c->ca_cert, sizeof(c->ca_cert), "ca/ca.crt");
	snprintf(c->ca_key, sizeof(c->ca_key), "ca/ca.key");
	snprintf(c->ca_passphrase_file, sizeof(c->ca_passphrase_file),
		 "ca/passphrase");
	snprintf(c->admin_socket, sizeof(c->admin_socket), "admin.sock");
	snprintf(c->database, sizeof(c->database), "db/bulwark.db");
	c->log_level = LOG_INFO;
	c->activation_ttl = 72 * 3600;
	c->activation_max_attempts = 5;
	c->device_cert_days = 365;
	c->handshake_timeout = 10;
	c->preauth_idle_timeout = 30;
	c->idle_timeout = 900;
	c->message_timeout = 10;
	c->max_message_size = 1024 * 1024;
	c->max_preauth_message_size = 4096;
	c->max_connections = 20000;
	c->builtin_key_methods = true;
	snprintf(c->ds_key, sizeof(c->ds_key), "ds/ds.key");
	snprintf(c->ds_cert, sizeof(c->ds_cert), "ds/ds.crt");
	c->message_retention = 30 * 86400;
	c->max_group_messages = 100000;
	c->backlog_page = 256;
	c->key_package_low_water = 10;
	c->max_key_packages = 1000;
	c->purge_interval = 600;
}

static bool parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long n;

	if (!isdigit((unsigned char)v[0]))
		return false;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return false;
	*out = (uint32_t)n;
	return true;
}

/* "90", "90s", "15m", "72h", "7d" -> seconds. */
static bool parse_duration(const char *v, uint32_t *out)
{
	char num[32];
	size_t n = strlen(v);
	uint32_t unit = 1, value;

	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, v, n + 1);
	switch (num[n - 1]) {
	case 's': unit = 1; num[--n] = '\0'; break;
	case 'm': unit = 60; num[--n] = '\0'; break;
	case 'h': unit = 3600; num[--n] = '\0'; break;
	case 'd': unit = 86400; num[--n] = '\0'; break;
	default: break;
	}
	if (!parse_u32(num, 0, UINT32_MAX / unit, &value))
		return false;
	*out = value * unit;
	return true;
}

static bool parse_size(const char *v, uint32_t min, uint32_t max,
		       uint32_t *out)
{
	char num[32];
	size_t n = strlen(v);
	uint32_t unit = 1, value;

	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, v, n + 1);
	if (num[n - 1] == 'K' || num[n - 1] == 'M') {
		unit = num[n - 1] == 'K' ? 1024 : 1024 * 1024;
		num[--n] = '\0';
	}
	if (!parse_u32(num, 0, UINT32_MAX / unit, &value))
		return false;
	value *= unit;
	if (value < min || value > max)
		return false;
	*out = value;
	return true;
}

/* "host:port" or "[v6]:port" with a numeric host. */
static bool parse_listen(const char *v, struct bwd_config *c)
{
	const char *colon = strrchr(v, ':');
	unsigned char addr[16];
	char host[sizeof(c->listen_host)];
	size_t hlen;
	uint32_t port;

	if (colon == NULL || !parse_u32(colon + 1, 0, 65535, &port))
		return false;
	hlen = (size_t)(colon - v);
	if (hlen >= 2 && v[0] == '[' && v[hlen - 1] == ']') {
		v++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	memcpy(host, v, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, addr) != 1 &&
	    inet_pton(AF_INET6, host, addr) != 1)
		return false;
	memcpy(c->listen_host, host, hlen + 1);
	c->listen_port = (uint16_t)port;
	return true;
}

static bool set_string(char *dst, size_t size, const char *v)
{
	size_t n = strlen(v);

	if (n >= size)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

#define STR(field) set_string(c->field, sizeof(c->field), v)

/* The delivery service's keys; false if unknown or malformed. */
static bool apply_ds(struct bwd_config *c, const char *k, const char *v)
{
	if (strcmp(k, "ds_key") == 0)
		return STR(ds_key);
	if (strcmp(k, "ds_cert") == 0)
		return STR(ds_cert);
	if (strcmp(k, "message_retention") == 0)
		return parse_duration(v, &c->message_retention) &&
		       c->message_retention >= 60;
	if (strcmp(k, "max_group_messages") == 0)
		return parse_u32(v, 100, 100000000, &c->max_group_messages);
	if (strcmp(k, "backlog_page") == 0)
		return parse_u32(v, 1, 4096, &c->backlog_page);
	if (strcmp(k, "key_package_low_water") == 0)
		return parse_u32(v, 0, 1000, &c->key_package_low_water);
	if (strcmp(k, "max_key_packages") == 0)
		return parse_u32(v, 1, 100000, &c->max_key_packages);
	if (strcmp(k, "purge_interval") == 0)
		return parse_duration(v, &c->purge_interval) &&
		       c->purge_interval > 0;
	return false;
}

/* Apply one key; false if the key is unknown or the value malformed. */
static bool apply(struct bwd_config *c, const char *k, const char *v,
		  unsigned *workers)
{
	uint32_t n;
	int level;

	if (strcmp(k, "listen") == 0)
		return parse_listen(v, c);
	if (strcmp(k, "data_dir") == 0)
		return v[0] == '/' && STR(data_dir);
	if (strcmp(k, "org_name") == 0)
		return v[0] != '\0' && STR(org_name);
	if (strcmp(k, "server_name") == 0)
		return v[0] != '\0' && STR(server_name);
	if (strcmp(k, "public_address") == 0)
		return STR(public_address);
	if (strcmp(k, "mls_suite") == 0) {
		if (!parse_u32(v, 1, 3, &n))
			return false;
		c->mls_suite = (uint16_t)n;
		return true;
	}
	if (strcmp(k, "workers") == 0) {
		if (!parse_u32(v, 0, 256, &n))
			return false;
		*workers = n;
		return true;
	}
	if (strcmp(k, "tls_cert") == 0)
		return STR(tls_cert);
	if (strcmp(k, "tls_key") == 0)
		return STR(tls_key);
	if (strcmp(k, "ca_cert") == 0)
		return STR(ca_cert);
	if (strcmp(k, "ca_key") == 0)
		return STR(ca_key);
	if (strcmp(k, "ca_passphrase_file") == 0)
		return STR(ca_passphrase_file);
	if (strcmp(k, "admin_socket") == 0)
		return STR(admin_socket);
	if (strcmp(k, "database") == 0)
		return STR(database);
	if (strcmp(k, "log_file") == 0)
		return STR(log_file);
	if (strcmp(k, "log_level") == 0) {
		if ((level = log_level_parse(v)) < 0)
			return false;
		c->log_level = (enum log_level)level;
		return true;
	}
	if (strcmp(k, "activation_ttl") == 0)
		return parse_duration(v, &c->activation_ttl) &&
		       c->activation_ttl > 0;
	if (strcmp(k, "activation_max_attempts") == 0)
		return parse_u32(v, 1, 100, &c->activation_max_attempts);
	if (strcmp(k, "device_cert_days") == 0)
		return parse_u32(v, 1, 3650, &c->device_cert_days);
	if (strcmp(k, "handshake_timeout") == 0)
		return parse_duration(v, &c->handshake_timeout) &&
		       c->handshake_timeout > 0;
	if (strcmp(k, "preauth_idle_timeout") == 0)
		return parse_duration(v, &c->preauth_idle_timeout) &&
		       c->preauth_idle_timeout > 0;
	if (strcmp(k, "idle_timeout") == 0)
		return parse_duration(v, &c->idle_timeout) &&
		       c->idle_timeout > 0;
	if (strcmp(k, "message_timeout") == 0)
		return parse_duration(v, &c->message_timeout) &&
		       c->message_timeout > 0;
	if (strcmp(k, "max_message_size") == 0)
		return parse_size(v, 4096, 64 * 1024 * 1024,
				  &c->max_message_size);
	if (strcmp(k, "max_preauth_message_size") == 0)
		return parse_size(v, 1024, 64 * 1024,
				  &c->max_preauth_message_size);
	if (strcmp(k, "max_connections") == 0)
		return parse_u32(v, 1, 10000000, &c->max_connections);
	if (strcmp(k, "openssl_key_methods") == 0) {
		c->builtin_key_methods = strcmp(v, "builtin") == 0;
		return c->builtin_key_methods || strcmp(v, "providers") == 0;
	}
	return apply_ds(c, k, v);
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Cut a comment: '#' at the start or after white space. */
static void strip_comment(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '#' && (p == s || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
}

static bool resolve(char *path, size_t size, const char *dir)
{
	char buf[CONFIG_PATH_MAX];
	int n;

	if (path[0] == '\0' || path[0] == '/')
		return true;
	n = snprintf(buf, sizeof(buf), "%s/%s", dir, path);
	if (n < 0 || (size_t)n >= size)
		return false;
	memcpy(path, buf, (size_t)n + 1);
	return true;
}

static int finish(struct bwd_config *c, unsigned workers, char *err,
		  size_t errlen)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	c->workers = workers ? workers : (unsigned)(cores > 0 ? cores : 1);
	if (c->public_address[0] == '\0')
		snprintf(c->public_address, sizeof(c->public_address), "%s:%u",
			 c->server_name, c->listen_port);
	if (c->max_preauth_message_size > c->max_message_size) {
		snprintf(err, errlen, "max_preauth_message_size exceeds "
				      "max_message_size");
		return BWD_ERR_CONFIG;
	}
#define RESOLVE(field)                                                      \
	if (!resolve(c->field, sizeof(c->field), c->data_dir)) {             \
		snprintf(err, errlen, "%s: path too long", #field);          \
		return BWD_ERR_CONFIG;                                       \
	}
	RESOLVE(tls_cert)
	RESOLVE(tls_key)
	RESOLVE(ca_cert)
	RESOLVE(ca_key)
	RESOLVE(ca_passphrase_file)
	RESOLVE(admin_socket)
	RESOLVE(database)
	RESOLVE(log_file)
	RESOLVE(ds_key)
	RESOLVE(ds_cert)
#undef RESOLVE
	return 0;
}

static int parse_line(struct bwd_config *c, char *line, unsigned lineno,
		      unsigned *workers, char *err, size_t errlen)
{
	char *eq, *key, *value;

	strip_comment(line);
	key = trim(line);
	if (*key == '\0')
		return 0;
	if ((eq = strchr(key, '=')) == NULL) {
		snprintf(err, errlen, "line %u: expected key = value", lineno);
		return BWD_ERR_CONFIG;
	}
	*eq = '\0';
	key = trim(key);
	value = trim(eq + 1);
	if (!apply(c, key, value, workers)) {
		snprintf(err, errlen, "line %u: unknown key or bad value for "
				      "'%.64s'", lineno, key);
		return BWD_ERR_CONFIG;
	}
	return 0;
}

int config_load(const char *path, struct bwd_config *c, char *err,
		size_t errlen)
{
	char line[LINE_MAX_LEN];
	unsigned lineno = 0, workers = 0;
	FILE *f;
	int rc = 0;

	config_defaults(c);
	err[0] = '\0';
	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return BWD_ERR_CONFIG;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "line %u: too long", lineno);
			rc = BWD_ERR_CONFIG;
			break;
		}
		rc = parse_line(c, line, lineno, &workers, err, errlen);
	}
	fclose(f);
	if (rc != 0)
		return rc;
	return finish(c, workers, err, errlen);
}

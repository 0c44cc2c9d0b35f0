/*
 * config.h - bulwarkd's configuration file (docs/configuration.md).
 *
 * The file is lines of `key = value`; `#` starts a comment (at the start of
 * a line or after white space); blank lines are ignored. Unknown keys and
 * malformed values are errors, reported with the line number. Relative
 * paths are relative to data_dir. Durations take a unit: 30s, 15m, 72h, 7d.
 */
#ifndef BWD_CONFIG_H
#define BWD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define CONFIG_PATH_MAX 4096

struct bwd_config {
	char listen_host[256];   /* numeric address to bind */
	uint16_t listen_port;
	char data_dir[CONFIG_PATH_MAX];
	char org_name[128];
	char server_name[256];   /* TLS name and SPAKE2+ idVerifier */
	char public_address[300]; /* host:port devices connect to */
	uint16_t mls_suite;
	unsigned workers;        /* resolved: never 0 after config_load */
	char tls_cert[CONFIG_PATH_MAX];
	char tls_key[CONFIG_PATH_MAX];
	char ca_cert[CONFIG_PATH_MAX];
	char ca_key[CONFIG_PATH_MAX];
	char ca_passphrase_file[CONFIG_PATH_MAX];
	char admin_socket[108];  /* sun_path */
	char database[CONFIG_PATH_MAX];
	char log_file[CONFIG_PATH_MAX]; /* empty: standard error */
	enum log_level log_level;
	uint32_t activation_ttl;          /* seconds */
	uint32_t activation_max_attempts;
	uint32_t device_cert_days;
	uint32_t handshake_timeout;       /* seconds, TLS + WebSocket upgrade */
	uint32_t preauth_idle_timeout;    /* seconds */
	uint32_t idle_timeout;            /* seconds, authenticated */
	uint32_t message_timeout;         /* seconds to complete a message */
	uint32_t max_message_size;        /* bytes, authenticated */
	uint32_t max_preauth_message_size;
	uint32_t max_connections;
	bool builtin_key_methods; /* lib/common/key_methods.h */
	/* the delivery service (docs/architecture.md) */
	char ds_key[CONFIG_PATH_MAX];     /* its signature key, PKCS#8 PEM */
	char ds_cert[CONFIG_PATH_MAX];    /* its certificate, PEM */
	uint32_t message_retention;       /* seconds */
	uint32_t max_group_messages;      /* kept per group */
	uint32_t backlog_page;            /* messages a backlog page reads */
	uint32_t key_package_low_water;
	uint32_t max_key_packages;        /* unclaimed, per device */
	uint32_t purge_interval;          /* seconds */
};

/* Defaults, then the file's values, then paths resolved against data_dir.
 * On error a line describing it is written to err (size errlen). */
int config_load(const char *path, struct bwd_config *cfg, char *err,
		size_t errlen);
/* Defaults only (data_dir "/var/lib/bulwark"); used by config_load. */
void config_defaults(struct bwd_config *cfg);

#endif

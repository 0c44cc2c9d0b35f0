/* test_server_parts.c - bulwarkd's configuration parser, the WebSocket
 * upgrade check and the device registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "devices.h"
#include "errors.h"
#include "upgrade.h"
#include "test.h"

static char conf_path[] = "/tmp/bw_test_conf_XXXXXX";

static int load(const char *text, struct bwd_config *cfg, char *err,
		size_t errlen)
{
	FILE *f = fopen(conf_path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	fclose(f);
	return config_load(conf_path, cfg, err, errlen);
}

static bool test_config_written_by_init(void)
{
	struct bwd_config c;
	char err[256];

	CHECK(load("# written by bulwarkctl init\n"
		   "listen = 127.0.0.1:9443\n"
		   "data_dir = /srv/bulwark   # the organisation\n"
		   "org_name = Example Org\n"
		   "server_name = chat.example.org\n"
		   "mls_suite = 2\n"
		   "workers = 3\n"
		   "tls_cert = tls/server.crt\n"
		   "ca_key = /elsewhere/ca.key\n"
		   "activation_ttl = 2d\n"
		   "activation_max_attempts = 3\n"
		   "log_level = debug\n",
		   &c, err, sizeof(err)) == 0);
	CHECK(strcmp(c.listen_host, "127.0.0.1") == 0);
	CHECK_EQ_INT(c.listen_port, 9443);
	CHECK(strcmp(c.org_name, "Example Org") == 0);
	CHECK_EQ_INT(c.mls_suite, 2);
	CHECK_EQ_INT(c.workers, 3);
	CHECK(strcmp(c.tls_cert, "/srv/bulwark/tls/server.crt") == 0);
	CHECK(strcmp(c.ca_key, "/elsewhere/ca.key") == 0);
	CHECK(strcmp(c.database, "/srv/bulwark/db/bulwark.db") == 0);
	CHECK(strcmp(c.public_address, "chat.example.org:9443") == 0);
	CHECK_EQ_INT(c.activation_ttl, 2 * 86400);
	CHECK_EQ_INT(c.activation_max_attempts, 3);
	CHECK_EQ_INT(c.log_level, LOG_DEBUG);
	/* Defaults for what the file does not say. */
	CHECK_EQ_INT(c.device_cert_days, 365);
	CHECK_EQ_INT(c.handshake_timeout, 10);
	CHECK_EQ_INT(c.max_preauth_message_size, 4096);
	CHECK(c.log_file[0] == '\0');
	return true;
}

static bool test_config_errors(void)
{
	struct bwd_config c;
	char err[256];

	CHECK_EQ_INT(load("listen = localhost:80\n", &c, err, sizeof(err)),
		     BWD_ERR_CONFIG); /* the address must be numeric */
	CHECK(strstr(err, "line 1") != NULL);
	CHECK_EQ_INT(load("\nno_such_key = 1\n", &c, err, sizeof(err)),
		     BWD_ERR_CONFIG);
	CHECK(strstr(err, "line 2") != NULL);
	CHECK_EQ_INT(load("mls_suite = 4\n", &c, err, sizeof(err)),
		     BWD_ERR_CONFIG);
	CHECK_EQ_INT(load("activation_ttl = 3w\n", &c, err, sizeof(err)),
		     BWD_ERR_CONFIG);
	CHECK_EQ_INT(load("data_dir = relative\n", &c, err, sizeof(err)),
		     BWD_ERR_CONFIG);
	CHECK_EQ_INT(load("just words\n", &c, err, sizeof(err)),
		     BWD_ERR_CONFIG);
	CHECK(load("listen = [::1]:8443\n", &c, err, sizeof(err)) == 0);
	CHECK(strcmp(c.listen_host, "::1") == 0);
	return true;
}

static const char good_request[] =
	"GET /bulwark/v1 HTTP/1.1\r\n"
	"Host: example\r\n"
	"Upgrade: websocket\r\n"
	"Connection: keep-alive, Upgrade\r\n"
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	"Sec-WebSocket-Version: 13\r\n"
	"Sec-WebSocket-Protocol: chat, bulwark.v1\r\n"
	"\r\n";

static int judge(const char *req, size_t chunk, size_t *used_total)
{
	struct upgrade *u;
	size_t off = 0, used, n = strlen(req);
	int result = UPGRADE_MORE;

	if (upgrade_new(&u) != 0)
		return -1;
	*used_total = 0;
	while (off < n && result == UPGRADE_MORE) {
		size_t k = n - off < chunk ? n - off : chunk;

		result = upgrade_feed(u, (const uint8_t *)req + off, k, &used);
		*used_total += used;
		off += k;
	}
	if (result == UPGRADE_REJECT)
		result = -upgrade_status(u);
	upgrade_free(u);
	return result;
}

static bool test_upgrade_accepts(void)
{
	struct upgrade *u;
	char resp[256];
	size_t used, n;
	char with_frame[sizeof(good_request) + 2];

	/* Whole, and one byte at a time. */
	CHECK_EQ_INT(judge(good_request, 4096, &used), UPGRADE_ACCEPT);
	CHECK_EQ_INT(judge(good_request, 1, &used), UPGRADE_ACCEPT);
	CHECK_EQ_INT(used, strlen(good_request));
	/* Bytes after the request are not the request's. */
	snprintf(with_frame, sizeof(with_frame), "%s\x82", good_request);
	CHECK_EQ_INT(judge(with_frame, 4096, &used), UPGRADE_ACCEPT);
	CHECK_EQ_INT(used, strlen(good_request));
	/* RFC 6455 §1.3's example key and accept value. */
	CHECK(upgrade_new(&u) == 0);
	CHECK_EQ_INT(upgrade_feed(u, (const uint8_t *)good_request,
				  strlen(good_request), &used),
		     UPGRADE_ACCEPT);
	n = upgrade_response(u, resp, sizeof(resp));
	CHECK(n > 0);
	CHECK(strstr(resp, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") !=
	      NULL);
	CHECK(strstr(resp, "Sec-WebSocket-Protocol: bulwark.v1") != NULL);
	upgrade_free(u);
	return true;
}

static bool test_upgrade_refusals(void)
{
	char big[8192];
	size_t used;

	CHECK_EQ_INT(judge("GET /other HTTP/1.1\r\nUpgrade: websocket\r\n"
			   "Connection: upgrade\r\nSec-WebSocket-Version: 13\r\n"
			   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			   "Sec-WebSocket-Protocol: bulwark.v1\r\n\r\n",
			   4096, &used),
		     -404);
	CHECK_EQ_INT(judge("GET /bulwark/v1 HTTP/1.1\r\nHost: x\r\n\r\n", 4096,
			   &used),
		     -426);
	CHECK_EQ_INT(judge("POST /bulwark/v1 HTTP/1.1\r\nContent-Length: 0\r\n"
			   "\r\n",
			   4096, &used),
		     -405);
	CHECK_EQ_INT(judge("GET /bulwark/v1 HTTP/1.1\r\nUpgrade: websocket\r\n"
			   "Connection: upgrade\r\nSec-WebSocket-Version: 13\r\n"
			   "Sec-WebSocket-Key: short\r\n"
			   "Sec-WebSocket-Protocol: bulwark.v1\r\n\r\n",
			   4096, &used),
		     -400);
	CHECK_EQ_INT(judge("\x16\x03\x01 not http at all\r\n\r\n", 4096, &used),
		     -400);
	/* Headers that never end are cut off by size. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "GET /bulwark/v1 HTTP/1.1\r\nX: ", 29);
	CHECK_EQ_INT(judge(big, 1000, &used), -431);
	return true;
}

static bool test_devices_registry(void)
{
	struct devices *d;
	struct store_device dev;
	struct device_ident who;
	uint8_t fp[STORE_FINGERPRINT_LEN];

	CHECK(devices_new(&d) == 0);
	/* Enough to make the table grow a few times. */
	for (unsigned i = 0; i < 2000; i++) {
		memset(&dev, 0, sizeof(dev));
		memcpy(dev.fingerprint, &i, sizeof(i));
		snprintf(dev.id, sizeof(dev.id), "dev%u", i);
		snprintf(dev.user, sizeof(dev.user), "user%u", i % 3);
		CHECK(devices_add(d, &dev) == 0);
	}
	CHECK_EQ_INT(devices_count(d), 2000);
	memset(fp, 0, sizeof(fp));
	fp[0] = 7;
	CHECK(devices_lookup(d, fp, &who));
	CHECK(strcmp(who.id, "dev7") == 0);
	devices_remove(d, fp);
	CHECK(!devices_lookup(d, fp, NULL));
	devices_remove_user(d, "user1");
	CHECK_EQ_INT(devices_count(d), 2000 - 1 - 666);
	devices_free(d);
	devices_free(NULL);
	return true;
}

int main(void)
{
	int failed = 0, fd = mkstemp(conf_path);

	if (fd < 0)
		return 1;
	close(fd);
	RUN(test_config_written_by_init, &failed);
	RUN(test_config_errors, &failed);
	RUN(test_upgrade_accepts, &failed);
	RUN(test_upgrade_refusals, &failed);
	RUN(test_devices_registry, &failed);
	unlink(conf_path);
	return failed ? 1 : 0;
}

/*
 * admin_client.h - bulwarkctl's side of the administration socket
 * (lib/proto/admin_proto.h): find the server through its configuration
 * file, connect, and make one request at a time.
 *
 *   struct admin_client *ac;
 *   struct admin_response resp;
 *   if (admin_client_open(ctl, config_path, &ac) != 0) return CTL_FAIL;
 *   mk = admin_request_begin(admin_client_request(ac), ADMIN_OP_STATUS);
 *   admin_end(admin_client_request(ac), mk);
 *   if (admin_client_call(ctl, ac, &resp) != 0) ...   // resp.status == 0
 *   admin_client_close(ac);
 */
#ifndef BULWARKCTL_ADMIN_CLIENT_H
#define BULWARKCTL_ADMIN_CLIENT_H

#include "admin_proto.h"
#include "commands.h"
#include "config.h"

/* Where the configuration is when -c is not given. */
#define CTL_DEFAULT_CONFIG "/var/lib/bulwark/bulwarkd.conf"
#define CTL_CONFIG_ENV "BULWARK_CONFIG"

struct admin_client;

/* The configuration file to use: path if given, else $BULWARK_CONFIG,
 * else CTL_DEFAULT_CONFIG. */
const char *ctl_config_path(const char *path);
/* Read the configuration and connect to its admin socket. Reports its own
 * failures (ctl_fail) and returns CTL_FAIL. */
int admin_client_open(const struct ctl *ctl, const char *config_path,
		      struct admin_client **out);
void admin_client_close(struct admin_client *ac);
/* The configuration the client was opened with. */
const struct bwd_config *admin_client_config(const struct admin_client *ac);
/* The (reset) writer to build the next request frame in. */
struct bw_writer *admin_client_request(struct admin_client *ac);
/* Send the request and read the response; its spans stay valid until the
 * next call. A status other than ADMIN_OK is reported (ctl_fail) and
 * returns CTL_FAIL, as do transport errors. */
int admin_client_call(const struct ctl *ctl, struct admin_client *ac,
		      struct admin_response *resp);

#endif

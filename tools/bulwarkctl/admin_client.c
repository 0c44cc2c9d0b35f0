/* admin_client.c - connect to bulwarkd's administration socket. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin_client.h"
#include "errors.h"

#define TIMEOUT_SECONDS 30

struct admin_client {
	int fd;
	struct bwd_config cfg;
	struct bw_writer req;
	uint8_t *resp;
};

const char *ctl_config_path(const char *path)
{
	const char *env = getenv(CTL_CONFIG_ENV);

	if (path != NULL)
		return path;
	return env != NULL && env[0] != '\0' ? env : CTL_DEFAULT_CONFIG;
}

static int connect_socket(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { TIMEOUT_SECONDS, 0 };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

int admin_client_open(const struct ctl *ctl, const char *config_path,
		      struct admin_client **out)
{
	struct admin_client *ac;
	char err[512];

	*out = NULL;
	if ((ac = calloc(1, sizeof(*ac))) == NULL)
		return ctl_fail(ctl, BW_ERR_NOMEM, "out of memory");
	if (config_load(config_path, &ac->cfg, err, sizeof(err)) != 0) {
		free(ac);
		return ctl_fail(ctl, BWD_ERR_CONFIG, "%s: %s", config_path,
				err);
	}
	if ((ac->fd = connect_socket(ac->cfg.admin_socket)) < 0) {
		int rc = ctl_fail(ctl, BW_ERR_IO,
				  "cannot reach bulwarkd at %s: %s "
				  "(is the server running?)",
				  ac->cfg.admin_socket, strerror(errno));

		free(ac);
		return rc;
	}
	bw_writer_init(&ac->req, ADMIN_MAX_REQUEST + 4);
	*out = ac;
	return CTL_OK;
}

void admin_client_close(struct admin_client *ac)
{
	if (ac == NULL)
		return;
	close(ac->fd);
	bw_writer_free(&ac->req);
	free(ac->resp);
	free(ac);
}

const struct bwd_config *admin_client_config(const struct admin_client *ac)
{
	return &ac->cfg;
}

struct bw_writer *admin_client_request(struct admin_client *ac)
{
	bw_writer_reset(&ac->req);
	ac->req.err = 0;
	return &ac->req;
}

static int io_full(int fd, uint8_t *p, size_t n, bool writing)
{
	ssize_t k;

	while (n > 0) {
		k = writing ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int admin_client_call(const struct ctl *ctl, struct admin_client *ac,
		      struct admin_response *resp)
{
	uint8_t hdr[4];
	size_t len;
	int rc;

	if (ac->req.err != 0)
		return ctl_fail(ctl, ac->req.err, "cannot encode the request: %s",
				proto_strerror(ac->req.err));
	free(ac->resp);
	ac->resp = NULL;
	if (io_full(ac->fd, ac->req.buf, ac->req.len, true) != 0 ||
	    io_full(ac->fd, hdr, sizeof(hdr), false) != 0)
		return ctl_fail(ctl, BW_ERR_IO,
				"the server closed the administration socket");
	if ((rc = admin_frame_length(hdr, ADMIN_MAX_RESPONSE, &len)) != 0)
		return ctl_fail(ctl, rc, "bad response from the server");
	if ((ac->resp = malloc(len)) == NULL)
		return ctl_fail(ctl, BW_ERR_NOMEM, "out of memory");
	if (io_full(ac->fd, ac->resp, len, false) != 0)
		return ctl_fail(ctl, BW_ERR_IO, "truncated response");
	if ((rc = admin_decode_response(ac->resp, len, resp)) != 0)
		return ctl_fail(ctl, rc, "bad response from the server: %s",
				proto_strerror(rc));
	if (resp->status != ADMIN_OK)
		return ctl_fail(ctl, resp->status, "%.*s", (int)resp->text.n,
				(const char *)resp->text.p);
	return CTL_OK;
}

/* admin.c - the administration socket and its operations. */
#define _GNU_SOURCE /* accept4, pipe2, struct ucred */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "admin_proto.h"
#include "ds.h"
#include "enroll.h"
#include "errors.h"
#include "log.h"
#include "spake2plus.h"

#define CLIENT_TIMEOUT_SECONDS 5

struct admin {
	struct bwd_server *srv;
	int lfd;
	int stop_pipe[2];
	pthread_t thread;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* One operation, run on the store thread while the admin thread waits. */
struct admin_job {
	struct store_job job;
	struct bwd_server *srv;
	uint16_t op;
	char actor[32];
	char name[STORE_NAME_SIZE];
	char display[STORE_DISPLAY_SIZE];
	struct store_activation act;
	struct store_device device;   /* DEVICE_REVOKE: the revoked one */
	struct store_counts counts;   /* STATUS */
	struct bw_writer *out;        /* lists are written straight here */
};

static uint16_t admin_status_of(int rc)
{
	switch (rc) {
	case 0: return ADMIN_OK;
	case BWD_ERR_NOT_FOUND: return ADMIN_E_NOT_FOUND;
	case BWD_ERR_EXISTS: return ADMIN_E_EXISTS;
	case BWD_ERR_DISABLED: return ADMIN_E_DISABLED;
	case PROTO_ERR_NAME: return ADMIN_E_INVALID;
	case PROTO_ERR_VERSION: return ADMIN_E_VERSION;
	case BW_ERR_WRITER_FULL: return ADMIN_E_INTERNAL; /* list too long */
	default: return rc > BW_ERR_MIN ? ADMIN_E_MALFORMED : ADMIN_E_INTERNAL;
	}
}

/* ---- store side ---- */

static struct proto_span text(const char *s)
{
	return (struct proto_span){ (const uint8_t *)s, strlen(s) };
}

static int list_user(void *arg, const struct store_user *u)
{
	struct admin_user e = {
		.name = text(u->name),
		.display_name = text(u->display_name),
		.disabled = u->disabled,
		.created = (uint64_t)u->created,
		.devices = u->devices,
	};

	return admin_write_user(arg, &e);
}

static int list_device(void *arg, const struct store_device *d)
{
	struct admin_device e = {
		.id = text(d->id),
		.user = text(d->user),
		.name = text(d->name),
		.fingerprint = { d->fingerprint, sizeof(d->fingerprint) },
		.serial = { d->serial, d->serial_len },
		.created = (uint64_t)d->created,
		.revoked_at = (uint64_t)d->revoked_at,
	};

	return admin_write_device(arg, &e);
}

static int audit(struct store *s, struct admin_job *j, const char *action,
		 const char *subject)
{
	return s->ops->audit_add(s, time(NULL), j->actor, action, subject,
				 "ok");
}

/* The operation's writes and its audit line commit together. */
static int run_write(struct store *s, struct admin_job *j)
{
	int rc;

	switch (j->op) {
	case ADMIN_OP_USER_ADD:
		if ((rc = s->ops->user_add(s, j->name, j->display,
					   time(NULL))) == 0)
			rc = audit(s, j, "user add", j->name);
		return rc;
	case ADMIN_OP_USER_DISABLE:
		if ((rc = s->ops->user_disable(s, j->name)) == 0)
			rc = audit(s, j, "user disable", j->name);
		return rc;
	case ADMIN_OP_DEVICE_REVOKE:
		if ((rc = s->ops->device_revoke(s, j->name, time(NULL),
						&j->device)) == 0)
			rc = audit(s, j, "device revoke", j->name);
		return rc;
	default: /* ADMIN_OP_ACTIVATION_CREATE */
		if ((rc = s->ops->activation_add(s, &j->act)) == 0)
			rc = audit(s, j, "activation code create", j->act.user);
		return rc;
	}
}

/* Revocation and disabling run in the delivery service's batch: the
 * device leaves the registry, then the server proposes its removal from
 * every group, in the transaction that revokes it. Should that
 * transaction fail, the device stays out of the registry (refused at
 * login) until the server restarts: failing closed. */
static int run_removal(struct store *s, struct admin_job *j)
{
	bool revoke = j->op == ADMIN_OP_DEVICE_REVOKE;
	int rc;

	if ((rc = run_write(s, j)) != 0)
		return rc;
	if (revoke)
		devices_remove(j->srv->devices, j->device.fingerprint);
	else
		devices_remove_user(j->srv->devices, j->name);
	return ds_remove_devices(j->srv->ds, s, revoke ? j->name : NULL,
				 revoke ? NULL : j->name);
}

static int run_admin(struct store *s, struct store_job *job)
{
	struct admin_job *j = (struct admin_job *)job;
	int rc;

	if (job->batched)
		return run_removal(s, j);
	switch (j->op) {
	case ADMIN_OP_STATUS:
		return s->ops->counts(s, &j->counts);
	case ADMIN_OP_USER_LIST:
		return s->ops->user_list(s, list_user, j->out);
	case ADMIN_OP_DEVICE_LIST:
		return s->ops->device_list(s, j->name[0] ? j->name : NULL,
					   list_device, j->out);
	default:
		break;
	}
	if ((rc = store_begin(s)) != 0)
		return rc;
	if ((rc = run_write(s, j)) != 0 || (rc = store_commit(s)) != 0) {
		store_rollback(s);
		return rc;
	}
	return 0;
}

/* ---- request decoding ---- */

static void copy_span(char *dst, size_t size, const struct proto_span *s)
{
	size_t n = s->n < size - 1 ? s->n : size - 1;

	memcpy(dst, s->p, n);
	dst[n] = '\0';
}

/* SPAKE2+ with P-256 (the only suite activation uses): w0 is a 32-byte
 * scalar, L an uncompressed point; the KDF costs within the device's
 * limits, so a code can never ask a device for more than it allows. */
static int check_record(const struct admin_activation_create *in)
{
	struct proto_kdf_params params;
	struct pake_pbkdf kdf = { 0 };
	int rc;

	if (in->w0.n != 32 || in->l.n != 65 || in->l.p[0] != 0x04 ||
	    in->salt.n > sizeof(kdf.salt))
		return BW_ERR_BAD_VALUE;
	if ((rc = proto_decode_kdf_params(in->kdf_params.p, in->kdf_params.n,
					  &params)) != 0)
		return rc;
	kdf.n = params.n;
	kdf.r = params.r;
	kdf.p = params.p;
	memcpy(kdf.salt, in->salt.p, in->salt.n);
	kdf.salt_len = in->salt.n;
	return pake_pbkdf_check(&kdf) == 0 ? 0 : BW_ERR_BAD_VALUE;
}

static int take_activation(struct admin_job *j, const struct proto_span *body)
{
	const struct bwd_config *cfg = &j->srv->cfg;
	struct admin_activation_create in;
	struct store_activation *a = &j->act;
	int rc;

	if ((rc = admin_decode_activation_create(body, &in)) != 0 ||
	    (rc = check_record(&in)) != 0)
		return rc;
	copy_span(a->user, sizeof(a->user), &in.user);
	copy_span(a->code_id, sizeof(a->code_id), &in.code_id);
	a->created = time(NULL);
	a->expires = a->created +
		     (int64_t)(in.ttl ? in.ttl : cfg->activation_ttl);
	if ((rc = bw_bytes_set(&a->w0, in.w0.p, in.w0.n)) != 0 ||
	    (rc = bw_bytes_set(&a->l, in.l.p, in.l.n)) != 0 ||
	    (rc = bw_bytes_set(&a->salt, in.salt.p, in.salt.n)) != 0 ||
	    (rc = bw_bytes_set(&a->kdf_params, in.kdf_params.p,
			       in.kdf_params.n)) != 0)
		return rc;
	return 0;
}

/* Fill the job from the request body. */
static int take_request(struct admin_job *j, const struct admin_request *req)
{
	struct admin_user_add add;
	struct admin_name name;
	int rc;

	switch (req->op) {
	case ADMIN_OP_STATUS:
	case ADMIN_OP_USER_LIST:
		return req->body.n == 0 ? 0 : BW_ERR_TRAILING;
	case ADMIN_OP_USER_ADD:
		if ((rc = admin_decode_user_add(&req->body, &add)) != 0)
			return rc;
		copy_span(j->name, sizeof(j->name), &add.name);
		copy_span(j->display, sizeof(j->display), &add.display_name);
		return 0;
	case ADMIN_OP_USER_DISABLE:
	case ADMIN_OP_DEVICE_REVOKE:
	case ADMIN_OP_DEVICE_LIST:
		if ((rc = admin_decode_name(&req->body,
					    req->op == ADMIN_OP_DEVICE_LIST,
					    &name)) != 0)
			return rc;
		copy_span(j->name, sizeof(j->name), &name.name);
		return 0;
	case ADMIN_OP_ACTIVATION_CREATE:
		return take_activation(j, &req->body);
	default:
		return PROTO_ERR_ADMIN_OP;
	}
}

/* ---- responses ---- */

static void respond_status(struct admin *ad, struct admin_job *j,
			   struct bw_writer *w)
{
	struct bwd_server *srv = ad->srv;
	struct admin_status_info info = {
		.version = text(BWD_SOFTWARE),
		.server_name = text(srv->cfg.server_name),
		.public_address = text(srv->cfg.public_address),
		.ca_fingerprint = text(srv->ca_fingerprint),
		.mls_suite = srv->cfg.mls_suite,
		.uptime = (uint64_t)(time(NULL) - srv->started),
		.connections = atomic_load(&srv->connections),
		.authenticated = atomic_load(&srv->authenticated),
		.users = j->counts.users,
		.devices = j->counts.devices,
	};
	struct admin_marks mk = admin_response_begin(w, ADMIN_OK, NULL);

	admin_encode_status_info(w, &info);
	admin_end(w, mk);
}

static void respond_error(struct bw_writer *w, uint16_t status,
			  const char *detail)
{
	struct admin_marks mk;

	bw_writer_reset(w);
	w->err = 0;
	mk = admin_response_begin(w, status, detail);
	admin_end(w, mk);
}

/* Run one request and leave the whole response frame in w. */
static void handle(struct admin *ad, const uint8_t *p, size_t n,
		   struct bw_writer *w)
{
	struct admin_request req;
	struct admin_job *j;
	struct admin_marks mk;
	size_t list = 0;
	int rc;

	if ((rc = admin_decode_request(p, n, &req)) != 0) {
		respond_error(w, admin_status_of(rc), NULL);
		return;
	}
	if (req.op == ADMIN_OP_DEVICE_ENROLL) {
		char actor[32];

		snprintf(actor, sizeof(actor), "admin uid %u",
			 (unsigned)getuid());
		enroll_handle(ad->srv, actor, &req.body, w);
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		respond_error(w, ADMIN_E_INTERNAL, NULL);
		return;
	}
	j->srv = ad->srv;
	j->op = req.op;
	j->out = w;
	j->job.run = run_admin;
	j->job.batched = req.op == ADMIN_OP_DEVICE_REVOKE ||
			 req.op == ADMIN_OP_USER_DISABLE;
	snprintf(j->actor, sizeof(j->actor), "admin uid %u",
		 (unsigned)getuid());
	if ((rc = take_request(j, &req)) != 0) {
		respond_error(w, rc == PROTO_ERR_ADMIN_OP ? ADMIN_E_UNKNOWN_OP
				 : rc == PROTO_ERR_NAME	 ? ADMIN_E_INVALID
							 : ADMIN_E_MALFORMED,
			      NULL);
		goto out;
	}
	if (req.op == ADMIN_OP_USER_LIST || req.op == ADMIN_OP_DEVICE_LIST) {
		mk = admin_response_begin(w, ADMIN_OK, NULL);
		list = bw_write_vector_begin(w);
	}
	if ((rc = storeq_call(ad->srv->store, &j->job)) != 0) {
		log_info("admin: operation %u failed: %s", req.op,
			 bwd_strerror(rc));
		respond_error(w, admin_status_of(rc), NULL);
		goto out;
	}
	switch (req.op) {
	case ADMIN_OP_STATUS:
		respond_status(ad, j, w);
		break;
	case ADMIN_OP_USER_LIST:
	case ADMIN_OP_DEVICE_LIST:
		bw_write_vector_end(w, list);
		if (admin_end(w, mk) != 0)
			respond_error(w, ADMIN_E_INTERNAL, "list too long");
		break;
	case ADMIN_OP_ACTIVATION_CREATE: {
		struct admin_activation_created out = {
			(uint64_t)j->act.expires
		};

		mk = admin_response_begin(w, ADMIN_OK, NULL);
		admin_encode_activation_created(w, &out);
		admin_end(w, mk);
		log_info("admin: activation code %s created for %s",
			 j->act.code_id, j->act.user);
		break;
	}
	default:
		mk = admin_response_begin(w, ADMIN_OK, NULL);
		admin_end(w, mk);
		if (req.op == ADMIN_OP_DEVICE_REVOKE) {
			log_info("admin: device %s revoked", j->name);
			server_kick_device(ad->srv, j->name);
		} else if (req.op == ADMIN_OP_USER_DISABLE) {
			log_info("admin: user %s disabled", j->name);
			server_kick_user(ad->srv, j->name);
		} else {
			log_info("admin: user %s added", j->name);
		}
		break;
	}
out:
	store_activation_clear(&j->act);
	free(j);
}

/* ---- socket ---- */

static int read_full(int fd, uint8_t *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = read(fd, p, n)) <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int write_full(int fd, const uint8_t *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = send(fd, p, n, MSG_NOSIGNAL)) <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return false;
	if (cred.uid == 0 || cred.uid == getuid())
		return true;
	log_warn("admin: refused a client with uid %u", (unsigned)cred.uid);
	return false;
}

/* Requests from one client until it hangs up or misbehaves. */
static void serve_client(struct admin *ad, int fd)
{
	struct timeval tv = { CLIENT_TIMEOUT_SECONDS, 0 };
	uint8_t hdr[4], *msg = NULL;
	struct bw_writer w;
	size_t len;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	bw_writer_init(&w, ADMIN_MAX_RESPONSE + 4);
	if ((msg = malloc(ADMIN_MAX_REQUEST)) == NULL)
		goto out;
	while (read_full(fd, hdr, sizeof(hdr)) == 0) {
		if (admin_frame_length(hdr, ADMIN_MAX_REQUEST, &len) != 0) {
			respond_error(&w, ADMIN_E_MALFORMED, "frame too large");
			write_full(fd, w.buf, w.len);
			break;
		}
		if (read_full(fd, msg, len) != 0)
			break;
		bw_writer_reset(&w);
		w.err = 0;
		handle(ad, msg, len, &w);
		if (w.err != 0 || write_full(fd, w.buf, w.len) != 0)
			break;
	}
out:
	if (msg != NULL)
		OPENSSL_cleanse(msg, ADMIN_MAX_REQUEST);
	free(msg);
	bw_writer_free(&w);
}

static void *admin_main(void *arg)
{
	struct admin *ad = arg;
	struct pollfd pfd[2] = {
		{ .fd = ad->lfd, .events = POLLIN },
		{ .fd = ad->stop_pipe[0], .events = POLLIN },
	};
	int fd;

	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		if ((fd = accept4(ad->lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		if (peer_allowed(fd))
			serve_client(ad, fd);
		close(fd);
	}
	return NULL;
}

static int bind_socket(struct admin *ad)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", ad->path);
	/* A socket left by a server that did not stop cleanly. */
	if (lstat(ad->path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(ad->path);
	if ((ad->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return BWD_ERR_SYSTEM;
	/* umask(077) is set at start: the socket is born 0600. */
	if (bind(ad->lfd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(ad->path, 0600) != 0 || listen(ad->lfd, 16) != 0) {
		log_error("admin: cannot listen on %s: %s", ad->path,
			  strerror(errno));
		return BWD_ERR_SYSTEM;
	}
	return 0;
}

int admin_start(struct bwd_server *srv, struct admin **out)
{
	struct admin *ad;
	int rc;

	*out = NULL;
	if ((ad = calloc(1, sizeof(*ad))) == NULL)
		return BW_ERR_NOMEM;
	ad->srv = srv;
	ad->lfd = ad->stop_pipe[0] = ad->stop_pipe[1] = -1;
	snprintf(ad->path, sizeof(ad->path), "%s", srv->cfg.admin_socket);
	if ((rc = bind_socket(ad)) != 0)
		goto fail;
	if (pipe2(ad->stop_pipe, O_CLOEXEC) != 0 ||
	    pthread_create(&ad->thread, NULL, admin_main, ad) != 0) {
		rc = BWD_ERR_SYSTEM;
		goto fail;
	}
	*out = ad;
	return 0;
fail:
	if (ad->lfd >= 0) {
		close(ad->lfd);
		unlink(ad->path);
	}
	if (ad->stop_pipe[0] >= 0) {
		close(ad->stop_pipe[0]);
		close(ad->stop_pipe[1]);
	}
	free(ad);
	return rc;
}

void admin_stop(struct admin *ad)
{
	ssize_t n;

	if (ad == NULL)
		return;
	n = write(ad->stop_pipe[1], "", 1);
	(void)n;
	pthread_join(ad->thread, NULL);
	close(ad->lfd);
	unlink(ad->path);
	close(ad->stop_pipe[0]);
	close(ad->stop_pipe[1]);
	free(ad);
}

/*
 * client.c - bulwarkd's side of privilege separation: start the CA
 * monitor, ask it for certificates, stop it.
 *
 * This side never opens the CA key, its certificate or the passphrase file:
 * it hands their paths to the monitor it executes. Fork then exec (not a
 * plain fork) so the monitor starts from an empty address space with
 * nothing of the server in it, and the server never maps anything the
 * monitor computes.
 */
#define _GNU_SOURCE /* secure_getenv, close_range */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "privsep_int.h"
#include "wire.h"

/* Opening the key runs the passphrase KDF (~0.3 s); allow for a slow,
 * loaded machine. */
#define READY_TIMEOUT_MS 60000
/* How long privsep_stop() waits for the monitor before killing it. */
#define STOP_GRACE_MS 5000

struct privsep {
	int fd;
	pid_t pid;
	pthread_mutex_t lock;
};

/* The monitor executable: $BULWARK_CA_MONITOR (absolute), else the file
 * PRIVSEP_MONITOR_NAME beside the running program. */
static int monitor_path(char out[PATH_MAX])
{
	const char *env = secure_getenv(PRIVSEP_MONITOR_ENV);
	char *slash;
	ssize_t n;

	if (env != NULL && env[0] != '\0') {
		if (env[0] != '/' || strlen(env) >= PATH_MAX)
			return PRIVSEP_ERR_NO_MONITOR;
		memcpy(out, env, strlen(env) + 1);
	} else {
		n = readlink("/proc/self/exe", out, PATH_MAX - 1);
		if (n <= 0)
			return PRIVSEP_ERR_NO_MONITOR;
		out[n] = '\0';
		if ((slash = strrchr(out, '/')) == NULL ||
		    (size_t)(slash - out) + 1 + sizeof(PRIVSEP_MONITOR_NAME) >
			    PATH_MAX)
			return PRIVSEP_ERR_NO_MONITOR;
		memcpy(slash + 1, PRIVSEP_MONITOR_NAME,
		       sizeof(PRIVSEP_MONITOR_NAME));
	}
	return access(out, X_OK) == 0 ? 0 : PRIVSEP_ERR_NO_MONITOR;
}

/* In the child between fork and exec: async-signal-safe calls only, since
 * the parent may have threads. Descriptors: 0 and 1 /dev/null, 2 kept for
 * the monitor's usage message, 3 the socket, nothing else. */
static void exec_monitor(const char *path, char *const argv[], int sock,
			 int devnull)
{
	static char *const envp[] = { NULL };
	sigset_t none;
	int s, n;

	/* Move both above 3 first, so no dup2 below overwrites them. */
	s = fcntl(sock, F_DUPFD_CLOEXEC, PRIVSEP_MONITOR_FD + 1);
	n = fcntl(devnull, F_DUPFD_CLOEXEC, PRIVSEP_MONITOR_FD + 1);
	if (s < 0 || n < 0 || dup2(n, STDIN_FILENO) < 0 ||
	    dup2(n, STDOUT_FILENO) < 0 || dup2(s, PRIVSEP_MONITOR_FD) < 0 ||
	    close_range(PRIVSEP_MONITOR_FD + 1, ~0u, 0) != 0)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, argv, envp);
	_exit(127);
}

static int spawn(const char *path, char *const argv[], int sock, pid_t *pid)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t child;

	if (devnull < 0)
		return PRIVSEP_ERR_SPAWN;
	child = fork();
	if (child == 0)
		exec_monitor(path, argv, sock, devnull);
	close(devnull);
	if (child < 0)
		return PRIVSEP_ERR_SPAWN;
	*pid = child;
	return 0;
}

static int receive(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	ssize_t n;

	do
		n = recv(fd, buf, cap, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	/* The monitor never sends an empty message: 0 is its end. */
	if (n <= 0)
		return PRIVSEP_ERR_GONE;
	if ((size_t)n > cap)
		return PRIVSEP_ERR_TOO_LONG;
	*len = (size_t)n;
	return 0;
}

/* The monitor's start-up message: 0 when it serves, else its reason. */
static int await_ready(struct privsep *ps)
{
	struct pollfd p = { .fd = ps->fd, .events = POLLIN };
	struct privsep_reply rep;
	uint8_t buf[16];
	size_t len;
	int rc, status;

	do
		rc = poll(&p, 1, READY_TIMEOUT_MS);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return PRIVSEP_ERR_TIMEOUT;
	if ((rc = receive(ps->fd, buf, sizeof(buf), &len)) != 0) {
		/* Exit status 127: the exec itself failed. */
		if (waitpid(ps->pid, &status, 0) == ps->pid) {
			ps->pid = -1;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
				return PRIVSEP_ERR_SPAWN;
		}
		return rc;
	}
	if (privsep_reply_decode(buf, len, &rep) != 0 ||
	    rep.type != PRIVSEP_READY)
		return PRIVSEP_ERR_MALFORMED;
	return rep.err;
}

int privsep_start(const char *ca_key_path, const char *ca_cert_path,
		  const char *passphrase_file, struct privsep **out)
{
	char path[PATH_MAX];
	char *argv[] = { path, "--ca-key", (char *)ca_key_path, "--ca-cert",
			 (char *)ca_cert_path, "--passphrase-file",
			 (char *)passphrase_file, NULL };
	struct privsep *ps;
	int sv[2], rc;

	*out = NULL;
	if (ca_key_path == NULL || ca_cert_path == NULL ||
	    passphrase_file == NULL)
		return BW_ERR_INVALID_ARG;
	if ((rc = monitor_path(path)) != 0)
		return rc;
	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return BW_ERR_NOMEM;
	ps->fd = -1;
	ps->pid = -1;
	if (pthread_mutex_init(&ps->lock, NULL) != 0) {
		free(ps);
		return BW_ERR_NOMEM;
	}
	/* SEQPACKET keeps message boundaries; CLOEXEC keeps this end out of
	 * anything else the server executes. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		rc = PRIVSEP_ERR_SPAWN;
		goto out;
	}
	ps->fd = sv[0];
	rc = spawn(path, argv, sv[1], &ps->pid);
	close(sv[1]);
	if (rc == 0)
		rc = await_ready(ps);
out:
	if (rc != 0) {
		privsep_stop(ps);
		return rc;
	}
	*out = ps;
	return 0;
}

int privsep_call(struct privsep *ps, const uint8_t *req, size_t len,
		 uint8_t *reply, size_t cap, size_t *reply_len)
{
	ssize_t n;
	int rc;

	pthread_mutex_lock(&ps->lock);
	do
		n = send(ps->fd, req, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len)
		rc = receive(ps->fd, reply, cap, reply_len);
	else
		rc = n < 0 && errno == EMSGSIZE ? PRIVSEP_ERR_TOO_LONG :
						  PRIVSEP_ERR_GONE;
	pthread_mutex_unlock(&ps->lock);
	return rc;
}

/* One request whose answer is a certificate. */
static int request_cert(struct privsep *ps, const struct privsep_request *req,
			uint8_t **der, size_t *len)
{
	uint8_t msg[PRIVSEP_REQUEST_MAX], reply[PRIVSEP_REPLY_MAX];
	struct privsep_reply rep;
	struct bw_writer w;
	size_t reply_len = 0;
	uint8_t *copy;
	int rc;

	*der = NULL;
	*len = 0;
	bw_writer_init_fixed(&w, msg, sizeof(msg));
	if (privsep_request_encode(&w, req) != 0)
		return PRIVSEP_ERR_TOO_LONG;
	if ((rc = privsep_call(ps, msg, w.len, reply, sizeof(reply),
			       &reply_len)) != 0)
		return rc;
	if (privsep_reply_decode(reply, reply_len, &rep) != 0 ||
	    rep.type != req->type)
		return PRIVSEP_ERR_MALFORMED;
	if (rep.err != 0)
		return rep.err;
	if (rep.cert_len == 0)
		return PRIVSEP_ERR_MALFORMED;
	if ((copy = malloc(rep.cert_len)) == NULL)
		return BW_ERR_NOMEM;
	memcpy(copy, rep.cert, rep.cert_len);
	*der = copy;
	*len = rep.cert_len;
	return 0;
}

int privsep_issue_device_cert(struct privsep *ps, const char *user,
			      const char *device_id, const uint8_t *spki_der,
			      size_t spki_len, uint32_t validity_days,
			      uint8_t **cert_der, size_t *cert_len)
{
	struct privsep_request req = {
		.type = PRIVSEP_REQ_ISSUE_DEVICE_CERT,
		.spki = spki_der,
		.spki_len = spki_len,
		.validity_days = validity_days,
	};

	if (ps == NULL || user == NULL || device_id == NULL ||
	    (spki_der == NULL && spki_len > 0) || cert_der == NULL ||
	    cert_len == NULL)
		return BW_ERR_INVALID_ARG;
	req.user = (const uint8_t *)user;
	req.user_len = strlen(user);
	req.device_id = (const uint8_t *)device_id;
	req.device_id_len = strlen(device_id);
	return request_cert(ps, &req, cert_der, cert_len);
}

int privsep_issue_ds_cert(struct privsep *ps, const char *server_name,
			  const uint8_t *spki_der, size_t spki_len,
			  uint8_t **cert_der, size_t *cert_len)
{
	struct privsep_request req = {
		.type = PRIVSEP_REQ_ISSUE_DS_CERT,
		.spki = spki_der,
		.spki_len = spki_len,
	};

	if (ps == NULL || server_name == NULL ||
	    (spki_der == NULL && spki_len > 0) || cert_der == NULL ||
	    cert_len == NULL)
		return BW_ERR_INVALID_ARG;
	req.server_name = (const uint8_t *)server_name;
	req.server_name_len = strlen(server_name);
	return request_cert(ps, &req, cert_der, cert_len);
}

int privsep_get_ca_cert(struct privsep *ps, uint8_t **cert_der,
			size_t *cert_len)
{
	struct privsep_request req = { .type = PRIVSEP_REQ_GET_CA_CERT };

	if (ps == NULL || cert_der == NULL || cert_len == NULL)
		return BW_ERR_INVALID_ARG;
	return request_cert(ps, &req, cert_der, cert_len);
}

/* Reap the monitor, killing it if it outstays the grace period. */
static void reap(pid_t pid)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (int waited = 0; waited < STOP_GRACE_MS; waited += 10) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		/* ECHILD: someone else (a SIGCHLD handler) reaped it. */
		if (r == pid || (r < 0 && errno != EINTR))
			return;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void privsep_stop(struct privsep *ps)
{
	if (ps == NULL)
		return;
	/* The monitor sees the hang-up and exits. */
	if (ps->fd >= 0)
		close(ps->fd);
	if (ps->pid > 0)
		reap(ps->pid);
	pthread_mutex_destroy(&ps->lock);
	free(ps);
}

pid_t privsep_monitor_pid(const struct privsep *ps)
{
	return ps != NULL ? ps->pid : -1;
}

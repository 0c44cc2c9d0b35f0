/*
 * test_privsep.c - the CA monitor: issuing through it, hostile requests,
 * its confinement, its lifetime, and the key-isolation check: after the
 * monitor has started and issued a certificate, neither the CA private key
 * nor its passphrase is anywhere in this (the parent's) memory, while the
 * monitor's memory does hold the key.
 *
 * This process never learns the secrets it looks for: a helper child
 * creates the CA with a random passphrase and sends back only their
 * fingerprints (tests/support/memscan.h).
 */
#define _GNU_SOURCE /* setenv, PR_SET_CHILD_SUBREAPER */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "ca.h"
#include "ca_secrets.h"
#include "privsep_int.h"
#include "test.h"
#include "wire.h"

static char dir[] = "/tmp/bw-test-privsep-XXXXXX";
static char key_path[128], cert_path[128], pass_path[128];
static struct memscan_needle secrets[CA_SECRETS];
static uint8_t spki[64];
static size_t spki_len;

/* --- set-up: a CA this process never sees the secrets of --- */

static bool write_all(int fd, const void *p, size_t n)
{
	return write(fd, p, n) == (ssize_t)n;
}

static bool read_all(int fd, void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (uint8_t *)p + got, n - got);

		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

/* In a child: create the CA with a generated passphrase, then send only
 * the secrets' fingerprints back. */
static void make_ca_child(int out)
{
	struct bw_bytes pass = { 0 };
	struct memscan_needle n[CA_SECRETS];
	struct ca *ca = NULL;
	int ok;

	ok = ca_passphrase_generate(pass_path, &pass) == 0 &&
	     ca_generate("Acme Corp.", 1, 3650, &ca) == 0 &&
	     ca_save(ca, key_path, cert_path, &pass) == 0 &&
	     ca_secrets_needles(key_path, pass_path, n) == 0 &&
	     write_all(out, n, sizeof(n));
	_exit(ok ? 0 : 1);
}

static bool set_up(void)
{
	int fds[2], status;
	pid_t pid;
	EVP_PKEY *k;
	unsigned char *p = NULL;
	int n;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(key_path, sizeof(key_path), "%s/ca.key", dir);
	snprintf(cert_path, sizeof(cert_path), "%s/ca.crt", dir);
	snprintf(pass_path, sizeof(pass_path), "%s/passphrase", dir);
	CHECK(pipe(fds) == 0);
	if ((pid = fork()) == 0)
		make_ca_child(fds[1]);
	close(fds[1]);
	CHECK(read_all(fds[0], secrets, sizeof(secrets)));
	close(fds[0]);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
	/* A device key for the organisation's suite 1. */
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	n = i2d_PUBKEY(k, &p);
	CHECK(n > 0 && (size_t)n <= sizeof(spki));
	memcpy(spki, p, (size_t)n);
	spki_len = (size_t)n;
	OPENSSL_free(p);
	EVP_PKEY_free(k);
	return true;
}

static bool start(struct privsep **ps)
{
	int rc = privsep_start(key_path, cert_path, pass_path, ps);

	if (rc != 0)
		fprintf(stderr, "privsep_start: %s\n", ca_strerror(rc));
	CHECK_EQ_INT(rc, 0);
	CHECK(privsep_monitor_pid(*ps) > 0);
	return true;
}

static bool issue_ok(struct privsep *ps, const char *user, const char *dev)
{
	uint8_t *der, *ca_der;
	size_t len, ca_len;
	char u[CA_NAME_MAX + 1], d[CA_NAME_MAX + 1];

	CHECK(privsep_issue_device_cert(ps, user, dev, spki, spki_len, 365,
					&der, &len) == 0);
	CHECK(ca_cert_file_read(cert_path, &ca_der, &ca_len) == 0);
	CHECK(ca_verify_device_cert(ca_der, ca_len, der, len, 0, u, d) == 0);
	CHECK(strcmp(u, user) == 0 && strcmp(d, dev) == 0);
	free(ca_der);
	free(der);
	return true;
}

static bool alive(pid_t pid)
{
	return kill(pid, 0) == 0;
}

/* --- tests --- */

static bool test_issue_through_monitor(void)
{
	struct privsep *ps;
	uint8_t *der, *file_der, p256[128];
	unsigned char *p = NULL;
	size_t len, file_len;
	EVP_PKEY *k;
	int n;

	CHECK(start(&ps));
	CHECK(privsep_get_ca_cert(ps, &der, &len) == 0);
	CHECK(ca_cert_file_read(cert_path, &file_der, &file_len) == 0);
	CHECK_MEM(der, len, file_der, file_len);
	free(der);
	free(file_der);
	CHECK(issue_ok(ps, "alice", "phone-1"));
	/* The CA's checks hold through the monitor, with their own codes. */
	CHECK_EQ_INT(privsep_issue_device_cert(ps, "Alice", "x", spki, spki_len,
					       30, &der, &len),
		     CA_ERR_USER_NAME);
	CHECK_EQ_INT(privsep_issue_device_cert(ps, "alice", "a/b", spki,
					       spki_len, 30, &der, &len),
		     CA_ERR_DEVICE_ID);
	CHECK_EQ_INT(privsep_issue_device_cert(ps, "alice", "x", spki, spki_len,
					       0, &der, &len),
		     CA_ERR_VALIDITY);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	n = i2d_PUBKEY(k, &p);
	memcpy(p256, p, (size_t)n);
	OPENSSL_free(p);
	EVP_PKEY_free(k);
	CHECK_EQ_INT(privsep_issue_device_cert(ps, "alice", "x", p256,
					       (size_t)n, 30, &der, &len),
		     CA_ERR_KEY_TYPE);
	CHECK(der == NULL && len == 0);
	CHECK(issue_ok(ps, "bob", "laptop"));
	privsep_stop(ps);
	return true;
}

/* Send raw bytes; the reply must decode, with the given type and error. */
static bool raw_case(struct privsep *ps, const uint8_t *msg, size_t len,
		     uint8_t want_type, int want_err)
{
	uint8_t reply[PRIVSEP_REPLY_MAX];
	struct privsep_reply rep;
	size_t reply_len;

	CHECK(privsep_call(ps, msg, len, reply, sizeof(reply), &reply_len) ==
	      0);
	CHECK(privsep_reply_decode(reply, reply_len, &rep) == 0);
	CHECK_EQ_INT(rep.type, want_type);
	CHECK_EQ_INT(rep.err, want_err);
	return true;
}

/* An ISSUE_DEVICE_CERT request with the given user field bytes. */
static size_t issue_msg(uint8_t *buf, size_t cap, const void *user,
			size_t user_len)
{
	struct bw_writer w;
	struct privsep_request req = {
		.type = PRIVSEP_REQ_ISSUE_DEVICE_CERT,
		.user = user, .user_len = user_len,
		.device_id = (const uint8_t *)"dev", .device_id_len = 3,
		.spki = spki, .spki_len = spki_len,
		.validity_days = 30,
	};

	bw_writer_init_fixed(&w, buf, cap);
	return privsep_request_encode(&w, &req) == 0 ? w.len : 0;
}

static bool test_hostile_requests(void)
{
	static uint8_t big[PRIVSEP_REQUEST_MAX + 100];
	uint8_t msg[PRIVSEP_REQUEST_MAX];
	char long_name[CA_NAME_MAX + 1];
	struct privsep *ps;
	size_t n;
	pid_t pid;

	CHECK(start(&ps));
	pid = privsep_monitor_pid(ps);
	CHECK(raw_case(ps, (const uint8_t *)"", 0, PRIVSEP_READY,
		       BW_ERR_TRUNCATED));
	CHECK(raw_case(ps, (const uint8_t *)"\x7f", 1, PRIVSEP_READY,
		       PRIVSEP_ERR_UNKNOWN_REQUEST));
	CHECK(raw_case(ps, (const uint8_t *)"\x00", 1, PRIVSEP_READY,
		       PRIVSEP_ERR_UNKNOWN_REQUEST));
	CHECK(raw_case(ps, (const uint8_t *)"\x01\x00", 2,
		       PRIVSEP_REQ_GET_CA_CERT, BW_ERR_TRAILING));
	n = issue_msg(msg, sizeof(msg), "alice", 5);
	CHECK(raw_case(ps, msg, n - 1, PRIVSEP_REQ_ISSUE_DEVICE_CERT,
		       BW_ERR_TRUNCATED));
	msg[n] = 0;
	CHECK(raw_case(ps, msg, n + 1, PRIVSEP_REQ_ISSUE_DEVICE_CERT,
		       BW_ERR_TRAILING));
	/* Not minimally encoded length of the user name (RFC 9420 §2.1.2). */
	CHECK(raw_case(ps, (const uint8_t *)"\x02\x40\x01x", 4,
		       PRIVSEP_REQ_ISSUE_DEVICE_CERT,
		       BW_ERR_VARINT_NONMINIMAL));
	memset(long_name, 'a', sizeof(long_name));
	n = issue_msg(msg, sizeof(msg), long_name, sizeof(long_name));
	CHECK(raw_case(ps, msg, n, PRIVSEP_REQ_ISSUE_DEVICE_CERT,
		       BW_ERR_TOO_LONG));
	n = issue_msg(msg, sizeof(msg), "al\0ce", 5);
	CHECK(raw_case(ps, msg, n, PRIVSEP_REQ_ISSUE_DEVICE_CERT,
		       CA_ERR_USER_NAME));
	memset(big, 0, sizeof(big));
	big[0] = PRIVSEP_REQ_ISSUE_DEVICE_CERT;
	CHECK(raw_case(ps, big, sizeof(big), PRIVSEP_REQ_ISSUE_DEVICE_CERT,
		       PRIVSEP_ERR_TOO_LONG));
	/* Random messages: each gets a well-formed reply. */
	for (int i = 0; i < 300; i++) {
		uint8_t reply[PRIVSEP_REPLY_MAX];
		struct privsep_reply rep;
		size_t reply_len;
		uint16_t len;

		CHECK(RAND_bytes((uint8_t *)&len, sizeof(len)) == 1);
		len %= sizeof(msg);
		CHECK(RAND_bytes(msg, sizeof(msg)) == 1);
		msg[0] %= 4; /* mostly known types, so bodies get parsed */
		CHECK(privsep_call(ps, msg, len, reply, sizeof(reply),
				   &reply_len) == 0);
		CHECK(privsep_reply_decode(reply, reply_len, &rep) == 0);
		CHECK(rep.err != 0 || msg[0] == PRIVSEP_REQ_GET_CA_CERT);
	}
	/* Still the same monitor, still serving. */
	CHECK_EQ_INT(privsep_monitor_pid(ps), pid);
	CHECK(alive(pid));
	CHECK(issue_ok(ps, "alice", "after-the-storm"));
	privsep_stop(ps);
	return true;
}

struct worker {
	struct privsep *ps;
	int index;
	bool ok;
};

static void *issue_worker(void *arg)
{
	struct worker *w = arg;
	char dev[32];

	w->ok = true;
	for (int i = 0; i < 5 && w->ok; i++) {
		snprintf(dev, sizeof(dev), "dev-%d-%d", w->index, i);
		w->ok = issue_ok(w->ps, "carol", dev);
	}
	return NULL;
}

static bool test_concurrent_callers(void)
{
	struct worker workers[4];
	pthread_t threads[4];
	struct privsep *ps;

	CHECK(start(&ps));
	for (int i = 0; i < 4; i++) {
		workers[i] = (struct worker){ .ps = ps, .index = i };
		CHECK(pthread_create(&threads[i], NULL, issue_worker,
				     &workers[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
		CHECK(workers[i].ok);
	}
	privsep_stop(ps);
	return true;
}

/* The value of "Key:" in /proc/PID/status, or -1. */
static long status_field(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			v = strtol(line + klen + 1, NULL, 10);
	fclose(f);
	return v;
}

/* The soft limit named `name` in /proc/PID/limits, or -1. */
static long limit_of(pid_t pid, const char *name)
{
	char path[64], line[256];
	size_t nlen = strlen(name);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, nlen) == 0)
			v = strtol(line + 26, NULL, 10);
	fclose(f);
	return v;
}

/* Descriptors of PID: count, and whether 3 is a socket. */
static bool monitor_fds(pid_t pid, int *count, bool *three_is_socket)
{
	char path[64], target[128];
	struct dirent *e;
	DIR *d;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return false;
	*count = 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			(*count)++;
	closedir(d);
	snprintf(path, sizeof(path), "/proc/%d/fd/3", (int)pid);
	n = readlink(path, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	*three_is_socket = strncmp(target, "socket:", 7) == 0;
	return true;
}

static bool test_monitor_confined(void)
{
	struct privsep *ps;
	pid_t pid;
	int fds;
	bool sock;

	CHECK(start(&ps));
	pid = privsep_monitor_pid(ps);
	CHECK_EQ_INT(status_field(pid, "NoNewPrivs"), 1);
	CHECK_EQ_INT(limit_of(pid, "Max file size"), 0);
	CHECK_EQ_INT(limit_of(pid, "Max core file size"), 0);
#ifdef PRIVSEP_SANITIZER_RUNTIME
	CHECK_EQ_INT(status_field(pid, "Seccomp"), 0);
#else
	CHECK_EQ_INT(status_field(pid, "Seccomp"), 2); /* filter mode */
	CHECK_EQ_INT(limit_of(pid, "Max processes"), 0);
#endif
	/* Only stdin/stdout (/dev/null), stderr and the socket, when this
	 * process may look (it may not without CAP_SYS_PTRACE: the monitor
	 * is not dumpable). */
	if (monitor_fds(pid, &fds, &sock)) {
		CHECK_EQ_INT(fds, 4);
		CHECK(sock);
	} else {
		printf("     (descriptors of the monitor not readable: not "
		       "dumpable, no CAP_SYS_PTRACE)\n");
	}
	/* Serving still works under the filter. */
	CHECK(issue_ok(ps, "dave", "tablet"));
	privsep_stop(ps);
	CHECK(!alive(pid));
	return true;
}

static bool test_start_failures(void)
{
	struct privsep *ps = NULL;
	char wrong[160], monitor[4096];
	FILE *f;

	snprintf(wrong, sizeof(wrong), "%s/wrong-pass", dir);
	CHECK((f = fopen(wrong, "w")) != NULL);
	fputs("not the passphrase\n", f);
	fclose(f);
	CHECK(chmod(wrong, 0600) == 0);
	CHECK_EQ_INT(privsep_start(key_path, cert_path, wrong, &ps),
		     CA_ERR_PASSPHRASE);
	CHECK_EQ_INT(privsep_start(key_path, wrong, pass_path, &ps),
		     CA_ERR_CERT_PARSE);
	CHECK(ps == NULL);
	/* Reaped: no child of ours is left, not even a zombie. */
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);

	snprintf(monitor, sizeof(monitor), "%s", getenv(PRIVSEP_MONITOR_ENV));
	setenv(PRIVSEP_MONITOR_ENV, "/nonexistent/bulwark-ca-monitor", 1);
	CHECK_EQ_INT(privsep_start(key_path, cert_path, pass_path, &ps),
		     PRIVSEP_ERR_NO_MONITOR);
	setenv(PRIVSEP_MONITOR_ENV, "relative/bulwark-ca-monitor", 1);
	CHECK_EQ_INT(privsep_start(key_path, cert_path, pass_path, &ps),
		     PRIVSEP_ERR_NO_MONITOR);
	setenv(PRIVSEP_MONITOR_ENV, monitor, 1);
	privsep_stop(NULL);
	CHECK_EQ_INT(privsep_monitor_pid(NULL), -1);
	return true;
}

/* Wait up to five seconds for a child to exit; its status or -1. */
static int wait_exit(pid_t pid)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int status;

	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		nanosleep(&tick, NULL);
	}
	return -1;
}

static bool test_monitor_exits_with_parent(void)
{
	int fds[2], status;
	pid_t parent, monitor;

	/* Orphans are re-parented to us, so we can reap the monitor. */
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
	CHECK(pipe(fds) == 0);
	if ((parent = fork()) == 0) {
		struct privsep *ps;

		close(fds[0]);
		if (privsep_start(key_path, cert_path, pass_path, &ps) != 0)
			_exit(1);
		monitor = privsep_monitor_pid(ps);
		write_all(fds[1], &monitor, sizeof(monitor));
		_exit(issue_ok(ps, "erin", "phone") ? 0 : 1); /* no stop */
	}
	close(fds[1]);
	CHECK(read_all(fds[0], &monitor, sizeof(monitor)));
	close(fds[0]);
	status = wait_exit(parent);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The parent's death closed the socket: the monitor ends cleanly. */
	status = wait_exit(monitor);
	CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return true;
}

static void print_scan(const char *who, const struct memscan_result *res)
{
	printf("     %s: %zu regions, %.1f MiB:", who, res->regions,
	       (double)res->bytes / (1024.0 * 1024.0));
	for (int k = 0; k < CA_SECRETS; k++)
		printf(" %s %zu", secrets[k].label, res->hits[k]);
	printf("\n");
}

static size_t key_hits(const struct memscan_result *res)
{
	return res->hits[CA_SECRET_KEY_BE] + res->hits[CA_SECRET_KEY_LE];
}

/* Positive control on a stand-in that holds what the monitor holds plus
 * the passphrase: the scan finds both, so a miss elsewhere means absence. */
static bool control_stand_in(void)
{
	struct memscan_result res;
	int fds[2];
	pid_t pid;
	char c;

	CHECK(pipe(fds) == 0);
	if ((pid = fork()) == 0) {
		struct bw_bytes pass = { 0 };
		struct ca *ca;

		if (ca_passphrase_read(pass_path, &pass) != 0 ||
		    ca_load(key_path, cert_path, pass_path, &ca) != 0)
			_exit(1);
		write_all(fds[1], "r", 1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	CHECK(read_all(fds[0], &c, 1));
	close(fds[0]);
	CHECK(memscan_pid(pid, secrets, CA_SECRETS, &res) == 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	print_scan("stand-in holding key and passphrase", &res);
	CHECK(key_hits(&res) > 0);
	CHECK(res.hits[CA_SECRET_PASSPHRASE] > 0);
	return true;
}

static bool test_key_isolation(void)
{
	struct memscan_result res;
	struct privsep *ps;
	pid_t monitor;

	CHECK(start(&ps));
	CHECK(issue_ok(ps, "frank", "desktop"));
	monitor = privsep_monitor_pid(ps);

	/* The parent: neither secret, anywhere in its readable memory. */
	CHECK(memscan_pid(getpid(), secrets, CA_SECRETS, &res) == 0);
	print_scan("parent (network side)", &res);
	CHECK(res.regions > 0 && res.bytes > 1024 * 1024);
	CHECK_EQ_INT(key_hits(&res), 0);
	CHECK_EQ_INT(res.hits[CA_SECRET_PASSPHRASE], 0);

	CHECK(control_stand_in());
	/* The monitor itself, when we may read it (root: CAP_SYS_PTRACE
	 * overrides PR_SET_DUMPABLE 0): the key is there, the passphrase
	 * has been wiped. */
	if (memscan_pid(monitor, secrets, CA_SECRETS, &res) == 0) {
		print_scan("monitor", &res);
		CHECK(key_hits(&res) > 0);
		CHECK_EQ_INT(res.hits[CA_SECRET_PASSPHRASE], 0);
	} else {
		printf("     (monitor memory not readable without "
		       "CAP_SYS_PTRACE: control done on the stand-in)\n");
	}
	privsep_stop(ps);
	return true;
}

static void remove_dir(void)
{
	const char *names[] = { "ca.key", "ca.crt", "passphrase",
				"wrong-pass" };
	char path[160];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	int failed = 0;

	setenv(PRIVSEP_MONITOR_ENV, BW_CA_MONITOR_PATH, 1);
	if (!set_up()) {
		remove_dir();
		return 1;
	}
	RUN(test_issue_through_monitor, &failed);
	RUN(test_hostile_requests, &failed);
	RUN(test_concurrent_callers, &failed);
	RUN(test_monitor_confined, &failed);
	RUN(test_start_failures, &failed);
	RUN(test_monitor_exits_with_parent, &failed);
	RUN(test_key_isolation, &failed);
	remove_dir();
	return failed == 0 ? 0 : 1;
}

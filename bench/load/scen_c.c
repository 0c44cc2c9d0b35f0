/* scen_c.c - C: as many logged-in idle devices as asked.
 *
 * The logins come from two processes, one per core, so that the figure is
 * the server's rather than one generator thread's: this one logs in the
 * first part of the devices, a helper forked here the rest, each with its
 * share of the logins in flight. The helper says when its logins are
 * done, keeps its connections until asked, then answers how many are
 * still up, logs them out and exits. Its CPU and memory count as the
 * generator's (stats.c). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conn.h"
#include "loop.h"
#include "scen.h"
#include "stats.h"

/* What the helper tells: logged in (or still up) and failed. */
struct helper_report {
	uint32_t ready, failed;
};

static int helper_sock = -1;

/* A device that is logged in keeps only what an idle one needs. */
static void on_ready(struct lg *g, struct dev *d)
{
	(void)g;
	conn_trim(&d->conn);
}

/* Idle devices have nothing delivered (the layout's first devices have
 * no backlog) and ask nothing. */
static const struct lg_hooks idle_hooks = {
	.ready = on_ready,
};

static bool helper_spoke(struct lg *g)
{
	struct pollfd p = { .fd = helper_sock, .events = POLLIN };

	(void)g;
	return poll(&p, 1, 0) > 0;
}

static void send_report(int sock, const struct helper_report *r)
{
	if (write(sock, r, sizeof(*r)) != (ssize_t)sizeof(*r))
		_exit(1);
}

static void read_report(int sock, struct helper_report *r)
{
	ssize_t k;

	do {
		k = read(sock, r, sizeof(*r));
	} while (k < 0 && errno == EINTR);
	if (k != (ssize_t)sizeof(*r))
		lg_die("C: the helper process stopped");
}

static uint32_t count_ready(const struct lg *g, uint32_t first, uint32_t n)
{
	uint32_t k = 0;

	for (uint32_t i = first; i < first + n; i++)
		k += g->devs[i].conn.state == LC_READY;
	return k;
}

/* The helper's life: its own event loop over devices [first, first+n). */
static void __attribute__((noreturn))
helper_main(struct lg *g, int sock, uint32_t first, uint32_t n)
{
	struct helper_report r;
	char ask;

	close(g->ep);
	if ((g->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		_exit(1);
	g->mask_off = sizeof(g->mask_pool); /* masks of its own */
	helper_sock = sock;
	r.ready = scen_login(g, first, n);
	r.failed = g->n_failed;
	send_report(sock, &r);
	loop_run(g, helper_spoke, 24 * 3600.0);
	if (read(sock, &ask, 1) != 1)
		_exit(1);
	r.ready = count_ready(g, first, n);
	send_report(sock, &r);
	scen_logout(g, first, n);
	_exit(0);
}

/* Fork the helper for devices [first, first+n) with conc logins in
 * flight; returns its socket. */
static int helper_start(struct lg *g, uint32_t first, uint32_t n,
			uint32_t conc)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		lg_die("C: socketpair: %s", strerror(errno));
	fflush(NULL);
	if ((pid = fork()) < 0)
		lg_die("C: fork: %s", strerror(errno));
	if (pid == 0) {
		close(sv[0]);
		g->cfg.conc = conc;
		helper_main(g, sv[1], first, n);
	}
	close(sv[1]);
	g->helper_pid = pid;
	return sv[0];
}

/* The growth from before to after, per connection (-1 if unknown). */
static double per_conn(long before, long after, uint32_t alive)
{
	if (alive == 0 || before < 0 || after < 0)
		return -1;
	return (double)(after - before) / alive;
}

int scen_idle(struct lg *g)
{
	uint32_t n = g->cfg.idle_n, ready, alive = 0;
	/* this process's devices and logins in flight; the helper's: the rest */
	uint32_t mine = n >= 2 && g->cfg.conc >= 2 ? n - n / 2 : n;
	uint32_t total_conc = g->cfg.conc;
	uint32_t conc = total_conc - (mine < n ? total_conc / 2 : 0);
	struct helper_report r = { 0, 0 };
	char ask = 'q';
	int status;
	struct mem_snap m0, m1;
	long gen0, gen1;
	struct cpu_snap a, b, c;
	struct cpu_use login, idle;
	double connect_s, kb, anon_kb, file_kb, gen_kb;
	uint64_t t0;

	g->hooks = &idle_hooks;
	m0 = stats_server_mem(g);
	gen0 = stats_gen_rss_kb(g);
	a = stats_snap(g);
	t0 = lg_now_ns();
	if (mine < n)
		helper_sock = helper_start(g, mine, n - mine, g->cfg.conc - conc);
	g->cfg.conc = conc;
	ready = scen_login(g, 0, mine);
	if (mine < n) {
		loop_run(g, helper_spoke, 600);
		read_report(helper_sock, &r);
		ready += r.ready;
		g->n_failed += r.failed;
	}
	connect_s = (double)(lg_now_ns() - t0) / 1e9;
	g->cfg.conc = total_conc;
	b = stats_snap(g);
	login = stats_cpu(&a, &b);
	lg_log(g, "C: %u/%u logged in in %.2f s (%.0f/s, failed %u), settling "
		  "%.0f s",
	       ready, n, connect_s, ready / connect_s, g->n_failed,
	       g->cfg.settle);
	loop_run(g, NULL, g->cfg.settle);
	c = stats_snap(g);
	idle = stats_cpu(&b, &c);
	m1 = stats_server_mem(g);
	gen1 = stats_gen_rss_kb(g);
	alive = count_ready(g, 0, mine);
	if (mine < n) {
		if (write(helper_sock, &ask, 1) != 1)
			lg_die("C: the helper process stopped");
		read_report(helper_sock, &r);
		alive += r.ready;
	}
	kb = per_conn(m0.rss_kb, m1.rss_kb, alive);
	anon_kb = per_conn(m0.anon_kb, m1.anon_kb, alive);
	file_kb = per_conn(m0.file_kb, m1.file_kb, alive);
	gen_kb = alive > 0 ? (double)(gen1 - gen0) / alive : -1;
	lg_log(g, "C: server RSS %ld -> %ld kB, %.2f kB per connection over %u "
		  "(anonymous %.2f, file-backed %.2f); generator %.2f kB per "
		  "connection",
	       m0.rss_kb, m1.rss_kb, kb, alive, anon_kb, file_kb, gen_kb);
	lg_json_begin(g);
	fprintf(g->json,
		"  \"target_conns\": %u, \"established\": %u, "
		"\"alive_after_settle\": %u, \"connect_s\": %.3f, "
		"\"logins_per_s\": %.1f, \"settle_s\": %.1f,\n",
		n, ready, alive, connect_s,
		connect_s > 0 ? ready / connect_s : -1,
		g->cfg.settle);
	fprintf(g->json,
		"  \"rss_before_kb\": %ld, \"rss_after_kb\": %ld, "
		"\"kb_per_conn\": %.2f, \"gen_kb_per_conn\": %.2f,\n",
		m0.rss_kb, m1.rss_kb, kb, gen_kb);
	fprintf(g->json,
		"  \"anon_before_kb\": %ld, \"anon_after_kb\": %ld, "
		"\"anon_kb_per_conn\": %.2f, \"file_before_kb\": %ld, "
		"\"file_after_kb\": %ld, \"file_kb_per_conn\": %.2f,\n",
		m0.anon_kb, m1.anon_kb, anon_kb, m0.file_kb, m1.file_kb,
		file_kb);
	fprintf(g->json, "  \"gen_processes\": %d,\n", mine < n ? 2 : 1);
	lg_json_cpu(g, "login_", &login);
	lg_json_cpu(g, "idle_", &idle);
	scen_logout(g, 0, mine);
	if (mine < n) {
		waitpid(g->helper_pid, &status, 0);
		close(helper_sock);
		helper_sock = -1;
		g->helper_pid = 0;
	}
	lg_json_end(g, alive > 0, alive > 0 ? NULL : "no device logged in");
	return alive > 0 ? 0 : 1;
}

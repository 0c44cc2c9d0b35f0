/* scen_c.c - C: as many logged-in idle devices as asked. */
#include "conn.h"
#include "loop.h"
#include "scen.h"
#include "stats.h"

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
	struct mem_snap m0, m1;
	long gen0, gen1;
	struct cpu_snap a, b, c;
	struct cpu_use login, idle;
	double connect_s, kb, anon_kb, file_kb, gen_kb;
	uint64_t t0;

	g->hooks = &idle_hooks;
	m0 = stats_server_mem(g);
	gen0 = stats_self_rss_kb();
	a = stats_snap(g);
	t0 = lg_now_ns();
	ready = scen_login(g, 0, n);
	connect_s = (double)(lg_now_ns() - t0) / 1e9;
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
	gen1 = stats_self_rss_kb();
	for (uint32_t i = 0; i < n; i++)
		alive += g->devs[i].conn.state == LC_READY;
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
	lg_json_cpu(g, "login_", &login);
	lg_json_cpu(g, "idle_", &idle);
	scen_logout(g, 0, n);
	lg_json_end(g, alive > 0, alive > 0 ? NULL : "no device logged in");
	return alive > 0 ? 0 : 1;
}

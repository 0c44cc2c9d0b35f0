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

int scen_idle(struct lg *g)
{
	uint32_t n = g->cfg.idle_n, ready, alive = 0;
	long rss0, rss1, gen0, gen1;
	struct cpu_snap a, b, c;
	struct cpu_use login, idle;
	double connect_s, kb, gen_kb;
	uint64_t t0;

	g->hooks = &idle_hooks;
	rss0 = stats_server_rss_kb(g);
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
	rss1 = stats_server_rss_kb(g);
	gen1 = stats_self_rss_kb();
	for (uint32_t i = 0; i < n; i++)
		alive += g->devs[i].conn.state == LC_READY;
	kb = alive > 0 ? (double)(rss1 - rss0) / alive : -1;
	gen_kb = alive > 0 ? (double)(gen1 - gen0) / alive : -1;
	lg_log(g, "C: server RSS %ld -> %ld kB, %.2f kB per connection over %u; "
		  "generator %.2f kB per connection",
	       rss0, rss1, kb, alive, gen_kb);
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
		rss0, rss1, kb, gen_kb);
	lg_json_cpu(g, "login_", &login);
	lg_json_cpu(g, "idle_", &idle);
	scen_logout(g, 0, n);
	lg_json_end(g, alive > 0, alive > 0 ? NULL : "no device logged in");
	return alive > 0 ? 0 : 1;
}

/* scen_d.c - D: fan-out in one large group. */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "convs.h"
#include "loop.h"
#include "scen.h"
#include "stats.h"
#include "traffic.h"

#define PROBE_TIMEOUT_S 30.0

static struct {
	struct conv *c;
	uint32_t completed;
	/* per message: from its send to its last member, microseconds */
	uint32_t *to_last_us;
	size_t n_last, cap_last;
	bool sending;
	uint64_t rate_t0, rate_sent;
} D;

static void on_complete(struct lg *g, uint32_t gid, struct msgrec *r)
{
	uint64_t us = (g->st.last_ns - r->t_sent) / 1000u;

	(void)gid;
	D.completed++;
	if (D.n_last == D.cap_last) {
		D.cap_last = D.cap_last ? 2 * D.cap_last : 256;
		D.to_last_us = lg_xrealloc(D.to_last_us, D.cap_last,
					   sizeof(*D.to_last_us));
	}
	D.to_last_us[D.n_last++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static const struct traffic_hooks d_hooks = {
	.complete = on_complete,
};

static uint32_t probe_target;

static bool probe_done(struct lg *g)
{
	(void)g;
	return D.completed >= probe_target;
}

static struct member *random_sender(void)
{
	struct member *m;

	do
		m = &D.c->m[scen_random() % D.c->n];
	while (m->dev->conn.state != LC_READY);
	return m;
}

static void rate_tick(struct lg *g)
{
	uint64_t due;

	if (!D.sending)
		return;
	due = (uint64_t)((double)(lg_now_ns() - D.rate_t0) / 1e9 * g->cfg.rate);
	for (; D.rate_sent < due; D.rate_sent++)
		traffic_send(g, random_sender());
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double last_pct(size_t from, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return -1;
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return D.to_last_us[from + (i < n ? i : n - 1)] / 1000.0;
}

/* Single messages, one at a time: send to the last member's delivery. */
static size_t probes(struct lg *g)
{
	for (uint32_t p = 0; p < g->cfg.d_probes; p++) {
		probe_target = D.completed + 1;
		traffic_send(g, &D.c->m[p % D.c->n]);
		if (!loop_run(g, probe_done, PROBE_TIMEOUT_S))
			lg_log(g, "D: probe %u did not reach every member", p);
		loop_run(g, NULL, 0.5);
	}
	qsort(D.to_last_us, D.n_last, sizeof(*D.to_last_us), cmp_u32);
	return D.n_last;
}

int scen_fanout(struct lg *g, const struct lg_mls *m)
{
	const struct lg_layout *l = &g->cfg.layout;
	uint32_t first, n, ready;
	size_t n_probes;
	struct cpu_snap a, b;
	struct cpu_use u;
	struct traffic_verdict v;

	memset(&D, 0, sizeof(D));
	convs_block(g, BLOCK_D, &first, &n);
	if (n != 1)
		lg_die("D: no group in this layout");
	D.c = &g->convs[first];
	traffic_start(g, m, &d_hooks);
	ready = scen_login(g, l->d_base, l->d_members);
	lg_log(g, "D: %u/%u members logged in", ready, l->d_members);
	if (ready < l->d_members)
		lg_die("D: every member must be logged in");
	loop_run(g, NULL, 1.0);
	n_probes = probes(g);
	lg_log(g, "D: send -> last of %u members: median %.2f ms, max %.2f ms",
	       D.c->n - 1, last_pct(0, n_probes, 50),
	       last_pct(0, n_probes, 100));
	/* then cfg.rate messages/s from random members */
	stats_reset(g);
	g->measuring = true;
	g->win_start = lg_now_ns();
	g->win_end = g->win_start + (uint64_t)(g->cfg.duration * 1e9);
	D.sending = true;
	D.rate_t0 = g->win_start;
	g->tick = rate_tick;
	a = stats_snap(g);
	loop_run(g, NULL, g->cfg.duration);
	b = stats_snap(g);
	u = stats_cpu(&a, &b);
	D.sending = false;
	g->tick = NULL;
	probe_target = g->n_msgs; /* every message, to every member */
	loop_run(g, probe_done, g->cfg.drain);
	g->measuring = false;
	stats_sort(g);
	qsort(D.to_last_us + n_probes, D.n_last - n_probes,
	      sizeof(*D.to_last_us), cmp_u32);
	traffic_verdict(g, 0, &v);
	lg_log(g, "D: %.0f msgs/s into the group: delivery p50 %.2f p99 %.2f "
		  "ms, to the last member p99 %.2f ms",
	       g->cfg.rate, stats_pct(g, 50), stats_pct(g, 99),
	       last_pct(n_probes, D.n_last - n_probes, 99));
	lg_json_begin(g);
	fprintf(g->json,
		"  \"members\": %u, \"members_ready\": %u, \"probes\": %zu, "
		"\"to_last_ms\": {\"min\": %.3f, \"p50\": %.3f, \"max\": %.3f},\n",
		D.c->n, ready, n_probes, last_pct(0, n_probes, 0),
		last_pct(0, n_probes, 50), last_pct(0, n_probes, 100));
	fprintf(g->json,
		"  \"rate\": %.1f, \"duration_s\": %.1f, \"rate_msgs\": %zu, "
		"\"rate_to_last_ms\": {\"p50\": %.3f, \"p99\": %.3f, "
		"\"max\": %.3f},\n",
		g->cfg.rate, g->cfg.duration, D.n_last - n_probes,
		last_pct(n_probes, D.n_last - n_probes, 50),
		last_pct(n_probes, D.n_last - n_probes, 99),
		last_pct(n_probes, D.n_last - n_probes, 100));
	lg_json_latency(g, "rate_delivery_latency_ms");
	lg_json_counts(g);
	lg_json_cpu(g, "rate_", &u);
	fprintf(g->json, "  \"incomplete\": %llu,\n",
		(unsigned long long)v.incomplete);
	scen_logout(g, l->d_base, l->d_members);
	lg_json_end(g, v.incomplete == 0,
		    v.incomplete ? "messages lost" : NULL);
	free(D.to_last_us);
	return v.incomplete == 0 ? 0 : 1;
}

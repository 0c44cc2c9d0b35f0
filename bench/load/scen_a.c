/* scen_a.c - A and A': throughput over random 1:1 conversations. */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "loop.h"
#include "scen.h"
#include "stats.h"
#include "traffic.h"

/* Open loop: messages a device may have outstanding before it is skipped
 * (as the peers' generator). */
#define OPEN_LOOP_MAX_INFLIGHT 1000u

static struct {
	uint32_t clients;
	uint32_t *n_convs;     /* per device: its conversations taking part */
	bool sending;
	uint64_t rate_t0, rate_sent;
	uint32_t rr;           /* open loop: the next device to send */
} A;

static void send_random(struct lg *g, struct dev *d)
{
	uint32_t n = A.n_convs[d->idx];

	if (n == 0 || d->conn.state != LC_READY)
		return;
	traffic_send(g, d->mem[scen_random() % n]);
}

static void fill_window(struct lg *g, struct dev *d)
{
	while (A.sending && g->cfg.rate <= 0 && d->inflight < g->cfg.window &&
	       d->conn.state == LC_READY)
		send_random(g, d);
}

static void done_with(struct lg *g, struct msgrec *r)
{
	struct dev *d = &g->devs[r->from];

	d->inflight--;
	fill_window(g, d);
}

static void on_complete(struct lg *g, uint32_t gid, struct msgrec *r)
{
	(void)gid;
	done_with(g, r);
}

static void on_refused(struct lg *g, uint32_t gid, struct msgrec *r)
{
	(void)gid;
	done_with(g, r);
}

static const struct traffic_hooks a_hooks = {
	.complete = on_complete,
	.refused = on_refused,
};

/* A': cfg.rate messages/s over the devices, round robin. */
static void rate_tick(struct lg *g)
{
	uint64_t due;
	uint32_t guard = 0;

	if (!A.sending)
		return;
	due = (uint64_t)((double)(lg_now_ns() - A.rate_t0) / 1e9 * g->cfg.rate);
	while (A.rate_sent < due && guard < 4 * A.clients) {
		struct dev *d = &g->devs[A.rr++ % A.clients];

		guard++;
		if (d->conn.state != LC_READY ||
		    d->inflight >= OPEN_LOOP_MAX_INFLIGHT)
			continue;
		send_random(g, d);
		A.rate_sent++;
		guard = 0;
	}
}

static bool drained(struct lg *g)
{
	for (uint32_t i = 0; i < A.clients; i++)
		if (g->devs[i].inflight > 0 &&
		    g->devs[i].conn.state == LC_READY)
			return false;
	return true;
}

/* One measured run: warm-up, window, drain; its JSON object. */
static void run_once(struct lg *g, uint32_t run, uint32_t first_msg)
{
	struct traffic_verdict v;
	struct cpu_snap a, b;
	struct cpu_use u;
	uint64_t t, sent0, td;
	double drain_s, rate, offered, per_msg;
	uint32_t alive = 0;

	stats_reset(g);
	g->measuring = true;
	t = lg_now_ns();
	g->win_start = t + (uint64_t)(g->cfg.warmup * 1e9);
	g->win_end = g->win_start + (uint64_t)(g->cfg.duration * 1e9);
	A.sending = true;
	if (g->cfg.rate > 0) {
		A.rate_t0 = t;
		A.rate_sent = 0;
		g->tick = rate_tick;
	} else {
		for (uint32_t i = 0; i < A.clients; i++)
			fill_window(g, &g->devs[i]);
	}
	loop_run(g, NULL, g->cfg.warmup);
	a = stats_snap(g);
	sent0 = g->st.sent;
	loop_run(g, NULL, g->cfg.duration);
	b = stats_snap(g);
	u = stats_cpu(&a, &b);
	sent0 = g->st.sent - sent0;
	A.sending = false;
	g->tick = NULL;
	td = lg_now_ns();
	loop_run(g, drained, g->cfg.drain);
	drain_s = (double)(lg_now_ns() - td) / 1e9;
	g->measuring = false;
	for (uint32_t i = 0; i < A.clients; i++)
		alive += g->devs[i].conn.state == LC_READY;
	traffic_verdict(g, first_msg, &v); /* this run's messages */
	stats_sort(g);
	/* per second of the window (none: a run of logins only) */
	rate = g->cfg.duration > 0 ? (double)g->st.win_count / g->cfg.duration
				   : 0;
	offered = g->cfg.duration > 0 ? (double)sent0 / g->cfg.duration : 0;
	/* CPU per delivered message, the server's next to the generator's:
	 * a generator dearer than the server would limit what A measures */
	per_msg = g->st.win_count > 0 ? 1e6 / (double)g->st.win_count : 0;
	lg_log(g,
	       "%s run %u: %.0f msgs/s delivered, p50 %.2f ms p99 %.2f ms "
	       "p99.9 %.2f ms, server cpu %.0f%% gen cpu %.0f%% (%.1f / %.1f "
	       "us per message), lost %llu dup %llu",
	       g->cfg.scenario, run, rate, stats_pct(g, 50),
	       stats_pct(g, 99), stats_pct(g, 99.9), u.server_pct, u.gen_pct,
	       u.server_s * per_msg, u.gen_s * per_msg,
	       (unsigned long long)v.incomplete,
	       (unsigned long long)g->st.dup);
	fprintf(g->json,
		"    {\"run\": %u, \"msgs_per_s\": %.1f, \"offered_per_s\": %.1f, "
		"\"delivered_in_window\": %llu, \"sent_in_window\": %llu,\n",
		run, rate, offered,
		(unsigned long long)g->st.win_count,
		(unsigned long long)sent0);
	lg_json_latency(g, "latency_ms");
	lg_json_counts(g);
	lg_json_cpu(g, "", &u);
	fprintf(g->json,
		"  \"server_cpu_us_per_msg\": %.2f, "
		"\"gen_cpu_us_per_msg\": %.2f,\n",
		u.server_s * per_msg, u.gen_s * per_msg);
	fprintf(g->json,
		"     \"lost_after_drain\": %llu, \"drain_s\": %.3f, "
		"\"clients_alive\": %u, \"server_rss_kb\": %ld}",
		(unsigned long long)v.incomplete, drain_s, alive,
		stats_server_rss_kb(g));
}

int scen_throughput(struct lg *g, const struct lg_mls *m)
{
	uint64_t t0 = lg_now_ns();
	uint32_t ready, first_msg;
	double connect_s;

	memset(&A, 0, sizeof(A));
	A.clients = g->cfg.clients;
	A.n_convs = lg_xcalloc(A.clients, sizeof(*A.n_convs));
	for (uint32_t i = 0; i < A.clients; i++)
		A.n_convs[i] = scen_a_members(g, &g->devs[i], A.clients);
	traffic_start(g, m, &a_hooks);
	ready = scen_login(g, 0, A.clients);
	connect_s = (double)(lg_now_ns() - t0) / 1e9;
	lg_log(g, "%s: %u/%u devices logged in in %.2f s", g->cfg.scenario,
	       ready, A.clients, connect_s);
	lg_json_begin(g);
	fprintf(g->json,
		"  \"clients\": %u, \"clients_ready\": %u, \"connect_s\": %.3f, "
		"\"loop\": \"%s\", \"window\": %u, \"rate_target\": %.1f, "
		"\"warmup_s\": %.1f, \"duration_s\": %.1f,\n  \"runs\": [\n",
		A.clients, ready, connect_s,
		g->cfg.rate > 0 ? "open" : "closed", g->cfg.window,
		g->cfg.rate, g->cfg.warmup, g->cfg.duration);
	if (ready < 2) {
		fprintf(g->json, "  ],\n");
		lg_json_end(g, false, "fewer than 2 devices logged in");
		free(A.n_convs);
		return 1;
	}
	loop_run(g, NULL, 0.5);
	for (uint32_t r = 1; r <= g->cfg.runs; r++) {
		first_msg = g->n_msgs;
		run_once(g, r, first_msg);
		fprintf(g->json, "%s\n", r < g->cfg.runs ? "," : "");
		loop_run(g, NULL, 1.0);
	}
	fprintf(g->json, "  ],\n");
	scen_logout(g, 0, A.clients);
	lg_json_end(g, true, NULL);
	free(A.n_convs);
	return 0;
}

/* ---- E: A's load while the server is killed and restarted ---- */

#define RECONNECT_MIN_NS 100000000ull /* then up to twice that, jittered */

static struct {
	uint32_t outages;     /* times every connection was lost at once */
	uint32_t reconnects;
	bool was_up;
} E;

static void on_ready_e(struct lg *g, struct dev *d)
{
	/* what the server never answered, with the same idempotency keys */
	traffic_resend(g, d);
	fill_window(g, d);
}

static void on_closed_e(struct lg *g, struct dev *d, bool failed)
{
	(void)g;
	(void)failed;
	if (!d->want_conn)
		return;
	d->reconnect_at = lg_now_ns() + RECONNECT_MIN_NS +
			  scen_random() % (2 * RECONNECT_MIN_NS);
}

static const struct traffic_hooks e_hooks = {
	.ready = on_ready_e,
	.closed = on_closed_e,
	.complete = on_complete,
	.refused = on_refused,
};

static void torture_tick(struct lg *g)
{
	uint64_t now = lg_now_ns();

	for (uint32_t i = 0; i < A.clients; i++) {
		struct dev *d = &g->devs[i];

		if (d->reconnect_at != 0 && d->reconnect_at <= now &&
		    d->conn.state == LC_DEAD) {
			d->reconnect_at = 0;
			E.reconnects++;
			loop_login(g, d);
		}
	}
	if (E.was_up && g->n_ready == 0)
		lg_log(g, "E: outage %u: no device connected", ++E.outages);
	else if (!E.was_up && g->n_ready > 0)
		lg_log(g, "E: a device is back");
	E.was_up = g->n_ready > 0;
}

/* Back, with its messages answered and delivered. */
static bool dev_settled(const struct dev *d)
{
	return d->conn.state == LC_READY && d->n_pend == 0 && d->inflight == 0;
}

/* Everyone settled, every acknowledgement answered. */
static bool settled_e(struct lg *g)
{
	for (uint32_t i = 0; i < A.clients; i++)
		if (!dev_settled(&g->devs[i]))
			return false;
	return g->ackq_n == 0 && g->acks_out == 0;
}

static void log_unsettled(struct lg *g)
{
	unsigned shown = 0;

	lg_log(g, "E: not settled: %u connections with acknowledgements to "
	       "send, %u QUEUE_ACKs unanswered", g->ackq_n, g->acks_out);
	for (uint32_t i = 0; i < A.clients && shown < 5; i++) {
		const struct dev *d = &g->devs[i];

		if (dev_settled(d))
			continue;
		lg_log(g, "  device %u: connection in state %d, %u messages "
		       "unanswered, %u not yet delivered", i, d->conn.state,
		       d->n_pend, d->inflight);
		shown++;
	}
}

int scen_torture(struct lg *g, const struct lg_mls *m)
{
	struct traffic_verdict v;
	uint32_t ready;
	bool ok, settled;
	double settle_s;
	uint64_t t;

	memset(&A, 0, sizeof(A));
	memset(&E, 0, sizeof(E));
	A.clients = g->cfg.clients;
	A.n_convs = lg_xcalloc(A.clients, sizeof(*A.n_convs));
	for (uint32_t i = 0; i < A.clients; i++)
		A.n_convs[i] = scen_a_members(g, &g->devs[i], A.clients);
	traffic_start(g, m, &e_hooks);
	ready = scen_login(g, 0, A.clients);
	lg_log(g, "E: %u/%u devices logged in; load for %.0f s", ready,
	       A.clients, g->cfg.duration);
	E.was_up = true;
	g->tick = torture_tick;
	A.sending = true;
	for (uint32_t i = 0; i < A.clients; i++)
		fill_window(g, &g->devs[i]);
	loop_run(g, NULL, g->cfg.duration);
	A.sending = false;
	t = lg_now_ns();
	settled = loop_run(g, settled_e, g->cfg.drain);
	settle_s = (double)(lg_now_ns() - t) / 1e9;
	g->tick = NULL;
	traffic_verdict(g, 0, &v);
	if (!settled)
		log_unsettled(g);
	traffic_log_lost(g, 0, 5);
	ok = settled && v.acked_lost == 0 && v.acked_dup == 0 &&
	     v.seq_mismatch == 0 && v.send_misordered == 0 &&
	     v.unacked_missing == 0 &&
	     g->st.dup == 0 && g->st.misordered == 0 && g->st.misrouted == 0 &&
	     g->st.malformed == 0 && g->st.stale == 0;
	lg_log(g,
	       "E: %llu messages, %llu acknowledged; lost %llu, duplicated "
	       "%llu, misordered %llu delivered / %llu accepted; %llu "
	       "redelivered before the dedup; %u outages, %u reconnections: "
	       "%s",
	       (unsigned long long)v.sent, (unsigned long long)v.acked,
	       (unsigned long long)v.acked_lost,
	       (unsigned long long)(v.acked_dup + g->st.dup),
	       (unsigned long long)g->st.misordered,
	       (unsigned long long)v.send_misordered,
	       (unsigned long long)g->st.redelivered, E.outages, E.reconnects,
	       ok ? "PASS" : "FAIL");
	lg_json_begin(g);
	fprintf(g->json,
		"  \"clients\": %u, \"clients_ready\": %u, \"duration_s\": %.1f, "
		"\"settled\": %s, \"settle_s\": %.3f,\n",
		A.clients, ready, g->cfg.duration, settled ? "true" : "false",
		settle_s);
	fprintf(g->json,
		"  \"messages\": %llu, \"acked\": %llu, \"acked_lost\": %llu, "
		"\"acked_duplicated\": %llu, \"seq_mismatch\": %llu, "
		"\"send_misordered\": %llu, "
		"\"unacked_delivered\": %llu, \"unacked_missing\": %llu, "
		"\"refused_msgs\": %llu,\n",
		(unsigned long long)v.sent, (unsigned long long)v.acked,
		(unsigned long long)v.acked_lost,
		(unsigned long long)v.acked_dup,
		(unsigned long long)v.seq_mismatch,
		(unsigned long long)v.send_misordered,
		(unsigned long long)v.unacked_delivered,
		(unsigned long long)v.unacked_missing,
		(unsigned long long)v.refused);
	fprintf(g->json, "  \"outages\": %u, \"reconnections\": %u,\n",
		E.outages, E.reconnects);
	lg_json_counts(g);
	scen_logout(g, 0, A.clients);
	lg_json_end(g, ok, ok ? NULL : "delivery guarantees broken");
	free(A.n_convs);
	return ok ? 0 : 1;
}

/* scen_b.c - B: store and forward to offline recipients, then the drain. */
#include <string.h>

#include "conn.h"
#include "convs.h"
#include "loop.h"
#include "scen.h"
#include "stats.h"
#include "traffic.h"

static struct {
	uint64_t answered; /* responses to the senders' messages */
	uint64_t expected;
} B;

static void on_answered(struct lg *g, uint32_t gid, struct msgrec *r)
{
	(void)g;
	(void)gid;
	(void)r;
	B.answered++;
}

static const struct traffic_hooks b_hooks = {
	.accepted = on_answered,
	.refused = on_answered,
};

static bool all_answered(struct lg *g)
{
	return B.answered >= g->st.sent;
}

static bool all_in(struct lg *g)
{
	return g->st.unique >= B.expected;
}

/* Every sender k sends per_sender messages, the m-th to recipient
 * (k + m) mod recipients (the peers' rule). */
static void send_all(struct lg *g)
{
	const struct lg_layout *l = &g->cfg.layout;
	uint32_t rbase = l->b_base + l->senders;

	for (uint32_t m = 0; m < l->per_sender; m++)
		for (uint32_t k = 0; k < l->senders; k++) {
			struct dev *s = &g->devs[l->b_base + k];
			struct conv *c = convs_pair(
				g, s->idx, rbase + (k + m) % l->recipients);

			if (c != NULL && s->conn.state == LC_READY)
				traffic_send(g, convs_member(c, s));
		}
}

/* Seconds from t0 until the last recipient finished each login step. */
struct login_steps {
	double tls, auth, synced;
};

static uint64_t later(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static struct login_steps last_steps(struct lg *g, uint32_t first,
				     uint32_t n, uint64_t t0)
{
	uint64_t tls = t0, auth = t0, ready = t0;

	for (uint32_t i = first; i < first + n; i++) {
		const struct lconn *c = &g->devs[i].conn;

		tls = later(tls, c->t_tls);
		auth = later(auth, c->t_auth);
		ready = later(ready, c->t_ready);
	}
	return (struct login_steps){ .tls = (double)(tls - t0) / 1e9,
				     .auth = (double)(auth - t0) / 1e9,
				     .synced = (double)(ready - t0) / 1e9 };
}

int scen_offline(struct lg *g, const struct lg_mls *m)
{
	const struct lg_layout *l = &g->cfg.layout;
	uint32_t rbase = l->b_base + l->senders, s_ready, r_ready;
	struct cpu_snap a, b, c, d;
	struct cpu_use store, drain;
	uint64_t t1, t2, early, stale0;
	double store_s, drain_s;
	struct login_steps login;
	long rss_before;
	bool barrier, all;

	memset(&B, 0, sizeof(B));
	traffic_start(g, m, &b_hooks);
	/* phase 0: the recipients empty their queues and leave */
	r_ready = scen_login(g, rbase, l->recipients);
	loop_run(g, NULL, 1.0);
	stale0 = g->st.redelivered + g->st.stale;
	scen_logout(g, rbase, l->recipients);
	lg_log(g, "B: %u/%u recipients primed", r_ready, l->recipients);
	/* phase 1: the senders send to them while they are away */
	s_ready = scen_login(g, l->b_base, l->senders);
	a = stats_snap(g);
	t1 = lg_now_ns();
	send_all(g);
	barrier = loop_run(g, all_answered, 120);
	store_s = (double)(lg_now_ns() - t1) / 1e9;
	b = stats_snap(g);
	store = stats_cpu(&a, &b);
	B.expected = g->st.sent - g->st.refused;
	lg_log(g, "B: %llu messages stored and answered in %.3f s",
	       (unsigned long long)g->st.sent, store_s);
	loop_run(g, NULL, 1.0);
	scen_logout(g, l->b_base, l->senders);
	loop_run(g, NULL, 1.0);
	early = g->st.unique;
	/* phase 2: the recipients come back */
	rss_before = stats_server_rss_kb(g);
	c = stats_snap(g);
	t2 = lg_now_ns();
	g->st.last_ns = 0;
	for (uint32_t i = rbase; i < rbase + l->recipients; i++) {
		g->devs[i].want_conn = true;
		loop_login(g, &g->devs[i]);
	}
	all = loop_run(g, all_in, 60);
	drain_s = (double)((g->st.last_ns ? g->st.last_ns : lg_now_ns()) - t2) /
		  1e9;
	d = stats_snap(g);
	drain = stats_cpu(&c, &d);
	login = last_steps(g, rbase, l->recipients, t2);
	loop_run(g, NULL, 2.0); /* late duplicates */
	lg_log(g,
	       "B: drained %llu/%llu in %.3f s (the last recipient's TLS "
	       "done after %.3f s, authenticated %.3f s, synced %.3f s), "
	       "lost %llu dup %llu, server cpu %.0f%%",
	       (unsigned long long)g->st.unique,
	       (unsigned long long)B.expected, drain_s, login.tls, login.auth,
	       login.synced,
	       (unsigned long long)(B.expected - g->st.unique),
	       (unsigned long long)g->st.dup, drain.server_pct);
	lg_json_begin(g);
	fprintf(g->json,
		"  \"senders\": %u, \"senders_ready\": %u, \"recipients\": %u, "
		"\"recipients_ready\": %u, \"per_sender\": %u,\n",
		l->senders, s_ready, l->recipients, r_ready, l->per_sender);
	fprintf(g->json,
		"  \"store_s\": %.3f, \"store_msgs_per_s\": %.1f, "
		"\"barrier_ok\": %s, \"stale_flushed\": %llu,\n",
		store_s, store_s > 0 ? (double)g->st.sent / store_s : -1,
		barrier ? "true" : "false", (unsigned long long)stale0);
	fprintf(g->json,
		"  \"delivered_while_offline\": %llu, \"all_drained\": %s, "
		"\"drain_s\": %.3f, \"recipients_login_s\": %.3f, "
		"\"recipients_tls_s\": %.3f, \"recipients_auth_s\": %.3f, "
		"\"drain_msgs_per_s\": %.1f, \"lost\": %llu,\n",
		(unsigned long long)early, all ? "true" : "false", drain_s,
		login.synced, login.tls, login.auth,
		drain_s > 0 ? (double)(g->st.unique - early) / drain_s : -1,
		(unsigned long long)(B.expected - g->st.unique));
	lg_json_counts(g);
	lg_json_cpu(g, "store_", &store);
	lg_json_cpu(g, "", &drain);
	fprintf(g->json, "  \"server_rss_kb_before_drain\": %ld,\n",
		rss_before);
	scen_logout(g, rbase, l->recipients);
	lg_json_end(g, all && barrier, all ? NULL : "not all delivered");
	return all && barrier ? 0 : 1;
}

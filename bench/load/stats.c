/* stats.c - CPU, memory, latency and the JSON result (stats.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats.h"

/* utime + stime and the parent of a process, from /proc/<pid>/stat. */
static int proc_stat(int pid, uint64_t *ticks, int *ppid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	int parent = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces: fields start after its ')'. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		   &parent, &ut, &st) != 3)
		return -1;
	*ticks = ut + st;
	*ppid = parent;
	return 0;
}

/* The server's CPU: its own (every thread) and its children's (the CA
 * monitor). */
static uint64_t server_ticks(int pid)
{
	uint64_t total = 0, t;
	struct dirent *e;
	DIR *dir;
	int ppid;

	if (pid <= 0 || proc_stat(pid, &total, &ppid) != 0)
		return 0;
	if ((dir = opendir("/proc")) == NULL)
		return total;
	while ((e = readdir(dir)) != NULL) {
		int child = atoi(e->d_name);

		if (child > 0 && child != pid &&
		    proc_stat(child, &t, &ppid) == 0 &&
		    ppid == pid)
			total += t;
	}
	closedir(dir);
	return total;
}

struct cpu_snap stats_snap(const struct lg *g)
{
	struct cpu_snap s;
	struct rusage ru;

	uint64_t helper = 0;
	int ppid;

	getrusage(RUSAGE_SELF, &ru);
	s.server_ticks = server_ticks(g->cfg.server_pid);
	s.gen_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		  (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	if (g->helper_pid > 0 && proc_stat(g->helper_pid, &helper, &ppid) == 0)
		s.gen_s += (double)helper / (double)sysconf(_SC_CLK_TCK);
	s.t_ns = lg_now_ns();
	return s;
}

struct cpu_use stats_cpu(const struct cpu_snap *a, const struct cpu_snap *b)
{
	double wall = (double)(b->t_ns - a->t_ns) / 1e9;
	struct cpu_use u;

	u.server_s = (double)(b->server_ticks - a->server_ticks) /
		     (double)sysconf(_SC_CLK_TCK);
	u.gen_s = b->gen_s - a->gen_s;
	u.server_pct = wall > 0 ? 100.0 * u.server_s / wall : -1;
	u.gen_pct = wall > 0 ? 100.0 * u.gen_s / wall : -1;
	return u;
}

/* A "Key:   123 kB" line of /proc/<pid>/status. */
static long status_kb(const char *line, const char *key)
{
	size_t n = strlen(key);

	return strncmp(line, key, n) == 0 ? atol(line + n) : -1;
}

static struct mem_snap mem_of(const char *path)
{
	struct mem_snap m = { -1, -1, -1 };
	char line[256];
	long v;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return m;
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((v = status_kb(line, "VmRSS:")) >= 0)
			m.rss_kb = v;
		else if ((v = status_kb(line, "RssAnon:")) >= 0)
			m.anon_kb = v;
		else if ((v = status_kb(line, "RssFile:")) >= 0)
			m.file_kb = v;
	}
	fclose(f);
	return m;
}

struct mem_snap stats_server_mem(const struct lg *g)
{
	struct mem_snap none = { -1, -1, -1 };
	char path[64];

	if (g->cfg.server_pid <= 0)
		return none;
	snprintf(path, sizeof(path), "/proc/%d/status", g->cfg.server_pid);
	return mem_of(path);
}

long stats_server_rss_kb(const struct lg *g)
{
	return stats_server_mem(g).rss_kb;
}

long stats_gen_rss_kb(const struct lg *g)
{
	char path[64];
	long own = mem_of("/proc/self/status").rss_kb, helper;

	if (g->helper_pid <= 0)
		return own;
	snprintf(path, sizeof(path), "/proc/%d/status", g->helper_pid);
	helper = mem_of(path).rss_kb;
	return own < 0 || helper < 0 ? -1 : own + helper;
}

/* ---- latency ---- */

void stats_latency(struct lg *g, uint64_t ns)
{
	uint64_t us = ns / 1000u;

	if (g->n_lat == g->cap_lat) {
		g->cap_lat = g->cap_lat ? 2 * g->cap_lat : (1u << 20);
		g->lat = lg_xrealloc(g->lat, g->cap_lat, sizeof(*g->lat));
	}
	g->lat[g->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void stats_sort(struct lg *g)
{
	qsort(g->lat, g->n_lat, sizeof(*g->lat), cmp_u32);
}

double stats_pct(const struct lg *g, double p)
{
	size_t i;

	if (g->n_lat == 0)
		return -1;
	i = (size_t)(p / 100.0 * (double)(g->n_lat - 1) + 0.5);
	if (i >= g->n_lat)
		i = g->n_lat - 1;
	return g->lat[i] / 1000.0;
}

double stats_mean_ms(const struct lg *g)
{
	double sum = 0;

	if (g->n_lat == 0)
		return -1;
	for (size_t i = 0; i < g->n_lat; i++)
		sum += g->lat[i];
	return sum / (double)g->n_lat / 1000.0;
}

void stats_reset(struct lg *g)
{
	g->n_lat = 0;
	memset(&g->st, 0, sizeof(g->st));
}

/* ---- JSON ---- */

static const char *mode_name(const struct lg *g)
{
	return g->cfg.mode == LG_MLS ? "mls" : "raw";
}

void lg_json_begin(struct lg *g)
{
	g->json = g->cfg.out ? fopen(g->cfg.out, "w") : stdout;
	if (g->json == NULL)
		lg_die("cannot write %s", g->cfg.out);
	fprintf(g->json,
		"{\n  \"tool\": \"bulwark-load\", \"scenario\": \"%s\", "
		"\"label\": \"%s\", \"mode\": \"%s\",\n",
		g->cfg.scenario, g->cfg.label, mode_name(g));
	fprintf(g->json,
		"  \"target\": \"%s:%d\", \"server_pid\": %d, \"msg_size\": %u, "
		"\"conc\": %u, \"ack_ms\": %u,\n",
		g->cfg.host, g->cfg.port, g->cfg.server_pid, g->cfg.msg_size,
		g->cfg.conc, g->cfg.ack_ms);
}

void lg_json_cpu(struct lg *g, const char *prefix, const struct cpu_use *u)
{
	fprintf(g->json,
		"  \"%sserver_cpu_pct\": %.1f, \"%sgen_cpu_pct\": %.1f, "
		"\"%sserver_cpu_s\": %.3f, \"%sgen_cpu_s\": %.3f,\n",
		prefix, u->server_pct, prefix, u->gen_pct, prefix, u->server_s,
		prefix, u->gen_s);
}

void lg_json_latency(struct lg *g, const char *name)
{
	fprintf(g->json,
		"  \"%s\": {\"count\": %zu, \"mean\": %.3f, \"p50\": %.3f, "
		"\"p90\": %.3f, \"p99\": %.3f, \"p999\": %.3f, \"max\": %.3f},\n",
		name, g->n_lat, stats_mean_ms(g), stats_pct(g, 50),
		stats_pct(g, 90), stats_pct(g, 99), stats_pct(g, 99.9),
		stats_pct(g, 100));
}

void lg_json_counts(struct lg *g)
{
	const struct lg_counts *s = &g->st;

	fprintf(g->json,
		"  \"sent\": %llu, \"delivered_unique\": %llu, "
		"\"duplicates\": %llu, \"redelivered\": %llu, \"stale\": %llu, "
		"\"malformed\": %llu, \"misrouted\": %llu, \"refused\": %llu, "
		"\"resent\": %llu, \"seq_gaps\": %llu, \"misordered\": %llu,\n",
		(unsigned long long)s->sent, (unsigned long long)s->unique,
		(unsigned long long)s->dup, (unsigned long long)s->redelivered,
		(unsigned long long)s->stale, (unsigned long long)s->malformed,
		(unsigned long long)s->misrouted, (unsigned long long)s->refused,
		(unsigned long long)s->resent, (unsigned long long)s->gaps,
		(unsigned long long)s->misordered);
}

void lg_json_end(struct lg *g, bool ok, const char *error)
{
	fprintf(g->json,
		"  \"acks_refused\": %llu, \"failed_conns\": %u, "
		"\"fail_reasons\": {",
		(unsigned long long)g->acks_refused, g->n_failed);
	for (uint32_t i = 0; i < g->n_reasons; i++)
		fprintf(g->json, "%s\"%s\": %u", i ? ", " : "",
			g->reasons[i].why, g->reasons[i].n);
	fprintf(g->json, "},\n  \"gen_rss_kb\": %ld,\n", stats_gen_rss_kb(g));
	if (error != NULL)
		fprintf(g->json, "  \"error\": \"%s\",\n", error);
	fprintf(g->json, "  \"ok\": %s\n}\n", ok ? "true" : "false");
	if (g->json != stdout)
		fclose(g->json);
	g->json = NULL;
}

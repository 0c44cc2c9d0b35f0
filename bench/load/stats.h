/*
 * stats.h - what the generator measures: CPU time of the server (bulwarkd
 * and every process it started, all threads, from /proc/<pid>/stat) and
 * of the generator itself (getrusage, and its helper process's), the server's resident memory,
 * latency percentiles, and the JSON the run writes.
 */
#ifndef LG_STATS_H
#define LG_STATS_H

#include <sys/resource.h>

#include "lg.h"

struct cpu_snap {
	uint64_t server_ticks; /* utime + stime, clock ticks */
	double gen_s;          /* the generator's user + system seconds */
	uint64_t t_ns;
};

struct cpu_use {
	double server_pct;     /* % of one core (200 = both) */
	double gen_pct;
	double server_s, gen_s; /* CPU seconds over the interval */
};

struct cpu_snap stats_snap(const struct lg *g);
struct cpu_use stats_cpu(const struct cpu_snap *a, const struct cpu_snap *b);
/* Resident memory, KiB (-1 if unknown): all of it (VmRSS), the part
 * that is the process's own (RssAnon: heap, stacks) and the part mapped
 * from files (RssFile: the binary, libraries, the database's mmap). */
struct mem_snap {
	long rss_kb, anon_kb, file_kb;
};

struct mem_snap stats_server_mem(const struct lg *g);
/* VmRSS of the server's main process, KiB (-1 if unknown). */
long stats_server_rss_kb(const struct lg *g);
/* The generator's VmRSS (with its helper process's), KiB. */
long stats_gen_rss_kb(const struct lg *g);

/* Record a latency sample (ns) of the measured window. */
void stats_latency(struct lg *g, uint64_t ns);
/* Sort the samples; then percentiles in ms (-1 without samples). */
void stats_sort(struct lg *g);
double stats_pct(const struct lg *g, double p);
double stats_mean_ms(const struct lg *g);
void stats_reset(struct lg *g);

/* JSON output: lg_json_begin opens the object with the run's settings;
 * each scenario adds its fields (lines ending ",\n"); lg_json_end closes
 * it with the failure reasons and ok. */
void lg_json_begin(struct lg *g);
void lg_json_cpu(struct lg *g, const char *prefix, const struct cpu_use *u);
void lg_json_latency(struct lg *g, const char *name);
void lg_json_counts(struct lg *g);
void lg_json_end(struct lg *g, bool ok, const char *error);

#endif

/* lat_trace.c - the stage histograms of lat_trace.h (trace builds only). */
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "lat_trace.h"

/* 1 µs buckets up to 20 ms; the last one holds everything above. */
#define BUCKETS 20001

static const char *const stage_name[LAT_STAGES] = {
	[LAT_QUEUED] = "queued for the store thread (us)",
	[LAT_RUN] = "run and commit of its batch (us)",
	[LAT_COMMIT] = "a batch's COMMIT (us)",
	[LAT_TO_SYNC] = "committed -> sync start (us)",
	[LAT_FSYNC] = "fdatasync (us)",
	[LAT_FINISH] = "sync end -> reply posted (us)",
	[LAT_SERVER] = "submitted -> reply posted (us)",
	[LAT_MAIL] = "posted -> run on the worker (us)",
	[LAT_FLUSH] = "mail run -> round's output written (us)",
	[LAT_BATCH_JOBS] = "jobs per batch",
	[LAT_SYNC_JOBS] = "jobs per sync",
	[LAT_FOLD] = "cursor fold slice (us)",
	[LAT_CHECKPOINT] = "checkpointer's checkpoint (us)",
	[LAT_RESTART] = "store thread's restart checkpoint (us)",
};

/* The first samples are the start's (logins, backlogs, a cold cache),
 * which the load generator's warm-up leaves out too. */
#define SKIP_NS 5000000000u

static _Atomic uint64_t hist[LAT_STAGES][BUCKETS];
static _Atomic uint64_t max_seen[LAT_STAGES];
static _Atomic uint64_t first_ns;

uint64_t lat_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int warming_up(uint64_t now)
{
	uint64_t first = 0;

	if (atomic_compare_exchange_strong(&first_ns, &first, now))
		return 1;
	return now - first < SKIP_NS;
}

void lat_count(enum lat_stage stage, uint64_t n)
{
	uint64_t old = atomic_load_explicit(&max_seen[stage],
					    memory_order_relaxed);

	if (warming_up(lat_now()))
		return;
	atomic_fetch_add_explicit(&hist[stage][n < BUCKETS ? n : BUCKETS - 1],
				  1, memory_order_relaxed);
	while (n > old && !atomic_compare_exchange_weak(&max_seen[stage], &old,
							n))
		;
}

void lat_add(enum lat_stage stage, uint64_t from_ns, uint64_t to_ns)
{
	lat_count(stage, to_ns > from_ns ? (to_ns - from_ns) / 1000 : 0);
}

/* The smallest bucket with at least frac of the samples at or below. */
static uint64_t percentile(const uint64_t *h, uint64_t total, double frac)
{
	uint64_t want = (uint64_t)(frac * (double)total), seen = 0;

	for (uint64_t i = 0; i < BUCKETS; i++)
		if ((seen += h[i]) >= want && seen > 0)
			return i;
	return BUCKETS - 1;
}

void lat_report(void)
{
	static uint64_t h[BUCKETS];

	fprintf(stderr, "latency trace: stage: n p50 p90 p99 p99.9 max\n");
	for (int s = 0; s < LAT_STAGES; s++) {
		uint64_t total = 0;

		for (int i = 0; i < BUCKETS; i++)
			total += h[i] = atomic_load(&hist[s][i]);
		if (total == 0)
			continue;
		fprintf(stderr,
			"latency trace: %s: %llu %llu %llu %llu %llu %llu\n",
			stage_name[s], (unsigned long long)total,
			(unsigned long long)percentile(h, total, 0.5),
			(unsigned long long)percentile(h, total, 0.9),
			(unsigned long long)percentile(h, total, 0.99),
			(unsigned long long)percentile(h, total, 0.999),
			(unsigned long long)atomic_load(&max_seen[s]));
	}
}

/*
 * lat_trace.h - where a message's time goes between its arrival and its
 * reply or push, for finding latency tails (docs/benchmarks.md,
 * "Scenario A′").
 *
 * Built only with -DBULWARK_LAT_TRACE=ON: every stage of a request
 * (queued for the store thread, run and committed, waiting for the sync
 * thread, the fdatasync, finished, the worker's wake-up, its round until
 * the output is written) adds its duration to a histogram of its own; the
 * histograms are printed to standard error when the store stops. Without
 * the option the calls compile to nothing, so the normal build's hot path
 * does not read a clock for them.
 */
#ifndef BWD_LAT_TRACE_H
#define BWD_LAT_TRACE_H

#include <stdint.h>

enum lat_stage {
	LAT_QUEUED,     /* submitted -> the store thread took it */
	LAT_RUN,        /* taken -> its batch committed */
	LAT_COMMIT,     /* the COMMIT of a batch (per batch) */
	LAT_TO_SYNC,    /* committed -> the sync thread began its sync */
	LAT_FSYNC,      /* the sync covering it */
	LAT_FINISH,     /* sync done -> its reply posted */
	LAT_SERVER,     /* submitted -> reply posted */
	LAT_MAIL,       /* posted to a worker -> run there */
	LAT_FLUSH,      /* mail run -> the round's output written */
	LAT_BATCH_JOBS, /* jobs per committed batch (a count, not µs) */
	LAT_SYNC_JOBS,  /* jobs per sync (a count) */
	LAT_FOLD,       /* the cursor fold's slice at a batch's start */
	LAT_CHECKPOINT, /* the checkpointer thread's passive checkpoint */
	LAT_RESTART,    /* the store thread's restart checkpoint */
	LAT_STAGES
};

#ifdef BULWARK_LAT_TRACE
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t lat_now(void);
/* Add (to - from) in microseconds to a stage's histogram. */
void lat_add(enum lat_stage stage, uint64_t from_ns, uint64_t to_ns);
/* Add a count. */
void lat_count(enum lat_stage stage, uint64_t n);
/* Print every stage's percentiles to standard error. */
void lat_report(void);
#define LAT_NOW() lat_now()
#define LAT_ADD(stage, from, to) lat_add((stage), (from), (to))
#define LAT_COUNT(stage, n) lat_count((stage), (n))
#define LAT_REPORT() lat_report()
#else
#define LAT_NOW() ((uint64_t)0)
#define LAT_ADD(stage, from, to) ((void)(from), (void)(to))
#define LAT_COUNT(stage, n) ((void)(n))
#define LAT_REPORT() ((void)0)
#endif

#endif

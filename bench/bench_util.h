/*
 * bench_util.h - timing shared by the benchmark programs.
 *
 * Figures are process CPU time (as `openssl speed` measures by default), so
 * other load on the machine inflates them far less than wall-clock time.
 */
#ifndef BW_BENCH_UTIL_H
#define BW_BENCH_UTIL_H

/* Minimum measuring time per operation; programs set it from argv. */
extern double bench_seconds_per_op;

/* Print "<prog>: <what> failed" and exit(1). */
_Noreturn void bench_die(const char *what);
/* Process CPU time in seconds. */
double bench_now(void);
/* Microseconds per call of fn(arg), over at least bench_seconds_per_op
 * and at least two calls; a call that returns non-zero dies. */
double bench_time_op(const char *name, int (*fn)(void *), void *arg);
/* Parse argv[1] as the seconds per operation, if given (dies on <= 0). */
void bench_parse_seconds(int argc, char **argv);

#endif

/* bench_util.c - timing shared by the benchmark programs. */
#define _GNU_SOURCE /* program_invocation_short_name */
#include "bench_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

double bench_seconds_per_op = 1.0;

void bench_die(const char *what)
{
	fprintf(stderr, "%s: %s failed\n", program_invocation_short_name, what);
	exit(1);
}

double bench_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

double bench_time_op(const char *name, int (*fn)(void *), void *arg)
{
	unsigned long n = 0, batch = 1;
	double start, elapsed;

	if (fn(arg) != 0) /* warm up, and fail loudly before timing */
		bench_die(name);
	start = bench_now();
	do {
		for (unsigned long i = 0; i < batch; i++)
			if (fn(arg) != 0)
				bench_die(name);
		n += batch;
		elapsed = bench_now() - start;
		/* grow batches of cheap calls; slow ones go one at a time */
		if (batch < 4096 && elapsed * 8 < bench_seconds_per_op)
			batch *= 2;
		else
			batch = 1;
	} while (elapsed < bench_seconds_per_op || n < 2);
	return elapsed * 1e6 / (double)n;
}

void bench_parse_seconds(int argc, char **argv)
{
	if (argc > 1 && (bench_seconds_per_op = atof(argv[1])) <= 0) {
		fprintf(stderr, "usage: %s [seconds per operation]\n", argv[0]);
		exit(2);
	}
}

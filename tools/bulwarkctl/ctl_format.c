/* ctl_format.c - times and durations for bulwarkctl's admin commands. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ctl_format.h"

void ctl_format_time(uint64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%d %H:%MZ", &tm) == 0)
		snprintf(out, size, "-");
}

void ctl_format_duration(uint64_t s, char *out, size_t size)
{
	if (s >= 86400)
		snprintf(out, size, "%llud %lluh", (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(out, size, "%lluh %llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else
		snprintf(out, size, "%llum %llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
}

int64_t ctl_parse_duration(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	int64_t unit = 1;

	if (end == s || v <= 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 's': unit = 1; end++; break;
	case 'm': unit = 60; end++; break;
	case 'h': unit = 3600; end++; break;
	case 'd': unit = 86400; end++; break;
	default: return -1;
	}
	if (*end != '\0' || v > INT64_MAX / unit / 2)
		return -1;
	return v * unit;
}

/* ctl_format.h - small formatting helpers of bulwarkctl's admin commands. */
#ifndef BULWARKCTL_FORMAT_H
#define BULWARKCTL_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* "2026-01-02 03:04Z" (UTC), or "-" for 0. */
void ctl_format_time(uint64_t t, char *out, size_t size);
/* "3d 4h", "5m 2s": a duration for people. */
void ctl_format_duration(uint64_t seconds, char *out, size_t size);
/* "72h", "30m", "7d", "90s" or plain seconds -> seconds; -1 if malformed. */
int64_t ctl_parse_duration(const char *s);

#endif

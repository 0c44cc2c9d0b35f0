/*
 * log.h - bulwarkd's log: one readable line per event, to standard error or
 * a file, safe from any thread.
 *
 *   2026-01-02T03:04:05Z info  worker 1: listening on 127.0.0.1:8443
 *
 * Never log a secret: no keys, passwords, shares, confirmation values or
 * message contents; names, ids, addresses and error texts only.
 */
#ifndef BWD_LOG_H
#define BWD_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Parse "debug", "info", "warn" or "error"; -1 if none of them. */
int log_level_parse(const char *s);
/* Log to path (append) or, for NULL or "", to standard error. */
int log_open(const char *path, enum log_level level);
/* Reopen the file (after rotation; SIGHUP). */
int log_reopen(void);
void log_close(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif

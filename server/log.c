/* log.c - leveled log lines, each written with one write(2) so lines from
 * different threads never interleave. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 1024

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = STDERR_FILENO;
static enum log_level log_min = LOG_INFO;
static char log_path[4096];

static const char *const level_names[] = { "debug", "info", "warn", "error" };

int log_level_parse(const char *s)
{
	for (int i = 0; i <= LOG_ERROR; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

static int open_path(void)
{
	if (log_path[0] == '\0')
		return STDERR_FILENO;
	return open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int log_open(const char *path, enum log_level level)
{
	int fd;

	snprintf(log_path, sizeof(log_path), "%s", path ? path : "");
	if ((fd = open_path()) < 0)
		return -errno;
	pthread_mutex_lock(&log_lock);
	log_fd = fd;
	log_min = level;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

int log_reopen(void)
{
	int fd, old;

	if (log_path[0] == '\0')
		return 0;
	if ((fd = open_path()) < 0)
		return -errno;
	pthread_mutex_lock(&log_lock);
	old = log_fd;
	log_fd = fd;
	pthread_mutex_unlock(&log_lock);
	close(old);
	return 0;
}

void log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	struct tm tm;
	time_t now;
	ssize_t written;
	va_list ap;
	size_t n;
	int k;

	if (level < log_min)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%-5s ",
			      level_names[level]);
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	n = k < 0 ? n : n + (size_t)k;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2; /* truncated: keep the newline */
	/* Control bytes would let a peer-chosen name forge log lines. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = '?';
	line[n++] = '\n';
	pthread_mutex_lock(&log_lock);
	written = write(log_fd, line, n);
	pthread_mutex_unlock(&log_lock);
	(void)written; /* nowhere left to report a failing log */
}

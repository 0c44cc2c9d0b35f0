/* net.c - server addresses, TCP connections and deadlines. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bulwark/bulwark.h"
#include "net.h"

int64_t net_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t net_deadline(int timeout_ms)
{
	return net_now_ms() +
	       (timeout_ms > 0 ? timeout_ms : BULWARK_DEFAULT_TIMEOUT_MS);
}

static bool port_valid(const char *p)
{
	long v = 0;
	size_t n = strlen(p);

	if (n == 0 || n >= NET_MAX_PORT)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* Printable, no spaces; getaddrinfo() judges the rest. */
static bool host_chars_valid(const char *h, size_t n, bool bracketed)
{
	for (size_t i = 0; i < n; i++)
		if (h[i] <= ' ' || h[i] > '~' || h[i] == '/' || h[i] == '@' ||
		    (!bracketed && (h[i] == ':' || h[i] == '[' || h[i] == ']')))
			return false;
	return n > 0;
}

int net_split_address(const char *address, char host[NET_MAX_HOST],
		      char port[NET_MAX_PORT])
{
	const char *start = address, *end, *colon;
	bool bracketed = address[0] == '[';

	if (bracketed) {
		start = address + 1;
		if ((end = strchr(start, ']')) == NULL || end[1] != ':')
			return BULWARK_ERR_ADDRESS;
		colon = end + 1;
	} else {
		if ((colon = strrchr(address, ':')) == NULL)
			return BULWARK_ERR_ADDRESS;
		end = colon;
	}
	if ((size_t)(end - start) >= NET_MAX_HOST ||
	    !host_chars_valid(start, (size_t)(end - start), bracketed) ||
	    !port_valid(colon + 1))
		return BULWARK_ERR_ADDRESS;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	snprintf(port, NET_MAX_PORT, "%s", colon + 1);
	return 0;
}

int net_wait(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int r;

	for (;;) {
		if ((left = deadline - net_now_ms()) <= 0)
			return BULWARK_ERR_TIMEOUT;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 0; /* ready, or an error the next I/O reports */
		if (r < 0 && errno != EINTR)
			return BULWARK_ERR_UNREACHABLE;
	}
}

/* One address: non-blocking connect, then wait for its outcome. */
static int connect_one(const struct addrinfo *ai, int64_t deadline, int *fd)
{
	int s, err = 0, one = 1, rc;
	socklen_t len = sizeof(err);

	s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		   ai->ai_protocol);
	if (s < 0)
		return BULWARK_ERR_UNREACHABLE;
	if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			rc = BULWARK_ERR_UNREACHABLE;
			goto fail;
		}
		if ((rc = net_wait(s, POLLOUT, deadline)) != 0)
			goto fail;
		if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
		    err != 0) {
			rc = BULWARK_ERR_UNREACHABLE;
			goto fail;
		}
	}
	/* Requests are small and answered one by one: no Nagle delay. */
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fd = s;
	return 0;
fail:
	close(s);
	return rc;
}

int net_connect(const char *address, int64_t deadline, int *fd)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *list = NULL;
	char host[NET_MAX_HOST], port[NET_MAX_PORT];
	int rc;

	*fd = -1;
	if ((rc = net_split_address(address, host, port)) != 0)
		return rc;
	if (getaddrinfo(host, port, &hints, &list) != 0)
		return BULWARK_ERR_RESOLVE;
	rc = BULWARK_ERR_UNREACHABLE;
	for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
		if ((rc = connect_one(ai, deadline, fd)) == 0 ||
		    rc == BULWARK_ERR_TIMEOUT)
			break;
	}
	freeaddrinfo(list);
	return rc;
}

/*
 * net.h - TCP for libbulwark: server addresses, connecting with a
 * deadline, and waiting on a socket until a deadline.
 *
 * Every blocking step of the client is bounded by a deadline on the
 * monotonic clock (milliseconds), so one timeout covers a step whatever
 * number of reads and writes it takes. Sockets are non-blocking; waiting
 * is poll().
 */
#ifndef BW_CLIENT_NET_H
#define BW_CLIENT_NET_H

#include <stdint.h>

/* A host name (at most 253 characters) or an IP address literal. */
#define NET_MAX_HOST 256u
#define NET_MAX_PORT 6u

/* Milliseconds on the monotonic clock. */
int64_t net_now_ms(void);
/* The deadline timeout_ms from now (0: BULWARK_DEFAULT_TIMEOUT_MS). */
int64_t net_deadline(int timeout_ms);
/* Split "HOST:PORT" or "[IPV6]:PORT"; BULWARK_ERR_ADDRESS if malformed. */
int net_split_address(const char *address, char host[NET_MAX_HOST],
		      char port[NET_MAX_PORT]);
/* A TCP connection to the address, trying each of its IPv6 and IPv4
 * addresses in turn. *fd (non-blocking) is the caller's to close.
 * BULWARK_ERR_RESOLVE, _UNREACHABLE or _TIMEOUT when none answers. */
int net_connect(const char *address, int64_t deadline, int *fd);
/* Wait until fd is ready for events (POLLIN, POLLOUT): 0, or
 * BULWARK_ERR_TIMEOUT once the deadline has passed. */
int net_wait(int fd, short events, int64_t deadline);

#endif

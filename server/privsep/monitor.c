/*
 * monitor.c - the CA monitor's request table and serving loop.
 *
 * Like OpenSSH's monitor (monitor.c), the monitor answers only the requests
 * in its table and re-checks every field itself: the process asking is the
 * one that parses network bytes, so it is never trusted. A request that is
 * malformed, too long or unknown gets an error reply and the monitor goes on
 * serving; the only way to end it is to close the socket.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "monitor.h"
#include "wire.h"

typedef int (*answer_fn)(const struct ca *ca,
			 const struct privsep_request *req, uint8_t **der,
			 size_t *len);

/* A name field as a C string: at most CA_NAME_MAX bytes, no NUL inside
 * (the CA then checks the characters). */
static bool name_copy(const uint8_t *p, size_t n, char out[CA_NAME_MAX + 1])
{
	if (n > CA_NAME_MAX || memchr(p, '\0', n) != NULL)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static int answer_get_ca_cert(const struct ca *ca,
			      const struct privsep_request *req, uint8_t **der,
			      size_t *len)
{
	(void)req;
	return ca_cert_der(ca, der, len);
}

static int answer_issue_device_cert(const struct ca *ca,
				    const struct privsep_request *req,
				    uint8_t **der, size_t *len)
{
	char user[CA_NAME_MAX + 1], device_id[CA_NAME_MAX + 1];

	if (!name_copy(req->user, req->user_len, user))
		return CA_ERR_USER_NAME;
	if (!name_copy(req->device_id, req->device_id_len, device_id))
		return CA_ERR_DEVICE_ID;
	return ca_issue_device_cert(ca, user, device_id, req->spki,
				    req->spki_len, req->validity_days, der,
				    len);
}

/* The delivery service's credential: the name must be a server name (the
 * CA checks it), the key the suite's signature type; the validity is the
 * CA's fixed one for server certificates, never the caller's. */
static int answer_issue_ds_cert(const struct ca *ca,
				const struct privsep_request *req,
				uint8_t **der, size_t *len)
{
	char name[CA_SERVER_NAME_MAX + 1];

	if (req->server_name_len > CA_SERVER_NAME_MAX ||
	    memchr(req->server_name, '\0', req->server_name_len) != NULL)
		return CA_ERR_SERVER_NAME;
	memcpy(name, req->server_name, req->server_name_len);
	name[req->server_name_len] = '\0';
	return ca_issue_ds_cert(ca, name, req->spki, req->spki_len,
				CA_SERVER_CERT_DAYS, der, len);
}

/* The fixed request table. Nothing here signs caller-chosen bytes or
 * reveals key material: each answer is a certificate built by the CA to
 * its profile from checked fields. */
static const struct {
	uint8_t type;
	answer_fn answer;
} requests[] = {
	{ PRIVSEP_REQ_GET_CA_CERT, answer_get_ca_cert },
	{ PRIVSEP_REQ_ISSUE_DEVICE_CERT, answer_issue_device_cert },
	{ PRIVSEP_REQ_ISSUE_DS_CERT, answer_issue_ds_cert },
};

static answer_fn lookup(uint8_t type)
{
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (requests[i].type == type)
			return requests[i].answer;
	return NULL;
}

int monitor_answer(const struct ca *ca, const uint8_t *msg, size_t len,
		   struct bw_writer *w)
{
	struct privsep_request req;
	struct privsep_reply rep = { 0 };
	uint8_t *der = NULL;
	size_t der_len = 0;
	answer_fn answer = NULL;
	int rc;

	/* The reply names the request's type when it is in the table, so the
	 * caller can match it; anything else is answered as type 0. */
	if (len > 0 && lookup(msg[0]) != NULL)
		rep.type = msg[0];
	rc = privsep_request_decode(msg, len, &req);
	if (rc == 0 && (answer = lookup(req.type)) == NULL)
		rc = PRIVSEP_ERR_UNKNOWN_REQUEST;
	if (rc == 0)
		rc = answer(ca, &req, &der, &der_len);
	rep.err = rc;
	rep.cert = der;
	rep.cert_len = der_len;
	rc = privsep_reply_encode(w, &rep);
	free(der);
	return rc;
}

static int send_reply(int fd, const struct bw_writer *w)
{
	ssize_t n;

	do
		n = send(fd, w->buf, w->len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)w->len ? 0 : PRIVSEP_ERR_GONE;
}

int monitor_send_ready(int fd, int err)
{
	uint8_t buf[8];
	struct bw_writer w;
	struct privsep_reply rep = { .type = PRIVSEP_READY, .err = err };
	int rc;

	bw_writer_init_fixed(&w, buf, sizeof(buf));
	if ((rc = privsep_reply_encode(&w, &rep)) != 0)
		return rc;
	return send_reply(fd, &w);
}

/* Reply to a message longer than any request: the type byte is all we
 * may look at. */
static int answer_too_long(const uint8_t *msg, struct bw_writer *w)
{
	struct privsep_reply rep = { .err = PRIVSEP_ERR_TOO_LONG };

	rep.type = lookup(msg[0]) != NULL ? msg[0] : PRIVSEP_READY;
	return privsep_reply_encode(w, &rep);
}

/* Wait for the next message. 1: one is there; 0: the peer has closed. */
static int wait_message(int fd, bool *hangup)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return -1;
	*hangup = (p.revents & (POLLHUP | POLLERR)) != 0;
	return (p.revents & POLLIN) != 0 ? 1 : 0;
}

int monitor_serve(const struct ca *ca, int fd)
{
	static uint8_t msg[PRIVSEP_REQUEST_MAX];
	static uint8_t reply[PRIVSEP_REPLY_MAX];
	struct bw_writer w;
	bool hangup;
	ssize_t n;
	int rc;

	for (;;) {
		if ((rc = wait_message(fd, &hangup)) <= 0)
			return rc == 0 ? 0 : BW_ERR_IO;
		/* MSG_TRUNC: n is the message's real length, even when longer
		 * than the buffer (the rest is discarded by the kernel). */
		n = recv(fd, msg, sizeof(msg), MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return BW_ERR_IO;
		/* On SEQPACKET, 0 is an empty message or the end of the
		 * stream; the hang-up tells them apart. */
		if (n == 0 && hangup)
			return 0;
		bw_writer_init_fixed(&w, reply, sizeof(reply));
		if ((size_t)n > sizeof(msg))
			rc = answer_too_long(msg, &w);
		else
			rc = monitor_answer(ca, msg, (size_t)n, &w);
		if (rc != 0)
			return rc;
		if (send_reply(fd, &w) != 0)
			return 0; /* the peer went away mid-request */
	}
}

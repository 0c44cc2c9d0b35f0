/* client.c - the conversation client: opening it, its session, the queue
 * of pushes and waiting for them (client.h). */
#include "client.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device.h"
#include "net.h"
#include "session.h"

/* Between attempts to reach a server that went away. */
#define RECONNECT_PAUSE_MS 250

/* ---- pushes ---- */

/* The session's push handler: keep a copy, to be handled outside the
 * request that was waiting (handling may itself send requests). */
static void on_push(void *arg, uint16_t type, const uint8_t *body, size_t len)
{
	struct bulwark_client *c = arg;
	struct push *p;

	if (type != PROTO_T_DELIVER && type != PROTO_T_SYNCED &&
	    type != PROTO_T_KP_LOW)
		return; /* a later revision's: not for this device */
	if ((p = malloc(sizeof(*p) + len)) == NULL) {
		c->push_error = BW_ERR_NOMEM;
		return;
	}
	p->next = NULL;
	p->type = type;
	p->len = len;
	if (len > 0)
		memcpy(p->body, body, len);
	if (c->tail != NULL)
		c->tail->next = p;
	else
		c->head = p;
	c->tail = p;
}

struct push *client_next_push(struct bulwark_client *c)
{
	struct push *p = c->head;

	if (p != NULL) {
		c->head = p->next;
		if (c->head == NULL)
			c->tail = NULL;
		p->next = NULL;
	}
	return p;
}

void push_free(struct push *p)
{
	free(p);
}

static void push_list_free(struct push *p)
{
	while (p != NULL) {
		struct push *next = p->next;

		push_free(p);
		p = next;
	}
}

/* ---- the session ---- */

int client_need_session(struct bulwark_client *c)
{
	return c->s != NULL ? 0 : BULWARK_ERR_CLOSED;
}

bool client_transient(int err)
{
	return err == BULWARK_ERR_CLOSED || err == BULWARK_ERR_TIMEOUT ||
	       err == BULWARK_ERR_UNREACHABLE || err == BULWARK_ERR_TLS ||
	       err == BULWARK_ERR_WEBSOCKET || err == BULWARK_ERR_BUSY ||
	       err == BULWARK_ERR_UPGRADE;
}

bool client_local_failure(int err)
{
	return err == BW_ERR_NOMEM || err == MLS_ERR_CRYPTO ||
	       err == MLS_ERR_INVALID_ARG || err == BULWARK_ERR_STORE_IO ||
	       err == BULWARK_ERR_STORE_BUSY ||
	       err == BULWARK_ERR_STORE_CORRUPT || err == BULWARK_ERR_KS_CRYPTO;
}

/* Pushes of a dropped session are dropped too: unacknowledged, the server
 * sends them again on the next one. */
void client_disconnect(struct bulwark_client *c)
{
	bulwark_session_free(c->s);
	c->s = NULL;
	push_list_free(c->head);
	push_list_free(c->held);
	c->head = c->tail = c->held = NULL;
	for (size_t i = 0; i < c->n_acks; i++)
		bw_bytes_clear(&c->acks[i].group_id);
	c->n_acks = 0;
	c->synced = false;
	c->sent_commit = false;
	c->push_error = 0;
}

static int open_session(struct bulwark_client *c)
{
	int rc;

	client_disconnect(c);
	if ((rc = bulwark_connect(c->dev, c->timeout_ms, &c->s)) != 0)
		return rc;
	bulwark_session_set_push_handler(c->s, on_push, c);
	c->check_proposals = true;
	return 0;
}

int64_t client_deadline(const struct bulwark_client *c)
{
	return net_deadline(c->timeout_ms);
}

int client_reconnect(struct bulwark_client *c, int64_t deadline)
{
	struct timespec pause = { 0, RECONNECT_PAUSE_MS * 1000000L };
	int rc;

	for (;;) {
		if ((rc = open_session(c)) == 0 || !client_transient(rc))
			return rc;
		if (net_now_ms() + RECONNECT_PAUSE_MS >= deadline)
			return rc;
		nanosleep(&pause, NULL);
	}
}

int client_pump(struct bulwark_client *c, int64_t deadline,
		bool (*done)(struct bulwark_client *c, void *arg), void *arg)
{
	int64_t left;
	int rc;

	for (;;) {
		if ((rc = client_drain(c)) != 0)
			return rc;
		if (done(c, arg))
			return 0;
		if ((rc = client_need_session(c)) != 0)
			return rc;
		if ((left = deadline - net_now_ms()) <= 0)
			return BULWARK_ERR_TIMEOUT;
		if ((rc = bulwark_session_poll(c->s, (int)left)) != 0) {
			client_disconnect(c);
			return rc;
		}
	}
}

/* ---- the public API ---- */

int bulwark_client_open(struct bulwark_device *d, const char *store_path,
			struct bulwark_client **out)
{
	struct bulwark_client *c;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		bulwark_device_free(d);
		return BW_ERR_NOMEM;
	}
	c->dev = d;
	if ((rc = member_init(&c->me, d)) != 0 ||
	    (rc = store_open(store_path, d->ks, &c->store)) != 0) {
		bulwark_client_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void bulwark_client_free(struct bulwark_client *c)
{
	if (c == NULL)
		return;
	client_disconnect(c);
	free(c->acks);
	store_free(c->store);
	member_clear(&c->me);
	bulwark_device_free(c->dev);
	free(c);
}

const struct bulwark_device *bulwark_client_device(
	const struct bulwark_client *c)
{
	return c->dev;
}

int bulwark_client_connect(struct bulwark_client *c, int timeout_ms)
{
	int rc;

	c->timeout_ms =
		timeout_ms > 0 ? timeout_ms : BULWARK_DEFAULT_TIMEOUT_MS;
	if ((rc = open_session(c)) != 0)
		return rc;
	return client_kp_ensure(c);
}

bool client_is_synced(struct bulwark_client *c, void *arg)
{
	(void)arg;
	return c->synced;
}

int bulwark_client_sync(struct bulwark_client *c)
{
	int rc;

	if ((rc = client_need_session(c)) != 0 ||
	    (rc = client_pump(c, client_deadline(c), client_is_synced,
			      NULL)) != 0 ||
	    (rc = client_drop_stale_commits(c)) != 0 ||
	    (rc = client_rejoin(c)) != 0 ||
	    (rc = client_commit_pending(c)) != 0)
		return rc;
	if (c->kp_low && (rc = client_kp_ensure(c)) != 0)
		return rc;
	return client_drain(c);
}

void bulwark_client_set_message_handler(struct bulwark_client *c,
					bulwark_message_fn fn, void *arg)
{
	c->on_message = fn;
	c->message_arg = arg;
}

int bulwark_client_fd(const struct bulwark_client *c)
{
	return c->s != NULL ? bulwark_session_fd(c->s) : -1;
}

int bulwark_client_poll(struct bulwark_client *c, int timeout_ms)
{
	int rc;

	if ((rc = client_need_session(c)) != 0)
		return rc;
	if ((rc = bulwark_session_poll(c->s, timeout_ms)) != 0) {
		client_disconnect(c);
		return rc;
	}
	if ((rc = client_drain(c)) != 0 ||
	    (rc = client_commit_pending(c)) != 0)
		return rc;
	if (c->kp_low && (rc = client_kp_ensure(c)) != 0)
		return rc;
	return 0;
}

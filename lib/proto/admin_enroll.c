/* admin_enroll.c - DEVICE_ENROLL request and response bodies. */
#include <string.h>

#include "admin_enroll.h"

static int read_span(struct bw_reader *r, size_t max, struct proto_span *s)
{
	return bw_read_opaque(r, max, &s->p, &s->n);
}

/* One entry, read and checked; the reader's error says why it failed. */
static int read_entry(struct bw_reader *r, struct admin_enroll_entry *out)
{
	read_span(r, PROTO_MAX_NAME, &out->user);
	read_span(r, PROTO_MAX_NAME, &out->name);
	read_span(r, PROTO_MAX_SPKI, &out->spki);
	if (r->err != 0)
		return r->err;
	if (!proto_name_valid(out->user.p, out->user.n, PROTO_MAX_NAME) ||
	    !proto_label_valid(out->name.p, out->name.n))
		return bw_reader_fail(r, PROTO_ERR_NAME);
	if (out->spki.n == 0)
		return bw_reader_fail(r, BW_ERR_BAD_VALUE);
	return 0;
}

int admin_decode_enroll(const struct proto_span *body,
			struct admin_enroll *out)
{
	struct admin_enroll_entry e;
	struct bw_reader r, walk;
	int rc;

	memset(out, 0, sizeof(*out));
	bw_reader_init(&r, body->p, body->n);
	if ((rc = bw_read_vector(&r, ADMIN_MAX_REQUEST, &out->entries)) != 0 ||
	    (rc = bw_reader_finish(&r)) != 0)
		return rc;
	/* Check every entry now, so that the caller's walk cannot fail. */
	walk = out->entries;
	while (bw_reader_remaining(&walk) > 0) {
		if ((rc = read_entry(&walk, &e)) != 0)
			return rc;
		if (++out->count > ADMIN_MAX_ENROLL)
			return BW_ERR_TOO_LONG;
	}
	return out->count == 0 ? BW_ERR_BAD_VALUE : 0;
}

bool admin_enroll_next(struct admin_enroll *e, struct admin_enroll_entry *out)
{
	if (bw_reader_remaining(&e->entries) == 0)
		return false;
	return read_entry(&e->entries, out) == 0;
}

int admin_write_enroll_entry(struct bw_writer *w,
			     const struct admin_enroll_entry *in)
{
	bw_write_opaque(w, in->user.p, in->user.n);
	bw_write_opaque(w, in->name.p, in->name.n);
	return bw_write_opaque(w, in->spki.p, in->spki.n);
}

static int read_device(struct bw_reader *r, struct admin_enrolled_device *out)
{
	read_span(r, PROTO_MAX_NAME, &out->device_id);
	read_span(r, PROTO_MAX_CERT, &out->cert);
	if (r->err != 0)
		return r->err;
	if (!proto_name_valid(out->device_id.p, out->device_id.n,
			      PROTO_MAX_NAME))
		return bw_reader_fail(r, PROTO_ERR_NAME);
	if (out->cert.n == 0)
		return bw_reader_fail(r, BW_ERR_BAD_VALUE);
	return 0;
}

int admin_decode_enrolled(const struct proto_span *body,
			  struct admin_enrolled *out)
{
	struct admin_enrolled_device d;
	struct bw_reader r, walk;
	int rc;

	memset(out, 0, sizeof(*out));
	bw_reader_init(&r, body->p, body->n);
	read_span(&r, PROTO_MAX_CERT, &out->ca_cert);
	bw_read_vector(&r, ADMIN_MAX_RESPONSE, &out->devices);
	if ((rc = bw_reader_finish(&r)) != 0)
		return rc;
	if (out->ca_cert.n == 0)
		return BW_ERR_BAD_VALUE;
	walk = out->devices;
	while (bw_reader_remaining(&walk) > 0) {
		if ((rc = read_device(&walk, &d)) != 0)
			return rc;
		if (++out->count > ADMIN_MAX_ENROLL)
			return BW_ERR_TOO_LONG;
	}
	return 0;
}

bool admin_enrolled_next(struct admin_enrolled *e,
			 struct admin_enrolled_device *out)
{
	if (bw_reader_remaining(&e->devices) == 0)
		return false;
	return read_device(&e->devices, out) == 0;
}

int admin_write_enrolled_device(struct bw_writer *w,
				const struct admin_enrolled_device *in)
{
	bw_write_opaque(w, in->device_id.p, in->device_id.n);
	return bw_write_opaque(w, in->cert.p, in->cert.n);
}

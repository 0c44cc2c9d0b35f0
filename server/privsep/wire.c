/* wire.c - encoding and decoding of the CA monitor's messages (wire.h). */
#include <string.h>

#include "wire.h"

/* Error codes travel as their magnitude; only ours and the shared layer's
 * are legitimate. */
#define ERR_MAGNITUDE_MAX (-CA_ERR_LAST)

int privsep_request_encode(struct bw_writer *w,
			   const struct privsep_request *req)
{
	bw_write_u8(w, req->type);
	if (req->type == PRIVSEP_REQ_ISSUE_DEVICE_CERT) {
		bw_write_opaque(w, req->user, req->user_len);
		bw_write_opaque(w, req->device_id, req->device_id_len);
		bw_write_opaque(w, req->spki, req->spki_len);
		bw_write_u32(w, req->validity_days);
	} else if (req->type == PRIVSEP_REQ_ISSUE_DS_CERT) {
		bw_write_opaque(w, req->server_name, req->server_name_len);
		bw_write_opaque(w, req->spki, req->spki_len);
	}
	return w->err;
}

int privsep_request_decode(const uint8_t *msg, size_t len,
			   struct privsep_request *req)
{
	struct bw_reader r;

	memset(req, 0, sizeof(*req));
	bw_reader_init(&r, msg, len);
	if (bw_read_u8(&r, &req->type) != 0)
		return r.err;
	switch (req->type) {
	case PRIVSEP_REQ_GET_CA_CERT:
		break;
	case PRIVSEP_REQ_ISSUE_DEVICE_CERT:
		bw_read_opaque(&r, CA_NAME_MAX, &req->user, &req->user_len);
		bw_read_opaque(&r, CA_NAME_MAX, &req->device_id,
			       &req->device_id_len);
		bw_read_opaque(&r, CA_SPKI_MAX, &req->spki, &req->spki_len);
		bw_read_u32(&r, &req->validity_days);
		break;
	case PRIVSEP_REQ_ISSUE_DS_CERT:
		bw_read_opaque(&r, CA_SERVER_NAME_MAX, &req->server_name,
			       &req->server_name_len);
		bw_read_opaque(&r, CA_SPKI_MAX, &req->spki, &req->spki_len);
		break;
	default:
		return PRIVSEP_ERR_UNKNOWN_REQUEST;
	}
	return bw_reader_finish(&r);
}

int privsep_reply_encode(struct bw_writer *w, const struct privsep_reply *rep)
{
	if (rep->err > 0 || rep->err < -ERR_MAGNITUDE_MAX)
		return BW_ERR_INVALID_ARG;
	bw_write_u8(w, rep->type);
	bw_write_u16(w, (uint16_t)-rep->err);
	if (rep->err == 0 && rep->type != PRIVSEP_READY)
		bw_write_opaque(w, rep->cert, rep->cert_len);
	return w->err;
}

int privsep_reply_decode(const uint8_t *msg, size_t len,
			 struct privsep_reply *rep)
{
	struct bw_reader r;
	uint16_t magnitude = 0;

	memset(rep, 0, sizeof(*rep));
	bw_reader_init(&r, msg, len);
	bw_read_u8(&r, &rep->type);
	bw_read_u16(&r, &magnitude);
	if (r.err == 0 && magnitude > ERR_MAGNITUDE_MAX)
		bw_reader_fail(&r, PRIVSEP_ERR_MALFORMED);
	if (r.err == 0 && rep->type > PRIVSEP_REQ_LAST)
		bw_reader_fail(&r, PRIVSEP_ERR_MALFORMED);
	rep->err = -(int)magnitude;
	if (r.err == 0 && magnitude == 0 && rep->type != PRIVSEP_READY)
		bw_read_opaque(&r, CA_CERT_MAX, &rep->cert, &rep->cert_len);
	return bw_reader_finish(&r);
}

/* framing.c - the ciphertext of a PrivateMessage (framing.h). */
#include "codec.h"
#include "framing.h"
#include "mls/mls.h"

#define MLS_VERSION_10 1u       /* RFC 9420 §6, ProtocolVersion mls10 */
#define WIRE_PRIVATE_MESSAGE 2u /* WireFormat mls_private_message */
#define MAX_GROUP_ID 255u

int lgm_ciphertext_offset(const uint8_t *msg, size_t len, size_t *off,
			  size_t *ct_len)
{
	const uint8_t *gid, *aad, *sender, *ct;
	size_t gid_len, aad_len, sender_len;
	uint16_t version, wire;
	uint64_t epoch;
	uint8_t type;
	struct bw_reader r;
	int rc;

	/* struct { opaque group_id<V>; uint64 epoch; ContentType
	 * content_type; opaque authenticated_data<V>; opaque
	 * encrypted_sender_data<V>; opaque ciphertext<V>; } PrivateMessage */
	bw_reader_init(&r, msg, len);
	bw_read_u16(&r, &version);
	bw_read_u16(&r, &wire);
	bw_read_opaque(&r, MAX_GROUP_ID, &gid, &gid_len);
	bw_read_u64(&r, &epoch);
	bw_read_u8(&r, &type);
	bw_read_opaque(&r, len, &aad, &aad_len);
	bw_read_opaque(&r, len, &sender, &sender_len);
	bw_read_opaque(&r, len, &ct, ct_len);
	if ((rc = bw_reader_finish(&r)) != 0)
		return rc;
	if (version != MLS_VERSION_10 || wire != WIRE_PRIVATE_MESSAGE)
		return MLS_ERR_WIRE_FORMAT;
	*off = (size_t)(ct - msg);
	return 0;
}

/* msg_key_package.c - KeyPackage and KeyPackageTBS (RFC 9420 §10). */
#include <string.h>

#include "messages.h"
#include "msg_internal.h"

int mls_key_package_decode(struct bw_reader *r, struct mls_key_package *out)
{
	memset(out, 0, sizeof(*out));
	bw_read_u16(r, &out->version);
	bw_read_u16(r, &out->cipher_suite);
	mls_read_bytes(r, MLS_MAX_KEY_LEN, &out->init_key);
	mls_leaf_node_decode(r, &out->leaf_node);
	mls_extension_list_decode(r, &out->extensions);
	mls_read_bytes(r, MLS_MAX_SIGNATURE_LEN, &out->signature);
	if (r->err != 0)
		mls_key_package_clear(out);
	return r->err;
}

int mls_key_package_tbs_encode(const struct mls_key_package *in,
			       struct bw_writer *w)
{
	bw_write_u16(w, in->version);
	bw_write_u16(w, in->cipher_suite);
	mls_write_bytes(w, &in->init_key);
	mls_leaf_node_encode(&in->leaf_node, w);
	return mls_extension_list_encode(&in->extensions, w);
}

int mls_key_package_encode(const struct mls_key_package *in,
			   struct bw_writer *w)
{
	mls_key_package_tbs_encode(in, w);
	return mls_write_bytes(w, &in->signature);
}

void mls_key_package_clear(struct mls_key_package *kp)
{
	bw_bytes_clear(&kp->init_key);
	mls_leaf_node_clear(&kp->leaf_node);
	mls_extension_list_clear(&kp->extensions);
	bw_bytes_clear(&kp->signature);
	memset(kp, 0, sizeof(*kp));
}

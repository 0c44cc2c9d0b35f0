/*
 * ds_checks.c - what a delivery service checks in the MLS objects it
 * stores and routes without being a member: KeyPackages before it hands
 * them out (RFC 9420 §10.1), the recipients of a Welcome (§12.4.3.1), and
 * the extensions of a GroupInfo it keeps for joiners.
 */
#include <string.h>
#include <time.h>

#include "group_internal.h"
#include "key_package.h"
#include "leaf_node.h"
#include "msg_internal.h"

/* A decoded MLSMessage of the expected wire format. */
static int decode_as(const uint8_t *p, size_t n, uint16_t wire_format,
		     struct mls_message *m)
{
	int rc;

	if ((rc = mls_message_decode(p, n, m)) != 0)
		return rc;
	if (m->wire_format != wire_format) {
		mls_message_clear(m);
		return MLS_ERR_WIRE_FORMAT;
	}
	return 0;
}

uint16_t mls_message_wire_format(const uint8_t *msg, size_t len)
{
	uint16_t version = 0, wire_format = 0;
	struct bw_reader r;

	bw_reader_init(&r, msg, len);
	bw_read_u16(&r, &version);
	bw_read_u16(&r, &wire_format);
	if (r.err != 0 || version != MLS_PROTOCOL_VERSION_MLS10)
		return 0;
	return wire_format;
}

int mls_key_package_inspect(const struct mls_config *cfg, uint16_t suite,
			    const uint8_t *key_package, size_t len,
			    struct mls_key_package_info *out)
{
	const struct mls_suite *s = mls_suite_get(suite);
	const struct mls_key_package *kp;
	struct mls_leaf_policy pol = { 0 };
	struct mls_message m;
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return MLS_ERR_UNSUPPORTED_SUITE;
	if (cfg == NULL || cfg->accept_credential == NULL)
		return MLS_ERR_INVALID_ARG;
	if ((rc = decode_as(key_package, len, MLS_WIRE_FORMAT_KEY_PACKAGE,
			    &m)) != 0)
		return rc;
	kp = &m.key_package;
	/* §7.3: the lifetime of a key package leaf must contain now and be
	 * no longer than the application allows. */
	pol.check_lifetime = true;
	pol.now = cfg->now != 0 ? cfg->now : (uint64_t)time(NULL);
	pol.max_lifetime = cfg->max_lifetime;
	pol.accept = cfg->accept_credential;
	pol.accept_arg = cfg->accept_arg;
	if (kp->cipher_suite != suite)
		rc = MLS_ERR_SUITE_MISMATCH;
	else if ((rc = mls_key_package_validate(s, kp, &pol)) == 0 &&
		 (rc = mls_key_package_ref(s, kp, out->ref)) == 0) {
		out->suite = suite;
		out->ref_len = s->hash_len;
		out->not_after = kp->leaf_node.lifetime.not_after;
	}
	mls_message_clear(&m);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int mls_welcome_recipients(const uint8_t *welcome, size_t len,
			   uint16_t *suite,
			   int (*fn)(void *arg, const uint8_t *ref,
				     size_t ref_len),
			   void *arg)
{
	const struct mls_welcome *wl;
	struct mls_message m;
	int rc;

	*suite = 0;
	if ((rc = decode_as(welcome, len, MLS_WIRE_FORMAT_WELCOME, &m)) != 0)
		return rc;
	wl = &m.welcome;
	*suite = wl->cipher_suite;
	for (size_t i = 0; i < wl->n_secrets && rc == 0; i++)
		rc = fn(arg, wl->secrets[i].new_member.p,
			wl->secrets[i].new_member.len);
	mls_message_clear(&m);
	return rc;
}

/* Is key listed in the GroupContext's external_senders extension? */
static int lists_sender(const struct mls_extension_list *ext,
			const uint8_t *key, size_t key_len, bool *listed)
{
	struct mls_external_senders es = { 0 };
	int rc;

	*listed = false;
	if (key_len == 0)
		return 0;
	if ((rc = mls_external_senders_of(ext, &es)) != 0)
		return rc;
	for (size_t i = 0; i < es.n && !*listed; i++)
		*listed = bw_bytes_eq(&es.v[i].signature_key, key, key_len);
	mls_external_senders_clear(&es);
	return 0;
}

int mls_group_info_facts(const uint8_t *group_info, size_t len,
			 const uint8_t *sender_key, size_t sender_key_len,
			 struct mls_group_info_facts *out)
{
	const struct mls_group_info *gi;
	struct mls_message m;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = decode_as(group_info, len, MLS_WIRE_FORMAT_GROUP_INFO,
			    &m)) != 0)
		return rc;
	gi = &m.group_info;
	out->suite = gi->group_context.cipher_suite;
	out->epoch = gi->group_context.epoch;
	out->ratchet_tree = mls_extension_list_find(&gi->extensions,
						    MLS_EXT_RATCHET_TREE) !=
			    NULL;
	rc = lists_sender(&gi->group_context.extensions, sender_key,
			  sender_key_len, &out->external_sender);
	mls_message_clear(&m);
	return rc;
}

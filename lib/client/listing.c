/* listing.c - conversations and history as the application sees them
 * (bulwark.h). */
#include "client.h"

#include <stdlib.h>
#include <string.h>

/* ---- messages ---- */

int listing_message(const struct store_msg *m, struct bulwark_message *out)
{
	memset(out, 0, sizeof(*out));
	if ((out->text = malloc(m->text.len + 1)) == NULL)
		return BW_ERR_NOMEM;
	if (m->text.len > 0)
		memcpy(out->text, m->text.p, m->text.len);
	out->text[m->text.len] = '\0';
	out->text_len = m->text.len;
	out->id = m->id;
	out->seq = m->seq;
	out->time = m->time;
	out->kind = m->kind;
	out->own = m->own;
	bw_hex_encode(m->group_id.p, m->group_id.len, out->conversation);
	memcpy(out->user, m->user, sizeof(out->user));
	memcpy(out->device_id, m->device_id, sizeof(out->device_id));
	return 0;
}

void listing_message_clear(struct bulwark_message *m)
{
	if (m->text != NULL)
		bw_free_secret(m->text, m->text_len + 1);
	memset(m, 0, sizeof(*m));
}

void bulwark_messages_free(struct bulwark_message *m, size_t n)
{
	for (size_t i = 0; m != NULL && i < n; i++)
		listing_message_clear(&m[i]);
	free(m);
}

/* The stored messages (own ones left out when skip_own), converted. */
static int convert(const struct store_msg *in, size_t n, bool skip_own,
		   struct bulwark_message **out, size_t *count)
{
	struct bulwark_message *arr = calloc(n + 1, sizeof(*arr));
	size_t k = 0;
	int rc;

	*out = NULL;
	*count = 0;
	if (arr == NULL)
		return BW_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if (skip_own && in[i].own)
			continue;
		if ((rc = listing_message(&in[i], &arr[k])) != 0) {
			bulwark_messages_free(arr, k);
			return rc;
		}
		k++;
	}
	*out = arr;
	*count = k;
	return 0;
}

int bulwark_history(struct bulwark_client *c, const char *ref,
		    struct bulwark_message **out, size_t *n)
{
	struct store_conv conv;
	struct store_msg *msgs = NULL;
	size_t count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = client_resolve(c, ref, &conv)) != 0)
		return rc;
	if ((rc = store_msg_list(c->store, conv.group_id.p, conv.group_id.len,
				 0, 0, &msgs, &count)) == 0)
		rc = convert(msgs, count, false, out, n);
	store_msgs_free(msgs, count);
	store_conv_clear(&conv);
	return rc;
}

int bulwark_unseen(struct bulwark_client *c, struct bulwark_message **out,
		   size_t *n)
{
	struct store_msg *msgs = NULL;
	size_t count = 0;
	uint64_t shown;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = store_counter_get(c->store, STORE_C_SHOWN, &shown)) != 0 ||
	    (rc = store_msg_list(c->store, NULL, 0, shown, 0, &msgs,
				 &count)) != 0)
		return rc;
	rc = convert(msgs, count, true, out, n);
	store_msgs_free(msgs, count);
	return rc;
}

int bulwark_mark_seen(struct bulwark_client *c, uint64_t id)
{
	uint64_t shown;
	int rc;

	if ((rc = store_counter_get(c->store, STORE_C_SHOWN, &shown)) != 0)
		return rc;
	return id > shown ? store_counter_set(c->store, STORE_C_SHOWN, id) : 0;
}

/* ---- conversations ---- */

int bulwark_conversation_id(struct bulwark_client *c, const char *ref,
			    char id_out[BULWARK_CONV_ID_SIZE])
{
	struct store_conv conv;
	int rc;

	id_out[0] = '\0';
	if ((rc = client_resolve(c, ref, &conv)) != 0)
		return rc;
	bw_hex_encode(conv.group_id.p, conv.group_id.len, id_out);
	store_conv_clear(&conv);
	return 0;
}

static int members_of(const struct mls_group *g, struct bulwark_conversation *v)
{
	uint32_t leaves = mls_group_n_leaves(g);
	struct bulwark_member *mb;

	if ((v->members = calloc(leaves + 1, sizeof(*v->members))) == NULL)
		return BW_ERR_NOMEM;
	for (uint32_t leaf = 0; leaf < leaves; leaf++) {
		mb = &v->members[v->n_members];
		if (member_leaf_identity(g, leaf, mb->user, mb->device_id) != 0)
			continue; /* a blank leaf */
		mb->leaf = leaf;
		v->n_members++;
	}
	return 0;
}

static int describe(struct bulwark_client *c, const struct store_conv *conv,
		    struct bulwark_conversation *v)
{
	uint8_t auth[MLS_MAX_SECRET_LEN];
	struct mls_group *g = NULL;
	size_t auth_len = 0;
	int rc;

	memset(v, 0, sizeof(*v));
	bw_hex_encode(conv->group_id.p, conv->group_id.len, v->id);
	memcpy(v->short_id, v->id, BULWARK_SHORT_ID_LEN);
	memcpy(v->name, conv->name, sizeof(v->name));
	v->created = conv->created;
	v->epoch = conv->epoch;
	v->active = conv->active;
	if ((rc = client_load_group(c, conv, &g)) != 0)
		return rc;
	/* Public among the members, and what they compare (RFC 9420 §8.7). */
	mls_group_epoch_authenticator(g, auth, &auth_len);
	bw_hex_encode(auth, auth_len, v->epoch_authenticator);
	rc = members_of(g, v);
	mls_group_free(g);
	return rc;
}

int bulwark_conversations(struct bulwark_client *c,
			  struct bulwark_conversation **out, size_t *n)
{
	struct store_conv *convs;
	struct bulwark_conversation *arr;
	size_t count;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = store_conv_list(c->store, &convs, &count)) != 0)
		return rc;
	if ((arr = calloc(count + 1, sizeof(*arr))) == NULL) {
		store_convs_free(convs, count);
		return BW_ERR_NOMEM;
	}
	for (size_t i = 0; i < count; i++)
		if ((rc = describe(c, &convs[i], &arr[i])) != 0) {
			bulwark_conversations_free(arr, i + 1);
			store_convs_free(convs, count);
			return rc;
		}
	store_convs_free(convs, count);
	*out = arr;
	*n = count;
	return 0;
}

void bulwark_conversations_free(struct bulwark_conversation *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		free(list[i].members);
	free(list);
}

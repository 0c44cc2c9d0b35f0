/*
 * test_ds_delivery.c - the delivery service's logic without a network:
 * requests go through the same preparation and store-thread handlers as
 * in bulwarkd (ds_req_prepare, ds_run_request in a savepoint), against a
 * real SQLite store, a CA made here, devices with libmls groups, and
 * sessions linked as live so that the pushes can be read back.
 *
 * Ordering (the first commit of an epoch wins), membership from the tree,
 * Welcome routing by KeyPackageRef, fan-out once per device, forged
 * senders, external joins, idempotency, claims all or nothing, the
 * server's Remove proposals on revocation, and the pushes a session takes
 * while its backlog is still being read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ca.h"
#include "ds_int.h"
#include "errors.h"
#include "server.h"
#include "test.h"
#include "worker.h"

static char dir[] = "/tmp/bw_test_ds_delivery_XXXXXX";
static struct bwd_server srv;
static struct worker fake_worker;
static struct store *st;
static struct ds *ds;
static struct ca *ca;
static uint32_t next_id = 1;

/* ---- devices ---- */

struct tdev {
	struct device_ident who;
	struct mls_signer *signer;
	struct mls_config cfg;
	struct ds_session sess;
	struct mls_group *g;
	struct mls_key_package_bundle *kps[4];
	size_t n_kps;
};

static int accept_any_device(void *arg, const struct mls_credential *cred,
			     const uint8_t *key, size_t key_len)
{
	char user[CA_NAME_MAX + 1], device[CA_NAME_MAX + 1];
	const uint8_t *der;
	size_t n;

	(void)arg;
	(void)key;
	(void)key_len;
	if (mls_credential_certificate(cred, 0, &der, &n) != 0)
		return -1;
	return ca_verify_device_cert(srv.ca_cert_der.p, srv.ca_cert_der.len,
				     der, n, 0, user, device);
}

/* A key pair, its certificate, registry and store rows. */
static bool make_device(struct tdev *d, const char *user, const char *id)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	uint8_t priv[32], *spki = NULL, *der = NULL;
	size_t priv_len = sizeof(priv), der_len = 0;
	struct mls_credential *cred = NULL;
	struct store_device row;
	struct store_user u;
	int n;

	memset(d, 0, sizeof(*d));
	CHECK(key != NULL);
	CHECK((n = i2d_PUBKEY(key, &spki)) > 0);
	CHECK(ca_issue_device_cert(ca, user, id, spki, (size_t)n, 30, &der,
				   &der_len) == 0);
	CHECK(EVP_PKEY_get_raw_private_key(key, priv, &priv_len) == 1);
	CHECK(mls_signer_new(1, priv, priv_len, &d->signer) == 0);
	CHECK(mls_credential_new_x509((const uint8_t *const *)&der, &der_len,
				      1, &cred) == 0);
	CHECK(mls_signer_set_credential(d->signer, cred) == 0);
	memset(&row, 0, sizeof(row));
	snprintf(row.id, sizeof(row.id), "%s", id);
	snprintf(row.user, sizeof(row.user), "%s", user);
	snprintf(row.name, sizeof(row.name), "test");
	CHECK(ca_fingerprint(der, der_len, row.fingerprint) == 0);
	row.serial_len = 1;
	if (st->ops->user_get(st, user, &u) != 0)
		CHECK(st->ops->user_add(st, user, "", 1) == 0);
	CHECK(st->ops->device_add(st, &row) == 0);
	CHECK(devices_add(srv.devices, &row) == 0);
	CHECK(devices_lookup(srv.devices, row.fingerprint, &d->who));
	d->cfg.accept_credential = accept_any_device;
	/* The device is connected, its backlog read: it gets every push. */
	d->sess.worker = &fake_worker;
	d->sess.dev = ds_device_get(ds, id);
	d->sess.next = d->sess.dev->live;
	d->sess.dev->live = &d->sess;
	d->sess.live = true;
	d->sess.synced = true;
	mls_credential_free(cred);
	OPENSSL_free(spki);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	return true;
}

static void free_device(struct tdev *d)
{
	mls_signer_free(d->signer);
	mls_group_free(d->g);
	for (size_t i = 0; i < d->n_kps; i++)
		mls_key_package_bundle_free(d->kps[i]);
}

/* ---- requests, as bulwarkd runs them ---- */

struct reply {
	uint16_t status;
	uint8_t body[1 << 16];
	size_t len;
};

static uint16_t call(struct tdev *d, uint16_t type, const struct bw_writer *w,
		     struct reply *out)
{
	struct ds_req *r = calloc(1, sizeof(*r) + w->len);
	struct proto_msg m;
	const char *why;
	uint16_t status;
	int rc;

	memset(out, 0, sizeof(*out));
	memcpy(r->body, w->buf, w->len);
	r->ds = ds;
	r->who = d->who;
	r->m = (struct proto_msg){ .version = PROTO_VERSION,
				   .kind = PROTO_REQUEST, .type = type,
				   .request_id = next_id++,
				   .body = { r->body, w->len } };
	bw_writer_init(&r->resp, 1 << 20);
	if ((status = ds_req_prepare(ds, r, &why)) != 0) {
		ds_req_free(r);
		return out->status = status;
	}
	/* One job of a batch: its savepoint, undone if it fails. */
	st->ops->savepoint(st);
	if ((rc = ds_run_request(st, &r->job)) != 0)
		st->ops->rollback_to(st);
	else
		st->ops->release(st);
	if ((rc == 0 || r->refused) &&
	    proto_decode(r->resp.buf, r->resp.len, 1 << 20, &m) == 0) {
		out->status = m.status;
		out->len = m.body.n < sizeof(out->body) ? m.body.n : 0;
		memcpy(out->body, m.body.p, out->len);
	} else {
		out->status = PROTO_E_INTERNAL;
	}
	ds_req_free(r);
	return out->status;
}

static struct proto_msg response(uint16_t type, const struct reply *r)
{
	return (struct proto_msg){ .version = PROTO_VERSION,
				   .kind = PROTO_RESPONSE, .type = type,
				   .body = { r->body, r->len } };
}

/* The pushes made since the last look, then forgotten. */
static size_t pushes_to(const struct tdev *d, uint8_t type, uint8_t kind)
{
	struct ds_pushes *q = &ds->out[0];
	size_t n = 0;

	for (size_t i = 0; i < q->n; i++) {
		const struct ds_push *p = &q->b->v[i];

		if (p->s == &d->sess && p->type == type &&
		    (type != DS_PUSH_DELIVER || p->m->kind == kind))
			n++;
	}
	return n;
}

static void forget_pushes(void)
{
	ds_pushes_clear(&ds->out[0]);
}

/* The last DELIVER pushed to d, processed by d's group. */
static int process_last(struct tdev *d, struct mls_process_result *res)
{
	struct ds_pushes *q = &ds->out[0];

	for (size_t i = q->n; i-- > 0;) {
		const struct ds_push *p = &q->b->v[i];

		if (p->s == &d->sess && p->type == DS_PUSH_DELIVER)
			return mls_group_process(d->g, p->m->payload,
						 p->m->len, res);
	}
	return -1;
}

/* ---- the group's side of the test devices ---- */

static const uint8_t gid[16] = "test-group-00001";
static const uint8_t key_a[16] = "idempotency-0001";

static void ds_key(const uint8_t **p, size_t *n)
{
	mls_signer_public_key(ds->signer, p, n);
}

static bool create_group(struct tdev *d, uint16_t *status)
{
	struct proto_span cred = { ds->credential.p, ds->credential.len }, c;
	struct mls_extensions *ext = NULL;
	struct mls_credential *dscred = NULL;
	const uint8_t *k;
	uint8_t *gi = NULL;
	size_t kn, gi_len, n;
	struct bw_writer w;
	struct reply rep;

	ds_key(&k, &kn);
	CHECK(proto_decode_x509_credential(&cred, &c, 1, &n) == 0);
	CHECK(mls_credential_new_x509(&c.p, &c.n, 1, &dscred) == 0);
	CHECK(mls_extensions_new(&ext) == 0);
	CHECK(mls_extensions_add_external_sender(ext, k, kn, dscred) == 0);
	CHECK(mls_group_create(&d->cfg, d->signer, gid, sizeof(gid), ext,
			       &d->g) == 0);
	CHECK(mls_group_group_info(d->g, true, &gi, &gi_len) == 0);
	bw_writer_init(&w, 0);
	bw_write_opaque(&w, gi, gi_len);
	*status = call(d, PROTO_T_GROUP_CREATE, &w, &rep);
	bw_writer_free(&w);
	free(gi);
	mls_extensions_free(ext);
	mls_credential_free(dscred);
	return true;
}

static uint16_t upload(struct tdev *d, size_t n)
{
	struct bw_writer w;
	struct reply rep;
	size_t list;
	uint8_t *kp;
	size_t len;

	bw_writer_init(&w, 0);
	list = bw_write_vector_begin(&w);
	for (size_t i = 0; i < n; i++) {
		if (mls_key_package_bundle_new(&d->cfg, d->signer,
					       &d->kps[d->n_kps]) != 0 ||
		    mls_key_package_bundle_message(d->kps[d->n_kps++], &kp,
						   &len) != 0)
			return PROTO_E_INTERNAL;
		bw_write_opaque(&w, kp, len);
		free(kp);
	}
	bw_write_vector_end(&w, list);
	bw_write_optional(&w, false);
	call(d, PROTO_T_KP_UPLOAD, &w, &rep);
	bw_writer_free(&w);
	return rep.status;
}

/* Claim the users' devices' packages into the group as Add proposals. */
static uint16_t claim_into(struct tdev *d, const char *const *users,
			   size_t n)
{
	struct proto_kp_claim_resp resp;
	struct proto_claim c;
	struct bw_reader it;
	struct bw_writer w;
	struct reply rep;
	struct proto_msg m;
	size_t list;

	bw_writer_init(&w, 0);
	list = bw_write_vector_begin(&w);
	for (size_t i = 0; i < n; i++)
		bw_write_opaque(&w, users[i], strlen(users[i]));
	bw_write_vector_end(&w, list);
	call(d, PROTO_T_KP_CLAIM, &w, &rep);
	bw_writer_free(&w);
	if (rep.status != 0)
		return rep.status;
	m = response(PROTO_T_KP_CLAIM, &rep);
	if (proto_decode_kp_claim_resp(&m, &resp) != 0)
		return PROTO_E_INTERNAL;
	proto_list_iter(&resp.claims, &it);
	while (proto_next_claim(&it, &c))
		if (mls_group_propose_add(d->g, c.key_package.p,
					  c.key_package.n, NULL, NULL) != 0)
			return PROTO_E_INTERNAL;
	return 0;
}

static uint16_t submit(struct tdev *d, const uint8_t *commit, size_t clen,
		       const uint8_t *gi, size_t gilen, const uint8_t *welcome,
		       size_t wlen, const uint8_t *key, struct reply *rep)
{
	struct proto_group_commit_req req = {
		{ gid, sizeof(gid) }, { key, 16 }, { commit, clen },
		{ gi, gilen }, welcome != NULL, { welcome, wlen },
	};
	struct bw_writer w;

	bw_writer_init(&w, 0);
	proto_encode_group_commit_req(&w, &req);
	call(d, PROTO_T_GROUP_COMMIT, &w, rep);
	bw_writer_free(&w);
	return rep->status;
}

static uint16_t commit(struct tdev *d, struct mls_commit_output *co,
		       const uint8_t *key, struct reply *rep)
{
	struct mls_commit_options opt = { .force_path = true,
					  .ratchet_tree = true };

	if (mls_group_commit(d->g, &opt, co) != 0)
		return PROTO_E_INTERNAL;
	return submit(d, co->commit, co->commit_len, co->group_info,
		      co->group_info_len, co->welcome, co->welcome_len, key,
		      rep);
}

static uint16_t send_text(struct tdev *d, const char *text,
			  const uint8_t *key, struct reply *rep)
{
	struct proto_group_message_req req;
	struct bw_writer w;
	uint8_t *msg = NULL;
	size_t len = 0;

	if (mls_group_encrypt(d->g, text, strlen(text), NULL, 0, &msg,
			      &len) != 0)
		return PROTO_E_INTERNAL;
	req = (struct proto_group_message_req){ { gid, sizeof(gid) },
						{ key, 16 }, { msg, len } };
	bw_writer_init(&w, 0);
	proto_encode_group_message_req(&w, &req);
	call(d, PROTO_T_GROUP_SEND, &w, rep);
	bw_writer_free(&w);
	free(msg);
	return rep->status;
}

static uint64_t last_seq(void)
{
	struct store_group g = { 0 };
	uint64_t logged = 0, seq;

	st->ds->group_get(st, gid, sizeof(gid), &g);
	st->ds->log_last_seq(st, g.gid, &logged);
	seq = logged > g.last_seq ? logged : g.last_seq;
	store_group_clear(&g);
	return seq;
}

/* ---- the tests ---- */

static struct tdev alice, alice2, bob, carol, eve;

static bool test_create(void)
{
	uint16_t status;

	CHECK(create_group(&alice, &status));
	CHECK_EQ_INT(status, 0);
	/* Again: the group id is taken. */
	{
		struct mls_group *first = alice.g;

		alice.g = NULL;
		CHECK(create_group(&alice, &status));
		CHECK_EQ_INT(status, PROTO_E_CONFLICT);
		mls_group_free(alice.g);
		alice.g = first;
	}
	return true;
}

static bool test_add_with_welcome(void)
{
	static const char *const users[] = { "bob", "carol" };
	struct mls_commit_output co = { 0 };
	struct proto_seq_epoch se;
	struct reply rep;
	struct proto_msg m;

	CHECK_EQ_INT(upload(&bob, 2), 0);
	CHECK_EQ_INT(upload(&carol, 1), 0);
	CHECK_EQ_INT(claim_into(&alice, users, 2), 0);
	CHECK_EQ_INT(commit(&alice, &co, key_a, &rep), 0);
	m = response(PROTO_T_GROUP_COMMIT, &rep);
	CHECK(proto_decode_seq_epoch(&m, &se) == 0);
	CHECK_EQ_INT(se.seq, 1);
	CHECK_EQ_INT(se.epoch, 1);
	/* The commit goes to alice, who was a member before it; each new
	 * device gets the Welcome in its inbox (seq 1), once. */
	CHECK_EQ_INT(pushes_to(&alice, DS_PUSH_DELIVER, 2), 1);
	CHECK_EQ_INT(pushes_to(&bob, DS_PUSH_DELIVER, 2), 0);
	CHECK_EQ_INT(pushes_to(&bob, DS_PUSH_DELIVER, 3), 1);
	CHECK_EQ_INT(pushes_to(&carol, DS_PUSH_DELIVER, 3), 1);
	CHECK(mls_group_merge_pending_commit(alice.g) == 0);
	CHECK(mls_group_join(&bob.cfg,
			     (const struct mls_key_package_bundle *const *)
				     bob.kps,
			     bob.n_kps, co.welcome, co.welcome_len, NULL, 0,
			     &bob.g) == 0);
	CHECK(mls_group_join(&carol.cfg,
			     (const struct mls_key_package_bundle *const *)
				     carol.kps,
			     carol.n_kps, co.welcome, co.welcome_len, NULL, 0,
			     &carol.g) == 0);
	forget_pushes();
	/* A retry of the same commit: the original answer, nothing new. */
	CHECK_EQ_INT(submit(&alice, co.commit, co.commit_len, co.group_info,
			    co.group_info_len, co.welcome, co.welcome_len,
			    key_a, &rep),
		     0);
	m = response(PROTO_T_GROUP_COMMIT, &rep);
	CHECK(proto_decode_seq_epoch(&m, &se) == 0 && se.seq == 1);
	CHECK_EQ_INT(ds->out[0].n, 0);
	mls_commit_output_clear(&co);
	return true;
}

static bool test_fan_out_once(void)
{
	uint8_t k1[16] = "send-bob-0000001", k2[16] = "send-bob-0000002";
	struct mls_process_result res;
	struct reply rep;

	CHECK_EQ_INT(send_text(&bob, "hello", k1, &rep), 0);
	/* Every member device once, but not the sender: it cannot read
	 * its own message, and the response gave it the seq. */
	CHECK_EQ_INT(pushes_to(&alice, DS_PUSH_DELIVER, 1), 1);
	CHECK_EQ_INT(pushes_to(&bob, DS_PUSH_DELIVER, 1), 0);
	CHECK_EQ_INT(pushes_to(&carol, DS_PUSH_DELIVER, 1), 1);
	CHECK(process_last(&alice, &res) == 0);
	CHECK(res.kind == MLS_RESULT_APPLICATION && res.data_len == 5);
	mls_process_result_clear(&res);
	forget_pushes();
	/* The key again with other content: 16, and nothing stored. */
	CHECK_EQ_INT(send_text(&bob, "other", k1, &rep), PROTO_E_IDEMPOTENCY);
	CHECK_EQ_INT(ds->out[0].n, 0);
	CHECK_EQ_INT(send_text(&bob, "again", k2, &rep), 0);
	forget_pushes();
	CHECK_EQ_INT(last_seq(), 3);
	/* carol processes both to keep up. */
	return true;
}

static bool test_race_and_forgery(void)
{
	struct mls_commit_output co_a = { 0 }, co_b = { 0 };
	uint8_t ka[16] = "race-alice-00001", kb[16] = "race-bob-0000001";
	struct mls_commit_options opt = { .force_path = true,
					  .ratchet_tree = true };
	struct proto_stale_epoch stale;
	struct reply rep;
	struct proto_msg m;
	uint64_t before = last_seq();

	/* bob submits alice's valid commit: another leaf's, refused, and
	 * the group is as before. */
	CHECK(mls_group_commit(alice.g, &opt, &co_a) == 0);
	CHECK_EQ_INT(submit(&bob, co_a.commit, co_a.commit_len,
			    co_a.group_info, co_a.group_info_len, NULL, 0, kb,
			    &rep),
		     PROTO_E_FORBIDDEN);
	CHECK_EQ_INT(last_seq(), before);
	/* alice's commit, then bob's of the same epoch: stale. */
	CHECK_EQ_INT(submit(&alice, co_a.commit, co_a.commit_len,
			    co_a.group_info, co_a.group_info_len, NULL, 0, ka,
			    &rep),
		     0);
	CHECK(mls_group_merge_pending_commit(alice.g) == 0);
	CHECK_EQ_INT(commit(&bob, &co_b, kb, &rep), PROTO_E_STALE_EPOCH);
	m = response(PROTO_T_GROUP_COMMIT, &rep);
	m.status = PROTO_E_STALE_EPOCH;
	CHECK(proto_decode_stale_epoch(&m, &stale) == 0);
	CHECK_EQ_INT(stale.current_epoch, 2);
	mls_group_discard_pending_commit(bob.g);
	mls_commit_output_clear(&co_a);
	mls_commit_output_clear(&co_b);
	forget_pushes();
	return true;
}

static bool test_not_members(void)
{
	uint8_t k[16] = "eve-key-00000001", other[16] = "unknown-group-01";
	struct proto_group_message_req req = { { other, 16 }, { k, 16 },
					       { k, 16 } };
	struct bw_writer w;
	struct reply rep;

	bw_writer_init(&w, 0);
	proto_encode_group_message_req(&w, &req);
	CHECK_EQ_INT(call(&eve, PROTO_T_GROUP_SEND, &w, &rep),
		     PROTO_E_UNKNOWN_GROUP);
	bw_writer_reset(&w);
	w.err = 0;
	req.group_id = (struct proto_span){ gid, 16 };
	proto_encode_group_message_req(&w, &req);
	CHECK_EQ_INT(call(&eve, PROTO_T_GROUP_SEND, &w, &rep),
		     PROTO_E_NOT_MEMBER);
	bw_writer_reset(&w);
	w.err = 0;
	proto_encode_group_ref(&w, &(struct proto_group_ref){ { gid, 16 } });
	CHECK_EQ_INT(call(&eve, PROTO_T_GROUP_INFO, &w, &rep),
		     PROTO_E_NOT_MEMBER);
	CHECK_EQ_INT(call(&alice2, PROTO_T_GROUP_INFO, &w, &rep), 0);
	bw_writer_free(&w);
	return true;
}

/* A claim is all or nothing. */
static bool test_claims(void)
{
	static const char *const some[] = { "bob", "alice" },
				 *const unknown[] = { "bob", "nobody" };
	struct bw_writer w;
	struct reply rep;
	uint32_t before = 0, after = 0;
	bool low;
	size_t list;

	CHECK(ds_kp_stock(ds, st, bob.who.id, &before, &low) == 0);
	CHECK_EQ_INT(before, 1);
	/* alice2 has no key package: the claim fails and bob keeps his. */
	bw_writer_init(&w, 0);
	list = bw_write_vector_begin(&w);
	for (size_t i = 0; i < 2; i++)
		bw_write_opaque(&w, some[i], strlen(some[i]));
	bw_write_vector_end(&w, list);
	CHECK_EQ_INT(call(&carol, PROTO_T_KP_CLAIM, &w, &rep),
		     PROTO_E_NO_KEY_PACKAGE);
	bw_writer_reset(&w);
	w.err = 0;
	list = bw_write_vector_begin(&w);
	for (size_t i = 0; i < 2; i++)
		bw_write_opaque(&w, unknown[i], strlen(unknown[i]));
	bw_write_vector_end(&w, list);
	CHECK_EQ_INT(call(&carol, PROTO_T_KP_CLAIM, &w, &rep),
		     PROTO_E_UNKNOWN_USER);
	CHECK(ds_kp_stock(ds, st, bob.who.id, &after, &low) == 0);
	CHECK_EQ_INT(after, before);
	CHECK_EQ_INT(ds->out[0].n, 0);
	bw_writer_free(&w);
	return true;
}

static bool test_external_join(void)
{
	struct mls_external_join p = { 0 };
	struct proto_group_info_resp info;
	struct mls_commit_output co = { 0 };
	uint8_t k[16] = "external-join-01";
	struct mls_group *eg = NULL;
	struct bw_writer w;
	struct reply rep, got;
	struct proto_msg m;

	bw_writer_init(&w, 0);
	proto_encode_group_ref(&w, &(struct proto_group_ref){ { gid, 16 } });
	CHECK_EQ_INT(call(&alice2, PROTO_T_GROUP_INFO, &w, &got), 0);
	m = response(PROTO_T_GROUP_INFO, &got);
	CHECK(proto_decode_group_info_resp(&m, &info) == 0);
	p.group_info = info.group_info.p;
	p.group_info_len = info.group_info.n;
	/* eve, whose user has no device in the group, may not join. */
	CHECK(mls_group_join_external(&eve.cfg, eve.signer, &p, &co.commit,
				      &co.commit_len, &eg) == 0);
	CHECK(mls_group_group_info(eg, true, &co.group_info,
				   &co.group_info_len) == 0);
	CHECK_EQ_INT(submit(&eve, co.commit, co.commit_len, co.group_info,
			    co.group_info_len, NULL, 0, k, &rep),
		     PROTO_E_NOT_MEMBER);
	mls_group_free(eg);
	mls_commit_output_clear(&co);
	/* alice's new device may. */
	CHECK(mls_group_join_external(&alice2.cfg, alice2.signer, &p,
				      &co.commit, &co.commit_len,
				      &alice2.g) == 0);
	CHECK(mls_group_group_info(alice2.g, true, &co.group_info,
				   &co.group_info_len) == 0);
	CHECK_EQ_INT(submit(&alice2, co.commit, co.commit_len, co.group_info,
			    co.group_info_len, NULL, 0, k, &rep),
		     0);
	/* Everyone who was a member gets it; the joiner does not. */
	CHECK_EQ_INT(pushes_to(&alice, DS_PUSH_DELIVER, 2), 1);
	CHECK_EQ_INT(pushes_to(&alice2, DS_PUSH_DELIVER, 2), 0);
	{
		struct mls_process_result res;

		CHECK(process_last(&alice, &res) == 0);
		mls_process_result_clear(&res);
	}
	mls_commit_output_clear(&co);
	forget_pushes();
	bw_writer_free(&w);
	return true;
}

static int count_gid(void *arg, int64_t group)
{
	(void)group;
	(*(int *)arg)++;
	return 0;
}

/* Groups the store says the device is a member of now. */
static int count_groups(const struct tdev *d)
{
	int n = 0;

	return st->ds->device_groups(st, d->who.id, count_gid, &n) == 0 ? n
									 : -1;
}

static bool test_revocation(void)
{
	struct mls_commit_output co = { 0 };
	struct mls_process_result res;
	uint8_t k[16] = "remove-carol-001";
	struct reply rep;
	uint8_t fp[32];

	/* carol's device is revoked: out of the registry, then the server
	 * proposes her removal, signed with its key, to the members. */
	memcpy(fp, carol.who.fingerprint, sizeof(fp));
	devices_remove(srv.devices, fp);
	CHECK(st->ops->savepoint(st) == 0);
	CHECK(ds_remove_devices(ds, st, carol.who.id, NULL) == 0);
	CHECK(st->ops->release(st) == 0);
	CHECK_EQ_INT(pushes_to(&alice, DS_PUSH_DELIVER, 2), 1);
	CHECK(process_last(&alice, &res) == 0);
	CHECK(res.kind == MLS_RESULT_PROPOSAL && res.sender_type == 2);
	mls_process_result_clear(&res);
	forget_pushes();
	/* alice commits it; carol's membership ends there. */
	CHECK_EQ_INT(commit(&alice, &co, k, &rep), 0);
	CHECK(mls_group_merge_pending_commit(alice.g) == 0);
	CHECK_EQ_INT(pushes_to(&carol, DS_PUSH_DELIVER, 2), 1);
	CHECK_EQ_INT(count_groups(&carol), 0);
	CHECK_EQ_INT(count_groups(&bob), 1);
	{
		struct ds_group *g;

		CHECK(ds_group_find(ds, st, gid, sizeof(gid), &g) == 0);
		CHECK(!ds_group_has_device(g, carol.who.id));
		CHECK(ds_group_has_device(g, alice2.who.id));
	}
	mls_commit_output_clear(&co);
	forget_pushes();
	return true;
}

/* A session whose backlog pages are still being read takes a message's
 * push only once its pages have gone past the message's group: what lies
 * ahead the next pages read; what lies behind no page would (queue.c). */
static bool test_pushes_while_reading(void)
{
	uint8_t k[16] = "while-reading-01";
	struct store_cursor *c = &bob.sess.cursor;
	struct ds_group *g;
	struct reply rep;
	int64_t at;

	CHECK(ds_group_find(ds, st, gid, sizeof(gid), &g) == 0);
	at = g->gid;
	bob.sess.synced = false;
	*c = (struct store_cursor){ .in_groups = false };
	CHECK_EQ_INT(send_text(&alice, "inbox first", k, &rep), 0);
	CHECK_EQ_INT(pushes_to(&bob, DS_PUSH_DELIVER, 1), 0);
	forget_pushes();
	*c = (struct store_cursor){ .in_groups = true, .gid = at, .seq = 1 };
	k[15]++;
	CHECK_EQ_INT(send_text(&alice, "in its group", k, &rep), 0);
	CHECK_EQ_INT(pushes_to(&bob, DS_PUSH_DELIVER, 1), 0);
	forget_pushes();
	c->gid = at + 1;
	k[15]++;
	CHECK_EQ_INT(send_text(&alice, "behind", k, &rep), 0);
	CHECK_EQ_INT(pushes_to(&bob, DS_PUSH_DELIVER, 1), 1);
	CHECK_EQ_INT(pushes_to(&alice2, DS_PUSH_DELIVER, 1), 1);
	forget_pushes();
	bob.sess.synced = true;
	return true;
}

/* ---- set-up ---- */

static bool setup(void)
{
	uint8_t *spki = NULL, *der = NULL;
	const uint8_t *pub;
	size_t pub_len, der_len;
	struct mls_credential *cred = NULL;
	struct proto_span cert;
	struct bw_writer w;
	EVP_PKEY *pk;
	char db[300];
	int n;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(db, sizeof(db), "%s/db", dir);
	config_defaults(&srv.cfg);
	srv.cfg.workers = 1;
	srv.cfg.key_package_low_water = 1;
	CHECK(store_sqlite_open(db, &st) == 0);
	CHECK(devices_new(&srv.devices) == 0);
	CHECK(ca_generate("DS Test Org", 1, 365, &ca) == 0);
	CHECK(ca_cert_der(ca, &srv.ca_cert_der.p, &srv.ca_cert_der.len) == 0);
	CHECK((ds = calloc(1, sizeof(*ds))) != NULL);
	ds->srv = &srv;
	ds->suite = 1;
	ds->accept.ds = ds;
	CHECK(ds_groups_init(ds) == 0);
	CHECK((ds->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL)) != NULL);
	CHECK((ds->out = calloc(1, sizeof(*ds->out))) != NULL);
	/* The DS key and its credential, as bulwarkd makes them. */
	CHECK(mls_signer_new(1, NULL, 0, &ds->signer) == 0);
	mls_signer_public_key(ds->signer, &pub, &pub_len);
	CHECK((pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
						pub_len)) != NULL);
	CHECK((n = i2d_PUBKEY(pk, &spki)) > 0);
	CHECK(ca_issue_ds_cert(ca, "localhost", spki, (size_t)n, 30, &der,
			       &der_len) == 0);
	CHECK(mls_credential_new_x509((const uint8_t *const *)&der, &der_len,
				      1, &cred) == 0);
	CHECK(mls_signer_set_credential(ds->signer, cred) == 0);
	cert = (struct proto_span){ der, der_len };
	bw_writer_init(&w, 0);
	CHECK(proto_encode_x509_credential(&w, &cert, 1) == 0);
	CHECK(bw_bytes_set(&ds->credential, w.buf, w.len) == 0);
	bw_writer_free(&w);
	mls_credential_free(cred);
	OPENSSL_free(spki);
	free(der);
	EVP_PKEY_free(pk);
	CHECK(make_device(&alice, "alice", "alice-1"));
	CHECK(make_device(&alice2, "alice", "alice-2"));
	CHECK(make_device(&bob, "bob", "bob-1"));
	CHECK(make_device(&carol, "carol", "carol-1"));
	CHECK(make_device(&eve, "eve", "eve-1"));
	return true;
}

int main(void)
{
	int failed = 0;
	char path[300];

	if (!setup())
		return 1;
	RUN(test_create, &failed);
	RUN(test_add_with_welcome, &failed);
	RUN(test_fan_out_once, &failed);
	RUN(test_race_and_forgery, &failed);
	RUN(test_not_members, &failed);
	RUN(test_claims, &failed);
	RUN(test_external_join, &failed);
	RUN(test_revocation, &failed);
	RUN(test_pushes_while_reading, &failed);
	forget_pushes();
	free_device(&alice);
	free_device(&alice2);
	free_device(&bob);
	free_device(&carol);
	free_device(&eve);
	free(ds->out);
	ds_groups_free(ds);
	EVP_MD_free(ds->sha256);
	mls_signer_free(ds->signer);
	bw_bytes_clear(&ds->credential);
	free(ds);
	devices_free(srv.devices);
	bw_bytes_clear(&srv.ca_cert_der);
	ca_free(ca);
	store_close(st);
	snprintf(path, sizeof(path), "%s/db", dir);
	unlink(path);
	rmdir(dir);
	return failed == 0 ? 0 : 1;
}

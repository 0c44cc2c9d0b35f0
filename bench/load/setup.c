/* setup.c - the layout's conversations, made through the server
 * (setup.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "conn.h"
#include "framing.h"
#include "loop.h"
#include "setup.h"

/* Conversations built at once. */
#define SETUP_PARALLEL 64u
/* Key packages per KP_UPLOAD, and users per KP_CLAIM. */
#define UPLOAD_BATCH PROTO_MAX_UPLOAD_KEY_PACKAGES
#define CLAIM_BATCH PROTO_MAX_CLAIM_USERS

/* What a request id says: the job (conversation, or device for uploads)
 * and the step. */
enum step { ST_CREATE = 1, ST_CLAIM, ST_COMMIT, ST_UPLOAD, ST_INFO };
#define RID(idx, step) (LG_RID_OTHER | (uint32_t)(idx) << 3 | (step))
#define RID_STEP(rid) ((rid) & 7u)
#define RID_INDEX(rid) (((rid) & ~(LG_RID_OTHER | LG_RID_CONN)) >> 3)

struct job {
	struct mls_group *grp; /* the creator's, until committed */
	uint32_t next_claim;   /* next member to claim a key package of */
	uint32_t claims_out;
	uint32_t joins_left;
	uint64_t seq;          /* the commit's */
	bool committed;
};

struct setup {
	struct lg *g;
	struct lg_mls *m;
	struct job *jobs;      /* one per conversation */
	uint32_t next_job, active, done;
	uint32_t uploads_out, echoes_due;
	bool have_info;
	char error[160];
};

static struct setup S;

/* The first failure ends the setup. */
static void fail_text(const char *what, const char *why)
{
	if (S.error[0] == '\0')
		snprintf(S.error, sizeof(S.error), "%s: %s", what, why);
}

static void fail(const char *what, int rc)
{
	fail_text(what, rc <= -450 && rc > -480 ? proto_strerror(rc)
						 : mls_strerror(rc));
}

/* The server refused a request (or answered it with something else). */
static void refused(const char *what, const struct proto_msg *m)
{
	fail_text(what, m->status != PROTO_OK ? proto_status_text(m->status)
					      : "malformed response");
}

static bool failed(struct lg *g)
{
	(void)g;
	return S.error[0] != '\0';
}

static struct lconn *creator_conn(struct conv *c)
{
	return &c->m[0].dev->conn;
}

/* ---- server info and key packages ---- */

static void ask_info(struct lg *g, struct dev *d)
{
	size_t mark;
	struct bw_writer *w = conn_msg_begin(g, &d->conn, PROTO_T_SERVER_INFO,
					      RID(0, ST_INFO), &mark);

	conn_msg_send(g, &d->conn, w, mark);
}

static void on_info(struct lg *g, const struct proto_msg *m)
{
	struct proto_server_info info;
	int rc;

	(void)g;
	if (m->status != PROTO_OK || proto_decode_server_info(m, &info) != 0) {
		refused("SERVER_INFO", m);
		return;
	}
	if ((rc = lgm_set_ds(S.m, &info)) != 0) {
		fail("the server's delivery-service credential", rc);
		return;
	}
	S.have_info = true;
}

/* Key packages for every conversation d will be added to. */
static int make_key_packages(struct lg *g, struct dev *d)
{
	uint32_t need = 0;
	int rc;

	for (uint32_t i = 0; i < d->n_mem; i++)
		need += d->mem[i] != &d->mem[i]->conv->m[0];
	d->kps = lg_xcalloc(need ? need : 1, sizeof(*d->kps));
	for (d->n_kps = 0; d->n_kps < need; d->n_kps++)
		if ((rc = mls_key_package_bundle_new(&S.m->cfg, d->signer,
						     &d->kps[d->n_kps])) != 0)
			return rc;
	(void)g;
	return 0;
}

static int upload(struct lg *g, struct dev *d, uint32_t from, uint32_t n)
{
	struct proto_kp_upload_req req = { 0 };
	struct bw_writer list, *w;
	uint8_t *kp;
	size_t kp_len, mark;
	int rc = 0;

	bw_writer_init(&list, 0);
	for (uint32_t i = from; i < from + n && rc == 0; i++) {
		if ((rc = mls_key_package_bundle_message(d->kps[i], &kp,
							 &kp_len)) != 0)
			break;
		proto_write_key_package(&list,
					&(struct proto_span){ kp, kp_len });
		free(kp);
	}
	if (rc == 0 && (rc = list.err) == 0) {
		req.key_packages.bytes =
			(struct proto_span){ list.buf, list.len };
		req.key_packages.count = n;
		w = conn_msg_begin(g, &d->conn, PROTO_T_KP_UPLOAD,
				   RID(d->idx, ST_UPLOAD), &mark);
		proto_encode_kp_upload_req(w, &req);
		if ((rc = conn_msg_send(g, &d->conn, w, mark)) == 0)
			S.uploads_out++;
	}
	bw_writer_free(&list);
	return rc;
}

static int upload_all(struct lg *g, struct dev *d)
{
	int rc = 0;

	for (uint32_t i = 0; i < d->n_kps && rc == 0; i += UPLOAD_BATCH)
		rc = upload(g, d, i,
			    d->n_kps - i < UPLOAD_BATCH ? d->n_kps - i
							: UPLOAD_BATCH);
	return rc;
}

/* ---- one conversation ---- */

static void send_create(struct lg *g, struct conv *c, struct job *j)
{
	struct dev *creator = c->m[0].dev;
	struct proto_group_create_req req;
	uint8_t *info = NULL;
	size_t info_len = 0, mark;
	struct bw_writer *w;
	int rc;

	if ((rc = mls_group_create(&S.m->cfg, creator->signer, c->gid,
				   LG_GID_LEN, S.m->ext, &j->grp)) != 0 ||
	    (rc = mls_group_group_info(j->grp, true, &info, &info_len)) != 0) {
		fail("creating a group", rc);
		return;
	}
	req.group_info = (struct proto_span){ info, info_len };
	w = conn_msg_begin(g, creator_conn(c), PROTO_T_GROUP_CREATE,
			   RID(c->idx, ST_CREATE), &mark);
	proto_encode_group_create_req(w, &req);
	conn_msg_send(g, creator_conn(c), w, mark);
	free(info);
}

/* Claim the next batch of the other members' key packages. */
static void send_claim(struct lg *g, struct conv *c, struct job *j)
{
	char names[CLAIM_BATCH][16];
	size_t mark, list;
	struct bw_writer *w = conn_msg_begin(g, creator_conn(c),
					      PROTO_T_KP_CLAIM,
					      RID(c->idx, ST_CLAIM), &mark);
	uint32_t k = 0;

	list = bw_write_vector_begin(w);
	for (; j->next_claim < c->n && k < CLAIM_BATCH; j->next_claim++, k++) {
		int n = snprintf(names[k], sizeof(names[k]), "u%u",
				 c->m[j->next_claim].dev->idx);

		proto_write_user(w, &(struct proto_span){
					    (const uint8_t *)names[k],
					    (size_t)n });
	}
	bw_write_vector_end(w, list);
	conn_msg_send(g, creator_conn(c), w, mark);
	j->claims_out++;
}

static void send_commit(struct lg *g, struct conv *c, struct job *j)
{
	struct mls_commit_options opt = { .ratchet_tree = true };
	struct mls_commit_output co = { 0 };
	struct proto_group_commit_req req;
	uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN];
	struct bw_writer *w;
	size_t mark;
	int rc;

	if ((rc = mls_group_commit(j->grp, &opt, &co)) != 0) {
		fail("committing the Adds", rc);
		return;
	}
	if (RAND_bytes(key, sizeof(key)) != 1)
		lg_die("no randomness");
	req = (struct proto_group_commit_req){
		.group_id = { c->gid, LG_GID_LEN },
		.idempotency_key = { key, sizeof(key) },
		.commit = { co.commit, co.commit_len },
		.group_info = { co.group_info, co.group_info_len },
		.has_welcome = co.welcome != NULL,
		.welcome = { co.welcome, co.welcome_len },
	};
	w = conn_msg_begin(g, creator_conn(c), PROTO_T_GROUP_COMMIT,
			   RID(c->idx, ST_COMMIT), &mark);
	proto_encode_group_commit_req(w, &req);
	if (conn_msg_send(g, creator_conn(c), w, mark) != 0)
		fail("sending a commit", w->err ? w->err : BW_ERR_TOO_LONG);
	else if (c->n > 2)
		lg_log(g, "setup: %u members added to a group by one commit "
			  "(%zu bytes with its Welcome); they join",
		       c->n - 1, w->len);
	mls_commit_output_clear(&co);
}

static void finish_job(struct conv *c, struct job *j)
{
	uint32_t tenth = S.g->n_convs / 10 ? S.g->n_convs / 10 : 1;

	for (uint32_t i = 0; i < c->n; i++)
		c->m[i].last_seq = j->seq;
	S.active--;
	S.done++;
	if (S.done % tenth == 0 || c->n > 2)
		lg_log(S.g, "setup: %u/%u conversations (the last of %u members)",
		       S.done, S.g->n_convs, c->n);
}

static void on_create(struct lg *g, struct conv *c, struct job *j,
		      const struct proto_msg *m)
{
	if (m->status != PROTO_OK) {
		refused("GROUP_CREATE", m);
		return;
	}
	send_claim(g, c, j);
}

static void on_claim(struct lg *g, struct conv *c, struct job *j,
		     const struct proto_msg *m)
{
	struct proto_kp_claim_resp resp;
	struct proto_claim claim;
	struct bw_reader it;
	int rc;

	j->claims_out--;
	if (m->status != PROTO_OK ||
	    proto_decode_kp_claim_resp(m, &resp) != 0) {
		refused("KP_CLAIM", m);
		return;
	}
	proto_list_iter(&resp.claims, &it);
	while (proto_next_claim(&it, &claim))
		if ((rc = mls_group_propose_add(j->grp, claim.key_package.p,
						claim.key_package.n, NULL,
						NULL)) != 0) {
			fail("a claimed key package", rc);
			return;
		}
	if (j->next_claim < c->n)
		send_claim(g, c, j);
	else if (j->claims_out == 0)
		send_commit(g, c, j);
}

static void on_commit(struct conv *c, struct job *j, const struct proto_msg *m)
{
	struct proto_seq_epoch se;
	struct member *creator = &c->m[0];
	int rc;

	if (m->status != PROTO_OK || proto_decode_seq_epoch(m, &se) != 0) {
		refused("GROUP_COMMIT", m);
		return;
	}
	if ((rc = mls_group_merge_pending_commit(j->grp)) != 0) {
		fail("merging the commit", rc);
		return;
	}
	creator->g = j->grp;
	j->grp = NULL;
	c->epoch = se.epoch;
	j->seq = se.seq;
	j->committed = true;
	member_own_push(creator, se.seq);
	S.echoes_due++;
	if (j->joins_left == 0)
		finish_job(c, j);
}

static void start_jobs(struct lg *g)
{
	while (S.active < SETUP_PARALLEL && S.next_job < g->n_convs &&
	       !failed(g)) {
		struct conv *c = &g->convs[S.next_job];
		struct job *j = &S.jobs[S.next_job++];

		j->next_claim = 1;
		j->joins_left = c->n - 1;
		S.active++;
		send_create(g, c, j);
	}
}

/* ---- the hooks ---- */

static void on_response(struct lg *g, struct dev *d, const struct proto_msg *m)
{
	uint32_t idx = RID_INDEX(m->request_id);

	switch (RID_STEP(m->request_id)) {
	case ST_INFO:
		on_info(g, m);
		return;
	case ST_UPLOAD:
		S.uploads_out--;
		if (m->status != PROTO_OK)
			refused("KP_UPLOAD", m);
		return;
	default:
		break;
	}
	if (idx >= g->n_convs) {
		fail_text("setup", "a response to nothing asked");
		return;
	}
	switch (RID_STEP(m->request_id)) {
	case ST_CREATE:
		on_create(g, &g->convs[idx], &S.jobs[idx], m);
		break;
	case ST_CLAIM:
		on_claim(g, &g->convs[idx], &S.jobs[idx], m);
		break;
	case ST_COMMIT:
		on_commit(&g->convs[idx], &S.jobs[idx], m);
		break;
	default:
		fail_text("setup", "a response to nothing asked");
	}
	(void)d;
}

static void on_welcome(struct lg *g, struct dev *d,
		       const struct proto_deliver *w)
{
	struct mls_group *grp = NULL;
	const uint8_t *gid;
	struct member *mb;
	struct conv *c;
	size_t gid_len;
	int rc;

	d->inbox.ack_seq = w->seq;
	conn_ack_later(g, &d->conn, &d->inbox);
	if ((rc = mls_group_join(&S.m->cfg,
				 (const struct mls_key_package_bundle *const *)
					 d->kps,
				 d->n_kps, w->payload.p, w->payload.n, NULL, 0,
				 &grp)) != 0) {
		fail("joining from a Welcome", rc);
		return;
	}
	mls_group_id(grp, &gid, &gid_len);
	if ((c = convs_find(g, gid, gid_len)) == NULL ||
	    (mb = convs_member(c, d)) == NULL || mb->g != NULL) {
		mls_group_free(grp);
		fail_text("joining", "a Welcome to an unexpected group");
		return;
	}
	mb->g = grp;
	if (--S.jobs[c->idx].joins_left == 0 && S.jobs[c->idx].committed)
		finish_job(c, &S.jobs[c->idx]);
}

static void on_deliver(struct lg *g, struct dev *d,
		       const struct proto_deliver *m)
{
	struct member *mb;
	struct conv *c;

	if (m->group_id.n == 0) {
		if (m->kind == PROTO_DELIVER_WELCOME)
			on_welcome(g, d, m);
		return;
	}
	if ((c = convs_find(g, m->group_id.p, m->group_id.n)) == NULL ||
	    (mb = convs_member(c, d)) == NULL) {
		fail_text("setup", "a delivery for an unknown group");
		return;
	}
	if (member_own_take(mb, m->seq))
		S.echoes_due--;
	if (m->seq > mb->ack_seq)
		mb->ack_seq = m->seq;
	conn_ack_later(g, &d->conn, mb);
}

static void on_closed(struct lg *g, struct dev *d, bool was_failure)
{
	(void)g;
	if (was_failure && d->want_conn)
		fail_text("setup", "a device lost its connection");
}

static const struct lg_hooks setup_hooks = {
	.deliver = on_deliver,
	.response = on_response,
	.closed = on_closed,
};

/* ---- templates ---- */

/* One application message of msg_size bytes from each member: what --raw
 * sends in its name. */
static int make_templates(struct lg *g)
{
	uint8_t *pt = lg_xcalloc(1, g->cfg.msg_size);
	size_t off, ct_len, len;
	uint8_t *msg;
	int rc = 0;

	for (uint32_t i = 0; i < g->n_convs && rc == 0; i++)
		for (uint32_t k = 0; k < g->convs[i].n && rc == 0; k++) {
			struct member *mb = &g->convs[i].m[k];

			if ((rc = mls_group_encrypt(mb->g, pt, g->cfg.msg_size,
						    NULL, 0, &msg, &len)) != 0)
				break;
			if ((rc = lgm_ciphertext_offset(msg, len, &off,
							&ct_len)) != 0 ||
			    ct_len < LG_HDR_LEN) {
				free(msg);
				rc = rc ? rc : BW_ERR_BAD_VALUE;
				break;
			}
			mb->tmpl = msg;
			mb->tmpl_len = (uint32_t)len;
			mb->hdr_off = (uint32_t)off;
		}
	free(pt);
	if (rc != 0)
		fail("encrypting the templates", rc);
	return rc;
}

/* ---- the run ---- */

static bool logged_in(struct lg *g)
{
	return loop_logins_settled(g) || failed(g);
}

static bool have_info(struct lg *g)
{
	return S.have_info || failed(g);
}

static bool uploaded(struct lg *g)
{
	return S.uploads_out == 0 || failed(g);
}

static bool built(struct lg *g)
{
	start_jobs(g);
	return S.done == g->n_convs || failed(g);
}

static bool quiet(struct lg *g)
{
	return (S.echoes_due == 0 && g->ackq_n == 0 && g->acks_out == 0) ||
	       failed(g);
}

static int connect_all(struct lg *g, struct dev **devs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		devs[i]->want_conn = true;
		loop_login(g, devs[i]);
	}
	loop_run(g, logged_in, 600);
	if (g->n_ready != n) {
		lg_log(g, "setup: %u of %u devices logged in", g->n_ready, n);
		return -1;
	}
	return 0;
}

/* The devices of the planned conversations. */
static struct dev **members(struct lg *g, uint32_t *n)
{
	struct dev **v = lg_xcalloc(g->n_devs ? g->n_devs : 1, sizeof(*v));

	*n = 0;
	for (uint32_t i = 0; i < g->n_devs; i++)
		if (g->devs[i].n_mem > 0)
			v[(*n)++] = &g->devs[i];
	return v;
}

static int prepare(struct lg *g, struct dev **devs, uint32_t n)
{
	int rc;

	for (uint32_t i = 0; i < g->n_convs; i++) {
		if (RAND_bytes(g->convs[i].gid, LG_GID_LEN) != 1)
			lg_die("no randomness");
		convs_index(g, &g->convs[i]);
	}
	for (uint32_t i = 0; i < n; i++)
		if ((rc = lgm_signer(S.m, devs[i])) != 0 ||
		    (rc = make_key_packages(g, devs[i])) != 0) {
			fail("a device's MLS identity", rc);
			return rc;
		}
	return 0;
}

static int build(struct lg *g, struct dev **devs, uint32_t n)
{
	uint64_t t0 = lg_now_ns();

	ask_info(g, devs[0]);
	loop_run(g, have_info, 60);
	if (!S.have_info)
		return -1;
	for (uint32_t i = 0; i < n && !failed(g); i++)
		if (upload_all(g, devs[i]) != 0)
			fail("uploading key packages", BW_ERR_NOMEM);
	loop_run(g, uploaded, 600);
	lg_log(g, "setup: key packages uploaded in %.1f s",
	       (double)(lg_now_ns() - t0) / 1e9);
	t0 = lg_now_ns();
	loop_run(g, built, 7200);
	lg_log(g, "setup: %u conversations built in %.1f s", S.done,
	       (double)(lg_now_ns() - t0) / 1e9);
	return failed(g) ? -1 : 0;
}

int setup_run(struct lg *g, struct lg_mls *m, const bool blocks[BLOCK_COUNT])
{
	struct dev **devs;
	uint32_t n;
	int rc = -1;

	memset(&S, 0, sizeof(S));
	S.g = g;
	S.m = m;
	g->hooks = &setup_hooks;
	convs_plan(g, blocks);
	S.jobs = lg_xcalloc(g->n_convs ? g->n_convs : 1, sizeof(*S.jobs));
	devs = members(g, &n);
	lg_log(g, "setup: %u conversations of %u devices", g->n_convs, n);
	if (n == 0 || prepare(g, devs, n) != 0 ||
	    connect_all(g, devs, n) != 0 ||
	    build(g, devs, n) != 0 || make_templates(g) != 0)
		goto out;
	loop_run(g, quiet, 120);
	if (!quiet(g) || failed(g))
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		devs[i]->want_conn = false;
		conn_logout(g, &devs[i]->conn);
	}
	loop_run(g, NULL, 0.5);
	rc = convs_save(g, g->cfg.cache_dir, blocks);
	if (rc != 0)
		lg_log(g, "setup: cannot write the cache in %s",
		       g->cfg.cache_dir);
out:
	if (S.error[0] != '\0')
		lg_log(g, "setup failed: %s", S.error);
	for (uint32_t i = 0; i < g->n_convs; i++)
		mls_group_free(S.jobs[i].grp);
	free(S.jobs);
	free(devs);
	return rc;
}

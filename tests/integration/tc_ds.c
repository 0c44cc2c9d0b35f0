/*
 * tc_ds.c - the delivery service's commands of the test client
 * (test_ds.py drives them; tc_device.h is the device):
 *
 *   ds-info ADDR DEV                     SERVER_INFO, checked
 *   ds-kp ADDR DEV N [last-resort]        upload N key packages
 *   ds-count ADDR DEV                     KP_COUNT
 *   ds-claim ADDR DEV USER...             claim (prints each claim)
 *   ds-create ADDR DEV NAME               a new group
 *   ds-add ADDR DEV NAME USER...          add every device of the users
 *   ds-send ADDR DEV NAME PREFIX COUNT [MS]  COUNT messages "PREFIX i"
 *                                        (then what arrives within MS)
 *   ds-recv ADDR DEV [MS]                 backlog until SYNCED (+ MS)
 *   ds-commit ADDR DEV NAME               commit what is pending
 *   ds-race ADDR DEV1 DEV2 NAME           two commits in one epoch
 *   ds-idem ADDR DEV NAME                 a retried send
 *   ds-stream ADDR DEV NAME COUNT FILE    send, riding out server restarts
 *   ds-join ADDR DEV                      external joins to the user's groups
 *   ds-prep ADDR A B C CUSER NAME OUT     artifacts for ds-hostile
 *   ds-hostile ADDR A B C CUSER NAME OUT  hostile requests (store nothing)
 *
 * Every command prints what it saw and exits 0 when it went as a
 * well-behaved device expects, TC_EXIT_REFUSED when the server refused
 * something it should have taken, TC_EXIT_FAIL otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "session.h"
#include "tc_device.h"
#include "tc_ds.h"

void tc_open(const char *addr, const char *dir, struct tc_device *d)
{
	int rc;

	if ((rc = tc_device_open(dir, d)) != 0)
		tc_die("cannot load the device", rc);
	if ((rc = tc_connect(d, addr)) != 0)
		tc_die("cannot connect", rc);
}

static int done(struct tc_device *d, int rc, const char *what)
{
	if (rc > 0)
		printf("%s: status %d %s\n", what, rc,
		       proto_status_text((uint16_t)rc));
	else if (rc < 0)
		printf("%s: error %d\n", what, rc);
	tc_device_close(d);
	return rc == 0 ? 0 : rc > 0 ? TC_EXIT_REFUSED : TC_EXIT_FAIL;
}

static int cmd_info(char **argv)
{
	struct tc_device d;

	tc_open(argv[0], argv[1], &d);
	printf("suite %d ds-key %zu bytes credential %zu certificate(s)\n",
	       d.suite, d.ds_key_len,
	       mls_credential_n_certificates(d.ds_cred));
	return done(&d, 0, "info");
}

static int cmd_kp(int argc, char **argv)
{
	bool last = argc > 3 && strcmp(argv[3], "last-resort") == 0;
	struct tc_device d;
	uint32_t available = 0;
	int rc;

	tc_open(argv[0], argv[1], &d);
	rc = tc_upload_key_packages(&d, (unsigned)atoi(argv[2]), last,
				    &available);
	if (rc == 0)
		printf("available %u\n", available);
	return done(&d, rc, "upload");
}

static int cmd_count(char **argv)
{
	struct proto_kp_count count;
	struct tc_device d;
	struct proto_msg m;
	int rc;

	tc_open(argv[0], argv[1], &d);
	if ((rc = tc_call(&d, PROTO_T_KP_COUNT, NULL, 0, &m)) == 0 &&
	    (rc = proto_decode_kp_count(&m, &count)) == 0)
		printf("available %u low-water %u\n", count.available,
		       count.low_water);
	return done(&d, rc, "count");
}

static int cmd_claim(int argc, char **argv)
{
	struct proto_kp_claim_resp resp;
	struct proto_claim c;
	struct tc_device d;
	struct bw_reader it;
	struct bw_writer w;
	struct proto_msg m;
	size_t list;
	int rc;

	tc_open(argv[0], argv[1], &d);
	bw_writer_init(&w, 0);
	list = bw_write_vector_begin(&w);
	for (int i = 2; i < argc; i++)
		bw_write_opaque(&w, argv[i], strlen(argv[i]));
	bw_write_vector_end(&w, list);
	if ((rc = tc_call(&d, PROTO_T_KP_CLAIM, w.buf, w.len, &m)) == 0 &&
	    (rc = proto_decode_kp_claim_resp(&m, &resp)) == 0) {
		proto_list_iter(&resp.claims, &it);
		while (proto_next_claim(&it, &c))
			printf("claim %.*s %.*s\n", (int)c.user.n, c.user.p,
			       (int)c.device_id.n, c.device_id.p);
	}
	bw_writer_free(&w);
	return done(&d, rc, "claim");
}

static int cmd_create(char **argv)
{
	struct tc_device d;
	int rc;

	tc_open(argv[0], argv[1], &d);
	if ((rc = tc_group_create(&d, argv[2])) == 0)
		printf("created %s\n", argv[2]);
	return done(&d, rc, "create");
}

static int cmd_add(int argc, char **argv)
{
	struct tc_device d;
	int rc;

	tc_open(argv[0], argv[1], &d);
	if ((rc = tc_pump(&d, 10000, true)) == 0 &&
	    (rc = tc_group_add(&d, argv[2], (const char *const *)argv + 3,
			       (size_t)argc - 3)) == 0)
		printf("added to %s\n", argv[2]);
	return done(&d, rc, "add");
}

static int cmd_send(int argc, char **argv)
{
	int count = atoi(argv[4]), listen = argc > 5 ? atoi(argv[5]) : 0;
	struct tc_device d;
	char text[256];
	uint64_t seq = 0;
	int rc = 0;

	tc_open(argv[0], argv[1], &d);
	rc = tc_pump(&d, 10000, true); /* up to date before encrypting */
	for (int i = 0; rc == 0 && i < count; i++) {
		snprintf(text, sizeof(text), "%s %d", argv[3], i);
		if ((rc = tc_send_text(&d, argv[2], text, &seq)) == 0)
			printf("sent %llu %s\n", (unsigned long long)seq, text);
	}
	if (rc == 0 && listen > 0 && (rc = tc_pump(&d, listen, false)) == 0)
		printf("listened received=%u own=%u\n", d.received, d.own);
	return done(&d, rc, "send");
}

/* One text message of argv[3] bytes: above the protocol's default limit
 * when the server allows it. */
static int cmd_send_big(char **argv)
{
	long n = atol(argv[3]);
	struct tc_device d;
	uint64_t seq = 0;
	char *text;
	int rc;

	if (n <= 0 || (text = malloc((size_t)n + 1)) == NULL)
		return -1;
	memset(text, 'b', (size_t)n);
	text[n] = '\0';
	tc_open(argv[0], argv[1], &d);
	if ((rc = tc_pump(&d, 10000, true)) == 0 &&
	    (rc = tc_send_text(&d, argv[2], text, &seq)) == 0)
		printf("sent %llu big %ld\n", (unsigned long long)seq, n);
	free(text);
	return done(&d, rc, "send-big");
}

static int cmd_recv(int argc, char **argv)
{
	int extra = argc > 2 ? atoi(argv[2]) : 0;
	struct tc_device d;
	int rc;

	tc_open(argv[0], argv[1], &d);
	if ((rc = tc_pump(&d, 20000, true)) == 0 && !d.synced)
		rc = -1;
	if (rc == 0 && extra > 0)
		rc = tc_pump(&d, extra, false);
	printf("synced received=%u duplicates=%u welcomes=%u kp_low=%u "
	       "own=%u\n",
	       d.received, d.duplicates, d.welcomes, d.kp_low, d.own);
	return done(&d, rc, "recv");
}

static int cmd_commit(char **argv)
{
	struct tc_device d;
	struct tc_group *gr;
	uint64_t seq = 0;
	int rc;

	tc_open(argv[0], argv[1], &d);
	if ((rc = tc_pump(&d, 10000, true)) == 0) {
		gr = tc_group_find(&d, argv[2]);
		printf("pending server proposal: %s\n",
		       gr != NULL && gr->server_proposal ? "yes" : "no");
		if ((rc = tc_group_commit(&d, argv[2], &seq)) == 0)
			printf("committed %llu epoch %llu members %u\n",
			       (unsigned long long)seq,
			       (unsigned long long)mls_group_epoch(gr->g),
			       mls_group_n_leaves(gr->g));
	}
	return done(&d, rc, "commit");
}

/* Both devices commit in the same epoch: the first wins, the second gets
 * status 8, catches up, and succeeds on retry; they end in agreement. */
static int cmd_race(char **argv)
{
	struct mls_commit_options opt = { .force_path = true,
					  .ratchet_tree = true };
	struct mls_commit_output co1 = { 0 }, co2 = { 0 };
	uint8_t k1[PROTO_IDEMPOTENCY_KEY_LEN], k2[PROTO_IDEMPOTENCY_KEY_LEN];
	uint8_t a1[MLS_MAX_SECRET_LEN], a2[MLS_MAX_SECRET_LEN];
	struct tc_device d1, d2;
	struct tc_group *g1, *g2;
	uint64_t s1 = 0, s2 = 0, e1 = 0, e2 = 0, retry = 0;
	size_t n1, n2;
	int rc;

	tc_open(argv[0], argv[1], &d1);
	tc_open(argv[0], argv[2], &d2);
	if (tc_pump(&d1, 10000, true) != 0 || tc_pump(&d2, 10000, true) != 0 ||
	    (g1 = tc_group_find(&d1, argv[3])) == NULL ||
	    (g2 = tc_group_find(&d2, argv[3])) == NULL ||
	    mls_group_epoch(g1->g) != mls_group_epoch(g2->g))
		tc_die("the two devices are not in the group together", -1);
	tc_random_key(k1);
	tc_random_key(k2);
	if (mls_group_commit(g1->g, &opt, &co1) != 0 ||
	    mls_group_commit(g2->g, &opt, &co2) != 0)
		tc_die("cannot commit", -1);
	rc = tc_submit_commit(&d1, g1, &co1, k1, &s1, &e1);
	printf("first commit: status %d seq %llu epoch %llu\n", rc,
	       (unsigned long long)s1, (unsigned long long)e1);
	if (rc != 0)
		return done(&d1, rc, "race");
	rc = tc_submit_commit(&d2, g2, &co2, k2, &s2, &e2);
	printf("second commit: status %d current epoch %llu\n", rc,
	       (unsigned long long)e2);
	if (rc != PROTO_E_STALE_EPOCH || e2 != e1)
		return done(&d2, -1, "race: the second commit was not stale");
	/* The loser catches up (its pending commit is dropped) and retries. */
	if ((rc = tc_pump(&d2, 3000, false)) != 0 ||
	    mls_group_has_pending_commit(g2->g) ||
	    (rc = tc_group_commit(&d2, argv[3], &retry)) != 0)
		return done(&d2, rc != 0 ? rc : -1, "race: retry");
	printf("retry: seq %llu epoch %llu\n", (unsigned long long)retry,
	       (unsigned long long)mls_group_epoch(g2->g));
	if ((rc = tc_pump(&d1, 3000, false)) != 0)
		return done(&d1, rc, "race: catching up");
	mls_group_epoch_authenticator(g1->g, a1, &n1);
	mls_group_epoch_authenticator(g2->g, a2, &n2);
	if (mls_group_epoch(g1->g) != mls_group_epoch(g2->g) || n1 != n2 ||
	    memcmp(a1, a2, n1) != 0)
		return done(&d1, -1, "race: the members forked");
	printf("agree on epoch %llu\n",
	       (unsigned long long)mls_group_epoch(g1->g));
	mls_commit_output_clear(&co1);
	mls_commit_output_clear(&co2);
	tc_device_close(&d2);
	return done(&d1, 0, "race");
}

int tc_send_raw(struct tc_device *d, const uint8_t *group_id,
		const uint8_t *key, const uint8_t *msg, size_t len,
		uint16_t type, uint64_t *seq)
{
	struct proto_group_message_req req = {
		.group_id = { group_id, TC_GROUP_ID_LEN },
		.idempotency_key = { key, PROTO_IDEMPOTENCY_KEY_LEN },
		.message = { msg, len },
	};
	struct proto_seq out;
	struct bw_writer w;
	struct proto_msg m;
	int rc;

	bw_writer_init(&w, 0);
	proto_encode_group_message_req(&w, &req);
	rc = tc_call(d, type, w.buf, w.len, &m);
	if (rc == 0 && proto_decode_seq(&m, &out) == 0)
		*seq = out.seq;
	bw_writer_free(&w);
	return rc;
}

/* A retry returns the original seq; the key with other content is 16. */
static int cmd_idem(char **argv)
{
	uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN], *m1 = NULL, *m2 = NULL;
	struct tc_device d;
	struct tc_group *gr;
	uint64_t s1 = 0, s2 = 0, s3 = 0;
	size_t l1, l2;
	int rc, again, other;

	tc_open(argv[0], argv[1], &d);
	if ((rc = tc_pump(&d, 10000, true)) != 0 ||
	    (gr = tc_group_find(&d, argv[2])) == NULL)
		return done(&d, rc != 0 ? rc : -1, "idem");
	tc_random_key(key);
	if (mls_group_encrypt(gr->g, "idem first", 10, NULL, 0, &m1, &l1) !=
		    0 ||
	    mls_group_encrypt(gr->g, "idem other", 10, NULL, 0, &m2, &l2) != 0)
		tc_die("cannot encrypt", -1);
	rc = tc_send_raw(&d, gr->id, key, m1, l1, PROTO_T_GROUP_SEND, &s1);
	again = tc_send_raw(&d, gr->id, key, m1, l1, PROTO_T_GROUP_SEND, &s2);
	other = tc_send_raw(&d, gr->id, key, m2, l2, PROTO_T_GROUP_SEND, &s3);
	printf("first %d seq %llu; retry %d seq %llu; other content %d\n", rc,
	       (unsigned long long)s1, again, (unsigned long long)s2, other);
	free(m1);
	free(m2);
	if (rc != 0 || again != 0 || s1 != s2 || other != PROTO_E_IDEMPOTENCY)
		return done(&d, -1, "idem");
	tc_device_save(&d);
	return done(&d, 0, "idem");
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send one prepared message until the server acknowledges it, over new
 * connections when the server goes away (the same key each time). */
static int send_until_acked(struct tc_device *d, const char *addr,
			    struct tc_group *gr, const uint8_t *key,
			    const uint8_t *msg, size_t len, uint64_t *seq)
{
	int64_t deadline = now_ms() + 60000;
	int rc = -1;

	while (now_ms() < deadline) {
		if (d->s == NULL && tc_connect(d, addr) != 0) {
			tc_disconnect(d);
			usleep(100000);
			continue;
		}
		rc = tc_send_raw(d, gr->id, key, msg, len, PROTO_T_GROUP_SEND,
				 seq);
		if (rc >= 0)
			return rc;
		tc_disconnect(d); /* the server went away: again */
		usleep(100000);
	}
	return rc;
}

static int cmd_stream(char **argv)
{
	int count = atoi(argv[3]);
	uint8_t key[PROTO_IDEMPOTENCY_KEY_LEN], *msg = NULL;
	struct tc_device d;
	struct tc_group *gr;
	char text[64];
	uint64_t seq = 0;
	size_t len = 0;
	FILE *out;
	int rc = 0;

	tc_open(argv[0], argv[1], &d);
	if (tc_pump(&d, 10000, true) != 0 ||
	    (gr = tc_group_find(&d, argv[2])) == NULL ||
	    (out = fopen(argv[4], "a")) == NULL)
		return done(&d, -1, "stream");
	for (int i = 0; rc == 0 && i < count; i++) {
		snprintf(text, sizeof(text), "stream %d", i);
		tc_random_key(key);
		if (mls_group_encrypt(gr->g, text, strlen(text), NULL, 0, &msg,
				      &len) != 0 ||
		    tc_device_save(&d) != 0)
			tc_die("cannot encrypt", -1);
		rc = send_until_acked(&d, argv[0], gr, key, msg, len, &seq);
		free(msg);
		if (rc != 0)
			break;
		/* The acknowledgement, on disk before the next message. */
		fprintf(out, "%llu %s\n", (unsigned long long)seq, text);
		fflush(out);
		fsync(fileno(out));
	}
	fclose(out);
	tc_device_save(&d);
	return done(&d, rc, "stream");
}

static int cmd_join(char **argv)
{
	struct tc_device d;
	unsigned joined = 0;
	int rc;

	tc_open(argv[0], argv[1], &d);
	if ((rc = tc_join_external(&d, &joined)) == 0)
		printf("joined-external %u\n", joined);
	return done(&d, rc, "join");
}

int tc_ds_main(int argc, char **argv)
{
	const char *cmd = argv[0];

	argc--;
	argv++;
	if (strcmp(cmd, "ds-info") == 0 && argc == 2)
		return cmd_info(argv);
	if (strcmp(cmd, "ds-kp") == 0 && (argc == 3 || argc == 4))
		return cmd_kp(argc, argv);
	if (strcmp(cmd, "ds-count") == 0 && argc == 2)
		return cmd_count(argv);
	if (strcmp(cmd, "ds-claim") == 0 && argc >= 3)
		return cmd_claim(argc, argv);
	if (strcmp(cmd, "ds-create") == 0 && argc == 3)
		return cmd_create(argv);
	if (strcmp(cmd, "ds-add") == 0 && argc >= 4)
		return cmd_add(argc, argv);
	if (strcmp(cmd, "ds-send") == 0 && (argc == 5 || argc == 6))
		return cmd_send(argc, argv);
	if (strcmp(cmd, "ds-send-big") == 0 && argc == 4)
		return cmd_send_big(argv);
	if (strcmp(cmd, "ds-recv") == 0 && (argc == 2 || argc == 3))
		return cmd_recv(argc, argv);
	if (strcmp(cmd, "ds-commit") == 0 && argc == 3)
		return cmd_commit(argv);
	if (strcmp(cmd, "ds-race") == 0 && argc == 4)
		return cmd_race(argv);
	if (strcmp(cmd, "ds-idem") == 0 && argc == 3)
		return cmd_idem(argv);
	if (strcmp(cmd, "ds-stream") == 0 && argc == 5)
		return cmd_stream(argv);
	if (strcmp(cmd, "ds-join") == 0 && argc == 2)
		return cmd_join(argv);
	if (strcmp(cmd, "ds-prep") == 0 && argc == 7)
		return tc_hostile_prep(argv);
	if (strcmp(cmd, "ds-hostile") == 0 && argc == 7)
		return tc_hostile(argv);
	return -1;
}

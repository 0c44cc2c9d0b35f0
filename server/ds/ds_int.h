/*
 * ds_int.h - what the files of the delivery service share (ds.h is its
 * face to the rest of the server).
 *
 *   ds.c         start and stop, the DS key, credential acceptance, the
 *                store thread's hooks (after each batch, periodic purge)
 *   requests.c   worker side: decode, prepare, queue; answer
 *   directory.c  KeyPackages: upload, claim, count
 *   groups.c     the cache of groups: public views, leaves and devices
 *   delivery.c   GROUP_*: create, commit, propose, send, info, list;
 *                the server's Remove proposals
 *   queue.c      sessions and backlogs, acknowledgements, pushes
 *
 * Threads: a struct ds_req belongs to its worker until queued, to the
 * store thread while it runs, and to the worker again when its mail
 * comes back. Groups, devices and the pushes under construction belong to
 * the store thread. A session is split: the fields marked "worker" are
 * its worker's, those marked "store" the store thread's; the mailbox and
 * the job queue order the handovers.
 */
#ifndef BWD_DS_INT_H
#define BWD_DS_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "codec.h"
#include "devices.h"
#include "ds.h"
#include "mailbox.h"
#include "mls/mls.h"
#include "proto.h"
#include "store_ds.h"
#include "store_queue.h"

/* Longest key package lifetime accepted (RFC 9420 §7.2: applications set
 * one); libmls makes 90 days and an hour. */
#define DS_MAX_KP_LIFETIME (100u * 86400u)
/* Rows of each kind one purge deletes; the next tick goes on. */
#define DS_PURGE_LIMIT 10000u
#define DS_FINGERPRINT_LEN 32u

struct worker;
struct ds_session;

/* A message to push, shared by all its recipients: one allocation,
 * reference counted across threads. */
struct ds_msg {
	atomic_uint refs;
	uint8_t kind;            /* enum proto_deliver_kind */
	uint8_t group_id_len;    /* 0: an inbox message */
	uint8_t group_id[PROTO_MAX_GROUP_ID];
	int64_t gid;             /* the store's number of its group; 0: inbox */
	uint64_t seq;            /* in its group (inbox pushes carry theirs) */
	int64_t time;
	size_t len;
	uint8_t payload[];
};

int ds_msg_new(int64_t gid, const uint8_t *group_id, size_t group_id_len,
	       uint8_t kind, uint64_t seq, int64_t time, const uint8_t *p,
	       size_t n, struct ds_msg **out);
void ds_msg_ref(struct ds_msg *m);
void ds_msg_unref(struct ds_msg *m);

/* An entry's place in a chained hash table (groups.c), with its hash:
 * growing relinks entries of any kind without recomputing it. */
struct ds_link {
	struct ds_link *next;
	size_t hash;
};

/* A chained hash table of ds_links; its buckets double once it holds one
 * entry per bucket. */
struct ds_chains {
	struct ds_link **buckets;
	size_t n_buckets, n;
};

/* A device as the store thread knows it. */
struct ds_device {
	struct ds_link link;     /* in ds->devices, by id */
	char id[STORE_NAME_SIZE];
	struct ds_session *live; /* its sessions: pushes go there */
	uint64_t stamp;          /* de-duplicates a fan-out (queue.c) */
};

/* An occupied leaf of a group, and whose it is. */
struct ds_leaf {
	uint32_t leaf;
	bool active;             /* the device may log in now */
	struct ds_device *dev;
	char user[STORE_NAME_SIZE];
};

/* A group, as cached by the store thread. */
struct ds_group {
	struct ds_link link;     /* in ds->groups, by id */
	int64_t gid;
	uint8_t id[PROTO_MAX_GROUP_ID];
	size_t id_len;
	struct mls_public_group *view;
	uint64_t epoch;
	uint64_t last_seq;
	struct bw_bytes group_info;
	struct ds_leaf *leaves;
	size_t n_leaves;
};

enum ds_push_type { DS_PUSH_DELIVER, DS_PUSH_KP_LOW };

/* One push to one connection. */
struct ds_push {
	struct ds_session *s;
	struct ds_msg *m;        /* DELIVER (a reference) */
	uint64_t seq;            /* DELIVER: in its group or inbox */
	uint32_t available;      /* KP_LOW */
	uint8_t type;            /* enum ds_push_type */
};

/* Pushes under construction, in a batch that one mail hands over. */
struct ds_push_batch {
	struct mail mail;
	struct ds_push_batch *chain; /* a batch's, one per worker */
	unsigned worker;
	size_t n;
	struct ds_push v[];
};

struct ds_pushes {
	struct ds_push_batch *b;
	size_t n, cap;
	size_t mark; /* where the running job's pushes begin */
};

/* Append a push (the caller's reference to p->m moves in on success). */
int ds_pushes_add(struct ds_pushes *q, const struct ds_push *p);
/* Drop every push and the references they hold. */
void ds_pushes_clear(struct ds_pushes *q);

/* One authenticated connection's subscription. */
struct ds_session {
	struct store_job job;    /* the one job in flight */
	struct ds *ds;
	struct worker *worker;
	char device_id[STORE_NAME_SIZE];
	/* worker */
	struct conn *conn;       /* NULL once the connection closed */
	bool busy;               /* a job is in flight */
	bool want_page;          /* backlog left: waiting for output to drain */
	/* store */
	struct ds_device *dev;
	struct ds_session *prev, *next; /* dev->live */
	struct store_cursor cursor; /* how far its backlog's pages read */
	bool live;               /* on dev->live, from its first page */
	/* a page of backlog, from the store thread to the worker */
	struct ds_pushes page;
	bool synced;             /* the page ends the backlog */
	bool kp_low;             /* ... and the device runs low */
	uint32_t kp_available;
};

/* A key package checked on the worker (KP_UPLOAD). */
struct ds_kp {
	const uint8_t *p;        /* into the request's body */
	size_t n;
	uint8_t ref[MLS_MAX_SECRET_LEN];
	size_t ref_len;
	int64_t not_after;
	bool last_resort;
};

/* A request on its way to the store thread and back. */
struct ds_req {
	struct store_job job;
	struct ds *ds;
	struct conn *conn;
	struct device_ident who;
	struct proto_msg m;      /* body points into body[] */
	/* the whole response, built by the store thread */
	struct bw_writer resp;
	bool refused;            /* resp holds a refusal; writes were undone */
	/* prepared on the worker */
	uint8_t hash[STORE_HASH_LEN];      /* GROUP_COMMIT, _PROPOSE, _SEND:
					    * SHA-256 of the body */
	struct mls_public_group *new_view; /* GROUP_CREATE */
	struct ds_kp *kps;                 /* KP_UPLOAD */
	size_t n_kps;
	uint8_t body[];
};

/* Build the response of r (store thread). A refusal carries a status and
 * the status's text or why (NULL: the status's own); a success a body. */
void ds_reply_status(struct ds_req *r, uint16_t status, const char *why);
void ds_reply_stale(struct ds_req *r, uint64_t current_epoch);
size_t ds_reply_begin(struct ds_req *r);
int ds_reply_end(struct ds_req *r, size_t mark);
/* Refuse and undo: the job's savepoint is rolled back. */
int ds_refuse(struct ds_req *r, uint16_t status, const char *why);

/* Who may be in the organisation's groups (the MLS Authentication
 * Service): an x509 credential whose end-entity certificate chains to
 * the CA and belongs to a device that may log in now; with fingerprint
 * set, only that very certificate. */
struct ds_accept {
	struct ds *ds;
	const uint8_t *fingerprint;
};
int ds_accept_credential(void *arg, const struct mls_credential *cred,
			 const uint8_t *sig_key, size_t sig_key_len);
/* The configuration for MLS objects, accepting as a (which must outlive
 * what is made with it). */
void ds_mls_config(struct ds_accept *a, struct mls_config *cfg);

struct ds {
	struct bwd_server *srv;
	uint16_t suite;
	/* the DS's identity: read-only once started */
	struct mls_signer *signer;
	struct bw_bytes credential;   /* TLS-encoded, for SERVER_INFO */
	struct ds_accept accept;      /* any active device */
	EVP_MD *sha256;               /* fetched once: the bodies' hash */
	/* store thread */
	struct ds_chains groups;      /* struct ds_group */
	struct ds_chains devices;     /* struct ds_device */
	uint64_t hash_seed;           /* both tables' (seeded_hash.h) */
	uint64_t stamp;
	struct ds_pushes *out;        /* one per worker */
	time_t next_purge;
};

/* ---- requests.c ---- */
/* Worker: decode r as its type and check what needs no store (key
 * packages, a new group's GroupInfo): 0 to queue it, or the status to
 * answer at once, with *why. */
uint16_t ds_req_prepare(struct ds *ds, struct ds_req *r, const char **why);
/* The store thread's side of a request job. */
int ds_run_request(struct store *s, struct store_job *job);
void ds_req_free(struct ds_req *r);

/* ---- directory.c ---- */
/* Worker: check every package of a KP_UPLOAD into r->kps. 0, or a
 * protocol status with *why. */
uint16_t ds_kp_prepare(struct ds *ds, struct ds_req *r,
		       const struct proto_kp_upload_req *req,
		       const char **why);
int ds_kp_upload(struct ds *ds, struct store *s, struct ds_req *r);
int ds_kp_claim(struct ds *ds, struct store *s, struct ds_req *r);
int ds_kp_count(struct ds *ds, struct store *s, struct ds_req *r);
/* The device's unclaimed packages, and whether that is below low water. */
int ds_kp_stock(struct ds *ds, struct store *s, const char *device,
		uint32_t *available, bool *low);

/* ---- groups.c ---- */
int ds_groups_init(struct ds *ds);
void ds_groups_free(struct ds *ds);
/* The group, from the cache or the store; BWD_ERR_NOT_FOUND. */
int ds_group_find(struct ds *ds, struct store *s, const uint8_t *id,
		  size_t n, struct ds_group **out);
/* The group a request names: an unknown one is refused (BWD_ERR_REFUSED,
 * answered), another failure returned. */
int ds_group_find_named(struct ds *ds, struct store *s, struct ds_req *r,
			const struct proto_span *id, struct ds_group **out);
int ds_group_find_gid(struct ds *ds, struct store *s, int64_t gid,
		      struct ds_group **out);
/* Cache a new group (view moves in). */
int ds_group_insert(struct ds *ds, int64_t gid, struct mls_public_group *view,
		    const uint8_t *group_info, size_t group_info_len,
		    struct ds_group **out);
/* Drop from the cache: the store's state is reloaded when next needed
 * (how a change that was not stored is undone). */
void ds_group_forget(struct ds *ds, struct ds_group *g);
void ds_groups_forget_all(struct ds *ds);
/* The occupied leaves of a view and their devices. */
int ds_leaves_read(struct ds *ds, struct mls_public_group *view,
		   struct ds_leaf **leaves, size_t *n);
/* Store the view, epoch and last seq (and the GroupInfo if not NULL). */
int ds_group_save(struct store *s, struct ds_group *g,
		  const struct bw_bytes *group_info);
const struct ds_leaf *ds_group_leaf(const struct ds_group *g, uint32_t leaf);
/* The member device of that id (one of its leaves), or NULL. */
struct ds_device *ds_group_device(const struct ds_group *g,
				  const char *device);
bool ds_group_has_device(const struct ds_group *g, const char *device);
bool ds_group_has_user(const struct ds_group *g, const char *user);
/* The device, known from now on (NULL without memory). */
struct ds_device *ds_device_get(struct ds *ds, const char *id);

/* ---- delivery.c ---- */
/* Worker: verify a GROUP_CREATE's GroupInfo into r->new_view. 0, or a
 * protocol status with *why. */
uint16_t ds_create_prepare(struct ds *ds, struct ds_req *r,
			   const struct proto_group_create_req *req,
			   const char **why);
int ds_group_create(struct ds *ds, struct store *s, struct ds_req *r);
int ds_group_commit(struct ds *ds, struct store *s, struct ds_req *r);
int ds_group_message(struct ds *ds, struct store *s, struct ds_req *r);
int ds_group_info(struct ds *ds, struct store *s, struct ds_req *r);
int ds_group_list(struct ds *ds, struct store *s, struct ds_req *r);

/* ---- queue.c ---- */
int ds_queue_ack(struct ds *ds, struct store *s, struct ds_req *r);
/* Push m (seq) to every live session of dev; of every member device of
 * g (each once) but except (NULL: none); KP_LOW to a device. */
int ds_push_device(struct ds *ds, struct ds_device *dev, struct ds_msg *m,
		   uint64_t seq);
int ds_push_leaves(struct ds *ds, const struct ds_leaf *leaves, size_t n,
		   struct ds_msg *m, const struct ds_device *except);
int ds_push_kp_low(struct ds *ds, const char *device, uint32_t available);
/* Around one job: its pushes are dropped again if it fails, since its
 * writes are undone. */
void ds_pushes_mark(struct ds *ds);
void ds_pushes_rewind(struct ds *ds);
/* Store thread, after a batch: take its pushes (a chain for
 * ds_pushes_deliver, NULL if none), or drop them (and the cache, whose
 * changes were not stored) if the batch failed. */
struct ds_push_batch *ds_pushes_take(struct ds *ds, int rc);
/* Sync thread, once the batch is durable: hand them to the workers. */
void ds_pushes_deliver(struct ds *ds, struct ds_push_batch *chain);

#endif

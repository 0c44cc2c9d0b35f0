/*
 * lg.h - bulwark-load, the load generator for bulwarkd (bench/README.md).
 *
 * One process, one thread, one epoll loop. Every simulated device has its
 * own mutual-TLS connection (its enrolled certificate and key), speaks the
 * device protocol over WebSocket exactly as a real device does (HELLO,
 * backlog and SYNCED, GROUP_SEND, DELIVER, QUEUE_ACK), and is a member of
 * real MLS groups that its own devices created through the server (the
 * setup phase, cached between runs).
 *
 * Modules:
 *   main.c      options, the run, the report
 *   loop.c      epoll, the per-turn output flush, ticks
 *   conn.c      a device's connection: TCP, TLS, upgrade, frames, envelopes
 *   ws.c        WebSocket client frames (RFC 6455 §5)
 *   devices.c   enrolled devices (bulwarkctl device enroll's directory)
 *   convs.c     conversations, members, the cache of the setup
 *   mls_dev.c   the MLS side of a device (libmls): identity, groups
 *   setup.c     creating the conversations through the server
 *   traffic.c   sending, receiving and checking messages
 *   scen_*.c    the scenarios (A, A', B, C, D, E)
 *   stats.c     latency percentiles, CPU of both processes, JSON
 *
 * Every message carries a 32-byte header (struct lg_hdr) inside its
 * application payload: in --mls mode inside the MLS plaintext, in --raw
 * mode at the start of the PrivateMessage's ciphertext. The receiver reads
 * it to account for every message exactly: lost, duplicated, misordered,
 * stale, and its latency.
 */
#ifndef LG_H
#define LG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <netinet/in.h>
#include <openssl/ssl.h>

#include "codec.h"
#include "proto.h"
#include "tls_record.h"

#define LG_HDR_LEN 32u
#define LG_MAGIC 0x314c5742u /* "BWL1" */
#define LG_GID_LEN 16u       /* MLS group ids the generator makes */
#define LG_NO_DEVICE UINT32_MAX
/* Largest message the generator accepts from the server. */
#define LG_MAX_MESSAGE (16u * 1024u * 1024u)
/* Request ids: a message's own global id for GROUP_SEND (so its response
 * names it); anything else has LG_RID_OTHER set, and the connection's own
 * requests (HELLO, QUEUE_ACK) LG_RID_CONN too. */
#define LG_RID_OTHER 0x80000000u
#define LG_RID_CONN 0x40000000u
#define LG_RID_NEXT (LG_RID_OTHER | LG_RID_CONN) /* conn_msg_begin picks */
/* A member's own messages awaiting their echo, at most. */
#define LG_OWN_MAX 16u

/* A growable byte buffer; [off, len) is what remains to be used. */
struct lbuf {
	uint8_t *p;
	size_t off, len, cap;
};

/* The header at the front of every payload (host byte order: the same
 * process writes and reads it). */
struct lg_hdr {
	uint32_t magic;
	uint32_t nonce; /* this run's: anything else is stale */
	uint32_t gid;   /* global message id, 0.. */
	uint32_t from;  /* sender device index */
	uint32_t to;    /* recipient device index, LG_NO_DEVICE: the group */
	uint32_t order; /* the sender's count in this conversation */
	uint64_t ts_ns; /* send time, CLOCK_MONOTONIC */
};
_Static_assert(sizeof(struct lg_hdr) == LG_HDR_LEN, "header is 32 bytes");

enum lg_mode { LG_RAW = 0, LG_MLS = 1 };

struct lg;
struct dev;
struct conv;
struct member;
struct lc_upgrade;

/* A device's connection (conn.c): lives inside its device, so pointers to
 * it (epoll, the output list) stay valid across reconnections. */
enum lconn_state {
	LC_DEAD = 0, /* no socket */
	LC_TCP,      /* connecting */
	LC_TLS,      /* handshake with the device's certificate */
	LC_UPGRADE,  /* HTTP Upgrade sent, waiting for 101 */
	LC_HELLO,    /* HELLO sent */
	LC_SYNC,     /* authenticated; backlog until SYNCED */
	LC_READY,    /* logged in */
	LC_CLOSING,  /* our close frame sent */
};

struct lconn {
	int fd;
	uint8_t state;
	bool dirty;         /* on the loop's output list */
	bool in_ackq;       /* on the loop's acknowledgement queue */
	bool fragmented;    /* a fragmented message is being assembled */
	uint32_t ev;
	SSL *ssl;           /* during the handshake only */
	struct tls_rec rec; /* the records after it (tls_record.h) */
	struct dev *dev;
	struct lc_upgrade *up; /* during the upgrade only */
	struct lbuf in;     /* a frame's beginning, until the rest arrives */
	struct lbuf frag;   /* a fragmented message being assembled */
	struct lbuf out;    /* frames for the socket */
	struct lbuf wire;   /* records the socket did not take yet */
	struct member **acks; /* members with a seq to acknowledge */
	uint32_t n_acks, cap_acks;
	uint64_t ack_due;   /* ns */
	uint32_t rid;       /* the connection's own requests, counted */
	uint32_t acks_out;  /* its QUEUE_ACKs not answered yet */
	/* ns: connect, TLS done, HELLO answered, SYNCED, close sent */
	uint64_t t_start, t_tls, t_auth, t_ready, t_closing;
};

/* A device's membership of a conversation and its view of it. */
struct member {
	struct conv *conv;
	struct dev *dev;
	uint64_t last_seq;   /* highest seq taken (after the dedup) */
	uint64_t ack_seq;    /* highest seq to acknowledge */
	uint64_t acked_seq;  /* highest seq acknowledged in a QUEUE_ACK sent */
	uint64_t verdict_seq;/* the verdict's walk: its last acked seq */
	struct mls_group *g; /* MLS mode (and setup) */
	uint8_t *tmpl;       /* raw mode: a PrivateMessage of the epoch */
	uint32_t tmpl_len;
	uint32_t hdr_off;    /* where the header goes in tmpl */
	uint32_t order;      /* messages this member sent */
	uint32_t order_in;   /* 1:1: the other member's last order taken */
	/* seqs of own messages still due: a commit's echo (setup), or an
	 * application message, which the server does not push back, until
	 * last_seq reaches it */
	uint64_t own[LG_OWN_MAX];
	uint8_t own_head, own_n;
	bool ack_queued;     /* on its connection's acknowledgement list */
};

/* One enrolled device (user u<idx>). */
struct dev {
	uint32_t idx;
	char id[PROTO_MAX_NAME + 1];
	X509 *cert;
	EVP_PKEY *key;
	struct lconn conn;
	struct member **mem;      /* the conversations it is in */
	uint32_t n_mem, cap_mem;
	struct mls_signer *signer;           /* MLS: its leaf's key */
	struct mls_key_package_bundle **kps; /* setup: its key packages */
	uint32_t n_kps;
	struct member inbox;      /* its Welcomes (conv NULL) */
	uint32_t inflight;        /* own messages not yet delivered */
	/* own GROUP_SENDs without a response, sent again after a lost
	 * connection (with their bytes in --mls mode) */
	struct pend {
		uint32_t gid;
		uint32_t len;
		uint8_t *bytes;
	} *pend;
	uint32_t n_pend, cap_pend;
	bool want_conn;           /* reconnect when the connection drops */
	uint64_t reconnect_at;    /* ns, 0: none planned */
};

/* One conversation: an MLS group with its members, sorted by device. */
struct conv {
	uint8_t gid[LG_GID_LEN];
	uint32_t idx;
	uint32_t n;
	struct member *m;
	uint64_t epoch;
	struct conv *hnext; /* the group-id hash chain */
};

/* What the generator knows of every message it sent (by global id). */
struct msgrec {
	uint64_t t_sent;     /* ns; 0 for an id never used */
	uint64_t seq;        /* from the GROUP_SEND response; 0 before */
	uint64_t seq_seen;   /* seq of its first delivery */
	uint32_t conv;
	uint32_t from;
	uint32_t order;      /* the sender's count in the conversation */
	uint32_t delivered;  /* to recipients, after the (group, seq) dedup */
	uint16_t expected;   /* recipients (1:1: one; a group: n - 1) */
	uint8_t flags;
};
#define MSG_ACKED 0x01   /* the sender has the server's response */
#define MSG_REFUSED 0x02 /* the server answered with an error */

/* Where each scenario's devices and conversations are (bench/README.md):
 * A and E use devices [0, a_clients) and a 1:1 conversation between every
 * two of them; B's senders are [b_base, b_base + senders) and its
 * recipients the next `recipients`, sender k's m-th message going to
 * recipient (k + m) mod recipients; D's group holds [d_base, d_base +
 * d_members); C logs in [0, idle_n). */
struct lg_layout {
	uint32_t a_clients;
	uint32_t b_base, senders, recipients, per_sender;
	uint32_t d_base, d_members;
};

struct lg_config {
	const char *host;
	int port;
	const char *server_name;  /* the server certificate's name */
	const char *devices_dir;  /* bulwarkctl device enroll --out */
	const char *cache_dir;    /* the setup's conversations */
	const char *scenario;
	const char *label;
	const char *out;          /* JSON result */
	enum lg_mode mode;
	struct lg_layout layout;
	uint32_t clients;         /* A, E: devices taking part */
	uint32_t window;          /* A: messages outstanding per device */
	double rate;              /* A', D: messages/s in all */
	double duration, warmup, drain;
	uint32_t runs;            /* A: measured runs in this process */
	uint32_t idle_n;          /* C */
	double settle;            /* C */
	uint32_t d_probes;        /* D: single messages, timed */
	uint32_t msg_size;        /* application payload, header included */
	uint32_t conc;            /* logins in flight */
	uint32_t ack_ms;          /* acknowledgements batched over this */
	int server_pid;           /* bulwarkd, for CPU and memory */
	double login_timeout;
	bool provider_keys;       /* OpenSSL's providers for every key */
	bool verbose;
};

/* Counters of the deliveries seen so far (per run of a scenario). */
struct lg_counts {
	uint64_t sent, unique, dup, redelivered, stale, malformed, misrouted;
	uint64_t refused, resent, echoes, gaps, misordered;
	uint64_t win_count;       /* deliveries inside the measured window */
	uint64_t last_ns;         /* time of the last unique delivery */
};

/* Room for extra more bytes (compacting first); dies when out of memory. */
void lbuf_reserve(struct lbuf *b, size_t extra);
void lbuf_free(struct lbuf *b);

/* What the running scenario does with a device's events (each optional). */
struct lg_hooks {
	/* HELLO answered and the backlog delivered (SYNCED): logged in. */
	void (*ready)(struct lg *g, struct dev *d);
	void (*deliver)(struct lg *g, struct dev *d,
			const struct proto_deliver *m);
	/* A response to one of the device's requests. */
	void (*response)(struct lg *g, struct dev *d,
			 const struct proto_msg *m);
	/* The connection is gone (failed: not by our own logout). */
	void (*closed)(struct lg *g, struct dev *d, bool failed);
};

struct lg {
	struct lg_config cfg;
	const struct lg_hooks *hooks;
	uint32_t nonce;
	SSL_CTX *tls;
	int ep;
	struct sockaddr_in *addr;
	/* devices, by index */
	struct dev *devs;
	uint32_t n_devs;
	/* conversations, and their group ids hashed */
	struct conv *convs;
	uint32_t n_convs;
	struct conv **ghash;
	uint32_t ghash_mask;
	/* every message sent, by global id */
	struct msgrec *msgs;
	uint32_t n_msgs, cap_msgs;
	/* connections with output this turn */
	struct lconn **dirty;
	uint32_t n_dirty, cap_dirty;
	/* logins waiting for a slot (at most cfg.conc in flight) */
	struct dev **pending;
	uint32_t n_pending, pending_head, cap_pending;
	uint32_t n_connecting, n_ready, n_failed;
	/* QUEUE_ACKs sent and not answered yet, and those refused */
	uint32_t acks_out;
	uint64_t acks_refused;
	/* connections with acknowledgements to send, oldest first */
	struct lconn **ackq;
	uint32_t ackq_head, ackq_n, ackq_cap;
	/* masks for client frames (RFC 6455 §5.3), drawn in bulk */
	uint8_t mask_pool[4096];
	uint32_t mask_off;
	/* a scenario's periodic work, run every loop turn */
	void (*tick)(struct lg *g);
	struct lg_counts st;
	/* latency samples (microseconds) inside the measured window */
	uint32_t *lat;
	size_t n_lat, cap_lat;
	bool measuring;
	uint64_t win_start, win_end;
	/* why connections failed: the first few reasons, counted */
	struct {
		char why[80];
		uint32_t n;
	} reasons[12];
	uint32_t n_reasons;
	FILE *json;
	/* a second generator process sharing C's logins (0: none); its CPU
	 * and memory count as the generator's */
	int helper_pid;
	/* a shared scratch for frames and envelopes */
	uint8_t *scratch;
	size_t scratch_cap;
	/* every connection's records: contexts and read-ahead, and the
	 * records of a flush */
	struct tls_rec_ctx rec_ctx;
	struct bw_writer sealed;
};

/* ---- time ---- */
uint64_t lg_now_ns(void);

/* ---- logging (stderr, with the run's elapsed time) ---- */
void lg_log(const struct lg *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void lg_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* Allocation that cannot fail (a benchmark tool may stop on OOM). */
void *lg_xcalloc(size_t n, size_t size);
void *lg_xrealloc(void *p, size_t n, size_t size);

#endif

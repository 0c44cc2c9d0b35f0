/*
 * tls_record.h - TLS 1.3 record protection once the handshake is over
 * (RFC 8446 §5.2-5.5; traffic keys §7.3; KeyUpdate §4.6.3 and §7.2).
 *
 * OpenSSL runs the handshake. The connection then gives its SSL object
 * back (the SSL itself, the session holding the peer's certificate and
 * two cipher contexts: about 15 KiB that an idle connection would
 * otherwise keep) and its records are protected here, keyed from the two
 * application traffic secrets: bulwarkd's authenticated devices, and the
 * load generator's devices on the client side (bench/load), whose
 * OpenSSL spent most of its per-record work on bookkeeping. A client
 * takes over only from a server that sends no session tickets (bulwarkd
 * sends none): a NewSessionTicket is refused as unexpected. What stays per
 * connection is struct tls_rec: the secrets, keys, IVs and sequence
 * numbers; a record's buffer exists only while it is being read. The
 * cipher and KDF contexts are the thread's (struct tls_rec_ctx), keyed
 * again for each record.
 *
 * The secrets reach struct tls_rec during the handshake through OpenSSL's
 * key log callback (tls_rec_keylog), the one interface OpenSSL 3.0 has for
 * them; they never leave memory and are wiped with the connection.
 */
#ifndef BW_TLS_RECORD_H
#define BW_TLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "codec.h"

#define TLS_REC_MAX_SECRET 48 /* SHA-384 */
#define TLS_REC_MAX_KEY 32
#define TLS_REC_IV_LEN 12
#define TLS_REC_TAG_LEN 16
#define TLS_REC_HEADER_LEN 5
#define TLS_REC_MAX_PLAIN 16384u /* 2^14, §5.1 */
/* What a record adds to its content: header, content type, tag. */
#define TLS_REC_OVERHEAD (TLS_REC_HEADER_LEN + 1 + TLS_REC_TAG_LEN)

/* TLS 1.3's cipher suites (§B.4), as bulwarkd enables them. */
enum tls_rec_suite {
	TLS_REC_AES_128_GCM,
	TLS_REC_AES_256_GCM,
	TLS_REC_CHACHA20_POLY1305,
	TLS_REC_NSUITES
};
#define TLS_REC_CIPHERSUITES                                                \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"                    \
	"TLS_CHACHA20_POLY1305_SHA256"

/* TLS alerts this layer sends (§6). */
enum tls_alert {
	TLS_ALERT_CLOSE_NOTIFY = 0,
	TLS_ALERT_UNEXPECTED_MESSAGE = 10,
	TLS_ALERT_BAD_RECORD_MAC = 20,
	TLS_ALERT_RECORD_OVERFLOW = 22,
	TLS_ALERT_ILLEGAL_PARAMETER = 47,
	TLS_ALERT_DECODE_ERROR = 50,
	TLS_ALERT_INTERNAL_ERROR = 80,
	TLS_ALERT_USER_CANCELED = 90,
};

/* One direction's protection. */
struct tls_rec_keys {
	uint8_t secret[TLS_REC_MAX_SECRET]; /* for the next key (§7.2) */
	uint8_t key[TLS_REC_MAX_KEY];
	uint8_t iv[TLS_REC_IV_LEN];
	uint64_t seq;
};

struct tls_rec {
	struct tls_rec_keys rx, tx;
	uint8_t suite;          /* enum tls_rec_suite */
	uint8_t secret_len;
	uint8_t have;           /* traffic secrets received (key log) */
	bool key_update_due;    /* the peer asked for our KeyUpdate */
	uint8_t alert;          /* to send after TLS_REC_FAIL */
	uint8_t hdr_len;
	uint8_t hdr[TLS_REC_HEADER_LEN];
	bool body_borrowed;     /* body lies in the thread's read-ahead */
	bool parked_bad;        /* tls_rec_park lost bytes */
	uint8_t *body;          /* the record being read, then its content */
	uint16_t body_len, body_got;
	uint16_t plain_off, plain_len;
	/* Bytes read ahead that this connection's last turn left unread. */
	uint8_t *stash;
	uint32_t stash_len, stash_off;
	struct tls_rec_ctx *ra_ctx; /* whose read-ahead holds our bytes */
};

/* What one read() may take from a socket. */
#define TLS_REC_READ_AHEAD (64u * 1024u)

/* A thread's contexts, shared by its connections, and its read-ahead:
 * one read() takes all a socket holds, records are opened in place; the
 * bytes belong to one connection (ra_owner) until tls_rec_park. */
struct tls_rec_ctx {
	EVP_CIPHER_CTX *aead[TLS_REC_NSUITES];
	EVP_KDF_CTX *kdf;
	uint8_t *ra;
	size_t ra_off, ra_len;
	struct tls_rec *ra_owner;
	bool ra_drained; /* the last read() emptied the socket */
};

int tls_rec_ctx_init(struct tls_rec_ctx *x);
void tls_rec_ctx_clear(struct tls_rec_ctx *x);

/* A line of OpenSSL's key log (NSS format): keeps the application
 * traffic secrets, ignores the rest. */
void tls_rec_keylog(struct tls_rec *r, const char *line);
/* The handshake is over: the keys of both directions from the secrets,
 * for the SSL object's side (server or client). It must not have read or
 * written application data, nor hold bytes read ahead. */
int tls_rec_start(struct tls_rec *r, struct tls_rec_ctx *x, const SSL *ssl);
/* Wipe the secrets and free the buffer. */
void tls_rec_clear(struct tls_rec *r);

enum tls_rec_io {
	TLS_REC_DATA,  /* plaintext read */
	TLS_REC_AGAIN, /* the socket has nothing more now */
	TLS_REC_EOF,   /* close_notify, the peer's alert, or the socket closed */
	TLS_REC_FAIL   /* the peer broke the protocol: send r->alert, close */
};

/* Read up to n bytes of application data from the socket fd (non-
 * blocking); *got tells how many. A read() that leaves the socket empty
 * ends the turn: the next call that needs bytes says TLS_REC_AGAIN
 * without asking the socket again (epoll is level-triggered). */
enum tls_rec_io tls_rec_read(struct tls_rec *r, struct tls_rec_ctx *x,
			     int fd, uint8_t *buf, size_t n, size_t *got);
/* Up to n bytes of the connection's stream as they came (no record
 * opened), through the same read-ahead: bulwarkd's OpenSSL reads the
 * handshake here (server/net/conn.c), so that one read() takes a whole
 * flight of the client's and what follows its Finished is already where
 * tls_rec_read looks. */
enum tls_rec_io tls_rec_read_raw(struct tls_rec *r, struct tls_rec_ctx *x,
				 int fd, uint8_t *p, size_t n, size_t *got);
/* Wipe the secrets and keys, keep the bytes read ahead: for a connection
 * whose records OpenSSL goes on protecting. */
void tls_rec_forget_keys(struct tls_rec *r);
/* The connection's turn is over: what it left in the thread's read-ahead
 * moves to its own buffer (only while bytes wait), so that another may
 * read. On failure the next tls_rec_read fails. */
void tls_rec_park(struct tls_rec *r, struct tls_rec_ctx *x);
/* Protect application data as records appended to out; a KeyUpdate goes
 * first when the peer asked for one or the key has protected enough. */
int tls_rec_seal(struct tls_rec *r, struct tls_rec_ctx *x, const uint8_t *p,
		 size_t n, struct bw_writer *out);
/* An alert record (close_notify is a warning, the rest fatal). */
int tls_rec_seal_alert(struct tls_rec *r, struct tls_rec_ctx *x,
		       enum tls_alert alert, struct bw_writer *out);
/* Send what the non-blocking socket fd takes of sealed records p[0..n);
 * *sent tells how much. -1 when the connection is lost. */
int tls_rec_send(int fd, const uint8_t *p, size_t n, size_t *sent);

#endif

/*
 * convs.h - the conversations of a layout (lg.h, struct lg_layout), their
 * members, and the cache that keeps them between runs.
 *
 * The setup (setup.c) creates every conversation through the server once;
 * the cache then holds, per member: the seq it has reached, its MLS state
 * (encrypted with the cache's own key, MLS_STATE_KEY_LEN random bytes in
 * state.key, 0600) and a PrivateMessage of the group's epoch that it
 * encrypted, which --raw mode sends with the header written over the
 * start of its ciphertext. A run must start from the server data that the
 * setup left (bench/run.sh copies it), so that epochs and seqs agree.
 *
 * The cache is one file per block of conversations (a.bin, b.bin, d.bin),
 * read with the project codec:
 *
 *   struct {
 *       opaque magic<V>;            // "bulwark-load cache 1"
 *       uint32 n_convs;
 *       Conv convs[n_convs];        // each: opaque gid<V>; uint64 epoch;
 *   } Block;                        // uint32 n; Member members[n]
 *   struct {
 *       uint32 device; uint64 last_seq;
 *       opaque tmpl<V>; uint32 hdr_off;
 *       opaque state<V>;            // mls_group_save()
 *   } Member;
 */
#ifndef LG_CONVS_H
#define LG_CONVS_H

#include "lg.h"
#include "mls/mls.h"

enum conv_block { BLOCK_A, BLOCK_B, BLOCK_D, BLOCK_COUNT };

/* Make the conversations of the layout's blocks in g (members included,
 * nothing else): A's pairs, B's pairs, D's group, in that order. */
void convs_plan(struct lg *g, const bool blocks[BLOCK_COUNT]);
/* The conversations of one block: [*first, *first + *n). */
void convs_block(const struct lg *g, enum conv_block b, uint32_t *first,
		 uint32_t *n);
/* Register c's group id for convs_find. */
void convs_index(struct lg *g, struct conv *c);
struct conv *convs_find(const struct lg *g, const uint8_t *gid, size_t n);
/* The member of c that is device d (NULL if d is not in it). */
struct member *convs_member(const struct conv *c, const struct dev *d);
/* A member's own message was accepted with seq: its echo is due. false
 * when LG_OWN_MAX echoes are already due (the oldest is forgotten). */
bool member_own_push(struct member *m, uint64_t seq);
/* Is seq the echo due next? (taken off the list if so) */
bool member_own_take(struct member *m, uint64_t seq);
/* A member's own application message was accepted with seq. The server
 * does not push it back (docs/protocol.md, "Delivery"): it is had at once
 * when the member had every seq before it, else once the deliveries
 * reach it. */
void member_own_sent(struct member *m, uint64_t seq);
/* A delivery of seq (> last_seq): last_seq moves to it and past the own
 * seqs right after it; *own tells it was the member's own (the backlog of
 * one that was behind); returns how many seqs before it are neither
 * delivered nor own. */
uint64_t member_seq_take(struct member *m, uint64_t seq, bool *own);

/* The 1:1 conversation of devices a and b (NULL if none). */
struct conv *convs_pair(const struct lg *g, uint32_t a, uint32_t b);
void convs_free(struct lg *g);

/* The cache: save every block planned; load blocks (with the MLS states
 * only when load_mls). */
int convs_save(struct lg *g, const char *dir,
	       const bool blocks[BLOCK_COUNT]);
int convs_load(struct lg *g, const char *dir,
	       const bool blocks[BLOCK_COUNT], bool load_mls,
	       const struct mls_config *cfg);

#endif

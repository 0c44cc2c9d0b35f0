/* convs.c - conversations, members and the setup's cache (convs.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "codec.h"
#include "convs.h"
#include "mls/mls.h"
#include "pki.h"

#define CACHE_MAGIC "bulwark-load cache 1"
#define CACHE_KEY_FILE "state.key"
/* Largest block file read back (D's MLS states are the bulk). */
#define CACHE_MAX (4ull << 30)

static const char *const block_file[BLOCK_COUNT] = { "a.bin", "b.bin",
						     "d.bin" };

/* ---- the plan ---- */

static uint32_t block_first[BLOCK_COUNT + 1];

static struct conv *add_conv(struct lg *g, uint32_t n)
{
	struct conv *c = &g->convs[g->n_convs];

	c->idx = g->n_convs++;
	c->n = n;
	c->m = lg_xcalloc(n, sizeof(*c->m));
	for (uint32_t i = 0; i < n; i++)
		c->m[i].conv = c;
	return c;
}

static void set_member(struct lg *g, struct conv *c, uint32_t i, uint32_t dev)
{
	struct dev *d = &g->devs[dev];

	c->m[i].dev = d;
	if (d->n_mem == d->cap_mem) {
		d->cap_mem = d->cap_mem ? 2 * d->cap_mem : 4;
		d->mem = lg_xrealloc(d->mem, d->cap_mem, sizeof(*d->mem));
	}
	d->mem[d->n_mem++] = &c->m[i];
}

static uint32_t count_convs(const struct lg_layout *l,
			    const bool blocks[BLOCK_COUNT])
{
	uint32_t n = 0;

	if (blocks[BLOCK_A])
		n += l->a_clients * (l->a_clients - 1) / 2;
	if (blocks[BLOCK_B])
		n += l->senders * l->per_sender;
	if (blocks[BLOCK_D] && l->d_members > 1)
		n += 1;
	return n;
}

void convs_plan(struct lg *g, const bool blocks[BLOCK_COUNT])
{
	const struct lg_layout *l = &g->cfg.layout;
	uint32_t total = count_convs(l, blocks), rbase;
	struct conv *c;

	g->convs = lg_xcalloc(total ? total : 1, sizeof(*g->convs));
	block_first[BLOCK_A] = g->n_convs;
	for (uint32_t i = 0; blocks[BLOCK_A] && i < l->a_clients; i++)
		for (uint32_t j = i + 1; j < l->a_clients; j++) {
			c = add_conv(g, 2);
			set_member(g, c, 0, i);
			set_member(g, c, 1, j);
		}
	block_first[BLOCK_B] = g->n_convs;
	rbase = l->b_base + l->senders;
	for (uint32_t k = 0; blocks[BLOCK_B] && k < l->senders; k++)
		for (uint32_t m = 0; m < l->per_sender; m++) {
			c = add_conv(g, 2);
			set_member(g, c, 0, l->b_base + k);
			set_member(g, c, 1, rbase + (k + m) % l->recipients);
		}
	block_first[BLOCK_D] = g->n_convs;
	if (blocks[BLOCK_D] && l->d_members > 1) {
		c = add_conv(g, l->d_members);
		for (uint32_t i = 0; i < l->d_members; i++)
			set_member(g, c, i, l->d_base + i);
	}
	block_first[BLOCK_COUNT] = g->n_convs;
}

void convs_block(const struct lg *g, enum conv_block b, uint32_t *first,
		 uint32_t *n)
{
	(void)g;
	*first = block_first[b];
	*n = block_first[b + 1] - block_first[b];
}

struct conv *convs_pair(const struct lg *g, uint32_t a, uint32_t b)
{
	const struct lg_layout *l = &g->cfg.layout;
	uint32_t lo = a < b ? a : b, hi = a < b ? b : a, rbase, k, m;

	if (block_first[BLOCK_B] > block_first[BLOCK_A] && hi < l->a_clients)
		return &g->convs[block_first[BLOCK_A] +
				 lo * (2 * l->a_clients - lo - 1) / 2 +
				 (hi - lo - 1)];
	rbase = l->b_base + l->senders;
	if (block_first[BLOCK_D] > block_first[BLOCK_B] && lo >= l->b_base &&
	    lo < rbase && hi >= rbase && hi < rbase + l->recipients) {
		k = lo - l->b_base;
		m = (hi - rbase + l->recipients - k % l->recipients) %
		    l->recipients;
		if (m < l->per_sender)
			return &g->convs[block_first[BLOCK_B] +
					 k * l->per_sender + m];
	}
	return NULL;
}

/* ---- a member's own messages ---- */

static void own_pop(struct member *m)
{
	m->own_head = (uint8_t)((m->own_head + 1) % LG_OWN_MAX);
	m->own_n--;
}

/* Own seqs below seq are behind: dropped, and counted. */
static uint64_t own_drop_before(struct member *m, uint64_t seq)
{
	uint64_t n = 0;

	for (; m->own_n > 0 && m->own[m->own_head] < seq; n++)
		own_pop(m);
	return n;
}

bool member_own_push(struct member *m, uint64_t seq)
{
	bool room = m->own_n < LG_OWN_MAX;

	if (!room)
		own_pop(m);
	m->own[(m->own_head + m->own_n) % LG_OWN_MAX] = seq;
	m->own_n++;
	return room;
}

bool member_own_take(struct member *m, uint64_t seq)
{
	/* echoes come in seq order; one older than the head was forgotten */
	own_drop_before(m, seq);
	if (m->own_n == 0 || m->own[m->own_head] != seq)
		return false;
	own_pop(m);
	return true;
}

/* Own seqs right after last_seq are had: the member moves past them. */
static void own_pass(struct member *m)
{
	while (m->own_n > 0 && m->own[m->own_head] == m->last_seq + 1) {
		m->last_seq++;
		own_pop(m);
	}
}

void member_own_sent(struct member *m, uint64_t seq)
{
	uint64_t tail = m->own_n > 0
		? m->own[(m->own_head + m->own_n - 1) % LG_OWN_MAX] : 0;

	if (seq <= m->last_seq || seq <= tail)
		return; /* a retry's original seq, had already */
	member_own_push(m, seq);
	own_pass(m);
}

uint64_t member_seq_take(struct member *m, uint64_t seq, bool *own)
{
	/* its own before seq were not pushed to it: no gap */
	uint64_t gaps = seq - m->last_seq - 1 - own_drop_before(m, seq);

	*own = member_own_take(m, seq);
	m->last_seq = seq;
	own_pass(m);
	return gaps;
}

/* ---- group ids ---- */

static uint32_t gid_hash(const uint8_t *gid)
{
	uint32_t h;

	memcpy(&h, gid, sizeof(h)); /* random bytes: already spread */
	return h;
}

void convs_index(struct lg *g, struct conv *c)
{
	uint32_t slot;

	if (g->ghash == NULL) {
		uint32_t size = 1024;

		while (size < 2 * g->n_convs)
			size *= 2;
		g->ghash = lg_xcalloc(size, sizeof(*g->ghash));
		g->ghash_mask = size - 1;
	}
	slot = gid_hash(c->gid) & g->ghash_mask;
	c->hnext = g->ghash[slot];
	g->ghash[slot] = c;
}

struct conv *convs_find(const struct lg *g, const uint8_t *gid, size_t n)
{
	struct conv *c;

	if (n != LG_GID_LEN || g->ghash == NULL)
		return NULL;
	for (c = g->ghash[gid_hash(gid) & g->ghash_mask]; c != NULL;
	     c = c->hnext)
		if (memcmp(c->gid, gid, LG_GID_LEN) == 0)
			return c;
	return NULL;
}

struct member *convs_member(const struct conv *c, const struct dev *d)
{
	uint32_t lo = 0, hi = c->n;

	/* members are sorted by device index */
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (c->m[mid].dev->idx < d->idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n && c->m[lo].dev == d ? &c->m[lo] : NULL;
}

void convs_free(struct lg *g)
{
	for (uint32_t i = 0; i < g->n_convs; i++) {
		for (uint32_t k = 0; k < g->convs[i].n; k++) {
			mls_group_free(g->convs[i].m[k].g);
			free(g->convs[i].m[k].tmpl);
		}
		free(g->convs[i].m);
	}
	free(g->convs);
	free(g->ghash);
	g->convs = NULL;
	g->ghash = NULL;
	g->n_convs = 0;
}

/* ---- the cache ---- */

/* The key the MLS states are encrypted under: made once, 0600. */
static int cache_key(const char *dir, bool create,
		     uint8_t key[MLS_STATE_KEY_LEN])
{
	char path[4096];
	struct bw_bytes b = { 0 };
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, CACHE_KEY_FILE);
	if (ca_file_read(path, MLS_STATE_KEY_LEN, &b, NULL) == 0 &&
	    b.len == MLS_STATE_KEY_LEN) {
		memcpy(key, b.p, MLS_STATE_KEY_LEN);
		bw_bytes_clear(&b);
		return 0;
	}
	bw_bytes_clear(&b);
	if (!create)
		return -1;
	if (RAND_priv_bytes(key, MLS_STATE_KEY_LEN) != 1)
		return -1;
	rc = ca_file_create(path, 0600, key, MLS_STATE_KEY_LEN);
	return rc == 0 ? 0 : -1;
}

static int write_member(struct bw_writer *w, const struct member *m,
			const uint8_t key[MLS_STATE_KEY_LEN])
{
	uint8_t *state = NULL;
	size_t state_len = 0;
	int rc;

	bw_write_u32(w, m->dev->idx);
	bw_write_u64(w, m->last_seq);
	bw_write_opaque(w, m->tmpl, m->tmpl_len);
	bw_write_u32(w, m->hdr_off);
	if (m->g != NULL &&
	    (rc = mls_group_save(m->g, key, &state, &state_len)) != 0)
		return rc;
	rc = bw_write_opaque(w, state, state_len);
	free(state);
	return rc;
}

static int write_block(struct lg *g, const char *dir, enum conv_block b,
		       const uint8_t key[MLS_STATE_KEY_LEN])
{
	char path[4096], tmp[4200];
	struct bw_writer w;
	uint32_t first, n;
	int rc = 0, fd;

	convs_block(g, b, &first, &n);
	bw_writer_init(&w, (size_t)CACHE_MAX);
	bw_write_opaque(&w, CACHE_MAGIC, sizeof(CACHE_MAGIC) - 1);
	bw_write_u32(&w, n);
	for (uint32_t i = first; i < first + n && rc == 0; i++) {
		struct conv *c = &g->convs[i];

		bw_write_opaque(&w, c->gid, LG_GID_LEN);
		bw_write_u64(&w, c->epoch);
		bw_write_u32(&w, c->n);
		for (uint32_t k = 0; k < c->n && rc == 0; k++)
			rc = write_member(&w, &c->m[k], key);
	}
	if (rc == 0)
		rc = w.err;
	snprintf(path, sizeof(path), "%s/%s", dir, block_file[b]);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (rc == 0) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		rc = fd >= 0 && write(fd, w.buf, w.len) == (ssize_t)w.len &&
				     fsync(fd) == 0
			     ? 0
			     : -1;
		if (fd >= 0)
			close(fd);
		if (rc == 0 && rename(tmp, path) != 0)
			rc = -1;
	}
	bw_writer_free(&w);
	return rc;
}

int convs_save(struct lg *g, const char *dir, const bool blocks[BLOCK_COUNT])
{
	uint8_t key[MLS_STATE_KEY_LEN];
	int rc = 0;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	if (cache_key(dir, true, key) != 0)
		return -1;
	for (int b = 0; b < BLOCK_COUNT && rc == 0; b++)
		if (blocks[b])
			rc = write_block(g, dir, (enum conv_block)b, key);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

static int read_member(struct bw_reader *r, struct member *m, bool load_mls,
		       const struct mls_config *cfg,
		       const uint8_t key[MLS_STATE_KEY_LEN])
{
	const uint8_t *tmpl, *state;
	size_t tmpl_len, state_len;
	uint32_t dev, hdr_off;

	bw_read_u32(r, &dev);
	bw_read_u64(r, &m->last_seq);
	bw_read_opaque(r, LG_MAX_MESSAGE, &tmpl, &tmpl_len);
	bw_read_u32(r, &hdr_off);
	bw_read_opaque(r, CACHE_MAX, &state, &state_len);
	if (r->err != 0)
		return r->err;
	if (dev != m->dev->idx || tmpl_len < LG_HDR_LEN ||
	    hdr_off > tmpl_len - LG_HDR_LEN)
		return BW_ERR_BAD_VALUE;
	m->tmpl = lg_xcalloc(1, tmpl_len);
	memcpy(m->tmpl, tmpl, tmpl_len);
	m->tmpl_len = (uint32_t)tmpl_len;
	m->hdr_off = hdr_off;
	if (!load_mls)
		return 0;
	return mls_group_load(cfg, key, state, state_len, &m->g);
}

static int read_block(struct lg *g, const uint8_t *p, size_t len,
		      enum conv_block b, bool load_mls,
		      const struct mls_config *cfg,
		      const uint8_t key[MLS_STATE_KEY_LEN])
{
	const uint8_t *magic, *gid;
	size_t magic_len, gid_len;
	uint32_t first, n, count, members;
	struct bw_reader r;
	int rc = 0;

	convs_block(g, b, &first, &n);
	bw_reader_init(&r, p, len);
	bw_read_opaque(&r, 64, &magic, &magic_len);
	bw_read_u32(&r, &count);
	if (r.err != 0 || magic_len != sizeof(CACHE_MAGIC) - 1 ||
	    memcmp(magic, CACHE_MAGIC, magic_len) != 0 || count != n)
		return BW_ERR_BAD_VALUE;
	for (uint32_t i = first; i < first + n && rc == 0; i++) {
		struct conv *c = &g->convs[i];

		bw_read_opaque(&r, LG_GID_LEN, &gid, &gid_len);
		bw_read_u64(&r, &c->epoch);
		bw_read_u32(&r, &members);
		if (r.err != 0 || gid_len != LG_GID_LEN || members != c->n)
			return r.err ? r.err : BW_ERR_BAD_VALUE;
		memcpy(c->gid, gid, LG_GID_LEN);
		convs_index(g, c);
		for (uint32_t k = 0; k < c->n && rc == 0; k++)
			rc = read_member(&r, &c->m[k], load_mls, cfg, key);
	}
	return rc != 0 ? rc : bw_reader_finish(&r);
}

static int read_file(const char *path, struct bw_bytes *out)
{
	struct stat st;
	ssize_t k;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_size <= 0 ||
	    (uint64_t)st.st_size > CACHE_MAX)
		goto out;
	out->p = lg_xcalloc(1, (size_t)st.st_size);
	out->len = (size_t)st.st_size;
	while (got < out->len) {
		if ((k = read(fd, out->p + got, out->len - got)) <= 0)
			goto out;
		got += (size_t)k;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int convs_load(struct lg *g, const char *dir, const bool blocks[BLOCK_COUNT],
	       bool load_mls, const struct mls_config *cfg)
{
	uint8_t key[MLS_STATE_KEY_LEN];
	char path[4096];
	int rc = 0;

	if (cache_key(dir, false, key) != 0) {
		lg_log(g, "no cache in %s (run the setup)", dir);
		return -1;
	}
	for (int b = 0; b < BLOCK_COUNT && rc == 0; b++) {
		struct bw_bytes file = { 0 };

		if (!blocks[b])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, block_file[b]);
		if (read_file(path, &file) != 0) {
			lg_log(g, "cannot read %s (run the setup)", path);
			rc = -1;
		} else if ((rc = read_block(g, file.p, file.len,
					    (enum conv_block)b, load_mls, cfg,
					    key)) != 0) {
			lg_log(g, "%s does not match this layout (%s): run "
				  "the setup again",
			       path, mls_strerror(rc));
		}
		free(file.p);
	}
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/*
 * secret_tree.c - RFC 9420 §9: the secret tree, the per-sender hash
 * ratchets, the §9.2 deletion schedule, and §6.3.2 sender-data keys.
 *
 * State is sparse so that it grows with the senders seen, not the group:
 *  - nodes: the node secrets not yet consumed. At first only the root
 *    (encryption_secret). Reaching a leaf consumes the lowest stored
 *    ancestor: each step down derives both children, keeps the one off the
 *    path and deletes the parent, so at any time every leaf is covered by
 *    exactly one stored ancestor or has its ratchets (checked on decode).
 *  - senders: per leaf reached, its handshake and application ratchets;
 *    the leaf secret is deleted once both exist.
 * A ratchet keeps its next secret and, for reordering, the keys of skipped
 * generations (at most max_retained, oldest evicted first).
 *
 * Every lookup is prepared off to the side (new node secrets, the new
 * sender, the advanced ratchet) and committed only when nothing can fail
 * any more, so a failed lookup leaves the tree as it was.
 */
#include "secret_tree.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "treemath.h"

#define STATE_VERSION 1
/* Tables never grow beyond this many slots (far past available memory). */
#define TABLE_MAX_CAP (UINT32_C(1) << 30)
#define TABLE_MIN_CAP 16u

/* ---- open-addressing table keyed by uint32, linear probing ----
 * Each slot begins with a uint32 tag: key + 1, or 0 when empty (keys are
 * node indices, at most 2^32 - 2). Slots are wiped when emptied, moved or
 * freed because they hold secrets. */
struct table {
	uint8_t *slots;
	size_t slot_size;
	uint32_t cap; /* 0 or a power of two */
	uint32_t count;
};

#define NOT_FOUND UINT32_MAX

static void *slot_at(const struct table *t, uint32_t i)
{
	return t->slots + (size_t)i * t->slot_size;
}

static uint32_t slot_tag(const struct table *t, uint32_t i)
{
	uint32_t tag;

	memcpy(&tag, slot_at(t, i), sizeof(tag));
	return tag;
}

static uint32_t slot_home(uint32_t tag, uint32_t cap)
{
	uint32_t h = tag; /* a 32-bit integer mixer spreads sibling indices */

	h ^= h >> 16;
	h *= UINT32_C(0x7feb352d);
	h ^= h >> 15;
	h *= UINT32_C(0x846ca68b);
	h ^= h >> 16;
	return h & (cap - 1);
}

static uint32_t table_find(const struct table *t, uint32_t key)
{
	uint32_t tag = key + 1, i, cur;

	if (t->cap == 0 || tag == 0) /* UINT32_MAX is never a key */
		return NOT_FOUND;
	for (i = slot_home(tag, t->cap);; i = (i + 1) & (t->cap - 1)) {
		if ((cur = slot_tag(t, i)) == tag)
			return i;
		if (cur == 0)
			return NOT_FOUND;
	}
}

static void *table_get(const struct table *t, uint32_t key)
{
	uint32_t i = table_find(t, key);

	return i == NOT_FOUND ? NULL : slot_at(t, i);
}

/* First empty slot on tag's probe sequence (the table is never full). */
static uint32_t table_free_slot(const struct table *t, uint32_t tag)
{
	uint32_t i = slot_home(tag, t->cap);

	while (slot_tag(t, i) != 0)
		i = (i + 1) & (t->cap - 1);
	return i;
}

/* Make room for `extra` more entries at a load of at most one half, so
 * that the inserts that follow cannot fail. Contents are unchanged. */
static int table_reserve(struct table *t, uint32_t extra)
{
	uint64_t need = ((uint64_t)t->count + extra) * 2;
	uint32_t cap = t->cap ? t->cap : TABLE_MIN_CAP;
	uint8_t *old = t->slots;
	uint32_t old_cap = t->cap, i;

	if (need <= t->cap)
		return 0;
	while (cap < need) {
		if (cap >= TABLE_MAX_CAP)
			return BW_ERR_NOMEM;
		cap *= 2;
	}
	if ((t->slots = calloc(cap, t->slot_size)) == NULL) {
		t->slots = old;
		return BW_ERR_NOMEM;
	}
	t->cap = cap;
	for (i = 0; i < old_cap; i++) {
		uint8_t *src = old + (size_t)i * t->slot_size;
		uint32_t tag;

		memcpy(&tag, src, sizeof(tag));
		if (tag != 0)
			memcpy(slot_at(t, table_free_slot(t, tag)), src,
			       t->slot_size);
	}
	OPENSSL_clear_free(old, (size_t)old_cap * t->slot_size);
	return 0;
}

/* Insert a key known to be absent, after table_reserve(). Returns the
 * zeroed slot with its tag set. */
static void *table_insert(struct table *t, uint32_t key)
{
	uint32_t tag = key + 1;
	void *slot = slot_at(t, table_free_slot(t, tag));

	memcpy(slot, &tag, sizeof(tag));
	t->count++;
	return slot;
}

/* Remove slot i, shifting later entries of its cluster back so that every
 * probe sequence stays unbroken (no tombstones). */
static void table_remove(struct table *t, uint32_t i)
{
	uint32_t mask = t->cap - 1, j = i, tag;

	for (;;) {
		j = (j + 1) & mask;
		if ((tag = slot_tag(t, j)) == 0)
			break;
		/* The entry at j may fill the hole if the hole lies between
		 * its home slot and j. */
		if (((j - slot_home(tag, t->cap)) & mask) >= ((j - i) & mask)) {
			memcpy(slot_at(t, i), slot_at(t, j), t->slot_size);
			i = j;
		}
	}
	OPENSSL_cleanse(slot_at(t, i), t->slot_size);
	t->count--;
}

static void table_free(struct table *t)
{
	OPENSSL_clear_free(t->slots, (size_t)t->cap * t->slot_size);
	t->slots = NULL;
	t->cap = t->count = 0;
}

/* Keys of the table in ascending order (for a canonical encoding). *keys
 * is the caller's (NULL when the table is empty). */
static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int table_sorted_keys(const struct table *t, uint32_t **keys)
{
	uint32_t i, n = 0;

	*keys = NULL;
	if (t->count == 0)
		return 0;
	if ((*keys = malloc((size_t)t->count * sizeof(**keys))) == NULL)
		return BW_ERR_NOMEM;
	for (i = 0; i < t->cap; i++)
		if (slot_tag(t, i) != 0)
			(*keys)[n++] = slot_tag(t, i) - 1;
	qsort(*keys, n, sizeof(**keys), cmp_u32);
	return 0;
}

/* ---- tree state ---- */

struct node_slot {
	uint32_t tag;
	uint8_t secret[MLS_MAX_HASH_LEN];
};

struct ratchet {
	uint32_t next; /* generation whose secret is `secret` */
	uint32_t n_kept, kept_cap;
	uint8_t secret[MLS_MAX_HASH_LEN];
	struct mls_ratchet_key *kept; /* skipped keys, ascending generation */
};

struct sender_slot {
	uint32_t tag;
	struct ratchet r[2]; /* indexed by enum mls_ratchet_type */
};

struct mls_secret_tree {
	const struct mls_suite *suite;
	uint32_t n_leaves;
	uint32_t max_forward, max_retained;
	struct table nodes;   /* struct node_slot */
	struct table senders; /* struct sender_slot */
};

void mls_ratchet_key_clear(struct mls_ratchet_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

static void ratchet_clear(struct ratchet *r)
{
	OPENSSL_clear_free(r->kept, (size_t)r->kept_cap * sizeof(*r->kept));
	OPENSSL_cleanse(r, sizeof(*r));
}

static struct mls_secret_tree *tree_alloc(const struct mls_suite *s,
					  uint32_t n_leaves)
{
	struct mls_secret_tree *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->suite = s;
	t->n_leaves = n_leaves;
	t->max_forward = MLS_DEFAULT_MAX_FORWARD;
	t->max_retained = MLS_DEFAULT_MAX_RETAINED;
	t->nodes.slot_size = sizeof(struct node_slot);
	t->senders.slot_size = sizeof(struct sender_slot);
	return t;
}

void mls_secret_tree_free(struct mls_secret_tree *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->senders.cap; i++) {
		struct sender_slot *snd = slot_at(&t->senders, i);

		if (snd->tag != 0) {
			ratchet_clear(&snd->r[0]);
			ratchet_clear(&snd->r[1]);
		}
	}
	table_free(&t->senders);
	table_free(&t->nodes);
	OPENSSL_clear_free(t, sizeof(*t));
}

int mls_secret_tree_new(const struct mls_suite *s,
			const uint8_t *encryption_secret, size_t secret_len,
			uint32_t n_leaves, struct mls_secret_tree **out)
{
	struct mls_secret_tree *t = NULL;
	struct node_slot *root;
	int rc;

	*out = NULL;
	if (s == NULL || encryption_secret == NULL ||
	    secret_len != s->hash_len || !mls_tm_valid_leaves(n_leaves))
		return MLS_ERR_INVALID_ARG;
	if ((t = tree_alloc(s, n_leaves)) == NULL)
		return BW_ERR_NOMEM;
	if ((rc = table_reserve(&t->nodes, 1)) != 0) {
		mls_secret_tree_free(t);
		return rc;
	}
	root = table_insert(&t->nodes, mls_tm_root(n_leaves));
	memcpy(root->secret, encryption_secret, secret_len);
	*out = t;
	return 0;
}

/* Drop the oldest kept keys beyond max (no allocation). */
static void ratchet_evict(struct ratchet *r, uint32_t max)
{
	uint32_t drop;

	if (r->n_kept <= max)
		return;
	drop = r->n_kept - max;
	OPENSSL_cleanse(r->kept, (size_t)drop * sizeof(*r->kept));
	memmove(r->kept, r->kept + drop, (size_t)max * sizeof(*r->kept));
	OPENSSL_cleanse(r->kept + max, (size_t)drop * sizeof(*r->kept));
	r->n_kept = max;
}

void mls_secret_tree_set_limits(struct mls_secret_tree *t,
				uint32_t max_forward, uint32_t max_retained)
{
	t->max_forward = max_forward;
	t->max_retained = max_retained;
	for (uint32_t i = 0; i < t->senders.cap; i++) {
		struct sender_slot *snd = slot_at(&t->senders, i);

		if (snd->tag != 0) {
			ratchet_evict(&snd->r[0], max_retained);
			ratchet_evict(&snd->r[1], max_retained);
		}
	}
}

/* ---- reaching a leaf: node secrets down the tree (§9) ---- */

struct new_sender {
	uint32_t leaf;
	uint32_t consumed;  /* the stored ancestor the path starts from */
	uint32_t n_new;     /* node secrets left beside the path */
	struct node_slot new_nodes[MLS_TM_MAX_PATH];
	struct ratchet r[2];
};

static void new_sender_clear(struct new_sender *ns)
{
	OPENSSL_cleanse(ns, sizeof(*ns));
}

/* Derive both children of node x from its secret; *toward receives the
 * child on the way to target, the other one is recorded in ns. */
static int derive_children(const struct mls_secret_tree *t, uint32_t x,
			   const uint8_t *secret, uint32_t target,
			   struct new_sender *ns, uint8_t *toward,
			   uint32_t *toward_node)
{
	const struct mls_suite *s = t->suite;
	uint32_t left = mls_tm_left(x, t->n_leaves);
	uint32_t right = mls_tm_right(x, t->n_leaves);
	struct node_slot *aside = &ns->new_nodes[ns->n_new];
	bool go_left = target < x;
	int rc;

	if ((rc = mls_expand_with_label(s, secret, s->hash_len, "tree",
					go_left ? "left" : "right",
					go_left ? 4 : 5, toward,
					s->hash_len)) != 0 ||
	    (rc = mls_expand_with_label(s, secret, s->hash_len, "tree",
					go_left ? "right" : "left",
					go_left ? 5 : 4, aside->secret,
					s->hash_len)) != 0)
		return rc;
	aside->tag = (go_left ? right : left) + 1;
	ns->n_new++;
	*toward_node = go_left ? left : right;
	return 0;
}

/* What reaching `leaf` for the first time changes, computed aside: of the
 * tree, only the capacity of its tables is touched. */
static int prepare_sender(struct mls_secret_tree *t, uint32_t leaf,
			  struct new_sender *ns)
{
	const struct mls_suite *s = t->suite;
	uint32_t target = mls_tm_leaf_node(leaf), x = target;
	uint8_t secret[MLS_MAX_HASH_LEN], next[MLS_MAX_HASH_LEN];
	const struct node_slot *start;
	int rc;

	memset(ns, 0, sizeof(*ns));
	ns->leaf = leaf;
	while ((start = table_get(&t->nodes, x)) == NULL)
		if ((x = mls_tm_parent(x, t->n_leaves)) == MLS_TM_NONE)
			return MLS_ERR_STATE_CORRUPT; /* not reachable */
	ns->consumed = x;
	memcpy(secret, start->secret, s->hash_len);
	while (x != target) {
		if ((rc = derive_children(t, x, secret, target, ns, next, &x)) != 0)
			goto out;
		memcpy(secret, next, s->hash_len);
	}
	if ((rc = mls_expand_with_label(s, secret, s->hash_len, "handshake",
					NULL, 0, ns->r[MLS_RATCHET_HANDSHAKE].secret,
					s->hash_len)) != 0 ||
	    (rc = mls_expand_with_label(s, secret, s->hash_len, "application",
					NULL, 0,
					ns->r[MLS_RATCHET_APPLICATION].secret,
					s->hash_len)) != 0 ||
	    (rc = table_reserve(&t->nodes, ns->n_new)) != 0)
		goto out;
	rc = table_reserve(&t->senders, 1);
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(next, sizeof(next));
	if (rc != 0)
		new_sender_clear(ns);
	return rc;
}

/* Apply a prepared sender: cannot fail. */
static struct sender_slot *commit_sender(struct mls_secret_tree *t,
					 struct new_sender *ns)
{
	struct sender_slot *snd;

	table_remove(&t->nodes, table_find(&t->nodes, ns->consumed));
	for (uint32_t i = 0; i < ns->n_new; i++) {
		struct node_slot *n = table_insert(&t->nodes,
						   ns->new_nodes[i].tag - 1);

		memcpy(n->secret, ns->new_nodes[i].secret, t->suite->hash_len);
	}
	snd = table_insert(&t->senders, ns->leaf);
	memcpy(snd->r, ns->r, sizeof(snd->r));
	new_sender_clear(ns);
	return snd;
}

/* ---- the hash ratchets (§9.1) ---- */

/* Key and nonce of generation gen from its ratchet secret. */
static int ratchet_key(const struct mls_suite *s, const uint8_t *secret,
		       uint32_t gen, struct mls_ratchet_key *k)
{
	int rc;

	k->generation = gen;
	if ((rc = mls_derive_tree_secret(s, secret, s->hash_len, "key", gen,
					 k->key, s->key_len)) != 0)
		return rc;
	return mls_derive_tree_secret(s, secret, s->hash_len, "nonce", gen,
				      k->nonce, s->nonce_len);
}

/* secret of gen + 1 replaces the secret of gen. */
static int ratchet_step(const struct mls_suite *s, uint8_t *secret,
			uint32_t gen)
{
	uint8_t next[MLS_MAX_HASH_LEN];
	int rc;

	if ((rc = mls_derive_tree_secret(s, secret, s->hash_len, "secret", gen,
					 next, s->hash_len)) == 0)
		memcpy(secret, next, s->hash_len);
	OPENSSL_cleanse(next, sizeof(next));
	return rc;
}

/* A ratchet moved forward, ready to replace the old one. */
struct advance {
	uint32_t next;
	uint8_t secret[MLS_MAX_HASH_LEN];
	bool new_kept; /* kept below replaces the ratchet's */
	uint32_t n_kept;
	struct mls_ratchet_key *kept;
};

static void advance_clear(struct advance *a)
{
	OPENSSL_clear_free(a->kept, (size_t)a->n_kept * sizeof(*a->kept));
	OPENSSL_cleanse(a, sizeof(*a));
}

/* The kept list after skipping to gen: the newest max_retained of the old
 * keys followed by the skipped ones. Only those that survive are derived. */
static int prepare_kept(const struct mls_secret_tree *t,
			const struct ratchet *r, uint32_t gen,
			struct advance *a, uint32_t *first_kept)
{
	uint32_t skipped = gen - r->next, max = t->max_retained;
	uint32_t keep_new = skipped < max ? skipped : max;
	uint32_t keep_old = r->n_kept < max - keep_new ? r->n_kept :
							 max - keep_new;

	*first_kept = gen - keep_new;
	a->new_kept = true;
	a->n_kept = keep_old + keep_new;
	if (a->n_kept == 0)
		return 0;
	if ((a->kept = calloc(a->n_kept, sizeof(*a->kept))) == NULL) {
		a->n_kept = 0;
		return BW_ERR_NOMEM;
	}
	if (keep_old > 0)
		memcpy(a->kept, r->kept + (r->n_kept - keep_old),
		       (size_t)keep_old * sizeof(*a->kept));
	return 0;
}

/* Move ratchet r forward to gen (r->next <= gen < UINT32_MAX), producing
 * gen's key in *out and the ratchet's new state in *a. */
static int prepare_advance(const struct mls_secret_tree *t,
			   const struct ratchet *r, uint32_t gen,
			   struct advance *a, struct mls_ratchet_key *out)
{
	const struct mls_suite *s = t->suite;
	uint32_t j, first_kept = gen, slot;
	int rc = 0;

	memset(a, 0, sizeof(*a));
	memcpy(a->secret, r->secret, s->hash_len);
	if (gen > r->next &&
	    (rc = prepare_kept(t, r, gen, a, &first_kept)) != 0)
		goto out;
	slot = a->n_kept - (gen - first_kept);
	for (j = r->next; j < gen; j++) {
		if (j >= first_kept &&
		    (rc = ratchet_key(s, a->secret, j, &a->kept[slot++])) != 0)
			goto out;
		if ((rc = ratchet_step(s, a->secret, j)) != 0)
			goto out;
	}
	if ((rc = ratchet_key(s, a->secret, gen, out)) != 0 ||
	    (rc = ratchet_step(s, a->secret, gen)) != 0)
		goto out;
	a->next = gen + 1;
out:
	if (rc != 0) {
		advance_clear(a);
		mls_ratchet_key_clear(out);
	}
	return rc;
}

static void commit_advance(struct ratchet *r, struct advance *a,
			   size_t secret_len)
{
	r->next = a->next;
	memcpy(r->secret, a->secret, secret_len);
	if (a->new_kept) {
		OPENSSL_clear_free(r->kept,
				   (size_t)r->kept_cap * sizeof(*r->kept));
		r->kept = a->kept;
		r->n_kept = r->kept_cap = a->n_kept;
		a->kept = NULL; /* transferred */
		a->n_kept = 0;
	}
	advance_clear(a);
}

/* A retained key for a generation behind the ratchet, removed as it is
 * handed out when consume is set; anything else behind the ratchet is gone. */
static int take_kept(struct ratchet *r, uint32_t gen, bool consume,
		     struct mls_ratchet_key *out)
{
	uint32_t lo = 0, hi = r->n_kept, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r->kept[mid].generation < gen)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == r->n_kept || r->kept[lo].generation != gen)
		return MLS_ERR_GENERATION_CONSUMED;
	*out = r->kept[lo];
	if (!consume)
		return 0;
	memmove(&r->kept[lo], &r->kept[lo + 1],
		(size_t)(r->n_kept - lo - 1) * sizeof(*r->kept));
	r->n_kept--;
	mls_ratchet_key_clear(&r->kept[r->n_kept]);
	return 0;
}

static int check_lookup(const struct mls_secret_tree *t, uint32_t leaf,
			enum mls_ratchet_type type)
{
	if (type != MLS_RATCHET_HANDSHAKE && type != MLS_RATCHET_APPLICATION)
		return MLS_ERR_INVALID_ARG;
	return leaf < t->n_leaves ? 0 : MLS_ERR_LEAF_INDEX;
}

/* The key for (leaf, type, generation); the ratchet moves past it only
 * when consume is set, so a key can be tried before it is used up. */
static int lookup(struct mls_secret_tree *t, uint32_t leaf,
		  enum mls_ratchet_type type, uint32_t generation, bool consume,
		  struct mls_ratchet_key *out)
{
	struct new_sender ns;
	struct advance a;
	struct sender_slot *snd;
	uint32_t next;
	int rc;

	mls_ratchet_key_clear(out);
	if ((rc = check_lookup(t, leaf, type)) != 0)
		return rc;
	snd = table_get(&t->senders, leaf);
	next = snd ? snd->r[type].next : 0;
	if (generation < next)
		return take_kept(&snd->r[type], generation, consume, out);
	/* The last generation is never reached: its successor would not fit
	 * in a uint32. */
	if (generation - next > t->max_forward || generation == UINT32_MAX)
		return MLS_ERR_GENERATION_TOO_FAR;
	if (snd == NULL && (rc = prepare_sender(t, leaf, &ns)) != 0)
		return rc;
	rc = prepare_advance(t, snd ? &snd->r[type] : &ns.r[type], generation,
			     &a, out);
	if (rc != 0 || !consume) {
		if (rc == 0)
			advance_clear(&a);
		if (snd == NULL)
			new_sender_clear(&ns);
		return rc;
	}
	if (snd == NULL)
		snd = commit_sender(t, &ns);
	commit_advance(&snd->r[type], &a, t->suite->hash_len);
	return 0;
}

int mls_secret_tree_get(struct mls_secret_tree *t, uint32_t leaf,
			enum mls_ratchet_type type, uint32_t generation,
			struct mls_ratchet_key *out)
{
	return lookup(t, leaf, type, generation, true, out);
}

int mls_secret_tree_peek(struct mls_secret_tree *t, uint32_t leaf,
			 enum mls_ratchet_type type, uint32_t generation,
			 struct mls_ratchet_key *out)
{
	return lookup(t, leaf, type, generation, false, out);
}

int mls_secret_tree_next(struct mls_secret_tree *t, uint32_t leaf,
			 enum mls_ratchet_type type,
			 struct mls_ratchet_key *out)
{
	const struct sender_slot *snd;
	int rc;

	mls_ratchet_key_clear(out);
	if ((rc = check_lookup(t, leaf, type)) != 0)
		return rc;
	snd = table_get(&t->senders, leaf);
	return mls_secret_tree_get(t, leaf, type, snd ? snd->r[type].next : 0,
				   out);
}

/* ---- sender data (§6.3.2) ---- */

int mls_sender_data_keys(const struct mls_suite *s,
			 const uint8_t *sender_data_secret, size_t secret_len,
			 const uint8_t *ciphertext, size_t ciphertext_len,
			 uint8_t *key, uint8_t *nonce)
{
	size_t sample = ciphertext_len < s->hash_len ? ciphertext_len :
							s->hash_len;
	int rc;

	if (secret_len != s->hash_len || (ciphertext == NULL && sample > 0))
		return MLS_ERR_INVALID_ARG;
	if ((rc = mls_expand_with_label(s, sender_data_secret, secret_len, "key",
					ciphertext, sample, key, s->key_len)) != 0 ||
	    (rc = mls_expand_with_label(s, sender_data_secret, secret_len,
					"nonce", ciphertext, sample, nonce,
					s->nonce_len)) != 0)
		OPENSSL_cleanse(key, s->key_len);
	return rc;
}

/* ---- persistence ----
 * struct {
 *   uint8 version = 1; uint16 cipher_suite; uint32 n_leaves;
 *   uint32 max_forward; uint32 max_retained;
 *   uint32 n_nodes;   { uint32 node; opaque secret[Nh]; } ascending node
 *   uint32 n_senders; { uint32 leaf; Ratchet handshake, application; }
 *                     ascending leaf
 * }
 * Ratchet: uint32 next; opaque secret[Nh]; uint32 n_kept;
 *          { uint32 generation; opaque key[Nk]; opaque nonce[Nn]; }
 *          ascending generation
 */

static void encode_ratchet(const struct mls_suite *s, const struct ratchet *r,
			   struct bw_writer *w)
{
	bw_write_u32(w, r->next);
	bw_write_bytes(w, r->secret, s->hash_len);
	bw_write_u32(w, r->n_kept);
	for (uint32_t i = 0; i < r->n_kept; i++) {
		bw_write_u32(w, r->kept[i].generation);
		bw_write_bytes(w, r->kept[i].key, s->key_len);
		bw_write_bytes(w, r->kept[i].nonce, s->nonce_len);
	}
}

int mls_secret_tree_encode(const struct mls_secret_tree *t,
			   struct bw_writer *w)
{
	const struct mls_suite *s = t->suite;
	uint32_t *nodes = NULL, *leaves = NULL, i;
	int rc;

	if ((rc = table_sorted_keys(&t->nodes, &nodes)) != 0 ||
	    (rc = table_sorted_keys(&t->senders, &leaves)) != 0)
		goto out;
	bw_write_u8(w, STATE_VERSION);
	bw_write_u16(w, s->id);
	bw_write_u32(w, t->n_leaves);
	bw_write_u32(w, t->max_forward);
	bw_write_u32(w, t->max_retained);
	bw_write_u32(w, t->nodes.count);
	for (i = 0; i < t->nodes.count; i++) {
		const struct node_slot *n = table_get(&t->nodes, nodes[i]);

		bw_write_u32(w, nodes[i]);
		bw_write_bytes(w, n->secret, s->hash_len);
	}
	bw_write_u32(w, t->senders.count);
	for (i = 0; i < t->senders.count; i++) {
		const struct sender_slot *snd = table_get(&t->senders, leaves[i]);

		bw_write_u32(w, leaves[i]);
		encode_ratchet(s, &snd->r[0], w);
		encode_ratchet(s, &snd->r[1], w);
	}
	rc = w->err;
out:
	free(nodes);
	free(leaves);
	return rc;
}

/* A count read from the state must fit in what is left of it. */
static bool count_fits(const struct bw_reader *r, uint32_t count,
		       size_t item_len, uint64_t max)
{
	return count <= max &&
	       (uint64_t)count * item_len <= bw_reader_remaining(r);
}

static int decode_nodes(struct mls_secret_tree *t, struct bw_reader *r)
{
	const struct mls_suite *s = t->suite;
	uint32_t count, node, prev = 0;
	const uint8_t *secret;
	struct node_slot *slot;
	int rc;

	if (bw_read_u32(r, &count) != 0 ||
	    !count_fits(r, count, 4 + s->hash_len,
			mls_tm_node_width(t->n_leaves)))
		return MLS_ERR_STATE_CORRUPT;
	if ((rc = table_reserve(&t->nodes, count)) != 0)
		return rc;
	for (uint32_t i = 0; i < count; i++) {
		if (bw_read_u32(r, &node) != 0 ||
		    bw_read_bytes(r, s->hash_len, &secret) != 0 ||
		    !mls_tm_in_tree(node, t->n_leaves) || (i > 0 && node <= prev))
			return MLS_ERR_STATE_CORRUPT;
		slot = table_insert(&t->nodes, node);
		memcpy(slot->secret, secret, s->hash_len);
		prev = node;
	}
	return 0;
}

static int decode_ratchet(const struct mls_secret_tree *t, struct bw_reader *r,
			  struct ratchet *rt)
{
	const struct mls_suite *s = t->suite;
	size_t key_item = 4 + s->key_len + s->nonce_len;
	const uint8_t *p;
	uint32_t count;

	if (bw_read_u32(r, &rt->next) != 0 ||
	    bw_read_bytes(r, s->hash_len, &p) != 0)
		return MLS_ERR_STATE_CORRUPT;
	memcpy(rt->secret, p, s->hash_len);
	if (bw_read_u32(r, &count) != 0 ||
	    !count_fits(r, count, key_item, t->max_retained))
		return MLS_ERR_STATE_CORRUPT;
	if (count > 0 && (rt->kept = calloc(count, sizeof(*rt->kept))) == NULL)
		return BW_ERR_NOMEM;
	rt->kept_cap = count;
	for (uint32_t i = 0; i < count; i++) {
		struct mls_ratchet_key *k = &rt->kept[i];

		if (bw_read_u32(r, &k->generation) != 0 ||
		    k->generation >= rt->next ||
		    (i > 0 && k->generation <= rt->kept[i - 1].generation) ||
		    bw_read_bytes(r, s->key_len, &p) != 0)
			return MLS_ERR_STATE_CORRUPT;
		memcpy(k->key, p, s->key_len);
		if (bw_read_bytes(r, s->nonce_len, &p) != 0)
			return MLS_ERR_STATE_CORRUPT;
		memcpy(k->nonce, p, s->nonce_len);
		rt->n_kept++;
	}
	return 0;
}

static int decode_senders(struct mls_secret_tree *t, struct bw_reader *r)
{
	const struct mls_suite *s = t->suite;
	size_t min_item = 4 + 2 * (8 + s->hash_len);
	uint32_t count, leaf, prev = 0;
	struct sender_slot *snd;
	int rc;

	if (bw_read_u32(r, &count) != 0 ||
	    !count_fits(r, count, min_item, t->n_leaves))
		return MLS_ERR_STATE_CORRUPT;
	if ((rc = table_reserve(&t->senders, count)) != 0)
		return rc;
	for (uint32_t i = 0; i < count; i++) {
		if (bw_read_u32(r, &leaf) != 0 || leaf >= t->n_leaves ||
		    (i > 0 && leaf <= prev))
			return MLS_ERR_STATE_CORRUPT;
		/* Inserted first so that the tree frees it on any failure. */
		snd = table_insert(&t->senders, leaf);
		if ((rc = decode_ratchet(t, r, &snd->r[0])) != 0 ||
		    (rc = decode_ratchet(t, r, &snd->r[1])) != 0)
			return rc;
		prev = leaf;
	}
	return 0;
}

/* Some strict ancestor of node x holds a stored secret. */
static bool ancestor_stored(const struct mls_secret_tree *t, uint32_t x)
{
	while ((x = mls_tm_parent(x, t->n_leaves)) != MLS_TM_NONE)
		if (table_find(&t->nodes, x) != NOT_FOUND)
			return true;
	return false;
}

/* The §9.2 invariant: every leaf is covered exactly once, by one stored
 * node secret above it or by its own ratchets. Without overlaps (no stored
 * secret below another, none above a sender), the covered leaves add up
 * to n_leaves exactly when none is missing. */
static int check_coverage(const struct mls_secret_tree *t)
{
	uint64_t covered = t->senders.count;
	uint32_t i, tag;

	for (i = 0; i < t->nodes.cap; i++) {
		if ((tag = slot_tag(&t->nodes, i)) == 0)
			continue;
		if (ancestor_stored(t, tag - 1))
			return MLS_ERR_STATE_CORRUPT;
		covered += mls_tm_subtree_leaves(tag - 1, t->n_leaves);
	}
	for (i = 0; i < t->senders.cap; i++) {
		uint32_t node;

		if ((tag = slot_tag(&t->senders, i)) == 0)
			continue;
		node = mls_tm_leaf_node(tag - 1);
		if (table_find(&t->nodes, node) != NOT_FOUND ||
		    ancestor_stored(t, node))
			return MLS_ERR_STATE_CORRUPT;
	}
	return covered == t->n_leaves ? 0 : MLS_ERR_STATE_CORRUPT;
}

int mls_secret_tree_decode(const struct mls_suite *s, struct bw_reader *r,
			   struct mls_secret_tree **out)
{
	struct mls_secret_tree *t = NULL;
	uint32_t n_leaves, max_forward, max_retained;
	uint16_t suite;
	uint8_t version;
	int rc = MLS_ERR_STATE_CORRUPT;

	*out = NULL;
	if (s == NULL)
		return MLS_ERR_INVALID_ARG;
	if (bw_read_u8(r, &version) != 0 || version != STATE_VERSION ||
	    bw_read_u16(r, &suite) != 0 || suite != s->id ||
	    bw_read_u32(r, &n_leaves) != 0 || !mls_tm_valid_leaves(n_leaves) ||
	    bw_read_u32(r, &max_forward) != 0 ||
	    bw_read_u32(r, &max_retained) != 0)
		return MLS_ERR_STATE_CORRUPT;
	if ((t = tree_alloc(s, n_leaves)) == NULL)
		return BW_ERR_NOMEM;
	t->max_forward = max_forward;
	t->max_retained = max_retained;
	if ((rc = decode_nodes(t, r)) != 0 ||
	    (rc = decode_senders(t, r)) != 0 ||
	    (rc = check_coverage(t)) != 0)
		goto out;
	*out = t;
	t = NULL; /* transferred */
out:
	mls_secret_tree_free(t);
	return rc;
}

/* scen_common.c - what the scenarios share (scen.h). */
#include "conn.h"
#include "convs.h"
#include "loop.h"
#include "scen.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: picking conversations needs speed, not secrecy. */
uint64_t scen_random(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

void scen_seed(uint64_t seed)
{
	rng_state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

static bool settled(struct lg *g)
{
	return loop_logins_settled(g);
}

uint32_t scen_login(struct lg *g, uint32_t first, uint32_t n)
{
	uint32_t ready = 0;

	for (uint32_t i = first; i < first + n; i++) {
		g->devs[i].want_conn = true;
		loop_login(g, &g->devs[i]);
	}
	loop_run(g, settled, 600);
	for (uint32_t i = first; i < first + n; i++)
		ready += g->devs[i].conn.state == LC_READY;
	return ready;
}

static uint32_t close_first, close_n;

static bool all_closed(struct lg *g)
{
	for (uint32_t i = close_first; i < close_first + close_n; i++)
		if (g->devs[i].conn.state != LC_DEAD)
			return false;
	return true;
}

void scen_logout(struct lg *g, uint32_t first, uint32_t n)
{
	for (uint32_t i = first; i < first + n; i++) {
		g->devs[i].want_conn = false;
		if (g->devs[i].conn.state == LC_READY ||
		    g->devs[i].conn.state == LC_SYNC)
			conn_logout(g, &g->devs[i].conn);
		else
			conn_close(g, &g->devs[i].conn, NULL);
	}
	close_first = first;
	close_n = n;
	loop_run(g, all_closed, 15);
	for (uint32_t i = first; i < first + n; i++)
		conn_close(g, &g->devs[i].conn, NULL);
}

uint32_t scen_a_members(struct lg *g, struct dev *d, uint32_t clients)
{
	uint32_t first, n, k = 0;

	convs_block(g, BLOCK_A, &first, &n);
	for (uint32_t i = 0; i < d->n_mem; i++) {
		struct conv *c = d->mem[i]->conv;
		struct member *tmp;

		if (c->idx < first || c->idx >= first + n ||
		    c->m[0].dev->idx >= clients || c->m[1].dev->idx >= clients)
			continue;
		tmp = d->mem[k];
		d->mem[k++] = d->mem[i];
		d->mem[i] = tmp;
	}
	return k;
}

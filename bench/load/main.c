/*
 * main.c - bulwark-load: options, then the setup or one scenario
 * (bench/README.md).
 *
 *   bulwark-load --devices DIR --cache DIR --scenario setup
 *   bulwark-load --devices DIR --cache DIR --scenario A --server-pid PID
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <openssl/rand.h>

#include "conn.h"
#include "convs.h"
#include "devices.h"
#include "err.h"
#include "key_methods.h"
#include "loop.h"
#include "mls_dev.h"
#include "scen.h"
#include "setup.h"
#include "tls_client.h"

/* Bounds that keep a mistyped option from running for hours. */
#define MAX_DURATION 600.0
#define MAX_DEVICES 60000u
#define MAX_MSG_SIZE 60000u

static const char usage_text[] =
	"usage: bulwark-load --devices DIR --cache DIR --scenario S [options]\n"
	"  S: setup, A (throughput), A1 (A at --rate), B (offline), C (idle),\n"
	"     D (group fan-out), E (crash torture: run while the server is\n"
	"     killed and restarted by someone else)\n"
	"  --raw | --mls            pre-encrypted payloads (default) or real\n"
	"                           MLS encryption and decryption per message\n"
	"  --host 127.0.0.1 --port 8443 --server-name localhost\n"
	"  --server-pid PID         bulwarkd, for its CPU and memory\n"
	"  --out FILE --label TEXT  the JSON result (default: stdout)\n"
	"layout (the same for the setup and the runs):\n"
	"  --a-clients 200 --b-base 200 --senders 100 --recipients 100\n"
	"  --per-sender 50 --d-base 400 --d-members 1000\n"
	"runs:\n"
	"  --clients N (A, E; default --a-clients) --window 1 --rate R\n"
	"  --duration 20 --warmup 2 --drain 5 --runs 1 --idle-n 5000\n"
	"  --settle 5 --d-probes 10 --msg-size 200 --conc 100 --ack-ms 50\n"
	"  --login-timeout 60 -v\n"
	"  --provider-keys          P-256 and Ed25519 through OpenSSL's\n"
	"                           providers, not its built-in methods\n";

static void usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

/* ---- helpers every module uses (lg.h) ---- */

static uint64_t start_ns;

uint64_t lg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void lg_log(const struct lg *g, const char *fmt, ...)
{
	va_list ap;

	(void)g;
	fprintf(stderr, "[load %8.3f] ",
		(double)(lg_now_ns() - start_ns) / 1e9);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void lg_die(const char *fmt, ...)
{
	va_list ap;

	fputs("bulwark-load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

void *lg_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL && n != 0 && size != 0)
		lg_die("out of memory");
	return p;
}

void *lg_xrealloc(void *p, size_t n, size_t size)
{
	void *q;

	if (size != 0 && n > SIZE_MAX / size)
		lg_die("out of memory");
	if ((q = realloc(p, n * size)) == NULL && n != 0)
		lg_die("out of memory");
	return q;
}

/* ---- options ---- */

/* A number within [lo, hi]: the option being parsed (getopt's optind
 * has moved past it, so the message names the value). */
static double num(const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || v < lo || v > hi)
		lg_die("'%s' is not a number within %g..%g", s, lo, hi);
	return v;
}

static uint32_t u32(const char *s, uint32_t lo, uint32_t hi)
{
	return (uint32_t)num(s, lo, hi);
}

static void defaults(struct lg_config *c)
{
	memset(c, 0, sizeof(*c));
	c->host = "127.0.0.1";
	c->port = 8443;
	c->server_name = "localhost";
	c->scenario = "";
	c->label = "";
	c->layout = (struct lg_layout){ .a_clients = 200, .b_base = 200,
					.senders = 100, .recipients = 100,
					.per_sender = 50, .d_base = 400,
					.d_members = 1000 };
	c->window = 1;
	c->rate = -1; /* scenario default */
	c->duration = 20;
	c->warmup = 2;
	c->drain = -1;
	c->runs = 1;
	c->idle_n = 5000;
	c->settle = 5;
	c->d_probes = 10;
	c->msg_size = 200;
	c->conc = 100;
	c->ack_ms = 50;
	c->login_timeout = 60;
}

static void parse(int argc, char **argv, struct lg_config *c)
{
	static const struct option opts[] = {
		{ "devices", 1, 0, 'D' },    { "cache", 1, 0, 'K' },
		{ "scenario", 1, 0, 'S' },   { "raw", 0, 0, 'r' },
		{ "mls", 0, 0, 'm' },        { "host", 1, 0, 'h' },
		{ "port", 1, 0, 'p' },       { "server-name", 1, 0, 'n' },
		{ "server-pid", 1, 0, 'P' }, { "out", 1, 0, 'o' },
		{ "label", 1, 0, 'l' },      { "a-clients", 1, 0, 1 },
		{ "b-base", 1, 0, 2 },       { "senders", 1, 0, 3 },
		{ "recipients", 1, 0, 4 },   { "per-sender", 1, 0, 5 },
		{ "d-base", 1, 0, 6 },       { "d-members", 1, 0, 7 },
		{ "clients", 1, 0, 8 },      { "window", 1, 0, 9 },
		{ "rate", 1, 0, 10 },        { "duration", 1, 0, 11 },
		{ "warmup", 1, 0, 12 },      { "drain", 1, 0, 13 },
		{ "runs", 1, 0, 14 },        { "idle-n", 1, 0, 15 },
		{ "settle", 1, 0, 16 },      { "d-probes", 1, 0, 17 },
		{ "msg-size", 1, 0, 18 },    { "conc", 1, 0, 19 },
		{ "ack-ms", 1, 0, 20 },      { "login-timeout", 1, 0, 21 },
		{ "provider-keys", 0, 0, 22 }, { "verbose", 0, 0, 'v' },
		{ "help", 0, 0, 'H' },
		{ 0, 0, 0, 0 },
	};
	struct lg_layout *l = &c->layout;
	int o;

	defaults(c);
	while ((o = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (o) {
		case 'D': c->devices_dir = optarg; break;
		case 'K': c->cache_dir = optarg; break;
		case 'S': c->scenario = optarg; break;
		case 'r': c->mode = LG_RAW; break;
		case 'm': c->mode = LG_MLS; break;
		case 'h': c->host = optarg; break;
		case 'p': c->port = (int)num(optarg, 1, 65535); break;
		case 'n': c->server_name = optarg; break;
		case 'P': c->server_pid = (int)num(optarg, 1, 1e9); break;
		case 'o': c->out = optarg; break;
		case 'l': c->label = optarg; break;
		case 1: l->a_clients = u32(optarg, 0, MAX_DEVICES); break;
		case 2: l->b_base = u32(optarg, 0, MAX_DEVICES); break;
		case 3: l->senders = u32(optarg, 0, MAX_DEVICES); break;
		case 4: l->recipients = u32(optarg, 1, MAX_DEVICES); break;
		case 5: l->per_sender = u32(optarg, 0, 10000); break;
		case 6: l->d_base = u32(optarg, 0, MAX_DEVICES); break;
		case 7: l->d_members = u32(optarg, 0, UINT16_MAX); break;
		case 8: c->clients = u32(optarg, 2, MAX_DEVICES); break;
		case 9: c->window = u32(optarg, 1, 1000); break;
		case 10: c->rate = num(optarg, 0, 1e7); break;
		case 11: c->duration = num(optarg, 0, MAX_DURATION); break;
		case 12: c->warmup = num(optarg, 0, MAX_DURATION); break;
		case 13: c->drain = num(optarg, 0, MAX_DURATION); break;
		case 14: c->runs = u32(optarg, 1, 20); break;
		case 15: c->idle_n = u32(optarg, 1, MAX_DEVICES); break;
		case 16: c->settle = num(optarg, 0, MAX_DURATION); break;
		case 17: c->d_probes = u32(optarg, 0, 1000); break;
		case 18:
			c->msg_size = u32(optarg, LG_HDR_LEN, MAX_MSG_SIZE);
			break;
		case 19: c->conc = u32(optarg, 1, 10000); break;
		case 20: c->ack_ms = u32(optarg, 0, 10000); break;
		case 21: c->login_timeout = num(optarg, 1, MAX_DURATION); break;
		case 22: c->provider_keys = true; break;
		case 'v': c->verbose = true; break;
		default: usage();
		}
	}
	if (optind != argc || c->devices_dir == NULL || c->cache_dir == NULL)
		usage();
}

/* ---- what each scenario needs ---- */

struct plan {
	bool blocks[BLOCK_COUNT];
	uint32_t devices; /* devices 0..devices-1 are loaded */
};

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static void block_devices(const struct lg_layout *l, struct plan *p)
{
	if (p->blocks[BLOCK_A])
		p->devices = max_u32(p->devices, l->a_clients);
	if (p->blocks[BLOCK_B])
		p->devices = max_u32(p->devices, l->b_base + l->senders +
							 l->recipients);
	if (p->blocks[BLOCK_D])
		p->devices = max_u32(p->devices, l->d_base + l->d_members);
}

static int plan_for(struct lg_config *c, struct plan *p)
{
	const struct lg_layout *l = &c->layout;
	const char *s = c->scenario;

	memset(p, 0, sizeof(*p));
	if (c->clients == 0)
		c->clients = l->a_clients;
	if (strcmp(s, "setup") == 0) {
		p->blocks[BLOCK_A] = l->a_clients >= 2;
		p->blocks[BLOCK_B] = l->senders > 0 && l->per_sender > 0;
		p->blocks[BLOCK_D] = l->d_members > 1;
	} else if (strcmp(s, "A") == 0 || strcmp(s, "A1") == 0 ||
		   strcmp(s, "E") == 0) {
		if (c->clients > l->a_clients)
			lg_die("--clients is at most --a-clients");
		p->blocks[BLOCK_A] = true;
		if (c->rate < 0)
			c->rate = strcmp(s, "A1") == 0 ? 2000 : 0;
		if (c->drain < 0)
			c->drain = strcmp(s, "E") == 0 ? 60 : 5;
	} else if (strcmp(s, "B") == 0) {
		p->blocks[BLOCK_B] = true;
	} else if (strcmp(s, "D") == 0) {
		p->blocks[BLOCK_D] = true;
		if (c->rate < 0)
			c->rate = 10;
	} else if (strcmp(s, "C") == 0) {
		p->devices = c->idle_n;
	} else {
		return -1;
	}
	if (c->rate < 0)
		c->rate = 0;
	if (c->drain < 0)
		c->drain = 5;
	block_devices(l, p);
	return 0;
}

static int run(struct lg *g, struct lg_mls *m, const struct plan *p)
{
	const char *s = g->cfg.scenario;

	if (strcmp(s, "setup") == 0)
		return setup_run(g, m, p->blocks) == 0 ? 0 : 1;
	if (strcmp(s, "C") != 0) {
		convs_plan(g, p->blocks);
		if (convs_load(g, g->cfg.cache_dir, p->blocks,
			       g->cfg.mode == LG_MLS, &m->cfg) != 0)
			return 1;
	}
	if (strcmp(s, "A") == 0 || strcmp(s, "A1") == 0)
		return scen_throughput(g, m);
	if (strcmp(s, "B") == 0)
		return scen_offline(g, m);
	if (strcmp(s, "C") == 0)
		return scen_idle(g);
	if (strcmp(s, "D") == 0)
		return scen_fanout(g, m);
	return scen_torture(g, m);
}

/* Only the machine's own loopback: a load generator must never be aimed
 * at someone else's server by a typo. */
static struct sockaddr_in *target(const struct lg_config *c)
{
	static struct sockaddr_in sa;

	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)c->port);
	if (inet_pton(AF_INET, c->host, &sa.sin_addr) != 1 ||
	    (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
		lg_die("refusing target %s: only 127.0.0.0/8 is allowed",
		       c->host);
	return &sa;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	static struct lg g;
	struct lg_mls mls;
	struct plan p;
	char ca_file[4096];
	int rc;

	start_ns = lg_now_ns();
	parse(argc, argv, &g.cfg);
	if (plan_for(&g.cfg, &p) != 0)
		usage();
	g.addr = target(&g.cfg);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	g.ep = -1;
	if (RAND_bytes((unsigned char *)&g.nonce, sizeof(g.nonce)) != 1)
		lg_die("no randomness");
	scen_seed(((uint64_t)g.nonce << 32) | g.nonce);
	/* Logins take OpenSSL's direct path for P-256 and Ed25519 keys, as
	 * bulwarkd's do (lib/common/key_methods.h). */
	if (!g.cfg.provider_keys && (rc = bw_key_methods_use_builtin()) < 0)
		lg_die("key methods: %s", bw_strerror(rc));
	snprintf(ca_file, sizeof(ca_file), "%s/ca.crt", g.cfg.devices_dir);
	if (lgm_init(&mls, ca_file) != 0 ||
	    tls_client_context(ca_file, &g.tls) != 0)
		lg_die("cannot read the CA certificate %s", ca_file);
	if (loop_init(&g) != 0 ||
	    devices_load(&g, g.cfg.devices_dir, p.devices) != 0)
		lg_die("cannot start");
	lg_log(&g, "%s: %u devices, %s mode, target %s:%d", g.cfg.scenario,
	       p.devices, g.cfg.mode == LG_MLS ? "mls" : "raw", g.cfg.host,
	       g.cfg.port);
	rc = run(&g, &mls, &p);
	convs_free(&g);
	devices_free(&g);
	loop_free(&g);
	lgm_free(&mls);
	free(g.msgs);
	free(g.lat);
	SSL_CTX_free(g.tls);
	return rc;
}

/*
 * cmd_device.c - bulwarkctl device activate|list|revoke.
 *
 * `activate` makes a one-time activation password here, turns it into the
 * SPAKE2+ registration record (w0, L) with lib/pake, and sends the server
 * only that record (docs/protocol.md, "Activation"). The password is shown
 * once, as text and as a QR code, and is never stored anywhere.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <qrencode.h>

#include "admin_client.h"
#include "ctl_format.h"
#include "device_enroll.h"
#include "spake2plus.h"

static const char usage[] =
	"usage: bulwarkctl device activate USER [--ttl DURATION] [-c CONFIG]\n"
	"       bulwarkctl device list [--user USER] [-c CONFIG]\n"
	"       bulwarkctl device revoke DEVICE_ID [-c CONFIG]\n"
	"       bulwarkctl device enroll USER... --out DIR [--count N]\n"
	"                  [--name NAME] [--users-file FILE] [--add-users]\n"
	"                  [-c CONFIG]\n"
	"\n"
	"activate: a one-time password for a new device of USER, valid for\n"
	"DURATION (default: the server's activation_ttl, e.g. 72h), locked\n"
	"after too many wrong attempts. Give the printed values or the QR\n"
	"code to the device owner over a trusted channel.\n"
	"revoke: the device's connections close at once and its certificate\n"
	"is refused from then on.\n"
	"enroll: pre-provision N (default 1) managed devices for each USER\n"
	"(and each user of FILE, one a line): their keys are generated here,\n"
	"certified by the server's CA, and written with their certificates to\n"
	"DIR/<device id>.pem (0600), indexed in DIR/devices.tsv. --add-users\n"
	"creates the users that do not exist yet.\n";

/* 32 characters nobody confuses (no 0/O, 1/I): 5 bits each. */
static const char pw_alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
#define PW_CHARS 16 /* 80 bits */
#define PW_GROUP 4
static const char id_alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
#define CODE_ID_CHARS 10
_Static_assert(sizeof(pw_alphabet) == 33 && sizeof(id_alphabet) == 33,
	       "random_chars() needs alphabets of exactly 32 characters");

/* Uniform characters from a 32-character alphabet: 256 is a multiple of
 * 32, so the low five bits of a random byte carry no bias. */
static int random_chars(const char *alphabet, char *out, size_t n)
{
	uint8_t raw[32];

	if (n > sizeof(raw) || RAND_priv_bytes(raw, (int)n) != 1)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[raw[i] & 31];
	out[n] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

struct activation_out {
	char user[PROTO_MAX_NAME + 1];
	char code_id[CODE_ID_CHARS + 1];
	char password[PW_CHARS + 1];   /* what the device uses */
	char grouped[PW_CHARS + PW_CHARS / PW_GROUP]; /* for reading aloud */
	char server[ADMIN_MAX_ADDRESS + 1];
	char server_name[PROTO_MAX_HOST + 1];
	char ca_fp[ADMIN_MAX_FINGERPRINT_TEXT + 1]; /* AB:CD:... */
	char ca_hex[ADMIN_MAX_FINGERPRINT_TEXT + 1]; /* ABCD..., for the URI */
	char uri[1024];
	uint64_t expires;
};

static void wipe_out(struct activation_out *o)
{
	OPENSSL_cleanse(o, sizeof(*o));
}

static void group_password(struct activation_out *o)
{
	size_t j = 0;

	for (size_t i = 0; i < PW_CHARS; i++) {
		if (i > 0 && i % PW_GROUP == 0)
			o->grouped[j++] = '-';
		o->grouped[j++] = o->password[i];
	}
	o->grouped[j] = '\0';
}

static void copy_span(char *dst, size_t size, const struct proto_span *s)
{
	size_t n = s->n < size - 1 ? s->n : size - 1;

	memcpy(dst, s->p, n);
	dst[n] = '\0';
}

/* The server's name (idVerifier), address and CA fingerprint. */
static int server_info(const struct ctl *ctl, struct admin_client *ac,
		       struct activation_out *o)
{
	struct bw_writer *w = admin_client_request(ac);
	struct admin_marks mk = admin_request_begin(w, ADMIN_OP_STATUS);
	struct admin_status_info info;
	struct admin_response resp;
	int rc;

	admin_end(w, mk);
	if (admin_client_call(ctl, ac, &resp) != CTL_OK)
		return CTL_FAIL;
	if ((rc = admin_decode_status_info(&resp.body, &info)) != 0)
		return ctl_fail(ctl, rc, "bad status from the server");
	copy_span(o->server, sizeof(o->server), &info.public_address);
	copy_span(o->server_name, sizeof(o->server_name), &info.server_name);
	copy_span(o->ca_fp, sizeof(o->ca_fp), &info.ca_fingerprint);
	for (size_t i = 0, j = 0; i < sizeof(o->ca_fp) && o->ca_fp[i]; i++)
		if (o->ca_fp[i] != ':')
			o->ca_hex[j++] = o->ca_fp[i];
	return CTL_OK;
}

/* The record the server keeps: (w0, L), the salt and the KDF costs. */
static int register_code(const struct ctl *ctl, struct admin_client *ac,
			 struct activation_out *o, uint64_t ttl)
{
	uint8_t id_prover[PROTO_MAX_ID_PROVER], kdf_buf[PROTO_MAX_KDF_PARAMS];
	struct pake_ids ids;
	struct pake_pbkdf kdf;
	struct bw_bytes w0 = { 0 }, l = { 0 };
	struct proto_kdf_params params = { .kdf = PROTO_KDF_SCRYPT };
	struct admin_activation_create req;
	struct admin_activation_created created;
	struct admin_response resp;
	struct admin_marks mk;
	struct bw_writer kw, *w;
	int rc;

	ids.prover = id_prover;
	ids.prover_len = proto_activation_id_prover(
		(const uint8_t *)o->user, strlen(o->user),
		(const uint8_t *)o->code_id, strlen(o->code_id), id_prover);
	ids.verifier = (const uint8_t *)o->server_name;
	ids.verifier_len = strlen(o->server_name);
	if ((rc = pake_pbkdf_init(&kdf)) != 0 ||
	    (rc = pake_register(PAKE_SUITE_BULWARK, &kdf,
				(const uint8_t *)o->password, PW_CHARS, &ids,
				&w0, &l)) != 0)
		return ctl_fail(ctl, rc, "cannot compute the verifier: %s",
				pake_strerror(rc));
	params.n = kdf.n;
	params.r = kdf.r;
	params.p = kdf.p;
	bw_writer_init_fixed(&kw, kdf_buf, sizeof(kdf_buf));
	proto_encode_kdf_params(&kw, &params);
	req = (struct admin_activation_create){
		.user = { (const uint8_t *)o->user, strlen(o->user) },
		.code_id = { (const uint8_t *)o->code_id, strlen(o->code_id) },
		.w0 = { w0.p, w0.len },
		.l = { l.p, l.len },
		.salt = { kdf.salt, kdf.salt_len },
		.kdf_params = { kdf_buf, kw.len },
		.ttl = ttl,
	};
	w = admin_client_request(ac);
	mk = admin_request_begin(w, ADMIN_OP_ACTIVATION_CREATE);
	admin_encode_activation_create(w, &req);
	admin_end(w, mk);
	rc = admin_client_call(ctl, ac, &resp);
	bw_bytes_clear(&w0);
	bw_bytes_clear(&l);
	/* The request held w0: wipe it now, not at exit. */
	OPENSSL_cleanse(admin_client_request(ac)->buf,
			admin_client_request(ac)->cap);
	if (rc != CTL_OK)
		return CTL_FAIL;
	if ((rc = admin_decode_activation_created(&resp.body, &created)) != 0)
		return ctl_fail(ctl, rc, "bad response from the server");
	o->expires = created.expires;
	return CTL_OK;
}

/* A QR code in UTF-8 half blocks, two modules a line, light on dark as
 * terminals usually are, with a quiet zone of two modules. */
static void print_qr(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int w, margin = 2;

	if (qr == NULL)
		return;
	w = qr->width;
	for (int y = -margin; y < w + margin; y += 2) {
		for (int x = -margin; x < w + margin; x++) {
			bool top = y >= 0 && y < w && x >= 0 && x < w &&
				   (qr->data[y * w + x] & 1);
			bool bottom = y + 1 >= 0 && y + 1 < w && x >= 0 &&
				      x < w && (qr->data[(y + 1) * w + x] & 1);

			/* Dark modules are the unlit ones. */
			fputs(top ? (bottom ? " " : "\u2584")
				  : (bottom ? "\u2580" : "\u2588"),
			      stdout);
		}
		putchar('\n');
	}
	QRcode_free(qr);
}

static int print_activation(const struct ctl *ctl, struct activation_out *o)
{
	char expires[32];

	ctl_format_time(o->expires, expires, sizeof(expires));
	if (ctl->json)
		return ctl_print_json(json_pack(
			"{s:{s:s,s:s,s:s,s:s,s:s,s:s,s:I}}", "activation",
			"user", o->user, "code_id", o->code_id, "password",
			o->password, "server", o->server, "ca_fingerprint",
			o->ca_fp, "uri", o->uri, "expires",
			(json_int_t)o->expires));
	printf("One-time activation for %s, valid until %s:\n\n"
	       "  server        %s\n"
	       "  user          %s\n"
	       "  code          %s\n"
	       "  password      %s\n"
	       "  CA (SHA-256)  %s\n\n",
	       o->user, expires, o->server, o->user, o->code_id, o->grouped,
	       o->ca_fp);
	print_qr(o->uri);
	printf("\n%s\n", o->uri);
	return CTL_OK;
}

static int device_activate(const struct ctl *ctl, struct admin_client *ac,
			   const char *user, uint64_t ttl)
{
	struct activation_out o;
	int rc = CTL_FAIL;

	memset(&o, 0, sizeof(o));
	if (!proto_name_valid((const uint8_t *)user, strlen(user),
			      PROTO_MAX_NAME))
		return ctl_fail(ctl, PROTO_ERR_NAME, "invalid user name '%s'",
				user);
	snprintf(o.user, sizeof(o.user), "%s", user);
	if (random_chars(pw_alphabet, o.password, PW_CHARS) != 0 ||
	    random_chars(id_alphabet, o.code_id, CODE_ID_CHARS) != 0) {
		rc = ctl_fail(ctl, 0, "no randomness");
		goto out;
	}
	group_password(&o);
	if (server_info(ctl, ac, &o) != CTL_OK ||
	    register_code(ctl, ac, &o, ttl) != CTL_OK)
		goto out;
	snprintf(o.uri, sizeof(o.uri),
		 "bulwark://activate?server=%s&user=%s&code=%s&pw=%s&ca=%s",
		 o.server, o.user, o.code_id, o.password, o.ca_hex);
	rc = print_activation(ctl, &o);
out:
	wipe_out(&o);
	return rc;
}

static json_t *device_json(const struct admin_device *d)
{
	char fp[2 * ADMIN_MAX_FINGERPRINT + 1], serial[2 * ADMIN_MAX_SERIAL + 1];
	char created[32], revoked[32];

	bw_hex_encode(d->fingerprint.p, d->fingerprint.n, fp);
	bw_hex_encode(d->serial.p, d->serial.n, serial);
	ctl_format_time(d->created, created, sizeof(created));
	ctl_format_time(d->revoked_at, revoked, sizeof(revoked));
	return json_pack("{s:s%,s:s%,s:s%,s:s,s:s,s:s,s:b,s:s?}", "id",
			 (const char *)d->id.p, d->id.n, "user",
			 (const char *)d->user.p, d->user.n, "name",
			 (const char *)d->name.p, d->name.n, "fingerprint", fp,
			 "serial", serial, "created", created, "revoked",
			 d->revoked_at != 0, "revoked_at",
			 d->revoked_at ? revoked : NULL);
}

static void device_row(const struct admin_device *d)
{
	char fp[2 * ADMIN_MAX_FINGERPRINT + 1], created[32];

	bw_hex_encode(d->fingerprint.p, d->fingerprint.n, fp);
	fp[16] = '\0';
	ctl_format_time(d->created, created, sizeof(created));
	printf("%-32.*s %-16.*s %-20.*s %-8s %-17s %s\n", (int)d->id.n,
	       (const char *)d->id.p, (int)d->user.n, (const char *)d->user.p,
	       (int)d->name.n, (const char *)d->name.p,
	       d->revoked_at ? "revoked" : "active", created, fp);
}

static int device_list(const struct ctl *ctl, struct admin_client *ac,
		       const char *user)
{
	struct admin_name filter = { { (const uint8_t *)user, strlen(user) } };
	struct bw_writer *w = admin_client_request(ac);
	struct admin_marks mk = admin_request_begin(w, ADMIN_OP_DEVICE_LIST);
	struct admin_response resp;
	struct admin_device d;
	struct bw_reader list;
	json_t *arr = json_array();

	admin_encode_name(w, &filter);
	admin_end(w, mk);
	if (admin_client_call(ctl, ac, &resp) != CTL_OK ||
	    admin_open_list(&resp.body, &list) != 0) {
		json_decref(arr);
		return CTL_FAIL;
	}
	if (!ctl->json)
		printf("%-32s %-16s %-20s %-8s %-17s %s\n", "ID", "USER", "NAME",
		       "STATUS", "CREATED", "FINGERPRINT");
	while (bw_reader_remaining(&list) > 0) {
		if (admin_read_device(&list, &d) != 0) {
			json_decref(arr);
			return ctl_fail(ctl, list.err, "bad device list");
		}
		if (ctl->json)
			json_array_append_new(arr, device_json(&d));
		else
			device_row(&d);
	}
	if (ctl->json)
		return ctl_print_json(json_pack("{s:o}", "devices", arr));
	json_decref(arr);
	return CTL_OK;
}

static int device_revoke(const struct ctl *ctl, struct admin_client *ac,
			 const char *id)
{
	struct admin_name n = { { (const uint8_t *)id, strlen(id) } };
	struct bw_writer *w = admin_client_request(ac);
	struct admin_marks mk = admin_request_begin(w, ADMIN_OP_DEVICE_REVOKE);
	struct admin_response resp;

	admin_encode_name(w, &n);
	admin_end(w, mk);
	if (admin_client_call(ctl, ac, &resp) != CTL_OK)
		return CTL_FAIL;
	if (ctl->json)
		return ctl_print_json(json_pack("{s:{s:s,s:b}}", "device", "id",
						id, "revoked", 1));
	printf("device %s revoked; its connections are closed\n", id);
	return CTL_OK;
}

static bool arity_ok(const char *action, int args)
{
	if (strcmp(action, "list") == 0)
		return args == 1;
	if (strcmp(action, "enroll") == 0)
		return args >= 1;
	return (strcmp(action, "activate") == 0 ||
		strcmp(action, "revoke") == 0) &&
	       args == 2;
}

int cmd_device(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "ttl", required_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "count", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'N' },
		{ "users-file", required_argument, NULL, 'f' },
		{ "add-users", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *user = "", *action, *users_file = NULL;
	struct enroll_options eo = { .count = 1, .name = "managed" };
	struct admin_client *ac;
	int64_t ttl = 0;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:t:u:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'u': user = optarg; break;
		case 'n':
			if (!enroll_parse_count(optarg, &eo.count))
				return ctl_usage_error(ctl, usage,
						       "bad count '%s'",
						       optarg);
			break;
		case 'o': eo.out_dir = optarg; break;
		case 'N': eo.name = optarg; break;
		case 'f': users_file = optarg; break;
		case 'a': eo.add_users = true; break;
		case 't':
			if ((ttl = ctl_parse_duration(optarg)) < 0)
				return ctl_usage_error(ctl, usage,
						       "bad duration '%s'",
						       optarg);
			break;
		case 'h': fputs(usage, stdout); return CTL_OK;
		default: return ctl_usage_error(ctl, usage, "bad option");
		}
	}
	action = optind < argc ? argv[optind] : "";
	if (!arity_ok(action, argc - optind))
		return ctl_usage_error(ctl, usage, "expected activate, list, "
						   "revoke or enroll");
	if (strcmp(action, "enroll") == 0) {
		if (eo.out_dir == NULL)
			return ctl_usage_error(ctl, usage,
					       "enroll needs --out DIR");
		return device_enroll_command(ctl, config, &eo, users_file,
					     argv + optind + 1,
					     argc - optind - 1);
	}
	if (admin_client_open(ctl, ctl_config_path(config), &ac) != CTL_OK)
		return CTL_FAIL;
	if (strcmp(action, "activate") == 0)
		rc = device_activate(ctl, ac, argv[optind + 1], (uint64_t)ttl);
	else if (strcmp(action, "revoke") == 0)
		rc = device_revoke(ctl, ac, argv[optind + 1]);
	else
		rc = device_list(ctl, ac, user);
	admin_client_close(ac);
	return rc;
}

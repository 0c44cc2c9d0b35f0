/* activation_values.c - the values bulwarkctl prints for an activation,
 * typed in or read from the QR code's URI (docs/protocol.md):
 *
 *   bulwark://activate?server=HOST:PORT&user=USER&code=CODE_ID
 *                     &pw=PASSWORD&ca=SHA256HEX
 */
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bulwark/bulwark.h"
#include "net.h"
#include "proto.h"

#define URI_PREFIX "bulwark://activate?"

static int set_server(char *out, const char *server)
{
	char host[NET_MAX_HOST], port[NET_MAX_PORT];
	int rc;

	if (strlen(server) > BULWARK_MAX_ADDRESS)
		return BULWARK_ERR_ADDRESS;
	if ((rc = net_split_address(server, host, port)) != 0)
		return rc;
	strcpy(out, server);
	return 0;
}

static int set_name(char *out, const char *name, size_t max, int err)
{
	size_t n = strlen(name);

	if (!proto_name_valid((const uint8_t *)name, n, max))
		return err;
	memcpy(out, name, n + 1);
	return 0;
}

/* As printed, grouped for reading aloud: dashes and spaces go, letters
 * are upper case (bulwarkctl's alphabet, docs/protocol.md). */
static int set_password(char *out, const char *pw)
{
	size_t j = 0;

	for (; *pw != '\0'; pw++) {
		char ch = *pw;

		if (ch == '-' || ch == ' ')
			continue;
		if (ch <= ' ' || ch > '~' || j == BULWARK_MAX_PASSWORD)
			return BULWARK_ERR_PASSWORD;
		out[j++] = ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
	}
	out[j] = '\0';
	return j > 0 ? 0 : BULWARK_ERR_PASSWORD;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 64 hex digits, colons between them allowed ("AB:CD:..."). */
static int set_fingerprint(uint8_t out[BULWARK_FINGERPRINT_LEN],
			   const char *text)
{
	size_t nibbles = 0;
	int v;

	for (; *text != '\0'; text++) {
		if (*text == ':')
			continue;
		if ((v = hex_digit(*text)) < 0 ||
		    nibbles == 2 * BULWARK_FINGERPRINT_LEN)
			return BULWARK_ERR_FINGERPRINT;
		if (nibbles % 2 == 0)
			out[nibbles / 2] = (uint8_t)(v << 4);
		else
			out[nibbles / 2] |= (uint8_t)v;
		nibbles++;
	}
	return nibbles == 2 * BULWARK_FINGERPRINT_LEN ? 0
						       : BULWARK_ERR_FINGERPRINT;
}

int bulwark_activation_set(struct bulwark_activation *a, const char *server,
			   const char *user, const char *code_id,
			   const char *password, const char *ca_fingerprint)
{
	int rc;

	memset(a, 0, sizeof(*a));
	if ((rc = set_server(a->server, server)) != 0 ||
	    (rc = set_name(a->user, user, PROTO_MAX_NAME,
			   BULWARK_ERR_USER_NAME)) != 0 ||
	    (rc = set_name(a->code_id, code_id, PROTO_MAX_CODE_ID,
			   BULWARK_ERR_CODE_ID)) != 0 ||
	    (rc = set_password(a->password, password)) != 0 ||
	    (rc = set_fingerprint(a->ca_fingerprint, ca_fingerprint)) != 0)
		bulwark_activation_clear(a);
	return rc;
}

void bulwark_activation_clear(struct bulwark_activation *a)
{
	OPENSSL_cleanse(a, sizeof(*a));
}

/* ---- the URI ---- */

enum uri_key { K_SERVER, K_USER, K_CODE, K_PW, K_CA, K_COUNT };

static int key_of(const char *k, size_t n)
{
	static const char *const names[K_COUNT] = { "server", "user", "code",
						    "pw", "ca" };

	for (int i = 0; i < K_COUNT; i++)
		if (strlen(names[i]) == n && memcmp(names[i], k, n) == 0)
			return i;
	return -1;
}

/* Percent-decode p[0..n) into out (RFC 3986 §2.1); no NUL may result. */
static int decode_value(const char *p, size_t n, char *out, size_t size)
{
	size_t j = 0;
	int hi, lo;

	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		if (ch == '%') {
			if (i + 2 >= n)
				return BULWARK_ERR_ACTIVATION_URI;
			if ((hi = hex_digit(p[i + 1])) < 0 ||
			    (lo = hex_digit(p[i + 2])) < 0 ||
			    (hi == 0 && lo == 0))
				return BULWARK_ERR_ACTIVATION_URI;
			ch = (char)(hi << 4 | lo);
			i += 2;
		}
		if (j + 1 >= size)
			return BULWARK_ERR_ACTIVATION_URI;
		out[j++] = ch;
	}
	out[j] = '\0';
	return 0;
}

/* The values of the query, each at most once; unknown keys are left for
 * later versions. */
static int split_query(const char *q,
		       char values[K_COUNT][BULWARK_MAX_ADDRESS + 1])
{
	bool seen[K_COUNT] = { false };

	while (*q != '\0') {
		const char *amp = strchr(q, '&'), *eq;
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		int k;

		eq = memchr(q, '=', len);
		if (eq == NULL)
			return BULWARK_ERR_ACTIVATION_URI;
		if ((k = key_of(q, (size_t)(eq - q))) >= 0) {
			if (seen[k] ||
			    decode_value(eq + 1, len - (size_t)(eq + 1 - q),
					 values[k], sizeof(values[k])) != 0)
				return BULWARK_ERR_ACTIVATION_URI;
			seen[k] = true;
		}
		q += len + (amp ? 1 : 0);
	}
	for (int k = 0; k < K_COUNT; k++)
		if (!seen[k])
			return BULWARK_ERR_ACTIVATION_URI;
	return 0;
}

int bulwark_activation_parse_uri(const char *uri,
				 struct bulwark_activation *a)
{
	char values[K_COUNT][BULWARK_MAX_ADDRESS + 1];
	int rc;

	memset(a, 0, sizeof(*a));
	memset(values, 0, sizeof(values));
	if (strnlen(uri, BULWARK_MAX_URI + 1) > BULWARK_MAX_URI ||
	    strncmp(uri, URI_PREFIX, sizeof(URI_PREFIX) - 1) != 0)
		rc = BULWARK_ERR_ACTIVATION_URI;
	else if ((rc = split_query(uri + sizeof(URI_PREFIX) - 1, values)) == 0)
		rc = bulwark_activation_set(a, values[K_SERVER], values[K_USER],
					    values[K_CODE], values[K_PW],
					    values[K_CA]);
	OPENSSL_cleanse(values, sizeof(values)); /* the password */
	return rc;
}

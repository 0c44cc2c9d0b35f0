/* names.c - the names a certificate carries, and the device URI that
 * binds a certificate to (user, device id). Locale-free on purpose. */
#include <arpa/inet.h>
#include <string.h>

#include "pki.h"

static bool is_lower_or_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_or_digit(c) || (c >= 'A' && c <= 'Z');
}

bool ca_org_name_valid(const char *org)
{
	size_t n;

	if (org == NULL || (n = strlen(org)) == 0 || n > CA_ORG_MAX ||
	    org[0] == ' ' || org[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++)
		if (org[i] < 0x20 || org[i] > 0x7e)
			return false;
	return true;
}

/* Checks at most max characters of s, so it is safe on any string. */
static bool name_valid_n(const char *s, size_t n)
{
	if (n == 0 || n > CA_NAME_MAX || !is_lower_or_digit(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_lower_or_digit(s[i]) && s[i] != '.' && s[i] != '_' &&
		    s[i] != '-')
			return false;
	return true;
}

bool ca_name_valid(const char *name)
{
	return name != NULL &&
	       name_valid_n(name, strnlen(name, CA_NAME_MAX + 1));
}

static bool dns_label_valid(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool ca_server_name_valid(const char *name)
{
	unsigned char addr[16];
	size_t n;
	const char *label, *dot;

	if (name == NULL)
		return false;
	if (inet_pton(AF_INET, name, addr) == 1 ||
	    inet_pton(AF_INET6, name, addr) == 1)
		return true;
	n = strnlen(name, CA_SERVER_NAME_MAX + 1);
	if (n == 0 || n > CA_SERVER_NAME_MAX)
		return false;
	label = name;
	for (; (dot = strchr(label, '.')) != NULL; label = dot + 1)
		if (!dns_label_valid(label, (size_t)(dot - label)))
			return false;
	return dns_label_valid(label, strlen(label));
}

int ca_device_uri_format(const char *user, const char *device_id,
			 char out[CA_DEVICE_URI_SIZE])
{
	size_t pre = sizeof(CA_DEVICE_URI_PREFIX) - 1;
	size_t mid = sizeof(CA_DEVICE_URI_MIDDLE) - 1;
	size_t ul, dl;

	if (!ca_name_valid(user))
		return CA_ERR_USER_NAME;
	if (!ca_name_valid(device_id))
		return CA_ERR_DEVICE_ID;
	ul = strlen(user);
	dl = strlen(device_id);
	memcpy(out, CA_DEVICE_URI_PREFIX, pre);
	memcpy(out + pre, user, ul);
	memcpy(out + pre + ul, CA_DEVICE_URI_MIDDLE, mid);
	memcpy(out + pre + ul + mid, device_id, dl + 1);
	return 0;
}

int ca_device_uri_parse(const char *uri, size_t len,
			char user[CA_NAME_MAX + 1],
			char device_id[CA_NAME_MAX + 1])
{
	size_t pre = sizeof(CA_DEVICE_URI_PREFIX) - 1;
	size_t mid = sizeof(CA_DEVICE_URI_MIDDLE) - 1;
	const char *u, *d, *end = uri + len;
	size_t ul, dl;

	if (len < pre || memcmp(uri, CA_DEVICE_URI_PREFIX, pre) != 0)
		return CA_ERR_DEVICE_URI;
	u = uri + pre;
	/* Names hold no '/', so the first one ends the user name. */
	d = memchr(u, '/', (size_t)(end - u));
	if (d == NULL || (size_t)(end - d) < mid ||
	    memcmp(d, CA_DEVICE_URI_MIDDLE, mid) != 0)
		return CA_ERR_DEVICE_URI;
	ul = (size_t)(d - u);
	d += mid;
	dl = (size_t)(end - d);
	/* name_valid_n also refuses an embedded NUL or a further '/'. */
	if (!name_valid_n(u, ul) || !name_valid_n(d, dl))
		return CA_ERR_DEVICE_URI;
	memcpy(user, u, ul);
	user[ul] = '\0';
	memcpy(device_id, d, dl);
	device_id[dl] = '\0';
	return 0;
}

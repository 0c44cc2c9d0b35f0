/* fuzz_ds_checks.c - what the delivery service reads in MLS objects it is
 * not a member of (lib/mls/ds_checks.c): a message's wire format, a
 * KeyPackage's validity and ref, a Welcome's recipients, a GroupInfo's
 * extensions. Whatever the bytes, each answers or refuses, and a
 * KeyPackage's ref is always its suite's hash length. */
#include <stdlib.h>
#include <string.h>

#include "mls/mls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int accept_all(void *arg, const struct mls_credential *cred,
		      const uint8_t *key, size_t len)
{
	(void)arg;
	(void)cred;
	(void)key;
	(void)len;
	return 0;
}

static int count_ref(void *arg, const uint8_t *ref, size_t len)
{
	(void)ref;
	if (len > MLS_MAX_SECRET_LEN)
		abort();
	(*(size_t *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mls_config cfg = { .accept_credential = accept_all,
				  .max_lifetime = 100u * 86400u };
	struct mls_key_package_info info;
	struct mls_group_info_facts facts;
	static const uint8_t key[32] = { 1 };
	uint16_t suite = 0;
	size_t n = 0;

	(void)mls_message_wire_format(data, size);
	for (uint16_t s = 1; s <= 3; s++)
		if (mls_key_package_inspect(&cfg, s, data, size, &info) == 0 &&
		    (info.suite != s || info.ref_len != 32))
			abort();
	(void)mls_welcome_recipients(data, size, &suite, count_ref, &n);
	(void)mls_group_info_facts(data, size, key, sizeof(key), &facts);
	return 0;
}

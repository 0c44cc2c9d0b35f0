/* test_key_schedule.c - the key schedule and PSK chaining beyond what the
 * official vectors reach: NULL as the zero vector, argument checks that
 * leave outputs wiped, the exporter's bounds, and the binding of every
 * input into the result. */
#include <string.h>

#include "crypto.h"
#include "key_schedule.h"
#include "psk.h"
#include "test.h"

static const struct mls_suite *suite;
static const uint8_t zero[MLS_MAX_HASH_LEN];
static const uint8_t gc[] = "a serialised GroupContext stands here";

static bool all_zero(const void *p, size_t n)
{
	return memcmp(p, zero, n) == 0;
}

static bool test_null_is_zero(void)
{
	uint8_t init[MLS_MAX_HASH_LEN] = { 9 };
	struct mls_epoch_secrets a, b;

	CHECK(mls_key_schedule_epoch(suite, init, NULL, NULL, gc, sizeof(gc),
				     &a) == 0);
	CHECK(mls_key_schedule_epoch(suite, init, zero, zero, gc, sizeof(gc),
				     &b) == 0);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	CHECK(!all_zero(a.encryption_secret, suite->hash_len));
	/* The GroupContext is bound in. */
	CHECK(mls_key_schedule_epoch(suite, init, NULL, NULL, gc,
				     sizeof(gc) - 1, &b) == 0);
	CHECK(memcmp(a.joiner_secret, b.joiner_secret, suite->hash_len) != 0);
	mls_epoch_secrets_clear(&a);
	CHECK(a.suite == NULL && all_zero(a.init_secret, suite->hash_len) &&
	      all_zero(a.joiner_secret, suite->hash_len));
	mls_epoch_secrets_clear(&b);
	return true;
}

/* The next epoch may be derived in place from the previous one. */
static bool test_in_place(void)
{
	uint8_t init[MLS_MAX_HASH_LEN] = { 3 }, commit[MLS_MAX_HASH_LEN] = { 4 };
	struct mls_epoch_secrets e, next;

	CHECK(mls_key_schedule_epoch(suite, init, NULL, NULL, gc, sizeof(gc),
				     &e) == 0);
	CHECK(mls_key_schedule_epoch(suite, e.init_secret, commit,
				     e.resumption_psk, gc, sizeof(gc),
				     &next) == 0);
	CHECK(mls_key_schedule_epoch(suite, e.init_secret, commit,
				     e.resumption_psk, gc, sizeof(gc), &e) == 0);
	CHECK(memcmp(&e, &next, sizeof(e)) == 0);
	mls_epoch_secrets_clear(&e);
	mls_epoch_secrets_clear(&next);
	return true;
}

static bool test_join_checks(void)
{
	uint8_t joiner[MLS_MAX_HASH_LEN] = { 5 }, welcome[MLS_MAX_HASH_LEN];
	struct mls_epoch_secrets e;

	CHECK(mls_key_schedule_join(suite, joiner, suite->hash_len, NULL, gc,
				    sizeof(gc), &e) == 0);
	CHECK(mls_welcome_secret(suite, joiner, suite->hash_len, NULL,
				 welcome) == 0);
	CHECK_MEM(welcome, suite->hash_len, e.welcome_secret, suite->hash_len);
	/* The joiner secret may be read from the struct being filled. */
	CHECK(mls_key_schedule_join(suite, e.joiner_secret, suite->hash_len,
				    NULL, gc, sizeof(gc), &e) == 0);
	CHECK_MEM(welcome, suite->hash_len, e.welcome_secret, suite->hash_len);
	/* A joiner_secret of the wrong length (a malformed GroupSecrets). */
	CHECK_EQ_INT(mls_key_schedule_join(suite, joiner, 31, NULL, gc,
					   sizeof(gc), &e),
		     MLS_ERR_INVALID_ARG);
	CHECK(e.suite == NULL && all_zero(e.encryption_secret, suite->hash_len));
	CHECK_EQ_INT(mls_welcome_secret(suite, joiner, 33, NULL, welcome),
		     MLS_ERR_INVALID_ARG);
	CHECK_EQ_INT(mls_key_schedule_epoch(suite, NULL, NULL, NULL, gc,
					    sizeof(gc), &e),
		     MLS_ERR_INVALID_ARG);
	return true;
}

static bool test_exporter(void)
{
	uint8_t init[MLS_MAX_HASH_LEN] = { 1 }, a[64], b[64];
	uint8_t big_label[MLS_EXPORTER_MAX_INPUT + 1] = { 0 };
	struct mls_epoch_secrets e, none;

	CHECK(mls_key_schedule_epoch(suite, init, NULL, NULL, gc, sizeof(gc),
				     &e) == 0);
	CHECK(mls_key_schedule_export(&e, "label", 5, "ctx", 3, a, 32) == 0);
	CHECK(mls_key_schedule_export(&e, "label", 5, "ctx", 3, b, 64) == 0);
	/* The length is part of the derivation, not a truncation. */
	CHECK(memcmp(a, b, 32) != 0);
	CHECK(mls_key_schedule_export(&e, "label", 5, "ctx2", 4, b, 32) == 0);
	CHECK(memcmp(a, b, 32) != 0);
	CHECK(mls_key_schedule_export(&e, "label2", 6, "ctx", 3, b, 32) == 0);
	CHECK(memcmp(a, b, 32) != 0);
	CHECK(mls_key_schedule_export(&e, NULL, 0, NULL, 0, b, 32) == 0);
	CHECK(mls_key_schedule_export(&e, "label", 5, "ctx", 3, b, 0) == 0);
	CHECK_EQ_INT(mls_key_schedule_export(&e, big_label, sizeof(big_label),
					     "", 0, b, 32),
		     MLS_ERR_INVALID_ARG);
	CHECK_EQ_INT(mls_key_schedule_export(&e, "l", 1, "", 0, b, 70000),
		     MLS_ERR_KDF_LENGTH);
	mls_epoch_secrets_clear(&none);
	CHECK_EQ_INT(mls_key_schedule_export(&none, "l", 1, "", 0, b, 32),
		     MLS_ERR_INVALID_ARG);
	mls_epoch_secrets_clear(&e);
	return true;
}

static bool test_external_keypair(void)
{
	uint8_t init[MLS_MAX_HASH_LEN] = { 2 };
	struct bw_bytes priv = { 0 }, pub = { 0 }, priv2 = { 0 }, pub2 = { 0 };
	struct mls_epoch_secrets e;

	CHECK(mls_key_schedule_epoch(suite, init, NULL, NULL, gc, sizeof(gc),
				     &e) == 0);
	CHECK(mls_key_schedule_external_keypair(&e, &priv, &pub) == 0);
	CHECK(mls_key_schedule_external_keypair(&e, &priv2, &pub2) == 0);
	CHECK_MEM(pub.p, pub.len, pub2.p, pub2.len);
	CHECK_MEM(priv.p, priv.len, priv2.p, priv2.len);
	bw_bytes_clear(&priv);
	bw_bytes_clear(&pub);
	bw_bytes_clear(&priv2);
	bw_bytes_clear(&pub2);
	mls_epoch_secrets_clear(&e);
	CHECK_EQ_INT(mls_key_schedule_external_keypair(&e, &priv, &pub),
		     MLS_ERR_INVALID_ARG);
	return true;
}

static bool test_psk_chain(void)
{
	static const uint8_t id1[] = { 1, 2, 'a' }, id2[] = { 1, 2, 'b' };
	static const uint8_t v1[32] = { 7 }, v2[32] = { 8 };
	struct mls_psk_input in[2] = { { id1, sizeof(id1), v1, sizeof(v1) },
				       { id2, sizeof(id2), v2, sizeof(v2) } };
	struct mls_psk_input swapped[2] = { in[1], in[0] };
	uint8_t a[MLS_MAX_HASH_LEN], b[MLS_MAX_HASH_LEN];

	CHECK(mls_psk_secret(suite, NULL, 0, a) == 0);
	CHECK(all_zero(a, suite->hash_len));
	CHECK(mls_psk_secret(suite, in, 2, a) == 0);
	CHECK(!all_zero(a, suite->hash_len));
	/* Order, count and each id are bound in. */
	CHECK(mls_psk_secret(suite, swapped, 2, b) == 0);
	CHECK(memcmp(a, b, suite->hash_len) != 0);
	CHECK(mls_psk_secret(suite, in, 1, b) == 0);
	CHECK(memcmp(a, b, suite->hash_len) != 0);
	in[1].id = id1;
	CHECK(mls_psk_secret(suite, in, 2, b) == 0);
	CHECK(memcmp(a, b, suite->hash_len) != 0);
	/* An empty PSK value is a value. */
	in[0].psk = NULL;
	in[0].psk_len = 0;
	CHECK(mls_psk_secret(suite, in, 1, b) == 0);
	in[0].id_len = 0;
	CHECK_EQ_INT(mls_psk_secret(suite, in, 1, b), MLS_ERR_PSK_INVALID);
	in[0].id_len = MLS_PSK_MAX_ID_LEN + 1;
	CHECK_EQ_INT(mls_psk_secret(suite, in, 1, b), MLS_ERR_PSK_INVALID);
	in[0].id_len = sizeof(id1);
	in[0].psk_len = 4; /* NULL value with a length */
	CHECK_EQ_INT(mls_psk_secret(suite, in, 1, b), MLS_ERR_PSK_INVALID);
	CHECK_EQ_INT(mls_psk_secret(suite, in, MLS_PSK_MAX_COUNT + 1, b),
		     MLS_ERR_PSK_INVALID);
	CHECK_EQ_INT(mls_psk_secret(suite, NULL, 1, b), MLS_ERR_PSK_INVALID);
	return true;
}

int main(void)
{
	int failed = 0;

	suite = mls_suite_get(MLS_SUITE_P256_AES128GCM_SHA256_P256);
	if (suite == NULL)
		return 1;
	RUN(test_null_is_zero, &failed);
	RUN(test_in_place, &failed);
	RUN(test_join_checks, &failed);
	RUN(test_exporter, &failed);
	RUN(test_external_keypair, &failed);
	RUN(test_psk_chain, &failed);
	return failed ? 1 : 0;
}

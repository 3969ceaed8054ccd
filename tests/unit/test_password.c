/*
 * test_password.c — unit tests of password.h (argon2id through libsodium).
 * Every hash or verification costs one argon2id run (~55-200 ms here),
 * so one hash made in the group setup serves most tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include "password.h"

/* The password has a NUL inside: `len`, not strlen, must count. */
static const char pw[] = "correct horse\0battery staple";
#define PW_LEN (sizeof(pw) - 1)

static char stored[PL_PASSWORD_HASH_LEN];

static int group_setup(void **state)
{
	struct pl_err err = { 0 };
	(void)state;

	if (sodium_init() < 0)
		return -1;
	return pl_password_hash(pw, PW_LEN, stored, &err);
}

static void test_hash_format(void **state)
{
	(void)state;
	assert_int_equal(strncmp(stored, "$argon2id$", 10), 0);
	/* OPSLIMIT/MEMLIMIT_INTERACTIVE: t=2, 64 MiB */
	assert_non_null(strstr(stored, "$v=19$m=65536,t=2,p=1$"));
	assert_true(strlen(stored) < PL_PASSWORD_HASH_LEN);
	/* the password itself is nowhere in the string */
	assert_null(strstr(stored, "correct"));
}

static void test_verify_ok(void **state)
{
	(void)state;
	assert_int_equal(pl_password_verify(stored, pw, PW_LEN), 0);
}

static void test_verify_wrong(void **state)
{
	(void)state;
	assert_int_equal(pl_password_verify(stored, "wrong password", 14), -1);
	/* only the part before the NUL */
	assert_int_equal(pl_password_verify(stored, pw, strlen(pw)), -1);
}

static void test_verify_unusable_hash(void **state)
{
	char truncated[PL_PASSWORD_HASH_LEN];
	(void)state;

	/* malformed stored strings fail without crashing (and at once) */
	assert_int_equal(pl_password_verify("", pw, PW_LEN), -1);
	assert_int_equal(pl_password_verify("x", pw, PW_LEN), -1);
	assert_int_equal(pl_password_verify("$argon2id$", pw, PW_LEN), -1);
	memcpy(truncated, stored, sizeof(truncated));
	truncated[strlen(stored) - 10] = '\0';
	assert_int_equal(pl_password_verify(truncated, pw, PW_LEN), -1);
}

static void test_hashes_are_salted(void **state)
{
	char again[PL_PASSWORD_HASH_LEN];
	struct pl_err err = { 0 };
	(void)state;

	assert_int_equal(pl_password_hash(pw, PW_LEN, again, &err), 0);
	assert_string_not_equal(again, stored);
	assert_int_equal(strncmp(again, "$argon2id$", 10), 0);
	assert_int_equal(pl_password_verify(again, pw, PW_LEN), 0);
}

static void test_dummy_verify(void **state)
{
	(void)state;
	/* spends a verification's time and returns; must not crash */
	pl_password_dummy_verify(pw, PW_LEN);
	pl_password_dummy_verify("", 0);
	/* and leaves real hashes alone */
	assert_int_equal(pl_password_verify(stored, pw, PW_LEN), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_format),
		cmocka_unit_test(test_verify_ok),
		cmocka_unit_test(test_verify_wrong),
		cmocka_unit_test(test_verify_unusable_hash),
		cmocka_unit_test(test_hashes_are_salted),
		cmocka_unit_test(test_dummy_verify),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}

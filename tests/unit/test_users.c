/*
 * test_users.c — unit tests of users.h against a migrated temporary
 * database: registration (valid and invalid names and passwords, one
 * account per name in any case, nothing left behind by a refusal) and the
 * profile field rules (avatar URL, email, control characters, the
 * reserved "deleted-user-" prefix).
 *
 * Registration hashes with argon2id (~55-200 ms): only the tests that
 * register call it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "users.h"
#include "util.h"
#include "unit_util.h"
#include "unit_domain.h"

/* ---- users ---- */

static void test_register(void **state)
{
	struct dom *d = *state;
	struct pl_registration reg = { "Dora_1.x-y", "password1", 9, "dora@example.com", "Dora D" };
	struct pl_err err = { 0 };
	cJSON *out = NULL;
	char hash[256];
	int64_t users = count_rows(d->db, "users", "1");

	assert_int_equal(pl_user_register(d->db, &reg, &out, &err), 0);
	assert_non_null(out);
	assert_true(num_field(out, "id") > 0);
	assert_string_equal(str_field(out, "username"), "Dora_1.x-y");
	assert_string_equal(str_field(out, "display_name"), "Dora D");
	assert_string_equal(str_field(out, "email"), "dora@example.com");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(out, "email_verified")));
	assert_int_equal(strlen(str_field(out, "created_at")), 24);
	assert_null(cJSON_GetObjectItemCaseSensitive(out, "password_hash"));
	cJSON_Delete(out);
	assert_int_equal(count_rows(d->db, "users", "1"), users + 1);
	unit_text(d->db, "SELECT password_hash FROM users WHERE username = 'Dora_1.x-y'", hash, sizeof(hash));
	assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);

	/* the same name in another case is taken */
	reg.username = "dORA_1.X-Y";
	out = NULL;
	assert_int_equal(pl_user_register(d->db, &reg, &out, &err), -1);
	assert_int_equal(err.status, 409);
	assert_null(out);
	assert_int_equal(count_rows(d->db, "users", "1"), users + 1);
	/* no transaction left open after the failure */
	assert_true(sqlite3_get_autocommit(pl_db_sqlite(d->db)) != 0);
}

static void test_register_invalid(void **state)
{
	static const char *const bad_names[] = {
		"ab", "a b", "abcdefghijklmnopqrstuvwxyz0123456" /* 33 */, "", "h\xc3\xa9llo",
		"a/b", "al'ce", "bob\n", "x@y",
	};
	struct dom *d = *state;
	struct pl_registration reg = { "valid_name", "password1", 9, NULL, NULL };
	struct pl_err err;
	cJSON *out = NULL;
	int64_t users = count_rows(d->db, "users", "1");
	char *longpw = malloc(1025);

	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		reg.username = bad_names[i];
		memset(&err, 0, sizeof(err));
		if (pl_user_register(d->db, &reg, &out, &err) != -1 || err.status != 400)
			fail_msg("username \"%s\" not refused with 400 (status %d)", bad_names[i], err.status);
		assert_null(out);
	}
	reg.username = "valid_name";
	reg.password = "passwor";   /* 7 bytes */
	reg.password_len = 7;
	memset(&err, 0, sizeof(err));
	assert_int_equal(pl_user_register(d->db, &reg, &out, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(longpw);
	memset(longpw, 'p', 1025);
	reg.password = longpw;      /* 1025 bytes */
	reg.password_len = 1025;
	memset(&err, 0, sizeof(err));
	assert_int_equal(pl_user_register(d->db, &reg, &out, &err), -1);
	assert_int_equal(err.status, 400);
	free(longpw);
	assert_int_equal(count_rows(d->db, "users", "1"), users);

	/* the limits themselves are valid (no hashing needed to check) */
	assert_int_equal(pl_user_validate_username("abc", &err), 0);
	assert_int_equal(pl_user_validate_username("abcdefghijklmnopqrstuvwxyz012345", &err), 0);
	assert_int_equal(pl_user_validate_username("A.b-C_9", &err), 0);
}

/* Registers `name` (password "password1"); returns its id. */
static int64_t add_account(struct pl_db *db, const char *name)
{
	struct pl_registration reg = { name, "password1", 9, NULL, NULL };
	struct pl_err err = { 0 };
	cJSON *out = NULL;
	int64_t id;

	assert_int_equal(pl_user_register(db, &reg, &out, &err), 0);
	id = (int64_t)cJSON_GetObjectItemCaseSensitive(out, "id")->valuedouble;
	cJSON_Delete(out);
	return id;
}

/* ---- profile rules ---- */

static int patch(struct pl_db *db, int64_t uid, const char *json, struct pl_err *err)
{
	cJSON *p = cJSON_Parse(json), *out = NULL;
	int rc = pl_user_patch(db, uid, p, &out, err);

	cJSON_Delete(p);
	cJSON_Delete(out);
	return rc;
}

static void test_profile_rules(void **state)
{
	static const char *const bad[] = {
		"{\"avatar_url\":\"javascript:alert(1)\"}",
		"{\"avatar_url\":\"https://a@b.com/\"}",
		"{\"avatar_url\":\"https://.example.com/\"}",
		"{\"avatar_url\":\"https://[zz]/\"}",
		"{\"avatar_url\":\"https://h:0/\"}",
		"{\"email\":\"a@b.com,c@d.com\"}",
		"{\"email\":\"a.@b.com\"}",
		"{\"email\":\"a@-b.com\"}",
		"{\"display_name\":\"a\\u0007b\"}",
		"{\"bio\":\"a\\u007fb\"}",
	};
	static const char *const good[] = {
		"{\"avatar_url\":\"http://h/\"}",
		"{\"avatar_url\":\"https://h.example:8443\"}",
		"{\"avatar_url\":\"https://[2001:db8::1]:443/a?b=c&d=%20#f\"}",
		"{\"avatar_url\":\"\"}",
		"{\"email\":\"first.last+tag@sub.example.org\"}",
		"{\"email\":\"\"}",
		"{\"bio\":\"two\\nlines\\tand a tab\"}",
	};
	struct unit_env *env = *state;
	struct pl_err err;
	int64_t uid = add_account(env->db, "prof_user");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (patch(env->db, uid, bad[i], &err) != -1 || err.status != 400)
			fail_msg("patch %s not refused with 400 (status %d)", bad[i], err.status);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (patch(env->db, uid, good[i], &err) != 0)
			fail_msg("patch %s refused: %d %s", good[i], err.status, err.message);
	}
	/* "" removed the email: NULL, not "" */
	assert_int_equal(unit_int(env->db, "SELECT email IS NULL FROM users WHERE username = 'prof_user'"), 1);
	/* the reserved prefix */
	assert_int_equal(pl_user_validate_username("deleted-user-5", &err), -1);
	assert_int_equal(pl_user_validate_username("DELETED-USER-x", &err), -1);
	assert_int_equal(pl_user_validate_username("deleted-users", &err), 0);
	assert_int_equal(pl_user_validate_username("deleted_user-1", &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		DOM_TEST(test_register),
		DOM_TEST(test_register_invalid),
		cmocka_unit_test_setup_teardown(test_profile_rules, unit_env_setup, unit_env_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	pl_log_init("test_users", PL_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

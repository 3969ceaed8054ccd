/*
 * test_users.c — unit tests of users.h, accounts.h, user_search.h and
 * email_verify.h against a migrated temporary database: registration
 * (valid and invalid names and passwords, one account per name in any
 * case, nothing left behind by a refusal), the profile field rules (avatar
 * URL, email, control characters, the reserved "deleted-user-" prefix),
 * what an email change does to the verified flag and pending codes, a
 * verification code stored twice, and prefix search.
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
#include "accounts.h"
#include "email_verify.h"
#include "log.h"
#include "user_search.h"
#include "users.h"
#include "util.h"
#include "unit_util.h"
#include "unit_domain.h"

/* ---- users ---- */

static void test_register(void **state)
{
	struct dom *d = *state;
	struct pl_registration reg = { .username = "Dora_1.x-y", .password = "password1", .password_len = 9,
				       .email = "dora@example.com", .display_name = "Dora D" };
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
	struct pl_registration reg = { .username = "valid_name", .password = "password1", .password_len = 9 };
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
	struct pl_registration reg = { .username = name, .password = "password1", .password_len = 9 };
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

/* ---- email changes, codes, search ---- */

/* The pending code row of user `uid`: 1 present, 0 none. */
static int64_t has_code(struct pl_db *db, int64_t uid)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM email_codes WHERE user_id = %lld", (long long)uid);
	return unit_int(db, sql);
}

static void test_email_change(void **state)
{
	struct unit_env *env = *state;
	struct pl_err err = { 0 };
	int64_t uid = add_account(env->db, "mail_user");
	char sql[256];

	assert_int_equal(patch(env->db, uid, "{\"email\":\"m@example.com\"}", &err), 0);
	snprintf(sql, sizeof(sql),
		 "UPDATE users SET email_verified = 1 WHERE id = %lld;"
		 "INSERT INTO email_codes (user_id, code_hash, email, expires_at) "
		 "VALUES (%lld, x'01', 'm@example.com', 9e15)", (long long)uid, (long long)uid);
	assert_int_equal(unit_exec(env->db, sql), 0);
	/* the same address again, or no email key: still verified, code kept */
	assert_int_equal(patch(env->db, uid, "{\"email\":\"m@example.com\"}", &err), 0);
	assert_int_equal(patch(env->db, uid, "{\"bio\":\"hi\"}", &err), 0);
	assert_int_equal(unit_int(env->db, "SELECT email_verified FROM users WHERE username = 'mail_user'"), 1);
	assert_int_equal(has_code(env->db, uid), 1);
	/* another address: no longer verified, the code for the old one goes */
	assert_int_equal(patch(env->db, uid, "{\"email\":\"n@example.com\"}", &err), 0);
	assert_int_equal(unit_int(env->db, "SELECT email_verified FROM users WHERE username = 'mail_user'"), 0);
	assert_int_equal(has_code(env->db, uid), 0);
	/* removing it: NULL, unverified */
	assert_int_equal(unit_exec(env->db, "UPDATE users SET email_verified = 1 WHERE username = 'mail_user'"), 0);
	assert_int_equal(patch(env->db, uid, "{\"email\":\"\"}", &err), 0);
	assert_int_equal(unit_int(env->db, "SELECT email_verified + 10 * (email IS NULL) FROM users "
				  "WHERE username = 'mail_user'"), 10);
}

/* A second request replaces the user's code (one row, the new hash). */
static void test_verify_code_replaced(void **state)
{
	struct unit_env *env = *state;
	struct pl_config cfg;
	struct pl_err err = { 0 };
	int64_t uid = add_account(env->db, "code_user");
	char hash1[80], hash2[80];

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.mail_command, sizeof(cfg.mail_command), "/bin/true");
	snprintf(cfg.mail_from, sizeof(cfg.mail_from), "parley@example.com");
	memcpy(cfg.jwt_secret, "0123456789abcdef0123456789abcdef", 32);
	cfg.jwt_secret_len = 32;
	cfg.verify_code_ttl = 600;
	cfg.verify_request_limit = 10;
	cfg.verify_request_window = 60;
	assert_int_equal(patch(env->db, uid, "{\"email\":\"c@example.com\"}", &err), 0);
	if (pl_user_verify_request(env->db, &cfg, uid, &err) != 0)
		fail_msg("verify request: %d %s", err.status, err.message);
	unit_text(env->db, "SELECT hex(code_hash) FROM email_codes", hash1, sizeof(hash1));
	assert_int_equal(pl_user_verify_request(env->db, &cfg, uid, &err), 0);
	unit_text(env->db, "SELECT hex(code_hash) FROM email_codes", hash2, sizeof(hash2));
	assert_int_equal(has_code(env->db, uid), 1);
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM email_codes"), 1);
	assert_string_not_equal(hash1, hash2);
}

static void test_search(void **state)
{
	struct unit_env *env = *state;
	struct pl_err err = { 0 };
	cJSON *res, *users;

	add_account(env->db, "Sam_one");
	add_account(env->db, "sally");
	add_account(env->db, "bob_s");
	assert_int_equal(unit_exec(env->db, "UPDATE users SET display_name = 'Sandy' WHERE username = 'bob_s'"), 0);
	assert_non_null(res = pl_user_search(env->db, "sa", 10, &err));
	users = cJSON_GetObjectItemCaseSensitive(res, "users");
	assert_int_equal(cJSON_GetArraySize(users), 3);
	/* ordered by username, case ignored: bob_s, sally, Sam_one */
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(users, 0), "username")->valuestring,
			    "bob_s");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(users, 2), "username")->valuestring,
			    "Sam_one");
	cJSON_Delete(res);
	assert_non_null(res = pl_user_search(env->db, "SA", 1, &err));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "users")), 1);
	cJSON_Delete(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		DOM_TEST(test_register),
		DOM_TEST(test_register_invalid),
		cmocka_unit_test_setup_teardown(test_profile_rules, unit_env_setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_email_change, unit_env_setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_verify_code_replaced, unit_env_setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_search, unit_env_setup, unit_env_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	pl_log_init("test_users", PL_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

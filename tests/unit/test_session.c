/*
 * test_session.c — unit tests of session.h: login, refresh-token
 * rotation with reuse detection (a replayed token revokes the session),
 * logout of the sessions named, and the failed-login limit (refunded on
 * success). Runs against a fresh migrated database in a scratch
 * directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "log.h"
#include "session.h"
#include "users.h"
#include "util.h"
#include "unit_util.h"

struct acc {
	struct unit_env env;
	struct pl_config cfg;
};

static int acc_setup(void **state)
{
	struct acc *a = calloc(1, sizeof(*a));

	if (!a || sodium_init() < 0 || unit_env_open(&a->env, 1) < 0)
		return -1;
	a->cfg.access_ttl = 900;
	a->cfg.refresh_ttl = 3600;
	memset(a->cfg.jwt_secret, 'k', 32);
	a->cfg.jwt_secret_len = 32;
	a->cfg.login_user_limit = 10;
	a->cfg.login_user_window = 900;
	a->cfg.login_addr_limit = 100;
	a->cfg.login_addr_window = 900;
	*state = a;
	return 0;
}

static int acc_teardown(void **state)
{
	struct acc *a = *state;

	unit_env_close(&a->env);
	free(a);
	return 0;
}

static int64_t add_account(struct acc *a, const char *name)
{
	struct pl_registration reg = { .username = name, .password = "password1", .password_len = 9 };
	struct pl_err err = { 0 };
	cJSON *out = NULL;
	int64_t id;

	assert_int_equal(pl_user_register(a->env.db, &reg, &out, &err), 0);
	id = (int64_t)cJSON_GetObjectItemCaseSensitive(out, "id")->valuedouble;
	cJSON_Delete(out);
	return id;
}

static char *field(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	assert_true(cJSON_IsString(v));
	return pl_xstrdup(v->valuestring);
}

static int auth(struct acc *a, const char *access, struct pl_claims *c)
{
	struct pl_err err = { 0 };
	return pl_session_authenticate(a->env.db, &a->cfg, NULL, access, true, c, &err);
}

static void test_refresh_rotation_and_reuse(void **state)
{
	struct acc *a = *state;
	struct pl_err err = { 0 };
	struct pl_claims c;
	cJSON *l = NULL, *r1 = NULL, *r2 = NULL;
	char *rt0, *rt1, *at1;

	add_account(a, "rot_user");
	assert_int_equal(pl_session_login(a->env.db, &a->cfg, "ROT_user", "password1", "192.0.2.5", &l, &err), 0);
	rt0 = field(l, "refresh_token");
	assert_int_equal(pl_session_refresh(a->env.db, &a->cfg, rt0, &r1, &err), 0);
	rt1 = field(r1, "refresh_token");
	at1 = field(r1, "access_token");
	assert_string_not_equal(rt0, rt1);
	assert_int_equal(auth(a, at1, &c), 0);
	/* only hashes are stored */
	assert_int_equal(unit_int(a->env.db, "SELECT count(*) FROM refresh_rotated"), 1);
	/* replaying the rotated token revokes the whole session */
	memset(&err, 0, sizeof(err));
	assert_int_equal(pl_session_refresh(a->env.db, &a->cfg, rt0, &r2, &err), -1);
	assert_int_equal(err.status, 401);
	assert_null(r2);
	assert_int_equal(pl_session_refresh(a->env.db, &a->cfg, rt1, &r2, &err), -1);
	assert_int_equal(auth(a, at1, &c), -1);
	assert_int_equal(unit_int(a->env.db, "SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL"), 1);
	assert_true(sqlite3_get_autocommit(pl_db_sqlite(a->env.db)) != 0);
	/* garbage never matches */
	assert_int_equal(pl_session_refresh(a->env.db, &a->cfg, "", &r2, &err), -1);
	assert_int_equal(pl_session_refresh(a->env.db, &a->cfg, "short", &r2, &err), -1);
	cJSON_Delete(l);
	cJSON_Delete(r1);
	free(rt0);
	free(rt1);
	free(at1);
}

static void test_logout_and_login_limit(void **state)
{
	struct acc *a = *state;
	struct pl_err err = { 0 };
	struct pl_claims c;
	cJSON *l1 = NULL, *l2 = NULL, *r = NULL;
	char *at1, *at2, *rt2;

	add_account(a, "out_user");
	assert_int_equal(pl_session_login(a->env.db, &a->cfg, "out_user", "password1", "", &l1, &err), 0);
	assert_int_equal(pl_session_login(a->env.db, &a->cfg, "out_user", "password1", "", &l2, &err), 0);
	at1 = field(l1, "access_token");
	at2 = field(l2, "access_token");
	rt2 = field(l2, "refresh_token");
	assert_int_equal(auth(a, at1, &c), 0);
	/* logout of session 1 naming session 2's refresh token: both go */
	assert_int_equal(pl_session_logout(a->env.db, &c, rt2, &err), 0);
	assert_int_equal(auth(a, at1, &c), -1);
	assert_int_equal(auth(a, at2, &c), -1);
	assert_int_equal(pl_session_refresh(a->env.db, &a->cfg, rt2, &r, &err), -1);
	/* failed logins count and lock the name; successes were refunded */
	a->cfg.login_user_limit = 2;
	assert_int_equal(pl_session_login(a->env.db, &a->cfg, "out_user", "wrong-pass", "a", &r, &err), -1);
	assert_int_equal(err.status, 401);
	assert_int_equal(pl_session_login(a->env.db, &a->cfg, "out_user", "wrong-pass", "b", &r, &err), -1);
	assert_int_equal(pl_session_login(a->env.db, &a->cfg, "out_user", "password1", "c", &r, &err), -1);
	assert_int_equal(err.status, 429);
	assert_true(err.retry_after >= 1);
	cJSON_Delete(l1);
	cJSON_Delete(l2);
	free(at1);
	free(at2);
	free(rt2);
}

#define ACC_TEST(f) cmocka_unit_test_setup_teardown(f, acc_setup, acc_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		ACC_TEST(test_refresh_rotation_and_reuse),
		ACC_TEST(test_logout_and_login_limit),
	};

	pl_log_init("test_session", PL_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

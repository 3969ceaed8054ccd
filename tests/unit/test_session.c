/*
 * test_session.c — unit tests of the accounts core: the SQLite rate
 * limiter (ratelimit.h: windows, Retry-After, refunds touching no other
 * key), refresh-token rotation with reuse detection and logout
 * (session.h), the profile field rules (users.h) and the mail command
 * (mail.h: fork/exec, no shell, stdin). Runs against a
 * fresh migrated database in a scratch directory.
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
#include "mail.h"
#include "ratelimit.h"
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

/* ---- rate limiter ---- */

static void test_rate_window(void **state)
{
	struct acc *a = *state;
	struct pl_db *db = a->env.db;
	struct pl_err err = { 0 };
	struct pl_rate r;
	int64_t t0 = 1000000000000;

	pl_rate_set(&r, "login_user", "Alice", 3, 60);
	assert_string_equal(r.key, "login_user:alice");
	for (int i = 0; i < 3; i++)
		assert_int_equal(pl_ratelimit_take(db, &r, 1, t0 + i * 1000, &err), 0);
	/* exhausted: 429 with the seconds left in the window (60 - 3 = 57 s,
	 * rounded up from 57.5) */
	memset(&err, 0, sizeof(err));
	assert_int_equal(pl_ratelimit_take(db, &r, 1, t0 + 2500, &err), -1);
	assert_int_equal(err.status, 429);
	assert_int_equal(err.retry_after, 58);
	/* a refused attempt does not count, and leaves no transaction open */
	assert_int_equal(unit_int(db, "SELECT count FROM rate_limits WHERE key = 'login_user:alice'"), 3);
	assert_true(sqlite3_get_autocommit(pl_db_sqlite(db)) != 0);
	/* the last millisecond of the window still refuses, with >= 1 s */
	assert_int_equal(pl_ratelimit_take(db, &r, 1, t0 + 59999, &err), -1);
	assert_int_equal(err.retry_after, 1);
	/* the window is over: a fresh one */
	assert_int_equal(pl_ratelimit_take(db, &r, 1, t0 + 60000, &err), 0);
	assert_int_equal(unit_int(db, "SELECT count FROM rate_limits WHERE key = 'login_user:alice'"), 1);
}

static void test_rate_two_keys_and_refund(void **state)
{
	struct acc *a = *state;
	struct pl_db *db = a->env.db;
	struct pl_err err = { 0 };
	struct pl_rate r[2], other;
	int64_t t0 = 2000000000000;

	pl_rate_set(&r[0], "login_user", "bob", 2, 60);
	pl_rate_set(&r[1], "login_addr", "192.0.2.1", 100, 60);
	pl_rate_set(&other, "login_addr", "192.0.2.99", 100, 60);
	assert_int_equal(pl_ratelimit_take(db, &other, 1, t0, &err), 0);
	assert_int_equal(pl_ratelimit_take(db, r, 2, t0, &err), 0);
	assert_int_equal(pl_ratelimit_take(db, r, 2, t0, &err), 0);
	/* the user key is full: nothing is counted on the address either */
	assert_int_equal(pl_ratelimit_take(db, r, 2, t0, &err), -1);
	assert_int_equal(err.status, 429);
	assert_int_equal(unit_int(db, "SELECT count FROM rate_limits WHERE key = 'login_addr:192.0.2.1'"), 2);
	/* a refund (successful login) gives back exactly one to each of its
	 * keys and leaves another address's counter alone */
	assert_int_equal(pl_ratelimit_refund(db, r, 2, &err), 0);
	assert_int_equal(unit_int(db, "SELECT count FROM rate_limits WHERE key = 'login_user:bob'"), 1);
	assert_int_equal(unit_int(db, "SELECT count FROM rate_limits WHERE key = 'login_addr:192.0.2.1'"), 1);
	assert_int_equal(unit_int(db, "SELECT count FROM rate_limits WHERE key = 'login_addr:192.0.2.99'"), 1);
	/* never below zero */
	assert_int_equal(pl_ratelimit_refund(db, r, 2, &err), 0);
	assert_int_equal(pl_ratelimit_refund(db, r, 2, &err), 0);
	assert_int_equal(unit_int(db, "SELECT count FROM rate_limits WHERE key = 'login_user:bob'"), 0);
	/* limit 0 means unlimited and stores nothing */
	pl_rate_set(&r[0], "x", "", 0, 60);
	assert_string_equal(r[0].key, "x:-");
	for (int i = 0; i < 50; i++)
		assert_int_equal(pl_ratelimit_take(db, r, 1, t0, &err), 0);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM rate_limits WHERE key = 'x:-'"), 0);
	/* expired rows are swept by the next take */
	assert_int_equal(pl_ratelimit_take(db, &other, 1, t0 + 3600 * 1000, &err), 0);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM rate_limits"), 1);
}

/* ---- sessions ---- */

static int64_t add_account(struct acc *a, const char *name)
{
	struct pl_registration reg = { name, "password1", 9, NULL, NULL };
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
	return pl_session_authenticate(a->env.db, &a->cfg, access, true, c, &err);
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

/* ---- profile rules ---- */

static int patch(struct acc *a, int64_t uid, const char *json, struct pl_err *err)
{
	cJSON *p = cJSON_Parse(json), *out = NULL;
	int rc = pl_user_patch(a->env.db, uid, p, &out, err);

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
	struct acc *a = *state;
	struct pl_err err;
	int64_t uid = add_account(a, "prof_user");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (patch(a, uid, bad[i], &err) != -1 || err.status != 400)
			fail_msg("patch %s not refused with 400 (status %d)", bad[i], err.status);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (patch(a, uid, good[i], &err) != 0)
			fail_msg("patch %s refused: %d %s", good[i], err.status, err.message);
	}
	/* "" removed the email: NULL, not "" */
	assert_int_equal(unit_int(a->env.db, "SELECT email IS NULL FROM users WHERE username = 'prof_user'"), 1);
	/* the reserved prefix */
	assert_int_equal(pl_user_validate_username("deleted-user-5", &err), -1);
	assert_int_equal(pl_user_validate_username("DELETED-USER-x", &err), -1);
	assert_int_equal(pl_user_validate_username("deleted-users", &err), 0);
	assert_int_equal(pl_user_validate_username("deleted_user-1", &err), 0);
}

/* ---- mail command ---- */

static void test_mail_command(void **state)
{
	struct acc *a = *state;
	struct pl_err err = { 0 };
	char cmd[1500], path[600], big[200000];
	FILE *f;

	assert_int_equal(pl_mail_send("", "To: a@b\n\nhi\n", &err), -1);
	assert_int_equal(err.status, 503);
	assert_int_equal(pl_mail_send("sendmail -t", "To: a@b\n\nhi\n", &err), -1);
	assert_int_equal(err.status, 503);
	assert_int_equal(pl_mail_send("/nonexistent/sendmail", "x", &err), -1);
	assert_int_equal(pl_mail_send("/bin/false", "x", &err), -1);
	assert_int_equal(err.status, 503);
	/* a command that reads nothing: no SIGPIPE, its status decides */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pl_mail_send("/bin/true", big, &err), 0);
	/* arguments are split on spaces and passed as argv, no shell: the
	 * message arrives on stdin byte for byte */
	snprintf(cmd, sizeof(cmd), "tests/fixtures/fake_sendmail.sh %s", a->env.dir);
	assert_int_equal(pl_mail_send(cmd, "x", &err), -1);   /* not absolute */
	if (!getcwd(path, sizeof(path) - 100))
		fail();
	snprintf(cmd, sizeof(cmd), "%s/tests/fixtures/fake_sendmail.sh %s", path, a->env.dir);
	assert_int_equal(pl_mail_send(cmd, "To: a@b.c\nSubject: s; $(touch pwned)\n\nbody\n", &err), 0);
	snprintf(cmd, sizeof(cmd), "cat %s/mail-*.eml", a->env.dir);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(path, sizeof(path), f));
	assert_string_equal(path, "To: a@b.c\n");
	assert_non_null(fgets(path, sizeof(path), f));
	assert_string_equal(path, "Subject: s; $(touch pwned)\n");
	pclose(f);
	assert_int_equal(access("pwned", F_OK), -1);
}

#define ACC_TEST(f) cmocka_unit_test_setup_teardown(f, acc_setup, acc_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		ACC_TEST(test_rate_window),
		ACC_TEST(test_rate_two_keys_and_refund),
		ACC_TEST(test_refresh_rotation_and_reuse),
		ACC_TEST(test_logout_and_login_limit),
		ACC_TEST(test_profile_rules),
		ACC_TEST(test_mail_command),
	};

	pl_log_init("test_session", PL_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

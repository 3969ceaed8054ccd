/*
 * test_ratelimit.c — unit tests of ratelimit.h, the SQLite rate limiter:
 * fixed windows, Retry-After rounded up, refused attempts not counted,
 * several keys taken together or not at all, refunds touching no other
 * key, limit 0 as unlimited, expired rows swept. Runs against a fresh
 * migrated database in a scratch directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include "log.h"
#include "ratelimit.h"
#include "unit_util.h"

static void test_rate_window(void **state)
{
	struct unit_env *env = *state;
	struct pl_db *db = env->db;
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
	struct unit_env *env = *state;
	struct pl_db *db = env->db;
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

/* An erasure drops its username's counter (any case), and no other. */
static void test_rate_forget(void **state)
{
	struct unit_env *env = *state;
	struct pl_db *db = env->db;
	struct pl_err err = { 0 };
	struct pl_rate r[2];

	pl_rate_set(&r[0], "login_user", "carol", 5, 60);
	pl_rate_set(&r[1], "login_addr", "carol", 5, 60);
	assert_int_equal(pl_ratelimit_take(db, r, 2, 3000000000000, &err), 0);
	assert_int_equal(pl_db_begin(db, &err), 0);
	assert_int_equal(pl_ratelimit_forget_locked(db, "login_user", "Carol", &err), 0);
	assert_int_equal(pl_ratelimit_forget_locked(db, "login_user", "nobody", &err), 0);
	assert_int_equal(pl_db_end(db, 0, &err), 0);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM rate_limits WHERE key = 'login_user:carol'"), 0);
	assert_int_equal(unit_int(db, "SELECT count FROM rate_limits WHERE key = 'login_addr:carol'"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rate_window, unit_env_setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_rate_two_keys_and_refund, unit_env_setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_rate_forget, unit_env_setup, unit_env_teardown),
	};

	pl_log_init("test_ratelimit", PL_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

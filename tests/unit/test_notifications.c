/*
 * test_notifications.c — unit tests of notifications.h: finding @mentions
 * in a message (name characters, length, the rest ignored) and the query
 * plans of the notification lists. notifications.c is included so the
 * plan test reads the very SQL constants the code prepares
 * (lighttpd-style). Runs from the repository root (reads ./schema).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifications.c"
#include "log.h"
#include "unit_util.h"

static void test_mentions(void **state)
{
	const char *s = "hi @bob, @Carol. mail a@b.c @@x @d-- @ @" "abcdefghijabcdefghijabcdefghijabc";
	const char *want[] = { "bob", "Carol", "x", "d" };
	char name[33];
	size_t pos = 0, n = 0;

	(void)state;
	while (pl_mention_next(s, &pos, name)) {
		assert_true(n < 4);
		assert_string_equal(name, want[n]);
		n++;
	}
	assert_int_equal(n, 4);
}

/* A user's notifications, unread or all, come off their index unsorted. */
static void test_notification_plans(void **state)
{
	struct unit_env *env = *state;
	const char *unread = notifications_stmts[NOTIFICATIONS_STMT_LIST_UNREAD].sql;
	const char *all = notifications_stmts[NOTIFICATIONS_STMT_LIST_ALL].sql;

	/* notifications */
	unit_expect_plan(env->db, unread, "USING INDEX notifications_unread (user_id=?)", "TEMP B-TREE");
	unit_expect_plan(env->db, all, "USING INDEX notifications_user (user_id=?)", "TEMP B-TREE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mentions),
		cmocka_unit_test_setup_teardown(test_notification_plans, unit_env_setup, unit_env_teardown),
	};

	pl_log_init("test_notifications", PL_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

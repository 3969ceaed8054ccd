/*
 * test_presence.c — unit tests of presence.h against a migrated temporary
 * database: only offline<->online changes become events, an unknown
 * status is refused, and the sweep announces a user gone offline once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "presence.h"
#include "util.h"
#include "unit_util.h"
#include "unit_domain.h"

static int64_t presence_events(struct rt *t, const char *status)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE type = 'presence' AND "
		 "payload LIKE '%%\"status\":\"%s\"%%'", status);
	return unit_int(t->db, sql);
}

static void test_presence_transitions(void **state)
{
	struct rt *t = *state;
	struct pl_err err = { 0 };
	int64_t ab[2] = { t->a, t->b };
	int n = -1;

	assert_int_equal(unit_exec(t->db, "DELETE FROM events"), 0);
	assert_int_equal(pl_presence_touch(t->db, t->a, NULL, &err), 0);
	assert_int_equal(pl_presence_touch(t->db, t->a, "away", &err), 0);
	assert_int_equal(presence_events(t, "online"), 1);          /* one transition */
	assert_int_equal(pl_presence_touch_many(t->db, NULL, ab, 2, &err), 0);
	assert_int_equal(presence_events(t, "online"), 2);          /* b came online */
	assert_int_equal(pl_presence_touch(t->db, t->a, "sleepy", &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(pl_presence_sweep(t->db, 60, &n, &err), 0);
	assert_int_equal(n, 0);
	/* a's last activity falls out of the window */
	assert_int_equal(unit_exec(t->db, "UPDATE presence SET last_seen = 1 WHERE user_id = 1"), 0);
	assert_int_equal(pl_presence_sweep(t->db, 60, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pl_presence_sweep(t->db, 60, &n, &err), 0);
	assert_int_equal(n, 0);                                      /* announced once */
	assert_int_equal(presence_events(t, "offline"), 1);
	assert_int_equal(pl_presence_touch(t->db, t->a, NULL, &err), 0);
	assert_int_equal(presence_events(t, "online"), 3);          /* back online */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RT_TEST(test_presence_transitions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

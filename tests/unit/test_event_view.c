/*
 * test_event_view.c — unit tests of event_view.h against a migrated
 * temporary database: the long-poll read (pl_events_collect) skips the
 * events the user may not see and typing events gone stale, and moves
 * the cursor past everything it read.
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
#include "event_view.h"
#include "events.h"
#include "util.h"
#include "unit_util.h"
#include "unit_domain.h"

static void test_collect_skips_invisible_and_stale_typing(void **state)
{
	struct rt *t = *state;
	struct pl_err err = { 0 };
	int64_t cursor = pl_event_last_id(t->db), start = cursor, last;
	cJSON *out = cJSON_CreateArray();
	size_t nread = 0;

	append(t, "message.created", PL_SCOPE_CHANNEL, t->other, t->c);  /* not for b */
	append(t, "typing", PL_SCOPE_CHANNEL, t->ch, t->a);               /* fresh */
	last = append(t, "typing", PL_SCOPE_CHANNEL, t->ch, t->a);        /* made stale below */
	assert_int_equal(unit_exec(t->db, "UPDATE events SET created_at = 1 WHERE id = "
					  "(SELECT max(id) FROM events)"), 0);
	assert_int_equal(pl_events_collect(t->db, t->b, &cursor, 50, pl_now_ms(), out, &nread,
					   &err), 1);
	assert_int_equal(nread, 3);
	assert_int_equal(cursor, last);
	assert_int_equal(cJSON_GetArraySize(out), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "type")->valuestring,
			    "typing");
	assert_int_equal((int64_t)cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0),
						      "event_id")->valuedouble, start + 2);
	cJSON_Delete(out);
}

/* A database error while deciding or rendering never loses the event: the
 * read answers 503 and leaves the cursor before it; once the database
 * answers again the same event comes. The membership table is renamed
 * away to make the visibility query fail. */
static void test_collect_keeps_the_cursor_on_a_database_error(void **state)
{
	struct rt *t = *state;
	struct pl_err err = { 0 };
	int64_t cursor = pl_event_last_id(t->db), start = cursor, mid;
	cJSON *out = cJSON_CreateArray();
	uint64_t errors = pl_db_error_count(t->db);

	mid = post(t->db, t->a, t->ch, "kept for b");
	assert_int_equal(unit_exec(t->db, "ALTER TABLE channel_members RENAME TO cm_away"), 0);
	assert_int_equal(pl_events_collect(t->db, t->b, &cursor, 50, pl_now_ms(), out, NULL,
					   &err), -1);
	assert_int_equal(err.status, 503);
	assert_int_equal(cursor, start);
	assert_int_equal(cJSON_GetArraySize(out), 0);
	assert_true(pl_db_error_count(t->db) > errors);

	assert_int_equal(unit_exec(t->db, "ALTER TABLE cm_away RENAME TO channel_members"), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(pl_events_collect(t->db, t->b, &cursor, 50, pl_now_ms(), out, NULL,
					   &err), 1);
	assert_int_equal(cursor, start + 1);
	assert_string_equal(str_field(cJSON_GetArrayItem(out, 0), "type"), "message.created");
	assert_int_equal((int64_t)cJSON_GetObjectItem(cJSON_GetObjectItem(
		cJSON_GetArrayItem(out, 0), "message"), "id")->valuedouble, mid);
	cJSON_Delete(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RT_TEST(test_collect_skips_invisible_and_stale_typing),
		RT_TEST(test_collect_keeps_the_cursor_on_a_database_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

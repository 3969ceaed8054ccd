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

int main(void)
{
	const struct CMUnitTest tests[] = {
		RT_TEST(test_collect_skips_invisible_and_stale_typing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

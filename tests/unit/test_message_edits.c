/*
 * test_message_edits.c — unit tests of message_edits.h against a migrated
 * temporary database: an edit keeps the text it replaced (the same text
 * keeps nothing), pages come oldest first above `after`, the history is
 * readable exactly as the message is (404 for a non-member of a private
 * channel), a deleted message takes its history with it, and the page
 * reads the (message_id, id) index. message_edits.c is included so the
 * plan test reads the very SQL the code prepares.
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

#include "message_edits.c"
#include "log.h"
#include "messages.h"
#include "util.h"
#include "unit_util.h"
#include "unit_domain.h"

/* Edits message `id` as `user` to `content`; asserts it worked. */
static void edit_ok(struct pl_db *db, int64_t user, int64_t id, const char *content)
{
	struct pl_err err = { 0 };
	cJSON *out = NULL;

	if (pl_message_edit(db, user, id, content, &out, &err) < 0)
		fail_msg("edit %lld: %d %s", (long long)id, err.status, err.message);
	cJSON_Delete(out);
}

/* The contents of message `id`'s history page as `user` sees it, joined
 * by "|" into `buf`; or NULL with *status set when refused. */
static const char *page_of(struct pl_db *db, int64_t user, int64_t id, int64_t after, int limit,
			   int *status, char *buf, size_t len)
{
	struct pl_err err = { 0 };
	cJSON *out = NULL, *e;
	size_t at = 0;

	*status = 200;
	buf[0] = '\0';
	if (pl_message_edits(db, user, id, after, limit, &out, &err) < 0) {
		*status = err.status;
		return NULL;
	}
	cJSON_ArrayForEach(e, out) {
		int n = snprintf(buf + at, len - at, "%s%s", at ? "|" : "",
				 cJSON_GetObjectItemCaseSensitive(e, "content")->valuestring);
		at += (size_t)n < len - at ? (size_t)n : len - at - 1;
	}
	cJSON_Delete(out);
	return buf;
}

static void test_edits_keep_replaced_text(void **state)
{
	struct dom *d = *state;
	int64_t m = post(d->db, d->alice, d->pub, "one"), oldest;
	char buf[256];
	int status;

	assert_string_equal(page_of(d->db, d->bob, m, 0, 50, &status, buf, sizeof(buf)), "");
	edit_ok(d->db, d->alice, m, "two");
	edit_ok(d->db, d->alice, m, "two");     /* the same text: nothing kept */
	edit_ok(d->db, d->alice, m, "three");
	assert_string_equal(page_of(d->db, d->bob, m, 0, 50, &status, buf, sizeof(buf)), "one|two");
	assert_int_equal(count_rows(d->db, "message_edits", "1"), 2);
	/* pages: oldest first, above `after` */
	assert_string_equal(page_of(d->db, d->bob, m, 0, 1, &status, buf, sizeof(buf)), "one");
	oldest = unit_int(d->db, "SELECT min(id) FROM message_edits");
	assert_string_equal(page_of(d->db, d->bob, m, oldest, 50, &status, buf, sizeof(buf)), "two");
}

static void test_edits_follow_message_visibility(void **state)
{
	struct dom *d = *state;
	int64_t m = post(d->db, d->alice, d->priv, "secret v1");
	char buf[256];
	int status;

	edit_ok(d->db, d->alice, m, "secret v2");
	assert_string_equal(page_of(d->db, d->bob, m, 0, 50, &status, buf, sizeof(buf)), "secret v1");
	assert_null(page_of(d->db, d->carol, m, 0, 50, &status, buf, sizeof(buf)));
	assert_int_equal(status, 404);
	assert_null(page_of(d->db, d->carol, 999999, 0, 50, &status, buf, sizeof(buf)));
	assert_int_equal(status, 404);
}

static void test_delete_drops_history(void **state)
{
	struct dom *d = *state;
	int64_t m = post(d->db, d->alice, d->pub, "a");
	struct pl_err err = { 0 };
	char buf[256];
	int status;

	edit_ok(d->db, d->alice, m, "b");
	edit_ok(d->db, d->alice, m, "c");
	assert_int_equal(count_rows(d->db, "message_edits", "1"), 2);
	assert_int_equal(pl_message_delete(d->db, d->alice, m, &err), 0);
	assert_int_equal(count_rows(d->db, "message_edits", "1"), 0);
	assert_string_equal(page_of(d->db, d->bob, m, 0, 50, &status, buf, sizeof(buf)), "");
	/* a tombstone cannot be edited, so no history starts again */
	assert_int_equal(pl_message_edit_keep_locked(d->db, m, "again", 1, &err), 0);
	assert_int_equal(count_rows(d->db, "message_edits", "1"), 0);
}

static void test_edits_plan(void **state)
{
	struct unit_env *env = *state;

	unit_expect_plan(env->db, edits_stmts[EDITS_STMT_PAGE].sql,
			 "SEARCH e USING INDEX message_edits_message (message_id=? AND id>?)",
			 "TEMP B-TREE");
	unit_expect_plan(env->db, edits_stmts[EDITS_STMT_DROP].sql,
			 "SEARCH message_edits USING COVERING INDEX message_edits_message (message_id=?)",
			 "SCAN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		DOM_TEST(test_edits_keep_replaced_text),
		DOM_TEST(test_edits_follow_message_visibility),
		DOM_TEST(test_delete_drops_history),
		cmocka_unit_test_setup_teardown(test_edits_plan, unit_env_setup, unit_env_teardown),
	};

	pl_log_init("test_message_edits", PL_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

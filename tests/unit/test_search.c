/*
 * test_search.c — unit tests of search.h against a migrated temporary
 * database: search expressions (quoted terms, no FTS5 syntax gets
 * through, limits), the index filled in batches yet every search seeing
 * every message (edits and deletes of messages not yet indexed included),
 * and the query plans of the search statements. search.c is included so
 * the plan test reads the very SQL constants the code prepares
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

#include "search.c"
#include "log.h"
#include "unit_util.h"
#include "unit_domain.h"

static void test_search_expr(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "hello", "\"hello\" *" },
		{ "  two\twords ", "\"two\" * \"words\" *" },
		{ "a\"b", "\"a\"\"b\" *" },
		{ "NEAR( OR *", "\"NEAR(\" * \"OR\" * \"*\" *" },
		{ "héllo", "\"héllo\" *" },
		{ "\"two words\" pine", "\"two words\" \"pine\" *" },
		{ "\"open phrase", "\"open phrase\"" },
		{ "\"", "\"\"" },
	};
	static const struct { const char *in, *out; } pg[] = {
		{ "pine", "'pine':*" },
		{ "\"\" pine \"", "'pine':*" },
		{ "\"", "" },
		{ "it's \"two words\" a\\b", "'it''s':* & 'two words' & 'a\\\\b':*" },
	};
	static const char *const bad[] = { "", "   ", "\xff", "a b c d e f g h i j k l m n o p q" };
	struct pl_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *e = pl_search_expr(ok[i].in, &err);
		assert_non_null(e);
		assert_string_equal(e, ok[i].out);
		free(e);
	}
	for (size_t i = 0; i < sizeof(pg) / sizeof(pg[0]); i++) {
		char *e = pl_search_expr_for(pg[i].in, true, &err);
		assert_non_null(e);
		assert_string_equal(e, pg[i].out);
		free(e);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_null(pl_search_expr(bad[i], &err));
		assert_int_equal(err.status, 400);
	}
}

/* The number of messages a search for `q` finds, as user `u` sees them. */
static int search_count(struct pl_db *db, int64_t u, const char *q)
{
	struct pl_err err = { 0 };
	cJSON *out = NULL;
	int n;

	if (pl_message_search(db, u, q, 0, 200, &out, &err) < 0)
		fail_msg("search %s: %d %s", q, err.status, err.message);
	n = cJSON_GetArraySize(cJSON_GetObjectItem(out, "messages"));
	cJSON_Delete(out);
	return n;
}

/* The index is filled in batches, yet every search sees every message,
 * edits and deletes of not-yet-indexed messages included, and the first
 * message after the newest one was deleted is indexed too. */
static void test_search_batches(void **state)
{
	struct unit_env *env = *state;
	struct pl_db *db = env->db;
	int64_t a = unit_add_user(db, "sam"), ch, gone, last = 0, first;
	struct pl_err err = { 0 };
	cJSON *out = NULL;
	char text[64];

	ch = mk_channel(db, a, "batches", "public", NULL, 0);
	first = post(db, a, ch, "zebra first");
	for (int i = 1; i < 10; i++) {
		snprintf(text, sizeof(text), "zebra number %d", i);
		last = post(db, a, ch, text);
	}
	/* posts alone do not index before a batch is due */
	assert_int_equal(unit_int(db, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'zebra'"), 0);
	/* an edit and a delete before indexing: the index takes today's text */
	assert_int_equal(pl_message_edit(db, a, first, "okapi instead", &out, &err), 0);
	cJSON_Delete(out);
	assert_int_equal(pl_message_delete(db, a, last, &err), 0);
	assert_int_equal(search_count(db, a, "zebra"), 8);
	assert_int_equal(search_count(db, a, "okapi"), 1);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'zebra'"), 8);
	/* edits of indexed messages follow at once */
	assert_int_equal(pl_message_edit(db, a, first, "gnu at last", &out, &err), 0);
	cJSON_Delete(out);
	assert_int_equal(search_count(db, a, "okapi"), 0);
	assert_int_equal(search_count(db, a, "gnu"), 1);

	/* a full batch of posts catches the index up by itself */
	for (int i = 0; i < PL_SEARCH_BATCH; i++)
		last = post(db, a, ch, "lemur");
	assert_int_equal(unit_int(db, "SELECT indexed_upto FROM search_state"), last);

	/* the newest message goes with its channel; its id is never given
	 * again (schema 007), and the next one is indexed all the same */
	gone = mk_channel(db, a, "doomed", "public", NULL, 0);
	last = post(db, a, gone, "doomed words");
	assert_int_equal(search_count(db, a, "doomed"), 1);
	assert_int_equal(pl_channel_delete(db, a, gone, &err), 0);
	assert_true(post(db, a, ch, "phoenix rises") > last);
	assert_int_equal(search_count(db, a, "phoenix"), 1);
	assert_int_equal(search_count(db, a, "doomed"), 0);
	/* and the index agrees with the messages table */
	assert_int_equal(unit_exec(db, "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)"), 0);
}

/* Search is served by the FTS5 index, newest first by rowid, unsorted. */
static void test_search_plans(void **state)
{
	struct unit_env *env = *state;
	const char *all = search_stmts[SEARCH_STMT_ALL].sql;
	const char *channel = search_stmts[SEARCH_STMT_CHANNEL].sql;

	/* search: the FTS5 index, newest first by rowid without sorting */
	unit_expect_plan(env->db, all, "SCAN f VIRTUAL TABLE INDEX", "TEMP B-TREE");
	unit_expect_plan(env->db, all, "SEARCH m USING INTEGER PRIMARY KEY", "SCAN m");
	unit_expect_plan(env->db, channel, "SCAN f VIRTUAL TABLE INDEX", "TEMP B-TREE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_search_plans, unit_env_setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_search_batches, unit_env_setup, unit_env_teardown),
		cmocka_unit_test(test_search_expr),
	};

	pl_log_init("test_search", PL_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

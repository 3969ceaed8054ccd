/*
 * test_search.c — unit tests of the conversation modules (issue 4):
 * the query plans behind history, unread counts, search and notifications
 * (each must be served by its index: EXPLAIN QUERY PLAN); the upgrade of
 * a database made by the foundation schema (001+002, with data) to the
 * latest schema without losing anything; and the input helpers (search
 * expressions, mentions, emoji). The module sources are included so the
 * tests read the very SQL constants the code prepares (lighttpd-style).
 * Runs from the repository root (reads ./schema).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "channels.c"
#include "messages.c"
#include "search.c"
#include "notifications.c"
#include "unit_util.h"

static int env_setup(void **state)
{
	struct unit_env *env = calloc(1, sizeof(*env));

	if (!env || unit_env_open(env, 1) < 0)
		return -1;
	*state = env;
	return 0;
}

static int env_setup_empty(void **state)
{
	struct unit_env *env = calloc(1, sizeof(*env));

	if (!env || unit_env_open(env, 0) < 0)
		return -1;
	*state = env;
	return 0;
}

static int env_teardown(void **state)
{
	struct unit_env *env = *state;

	unit_env_close(env);
	free(env);
	return 0;
}

/* The plan of `sql` as one string, details joined by " | ". */
static void plan(struct pl_db *db, const char *sql, char *out, size_t len)
{
	char q[4096];
	sqlite3_stmt *st = NULL;
	size_t used = 0;

	snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	if (sqlite3_prepare_v2(pl_db_sqlite(db), q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, pl_db_last_error(db));
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW && used < len)
		used += (size_t)snprintf(out + used, len - used, "%s | ",
					 (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
}

static void expect_plan(struct pl_db *db, const char *sql, const char *must, const char *never)
{
	char p[4096];

	plan(db, sql, p, sizeof(p));
	if (!strstr(p, must))
		fail_msg("plan lacks \"%s\": %s\n(for %s)", must, p, sql);
	if (never && strstr(p, never))
		fail_msg("plan has \"%s\": %s\n(for %s)", never, p, sql);
}

static void test_plans_use_indexes(void **state)
{
	struct unit_env *env = *state;

	/* history pages: a range of the (channel_id, id) index, no sort */
	expect_plan(env->db, sql_history_desc,
		    "SEARCH m USING INDEX messages_channel (channel_id=? AND id>? AND id<?)", "TEMP B-TREE");
	expect_plan(env->db, sql_history_asc,
		    "SEARCH m USING INDEX messages_channel (channel_id=? AND id>? AND id<?)", "TEMP B-TREE");
	/* unread counts and last_message_id: per channel, on the index */
	expect_plan(env->db, sql_channel_list,
		    "SEARCH u USING INDEX messages_channel (channel_id=? AND id>?)", "SCAN u");
	expect_plan(env->db, sql_channel_list, "SEARCH x USING COVERING INDEX messages_channel", "SCAN x");
	expect_plan(env->db, sql_channel_one,
		    "SEARCH u USING INDEX messages_channel (channel_id=? AND id>?)", "SCAN u");
	/* search: the FTS5 index, newest first by rowid without sorting */
	expect_plan(env->db, sql_search_all, "SCAN f VIRTUAL TABLE INDEX", "TEMP B-TREE");
	expect_plan(env->db, sql_search_all, "SEARCH m USING INTEGER PRIMARY KEY", "SCAN m");
	expect_plan(env->db, sql_search_channel, "SCAN f VIRTUAL TABLE INDEX", "TEMP B-TREE");
	/* notifications */
	expect_plan(env->db, sql_list_unread, "USING INDEX notifications_unread (user_id=?)", "TEMP B-TREE");
	expect_plan(env->db, sql_list_all, "USING INDEX notifications_user (user_id=?)", "TEMP B-TREE");
	/* dm lookup by key, membership checks */
	expect_plan(env->db, sql_dm_by_key, "USING COVERING INDEX channels_dm_key (dm_key=?)", NULL);
	expect_plan(env->db, sql_access, "USING PRIMARY KEY (channel_id=? AND user_id=?)", NULL);
}

/* Copies ./schema/`name` into `dir`. */
static void copy_schema(const char *dir, const char *name)
{
	char src[512], dst[1024], buf[8192];
	FILE *in, *out;
	size_t n;

	snprintf(src, sizeof(src), "schema/%s", name);
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	in = fopen(src, "rb");
	out = fopen(dst, "wb");
	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static void test_upgrade_from_foundation_keeps_data(void **state)
{
	struct unit_env *env = *state;
	struct pl_err err = { 0 };
	char dir[512], text[256];
	int applied = 0;

	snprintf(dir, sizeof(dir), "%s/foundation", env->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	copy_schema(dir, "001_init.sql");
	copy_schema(dir, "002_ws_tickets.sql");
	assert_int_equal(pl_db_migrate(env->db, dir, &applied, &err), 0);
	assert_int_equal(pl_db_version(env->db), 2);
	/* a foundation-era database with people, channels, messages, events */
	assert_int_equal(unit_exec(env->db,
		"INSERT INTO users (id, username, password_hash, created_at) VALUES "
		"(1, 'old_alice', 'x', 1), (2, 'old_bob', 'x', 2);"
		"INSERT INTO channels (id, name, kind, created_by, created_at) VALUES "
		"(1, 'general', 'public', 1, 3), (2, 'hush', 'private', 1, 4);"
		"INSERT INTO channel_members (channel_id, user_id, role, joined_at, last_read_id) VALUES "
		"(1, 1, 'owner', 5, 0), (1, 2, 'member', 6, 1), (2, 1, 'owner', 7, 0);"
		"INSERT INTO messages (id, channel_id, user_id, content, created_at, client_msg_id) VALUES "
		"(1, 1, 1, 'ancient aardvark', 8, 'c1'), (2, 1, 2, 'hello', 9, NULL), "
		"(3, 2, 1, 'secret aardvark', 10, NULL);"
		"INSERT INTO events (type, scope, channel_id, user_id, payload, created_at) VALUES "
		"('message.created', 0, 1, 1, '{}', 11);"), 0);

	assert_int_equal(pl_db_migrate(env->db, "schema", &applied, &err), 0);
	assert_true(applied >= 2);
	assert_true(pl_db_version(env->db) >= 4);
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM users"), 2);
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM channels WHERE dm_key IS NULL"), 2);
	assert_int_equal(unit_int(env->db, "SELECT last_read_id FROM channel_members WHERE user_id = 2"), 1);
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM messages"), 3);
	assert_int_equal(unit_int(env->db, "SELECT count(*) FROM events"), 1);
	assert_string_equal(unit_text(env->db, "SELECT content FROM messages WHERE client_msg_id = 'c1'",
				      text, sizeof(text)), "ancient aardvark");
	/* the old messages are searchable, and the new code reads them */
	assert_int_equal(unit_int(env->db,
		"SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'aardvark'"), 2);
	{
		cJSON *out = NULL;
		assert_int_equal(pl_message_search(env->db, 2, "aardvark", 0, 10, &out, &err), 0);
		/* bob reads the public one only */
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "messages")), 1);
		cJSON_Delete(out);
		assert_int_equal(pl_message_history(env->db, 1, 1, 0, 0, 50, &out, &err), 0);
		assert_int_equal(cJSON_GetArraySize(out), 2);
		cJSON_Delete(out);
	}
}

static void test_search_expr(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "hello", "\"hello\"" },
		{ "  two\twords ", "\"two\" \"words\"" },
		{ "a\"b", "\"a\"\"b\"" },
		{ "NEAR( OR *", "\"NEAR(\" \"OR\" \"*\"" },
		{ "héllo", "\"héllo\"" },
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
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_null(pl_search_expr(bad[i], &err));
		assert_int_equal(err.status, 400);
	}
}

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

static void test_emoji(void **state)
{
	static const char *const good[] = { "👍", "+1", "🇫🇷", "👩‍👩‍👧", "ok", "é" };
	static const char *const bad[] = { "", "a b", "a\tb", "x\x7f", "\xc2\x85", "\xc2\xa0",
		"\xe2\x80\xa8", "\xff", "\xc3\x28", "123456789012345678901234567890123" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!pl_reaction_emoji_valid(good[i]))
			fail_msg("emoji %zu refused", i);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pl_reaction_emoji_valid(bad[i]))
			fail_msg("bad emoji %zu accepted", i);
}

/* ---- domain rules through the lib functions ---- */

static int64_t mk_channel(struct pl_db *db, int64_t owner, const char *name, const char *kind,
			  const int64_t *members, size_t n)
{
	struct pl_channel_new in = { name, kind, NULL, members, n };
	struct pl_err err = { 0 };
	cJSON *out = NULL;
	int64_t id;

	if (pl_channel_create(db, owner, &in, &out, &err) < 0)
		fail_msg("create %s: %d %s", name, err.status, err.message);
	id = (int64_t)cJSON_GetObjectItem(out, "id")->valuedouble;
	cJSON_Delete(out);
	return id;
}

static int64_t mk_post(struct pl_db *db, int64_t user, int64_t channel, const char *content)
{
	struct pl_message_new in = { channel, content, NULL, 0 };
	struct pl_err err = { 0 };
	cJSON *out = NULL;
	bool created;
	int64_t id;

	if (pl_message_post(db, user, &in, &out, &created, &err) < 0)
		fail_msg("post: %d %s", err.status, err.message);
	id = (int64_t)cJSON_GetObjectItem(out, "id")->valuedouble;
	cJSON_Delete(out);
	return id;
}

static void test_dm_and_roles(void **state)
{
	struct unit_env *env = *state;
	struct pl_db *db = env->db;
	int64_t a = unit_add_user(db, "ann"), b = unit_add_user(db, "ben"), c = unit_add_user(db, "cat");
	int64_t two[] = { b, b, a }, other[] = { c };
	struct pl_err err = { 0 };
	cJSON *out = NULL, *again = NULL;
	bool created = false;
	int64_t ch, events;

	assert_int_equal(pl_channel_dm(db, a, two, 3, &created, &out, &err), 0);
	assert_true(created);
	assert_int_equal(pl_channel_dm(db, b, (int64_t[]){ a }, 1, &created, &again, &err), 0);
	assert_false(created);
	assert_int_equal(cJSON_GetObjectItem(out, "id")->valuedouble, cJSON_GetObjectItem(again, "id")->valuedouble);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM channels WHERE kind = 'dm'"), 1);
	cJSON_Delete(out);
	cJSON_Delete(again);
	assert_int_equal(pl_channel_dm(db, a, (int64_t[]){ a }, 1, &created, &out, &err), -1);
	assert_int_equal(err.status, 400);

	/* the last owner cannot leave; a failed call writes no event */
	ch = mk_channel(db, a, "room", "private", other, 1);
	events = unit_int(db, "SELECT count(*) FROM events");
	assert_int_equal(pl_channel_member_remove(db, a, ch, a, &err), -1);
	assert_int_equal(err.status, 409);
	assert_int_equal(pl_channel_member_remove(db, c, ch, a, &err), -1);
	assert_int_equal(err.status, 403);
	assert_int_equal(pl_channel_member_remove(db, b, ch, c, &err), -1);
	assert_int_equal(err.status, 404);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM events"), events);
	assert_int_equal(pl_channel_member_set(db, a, ch, c, "owner", &created, &out, &err), 0);
	cJSON_Delete(out);
	assert_false(created);
	assert_int_equal(pl_channel_member_remove(db, a, ch, a, &err), 0);
	assert_false(pl_channel_is_member(db, a, ch));
	/* two member.left rows: the channel's and the leaver's own */
	assert_int_equal(unit_int(db, "SELECT count(*) FROM events WHERE type = 'member.left'"), 2);
}

static void test_messages_marker_mentions(void **state)
{
	struct unit_env *env = *state;
	struct pl_db *db = env->db;
	int64_t a = unit_add_user(db, "amy"), b = unit_add_user(db, "bo");
	int64_t ch = mk_channel(db, a, "talk", "private", &b, 1), m1, m2;
	struct pl_err err = { 0 };
	cJSON *out = NULL;

	m1 = mk_post(db, a, ch, "hello @BO and @nobody");
	m2 = mk_post(db, a, ch, "second");
	assert_int_equal(unit_int(db, "SELECT count(*) FROM notifications WHERE kind = 'mention'"), 1);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM events WHERE type = 'notification' AND scope = 1"), 1);
	/* read marker: forward only */
	assert_int_equal(pl_channel_mark_read(db, b, ch, m2, &err), 0);
	assert_int_equal(pl_channel_mark_read(db, b, ch, m1, &err), 0);
	assert_int_equal(unit_int(db, "SELECT max(last_read_id) FROM channel_members WHERE user_id = 2"), m2);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM events WHERE type = 'read'"), 1);
	/* edit: author only; delete: tombstone, out of the index */
	assert_int_equal(pl_message_edit(db, b, m1, "mine now", &out, &err), -1);
	assert_int_equal(err.status, 403);
	assert_int_equal(pl_message_delete(db, b, m1, &err), -1);
	assert_int_equal(err.status, 403);
	assert_int_equal(pl_message_delete(db, a, m1, &err), 0);
	assert_int_equal(unit_int(db, "SELECT deleted FROM messages WHERE id = 1"), 1);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'hello'"), 0);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM notifications"), 0);
	assert_int_equal(pl_message_edit(db, a, m1, "back", &out, &err), -1);
	assert_int_equal(err.status, 409);
	/* reactions: once per user per emoji */
	assert_int_equal(pl_reaction_set(db, b, m2, "👍", true, &err), 0);
	assert_int_equal(pl_reaction_set(db, b, m2, "👍", true, &err), 0);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM reactions"), 1);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM events WHERE type = 'reaction.added'"), 1);
	assert_int_equal(pl_reaction_set(db, b, m1, "👍", true, &err), -1);
	assert_int_equal(err.status, 409);
	/* deleting the channel takes its messages, reactions and index rows */
	assert_int_equal(pl_channel_delete(db, b, ch, &err), -1);
	assert_int_equal(err.status, 403);
	assert_int_equal(pl_channel_delete(db, a, ch, &err), 0);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM messages"), 0);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM reactions"), 0);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'second'"), 0);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM events WHERE type = 'channel.deleted' AND scope = 1"), 2);
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
	first = mk_post(db, a, ch, "zebra first");
	for (int i = 1; i < 10; i++) {
		snprintf(text, sizeof(text), "zebra number %d", i);
		last = mk_post(db, a, ch, text);
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
		last = mk_post(db, a, ch, "lemur");
	assert_int_equal(unit_int(db, "SELECT indexed_upto FROM search_state"), last);

	/* the newest message goes with its channel; its id is never given
	 * again (schema 007), and the next one is indexed all the same */
	gone = mk_channel(db, a, "doomed", "public", NULL, 0);
	last = mk_post(db, a, gone, "doomed words");
	assert_int_equal(search_count(db, a, "doomed"), 1);
	assert_int_equal(pl_channel_delete(db, a, gone, &err), 0);
	assert_true(mk_post(db, a, ch, "phoenix rises") > last);
	assert_int_equal(search_count(db, a, "phoenix"), 1);
	assert_int_equal(search_count(db, a, "doomed"), 0);
	/* and the index agrees with the messages table */
	assert_int_equal(unit_exec(db, "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plans_use_indexes, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_foundation_keeps_data, env_setup_empty,
						env_teardown),
		cmocka_unit_test_setup_teardown(test_search_batches, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_dm_and_roles, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_messages_marker_mentions, env_setup, env_teardown),
		cmocka_unit_test(test_search_expr),
		cmocka_unit_test(test_mentions),
		cmocka_unit_test(test_emoji),
	};

	pl_log_init("test_search", PL_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

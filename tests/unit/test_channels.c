/*
 * test_channels.c — unit tests of channels.h against a migrated temporary
 * database: creating channels (names trimmed, unique in any case across
 * public and private, limits in code points; a channel.created event for
 * everyone or for members only), the one authorization function
 * (pl_authz_channel: read, post, manage by role; a private channel is 404
 * to non-members), direct messages and roles (the last owner cannot
 * leave; a refused call writes no event), and the query plans of the
 * channel statements. channels.c and direct.c are included so the plan
 * test reads the very statement tables the code prepares (lighttpd-style).
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

#include "authz.c"
#include "channels.c"
#include "direct.c"
#include "log.h"
#include "unit_util.h"
#include "unit_domain.h"

/* ---- channels ---- */

static void test_channel_create(void **state)
{
	struct dom *d = *state;
	struct pl_channel_new in = { "  Random  ", NULL, "chat", NULL, 0 };
	struct pl_err err = { 0 };
	cJSON *out = NULL;
	char where[128], role[16];
	int64_t id, created_before = count_events(d->db, "channel.created");

	assert_int_equal(pl_channel_create(d->db, d->bob, &in, &out, &err), 0);
	id = num_field(out, "id");
	assert_string_equal(str_field(out, "name"), "Random");  /* trimmed */
	assert_string_equal(str_field(out, "kind"), "public");
	assert_string_equal(str_field(out, "topic"), "chat");
	assert_string_equal(str_field(out, "role"), "owner");
	assert_int_equal(num_field(out, "created_by"), d->bob);
	assert_int_equal(num_field(out, "member_count"), 1);
	cJSON_Delete(out);

	snprintf(where, sizeof(where), "SELECT role FROM channel_members WHERE channel_id = %lld "
		 "AND user_id = %lld", (long long)id, (long long)d->bob);
	assert_string_equal(unit_text(d->db, where, role, sizeof(role)), "owner");
	assert_int_equal(count_events(d->db, "channel.created"), created_before + 1);
	snprintf(where, sizeof(where), "type = 'channel.created' AND channel_id = %lld AND scope = %d",
		 (long long)id, PL_SCOPE_ALL);
	assert_int_equal(count_rows(d->db, "events", where), 1);
}

static void test_channel_create_duplicate(void **state)
{
	static const char *const dups[] = { "general", "GENERAL", "General", "  gEnErAl\t" };
	struct dom *d = *state;
	int64_t channels = count_rows(d->db, "channels", "1");
	int64_t events = count_rows(d->db, "events", "1");

	for (size_t i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
		struct pl_channel_new in = { dups[i], NULL, NULL, NULL, 0 };
		struct pl_err err = { 0 };
		cJSON *out = NULL;

		if (pl_channel_create(d->db, d->carol, &in, &out, &err) != -1 || err.status != 409)
			fail_msg("duplicate name \"%s\": status %d, want 409", dups[i], err.status);
		assert_null(out);
	}
	/* public and private share one namespace, both ways */
	{
		struct pl_channel_new in = { "General", "private", NULL, NULL, 0 };
		struct pl_err err = { 0 };
		cJSON *out = NULL;

		assert_int_equal(pl_channel_create(d->db, d->bob, &in, &out, &err), -1);
		assert_int_equal(err.status, 409);
		in.name = "SECRET";
		in.kind = "public";
		assert_int_equal(pl_channel_create(d->db, d->bob, &in, &out, &err), -1);
		assert_int_equal(err.status, 409);
	}
	assert_int_equal(count_rows(d->db, "channels", "1"), channels);
	assert_int_equal(count_rows(d->db, "events", "1"), events);
	assert_true(sqlite3_get_autocommit(pl_db_sqlite(d->db)) != 0);
}

static void test_channel_create_invalid(void **state)
{
	struct dom *d = *state;
	char n81[82], n80[81], wide80[241], wide81[244];
	int64_t ghost = 987654;
	const struct pl_channel_new bad[] = {
		{ "", NULL, NULL, NULL, 0 },
		{ "   ", NULL, NULL, NULL, 0 },
		{ " \t\r\n", NULL, NULL, NULL, 0 },
		{ n81, NULL, NULL, NULL, 0 },
		{ wide81, NULL, NULL, NULL, 0 },
		{ "bad\xff", NULL, NULL, NULL, 0 },
		{ "dm-ish", "dm", NULL, NULL, 0 },
		{ "kindless", "secret", NULL, NULL, 0 },
		{ "ghosts", NULL, NULL, &ghost, 1 },  /* unknown member */
	};
	int64_t channels, events;

	memset(n81, 'x', 81);
	n81[81] = '\0';
	memset(n80, 'y', 80);
	n80[80] = '\0';
	for (int i = 0; i < 80; i++)
		memcpy(wide80 + 3 * i, "\xe2\x82\xac", 3);  /* 80 euro signs = 240 bytes */
	wide80[240] = '\0';
	memcpy(wide81, wide80, 240);
	memcpy(wide81 + 240, "\xe2\x82\xac", 4);
	channels = count_rows(d->db, "channels", "1");
	events = count_rows(d->db, "events", "1");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pl_err err = { 0 };
		cJSON *out = NULL;

		if (pl_channel_create(d->db, d->alice, &bad[i], &out, &err) != -1 || err.status != 400)
			fail_msg("channel case %zu (\"%.20s\") not refused with 400 (status %d)",
				 i, bad[i].name, err.status);
		assert_null(out);
	}
	assert_int_equal(count_rows(d->db, "channels", "1"), channels);
	assert_int_equal(count_rows(d->db, "channel_members", "1"), 3);  /* setup's only */
	assert_int_equal(count_rows(d->db, "events", "1"), events);

	/* 80 code points is the limit, counted in code points not bytes */
	assert_true(create_channel(d->db, d->alice, n80, NULL, NULL, 0) > 0);
	assert_true(create_channel(d->db, d->alice, wide80, NULL, NULL, 0) > 0);
}

static void test_channel_create_private(void **state)
{
	struct dom *d = *state;
	char where[160];

	/* set up by dom_setup: "secret", private, alice owner, bob member */
	snprintf(where, sizeof(where), "id = %lld AND kind = 'private'", (long long)d->priv);
	assert_int_equal(count_rows(d->db, "channels", where), 1);
	snprintf(where, sizeof(where), "channel_id = %lld AND user_id = %lld AND role = 'member'",
		 (long long)d->priv, (long long)d->bob);
	assert_int_equal(count_rows(d->db, "channel_members", where), 1);
	snprintf(where, sizeof(where), "channel_id = %lld", (long long)d->priv);
	assert_int_equal(count_rows(d->db, "channel_members", where), 2);
	/* its channel.created goes to members only */
	snprintf(where, sizeof(where), "type = 'channel.created' AND channel_id = %lld AND scope = %d",
		 (long long)d->priv, PL_SCOPE_CHANNEL);
	assert_int_equal(count_rows(d->db, "events", where), 1);
	assert_true(pl_channel_is_member(d->db, d->bob, d->priv));
	assert_false(pl_channel_is_member(d->db, d->carol, d->priv));
}

/* ---- authorization ---- */

static void expect_authz(struct pl_db *db, int64_t user, int64_t channel, enum pl_action act,
			 int want_status, const char *what)
{
	struct pl_err err = { 0 };
	int rc = pl_authz_channel(db, user, channel, act, NULL, &err);

	if (want_status == 0 && rc != 0)
		fail_msg("%s: refused with %d, want allowed", what, err.status);
	if (want_status != 0 && (rc != -1 || err.status != want_status))
		fail_msg("%s: rc %d status %d, want %d", what, rc, err.status, want_status);
}

static void test_authz_matrix(void **state)
{
	struct dom *d = *state;
	struct pl_access acc;
	struct pl_err err = { 0 };
	char sql[160];

	/* public channel, non-member: read and post yes, manage 403 */
	expect_authz(d->db, d->carol, d->pub, PL_ACT_READ, 0, "public/non-member/read");
	expect_authz(d->db, d->carol, d->pub, PL_ACT_POST, 0, "public/non-member/post");
	expect_authz(d->db, d->carol, d->pub, PL_ACT_MANAGE, 403, "public/non-member/manage");
	assert_int_equal(pl_authz_channel(d->db, d->carol, d->pub, PL_ACT_READ, &acc, &err), 0);
	assert_string_equal(acc.kind, "public");
	assert_int_equal(acc.role, PL_ROLE_NONE);

	/* private channel, non-member: 404 for everything (existence does not leak) */
	expect_authz(d->db, d->carol, d->priv, PL_ACT_READ, 404, "private/non-member/read");
	expect_authz(d->db, d->carol, d->priv, PL_ACT_POST, 404, "private/non-member/post");
	expect_authz(d->db, d->carol, d->priv, PL_ACT_MANAGE, 404, "private/non-member/manage");

	/* private channel, member: read and post, not manage */
	expect_authz(d->db, d->bob, d->priv, PL_ACT_READ, 0, "private/member/read");
	expect_authz(d->db, d->bob, d->priv, PL_ACT_POST, 0, "private/member/post");
	expect_authz(d->db, d->bob, d->priv, PL_ACT_MANAGE, 403, "private/member/manage");
	assert_int_equal(pl_authz_channel(d->db, d->bob, d->priv, PL_ACT_READ, &acc, &err), 0);
	assert_string_equal(acc.kind, "private");
	assert_int_equal(acc.role, PL_ROLE_MEMBER);

	/* owner: everything */
	expect_authz(d->db, d->alice, d->pub, PL_ACT_MANAGE, 0, "public/owner/manage");
	expect_authz(d->db, d->alice, d->priv, PL_ACT_MANAGE, 0, "private/owner/manage");
	assert_int_equal(pl_authz_channel(d->db, d->alice, d->priv, PL_ACT_MANAGE, &acc, &err), 0);
	assert_int_equal(acc.role, PL_ROLE_OWNER);

	/* admin may manage */
	snprintf(sql, sizeof(sql), "UPDATE channel_members SET role = 'admin' WHERE channel_id = %lld "
		 "AND user_id = %lld", (long long)d->priv, (long long)d->bob);
	assert_int_equal(unit_exec(d->db, sql), 0);
	expect_authz(d->db, d->bob, d->priv, PL_ACT_MANAGE, 0, "private/admin/manage");

	/* a missing channel: 404, whoever asks */
	expect_authz(d->db, d->alice, 999999, PL_ACT_READ, 404, "missing/read");
	expect_authz(d->db, d->alice, 999999, PL_ACT_POST, 404, "missing/post");
	expect_authz(d->db, d->alice, 999999, PL_ACT_MANAGE, 404, "missing/manage");
	expect_authz(d->db, d->alice, 0, PL_ACT_READ, 404, "channel 0");
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

/* Keys "3,8,12" and nothing else. */
static void test_dm_key_ids(void **state)
{
	static const char *const bad[] = { "", ",", "3,", ",3", "3,,8", "a", "3,b", "-3", "0",
					   "3 ,8", "+3", "1,2,3,4,5,6,7,8,9,10" };
	int64_t ids[DM_PEOPLE_MAX];
	size_t n;

	(void)state;
	assert_int_equal(dm_key_ids("3,8,12", ids, DM_PEOPLE_MAX, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ids[0], 3);
	assert_int_equal(ids[1], 8);
	assert_int_equal(ids[2], 12);
	assert_int_equal(dm_key_ids("9007199254740993", ids, DM_PEOPLE_MAX, &n), 0);
	assert_int_equal(n, 1);
	assert_true(ids[0] == INT64_C(9007199254740993));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dm_key_ids(bad[i], ids, DM_PEOPLE_MAX, &n) != -1)
			fail_msg("key \"%s\" accepted", bad[i]);
}

/* An erasure's rename: the dms of the erased account (and only they) are
 * named after its new username, each with one channel.updated to its
 * members; a second pass changes nothing. */
static void test_dm_rename_on_erasure(void **state)
{
	struct unit_env *env = *state;
	struct pl_db *db = env->db;
	int64_t a = unit_add_user(db, "ann"), b = unit_add_user(db, "ben"), c = unit_add_user(db, "cat");
	int64_t pair, trio, other, pub, events;
	struct pl_err err = { 0 };
	char sql[512], name[128];
	bool created;
	cJSON *out;

	assert_int_equal(pl_channel_dm(db, a, (int64_t[]){ b }, 1, &created, &out, &err), 0);
	pair = num_field(out, "id");
	assert_string_equal(str_field(out, "name"), "ann, ben");
	cJSON_Delete(out);
	assert_int_equal(pl_channel_dm(db, c, (int64_t[]){ a, b }, 2, &created, &out, &err), 0);
	trio = num_field(out, "id");
	cJSON_Delete(out);
	assert_int_equal(pl_channel_dm(db, b, (int64_t[]){ c }, 1, &created, &out, &err), 0);
	other = num_field(out, "id");
	cJSON_Delete(out);
	pub = mk_channel(db, a, "ann", NULL, NULL, 0);
	events = unit_int(db, "SELECT count(*) FROM events");

	/* as ACCOUNTS_STMT_ERASE leaves the row */
	snprintf(sql, sizeof(sql), "UPDATE users SET username = 'deleted-user-' || id, "
		 "deleted_at = 1 WHERE id = %lld", (long long)a);
	assert_int_equal(unit_exec(db, sql), 0);
	assert_int_equal(pl_db_begin(db, &err), 0);
	assert_int_equal(pl_channel_dm_rename_locked(db, a, &err), 0);
	assert_int_equal(pl_db_end(db, 0, &err), 0);

	snprintf(sql, sizeof(sql), "SELECT name FROM channels WHERE id = %lld", (long long)pair);
	snprintf(name, sizeof(name), "deleted-user-%lld, ben", (long long)a);
	assert_string_equal(unit_text(db, sql, (char[128]){ 0 }, 128), name);
	snprintf(sql, sizeof(sql), "SELECT name FROM channels WHERE id = %lld", (long long)trio);
	snprintf(name, sizeof(name), "deleted-user-%lld, ben, cat", (long long)a);
	assert_string_equal(unit_text(db, sql, (char[128]){ 0 }, 128), name);
	snprintf(sql, sizeof(sql), "SELECT name FROM channels WHERE id = %lld", (long long)other);
	assert_string_equal(unit_text(db, sql, (char[128]){ 0 }, 128), "ben, cat");
	snprintf(sql, sizeof(sql), "SELECT name FROM channels WHERE id = %lld", (long long)pub);
	assert_string_equal(unit_text(db, sql, (char[128]){ 0 }, 128), "ann");
	/* one channel.updated per renamed dm, to its members, naming ids only */
	assert_int_equal(unit_int(db, "SELECT count(*) FROM events"), events + 2);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE type = 'channel.updated' "
		 "AND scope = %d AND user_id = %lld AND channel_id IN (%lld, %lld) "
		 "AND payload = '{\"channel\":{\"id\":' || channel_id || '}}'", PL_SCOPE_CHANNEL, (long long)a, (long long)pair,
		 (long long)trio);
	assert_int_equal(unit_int(db, sql), 2);

	assert_int_equal(pl_db_begin(db, &err), 0);
	assert_int_equal(pl_channel_dm_rename_locked(db, a, &err), 0);
	assert_int_equal(pl_db_end(db, 0, &err), 0);
	assert_int_equal(unit_int(db, "SELECT count(*) FROM events"), events + 2);
}

/* The channel list (unread counts, last_message_id), one channel, the DM
 * lookup and the membership check are each served by their index. */
static void test_channel_plans(void **state)
{
	struct unit_env *env = *state;
	const char *list = channels_stmts[CHANNELS_STMT_LIST].sql;
	const char *one = channels_stmts[CHANNELS_STMT_ONE].sql;

	/* unread counts and last_message_id from the channel row and the
	 * membership (schema 021): the caller's membership by its key, no
	 * read of the messages */
	unit_expect_plan(env->db, list,
		    "SEARCH me USING PRIMARY KEY (channel_id=? AND user_id=?)", "messages");
	unit_expect_plan(env->db, one,
		    "SEARCH me USING PRIMARY KEY (channel_id=? AND user_id=?)", "messages");
	/* dm lookup by key, membership checks */
	unit_expect_plan(env->db, direct_stmts[DIRECT_STMT_BY_KEY].sql,
		    "USING COVERING INDEX channels_dm_key (dm_key=?)", NULL);
	/* an erasure's dm channels: its memberships, then each by id */
	unit_expect_plan(env->db, direct_stmts[DIRECT_STMT_OF_USER].sql,
		    "USING COVERING INDEX channel_members_user (user_id=?)", "SCAN");
	unit_expect_plan(env->db, direct_stmts[DIRECT_STMT_OF_USER].sql,
		    "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)", NULL);
	unit_expect_plan(env->db, authz_stmts[AUTHZ_STMT_ACCESS].sql, "USING PRIMARY KEY (channel_id=? AND user_id=?)", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		DOM_TEST(test_channel_create),
		DOM_TEST(test_channel_create_duplicate),
		DOM_TEST(test_channel_create_invalid),
		DOM_TEST(test_channel_create_private),
		DOM_TEST(test_authz_matrix),
		cmocka_unit_test_setup_teardown(test_dm_and_roles, unit_env_setup, unit_env_teardown),
		cmocka_unit_test(test_dm_key_ids),
		cmocka_unit_test_setup_teardown(test_dm_rename_on_erasure, unit_env_setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_channel_plans, unit_env_setup, unit_env_teardown),
	};

	pl_log_init("test_channels", PL_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

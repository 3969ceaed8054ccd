/*
 * test_messages.c — unit tests of parley's domain rules against a migrated
 * temporary database: registration (users.h), channels and the one
 * authorization function (channels.h), posting and history (messages.h),
 * and the events table (events.h): one event per change, written in the
 * change's transaction, visible only to those who may see it.
 *
 * Registration hashes with argon2id (~55-200 ms): only the registration
 * tests call it; every other user is inserted directly with SQL.
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
#include "channels.h"
#include "event_view.h"
#include "events.h"
#include "log.h"
#include "messages.h"
#include "users.h"
#include "util.h"
#include "unit_util.h"

/* Three users and two channels of alice's: public "general" and private
 * "secret" (alice owner, bob member); carol is in neither. */
struct dom {
	struct unit_env env;
	struct pl_db *db;
	int64_t alice, bob, carol;
	int64_t pub, priv;
};

static int64_t create_channel(struct pl_db *db, int64_t owner, const char *name, const char *kind,
			      const int64_t *members, size_t nmembers)
{
	struct pl_channel_new in = { name, kind, NULL, members, nmembers };
	struct pl_err err = { 0 };
	cJSON *out = NULL;
	int64_t id;

	if (pl_channel_create(db, owner, &in, &out, &err) < 0) {
		fprintf(stderr, "pl_channel_create %s: %d %s\n", name, err.status, err.message);
		return -1;
	}
	id = (int64_t)cJSON_GetObjectItemCaseSensitive(out, "id")->valuedouble;
	cJSON_Delete(out);
	return id;
}

static int dom_setup(void **state)
{
	struct dom *d = calloc(1, sizeof(*d));

	if (!d || unit_env_open(&d->env, 1) < 0)
		return -1;
	d->db = d->env.db;
	d->alice = unit_add_user(d->db, "alice");
	d->bob = unit_add_user(d->db, "bob");
	d->carol = unit_add_user(d->db, "carol");
	if (d->alice < 0 || d->bob < 0 || d->carol < 0)
		return -1;
	d->pub = create_channel(d->db, d->alice, "general", NULL, NULL, 0);
	d->priv = create_channel(d->db, d->alice, "secret", "private", &d->bob, 1);
	if (d->pub < 0 || d->priv < 0)
		return -1;
	*state = d;
	return 0;
}

static int dom_teardown(void **state)
{
	struct dom *d = *state;

	unit_env_close(&d->env);
	free(d);
	return 0;
}

/* Rows of `table` matching `where` (SQL text, test-controlled). */
static int64_t count_rows(struct pl_db *db, const char *table, const char *where)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s", table, where);
	return unit_int(db, sql);
}

static int64_t count_events(struct pl_db *db, const char *type)
{
	char where[128];

	snprintf(where, sizeof(where), "type = '%s'", type);
	return count_rows(db, "events", where);
}

/* Posts; returns the message id, or -1 with `err` filled. */
static int64_t post_full(struct pl_db *db, int64_t user, int64_t channel, const char *content,
			 const char *cmid, int64_t reply_to, bool *created, struct pl_err *err)
{
	struct pl_message_new in = { channel, content, cmid, reply_to };
	cJSON *out = NULL;
	bool dummy;
	int64_t id;

	memset(err, 0, sizeof(*err));
	if (pl_message_post(db, user, &in, &out, created ? created : &dummy, err) < 0) {
		assert_null(out);
		return -1;
	}
	assert_non_null(out);
	id = (int64_t)cJSON_GetObjectItemCaseSensitive(out, "id")->valuedouble;
	cJSON_Delete(out);
	return id;
}

static int64_t post(struct pl_db *db, int64_t user, int64_t channel, const char *content)
{
	struct pl_err err;
	int64_t id = post_full(db, user, channel, content, NULL, 0, NULL, &err);

	if (id < 0)
		fail_msg("post failed: %d %s", err.status, err.message);
	return id;
}

static const char *str_field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static int64_t num_field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsNumber(v));
	return (int64_t)v->valuedouble;
}

/* ---- users ---- */

static void test_register(void **state)
{
	struct dom *d = *state;
	struct pl_registration reg = { "Dora_1.x-y", "password1", 9, "dora@example.com", "Dora D" };
	struct pl_err err = { 0 };
	cJSON *out = NULL;
	char hash[256];
	int64_t users = count_rows(d->db, "users", "1");

	assert_int_equal(pl_user_register(d->db, &reg, &out, &err), 0);
	assert_non_null(out);
	assert_true(num_field(out, "id") > 0);
	assert_string_equal(str_field(out, "username"), "Dora_1.x-y");
	assert_string_equal(str_field(out, "display_name"), "Dora D");
	assert_string_equal(str_field(out, "email"), "dora@example.com");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(out, "email_verified")));
	assert_int_equal(strlen(str_field(out, "created_at")), 24);
	assert_null(cJSON_GetObjectItemCaseSensitive(out, "password_hash"));
	cJSON_Delete(out);
	assert_int_equal(count_rows(d->db, "users", "1"), users + 1);
	unit_text(d->db, "SELECT password_hash FROM users WHERE username = 'Dora_1.x-y'", hash, sizeof(hash));
	assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);

	/* the same name in another case is taken */
	reg.username = "dORA_1.X-Y";
	out = NULL;
	assert_int_equal(pl_user_register(d->db, &reg, &out, &err), -1);
	assert_int_equal(err.status, 409);
	assert_null(out);
	assert_int_equal(count_rows(d->db, "users", "1"), users + 1);
	/* no transaction left open after the failure */
	assert_true(sqlite3_get_autocommit(pl_db_sqlite(d->db)) != 0);
}

static void test_register_invalid(void **state)
{
	static const char *const bad_names[] = {
		"ab", "a b", "abcdefghijklmnopqrstuvwxyz0123456" /* 33 */, "", "h\xc3\xa9llo",
		"a/b", "al'ce", "bob\n", "x@y",
	};
	struct dom *d = *state;
	struct pl_registration reg = { "valid_name", "password1", 9, NULL, NULL };
	struct pl_err err;
	cJSON *out = NULL;
	int64_t users = count_rows(d->db, "users", "1");
	char *longpw = malloc(1025);

	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		reg.username = bad_names[i];
		memset(&err, 0, sizeof(err));
		if (pl_user_register(d->db, &reg, &out, &err) != -1 || err.status != 400)
			fail_msg("username \"%s\" not refused with 400 (status %d)", bad_names[i], err.status);
		assert_null(out);
	}
	reg.username = "valid_name";
	reg.password = "passwor";   /* 7 bytes */
	reg.password_len = 7;
	memset(&err, 0, sizeof(err));
	assert_int_equal(pl_user_register(d->db, &reg, &out, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(longpw);
	memset(longpw, 'p', 1025);
	reg.password = longpw;      /* 1025 bytes */
	reg.password_len = 1025;
	memset(&err, 0, sizeof(err));
	assert_int_equal(pl_user_register(d->db, &reg, &out, &err), -1);
	assert_int_equal(err.status, 400);
	free(longpw);
	assert_int_equal(count_rows(d->db, "users", "1"), users);

	/* the limits themselves are valid (no hashing needed to check) */
	assert_int_equal(pl_user_validate_username("abc", &err), 0);
	assert_int_equal(pl_user_validate_username("abcdefghijklmnopqrstuvwxyz012345", &err), 0);
	assert_int_equal(pl_user_validate_username("A.b-C_9", &err), 0);
}

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

/* ---- messages ---- */

static void test_post_basic(void **state)
{
	struct dom *d = *state;
	struct pl_message_new in = { d->pub, "  hello world \n\t", NULL, 0 };
	struct pl_err err = { 0 };
	cJSON *out = NULL;
	bool created = false;
	char content[64], where[128];
	int64_t events = count_events(d->db, "message.created");

	assert_int_equal(pl_message_post(d->db, d->alice, &in, &out, &created, &err), 0);
	assert_true(created);
	assert_string_equal(str_field(out, "content"), "hello world");
	assert_int_equal(num_field(out, "channel_id"), d->pub);
	assert_int_equal(num_field(out, "user_id"), d->alice);
	assert_string_equal(str_field(out, "username"), "alice");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(out, "reply_to")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(out, "client_msg_id")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(out, "deleted")));
	snprintf(where, sizeof(where), "SELECT content FROM messages WHERE id = %lld",
		 (long long)num_field(out, "id"));
	assert_string_equal(unit_text(d->db, where, content, sizeof(content)), "hello world");
	assert_int_equal(count_rows(d->db, "messages", "1"), 1);
	assert_int_equal(count_events(d->db, "message.created"), events + 1);
	/* the event names the message it announces */
	snprintf(where, sizeof(where), "type = 'message.created' AND channel_id = %lld AND "
		 "json_extract(payload, '$.message.id') = %lld", (long long)d->pub,
		 (long long)num_field(out, "id"));
	assert_int_equal(count_rows(d->db, "events", where), 1);
	cJSON_Delete(out);
}

static void test_post_empty(void **state)
{
	static const char *const bad[] = { "", " ", "   ", "\t\r\n ", "bad \xff utf8", "\xc0\xaf" };
	struct dom *d = *state;
	int64_t events = count_rows(d->db, "events", "1");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pl_err err;
		bool created = true;

		if (post_full(d->db, d->alice, d->pub, bad[i], NULL, 0, &created, &err) != -1 ||
		    err.status != 400)
			fail_msg("content case %zu not refused with 400 (status %d)", i, err.status);
		assert_false(created);
	}
	assert_int_equal(count_rows(d->db, "messages", "1"), 0);
	assert_int_equal(count_rows(d->db, "events", "1"), events);
}

static void test_post_length(void **state)
{
	struct dom *d = *state;
	size_t n = 4001 * 3 + 4;
	char *buf = malloc(n + 1);
	struct pl_err err;
	int64_t events = count_events(d->db, "message.created");

	assert_non_null(buf);
	/* 4000 three-byte code points (12000 bytes), padded with trimmed blanks */
	buf[0] = ' ';
	for (int i = 0; i < 4001; i++)
		memcpy(buf + 1 + 3 * i, "\xe2\x82\xac", 3);
	memcpy(buf + 1 + 3 * 4000, "  ", 3);
	assert_true(post_full(d->db, d->alice, d->pub, buf, NULL, 0, NULL, &err) > 0);
	assert_int_equal(unit_int(d->db, "SELECT length(content) FROM messages"), 4000);
	/* 4001 is one too many */
	memcpy(buf + 1 + 3 * 4000, "\xe2\x82\xac", 3);
	buf[1 + 3 * 4001] = '\0';
	assert_int_equal(post_full(d->db, d->alice, d->pub, buf, NULL, 0, NULL, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(count_rows(d->db, "messages", "1"), 1);
	assert_int_equal(count_events(d->db, "message.created"), events + 1);
	free(buf);
}

static void test_post_client_msg_id(void **state)
{
	struct dom *d = *state;
	struct pl_err err;
	bool created = false;
	char long_id[PL_CLIENT_MSG_ID_MAX + 2];
	int64_t first, again, other, events = count_events(d->db, "message.created");

	first = post_full(d->db, d->alice, d->pub, "once", "cm-1", 0, &created, &err);
	assert_true(first > 0);
	assert_true(created);
	/* the repeat: same id back, created false, nothing stored */
	again = post_full(d->db, d->alice, d->pub, "once", "cm-1", 0, &created, &err);
	assert_int_equal(again, first);
	assert_false(created);
	/* even with other content (DECISIONS.md) */
	again = post_full(d->db, d->alice, d->pub, "different", "cm-1", 0, &created, &err);
	assert_int_equal(again, first);
	assert_false(created);
	assert_int_equal(count_rows(d->db, "messages", "client_msg_id = 'cm-1'"), 1);
	assert_int_equal(count_rows(d->db, "messages", "1"), 1);
	assert_int_equal(count_events(d->db, "message.created"), events + 1);

	/* client_msg_id is per user */
	other = post_full(d->db, d->bob, d->pub, "mine", "cm-1", 0, &created, &err);
	assert_true(other > 0 && other != first);
	assert_true(created);
	assert_int_equal(count_events(d->db, "message.created"), events + 2);

	/* 1-64 bytes */
	memset(long_id, 'c', PL_CLIENT_MSG_ID_MAX);
	long_id[PL_CLIENT_MSG_ID_MAX] = '\0';
	assert_true(post_full(d->db, d->alice, d->pub, "x", long_id, 0, &created, &err) > 0);
	long_id[PL_CLIENT_MSG_ID_MAX] = 'c';
	long_id[PL_CLIENT_MSG_ID_MAX + 1] = '\0';
	assert_int_equal(post_full(d->db, d->alice, d->pub, "x", long_id, 0, &created, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(post_full(d->db, d->alice, d->pub, "x", "", 0, &created, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(count_rows(d->db, "messages", "1"), 3);
}

static void test_post_not_visible(void **state)
{
	struct dom *d = *state;
	struct pl_err err;
	int64_t events = count_rows(d->db, "events", "1");

	/* a private channel the poster is not in: 404, as if it did not exist */
	assert_int_equal(post_full(d->db, d->carol, d->priv, "let me in", NULL, 0, NULL, &err), -1);
	assert_int_equal(err.status, 404);
	assert_false(pl_channel_is_member(d->db, d->carol, d->priv));
	assert_int_equal(post_full(d->db, d->carol, 999999, "nowhere", NULL, 0, NULL, &err), -1);
	assert_int_equal(err.status, 404);
	assert_int_equal(count_rows(d->db, "messages", "1"), 0);
	assert_int_equal(count_rows(d->db, "events", "1"), events);
	/* members of the private channel may post */
	assert_true(post(d->db, d->bob, d->priv, "hi") > 0);
}

static void test_post_joins_public(void **state)
{
	struct dom *d = *state;
	char where[128];

	assert_false(pl_channel_is_member(d->db, d->carol, d->pub));
	assert_true(post(d->db, d->carol, d->pub, "hello all") > 0);
	assert_true(pl_channel_is_member(d->db, d->carol, d->pub));
	snprintf(where, sizeof(where), "channel_id = %lld AND user_id = %lld AND role = 'member'",
		 (long long)d->pub, (long long)d->carol);
	assert_int_equal(count_rows(d->db, "channel_members", where), 1);
	snprintf(where, sizeof(where), "type = 'member.joined' AND channel_id = %lld AND user_id = %lld",
		 (long long)d->pub, (long long)d->carol);
	assert_int_equal(count_rows(d->db, "events", where), 1);
	/* posting again joins nothing more */
	assert_true(post(d->db, d->carol, d->pub, "again") > 0);
	assert_int_equal(count_rows(d->db, "events", where), 1);
}

static void test_post_reply_to(void **state)
{
	struct dom *d = *state;
	int64_t other = create_channel(d->db, d->alice, "other", NULL, NULL, 0);
	int64_t m1 = post(d->db, d->alice, d->pub, "question");
	int64_t m2 = post(d->db, d->alice, other, "elsewhere");
	int64_t mp = post(d->db, d->bob, d->priv, "private one");
	int64_t reply, messages;
	struct pl_message_new in = { d->pub, "answer", NULL, m1 };
	struct pl_err err = { 0 };
	cJSON *out = NULL;
	bool created;

	assert_int_equal(pl_message_post(d->db, d->bob, &in, &out, &created, &err), 0);
	reply = num_field(out, "id");
	assert_true(reply > m1);
	assert_int_equal(num_field(out, "reply_to"), m1);
	cJSON_Delete(out);

	messages = count_rows(d->db, "messages", "1");
	/* a message of another channel: 400 */
	assert_int_equal(post_full(d->db, d->bob, d->pub, "cross", NULL, m2, NULL, &err), -1);
	assert_int_equal(err.status, 400);
	/* a message of a private channel the poster cannot see: refused too */
	assert_int_equal(post_full(d->db, d->carol, d->pub, "peek", NULL, mp, NULL, &err), -1);
	assert_true(err.status == 400 || err.status == 404);
	/* no such message */
	assert_int_equal(post_full(d->db, d->bob, d->pub, "ghost", NULL, 999999, NULL, &err), -1);
	assert_true(err.status == 400 || err.status == 404);
	assert_int_equal(count_rows(d->db, "messages", "1"), messages);
	/* the refused posts did not join carol to the channel either */
	assert_false(pl_channel_is_member(d->db, d->carol, d->pub));
}

/* The message and its event are one transaction: if the event cannot be
 * written, no message (and no join) is left behind. */
static void test_post_event_same_transaction(void **state)
{
	struct dom *d = *state;
	struct pl_err err;
	int64_t events = count_rows(d->db, "events", "1");

	assert_int_equal(unit_exec(d->db,
				   "CREATE TRIGGER block_msg_events BEFORE INSERT ON events "
				   "WHEN NEW.type = 'message.created' "
				   "BEGIN SELECT RAISE(ABORT, 'blocked by test'); END"), 0);
	assert_int_equal(post_full(d->db, d->carol, d->pub, "doomed", NULL, 0, NULL, &err), -1);
	assert_true(err.status >= 500);
	assert_int_equal(count_rows(d->db, "messages", "1"), 0);
	assert_false(pl_channel_is_member(d->db, d->carol, d->pub));
	assert_int_equal(count_rows(d->db, "events", "1"), events);
	assert_true(sqlite3_get_autocommit(pl_db_sqlite(d->db)) != 0);

	assert_int_equal(unit_exec(d->db, "DROP TRIGGER block_msg_events"), 0);
	assert_true(post(d->db, d->carol, d->pub, "lives") > 0);
	assert_int_equal(count_events(d->db, "message.created"), 1);
}

/* ---- history ---- */

/* Appends the ids of a history page to ids[*n]; checks oldest-first. */
static size_t take_page(cJSON *page, int64_t *ids, size_t *n, size_t cap)
{
	const cJSON *m;
	int64_t prev = 0;
	size_t count = 0;

	assert_true(cJSON_IsArray(page));
	cJSON_ArrayForEach(m, page) {
		int64_t id = num_field(m, "id");

		assert_true(id > prev);  /* oldest first within a page */
		prev = id;
		assert_true(*n < cap);
		ids[(*n)++] = id;
		count++;
	}
	cJSON_Delete(page);
	return count;
}

static void test_history_paging(void **state)
{
	struct dom *d = *state;
	int64_t h = create_channel(d->db, d->alice, "history", NULL, NULL, 0);
	int64_t posted[25], back[40], fwd[40], tmp[40];
	size_t nback = 0, nfwd = 0, got;
	struct pl_err err = { 0 };
	cJSON *page = NULL;
	int64_t before = 0, after;
	int pages = 0;

	/* interleave other channels' messages so the ids have gaps */
	for (int i = 0; i < 25; i++) {
		char text[16];

		snprintf(text, sizeof(text), "m%02d", i + 1);
		post(d->db, d->bob, d->pub, "noise");
		posted[i] = post(d->db, d->alice, h, text);
	}

	/* newest page first, then walk back with before= */
	for (;;) {
		size_t start = 0;
		assert_int_equal(pl_message_history(d->db, d->alice, h, before, 0, 10, &page, &err), 0);
		got = take_page(page, tmp, &start, 40);
		if (got == 0)
			break;
		assert_true(got <= 10);
		pages++;
		/* prepend this (older) page to back[] */
		memmove(back + got, back, nback * sizeof(back[0]));
		memcpy(back, tmp, got * sizeof(tmp[0]));
		nback += got;
		before = tmp[0];
		assert_true(pages < 10);
	}
	assert_int_equal(pages, 3);
	assert_int_equal(nback, 25);
	for (int i = 0; i < 25; i++)
		if (back[i] != posted[i])
			fail_msg("backward walk: position %d has id %lld, want %lld", i,
				 (long long)back[i], (long long)posted[i]);

	/* forward from just before the first message, with after= */
	after = posted[0] - 1;
	pages = 0;
	for (;;) {
		assert_int_equal(pl_message_history(d->db, d->alice, h, 0, after, 10, &page, &err), 0);
		size_t was = nfwd;
		got = take_page(page, fwd, &nfwd, 40);
		if (got == 0)
			break;
		pages++;
		after = fwd[nfwd - 1];
		assert_true(fwd[was] > (was ? fwd[was - 1] : 0));  /* no repeat across pages */
		assert_true(pages < 10);
	}
	assert_int_equal(pages, 3);
	assert_int_equal(nfwd, 25);
	for (int i = 0; i < 25; i++)
		assert_true(fwd[i] == posted[i]);

	/* the first message's content and order */
	assert_int_equal(pl_message_history(d->db, d->alice, h, posted[3], 0, 2, &page, &err), 0);
	assert_int_equal(cJSON_GetArraySize(page), 2);
	assert_string_equal(str_field(cJSON_GetArrayItem(page, 0), "content"), "m02");
	assert_string_equal(str_field(cJSON_GetArrayItem(page, 1), "content"), "m03");
	cJSON_Delete(page);
}

static void test_history_rules(void **state)
{
	struct dom *d = *state;
	struct pl_err err = { 0 };
	cJSON *page = (cJSON *)0x1;

	post(d->db, d->bob, d->priv, "members only");
	assert_int_equal(pl_message_history(d->db, d->alice, d->pub, 0, 0, 0, &page, &err), -1);
	assert_int_equal(err.status, 400);
	assert_null(page);
	assert_int_equal(pl_message_history(d->db, d->alice, d->pub, 0, 0, 201, &page, &err), -1);
	assert_int_equal(err.status, 400);
	/* a private channel's history is 404 to non-members */
	memset(&err, 0, sizeof(err));
	assert_int_equal(pl_message_history(d->db, d->carol, d->priv, 0, 0, 50, &page, &err), -1);
	assert_int_equal(err.status, 404);
	assert_null(page);
	assert_int_equal(pl_message_history(d->db, d->alice, 999999, 0, 0, 50, &page, &err), -1);
	assert_int_equal(err.status, 404);
	/* members read it; a public channel anyone reads */
	assert_int_equal(pl_message_history(d->db, d->alice, d->priv, 0, 0, 200, &page, &err), 0);
	assert_int_equal(cJSON_GetArraySize(page), 1);
	cJSON_Delete(page);
	assert_int_equal(pl_message_history(d->db, d->carol, d->pub, 0, 0, 1, &page, &err), 0);
	assert_int_equal(cJSON_GetArraySize(page), 0);
	cJSON_Delete(page);
}

/* ---- events ---- */

static void test_events_visibility_and_render(void **state)
{
	struct dom *d = *state;
	struct pl_event evs[64];
	struct pl_err err = { 0 };
	size_t n = 0;
	int64_t msg = post(d->db, d->bob, d->priv, "psst"), last, prev = 0;
	int64_t pubmsg = post(d->db, d->alice, d->pub, "public hello");
	const struct pl_event *priv_ev = NULL, *pub_ev = NULL, *pub_created = NULL;

	assert_int_equal(pl_events_after(d->db, 0, 64, evs, &n, &err), 0);
	assert_true(n >= 4);
	for (size_t i = 0; i < n; i++) {
		assert_true(evs[i].id > prev);  /* strictly increasing */
		prev = evs[i].id;
		if (strcmp(evs[i].type, "message.created") == 0 && evs[i].channel_id == d->priv)
			priv_ev = &evs[i];
		if (strcmp(evs[i].type, "message.created") == 0 && evs[i].channel_id == d->pub)
			pub_ev = &evs[i];
		if (strcmp(evs[i].type, "channel.created") == 0 && evs[i].channel_id == d->pub)
			pub_created = &evs[i];
	}
	last = pl_event_last_id(d->db);
	assert_int_equal(last, evs[n - 1].id);
	assert_non_null(priv_ev);
	assert_non_null(pub_ev);
	assert_non_null(pub_created);

	/* a private channel's message: members only */
	assert_false(pl_event_visible(d->db, d->carol, priv_ev));
	assert_true(pl_event_visible(d->db, d->bob, priv_ev));
	assert_true(pl_event_visible(d->db, d->alice, priv_ev));
	/* a public channel's message: its members (carol has not joined) */
	assert_true(pl_event_visible(d->db, d->alice, pub_ev));
	assert_false(pl_event_visible(d->db, d->carol, pub_ev));
	/* a public channel's creation: everyone */
	assert_true(pl_event_visible(d->db, d->carol, pub_created));
	/* membership is checked at delivery time: a removed member stops at once */
	{
		char sql[160];

		snprintf(sql, sizeof(sql), "DELETE FROM channel_members WHERE channel_id = %lld "
			 "AND user_id = %lld", (long long)d->priv, (long long)d->bob);
		assert_int_equal(unit_exec(d->db, sql), 0);
		assert_false(pl_event_visible(d->db, d->bob, priv_ev));
	}

	/* the stored payload names the message by id, nothing of its text */
	{
		cJSON *r = pl_event_render(priv_ev);
		const cJSON *m;

		assert_non_null(r);
		assert_string_equal(str_field(r, "type"), "message.created");
		assert_int_equal(num_field(r, "event_id"), priv_ev->id);
		assert_int_equal(num_field(r, "channel_id"), d->priv);
		m = cJSON_GetObjectItemCaseSensitive(r, "message");
		assert_true(cJSON_IsObject(m));
		assert_int_equal(num_field(m, "id"), msg);
		assert_null(cJSON_GetObjectItemCaseSensitive(m, "content"));
		cJSON_Delete(r);
		r = pl_event_render(pub_ev);
		assert_int_equal(num_field(cJSON_GetObjectItemCaseSensitive(r, "message"), "id"), pubmsg);
		cJSON_Delete(r);
	}
	/* the wire object: the message as it is now, to those who may see it */
	{
		struct pl_event_view v;
		const cJSON *r, *m;

		pl_event_view_init(&v, priv_ev, false);
		assert_int_equal(pl_event_view_cut(d->db, &v, d->bob), PL_EVENT_HIDDEN);
		assert_int_equal(pl_event_view_cut(d->db, &v, d->alice), PL_EVENT_FULL);
		r = pl_event_view_object(d->db, &v, PL_EVENT_FULL);
		assert_non_null(r);
		assert_string_equal(str_field(r, "type"), "message.created");
		assert_int_equal(num_field(r, "event_id"), priv_ev->id);
		m = cJSON_GetObjectItemCaseSensitive(r, "message");
		assert_int_equal(num_field(m, "id"), msg);
		assert_string_equal(str_field(m, "content"), "psst");
		assert_string_equal(str_field(m, "username"), "bob");
		pl_event_view_release(&v);
		/* deleted since: the same event shows the tombstone */
		{
			char sql[96];
			snprintf(sql, sizeof(sql), "UPDATE messages SET content = '', deleted = 1 "
				 "WHERE id = %lld", (long long)msg);
			assert_int_equal(unit_exec(d->db, sql), 0);
		}
		pl_event_view_init(&v, priv_ev, true);
		m = cJSON_GetObjectItemCaseSensitive(
			pl_event_view_object(d->db, &v, pl_event_view_cut(d->db, &v, d->alice)), "message");
		assert_string_equal(str_field(m, "content"), "");
		assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "deleted")));
		pl_event_view_release(&v);
	}

	for (size_t i = 0; i < n; i++)
		pl_event_release(&evs[i]);

	/* the cursor: nothing after the last, and max bounds the read */
	assert_int_equal(pl_events_after(d->db, last, 64, evs, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pl_events_after(d->db, 0, 2, evs, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_true(evs[0].id < evs[1].id);
	pl_event_release(&evs[0]);
	pl_event_release(&evs[1]);
	assert_null(evs[0].payload);
}

static void test_event_render_handmade(void **state)
{
	struct pl_event ev = { 0 };
	cJSON *r;
	(void)state;

	ev.id = 41;
	snprintf(ev.type, sizeof(ev.type), "member.joined");
	ev.scope = PL_SCOPE_CHANNEL;
	ev.channel_id = 9;
	/* the payload cannot override the envelope */
	ev.payload = pl_xstrdup("{\"user_id\":3,\"type\":\"evil\",\"event_id\":1,\"role\":\"member\"}");
	r = pl_event_render(&ev);
	assert_non_null(r);
	assert_string_equal(str_field(r, "type"), "member.joined");
	assert_int_equal(num_field(r, "event_id"), 41);
	assert_int_equal(num_field(r, "channel_id"), 9);
	assert_int_equal(num_field(r, "user_id"), 3);
	assert_string_equal(str_field(r, "role"), "member");
	assert_int_equal(cJSON_GetArraySize(r), 5);
	cJSON_Delete(r);
	pl_event_release(&ev);
	assert_null(ev.payload);

	/* no channel: no channel_id key */
	ev.channel_id = 0;
	ev.payload = pl_xstrdup("{}");
	r = pl_event_render(&ev);
	assert_null(cJSON_GetObjectItemCaseSensitive(r, "channel_id"));
	cJSON_Delete(r);
	pl_event_release(&ev);

	/* an unreadable payload */
	ev.payload = pl_xstrdup("not json");
	assert_null(pl_event_render(&ev));
	pl_event_release(&ev);
	ev.payload = pl_xstrdup("[1,2]");
	assert_null(pl_event_render(&ev));
	pl_event_release(&ev);
}

#define DOM_TEST(f) cmocka_unit_test_setup_teardown(f, dom_setup, dom_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		DOM_TEST(test_register),
		DOM_TEST(test_register_invalid),
		DOM_TEST(test_channel_create),
		DOM_TEST(test_channel_create_duplicate),
		DOM_TEST(test_channel_create_invalid),
		DOM_TEST(test_channel_create_private),
		DOM_TEST(test_authz_matrix),
		DOM_TEST(test_post_basic),
		DOM_TEST(test_post_empty),
		DOM_TEST(test_post_length),
		DOM_TEST(test_post_client_msg_id),
		DOM_TEST(test_post_not_visible),
		DOM_TEST(test_post_joins_public),
		DOM_TEST(test_post_reply_to),
		DOM_TEST(test_post_event_same_transaction),
		DOM_TEST(test_history_paging),
		DOM_TEST(test_history_rules),
		DOM_TEST(test_events_visibility_and_render),
		cmocka_unit_test(test_event_render_handmade),
	};

	pl_log_init("test_messages", PL_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

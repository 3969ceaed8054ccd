/*
 * test_messages.c — unit tests of messages.h against a migrated temporary
 * database: posting (trimmed, 1-4000 code points, valid UTF-8,
 * client_msg_id making a repeat return the first message, replies within
 * the channel, joining a public channel by posting, a private channel 404
 * to non-members, the message and its event in one transaction), history
 * paging both ways, edits, deletes, read markers, mentions and reactions
 * as they follow from messages, and the query plans of history pages.
 * messages.c is included so the plan test reads the very SQL constants
 * the code prepares (lighttpd-style).
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

#include "messages.c"
#include "log.h"
#include "util.h"
#include "unit_util.h"
#include "unit_domain.h"

/* ---- messages ---- */

static void test_post_basic(void **state)
{
	struct dom *d = *state;
	struct pl_message_new in = { .channel_id = d->pub, .content = "  hello world \n\t" };
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
	struct pl_message_new in = { .channel_id = d->pub, .content = "answer", .reply_to = m1 };
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

static void test_messages_marker_mentions(void **state)
{
	struct unit_env *env = *state;
	struct pl_db *db = env->db;
	int64_t a = unit_add_user(db, "amy"), b = unit_add_user(db, "bo");
	int64_t ch = mk_channel(db, a, "talk", "private", &b, 1), m1, m2;
	struct pl_err err = { 0 };
	cJSON *out = NULL;

	m1 = post(db, a, ch, "hello @BO and @nobody");
	m2 = post(db, a, ch, "second");
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

/* History pages are a range of the (channel_id, id) index, never sorted. */
static void test_message_plans(void **state)
{
	struct unit_env *env = *state;

	/* history pages: a range of the (channel_id, id) index, no sort */
	unit_expect_plan(env->db, messages_stmts[MESSAGES_STMT_HISTORY_DESC].sql,
		    "SEARCH m USING INDEX messages_channel (channel_id=? AND id>? AND id<?)", "TEMP B-TREE");
	unit_expect_plan(env->db, messages_stmts[MESSAGES_STMT_HISTORY_ASC].sql,
		    "SEARCH m USING INDEX messages_channel (channel_id=? AND id>? AND id<?)", "TEMP B-TREE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
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
		cmocka_unit_test_setup_teardown(test_messages_marker_mentions, unit_env_setup, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_message_plans, unit_env_setup, unit_env_teardown),
	};

	pl_log_init("test_messages", PL_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

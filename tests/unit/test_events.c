/*
 * test_events.c — unit tests of the real-time pieces of lib (issue 5)
 * against a migrated temporary database: event retention (pl_events_prune,
 * pl_event_since_pruned, ids never reused), the per-event audience used by
 * the ws-daemon's fan-out (must agree with pl_event_visible), the
 * long-poll read (pl_events_collect), and presence transitions (only
 * offline<->online changes become events; the sweep announces once).
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
#include "presence.h"
#include "util.h"
#include "unit_util.h"

struct rt {
	struct unit_env env;
	struct pl_db *db;
	int64_t a, b, c;
	int64_t ch;        /* a and b are members, c is not */
	int64_t other;     /* c alone */
};

static int rt_setup(void **state)
{
	struct rt *t = calloc(1, sizeof(*t));
	char sql[256];

	if (!t || unit_env_open(&t->env, 1) < 0)
		return -1;
	t->db = t->env.db;
	t->a = unit_add_user(t->db, "alice");
	t->b = unit_add_user(t->db, "bob");
	t->c = unit_add_user(t->db, "carol");
	if (unit_exec(t->db, "INSERT INTO channels (name, kind, topic, created_by, created_at) "
			     "VALUES ('x', 'private', '', 1, 0), ('y', 'private', '', 3, 0)") < 0)
		return -1;
	t->ch = unit_int(t->db, "SELECT id FROM channels WHERE name = 'x'");
	t->other = unit_int(t->db, "SELECT id FROM channels WHERE name = 'y'");
	snprintf(sql, sizeof(sql),
		 "INSERT INTO channel_members (channel_id, user_id, role, joined_at) VALUES "
		 "(%lld, %lld, 'owner', 0), (%lld, %lld, 'member', 0), (%lld, %lld, 'owner', 0)",
		 (long long)t->ch, (long long)t->a, (long long)t->ch, (long long)t->b,
		 (long long)t->other, (long long)t->c);
	if (unit_exec(t->db, sql) < 0)
		return -1;
	*state = t;
	return 0;
}

static int rt_teardown(void **state)
{
	struct rt *t = *state;

	unit_env_close(&t->env);
	free(t);
	return 0;
}

static int64_t append(struct rt *t, const char *type, enum pl_event_scope scope,
		      int64_t channel, int64_t user)
{
	struct pl_err err = { 0 };
	cJSON *p = cJSON_CreateObject();
	int64_t id = 0;

	cJSON_AddNumberToObject(p, "user_id", (double)user);
	assert_int_equal(pl_event_append(t->db, type, scope, channel, user, p, &id, &err), 0);
	cJSON_Delete(p);
	return id;
}

static void test_prune_and_resync(void **state)
{
	struct rt *t = *state;
	struct pl_err err = { 0 };
	int64_t ids[5];
	int n = -1;

	for (int i = 0; i < 5; i++)
		ids[i] = append(t, "message.created", PL_SCOPE_CHANNEL, t->ch, t->a);
	assert_false(pl_event_since_pruned(t->db, 0));
	assert_int_equal(unit_exec(t->db, "UPDATE events SET created_at = 1 WHERE id <= "
					  "(SELECT min(id) + 2 FROM events)"), 0);
	assert_int_equal(pl_events_prune(t->db, pl_now_ms() - 1000, 100, &n, &err), 0);
	assert_int_equal(n, 3);
	/* since before the pruned ones: resync; from the last pruned on: fine */
	assert_true(pl_event_since_pruned(t->db, 0));
	assert_true(pl_event_since_pruned(t->db, ids[1]));
	assert_false(pl_event_since_pruned(t->db, ids[2]));
	assert_false(pl_event_since_pruned(t->db, ids[4]));
	/* everything pruned: the last id stays, and ids are never reused */
	assert_int_equal(unit_exec(t->db, "UPDATE events SET created_at = 1"), 0);
	assert_int_equal(pl_events_prune(t->db, pl_now_ms() - 1000, 100, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pl_event_last_id(t->db), ids[4]);
	assert_true(pl_event_since_pruned(t->db, ids[3]));
	assert_false(pl_event_since_pruned(t->db, ids[4]));
	assert_true(append(t, "message.created", PL_SCOPE_CHANNEL, t->ch, t->a) > ids[4]);
}

static void test_audience_agrees_with_visible(void **state)
{
	struct rt *t = *state;
	const enum pl_event_scope scopes[] = { PL_SCOPE_CHANNEL, PL_SCOPE_USER, PL_SCOPE_ALL,
					       PL_SCOPE_PEERS };
	const int64_t users[] = { t->a, t->b, t->c, 999 };
	struct pl_event buf[8];
	size_t n = 0;
	struct pl_err err = { 0 };
	int64_t first = pl_event_last_id(t->db);
	int seen_true = 0, seen_false = 0;

	for (size_t s = 0; s < 4; s++)
		append(t, "x.test", scopes[s], scopes[s] == PL_SCOPE_CHANNEL ? t->ch : 0, t->a);
	assert_int_equal(pl_events_after(t->db, first, 8, buf, &n, &err), 0);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		struct pl_event_audience aud;
		pl_event_audience_init(&aud, &buf[i]);
		for (size_t u = 0; u < 4; u++) {
			bool v = pl_event_visible(t->db, users[u], &buf[i]);
			assert_int_equal(pl_event_audience_has(t->db, &aud, users[u]), v);
			v ? seen_true++ : seen_false++;
		}
		pl_event_audience_release(&aud);
		pl_event_release(&buf[i]);
	}
	/* channel: a, b; user: a; all: 4; peers: a, b */
	assert_int_equal(seen_true, 2 + 1 + 4 + 2);
	assert_int_equal(seen_false, 16 - 9);
}

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
	assert_int_equal(pl_presence_touch_many(t->db, ab, 2, &err), 0);
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
		cmocka_unit_test_setup_teardown(test_prune_and_resync, rt_setup, rt_teardown),
		cmocka_unit_test_setup_teardown(test_audience_agrees_with_visible, rt_setup, rt_teardown),
		cmocka_unit_test_setup_teardown(test_collect_skips_invisible_and_stale_typing,
						rt_setup, rt_teardown),
		cmocka_unit_test_setup_teardown(test_presence_transitions, rt_setup, rt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

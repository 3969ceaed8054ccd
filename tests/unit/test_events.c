/*
 * test_events.c — unit tests of events.h against a migrated temporary
 * database: the stream (ids strictly increasing, the cursor, the read
 * bound), who may see an event (pl_event_visible, checked at delivery
 * time) and the per-event audience of the ws-daemon's fan-out (must agree
 * with it), the stored payload naming rows by id and the wire object
 * built from it, rendering a hand-made event, and retention
 * (pl_events_prune, pl_event_since_pruned, ids never reused).
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
#include "log.h"
#include "util.h"
#include "unit_util.h"
#include "unit_domain.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		DOM_TEST(test_events_visibility_and_render),
		cmocka_unit_test(test_event_render_handmade),
		RT_TEST(test_prune_and_resync),
		RT_TEST(test_audience_agrees_with_visible),
	};

	pl_log_init("test_events", PL_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

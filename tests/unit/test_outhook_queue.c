/*
 * test_outhook_queue.c — unit tests of outgoing webhooks on a real,
 * migrated SQLite database (unit_domain.h): who may manage them
 * (outhooks.h), enqueueing from message.created events exactly once,
 * trigger words and bots, and the lease that keeps one delivery with one
 * worker (outhook_queue.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "outhook_queue.h"
#include "outhooks.h"
#include "unit_util.h"
#include "unit_domain.h"

#define ALLOW "127.0.0.1"

static int64_t hook(struct dom *d, int64_t user, int64_t channel, const char *words_json,
		    int expect_status)
{
	struct pl_outhook_new in = { "http://127.0.0.1:9/x", NULL, NULL };
	struct pl_err err = { 0 };
	cJSON *words = words_json ? cJSON_Parse(words_json) : NULL;
	cJSON *out = NULL;
	int64_t id = 0;
	int rc;

	in.trigger_words = words;
	rc = pl_outhook_create(d->db, user, channel, &in, ALLOW, &out, &err);
	cJSON_Delete(words);
	if (expect_status) {
		assert_int_equal(rc, -1);
		assert_int_equal(err.status, expect_status);
		return 0;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(strlen(str_field(out, "secret")), 64);
	id = (int64_t)cJSON_GetObjectItemCaseSensitive(out, "id")->valuedouble;
	cJSON_Delete(out);
	return id;
}

static void test_who_may_manage(void **state)
{
	struct dom *d = *state;
	struct pl_err err = { 0 };
	cJSON *l;

	hook(d, d->bob, d->priv, NULL, 403);     /* a member */
	hook(d, d->carol, d->priv, NULL, 404);   /* cannot see it */
	hook(d, d->carol, d->pub, NULL, 403);    /* sees it, not a member */
	hook(d, d->alice, d->priv, NULL, 0);
	assert_null(pl_outhook_list(d->db, d->bob, d->priv, &err));
	assert_int_equal(err.status, 403);
	l = pl_outhook_list(d->db, d->alice, d->priv, &err);
	assert_non_null(l);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(l, "outgoing_webhooks")), 1);
	assert_null(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(l, "outgoing_webhooks"), 0), "secret"));
	cJSON_Delete(l);
}

static void test_enqueue_once_with_triggers(void **state)
{
	struct dom *d = *state;
	struct pl_err err = { 0 };
	int events = 0, enq = 0;

	/* messages before the first hook are never delivered */
	post(d->db, d->alice, d->pub, "before any hook");
	hook(d, d->alice, d->pub, NULL, 0);
	hook(d, d->alice, d->pub, "[\"!go\"]", 0);
	post(d->db, d->alice, d->pub, "plain");
	post(d->db, d->bob, d->priv, "private, no hook there");
	post(d->db, d->alice, d->pub, "!GO now");
	assert_int_equal(pl_outhook_enqueue(d->db, 100, &events, &enq, &err), 0);
	assert_true(events >= 3);
	assert_int_equal(enq, 3);   /* plain: 1 hook; !GO: 2 hooks */
	assert_int_equal(count_rows(d->db, "outgoing_webhook_deliveries", "trigger_word = '!go'"), 1);
	/* the cursor moved: a second pass adds nothing */
	assert_int_equal(pl_outhook_enqueue(d->db, 100, &events, &enq, &err), 0);
	assert_int_equal(enq, 0);
	/* a bot's message is not delivered */
	assert_int_equal(pl_db_exec(d->db, "UPDATE users SET is_bot = 1 WHERE username = 'carol'", &err), 0);
	post(d->db, d->carol, d->pub, "bot talk");
	assert_int_equal(pl_outhook_enqueue(d->db, 100, &events, &enq, &err), 0);
	assert_int_equal(enq, 0);
}

static void test_lease(void **state)
{
	struct dom *d = *state;
	struct pl_outhook_job a, b;
	struct pl_err err = { 0 };
	int64_t now;

	hook(d, d->alice, d->pub, NULL, 0);
	post(d->db, d->alice, d->pub, "one");
	assert_int_equal(pl_outhook_enqueue(d->db, 100, NULL, NULL, &err), 0);
	now = pl_now_ms();  /* the delivery is due from its enqueueing on */
	assert_int_equal(pl_outhook_claim(d->db, now, 60000, &a, &err), 0);
	assert_int_equal(a.attempts, 1);
	assert_string_equal(a.url, "http://127.0.0.1:9/x");
	assert_int_equal(strlen(a.secret), 64);
	/* held: nobody else gets it */
	assert_int_equal(pl_outhook_claim(d->db, now + 1000, 60000, &b, &err), 1);
	/* the lease ran out: another worker takes it, and the first one's
	 * late result is not recorded */
	assert_int_equal(pl_outhook_claim(d->db, now + 61000, 60000, &b, &err), 0);
	assert_int_equal(b.id, a.id);
	assert_int_equal(b.attempts, 2);
	assert_int_equal(pl_outhook_finish(d->db, &a, PL_OUTHOOK_DELIVERED, 200, NULL, 0, &err), 0);
	assert_int_equal(count_rows(d->db, "outgoing_webhook_deliveries", "status = 'delivered'"), 0);
	/* the holder's retry: pending again at next_ms */
	assert_int_equal(pl_outhook_finish(d->db, &b, PL_OUTHOOK_RETRY, 503, "HTTP 503", now + 5000, &err), 0);
	pl_outhook_job_release(&a);
	assert_int_equal(pl_outhook_claim(d->db, now + 4000, 60000, &a, &err), 1);  /* not due yet */
	assert_int_equal(pl_outhook_claim(d->db, now + 5000, 60000, &a, &err), 0);
	assert_int_equal(a.attempts, 3);
	assert_int_equal(pl_outhook_finish(d->db, &a, PL_OUTHOOK_DELIVERED, 200, NULL, 0, &err), 0);
	assert_int_equal(count_rows(d->db, "outgoing_webhook_deliveries",
				    "status = 'delivered' AND attempts = 3 AND last_error IS NULL "
				    "AND claim_token IS NULL AND delivered_at IS NOT NULL"), 1);
	pl_outhook_job_release(&a);
	pl_outhook_job_release(&b);
}

static void test_queue_bound_and_delete(void **state)
{
	struct dom *d = *state;
	struct pl_err err = { 0 };
	int64_t h = hook(d, d->alice, d->pub, NULL, 0);
	int enq = 0;

	for (int i = 0; i < 5; i++)
		post(d->db, d->alice, d->pub, "q");
	assert_int_equal(pl_outhook_enqueue(d->db, 2, NULL, &enq, &err), 0);
	assert_int_equal(enq, 5);
	assert_int_equal(count_rows(d->db, "outgoing_webhook_deliveries", "status = 'pending'"), 2);
	assert_int_equal(count_rows(d->db, "outgoing_webhook_deliveries",
				    "status = 'failed' AND last_error = 'dropped: queue full'"), 3);
	assert_int_equal(pl_outhook_delete(d->db, d->bob, d->pub, h, &err), -1);
	assert_int_equal(err.status, 403);
	assert_int_equal(pl_outhook_delete(d->db, d->alice, d->pub, h, &err), 0);
	assert_int_equal(count_rows(d->db, "outgoing_webhook_deliveries", "1 = 1"), 0);
	assert_int_equal(pl_outhook_delete(d->db, d->alice, d->pub, h, &err), -1);
	assert_int_equal(err.status, 404);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_who_may_manage, dom_setup, dom_teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_once_with_triggers, dom_setup, dom_teardown),
		cmocka_unit_test_setup_teardown(test_lease, dom_setup, dom_teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound_and_delete, dom_setup, dom_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_members.c — unit tests of members.h, member_view.h and
 * read_markers.h against a migrated temporary database: the member object
 * (rendered from a struct, an account whose row is gone included), the
 * member list, adding members and changing roles with their events, an
 * erased account leaving every channel (ownership handed on), and read
 * markers (forward only, one event per move, 400/403/404).
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

#include "log.h"
#include "member_view.h"
#include "members.h"
#include "unit_util.h"
#include "unit_domain.h"

/* ---- the view ---- */

static void test_member_view(void **state)
{
	struct pl_member gone = { .user_id = 7, .found = false, .role = "admin", .joined_at = 1000 };
	struct pl_member m = { .user_id = 3, .found = true, .role = "owner", .joined_at = 0 };
	cJSON *o, *u;

	o = pl_member_view(&gone);
	u = cJSON_GetObjectItemCaseSensitive(o, "user");
	assert_int_equal(num_field(u, "id"), 7);
	assert_string_equal(str_field(u, "username"), "");
	assert_int_equal(cJSON_GetArraySize(u), 2);
	assert_string_equal(str_field(o, "role"), "admin");
	assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "joined_at")));
	cJSON_Delete(o);

	m.user.id = 3;
	m.user.username = (char *)"ann";
	m.user.display_name = (char *)"Ann";
	m.user.bio = (char *)"";
	m.user.avatar_url = (char *)"";
	m.user.status_text = (char *)"";
	m.user.email = (char *)"ann@example.org";
	o = pl_member_view(&m);
	u = cJSON_GetObjectItemCaseSensitive(o, "user");
	assert_string_equal(str_field(u, "username"), "ann");
	assert_string_equal(str_field(u, "display_name"), "Ann");
	assert_null(cJSON_GetObjectItemCaseSensitive(u, "email"));  /* never in a member list */
	assert_string_equal(str_field(o, "role"), "owner");
	cJSON_Delete(o);
}

/* ---- list, set ---- */

static void test_member_list(void **state)
{
	struct dom *d = *state;
	struct pl_err err = { 0 };
	cJSON *out = NULL, *arr, *first, *second;

	assert_int_equal(pl_channel_members(d->db, d->bob, d->priv, &out, &err), 0);
	arr = cJSON_GetObjectItemCaseSensitive(out, "members");
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	first = cJSON_GetArrayItem(arr, 0);   /* oldest first: the creator */
	second = cJSON_GetArrayItem(arr, 1);
	assert_int_equal(num_field(cJSON_GetObjectItemCaseSensitive(first, "user"), "id"), d->alice);
	assert_string_equal(str_field(first, "role"), "owner");
	assert_int_equal(num_field(cJSON_GetObjectItemCaseSensitive(second, "user"), "id"), d->bob);
	assert_string_equal(str_field(second, "role"), "member");
	cJSON_Delete(out);

	/* a private channel is 404 to others */
	out = NULL;
	assert_int_equal(pl_channel_members(d->db, d->carol, d->priv, &out, &err), -1);
	assert_int_equal(err.status, 404);
	assert_null(out);
}

static void test_member_set(void **state)
{
	struct dom *d = *state;
	struct pl_err err = { 0 };
	int64_t joined = count_events(d->db, "member.joined");
	int64_t updated = count_events(d->db, "member.updated");
	bool created = false;
	cJSON *out = NULL;

	assert_int_equal(pl_channel_member_set(d->db, d->alice, d->pub, d->carol, "admin", &created,
					       &out, &err), 0);
	assert_true(created);
	assert_string_equal(str_field(out, "role"), "admin");
	assert_int_equal(num_field(cJSON_GetObjectItemCaseSensitive(out, "user"), "id"), d->carol);
	cJSON_Delete(out);
	assert_int_equal(count_events(d->db, "member.joined"), joined + 1);

	/* the same role again: nothing changes, no event */
	assert_int_equal(pl_channel_member_set(d->db, d->alice, d->pub, d->carol, "admin", &created,
					       &out, &err), 0);
	assert_false(created);
	cJSON_Delete(out);
	assert_int_equal(count_events(d->db, "member.updated"), updated);

	assert_int_equal(pl_channel_member_set(d->db, d->alice, d->pub, d->carol, NULL, &created,
					       &out, &err), 0);
	assert_false(created);
	assert_string_equal(str_field(out, "role"), "member");
	cJSON_Delete(out);
	assert_int_equal(count_events(d->db, "member.updated"), updated + 1);

	/* a plain member manages nothing; a bad role is 400 */
	assert_int_equal(pl_channel_member_set(d->db, d->bob, d->priv, d->carol, NULL, &created,
					       &out, &err), -1);
	assert_int_equal(err.status, 403);
	assert_null(out);
	assert_int_equal(pl_channel_member_set(d->db, d->alice, d->priv, d->carol, "king", &created,
					       &out, &err), -1);
	assert_int_equal(err.status, 400);
}

/* An erased account leaves everything; a channel it owned alone passes to
 * the longest-standing member, one with nobody left stays ownerless. */
static void test_leave_all(void **state)
{
	struct dom *d = *state;
	struct pl_err err = { 0 };
	char where[160];
	int64_t left = count_events(d->db, "member.left");

	assert_int_equal(pl_db_begin(d->db, &err), 0);
	assert_int_equal(pl_channel_leave_all_locked(d->db, d->alice, &err), 2);
	assert_int_equal(pl_db_commit(d->db, &err), 0);
	snprintf(where, sizeof(where), "user_id = %lld", (long long)d->alice);
	assert_int_equal(count_rows(d->db, "channel_members", where), 0);
	snprintf(where, sizeof(where), "channel_id = %lld AND user_id = %lld AND role = 'owner'",
		 (long long)d->priv, (long long)d->bob);
	assert_int_equal(count_rows(d->db, "channel_members", where), 1);
	snprintf(where, sizeof(where), "channel_id = %lld", (long long)d->pub);
	assert_int_equal(count_rows(d->db, "channel_members", where), 0);
	/* one for the channel and one for the leaver, per channel */
	assert_int_equal(count_events(d->db, "member.left"), left + 4);
}

/* ---- read markers ---- */

static void test_mark_read(void **state)
{
	struct dom *d = *state;
	struct pl_err err = { 0 };
	int64_t m1 = post(d->db, d->alice, d->priv, "one");
	int64_t m2 = post(d->db, d->alice, d->priv, "two");
	int64_t elsewhere = post(d->db, d->alice, d->pub, "three");
	int64_t reads = count_events(d->db, "read");
	char sql[200];

	snprintf(sql, sizeof(sql), "SELECT last_read_id FROM channel_members "
		 "WHERE channel_id = %lld AND user_id = %lld", (long long)d->priv, (long long)d->bob);
	assert_int_equal(pl_channel_mark_read(d->db, d->bob, d->priv, m2, &err), 0);
	assert_int_equal(unit_int(d->db, sql), m2);
	/* never back, and no event when it did not move */
	assert_int_equal(pl_channel_mark_read(d->db, d->bob, d->priv, m1, &err), 0);
	assert_int_equal(unit_int(d->db, sql), m2);
	assert_int_equal(count_events(d->db, "read"), reads + 1);

	assert_int_equal(pl_channel_mark_read(d->db, d->bob, d->priv, elsewhere, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(pl_channel_mark_read(d->db, d->carol, d->priv, m2, &err), -1);
	assert_int_equal(err.status, 404);
	assert_int_equal(pl_channel_mark_read(d->db, d->carol, d->pub, elsewhere, &err), -1);
	assert_int_equal(err.status, 403);
	assert_int_equal(count_events(d->db, "read"), reads + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_member_view),
		DOM_TEST(test_member_list),
		DOM_TEST(test_member_set),
		DOM_TEST(test_leave_all),
		DOM_TEST(test_mark_read),
	};

	pl_log_init("test_members", PL_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

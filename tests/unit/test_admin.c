/*
 * test_admin.c — unit tests of server administration (admin.h, invites.h,
 * audit.h and authz.h's server admin and archive rules) against a migrated
 * temporary database: who is a server admin, the last admin kept, an
 * invite's uses (the last one goes once), revoked and out-of-bounds
 * invites, an archived channel (readable, not writable, not joinable),
 * and that each action writes its audit row and events once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>
#include "admin.h"
#include "audit.h"
#include "authz.h"
#include "invites.h"
#include "log.h"
#include "presence.h"
#include "unit_util.h"
#include "unit_domain.h"

static void make_admin(struct pl_db *db, int64_t id)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "UPDATE users SET server_role = 'admin' WHERE id = %lld", (long long)id);
	assert_int_equal(unit_exec(db, sql), 0);
}

static void test_server_admin_check(void **state)
{
	struct dom *d = *state;
	struct pl_err err = { 0 };

	assert_int_equal(pl_authz_server_admin(d->db, d->alice, &err), -1);
	assert_int_equal(err.status, 403);
	make_admin(d->db, d->alice);
	assert_int_equal(pl_authz_server_admin(d->db, d->alice, &err), 0);
	/* a deactivated admin is no admin */
	assert_int_equal(unit_exec(d->db, "UPDATE users SET deactivated_at = 1 WHERE username = 'alice'"), 0);
	assert_int_equal(pl_authz_server_admin(d->db, d->alice, &err), -1);
}

static void test_last_admin_and_self(void **state)
{
	struct dom *d = *state;
	struct pl_err err = { 0 };

	make_admin(d->db, d->alice);
	/* the operator (0) cannot deactivate or demote the last admin */
	assert_int_equal(pl_admin_set_active(d->db, 0, d->alice, false, NULL, &err), -1);
	assert_int_equal(err.status, 409);
	assert_int_equal(pl_admin_set_server_admin(d->db, 0, d->alice, false, NULL, &err), -1);
	assert_int_equal(err.status, 409);
	/* nobody deactivates themselves */
	assert_int_equal(pl_admin_set_active(d->db, d->alice, d->alice, false, NULL, &err), -1);
	assert_int_equal(err.status, 403);
	/* bob is not an admin: refused */
	assert_int_equal(pl_admin_set_active(d->db, d->bob, d->carol, false, NULL, &err), -1);
	assert_int_equal(err.status, 403);
	assert_int_equal(count_rows(d->db, "audit_log", "1"), 0);
	/* carol is online; alice deactivates her: offline at once, one audit
	 * row, one account.deactivated event; again: nothing */
	assert_int_equal(pl_presence_touch(d->db, d->carol, NULL, &err), 0);
	assert_int_equal(count_rows(d->db, "presence_state", "online = 1"), 1);
	assert_int_equal(pl_admin_set_active(d->db, d->alice, d->carol, false, NULL, &err), 0);
	assert_int_equal(pl_admin_set_active(d->db, d->alice, d->carol, false, NULL, &err), 0);
	assert_int_equal(count_rows(d->db, "audit_log", "action = 'user.deactivate'"), 1);
	assert_int_equal(count_events(d->db, "account.deactivated"), 1);
	assert_int_equal(count_rows(d->db, "users", "deactivated_at IS NOT NULL"), 1);
	assert_int_equal(count_rows(d->db, "presence_state", "online = 1"), 0);
	assert_int_equal(count_rows(d->db, "presence", "1"), 0);
	assert_int_equal(pl_admin_set_active(d->db, 0, d->carol, true, NULL, &err), 0);
	assert_int_equal(count_rows(d->db, "audit_log", "action = 'user.reactivate' AND actor = 'parleyctl'"), 1);
}

/* One invite made by the operator inside its own transaction. */
static int64_t new_invite(struct pl_db *db, int64_t uses, int64_t ttl, char token[PL_INVITE_TOKEN_LEN],
			  struct pl_err *err)
{
	int64_t id = 0;
	int rc;

	assert_int_equal(pl_db_begin(db, err), 0);
	rc = pl_invite_create_locked(db, 0, uses, ttl, token, &id, err);
	assert_int_equal(pl_db_end(db, rc, err), rc);
	return rc == 0 ? id : -1;
}

static int use_invite(struct pl_db *db, const char *token, struct pl_err *err)
{
	int rc;

	assert_int_equal(pl_db_begin(db, err), 0);
	rc = pl_invite_use_locked(db, token, err);
	pl_db_end(db, rc, err);
	return rc;
}

static void test_invites(void **state)
{
	struct dom *d = *state;
	struct pl_err err = { 0 };
	char token[PL_INVITE_TOKEN_LEN], tok2[PL_INVITE_TOKEN_LEN];
	int64_t id;

	assert_int_equal(new_invite(d->db, 0, 3600, token, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(new_invite(d->db, 1, 10, token, &err), -1);
	assert_int_equal(err.status, 400);
	assert_true((id = new_invite(d->db, 1, 3600, token, &err)) > 0);
	assert_true(strlen(token) >= 40);
	/* only the hash is stored */
	assert_int_equal(count_rows(d->db, "invites", "token_hash LIKE '%-%'"), 0);
	assert_int_equal(use_invite(d->db, NULL, &err), -1);
	assert_int_equal(err.status, 403);
	assert_int_equal(use_invite(d->db, token, &err), 0);
	assert_int_equal(use_invite(d->db, token, &err), -1);  /* used up */
	assert_int_equal(err.status, 403);
	assert_string_equal(err.message, PL_INVITE_INVALID_MSG);
	assert_true(new_invite(d->db, 5, 3600, tok2, &err) > 0);
	assert_int_equal(pl_admin_invite_revoke(d->db, 0, id + 1, &err), 0);
	assert_int_equal(use_invite(d->db, tok2, &err), -1);   /* revoked */
	assert_int_equal(pl_admin_invite_revoke(d->db, 0, id + 1, &err), -1);
	assert_int_equal(err.status, 404);
}

static void test_archive(void **state)
{
	struct dom *d = *state;
	struct pl_err err = { 0 };
	struct pl_access acc;
	cJSON *ch = NULL;
	bool joined;

	make_admin(d->db, d->alice);
	assert_int_equal(pl_admin_archive_channel(d->db, d->bob, d->pub, true, NULL, &err), -1);
	assert_int_equal(err.status, 403);
	assert_int_equal(pl_admin_archive_channel(d->db, d->alice, d->pub, true, &ch, &err), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ch, "archived")));
	cJSON_Delete(ch);
	assert_int_equal(count_events(d->db, "channel.updated"), 1);
	assert_int_equal(pl_authz_channel(d->db, d->carol, d->pub, PL_ACT_READ, &acc, &err), 0);
	assert_true(acc.archived);
	assert_int_equal(pl_authz_channel(d->db, d->alice, d->pub, PL_ACT_POST, NULL, &err), -1);
	assert_int_equal(err.status, 403);
	assert_string_equal(err.message, PL_AUTHZ_ARCHIVED_MSG);
	assert_int_equal(pl_db_begin(d->db, &err), 0);
	assert_int_equal(pl_channel_join_locked(d->db, d->carol, d->pub, &joined, &err), -1);
	pl_db_rollback(d->db);
	assert_int_equal(err.status, 403);
	/* an admin who is no member of a private channel still archives it;
	 * an outsider of it still gets 404 for posting */
	assert_int_equal(pl_admin_archive_channel(d->db, 0, d->priv, true, NULL, &err), 0);
	assert_int_equal(pl_authz_channel(d->db, d->carol, d->priv, PL_ACT_POST, NULL, &err), -1);
	assert_int_equal(err.status, 404);
	/* archiving again writes nothing */
	assert_int_equal(pl_admin_archive_channel(d->db, d->alice, d->pub, true, NULL, &err), 0);
	assert_int_equal(count_rows(d->db, "audit_log", "action = 'channel.archive'"), 2);
	assert_int_equal(pl_admin_archive_channel(d->db, d->alice, d->pub, false, NULL, &err), 0);
	assert_int_equal(pl_authz_channel(d->db, d->alice, d->pub, PL_ACT_POST, NULL, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		DOM_TEST(test_server_admin_check),
		DOM_TEST(test_last_admin_and_self),
		DOM_TEST(test_invites),
		DOM_TEST(test_archive),
	};

	if (sodium_init() < 0)
		return 1;
	pl_log_init("test_admin", PL_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

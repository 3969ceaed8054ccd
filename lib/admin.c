/* admin.c — server administration (admin.h). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "admin.h"
#include "audit.h"
#include "authz.h"
#include "channels.h"
#include "events.h"
#include "invites.h"
#include "json.h"
#include "messages.h"
#include "presence.h"
#include "session.h"
#include "user_search.h"
#include "util.h"

enum admin_stmt {
	ADMIN_STMT_USERS,
	ADMIN_STMT_USER,
	ADMIN_STMT_DEACTIVATE,
	ADMIN_STMT_REACTIVATE,
	ADMIN_STMT_SET_ROLE,
	ADMIN_STMT_OTHER_ADMINS,
	ADMIN_STMT__MAX
};

#define ADMIN_USER_COLUMNS \
	"SELECT u.id, u.username, u.display_name, u.email, u.email_verified, u.is_bot, " \
	"CASE WHEN u.server_role = 'admin' THEN 1 ELSE 0 END, u.deactivated_at, u.created_at, " \
	"(SELECT max(p.last_seen) FROM presence p WHERE p.user_id = u.id) FROM users u "

static const struct pl_sql admin_stmts[ADMIN_STMT__MAX] = {
	/* The prefix as user_search.c matches it (?2: the prefix followed by
	 * U+10FFFF); "" matches everyone. */
	[ADMIN_STMT_USERS] = {
		ADMIN_USER_COLUMNS "WHERE u.deleted_at IS NULL AND u.id < ?3 AND (?1 = '' OR "
		"(u.username >= ?1 AND u.username < ?2) OR "
		"(u.display_name >= ?1 COLLATE NOCASE AND u.display_name < ?2 COLLATE NOCASE)) "
		"ORDER BY u.id DESC LIMIT ?4" },
	[ADMIN_STMT_USER] = { ADMIN_USER_COLUMNS "WHERE u.id = ?1 AND u.deleted_at IS NULL" },
	[ADMIN_STMT_DEACTIVATE] = {
		"UPDATE users SET deactivated_at = ?2 WHERE id = ?1 AND deleted_at IS NULL "
		"AND deactivated_at IS NULL" },
	[ADMIN_STMT_REACTIVATE] = {
		"UPDATE users SET deactivated_at = NULL WHERE id = ?1 AND deleted_at IS NULL "
		"AND deactivated_at IS NOT NULL" },
	[ADMIN_STMT_SET_ROLE] = {
		"UPDATE users SET server_role = ?2 WHERE id = ?1 AND deleted_at IS NULL "
		"AND server_role <> ?2" },
	/* Live, active server admins other than ?1. */
	[ADMIN_STMT_OTHER_ADMINS] = {
		"SELECT count(*) FROM users WHERE server_role = 'admin' AND deleted_at IS NULL "
		"AND deactivated_at IS NULL AND id <> ?1" },
};

/* The actor may act: parleyctl (0) always, a user when a server admin. */
static int may_act(struct pl_db *db, int64_t actor_id, struct pl_err *err)
{
	return actor_id == 0 ? 0 : pl_authz_server_admin(db, actor_id, err);
}

/* The admin object of the current ADMIN_USER_COLUMNS row. */
static cJSON *user_row(struct pl_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	const char *email = pl_stmt_text(st, 3);

	cJSON_AddNumberToObject(o, "id", (double)pl_stmt_int64(st, 0));
	cJSON_AddStringToObject(o, "username", pl_stmt_text(st, 1) ? pl_stmt_text(st, 1) : "");
	cJSON_AddStringToObject(o, "display_name", pl_stmt_text(st, 2) ? pl_stmt_text(st, 2) : "");
	if (email)
		cJSON_AddStringToObject(o, "email", email);
	else
		cJSON_AddNullToObject(o, "email");
	cJSON_AddBoolToObject(o, "email_verified", pl_stmt_int(st, 4) != 0);
	cJSON_AddBoolToObject(o, "bot", pl_stmt_int(st, 5) != 0);
	cJSON_AddBoolToObject(o, "server_admin", pl_stmt_int(st, 6) != 0);
	cJSON_AddBoolToObject(o, "deactivated", !pl_stmt_null(st, 7));
	pl_json_add_time(o, "deactivated_at", pl_stmt_int64(st, 7));
	pl_json_add_time(o, "created_at", pl_stmt_int64(st, 8));
	pl_json_add_time(o, "last_seen_at", pl_stmt_int64(st, 9));
	return o;
}

/* The admin object of user `id`; NULL with `err` 404 or 500. */
static cJSON *admin_user(struct pl_db *db, int64_t id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &admin_stmts[ADMIN_STMT_USER], err);
	cJSON *o = NULL;
	int step;

	if (!st)
		return NULL;
	pl_stmt_bind_int64(st, 1, id);
	step = pl_stmt_step(st);
	if (step == PL_ROW)
		o = user_row(st);
	else if (step == PL_DONE)
		pl_err_set(err, 404, "no such user");
	else
		pl_err_internal(err, "admin user: %s", pl_db_last_error(db));
	pl_db_done(st);
	return o;
}

int pl_admin_users(struct pl_db *db, int64_t actor_id, const char *q, int limit, int64_t before,
		   cJSON **out, struct pl_err *err)
{
	char upper[PL_SEARCH_MAX + 8];
	struct pl_stmt *st;
	cJSON *body, *arr;
	int step;

	*out = NULL;
	if (may_act(db, actor_id, err) < 0)
		return -1;
	if (limit < 1 || limit > 200)
		return pl_err_set(err, 400, "limit must be 1-200");
	if (strlen(q) > PL_SEARCH_MAX || !pl_utf8_valid(q, strlen(q), NULL))
		return pl_err_set(err, 400, "q must be UTF-8 of at most %d bytes", PL_SEARCH_MAX);
	snprintf(upper, sizeof(upper), "%s\xf4\x8f\xbf\xbf", q);
	if (!(st = pl_db_prepare(db, &admin_stmts[ADMIN_STMT_USERS], err)))
		return -1;
	pl_stmt_bind_text(st, 1, q);
	pl_stmt_bind_text(st, 2, upper);
	pl_stmt_bind_int64(st, 3, before > 0 ? before : INT64_MAX);
	pl_stmt_bind_int(st, 4, limit);
	body = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(body, "users");
	while ((step = pl_stmt_step(st)) == PL_ROW)
		cJSON_AddItemToArray(arr, user_row(st));
	pl_db_done(st);
	if (step != PL_DONE) {
		cJSON_Delete(body);
		return pl_err_internal(err, "admin users: %s", pl_db_last_error(db));
	}
	*out = body;
	return 0;
}

/* Runs a one-user UPDATE of admin_stmts (`text` bound to ?2 when given,
 * else `t`); returns the number of rows changed or -1. */
static int update_user(struct pl_db *db, enum admin_stmt q, int64_t id, const char *text,
		       int64_t t, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &admin_stmts[q], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, id);
	if (text)
		pl_stmt_bind_text(st, 2, text);
	else if (pl_stmt_param_count(st) >= 2)
		pl_stmt_bind_int64(st, 2, t);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	return (int)pl_db_changes(db);
}

/* 409 when `target` is a server admin and no other live, active one
 * remains. */
static int not_last_admin(struct pl_db *db, int64_t target, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &admin_stmts[ADMIN_STMT_OTHER_ADMINS], err);
	int64_t others = 0;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, target);
	if (pl_db_step_id(db, st, &others, err) < 0)
		return -1;
	if (others == 0 && pl_authz_server_admin(db, target, NULL) == 0)
		return pl_err_set(err, 409, "that is the last server admin");
	return 0;
}

/* Deactivation's writes after the row changed. */
static int end_account(struct pl_db *db, int64_t actor_id, int64_t target, struct pl_err *err)
{
	cJSON *p = cJSON_CreateObject();
	int rc;

	cJSON_AddNumberToObject(p, "user_id", (double)target);
	rc = pl_session_revoke_user_locked(db, target, 0, err) < 0 ||
	     pl_presence_offline_locked(db, target, err) < 0 ||
	     pl_event_append(db, "account.deactivated", PL_SCOPE_USER, 0, target, p, NULL, err) < 0 ||
	     pl_audit_append(db, actor_id, "user.deactivate", "user", target, NULL, err) < 0 ? -1 : 0;
	cJSON_Delete(p);
	return rc;
}

static int set_active_locked(struct pl_db *db, int64_t actor_id, int64_t target, bool active,
			     struct pl_err *err)
{
	int n;

	if (may_act(db, actor_id, err) < 0)
		return -1;
	if (!active && target == actor_id)
		return pl_err_set(err, 403, "you cannot deactivate yourself");
	if (!active && not_last_admin(db, target, err) < 0)
		return -1;
	n = update_user(db, active ? ADMIN_STMT_REACTIVATE : ADMIN_STMT_DEACTIVATE, target, NULL,
			pl_now_ms(), err);
	if (n <= 0)
		return n;  /* -1, or already so (or no such user: the caller's view says) */
	if (!active)
		return end_account(db, actor_id, target, err);
	return pl_audit_append(db, actor_id, "user.reactivate", "user", target, NULL, err);
}

/* The tail of the user actions: commit, then the admin view. */
static int user_result(struct pl_db *db, int64_t target, int rc, cJSON **out, struct pl_err *err)
{
	cJSON *u = rc == 0 ? admin_user(db, target, err) : NULL;

	if (rc == 0 && !u)
		rc = -1;
	if ((rc = pl_db_end(db, rc, err)) < 0) {
		cJSON_Delete(u);
		u = NULL;
	}
	if (out)
		*out = u;
	else
		cJSON_Delete(u);
	return rc;
}

int pl_admin_set_active(struct pl_db *db, int64_t actor_id, int64_t target, bool active,
			cJSON **out, struct pl_err *err)
{
	if (out)
		*out = NULL;
	if (pl_db_begin(db, err) < 0)
		return -1;
	return user_result(db, target, set_active_locked(db, actor_id, target, active, err), out, err);
}

static int set_role_locked(struct pl_db *db, int64_t actor_id, int64_t target, bool grant,
			   struct pl_err *err)
{
	int n;

	if (may_act(db, actor_id, err) < 0)
		return -1;
	if (!grant && not_last_admin(db, target, err) < 0)
		return -1;
	n = update_user(db, ADMIN_STMT_SET_ROLE, target, grant ? "admin" : "user", 0, err);
	if (n <= 0)
		return n;
	return pl_audit_append(db, actor_id, grant ? "server_admin.grant" : "server_admin.revoke",
			       "user", target, NULL, err);
}

int pl_admin_set_server_admin(struct pl_db *db, int64_t actor_id, int64_t target, bool grant,
			      cJSON **out, struct pl_err *err)
{
	if (out)
		*out = NULL;
	if (pl_db_begin(db, err) < 0)
		return -1;
	return user_result(db, target, set_role_locked(db, actor_id, target, grant, err), out, err);
}

int pl_admin_delete_message(struct pl_db *db, int64_t actor_id, int64_t id, struct pl_err *err)
{
	int64_t channel_id = 0, author = 0;
	bool changed = false;
	cJSON *d;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (may_act(db, actor_id, err) < 0 ||
	    pl_message_delete_any_locked(db, actor_id, id, &channel_id, &author, &changed, err) < 0)
		goto out;
	rc = 0;
	if (changed) {
		d = cJSON_CreateObject();
		cJSON_AddNumberToObject(d, "channel_id", (double)channel_id);
		pl_json_add_id(d, "author_id", author);
		rc = pl_audit_append(db, actor_id, "message.delete", "message", id, d, err);
		cJSON_Delete(d);
	}
out:
	return pl_db_end(db, rc, err);
}

/* {"name","kind"} of channel `id` for the audit row (before it goes). */
static cJSON *channel_detail(struct pl_db *db, int64_t id, const char *kind, struct pl_err *err)
{
	cJSON *c = pl_channel_public_json(db, id, err), *d;
	const cJSON *name;

	if (!c)
		return NULL;
	d = cJSON_CreateObject();
	name = cJSON_GetObjectItemCaseSensitive(c, "name");
	cJSON_AddStringToObject(d, "name", cJSON_IsString(name) ? name->valuestring : "");
	cJSON_AddStringToObject(d, "kind", kind);
	cJSON_Delete(c);
	return d;
}

int pl_admin_delete_channel(struct pl_db *db, int64_t actor_id, int64_t id, struct pl_err *err)
{
	struct pl_access acc;
	cJSON *d = NULL;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_channel_admin(db, actor_id, id, &acc, err) < 0 ||
	    !(d = channel_detail(db, id, acc.kind, err)) ||
	    pl_channel_delete_locked(db, actor_id, id, acc.kind, err) < 0 ||
	    pl_audit_append(db, actor_id, "channel.delete", "channel", id, d, err) < 0)
		goto out;
	rc = 0;
out:
	cJSON_Delete(d);
	return pl_db_end(db, rc, err);
}

int pl_admin_archive_channel(struct pl_db *db, int64_t actor_id, int64_t id, bool archive,
			     cJSON **out, struct pl_err *err)
{
	struct pl_access acc;
	cJSON *d = NULL;
	bool changed = false;
	int rc = -1;

	if (out)
		*out = NULL;
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (pl_authz_channel_admin(db, actor_id, id, &acc, err) < 0 ||
	    !(d = channel_detail(db, id, acc.kind, err)) ||
	    pl_channel_archive_locked(db, actor_id, id, acc.kind, archive, &changed, err) < 0 ||
	    (changed && pl_audit_append(db, actor_id, archive ? "channel.archive" : "channel.unarchive",
					"channel", id, d, err) < 0))
		goto out;
	rc = 0;
out:
	cJSON_Delete(d);
	if ((rc = pl_db_end(db, rc, err)) == 0 && out &&
	    !(*out = pl_channel_public_json(db, id, err)))
		rc = -1;
	return rc;
}

int pl_admin_invite_create(struct pl_db *db, int64_t actor_id, int64_t max_uses,
			   int64_t expires_in, cJSON **out, struct pl_err *err)
{
	char token[PL_INVITE_TOKEN_LEN];
	int64_t id = 0;
	cJSON *d = NULL;
	int rc = -1;

	*out = NULL;
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (may_act(db, actor_id, err) < 0 ||
	    pl_invite_create_locked(db, actor_id, max_uses, expires_in, token, &id, err) < 0)
		goto out;
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "max_uses", (double)max_uses);
	cJSON_AddNumberToObject(d, "expires_in", (double)expires_in);
	if (pl_audit_append(db, actor_id, "invite.create", "invite", id, d, err) < 0 ||
	    !(*out = pl_invite_json(db, id, err)))
		goto out;
	cJSON_AddStringToObject(*out, "token", token);
	rc = 0;
out:
	cJSON_Delete(d);
	sodium_memzero(token, sizeof(token));
	if ((rc = pl_db_end(db, rc, err)) < 0) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

int pl_admin_invite_revoke(struct pl_db *db, int64_t actor_id, int64_t id, struct pl_err *err)
{
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (may_act(db, actor_id, err) < 0 || pl_invite_revoke_locked(db, id, err) < 0 ||
	    pl_audit_append(db, actor_id, "invite.revoke", "invite", id, NULL, err) < 0)
		goto out;
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

int pl_admin_invites(struct pl_db *db, int64_t actor_id, int limit, int64_t before,
		     cJSON **out, struct pl_err *err)
{
	*out = NULL;
	if (may_act(db, actor_id, err) < 0)
		return -1;
	return pl_invite_list(db, limit, before, out, err);
}

int pl_admin_audit(struct pl_db *db, int64_t actor_id, int limit, int64_t before,
		   cJSON **out, struct pl_err *err)
{
	*out = NULL;
	if (may_act(db, actor_id, err) < 0)
		return -1;
	return pl_audit_list(db, limit, before, out, err);
}

/* channels.c — channels, membership and channel authorization (channels.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "channels.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "util.h"

static const char sql_access[] =
	"SELECT c.kind, m.role FROM channels c LEFT JOIN channel_members m "
	"ON m.channel_id = c.id AND m.user_id = ?2 WHERE c.id = ?1";
static const char sql_is_member[] =
	"SELECT 1 FROM channel_members WHERE channel_id = ?1 AND user_id = ?2";
static const char sql_insert_channel[] =
	"INSERT INTO channels (name, kind, topic, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_insert_member[] =
	"INSERT OR IGNORE INTO channel_members (channel_id, user_id, role, joined_at) VALUES (?1, ?2, ?3, ?4)";
static const char sql_user_exists[] =
	"SELECT 1 FROM users WHERE id = ?1 AND deleted_at IS NULL";

/* One SELECT list for the channel object, as user ?1 sees it. */
#define CHANNEL_COLUMNS \
	"SELECT c.id, c.name, c.kind, c.topic, c.created_by, c.created_at, " \
	"(SELECT count(*) FROM channel_members n WHERE n.channel_id = c.id), me.role, " \
	"(SELECT max(x.id) FROM messages x WHERE x.channel_id = c.id), " \
	"CASE WHEN me.role IS NULL THEN 0 ELSE (SELECT count(*) FROM messages u " \
	"WHERE u.channel_id = c.id AND u.id > me.last_read_id AND u.deleted = 0 " \
	"AND u.user_id <> ?1) END " \
	"FROM channels c LEFT JOIN channel_members me ON me.channel_id = c.id AND me.user_id = ?1 "
static const char sql_channel_one[] = CHANNEL_COLUMNS "WHERE c.id = ?2";
static const char sql_channel_list[] =
	CHANNEL_COLUMNS "WHERE c.kind = 'public' OR me.user_id IS NOT NULL ORDER BY c.id";

static enum pl_role role_from_text(const char *s)
{
	if (!s)
		return PL_ROLE_NONE;
	if (strcmp(s, "owner") == 0)
		return PL_ROLE_OWNER;
	if (strcmp(s, "admin") == 0)
		return PL_ROLE_ADMIN;
	return PL_ROLE_MEMBER;
}

int pl_authz_channel(struct pl_db *db, int64_t user_id, int64_t channel_id,
		     enum pl_action action, struct pl_access *acc, struct pl_err *err)
{
	sqlite3_stmt *st = pl_db_stmt(db, sql_access, err);
	struct pl_access a = { "", PL_ROLE_NONE };
	int step;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, channel_id);
	sqlite3_bind_int64(st, 2, user_id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		snprintf(a.kind, sizeof(a.kind), "%s", (const char *)sqlite3_column_text(st, 0));
		a.role = role_from_text((const char *)sqlite3_column_text(st, 1));
	}
	pl_db_done(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return pl_err_internal(err, "channel access: %s", pl_db_last_error(db));
	if (acc)
		*acc = a;
	/* Not there, or not visible to this user: the same 404. */
	if (step == SQLITE_DONE || (strcmp(a.kind, "public") != 0 && a.role == PL_ROLE_NONE))
		return pl_err_set(err, 404, "no such channel");
	if (action == PL_ACT_MANAGE && a.role < PL_ROLE_ADMIN)
		return pl_err_set(err, 403, "only the channel's owner or admins may do that");
	return 0;
}

bool pl_channel_is_member(struct pl_db *db, int64_t user_id, int64_t channel_id)
{
	sqlite3_stmt *st = pl_db_stmt(db, sql_is_member, NULL);
	bool yes;

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, channel_id);
	sqlite3_bind_int64(st, 2, user_id);
	yes = sqlite3_step(st) == SQLITE_ROW;
	pl_db_done(st);
	return yes;
}

static cJSON *channel_from_row(sqlite3_stmt *st)
{
	cJSON *c = cJSON_CreateObject();
	const char *role = (const char *)sqlite3_column_text(st, 7);

	cJSON_AddNumberToObject(c, "id", (double)sqlite3_column_int64(st, 0));
	cJSON_AddStringToObject(c, "name", (const char *)sqlite3_column_text(st, 1));
	cJSON_AddStringToObject(c, "kind", (const char *)sqlite3_column_text(st, 2));
	cJSON_AddStringToObject(c, "topic", (const char *)sqlite3_column_text(st, 3));
	pl_json_add_id(c, "created_by", sqlite3_column_int64(st, 4));
	pl_json_add_time(c, "created_at", sqlite3_column_int64(st, 5));
	cJSON_AddNumberToObject(c, "member_count", (double)sqlite3_column_int64(st, 6));
	if (role)
		cJSON_AddStringToObject(c, "role", role);
	else
		cJSON_AddNullToObject(c, "role");
	cJSON_AddNumberToObject(c, "unread_count", (double)sqlite3_column_int64(st, 9));
	pl_json_add_id(c, "last_message_id", sqlite3_column_int64(st, 8));
	return c;
}

cJSON *pl_channel_json(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err)
{
	sqlite3_stmt *st;
	cJSON *c = NULL;
	int step;

	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, NULL, err) < 0)
		return NULL;
	if (!(st = pl_db_stmt(db, sql_channel_one, err)))
		return NULL;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, channel_id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		c = channel_from_row(st);
	else
		pl_err_internal(err, "channel %lld: %s", (long long)channel_id, pl_db_last_error(db));
	pl_db_done(st);
	return c;
}

cJSON *pl_channel_list(struct pl_db *db, int64_t user_id, struct pl_err *err)
{
	sqlite3_stmt *st = pl_db_stmt(db, sql_channel_list, err);
	cJSON *arr;
	int step;

	if (!st)
		return NULL;
	arr = cJSON_CreateArray();
	sqlite3_bind_int64(st, 1, user_id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		cJSON_AddItemToArray(arr, channel_from_row(st));
	pl_db_done(st);
	if (step != SQLITE_DONE) {
		cJSON_Delete(arr);
		pl_err_internal(err, "channel list: %s", pl_db_last_error(db));
		return NULL;
	}
	return arr;
}

/* Adds a membership row and, when `announce`, its member.joined event.
 * *added says whether the row is new. Inside a write transaction. */
static int add_member(struct pl_db *db, int64_t channel_id, int64_t user_id, const char *role,
		      bool announce, bool *added, struct pl_err *err)
{
	sqlite3_stmt *st = pl_db_stmt(db, sql_insert_member, err);
	cJSON *payload;
	int step, rc;

	*added = false;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, channel_id);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, pl_now_ms());
	step = sqlite3_step(st);
	pl_db_done(st);
	if (step != SQLITE_DONE)
		return pl_err_internal(err, "add member: %s", pl_db_last_error(db));
	if (sqlite3_changes(pl_db_handle(db)) == 0)
		return 0;
	*added = true;
	if (!announce)
		return 0;
	payload = cJSON_CreateObject();
	cJSON_AddNumberToObject(payload, "user_id", (double)user_id);
	cJSON_AddStringToObject(payload, "role", role);
	rc = pl_event_append(db, "member.joined", PL_SCOPE_CHANNEL, channel_id, user_id, payload, NULL, err);
	cJSON_Delete(payload);
	return rc;
}

int pl_channel_join_locked(struct pl_db *db, int64_t user_id, int64_t channel_id,
			   bool *joined, struct pl_err *err)
{
	struct pl_access acc;

	*joined = false;
	if (pl_authz_channel(db, user_id, channel_id, PL_ACT_READ, &acc, err) < 0)
		return -1;
	if (acc.role != PL_ROLE_NONE)
		return 0;
	if (strcmp(acc.kind, "public") != 0)
		return pl_err_set(err, 404, "no such channel");
	return add_member(db, channel_id, user_id, "member", true, joined, err);
}

static bool user_exists(struct pl_db *db, int64_t user_id)
{
	sqlite3_stmt *st = pl_db_stmt(db, sql_user_exists, NULL);
	bool yes;

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, user_id);
	yes = sqlite3_step(st) == SQLITE_ROW;
	pl_db_done(st);
	return yes;
}

static int validate_new(const struct pl_channel_new *in, char **name, struct pl_err *err)
{
	size_t cps = 0;

	*name = NULL;
	if (in->kind && strcmp(in->kind, "public") != 0 && strcmp(in->kind, "private") != 0)
		return pl_err_set(err, 400, "kind must be \"public\" or \"private\"");
	if (in->topic && (!pl_utf8_valid(in->topic, strlen(in->topic), &cps) || cps > 250))
		return pl_err_set(err, 400, "topic must be at most 250 characters");
	if (in->nmembers > 100)
		return pl_err_set(err, 400, "at most 100 members at creation");
	*name = pl_trim(in->name);
	if (!pl_utf8_valid(*name, strlen(*name), &cps) || cps < 1 || cps > 80) {
		free(*name);
		*name = NULL;
		return pl_err_set(err, 400, "name must be 1-80 characters");
	}
	return 0;
}

static int insert_channel(struct pl_db *db, int64_t user_id, const char *name, const char *kind,
			  const char *topic, int64_t *id, struct pl_err *err)
{
	sqlite3_stmt *st = pl_db_stmt(db, sql_insert_channel, err);
	int step;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, topic ? topic : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, user_id);
	sqlite3_bind_int64(st, 5, pl_now_ms());
	step = sqlite3_step(st);
	pl_db_done(st);
	if (step == SQLITE_CONSTRAINT_UNIQUE || step == SQLITE_CONSTRAINT)
		return pl_err_set(err, 409, "a channel with that name already exists");
	if (step != SQLITE_DONE)
		return pl_err_internal(err, "insert channel: %s", pl_db_last_error(db));
	*id = sqlite3_last_insert_rowid(pl_db_handle(db));
	return 0;
}

/* The channel.created event (it stands for the initial members' joins
 * too): the channel as a non-member sees it. */
static int announce_channel(struct pl_db *db, int64_t user_id, int64_t id, bool public,
			    cJSON *mine, struct pl_err *err)
{
	cJSON *payload = cJSON_CreateObject();
	cJSON *ch = cJSON_Duplicate(mine, 1);
	int rc;

	cJSON_ReplaceItemInObject(ch, "role", cJSON_CreateNull());
	cJSON_AddItemToObject(payload, "channel", ch);
	rc = pl_event_append(db, "channel.created", public ? PL_SCOPE_ALL : PL_SCOPE_CHANNEL,
			     id, user_id, payload, NULL, err);
	cJSON_Delete(payload);
	return rc;
}

int pl_channel_create(struct pl_db *db, int64_t user_id, const struct pl_channel_new *in,
		      cJSON **out, struct pl_err *err)
{
	const char *kind = in->kind ? in->kind : "public";
	char *name = NULL;
	int64_t id = 0;
	cJSON *ch = NULL;
	bool added;
	int rc = -1;

	*out = NULL;
	if (validate_new(in, &name, err) < 0)
		return -1;
	if (pl_db_begin(db, err) < 0)
		goto out;
	if (insert_channel(db, user_id, name, kind, in->topic, &id, err) < 0 ||
	    add_member(db, id, user_id, "owner", false, &added, err) < 0)
		goto out;
	for (size_t i = 0; i < in->nmembers; i++) {
		if (!user_exists(db, in->members[i])) {
			pl_err_set(err, 400, "members: no user with id %lld", (long long)in->members[i]);
			goto out;
		}
		if (add_member(db, id, in->members[i], "member", false, &added, err) < 0)
			goto out;
	}
	if (!(ch = pl_channel_json(db, user_id, id, err)) ||
	    announce_channel(db, user_id, id, strcmp(kind, "public") == 0, ch, err) < 0)
		goto out;
	rc = pl_db_commit(db, err);
out:
	if (rc < 0) {
		pl_db_rollback(db);
		cJSON_Delete(ch);
		ch = NULL;
	}
	free(name);
	*out = ch;
	return rc;
}
